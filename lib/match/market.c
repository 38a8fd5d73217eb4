/* The market handle: providers, their indexed nodes, pending requests and
 * leases. Every update touches only the entries it changes (and their index
 * links), never the whole market. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../wire/mp_internal.h"
#include "match_internal.h"
#include "models_internal.h"

/* ---- hashing and lookups ---- */

uint32_t ml_hash(const gpurent_market *m, const void *a, size_t alen, const void *b, size_t blen)
{
    uint8_t buf[GPURENT_KEY_BYTES + GPURENT_NAME_MAX];
    uint8_t out[crypto_shorthash_BYTES];
    memcpy(buf, a, alen);
    if (blen) memcpy(buf + alen, b, blen);
    crypto_shorthash(out, buf, alen + blen, m->hkey);
    uint32_t h;
    memcpy(&h, out, 4);
    return h;
}

static int prov_eq(const void *ctx, uint32_t slot, const void *key)
{
    return memcmp(((const gpurent_market *)ctx)->provs[slot].key, key, GPURENT_KEY_BYTES) == 0;
}

uint32_t ml_prov_find(const gpurent_market *m, const uint8_t key[GPURENT_KEY_BYTES])
{
    return mtab_find(&m->prov_tab, ml_hash(m, key, GPURENT_KEY_BYTES, NULL, 0), m, prov_eq, key);
}

typedef struct node_key {
    uint32_t prov;
    const char *id;
} node_key;

static int node_eq(const void *ctx, uint32_t slot, const void *key)
{
    const mnode *n = &((const gpurent_market *)ctx)->nodes[slot];
    const node_key *k = key;
    return n->provider == k->prov && strcmp(n->id, k->id) == 0;
}

static uint32_t node_hash(const gpurent_market *m, uint32_t prov, const char *id)
{
    return ml_hash(m, m->provs[prov].key, GPURENT_KEY_BYTES, id, strlen(id));
}

uint32_t ml_node_find(const gpurent_market *m, uint32_t prov, const char *id)
{
    node_key k = {prov, id};
    return mtab_find(&m->node_tab, node_hash(m, prov, id), m, node_eq, &k);
}

static int req_eq(const void *ctx, uint32_t slot, const void *key)
{
    return strcmp(((const gpurent_market *)ctx)->reqs[slot].id, key) == 0;
}

uint32_t ml_req_find(const gpurent_market *m, const char *id)
{
    return mtab_find(&m->req_tab, ml_hash(m, id, strlen(id), NULL, 0), m, req_eq, id);
}

static int lease_eq(const void *ctx, uint32_t slot, const void *key)
{
    return strcmp(((const gpurent_market *)ctx)->leases[slot].id, key) == 0;
}

static uint32_t lease_find(const gpurent_market *m, const char *id)
{
    return mtab_find(&m->lease_tab, ml_hash(m, id, strlen(id), NULL, 0), m, lease_eq, id);
}

/* ---- interned names (models, regions) ---- */

typedef struct name_ctx {
    const mnames *n;
} name_ctx;

static int name_eq(const void *ctx, uint32_t slot, const void *key)
{
    return strcmp(((const mnames *)ctx)->name[slot], key) == 0;
}

uint32_t ml_name_find(const mnames *n, const gpurent_market *m, const char *s)
{
    uint32_t r = mtab_find(&n->tab, ml_hash(m, s, strlen(s), NULL, 0), n, name_eq, s);
    return r == NIL ? ML_NONE : r;
}

static void name_ref(mnames *n, uint32_t id, int kind)
{
    if (kind == ML_REF_OFFER) {
        if (!n->orefs[id]++ && n->qrefs[id]) n->req_only--;
    } else {
        n->qrefs[id]++;
    }
}

static int names_grow(mnames *n)
{
    uint32_t ncap = n->cap ? n->cap * 2 : 16;
    void *p = gr_realloc(n->name, (size_t)ncap * GPURENT_NAME_MAX);
    if (p) n->name = p;
    uint32_t *o = p ? gr_realloc(n->orefs, (size_t)ncap * sizeof *o) : NULL;
    if (o) n->orefs = o;
    uint32_t *q = o ? gr_realloc(n->qrefs, (size_t)ncap * sizeof *q) : NULL;
    if (!q) return gr_fail(GPURENT_E_NOMEM, "market: names");
    n->qrefs = q;
    n->cap = ncap;
    return GPURENT_OK;
}

/* The id of `s`, made if new, with one more reference of `kind`. */
static int name_intern(gpurent_market *m, mnames *n, const char *s, uint16_t *out, int kind)
{
    /* nodes and requests come with the same names in runs: the last id, if
     * its slot still holds this name (a freed slot holds ""; names are
     * unique), saves the hash and the lookup */
    uint32_t id = n->last < n->count && n->name[n->last][0] && strcmp(n->name[n->last], s) == 0
                      ? n->last
                      : ml_name_find(n, m, s);
    if (id != ML_NONE) {
        name_ref(n, id, kind);
        *out = (uint16_t)id;
        n->last = id;
        return GPURENT_OK;
    }
    if (n->live >= ML_MAX_NAMES) return gr_fail(GPURENT_E_LIMIT, "market: more than %u distinct names", ML_MAX_NAMES);
    if (kind == ML_REF_REQUEST && n->req_only >= ML_MAX_REQ_NAMES)
        return gr_fail(GPURENT_E_LIMIT, "market: more than %u names that only pending requests use ('%s')",
                       ML_MAX_REQ_NAMES, s);
    int rc;
    if (n->free_head == NIL && n->count == n->cap && (rc = names_grow(n))) return rc;
    id = n->free_head != NIL ? n->free_head : n->count;
    if ((rc = mtab_put(&n->tab, ml_hash(m, s, strlen(s), NULL, 0), id))) return rc;
    if (id == n->count) n->count++;
    else n->free_head = n->orefs[id];
    ml_strcpy(n->name[id], GPURENT_NAME_MAX, s);
    n->orefs[id] = n->qrefs[id] = 0;
    n->live++;
    if (kind == ML_REF_REQUEST) n->req_only++;
    name_ref(n, id, kind);
    *out = (uint16_t)id;
    n->last = id;
    return GPURENT_OK;
}

