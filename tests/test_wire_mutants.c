/* Every single-bit mutant of every shared wire fixture (tests/fixtures/wire),
 * decoded by its record's decoder, against a verdict table checked in beside
 * the fixtures (tests/fixtures/wire/mutants.txt).
 *
 * Invariants, whatever the table says:
 *  - a mutant the decoder accepts re-encodes to exactly its own bytes (one
 *    encoding per value: accepting a non-canonical form is a failure);
 *  - an accepted mutant obeys the derivations docs/wire-format.md states
 *    (a tier certificate's confidence_ppm, a receipt's total_value, a GPU
 *    report check's ratio_ppm and verdict), recomputed here from the document;
 *  - a refusal is one of the statuses the document names, with a detail.
 * The table then pins which status each mutant gets, so that a change in any
 * decoder's verdict is a reviewed diff (`make wire-mutants` rewrites it).
 * Signed envelopes (tests/vectors/envelopes_c.txt) have no encoder to round
 * trip through: their table rows are gpurent_envelope_decode()'s verdicts,
 * and the invariant is that verification refuses every mutant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gpurent.h"
#include "vectors/vecparse.h"

#define FIXTURE_DIR "tests/fixtures/wire/"
#define TABLE_PATH FIXTURE_DIR "mutants.txt"
#define MAX_FIXTURE 4096

static const char *const fixtures[] = {
    "gpu_minimal",          "gpu_h100",          "gpu_widths",           "offer_two_nodes",
    "request_default",      "request_full",      "gpu_report_no_driver", "gpu_report_two_devices",
    "audit_report_minimal", "audit_report_full", "tier_cert_incubating", "tier_cert_widths",
    "match_receipt_two",    "revocation_compromised", "revocation_retired_max", "gpu_pci_ids",
    "gpu_report_pci_ids",
};
#define N_FIXTURES (sizeof fixtures / sizeof fixtures[0])

typedef struct decoded {
    uint32_t type;
    union {
        gpurent_gpu gpu;
        gpurent_offer offer;
        gpurent_request request;
        gpurent_gpu_report report;
        gpurent_audit_report audit;
        gpurent_tier_cert cert;
        gpurent_match_receipt receipt;
        gpurent_revocation rev;
    } u;
} decoded;

static void decoded_clear(decoded *d)
{
    if (d->type == GPURENT_RECORD_OFFER) gpurent_offer_clear(&d->u.offer);
    if (d->type == GPURENT_RECORD_AUDIT_REPORT) gpurent_audit_report_clear(&d->u.audit);
    if (d->type == GPURENT_RECORD_MATCH_RECEIPT) gpurent_match_receipt_clear(&d->u.receipt);
}

/* Decode `b` as a record of `type`; on success re-encode it into `again`. */
static int decode_type(uint32_t type, const uint8_t *b, size_t len, decoded *d, gpurent_buf *again)
{
    int rc;
    memset(d, 0, sizeof *d);
    d->type = type;
    switch (type) {
    case GPURENT_RECORD_GPU:
        rc = gpurent_gpu_decode(b, len, &d->u.gpu);
        return rc ? rc : gpurent_gpu_encode(&d->u.gpu, again);
    case GPURENT_RECORD_OFFER:
        gpurent_offer_init(&d->u.offer);
        rc = gpurent_offer_decode(b, len, &d->u.offer);
        return rc ? rc : gpurent_offer_encode(&d->u.offer, again);
    case GPURENT_RECORD_REQUEST:
        rc = gpurent_request_decode(b, len, &d->u.request);
        return rc ? rc : gpurent_request_encode(&d->u.request, again);
    case GPURENT_RECORD_GPU_REPORT:
        gpurent_gpu_report_init(&d->u.report);
        rc = gpurent_gpu_report_decode(b, len, &d->u.report);
        return rc ? rc : gpurent_gpu_report_encode(&d->u.report, again);
    case GPURENT_RECORD_AUDIT_REPORT:
        gpurent_audit_report_init(&d->u.audit);
        rc = gpurent_audit_report_decode(b, len, &d->u.audit);
        return rc ? rc : gpurent_audit_report_encode(&d->u.audit, again);
    case GPURENT_RECORD_TIER_CERT:
        rc = gpurent_tier_cert_decode(b, len, &d->u.cert);
        return rc ? rc : gpurent_tier_cert_encode(&d->u.cert, again);
    case GPURENT_RECORD_MATCH_RECEIPT:
        gpurent_match_receipt_init(&d->u.receipt);
        rc = gpurent_match_receipt_decode(b, len, &d->u.receipt);
        return rc ? rc : gpurent_match_receipt_encode(&d->u.receipt, again);
    case GPURENT_RECORD_REVOCATION:
        rc = gpurent_revocation_decode(b, len, &d->u.rev);
        return rc ? rc : gpurent_revocation_encode(&d->u.rev, again);
    default:
        fail_msg("no decoder for record type %u", type);
        return -1;
    }
}

