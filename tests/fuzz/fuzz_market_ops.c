/* Stateful fuzzing of the market: the input is a program, one
 * operation after another, drawn from a small world (4 providers, 8 node
 * ids, 8 model names of which 2 are made up per operation, 3 regions, 16
 * request ids) so that operations collide: nodes are re-offered with other
 * shapes while leased, buckets empty and fill again, names are freed and
 * reused, requests come and go around leases.
 *
 * Operations: put_offer, remove_offer, add_request, remove_request, match
 * then apply (the engine's own receipt must apply), end_lease, set_trust,
 * set_verified, best and explain (read-only). After every operation:
 * - ml_market_check(): every count, link, histogram, reference count and
 *   hash entry of the index recomputed from scratch;
 * - a failed call returns a negative status with a non-empty detail and
 *   leaves the market's digests and stats as they were;
 * - the harness's own books: which providers and leases exist, which
 *   requests are pending, agree with the market's stats.
 * Seeds: tests/fuzz/corpus/market_ops (fixed programs, one per theme; new
 * ones come from `make fuzz` and `make fuzz-merge`). */
#include "fuzz_common.h"
#include "match/match_internal.h"

#define W_PROVS 4
#define W_NODES 8
#define W_REQS 16
#define W_MAX_OPS 128

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint32_t rd(reader *r)
{
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}

static uint32_t rd_below(reader *r, uint32_t n) { return rd(r) % n; }

typedef struct world {
    gpurent_market *m;
    uint64_t seq[W_PROVS];
    uint8_t offered[W_PROVS];
    uint8_t pending[W_REQS]; /* add_request accepted, not yet leased or removed */
    uint8_t leased[W_REQS];
} world;

static const char *const MODELS[6] = {"H100 SXM5 80GB", "A100 SXM4 80GB", "RTX 4090", "T4", "L40S", "H200"};
static const char *const REGIONS[3] = {"eu-west", "us-east", "ap-south"};

static void key_of(uint32_t p, uint8_t key[GPURENT_KEY_BYTES])
{
    memset(key, 0x40 + (int)p, GPURENT_KEY_BYTES);
}

static void model_name(reader *r, char out[GPURENT_NAME_MAX])
{
    uint32_t v = rd_below(r, 8);
    if (v < 6) snprintf(out, GPURENT_NAME_MAX, "%s", MODELS[v]);
    else snprintf(out, GPURENT_NAME_MAX, "made-up-%u", rd(r)); /* 256 names: buckets fill and empty */
}

static void node_fill(reader *r, gpurent_node *n)
{
    memset(n, 0, sizeof *n);
    snprintf(n->node_id, sizeof n->node_id, "n%u", rd_below(r, W_NODES));
    model_name(r, n->gpu.model);
    uint32_t g = rd(r);
    n->gpu.cc_major = 7 + (g & 3);
    n->gpu.cc_minor = (g >> 2) & 7;
    n->gpu.memory_mib = 8192u << ((g >> 5) & 3);
    n->gpu.fp32_gflops = 10000 + 1000 * (uint64_t)rd_below(r, 90);
    n->gpu.interface = rd_below(r, 3);
    n->gpu.cuda_version = 11000 + 20 * rd_below(r, 60);
    n->shared = rd_below(r, 3) == 0;
    n->gpu_count = 1 + rd_below(r, 8);
    n->gpu_free = rd_below(r, 4) ? n->gpu_count : rd_below(r, n->gpu_count + 1); /* mostly all free */
    n->cpu_millicores = 16000;
    n->ram_mib = 64 * 1024;
    n->disk_gib = 500;
    n->price_micro_per_gpu_hour = 500000 + 100000 * (uint64_t)rd_below(r, 40);
    if (rd_below(r, 4) == 0) memset(n->report_digest, (int)rd(r) | 1, sizeof n->report_digest);
    /* GPU UUIDs from a small set, so offers collide (one GPU, one place) */
    if (rd_below(r, 3) == 0) memset(n->gpu.uuid, 1 + (int)rd_below(r, 12), sizeof n->gpu.uuid);
}

