/* attest benchmark: envelope sign/verify of a 1 KiB payload beside raw
 * crypto_sign_detached / crypto_sign_verify_detached on the same payload
 * bytes, a k-of-n quorum check beside k single verifies, and bulk verify
 * scaling with threads, and the trust store's revocations of one key not in
 * the store by many revokers beside as many revocations of distinct keys
 * (the index is on the (key, revoker) pair, so the ratio stays near 1; it
 * was quadratic in the revokers before). Rounds alternate the measured and the baseline loop
 * and the median per-op time is reported, to damp drift on a shared machine.
 *
 *   bench_attest              wall-clock figures and BENCH lines
 *   bench_attest callgrind    fixed op counts for
 *       valgrind --tool=callgrind bench_attest callgrind; callgrind_annotate --inclusive=yes
 *     (compare the loop_* functions' inclusive instruction counts). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpurent.h"
#include "attest/attest_internal.h" /* gr_trust_revoke_by: the store's part, without the signature */

#define T0 1700000000ull
#define PAYLOAD_BYTES 1024
#define ROUNDS 9
#define OPS 200
#define QK 3
#define QN 5
#define BULK 1024

static uint8_t payload[PAYLOAD_BYTES];
static uint8_t raw_sk[crypto_sign_SECRETKEYBYTES], raw_pk[32];
static gpurent_key *keys[QN];
static gpurent_buf envs[OPS], qenvs[OPS];
static uint8_t raw_sigs[OPS][64];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

/* A canonical GPU report record of exactly 1 KiB: {0: 4, 1: bin(1017)}. */
static void make_payload(void)
{
    size_t n = PAYLOAD_BYTES - 7;
    uint8_t *p = payload;
    *p++ = 0x82, *p++ = 0x00, *p++ = GPURENT_RECORD_GPU_REPORT, *p++ = 0x01;
    *p++ = 0xc5, *p++ = (uint8_t)(n >> 8), *p++ = (uint8_t)n;
    for (size_t i = 0; i < n; i++) *p++ = (uint8_t)(i * 31 + 7);
}

static gpurent_envelope header(uint32_t i)
{
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_GPU_REPORT;
    h.issued_at = T0;
    h.expires_at = T0 + 86400;
    memcpy(h.nonce, &i, sizeof i);
    h.nonce[15] = 1;
    memcpy(h.subject, "node-0001", 9);
    h.subject_len = 9;
    return h;
}

static void __attribute__((noinline)) loop_raw_sign(int n)
{
    for (int i = 0; i < n; i++) crypto_sign_detached(raw_sigs[i % OPS], NULL, payload, sizeof payload, raw_sk);
}

static void __attribute__((noinline)) loop_env_sign(int n)
{
    for (int i = 0; i < n; i++) {
        gpurent_envelope h = header((uint32_t)i);
        gpurent_buf b = {0};
        if (gpurent_envelope_sign(keys[0], &h, payload, sizeof payload, &b)) abort();
        gpurent_buf_free(&b);
    }
}

static void __attribute__((noinline)) loop_raw_verify(int n)
{
    for (int i = 0; i < n; i++)
        if (crypto_sign_verify_detached(raw_sigs[i % OPS], payload, sizeof payload, raw_pk)) abort();
}

/* With replay check and a result handle, as a real caller would. */
static void __attribute__((noinline)) loop_env_verify(gpurent_trust *t, int n)
{
    for (int i = 0; i < n; i++) {
        gpurent_verified *v = NULL;
        if (gpurent_envelope_verify(t, envs[i].data, envs[i].len, T0 + 1, 0, NULL, &v)) abort();
        gpurent_verified_free(v);
    }
}

static void __attribute__((noinline)) loop_quorum_verify(gpurent_trust *t, int n)
{
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.quorum = QK;
    o.required_role = GPURENT_ROLE_PROVIDER;
    for (int i = 0; i < n; i++) {
        gpurent_verified *v = NULL;
        if (gpurent_envelope_verify(t, qenvs[i].data, qenvs[i].len, T0 + 1, 0, &o, &v)) abort();
        gpurent_verified_free(v);
    }
}

