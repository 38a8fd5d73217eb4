/* GPU capability probing through the CUDA Driver API.
 *
 * The probe loads the CUDA driver (libcuda.so.1) at run time: nothing here
 * needs the CUDA toolkit, and a machine without a GPU or driver gets a valid,
 * empty report that says why. It lists each device's attributes in PCI bus
 * id order, derives peak figures from documented per-architecture tables,
 * and can run short active checks (copy bandwidth, an FP32 FMA kernel seeded
 * by a challenge nonce) whose results are compared with those peaks.
 *
 * The result is a gpurent_gpu_report (wire.h): encode it, sign it with the
 * attest module, and turn its devices into gpurent_gpu records for offers.
 * A report is the provider's own declaration: whoever controls the driver
 * controls what it says (docs/probe.md, "What a report proves"). The nonce
 * proves that the report is fresh, not that the hardware is real.
 *
 * docs/probe.md has the details, including what cannot be done safely:
 *  - a driver that hangs (in its constructors at load time, in cuInit, in
 *    any call) runs on a worker thread which cannot be killed; the probe
 *    gives up after its time limit and leaves that thread behind;
 *  - a driver that crashes, or writes far past the buffers it is given,
 *    takes the process with it: gpurent_probe_run_isolated() probes in a
 *    child process and reports such a crash instead;
 *  - CUDA does not survive fork(): a child forked after this process
 *    initialised a driver cannot probe that driver (the probe refuses). */
#ifndef GPURENT_PROBE_H
#define GPURENT_PROBE_H

#include "gpurent/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The environment variable that names the driver library to load. */
#define GPURENT_CUDA_LIBRARY_ENV "GPURENT_CUDA_LIBRARY"
/** The library loaded when neither the options nor the environment name one. */
#define GPURENT_CUDA_LIBRARY_DEFAULT "libcuda.so.1"

/** The environment variable that names the sysfs root the probe reads the
 *  GPUs' PCI ids from (tests point it at a fake tree). */
#define GPURENT_SYSFS_ROOT_ENV "GPURENT_SYSFS_ROOT"
/** The sysfs root used when neither the options nor the environment name one. */
#define GPURENT_SYSFS_ROOT_DEFAULT "/sys"
/** Longest sysfs root accepted, in bytes without the NUL. */
#define GPURENT_SYSFS_ROOT_MAX 900

/* 2 added sysfs_root; version 1 structs keep working (and read $GPURENT_SYSFS_ROOT or /sys). */
#define GPURENT_PROBE_OPTIONS_VERSION 2

/** Probe options. Zero fields take their defaults. */
typedef struct gpurent_probe_options {
    unsigned int version;      /* GPURENT_PROBE_OPTIONS_VERSION */
    const char *driver_path;   /* NULL: $GPURENT_CUDA_LIBRARY, else "libcuda.so.1" */
    uint32_t timeout_ms;       /* the whole probe, cuInit included; default 10000, max 600000 */
    uint32_t checks;           /* GPURENT_CHECK_* bits; default 0 (no active check) */
    uint32_t check_ms;         /* measuring time per check per device; default 50, max 5000 */
    uint64_t check_max_bytes;  /* device (and pinned host) memory per check; default 256 MiB,
                                  min 1 MiB, max 16 GiB */
    uint32_t fma_iterations;   /* loop iterations per kernel thread; default 4096, max 1048576 */
    uint32_t fma_samples;      /* kernel outputs checked on the CPU; default 32, max 4096 */
    uint64_t now;              /* Unix seconds for probed_at; 0 = the clock */
    /* version 2: */
    const char *sysfs_root;    /* where the PCI ids are read, <root>/bus/pci/devices/
                                  DDDD:BB:DD.0/{vendor,device,subsystem_vendor,subsystem_device};
                                  NULL: $GPURENT_SYSFS_ROOT, else "/sys". Copied: the
                                  string need not outlive the call. */
} gpurent_probe_options;

#define GPURENT_PROBE_OPTIONS_INIT {GPURENT_PROBE_OPTIONS_VERSION, NULL, 0, 0, 0, 0, 0, 0, 0, NULL}

/** Fill `opts` with the defaults of `version` (for bindings). Fails with
 *  GPURENT_E_VERSION for an unknown version. */
GPURENT_API gpurent_status gpurent_probe_options_init(gpurent_probe_options *opts, unsigned int version);

