/* Fuzz the tier engine snapshot loader (gpurent_tier_load); oracles in
 * fuzz_snapshot_common.h. */
#include "fuzz_snapshot_common.h"

static void load(const uint8_t *f, size_t size)
{
    gpurent_tier_engine *e = (gpurent_tier_engine *)&e;
    uint64_t seq = 0;
    int rc = gpurent_tier_load(&e, f, size, NULL, &seq);
    if (rc != GPURENT_OK) {
        fuzz_expect_failure_in(rc, snapshot_status_ok, "gpurent_tier_load");
        FUZZ_ASSERT(e == NULL, "gpurent_tier_load failed and left *out set");
        return;
    }
    gpurent_buf again = {0};
    FUZZ_ASSERT(gpurent_tier_save(e, seq, &again) == GPURENT_OK, "saving a loaded engine");
    snapshot_same_bytes(&again, f, size, "tier");
    gpurent_buf_free(&again);
    gpurent_tier_engine_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > SNAP_MAX_INPUT) return 0;
    load(data, size);
    uint8_t *f = snapshot_reseal(data, size);
    if (f) load(f, size);
    free(f);
    return 0;
}
