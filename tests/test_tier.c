/* Tier module: fixed-point math, the audit report and tier certificate
 * records, the tier state machine (table-driven), long simulated histories,
 * order independence, certificates and explanations. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gpurent.h"
#include "tier/tier_internal.h"

#define ERA0 20000u /* first era of every test engine */
#define DAY 86400u

static int under_valgrind(void)
{
    const char *v = getenv("GPURENT_TEST_VALGRIND");
    return v && *v == '1';
}

/* ---------- helpers ---------- */

static void pkey(uint8_t k[32], uint32_t i)
{
    memset(k, 0, 32);
    k[0] = 0x50;
    k[1] = (uint8_t)(i >> 16);
    k[2] = (uint8_t)(i >> 8);
    k[3] = (uint8_t)i;
    k[31] = 0x01;
}

static void akey(uint8_t k[32], uint32_t j)
{
    memset(k, 0, 32);
    k[0] = 0xA0;
    k[1] = (uint8_t)j;
    k[31] = 0x02;
}

static uint64_t tsec(uint64_t era, uint32_t sec)
{
    return era * DAY + sec;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* Most tests feed evidence directly (the unverified calls), so their
 * engines are created with unverified_evidence = 1; engine_strict() is the
 * default, signed-only engine. */
static gpurent_tier_engine *engine_with(gpurent_tier_options *o)
{
    gpurent_tier_engine *e = NULL;
    gpurent_tier_options u = *o;
    u.unverified_evidence = 1;
    assert_int_equal(gpurent_tier_engine_new(&e, &u), GPURENT_OK);
    assert_non_null(e);
    return e;
}

static gpurent_tier_engine *engine_strict(void)
{
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = ERA0;
    gpurent_tier_engine *e = NULL;
    assert_int_equal(gpurent_tier_engine_new(&e, &o), GPURENT_OK);
    return e;
}

static gpurent_tier_engine *engine_default(void)
{
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = ERA0;
    return engine_with(&o);
}

/* One era of challenges for provider i: gpu_ok of 24 GPU challenges and
 * cpu_ok of 6 CPU challenges pass. Appends to `ev`. */
static size_t era_events(gpurent_tier_event *ev, uint32_t i, uint64_t era, uint32_t gpu_ok, uint32_t cpu_ok)
{
    size_t n = 0;
    for (uint32_t c = 0; c < 24; c++, n++) {
        memset(&ev[n], 0, sizeof ev[n]);
        pkey(ev[n].provider_key, i);
        ev[n].time_s = tsec(era, c * 3600 + 17);
        ev[n].kind = GPURENT_TIER_EVENT_GPU_CHALLENGE;
        ev[n].value = c < gpu_ok;
    }
    for (uint32_t c = 0; c < 6; c++, n++) {
        memset(&ev[n], 0, sizeof ev[n]);
        pkey(ev[n].provider_key, i);
        ev[n].time_s = tsec(era, c * 14400 + 99);
        ev[n].kind = GPURENT_TIER_EVENT_CPU_CHALLENGE;
        ev[n].value = c < cpu_ok;
    }
    return n;
}

static void feed_era(gpurent_tier_engine *e, uint32_t i, uint64_t era, uint32_t gpu_ok, uint32_t cpu_ok)
{
    gpurent_tier_event ev[30];
    size_t n = era_events(ev, i, era, gpu_ok, cpu_ok);
    assert_int_equal(gpurent_tier_record(e, ev, n), GPURENT_OK);
}

static void make_audit(gpurent_audit_report *r, uint32_t i, uint32_t j, uint64_t era, uint32_t g, uint32_t in,
                       uint32_t s)
{
    gpurent_audit_report_init(r);
    pkey(r->provider_key, i);
    akey(r->auditor_key, j);
    r->time_s = tsec(era, 40000 + j);
    r->gpu_report = g;
    r->integrity = in;
    r->security = s;
}

static void audit(gpurent_tier_engine *e, uint32_t i, uint32_t j, uint64_t era, uint32_t g, uint32_t in, uint32_t s)
{
    gpurent_audit_report r;
    make_audit(&r, i, j, era, g, in, s);
    assert_int_equal(gpurent_tier_record_report(e, &r), GPURENT_OK);
    gpurent_audit_report_clear(&r);
}

#define P GPURENT_CHECK_PASSED
#define F GPURENT_CHECK_FAILED

static void full_audits(gpurent_tier_engine *e, uint32_t i, uint64_t era, uint32_t k)
{
    for (uint32_t j = 0; j < k; j++) audit(e, i, j, era, P, P, P);
}

static void evaluate(gpurent_tier_engine *e, uint64_t era, gpurent_tier_era_summary *s)
{
    assert_int_equal(gpurent_tier_evaluate(e, era, NULL, s), GPURENT_OK);
}

static gpurent_tier_explanation explain(gpurent_tier_engine *e, uint32_t i)
{
    uint8_t k[32];
    gpurent_tier_explanation x;
    pkey(k, i);
    assert_int_equal(gpurent_tier_explain(e, k, &x), GPURENT_OK);
    return x;
}

/* ---------- fixed-point math ---------- */

static void test_isqrt(void **state)
{
    (void)state;
    const uint64_t v[] = {0, 1, 2, 3, 4, 15, 16, 17, 99, 100, 1ull << 32, (1ull << 32) - 1, UINT64_MAX,
                          0xFFFFFFFE00000001ull, 0xFFFFFFFE00000000ull};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint64_t r = gr_isqrt64(v[i]);
        assert_true((unsigned __int128)r * r <= v[i]);
        assert_true((unsigned __int128)(r + 1) * (r + 1) > v[i]);
    }
    for (uint64_t x = 0; x < 100000; x++) {
        uint64_t r = gr_isqrt64(x);
        assert_true(r * r <= x && (r + 1) * (r + 1) > x);
    }
}

/* Reference Wilson bound in double precision (test only). */
static double wilson_ref(double r, double n, double z)
{
    double p = r / n;
    return (p + z * z / (2 * n) - z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n);
}

static void test_wilson(void **state)
{
    (void)state;
    /* FACTS: z = 1.96, 2/2 gives 0.34 and 990/1000 gives 0.98. */
    uint32_t a = gr_wilson_lower_ppm(2 * GR_Q16, 2 * GR_Q16, 1960);
    uint32_t b = gr_wilson_lower_ppm(990 * GR_Q16, 1000 * GR_Q16, 1960);
    assert_in_range(a, 340000, 349999);
    assert_in_range(b, 980000, 989999);
    /* Within 3 ppm of the real-valued formula over a grid. */
    for (uint64_t n = 1; n <= 5000; n = n * 3 + 1)
        for (uint64_t r = 0; r <= n; r += n / 7 + 1) {
            double ref = wilson_ref((double)r, (double)n, 1.96) * 1e6;
            double got = gr_wilson_lower_ppm(r * GR_Q16, n * GR_Q16, 1960);
            assert_true(fabs(got - (ref < 0 ? 0 : ref)) <= 3.0);
        }
    /* Monotone in successes at fixed n. */
    uint32_t prev = 0;
    for (uint64_t r = 0; r <= 200; r++) {
        uint32_t w = gr_wilson_lower_ppm(r * GR_Q16, 200 * GR_Q16, 1960);
        assert_true(w >= prev);
        prev = w;
    }
}

static void test_beta(void **state)
{
    (void)state;
    for (uint64_t n = 2; n <= 3000; n = n * 2 + 3)
        for (uint64_t r = 0; r <= n; r += n / 5 + 1) {
            double m = (double)r / n, sd = sqrt(m * (1 - m) / (n + 1));
            double ref = (m - 1.96 * sd) * 1e6;
            double got = gr_beta_lower_ppm(r * GR_Q16, n * GR_Q16, 1960);
            assert_true(fabs(got - (ref < 0 ? 0 : ref)) <= 3.0);
        }
}

static void test_decay_table(void **state)
{
    (void)state;
    uint32_t t[64];
    gr_decay_table(t, 64, 7);
    assert_int_equal(t[0], 65536);
    assert_int_equal(t[7], 32768);
    assert_int_equal(t[14], 16384);
    for (int a = 1; a < 64; a++) {
        assert_true(t[a] <= t[a - 1]);
        double ref = 65536.0 * pow(0.5, a / 7.0);
        assert_true(fabs(t[a] - ref) <= 1.0 + ref / 65536.0 * 4);
    }
    gr_decay_table(t, 10, 0);
    for (int a = 0; a < 10; a++) assert_int_equal(t[a], 65536);
}

/* ---------- records ---------- */

static void test_report_roundtrip_canonical(void **state)
{
    (void)state;
    gpurent_audit_report a, b, d;
    make_audit(&a, 1, 2, ERA0, P, P, F);
    make_audit(&b, 1, 2, ERA0, P, P, F);
    a.stake_observed = b.stake_observed = 1;
    a.stake_micro = b.stake_micro = 123456789;
    /* The same sets added in opposite orders encode to the same bytes. */
    for (uint32_t c = 0; c < 40; c++) {
        assert_int_equal(gpurent_audit_report_add_challenge(&a, tsec(ERA0, c * 60), 1 + c % 2, c % 3 != 0), 0);
        uint32_t r = 39 - c;
        assert_int_equal(gpurent_audit_report_add_challenge(&b, tsec(ERA0, r * 60), 1 + r % 2, r % 3 != 0), 0);
    }
    assert_int_equal(gpurent_audit_report_add_job(&a, "job-a", tsec(ERA0, 5), GPURENT_JOB_COMPLETED), 0);
    assert_int_equal(gpurent_audit_report_add_job(&a, "job-b", tsec(ERA0, 6), GPURENT_JOB_FAILED_USER), 0);
    assert_int_equal(gpurent_audit_report_add_job(&b, "job-b", tsec(ERA0, 6), GPURENT_JOB_FAILED_USER), 0);
    assert_int_equal(gpurent_audit_report_add_job(&b, "job-a", tsec(ERA0, 5), GPURENT_JOB_COMPLETED), 0);
    gpurent_buf ba = {0}, bb = {0};
    assert_int_equal(gpurent_audit_report_encode(&a, &ba), GPURENT_OK);
    assert_int_equal(gpurent_audit_report_encode(&b, &bb), GPURENT_OK);
    assert_int_equal(ba.len, bb.len);
    assert_memory_equal(ba.data, bb.data, ba.len);
    assert_int_equal(gpurent_wire_check_canonical(ba.data, ba.len), GPURENT_OK);
    uint32_t type;
    assert_int_equal(gpurent_wire_record_type(ba.data, ba.len, &type), GPURENT_OK);
    assert_int_equal(type, GPURENT_RECORD_AUDIT_REPORT);
    gpurent_audit_report_init(&d);
    assert_int_equal(gpurent_audit_report_decode(ba.data, ba.len, &d), GPURENT_OK);
    assert_int_equal(d.challenge_count, 40);
    assert_int_equal(d.job_count, 2);
    assert_string_equal(gpurent_audit_report_job(&d, 0)->job_id, "job-a");
    assert_int_equal(d.security, F);
    assert_int_equal(d.stake_micro, 123456789);
    assert_null(gpurent_audit_report_challenge(&d, 40));
    for (uint32_t i = 1; i < 40; i++) assert_true(d.challenges[i - 1].time_s <= d.challenges[i].time_s);
    /* Every truncation fails cleanly and leaves `out` alone. */
    for (size_t cut = 0; cut < ba.len; cut++) {
        gpurent_audit_report t;
        gpurent_audit_report_init(&t);
        assert_int_not_equal(gpurent_audit_report_decode(ba.data, cut, &t), GPURENT_OK);
        assert_null(t.challenges);
    }
    /* A decoded report re-encodes to the same bytes. */
    gpurent_buf bd = {0};
    assert_int_equal(gpurent_audit_report_encode(&d, &bd), GPURENT_OK);
    assert_memory_equal(bd.data, ba.data, ba.len);
    gpurent_buf_free(&ba);
    gpurent_buf_free(&bb);
    gpurent_buf_free(&bd);
    gpurent_audit_report_clear(&a);
    gpurent_audit_report_clear(&b);
    gpurent_audit_report_clear(&d);
}

static void test_report_invalid(void **state)
{
    (void)state;
    gpurent_audit_report r;
    gpurent_buf out = {0};
    make_audit(&r, 1, 2, ERA0, P, P, P);
    assert_int_equal(gpurent_audit_report_validate(&r), GPURENT_OK);
    memcpy(r.auditor_key, r.provider_key, 32);
    assert_int_equal(gpurent_audit_report_encode(&r, &out), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "self-audit"));
    make_audit(&r, 1, 2, ERA0, 0, 0, 0);
    assert_int_equal(gpurent_audit_report_validate(&r), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "no evidence"));
    make_audit(&r, 1, 2, ERA0, 3, P, P);
    assert_int_equal(gpurent_audit_report_validate(&r), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "gpu_report"));
    make_audit(&r, 1, 2, ERA0, P, P, P);
    assert_int_equal(gpurent_audit_report_add_challenge(&r, r.time_s + 1, GPURENT_CHALLENGE_GPU, 1), 0);
    assert_int_equal(gpurent_audit_report_validate(&r), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "after the report"));
    gpurent_audit_report_clear(&r);
    make_audit(&r, 1, 2, ERA0, P, P, P);
    assert_int_equal(gpurent_audit_report_add_challenge(&r, r.time_s - 5, GPURENT_CHALLENGE_GPU, 1), 0);
    assert_int_equal(gpurent_audit_report_add_challenge(&r, r.time_s - 5, GPURENT_CHALLENGE_GPU, 0), 0);
    assert_int_equal(gpurent_audit_report_validate(&r), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "twice"));
    gpurent_audit_report_clear(&r);
    make_audit(&r, 1, 2, ERA0, P, P, P);
    assert_int_equal(gpurent_audit_report_add_job(&r, "j", r.time_s - 5, 0), 0);
    assert_int_equal(gpurent_audit_report_validate(&r), GPURENT_E_INVALID_FIELD);
    gpurent_audit_report_clear(&r);
    make_audit(&r, 1, 2, ERA0, P, P, P);
    r.stake_micro = 5;
    assert_int_equal(gpurent_audit_report_validate(&r), GPURENT_E_INVALID_FIELD);
    /* Challenges out of order on the wire are refused: swap two encoded items. */
    make_audit(&r, 1, 2, ERA0, P, P, P);
    assert_int_equal(gpurent_audit_report_add_challenge(&r, r.time_s - 20, GPURENT_CHALLENGE_GPU, 1), 0);
    assert_int_equal(gpurent_audit_report_add_challenge(&r, r.time_s - 10, GPURENT_CHALLENGE_GPU, 1), 0);
    assert_int_equal(gpurent_audit_report_encode(&r, &out), GPURENT_OK);
    uint8_t *t1 = NULL;
    for (size_t i = 0; i + 5 < out.len; i++) /* the two time_s values are uint32 (0xce) */
        if (out.data[i] == 0xce) {
            uint64_t v = (uint64_t)out.data[i + 1] << 24 | out.data[i + 2] << 16 | out.data[i + 3] << 8 | out.data[i + 4];
            if (v == r.time_s - 20) t1 = &out.data[i + 4];
        }
    assert_non_null(t1);
    *t1 = (uint8_t)(*t1 + 15); /* now after the second item */
    gpurent_audit_report d;
    gpurent_audit_report_init(&d);
    assert_int_equal(gpurent_audit_report_decode(out.data, out.len, &d), GPURENT_E_NONCANONICAL);
    gpurent_buf_free(&out);
    gpurent_audit_report_clear(&r);
}

