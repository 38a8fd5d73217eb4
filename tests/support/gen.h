/* Deterministic generators of valid wire records for tests and tools. */
#ifndef GPURENT_TEST_GEN_H
#define GPURENT_TEST_GEN_H

#include <stdint.h>

#include "gpurent.h"

typedef struct gen_rng {
    uint64_t s;
} gen_rng;

uint64_t gen_next(gen_rng *r);
uint64_t gen_below(gen_rng *r, uint64_t n);
void gen_gpu(gen_rng *r, gpurent_gpu *g);
void gen_node(gen_rng *r, gpurent_node *n, unsigned index);
/* Fills an initialised offer; free with gpurent_offer_clear(). */
void gen_offer(gen_rng *r, gpurent_offer *o);
void gen_request(gen_rng *r, gpurent_request *q);
/* The fixed H100 SXM5 GPU used in docs and fixtures. */
void gen_h100(gpurent_gpu *g);

#endif
