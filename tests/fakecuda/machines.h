/* The machines the fake CUDA driver plays (FAKECUDA_MACHINE). Figures are
 * the published ones (docs/probe.md, docs/models.md). */
#ifndef FAKECUDA_MACHINES_H
#define FAKECUDA_MACHINES_H

typedef struct fake_gpu {
    const char *name;
    int domain, bus, slot;
    int cc_major, cc_minor;
    int sm_count, fp32_per_sm;
    int clock_khz, mem_clock_khz, bus_width;
    int l2_bytes;
    int ecc;            /* 0/1, or -1: the driver does not know the attribute */
    int threads_per_sm;
    unsigned long long total_mem;
    int pcie_mbps;      /* host link, per direction */
} fake_gpu;

#define H100_SXM(bus) {"NVIDIA H100 80GB HBM3", 0, bus, 0, 9, 0, 132, 128, 1980000, 2619000, 5120, \
                       52428800, 1, 2048, 85520809984ull, 63000}
#define A100_SXM(bus) {"NVIDIA A100-SXM4-80GB", 0, bus, 0, 8, 0, 108, 64, 1410000, 1593000, 5120, \
                       41943040, 1, 2048, 85899345920ull, 31500}
#define RTX_4090 {"NVIDIA GeForce RTX 4090", 0, 0x01, 0, 8, 9, 128, 128, 2520000, 10501000, 384, \
                  75497472, -1, 1536, 25386352640ull, 31500}

typedef struct fake_machine {
    const char *name;
    unsigned init_rc;   /* what cuInit answers */
    int hang;           /* cuInit sleeps FAKECUDA_HANG_MS (default 2000) first */
    int midfail;        /* device 1 fails some calls with CUDA_ERROR_UNKNOWN */
    int wrong_output;   /* kernels compute with a stale seed */
    int speed_pct;      /* simulated speed; FAKECUDA_SPEED_PCT overrides */
    int count;
    fake_gpu gpus[8];
    int bad;            /* a FAKE_BAD_* misbehaviour (0: none) */
} fake_machine;

/* Misbehaviours of a hostile or broken driver. */
enum {
    FAKE_BAD_NONE = 0,
    FAKE_BAD_NAME_NONUL,  /* cuDeviceGetName fills 256 bytes, no NUL, whatever its length says */
    FAKE_BAD_NAME_LONG,   /* cuDeviceGetName writes 319 bytes */
    FAKE_BAD_UUID_LONG,   /* cuDeviceGetUuid writes 64 bytes into the 16-byte CUuuid */
    FAKE_BAD_HUGE_COUNT,  /* cuDeviceGetCount answers 2^31-1 */
    FAKE_BAD_CRASH_INIT,  /* SIGSEGV in cuInit */
    FAKE_BAD_CRASH_NAME,  /* SIGSEGV in cuDeviceGetName */
    FAKE_BAD_STOP_INIT,   /* cuInit stops the process (SIGSTOP): it never answers */
    FAKE_BAD_KILL_INIT,   /* cuInit kills the process (SIGKILL) */
    FAKE_BAD_EXIT_INIT,   /* cuInit ends the process (_exit(7)) */
    FAKE_BAD_FORGE_INIT,  /* cuInit writes a forged failure status (CANCELLED) to every pipe it can, then _exit(0) */
    FAKE_BAD_DUPLICATE    /* every device is device 0 (same UUID, same PCI address) */
};

static const fake_machine fake_machines[] = {
    {"h100", 0, 0, 0, 0, 100, 1, {H100_SXM(0x1b)}, FAKE_BAD_NONE},
    /* Ordinals are not in PCI order (as with CUDA_DEVICE_ORDER=FASTEST_FIRST). */
    {"a100x8", 0, 0, 0, 0, 100, 8,
     {A100_SXM(0x87), A100_SXM(0x07), A100_SXM(0xbd), A100_SXM(0x47), A100_SXM(0x0f), A100_SXM(0x90),
      A100_SXM(0x4e), A100_SXM(0xb7)}, FAKE_BAD_NONE},
    {"rtx4090", 0, 0, 0, 0, 100, 1, {RTX_4090}, FAKE_BAD_NONE},
    {"nodevice", 100, 0, 0, 0, 100, 0, {{0}}, FAKE_BAD_NONE},
    {"initfail", 999, 0, 0, 0, 100, 0, {{0}}, FAKE_BAD_NONE},
    {"olddriver", 803, 0, 0, 0, 100, 0, {{0}}, FAKE_BAD_NONE}, /* kernel module older than the library */
    {"stub", 34, 0, 0, 0, 100, 0, {{0}}, FAKE_BAD_NONE},
    {"midfail", 0, 0, 1, 0, 100, 2, {H100_SXM(0x1b), H100_SXM(0x29)}, FAKE_BAD_NONE},
    {"hang", 0, 1, 0, 0, 100, 1, {H100_SXM(0x1b)}, FAKE_BAD_NONE},
    {"wrongoutput", 0, 0, 0, 1, 100, 1, {H100_SXM(0x1b)}, FAKE_BAD_NONE},
    {"slow", 0, 0, 0, 0, 30, 1, {H100_SXM(0x1b)}, FAKE_BAD_NONE},
    {"name_nonul", 0, 0, 0, 0, 100, 1, {H100_SXM(0x1b)}, FAKE_BAD_NAME_NONUL},
    {"name_long", 0, 0, 0, 0, 100, 1, {H100_SXM(0x1b)}, FAKE_BAD_NAME_LONG},
    {"uuid_long", 0, 0, 0, 0, 100, 1, {H100_SXM(0x1b)}, FAKE_BAD_UUID_LONG},
    {"huge_count", 0, 0, 0, 0, 100, 1, {H100_SXM(0x1b)}, FAKE_BAD_HUGE_COUNT},
    {"crash_init", 0, 0, 0, 0, 100, 1, {H100_SXM(0x1b)}, FAKE_BAD_CRASH_INIT},
    {"crash_name", 0, 0, 0, 0, 100, 1, {H100_SXM(0x1b)}, FAKE_BAD_CRASH_NAME},
    {"stop_init", 0, 0, 0, 0, 100, 1, {H100_SXM(0x1b)}, FAKE_BAD_STOP_INIT},
    {"kill_init", 0, 0, 0, 0, 100, 1, {H100_SXM(0x1b)}, FAKE_BAD_KILL_INIT},
    {"exit_init", 0, 0, 0, 0, 100, 1, {H100_SXM(0x1b)}, FAKE_BAD_EXIT_INIT},
    {"forge_init", 0, 0, 0, 0, 100, 1, {H100_SXM(0x1b)}, FAKE_BAD_FORGE_INIT},
    {"duplicate", 0, 0, 0, 0, 100, 8, {H100_SXM(0x1b)}, FAKE_BAD_DUPLICATE},
    /* An A100 that calls itself an H100 (gpu-check must refuse its figures). */
    {"impostor", 0, 0, 0, 0, 100, 1,
     {{"NVIDIA H100 80GB HBM3", 0, 0x1b, 0, 8, 0, 108, 64, 1410000, 1593000, 5120, 41943040, 1, 2048,
       85899345920ull, 31500}}, FAKE_BAD_NONE},
};

#endif
