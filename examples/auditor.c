/* An auditor node's loop, with the public API only: audit reports arrive as
 * canonical bytes, are decoded and recorded, each era is evaluated, and the
 * provider's tier certificate is encoded so that every auditor that saw the
 * same evidence can sign the same bytes.
 *
 * Signing and verifying envelopes belongs to the attest module; until it is
 * part of the library this example records reports it decoded itself (in a
 * real auditor they come out of verified envelopes) and prints the
 * certificate bytes unsigned. */
#include <stdio.h>
#include <string.h>

#include "gpurent.h"

#define DAY 86400u

static int check(int rc, const char *what)
{
    if (rc) fprintf(stderr, "%s: %s (%s)\n", what, gpurent_strerror(rc), gpurent_last_error_message());
    return rc;
}

/* What another auditor would send us: its report for one era, as bytes. */
static int make_report(const uint8_t provider[32], uint8_t auditor, uint64_t era, gpurent_buf *out)
{
    gpurent_audit_report r;
    gpurent_audit_report_init(&r);
    memcpy(r.provider_key, provider, 32);
    memset(r.auditor_key, auditor, 32);
    r.time_s = era * DAY + 86000 + auditor;
    r.gpu_report = r.integrity = r.security = GPURENT_CHECK_PASSED;
    r.stake_observed = 1;
    r.stake_micro = 500000000;
    int rc = 0;
    /* Hourly GPU challenges, a CPU challenge every six hours; one GPU miss. */
    for (uint32_t h = 0; h < 24 && !rc; h++)
        rc = gpurent_audit_report_add_challenge(&r, era * DAY + h * 3600 + auditor, GPURENT_CHALLENGE_GPU,
                                                !(h == 13 && auditor == 0xA1));
    for (uint32_t h = 0; h < 24 && !rc; h += 6)
        rc = gpurent_audit_report_add_challenge(&r, era * DAY + h * 3600 + 1800 + auditor, GPURENT_CHALLENGE_CPU, 1);
    /* Job outcomes are counted, not deduplicated across auditors: one auditor
     * (the one watching the lease) reports each job. */
    if (!rc && auditor == 0xA0) rc = gpurent_audit_report_add_job(&r, "job-1", era * DAY + 70000, GPURENT_JOB_COMPLETED);
    if (!rc) rc = gpurent_audit_report_encode(&r, out);
    gpurent_audit_report_clear(&r);
    return rc;
}

int main(void)
{
    if (check(gpurent_init(), "init")) return 1;
    const uint64_t first_era = 20000;
    gpurent_tier_options o;
    gpurent_tier_options_init(&o, GPURENT_TIER_OPTIONS_VERSION);
    o.first_era = first_era;
    gpurent_tier_engine *engine;
    if (check(gpurent_tier_engine_new(&engine, &o), "engine")) return 1;
    uint8_t provider[32];
    memset(provider, 0x42, 32);

    for (uint64_t era = first_era; era < first_era + 10; era++) {
        for (uint8_t auditor = 0xA0; auditor < 0xA3; auditor++) {
            gpurent_buf bytes = {0};
            gpurent_audit_report r;
            gpurent_audit_report_init(&r);
            int rc = make_report(provider, auditor, era, &bytes);
            if (!rc) rc = gpurent_audit_report_decode(bytes.data, bytes.len, &r);
            if (!rc) rc = gpurent_tier_record_report(engine, &r);
            gpurent_audit_report_clear(&r);
            gpurent_buf_free(&bytes);
            if (check(rc, "report")) return 1;
        }
        gpurent_tier_era_summary s;
        if (check(gpurent_tier_evaluate(engine, era, NULL, &s), "evaluate")) return 1;
    }

    gpurent_tier_explanation x;
    gpurent_buf text = {0};
    if (check(gpurent_tier_explain(engine, provider, &x), "explain") ||
        check(gpurent_tier_explain_text(&x, &text), "explain text"))
        return 1;
    printf("%.*s", (int)text.len, (const char *)text.data);
    gpurent_buf_free(&text);

    gpurent_tier_cert cert;
    gpurent_buf bytes = {0};
    if (check(gpurent_tier_certificate(engine, provider, &cert), "certificate") ||
        check(gpurent_tier_cert_encode(&cert, &bytes), "encode"))
        return 1;
    printf("tier certificate, era %llu, tier %u, score %u ppm, %u auditors, %zu bytes (unsigned):\n",
           (unsigned long long)cert.era, cert.tier, cert.score_ppm, cert.auditor_count, bytes.len);
    for (size_t i = 0; i < bytes.len; i++) printf("%02x%s", bytes.data[i], i % 32 == 31 ? "\n" : "");
    printf("\n");
    gpurent_buf_free(&bytes);
    gpurent_tier_engine_free(engine);
    return cert.tier == 5 ? 0 : 1; /* 10 good eras: out of incubation, tier 5 */
}
