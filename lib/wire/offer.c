/* The provider offer record: provider terms and its nodes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_internal.h"

#define NF(key, kind, member, max) GR_FIELD(key, kind, gpurent_node, member, max)
static const gr_field node_head[] = {NF(1, GR_STR, node_id, 0)};
static const gr_field node_tail[] = {
    NF(3, GR_U32, gpu_count, GPURENT_NODE_MAX_GPUS),
    NF(4, GR_U32, gpu_free, GPURENT_NODE_MAX_GPUS),
    NF(5, GR_U32, shared, 1),
    NF(6, GR_U32, cpu_millicores, 100000000u),
    NF(7, GR_U64, ram_mib, 1ull << 40),
    NF(8, GR_U64, disk_gib, 1ull << 40),
    NF(9, GR_U64, price_micro_per_gpu_hour, 1ull << 50),
    NF(10, GR_BIN, report_digest, 0),
};
#undef NF
#define NODE_FIELDS 10
#define NODE_MIN_BYTES 64 /* a lower bound of one encoded node (about 115 bytes at least) */

#define OF(key, kind, member, max) GR_FIELD(key, kind, gpurent_offer, member, max)
static const gr_field offer_head[] = {
    OF(1, GR_BIN, provider_key, 0),
    OF(2, GR_U64, seq, UINT64_MAX),
    OF(3, GR_STR, region, 0),
    OF(4, GR_U64, stake_micro, 1ull << 62),
    OF(5, GR_U32, min_duration_s, GPURENT_MAX_DURATION_S),
    OF(6, GR_U32, max_duration_s, GPURENT_MAX_DURATION_S),
};
#undef OF
#define OFFER_FIELDS 8 /* type + 6 head fields + nodes */
#define N_(a) (sizeof(a) / sizeof((a)[0]))

static int node_check_as(const gpurent_node *n, const char *what, const char *gwhat)
{
    int rc = gr_fields_validate(n, node_head, N_(node_head), what);
    if (!rc) rc = gr_fields_validate(n, node_tail, N_(node_tail), what);
    if (rc) return rc;
    if ((rc = gr_gpu_check(&n->gpu, gwhat))) return rc;
    if (n->gpu_count == 0)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.gpu_count: must be at least 1", what);
    if (n->gpu_free > n->gpu_count)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.gpu_free: %u above gpu_count %u", what, n->gpu_free,
                       n->gpu_count);
    return GPURENT_OK;
}

/* The checks pass with the node unnamed; a node that fails is checked again
 * under its path ("offer.nodes[3]"), so the failure names it (the checks
 * decide the same either way; a valid node never formats a path). */
static int node_check(const gpurent_node *n, uint32_t index)
{
    if (node_check_as(n, "offer.nodes[]", "offer.nodes[].gpu") == GPURENT_OK) return GPURENT_OK;
    char what[48], gwhat[48];
    gr_path(what, sizeof what, "offer.nodes", index, "");
    gr_path(gwhat, sizeof gwhat, "offer.nodes", index, ".gpu");
    return node_check_as(n, what, gwhat);
}

static int by_node_id(const void *a, const void *b)
{
    const gpurent_node *x = *(const gpurent_node *const *)a, *y = *(const gpurent_node *const *)b;
    int c = strcmp(x->node_id, y->node_id);
    return c ? c : (x > y) - (x < y); /* equal ids: in array order */
}

/* Node ids name nodes in receipts: they must be unique. Sorting keeps this
 * O(n log n) for the largest offers; the report is the same as a scan in
 * array order would give: the first node whose id an earlier node has,
 * and the first node with that id. */
