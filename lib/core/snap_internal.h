/* The snapshot container shared by every engine's snapshot (docs/wire-format.md,
 * "Snapshots"). Layout, integers little-endian:
 *
 *    0  8  magic "GPRSNAP\0"
 *    8  4  kind (GR_SNAP_*)
 *   12  4  format version of that kind
 *   16 32  digest of the engine's parameters
 *   48  8  last input sequence the state reflects (the embedder's)
 *   56  8  body length B
 *   64  B  body (the kind's own layout)
 * 64+B 32  checksum: the tree (the current version of every kind,
 *           GR_SNAP_TREE_*): BLAKE2b-256 of bytes 0..63 followed by the
 *           BLAKE2b-256 of each GR_SNAP_CHUNK bytes of the body in order
 *           (the last chunk shorter, none for an empty body); before
 *           (older versions): BLAKE2b-256 of bytes 0 .. 64+B-1
 *
 * A body is a sequence of fixed-width fields in an order the kind defines,
 * so each state has exactly one encoding. */
#ifndef GPURENT_SNAP_INTERNAL_H
#define GPURENT_SNAP_INTERNAL_H

#include <string.h>

#include "core_internal.h"

#define GR_SNAP_HEADER 64u
#define GR_SNAP_SUM 32u
enum { GR_SNAP_TIER = 1, GR_SNAP_MARKET = 2, GR_SNAP_TRUST = 3 };
/* The first version of each kind with the tree checksum. */
#define GR_SNAP_TREE_TIER 2u
#define GR_SNAP_TREE_MARKET 3u
#define GR_SNAP_TREE_TRUST 2u
/* The tree checksum's chunk (1 MiB). */
#define GR_SNAP_CHUNK ((size_t)1 << 20)

/* Largest snapshot file a *_load_file reads (16 GiB). */
#define GR_SNAP_FILE_MAX (1ull << 34)

typedef struct gr_snap_header {
    uint32_t kind, version;
    uint8_t params[32];
    uint64_t input_seq;
    uint64_t body_len;
} gr_snap_header;

/* ---- writing: begin, put fields, finish ---- */
void gr_snap_begin(gr_bytes *b, uint32_t kind, uint32_t version, const uint8_t params[32], uint64_t input_seq,
                   size_t body_hint);
/* Patch the body length, append the checksum and hand the bytes over. */
int gr_snap_finish(gr_bytes *b, gpurent_buf *out);
/* gr_snap_begin for a snapshot streamed to the file at `path` as it is
 * encoded (lib/core/snapshot.c, "streamed to a file"): a fresh temporary
 * file beside it is opened now (gr_file_temp_open, mode 0600), and `b`
 * holds only what is not yet handed on. On failure (INVALID_ARG, IO,
 * NOMEM) `b` holds nothing. `path` and `what` must outlive `b`. Follow with
 * gr_snap_finish_file, or gr_bytes_free to give up (the temporary file is
 * removed). */
int gr_snap_begin_file(gr_bytes *b, const char *path, const char *what, uint32_t kind, uint32_t version,
                       const uint8_t params[32], uint64_t input_seq, size_t body_hint);
/* Finish a snapshot into its file: for gr_snap_begin_file, the rest of the
 * body, the header's length and the checksum, then fsync and rename over
 * `path` (its `path` is the one given there); for gr_snap_begin, the whole
 * buffer through gr_file_write_atomic. `b` is freed either way. */
int gr_snap_finish_file(gr_bytes *b, const char *path, const char *what);
/* Tests only: the stream's buffer size (0: the default, two chunks and 64
 * KiB); when set, the digests also start with room for one, so they move
 * (after a drain) at 1, 2, 4, 8, ... chunks. */
extern size_t gr_snap_test_stream_buf;

