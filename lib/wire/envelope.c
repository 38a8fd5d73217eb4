/* The envelope record (the codec: parse, body writer, assembler; signing and
 * verification are in lib/attest) and the revocation record. */
#include <string.h>

#include "envelope_internal.h"

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

static int check_statement(uint64_t st, const char *what)
{
    if (st == 0 || st == GPURENT_RECORD_ENVELOPE || st > UINT32_MAX)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.statement: %llu is not a statement type (a record type, "
                       "not 0 and not the envelope itself)", what, (unsigned long long)st);
    return GPURENT_OK;
}

static int check_window(uint64_t issued_at, uint64_t expires_at, const char *what)
{
    if (issued_at > GR_ENV_TIME_MAX || expires_at > GR_ENV_TIME_MAX)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s: issued_at/expires_at above the limit 2^40", what);
    if (expires_at <= issued_at)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.expires_at: %llu not after issued_at %llu", what,
                       (unsigned long long)expires_at, (unsigned long long)issued_at);
    return GPURENT_OK;
}

int gr_env_check_header(const gpurent_envelope *h)
{
    int rc = check_statement(h->statement, "envelope");
    if (!rc) rc = check_window(h->issued_at, h->expires_at, "envelope");
    if (rc) return rc;
    if (all_zero(h->nonce, GPURENT_NONCE_BYTES))
        return gr_fail(GPURENT_E_INVALID_FIELD, "envelope.nonce: all zero");
    if (h->subject_len > GPURENT_SUBJECT_MAX)
        return gr_fail(GPURENT_E_INVALID_FIELD, "envelope.subject: %u bytes above the limit %u", h->subject_len,
                       GPURENT_SUBJECT_MAX);
    return GPURENT_OK;
}

int gr_env_check_payload(const uint8_t *payload, size_t len, uint32_t statement)
{
    uint32_t type = 0;
    if (len > GPURENT_RECORD_MAX_BYTES)
        return gr_fail(GPURENT_E_OVERSIZE, "envelope.payload: %zu bytes above the limit %u", len,
                       GPURENT_RECORD_MAX_BYTES);
    int rc = gpurent_wire_record_type(payload, len, &type);
    if (rc) return gr_annotate(rc, "payload");
    if (type != statement)
        return gr_fail(GPURENT_E_INVALID_FIELD, "envelope.payload: record type %s (%u) differs from the statement %s (%u)",
                       gpurent_record_type_name(type), type, gpurent_record_type_name(statement), statement);
    return GPURENT_OK;
}

void gr_env_write_body(gr_writer *w, const gpurent_envelope *h, const uint8_t *payload, size_t len)
{
    gr_bytes_reserve(&w->out, len + 128);
    gr_wr_map(w, GR_ENV_BODY_FIELDS);
    gr_wr_uint(w, 0);
    gr_wr_uint(w, GPURENT_RECORD_ENVELOPE);
    gr_wr_uint(w, 1);
    gr_wr_uint(w, h->statement);
    gr_wr_uint(w, 2);
    gr_wr_bin(w, h->issuer, GPURENT_KEY_BYTES);
    gr_wr_uint(w, 3);
    gr_wr_uint(w, h->issued_at);
    gr_wr_uint(w, 4);
    gr_wr_uint(w, h->expires_at);
    gr_wr_uint(w, 5);
    gr_wr_bin(w, h->nonce, GPURENT_NONCE_BYTES);
    gr_wr_uint(w, 6);
    gr_wr_bin(w, h->subject, h->subject_len);
    gr_wr_uint(w, 7);
    gr_wr_bin(w, payload, len);
}

/* One signature entry: {1: bin8(32) key, 2: bin8(64) signature}. */
static void put_sig(gr_bytes *b, const gr_env_sig *s)
{
    static const uint8_t head[4] = {0x82, 0x01, 0xc4, GPURENT_KEY_BYTES};
    static const uint8_t mid[3] = {0x02, 0xc4, GPURENT_SIGNATURE_BYTES};
    gr_bytes_append(b, head, sizeof head);
    gr_bytes_append(b, s->key, GPURENT_KEY_BYTES);
    gr_bytes_append(b, mid, sizeof mid);
    gr_bytes_append(b, s->sig, GPURENT_SIGNATURE_BYTES);
}

