/* C baseline for the bindings benchmark: the same work bench.py and go/
 * do through the bindings, timed with the library called directly.
 * Prints one line per workload: `C <name> <ns per operation>`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gpurent.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void fail(int rc)
{
    fprintf(stderr, "baseline: %s: %s\n", gpurent_status_name(rc), gpurent_last_error_message());
    exit(1);
}

static gpurent_gpu h100(void)
{
    gpurent_gpu g;
    memset(&g, 0, sizeof g);
    strcpy(g.model, "H100 SXM5 80GB");
    g.cc_major = 9;
    g.sm_count = 132;
    g.memory_mib = 81559;
    g.interface = GPURENT_IFACE_SXM;
    g.fp32_gflops = 66908;
    g.cuda_version = 12040;
    return g;
}

int main(void)
{
    gpurent_gpu g = h100(), gout;
    gpurent_buf b = {0};
    int rc, n = 200000;

    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        if ((rc = gpurent_gpu_encode(&g, &b))) fail(rc);
        if ((rc = gpurent_gpu_decode(b.data, b.len, &gout))) fail(rc);
        gpurent_buf_free(&b);
    }
    printf("C gpu_roundtrip %.1f\n", (now_ns() - t0) / n);

    /* An offer of 16 nodes (as bench.py builds it). */
    gpurent_offer o, oout;
    gpurent_offer_init(&o);
    memset(o.provider_key, 7, sizeof o.provider_key);
    strcpy(o.region, "eu-west");
    for (int i = 0; i < 16; i++) {
        gpurent_node nd;
        memset(&nd, 0, sizeof nd);
        snprintf(nd.node_id, sizeof nd.node_id, "node-%d", i);
        nd.gpu = g;
        nd.gpu_count = 8;
        nd.gpu_free = 8;
        if ((rc = gpurent_offer_add_node(&o, &nd))) fail(rc);
    }
    n = 20000;
    t0 = now_ns();
    for (int i = 0; i < n; i++) {
        if ((rc = gpurent_offer_encode(&o, &b))) fail(rc);
        gpurent_offer_init(&oout);
        if ((rc = gpurent_offer_decode(b.data, b.len, &oout))) fail(rc);
        gpurent_offer_clear(&oout);
        gpurent_buf_free(&b);
    }
    printf("C offer16_roundtrip %.1f\n", (now_ns() - t0) / n);
    gpurent_offer_clear(&o);

    /* check_canonical over 1 MiB: one call, all the work in C. */
    size_t len = 5 + (1u << 20);
    uint8_t *big = calloc(1, len);
    if (!big) return 1;
    big[0] = 0xdd;
    big[1] = 0x00; big[2] = 0x10; big[3] = 0x00; big[4] = 0x00; /* 1 Mi items */
    n = 200;
    t0 = now_ns();
    for (int i = 0; i < n; i++)
        if ((rc = gpurent_wire_check_canonical(big, len))) fail(rc);
    printf("C check_canonical_1MiB %.1f\n", (now_ns() - t0) / n);
    free(big);
    return 0;
}
