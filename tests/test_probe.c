/* Probe: driver loading, every machine the fake driver plays, derived peaks,
 * active checks, the GPU report codec, and the declarations against cuda.h. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "gpurent.h"
#include "probe/probe_internal.h"
#include "fakecuda/fakesysfs.h"

#ifdef GR_HAVE_CUDA_H
#include <cuda.h>
#endif

static char fake_path[512], old_path[512], ancient_path[512], iso_path[512], ctorhang_path[512];
static char sysfs_root[512]; /* the fake sysfs tree (fakecuda/fakesysfs.h) */
static int under_valgrind;
static gpurent_gpu_report *report; /* ~40 KiB: kept off the stack */
static const uint8_t nonce_a[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("GPURENT_TEST_BUILD");
    if (!b || !*b) b = "build";
    snprintf(fake_path, sizeof fake_path, "%s/tests/libfakecuda.so", b);
    snprintf(old_path, sizeof old_path, "%s/tests/libfakecuda_old.so", b);
    snprintf(ancient_path, sizeof ancient_path, "%s/tests/libfakecuda_ancient.so", b);
    snprintf(iso_path, sizeof iso_path, "%s/tests/libfakecuda_iso.so", b);
    snprintf(ctorhang_path, sizeof ctorhang_path, "%s/tests/libfakecuda_ctorhang.so", b);
    under_valgrind = getenv("GPURENT_TEST_VALGRIND") != NULL;
    report = calloc(1, sizeof *report);
    if (fakesysfs_create(sysfs_root, sizeof sysfs_root)) return -1;
    unsetenv(GPURENT_SYSFS_ROOT_ENV);
    unsetenv("LD_PRELOAD");
    unsetenv("CUDA_VISIBLE_DEVICES");
    unsetenv("FAKECUDA_SPEED_PCT");
    return report ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(report);
    fakesysfs_remove(sysfs_root);
    /* Probe workers are detached: let the last one finish exiting, or
     * valgrind counts its thread's memory as lost. */
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
    return 0;
}

/* Resources the fake driver still holds for us (allocations, modules...). */
static int fake_outstanding(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(h);
    int (*fn)(void);
    void *p = dlsym(h, "fakecuda_outstanding");
    assert_non_null(p);
    memcpy(&fn, &p, sizeof fn);
    int n = fn();
    dlclose(h); /* drops only the NOLOAD reference */
    return n;
}

/* Small, fast checks: the fake's virtual clock makes the figures exact. */
static gpurent_probe_options fake_opts(const char *path, uint32_t checks)
{
    gpurent_probe_options o = GPURENT_PROBE_OPTIONS_INIT;
    o.driver_path = path;
    o.checks = checks;
    o.check_max_bytes = 1u << 20;
    o.check_ms = 5;
    o.fma_iterations = under_valgrind ? 16 : 64;
    o.fma_samples = under_valgrind ? 8 : 32;
    o.now = 1700000000;
    o.sysfs_root = sysfs_root; /* never the machine's own /sys */
    return o;
}

/* Probe `machine` through the fake at `path`; the report must be valid and
 * survive an encode/decode round trip unchanged. */
static void probe_machine(const char *path, const char *machine, uint32_t checks)
{
    setenv("FAKECUDA_MACHINE", machine, 1);
    gpurent_probe_options o = fake_opts(path, checks);
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_OK);
    assert_int_equal(gpurent_gpu_report_validate(report), GPURENT_OK);
    gpurent_buf b = {NULL, 0};
    assert_int_equal(gpurent_gpu_report_encode(report, &b), GPURENT_OK);
    assert_int_equal(gpurent_wire_check_canonical(b.data, b.len), GPURENT_OK);
    gpurent_gpu_report *back = calloc(1, sizeof *back);
    assert_non_null(back);
    assert_int_equal(gpurent_gpu_report_decode(b.data, b.len, back), GPURENT_OK);
    assert_memory_equal(back, report, sizeof *report);
    free(back);
    gpurent_buf_free(&b);
    if (strstr(path, "libfakecuda")) assert_int_equal(fake_outstanding(path), 0);
}

static int within_pct(uint64_t got, uint64_t want, unsigned pct)
{
    uint64_t lo = want * (100 - pct) / 100, hi = want * (100 + pct) / 100;
    return got >= lo && got <= hi;
}

/* ---------------- declarations against cuda.h ---------------- */

