/* Fuzz the market snapshot loader (gpurent_market_load); oracles in
 * fuzz_snapshot_common.h, and every market that loads passes
 * ml_market_check (the loader builds it through the market's own calls and
 * does not run the whole check itself: this is where that is verified). */
#include "match/match_internal.h"

#define SNAPSHOT_CHECK_LOADED(h)                                                                           \
    FUZZ_ASSERT(ml_market_check(h) == GPURENT_OK, "a loaded market breaks an invariant: %s",                \
                gpurent_last_error_message())

#include "fuzz_snapshot_common.h"

/* Every loaded market of two buckets or more links its index on two threads
 * (ml_index_link_all takes 8192 nodes by default, which no input here
 * holds), so that hostile snapshots reach the split of the buckets and the
 * checks above see the index it builds. */
__attribute__((constructor)) static void link_in_halves(void) { ml_index_link_parallel_min = 2; }

/* A request added and, on half the inputs, removed again; on half a batch
 * matched and its receipt applied (leases), on half the trust of a fixture
 * provider key set. */
static void market_mutate(gpurent_market *m, const uint8_t *f, size_t size)
{
    uint64_t s = snapshot_mix(f, size);
    gpurent_request q;
    gpurent_request_init(&q);
    snprintf(q.request_id, sizeof q.request_id, "fuzz-%u", (unsigned)(s % 1000));
    q.gpu_count = 1 + (uint32_t)((s >> 10) % 8);
    q.submitted_at = FUZZ_NOW - (s >> 13) % 86400;
    int added = gpurent_market_add_request(m, &q) == GPURENT_OK;
    if (added && (s >> 30) % 2) (void)gpurent_market_remove_request(m, q.request_id);
    if ((s >> 32) % 2) {
        gpurent_match_receipt r;
        gpurent_match_receipt_init(&r);
        if (gpurent_market_match(m, FUZZ_NOW, NULL, &r) == GPURENT_OK)
            FUZZ_ASSERT(gpurent_market_apply(m, &r) == GPURENT_OK, "a market's own receipt does not apply");
        gpurent_match_receipt_clear(&r);
    }
    if ((s >> 34) % 2) {
        uint8_t pk[GPURENT_KEY_BYTES];
        fuzz_pk((unsigned)((s >> 36) % FUZZ_KEYS), pk);
        (void)gpurent_market_set_trust(m, pk, 1 + (uint32_t)((s >> 40) % 7), (uint32_t)((s >> 44) % 1000001));
    }
    /* the arrays a loaded market was sized to exactly must grow: an offer
     * of a provider new or not (its key one of the fixture's), a lease
     * ended, an offer withdrawn */
    if ((s >> 48) % 2) {
        gpurent_offer o;
        gpurent_offer_init(&o);
        fuzz_pk((unsigned)((s >> 49) % FUZZ_KEYS), o.provider_key);
        o.provider_key[31] ^= (uint8_t)((s >> 53) % 2); /* half the time a key no fixture has */
        o.seq = (1ull << 40) + (s >> 54) % 1000;
        snprintf(o.region, sizeof o.region, "eu-west");
        gpurent_node n;
        memset(&n, 0, sizeof n);
        snprintf(n.node_id, sizeof n.node_id, "fz%u", (unsigned)((s >> 56) % 4));
        snprintf(n.gpu.model, sizeof n.gpu.model, "H100 SXM5 80GB");
        n.gpu.cc_major = 9;
        n.gpu.memory_mib = 81559;
        n.gpu.interface = GPURENT_IFACE_SXM;
        n.gpu.cuda_version = 12040;
        n.gpu_count = n.gpu_free = 1u << ((s >> 58) % 4);
        n.price_micro_per_gpu_hour = 1000000;
        if (gpurent_offer_add_node(&o, &n) == GPURENT_OK) (void)gpurent_market_put_offer(m, &o);
        gpurent_offer_clear(&o);
    }
    if ((s >> 60) % 2) (void)gpurent_market_end_lease(m, q.request_id);
    if ((s >> 61) % 2) {
        uint8_t pk[GPURENT_KEY_BYTES];
        fuzz_pk((unsigned)((s >> 62) % FUZZ_KEYS), pk);
        (void)gpurent_market_remove_offer(m, pk);
    }
}

SNAPSHOT_FUZZER(gpurent_market, market, gpurent_market_free, market_mutate)
