/* gpurent_probe_run: load the driver, then talk to it from a worker thread
 * under a time limit, and build the report. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../wire/mp_internal.h"
#include "probe_internal.h"

#define DEFAULT_TIMEOUT_MS 10000u
#define MAX_TIMEOUT_MS 600000u
#define DEFAULT_CHECK_MS 50u
#define MAX_CHECK_MS 5000u
#define DEFAULT_CHECK_BYTES (256ull << 20)
#define MIN_CHECK_BYTES (1ull << 20)
#define MAX_CHECK_BYTES (16ull << 30)
#define DEFAULT_FMA_ITERS 4096u
#define MAX_FMA_ITERS 1048576u
#define DEFAULT_FMA_SAMPLES 32u
#define MAX_FMA_SAMPLES 4096u
#define POLL_MS 10u

/* The bytes of each options version: version 1 ended before sysfs_root. A
 * caller built against an older header passes a shorter struct, so only
 * its own version's bytes are read or written. */
static size_t opts_size(unsigned int version)
{
    return version >= 2 ? sizeof(gpurent_probe_options) : offsetof(gpurent_probe_options, sysfs_root);
}

GPURENT_API gpurent_status gpurent_probe_options_init(gpurent_probe_options *opts, unsigned int version)
{
    GR_CHECK_ARG(opts, "opts is NULL");
    int rc = gr_check_version(version, GPURENT_PROBE_OPTIONS_VERSION, "probe options");
    if (rc) return rc;
    gpurent_probe_options d = GPURENT_PROBE_OPTIONS_INIT;
    d.version = version;
    memcpy(opts, &d, opts_size(version));
    return GPURENT_OK;
}

static uint64_t dflt(uint64_t v, uint64_t d) { return v ? v : d; }

/* Copy the options with defaults filled in, refusing out-of-range ones. */
int gr_probe_resolve_options(const gpurent_probe_options *in, gpurent_probe_options *o)
{
    gpurent_probe_options d = GPURENT_PROBE_OPTIONS_INIT;
    if (in) {
        int rc = gr_check_version(in->version, GPURENT_PROBE_OPTIONS_VERSION, "probe options");
        if (rc) return rc;
        memcpy(&d, in, opts_size(in->version));
    }
#define RANGE(field, lo, hi)                                                                          \
    if (d.field && (d.field < (lo) || d.field > (hi)))                                               \
        return gr_fail(GPURENT_E_INVALID_ARG, "probe options." #field ": %llu outside %llu..%llu",   \
                       (unsigned long long)d.field, (unsigned long long)(lo), (unsigned long long)(hi));
    RANGE(timeout_ms, 1, MAX_TIMEOUT_MS)
    RANGE(checks, 1, GPURENT_CHECK_ALL)
    RANGE(check_ms, 1, MAX_CHECK_MS)
    RANGE(check_max_bytes, MIN_CHECK_BYTES, MAX_CHECK_BYTES)
    RANGE(fma_iterations, 1, MAX_FMA_ITERS)
    RANGE(fma_samples, 1, MAX_FMA_SAMPLES)
#undef RANGE
    d.timeout_ms = (uint32_t)dflt(d.timeout_ms, DEFAULT_TIMEOUT_MS);
    d.check_ms = (uint32_t)dflt(d.check_ms, DEFAULT_CHECK_MS);
    d.check_max_bytes = dflt(d.check_max_bytes, DEFAULT_CHECK_BYTES);
    d.fma_iterations = (uint32_t)dflt(d.fma_iterations, DEFAULT_FMA_ITERS);
    d.fma_samples = (uint32_t)dflt(d.fma_samples, DEFAULT_FMA_SAMPLES);
    if (!d.now) d.now = (uint64_t)time(NULL);
    if (!d.driver_path) {
        const char *env = getenv(GPURENT_CUDA_LIBRARY_ENV);
        d.driver_path = env && env[0] ? env : GPURENT_CUDA_LIBRARY_DEFAULT;
    }
    if (!d.sysfs_root) {
        const char *env = getenv(GPURENT_SYSFS_ROOT_ENV);
        d.sysfs_root = env && env[0] ? env : GPURENT_SYSFS_ROOT_DEFAULT;
    }
    if (strlen(d.sysfs_root) > GPURENT_SYSFS_ROOT_MAX)
        return gr_fail(GPURENT_E_INVALID_ARG, "probe options.sysfs_root: longer than %u bytes",
                       GPURENT_SYSFS_ROOT_MAX);
    *o = d;
    return GPURENT_OK;
}

