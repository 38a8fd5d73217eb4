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

    /* Bulk verification: 1000 envelopes (the H100 GPU record, seed 0x01..,
     * nonce = LE32(i + 1)), one thread, no replay cache, one call. */
    enum { NENV = 1000 };
    gpurent_key *key = NULL;
    gpurent_trust *trust = NULL;
    uint8_t seed[32], pk[32];
    memset(seed, 1, sizeof seed);
    if ((rc = gpurent_key_from_seed(&key, seed))) fail(rc);
    if ((rc = gpurent_key_public(key, pk))) fail(rc);
    if ((rc = gpurent_trust_new(&trust, NULL))) fail(rc);
    if ((rc = gpurent_trust_add(trust, pk, GPURENT_ROLE_PROVIDER, 0, 0))) fail(rc);
    if ((rc = gpurent_gpu_encode(&g, &b))) fail(rc);
    static gpurent_buf envs[NENV];
    static const uint8_t *ptrs[NENV];
    static size_t lens[NENV];
    static int32_t statuses[NENV];
    for (int i = 0; i < NENV; i++) {
        gpurent_envelope h;
        gpurent_envelope_init(&h);
        h.statement = GPURENT_RECORD_GPU;
        h.issued_at = 1700000000;
        h.expires_at = 1700000000 + 86400;
        uint32_t v = (uint32_t)i + 1;
        memcpy(h.nonce, &v, 4); /* little-endian here, as the bindings write it */
        if ((rc = gpurent_envelope_sign(key, &h, b.data, b.len, &envs[i]))) fail(rc);
        ptrs[i] = envs[i].data;
        lens[i] = envs[i].len;
    }
    gpurent_buf_free(&b);
    gpurent_verify_options vo;
    gpurent_verify_options_init(&vo, GPURENT_VERIFY_OPTIONS_VERSION);
    vo.check_replay = 0;
    n = 5;
    double best = 0;
    for (int r = 0; r < 3; r++) {
        t0 = now_ns();
        for (int i = 0; i < n; i++) {
            if ((rc = gpurent_envelope_verify_many(trust, ptrs, lens, NENV, 1700000100, 0, &vo, 1, NULL, statuses)))
                fail(rc);
            for (int j = 0; j < NENV; j++)
                if (statuses[j]) fail(statuses[j]);
        }
        double ns = (now_ns() - t0) / n;
        if (r == 0 || ns < best) best = ns;
    }
    printf("C verify_many_1000 %.1f\n", best);
    for (int i = 0; i < NENV; i++) gpurent_buf_free(&envs[i]);
    gpurent_trust_free(trust);
    gpurent_key_free(key);
    return 0;
}
