/* Three auditor nodes, end to end, with the public API only.
 *
 * Each era every auditor signs its audit report about a provider; every
 * node verifies the three signed reports against its own trust store
 * (auditor role, validity window, replay) and records them, then evaluates
 * the era. After ten eras the nodes hold identical evidence, so they
 * compute byte-identical tier certificates: auditor A signs its
 * certificate, B and C check that it is exactly theirs and co-sign it, and
 * a matchmaker verifies that a quorum of k = 3 auditors signed it (and that
 * two signatures are not enough).
 *
 * Keys come from fixed seeds so the run needs no files; a real node keeps
 * its key in a sealed key file (gpurent_key_load). Exits 0 when every step
 * gives the expected answer. */
#include <stdio.h>
#include <string.h>

#include "gpurent.h"

#define DAY 86400u
#define NODES 3
#define ERAS 10
#define FIRST_ERA 20000u
#define SKEW 300u

static int check(int rc, const char *what)
{
    if (rc) fprintf(stderr, "%s: %s (%s)\n", what, gpurent_strerror(rc), gpurent_last_error_message());
    return rc;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
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

/* One era: every auditor signs, every node records all signed reports. */
static int run_era(node *nodes, const uint8_t provider[32], uint64_t era)
{
    gpurent_buf env[NODES] = {{0}};
    const uint8_t *ptr[NODES];
    size_t len[NODES];
    int rc = 0;
    for (int j = 0; j < NODES && !rc; j++) {
        rc = signed_report(&nodes[j], j, provider, era, &env[j]);
        ptr[j] = env[j].data;
        len[j] = env[j].len;
    }
    const uint64_t now = era * DAY + 86300; /* the reports arrive at the end of the era */
    for (int n = 0; n < NODES && !rc; n++) {
        int32_t st[NODES];
        rc = gpurent_tier_record_signed_many(nodes[n].engine, nodes[n].trust, ptr, len, NODES, now, SKEW, 1, NULL, st);
        for (int j = 0; j < NODES && !rc; j++) rc = st[j];
        /* A copy of a report sent again is refused and changes nothing. */
        if (!rc && gpurent_tier_record_signed(nodes[n].engine, nodes[n].trust, ptr[n], len[n], now, SKEW) !=
                       GPURENT_E_REPLAYED) {
            fprintf(stderr, "a replayed report was not refused\n");
            rc = GPURENT_E_INTERNAL;
        }
        if (!rc) rc = gpurent_tier_evaluate(nodes[n].engine, era, NULL, NULL);
    }
    for (int j = 0; j < NODES; j++) gpurent_buf_free(&env[j]);
    return rc;
}

/* A signs, B and C co-sign after checking the bytes are theirs. */
static int sign_certificate(node *nodes, const uint8_t provider[32], uint64_t now, gpurent_buf *two,
                            gpurent_buf *three)
{
    gpurent_buf one = {0};
    int rc = gpurent_tier_certificate_sign(nodes[0].engine, nodes[0].key, provider, now, now + 7 * DAY, &one);
    if (!rc) rc = gpurent_tier_certificate_cosign(nodes[1].engine, nodes[1].key, nodes[1].trust, one.data, one.len,
                                                  now, SKEW, two);
    if (!rc) rc = gpurent_tier_certificate_cosign(nodes[2].engine, nodes[2].key, nodes[2].trust, two->data,
                                                  two->len, now, SKEW, three);
    gpurent_buf_free(&one);
    return rc;
}

static int same_certificates(node *nodes, const uint8_t provider[32])
{
    gpurent_buf first = {0};
    int rc = 0, same = 1;
    for (int n = 0; n < NODES && !rc; n++) {
        gpurent_tier_cert c;
        gpurent_buf b = {0};
        rc = gpurent_tier_certificate(nodes[n].engine, provider, &c);
        if (!rc) rc = gpurent_tier_cert_encode(&c, &b);
        if (!rc && n == 0) first = b;
        else if (!rc) {
            same &= b.len == first.len && memcmp(b.data, first.data, b.len) == 0;
            gpurent_buf_free(&b);
        }
    }
    if (!rc) printf("certificates of the %d nodes: %s (%zu bytes)\n", NODES, same ? "byte-identical" : "DIFFERENT",
                    first.len);
    gpurent_buf_free(&first);
    return rc ? rc : same ? 0 : GPURENT_E_CERT_MISMATCH;
}

/* The matchmaker's side: k = 3 signatures needed, 2 are not enough. */
static int matchmaker(const node *nodes, const gpurent_buf *two, const gpurent_buf *three, uint64_t now,
                      gpurent_tier_cert *cert)
{
    gpurent_trust *t = NULL;
    int rc = trust_auditors(nodes, &t);
    if (!rc) rc = gpurent_tier_certificate_verify(t, three->data, three->len, now + 60, SKEW, 3, cert);
    int short_rc = rc ? rc : gpurent_tier_certificate_verify(t, two->data, two->len, now + 60, SKEW, 3, NULL);
    if (!rc) printf("with 2 of 3 signatures: %s\n", gpurent_status_name(short_rc));
    if (!rc && short_rc != GPURENT_E_QUORUM_NOT_MET) rc = GPURENT_E_INTERNAL;
    gpurent_trust_free(t);
    return rc;
}

int main(void)
{
    if (check(gpurent_init(), "init")) return 1;
    node nodes[NODES];
    memset(nodes, 0, sizeof nodes);
    int rc = 0;
    for (int j = 0; j < NODES && !rc; j++) rc = check(node_start(&nodes[j], j), "node");
    for (int j = 0; j < NODES && !rc; j++) rc = check(trust_auditors(nodes, &nodes[j].trust), "trust");
    uint8_t provider[32];
    memset(provider, 0x42, 32);

    for (uint64_t era = FIRST_ERA; era < FIRST_ERA + ERAS && !rc; era++)
        rc = check(run_era(nodes, provider, era), "era");

    gpurent_tier_explanation x;
    gpurent_buf text = {0}, two = {0}, three = {0};
    if (!rc) rc = check(gpurent_tier_explain(nodes[0].engine, provider, &x), "explain");
    if (!rc) rc = check(gpurent_tier_explain_text(&x, &text), "explain text");
    if (!rc) printf("%.*s", (int)text.len, (const char *)text.data);
    if (!rc) rc = check(same_certificates(nodes, provider), "certificates");
    const uint64_t now = (FIRST_ERA + ERAS) * (uint64_t)DAY + 600;
    if (!rc) rc = check(sign_certificate(nodes, provider, now, &two, &three), "sign certificate");
    gpurent_tier_cert cert;
    if (!rc) rc = check(matchmaker(nodes, &two, &three, now, &cert), "verify certificate");
    if (!rc) {
        uint8_t digest[GPURENT_DIGEST_BYTES];
        char dh[2 * GPURENT_DIGEST_BYTES + 1];
        rc = check(gpurent_envelope_digest(three.data, three.len, digest), "digest");
        hex(digest, sizeof digest, dh);
        printf("signed tier certificate: era %llu, tier %u, score %u ppm, %u auditors named, "
               "%zu-byte envelope, 3 of 3 signatures verified\nstatement digest %s\n",
               (unsigned long long)cert.era, cert.tier, cert.score_ppm, cert.auditor_count, three.len, dh);
        if (!rc && cert.tier != 5) rc = 1; /* 10 good eras: out of incubation, tier 5 */
    }
    gpurent_buf_free(&text);
    gpurent_buf_free(&two);
    gpurent_buf_free(&three);
    for (int j = 0; j < NODES; j++) {
        gpurent_tier_engine_free(nodes[j].engine);
        gpurent_trust_free(nodes[j].trust);
        gpurent_key_free(nodes[j].key);
    }
    return rc ? 1 : 0;
}