/* Snapshot of what a refused call must leave unchanged. */
typedef struct shot {
    uint8_t od[32], rd[32];
    gpurent_market_stats st;
} shot;

static void take(const gpurent_market *m, shot *s)
{
    uint8_t pd[32];
    FUZZ_ASSERT(gpurent_market_digests(m, s->od, s->rd, pd) == GPURENT_OK, "digests");
    FUZZ_ASSERT(gpurent_market_stats_get(m, &s->st) == GPURENT_OK, "stats");
}

static void refused(const gpurent_market *m, int rc, const shot *before, const char *op)
{
    FUZZ_ASSERT(rc < 0 && gpurent_last_error_status() == rc && gpurent_last_error_message()[0],
                "%s: status %d without its detail", op, rc);
    FUZZ_ASSERT(rc != GPURENT_E_INTERNAL, "%s: internal error", op);
    shot after;
    take(m, &after);
    FUZZ_ASSERT(memcmp(before->od, after.od, 32) == 0 && memcmp(before->rd, after.rd, 32) == 0,
                "%s refused (%s) but changed the market", op, gpurent_status_name(rc));
    FUZZ_ASSERT(before->st.nodes == after.st.nodes && before->st.requests == after.st.requests &&
                    before->st.leases == after.st.leases && before->st.gpus_free == after.st.gpus_free,
                "%s refused (%s) but changed the stats", op, gpurent_status_name(rc));
}

static void op_put_offer(world *w, reader *r)
{
    uint32_t p = rd_below(r, W_PROVS);
    gpurent_offer o;
    gpurent_offer_init(&o);
    key_of(p, o.provider_key);
    /* Mostly the next sequence number, sometimes a stale one. */
    o.seq = rd_below(r, 8) ? ++w->seq[p] : w->seq[p];
    snprintf(o.region, sizeof o.region, "%s", REGIONS[rd_below(r, 3)]);
    o.stake_micro = 1000000ull * rd(r);
    o.min_duration_s = 0;
    o.max_duration_s = 0;
    uint32_t count = 1 + rd_below(r, 6);
    for (uint32_t i = 0; i < count; i++) {
        gpurent_node n;
        node_fill(r, &n);
        if (gpurent_offer_add_node(&o, &n) != GPURENT_OK) break; /* a repeated node id */
    }
    shot s;
    take(w->m, &s);
    int rc = gpurent_market_put_offer(w->m, &o);
    if (rc) refused(w->m, rc, &s, "put_offer");
    else w->offered[p] = 1;
    gpurent_offer_clear(&o);
}

static void op_remove_offer(world *w, reader *r)
{
    uint32_t p = rd_below(r, W_PROVS);
    uint8_t key[GPURENT_KEY_BYTES];
    key_of(p, key);
    shot s;
    take(w->m, &s);
    int rc = gpurent_market_remove_offer(w->m, key);
    FUZZ_ASSERT((rc == GPURENT_OK) == w->offered[p], "remove_offer: %d, offered %u", rc, w->offered[p]);
    if (rc) refused(w->m, rc, &s, "remove_offer");
    w->offered[p] = 0;
}

