/* Batch assignment, the digests that go into receipts, and applying a
 * receipt to the market.
 *
 * The batch is a greedy in a fixed order: requests by aged priority times
 * size (largest and oldest first; ties by a keyed hash of the id), each
 * placed on its best placement from the index (score plus best-fit bonus),
 * gangs all-or-nothing. It works on the live index, logging every capacity
 * change, and restores the index at the end. */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "match_internal.h"

#define ML_GROW(p, cap, want, size) ml_grow(p, cap, want, size, "match: batch arrays")


/* ---- digests ---- */

static void put_u64(crypto_generichash_state *st, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (56 - 8 * i));
    crypto_generichash_update(st, b, 8);
}

/* qsort takes no context: comparators read it from thread-locals set just
 * before the call (a sort never nests on one thread). */
static _Thread_local const gpurent_market *cmp_market;
static int prov_cmp(const void *a, const void *b)
{
    const gpurent_market *m = cmp_market;
    return memcmp(m->provs[*(const uint32_t *)a].key, m->provs[*(const uint32_t *)b].key, GPURENT_KEY_BYTES);
}

static int req_id_cmp(const void *a, const void *b)
{
    const gpurent_market *m = cmp_market;
    return strcmp(m->reqs[*(const uint32_t *)a].id, m->reqs[*(const uint32_t *)b].id);
}

/* Sort slots with a comparator that reads the market (qsort has no context). */
static void sort_slots(const gpurent_market *m, uint32_t *slots, uint32_t n, int (*cmp)(const void *, const void *))
{
    cmp_market = m;
    qsort(slots, n, sizeof *slots, cmp);
}

int ml_digests(const gpurent_market *m, uint8_t offers[32], uint8_t reqs[32])
{
    uint32_t np = 0, nr = 0;
    uint32_t *ps = gr_malloc(((size_t)m->prov_live + 1) * sizeof *ps);
    uint32_t *rs = gr_malloc(((size_t)m->req_live + 1) * sizeof *rs);
    if (!ps || !rs) {
        gr_free(ps);
        gr_free(rs);
        return gr_fail(GPURENT_E_NOMEM, "match: digests");
    }
    for (uint32_t i = 0; i < m->prov_used; i++)
        if (m->provs[i].alive) ps[np++] = i;
    for (uint32_t i = 0; i < m->req_used; i++)
        if (m->reqs[i].alive) rs[nr++] = i;
    sort_slots(m, ps, np, prov_cmp);
    sort_slots(m, rs, nr, req_id_cmp);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, GPURENT_DIGEST_BYTES);
    put_u64(&st, np);
    for (uint32_t i = 0; i < np; i++) {
        const mprov *p = &m->provs[ps[i]];
        uint8_t trust[2] = {p->tier, 0};
        crypto_generichash_update(&st, p->key, GPURENT_KEY_BYTES);
        crypto_generichash_update(&st, p->digest, GPURENT_DIGEST_BYTES);
        crypto_generichash_update(&st, trust, 1);
        put_u64(&st, p->score_ppm);
        put_u64(&st, p->node_count);
        for (uint32_t j = 0; j < p->node_count; j++) {
            const mnode *n = &m->nodes[p->nodes[j]];
            uint8_t b[2] = {n->verified, n->gpu_free};
            crypto_generichash_update(&st, b, 2);
            if (n->share) crypto_generichash_update(&st, n->share, n->gpu_count);
        }
    }
    crypto_generichash_final(&st, offers, GPURENT_DIGEST_BYTES);
    crypto_generichash_init(&st, NULL, 0, GPURENT_DIGEST_BYTES);
    put_u64(&st, nr);
    for (uint32_t i = 0; i < nr; i++) crypto_generichash_update(&st, m->reqs[rs[i]].digest, GPURENT_DIGEST_BYTES);
    crypto_generichash_final(&st, reqs, GPURENT_DIGEST_BYTES);
    gr_free(ps);
    gr_free(rs);
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_market_digests(const gpurent_market *m, uint8_t offers[GPURENT_DIGEST_BYTES],
                                                  uint8_t requests[GPURENT_DIGEST_BYTES],
                                                  uint8_t policy[GPURENT_DIGEST_BYTES])
{
    GR_CHECK_ARG(m, "market is NULL");
    uint8_t o[32], r[32];
    int rc = ml_digests(m, o, r);
    if (!rc && policy) rc = ml_policy_digest(&m->opts, policy);
    if (rc) return rc;
    if (offers) memcpy(offers, o, 32);
    if (requests) memcpy(requests, r, 32);
    return GPURENT_OK;
}