/* ---------------- the worker side ---------------- */

/* Every buffer the driver writes into is followed by a guard of this many
 * bytes of GUARD_FILL: a driver that writes past the length it was given
 * is caught (and its answer refused) instead of corrupting the probe. The
 * buffers live on the heap, so a write that overruns even the guard does
 * not reach a return address; probe in a helper process
 * (gpurent_probe_run_isolated) to survive worse. */
#define GUARD_BYTES 1024u
#define GUARD_FILL 0xa5
#define AREA_MAX GPURENT_GPU_REPORT_TEXT_MAX /* the largest buffer handed to the driver */

typedef struct probe_ctx {
    gr_probe_job *job;
    const gr_cu_api *cu;
    unsigned char *area; /* AREA_MAX + GUARD_BYTES */
    uint32_t fail_error; /* the first failing device call */
    char fail_reason[160];
} probe_ctx;

/* A zeroed buffer of n bytes (n <= AREA_MAX) followed by the guard. */
static void *guarded(probe_ctx *c, size_t n)
{
    memset(c->area, 0, n);
    memset(c->area + n, GUARD_FILL, GUARD_BYTES);
    return c->area;
}

/* How far past n bytes the driver wrote (0: the guard is intact). */
static size_t overrun(const probe_ctx *c, size_t n)
{
    for (size_t i = GUARD_BYTES; i > 0; i--)
        if (c->area[n + i - 1] != GUARD_FILL) return i;
    return 0;
}

