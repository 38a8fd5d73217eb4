/* Oracles shared by the signed-statement harnesses (envelope, quorum,
 * keyfile, tier_signed): the statuses attest may give untrusted bytes, and
 * the re-signing check (Ed25519 is deterministic, so an envelope that
 * verifies is reproduced byte for byte by signing its payload again with the
 * same header and keys). */
#ifndef GPURENT_FUZZ_ATTEST_COMMON_H
#define GPURENT_FUZZ_ATTEST_COMMON_H

#include "fuzz_common.h"
#include "fuzz_fixture.h"

/* A decoder status, or one of attest's verdicts on a statement. */
static inline int fuzz_attest_status_ok(int rc)
{
    if (fuzz_decoder_status_ok(rc)) return 1;
    switch (rc) {
    case GPURENT_E_BAD_SIGNATURE:
    case GPURENT_E_EXPIRED:
    case GPURENT_E_NOT_YET_VALID:
    case GPURENT_E_UNKNOWN_ISSUER:
    case GPURENT_E_ROLE_NOT_ALLOWED:
    case GPURENT_E_REVOKED:
    case GPURENT_E_REPLAYED:
    case GPURENT_E_QUORUM_NOT_MET:
        return 1;
    default:
        return 0;
    }
}

/* fuzz_expect_clean_failure() with a caller-chosen set of statuses. */
static inline void fuzz_expect_failure_in(int rc, int (*ok)(int), const char *call)
{
    FUZZ_ASSERT(ok(rc), "%s returned unexpected status %d (%s)", call, rc, gpurent_status_name(rc));
    FUZZ_ASSERT(gpurent_last_error_status() == rc, "%s: last error status %d, returned %d", call,
                gpurent_last_error_status(), rc);
    FUZZ_ASSERT(gpurent_last_error_message()[0] != '\0', "%s failed without a detail message", call);
    FUZZ_ASSERT(strcmp(gpurent_strerror(rc), "unknown status") != 0, "%s: status %d has no message", call, rc);
}

/* `v` verified `data`: check what it hands back, and when every signature in
 * the envelope counted, sign the payload again with the fixture's keys and
 * compare bytes. */
static inline void fuzz_expect_verified(const gpurent_verified *v, const uint8_t *data, size_t size,
                                        const char *call)
{
    gpurent_envelope h, d;
    FUZZ_ASSERT(gpurent_verified_header(v, &h) == GPURENT_OK, "%s: no header", call);
    FUZZ_ASSERT(gpurent_envelope_decode(data, size, &d) == GPURENT_OK, "%s accepted what envelope_decode refuses",
                call);
    FUZZ_ASSERT(d.statement == h.statement && memcmp(d.issuer, h.issuer, sizeof d.issuer) == 0 &&
                    d.issued_at == h.issued_at && d.expires_at == h.expires_at,
                "%s: verified header differs from the decoded one", call);
    fuzz_expect_record(data, size, GPURENT_RECORD_ENVELOPE, call);
    size_t plen = 0;
    const uint8_t *p = gpurent_verified_payload_data(v, &plen);
    FUZZ_ASSERT(p && plen == d.payload_len, "%s: payload of %zu bytes, header says %u", call, plen, d.payload_len);
    fuzz_expect_record(p, plen, h.statement, "verified payload");
    uint8_t dg1[GPURENT_DIGEST_BYTES], dg2[GPURENT_DIGEST_BYTES];
    FUZZ_ASSERT(gpurent_verified_digest(v, dg1) == GPURENT_OK && gpurent_envelope_digest(data, size, dg2) == GPURENT_OK &&
                    memcmp(dg1, dg2, sizeof dg1) == 0,
                "%s: verified digest differs from gpurent_envelope_digest", call);
    uint32_t n = gpurent_verified_signer_count(v);
    FUZZ_ASSERT(n >= 1 && n <= d.signature_count, "%s: %u signers counted of %u", call, n, d.signature_count);
    int issuer = fuzz_key_index(h.issuer);
    FUZZ_ASSERT(issuer >= 0, "%s: verified an issuer the fixture does not hold", call);
    unsigned co[GPURENT_ENVELOPE_MAX_SIGS], nco = 0;
    int issuer_counted = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t pk[GPURENT_KEY_BYTES];
        FUZZ_ASSERT(gpurent_verified_signer(v, i, pk) == GPURENT_OK, "%s: signer %u", call, i);
        int k = fuzz_key_index(pk);
        FUZZ_ASSERT(k >= 0 && k != FUZZ_KEY_REVOKED && k != FUZZ_KEY_STRANGER,
                    "%s: counted signer %u is key %d (revoked, unknown or foreign)", call, i, k);
        if (k == issuer) issuer_counted = 1;
        else co[nco++] = (unsigned)k;
    }
    if (!issuer_counted || n != d.signature_count) return; /* signatures that did not count: not reproducible */
    gpurent_buf again = {0};
    int rc = fuzz_sign(&h, (unsigned)issuer, co, nco, p, plen, &again);
    fuzz_expect_same_bytes(rc, &again, data, size, "re-signing a verified envelope");
    gpurent_buf_free(&again);
}

#endif
