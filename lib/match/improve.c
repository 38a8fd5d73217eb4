/* The improvement phase of the batch.
 *
 * After the greedy pass, requests left without a placement try again, in
 * the batch order, for a few rounds: first directly (earlier moves may have
 * freed room), then, for single-node whole-GPU requests, by evicting one or
 * two single-node whole-GPU assignments from a node they could use (or,
 * revision 4, a larger set: the smallest first until the request fits),
 * placing them there and re-placing the evicted requests on their best
 * placement in what is left (the top-1 search, fit included). In these
 * serving rounds an evicted request must find a new place.
 *
 * Upgrades (revision 6) follow: an unplaced request of 2 GPUs or more tries
 * the same moves on the nodes where placements smaller than it make room
 * for it, its evicted requests placed again largest first, up to two of
 * them through a nested eviction on another node each (nest()), and one of
 * them may be left unplaced when it asks for fewer GPUs than the request
 * placed, has no higher aged priority (so the aging guarantee reads: a
 * placed request never loses its place to one of lower priority) and the
 * total value rises. The requests served stay as many, the value rises:
 * among assignments serving as many requests the policy's value decides,
 * and it favours more GPUs unless priorities or scores say otherwise. Each
 * round of upgrades is followed by a serving round that may use the nested
 * step too.
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
 * where it stops depends on the market alone; past twice the budget, a
 * trial that needs a nested step is refused (nest()), so that one
 * request's trials cannot visit the market thousands of times over. */
#include <stdlib.h>
#include <string.h>

#include "batch_internal.h"

#define IMP_ROUNDS 3
#define IMP_CANDIDATES 32   /* candidate nodes tried per unplaced request */
#define IMP_EVICTABLE 16   /* placements on one node considered for eviction */
#define IMP_NESTED 2        /* nested steps per move (revision 6) */
#define IMP_UPGRADE_BATCH 4096 /* batches that get a work bound of their own for upgrades */
#define IMP_UPGRADE_WORK 384ull  /* node visits per request for upgrades in such a batch */

/* A node an unplaced request could use, with its sort keys. */
typedef struct imp_candidate {
    uint32_t node;
    uint64_t stat, hash;
    const uint8_t *provider_key; /* ties: provider key, then node id */
    const char *node_id;
} imp_candidate;

typedef struct imp_cands {
    imp_candidate *c;
    uint32_t len, cap;
} imp_cands;

