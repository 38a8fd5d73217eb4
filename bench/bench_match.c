/* Match benchmark: quality against the exact optimum (SciPy milp via
 * bench/match_exact.py) and stranded GPUs against a naive greedy, on
 * generated instances up to 2000 requests x 2000 nodes; speed of one
 * request against 100 000 nodes and of a batch of 100 000 requests against
 * 100 000 nodes, each beside a naive full scan measured in the same run;
 * memory per node and per request.
 *
 * Instances follow a realistic mix (H100, H200, A100, L40S, RTX 4090,
 * RTX 3090, T4; 1-8 GPUs per node; prices and regions spread as on public
 * marketplaces) drawn from a fixed seed.
 *
 *   build/bench/bench_match [--quick]      (env MATCH_EXACT_PY, PYTHON override the solver;
 *   MATCH_BENCH_ONLY=quality|speed; MATCH_BENCH_QUALITY=square|tight|hard picks the quality instances
 *   (requests = nodes, 3 requests per node, or the hard four-model markets); MATCH_BENCH_MILP=1 also tries milp at 1000 and 2000;
 *   MATCH_BENCH_KEEP=1 keeps the instance files in /tmp; MATCH_BENCH_COUNT_MILP=S gives the
 *   requests-placed and GPUs-placed maxima S seconds of milp, default 30; MATCH_BENCH_CACHE=DIR
 *   keeps the solver's answers in DIR, keyed by the instance file's hash, for the next run) */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpurent.h"
#include "match/match_internal.h"

