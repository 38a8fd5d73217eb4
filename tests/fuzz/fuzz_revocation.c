/* Fuzz gpurent_revocation_decode: the payload of a signed revocation.
 * Round trip through gpurent_revocation_encode. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gpurent_revocation r, before;
    memset(&r, 0xa5, sizeof r);
    memcpy(&before, &r, sizeof r);
    fuzz_alloc_reset();
    int rc = gpurent_revocation_decode(data, size, &r);
    fuzz_expect_small_allocations(size, "gpurent_revocation_decode");
    if (rc != GPURENT_OK) {
        fuzz_expect_clean_failure(rc, "gpurent_revocation_decode");
        FUZZ_ASSERT(memcmp(&r, &before, sizeof r) == 0, "gpurent_revocation_decode wrote its output and failed");
        return 0;
    }
    fuzz_expect_record(data, size, GPURENT_RECORD_REVOCATION, "gpurent_revocation_decode");
    FUZZ_ASSERT(gpurent_revocation_validate(&r) == GPURENT_OK, "decoded revocation does not validate");
    gpurent_buf out = {0};
    rc = gpurent_revocation_encode(&r, &out);
    fuzz_expect_same_bytes(rc, &out, data, size, "gpurent_revocation_encode");
    gpurent_buf_free(&out);
    return 0;
}
