/* Stateful fuzzing of the market: the input is a program, one
 * operation after another, drawn from a small world (4 providers, 8 node
 * ids, 8 model names of which 2 are made up per operation, 3 regions, 16
 * request ids) so that operations collide: nodes are re-offered with other
 * shapes while leased, buckets empty and fill again, names are freed and
 * reused, requests come and go around leases.
 *
 * Operations: put_offer, remove_offer, add_request, remove_request, match
 * then apply (the engine's own receipt must apply), end_lease, set_trust,
 * set_verified, verify_report (one of 4 fixed GPU reports, whose UUIDs are
 * the ones offers use and whose digests nodes name, sometimes damaged),
 * gpu_owner, best and explain (read-only). verify_report must succeed only
 * for an offered provider, and then every UUID of the report answers
 * gpu_owner with that node, held by its report; refused, it changes no
 * owner of any UUID of the world. After every operation:
 * - ml_market_check(): every count, link, histogram, reference count and
 *   hash entry of the index recomputed from scratch;
 * - a failed call returns a negative status with a non-empty detail and
 *   leaves the market's digests and stats as they were;
 * - the harness's own books: which providers and leases exist, which
 *   requests are pending, agree with the market's stats.
 * Seeds: tests/fuzz/corpus/market_ops (fixed programs, one per theme; new
 * ones come from `make fuzz` and `make fuzz-merge`). */
#include <sodium.h>

#include "fuzz_common.h"
#include "match/match_internal.h"

#define W_PROVS 4
#define W_NODES 8
#define W_REQS 16
#define W_MAX_OPS 128
#define W_REPORTS 4
#define W_UUIDS 12 /* UUIDs are 16 times one byte, 1..W_UUIDS */

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
    uint32_t verified; /* verify_report calls that succeeded (for the stats line) */
} world;

/* The world's GPU reports: report j identifies REPORT_GPUS[j] GPUs with
 * UUID bytes REPORT_FIRST[j].. (overlapping, so reports and offers collide). */
static const uint8_t REPORT_FIRST[W_REPORTS] = {1, 3, 7, 9};
static const uint8_t REPORT_GPUS[W_REPORTS] = {4, 4, 2, 4};
static gpurent_gpu_report *reports; /* built once */
static uint8_t report_digests[W_REPORTS][GPURENT_DIGEST_BYTES];

static void report_build(gpurent_gpu_report *rep, uint32_t j)
{
    gpurent_gpu_report_init(rep);
    memset(rep->nonce, 7, sizeof rep->nonce);
    rep->probed_at = 1700000000;
    rep->driver_version.value = 12040;
    snprintf(rep->driver_path, sizeof rep->driver_path, "/usr/lib/libcuda.so.1");
    rep->driver_device_count = rep->device_count = REPORT_GPUS[j];
    for (uint32_t i = 0; i < REPORT_GPUS[j]; i++) {
        gpurent_probe_device *d = &rep->devices[i];
        d->ordinal = i;
        snprintf(d->name.value, sizeof d->name.value, "NVIDIA H100 80GB HBM3");
        memset(d->uuid.value, REPORT_FIRST[j] + i, 16);
        d->pci_bus.value = 0x10 + i;
        d->cc_major.value = 9;
        d->d2d.state = d->h2d.state = d->fma.state = GPURENT_PV_SKIPPED;
    }
}

static void reports_init(void)
{
    if (reports) return;
    reports = calloc(W_REPORTS, sizeof *reports);
    FUZZ_ASSERT(reports != NULL, "reports");
    for (uint32_t j = 0; j < W_REPORTS; j++) {
        report_build(&reports[j], j);
        gpurent_buf b = {NULL, 0};
        FUZZ_ASSERT(gpurent_gpu_report_encode(&reports[j], &b) == GPURENT_OK, "report %u", j);
        crypto_generichash(report_digests[j], GPURENT_DIGEST_BYTES, b.data, b.len, NULL, 0);
        gpurent_buf_free(&b);
    }
}

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
    if (rd_below(r, 4) == 0) { /* even: the digest of a world report; odd: made up */
        uint32_t v = rd(r);
        if (v & 1) memset(n->report_digest, (int)v, sizeof n->report_digest);
        else memcpy(n->report_digest, report_digests[(v >> 1) % W_REPORTS], sizeof n->report_digest);
    }
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

/* Who holds each UUID of the world (0 = nobody, else the provider + 1,
 * the node id and how). */
typedef struct owners {
    uint8_t prov[W_UUIDS + 1];
    gpurent_gpu_owner o[W_UUIDS + 1];
} owners;

static uint32_t prov_of_key(const uint8_t key[GPURENT_KEY_BYTES])
{
    for (uint32_t p = 0; p < W_PROVS; p++) {
        uint8_t k[GPURENT_KEY_BYTES];
        key_of(p, k);
        if (!memcmp(k, key, GPURENT_KEY_BYTES)) return p;
    }
    return W_PROVS;
}

/* gpurent_market_gpu_owner of UUID byte u (0: the all-zero UUID), checked
 * against the books; the provider + 1, 0 for nobody. */
static uint32_t owner_of(const world *w, uint32_t u, gpurent_gpu_owner *o)
{
    uint8_t uuid[GPURENT_UUID_BYTES];
    memset(uuid, (int)u, sizeof uuid);
    int rc = gpurent_market_gpu_owner(w->m, uuid, o);
    if (u == 0) {
        FUZZ_ASSERT(rc == GPURENT_E_INVALID_ARG, "gpu_owner of the zero UUID: %d", rc);
        return 0;
    }
    FUZZ_ASSERT(rc == GPURENT_OK || rc == GPURENT_E_NOT_FOUND, "gpu_owner: %d", rc);
    if (rc) return 0;
    uint32_t p = prov_of_key(o->provider_key);
    FUZZ_ASSERT(p < W_PROVS && w->offered[p], "GPU %u held by a provider without an offer", u);
    FUZZ_ASSERT(o->how >= 1 && o->how <= 3 && o->node_id[0] == 'n', "GPU %u: how %u, node '%s'", u, o->how, o->node_id);
    return p + 1;
}