static void setup(gpurent_trust **t)
{
    uint8_t seed[32], pk[32];
    make_payload();
    for (int k = 0; k < QN; k++) {
        memset(seed, 0x40 + k, sizeof seed);
        gpurent_key_from_seed(&keys[k], seed);
    }
    memset(seed, 0x40, sizeof seed);
    crypto_sign_seed_keypair(raw_pk, raw_sk, seed);
    gpurent_trust_options to = GPURENT_TRUST_OPTIONS_INIT;
    to.replay_capacity = 1 << 16;
    gpurent_trust_new(t, &to);
    for (int k = 0; k < QN; k++) {
        gpurent_key_public(keys[k], pk);
        gpurent_trust_add(*t, pk, GPURENT_ROLE_PROVIDER, 0, 0);
    }
    for (uint32_t i = 0; i < OPS; i++) {
        gpurent_envelope h = header(i);
        gpurent_envelope_sign(keys[0], &h, payload, sizeof payload, &envs[i]);
        h.nonce[14] = 2;
        gpurent_buf cur = {0}, next = {0};
        gpurent_envelope_sign(keys[0], &h, payload, sizeof payload, &cur);
        for (int k = 1; k < QK; k++) {
            gpurent_envelope_cosign(keys[k], cur.data, cur.len, &next);
            gpurent_buf_free(&cur);
            cur = next;
        }
        qenvs[i] = cur;
        crypto_sign_detached(raw_sigs[i], NULL, payload, sizeof payload, raw_sk);
    }
}

static void bench_line(const char *name, double v, const char *unit, const char *base, double b)
{
    printf("BENCH %s %.1f %s baseline=%s:%.1f ratio=%.3f\n", name, v, unit, base, b, v / b);
}

/* Median seconds per op of f over ROUNDS rounds (alternating with g). */
typedef void (*opfn)(gpurent_trust *t, int n, int which);

static void run_pair(gpurent_trust *t, opfn f, double *a, double *b, int ops)
{
    double ta[ROUNDS], tb[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        gpurent_trust_replay_clear(t);
        double s = now_s();
        f(t, ops, 0);
        ta[r] = (now_s() - s) / ops;
        gpurent_trust_replay_clear(t);
        s = now_s();
        f(t, ops, 1);
        tb[r] = (now_s() - s) / ops;
    }
    *a = median(ta, ROUNDS);
    *b = median(tb, ROUNDS);
}

static void op_sign(gpurent_trust *t, int n, int which)
{
    (void)t;
    which ? loop_raw_sign(n) : loop_env_sign(n);
}

static void op_verify(gpurent_trust *t, int n, int which)
{
    which ? loop_raw_verify(n) : loop_env_verify(t, n);
}

static void op_quorum(gpurent_trust *t, int n, int which)
{
    which ? loop_env_verify(t, n) : loop_quorum_verify(t, n);
}

static double bulk_rate(gpurent_trust *t, unsigned threads)
{
    static const uint8_t *ptr[BULK];
    static size_t lens[BULK];
    static int32_t st[BULK];
    double best[5];
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    for (int i = 0; i < BULK; i++) ptr[i] = envs[i % OPS].data, lens[i] = envs[i % OPS].len;
    for (int r = 0; r < 5; r++) {
        double s = now_s();
        if (gpurent_envelope_verify_many(t, ptr, lens, BULK, T0 + 1, 0, &o, threads, NULL, st) != GPURENT_OK) abort();
        best[r] = BULK / (now_s() - s);
        for (int i = 0; i < BULK; i++)
            if (st[i] != GPURENT_OK) abort();
    }
    return median(best, 5);
}

#define REVOKERS 8000
#define REV_ROUNDS 5

/* A key not in the store, distinct for each (round, i). */
static void absent_key(uint32_t round, uint32_t i, uint8_t pk[32])
{
    memset(pk, 0xa5, 32);
    memcpy(pk, &round, 4);
    memcpy(pk + 4, &i, 4);
}

/* Median ns per revocation: REVOKERS revokers each revoke one key (the
 * same for all: *one, else each its own: *distinct), every round with new
 * keys. Each kind has its own store, so both grow (and rehash) alike. */