#ifdef GR_HAVE_CUDA_H
#define SAME_FN(ours, theirs) \
    _Static_assert(_Generic(&theirs, ours: 1, default: 0), #theirs ": signature differs from cuda.h")
SAME_FN(gr_fn_cuInit, cuInit);
SAME_FN(gr_fn_cuDriverGetVersion, cuDriverGetVersion);
SAME_FN(gr_fn_cuDeviceGetCount, cuDeviceGetCount);
SAME_FN(gr_fn_cuDeviceGet, cuDeviceGet);
SAME_FN(gr_fn_cuDeviceGetName, cuDeviceGetName);
SAME_FN(gr_fn_cuDeviceGetUuid, cuDeviceGetUuid_v2);
SAME_FN(gr_fn_cuDeviceTotalMem_v2, cuDeviceTotalMem_v2);
SAME_FN(gr_fn_cuDeviceGetAttribute, cuDeviceGetAttribute);
SAME_FN(gr_fn_cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain);
SAME_FN(gr_fn_cuDevicePrimaryCtxRelease_v2, cuDevicePrimaryCtxRelease_v2);
SAME_FN(gr_fn_cuCtxSetCurrent, cuCtxSetCurrent);
SAME_FN(gr_fn_cuCtxSynchronize, cuCtxSynchronize);
SAME_FN(gr_fn_cuMemAlloc_v2, cuMemAlloc_v2);
SAME_FN(gr_fn_cuMemFree_v2, cuMemFree_v2);
SAME_FN(gr_fn_cuMemAllocHost_v2, cuMemAllocHost_v2);
SAME_FN(gr_fn_cuMemFreeHost, cuMemFreeHost);
SAME_FN(gr_fn_cuMemcpyHtoD_v2, cuMemcpyHtoD_v2);
SAME_FN(gr_fn_cuMemcpyDtoH_v2, cuMemcpyDtoH_v2);
SAME_FN(gr_fn_cuMemcpyDtoD_v2, cuMemcpyDtoD_v2);
SAME_FN(gr_fn_cuMemsetD32_v2, cuMemsetD32_v2);
SAME_FN(gr_fn_cuModuleLoadData, cuModuleLoadData);
SAME_FN(gr_fn_cuModuleUnload, cuModuleUnload);
SAME_FN(gr_fn_cuModuleGetFunction, cuModuleGetFunction);
SAME_FN(gr_fn_cuLaunchKernel, cuLaunchKernel);
SAME_FN(gr_fn_cuEventCreate, cuEventCreate);
SAME_FN(gr_fn_cuEventRecord, cuEventRecord);
SAME_FN(gr_fn_cuEventSynchronize, cuEventSynchronize);
SAME_FN(gr_fn_cuEventElapsedTime, cuEventElapsedTime_v2);
SAME_FN(gr_fn_cuEventDestroy_v2, cuEventDestroy_v2);

#define SAME_VAL(ours, theirs) _Static_assert((ours) == (unsigned)(theirs), #ours " differs from cuda.h")
SAME_VAL(GR_CUDA_SUCCESS, CUDA_SUCCESS);
SAME_VAL(GR_CUDA_ERROR_INVALID_VALUE, CUDA_ERROR_INVALID_VALUE);
SAME_VAL(GR_CUDA_ERROR_OUT_OF_MEMORY, CUDA_ERROR_OUT_OF_MEMORY);
SAME_VAL(GR_CUDA_ERROR_NOT_INITIALIZED, CUDA_ERROR_NOT_INITIALIZED);
SAME_VAL(GR_CUDA_ERROR_DEINITIALIZED, CUDA_ERROR_DEINITIALIZED);
SAME_VAL(GR_CUDA_ERROR_STUB_LIBRARY, CUDA_ERROR_STUB_LIBRARY);
SAME_VAL(GR_CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER, CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER);
SAME_VAL(GR_CUDA_ERROR_DEVICE_UNAVAILABLE, CUDA_ERROR_DEVICE_UNAVAILABLE);
SAME_VAL(GR_CUDA_ERROR_NO_DEVICE, CUDA_ERROR_NO_DEVICE);
SAME_VAL(GR_CUDA_ERROR_INVALID_DEVICE, CUDA_ERROR_INVALID_DEVICE);
SAME_VAL(GR_CUDA_ERROR_INVALID_PTX, CUDA_ERROR_INVALID_PTX);
SAME_VAL(GR_CUDA_ERROR_JIT_COMPILER_NOT_FOUND, CUDA_ERROR_JIT_COMPILER_NOT_FOUND);
SAME_VAL(GR_CUDA_ERROR_JIT_COMPILATION_DISABLED, CUDA_ERROR_JIT_COMPILATION_DISABLED);
SAME_VAL(GR_CUDA_ERROR_UNSUPPORTED_PTX_VERSION, CUDA_ERROR_UNSUPPORTED_PTX_VERSION);
SAME_VAL(GR_CUDA_ERROR_SHARED_OBJECT_INIT_FAILED, CUDA_ERROR_SHARED_OBJECT_INIT_FAILED);
SAME_VAL(GR_CUDA_ERROR_SYSTEM_DRIVER_MISMATCH, CUDA_ERROR_SYSTEM_DRIVER_MISMATCH);
SAME_VAL(GR_CUDA_ERROR_UNKNOWN, CUDA_ERROR_UNKNOWN);
SAME_VAL(GR_CU_ATTR_CLOCK_RATE, CU_DEVICE_ATTRIBUTE_CLOCK_RATE);
SAME_VAL(GR_CU_ATTR_MULTIPROCESSOR_COUNT, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
SAME_VAL(GR_CU_ATTR_INTEGRATED, CU_DEVICE_ATTRIBUTE_INTEGRATED);
SAME_VAL(GR_CU_ATTR_ECC_ENABLED, CU_DEVICE_ATTRIBUTE_ECC_ENABLED);
SAME_VAL(GR_CU_ATTR_PCI_BUS_ID, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID);
SAME_VAL(GR_CU_ATTR_PCI_DEVICE_ID, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID);
SAME_VAL(GR_CU_ATTR_MEMORY_CLOCK_RATE, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE);
SAME_VAL(GR_CU_ATTR_GLOBAL_MEMORY_BUS_WIDTH, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
SAME_VAL(GR_CU_ATTR_L2_CACHE_SIZE, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
SAME_VAL(GR_CU_ATTR_MAX_THREADS_PER_MULTIPROCESSOR, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR);
SAME_VAL(GR_CU_ATTR_PCI_DOMAIN_ID, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID);
SAME_VAL(GR_CU_ATTR_COMPUTE_CAPABILITY_MAJOR, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
SAME_VAL(GR_CU_ATTR_COMPUTE_CAPABILITY_MINOR, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
SAME_VAL(GR_CU_EVENT_DEFAULT, CU_EVENT_DEFAULT);
_Static_assert(sizeof(CUuuid) == GR_CU_UUID_BYTES && offsetof(CUuuid, bytes) == 0, "CUuuid layout");
_Static_assert(_Generic((CUdevice)0, gr_cudevice: 1, default: 0), "CUdevice");
_Static_assert(_Generic((CUdeviceptr)0, gr_cudeviceptr: 1, default: 0), "CUdeviceptr");
_Static_assert(_Generic((CUresult)0, gr_curesult: 1, default: 0), "CUresult's compatible type");
_Static_assert(_Generic((CUdevice_attribute)0, gr_cudevice_attribute: 1, default: 0), "CUdevice_attribute");
#endif

static void test_cuda_h(void **state)
{
    (void)state;
#ifdef GR_HAVE_CUDA_H
    /* The static assertions above did the work at compile time; this
     * records which header they ran against. */
    assert_true(CUDA_VERSION >= 11040);
    printf("cuda_min.h matches cuda.h %d.%d (checked at compile time)\n", CUDA_VERSION / 1000,
           CUDA_VERSION % 1000 / 10);
#else
    printf("SKIPPED: cuda.h not found (set CUDA_HOME): declarations not checked against the toolkit\n");
    skip();
#endif
}

static void test_ptxas(void **state)
{
    (void)state;
#ifdef GR_PTXAS
    char dir[] = "/tmp/gpurent-ptx-XXXXXX", file[64], cmd[512];
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/k.ptx", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    assert_true(fputs(gr_fma_ptx, f) >= 0);
    assert_int_equal(fclose(f), 0);
    static const char *const archs[] = {"sm_75", "sm_80", "sm_86", "sm_89", "sm_90", "sm_100", "sm_120"};
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s -arch=%s %s -o %s/k.cubin 2>&1", GR_PTXAS, archs[i], file, dir);
        int rc = system(cmd);
        if (rc != 0) fail_msg("ptxas failed for %s", archs[i]);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
#else
    printf("SKIPPED: ptxas not found (set CUDA_HOME): the embedded PTX was not assembled\n");
    skip();
#endif
}

/* ---------------- derived peaks and verdicts ---------------- */

static void test_derived_peaks(void **state)
{
    (void)state;
    gpurent_pv fp32, fp16, bf16, bw, h2d;
    /* H100 SXM5: 66.9 TFLOPS FP32, 3352 GB/s (spec sheet). */
    gpurent_probe_derive_peaks(9, 0, 132, 1980000, 2619000, 5120, &fp32, &fp16, &bf16, &bw, &h2d);
    assert_int_equal(fp32.state, GPURENT_PV_OK);
    assert_true(within_pct(fp32.value, 66900, 5));
    assert_true(within_pct(bw.value, 3352000, 5));
    assert_true(within_pct(fp16.value, 989400, 10)); /* spec uses a 1830 MHz tensor clock */
    assert_int_equal(h2d.value, 63000);
    /* A100 SXM4: 19.5 TFLOPS, 2039 GB/s, 312 TFLOPS FP16 tensor. */
    gpurent_probe_derive_peaks(8, 0, 108, 1410000, 1593000, 5120, &fp32, &fp16, &bf16, &bw, &h2d);
    assert_true(within_pct(fp32.value, 19500, 5));
    assert_true(within_pct(bw.value, 2039000, 5));
    assert_true(within_pct(fp16.value, 312000, 5));
    assert_int_equal(bf16.value, fp16.value);
    /* RTX 4090: 82.6 TFLOPS, 1008 GB/s, 330 TFLOPS FP16 tensor (FP16 accumulate). */
    gpurent_probe_derive_peaks(8, 9, 128, 2520000, 10501000, 384, &fp32, &fp16, &bf16, &bw, &h2d);
    assert_true(within_pct(fp32.value, 82600, 5));
    assert_true(within_pct(bw.value, 1008000, 5));
    assert_true(within_pct(fp16.value, 330300, 5));
    /* Volta has no BF16; an unknown architecture has no table figures, but
     * memory bandwidth needs no table. */
    gpurent_probe_derive_peaks(7, 0, 80, 1530000, 877000, 4096, &fp32, &fp16, &bf16, &bw, &h2d);
    assert_int_equal(fp16.state, GPURENT_PV_OK);
    assert_int_equal(bf16.state, GPURENT_PV_UNSUPPORTED);
    gpurent_probe_derive_peaks(6, 1, 20, 1700000, 5000000, 256, &fp32, &fp16, &bf16, &bw, &h2d);
    assert_int_equal(fp32.state, GPURENT_PV_UNSUPPORTED);
    assert_int_equal(fp32.value, 0);
    assert_int_equal(h2d.state, GPURENT_PV_UNSUPPORTED);
    assert_int_equal(bw.state, GPURENT_PV_OK);
    gpurent_probe_derive_peaks(9, 0, 132, 1980000, 0, 5120, NULL, NULL, NULL, &bw, NULL);
    assert_int_equal(bw.state, GPURENT_PV_UNSUPPORTED);
}

static void test_verdicts(void **state)
{
    (void)state;
    assert_int_equal(gpurent_probe_verdict(0), GPURENT_VERDICT_LOW);
    assert_int_equal(gpurent_probe_verdict(749999), GPURENT_VERDICT_LOW);
    assert_int_equal(gpurent_probe_verdict(750000), GPURENT_VERDICT_PLAUSIBLE);
    assert_int_equal(gpurent_probe_verdict(1100000), GPURENT_VERDICT_PLAUSIBLE);
    assert_int_equal(gpurent_probe_verdict(1100001), GPURENT_VERDICT_IMPLAUSIBLE);
    assert_string_equal(gpurent_verdict_name(GPURENT_VERDICT_WRONG_OUTPUT), "wrong output");
    assert_string_equal(gpurent_verdict_name(9), "unknown");
    assert_string_equal(gpurent_pv_state_name(GPURENT_PV_UNSUPPORTED), "unsupported");
    assert_string_equal(gpurent_pv_state_name(7), "unknown");
}

/* The CPU reference depends on every input, so a stale seed shows. */
static void test_fma_reference(void **state)
{
    (void)state;
    uint8_t seed[32] = {7};
    gr_fma_params p, q;
    gr_fma_params_from_seed(seed, &p);
    uint32_t base = gr_fma_reference(&p, 64, 5);
    assert_int_equal(base, gr_fma_reference(&p, 64, 5));
    assert_int_not_equal(base, gr_fma_reference(&p, 64, 6));
    assert_int_not_equal(base, gr_fma_reference(&p, 65, 5));
    for (unsigned bit = 0; bit < 32; bit++) {
        q = p;
        q.key ^= 1u << bit;
        assert_int_not_equal(base, gr_fma_reference(&q, 64, 5));
    }
    q = p;
    q.r_bits ^= 1;
    assert_int_not_equal(base, gr_fma_reference(&q, 64, 5));
    seed[31] = 1;
    gr_fma_params_from_seed(seed, &q);
    assert_memory_equal(&p, &q, sizeof p); /* only the first 12 bytes feed the kernel */
    assert_non_null(strstr(gr_fma_ptx, ".entry gpurent_fma("));
}

/* ---------------- machines ---------------- */

static void test_h100(void **state)
{
    (void)state;
    probe_machine(fake_path, "h100", 0);
    const gpurent_gpu_report *r = report;
    assert_int_equal(r->status, GPURENT_OK);
    assert_string_equal(r->reason, "");
    assert_int_equal(r->device_count, 1);
    assert_int_equal(r->driver_device_count, 1);
    assert_int_equal(r->driver_version.state, GPURENT_PV_OK);
    assert_int_equal(r->driver_version.value, 12040);
    assert_memory_equal(r->nonce, nonce_a, 32);
    assert_int_equal(r->probed_at, 1700000000);
    const gpurent_probe_device *d = gpurent_gpu_report_device(r, 0);
    assert_non_null(d);
    assert_null(gpurent_gpu_report_device(r, 1));
    assert_string_equal(d->name.value, "NVIDIA H100 80GB HBM3");
    assert_int_equal(d->uuid.state, GPURENT_PV_OK);
    assert_int_equal(d->uuid.value[0], 0xa0 + 0x1b);
    assert_int_equal(d->pci_bus.value, 0x1b);
    assert_int_equal(d->cc_major.value, 9);
    assert_int_equal(d->cc_minor.value, 0);
    assert_int_equal(d->sm_count.value, 132);
    /* Above 4 GiB: only cuDeviceTotalMem_v2 answers this (the fake's legacy
     * cuDeviceTotalMem would truncate it to 32 bits). */
    assert_int_equal(d->memory_bytes.value, 85520809984ull);
    assert_int_equal(d->clock_khz.value, 1980000);
    assert_int_equal(d->mem_clock_khz.value, 2619000);
    assert_int_equal(d->bus_width_bits.value, 5120);
    assert_int_equal(d->l2_bytes.value, 52428800);
    assert_int_equal(d->ecc_enabled.value, 1);
    assert_int_equal(d->max_threads_per_sm.value, 2048);
    /* The public figures: 66.9 TFLOPS FP32 and 3352 GB/s. */
    assert_true(within_pct(d->fp32_gflops.value, 66900, 5));
    assert_true(within_pct(d->mem_bw_mbps.value, 3352000, 5));
    assert_int_equal(d->d2d.state, GPURENT_PV_SKIPPED);
    assert_int_equal(d->fma.state, GPURENT_PV_SKIPPED);

    gpurent_gpu g;
    assert_int_equal(gpurent_gpu_report_to_gpu(r, 0, &g), GPURENT_OK);
    assert_string_equal(g.model, "NVIDIA H100 80GB HBM3");
    assert_int_equal(g.memory_mib, 81559);
    assert_int_equal(g.clock_mhz, 1980);
    assert_int_equal(g.l2_kib, 51200);
    assert_int_equal(g.fp32_gflops, d->fp32_gflops.value);
    assert_int_equal(g.cuda_version, 12040);
    assert_int_equal(g.measured_fp32_gflops, 0); /* not measured */
    assert_int_equal(gpurent_gpu_report_to_gpu(r, 1, &g), GPURENT_E_NOT_FOUND);
}

/* The provenance: the file loaded and its BLAKE2b-256 digest. */
static void test_provenance(void **state)
{
    (void)state;
    setenv("CUDA_VISIBLE_DEVICES", "0", 1);
    setenv("LD_PRELOAD", "", 1);
    probe_machine(fake_path, "h100", 0);
    unsetenv("CUDA_VISIBLE_DEVICES");
    unsetenv("LD_PRELOAD");
    assert_int_equal(report->cuda_visible_devices_set, 1);
    assert_int_equal(report->ld_preload_set, 1);
    char real[4096];
    assert_non_null(realpath(fake_path, real));
    assert_string_equal(report->driver_path, real);
    FILE *f = fopen(real, "rb");
    assert_non_null(f);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    uint8_t buf[4096], want[32];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) crypto_generichash_update(&st, buf, n);
    fclose(f);
    crypto_generichash_final(&st, want, 32);
    assert_memory_equal(report->driver_digest, want, 32);
    probe_machine(fake_path, "h100", 0);
    assert_int_equal(report->cuda_visible_devices_set, 0);
    assert_int_equal(report->ld_preload_set, 0);
}

static void test_env_driver(void **state)
{
    (void)state;
    setenv("FAKECUDA_MACHINE", "rtx4090", 1);
    setenv(GPURENT_CUDA_LIBRARY_ENV, fake_path, 1);
    assert_int_equal(gpurent_probe_run(NULL, nonce_a, NULL, report), GPURENT_OK);
    unsetenv(GPURENT_CUDA_LIBRARY_ENV);
    assert_int_equal(report->status, GPURENT_OK);
    assert_string_equal(report->devices[0].name.value, "NVIDIA GeForce RTX 4090");
}

static void test_a100x8_pci_order(void **state)
{
    (void)state;
    probe_machine(fake_path, "a100x8", 0);
    assert_int_equal(report->status, GPURENT_OK);
    assert_int_equal(report->device_count, 8);
    static const uint32_t buses[8] = {0x07, 0x0f, 0x47, 0x4e, 0x87, 0x90, 0xb7, 0xbd};
    static const uint32_t ordinals[8] = {1, 4, 3, 6, 0, 5, 7, 2};
    for (uint32_t i = 0; i < 8; i++) {
        const gpurent_probe_device *d = &report->devices[i];
        assert_int_equal(d->pci_bus.value, buses[i]);
        assert_int_equal(d->ordinal, ordinals[i]);
        assert_int_equal(d->uuid.value[0], (0xa0 + buses[i] + ordinals[i]) & 0xff);
        assert_true(within_pct(d->fp32_gflops.value, 19500, 5));
        assert_true(within_pct(d->mem_bw_mbps.value, 2039000, 5));
        gpurent_gpu g;
        assert_int_equal(gpurent_gpu_report_to_gpu(report, i, &g), GPURENT_OK);
        assert_int_equal(g.interface, GPURENT_IFACE_SXM);
        assert_int_equal(g.memory_mib, 81920);
    }
}

static void test_rtx4090_unsupported(void **state)
{
    (void)state;
    probe_machine(fake_path, "rtx4090", 0);
    const gpurent_probe_device *d = &report->devices[0];
    assert_int_equal(report->status, GPURENT_OK);
    /* The fake 4090's driver does not know the ECC attribute: "unsupported",
     * with the driver's answer, never a silent 0. */
    assert_int_equal(d->ecc_enabled.state, GPURENT_PV_UNSUPPORTED);
    assert_int_equal(d->ecc_enabled.error, 1);
    assert_true(within_pct(d->fp32_gflops.value, 82600, 5));
    assert_true(within_pct(d->mem_bw_mbps.value, 1008000, 5));
    gpurent_gpu g;
    assert_int_equal(gpurent_gpu_report_to_gpu(report, 0, &g), GPURENT_OK);
    assert_int_equal(g.ecc_enabled, 0);
    assert_int_equal(g.interface, GPURENT_IFACE_ANY);
}

/* Each machine without usable devices gets its own status and an empty,
 * valid report. */
static void test_empty_machines(void **state)
{
    (void)state;
    static const struct { const char *machine; int status; uint32_t error; const char *reason; } cases[] = {
        {"nodevice", GPURENT_E_NO_DEVICE, 100, "CUDA_ERROR_NO_DEVICE"},
        {"initfail", GPURENT_E_DRIVER_FAILED, 999, "cuInit failed"},
        {"olddriver", GPURENT_E_DRIVER_TOO_OLD, 803, "SYSTEM_DRIVER_MISMATCH"},
        {"stub", GPURENT_E_STUB_DRIVER, 34, "STUB_LIBRARY"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        probe_machine(fake_path, cases[i].machine, GPURENT_CHECK_ALL);
        assert_int_equal(report->status, cases[i].status);
        assert_int_equal(report->driver_error, cases[i].error);
        assert_int_equal(report->device_count, 0);
        assert_non_null(strstr(report->reason, cases[i].reason));
        assert_true(report->driver_path[0] != '\0');
    }
}

static void test_no_driver(void **state)
{
    (void)state;
    probe_machine("/nonexistent/libcuda.so.1", "h100", 0);
    assert_int_equal(report->status, GPURENT_E_NO_DRIVER);
    assert_int_equal(report->device_count, 0);
    assert_string_equal(report->driver_path, "");
    assert_non_null(strstr(report->reason, "/nonexistent/libcuda.so.1"));
    assert_int_equal(report->driver_version.state, GPURENT_PV_UNSUPPORTED);
}

static void test_toolkit_stub(void **state)
{
    (void)state;
#ifdef GR_CUDA_STUB
    probe_machine(GR_CUDA_STUB, "h100", 0);
    assert_int_equal(report->status, GPURENT_E_STUB_DRIVER);
    assert_int_equal(report->driver_error, 34);
    assert_int_equal(report->device_count, 0);
#else
    printf("SKIPPED: the CUDA toolkit's stub libcuda is not installed\n");
    skip();
#endif
}

static void test_old_drivers(void **state)
{
    (void)state;
    /* CUDA 10.2-like: no cuDeviceGetUuid_v2 (the old name answers), none of
     * the entry points the checks need. */
    probe_machine(old_path, "h100", GPURENT_CHECK_ALL);
    assert_int_equal(report->status, GPURENT_OK);
    assert_int_equal(report->driver_version.value, 10020);
    assert_int_equal(report->devices[0].uuid.state, GPURENT_PV_OK);
    assert_int_equal(report->devices[0].memory_bytes.value, 85520809984ull);
    assert_int_equal(report->devices[0].d2d.state, GPURENT_PV_UNSUPPORTED);
    assert_int_equal(report->devices[0].fma.state, GPURENT_PV_UNSUPPORTED);
    /* Without cuDeviceTotalMem_v2 the probe refuses: the legacy symbol is
     * the 32-bit API and is never used. */
    probe_machine(ancient_path, "h100", 0);
    assert_int_equal(report->status, GPURENT_E_DRIVER_TOO_OLD);
    assert_non_null(strstr(report->reason, "cuDeviceTotalMem_v2"));
    assert_int_equal(report->device_count, 0);
}

static void test_midfail(void **state)
{
    (void)state;
    probe_machine(fake_path, "midfail", GPURENT_CHECK_D2D);
    assert_int_equal(report->status, GPURENT_E_DEVICE_FAILED);
    assert_int_equal(report->driver_error, 999);
    assert_non_null(strstr(report->reason, "device 1"));
    assert_int_equal(report->device_count, 2);
    const gpurent_probe_device *ok = &report->devices[0], *bad = &report->devices[1];
    assert_int_equal(ok->mem_clock_khz.state, GPURENT_PV_OK);
    assert_int_equal(ok->d2d.state, GPURENT_PV_OK);
    assert_int_equal(bad->ordinal, 1);
    assert_int_equal(bad->name.state, GPURENT_PV_OK);
    assert_int_equal(bad->sm_count.state, GPURENT_PV_OK);
    assert_int_equal(bad->mem_clock_khz.state, GPURENT_PV_ERROR);
    assert_int_equal(bad->mem_clock_khz.error, 999);
    assert_int_equal(bad->mem_clock_khz.value, 0);
    assert_int_equal(bad->memory_bytes.state, GPURENT_PV_ERROR);
    assert_int_equal(bad->mem_bw_mbps.state, GPURENT_PV_UNSUPPORTED);
    assert_int_equal(bad->fp32_gflops.state, GPURENT_PV_OK);
    gpurent_gpu g;
    assert_int_equal(gpurent_gpu_report_to_gpu(report, 1, &g), GPURENT_OK);
    assert_int_equal(g.memory_mib, 0);
}

static void wait_for_hung_workers(void)
{
    for (int i = 0; i < 1000 && gr_probe_pending(); i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(gr_probe_pending(), 0);
    struct timespec ts = {0, 50000000}; /* let the detached thread finish exiting */
    nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_hang(void **state)
{
    (void)state;
    setenv("FAKECUDA_MACHINE", "hang", 1);
    setenv("FAKECUDA_HANG_MS", "1500", 1);
    gpurent_probe_options o = fake_opts(fake_path, 0);
    o.timeout_ms = 200;
    uint64_t t0 = now_ms();
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_OK);
    assert_true(now_ms() - t0 < 1400);
    assert_int_equal(report->status, GPURENT_E_DRIVER_TIMEOUT);
    assert_int_equal(report->device_count, 0);
    assert_int_equal(gpurent_gpu_report_validate(report), GPURENT_OK);
    assert_int_equal(gr_probe_pending(), 1);
    /* While the driver is stuck, later probes answer at once. */
    setenv("FAKECUDA_MACHINE", "h100", 1);
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_OK);
    assert_int_equal(report->status, GPURENT_E_DRIVER_TIMEOUT);
    assert_non_null(strstr(report->reason, "earlier"));
    wait_for_hung_workers();
    /* Once it returns, the driver works again. */
    o.timeout_ms = 0;
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_OK);
    assert_int_equal(report->status, GPURENT_OK);
    unsetenv("FAKECUDA_HANG_MS");
}

static void *cancel_later(void *arg)
{
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
    gpurent_cancel_request(arg);
    return NULL;
}

static void test_cancel(void **state)
{
    (void)state;
    gpurent_cancel *c;
    assert_int_equal(gpurent_cancel_new(&c), GPURENT_OK);
    gpurent_probe_options o = fake_opts(fake_path, 0);
    gpurent_cancel_request(c);
    assert_int_equal(gpurent_probe_run(&o, nonce_a, c, report), GPURENT_E_CANCELLED);
    gpurent_cancel_reset(c);
    setenv("FAKECUDA_MACHINE", "hang", 1);
    setenv("FAKECUDA_HANG_MS", "800", 1);
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, c);
    uint64_t t0 = now_ms();
    assert_int_equal(gpurent_probe_run(&o, nonce_a, c, report), GPURENT_E_CANCELLED);
    assert_true(now_ms() - t0 < 700);
    assert_int_equal(report->device_count, 0);
    pthread_join(t, NULL);
    gpurent_cancel_free(c); /* the worker never touches the token */
    wait_for_hung_workers();
    unsetenv("FAKECUDA_HANG_MS");
}

static void test_bad_arguments(void **state)
{
    (void)state;
    gpurent_probe_options o = fake_opts(fake_path, 0);
    assert_int_equal(gpurent_probe_run(&o, NULL, NULL, report), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, NULL), GPURENT_E_INVALID_ARG);
    o.version = 99;
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_E_VERSION);
    o = fake_opts(fake_path, 8);
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_E_INVALID_ARG);
    assert_non_null(strstr(gpurent_last_error_message(), "checks"));
    o = fake_opts(fake_path, 0);
    o.check_max_bytes = 1000;
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_E_INVALID_ARG);
    o = fake_opts(fake_path, 0);
    o.timeout_ms = 600001;
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_E_INVALID_ARG);
    assert_int_equal(report->device_count, 0);
    gpurent_probe_options d;
    assert_int_equal(gpurent_probe_options_init(&d, GPURENT_PROBE_OPTIONS_VERSION + 1), GPURENT_E_VERSION);
    assert_int_equal(gpurent_probe_options_init(&d, GPURENT_PROBE_OPTIONS_VERSION), GPURENT_OK);
    assert_int_equal(d.checks, 0);
    assert_null(d.driver_path);
}

