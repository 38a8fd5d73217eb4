/* Envelope verification: structure, window, trust, signatures, quorum,
 * replay; the result handle; signed revocations. */
#include <sodium.h>
#include <string.h>

#include "attest_internal.h"

struct gpurent_verified {
    gpurent_envelope hdr;
    uint32_t nsigners;
    uint8_t signers[GPURENT_ENVELOPE_MAX_SIGS][GPURENT_KEY_BYTES];
    size_t payload_off; /* into rest */
    size_t rest_len;
    uint8_t rest[]; /* the signed body after its map header (holds the payload) */
};

GPURENT_API gpurent_status gpurent_verify_options_init(gpurent_verify_options *opts, unsigned int version)
{
    GR_CHECK_ARG(opts, "opts is NULL");
    int rc = gr_check_version(version, GPURENT_VERIFY_OPTIONS_VERSION, "verify_options");
    if (rc) return rc;
    gpurent_verify_options d = GPURENT_VERIFY_OPTIONS_INIT;
    *opts = d;
    opts->version = version;
    return GPURENT_OK;
}

int gr_vopts_resolve(const gpurent_verify_options *opts, gr_vopts *o)
{
    gpurent_verify_options d = GPURENT_VERIFY_OPTIONS_INIT;
    int rc;
    if (opts && (rc = gr_check_version(opts->version, GPURENT_VERIFY_OPTIONS_VERSION, "verify_options")))
        return rc;
    if (!opts) opts = &d;
    /* Zero means the default in every field: a quorum of one, replay checked. */
    if (opts->quorum > GPURENT_ENVELOPE_MAX_SIGS)
        return gr_fail(GPURENT_E_INVALID_ARG, "verify_options.quorum: %u, allowed 0 (one) or 1..%u", opts->quorum,
                       GPURENT_ENVELOPE_MAX_SIGS);
    if (opts->required_role & ~GPURENT_ROLE_ALL)
        return gr_fail(GPURENT_E_INVALID_ARG, "verify_options.required_role: 0x%x unknown bits", opts->required_role);
    if (opts->check_replay > GPURENT_VERIFY_REPLAY_OFF)
        return gr_fail(GPURENT_E_INVALID_ARG,
                       "verify_options.check_replay: %u, allowed 0 or GPURENT_VERIFY_REPLAY_CHECK (1: check) or "
                       "GPURENT_VERIFY_REPLAY_OFF (2)",
                       opts->check_replay);
    o->statement = opts->statement;
    o->role = opts->required_role;
    o->quorum = opts->quorum ? opts->quorum : 1;
    o->check_replay = opts->check_replay != GPURENT_VERIFY_REPLAY_OFF;
    o->self_key = NULL;
    return GPURENT_OK;
}

/* Saturating: a - b > c without overflow, for window checks. */
static int after(uint64_t a, uint64_t skew, uint64_t b)
{
    return a > skew && a - skew > b;
}

static int check_window(const gpurent_envelope *h, uint64_t now, uint32_t skew)
{
    if (after(h->issued_at, skew, now))
        return gr_fail(GPURENT_E_NOT_YET_VALID, "envelope: issued_at %llu is after now %llu + skew %u",
                       (unsigned long long)h->issued_at, (unsigned long long)now, skew);
    if (after(now, skew, h->expires_at))
        return gr_fail(GPURENT_E_EXPIRED, "envelope: expired at %llu, now %llu, skew %u",
                       (unsigned long long)h->expires_at, (unsigned long long)now, skew);
    return GPURENT_OK;
}

/* The status of one signer's key at `now`: OK if it may count. */
int gr_key_status(const gpurent_trust *t, const uint8_t *pk, uint32_t role, const uint8_t *self,
                      uint64_t now, uint32_t skew)
{
    if (gr_trust_revoked(t, pk)) return GPURENT_E_REVOKED;
    const gr_trust_entry *e = gr_trust_find(t, pk);
    if (!e) return GPURENT_E_UNKNOWN_ISSUER;
    if (after(e->not_before, skew, now)) return GPURENT_E_NOT_YET_VALID;
    if (e->not_after && after(now, skew, e->not_after)) return GPURENT_E_EXPIRED;
    if (self && memcmp(pk, self, 32) == 0) return GPURENT_OK;
    if ((e->roles & role) != role) return GPURENT_E_ROLE_NOT_ALLOWED;
    return GPURENT_OK;
}

/* "provider|auditor": people read role names, not bits. */
static void role_names(uint32_t role, char *buf, size_t cap)
{
    static const char *const names[] = {"provider", "auditor", "matcher", "revoker", "requester"};
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < 5; i++)
        if (role & (1u << i) && n < cap)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "|" : "", names[i]);
}