/* ---- rng ---- */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnext(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint64_t below(rng *r, uint64_t n) { return n ? rnext(r) % n : 0; }
static uint64_t between(rng *r, uint64_t lo, uint64_t hi) { return lo + below(r, hi - lo + 1); }

/* CPU time of this thread: the goals are per core, and on a shared machine
 * time spent descheduled must not count (the baselines use the same clock). */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- the market mix ---- */
typedef struct model {
    const char *name;
    uint32_t cc, vram, gflops, iface, weight;
    uint64_t pmin, pmax; /* micro-units per GPU-hour */
    int datacenter;
} model;

static const model MODELS[] = {
    {"H100 SXM5 80GB", 90, 81559, 66900, GPURENT_IFACE_SXM, 10, 1900000, 3500000, 1},
    {"H200 SXM 141GB", 90, 143771, 66900, GPURENT_IFACE_SXM, 5, 3000000, 4500000, 1},
    {"A100 SXM4 80GB", 80, 81920, 19500, GPURENT_IFACE_SXM, 12, 1000000, 2000000, 1},
    {"L40S", 89, 46068, 91600, GPURENT_IFACE_PCIE, 10, 700000, 1200000, 1},
    {"RTX 4090", 89, 24564, 82600, GPURENT_IFACE_PCIE, 28, 300000, 700000, 0},
    {"RTX 3090", 86, 24576, 35600, GPURENT_IFACE_PCIE, 20, 150000, 350000, 0},
    {"T4", 75, 15360, 8100, GPURENT_IFACE_PCIE, 15, 100000, 300000, 0},
};
#define NMODELS (sizeof MODELS / sizeof MODELS[0])
static const char *const REGIONS[] = {"us-east", "us-west", "us-central", "eu-west", "eu-central",
                                      "eu-north", "ap-south", "ap-northeast", "ap-southeast", "sa-east"};
static const uint32_t REGION_W[] = {22, 14, 10, 16, 12, 5, 7, 6, 5, 3};
#define NREGIONS 10

static uint32_t pick_model(rng *r)
{
    uint32_t total = 0, x;
    for (uint32_t i = 0; i < NMODELS; i++) total += MODELS[i].weight;
    x = (uint32_t)below(r, total);
    for (uint32_t i = 0; i < NMODELS; i++) {
        if (x < MODELS[i].weight) return i;
        x -= MODELS[i].weight;
    }
    return 0;
}

static uint32_t pick_region(rng *r)
{
    uint32_t x = (uint32_t)below(r, 100);
    for (uint32_t i = 0; i < NREGIONS; i++) {
        if (x < REGION_W[i]) return i;
        x -= REGION_W[i];
    }
    return 0;
}

static uint32_t gpus_per_node(rng *r, int dc)
{
    uint32_t x = (uint32_t)below(r, 100);
    if (dc) return x < 60 ? 8 : x < 85 ? 4 : x < 95 ? 2 : 1;
    return x < 40 ? 1 : x < 70 ? 2 : x < 90 ? 4 : 8;
}

typedef struct provider_trust {
    uint8_t key[32];
    uint32_t tier, score;
} provider_trust;

/* What every generated offer starts with: provider key (its first 4 bytes
 * the id), seq 1, a region. */
static void offer_head(rng *r, gpurent_offer *o, uint32_t id)
{
    gpurent_offer_init(o);
    for (int i = 0; i < 32; i++) o->provider_key[i] = (uint8_t)rnext(r);
    memcpy(o->provider_key, &id, 4);
    o->seq = 1;
    snprintf(o->region, sizeof o->region, "%s", REGIONS[pick_region(r)]);
}

/* Node i of provider id, of model md: its id and the GPU's datasheet fields. */
static void node_head(gpurent_node *n, uint32_t id, uint32_t i, const model *md)
{
    memset(n, 0, sizeof *n);
    snprintf(n->node_id, sizeof n->node_id, "p%u-n%u", id, i);
    snprintf(n->gpu.model, sizeof n->gpu.model, "%s", md->name);
    n->gpu.cc_major = md->cc / 10;
    n->gpu.cc_minor = md->cc % 10;
    n->gpu.memory_mib = md->vram;
    n->gpu.fp32_gflops = md->gflops;
    n->gpu.interface = md->iface;
}

/* One provider's offer of up to `max_nodes` nodes. */
static void gen_offer(rng *r, gpurent_offer *o, uint32_t id, uint32_t max_nodes, provider_trust *t)
{
    offer_head(r, o, id);
    o->stake_micro = below(r, 4) ? between(r, 0, 2000000) * 1000000ull : 0;
    if (below(r, 10) == 0) o->min_duration_s = 4 * 3600;
    uint32_t nodes = 1;
    while (nodes < 64 && below(r, 4) != 0) nodes++; /* geometric, mean 4 */
    if (nodes > max_nodes) nodes = max_nodes;
    uint32_t base = pick_model(r);
    for (uint32_t i = 0; i < nodes; i++) {
        gpurent_node n;
        const model *md = &MODELS[below(r, 10) < 7 ? base : pick_model(r)];
        node_head(&n, id, i, md);
        n.gpu.measured_fp32_gflops = below(r, 2) ? md->gflops * between(r, 85, 100) / 100 : 0;
        static const uint32_t cuda[4] = {12040, 12020, 12060, 11080};
        n.gpu.cuda_version = cuda[below(r, 100) < 40 ? 0 : below(r, 3) + 1];
        n.gpu_count = gpus_per_node(r, md->datacenter);
        n.gpu_free = below(r, 100) < 85 ? n.gpu_count : (uint32_t)below(r, n.gpu_count + 1);
        n.shared = !md->datacenter && below(r, 100) < 3;
        n.cpu_millicores = n.gpu_count * 8000 + 4000;
        n.ram_mib = (uint64_t)n.gpu_count * 64 * 1024;
        n.disk_gib = between(r, 500, 4000);
        /* Prices cluster on round tenths of a unit, as on public listings. */
        n.price_micro_per_gpu_hour = between(r, md->pmin, md->pmax) / 10000 * 10000;
        gpurent_offer_add_node(o, &n);
    }
    memcpy(t->key, o->provider_key, 32);
    uint32_t x = (uint32_t)below(r, 100);
    t->tier = x < 10 ? 1 : x < 25 ? 2 : x < 45 ? 3 : x < 65 ? 4 : x < 80 ? 5 : x < 92 ? 6 : 7;
    t->score = (uint32_t)between(r, 500000, 1000000);
}

static void gen_request(rng *r, gpurent_request *q, uint32_t i, uint64_t now, int gangs)
{
    gpurent_request_init(q);
    snprintf(q->request_id, sizeof q->request_id, "req-%07u", i);
    uint32_t x = (uint32_t)below(r, 100);
    const model *md = &MODELS[pick_model(r)];
    if (x < 2) {
        q->vram_share_pct = (uint32_t)between(r, 1, 9) * 10;
        md = &MODELS[4 + below(r, 2)];
    } else if (gangs && x < 5) {
        static const uint32_t dc[3] = {0, 1, 2};
        md = &MODELS[dc[below(r, 3)]];
        q->gang_nodes = 2;
        q->gpu_count = 16;
        q->gang_scope = x < 4 ? GPURENT_GANG_PROVIDER : GPURENT_GANG_REGION;
    } else {
        uint32_t y = (uint32_t)below(r, 100);
        q->gpu_count = y < 45 ? 1 : y < 67 ? 2 : y < 85 ? 4 : 8;
    }
    uint32_t y = (uint32_t)below(r, 100);
    if (y < 70) {
        gpurent_request_add_model(q, md->name);
    } else if (y < 80) {
        gpurent_request_add_model(q, md->name);
        const model *m2 = &MODELS[pick_model(r)];
        if (m2 != md) gpurent_request_add_model(q, m2->name);
    } else {
        q->min_vram_mib = md->vram * 95 / 100;
    }
    if (below(r, 100) < 60) q->max_price_micro_per_gpu_hour = (md->pmin + md->pmax) / 2 * between(r, 80, 150) / 100;
    uint32_t z = (uint32_t)below(r, 100);
    if (z < 25) {
        uint32_t k = 1 + (uint32_t)below(r, 3);
        for (uint32_t j = 0; j < k; j++) {
            const char *reg = REGIONS[pick_region(r)];
            int dup = 0;
            for (uint32_t t = 0; t < q->region_count; t++) dup |= strcmp(q->regions[t], reg) == 0;
            if (!dup) gpurent_request_allow_region(q, reg);
        }
    } else if (z < 30) {
        gpurent_request_exclude_region(q, REGIONS[pick_region(r)]);
    }
    uint32_t c = (uint32_t)below(r, 100);
    if (c < 30) q->min_cuda_version = 12020;
    else if (c < 40) q->min_cuda_version = 12040;
    if (below(r, 100) < 15) q->allowed_tiers = 0x0e;
    if (below(r, 100) < 10) q->verified_only = 1;
    uint32_t per_node = q->vram_share_pct ? 1 : q->gpu_count / q->gang_nodes;
    q->cpu_millicores = per_node * 4000;
    q->ram_mib = (uint64_t)per_node * 32 * 1024;
    q->duration_s = (uint32_t)between(r, 3600, 7 * 86400);
    q->submitted_at = now - below(r, 7200);
}

/* ---- building markets ---- */

typedef struct inst {
    gpurent_offer *offers;
    provider_trust *trust;
    uint32_t offer_count, node_count;
    gpurent_request *reqs;
    uint32_t req_count;
    uint8_t *verified; /* per offer node, in order */
} inst;

/* Generates one offer of at most max_nodes nodes for provider `id`. */
typedef void (*offer_gen)(rng *r, gpurent_offer *o, uint32_t id, uint32_t max_nodes, provider_trust *t);

/* The one allocator of instances: offers from `gen` until they hold `nodes`
 * nodes (at most `cap` offers), room for their nodes' verified flags and
 * for `reqs` requests; the caller fills the flags and the requests, in that
 * order, from the same rng. */
static void inst_alloc(inst *in, rng *r, uint32_t nodes, uint32_t cap, uint32_t reqs, offer_gen gen)
{
    memset(in, 0, sizeof *in);
    in->offers = calloc(cap, sizeof *in->offers);
    in->trust = calloc(cap, sizeof *in->trust);
    while (in->node_count < nodes) {
        gen(r, &in->offers[in->offer_count], in->offer_count, nodes - in->node_count, &in->trust[in->offer_count]);
        in->node_count += in->offers[in->offer_count].node_count;
        in->offer_count++;
    }
    in->verified = malloc(in->node_count);
    in->req_count = reqs;
    in->reqs = calloc(reqs ? reqs : 1, sizeof *in->reqs);
}

static void inst_make(inst *in, uint64_t seed, uint32_t nodes, uint32_t reqs, uint64_t now, int gangs)
{
    rng r = {seed};
    inst_alloc(in, &r, nodes, nodes / 2 + 16, reqs, gen_offer);
    for (uint32_t i = 0; i < in->node_count; i++) in->verified[i] = below(&r, 100) < 70;
    for (uint32_t i = 0; i < reqs; i++) gen_request(&r, &in->reqs[i], i, now, gangs);
}

/* ---- the hard markets: four models, more GPUs asked than offered ---- */

/* Four models, single-node requests naming 1 to 3 of them, price caps, more
 * GPUs asked than offered: the markets where the greedy pass served 0.80 to
 * 0.86 of the requests that could all be placed at once. Nodes are
 * consumer-sized (mostly 1-2 GPUs), requests 1-8 GPUs. */
static const uint32_t HARD_MODELS[4] = {0, 2, 3, 4}; /* H100, A100, L40S, RTX 4090 */

static void hard_offer(rng *r, gpurent_offer *o, uint32_t id, uint32_t max_nodes, provider_trust *t)
{
    offer_head(r, o, id);
    o->stake_micro = between(r, 0, 2000000) * 1000000ull;
    uint32_t nodes = 1;
    while (nodes < 16 && below(r, 3) != 0) nodes++;
    if (nodes > max_nodes) nodes = max_nodes;
    uint32_t base = HARD_MODELS[below(r, 4)];
    for (uint32_t i = 0; i < nodes; i++) {
        gpurent_node n;
        const model *md = &MODELS[below(r, 10) < 7 ? base : HARD_MODELS[below(r, 4)]];
        node_head(&n, id, i, md);
        n.gpu.cuda_version = 12040;
        uint32_t x = (uint32_t)below(r, 100);
        n.gpu_count = x < 35 ? 1 : x < 65 ? 2 : x < 90 ? 4 : 8;
        n.gpu_free = n.gpu_count;
        n.cpu_millicores = n.gpu_count * 8000 + 4000;
        n.ram_mib = (uint64_t)n.gpu_count * 64 * 1024;
        n.disk_gib = 1000;
        n.price_micro_per_gpu_hour = between(r, md->pmin, md->pmax) / 10000 * 10000;
        gpurent_offer_add_node(o, &n);
    }
    memcpy(t->key, o->provider_key, 32);
    t->tier = (uint32_t)between(r, 1, 7);
    t->score = (uint32_t)between(r, 500000, 1000000);
}

static void hard_request(rng *r, gpurent_request *q, uint32_t i, uint64_t now)
{
    gpurent_request_init(q);
    snprintf(q->request_id, sizeof q->request_id, "req-%07u", i);
    uint32_t y = (uint32_t)below(r, 100);
    q->gpu_count = y < 40 ? 1 : y < 65 ? 2 : y < 85 ? 4 : 8;
    uint32_t k = 1 + (uint32_t)below(r, 3), first = (uint32_t)below(r, 4);
    uint64_t cap = 0;
    for (uint32_t j = 0; j < k; j++) {
        const model *md = &MODELS[HARD_MODELS[(first + j) % 4]];
        gpurent_request_add_model(q, md->name);
        if (md->pmax > cap) cap = md->pmax;
    }
    /* a cap on most requests, somewhere in the range of the dearest model named */
    if (below(r, 100) < 70) q->max_price_micro_per_gpu_hour = cap * between(r, 50, 100) / 100;
    q->cpu_millicores = q->gpu_count * 4000;
    q->ram_mib = (uint64_t)q->gpu_count * 32 * 1024;
    q->duration_s = (uint32_t)between(r, 3600, 7 * 86400);
    q->submitted_at = now - below(r, 7200);
}

static void hard_make(inst *in, uint64_t seed, uint32_t nodes, uint32_t reqs, uint64_t now)
{
    rng r = {seed};
    inst_alloc(in, &r, nodes, nodes + 16, reqs, hard_offer);
    for (uint32_t i = 0; i < in->node_count; i++) in->verified[i] = 1;
    for (uint32_t i = 0; i < reqs; i++) hard_request(&r, &in->reqs[i], i, now);
}

static void inst_free(inst *in)
{
    for (uint32_t i = 0; i < in->offer_count; i++) gpurent_offer_clear(&in->offers[i]);
    free(in->offers);
    free(in->trust);
    free(in->reqs);
    free(in->verified);
}

static gpurent_market *market_of(const inst *in, uint32_t threads, int with_requests)
{
    gpurent_match_options o = GPURENT_MATCH_OPTIONS_INIT;
    o.threads = threads;
    uint8_t seed[32] = {0x42};
    gpurent_market *m = NULL;
    if (gpurent_market_new(&m, &o, seed)) abort();
    uint32_t v = 0;
    for (uint32_t i = 0; i < in->offer_count; i++) {
        const gpurent_offer *of = &in->offers[i];
        if (gpurent_market_put_offer(m, of)) {
            fprintf(stderr, "put_offer: %s\n", gpurent_last_error_message());
            abort();
        }
        gpurent_market_set_trust(m, of->provider_key, in->trust[i].tier, in->trust[i].score);
        for (uint32_t j = 0; j < of->node_count; j++, v++)
            if (in->verified[v]) gpurent_market_set_verified(m, of->provider_key, of->nodes[j].node_id, 1);
    }
    for (uint32_t i = 0; with_requests && i < in->req_count; i++)
        if (gpurent_market_add_request(m, &in->reqs[i])) {
            fprintf(stderr, "add_request: %s\n", gpurent_last_error_message());
            abort();
        }
    return m;
}

/* ---- naive baselines ---- */

typedef struct naive_result {
    uint64_t value, gpus;
    uint32_t assigned;
} naive_result;

static uint64_t unit_value(const gpurent_market *m, uint64_t prio, const mnode *n)
{
    return prio + (m->w_static ? n->stat / m->w_static : 0);
}

/* Naive greedy: requests in submission order; each takes the cheapest
 * feasible node (gangs: the cheapest group), by a full scan. */
static naive_result naive_greedy(gpurent_market *m, uint64_t now, uint32_t limit)
{
    naive_result res = {0, 0, 0};
    uint32_t *ord = malloc(sizeof *ord * (m->req_used + 1)), n = 0;
    for (uint32_t i = 0; i < m->req_used; i++)
        if (m->reqs[i].alive) ord[n++] = i;
    uint32_t *grp = calloc(m->prov_used + m->regions.count + 1, sizeof *grp);
    uint64_t *gsum = calloc(m->prov_used + m->regions.count + 1, sizeof *gsum);
    uint32_t *pick = malloc(sizeof *pick * 64);
    for (uint32_t k = 0; k < n && k < limit; k++) {
        const mreq *q = &m->reqs[ord[k]];
        uint32_t G = q->share ? 1 : q->gang_nodes, need = q->share ? 0 : q->gpu_count / q->gang_nodes;
        uint64_t prio = ml_prio(m, q, now);
        if (G == 1) {
            uint32_t best = NIL;
            for (uint32_t i = 0; i < m->node_used; i++) {
                const mnode *x = &m->nodes[i];
                if (!x->alive || ml_check(m, q, x, 0)) continue;
                if (best == NIL || x->price < m->nodes[best].price) best = i;
            }
            if (best == NIL) continue;
            mnode *x = &m->nodes[best];
            if (q->share) {
                uint32_t gi = 0;
                for (uint32_t g = 0; g < x->gpu_count; g++)
                    if (x->share[g] >= q->share) { gi = g; break; }
                ml_node_set_share(m, best, gi, x->share[gi] - q->share);
                res.value += unit_value(m, prio, x) * q->share / 100;
            } else {
                ml_node_set_free(m, best, x->gpu_free - need);
                res.value += unit_value(m, prio, x) * need;
                res.gpus += need;
            }
            res.assigned++;
            continue;
        }
        /* Gangs: count feasible nodes per group, take the first full group by price sum. */
        memset(grp, 0, sizeof *grp * (m->prov_used + m->regions.count + 1));
        memset(gsum, 0, sizeof *gsum * (m->prov_used + m->regions.count + 1));
        uint32_t bestg = NIL;
        for (uint32_t i = 0; i < m->node_used; i++) {
            const mnode *x = &m->nodes[i];
            if (!x->alive || ml_check(m, q, x, 0)) continue;
            uint32_t g = q->scope == GPURENT_GANG_REGION ? m->provs[x->provider].region : x->provider;
            if (grp[g] < G) {
                grp[g]++;
                gsum[g] += x->price;
                if (grp[g] == G && (bestg == NIL || gsum[g] < gsum[bestg])) bestg = g;
            }
        }
        if (bestg == NIL) continue;
        uint32_t taken = 0;
        for (uint32_t i = 0; i < m->node_used && taken < G; i++) {
            mnode *x = &m->nodes[i];
            if (!x->alive || ml_check(m, q, x, 0)) continue;
            uint32_t g = q->scope == GPURENT_GANG_REGION ? m->provs[x->provider].region : x->provider;
            if (g != bestg) continue;
            pick[taken++] = i;
        }
        for (uint32_t t = 0; t < taken; t++) {
            mnode *x = &m->nodes[pick[t]];
            ml_node_set_free(m, pick[t], x->gpu_free - need);
            res.value += unit_value(m, prio, x) * need;
            res.gpus += need;
        }
        res.assigned++;
    }
    free(ord);
    free(grp);
    free(gsum);
    free(pick);
    return res;
}

/* Naive filter-and-score top-k for one request: every node checked and scored. */
static uint32_t naive_best(const gpurent_market *m, const gpurent_request *req, uint32_t k, uint32_t *out)
{
    mreq q;
    msearch s;
    memset(&s, 0, sizeof s);
    ml_req_prepare(m, req, &q, 0);
    s.m = m;
    s.q = &q;
    s.need = q.share ? 0 : q.gpu_count / q.gang_nodes;
    s.share = q.share;
    s.gangs = 1;
    s.strand = ml_strand_min(m);
    uint64_t tot[64];
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->node_used; i++) {
        const mnode *x = &m->nodes[i];
        if (!x->alive || ml_check(m, &q, x, 0)) continue;
        uint64_t t = ml_node_total(&s, x, NULL);
        if (n == k && t <= tot[k - 1]) continue;
        uint32_t j = n < k ? n++ : k - 1;
        while (j > 0 && tot[j - 1] < t) {
            tot[j] = tot[j - 1];
            out[j] = out[j - 1];
            j--;
        }
        tot[j] = t;
        out[j] = i;
    }
    ml_req_release(&q);
    return n;
}

