/* Fuzz gpurent_gpu_report_decode: a provider's probe report (fixed arrays of
 * probed values, states and active-check verdicts). Round trip through
 * gpurent_gpu_report_encode; every listed device converts to a GPU record
 * or is refused with INVALID_FIELD (name or compute capability unknown). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gpurent_gpu_report r, before;
    memset(&r, 0xa5, sizeof r);
    memcpy(&before, &r, sizeof r);
    fuzz_alloc_reset();
    int rc = gpurent_gpu_report_decode(data, size, &r);
    fuzz_expect_small_allocations(size, "gpurent_gpu_report_decode");
    if (rc != GPURENT_OK) {
        fuzz_expect_clean_failure(rc, "gpurent_gpu_report_decode");
        FUZZ_ASSERT(memcmp(&r, &before, sizeof r) == 0, "gpurent_gpu_report_decode wrote its output and failed");
        return 0;
    }
    fuzz_expect_record(data, size, GPURENT_RECORD_GPU_REPORT, "gpurent_gpu_report_decode");
    FUZZ_ASSERT(gpurent_gpu_report_validate(&r) == GPURENT_OK, "decoded report does not validate");
    FUZZ_ASSERT(r.device_count <= GPURENT_GPU_REPORT_MAX_DEVICES, "device_count %u", r.device_count);
    FUZZ_ASSERT(gpurent_gpu_report_device(&r, r.device_count) == NULL, "device past the end reachable");
    for (uint32_t i = 0; i < r.device_count; i++) {
        gpurent_gpu g;
        int grc = gpurent_gpu_report_to_gpu(&r, i, &g);
        if (grc == GPURENT_OK) {
            FUZZ_ASSERT(gpurent_gpu_validate(&g) == GPURENT_OK, "device %u converts to an invalid GPU", i);
        } else {
            FUZZ_ASSERT(grc == GPURENT_E_INVALID_FIELD, "gpurent_gpu_report_to_gpu(%u): %s", i,
                        gpurent_status_name(grc));
            FUZZ_ASSERT(gpurent_last_error_message()[0] != '\0', "to_gpu failed without a detail");
        }
    }
    gpurent_buf out = {0};
    rc = gpurent_gpu_report_encode(&r, &out);
    fuzz_expect_same_bytes(rc, &out, data, size, "gpurent_gpu_report_encode");
    gpurent_buf_free(&out);
    return 0;
}