/* ---- batch order ---- */

typedef struct border {
    uint64_t key;   /* aged priority x size */
    uint64_t prio;
    uint64_t hash;  /* keyed hash of the id */
    uint32_t slot;
} border;

typedef struct prep_job {
    const gpurent_market *m;
    border *b;
    uint32_t from, to;
    uint64_t now;
} prep_job;

static void *prep_run(void *arg)
{
    prep_job *j = arg;
    const gpurent_market *m = j->m;
    for (uint32_t i = j->from; i < j->to; i++) {
        const mreq *q = &m->reqs[j->b[i].slot];
        uint64_t units = q->share ? q->share : (uint64_t)q->gpu_count * 100u;
        uint8_t h[8];
        j->b[i].prio = ml_prio(m, q, j->now);
        j->b[i].key = j->b[i].prio * units;
        crypto_generichash(h, sizeof h, (const uint8_t *)q->id, strlen(q->id), m->seed, sizeof m->seed);
        uint64_t v = 0;
        for (int k = 0; k < 8; k++) v = v << 8 | h[k];
        j->b[i].hash = v;
    }
    return NULL;
}

/* Priorities and hashes are independent per request: spread them over the
 * configured threads. The result does not depend on how many ran. */
static void prep_all(const gpurent_market *m, border *b, uint32_t n, uint64_t now)
{
    uint32_t t = m->opts.threads > 1 ? m->opts.threads : 1;
    if (t > n / 1024 + 1) t = n / 1024 + 1;
    pthread_t tid[256];
    prep_job jobs[256];
    int started[256] = {0};
    for (uint32_t i = 0; i < t; i++)
        jobs[i] = (prep_job){m, b, (uint32_t)((uint64_t)n * i / t), (uint32_t)((uint64_t)n * (i + 1) / t), now};
    for (uint32_t i = 1; i < t; i++) started[i] = pthread_create(&tid[i], NULL, prep_run, &jobs[i]) == 0;
    prep_run(&jobs[0]);
    for (uint32_t i = 1; i < t; i++) {
        if (started[i]) pthread_join(tid[i], NULL);
        else prep_run(&jobs[i]); /* no thread to be had: do its share here */
    }
}

static int border_cmp(const void *a, const void *b)
{
    const border *x = a, *y = b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1;
    if (x->hash != y->hash) return x->hash > y->hash ? -1 : 1;
    return strcmp(cmp_market->reqs[x->slot].id, cmp_market->reqs[y->slot].id);
}

/* ---- the batch ---- */

typedef struct bplace {
    uint32_t node;
    uint8_t gpus, share, gpu_index, pad;
    uint32_t asg;        /* its assignment */
    uint32_t next;       /* next placement on the same node (improvement phase) */
} bplace;

typedef struct basg {
    uint32_t slot;       /* request */
    uint64_t value;
    uint64_t prio;
    uint32_t first, count; /* count 0: dropped by the improvement phase */
} basg;

typedef struct bstate {
    gpurent_market *m;
    mundo *undo;
    uint32_t undo_len, undo_cap;
    bplace *pl;
    uint32_t pl_len, pl_cap;
    basg *as;
    uint32_t as_len, as_cap;
    uint32_t *node_head; /* improvement phase: first placement per node slot */
    uint32_t *asg_of;    /* improvement phase: assignment per request slot, NIL none */
} bstate;

/* Take capacity on a node, logging the old value. */
static int take(bstate *b, uint32_t n, uint32_t gpus, uint32_t share, uint32_t gpu_index)
{
    int rc = ML_GROW((void **)&b->undo, &b->undo_cap, b->undo_len + 1, sizeof *b->undo);
    if (rc) return rc;
    mnode *x = &b->m->nodes[n];
    mundo *u = &b->undo[b->undo_len++];
    u->node = n;
    u->gpu_free = x->gpu_free;
    u->gpu_index = (uint8_t)gpu_index;
    u->share_pct = share ? x->share[gpu_index] : 0;
    if (share) ml_node_set_share(b->m, n, gpu_index, x->share[gpu_index] - share);
    else ml_node_set_free(b->m, n, x->gpu_free - gpus);
    return GPURENT_OK;
}

