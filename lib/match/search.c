/* The search: the best k placements for one request over the index.
 *
 * Levels are visited from the best static score down across every index
 * list the request can use. A whole level is always finished before the
 * search may stop, and it stops only when nothing at or below the next
 * level can reach the k-th result (static bound + the largest fit and
 * locality bonus, compared strictly), so the result is exactly the top k of
 * all feasible placements under the total order (score, then keyed hash,
 * then provider key and node id) — the same whatever the order nodes sit in
 * inside a level.
 *
 * Gangs: a provider-scoped gang evaluates a provider's every node the first
 * time one of them is met, so its best gang is known at once; unseen
 * providers are bounded by gang_nodes x the level bound. A region-scoped
 * gang keeps the best gang_nodes nodes per region and stops when every
 * region's value is settled or bounded below the k-th result. */
#include <stdlib.h>
#include <string.h>

#include "match_internal.h"

#define ML_GROW(p, cap, want, size) ml_grow(p, cap, want, size, "match: search scratch")

typedef struct rgroup {
    uint32_t cnt;
    uint32_t heap;  /* offset into the heap storage: gang_nodes entries */
    uint64_t sum;
    uint8_t touched, settled, pad[2];
} rgroup;

typedef struct mscratch {
    uint8_t *pvis;       /* providers visited (provider gangs) */
    uint32_t pvis_cap;
    uint32_t *touched;   /* providers or regions to reset */
    uint32_t touched_len, touched_cap;
    mhit *pool;          /* provider gang: that provider's feasible nodes */
    uint32_t pool_cap;
    rgroup *rg;          /* region gangs */
    uint32_t rg_cap;
    mhit *heap;          /* region heaps */
    uint32_t heap_len, heap_cap;
    int *cur;            /* per list: next non-empty level */
    uint32_t cur_cap;
    uint64_t *dyn;       /* per list: the largest fit + locality bonus of its nodes */
    uint32_t dyn_cap;
} mscratch;

void ml_search_free(msearch *s)
{
    mscratch *x = s->scratch;
    if (x) {
        gr_free(x->pvis);
        gr_free(x->touched);
        gr_free(x->pool);
        gr_free(x->rg);
        gr_free(x->heap);
        gr_free(x->cur);
        gr_free(x->dyn);
        gr_free(x);
    }
    gr_free(s->lists);
    gr_free(s->members);
    memset(s, 0, sizeof *s);
}

/* ---- ordering ---- */

static uint64_t hit_hash(const msearch *s, mhit *h)
{
    if (!h->has_hash) {
        h->hash = ml_tie_hash(s->m, s->q->id, &s->m->nodes[h->node]);
        h->has_hash = 1;
    }
    return h->hash;
}

int ml_hit_better(const msearch *s, mhit *a, mhit *b)
{
    if (a->total != b->total) return a->total > b->total;
    uint64_t ha = hit_hash(s, a), hb = hit_hash(s, b);
    if (ha != hb) return ha > hb;
    const mnode *na = &s->m->nodes[a->node], *nb = &s->m->nodes[b->node];
    int c = memcmp(s->m->provs[na->provider].key, s->m->provs[nb->provider].key, GPURENT_KEY_BYTES);
    if (c) return c < 0;
    return strcmp(na->id, nb->id) < 0;
}

uint64_t ml_node_total(const msearch *s, const mnode *n, gpurent_match_breakdown *bd)
{
    const gpurent_market *m = s->m;
    uint64_t fit = (uint64_t)m->opts.w_fit * ml_fit(n, s->need, s->share, s->strand, NULL);
    uint64_t st = bd ? ml_static(m, n, bd) : n->stat;
    if (bd) {
        bd->fit = fit;
        bd->locality = s->gangs > 1 ? 0 : (uint64_t)m->opts.w_locality * ML_PPM;
        bd->total = st + fit + bd->locality;
    }
    return st + fit + (s->gangs > 1 ? 0 : (uint64_t)m->opts.w_locality * ML_PPM);
}

