/* The FP32 FMA kernel: PTX embedded in the library (the driver JIT-compiles
 * it with cuModuleLoadData, no compiler needed here) and its CPU reference.
 *
 * Each thread runs GR_FMA_CHAINS independent chains of the logistic map
 * x <- r*x*(1-x) + c, written as two fused multiply-adds per step:
 *     y = fma(-x, x, x)        (x - x*x, one rounding)
 *     x = fma(y, r, c)
 * For r in [3.9375, 3.96875) and c in [2^-9, 2^-8) the map is chaotic and
 * stays in (0.01, 0.997): chains started apart stay apart for thousands of
 * steps and no value is denormal or leaves the interval. (In FP32 every
 * orbit ends on a cycle eventually; the check is replay protection, not a
 * proof of work.)
 * Start values come from an integer hash of (thread, chain) and a key, and
 * r, c and the key come from the challenge nonce: an output cannot be
 * computed before the challenge, nor replayed after. Each thread stores a
 * polynomial hash (acc = acc * 31 + bits) of its chains' bit patterns, in
 * chain order, so chains cannot be swapped. fma.rn.f32 and C's fmaf() are both the
 * correctly rounded IEEE fused multiply-add, so the CPU reproduces every
 * bit. */
#include <math.h>
#include <string.h>

#include "probe_internal.h"

#define CHAIN_INIT(j)                                   \
    "\tadd.u32 %r7, %r6, " #j ";\n"                      \
    "\txor.b32 %r7, %r7, %r0;\n"                         \
    "\tmul.lo.u32 %r7, %r7, 0x9E3779B1;\n"               \
    "\tshr.u32 %r8, %r7, 15;\n"                          \
    "\txor.b32 %r7, %r7, %r8;\n"                         \
    "\txor.b32 %r7, %r7, %r0;\n"                         \
    "\tmul.lo.u32 %r7, %r7, 0x85EBCA77;\n"               \
    "\tshr.u32 %r8, %r7, 13;\n"                          \
    "\txor.b32 %r7, %r7, %r8;\n"                         \
    "\tshr.u32 %r7, %r7, 9;\n"                           \
    "\tor.b32 %r7, %r7, 0x3E800000;\n"                   \
    "\tmov.b32 %x" #j ", %r7;\n"

#define STEP1(j) "\tneg.f32 %y" #j ", %x" #j ";\n\tfma.rn.f32 %y" #j ", %y" #j ", %x" #j ", %x" #j ";\n"
#define STEP2(j) "\tfma.rn.f32 %x" #j ", %y" #j ", %f0, %f1;\n"
#define FOLD(j) "\tmov.b32 %r10, %x" #j ";\n\tmad.lo.u32 %r9, %r9, 31, %r10;\n"