static void test_cert_record(void **state)
{
    (void)state;
    gpurent_tier_cert c, d;
    memset(&c, 0, sizeof c);
    pkey(c.provider_key, 7);
    c.era = ERA0;
    c.tier = 5;
    c.score_ppm = 800000;
    c.mean_ppm = 900000;
    c.confidence_ppm = 888888;
    c.auditor_count = 2;
    akey(c.auditors[0], 1);
    akey(c.auditors[1], 2);
    gpurent_buf b = {0};
    assert_int_equal(gpurent_tier_cert_encode(&c, &b), GPURENT_OK);
    assert_int_equal(gpurent_tier_cert_decode(b.data, b.len, &d), GPURENT_OK);
    assert_memory_equal(&c, &d, sizeof c);
    for (size_t cut = 0; cut < b.len; cut++) assert_int_not_equal(gpurent_tier_cert_decode(b.data, cut, &d), 0);
    gpurent_buf_free(&b);
    akey(c.auditors[1], 0); /* descending */
    assert_int_equal(gpurent_tier_cert_validate(&c), GPURENT_E_INVALID_FIELD);
    akey(c.auditors[1], 2);
    c.score_ppm = 950000;
    assert_int_equal(gpurent_tier_cert_validate(&c), GPURENT_E_INVALID_FIELD);
    c.score_ppm = 800000;
    c.confidence_ppm = 888889; /* derived: floor(800000 x 10^6 / 900000) = 888888 */
    assert_int_equal(gpurent_tier_cert_validate(&c), GPURENT_E_INVALID_FIELD);
    c.confidence_ppm = 888888;
    assert_int_equal(gpurent_tier_cert_validate(&c), GPURENT_OK);
    c.tier = 0;
    assert_int_equal(gpurent_tier_cert_validate(&c), GPURENT_E_INVALID_FIELD);
    c.tier = 1;
    c.auditor_count = 0;
    assert_int_equal(gpurent_tier_cert_validate(&c), GPURENT_E_INVALID_FIELD);
}

/* ---------- options ---------- */

static void test_options(void **state)
{
    (void)state;
    gpurent_tier_options o;
    assert_int_equal(gpurent_tier_options_init(&o, 99), GPURENT_E_VERSION);
    assert_int_equal(gpurent_tier_options_init(&o, GPURENT_TIER_OPTIONS_VERSION), GPURENT_OK);
    assert_int_equal(o.tier_count, 7);
    /* The published Spheron table, as integers. */
    const uint32_t up[7] = {990000, 980000, 970000, 950000, 900000, 850000, 750000};
    const uint32_t eu[7] = {0, 30, 23, 17, 11, 5, 3}, ed[7] = {32, 25, 20, 14, 7, 5, 0};
    for (int t = 0; t < 7; t++) {
        assert_int_equal(o.tiers[t].uptime_min_ppm, up[t]);
        assert_int_equal(o.tiers[t].eras_up, eu[t]);
        assert_int_equal(o.tiers[t].eras_down, ed[t]);
    }
    assert_int_equal(o.tiers[0].points_ppm, 2000000);
    assert_int_equal(o.era_s, 86400);
    assert_int_equal(o.gpu_weight_ppm, 800000);
    assert_int_equal(gpurent_tier_options_validate(&o), GPURENT_OK);
    gpurent_tier_options bad = o;
    bad.tiers[3].uptime_min_ppm = 999000;
    assert_int_equal(gpurent_tier_options_validate(&bad), GPURENT_E_INVALID_ARG);
    assert_non_null(strstr(gpurent_last_error_message(), "tiers[3].uptime_min_ppm"));
    bad = o;
    bad.cpu_weight_ppm = 1;
    assert_int_equal(gpurent_tier_options_validate(&bad), GPURENT_E_INVALID_ARG);
    bad = o;
    bad.weight_stake_ppm = 0;
    assert_int_equal(gpurent_tier_options_validate(&bad), GPURENT_E_INVALID_ARG);
    bad = o;
    bad.tiers[6].eras_down = 3;
    assert_int_equal(gpurent_tier_options_validate(&bad), GPURENT_E_INVALID_ARG);
    bad = o;
    bad.window_eras = 65;
    gpurent_tier_engine *e = (gpurent_tier_engine *)1;
    assert_int_equal(gpurent_tier_engine_new(&e, &bad), GPURENT_E_INVALID_ARG);
    assert_null(e);
    bad = o;
    bad.version = 0;
    assert_int_equal(gpurent_tier_engine_new(&e, &bad), GPURENT_E_VERSION);
    gpurent_tier_engine_free(NULL);
    /* Different parameters, different params digests. */
    gpurent_tier_engine *e1 = engine_with(&o), *e2;
    o.quorum_auditors = 4;
    e2 = engine_with(&o);
    uint8_t d1[32], d2[32];
    gpurent_tier_params_digest(e1, d1);
    gpurent_tier_params_digest(e2, d2);
    assert_memory_not_equal(d1, d2, 32);
    gpurent_tier_engine_free(e1);
    gpurent_tier_engine_free(e2);
}

/* ---------- the state machine, table-driven ---------- */

typedef struct era_row {
    uint32_t observed, uptime_ppm, integrity_fail, security_fail, gpu_fail, auditors;
    uint32_t tier_after, rule, slash;
} era_row;

typedef struct transition_case {
    const char *name;
    gr_tstate start;
    uint32_t min_incubation, security_demote;
    const era_row *rows;
    size_t nrows;
} transition_case;

#define R_(obs, up, inf, sec, gf, aud, tier, rule, slash) {obs, up, inf, sec, gf, aud, tier, GPURENT_TIER_RULE_##rule, slash}
#define GOOD(tier, rule) R_(1, 1000000, 0, 0, 0, 3, tier, rule, 0)

/* New provider, perfect eras: 3 eras to tier 6, 5 more to tier 5 (8 eras served). */
static const era_row rows_incubation[] = {
    GOOD(7, UP_STREAK), GOOD(7, UP_STREAK), GOOD(6, PROMOTED),
    GOOD(6, UP_STREAK), GOOD(6, UP_STREAK), GOOD(6, UP_STREAK), GOOD(6, UP_STREAK), GOOD(5, PROMOTED),
    GOOD(5, UP_STREAK),
};
/* Quorum not met: held at 6 until three auditors, then promoted at once. */
static const era_row rows_quorum[] = {
    GOOD(7, UP_STREAK), GOOD(7, UP_STREAK), GOOD(6, PROMOTED),
    GOOD(6, UP_STREAK), GOOD(6, UP_STREAK), GOOD(6, UP_STREAK), GOOD(6, UP_STREAK),
    R_(1, 1000000, 0, 0, 0, 2, 6, WAIT_QUORUM, 0), R_(1, 1000000, 0, 0, 0, 0, 6, WAIT_QUORUM, 0),
    R_(1, 1000000, 0, 0, 0, 3, 5, PROMOTED, 0),
};
/* min_incubation_eras 12: tier 6 reached after 3, held until 12 served. */
static const era_row rows_min_eras[] = {
    GOOD(7, UP_STREAK), GOOD(7, UP_STREAK), GOOD(6, PROMOTED), GOOD(6, UP_STREAK), GOOD(6, UP_STREAK),
    GOOD(6, UP_STREAK), GOOD(6, UP_STREAK), GOOD(6, WAIT_INCUBATION), GOOD(6, WAIT_INCUBATION),
    GOOD(6, WAIT_INCUBATION), GOOD(6, WAIT_INCUBATION), GOOD(5, PROMOTED),
};
/* Incubation reset: integrity failure at tier 6 sends back to 7 with nothing served. */
static const era_row rows_reset[] = {
    GOOD(7, UP_STREAK), GOOD(7, UP_STREAK), GOOD(6, PROMOTED), GOOD(6, UP_STREAK),
    R_(1, 1000000, 1, 0, 0, 3, 7, INCUBATION_RESET, 0),
    GOOD(7, UP_STREAK), GOOD(7, UP_STREAK), GOOD(6, PROMOTED),
    R_(1, 1000000, 0, 1, 0, 3, 7, INCUBATION_RESET, 0),
};
/* Graduated tier 4 (95%): demotion after 14 eras below, streak broken by one good era. */
static const era_row rows_demote[] = {
    R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0), R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0),
    R_(1, 950000, 0, 0, 0, 3, 4, HELD, 0), /* breaks the streak */
    R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0), R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0),
    R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0), R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0),
    R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0), R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0),
    R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0), R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0),
    R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0), R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0),
    R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0), R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0),
    R_(1, 940000, 0, 0, 0, 3, 4, DOWN_STREAK, 0), R_(1, 940000, 0, 0, 0, 3, 5, DEMOTED, 0),
    R_(1, 500000, 0, 0, 0, 3, 5, DOWN_STREAK, GPURENT_TIER_SLASH_UPTIME), /* below 65%: slash */
};
/* Graduated tier 2: security failure demotes at once (to the bottom, incubation again) and slashes. */
static const era_row rows_security[] = {
    GOOD(2, UP_STREAK),
    R_(1, 1000000, 0, 1, 0, 3, 7, SECURITY_DEMOTION, GPURENT_TIER_SLASH_SECURITY),
    GOOD(7, UP_STREAK),
};
/* Same with security_demote_tiers 2: tier 2 -> 4, still graduated. */
static const era_row rows_security2[] = {
    R_(1, 790000, 0, 1, 0, 3, 4, SECURITY_DEMOTION, GPURENT_TIER_SLASH_SECURITY | GPURENT_TIER_SLASH_UPTIME),
    R_(1, 790000, 1, 0, 0, 3, 4, AUDIT_FAILED, 0), /* graduated: integrity failure is a bad era, no reset */
};
/* Unobserved eras break an up streak; failed GPU-report audit counts as a bad era. */
static const era_row rows_gaps[] = {
    GOOD(7, UP_STREAK), GOOD(7, UP_STREAK), R_(0, 0, 0, 0, 0, 3, 7, NO_EVIDENCE, 0),
    GOOD(7, UP_STREAK), GOOD(7, UP_STREAK), R_(1, 1000000, 0, 0, 1, 3, 7, AUDIT_FAILED, 0),
    GOOD(7, UP_STREAK), GOOD(7, UP_STREAK), GOOD(6, PROMOTED), R_(1, 700000, 0, 0, 0, 3, 6, DOWN_STREAK, 0),
};
/* Top tier: qualifying at 99% holds; cannot skip: tier 3 at 100% still needs 23 eras for one step. */
static const era_row rows_top[] = {
    GOOD(1, HELD), R_(1, 985000, 0, 0, 0, 3, 1, DOWN_STREAK, 0), GOOD(1, HELD),
};

/* Tier 7 is the floor: bad eras there keep the provider at 7 (rule bottom),
 * a failed GPU-report audit too (audit failed); tier 7 has no slash
 * threshold, so even a 0 % era is no slash. */
static const era_row rows_bottom[] = {
    R_(1, 700000, 0, 0, 0, 3, 7, BOTTOM, 0), R_(1, 0, 0, 0, 0, 3, 7, BOTTOM, 0),
    R_(1, 1000000, 0, 0, 1, 3, 7, AUDIT_FAILED, 0), GOOD(7, UP_STREAK), R_(1, 700000, 0, 0, 0, 3, 7, BOTTOM, 0),
    GOOD(7, UP_STREAK), GOOD(7, UP_STREAK), GOOD(6, PROMOTED),
};
/* Incubation tier 6 to 7 by uptime: a new provider is demoted after tier 6's
 * eras_down (5) bad eras; the eras it served, bad ones included, still
 * count towards min_incubation_eras (8), so it leaves incubation as soon
 * as it climbs back to 6 and completes tier 6's streak (5). */
static const era_row rows_incubation_down[] = {
    GOOD(7, UP_STREAK), GOOD(7, UP_STREAK), GOOD(6, PROMOTED),
    R_(1, 760000, 0, 0, 0, 3, 6, DOWN_STREAK, 0), R_(1, 760000, 0, 0, 0, 3, 6, DOWN_STREAK, 0),
    R_(1, 760000, 0, 0, 0, 3, 6, DOWN_STREAK, 0), R_(1, 760000, 0, 0, 0, 3, 6, DOWN_STREAK, 0),
    R_(1, 590000, 0, 0, 0, 3, 7, DEMOTED, GPURENT_TIER_SLASH_UPTIME), /* below tier 6's 60 % */
    GOOD(7, UP_STREAK), GOOD(7, UP_STREAK), GOOD(6, PROMOTED), GOOD(6, UP_STREAK), GOOD(6, UP_STREAK),
    GOOD(6, UP_STREAK), GOOD(6, UP_STREAK), GOOD(5, PROMOTED),
};
/* A graduated provider that falls back into tier 6 by uptime is not
 * incubating again: an integrity failure there is a bad era, not a reset,
 * and leaving tier 6 needs no served eras, but it still needs k auditors
 * (counted over the window). Only a security failure (default) sends it
 * through incubation again. */