/* Give capacity back to a node (a placement the improvement phase moves),
 * logging the old value like take(). */
static int give(bstate *b, uint32_t n, uint32_t gpus)
{
    int rc = ML_GROW((void **)&b->undo, &b->undo_cap, b->undo_len + 1, sizeof *b->undo);
    if (rc) return rc;
    mnode *x = &b->m->nodes[n];
    mundo *u = &b->undo[b->undo_len++];
    u->node = n;
    u->gpu_free = x->gpu_free;
    u->gpu_index = 0;
    u->share_pct = 0;
    ml_node_set_free(b->m, n, x->gpu_free + gpus);
    return GPURENT_OK;
}

/* Restore the index to what it was when the log held `mark` entries. */
static void rollback(bstate *b, uint32_t mark)
{
    while (b->undo_len > mark) {
        const mundo *u = &b->undo[--b->undo_len];
        if (b->m->nodes[u->node].share) ml_node_set_share(b->m, u->node, u->gpu_index, u->share_pct);
        else ml_node_set_free(b->m, u->node, u->gpu_free);
    }
}

static void undo_all(bstate *b) { rollback(b, 0); }

static uint64_t unit_value(const gpurent_market *m, uint64_t prio, const mnode *n)
{
    return prio + (m->w_static ? n->stat / m->w_static : 0);
}

static int place(bstate *b, msearch *s, const border *o)
{
    gpurent_market *m = b->m;
    const mreq *q = &m->reqs[o->slot];
    const mhit *h = &s->top[0];
    uint32_t count = h->count ? h->count : 1;
    int rc = ML_GROW((void **)&b->pl, &b->pl_cap, b->pl_len + count, sizeof *b->pl);
    if (!rc) rc = ML_GROW((void **)&b->as, &b->as_cap, b->as_len + 1, sizeof *b->as);
    if (rc) return rc;
    basg *a = &b->as[b->as_len++];
    a->slot = o->slot;
    a->first = b->pl_len;
    a->count = count;
    a->value = 0;
    a->prio = o->prio;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t n = h->group != NIL ? s->members[h->first + i] : h->node;
        bplace *p = &b->pl[b->pl_len++];
        memset(p, 0, sizeof *p);
        p->node = n;
        p->asg = b->as_len - 1;
        p->next = NIL;
        if (q->share) {
            uint32_t gi = 0;
            ml_fit(&m->nodes[n], 0, q->share, 0, &gi);
            p->share = q->share;
            p->gpu_index = (uint8_t)gi;
            a->value += unit_value(m, o->prio, &m->nodes[n]) * q->share / 100u;
            rc = take(b, n, 0, q->share, gi);
        } else {
            p->gpus = (uint8_t)s->need;
            a->value += unit_value(m, o->prio, &m->nodes[n]) * s->need;
            rc = take(b, n, s->need, 0, 0);
        }
        if (rc) return rc;
    }
    return GPURENT_OK;
}

static _Thread_local const gpurent_market *plc_market;
static _Thread_local const bplace *plc_base;
static _Thread_local const basg *plc_asgs;
static int plc_cmp(const void *a, const void *b)
{
    const gpurent_match_placement *x = a, *y = b;
    int c = memcmp(x->provider_key, y->provider_key, GPURENT_KEY_BYTES);
    return c ? c : strcmp(x->node_id, y->node_id);
}

static int asg_cmp(const void *a, const void *b)
{
    return strcmp(plc_market->reqs[((const basg *)a)->slot].id, plc_market->reqs[((const basg *)b)->slot].id);
}

