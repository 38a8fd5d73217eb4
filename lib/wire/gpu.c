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
/* Added after 0.3: present only when not 0 (docs/wire-format.md, "Versions"). */
static const gr_field gpu_opt_fields[GR_GPU_OPT_FIELDS] = {
    F(22, GR_U32, pci_vendor_id, 0xfffe),
    F(23, GR_U32, pci_device_id, 0xffff),
    F(24, GR_U32, pci_subsystem_vendor_id, 0xffff),
    F(25, GR_U32, pci_subsystem_device_id, 0xffff),
};
#undef F

int gr_pci_ids_check(uint32_t vendor, uint32_t device, uint32_t sub_vendor, uint32_t sub_device, const char *what)
{
    if (vendor > 0xfffe)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.pci_vendor_id: %u is not a PCI vendor id (0 unknown, 1..0xfffe)",
                       what, vendor);
    if (device > 0xffff || sub_vendor > 0xffff || sub_device > 0xffff)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.pci_device_id: an id above 0xffff (%u, %u, %u)", what, device,
                       sub_vendor, sub_device);
    if (!vendor && (device || sub_vendor || sub_device))
        return gr_fail(GPURENT_E_INVALID_FIELD,
                       "%s.pci_device_id: PCI ids without a vendor id (vendor 0 means none is known)", what);
    return GPURENT_OK;
}

int gr_gpu_check(const gpurent_gpu *g, const char *what)
{
    int rc = gr_fields_validate(g, gpu_fields, GR_GPU_FIELDS, what);
    if (!rc) rc = gr_pci_ids_check(g->pci_vendor_id, g->pci_device_id, g->pci_subsystem_vendor_id,
                                   g->pci_subsystem_device_id, what);
    return rc;
}

uint32_t gr_gpu_map_size(const gpurent_gpu *g)
{
    return GR_GPU_FIELDS + gr_opt_count(g, gpu_opt_fields, GR_GPU_OPT_FIELDS);
}

void gr_wr_gpu_fields(gr_writer *w, const gpurent_gpu *g)
{
    gr_wr_fields(w, g, gpu_fields, GR_GPU_FIELDS);
    gr_wr_opt_fields(w, g, gpu_opt_fields, GR_GPU_OPT_FIELDS);
}

int gr_rd_gpu_fields(gr_reader *r, gpurent_gpu *g, uint32_t entries)
{
    if (entries < GR_GPU_FIELDS || entries > GR_GPU_FIELDS + GR_GPU_OPT_FIELDS)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s: %u fields, expected %u..%u", r->what, entries, GR_GPU_FIELDS,
                       GR_GPU_FIELDS + GR_GPU_OPT_FIELDS);
    int rc = gr_rd_fields(r, g, gpu_fields, GR_GPU_FIELDS);
    if (!rc) rc = gr_rd_opt_fields(r, g, gpu_opt_fields, GR_GPU_OPT_FIELDS, entries - GR_GPU_FIELDS);
    if (!rc) rc = gr_pci_ids_check(g->pci_vendor_id, g->pci_device_id, g->pci_subsystem_vendor_id,
                                   g->pci_subsystem_device_id, r->what);
    return rc;
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
    gr_wr_map(&w, gr_gpu_map_size(gpu) + 1);
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
    uint32_t n = 0;
    int rc = gr_rd_record_var(&r, GR_GPU_FIELDS + 1, GR_GPU_FIELDS + GR_GPU_OPT_FIELDS + 1, GPURENT_RECORD_GPU, &n);
    if (!rc) rc = gr_rd_gpu_fields(&r, &g, n - 1);
    if (!rc) rc = gr_rd_end(&r);
    if (!rc) *out = g;
    return rc;
}
