/* Fuzz gpurent_match_receipt_decode: a matcher's receipt (owned arrays of
 * assignments and their placements, sorted, with a checked total). Decoded
 * into an initialised receipt, cleared on every path; round trip through
 * the encoder; the digest is the BLAKE2b of exactly these bytes' record. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gpurent_match_receipt r, before;
    gpurent_match_receipt_init(&r);
    memcpy(&before, &r, sizeof r);
    fuzz_alloc_reset();
    int rc = gpurent_match_receipt_decode(data, size, &r);
    fuzz_expect_small_allocations(size, "gpurent_match_receipt_decode");
    if (rc != GPURENT_OK) {
        fuzz_expect_clean_failure(rc, "gpurent_match_receipt_decode");
        FUZZ_ASSERT(memcmp(&r, &before, sizeof r) == 0, "gpurent_match_receipt_decode wrote its output and failed");
        return 0;
    }
    fuzz_expect_record(data, size, GPURENT_RECORD_MATCH_RECEIPT, "gpurent_match_receipt_decode");
    FUZZ_ASSERT(gpurent_match_receipt_validate(&r) == GPURENT_OK, "decoded receipt does not validate");
    uint64_t placements = 0, total = 0;
    for (uint32_t i = 0; i < r.assignment_count; i++) {
        const gpurent_match_assignment *a = gpurent_match_receipt_assignment(&r, i);
        FUZZ_ASSERT(a != NULL, "assignment %u not reachable", i);
        FUZZ_ASSERT(a->first_placement == placements, "assignment %u starts at %u, expected %llu", i,
                    a->first_placement, (unsigned long long)placements);
        placements += a->placement_count;
        total += a->value;
    }
    FUZZ_ASSERT(placements == r.placement_count, "placements %llu, receipt says %u", (unsigned long long)placements,
                r.placement_count);
    FUZZ_ASSERT(total == r.total_value, "values sum to %llu, total_value %llu", (unsigned long long)total,
                (unsigned long long)r.total_value);
    FUZZ_ASSERT(gpurent_match_receipt_assignment(&r, r.assignment_count) == NULL, "assignment past the end");
    FUZZ_ASSERT(gpurent_match_receipt_placement(&r, r.placement_count) == NULL, "placement past the end");
    gpurent_buf out = {0};
    rc = gpurent_match_receipt_encode(&r, &out);
    fuzz_expect_same_bytes(rc, &out, data, size, "gpurent_match_receipt_encode");
    gpurent_buf_free(&out);
    gpurent_match_receipt_clear(&r);
    return 0;
}