static inline uint8_t *gr_put_room(gr_bytes *b, size_t n)
{
    if (n > b->cap - b->len && gr_bytes_reserve(b, n)) return NULL;
    uint8_t *p = b->data + b->len;
    b->len += n;
    return p;
}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Little-endian hosts store the low n bytes as they are (one move). */
static inline void gr_le_store(uint8_t *p, uint64_t v, unsigned n) { memcpy(p, &v, n); }
static inline uint64_t gr_le_load(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    memcpy(&v, p, n);
    return v;
}
#else
static inline void gr_le_store(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t gr_le_load(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
#endif
static inline void gr_put_uint(gr_bytes *b, uint64_t v, unsigned n)
{
    uint8_t *p = gr_put_room(b, n);
    if (p) gr_le_store(p, v, n);
}
static inline void gr_put_u8(gr_bytes *b, uint8_t v) { gr_put_uint(b, v, 1); }
static inline void gr_put_u16(gr_bytes *b, uint16_t v) { gr_put_uint(b, v, 2); }
static inline void gr_put_u32(gr_bytes *b, uint32_t v) { gr_put_uint(b, v, 4); }
static inline void gr_put_u64(gr_bytes *b, uint64_t v) { gr_put_uint(b, v, 8); }
/* More than the room left of a streamed snapshot: in pieces, so a large
 * array goes out as it is copied, never whole into the buffer. */
void gr_put_raw_stream(gr_bytes *b, const void *d, size_t n);
static inline void gr_put_raw(gr_bytes *b, const void *d, size_t n)
{
    if (b->sink && n > b->cap - b->len) {
        gr_put_raw_stream(b, d, n);
        return;
    }
    uint8_t *p = n ? gr_put_room(b, n) : NULL;
    if (p) memcpy(p, d, n);
}

/* Tests only: nonzero, the tree checksum never starts a worker thread (as
 * when pthread_create fails); the bytes must not change. */
extern int gr_snap_test_no_worker;
/* 1 when snapshots of `kind` at `version` carry the tree checksum. */
int gr_snap_is_tree(uint32_t kind, uint32_t version);
/* Compute the checksum of a whole snapshot (header, body and room for the
 * checksum, `len` bytes) into its last 32 bytes, as its header's kind and
 * version define it. For tests and fuzzers that rewrite a snapshot. */
void gr_snap_seal(uint8_t *data, size_t len);

/* ---- reading: open (header, length, checksum), get fields, done ---- */
typedef struct gr_snap_reader {
    const uint8_t *p, *end;
    int bad; /* a read ran past the body: every later read gives 0 */
} gr_snap_reader;

/* Check the container and position `r` at the body. Order: magic
 * (SNAPSHOT_CORRUPT), kind (SNAPSHOT_KIND), version above `version_max`
 * (SNAPSHOT_VERSION), length (SNAPSHOT_TRUNCATED when short, CORRUPT when
 * long), checksum (CORRUPT), then params against `expect_params` when not
 * NULL (SNAPSHOT_PARAMS). `what` names the snapshot in details. */
int gr_snap_open(const uint8_t *data, size_t len, uint32_t kind, uint32_t version_max, const uint8_t *expect_params,
                 const char *what, gr_snap_header *h, gr_snap_reader *r);

/* gr_snap_open whose checksum may still be in the works when it returns
 * OK (a tree checksum of a large body: a second thread hashes the chunks
 * while the caller decodes them; the decoder must be as careful as if
 * there were no checksum, which it is, the fuzzers see to that). Every
 * OK must be followed by gr_snap_verify_end, whatever the decoding gave,
 * and a failure there refuses the snapshot. */
typedef struct gr_snap_tree gr_snap_tree;
typedef struct gr_snap_verify {
    gr_snap_tree *tree; /* NULL: everything was checked in open */
    const uint8_t *sum;
    const char *what;
} gr_snap_verify;
int gr_snap_open_async(const uint8_t *data, size_t len, uint32_t kind, uint32_t version_max,
                       const uint8_t *expect_params, const char *what, gr_snap_header *h, gr_snap_reader *r,
                       gr_snap_verify *v);
/* Finish the checksum of gr_snap_open_async (helping with the chunks left):
 * SNAPSHOT_CORRUPT when it does not match (over `rc`), else `rc` (the
 * decoding's status). */
int gr_snap_verify_end(gr_snap_verify *v, int rc);

static inline const uint8_t *gr_get_raw(gr_snap_reader *r, size_t n)
{
    if (r->bad || n > (size_t)(r->end - r->p)) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}
static inline uint64_t gr_get_uint(gr_snap_reader *r, unsigned n)
{
    const uint8_t *p = gr_get_raw(r, n);
    return p ? gr_le_load(p, n) : 0;
}
static inline uint8_t gr_get_u8(gr_snap_reader *r) { return (uint8_t)gr_get_uint(r, 1); }
static inline uint16_t gr_get_u16(gr_snap_reader *r) { return (uint16_t)gr_get_uint(r, 2); }
static inline uint32_t gr_get_u32(gr_snap_reader *r) { return (uint32_t)gr_get_uint(r, 4); }
static inline uint64_t gr_get_u64(gr_snap_reader *r) { return gr_get_uint(r, 8); }
static inline size_t gr_get_left(const gr_snap_reader *r) { return r->bad ? 0 : (size_t)(r->end - r->p); }
/* A count of items of at least `item_bytes` each, checked against the bytes
 * that remain before anything is reserved from it; 0 and bad when above. */
static inline uint32_t gr_get_count(gr_snap_reader *r, size_t item_bytes)
{
    uint32_t n = gr_get_u32(r);
    if (item_bytes && n > gr_get_left(r) / item_bytes) {
        r->bad = 1;
        return 0;
    }
    return n;
}
/* SNAPSHOT_CORRUPT when a read ran past the body or bytes remain. */
int gr_snap_done(const gr_snap_reader *r, const char *what);

/* 1 on little-endian hosts, where arrays of fixed-width integers are
 * copied as they are. */
static inline int gr_host_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

#endif