static int unique_node_ids(const gpurent_offer *o)
{
    const gpurent_node *sorted[GPURENT_OFFER_MAX_NODES];
    uint32_t n = o->node_count, dup = UINT32_MAX, first = 0;
    for (uint32_t i = 0; i < n; i++) sorted[i] = &o->nodes[i];
    if (n <= 16) { /* most offers: an insertion sort, not qsort's set-up (the same order: by_node_id is total) */
        for (uint32_t i = 1; i < n; i++) {
            const gpurent_node *x = sorted[i];
            uint32_t j = i;
            for (; j > 0 && by_node_id(&sorted[j - 1], &x) > 0; j--) sorted[j] = sorted[j - 1];
            sorted[j] = x;
        }
    } else {
        qsort(sorted, n, sizeof sorted[0], by_node_id);
    }
    for (uint32_t i = 1; i < n; i++) {
        if (strcmp(sorted[i - 1]->node_id, sorted[i]->node_id) != 0) continue;
        uint32_t at = (uint32_t)(sorted[i] - o->nodes);
        if (i >= 2 && strcmp(sorted[i - 2]->node_id, sorted[i]->node_id) == 0) continue; /* not the group's second */
        if (at < dup) {
            dup = at;
            first = (uint32_t)(sorted[i - 1] - o->nodes);
        }
    }
    if (dup != UINT32_MAX)
        return gr_fail(GPURENT_E_INVALID_FIELD, "offer.nodes[%u].node_id: '%s' repeats nodes[%u]", dup,
                       o->nodes[dup].node_id, first);
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_offer_validate(const gpurent_offer *o)
{
    GR_CHECK_ARG(o, "offer is NULL");
    int rc = gr_fields_validate(o, offer_head, N_(offer_head), "offer");
    if (rc) return rc;
    if (o->max_duration_s && o->min_duration_s > o->max_duration_s)
        return gr_fail(GPURENT_E_INVALID_FIELD, "offer.min_duration_s: %u above max_duration_s %u",
                       o->min_duration_s, o->max_duration_s);
    if (o->node_count == 0 || o->node_count > GPURENT_OFFER_MAX_NODES)
        return gr_fail(GPURENT_E_INVALID_FIELD, "offer.nodes: %u nodes, allowed 1..%u", o->node_count,
                       GPURENT_OFFER_MAX_NODES);
    if (!o->nodes) return gr_fail(GPURENT_E_INVALID_ARG, "offer.nodes is NULL with node_count %u", o->node_count);
    for (uint32_t i = 0; i < o->node_count; i++)
        if ((rc = node_check(&o->nodes[i], i))) return rc;
    return unique_node_ids(o);
}

GPURENT_API gpurent_status gpurent_offer_encode(const gpurent_offer *o, gpurent_buf *out)
{
    GR_CHECK_ARG(o && out, "offer or out is NULL");
    int rc = gpurent_offer_validate(o);
    if (rc) return rc;
    gr_writer w;
    gr_wr_init(&w);
    gr_wr_map(&w, OFFER_FIELDS);
    gr_wr_uint(&w, 0);
    gr_wr_uint(&w, GPURENT_RECORD_OFFER);
    gr_wr_fields(&w, o, offer_head, N_(offer_head));
    gr_wr_uint(&w, 7);
    gr_wr_array(&w, o->node_count);
    for (uint32_t i = 0; i < o->node_count; i++) {
        const gpurent_node *n = &o->nodes[i];
        gr_wr_map(&w, NODE_FIELDS);
        gr_wr_fields(&w, n, node_head, N_(node_head));
        gr_wr_uint(&w, 2);
        gr_wr_map(&w, gr_gpu_map_size(&n->gpu));
        gr_wr_gpu_fields(&w, &n->gpu);
        gr_wr_fields(&w, n, node_tail, N_(node_tail));
    }
    return gr_wr_finish(&w, out);
}

static int read_node(gr_reader *r, gpurent_node *n, uint32_t index)
{
    uint32_t count;
    int rc = gr_rd_map(r, &count);
    if (rc) return rc;
    if (count != NODE_FIELDS)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s: node has %u fields, expected %u", r->what, count,
                       NODE_FIELDS);
    if ((rc = gr_rd_fields(r, n, node_head, N_(node_head)))) return rc;
    if ((rc = gr_rd_key(r, 2, "gpu")) || (rc = gr_rd_map(r, &count))) return rc;
    char gwhat[48];
    const char *what = r->what;
    gr_path(gwhat, sizeof gwhat, "offer.nodes", index, ".gpu");
    r->what = gwhat;
    rc = gr_rd_gpu_fields(r, &n->gpu, count);
    r->what = what;
    if (rc) return rc;
    return gr_rd_fields(r, n, node_tail, N_(node_tail));
}