static int build_receipt(bstate *b, gpurent_match_receipt *r)
{
    gpurent_market *m = b->m;
    /* Drop the assignments the improvement phase undid. */
    uint32_t live = 0, pls = 0;
    for (uint32_t i = 0; i < b->as_len; i++)
        if (b->as[i].count) {
            pls += b->as[i].count;
            b->as[live++] = b->as[i];
        }
    b->as_len = live;
    plc_market = m;
    if (b->as_len) qsort(b->as, b->as_len, sizeof *b->as, asg_cmp);
    r->assignment_count = b->as_len;
    r->placement_count = pls;
    if ((b->as_len && !(r->assignments = gr_calloc(b->as_len, sizeof *r->assignments))) ||
        (pls && !(r->placements = gr_calloc(pls, sizeof *r->placements))))
        return gr_fail(GPURENT_E_NOMEM, "match: receipt of %u assignments", b->as_len);
    uint32_t next = 0;
    for (uint32_t i = 0; i < b->as_len; i++) {
        const basg *a = &b->as[i];
        gpurent_match_assignment *ra = &r->assignments[i];
        memcpy(ra->request_id, m->reqs[a->slot].id, GPURENT_NAME_MAX);
        ra->value = a->value;
        ra->first_placement = next;
        ra->placement_count = a->count;
        for (uint32_t j = 0; j < a->count; j++) {
            const bplace *p = &b->pl[a->first + j];
            const mnode *n = &m->nodes[p->node];
            gpurent_match_placement *rp = &r->placements[next + j];
            memcpy(rp->provider_key, m->provs[n->provider].key, GPURENT_KEY_BYTES);
            memcpy(rp->node_id, n->id, GPURENT_NAME_MAX);
            rp->gpus = p->gpus;
            rp->share_pct = p->share;
            rp->gpu_index = p->share ? p->gpu_index : 0;
            rp->price_micro_per_gpu_hour = n->price;
        }
        qsort(&r->placements[next], a->count, sizeof *r->placements, plc_cmp);
        next += a->count;
        r->total_value += a->value;
    }
    return GPURENT_OK;
}

/* ---- improvement phase ----
 *
 * After the greedy pass, requests left without a placement try again, in
 * the batch order, for a few rounds: first directly (earlier moves may have
 * freed room), then, for single-node whole-GPU requests, by evicting one or
 * two single-node whole-GPU assignments from a node they could use, placing
 * them there and re-placing the evicted requests on their best placement in
 * what is left (the top-1 search, fit included). An evicted request must find
 * a new place: no request the greedy pass placed ever loses its placement,
 * so the aging guarantee (a request that waited long enough goes first)
 * still holds. A move is taken only when it raises the total value, and
 * never when it leaves the node with a stranded remainder (0 < free < the
 * strand threshold). Gangs and shares are never evicted, so gangs stay all
 * or nothing.
 *
 * Determinism: the candidate nodes are collected whole score level by whole
 * level and then sorted by a total order (static score, keyed hash, provider
 * key, node id); the evictable placements on a node by request id; moves
 * compare integer gains with ties to the first in that order. The work is
 * bounded by a budget of node visits (whole levels, so their count does not
 * depend on the order inside a level), checked only between requests, so
 * where it stops depends on the market alone. */

#define IMP_ROUNDS 3
#define IMP_CANDIDATES 32   /* candidate nodes tried per unplaced request */
#define IMP_EVICTABLE 16   /* placements on one node considered for eviction */

typedef struct icand {
    uint32_t node;
    uint64_t stat, hash;
} icand;

typedef struct istate {
    bstate *b;
    msearch s;
    uint32_t strand;
    icand *cand;
    uint32_t cand_len, cand_cap;
    uint32_t *lists;        /* index lists collect() walks */
    uint32_t lists_cap;
    uint64_t work, budget;  /* nodes visited (collect and searches) */
    uint32_t epoch;         /* bumped whenever a committed move frees capacity */
    uint32_t *tried;        /* per request slot: epoch + 1 of its last failed direct try */
} istate;

static _Thread_local const gpurent_market *icand_market;
static int icand_cmp(const void *a, const void *b)
{
    const icand *x = a, *y = b;
    if (x->stat != y->stat) return x->stat > y->stat ? -1 : 1;
    if (x->hash != y->hash) return x->hash > y->hash ? -1 : 1;
    const gpurent_market *m = icand_market;
    const mnode *nx = &m->nodes[x->node], *ny = &m->nodes[y->node];
    int c = memcmp(m->provs[nx->provider].key, m->provs[ny->provider].key, GPURENT_KEY_BYTES);
    return c ? c : strcmp(nx->id, ny->id);
}