/**
 * Probe the machine's GPUs and fill `out`, bound to `nonce` (32 bytes).
 *
 * Returns GPURENT_OK whenever it produced a report, including an empty one:
 * a missing driver, the toolkit's stub driver, an old driver, a failing or
 * hung driver and a machine without devices are not errors of the call but
 * facts about the machine, and out->status / out->reason say which.
 * The call fails (and leaves `out` zeroed) only for bad arguments
 * (GPURENT_E_INVALID_ARG, GPURENT_E_VERSION), GPURENT_E_NOMEM, or
 * GPURENT_E_CANCELLED when `cancel` (may be NULL) was set; a call cancelled
 * while the driver is busy returns at once and leaves the driver call to
 * finish on its worker thread.
 *
 * The driver is loaded once per process and path and never unloaded (libcuda
 * does not support it); loading it (dlopen runs its constructors) happens
 * on the worker thread, inside the time limit. Probes may run from several
 * threads at once, with or without active checks.
 *
 * Each device's product ids (PCI vendor, device, subsystem vendor and
 * subsystem device) are read from sysfs at the PCI address the driver
 * reports (function 0); a device without such an entry (no sysfs, another
 * OS, an unreadable or malformed file) keeps ids 0, "not known", and the
 * probe goes on: they are never a reason for a failed report.
 *
 * A hostile or broken driver is contained where the probe can: every
 * buffer the driver writes is followed by a guard, and a driver that wrote
 * past the length it was given has its answer refused (the report says
 * GPURENT_E_DEVICE_FAILED, naming the call); a name that fills its buffer
 * without a NUL is "unsupported"; a device count above
 * GPURENT_GPU_REPORT_MAX_DRIVER_DEVICES is capped (the reason says what the
 * driver claimed); a driver that lists one device twice (same UUID or PCI
 * address) gets GPURENT_E_DRIVER_FAILED and no devices.
 */
GPURENT_API gpurent_status gpurent_probe_run(const gpurent_probe_options *opts, const uint8_t nonce[GPURENT_CHALLENGE_BYTES],
                                             const gpurent_cancel *cancel, gpurent_gpu_report *out);

/**
 * gpurent_probe_run() in a child process: the default for provider nodes
 * and the CLI, because a crash or a memory overwrite in the driver then
 * costs the child, not the caller.
 *
 * The child is forked from the calling thread (not exec'd), runs the probe
 * with the same options and sends back the report's canonical encoding
 * through a pipe; the parent decodes it (a report that does not decode, or
 * is bound to another nonce, is not accepted) and always reaps the child.
 * Arguments and results are those of gpurent_probe_run(), and these
 * outcomes are facts in the report (the call returns GPURENT_OK):
 *  - the child died of a signal (a crash in the driver, or killed by
 *    someone): status GPURENT_E_DRIVER_FAILED, the reason names the signal
 *    ("died of signal 11 (SIGSEGV)");
 *  - the child exited without a report: GPURENT_E_DRIVER_FAILED;
 *  - the child answered a failure status other than GPURENT_E_NOMEM (the
 *    driver can forge it), or a malformed answer: GPURENT_E_DRIVER_FAILED,
 *    the reason names the status;
 *  - no answer within the time limit plus one second of grace: the child is
 *    killed (SIGKILL) and reaped, status GPURENT_E_DRIVER_TIMEOUT.
 * Such reports carry the nonce, the time and the driver name as asked for
 * (no digest). `cancel` kills the child and returns GPURENT_E_CANCELLED.
 * Fails with GPURENT_E_LIMIT or GPURENT_E_NOMEM when no pipe or process
 * can be created.
 *
 * Because CUDA does not survive fork, probe either always in a child or
 * always in-process: once this process has initialised a driver itself
 * (gpurent_probe_run), a child cannot probe that driver and its report
 * says so. The child uses only the calling thread; the library resets its
 * own locks in the child (pthread_atfork). A caller that ignores SIGCHLD or
 * reaps every child itself still gets the report, but a crash is then
 * reported without its signal. Not for Windows (POSIX fork).
 */
GPURENT_API gpurent_status gpurent_probe_run_isolated(const gpurent_probe_options *opts, const uint8_t nonce[GPURENT_CHALLENGE_BYTES],
                                                      const gpurent_cancel *cancel, gpurent_gpu_report *out);

/** "ok", "unsupported", "error", "skipped"; "unknown" otherwise. Static string. */
GPURENT_API const char *gpurent_pv_state_name(uint32_t state);

/** "none", "plausible", "low", "implausible", "wrong output"; "unknown" otherwise. */
GPURENT_API const char *gpurent_verdict_name(uint32_t verdict);

/** The verdict for a measurement of `ratio_ppm` of its peak (output correct):
 *  below 750000 low, above 1100000 implausible, plausible between. */
GPURENT_API uint32_t gpurent_probe_verdict(uint32_t ratio_ppm);

/**
 * Derived peaks for a GPU from its attributes, by the documented tables
 * (docs/probe.md): FP32 GFLOPS = SMs x FP32 cores per SM x 2 x clock;
 * tensor FP16/BF16 dense GFLOPS = SMs x tensor FLOPs per clock per SM x
 * clock; memory MB/s = 2 x memory clock x bus width / 8. Integer
 * arithmetic, rounded down. Each output is GPURENT_PV_OK or, for an
 * architecture the tables do not know, GPURENT_PV_UNSUPPORTED. Any pointer
 * may be NULL.
 */
GPURENT_API void gpurent_probe_derive_peaks(uint32_t cc_major, uint32_t cc_minor, uint32_t sm_count,
                                            uint32_t clock_khz, uint32_t mem_clock_khz,
                                            uint32_t bus_width_bits, gpurent_pv *fp32_gflops,
                                            gpurent_pv *fp16_tensor_gflops, gpurent_pv *bf16_tensor_gflops,
                                            gpurent_pv *mem_bw_mbps, gpurent_pv *h2d_peak_mbps);

#ifdef __cplusplus
}
#endif
#endif
