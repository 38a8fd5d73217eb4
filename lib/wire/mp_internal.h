/* Canonical MessagePack primitives shared by every record codec.
 *
 * Writing goes through msgpack-c's packer, which always picks the shortest
 * form. Reading is a bounds-checked cursor over the raw bytes: msgpack-c's
 * unpacker cannot tell a canonical integer from a padded one and reserves
 * memory from declared counts, so canonicity and bounds are checked here,
 * on the bytes, before anything is trusted or allocated. */
#ifndef GPURENT_MP_INTERNAL_H
#define GPURENT_MP_INTERNAL_H

#include <msgpack.h>

#include "../core/core_internal.h"
#include "gpurent/wire.h"

/* ---- writer ---- */
typedef struct gr_writer {
    gr_bytes out;
    msgpack_packer pk;
} gr_writer;

void gr_wr_init(gr_writer *w);
/* A writer that appends to the bytes of `b` (which it takes over until
 * gr_wr_give_back hands them back, grown). */
void gr_wr_init_on(gr_writer *w, gr_bytes *b);
void gr_wr_give_back(gr_writer *w, gr_bytes *b);
/* gpurent_request_encode appended to `b` (a snapshot holds many records
 * end to end): the same checks and bytes; on failure `b` is unchanged
 * unless it ran out of memory (b->failed). */
int gr_request_encode_into(const gpurent_request *req, gr_bytes *b);
/* The same bytes for a request that already passed its checks (as
 * gr_request_get_fixed's do): only NOMEM can fail. */
int gr_request_write_valid_into(const gpurent_request *req, gr_bytes *b);
/* The snapshot form of a request (market snapshots from version 4,
 * docs/wire-format.md): its scalars fixed-width little-endian in key order
 * (the id as LE8 length and bytes), each list as LE8 count and its items in
 * canonical order (names as LE8 length and bytes, keys as 32 bytes), the
 * framework as LE8 length (0: none) and bytes. put takes a request that
 * passed its checks (a market's own, checked when it came; the loader checks
 * each again): only NOMEM can fail (in b->failed). get reads one into *q
 * (every field set; list slots past a count untouched), leaves r->bad set
 * (and returns OK) when the bytes end inside it, and otherwise returns the
 * request checks' status, lists required sorted and unique, so that each
 * request has exactly one form. */
struct gr_snap_reader;
int gr_request_put_fixed(const gpurent_request *req, gr_bytes *b);
int gr_request_get_fixed(struct gr_snap_reader *r, gpurent_request *q);
void gr_wr_map(gr_writer *w, uint32_t n);
void gr_wr_array(gr_writer *w, uint32_t n);
/* The shortest form of an unsigned integer (positive fixint, then uint 8,
 * 16, 32, 64, big-endian), as msgpack_pack_uint64 writes it, without its
 * dispatch: records are mostly integers (tests/test_wire.c compares the two
 * over every length boundary). */
