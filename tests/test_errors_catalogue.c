/* The bad-input catalogue (docs/errors.md) is executable: this suite reads
 * the document's tables and, for every row, runs the named case and checks
 * the call, the status and the detail message the row states. Every case
 * implemented here must have a row, and every row a case, so neither the
 * document nor the code can change without the other.
 *
 * The document is found at $GPURENT_SRCDIR/docs/errors.md (default: the
 * current directory, which is the repository root under `make check`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gpurent.h"
#include "core/core_internal.h"

/* ---- byte strings for concrete inputs ---- */

typedef struct bytes {
    uint8_t d[2048];
    size_t n;
} bytes;

static void put(bytes *b, const uint8_t *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->d);
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

/* Append bytes written as hex text ("de 00 16" or "de0016"). */
static void put_hex(bytes *b, const char *hex)
{
    while (*hex) {
        if (*hex == ' ') { hex++; continue; }
        unsigned v;
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        uint8_t c = (uint8_t)v;
        put(b, &c, 1);
        hex += 2;
    }
}

static bytes from_hex(const char *hex)
{
    bytes b = {.n = 0};
    put_hex(&b, hex);
    return b;
}

/* The record with the one occurrence of `pattern` replaced by `with` (both
 * hex). Failing when the pattern is absent or repeated keeps each case's
 * input exactly what its row says. */
static bytes subst(const bytes *in, const char *pattern, const char *with)
{
    bytes pat = from_hex(pattern), rep = from_hex(with), out = {.n = 0};
    size_t at = SIZE_MAX;
    for (size_t i = 0; i + pat.n <= in->n; i++) {
        if (memcmp(in->d + i, pat.d, pat.n) == 0) {
            if (at != SIZE_MAX) fail_msg("pattern %s occurs more than once", pattern);
            at = i;
        }
    }
    if (at == SIZE_MAX) fail_msg("pattern %s not found", pattern);
    put(&out, in->d, at);
    put(&out, rep.d, rep.n);
    put(&out, in->d + at + pat.n, in->n - at - pat.n);
    return out;
}

/* Offset of the one occurrence of `pattern` (hex). */
static size_t find(const bytes *in, const char *pattern)
{
    bytes pat = from_hex(pattern);
    size_t at = SIZE_MAX;
    for (size_t i = 0; i + pat.n <= in->n; i++)
        if (memcmp(in->d + i, pat.d, pat.n) == 0) {
            if (at != SIZE_MAX) fail_msg("pattern %s occurs more than once", pattern);
            at = i;
        }
    if (at == SIZE_MAX) fail_msg("pattern %s not found", pattern);
    return at;
}

static bytes from_buf(gpurent_buf *buf)
{
    bytes b = {.n = 0};
    put(&b, buf->data, buf->len);
    gpurent_buf_free(buf);
    return b;
}

/* ---- the records the cases start from ---- */

static void test_gpu(gpurent_gpu *g)
{
    memset(g, 0, sizeof *g);
    strcpy(g->model, "GPU-X");            /* 01 a5 47 50 55 2d 58 */
    memset(g->uuid, 0xee, sizeof g->uuid); /* 02 c4 10 ee x16 */
    g->pci_bus = 0x1b;
    g->cc_major = 9;
    g->sm_count = 132;                     /* 08 cc 84 */
    g->memory_mib = 81559;
    g->clock_mhz = 1980;
    g->interface = GPURENT_IFACE_SXM;
    g->cuda_version = 12040;
}

static bytes gpu_bytes(void)
{
    gpurent_gpu g;
    gpurent_buf buf = {0};
    test_gpu(&g);
    assert_int_equal(gpurent_gpu_encode(&g, &buf), GPURENT_OK);
    return from_buf(&buf);
}

static void test_node(gpurent_node *n)
{
    memset(n, 0, sizeof *n);
    strcpy(n->node_id, "node-a");
    test_gpu(&n->gpu);
    n->gpu_count = 8;                      /* 03 08 04 08 */
    n->gpu_free = 8;
    n->price_micro_per_gpu_hour = 2490000;
}

static void test_offer(gpurent_offer *o)
{
    gpurent_node n;
    gpurent_offer_init(o);
    memset(o->provider_key, 0x42, sizeof o->provider_key);
    strcpy(o->region, "eu-west");
    o->seq = 7;
    test_node(&n);
    assert_int_equal(gpurent_offer_add_node(o, &n), GPURENT_OK); /* 07 91 */
}

static bytes offer_bytes(void)
{
    gpurent_offer o;
    gpurent_buf buf = {0};
    test_offer(&o);
    assert_int_equal(gpurent_offer_encode(&o, &buf), GPURENT_OK);
    gpurent_offer_clear(&o);
    return from_buf(&buf); /* 88 00 02 ... */
}

static bytes request_bytes(void)
{
    gpurent_request q;
    gpurent_buf buf = {0};
    gpurent_request_init(&q);
    strcpy(q.request_id, "req-1");
    assert_int_equal(gpurent_request_add_model(&q, "a"), GPURENT_OK);
    assert_int_equal(gpurent_request_add_model(&q, "b"), GPURENT_OK); /* 13 92 a1 61 a1 62 */
    assert_int_equal(gpurent_request_encode(&q, &buf), GPURENT_OK);
    return from_buf(&buf);
}

/* ---- running an input through a decoder ---- */

static int dec_gpu(const bytes *b)
{
    gpurent_gpu g;
    return gpurent_gpu_decode(b->d, b->n, &g);
}

static int dec_offer(const bytes *b)
{
    gpurent_offer o;
    gpurent_offer_init(&o);
    int rc = gpurent_offer_decode(b->d, b->n, &o);
    gpurent_offer_clear(&o); /* only matters if a case wrongly succeeds */
    return rc;
}

static int dec_request(const bytes *b)
{
    static gpurent_request q;
    return gpurent_request_decode(b->d, b->n, &q);
}

static int canon(const char *hex)
{
    bytes b = from_hex(hex);
    return gpurent_wire_check_canonical(b.d, b.n);
}

static int rectype(const char *hex)
{
    bytes b = from_hex(hex);
    uint32_t t;
    return gpurent_wire_record_type(b.d, b.n, &t);
}

#define GPU_MODEL "01 a5 47 50 55 2d 58"
#define GPU_UUID "02 c4 10 ee ee ee ee ee ee ee ee ee ee ee ee ee ee ee ee"
#define GPU_SM "08 cc 84"
#define GPU_HEAD "de 00 16 00 01"

/* ---- the cases (one per row of docs/errors.md) ---- */

/* Arguments */
static int case_null_data(void)
{
    gpurent_gpu g;
    return gpurent_gpu_decode(NULL, 5, &g);
}

static int case_null_out(void)
{
    bytes b = offer_bytes();
    return gpurent_offer_decode(b.d, b.n, NULL);
}

static int case_null_record(void)
{
    gpurent_buf buf = {0};
    return gpurent_request_encode(NULL, &buf);
}

static int case_null_type_out(void)
{
    bytes b = gpu_bytes();
    return gpurent_wire_record_type(b.d, b.n, NULL);
}

static int case_null_cancel_out(void) { return gpurent_cancel_new(NULL); }

static int case_arg_too_long(void)
{
    gpurent_request q;
    gpurent_request_init(&q);
    return gpurent_request_allow_region(&q, "a-region-name-of-forty-bytes-0123456789");
}

static int case_list_full(void)
{
    gpurent_request q;
    char m[8];
    gpurent_request_init(&q);
    for (int i = 0; i < GPURENT_REQUEST_MAX_LIST; i++) {
        snprintf(m, sizeof m, "m%d", i);
        assert_int_equal(gpurent_request_add_model(&q, m), GPURENT_OK);
    }
    return gpurent_request_add_model(&q, "one-more");
}

