/* Loading the CUDA driver at run time and resolving its entry points.
 *
 * dlsym(h, "cuDeviceTotalMem") would return the CUDA 3.x entry point that
 * writes a 32-bit size, so every entry point is resolved by the exact
 * versioned name cuda.h maps it to. A driver is loaded once per process and
 * name and never unloaded: libcuda starts threads in cuInit and does not
 * support dlclose. */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../wire/mp_internal.h"
#include "probe_internal.h"

typedef struct sym_row {
    const char *name;
    const char *fallback; /* an older name with the same signature, or NULL */
    size_t offset;        /* in gr_cu_api */
    int required;         /* 1: the probe cannot run without it; 2: the checks need it */
} sym_row;

#define SYM(member, fallback, required) {#member, fallback, offsetof(gr_cu_api, member), required}
static const sym_row symbols[] = {
    SYM(cuInit, NULL, 1),
    SYM(cuDriverGetVersion, NULL, 1),
    SYM(cuDeviceGetCount, NULL, 1),
    SYM(cuDeviceGet, NULL, 1),
    SYM(cuDeviceGetName, NULL, 1),
    SYM(cuDeviceTotalMem_v2, NULL, 1),
    SYM(cuDeviceGetAttribute, NULL, 1),
    {"cuDeviceGetUuid_v2", "cuDeviceGetUuid", offsetof(gr_cu_api, cuDeviceGetUuid), 0},
    SYM(cuDevicePrimaryCtxRetain, NULL, 2),
    SYM(cuDevicePrimaryCtxRelease_v2, NULL, 2),
    SYM(cuCtxSetCurrent, NULL, 2),
    SYM(cuCtxSynchronize, NULL, 2),
    SYM(cuMemAlloc_v2, NULL, 2),
    SYM(cuMemFree_v2, NULL, 2),
    SYM(cuMemAllocHost_v2, NULL, 2),
    SYM(cuMemFreeHost, NULL, 2),
    SYM(cuMemcpyHtoD_v2, NULL, 2),
    SYM(cuMemcpyDtoH_v2, NULL, 2),
    SYM(cuMemcpyDtoD_v2, NULL, 2),
    SYM(cuMemsetD32_v2, NULL, 2),
    SYM(cuModuleLoadData, NULL, 2),
    SYM(cuModuleUnload, NULL, 2),
    SYM(cuModuleGetFunction, NULL, 2),
    SYM(cuLaunchKernel, NULL, 2),
    SYM(cuEventCreate, NULL, 2),
    SYM(cuEventRecord, NULL, 2),
    SYM(cuEventSynchronize, NULL, 2),
    {"cuEventElapsedTime_v2", "cuEventElapsedTime", offsetof(gr_cu_api, cuEventElapsedTime), 2},
    SYM(cuEventDestroy_v2, NULL, 2),
};
#undef SYM

#define MAX_DRIVERS 16
/* The table of drivers. The lock guards the table and each entry's state,
 * init_pid and hung, and is never held across a call into a driver, the
 * dynamic loader or the file system: dlopen runs the library's
 * constructors, which may never return, and the digest reads a file. */
static pthread_mutex_t drivers_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drivers_cv = PTHREAD_COND_INITIALIZER; /* an entry left GR_DRV_LOADING */
static gr_driver *drivers[MAX_DRIVERS];
static unsigned driver_count;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

void gr_driver_lock(void) { pthread_mutex_lock(&drivers_mu); }
void gr_driver_unlock(void) { pthread_mutex_unlock(&drivers_mu); }

/* fork(): take the lock so the child gets the table in a consistent state
 * (and the lock free); in the child, a load that was in progress on a
 * thread that does not exist there will never finish. */
static void atfork_prepare(void) { pthread_mutex_lock(&drivers_mu); }
static void atfork_parent(void) { pthread_mutex_unlock(&drivers_mu); }
static void atfork_child(void)
{
    for (unsigned i = 0; i < driver_count; i++)
        if (drivers[i]->state == GR_DRV_LOADING) drivers[i]->state = GR_DRV_FORKED;
    pthread_mutex_unlock(&drivers_mu);
    /* Its waiters were threads of the parent. */
    pthread_cond_init(&drivers_cv, NULL);
}
static void register_atfork(void) { pthread_atfork(atfork_prepare, atfork_parent, atfork_child); }

