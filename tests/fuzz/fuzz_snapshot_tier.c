/* Fuzz the tier engine snapshot loader (gpurent_tier_load); oracles in
 * fuzz_snapshot_common.h. */
#include "fuzz_snapshot_common.h"

/* The first second of era `era` (binary search on gpurent_tier_era_of);
 * 0 when no second below 2^48 falls in it or after it. */
static uint64_t era_start(const gpurent_tier_engine *e, uint64_t era)
{
    uint64_t lo = 0, hi = (uint64_t)1 << 48;
    if (gpurent_tier_era_of(e, hi) < era) return 0;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (gpurent_tier_era_of(e, mid) < era) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* One evidence event (recorded only by an engine that takes unverified
 * evidence) in the era the engine evaluates next, about a provider it knows
 * or a fixture key, then on some inputs that era's evaluation. */
static void tier_mutate(gpurent_tier_engine *e, const uint8_t *f, size_t size)
{
    uint64_t s = snapshot_mix(f, size);
    uint64_t era = gpurent_tier_next_era(e);
    gpurent_tier_event ev;
    memset(&ev, 0, sizeof ev);
    uint32_t n = gpurent_tier_provider_count(e);
    if (n && (s & 1)) {
        if (gpurent_tier_provider_key(e, (uint32_t)((s >> 1) % n), ev.provider_key) != GPURENT_OK)
            fuzz_die("gpurent_tier_provider_key");
    } else {
        fuzz_pk((unsigned)((s >> 1) % FUZZ_KEYS), ev.provider_key);
    }
    ev.time_s = era_start(e, era) + (s >> 8) % 60;
    ev.kind = GPURENT_TIER_EVENT_GPU_CHALLENGE + (uint32_t)((s >> 16) % 4);
    if (ev.kind == GPURENT_TIER_EVENT_JOB) ev.value = GPURENT_JOB_COMPLETED + (s >> 20) % 3;
    else if (ev.kind == GPURENT_TIER_EVENT_STAKE) ev.value = (s >> 20) % 1000000000000ull;
    else ev.value = (s >> 20) & 1;
    (void)gpurent_tier_record(e, &ev, 1);
    if ((s >> 60) % 4 == 0) (void)gpurent_tier_evaluate(e, era, NULL, NULL);
}

SNAPSHOT_FUZZER(gpurent_tier_engine, tier, gpurent_tier_engine_free, tier_mutate)
