/* Wire records: round trips, canonical form, strict decoding of hostile bytes. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gpurent.h"
#include "core/core_internal.h"
#include "wire/mp_internal.h"
#include "support/gen.h"

static int under_valgrind(void) { return getenv("GPURENT_TEST_VALGRIND") != NULL; }

/* Decode with the decoder for `type`, re-encode on success. */
static int decode_any(uint32_t type, const uint8_t *b, size_t len, gpurent_buf *again)
{
    int rc;
    again->data = NULL;
    again->len = 0;
    if (type == GPURENT_RECORD_GPU) {
        gpurent_gpu g;
        rc = gpurent_gpu_decode(b, len, &g);
        if (!rc) rc = gpurent_gpu_encode(&g, again);
    } else if (type == GPURENT_RECORD_OFFER) {
        gpurent_offer o;
        gpurent_offer_init(&o);
        rc = gpurent_offer_decode(b, len, &o);
        if (!rc) rc = gpurent_offer_encode(&o, again);
        gpurent_offer_clear(&o);
    } else {
        gpurent_request q;
        rc = gpurent_request_decode(b, len, &q);
        if (!rc) rc = gpurent_request_encode(&q, again);
    }
    return rc;
}

static void encode_generated(uint32_t type, gen_rng *r, gpurent_buf *out)
{
    if (type == GPURENT_RECORD_GPU) {
        gpurent_gpu g;
        gen_gpu(r, &g);
        assert_int_equal(gpurent_gpu_encode(&g, out), GPURENT_OK);
    } else if (type == GPURENT_RECORD_OFFER) {
        gpurent_offer o;
        gpurent_offer_init(&o);
        gen_offer(r, &o);
        assert_int_equal(gpurent_offer_encode(&o, out), GPURENT_OK);
        gpurent_offer_clear(&o);
    } else {
        gpurent_request q;
        gen_request(r, &q);
        assert_int_equal(gpurent_request_encode(&q, out), GPURENT_OK);
    }
}

/* encode -> decode -> encode gives identical bytes, for many generated records. */
static void test_roundtrip_generated(void **state)
{
    (void)state;
    gen_rng r = {42};
    int n = under_valgrind() ? 60 : 1500;
    for (uint32_t type = 1; type <= 3; type++)
        for (int i = 0; i < n; i++) {
            gpurent_buf b = {0}, again = {0};
            encode_generated(type, &r, &b);
            assert_int_equal(gpurent_wire_check_canonical(b.data, b.len), GPURENT_OK);
            uint32_t t = 0;
            assert_int_equal(gpurent_wire_record_type(b.data, b.len, &t), GPURENT_OK);
            assert_int_equal(t, type);
            assert_int_equal(decode_any(type, b.data, b.len, &again), GPURENT_OK);
            assert_int_equal(again.len, b.len);
            assert_memory_equal(again.data, b.data, b.len);
            gpurent_buf_free(&b);
            gpurent_buf_free(&again);
        }
}

/* Mutations: any single-byte change, truncation or extension of a valid
 * record either fails cleanly or decodes to a record whose canonical
 * encoding is exactly the mutated bytes (one encoding per value). */
static void test_mutations(void **state)
{
    (void)state;
    gen_rng r = {7};
    int per_type = under_valgrind() ? 2 : 12;
    for (uint32_t type = 1; type <= 3; type++)
        for (int i = 0; i < per_type; i++) {
            gpurent_buf b = {0};
            encode_generated(type, &r, &b);
            uint8_t *m = malloc(b.len + 8);
            for (size_t pos = 0; pos < b.len; pos++) {
                int tries = under_valgrind() ? 1 : 4;
                for (int k = 0; k < tries; k++) {
                    memcpy(m, b.data, b.len);
                    m[pos] = (uint8_t)gen_next(&r);
                    gpurent_buf again = {0};
                    int rc = decode_any(type, m, b.len, &again);
                    if (rc == GPURENT_OK) {
                        assert_int_equal(again.len, b.len);
                        assert_memory_equal(again.data, m, b.len);
                    } else {
                        assert_true(rc < 0);
                        assert_true(strlen(gpurent_last_error_message()) > 0);
                    }
                    gpurent_buf_free(&again);
                }
            }
            for (size_t cut = 0; cut < b.len; cut++) {
                gpurent_buf again = {0};
                int rc = decode_any(type, b.data, cut, &again);
                assert_true(rc == GPURENT_E_TRUNCATED || rc == GPURENT_E_INVALID_FIELD);
                gpurent_buf_free(&again);
            }
            memcpy(m, b.data, b.len);
            m[b.len] = 0;
            gpurent_buf again = {0};
            assert_int_equal(decode_any(type, m, b.len + 1, &again), GPURENT_E_NONCANONICAL);
            assert_non_null(strstr(gpurent_last_error_message(), "trailing"));
            free(m);
            gpurent_buf_free(&b);
        }
}

