/* Fuzz gpurent_gpu_decode: untrusted GPU records. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gpurent_gpu g, before;
    memset(&g, 0xa5, sizeof g);
    memcpy(&before, &g, sizeof g);
    fuzz_alloc_reset();
    int rc = gpurent_gpu_decode(data, size, &g);
    fuzz_expect_small_allocations(size, "gpurent_gpu_decode");
    if (rc != GPURENT_OK) {
        fuzz_expect_clean_failure(rc, "gpurent_gpu_decode");
        FUZZ_ASSERT(memcmp(&g, &before, sizeof g) == 0, "gpurent_gpu_decode wrote its output and failed");
        return 0;
    }
    fuzz_expect_record(data, size, GPURENT_RECORD_GPU, "gpurent_gpu_decode");
    FUZZ_ASSERT(gpurent_gpu_validate(&g) == GPURENT_OK, "decoded GPU does not validate");
    gpurent_buf out = {0};
    rc = gpurent_gpu_encode(&g, &out);
    fuzz_expect_same_bytes(rc, &out, data, size, "gpurent_gpu_encode");
    gpurent_buf_free(&out);
    return 0;
}