static void owners_take(const world *w, owners *s)
{
    memset(s, 0, sizeof *s);
    for (uint32_t u = 1; u <= W_UUIDS; u++) s->prov[u] = (uint8_t)owner_of(w, u, &s->o[u]);
}

/* The world report whose digest node `id` of provider p names (the market
 * keeps its first 8 bytes), or `j` when it names none. */
static uint32_t named_report(const world *w, const uint8_t key[GPURENT_KEY_BYTES], const char *id, uint32_t j)
{
    uint32_t pi = ml_prov_find(w->m, key), n = pi == NIL ? NIL : ml_node_find(w->m, pi, id);
    if (n == NIL) return j;
    for (uint32_t k = 0; k < W_REPORTS; k++) {
        uint64_t v;
        memcpy(&v, report_digests[k], 8);
        if (v == w->m->nodes[n].report) return k;
    }
    return j;
}

static void op_verify_report(world *w, reader *r)
{
    uint32_t p = rd_below(r, W_PROVS), j = rd_below(r, W_REPORTS), how = rd_below(r, 8);
    uint8_t key[GPURENT_KEY_BYTES];
    key_of(p, key);
    char id[16];
    snprintf(id, sizeof id, "n%u", rd_below(r, W_NODES));
    if (how >= 5) j = named_report(w, key, id, j); /* mostly the right report, so that verifications happen */
    gpurent_gpu_report *rep = malloc(sizeof *rep);
    FUZZ_ASSERT(rep != NULL, "report");
    *rep = reports[j];
    if (how == 0) { /* not a complete report */
        rep->status = GPURENT_E_NO_DEVICE;
        snprintf(rep->reason, sizeof rep->reason, "no device");
    } else if (how == 1 && rep->device_count > 1) { /* another report: one GPU less */
        rep->device_count--;
        rep->driver_device_count--;
    } else if (how == 2) { /* a GPU whose UUID the driver did not give */
        rep->devices[0].uuid.state = GPURENT_PV_UNSUPPORTED;
        memset(rep->devices[0].uuid.value, 0, sizeof rep->devices[0].uuid.value);
    }
    owners before, after;
    owners_take(w, &before);
    shot s;
    take(w->m, &s);
    int rc = gpurent_market_verify_report(w->m, key, id, rep);
    if (!w->offered[p]) FUZZ_ASSERT(rc == GPURENT_E_UNKNOWN_OFFER, "verify_report without an offer: %d", rc);
    if (how == 0) FUZZ_ASSERT(rc != GPURENT_OK, "verify_report accepted an incomplete report");
    if (rc) {
        refused(w->m, rc, &s, "verify_report"); /* first: it reads the call's own detail */
        owners_take(w, &after);
        FUZZ_ASSERT(rc == GPURENT_E_UNKNOWN_OFFER || rc == GPURENT_E_NOT_FOUND || rc == GPURENT_E_INVALID_ARG ||
                        rc == GPURENT_E_GPU_CONFLICT || rc == GPURENT_E_INVALID_FIELD || rc == GPURENT_E_NOMEM,
                    "verify_report: unexpected %s", gpurent_status_name(rc));
        FUZZ_ASSERT(memcmp(&before, &after, sizeof before) == 0, "verify_report refused (%s) but moved a GPU",
                    gpurent_status_name(rc));
    } else {
        owners_take(w, &after);
        for (uint32_t i = 0; i < rep->device_count; i++) {
            if (rep->devices[i].uuid.state != GPURENT_PV_OK) continue;
            uint32_t u = rep->devices[i].uuid.value[0];
            FUZZ_ASSERT(u >= 1 && u <= W_UUIDS && after.prov[u] == p + 1 && !strcmp(after.o[u].node_id, id) &&
                            (after.o[u].how & GPURENT_GPU_HELD_REPORT),
                        "verified report's GPU %u not held by provider %u node '%s' through its report", u, p, id);
        }
        for (uint32_t u = 1; u <= W_UUIDS; u++) /* other providers keep what they held */
            if (before.prov[u] && before.prov[u] != p + 1)
                FUZZ_ASSERT(after.prov[u] == before.prov[u], "verify_report took GPU %u from provider %u", u,
                            before.prov[u] - 1u);
        w->verified++;
    }
    free(rep);
}

static void op_gpu_owner(world *w, reader *r)
{
    gpurent_gpu_owner o;
    (void)owner_of(w, rd_below(r, W_UUIDS + 1), &o);
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
    reports_init();
    static int stats = -1;
    if (stats < 0) stats = getenv("FUZZ_MARKET_OPS_STATS") != NULL;
    world w;
    memset(&w, 0, sizeof w);
    uint8_t seed[32] = {7};
    FUZZ_ASSERT(gpurent_market_new(&w.m, NULL, seed) == GPURENT_OK, "market_new");
    for (uint32_t ops = 0; r.n && ops < W_MAX_OPS; ops++) {
        switch (rd_below(&r, 14)) {
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
        case 12: op_verify_report(&w, &r); break;
        case 13: op_gpu_owner(&w, &r); break;
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
        fprintf(stderr,
                "market_ops: %zu bytes: providers %u nodes %u requests %u leases %u (books %u) buckets %u reports verified %u\n",
                size, st.providers, st.nodes, st.requests, st.leases, leased, w.m->bucket_live, w.verified);
    }
    gpurent_market_free(w.m);
    return 0;
}