static void request_fill(reader *r, gpurent_request *q, uint32_t id)
{
    gpurent_request_init(q);
    snprintf(q->request_id, sizeof q->request_id, "r%u", id);
    uint32_t v = rd(r);
    q->gang_nodes = 1 + (v & 1) + ((v >> 1) & 1);
    q->gpu_count = q->gang_nodes * (1 + rd_below(r, 4));
    q->gang_scope = rd_below(r, 3);
    if (rd_below(r, 3) == 0) {
        q->vram_share_pct = 10 * (1 + rd_below(r, 10));
        q->gpu_count = 1;
        q->gang_nodes = 1;
    }
    /* Mostly easy requests, so that leases are common; each constraint now and then. */
    uint32_t hard = rd(r);
    q->min_vram_mib = hard & 1 ? 8192u << rd_below(r, 4) : 0;
    q->max_price_micro_per_gpu_hour = hard & 2 ? 500000 + 100000 * (uint64_t)rd_below(r, 40) : 0;
    q->allowed_tiers = hard & 4 ? rd(r) << 1 : 0;
    q->verified_only = (hard & 24) == 24;
    q->duration_s = 3600;
    q->submitted_at = 1700000000 - 60 * (uint64_t)rd(r);
    uint32_t lists = hard & 32 ? rd(r) : 0;
    if (lists & 1) {
        char name[GPURENT_NAME_MAX];
        model_name(r, name);
        (void)gpurent_request_add_model(q, name);
    }
    if (lists & 2) (void)gpurent_request_allow_region(q, REGIONS[rd_below(r, 3)]);
    if (lists & 4) (void)gpurent_request_exclude_region(q, REGIONS[rd_below(r, 3)]);
    if (lists & 8) {
        uint8_t key[GPURENT_KEY_BYTES];
        key_of(rd_below(r, W_PROVS), key);
        (void)(lists >> 4 & 1 ? gpurent_request_exclude_provider : gpurent_request_allow_provider)(q, key);
    }
}

static void op_add_request(world *w, reader *r)
{
    uint32_t id = rd_below(r, W_REQS);
    gpurent_request q;
    request_fill(r, &q, id);
    shot s;
    take(w->m, &s);
    int rc = gpurent_market_add_request(w->m, &q);
    if (w->pending[id] || w->leased[id])
        FUZZ_ASSERT(rc == GPURENT_E_EXISTS || rc == GPURENT_E_INVALID_FIELD, "add_request of a known id: %d", rc);
    if (rc) refused(w->m, rc, &s, "add_request");
    else w->pending[id] = 1;
}

static void op_remove_request(world *w, reader *r)
{
    uint32_t id = rd_below(r, W_REQS);
    char name[16];
    snprintf(name, sizeof name, "r%u", id);
    shot s;
    take(w->m, &s);
    int rc = gpurent_market_remove_request(w->m, name);
    FUZZ_ASSERT((rc == GPURENT_OK) == w->pending[id], "remove_request: %d, pending %u", rc, w->pending[id]);
    if (rc) refused(w->m, rc, &s, "remove_request");
    w->pending[id] = 0;
}

static void op_match_apply(world *w, reader *r)
{
    gpurent_match_receipt rc_;
    gpurent_match_receipt_init(&rc_);
    uint64_t now = 1700000000 + 60 * (uint64_t)rd(r);
    FUZZ_ASSERT(gpurent_market_match(w->m, now, NULL, &rc_) == GPURENT_OK, "match");
    FUZZ_ASSERT(ml_market_check(w->m) == GPURENT_OK, "after match: %s", gpurent_last_error_message());
    if (rd_below(r, 4)) {
        int rc = gpurent_market_apply(w->m, &rc_);
        FUZZ_ASSERT(rc == GPURENT_OK, "the engine's own receipt did not apply: %s", gpurent_status_name(rc));
        for (uint32_t i = 0; i < rc_.assignment_count; i++) {
            uint32_t id = (uint32_t)atoi(rc_.assignments[i].request_id + 1);
            FUZZ_ASSERT(id < W_REQS && w->pending[id], "leased '%s', not pending", rc_.assignments[i].request_id);
            w->pending[id] = 0;
            w->leased[id] = 1;
        }
    }
    gpurent_match_receipt_clear(&rc_);
}

static void op_end_lease(world *w, reader *r)
{
    uint32_t id = rd_below(r, W_REQS);
    char name[16];
    snprintf(name, sizeof name, "r%u", id);
    shot s;
    take(w->m, &s);
    int rc = gpurent_market_end_lease(w->m, name);
    FUZZ_ASSERT((rc == GPURENT_OK) == w->leased[id], "end_lease: %d, leased %u", rc, w->leased[id]);
    if (rc) refused(w->m, rc, &s, "end_lease");
    FUZZ_ASSERT(s.st.gpus_free <= s.st.gpus_total, "free GPUs above the total");
    w->leased[id] = 0;
}