static void chain_link(bstate *b, uint32_t p)
{
    uint32_t n = b->pl[p].node;
    b->pl[p].next = b->node_head[n];
    b->node_head[n] = p;
}

static void chain_unlink(bstate *b, uint32_t p)
{
    uint32_t *at = &b->node_head[b->pl[p].node];
    while (*at != p) at = &b->pl[*at].next;
    *at = b->pl[p].next;
    b->pl[p].next = NIL;
}

/* A placement the improvement phase may move: a single-node whole-GPU one. */
static int evictable(const bstate *b, uint32_t p)
{
    const basg *a = &b->as[b->pl[p].asg];
    return a->count == 1 && !b->pl[p].share;
}

static uint32_t evictable_gpus(const bstate *b, uint32_t n)
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
static int collect(istate *is, const mreq *q, uint32_t need)
{
    bstate *b = is->b;
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
                is->cand[is->cand_len++] = (icand){n, x->stat, ml_tie_hash(m, q->id, x)};
            }
        }
    }
    if (is->cand_len > 1) {
        icand_market = m;
        qsort(is->cand, is->cand_len, sizeof *is->cand, icand_cmp);
    }
    if (is->cand_len > IMP_CANDIDATES) is->cand_len = IMP_CANDIDATES;
    return GPURENT_OK;
}

static int plc_req_cmp(const void *a, const void *b)
{
    const bplace *pl = plc_base;
    return strcmp(plc_market->reqs[plc_asgs[pl[*(const uint32_t *)a].asg].slot].id,
                  plc_market->reqs[plc_asgs[pl[*(const uint32_t *)b].asg].slot].id);
}

/* Apply (for real or on trial) the move: `ev[0..nev)` leave node `n`, the
 * request `u` (priority `prio`) takes `need` GPUs there, the evicted go to
 * their best placement now. Sets *value_in (u's value plus the re-placed
 * values) and, when `commit`, records the assignments. Index changes are
 * logged; a trial is rolled back by the caller. */
