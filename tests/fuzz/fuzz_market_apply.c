/* Fuzz gpurent_market_apply with receipts a dishonest matcher could write.
 *
 * Each input is decoded as a match receipt; its digests, policy and seed are
 * then replaced by the fixture market's true ones (anyone can compute them),
 * so every input reaches the per-assignment checks. Oracles:
 * - refused: a status of the documented set, and the market unchanged
 *   (same digests, same stats);
 * - accepted: the receipt holds on the harness's own table of the fixture
 *   (fuzz_market_fixture.h), checked without the library: request shapes,
 *   gang scope, prices, price caps, regions, node kinds and capacity; and
 *   the market's stats moved by exactly what the receipt leases. */
#include "fuzz_common.h"
#include "fuzz_market_fixture.h"

static const fmf_node *node_of(const gpurent_match_placement *p)
{
    for (size_t i = 0; i < FMF_NODE_COUNT; i++) {
        const fmf_node *f = &FMF_NODES[i];
        int key_ok = 1;
        for (size_t k = 0; k < GPURENT_KEY_BYTES; k++) key_ok &= p->provider_key[k] == f->provider;
        if (key_ok && strcmp(p->node_id, f->id) == 0) return f;
    }
    return NULL;
}

static const fmf_request *req_of(const char *id)
{
    for (size_t i = 0; i < FMF_REQ_COUNT; i++)
        if (strcmp(FMF_REQS[i].id, id) == 0) return &FMF_REQS[i];
    return NULL;
}

/* An accepted receipt, checked against the fixture table; returns the GPUs
 * it takes out of the free count (whole GPUs, and shared GPUs it starts). */
static uint64_t check_accepted(const gpurent_match_receipt *r)
{
    uint32_t used[FMF_NODE_COUNT] = {0}, share[FMF_NODE_COUNT][8];
    memset(share, 0, sizeof share);
    uint64_t gpus = 0;
    for (uint32_t i = 0; i < r->assignment_count; i++) {
        const gpurent_match_assignment *a = &r->assignments[i];
        const fmf_request *q = req_of(a->request_id);
        FUZZ_ASSERT(q != NULL, "accepted an assignment for unknown request '%s'", a->request_id);
        FUZZ_ASSERT(a->placement_count == (q->share ? 1 : q->gang_nodes), "request '%s': %u placements accepted",
                    q->id, a->placement_count);
        const fmf_node *first = NULL;
        for (uint32_t j = 0; j < a->placement_count; j++) {
            const gpurent_match_placement *p = &r->placements[a->first_placement + j];
            const fmf_node *n = node_of(p);
            FUZZ_ASSERT(n != NULL, "request '%s' accepted on unknown node '%s'", q->id, p->node_id);
            size_t ni = (size_t)(n - FMF_NODES);
            if (!first) first = n;
            FUZZ_ASSERT(n->shared == (q->share != 0), "request '%s' on node '%s' of the other kind", q->id, n->id);
            FUZZ_ASSERT(p->price_micro_per_gpu_hour == n->price, "request '%s' accepted at %llu on '%s' (offered %llu)",
                        q->id, (unsigned long long)p->price_micro_per_gpu_hour, n->id, (unsigned long long)n->price);
            FUZZ_ASSERT(!q->cap || n->price <= q->cap, "request '%s' placed above its cap on '%s'", q->id, n->id);
            FUZZ_ASSERT(!q->region || strcmp(q->region, n->region) == 0, "request '%s' placed outside %s", q->id,
                        q->region);
            FUZZ_ASSERT(q->scope != GPURENT_GANG_PROVIDER || n->provider == first->provider,
                        "gang '%s' accepted across providers", q->id);
            if (q->share) {
                FUZZ_ASSERT(p->gpus == 0 && p->share_pct == q->share, "share request '%s' accepted as %u GPUs / %u%%",
                            q->id, p->gpus, p->share_pct);
                FUZZ_ASSERT(p->gpu_index < n->gpus, "share on GPU %u of %u", p->gpu_index, n->gpus);
                gpus += share[ni][p->gpu_index] == 0; /* a GPU with any share leased is no longer free */
                share[ni][p->gpu_index] += p->share_pct;
                FUZZ_ASSERT(share[ni][p->gpu_index] <= 100, "GPU %u of '%s' shared above 100%%", p->gpu_index, n->id);
            } else {
                FUZZ_ASSERT(p->gpus == q->gpus / q->gang_nodes && p->share_pct == 0,
                            "request '%s' accepted with %u GPUs on '%s'", q->id, p->gpus, n->id);
                used[ni] += p->gpus;
                gpus += p->gpus;
                FUZZ_ASSERT(used[ni] <= n->free, "node '%s' leased %u of %u free", n->id, used[ni], n->free);
            }
        }
    }
    return gpus;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gpurent_match_receipt r;
    gpurent_match_receipt_init(&r);
    if (gpurent_match_receipt_decode(data, size, &r) != GPURENT_OK) return 0; /* fuzz_match_receipt's job */
    gpurent_market *m = fmf_market();
    FUZZ_ASSERT(m != NULL, "the fixture market cannot be built");
    FUZZ_ASSERT(gpurent_market_digests(m, r.offers_digest, r.requests_digest, r.policy_digest) == GPURENT_OK,
                "digests");
    memset(r.seed, 0x5e, sizeof r.seed);
    gpurent_market_stats before, after;
    FUZZ_ASSERT(gpurent_market_stats_get(m, &before) == GPURENT_OK, "stats");
    int rc = gpurent_market_apply(m, &r);
    FUZZ_ASSERT(gpurent_market_stats_get(m, &after) == GPURENT_OK, "stats");
    if (rc != GPURENT_OK) {
        FUZZ_ASSERT(rc == GPURENT_E_INVALID_ARG || rc == GPURENT_E_UNKNOWN_REQUEST || rc == GPURENT_E_NOT_FOUND ||
                        rc == GPURENT_E_CAPACITY || rc == GPURENT_E_INFEASIBLE,
                    "gpurent_market_apply refused with %s", gpurent_status_name(rc));
        uint8_t od[32], rd[32], pd[32];
        FUZZ_ASSERT(gpurent_market_digests(m, od, rd, pd) == GPURENT_OK, "digests");
        FUZZ_ASSERT(memcmp(od, r.offers_digest, 32) == 0 && memcmp(rd, r.requests_digest, 32) == 0,
                    "a refused receipt changed the market");
        FUZZ_ASSERT(after.leases == before.leases && after.requests == before.requests &&
                        after.gpus_free == before.gpus_free,
                    "a refused receipt changed the stats");
    } else {
        uint64_t gpus = check_accepted(&r);
        FUZZ_ASSERT(after.leases == before.leases + r.assignment_count &&
                        after.requests == before.requests - r.assignment_count,
                    "leases %u -> %u, requests %u -> %u for %u assignments", before.leases, after.leases,
                    before.requests, after.requests, r.assignment_count);
        FUZZ_ASSERT(after.gpus_free == before.gpus_free - gpus, "free GPUs %llu -> %llu, %llu leased",
                    (unsigned long long)before.gpus_free, (unsigned long long)after.gpus_free,
                    (unsigned long long)gpus);
    }
    gpurent_market_free(m);
    gpurent_match_receipt_clear(&r);
    return 0;
}
