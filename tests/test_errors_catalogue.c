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
    return gpurent_request_add_region(&q, "a-region-name-of-forty-bytes-0123456789", 0);
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

static int case_unknown_options_version(void) { return gr_check_version(2, 1, "example options"); }

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
    CASE("arg-too-long", gpurent_request_add_region, case_arg_too_long),
    CASE("list-full", gpurent_request_add_model, case_list_full),
    CASE("offer-nodes-full", gpurent_offer_add_node, case_offer_nodes_full),
    CASE("unknown-options-version", gr_check_version, case_unknown_options_version),
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
        int rc = c->run();
        const char *got = gpurent_status_name(rc);
        const char *detail = gpurent_last_error_message();
        if (strcmp(got, r->status) != 0) {
            print_error("docs/errors.md:%d: case '%s' gets %s (%s), the row says %s\n", r->line, r->id, got,
                        detail, r->status);
            bad++;
        } else if (gpurent_last_error_status() != rc) {
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
