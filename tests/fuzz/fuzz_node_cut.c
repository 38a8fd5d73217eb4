/* Fuzz the cut statement codec of the network nodes (bindings/cli/node_cut.c,
 * docs/net.md "Cut statements"): untrusted payload bytes -> node_cut.
 *
 * Oracles: whatever decodes is exactly the canonical encoding of what it
 * decoded to (re-encoding gives the same bytes), the library's canonical
 * checker accepts it and reads its type as 4096. */
#include "node.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    node_cut c;
    if (node_cut_decode(data, size, &c) != 0) return 0;
    gpurent_buf b = {0};
    FUZZ_ASSERT(node_cut_encode(&c, &b) == 0, "a decoded cut does not encode");
    FUZZ_ASSERT(b.len == size && memcmp(b.data, data, size) == 0, "decode accepted a non-canonical cut");
    uint32_t type = 0;
    FUZZ_ASSERT(gpurent_wire_check_canonical(data, size) == GPURENT_OK, "the library finds the cut non-canonical");
    FUZZ_ASSERT(gpurent_wire_record_type(data, size, &type) == GPURENT_OK && type == NODE_STATEMENT_CUT,
                "cut type %u", type);
    free(b.data);
    return 0;
}