/* Drop one reference of `kind`; the last one frees the id. */
static void name_release(gpurent_market *m, mnames *n, uint32_t id, int kind)
{
    if (kind == ML_REF_OFFER) {
        if (!--n->orefs[id] && n->qrefs[id]) n->req_only++;
    } else if (!--n->qrefs[id] && n->orefs[id] == 0) {
        n->req_only--;
    }
    if (n->orefs[id] || n->qrefs[id]) return;
    mtab_del(&n->tab, ml_hash(m, n->name[id], strlen(n->name[id]), NULL, 0), id);
    memset(n->name[id], 0, GPURENT_NAME_MAX);
    n->orefs[id] = n->free_head;
    n->free_head = id;
    n->live--;
}

static void names_free(mnames *n)
{
    mtab_free(&n->tab);
    gr_free(n->name);
    gr_free(n->orefs);
    gr_free(n->qrefs);
}

/* ---- slot arrays ---- */

/* Room for `want` entries in a slot array (zeroed past its old capacity).
 * `exact`: just `want` (a size known in advance, as a snapshot's); else
 * 1.25x growth: large markets keep little slack (the memory goal is per
 * entry). A first allocation is calloc'd: fresh pages come zeroed. */
static int reserve_to(void **arr, uint32_t *cap, uint32_t want, size_t size, const char *what, int exact)
{
    if (want <= *cap) return GPURENT_OK;
    /* at least 16 when growing: an exact capacity may be 1 to 3, which 1.25x never grows */
    uint64_t ncap = exact ? want : *cap > 16 ? *cap : 16;
    while (ncap < want) ncap += ncap / 4;
    if (ncap > (1u << 30)) return gr_fail(GPURENT_E_LIMIT, "market: more than 2^30 %s", what);
    void *p = *cap ? gr_realloc(*arr, (size_t)ncap * size) : gr_calloc((size_t)ncap, size);
    if (!p) return gr_fail(GPURENT_E_NOMEM, "market: %s", what);
    if (*cap) memset((char *)p + (size_t)*cap * size, 0, (size_t)(ncap - *cap) * size);
    else gr_free(*arr);
    if (exact) gr_mem_large(p, (size_t)ncap * size); /* a large array filled at once: huge pages if the OS has them */
    *arr = p;
    *cap = (uint32_t)ncap;
    return GPURENT_OK;
}

static int reserve(void **arr, uint32_t *cap, uint32_t want, size_t size, const char *what)
{
    return reserve_to(arr, cap, want, size, what, 0);
}

int ml_market_presize(gpurent_market *m, uint32_t provs, uint32_t nodes, uint32_t reqs)
{
    int rc;
    if ((rc = reserve_to((void **)&m->provs, &m->prov_cap, m->prov_used + provs, sizeof *m->provs, "providers", 1)) ||
        (rc = reserve_to((void **)&m->nodes, &m->node_cap, m->node_used + nodes, sizeof *m->nodes, "nodes", 1)) ||
        (rc = reserve_to((void **)&m->reqs, &m->req_cap, m->req_used + reqs, sizeof *m->reqs, "requests", 1)))
        return rc;
    /* The hash tables are left to grow as entries come: sized for all at
     * once, every put misses the cache of a table that large (measured:
     * 10 ms more on a load of 100 000 nodes and requests). */
    return GPURENT_OK;
}

/* Free slots form a chain through a u32 field of the dead entry. */
#define SLOT_ALLOC(m, arr, used, freehead, link, out)      \
    do {                                                 \
        if ((m)->freehead != NIL) {                      \
            (out) = (m)->freehead;                       \
            (m)->freehead = (m)->arr[out].link;          \
        } else {                                         \
            (out) = (m)->used++;                         \
        }                                                \
    } while (0)

/* ---- handle ---- */

GPURENT_API gpurent_status gpurent_market_new(gpurent_market **out, const gpurent_match_options *opts,
                                              const uint8_t seed[GPURENT_DIGEST_BYTES])
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    int rc = gr_ensure_init();
    if (rc) return rc;
    gpurent_match_options o = GPURENT_MATCH_OPTIONS_INIT;
    if (opts) {
        if ((rc = gpurent_match_options_validate(opts))) return rc;
        o = *opts;
    }
    gpurent_market *m = gr_calloc(1, sizeof *m);
    if (!m) return gr_fail(GPURENT_E_NOMEM, "market");
    m->opts = o;
    ml_opts_resolve(&m->opts);
    ml_weights_update(m);
    if (seed) memcpy(m->seed, seed, sizeof m->seed);
    randombytes_buf(m->hkey, sizeof m->hkey);
    m->node_free_head = m->prov_free_head = m->req_free_head = m->lease_free_head = NIL;
    m->models.free_head = m->regions.free_head = NIL;
    m->claim_free_head = NIL;
    *out = m;
    return GPURENT_OK;
}

GPURENT_API void gpurent_market_free(gpurent_market *m)
{
    if (!m) return;
    for (uint32_t i = 0; i < m->node_used; i++) gr_free(m->nodes[i].share);
    for (uint32_t i = 0; i < m->prov_used; i++) gr_free(m->provs[i].nodes);
    for (uint32_t i = 0; i < m->req_used; i++) gr_free(m->reqs[i].lists);
    for (uint32_t i = 0; i < m->lease_used; i++) gr_free(m->leases[i].parts);
    for (uint32_t i = 0; i < m->bucket_count; i++) gr_free(m->buckets[i]); /* NULL where reclaimed */
    gr_free(m->buckets);
    gr_free(m->bucket_of);
    gr_free(m->nodes);
    gr_free(m->provs);
    gr_free(m->reqs);
    gr_free(m->leases);
    mtab_free(&m->prov_tab);
    mtab_free(&m->node_tab);
    mtab_free(&m->req_tab);
    mtab_free(&m->lease_tab);
    names_free(&m->models);
    names_free(&m->regions);
    ml_gpuid_free(m);
    gr_free(m);
}