typedef struct hostile {
    const char *what;
    const uint8_t *bytes;
    size_t len;
    int status; /* from gpurent_wire_check_canonical */
} hostile;

#define H(what, status, ...) {what, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), status}

static void test_hostile_values(void **state)
{
    (void)state;
    const hostile cases[] = {
        H("array32 of 2^32-1 items", GPURENT_E_TRUNCATED, 0xdd, 0xff, 0xff, 0xff, 0xff),
        H("map32 of 2^32-1 entries", GPURENT_E_TRUNCATED, 0xdf, 0xff, 0xff, 0xff, 0xff, 0x00),
        H("str32 of 4 GiB", GPURENT_E_TRUNCATED, 0xdb, 0xff, 0xff, 0xff, 0xff, 0x61),
        H("bin32 of 4 GiB", GPURENT_E_TRUNCATED, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00),
        H("array16 with 16 declared, 1 given", GPURENT_E_TRUNCATED, 0xdc, 0x00, 0x10, 0x01),
        H("uint8 holding 5", GPURENT_E_NONCANONICAL, 0xcc, 0x05),
        H("uint16 holding 200", GPURENT_E_NONCANONICAL, 0xcd, 0x00, 0xc8),
        H("uint32 holding 65535", GPURENT_E_NONCANONICAL, 0xce, 0x00, 0x00, 0xff, 0xff),
        H("uint64 holding 2^32-1", GPURENT_E_NONCANONICAL, 0xcf, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
        H("int8 holding 1", GPURENT_E_NONCANONICAL, 0xd0, 0x01),
        H("int8 holding -1", GPURENT_E_NONCANONICAL, 0xd0, 0xff),
        H("int16 holding -100", GPURENT_E_NONCANONICAL, 0xd1, 0xff, 0x9c),
        H("int64 holding 7", GPURENT_E_NONCANONICAL, 0xd3, 0, 0, 0, 0, 0, 0, 0, 7),
        H("float32", GPURENT_E_NONCANONICAL, 0xca, 0x3f, 0x80, 0x00, 0x00),
        H("float64", GPURENT_E_NONCANONICAL, 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0),
        H("fixext1", GPURENT_E_NONCANONICAL, 0xd4, 0x01, 0x00),
        H("ext8", GPURENT_E_NONCANONICAL, 0xc7, 0x01, 0x05, 0x00),
        H("never-used byte", GPURENT_E_MALFORMED, 0xc1),
        H("str8 of 3 bytes", GPURENT_E_NONCANONICAL, 0xd9, 0x03, 0x61, 0x62, 0x63),
        H("bin16 of 1 byte", GPURENT_E_NONCANONICAL, 0xc5, 0x00, 0x01, 0x00),
        H("map16 of 1 entry", GPURENT_E_NONCANONICAL, 0xde, 0x00, 0x01, 0x01, 0x02),
        H("duplicate map keys", GPURENT_E_NONCANONICAL, 0x82, 0x01, 0x00, 0x01, 0x00),
        H("descending map keys", GPURENT_E_NONCANONICAL, 0x82, 0x02, 0x00, 0x01, 0x00),
        H("string keys out of order", GPURENT_E_NONCANONICAL, 0x82, 0xa1, 0x62, 0x00, 0xa1, 0x61, 0x00),
        H("overlong UTF-8", GPURENT_E_INVALID_FIELD, 0xa2, 0xc0, 0xaf),
        H("UTF-8 surrogate", GPURENT_E_INVALID_FIELD, 0xa3, 0xed, 0xa0, 0x80),
        H("NUL in string", GPURENT_E_INVALID_FIELD, 0xa1, 0x00),
        H("truncated UTF-8", GPURENT_E_INVALID_FIELD, 0xa1, 0xe2),
        H("trailing byte", GPURENT_E_NONCANONICAL, 0x01, 0x02),
        H("empty input", GPURENT_E_TRUNCATED, 0x00),
        H("truncated uint32", GPURENT_E_TRUNCATED, 0xce, 0x00, 0x01),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strcmp(cases[i].what, "empty input") ? cases[i].len : 0;
        gr_alloc_largest(1);
        int rc = gpurent_wire_check_canonical(cases[i].bytes, len);
        if (rc != cases[i].status)
            fail_msg("%s: got %s, expected %s (%s)", cases[i].what, gpurent_status_name(rc),
                     gpurent_status_name(cases[i].status), gpurent_last_error_message());
        /* No decoder reserves memory from a declared count. */
        gpurent_offer o;
        gpurent_offer_init(&o);
        assert_true(gpurent_offer_decode(cases[i].bytes, len, &o) < 0);
        assert_true(gr_alloc_largest(0) < 4096);
    }
    /* Valid values of every kind pass. */
    const hostile ok[] = {
        H("nil, bools", GPURENT_OK, 0x93, 0xc0, 0xc2, 0xc3),
        H("negative ints", GPURENT_OK, 0x94, 0xff, 0xe0, 0xd0, 0xdf, 0xd1, 0xff, 0x7f),
        H("uint8 128", GPURENT_OK, 0xcc, 0x80),
        H("uint64 max", GPURENT_OK, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
        H("int64 min", GPURENT_OK, 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0),
        H("sorted string keys", GPURENT_OK, 0x82, 0xa1, 0x61, 0x00, 0xa2, 0x61, 0x61, 0x00),
        H("4-byte UTF-8", GPURENT_OK, 0xa4, 0xf0, 0x9f, 0x9a, 0x80),
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (gpurent_wire_check_canonical(ok[i].bytes, ok[i].len) != GPURENT_OK)
            fail_msg("%s rejected: %s", ok[i].what, gpurent_last_error_message());
}

static void test_depth_limit(void **state)
{
    (void)state;
    uint8_t deep[200];
    memset(deep, 0x91, sizeof deep); /* arrays of one array of ... */
    deep[sizeof deep - 1] = 0x00;
    assert_int_equal(gpurent_wire_check_canonical(deep, sizeof deep), GPURENT_E_OVERSIZE);
    assert_non_null(strstr(gpurent_last_error_message(), "nesting"));
    /* Exactly 16 levels pass, 17 do not. */
    assert_int_equal(gpurent_wire_check_canonical(deep + sizeof deep - 16, 16), GPURENT_OK);
    assert_int_equal(gpurent_wire_check_canonical(deep + sizeof deep - 18, 18), GPURENT_E_OVERSIZE);
}

/* Every record decoder refuses input above GPURENT_RECORD_MAX_BYTES on its
 * size alone; an envelope gets room for its header and signatures. */
static void test_record_size_limit(void **state)
{
    (void)state;
    const size_t max = GPURENT_RECORD_MAX_BYTES, n = max + 4096 + 1;
    uint8_t *big = calloc(1, n);
    assert_non_null(big);
    big[0] = 0x81; /* a map: what each decoder would look at first */
    static gpurent_gpu g;
    static gpurent_offer o;
    static gpurent_request q;
    static gpurent_gpu_report gr;
    static gpurent_audit_report ar;
    static gpurent_tier_cert tc;
    static gpurent_match_receipt mr;
    static gpurent_revocation rv;
    static gpurent_envelope env;
    gpurent_offer_init(&o);
    gpurent_audit_report_init(&ar);
    int rc[9] = {
        gpurent_gpu_decode(big, max + 1, &g),
        gpurent_offer_decode(big, max + 1, &o),
        gpurent_request_decode(big, max + 1, &q),
        gpurent_gpu_report_decode(big, max + 1, &gr),
        gpurent_audit_report_decode(big, max + 1, &ar),
        gpurent_tier_cert_decode(big, max + 1, &tc),
        gpurent_match_receipt_decode(big, max + 1, &mr),
        gpurent_revocation_decode(big, max + 1, &rv),
        gpurent_envelope_decode(big, n, &env),
    };
    for (int i = 0; i < 9; i++) {
        if (rc[i] != GPURENT_E_OVERSIZE) fail_msg("decoder %d: status %d, expected OVERSIZE", i, rc[i]);
    }
    assert_non_null(strstr(gpurent_last_error_message(), "above the record limit"));
    /* At the limit the size passes and the content is what fails. */
    assert_int_not_equal(gpurent_offer_decode(big, max, &o), GPURENT_E_OVERSIZE);
    assert_int_not_equal(gpurent_envelope_decode(big, max + 1, &env), GPURENT_E_OVERSIZE);
    assert_int_not_equal(gpurent_envelope_decode(big, n - 1, &env), GPURENT_E_OVERSIZE);
    free(big);
}

static void test_h100_fixture_bytes(void **state)
{
    (void)state;
    gpurent_gpu g, back;
    gen_h100(&g);
    gpurent_buf b = {0};
    assert_int_equal(gpurent_gpu_encode(&g, &b), GPURENT_OK);
    /* The opening bytes documented in docs/wire-format.md section 2.4. */
    const uint8_t head[] = {0xde, 0x00, 0x16, 0x00, 0x01, 0x01, 0xae, 'H', '1', '0', '0', ' ', 'S', 'X', 'M',
                            '5', ' ', '8', '0', 'G', 'B', 0x02, 0xc4, 0x10};
    assert_true(b.len > sizeof head);
    assert_memory_equal(b.data, head, sizeof head);
    assert_int_equal(gpurent_gpu_decode(b.data, b.len, &back), GPURENT_OK);
    assert_memory_equal(&back, &g, sizeof g);
    gpurent_buf_free(&b);
}

/* PCI ids (keys 22-25, added after 0.3): present only when not 0, so a GPU
 * without them keeps the bytes of the older format, which decode and
 * re-encode to themselves; in an offer's node too. */
static void test_gpu_pci_ids(void **state)
{
    (void)state;
    gpurent_gpu g, back;
    gen_h100(&g);
    gpurent_buf old = {0}, b = {0};
    assert_int_equal(gpurent_gpu_encode(&g, &old), GPURENT_OK);
    assert_int_equal(old.data[2], 0x16); /* 22 entries, keys 0-21 */
    assert_int_equal(gpurent_gpu_decode(old.data, old.len, &back), GPURENT_OK);
    assert_memory_equal(&back, &g, sizeof g);
    g.pci_vendor_id = 0x10de;
    g.pci_device_id = 0x2330;
    g.pci_subsystem_vendor_id = 0x10de;
    g.pci_subsystem_device_id = 0x16c1;
    assert_int_equal(gpurent_gpu_encode(&g, &b), GPURENT_OK);
    assert_int_equal(b.data[2], 0x1a); /* 26 entries */
    assert_int_equal(b.len, old.len + 4 * 4);
    assert_memory_equal(b.data + 3, old.data + 3, old.len - 3); /* the old fields, then the new */
    const uint8_t tail[] = {0x16, 0xcd, 0x10, 0xde, 0x17, 0xcd, 0x23, 0x30, 0x18, 0xcd, 0x10, 0xde, 0x19, 0xcd, 0x16, 0xc1};
    assert_memory_equal(b.data + b.len - sizeof tail, tail, sizeof tail);
    assert_int_equal(gpurent_gpu_decode(b.data, b.len, &back), GPURENT_OK);
    assert_memory_equal(&back, &g, sizeof g);
    gpurent_buf_free(&b);
    /* only the subsystem device 0: keys 22-24 */
    g.pci_subsystem_device_id = 0;
    assert_int_equal(gpurent_gpu_encode(&g, &b), GPURENT_OK);
    assert_int_equal(b.data[2], 0x19);
    assert_int_equal(gpurent_gpu_decode(b.data, b.len, &back), GPURENT_OK);
    assert_memory_equal(&back, &g, sizeof g);
    /* an optional key written with 0 has a shorter form: NONCANONICAL */
    uint8_t *z = malloc(b.len + 2);
    assert_non_null(z);
    memcpy(z, b.data, b.len);
    z[2] = 0x1a;
    z[b.len] = 0x19;
    z[b.len + 1] = 0x00;
    assert_int_equal(gpurent_gpu_decode(z, b.len + 2, &back), GPURENT_E_NONCANONICAL);
    /* a key past the last field */
    z[b.len] = 0x1a;
    z[b.len + 1] = 0x01;
    assert_int_equal(gpurent_gpu_decode(z, b.len + 2, &back), GPURENT_E_INVALID_FIELD);
    free(z);
    /* 27 entries: more than the record has */
    b.data[2] = 0x1b;
    assert_int_equal(gpurent_gpu_decode(b.data, b.len, &back), GPURENT_E_TRUNCATED);
    gpurent_buf_free(&b);
    /* rules: ids without a vendor, vendor 0xffff, ids above 16 bits */
    gen_h100(&g);
    g.pci_device_id = 0x2330;
    assert_int_equal(gpurent_gpu_validate(&g), GPURENT_E_INVALID_FIELD);
    g.pci_vendor_id = 0xffff;
    assert_int_equal(gpurent_gpu_validate(&g), GPURENT_E_INVALID_FIELD);
    g.pci_vendor_id = 0x10de;
    g.pci_subsystem_device_id = 0x10000;
    assert_int_equal(gpurent_gpu_encode(&g, &b), GPURENT_E_INVALID_FIELD);
    g.pci_subsystem_device_id = 0;
    /* a vendor id above 16 bits on the wire */
    g.pci_device_id = 0;
    assert_int_equal(gpurent_gpu_encode(&g, &b), GPURENT_OK);
    assert_int_equal(b.data[b.len - 4], 0x16);
    assert_int_equal(b.data[b.len - 3], 0xcd);
    b.data[b.len - 3] = 0xcc; /* 0x10 as uint8... followed by a stray byte */
    assert_int_not_equal(gpurent_gpu_decode(b.data, b.len, &back), GPURENT_OK);
    gpurent_buf_free(&b);
    gpurent_buf_free(&old);
    /* in an offer's node */
    gpurent_offer o, ob;
    gpurent_node n;
    memset(&n, 0, sizeof n);
    snprintf(n.node_id, sizeof n.node_id, "n1");
    gen_h100(&n.gpu);
    n.gpu_count = 8;
    gpurent_offer_init(&o);
    gpurent_offer_init(&ob);
    snprintf(o.region, sizeof o.region, "eu");
    assert_int_equal(gpurent_offer_add_node(&o, &n), GPURENT_OK);
    assert_int_equal(gpurent_offer_encode(&o, &old), GPURENT_OK);
    o.nodes[0].gpu.pci_vendor_id = 0x10de;
    o.nodes[0].gpu.pci_device_id = 0x2330;
    assert_int_equal(gpurent_offer_encode(&o, &b), GPURENT_OK);
    assert_int_equal(b.len, old.len + 8);
    assert_int_equal(gpurent_offer_decode(b.data, b.len, &ob), GPURENT_OK);
    assert_memory_equal(&ob.nodes[0], &o.nodes[0], sizeof n);
    gpurent_offer_clear(&ob);
    gpurent_buf_free(&b);
    assert_int_equal(gpurent_offer_decode(old.data, old.len, &ob), GPURENT_OK);
    assert_int_equal(gpurent_offer_encode(&ob, &b), GPURENT_OK);
    assert_int_equal(b.len, old.len);
    assert_memory_equal(b.data, old.data, old.len);
    gpurent_offer_clear(&ob);
    gpurent_offer_clear(&o);
    gpurent_buf_free(&b);
    gpurent_buf_free(&old);
}

static void test_wrong_record_and_fields(void **state)
{
    (void)state;
    gpurent_gpu g;
    gen_h100(&g);
    gpurent_buf b = {0};
    assert_int_equal(gpurent_gpu_encode(&g, &b), GPURENT_OK);
    gpurent_request q;
    assert_int_equal(gpurent_request_decode(b.data, b.len, &q), GPURENT_E_WRONG_RECORD);
    gpurent_offer o;
    gpurent_offer_init(&o);
    assert_int_equal(gpurent_offer_decode(b.data, b.len, &o), GPURENT_E_WRONG_RECORD);
    assert_non_null(strstr(gpurent_last_error_message(), "record type 1, expected 2"));
    /* Patch the pci_bus value (key 4 = 0x18) to 0xcc 0xff... not possible in
     * place; instead flip ecc_enabled to 2 via the encoder's validation. */
    g.ecc_enabled = 2;
    gpurent_buf bad = {0};
    assert_int_equal(gpurent_gpu_encode(&g, &bad), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "gpu.ecc_enabled: 2 above the limit 1"));
    assert_null(bad.data);
    /* A value out of range in the bytes is caught by the decoder: ecc is the
     * value after key 14 (0x0e); set it to 2. */
    size_t i;
    for (i = 0; i + 1 < b.len; i++)
        if (b.data[i] == 0x0e && b.data[i + 1] == 0x01) break;
    assert_true(i + 1 < b.len);
    b.data[i + 1] = 0x02;
    assert_int_equal(gpurent_gpu_decode(b.data, b.len, &g), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "ecc_enabled"));
    /* Negative where unsigned is required. */
    b.data[i + 1] = 0xff;
    assert_int_equal(gpurent_gpu_decode(b.data, b.len, &g), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "ecc_enabled"));
    /* A float there is non-canonical, not just invalid. */
    gpurent_buf_free(&b);
}