/* ---- stranding ---- */

static uint8_t *snapshot_free(const gpurent_market *m)
{
    uint8_t *f = malloc(m->node_used + 1);
    for (uint32_t i = 0; i < m->node_used; i++) f[i] = m->nodes[i].gpu_free;
    return f;
}

/* GPUs left free on nodes the batch touched, where fewer than `strand` remain. */
static uint64_t stranded(const gpurent_market *m, const uint8_t *before, uint32_t strand)
{
    uint64_t s = 0;
    for (uint32_t i = 0; i < m->node_used; i++) {
        const mnode *x = &m->nodes[i];
        if (!x->alive || x->shared || x->gpu_free == before[i]) continue;
        if (x->gpu_free > 0 && x->gpu_free < strand) s += x->gpu_free;
    }
    return s;
}

/* ---- quality ---- */

static int write_instance(const gpurent_market *m, uint64_t now, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "nodes %u\n", m->node_used);
    for (uint32_t i = 0; i < m->node_used; i++) fprintf(f, "%u\n", m->nodes[i].alive ? m->nodes[i].gpu_free : 0);
    uint32_t nreq = 0;
    for (uint32_t i = 0; i < m->req_used; i++) nreq += m->reqs[i].alive && !m->reqs[i].share;
    fprintf(f, "requests %u\n", nreq);
    uint64_t pairs = 0;
    uint32_t *c = malloc(sizeof *c * (m->node_used + 1));
    for (uint32_t r = 0; r < m->req_used; r++) {
        const mreq *q = &m->reqs[r];
        if (!q->alive || q->share) continue; /* shares are left out of the exact model */
        uint32_t G = q->gang_nodes, need = q->gpu_count / G, k = 0;
        for (uint32_t i = 0; i < m->node_used; i++)
            if (m->nodes[i].alive && !ml_check(m, q, &m->nodes[i], 0)) c[k++] = i;
        uint64_t prio = ml_prio(m, q, now);
        fprintf(f, "%u %u %u\n", G, need, k);
        for (uint32_t j = 0; j < k; j++) {
            const mnode *x = &m->nodes[c[j]];
            uint32_t g = q->scope == GPURENT_GANG_REGION ? m->provs[x->provider].region : x->provider;
            fprintf(f, "%u %u %llu\n", c[j], g, (unsigned long long)(unit_value(m, prio, x) * need));
        }
        pairs += k;
    }
    free(c);
    fclose(f);
    return (int)(pairs > 0x7fffffff ? 0x7fffffff : pairs);
}

