/* Fuzz the trust store snapshot loader (gpurent_trust_load); oracles in
 * fuzz_snapshot_common.h. */
#include "fuzz_snapshot_common.h"

SNAPSHOT_FUZZER(gpurent_trust, trust, gpurent_trust_free)
