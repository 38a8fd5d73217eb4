/* The improvement phase of the batch.
 *
 * After the greedy pass, requests left without a placement try again, in
 * the batch order, for a few rounds: first directly (earlier moves may have
 * freed room), then, for single-node whole-GPU requests, by evicting one or
 * two single-node whole-GPU assignments from a node they could use (or,
 * revision 4, a larger set: the smallest first until the request fits),
 * placing them there and re-placing the evicted requests on their best
 * placement in what is left (the top-1 search, fit included). An evicted
 * request must find a new place: no request the greedy pass placed ever
 * loses its placement, so the aging guarantee (a request that waited long
 * enough goes first) still holds.
 *
 * The objective is lexicographic (algorithm revision 3): serving a request
 * comes first, value second. Every such move serves one more request, so a
 * move is taken even when it lowers the total value; among the moves open
 * to the request, the one with the largest value change (signed) wins. A
 * move is never taken when it leaves the node with a stranded remainder
 * (0 < free < the strand threshold). Gangs and shares are never evicted, so
 * gangs stay all or nothing.
 *
 * Determinism: the candidate nodes are collected whole score level by whole
 * level and then sorted by a total order (static score, keyed hash, provider
 * key, node id); the evictable placements on a node by request id; moves
 * compare integer gains with ties to the first in that order. The work is
 * bounded by a budget of node visits (whole levels, so their count does not
 * depend on the order inside a level), checked only between requests, so
 * where it stops depends on the market alone. */
#include <stdlib.h>
#include <string.h>

#include "batch_internal.h"

#define IMP_ROUNDS 3
#define IMP_CANDIDATES 32   /* candidate nodes tried per unplaced request */
#define IMP_EVICTABLE 16   /* placements on one node considered for eviction */

/* A node an unplaced request could use, with its sort keys. */
typedef struct imp_candidate {
    uint32_t node;
    uint64_t stat, hash;
    const uint8_t *provider_key; /* ties: provider key, then node id */
    const char *node_id;
} imp_candidate;

typedef struct imp_state {
    ml_batch *b;
    msearch s;
    uint32_t strand;
    imp_candidate *cand;
    uint32_t cand_len, cand_cap;
    uint32_t *lists;        /* index lists collect() walks */
    uint32_t lists_cap;
    uint64_t work, budget;  /* nodes visited (collect and searches) */
    uint32_t epoch;         /* bumped whenever a committed move frees capacity */
    uint32_t *tried;        /* per request slot: epoch + 1 of its last failed direct try */
} imp_state;

static int icand_cmp(const void *a, const void *b)
{
    const imp_candidate *x = a, *y = b;
    if (x->stat != y->stat) return x->stat > y->stat ? -1 : 1;
    if (x->hash != y->hash) return x->hash > y->hash ? -1 : 1;
    int c = memcmp(x->provider_key, y->provider_key, GPURENT_KEY_BYTES);
    return c ? c : strcmp(x->node_id, y->node_id);
}

static void chain_link(ml_batch *b, uint32_t p)
{
    uint32_t n = b->pl[p].node;
    b->pl[p].next = b->node_head[n];
    b->node_head[n] = p;
}

static void chain_unlink(ml_batch *b, uint32_t p)
{
    uint32_t *at = &b->node_head[b->pl[p].node];
    while (*at != p) at = &b->pl[*at].next;
    *at = b->pl[p].next;
    b->pl[p].next = NIL;
}

/* A placement the improvement phase may move: a single-node whole-GPU one. */
static int evictable(const ml_batch *b, uint32_t p)
{
    const ml_batch_assignment *a = &b->as[b->pl[p].asg];
    return a->count == 1 && !b->pl[p].share;
}

static uint32_t evictable_gpus(const ml_batch *b, uint32_t n)
{
    uint32_t g = 0;
    for (uint32_t p = b->node_head[n]; p != NIL; p = b->pl[p].next)
        if (evictable(b, p)) g += b->pl[p].gpus;
    return g;
}