/* The exact reference: the LP relaxation's value (an upper bound) and, when
 * milp_limit > 0, SciPy's milp within that many seconds, of `objective`
 * ("value": the policy's value; "requests": requests placed; "gpus": GPUs
 * placed). Returns the milp status (0 proven optimum, 1 time limit), 9 when
 * only the LP ran, -1 when nothing came back. */
/* MATCH_BENCH_CACHE=DIR keeps the solver's answers: DIR/<BLAKE2b-128 of
 * the instance file>-<milp limit>-<objective>. The instances are drawn from
 * fixed seeds and do not depend on the library's batch, so a change to the
 * batch can be measured again without solving again. An answer is kept
 * only when it holds at least the LP bound (as the wall limit may leave). */
static int cache_path(const char *dir, const char *path, const char *objective, int milp_limit, char *out,
                      size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    crypto_generichash_state st;
    uint8_t h[16], buf[65536];
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0) crypto_generichash_update(&st, buf, k);
    fclose(f);
    crypto_generichash_final(&st, h, sizeof h);
    char hex[33];
    for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", h[i]);
    snprintf(out, cap, "%s/%s-%d-%s", dir, hex, milp_limit, objective);
    return 0;
}

static int exact_optimum(const char *path, const char *objective, int milp_limit, double *lp, double *opt,
                         double *bound, double *secs, double *lp_secs)
{
    const char *cache = getenv("MATCH_BENCH_CACHE");
    char cpath[1024] = "";
    FILE *keep = NULL;
    if (cache && cache_path(cache, path, objective, milp_limit, cpath, sizeof cpath) != 0) cpath[0] = 0;
    FILE *hit = cpath[0] ? fopen(cpath, "r") : NULL;
    const char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
    const char *script = getenv("MATCH_EXACT_PY") ? getenv("MATCH_EXACT_PY") : "bench/match_exact.py";
    char cmd[1024];
    /* HiGHS does not always honour its time limit during presolve: bound
     * the wall time too. The GPUs-placed LP at 2000 x 2000 takes about 2
     * minutes (the value LP 9 s), so the counts get a longer bound. */
    int wall = (strcmp(objective, "value") ? 240 : 60) + 2 * milp_limit;
    snprintf(cmd, sizeof cmd, "timeout %d %s %s %s %d %s", wall, py, script, path, milp_limit, objective);
    FILE *p = hit ? hit : popen(cmd, "r");
    if (!p) return -1;
    char tmp[1040];
    if (!hit && cpath[0]) {
        snprintf(tmp, sizeof tmp, "%s.tmp", cpath);
        keep = fopen(tmp, "w");
    }
    char line[512];
    int lp_st = -1, status = 9;
    *lp = *opt = *bound = *secs = *lp_secs = 0;
    while (fgets(line, sizeof line, p)) {
        if (keep) fputs(line, keep);
        int st;
        double a, b, t;
        if (sscanf(line, "lp %lf status %d seconds %lf", &a, &st, &t) == 3 && st == 0) {
            *lp = a;
            *lp_secs = t;
            lp_st = 0;
        } else if (sscanf(line, "optimum %lf bound %lf status %d seconds %lf", &a, &b, &st, &t) == 4) {
            *opt = a;
            *bound = b;
            *secs = t;
            status = st;
        }
    }
    if (hit) fclose(hit);
    else pclose(p); /* a milp killed by the wall limit still leaves the LP bound */
    if (keep) {
        int ok = fclose(keep) == 0 && lp_st == 0;
        if (!ok || rename(tmp, cpath) != 0) remove(tmp);
    }
    if (lp_st != 0 && status == 9) return -1;
    return status;
}

