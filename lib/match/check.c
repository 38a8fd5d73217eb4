/* The market's invariants, checked from scratch (tests and the stateful
 * fuzzer, tests/fuzz/fuzz_market_ops.c): every count, link, histogram,
 * reference count and hash entry is recomputed and compared with the one
 * kept incrementally. Slow (linear in the market and its index) and never
 * on a path that serves a request. */
#include <string.h>

#include "match_internal.h"

#define BAD(...) return gr_fail(GPURENT_E_INTERNAL, "market check: " __VA_ARGS__)

static int check_nodes(const gpurent_market *m)
{
    uint32_t live = 0;
    for (uint32_t n = 0; n < m->node_used; n++) {
        const mnode *x = &m->nodes[n];
        if (!x->alive) {
            if (x->list != NIL || x->share) BAD("dead node %u still linked or holding shares", n);
            continue;
        }
        live++;
        if (x->alive != ML_NODE_LIVE) BAD("node %u state %u, not live", n, x->alive);
        if (x->provider >= m->prov_used || !m->provs[x->provider].alive) BAD("node %u of a dead provider", n);
        if (ml_node_find(m, x->provider, x->id) != n) BAD("node %u not found by its id", n);
        if (!x->gpu_count || x->gpu_count > GPURENT_NODE_MAX_GPUS || x->gpu_free > x->gpu_count)
            BAD("node %u: %u free of %u GPUs", n, x->gpu_free, x->gpu_count);
        if (x->model >= m->models.count || !m->models.orefs[x->model]) BAD("node %u: model id %u not held", n, x->model);
        if (x->region != m->provs[x->provider].region) BAD("node %u: region differs from its provider's", n);
        if (x->shared) {
            if (!x->share) BAD("shared node %u without shares", n);
            uint32_t whole = 0, mx = 0;
            for (uint32_t g = 0; g < x->gpu_count; g++) {
                if (x->share[g] > 100) BAD("node %u GPU %u share %u", n, g, x->share[g]);
                whole += x->share[g] == 100;
                if (x->share[g] > mx) mx = x->share[g];
            }
            if (whole != x->gpu_free || mx != x->maxshare) BAD("node %u: shares disagree with free/maxshare", n);
        } else if (x->share) {
            BAD("dedicated node %u with shares", n);
        }
        uint32_t key = (uint32_t)x->model * 2u + x->shared;
        if (key >= m->bucket_of_cap || !m->bucket_of[key]) BAD("node %u has no bucket", n);
        uint32_t b = m->bucket_of[key] - 1u;
        if (x->list == NIL || x->list / ML_CLASSES != b || x->list % ML_CLASSES != ml_class_of(x))
            BAD("node %u in list %u, expected bucket %u class %u", n, x->list, b, ml_class_of(x));
    }
    if (live != m->node_live) BAD("%u live nodes, counted %u", live, m->node_live);
    if (m->node_tab.live != live) BAD("node table holds %u, %u live", m->node_tab.live, live);
    return GPURENT_OK;
}

static const uint32_t ZERO_BINS[64];
#define NIL4 NIL, NIL, NIL, NIL
#define NIL16 NIL4, NIL4, NIL4, NIL4
#define NIL64 NIL16, NIL16, NIL16, NIL16
static const uint32_t NIL_HEADS[ML_LEVELS] = {NIL64, NIL64, NIL64, NIL64};
_Static_assert(ML_LEVELS == 256, "NIL_HEADS holds 256 heads");

static int check_hist(const mhist *h, uint32_t linked, const char *what, uint32_t b)
{
    uint32_t sum = 0, top = 0;
    for (uint32_t w = 0; w * 64 < ML_HBINS; w++) {
        uint32_t n = ML_HBINS - w * 64 < 64 ? ML_HBINS - w * 64 : 64;
        /* A word without bits: its bins must all be empty (one memcmp, the fuzzer runs this per step). */
        if (!h->bits[w]) {
            if (memcmp(&h->count[w * 64], ZERO_BINS, n * sizeof *h->count) != 0) BAD("bucket %u %s bins of word %u", b, what, w);
            continue;
        }
        for (uint32_t i = w * 64; i < w * 64 + n; i++) {
            sum += h->count[i];
            if ((h->count[i] != 0) != (h->bits[w] >> (i % 64) & 1)) BAD("bucket %u %s bin %u bit", b, what, i);
            if (h->count[i]) top = i;
        }
    }
    if (sum != linked || h->top != top) BAD("bucket %u %s: %u counted, %u linked, top %u/%u", b, what, sum, linked, h->top, top);
    return GPURENT_OK;
}

