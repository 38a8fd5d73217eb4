/* Fuzz gpurent_wire_check_canonical and gpurent_wire_record_type: the checks
 * every signed payload passes before anything trusts it.
 *
 * Differential oracle: msgpack-c (an implementation that is not ours) must
 * parse every value we call canonical as exactly one object spanning the
 * input, and its packer, which always writes the shortest forms, must
 * reproduce the input byte for byte. */
#include <msgpack.h>

#include "fuzz_common.h"

static void expect_msgpack_c_agrees(const uint8_t *data, size_t size)
{
    msgpack_unpacked u;
    size_t off = 0;
    msgpack_unpacked_init(&u);
    msgpack_unpack_return ur = msgpack_unpack_next(&u, (const char *)data, size, &off);
    FUZZ_ASSERT(ur == MSGPACK_UNPACK_SUCCESS, "msgpack-c cannot parse a canonical value (%d)", (int)ur);
    FUZZ_ASSERT(off == size, "msgpack-c parsed %zu of %zu bytes of a canonical value", off, size);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    FUZZ_ASSERT(msgpack_pack_object(&pk, u.data) == 0, "msgpack-c cannot re-pack a canonical value");
    FUZZ_ASSERT(sb.size == size && memcmp(sb.data, data, size) == 0,
                "msgpack-c re-packs a canonical value differently (%zu vs %zu bytes)", sb.size, size);
    msgpack_sbuffer_destroy(&sb);
    msgpack_unpacked_destroy(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_alloc_reset();
    int canon = gpurent_wire_check_canonical(data, size);
    /* Checking allocates nothing at all. */
    FUZZ_ASSERT(gr_alloc_largest(1) == 0, "gpurent_wire_check_canonical allocated");
    if (canon != GPURENT_OK) fuzz_expect_clean_failure(canon, "gpurent_wire_check_canonical");
    else expect_msgpack_c_agrees(data, size);

    uint32_t type = 0xdeadbeef;
    int rc = gpurent_wire_record_type(data, size, &type);
    if (rc != GPURENT_OK) {
        fuzz_expect_clean_failure(rc, "gpurent_wire_record_type");
        FUZZ_ASSERT(type == 0xdeadbeef, "gpurent_wire_record_type wrote its output and failed");
        /* Non-canonical bytes fail with the same status either way. */
        FUZZ_ASSERT(canon == GPURENT_OK || rc == canon, "record_type %d, check_canonical %d", rc, canon);
        return 0;
    }
    FUZZ_ASSERT(canon == GPURENT_OK, "gpurent_wire_record_type accepted non-canonical bytes");
    /* A record is a map whose first key is 0. */
    FUZZ_ASSERT(size >= 3, "a %zu-byte record", size);
    FUZZ_ASSERT((data[0] & 0xf0) == 0x80 || data[0] == 0xde || data[0] == 0xdf, "record is not a map");
    FUZZ_ASSERT(gpurent_record_type_name(type) != NULL, "no name for type %u", type);
    return 0;
}