/* The reference for one objective: the proven optimum when milp finished;
 * otherwise the tightest upper bound at hand (LP relaxation, or milp's dual
 * bound when lower), which makes a ratio against it a conservative (low)
 * figure. Returns 0 when the solver gave nothing. */
static double reference(int st, double lp, double opt, double bound, const char **what)
{
    if (st == 0 && opt > 0) {
        *what = "of_optimum";
        return opt;
    }
    if (st >= 0 && lp > 0) {
        *what = "of_lp_upper_bound";
        if (st == 1 && bound > 0 && bound < lp) {
            *what = "of_milp_dual_bound";
            return bound;
        }
        return lp;
    }
    *what = "";
    return 0;
}

/* Requests placed and GPUs placed against their own exact maxima (the same
 * constraints, each count maximised alone), beside the naive greedy. */
static void count_ratio(const char *lbl, const char *path, const char *objective, int milp_limit, double got,
                        double naive)
{
    double lp = 0, opt = 0, bound = 0, secs = 0, lp_secs = 0;
    const char *what;
    int st = exact_optimum(path, objective, milp_limit, &lp, &opt, &bound, &secs, &lp_secs);
    double ref = reference(st, lp, opt, bound, &what);
    if (st == 1 && opt <= 0)
        printf("quality %s: max %s: milp found no solution within its time limit; LP upper bound %.0f\n", lbl, objective, lp);
    else if (st == 0 || st == 1)
        printf("quality %s: max %s: milp %s %.0f, dual bound %.0f (LP %.0f), %.1f s\n", lbl, objective,
               st == 0 ? "optimum" : "incumbent at its time limit", opt, bound, lp, secs + lp_secs);
    else if (lp > 0)
        printf("quality %s: max %s: LP relaxation upper bound %.0f (%.1f s)\n", lbl, objective, lp, lp_secs);
    if (ref <= 0) {
        printf("quality %s: max %s: exact solver unavailable (status %d); no ratio\n", lbl, objective, st);
        return;
    }
    printf("BENCH match_%s_placed_%s %.4f %s baseline=naive_greedy:%.4f ratio=%.4f\n", objective, lbl,
           got / ref, what, naive / ref, naive > 0 ? got / naive : 0.0);
}