static int case_offer_nodes_full(void)
{
    gpurent_offer o;
    gpurent_node n;
    test_node(&n);
    gpurent_offer_init(&o);
    for (int i = 0; i < GPURENT_OFFER_MAX_NODES; i++) {
        snprintf(n.node_id, sizeof n.node_id, "n%d", i);
        assert_int_equal(gpurent_offer_add_node(&o, &n), GPURENT_OK);
    }
    int rc = gpurent_offer_add_node(&o, &n);
    gpurent_offer_clear(&o);
    return rc;
}

static int case_unknown_options_version(void)
{
    gpurent_trust_options o = GPURENT_TRUST_OPTIONS_INIT;
    gpurent_trust *t = NULL;
    o.version = 2;
    int rc = gpurent_trust_new(&t, &o);
    gpurent_trust_free(t);
    return rc;
}

/* Invalid records refused by encoders and validators */
static int case_invalid_encode(void)
{
    gpurent_gpu g;
    gpurent_buf buf = {0};
    test_gpu(&g);
    g.cc_minor = 10;
    int rc = gpurent_gpu_encode(&g, &buf);
    gpurent_buf_free(&buf);
    return rc;
}

static int case_duplicate_node_id(void)
{
    gpurent_offer o;
    gpurent_node n;
    gpurent_buf buf = {0};
    test_offer(&o);
    test_node(&n);
    assert_int_equal(gpurent_offer_add_node(&o, &n), GPURENT_OK);
    int rc = gpurent_offer_encode(&o, &buf);
    gpurent_buf_free(&buf);
    gpurent_offer_clear(&o);
    return rc;
}

static int case_gang_mismatch(void)
{
    gpurent_request q;
    gpurent_request_init(&q);
    strcpy(q.request_id, "req-1");
    q.gpu_count = 6;
    q.gang_nodes = 4;
    q.gang_scope = GPURENT_GANG_PROVIDER;
    return gpurent_request_validate(&q);
}

/* Truncated input and lying lengths */
static int case_empty_input(void)
{
    static const uint8_t none[1] = {0};
    gpurent_gpu g;
    return gpurent_gpu_decode(none, 0, &g);
}

static int case_truncated_record(void)
{
    bytes b = gpu_bytes();
    b.n--;
    return dec_gpu(&b);
}

static int case_truncated_length(void) { return canon("ce 00 01"); }

static int case_huge_array_count(void)
{
    bytes b = offer_bytes();
    b = subst(&b, "07 91", "07 dd ff ff ff ff");
    return dec_offer(&b);
}

static int case_huge_map_count(void) { return canon("df ff ff ff ff 00"); }
static int case_huge_string_length(void) { return canon("db ff ff ff ff 61"); }

/* Oversize */
static int case_oversize_string(void)
{
    char hex[2 * 64 + 16] = "01 d9 40 ";
    for (int i = 0; i < 64; i++) strcat(hex, "78");
    bytes b = gpu_bytes();
    b = subst(&b, GPU_MODEL, hex);
    return dec_gpu(&b);
}

static int case_oversize_bin(void)
{
    bytes b = gpu_bytes();
    b = subst(&b, GPU_UUID, "02 c4 11 ee ee ee ee ee ee ee ee ee ee ee ee ee ee ee ee ee");
    return dec_gpu(&b);
}

static int case_oversize_list(void)
{
    bytes b = request_bytes();
    b = subst(&b, "13 92 a1 61 a1 62", "13 99 a1 61 a1 62 a1 63 a1 64 a1 65 a1 66 a1 67 a1 68 a1 69");
    return dec_request(&b);
}

static int case_oversize_node_count(void)
{
    bytes b = offer_bytes();
    /* The nodes array is the last field: empty it and drop the node. */
    b = subst(&b, "07 91", "07 90");
    b.n = find(&b, "07 90") + 2;
    return dec_offer(&b);
}

static int case_oversize_record(void)
{
    /* A valid offer followed by zeros to one byte past the record limit:
     * refused on its size before the canonical walk would find the
     * trailing bytes. */
    bytes b = offer_bytes();
    size_t n = (size_t)GPURENT_RECORD_MAX_BYTES + 1;
    uint8_t *big = calloc(1, n);
    assert_non_null(big);
    memcpy(big, b.d, b.n);
    gpurent_offer o;
    gpurent_offer_init(&o);
    int rc = gpurent_offer_decode(big, n, &o);
    free(big);
    gpurent_offer_clear(&o); /* only matters if the case wrongly succeeds */
    return rc;
}

static int case_too_deep(void)
{
    char hex[64] = "";
    for (int i = 0; i < 17; i++) strcat(hex, "91");
    strcat(hex, "c0");
    return canon(hex);
}

/* Non-canonical */
static int case_padded_int(void)
{
    bytes b = gpu_bytes();
    b = subst(&b, GPU_SM, "08 cd 00 84");
    return dec_gpu(&b);
}

static int case_signed_form(void)
{
    bytes b = gpu_bytes();
    b = subst(&b, GPU_HEAD, "de 00 16 00 d0 01");
    return dec_gpu(&b);
}

static int case_padded_length(void)
{
    bytes b = gpu_bytes();
    b = subst(&b, GPU_MODEL, "01 d9 05 47 50 55 2d 58");
    return dec_gpu(&b);
}

static int case_padded_count(void)
{
    bytes b = offer_bytes();
    assert_int_equal(b.d[0], 0x88);
    b = subst(&b, "88 00 02", "de 00 08 00 02");
    return dec_offer(&b);
}

static int case_float_value(void) { return canon("ca 3f 80 00 00"); }

static int case_float_field(void)
{
    bytes b = gpu_bytes();
    b = subst(&b, GPU_SM, "08 ca 43 04 00 00");
    return dec_gpu(&b);
}

static int case_ext_value(void) { return canon("d4 01 00"); }
static int case_duplicate_keys(void) { return canon("82 00 00 00 00"); }
static int case_unsorted_keys(void) { return canon("82 01 00 00 00"); }

static int case_repeated_key(void)
{
    bytes b = gpu_bytes();
    b = subst(&b, GPU_MODEL, "00 a5 47 50 55 2d 58");
    return dec_gpu(&b);
}

static int case_unsorted_list(void)
{
    bytes b = request_bytes();
    b = subst(&b, "13 92 a1 61 a1 62", "13 92 a1 62 a1 61");
    return dec_request(&b);
}

static int case_trailing_bytes(void)
{
    bytes b = gpu_bytes();
    put_hex(&b, "00");
    return dec_gpu(&b);
}

/* Not MessagePack */
static int case_never_used_byte(void) { return canon("c1"); }

/* Fields */
static int gpu_model(const char *hex)
{
    bytes b = gpu_bytes();
    b = subst(&b, GPU_MODEL, hex);
    return dec_gpu(&b);
}

static int case_invalid_utf8(void) { return gpu_model("01 a2 c3 28"); }
static int case_overlong_utf8(void) { return gpu_model("01 a2 c0 af"); }
static int case_surrogate_utf8(void) { return gpu_model("01 a3 ed a0 80"); }
static int case_nul_in_string(void) { return gpu_model("01 a3 61 00 62"); }
static int case_empty_string(void) { return gpu_model("01 a0"); }
static int case_wrong_value_type(void) { return gpu_model("01 05"); }

static int case_negative_value(void)
{
    bytes b = gpu_bytes();
    b = subst(&b, GPU_SM, "08 ff");
    return dec_gpu(&b);
}

static int case_above_limit(void)
{
    bytes b = gpu_bytes();
    b = subst(&b, GPU_SM, "08 ce 00 01 86 a1");
    return dec_gpu(&b);
}

static int case_bin_wrong_length(void)
{
    bytes b = gpu_bytes();
    b = subst(&b, GPU_UUID, "02 c4 0f ee ee ee ee ee ee ee ee ee ee ee ee ee ee ee");
    return dec_gpu(&b);
}

/* The last field, cuda_version 12040. */
#define GPU_LAST "15 cd 2f 08"

static int case_missing_field(void)
{
    bytes b = gpu_bytes();
    b = subst(&b, GPU_HEAD, "de 00 15 00 01");
    b = subst(&b, GPU_LAST, ""); /* 21 well-formed entries */
    return dec_gpu(&b);
}