static void test_offer_validation(void **state)
{
    (void)state;
    gpurent_offer o;
    gpurent_offer_init(&o);
    gpurent_buf b = {0};
    memcpy(o.region, "eu-west", 8);
    assert_int_equal(gpurent_offer_encode(&o, &b), GPURENT_E_INVALID_FIELD); /* no nodes */
    assert_non_null(strstr(gpurent_last_error_message(), "offer.nodes: 0 nodes"));
    gpurent_node n;
    memset(&n, 0, sizeof n);
    strcpy(n.node_id, "n1");
    gen_h100(&n.gpu);
    n.gpu_count = 8;
    n.gpu_free = 9;
    assert_int_equal(gpurent_offer_add_node(&o, &n), GPURENT_OK);
    assert_int_equal(gpurent_offer_validate(&o), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "offer.nodes[0].gpu_free: 9 above gpu_count 8"));
    o.nodes[0].gpu_free = 8;
    assert_int_equal(gpurent_offer_add_node(&o, &n), GPURENT_OK);
    o.nodes[1].gpu_free = 1;
    assert_int_equal(gpurent_offer_validate(&o), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "node_id: 'n1' repeats nodes[0]"));
    /* Several repeats: the report names the first node, in array order, whose
     * id an earlier node has (ids a b c b a c: node 3 repeats node 1). */
    {
        gpurent_offer d;
        gpurent_offer_init(&d);
        memcpy(d.provider_key, o.provider_key, sizeof d.provider_key);
        memcpy(d.region, "eu-west", 8);
        const char *ids[] = {"a", "b", "c", "b", "a", "c"};
        gpurent_node m = o.nodes[0];
        for (int i = 0; i < 6; i++) {
            strcpy(m.node_id, ids[i]);
            assert_int_equal(gpurent_offer_add_node(&d, &m), GPURENT_OK);
        }
        assert_int_equal(gpurent_offer_validate(&d), GPURENT_E_INVALID_FIELD);
        assert_non_null(strstr(gpurent_last_error_message(), "offer.nodes[3].node_id: 'b' repeats nodes[1]"));
        strcpy(d.nodes[3].node_id, "d");
        assert_int_equal(gpurent_offer_validate(&d), GPURENT_E_INVALID_FIELD);
        assert_non_null(strstr(gpurent_last_error_message(), "offer.nodes[4].node_id: 'a' repeats nodes[0]"));
        strcpy(d.nodes[4].node_id, "e");
        strcpy(d.nodes[5].node_id, "f");
        assert_int_equal(gpurent_offer_validate(&d), GPURENT_OK);
        /* past 16 nodes the ids are sorted by qsort, below by insertion:
         * the same first repeat is named either way */
        for (int i = 6; i < 20; i++) {
            snprintf(m.node_id, sizeof m.node_id, "n%02d", 25 - i);
            assert_int_equal(gpurent_offer_add_node(&d, &m), GPURENT_OK);
        }
        assert_int_equal(gpurent_offer_validate(&d), GPURENT_OK);
        strcpy(d.nodes[17].node_id, "c");
        strcpy(d.nodes[19].node_id, "n12");
        assert_int_equal(gpurent_offer_validate(&d), GPURENT_E_INVALID_FIELD);
        assert_non_null(strstr(gpurent_last_error_message(), "offer.nodes[17].node_id: 'c' repeats nodes[2]"));
        gpurent_offer_clear(&d);
    }
    strcpy(o.nodes[1].node_id, "n2");
    o.min_duration_s = 100;
    o.max_duration_s = 50;
    assert_int_equal(gpurent_offer_validate(&o), GPURENT_E_INVALID_FIELD);
    o.max_duration_s = 0;
    o.nodes[1].gpu.model[0] = '\0';
    assert_int_equal(gpurent_offer_validate(&o), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "offer.nodes[1].gpu.model: must not be empty"));
    strcpy(o.nodes[1].gpu.model, "A100");
    o.nodes[1].gpu.model[2] = (char)0xff; /* invalid UTF-8 */
    assert_int_equal(gpurent_offer_validate(&o), GPURENT_E_INVALID_FIELD);
    strcpy(o.nodes[1].gpu.model, "A100");
    assert_int_equal(gpurent_offer_encode(&o, &b), GPURENT_OK);
    assert_non_null(gpurent_offer_node(&o, 1));
    assert_null(gpurent_offer_node(&o, 2));
    assert_string_equal(gpurent_offer_node(&o, 1)->node_id, "n2");
    gpurent_offer back;
    gpurent_offer_init(&back);
    assert_int_equal(gpurent_offer_decode(b.data, b.len, &back), GPURENT_OK);
    assert_int_equal(back.node_count, 2);
    assert_string_equal(back.nodes[1].gpu.model, "A100");
    gpurent_offer_clear(&back);
    gpurent_offer_clear(&o);
    gpurent_offer_clear(NULL);
    gpurent_buf_free(&b);
    /* Limits of the node array. */
    gpurent_offer_init(&o);
    for (unsigned i = 0; i < GPURENT_OFFER_MAX_NODES; i++) assert_int_equal(gpurent_offer_add_node(&o, &n), GPURENT_OK);
    assert_int_equal(gpurent_offer_add_node(&o, &n), GPURENT_E_LIMIT);
    gpurent_offer_clear(&o);
}