static void resolve(gr_driver *d)
{
    d->bench_ok = 1;
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        const sym_row *s = &symbols[i];
        void *p = dlsym(d->handle, s->name);
        if (!p && s->fallback) p = dlsym(d->handle, s->fallback);
        /* A function pointer stored through its object representation:
         * POSIX guarantees dlsym's void * converts to a function pointer. */
        memcpy((char *)&d->api + s->offset, &p, sizeof p);
        if (!p && s->required == 1 && !d->missing) d->missing = s->name;
        if (!p && s->required == 2) d->bench_ok = 0;
    }
}

/* BLAKE2b-256 of the file, streamed. Leaves the digest zero on failure. */
static void digest_file(const char *path, uint8_t out[GPURENT_DIGEST_BYTES])
{
    memset(out, 0, GPURENT_DIGEST_BYTES);
    FILE *f = fopen(path, "rb");
    uint8_t *buf = gr_malloc(1u << 16);
    crypto_generichash_state st;
    int ok = f && buf && gr_ensure_init() == GPURENT_OK &&
             crypto_generichash_init(&st, NULL, 0, GPURENT_DIGEST_BYTES) == 0;
    size_t n;
    while (ok && (n = fread(buf, 1, 1u << 16, f)) > 0) crypto_generichash_update(&st, buf, n);
    if (ok && !ferror(f)) crypto_generichash_final(&st, out, GPURENT_DIGEST_BYTES);
    if (f) fclose(f);
    gr_free(buf);
}

void gr_probe_copy_path(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1; /* PATH_MAX > our limit: cut */
    memcpy(dst, src, n);
    dst[n] = '\0';
    if (gr_utf8_valid((const uint8_t *)dst, n)) return;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)dst[i] >= 0x80) dst[i] = '?';
}

/* The file that holds the code we will call: dladdr of cuInit, which also
 * tells an interposed cuInit from the library's own. */
static void locate(gr_driver *d)
{
    Dl_info info;
    const char *where = NULL;
    void *fn;
    memcpy(&fn, &d->api.cuInit, sizeof fn);
    if (fn && dladdr(fn, &info) && info.dli_fname && info.dli_fname[0]) where = info.dli_fname;
    if (!where) where = d->name;
    char resolved[PATH_MAX];
    if (realpath(where, resolved)) where = resolved;
    digest_file(where, d->digest);
    gr_probe_copy_path(d->path, sizeof d->path, where);
}

int gr_driver_find(const char *name, gr_driver **out, char *reason, size_t cap)
{
    pthread_once(&atfork_once, register_atfork);
    if (strlen(name) >= GPURENT_GPU_REPORT_PATH_MAX) {
        snprintf(reason, cap, "driver name longer than %u bytes", GPURENT_GPU_REPORT_PATH_MAX - 1);
        return GPURENT_E_NO_DRIVER;
    }
    int rc = GPURENT_OK;
    gr_driver_lock();
    for (unsigned i = 0; i < driver_count; i++)
        if (strcmp(drivers[i]->name, name) == 0) {
            drivers[i]->users++;
            *out = drivers[i];
            gr_driver_unlock();
            return GPURENT_OK;
        }
    /* A full table: the slot of a name that never loaded and that nobody
     * uses now can be taken (loaded drivers are never unloaded). */
    unsigned slot = driver_count;
    for (unsigned i = 0; slot == MAX_DRIVERS && i < driver_count; i++)
        if (drivers[i]->state == GR_DRV_NEW && drivers[i]->users == 0) slot = i;
    gr_driver *d = NULL;
    if (slot == MAX_DRIVERS) {
        snprintf(reason, cap, "more than %d driver libraries asked for in one process", MAX_DRIVERS);
        rc = GPURENT_E_NO_DRIVER;
    } else if (!(d = gr_calloc(1, sizeof *d))) {
        rc = GPURENT_E_NOMEM;
    } else {
        snprintf(d->name, sizeof d->name, "%s", name);
        d->state = GR_DRV_NEW;
        d->users = 1;
        if (slot < driver_count) gr_free(drivers[slot]);
        else driver_count++;
        drivers[slot] = d;
        *out = d;
    }
    gr_driver_unlock();
    return rc;
}

