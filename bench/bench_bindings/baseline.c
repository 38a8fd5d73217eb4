/* C baseline for the bindings benchmark: the same work bench.py and go/
 * do through the bindings, timed with the library called directly.
 * Prints one line per workload: `C <name> <ns per operation>`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gpurent.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void fail(int rc)
{
    fprintf(stderr, "baseline: %s: %s\n", gpurent_status_name(rc), gpurent_last_error_message());
    exit(1);
}

static gpurent_gpu h100(void)
{
    gpurent_gpu g;
    memset(&g, 0, sizeof g);
    strcpy(g.model, "H100 SXM5 80GB");
    g.cc_major = 9;
    g.sm_count = 132;
    g.memory_mib = 81559;
    g.interface = GPURENT_IFACE_SXM;
    g.fp32_gflops = 66908;
    g.cuda_version = 12040;
    return g;
}

/* ---- match a batch: BENCH_PROVIDERS providers x 10 nodes x 8 GPUs, 1000
 * pending requests of 1..8 GPUs; one operation = gpurent_market_match plus
 * the receipt's encoding (the market is unchanged by a match). ---- */
#define BENCH_PROVIDERS 200
#define BENCH_REQUESTS 1000

static void bench_key(uint32_t p, uint8_t key[32])
{
    for (int b = 0; b < 32; b++) key[b] = (uint8_t)(b & 1 ? p >> 8 : p);
}

static int match_batch(void)
{
    gpurent_market *m = NULL;
    int rc = gpurent_market_new(&m, NULL, NULL);
    gpurent_gpu g = h100();
    for (uint32_t p = 0; p < BENCH_PROVIDERS && !rc; p++) {
        gpurent_offer o;
        gpurent_offer_init(&o);
        bench_key(p, o.provider_key);
        o.seq = 1;
        snprintf(o.region, sizeof o.region, "r%u", p % 5);
        for (uint32_t i = 0; i < 10 && !rc; i++) {
            gpurent_node nd;
            memset(&nd, 0, sizeof nd);
            snprintf(nd.node_id, sizeof nd.node_id, "n%u", i);
            nd.gpu = g;
            nd.gpu_count = nd.gpu_free = 8;
            nd.cpu_millicores = 64000;
            nd.ram_mib = 512000;
            nd.disk_gib = 1000;
            nd.price_micro_per_gpu_hour = 1000000 + 997 * ((p * 31 + i) % 101);
            rc = gpurent_offer_add_node(&o, &nd);
        }
        if (!rc) rc = gpurent_market_put_offer(m, &o);
        gpurent_offer_clear(&o);
    }
    for (uint32_t i = 0; i < BENCH_REQUESTS && !rc; i++) {
        gpurent_request q;
        gpurent_request_init(&q);
        snprintf(q.request_id, sizeof q.request_id, "r%u", i);
        q.gpu_count = 1 + i % 8;
        q.submitted_at = 1760000000;
        rc = gpurent_market_add_request(m, &q);
    }
    /* Best of five rounds of ten, after one warm-up, as bench.py and go/ time it. */
    int n = 10;
    double best = 0;
    for (int round = -1; round < 5 && !rc; round++) {
        double t0 = now_ns();
        for (int i = 0; i < (round < 0 ? 1 : n) && !rc; i++) {
            gpurent_match_receipt r;
            gpurent_buf b = {0};
            gpurent_match_receipt_init(&r);
            rc = gpurent_market_match(m, 1760000600, NULL, &r);
            if (!rc) rc = gpurent_match_receipt_encode(&r, &b);
            gpurent_buf_free(&b);
            gpurent_match_receipt_clear(&r);
        }
        double ns = (now_ns() - t0) / n;
        if (round == 0 || (round > 0 && ns < best)) best = ns;
    }
    if (!rc) printf("C match_batch_1000 %.1f\n", best);
    gpurent_market_free(m);
    return rc;
}

/* ---- evaluate an era: TIER_PROVIDERS providers, three auditors each; one
 * operation = record the era's encoded audit reports (as they arrive, as
 * bytes: decode + gpurent_tier_record_report) and gpurent_tier_evaluate. ---- */
