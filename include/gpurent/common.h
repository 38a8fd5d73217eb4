/* Core API: initialisation, run-time version, library-owned buffers,
 * cancel tokens, and the options-struct convention every module follows. */
#ifndef GPURENT_COMMON_H
#define GPURENT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "gpurent/export.h"
#include "gpurent/status.h"
#include "gpurent/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Initialise the library (libsodium's random generator and CPU dispatch).
 * Idempotent and thread-safe: call it as often as you like, from any thread.
 * Every other call that needs it initialises on first use too, so calling it
 * is only required to learn early whether initialisation can succeed.
 * Returns GPURENT_OK or GPURENT_E_INIT.
 */
GPURENT_API gpurent_status gpurent_init(void);

/*
 * Threads the library starts. A few calls share their work with short-lived
 * threads of their own: snapshot saves and loads (checksums, writing,
 * request digests, the market's index), gpurent_market_match with
 * options.threads above 1, bulk verification, and the probe (which calls
 * the GPU driver on a thread it can abandon at its timeout). Each starts
 * with every signal blocked but SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP
 * and SIGSYS, so a signal sent to the process is handled on one of the
 * caller's threads, never on the library's. Every call but the probe joins
 * its threads before it returns; where a thread cannot be started, the
 * calling thread does its work and the result is the same.
 */

/** The run-time library version as MAJOR*10000 + MINOR*100 + PATCH. Compare
 *  with GPURENT_VERSION_NUMBER to detect a header/library mismatch. */
GPURENT_API unsigned int gpurent_version_number(void);

/** The run-time library version as "MAJOR.MINOR.PATCH" (static string). */
GPURENT_API const char *gpurent_version_string(void);

/**
 * Bytes the library allocated for the caller (an encoded record, a signed
 * envelope). Release the data with gpurent_buf_free(). A zeroed struct
 * ({NULL, 0}) is an empty buffer; functions that fill a buffer overwrite it
 * without freeing, so free a buffer before reusing it.
 */
typedef struct gpurent_buf {
    uint8_t *data;
    size_t len;
} gpurent_buf;

/** Free a buffer's data and reset it to {NULL, 0}. Accepts NULL. */
GPURENT_API void gpurent_buf_free(gpurent_buf *buf);

/** Free memory the library allocated for the caller (strings, arrays) where
 *  a header says so. Accepts NULL. */
GPURENT_API void gpurent_free(void *ptr);

/**
 * A cancel token: long calls (batch match, bulk verify, probe, era
 * evaluation) take one and stop with GPURENT_E_CANCELLED soon after it is
 * set. Setting and reading it are thread-safe.
 */
typedef struct gpurent_cancel gpurent_cancel;

/** Create a cancel token (not set). */
GPURENT_API gpurent_status gpurent_cancel_new(gpurent_cancel **out);
/** Set the token; every call watching it stops soon. Accepts NULL. */
GPURENT_API void gpurent_cancel_request(gpurent_cancel *token);
/** Whether the token is set (0 or 1). NULL reads as not set. */
GPURENT_API int gpurent_cancel_requested(const gpurent_cancel *token);
/** Unset the token so it can be reused. Accepts NULL. */
GPURENT_API void gpurent_cancel_reset(gpurent_cancel *token);
/** Free the token. Accepts NULL. No call may still be watching it. */
GPURENT_API void gpurent_cancel_free(gpurent_cancel *token);

/*
 * Out-parameters and ownership, as every call practises them (a call's own
 * comment says so where it differs):
 * - Inputs are borrowed for the call: nothing passed in is kept after the
 *   call returns; what the library keeps (an offer put into a market, an
 *   envelope added to a batch) it copies.
 * - Out-parameters come last, except a new handle's, which comes first:
 *   gpurent_x_new(&out, opts). An out-parameter may not be NULL (the call
 *   fails with GPURENT_E_INVALID_ARG) unless its comment says it may.
 * - A handle (`gpurent_x **out`) is set to the new handle on success and to
 *   NULL on failure; free it with gpurent_x_free().
 * - A gpurent_buf, a record (decode) or a result struct (explain, stats) is
 *   overwritten on success without releasing what it held: release it first
 *   (gpurent_buf_free(), the record's _clear()) before reusing it. A failed
 *   call leaves the caller nothing new to release.
 * - A record that holds arrays (offer, audit report, match receipt) owns
 *   them: release them with the record's _clear(). Other memory handed to the
 *   caller is released with gpurent_free(); `const char *` results (names,
 *   messages) are static and never freed.
 * - Every _free() and _clear() accepts NULL.
 */

/*
 * Options convention (libgit2's): every options struct starts with
 * `unsigned int version`; each has a GPURENT_<X>_OPTIONS_VERSION, a
 * GPURENT_<X>_OPTIONS_INIT initialiser for C and a
 * gpurent_<x>_options_init(&opts, version) function for bindings. A call
 * given an options struct of a version it does not know fails with
 * GPURENT_E_VERSION; a NULL options pointer means the defaults.
 */

#ifdef __cplusplus
}
#endif
#endif
