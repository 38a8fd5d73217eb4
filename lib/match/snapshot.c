/* Snapshots of a market: its policy and seed, every live offer (provider
 * terms and trust, nodes with their free capacity and verification), the
 * pending requests and the leases, in the container of lib/core/snapshot.c
 * (docs/wire-format.md, "Snapshots").
 *
 * The body holds the market's logical state in a canonical order (providers
 * by key, nodes in offer order, requests and leases by id), never its slot
 * numbers or index links. Loading rebuilds the market through the calls the
 * market itself uses (put_offer, set_trust, set_verified, add_request, the
 * lease table, the capacity setters), so the index is built by the same
 * code as in a market that never stopped (except that the records' digests
 * come from the body, checked for requests, that the index is linked once
 * at the end, not after every call, and that keys known to be new, as the
 * body's order proves, are not looked up first). Everything the body says
 * is checked as those calls check their arguments, plus what only a body
 * can get wrong (order, repeats, counts, placements and capacity against
 * their nodes, digests against records); a snapshot that fails one loads
 * nothing. What the market derives (index links, histograms, reference
 * counts, hash tables) its own code builds; the whole self-check
 * (ml_market_check) runs on every market the tests and the snapshot fuzzer
 * load, not on every load: it costs a fifth of a large load.
 *
 * Body layout (integers little-endian, a name is LE8 length then its bytes):
 *   options: 7 x LE32 weights, 4 x LE64 caps, LE32 strand_min_gpus, LE32 threads
 *   seed[32]
 *   LE32 providers, each: key[32] digest[32] LE64 seq LE64 stake LE32 min_dur
 *     LE32 max_dur LE32 score_ppm LE8 tier name region LE32 nodes, each:
 *     name id, name model, LE32 cuda, LE32 cpu, LE8 cc, LE8 iface,
 *     LE8 gpu_count, LE8 shared, LE8 verified, LE64 price, LE64 vram_mib,
 *     LE64 gflops, LE64 ram_mib, LE64 disk_gib, report[8]
 *   LE32 requests, each: digest[32] (of its canonical record), then from
 *     version 4 its snapshot form (gr_request_put_fixed, lib/wire), before
 *     LE32 length and the canonical record
 *   LE32 leases, each: name id, LE32 parts, each: provider key[32], name node,
 *     LE8 gpus, LE8 share, LE8 gpu_index
 *   capacity, providers in the order above, nodes in offer order: LE8 free
 *     GPUs of a dedicated node, gpu_count share percents of a shared one
 *   GPU claims (version 2, ml_gpuid_save): per node in the order above, its
 *     offered UUID[16] (zero none), LE8 count and its verified report's UUIDs
 * A lease part whose node left the market (or changed shape) gives nothing
 * back when the lease ends, so it is not saved. */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../core/snap_internal.h"
#include "../wire/mp_internal.h"
#include "match_internal.h"
#include "models_internal.h"

/* 2 added the GPU claims section (gpuid.c); version 1 loads with none.
 * 3: the tree checksum (lib/core/snapshot.c), the body as in 2.
 * 4: requests in their snapshot form (gr_request_put_fixed), not as
 * canonical records: decoding a record cost most of a large load. */
#define SNAP_VERSION 4u
#define SNAP_FIXED_REQUESTS 4u /* the first version with the snapshot form */
_Static_assert(SNAP_VERSION >= GR_SNAP_TREE_MARKET, "the current version has the tree checksum");
#define WHAT "market snapshot"
#define BAD(...) gr_fail(GPURENT_E_SNAPSHOT_CORRUPT, WHAT ": " __VA_ARGS__)
/* BAD with the detail of the failure just reported appended (copied first:
 * gr_fail writes the buffer it is read from). */
#define BAD_WHY(fmt, ...)                                                                  \
    do {                                                                                   \
        char why_[192];                                                                    \
        snprintf(why_, sizeof why_, "%s", gpurent_last_error_message());                   \
        rc = gr_fail(GPURENT_E_SNAPSHOT_CORRUPT, WHAT ": " fmt " (%s)", __VA_ARGS__, why_); \
    } while (0)

/* ---- save ---- */

static void put_name(gr_bytes *b, const char *s)
{
    size_t n = strlen(s);
    gr_put_u8(b, (uint8_t)n);
    gr_put_raw(b, s, n);
}

static void put_options(gr_bytes *b, const gpurent_match_options *o)
{
    gr_put_u32(b, o->w_price);
    gr_put_u32(b, o->w_perf_price);
    gr_put_u32(b, o->w_tier);
    gr_put_u32(b, o->w_score);
    gr_put_u32(b, o->w_stake);
    gr_put_u32(b, o->w_locality);
    gr_put_u32(b, o->w_fit);
    gr_put_u64(b, o->price_ref_micro);
    gr_put_u64(b, o->perf_price_cap);
    gr_put_u64(b, o->stake_cap_micro);
    gr_put_u64(b, o->aging_per_hour);
    gr_put_u32(b, o->strand_min_gpus);
    gr_put_u32(b, o->threads);
}

/* A live entry to sort: its slot, a pointer to its key (a provider's key
 * bytes, a request's or lease's id) and the key's first 16 bytes as two
 * big-endian words (an id zero-padded), which order most pairs without
 * touching the key itself. */
typedef struct keyed_slot {
    uint64_t hi, lo;
    const void *key;
    uint32_t slot;
} keyed_slot;

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

