/* An auditor that stops and resumes from its snapshot plus the tail of its
 * log (docs/snapshots.md, "Resume from a log"), with the public API only.
 *
 * Three auditor nodes read the same ordered log: each era, the three
 * auditors' signed reports, then an "evaluate" entry. Node C saves its trust
 * store and tier engine with the sequence number of the last entry applied,
 * keeps going, then crashes (its memory is dropped, what it did after the
 * snapshot is lost). It restarts from the snapshot files, replays the log
 * after the saved sequence (the reports it had seen before the crash are
 * not refused as replays: its restored replay window ends at the snapshot),
 * and at the end co-signs the certificate auditor A signed: its own
 * certificate is byte for byte A's, so the node is back in the quorum.
 * Exits 0 when every step gives the expected answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpurent.h"

#define DAY 86400u
#define NODES 3
#define ERAS 10
#define FIRST_ERA 20000u
#define SKEW 300u
#define PER_ERA (NODES + 1) /* log entries per era: the reports, then "evaluate" */

static int check(int rc, const char *what)
{
    if (rc) fprintf(stderr, "%s: %s (%s)\n", what, gpurent_strerror(rc), gpurent_last_error_message());
    return rc;
}

typedef struct node {
    gpurent_key *key;
    uint8_t pk[GPURENT_KEY_BYTES];
    gpurent_tier_engine *engine;
    gpurent_trust *trust;
} node;

/* A store trusting the three auditors' keys as auditors. */
static int trust_auditors(const node *nodes, gpurent_trust **out)
{
    int rc = gpurent_trust_new(out, NULL);
    for (int j = 0; j < NODES && !rc; j++) rc = gpurent_trust_add(*out, nodes[j].pk, GPURENT_ROLE_AUDITOR, 0, 0);
    return rc;
}

static int node_start(node *n, int j)
{
    uint8_t seed[GPURENT_SEED_BYTES];
    memset(seed, 0xA0 + j, sizeof seed); /* a fixed seed: for the example only */
    int rc = gpurent_key_from_seed(&n->key, seed);
    if (!rc) rc = gpurent_key_public(n->key, n->pk);
    gpurent_tier_options o;
    if (!rc) rc = gpurent_tier_options_init(&o, GPURENT_TIER_OPTIONS_VERSION);
    o.first_era = FIRST_ERA;
    if (!rc) rc = gpurent_tier_engine_new(&n->engine, &o);
    return rc;
}

/* Auditor j's signed report on the provider for one era. */
static int signed_report(const node *a, int j, const uint8_t provider[32], uint64_t era, gpurent_buf *out)
{
    gpurent_audit_report r;
    gpurent_audit_report_init(&r);
    memcpy(r.provider_key, provider, 32);
    memcpy(r.auditor_key, a->pk, 32);
    r.time_s = era * DAY + 86000 + (uint64_t)j;
    r.gpu_report = r.integrity = r.security = GPURENT_CHECK_PASSED;
    r.stake_observed = 1;
    r.stake_micro = 500000000;
    int rc = 0;
    /* Hourly GPU challenges, a CPU challenge every six hours; one GPU miss. */
    for (uint32_t h = 0; h < 24 && !rc; h++)
        rc = gpurent_audit_report_add_challenge(&r, era * DAY + h * 3600 + (uint64_t)j, GPURENT_CHALLENGE_GPU,
                                                !(h == 13 && j == 1));
    for (uint32_t h = 0; h < 24 && !rc; h += 6)
        rc = gpurent_audit_report_add_challenge(&r, era * DAY + h * 3600 + 1800 + (uint64_t)j, GPURENT_CHALLENGE_CPU, 1);
    /* Job outcomes are counted, not deduplicated across auditors: one auditor
     * (the one watching the lease) reports each job. */
    if (!rc && j == 0) rc = gpurent_audit_report_add_job(&r, "job-1", era * DAY + 70000, GPURENT_JOB_COMPLETED);
    gpurent_buf payload = {0};
    if (!rc) rc = gpurent_audit_report_encode(&r, &payload);
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_AUDIT_REPORT;
    h.issued_at = r.time_s;
    h.expires_at = r.time_s + 7 * DAY;
    h.subject_len = 32;
    memcpy(h.subject, provider, 32);
    if (!rc) rc = gpurent_envelope_sign(a->key, &h, payload.data, payload.len, out);
    gpurent_buf_free(&payload);
    gpurent_audit_report_clear(&r);
    return rc;
}


/* The log: entry s (from 1) of era FIRST_ERA + (s - 1) / PER_ERA is auditor
 * (s - 1) % PER_ERA's report, or "evaluate" for the last of the era. */
typedef struct log_entry {
    uint64_t seq, era;
    gpurent_buf env; /* empty for "evaluate" */
} log_entry;

static int build_log(node *nodes, const uint8_t provider[32], log_entry *log)
{
    int rc = 0;
    for (uint64_t s = 1; s <= (uint64_t)ERAS * PER_ERA && !rc; s++) {
        log_entry *l = &log[s - 1];
        l->seq = s;
        l->era = FIRST_ERA + (s - 1) / PER_ERA;
        int j = (int)((s - 1) % PER_ERA);
        if (j < NODES) rc = signed_report(&nodes[j], j, provider, l->era, &l->env);
    }
    return rc;
}