static void set_status(gpurent_gpu_report *r, int status, uint32_t error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_status(gpurent_gpu_report *r, int status, uint32_t error, const char *fmt, ...)
{
    va_list ap;
    r->status = status;
    r->driver_error = error;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}

static void note_fail(probe_ctx *c, uint32_t ordinal, const char *what, gr_curesult rc)
{
    if (c->fail_error) return;
    c->fail_error = rc;
    snprintf(c->fail_reason, sizeof c->fail_reason, "device %u: %s failed: %s (%u)", ordinal, what,
             gr_cu_error_name(rc), rc);
}

/* A driver call that wrote past its buffer: the answer is refused and the
 * report names the call (status GPURENT_E_DEVICE_FAILED). */
#define DRIVER_WIDE UINT32_MAX
static gr_curesult note_overrun(probe_ctx *c, uint32_t ordinal, const char *what, size_t n, size_t past)
{
    if (!c->fail_error) {
        char dev[32] = "";
        if (ordinal != DRIVER_WIDE) snprintf(dev, sizeof dev, "device %u: ", ordinal);
        c->fail_error = GR_CUDA_ERROR_UNKNOWN;
        snprintf(c->fail_reason, sizeof c->fail_reason, "%s%s wrote past its %zu-byte buffer (%zu bytes beyond it)",
                 dev, what, n, past);
    }
    return GR_CUDA_ERROR_UNKNOWN;
}

static void pv_error(gpurent_pv *pv, gr_curesult rc)
{
    pv->state = GPURENT_PV_ERROR;
    pv->error = rc;
    pv->value = 0;
}

/* Store a driver answer: a value in range, "unsupported" (the driver does
 * not know it, or answered outside the record's range), or an error. */
static void store(probe_ctx *c, gpurent_pv *pv, gr_curesult rc, int64_t v, uint64_t max, uint32_t ordinal,
                  const char *what)
{
    if (rc == GR_CUDA_SUCCESS && v >= 0 && (uint64_t)v <= max) gr_pv_set(pv, (uint64_t)v);
    else if (rc == GR_CUDA_SUCCESS) gr_pv_unsupported(pv, 0);
    else if (rc == GR_CUDA_ERROR_INVALID_VALUE) gr_pv_unsupported(pv, rc);
    else {
        pv_error(pv, rc);
        note_fail(c, ordinal, what, rc);
    }
}

typedef struct attr_row {
    gr_cudevice_attribute attr;
    size_t offset; /* of the gpurent_pv in gpurent_probe_device */
    uint64_t max;
    const char *name;
} attr_row;

#define A(attr, member, max) {attr, offsetof(gpurent_probe_device, member), max, #attr}
static const attr_row attrs[] = {
    A(GR_CU_ATTR_PCI_DOMAIN_ID, pci_domain, UINT32_MAX),
    A(GR_CU_ATTR_PCI_BUS_ID, pci_bus, 255),
    A(GR_CU_ATTR_PCI_DEVICE_ID, pci_device, 31),
    A(GR_CU_ATTR_COMPUTE_CAPABILITY_MAJOR, cc_major, 99),
    A(GR_CU_ATTR_COMPUTE_CAPABILITY_MINOR, cc_minor, 9),
    A(GR_CU_ATTR_MULTIPROCESSOR_COUNT, sm_count, 100000),
    A(GR_CU_ATTR_CLOCK_RATE, clock_khz, 100000000),
    A(GR_CU_ATTR_MEMORY_CLOCK_RATE, mem_clock_khz, 100000000),
    A(GR_CU_ATTR_GLOBAL_MEMORY_BUS_WIDTH, bus_width_bits, 65536),
    A(GR_CU_ATTR_L2_CACHE_SIZE, l2_bytes, 1ull << 34),
    A(GR_CU_ATTR_ECC_ENABLED, ecc_enabled, 1),
    A(GR_CU_ATTR_MAX_THREADS_PER_MULTIPROCESSOR, max_threads_per_sm, 65536),
};
#undef A

static void probe_name(probe_ctx *c, gpurent_probe_device *d, gr_cudevice dev)
{
    /* The driver is told the whole buffer, and exactly that much is read:
     * a name that fills it has no NUL and is refused. */
    const size_t cap = sizeof d->name.value;
    char *buf = guarded(c, cap);
    gr_curesult rc = c->cu->cuDeviceGetName(buf, (int)cap, dev);
    size_t past = overrun(c, cap);
    size_t len = strnlen(buf, cap);
    d->name.state = GPURENT_PV_OK;
    d->name.error = 0;
    d->name.value[0] = '\0';
    if (past) {
        d->name.state = GPURENT_PV_ERROR;
        d->name.error = note_overrun(c, d->ordinal, "cuDeviceGetName", cap, past);
        return;
    }
    if (rc == GR_CUDA_SUCCESS && len > 0 && len < cap && gr_utf8_valid((const uint8_t *)buf, len)) {
        memcpy(d->name.value, buf, len + 1);
        return;
    }
    if (rc == GR_CUDA_SUCCESS || rc == GR_CUDA_ERROR_INVALID_VALUE) {
        d->name.state = GPURENT_PV_UNSUPPORTED;
        d->name.error = rc;
    } else {
        d->name.state = GPURENT_PV_ERROR;
        d->name.error = rc;
        note_fail(c, d->ordinal, "cuDeviceGetName", rc);
    }
}

static void probe_uuid(probe_ctx *c, gpurent_probe_device *d, gr_cudevice dev)
{
    memset(&d->uuid, 0, sizeof d->uuid);
    if (!c->cu->cuDeviceGetUuid) {
        d->uuid.state = GPURENT_PV_UNSUPPORTED;
        return;
    }
    uint8_t *bytes = guarded(c, GR_CU_UUID_BYTES);
    gr_curesult rc = c->cu->cuDeviceGetUuid((struct CUuuid_st *)(void *)bytes, dev);
    size_t past = overrun(c, GR_CU_UUID_BYTES);
    if (past) {
        d->uuid.state = GPURENT_PV_ERROR;
        d->uuid.error = note_overrun(c, d->ordinal, "cuDeviceGetUuid", GR_CU_UUID_BYTES, past);
    } else if (rc == GR_CUDA_SUCCESS) {
        memcpy(d->uuid.value, bytes, GR_CU_UUID_BYTES);
    } else if (rc == GR_CUDA_ERROR_INVALID_VALUE) {
        d->uuid.state = GPURENT_PV_UNSUPPORTED;
        d->uuid.error = rc;
    } else {
        d->uuid.state = GPURENT_PV_ERROR;
        d->uuid.error = rc;
        note_fail(c, d->ordinal, "cuDeviceGetUuid", rc);
    }
}

static void skip_check(gpurent_probe_check *k)
{
    memset(k, 0, sizeof *k);
    k->state = GPURENT_PV_SKIPPED;
}

static uint32_t ok32(const gpurent_pv *pv) { return pv->state == GPURENT_PV_OK ? (uint32_t)pv->value : 0; }

static void derive(gpurent_probe_device *d)
{
    gpurent_probe_derive_peaks(ok32(&d->cc_major), ok32(&d->cc_minor), ok32(&d->sm_count), ok32(&d->clock_khz),
                               ok32(&d->mem_clock_khz), ok32(&d->bus_width_bits), &d->fp32_gflops,
                               &d->fp16_tensor_gflops, &d->bf16_tensor_gflops, &d->mem_bw_mbps,
                               &d->h2d_peak_mbps);
}

static void fill_all_error(gpurent_probe_device *d, gr_curesult rc)
{
    d->name.state = d->uuid.state = GPURENT_PV_ERROR;
    d->name.error = d->uuid.error = rc;
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        pv_error((gpurent_pv *)(void *)((char *)d + attrs[i].offset), rc);
    pv_error(&d->memory_bytes, rc);
}

static void probe_device(probe_ctx *c, uint32_t ordinal, gpurent_probe_device *d, gr_cudevice *out_dev)
{
    memset(d, 0, sizeof *d);
    d->ordinal = ordinal;
    skip_check(&d->d2d);
    skip_check(&d->h2d);
    skip_check(&d->fma);
    gr_cudevice dev = 0;
    gr_curesult rc = c->cu->cuDeviceGet(&dev, (int)ordinal);
    *out_dev = dev;
    if (rc != GR_CUDA_SUCCESS) {
        note_fail(c, ordinal, "cuDeviceGet", rc);
        fill_all_error(d, rc);
        derive(d);
        return;
    }
    probe_name(c, d, dev);
    probe_uuid(c, d, dev);
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        int v = 0;
        int *out = guarded(c, sizeof v);
        rc = c->cu->cuDeviceGetAttribute(out, attrs[i].attr, dev);
        size_t past = overrun(c, sizeof v);
        memcpy(&v, out, sizeof v);
        gpurent_pv *pv = (gpurent_pv *)(void *)((char *)d + attrs[i].offset);
        if (past) pv_error(pv, note_overrun(c, ordinal, attrs[i].name, sizeof v, past));
        else store(c, pv, rc, v, attrs[i].max, ordinal, attrs[i].name);
    }
    size_t bytes = 0;
    size_t *out = guarded(c, sizeof bytes);
    rc = c->cu->cuDeviceTotalMem_v2(out, dev);
    size_t past = overrun(c, sizeof bytes);
    memcpy(&bytes, out, sizeof bytes);
    if (past) pv_error(&d->memory_bytes, note_overrun(c, ordinal, "cuDeviceTotalMem_v2", sizeof bytes, past));
    else store(c, &d->memory_bytes, rc, (int64_t)(bytes > INT64_MAX ? INT64_MAX : bytes), 1ull << 50, ordinal,
               "cuDeviceTotalMem_v2");
    derive(d);
}