typedef struct imp_state {
    ml_batch *b;
    msearch s;
    uint32_t strand;
    imp_cands top, nested;  /* candidates of the unplaced request, of a nested step */
    int nest;               /* nested steps allowed (revision 6) */
    uint32_t *lists;        /* index lists collect() walks */
    uint32_t lists_cap;
    uint64_t work, budget;  /* nodes visited (collect and searches) */
    int cut;                /* a trial's nested step was refused: past the nested steps' bound */
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

/* GPUs of the evictable placements on node `n`, those of fewer than
 * `below` GPUs only (an upgrade's, whose left-over request must be smaller). */
static uint32_t evictable_gpus(const ml_batch *b, uint32_t n, uint32_t below)
{
    uint32_t g = 0;
    for (uint32_t p = b->node_head[n]; p != NIL; p = b->pl[p].next)
        if (evictable(b, p) && b->pl[p].gpus < below) g += b->pl[p].gpus;
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
static int collect(imp_state *is, imp_cands *out, const mreq *q, uint32_t need, uint32_t below)
{
    ml_batch *b = is->b;
    const gpurent_market *m = b->m;
    uint32_t nl = 0;
    out->len = 0;
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
    for (int lvl = ML_LEVELS - 1; lvl >= 0 && out->len < IMP_CANDIDATES; lvl--) {
        for (uint32_t i = 0; i < nl; i++) {
            const mlist *l = &m->buckets[lists[i] / ML_CLASSES]->lists[lists[i] % ML_CLASSES];
            if (!(l->bits[lvl / 64] >> (lvl % 64) & 1)) continue;
            for (uint32_t n = l->head[lvl]; n != NIL; n = m->nodes[n].next) {
                const mnode *x = &m->nodes[n];
                is->work++;
                uint32_t mask = ml_check(m, q, x, 0);
                if (mask & ~(1u << GPURENT_MC_BUSY)) continue;
                if (x->gpu_free + evictable_gpus(b, n, below) < need) continue;
                int rc = ML_GROW((void **)&out->c, &out->cap, out->len + 1, sizeof *out->c);
                if (rc) return rc;
                out->c[out->len++] =
                    (imp_candidate){n, x->stat, ml_tie_hash(m, q->id, x), m->provs[x->provider].key, x->id};
            }
        }
    }
    if (out->len > 1) qsort(out->c, out->len, sizeof *out->c, icand_cmp);
    if (out->len > IMP_CANDIDATES) out->len = IMP_CANDIDATES;
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

/* The evictable placements on node n (at most IMP_EVICTABLE, in chain
 * order), sorted by request id; their count. */
static uint32_t evictables_of(const ml_batch *b, uint32_t n, uint32_t ev[IMP_EVICTABLE])
{
    uint32_t ne = 0;
    for (uint32_t p = b->node_head[n]; p != NIL; p = b->pl[p].next)
        if (evictable(b, p) && ne < IMP_EVICTABLE) ev[ne++] = p;
    if (ne > 1) sort_by_request_id(b, ev, ne);
    return ne;
}

/* Whether evicting the placements `set` frees `need` GPUs beside the
 * `free` ones, and the set is minimal: no member could be left in place. */
static int minimal_fit(const ml_batch *b, const uint32_t *set, uint32_t ns, uint32_t free, uint32_t need)
{
    uint32_t got = free;
    for (uint32_t k = 0; k < ns; k++) got += b->pl[set[k]].gpus;
    if (got < need) return 0;
    for (uint32_t k = 0; k < ns; k++)
        if (got - b->pl[set[k]].gpus >= need) return 0;
    return 1;
}

/* Where a move sends one placement. */
typedef struct imp_dest {
    uint32_t pl, node;
    uint64_t value;
} imp_dest;

/* The nested step of a move (revision 6): the evicted request of placement
 * `e`, which found no place of its own, takes a node (not one of
 * skip[0..nskip): the move's node and the nodes of its earlier nested
 * steps) by evicting one placement or a minimal pair there, each of which
 * must be placed directly on what is left. The first that works in the
 * candidate order (then request id order) is taken. Chains are read as they
 * were before the move (do_move() changes them only at its end); no
 * placement has left the nodes not skipped, so they hold what the chains
 * say, and a trial and its commit take the same steps. On success the
 * capacity is taken (logged), dst[0] is e's new place and dst[1..*nd) the
 * nested ones; *lost is the value the nested evicted requests had. */
static int nest(imp_state *is, int commit, const uint32_t *skip, uint32_t nskip, uint32_t e, imp_dest *dst,
                uint32_t *nd, uint64_t *lost)
{
    ml_batch *b = is->b;
    gpurent_market *m = b->m;
    const ml_batch_assignment *ea = &b->as[b->pl[e].asg];
    const mreq *q = &m->reqs[ea->slot];
    uint32_t need = b->pl[e].gpus;
    *nd = 0;
    /* Each nested step collects its candidates afresh (every node of the
     * request's models may be visited) for each set a request tries, so one
     * request's trials could visit the market thousands of times over,
     * whatever the work bound (checked between requests). Past twice the
     * bound a trial's nested step is refused and so is the trial (trial()
     * reads is->cut); the move kept was tried without a cut, so its commit
     * (never cut) takes the same steps. */
    if (!commit && is->work > 2 * is->budget) {
        is->cut = 1;
        return GPURENT_OK;
    }
    int rc = collect(is, &is->nested, q, need, UINT32_MAX);
    if (rc) return rc;
    for (uint32_t ci = 0; ci < is->nested.len; ci++) {
        uint32_t t = is->nested.c[ci].node;
        int used = 0;
        for (uint32_t k = 0; k < nskip; k++) used |= skip[k] == t;
        if (used) continue;
        uint32_t ev[IMP_EVICTABLE], free = m->nodes[t].gpu_free;
        uint32_t ne = evictables_of(b, t, ev);
        for (uint32_t i = 0; i < ne; i++) {
            for (uint32_t j = i; j < ne; j++) {
                uint32_t set[2], ns = 0;
                set[ns++] = ev[i];
                if (j > i) set[ns++] = ev[j];
                if (!minimal_fit(b, set, ns, free, need)) continue;
                uint32_t mark = b->undo_len;
                for (uint32_t k = 0; k < ns && !rc; k++) rc = ml_batch_give(b, t, b->pl[set[k]].gpus);
                if (!rc) rc = ml_batch_take(b, t, need, 0, 0);
                if (rc) return rc;
                uint32_t left = m->nodes[t].gpu_free;
                int ok = !(left > 0 && left < is->strand);
                dst[0] = (imp_dest){e, t, ml_batch_unit_value(m, ea->prio, &m->nodes[t]) * need};
                uint64_t l = 0;
                for (uint32_t k = 0; k < ns && ok; k++) {
                    const ml_batch_assignment *a = &b->as[b->pl[set[k]].asg];
                    rc = ml_search(&is->s, m, &m->reqs[a->slot], 1, is->strand);
                    is->work += is->s.scanned;
                    if (rc) return rc;
                    if (!is->s.found) {
                        ok = 0;
                        break;
                    }
                    uint32_t d = is->s.top[0].node, g = b->pl[set[k]].gpus;
                    rc = ml_batch_take(b, d, g, 0, 0);
                    if (rc) return rc;
                    dst[1 + k] = (imp_dest){set[k], d, ml_batch_unit_value(m, a->prio, &m->nodes[d]) * g};
                    l += a->value;
                }
                if (ok) {
                    *nd = 1 + ns;
                    *lost = l;
                    return GPURENT_OK;
                }
                ml_batch_rollback(b, mark);
            }
        }
    }
    return GPURENT_OK;
}

/* Apply (for real or on trial) the move: `ev[0..nev)` leave node `n`, the
 * request `u` (priority `prio`) takes `need` GPUs there, the evicted go to
 * their best placement now, or (revision 6) up to IMP_NESTED of them
 * through a nested step each (nest()). Sets *value_in (u's value plus the
 * re-placed values, 0 when the move is impossible) and *extra_lost (the
 * value the placements the nested steps moved had); `may_drop` lets one evicted request stay unplaced
 * (*dropped). Index changes are logged (a trial is rolled back by the
 * caller); when `commit`, the assignments and chains are updated at the end,
 * so that a trial and its commit read the same chains throughout. */
static int do_move(imp_state *is, uint32_t uslot, uint64_t prio, uint32_t n, const uint32_t *ev, uint32_t nev,
                   int commit, int may_drop, uint64_t *value_in, uint64_t *extra_lost, uint32_t *dropped)
{
    ml_batch *b = is->b;
    gpurent_market *m = b->m;
    const mreq *u = &m->reqs[uslot];
    uint32_t need = u->gpu_count;
    int rc = GPURENT_OK;
    imp_dest dst[IMP_EVICTABLE + 2 * IMP_NESTED];
    uint32_t nd = 0, nested = 0, skip[1 + IMP_NESTED];
    skip[0] = n;
    *dropped = NIL;
    *value_in = 0;
    *extra_lost = 0;
    for (uint32_t i = 0; i < nev && !rc; i++) rc = ml_batch_give(b, n, b->pl[ev[i]].gpus);
    if (!rc) rc = ml_batch_take(b, n, need, 0, 0);
    if (rc) return rc;
    uint64_t v = ml_batch_unit_value(m, prio, &m->nodes[n]) * need;
    for (uint32_t i = 0; i < nev; i++) {
        ml_batch_placement *p = &b->pl[ev[i]];
        const ml_batch_assignment *a = &b->as[p->asg];
        rc = ml_search(&is->s, m, &m->reqs[a->slot], 1, is->strand);
        is->work += is->s.scanned;
        if (rc) return rc;
        if (is->s.found) {
            uint32_t d = is->s.top[0].node;
            dst[nd] = (imp_dest){ev[i], d, ml_batch_unit_value(m, a->prio, &m->nodes[d]) * p->gpus};
            v += dst[nd++].value;
            rc = ml_batch_take(b, d, p->gpus, 0, 0);
            if (rc) return rc;
            continue;
        }
        if (nested < (uint32_t)is->nest) {
            uint32_t k = 0;
            uint64_t l = 0;
            rc = nest(is, commit, skip, 1 + nested, ev[i], &dst[nd], &k, &l);
            if (rc) return rc;
            if (k) {
                skip[1 + nested++] = dst[nd].node;
                for (uint32_t j = 0; j < k; j++) v += dst[nd + j].value;
                nd += k;
                *extra_lost += l;
                continue;
            }
        }
        if (may_drop && *dropped == NIL) {
            /* An upgrade (revision 6) may leave one evicted request
             * without a place: it goes back to the unplaced. */
            *dropped = ev[i];
            continue;
        }
        /* Never taken: a placed request keeps a placement (trials stop
         * here and are refused). */
        return commit ? gr_fail(GPURENT_E_INTERNAL, "match: improvement move lost a placement") : GPURENT_OK;
    }
    *value_in = v;
    if (!commit) return GPURENT_OK;
    for (uint32_t i = 0; i < nd; i++) chain_unlink(b, dst[i].pl);
    if (*dropped != NIL) {
        chain_unlink(b, *dropped);
        ml_batch_assignment *a = &b->as[b->pl[*dropped].asg];
        a->count = 0;
        b->asg_of[a->slot] = NIL;
    }
    for (uint32_t i = 0; i < nd; i++) {
        ml_batch_placement *p = &b->pl[dst[i].pl];
        p->node = dst[i].node;
        b->as[p->asg].value = dst[i].value;
        chain_link(b, dst[i].pl);
    }
    rc = ML_GROW((void **)&b->pl, &b->pl_cap, b->pl_len + 1, sizeof *b->pl);
    if (!rc) rc = ML_GROW((void **)&b->as, &b->as_cap, b->as_len + 1, sizeof *b->as);
    if (rc) return rc;
    ml_batch_assignment *a = &b->as[b->as_len];
    a->slot = uslot;
    a->id = m->reqs[uslot].id;
    a->first = b->pl_len;
    a->count = 1;
    a->value = ml_batch_unit_value(m, prio, &m->nodes[n]) * need;
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
    return GPURENT_OK;
}

/* The best move found so far for one unplaced request. */
typedef struct imp_best {
    int have, drop;          /* drop: the move leaves one evicted request unplaced */
    uint64_t in, lost;       /* its change is in - lost */
    uint32_t n, ev[IMP_EVICTABLE], nev;
} imp_best;

/* Try the move `set[0..ns)` off node `n` for request `uslot` and keep it in
 * *best when it beats it. A move that re-places every evicted request
 * serves one more and beats any upgrade. In an upgrade (revision 6) one
 * evicted request may stay unplaced; the move is kept only when that one
 * asks for fewer GPUs than `uslot`, has no higher aged priority, and the
 * total value rises (the same requests served, more GPUs). *ok: the move
 * was possible (for the larger sets' fallback). */
static int trial(imp_state *is, uint32_t uslot, uint64_t prio, uint32_t n, const uint32_t *set, uint32_t ns,
                 int upgrade, imp_best *best, int *ok)
{
    ml_batch *b = is->b;
    gpurent_market *m = b->m;
    uint32_t need = m->reqs[uslot].gpu_count;
    uint64_t lost = 0, most = ml_batch_unit_value(m, prio, &m->nodes[n]) * need;
    for (uint32_t k = 0; k < ns; k++) {
        const ml_batch_assignment *a = &b->as[b->pl[set[k]].asg];
        lost += a->value;
        most += (a->prio + ML_PPM) * b->pl[set[k]].gpus;
    }
    *ok = 0;
    /* cannot beat the best move (a serving move beats every upgrade) */
    if (best->have && !best->drop && most + best->lost <= lost + best->in) return GPURENT_OK;
    uint32_t order[IMP_EVICTABLE];
    memcpy(order, set, ns * sizeof *set);
    if (upgrade) {
        /* larger evicted requests choose their new place first: the one
         * left over, if any, is a small one */
        for (uint32_t i = 1; i < ns; i++) {
            uint32_t p = order[i], j = i;
            for (; j > 0; j--) {
                const ml_batch_placement *x = &b->pl[order[j - 1]], *y = &b->pl[p];
                if (x->gpus > y->gpus ||
                    (x->gpus == y->gpus && strcmp(b->as[x->asg].id, b->as[y->asg].id) <= 0))
                    break;
                order[j] = order[j - 1];
            }
            order[j] = p;
        }
    }
    uint32_t mark = b->undo_len, dropped = NIL;
    uint64_t vin = 0, xl = 0;
    is->cut = 0;
    int rc = do_move(is, uslot, prio, n, order, ns, 0, upgrade, &vin, &xl, &dropped);
    uint32_t left = m->nodes[n].gpu_free;
    ml_batch_rollback(b, mark);
    if (rc) return rc;
    if (is->cut) return GPURENT_OK;                   /* a nested step was refused: past its bound */
    if (!vin) return GPURENT_OK;                      /* an evicted request found no other place */
    lost += xl;
    if (left > 0 && left < is->strand) return GPURENT_OK; /* would strand GPUs */
    int drop = dropped != NIL;
    if (drop) {
        const ml_batch_assignment *d = &b->as[b->pl[dropped].asg];
        if (b->pl[dropped].gpus >= need || d->prio > prio || vin <= lost) return GPURENT_OK;
    }
    *ok = 1;
    int better = !best->have || (best->drop && !drop) ||
                 (best->drop == drop && vin + best->lost > lost + best->in);
    if (!better) return GPURENT_OK;
    best->have = 1;
    best->drop = drop;
    best->in = vin;
    best->lost = lost;
    best->n = n;
    best->nev = ns;
    memcpy(best->ev, order, ns * sizeof *order);
    return GPURENT_OK;
}

/* Try to place the unplaced request `uslot` by evicting at most two
 * placements from one of its candidate nodes (or a larger set, smallest
 * first). *moved is set when it was. Any move that re-places every evicted
 * request serves one more request, so it is taken whatever its value change;
 * the largest change (signed, first in the candidate order and request id
 * order on a tie) is chosen. `upgrade` (revision 6): the same sets, but one
 * evicted request may be left unplaced (see trial()); *dropped_slot then
 * names its request. */
static int try_evict(imp_state *is, uint32_t uslot, uint64_t prio, int upgrade, int *moved, uint32_t *dropped_slot)
{
    ml_batch *b = is->b;
    gpurent_market *m = b->m;
    const mreq *u = &m->reqs[uslot];
    uint32_t need = u->gpu_count;
    *moved = 0;
    *dropped_slot = NIL;
    /* an upgrade's candidates: nodes where placements smaller than the
     * request (one of them may be left over) make room for it */
    int rc = collect(is, &is->top, u, need, upgrade ? need : UINT32_MAX);
    if (rc) return rc;
    imp_best best;
    memset(&best, 0, sizeof best);
    best.n = NIL;
    for (uint32_t ci = 0; ci < is->top.len; ci++) {
        uint32_t n = is->top.c[ci].node;
        const mnode *x = &m->nodes[n];
        uint32_t free = x->gpu_free;
        uint32_t ev[IMP_EVICTABLE];
        uint32_t ne = evictables_of(b, n, ev);
        int fitted = 0; /* some set of at most two works here */
        /* sets: none when it fits, else one placement, else minimal pairs */
        for (uint32_t i = 0; i <= ne; i++) {
            for (uint32_t j = i; j <= ne; j++) {
                uint32_t set[2], ns = 0;
                if (i < ne) set[ns++] = ev[i];
                if (j > i && j < ne) set[ns++] = ev[j];
                if ((i == ne) != (ns == 0)) continue;
                if (ns == 1 && j != i) continue;
                if (!minimal_fit(b, set, ns, free, need)) continue;
                int ok = 0;
                rc = trial(is, uslot, prio, n, set, ns, upgrade, &best, &ok);
                if (rc) return rc;
                fitted |= ok;
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
        int ok = 0;
        rc = trial(is, uslot, prio, n, set, ns, upgrade, &best, &ok);
        if (rc) return rc;
    }
    if (!best.have) return GPURENT_OK;
    uint64_t vin, xl;
    uint32_t before = m->nodes[best.n].gpu_free, dropped = NIL;
    rc = do_move(is, uslot, prio, best.n, best.ev, best.nev, 1, best.drop, &vin, &xl, &dropped);
    if (!rc) *moved = 1;
    if (!rc && dropped != NIL) *dropped_slot = b->as[b->pl[dropped].asg].slot;
    if (m->nodes[best.n].gpu_free > before) is->epoch++; /* room left over on the node */
    return rc;
}

/* Serving, for one unplaced request `o`: a direct search (when capacity
 * was freed since its last try), then an eviction move. */
static int serve_one(imp_state *is, const ml_batch_order *o, uint32_t *moves)
{
    ml_batch *b = is->b;
    gpurent_market *m = b->m;
    const mreq *q = &m->reqs[o->slot];
    if (is->tried[o->slot] != is->epoch + 1) {
        is->tried[o->slot] = is->epoch + 1;
        int rc = ml_search(&is->s, m, q, 1, is->strand);
        is->work += is->s.scanned;
        if (rc) return rc;
        if (is->s.found) {
            uint32_t first = b->as_len;
            rc = ml_batch_place(b, &is->s, o);
            if (rc) return rc;
            b->asg_of[o->slot] = first;
            for (uint32_t p = b->as[first].first; p < b->pl_len; p++) chain_link(b, p);
            (*moves)++;
            return GPURENT_OK;
        }
    }
    if (q->share || q->gang_nodes > 1) return GPURENT_OK;
    int moved = 0;
    uint32_t dropped;
    int rc = try_evict(is, o->slot, o->prio, 0, &moved, &dropped);
    *moves += (uint32_t)moved;
    return rc;
}

/* An upgrade, for one unplaced request `o` if it is a single-node
 * whole-GPU request of 2 GPUs or more. A request an upgrade leaves unplaced
 * failed its search on the capacity left now, so its next direct try waits
 * for freed room. */
static int upgrade_one(imp_state *is, const ml_batch_order *o, uint32_t *moves)
{
    const mreq *q = &is->b->m->reqs[o->slot];
    if (q->share || q->gang_nodes > 1 || q->gpu_count < 2) return GPURENT_OK;
    int moved = 0;
    uint32_t dropped = NIL;
    is->nest = IMP_NESTED;
    int rc = try_evict(is, o->slot, o->prio, 1, &moved, &dropped);
    is->nest = 0;
    *moves += (uint32_t)moved;
    if (dropped != NIL) is->tried[dropped] = is->epoch + 1;
    return rc;
}

/* One round over the unplaced requests in the run's order, each given to
 * `one` (serve_one or upgrade_one); placed requests are skipped. The round
 * stops at the first failure, when the work budget is spent, or (checked
 * every 256 requests) when the batch is cancelled. */
static int run_round(imp_state *is, const ml_batch_order *order, uint32_t n, const gpurent_cancel *cancel,
                     uint32_t *moves, int (*one)(imp_state *, const ml_batch_order *, uint32_t *))
{
    int rc = GPURENT_OK;
    for (uint32_t i = 0; i < n && !rc; i++) {
        if (is->b->asg_of[order[i].slot] != NIL) continue;
        if (is->work > is->budget) break;
        if ((i & 255) == 0 && gpurent_cancel_requested(cancel))
            return gr_fail(GPURENT_E_CANCELLED, "match: batch cancelled while improving");
        rc = one(is, &order[i], moves);
    }
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
        rc = run_round(&is, order, n, cancel, &moves, serve_one);
        if (!moves) break;
    }
    /* Upgrades (revision 6), each round followed by a round serving, with
     * the nested step, what can be served (requests the upgrades left
     * unplaced among them; the first such round runs even when no upgrade
     * was made, since the upgrades' candidates leave out the nodes only a
     * serving move could use). A batch of at most
     * IMP_UPGRADE_BATCH requests gets IMP_UPGRADE_WORK more node visits per
     * request for them; a larger one only what the serving rounds left. */
    if (n <= IMP_UPGRADE_BATCH && !m->imp_budget) is.budget += IMP_UPGRADE_WORK * (uint64_t)n;
    for (uint32_t round = 0; round < IMP_ROUNDS && !rc && !m->no_upgrade; round++) {
        uint32_t moves = 0;
        rc = run_round(&is, order, n, cancel, &moves, upgrade_one);
        /* the nested step serves here, not in the first rounds: there it
         * spent the work bound the plain evictions use better */
        is.nest = IMP_NESTED;
        if (!rc) rc = run_round(&is, order, n, cancel, &moves, serve_one);
        is.nest = 0;
        if (!moves) break;
    }
    m->imp_work = is.work;
    ml_search_free(&is.s);
    gr_free(is.top.c);
    gr_free(is.nested.c);
    gr_free(is.lists);
    gr_free(is.tried);
    return rc;
}