static int has_model(const mreq *q, uint16_t model)
{
    if (!q->lists || !q->lists->nm) return 1;
    const uint16_t *a = ml_l_models(q->lists);
    for (uint32_t i = 0; i < q->lists->nm; i++)
        if (a[i] == model) return 1;
    return 0;
}

/* Nodes `q` could use were they free enough, whose free plus evictable GPUs
 * hold its need: whole levels from the best static score down until
 * IMP_CANDIDATES are found, then sorted by the total order. */
static int collect(imp_state *is, const mreq *q, uint32_t need)
{
    ml_batch *b = is->b;
    const gpurent_market *m = b->m;
    uint32_t nl = 0;
    is->cand_len = 0;
    /* Every list of every bucket may be needed: a cut-off would depend on
     * the order the buckets were created in. */
    int grc = ML_GROW((void **)&is->lists, &is->lists_cap, m->bucket_count * ML_CLASSES, sizeof *is->lists);
    if (grc) return grc;
    uint32_t *lists = is->lists;
    for (uint32_t bi = 0; bi < m->bucket_count; bi++) {
        const mbucket *bk = m->buckets[bi];
        if (!bk || bk->shared || !has_model(q, bk->model)) continue;
        if (!ml_bucket_may_serve(bk, q)) continue;
        for (uint32_t c = 0; c < ML_CLASSES; c++)
            if (bk->lists[c].count) lists[nl++] = bi * ML_CLASSES + c;
    }
    for (int lvl = ML_LEVELS - 1; lvl >= 0 && is->cand_len < IMP_CANDIDATES; lvl--) {
        for (uint32_t i = 0; i < nl; i++) {
            const mlist *l = &m->buckets[lists[i] / ML_CLASSES]->lists[lists[i] % ML_CLASSES];
            if (!(l->bits[lvl / 64] >> (lvl % 64) & 1)) continue;
            for (uint32_t n = l->head[lvl]; n != NIL; n = m->nodes[n].next) {
                const mnode *x = &m->nodes[n];
                is->work++;
                uint32_t mask = ml_check(m, q, x, 0);
                if (mask & ~(1u << GPURENT_MC_BUSY)) continue;
                if (x->gpu_free + evictable_gpus(b, n) < need) continue;
                int rc = ML_GROW((void **)&is->cand, &is->cand_cap, is->cand_len + 1, sizeof *is->cand);
                if (rc) return rc;
                is->cand[is->cand_len++] =
                    (imp_candidate){n, x->stat, ml_tie_hash(m, q->id, x), m->provs[x->provider].key, x->id};
            }
        }
    }
    if (is->cand_len > 1) qsort(is->cand, is->cand_len, sizeof *is->cand, icand_cmp);
    if (is->cand_len > IMP_CANDIDATES) is->cand_len = IMP_CANDIDATES;
    return GPURENT_OK;
}

/* Placements by GPUs ascending, then request id (insertion sort). */
static void sort_by_gpus(const ml_batch *b, uint32_t *ev, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        uint32_t p = ev[i], j = i;
        for (; j > 0; j--) {
            const ml_batch_placement *x = &b->pl[ev[j - 1]], *y = &b->pl[p];
            if (x->gpus < y->gpus || (x->gpus == y->gpus && strcmp(b->as[x->asg].id, b->as[y->asg].id) <= 0)) break;
            ev[j] = ev[j - 1];
        }
        ev[j] = p;
    }
}

/* Evictable placements (at most IMP_EVICTABLE, each of another request) in
 * request id order: an insertion sort, given the batch it reads. */
static void sort_by_request_id(const ml_batch *b, uint32_t *ev, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        uint32_t p = ev[i], j = i;
        const char *id = b->as[b->pl[p].asg].id;
        for (; j > 0 && strcmp(b->as[b->pl[ev[j - 1]].asg].id, id) > 0; j--) ev[j] = ev[j - 1];
        ev[j] = p;
    }
}

/* Apply (for real or on trial) the move: `ev[0..nev)` leave node `n`, the
 * request `u` (priority `prio`) takes `need` GPUs there, the evicted go to
 * their best placement now. Sets *value_in (u's value plus the re-placed
 * values) and, when `commit`, records the assignments. Index changes are
 * logged; a trial is rolled back by the caller. */