int gr_env_assemble(const uint8_t *rest, size_t rest_len, const gr_env_sig *sigs, uint32_t n,
                    gpurent_buf *out)
{
    if (n == 0 || n > GPURENT_ENVELOPE_MAX_SIGS)
        return gr_fail(GPURENT_E_INTERNAL, "envelope: signature count %u", n);
    gr_bytes b;
    gr_bytes_init(&b);
    uint8_t head = 0x80 + GR_ENV_FIELDS, key8 = 8, arr = (uint8_t)(0x90 + n);
    gr_bytes_reserve(&b, rest_len + 5 + (size_t)n * 103);
    gr_bytes_append(&b, &head, 1);
    gr_bytes_append(&b, rest, rest_len);
    gr_bytes_append(&b, &key8, 1);
    if (n < 16) {
        gr_bytes_append(&b, &arr, 1);
    } else {
        uint8_t a16[3] = {0xdc, 0, (uint8_t)n};
        gr_bytes_append(&b, a16, 3);
    }
    for (uint32_t i = 0; i < n; i++) put_sig(&b, &sigs[i]);
    return gr_bytes_finish(&b, out);
}

static int read_bin_field(gr_reader *r, uint64_t key, const char *name, const uint8_t **p, uint32_t *len,
                          uint32_t max)
{
    int rc = gr_rd_key(r, key, name);
    if (!rc && (rc = gr_rd_bin(r, p, len, max))) rc = gr_annotate(rc, name);
    return rc;
}

static int read_fixed(gr_reader *r, uint64_t key, const char *name, const uint8_t **p, uint32_t want)
{
    uint32_t len = 0;
    int rc = read_bin_field(r, key, name, p, &len, want);
    if (!rc && len != want)
        rc = gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: %u bytes, expected %u", r->what, name, len, want);
    return rc;
}

static int parse_header(gr_reader *r, gr_env_view *v)
{
    gpurent_envelope *h = &v->hdr;
    const uint8_t *p;
    uint32_t n;
    int rc = gr_rd_field_u32(r, 1, "statement", UINT32_MAX, &h->statement);
    if (!rc) rc = check_statement(h->statement, "envelope");
    if (!rc) rc = gr_rd_field_bin(r, 2, "issuer", h->issuer, GPURENT_KEY_BYTES);
    if (!rc) rc = gr_rd_field_u64(r, 3, "issued_at", GR_ENV_TIME_MAX, &h->issued_at);
    if (!rc) rc = gr_rd_field_u64(r, 4, "expires_at", GR_ENV_TIME_MAX, &h->expires_at);
    if (!rc) rc = check_window(h->issued_at, h->expires_at, "envelope");
    if (!rc) rc = gr_rd_field_bin(r, 5, "nonce", h->nonce, GPURENT_NONCE_BYTES);
    if (!rc && all_zero(h->nonce, GPURENT_NONCE_BYTES))
        rc = gr_fail(GPURENT_E_INVALID_FIELD, "envelope.nonce: all zero");
    if (!rc) rc = read_bin_field(r, 6, "subject", &p, &n, GPURENT_SUBJECT_MAX);
    if (rc) return rc;
    memcpy(h->subject, p, n);
    h->subject_len = n;
    if ((rc = read_bin_field(r, 7, "payload", &v->payload, &n, GPURENT_RECORD_MAX_BYTES))) return rc;
    v->payload_len = n;
    h->payload_len = n;
    return gr_env_check_payload(v->payload, n, h->statement);
}

static int parse_sigs(gr_reader *r, gr_env_view *v)
{
    uint32_t n, fields;
    int rc = gr_rd_key(r, 8, "signatures");
    if (!rc) rc = gr_rd_array(r, &n);
    if (rc) return rc;
    if (n == 0 || n > GPURENT_ENVELOPE_MAX_SIGS)
        return gr_fail(GPURENT_E_INVALID_FIELD, "envelope.signatures: %u entries, allowed 1..%u", n,
                       GPURENT_ENVELOPE_MAX_SIGS);
    for (uint32_t i = 0; i < n; i++) {
        gr_env_sig *s = &v->sigs[i];
        if ((rc = gr_rd_map(r, &fields))) return rc;
        if (fields != 2)
            return gr_fail(GPURENT_E_INVALID_FIELD, "envelope.signatures[%u]: %u fields, expected 2", i, fields);
        if ((rc = read_fixed(r, 1, "key", &s->key, GPURENT_KEY_BYTES)) ||
            (rc = read_fixed(r, 2, "signature", &s->sig, GPURENT_SIGNATURE_BYTES)))
            return rc;
        int c = i ? memcmp(v->sigs[i - 1].key, s->key, GPURENT_KEY_BYTES) : -1;
        if (c == 0) return gr_fail(GPURENT_E_INVALID_FIELD, "envelope.signatures[%u]: key repeats entry %u", i, i - 1);
        if (c > 0)
            return gr_fail(GPURENT_E_NONCANONICAL, "envelope.signatures[%u]: keys not in ascending order", i);
    }
    v->sig_count = n;
    v->hdr.signature_count = n;
    return GPURENT_OK;
}