static int check_buckets(const gpurent_market *m)
{
    uint32_t live = 0, linked_all = 0;
    for (uint32_t b = 0; b < m->bucket_count; b++) {
        const mbucket *bk = m->buckets[b];
        if (!bk) continue;
        live++;
        uint32_t key = (uint32_t)bk->model * 2u + bk->shared;
        if (key >= m->bucket_of_cap || m->bucket_of[key] != b + 1u) BAD("bucket %u not mapped", b);
        if (!bk->nodes) BAD("bucket %u is empty and was not reclaimed", b);
        if (bk->model >= m->models.count || !m->models.orefs[bk->model]) BAD("bucket %u: model not held", b);
        uint32_t linked = 0, ifc[8] = {0};
        for (uint32_t c = 0; c < ML_CLASSES; c++) {
            const mlist *l = &bk->lists[c];
            uint32_t count = 0;
            if (!l->count) { /* the common case: an empty list, checked whole at once */
                for (uint32_t w = 0; w < ML_LEVELS / 64; w++)
                    if (l->bits[w]) BAD("bucket %u class %u: empty with level bits", b, c);
                if (memcmp(l->head, NIL_HEADS, sizeof l->head) != 0) BAD("bucket %u class %u: empty with heads", b, c);
                continue;
            }
            for (uint32_t lv = 0; lv < ML_LEVELS; lv++) {
                if ((l->head[lv] != NIL) != (l->bits[lv / 64] >> (lv % 64) & 1)) BAD("bucket %u class %u level %u bit", b, c, lv);
                uint32_t prev = NIL;
                for (uint32_t n = l->head[lv]; n != NIL; n = m->nodes[n].next) {
                    if (n >= m->node_used || count > m->node_live) BAD("bucket %u class %u: bad link", b, c);
                    const mnode *x = &m->nodes[n];
                    if (!x->alive || x->list != b * ML_CLASSES + c || x->level != lv || x->prev != prev)
                        BAD("node %u linked in bucket %u class %u level %u wrongly", n, b, c, lv);
                    if (x->model != bk->model || x->shared != bk->shared) BAD("node %u in another model's bucket", n);
                    if (prev != NIL && !(m->nodes[prev].price < x->price || (m->nodes[prev].price == x->price && prev < n)))
                        BAD("bucket %u class %u level %u out of price order", b, c, lv);
                    ifc[x->iface & 7]++;
                    prev = n;
                    count++;
                }
            }
            if (count != l->count) BAD("bucket %u class %u: count %u, linked %u", b, c, l->count, count);
            linked += count;
        }
        if (linked != bk->nodes) BAD("bucket %u: %u nodes counted, %u linked", b, bk->nodes, linked);
        for (uint32_t i = 0; i < 8; i++)
            if (bk->iface_count[i] != ifc[i] || (bk->iface_mask >> i & 1) != (ifc[i] != 0)) BAD("bucket %u interfaces", b);
        int rc;
        if ((rc = check_hist(&bk->vram, linked, "vram", b)) || (rc = check_hist(&bk->gflops, linked, "gflops", b)) ||
            (rc = check_hist(&bk->cc, linked, "cc", b)) || (rc = check_hist(&bk->cuda, linked, "cuda", b)))
            return rc;
        linked_all += linked;
    }
    if (live != m->bucket_live || live > ML_MAX_BUCKETS) BAD("%u buckets, counted %u", live, m->bucket_live);
    if (m->bucket_count && !m->buckets[m->bucket_count - 1]) BAD("bucket high-water mark not trimmed");
    if (linked_all != m->node_live) BAD("%u nodes linked, %u live", linked_all, m->node_live);
    return GPURENT_OK;
}

static int check_provs(const gpurent_market *m)
{
    uint32_t live = 0;
    for (uint32_t p = 0; p < m->prov_used; p++) {
        const mprov *pv = &m->provs[p];
        if (!pv->alive) continue;
        live++;
        if (ml_prov_find(m, pv->key) != p) BAD("provider %u not found by key", p);
        if (pv->region >= m->regions.count || !m->regions.orefs[pv->region]) BAD("provider %u: region not held", p);
        for (uint32_t i = 0; i < pv->node_count; i++) {
            uint32_t n = pv->nodes[i];
            if (n >= m->node_used || !m->nodes[n].alive || m->nodes[n].provider != p) BAD("provider %u node %u", p, i);
        }
    }
    if (live != m->prov_live || m->prov_tab.live != live) BAD("%u providers, counted %u", live, m->prov_live);
    return GPURENT_OK;
}