/* ---- the derivations of docs/wire-format.md, written from the document ---- */

static uint64_t ratio_ppm_doc(uint64_t value, uint64_t peak)
{
    uint64_t r = value * 1000000u / peak; /* rounded down, capped at 2^32-1 */
    return r > UINT32_MAX ? UINT32_MAX : r;
}

static const char *check_doc_rules_check(const gpurent_probe_check *k, const gpurent_pv *peak)
{
    if (k->state != GPURENT_PV_OK) return NULL;
    uint64_t want = peak->state == GPURENT_PV_OK && peak->value ? ratio_ppm_doc(k->value, peak->value) : 0;
    if (k->ratio_ppm != want) return "check ratio_ppm is not value x 10^6 / peak";
    if (k->verdict == GPURENT_VERDICT_WRONG_OUTPUT) return NULL;
    uint32_t v = !want ? GPURENT_VERDICT_NONE
                 : want < 750000u ? GPURENT_VERDICT_LOW
                 : want > 1100000u ? GPURENT_VERDICT_IMPLAUSIBLE
                                   : GPURENT_VERDICT_PLAUSIBLE;
    return k->verdict == v ? NULL : "check verdict is not the one its ratio gives";
}

/* NULL when the decoded record obeys the document's derived-field rules. */
static const char *doc_rules(const decoded *d)
{
    if (d->type == GPURENT_RECORD_TIER_CERT) {
        const gpurent_tier_cert *c = &d->u.cert;
        uint64_t want = c->mean_ppm ? (uint64_t)c->score_ppm * 1000000u / c->mean_ppm : 0;
        if (c->confidence_ppm != want) return "tier_cert.confidence_ppm is not floor(score x 10^6 / mean)";
    } else if (d->type == GPURENT_RECORD_MATCH_RECEIPT) {
        uint64_t sum = 0;
        for (uint32_t i = 0; i < d->u.receipt.assignment_count; i++) sum += d->u.receipt.assignments[i].value;
        if (sum != d->u.receipt.total_value) return "match_receipt.total_value is not the sum of the values";
    } else if (d->type == GPURENT_RECORD_GPU_REPORT) {
        for (uint32_t i = 0; i < d->u.report.device_count; i++) {
            const gpurent_probe_device *v = &d->u.report.devices[i];
            const char *why = check_doc_rules_check(&v->d2d, &v->mem_bw_mbps);
            if (!why) why = check_doc_rules_check(&v->h2d, &v->h2d_peak_mbps);
            if (!why) why = check_doc_rules_check(&v->fma, &v->fp32_gflops);
            if (why) return why;
        }
    }
    return NULL;
}

/* ---- verdicts ---- */

static char verdict_letter(int rc)
{
    switch (rc) {
    case GPURENT_OK: return 'A';
    case GPURENT_E_NONCANONICAL: return 'N';
    case GPURENT_E_INVALID_FIELD: return 'I';
    case GPURENT_E_TRUNCATED: return 'T';
    case GPURENT_E_OVERSIZE: return 'O';
    case GPURENT_E_WRONG_RECORD: return 'W';
    case GPURENT_E_MALFORMED: return 'M';
    default: return '?';
    }
}

static size_t read_hex(const char *name, uint8_t *out, size_t cap)
{
    char path[256], *line = NULL;
    size_t lcap = 0, n = 0;
    snprintf(path, sizeof path, FIXTURE_DIR "%s.hex", name);
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot open %s (run from the repository root)", path);
    ssize_t got = getline(&line, &lcap, f);
    fclose(f);
    assert_true(got > 0);
    for (; n < cap && line[2 * n] && line[2 * n] != '\n'; n++) {
        unsigned v;
        if (sscanf(line + 2 * n, "%2x", &v) != 1) fail_msg("%s: bad hex at %zu", path, 2 * n);
        out[n] = (uint8_t)v;
    }
    free(line);
    assert_true(n < cap);
    return n;
}

typedef struct tally {
    size_t mutants, accepted, by_letter[128];
} tally;

