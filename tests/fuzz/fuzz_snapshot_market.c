/* Fuzz the market snapshot loader (gpurent_market_load); oracles in
 * fuzz_snapshot_common.h. */
#include "fuzz_snapshot_common.h"

SNAPSHOT_FUZZER(gpurent_market, market, gpurent_market_free)
