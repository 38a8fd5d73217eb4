/* gpurent attest module: see ../../docs and the issue that builds it. */
#ifndef GPURENT_ATTEST_H
#define GPURENT_ATTEST_H

#include "gpurent/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
