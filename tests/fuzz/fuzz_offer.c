/* Fuzz gpurent_offer_decode: untrusted provider offers (variable node arrays). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gpurent_offer o, before;
    gpurent_offer_init(&o);
    memcpy(&before, &o, sizeof o);
    fuzz_alloc_reset();
    int rc = gpurent_offer_decode(data, size, &o);
    fuzz_expect_small_allocations(size, "gpurent_offer_decode");
    if (rc != GPURENT_OK) {
        fuzz_expect_clean_failure(rc, "gpurent_offer_decode");
        FUZZ_ASSERT(memcmp(&o, &before, sizeof o) == 0, "gpurent_offer_decode wrote its output and failed");
        return 0;
    }
    fuzz_expect_record(data, size, GPURENT_RECORD_OFFER, "gpurent_offer_decode");
    FUZZ_ASSERT(o.node_count >= 1 && o.node_count <= GPURENT_OFFER_MAX_NODES, "node_count %u", o.node_count);
    FUZZ_ASSERT(gpurent_offer_node(&o, o.node_count - 1) != NULL, "last node not reachable");
    FUZZ_ASSERT(gpurent_offer_node(&o, o.node_count) == NULL, "node past the end reachable");
    FUZZ_ASSERT(gpurent_offer_validate(&o) == GPURENT_OK, "decoded offer does not validate");
    gpurent_buf out = {0};
    rc = gpurent_offer_encode(&o, &out);
    fuzz_expect_same_bytes(rc, &out, data, size, "gpurent_offer_encode");
    gpurent_buf_free(&out);
    gpurent_offer_clear(&o);
    return 0;
}
