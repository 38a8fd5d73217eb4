/* A market front end: providers publish offers, requesters submit requests,
 * the matchmaker shows the best candidates for one request, runs a batch,
 * applies its receipt, explains a request it could not place, and ends a
 * lease. Public API only.
 *
 *   build/examples/market */
#include <stdio.h>
#include <string.h>

#include "gpurent.h"

#define CHECK(call)                                                                              \
    do {                                                                                         \
        gpurent_status rc_ = (call);                                                             \
        if (rc_ != GPURENT_OK) {                                                                 \
            fprintf(stderr, "%s failed: %s (%s)\n", #call, gpurent_strerror(rc_),               \
                    gpurent_last_error_message());                                               \
            return 1;                                                                            \
        }                                                                                        \
    } while (0)

typedef struct listing {
    const char *region;
    const char *model;
    uint32_t cc, vram_mib, gflops, iface, cuda;
    uint32_t nodes, gpus, free;
    uint64_t price; /* micro-units per GPU-hour */
    uint32_t tier;
} listing;

static const listing LISTINGS[] = {
    {"eu-west", "H100 SXM5 80GB", 90, 81559, 66900, GPURENT_IFACE_SXM, 12040, 2, 8, 8, 2490000, 2},
    {"eu-west", "A100 SXM4 80GB", 80, 81920, 19500, GPURENT_IFACE_SXM, 12020, 3, 8, 6, 1390000, 3},
    {"us-east", "H100 SXM5 80GB", 90, 81559, 66900, GPURENT_IFACE_SXM, 12040, 1, 8, 8, 2190000, 5},
    {"us-east", "RTX 4090", 89, 24564, 82600, GPURENT_IFACE_PCIE, 12040, 4, 2, 2, 440000, 4},
    {"ap-south", "L40S", 89, 46068, 91600, GPURENT_IFACE_PCIE, 12020, 2, 4, 4, 890000, 6},
};

static void provider_key(uint32_t i, uint8_t key[32])
{
    /* A real front end reads these from signed offers. */
    for (int b = 0; b < 32; b++) key[b] = (uint8_t)(i * 37 + b * 11 + 1);
}

static gpurent_status publish(gpurent_market *m, uint32_t p, const listing *l)
{
    gpurent_offer o;
    gpurent_offer_init(&o);
    provider_key(p, o.provider_key);
    o.seq = 1;
    snprintf(o.region, sizeof o.region, "%s", l->region);
    o.stake_micro = 250000000000ull * (p + 1);
    gpurent_status rc = GPURENT_OK;
    for (uint32_t i = 0; i < l->nodes && rc == GPURENT_OK; i++) {
        gpurent_node n;
        memset(&n, 0, sizeof n);
        snprintf(n.node_id, sizeof n.node_id, "node-%u", i);
        snprintf(n.gpu.model, sizeof n.gpu.model, "%s", l->model);
        n.gpu.cc_major = l->cc / 10;
        n.gpu.cc_minor = l->cc % 10;
        n.gpu.memory_mib = l->vram_mib;
        n.gpu.fp32_gflops = l->gflops;
        n.gpu.interface = l->iface;
        n.gpu.cuda_version = l->cuda;
        n.gpu_count = l->gpus;
        n.gpu_free = l->free;
        n.cpu_millicores = 64000;
        n.ram_mib = 512 * 1024;
        n.disk_gib = 4000;
        n.price_micro_per_gpu_hour = l->price;
        rc = gpurent_offer_add_node(&o, &n);
    }
    if (rc == GPURENT_OK) rc = gpurent_market_put_offer(m, &o);
    if (rc == GPURENT_OK) rc = gpurent_market_set_trust(m, o.provider_key, l->tier, 900000 - 100000 * l->tier);
    gpurent_offer_clear(&o);
    return rc;
}

static void request(gpurent_request *q, const char *id, uint32_t gpus, const char *model, uint64_t max_price)
{
    gpurent_request_init(q);
    snprintf(q->request_id, sizeof q->request_id, "%s", id);
    q->gpu_count = gpus;
    q->max_price_micro_per_gpu_hour = max_price;
    q->submitted_at = 1760000000;
    if (model) gpurent_request_add_model(q, model);
}

