/* Internals of the probe module: the loaded driver, the worker job, the
 * kernel and its reference. */
#ifndef GR_PROBE_INTERNAL_H
#define GR_PROBE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/core_internal.h"
#include "cuda_min.h"
#include "gpurent/probe.h"

/* ---- the driver (loader.c) ---- */

/* Resolved entry points. Required ones are non-NULL once loaded; optional
 * ones may be NULL (the field or check they serve is then unsupported). */
typedef struct gr_cu_api {
    gr_fn_cuInit cuInit;
    gr_fn_cuDriverGetVersion cuDriverGetVersion;
    gr_fn_cuDeviceGetCount cuDeviceGetCount;
    gr_fn_cuDeviceGet cuDeviceGet;
    gr_fn_cuDeviceGetName cuDeviceGetName;
    gr_fn_cuDeviceTotalMem_v2 cuDeviceTotalMem_v2;
    gr_fn_cuDeviceGetAttribute cuDeviceGetAttribute;
    /* optional */
    gr_fn_cuDeviceGetUuid cuDeviceGetUuid; /* _v2, else the 11.3 name */
    gr_fn_cuDevicePrimaryCtxRetain cuDevicePrimaryCtxRetain;
    gr_fn_cuDevicePrimaryCtxRelease_v2 cuDevicePrimaryCtxRelease_v2;
    gr_fn_cuCtxSetCurrent cuCtxSetCurrent;
    gr_fn_cuCtxSynchronize cuCtxSynchronize;
    gr_fn_cuMemAlloc_v2 cuMemAlloc_v2;
    gr_fn_cuMemFree_v2 cuMemFree_v2;
    gr_fn_cuMemAllocHost_v2 cuMemAllocHost_v2;
    gr_fn_cuMemFreeHost cuMemFreeHost;
    gr_fn_cuMemcpyHtoD_v2 cuMemcpyHtoD_v2;
    gr_fn_cuMemcpyDtoH_v2 cuMemcpyDtoH_v2;
    gr_fn_cuMemcpyDtoD_v2 cuMemcpyDtoD_v2;
    gr_fn_cuMemsetD32_v2 cuMemsetD32_v2;
    gr_fn_cuModuleLoadData cuModuleLoadData;
    gr_fn_cuModuleUnload cuModuleUnload;
    gr_fn_cuModuleGetFunction cuModuleGetFunction;
    gr_fn_cuLaunchKernel cuLaunchKernel;
    gr_fn_cuEventCreate cuEventCreate;
    gr_fn_cuEventRecord cuEventRecord;
    gr_fn_cuEventSynchronize cuEventSynchronize;
    gr_fn_cuEventElapsedTime cuEventElapsedTime; /* _v2 (12.8), else the old name */
    gr_fn_cuEventDestroy_v2 cuEventDestroy_v2;
} gr_cu_api;

/* Where a driver entry stands (loader.c). */
enum { GR_DRV_NEW, GR_DRV_LOADING, GR_DRV_READY, GR_DRV_FORKED };

typedef struct gr_driver {
    char name[GPURENT_GPU_REPORT_PATH_MAX]; /* as asked for (cache key) */
    int state;                              /* GR_DRV_*, under the lock; the fields below
                                               up to init_pid are set once READY */
    unsigned users;                         /* callers and jobs holding the entry (the lock) */
    void *handle;
    gr_cu_api api;
    const char *missing;                    /* first missing required symbol, or NULL */
    int bench_ok;                           /* every entry point the checks need is there */
    char path[GPURENT_GPU_REPORT_PATH_MAX]; /* the file the code came from */
    uint8_t digest[GPURENT_DIGEST_BYTES];
    pid_t init_pid;                         /* process where cuInit succeeded, 0 = none */
    unsigned hung;                          /* workers abandoned inside the driver */
} gr_driver;

/* The table entry for the driver named `name`, created (not loaded) if new,
 * held for the caller: quick, never calls the loader. Fails with
 * GPURENT_E_NO_DRIVER (reason filled: name too long, table full) or
 * GPURENT_E_NOMEM. An entry whose library never loaded may be replaced
 * once nobody holds it. */