/* PCI bus id order: domain, bus, device; devices whose PCI address is not
 * known go last, in ordinal order. */
static int pci_known(const gpurent_probe_device *d)
{
    return d->pci_domain.state == GPURENT_PV_OK && d->pci_bus.state == GPURENT_PV_OK &&
           d->pci_device.state == GPURENT_PV_OK;
}

static int pci_before(const gpurent_probe_device *a, const gpurent_probe_device *b)
{
    int ka = pci_known(a), kb = pci_known(b);
    if (ka != kb) return ka;
    if (ka) {
        if (a->pci_domain.value != b->pci_domain.value) return a->pci_domain.value < b->pci_domain.value;
        if (a->pci_bus.value != b->pci_bus.value) return a->pci_bus.value < b->pci_bus.value;
        if (a->pci_device.value != b->pci_device.value) return a->pci_device.value < b->pci_device.value;
    }
    return a->ordinal < b->ordinal;
}

static void sort_devices(gpurent_gpu_report *r, gr_cudevice *handles)
{
    /* Insertion sort: at most 64 devices, and stable. */
    for (uint32_t i = 1; i < r->device_count; i++) {
        gpurent_probe_device d = r->devices[i];
        gr_cudevice h = handles[i];
        uint32_t j = i;
        for (; j > 0 && pci_before(&d, &r->devices[j - 1]); j--) {
            r->devices[j] = r->devices[j - 1];
            handles[j] = handles[j - 1];
        }
        r->devices[j] = d;
        handles[j] = h;
    }
}