#define TIER_PROVIDERS 300
#define TIER_FIRST_ERA 20000u
#define TIER_ERAS 16

/* The era's reports; auditor j is `auditors[j]` (signed: each report in an
 * envelope by that key, subject the provider), or the key 0xA0+j repeated. */
static int era_reports_by(uint64_t era, gpurent_key *const *auditors, gpurent_buf *out)
{
    int rc = 0;
    for (uint32_t p = 0; p < TIER_PROVIDERS && !rc; p++)
        for (uint32_t j = 0; j < 3 && !rc; j++) {
            gpurent_audit_report r;
            gpurent_audit_report_init(&r);
            bench_key(p + 1, r.provider_key);
            memset(r.auditor_key, (int)(0xA0 + j), 32);
            if (auditors) rc = gpurent_key_public(auditors[j], r.auditor_key);
            r.time_s = era * 86400 + 86000 + j;
            r.gpu_report = r.integrity = r.security = GPURENT_CHECK_PASSED;
            r.stake_observed = 1;
            r.stake_micro = 500000000;
            for (uint32_t h = 0; h < 24 && !rc; h++)
                rc = gpurent_audit_report_add_challenge(&r, era * 86400 + h * 3600 + j, GPURENT_CHALLENGE_GPU,
                                                        (h + p + j) % 17 != 0);
            for (uint32_t h = 0; h < 24 && !rc; h += 6)
                rc = gpurent_audit_report_add_challenge(&r, era * 86400 + h * 3600 + 1800 + j, GPURENT_CHALLENGE_CPU, 1);
            if (!rc && !auditors) rc = gpurent_audit_report_encode(&r, &out[p * 3 + j]);
            if (!rc && auditors) {
                gpurent_buf payload = {0};
                gpurent_envelope h;
                gpurent_envelope_init(&h);
                h.statement = GPURENT_RECORD_AUDIT_REPORT;
                h.issued_at = r.time_s;
                h.expires_at = r.time_s + 7 * 86400;
                h.subject_len = 32;
                memcpy(h.subject, r.provider_key, 32);
                rc = gpurent_audit_report_encode(&r, &payload);
                if (!rc) rc = gpurent_envelope_sign(auditors[j], &h, payload.data, payload.len, &out[p * 3 + j]);
                gpurent_buf_free(&payload);
            }
            gpurent_audit_report_clear(&r);
        }
    return rc;
}

static int era_reports(uint64_t era, gpurent_buf *out)
{
    return era_reports_by(era, NULL, out);
}

/* ---- signed ingest: the 900 reports of one era signed by three auditor
 * keys (seeds 0xB0, 0xB1, 0xB2 repeated); one operation = a new engine and
 * trust store (the three auditors) and gpurent_tier_record_signed_many of
 * the 900 envelopes on one thread. Best of 5 rounds of 5. ---- */