static int prefix_cmp(const keyed_slot *x, const keyed_slot *y)
{
    if (x->hi != y->hi) return x->hi < y->hi ? -1 : 1;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return 0;
}

static int prov_cmp(const void *a, const void *b)
{
    const keyed_slot *x = a, *y = b;
    int c = prefix_cmp(x, y);
    return c ? c : memcmp((const uint8_t *)x->key + 16, (const uint8_t *)y->key + 16, GPURENT_KEY_BYTES - 16);
}
/* Equal prefixes of two ids: both have their first 16 bytes alike, and an id
 * shorter than 16 ended inside them (its NUL padded), so the rest decides. */
static int id_cmp(const void *a, const void *b)
{
    const keyed_slot *x = a, *y = b;
    int c = prefix_cmp(x, y);
    if (c) return c;
    size_t n = strnlen(x->key, 16);
    return n < 16 ? 0 : strcmp((const char *)x->key + 16, (const char *)y->key + 16);
}

/* Sort k entries by key: a stable LSD radix sort on the 16-byte prefix, a
 * byte a pass, skipping the bytes every prefix shares, then each run of
 * equal prefixes (ids longer than 16 bytes that share them, keys that do)
 * by `cmp`. v and tmp hold k entries each; the result is one of them. */
static keyed_slot *sort_prefixes(keyed_slot *v, keyed_slot *tmp, uint32_t k, int (*cmp)(const void *, const void *))
{
    uint64_t or_hi = 0, and_hi = UINT64_MAX, or_lo = 0, and_lo = UINT64_MAX;
    for (uint32_t i = 0; i < k; i++) {
        or_hi |= v[i].hi, and_hi &= v[i].hi;
        or_lo |= v[i].lo, and_lo &= v[i].lo;
    }
    uint32_t count[256];
    for (unsigned pass = 0; pass < 16; pass++) { /* least significant byte first: lo, then hi */
        unsigned shift = 8 * (pass % 8);
        int high = pass >= 8;
        if (((((high ? or_hi ^ and_hi : or_lo ^ and_lo)) >> shift) & 0xffu) == 0) continue; /* one digit for all */
        memset(count, 0, sizeof count);
        for (uint32_t i = 0; i < k; i++) count[((high ? v[i].hi : v[i].lo) >> shift) & 0xffu]++;
        uint32_t sum = 0;
        for (unsigned d = 0; d < 256; d++) {
            uint32_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < k; i++) tmp[count[((high ? v[i].hi : v[i].lo) >> shift) & 0xffu]++] = v[i];
        keyed_slot *t = v;
        v = tmp;
        tmp = t;
    }
    for (uint32_t i = 0; i < k;) {
        uint32_t j = i + 1;
        while (j < k && v[j].hi == v[i].hi && v[j].lo == v[i].lo) j++;
        if (j - i > 1) qsort(v + i, j - i, sizeof *v, cmp);
        i = j;
    }
    return v;
}

/* The key of slot i, or NULL where the slot is free. */
static const void *prov_key(const gpurent_market *m, uint32_t i) { return m->provs[i].alive ? m->provs[i].key : NULL; }
static const void *req_key(const gpurent_market *m, uint32_t i) { return m->reqs[i].alive ? m->reqs[i].id : NULL; }
static const void *lease_key(const gpurent_market *m, uint32_t i) { return m->leases[i].id[0] ? m->leases[i].id : NULL; }

/* Slots of the live entries, sorted by their keys with `cmp` (keys are
 * unique, so the order does not depend on qsort's stability). `ids`: the
 * keys are NUL-terminated ids (their prefix padded with zeros), else
 * GPURENT_KEY_BYTES-byte keys. */
static int sorted_slots(const gpurent_market *m, uint32_t used, uint32_t live,
                        const void *(*key)(const gpurent_market *, uint32_t), int ids,
                        uint32_t **out)
{
    *out = NULL;
    if (!live) return GPURENT_OK;
    /* the entries and the radix sort's second array in one block, huge
     * pages hinted when large: faulting in fresh 4 KiB pages cost more
     * than the sort */
    keyed_slot *ks = gr_malloc((size_t)live * 2 * sizeof *ks), *tmp = ks ? ks + live : NULL;
    uint32_t *v = gr_malloc((size_t)live * sizeof *v), k = 0;
    if (!ks || !v) {
        gr_free(ks);
        gr_free(v);
        return gr_fail(GPURENT_E_NOMEM, WHAT ": %u entries", live);
    }
    gr_mem_large(ks, (size_t)live * 2 * sizeof *ks);
    for (uint32_t i = 0; i < used && k < live; i++) {
        const void *kp = key(m, i);
        if (!kp) continue;
        uint8_t pre[16] = {0};
        if (ids) memcpy(pre, kp, strnlen(kp, 16));
        else memcpy(pre, kp, 16);
        ks[k++] = (keyed_slot){be64(pre), be64(pre + 8), kp, i};
    }
    const keyed_slot *sorted = sort_prefixes(ks, tmp, k, ids ? id_cmp : prov_cmp);
    for (uint32_t i = 0; i < k; i++) v[i] = sorted[i].slot;
    gr_free(ks);
    *out = v;
    return GPURENT_OK;
}

#define NODE_FIXED_BYTES 61u /* a node record after its two names (put_node) */

/* A name as LE8 length and bytes at o. */
static uint8_t *put_name_at(uint8_t *o, const char *s)
{
    size_t n = strnlen(s, GPURENT_NAME_MAX - 1);
    *o++ = (uint8_t)n;
    memcpy(o, s, n);
    return o + n;
}