static int init_status(gr_curesult rc)
{
    switch (rc) {
    case GR_CUDA_ERROR_STUB_LIBRARY: return GPURENT_E_STUB_DRIVER;
    case GR_CUDA_ERROR_NO_DEVICE: return GPURENT_E_NO_DEVICE;
    case GR_CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER:
    case GR_CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: return GPURENT_E_DRIVER_TOO_OLD;
    default: return GPURENT_E_DRIVER_FAILED;
    }
}

/* Whether two listed devices are one: the same UUID, or the same PCI
 * address (a driver that lists a device twice would make one GPU count as
 * several). Fields the driver did not give do not compare. */
static int same_device(const gpurent_probe_device *a, const gpurent_probe_device *b, const char **why)
{
    if (a->uuid.state == GPURENT_PV_OK && b->uuid.state == GPURENT_PV_OK &&
        memcmp(a->uuid.value, b->uuid.value, sizeof a->uuid.value) == 0) {
        *why = "UUID";
        return 1;
    }
    if (pci_known(a) && pci_known(b) && a->pci_domain.value == b->pci_domain.value &&
        a->pci_bus.value == b->pci_bus.value && a->pci_device.value == b->pci_device.value) {
        *why = "PCI address";
        return 1;
    }
    return 0;
}

/* A driver listing one device twice: the whole listing is refused. */
static int refuse_duplicates(gpurent_gpu_report *r)
{
    const char *why = NULL;
    for (uint32_t i = 1; i < r->device_count; i++)
        for (uint32_t j = 0; j < i; j++)
            if (same_device(&r->devices[j], &r->devices[i], &why)) {
                uint32_t a = r->devices[j].ordinal, b = r->devices[i].ordinal;
                memset(r->devices, 0, sizeof r->devices);
                r->device_count = 0;
                r->driver_device_count = 0;
                set_status(r, GPURENT_E_DRIVER_FAILED, 0,
                           "the driver lists devices %u and %u with the same %s: one device listed twice", a, b,
                           why);
                return 1;
            }
    return 0;
}

static void probe_devices(probe_ctx *c, int n)
{
    gr_probe_job *job = c->job;
    gpurent_gpu_report *r = &job->report;
    /* The record holds at most GPURENT_GPU_REPORT_MAX_DEVICES devices and
     * counts at most GPURENT_GPU_REPORT_MAX_DRIVER_DEVICES: a larger count
     * is capped, and the reason says what the driver claimed. */
    uint32_t claimed = (uint32_t)n;
    r->driver_device_count = claimed < GPURENT_GPU_REPORT_MAX_DRIVER_DEVICES ? claimed
                                                                             : GPURENT_GPU_REPORT_MAX_DRIVER_DEVICES;
    uint32_t m = r->driver_device_count < GPURENT_GPU_REPORT_MAX_DEVICES ? r->driver_device_count
                                                                          : GPURENT_GPU_REPORT_MAX_DEVICES;
    gr_cudevice handles[GPURENT_GPU_REPORT_MAX_DEVICES];
    for (uint32_t i = 0; i < m; i++) {
        if (gr_job_abandoned(job)) return;
        probe_device(c, i, &r->devices[i], &handles[i]);
        r->device_count = i + 1;
    }
    sort_devices(r, handles);
    if (refuse_duplicates(r)) return;
    for (uint32_t i = 0; i < r->device_count; i++) gr_probe_pci_ids(job->opts.sysfs_root, &r->devices[i]);
    if (c->fail_error)
        set_status(r, GPURENT_E_DEVICE_FAILED, c->fail_error, "%s", c->fail_reason);
    else if (claimed > r->driver_device_count)
        snprintf(r->reason, sizeof r->reason,
                 "%u of %u devices listed: the driver claimed %u, counted as %u (the report's limits)", m,
                 r->driver_device_count, claimed, r->driver_device_count);
    else if (m < r->driver_device_count)
        snprintf(r->reason, sizeof r->reason, "%u of %u devices listed (the report's limit)", m,
                 r->driver_device_count);
    for (uint32_t i = 0; job->opts.checks && i < r->device_count; i++) {
        if (gr_job_abandoned(job)) return;
        /* A device that failed midway is not benchmarked. */
        if (r->devices[i].name.state == GPURENT_PV_ERROR || r->devices[i].sm_count.state == GPURENT_PV_ERROR)
            continue;
        gr_checks_run(job, &r->devices[i], handles[i]);
    }
}