/* CUDA does not survive fork: a child of a process that initialised the
 * driver gets a clear refusal, not a hang or a crash. */
static void test_fork(void **state)
{
    (void)state;
    probe_machine(fake_path, "h100", 0);
    assert_int_equal(report->status, GPURENT_OK);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        gpurent_probe_options o = fake_opts(fake_path, 0);
        int ok = gpurent_probe_run(&o, nonce_a, NULL, report) == GPURENT_OK &&
                 report->status == GPURENT_E_DRIVER_FAILED && strstr(report->reason, "fork") != NULL;
        _exit(ok ? 0 : 1);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---------------- active checks ---------------- */

static void test_checks_plausible(void **state)
{
    (void)state;
    probe_machine(fake_path, "h100", GPURENT_CHECK_ALL);
    const gpurent_probe_device *d = &report->devices[0];
    const gpurent_probe_check *k[3] = {&d->d2d, &d->h2d, &d->fma};
    /* The fake H100 runs at 88%, 85% and 93% of its peaks. */
    static const uint32_t expect_ppm[3] = {880000, 850000, 930000};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(k[i]->state, GPURENT_PV_OK);
        assert_int_equal(k[i]->verdict, GPURENT_VERDICT_PLAUSIBLE);
        assert_true(k[i]->ratio_ppm > expect_ppm[i] - 10000 && k[i]->ratio_ppm < expect_ppm[i] + 10000);
    }
    assert_true(within_pct(d->fma.value, 62200, 2));
    gpurent_gpu g;
    assert_int_equal(gpurent_gpu_report_to_gpu(report, 0, &g), GPURENT_OK);
    assert_int_equal(g.measured_fp32_gflops, d->fma.value);
    assert_int_equal(g.measured_mem_bw_mbps, d->d2d.value);
    /* The A100 node: every device measured. */
    probe_machine(fake_path, "a100x8", GPURENT_CHECK_FMA);
    for (uint32_t i = 0; i < 8; i++) assert_int_equal(report->devices[i].fma.verdict, GPURENT_VERDICT_PLAUSIBLE);
}