/* Keep the k best hits, best first. Members of group hits are copied. */
static int top_insert(msearch *s, mhit *h, const uint32_t *members)
{
    if (s->found == s->k && !ml_hit_better(s, h, &s->top[s->k - 1])) return GPURENT_OK;
    if (members) {
        int rc = ML_GROW((void **)&s->members, &s->members_cap, s->members_len + h->count, sizeof *s->members);
        if (rc) return rc;
        memcpy(s->members + s->members_len, members, (size_t)h->count * sizeof *members);
        h->first = s->members_len;
        s->members_len += h->count;
    }
    uint32_t i = s->found < s->k ? s->found++ : s->k - 1;
    while (i > 0 && ml_hit_better(s, h, &s->top[i - 1])) {
        s->top[i] = s->top[i - 1];
        i--;
    }
    s->top[i] = *h;
    return GPURENT_OK;
}

/* ---- eligible lists ---- */

static int has16(const uint16_t *a, uint32_t n, uint16_t v)
{
    for (uint32_t i = 0; i < n; i++)
        if (a[i] == v) return 1;
    return 0;
}

static int pick_lists(msearch *s)
{
    const gpurent_market *m = s->m;
    const mreq *q = s->q;
    int rc = ML_GROW((void **)&s->lists, &s->list_count, m->bucket_count * ML_CLASSES, sizeof *s->lists);
    if (rc) return rc;
    uint32_t n = 0, want = q->share ? q->share : s->need;
    for (uint32_t b = 0; b < m->bucket_count; b++) {
        const mbucket *bk = m->buckets[b];
        if (!bk || (bk->shared != 0) != (q->share != 0)) continue;
        if (q->lists && q->lists->nm && !has16(ml_l_models(q->lists), q->lists->nm, bk->model)) continue;
        if (!ml_bucket_may_serve(bk, q)) continue;
        for (uint32_t c = ML_CLASSES - 1; c >= 1; c--) {
            if (ml_class_max(bk->shared, c) < want) break;
            if (bk->lists[c].count) s->lists[n++] = b * ML_CLASSES + c;
        }
    }
    return (int)n;
}

static const mlist *list_at(const gpurent_market *m, uint32_t list)
{
    return &m->buckets[list / ML_CLASSES]->lists[list % ML_CLASSES];
}

/* The largest fit any node of a list can offer this request: whole-GPU
 * lists hold nodes with free counts in their class range; share lists may
 * hold a perfect fit. */
static uint64_t list_fit_max(const msearch *s, uint32_t list)
{
    uint32_t cls = list % ML_CLASSES;
    if (s->share) return ML_PPM;
    uint32_t lo = cls ? ml_class_max(0, cls - 1) + 1 : 0, hi = ml_class_max(0, cls), best = 0;
    for (uint32_t f = lo > s->need ? lo : s->need; f <= hi; f++) {
        uint64_t v = ml_fit_whole(f, s->need, s->strand);
        if (v > best) best = (uint32_t)v;
    }
    return best;
}

/* ---- gang helpers ---- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Locality in ppm: the share of the gang's nodes on its most used provider. */
static uint64_t locality_ppm(const msearch *s, uint32_t *members, uint32_t count)
{
    uint32_t provs[GPURENT_REQUEST_MAX_GPUS];
    for (uint32_t i = 0; i < count; i++) provs[i] = s->m->nodes[members[i]].provider;
    qsort(provs, count, sizeof provs[0], cmp_u32);
    uint32_t best = 0, run = 0;
    for (uint32_t i = 0; i < count; i++) {
        run = (i && provs[i] == provs[i - 1]) ? run + 1 : 1;
        if (run > best) best = run;
    }
    return (uint64_t)best * ML_PPM / count;
}

static uint32_t distinct_providers(const msearch *s, const uint32_t *members, uint32_t count)
{
    uint32_t provs[GPURENT_REQUEST_MAX_GPUS], d = 0;
    for (uint32_t i = 0; i < count; i++) provs[i] = s->m->nodes[members[i]].provider;
    qsort(provs, count, sizeof provs[0], cmp_u32);
    for (uint32_t i = 0; i < count; i++) d += !i || provs[i] != provs[i - 1];
    return d;
}

/* Sort hits best first by ml_hit_better, which needs the search (tie hashes
 * and ids live in the market): a heapsort that takes it as an argument, so no
 * comparator context is kept in a global. ml_hit_better is a total order
 * (ties end on (provider key, node id), unique in a market), so any correct
 * sort gives the same order. The heap keeps the worst hit at its root. */