/* A node's record, written in place (room for the longest, the rest given
 * back: a hundred thousand nodes of sixteen fields). */
static void put_node(gr_bytes *b, const gpurent_market *m, const mnode *x)
{
    const size_t max = 2 * GPURENT_NAME_MAX + NODE_FIXED_BYTES;
    uint8_t *o = gr_put_room(b, max), *start = o;
    if (!o) return;
    o = put_name_at(o, x->id);
    o = put_name_at(o, m->models.name[x->model]);
    gr_le_store(o, x->cuda, 4);
    gr_le_store(o + 4, x->cpu, 4);
    o[8] = x->cc;
    o[9] = x->iface;
    o[10] = x->gpu_count;
    o[11] = x->shared;
    o[12] = x->verified;
    gr_le_store(o + 13, x->price, 8);
    gr_le_store(o + 21, x->vram_mib, 8);
    gr_le_store(o + 29, x->gflops, 8);
    gr_le_store(o + 37, x->ram_mib, 8);
    gr_le_store(o + 45, x->disk_gib, 8);
    memcpy(o + 53, &x->report, 8); /* the report digest's first bytes, as they were */
    o += NODE_FIXED_BYTES;
    b->len -= max - (size_t)(o - start);
}

/* The public form of a pending request (its canonical record is what the
 * market digested when it came). */
static void req_public(const gpurent_market *m, const mreq *q, gpurent_request *r)
{
    /* every scalar and count is set; list slots past a count are never read,
     * so the lists are not cleared (a request's worth of bytes per request) */
    memset(r, 0, offsetof(gpurent_request, models));
    r->model_count = r->region_count = r->excluded_region_count = r->provider_count = r->excluded_provider_count = 0;
    r->framework[0] = 0; /* past the lists, and r is reused: the previous request's must not stay */
    ml_strcpy(r->request_id, sizeof r->request_id, q->id);
    r->gpu_count = q->gpu_count;
    r->gang_nodes = q->gang_nodes;
    r->gang_scope = q->scope;
    r->vram_share_pct = q->share;
    r->min_vram_mib = q->min_vram;
    r->min_cc = q->cc;
    r->min_fp32_gflops = q->min_gflops;
    r->interface = q->iface;
    r->min_cuda_version = q->cuda;
    r->max_price_micro_per_gpu_hour = q->max_price;
    r->allowed_tiers = q->tiers;
    r->duration_s = q->duration;
    r->verified_only = q->verified_only;
    r->cpu_millicores = q->cpu;
    r->ram_mib = q->ram;
    r->disk_gib = q->disk;
    r->submitted_at = q->submitted_at;
    const mlists *l = q->lists;
    if (!l) return;
    const char *x = ml_l_extra(l);
    if (l->fw) { /* the request's own CUDA minimum and framework, as written */
        r->min_cuda_version = 0;
        for (int i = 0; i < 4; i++) r->min_cuda_version = r->min_cuda_version << 8 | (uint8_t)*x++;
        ml_strcpy(r->framework, sizeof r->framework, x);
    }
    if (l->nraw) { /* the model names as written (the resolved ids are what matching reads) */
        r->model_count = l->nraw;
        for (uint32_t i = 0; i < l->nraw; i++)
            ml_strcpy(r->models[i], GPURENT_NAME_MAX, m->models.name[ml_l_raw(l)[i]]);
    } else {
        r->model_count = l->nm;
        for (uint32_t i = 0; i < l->nm; i++)
            ml_strcpy(r->models[i], GPURENT_NAME_MAX, m->models.name[ml_l_models(l)[i]]);
    }
    r->region_count = l->nr;
    for (uint32_t i = 0; i < l->nr; i++)
        ml_strcpy(r->regions[i], GPURENT_REGION_MAX, m->regions.name[ml_l_regions(l)[i]]);
    r->excluded_region_count = l->nxr;
    for (uint32_t i = 0; i < l->nxr; i++)
        ml_strcpy(r->excluded_regions[i], GPURENT_REGION_MAX, m->regions.name[ml_l_xregions(l)[i]]);
    r->provider_count = l->np;
    memcpy(r->providers, ml_l_keys(l), (size_t)l->np * GPURENT_KEY_BYTES);
    r->excluded_provider_count = l->nxp;
    memcpy(r->excluded_providers, ml_l_keys(l) + l->np, (size_t)l->nxp * GPURENT_KEY_BYTES);
}

/* Header and body, without the checksum, into *bp (gr_snap_finish /
 * _finish_file), streamed to the file at `path` when not NULL; on failure
 * nothing is left to free. */