static int case_key_gap(void)
{
    /* Keys 0, 1, 3..22: canonical, 22 entries, but no key 2. */
    bytes b = gpu_bytes();
    b = subst(&b, GPU_UUID, "");
    put_hex(&b, "16 00");
    return dec_gpu(&b);
}

static int case_cross_field(void)
{
    bytes b = offer_bytes();
    b = subst(&b, "03 08 04 08", "03 08 04 09");
    return dec_offer(&b);
}

static int case_not_a_map(void) { return rectype("00"); }
static int case_empty_map_record(void) { return rectype("80"); }
static int case_type_too_large(void) { return rectype("81 00 cf 00 00 00 01 00 00 00 00"); }

/* Wrong record type */
static int case_wrong_record(void)
{
    bytes b = offer_bytes();
    return dec_gpu(&b);
}


/* ---- attest: signed statements and key files ---- */

#define AT_NOW 1700000000ull
enum { K_PROVIDER, K_AUDITOR1, K_AUDITOR2, K_REVOKED, K_STRANGER, K_LATE, N_KEYS };

/* Keys from fixed seeds; trusted: provider, two auditors, a revoked
 * auditor, and an auditor whose trust only starts tomorrow. */
typedef struct attest_world {
    gpurent_key *k[N_KEYS];
    uint8_t pk[N_KEYS][GPURENT_KEY_BYTES];
    gpurent_trust *trust;
} attest_world;

