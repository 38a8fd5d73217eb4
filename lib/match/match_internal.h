/* Internals of the match module: the market's compact node, provider and
 * request entries, the incremental index, scoring and the search shared by
 * single queries, batches and explanations. */
#ifndef GPURENT_MATCH_INTERNAL_H
#define GPURENT_MATCH_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "../core/core_internal.h"
#include "gpurent/match.h"
#include "gpurent/models.h"

#define NIL UINT32_MAX
#define ML_LEVELS 256    /* score levels per index list */
/* The batch algorithm's revision, part of the policy digest: raise it with
 * any change that can change a receipt for the same market and policy
 * (the improvement phase's work bound counts node visits, so an index
 * change can), so that matchers running different revisions disagree on
 * the policy digest instead of signing different receipts under one.
 * 2: bucket histograms and 12 capacity classes (December 2026).
 * 3: serving a request comes first: the improvement phase takes any move
 *    that places one more request, the best value change among them.
 * 4: model names resolve through the model table (offers to canonical ids,
 *    request families to their members) and requests may name a framework
 *    build; the two tables' digests join the policy digest.
 * 5: batches of up to 4096 requests run smaller-first and larger-first
 *    orders and keep the run serving more requests; the improvement phase
 *    may evict more than two placements from a node.
 * 6: upgrades: an unplaced request may take a node whose evicted requests
 *    are placed again (one through a nested eviction) but for one asking
 *    fewer GPUs at no higher priority, when the value rises. */
#define ML_ALGORITHM 6
#define ML_CLASSES 12    /* free-capacity classes per bucket */
#define ML_PPM 1000000u
#define ML_MAX_NAMES 65534u /* interned models / regions */
/* Buckets (GPU model x shared) a market holds at most: each is about 22 KiB
 * (12 capacity classes of 256 levels, four attribute histograms) and lives
 * as long as the market, so hostile model names must not make thousands. */
#define ML_MAX_BUCKETS 4096u
/* Shared tables are bounded per party (one party may flood), so that nothing one party
 * sends refuses service to another: one offer names at most this many
 * buckets (distinct model x shared), so ML_MAX_BUCKETS / ML_PROV_BUCKETS
 * providers with live offers are needed to fill the market's buckets, and
 * a bucket (and a name) is reclaimed as soon as nothing refers to it. */
#define ML_PROV_BUCKETS 64u
/* Names that only pending requests refer to (no offer uses them) take at
 * most this many of the ML_MAX_NAMES ids, so requests naming made-up models
 * or regions cannot refuse a provider a new model or region. */
#define ML_MAX_REQ_NAMES 16384u
#define ML_NONE 0xffffu     /* a name the market has never seen */
/* A request's models after families expand (8 names, each a family of at most 8). */
#define ML_MAX_REQ_MODELS 64u

/* Copy a string into a field of `cap` bytes, cut to cap-1 bytes as
 * snprintf("%s") would (the hot paths copy a name per node or request). */
static inline void ml_strcpy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    memset(dst + n, 0, cap - n); /* whole fields are copied out (candidates, receipts): no stale bytes */
}

/* ---- hash table: key -> slot, keys live in the caller's arrays ---- */
typedef struct mtab {
    uint32_t *slot;  /* slot+1; 0 empty; NIL tombstone */
    uint32_t *hash;
    uint32_t cap;    /* power of two */
    uint32_t used;   /* live + tombstones */
    uint32_t live;
} mtab;

/* Compares the key `key` with the one stored at `slot`. */
typedef int (*mtab_eq)(const void *ctx, uint32_t slot, const void *key);

uint32_t mtab_find(const mtab *t, uint32_t h, const void *ctx, mtab_eq eq, const void *key);
int mtab_put(mtab *t, uint32_t h, uint32_t slot);
/* Make room for `extra` puts that then cannot fail. */
int mtab_reserve(mtab *t, uint32_t extra);
void mtab_del(mtab *t, uint32_t h, uint32_t slot);
void mtab_free(mtab *t);
uint64_t mtab_bytes(const mtab *t);

