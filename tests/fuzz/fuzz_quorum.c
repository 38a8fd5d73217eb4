/* Fuzz quorum verification: the input is a tier-certificate envelope that
 * must carry signatures of 2 of the 3 fixture auditors (fuzz_fixture.h).
 * gpurent_envelope_verify (statement tier certificate, auditor role, quorum
 * 2, no replay check) and gpurent_tier_certificate_verify (quorum 2) see
 * the same bytes.
 *
 * Oracles: refusals are decoder or attest statuses with a detail; where
 * envelope verification refuses, certificate verification refuses with the
 * same status; what verifies counts at least 2 distinct auditors, none
 * revoked or unknown, re-signs to the same bytes, and its certificate
 * (when tier_certificate_verify also accepts) re-encodes to the payload.
 * Certificate verification may refuse a verified envelope only with
 * INVALID_FIELD (subject not the provider) or a wire status of the
 * certificate. */
#include "fuzz_attest_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gpurent_trust *trust;
    if (!trust) trust = fuzz_trust_new();
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.statement = GPURENT_RECORD_TIER_CERT;
    o.required_role = GPURENT_ROLE_AUDITOR;
    o.quorum = 2;
    o.check_replay = GPURENT_VERIFY_REPLAY_OFF;

    gpurent_verified *v = NULL;
    fuzz_alloc_reset();
    int rc = gpurent_envelope_verify(trust, data, size, FUZZ_NOW, FUZZ_SKEW, &o, &v);
    fuzz_expect_small_allocations(size, "gpurent_envelope_verify");
    static gpurent_tier_cert cert, before;
    memset(&cert, 0xa5, sizeof cert);
    memcpy(&before, &cert, sizeof cert);
    int crc = gpurent_tier_certificate_verify(trust, data, size, FUZZ_NOW, FUZZ_SKEW, 2, &cert);
    if (rc != GPURENT_OK) {
        fuzz_expect_failure_in(rc, fuzz_attest_status_ok, "gpurent_envelope_verify");
        FUZZ_ASSERT(crc == rc, "envelope verify says %s, certificate verify %s", gpurent_status_name(rc),
                    gpurent_status_name(crc));
        FUZZ_ASSERT(memcmp(&cert, &before, sizeof cert) == 0, "certificate verify failed and wrote its output");
        return 0;
    }
    FUZZ_ASSERT(gpurent_verified_signer_count(v) >= 2, "quorum 2 met by %u signers", gpurent_verified_signer_count(v));
    for (uint32_t i = 0; i < gpurent_verified_signer_count(v); i++) {
        uint8_t pk[GPURENT_KEY_BYTES];
        gpurent_verified_signer(v, i, pk);
        int k = fuzz_key_index(pk);
        FUZZ_ASSERT(k == FUZZ_KEY_AUDITOR1 || k == FUZZ_KEY_AUDITOR2 || k == FUZZ_KEY_AUDITOR3,
                    "signer %u (key %d) counted towards an auditor quorum", i, k);
    }
    fuzz_expect_verified(v, data, size, "gpurent_envelope_verify");
    if (crc != GPURENT_OK) {
        fuzz_expect_clean_failure(crc, "gpurent_tier_certificate_verify");
        FUZZ_ASSERT(memcmp(&cert, &before, sizeof cert) == 0, "certificate verify failed and wrote its output");
    } else {
        gpurent_buf out = {0};
        size_t plen = 0;
        const uint8_t *p = gpurent_verified_payload_data(v, &plen);
        fuzz_expect_same_bytes(gpurent_tier_cert_encode(&cert, &out), &out, p, plen, "gpurent_tier_cert_encode");
        gpurent_buf_free(&out);
    }
    gpurent_verified_free(v);
    return 0;
}