static void world_open(attest_world *w)
{
    for (unsigned i = 0; i < N_KEYS; i++) {
        uint8_t seed[GPURENT_SEED_BYTES];
        memset(seed, 0x30 + (int)i, sizeof seed);
        assert_int_equal(gpurent_key_from_seed(&w->k[i], seed), GPURENT_OK);
        assert_int_equal(gpurent_key_public(w->k[i], w->pk[i]), GPURENT_OK);
    }
    assert_int_equal(gpurent_trust_new(&w->trust, NULL), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(w->trust, w->pk[K_PROVIDER], GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(w->trust, w->pk[K_AUDITOR1], GPURENT_ROLE_AUDITOR, 0, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(w->trust, w->pk[K_AUDITOR2], GPURENT_ROLE_AUDITOR, 0, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(w->trust, w->pk[K_REVOKED], GPURENT_ROLE_AUDITOR, 0, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_revoke(w->trust, w->pk[K_REVOKED]), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(w->trust, w->pk[K_LATE], GPURENT_ROLE_PROVIDER, AT_NOW + 86400, 0),
                     GPURENT_OK);
}

static void world_close(attest_world *w)
{
    gpurent_trust_free(w->trust);
    for (unsigned i = 0; i < N_KEYS; i++) gpurent_key_free(w->k[i]);
}

/* The test GPU signed by key `k`, valid from an hour before AT_NOW + shift
 * to a day after; a fixed nonce. */
static void signed_gpu(const attest_world *w, unsigned k, int64_t shift, gpurent_buf *out)
{
    bytes p = gpu_bytes();
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_GPU;
    h.issued_at = (uint64_t)((int64_t)AT_NOW - 3600 + shift);
    h.expires_at = (uint64_t)((int64_t)AT_NOW + 86400 + shift);
    memset(h.nonce, 0x4e, sizeof h.nonce);
    assert_int_equal(gpurent_envelope_sign(w->k[k], &h, p.d, p.n, out), GPURENT_OK);
}

/* Sign the GPU with `k` (shifted by `shift` seconds) and verify it at AT_NOW. */
static int verify_gpu(unsigned k, int64_t shift, const gpurent_verify_options *o)
{
    attest_world w;
    gpurent_buf env = {0};
    world_open(&w);
    signed_gpu(&w, k, shift, &env);
    int rc = gpurent_envelope_verify(w.trust, env.data, env.len, AT_NOW, 60, o, NULL);
    gpurent_buf_free(&env);
    world_close(&w);
    return rc;
}

static int case_expired(void) { return verify_gpu(K_PROVIDER, -2 * 86400, NULL); }
static int case_not_yet_valid(void) { return verify_gpu(K_PROVIDER, 2 * 3600, NULL); }
static int case_key_not_yet_valid(void) { return verify_gpu(K_LATE, 0, NULL); }
static int case_revoked(void) { return verify_gpu(K_REVOKED, 0, NULL); }
static int case_unknown_issuer(void) { return verify_gpu(K_STRANGER, 0, NULL); }
static int case_role_not_allowed(void) { return verify_gpu(K_AUDITOR1, 0, NULL); }

static int case_wrong_statement(void)
{
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.statement = GPURENT_RECORD_OFFER;
    return verify_gpu(K_PROVIDER, 0, &o);
}

static int case_bad_signature(void)
{
    attest_world w;
    gpurent_buf env = {0};
    world_open(&w);
    signed_gpu(&w, K_PROVIDER, 0, &env);
    env.data[env.len - 1] ^= 0x01; /* the last byte of the signature */
    int rc = gpurent_envelope_verify(w.trust, env.data, env.len, AT_NOW, 60, NULL, NULL);
    gpurent_buf_free(&env);
    world_close(&w);
    return rc;
}

static int case_replayed(void)
{
    attest_world w;
    gpurent_buf env = {0};
    world_open(&w);
    signed_gpu(&w, K_PROVIDER, 0, &env);
    assert_int_equal(gpurent_envelope_verify(w.trust, env.data, env.len, AT_NOW, 60, NULL, NULL), GPURENT_OK);
    int rc = gpurent_envelope_verify(w.trust, env.data, env.len, AT_NOW, 60, NULL, NULL);
    gpurent_buf_free(&env);
    world_close(&w);
    return rc;
}

/* The GPU signed by the provider and co-signed by a revoked auditor and a
 * stranger: three valid signatures, one authorized provider. */
static int case_quorum_not_met(void)
{
    attest_world w;
    gpurent_buf env = {0}, two = {0}, three = {0};
    world_open(&w);
    signed_gpu(&w, K_PROVIDER, 0, &env);
    assert_int_equal(gpurent_envelope_cosign(w.k[K_REVOKED], env.data, env.len, &two), GPURENT_OK);
    assert_int_equal(gpurent_envelope_cosign(w.k[K_STRANGER], two.data, two.len, &three), GPURENT_OK);
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.quorum = 2;
    int rc = gpurent_envelope_verify(w.trust, three.data, three.len, AT_NOW, 60, &o, NULL);
    gpurent_buf_free(&env);
    gpurent_buf_free(&two);
    gpurent_buf_free(&three);
    world_close(&w);
    return rc;
}

static int case_revocation_role(void)
{
    attest_world w;
    gpurent_buf p = {0}, env = {0};
    world_open(&w);
    gpurent_revocation r = {{0}, AT_NOW - 10, GPURENT_REVOKE_COMPROMISED};
    memcpy(r.key, w.pk[K_AUDITOR2], GPURENT_KEY_BYTES);
    assert_int_equal(gpurent_revocation_encode(&r, &p), GPURENT_OK);
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_REVOCATION;
    h.issued_at = AT_NOW - 60;
    h.expires_at = AT_NOW + 60;
    assert_int_equal(gpurent_envelope_sign(w.k[K_AUDITOR1], &h, p.data, p.len, &env), GPURENT_OK);
    int rc = gpurent_trust_apply_revocation(w.trust, env.data, env.len, AT_NOW, 60, NULL);
    assert_false(gpurent_trust_is_revoked(w.trust, w.pk[K_AUDITOR2]));
    gpurent_buf_free(&p);
    gpurent_buf_free(&env);
    world_close(&w);
    return rc;
}

static int case_sign_wrong_issuer(void)
{
    attest_world w;
    gpurent_buf env = {0};
    bytes p = gpu_bytes();
    world_open(&w);
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_GPU;
    h.issued_at = AT_NOW;
    h.expires_at = AT_NOW + 60;
    memcpy(h.issuer, w.pk[K_AUDITOR1], GPURENT_KEY_BYTES);
    int rc = gpurent_envelope_sign(w.k[K_PROVIDER], &h, p.d, p.n, &env);
    world_close(&w);
    return rc;
}

static int case_small_order_key(void)
{
    gpurent_trust *t = NULL;
    uint8_t pk[GPURENT_KEY_BYTES] = {1}; /* the identity point, of order 1 */
    assert_int_equal(gpurent_trust_new(&t, NULL), GPURENT_OK);
    int rc = gpurent_trust_add(t, pk, GPURENT_ROLE_PROVIDER, 0, 0);
    gpurent_trust_free(t);
    return rc;
}

/* Standing revocations of keys not in the store are bounded by
 * GPURENT_TRUST_MAX_KEYS: the operator's own revocations of absent keys fill
 * the share to one short, a key added, revoked and removed takes the last
 * place, and the removal of the next revoked key is refused (the key stays,
 * revoked). A million hash inserts: skipped under valgrind, where
 * tests/test_attest.c (test_standing_bounded) skips the same path. */
static int case_skipped;

static int case_standing_revocations_full(void)
{
    if (getenv("GPURENT_TEST_VALGRIND")) {
        case_skipped = 1;
        return GPURENT_OK;
    }
    attest_world w;
    world_open(&w);
    gpurent_trust *t = NULL;
    assert_int_equal(gpurent_trust_new(&t, NULL), GPURENT_OK);
    uint8_t pk[GPURENT_KEY_BYTES];
    for (uint32_t i = 0; i < GPURENT_TRUST_MAX_KEYS - 1; i++) {
        memset(pk, 0x44, sizeof pk);
        memcpy(pk, &i, sizeof i);
        assert_int_equal(gpurent_trust_revoke(t, pk), GPURENT_OK);
    }
    const uint8_t *first = w.pk[K_PROVIDER], *second = w.pk[K_AUDITOR1];
    assert_int_equal(gpurent_trust_add(t, first, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_revoke(t, first), GPURENT_OK);
    assert_int_equal(gpurent_trust_remove(t, first), GPURENT_OK); /* the last place */
    assert_int_equal(gpurent_trust_add(t, second, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_revoke(t, second), GPURENT_OK); /* a key in the store: always fits */
    int rc = gpurent_trust_remove(t, second);
    uint32_t roles = 0;
    assert_int_equal(gpurent_trust_roles(t, second, &roles), GPURENT_OK); /* it stays */
    assert_int_equal(roles, GPURENT_ROLE_PROVIDER);
    assert_true(gpurent_trust_is_revoked(t, second));
    gpurent_trust_free(t);
    world_close(&w);
    return rc;
}

/* Key files: the provider's key sealed with the cheapest Argon2id limits. */
static int unseal(size_t flip, size_t len, const char *pass, int expect_other)
{
    attest_world w;
    gpurent_buf f = {0};
    gpurent_key *k = NULL;
    world_open(&w);
    gpurent_keyfile_options o = GPURENT_KEYFILE_OPTIONS_INIT;
    o.opslimit = 1;
    o.memlimit = 8192;
    assert_int_equal(gpurent_key_seal(w.k[K_PROVIDER], "correct horse", &o, &f), GPURENT_OK);
    if (flip < f.len) f.data[flip] ^= 0x01;
    int rc = gpurent_key_unseal(&k, f.data, len ? len : f.len, pass, expect_other ? w.pk[K_AUDITOR1] : NULL);
    gpurent_key_free(k);
    gpurent_buf_free(&f);
    world_close(&w);
    return rc;
}

static int case_wrong_passphrase(void) { return unseal(SIZE_MAX, 0, "battery staple", 0); }
static int case_damaged_key_file(void) { return unseal(100, 0, "correct horse", 0); }
static int case_short_key_file(void) { return unseal(SIZE_MAX, 175, "correct horse", 0); }
static int case_key_mismatch(void) { return unseal(SIZE_MAX, 0, "correct horse", 1); }

/* gpurent_key_save_new over an existing file (here: a folder). */
static int case_key_exists(void)
{
    attest_world w;
    world_open(&w);
    gpurent_keyfile_options o = GPURENT_KEYFILE_OPTIONS_INIT;
    o.opslimit = 1;
    o.memlimit = 8192;
    int rc = gpurent_key_save_new(w.k[K_PROVIDER], "/tmp", "correct horse", &o);
    world_close(&w);
    return rc;
}

static int case_verify_options_version(void)
{
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.version = 2;
    return verify_gpu(K_PROVIDER, 0, &o);
}

/* ---- snapshots: a tier engine of default options (first era 5) with no
 * evidence, saved with input sequence 9 ---- */
static int snapshot_case(size_t flip_at, uint8_t set_to, size_t cut, int other_params)
{
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = 5;
    gpurent_tier_engine *e = NULL, *l = NULL;
    gpurent_buf b = {0};
    assert_int_equal(gpurent_tier_engine_new(&e, &o), GPURENT_OK);
    assert_int_equal(gpurent_tier_save(e, 9, &b), GPURENT_OK);
    if (flip_at < b.len) b.data[flip_at] = set_to;
    if (other_params) o.window_eras = 20;
    int rc = gpurent_tier_load(&l, b.data, b.len - cut, &o, NULL);
    if (l) rc = GPURENT_E_INTERNAL; /* a refusal loads nothing */
    gpurent_tier_engine_free(l);
    gpurent_tier_engine_free(e);
    gpurent_buf_free(&b);
    return rc;
}

static int case_snapshot_damaged(void) { return snapshot_case(100, 0xff, 0, 0); }
static int case_snapshot_truncated(void) { return snapshot_case(SIZE_MAX, 0, 1, 0); }
static int case_snapshot_kind(void) { return snapshot_case(8, 3, 0, 0); }
static int case_snapshot_newer(void) { return snapshot_case(12, 0xff, 0, 0); }
static int case_snapshot_params(void) { return snapshot_case(SIZE_MAX, 0, 0, 1); }

/* ---- probe: the machine's driver, answered in the report ---- */

/* A probe answers facts about the machine in report.status and
 * report.reason, and the call itself succeeds: these cases return the
 * report's status and leave its reason in probe_reason, which the checker
 * reads instead of the thread's last error. */
static char probe_reason[GPURENT_GPU_REPORT_TEXT_MAX];
static int probe_case;

static int probe_with_call(const char *lib, const char *machine, int isolated)
{
    static gpurent_gpu_report r;
    char path[600];
    const char *b = getenv("GPURENT_TEST_BUILD");
    if (lib[0] == '/') snprintf(path, sizeof path, "%s", lib);
    else snprintf(path, sizeof path, "%s/tests/%s", b && *b ? b : "build", lib);
    gpurent_probe_options o = GPURENT_PROBE_OPTIONS_INIT;
    o.driver_path = path;
    o.now = AT_NOW;
    setenv("FAKECUDA_MACHINE", machine, 1);
    uint8_t nonce[32] = {7};
    int rc = isolated ? gpurent_probe_run_isolated(&o, nonce, NULL, &r) : gpurent_probe_run(&o, nonce, NULL, &r);
    assert_int_equal(rc, GPURENT_OK);
    unsetenv("FAKECUDA_MACHINE");
    snprintf(probe_reason, sizeof probe_reason, "%s", r.reason);
    probe_case = 1;
    return r.status;
}

static int probe_with(const char *lib, const char *machine) { return probe_with_call(lib, machine, 0); }

static int case_no_driver(void) { return probe_with("/nonexistent/libcuda.so.1", "h100"); }
static int case_stub_driver(void) { return probe_with("libfakecuda.so", "stub"); }
static int case_no_device(void) { return probe_with("libfakecuda.so", "nodevice"); }
static int case_driver_failed(void) { return probe_with("libfakecuda.so", "initfail"); }
static int case_driver_too_old(void) { return probe_with("libfakecuda_ancient.so", "h100"); }
static int case_driver_overrun(void) { return probe_with("libfakecuda.so", "uuid_long"); }
static int case_driver_duplicates(void) { return probe_with("libfakecuda.so", "duplicate"); }
/* In a helper process, with a copy of the fake this process never initialises. */
static int case_driver_crash(void) { return probe_with_call("libfakecuda_iso.so", "crash_init", 1); }

/* A report that lists one device twice (an 8-GPU report whose second device
 * is a copy of the first, ordinal apart). */
static int case_duplicate_device(void)
{
    static gpurent_gpu_report r;
    char path[600];
    const char *b = getenv("GPURENT_TEST_BUILD");
    snprintf(path, sizeof path, "%s/tests/libfakecuda.so", b && *b ? b : "build");
    gpurent_probe_options o = GPURENT_PROBE_OPTIONS_INIT;
    o.driver_path = path;
    o.now = AT_NOW;
    setenv("FAKECUDA_MACHINE", "a100x8", 1);
    uint8_t nonce[32] = {7};
    assert_int_equal(gpurent_probe_run(&o, nonce, NULL, &r), GPURENT_OK);
    unsetenv("FAKECUDA_MACHINE");
    assert_int_equal(r.status, GPURENT_OK);
    uint32_t ordinal = r.devices[1].ordinal;
    r.devices[1] = r.devices[0];
    r.devices[1].ordinal = ordinal;
    gpurent_buf out = {NULL, 0};
    int rc = gpurent_gpu_report_encode(&r, &out);
    gpurent_buf_free(&out);
    return rc;
}

static int case_probe_options_version(void)
{
    static gpurent_gpu_report r;
    gpurent_probe_options o = GPURENT_PROBE_OPTIONS_INIT;
    o.version = 9;
    uint8_t nonce[32] = {7};
    return gpurent_probe_run(&o, nonce, NULL, &r);
}

/* ---- tier ---- */

#define T_ERA (AT_NOW / 86400)

static gpurent_tier_engine *tier_engine(void)
{
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = T_ERA;
    o.quorum_auditors = 2;
    o.unverified_evidence = 1;
    gpurent_tier_engine *e = NULL;
    assert_int_equal(gpurent_tier_engine_new(&e, &o), GPURENT_OK);
    return e;
}

/* Auditor `a`'s passing full audit of the provider in era T_ERA. */
static void tier_audit(const attest_world *w, unsigned a, gpurent_audit_report *r)
{
    gpurent_audit_report_init(r);
    memcpy(r->provider_key, w->pk[K_PROVIDER], GPURENT_KEY_BYTES);
    memcpy(r->auditor_key, w->pk[a], GPURENT_KEY_BYTES);
    r->time_s = T_ERA * 86400 + 40000;
    r->gpu_report = r->integrity = r->security = GPURENT_CHECK_PASSED;
    assert_int_equal(gpurent_audit_report_add_challenge(r, T_ERA * 86400 + 100, GPURENT_CHALLENGE_GPU, 1),
                     GPURENT_OK);
}

/* An engine that heard auditors 1 and 2 and evaluated the era. */
static gpurent_tier_engine *tier_evaluated(const attest_world *w, unsigned auditors)
{
    gpurent_tier_engine *e = tier_engine();
    for (unsigned a = 0; a < auditors; a++) {
        gpurent_audit_report r;
        tier_audit(w, K_AUDITOR1 + a, &r);
        assert_int_equal(gpurent_tier_record_report(e, &r), GPURENT_OK);
        gpurent_audit_report_clear(&r);
    }
    assert_int_equal(gpurent_tier_evaluate(e, T_ERA, NULL, NULL), GPURENT_OK);
    return e;
}

static int case_unknown_provider(void)
{
    attest_world w;
    world_open(&w);
    gpurent_tier_engine *e = tier_evaluated(&w, 2);
    gpurent_tier_explanation x;
    int rc = gpurent_tier_explain(e, w.pk[K_STRANGER], &x);
    gpurent_tier_engine_free(e);
    world_close(&w);
    return rc;
}

static int case_closed_era(void)
{
    attest_world w;
    world_open(&w);
    gpurent_tier_engine *e = tier_engine();
    gpurent_tier_event ev = {{0}, (T_ERA - 1) * 86400, GPURENT_TIER_EVENT_GPU_CHALLENGE, 0, 1};
    memcpy(ev.provider_key, w.pk[K_PROVIDER], GPURENT_KEY_BYTES);
    int rc = gpurent_tier_record(e, &ev, 1);
    assert_int_equal(gpurent_tier_provider_count(e), 0);
    gpurent_tier_engine_free(e);
    world_close(&w);
    return rc;
}

/* A default engine (signed evidence only) and an unverified report. */
static int case_unverified_refused(void)
{
    attest_world w;
    world_open(&w);
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = T_ERA;
    gpurent_tier_engine *e = NULL;
    assert_int_equal(gpurent_tier_engine_new(&e, &o), GPURENT_OK);
    gpurent_audit_report r;
    tier_audit(&w, K_AUDITOR1, &r);
    int rc = gpurent_tier_record_report(e, &r);
    assert_int_equal(gpurent_tier_provider_count(e), 0);
    gpurent_audit_report_clear(&r);
    gpurent_tier_engine_free(e);
    world_close(&w);
    return rc;
}

/* Auditor 2 signs a report that names auditor 1 as its author. */
static int case_report_of_another_auditor(void)
{
    attest_world w;
    gpurent_buf p = {0}, env = {0};
    world_open(&w);
    gpurent_tier_engine *e = tier_engine();
    gpurent_audit_report r;
    tier_audit(&w, K_AUDITOR1, &r);
    assert_int_equal(gpurent_audit_report_encode(&r, &p), GPURENT_OK);
    gpurent_audit_report_clear(&r);
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_AUDIT_REPORT;
    h.issued_at = AT_NOW - 60;
    h.expires_at = AT_NOW + 3600;
    assert_int_equal(gpurent_envelope_sign(w.k[K_AUDITOR2], &h, p.data, p.len, &env), GPURENT_OK);
    int rc = gpurent_tier_record_signed(e, w.trust, env.data, env.len, AT_NOW, 60);
    assert_int_equal(gpurent_tier_provider_count(e), 0);
    gpurent_buf_free(&p);
    gpurent_buf_free(&env);
    gpurent_tier_engine_free(e);
    world_close(&w);
    return rc;
}

static int case_cert_quorum(void)
{
    attest_world w;
    world_open(&w);
    gpurent_tier_engine *e = tier_evaluated(&w, 1);
    gpurent_tier_cert c;
    int rc = gpurent_tier_certificate(e, w.pk[K_PROVIDER], &c);
    gpurent_tier_engine_free(e);
    world_close(&w);
    return rc;
}

/* Auditor 1's engine heard both auditors; auditor 2's engine also heard
 * a stake observation, so its certificate differs and it refuses to co-sign. */
static int case_cert_mismatch(void)
{
    attest_world w;
    gpurent_buf env = {0}, out = {0};
    world_open(&w);
    gpurent_tier_engine *a = tier_evaluated(&w, 2);
    gpurent_tier_engine *b = tier_engine();
    for (unsigned i = 0; i < 2; i++) {
        gpurent_audit_report r;
        tier_audit(&w, K_AUDITOR1 + i, &r);
        r.stake_observed = i == 1;
        r.stake_micro = i == 1 ? 5000000000ull : 0;
        assert_int_equal(gpurent_tier_record_report(b, &r), GPURENT_OK);
        gpurent_audit_report_clear(&r);
    }
    assert_int_equal(gpurent_tier_evaluate(b, T_ERA, NULL, NULL), GPURENT_OK);
    assert_int_equal(gpurent_tier_certificate_sign(a, w.k[K_AUDITOR1], w.pk[K_PROVIDER], AT_NOW - 60, AT_NOW + 3600,
                                                   &env),
                     GPURENT_OK);
    int rc = gpurent_tier_certificate_cosign(b, w.k[K_AUDITOR2], w.trust, env.data, env.len, AT_NOW, 60, &out);
    gpurent_buf_free(&env);
    gpurent_buf_free(&out);
    gpurent_tier_engine_free(a);
    gpurent_tier_engine_free(b);
    world_close(&w);
    return rc;
}

static int case_tier_options_version(void)
{
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.version = GPURENT_TIER_OPTIONS_VERSION + 1;
    gpurent_tier_engine *e = NULL;
    int rc = gpurent_tier_engine_new(&e, &o);
    gpurent_tier_engine_free(e);
    return rc;
}

/* ---- match ---- */

static gpurent_market *market_with_offer(void)
{
    gpurent_market *m = NULL;
    gpurent_offer o;
    assert_int_equal(gpurent_market_new(&m, NULL, NULL), GPURENT_OK);
    test_offer(&o);
    assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
    gpurent_offer_clear(&o);
    return m;
}

static int case_unknown_offer(void)
{
    gpurent_market *m = market_with_offer();
    uint8_t other[GPURENT_KEY_BYTES];
    memset(other, 0x43, sizeof other);
    int rc = gpurent_market_remove_offer(m, other);
    gpurent_market_free(m);
    return rc;
}

static int case_unknown_request(void)
{
    gpurent_market *m = market_with_offer();
    int rc = gpurent_market_remove_request(m, "req-404");
    gpurent_market_free(m);
    return rc;
}

/* One offer of 65 made-up GPU models: more buckets than one provider may hold. */
static int case_offer_models(void)
{
    gpurent_market *m = market_with_offer();
    gpurent_offer o;
    test_offer(&o);
    o.seq = 8;
    for (int i = 1; i <= 64; i++) {
        gpurent_node n;
        test_node(&n);
        snprintf(n.node_id, sizeof n.node_id, "node-%d", i);
        snprintf(n.gpu.model, sizeof n.gpu.model, "model-%d", i);
        n.gpu.uuid[0] = (uint8_t)i; /* GPUs of their own (one GPU, one place) */
        assert_int_equal(gpurent_offer_add_node(&o, &n), GPURENT_OK);
    }
    int rc = gpurent_market_put_offer(m, &o);
    gpurent_offer_clear(&o);
    gpurent_market_free(m);
    return rc;
}

static int case_stale_offer(void)
{
    gpurent_market *m = market_with_offer();
    gpurent_offer o;
    test_offer(&o); /* the same seq 7 again */
    int rc = gpurent_market_put_offer(m, &o);
    gpurent_offer_clear(&o);
    gpurent_market_free(m);
    return rc;
}

/* Another provider offering the GPU (UUID ee x16) node-a holds. */
static int case_gpu_conflict(void)
{
    gpurent_market *m = market_with_offer();
    gpurent_offer o;
    test_offer(&o);
    memset(o.provider_key, 0x43, sizeof o.provider_key);
    strcpy(o.nodes[0].node_id, "node-b");
    int rc = gpurent_market_put_offer(m, &o);
    gpurent_offer_clear(&o);
    gpurent_market_free(m);
    return rc;
}

/* A receipt computed by one market, applied to another whose pending
 * requests differ. */
static int case_receipt_other_state(void)
{
    gpurent_market *m = market_with_offer(), *n = market_with_offer();
    gpurent_request q;
    gpurent_request_init(&q);
    strcpy(q.request_id, "req-1");
    q.gpu_count = 2;
    assert_int_equal(gpurent_market_add_request(m, &q), GPURENT_OK);
    gpurent_match_receipt r;
    gpurent_match_receipt_init(&r);
    assert_int_equal(gpurent_market_match(m, AT_NOW, NULL, &r), GPURENT_OK);
    assert_int_equal(r.assignment_count, 1);
    int rc = gpurent_market_apply(n, &r);
    gpurent_match_receipt_clear(&r);
    gpurent_market_free(m);
    gpurent_market_free(n);
    return rc;
}

/* A receipt made by hand against the market's true digests (as a dishonest
 * matcher could). The market holds node-a (8 GPUs at 2490000) and the
 * pending requests "req-1" and "req-2" of `req_gpus` GPUs each, with price
 * cap `cap` (0: none). The receipt gives each of the `n` request ids `gpus`
 * GPUs on node-a at `price`. */
static int apply_forged(uint32_t req_gpus, uint64_t cap, const char *const *ids, uint32_t n, uint32_t gpus,
                        uint64_t price)
{
    gpurent_market *m = market_with_offer();
    for (int k = 1; k <= 2; k++) {
        gpurent_request q;
        gpurent_request_init(&q);
        snprintf(q.request_id, sizeof q.request_id, "req-%d", k);
        q.gpu_count = req_gpus;
        q.max_price_micro_per_gpu_hour = cap;
        assert_int_equal(gpurent_market_add_request(m, &q), GPURENT_OK);
    }
    gpurent_match_placement pl[2];
    gpurent_match_assignment as[2];
    memset(pl, 0, sizeof pl);
    memset(as, 0, sizeof as);
    for (uint32_t k = 0; k < n; k++) {
        memset(pl[k].provider_key, 0x42, sizeof pl[k].provider_key);
        strcpy(pl[k].node_id, "node-a");
        pl[k].gpus = gpus;
        pl[k].price_micro_per_gpu_hour = price;
        strcpy(as[k].request_id, ids[k]);
        as[k].value = 1;
        as[k].first_placement = k;
        as[k].placement_count = 1;
    }
    gpurent_match_receipt r;
    gpurent_match_receipt_init(&r);
    assert_int_equal(gpurent_market_digests(m, r.offers_digest, r.requests_digest, r.policy_digest), GPURENT_OK);
    r.matched_at = AT_NOW;
    r.total_value = n;
    r.request_count = 2;
    r.assignment_count = n;
    r.assignments = as;
    r.placement_count = n;
    r.placements = pl;
    int rc = gpurent_market_apply(m, &r);
    /* Nothing changed: both requests are still pending. */
    gpurent_match_receipt again;
    gpurent_match_receipt_init(&again);
    assert_int_equal(gpurent_market_digests(m, again.offers_digest, again.requests_digest, again.policy_digest),
                     GPURENT_OK);
    if (rc != GPURENT_OK) assert_memory_equal(again.requests_digest, r.requests_digest, 32);
    gpurent_market_free(m);
    return rc;
}

static const char *const REQ1[] = {"req-1"}, *const REQ12[] = {"req-1", "req-2"}, *const REQ404[] = {"req-404"};
static int case_receipt_unknown_request(void) { return apply_forged(4, 0, REQ404, 1, 4, 2490000); }
static int case_receipt_capacity(void) { return apply_forged(6, 0, REQ12, 2, 6, 2490000); }
static int case_receipt_shape(void) { return apply_forged(4, 0, REQ1, 1, 6, 2490000); }
static int case_receipt_price(void) { return apply_forged(4, 0, REQ1, 1, 4, 1); }
static int case_receipt_infeasible(void) { return apply_forged(4, 1000000, REQ1, 1, 4, 2490000); }

static int case_match_cancelled(void)
{
    gpurent_market *m = market_with_offer();
    gpurent_cancel *c = NULL;
    gpurent_request q;
    gpurent_request_init(&q);
    strcpy(q.request_id, "req-1");
    assert_int_equal(gpurent_market_add_request(m, &q), GPURENT_OK);
    assert_int_equal(gpurent_cancel_new(&c), GPURENT_OK);
    gpurent_cancel_request(c);
    gpurent_match_receipt r;
    gpurent_match_receipt_init(&r);
    int rc = gpurent_market_match(m, AT_NOW, c, &r);
    gpurent_match_receipt_clear(&r);
    gpurent_cancel_free(c);
    gpurent_market_free(m);
    return rc;
}

static int case_match_options_version(void)
{
    gpurent_match_options o = GPURENT_MATCH_OPTIONS_INIT;
    o.version = 2;
    gpurent_market *m = NULL;
    int rc = gpurent_market_new(&m, &o, NULL);
    gpurent_market_free(m);
    return rc;
}

static int case_bad_match_weights(void)
{
    gpurent_match_options o = GPURENT_MATCH_OPTIONS_INIT;
    o.w_price = GPURENT_MATCH_MAX_WEIGHT + 1;
    gpurent_market *m = NULL;
    int rc = gpurent_market_new(&m, &o, NULL);
    gpurent_market_free(m);
    return rc;
}

typedef struct catalogue_case {
    const char *id;
    const char *call; /* the public (or internal) function the case exercises */
    int (*run)(void);
} catalogue_case;

#define CASE(id, call, fn) {id, #call, fn}
static const catalogue_case cases[] = {
    CASE("null-data", gpurent_gpu_decode, case_null_data),
    CASE("null-out", gpurent_offer_decode, case_null_out),
    CASE("null-record", gpurent_request_encode, case_null_record),
    CASE("null-type-out", gpurent_wire_record_type, case_null_type_out),
    CASE("null-cancel-out", gpurent_cancel_new, case_null_cancel_out),
    CASE("arg-too-long", gpurent_request_allow_region, case_arg_too_long),
    CASE("list-full", gpurent_request_add_model, case_list_full),
    CASE("offer-nodes-full", gpurent_offer_add_node, case_offer_nodes_full),
    CASE("unknown-options-version", gpurent_trust_new, case_unknown_options_version),
    CASE("invalid-encode", gpurent_gpu_encode, case_invalid_encode),
    CASE("duplicate-node-id", gpurent_offer_encode, case_duplicate_node_id),
    CASE("gang-mismatch", gpurent_request_validate, case_gang_mismatch),
    CASE("empty-input", gpurent_gpu_decode, case_empty_input),
    CASE("truncated-record", gpurent_gpu_decode, case_truncated_record),
    CASE("truncated-length", gpurent_wire_check_canonical, case_truncated_length),
    CASE("huge-array-count", gpurent_offer_decode, case_huge_array_count),
    CASE("huge-map-count", gpurent_wire_check_canonical, case_huge_map_count),
    CASE("huge-string-length", gpurent_wire_check_canonical, case_huge_string_length),
    CASE("oversize-string", gpurent_gpu_decode, case_oversize_string),
    CASE("oversize-bin", gpurent_gpu_decode, case_oversize_bin),
    CASE("oversize-list", gpurent_request_decode, case_oversize_list),
    CASE("oversize-node-count", gpurent_offer_decode, case_oversize_node_count),
    CASE("oversize-record", gpurent_offer_decode, case_oversize_record),
    CASE("too-deep", gpurent_wire_check_canonical, case_too_deep),
    CASE("padded-int", gpurent_gpu_decode, case_padded_int),
    CASE("signed-form", gpurent_gpu_decode, case_signed_form),
    CASE("padded-length", gpurent_gpu_decode, case_padded_length),
    CASE("padded-count", gpurent_offer_decode, case_padded_count),
    CASE("float-value", gpurent_wire_check_canonical, case_float_value),
    CASE("float-field", gpurent_gpu_decode, case_float_field),
    CASE("ext-value", gpurent_wire_check_canonical, case_ext_value),
    CASE("duplicate-keys", gpurent_wire_check_canonical, case_duplicate_keys),
    CASE("unsorted-keys", gpurent_wire_check_canonical, case_unsorted_keys),
    CASE("repeated-key", gpurent_gpu_decode, case_repeated_key),
    CASE("unsorted-list", gpurent_request_decode, case_unsorted_list),
    CASE("trailing-bytes", gpurent_gpu_decode, case_trailing_bytes),
    CASE("never-used-byte", gpurent_wire_check_canonical, case_never_used_byte),
    CASE("invalid-utf8", gpurent_gpu_decode, case_invalid_utf8),
    CASE("overlong-utf8", gpurent_gpu_decode, case_overlong_utf8),
    CASE("surrogate-utf8", gpurent_gpu_decode, case_surrogate_utf8),
    CASE("nul-in-string", gpurent_gpu_decode, case_nul_in_string),
    CASE("empty-string", gpurent_gpu_decode, case_empty_string),
    CASE("wrong-value-type", gpurent_gpu_decode, case_wrong_value_type),
    CASE("negative-value", gpurent_gpu_decode, case_negative_value),
    CASE("above-limit", gpurent_gpu_decode, case_above_limit),
    CASE("bin-wrong-length", gpurent_gpu_decode, case_bin_wrong_length),
    CASE("missing-field", gpurent_gpu_decode, case_missing_field),
    CASE("key-gap", gpurent_gpu_decode, case_key_gap),
    CASE("cross-field", gpurent_offer_decode, case_cross_field),
    CASE("not-a-map", gpurent_wire_record_type, case_not_a_map),
    CASE("empty-map-record", gpurent_wire_record_type, case_empty_map_record),
    CASE("type-too-large", gpurent_wire_record_type, case_type_too_large),
    CASE("wrong-record", gpurent_gpu_decode, case_wrong_record),
    CASE("expired", gpurent_envelope_verify, case_expired),
    CASE("not-yet-valid", gpurent_envelope_verify, case_not_yet_valid),
    CASE("key-not-yet-valid", gpurent_envelope_verify, case_key_not_yet_valid),
    CASE("revoked", gpurent_envelope_verify, case_revoked),
    CASE("unknown-issuer", gpurent_envelope_verify, case_unknown_issuer),
    CASE("role-not-allowed", gpurent_envelope_verify, case_role_not_allowed),
    CASE("wrong-statement", gpurent_envelope_verify, case_wrong_statement),
    CASE("bad-signature", gpurent_envelope_verify, case_bad_signature),
    CASE("replayed", gpurent_envelope_verify, case_replayed),
    CASE("quorum-not-met", gpurent_envelope_verify, case_quorum_not_met),
    CASE("revocation-role", gpurent_trust_apply_revocation, case_revocation_role),
    CASE("sign-wrong-issuer", gpurent_envelope_sign, case_sign_wrong_issuer),
    CASE("small-order-key", gpurent_trust_add, case_small_order_key),
    CASE("standing-revocations-full", gpurent_trust_remove, case_standing_revocations_full),
    CASE("wrong-passphrase", gpurent_key_unseal, case_wrong_passphrase),
    CASE("damaged-key-file", gpurent_key_unseal, case_damaged_key_file),
    CASE("short-key-file", gpurent_key_unseal, case_short_key_file),
    CASE("key-mismatch", gpurent_key_unseal, case_key_mismatch),
    CASE("key-exists", gpurent_key_save_new, case_key_exists),
    CASE("snapshot-damaged", gpurent_tier_load, case_snapshot_damaged),
    CASE("snapshot-truncated", gpurent_tier_load, case_snapshot_truncated),
    CASE("snapshot-kind", gpurent_tier_load, case_snapshot_kind),
    CASE("snapshot-newer", gpurent_tier_load, case_snapshot_newer),
    CASE("snapshot-params", gpurent_tier_load, case_snapshot_params),
    CASE("verify-options-version", gpurent_envelope_verify, case_verify_options_version),
    CASE("no-driver", gpurent_probe_run, case_no_driver),
    CASE("stub-driver", gpurent_probe_run, case_stub_driver),
    CASE("no-device", gpurent_probe_run, case_no_device),
    CASE("driver-failed", gpurent_probe_run, case_driver_failed),
    CASE("driver-too-old", gpurent_probe_run, case_driver_too_old),
    CASE("probe-options-version", gpurent_probe_run, case_probe_options_version),
    CASE("driver-overrun", gpurent_probe_run, case_driver_overrun),
    CASE("driver-duplicates", gpurent_probe_run, case_driver_duplicates),
    CASE("driver-crash", gpurent_probe_run_isolated, case_driver_crash),
    CASE("duplicate-device", gpurent_gpu_report_encode, case_duplicate_device),
    CASE("unknown-provider", gpurent_tier_explain, case_unknown_provider),
    CASE("closed-era", gpurent_tier_record, case_closed_era),
    CASE("unverified-refused", gpurent_tier_record_report, case_unverified_refused),
    CASE("report-of-another-auditor", gpurent_tier_record_signed, case_report_of_another_auditor),
    CASE("cert-quorum", gpurent_tier_certificate, case_cert_quorum),
    CASE("cert-mismatch", gpurent_tier_certificate_cosign, case_cert_mismatch),
    CASE("tier-options-version", gpurent_tier_engine_new, case_tier_options_version),
    CASE("unknown-offer", gpurent_market_remove_offer, case_unknown_offer),
    CASE("unknown-request", gpurent_market_remove_request, case_unknown_request),
    CASE("stale-offer", gpurent_market_put_offer, case_stale_offer),
    CASE("gpu-conflict", gpurent_market_put_offer, case_gpu_conflict),
    CASE("offer-models", gpurent_market_put_offer, case_offer_models),
    CASE("receipt-other-state", gpurent_market_apply, case_receipt_other_state),
    CASE("receipt-unknown-request", gpurent_market_apply, case_receipt_unknown_request),
    CASE("receipt-capacity", gpurent_market_apply, case_receipt_capacity),
    CASE("receipt-shape", gpurent_market_apply, case_receipt_shape),
    CASE("receipt-price", gpurent_market_apply, case_receipt_price),
    CASE("receipt-infeasible", gpurent_market_apply, case_receipt_infeasible),
    CASE("match-cancelled", gpurent_market_match, case_match_cancelled),
    CASE("match-options-version", gpurent_market_new, case_match_options_version),
    CASE("bad-match-weights", gpurent_market_new, case_bad_match_weights),
};
#undef CASE
#define N_CASES (sizeof cases / sizeof cases[0])

/* ---- reading docs/errors.md ---- */

#define MAX_ROWS 256
#define CELL 256
typedef struct doc_row {
    int line;
    char id[64], call[CELL], status[CELL], detail[CELL];
} doc_row;

static doc_row rows[MAX_ROWS];
static size_t n_rows;

/* Copy a cell without surrounding blanks and backquotes. */
static void clean_cell(char *dst, const char *src, size_t len)
{
    while (len && (*src == ' ' || *src == '`')) { src++; len--; }
    while (len && (src[len - 1] == ' ' || src[len - 1] == '`')) len--;
    if (len >= CELL) len = CELL - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void parse_row(const char *line, int lineno)
{
    /* | `id` | class | input | call | status | detail | */
    const char *cells[8];
    size_t lens[8];
    int n = 0;
    const char *p = line + 1;
    while (n < 8) {
        const char *bar = strchr(p, '|');
        if (!bar) break;
        cells[n] = p;
        lens[n] = (size_t)(bar - p);
        n++;
        p = bar + 1;
    }
    if (n != 6) fail_msg("docs/errors.md:%d: %d cells, expected 6 (case, class, input, call, status, detail)",
                         lineno, n);
    assert_true(n_rows < MAX_ROWS);
    doc_row *r = &rows[n_rows++];
    r->line = lineno;
    char id[CELL];
    clean_cell(id, cells[0], lens[0]);
    assert_true(strlen(id) < sizeof r->id);
    strcpy(r->id, id);
    clean_cell(r->call, cells[3], lens[3]);
    clean_cell(r->status, cells[4], lens[4]);
    clean_cell(r->detail, cells[5], lens[5]);
}

static int load_doc(void **state)
{
    (void)state;
    const char *dir = getenv("GPURENT_SRCDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/errors.md", dir && *dir ? dir : ".");
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s (set GPURENT_SRCDIR to the source tree)\n", path);
        return -1;
    }
    char line[2048];
    int lineno = 0;
    n_rows = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (strncmp(line, "| `", 3) == 0) parse_row(line, lineno);
    }
    fclose(f);
    return 0;
}

static const catalogue_case *find_case(const char *id)
{
    for (size_t i = 0; i < N_CASES; i++)
        if (strcmp(cases[i].id, id) == 0) return &cases[i];
    return NULL;
}

/* ---- the tests ---- */

static void test_every_row_holds(void **state)
{
    (void)state;
    int bad = 0;
    assert_true(n_rows >= N_CASES);
    for (size_t i = 0; i < n_rows; i++) {
        const doc_row *r = &rows[i];
        const catalogue_case *c = find_case(r->id);
        if (!c) {
            print_error("docs/errors.md:%d: case '%s' is not implemented in %s\n", r->line, r->id, __FILE__);
            bad++;
            continue;
        }
        if (strcmp(c->call, r->call) != 0) {
            print_error("docs/errors.md:%d: case '%s' calls %s, the row says %s\n", r->line, r->id, c->call,
                        r->call);
            bad++;
        }
        gpurent_error_clear();
        probe_case = 0;
        case_skipped = 0;
        int rc = c->run();
        if (case_skipped) {
            print_message("docs/errors.md:%d: case '%s' skipped under valgrind\n", r->line, r->id);
            continue;
        }
        const char *got = gpurent_status_name(rc);
        /* A probe case's answer is the report's status and reason. */
        const char *detail = probe_case ? probe_reason : gpurent_last_error_message();
        if (strcmp(got, r->status) != 0) {
            print_error("docs/errors.md:%d: case '%s' gets %s (%s), the row says %s\n", r->line, r->id, got,
                        detail, r->status);
            bad++;
        } else if (!probe_case && gpurent_last_error_status() != rc) {
            print_error("docs/errors.md:%d: case '%s' returned %s but recorded %s\n", r->line, r->id, got,
                        gpurent_status_name(gpurent_last_error_status()));
            bad++;
        } else if (!strstr(detail, r->detail)) {
            print_error("docs/errors.md:%d: case '%s' detail \"%s\" lacks \"%s\"\n", r->line, r->id, detail,
                        r->detail);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void test_every_case_documented(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        int seen = 0;
        for (size_t j = 0; j < n_rows; j++) seen += strcmp(rows[j].id, cases[i].id) == 0;
        if (seen != 1) {
            print_error("case '%s' has %d rows in docs/errors.md, expected 1\n", cases[i].id, seen);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* The table covers every wire decoding status, so a new one cannot be added
 * without a row saying what input gets it. */
static void test_wire_statuses_covered(void **state)
{
    (void)state;
    static const int wire[] = {GPURENT_E_MALFORMED, GPURENT_E_TRUNCATED, GPURENT_E_NONCANONICAL,
                               GPURENT_E_OVERSIZE, GPURENT_E_INVALID_FIELD, GPURENT_E_WRONG_RECORD,
                               GPURENT_E_INVALID_ARG, GPURENT_E_LIMIT, GPURENT_E_VERSION};
    for (size_t i = 0; i < sizeof wire / sizeof wire[0]; i++) {
        int seen = 0;
        for (size_t j = 0; j < n_rows; j++) seen |= strcmp(rows[j].status, gpurent_status_name(wire[i])) == 0;
        if (!seen) fail_msg("no row of docs/errors.md gets %s", gpurent_status_name(wire[i]));
    }
}

/* The parser itself: a row with a wrong status must be caught (guards
 * against a test that silently compares nothing). */
static void test_parser_sees_rows(void **state)
{
    (void)state;
    const catalogue_case *c = find_case("trailing-bytes");
    assert_non_null(c);
    assert_int_equal(c->run(), GPURENT_E_NONCANONICAL);
    int found = 0;
    for (size_t j = 0; j < n_rows; j++) {
        if (strcmp(rows[j].id, "trailing-bytes") == 0) {
            found = 1;
            assert_string_equal(rows[j].call, "gpurent_gpu_decode");
            assert_string_equal(rows[j].status, "GPURENT_E_NONCANONICAL");
            assert_string_not_equal(rows[j].status, "GPURENT_E_TRUNCATED");
        }
    }
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser_sees_rows),
        cmocka_unit_test(test_every_row_holds),
        cmocka_unit_test(test_every_case_documented),
        cmocka_unit_test(test_wire_statuses_covered),
    };
    return cmocka_run_group_tests(tests, load_doc, NULL);
}
