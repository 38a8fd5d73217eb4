/* Fuzz the trust store snapshot loader (gpurent_trust_load); oracles in
 * fuzz_snapshot_common.h. */
#include "fuzz_snapshot_common.h"

static void load(const uint8_t *f, size_t size)
{
    gpurent_trust *t = (gpurent_trust *)&t;
    uint64_t seq = 0;
    int rc = gpurent_trust_load(&t, f, size, NULL, &seq);
    if (rc != GPURENT_OK) {
        fuzz_expect_failure_in(rc, snapshot_status_ok, "gpurent_trust_load");
        FUZZ_ASSERT(t == NULL, "gpurent_trust_load failed and left *out set");
        return;
    }
    gpurent_buf again = {0};
    FUZZ_ASSERT(gpurent_trust_save(t, seq, &again) == GPURENT_OK, "saving a loaded store");
    snapshot_same_bytes(&again, f, size, "trust");
    gpurent_buf_free(&again);
    gpurent_trust_free(t);
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