static int encode(const gpurent_market *m, uint64_t input_seq, const char *path, gr_bytes *bp)
{
    uint8_t digest[32];
    int rc = ml_policy_digest(&m->opts, digest);
    if (rc) return rc;
    uint32_t *pv = NULL, *rq = NULL, *ls = NULL;
    if ((rc = sorted_slots(m, m->prov_used, m->prov_live, prov_key, 0, &pv)) ||
        (rc = sorted_slots(m, m->req_used, m->req_live, req_key, 1, &rq)) ||
        (rc = sorted_slots(m, m->lease_used, m->lease_live, lease_key, 1, &ls)))
        goto done;
    size_t hint = 256 + (size_t)m->prov_live * 160 + (size_t)m->node_live * 120 + (size_t)m->req_live * 160 +
                  (size_t)m->lease_live * 120;
    gr_bytes b;
    if (path) {
        if ((rc = gr_snap_begin_file(&b, path, WHAT, GR_SNAP_MARKET, SNAP_VERSION, digest, input_seq, hint)))
            goto done;
    } else {
        gr_snap_begin(&b, GR_SNAP_MARKET, SNAP_VERSION, digest, input_seq, hint);
    }
    put_options(&b, &m->opts);
    gr_put_raw(&b, m->seed, 32);
    gr_put_u32(&b, m->prov_live);
    for (uint32_t k = 0; k < m->prov_live; k++) {
        const mprov *p = &m->provs[pv[k]];
        gr_put_raw(&b, p->key, 32);
        gr_put_raw(&b, p->digest, 32);
        gr_put_u64(&b, p->seq);
        gr_put_u64(&b, p->stake);
        gr_put_u32(&b, p->min_dur);
        gr_put_u32(&b, p->max_dur);
        gr_put_u32(&b, p->score_ppm);
        gr_put_u8(&b, p->tier);
        put_name(&b, m->regions.name[p->region]);
        gr_put_u32(&b, p->node_count);
        for (uint32_t i = 0; i < p->node_count; i++) put_node(&b, m, &m->nodes[p->nodes[i]]);
    }
    gr_put_u32(&b, m->req_live);
    gpurent_request *r = gr_malloc(sizeof *r);
    if (!r && m->req_live) {
        gr_bytes_free(&b);
        rc = gr_fail(GPURENT_E_NOMEM, WHAT ": request");
        goto done;
    }
    if (r) memset(r, 0, sizeof *r); /* req_public clears the fields it does not set */
    for (uint32_t k = 0; k < m->req_live; k++) {
        const mreq *q = &m->reqs[rq[k]];
        req_public(m, q, r);
        gr_put_raw(&b, q->digest, 32);
        if ((rc = gr_request_put_fixed(r, &b))) {
            gr_free(r);
            gr_bytes_free(&b);
            goto done;
        }
    }
    gr_free(r);
    gr_put_u32(&b, m->lease_live);
    for (uint32_t k = 0; k < m->lease_live; k++) {
        const mlease *l = &m->leases[ls[k]];
        uint32_t live = 0;
        for (uint32_t j = 0; j < l->count; j++) {
            const mnode *x = &m->nodes[l->parts[j].node];
            live += x->alive && x->gen == l->parts[j].gen;
        }
        put_name(&b, l->id);
        gr_put_u32(&b, live);
        for (uint32_t j = 0; j < l->count; j++) {
            const mlease_part *p = &l->parts[j];
            const mnode *x = &m->nodes[p->node];
            if (!x->alive || x->gen != p->gen) continue;
            gr_put_raw(&b, m->provs[x->provider].key, 32);
            put_name(&b, x->id);
            gr_put_u8(&b, p->gpus);
            gr_put_u8(&b, p->share);
            gr_put_u8(&b, p->gpu_index);
        }
    }
    for (uint32_t k = 0; k < m->prov_live; k++) {
        const mprov *p = &m->provs[pv[k]];
        for (uint32_t i = 0; i < p->node_count; i++) {
            const mnode *x = &m->nodes[p->nodes[i]];
            if (x->shared) gr_put_raw(&b, x->share, x->gpu_count);
            else gr_put_u8(&b, x->gpu_free);
        }
    }
    ml_gpuid_save(&b, m, pv, m->prov_live);
    *bp = b;
done:
    gr_free(pv);
    gr_free(rq);
    gr_free(ls);
    return rc;
}

/* ---- load ---- */

/* A name of at most max-1 bytes without NUL into dst; 0 when bad. */
static int get_name(gr_snap_reader *r, char *dst, size_t max)
{
    uint8_t n = gr_get_u8(r);
    const uint8_t *p = gr_get_raw(r, n);
    if (!p || n == 0 || n >= max || memchr(p, 0, n)) {
        r->bad = 1;
        return 0;
    }
    memcpy(dst, p, n);
    dst[n] = 0;
    return 1;
}

static void get_options(gr_snap_reader *r, gpurent_match_options *o)
{
    gpurent_match_options d = GPURENT_MATCH_OPTIONS_INIT;
    *o = d;
    o->w_price = gr_get_u32(r);
    o->w_perf_price = gr_get_u32(r);
    o->w_tier = gr_get_u32(r);
    o->w_score = gr_get_u32(r);
    o->w_stake = gr_get_u32(r);
    o->w_locality = gr_get_u32(r);
    o->w_fit = gr_get_u32(r);
    o->price_ref_micro = gr_get_u64(r);
    o->perf_price_cap = gr_get_u64(r);
    o->stake_cap_micro = gr_get_u64(r);
    o->aging_per_hour = gr_get_u64(r);
    o->strand_min_gpus = gr_get_u32(r);
    o->threads = gr_get_u32(r);
}

#define NODE_MIN_BYTES 57u /* a lower bound of a node record's size (for counts) */

/* One provider's record: its offer is put (every node with all of its
 * capacity free), then its trust, digest and verifications are set. */