static void test_checks_wrong_output(void **state)
{
    (void)state;
    probe_machine(fake_path, "wrongoutput", GPURENT_CHECK_FMA);
    const gpurent_probe_device *d = &report->devices[0];
    assert_int_equal(d->fma.state, GPURENT_PV_OK);
    assert_int_equal(d->fma.verdict, GPURENT_VERDICT_WRONG_OUTPUT);
    assert_int_equal(d->d2d.state, GPURENT_PV_SKIPPED);
    gpurent_gpu g;
    assert_int_equal(gpurent_gpu_report_to_gpu(report, 0, &g), GPURENT_OK);
    assert_int_equal(g.measured_fp32_gflops, 0);
}

static void test_checks_slow_and_fast(void **state)
{
    (void)state;
    probe_machine(fake_path, "slow", GPURENT_CHECK_ALL);
    const gpurent_probe_device *d = &report->devices[0];
    assert_int_equal(d->d2d.verdict, GPURENT_VERDICT_LOW);
    assert_int_equal(d->h2d.verdict, GPURENT_VERDICT_LOW);
    assert_int_equal(d->fma.verdict, GPURENT_VERDICT_LOW);
    assert_true(d->fma.ratio_ppm < 300000);
    setenv("FAKECUDA_SPEED_PCT", "200", 1);
    probe_machine(fake_path, "h100", GPURENT_CHECK_ALL);
    unsetenv("FAKECUDA_SPEED_PCT");
    assert_int_equal(report->devices[0].d2d.verdict, GPURENT_VERDICT_IMPLAUSIBLE);
    assert_int_equal(report->devices[0].fma.verdict, GPURENT_VERDICT_IMPLAUSIBLE);
}

