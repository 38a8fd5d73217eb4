/* The GPU record and the GPU map nested in nodes. */
#include <string.h>

#include "mp_internal.h"

#define F(key, kind, member, max) GR_FIELD(key, kind, gpurent_gpu, member, max)
static const gr_field gpu_fields[GR_GPU_FIELDS] = {
    F(1, GR_STR, model, 0),
    F(2, GR_BIN, uuid, 0),
    F(3, GR_U32, pci_domain, 0xffffffffu),
    F(4, GR_U32, pci_bus, 255),
    F(5, GR_U32, pci_device, 31),
    F(6, GR_U32, cc_major, 99),
    F(7, GR_U32, cc_minor, 9),
    F(8, GR_U32, sm_count, 100000),
    F(9, GR_U64, memory_mib, 1ull << 32),
    F(10, GR_U32, clock_mhz, 100000),
    F(11, GR_U32, mem_clock_mhz, 100000),
    F(12, GR_U32, bus_width_bits, 65536),
    F(13, GR_U32, l2_kib, 1u << 24),
    F(14, GR_U32, ecc_enabled, 1),
    F(15, GR_U32, interface, GPURENT_IFACE_SXM),
    F(16, GR_U64, fp32_gflops, 1ull << 40),
    F(17, GR_U64, fp16_tensor_gflops, 1ull << 40),
    F(18, GR_U64, mem_bw_mbps, 1ull << 40),
    F(19, GR_U64, measured_fp32_gflops, 1ull << 40),
    F(20, GR_U64, measured_mem_bw_mbps, 1ull << 40),
    F(21, GR_U32, cuda_version, 999999),
};
#undef F

int gr_gpu_check(const gpurent_gpu *g, const char *what)
{
    return gr_fields_validate(g, gpu_fields, GR_GPU_FIELDS, what);
}

void gr_wr_gpu_fields(gr_writer *w, const gpurent_gpu *g)
{
    gr_wr_fields(w, g, gpu_fields, GR_GPU_FIELDS);
}

int gr_rd_gpu_fields(gr_reader *r, gpurent_gpu *g)
{
    return gr_rd_fields(r, g, gpu_fields, GR_GPU_FIELDS);
}

GPURENT_API gpurent_status gpurent_gpu_validate(const gpurent_gpu *gpu)
{
    GR_CHECK_ARG(gpu, "gpu is NULL");
    return gr_gpu_check(gpu, "gpu");
}

GPURENT_API gpurent_status gpurent_gpu_encode(const gpurent_gpu *gpu, gpurent_buf *out)
{
    GR_CHECK_ARG(gpu && out, "gpu or out is NULL");
    int rc = gr_gpu_check(gpu, "gpu");
    if (rc) return rc;
    gr_writer w;
    gr_wr_init(&w);
    gr_wr_map(&w, GR_GPU_FIELDS + 1);
    gr_wr_uint(&w, 0);
    gr_wr_uint(&w, GPURENT_RECORD_GPU);
    gr_wr_gpu_fields(&w, gpu);
    return gr_wr_finish(&w, out);
}

GPURENT_API gpurent_status gpurent_gpu_decode(const uint8_t *data, size_t len, gpurent_gpu *out)
{
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    GR_CHECK_ARG(out, "out is NULL");
    gr_reader r;
    gpurent_gpu g;
    memset(&g, 0, sizeof g);
    gr_rd_init(&r, data, len, "gpu");
    int rc = gr_rd_record(&r, GR_GPU_FIELDS + 1, GPURENT_RECORD_GPU);
    if (!rc) rc = gr_rd_gpu_fields(&r, &g);
    if (!rc) rc = gr_rd_end(&r);
    if (!rc) *out = g;
    return rc;
}