/* References every name should have, recomputed. */
static int check_names(const gpurent_market *m, const mnames *nm, int models)
{
    uint32_t *o = gr_calloc((size_t)nm->count + 1, sizeof *o), *q = gr_calloc((size_t)nm->count + 1, sizeof *q);
    int rc = GPURENT_OK;
    if (!o || !q) {
        rc = gr_fail(GPURENT_E_NOMEM, "market check");
        goto out;
    }
    if (models) {
        for (uint32_t n = 0; n < m->node_used; n++)
            if (m->nodes[n].alive) o[m->nodes[n].model]++;
    } else {
        for (uint32_t p = 0; p < m->prov_used; p++)
            if (m->provs[p].alive) o[m->provs[p].region]++;
    }
    for (uint32_t r = 0; r < m->req_used; r++) {
        const mlists *l = m->reqs[r].alive ? m->reqs[r].lists : NULL;
        if (!l) continue;
        const uint16_t *ids = models ? ml_l_models(l) : ml_l_regions(l);
        uint32_t k = models ? l->nm : (uint32_t)l->nr + l->nxr;
        for (uint32_t i = 0; i < k; i++)
            if (ids[i] < nm->count) q[ids[i]]++;
        for (uint32_t i = 0; models && i < l->nraw; i++) /* the names as written hold references too */
            if (ml_l_raw(l)[i] < nm->count) q[ml_l_raw(l)[i]]++;
    }
    uint32_t live = 0, req_only = 0, free_ids = 0;
    for (uint32_t id = 0; id < nm->count; id++) {
        if (!nm->name[id][0]) {
            free_ids++;
            continue;
        }
        live++;
        req_only += !o[id];
        if (nm->orefs[id] != o[id] || nm->qrefs[id] != q[id] || (!o[id] && !q[id]) ||
            ml_name_find(nm, m, nm->name[id]) != id) {
            rc = gr_fail(GPURENT_E_INTERNAL, "market check: %s name %u '%s' refs %u/%u, expected %u/%u",
                         models ? "model" : "region", id, nm->name[id], nm->orefs[id], nm->qrefs[id], o[id], q[id]);
            goto out;
        }
    }
    uint32_t chain = 0;
    for (uint32_t id = nm->free_head; id != NIL && chain <= nm->count; id = nm->orefs[id], chain++)
        if (id >= nm->count || nm->name[id][0]) break;
    if (live != nm->live || req_only != nm->req_only || chain != free_ids || nm->tab.live != live ||
        live > ML_MAX_NAMES || req_only > ML_MAX_REQ_NAMES)
        rc = gr_fail(GPURENT_E_INTERNAL, "market check: %s names: %u live (%u kept), %u request-only (%u kept), %u free (%u chained)",
                     models ? "model" : "region", live, nm->live, req_only, nm->req_only, free_ids, chain);
out:
    gr_free(o);
    gr_free(q);
    return rc;
}

static int check_reqs_leases(const gpurent_market *m)
{
    uint32_t live = 0;
    uint64_t hist[GPURENT_NODE_MAX_GPUS + 1] = {0};
    for (uint32_t r = 0; r < m->req_used; r++) {
        const mreq *q = &m->reqs[r];
        if (!q->alive) continue;
        live++;
        if (ml_req_find(m, q->id) != r) BAD("request %u not found by id", r);
        uint32_t need = q->share ? 0 : q->gpu_count / q->gang_nodes;
        if (need && need <= GPURENT_NODE_MAX_GPUS) hist[need]++;
        const mlists *l = q->lists;
        if (l)
            for (uint32_t i = 0; i < (uint32_t)l->nm + l->nr + l->nxr + l->nraw; i++) {
                const mnames *nm = i < l->nm || i >= (uint32_t)l->nm + l->nr + l->nxr ? &m->models : &m->regions;
                if (l->ids[i] >= nm->count || !nm->name[l->ids[i]][0]) BAD("request %u names a freed id", r);
            }
    }
    if (live != m->req_live || m->req_tab.live != live) BAD("%u requests, counted %u", live, m->req_live);
    if (memcmp(hist, m->need_hist, sizeof hist) != 0) BAD("request need histogram");
    uint32_t leases = 0;
    for (uint32_t i = 0; i < m->lease_used; i++) {
        const mlease *l = &m->leases[i];
        if (!l->parts) continue;
        leases++;
        for (uint32_t j = 0; j < l->count; j++)
            if (l->parts[j].node >= m->node_used) BAD("lease %u part %u on node slot %u", i, j, l->parts[j].node);
    }
    if (leases != m->lease_live || m->lease_tab.live != leases) BAD("%u leases, counted %u", leases, m->lease_live);
    return GPURENT_OK;
}

int ml_market_check(const gpurent_market *m)
{
    int rc;
    if ((rc = check_nodes(m)) || (rc = check_buckets(m)) || (rc = check_provs(m)) || (rc = check_names(m, &m->models, 1)) ||
        (rc = check_names(m, &m->regions, 0)) || (rc = check_reqs_leases(m)) || (rc = ml_gpuid_check(m)))
        return rc;
    return GPURENT_OK;
}
