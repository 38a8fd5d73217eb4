/* Fuzz gpurent_request_decode: untrusted deployment requests (set-valued lists). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* gpurent_request is large (~1.5 KiB); static keeps the stack small. */
    static gpurent_request q, before;
    memset(&q, 0xa5, sizeof q);
    memcpy(&before, &q, sizeof q);
    fuzz_alloc_reset();
    int rc = gpurent_request_decode(data, size, &q);
    fuzz_expect_small_allocations(size, "gpurent_request_decode");
    if (rc != GPURENT_OK) {
        fuzz_expect_clean_failure(rc, "gpurent_request_decode");
        FUZZ_ASSERT(memcmp(&q, &before, sizeof q) == 0, "gpurent_request_decode wrote its output and failed");
        return 0;
    }
    fuzz_expect_record(data, size, GPURENT_RECORD_REQUEST, "gpurent_request_decode");
    FUZZ_ASSERT(gpurent_request_validate(&q) == GPURENT_OK, "decoded request does not validate");
    gpurent_buf out = {0};
    rc = gpurent_request_encode(&q, &out);
    fuzz_expect_same_bytes(rc, &out, data, size, "gpurent_request_encode");
    gpurent_buf_free(&out);
    return 0;
}
