/* The small market that fuzz_market_apply applies receipts to, shared with
 * gen_seeds.c (which writes the receipts the engine itself computes on it).
 *
 * Two providers, five nodes (one shared), five pending requests of every
 * shape: whole GPUs, a provider-scoped gang, a share, a price cap and a
 * region list. The table below is the harness's own record of the fixture,
 * used to check an accepted receipt independently of the library. */
#ifndef GPURENT_FUZZ_MARKET_FIXTURE_H
#define GPURENT_FUZZ_MARKET_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "gpurent.h"

#define FMF_NOW 1700000000u

typedef struct fmf_node {
    uint8_t provider; /* key byte */
    const char *id, *region;
    uint32_t gpus, free, shared;
    uint64_t price;
} fmf_node;

static const fmf_node FMF_NODES[] = {
    {0x11, "a0", "eu-west", 8, 8, 0, 2000000},
    {0x11, "a1", "eu-west", 8, 4, 0, 2000000},
    {0x11, "a2", "eu-west", 4, 4, 0, 2100000},
    {0x22, "b0", "us-east", 4, 4, 0, 1000000},
    {0x22, "b1", "us-east", 2, 2, 1, 300000},
};
#define FMF_NODE_COUNT (sizeof FMF_NODES / sizeof FMF_NODES[0])

typedef struct fmf_request {
    const char *id;
    uint32_t gpus, gang_nodes, scope, share;
    uint64_t cap;
    const char *region; /* the one allowed region, or NULL */
} fmf_request;

static const fmf_request FMF_REQS[] = {
    {"r1", 4, 1, GPURENT_GANG_NODE, 0, 0, NULL},
    {"r2", 8, 2, GPURENT_GANG_PROVIDER, 0, 0, NULL},
    {"r3", 1, 1, GPURENT_GANG_NODE, 30, 0, NULL},
    {"r4", 2, 1, GPURENT_GANG_NODE, 0, 1500000, NULL},
    {"r5", 2, 1, GPURENT_GANG_NODE, 0, 0, "us-east"},
};
#define FMF_REQ_COUNT (sizeof FMF_REQS / sizeof FMF_REQS[0])

static inline void fmf_gpu(gpurent_gpu *g)
{
    memset(g, 0, sizeof *g);
    strcpy(g->model, "H100 SXM5 80GB");
    g->cc_major = 9;
    g->sm_count = 132;
    g->memory_mib = 81559;
    g->clock_mhz = 1980;
    g->interface = GPURENT_IFACE_SXM;
    g->cuda_version = 12040;
}

/* A fresh market holding the fixture; NULL when something fails. */
static inline gpurent_market *fmf_market(void)
{
    gpurent_market *m = NULL;
    uint8_t seed[GPURENT_DIGEST_BYTES];
    memset(seed, 0x5e, sizeof seed);
    if (gpurent_market_new(&m, NULL, seed) != GPURENT_OK) return NULL;
    for (uint8_t p = 0x11; p <= 0x22; p += 0x11) {
        gpurent_offer o;
        gpurent_offer_init(&o);
        memset(o.provider_key, p, sizeof o.provider_key);
        o.seq = 1;
        for (size_t i = 0; i < FMF_NODE_COUNT; i++) {
            const fmf_node *f = &FMF_NODES[i];
            if (f->provider != p) continue;
            snprintf(o.region, sizeof o.region, "%s", f->region);
            gpurent_node n;
            memset(&n, 0, sizeof n);
            snprintf(n.node_id, sizeof n.node_id, "%s", f->id);
            fmf_gpu(&n.gpu);
            n.gpu_count = f->gpus;
            n.gpu_free = f->free;
            n.shared = f->shared;
            n.price_micro_per_gpu_hour = f->price;
            if (gpurent_offer_add_node(&o, &n) != GPURENT_OK) break;
        }
        int rc = gpurent_market_put_offer(m, &o);
        gpurent_offer_clear(&o);
        if (rc != GPURENT_OK) {
            gpurent_market_free(m);
            return NULL;
        }
    }
    for (size_t i = 0; i < FMF_REQ_COUNT; i++) {
        const fmf_request *f = &FMF_REQS[i];
        gpurent_request q;
        gpurent_request_init(&q);
        snprintf(q.request_id, sizeof q.request_id, "%s", f->id);
        q.gpu_count = f->gpus;
        q.gang_nodes = f->gang_nodes;
        q.gang_scope = f->scope;
        q.vram_share_pct = f->share;
        q.max_price_micro_per_gpu_hour = f->cap;
        q.duration_s = 3600;
        q.submitted_at = FMF_NOW - 60;
        if ((f->region && gpurent_request_allow_region(&q, f->region) != GPURENT_OK) ||
            gpurent_market_add_request(m, &q) != GPURENT_OK) {
            gpurent_market_free(m);
            return NULL;
        }
    }
    return m;
}

#endif
