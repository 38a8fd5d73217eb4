/* ThreadSanitizer: attest, tier and match from many threads at once.
 *
 * Part 1, shared state (every thread runs at once, released by a barrier):
 *  - 8 threads verify envelopes against ONE trust store: statements shared
 *    by all (no replay check) and their own (replay check, so the replay
 *    cache is written concurrently), one by one, with
 *    gpurent_envelope_verify_many (which starts threads of its own) and
 *    through a verify batch; the keys that signed them also sign from every
 *    thread at once; meanwhile the main thread adds, removes and revokes
 *    other keys in the same store (documented as allowed);
 *  - they read ONE market (gpurent_market_best, gpurent_market_explain,
 *    gpurent_market_stats_get, gpurent_market_digests: the read-only calls)
 *    and compare every answer with the one computed before the threads
 *    started;
 *  - each evaluates its OWN tier engine, fed through the shared trust store
 *    (gpurent_tier_record_signed) and directly, and the certificates of all
 *    threads must be byte-identical.
 * Part 2, handles: keys, key files, trust stores, markets, tier engines and
 * verify batches are created and freed on every thread, and handles made on
 * one thread are used and freed on another.
 *
 * Any data race fails the run (halt_on_error); wrong answers fail it through
 * CHECK. Built and run by `make check-tsan` (tests/tsan.mk). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpurent.h"
#include "support/gen.c" /* deterministic offers and requests */

#define THREADS 8
#define SHARED_ENVS 6
#define OWN_ENVS 4
#define QUERIES 6
#define NOW 1700000000ull
#define ERA (NOW / 86400)
#define KEYS 5 /* 0 provider, 1..3 auditors, 4 matcher */

static atomic_int failures;

#define CHECK(cond, ...)                                                           \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "tsan_modules: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                          \
            fprintf(stderr, " (last error: %s)\n", gpurent_last_error_message()); \
            atomic_fetch_add(&failures, 1);                                        \
        }                                                                          \
    } while (0)

static int iterations(void)
{
    const char *v = getenv("GPURENT_TEST_VALGRIND");
    return v && *v == '1' ? 2 : 20;
}

static gpurent_key *keys[KEYS];
static uint8_t pks[KEYS][GPURENT_KEY_BYTES];
static gpurent_trust *trust;
static gpurent_buf shared_env[SHARED_ENVS];
static gpurent_market *market;
static gpurent_request queries[QUERIES];
static gpurent_match_candidate ref_best[QUERIES][8];
static uint32_t ref_best_n[QUERIES];
static gpurent_match_explain ref_explain[QUERIES];
static gpurent_market_stats ref_stats;
static uint8_t ref_digest[3][GPURENT_DIGEST_BYTES];
static gpurent_buf certs[THREADS];
static pthread_barrier_t start_line;
static atomic_int part1_done;

/* ---- statements ---- */

static void audit_report(gpurent_audit_report *r, unsigned auditor)
{
    gpurent_audit_report_init(r);
    memcpy(r->provider_key, pks[0], GPURENT_KEY_BYTES);
    memcpy(r->auditor_key, pks[auditor], GPURENT_KEY_BYTES);
    r->time_s = ERA * 86400 + 80000 + auditor;
    r->gpu_report = r->integrity = r->security = GPURENT_CHECK_PASSED;
    for (unsigned c = 0; c < 24; c++)
        CHECK(gpurent_audit_report_add_challenge(r, ERA * 86400 + c * 3000 + 5, 1 + c % 2, c != 7) == GPURENT_OK,
              "add_challenge");
}

/* Sign `payload` with key k (a random nonce: every call a new statement). */
static void sign(unsigned k, uint32_t statement, const gpurent_buf *payload, gpurent_buf *out)
{
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = statement;
    h.issued_at = NOW - 60;
    h.expires_at = NOW + 3600;
    memcpy(h.subject, pks[0], GPURENT_KEY_BYTES);
    h.subject_len = statement == GPURENT_RECORD_GPU ? 0 : GPURENT_KEY_BYTES;
    CHECK(gpurent_envelope_sign(keys[k], &h, payload->data, payload->len, out) == GPURENT_OK, "sign");
}

static void signed_report(unsigned auditor, gpurent_buf *out)
{
    gpurent_audit_report r;
    gpurent_buf p = {0};
    audit_report(&r, auditor);
    CHECK(gpurent_audit_report_encode(&r, &p) == GPURENT_OK, "encode report");
    sign(auditor, GPURENT_RECORD_AUDIT_REPORT, &p, out);
    gpurent_buf_free(&p);
    gpurent_audit_report_clear(&r);
}