static int get_provider(gr_snap_reader *r, gpurent_market *m, uint8_t prev_key[32], uint32_t k, uint32_t *slot)
{
    gpurent_offer o;
    memset(&o, 0, sizeof o);
    const uint8_t *key = gr_get_raw(r, 32), *digest = gr_get_raw(r, 32);
    o.seq = gr_get_u64(r);
    o.stake_micro = gr_get_u64(r);
    o.min_duration_s = gr_get_u32(r);
    o.max_duration_s = gr_get_u32(r);
    uint32_t score = gr_get_u32(r);
    uint8_t tier = gr_get_u8(r);
    get_name(r, o.region, sizeof o.region);
    uint32_t n = gr_get_count(r, NODE_MIN_BYTES);
    if (r->bad) return gr_snap_done(r, WHAT);
    if (k && memcmp(prev_key, key, 32) >= 0) return BAD("providers %u and %u out of order or repeated", k - 1, k);
    memcpy(prev_key, key, 32);
    memcpy(o.provider_key, key, 32);
    if (n == 0 || n > GPURENT_OFFER_MAX_NODES) return BAD("provider %u: %u nodes", k, n);
    if (tier > 7 || score > ML_PPM) return BAD("provider %u: tier %u or score %u out of range", k, tier, score);
    o.node_count = n;
    o.nodes = gr_calloc(n, sizeof *o.nodes);
    uint8_t *verified = gr_calloc(n, 1);
    int rc = GPURENT_OK;
    if (!o.nodes || !verified) {
        rc = gr_fail(GPURENT_E_NOMEM, WHAT ": offer of %u nodes", n);
        goto out;
    }
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        gpurent_node *d = &o.nodes[i];
        get_name(r, d->node_id, sizeof d->node_id);
        get_name(r, d->gpu.model, sizeof d->gpu.model);
        d->gpu.cuda_version = gr_get_u32(r);
        d->cpu_millicores = gr_get_u32(r);
        uint8_t cc = gr_get_u8(r);
        d->gpu.cc_major = cc / 10u;
        d->gpu.cc_minor = cc % 10u;
        d->gpu.interface = gr_get_u8(r);
        d->gpu_count = gr_get_u8(r);
        d->gpu_free = d->gpu_count;
        d->shared = gr_get_u8(r);
        verified[i] = gr_get_u8(r);
        d->price_micro_per_gpu_hour = gr_get_u64(r);
        d->gpu.memory_mib = gr_get_u64(r);
        d->gpu.fp32_gflops = gr_get_u64(r);
        d->ram_mib = gr_get_u64(r);
        d->disk_gib = gr_get_u64(r);
        const uint8_t *rep = gr_get_raw(r, 8);
        if (rep) memcpy(d->report_digest, rep, 8);
        if (d->shared > 1 || verified[i] > 1) {
            rc = BAD("provider %u node %u: a flag out of range", k, i);
            goto out;
        }
        /* the market keeps a known model by its table id and saves that:
         * another spelling of it would be a second encoding of one state */
        const char *canon = r->bad ? NULL : ml_model_canonical(d->gpu.model);
        if (canon && strcmp(canon, d->gpu.model) != 0) {
            rc = BAD("provider %u node %u: model '%s' is not written as its table id '%s'", k, i, d->gpu.model, canon);
            goto out;
        }
    }
    if (r->bad) {
        rc = gr_snap_done(r, WHAT);
        goto out;
    }
    /* the saved digest is the market's (of the offer record it was put with) */
    if ((rc = ml_put_offer_digested(m, &o, digest))) {
        if (rc != GPURENT_E_NOMEM) BAD_WHY("provider %u: its offer is refused", k);
        goto out;
    }
    if ((rc = gpurent_market_set_trust(m, key, tier, score))) goto out;
    uint32_t pi = *slot = ml_prov_find(m, key);
    for (uint32_t i = 0; i < n; i++)
        if (verified[i]) m->nodes[m->provs[pi].nodes[i]].verified = 1;
out:
    gr_free(o.nodes);
    gr_free(verified);
    return rc;
}

/* The providers' and nodes' counts, read ahead over the provider records
 * (without checking them: get_provider does), and the requests' count after
 * them, so the market's arrays are sized once. A count the bytes cannot
 * hold is capped at what they can (the records then fail to read). *at_reqs
 * is left at the requests' count (bad when the bytes end before it). */
static int presize(const gr_snap_reader *rp, gpurent_market *m, uint32_t np, gr_snap_reader *at_reqs)
{
    gr_snap_reader r = *rp;
    uint64_t nodes = 0;
    for (uint32_t k = 0; k < np && !r.bad; k++) {
        gr_get_raw(&r, 32 + 32 + 8 + 8 + 4 + 4 + 4 + 1);
        gr_get_raw(&r, gr_get_u8(&r));
        uint32_t n = gr_get_count(&r, NODE_MIN_BYTES);
        nodes += n;
        for (uint32_t i = 0; i < n && !r.bad; i++) {
            gr_get_raw(&r, gr_get_u8(&r));
            gr_get_raw(&r, gr_get_u8(&r));
            gr_get_raw(&r, NODE_FIXED_BYTES);
        }
    }
    *at_reqs = r;
    uint32_t nq = r.bad ? 0 : gr_get_count(&r, 36);
    if (r.bad || nodes > UINT32_MAX) return GPURENT_OK; /* the records' own reads report it */
    return ml_market_presize(m, np, (uint32_t)nodes, nq);
}

/* The smallest request of each form: digest, length and a record (36), or
 * digest and the snapshot form with a one-byte id, empty lists and no
 * framework (132: 32 + id 2 + 11 x 4 + 6 x 8 + 5 list counts + 1). A count
 * is refused when the bytes left cannot hold that many: a bound above the
 * smallest request refused markets of small requests that a save wrote. */
#define REQ_RECORD_MIN 36u
#define REQ_FIXED_MIN 132u

/* One request of a version 1..3 body: digest, LE32 length, canonical
 * record. Its id into q, and the digest the market computes. */
