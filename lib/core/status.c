/* Status messages and the per-thread detail of the last failure. */
#include <stdio.h>
#include <string.h>

#include "core_internal.h"

typedef struct status_entry {
    int code;
    const char *name;
    const char *message;
} status_entry;

#define S(code, msg) {code, #code, msg}
static const status_entry entries[] = {
    S(GPURENT_OK, "success"),
    S(GPURENT_E_INVALID_ARG, "invalid argument"),
    S(GPURENT_E_NOMEM, "out of memory"),
    S(GPURENT_E_VERSION, "unknown options version"),
    S(GPURENT_E_CANCELLED, "cancelled"),
    S(GPURENT_E_INTERNAL, "internal error"),
    S(GPURENT_E_IO, "input/output error"),
    S(GPURENT_E_LIMIT, "limit exceeded"),
    S(GPURENT_E_UNSUPPORTED, "not supported"),
    S(GPURENT_E_NOT_FOUND, "not found"),
    S(GPURENT_E_EXISTS, "already exists"),
    S(GPURENT_E_TIMEOUT, "timed out"),
    S(GPURENT_E_INIT, "library initialisation failed"),
    S(GPURENT_E_SNAPSHOT_CORRUPT, "snapshot damaged or inconsistent"),
    S(GPURENT_E_SNAPSHOT_TRUNCATED, "snapshot truncated"),
    S(GPURENT_E_SNAPSHOT_KIND, "snapshot of another kind of engine"),
    S(GPURENT_E_SNAPSHOT_VERSION, "snapshot format newer than this library"),
    S(GPURENT_E_SNAPSHOT_PARAMS, "snapshot taken with other parameters"),
    S(GPURENT_E_MALFORMED, "malformed MessagePack"),
    S(GPURENT_E_TRUNCATED, "truncated input"),
    S(GPURENT_E_NONCANONICAL, "non-canonical encoding"),
    S(GPURENT_E_OVERSIZE, "size, count or depth above its limit"),
    S(GPURENT_E_INVALID_FIELD, "invalid field value"),
    S(GPURENT_E_WRONG_RECORD, "wrong record type"),
    S(GPURENT_E_BAD_SIGNATURE, "bad signature"),
    S(GPURENT_E_EXPIRED, "statement expired"),
    S(GPURENT_E_NOT_YET_VALID, "statement not yet valid"),
    S(GPURENT_E_UNKNOWN_ISSUER, "unknown issuer"),
    S(GPURENT_E_ROLE_NOT_ALLOWED, "issuer role not allowed"),
    S(GPURENT_E_REVOKED, "issuer key revoked"),
    S(GPURENT_E_REPLAYED, "statement replayed"),
    S(GPURENT_E_QUORUM_NOT_MET, "quorum not met"),
    S(GPURENT_E_WRONG_PASSPHRASE, "wrong passphrase"),
    S(GPURENT_E_KEYFILE_DAMAGED, "key file damaged"),
    S(GPURENT_E_KEY_MISMATCH, "public key does not match the secret key"),
    S(GPURENT_E_NO_DRIVER, "CUDA driver not found"),
    S(GPURENT_E_STUB_DRIVER, "CUDA stub driver loaded (no real driver)"),
    S(GPURENT_E_DRIVER_TOO_OLD, "CUDA driver too old"),
    S(GPURENT_E_DRIVER_FAILED, "CUDA driver call failed"),
    S(GPURENT_E_DRIVER_TIMEOUT, "CUDA driver did not answer in time"),
    S(GPURENT_E_BENCH_UNAVAILABLE, "active check unavailable"),
    S(GPURENT_E_NO_DEVICE, "no CUDA device"),
    S(GPURENT_E_DEVICE_FAILED, "a CUDA device failed during the probe"),
    S(GPURENT_E_UNKNOWN_PROVIDER, "unknown provider"),
    S(GPURENT_E_EVIDENCE_REJECTED, "evidence rejected"),
    S(GPURENT_E_CERT_MISMATCH, "tier certificate differs from ours"),
    S(GPURENT_E_INFEASIBLE, "no feasible provider"),
    S(GPURENT_E_UNKNOWN_OFFER, "unknown offer"),
    S(GPURENT_E_UNKNOWN_REQUEST, "unknown request"),
    S(GPURENT_E_CAPACITY, "not enough free capacity"),
    S(GPURENT_E_GPU_CONFLICT, "a GPU is already offered by another node"),
};
#undef S

static const status_entry *find(int code)
{
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
        if (entries[i].code == code) return &entries[i];
    return NULL;
}

GPURENT_API const char *gpurent_strerror(int status)
{
    const status_entry *e = find(status);
    return e ? e->message : "unknown status";
}

GPURENT_API const char *gpurent_status_name(int status)
{
    const status_entry *e = find(status);
    return e ? e->name : "GPURENT_E_UNKNOWN";
}

/* The detail lives in thread-local storage so concurrent callers never see
 * each other's failures; bindings read it in the same C wrapper call. */
static _Thread_local char last_message[512];
static _Thread_local int last_status;

int gr_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    last_status = status;
    return status;
}

GPURENT_API const char *gpurent_last_error_message(void)
{
    return last_message;
}

GPURENT_API int gpurent_last_error_status(void)
{
    return last_status;
}

GPURENT_API void gpurent_error_clear(void)
{
    last_message[0] = '\0';
    last_status = GPURENT_OK;
}
