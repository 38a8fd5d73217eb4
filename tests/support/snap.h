/* Rewriting snapshots in tests: patching a header and sealing it again.
 *
 * Header-only (the .c files of tests/support are linked into the
 * benchmarks too, which have no cmocka): include it after <cmocka.h>. The checksums here are
 * computed independently of lib/core/snapshot.c from the layout in
 * docs/wire-format.md ("Snapshots"), so a test of a loader does not check
 * the library against itself; snap_reseal() is the exception, for tests
 * that change contents and only need a checksum that holds. */
#ifndef GPURENT_TEST_SNAP_H
#define GPURENT_TEST_SNAP_H

#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "gpurent.h"
#include "core/snap_internal.h"

#ifndef assert_int_equal
#error "include <cmocka.h> before support/snap.h"
#endif

/* The checksum redone for the header's kind and version (the tree for the
 * current versions), by the library (gr_snap_seal). */
static inline void snap_reseal(gpurent_buf *b) { gr_snap_seal(b->data, b->len); }

/* The tree checksum of a whole snapshot (`len` bytes with room for its
 * checksum) into `out`: BLAKE2b-256 of the 64 header bytes and of each
 * 1 MiB body chunk's BLAKE2b-256, in order. */
static inline void snap_tree_sum(const uint8_t *d, size_t len, uint8_t out[32])
{
    size_t body = len - 64 - 32;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, d, 64);
    for (size_t off = 0; off < body; off += (size_t)1 << 20) {
        size_t n = body - off < ((size_t)1 << 20) ? body - off : ((size_t)1 << 20);
        uint8_t c[32];
        crypto_generichash(c, 32, d + 64 + off, n, NULL, 0);
        crypto_generichash_update(&st, c, 32);
    }
    crypto_generichash_final(&st, out, 32);
}

/* The whole-file checksum of the versions before the tree (BLAKE2b-256 of
 * everything before the checksum) into the last 32 bytes, whatever version
 * the header names. */
static inline void snap_seal_whole(uint8_t *d, size_t len)
{
    crypto_generichash(d + len - 32, 32, d, len - 32, NULL, 0);
}

/* The tree checksum into the last 32 bytes, whatever version the header
 * names. */
static inline void snap_seal_tree(uint8_t *d, size_t len) { snap_tree_sum(d, len, d + len - 32); }

/* The header's format version (byte 12; every version so far fits in it)
 * set to `version`, sealed with the whole-file checksum: a snapshot as a
 * version before the tree wrote it. */
static inline void snap_as_old_version(uint8_t *d, size_t len, uint8_t version)
{
    d[12] = version;
    snap_seal_whole(d, len);
}

/* The end of a refused load, whichever the loader: status `rc` is `want`,
 * nothing came out (`loaded` NULL) and the input sequence is untouched (the
 * caller set it to 99); the detail holds `detail` unless that is NULL. */
static inline void snap_refused(int rc, int want, const void *loaded, uint64_t seq, const char *detail)
{
    if (rc != want)
        fail_msg("want %s, got %s (%s)", gpurent_status_name(want), gpurent_status_name(rc),
                 gpurent_last_error_message());
    assert_null(loaded);
    assert_int_equal(seq, 99);
    if (detail && !strstr(gpurent_last_error_message(), detail))
        fail_msg("detail '%s' lacks '%s'", gpurent_last_error_message(), detail);
}

/* The stream's buffer (the default, under the header and a record, a few
 * KiB, around a chunk) and worker (or none) for the save numbered `seq`:
 * set before a *_save_file, snap_stream_default after. */
static inline void snap_stream_pick(uint64_t seq)
{
    const size_t bufs[] = {0, 97, 5000, GR_SNAP_CHUNK / 3, GR_SNAP_CHUNK + 64};
    gr_snap_test_stream_buf = bufs[seq % 5];
    gr_snap_test_no_worker = (int)(seq / 5 % 2);
}
static inline void snap_stream_default(void)
{
    gr_snap_test_stream_buf = 0;
    gr_snap_test_no_worker = 0;
}

/* The save `rc` succeeded and the file at `path` holds `want`. */
static inline void snap_file_holds(int rc, const char *path, const gpurent_buf *want)
{
    if (rc) fail_msg("save_file: %s (%s)", gpurent_status_name(rc), gpurent_last_error_message());
    gpurent_buf f = {0};
    assert_int_equal(gr_file_read(path, (size_t)1 << 30, &f, "test"), GPURENT_OK);
    if (f.len != want->len || memcmp(f.data, want->data, want->len) != 0)
        fail_msg("the streamed file and the snapshot in memory differ (%zu and %zu bytes)", f.len, want->len);
    gpurent_buf_free(&f);
}

/* `save(obj, seq, path)` (gpurent_tier_save_file, gpurent_market_save_file)
 * streamed through the buffer and worker snap_stream_pick(seq) gives: the
 * file at `path` holds `want`. */
#define SNAP_SAVE_FILE_SAME(save, obj, seq, path, want)                                                      \
    do {                                                                                                     \
        snap_stream_pick(seq);                                                                               \
        int snap_rc_ = save((obj), (seq), (path));                                                           \
        snap_stream_default();                                                                               \
        snap_file_holds(snap_rc_, (path), (want));                                                           \
    } while (0)

#endif
