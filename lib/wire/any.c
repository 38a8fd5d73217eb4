/* Checks that apply to any encoded value or record. */
#include "mp_internal.h"

GPURENT_API gpurent_status gpurent_wire_check_canonical(const uint8_t *data, size_t len)
{
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    gr_reader r;
    gr_rd_init(&r, data, len, "value");
    int rc = gr_rd_skip(&r, 1);
    return rc ? rc : gr_rd_end(&r);
}

GPURENT_API gpurent_status gpurent_wire_record_type(const uint8_t *data, size_t len, uint32_t *type)
{
    GR_CHECK_ARG(type, "type is NULL");
    int rc = gpurent_wire_check_canonical(data, len);
    if (rc) return rc;
    gr_reader r;
    uint32_t n;
    uint64_t t;
    gr_rd_init(&r, data, len, "record");
    if ((rc = gr_rd_map(&r, &n))) return rc;
    if (n == 0) return gr_fail(GPURENT_E_INVALID_FIELD, "record: empty map has no type");
    if ((rc = gr_rd_key(&r, 0, "type")) || (rc = gr_rd_uint(&r, &t))) return rc;
    if (t > UINT32_MAX) return gr_fail(GPURENT_E_INVALID_FIELD, "record.type: %llu too large", (unsigned long long)t);
    *type = (uint32_t)t;
    return GPURENT_OK;
}

GPURENT_API const char *gpurent_record_type_name(uint32_t type)
{
    static const char *const names[] = {"unknown", "gpu", "offer", "request", "gpu_report",
                                        "audit_report", "tier_cert", "match_receipt", "revocation",
                                        "envelope"};
    return type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}