/* The report is bound to its nonce: another nonce, other bytes. */
static void test_nonce_binding(void **state)
{
    (void)state;
    gpurent_buf a = {NULL, 0}, b = {NULL, 0};
    probe_machine(fake_path, "h100", 0);
    assert_int_equal(gpurent_gpu_report_encode(report, &a), GPURENT_OK);
    uint8_t other[32];
    memcpy(other, nonce_a, 32);
    other[0] ^= 0x80;
    gpurent_probe_options o = fake_opts(fake_path, 0);
    assert_int_equal(gpurent_probe_run(&o, other, NULL, report), GPURENT_OK);
    assert_memory_equal(report->nonce, other, 32);
    assert_int_equal(gpurent_gpu_report_encode(report, &b), GPURENT_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_not_equal(a.data, b.data, a.len);
    gpurent_buf_free(&a);
    gpurent_buf_free(&b);
}

/* ---------------- the codec ---------------- */

static void encode_a100(gpurent_buf *b)
{
    probe_machine(fake_path, "a100x8", GPURENT_CHECK_D2D);
    assert_int_equal(gpurent_gpu_report_encode(report, b), GPURENT_OK);
}

static void test_decode_prefixes_and_flips(void **state)
{
    (void)state;
    gpurent_buf b = {NULL, 0}, again = {NULL, 0};
    encode_a100(&b);
    gpurent_gpu_report *g = calloc(1, sizeof *g);
    assert_non_null(g);
    size_t step = under_valgrind ? 97 : 1;
    for (size_t n = 0; n < b.len; n += step) assert_int_not_equal(gpurent_gpu_report_decode(b.data, n, g), GPURENT_OK);
    /* Any one-byte change is refused or decodes to a record whose canonical
     * encoding is exactly the changed bytes. */
    for (size_t i = 0; i < b.len; i += step * 3) {
        uint8_t saved = b.data[i];
        b.data[i] ^= (uint8_t)(1u << (i % 8));
        if (gpurent_gpu_report_decode(b.data, b.len, g) == GPURENT_OK) {
            assert_int_equal(gpurent_gpu_report_encode(g, &again), GPURENT_OK);
            assert_int_equal(again.len, b.len);
            assert_memory_equal(again.data, b.data, b.len);
            gpurent_buf_free(&again);
        }
        b.data[i] = saved;
    }
    /* Trailing bytes. */
    uint8_t *longer = malloc(b.len + 1);
    assert_non_null(longer);
    memcpy(longer, b.data, b.len);
    longer[b.len] = 0;
    assert_int_equal(gpurent_gpu_report_decode(longer, b.len + 1, g), GPURENT_E_NONCANONICAL);
    free(longer);
    free(g);
    gpurent_buf_free(&b);
}

static void test_decode_hostile(void **state)
{
    (void)state;
    gpurent_gpu_report *g = calloc(1, sizeof *g);
    assert_non_null(g);
    /* A GPU record is not a GPU report. */
    gpurent_gpu gpu;
    memset(&gpu, 0, sizeof gpu);
    strcpy(gpu.model, "x");
    gpu.cc_major = 9;
    gpurent_buf b = {NULL, 0};
    assert_int_equal(gpurent_gpu_encode(&gpu, &b), GPURENT_OK);
    assert_int_equal(gpurent_gpu_report_decode(b.data, b.len, g), GPURENT_E_WRONG_RECORD);
    gpurent_buf_free(&b);
    /* A device array claiming 65535 entries in a few bytes. */
    probe_machine(fake_path, "nodevice", 0);
    assert_int_equal(gpurent_gpu_report_encode(report, &b), GPURENT_OK);
    assert_int_equal(b.data[b.len - 1], 0x90); /* empty devices array, last */
    uint8_t *evil = malloc(b.len + 2);
    assert_non_null(evil);
    memcpy(evil, b.data, b.len - 1);
    evil[b.len - 1] = 0xdc;
    evil[b.len] = 0xff;
    evil[b.len + 1] = 0xff;
    assert_int_equal(gpurent_gpu_report_decode(evil, b.len + 2, g), GPURENT_E_TRUNCATED);
    free(evil);
    gpurent_buf_free(&b);
    assert_int_equal(gpurent_gpu_report_decode(NULL, 0, g), GPURENT_E_TRUNCATED);
    assert_int_equal(gpurent_gpu_report_decode(NULL, 5, g), GPURENT_E_INVALID_ARG);
    free(g);
}

/* Each rule of the validator, by breaking one field of a good report. */
static void test_validate_rules(void **state)
{
    (void)state;
    gpurent_gpu_report *g = calloc(1, sizeof *g);
    assert_non_null(g);
    probe_machine(fake_path, "a100x8", GPURENT_CHECK_FMA);
#define BREAK(stmt, word)                                                          \
    do {                                                                           \
        *g = *report;                                                              \
        stmt;                                                                      \
        assert_int_equal(gpurent_gpu_report_validate(g), GPURENT_E_INVALID_FIELD); \
        assert_non_null(strstr(gpurent_last_error_message(), word));               \
        gpurent_buf eb = {NULL, 0};                                                \
        assert_int_equal(gpurent_gpu_report_encode(g, &eb), GPURENT_E_INVALID_FIELD); \
        assert_null(eb.data);                                                      \
    } while (0)
    BREAK(g->status = -42, "status");
    BREAK(g->status = GPURENT_E_NO_DEVICE; strcpy(g->reason, "x"), "devices");
    BREAK(g->reason[0] = '\0'; g->status = GPURENT_E_DEVICE_FAILED, "reason");
    BREAK(g->status = GPURENT_E_DEVICE_FAILED; strcpy(g->reason, "x"), "status");
    BREAK(g->driver_error = 5, "driver_error");
    BREAK(g->driver_path[0] = '\0', "driver_path");
    BREAK(g->ld_preload_set = 2, "ld_preload_set");
    BREAK(g->checks = 9, "checks");
    BREAK(g->device_count = 7, "devices");
    BREAK(g->driver_device_count = 9, "devices");
    BREAK(g->devices[3].ordinal = 8, "ordinal");
    BREAK(g->devices[3].ordinal = g->devices[2].ordinal, "ordinal");
    BREAK(gpurent_probe_device t = g->devices[1]; g->devices[1] = g->devices[2]; g->devices[2] = t, "order");
    BREAK(g->devices[0].pci_bus.value = 256, "pci_bus");
    BREAK(g->devices[0].pci_bus.state = 4, "pci_bus");
    BREAK(g->devices[0].sm_count.state = GPURENT_PV_UNSUPPORTED, "sm_count");
    BREAK(g->devices[0].sm_count.state = GPURENT_PV_ERROR; g->devices[0].sm_count.value = 0, "sm_count");
    BREAK(g->devices[0].sm_count.error = 3, "sm_count");
    BREAK(g->devices[0].name.value[0] = '\0', "name");
    BREAK(g->devices[0].name.value[0] = (char)0xff, "name");
    BREAK(g->devices[0].uuid.state = GPURENT_PV_UNSUPPORTED, "uuid");
    BREAK(g->devices[0].fma.verdict = 7, "verdict");
    BREAK(g->devices[0].fma.ratio_ppm = 0, "ratio");
    BREAK(g->devices[0].fma.state = GPURENT_PV_SKIPPED, "skipped");
    BREAK(g->devices[0].d2d.state = GPURENT_PV_UNSUPPORTED, "not requested");
    BREAK(g->devices[0].fma.value = (1ull << 40) + 1, "fma");
    BREAK(g->devices[0].ecc_enabled.value = 2, "ecc_enabled");
    /* One device listed twice: the same UUID, or the same PCI address. */
    BREAK(g->devices[5].uuid = g->devices[2].uuid, "repeats an earlier device's UUID");
    BREAK(g->devices[3].pci_domain = g->devices[2].pci_domain; g->devices[3].pci_bus = g->devices[2].pci_bus;
          g->devices[3].pci_device = g->devices[2].pci_device, "repeats an earlier device's PCI address");
    BREAK(for (int i = 1; i < 8; i++) {
              uint32_t ord = g->devices[i].ordinal;
              g->devices[i] = g->devices[0];
              g->devices[i].ordinal = ord;
          }, "repeats an earlier device");
#undef BREAK
    *g = *report;
    assert_int_equal(gpurent_gpu_report_validate(g), GPURENT_OK);
    assert_int_equal(gpurent_gpu_report_validate(NULL), GPURENT_E_INVALID_ARG);
    free(g);
}

static void test_to_gpu_rules(void **state)
{
    (void)state;
    probe_machine(fake_path, "h100", 0);
    gpurent_gpu g;
    report->devices[0].cc_major.state = GPURENT_PV_ERROR;
    report->devices[0].cc_major.error = 999;
    report->devices[0].cc_major.value = 0;
    assert_int_equal(gpurent_gpu_report_to_gpu(report, 0, &g), GPURENT_E_INVALID_FIELD);
    probe_machine(fake_path, "h100", 0);
    /* A long name is cut on a character boundary. */
    memset(report->devices[0].name.value, 0, sizeof report->devices[0].name.value);
    for (int i = 0; i < 31; i++) strcat(report->devices[0].name.value, "\xc3\xa9"); /* 62 bytes */
    strcat(report->devices[0].name.value, "x\xc3\xa9");                              /* 65 */
    assert_int_equal(gpurent_gpu_report_validate(report), GPURENT_OK);
    assert_int_equal(gpurent_gpu_report_to_gpu(report, 0, &g), GPURENT_OK);
    assert_int_equal(strlen(g.model), 63);
    assert_int_equal(gpurent_gpu_report_to_gpu(NULL, 0, &g), GPURENT_E_INVALID_ARG);
}

/* ---------------- PCI ids from sysfs ---------------- */

static void test_pci_ids(void **state)
{
    (void)state;
    probe_machine(fake_path, "h100", 0);
    const gpurent_probe_device *d = &report->devices[0];
    assert_int_equal(d->pci_vendor_id, 0x10de);
    assert_int_equal(d->pci_device_id, 0x2330);
    assert_int_equal(d->pci_subsystem_vendor_id, 0x10de);
    assert_int_equal(d->pci_subsystem_device_id, 0x16c1);
    gpurent_gpu g;
    assert_int_equal(gpurent_gpu_report_to_gpu(report, 0, &g), GPURENT_OK);
    assert_int_equal(g.pci_vendor_id, 0x10de);
    assert_int_equal(g.pci_device_id, 0x2330);
    assert_int_equal(g.pci_subsystem_vendor_id, 0x10de);
    assert_int_equal(g.pci_subsystem_device_id, 0x16c1);
    /* Each of eight devices is read at its own address (after the sort). */
    probe_machine(fake_path, "a100x8", 0);
    for (uint32_t i = 0; i < 8; i++) {
        d = &report->devices[i];
        assert_int_equal(d->pci_device_id, 0x20b2);
        assert_int_equal(d->pci_subsystem_device_id, 0x1460 + i);
    }
    /* No entry for the device: ids 0, the report is fine. */
    probe_machine(fake_path, "rtx4090", 0);
    assert_int_equal(report->status, GPURENT_OK);
    assert_int_equal(report->devices[0].pci_vendor_id, 0);
    assert_int_equal(report->devices[0].pci_device_id, 0);
}

/* The root comes from the options, else $GPURENT_SYSFS_ROOT, else /sys; a
 * missing tree or a malformed file is "not known", never a failed probe. */
static void test_pci_ids_root_and_bad_files(void **state)
{
    (void)state;
    setenv("FAKECUDA_MACHINE", "h100", 1);
    gpurent_probe_options o = fake_opts(fake_path, 0);
    o.sysfs_root = NULL;
    setenv(GPURENT_SYSFS_ROOT_ENV, sysfs_root, 1);
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_OK);
    assert_int_equal(report->devices[0].pci_device_id, 0x2330);
    /* a version 1 caller has no sysfs_root member: the environment decides */
    gpurent_probe_options v1 = fake_opts(fake_path, 0);
    v1.version = 1;
    v1.sysfs_root = "/nonexistent-but-not-read"; /* beyond a version 1 struct: ignored */
    assert_int_equal(gpurent_probe_run(&v1, nonce_a, NULL, report), GPURENT_OK);
    assert_int_equal(report->devices[0].pci_device_id, 0x2330);
    unsetenv(GPURENT_SYSFS_ROOT_ENV);
    o.sysfs_root = "/nonexistent/gpurent-sysfs";
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_OK);
    assert_int_equal(report->status, GPURENT_OK);
    assert_int_equal(report->devices[0].pci_vendor_id, 0);
    assert_int_equal(report->devices[0].pci_subsystem_device_id, 0);
    /* options_init of either version */
    gpurent_probe_options i1, i2;
    memset(&i1, 0x55, sizeof i1);
    assert_int_equal(gpurent_probe_options_init(&i1, 1), GPURENT_OK);
    assert_int_equal(i1.version, 1);
    assert_int_equal(gpurent_probe_options_init(&i2, 2), GPURENT_OK);
    assert_null(i2.sysfs_root);
    assert_int_equal(gpurent_probe_options_init(&i2, 3), GPURENT_E_VERSION);
    char longroot[GPURENT_SYSFS_ROOT_MAX + 2];
    memset(longroot, 'a', sizeof longroot - 1);
    longroot[sizeof longroot - 1] = 0;
    o.sysfs_root = longroot;
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_E_INVALID_ARG);

    /* Malformed files: each leaves every id 0. */
    char dir[1024];
    fakesysfs_dir(sysfs_root, 0x1b, dir, sizeof dir);
    static const char *bad[] = {"garbage\n", "0x\n", "0x123456\n", "10de\n", "0xffff\n", "0x0000\n", "0x1g2h\n", ""};
    o.sysfs_root = sysfs_root;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(fakesysfs_write(dir, "vendor", bad[i]), 0);
        assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_OK);
        assert_int_equal(report->status, GPURENT_OK);
        assert_int_equal(report->devices[0].pci_vendor_id, 0);
        assert_int_equal(report->devices[0].pci_device_id, 0);
        assert_int_equal(gpurent_gpu_report_validate(report), GPURENT_OK);
    }
    /* upper-case hex and no newline are read */
    assert_int_equal(fakesysfs_write(dir, "vendor", "0x10DE"), 0);
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_OK);
    assert_int_equal(report->devices[0].pci_vendor_id, 0x10de);
    /* a missing file */
    char path[1200];
    snprintf(path, sizeof path, "%s/subsystem_device", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_OK);
    assert_int_equal(report->devices[0].pci_vendor_id, 0);
    assert_int_equal(fakesysfs_write(dir, "subsystem_device", "0x16c1\n"), 0);
    assert_int_equal(fakesysfs_write(dir, "vendor", "0x10de\n"), 0);
    /* the isolated probe reads them too (in its child; a driver this
     * process never initialised, since CUDA does not survive fork) */
    o.driver_path = iso_path;
    assert_int_equal(gpurent_probe_run_isolated(&o, nonce_a, NULL, report), GPURENT_OK);
    assert_int_equal(report->status, GPURENT_OK);
    assert_int_equal(report->devices[0].pci_subsystem_device_id, 0x16c1);
}