static int apply(node *n, const log_entry *l)
{
    if (!l->env.len) return gpurent_tier_evaluate(n->engine, l->era, NULL, NULL);
    return gpurent_tier_record_signed(n->engine, n->trust, l->env.data, l->env.len, l->era * DAY + 86300, SKEW);
}

/* Save both at the same sequence: trust store first (docs/snapshots.md). */
static int save(const node *n, const char *dir, uint64_t seq)
{
    char p[512];
    snprintf(p, sizeof p, "%s/trust.snap", dir);
    int rc = gpurent_trust_save_file(n->trust, seq, p);
    snprintf(p, sizeof p, "%s/tier.snap", dir);
    if (!rc) rc = gpurent_tier_save_file(n->engine, seq, p);
    return rc;
}

static int restore(node *n, const char *dir, const gpurent_tier_options *o, uint64_t *seq)
{
    char p[512];
    uint64_t s1 = 0, s2 = 0;
    snprintf(p, sizeof p, "%s/trust.snap", dir);
    int rc = gpurent_trust_load_file(&n->trust, p, NULL, &s1);
    snprintf(p, sizeof p, "%s/tier.snap", dir);
    if (!rc) rc = gpurent_tier_load_file(&n->engine, p, o, &s2);
    if (!rc && s1 != s2) rc = GPURENT_E_INTERNAL;
    *seq = s2;
    return rc;
}

int main(void)
{
    if (check(gpurent_init(), "init")) return 1;
    node nodes[NODES];
    memset(nodes, 0, sizeof nodes);
    static log_entry log[ERAS * PER_ERA];
    memset(log, 0, sizeof log);
    char dir[] = "/tmp/gpurent-resume-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    int rc = 0;
    for (int j = 0; j < NODES && !rc; j++) rc = check(node_start(&nodes[j], j), "node");
    for (int j = 0; j < NODES && !rc; j++) rc = check(trust_auditors(nodes, &nodes[j].trust), "trust");
    uint8_t provider[32];
    memset(provider, 0x42, 32);
    if (!rc) rc = check(build_log(nodes, provider, log), "log");
    gpurent_tier_options o;
    if (!rc) rc = gpurent_tier_options_init(&o, GPURENT_TIER_OPTIONS_VERSION);
    o.first_era = FIRST_ERA;

    const uint64_t snap_at = 4 * PER_ERA + 2, crash_at = 6 * PER_ERA + 1, last = (uint64_t)ERAS * PER_ERA;
    uint64_t resumed = 0;
    for (uint64_t s = 1; s <= last && !rc; s++) {
        for (int j = 0; j < NODES - 1 && !rc; j++) rc = check(apply(&nodes[j], &log[s - 1]), "A, B apply");
        if (!rc) rc = check(apply(&nodes[2], &log[s - 1]), "C apply");
        if (!rc && s == snap_at) rc = check(save(&nodes[2], dir, s), "C saves");
        if (!rc && s == crash_at) {
            /* C crashes: everything since the snapshot is lost */
            gpurent_tier_engine_free(nodes[2].engine);
            gpurent_trust_free(nodes[2].trust);
            nodes[2].engine = NULL;
            nodes[2].trust = NULL;
            rc = check(restore(&nodes[2], dir, &o, &resumed), "C restores");
            for (uint64_t t = resumed + 1; t <= s && !rc; t++) rc = check(apply(&nodes[2], &log[t - 1]), "C replays");
            if (!rc) printf("C restarted from its snapshot at entry %llu and replayed entries %llu..%llu\n",
                            (unsigned long long)resumed, (unsigned long long)resumed + 1, (unsigned long long)s);
        }
    }
    /* back in the quorum: A signs, B and C co-sign after checking the bytes are theirs */
    const uint64_t now = (FIRST_ERA + ERAS) * (uint64_t)DAY + 600;
    gpurent_buf one = {0}, two = {0}, three = {0};
    if (!rc) rc = check(gpurent_tier_certificate_sign(nodes[0].engine, nodes[0].key, provider, now, now + DAY, &one), "A signs");
    if (!rc) rc = check(gpurent_tier_certificate_cosign(nodes[1].engine, nodes[1].key, nodes[1].trust, one.data, one.len, now, SKEW, &two), "B co-signs");
    if (!rc) rc = check(gpurent_tier_certificate_cosign(nodes[2].engine, nodes[2].key, nodes[2].trust, two.data, two.len, now, SKEW, &three), "C co-signs");
    gpurent_tier_cert cert;
    if (!rc) rc = check(gpurent_tier_certificate_verify(nodes[0].trust, three.data, three.len, now + 60, SKEW, 3, &cert), "verify");
    if (!rc) printf("certificate of era %llu, tier %u: signed by 3 of 3 auditors, the restarted one included\n",
                    (unsigned long long)cert.era, cert.tier);
    gpurent_buf_free(&one);
    gpurent_buf_free(&two);
    gpurent_buf_free(&three);
    for (size_t i = 0; i < sizeof log / sizeof *log; i++) gpurent_buf_free(&log[i].env);
    for (int j = 0; j < NODES; j++) {
        gpurent_tier_engine_free(nodes[j].engine);
        gpurent_trust_free(nodes[j].trust);
        gpurent_key_free(nodes[j].key);
    }
    char p[512];
    snprintf(p, sizeof p, "%s/trust.snap", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/tier.snap", dir);
    unlink(p);
    rmdir(dir);
    return rc ? 1 : 0;
}