static int get_request_record(gr_snap_reader *r, gpurent_request *q, uint32_t k, uint8_t mine[32])
{
    int rc = GPURENT_OK;
    const uint8_t *digest = gr_get_raw(r, 32);
    uint32_t len = gr_get_u32(r);
    const uint8_t *rec = gr_get_raw(r, len);
    if (!rec) return gr_snap_done(r, WHAT);
    if (gpurent_request_decode(rec, len, q)) {
        BAD_WHY("request %u: record refused", k);
        return rc;
    }
    /* a canonical record decodes to the request that encodes to it, so its
     * hash is the digest the market would compute */
    crypto_generichash(mine, 32, rec, len, NULL, 0);
    if (memcmp(mine, digest, 32) != 0) return BAD("request %u: digest is not its record's", k);
    return GPURENT_OK;
}

/* One request in its snapshot form (version 4 on): digest, then the form;
 * the digest is the hash of the canonical record the request encodes to,
 * written into `rec` (reused from request to request), unless `checked`
 * (a worker checks it, digest_check): then the body's digest is taken. */
static int get_request_fixed(gr_snap_reader *r, gpurent_request *q, uint32_t k, gr_bytes *rec, int checked,
                             uint8_t mine[32])
{
    int rc = GPURENT_OK;
    const uint8_t *digest = gr_get_raw(r, 32);
    if (!digest) return gr_snap_done(r, WHAT);
    if (gr_request_get_fixed(r, q)) {
        BAD_WHY("request %u refused", k);
        return rc;
    }
    if (r->bad) return gr_snap_done(r, WHAT);
    if (checked) {
        memcpy(mine, digest, 32);
        return GPURENT_OK;
    }
    rec->len = 0;
    if ((rc = gr_request_write_valid_into(q, rec))) return rc;
    crypto_generichash(mine, 32, rec->data, rec->len, NULL, 0);
    if (memcmp(mine, digest, 32) != 0) return BAD("request %u: digest is not its record's", k);
    return GPURENT_OK;
}

/* The digests of a version 4 body's requests, checked on a second thread
 * while the caller's thread loads the providers and adds the requests with
 * the digests the body gives: the worker reads the request section on its
 * own (the same reads, so where the bytes are bad the loader's own reads
 * report it), rebuilds each canonical record, hashes it and compares. The
 * load succeeds only if every one of the section's requests was checked
 * and matched (digest_verdict). Everything the worker touches is allocated
 * before it starts: it allocates nothing (an allocating thread of its own
 * cost more in glibc's heap handling here than the work it took over).
 * Without a worker (pthread_create failed, gr_snap_test_no_worker) the
 * caller's thread checks each digest as it goes. */
#define REQ_RECORD_ROOM ((size_t)16 << 10) /* a request's record is a few KiB at most */
typedef struct digest_check {
    gr_snap_reader r; /* at the requests' count */
    gpurent_request *q;
    gr_bytes rec;
    atomic_int stop;
    uint32_t n, done; /* requests in the section; those checked and matching */
    int differs;      /* request `done` has another digest */
    pthread_t th;
    int started;
} digest_check;

static void *check_digests(void *arg)
{
    digest_check *c = arg;
    gr_snap_reader *r = &c->r;
    c->n = gr_get_count(r, REQ_FIXED_MIN);
    for (uint32_t k = 0; k < c->n && !r->bad; k++) {
        if (atomic_load_explicit(&c->stop, memory_order_relaxed)) break;
        const uint8_t *digest = gr_get_raw(r, 32);
        if (!digest || gr_request_get_fixed(r, c->q) || r->bad) break; /* the loader reports it */
        c->rec.len = 0;
        uint8_t mine[32];
        if (gr_request_write_valid_into(c->q, &c->rec)) break; /* (room was made: not expected) */
        crypto_generichash(mine, 32, c->rec.data, c->rec.len, NULL, 0);
        if (memcmp(mine, digest, 32) != 0) {
            c->differs = 1;
            break;
        }
        c->done++;
    }
    return NULL;
}

/* Start the check at `at_reqs` (a version 4 body); c->started says whether
 * a worker runs. */
static void digest_check_start(digest_check *c, const gr_snap_reader *at_reqs)
{
    memset(c, 0, sizeof *c);
    atomic_init(&c->stop, 0);
    gr_bytes_init(&c->rec);
    if (gr_snap_test_no_worker || at_reqs->bad) return;
    c->r = *at_reqs;
    c->q = gr_malloc(sizeof *c->q);
    if (!c->q || gr_bytes_reserve(&c->rec, REQ_RECORD_ROOM) != GPURENT_OK) return;
    c->started = gr_thread_start(&c->th, NULL, check_digests, c) == 0;
}

/* Stop (when `rc` failed the load already) or wait for the worker, free
 * what it used, and give the load's status: `rc`, or SNAPSHOT_CORRUPT when
 * a digest differs (or, failing closed, when the worker checked fewer
 * requests than the loader read, which the same reads never give). */
static int digest_verdict(digest_check *c, int rc, uint32_t loaded)
{
    if (c->started) {
        if (rc) atomic_store_explicit(&c->stop, 1, memory_order_relaxed);
        pthread_join(c->th, NULL);
        if (!rc && c->differs) rc = BAD("request %u: digest is not its record's", c->done);
        else if (!rc && (c->done != loaded || c->n != loaded))
            rc = BAD("requests: %u of %u digests checked", c->done, loaded);
    }
    gr_free(c->q);
    gr_bytes_free(&c->rec);
    c->q = NULL;
    c->started = 0;
    return rc;
}