static int do_move(imp_state *is, uint32_t uslot, uint64_t prio, uint32_t n, const uint32_t *ev, uint32_t nev,
                   int commit, uint64_t *value_in)
{
    ml_batch *b = is->b;
    gpurent_market *m = b->m;
    const mreq *u = &m->reqs[uslot];
    uint32_t need = u->gpu_count;
    int rc = GPURENT_OK;
    for (uint32_t i = 0; i < nev && !rc; i++) {
        if (commit) chain_unlink(b, ev[i]);
        rc = ml_batch_give(b, n, b->pl[ev[i]].gpus);
    }
    if (!rc) rc = ml_batch_take(b, n, need, 0, 0);
    if (rc) return rc;
    uint64_t v = ml_batch_unit_value(m, prio, &m->nodes[n]) * need;
    if (commit) {
        rc = ML_GROW((void **)&b->pl, &b->pl_cap, b->pl_len + 1, sizeof *b->pl);
        if (!rc) rc = ML_GROW((void **)&b->as, &b->as_cap, b->as_len + 1, sizeof *b->as);
        if (rc) return rc;
        ml_batch_assignment *a = &b->as[b->as_len];
        a->slot = uslot;
        a->id = m->reqs[uslot].id;
        a->first = b->pl_len;
        a->count = 1;
        a->value = v;
        a->prio = prio;
        ml_batch_placement *p = &b->pl[b->pl_len];
        memset(p, 0, sizeof *p);
        p->node = n;
        p->gpus = (uint8_t)need;
        p->asg = b->as_len;
        b->asg_of[uslot] = b->as_len;
        chain_link(b, b->pl_len);
        b->pl_len++;
        b->as_len++;
    }
    for (uint32_t i = 0; i < nev && !rc; i++) {
        ml_batch_placement *p = &b->pl[ev[i]];
        ml_batch_assignment *a = &b->as[p->asg];
        rc = ml_search(&is->s, m, &m->reqs[a->slot], 1, is->strand);
        is->work += is->s.scanned;
        if (rc) break;
        if (!is->s.found) {
            /* Never taken: a placed request keeps a placement (trials
             * stop here and are refused). */
            *value_in = 0;
            return commit ? gr_fail(GPURENT_E_INTERNAL, "match: improvement move lost a placement") : GPURENT_OK;
        }
        uint32_t dest = is->s.top[0].node;
        uint64_t dv = ml_batch_unit_value(m, a->prio, &m->nodes[dest]) * p->gpus;
        v += dv;
        rc = ml_batch_take(b, dest, p->gpus, 0, 0);
        if (!rc && commit) {
            p->node = dest;
            a->value = dv;
            chain_link(b, ev[i]);
        }
    }
    *value_in = v;
    return rc;
}

/* Try to place the unplaced request `uslot` by evicting at most two
 * placements from one of its candidate nodes. *moved is set when it was.
 * Any move that re-places every evicted request serves one more request, so
 * it is taken whatever its value change; the largest change (signed, first
 * in the candidate order and request id order on a tie) is chosen. */
