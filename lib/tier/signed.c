/* Signed evidence in, signed certificates out: the tier engine meets the
 * attest module here.
 *
 * A signed audit report is recorded in four steps (tier.h): verify without
 * the replay check, decode and match the auditor, the engine's checks and
 * reservations, then the replay check (attest's, on the same trust store:
 * remember the statement unless it was seen), and only then change the
 * engine. The replay step comes last so that "a refused report changes
 * nothing" holds for the trust store too; it does not verify the
 * signature again (that doubled the cost of ingest). */
#include <string.h>

#include "tier_internal.h"
#include "../attest/trust_replay_internal.h"

static gpurent_verify_options report_opts(uint32_t check_replay)
{
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.statement = GPURENT_RECORD_AUDIT_REPORT;
    o.required_role = GPURENT_ROLE_AUDITOR;
    o.quorum = 1;
    o.check_replay = check_replay;
    return o;
}

/* Steps 2-4 for an envelope whose step 1 passed: `payload` is its verified
 * payload and `issuer` its verified issuer. */
static int record_verified(gpurent_tier_engine *e, gpurent_trust *trust, const gpurent_envelope *hdr,
                           const uint8_t *payload, size_t plen)
{
    const uint8_t *issuer = hdr->issuer;
    gpurent_audit_report r;
    gpurent_audit_report_init(&r);
    int rc = gpurent_audit_report_decode(payload, plen, &r);
    if (rc) return rc;
    if (memcmp(r.auditor_key, issuer, 32) != 0) {
        gpurent_audit_report_clear(&r);
        return gr_fail(GPURENT_E_EVIDENCE_REJECTED,
                       "signed audit report: auditor_key is not the envelope's issuer (an auditor speaks for itself)");
    }
    gr_report_plan plan;
    rc = gr_report_prepare(e, &r, &plan);
    if (!rc) {
        rc = gr_trust_replay_remember(trust, hdr->issuer, hdr->nonce);
        if (rc) gr_report_abort(&plan);
        else gr_report_apply(e, &r, &plan);
    }
    gpurent_audit_report_clear(&r);
    return rc;
}

GPURENT_API gpurent_status gpurent_tier_record_signed(gpurent_tier_engine *e, gpurent_trust *trust,
                                                      const uint8_t *env, size_t len, uint64_t now, uint32_t skew_s)
{
    GR_CHECK_ARG(e && trust, "engine or trust is NULL");
    GR_CHECK_ARG(env || len == 0, "envelope is NULL");
    gpurent_verify_options o = report_opts(GPURENT_VERIFY_REPLAY_OFF);
    gpurent_verified *v = NULL;
    int rc = gpurent_envelope_verify(trust, env, len, now, skew_s, &o, &v);
    if (rc) return rc;
    gpurent_envelope hdr;
    size_t plen = 0;
    const uint8_t *payload = gpurent_verified_payload_data(v, &plen);
    rc = gpurent_verified_header(v, &hdr);
    if (!rc) rc = record_verified(e, trust, &hdr, payload, plen);
    gpurent_verified_free(v);
    return rc;
}

/* Steps 2-4 of envelope i of a batch whose step 1 ran. */
static int record_item(gpurent_tier_engine *e, gpurent_trust *trust, const gpurent_verify_batch *b, size_t i,
                       const uint8_t *env, size_t len)
{
    int rc = gpurent_verify_batch_status(b, i);
    if (rc) return rc;
    gpurent_envelope hdr;
    gpurent_buf payload = {NULL, 0};
    rc = gpurent_envelope_decode(env, len, &hdr); /* the issuer of bytes already verified */
    if (!rc) rc = gpurent_verify_batch_payload(b, i, &payload);
    if (!rc) rc = record_verified(e, trust, &hdr, payload.data, payload.len);
    gpurent_buf_free(&payload);
    return rc;
}