int main(void)
{
    CHECK(gpurent_init());
    gpurent_match_options opts;
    CHECK(gpurent_match_options_init(&opts, GPURENT_MATCH_OPTIONS_VERSION));
    uint8_t seed[32] = {0};
    memcpy(seed, "block 19000000 hash (example)", 29); /* operators share this */
    gpurent_market *m = NULL;
    CHECK(gpurent_market_new(&m, &opts, seed));
    for (uint32_t p = 0; p < sizeof LISTINGS / sizeof LISTINGS[0]; p++) CHECK(publish(m, p, &LISTINGS[p]));

    /* One request, best three candidates. */
    gpurent_request q;
    request(&q, "train-llm", 8, NULL, 2600000);
    q.min_vram_mib = 80000;
    q.min_cuda_version = 12040; /* the PyTorch build needs CUDA 12.4 */
    gpurent_match_candidate c[3];
    uint32_t n = 0;
    CHECK(gpurent_market_best(m, &q, 3, c, &n));
    printf("best candidates for %s:\n", q.request_id);
    for (uint32_t i = 0; i < n; i++)
        printf("  %u. %s in %s, node %s, %.2f per GPU-hour, score %llu\n", i + 1, c[i].model, c[i].region,
               c[i].node_id, (double)c[i].price_micro_per_gpu_hour / 1e6, (unsigned long long)c[i].breakdown.total);

    /* A batch: several requests, one gang, one that cannot be served. */
    CHECK(gpurent_market_add_request(m, &q));
    request(&q, "finetune", 4, "A100 SXM4 80GB", 1500000);
    CHECK(gpurent_market_add_request(m, &q));
    request(&q, "render", 2, "RTX 4090", 500000);
    CHECK(gpurent_market_add_request(m, &q));
    request(&q, "pretrain-gang", 16, "A100 SXM4 80GB", 1500000);
    q.gang_nodes = 4;
    q.gang_scope = GPURENT_GANG_PROVIDER;
    CHECK(gpurent_market_add_request(m, &q));
    request(&q, "cheap-h100", 8, "H100 SXM5 80GB", 1900000);
    CHECK(gpurent_market_add_request(m, &q));

    gpurent_match_receipt r;
    gpurent_match_receipt_init(&r);
    CHECK(gpurent_market_match(m, 1760000600, NULL, &r));
    printf("batch: %u of %u requests matched, total value %llu\n", r.assignment_count, r.request_count,
           (unsigned long long)r.total_value);
    for (uint32_t i = 0; i < r.assignment_count; i++) {
        const gpurent_match_assignment *a = gpurent_match_receipt_assignment(&r, i);
        printf("  %s:", a->request_id);
        for (uint32_t j = 0; j < a->placement_count; j++) {
            const gpurent_match_placement *p = gpurent_match_receipt_placement(&r, a->first_placement + j);
            printf(" %u GPUs on %s at %.2f", p->gpus, p->node_id, (double)p->price_micro_per_gpu_hour / 1e6);
        }
        printf("\n");
    }
    /* The receipt is what matchmakers sign (attest module); its bytes: */
    gpurent_buf bytes = {NULL, 0};
    CHECK(gpurent_match_receipt_encode(&r, &bytes));
    uint8_t digest[32];
    CHECK(gpurent_match_receipt_digest(&r, digest));
    printf("receipt: %zu bytes, digest %02x%02x%02x%02x...\n", bytes.len, digest[0], digest[1], digest[2], digest[3]);
    gpurent_buf_free(&bytes);
    CHECK(gpurent_market_apply(m, &r));
    gpurent_match_receipt_clear(&r);

    /* Explain the request that stayed pending. */
    request(&q, "cheap-h100", 8, "H100 SXM5 80GB", 1900000);
    gpurent_match_explain ex;
    CHECK(gpurent_market_explain(m, &q, &ex));
    gpurent_buf text = {NULL, 0};
    CHECK(gpurent_match_explain_text(&ex, &text));
    printf("why not?\n%.*s", (int)text.len, (const char *)text.data);
    gpurent_buf_free(&text);

    /* A lease ends: its GPUs return. */
    CHECK(gpurent_market_end_lease(m, "finetune"));
    gpurent_market_stats st;
    CHECK(gpurent_market_stats_get(m, &st));
    printf("after the lease ended: %llu of %llu GPUs free, %u leases, %u pending\n", (unsigned long long)st.gpus_free,
           (unsigned long long)st.gpus_total, st.leases, st.requests);
    gpurent_market_free(m);
    return ex.matched ? 1 : 0; /* the explained request must have been a miss */
}