/* ---- entries ---- */
/* Fields a constraint check reads come first (one or two cache lines per
 * node visited); the provider's region, tier and duration limits are copied
 * in so a check never touches the provider. */
typedef struct mnode {
    uint32_t next;         /* index list link */
    uint32_t cuda, cpu;
    uint16_t model, region;
    uint64_t stat;         /* weighted static score */
    uint64_t price;        /* micro-units per GPU-hour */
    uint64_t vram_mib, gflops;
    uint8_t cc, iface, gpu_count, gpu_free, shared, verified, maxshare, tier;
    uint32_t min_dur, max_dur;
    /* second line */
    uint64_t ram_mib, disk_gib;
    uint8_t *share;        /* shared nodes: free percent per GPU */
    uint32_t provider;     /* provider slot */
    uint32_t prev;
    uint32_t gen;          /* bumped when the slot is reused */
    uint32_t list;         /* index list (bucket * ML_CLASSES + class), NIL when unlinked */
    uint64_t report;       /* first 8 bytes of the report digest (a verification holds for it) */
    uint16_t level;
    uint8_t alive, pad;    /* alive: an ml_node_state */
    char id[GPURENT_NAME_MAX];
} mnode;

/* What a node slot holds. ML_NODE_STALE exists only inside
 * gpurent_market_put_offer() while a provider's offer is replaced: its old
 * nodes are marked stale, the nodes the new offer lists are marked live
 * again, and those still stale are removed. Every other moment a slot is
 * free or live, so `alive` also reads as a truth value. */
enum ml_node_state { ML_NODE_FREE = 0, ML_NODE_LIVE = 1, ML_NODE_STALE = 2 };

typedef struct mprov {
    uint8_t key[GPURENT_KEY_BYTES];
    uint8_t digest[GPURENT_DIGEST_BYTES]; /* of the offer record */
    uint64_t seq, stake;
    uint32_t min_dur, max_dur, score_ppm;
    uint32_t node_count;
    uint32_t *nodes;       /* node slots in offer order */
    uint16_t region;
    uint8_t tier, alive;
} mprov;

/* A request's lists, allocated to size: name ids (models, regions,
 * excluded regions), then provider keys (included, then excluded). */
typedef struct mlists {
    uint8_t nm, nr, nxr, np, nxp;
    uint8_t fw;            /* framework build: its table index + 1; 0 = none */
    uint8_t nraw;          /* the request's model names as written, when the table rewrote any (0: the
                              resolved ids are the request's names); interned ids after the excluded regions */
    uint8_t pad;
    uint16_t extra;        /* bytes after the keys (a framework's own words) */
    uint16_t ids[];
} mlists;

static inline const uint16_t *ml_l_models(const mlists *l) { return l->ids; }
static inline const uint16_t *ml_l_regions(const mlists *l) { return l->ids + l->nm; }
static inline const uint16_t *ml_l_xregions(const mlists *l) { return l->ids + l->nm + l->nr; }
static inline const uint8_t (*ml_l_keys(const mlists *l))[GPURENT_KEY_BYTES]
{
    return (const uint8_t (*)[GPURENT_KEY_BYTES])(const void *)(l->ids + l->nm + l->nr + l->nxr + l->nraw);
}
/* The request's own model names (ids in the model names), kept only so that
 * its record can be rebuilt (snapshots); matching never reads them. */
static inline const uint16_t *ml_l_raw(const mlists *l) { return l->ids + l->nm + l->nr + l->nxr; }
static inline size_t ml_l_size(uint32_t names, uint32_t keys)
{
    return sizeof(mlists) + names * sizeof(uint16_t) + (size_t)keys * GPURENT_KEY_BYTES;
}
/* The extra bytes (after the keys), so that the request's record can be
 * rebuilt as it came (snapshots): with a framework, its own min_cuda_version
 * (4 bytes, big-endian) and the framework as written (NUL-terminated). */