/* The report codec: ids round-trip; a report without them has the bytes of
 * the older format (no keys 25-28); written 0s, unknown keys, ids without a
 * vendor or without a PCI address are refused. */
static void test_pci_ids_codec(void **state)
{
    (void)state;
    probe_machine(fake_path, "rtx4090", 0); /* no ids */
    gpurent_buf old = {NULL, 0}, b = {NULL, 0};
    assert_int_equal(gpurent_gpu_report_encode(report, &old), GPURENT_OK);
    report->devices[0].pci_vendor_id = 0x10de;
    report->devices[0].pci_device_id = 0x2684;
    report->devices[0].pci_subsystem_vendor_id = 0x1043;
    report->devices[0].pci_subsystem_device_id = 0;
    assert_int_equal(gpurent_gpu_report_encode(report, &b), GPURENT_OK);
    assert_int_equal(b.len, old.len + 3 * (1 + 3)); /* keys 25, 26, 27, each with a uint16 value */
    gpurent_gpu_report *back = calloc(1, sizeof *back);
    assert_non_null(back);
    assert_int_equal(gpurent_gpu_report_decode(b.data, b.len, back), GPURENT_OK);
    assert_memory_equal(back, report, sizeof *report);
    /* the old bytes decode (ids 0) and re-encode to themselves */
    assert_int_equal(gpurent_gpu_report_decode(old.data, old.len, back), GPURENT_OK);
    assert_int_equal(back->devices[0].pci_vendor_id, 0);
    gpurent_buf again = {NULL, 0};
    assert_int_equal(gpurent_gpu_report_encode(back, &again), GPURENT_OK);
    assert_int_equal(again.len, old.len);
    assert_memory_equal(again.data, old.data, old.len);
    gpurent_buf_free(&again);
    /* the device map's last entry is key 27 (0x1b), value cd 10 43 */
    assert_int_equal(b.data[b.len - 4], 0x1b);
    b.data[b.len - 4] = 0x1d; /* key 29: not a field */
    assert_int_equal(gpurent_gpu_report_decode(b.data, b.len, back), GPURENT_E_INVALID_FIELD);
    b.data[b.len - 4] = 0x1b;
    /* rules */
    report->devices[0].pci_vendor_id = 0;
    assert_int_equal(gpurent_gpu_report_validate(report), GPURENT_E_INVALID_FIELD);
    report->devices[0].pci_vendor_id = 0xffff;
    assert_int_equal(gpurent_gpu_report_validate(report), GPURENT_E_INVALID_FIELD);
    report->devices[0].pci_vendor_id = 0x10de;
    report->devices[0].pci_device_id = 0x10000;
    assert_int_equal(gpurent_gpu_report_validate(report), GPURENT_E_INVALID_FIELD);
    report->devices[0].pci_device_id = 0x2684;
    report->devices[0].pci_bus.state = GPURENT_PV_UNSUPPORTED;
    report->devices[0].pci_bus.value = 0;
    assert_int_equal(gpurent_gpu_report_validate(report), GPURENT_E_INVALID_FIELD);
    free(back);
    gpurent_buf_free(&b);
    gpurent_buf_free(&old);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(gpurent_status_name(GPURENT_E_NO_DEVICE), "GPURENT_E_NO_DEVICE");
    assert_string_equal(gpurent_status_name(GPURENT_E_DEVICE_FAILED), "GPURENT_E_DEVICE_FAILED");
    assert_string_not_equal(gpurent_strerror(GPURENT_E_NO_DEVICE), gpurent_strerror(GPURENT_E_NO_DRIVER));
}

/* ---------------- the signed report ---------------- */

/* A provider signs its fake-H100 report as a GPU-report statement; a
 * verifier holding the provider's key (provider role) gets back exactly the
 * report; other roles, keys and statement types are refused. */