static void signed_gpu(unsigned tid, gpurent_buf *out)
{
    gpurent_gpu g;
    gpurent_buf p = {0};
    gen_h100(&g);
    g.pci_bus = tid;
    CHECK(gpurent_gpu_encode(&g, &p) == GPURENT_OK, "encode gpu");
    sign(0, GPURENT_RECORD_GPU, &p, out);
    gpurent_buf_free(&p);
}

/* ---- part 1 ---- */

static void verify_shared(void)
{
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    const uint8_t *envs[SHARED_ENVS];
    size_t lens[SHARED_ENVS];
    int32_t st[SHARED_ENVS];
    for (unsigned i = 0; i < SHARED_ENVS; i++) {
        gpurent_verified *v = NULL;
        CHECK(gpurent_envelope_verify(trust, shared_env[i].data, shared_env[i].len, NOW, 60, &o, &v) == GPURENT_OK,
              "shared envelope %u", i);
        CHECK(gpurent_verified_signer_count(v) == 1, "signers");
        gpurent_verified_free(v);
        envs[i] = shared_env[i].data;
        lens[i] = shared_env[i].len;
    }
    CHECK(gpurent_envelope_verify_many(trust, envs, lens, SHARED_ENVS, NOW, 60, &o, 2, NULL, st) == GPURENT_OK,
          "verify_many");
    for (unsigned i = 0; i < SHARED_ENVS; i++) CHECK(st[i] == GPURENT_OK, "verify_many[%u]: %d", i, st[i]);
    /* Too late for every one of them: a refusal with a detail on this thread. */
    CHECK(gpurent_envelope_verify(trust, envs[0], lens[0], NOW + 86400, 60, &o, NULL) == GPURENT_E_EXPIRED,
          "expired");
    CHECK(strstr(gpurent_last_error_message(), "expired") != NULL, "detail: %s", gpurent_last_error_message());
}

static void verify_own(unsigned tid)
{
    gpurent_buf env[OWN_ENVS] = {{0}};
    const uint8_t *envs[OWN_ENVS];
    size_t lens[OWN_ENVS];
    int32_t st[OWN_ENVS];
    for (unsigned i = 0; i < OWN_ENVS; i++) {
        signed_gpu(tid, &env[i]);
        envs[i] = env[i].data;
        lens[i] = env[i].len;
    }
    /* With the replay check: the first time accepted, then REPLAYED. */
    CHECK(gpurent_envelope_verify(trust, envs[0], lens[0], NOW, 60, NULL, NULL) == GPURENT_OK, "own 0");
    CHECK(gpurent_envelope_verify(trust, envs[0], lens[0], NOW, 60, NULL, NULL) == GPURENT_E_REPLAYED, "own 0 again");
    CHECK(gpurent_envelope_verify_many(trust, envs, lens, OWN_ENVS, NOW, 60, NULL, 2, NULL, st) == GPURENT_OK,
          "verify_many own");
    CHECK(st[0] == GPURENT_E_REPLAYED, "own[0]: %d", st[0]);
    for (unsigned i = 1; i < OWN_ENVS; i++) CHECK(st[i] == GPURENT_OK, "own[%u]: %d", i, st[i]);
    gpurent_verify_batch *b = NULL;
    CHECK(gpurent_verify_batch_new(&b) == GPURENT_OK, "batch");
    for (unsigned i = 0; i < OWN_ENVS; i++) CHECK(gpurent_verify_batch_add(b, envs[i], lens[i]) == GPURENT_OK, "add");
    CHECK(gpurent_verify_batch_run(b, trust, NOW, 60, NULL, 1, NULL) == GPURENT_OK, "batch run");
    for (unsigned i = 0; i < OWN_ENVS; i++)
        CHECK(gpurent_verify_batch_status(b, i) == GPURENT_E_REPLAYED, "batch[%u]", i);
    gpurent_verify_batch_free(b);
    for (unsigned i = 0; i < OWN_ENVS; i++) gpurent_buf_free(&env[i]);
    uint32_t roles = 0;
    CHECK(gpurent_trust_roles(trust, pks[1], &roles) == GPURENT_OK && roles == GPURENT_ROLE_AUDITOR, "roles");
    CHECK(!gpurent_trust_is_revoked(trust, pks[1]), "revoked");
}