static inline const char *ml_l_extra(const mlists *l)
{
    return (const char *)(ml_l_keys(l) + l->np + l->nxp);
}

typedef struct mreq {
    char id[GPURENT_NAME_MAX];
    uint8_t digest[GPURENT_DIGEST_BYTES];
    uint64_t min_vram, min_gflops, max_price, ram, disk, submitted_at;
    uint32_t gpu_count, gang_nodes, cuda, duration, cpu;
    uint16_t cc;
    uint8_t scope, share, iface, tiers, verified_only, alive;
    mlists *lists;         /* NULL when the request has no lists */
} mreq;

/* One index list: nodes of a bucket and class, by score level. */
typedef struct mlist {
    uint32_t head[ML_LEVELS];
    uint64_t bits[ML_LEVELS / 64];
    uint32_t count;
} mlist;

/* A histogram of one node attribute over a bucket's linked nodes, in bins
 * that are exact below 128 and an eighth of an octave wide above: `top` is
 * the highest non-empty bin. It is a function of the nodes linked now, never
 * of the order they came and went in, so whatever prunes with it prunes the
 * same way in every history of the same market. */
#define ML_HBINS 584
typedef struct mhist {
    uint32_t count[ML_HBINS];
    uint64_t bits[(ML_HBINS + 63) / 64];
    uint32_t top;
} mhist;

/* A bucket: one model, shared or dedicated. Histograms of its nodes'
 * attributes prune whole buckets for a request (ml_bucket_may_serve). */
typedef struct mbucket {
    uint16_t model;
    uint8_t shared;
    uint8_t iface_mask;
    uint32_t nodes;        /* alive nodes of this model and kind; 0 frees the bucket */
    uint32_t iface_count[8];
    mhist vram, gflops, cc, cuda;
    mlist lists[ML_CLASSES];
} mbucket;

/* Interned names. An id is held by offers (nodes for a model, providers for
 * a region: orefs) and by pending requests' lists (qrefs); when both reach
 * 0 the name is dropped and its id reused. A free id has an empty name and
 * its orefs holds the next free id (NIL ends the chain). */
typedef struct mnames {
    char (*name)[GPURENT_NAME_MAX];
    uint32_t *orefs, *qrefs;
    uint32_t count, cap;   /* ids in use or free: [0, count) */
    uint32_t live;         /* names with a reference */
    uint32_t req_only;     /* live names with orefs 0 (ML_MAX_REQ_NAMES bounds them) */
    uint32_t free_head;
    uint32_t last;         /* the id name_intern gave last (a hint: checked against the name) */
    mtab tab;
} mnames;
#define ML_REF_OFFER 0
#define ML_REF_REQUEST 1

typedef struct mlease_part {
    uint32_t node, gen;
    uint8_t gpus, share, gpu_index, pad;
} mlease_part;

typedef struct mlease {
    char id[GPURENT_NAME_MAX];
    uint32_t count;
    mlease_part *parts;
} mlease;

/* Undo log for batches, which work on the live index and restore it. */
typedef struct mundo {
    uint32_t node;
    uint8_t gpu_free, gpu_index, share_pct, pad;
} mundo;

/* A GPU UUID held by a node (gpuid.c): each UUID at most once in the
 * market. A node's claims form a chain from claim_head[node]. */
typedef struct mclaim {
    uint8_t uuid[GPURENT_UUID_BYTES];
    uint32_t node;         /* node slot */
    uint32_t next;         /* the node's next claim; the free chain when unused */
    uint8_t how;           /* GPURENT_GPU_HELD_* bits; 0 = free */
    uint8_t pad[3];
} mclaim;

