/* Tier engine benchmark: record evidence for 100 000 providers over 33 eras,
 * then time era evaluation with 30 days of history, and recording rates,
 * each beside a plain read pass over the same bytes (the memory read rate);
 * then signed ingest beside verifying the same envelopes alone.
 *
 *   build/bench/bench_tier [providers]      (default 100000)
 *
 * Times are the thread's CPU time (one core), medians where repeated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpurent.h"
#include "tier/tier_internal.h"

#define ERA0 20000u
#define DAY 86400u
#define GPU_PER_ERA 12 /* a GPU challenge every two hours */
#define CPU_PER_ERA 4
#define EVENTS_PER_PROVIDER (GPU_PER_ERA + CPU_PER_ERA + 1)
#define CHUNK 1024 /* providers per timed batch */

/* CPU time of this thread: the machine is shared, and the goals are per
 * core, so time spent descheduled must not count. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void pkey(uint8_t k[32], uint32_t i)
{
    /* Keys spread like real public keys: a fixed pseudo-random function of i. */
    uint64_t x = i * 0x9E3779B97F4A7C15ull + 1;
    for (int b = 0; b < 32; b += 8) {
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9ull;
        memcpy(k + b, &x, 8);
    }
}

/* Sum the bytes as 64-bit words: what a pass over them costs at best. */
static volatile uint64_t sink;
static double read_pass(const void *p, size_t n)
{
    const uint64_t *w = p;
    uint64_t s = 0;
    double t = now_s();
    for (size_t i = 0; i < n / 8; i++) s += w[i];
    t = now_s() - t;
    sink += s;
    return t;
}

static size_t provider_events(gpurent_tier_event *ev, const uint8_t key[32], uint32_t i, uint64_t era)
{
    size_t n = 0;
    int weak = i % 10 == 0; /* one provider in ten fails some challenges */
    for (int c = 0; c < GPU_PER_ERA; c++, n++) {
        memcpy(ev[n].provider_key, key, 32);
        ev[n].time_s = era * DAY + (uint64_t)c * 7200 + i % 3600;
        ev[n].kind = GPURENT_TIER_EVENT_GPU_CHALLENGE;
        ev[n].reserved = 0;
        ev[n].value = !(weak && rnd() % 8 == 0);
    }
    for (int c = 0; c < CPU_PER_ERA; c++, n++) {
        memcpy(ev[n].provider_key, key, 32);
        ev[n].time_s = era * DAY + (uint64_t)c * 21600 + i % 3600;
        ev[n].kind = GPURENT_TIER_EVENT_CPU_CHALLENGE;
        ev[n].reserved = 0;
        ev[n].value = !(weak && rnd() % 8 == 0);
    }
    memcpy(ev[n].provider_key, key, 32);
    ev[n].time_s = era * DAY + 80000;
    ev[n].kind = GPURENT_TIER_EVENT_JOB;
    ev[n].reserved = 0;
    ev[n].value = rnd() % 50 ? GPURENT_JOB_COMPLETED : GPURENT_JOB_FAILED_PROVIDER;
    return n + 1;
}

static int audit_three(gpurent_tier_engine *e, const uint8_t key[32], uint64_t era)
{
    for (uint8_t j = 0; j < 3; j++) {
        gpurent_audit_report r;
        gpurent_audit_report_init(&r);
        memcpy(r.provider_key, key, 32);
        memset(r.auditor_key, 0xA0 + j, 32);
        r.time_s = era * DAY + 60000 + j;
        r.gpu_report = r.integrity = r.security = GPURENT_CHECK_PASSED;
        int rc = gpurent_tier_record_report(e, &r);
        if (rc) return rc;
    }
    return GPURENT_OK;
}

/* Signed ingest: `m` audit reports (16 challenges and passed checks each,
 * for m providers) signed by 4 auditors, recorded with
 * gpurent_tier_record_signed_many on one thread, beside verifying the same
 * envelopes alone (gpurent_envelope_verify with the same options, replay
 * check included, results freed): what recording adds to checking the
 * signatures it must check anyway. Best of 3 for each. */
