/* Applying a receipt: it must be one the engine could have made on this
 * market state; then its assignments become leases, all or none. */
#include <stdlib.h>
#include <string.h>

#include "batch_internal.h"

static int resolve_placement(const gpurent_market *m, const gpurent_match_placement *p, mlease_part *part)
{
    uint32_t pi = ml_prov_find(m, p->provider_key);
    uint32_t n = pi == NIL ? NIL : ml_node_find(m, pi, p->node_id);
    if (n == NIL) return gr_fail(GPURENT_E_NOT_FOUND, "receipt: node '%s' is not in the market", p->node_id);
    const mnode *x = &m->nodes[n];
    if ((p->share_pct != 0) != (x->shared != 0) || (p->share_pct && p->gpu_index >= x->gpu_count))
        return gr_fail(GPURENT_E_INVALID_ARG, "receipt: placement on node '%s' does not fit its kind", p->node_id);
    memset(part, 0, sizeof *part);
    part->node = n;
    part->gen = x->gen;
    part->gpus = (uint8_t)p->gpus;
    part->share = (uint8_t)p->share_pct;
    part->gpu_index = (uint8_t)p->gpu_index;
    return GPURENT_OK;
}

/* A receipt is applied only when each assignment is one the engine could
 * have made on this state: the request's shape (one placement of its share,
 * or gang_nodes placements of gpu_count / gang_nodes GPUs within its scope),
 * every node passing the request's hard constraints, and each price the
 * node's own. Capacity is checked separately, as placements take it. */
static int check_assignment_fits(const gpurent_market *m, const mreq *q, const gpurent_match_assignment *a,
                                 const mlease_part *parts, const gpurent_match_placement *pl)
{
    uint32_t want = q->share ? 1 : q->gang_nodes, per = q->share ? 0 : q->gpu_count / q->gang_nodes;
    if (a->placement_count != want)
        return gr_fail(GPURENT_E_INVALID_ARG, "receipt: request '%s' has %u placements, it needs %u", q->id,
                       a->placement_count, want);
    for (uint32_t j = 0; j < a->placement_count; j++) {
        const mnode *x = &m->nodes[parts[j].node], *x0 = &m->nodes[parts[0].node];
        if (parts[j].gpus != per || parts[j].share != q->share)
            return gr_fail(GPURENT_E_INVALID_ARG,
                           "receipt: request '%s' placed %u GPUs / %u%% share on node '%s', it needs %u / %u%%", q->id,
                           parts[j].gpus, parts[j].share, x->id, per, q->share);
        if (j > 0 && q->scope == GPURENT_GANG_PROVIDER && x->provider != x0->provider)
            return gr_fail(GPURENT_E_INVALID_ARG, "receipt: request '%s' spans providers, its gang needs one",
                           q->id);
        if (j > 0 && q->scope == GPURENT_GANG_REGION && x->region != x0->region)
            return gr_fail(GPURENT_E_INVALID_ARG, "receipt: request '%s' spans regions, its gang needs one", q->id);
        uint32_t fails = ml_check(m, q, x, 1) & ~(1u << GPURENT_MC_BUSY);
        if (fails) {
            int c = 0;
            while (!(fails & (1u << c))) c++;
            return gr_fail(GPURENT_E_INFEASIBLE, "receipt: node '%s' fails request '%s' (%s)", x->id, q->id,
                           gpurent_match_constraint_name(c));
        }
        if (pl[j].price_micro_per_gpu_hour != x->price)
            return gr_fail(GPURENT_E_INVALID_ARG, "receipt: price %llu on node '%s' is not its offered %llu",
                           (unsigned long long)pl[j].price_micro_per_gpu_hour, x->id,
                           (unsigned long long)x->price);
    }
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_market_apply(gpurent_market *m, const gpurent_match_receipt *r)
{
    GR_CHECK_ARG(m && r, "market or receipt is NULL");
    int rc = gpurent_match_receipt_validate(r);
    if (rc) return rc;
    uint8_t od[32], rd[32], pd[32];
    if ((rc = ml_digests(m, od, rd)) || (rc = ml_policy_digest(&m->opts, pd))) return rc;
    if (memcmp(od, r->offers_digest, 32) || memcmp(rd, r->requests_digest, 32) || memcmp(pd, r->policy_digest, 32) ||
        memcmp(m->seed, r->seed, 32))
        return gr_fail(GPURENT_E_INVALID_ARG, "receipt: computed on another market state (%s digest differs)",
                       memcmp(od, r->offers_digest, 32)    ? "offers"
                       : memcmp(rd, r->requests_digest, 32) ? "requests"
                       : memcmp(pd, r->policy_digest, 32)   ? "policy"
                                                            : "seed");
    mlease_part *parts = gr_malloc(((size_t)r->placement_count + 1) * sizeof *parts);
    mlease_part **own = gr_calloc((size_t)r->assignment_count + 1, sizeof *own);
    if (!parts || !own) {
        gr_free(parts);
        gr_free(own);
        return gr_fail(GPURENT_E_NOMEM, "receipt: %u placements", r->placement_count);
    }
    /* Check everything on the live index (with an undo log) before any lease exists. */
    ml_batch b;
    memset(&b, 0, sizeof b);
    b.m = m;
    for (uint32_t i = 0; i < r->assignment_count && !rc; i++) {
        const gpurent_match_assignment *a = &r->assignments[i];
        uint32_t slot = ml_req_find(m, a->request_id);
        if (slot == NIL)
            rc = gr_fail(GPURENT_E_UNKNOWN_REQUEST, "receipt: request '%s' is not pending", a->request_id);
        for (uint32_t j = 0; j < a->placement_count && !rc; j++)
            rc = resolve_placement(m, &r->placements[a->first_placement + j], &parts[a->first_placement + j]);
        if (!rc)
            rc = check_assignment_fits(m, &m->reqs[slot], a, &parts[a->first_placement],
                                       &r->placements[a->first_placement]);
        for (uint32_t j = 0; j < a->placement_count && !rc; j++) {
            mlease_part *pt = &parts[a->first_placement + j];
            const mnode *x = &m->nodes[pt->node];
            if (pt->share ? x->share[pt->gpu_index] < pt->share : x->gpu_free < pt->gpus)
                rc = gr_fail(GPURENT_E_CAPACITY, "receipt: node '%s' lacks the capacity for request '%s'", x->id,
                             a->request_id);
            else
                rc = ml_batch_take(&b, pt->node, pt->gpus, pt->share, pt->gpu_index);
        }
    }
    ml_batch_undo_all(&b);
    gr_free(b.undo);
    /* Everything a lease needs is allocated before the first one is added,
     * so the receipt applies entirely or not at all. */
    if (!rc) rc = ml_lease_reserve(m, r->assignment_count);
    for (uint32_t i = 0; i < r->assignment_count && !rc; i++) {
        size_t sz = (size_t)r->assignments[i].placement_count * sizeof(mlease_part);
        if (!(own[i] = gr_malloc(sz))) rc = gr_fail(GPURENT_E_NOMEM, "receipt: lease parts");
        else memcpy(own[i], &parts[r->assignments[i].first_placement], sz);
    }
    for (uint32_t i = 0; i < r->assignment_count && !rc; i++) {
        ml_lease_add(m, r->assignments[i].request_id, own[i], r->assignments[i].placement_count);
        own[i] = NULL;
    }
    for (uint32_t i = 0; i < r->assignment_count; i++) gr_free(own[i]);
    gr_free(own);
    gr_free(parts);
    return rc;
}