GPURENT_API gpurent_status gpurent_market_set_seed(gpurent_market *m, const uint8_t seed[GPURENT_DIGEST_BYTES])
{
    GR_CHECK_ARG(m && seed, "market or seed is NULL");
    memcpy(m->seed, seed, sizeof m->seed);
    return GPURENT_OK;
}

static void rescore(gpurent_market *m, uint32_t n)
{
    mnode *x = &m->nodes[n];
    ml_index_unlink(m, n);
    x->stat = ml_static(m, x, NULL);
    ml_index_link(m, n);
}

GPURENT_API gpurent_status gpurent_market_set_options(gpurent_market *m, const gpurent_match_options *opts)
{
    GR_CHECK_ARG(m && opts, "market or options is NULL");
    int rc = gpurent_match_options_validate(opts);
    if (rc) return rc;
    m->opts = *opts;
    ml_opts_resolve(&m->opts);
    ml_weights_update(m);
    for (uint32_t i = 0; i < m->node_used; i++)
        if (m->nodes[i].alive) rescore(m, i);
    return GPURENT_OK;
}

/* ---- nodes ---- */

static uint8_t max_share(const mnode *n)
{
    uint8_t mx = 0;
    for (uint32_t i = 0; i < n->gpu_count; i++)
        if (n->share[i] > mx) mx = n->share[i];
    return mx;
}

/* A node whose free capacity changed moves to another index list only when
 * its capacity class changed: linking keeps level lists in price order and
 * costs a walk, and most changes keep the class. */
static void relink_if_moved(gpurent_market *m, uint32_t n)
{
    const mnode *x = &m->nodes[n];
    if (x->list != NIL && x->list % ML_CLASSES == ml_class_of(x)) return;
    ml_index_unlink(m, n);
    ml_index_link(m, n);
}

void ml_node_set_free(gpurent_market *m, uint32_t n, uint32_t gpu_free)
{
    mnode *x = &m->nodes[n];
    x->gpu_free = (uint8_t)(gpu_free > x->gpu_count ? x->gpu_count : gpu_free);
    relink_if_moved(m, n);
}

void ml_node_set_share(gpurent_market *m, uint32_t n, uint32_t gpu, uint32_t pct)
{
    mnode *x = &m->nodes[n];
    x->share[gpu] = (uint8_t)(pct > 100 ? 100 : pct);
    uint32_t whole = 0;
    for (uint32_t i = 0; i < x->gpu_count; i++) whole += x->share[i] == 100;
    x->gpu_free = (uint8_t)whole;
    x->maxshare = max_share(x);
    relink_if_moved(m, n);
}

static uint64_t digest_prefix(const uint8_t d[GPURENT_DIGEST_BYTES])
{
    uint64_t v;
    memcpy(&v, d, 8);
    return v;
}

/* Copy an offered node's terms into a node entry (index links untouched). */
static void node_fill(mnode *x, const gpurent_node *src, uint32_t prov, uint16_t model, uint8_t *share)
{
    const gpurent_gpu *g = &src->gpu;
    ml_strcpy(x->id, sizeof x->id, src->node_id);
    x->price = src->price_micro_per_gpu_hour;
    x->ram_mib = src->ram_mib;
    x->disk_gib = src->disk_gib;
    x->vram_mib = g->memory_mib;
    x->gflops = g->measured_fp32_gflops ? g->measured_fp32_gflops : g->fp32_gflops;
    x->provider = prov;
    x->cuda = g->cuda_version;
    x->cpu = src->cpu_millicores;
    x->model = model;
    x->cc = (uint8_t)(g->cc_major * 10 + g->cc_minor > 255 ? 255 : g->cc_major * 10 + g->cc_minor);
    x->iface = (uint8_t)g->interface;
    x->gpu_count = (uint8_t)src->gpu_count;
    x->gpu_free = (uint8_t)src->gpu_free;
    x->shared = (uint8_t)src->shared;
    gr_free(x->share);
    x->share = share;
    x->maxshare = 0;
    if (share) {
        for (uint32_t i = 0; i < src->gpu_count; i++) share[i] = i < src->gpu_free ? 100 : 0;
        x->maxshare = src->gpu_free ? 100 : 0;
    }
    x->alive = ML_NODE_LIVE;
}

static void node_remove(gpurent_market *m, uint32_t n)
{
    mnode *x = &m->nodes[n];
    ml_gpuid_node_drop(m, n);
    ml_index_unlink(m, n);
    ml_bucket_unref(m, x->model, x->shared);
    name_release(m, &m->models, x->model, ML_REF_OFFER);
    mtab_del(&m->node_tab, node_hash(m, x->provider, x->id), n);
    gr_free(x->share);
    uint32_t gen = x->gen + 1;
    memset(x, 0, sizeof *x);
    x->gen = gen;
    x->list = NIL;
    x->next = m->node_free_head;
    m->node_free_head = n;
    m->node_live--;
}

/* ---- offers ---- */

static int offer_digest(const gpurent_offer *o, uint8_t out[GPURENT_DIGEST_BYTES])
{
    gpurent_buf b = {NULL, 0};
    int rc = gpurent_offer_encode(o, &b);
    if (rc) return rc;
    crypto_generichash(out, GPURENT_DIGEST_BYTES, b.data, b.len, NULL, 0);
    gpurent_buf_free(&b);
    return GPURENT_OK;
}

/* Everything that can fail is done before the market changes. */
typedef struct offer_prep {
    uint16_t region;
    uint8_t has_region;
    uint32_t nmodels;      /* models interned (each holds a reference) */
    uint16_t *models;
    uint8_t **shares;
    uint32_t *slots;
    uint8_t digest[GPURENT_DIGEST_BYTES];
} offer_prep;

