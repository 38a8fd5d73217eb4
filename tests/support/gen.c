/* Deterministic generators of valid wire records (splitmix64). */
#include "gen.h"

#include <stdio.h>
#include <string.h>

uint64_t gen_next(gen_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t gen_below(gen_rng *r, uint64_t n) { return n ? gen_next(r) % n : 0; }

/* Values spread over every integer width so all encodings get exercised. */
static uint64_t gen_uint(gen_rng *r, uint64_t max)
{
    static const uint64_t widths[] = {1, 128, 256, 65536, 1ull << 32, 0};
    uint64_t w = widths[gen_below(r, 6)];
    uint64_t v = w ? gen_below(r, w * 2) : gen_next(r);
    return max == UINT64_MAX ? v : v % (max + 1);
}

static void gen_str(gen_rng *r, char *dst, size_t cap)
{
    static const char *const parts[] = {"H100", " ", "SXM", "A100", "-", "eu", "ü", "節点", "4090", "x", "🚀"};
    size_t len = 0, n = 1 + gen_below(r, 6);
    dst[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *p = parts[gen_below(r, sizeof parts / sizeof parts[0])];
        size_t l = strlen(p);
        if (len + l >= cap) break;
        memcpy(dst + len, p, l + 1);
        len += l;
    }
    if (len == 0) strcpy(dst, "x");
}

void gen_gpu(gen_rng *r, gpurent_gpu *g)
{
    memset(g, 0, sizeof *g);
    gen_str(r, g->model, sizeof g->model);
    for (int i = 0; i < 16; i++) g->uuid[i] = (uint8_t)gen_next(r);
    g->pci_domain = (uint32_t)gen_uint(r, 0xffffffffu);
    g->pci_bus = (uint32_t)gen_below(r, 256);
    g->pci_device = (uint32_t)gen_below(r, 32);
    g->cc_major = 1 + (uint32_t)gen_below(r, 12);
    g->cc_minor = (uint32_t)gen_below(r, 10);
    g->sm_count = (uint32_t)gen_uint(r, 100000);
    g->memory_mib = gen_uint(r, 1ull << 32);
    g->clock_mhz = (uint32_t)gen_uint(r, 100000);
    g->mem_clock_mhz = (uint32_t)gen_uint(r, 100000);
    g->bus_width_bits = (uint32_t)gen_uint(r, 65536);
    g->l2_kib = (uint32_t)gen_uint(r, 1u << 24);
    g->ecc_enabled = (uint32_t)gen_below(r, 2);
    g->interface = (uint32_t)gen_below(r, 3);
    g->fp32_gflops = gen_uint(r, 1ull << 40);
    g->fp16_tensor_gflops = gen_uint(r, 1ull << 40);
    g->mem_bw_mbps = gen_uint(r, 1ull << 40);
    g->measured_fp32_gflops = gen_uint(r, 1ull << 40);
    g->measured_mem_bw_mbps = gen_uint(r, 1ull << 40);
    g->cuda_version = (uint32_t)gen_uint(r, 999999);
    /* PCI ids on about half of the GPUs, some with subsystem ids 0, drawn
     * from fields already drawn so the generator's stream is unchanged. */
    if (g->cc_minor & 1) {
        g->pci_vendor_id = 1 + (uint32_t)(g->clock_mhz % 0xfffe);
        g->pci_device_id = (uint32_t)(g->sm_count & 0xffff);
        g->pci_subsystem_vendor_id = g->cc_minor == 9 ? 0 : (uint32_t)(g->l2_kib & 0xffff);
        g->pci_subsystem_device_id = (uint32_t)(g->mem_clock_mhz & 0xffff);
    }
}

void gen_node(gen_rng *r, gpurent_node *n, unsigned index)
{
    memset(n, 0, sizeof *n);
    snprintf(n->node_id, sizeof n->node_id, "node-%u", index);
    gen_gpu(r, &n->gpu);
    n->gpu_count = 1 + (uint32_t)gen_below(r, GPURENT_NODE_MAX_GPUS);
    n->gpu_free = (uint32_t)gen_below(r, n->gpu_count + 1);
    n->shared = (uint32_t)gen_below(r, 2);
    n->cpu_millicores = (uint32_t)gen_uint(r, 100000000u);
    n->ram_mib = gen_uint(r, 1ull << 40);
    n->disk_gib = gen_uint(r, 1ull << 40);
    n->price_micro_per_gpu_hour = gen_uint(r, 1ull << 50);
    if (gen_below(r, 2))
        for (int i = 0; i < 32; i++) n->report_digest[i] = (uint8_t)gen_next(r);
}

void gen_offer(gen_rng *r, gpurent_offer *o)
{
    for (int i = 0; i < 32; i++) o->provider_key[i] = (uint8_t)gen_next(r);
    o->seq = gen_uint(r, UINT64_MAX);
    gen_str(r, o->region, sizeof o->region);
    o->stake_micro = gen_uint(r, 1ull << 62);
    o->min_duration_s = (uint32_t)gen_below(r, 7200);
    o->max_duration_s = gen_below(r, 2) ? 0 : o->min_duration_s + (uint32_t)gen_below(r, 1000000);
    unsigned count = 1 + (unsigned)gen_below(r, gen_below(r, 8) ? 4 : 40);
    for (unsigned i = 0; i < count; i++) {
        gpurent_node n;
        gen_node(r, &n, i);
        gpurent_offer_add_node(o, &n);
    }
}

void gen_request(gen_rng *r, gpurent_request *q)
{
    gpurent_request_init(q);
    snprintf(q->request_id, sizeof q->request_id, "req-%llu", (unsigned long long)gen_next(r));
    q->gang_nodes = 1 + (uint32_t)gen_below(r, 4);
    q->gpu_count = q->gang_nodes * (1 + (uint32_t)gen_below(r, 8));
    q->gang_scope = q->gang_nodes > 1 ? 1 + (uint32_t)gen_below(r, 2) : (uint32_t)gen_below(r, 3);
    if (q->gpu_count == 1 && gen_below(r, 3) == 0) q->vram_share_pct = 1 + (uint32_t)gen_below(r, 100);
    q->min_vram_mib = gen_uint(r, 1ull << 32);
    q->min_cc = (uint32_t)gen_uint(r, 999);
    q->min_fp32_gflops = gen_uint(r, 1ull << 40);
    q->interface = (uint32_t)gen_below(r, 3);
    q->min_cuda_version = (uint32_t)gen_uint(r, 999999);
    q->max_price_micro_per_gpu_hour = gen_uint(r, 1ull << 50);
    q->allowed_tiers = (uint32_t)gen_below(r, 128) << 1;
    q->duration_s = 1 + (uint32_t)gen_below(r, GPURENT_MAX_DURATION_S);
    q->verified_only = (uint32_t)gen_below(r, 2);
    q->cpu_millicores = (uint32_t)gen_uint(r, 100000000u);
    q->ram_mib = gen_uint(r, 1ull << 40);
    q->disk_gib = gen_uint(r, 1ull << 40);
    q->submitted_at = gen_uint(r, 1ull << 40);
    static const char *const models[] = {"H100 SXM5 80GB", "A100 SXM4 80GB", "RTX 4090", "L40S", "T4", "H200"};
    static const char *const regions[] = {"us-east", "eu-west", "ap-south", "eu-central", "us-west"};
    /* Added in generator order (unsorted): the encoder must sort. */
    for (unsigned i = 0, n = (unsigned)gen_below(r, 4); i < n; i++) gpurent_request_add_model(q, models[(i * 5) % 6]);
    unsigned nr = (unsigned)gen_below(r, 4);
    for (unsigned i = 0; i < nr; i++) gpurent_request_allow_region(q, regions[4 - i]);
    for (unsigned i = 0, n = (unsigned)gen_below(r, 2); i < n; i++) gpurent_request_exclude_region(q, "cn-north");
    for (unsigned i = 0, n = (unsigned)gen_below(r, 4); i < n; i++) {
        uint8_t k[32];
        for (int j = 0; j < 32; j++) k[j] = (uint8_t)gen_next(r);
        (gen_below(r, 2) ? gpurent_request_exclude_provider : gpurent_request_allow_provider)(q, k);
    }
}

void gen_h100(gpurent_gpu *g)
{
    memset(g, 0, sizeof *g);
    strcpy(g->model, "H100 SXM5 80GB");
    for (int i = 0; i < 16; i++) g->uuid[i] = (uint8_t)(0xa0 + i);
    g->pci_bus = 0x18;
    g->cc_major = 9;
    g->sm_count = 132;
    g->memory_mib = 81559;
    g->clock_mhz = 1980;
    g->mem_clock_mhz = 2619;
    g->bus_width_bits = 5120;
    g->l2_kib = 51200;
    g->ecc_enabled = 1;
    g->interface = GPURENT_IFACE_SXM;
    g->fp32_gflops = 66908;
    g->fp16_tensor_gflops = 989400;
    g->mem_bw_mbps = 3352320;
    g->cuda_version = 12040;
}