static void read_market(void)
{
    for (unsigned q = 0; q < QUERIES; q++) {
        gpurent_match_candidate c[8];
        uint32_t n = 0;
        CHECK(gpurent_market_best(market, &queries[q], 8, c, &n) == GPURENT_OK, "best %u", q);
        CHECK(n == ref_best_n[q] && memcmp(c, ref_best[q], n * sizeof c[0]) == 0, "best %u differs", q);
        static _Thread_local gpurent_match_explain ex;
        CHECK(gpurent_market_explain(market, &queries[q], &ex) == GPURENT_OK, "explain %u", q);
        CHECK(memcmp(&ex, &ref_explain[q], sizeof ex) == 0, "explain %u differs", q);
    }
    gpurent_market_stats s;
    CHECK(gpurent_market_stats_get(market, &s) == GPURENT_OK && memcmp(&s, &ref_stats, sizeof s) == 0, "stats");
    uint8_t d[3][GPURENT_DIGEST_BYTES];
    CHECK(gpurent_market_digests(market, d[0], d[1], d[2]) == GPURENT_OK && memcmp(d, ref_digest, sizeof d) == 0,
          "digests");
}

static void own_engine(unsigned tid)
{
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = ERA;
    o.quorum_auditors = 3;
    o.unverified_evidence = 1;
    gpurent_tier_engine *e = NULL;
    CHECK(gpurent_tier_engine_new(&e, &o) == GPURENT_OK, "engine");
    if (!e) return;
    /* Auditor 1 through the shared store one by one, 2 and 3 in one call. */
    gpurent_buf env[3] = {{0}};
    for (unsigned a = 0; a < 3; a++) signed_report(1 + a, &env[a]);
    CHECK(gpurent_tier_record_signed(e, trust, env[0].data, env[0].len, NOW, 60) == GPURENT_OK, "record_signed");
    const uint8_t *envs[2] = {env[1].data, env[2].data};
    size_t lens[2] = {env[1].len, env[2].len};
    int32_t st[2];
    CHECK(gpurent_tier_record_signed_many(e, trust, envs, lens, 2, NOW, 60, 2, NULL, st) == GPURENT_OK &&
              st[0] == GPURENT_OK && st[1] == GPURENT_OK,
          "record_signed_many %d %d", st[0], st[1]);
    gpurent_tier_event ev = {{0}, ERA * 86400 + 50000, GPURENT_TIER_EVENT_STAKE, 0, 123456789};
    memcpy(ev.provider_key, pks[0], GPURENT_KEY_BYTES);
    CHECK(gpurent_tier_record(e, &ev, 1) == GPURENT_OK, "record");
    gpurent_tier_era_summary sum;
    CHECK(gpurent_tier_evaluate(e, ERA, NULL, &sum) == GPURENT_OK && sum.evaluated == 1, "evaluate");
    gpurent_tier_explanation x;
    CHECK(gpurent_tier_explain(e, pks[0], &x) == GPURENT_OK, "explain");
    gpurent_tier_cert c;
    CHECK(gpurent_tier_certificate(e, pks[0], &c) == GPURENT_OK, "certificate");
    CHECK(gpurent_tier_cert_encode(&c, &certs[tid]) == GPURENT_OK, "encode certificate");
    for (unsigned a = 0; a < 3; a++) gpurent_buf_free(&env[a]);
    gpurent_tier_engine_free(e);
}

/* ---- part 2 ---- */

typedef struct handles {
    gpurent_key *key;
    gpurent_trust *trust;
    gpurent_market *market;
    gpurent_tier_engine *engine;
    gpurent_verify_batch *batch;
    gpurent_buf env;
} handles;
static handles slots[THREADS];
static pthread_barrier_t handoff;

static void make_handles(unsigned tid, handles *h)
{
    uint8_t seed[GPURENT_SEED_BYTES], pk[GPURENT_KEY_BYTES];
    memset(seed, 0x70 + (int)tid, sizeof seed);
    CHECK(gpurent_key_from_seed(&h->key, seed) == GPURENT_OK, "key_from_seed");
    gpurent_key_public(h->key, pk);
    CHECK(gpurent_trust_new(&h->trust, NULL) == GPURENT_OK, "trust_new");
    CHECK(gpurent_trust_add(h->trust, pk, GPURENT_ROLE_PROVIDER, 0, 0) == GPURENT_OK, "trust_add");
    gpurent_gpu g;
    gpurent_buf p = {0};
    gen_h100(&g);
    CHECK(gpurent_gpu_encode(&g, &p) == GPURENT_OK, "encode");
    gpurent_envelope hd;
    gpurent_envelope_init(&hd);
    hd.statement = GPURENT_RECORD_GPU;
    hd.issued_at = NOW;
    hd.expires_at = NOW + 10;
    CHECK(gpurent_envelope_sign(h->key, &hd, p.data, p.len, &h->env) == GPURENT_OK, "sign");
    gpurent_buf_free(&p);
    CHECK(gpurent_market_new(&h->market, NULL, NULL) == GPURENT_OK, "market_new");
    gen_rng r = {tid + 1};
    gpurent_offer off;
    gpurent_offer_init(&off);
    gen_offer(&r, &off);
    CHECK(gpurent_market_put_offer(h->market, &off) == GPURENT_OK, "put_offer");
    gpurent_offer_clear(&off);
    CHECK(gpurent_tier_engine_new(&h->engine, NULL) == GPURENT_OK, "engine_new");
    CHECK(gpurent_verify_batch_new(&h->batch) == GPURENT_OK, "batch_new");
    CHECK(gpurent_verify_batch_add(h->batch, h->env.data, h->env.len) == GPURENT_OK, "batch_add");
}