/* dlopen, resolve and digest, with no lock held: the constructors may hang. */
static int load(gr_driver *d, char *reason, size_t cap)
{
    void *h = dlopen(d->name, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(reason, cap, "cannot load %s: %s", d->name, e ? e : "unknown error");
        return GPURENT_E_NO_DRIVER;
    }
    d->handle = h;
    resolve(d);
    locate(d);
    return GPURENT_OK;
}

int gr_driver_load(gr_driver *d, char *reason, size_t cap)
{
    gr_driver_lock();
    for (;;) {
        if (d->state == GR_DRV_READY) break;
        if (d->state == GR_DRV_FORKED) {
            gr_driver_unlock();
            snprintf(reason, cap, "the process forked while another thread was loading %s", d->name);
            return GPURENT_E_DRIVER_FAILED;
        }
        if (d->state == GR_DRV_NEW) {
            /* This thread loads it; the others wait for the outcome. The
             * fields written by load() are read only once state is READY. */
            d->state = GR_DRV_LOADING;
            gr_driver_unlock();
            int rc = load(d, reason, cap);
            gr_driver_lock();
            if (d->state == GR_DRV_LOADING) d->state = rc == GPURENT_OK ? GR_DRV_READY : GR_DRV_NEW;
            pthread_cond_broadcast(&drivers_cv);
            if (rc != GPURENT_OK) {
                gr_driver_unlock();
                return rc; /* NEW again: a later probe tries afresh */
            }
            continue;
        }
        pthread_cond_wait(&drivers_cv, &drivers_mu); /* GR_DRV_LOADING */
    }
    gr_driver_unlock();
    return GPURENT_OK;
}

void gr_driver_hold(gr_driver *d)
{
    gr_driver_lock();
    d->users++;
    gr_driver_unlock();
}

void gr_driver_release(gr_driver *d)
{
    if (!d) return;
    gr_driver_lock();
    d->users--;
    gr_driver_unlock();
}

int gr_driver_ready(gr_driver *d)
{
    gr_driver_lock();
    int ready = d->state == GR_DRV_READY;
    gr_driver_unlock();
    return ready;
}

const char *gr_cu_error_name(gr_curesult rc)
{
    switch (rc) {
    case GR_CUDA_SUCCESS: return "CUDA_SUCCESS";
    case GR_CUDA_ERROR_INVALID_VALUE: return "CUDA_ERROR_INVALID_VALUE";
    case GR_CUDA_ERROR_OUT_OF_MEMORY: return "CUDA_ERROR_OUT_OF_MEMORY";
    case GR_CUDA_ERROR_NOT_INITIALIZED: return "CUDA_ERROR_NOT_INITIALIZED";
    case GR_CUDA_ERROR_DEINITIALIZED: return "CUDA_ERROR_DEINITIALIZED";
    case GR_CUDA_ERROR_STUB_LIBRARY: return "CUDA_ERROR_STUB_LIBRARY";
    case GR_CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER: return "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER";
    case GR_CUDA_ERROR_DEVICE_UNAVAILABLE: return "CUDA_ERROR_DEVICE_UNAVAILABLE";
    case GR_CUDA_ERROR_NO_DEVICE: return "CUDA_ERROR_NO_DEVICE";
    case GR_CUDA_ERROR_INVALID_DEVICE: return "CUDA_ERROR_INVALID_DEVICE";
    case GR_CUDA_ERROR_INVALID_PTX: return "CUDA_ERROR_INVALID_PTX";
    case GR_CUDA_ERROR_JIT_COMPILER_NOT_FOUND: return "CUDA_ERROR_JIT_COMPILER_NOT_FOUND";
    case GR_CUDA_ERROR_UNSUPPORTED_PTX_VERSION: return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
    case GR_CUDA_ERROR_JIT_COMPILATION_DISABLED: return "CUDA_ERROR_JIT_COMPILATION_DISABLED";
    case GR_CUDA_ERROR_SHARED_OBJECT_INIT_FAILED: return "CUDA_ERROR_SHARED_OBJECT_INIT_FAILED";
    case GR_CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH";
    case GR_CUDA_ERROR_UNKNOWN: return "CUDA_ERROR_UNKNOWN";
    default: return "CUresult";
    }
}