/* Flip each bit of the fixture; append one table line per byte to `table`
 * ("OFFSET BYTE V7..V0": the verdict with bit 7 flipped first). */
static void mutate_fixture(const char *name, FILE *table, tally *t)
{
    static uint8_t b[MAX_FIXTURE], m[MAX_FIXTURE];
    size_t len = read_hex(name, b, sizeof b);
    uint32_t type = 0;
    assert_int_equal(gpurent_wire_record_type(b, len, &type), GPURENT_OK);
    decoded d;
    gpurent_buf again = {0};
    /* The fixture itself decodes and re-encodes to itself. */
    assert_int_equal(decode_type(type, b, len, &d, &again), GPURENT_OK);
    assert_true(again.len == len && memcmp(again.data, b, len) == 0);
    const char *why = doc_rules(&d);
    if (why) fail_msg("fixture %s: %s", name, why);
    decoded_clear(&d);
    gpurent_buf_free(&again);
    fprintf(table, "fixture %s %zu\n", name, len);
    for (size_t pos = 0; pos < len; pos++) {
        char letters[9] = {0};
        for (int bit = 7; bit >= 0; bit--) {
            memcpy(m, b, len);
            m[pos] ^= (uint8_t)(1u << bit);
            int rc = decode_type(type, m, len, &d, &again);
            char v = verdict_letter(rc);
            if (v == '?')
                fail_msg("%s byte %zu bit %d: status %s is not one the document names (%s)", name, pos, bit,
                         gpurent_status_name(rc), gpurent_last_error_message());
            if (rc == GPURENT_OK) {
                if (again.len != len || memcmp(again.data, m, len) != 0)
                    fail_msg("%s byte %zu bit %d: accepted but re-encodes to other bytes (non-canonical)", name,
                             pos, bit);
                why = doc_rules(&d);
                if (why) fail_msg("%s byte %zu bit %d: accepted, but %s", name, pos, bit, why);
                t->accepted++;
            } else if (gpurent_last_error_message()[0] == '\0') {
                fail_msg("%s byte %zu bit %d: refused (%s) without a detail", name, pos, bit,
                         gpurent_status_name(rc));
            }
            t->mutants++;
            t->by_letter[(unsigned char)v]++;
            letters[7 - bit] = v;
            decoded_clear(&d);
            gpurent_buf_free(&again);
        }
        fprintf(table, "%04zx %02x %s\n", pos, b[pos], letters);
    }
}

static char *slurp(FILE *f, size_t *len)
{
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    *len = (size_t)n;
    return s;
}

static const char *const envelope_vectors[] = {"offer-ok", "receipt-3of3"};

static const vec_line *find_vector(const char *name)
{
    static char line[VEC_LINE_MAX];
    static vec_line v;
    FILE *f = fopen("tests/vectors/envelopes_c.txt", "r");
    if (!f) fail_msg("cannot open tests/vectors/envelopes_c.txt (run from the repository root)");
    while (fgets(line, sizeof line, f))
        if (vec_parse(&v, line) == 1 && strcmp(vec_get(&v, "name"), name) == 0) {
            fclose(f);
            return &v;
        }
    fclose(f);
    fail_msg("no vector %s", name);
    return NULL;
}

/* An envelope vector's bit mutants: the header decoder's verdict in the
 * table, and verification (the vector's trust, time and quorum, replay off
 * so that only the bytes decide) refuses every one. */