int gr_issuer_fail(int st, uint32_t role)
{
    char names[64];
    role_names(role, names, sizeof names);
    switch (st) {
    case GPURENT_E_REVOKED: return gr_fail(st, "envelope.issuer: key revoked");
    case GPURENT_E_UNKNOWN_ISSUER: return gr_fail(st, "envelope.issuer: key not in the trust store");
    case GPURENT_E_NOT_YET_VALID: return gr_fail(st, "envelope.issuer: key not valid yet");
    case GPURENT_E_EXPIRED: return gr_fail(st, "envelope.issuer: key validity ended");
    default: return gr_fail(st, "envelope.issuer: key lacks role %s", names);
    }
}

/* Issuer checks and which signers may count, under the read lock. */
static int check_trust(gpurent_trust *t, const gr_env_view *v, uint32_t role, const gr_vopts *o, uint64_t now,
                       uint32_t skew, uint32_t *authorized)
{
    int rc = GPURENT_OK;
    *authorized = 0;
    pthread_rwlock_rdlock(&t->lock);
    int st = gr_key_status(t, v->hdr.issuer, role, o->self_key, now, skew);
    for (uint32_t i = 0; !st && i < v->sig_count; i++)
        if (gr_key_status(t, v->sigs[i].key, role, o->self_key, now, skew) == GPURENT_OK) *authorized |= 1u << i;
    pthread_rwlock_unlock(&t->lock);
    if (st) rc = gr_issuer_fail(st, role);
    return rc;
}

static int check_signatures(const gr_env_view *v)
{
    gr_msg m;
    int rc = gr_msg_build(&m, v->hdr.statement, v->body, v->body_len);
    for (uint32_t i = 0; !rc && i < v->sig_count; i++)
        if (crypto_sign_verify_detached(v->sigs[i].sig, m.p, m.len, v->sigs[i].key) != 0)
            rc = gr_fail(GPURENT_E_BAD_SIGNATURE, "envelope.signatures[%u]: signature does not verify", i);
    gr_msg_free(&m);
    return rc;
}

static uint32_t popcount32(uint32_t x)
{
    uint32_t n = 0;
    for (; x; x &= x - 1) n++;
    return n;
}

int gr_verify_stateless(gpurent_trust *t, const uint8_t *data, size_t len, uint64_t now, uint32_t skew,
                        const gr_vopts *o, gr_env_view *v, uint32_t *counted)
{
    uint32_t authorized = 0;
    int rc = gr_env_parse(data, len, v);
    if (rc) return rc;
    if (o->statement && v->hdr.statement != o->statement)
        return gr_fail(GPURENT_E_WRONG_RECORD, "envelope.statement: %s (%u), expected %s (%u)",
                       gpurent_record_type_name(v->hdr.statement), v->hdr.statement,
                       gpurent_record_type_name(o->statement), o->statement);
    uint32_t role = o->role ? o->role : gpurent_statement_default_role(v->hdr.statement);
    if (!role)
        return gr_fail(GPURENT_E_INVALID_ARG, "verify: no default role for statement %s (%u); set required_role",
                       gpurent_record_type_name(v->hdr.statement), v->hdr.statement);
    if ((rc = check_window(&v->hdr, now, skew)) || (rc = check_trust(t, v, role, o, now, skew, &authorized)) ||
        (rc = check_signatures(v)))
        return rc;
    if (popcount32(authorized) < o->quorum)
        return gr_fail(GPURENT_E_QUORUM_NOT_MET, "envelope: %u authorized signers, quorum %u",
                       popcount32(authorized), o->quorum);
    *counted = authorized;
    return GPURENT_OK;
}

static int make_result(const gr_env_view *v, uint32_t counted, gpurent_verified **out)
{
    gpurent_verified *r = gr_malloc(sizeof *r + v->body_len);
    if (!r) return gr_fail(GPURENT_E_NOMEM, "verification result");
    r->hdr = v->hdr;
    r->nsigners = 0;
    for (uint32_t i = 0; i < v->sig_count; i++)
        if (counted & (1u << i)) memcpy(r->signers[r->nsigners++], v->sigs[i].key, GPURENT_KEY_BYTES);
    r->rest_len = v->body_len;
    r->payload_off = (size_t)(v->payload - v->body);
    memcpy(r->rest, v->body, v->body_len);
    *out = r;
    return GPURENT_OK;
}

int gr_trust_replay_remember(gpurent_trust *t, const uint8_t issuer[GPURENT_KEY_BYTES], const uint8_t nonce[GPURENT_NONCE_BYTES])
{
    uint8_t id[32];
    gr_replay_id(&t->replay, issuer, nonce, id);
    return gr_replay_check_insert(&t->replay, id);
}