static inline void gr_wr_uint(gr_writer *w, uint64_t v)
{
    gr_bytes *b = &w->out;
    if (!(b->data && !b->failed && 9 <= b->cap - b->len) && gr_bytes_reserve(b, 9)) return;
    uint8_t *p = b->data + b->len;
    if (v < 0x80) {
        p[0] = (uint8_t)v;
        b->len += 1;
        return;
    }
    unsigned bytes = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
    p[0] = bytes == 1 ? 0xcc : bytes == 2 ? 0xcd : bytes == 4 ? 0xce : 0xcf;
    for (unsigned i = 0; i < bytes; i++) p[1 + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    b->len += 1 + bytes;
}
void gr_wr_int(gr_writer *w, int64_t v);
void gr_wr_str(gr_writer *w, const char *s, size_t len);
void gr_wr_cstr(gr_writer *w, const char *s);
void gr_wr_bin(gr_writer *w, const uint8_t *b, size_t len);
void gr_wr_raw(gr_writer *w, const uint8_t *b, size_t len); /* pre-encoded value */
/* Hand the bytes to the caller (or free them and fail with NOMEM). */
int gr_wr_finish(gr_writer *w, gpurent_buf *out);
void gr_wr_abort(gr_writer *w);

/* ---- reader ---- */
#define GR_MAX_DEPTH 16

typedef struct gr_reader {
    const uint8_t *p;
    const uint8_t *end;
    const char *what; /* record or field path for error messages */
} gr_reader;

void gr_rd_init(gr_reader *r, const uint8_t *data, size_t len, const char *what);
size_t gr_rd_left(const gr_reader *r);
int gr_rd_map(gr_reader *r, uint32_t *count);
int gr_rd_array(gr_reader *r, uint32_t *count);
int gr_rd_uint(gr_reader *r, uint64_t *v);
int gr_rd_int(gr_reader *r, int64_t *v);
/* A string: valid UTF-8 without NUL, at most max_len bytes. Not copied. */
int gr_rd_str(gr_reader *r, const char **s, uint32_t *len, uint32_t max_len);
int gr_rd_bin(gr_reader *r, const uint8_t **b, uint32_t *len, uint32_t max_len);
/* Skip (and fully validate) one canonical value of any type. */
int gr_rd_skip(gr_reader *r, int depth);
/* Fails with NONCANONICAL when bytes remain. */
int gr_rd_end(const gr_reader *r);

/* Append "(field 'name')" to the thread's last failure and return status. */
int gr_annotate(int status, const char *field);

/* Bytes an envelope may add to its payload: subject, header fields and
 * GPURENT_ENVELOPE_MAX_SIGS signature entries (about 3.6 KiB at most). */
#define GR_ENVELOPE_OVERHEAD_MAX 4096u

/* Refuse input above GPURENT_RECORD_MAX_BYTES (an envelope: plus
 * GR_ENVELOPE_OVERHEAD_MAX), check the whole input is one canonical value,
 * then read the record header map: exactly `fields` entries, key 0 holding
 * the record type; on success the next read is key 1. */
int gr_rd_record(gr_reader *r, uint32_t fields, uint64_t type);
/* The same for a record with optional fields: min_fields..max_fields
 * entries, the count read into *fields. */
int gr_rd_record_var(gr_reader *r, uint32_t min_fields, uint32_t max_fields, uint64_t type, uint32_t *fields);
/* Read a field key; it must equal `key` (keys ascend by one from 0). */
int gr_rd_key(gr_reader *r, uint64_t key, const char *name);

/* Typed field readers: read the key, then the value, then check bounds. */
int gr_rd_field_u64(gr_reader *r, uint64_t key, const char *name, uint64_t max, uint64_t *v);
int gr_rd_field_u32(gr_reader *r, uint64_t key, const char *name, uint32_t max, uint32_t *v);
/* A string into a fixed char array of `cap` bytes (NUL-terminated). */
int gr_rd_field_str(gr_reader *r, uint64_t key, const char *name, char *dst, size_t cap,
                    int allow_empty);
/* A bin of exactly `len` bytes. */
int gr_rd_field_bin(gr_reader *r, uint64_t key, const char *name, uint8_t *dst, size_t len);

/* UTF-8 check (no overlongs, no surrogates, <= U+10FFFF, no NUL). */
int gr_utf8_valid(const uint8_t *s, size_t len);

/* Write "<a>[<i>]<b>" into dst (always NUL-terminated, cut at cap): the
 * field path that error details name, e.g. "offer.nodes[3].gpu". Decoders
 * build one per list item, so this avoids snprintf's cost. `b` may be "". */
void gr_path(char *dst, size_t cap, const char *a, uint32_t i, const char *b);

/* ---- table-driven fields ----
 * Most record fields are scalars or fixed arrays at an offset in a struct;
 * one table per record drives the encoder, the decoder and range checks, so
 * the three cannot disagree. */
enum { GR_U32, GR_U64, GR_STR, GR_STR_OPT, GR_BIN };

typedef struct gr_field {
    uint8_t key;
    uint8_t kind;
    uint16_t offset;
    uint32_t size;  /* GR_STR*: char array size; GR_BIN: byte count */
    uint64_t max;   /* GR_U32/GR_U64: largest allowed value */
    const char *name;
} gr_field;

#define GR_FIELD(key, kind, type, member, max) \
    {key, kind, (uint16_t)offsetof(type, member), (uint32_t)sizeof(((type *)0)->member), max, #member}

/* Range and UTF-8 checks of the table's fields; `what` prefixes messages. */
int gr_fields_validate(const void *base, const gr_field *f, size_t n, const char *what);
void gr_wr_fields(gr_writer *w, const void *base, const gr_field *f, size_t n);
int gr_rd_fields(gr_reader *r, void *base, const gr_field *f, size_t n);

/* Optional fields (integers only): keys added to a record after its first
 * release, each written only when its value is not 0, so records that do
 * not use them keep their old bytes and old readers keep reading them.
 * They follow the record's fixed fields, keys ascending; a decoder refuses
 * an optional key written with 0 (NONCANONICAL: it has a shorter form) and
 * a key the table does not hold (INVALID_FIELD). */
uint32_t gr_opt_count(const void *base, const gr_field *f, size_t n);
void gr_wr_opt_fields(gr_writer *w, const void *base, const gr_field *f, size_t n);
/* Read `entries` optional fields (the map's count less its fixed fields). */
int gr_rd_opt_fields(gr_reader *r, void *base, const gr_field *f, size_t n, uint32_t entries);

/* Validate a C string field held in a fixed array. */
int gr_check_cstr(const char *s, size_t cap, int allow_empty, const char *what, const char *name);

/* The GPU map shared by the GPU record and nodes: fields 1..21, then the
 * optional PCI ids 22..25 (GR_GPU_OPT_FIELDS, present when not 0). */
#define GR_GPU_FIELDS 21
#define GR_GPU_OPT_FIELDS 4
int gr_gpu_check(const gpurent_gpu *g, const char *what);
/* Entries of the GPU map (without key 0): 21 plus the optional ones used. */
uint32_t gr_gpu_map_size(const gpurent_gpu *g);
void gr_wr_gpu_fields(gr_writer *w, const gpurent_gpu *g);
/* Read a GPU map of `entries` entries (after its map header). */
int gr_rd_gpu_fields(gr_reader *r, gpurent_gpu *g, uint32_t entries);
/* The PCI id rules shared with the GPU report's devices: each <= 0xffff,
 * vendor not 0xffff, and all four 0 when the vendor is 0. */
int gr_pci_ids_check(uint32_t vendor, uint32_t device, uint32_t sub_vendor, uint32_t sub_device, const char *what);

#endif