static void test_signed_report(void **state)
{
    (void)state;
    probe_machine(fake_path, "h100", 0);
    gpurent_buf rec = {NULL, 0}, env = {NULL, 0}, payload = {NULL, 0};
    assert_int_equal(gpurent_gpu_report_encode(report, &rec), GPURENT_OK);
    uint8_t seed[GPURENT_SEED_BYTES], pk[GPURENT_KEY_BYTES];
    memset(seed, 0x5e, sizeof seed);
    gpurent_key *key = NULL;
    assert_int_equal(gpurent_key_from_seed(&key, seed), GPURENT_OK);
    assert_int_equal(gpurent_key_public(key, pk), GPURENT_OK);
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_GPU_REPORT;
    h.issued_at = report->probed_at;
    h.expires_at = report->probed_at + 3600;
    h.subject_len = 32;
    memcpy(h.subject, report->nonce, 32);
    assert_int_equal(gpurent_envelope_sign(key, &h, rec.data, rec.len, &env), GPURENT_OK);

    gpurent_trust *t = NULL;
    assert_int_equal(gpurent_trust_new(&t, NULL), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(t, pk, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.statement = GPURENT_RECORD_GPU_REPORT;
    gpurent_verified *v = NULL;
    const uint64_t now = report->probed_at + 60;
    assert_int_equal(gpurent_envelope_verify(t, env.data, env.len, now, 0, &o, &v), GPURENT_OK);
    gpurent_envelope got;
    assert_int_equal(gpurent_verified_header(v, &got), GPURENT_OK);
    assert_memory_equal(got.issuer, pk, 32);
    assert_memory_equal(got.subject, report->nonce, 32);
    assert_int_equal(gpurent_verified_payload(v, &payload), GPURENT_OK);
    assert_int_equal(payload.len, rec.len);
    assert_memory_equal(payload.data, rec.data, rec.len);
    gpurent_gpu_report *back = calloc(1, sizeof *back);
    assert_non_null(back);
    assert_int_equal(gpurent_gpu_report_decode(payload.data, payload.len, back), GPURENT_OK);
    assert_memory_equal(back, report, sizeof *report);
    assert_string_equal(gpurent_gpu_report_device(back, 0)->name.value, "NVIDIA H100 80GB HBM3");
    gpurent_verified_free(v);
    /* Sent again: a replay. */
    assert_int_equal(gpurent_envelope_verify(t, env.data, env.len, now, 0, &o, NULL), GPURENT_E_REPLAYED);
    o.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    /* Expected as another statement type, or its issuer only an auditor. */
    o.statement = GPURENT_RECORD_AUDIT_REPORT;
    assert_int_equal(gpurent_envelope_verify(t, env.data, env.len, now, 0, &o, NULL), GPURENT_E_WRONG_RECORD);
    o.statement = GPURENT_RECORD_GPU_REPORT;
    assert_int_equal(gpurent_trust_remove(t, pk), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(t, pk, GPURENT_ROLE_AUDITOR, 0, 0), GPURENT_OK);
    assert_int_equal(gpurent_envelope_verify(t, env.data, env.len, now, 0, &o, NULL), GPURENT_E_ROLE_NOT_ALLOWED);
    /* A changed byte anywhere in the envelope is refused. */
    size_t at = env.len / 2;
    env.data[at] ^= 0x01;
    assert_int_equal(gpurent_trust_remove(t, pk), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(t, pk, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
    assert_int_not_equal(gpurent_envelope_verify(t, env.data, env.len, now, 0, &o, NULL), GPURENT_OK);
    free(back);
    gpurent_trust_free(t);
    gpurent_key_free(key);
    gpurent_buf_free(&rec);
    gpurent_buf_free(&env);
    gpurent_buf_free(&payload);
}


/* ---------------- hostile drivers: a driver library that lies, overflows or hangs ---------------- */

/* A name that fills the whole buffer has no NUL: refused, and
 * nothing past the buffer is read or copied. */
static void test_name_without_nul(void **state)
{
    (void)state;
    probe_machine(fake_path, "name_nonul", 0);
    assert_int_equal(report->status, GPURENT_OK);
    assert_int_equal(report->devices[0].name.state, GPURENT_PV_UNSUPPORTED);
    assert_string_equal(report->devices[0].name.value, "");
    assert_int_equal(report->devices[0].sm_count.value, 132);
}

/* A device count above the record's limit is capped, and the
 * reason says what the driver claimed; the report encodes. */
static void test_huge_device_count(void **state)
{
    (void)state;
    probe_machine(fake_path, "huge_count", 0);
    assert_int_equal(report->status, GPURENT_OK);
    assert_int_equal(report->driver_device_count, GPURENT_GPU_REPORT_MAX_DRIVER_DEVICES);
    assert_int_equal(report->device_count, GPURENT_GPU_REPORT_MAX_DEVICES);
    assert_non_null(strstr(report->reason, "2147483647"));
    assert_non_null(strstr(report->reason, "65536"));
}

/* A driver that writes past the buffer it was given is caught by
 * the guard and named; the report says DEVICE_FAILED, never OK. */
static void test_overlong_writes(void **state)
{
    (void)state;
    static const struct { const char *machine, *call, *field; } cases[] = {
        {"uuid_long", "cuDeviceGetUuid wrote past its 16-byte buffer", "uuid"},
        {"name_long", "cuDeviceGetName wrote past its 256-byte buffer", "name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        probe_machine(fake_path, cases[i].machine, 0);
        assert_int_equal(report->status, GPURENT_E_DEVICE_FAILED);
        assert_non_null(strstr(report->reason, cases[i].call));
        const gpurent_probe_device *d = &report->devices[0];
        uint32_t st = strcmp(cases[i].field, "uuid") == 0 ? d->uuid.state : d->name.state;
        assert_int_equal(st, GPURENT_PV_ERROR);
        assert_int_equal(d->sm_count.value, 132); /* the rest of the device is intact */
    }
}

/* A driver that lists one device several times gets no devices
 * in its report, and says why. */
static void test_duplicate_devices(void **state)
{
    (void)state;
    probe_machine(fake_path, "duplicate", 0);
    assert_int_equal(report->status, GPURENT_E_DRIVER_FAILED);
    assert_int_equal(report->device_count, 0);
    assert_int_equal(report->driver_device_count, 0);
    assert_non_null(strstr(report->reason, "listed twice"));
}

typedef struct bg_probe {
    gpurent_probe_options o;
    const char *machine;
    int rounds;
    int rc;           /* first failure: a probe status, or -1000 - line of the failed expectation */
    uint64_t ms;      /* of the last round */
    gpurent_gpu_report *r;
} bg_probe;

static void *bg_run(void *arg)
{
    bg_probe *b = arg;
    for (int i = 0; i < b->rounds && !b->rc; i++) {
        uint64_t t0 = now_ms();
        b->rc = gpurent_probe_run(&b->o, nonce_a, NULL, b->r);
        b->ms = now_ms() - t0;
        if (b->rc || !b->o.checks) continue;
        const gpurent_probe_device *d = &b->r->devices[0];
        if (b->r->status != GPURENT_OK || d->d2d.verdict != GPURENT_VERDICT_PLAUSIBLE ||
            d->h2d.verdict != GPURENT_VERDICT_PLAUSIBLE || d->fma.verdict != GPURENT_VERDICT_PLAUSIBLE)
            b->rc = -1000 - __LINE__;
    }
    return NULL;
}

/* Probes with active checks from several threads at once. */
static void test_concurrent_checks(void **state)
{
    (void)state;
    setenv("FAKECUDA_MACHINE", "h100", 1);
    enum { THREADS = 4 };
    bg_probe b[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&b[i], 0, sizeof b[i]);
        b[i].o = fake_opts(fake_path, GPURENT_CHECK_ALL);
        b[i].rounds = under_valgrind ? 1 : 3;
        b[i].r = calloc(1, sizeof *b[i].r);
        assert_non_null(b[i].r);
        assert_int_equal(pthread_create(&t[i], NULL, bg_run, &b[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(b[i].rc, 0);
        assert_int_equal(gpurent_gpu_report_validate(b[i].r), GPURENT_OK);
        free(b[i].r);
    }
    assert_int_equal(fake_outstanding(fake_path), 0);
}

/* Loading the driver (dlopen runs its constructors) is inside the
 * time limit; while one driver's constructor hangs, a loaded driver is
 * probed at once, and a child forked meanwhile can probe. */
static void test_load_in_time_limit(void **state)
{
    (void)state;
    probe_machine(fake_path, "h100", 0); /* loaded before the hang */
    setenv("FAKECUDA_CTOR_HANG_MS", "1500", 1);
    bg_probe b;
    memset(&b, 0, sizeof b);
    b.o = fake_opts(ctorhang_path, 0);
    b.o.timeout_ms = 500;
    b.rounds = 1;
    b.r = calloc(1, sizeof *b.r);
    assert_non_null(b.r);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, bg_run, &b), 0);
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);

    gpurent_probe_options o = fake_opts(fake_path, 0);
    /* The child answers through a pipe, not its exit status: under valgrind
     * the child's leak check (of memory the parent's other threads held)
     * would change that. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The driver was initialised by the parent: a clear refusal, at once. */
        char ok = gpurent_probe_run(&o, nonce_a, NULL, report) == GPURENT_OK &&
                  report->status == GPURENT_E_DRIVER_FAILED && strstr(report->reason, "fork") != NULL;
        /* The load in progress on a thread of the parent will never finish here. */
        ok = ok && gpurent_probe_run(&b.o, nonce_a, NULL, report) == GPURENT_OK &&
             report->status == GPURENT_E_DRIVER_FAILED && strstr(report->reason, "forked while") != NULL &&
             gpurent_gpu_report_validate(report) == GPURENT_OK;
        ssize_t w = write(fds[1], &ok, 1);
        _exit(w == 1 ? 0 : 1);
    }
    close(fds[1]);
    /* Meanwhile, a loaded driver is probed at once. */
    uint64_t t0 = now_ms();
    assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_OK);
    assert_true(now_ms() - t0 < 1000);
    assert_int_equal(report->status, GPURENT_OK);
    int st = 0, reaped = 0;
    for (int i = 0; i < 500 && !reaped; i++) {
        reaped = waitpid(pid, &st, WNOHANG) == pid;
        if (!reaped) nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    if (!reaped) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    assert_true(reaped);
    char ok = 0;
    assert_int_equal(read(fds[0], &ok, 1), 1);
    close(fds[0]);
    assert_true(ok);

    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(b.rc, GPURENT_OK);
    assert_true(b.ms < 1000);
    assert_int_equal(b.r->status, GPURENT_E_DRIVER_TIMEOUT);
    assert_non_null(strstr(b.r->reason, "loading the driver"));
    assert_string_equal(b.r->driver_path, ctorhang_path);
    assert_int_equal(gpurent_gpu_report_validate(b.r), GPURENT_OK);
    /* While the load is stuck, probes of that driver answer at once. */
    b.o.timeout_ms = 5000;
    t0 = now_ms();
    assert_int_equal(gpurent_probe_run(&b.o, nonce_a, NULL, b.r), GPURENT_OK);
    assert_true(now_ms() - t0 < 1000);
    assert_int_equal(b.r->status, GPURENT_E_DRIVER_TIMEOUT);
    assert_non_null(strstr(b.r->reason, "earlier"));
    wait_for_hung_workers();
    /* Once loaded, it works. */
    assert_int_equal(gpurent_probe_run(&b.o, nonce_a, NULL, b.r), GPURENT_OK);
    assert_int_equal(b.r->status, GPURENT_OK);
    assert_non_null(strstr(b.r->driver_path, "libfakecuda_ctorhang.so"));
    free(b.r);
    unsetenv("FAKECUDA_CTOR_HANG_MS");
}


/* Cancelled: a probe cancelled while the driver's constructor hangs
 * returns at once (a fresh copy of the hanging driver, so that dlopen runs
 * its constructor again). */
static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

static void test_load_cancelled(void **state)
{
    (void)state;
    char dir[] = "/tmp/gpurent-probe-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/libfakecuda_ctorhang2.so", dir);
    copy_file(ctorhang_path, path);
    setenv("FAKECUDA_MACHINE", "h100", 1);
    setenv("FAKECUDA_CTOR_HANG_MS", "1200", 1);
    gpurent_cancel *c;
    assert_int_equal(gpurent_cancel_new(&c), GPURENT_OK);
    gpurent_probe_options o = fake_opts(path, 0);
    o.timeout_ms = 10000;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_later, c), 0);
    uint64_t t0 = now_ms();
    assert_int_equal(gpurent_probe_run(&o, nonce_a, c, report), GPURENT_E_CANCELLED);
    assert_true(now_ms() - t0 < 900);
    pthread_join(t, NULL);
    gpurent_cancel_free(c);
    wait_for_hung_workers();
    unsetenv("FAKECUDA_CTOR_HANG_MS");
    unlink(path); /* the library stays mapped */
    rmdir(dir);
}