static int verify_one(gpurent_trust *t, const uint8_t *data, size_t len, uint64_t now, uint32_t skew,
                      const gr_vopts *o, gpurent_verified **out)
{
    gr_env_view v;
    uint32_t counted = 0;
    uint8_t id[32];
    gpurent_verified *r = NULL;
    int rc = gr_verify_stateless(t, data, len, now, skew, o, &v, &counted);
    if (rc) return rc;
    /* The result first: the replay step remembers the statement, and a
     * statement remembered but refused for lack of memory could never be
     * accepted again. */
    if (out && (rc = make_result(&v, counted, &r))) return rc;
    if (o->check_replay) {
        gr_replay_id(&t->replay, v.hdr.issuer, v.hdr.nonce, id);
        if ((rc = gr_replay_check_insert(&t->replay, id))) {
            gr_free(r);
            return rc;
        }
    }
    if (out) *out = r;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_envelope_verify(gpurent_trust *trust, const uint8_t *envelope, size_t len,
                                                   uint64_t now, uint32_t skew_s,
                                                   const gpurent_verify_options *opts, gpurent_verified **out)
{
    if (out) *out = NULL;
    GR_CHECK_ARG(trust, "trust is NULL");
    GR_CHECK_ARG(envelope || len == 0, "envelope is NULL");
    gr_vopts o;
    int rc = gr_ensure_init();
    if (!rc) rc = gr_vopts_resolve(opts, &o);
    return rc ? rc : verify_one(trust, envelope, len, now, skew_s, &o, out);
}

GPURENT_API void gpurent_verified_free(gpurent_verified *v)
{
    gr_free(v);
}

GPURENT_API gpurent_status gpurent_verified_payload(const gpurent_verified *v, gpurent_buf *out)
{
    GR_CHECK_ARG(v && out, "v or out is NULL");
    size_t n = v->hdr.payload_len;
    out->data = gr_malloc(n);
    if (!out->data) return gr_fail(GPURENT_E_NOMEM, "payload copy");
    memcpy(out->data, v->rest + v->payload_off, n);
    out->len = n;
    return GPURENT_OK;
}

GPURENT_API const uint8_t *gpurent_verified_payload_data(const gpurent_verified *v, size_t *len)
{
    if (!v) return NULL;
    if (len) *len = v->hdr.payload_len;
    return v->rest + v->payload_off;
}

GPURENT_API gpurent_status gpurent_verified_header(const gpurent_verified *v, gpurent_envelope *out)
{
    GR_CHECK_ARG(v && out, "v or out is NULL");
    *out = v->hdr;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_verified_digest(const gpurent_verified *v, uint8_t digest[GPURENT_DIGEST_BYTES])
{
    GR_CHECK_ARG(v && digest, "v or digest is NULL");
    return gr_statement_digest(v->hdr.statement, v->rest, v->rest_len, digest);
}

GPURENT_API uint32_t gpurent_verified_signer_count(const gpurent_verified *v)
{
    return v ? v->nsigners : 0;
}

GPURENT_API gpurent_status gpurent_verified_signer(const gpurent_verified *v, uint32_t index,
                                                  uint8_t pk[GPURENT_KEY_BYTES])
{
    GR_CHECK_ARG(v && pk, "v or pk is NULL");
    if (index >= v->nsigners)
        return gr_fail(GPURENT_E_NOT_FOUND, "verified: signer %u of %u", index, v->nsigners);
    memcpy(pk, v->signers[index], GPURENT_KEY_BYTES);
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_trust_apply_revocation(gpurent_trust *trust, const uint8_t *envelope,
                                                          size_t len, uint64_t now, uint32_t skew_s,
                                                          const gpurent_verify_options *opts)
{
    GR_CHECK_ARG(trust, "trust is NULL");
    GR_CHECK_ARG(envelope || len == 0, "envelope is NULL");
    gr_vopts o;
    gr_env_view v;
    gpurent_revocation rev;
    int rc = gr_ensure_init();
    if (!rc) rc = gr_vopts_resolve(opts, &o);
    if (!rc) rc = gr_env_parse(envelope, len, &v);
    if (rc) return rc;
    if (v.hdr.statement != GPURENT_RECORD_REVOCATION)
        return gr_fail(GPURENT_E_WRONG_RECORD, "envelope.statement: %s (%u), expected a revocation",
                       gpurent_record_type_name(v.hdr.statement), v.hdr.statement);
    if ((rc = gpurent_revocation_decode(v.payload, v.payload_len, &rev))) return rc;
    o.statement = GPURENT_RECORD_REVOCATION;
    o.role = GPURENT_ROLE_REVOKER;
    o.self_key = rev.key; /* a key may revoke itself whatever its roles */
    /* The replay step goes with the revocation, under the store's write
     * lock: a revocation refused there (no memory, the revoker's limit, the
     * revoker gone) is not remembered and can be sent again. */
    const int replay = o.check_replay != 0;
    uint8_t id[32];
    o.check_replay = 0;
    if ((rc = verify_one(trust, envelope, len, now, skew_s, &o, NULL))) return rc;
    if (replay) gr_replay_id(&trust->replay, v.hdr.issuer, v.hdr.nonce, id);
    return gr_trust_revoke_checked_replay(trust, rev.key, v.hdr.issuer, now, skew_s, replay ? id : NULL);
}