static void hits_sift(const msearch *s, mhit *a, uint32_t root, uint32_t n)
{
    for (;;) {
        uint32_t c = 2 * root + 1;
        if (c >= n) return;
        if (c + 1 < n && ml_hit_better(s, &a[c], &a[c + 1])) c++; /* the worse child */
        if (!ml_hit_better(s, &a[root], &a[c])) return;
        mhit t = a[root];
        a[root] = a[c];
        a[c] = t;
        root = c;
    }
}

static void hits_sort(const msearch *s, mhit *a, uint32_t n)
{
    for (uint32_t i = n / 2; i-- > 0;) hits_sift(s, a, i, n);
    for (uint32_t end = n; end > 1; end--) {
        mhit t = a[0];
        a[0] = a[end - 1];
        a[end - 1] = t;
        hits_sift(s, a, 0, end - 1);
    }
}

/* Turn the best `G` of `pool[0..n)` into a group hit. */
static int group_hit(msearch *s, mhit *pool, uint32_t n, uint32_t group)
{
    uint32_t G = s->gangs, members[GPURENT_REQUEST_MAX_GPUS];
    hits_sort(s, pool, n);
    mhit h = {0};
    for (uint32_t i = 0; i < G; i++) {
        members[i] = pool[i].node;
        h.total += pool[i].total;
    }
    h.total += (uint64_t)G * s->m->opts.w_locality * locality_ppm(s, members, G);
    h.node = pool[0].node;
    h.hash = pool[0].hash;
    h.has_hash = pool[0].has_hash;
    h.group = group;
    h.count = G;
    h.providers = distinct_providers(s, members, G);
    return top_insert(s, &h, members);
}

static int provider_group(msearch *s, uint32_t prov)
{
    mscratch *x = s->scratch;
    const mprov *p = &s->m->provs[prov];
    int rc = ML_GROW((void **)&x->pool, &x->pool_cap, p->node_count, sizeof *x->pool);
    if (rc) return rc;
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->node_count; i++) {
        const mnode *nd = &s->m->nodes[p->nodes[i]];
        s->scanned++;
        if (ml_check(s->m, s->q, nd, 0)) continue;
        mhit h = {0};
        h.total = ml_node_total(s, nd, NULL);
        h.node = p->nodes[i];
        x->pool[n++] = h;
    }
    return n >= s->gangs ? group_hit(s, x->pool, n, prov) : GPURENT_OK;
}