int gr_driver_find(const char *name, gr_driver **out, char *reason, size_t cap);
/* One more holder (a job), and one less (NULL is fine). */
void gr_driver_hold(gr_driver *d);
void gr_driver_release(gr_driver *d);
/* Load the entry's library unless it is loaded (on a probe's worker thread:
 * dlopen may hang); waits while another thread loads it. Returns
 * GPURENT_E_NO_DRIVER (reason filled; a later call tries again) or
 * GPURENT_E_DRIVER_FAILED (a fork interrupted the load). Never unloaded. */
int gr_driver_load(gr_driver *d, char *reason, size_t cap);
/* A file name as a report's driver_path: cut to `cap` - 1 bytes; a name
 * that is not UTF-8 (file names are bytes) has its bytes above 0x7f shown
 * as '?', so the report stays valid. */
void gr_probe_copy_path(char *dst, size_t cap, const char *src);
/* Whether the entry's library is loaded (path, digest, api readable). */
int gr_driver_ready(gr_driver *d);
/* The lock that guards gr_driver's mutable fields (init_pid, hung). */
void gr_driver_lock(void);
void gr_driver_unlock(void);
/* Symbolic name of a CUresult ("CUDA_ERROR_NO_DEVICE") or "CUresult". */
const char *gr_cu_error_name(gr_curesult rc);

/* ---- a probe in progress (probe.c, checks.c) ---- */

typedef struct gr_probe_job {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;          /* caller + worker; the last one frees */
    int done;
    int abandoned;     /* the caller gave up: stop at the next step */
    int loading;       /* the worker is still loading the driver */
    gr_driver *drv;
    gpurent_probe_options opts;
    /* opts.sysfs_root points here: the job may outlive the caller's string */
    char sysfs_root[GPURENT_SYSFS_ROOT_MAX + 1];
    gpurent_gpu_report report;
} gr_probe_job;

/* Fill a device's PCI ids from sysfs under `root` (sysfs.c); ids stay 0
 * when the device has no PCI address or no readable entry. */
void gr_probe_pci_ids(const char *root, gpurent_probe_device *d);

/* The options with defaults filled in (driver_path too); refuses bad ones. */
int gr_probe_resolve_options(const gpurent_probe_options *in, gpurent_probe_options *o);
/* The start both probe calls share: out reset, arguments and options checked,
 * the library initialised, the token not cancelled. */
int gr_probe_begin(const gpurent_probe_options *opts, const uint8_t *nonce, const gpurent_cancel *cancel,
                   gpurent_gpu_report *out, gpurent_probe_options *o);
/* What both probe calls know of a report before any driver call: the
 * challenge, the time, the checks asked for, the environment flags, no
 * driver version. */
void gr_probe_report_start(gpurent_gpu_report *r, const uint8_t *nonce, const gpurent_probe_options *o);

/* Whether the caller gave up on the job (checked between driver calls). */
int gr_job_abandoned(gr_probe_job *job);

/* Run the requested active checks on one device (checks.c). */
void gr_checks_run(gr_probe_job *job, gpurent_probe_device *dev, gr_cudevice cudev);

/* Workers still inside a driver after their caller gave up (for tests). */
unsigned gr_probe_pending(void);

/* ---- derived figures (peaks.c) ---- */

void gr_pv_set(gpurent_pv *pv, uint64_t value);
void gr_pv_unsupported(gpurent_pv *pv, uint32_t error);
uint32_t gr_probe_ratio_ppm(uint64_t measured, uint64_t peak);

/* ---- the FMA kernel (kernel.c) ---- */

#define GR_FMA_CHAINS 8u
#define GR_FMA_FLOPS_PER_ITER (GR_FMA_CHAINS * 2u * 2u) /* 2 FMAs of 2 FLOPs per chain */
#define GR_FMA_BLOCK 256u

typedef struct gr_fma_params {
    uint32_t key;
    uint32_t r_bits; /* float bits of r */
    uint32_t c_bits; /* float bits of c */
} gr_fma_params;

extern const char gr_fma_ptx[];
extern const char gr_fma_entry[];
void gr_fma_params_from_seed(const uint8_t seed[32], gr_fma_params *p);
/* What thread `thread` of the kernel stores. */
uint32_t gr_fma_reference(const gr_fma_params *p, uint32_t iterations, uint32_t thread);

#endif