/* Use handles another thread made, then free them. */
static void use_and_free(handles *h)
{
    CHECK(gpurent_verify_batch_run(h->batch, h->trust, NOW, 0, NULL, 2, NULL) == GPURENT_OK &&
              gpurent_verify_batch_status(h->batch, 0) == GPURENT_OK,
          "batch run on a handed-over batch");
    gpurent_market_stats s;
    CHECK(gpurent_market_stats_get(h->market, &s) == GPURENT_OK && s.providers == 1, "stats");
    CHECK(gpurent_tier_evaluate(h->engine, 0, NULL, NULL) == GPURENT_OK, "evaluate");
    gpurent_verify_batch_free(h->batch);
    gpurent_tier_engine_free(h->engine);
    gpurent_market_free(h->market);
    gpurent_trust_free(h->trust);
    gpurent_key_free(h->key);
    gpurent_buf_free(&h->env);
    memset(h, 0, sizeof *h);
}

static void churn(unsigned tid)
{
    for (int i = 0; i < iterations(); i++) {
        gpurent_key *k = NULL, *k2 = NULL;
        CHECK(gpurent_key_generate(&k) == GPURENT_OK, "generate");
        gpurent_keyfile_options o = GPURENT_KEYFILE_OPTIONS_INIT;
        o.opslimit = 1;
        o.memlimit = 8192;
        gpurent_buf f = {0};
        CHECK(gpurent_key_seal(k, "tsan", &o, &f) == GPURENT_OK, "seal");
        CHECK(gpurent_key_unseal(&k2, f.data, f.len, "tsan", NULL) == GPURENT_OK, "unseal");
        CHECK(gpurent_key_unseal(&k2, f.data, f.len, "wrong", NULL) == GPURENT_E_WRONG_PASSPHRASE, "wrong pass");
        gpurent_buf_free(&f);
        gpurent_key_free(k2);
        gpurent_key_free(k);
        gpurent_trust *t = NULL;
        CHECK(gpurent_trust_new(&t, NULL) == GPURENT_OK, "trust_new");
        gpurent_trust_free(t);
        gpurent_market *m = NULL;
        CHECK(gpurent_market_new(&m, NULL, NULL) == GPURENT_OK, "market_new");
        gpurent_market_free(m);
        gpurent_tier_engine *e = NULL;
        CHECK(gpurent_tier_engine_new(&e, NULL) == GPURENT_OK, "engine_new");
        gpurent_tier_engine_free(e);
        gpurent_verify_batch *b = NULL;
        CHECK(gpurent_verify_batch_new(&b) == GPURENT_OK, "batch_new");
        gpurent_verify_batch_free(b);
    }
    make_handles(tid, &slots[tid]);
    pthread_barrier_wait(&handoff);
    use_and_free(&slots[(tid + 1) % THREADS]);
}

static void *worker(void *arg)
{
    unsigned tid = (unsigned)(uintptr_t)arg;
    pthread_barrier_wait(&start_line);
    for (int i = 0; i < iterations(); i++) {
        verify_shared();
        verify_own(tid);
        read_market();
    }
    own_engine(tid);
    atomic_fetch_add(&part1_done, 1);
    churn(tid);
    return NULL;
}