const char gr_fma_ptx[] =
    "// libgpurent probe: FP32 FMA throughput kernel (see lib/probe/kernel.c)\n"
    ".version 6.4\n"
    ".target sm_52\n"
    ".address_size 64\n"
    "\n"
    ".visible .entry gpurent_fma(\n"
    "\t.param .u64 gr_out,\n"
    "\t.param .u32 gr_key,\n"
    "\t.param .f32 gr_r,\n"
    "\t.param .f32 gr_c,\n"
    "\t.param .u32 gr_iters\n"
    ")\n"
    "{\n"
    "\t.reg .pred %p<2>;\n"
    "\t.reg .b32 %r<11>;\n"
    "\t.reg .b64 %rd<4>;\n"
    "\t.reg .f32 %f<2>;\n"
    "\t.reg .f32 %x<8>;\n"
    "\t.reg .f32 %y<8>;\n"
    "\n"
    "\tld.param.u64 %rd0, [gr_out];\n"
    "\tld.param.u32 %r0, [gr_key];\n"
    "\tld.param.f32 %f0, [gr_r];\n"
    "\tld.param.f32 %f1, [gr_c];\n"
    "\tld.param.u32 %r1, [gr_iters];\n"
    "\tmov.u32 %r2, %ctaid.x;\n"
    "\tmov.u32 %r3, %ntid.x;\n"
    "\tmov.u32 %r4, %tid.x;\n"
    "\tmad.lo.u32 %r5, %r2, %r3, %r4;\n"
    "\tshl.b32 %r6, %r5, 3;\n"
    CHAIN_INIT(0) CHAIN_INIT(1) CHAIN_INIT(2) CHAIN_INIT(3)
    CHAIN_INIT(4) CHAIN_INIT(5) CHAIN_INIT(6) CHAIN_INIT(7)
    "\tsetp.eq.u32 %p0, %r1, 0;\n"
    "\t@%p0 bra GR_DONE;\n"
    "GR_LOOP:\n"
    STEP1(0) STEP1(1) STEP1(2) STEP1(3) STEP1(4) STEP1(5) STEP1(6) STEP1(7)
    STEP2(0) STEP2(1) STEP2(2) STEP2(3) STEP2(4) STEP2(5) STEP2(6) STEP2(7)
    "\tsub.u32 %r1, %r1, 1;\n"
    "\tsetp.ne.u32 %p1, %r1, 0;\n"
    "\t@%p1 bra GR_LOOP;\n"
    "GR_DONE:\n"
    "\tmov.u32 %r9, 0;\n"
    FOLD(0) FOLD(1) FOLD(2) FOLD(3) FOLD(4) FOLD(5) FOLD(6) FOLD(7)
    "\tcvta.to.global.u64 %rd1, %rd0;\n"
    "\tmul.wide.u32 %rd2, %r5, 4;\n"
    "\tadd.u64 %rd3, %rd1, %rd2;\n"
    "\tst.global.u32 [%rd3], %r9;\n"
    "\tret;\n"
    "}\n";

const char gr_fma_entry[] = "gpurent_fma";

static float bits_to_float(uint32_t b)
{
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static uint32_t float_to_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static uint32_t chain_hash(uint32_t index, uint32_t key)
{
    uint32_t h = index ^ key;
    h *= 0x9E3779B1u;
    h ^= h >> 15;
    h ^= key; /* the key enters twice, so no key is a mere renumbering of another */
    h *= 0x85EBCA77u;
    h ^= h >> 13;
    return h;
}

void gr_fma_params_from_seed(const uint8_t seed[32], gr_fma_params *p)
{
    uint32_t w[3];
    for (int i = 0; i < 3; i++)
        w[i] = (uint32_t)seed[4 * i] | (uint32_t)seed[4 * i + 1] << 8 | (uint32_t)seed[4 * i + 2] << 16 |
               (uint32_t)seed[4 * i + 3] << 24;
    p->key = w[0];
    p->r_bits = 0x407C0000u | (w[1] & 0x1FFFFu); /* r in [3.9375, 3.96875) */
    p->c_bits = 0x3B000000u | (w[2] & 0x7FFFFFu); /* c in [2^-9, 2^-8) */
}

uint32_t gr_fma_reference(const gr_fma_params *p, uint32_t iterations, uint32_t thread)
{
    float x[GR_FMA_CHAINS];
    const float r = bits_to_float(p->r_bits), c = bits_to_float(p->c_bits);
    for (uint32_t j = 0; j < GR_FMA_CHAINS; j++)
        x[j] = bits_to_float(0x3E800000u | chain_hash(thread * GR_FMA_CHAINS + j, p->key) >> 9);
    for (uint32_t i = 0; i < iterations; i++)
        for (uint32_t j = 0; j < GR_FMA_CHAINS; j++) {
            float y = fmaf(-x[j], x[j], x[j]);
            x[j] = fmaf(y, r, c);
        }
    uint32_t acc = 0;
    for (uint32_t j = 0; j < GR_FMA_CHAINS; j++) acc = acc * 31u + float_to_bits(x[j]);
    return acc;
}
