/* libgpurent: the whole public API. Include this, or one module header. */
#ifndef GPURENT_H
#define GPURENT_H

#include "gpurent/version.h"
#include "gpurent/status.h"
#include "gpurent/common.h"
#include "gpurent/wire.h"
#include "gpurent/attest.h"
#include "gpurent/probe.h"
#include "gpurent/tier.h"
#include "gpurent/match.h"
#include "gpurent/models.h"

#endif
