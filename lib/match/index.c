/* The incremental index. Nodes are grouped into buckets (one GPU model,
 * shared or dedicated), each bucket into classes of free capacity, each
 * class into score levels holding doubly linked lists, each in ascending
 * price order. Unlinking a node is O(1), linking O(length of its level
 * list); a query walks levels from the best down across the lists a request
 * can use, skipping empty levels with a bitmap, and stops walking a level
 * at its first node above the request's price cap. Searches always finish a
 * level before they stop and rank with a total order, so results never
 * depend on the order inside a level. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "match_internal.h"

/* Whole GPUs: one class per free count up to 8 (most nodes have 1 to 8
 * GPUs), so that a list's best fit for a request is exact and its bound
 * tight; then ranges. Shares use the first six classes. */
static const uint32_t class_max_whole[ML_CLASSES] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 31, GPURENT_NODE_MAX_GPUS};
static const uint32_t class_max_share[ML_CLASSES] = {0, 24, 49, 74, 99, 100, 100, 100, 100, 100, 100, 100};

uint32_t ml_class_max(uint32_t shared, uint32_t cls)
{
    return shared ? class_max_share[cls] : class_max_whole[cls];
}

uint32_t ml_class_of(const mnode *n)
{
    uint32_t v = n->shared ? n->maxshare : n->gpu_free;
    const uint32_t *mx = n->shared ? class_max_share : class_max_whole;
    uint32_t c = 0;
    while (c + 1 < ML_CLASSES && v > mx[c]) c++;
    return c;
}

int ml_bucket_for(gpurent_market *m, uint16_t model, uint8_t shared, uint32_t *out)
{
    uint32_t key = (uint32_t)model * 2u + shared;
    if (key >= m->bucket_of_cap) {
        uint32_t ncap = m->bucket_of_cap ? m->bucket_of_cap : 64;
        while (ncap <= key) ncap *= 2;
        uint16_t *p = gr_realloc(m->bucket_of, (size_t)ncap * sizeof *p);
        if (!p) return gr_fail(GPURENT_E_NOMEM, "market: bucket map");
        memset(p + m->bucket_of_cap, 0, (size_t)(ncap - m->bucket_of_cap) * sizeof *p);
        m->bucket_of = p;
        m->bucket_of_cap = ncap;
    }
    if (m->bucket_of[key]) {
        *out = m->bucket_of[key] - 1u;
        return GPURENT_OK;
    }
    if (m->bucket_live >= ML_MAX_BUCKETS)
        return gr_fail(GPURENT_E_LIMIT, "market: more than %u GPU models (dedicated and shared counted apart)",
                       ML_MAX_BUCKETS);
    /* A reclaimed slot first (creation only: at most ML_MAX_BUCKETS steps).
     * Bucket order never decides a result (searches rank with a total order
     * and read every eligible list), so reuse cannot change one. */
    uint32_t slot = m->bucket_count;
    if (m->bucket_live < m->bucket_count)
        for (slot = 0; m->buckets[slot]; slot++) {
        }
    if (slot == m->bucket_cap) {
        uint32_t ncap = m->bucket_cap ? m->bucket_cap * 2 : 16;
        mbucket **p = gr_realloc(m->buckets, (size_t)ncap * sizeof *p);
        if (!p) return gr_fail(GPURENT_E_NOMEM, "market: buckets");
        m->buckets = p;
        m->bucket_cap = ncap;
    }
    mbucket *b = gr_calloc(1, sizeof *b);
    if (!b) return gr_fail(GPURENT_E_NOMEM, "market: bucket");
    b->model = model;
    b->shared = shared;
    for (uint32_t c = 0; c < ML_CLASSES; c++) memset(b->lists[c].head, 0xff, sizeof b->lists[c].head);
    m->buckets[slot] = b;
    if (slot == m->bucket_count) m->bucket_count++;
    m->bucket_live++;
    m->bucket_of[key] = (uint16_t)(slot + 1u);
    *out = slot;
    return GPURENT_OK;
}

