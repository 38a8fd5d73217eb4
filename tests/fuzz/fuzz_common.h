/* Shared oracles for the fuzz harnesses (tests/fuzz/fuzz_<name>.c).
 *
 * A harness feeds untrusted bytes to one decoder and then checks properties
 * that must hold for every input, aborting when one does not (libFuzzer and
 * the replay driver both report an abort as a failure):
 *   - a failure returns a known decoder status, records the same status as
 *     the thread's last error and leaves a non-empty detail message;
 *   - a decoder never writes its output on failure;
 *   - anything a decoder accepts is canonical MessagePack and has the
 *     expected record type;
 *   - what a decoder accepts re-encodes to exactly the input bytes
 *     (canonical means one encoding per value);
 *   - no single allocation is far larger than the input (a declared count
 *     must never turn into a large reservation).
 * The same harness source is built two ways (tests/fuzz.mk): with clang and
 * -fsanitize=fuzzer for `make fuzz`, and with the plain replay driver
 * (replay_main.c) and gcc's ASan/UBSan for `make check`. */
#ifndef GPURENT_FUZZ_COMMON_H
#define GPURENT_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpurent.h"
#include "core/core_internal.h" /* gr_alloc_largest */

/* libFuzzer's entry point; the replay driver calls it once per file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond, ...)                                                     \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "fuzz oracle failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                          \
            fprintf(stderr, " (last error: %s: %s)\n",                             \
                    gpurent_status_name(gpurent_last_error_status()),              \
                    gpurent_last_error_message());                                 \
            abort();                                                               \
        }                                                                          \
    } while (0)

/* The statuses a decoder may give untrusted (non-NULL) bytes. Anything else
 * (INVALID_ARG, INTERNAL, NOMEM for a small input, an unknown code) is a bug. */
static inline int fuzz_decoder_status_ok(int rc)
{
    switch (rc) {
    case GPURENT_E_MALFORMED:
    case GPURENT_E_TRUNCATED:
    case GPURENT_E_NONCANONICAL:
    case GPURENT_E_OVERSIZE:
    case GPURENT_E_INVALID_FIELD:
    case GPURENT_E_WRONG_RECORD:
        return 1;
    default:
        return 0;
    }
}

/* A failed call must say why, on this thread, with the status it returned. */
static inline void fuzz_expect_clean_failure(int rc, const char *call)
{
    FUZZ_ASSERT(fuzz_decoder_status_ok(rc), "%s returned unexpected status %d (%s)", call, rc,
                gpurent_status_name(rc));
    FUZZ_ASSERT(gpurent_last_error_status() == rc, "%s: last error status %d, returned %d", call,
                gpurent_last_error_status(), rc);
    FUZZ_ASSERT(gpurent_last_error_message()[0] != '\0', "%s failed without a detail message", call);
    FUZZ_ASSERT(strcmp(gpurent_strerror(rc), "unknown status") != 0, "%s: status %d has no message", call, rc);
}

/* A decoder accepted `data` as a record of `type`: the generic checks must
 * agree that it is canonical and of that type. */
static inline void fuzz_expect_record(const uint8_t *data, size_t size, uint32_t type, const char *call)
{
    int rc = gpurent_wire_check_canonical(data, size);
    FUZZ_ASSERT(rc == GPURENT_OK, "%s accepted bytes that gpurent_wire_check_canonical refuses (%d)", call, rc);
    uint32_t got = 0;
    rc = gpurent_wire_record_type(data, size, &got);
    FUZZ_ASSERT(rc == GPURENT_OK && got == type, "%s accepted a record whose type reads as %u (rc %d)", call,
                got, rc);
}

/* Encoding what was decoded must give back the input, byte for byte. */
static inline void fuzz_expect_same_bytes(int enc_rc, const gpurent_buf *out, const uint8_t *data, size_t size,
                                          const char *call)
{
    FUZZ_ASSERT(enc_rc == GPURENT_OK, "%s refused a record its decoder accepted (%d)", call, enc_rc);
    FUZZ_ASSERT(out->len == size, "%s: re-encoding gives %zu bytes, input had %zu", call, out->len, size);
    FUZZ_ASSERT(memcmp(out->data, data, size) == 0, "%s: re-encoding differs from the input", call);
}

/* Call before the decoder: forget earlier allocations. */
static inline void fuzz_alloc_reset(void) { (void)gr_alloc_largest(1); }

/* Call after: the largest single request stays within a small multiple of
 * the input (records expand a few times when decoded into fixed structs)
 * plus a constant for fixed-size buffers. */
static inline void fuzz_expect_small_allocations(size_t size, const char *call)
{
    size_t largest = gr_alloc_largest(1);
    FUZZ_ASSERT(largest <= 64 * size + 65536, "%s: a %zu-byte input made a %zu-byte allocation", call, size,
                largest);
}

#endif