static const era_row rows_graduated_low[] = {
    R_(1, 860000, 0, 0, 0, 3, 6, DEMOTED, 0),
    R_(1, 1000000, 1, 0, 0, 3, 6, AUDIT_FAILED, 0),
    GOOD(6, UP_STREAK), GOOD(6, UP_STREAK), GOOD(6, UP_STREAK), GOOD(6, UP_STREAK),
    R_(1, 1000000, 0, 0, 0, 2, 6, WAIT_QUORUM, 0), R_(1, 1000000, 0, 0, 0, 3, 5, PROMOTED, 0),
};

static void run_case(const transition_case *c)
{
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.min_incubation_eras = c->min_incubation;
    o.security_demote_tiers = c->security_demote;
    gr_tstate st = c->start;
    for (size_t r = 0; r < c->nrows; r++) {
        const era_row *row = &c->rows[r];
        gr_era_input in = {ERA0 + r, row->observed, row->uptime_ppm, row->integrity_fail, row->security_fail,
                           row->gpu_fail, row->auditors, row->uptime_ppm};
        gr_era_output out;
        gr_tier_step(&o, &st, &in, &out);
        if (st.tier != row->tier_after || out.rule != row->rule || out.slash != row->slash) {
            fail_msg("%s, era %zu: tier %u rule %s slash %u; expected tier %u rule %s slash %u", c->name, r, st.tier,
                     gpurent_tier_rule_name(out.rule), out.slash, row->tier_after, gpurent_tier_rule_name(row->rule),
                     row->slash);
        }
    }
}

static void test_transitions(void **state)
{
    (void)state;
    const gr_tstate fresh = {7, 0, 0, 0, 0, 0, 0, {0}};
    const gr_tstate grad4 = {4, 0, 0, 10, 20, 1, 0, {0}};
    const gr_tstate grad2 = {2, 0, 0, 10, 20, 1, 0, {0}};
    const gr_tstate grad1 = {1, 0, 0, 10, 20, 1, 0, {0}};
    const gr_tstate grad5_last = {5, 0, 6, 10, 20, 1, 0, {0}}; /* six bad eras of tier 5's seven */
#define CASE(n, s, mi, sd, rows) {n, s, mi, sd, rows, sizeof rows / sizeof rows[0]}
    const transition_case cases[] = {
        CASE("incubation", fresh, 8, 0, rows_incubation),
        CASE("quorum not met", fresh, 8, 0, rows_quorum),
        CASE("minimum incubation eras", fresh, 12, 0, rows_min_eras),
        CASE("incubation reset", fresh, 8, 0, rows_reset),
        CASE("demotion and uptime slash", grad4, 8, 0, rows_demote),
        CASE("security slash", grad2, 8, 0, rows_security),
        CASE("security slash, 2 tiers", grad2, 8, 2, rows_security2),
        CASE("gaps and failed GPU audit", fresh, 8, 0, rows_gaps),
        CASE("top tier", grad1, 8, 0, rows_top),
        CASE("bottom tier", fresh, 8, 0, rows_bottom),
        CASE("incubation demotion", fresh, 8, 0, rows_incubation_down),
        CASE("graduated back in tier 6", grad5_last, 8, 0, rows_graduated_low),
    };
#undef CASE
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
    /* Promotion after exactly eras_up qualifying eras, for every tier of the table. */
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    for (uint32_t t = 2; t <= 5; t++) {
        gr_tstate st = {t, 0, 0, 0, 0, 1, 0, {0}};
        gr_era_input in = {ERA0, 1, 1000000, 0, 0, 0, 3, 1000000};
        gr_era_output out;
        for (uint32_t k = 1; k < o.tiers[t - 1].eras_up; k++) {
            gr_tier_step(&o, &st, &in, &out);
            assert_int_equal(st.tier, t);
        }
        gr_tier_step(&o, &st, &in, &out);
        assert_int_equal(st.tier, t - 1); /* one tier only, although the era qualifies for tier 1 */
        assert_int_equal(out.promoted, 1);
    }
    /* Demotion after exactly eras_down eras qualifying for the tier below,
     * for every tier above the bottom; a slash only below the tier's own
     * slash threshold. */
    for (uint32_t t = 1; t < o.tier_count; t++) {
        gr_tstate st = {t, 0, 0, 0, 0, 1, 0, {0}};
        uint32_t up = o.tiers[t].uptime_min_ppm; /* tier t + 1's threshold */
        gr_era_input in = {ERA0, 1, up, 0, 0, 0, 3, up};
        gr_era_output out;
        uint32_t slash = o.tiers[t - 1].slash_below_ppm && up < o.tiers[t - 1].slash_below_ppm
                             ? (uint32_t)GPURENT_TIER_SLASH_UPTIME : 0u;
        for (uint32_t k = 1; k < o.tiers[t - 1].eras_down; k++) {
            gr_tier_step(&o, &st, &in, &out);
            assert_int_equal(st.tier, t);
            assert_int_equal(out.rule, GPURENT_TIER_RULE_DOWN_STREAK);
            assert_int_equal(out.slash, slash);
        }
        gr_tier_step(&o, &st, &in, &out);
        assert_int_equal(st.tier, t + 1);
        assert_int_equal(out.demoted, 1);
        assert_int_equal(out.rule, GPURENT_TIER_RULE_DEMOTED);
        assert_int_equal(st.graduated, 1);
    }
}

/* ---------- the engine over long histories ---------- */

/* A perfect provider audited by three auditors climbs by the table's schedule. */
static void test_history_climb(void **state)
{
    (void)state;
    gpurent_tier_engine *e = engine_default();
    gpurent_tier_era_summary s;
    uint32_t reached[8] = {0};
    uint64_t eras = under_valgrind() ? 40 : 100;
    for (uint64_t k = 0; k < eras; k++) {
        uint64_t era = ERA0 + k;
        feed_era(e, 0, era, 24, 6);
        if (k % 5 == 0) full_audits(e, 0, era, 3);
        evaluate(e, era, &s);
        gpurent_tier_explanation x = explain(e, 0);
        if (!reached[x.tier]) reached[x.tier] = (uint32_t)k + 1;
    }
    /* Cumulative eras: 3 (to 6), +5 = 8 (to 5), +11 = 19, +17 = 36, +23 = 59, +30 = 89. */
    assert_int_equal(reached[6], 3);
    assert_int_equal(reached[5], 8);
    assert_int_equal(reached[4], 19);
    assert_int_equal(reached[3], 36);
    if (!under_valgrind()) {
        assert_int_equal(reached[2], 59);
        assert_int_equal(reached[1], 89);
    }
    gpurent_tier_explanation x = explain(e, 0);
    assert_int_equal(x.incubating, 0);
    assert_true(x.score_ppm > 0 && x.score_ppm <= x.mean_ppm);
    gpurent_tier_engine_free(e);
}

/* Incubation without enough auditors: stuck at tier 6 (quorum), then a
 * failed integrity audit resets to 7; after graduating, a security failure
 * is a slash event. Through the public API. */
static void test_history_quorum_reset_slash(void **state)
{
    (void)state;
    gpurent_tier_engine *e = engine_default();
    gpurent_tier_era_summary s;
    uint64_t era = ERA0;
    for (int k = 0; k < 12; k++, era++) {
        feed_era(e, 1, era, 24, 6);
        full_audits(e, 1, era, 2); /* k = 3 needs three distinct auditors */
        evaluate(e, era, &s);
    }
    gpurent_tier_explanation x = explain(e, 1);
    assert_int_equal(x.tier, 6);
    assert_int_equal(x.rule, GPURENT_TIER_RULE_WAIT_QUORUM);
    assert_int_equal(x.need_auditors, 1);
    assert_int_equal(x.auditors, 2);
    uint8_t k1[32];
    pkey(k1, 1);
    gpurent_tier_cert cert;
    assert_int_equal(gpurent_tier_certificate(e, k1, &cert), GPURENT_E_QUORUM_NOT_MET);
    /* An integrity failure from one auditor alone changes nothing (it is
     * kept and shown as a lone report); two more within the window, from
     * distinct auditors, make k = 3: back to the start. */
    feed_era(e, 1, era, 24, 6);
    audit(e, 1, 2, era, P, F, P);
    evaluate(e, era++, &s);
    assert_int_equal(s.resets, 0);
    assert_int_equal(explain(e, 1).tier, 6);
    feed_era(e, 1, era, 24, 6);
    audit(e, 1, 0, era, P, F, P);
    audit(e, 1, 1, era, P, F, P);
    evaluate(e, era++, &s);
    assert_int_equal(s.resets, 1);
    x = explain(e, 1);
    assert_int_equal(x.tier, 7);
    assert_int_equal(x.rule, GPURENT_TIER_RULE_INCUBATION_RESET);
    assert_int_equal(x.incubation_eras, 0);
    /* Audits before the reset do not count towards leaving incubation. */
    assert_int_equal(x.auditors, 0);
    for (int k = 0; k < 8; k++, era++) {
        feed_era(e, 1, era, 24, 6);
        full_audits(e, 1, era, 3);
        evaluate(e, era, &s);
    }
    x = explain(e, 1);
    assert_int_equal(x.tier, 5);
    assert_int_equal(x.incubating, 0);
    assert_int_equal(gpurent_tier_certificate(e, k1, &cert), GPURENT_OK);
    assert_int_equal(cert.tier, 5);
    assert_int_equal(cert.auditor_count, 3);
    /* Security failure after incubation, from k distinct auditors: slash
     * event, back to the bottom. */
    feed_era(e, 1, era, 24, 6);
    for (uint32_t j = 0; j < 3; j++) audit(e, 1, j, era, P, P, F);
    evaluate(e, era, &s);
    assert_int_equal(s.slashes, 1);
    assert_int_equal(gpurent_tier_slash_count(e), 1);
    gpurent_tier_slash sl;
    assert_int_equal(gpurent_tier_slash_get(e, 0, &sl), GPURENT_OK);
    assert_memory_equal(sl.provider_key, k1, 32);
    assert_int_equal(sl.reasons, GPURENT_TIER_SLASH_SECURITY);
    assert_int_equal(sl.tier_before, 5);
    assert_int_equal(sl.tier_after, 7);
    assert_int_equal(gpurent_tier_slash_get(e, 1, &sl), GPURENT_E_NOT_FOUND);
    x = explain(e, 1);
    assert_int_equal(x.rule, GPURENT_TIER_RULE_SECURITY_DEMOTION);
    gpurent_tier_engine_free(e);
}

/* Score ranking: three perfect days never outrank three hundred near-perfect ones. */
static void test_score_confidence(void **state)
{
    (void)state;
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = ERA0;
    o.weight_uptime_ppm = 1000000; /* compare the uptime bound alone */
    o.weight_audit_ppm = o.weight_jobs_ppm = o.weight_stake_ppm = o.weight_tenure_ppm = 0;
    gpurent_tier_engine *e = engine_with(&o);
    uint32_t days = under_valgrind() ? 40 : 300;
    for (uint32_t k = 0; k < days; k++) {
        uint64_t era = ERA0 + k;
        feed_era(e, 0, era, k % 4 == 0 ? 23 : 24, 6); /* ~99% */
        if (k >= days - 3) feed_era(e, 1, era, 24, 6); /* perfect, 3 days */
        evaluate(e, era, NULL);
    }
    gpurent_tier_explanation a = explain(e, 0), b = explain(e, 1);
    assert_true(a.score_ppm > b.score_ppm);
    assert_int_equal(b.era_uptime_ppm, 1000000);  /* b's raw pass rate is the higher one */
    assert_true(b.components[GPURENT_TIER_COMP_UPTIME].evidence_q16 < a.components[GPURENT_TIER_COMP_UPTIME].evidence_q16);
    assert_true(a.confidence_ppm > b.confidence_ppm);
    gpurent_tier_engine_free(e);
    /* A new provider with no evidence starts from the stated prior: 3 of 5 = 60%. */
    e = engine_with(&o);
    uint8_t k[32];
    pkey(k, 9);
    gpurent_tier_event ev = {{0}, tsec(ERA0, 5), GPURENT_TIER_EVENT_STAKE, 0, 10};
    memcpy(ev.provider_key, k, 32);
    assert_int_equal(gpurent_tier_record(e, &ev, 1), GPURENT_OK);
    evaluate(e, ERA0, NULL);
    gpurent_tier_explanation x = explain(e, 9);
    assert_int_equal(x.components[GPURENT_TIER_COMP_UPTIME].mean_ppm, 600000);
    assert_int_equal(x.rule, GPURENT_TIER_RULE_NO_EVIDENCE);
    gpurent_tier_engine_free(e);
}

/* `sent` challenges of one kind in an era, the first `fail` of them failed. */
static void feed_kind(gpurent_tier_engine *e, uint32_t i, uint64_t era, uint32_t kind, uint32_t sent, uint32_t fail)
{
    gpurent_tier_event *ev = calloc(sent, sizeof *ev);
    assert_non_null(ev);
    for (uint32_t c = 0; c < sent; c++) {
        pkey(ev[c].provider_key, i);
        ev[c].time_s = tsec(era, (uint64_t)c * 86000 / sent + 7);
        ev[c].kind = kind;
        ev[c].value = c >= fail;
    }
    assert_int_equal(gpurent_tier_record(e, ev, sent), GPURENT_OK);
    free(ev);
}

/* Three perfect days never outrank three hundred near-perfect (99 %) ones,
 * whatever either side's challenge rate, under either bound: an era weighs
 * the same however many challenges it saw. */
