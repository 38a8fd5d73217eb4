/* Shared by the snapshot harnesses (fuzz_snapshot_tier.c, fuzz_snapshot_trust.c,
 * fuzz_snapshot_market.c).
 *
 * Each input is loaded twice: as it is (the fuzzer rarely gets past the
 * BLAKE2b checksum by itself), and "resealed": its body length set to what
 * the input holds and the checksum recomputed (gr_snap_seal: the tree
 * checksum of the current versions, the whole-file one of older versions), so the body decoder and the
 * invariant checks behind the checksum are fuzzed as well.
 *
 * Oracles: a refusal is one of the five snapshot statuses (or NOMEM), with
 * the thread's last error set and a detail; *out stays NULL; a loaded
 * snapshot saves to exactly the input bytes (one encoding per state); and a
 * loaded snapshot changed through the public API (the harness's MUTATE
 * hook: a few calls chosen by the input's bytes) saves to a file that loads
 * and saves back to the same bytes (mutate after load, then save). */
#ifndef GPURENT_FUZZ_SNAPSHOT_COMMON_H
#define GPURENT_FUZZ_SNAPSHOT_COMMON_H

#include <sodium.h>

#include "core/snap_internal.h"
#include "fuzz_attest_common.h"

#define SNAP_HEADER 64u
#define SNAP_SUM 32u
#define SNAP_MAX_INPUT (1u << 20)

static inline int snapshot_status_ok(int rc)
{
    return rc == GPURENT_E_SNAPSHOT_CORRUPT || rc == GPURENT_E_SNAPSHOT_TRUNCATED || rc == GPURENT_E_SNAPSHOT_KIND ||
           rc == GPURENT_E_SNAPSHOT_VERSION || rc == GPURENT_E_SNAPSHOT_PARAMS || rc == GPURENT_E_NOMEM;
}

/* The input with its body length and checksum made consistent (NULL when too short). */
static inline uint8_t *snapshot_reseal(const uint8_t *data, size_t size)
{
    if (size < SNAP_HEADER + SNAP_SUM) return NULL;
    uint8_t *f = malloc(size);
    if (!f) abort();
    memcpy(f, data, size);
    uint64_t body = size - SNAP_HEADER - SNAP_SUM;
    for (unsigned i = 0; i < 8; i++) f[56 + i] = (uint8_t)(body >> (8 * i));
    gr_snap_seal(f, size); /* the tree or the whole-file checksum, as the header's version has it */
    return f;
}

static inline uint64_t snapshot_seq(const uint8_t *f)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++) v |= (uint64_t)f[48 + i] << (8 * i);
    return v;
}

static inline uint32_t snapshot_version(const uint8_t *f)
{
    return (uint32_t)f[12] | (uint32_t)f[13] << 8 | (uint32_t)f[14] << 16 | (uint32_t)f[15] << 24;
}

/* 64 bits drawn from the input (BLAKE2b), for the MUTATE hooks to choose
 * their calls: the same input makes the same calls. */
static inline uint64_t snapshot_mix(const uint8_t *f, size_t size)
{
    uint8_t d[8];
    crypto_generichash(d, sizeof d, f, size, NULL, 0);
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++) v |= (uint64_t)d[i] << (8 * i);
    return v;
}

static inline void snapshot_same_bytes(const gpurent_buf *again, const uint8_t *f, size_t size, const char *what)
{
    FUZZ_ASSERT(again->len == size && memcmp(again->data, f, size) == 0,
                "%s: a loaded snapshot saves to other bytes (%zu, input %zu)", what, again->len, size);
}

/* What a harness checks of every handle that loads, before saving it (the
 * market: every invariant, ml_market_check, which the loader itself does not
 * run); define it before including this header. */
#ifndef SNAPSHOT_CHECK_LOADED
#define SNAPSHOT_CHECK_LOADED(h) ((void)(h))
#endif

/* One harness per snapshot kind: T is the handle type, NAME the module
 * (gpurent_NAME_load / _save, FREE frees the handle). Each input is loaded
 * as it is and again resealed (length and checksum fixed up): a refusal must
 * be a snapshot status with *out left NULL, and whatever loads must save
 * back to exactly the input bytes; an input of an older format version
 * (which the loader still reads) saves at the current version, and that
 * file must load and save back to exactly its own bytes.
 *
 * MUTATE(T *h, const uint8_t *f, size_t size) changes a loaded handle
 * through the public API, with calls chosen by the input (snapshot_mix); it
 * may ignore their statuses. What it leaves must save, that save must load,
 * and the loaded copy must save to the same bytes (mutated()). */