/* Undo what a failed offer_prepare took: name references and buckets
 * made for it that no node came to use. */
static void prep_undo(gpurent_market *m, const gpurent_offer *o, offer_prep *p)
{
    for (uint32_t i = 0; i < p->nmodels; i++) {
        ml_bucket_drop_if_empty(m, p->models[i], (uint8_t)o->nodes[i].shared);
        name_release(m, &m->models, p->models[i], ML_REF_OFFER);
    }
    if (p->has_region) name_release(m, &m->regions, p->region, ML_REF_OFFER);
    p->nmodels = 0;
    p->has_region = 0;
}

static int node_kind_cmp(const void *a, const void *b)
{
    const gpurent_node *x = *(const gpurent_node *const *)a, *y = *(const gpurent_node *const *)b;
    int c = strcmp(x->gpu.model, y->gpu.model);
    return c ? c : (int)(x->shared != 0) - (int)(y->shared != 0);
}

/* Distinct (model, shared) pairs of an offer, before anything is interned:
 * one provider may not claim more than ML_PROV_BUCKETS buckets. */
static int offer_kinds_check(const gpurent_offer *o)
{
    const gpurent_node **v = gr_malloc((size_t)o->node_count * sizeof *v);
    if (!v) return gr_fail(GPURENT_E_NOMEM, "market: offer of %u nodes", o->node_count);
    for (uint32_t i = 0; i < o->node_count; i++) v[i] = &o->nodes[i];
    qsort(v, o->node_count, sizeof *v, node_kind_cmp);
    uint32_t kinds = o->node_count ? 1 : 0;
    for (uint32_t i = 1; i < o->node_count; i++) kinds += node_kind_cmp(&v[i - 1], &v[i]) != 0;
    gr_free(v);
    if (kinds > ML_PROV_BUCKETS)
        return gr_fail(GPURENT_E_LIMIT, "offer: %u GPU models (dedicated and shared counted apart), a provider may offer %u",
                       kinds, ML_PROV_BUCKETS);
    return GPURENT_OK;
}

static void prep_free(offer_prep *p, uint32_t count)
{
    if (p->shares)
        for (uint32_t i = 0; i < count; i++) gr_free(p->shares[i]);
    gr_free(p->shares);
    gr_free(p->models);
    gr_free(p->slots);
}

static int offer_prepare(gpurent_market *m, const gpurent_offer *o, const uint8_t *digest, offer_prep *p)
{
    memset(p, 0, sizeof *p);
    int rc = GPURENT_OK;
    if (digest) memcpy(p->digest, digest, sizeof p->digest);
    else rc = offer_digest(o, p->digest);
    if (!rc) rc = offer_kinds_check(o);
    if (rc) return rc;
    if ((rc = name_intern(m, &m->regions, o->region, &p->region, ML_REF_OFFER))) return rc;
    p->has_region = 1;
    p->models = gr_calloc(o->node_count, sizeof *p->models);
    p->shares = gr_calloc(o->node_count, sizeof *p->shares);
    p->slots = gr_calloc(o->node_count, sizeof *p->slots);
    if (!p->models || !p->shares || !p->slots) return gr_fail(GPURENT_E_NOMEM, "market: offer of %u nodes", o->node_count);
    const char *last = NULL, *canon = NULL;
    for (uint32_t i = 0; i < o->node_count; i++) {
        const gpurent_node *src = &o->nodes[i];
        uint32_t b;
        /* The model table's canonical id where it knows the name (pure: the
         * table's digest is in the policy digest); the name as given where not. */
        if (!last || strcmp(last, src->gpu.model)) { /* nodes of one offer mostly share a model */
            last = src->gpu.model;
            canon = ml_model_canonical(last);
        }
        if ((rc = name_intern(m, &m->models, canon ? canon : src->gpu.model, &p->models[i], ML_REF_OFFER))) return rc;
        p->nmodels = i + 1;
        if ((rc = ml_bucket_for(m, p->models[i], (uint8_t)src->shared, &b))) return rc;
        if (src->shared && !(p->shares[i] = gr_malloc(src->gpu_count)))
            return gr_fail(GPURENT_E_NOMEM, "market: shares of node '%s'", src->node_id);
    }
    if ((rc = reserve((void **)&m->nodes, &m->node_cap, m->node_used + o->node_count, sizeof *m->nodes, "nodes")))
        return rc;
    if ((rc = reserve((void **)&m->provs, &m->prov_cap, m->prov_used + 1, sizeof *m->provs, "providers"))) return rc;
    if ((rc = mtab_reserve(&m->node_tab, o->node_count)) || (rc = mtab_reserve(&m->prov_tab, 1))) return rc;
    return GPURENT_OK;
}