static int do_move(istate *is, uint32_t uslot, uint64_t prio, uint32_t n, const uint32_t *ev, uint32_t nev,
                   int commit, uint64_t *value_in)
{
    bstate *b = is->b;
    gpurent_market *m = b->m;
    const mreq *u = &m->reqs[uslot];
    uint32_t need = u->gpu_count;
    int rc = GPURENT_OK;
    for (uint32_t i = 0; i < nev && !rc; i++) {
        if (commit) chain_unlink(b, ev[i]);
        rc = give(b, n, b->pl[ev[i]].gpus);
    }
    if (!rc) rc = take(b, n, need, 0, 0);
    if (rc) return rc;
    uint64_t v = unit_value(m, prio, &m->nodes[n]) * need;
    if (commit) {
        rc = ML_GROW((void **)&b->pl, &b->pl_cap, b->pl_len + 1, sizeof *b->pl);
        if (!rc) rc = ML_GROW((void **)&b->as, &b->as_cap, b->as_len + 1, sizeof *b->as);
        if (rc) return rc;
        basg *a = &b->as[b->as_len];
        a->slot = uslot;
        a->first = b->pl_len;
        a->count = 1;
        a->value = v;
        a->prio = prio;
        bplace *p = &b->pl[b->pl_len];
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
        bplace *p = &b->pl[ev[i]];
        basg *a = &b->as[p->asg];
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
        uint64_t dv = unit_value(m, a->prio, &m->nodes[dest]) * p->gpus;
        v += dv;
        rc = take(b, dest, p->gpus, 0, 0);
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
 * placements from one of its candidate nodes. *moved is set when it was. */
static int try_evict(istate *is, uint32_t uslot, uint64_t prio, int *moved)
{
    bstate *b = is->b;
    gpurent_market *m = b->m;
    const mreq *u = &m->reqs[uslot];
    uint32_t need = u->gpu_count;
    *moved = 0;
    int rc = collect(is, u, need);
    if (rc) return rc;
    uint64_t best_gain = 0;
    uint32_t best_n = NIL, best_ev[2] = {NIL, NIL}, best_nev = 0;
    for (uint32_t ci = 0; ci < is->cand_len; ci++) {
        uint32_t n = is->cand[ci].node;
        const mnode *x = &m->nodes[n];
        uint32_t free = x->gpu_free;
        uint32_t ev[IMP_EVICTABLE], ne = 0;
        for (uint32_t p = b->node_head[n]; p != NIL; p = b->pl[p].next)
            if (evictable(b, p) && ne < IMP_EVICTABLE) ev[ne++] = p;
        if (ne > 1) {
            plc_market = m;
            plc_base = b->pl;
            plc_asgs = b->as;
            qsort(ev, ne, sizeof ev[0], plc_req_cmp);
        }
        uint64_t uval = unit_value(m, prio, x) * need;
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
                    const basg *a = &b->as[b->pl[set[k]].asg];
                    lost += a->value;
                    most += (a->prio + ML_PPM) * b->pl[set[k]].gpus;
                }
                if (most <= lost + best_gain) continue; /* cannot beat the best move */
                uint32_t mark = b->undo_len;
                uint64_t vin = 0;
                rc = do_move(is, uslot, prio, n, set, ns, 0, &vin);
                uint32_t left = m->nodes[n].gpu_free;
                rollback(b, mark);
                if (rc) return rc;
                if (!vin) continue; /* an evicted request found no other place */
                if (left > 0 && left < is->strand) continue; /* would strand GPUs */
                if (vin > lost && vin - lost > best_gain) {
                    best_gain = vin - lost;
                    best_n = n;
                    best_nev = ns;
                    best_ev[0] = ns > 0 ? set[0] : NIL;
                    best_ev[1] = ns > 1 ? set[1] : NIL;
                }
                if (ns == 0) break;
            }
            if (i == ne) break;
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

static int improve(bstate *b, const border *order, uint32_t n, uint32_t strand, uint64_t greedy_work,
                   const gpurent_cancel *cancel)
{
    gpurent_market *m = b->m;
    istate is;
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
                rc = place(b, &is.s, &order[i]);
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

GPURENT_API gpurent_status gpurent_market_match(gpurent_market *m, uint64_t now, const gpurent_cancel *cancel,
                                                gpurent_match_receipt *out)
{
    GR_CHECK_ARG(m && out, "market or out is NULL");
    gpurent_match_receipt r;
    gpurent_match_receipt_init(&r);
    memcpy(r.seed, m->seed, 32);
    r.matched_at = now;
    r.request_count = m->req_live;
    int rc = ml_digests(m, r.offers_digest, r.requests_digest);
    if (!rc) rc = ml_policy_digest(&m->opts, r.policy_digest);
    if (rc) return rc;
    border *order = gr_malloc(((size_t)m->req_live + 1) * sizeof *order);
    if (!order) return gr_fail(GPURENT_E_NOMEM, "match: batch of %u requests", m->req_live);
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->req_used; i++)
        if (m->reqs[i].alive) order[n++].slot = i;
    prep_all(m, order, n, now);
    cmp_market = m;
    qsort(order, n, sizeof *order, border_cmp);

    bstate b;
    memset(&b, 0, sizeof b);
    b.m = m;
    msearch s;
    memset(&s, 0, sizeof s);
    uint32_t strand = ml_strand_min(m);
    uint64_t work = 0;
    for (uint32_t i = 0; i < n && !rc; i++) {
        if ((i & 255) == 0 && gpurent_cancel_requested(cancel)) {
            rc = gr_fail(GPURENT_E_CANCELLED, "match: batch cancelled after %u of %u requests", i, n);
            break;
        }
        rc = ml_search(&s, m, &m->reqs[order[i].slot], 1, strand);
        work += s.scanned;
        if (!rc && s.found) rc = place(&b, &s, &order[i]);
    }
    if (!rc && !m->no_improve) rc = improve(&b, order, n, strand, work, cancel);
    undo_all(&b);
    ml_search_free(&s);
    if (!rc) rc = build_receipt(&b, &r);
    gr_free(order);
    gr_free(b.undo);
    gr_free(b.pl);
    gr_free(b.as);
    gr_free(b.node_head);
    gr_free(b.asg_of);
    if (rc) {
        gpurent_match_receipt_clear(&r);
        return rc;
    }
    *out = r;
    return GPURENT_OK;
}

/* ---- applying a receipt ---- */

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
    bstate b;
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
                rc = take(&b, pt->node, pt->gpus, pt->share, pt->gpu_index);
        }
    }
    undo_all(&b);
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
