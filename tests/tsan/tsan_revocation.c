/* ThreadSanitizer: gpurent_trust_apply_revocation takes its replay step
 * under the store's write lock and the replay cache's mutex (so that a
 * revocation is remembered exactly when it is applied), while other threads
 * verify statements (the cache's mutex alone), save the store (read lock,
 * then the mutex) and apply revocations of their own.
 *
 * Four threads apply the same revocation envelopes in the same order: each
 * envelope is accepted by exactly one thread and refused as REPLAYED by the
 * other three, and every revoked key ends revoked. Meanwhile each thread
 * verifies its own statements and saves the store. Built and run by
 * `make check-tsan` (tests/tsan.mk). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpurent.h"

#define CHECK(cond, ...)                                                           \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "tsan_revocation: %s:%d: ", __FILE__, __LINE__);       \
            fprintf(stderr, __VA_ARGS__);                                          \
            fprintf(stderr, "\n");                                                 \
            exit(1);                                                               \
        }                                                                          \
    } while (0)

#define THREADS 4
#define REVS 48 /* revocations: half of keys in the store, half pending */
#define T0 1700000000ull

static gpurent_trust *trust;
static gpurent_key *revoker, *signer[THREADS];
static gpurent_buf rev_env[REVS], own_env[THREADS][8];
static uint8_t target[REVS][32];
static atomic_int accepted[REVS];
static pthread_barrier_t start_line;

static gpurent_key *key_n(uint32_t n)
{
    uint8_t seed[32];
    gpurent_key *k = NULL;
    memset(seed, 0x71, sizeof seed);
    memcpy(seed, &n, sizeof n);
    CHECK(gpurent_key_from_seed(&k, seed) == GPURENT_OK, "key %u", n);
    return k;
}

static void sign(const gpurent_key *k, uint32_t type, const gpurent_buf *p, uint32_t nonce, gpurent_buf *out)
{
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = type;
    h.issued_at = T0;
    h.expires_at = T0 + 86400;
    memset(h.nonce, 0x33, sizeof h.nonce);
    memcpy(h.nonce, &nonce, sizeof nonce);
    CHECK(gpurent_envelope_sign(k, &h, p->data, p->len, out) == GPURENT_OK, "sign");
}

static void *run(void *arg)
{
    uint32_t me = (uint32_t)(uintptr_t)arg;
    pthread_barrier_wait(&start_line);
    for (uint32_t i = 0; i < REVS; i++) {
        int rc = gpurent_trust_apply_revocation(trust, rev_env[i].data, rev_env[i].len, T0 + 1, 0, NULL);
        CHECK(rc == GPURENT_OK || rc == GPURENT_E_REPLAYED, "revocation %u: %d %s", i, rc, gpurent_last_error_message());
        if (rc == GPURENT_OK) atomic_fetch_add(&accepted[i], 1);
        if (i % 6 == 0) {
            const gpurent_buf *e = &own_env[me][i / 6];
            gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
            o.statement = GPURENT_RECORD_REVOCATION;
            o.required_role = GPURENT_ROLE_PROVIDER;
            rc = gpurent_envelope_verify(trust, e->data, e->len, T0 + 1, 0, &o, NULL);
            CHECK(rc == GPURENT_OK, "own statement %u of thread %u: %d %s", i / 6, me, rc, gpurent_last_error_message());
            gpurent_buf s = {0};
            CHECK(gpurent_trust_save(trust, i, &s) == GPURENT_OK, "save");
            gpurent_buf_free(&s);
        }
    }
    return NULL;
}

int main(void)
{
    CHECK(gpurent_init() == GPURENT_OK, "init");
    gpurent_trust_options to = GPURENT_TRUST_OPTIONS_INIT;
    CHECK(gpurent_trust_new(&trust, &to) == GPURENT_OK, "trust");
    revoker = key_n(1000);
    uint8_t pk[32];
    CHECK(gpurent_key_public(revoker, pk) == GPURENT_OK, "pk");
    CHECK(gpurent_trust_add(trust, pk, GPURENT_ROLE_REVOKER, 0, 0) == GPURENT_OK, "add revoker");
    for (uint32_t i = 0; i < REVS; i++) {
        gpurent_key *k = key_n(i);
        CHECK(gpurent_key_public(k, target[i]) == GPURENT_OK, "pk");
        gpurent_key_free(k);
        if (i % 2 == 0) CHECK(gpurent_trust_add(trust, target[i], GPURENT_ROLE_PROVIDER, 0, 0) == GPURENT_OK, "add");
        gpurent_revocation r = {.revoked_at = T0, .reason = GPURENT_REVOKE_RETIRED};
        memcpy(r.key, target[i], 32);
        gpurent_buf p = {0};
        CHECK(gpurent_revocation_encode(&r, &p) == GPURENT_OK, "encode");
        sign(revoker, GPURENT_RECORD_REVOCATION, &p, i + 1, &rev_env[i]);
        gpurent_buf_free(&p);
    }
    /* Each thread's own statements: self-revocations of a provider key that
     * only verify (never applied), so they stay valid throughout. */
    for (uint32_t t = 0; t < THREADS; t++) {
        signer[t] = key_n(2000 + t);
        CHECK(gpurent_key_public(signer[t], pk) == GPURENT_OK, "pk");
        CHECK(gpurent_trust_add(trust, pk, GPURENT_ROLE_PROVIDER, 0, 0) == GPURENT_OK, "add signer");
        gpurent_revocation r = {.revoked_at = T0, .reason = GPURENT_REVOKE_SUPERSEDED};
        memcpy(r.key, target[1], 32);
        gpurent_buf p = {0};
        CHECK(gpurent_revocation_encode(&r, &p) == GPURENT_OK, "encode");
        for (uint32_t j = 0; j < 8; j++) sign(signer[t], GPURENT_RECORD_REVOCATION, &p, 100 + j, &own_env[t][j]);
        gpurent_buf_free(&p);
    }
    pthread_t tid[THREADS];
    pthread_barrier_init(&start_line, NULL, THREADS);
    for (uint32_t t = 0; t < THREADS; t++)
        CHECK(pthread_create(&tid[t], NULL, run, (void *)(uintptr_t)t) == 0, "thread");
    for (uint32_t t = 0; t < THREADS; t++) pthread_join(tid[t], NULL);
    pthread_barrier_destroy(&start_line);
    for (uint32_t i = 0; i < REVS; i++) {
        CHECK(atomic_load(&accepted[i]) == 1, "revocation %u accepted %d times", i, atomic_load(&accepted[i]));
        CHECK(gpurent_trust_is_revoked(trust, target[i]), "key %u not revoked", i);
        gpurent_buf_free(&rev_env[i]);
    }
    for (uint32_t t = 0; t < THREADS; t++) {
        for (uint32_t j = 0; j < 8; j++) gpurent_buf_free(&own_env[t][j]);
        gpurent_key_free(signer[t]);
    }
    gpurent_key_free(revoker);
    gpurent_trust_free(trust);
    printf("tsan_revocation: %u revocations applied once each from %u threads\n", REVS, THREADS);
    return 0;
}