static int fill_batch(gpurent_verify_batch *b, const uint8_t *const *env, const size_t *lens, size_t n,
                      int32_t *statuses)
{
    for (size_t i = 0; i < n; i++) {
        /* An envelope the batch will not take (oversize) gets a zero-length
         * stand-in, so indices stay aligned; its answer is the refusal. */
        int rc = gpurent_verify_batch_add(b, env[i], lens[i]);
        statuses[i] = rc;
        if (rc == GPURENT_E_NOMEM) return rc;
        if (rc && (rc = gpurent_verify_batch_add(b, NULL, 0))) return rc;
    }
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_tier_record_signed_many(gpurent_tier_engine *e, gpurent_trust *trust,
                                                           const uint8_t *const *env, const size_t *lens, size_t n,
                                                           uint64_t now, uint32_t skew_s, unsigned int threads,
                                                           const gpurent_cancel *cancel, int32_t *statuses)
{
    GR_CHECK_ARG(e && trust, "engine or trust is NULL");
    GR_CHECK_ARG(n == 0 || (env && lens && statuses), "envelopes, lens or statuses is NULL");
    for (size_t i = 0; i < n; i++) GR_CHECK_ARG(env[i] || lens[i] == 0, "an envelope is NULL");
    gpurent_verify_batch *b = NULL;
    int rc = gpurent_verify_batch_new(&b);
    if (!rc) rc = fill_batch(b, env, lens, n, statuses);
    gpurent_verify_options o = report_opts(GPURENT_VERIFY_REPLAY_OFF);
    if (!rc) rc = gpurent_verify_batch_run(b, trust, now, skew_s, &o, threads, cancel);
    if (rc) { /* nothing recorded: every answer is the call's */
        for (size_t i = 0; i < n; i++) statuses[i] = rc;
        gpurent_verify_batch_free(b);
        return rc;
    }
    size_t i = 0;
    for (; i < n && !gpurent_cancel_requested(cancel); i++)
        if (statuses[i] == GPURENT_OK) statuses[i] = record_item(e, trust, b, i, env[i], lens[i]);
    for (size_t k = i; k < n; k++) statuses[k] = GPURENT_E_CANCELLED;
    gpurent_verify_batch_free(b);
    return i < n ? gr_fail(GPURENT_E_CANCELLED, "tier record_signed_many: cancelled after %zu of %zu", i, n)
                 : GPURENT_OK;
}

/* ---------------- certificates ---------------- */

GPURENT_API gpurent_status gpurent_tier_certificate_sign(const gpurent_tier_engine *e, const gpurent_key *key,
                                                         const uint8_t provider_key[32], uint64_t issued_at,
                                                         uint64_t expires_at, gpurent_buf *out)
{
    GR_CHECK_ARG(e && key && provider_key && out, "engine, key, provider_key or out is NULL");
    gpurent_tier_cert c;
    gpurent_buf bytes = {NULL, 0};
    int rc = gpurent_tier_certificate(e, provider_key, &c);
    if (!rc) rc = gpurent_tier_cert_encode(&c, &bytes);
    if (rc) return rc;
    gpurent_envelope hdr;
    gpurent_envelope_init(&hdr);
    hdr.statement = GPURENT_RECORD_TIER_CERT;
    hdr.issued_at = issued_at;
    hdr.expires_at = expires_at;
    hdr.subject_len = 32;
    memcpy(hdr.subject, provider_key, 32);
    rc = gpurent_envelope_sign(key, &hdr, bytes.data, bytes.len, out);
    gpurent_buf_free(&bytes);
    return rc;
}

/* The first field in which two certificates differ, or NULL. */
static const char *cert_diff(const gpurent_tier_cert *a, const gpurent_tier_cert *b)
{
    if (memcmp(a->provider_key, b->provider_key, 32)) return "provider_key";
    if (a->era != b->era) return "era";
    if (a->tier != b->tier) return "tier";
    if (a->incubating != b->incubating) return "incubating";
    if (a->score_ppm != b->score_ppm) return "score_ppm";
    if (a->mean_ppm != b->mean_ppm) return "mean_ppm";
    if (a->confidence_ppm != b->confidence_ppm) return "confidence_ppm";
    if (a->uptime_ppm != b->uptime_ppm) return "uptime_ppm";
    if (a->eras_in_tier != b->eras_in_tier) return "eras_in_tier";
    if (a->points_ppm != b->points_ppm) return "points_ppm";
    if (memcmp(a->evidence_digest, b->evidence_digest, 32)) return "evidence_digest";
    if (memcmp(a->params_digest, b->params_digest, 32)) return "params_digest";
    if (a->auditor_count != b->auditor_count) return "auditor_count";
    if (memcmp(a->auditors, b->auditors, sizeof a->auditors)) return "auditors";
    return NULL;
}

/* Is the verified payload exactly the certificate this engine computes? */
static int same_as_ours(const gpurent_tier_engine *e, const uint8_t *payload, size_t plen)
{
    gpurent_tier_cert theirs, ours;
    int rc = gpurent_tier_cert_decode(payload, plen, &theirs);
    if (rc) return rc;
    rc = gpurent_tier_certificate(e, theirs.provider_key, &ours);
    if (rc == GPURENT_E_NOMEM) return rc;
    if (rc)
        return gr_fail(GPURENT_E_CERT_MISMATCH, "tier certificate for era %llu: this engine has none (%s)",
                       (unsigned long long)theirs.era, gpurent_status_name(rc));
    gpurent_buf mine = {NULL, 0};
    if ((rc = gpurent_tier_cert_encode(&ours, &mine))) return rc;
    int same = mine.len == plen && memcmp(mine.data, payload, plen) == 0;
    gpurent_buf_free(&mine);
    if (same) return GPURENT_OK;
    const char *field = cert_diff(&theirs, &ours);
    return gr_fail(GPURENT_E_CERT_MISMATCH, "tier certificate: %s differs from this engine's (era %llu here, %llu signed)",
                   field ? field : "encoding", (unsigned long long)ours.era, (unsigned long long)theirs.era);
}

static gpurent_verify_options cert_opts(uint32_t quorum)
{
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.statement = GPURENT_RECORD_TIER_CERT;
    o.required_role = GPURENT_ROLE_AUDITOR;
    o.quorum = quorum;
    o.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    return o;
}

GPURENT_API gpurent_status gpurent_tier_certificate_cosign(const gpurent_tier_engine *e, const gpurent_key *key,
                                                           gpurent_trust *trust, const uint8_t *env, size_t len,
                                                           uint64_t now, uint32_t skew_s, gpurent_buf *out)
{
    GR_CHECK_ARG(e && key && trust && out, "engine, key, trust or out is NULL");
    GR_CHECK_ARG(env || len == 0, "envelope is NULL");
    gpurent_verify_options o = cert_opts(1);
    gpurent_verified *v = NULL;
    int rc = gpurent_envelope_verify(trust, env, len, now, skew_s, &o, &v);
    if (rc) return rc;
    size_t plen = 0;
    const uint8_t *payload = gpurent_verified_payload_data(v, &plen);
    rc = same_as_ours(e, payload, plen);
    gpurent_verified_free(v);
    return rc ? rc : gpurent_envelope_cosign(key, env, len, out);
}

GPURENT_API gpurent_status gpurent_tier_certificate_verify(gpurent_trust *trust, const uint8_t *env, size_t len,
                                                           uint64_t now, uint32_t skew_s, uint32_t quorum,
                                                           gpurent_tier_cert *out)
{
    GR_CHECK_ARG(trust, "trust is NULL");
    GR_CHECK_ARG(env || len == 0, "envelope is NULL");
    GR_CHECK_ARG(quorum >= 1 && quorum <= GPURENT_ENVELOPE_MAX_SIGS, "quorum out of 1..GPURENT_ENVELOPE_MAX_SIGS");
    gpurent_verify_options o = cert_opts(quorum);
    gpurent_verified *v = NULL;
    int rc = gpurent_envelope_verify(trust, env, len, now, skew_s, &o, &v);
    if (rc) return rc;
    gpurent_envelope hdr;
    gpurent_tier_cert c;
    size_t plen = 0;
    const uint8_t *payload = gpurent_verified_payload_data(v, &plen);
    rc = gpurent_verified_header(v, &hdr);
    if (!rc) rc = gpurent_tier_cert_decode(payload, plen, &c);
    gpurent_verified_free(v);
    if (rc) return rc;
    if (hdr.subject_len && (hdr.subject_len != 32 || memcmp(hdr.subject, c.provider_key, 32) != 0))
        return gr_fail(GPURENT_E_INVALID_FIELD, "tier certificate envelope: subject is not the provider key");
    if (out) *out = c;
    return GPURENT_OK;
}
