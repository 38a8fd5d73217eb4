/* Signing envelopes, co-signing them (quorums) and their digest. */
#include <sodium.h>
#include <string.h>

#include "attest_internal.h"

static int nonce_is_zero(const uint8_t *n)
{
    return sodium_is_zero(n, GPURENT_NONCE_BYTES);
}

/* Fill in the issuer and the nonce, then check the header and payload. */
static int prepare(const gpurent_key *key, const gpurent_envelope *hdr, const uint8_t *payload, size_t len,
                   gpurent_envelope *h)
{
    *h = *hdr;
    if (!sodium_is_zero(h->issuer, GPURENT_KEY_BYTES) &&
        memcmp(h->issuer, gr_key_pk(key), GPURENT_KEY_BYTES) != 0)
        return gr_fail(GPURENT_E_KEY_MISMATCH, "envelope.issuer: differs from the signing key's public key");
    memcpy(h->issuer, gr_key_pk(key), GPURENT_KEY_BYTES);
    if (nonce_is_zero(h->nonce)) randombytes_buf(h->nonce, GPURENT_NONCE_BYTES);
    int rc = gr_env_check_header(h);
    return rc ? rc : gr_env_check_payload(payload, len, h->statement);
}

/* Sign the body `rest` of a statement. */
static int sign_rest(const gpurent_key *key, uint32_t statement, const uint8_t *rest, size_t rest_len,
                     uint8_t sig[GPURENT_SIGNATURE_BYTES])
{
    gr_msg m;
    int rc = gr_msg_build(&m, statement, rest, rest_len);
    if (rc) return rc;
    rc = gr_key_sign(key, m.p, m.len, sig);
    gr_msg_free(&m);
    return rc;
}

GPURENT_API gpurent_status gpurent_envelope_sign(const gpurent_key *key, const gpurent_envelope *hdr,
                                                 const uint8_t *payload, size_t payload_len, gpurent_buf *out)
{
    GR_CHECK_ARG(key && hdr && out, "key, hdr or out is NULL");
    GR_CHECK_ARG(payload || payload_len == 0, "payload is NULL");
    gpurent_envelope h;
    uint8_t sig[GPURENT_SIGNATURE_BYTES];
    int rc = gr_ensure_init();
    if (!rc) rc = prepare(key, hdr, payload, payload_len, &h);
    if (rc) return rc;
    gr_writer w;
    gr_wr_init(&w);
    gr_env_write_body(&w, &h, payload, payload_len);
    if (w.out.failed) rc = gr_fail(GPURENT_E_NOMEM, "envelope body");
    if (!rc) rc = sign_rest(key, h.statement, w.out.data + 1, w.out.len - 1, sig);
    if (!rc) {
        gr_env_sig s = {h.issuer, sig};
        rc = gr_env_assemble(w.out.data + 1, w.out.len - 1, &s, 1, out);
    }
    gr_wr_abort(&w);
    return rc;
}

GPURENT_API gpurent_status gpurent_envelope_cosign(const gpurent_key *key, const uint8_t *envelope, size_t len,
                                                   gpurent_buf *out)
{
    GR_CHECK_ARG(key && out, "key or out is NULL");
    GR_CHECK_ARG(envelope || len == 0, "envelope is NULL");
    gr_env_view v;
    gr_env_sig sigs[GPURENT_ENVELOPE_MAX_SIGS];
    uint8_t sig[GPURENT_SIGNATURE_BYTES];
    const uint8_t *pk = gr_key_pk(key);
    int rc = gr_ensure_init();
    if (!rc) rc = gr_env_parse(envelope, len, &v);
    if (rc) return rc;
    uint32_t at = 0, n = v.sig_count;
    while (at < n && memcmp(v.sigs[at].key, pk, GPURENT_KEY_BYTES) < 0) at++;
    if (at < n && memcmp(v.sigs[at].key, pk, GPURENT_KEY_BYTES) == 0)
        return gr_fail(GPURENT_E_EXISTS, "envelope: this key already signed it");
    if (n == GPURENT_ENVELOPE_MAX_SIGS)
        return gr_fail(GPURENT_E_LIMIT, "envelope: already %u signatures, the limit", n);
    if ((rc = sign_rest(key, v.hdr.statement, v.body, v.body_len, sig))) return rc;
    memcpy(sigs, v.sigs, at * sizeof sigs[0]);
    sigs[at].key = pk;
    sigs[at].sig = sig;
    memcpy(sigs + at + 1, v.sigs + at, (n - at) * sizeof sigs[0]);
    return gr_env_assemble(v.body, v.body_len, sigs, n + 1, out);
}

GPURENT_API gpurent_status gpurent_envelope_digest(const uint8_t *envelope, size_t len,
                                                   uint8_t digest[GPURENT_DIGEST_BYTES])
{
    GR_CHECK_ARG(envelope || len == 0, "envelope is NULL");
    GR_CHECK_ARG(digest, "digest is NULL");
    gr_env_view v;
    int rc = gr_ensure_init();
    if (!rc) rc = gr_env_parse(envelope, len, &v);
    return rc ? rc : gr_statement_digest(v.hdr.statement, v.body, v.body_len, digest);
}
