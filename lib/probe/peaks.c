/* Derived peaks from documented per-architecture tables, and verdicts.
 * Integer arithmetic only: these figures go into signed records. */
#include "probe_internal.h"

/* Per compute capability: FP32 lanes per SM, dense FP16 and BF16 tensor
 * FLOPs per clock per SM (0 = no tensor figure known), and the PCIe link of
 * the architecture's boards in MB/s per direction. Sources: NVIDIA's
 * architecture whitepapers and spec sheets (V100 125 TFLOPS, A100 312,
 * RTX 3090 142 and RTX 4090 330 with FP16 accumulate, H100 SXM 989 at
 * 1830 MHz); PCIe x16: Gen3 15750, Gen4 31500, Gen5 63000 MB/s. */
typedef struct arch_row {
    uint8_t major, minor; /* minor 255: any minor */
    uint16_t fp32_per_sm;
    uint16_t fp16_tensor_per_sm;
    uint16_t bf16_tensor_per_sm;
    uint32_t pcie_mbps;
} arch_row;

static const arch_row arch_table[] = {
    {7, 0, 64, 1024, 0, 15750},     /* Volta: no BF16 */
    {7, 5, 64, 1024, 0, 15750},     /* Turing */
    {8, 0, 64, 2048, 2048, 31500},  /* A100 */
    {8, 6, 128, 1024, 1024, 31500}, /* GA10x */
    {8, 7, 128, 0, 0, 0},           /* Orin: integrated, no table figure */
    {8, 9, 128, 1024, 1024, 31500}, /* Ada */
    {9, 0, 128, 4096, 4096, 63000}, /* Hopper */
    {10, 255, 128, 0, 0, 63000},    /* Blackwell datacenter */
    {12, 255, 128, 0, 0, 63000},    /* Blackwell consumer */
};

static const arch_row *arch_find(uint32_t major, uint32_t minor)
{
    for (size_t i = 0; i < sizeof arch_table / sizeof arch_table[0]; i++) {
        const arch_row *a = &arch_table[i];
        if (a->major == major && (a->minor == 255 || a->minor == minor)) return a;
    }
    return NULL;
}

void gr_pv_set(gpurent_pv *pv, uint64_t value)
{
    pv->state = GPURENT_PV_OK;
    pv->error = 0;
    pv->value = value;
}

void gr_pv_unsupported(gpurent_pv *pv, uint32_t error)
{
    pv->state = GPURENT_PV_UNSUPPORTED;
    pv->error = error;
    pv->value = 0;
}

static void put(gpurent_pv *pv, uint64_t value, int known)
{
    if (!pv) return;
    if (known) gr_pv_set(pv, value);
    else gr_pv_unsupported(pv, 0);
}

GPURENT_API void gpurent_probe_derive_peaks(uint32_t cc_major, uint32_t cc_minor, uint32_t sm_count,
                                            uint32_t clock_khz, uint32_t mem_clock_khz,
                                            uint32_t bus_width_bits, gpurent_pv *fp32_gflops,
                                            gpurent_pv *fp16_tensor_gflops, gpurent_pv *bf16_tensor_gflops,
                                            gpurent_pv *mem_bw_mbps, gpurent_pv *h2d_peak_mbps)
{
    const arch_row *a = arch_find(cc_major, cc_minor);
    /* lanes x 2 FLOPs (an FMA) x clock: kHz x 1e3 / 1e9 = / 1e6 for GFLOPS.
     * All factors fit 32 bits, so the product fits 64 bits. */
    uint64_t sm_khz = (uint64_t)sm_count * clock_khz;
    int have = a && sm_count && clock_khz;
    put(fp32_gflops, have ? sm_khz * a->fp32_per_sm * 2 / 1000000 : 0, have);
    put(fp16_tensor_gflops, have ? sm_khz * a->fp16_tensor_per_sm / 1000000 : 0, have && a->fp16_tensor_per_sm);
    put(bf16_tensor_gflops, have ? sm_khz * a->bf16_tensor_per_sm / 1000000 : 0, have && a->bf16_tensor_per_sm);
    /* 2 transfers per clock (DDR) x kHz x 1e3 x bits / 8 bytes / 1e6 = kHz x bits / 4000 MB/s. */
    int mem = mem_clock_khz && bus_width_bits;
    put(mem_bw_mbps, (uint64_t)mem_clock_khz * bus_width_bits / 4000, mem);
    put(h2d_peak_mbps, a ? a->pcie_mbps : 0, a && a->pcie_mbps);
}

GPURENT_API uint32_t gpurent_probe_verdict(uint32_t ratio_ppm)
{
    /* DCGM passes a GPU at 0.75 of its expected rate; more than 10% above
     * the peak cannot be real hardware (or the peak tables are wrong). */
    if (ratio_ppm < GPURENT_VERDICT_LOW_BELOW_PPM) return GPURENT_VERDICT_LOW;
    if (ratio_ppm > GPURENT_VERDICT_IMPLAUSIBLE_ABOVE_PPM) return GPURENT_VERDICT_IMPLAUSIBLE;
    return GPURENT_VERDICT_PLAUSIBLE;
}

uint32_t gr_probe_ratio_ppm(uint64_t measured, uint64_t peak)
{
    if (peak == 0) return 0;
    /* measured <= 2^40 by construction, so measured * 1e6 fits 64 bits. */
    uint64_t r = measured * 1000000u / peak;
    return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

GPURENT_API const char *gpurent_pv_state_name(uint32_t state)
{
    static const char *const names[] = {"ok", "unsupported", "error", "skipped"};
    return state < 4 ? names[state] : "unknown";
}

GPURENT_API const char *gpurent_verdict_name(uint32_t verdict)
{
    static const char *const names[] = {"none", "plausible", "low", "implausible", "wrong output"};
    return verdict < 5 ? names[verdict] : "unknown";
}