/* `reqs` requests against `nodes` nodes (labelled REQSxNODES, hard_REQSxNODES
 * for the hard four-model markets). Before December 2026 the generator was called
 * with the two counts swapped, so "900x300" had 900 nodes and 300 requests. */
static void quality(uint32_t reqs, uint32_t nodes, uint64_t seed, int milp_limit, int count_limit, int hard)
{
    const uint64_t now = 1760000000;
    inst in;
    char lbl[48];
    snprintf(lbl, sizeof lbl, "%s%ux%u", hard ? "hard_" : "", reqs, nodes);
    if (hard) hard_make(&in, seed, nodes, reqs, now);
    else inst_make(&in, seed, nodes, reqs, now, 1);
    /* the library's batch, without shares (the exact model leaves them out) */
    for (uint32_t i = 0; i < in.req_count; i++)
        if (in.reqs[i].vram_share_pct) {
            in.reqs[i].vram_share_pct = 0;
            in.reqs[i].gpu_count = 1;
        }
    gpurent_market *m = market_of(&in, 1, 1);
    uint32_t strand = ml_strand_min(m);
    char path[96];
    snprintf(path, sizeof path, "/tmp/gpurent_match_%s_%d.txt", lbl, (int)getpid());
    int pairs = write_instance(m, now, path);
    uint8_t *before = snapshot_free(m);
    gpurent_match_receipt r;
    gpurent_match_receipt_init(&r);
    double t0 = now_s();
    if (gpurent_market_match(m, now, NULL, &r)) abort();
    double t_batch = now_s() - t0;
    uint64_t value = r.total_value, gpus = 0;
    uint32_t assigned = r.assignment_count;
    for (uint32_t i = 0; i < r.placement_count; i++) gpus += r.placements[i].gpus;
    if (gpurent_market_apply(m, &r)) abort();
    uint64_t str = stranded(m, before, strand);
    gpurent_match_receipt_clear(&r);
    gpurent_market_free(m);
    free(before);

    m = market_of(&in, 1, 1);
    before = snapshot_free(m);
    t0 = now_s();
    naive_result nv = naive_greedy(m, now, UINT32_MAX);
    double t_naive = now_s() - t0;
    uint64_t nstr = stranded(m, before, strand);
    gpurent_market_free(m);
    free(before);

    double lp = 0, opt = 0, bound = 0, secs = 0, lp_secs = 0;
    int st = exact_optimum(path, "value", milp_limit, &lp, &opt, &bound, &secs, &lp_secs);
    printf("quality %s: pairs %d, batch %.1f ms value %llu (%u assigned, %llu GPUs), naive %.1f ms value %llu "
           "(%u assigned, %llu GPUs), strand threshold %u\n",
           lbl, pairs, t_batch * 1e3, (unsigned long long)value, assigned, (unsigned long long)gpus,
           t_naive * 1e3, (unsigned long long)nv.value, nv.assigned, (unsigned long long)nv.gpus, strand);
    const char *what;
    double ref = reference(st, lp, opt, bound, &what);
    if (lp > 0) printf("quality %s: LP relaxation upper bound %.0f (%.1f s)\n", lbl, lp, lp_secs);
    if (st == 0 || st == 1)
        printf("quality %s: milp %s %.0f, dual bound %.0f, status %d, %.1f s\n", lbl,
               st == 0 ? "optimum" : "stopped at its time limit, incumbent", opt, bound, st, secs);
    else if (st == 9)
        printf("quality %s: milp not run at this size (it does not finish in minutes); reference = LP bound\n", lbl);
    if (ref <= 0) {
        printf("quality %s: exact solver unavailable (status %d); no ratio\n", lbl, st);
    } else {
        double ratio = (double)value / ref, nratio = (double)nv.value / ref;
        printf("BENCH match_quality_%s %.4f %s baseline=naive_greedy:%.4f ratio=%.4f\n", lbl, ratio, what,
               nratio, ratio / nratio);
    }
    printf("BENCH match_stranded_gpus_%s %llu gpus baseline=naive_greedy:%llu ratio=%.3f\n", lbl,
           (unsigned long long)str, (unsigned long long)nstr, nstr ? (double)str / (double)nstr : 0.0);
    count_ratio(lbl, path, "requests", count_limit, assigned, nv.assigned);
    count_ratio(lbl, path, "gpus", count_limit, (double)gpus, (double)nv.gpus);
    if (!getenv("MATCH_BENCH_KEEP")) remove(path);
    inst_free(&in);
}