static int get_requests(gr_snap_reader *r, gpurent_market *m, uint32_t version, int digests_checked)
{
    int fixed = version >= SNAP_FIXED_REQUESTS;
    uint32_t n = gr_get_count(r, fixed ? REQ_FIXED_MIN : REQ_RECORD_MIN);
    if (r->bad) return gr_snap_done(r, WHAT);
    gpurent_request *q = gr_malloc(sizeof *q);
    gr_bytes rec;
    gr_bytes_init(&rec);
    if (!q || gr_bytes_reserve(&rec, 512)) {
        gr_free(q);
        gr_bytes_free(&rec);
        return gr_fail(GPURENT_E_NOMEM, WHAT ": request");
    }
    int rc = GPURENT_OK;
    char prev[GPURENT_NAME_MAX] = "";
    for (uint32_t k = 0; k < n && !rc; k++) {
        uint8_t mine[32];
        rc = fixed ? get_request_fixed(r, q, k, &rec, digests_checked, mine) : get_request_record(r, q, k, mine);
        if (rc) break;
        if (k && strcmp(prev, q->request_id) >= 0) {
            rc = BAD("requests %u and %u out of order or repeated", k - 1, k);
            break;
        }
        ml_strcpy(prev, sizeof prev, q->request_id);
        if ((rc = ml_add_request_digested(m, q, mine)) && rc != GPURENT_E_NOMEM) BAD_WHY("request %u refused", k);
    }
    gr_free(q);
    gr_bytes_free(&rec);
    return rc;
}

static int get_leases(gr_snap_reader *r, gpurent_market *m)
{
    uint32_t n = gr_get_count(r, 6);
    if (r->bad) return gr_snap_done(r, WHAT);
    char prev[GPURENT_NAME_MAX] = "", id[GPURENT_NAME_MAX], node[GPURENT_NAME_MAX];
    for (uint32_t k = 0; k < n; k++) {
        get_name(r, id, sizeof id);
        uint32_t np = gr_get_count(r, 37);
        if (r->bad) return gr_snap_done(r, WHAT);
        if (k && strcmp(prev, id) >= 0) return BAD("leases %u and %u out of order or repeated", k - 1, k);
        if (ml_req_find(m, id) != NIL) return BAD("lease '%s' is also a pending request", id);
        /* a lease's id is the id of the request it served (checked as one) */
        if (!gr_utf8_valid((const uint8_t *)id, strlen(id))) return BAD("lease %u: id not valid UTF-8", k);
        memcpy(prev, id, sizeof prev);
        /* a lease whose every node left keeps an empty, allocated parts
         * array: a lease slot is live while it has one */
        mlease_part *parts = gr_calloc(np ? np : 1, sizeof *parts);
        if (!parts) return gr_fail(GPURENT_E_NOMEM, WHAT ": lease of %u parts", np);
        int rc = GPURENT_OK;
        for (uint32_t j = 0; j < np && !rc; j++) {
            const uint8_t *key = gr_get_raw(r, 32);
            get_name(r, node, sizeof node);
            uint8_t gpus = gr_get_u8(r), share = gr_get_u8(r), gi = gr_get_u8(r);
            if (r->bad) {
                rc = gr_snap_done(r, WHAT);
                break;
            }
            uint32_t pi = ml_prov_find(m, key), x = pi == NIL ? NIL : ml_node_find(m, pi, node);
            if (x == NIL) {
                rc = BAD("lease %u part %u: on a node not in the market", k, j);
                break;
            }
            const mnode *nd = &m->nodes[x];
            /* as a receipt's placement (a whole-GPU part's index is 0) */
            if (share ? (!nd->shared || share > 100 || gi >= nd->gpu_count || gpus != 0)
                      : (nd->shared || gpus == 0 || gpus > nd->gpu_count || gi != 0)) {
                rc = BAD("lease %u part %u: placement out of range for its node", k, j);
                break;
            }
            parts[j] = (mlease_part){.node = x, .gen = nd->gen, .gpus = gpus, .share = share, .gpu_index = gi};
        }
        if (!rc) rc = ml_lease_reserve(m, 1);
        if (rc) {
            gr_free(parts);
            return rc;
        }
        /* ml_lease_add takes the parts' capacity (clamped at nothing); the
         * saved capacity is set over it once every lease is in (get_capacity). */
        ml_lease_add(m, id, parts, np);
    }
    return GPURENT_OK;
}

/* The free capacity of every node, providers in the body's order, set over
 * whatever the leases took when they were added. */
static int get_capacity(gr_snap_reader *r, gpurent_market *m, const uint32_t *slots, uint32_t np)
{
    for (uint32_t k = 0; k < np; k++) {
        const mprov *p = &m->provs[slots[k]];
        for (uint32_t i = 0; i < p->node_count; i++) {
            uint32_t x = p->nodes[i];
            uint32_t cnt = m->nodes[x].gpu_count;
            if (m->nodes[x].shared) {
                const uint8_t *s = gr_get_raw(r, cnt);
                if (!s) return gr_snap_done(r, WHAT);
                for (uint32_t g = 0; g < cnt; g++)
                    if (s[g] > 100) return BAD("provider %u node %u GPU %u: share %u", k, i, g, s[g]);
                for (uint32_t g = 0; g < cnt; g++) ml_node_set_share(m, x, g, s[g]);
            } else {
                uint32_t f = gr_get_u8(r);
                if (r->bad) return gr_snap_done(r, WHAT);
                if (f > cnt) return BAD("provider %u node %u: %u free GPUs of %u", k, i, f, cnt);
                ml_node_set_free(m, x, f);
            }
        }
    }
    return GPURENT_OK;
}