/* Region heaps hold a region's best gang_nodes nodes, worst at the root. */
static void heap_sift(msearch *s, mhit *h, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && ml_hit_better(s, &h[w], &h[l])) w = l;
        if (r < n && ml_hit_better(s, &h[w], &h[r])) w = r;
        if (w == i) return;
        mhit t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static int region_add(msearch *s, uint32_t region, mhit *hit)
{
    mscratch *x = s->scratch;
    rgroup *g = &x->rg[region];
    uint32_t G = s->gangs;
    if (!g->touched) {
        int rc = ML_GROW((void **)&x->heap, &x->heap_cap, x->heap_len + G, sizeof *x->heap);
        if (!rc) rc = ML_GROW((void **)&x->touched, &x->touched_cap, x->touched_len + 1, sizeof *x->touched);
        if (rc) return rc;
        memset(g, 0, sizeof *g);
        g->touched = 1;
        g->heap = x->heap_len;
        x->heap_len += G;
        x->touched[x->touched_len++] = region;
    }
    mhit *h = x->heap + g->heap;
    if (g->cnt < G) {
        /* sift up */
        uint32_t i = g->cnt++;
        h[i] = *hit;
        while (i > 0 && ml_hit_better(s, &h[(i - 1) / 2], &h[i])) {
            mhit t = h[i];
            h[i] = h[(i - 1) / 2];
            h[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
        g->sum += hit->total;
    } else if (ml_hit_better(s, hit, &h[0])) {
        g->sum = g->sum - h[0].total + hit->total;
        h[0] = *hit;
        heap_sift(s, h, G, 0);
    }
    return GPURENT_OK;
}

/* At a level boundary with per-node bound U (or at the end, U_end = 1):
 * settle regions whose set can no longer change and decide whether the
 * search may stop. */
static int region_check(msearch *s, uint64_t U, int end, int *stop)
{
    mscratch *x = s->scratch;
    uint32_t G = s->gangs;
    uint64_t maxloc = (uint64_t)G * s->m->opts.w_locality * ML_PPM;
    uint64_t worst_bound = end ? 0 : (uint64_t)G * U + maxloc; /* unseen regions */
    int any_unsettled_bound = !end;
    for (uint32_t i = 0; i < x->touched_len; i++) {
        rgroup *g = &x->rg[x->touched[i]];
        if (g->settled) continue;
        mhit *h = x->heap + g->heap;
        if (g->cnt == G && (end || U < h[0].total)) {
            int rc = group_hit(s, h, G, x->touched[i]); /* sorts the heap: it is final */
            if (rc) return rc;
            g->settled = 1;
            continue;
        }
        if (end) continue; /* too few nodes: never a gang */
        uint64_t b = g->cnt < G ? g->sum + (uint64_t)(G - g->cnt) * U
                                : g->sum + (uint64_t)G * (U > h[0].total ? U - h[0].total : 0);
        b += maxloc;
        if (b > worst_bound) worst_bound = b;
        any_unsettled_bound = 1;
    }
    *stop = end || (s->found == s->k && (!any_unsettled_bound || worst_bound < s->top[s->k - 1].total));
    return GPURENT_OK;
}

static int prepare_scratch(msearch *s)
{
    if (!s->scratch && !(s->scratch = gr_calloc(1, sizeof(mscratch))))
        return gr_fail(GPURENT_E_NOMEM, "match: search scratch");
    mscratch *x = s->scratch;
    const gpurent_market *m = s->m;
    int rc = GPURENT_OK;
    if (s->gangs > 1 && s->q->scope == GPURENT_GANG_PROVIDER && x->pvis_cap < m->prov_used) {
        gr_free(x->pvis);
        x->pvis_cap = 0;
        if (!(x->pvis = gr_calloc(m->prov_used, 1))) return gr_fail(GPURENT_E_NOMEM, "match: search scratch");
        x->pvis_cap = m->prov_used;
    }
    if (s->gangs > 1 && s->q->scope == GPURENT_GANG_REGION && x->rg_cap < m->regions.count) {
        gr_free(x->rg);
        x->rg_cap = 0;
        if (!(x->rg = gr_calloc(m->regions.count, sizeof *x->rg))) return gr_fail(GPURENT_E_NOMEM, "match: search scratch");
        x->rg_cap = m->regions.count;
    }
    x->touched_len = 0;
    x->heap_len = 0;
    return rc;
}

static void reset_scratch(msearch *s)
{
    mscratch *x = s->scratch;
    for (uint32_t i = 0; i < x->touched_len; i++) {
        if (s->gangs > 1 && s->q->scope == GPURENT_GANG_PROVIDER) x->pvis[x->touched[i]] = 0;
        else x->rg[x->touched[i]].touched = 0;
    }
    x->touched_len = 0;
}

/* Visit one node met in the index. */
static int visit(msearch *s, uint32_t n)
{
    const gpurent_market *m = s->m;
    const mnode *nd = &m->nodes[n];
    mscratch *x = s->scratch;
    s->scanned++;
    if (s->gangs > 1 && s->q->scope == GPURENT_GANG_PROVIDER) {
        if (x->pvis[nd->provider]) return GPURENT_OK;
        if (ml_check(m, s->q, nd, 0)) return GPURENT_OK;
        int rc = ML_GROW((void **)&x->touched, &x->touched_cap, x->touched_len + 1, sizeof *x->touched);
        if (rc) return rc;
        x->pvis[nd->provider] = 1;
        x->touched[x->touched_len++] = nd->provider;
        return provider_group(s, nd->provider);
    }
    if (ml_check(m, s->q, nd, 0)) return GPURENT_OK;
    mhit h = {0};
    h.total = ml_node_total(s, nd, NULL);
    h.node = n;
    h.group = NIL;
    h.count = 1;
    h.providers = 1;
    if (s->gangs > 1) return region_add(s, m->provs[nd->provider].region, &h);
    return top_insert(s, &h, NULL);
}

int ml_search(msearch *s, const gpurent_market *m, const mreq *q, uint32_t k, uint32_t strand)
{
    s->m = m;
    s->q = q;
    s->k = k;
    s->found = 0;
    s->members_len = 0;
    s->scanned = 0;
    s->strand = strand;
    s->share = q->share;
    s->need = q->share ? 0 : q->gpu_count / q->gang_nodes;
    s->gangs = q->share ? 1 : q->gang_nodes;
    int rc = prepare_scratch(s);
    if (rc) return rc;
    int nl = pick_lists(s);
    if (nl < 0) return nl;
    mscratch *x = s->scratch;
    if ((rc = ML_GROW((void **)&x->cur, &x->cur_cap, (uint32_t)nl + 1, sizeof *x->cur)) ||
        (rc = ML_GROW((void **)&x->dyn, &x->dyn_cap, (uint32_t)nl + 1, sizeof *x->dyn)))
        return rc;
    const int region = s->gangs > 1 && q->scope == GPURENT_GANG_REGION;
    const uint64_t loc = s->gangs > 1 ? 0 : (uint64_t)m->opts.w_locality * ML_PPM;
    int lvl = -1;
    for (int i = 0; i < nl; i++) {
        x->cur[i] = ml_list_next(list_at(m, s->lists[i]), ML_LEVELS - 1);
        if (x->cur[i] > lvl) lvl = x->cur[i];
        x->dyn[i] = loc + (uint64_t)m->opts.w_fit * list_fit_max(s, s->lists[i]);
    }
    while (lvl >= 0) {
        /* Bounds per list: a list whose best remaining node cannot reach
         * the k-th result is done (single nodes); groups use the largest. */
        uint64_t U = 0;
        int next = -1;
        for (int i = 0; i < nl; i++) {
            if (x->cur[i] < 0) continue;
            uint64_t b = ml_level_ub(m, x->cur[i]) + x->dyn[i];
            if (s->gangs == 1 && s->found == s->k && b < s->top[s->k - 1].total) {
                x->cur[i] = -1;
                continue;
            }
            if (b > U) U = b;
            if (x->cur[i] > next) next = x->cur[i];
        }
        lvl = next;
        if (lvl < 0) break;
        int stop = 0;
        if (region) {
            if ((rc = region_check(s, U, 0, &stop))) break;
        } else if (s->gangs > 1 && s->found == s->k) {
            /* An unseen provider's gang: gang_nodes nodes at most U each,
             * plus the locality bonus every one-provider gang earns. */
            stop = (uint64_t)s->gangs * U + (uint64_t)s->gangs * m->opts.w_locality * ML_PPM <
                   s->top[s->k - 1].total;
        }
        if (stop) break;
        for (int i = 0; i < nl && !rc; i++) {
            if (x->cur[i] != lvl) continue;
            for (uint32_t n = list_at(m, s->lists[i])->head[lvl]; n != NIL && !rc; n = m->nodes[n].next) {
                if (q->max_price && m->nodes[n].price > q->max_price) break; /* the rest of the level costs more */
                rc = visit(s, n);
            }
            x->cur[i] = ml_list_next(list_at(m, s->lists[i]), lvl - 1);
        }
        if (rc) break;
    }
    if (!rc && region && lvl < 0) {
        int stop;
        rc = region_check(s, 0, 1, &stop);
    }
    reset_scratch(s);
    return rc;
}

void ml_fill_candidate(const msearch *s, const mhit *h, gpurent_match_candidate *c)
{
    const gpurent_market *m = s->m;
    const mnode *n = &m->nodes[h->node];
    const mprov *p = &m->provs[n->provider];
    memset(c, 0, sizeof *c);
    memcpy(c->provider_key, p->key, GPURENT_KEY_BYTES);
    memcpy(c->node_id, n->id, sizeof c->node_id);
    memcpy(c->region, m->regions.name[p->region], GPURENT_REGION_MAX - 1);
    memcpy(c->model, m->models.name[n->model], GPURENT_NAME_MAX);
    c->node_count = h->count;
    c->provider_count = h->providers;
    c->price_micro_per_gpu_hour = n->price;
    gpurent_match_breakdown *bd = &c->breakdown;
    if (h->count <= 1 || h->group == NIL) {
        ml_node_total(s, n, bd);
    } else {
        for (uint32_t i = 0; i < h->count; i++) {
            gpurent_match_breakdown b;
            ml_node_total(s, &m->nodes[s->members[h->first + i]], &b);
            bd->price += b.price;
            bd->perf_price += b.perf_price;
            bd->tier += b.tier;
            bd->score += b.score;
            bd->stake += b.stake;
            bd->fit += b.fit;
        }
        bd->locality = h->total - (bd->price + bd->perf_price + bd->tier + bd->score + bd->stake + bd->fit);
        bd->total = h->total;
    }
    bd->tie_hash = ml_tie_hash(m, s->q->id, n);
}
