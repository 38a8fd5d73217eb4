/* The match receipt record: what a batch match decided, and digests of what
 * it decided on. Matchmakers sign its canonical bytes; a quorum of identical
 * receipts makes the result binding. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "mp_internal.h"

#define RF(key, kind, member, max) GR_FIELD(key, kind, gpurent_match_receipt, member, max)
static const gr_field receipt_head[] = {
    RF(1, GR_BIN, seed, 0),
    RF(2, GR_BIN, policy_digest, 0),
    RF(3, GR_BIN, offers_digest, 0),
    RF(4, GR_BIN, requests_digest, 0),
    RF(5, GR_U64, matched_at, 1ull << 40),
    RF(6, GR_U64, total_value, UINT64_MAX),
    RF(7, GR_U32, request_count, GPURENT_RECEIPT_MAX_ASSIGNMENTS),
};
#undef RF
#define AF(key, kind, member, max) GR_FIELD(key, kind, gpurent_match_assignment, member, max)
static const gr_field asg_head[] = {
    AF(1, GR_STR, request_id, 0),
    AF(2, GR_U64, value, 1ull << 62),
};
#undef AF
#define PF(key, kind, member, max) GR_FIELD(key, kind, gpurent_match_placement, member, max)
static const gr_field plc_fields[] = {
    PF(1, GR_BIN, provider_key, 0),
    PF(2, GR_STR, node_id, 0),
    PF(3, GR_U32, gpus, GPURENT_NODE_MAX_GPUS),
    PF(4, GR_U32, share_pct, 100),
    PF(5, GR_U32, gpu_index, GPURENT_NODE_MAX_GPUS - 1),
    PF(6, GR_U64, price_micro_per_gpu_hour, 1ull << 50),
};
#undef PF
#define N_(a) (sizeof(a) / sizeof((a)[0]))
#define RECEIPT_FIELDS 9 /* type + 7 head fields + assignments */
#define ASG_FIELDS 3
#define PLC_FIELDS 6

static int plc_cmp(const gpurent_match_placement *a, const gpurent_match_placement *b)
{
    int c = memcmp(a->provider_key, b->provider_key, GPURENT_KEY_BYTES);
    return c ? c : strcmp(a->node_id, b->node_id);
}

static int check_placement(const gpurent_match_placement *p, const char *what)
{
    int rc = gr_fields_validate(p, plc_fields, N_(plc_fields), what);
    if (rc) return rc;
    if ((p->gpus == 0) == (p->share_pct == 0))
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s: exactly one of gpus (%u) and share_pct (%u) must be set", what,
                       p->gpus, p->share_pct);
    if (p->gpus && p->gpu_index)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.gpu_index: %u for whole GPUs (must be 0)", what, p->gpu_index);
    return GPURENT_OK;
}