static void bench_revocations(double *one, double *distinct)
{
    static uint8_t rk[REVOKERS][32];
    gpurent_trust *t[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++)
        if (gpurent_trust_new(&t[k], NULL) != GPURENT_OK) abort();
    for (uint32_t i = 0; i < REVOKERS; i++) {
        uint8_t seed[32] = {0x52};
        memcpy(seed + 1, &i, 4);
        gpurent_key *key = NULL;
        if (gpurent_key_from_seed(&key, seed) != GPURENT_OK) abort();
        gpurent_key_public(key, rk[i]);
        gpurent_key_free(key);
        for (int k = 0; k < 2; k++)
            if (gpurent_trust_add(t[k], rk[i], GPURENT_ROLE_REVOKER, 0, 0) != GPURENT_OK) abort();
    }
    double per[2][REV_ROUNDS];
    uint8_t pk[32];
    for (uint32_t r = 0; r < REV_ROUNDS; r++)
        for (int k = 0; k < 2; k++) {
            double s = now_s();
            for (uint32_t i = 0; i < REVOKERS; i++) {
                absent_key(r, k ? i : 0, pk);
                if (gr_trust_revoke_by(t[k], pk, rk[i]) != GPURENT_OK) abort();
            }
            per[k][r] = (now_s() - s) / REVOKERS;
        }
    *one = median(per[0], REV_ROUNDS);
    *distinct = median(per[1], REV_ROUNDS);
    for (int k = 0; k < 2; k++) gpurent_trust_free(t[k]);
}

int main(int argc, char **argv)
{
    gpurent_trust *t = NULL;
    if (gpurent_init() != GPURENT_OK) return 1;
    setup(&t);
    if (argc > 1 && strcmp(argv[1], "callgrind") == 0) {
        loop_raw_sign(50);
        loop_env_sign(50);
        loop_raw_verify(50);
        gpurent_trust_replay_clear(t);
        loop_env_verify(t, 50);
        gpurent_trust_replay_clear(t);
        loop_quorum_verify(t, 50);
        gpurent_trust_free(t);
        return 0;
    }
    double es, rs, ev, rv, qv, sv;
    run_pair(t, op_sign, &es, &rs, OPS);
    run_pair(t, op_verify, &ev, &rv, OPS);
    run_pair(t, op_quorum, &qv, &sv, OPS / 2);
    printf("# 1 KiB payload; per op: envelope sign %.2f us, raw sign %.2f us, envelope verify %.2f us, "
           "raw verify %.2f us, %d-of-%d quorum verify %.2f us, single envelope verify %.2f us\n",
           es * 1e6, rs * 1e6, ev * 1e6, rv * 1e6, QK, QN, qv * 1e6, sv * 1e6);
    double r1 = bulk_rate(t, 1), r2 = bulk_rate(t, 2), r4 = bulk_rate(t, 4);
    printf("# bulk verify of %d envelopes: 1 thread %.0f/s, 2 threads %.0f/s, 4 threads %.0f/s (%ld CPUs online)\n",
           BULK, r1, r2, r4, sysconf(_SC_NPROCESSORS_ONLN));
    bench_line("attest_envelope_sign_1k", 1.0 / es, "ops/s", "crypto_sign_detached_1k", 1.0 / rs);
    bench_line("attest_envelope_verify_1k", 1.0 / ev, "ops/s", "crypto_sign_verify_detached_1k", 1.0 / rv);
    /* Quorum: cost relative to k single verifies (ratio <= 1.05 is the goal). */
    bench_line("attest_quorum_3of5_verify_us", qv * 1e6, "us", "3x_single_envelope_verify_us", QK * sv * 1e6);
    bench_line("attest_bulk_verify_2t", r2, "ops/s", "bulk_verify_1t", r1);
    bench_line("attest_bulk_verify_4t", r4, "ops/s", "bulk_verify_1t", r1);
    double rev_one, rev_distinct;
    bench_revocations(&rev_one, &rev_distinct);
    printf("# %d revokers revoking one key not in the store: %.0f ns each; each its own key: %.0f ns each\n",
           REVOKERS, rev_one * 1e9, rev_distinct * 1e9);
    bench_line("trust_revoke_one_key_8000_revokers_ns", rev_one * 1e9, "ns", "trust_revoke_distinct_keys_ns",
               rev_distinct * 1e9);
    for (int i = 0; i < OPS; i++) gpurent_buf_free(&envs[i]), gpurent_buf_free(&qenvs[i]);
    for (int k = 0; k < QN; k++) gpurent_key_free(keys[k]);
    gpurent_trust_free(t);
    return 0;
}