static void mutate_envelope(const char *name, FILE *table, tally *t)
{
    static uint8_t b[VEC_LINE_MAX / 2], m[VEC_LINE_MAX / 2];
    const vec_line *v = find_vector(name);
    long n = vec_hex(vec_get(v, "envelope"), b, sizeof b);
    assert_true(n > 0);
    size_t len = (size_t)n;
    gpurent_trust *trust = NULL;
    assert_int_equal(vec_trust(v, &trust), 0);
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.quorum = (uint32_t)vec_num(v, "quorum", 1);
    o.required_role = (uint32_t)vec_num(v, "role", 0);
    o.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    uint64_t now = vec_num(v, "now", 0);
    uint32_t skew = (uint32_t)vec_num(v, "skew", 0);
    gpurent_envelope h;
    assert_int_equal(gpurent_envelope_decode(b, len, &h), GPURENT_OK);
    assert_int_equal(gpurent_envelope_verify(trust, b, len, now, skew, &o, NULL), GPURENT_OK);
    fprintf(table, "envelope %s %zu\n", name, len);
    for (size_t pos = 0; pos < len; pos++) {
        char letters[9] = {0};
        for (int bit = 7; bit >= 0; bit--) {
            memcpy(m, b, len);
            m[pos] ^= (uint8_t)(1u << bit);
            int rc = gpurent_envelope_decode(m, len, &h);
            char c = verdict_letter(rc);
            if (c == '?')
                fail_msg("envelope %s byte %zu bit %d: status %s is not one the document names (%s)", name, pos, bit,
                         gpurent_status_name(rc), gpurent_last_error_message());
            int vrc = gpurent_envelope_verify(trust, m, len, now, skew, &o, NULL);
            if (vrc == GPURENT_OK) fail_msg("envelope %s byte %zu bit %d: a mutant verifies", name, pos, bit);
            if (rc != GPURENT_OK && vrc != rc)
                fail_msg("envelope %s byte %zu bit %d: decode says %s, verify %s", name, pos, bit,
                         gpurent_status_name(rc), gpurent_status_name(vrc));
            t->mutants++;
            t->accepted += rc == GPURENT_OK;
            t->by_letter[(unsigned char)c]++;
            letters[7 - bit] = c;
        }
        fprintf(table, "%04zx %02x %s\n", pos, b[pos], letters);
    }
    gpurent_trust_free(trust);
}

/* Report the first line where the table and the decoders disagree. */
static void compare_tables(const char *want, const char *got)
{
    size_t line = 1;
    const char *w = want, *g = got;
    while (*w && *g) {
        const char *we = strchr(w, '\n'), *ge = strchr(g, '\n');
        size_t wl = we ? (size_t)(we - w) : strlen(w), gl = ge ? (size_t)(ge - g) : strlen(g);
        if (wl != gl || memcmp(w, g, wl) != 0)
            fail_msg(TABLE_PATH " line %zu: expected \"%.*s\", the decoders give \"%.*s\" (letters: bit 7 "
                     "first; review, then `make wire-mutants`)",
                     line, (int)wl, w, (int)gl, g);
        w += wl + (we != NULL);
        g += gl + (ge != NULL);
        line++;
    }
    if (*w || *g) fail_msg(TABLE_PATH ": %s ends at line %zu", *w ? "the decoders' table" : "the file", line);
}

static void test_bit_mutants(void **state)
{
    (void)state;
    tally t;
    memset(&t, 0, sizeof t);
    FILE *table = tmpfile();
    assert_non_null(table);
    fputs("# Verdicts on every single-bit mutant of the wire fixtures (tests/test_wire_mutants.c).\n"
          "# `make wire-mutants` rewrites this file; review its diff. Per fixture byte:\n"
          "# OFFSET BYTE and eight letters, the decoder's verdict with bit 7, 6, ..., 0 flipped:\n"
          "# A accepted (a record re-encodes to the mutant; an envelope's header decodes, and\n"
          "# verification still refuses it), N NONCANONICAL, I INVALID_FIELD,\n"
          "# T TRUNCATED, O OVERSIZE, W WRONG_RECORD, M MALFORMED.\n",
          table);
    for (size_t i = 0; i < N_FIXTURES; i++) mutate_fixture(fixtures[i], table, &t);
    for (size_t i = 0; i < sizeof envelope_vectors / sizeof envelope_vectors[0]; i++)
        mutate_envelope(envelope_vectors[i], table, &t);
    size_t got_len;
    char *got = slurp(table, &got_len);
    fclose(table);
    const char *write_to = getenv("GPURENT_WRITE_MUTANTS");
    if (write_to && *write_to) {
        FILE *f = fopen(write_to, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(got, 1, got_len, f), got_len);
        assert_int_equal(fclose(f), 0);
        printf("wrote %s\n", write_to);
    }
    FILE *f = fopen(TABLE_PATH, "r");
    if (!f) fail_msg("cannot open " TABLE_PATH " (run from the repository root)");
    size_t want_len;
    char *want = slurp(f, &want_len);
    fclose(f);
    compare_tables(want, got);
    printf("%zu mutants: %zu accepted, N %zu, I %zu, T %zu, O %zu, W %zu, M %zu\n", t.mutants, t.accepted,
           t.by_letter['N'], t.by_letter['I'], t.by_letter['T'], t.by_letter['O'], t.by_letter['W'],
           t.by_letter['M']);
    free(want);
    free(got);
}

