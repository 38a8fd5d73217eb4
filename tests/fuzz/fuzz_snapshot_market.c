/* Fuzz the market snapshot loader (gpurent_market_load); oracles in
 * fuzz_snapshot_common.h, and every market that loads passes
 * ml_market_check (the loader builds it through the market's own calls and
 * does not run the whole check itself: this is where that is verified). */
#include "match/match_internal.h"

#define SNAPSHOT_CHECK_LOADED(h)                                                                           \
    FUZZ_ASSERT(ml_market_check(h) == GPURENT_OK, "a loaded market breaks an invariant: %s",                \
                gpurent_last_error_message())

#include "fuzz_snapshot_common.h"

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
}

SNAPSHOT_FUZZER(gpurent_market, market, gpurent_market_free, market_mutate)