/* What the market derives from the state the body gave: the index, built
 * in one pass now that every node has its final trust, verification and
 * free capacity. Derived tables a market keeps are rebuilt here. */
static int rebuild_derived(gpurent_market *m)
{
    return ml_index_link_all(m);
}

static int load_body(gr_snap_reader *rp, const gr_snap_header *hp, gpurent_market **out);

GPURENT_API gpurent_status gpurent_market_load(gpurent_market **out, const uint8_t *data, size_t len,
                                               const gpurent_match_options *expect, uint64_t *input_seq)
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    uint8_t want[32];
    int rc;
    if (expect && (rc = gpurent_match_options_digest(expect, want))) return rc;
    gr_snap_header h;
    gr_snap_reader r;
    gr_snap_verify v;
    if ((rc = gr_snap_open_async(data, len, GR_SNAP_MARKET, SNAP_VERSION, expect ? want : NULL, WHAT, &h, &r, &v)))
        return rc;
    /* the body decodes while its checksum is computed */
    gpurent_market *m = NULL;
    rc = gr_snap_verify_end(&v, load_body(&r, &h, &m));
    if (rc) {
        gpurent_market_free(m);
        return rc;
    }
    if (input_seq) *input_seq = h.input_seq;
    *out = m;
    return GPURENT_OK;
}

/* The body after the container's checks: the market it holds into *out
 * (NULL on failure). */
static int load_body(gr_snap_reader *rp, const gr_snap_header *hp, gpurent_market **out)
{
    gr_snap_reader r = *rp;
    const gr_snap_header h = *hp;
    int rc;
    *out = NULL;
    gpurent_match_options o;
    get_options(&r, &o);
    const uint8_t *seed = gr_get_raw(&r, 32);
    if (!seed) return gr_snap_done(&r, WHAT);
    /* saved resolved (zero caps replaced by their defaults): one encoding per policy */
    if (!o.price_ref_micro || !o.perf_price_cap || !o.stake_cap_micro || !o.aging_per_hour)
        return BAD("options with a zero cap (a saved policy has its defaults filled in)");
    if (gpurent_match_options_validate(&o)) {
        BAD_WHY("options out of range%s", "");
        return rc;
    }
    uint8_t mine[32];
    if ((rc = gpurent_match_options_digest(&o, mine))) return rc;
    if (memcmp(mine, h.params, 32) != 0) return BAD("the header's params digest is not its options'");
    gpurent_market *m = NULL;
    if ((rc = gpurent_market_new(&m, &o, seed))) return rc;
    m->defer_link = 1; /* the index is built once, at the end (rebuild_derived) */
    m->fresh_keys = 1; /* providers and requests come in strictly ascending order (checked) */
    uint32_t np = gr_get_count(&r, 100), *slots = np ? gr_calloc(np, sizeof *slots) : NULL;
    if (r.bad) rc = gr_snap_done(&r, WHAT);
    else if (np && !slots) rc = gr_fail(GPURENT_E_NOMEM, WHAT ": %u providers", np);
    uint8_t prev[32] = {0};
    gr_snap_reader at_reqs = r;
    if (!rc) rc = presize(&r, m, np, &at_reqs);
    digest_check dc;
    digest_check_start(&dc, h.version >= SNAP_FIXED_REQUESTS && !rc ? &at_reqs : &(gr_snap_reader){.bad = 1});
    for (uint32_t k = 0; k < np && !rc; k++) rc = get_provider(&r, m, prev, k, &slots[k]);
    if (!rc) rc = get_requests(&r, m, h.version, dc.started);
    rc = digest_verdict(&dc, rc, m->req_live);
    m->fresh_keys = 0;
    if (!rc) rc = get_leases(&r, m);
    if (!rc) rc = get_capacity(&r, m, slots, np);
    if (!rc && h.version >= 2) rc = ml_gpuid_load(&r, m, slots, np);
    if (!rc) rc = gr_snap_done(&r, WHAT);
    gr_free(slots);
    if (!rc) rc = rebuild_derived(m);
    if (rc) {
        gpurent_market_free(m);
        return rc;
    }
    *out = m;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_market_save(const gpurent_market *m, uint64_t input_seq, gpurent_buf *out)
{
    GR_CHECK_ARG(m && out, "market or out is NULL");
    gr_bytes b;
    int rc = encode(m, input_seq, NULL, &b);
    return rc ? rc : gr_snap_finish(&b, out);
}

GPURENT_API gpurent_status gpurent_market_save_file(const gpurent_market *m, uint64_t input_seq, const char *path)
{
    GR_CHECK_ARG(m && path, "market or path is NULL");
    gr_bytes b;
    int rc = encode(m, input_seq, path, &b);
    return rc ? rc : gr_snap_finish_file(&b, path, WHAT);
}

GPURENT_API gpurent_status gpurent_market_load_file(gpurent_market **out, const char *path,
                                                    const gpurent_match_options *expect, uint64_t *input_seq)
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    GR_CHECK_ARG(path, "path is NULL");
    gpurent_buf b = {0};
    int rc = gr_file_read(path, (size_t)GR_SNAP_FILE_MAX, &b, WHAT);
    if (!rc) rc = gpurent_market_load(out, b.data, b.len, expect, input_seq);
    gpurent_buf_free(&b);
    return rc;
}
