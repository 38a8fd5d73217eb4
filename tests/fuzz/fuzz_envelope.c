/* Fuzz signed envelopes: gpurent_envelope_decode (header only, no trust) and
 * gpurent_envelope_verify against the fixture's trust store (fuzz_fixture.h)
 * at a fixed time, with the replay check.
 *
 * Oracles: both refuse bytes with a decoder or attest status and a detail;
 * a decode failure is also a verification failure with the same status
 * (form is checked first); decode never writes its output on failure; an
 * envelope that verifies is canonical, its payload is a canonical record of
 * the header's statement type, its digest matches gpurent_envelope_digest,
 * only trusted unrevoked keys counted, signing its payload again with the
 * same header and keys gives the same bytes, and verifying it a second time
 * is GPURENT_E_REPLAYED. No allocation is far larger than the input. */
#include "fuzz_attest_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gpurent_trust *trust;
    if (!trust) trust = fuzz_trust_new();
    gpurent_trust_replay_clear(trust);

    gpurent_envelope e, before;
    memset(&e, 0xa5, sizeof e);
    memcpy(&before, &e, sizeof e);
    fuzz_alloc_reset();
    int drc = gpurent_envelope_decode(data, size, &e);
    fuzz_expect_small_allocations(size, "gpurent_envelope_decode");
    if (drc != GPURENT_OK) {
        fuzz_expect_clean_failure(drc, "gpurent_envelope_decode");
        FUZZ_ASSERT(memcmp(&e, &before, sizeof e) == 0, "gpurent_envelope_decode wrote its output and failed");
    } else {
        fuzz_expect_record(data, size, GPURENT_RECORD_ENVELOPE, "gpurent_envelope_decode");
        FUZZ_ASSERT(e.statement != GPURENT_RECORD_ENVELOPE, "an envelope inside an envelope");
        FUZZ_ASSERT(e.subject_len <= GPURENT_SUBJECT_MAX, "subject_len %u", e.subject_len);
        FUZZ_ASSERT(e.signature_count >= 1 && e.signature_count <= GPURENT_ENVELOPE_MAX_SIGS, "signature_count %u",
                    e.signature_count);
        FUZZ_ASSERT(e.expires_at > e.issued_at, "window %llu..%llu", (unsigned long long)e.issued_at,
                    (unsigned long long)e.expires_at);
    }

    gpurent_verified *v = (gpurent_verified *)&before; /* must come back NULL on failure */
    fuzz_alloc_reset();
    int rc = gpurent_envelope_verify(trust, data, size, FUZZ_NOW, FUZZ_SKEW, NULL, &v);
    fuzz_expect_small_allocations(size, "gpurent_envelope_verify");
    if (rc != GPURENT_OK) {
        fuzz_expect_failure_in(rc, fuzz_attest_status_ok, "gpurent_envelope_verify");
        FUZZ_ASSERT(v == NULL, "gpurent_envelope_verify failed and left *out set");
        if (drc != GPURENT_OK)
            FUZZ_ASSERT(rc == drc, "decode says %s, verify says %s", gpurent_status_name(drc),
                        gpurent_status_name(rc));
        return 0;
    }
    FUZZ_ASSERT(drc == GPURENT_OK, "verify accepted what decode refused (%s)", gpurent_status_name(drc));
    fuzz_expect_verified(v, data, size, "gpurent_envelope_verify");
    gpurent_verified_free(v);
    rc = gpurent_envelope_verify(trust, data, size, FUZZ_NOW, FUZZ_SKEW, NULL, NULL);
    FUZZ_ASSERT(rc == GPURENT_E_REPLAYED, "a second verification gives %s", gpurent_status_name(rc));
    return 0;
}
