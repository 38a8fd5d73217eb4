/* Fuzz the market snapshot loader (gpurent_market_load); oracles in
 * fuzz_snapshot_common.h, and every market that loads passes
 * ml_market_check (the loader builds it through the market's own calls and
 * does not run the whole check itself: this is where that is verified). */
#include "match/match_internal.h"

#define SNAPSHOT_CHECK_LOADED(h)                                                                           \
    FUZZ_ASSERT(ml_market_check(h) == GPURENT_OK, "a loaded market breaks an invariant: %s",                \
                gpurent_last_error_message())

#include "fuzz_snapshot_common.h"

SNAPSHOT_FUZZER(gpurent_market, market, gpurent_market_free)