struct gpurent_market {
    gpurent_match_options opts;
    uint8_t seed[GPURENT_DIGEST_BYTES];
    uint8_t hkey[16];          /* random key of the internal hash tables (never affects results) */
    uint64_t w_static;         /* sum of the static weights */
    uint64_t max_static;       /* w_static * ML_PPM */
    uint64_t max_dyn;          /* fit + locality at most, per node */
    uint64_t level_ub[ML_LEVELS]; /* the largest static score of each level (ml_level_ub) */

    mnode *nodes;
    uint32_t node_cap, node_used, node_live, node_free_head;
    mprov *provs;
    uint32_t prov_cap, prov_used, prov_live, prov_free_head;
    mreq *reqs;
    uint32_t req_cap, req_used, req_live, req_free_head;
    mlease *leases;
    uint32_t lease_cap, lease_used, lease_live, lease_free_head;
    mbucket **buckets;         /* NULL where a bucket was reclaimed */
    uint32_t bucket_count, bucket_cap, bucket_live;
    uint16_t *bucket_of;       /* [model * 2 + shared] -> bucket + 1, 0 none */
    uint32_t bucket_of_cap;

    mtab prov_tab, node_tab, req_tab, lease_tab;
    mnames models, regions;
    uint64_t need_hist[GPURENT_NODE_MAX_GPUS + 1]; /* pending requests by per-node need */
    uint64_t lists_bytes;      /* request list side tables */
    uint8_t no_improve;        /* tests only: batch without the improvement phase */
    uint8_t no_upgrade;        /* tests only: improvement phase without upgrades (revision 5's) */
    uint8_t one_order;         /* tests only: one greedy order (1 smaller first, 2 larger first); 0: the default */
    uint64_t imp_budget;       /* tests only: improvement work bound (0: the default) */
    uint64_t imp_work;         /* node visits of the last improvement phase */

    mclaim *claims;            /* GPU UUIDs held (gpuid.c) */
    uint32_t claim_cap, claim_used, claim_live, claim_free_head;
    uint32_t *claim_head;      /* [node slot] -> first claim, NIL none */
    uint32_t claim_head_cap;
    mtab claim_tab;
    uint8_t defer_link;        /* snapshot load: nodes stay unlinked until ml_index_link_all */
    uint8_t fresh_keys;        /* snapshot load: every provider key and request id put is new (the
                                  loader refuses any not above the one before), so put_offer and
                                  add_request skip looking for an existing entry */
};

/* ---- market.c ---- */
uint32_t ml_hash(const gpurent_market *m, const void *a, size_t alen, const void *b, size_t blen);
uint32_t ml_name_find(const mnames *n, const gpurent_market *m, const char *s);
uint32_t ml_prov_find(const gpurent_market *m, const uint8_t key[GPURENT_KEY_BYTES]);
uint32_t ml_node_find(const gpurent_market *m, uint32_t prov, const char *id);
uint32_t ml_req_find(const gpurent_market *m, const char *id);
/* Build a transient request entry (lists resolved read-only); free with ml_req_release. */
int ml_req_prepare(const gpurent_market *m, const gpurent_request *req, mreq *out, int intern);
/* The request's model names resolved through the model table (market.c). */
int ml_req_models(const gpurent_request *r, char (*out)[GPURENT_NAME_MAX], uint32_t *count);
void ml_req_release(mreq *q);
/* Set a node's free capacity (whole GPUs or one GPU's share) and relink it. */
void ml_node_set_free(gpurent_market *m, uint32_t n, uint32_t gpu_free);
void ml_node_set_share(gpurent_market *m, uint32_t n, uint32_t gpu, uint32_t pct);
/* Make room for `count` leases; then ml_lease_add cannot fail (it takes
 * `parts`, applies them and drops the pending request). */
int ml_lease_reserve(gpurent_market *m, uint32_t count);
/* gpurent_market_put_offer / gpurent_market_add_request with the record's
 * digest given (a snapshot holds it), so the record is not re-encoded and
 * hashed; every other check of the public call is made. The request must
 * come from gpurent_request_decode (which validated it, so it is not
 * validated again) and its digest be the hash of the bytes decoded. */