static void expect_refused(int rc, const char *field)
{
    if (rc != GPURENT_E_INVALID_FIELD)
        fail_msg("expected INVALID_FIELD naming %s, got %s (%s)", field, gpurent_status_name(rc),
                 gpurent_last_error_message());
    if (!strstr(gpurent_last_error_message(), field))
        fail_msg("detail \"%s\" does not name %s", gpurent_last_error_message(), field);
}

/* A certificate's confidence_ppm is floor(score_ppm x 10^6 / mean_ppm): one
 * off either way is refused, by the encoder and by the decoder. */
static void test_cert_confidence_derived(void **state)
{
    (void)state;
    static uint8_t b[MAX_FIXTURE];
    size_t len = read_hex("tier_cert_incubating", b, sizeof b);
    gpurent_tier_cert c, d;
    assert_int_equal(gpurent_tier_cert_decode(b, len, &c), GPURENT_OK);
    assert_int_equal(c.confidence_ppm, 874778); /* 612345 x 10^6 / 700000 = 874778.57 */
    for (int delta = -1; delta <= 1; delta += 2) {
        d = c;
        d.confidence_ppm = (uint32_t)((int64_t)c.confidence_ppm + delta);
        gpurent_buf out = {0};
        expect_refused(gpurent_tier_cert_encode(&d, &out), "confidence_ppm");
        /* The same value patched into the bytes: key 7, a uint32 (ce). */
        uint8_t m[MAX_FIXTURE];
        memcpy(m, b, len);
        const uint8_t want[] = {0x07, 0xce, 0x00, 0x0d, 0x59, 0x1a};
        uint8_t *at = NULL;
        for (size_t i = 0; i + sizeof want <= len && !at; i++)
            if (!memcmp(m + i, want, sizeof want)) at = m + i;
        assert_non_null(at);
        at[5] = (uint8_t)(at[5] + delta);
        expect_refused(gpurent_tier_cert_decode(m, len, &d), "confidence_ppm");
    }
    /* mean 0: confidence 0 (and score 0, since score <= mean). */
    d = c;
    d.score_ppm = d.mean_ppm = 0;
    d.confidence_ppm = 1;
    expect_refused(gpurent_tier_cert_validate(&d), "confidence_ppm");
    d.confidence_ppm = 0;
    assert_int_equal(gpurent_tier_cert_validate(&d), GPURENT_OK);
}

/* A check's ratio_ppm is value x 10^6 / its peak, rounded down, and its
 * verdict follows from the ratio unless it is WRONG_OUTPUT. */
static void test_check_ratio_derived(void **state)
{
    (void)state;
    static uint8_t b[MAX_FIXTURE];
    size_t len = read_hex("gpu_report_two_devices", b, sizeof b);
    static gpurent_gpu_report r, x;
    assert_int_equal(gpurent_gpu_report_decode(b, len, &r), GPURENT_OK);
    gpurent_probe_check *fma = &r.devices[0].fma;
    assert_int_equal(fma->ratio_ppm, 896933); /* 60012 x 10^6 / 66908 = 896933.1 */
    gpurent_buf out = {0};
    x = r;
    x.devices[0].fma.ratio_ppm++;
    expect_refused(gpurent_gpu_report_encode(&x, &out), "fma");
    x = r;
    x.devices[0].fma.ratio_ppm--;
    expect_refused(gpurent_gpu_report_validate(&x), "fma");
    x = r;
    x.devices[0].fma.verdict = GPURENT_VERDICT_LOW; /* 0.897 is plausible */
    expect_refused(gpurent_gpu_report_validate(&x), "fma");
    x = r;
    x.devices[1].d2d.verdict = GPURENT_VERDICT_PLAUSIBLE; /* 0.5 is low */
    expect_refused(gpurent_gpu_report_validate(&x), "d2d");
    x = r;
    x.devices[0].fma.verdict = GPURENT_VERDICT_WRONG_OUTPUT; /* not derived: the kernel's output */
    assert_int_equal(gpurent_gpu_report_validate(&x), GPURENT_OK);
    x = r;
    x.devices[0].fp32_gflops.state = GPURENT_PV_UNSUPPORTED; /* no peak: ratio 0, verdict none */
    x.devices[0].fp32_gflops.value = 0;
    expect_refused(gpurent_gpu_report_validate(&x), "fma");
    x.devices[0].fma.ratio_ppm = 0;
    x.devices[0].fma.verdict = GPURENT_VERDICT_NONE;
    assert_int_equal(gpurent_gpu_report_validate(&x), GPURENT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cert_confidence_derived),
        cmocka_unit_test(test_check_ratio_derived),
        cmocka_unit_test(test_bit_mutants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
