/* Status codes, fixed messages and the per-thread detail of the last failure. */
#ifndef GPURENT_STATUS_H
#define GPURENT_STATUS_H

#include "gpurent/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Every fallible call returns a gpurent_status: 0 on success, a negative
 * named error otherwise. Values are append-only: a released value never
 * changes meaning, and new ones are added at the end of their module's block.
 * Blocks: core -1.., wire -100.., attest -200.., probe -300.., tier -400..,
 * match -500.., cli -600..
 */
typedef enum gpurent_status {
    GPURENT_OK = 0,

    /* core */
    GPURENT_E_INVALID_ARG = -1,   /* a NULL pointer or an out-of-range argument */
    GPURENT_E_NOMEM = -2,         /* memory allocation failed */
    GPURENT_E_VERSION = -3,       /* an options struct of an unknown version */
    GPURENT_E_CANCELLED = -4,     /* the call's cancel token was set */
    GPURENT_E_INTERNAL = -5,      /* a broken invariant inside the library (a bug) */
    GPURENT_E_IO = -6,            /* reading or writing a file failed */
    GPURENT_E_LIMIT = -7,         /* a size or count limit was exceeded */
    GPURENT_E_UNSUPPORTED = -8,   /* the operation is not supported here */
    GPURENT_E_NOT_FOUND = -9,     /* no such item */
    GPURENT_E_EXISTS = -10,       /* the item already exists */
    GPURENT_E_TIMEOUT = -11,      /* a time limit expired */
    GPURENT_E_INIT = -12,         /* library initialisation failed (libsodium) */
    GPURENT_E_SNAPSHOT_CORRUPT = -13,   /* a snapshot whose checksum or contents are wrong */
    GPURENT_E_SNAPSHOT_TRUNCATED = -14, /* a snapshot shorter than its header says */
    GPURENT_E_SNAPSHOT_KIND = -15,      /* a snapshot of another engine than the one loaded */
    GPURENT_E_SNAPSHOT_VERSION = -16,   /* a snapshot format newer than this library reads */
    GPURENT_E_SNAPSHOT_PARAMS = -17,    /* a snapshot taken with other engine parameters */

    /* wire: decoding untrusted bytes */
    GPURENT_E_MALFORMED = -100,     /* bytes that are not valid MessagePack */
    GPURENT_E_TRUNCATED = -101,     /* input ends inside a value */
    GPURENT_E_NONCANONICAL = -102,  /* valid MessagePack, but not the one canonical form */
    GPURENT_E_OVERSIZE = -103,      /* a length, count or depth above its limit */
    GPURENT_E_INVALID_FIELD = -104, /* a field has the wrong type or a forbidden value */
    GPURENT_E_WRONG_RECORD = -105,  /* a record of another type than the one asked for */

    /* attest: signed statements */
    GPURENT_E_BAD_SIGNATURE = -200,
    GPURENT_E_EXPIRED = -201,
    GPURENT_E_NOT_YET_VALID = -202,
    GPURENT_E_UNKNOWN_ISSUER = -203,
    GPURENT_E_ROLE_NOT_ALLOWED = -204,
    GPURENT_E_REVOKED = -205,
    GPURENT_E_REPLAYED = -206,
    GPURENT_E_QUORUM_NOT_MET = -207,
    GPURENT_E_WRONG_PASSPHRASE = -208,
    GPURENT_E_KEYFILE_DAMAGED = -209,
    GPURENT_E_KEY_MISMATCH = -210,

    /* probe: the CUDA driver */
    GPURENT_E_NO_DRIVER = -300,         /* libcuda could not be loaded */
    GPURENT_E_STUB_DRIVER = -301,       /* the toolkit's stub libcuda (error 34) */
    GPURENT_E_DRIVER_TOO_OLD = -302,    /* a required entry point is missing */
    GPURENT_E_DRIVER_FAILED = -303,     /* a driver call failed */
    GPURENT_E_DRIVER_TIMEOUT = -304,    /* the driver did not answer in time */
    GPURENT_E_BENCH_UNAVAILABLE = -305, /* the active check cannot run here */
    GPURENT_E_NO_DEVICE = -306,         /* the driver works but lists no device */
    GPURENT_E_DEVICE_FAILED = -307,     /* a device call failed midway: the report is partial */

    /* tier */
    GPURENT_E_UNKNOWN_PROVIDER = -400,
    GPURENT_E_EVIDENCE_REJECTED = -401,
    GPURENT_E_CERT_MISMATCH = -402,  /* a signed tier certificate differs from the one computed here */

    /* match */
    GPURENT_E_INFEASIBLE = -500,     /* no provider satisfies the request */
    GPURENT_E_UNKNOWN_OFFER = -501,
    GPURENT_E_UNKNOWN_REQUEST = -502,
    GPURENT_E_CAPACITY = -503,       /* not enough free capacity */
    GPURENT_E_GPU_CONFLICT = -504    /* a GPU (by UUID) is already offered elsewhere */
} gpurent_status;

/** A fixed, human-readable message for a status; never NULL (unknown codes
 *  get "unknown status"). The string is static. */
GPURENT_API const char *gpurent_strerror(int status);

/** The status's symbolic name ("GPURENT_E_EXPIRED"); "GPURENT_E_UNKNOWN" for
 *  unknown values. The string is static. */
GPURENT_API const char *gpurent_status_name(int status);

/**
 * Detail of the last failure on the calling thread: what was wrong, which
 * field, which limit ("offer.nodes[3].gpu_count: 4096 above the limit 64").
 * Empty string when nothing failed since the thread started or the last
 * gpurent_error_clear(). Valid until the next failing call on this thread.
 */
GPURENT_API const char *gpurent_last_error_message(void);

/** The status of the last failure on the calling thread (GPURENT_OK if none). */
GPURENT_API int gpurent_last_error_status(void);

/** Forget the calling thread's last failure. */
GPURENT_API void gpurent_error_clear(void);

#ifdef __cplusplus
}
#endif
#endif