/* ---- speed ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void speed(uint32_t nodes, uint32_t reqs, int quick)
{
    const uint64_t now = 1760000000;
    inst in;
    inst_make(&in, 2025, nodes, reqs, now, 1);
    double t0 = now_s();
    gpurent_market *m = market_of(&in, 1, 0);
    double t_build = now_s() - t0;
    gpurent_market_stats st;
    gpurent_market_stats_get(m, &st);
    double per_node = (double)st.node_bytes / st.nodes;
    printf("speed: %u nodes from %u providers built in %.2f s (%.1f us per offer); node memory %.1f B/node, "
           "providers+names %.1f B/node\n",
           st.nodes, st.providers, t_build, t_build * 1e6 / st.providers, per_node,
           (double)st.other_bytes / st.nodes);

    /* MATCH_BENCH_ONLY=batch: the full batch alone, once (for profilers:
     * valgrind --tool=callgrind --toggle-collect=gpurent_market_match) */
    const char *only = getenv("MATCH_BENCH_ONLY");
    const int batch_only = only && strcmp(only, "batch") == 0;
    if (batch_only) goto batch;
    /* one request, k = 5 */
    rng r = {77};
    uint32_t nq = quick ? 301 : 2001, nn = quick ? 51 : 201;
    double *lat = malloc(sizeof *lat * nq), *nlat = malloc(sizeof *nlat * nn);
    uint64_t found = 0, agree = 0;
    for (uint32_t i = 0; i < nq; i++) {
        gpurent_request q;
        gen_request(&r, &q, 9000000 + i, now, 0);
        gpurent_match_candidate c[5];
        uint32_t n;
        t0 = now_s();
        gpurent_market_best(m, &q, 5, c, &n);
        lat[i] = now_s() - t0;
        found += n > 0;
        if (i < nn) {
            uint32_t slots[5];
            t0 = now_s();
            uint32_t k = naive_best(m, &q, 5, slots);
            nlat[i] = now_s() - t0;
            agree += k == n && (k == 0 || strcmp(m->nodes[slots[0]].id, c[0].node_id) == 0 ||
                                m->nodes[slots[0]].stat + 0 == 0);
        }
    }
    qsort(lat, nq, sizeof *lat, cmp_double);
    qsort(nlat, nn, sizeof *nlat, cmp_double);
    double med = lat[nq / 2] * 1e6, nmed = nlat[nn / 2] * 1e6;
    printf("single: %u requests, %llu with a candidate; median %.1f us, p90 %.1f us, max %.1f us; naive median %.1f us "
           "(%llu/%u same count and best)\n",
           nq, (unsigned long long)found, med, lat[nq * 9 / 10] * 1e6, lat[nq - 1] * 1e6, nmed,
           (unsigned long long)agree, nn);
    printf("BENCH match_single_%uk_median %.1f us baseline=naive_full_scan:%.1f ratio=%.4f\n", nodes / 1000, med, nmed,
           med / nmed);
    free(lat);
    free(nlat);

