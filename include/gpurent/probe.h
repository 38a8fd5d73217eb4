/* gpurent probe module: see ../../docs and the issue that builds it. */
#ifndef GPURENT_PROBE_H
#define GPURENT_PROBE_H

#include "gpurent/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