static int tier_signed(void)
{
    const size_t per = TIER_PROVIDERS * 3;
    gpurent_key *aud[3] = {NULL, NULL, NULL};
    uint8_t pk[3][32];
    int rc = 0;
    for (int j = 0; j < 3 && !rc; j++) {
        uint8_t seed[32];
        memset(seed, 0xB0 + j, sizeof seed);
        rc = gpurent_key_from_seed(&aud[j], seed);
        if (!rc) rc = gpurent_key_public(aud[j], pk[j]);
    }
    gpurent_buf *env = calloc(per, sizeof *env);
    const uint8_t **ptr = calloc(per, sizeof *ptr);
    size_t *len = calloc(per, sizeof *len);
    int32_t *st = calloc(per, sizeof *st);
    if (!env || !ptr || !len || !st) rc = GPURENT_E_NOMEM;
    if (!rc) rc = era_reports_by(TIER_FIRST_ERA, aud, env);
    for (size_t i = 0; i < per && !rc; i++) {
        ptr[i] = env[i].data;
        len[i] = env[i].len;
    }
    gpurent_tier_options o;
    if (!rc) rc = gpurent_tier_options_init(&o, GPURENT_TIER_OPTIONS_VERSION);
    o.first_era = TIER_FIRST_ERA;
    const uint64_t now = TIER_FIRST_ERA * 86400ull + 86300;
    double best = 0;
    for (int round = 0; round < 6 && !rc; round++) { /* round 0 warms up */
        const int n = 5;
        double t0 = now_ns();
        for (int i = 0; i < n && !rc; i++) {
            gpurent_tier_engine *eng = NULL;
            gpurent_trust *t = NULL;
            rc = gpurent_tier_engine_new(&eng, &o);
            if (!rc) rc = gpurent_trust_new(&t, NULL);
            for (int j = 0; j < 3 && !rc; j++) rc = gpurent_trust_add(t, pk[j], GPURENT_ROLE_AUDITOR, 0, 0);
            if (!rc) rc = gpurent_tier_record_signed_many(eng, t, ptr, len, per, now, 300, 1, NULL, st);
            for (size_t k = 0; k < per && !rc; k++) rc = st[k];
            gpurent_trust_free(t);
            gpurent_tier_engine_free(eng);
        }
        double ns = (now_ns() - t0) / n;
        if (round == 1 || (round > 1 && ns < best)) best = ns;
    }
    if (!rc) printf("C tier_signed_900 %.1f\n", best);
    for (size_t i = 0; env && i < per; i++) gpurent_buf_free(&env[i]);
    for (int j = 0; j < 3; j++) gpurent_key_free(aud[j]);
    free(env);
    free(ptr);
    free(len);
    free(st);
    return rc;
}

static int tier_eras(void)
{
    const size_t per = TIER_PROVIDERS * 3;
    gpurent_buf *reps = calloc(per * TIER_ERAS, sizeof *reps);
    if (!reps) return GPURENT_E_NOMEM;
    gpurent_tier_options o;
    int rc = gpurent_tier_options_init(&o, GPURENT_TIER_OPTIONS_VERSION);
    o.first_era = TIER_FIRST_ERA;
    o.unverified_evidence = 1;
    for (int e = 0; e < TIER_ERAS && !rc; e++) rc = era_reports(TIER_FIRST_ERA + (uint64_t)e, reps + per * (size_t)e);
    gpurent_tier_engine *eng = NULL;
    if (!rc) rc = gpurent_tier_engine_new(&eng, &o);
    double t0 = 0;
    for (int e = 0; e < TIER_ERAS && !rc; e++) {
        if (e == 1) t0 = now_ns(); /* era 0 warms up */
        for (size_t i = 0; i < per && !rc; i++) {
            gpurent_audit_report r;
            gpurent_audit_report_init(&r);
            const gpurent_buf *b = &reps[per * (size_t)e + i];
            rc = gpurent_audit_report_decode(b->data, b->len, &r);
            if (!rc) rc = gpurent_tier_record_report(eng, &r);
            gpurent_audit_report_clear(&r);
        }
        if (!rc) rc = gpurent_tier_evaluate(eng, TIER_FIRST_ERA + (uint64_t)e, NULL, NULL);
    }
    if (!rc) printf("C tier_era_300 %.1f\n", (now_ns() - t0) / (TIER_ERAS - 1));
    gpurent_tier_engine_free(eng);
    for (size_t i = 0; i < per * TIER_ERAS; i++) gpurent_buf_free(&reps[i]);
    free(reps);
    return rc;
}

