/* Fuzz the market snapshot loader (gpurent_market_load); oracles in
 * fuzz_snapshot_common.h. */
#include "fuzz_snapshot_common.h"

static void load(const uint8_t *f, size_t size)
{
    gpurent_market *e = (gpurent_market *)&e;
    uint64_t seq = 0;
    int rc = gpurent_market_load(&e, f, size, NULL, &seq);
    if (rc != GPURENT_OK) {
        fuzz_expect_failure_in(rc, snapshot_status_ok, "gpurent_market_load");
        FUZZ_ASSERT(e == NULL, "gpurent_market_load failed and left *out set");
        return;
    }
    gpurent_buf again = {0};
    FUZZ_ASSERT(gpurent_market_save(e, seq, &again) == GPURENT_OK, "saving a loaded market");
    snapshot_same_bytes(&again, f, size, "market");
    gpurent_buf_free(&again);
    gpurent_market_free(e);
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