static int setup(void)
{
    for (unsigned i = 0; i < KEYS; i++) {
        uint8_t seed[GPURENT_SEED_BYTES];
        memset(seed, 0x40 + (int)i, sizeof seed);
        if (gpurent_key_from_seed(&keys[i], seed) || gpurent_key_public(keys[i], pks[i])) return 1;
    }
    if (gpurent_trust_new(&trust, NULL)) return 1;
    static const uint32_t roles[KEYS] = {GPURENT_ROLE_PROVIDER, GPURENT_ROLE_AUDITOR, GPURENT_ROLE_AUDITOR,
                                         GPURENT_ROLE_AUDITOR, GPURENT_ROLE_MATCHER};
    for (unsigned i = 0; i < KEYS; i++)
        if (gpurent_trust_add(trust, pks[i], roles[i], 0, 0)) return 1;
    for (unsigned i = 0; i < SHARED_ENVS; i++) {
        if (i < 3) signed_report(1 + i, &shared_env[i]);
        else signed_gpu(100 + i, &shared_env[i]);
    }

    if (gpurent_market_new(&market, NULL, NULL)) return 1;
    gen_rng r = {42};
    for (unsigned i = 0; i < 40; i++) {
        gpurent_offer o;
        gpurent_offer_init(&o);
        gen_offer(&r, &o);
        o.provider_key[0] = (uint8_t)i;
        o.provider_key[1] = 0xee;
        int rc = gpurent_market_put_offer(market, &o);
        gpurent_offer_clear(&o);
        if (rc) return 1;
    }
    for (unsigned q = 0; q < QUERIES; q++) {
        if (q % 2) {
            gen_request(&r, &queries[q]);
        } else { /* a plain request that the generated offers can meet */
            gpurent_request_init(&queries[q]);
            snprintf(queries[q].request_id, sizeof queries[q].request_id, "plain-%u", q);
            queries[q].gpu_count = 1 + q / 2;
        }
        if (gpurent_market_best(market, &queries[q], 8, ref_best[q], &ref_best_n[q]) ||
            gpurent_market_explain(market, &queries[q], &ref_explain[q]))
            return 1;
    }
    if (gpurent_market_stats_get(market, &ref_stats) ||
        gpurent_market_digests(market, ref_digest[0], ref_digest[1], ref_digest[2]))
        return 1;
    return 0;
}

int main(void)
{
    pthread_t t[THREADS];
    if (setup()) {
        fprintf(stderr, "tsan_modules: setup failed: %s\n", gpurent_last_error_message());
        return 1;
    }
    unsigned matched = 0;
    for (unsigned q = 0; q < QUERIES; q++) matched += ref_best_n[q] > 0;
    if (pthread_barrier_init(&start_line, NULL, THREADS + 1) || pthread_barrier_init(&handoff, NULL, THREADS))
        return 1;
    for (unsigned i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i)) return 1;
    pthread_barrier_wait(&start_line);
    /* Change the shared store while the threads verify against it: keys that
     * sign nothing the threads verify. */
    for (unsigned i = 0; atomic_load(&part1_done) < THREADS; i++) {
        uint8_t seed[GPURENT_SEED_BYTES], pk[GPURENT_KEY_BYTES];
        gpurent_key *k = NULL;
        memset(seed, 0x90 + (int)(i % 64), sizeof seed);
        if (gpurent_key_from_seed(&k, seed) || gpurent_key_public(k, pk)) return 1;
        gpurent_key_free(k);
        if (gpurent_trust_add(trust, pk, GPURENT_ROLE_AUDITOR, 0, 0) == GPURENT_OK)
            CHECK(gpurent_trust_remove(trust, pk) == GPURENT_OK, "remove");
        if (i % 8 == 7) gpurent_trust_revoke(trust, pk);
        (void)gpurent_trust_key_count(trust);
    }
    for (unsigned i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (unsigned i = 1; i < THREADS; i++)
        CHECK(certs[i].len == certs[0].len && certs[0].len && memcmp(certs[i].data, certs[0].data, certs[0].len) == 0,
              "certificate of thread %u differs from thread 0's", i);
    pthread_barrier_destroy(&start_line);
    pthread_barrier_destroy(&handoff);
    for (unsigned i = 0; i < THREADS; i++) gpurent_buf_free(&certs[i]);
    for (unsigned i = 0; i < SHARED_ENVS; i++) gpurent_buf_free(&shared_env[i]);
    gpurent_market_free(market);
    gpurent_trust_free(trust);
    for (unsigned i = 0; i < KEYS; i++) gpurent_key_free(keys[i]);
    if (atomic_load(&failures)) {
        fprintf(stderr, "tsan_modules: %d checks failed\n", atomic_load(&failures));
        return 1;
    }
    printf("tsan_modules: %d threads x %d iterations clean (%u of %u queries matched)\n", THREADS, iterations(),
           matched, QUERIES);
    return 0;
}