batch:
    t0 = now_s();
    for (uint32_t i = 0; i < in.req_count; i++)
        if (gpurent_market_add_request(m, &in.reqs[i])) abort();
    double t_add = now_s() - t0;
    gpurent_market_stats_get(m, &st);
    double per_req = (double)st.request_bytes / st.requests;
    printf("batch: %u requests added in %.2f s; request memory %.1f B/request\n", st.requests, t_add, per_req);
    gpurent_match_receipt rc;
    gpurent_match_receipt_init(&rc);
    if (batch_only) {
        t0 = now_s();
        if (gpurent_market_match(m, now, NULL, &rc)) abort();
        printf("batch: %u of %u requests assigned, value %llu, in %.3f s on one thread\n", rc.assignment_count,
               rc.request_count, (unsigned long long)rc.total_value, now_s() - t0);
        gpurent_match_receipt_clear(&rc);
        gpurent_market_free(m);
        inst_free(&in);
        return;
    }
    /* the greedy pass alone (no improvement phase), for comparison */
    m->no_improve = 1;
    t0 = now_s();
    if (gpurent_market_match(m, now, NULL, &rc)) abort();
    double t_greedy = now_s() - t0;
    m->no_improve = 0;
    printf("batch: greedy pass alone: %u of %u requests assigned, value %llu, in %.3f s\n", rc.assignment_count,
           rc.request_count, (unsigned long long)rc.total_value, t_greedy);
    gpurent_match_receipt_clear(&rc);
    t0 = now_s();
    if (gpurent_market_match(m, now, NULL, &rc)) abort();
    double t_batch = now_s() - t0;
    printf("batch: with the improvement phase: value %llu\n", (unsigned long long)rc.total_value);
    uint64_t gpus = 0;
    for (uint32_t i = 0; i < rc.placement_count; i++) gpus += rc.placements[i].gpus;
    printf("batch: %u of %u requests assigned (%llu GPUs) in %.3f s on one thread\n", rc.assignment_count,
           rc.request_count, (unsigned long long)gpus, t_batch);
    gpurent_match_receipt_clear(&rc);
    /* naive full scan greedy on a sample, extrapolated to the whole batch */
    uint32_t sample = quick ? 100 : 400;
    t0 = now_s();
    naive_greedy(m, now, sample);
    double t_naive = (now_s() - t0) / sample * in.req_count;
    printf("batch: naive full-scan greedy %.1f ms per request over %u requests, %.1f s extrapolated to %u\n",
           (now_s() - t0) * 1e3 / sample, sample, t_naive, in.req_count);
    printf("BENCH match_batch_%uk_x_%uk %.3f s baseline=naive_full_scan_extrapolated:%.1f ratio=%.5f\n", reqs / 1000,
           nodes / 1000, t_batch, t_naive, t_batch / t_naive);
    printf("BENCH match_memory_per_node %.1f bytes baseline=goal:256 ratio=%.3f\n", per_node, per_node / 256.0);
    printf("BENCH match_memory_per_request %.1f bytes baseline=goal:256 ratio=%.3f\n", per_req, per_req / 256.0);
    gpurent_market_free(m);
    inst_free(&in);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (gpurent_init()) return 1;
    const char *only = getenv("MATCH_BENCH_ONLY"); /* "quality", "speed" or "batch" */
    if (!only || !strcmp(only, "quality")) {
        /* milp proves the optimum at 500 x 500 in seconds; at 1000 and 2000
         * (88 000 and 358 000 pairs) it does not finish within minutes, so
         * those are measured against the LP bound unless MATCH_BENCH_MILP=1
         * asks for a 60 s milp attempt as well. */
        int all = getenv("MATCH_BENCH_MILP") != NULL;
        /* The counts (requests, GPUs placed) are easier programs: milp gets
         * MATCH_BENCH_COUNT_MILP seconds (default 30) at every size. */
        int count = getenv("MATCH_BENCH_COUNT_MILP") ? atoi(getenv("MATCH_BENCH_COUNT_MILP")) : 30;
        const char *q = getenv("MATCH_BENCH_QUALITY"); /* "square", "tight", "hard" or unset: all */
        if (!q || !strcmp(q, "square")) {
            quality(500, 500, 11, 20, count, 0);
            quality(1000, 1000, 12, all ? 60 : 0, count, 0);
            if (!quick) quality(2000, 2000, 13, all ? 60 : 0, count, 0);
        }
        /* Demand beyond supply: 3 requests per node. */
        if (!q || !strcmp(q, "tight")) {
            quality(900, 300, 14, 20, count, 0);
            if (!quick) quality(1800, 600, 15, 20, count, 0);
        }
        /* The hard markets: single-node requests over four models, model
         * lists and price caps, more GPUs asked than offered. */
        if (!q || !strcmp(q, "hard")) {
            quality(300, 200, 21, 20, count, 1);
            quality(900, 600, 22, 20, count, 1);
            quality(1200, 900, 23, 20, count, 1);
            if (!quick) quality(1200, 1200, 24, 20, count, 1);
            if (!quick) quality(2000, 2000, 25, 0, count, 1);
        }
    }
    if (!only || strcmp(only, "quality")) speed(100000, 100000, quick);
    return 0;
}