static int issuer_signed(const gr_env_view *v)
{
    for (uint32_t i = 0; i < v->sig_count; i++)
        if (memcmp(v->sigs[i].key, v->hdr.issuer, GPURENT_KEY_BYTES) == 0) return GPURENT_OK;
    return gr_fail(GPURENT_E_INVALID_FIELD, "envelope.signatures: no signature by the issuer");
}

int gr_env_parse(const uint8_t *data, size_t len, gr_env_view *v)
{
    gr_reader r;
    memset(&v->hdr, 0, sizeof v->hdr);
    v->sig_count = 0;
    gr_rd_init(&r, data, len, "envelope");
    int rc = gr_rd_record(&r, GR_ENV_FIELDS, GPURENT_RECORD_ENVELOPE);
    if (rc) return rc;
    /* The map header of a 9-entry map is the single byte 0x89 (canonical
     * fixmap), so the body starts at byte 1. */
    v->body = data + 1;
    if ((rc = parse_header(&r, v))) return rc;
    v->body_len = (size_t)(r.p - v->body);
    if ((rc = parse_sigs(&r, v)) || (rc = gr_rd_end(&r))) return rc;
    return issuer_signed(v);
}

GPURENT_API void gpurent_envelope_init(gpurent_envelope *env)
{
    if (env) memset(env, 0, sizeof *env);
}

GPURENT_API gpurent_status gpurent_envelope_set_subject(gpurent_envelope *env, const uint8_t *subject, size_t len)
{
    GR_CHECK_ARG(env, "env is NULL");
    GR_CHECK_ARG(subject || len == 0, "subject is NULL");
    if (len > GPURENT_SUBJECT_MAX)
        return gr_fail(GPURENT_E_LIMIT, "envelope.subject: %zu bytes above the limit %u", len, GPURENT_SUBJECT_MAX);
    if (len) memcpy(env->subject, subject, len);
    env->subject_len = (uint32_t)len;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_envelope_decode(const uint8_t *data, size_t len, gpurent_envelope *out)
{
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    GR_CHECK_ARG(out, "out is NULL");
    gr_env_view v;
    int rc = gr_env_parse(data, len, &v);
    if (!rc) *out = v.hdr;
    return rc;
}

/* ---------------- revocation ---------------- */

#define RV(key, kind, member, max) GR_FIELD(key, kind, gpurent_revocation, member, max)
static const gr_field rev_fields[] = {
    RV(1, GR_BIN, key, 0),
    RV(2, GR_U64, revoked_at, GR_ENV_TIME_MAX),
    RV(3, GR_U32, reason, GPURENT_REVOKE_RETIRED),
};
#undef RV
#define REV_FIELDS 4

GPURENT_API gpurent_status gpurent_revocation_validate(const gpurent_revocation *rev)
{
    GR_CHECK_ARG(rev, "rev is NULL");
    int rc = gr_fields_validate(rev, rev_fields, REV_FIELDS - 1, "revocation");
    if (!rc && all_zero(rev->key, GPURENT_KEY_BYTES))
        rc = gr_fail(GPURENT_E_INVALID_FIELD, "revocation.key: all zero");
    return rc;
}

GPURENT_API gpurent_status gpurent_revocation_encode(const gpurent_revocation *rev, gpurent_buf *out)
{
    GR_CHECK_ARG(rev && out, "rev or out is NULL");
    int rc = gpurent_revocation_validate(rev);
    if (rc) return rc;
    gr_writer w;
    gr_wr_init(&w);
    gr_wr_map(&w, REV_FIELDS);
    gr_wr_uint(&w, 0);
    gr_wr_uint(&w, GPURENT_RECORD_REVOCATION);
    gr_wr_fields(&w, rev, rev_fields, REV_FIELDS - 1);
    return gr_wr_finish(&w, out);
}

GPURENT_API gpurent_status gpurent_revocation_decode(const uint8_t *data, size_t len, gpurent_revocation *out)
{
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    GR_CHECK_ARG(out, "out is NULL");
    gr_reader r;
    gpurent_revocation v;
    memset(&v, 0, sizeof v);
    gr_rd_init(&r, data, len, "revocation");
    int rc = gr_rd_record(&r, REV_FIELDS, GPURENT_RECORD_REVOCATION);
    if (!rc) rc = gr_rd_fields(&r, &v, rev_fields, REV_FIELDS - 1);
    if (!rc) rc = gr_rd_end(&r);
    if (!rc) rc = gpurent_revocation_validate(&v);
    if (!rc) *out = v;
    return rc;
}