int main(void)
{
    gpurent_gpu g = h100(), gout;
    gpurent_buf b = {0};
    int rc, n = 200000;

    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        if ((rc = gpurent_gpu_encode(&g, &b))) fail(rc);
        if ((rc = gpurent_gpu_decode(b.data, b.len, &gout))) fail(rc);
        gpurent_buf_free(&b);
    }
    printf("C gpu_roundtrip %.1f\n", (now_ns() - t0) / n);

    /* An offer of 16 nodes (as bench.py builds it). */
    gpurent_offer o, oout;
    gpurent_offer_init(&o);
    memset(o.provider_key, 7, sizeof o.provider_key);
    strcpy(o.region, "eu-west");
    for (int i = 0; i < 16; i++) {
        gpurent_node nd;
        memset(&nd, 0, sizeof nd);
        snprintf(nd.node_id, sizeof nd.node_id, "node-%d", i);
        nd.gpu = g;
        nd.gpu_count = 8;
        nd.gpu_free = 8;
        if ((rc = gpurent_offer_add_node(&o, &nd))) fail(rc);
    }
    n = 20000;
    t0 = now_ns();
    for (int i = 0; i < n; i++) {
        if ((rc = gpurent_offer_encode(&o, &b))) fail(rc);
        gpurent_offer_init(&oout);
        if ((rc = gpurent_offer_decode(b.data, b.len, &oout))) fail(rc);
        gpurent_offer_clear(&oout);
        gpurent_buf_free(&b);
    }
    printf("C offer16_roundtrip %.1f\n", (now_ns() - t0) / n);
    gpurent_offer_clear(&o);

    /* check_canonical over 1 MiB: one call, all the work in C. */
    size_t len = 5 + (1u << 20);
    uint8_t *big = calloc(1, len);
    if (!big) return 1;
    big[0] = 0xdd;
    big[1] = 0x00; big[2] = 0x10; big[3] = 0x00; big[4] = 0x00; /* 1 Mi items */
    n = 200;
    t0 = now_ns();
    for (int i = 0; i < n; i++)
        if ((rc = gpurent_wire_check_canonical(big, len))) fail(rc);
    printf("C check_canonical_1MiB %.1f\n", (now_ns() - t0) / n);
    free(big);

    /* Bulk verification: 1000 envelopes (the H100 GPU record, seed 0x01..,
     * nonce = LE32(i + 1)), one thread, no replay cache, one call. */
    enum { NENV = 1000 };
    gpurent_key *key = NULL;
    gpurent_trust *trust = NULL;
    uint8_t seed[32], pk[32];
    memset(seed, 1, sizeof seed);
    if ((rc = gpurent_key_from_seed(&key, seed))) fail(rc);
    if ((rc = gpurent_key_public(key, pk))) fail(rc);
    if ((rc = gpurent_trust_new(&trust, NULL))) fail(rc);
    if ((rc = gpurent_trust_add(trust, pk, GPURENT_ROLE_PROVIDER, 0, 0))) fail(rc);
    if ((rc = gpurent_gpu_encode(&g, &b))) fail(rc);
    static gpurent_buf envs[NENV];
    static const uint8_t *ptrs[NENV];
    static size_t lens[NENV];
    static int32_t statuses[NENV];
    for (int i = 0; i < NENV; i++) {
        gpurent_envelope h;
        gpurent_envelope_init(&h);
        h.statement = GPURENT_RECORD_GPU;
        h.issued_at = 1700000000;
        h.expires_at = 1700000000 + 86400;
        uint32_t v = (uint32_t)i + 1;
        memcpy(h.nonce, &v, 4); /* little-endian here, as the bindings write it */
        if ((rc = gpurent_envelope_sign(key, &h, b.data, b.len, &envs[i]))) fail(rc);
        ptrs[i] = envs[i].data;
        lens[i] = envs[i].len;
    }
    gpurent_buf_free(&b);
    gpurent_verify_options vo;
    gpurent_verify_options_init(&vo, GPURENT_VERIFY_OPTIONS_VERSION);
    vo.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    n = 5;
    double best = 0;
    for (int r = 0; r < 5; r++) { /* best of 5, as bench.py and go/ */
        t0 = now_ns();
        for (int i = 0; i < n; i++) {
            if ((rc = gpurent_envelope_verify_many(trust, ptrs, lens, NENV, 1700000100, 0, &vo, 1, NULL, statuses)))
                fail(rc);
            for (int j = 0; j < NENV; j++)
                if (statuses[j]) fail(statuses[j]);
        }
        double ns = (now_ns() - t0) / n;
        if (r == 0 || ns < best) best = ns;
    }
    printf("C verify_many_1000 %.1f\n", best);
    for (int i = 0; i < NENV; i++) gpurent_buf_free(&envs[i]);
    gpurent_trust_free(trust);
    gpurent_key_free(key);
    if ((rc = match_batch())) fail(rc);
    if ((rc = tier_eras())) fail(rc);
    if ((rc = tier_signed())) fail(rc);
    return 0;
}