/* Room in the slot arrays for that many more providers, nodes and requests, exactly (a
 * snapshot's counts, so that loading it never grows an array twice). */
int ml_market_presize(gpurent_market *m, uint32_t provs, uint32_t nodes, uint32_t reqs);
int ml_put_offer_digested(gpurent_market *m, const gpurent_offer *o, const uint8_t digest[GPURENT_DIGEST_BYTES]);
int ml_add_request_digested(gpurent_market *m, const gpurent_request *req, const uint8_t digest[GPURENT_DIGEST_BYTES]);
void ml_lease_add(gpurent_market *m, const char *id, mlease_part *parts, uint32_t count);

/* Grow an array to hold `want` items of `size` bytes (capacity doubles,
 * from 64); `what` names it in the NOMEM detail. (table.c) */
int ml_grow_to(void **p, uint32_t *cap, uint32_t want, size_t size, const char *what);
static inline int ml_grow(void **p, uint32_t *cap, uint32_t want, size_t size, const char *what)
{
    return want <= *cap ? GPURENT_OK : ml_grow_to(p, cap, want, size, what);
}

/* ---- gpuid.c: one GPU, one place ---- */
/* Before an offer changes anything (pi NIL for a new provider): refuse
 * conflicts (GPURENT_E_GPU_CONFLICT) and reserve what the commit takes. */
int ml_gpuid_prepare(gpurent_market *m, uint32_t pi, const gpurent_offer *o);
/* After the provider's nodes are the offer's (pv->nodes[i] is o->nodes[i]). */
void ml_gpuid_commit(gpurent_market *m, uint32_t pi, const gpurent_offer *o);
/* A node leaves the market: its claims go. */
void ml_gpuid_node_drop(gpurent_market *m, uint32_t n);
/* A node loses its verification: its report's claims go. */
void ml_gpuid_unbind(gpurent_market *m, uint32_t n);
void ml_gpuid_free(gpurent_market *m);
uint64_t ml_gpuid_bytes(const gpurent_market *m);
int ml_gpuid_check(const gpurent_market *m);
/* The snapshot section of the claims (snapshot format 2): providers in the
 * body's order (their slots in `provs`), nodes in offer order. */
struct gr_snap_reader;
void ml_gpuid_save(gr_bytes *b, const gpurent_market *m, const uint32_t *provs, uint32_t np);
int ml_gpuid_load(struct gr_snap_reader *r, gpurent_market *m, const uint32_t *provs, uint32_t np);

/* ---- check.c ---- */
/* Check every invariant of the market's index and tables (tests and the
 * stateful fuzzer): GPURENT_OK, or GPURENT_E_INTERNAL with the first broken
 * one in the detail. Linear in the market; never changes it. */
int ml_market_check(const gpurent_market *m);

/* ---- index.c ---- */
void ml_index_link(gpurent_market *m, uint32_t n);
/* Link every live node left unlinked while m->defer_link was set (which it
 * clears): in descending price order, so each link is an O(1) insertion at
 * the head of its level list instead of a walk. */
int ml_index_link_all(gpurent_market *m);
/* From this many nodes to link (8192; tests set it), in two buckets or
 * more, ml_index_link_all links on two threads, each taking whole buckets. */
extern uint32_t ml_index_link_parallel_min;
/* Tests only: nonzero, the second thread never starts (as when
 * pthread_create fails, e.g. WebAssembly built without threads): the
 * calling thread links one half, then the other. */
