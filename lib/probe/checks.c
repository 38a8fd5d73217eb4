/* Active checks: short, bounded measurements on one device, each compared
 * with its derived peak. Timing uses driver events (device time, not host
 * time), converted once to integer nanoseconds; everything after that is
 * integer arithmetic. Each check verifies a sample of what the device
 * produced, seeded from the challenge nonce, before its figure is trusted. */
#include <string.h>

#include <sodium.h>

#include "probe_internal.h"

#define MAX_COPY_REPS 1000u
#define MAX_KERNEL_REPS 1000u
#define COPY_SAMPLES 16u
#define MAX_FIGURE (1ull << 40) /* the record's bound for a measured figure */

typedef struct check_env {
    gr_probe_job *job;
    const gr_cu_api *cu;
    const gpurent_probe_device *dev;
    uint8_t seed[32];   /* BLAKE2b-256 of domain, nonce and ordinal */
    uint64_t rng;       /* sample positions */
    gr_cuevent start, stop;
} check_env;

/* splitmix64: sample positions from the seed. */
static uint64_t next_rand(check_env *e)
{
    uint64_t z = (e->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t seed_word(const check_env *e, unsigned i)
{
    const uint8_t *s = e->seed + 4 * (i % 8);
    return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
}

static void check_fail(gpurent_probe_check *k, gr_curesult rc)
{
    memset(k, 0, sizeof *k);
    k->state = GPURENT_PV_ERROR;
    k->error = rc ? rc : GR_CUDA_ERROR_UNKNOWN;
}

static void check_unavailable(gpurent_probe_check *k, gr_curesult rc)
{
    memset(k, 0, sizeof *k);
    k->state = GPURENT_PV_UNSUPPORTED;
    k->error = rc;
}

static void check_result(gpurent_probe_check *k, uint64_t value, const gpurent_pv *peak, int output_ok)
{
    memset(k, 0, sizeof *k);
    k->state = GPURENT_PV_OK;
    k->value = value > MAX_FIGURE ? MAX_FIGURE : value;
    if (peak->state == GPURENT_PV_OK && peak->value) k->ratio_ppm = gr_probe_ratio_ppm(k->value, peak->value);
    if (!output_ok) k->verdict = GPURENT_VERDICT_WRONG_OUTPUT;
    else if (k->ratio_ppm) k->verdict = gpurent_probe_verdict(k->ratio_ppm);
    else k->verdict = GPURENT_VERDICT_NONE; /* no peak to compare with */
}

/* One timed batch: `reps` calls of op between two events. */
typedef gr_curesult (*op_fn)(check_env *e, void *arg);

static gr_curesult timed(check_env *e, op_fn op, void *arg, uint32_t reps, uint64_t *ns)
{
    gr_curesult rc = e->cu->cuEventRecord(e->start, NULL);
    for (uint32_t i = 0; rc == GR_CUDA_SUCCESS && i < reps; i++) rc = op(e, arg);
    if (rc == GR_CUDA_SUCCESS) rc = e->cu->cuEventRecord(e->stop, NULL);
    if (rc == GR_CUDA_SUCCESS) rc = e->cu->cuEventSynchronize(e->stop);
    float ms = 0;
    if (rc == GR_CUDA_SUCCESS) rc = e->cu->cuEventElapsedTime(&ms, e->start, e->stop);
    if (rc != GR_CUDA_SUCCESS) return rc;
    /* The one floating-point step: the driver's milliseconds to integer ns. */
    double v = (double)ms * 1e6;
    *ns = v >= 1.0 ? (v < 1e15 ? (uint64_t)v : (uint64_t)1e15) : 1;
    return GR_CUDA_SUCCESS;
}

/* Warm up, time one call, then time enough calls to fill the target. */
static gr_curesult measure(check_env *e, op_fn op, void *arg, uint32_t max_reps, uint32_t *reps, uint64_t *ns)
{
    uint64_t one = 0;
    gr_curesult rc = op(e, arg);
    if (rc == GR_CUDA_SUCCESS) rc = timed(e, op, arg, 1, &one);
    if (rc != GR_CUDA_SUCCESS) return rc;
    uint64_t target = (uint64_t)e->job->opts.check_ms * 1000000u;
    uint64_t n = target / one;
    *reps = n < 1 ? 1 : n > max_reps ? max_reps : (uint32_t)n;
    return timed(e, op, arg, *reps, ns);
}

/* ---- device-to-device copy ---- */

typedef struct copy_arg {
    gr_cudeviceptr dst, src;
    void *host;
    size_t bytes;
} copy_arg;

static gr_curesult op_d2d(check_env *e, void *arg)
{
    copy_arg *a = arg;
    return e->cu->cuMemcpyDtoD_v2(a->dst, a->src, a->bytes);
}

static gr_curesult op_h2d(check_env *e, void *arg)
{
    copy_arg *a = arg;
    return e->cu->cuMemcpyHtoD_v2(a->dst, a->host, a->bytes);
}

/* Read back sampled words of `dst`; expect(i) gives the word at index i. */
static gr_curesult sample_words(check_env *e, gr_cudeviceptr dst, size_t words, const uint32_t *host,
                                uint32_t fill, int *ok)
{
    *ok = 1;
    for (unsigned i = 0; i < COPY_SAMPLES; i++) {
        size_t idx = (size_t)(next_rand(e) % words);
        uint32_t got = 0;
        gr_curesult rc = e->cu->cuMemcpyDtoH_v2(&got, dst + idx * 4, 4);
        if (rc != GR_CUDA_SUCCESS) return rc;
        if (got != (host ? host[idx] : fill)) *ok = 0;
    }
    return GR_CUDA_SUCCESS;
}

static void check_d2d(check_env *e, gpurent_probe_check *k)
{
    const gr_cu_api *cu = e->cu;
    copy_arg a = {0, 0, NULL, (size_t)(e->job->opts.check_max_bytes / 2) & ~(size_t)3};
    size_t words = a.bytes / 4;
    uint32_t fill = seed_word(e, 0), reps = 0;
    uint64_t ns = 0;
    int ok = 0;
    gr_curesult rc = cu->cuMemAlloc_v2(&a.src, a.bytes);
    if (rc == GR_CUDA_SUCCESS && (rc = cu->cuMemAlloc_v2(&a.dst, a.bytes)) != GR_CUDA_SUCCESS) a.dst = 0;
    if (rc == GR_CUDA_SUCCESS) rc = cu->cuMemsetD32_v2(a.src, fill, words);
    if (rc == GR_CUDA_SUCCESS) rc = cu->cuMemsetD32_v2(a.dst, ~fill, words);
    if (rc == GR_CUDA_SUCCESS) rc = measure(e, op_d2d, &a, MAX_COPY_REPS, &reps, &ns);
    if (rc == GR_CUDA_SUCCESS) rc = sample_words(e, a.dst, words, NULL, fill, &ok);
    /* A copy reads and writes every byte: 2 x bytes of memory traffic. */
    if (rc == GR_CUDA_SUCCESS) check_result(k, 2 * (uint64_t)a.bytes * reps * 1000u / ns, &e->dev->mem_bw_mbps, ok);
    else if (rc == GR_CUDA_ERROR_OUT_OF_MEMORY) check_unavailable(k, rc);
    else check_fail(k, rc);
    if (a.dst) cu->cuMemFree_v2(a.dst);
    if (a.src) cu->cuMemFree_v2(a.src);
}

static void check_h2d(check_env *e, gpurent_probe_check *k)
{
    const gr_cu_api *cu = e->cu;
    copy_arg a = {0, 0, NULL, (size_t)(e->job->opts.check_max_bytes / 2) & ~(size_t)3};
    size_t words = a.bytes / 4;
    uint32_t reps = 0;
    uint64_t ns = 0;
    int ok = 0;
    gr_curesult rc = cu->cuMemAllocHost_v2(&a.host, a.bytes);
    if (rc != GR_CUDA_SUCCESS) a.host = NULL;
    if (rc == GR_CUDA_SUCCESS) {
        uint32_t *w = a.host;
        uint64_t saved = e->rng;
        for (size_t i = 0; i < words; i++) w[i] = (uint32_t)next_rand(e);
        e->rng = saved ^ 0x5bd1e995u; /* sample positions independent of the data */
        rc = cu->cuMemAlloc_v2(&a.dst, a.bytes);
        if (rc != GR_CUDA_SUCCESS) a.dst = 0;
    }
    if (rc == GR_CUDA_SUCCESS) rc = measure(e, op_h2d, &a, MAX_COPY_REPS, &reps, &ns);
    if (rc == GR_CUDA_SUCCESS) rc = sample_words(e, a.dst, words, a.host, 0, &ok);
    if (rc == GR_CUDA_SUCCESS) check_result(k, (uint64_t)a.bytes * reps * 1000u / ns, &e->dev->h2d_peak_mbps, ok);
    else if (rc == GR_CUDA_ERROR_OUT_OF_MEMORY) check_unavailable(k, rc);
    else check_fail(k, rc);
    if (a.dst) cu->cuMemFree_v2(a.dst);
    if (a.host) cu->cuMemFreeHost(a.host);
}

/* ---- FP32 FMA kernel ---- */

typedef struct fma_arg {
    gr_cufunction fn;
    uint32_t blocks;
    void *params[5];
} fma_arg;

static gr_curesult op_fma(check_env *e, void *arg)
{
    fma_arg *a = arg;
    return e->cu->cuLaunchKernel(a->fn, a->blocks, 1, 1, GR_FMA_BLOCK, 1, 1, 0, NULL, a->params, NULL);
}

static int jit_unavailable(gr_curesult rc)
{
    return rc == GR_CUDA_ERROR_INVALID_PTX || rc == GR_CUDA_ERROR_JIT_COMPILER_NOT_FOUND ||
           rc == GR_CUDA_ERROR_UNSUPPORTED_PTX_VERSION || rc == GR_CUDA_ERROR_JIT_COMPILATION_DISABLED;
}

static gr_curesult fma_verify(check_env *e, gr_cudeviceptr out, uint32_t threads, const gr_fma_params *p,
                              int *ok)
{
    *ok = 1;
    uint32_t iters = e->job->opts.fma_iterations;
    for (uint32_t i = 0; i < e->job->opts.fma_samples && *ok; i++) {
        uint32_t t = (uint32_t)(next_rand(e) % threads), got = 0;
        gr_curesult rc = e->cu->cuMemcpyDtoH_v2(&got, out + (gr_cudeviceptr)t * 4, 4);
        if (rc != GR_CUDA_SUCCESS) return rc;
        if (got != gr_fma_reference(p, iters, t)) *ok = 0;
    }
    return GR_CUDA_SUCCESS;
}

static void check_fma(check_env *e, gpurent_probe_check *k)
{
    const gr_cu_api *cu = e->cu;
    const gpurent_probe_device *d = e->dev;
    if (d->sm_count.state != GPURENT_PV_OK || d->sm_count.value == 0) {
        check_unavailable(k, 0);
        return;
    }
    /* Fill every SM to its thread limit, within the memory bound. */
    uint64_t per_sm = d->max_threads_per_sm.state == GPURENT_PV_OK ? d->max_threads_per_sm.value / GR_FMA_BLOCK : 4;
    uint64_t blocks = d->sm_count.value * (per_sm ? per_sm : 1);
    uint64_t max_blocks = e->job->opts.check_max_bytes / (4u * GR_FMA_BLOCK);
    if (blocks > max_blocks) blocks = max_blocks;
    if (blocks > (1u << 20)) blocks = 1u << 20;
    uint32_t threads = (uint32_t)blocks * GR_FMA_BLOCK, iters = e->job->opts.fma_iterations, reps = 0;
    gr_fma_params p;
    gr_fma_params_from_seed(e->seed, &p);
    gr_cumodule mod = NULL;
    gr_cudeviceptr out = 0;
    fma_arg a = {NULL, (uint32_t)blocks, {0}};
    float r, c;
    memcpy(&r, &p.r_bits, 4);
    memcpy(&c, &p.c_bits, 4);
    a.params[0] = &out;
    a.params[1] = &p.key;
    a.params[2] = &r;
    a.params[3] = &c;
    a.params[4] = &iters;
    uint64_t ns = 0;
    int ok = 0;
    gr_curesult rc = cu->cuModuleLoadData(&mod, gr_fma_ptx);
    if (rc != GR_CUDA_SUCCESS) mod = NULL;
    if (rc == GR_CUDA_SUCCESS) rc = cu->cuModuleGetFunction(&a.fn, mod, gr_fma_entry);
    if (rc == GR_CUDA_SUCCESS && (rc = cu->cuMemAlloc_v2(&out, (size_t)threads * 4)) != GR_CUDA_SUCCESS) out = 0;
    if (rc == GR_CUDA_SUCCESS) rc = measure(e, op_fma, &a, MAX_KERNEL_REPS, &reps, &ns);
    if (rc == GR_CUDA_SUCCESS) rc = fma_verify(e, out, threads, &p, &ok);
    if (rc == GR_CUDA_SUCCESS)
        check_result(k, (uint64_t)threads * iters * GR_FMA_FLOPS_PER_ITER * reps / ns, &d->fp32_gflops, ok);
    else if (jit_unavailable(rc) || rc == GR_CUDA_ERROR_OUT_OF_MEMORY) check_unavailable(k, rc);
    else check_fail(k, rc);
    if (out) cu->cuMemFree_v2(out);
    if (mod) cu->cuModuleUnload(mod);
}

/* ---- per device ---- */

static void mark(gpurent_probe_device *d, uint32_t checks, uint32_t state, gr_curesult rc)
{
    gpurent_probe_check *k[3] = {&d->d2d, &d->h2d, &d->fma};
    for (unsigned i = 0; i < 3; i++)
        if (checks & (1u << i)) {
            memset(k[i], 0, sizeof *k[i]);
            k[i]->state = state;
            k[i]->error = rc;
        }
}

static void derive_seed(const gr_probe_job *job, uint32_t ordinal, uint8_t seed[32])
{
    static const char domain[] = "gpurent probe checks v1";
    uint8_t ord[4] = {(uint8_t)ordinal, (uint8_t)(ordinal >> 8), (uint8_t)(ordinal >> 16), (uint8_t)(ordinal >> 24)};
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)domain, sizeof domain - 1);
    crypto_generichash_update(&st, job->report.nonce, GPURENT_CHALLENGE_BYTES);
    crypto_generichash_update(&st, ord, 4);
    crypto_generichash_final(&st, seed, 32);
}