static void test_score_days_not_rate(void **state)
{
    (void)state;
    static const uint32_t old_rate[] = {6, 24, 240}, new_rate[] = {1, 24, 1000};
    enum { NOLD = 3, NNEW = 3 };
    uint32_t days = under_valgrind() ? 40 : 300;
    for (int bound = 0; bound < 2; bound++) {
        gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
        o.first_era = ERA0;
        o.bound = bound ? GPURENT_TIER_BOUND_BETA : GPURENT_TIER_BOUND_WILSON;
        o.weight_uptime_ppm = 1000000; /* the uptime bound alone */
        o.weight_audit_ppm = o.weight_jobs_ppm = o.weight_stake_ppm = o.weight_tenure_ppm = 0;
        gpurent_tier_engine *e = engine_with(&o);
        for (uint32_t k = 0; k < days; k++) {
            uint64_t era = ERA0 + k;
            for (uint32_t j = 0; j < NOLD; j++) {
                /* 1 % of challenges fail, spread over the days (the last
                 * days are not the failing ones: a provider that failed
                 * one of its six challenges today had an 83 % day, and may
                 * rank below a flawless newcomer until it recovers) */
                uint32_t r = old_rate[j], c = r / 4 ? r / 4 : 1, ph = 50;
                feed_kind(e, j, era, GPURENT_TIER_EVENT_GPU_CHALLENGE, r, (k + 1 + ph) * r / 100 - (k + ph) * r / 100);
                feed_kind(e, j, era, GPURENT_TIER_EVENT_CPU_CHALLENGE, c, (k + 1 + ph) * c / 100 - (k + ph) * c / 100);
            }
            for (uint32_t j = 0; k >= days - 3 && j < NNEW; j++) {
                uint32_t r = new_rate[j];
                feed_kind(e, 10 + j, era, GPURENT_TIER_EVENT_GPU_CHALLENGE, r, 0);
                feed_kind(e, 10 + j, era, GPURENT_TIER_EVENT_CPU_CHALLENGE, r / 4 ? r / 4 : 1, 0);
            }
            evaluate(e, era, NULL);
        }
        for (uint32_t a = 0; a < NOLD; a++) {
            gpurent_tier_explanation x = explain(e, a);
            uint32_t xm = x.components[GPURENT_TIER_COMP_UPTIME].mean_ppm;
            assert_true(xm >= 970000 && xm < 1000000); /* near perfect, prior included */
            for (uint32_t b = 0; b < NNEW; b++) {
                gpurent_tier_explanation y = explain(e, 10 + b);
                assert_int_equal(y.era_uptime_ppm, 1000000); /* flawless: its raw rate is the higher */
                assert_true(x.score_ppm > y.score_ppm);
            }
        }
        /* The same rate on both sides: the longer record also ranks first. */
        gpurent_tier_explanation x = explain(e, 1), y = explain(e, 11);
        assert_true(x.confidence_ppm > y.confidence_ppm);
        gpurent_tier_engine_free(e);
    }
}

/* Eras with thousands of challenges (up to the 65 535 a count holds): the
 * era still weighs 24 observations split by its ratio, never more passes
 * than the era's weight (a wrapped failure count would sink the score). */
static void test_score_many_challenges(void **state)
{
    (void)state;
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = ERA0;
    o.weight_uptime_ppm = 1000000;
    o.weight_audit_ppm = o.weight_jobs_ppm = o.weight_stake_ppm = o.weight_tenure_ppm = 0;
    gpurent_tier_engine *e = engine_with(&o);
    const uint32_t sent[] = {1000, 3000, 60000, 65535};
    enum { N = sizeof sent / sizeof sent[0] };
    uint32_t eras = under_valgrind() ? 2 : 3;
    for (uint32_t k = 0; k < eras; k++) {
        for (uint32_t i = 0; i < N; i++) {
            feed_kind(e, i, ERA0 + k, GPURENT_TIER_EVENT_GPU_CHALLENGE, sent[i], 1);      /* one failure */
            feed_kind(e, 10 + i, ERA0 + k, GPURENT_TIER_EVENT_GPU_CHALLENGE, sent[i], 0); /* none */
            feed_kind(e, 20 + i, ERA0 + k, GPURENT_TIER_EVENT_GPU_CHALLENGE, sent[i], sent[i] / 2);
        }
        evaluate(e, ERA0 + k, NULL);
    }
    /* The same eras with 24 challenges: the reference weights. */
    gpurent_tier_engine *r = engine_with(&o);
    for (uint32_t k = 0; k < eras; k++) {
        feed_kind(r, 0, ERA0 + k, GPURENT_TIER_EVENT_GPU_CHALLENGE, 24, 0);
        feed_kind(r, 1, ERA0 + k, GPURENT_TIER_EVENT_GPU_CHALLENGE, 24, 12);
        evaluate(r, ERA0 + k, NULL);
    }
    gpurent_tier_explanation perfect = explain(r, 0), half = explain(r, 1);
    for (uint32_t i = 0; i < N; i++) {
        gpurent_tier_explanation one = explain(e, i), none = explain(e, 10 + i), mid = explain(e, 20 + i);
        const gpurent_tier_component *c1 = &one.components[GPURENT_TIER_COMP_UPTIME],
                                     *c0 = &none.components[GPURENT_TIER_COMP_UPTIME],
                                     *ch = &mid.components[GPURENT_TIER_COMP_UPTIME];
        /* flawless eras weigh exactly as 24 flawless challenges */
        assert_int_equal(c0->mean_ppm, perfect.components[GPURENT_TIER_COMP_UPTIME].mean_ppm);
        assert_int_equal(c0->evidence_q16, perfect.components[GPURENT_TIER_COMP_UPTIME].evidence_q16);
        /* one failure in thousands: just below flawless, same evidence */
        assert_true(c1->mean_ppm < c0->mean_ppm && c1->mean_ppm + 1000 > c0->mean_ppm);
        assert_int_equal(c1->evidence_q16, c0->evidence_q16);
        /* half failed: as 12 of 24 (65 535 sent, 32 767 failed: 8 ppm above half) */
        uint32_t hm = half.components[GPURENT_TIER_COMP_UPTIME].mean_ppm;
        if (sent[i] % 2 == 0) assert_int_equal(ch->mean_ppm, hm);
        else assert_true(ch->mean_ppm > hm && ch->mean_ppm <= hm + 8);
    }
    gpurent_tier_engine_free(r);
    gpurent_tier_engine_free(e);
}

/* ---------- order independence and certificates ---------- */

typedef struct item {
    int is_report;
    gpurent_tier_event ev;
    gpurent_audit_report rep;
} item;

/* One era's evidence for `np` providers: challenges, jobs, stake, audits. */
static size_t build_era(item *it, uint32_t np, uint64_t era, uint32_t seed)
{
    size_t n = 0;
    for (uint32_t i = 0; i < np; i++) {
        gpurent_tier_event ev[30];
        uint32_t g = 24 - (i * 7 + seed + (uint32_t)era) % 5, c = 6 - (i + seed) % 2;
        size_t m = era_events(ev, i, era, g, c);
        for (size_t k = 0; k < m; k++, n++) {
            memset(&it[n], 0, sizeof it[n]);
            it[n].ev = ev[k];
        }
        for (uint32_t j = 0; j < 2; j++, n++) { /* jobs and stake */
            memset(&it[n], 0, sizeof it[n]);
            pkey(it[n].ev.provider_key, i);
            it[n].ev.time_s = tsec(era, 50000 + j);
            it[n].ev.kind = j ? GPURENT_TIER_EVENT_STAKE : GPURENT_TIER_EVENT_JOB;
            it[n].ev.value = j ? 1000000ull * (i + 1 + era % 3) : 1 + (i + era) % 3;
        }
        for (uint32_t j = 0; j < 4; j++) { /* four auditors, one sometimes failing integrity */
            if ((i + j + era) % 3 == 0) continue;
            memset(&it[n], 0, sizeof it[n]);
            it[n].is_report = 1;
            uint32_t in = (i == 3 && j == 1 && era % 4 == 0) ? F : P;
            make_audit(&it[n].rep, i, j, era, P, in, P);
            assert_int_equal(gpurent_audit_report_add_challenge(&it[n].rep, tsec(era, 30000 + j), 1, (i + j) % 4 != 0), 0);
            n++;
        }
    }
    return n;
}

static void feed_items(gpurent_tier_engine *e, item *it, size_t n, int shuffle)
{
    if (shuffle)
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = rnd() % (i + 1);
            item t = it[i];
            it[i] = it[j];
            it[j] = t;
        }
    /* Events go in batches of random size (up to 512: past the 128-event
     * lookup groups and the 256-event stack arrays of gpurent_tier_record);
     * reports one by one. */
    size_t i = 0;
    while (i < n) {
        if (it[i].is_report) {
            assert_int_equal(gpurent_tier_record_report(e, &it[i].rep), GPURENT_OK);
            i++;
            continue;
        }
        static gpurent_tier_event batch[512];
        size_t m = 0, want = shuffle ? 1 + rnd() % 512 : 64;
        while (i < n && !it[i].is_report && m < want) batch[m++] = it[i++].ev;
        assert_int_equal(gpurent_tier_record(e, batch, m), GPURENT_OK);
    }
}

static void test_order_independence(void **state)
{
    (void)state;
    const uint32_t np = 12, eras = under_valgrind() ? 6 : 20, engines = 3;
    item *it = calloc(np * 40, sizeof *it);
    assert_non_null(it);
    gpurent_tier_engine *e[3];
    for (uint32_t k = 0; k < engines; k++) e[k] = engine_default();
    for (uint32_t x = 0; x < eras; x++) {
        uint64_t era = ERA0 + x;
        for (uint32_t k = 0; k < engines; k++) {
            /* Engine 2 records each era's evidence one era early (the next
             * era is open), shuffled; engine 1 shuffled on time; engine 0 in order. */
            for (uint64_t fx = era; fx <= era + (k == 2); fx++) {
                if (k == 2 && x > 0 && fx == era) continue; /* already fed early */
                size_t n = build_era(it, np, fx, 0);
                feed_items(e[k], it, n, k != 0);
                for (size_t i = 0; i < n; i++) gpurent_audit_report_clear(&it[i].rep);
            }
            gpurent_tier_era_summary s;
            evaluate(e[k], era, &s);
        }
        for (uint32_t i = 0; i < np; i++) {
            gpurent_tier_explanation x0 = explain(e[0], i);
            for (uint32_t k = 1; k < engines; k++) {
                gpurent_tier_explanation xk = explain(e[k], i);
                assert_memory_equal(&x0, &xk, sizeof x0);
            }
        }
        for (uint32_t k = 1; k < engines; k++) {
            assert_int_equal(gpurent_tier_slash_count(e[0]), gpurent_tier_slash_count(e[k]));
            for (uint32_t j = 0; j < gpurent_tier_slash_count(e[0]); j++) {
                gpurent_tier_slash a, b;
                assert_int_equal(gpurent_tier_slash_get(e[0], j, &a), GPURENT_OK);
                assert_int_equal(gpurent_tier_slash_get(e[k], j, &b), GPURENT_OK);
                assert_memory_equal(&a, &b, sizeof a);
            }
        }
    }
    /* Byte-identical certificates from the three engines (three auditors). */
    uint32_t certs = 0;
    for (uint32_t i = 0; i < np; i++) {
        uint8_t key[32];
        pkey(key, i);
        gpurent_tier_cert c[3];
        gpurent_buf b[3] = {{0}};
        int rc0 = gpurent_tier_certificate(e[0], key, &c[0]);
        for (uint32_t k = 1; k < engines; k++) assert_int_equal(gpurent_tier_certificate(e[k], key, &c[k]), rc0);
        if (rc0) continue;
        certs++;
        for (uint32_t k = 0; k < engines; k++) assert_int_equal(gpurent_tier_cert_encode(&c[k], &b[k]), GPURENT_OK);
        for (uint32_t k = 1; k < engines; k++) {
            assert_int_equal(b[k].len, b[0].len);
            assert_memory_equal(b[k].data, b[0].data, b[0].len);
        }
        for (uint32_t k = 0; k < engines; k++) gpurent_buf_free(&b[k]);
    }
    assert_true(certs >= np / 2);
    /* Different evidence, different digest: one more challenge for provider 0 in a fresh pair. */
    uint8_t key[32];
    pkey(key, 0);
    gpurent_tier_cert before, after;
    assert_int_equal(gpurent_tier_certificate(e[0], key, &before), GPURENT_OK);
    for (uint32_t k = 0; k < engines; k++) gpurent_tier_engine_free(e[k]);
    gpurent_tier_engine *a = engine_default(), *b = engine_default();
    for (uint32_t x = 0; x < 3; x++) {
        uint64_t era = ERA0 + x;
        for (int k = 0; k < 2; k++) {
            size_t n = build_era(it, 2, era, 0);
            feed_items(k ? b : a, it, n, k);
            for (size_t i = 0; i < n; i++) gpurent_audit_report_clear(&it[i].rep);
        }
        if (x == 2) {
            gpurent_tier_event ev = {{0}, tsec(era, 7), GPURENT_TIER_EVENT_JOB, 0, GPURENT_JOB_FAILED_USER};
            memcpy(ev.provider_key, key, 32);
            assert_int_equal(gpurent_tier_record(b, &ev, 1), GPURENT_OK);
        }
        evaluate(a, era, NULL);
        evaluate(b, era, NULL);
    }
    gpurent_tier_explanation xa = explain(a, 0), xb = explain(b, 0);
    assert_int_equal(xa.score_ppm, xb.score_ppm); /* a job failed by the user changes no score */
    int ra = gpurent_tier_certificate(a, key, &before), rb = gpurent_tier_certificate(b, key, &after);
    assert_int_equal(ra, GPURENT_OK);
    assert_int_equal(rb, GPURENT_OK);
    assert_memory_not_equal(before.evidence_digest, after.evidence_digest, 32);
    gpurent_tier_engine_free(a);
    gpurent_tier_engine_free(b);
    free(it);
}

/* ---------- rejection, atomicity, cancellation ---------- */

/* An event's era, at each edge of the two open eras: recording finds the
 * era by comparing times, so the first and last second of each era must
 * land where the division (gpurent_tier_era_of) puts them. */
static void test_record_era_edges(void **state)
{
    (void)state;
    gpurent_tier_engine *e = engine_default();
    const uint64_t t[4] = {tsec(ERA0, 0), tsec(ERA0 + 1, 0) - 1, tsec(ERA0 + 1, 0), tsec(ERA0 + 2, 0) - 1};
    gpurent_tier_event ev[4];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 4; i++) {
        pkey(ev[i].provider_key, 0);
        ev[i].time_s = t[i];
        ev[i].kind = GPURENT_TIER_EVENT_GPU_CHALLENGE;
        ev[i].value = i < 2; /* passed in ERA0, failed in ERA0 + 1 */
        assert_int_equal(gpurent_tier_era_of(e, t[i]), ERA0 + (i >= 2));
    }
    assert_int_equal(gpurent_tier_record(e, ev, 4), GPURENT_OK);
    gpurent_tier_event out = ev[0];
    out.time_s = tsec(ERA0 + 2, 0); /* one second past the open eras */
    assert_int_equal(gpurent_tier_record(e, &out, 1), GPURENT_E_EVIDENCE_REJECTED);
    assert_non_null(strstr(gpurent_last_error_message(), "not open"));
    out.time_s = tsec(ERA0, 0) - 1; /* one second before */
    assert_int_equal(gpurent_tier_record(e, &out, 1), GPURENT_E_EVIDENCE_REJECTED);
    assert_non_null(strstr(gpurent_last_error_message(), "closed"));
    evaluate(e, ERA0, NULL);
    assert_int_equal(explain(e, 0).era_uptime_ppm, 1000000);
    evaluate(e, ERA0 + 1, NULL);
    assert_int_equal(explain(e, 0).era_uptime_ppm, 0);
    gpurent_tier_engine_free(e);
}

