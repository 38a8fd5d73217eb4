/* Fuzz the tier engine snapshot loader (gpurent_tier_load); oracles in
 * fuzz_snapshot_common.h. */
#include "fuzz_snapshot_common.h"

SNAPSHOT_FUZZER(gpurent_tier_engine, tier, gpurent_tier_engine_free)
