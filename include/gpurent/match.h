/* gpurent match module: see ../../docs and the issue that builds it. */
#ifndef GPURENT_MATCH_H
#define GPURENT_MATCH_H

#include "gpurent/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
