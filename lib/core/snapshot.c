/* The snapshot container: header, body length and BLAKE2b checksum
 * (snap_internal.h gives the layout, docs/wire-format.md the rules). */
#include <sodium.h>
#include <string.h>

#include "snap_internal.h"

static const uint8_t magic[8] = {'G', 'P', 'R', 'S', 'N', 'A', 'P', 0};

void gr_snap_begin(gr_bytes *b, uint32_t kind, uint32_t version, const uint8_t params[32], uint64_t input_seq,
                   size_t body_hint)
{
    gr_bytes_init(b);
    if (body_hint < SIZE_MAX - GR_SNAP_HEADER - GR_SNAP_SUM &&
        gr_bytes_reserve(b, GR_SNAP_HEADER + body_hint + GR_SNAP_SUM) == GPURENT_OK)
        gr_mem_large(b->data, b->cap);
    gr_put_raw(b, magic, sizeof magic);
    gr_put_u32(b, kind);
    gr_put_u32(b, version);
    gr_put_raw(b, params, 32);
    gr_put_u64(b, input_seq);
    gr_put_u64(b, 0); /* body length, patched by gr_snap_finish */
}

static void checksum(const uint8_t *data, size_t len, uint8_t *sum)
{
    crypto_generichash(sum, GR_SNAP_SUM, data, len, NULL, 0);
}

/* Patch the body length and make room for the checksum: 0, or the failure. */
static int seal(gr_bytes *b)
{
    if (b->failed || b->len < GR_SNAP_HEADER) return GPURENT_E_NOMEM;
    gr_le_store(b->data + 56, b->len - GR_SNAP_HEADER, 8);
    return gr_put_room(b, GR_SNAP_SUM) ? GPURENT_OK : GPURENT_E_NOMEM;
}

int gr_snap_finish(gr_bytes *b, gpurent_buf *out)
{
    if (seal(b) == GPURENT_OK) checksum(b->data, b->len - GR_SNAP_SUM, b->data + b->len - GR_SNAP_SUM);
    return gr_bytes_finish(b, out);
}

int gr_snap_finish_file(gr_bytes *b, const char *path, const char *what)
{
    int rc = seal(b);
    if (rc) {
        gr_bytes_free(b);
        return gr_fail(rc, "%s: out of memory while encoding", what);
    }
    rc = gr_file_write_atomic_tail(path, b->data, b->len, GR_SNAP_SUM, checksum, 1, what);
    gr_bytes_free(b);
    return rc;
}

int gr_snap_open(const uint8_t *data, size_t len, uint32_t kind, uint32_t version_max, const uint8_t *expect_params,
                 const char *what, gr_snap_header *h, gr_snap_reader *r)
{
    int rc = gr_ensure_init();
    if (rc) return rc;
    if (len < 16)
        return gr_fail(len && memcmp(data, magic, len < 8 ? len : 8) == 0 ? GPURENT_E_SNAPSHOT_TRUNCATED
                                                                          : GPURENT_E_SNAPSHOT_CORRUPT,
                       "%s: %zu bytes, shorter than a snapshot header", what, len);
    if (memcmp(data, magic, 8) != 0) return gr_fail(GPURENT_E_SNAPSHOT_CORRUPT, "%s: not a libgpurent snapshot", what);
    h->kind = (uint32_t)gr_le_load(data + 8, 4);
    h->version = (uint32_t)gr_le_load(data + 12, 4);
    if (h->kind != kind)
        return gr_fail(GPURENT_E_SNAPSHOT_KIND, "%s: snapshot of kind %u, expected %u", what, h->kind, kind);
    if (h->version > version_max || h->version == 0)
        return gr_fail(h->version ? GPURENT_E_SNAPSHOT_VERSION : GPURENT_E_SNAPSHOT_CORRUPT,
                       "%s: format version %u, this library reads 1..%u", what, h->version, version_max);
    if (len < GR_SNAP_HEADER + GR_SNAP_SUM)
        return gr_fail(GPURENT_E_SNAPSHOT_TRUNCATED, "%s: %zu bytes, shorter than header and checksum", what, len);
    h->body_len = gr_le_load(data + 56, 8);
    uint64_t want = len - GR_SNAP_HEADER - GR_SNAP_SUM;
    if (h->body_len > want)
        return gr_fail(GPURENT_E_SNAPSHOT_TRUNCATED, "%s: %zu bytes, the header says %llu", what, len,
                       (unsigned long long)h->body_len + GR_SNAP_HEADER + GR_SNAP_SUM);
    if (h->body_len < want)
        return gr_fail(GPURENT_E_SNAPSHOT_CORRUPT, "%s: %llu bytes after the checksum", what,
                       (unsigned long long)(want - h->body_len));
    uint8_t sum[GR_SNAP_SUM];
    crypto_generichash(sum, sizeof sum, data, len - GR_SNAP_SUM, NULL, 0);
    if (sodium_memcmp(sum, data + len - GR_SNAP_SUM, GR_SNAP_SUM) != 0)
        return gr_fail(GPURENT_E_SNAPSHOT_CORRUPT, "%s: checksum does not match (damaged)", what);
    memcpy(h->params, data + 16, 32);
    h->input_seq = gr_le_load(data + 48, 8);
    if (expect_params && sodium_memcmp(expect_params, h->params, 32) != 0)
        return gr_fail(GPURENT_E_SNAPSHOT_PARAMS, "%s: taken with other parameters (params digest differs)", what);
    r->p = data + GR_SNAP_HEADER;
    r->end = r->p + h->body_len;
    r->bad = 0;
    return GPURENT_OK;
}

int gr_snap_done(const gr_snap_reader *r, const char *what)
{
    if (r->bad) return gr_fail(GPURENT_E_SNAPSHOT_CORRUPT, "%s: body ends inside a field", what);
    if (r->p != r->end)
        return gr_fail(GPURENT_E_SNAPSHOT_CORRUPT, "%s: %zu bytes after the last field", what, (size_t)(r->end - r->p));
    return GPURENT_OK;
}