static int put_offer(gpurent_market *m, const gpurent_offer *o, const uint8_t *digest)
{
    int rc = gpurent_offer_validate(o);
    if (rc) return rc;
    uint32_t pi = m->fresh_keys ? NIL : ml_prov_find(m, o->provider_key);
    int existed = pi != NIL;
    if (pi != NIL && o->seq <= m->provs[pi].seq)
        return gr_fail(GPURENT_E_EXISTS, "offer.seq: %llu not above the market's %llu for this provider",
                       (unsigned long long)o->seq, (unsigned long long)m->provs[pi].seq);
    if ((rc = ml_gpuid_prepare(m, pi, o))) return rc; /* one GPU, one place (gpuid.c) */
    offer_prep p;
    if ((rc = offer_prepare(m, o, digest, &p))) {
        prep_undo(m, o, &p);
        prep_free(&p, o->node_count);
        return rc;
    }
    /* The new nodes count in their buckets before the old ones leave theirs,
     * so a bucket both use is never freed on the way. */
    for (uint32_t i = 0; i < o->node_count; i++) ml_bucket_ref(m, p.models[i], (uint8_t)o->nodes[i].shared);
    if (pi == NIL) {
        SLOT_ALLOC(m, provs, prov_used, prov_free_head, node_count, pi);
        memset(&m->provs[pi], 0, sizeof m->provs[pi]);
        memcpy(m->provs[pi].key, o->provider_key, GPURENT_KEY_BYTES);
        mtab_put(&m->prov_tab, ml_hash(m, o->provider_key, GPURENT_KEY_BYTES, NULL, 0), pi); /* reserved */
        m->provs[pi].alive = 1;
        m->prov_live++;
    }
    mprov *pv = &m->provs[pi];
    if (existed) name_release(m, &m->regions, pv->region, ML_REF_OFFER); /* the old offer's */
    pv->seq = o->seq;
    pv->stake = o->stake_micro;
    pv->min_dur = o->min_duration_s;
    pv->max_dur = o->max_duration_s;
    pv->region = p.region;
    memcpy(pv->digest, p.digest, sizeof pv->digest);
    /* Nodes of the old offer that the new one keeps are updated in place;
     * the others leave. Marking by slot keeps this linear in the nodes. */
    for (uint32_t i = 0; i < o->node_count; i++) {
        const gpurent_node *src = &o->nodes[i];
        uint32_t n = existed ? ml_node_find(m, pi, src->node_id) : NIL; /* a new provider has no nodes */
        uint8_t verified = 0;
        if (n == NIL) {
            SLOT_ALLOC(m, nodes, node_used, node_free_head, next, n);
            uint32_t gen = m->nodes[n].gen;
            memset(&m->nodes[n], 0, sizeof m->nodes[n]);
            m->nodes[n].gen = gen;
            m->nodes[n].list = NIL;
            m->node_live++;
            m->nodes[n].provider = pi;
            ml_strcpy(m->nodes[n].id, sizeof m->nodes[n].id, src->node_id);
            mtab_put(&m->node_tab, node_hash(m, pi, src->node_id), n); /* reserved */
        } else {
            ml_index_unlink(m, n);
            /* A verification holds for the report it checked. */
            verified = m->nodes[n].verified && digest_prefix(src->report_digest) == m->nodes[n].report;
            /* A node that changes shape (shared or dedicated, GPU count) is
             * a new node under the same id: leases on the old shape hold
             * placements (GPU indices, shares) that mean nothing on the new
             * one, so they must never be returned to it. */
            if (m->nodes[n].shared != (src->shared != 0) || m->nodes[n].gpu_count != src->gpu_count)
                m->nodes[n].gen++;
        }
        mnode *x = &m->nodes[n];
        uint16_t old_model = x->model;
        uint8_t old_shared = x->shared, was_alive = x->alive;
        node_fill(x, src, pi, p.models[i], p.shares[i]);
        p.shares[i] = NULL;
        if (was_alive) {
            ml_bucket_unref(m, old_model, old_shared);
            name_release(m, &m->models, old_model, ML_REF_OFFER);
        }
        x->verified = verified;
        x->report = digest_prefix(src->report_digest);
        x->region = pv->region;
        x->tier = pv->tier;
        x->min_dur = pv->min_dur;
        x->max_dur = pv->max_dur;
        p.slots[i] = n;
    }
    /* Drop the old nodes the new offer does not list. */
    for (uint32_t i = 0; i < pv->node_count; i++) {
        uint32_t n = pv->nodes[i];
        if (m->nodes[n].alive && m->nodes[n].provider == pi) m->nodes[n].alive = ML_NODE_STALE;
    }
    for (uint32_t i = 0; i < o->node_count; i++) m->nodes[p.slots[i]].alive = ML_NODE_LIVE;
    for (uint32_t i = 0; i < pv->node_count; i++)
        if (m->nodes[pv->nodes[i]].alive == ML_NODE_STALE) node_remove(m, pv->nodes[i]);
    gr_free(pv->nodes);
    pv->nodes = p.slots;
    pv->node_count = o->node_count;
    p.slots = NULL;
    ml_gpuid_commit(m, pi, o);
    for (uint32_t i = 0; i < o->node_count; i++) rescore(m, pv->nodes[i]);
    prep_free(&p, o->node_count);
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_market_put_offer(gpurent_market *m, const gpurent_offer *o)
{
    GR_CHECK_ARG(m && o, "market or offer is NULL");
    return put_offer(m, o, NULL);
}

int ml_put_offer_digested(gpurent_market *m, const gpurent_offer *o, const uint8_t digest[GPURENT_DIGEST_BYTES])
{
    return put_offer(m, o, digest);
}

GPURENT_API gpurent_status gpurent_market_remove_offer(gpurent_market *m, const uint8_t provider_key[GPURENT_KEY_BYTES])
{
    GR_CHECK_ARG(m && provider_key, "market or provider_key is NULL");
    uint32_t pi = ml_prov_find(m, provider_key);
    if (pi == NIL) return gr_fail(GPURENT_E_UNKNOWN_OFFER, "market: no offer from this provider");
    mprov *pv = &m->provs[pi];
    for (uint32_t i = 0; i < pv->node_count; i++) node_remove(m, pv->nodes[i]);
    name_release(m, &m->regions, pv->region, ML_REF_OFFER);
    gr_free(pv->nodes);
    mtab_del(&m->prov_tab, ml_hash(m, provider_key, GPURENT_KEY_BYTES, NULL, 0), pi);
    memset(pv, 0, sizeof *pv);
    pv->node_count = m->prov_free_head;
    m->prov_free_head = pi;
    m->prov_live--;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_market_set_trust(gpurent_market *m, const uint8_t provider_key[GPURENT_KEY_BYTES],
                                                    uint32_t tier, uint32_t score_ppm)
{
    GR_CHECK_ARG(m && provider_key, "market or provider_key is NULL");
    if (tier > 7) return gr_fail(GPURENT_E_INVALID_ARG, "tier: %u, allowed 0..7", tier);
    if (score_ppm > ML_PPM) return gr_fail(GPURENT_E_INVALID_ARG, "score_ppm: %u above 1000000", score_ppm);
    uint32_t pi = ml_prov_find(m, provider_key);
    if (pi == NIL) return gr_fail(GPURENT_E_UNKNOWN_OFFER, "market: no offer from this provider");
    mprov *pv = &m->provs[pi];
    pv->tier = (uint8_t)tier;
    pv->score_ppm = score_ppm;
    for (uint32_t i = 0; i < pv->node_count; i++) {
        m->nodes[pv->nodes[i]].tier = (uint8_t)tier;
        rescore(m, pv->nodes[i]);
    }
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_market_set_verified(gpurent_market *m, const uint8_t provider_key[GPURENT_KEY_BYTES],
                                                       const char *node_id, int verified)
{
    GR_CHECK_ARG(m && provider_key && node_id, "market, provider_key or node_id is NULL");
    uint32_t pi = ml_prov_find(m, provider_key);
    if (pi == NIL) return gr_fail(GPURENT_E_UNKNOWN_OFFER, "market: no offer from this provider");
    uint32_t n = ml_node_find(m, pi, node_id);
    if (n == NIL) return gr_fail(GPURENT_E_NOT_FOUND, "market: provider has no node '%s'", node_id);
    m->nodes[n].verified = verified ? 1 : 0;
    if (!verified) ml_gpuid_unbind(m, n); /* a report binds while it verifies */
    return GPURENT_OK;
}

/* ---- requests ---- */

static uint32_t req_need(const mreq *q) { return q->share ? 0 : q->gpu_count / q->gang_nodes; }

static void hist_add(gpurent_market *m, const mreq *q, int sign)
{
    uint32_t need = req_need(q);
    if (!need || need > GPURENT_NODE_MAX_GPUS) return;
    if (sign > 0) m->need_hist[need]++;
    else m->need_hist[need]--;
}

static int resolve_names(const gpurent_market *mc, gpurent_market *m, uint16_t *dst, uint8_t *count,
                         const char (*src)[GPURENT_NAME_MAX], const char (*rsrc)[GPURENT_REGION_MAX], uint32_t n,
                         int models)
{
    for (uint32_t i = 0; i < n; i++) {
        const char *s = src ? src[i] : rsrc[i];
        mnames *names = models ? &((gpurent_market *)mc)->models : &((gpurent_market *)mc)->regions;
        if (m) {
            int rc = name_intern(m, names, s, &dst[i], ML_REF_REQUEST);
            if (rc) {
                while (i--) name_release(m, names, dst[i], ML_REF_REQUEST);
                return rc;
            }
        } else {
            dst[i] = (uint16_t)ml_name_find(names, mc, s);
        }
    }
    *count = (uint8_t)n;
    return GPURENT_OK;
}

/* Drop the name references a pending request's lists hold. */
static void lists_release(gpurent_market *m, const mreq *q)
{
    const mlists *l = q->lists;
    if (!l) return;
    for (uint32_t i = 0; i < l->nm; i++) name_release(m, &m->models, ml_l_models(l)[i], ML_REF_REQUEST);
    for (uint32_t i = 0; i < l->nr; i++) name_release(m, &m->regions, ml_l_regions(l)[i], ML_REF_REQUEST);
    for (uint32_t i = 0; i < l->nxr; i++) name_release(m, &m->regions, ml_l_xregions(l)[i], ML_REF_REQUEST);
    for (uint32_t i = 0; i < l->nraw; i++) name_release(m, &m->models, ml_l_raw(l)[i], ML_REF_REQUEST);
}

/* The request's models as the market holds them: a name the model table
 * knows becomes its canonical id, a family every member's id, and a name it
 * does not know stays as it is (matched exactly); repeats are dropped.
 * Pure: the same table gives the same list. */
int ml_req_models(const gpurent_request *r, char (*out)[GPURENT_NAME_MAX], uint32_t *count)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->model_count && i < GPURENT_REQUEST_MAX_LIST; i++) {
        const char *name = r->models[i];
        const gpurent_model *one = NULL;
        uint32_t kind = gpurent_model_lookup(name, &one);
        uint32_t members = kind == GPURENT_NAME_FAMILY ? gpurent_model_family_size(name) : 1;
        for (uint32_t j = 0; j < members; j++) {
            const char *s = kind == GPURENT_NAME_FAMILY ? gpurent_model_family_member(name, j)->id
                            : one                       ? one->id
                                                        : name;
            uint32_t k = 0;
            while (k < n && strcmp(out[k], s)) k++;
            if (k < n) continue;
            if (n >= ML_MAX_REQ_MODELS)
                return gr_fail(GPURENT_E_LIMIT, "request '%s': models expand to more than %u names", r->request_id,
                               ML_MAX_REQ_MODELS);
            snprintf(out[n++], GPURENT_NAME_MAX, "%s", s);
        }
    }
    *count = n;
    return GPURENT_OK;
}

int ml_req_prepare(const gpurent_market *m, const gpurent_request *r, mreq *q, int intern)
{
    memset(q, 0, sizeof *q);
    ml_strcpy(q->id, sizeof q->id, r->request_id);
    q->min_vram = r->min_vram_mib;
    q->min_gflops = r->min_fp32_gflops;
    q->max_price = r->max_price_micro_per_gpu_hour;
    q->ram = r->ram_mib;
    q->disk = r->disk_gib;
    q->submitted_at = r->submitted_at;
    q->gpu_count = r->gpu_count;
    q->gang_nodes = r->gang_nodes;
    q->cuda = r->min_cuda_version;
    q->duration = r->duration_s;
    q->cpu = r->cpu_millicores;
    q->cc = (uint16_t)r->min_cc;
    q->scope = (uint8_t)r->gang_scope;
    q->share = (uint8_t)r->vram_share_pct;
    q->iface = (uint8_t)r->interface;
    q->tiers = (uint8_t)r->allowed_tiers;
    q->verified_only = (uint8_t)r->verified_only;
    q->alive = 1;
    uint32_t fw = 0;
    if (r->framework[0]) {
        const gpurent_framework *f = gpurent_framework_find(r->framework);
        if (!f)
            return gr_fail(GPURENT_E_INVALID_ARG, "request '%s': framework '%s' is not in the framework table v%u",
                           r->request_id, r->framework, GPURENT_FRAMEWORK_TABLE_VERSION);
        fw = (uint32_t)(f - gpurent_framework_at(0)) + 1u;
        if (f->cuda_version > q->cuda) q->cuda = f->cuda_version; /* the build's CUDA is a minimum like the request's own */
    }
    char models[ML_MAX_REQ_MODELS][GPURENT_NAME_MAX];
    uint32_t nmodels = 0;
    int rc = ml_req_models(r, models, &nmodels);
    if (rc) return rc;
    uint32_t nkeys = r->provider_count + r->excluded_provider_count;
    if (!nmodels && !r->region_count && !r->excluded_region_count && !nkeys && !fw) return GPURENT_OK;
    /* Keep the request's own words where the tables rewrote them: its model
     * names as interned ids (2 bytes each; the names are shared), its framework
     * and own CUDA minimum in the extra bytes. */
    int raw = nmodels != r->model_count;
    for (uint32_t i = 0; i < nmodels && !raw; i++) raw = strcmp(models[i], r->models[i]) != 0;
    uint32_t nraw = raw ? r->model_count : 0;
    uint32_t names = nmodels + r->region_count + r->excluded_region_count + nraw;
    size_t extra = fw ? 4 + strlen(r->framework) + 1 : 0;
    mlists *l = gr_calloc(1, ml_l_size(names, nkeys) + extra);
    if (!l) return gr_fail(GPURENT_E_NOMEM, "market: request lists");
    l->fw = (uint8_t)fw;
    l->extra = (uint16_t)extra;
    gpurent_market *mm = intern ? (gpurent_market *)m : NULL;
    uint16_t *ids = l->ids;
    rc = resolve_names(m, mm, ids, &l->nm, (const char(*)[GPURENT_NAME_MAX])models, NULL, nmodels, 1);
    if (!rc) rc = resolve_names(m, mm, ids + l->nm, &l->nr, NULL, r->regions, r->region_count, 0);
    if (!rc) rc = resolve_names(m, mm, ids + l->nm + l->nr, &l->nxr, NULL, r->excluded_regions, r->excluded_region_count, 0);
    if (!rc) rc = resolve_names(m, mm, ids + l->nm + l->nr + l->nxr, &l->nraw, r->models, NULL, nraw, 1);
    if (rc) {
        if (mm) {
            q->lists = l; /* the lists resolved in full hold references; the failed one released its own */
            lists_release(mm, q);
        }
        gr_free(l);
        q->lists = NULL;
        return rc;
    }
    l->np = (uint8_t)r->provider_count;
    l->nxp = (uint8_t)r->excluded_provider_count;
    uint8_t *keys = (uint8_t *)(ids + names);
    memcpy(keys, r->providers, (size_t)l->np * GPURENT_KEY_BYTES);
    memcpy(keys + (size_t)l->np * GPURENT_KEY_BYTES, r->excluded_providers, (size_t)l->nxp * GPURENT_KEY_BYTES);
    char *x = (char *)ml_l_extra(l);
    if (fw) {
        for (int i = 0; i < 4; i++) *x++ = (char)(r->min_cuda_version >> (24 - 8 * i));
        memcpy(x, r->framework, strlen(r->framework) + 1);
    }
    q->lists = l;
    return GPURENT_OK;
}

void ml_req_release(mreq *q)
{
    gr_free(q->lists);
    q->lists = NULL;
}

static uint64_t lists_size(const mlists *l)
{
    /* what was asked for, rounded as malloc rounds, plus its header */
    return l ? (ml_l_size(l->nm + l->nr + l->nxr + l->nraw, l->np + l->nxp) + l->extra + 15u) / 16u * 16u + 8u : 0;
}

static int add_request(gpurent_market *m, const gpurent_request *req, const uint8_t *digest)
{
    /* with its digest, the request was decoded from its record, which checked it */
    int rc = digest ? GPURENT_OK : gpurent_request_validate(req);
    if (rc) return rc;
    if (!m->fresh_keys && (ml_req_find(m, req->request_id) != NIL || lease_find(m, req->request_id) != NIL))
        return gr_fail(GPURENT_E_EXISTS, "request '%s' is already pending or leased", req->request_id);
    mreq q;
    gpurent_buf b = {NULL, 0};
    if ((rc = reserve((void **)&m->reqs, &m->req_cap, m->req_used + 1, sizeof *m->reqs, "requests")) ||
        (rc = mtab_reserve(&m->req_tab, 1)) || (!digest && (rc = gpurent_request_encode(req, &b))))
        return rc;
    if ((rc = ml_req_prepare(m, req, &q, 1))) {
        gpurent_buf_free(&b);
        return rc;
    }
    if (digest) memcpy(q.digest, digest, sizeof q.digest);
    else crypto_generichash(q.digest, sizeof q.digest, b.data, b.len, NULL, 0);
    gpurent_buf_free(&b);
    uint32_t slot;
    SLOT_ALLOC(m, reqs, req_used, req_free_head, gpu_count, slot);
    m->reqs[slot] = q;
    mtab_put(&m->req_tab, ml_hash(m, q.id, strlen(q.id), NULL, 0), slot); /* reserved */
    m->req_live++;
    m->lists_bytes += lists_size(q.lists);
    hist_add(m, &q, 1);
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_market_add_request(gpurent_market *m, const gpurent_request *req)
{
    GR_CHECK_ARG(m && req, "market or request is NULL");
    return add_request(m, req, NULL);
}

int ml_add_request_digested(gpurent_market *m, const gpurent_request *req, const uint8_t digest[GPURENT_DIGEST_BYTES])
{
    return add_request(m, req, digest);
}

static void req_drop(gpurent_market *m, uint32_t slot)
{
    mreq *q = &m->reqs[slot];
    hist_add(m, q, -1);
    m->lists_bytes -= lists_size(q->lists);
    lists_release(m, q);
    mtab_del(&m->req_tab, ml_hash(m, q->id, strlen(q->id), NULL, 0), slot);
    gr_free(q->lists);
    memset(q, 0, sizeof *q);
    q->gpu_count = m->req_free_head;
    m->req_free_head = slot;
    m->req_live--;
}

GPURENT_API gpurent_status gpurent_market_remove_request(gpurent_market *m, const char *request_id)
{
    GR_CHECK_ARG(m && request_id, "market or request_id is NULL");
    uint32_t slot = ml_req_find(m, request_id);
    if (slot == NIL) return gr_fail(GPURENT_E_UNKNOWN_REQUEST, "market: request '%s' is not pending", request_id);
    req_drop(m, slot);
    return GPURENT_OK;
}

/* ---- leases ---- */

/* Apply one placement's capacity change (sign -1 takes, +1 returns). */
static void lease_part_apply(gpurent_market *m, const mlease_part *p, int sign)
{
    mnode *x = &m->nodes[p->node];
    if (!x->alive || x->gen != p->gen) return; /* the node left the market or changed shape */
    if (p->share) {
        if (!x->share || p->gpu_index >= x->gpu_count) return; /* unreachable: a new shape is a new gen */
        uint32_t cur = x->share[p->gpu_index];
        ml_node_set_share(m, p->node, p->gpu_index, sign > 0 ? cur + p->share : cur - p->share);
    } else {
        ml_node_set_free(m, p->node, sign > 0 ? x->gpu_free + p->gpus : x->gpu_free - p->gpus);
    }
}

int ml_lease_reserve(gpurent_market *m, uint32_t count)
{
    int rc = reserve((void **)&m->leases, &m->lease_cap, m->lease_used + count, sizeof *m->leases, "leases");
    return rc ? rc : mtab_reserve(&m->lease_tab, count);
}

void ml_lease_add(gpurent_market *m, const char *id, mlease_part *parts, uint32_t count)
{
    uint32_t slot;
    SLOT_ALLOC(m, leases, lease_used, lease_free_head, count, slot);
    mlease *l = &m->leases[slot];
    ml_strcpy(l->id, sizeof l->id, id);
    l->count = count;
    l->parts = parts;
    mtab_put(&m->lease_tab, ml_hash(m, id, strlen(id), NULL, 0), slot); /* reserved */
    m->lease_live++;
    for (uint32_t i = 0; i < count; i++) lease_part_apply(m, &parts[i], -1);
    uint32_t rs = ml_req_find(m, id);
    if (rs != NIL) req_drop(m, rs);
}

GPURENT_API gpurent_status gpurent_market_end_lease(gpurent_market *m, const char *request_id)
{
    GR_CHECK_ARG(m && request_id, "market or request_id is NULL");
    uint32_t slot = lease_find(m, request_id);
    if (slot == NIL) return gr_fail(GPURENT_E_NOT_FOUND, "market: no lease for request '%s'", request_id);
    mlease *l = &m->leases[slot];
    for (uint32_t i = 0; i < l->count; i++) lease_part_apply(m, &l->parts[i], +1);
    mtab_del(&m->lease_tab, ml_hash(m, request_id, strlen(request_id), NULL, 0), slot);
    gr_free(l->parts);
    memset(l, 0, sizeof *l);
    l->count = m->lease_free_head;
    m->lease_free_head = slot;
    m->lease_live--;
    return GPURENT_OK;
}

/* ---- stats ---- */

GPURENT_API gpurent_status gpurent_market_stats_get(const gpurent_market *m, gpurent_market_stats *out)
{
    GR_CHECK_ARG(m && out, "market or out is NULL");
    memset(out, 0, sizeof *out);
    out->providers = m->prov_live;
    out->nodes = m->node_live;
    out->requests = m->req_live;
    out->leases = m->lease_live;
    uint64_t share_bytes = 0;
    for (uint32_t i = 0; i < m->node_used; i++) {
        const mnode *x = &m->nodes[i];
        if (!x->alive) continue;
        out->gpus_total += x->gpu_count;
        out->gpus_free += x->gpu_free;
        if (x->share) share_bytes += x->gpu_count;
    }
    out->node_bytes = (uint64_t)m->node_cap * sizeof(mnode) + mtab_bytes(&m->node_tab) + share_bytes +
                      (uint64_t)m->bucket_live * sizeof(mbucket) + (uint64_t)m->bucket_cap * sizeof(void *) +
                      (uint64_t)m->bucket_of_cap * sizeof(uint16_t) + ml_gpuid_bytes(m);
    out->request_bytes = (uint64_t)m->req_cap * sizeof(mreq) + mtab_bytes(&m->req_tab) + m->lists_bytes;
    uint64_t prov_nodes = 0, lease_parts = 0;
    for (uint32_t i = 0; i < m->prov_used; i++)
        if (m->provs[i].alive) prov_nodes += m->provs[i].node_count;
    for (uint32_t i = 0; i < m->lease_used; i++)
        if (m->leases[i].parts) lease_parts += m->leases[i].count;
    out->other_bytes = (uint64_t)m->prov_cap * sizeof(mprov) + prov_nodes * 4 + mtab_bytes(&m->prov_tab) +
                       (uint64_t)m->lease_cap * sizeof(mlease) + lease_parts * sizeof(mlease_part) +
                       mtab_bytes(&m->lease_tab) + (uint64_t)(m->models.cap + m->regions.cap) * (GPURENT_NAME_MAX + 8u) +
                       mtab_bytes(&m->models.tab) + mtab_bytes(&m->regions.tab);
    return GPURENT_OK;
}
