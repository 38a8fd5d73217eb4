/* Fuzz gpurent_tier_cert_decode: a tier certificate (fixed auditor array).
 * Round trip through gpurent_tier_cert_encode. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gpurent_tier_cert c, before;
    memset(&c, 0xa5, sizeof c);
    memcpy(&before, &c, sizeof c);
    fuzz_alloc_reset();
    int rc = gpurent_tier_cert_decode(data, size, &c);
    fuzz_expect_small_allocations(size, "gpurent_tier_cert_decode");
    if (rc != GPURENT_OK) {
        fuzz_expect_clean_failure(rc, "gpurent_tier_cert_decode");
        FUZZ_ASSERT(memcmp(&c, &before, sizeof c) == 0, "gpurent_tier_cert_decode wrote its output and failed");
        return 0;
    }
    fuzz_expect_record(data, size, GPURENT_RECORD_TIER_CERT, "gpurent_tier_cert_decode");
    FUZZ_ASSERT(gpurent_tier_cert_validate(&c) == GPURENT_OK, "decoded certificate does not validate");
    FUZZ_ASSERT(c.auditor_count >= 1 && c.auditor_count <= GPURENT_TIER_CERT_MAX_AUDITORS, "auditor_count %u",
                c.auditor_count);
    FUZZ_ASSERT(c.score_ppm <= c.mean_ppm && c.mean_ppm <= 1000000u, "score %u mean %u", c.score_ppm, c.mean_ppm);
    gpurent_buf out = {0};
    rc = gpurent_tier_cert_encode(&c, &out);
    fuzz_expect_same_bytes(rc, &out, data, size, "gpurent_tier_cert_encode");
    gpurent_buf_free(&out);
    return 0;
}
