/* gpurent tier module: see ../../docs and the issue that builds it. */
#ifndef GPURENT_TIER_H
#define GPURENT_TIER_H

#include "gpurent/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