GPURENT_API gpurent_status gpurent_offer_decode(const uint8_t *data, size_t len, gpurent_offer *out)
{
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    GR_CHECK_ARG(out, "out is NULL");
    gr_reader r;
    gpurent_offer o;
    uint32_t count = 0;
    gpurent_offer_init(&o);
    gr_rd_init(&r, data, len, "offer");
    int rc = gr_rd_record(&r, OFFER_FIELDS, GPURENT_RECORD_OFFER);
    if (!rc) rc = gr_rd_fields(&r, &o, offer_head, N_(offer_head));
    if (!rc) rc = gr_rd_key(&r, 7, "nodes");
    if (!rc) rc = gr_rd_array(&r, &count); /* count is bounded by the bytes left */
    if (!rc && (count == 0 || count > GPURENT_OFFER_MAX_NODES))
        rc = gr_fail(GPURENT_E_OVERSIZE, "offer.nodes: %u nodes, allowed 1..%u", count, GPURENT_OFFER_MAX_NODES);
    /* A node takes at least NODE_MIN_BYTES encoded (its digest alone is 34),
     * so the array is never allocated beyond a few times the input size. */
    if (!rc && count > gr_rd_left(&r) / NODE_MIN_BYTES)
        rc = gr_fail(GPURENT_E_TRUNCATED, "offer.nodes: %u nodes cannot fit in the %zu bytes left", count,
                     gr_rd_left(&r));
    if (!rc && !(o.nodes = gr_calloc(count, sizeof *o.nodes))) rc = gr_fail(GPURENT_E_NOMEM, "offer.nodes");
    for (uint32_t i = 0; !rc && i < count; i++) {
        char what[48];
        gr_path(what, sizeof what, "offer.nodes", i, "");
        r.what = what;
        rc = read_node(&r, &o.nodes[i], i);
        o.node_count = i + 1;
        r.what = "offer";
    }
    if (!rc) rc = gr_rd_end(&r);
    if (!rc) rc = gpurent_offer_validate(&o); /* cross-field rules */
    if (rc) {
        gpurent_offer_clear(&o);
        return rc;
    }
    *out = o;
    return GPURENT_OK;
}

GPURENT_API void gpurent_offer_init(gpurent_offer *offer)
{
    if (offer) memset(offer, 0, sizeof *offer);
}

GPURENT_API void gpurent_offer_clear(gpurent_offer *offer)
{
    if (!offer) return;
    gr_free(offer->nodes);
    memset(offer, 0, sizeof *offer);
}

GPURENT_API gpurent_status gpurent_offer_add_node(gpurent_offer *offer, const gpurent_node *node)
{
    GR_CHECK_ARG(offer && node, "offer or node is NULL");
    if (offer->node_count >= GPURENT_OFFER_MAX_NODES)
        return gr_fail(GPURENT_E_LIMIT, "offer.nodes: already %u nodes, the limit", offer->node_count);
    gpurent_node *n = gr_realloc(offer->nodes, (offer->node_count + 1) * sizeof *n);
    if (!n) return gr_fail(GPURENT_E_NOMEM, "offer.nodes");
    n[offer->node_count++] = *node;
    offer->nodes = n;
    return GPURENT_OK;
}

GPURENT_API const gpurent_node *gpurent_offer_node(const gpurent_offer *offer, uint32_t index)
{
    if (!offer || index >= offer->node_count) return NULL;
    return &offer->nodes[index];
}