static void op_set_trust(world *w, reader *r)
{
    uint8_t key[GPURENT_KEY_BYTES];
    uint32_t p = rd_below(r, W_PROVS);
    key_of(p, key);
    uint32_t tier = rd_below(r, 9), score = 125000 * rd_below(r, 9);
    int rc = gpurent_market_set_trust(w->m, key, tier, score);
    FUZZ_ASSERT((rc == GPURENT_OK) == (w->offered[p] && tier <= 7), "set_trust: %d", rc);
}

static void op_set_verified(world *w, reader *r)
{
    uint8_t key[GPURENT_KEY_BYTES];
    key_of(rd_below(r, W_PROVS), key);
    char id[16];
    snprintf(id, sizeof id, "n%u", rd_below(r, W_NODES));
    (void)gpurent_market_set_verified(w->m, key, id, (int)rd_below(r, 2));
}

static void op_query(world *w, reader *r)
{
    gpurent_request q;
    request_fill(r, &q, 100);
    if (rd_below(r, 2)) {
        gpurent_match_candidate c[4];
        uint32_t n = 99;
        int rc = gpurent_market_best(w->m, &q, 4, c, &n);
        FUZZ_ASSERT(rc != GPURENT_OK || n <= 4, "best: %u candidates", n);
    } else {
        gpurent_match_explain *ex = malloc(sizeof *ex);
        FUZZ_ASSERT(ex != NULL, "explain");
        (void)gpurent_market_explain(w->m, &q, ex);
        free(ex);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    static int stats = -1;
    if (stats < 0) stats = getenv("FUZZ_MARKET_OPS_STATS") != NULL;
    world w;
    memset(&w, 0, sizeof w);
    uint8_t seed[32] = {7};
    FUZZ_ASSERT(gpurent_market_new(&w.m, NULL, seed) == GPURENT_OK, "market_new");
    for (uint32_t ops = 0; r.n && ops < W_MAX_OPS; ops++) {
        switch (rd_below(&r, 12)) {
        case 0:
        case 1: op_put_offer(&w, &r); break;
        case 2: op_remove_offer(&w, &r); break;
        case 3:
        case 4: op_add_request(&w, &r); break;
        case 5: op_remove_request(&w, &r); break;
        case 6:
        case 7: op_match_apply(&w, &r); break;
        case 8: op_end_lease(&w, &r); break;
        case 9: op_set_trust(&w, &r); break;
        case 10: op_set_verified(&w, &r); break;
        default: op_query(&w, &r); break;
        }
        FUZZ_ASSERT(ml_market_check(w.m) == GPURENT_OK, "after op %u: %s", ops, gpurent_last_error_message());
        gpurent_market_stats st;
        FUZZ_ASSERT(gpurent_market_stats_get(w.m, &st) == GPURENT_OK, "stats");
        uint32_t provs = 0, pending = 0, leased = 0;
        for (int i = 0; i < W_PROVS; i++) provs += w.offered[i];
        for (int i = 0; i < W_REQS; i++) {
            pending += w.pending[i];
            leased += w.leased[i];
        }
        FUZZ_ASSERT(st.providers == provs && st.requests == pending && st.leases == leased,
                    "stats %u/%u/%u, the books %u/%u/%u", st.providers, st.requests, st.leases, provs, pending, leased);
        FUZZ_ASSERT(st.gpus_free <= st.gpus_total, "free GPUs above the total");
    }
    if (stats) {
        gpurent_market_stats st;
        gpurent_market_stats_get(w.m, &st);
        uint32_t leased = 0;
        for (int i = 0; i < W_REQS; i++) leased += w.leased[i];
        fprintf(stderr, "market_ops: %zu bytes: providers %u nodes %u requests %u leases %u (books %u) buckets %u\n",
                size, st.providers, st.nodes, st.requests, st.leases, leased, w.m->bucket_live);
    }
    gpurent_market_free(w.m);
    return 0;
}