void gr_checks_run(gr_probe_job *job, gpurent_probe_device *dev, gr_cudevice cudev)
{
    uint32_t want = job->opts.checks & GPURENT_CHECK_ALL;
    if (!job->drv->bench_ok) {
        mark(dev, want, GPURENT_PV_UNSUPPORTED, 0);
        return;
    }
    check_env e;
    memset(&e, 0, sizeof e);
    e.job = job;
    e.cu = &job->drv->api;
    e.dev = dev;
    derive_seed(job, dev->ordinal, e.seed);
    memcpy(&e.rng, e.seed + 24, 8);
    gr_cucontext ctx = NULL;
    gr_curesult rc = e.cu->cuDevicePrimaryCtxRetain(&ctx, cudev);
    if (rc != GR_CUDA_SUCCESS) {
        mark(dev, want, GPURENT_PV_ERROR, rc);
        return;
    }
    rc = e.cu->cuCtxSetCurrent(ctx);
    if (rc == GR_CUDA_SUCCESS && (rc = e.cu->cuEventCreate(&e.start, GR_CU_EVENT_DEFAULT)) != GR_CUDA_SUCCESS)
        e.start = NULL;
    if (rc == GR_CUDA_SUCCESS && (rc = e.cu->cuEventCreate(&e.stop, GR_CU_EVENT_DEFAULT)) != GR_CUDA_SUCCESS)
        e.stop = NULL;
    if (rc != GR_CUDA_SUCCESS) mark(dev, want, GPURENT_PV_ERROR, rc);
    if (rc == GR_CUDA_SUCCESS && (want & GPURENT_CHECK_D2D) && !gr_job_abandoned(job)) check_d2d(&e, &dev->d2d);
    if (rc == GR_CUDA_SUCCESS && (want & GPURENT_CHECK_H2D) && !gr_job_abandoned(job)) check_h2d(&e, &dev->h2d);
    if (rc == GR_CUDA_SUCCESS && (want & GPURENT_CHECK_FMA) && !gr_job_abandoned(job)) check_fma(&e, &dev->fma);
    if (e.stop) e.cu->cuEventDestroy_v2(e.stop);
    if (e.start) e.cu->cuEventDestroy_v2(e.start);
    e.cu->cuCtxSynchronize();
    e.cu->cuCtxSetCurrent(NULL);
    e.cu->cuDevicePrimaryCtxRelease_v2(cudev);
}