static void test_request_sets(void **state)
{
    (void)state;
    gpurent_request q, back;
    gpurent_request_init(&q);
    strcpy(q.request_id, "r1");
    assert_int_equal(gpurent_request_allow_region(&q, "us-east"), GPURENT_OK);
    assert_int_equal(gpurent_request_allow_region(&q, "eu-west"), GPURENT_OK);
    assert_int_equal(gpurent_request_add_model(&q, "T4"), GPURENT_OK);
    assert_int_equal(gpurent_request_add_model(&q, "H100"), GPURENT_OK);
    uint8_t k1[32], k2[32];
    memset(k1, 0x22, 32);
    memset(k2, 0x11, 32);
    assert_int_equal(gpurent_request_exclude_provider(&q, k1), GPURENT_OK);
    assert_int_equal(gpurent_request_exclude_provider(&q, k2), GPURENT_OK);
    gpurent_buf b = {0};
    assert_int_equal(gpurent_request_encode(&q, &b), GPURENT_OK);
    assert_int_equal(gpurent_request_decode(b.data, b.len, &back), GPURENT_OK);
    /* Decoded sets come back sorted. */
    assert_string_equal(back.regions[0], "eu-west");
    assert_string_equal(back.regions[1], "us-east");
    assert_string_equal(back.models[0], "H100");
    assert_memory_equal(back.excluded_providers[0], k2, 32);
    /* Swapping two set items in the bytes is non-canonical. */
    uint8_t *eu = memmem(b.data, b.len, "eu-west", 7), *us = memmem(b.data, b.len, "us-east", 7);
    assert_non_null(eu);
    assert_non_null(us);
    memcpy(eu, "us-east", 7);
    memcpy(us, "eu-west", 7);
    assert_int_equal(gpurent_request_decode(b.data, b.len, &back), GPURENT_E_NONCANONICAL);
    assert_non_null(strstr(gpurent_last_error_message(), "regions[1]: items not in ascending order"));
    /* A repeated item is invalid. */
    memcpy(us, "us-east", 7);
    assert_int_equal(gpurent_request_decode(b.data, b.len, &back), GPURENT_E_INVALID_FIELD);
    gpurent_buf_free(&b);
    assert_int_equal(gpurent_request_allow_region(&q, ""), GPURENT_OK);
    assert_int_equal(gpurent_request_validate(&q), GPURENT_E_INVALID_FIELD);
    assert_int_equal(gpurent_request_allow_region(&q, "0123456789012345678901234567890123456789"), GPURENT_E_INVALID_ARG);
    for (int i = 0; i < 5; i++) gpurent_request_add_model(&q, "x");
    assert_int_equal(gpurent_request_add_model(&q, "y"), GPURENT_OK);
    assert_int_equal(gpurent_request_add_model(&q, "z"), GPURENT_E_LIMIT);
}