extern int ml_index_link_test_no_thread;
void ml_index_unlink(gpurent_market *m, uint32_t n);
int ml_bucket_for(gpurent_market *m, uint16_t model, uint8_t shared, uint32_t *out);
/* Count one node in / out of its bucket; a bucket left without nodes is freed. */
void ml_bucket_ref(gpurent_market *m, uint16_t model, uint8_t shared);
void ml_bucket_unref(gpurent_market *m, uint16_t model, uint8_t shared);
/* Free the bucket if it holds no node (one made for an offer that failed). */
void ml_bucket_drop_if_empty(gpurent_market *m, uint16_t model, uint8_t shared);
uint32_t ml_class_of(const mnode *n);
uint32_t ml_class_max(uint32_t shared, uint32_t cls);
int ml_list_next(const mlist *l, int from);
/* 0 when no node of the bucket can meet the request's VRAM, throughput,
 * compute capability, CUDA or interface minimum; 1 when some node may. */
int ml_bucket_may_serve(const mbucket *bk, const mreq *q);
uint32_t ml_hbin(uint64_t v);
/* Fill m->level_ub from m->max_static. */
void ml_level_table(gpurent_market *m);
/* The largest static score a node at `level` (>= 0) can have. */
static inline uint64_t ml_level_ub(const gpurent_market *m, int level)
{
    return m->level_ub[level];
}

/* ---- score.c ---- */
void ml_opts_resolve(gpurent_match_options *o);
void ml_weights_update(gpurent_market *m);
uint64_t ml_static(const gpurent_market *m, const mnode *n, gpurent_match_breakdown *bd);
uint32_t ml_strand_min(const gpurent_market *m);
/* Fit of placing `need` whole GPUs (or a share of `share` percent) on n. */
uint64_t ml_fit_whole(uint32_t free, uint32_t need, uint32_t strand);
uint64_t ml_fit(const mnode *n, uint32_t need, uint32_t share, uint32_t strand, uint32_t *gpu_index);
/* Bit mask of failed constraints (0 = feasible), checking all when `all`. */
uint32_t ml_check(const gpurent_market *m, const mreq *q, const mnode *n, int all);
uint64_t ml_tie_hash(const gpurent_market *m, const char *req_id, const mnode *n);
uint64_t ml_prio(const gpurent_market *m, const mreq *q, uint64_t now);
int ml_policy_digest(const gpurent_match_options *o, uint8_t out[GPURENT_DIGEST_BYTES]);

/* ---- search.c ---- */
typedef struct mhit {
    uint64_t total;        /* node: static + fit (+ locality); group: the sum */
    uint64_t hash;         /* tie hash, computed lazily */
    uint32_t node;         /* node slot; for a group, its best node */
    uint32_t group;        /* provider slot / region id for gangs, else NIL */
    uint32_t first, count; /* group members in the search's member array */
    uint32_t providers;    /* distinct providers */
    uint8_t has_hash, pad[3];
} mhit;

typedef struct msearch {
    const gpurent_market *m;
    const mreq *q;
    uint32_t need, share, gangs, strand;
    uint32_t k, found;
    mhit top[GPURENT_MATCH_MAX_K];
    uint32_t *members;     /* node slots of the kept groups */
    uint32_t members_len, members_cap;
    /* scratch */
    uint32_t *lists;
    uint32_t list_count;
    void *scratch;
    uint64_t scanned;
} msearch;

int ml_search(msearch *s, const gpurent_market *m, const mreq *q, uint32_t k, uint32_t strand);
void ml_search_free(msearch *s);
/* Node score for this request (static + fit + locality for one node). */
uint64_t ml_node_total(const msearch *s, const mnode *n, gpurent_match_breakdown *bd);
/* Total order on hits: 1 when a ranks above b. */
int ml_hit_better(const msearch *s, mhit *a, mhit *b);
void ml_fill_candidate(const msearch *s, const mhit *h, gpurent_match_candidate *c);

/* ---- digests (batch.c) ---- */
int ml_digests(const gpurent_market *m, uint8_t offers[GPURENT_DIGEST_BYTES], uint8_t reqs[GPURENT_DIGEST_BYTES]);

#endif