#define SNAPSHOT_FUZZER(T, NAME, FREE, MUTATE)                                                             \
    static void load(const uint8_t *f, size_t size)                                                        \
    {                                                                                                      \
        T *h = (T *)&h; /* not NULL: the loader must clear it on failure */                                \
        uint64_t seq = 0;                                                                                  \
        int rc = gpurent_##NAME##_load(&h, f, size, NULL, &seq);                                           \
        if (rc != GPURENT_OK) {                                                                            \
            fuzz_expect_failure_in(rc, snapshot_status_ok, "gpurent_" #NAME "_load");                      \
            FUZZ_ASSERT(h == NULL, "gpurent_" #NAME "_load failed and left *out set");                     \
            return;                                                                                        \
        }                                                                                                  \
        SNAPSHOT_CHECK_LOADED(h);                                                                          \
        gpurent_buf again = {0};                                                                           \
        FUZZ_ASSERT(gpurent_##NAME##_save(h, seq, &again) == GPURENT_OK, "saving a loaded " #NAME);        \
        FREE(h);                                                                                           \
        if (again.len >= SNAP_HEADER && snapshot_version(f) != snapshot_version(again.data)) {             \
            FUZZ_ASSERT(snapshot_version(f) < snapshot_version(again.data),                                \
                        #NAME ": a snapshot saved at an older version than it was loaded from");          \
            T *h2 = NULL;                                                                                  \
            gpurent_buf twice = {0};                                                                       \
            FUZZ_ASSERT(gpurent_##NAME##_load(&h2, again.data, again.len, NULL, NULL) == GPURENT_OK,       \
                        #NAME ": an upgraded snapshot does not load");                                     \
            SNAPSHOT_CHECK_LOADED(h2);                                                                     \
            FUZZ_ASSERT(gpurent_##NAME##_save(h2, seq, &twice) == GPURENT_OK, "saving an upgraded " #NAME); \
            snapshot_same_bytes(&twice, again.data, again.len, #NAME);                                     \
            gpurent_buf_free(&twice);                                                                      \
            FREE(h2);                                                                                      \
        } else {                                                                                           \
            snapshot_same_bytes(&again, f, size, #NAME);                                                   \
        }                                                                                                  \
        gpurent_buf_free(&again);                                                                          \
    }                                                                                                      \
                                                                                                           \
    static void mutated(const uint8_t *f, size_t size)                                                     \
    {                                                                                                      \
        T *h = NULL;                                                                                       \
        uint64_t seq = 0;                                                                                  \
        if (gpurent_##NAME##_load(&h, f, size, NULL, &seq) != GPURENT_OK) return; /* load() checked it */  \
        MUTATE(h, f, size);                                                                                \
        gpurent_buf once = {0}, twice = {0};                                                               \
        FUZZ_ASSERT(gpurent_##NAME##_save(h, seq, &once) == GPURENT_OK, "saving a mutated " #NAME);        \
        FREE(h);                                                                                           \
        h = NULL;                                                                                          \
        FUZZ_ASSERT(gpurent_##NAME##_load(&h, once.data, once.len, NULL, NULL) == GPURENT_OK,              \
                    #NAME ": the save of a mutated snapshot does not load");                              \
        SNAPSHOT_CHECK_LOADED(h);                                                                          \
        FUZZ_ASSERT(gpurent_##NAME##_save(h, seq, &twice) == GPURENT_OK,                                   \
                    "saving a mutated " #NAME " again");                                                   \
        snapshot_same_bytes(&twice, once.data, once.len, #NAME " (mutated after load)");                  \
        gpurent_buf_free(&once);                                                                           \
        gpurent_buf_free(&twice);                                                                          \
        FREE(h);                                                                                           \
    }                                                                                                      \
                                                                                                           \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                           \
    {                                                                                                      \
        if (size > SNAP_MAX_INPUT) return 0;                                                               \
        load(data, size);                                                                                  \
        mutated(data, size);                                                                               \
        uint8_t *f = snapshot_reseal(data, size);                                                          \
        if (f) {                                                                                           \
            load(f, size);                                                                                 \
            mutated(f, size);                                                                              \
        }                                                                                                  \
        free(f);                                                                                           \
        return 0;                                                                                          \
    }

#endif