/* Each list helper fills its own list, and each list has its own limit. */
static void test_request_list_helpers(void **state)
{
    (void)state;
    gpurent_request q;
    gpurent_request_init(&q);
    uint8_t k[32];
    memset(k, 0x33, sizeof k);
    assert_int_equal(gpurent_request_allow_region(&q, "eu-west"), GPURENT_OK);
    assert_int_equal(gpurent_request_exclude_region(&q, "us-east"), GPURENT_OK);
    assert_int_equal(gpurent_request_allow_provider(&q, k), GPURENT_OK);
    k[0] = 0x44;
    assert_int_equal(gpurent_request_exclude_provider(&q, k), GPURENT_OK);
    assert_int_equal(q.region_count, 1);
    assert_string_equal(q.regions[0], "eu-west");
    assert_int_equal(q.excluded_region_count, 1);
    assert_string_equal(q.excluded_regions[0], "us-east");
    assert_int_equal(q.provider_count, 1);
    assert_int_equal(q.providers[0][0], 0x33);
    assert_int_equal(q.excluded_provider_count, 1);
    assert_int_equal(q.excluded_providers[0][0], 0x44);
    for (uint32_t i = 1; i < GPURENT_REQUEST_MAX_LIST; i++) {
        k[1] = (uint8_t)i;
        assert_int_equal(gpurent_request_exclude_region(&q, "x"), GPURENT_OK);
        assert_int_equal(gpurent_request_exclude_provider(&q, k), GPURENT_OK);
    }
    assert_int_equal(gpurent_request_exclude_region(&q, "x"), GPURENT_E_LIMIT);
    assert_non_null(strstr(gpurent_last_error_message(), "excluded_regions"));
    assert_int_equal(gpurent_request_exclude_provider(&q, k), GPURENT_E_LIMIT);
    assert_non_null(strstr(gpurent_last_error_message(), "excluded_providers"));
    assert_int_equal(q.region_count, 1); /* the allowed lists are untouched */
    assert_int_equal(q.provider_count, 1);
    assert_int_equal(gpurent_request_allow_region(&q, "ap-south"), GPURENT_OK);
    assert_int_equal(gpurent_request_exclude_region(NULL, "x"), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_request_exclude_region(&q, NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_request_exclude_provider(&q, NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_request_allow_provider(NULL, k), GPURENT_E_INVALID_ARG);
}

static void test_request_rules(void **state)
{
    (void)state;
    gpurent_request q;
    gpurent_request_init(&q);
    strcpy(q.request_id, "r");
    assert_int_equal(gpurent_request_validate(&q), GPURENT_OK);
    q.gpu_count = 6;
    q.gang_nodes = 4;
    q.gang_scope = GPURENT_GANG_PROVIDER;
    assert_int_equal(gpurent_request_validate(&q), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "gang_nodes: 4 does not divide gpu_count 6"));
    q.gpu_count = 8;
    assert_int_equal(gpurent_request_validate(&q), GPURENT_OK);
    q.gang_scope = GPURENT_GANG_NODE;
    assert_int_equal(gpurent_request_validate(&q), GPURENT_E_INVALID_FIELD);
    gpurent_request_init(&q);
    strcpy(q.request_id, "r");
    q.vram_share_pct = 50;
    q.gpu_count = 2;
    q.gang_nodes = 2;
    q.gang_scope = 1;
    assert_int_equal(gpurent_request_validate(&q), GPURENT_E_INVALID_FIELD);
    gpurent_request_init(&q);
    strcpy(q.request_id, "r");
    q.allowed_tiers = 1;
    assert_int_equal(gpurent_request_validate(&q), GPURENT_E_INVALID_FIELD);
    q.allowed_tiers = 0;
    q.duration_s = 0;
    assert_int_equal(gpurent_request_validate(&q), GPURENT_E_INVALID_FIELD);
    q.duration_s = GPURENT_MAX_DURATION_S + 1;
    assert_int_equal(gpurent_request_validate(&q), GPURENT_E_INVALID_FIELD);
    q.duration_s = 60;
    q.request_id[0] = '\0';
    assert_int_equal(gpurent_request_validate(&q), GPURENT_E_INVALID_FIELD);
    memset(q.request_id, 'a', sizeof q.request_id); /* no terminator */
    assert_int_equal(gpurent_request_validate(&q), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "not NUL-terminated"));
}