static int try_evict(imp_state *is, uint32_t uslot, uint64_t prio, int *moved)
{
    ml_batch *b = is->b;
    gpurent_market *m = b->m;
    const mreq *u = &m->reqs[uslot];
    uint32_t need = u->gpu_count;
    *moved = 0;
    int rc = collect(is, u, need);
    if (rc) return rc;
    /* The best change so far is best_in - best_lost; changes are compared
     * as a_in + b_lost > b_in + a_lost to stay unsigned. */
    int have = 0;
    uint64_t best_in = 0, best_lost = 0;
    uint32_t best_n = NIL, best_ev[IMP_EVICTABLE], best_nev = 0;
    for (uint32_t ci = 0; ci < is->cand_len; ci++) {
        uint32_t n = is->cand[ci].node;
        const mnode *x = &m->nodes[n];
        uint32_t free = x->gpu_free;
        uint32_t ev[IMP_EVICTABLE], ne = 0;
        for (uint32_t p = b->node_head[n]; p != NIL; p = b->pl[p].next)
            if (evictable(b, p) && ne < IMP_EVICTABLE) ev[ne++] = p;
        if (ne > 1) {
            sort_by_request_id(b, ev, ne);
        }
        uint64_t uval = ml_batch_unit_value(m, prio, x) * need;
        int fitted = 0; /* some set of at most two works here */
        /* sets: none when it fits, else one placement, else minimal pairs */
        for (uint32_t i = 0; i <= ne; i++) {
            for (uint32_t j = i; j <= ne; j++) {
                uint32_t set[2], ns = 0;
                if (i < ne) set[ns++] = ev[i];
                if (j > i && j < ne) set[ns++] = ev[j];
                if ((i == ne) != (ns == 0)) continue;
                if (ns == 1 && j != i) continue;
                uint32_t got = free;
                for (uint32_t k = 0; k < ns; k++) got += b->pl[set[k]].gpus;
                if (got < need) continue;
                /* minimal: no member could be left in place */
                int minimal = 1;
                for (uint32_t k = 0; k < ns; k++)
                    if (got - b->pl[set[k]].gpus >= need) minimal = 0;
                if (!minimal) continue;
                uint64_t lost = 0, most = uval;
                for (uint32_t k = 0; k < ns; k++) {
                    const ml_batch_assignment *a = &b->as[b->pl[set[k]].asg];
                    lost += a->value;
                    most += (a->prio + ML_PPM) * b->pl[set[k]].gpus;
                }
                if (have && most + best_lost <= lost + best_in) continue; /* cannot beat the best move */
                uint32_t mark = b->undo_len;
                uint64_t vin = 0;
                rc = do_move(is, uslot, prio, n, set, ns, 0, &vin);
                uint32_t left = m->nodes[n].gpu_free;
                ml_batch_rollback(b, mark);
                if (rc) return rc;
                if (!vin) continue; /* an evicted request found no other place */
                if (left > 0 && left < is->strand) continue; /* would strand GPUs */
                fitted = 1;
                if (!have || vin + best_lost > lost + best_in) {
                    have = 1;
                    best_in = vin;
                    best_lost = lost;
                    best_n = n;
                    best_nev = ns;
                    best_ev[0] = ns > 0 ? set[0] : NIL;
                    best_ev[1] = ns > 1 ? set[1] : NIL;
                }
                if (ns == 0) break;
            }
            if (i == ne) break;
        }
        if (ne < 3 || fitted) continue;
        /* More than two (revision 4): the smallest placements first (the
         * easiest to place again; ties by request id), until the request
         * fits, then any that could stay are kept. */
        uint32_t set[IMP_EVICTABLE], ns = 0, got = free;
        sort_by_gpus(b, ev, ne);
        for (uint32_t k = 0; k < ne && got < need; k++) {
            set[ns++] = ev[k];
            got += b->pl[ev[k]].gpus;
        }
        if (got < need || ns < 3) continue;
        for (uint32_t k = ns; k-- > 0;)
            if (got - b->pl[set[k]].gpus >= need) {
                got -= b->pl[set[k]].gpus;
                memmove(&set[k], &set[k + 1], (ns - k - 1) * sizeof *set);
                ns--;
            }
        if (ns < 3) continue;
        uint64_t lost = 0, most = uval;
        for (uint32_t k = 0; k < ns; k++) {
            const ml_batch_assignment *a = &b->as[b->pl[set[k]].asg];
            lost += a->value;
            most += (a->prio + ML_PPM) * b->pl[set[k]].gpus;
        }
        if (have && most + best_lost <= lost + best_in) continue;
        uint32_t mark = b->undo_len;
        uint64_t vin = 0;
        rc = do_move(is, uslot, prio, n, set, ns, 0, &vin);
        uint32_t left = m->nodes[n].gpu_free;
        ml_batch_rollback(b, mark);
        if (rc) return rc;
        if (!vin || (left > 0 && left < is->strand)) continue; /* as for pairs */
        if (!have || vin + best_lost > lost + best_in) {
            have = 1;
            best_in = vin;
            best_lost = lost;
            best_n = n;
            best_nev = ns;
            memcpy(best_ev, set, ns * sizeof *set);
        }
    }
    if (best_n == NIL) return GPURENT_OK;
    uint64_t vin;
    uint32_t before = m->nodes[best_n].gpu_free;
    rc = do_move(is, uslot, prio, best_n, best_ev, best_nev, 1, &vin);
    if (!rc) *moved = 1;
    if (m->nodes[best_n].gpu_free > before) is->epoch++; /* room left over on the node */
    return rc;
}