static int zero_digest(const uint8_t d[GPURENT_DIGEST_BYTES])
{
    for (size_t i = 0; i < GPURENT_DIGEST_BYTES; i++)
        if (d[i]) return 0;
    return 1;
}

/* The probe in a child process. The suite never loads the copy of
 * the fake at iso_path itself, so its children probe it afresh. */
static void isolated(const char *machine, uint32_t timeout_ms, int want_status, const char *want_reason)
{
    setenv("FAKECUDA_MACHINE", machine, 1);
    gpurent_probe_options o = fake_opts(iso_path, 0);
    o.timeout_ms = timeout_ms;
    uint64_t t0 = now_ms();
    assert_int_equal(gpurent_probe_run_isolated(&o, nonce_a, NULL, report), GPURENT_OK);
    assert_true(now_ms() - t0 < (uint64_t)(timeout_ms ? timeout_ms : 10000) + 1000 + 2000);
    assert_int_equal(report->status, want_status);
    if (want_reason && !strstr(report->reason, want_reason)) fail_msg("reason: %s", report->reason);
    assert_int_equal(gpurent_gpu_report_validate(report), GPURENT_OK);
    assert_memory_equal(report->nonce, nonce_a, 32);
    assert_int_equal(report->probed_at, 1700000000);
    /* Every child was reaped. */
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_isolated(void **state)
{
    (void)state;
    isolated("h100", 0, GPURENT_OK, NULL);
    assert_int_equal(report->device_count, 1);
    assert_string_equal(report->devices[0].name.value, "NVIDIA H100 80GB HBM3");
    assert_non_null(strstr(report->driver_path, "libfakecuda_iso.so"));
    assert_false(zero_digest(report->driver_digest));
    isolated("a100x8", 0, GPURENT_OK, NULL);
    assert_int_equal(report->device_count, 8);
    /* Active checks run in the child too. */
    setenv("FAKECUDA_MACHINE", "h100", 1);
    gpurent_probe_options o = fake_opts(iso_path, GPURENT_CHECK_ALL);
    assert_int_equal(gpurent_probe_run_isolated(&o, nonce_a, NULL, report), GPURENT_OK);
    assert_int_equal(report->status, GPURENT_OK);
    assert_int_equal(report->devices[0].fma.verdict, GPURENT_VERDICT_PLAUSIBLE);
    assert_int_equal(report->checks, GPURENT_CHECK_ALL);
    /* The caller never loaded that driver. */
    assert_null(dlopen(iso_path, RTLD_NOW | RTLD_NOLOAD));
    isolated("nodevice", 0, GPURENT_E_NO_DEVICE, NULL);
    /* Bad arguments fail in the caller, before any child. */
    assert_int_equal(gpurent_probe_run_isolated(&o, NULL, NULL, report), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_probe_run_isolated(&o, nonce_a, NULL, NULL), GPURENT_E_INVALID_ARG);
    o.version = 9;
    assert_int_equal(gpurent_probe_run_isolated(&o, nonce_a, NULL, report), GPURENT_E_VERSION);
}

static void test_isolated_crashes(void **state)
{
    (void)state;
    isolated("crash_init", 0, GPURENT_E_DRIVER_FAILED, "signal 11 (SIGSEGV)");
    assert_string_equal(report->driver_path, iso_path);
    assert_int_equal(report->device_count, 0);
    isolated("crash_name", 0, GPURENT_E_DRIVER_FAILED, "signal 11 (SIGSEGV)");
    isolated("kill_init", 0, GPURENT_E_DRIVER_FAILED, "signal 9 (SIGKILL)");
    /* (Under valgrind the child's own leak check sets its exit status.) */
    isolated("exit_init", 0, GPURENT_E_DRIVER_FAILED,
             under_valgrind ? "before it answered" : "exited with status 7 before it answered");
    /* A driver that answers in the probe's place with a failure status
     * (CANCELLED, never asked for) does not make the call fail: the child's
     * status other than NOMEM is a fact in the report. */
    isolated("forge_init", 0, GPURENT_E_DRIVER_FAILED, "GPURENT_E_CANCELLED");
    /* A child that never answers (stopped) is killed at the deadline. */
    uint64_t t0 = now_ms();
    isolated("stop_init", 300, GPURENT_E_DRIVER_TIMEOUT, "did not answer within 1300 ms");
    assert_true(now_ms() - t0 >= 1300);
    /* The hostile drivers of items 1-3 cost the child nothing either. */
    isolated("uuid_long", 0, GPURENT_E_DEVICE_FAILED, "cuDeviceGetUuid");
    isolated("huge_count", 0, GPURENT_OK, "2147483647");
}

static void test_isolated_cancel(void **state)
{
    (void)state;
    gpurent_cancel *c;
    assert_int_equal(gpurent_cancel_new(&c), GPURENT_OK);
    setenv("FAKECUDA_MACHINE", "stop_init", 1);
    gpurent_probe_options o = fake_opts(iso_path, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_later, c), 0);
    uint64_t t0 = now_ms();
    assert_int_equal(gpurent_probe_run_isolated(&o, nonce_a, c, report), GPURENT_E_CANCELLED);
    assert_true(now_ms() - t0 < 2000);
    assert_int_equal(report->device_count, 0);
    pthread_join(t, NULL);
    assert_int_equal(gpurent_probe_run_isolated(&o, nonce_a, c, report), GPURENT_E_CANCELLED);
    gpurent_cancel_free(c);
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}


/* Driver names: names that never load do not use up the table of drivers
 * (20 of them, more than its 16 slots), and a driver file whose name is not
 * UTF-8 gives a valid report (its path shown with '?'). */
static void test_driver_names(void **state)
{
    (void)state;
    gpurent_probe_options o = fake_opts(fake_path, 0);
    for (int i = 0; i < 20; i++) {
        char p[64];
        snprintf(p, sizeof p, "/nonexistent/gpurent-%d/libcuda.so.1", i);
        o.driver_path = p;
        assert_int_equal(gpurent_probe_run(&o, nonce_a, NULL, report), GPURENT_OK);
        assert_int_equal(report->status, GPURENT_E_NO_DRIVER);
        if (!strstr(report->reason, "cannot load")) fail_msg("reason: %s", report->reason);
    }
    char dir[] = "/tmp/gpurent-probe-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/libcuda-\xff.so", dir);
    copy_file(fake_path, path);
    probe_machine(path, "h100", 0);
    assert_int_equal(report->status, GPURENT_OK);
    assert_non_null(strstr(report->driver_path, "/libcuda-?.so"));
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cuda_h),
        cmocka_unit_test(test_ptxas),
        cmocka_unit_test(test_derived_peaks),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_fma_reference),
        cmocka_unit_test(test_h100),
        cmocka_unit_test(test_provenance),
        cmocka_unit_test(test_env_driver),
        cmocka_unit_test(test_a100x8_pci_order),
        cmocka_unit_test(test_rtx4090_unsupported),
        cmocka_unit_test(test_empty_machines),
        cmocka_unit_test(test_no_driver),
        cmocka_unit_test(test_toolkit_stub),
        cmocka_unit_test(test_old_drivers),
        cmocka_unit_test(test_midfail),
        cmocka_unit_test(test_hang),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_checks_plausible),
        cmocka_unit_test(test_checks_wrong_output),
        cmocka_unit_test(test_checks_slow_and_fast),
        cmocka_unit_test(test_nonce_binding),
        cmocka_unit_test(test_decode_prefixes_and_flips),
        cmocka_unit_test(test_decode_hostile),
        cmocka_unit_test(test_validate_rules),
        cmocka_unit_test(test_to_gpu_rules),
        cmocka_unit_test(test_pci_ids),
        cmocka_unit_test(test_pci_ids_root_and_bad_files),
        cmocka_unit_test(test_pci_ids_codec),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_signed_report),
        cmocka_unit_test(test_name_without_nul),
        cmocka_unit_test(test_huge_device_count),
        cmocka_unit_test(test_overlong_writes),
        cmocka_unit_test(test_duplicate_devices),
        cmocka_unit_test(test_concurrent_checks),
        cmocka_unit_test(test_load_in_time_limit),
        cmocka_unit_test(test_load_cancelled),
        cmocka_unit_test(test_isolated),
        cmocka_unit_test(test_isolated_crashes),
        cmocka_unit_test(test_isolated_cancel),
        cmocka_unit_test(test_driver_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