static void probe_driver(gr_probe_job *job)
{
    probe_ctx c = {job, &job->drv->api, NULL, 0, {0}};
    gpurent_gpu_report *r = &job->report;
    gr_curesult rc = c.cu->cuInit(0);
    if (rc != GR_CUDA_SUCCESS) {
        set_status(r, init_status(rc), rc, "cuInit failed: %s (%u)", gr_cu_error_name(rc), rc);
        return;
    }
    gr_driver_lock();
    job->drv->init_pid = getpid();
    gr_driver_unlock();
    if (!(c.area = gr_malloc(AREA_MAX + GUARD_BYTES))) {
        set_status(r, GPURENT_E_DRIVER_FAILED, 0, "out of memory while probing");
        return;
    }
    int *out = guarded(&c, sizeof(int));
    rc = c.cu->cuDriverGetVersion(out);
    int v = *out;
    if (overrun(&c, sizeof v)) {
        note_overrun(&c, DRIVER_WIDE, "cuDriverGetVersion", sizeof v, overrun(&c, sizeof v));
        set_status(r, GPURENT_E_DRIVER_FAILED, 0, "%s", c.fail_reason);
        gr_free(c.area);
        return;
    }
    if (rc == GR_CUDA_SUCCESS && v > 0 && v <= 999999) gr_pv_set(&r->driver_version, (uint64_t)v);
    else if (rc == GR_CUDA_SUCCESS || rc == GR_CUDA_ERROR_INVALID_VALUE) gr_pv_unsupported(&r->driver_version, rc);
    else pv_error(&r->driver_version, rc);
    out = guarded(&c, sizeof(int));
    rc = c.cu->cuDeviceGetCount(out);
    int n = *out;
    if (overrun(&c, sizeof n)) {
        note_overrun(&c, DRIVER_WIDE, "cuDeviceGetCount", sizeof n, overrun(&c, sizeof n));
        set_status(r, GPURENT_E_DRIVER_FAILED, 0, "%s", c.fail_reason);
    } else if (rc != GR_CUDA_SUCCESS) {
        set_status(r, rc == GR_CUDA_ERROR_NO_DEVICE ? GPURENT_E_NO_DEVICE : GPURENT_E_DRIVER_FAILED, rc,
                   "cuDeviceGetCount failed: %s (%u)", gr_cu_error_name(rc), rc);
    } else if (n <= 0) {
        set_status(r, GPURENT_E_NO_DEVICE, 0, "the driver lists no CUDA device");
    } else {
        probe_devices(&c, n);
    }
    gr_free(c.area);
}

/* Load the driver (dlopen runs its constructors: on this thread, inside the
 * caller's time limit) and check what needs no driver call. 0: go on. */
/* A driver initialised in another process (before a fork) is unusable: 1,
 * and the report says why; 0 when `init_pid` is none or this process. */
static int forked_since_init(gpurent_gpu_report *r, pid_t init_pid)
{
    if (!init_pid || init_pid == getpid()) return 0;
    set_status(r, GPURENT_E_DRIVER_FAILED, 0,
               "the driver was initialised in process %ld before a fork; CUDA does not survive fork",
               (long)init_pid);
    return 1;
}

static int load_driver(gr_probe_job *job)
{
    gpurent_gpu_report *r = &job->report;
    gr_driver *drv = job->drv;
    int rc = gr_driver_load(drv, r->reason, sizeof r->reason);
    pthread_mutex_lock(&job->mu);
    job->loading = 0;
    pthread_mutex_unlock(&job->mu);
    if (rc == GPURENT_E_NO_DRIVER) {
        r->status = rc;
        memset(r->driver_path, 0, sizeof r->driver_path);
        return 1;
    }
    if (rc) {
        r->status = rc;
        gr_probe_copy_path(r->driver_path, sizeof r->driver_path, drv->name); /* as asked for: not loaded */
        return 1;
    }
    memcpy(r->driver_path, drv->path, sizeof r->driver_path);
    memcpy(r->driver_digest, drv->digest, sizeof r->driver_digest);
    if (drv->missing) {
        set_status(r, GPURENT_E_DRIVER_TOO_OLD, 0, "the driver lacks %s", drv->missing);
        return 1;
    }
    gr_driver_lock();
    pid_t init_pid = drv->init_pid;
    gr_driver_unlock();
    if (forked_since_init(r, init_pid)) return 1;
    return gr_job_abandoned(job);
}