/* Large shuffled batches (the grouped lookups, prefetching and heap arrays
 * of gpurent_tier_record) leave exactly the state that small in-order
 * batches do, for known and new providers alike. */
static void test_record_big_batches(void **state)
{
    (void)state;
    const uint32_t np = 400;
    const size_t total = (size_t)np * 2 * 30;
    gpurent_tier_event *ev = calloc(total, sizeof *ev);
    assert_non_null(ev);
    size_t n = 0;
    for (uint64_t x = 0; x < 2; x++) /* both open eras */
        for (uint32_t i = 0; i < np; i++) n += era_events(ev + n, i, ERA0 + x, 24 - i % 7, 6 - i % 3);
    assert_int_equal(n, total);
    gpurent_tier_engine *e[3];
    for (int k = 0; k < 3; k++) e[k] = engine_default();
    /* Engine 0: in order, 64 at a time. Engine 1: everything shuffled in
     * one call. Engine 2: shuffled, in batches of 1..1500. */
    for (size_t i = 0; i < n; i += 64) assert_int_equal(gpurent_tier_record(e[0], ev + i, n - i < 64 ? n - i : 64), 0);
    /* Every other provider also failed an extra era of challenges; engine 1
     * records these first, so its big batch meets known and new providers,
     * and the others record them too, so all three hold the same evidence. */
    for (int k = 0; k < 3; k++)
        for (uint32_t i = 0; i < np; i += 2) feed_era(e[k], i, ERA0 + 1, 0, 0);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rnd() % (i + 1);
        gpurent_tier_event t = ev[i];
        ev[i] = ev[j];
        ev[j] = t;
    }
    assert_int_equal(gpurent_tier_record(e[1], ev, n), GPURENT_OK);
    for (size_t i = 0; i < n;) {
        size_t m = 1 + rnd() % 1500;
        if (m > n - i) m = n - i;
        assert_int_equal(gpurent_tier_record(e[2], ev + i, m), GPURENT_OK);
        i += m;
    }
    for (uint64_t x = 0; x < 2; x++) {
        gpurent_tier_era_summary s[3];
        for (int k = 0; k < 3; k++) evaluate(e[k], ERA0 + x, &s[k]);
        for (int k = 1; k < 3; k++) assert_memory_equal(&s[0], &s[k], sizeof s[0]);
        for (uint32_t i = 0; i < np; i++) {
            gpurent_tier_explanation x0 = explain(e[0], i);
            for (int k = 1; k < 3; k++) {
                gpurent_tier_explanation xk = explain(e[k], i);
                assert_memory_equal(&x0, &xk, sizeof x0);
            }
        }
    }
    assert_int_equal(gpurent_tier_provider_count(e[1]), np);
    for (int k = 0; k < 3; k++) gpurent_tier_engine_free(e[k]);
    free(ev);
}

static void test_rejects_change_nothing(void **state)
{
    (void)state;
    gpurent_tier_engine *e = engine_default();
    feed_era(e, 0, ERA0, 24, 6);
    gpurent_tier_event ev[3];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 3; i++) {
        pkey(ev[i].provider_key, 10 + i);
        ev[i].time_s = tsec(ERA0, 100);
        ev[i].kind = GPURENT_TIER_EVENT_GPU_CHALLENGE;
        ev[i].value = 1;
    }
    ev[2].time_s = tsec(ERA0 + 2, 0); /* not open yet */
    assert_int_equal(gpurent_tier_record(e, ev, 3), GPURENT_E_EVIDENCE_REJECTED);
    assert_non_null(strstr(gpurent_last_error_message(), "events[2]"));
    assert_int_equal(gpurent_tier_provider_count(e), 1);
    ev[2].time_s = tsec(ERA0, 0);
    ev[1].kind = 99;
    assert_int_equal(gpurent_tier_record(e, ev, 3), GPURENT_E_INVALID_ARG);
    ev[1].kind = GPURENT_TIER_EVENT_JOB;
    ev[1].value = 7;
    assert_int_equal(gpurent_tier_record(e, ev, 3), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_tier_provider_count(e), 1);
    evaluate(e, ERA0, NULL);
    /* The evaluated era is closed: a late report is refused whole. */
    gpurent_audit_report r;
    make_audit(&r, 0, 1, ERA0 + 1, P, P, P);
    assert_int_equal(gpurent_audit_report_add_challenge(&r, tsec(ERA0, 5), 1, 0), 0);
    gpurent_tier_explanation x0 = explain(e, 0);
    assert_int_equal(gpurent_tier_record_report(e, &r), GPURENT_E_EVIDENCE_REJECTED);
    assert_non_null(strstr(gpurent_last_error_message(), "closed"));
    evaluate(e, ERA0 + 1, NULL);
    gpurent_tier_explanation x1 = explain(e, 0);
    assert_int_equal(x1.auditors, x0.auditors);
    assert_int_equal(x1.era_observed, 0);
    gpurent_audit_report_clear(&r);
    assert_int_equal(gpurent_tier_evaluate(e, ERA0 + 5, NULL, NULL), GPURENT_E_INVALID_ARG);
    uint8_t unknown[32];
    pkey(unknown, 999);
    gpurent_tier_cert c;
    assert_int_equal(gpurent_tier_certificate(e, unknown, &c), GPURENT_E_UNKNOWN_PROVIDER);
    assert_int_equal(gpurent_tier_explain(e, unknown, &x1), GPURENT_E_UNKNOWN_PROVIDER);
    gpurent_tier_engine_free(e);
    /* max_providers */
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = ERA0;
    o.max_providers = 2;
    e = engine_with(&o);
    ev[1].kind = GPURENT_TIER_EVENT_GPU_CHALLENGE;
    ev[1].value = 1;
    assert_int_equal(gpurent_tier_record(e, ev, 3), GPURENT_E_LIMIT);
    assert_int_equal(gpurent_tier_provider_count(e), 0);
    assert_int_equal(gpurent_tier_record(e, ev, 2), GPURENT_OK);
    memcpy(ev[2].provider_key, ev[0].provider_key, 32); /* a known key: no new provider */
    assert_int_equal(gpurent_tier_record(e, ev, 3), GPURENT_OK);
    gpurent_tier_engine_free(e);
}

static void test_cancel(void **state)
{
    (void)state;
    gpurent_tier_engine *a = engine_default(), *b = engine_default();
    for (uint32_t i = 0; i < 3000; i++) {
        feed_era(a, i, ERA0, 24, 6);
        feed_era(b, i, ERA0, 24, 6);
    }
    gpurent_cancel *c;
    assert_int_equal(gpurent_cancel_new(&c), GPURENT_OK);
    gpurent_cancel_request(c);
    assert_int_equal(gpurent_tier_evaluate(a, ERA0, c, NULL), GPURENT_E_CANCELLED);
    assert_int_equal(gpurent_tier_next_era(a), ERA0);
    gpurent_tier_explanation x = explain(a, 5);
    assert_int_equal(x.rule, GPURENT_TIER_RULE_NOT_EVALUATED);
    gpurent_cancel_reset(c);
    gpurent_tier_era_summary sa, sb;
    assert_int_equal(gpurent_tier_evaluate(a, ERA0, c, &sa), GPURENT_OK);
    evaluate(b, ERA0, &sb);
    assert_memory_equal(&sa, &sb, sizeof sa);
    assert_int_equal(sa.evaluated, 3000);
    assert_int_equal(sa.tier_counts[6], 3000);
    gpurent_cancel_free(c);
    gpurent_tier_engine_free(a);
    gpurent_tier_engine_free(b);
}

static void test_explain_text(void **state)
{
    (void)state;
    gpurent_tier_engine *e = engine_default();
    for (uint64_t k = 0; k < 5; k++) {
        feed_era(e, 0, ERA0 + k, 24, 6);
        full_audits(e, 0, ERA0 + k, 2);
        evaluate(e, ERA0 + k, NULL);
    }
    gpurent_tier_explanation x = explain(e, 0);
    assert_int_equal(x.tier, 6);
    assert_int_equal(x.next_tier, 5);
    assert_int_equal(x.need_uptime_ppm, 900000);
    assert_int_equal(x.need_eras, 3);             /* 2 of 5 served at tier 6 */
    assert_int_equal(x.need_incubation_eras, 3);  /* 5 of 8 */
    assert_int_equal(x.need_auditors, 1);
    uint32_t sum = 0;
    for (int c = 0; c < GPURENT_TIER_COMPONENTS; c++) sum += x.components[c].contribution_ppm;
    assert_int_equal(sum, x.score_ppm);
    gpurent_buf b = {0};
    assert_int_equal(gpurent_tier_explain_text(&x, &b), GPURENT_OK);
    char *txt = calloc(1, b.len + 1);
    memcpy(txt, b.data, b.len);
    assert_non_null(strstr(txt, "tier 6"));
    assert_non_null(strstr(txt, "up streak"));
    assert_non_null(strstr(txt, "to reach tier 5"));
    assert_non_null(strstr(txt, "1 more auditors"));
    free(txt);
    gpurent_buf_free(&b);
    assert_string_equal(gpurent_tier_rule_name(999), "unknown");
    gpurent_tier_engine_free(e);
}

/* ---------- signed evidence and signed certificates ---------- */

#define NOW_S(era) tsec(era, 50000)
#define SKEW 60u

/* Auditor keys from fixed seeds; seed j+1 repeated. */
static gpurent_key *seed_key(uint8_t j)
{
    uint8_t seed[GPURENT_SEED_BYTES];
    memset(seed, j + 1, sizeof seed);
    gpurent_key *k = NULL;
    assert_int_equal(gpurent_key_from_seed(&k, seed), GPURENT_OK);
    return k;
}

static void pk_of(const gpurent_key *k, uint8_t pk[32])
{
    assert_int_equal(gpurent_key_public(k, pk), GPURENT_OK);
}

/* The keys of the signed-evidence tests: 0..2 auditors, 3 a provider (wrong
 * role), 4 an auditor revoked, 5 unknown to the store. */
enum { SK_AUDITORS = 3, SK_PROVIDER = 3, SK_REVOKED = 4, SK_UNKNOWN = 5, SK_COUNT = 6 };

