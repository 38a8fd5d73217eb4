/* Fuzz the tier engine's signed ingest: gpurent_tier_record_signed with the
 * input as the envelope, a fresh engine whose first era holds FUZZ_NOW, and
 * the fixture's trust store (auditors 1..3 trusted, 6 revoked).
 *
 * Oracles: a refusal is a decoder or attest status, EVIDENCE_REJECTED or
 * REPLAYED, with a detail; it changes neither the engine (no provider) nor
 * the trust store (the same bytes still verify without REPLAYED); where
 * gpurent_envelope_verify (audit statement, auditor role, no replay)
 * refuses, the ingest refuses with the same status. An accepted report
 * came from its own auditor, re-encodes to the payload, created exactly its
 * provider, and is REPLAYED when sent again. */
#include "fuzz_attest_common.h"

static int ingest_status_ok(int rc)
{
    return fuzz_attest_status_ok(rc) || rc == GPURENT_E_EVIDENCE_REJECTED;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gpurent_trust *trust;
    static gpurent_tier_options opts;
    if (!trust) {
        trust = fuzz_trust_new();
        gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
        o.first_era = FUZZ_NOW / o.era_s;
        o.max_providers = 4;
        opts = o;
    }
    gpurent_trust_replay_clear(trust);
    gpurent_tier_engine *e = NULL;
    if (gpurent_tier_engine_new(&e, &opts) != GPURENT_OK) fuzz_die("gpurent_tier_engine_new");

    gpurent_verify_options vo = GPURENT_VERIFY_OPTIONS_INIT;
    vo.statement = GPURENT_RECORD_AUDIT_REPORT;
    vo.required_role = GPURENT_ROLE_AUDITOR;
    vo.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    gpurent_verified *v = NULL;
    int vrc = gpurent_envelope_verify(trust, data, size, FUZZ_NOW, FUZZ_SKEW, &vo, &v);

    fuzz_alloc_reset();
    int rc = gpurent_tier_record_signed(e, trust, data, size, FUZZ_NOW, FUZZ_SKEW);
    fuzz_expect_small_allocations(size, "gpurent_tier_record_signed");
    if (rc != GPURENT_OK) {
        fuzz_expect_failure_in(rc, ingest_status_ok, "gpurent_tier_record_signed");
        FUZZ_ASSERT(rc != GPURENT_E_REPLAYED, "REPLAYED from an empty replay cache");
        if (vrc != GPURENT_OK)
            FUZZ_ASSERT(rc == vrc, "verify says %s, ingest says %s", gpurent_status_name(vrc),
                        gpurent_status_name(rc));
        FUZZ_ASSERT(gpurent_tier_provider_count(e) == 0, "a refused report created a provider");
        if (vrc == GPURENT_OK) {
            int again = gpurent_envelope_verify(trust, data, size, FUZZ_NOW, FUZZ_SKEW, NULL, NULL);
            FUZZ_ASSERT(again == GPURENT_OK, "a refused report was remembered (%s)", gpurent_status_name(again));
        }
    } else {
        FUZZ_ASSERT(vrc == GPURENT_OK, "ingest accepted what verification refuses (%s)", gpurent_status_name(vrc));
        size_t plen = 0;
        const uint8_t *p = gpurent_verified_payload_data(v, &plen);
        gpurent_envelope h;
        gpurent_verified_header(v, &h);
        gpurent_audit_report r;
        gpurent_audit_report_init(&r);
        FUZZ_ASSERT(gpurent_audit_report_decode(p, plen, &r) == GPURENT_OK, "accepted payload does not decode");
        FUZZ_ASSERT(memcmp(r.auditor_key, h.issuer, sizeof h.issuer) == 0, "report of another auditor accepted");
        gpurent_buf out = {0};
        fuzz_expect_same_bytes(gpurent_audit_report_encode(&r, &out), &out, p, plen, "gpurent_audit_report_encode");
        gpurent_buf_free(&out);
        uint8_t key[GPURENT_KEY_BYTES];
        FUZZ_ASSERT(gpurent_tier_provider_count(e) == 1 && gpurent_tier_provider_key(e, 0, key) == GPURENT_OK &&
                        memcmp(key, r.provider_key, sizeof key) == 0,
                    "the engine does not hold exactly the report's provider");
        gpurent_audit_report_clear(&r);
        rc = gpurent_tier_record_signed(e, trust, data, size, FUZZ_NOW, FUZZ_SKEW);
        FUZZ_ASSERT(rc == GPURENT_E_REPLAYED, "the same report twice: %s", gpurent_status_name(rc));
        FUZZ_ASSERT(gpurent_tier_provider_count(e) == 1, "a replay created a provider");
    }
    gpurent_verified_free(v);
    gpurent_tier_engine_free(e);
    return 0;
}