static mbucket *bucket_of(const gpurent_market *m, uint16_t model, uint8_t shared, uint32_t *slot)
{
    uint32_t key = (uint32_t)model * 2u + shared;
    if (key >= m->bucket_of_cap || !m->bucket_of[key]) return NULL;
    *slot = m->bucket_of[key] - 1u;
    return m->buckets[*slot];
}

static void bucket_free(gpurent_market *m, uint32_t slot)
{
    mbucket *b = m->buckets[slot];
    m->bucket_of[(uint32_t)b->model * 2u + b->shared] = 0;
    gr_free(b);
    m->buckets[slot] = NULL;
    m->bucket_live--;
    while (m->bucket_count && !m->buckets[m->bucket_count - 1]) m->bucket_count--;
}

void ml_bucket_ref(gpurent_market *m, uint16_t model, uint8_t shared)
{
    uint32_t slot;
    bucket_of(m, model, shared, &slot)->nodes++; /* made when the offer was prepared */
}

void ml_bucket_unref(gpurent_market *m, uint16_t model, uint8_t shared)
{
    uint32_t slot;
    mbucket *b = bucket_of(m, model, shared, &slot);
    if (b && !--b->nodes) bucket_free(m, slot);
}

void ml_bucket_drop_if_empty(gpurent_market *m, uint16_t model, uint8_t shared)
{
    uint32_t slot;
    mbucket *b = bucket_of(m, model, shared, &slot);
    if (b && !b->nodes) bucket_free(m, slot);
}

uint32_t ml_hbin(uint64_t v)
{
    if (v < 128) return (uint32_t)v;
    uint32_t e = 63u - (uint32_t)__builtin_clzll(v); /* 7..63 */
    return 128u + (e - 7u) * 8u + (uint32_t)((v >> (e - 3u)) & 7u);
}

static void hist_add(mhist *h, uint64_t v)
{
    uint32_t b = ml_hbin(v);
    if (h->count[b]++) return;
    h->bits[b / 64] |= 1ull << (b % 64);
    if (b > h->top) h->top = b;
}

static void hist_del(mhist *h, uint64_t v)
{
    uint32_t b = ml_hbin(v);
    if (--h->count[b]) return;
    h->bits[b / 64] &= ~(1ull << (b % 64));
    if (b != h->top) return;
    h->top = 0;
    for (int w = (ML_HBINS + 63) / 64 - 1; w >= 0; w--)
        if (h->bits[w]) {
            h->top = (uint32_t)w * 64u + 63u - (uint32_t)__builtin_clzll(h->bits[w]);
            break;
        }
}

int ml_bucket_may_serve(const mbucket *bk, const mreq *q)
{
    /* Bins are monotonic: a minimum in a higher bin than every node's value
     * is above every node's value. */
    if (ml_hbin(q->min_vram) > bk->vram.top || ml_hbin(q->min_gflops) > bk->gflops.top ||
        ml_hbin(q->cc) > bk->cc.top || ml_hbin(q->cuda) > bk->cuda.top)
        return 0;
    return !q->iface || (bk->iface_mask >> (q->iface & 7) & 1);
}

static uint32_t level_of(const gpurent_market *m, uint64_t stat)
{
    if (!m->max_static) return 0;
    uint64_t l = stat * (ML_LEVELS - 1) / m->max_static;
    return (uint32_t)(l > ML_LEVELS - 1 ? ML_LEVELS - 1 : l);
}

void ml_level_table(gpurent_market *m)
{
    for (int level = 0; level < ML_LEVELS; level++) {
        /* The largest s with s * (L-1) / max <= level. */
        uint64_t ub = m->max_static ? ((uint64_t)(level + 1) * m->max_static - 1) / (ML_LEVELS - 1) : 0;
        m->level_ub[level] = ub > m->max_static ? m->max_static : ub;
    }
}