static int check_assignment(const gpurent_match_receipt *r, uint32_t i, uint64_t *sum)
{
    const gpurent_match_assignment *a = &r->assignments[i];
    char what[64];
    gr_path(what, sizeof what, "receipt.assignments", i, "");
    int rc = gr_fields_validate(a, asg_head, N_(asg_head), what);
    if (rc) return rc;
    if (i > 0 && strcmp(r->assignments[i - 1].request_id, a->request_id) >= 0)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.request_id: '%s' not above the previous id (sorted, unique)",
                       what, a->request_id);
    if (a->placement_count == 0 || a->placement_count > GPURENT_REQUEST_MAX_GPUS)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.placements: %u, allowed 1..%u", what, a->placement_count,
                       GPURENT_REQUEST_MAX_GPUS);
    if (a->first_placement > r->placement_count || r->placement_count - a->first_placement < a->placement_count)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.first_placement: %u + %u beyond %u placements", what,
                       a->first_placement, a->placement_count, r->placement_count);
    for (uint32_t j = 0; j < a->placement_count; j++) {
        const gpurent_match_placement *p = &r->placements[a->first_placement + j];
        char pwhat[96];
        snprintf(pwhat, sizeof pwhat, "%s.placements[%u]", what, j);
        if ((rc = check_placement(p, pwhat))) return rc;
        if (j > 0 && plc_cmp(p - 1, p) >= 0)
            return gr_fail(GPURENT_E_INVALID_FIELD, "%s: not above the previous placement (sorted, unique)", pwhat);
    }
    if (UINT64_MAX - *sum < a->value) return gr_fail(GPURENT_E_INVALID_FIELD, "receipt.total_value: overflow");
    *sum += a->value;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_match_receipt_validate(const gpurent_match_receipt *r)
{
    GR_CHECK_ARG(r, "receipt is NULL");
    int rc = gr_fields_validate(r, receipt_head, N_(receipt_head), "receipt");
    if (rc) return rc;
    if (r->assignment_count > GPURENT_RECEIPT_MAX_ASSIGNMENTS || r->placement_count > GPURENT_RECEIPT_MAX_PLACEMENTS)
        return gr_fail(GPURENT_E_INVALID_FIELD, "receipt: %u assignments / %u placements above the limits %u / %u",
                       r->assignment_count, r->placement_count, GPURENT_RECEIPT_MAX_ASSIGNMENTS,
                       GPURENT_RECEIPT_MAX_PLACEMENTS);
    if (r->assignment_count > r->request_count)
        return gr_fail(GPURENT_E_INVALID_FIELD, "receipt.request_count: %u below %u assignments", r->request_count,
                       r->assignment_count);
    if ((r->assignment_count && !r->assignments) || (r->placement_count && !r->placements))
        return gr_fail(GPURENT_E_INVALID_ARG, "receipt: NULL array with a non-zero count");
    uint64_t sum = 0, used = 0;
    for (uint32_t i = 0; i < r->assignment_count; i++) {
        if ((rc = check_assignment(r, i, &sum))) return rc;
        used += r->assignments[i].placement_count;
    }
    /* Each placement belongs to exactly one assignment: flat and in order. */
    uint64_t next = 0;
    for (uint32_t i = 0; i < r->assignment_count; i++) {
        if (r->assignments[i].first_placement != next)
            return gr_fail(GPURENT_E_INVALID_FIELD, "receipt.assignments[%u].first_placement: %u, expected %llu", i,
                           r->assignments[i].first_placement, (unsigned long long)next);
        next += r->assignments[i].placement_count;
    }
    if (used != r->placement_count)
        return gr_fail(GPURENT_E_INVALID_FIELD, "receipt.placements: %u, the assignments use %llu", r->placement_count,
                       (unsigned long long)used);
    if (sum != r->total_value)
        return gr_fail(GPURENT_E_INVALID_FIELD, "receipt.total_value: %llu, the assignments sum to %llu",
                       (unsigned long long)r->total_value, (unsigned long long)sum);
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_match_receipt_encode(const gpurent_match_receipt *r, gpurent_buf *out)
{
    GR_CHECK_ARG(r && out, "receipt or out is NULL");
    int rc = gpurent_match_receipt_validate(r);
    if (rc) return rc;
    gr_writer w;
    gr_wr_init(&w);
    gr_wr_map(&w, RECEIPT_FIELDS);
    gr_wr_uint(&w, 0);
    gr_wr_uint(&w, GPURENT_RECORD_MATCH_RECEIPT);
    gr_wr_fields(&w, r, receipt_head, N_(receipt_head));
    gr_wr_uint(&w, 8);
    gr_wr_array(&w, r->assignment_count);
    for (uint32_t i = 0; i < r->assignment_count; i++) {
        const gpurent_match_assignment *a = &r->assignments[i];
        gr_wr_map(&w, ASG_FIELDS);
        gr_wr_fields(&w, a, asg_head, N_(asg_head));
        gr_wr_uint(&w, 3);
        gr_wr_array(&w, a->placement_count);
        for (uint32_t j = 0; j < a->placement_count; j++) {
            gr_wr_map(&w, PLC_FIELDS);
            gr_wr_fields(&w, &r->placements[a->first_placement + j], plc_fields, N_(plc_fields));
        }
    }
    return gr_wr_finish(&w, out);
}

/* Placements arrive in assignments; the flat array grows geometrically and
 * only as items are actually read, so a declared count reserves nothing. */
static int push_placement(gpurent_match_receipt *r, uint32_t *cap, gpurent_match_placement **slot)
{
    if (r->placement_count >= GPURENT_RECEIPT_MAX_PLACEMENTS)
        return gr_fail(GPURENT_E_OVERSIZE, "receipt.placements: more than %u", GPURENT_RECEIPT_MAX_PLACEMENTS);
    if (r->placement_count == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 16;
        gpurent_match_placement *p = gr_realloc(r->placements, (size_t)ncap * sizeof *p);
        if (!p) return gr_fail(GPURENT_E_NOMEM, "receipt.placements");
        r->placements = p;
        *cap = ncap;
    }
    *slot = &r->placements[r->placement_count++];
    memset(*slot, 0, sizeof **slot);
    return GPURENT_OK;
}

static int read_placements(gr_reader *rd, gpurent_match_receipt *r, gpurent_match_assignment *a, uint32_t *cap)
{
    uint32_t n, fields;
    int rc = gr_rd_key(rd, 3, "placements");
    if (!rc) rc = gr_rd_array(rd, &n);
    if (rc) return rc;
    if (n == 0 || n > GPURENT_REQUEST_MAX_GPUS)
        return gr_fail(GPURENT_E_OVERSIZE, "%s.placements: %u, allowed 1..%u", rd->what, n, GPURENT_REQUEST_MAX_GPUS);
    a->first_placement = r->placement_count;
    for (uint32_t j = 0; j < n; j++) {
        gpurent_match_placement *p = NULL;
        if ((rc = push_placement(r, cap, &p)) || (rc = gr_rd_map(rd, &fields))) return rc;
        if (fields != PLC_FIELDS)
            return gr_fail(GPURENT_E_INVALID_FIELD, "%s.placements[%u]: %u fields, expected %u", rd->what, j, fields,
                           PLC_FIELDS);
        if ((rc = gr_rd_fields(rd, p, plc_fields, N_(plc_fields)))) return rc;
        a->placement_count = j + 1;
    }
    return GPURENT_OK;
}

static int read_assignments(gr_reader *rd, gpurent_match_receipt *r)
{
    uint32_t n, fields, cap = 0;
    int rc = gr_rd_key(rd, 8, "assignments");
    if (!rc) rc = gr_rd_array(rd, &n); /* bounded by the bytes left */
    if (rc) return rc;
    if (n > GPURENT_RECEIPT_MAX_ASSIGNMENTS)
        return gr_fail(GPURENT_E_OVERSIZE, "receipt.assignments: %u above the limit %u", n,
                       GPURENT_RECEIPT_MAX_ASSIGNMENTS);
    if (n && !(r->assignments = gr_calloc(n, sizeof *r->assignments)))
        return gr_fail(GPURENT_E_NOMEM, "receipt.assignments");
    for (uint32_t i = 0; i < n; i++) {
        char what[48];
        gr_path(what, sizeof what, "receipt.assignments", i, "");
        rd->what = what;
        rc = gr_rd_map(rd, &fields);
        if (!rc && fields != ASG_FIELDS)
            rc = gr_fail(GPURENT_E_INVALID_FIELD, "%s: %u fields, expected %u", what, fields, ASG_FIELDS);
        if (!rc) rc = gr_rd_fields(rd, &r->assignments[i], asg_head, N_(asg_head));
        r->assignment_count = i + 1;
        if (!rc) rc = read_placements(rd, r, &r->assignments[i], &cap);
        rd->what = "receipt";
        if (rc) return rc;
    }
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_match_receipt_decode(const uint8_t *data, size_t len, gpurent_match_receipt *out)
{
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    GR_CHECK_ARG(out, "out is NULL");
    gr_reader rd;
    gpurent_match_receipt r;
    gpurent_match_receipt_init(&r);
    gr_rd_init(&rd, data, len, "receipt");
    int rc = gr_rd_record(&rd, RECEIPT_FIELDS, GPURENT_RECORD_MATCH_RECEIPT);
    if (!rc) rc = gr_rd_fields(&rd, &r, receipt_head, N_(receipt_head));
    if (!rc) rc = read_assignments(&rd, &r);
    if (!rc) rc = gr_rd_end(&rd);
    if (!rc) rc = gpurent_match_receipt_validate(&r); /* order, sums, cross-field rules */
    if (rc) {
        gpurent_match_receipt_clear(&r);
        return rc;
    }
    *out = r;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_match_receipt_digest(const gpurent_match_receipt *r,
                                                        uint8_t digest[GPURENT_DIGEST_BYTES])
{
    GR_CHECK_ARG(r && digest, "receipt or digest is NULL");
    int rc = gr_ensure_init();
    if (rc) return rc;
    gpurent_buf b = {NULL, 0};
    if ((rc = gpurent_match_receipt_encode(r, &b))) return rc;
    crypto_generichash(digest, GPURENT_DIGEST_BYTES, b.data, b.len, NULL, 0);
    gpurent_buf_free(&b);
    return GPURENT_OK;
}

GPURENT_API void gpurent_match_receipt_init(gpurent_match_receipt *r)
{
    if (r) memset(r, 0, sizeof *r);
}

GPURENT_API void gpurent_match_receipt_clear(gpurent_match_receipt *r)
{
    if (!r) return;
    gr_free(r->assignments);
    gr_free(r->placements);
    memset(r, 0, sizeof *r);
}

GPURENT_API const gpurent_match_assignment *gpurent_match_receipt_assignment(const gpurent_match_receipt *r,
                                                                             uint32_t index)
{
    if (!r || index >= r->assignment_count) return NULL;
    return &r->assignments[index];
}

GPURENT_API const gpurent_match_placement *gpurent_match_receipt_placement(const gpurent_match_receipt *r,
                                                                           uint32_t index)
{
    if (!r || index >= r->placement_count) return NULL;
    return &r->placements[index];
}