/* ---------------- the caller side ---------------- */

static unsigned pending; /* abandoned workers still running, under the driver lock */

unsigned gr_probe_pending(void)
{
    gr_driver_lock();
    unsigned n = pending;
    gr_driver_unlock();
    return n;
}

int gr_job_abandoned(gr_probe_job *job)
{
    pthread_mutex_lock(&job->mu);
    int a = job->abandoned;
    pthread_mutex_unlock(&job->mu);
    return a;
}

static void job_release(gr_probe_job *job)
{
    pthread_mutex_lock(&job->mu);
    int last = --job->refs == 0;
    pthread_mutex_unlock(&job->mu);
    if (!last) return;
    gr_driver_release(job->drv);
    pthread_cond_destroy(&job->cv);
    pthread_mutex_destroy(&job->mu);
    gr_free(job);
}

static void *worker(void *arg)
{
    gr_probe_job *job = arg;
    if (!load_driver(job)) probe_driver(job);
    pthread_mutex_lock(&job->mu);
    job->done = 1;
    int abandoned = job->abandoned;
    pthread_cond_signal(&job->cv);
    pthread_mutex_unlock(&job->mu);
    if (abandoned) {
        gr_driver_lock();
        job->drv->hung--;
        pending--;
        gr_driver_unlock();
    }
    job_release(job);
    return NULL;
}

static void deadline_after(struct timespec *ts, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Wait for the worker: 0 done, 1 timed out, 2 cancelled. Gives the job up
 * (the worker frees it) unless it finished. */
static int wait_job(gr_probe_job *job, uint32_t timeout_ms, const gpurent_cancel *cancel)
{
    struct timespec deadline, now, slice;
    deadline_after(&deadline, timeout_ms);
    int outcome = 0;
    pthread_mutex_lock(&job->mu);
    while (!job->done) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (!before(&now, &deadline)) { outcome = 1; break; }
        if (gpurent_cancel_requested(cancel)) { outcome = 2; break; }
        deadline_after(&slice, POLL_MS);
        if (before(&deadline, &slice)) slice = deadline;
        pthread_cond_timedwait(&job->cv, &job->mu, &slice);
    }
    if (outcome) job->abandoned = 1;
    pthread_mutex_unlock(&job->mu);
    if (outcome) {
        gr_driver_lock();
        job->drv->hung++;
        pending++;
        gr_driver_unlock();
    }
    return outcome;
}

static gr_probe_job *job_new(gr_driver *drv, const gpurent_probe_options *o, const gpurent_gpu_report *base)
{
    gr_probe_job *job = gr_calloc(1, sizeof *job);
    if (!job) return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&job->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&job->mu, NULL);
    job->refs = 2;
    job->loading = 1;
    gr_driver_hold(drv);
    job->drv = drv;
    job->opts = *o;
    snprintf(job->sysfs_root, sizeof job->sysfs_root, "%s", o->sysfs_root ? o->sysfs_root : "");
    job->opts.sysfs_root = job->sysfs_root;
    job->report = *base;
    return job;
}

/* Hand the driver to a worker thread and wait for it within the limit. */
static int run_worker(gr_driver *drv, const gpurent_probe_options *o, const gpurent_cancel *cancel,
                      gpurent_gpu_report *r)
{
    gr_probe_job *job = job_new(drv, o, r);
    if (!job) return gr_fail(GPURENT_E_NOMEM, "probe: job");
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int err = gr_thread_start(&t, &attr, worker, job);
    pthread_attr_destroy(&attr);
    if (err) {
        job->refs = 1;
        job_release(job);
        return gr_fail(GPURENT_E_NOMEM, "probe: cannot start a worker thread (%s)", strerror(err));
    }
    int outcome = wait_job(job, o->timeout_ms, cancel);
    pthread_mutex_lock(&job->mu);
    int loading = job->loading;
    pthread_mutex_unlock(&job->mu);
    if (outcome == 0) *r = job->report;
    job_release(job);
    if (outcome == 2) return gr_fail(GPURENT_E_CANCELLED, "probe: cancelled while the driver was busy");
    if (outcome == 1 && loading)
        set_status(r, GPURENT_E_DRIVER_TIMEOUT, 0,
                   "loading the driver (dlopen and its constructors) did not finish within %u ms; "
                   "its thread is left behind", o->timeout_ms);
    else if (outcome == 1)
        set_status(r, GPURENT_E_DRIVER_TIMEOUT, 0,
                   "the driver did not answer within %u ms; its thread is left behind", o->timeout_ms);
    return GPURENT_OK;
}