void ml_index_link(gpurent_market *m, uint32_t n)
{
    if (m->defer_link) return; /* ml_index_link_all links it */
    mnode *x = &m->nodes[n];
    uint32_t b = m->bucket_of[(uint32_t)x->model * 2u + x->shared] - 1u; /* created when the offer was prepared */
    mbucket *bk = m->buckets[b];
    hist_add(&bk->vram, x->vram_mib);
    hist_add(&bk->gflops, x->gflops);
    hist_add(&bk->cc, x->cc);
    hist_add(&bk->cuda, x->cuda);
    if (!bk->iface_count[x->iface & 7]++) bk->iface_mask |= (uint8_t)(1u << (x->iface & 7));
    uint32_t cls = ml_class_of(x);
    uint32_t lvl = level_of(m, x->stat);
    mlist *l = &bk->lists[cls];
    x->list = b * ML_CLASSES + cls;
    x->level = (uint16_t)lvl;
    /* Keep each level list in ascending price (then slot) order, so that a
     * search with a price cap stops walking a level at its first node above
     * the cap. Level lists are short (a few nodes on average). */
    uint32_t prev = NIL, next = l->head[lvl];
    while (next != NIL && (m->nodes[next].price < x->price || (m->nodes[next].price == x->price && next < n))) {
        prev = next;
        next = m->nodes[next].next;
    }
    x->prev = prev;
    x->next = next;
    if (next != NIL) m->nodes[next].prev = n;
    if (prev != NIL) m->nodes[prev].next = n;
    else l->head[lvl] = n;
    l->bits[lvl / 64] |= 1ull << (lvl % 64);
    l->count++;
}

typedef struct link_key {
    uint64_t price;
    uint32_t slot, half; /* half: the thread that links it (ml_index_link_all) */
} link_key;

/* Stable LSD radix sort of v (k items) by descending price, a byte a
 * pass, skipping the bytes every price shares; tmp holds k items. */
static link_key *sort_price_desc(link_key *v, link_key *tmp, uint32_t k)
{
    uint64_t all_or = 0, all_and = UINT64_MAX;
    for (uint32_t i = 0; i < k; i++) all_or |= v[i].price, all_and &= v[i].price;
    uint32_t count[256];
    for (unsigned shift = 0; shift < 64; shift += 8) {
        if ((((all_or ^ all_and) >> shift) & 0xffu) == 0) continue; /* one digit for all */
        memset(count, 0, sizeof count);
        for (uint32_t i = 0; i < k; i++) count[0xffu - (v[i].price >> shift & 0xffu)]++;
        uint32_t sum = 0;
        for (uint32_t d = 0; d < 256; d++) {
            uint32_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < k; i++) tmp[count[0xffu - (v[i].price >> shift & 0xffu)]++] = v[i];
        link_key *t = v;
        v = tmp;
        tmp = t;
    }
    return v;
}

/* Below this many nodes ml_index_link_all links on one thread (a thread
 * costs more than it saves). */
uint32_t ml_index_link_parallel_min = 8192u;
int ml_index_link_test_no_thread;

/* Half of the nodes to link: those whose key's `half` is `half`. */
typedef struct link_half {
    gpurent_market *m;
    const link_key *s;
    uint32_t k, half;
} link_half;

static void link_half_run(const link_half *h)
{
    for (uint32_t i = 0; i < h->k; i++)
        if (h->s[i].half == h->half) ml_index_link(h->m, h->s[i].slot);
}

static void *link_half_main(void *arg)
{
    link_half_run(arg);
    return NULL;
}

typedef struct bucket_size {
    uint32_t nodes, bucket;
} bucket_size;

static int larger_first(const void *a, const void *b)
{
    const bucket_size *x = a, *y = b;
    if (x->nodes != y->nodes) return x->nodes < y->nodes ? 1 : -1;
    return (x->bucket > y->bucket) - (x->bucket < y->bucket);
}

/* Which half each bucket goes to: the largest first, each to the half with
 * fewer nodes so far. NULL: no memory (then one thread links them all). */