static int signed_ingest(uint32_t m)
{
    enum { AUD = 4 };
    gpurent_key *k[AUD];
    uint8_t pk[AUD][32];
    for (uint8_t j = 0; j < AUD; j++) {
        uint8_t seed[GPURENT_SEED_BYTES];
        memset(seed, 0x31 + j, sizeof seed);
        if (gpurent_key_from_seed(&k[j], seed) || gpurent_key_public(k[j], pk[j])) return 1;
    }
    const uint64_t era = ERA0, now = era * DAY + 70000;
    gpurent_buf *env = calloc(m, sizeof *env);
    const uint8_t **ptr = malloc(m * sizeof *ptr);
    size_t *len = malloc(m * sizeof *len);
    int32_t *st = malloc(m * sizeof *st);
    if (!env || !ptr || !len || !st) return 1;
    size_t bytes = 0;
    for (uint32_t i = 0; i < m; i++) {
        gpurent_audit_report r;
        gpurent_audit_report_init(&r);
        pkey(r.provider_key, i);
        memcpy(r.auditor_key, pk[i % AUD], 32);
        r.time_s = era * DAY + 60000;
        r.gpu_report = r.integrity = r.security = GPURENT_CHECK_PASSED;
        for (uint32_t c = 0; c < GPU_PER_ERA + CPU_PER_ERA; c++)
            if (gpurent_audit_report_add_challenge(&r, era * DAY + c * 3000 + 5,
                                                   c < GPU_PER_ERA ? GPURENT_CHALLENGE_GPU : GPURENT_CHALLENGE_CPU,
                                                   rnd() % 100 != 0))
                return 1;
        gpurent_buf p = {0};
        gpurent_envelope h;
        gpurent_envelope_init(&h);
        h.statement = GPURENT_RECORD_AUDIT_REPORT;
        h.issued_at = now - 600;
        h.expires_at = now + 30 * DAY;
        h.subject_len = 32;
        memcpy(h.subject, r.provider_key, 32);
        if (gpurent_audit_report_encode(&r, &p) || gpurent_envelope_sign(k[i % AUD], &h, p.data, p.len, &env[i]))
            return 1;
        gpurent_buf_free(&p);
        gpurent_audit_report_clear(&r);
        ptr[i] = env[i].data;
        len[i] = env[i].len;
        bytes += env[i].len;
    }
    double best_rec = 1e9, best_ver = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        gpurent_trust *t1 = NULL, *t2 = NULL;
        gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
        o.first_era = era;
        gpurent_tier_engine *e = NULL;
        if (gpurent_trust_new(&t1, NULL) || gpurent_trust_new(&t2, NULL) || gpurent_tier_engine_new(&e, &o)) return 1;
        for (int j = 0; j < AUD; j++)
            if (gpurent_trust_add(t1, pk[j], GPURENT_ROLE_AUDITOR, 0, 0) ||
                gpurent_trust_add(t2, pk[j], GPURENT_ROLE_AUDITOR, 0, 0))
                return 1;
        gpurent_verify_options vo = GPURENT_VERIFY_OPTIONS_INIT;
        vo.statement = GPURENT_RECORD_AUDIT_REPORT;
        double t = now_s();
        for (uint32_t i = 0; i < m; i++) {
            gpurent_verified *v = NULL;
            if (gpurent_envelope_verify(t2, ptr[i], len[i], now, 300, &vo, &v)) return 1;
            gpurent_verified_free(v);
        }
        double ver = now_s() - t;
        t = now_s();
        if (gpurent_tier_record_signed_many(e, t1, ptr, len, m, now, 300, 1, NULL, st)) return 1;
        double rec = now_s() - t;
        for (uint32_t i = 0; i < m; i++)
            if (st[i]) {
                fprintf(stderr, "signed ingest %u: %s\n", i, gpurent_status_name(st[i]));
                return 1;
            }
        if (gpurent_tier_provider_count(e) != m) return 1;
        if (rec < best_rec) best_rec = rec;
        if (ver < best_ver) best_ver = ver;
        gpurent_tier_engine_free(e);
        gpurent_trust_free(t1);
        gpurent_trust_free(t2);
    }
    printf("signed ingest: %u audit reports (%.0f bytes each, 16 challenges), 1 thread\n", m, (double)bytes / m);
    printf("BENCH tier_record_signed %.0f reports/s baseline=envelope_verify_alone:%.0f ratio=%.3f\n", m / best_rec,
           m / best_ver, best_ver / best_rec);
    for (uint32_t i = 0; i < m; i++) gpurent_buf_free(&env[i]);
    for (int j = 0; j < AUD; j++) gpurent_key_free(k[j]);
    free(env);
    free(ptr);
    free(len);
    free(st);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    uint32_t np = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 100000;
    const uint32_t history = 30, timed = 3, eras = history + timed;
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = ERA0;
    o.unverified_evidence = 1; /* the recording rates are those of the engine alone */
    gpurent_tier_engine *e;
    if (gpurent_tier_engine_new(&e, &o)) return 1;
    gpurent_tier_event *ev = malloc((size_t)CHUNK * EVENTS_PER_PROVIDER * sizeof *ev);
    uint8_t (*keys)[32] = malloc((size_t)np * 32);
    if (!ev || !keys) return 1;
    for (uint32_t i = 0; i < np; i++) pkey(keys[i], i);

    double rec_t = 0, rec_base = 0, eval_t[64], eval_base[64];
    uint64_t rec_n = 0;
    uint32_t ntimed = 0;
    for (uint32_t x = 0; x < eras; x++) {
        uint64_t era = ERA0 + x;
        for (uint32_t c0 = 0; c0 < np; c0 += CHUNK) {
            uint32_t c1 = c0 + CHUNK < np ? c0 + CHUNK : np;
            size_t off[CHUNK + 1], n = 0;
            for (uint32_t i = c0; i < c1; i++) {
                off[i - c0] = n;
                n += provider_events(ev + n, keys[i], i, era);
            }
            off[c1 - c0] = n;
            /* One call per provider, as one auditor's batch arrives. */
            double t = now_s();
            for (uint32_t i = c0; i < c1; i++)
                if (gpurent_tier_record(e, ev + off[i - c0], off[i - c0 + 1] - off[i - c0])) {
                    fprintf(stderr, "record: %s\n", gpurent_last_error_message());
                    return 1;
                }
            rec_t += now_s() - t;
            rec_base += read_pass(ev, n * sizeof *ev);
            rec_n += n;
        }
        for (uint32_t i = x % 5; i < np; i += 5)
            if (audit_three(e, keys[i], era)) {
                fprintf(stderr, "audit: %s\n", gpurent_last_error_message());
                return 1;
            }
        gpurent_tier_era_summary s;
        double t = now_s();
        if (gpurent_tier_evaluate(e, era, NULL, &s)) {
            fprintf(stderr, "evaluate: %s\n", gpurent_last_error_message());
            return 1;
        }
        t = now_s() - t;
        if (x >= history) {
            const void *slots, *prov;
            size_t sb, pb;
            gr_tier_memory(e, &slots, &sb, &prov, &pb);
            eval_t[ntimed] = t;
            eval_base[ntimed++] = read_pass(slots, sb) + read_pass(prov, pb);
            printf("era %u: %.2f ms, tiers 1..7: %u %u %u %u %u %u %u, promoted %u demoted %u slashes %u\n", x, t * 1e3,
                   s.tier_counts[0], s.tier_counts[1], s.tier_counts[2], s.tier_counts[3], s.tier_counts[4],
                   s.tier_counts[5], s.tier_counts[6], s.promoted, s.demoted, s.slashes);
        }
    }
    /* Random order: one era of events shuffled across providers, batches of 4096. */
    uint64_t era = ERA0 + eras;
    size_t total = (size_t)np * EVENTS_PER_PROVIDER;
    gpurent_tier_event *all = malloc(total * sizeof *all);
    if (!all) return 1;
    size_t n = 0;
    for (uint32_t i = 0; i < np; i++) n += provider_events(all + n, keys[i], i, era);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rnd() % (i + 1);
        gpurent_tier_event t = all[i];
        all[i] = all[j];
        all[j] = t;
    }
    double t = now_s();
    for (size_t i = 0; i < n; i += 4096)
        if (gpurent_tier_record(e, all + i, n - i < 4096 ? n - i : 4096)) return 1;
    double rnd_t = now_s() - t, rnd_base = read_pass(all, n * sizeof *all);

    const void *slots, *prov;
    size_t sb, pb;
    gr_tier_memory(e, &slots, &sb, &prov, &pb);
    qsort(eval_t, ntimed, sizeof eval_t[0], cmp_double);
    qsort(eval_base, ntimed, sizeof eval_base[0], cmp_double);
    double ev_ms = eval_t[ntimed / 2] * 1e3, evb_ms = eval_base[ntimed / 2] * 1e3;
    double rec_rate = rec_n / rec_t / 1e6, rec_brate = rec_n / rec_base / 1e6;
    double rnd_rate = n / rnd_t / 1e6, rnd_brate = n / rnd_base / 1e6;
    printf("providers %u, history %u eras, state %.1f MiB (%.0f bytes per provider), %llu events recorded\n", np,
           history, (sb + pb) / 1048576.0, (double)(sb + pb) / np, (unsigned long long)rec_n);
    printf("BENCH tier_eval_era_%uk_30d %.2f ms baseline=read_state:%.2f ratio=%.2f\n", np / 1000, ev_ms, evb_ms,
           ev_ms / evb_ms);
    printf("BENCH tier_record_grouped %.2f Mevents/s baseline=read_events:%.2f ratio=%.3f\n", rec_rate, rec_brate,
           rec_rate / rec_brate);
    printf("BENCH tier_record_shuffled %.2f Mevents/s baseline=read_events:%.2f ratio=%.3f\n", rnd_rate, rnd_brate,
           rnd_rate / rnd_brate);
    free(all);
    free(ev);
    free(keys);
    gpurent_tier_engine_free(e);
    return signed_ingest(np < 20000 ? np : 20000);
}