/* Checks that need no driver call: fork, an earlier hang. */
static int precheck(gr_driver *drv, gpurent_gpu_report *r)
{
    gr_driver_lock();
    pid_t init_pid = drv->state == GR_DRV_READY ? drv->init_pid : 0;
    unsigned hung = drv->hung;
    gr_driver_unlock();
    if (forked_since_init(r, init_pid)) return 1;
    if (hung) {
        set_status(r, GPURENT_E_DRIVER_TIMEOUT, 0, "an earlier probe's driver call has not returned");
        return 1;
    }
    return 0;
}

/* The driver file named in a report whose worker did not finish: the file
 * found when it is loaded, else the name as asked for. */
static void unfinished_path(gr_driver *drv, gpurent_gpu_report *r)
{
    if (gr_driver_ready(drv)) {
        memcpy(r->driver_path, drv->path, sizeof r->driver_path);
        memcpy(r->driver_digest, drv->digest, sizeof r->driver_digest);
    } else {
        gr_probe_copy_path(r->driver_path, sizeof r->driver_path, drv->name);
    }
}

/* What both probe calls start with: out reset, the arguments and options
 * checked, the library initialised, the token not yet cancelled. */
int gr_probe_begin(const gpurent_probe_options *opts, const uint8_t *nonce, const gpurent_cancel *cancel,
                   gpurent_gpu_report *out, gpurent_probe_options *o)
{
    GR_CHECK_ARG(out, "out is NULL");
    gpurent_gpu_report_init(out);
    GR_CHECK_ARG(nonce, "nonce is NULL");
    int rc = gr_probe_resolve_options(opts, o);
    if (rc) return rc;
    if ((rc = gr_ensure_init())) return rc;
    if (gpurent_cancel_requested(cancel)) return gr_fail(GPURENT_E_CANCELLED, "probe: cancelled");
    return GPURENT_OK;
}

void gr_probe_report_start(gpurent_gpu_report *r, const uint8_t *nonce, const gpurent_probe_options *o)
{
    memcpy(r->nonce, nonce, GPURENT_CHALLENGE_BYTES);
    r->probed_at = o->now;
    r->checks = o->checks;
    r->ld_preload_set = getenv("LD_PRELOAD") != NULL;
    r->cuda_visible_devices_set = getenv("CUDA_VISIBLE_DEVICES") != NULL;
    gr_pv_unsupported(&r->driver_version, 0);
}

GPURENT_API gpurent_status gpurent_probe_run(const gpurent_probe_options *opts, const uint8_t nonce[GPURENT_CHALLENGE_BYTES],
                                             const gpurent_cancel *cancel, gpurent_gpu_report *out)
{
    gpurent_probe_options o;
    int rc = gr_probe_begin(opts, nonce, cancel, out, &o);
    if (rc) return rc;

    gpurent_gpu_report *r = gr_calloc(1, sizeof *r);
    if (!r) return gr_fail(GPURENT_E_NOMEM, "probe: report");
    gr_probe_report_start(r, nonce, &o);

    gr_driver *drv = NULL;
    rc = gr_driver_find(o.driver_path, &drv, r->reason, sizeof r->reason);
    if (rc == GPURENT_E_NO_DRIVER) {
        r->status = rc;
        rc = GPURENT_OK;
    } else if (rc == GPURENT_OK) {
        /* The worker loads the driver and fills in its path and digest. */
        if (precheck(drv, r)) unfinished_path(drv, r);
        else if ((rc = run_worker(drv, &o, cancel, r)) == GPURENT_OK && r->status == GPURENT_E_DRIVER_TIMEOUT)
            unfinished_path(drv, r);
        gr_driver_release(drv);
    } else {
        rc = gr_fail(rc, "probe: loading the driver");
    }
    if (rc == GPURENT_OK) *out = *r;
    gr_free(r);
    return rc;
}