static uint8_t *split_buckets(const gpurent_market *m)
{
    uint32_t n = 0;
    bucket_size *order = gr_malloc((size_t)m->bucket_count * sizeof *order);
    uint8_t *part_of = gr_calloc(m->bucket_count, 1);
    if (!order || !part_of) {
        gr_free(order);
        gr_free(part_of);
        return NULL;
    }
    for (uint32_t b = 0; b < m->bucket_count; b++)
        if (m->buckets[b]) order[n++] = (bucket_size){m->buckets[b]->nodes, b};
    qsort(order, n, sizeof *order, larger_first);
    uint64_t load[2] = {0, 0};
    for (uint32_t i = 0; i < n; i++) {
        uint8_t h = load[1] < load[0];
        part_of[order[i].bucket] = h;
        load[h] += order[i].nodes;
    }
    gr_free(order);
    return part_of;
}

int ml_index_link_all(gpurent_market *m)
{
    m->defer_link = 0;
    uint32_t k = 0;
    for (uint32_t n = 0; n < m->node_used; n++) k += m->nodes[n].alive && m->nodes[n].list == NIL;
    if (!k) return GPURENT_OK;
    link_key *v = gr_malloc((size_t)k * 2 * sizeof *v);
    if (!v) return gr_fail(GPURENT_E_NOMEM, "market: linking %u nodes", k);
    /* A list holds the nodes of one bucket, and linking touches only the
     * node's bucket and its list's nodes: two threads, each linking the
     * nodes of its own buckets in the same order, build the lists and
     * histograms one thread builds. Each key carries its thread, so that
     * neither reads the other's nodes. */
    uint8_t *part_of = k >= ml_index_link_parallel_min && m->bucket_live >= 2 ? split_buckets(m) : NULL;
    k = 0;
    for (uint32_t n = m->node_used; n-- > 0;) { /* descending slots: the sort is stable */
        const mnode *x = &m->nodes[n];
        if (x->alive && x->list == NIL)
            v[k++] = (link_key){x->price, n, part_of ? part_of[m->bucket_of[(uint32_t)x->model * 2u + x->shared] - 1u] : 0};
    }
    /* A level list is in ascending (price, slot) order: linking from the
     * largest down, each node goes in before every node already there. */
    const link_key *s = sort_price_desc(v, v + k, k);
    link_half a = {m, s, k, 0}, b = {m, s, k, 1};
    if (part_of) {
        pthread_t th;
        int started = !ml_index_link_test_no_thread && gr_thread_start(&th, NULL, link_half_main, &b) == 0;
        link_half_run(&a);
        if (started) pthread_join(th, NULL);
        else link_half_run(&b);
        gr_free(part_of);
    } else {
        link_half_run(&a); /* (every key's half is 0) */
    }
    gr_free(v);
    return GPURENT_OK;
}

void ml_index_unlink(gpurent_market *m, uint32_t n)
{
    mnode *x = &m->nodes[n];
    if (x->list == NIL) return;
    mbucket *bk = m->buckets[x->list / ML_CLASSES];
    hist_del(&bk->vram, x->vram_mib);
    hist_del(&bk->gflops, x->gflops);
    hist_del(&bk->cc, x->cc);
    hist_del(&bk->cuda, x->cuda);
    if (!--bk->iface_count[x->iface & 7]) bk->iface_mask &= (uint8_t) ~(1u << (x->iface & 7));
    mlist *l = &bk->lists[x->list % ML_CLASSES];
    if (x->prev != NIL) m->nodes[x->prev].next = x->next;
    else l->head[x->level] = x->next;
    if (x->next != NIL) m->nodes[x->next].prev = x->prev;
    if (l->head[x->level] == NIL) l->bits[x->level / 64] &= ~(1ull << (x->level % 64));
    l->count--;
    x->list = NIL;
    x->prev = x->next = NIL;
}

int ml_list_next(const mlist *l, int from)
{
    if (from >= ML_LEVELS) from = ML_LEVELS - 1;
    while (from >= 0) {
        int w = from / 64;
        uint64_t bits = l->bits[w];
        int off = from % 64;
        if (off < 63) bits &= (2ull << off) - 1;
        if (bits) return w * 64 + 63 - __builtin_clzll(bits);
        from = w * 64 - 1;
    }
    return -1;
}