static gpurent_trust *trust_for(gpurent_key *const *k)
{
    gpurent_trust *t = NULL;
    assert_int_equal(gpurent_trust_new(&t, NULL), GPURENT_OK);
    uint8_t pk[32];
    for (uint8_t j = 0; j < SK_AUDITORS; j++) {
        pk_of(k[j], pk);
        assert_int_equal(gpurent_trust_add(t, pk, GPURENT_ROLE_AUDITOR, 0, 0), GPURENT_OK);
    }
    pk_of(k[SK_PROVIDER], pk);
    assert_int_equal(gpurent_trust_add(t, pk, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
    pk_of(k[SK_REVOKED], pk);
    assert_int_equal(gpurent_trust_add(t, pk, GPURENT_ROLE_AUDITOR, 0, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_revoke(t, pk), GPURENT_OK);
    return t;
}

/* Auditor `k`'s report on provider i for one era: three passed checks and
 * gpu_ok of 24 hourly GPU challenges. */
static void signed_report(const gpurent_key *k, uint32_t i, uint64_t era, uint32_t gpu_ok, uint64_t issued,
                          uint64_t expires, gpurent_buf *out)
{
    gpurent_audit_report r;
    make_audit(&r, i, 0, era, P, P, P);
    pk_of(k, r.auditor_key);
    for (uint32_t c = 0; c < 24; c++)
        assert_int_equal(gpurent_audit_report_add_challenge(&r, tsec(era, c * 1500 + 11), GPURENT_CHALLENGE_GPU,
                                                            c < gpu_ok),
                         GPURENT_OK);
    gpurent_buf p = {0};
    assert_int_equal(gpurent_audit_report_encode(&r, &p), GPURENT_OK);
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_AUDIT_REPORT;
    h.issued_at = issued;
    h.expires_at = expires;
    h.subject_len = 32;
    memcpy(h.subject, r.provider_key, 32);
    assert_int_equal(gpurent_envelope_sign(k, &h, p.data, p.len, out), GPURENT_OK);
    gpurent_buf_free(&p);
    gpurent_audit_report_clear(&r);
}

static void signed_now(const gpurent_key *k, uint32_t i, uint64_t era, gpurent_buf *out)
{
    signed_report(k, i, era, 23, NOW_S(ERA0) - 100, NOW_S(ERA0) + 30 * DAY, out);
}

/* Evaluate `era` in both engines and require identical results for providers 0..np-1. */
static void assert_same_engines(gpurent_tier_engine *a, gpurent_tier_engine *b, uint64_t era, uint32_t np)
{
    assert_int_equal(gpurent_tier_provider_count(a), gpurent_tier_provider_count(b));
    evaluate(a, era, NULL);
    evaluate(b, era, NULL);
    for (uint32_t i = 0; i < np; i++) {
        uint8_t key[32];
        pkey(key, i);
        gpurent_tier_explanation xa, xb;
        int ra = gpurent_tier_explain(a, key, &xa), rb = gpurent_tier_explain(b, key, &xb);
        assert_int_equal(ra, rb);
        if (!ra) assert_memory_equal(&xa, &xb, sizeof xa);
    }
}

/* A refused envelope: the status, a detail, and no new provider. */
static void refused(gpurent_tier_engine *e, gpurent_trust *t, const gpurent_buf *env, int want)
{
    uint32_t before = gpurent_tier_provider_count(e);
    gpurent_error_clear();
    assert_int_equal(gpurent_tier_record_signed(e, t, env->data, env->len, NOW_S(ERA0), SKEW), want);
    assert_true(strlen(gpurent_last_error_message()) > 0);
    assert_int_equal(gpurent_tier_provider_count(e), before);
}

/* A program built against version 1 of the options (before
 * unverified_evidence) passes a shorter struct: the library reads and
 * writes only its bytes (the sanitizer build would catch one more), and
 * such an engine takes unverified evidence as version 1 engines did. */
static void test_options_version1(void **state)
{
    (void)state;
    size_t v1 = offsetof(gpurent_tier_options, unverified_evidence);
    unsigned char *buf = malloc(v1); /* exactly what an old program allocates */
    assert_non_null(buf);
    gpurent_tier_options *o = (gpurent_tier_options *)(void *)buf;
    assert_int_equal(gpurent_tier_options_init(o, 1), GPURENT_OK);
    gpurent_tier_options full; /* the test's own view of those bytes */
    memset(&full, 0, sizeof full);
    memcpy(&full, buf, v1);
    assert_int_equal(full.version, 1);
    assert_int_equal(full.quorum_auditors, 3);
    full.first_era = ERA0;
    memcpy(buf, &full, v1);
    assert_int_equal(gpurent_tier_options_validate(o), GPURENT_OK);
    gpurent_tier_engine *e = NULL;
    assert_int_equal(gpurent_tier_engine_new(&e, o), GPURENT_OK);
    gpurent_tier_event ev[30];
    size_t n = era_events(ev, 0, ERA0, 24, 6);
    assert_int_equal(gpurent_tier_record(e, ev, n), GPURENT_OK);
    assert_int_equal(gpurent_tier_provider_count(e), 1);
    /* the same parameters as a version 2 struct: the same params digest */
    gpurent_tier_engine *e2 = engine_strict();
    uint8_t d1[32], d2[32];
    gpurent_tier_params_digest(e, d1);
    gpurent_tier_params_digest(e2, d2);
    assert_memory_equal(d1, d2, 32);
    gpurent_tier_engine_free(e2);
    gpurent_tier_engine_free(e);
    full.version = GPURENT_TIER_OPTIONS_VERSION + 1;
    memcpy(buf, &full, v1);
    assert_int_equal(gpurent_tier_options_validate(o), GPURENT_E_VERSION);
    free(buf);
}

/* A default engine takes signed evidence only: the unverified calls are
 * refused with a detail that names the way in, and change nothing; the
 * option takes 0 or 1. */
static void test_unverified_refused(void **state)
{
    (void)state;
    gpurent_tier_engine *e = engine_strict();
    gpurent_tier_event ev[30];
    size_t n = era_events(ev, 0, ERA0, 24, 6);
    gpurent_error_clear();
    assert_int_equal(gpurent_tier_record(e, ev, n), GPURENT_E_EVIDENCE_REJECTED);
    assert_non_null(strstr(gpurent_last_error_message(), "gpurent_tier_record_signed"));
    gpurent_audit_report r;
    make_audit(&r, 0, 0, ERA0, P, P, P);
    assert_int_equal(gpurent_tier_record_report(e, &r), GPURENT_E_EVIDENCE_REJECTED);
    assert_int_equal(gpurent_tier_record(e, ev, 0), GPURENT_E_EVIDENCE_REJECTED); /* even an empty batch */
    assert_int_equal(gpurent_tier_provider_count(e), 0);
    evaluate(e, ERA0, NULL);
    uint8_t k[32];
    pkey(k, 0);
    gpurent_tier_explanation x;
    assert_int_equal(gpurent_tier_explain(e, k, &x), GPURENT_E_UNKNOWN_PROVIDER);
    gpurent_tier_engine_free(e);
    /* The same calls on an engine that asked for them. */
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = ERA0;
    o.unverified_evidence = 1;
    assert_int_equal(gpurent_tier_engine_new(&e, &o), GPURENT_OK);
    assert_int_equal(gpurent_tier_record(e, ev, n), GPURENT_OK);
    assert_int_equal(gpurent_tier_record_report(e, &r), GPURENT_OK);
    assert_int_equal(gpurent_tier_provider_count(e), 1);
    gpurent_tier_engine_free(e);
    gpurent_audit_report_clear(&r);
    o.unverified_evidence = 2;
    assert_int_equal(gpurent_tier_options_validate(&o), GPURENT_E_INVALID_ARG);
}

static void test_signed_statuses(void **state)
{
    (void)state;
    gpurent_key *k[SK_COUNT];
    for (uint8_t j = 0; j < SK_COUNT; j++) k[j] = seed_key(j);
    gpurent_trust *t = trust_for(k);
    gpurent_tier_engine *e = engine_strict(), *ref = engine_strict();
    gpurent_buf env = {0}, good = {0};
    const uint64_t now = NOW_S(ERA0);

    /* Accepted: the same evidence as an unsigned report in the reference engine. */
    signed_now(k[0], 0, ERA0, &good);
    assert_int_equal(gpurent_tier_record_signed(e, t, good.data, good.len, now, SKEW), GPURENT_OK);
    assert_int_equal(gpurent_tier_provider_count(e), 1);
    assert_int_equal(gpurent_tier_record_signed(ref, t, good.data, good.len, now, SKEW), GPURENT_E_REPLAYED);
    gpurent_trust_replay_clear(t);
    assert_int_equal(gpurent_tier_record_signed(ref, t, good.data, good.len, now, SKEW), GPURENT_OK);
    /* Replayed, into the same engine. */
    refused(e, t, &good, GPURENT_E_REPLAYED);

    /* Bad signature: one bit of the last signature byte. */
    signed_now(k[1], 1, ERA0, &env);
    env.data[env.len - 1] ^= 0x01;
    refused(e, t, &env, GPURENT_E_BAD_SIGNATURE);
    env.data[env.len - 1] ^= 0x01; /* undamaged, it verifies: the damage was the reason */
    gpurent_verify_options vo = GPURENT_VERIFY_OPTIONS_INIT;
    vo.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    assert_int_equal(gpurent_envelope_verify(t, env.data, env.len, now, SKEW, &vo, NULL), GPURENT_OK);
    gpurent_buf_free(&env);
    signed_now(k[SK_UNKNOWN], 1, ERA0, &env);
    refused(e, t, &env, GPURENT_E_UNKNOWN_ISSUER);
    gpurent_buf_free(&env);
    signed_now(k[SK_PROVIDER], 1, ERA0, &env);
    refused(e, t, &env, GPURENT_E_ROLE_NOT_ALLOWED);
    gpurent_buf_free(&env);
    signed_now(k[SK_REVOKED], 1, ERA0, &env);
    refused(e, t, &env, GPURENT_E_REVOKED);
    gpurent_buf_free(&env);
    signed_report(k[1], 1, ERA0, 24, now - 2 * DAY, now - DAY, &env);
    refused(e, t, &env, GPURENT_E_EXPIRED);
    gpurent_buf_free(&env);
    signed_report(k[1], 1, ERA0, 24, now + DAY, now + 2 * DAY, &env);
    refused(e, t, &env, GPURENT_E_NOT_YET_VALID);
    gpurent_buf_free(&env);

    /* Malformed and truncated bytes. */
    const uint8_t junk[1] = {0xc1};
    gpurent_buf jb = {(uint8_t *)junk, 1};
    refused(e, t, &jb, GPURENT_E_MALFORMED);
    gpurent_buf cut = {good.data, good.len - 5};
    refused(e, t, &cut, GPURENT_E_TRUNCATED);

    /* The wrong record type: a revocation signed by an auditor. */
    gpurent_revocation rev = {{0}, now, GPURENT_REVOKE_RETIRED};
    pk_of(k[2], rev.key);
    gpurent_buf p = {0};
    assert_int_equal(gpurent_revocation_encode(&rev, &p), GPURENT_OK);
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_REVOCATION;
    h.issued_at = now - 10;
    h.expires_at = now + 10;
    assert_int_equal(gpurent_envelope_sign(k[0], &h, p.data, p.len, &env), GPURENT_OK);
    refused(e, t, &env, GPURENT_E_WRONG_RECORD);
    gpurent_buf_free(&env);
    gpurent_buf_free(&p);

    /* An auditor signing a report in another auditor's name. */
    gpurent_audit_report r;
    make_audit(&r, 1, 0, ERA0, P, P, P);
    pk_of(k[0], r.auditor_key);
    assert_int_equal(gpurent_audit_report_encode(&r, &p), GPURENT_OK);
    h.statement = GPURENT_RECORD_AUDIT_REPORT;
    assert_int_equal(gpurent_envelope_sign(k[1], &h, p.data, p.len, &env), GPURENT_OK);
    refused(e, t, &env, GPURENT_E_EVIDENCE_REJECTED);
    assert_non_null(strstr(gpurent_last_error_message(), "issuer"));
    gpurent_buf_free(&env);
    gpurent_buf_free(&p);
    gpurent_audit_report_clear(&r);

    /* Refused by the engine (an era not open yet): the trust store does not
     * remember it, so it is accepted once the era opens. */
    signed_now(k[2], 2, ERA0 + 2, &env);
    refused(e, t, &env, GPURENT_E_EVIDENCE_REJECTED);
    assert_non_null(strstr(gpurent_last_error_message(), "not open"));
    evaluate(e, ERA0, NULL);
    assert_int_equal(gpurent_tier_record_signed(e, t, env.data, env.len, now, SKEW), GPURENT_OK);
    assert_int_equal(gpurent_tier_record_signed(e, t, env.data, env.len, now, SKEW), GPURENT_E_REPLAYED);
    evaluate(ref, ERA0, NULL);
    assert_int_equal(gpurent_tier_record_signed(ref, t, env.data, env.len, now, SKEW), GPURENT_E_REPLAYED);
    gpurent_trust_replay_clear(t);
    assert_int_equal(gpurent_tier_record_signed(ref, t, env.data, env.len, now, SKEW), GPURENT_OK);
    gpurent_buf_free(&env);

    /* Nothing refused left a trace: both engines agree on every provider. */
    assert_same_engines(e, ref, ERA0 + 1, 3);
    assert_int_equal(gpurent_tier_provider_count(e), 2);
    assert_int_equal(gpurent_tier_record_signed(NULL, t, good.data, good.len, now, SKEW), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_tier_record_signed(e, NULL, good.data, good.len, now, SKEW), GPURENT_E_INVALID_ARG);
    gpurent_buf_free(&good);
    gpurent_tier_engine_free(e);
    gpurent_tier_engine_free(ref);
    gpurent_trust_free(t);
    for (uint8_t j = 0; j < SK_COUNT; j++) gpurent_key_free(k[j]);
}

/* The bulk call answers exactly as one call per envelope, in order. */
static void test_signed_many(void **state)
{
    (void)state;
    gpurent_key *k[SK_COUNT];
    for (uint8_t j = 0; j < SK_COUNT; j++) k[j] = seed_key(j);
    enum { N = 14 };
    gpurent_buf env[N];
    memset(env, 0, sizeof env);
    for (uint32_t i = 0; i < 6; i++) signed_now(k[i % SK_AUDITORS], i, ERA0, &env[i]);
    for (uint32_t i = 6; i < 9; i++) signed_now(k[3 + i - 6], i, ERA0, &env[i]); /* provider, revoked, unknown */
    signed_now(k[1], 9, ERA0 + 3, &env[9]);                                        /* era not open */
    signed_now(k[2], 10, ERA0, &env[10]);
    env[10].data[env[10].len - 2] ^= 0x40;                                         /* bad signature */
    signed_report(k[0], 11, ERA0, 20, NOW_S(ERA0) - 9 * DAY, NOW_S(ERA0) - 8 * DAY, &env[11]); /* expired */
    for (uint32_t i = 12; i < N; i++) { /* repeats inside the batch */
        env[i].data = malloc(env[i - 12].len);
        assert_non_null(env[i].data);
        memcpy(env[i].data, env[i - 12].data, env[i - 12].len);
        env[i].len = env[i - 12].len;
    }
    const uint8_t *ptr[N];
    size_t len[N];
    for (uint32_t i = 0; i < N; i++) ptr[i] = env[i].data, len[i] = env[i].len;

    gpurent_tier_engine *one = engine_strict();
    gpurent_trust *t1 = trust_for(k);
    int32_t want[N];
    for (uint32_t i = 0; i < N; i++) want[i] = gpurent_tier_record_signed(one, t1, ptr[i], len[i], NOW_S(ERA0), SKEW);
    const int32_t expect[N] = {0, 0, 0, 0, 0, 0, GPURENT_E_ROLE_NOT_ALLOWED, GPURENT_E_REVOKED,
                               GPURENT_E_UNKNOWN_ISSUER, GPURENT_E_EVIDENCE_REJECTED, GPURENT_E_BAD_SIGNATURE,
                               GPURENT_E_EXPIRED, GPURENT_E_REPLAYED, GPURENT_E_REPLAYED};
    assert_memory_equal(want, expect, sizeof want);
    for (unsigned threads = 1; threads <= 3; threads++) {
        gpurent_tier_engine *many = engine_strict();
        gpurent_trust *t2 = trust_for(k);
        int32_t got[N];
        assert_int_equal(gpurent_tier_record_signed_many(many, t2, ptr, len, N, NOW_S(ERA0), SKEW, threads, NULL, got),
                         GPURENT_OK);
        assert_memory_equal(got, want, sizeof got);
        /* A second pass: all remembered, nothing recorded twice. */
        assert_int_equal(gpurent_tier_record_signed_many(many, t2, ptr, len, 6, NOW_S(ERA0), SKEW, threads, NULL, got),
                         GPURENT_OK);
        for (uint32_t i = 0; i < 6; i++) assert_int_equal(got[i], GPURENT_E_REPLAYED);
        gpurent_tier_engine *again = engine_strict();
        gpurent_trust *t3 = trust_for(k);
        /* One by one, each with the status the batch gave it. */
        for (uint32_t i = 0; i < N; i++)
            assert_int_equal(gpurent_tier_record_signed(again, t3, ptr[i], len[i], NOW_S(ERA0), SKEW), want[i]);
        assert_same_engines(many, again, ERA0, N);
        gpurent_tier_engine_free(again);
        gpurent_trust_free(t3);
        gpurent_tier_engine_free(many);
        gpurent_trust_free(t2);
    }
    /* Cancelled before it starts: nothing recorded, nothing remembered. */
    gpurent_cancel *c;
    assert_int_equal(gpurent_cancel_new(&c), GPURENT_OK);
    gpurent_cancel_request(c);
    gpurent_tier_engine *many = engine_strict();
    gpurent_trust *t2 = trust_for(k);
    int32_t got[N];
    assert_int_equal(gpurent_tier_record_signed_many(many, t2, ptr, len, N, NOW_S(ERA0), SKEW, 2, c, got),
                     GPURENT_E_CANCELLED);
    for (uint32_t i = 0; i < N; i++) assert_int_equal(got[i], GPURENT_E_CANCELLED);
    assert_int_equal(gpurent_tier_provider_count(many), 0);
    assert_int_equal(gpurent_tier_record_signed(many, t2, ptr[0], len[0], NOW_S(ERA0), SKEW), GPURENT_OK);
    assert_int_equal(gpurent_tier_record_signed_many(many, t2, NULL, len, 1, 0, 0, 1, NULL, got), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_tier_record_signed_many(many, t2, ptr, len, 0, 0, 0, 1, NULL, got), GPURENT_OK);
    gpurent_cancel_free(c);
    gpurent_tier_engine_free(many);
    gpurent_trust_free(t2);
    gpurent_tier_engine_free(one);
    gpurent_trust_free(t1);
    for (uint32_t i = 0; i < 12; i++) gpurent_buf_free(&env[i]);
    for (uint32_t i = 12; i < N; i++) free(env[i].data);
    for (uint8_t j = 0; j < SK_COUNT; j++) gpurent_key_free(k[j]);
}

/* Three auditors, each with its own engine and trust store, record the same
 * signed reports, compute byte-identical certificates, and sign one
 * envelope together; a verifier needs k = 3 of their signatures. */
static void test_signed_certificates(void **state)
{
    (void)state;
    gpurent_key *k[SK_COUNT];
    for (uint8_t j = 0; j < SK_COUNT; j++) k[j] = seed_key(j);
    gpurent_tier_engine *e[SK_AUDITORS + 1];
    gpurent_trust *t[SK_AUDITORS + 1];
    for (int a = 0; a <= SK_AUDITORS; a++) e[a] = engine_strict(), t[a] = trust_for(k);
    const uint32_t eras = 10, np = 2;
    for (uint64_t era = ERA0; era < ERA0 + eras; era++) {
        for (uint32_t i = 0; i < np; i++)
            for (uint8_t j = 0; j < SK_AUDITORS; j++) {
                gpurent_buf env = {0};
                signed_report(k[j], i, era, 23 + (j == 0), NOW_S(era) - 100, NOW_S(era) + DAY, &env);
                for (int a = 0; a <= SK_AUDITORS; a++) {
                    if (a == SK_AUDITORS && era == ERA0 + eras - 1 && i == 0 && j == 2) continue; /* engine 3 misses one */
                    assert_int_equal(gpurent_tier_record_signed(e[a], t[a], env.data, env.len, NOW_S(era), SKEW),
                                     GPURENT_OK);
                }
                gpurent_buf_free(&env);
            }
        for (int a = 0; a <= SK_AUDITORS; a++) evaluate(e[a], era, NULL);
    }
    uint8_t prov[32];
    pkey(prov, 0);
    /* Byte-identical certificates from the same evidence. */
    gpurent_buf cb[SK_AUDITORS] = {{0}};
    for (int a = 0; a < SK_AUDITORS; a++) {
        gpurent_tier_cert c;
        assert_int_equal(gpurent_tier_certificate(e[a], prov, &c), GPURENT_OK);
        assert_int_equal(c.tier, 5);
        assert_int_equal(c.auditor_count, 3);
        assert_int_equal(gpurent_tier_cert_encode(&c, &cb[a]), GPURENT_OK);
        assert_int_equal(cb[a].len, cb[0].len);
        assert_memory_equal(cb[a].data, cb[0].data, cb[0].len);
    }
    const uint64_t now = NOW_S(ERA0 + eras), exp = now + 7 * DAY;
    gpurent_buf s1 = {0}, s2 = {0}, s3 = {0}, tmp = {0};
    assert_int_equal(gpurent_tier_certificate_sign(e[0], k[0], prov, now, exp, &s1), GPURENT_OK);
    assert_int_equal(gpurent_tier_certificate_cosign(e[1], k[1], t[1], s1.data, s1.len, now, SKEW, &s2), GPURENT_OK);
    assert_int_equal(gpurent_tier_certificate_cosign(e[1], k[1], t[1], s2.data, s2.len, now, SKEW, &tmp),
                     GPURENT_E_EXISTS);
    assert_int_equal(gpurent_tier_certificate_cosign(e[2], k[2], t[2], s2.data, s2.len, now, SKEW, &s3), GPURENT_OK);
    /* An engine that missed one report computes another certificate: it refuses to co-sign. */
    assert_int_equal(gpurent_tier_certificate_cosign(e[3], k[2], t[3], s2.data, s2.len, now, SKEW, &tmp),
                     GPURENT_E_CERT_MISMATCH);
    assert_non_null(strstr(gpurent_last_error_message(), "differs"));

    /* A verifier (say a matchmaker) with its own store. */
    gpurent_trust *v = trust_for(k);
    gpurent_tier_cert got;
    assert_int_equal(gpurent_tier_certificate_verify(v, s3.data, s3.len, now, SKEW, 3, &got), GPURENT_OK);
    gpurent_buf back = {0};
    assert_int_equal(gpurent_tier_cert_encode(&got, &back), GPURENT_OK);
    assert_int_equal(back.len, cb[0].len);
    assert_memory_equal(back.data, cb[0].data, back.len);
    gpurent_buf_free(&back);
    /* Certificates are not replay-checked: the same one verifies again. */
    assert_int_equal(gpurent_tier_certificate_verify(v, s3.data, s3.len, now, SKEW, 3, NULL), GPURENT_OK);
    /* k - 1 signatures, or a signer revoked, fall short. */
    assert_int_equal(gpurent_tier_certificate_verify(v, s2.data, s2.len, now, SKEW, 3, NULL), GPURENT_E_QUORUM_NOT_MET);
    assert_int_equal(gpurent_tier_certificate_verify(v, s2.data, s2.len, now, SKEW, 2, NULL), GPURENT_OK);
    assert_int_equal(gpurent_tier_certificate_verify(v, s3.data, s3.len, exp + SKEW + 1, SKEW, 3, NULL),
                     GPURENT_E_EXPIRED);
    uint8_t pk2[32];
    pk_of(k[2], pk2);
    assert_int_equal(gpurent_trust_revoke(v, pk2), GPURENT_OK);
    assert_int_equal(gpurent_tier_certificate_verify(v, s3.data, s3.len, now, SKEW, 3, NULL), GPURENT_E_QUORUM_NOT_MET);
    assert_int_equal(gpurent_tier_certificate_verify(v, s3.data, s3.len, now, SKEW, 0, NULL), GPURENT_E_INVALID_ARG);
    /* Tampered bytes fail; so does an audit report offered as a certificate. */
    s3.data[s3.len - 1] ^= 1;
    assert_int_equal(gpurent_tier_certificate_verify(t[0], s3.data, s3.len, now, SKEW, 3, NULL),
                     GPURENT_E_BAD_SIGNATURE);
    gpurent_buf rep = {0};
    signed_now(k[0], 0, ERA0, &rep);
    assert_int_equal(gpurent_tier_certificate_verify(t[0], rep.data, rep.len, NOW_S(ERA0), SKEW, 1, NULL),
                     GPURENT_E_WRONG_RECORD);
    gpurent_buf_free(&rep);
    /* A subject that is not the provider. */
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_TIER_CERT;
    h.issued_at = now;
    h.expires_at = exp;
    h.subject_len = 32;
    pkey(h.subject, 1);
    assert_int_equal(gpurent_envelope_sign(k[0], &h, cb[0].data, cb[0].len, &tmp), GPURENT_OK);
    assert_int_equal(gpurent_tier_certificate_verify(t[0], tmp.data, tmp.len, now, SKEW, 1, NULL),
                     GPURENT_E_INVALID_FIELD);
    gpurent_buf_free(&tmp);
    /* No certificate for a provider the engine never saw. */
    uint8_t stranger[32];
    pkey(stranger, 77);
    assert_int_equal(gpurent_tier_certificate_sign(e[0], k[0], stranger, now, exp, &tmp), GPURENT_E_UNKNOWN_PROVIDER);

    gpurent_buf_free(&s1);
    gpurent_buf_free(&s2);
    gpurent_buf_free(&s3);
    for (int a = 0; a < SK_AUDITORS; a++) gpurent_buf_free(&cb[a]);
    gpurent_trust_free(v);
    for (int a = 0; a <= SK_AUDITORS; a++) gpurent_tier_engine_free(e[a]), gpurent_trust_free(t[a]);
    for (uint8_t j = 0; j < SK_COUNT; j++) gpurent_key_free(k[j]);
}

/* ---------- hostile auditors: one auditor trying to raise, lock or sink a provider ---------- */

/* A report from auditor j about provider i in `era`: gpu_n GPU challenges of
 * which gpu_ok pass, cpu_n CPU challenges of which cpu_ok pass, and the
 * three checks. `salt` moves the challenge times so that one auditor can
 * send several different reports in one era. */
static gpurent_status chal_report(gpurent_tier_engine *e, uint32_t i, uint32_t j, uint64_t era, uint32_t gpu_n,
                                  uint32_t gpu_ok, uint32_t cpu_n, uint32_t cpu_ok, uint32_t g, uint32_t in, uint32_t s,
                                  uint32_t salt)
{
    gpurent_audit_report r;
    make_audit(&r, i, j, era, g, in, s);
    r.time_s = tsec(era, 86000 + j);
    for (uint32_t c = 0; c < gpu_n; c++)
        assert_int_equal(gpurent_audit_report_add_challenge(&r, tsec(era, c * 16 + salt % 16), GPURENT_CHALLENGE_GPU,
                                                            c < gpu_ok), GPURENT_OK);
    for (uint32_t c = 0; c < cpu_n; c++)
        assert_int_equal(gpurent_audit_report_add_challenge(&r, tsec(era, c * 16 + salt % 16), GPURENT_CHALLENGE_CPU,
                                                            c < cpu_ok), GPURENT_OK);
    gpurent_status rc = gpurent_tier_record_report(e, &r);
    gpurent_audit_report_clear(&r);
    return rc;
}

/* Provider i served `eras` perfect eras seen by auditors 0..2 (challenges
 * and full audits): with the default table it is in tier 5 after 8. */
static uint64_t climb_with_auditors(gpurent_tier_engine *e, uint32_t i, uint64_t era, uint32_t eras)
{
    gpurent_tier_era_summary s;
    for (uint32_t k = 0; k < eras; k++, era++) {
        for (uint32_t j = 0; j < 3; j++) assert_int_equal(chal_report(e, i, j, era, 24, 24, 6, 6, P, P, P, 0), GPURENT_OK);
        evaluate(e, era, &s);
    }
    return era;
}

/* Case 1: three honest auditors see every challenge fail; a fourth floods
 * 65 535 passes. The era must read as failed (slash), not as 99.9 %. */
static void test_adv_one_auditor_raises(void **state)
{
    (void)state;
    gpurent_tier_engine *e = engine_default();
    uint64_t era = climb_with_auditors(e, 0, ERA0, 8);
    assert_int_equal(explain(e, 0).tier, 5);
    for (uint32_t j = 0; j < 3; j++) assert_int_equal(chal_report(e, 0, j, era, 24, 0, 0, 0, P, P, P, 0), GPURENT_OK);
    for (uint32_t part = 0; part < 16; part++) /* 16 reports of 4096 passes: 65 535 after saturation */
        assert_int_equal(chal_report(e, 0, 3, era, 4096, 4096, 0, 0, P, P, P, part), GPURENT_OK);
    gpurent_tier_era_summary s;
    evaluate(e, era, &s);
    gpurent_tier_explanation x = explain(e, 0);
    assert_int_equal(x.era_observed, 1);
    assert_int_equal(x.era_uptime_ppm, 0);
    assert_int_equal(x.slash_reasons, GPURENT_TIER_SLASH_UPTIME);
    assert_int_equal(s.slashes, 1);
    assert_int_equal(x.tier, 5);
    assert_int_equal(x.rule, GPURENT_TIER_RULE_DOWN_STREAK);
    /* Four sources; three report 0 %, so both statistics are 0. */
    uint8_t k0[32];
    pkey(k0, 0);
    gpurent_tier_disputes d;
    assert_int_equal(gpurent_tier_explain_disputes(e, k0, &d), GPURENT_OK);
    assert_int_equal(d.era, era);
    assert_int_equal(d.quorum, 3);
    assert_int_equal(d.sources, 4);
    assert_int_equal(d.uptime_low_ppm, 0);
    assert_int_equal(d.uptime_high_ppm, 0);
    gpurent_tier_engine_free(e);
}

/* Case 2: one auditor's flood of passing reports must not fill the
 * provider's audit list: another auditor's failing report is still taken,
 * and the flood counts as one entry in the audit component. */
static void test_adv_one_auditor_locks(void **state)
{
    (void)state;
    gpurent_tier_engine *e = engine_default();
    gpurent_audit_report r;
    make_audit(&r, 0, 7, ERA0, P, P, P);
    for (uint32_t k = 0; k < GR_TIER_MAX_AUDITS + 10; k++) assert_int_equal(gpurent_tier_record_report(e, &r), GPURENT_OK);
    gpurent_audit_report_clear(&r);
    assert_int_equal(chal_report(e, 0, 1, ERA0, 24, 24, 0, 0, P, F, P, 0), GPURENT_OK);
    gpurent_tier_era_summary s;
    evaluate(e, ERA0, &s);
    gpurent_tier_explanation x = explain(e, 0);
    /* Two entries of three checks each, weight one era (65536). */
    assert_int_equal(x.components[GPURENT_TIER_COMP_AUDIT].evidence_q16, 6u * 65536u);
    /* The same auditor's reports in the next era still enter, after the flood. */
    make_audit(&r, 0, 7, ERA0 + 1, P, P, P);
    for (uint32_t k = 0; k < 100; k++) assert_int_equal(gpurent_tier_record_report(e, &r), GPURENT_OK);
    gpurent_audit_report_clear(&r);
    assert_int_equal(chal_report(e, 0, 2, ERA0 + 1, 24, 24, 0, 0, P, P, F, 0), GPURENT_OK);
    gpurent_tier_engine_free(e);
    /* The per-provider cap takes GR_TIER_MAX_AUDITS / 2 distinct auditors
     * in both open eras; then a new (auditor, era) pair is refused, and a
     * report that merges into an existing entry is still taken. */
    e = engine_default();
    for (uint64_t ex = ERA0; ex <= ERA0 + 1; ex++) /* in stored order: each entry goes last */
        for (uint32_t j = 0; j < GR_TIER_MAX_AUDITS / 2; j++) {
            make_audit(&r, 1, 0, ex, P, P, P);
            r.auditor_key[1] = (uint8_t)(j >> 8);
            r.auditor_key[2] = (uint8_t)j;
            assert_int_equal(gpurent_tier_record_report(e, &r), GPURENT_OK);
            gpurent_audit_report_clear(&r);
        }
    make_audit(&r, 1, 0, ERA0, P, F, P);
    r.auditor_key[1] = 0x7f; /* a new auditor */
    assert_int_equal(gpurent_tier_record_report(e, &r), GPURENT_E_LIMIT);
    r.auditor_key[1] = 0; /* auditor 0's entry exists: merged */
    assert_int_equal(gpurent_tier_record_report(e, &r), GPURENT_OK);
    gpurent_audit_report_clear(&r);
    gpurent_tier_engine_free(e);
}

/* Case 3: a lone security failure must not demote a graduated provider, a
 * lone integrity failure every era must not keep one in incubation; k
 * distinct auditors reporting within the window do. */
static void test_adv_one_auditor_sinks(void **state)
{
    (void)state;
    gpurent_tier_engine *e = engine_default();
    gpurent_tier_era_summary s;
    uint64_t era = climb_with_auditors(e, 0, ERA0, 8);
    assert_int_equal(explain(e, 0).tier, 5);
    for (uint32_t j = 0; j < 3; j++) assert_int_equal(chal_report(e, 0, j, era, 24, 24, 6, 6, P, P, P, 0), GPURENT_OK);
    assert_int_equal(chal_report(e, 0, 9, era, 0, 0, 0, 0, P, P, F, 0), GPURENT_OK); /* the liar */
    evaluate(e, era++, &s);
    gpurent_tier_explanation x = explain(e, 0);
    assert_int_equal(x.tier, 5);
    assert_int_equal(x.slash_reasons, 0);
    assert_int_equal(s.slashes, 0);
    /* The lone report is kept and shown. */
    uint8_t k0[32], k9[32];
    pkey(k0, 0);
    pkey(k9, 9);
    gpurent_tier_disputes d;
    assert_int_equal(gpurent_tier_explain_disputes(e, k0, &d), GPURENT_OK);
    assert_int_equal(d.lone_security, 1);
    assert_int_equal(d.lone_integrity, 0);
    assert_int_equal(d.sources, 3);
    assert_int_equal(d.uptime_low_ppm, 1000000);
    assert_int_equal(gpurent_tier_explain_disputes(e, k9, &d), GPURENT_E_UNKNOWN_PROVIDER);
    /* Three auditors passed the security check the liar failed: counted against it. */
    uint8_t a9[32], a0[32];
    akey(a9, 9);
    akey(a0, 0);
    uint32_t contra = 99;
    assert_int_equal(gpurent_tier_auditor_contradicted(e, a9, &contra), GPURENT_OK);
    assert_int_equal(contra, 1);
    assert_int_equal(gpurent_tier_auditor_contradicted(e, k9, &contra), GPURENT_E_NOT_FOUND);
    assert_int_equal(gpurent_tier_explain_disputes(NULL, k0, &d), GPURENT_E_INVALID_ARG);
    /* Two more auditors find the same failure an era later: three distinct
     * auditors within the window, so the failure stands. */
    for (uint32_t j = 0; j < 3; j++)
        assert_int_equal(chal_report(e, 0, j, era, 24, 24, 6, 6, P, P, j < 2 ? F : P, 0), GPURENT_OK);
    evaluate(e, era++, &s);
    x = explain(e, 0);
    assert_int_equal(x.tier, 7);
    assert_int_equal(x.rule, GPURENT_TIER_RULE_SECURITY_DEMOTION);
    assert_int_equal(x.slash_reasons, GPURENT_TIER_SLASH_SECURITY);
    assert_int_equal(gpurent_tier_explain_disputes(e, k0, &d), GPURENT_OK);
    assert_int_equal(d.lone_security, 0); /* confirmed, acted on */
    /* Incubation: one auditor reporting an integrity failure every era
     * does not hold a provider back. */
    uint64_t e1 = era;
    for (uint32_t k = 0; k < 8; k++, era++) {
        for (uint32_t j = 0; j < 3; j++) assert_int_equal(chal_report(e, 1, j, era, 24, 24, 6, 6, P, P, P, 0), GPURENT_OK);
        assert_int_equal(chal_report(e, 1, 9, era, 0, 0, 0, 0, P, F, P, 0), GPURENT_OK);
        for (uint32_t j = 0; j < 3; j++) assert_int_equal(chal_report(e, 0, j, era, 24, 24, 6, 6, P, P, P, 0), GPURENT_OK);
        evaluate(e, era, &s);
        assert_int_equal(s.resets, 0);
    }
    (void)e1;
    x = explain(e, 1);
    assert_int_equal(x.tier, 5);
    assert_int_equal(x.incubating, 0);
    /* Eight more contradicted reports for the liar; none for the auditors
     * whose failure report stood (fewer than k passed against it). */
    assert_int_equal(gpurent_tier_auditor_contradicted(e, a9, &contra), GPURENT_OK);
    assert_int_equal(contra, 9);
    assert_int_equal(gpurent_tier_auditor_contradicted(e, a0, &contra), GPURENT_OK);
    assert_int_equal(contra, 0);
    gpurent_tier_engine_free(e);
}

/* ---------- adversarial simulation ---------- */

enum { SIM_AUDITORS = 5, SIM_PROVIDERS = 6, SIM_COLLUDER_PROV = 5 };
enum { ST_HONEST = 0, ST_UP, ST_SINK, ST_FLOOD, ST_STRATEGIES };

typedef struct sim_truth {
    uint32_t gpu_ok, cpu_ok; /* of 24 and 6 */
    uint32_t integrity, security; /* check results every honest auditor sees */
} sim_truth;

/* What provider i really does in era index x of `eras`. */
static sim_truth sim_truth_of(uint32_t i, uint32_t x, uint32_t eras)
{
    sim_truth t = {24, 6, P, P};
    switch (i) {
    case 1: t.gpu_ok = 23; break;                              /* 96 % */
    case 2: if (x == eras * 2 / 5) t.integrity = F; break;      /* one real integrity failure */
    case 3: if (x == eras * 2 / 3) t.security = F; break;       /* one real security failure */
    case 4: if (x >= eras / 3 && x < eras / 3 + 6) t.gpu_ok = 17, t.cpu_ok = 4; break; /* a bad week */
    case SIM_COLLUDER_PROV: t.gpu_ok = 12, t.cpu_ok = 3; if (x == 4) t.integrity = F; break; /* poor, lying */
    default: break;
    }
    return t;
}

/* One era of reports from auditor j playing `strategy`. */
static void sim_auditor(gpurent_tier_engine *e, uint32_t j, uint32_t strategy, uint32_t x, uint32_t eras,
                        uint32_t flood)
{
    uint64_t era = ERA0 + x;
    for (uint32_t i = 0; i < SIM_PROVIDERS; i++) {
        sim_truth t = sim_truth_of(i, x, eras);
        int own = i == SIM_COLLUDER_PROV;
        switch (strategy) {
        case ST_HONEST:
            assert_int_equal(chal_report(e, i, j, era, 24, t.gpu_ok, 6, t.cpu_ok, P, t.integrity, t.security, 0),
                             GPURENT_OK);
            break;
        case ST_UP: /* everything perfect, for everyone */
            assert_int_equal(chal_report(e, i, j, era, 24, 24, 6, 6, P, P, P, 0), GPURENT_OK);
            break;
        case ST_SINK: /* the accomplice's provider perfect, every other one failing everything */
            if (own) assert_int_equal(chal_report(e, i, j, era, 24, 24, 6, 6, P, P, P, 0), GPURENT_OK);
            else assert_int_equal(chal_report(e, i, j, era, 24, 0, 6, 0, F, F, F, 0), GPURENT_OK);
            break;
        default: /* flood: many large reports, passes for its own provider, failures for the rest */
            for (uint32_t r = 0; r < flood; r++) {
                uint32_t ok = own ? 256 : 0;
                uint32_t c = own ? P : F;
                assert_int_equal(chal_report(e, i, j, era, 256, ok, 16, own ? 16 : 0, c, c, c, r), GPURENT_OK);
            }
            break;
        }
    }
}

/* The tier and slash bits of every provider after every era. */
static void sim_run(const uint32_t strategy[SIM_AUDITORS], uint32_t eras, uint32_t flood,
                    uint32_t path[][SIM_PROVIDERS], uint32_t contra[SIM_AUDITORS])
{
    gpurent_tier_engine *e = engine_default();
    gpurent_tier_era_summary s;
    for (uint32_t x = 0; x < eras; x++) {
        for (uint32_t j = 0; j < SIM_AUDITORS; j++) {
            /* A combined liar changes its strategy every era. */
            uint32_t st = strategy[j] == ST_STRATEGIES ? 1 + (x + j) % 3 : strategy[j];
            sim_auditor(e, j, st, x, eras, flood);
        }
        evaluate(e, ERA0 + x, &s);
        for (uint32_t i = 0; i < SIM_PROVIDERS; i++) {
            gpurent_tier_explanation xp = explain(e, i);
            path[x][i] = xp.tier | xp.slash_reasons << 8;
        }
    }
    for (uint32_t j = 0; j < SIM_AUDITORS; j++) {
        uint8_t a[32];
        akey(a, j);
        assert_int_equal(gpurent_tier_auditor_contradicted(e, a, &contra[j]), GPURENT_OK);
    }
    gpurent_tier_engine_free(e);
}

static void test_adversarial_simulation(void **state)
{
    (void)state;
    const uint32_t eras = under_valgrind() ? 15 : 30, flood = under_valgrind() ? 2 : 8;
    static uint32_t base[30][SIM_PROVIDERS], run[30][SIM_PROVIDERS];
    const uint32_t honest[SIM_AUDITORS] = {0};
    uint32_t contra[SIM_AUDITORS];
    sim_run(honest, eras, flood, base, contra);
    for (uint32_t j = 0; j < SIM_AUDITORS; j++) assert_int_equal(contra[j], 0);
    /* The honest run itself: provider 3's real security failure slashes,
     * provider 0 leaves incubation, the colluders' provider stays in it. */
    assert_true((base[eras - 1][0] & 0xff) <= 5);
    assert_int_equal(base[eras * 2 / 3][3] >> 8, GPURENT_TIER_SLASH_SECURITY);
    assert_true((base[eras - 1][SIM_COLLUDER_PROV] & 0xff) >= 6);
    /* f = 1 and f = 2 hostile auditors (k = 3, n = 5: f < k and n - f >= k),
     * each strategy alone, and mixed (ST_STRATEGIES rotates the three). */
    const uint32_t plays[][SIM_AUDITORS] = {
        {ST_UP, 0, 0, 0, 0},           {ST_UP, ST_UP, 0, 0, 0},
        {ST_SINK, 0, 0, 0, 0},         {ST_SINK, ST_SINK, 0, 0, 0},
        {ST_FLOOD, 0, 0, 0, 0},        {ST_FLOOD, ST_FLOOD, 0, 0, 0},
        {ST_UP, ST_SINK, 0, 0, 0},     {0, 0, 0, ST_FLOOD, ST_UP},
        {ST_STRATEGIES, ST_STRATEGIES, 0, 0, 0},
    };
    for (size_t p = 0; p < sizeof plays / sizeof plays[0]; p++) {
        sim_run(plays[p], eras, flood, run, contra);
        /* Honest auditors are never contradicted; those that report
         * failures that are not there are (collude up never does). */
        for (uint32_t j = 0; j < SIM_AUDITORS; j++) {
            if (plays[p][j] == ST_HONEST) assert_int_equal(contra[j], 0);
            else if (plays[p][j] != ST_UP) assert_true(contra[j] > 0);
        }
        for (uint32_t x = 0; x < eras; x++) {
            for (uint32_t i = 0; i < SIM_PROVIDERS; i++) {
                if (i == SIM_COLLUDER_PROV) {
                    /* No better tier than it earns alone (a larger number is a lower tier). */
                    if ((run[x][i] & 0xff) < (base[x][i] & 0xff))
                        fail_msg("play %zu era %u: the colluders' provider reached tier %u, honest run %u", p, x,
                                 run[x][i] & 0xff, base[x][i] & 0xff);
                } else if (run[x][i] != base[x][i]) {
                    fail_msg("play %zu era %u provider %u: tier %u slash %u, honest run tier %u slash %u", p, x, i,
                             run[x][i] & 0xff, run[x][i] >> 8, base[x][i] & 0xff, base[x][i] >> 8);
                }
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isqrt),
        cmocka_unit_test(test_wilson),
        cmocka_unit_test(test_beta),
        cmocka_unit_test(test_decay_table),
        cmocka_unit_test(test_report_roundtrip_canonical),
        cmocka_unit_test(test_report_invalid),
        cmocka_unit_test(test_cert_record),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_history_climb),
        cmocka_unit_test(test_history_quorum_reset_slash),
        cmocka_unit_test(test_score_confidence),
        cmocka_unit_test(test_score_days_not_rate),
        cmocka_unit_test(test_score_many_challenges),
        cmocka_unit_test(test_order_independence),
        cmocka_unit_test(test_record_era_edges), cmocka_unit_test(test_record_big_batches), cmocka_unit_test(test_rejects_change_nothing),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_explain_text),
        cmocka_unit_test(test_unverified_refused),
        cmocka_unit_test(test_options_version1),
        cmocka_unit_test(test_signed_statuses),
        cmocka_unit_test(test_signed_many),
        cmocka_unit_test(test_signed_certificates),
        cmocka_unit_test(test_adv_one_auditor_raises),
        cmocka_unit_test(test_adv_one_auditor_locks),
        cmocka_unit_test(test_adv_one_auditor_sinks),
        cmocka_unit_test(test_adversarial_simulation),
    };
    return cmocka_run_group_tests_name("tier", tests, NULL, NULL);
}