/* gr_wr_uint writes integers itself (the encoders' hot path): byte for
 * byte what msgpack-c's msgpack_pack_uint64 writes, at every form boundary. */
static void test_uint_matches_msgpack(void **state)
{
    (void)state;
    uint64_t v[64];
    size_t n = 0;
    const uint64_t edges[] = {0x80, 0x100, 0x10000, 0x100000000ull};
    v[n++] = 0;
    v[n++] = UINT64_MAX;
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        v[n++] = edges[i] - 1;
        v[n++] = edges[i];
        v[n++] = edges[i] + 1;
    }
    uint64_t x = 0x9E3779B97F4A7C15ull;
    while (n < sizeof v / sizeof *v) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        v[n++] = x >> (x % 64);
    }
    for (size_t i = 0; i < n; i++) {
        gr_writer w;
        gr_wr_init(&w);
        gr_wr_uint(&w, v[i]);
        gpurent_buf ours = {0};
        assert_int_equal(gr_wr_finish(&w, &ours), GPURENT_OK);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_uint64(&pk, v[i]);
        assert_int_equal(ours.len, sb.size);
        assert_memory_equal(ours.data, sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
        gpurent_buf_free(&ours);
    }
}

static void test_null_args(void **state)
{
    (void)state;
    gpurent_buf b = {0};
    gpurent_gpu g;
    gpurent_offer o;
    gpurent_request q;
    uint32_t t;
    assert_int_equal(gpurent_gpu_encode(NULL, &b), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_gpu_encode(&g, NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_gpu_decode(NULL, 3, &g), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_gpu_decode((const uint8_t *)"", 0, NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_gpu_validate(NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_offer_encode(NULL, &b), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_offer_decode(NULL, 1, &o), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_offer_validate(NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_offer_add_node(NULL, NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_request_encode(NULL, &b), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_request_decode(NULL, 1, &q), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_request_validate(NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_request_add_model(NULL, "x"), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_request_allow_region(&q, NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_request_allow_provider(&q, NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_wire_check_canonical(NULL, 1), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_wire_record_type((const uint8_t *)"\x80", 1, &t), GPURENT_E_INVALID_FIELD);
    assert_int_equal(gpurent_wire_record_type((const uint8_t *)"\x01", 1, NULL), GPURENT_E_INVALID_ARG);
    assert_string_equal(gpurent_record_type_name(GPURENT_RECORD_OFFER), "offer");
    assert_string_equal(gpurent_record_type_name(999), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_generated), cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_hostile_values),      cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_record_size_limit),
        cmocka_unit_test(test_h100_fixture_bytes),  cmocka_unit_test(test_wrong_record_and_fields),
        cmocka_unit_test(test_gpu_pci_ids),
        cmocka_unit_test(test_offer_validation),    cmocka_unit_test(test_request_sets),
        cmocka_unit_test(test_request_list_helpers), cmocka_unit_test(test_request_rules),
        cmocka_unit_test(test_null_args),            cmocka_unit_test(test_uint_matches_msgpack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