int ml_batch_improve(ml_batch *b, const ml_batch_order *order, uint32_t n, uint32_t strand, uint64_t greedy_work,
                   const gpurent_cancel *cancel)
{
    gpurent_market *m = b->m;
    imp_state is;
    memset(&is, 0, sizeof is);
    is.b = b;
    is.strand = strand;
    /* Work bound, in nodes visited: 128 per request for the first 4096
     * requests, 8 per request beyond, plus 1/64 of what the greedy pass
     * visited (batches of a few thousand improve fully; a batch of 100 000
     * stops early and costs about a tenth of its greedy pass). */
    is.budget = greedy_work / 64 + 128ull * (n < 4096 ? n : 4096) + 8ull * (n > 4096 ? n - 4096 : 0);
    if (m->imp_budget) is.budget = m->imp_budget;
    int rc = GPURENT_OK;
    b->node_head = gr_malloc(((size_t)m->node_used + 1) * sizeof *b->node_head);
    b->asg_of = gr_malloc(((size_t)m->req_used + 1) * sizeof *b->asg_of);
    is.tried = gr_calloc((size_t)m->req_used + 1, sizeof *is.tried);
    if (!b->node_head || !b->asg_of || !is.tried) {
        gr_free(is.tried);
        return gr_fail(GPURENT_E_NOMEM, "match: improvement phase");
    }
    /* The greedy pass failed every unplaced request on more capacity than is left. */
    for (uint32_t i = 0; i < n; i++) is.tried[order[i].slot] = 1;
    memset(b->node_head, 0xff, ((size_t)m->node_used + 1) * sizeof *b->node_head);
    memset(b->asg_of, 0xff, ((size_t)m->req_used + 1) * sizeof *b->asg_of);
    for (uint32_t i = 0; i < b->as_len; i++) b->asg_of[b->as[i].slot] = i;
    for (uint32_t p = 0; p < b->pl_len; p++) chain_link(b, p);
    for (uint32_t round = 0; round < IMP_ROUNDS && !rc; round++) {
        uint32_t moves = 0;
        for (uint32_t i = 0; i < n && !rc; i++) {
            if (b->asg_of[order[i].slot] != NIL) continue;
            if (is.work > is.budget) break;
            if ((i & 255) == 0 && gpurent_cancel_requested(cancel)) {
                rc = gr_fail(GPURENT_E_CANCELLED, "match: batch cancelled while improving");
                break;
            }
            const mreq *q = &m->reqs[order[i].slot];
            if (is.tried[order[i].slot] == is.epoch + 1) goto evict;
            is.tried[order[i].slot] = is.epoch + 1;
            rc = ml_search(&is.s, m, q, 1, strand);
            is.work += is.s.scanned;
            if (rc) break;
            if (is.s.found) {
                uint32_t first = b->as_len;
                rc = ml_batch_place(b, &is.s, &order[i]);
                if (rc) break;
                b->asg_of[order[i].slot] = first;
                for (uint32_t p = b->as[first].first; p < b->pl_len; p++) chain_link(b, p);
                moves++;
                continue;
            }
        evict:
            if (q->share || q->gang_nodes > 1) continue;
            int moved = 0;
            rc = try_evict(&is, order[i].slot, order[i].prio, &moved);
            moves += (uint32_t)moved;
        }
        if (!moves) break;
    }
    m->imp_work = is.work;
    ml_search_free(&is.s);
    gr_free(is.cand);
    gr_free(is.lists);
    gr_free(is.tried);
    return rc;
}
