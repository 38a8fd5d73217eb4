/* The snapshot container: header, body length and BLAKE2b checksum
 * (snap_internal.h gives the layout, docs/wire-format.md the rules).
 *
 * The tree checksum (the current version of every kind) is BLAKE2b-256 of
 * the header and of the BLAKE2b-256 digests of the body's 1 MiB chunks, so
 * the chunks can be hashed on two threads: a worker claims chunks in turn
 * while the calling thread writes the file (save) or decodes the body
 * (load), then helps with what is left. Every chunk's digest lands in its
 * own slot and the root is computed once all are in, so the bytes are the
 * same whatever thread hashed which chunk, and with no worker at all (a
 * failed pthread_create, or no memory for the digests: one thread then
 * folds the chunk digests into the root as it goes). */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#include "snap_internal.h"

static const uint8_t magic[8] = {'G', 'P', 'R', 'S', 'N', 'A', 'P', 0};

int gr_snap_test_no_worker;

/* The first version of each kind whose checksum is the tree (0: none). */
static uint32_t tree_from(uint32_t kind)
{
    switch (kind) {
    case GR_SNAP_TIER: return GR_SNAP_TREE_TIER;
    case GR_SNAP_MARKET: return GR_SNAP_TREE_MARKET;
    case GR_SNAP_TRUST: return GR_SNAP_TREE_TRUST;
    default: return 0;
    }
}

int gr_snap_is_tree(uint32_t kind, uint32_t version)
{
    uint32_t t = tree_from(kind);
    return t && version >= t;
}

/* ---- the tree: chunk digests on up to two threads, then the root ---- */

/* Below this many chunks no worker is started (the start costs more than
 * hashing a chunk). */
#define TREE_MIN_PARALLEL 3u

struct gr_snap_tree {
    const uint8_t *hdr, *body;
    size_t body_len, n;
    uint8_t *dig; /* n digests; NULL: one thread, folded into the root as it goes */
    atomic_size_t next;
    pthread_t th;
    int started, done;
};

static size_t chunk_count(size_t body_len) { return body_len / GR_SNAP_CHUNK + (body_len % GR_SNAP_CHUNK != 0); }

static void chunk_digest(const gr_snap_tree *t, size_t i, uint8_t *out)
{
    size_t off = i * GR_SNAP_CHUNK, n = t->body_len - off < GR_SNAP_CHUNK ? t->body_len - off : GR_SNAP_CHUNK;
    crypto_generichash(out, 32, t->body + off, n, NULL, 0);
}

/* Claim and hash chunks until none is left. */
static void tree_work(gr_snap_tree *t)
{
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&t->next, 1, memory_order_relaxed);
        if (i >= t->n) return;
        chunk_digest(t, i, t->dig + 32 * i);
    }
}

static void *tree_worker(void *arg)
{
    tree_work(arg);
    return NULL;
}

/* Start hashing the chunks of `body` (the header at `hdr` joins them in
 * the root, so its bytes must be final by tree_end): a worker thread when
 * there are enough chunks and it starts, else nothing yet. */
static void tree_begin(gr_snap_tree *t, const uint8_t *hdr, const uint8_t *body, size_t body_len)
{
    t->hdr = hdr;
    t->body = body;
    t->body_len = body_len;
    t->n = chunk_count(body_len);
    t->dig = NULL;
    t->started = t->done = 0;
    atomic_init(&t->next, 0);
    if (t->n < TREE_MIN_PARALLEL) return;
    t->dig = gr_malloc(t->n * 32); /* at most 16384 x 32 bytes (GR_SNAP_FILE_MAX) */
    if (t->dig && !gr_snap_test_no_worker) t->started = pthread_create(&t->th, NULL, tree_worker, t) == 0;
}

/* Help with the chunks left, wait for the worker, and compute the root
 * into `sum` (NULL: only wait, nothing computed). Idempotent. */
static void tree_end(gr_snap_tree *t, uint8_t *sum)
{
    if (t->done) return;
    crypto_generichash_state st;
    if (sum) {
        crypto_generichash_init(&st, NULL, 0, 32);
        crypto_generichash_update(&st, t->hdr, GR_SNAP_HEADER);
    }
    if (t->dig) {
        if (sum) tree_work(t);
        else atomic_store(&t->next, t->n); /* nothing more is claimed */
        if (t->started) pthread_join(t->th, NULL);
        if (sum) crypto_generichash_update(&st, t->dig, t->n * 32);
        gr_free(t->dig);
        t->dig = NULL;
    } else if (sum) {
        uint8_t d[32];
        for (size_t i = 0; i < t->n; i++) {
            chunk_digest(t, i, d);
            crypto_generichash_update(&st, d, 32);
        }
    }
    if (sum) crypto_generichash_final(&st, sum, 32);
    t->done = 1;
}

/* The checksum of the `len` bytes at `data` (header and body) as the
 * header's kind and version define it. */
static void checksum_any(const uint8_t *data, size_t len, uint8_t *sum)
{
    if (len >= GR_SNAP_HEADER &&
        gr_snap_is_tree((uint32_t)gr_le_load(data + 8, 4), (uint32_t)gr_le_load(data + 12, 4))) {
        gr_snap_tree t;
        tree_begin(&t, data, data + GR_SNAP_HEADER, len - GR_SNAP_HEADER);
        tree_end(&t, sum);
    } else {
        crypto_generichash(sum, GR_SNAP_SUM, data, len, NULL, 0);
    }
}

void gr_snap_seal(uint8_t *data, size_t len)
{
    if (len >= GR_SNAP_HEADER + GR_SNAP_SUM) checksum_any(data, len - GR_SNAP_SUM, data + len - GR_SNAP_SUM);
}

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

/* Patch the body length and make room for the checksum: 0, or the failure. */
static int seal(gr_bytes *b)
{
    if (b->failed || b->len < GR_SNAP_HEADER) return GPURENT_E_NOMEM;
    gr_le_store(b->data + 56, b->len - GR_SNAP_HEADER, 8);
    return gr_put_room(b, GR_SNAP_SUM) ? GPURENT_OK : GPURENT_E_NOMEM;
}

int gr_snap_finish(gr_bytes *b, gpurent_buf *out)
{
    if (seal(b) == GPURENT_OK) checksum_any(b->data, b->len - GR_SNAP_SUM, b->data + b->len - GR_SNAP_SUM);
    return gr_bytes_finish(b, out);
}

/* The file's tail: the worker hashed chunks while the body was written. */
static void tree_tail(void *ctx, const uint8_t *data, size_t len, uint8_t *out)
{
    gr_snap_tree *t = ctx;
    if (t) tree_end(t, out);
    else checksum_any(data, len, out);
}

int gr_snap_finish_file(gr_bytes *b, const char *path, const char *what)
{
    int rc = seal(b);
    if (rc) {
        gr_bytes_free(b);
        return gr_fail(rc, "%s: out of memory while encoding", what);
    }
    gr_snap_tree t, *tp = NULL;
    if (gr_snap_is_tree((uint32_t)gr_le_load(b->data + 8, 4), (uint32_t)gr_le_load(b->data + 12, 4))) {
        tree_begin(&t, b->data, b->data + GR_SNAP_HEADER, b->len - GR_SNAP_HEADER - GR_SNAP_SUM);
        tp = &t;
    }
    rc = gr_file_write_atomic_tail(path, b->data, b->len, GR_SNAP_SUM, tree_tail, tp, 1, what);
    if (tp) tree_end(tp, NULL); /* a failure before the tail: the worker stops and is joined */
    gr_bytes_free(b);
    return rc;
}

/* The checks before the checksum: magic, kind, version, length. */
static int open_frame(const uint8_t *data, size_t len, uint32_t kind, uint32_t version_max, const char *what,
                      gr_snap_header *h)
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
    memcpy(h->params, data + 16, 32);
    h->input_seq = gr_le_load(data + 48, 8);
    return GPURENT_OK;
}

static int bad_sum(const char *what)
{
    return gr_fail(GPURENT_E_SNAPSHOT_CORRUPT, "%s: checksum does not match (damaged)", what);
}

static int check_params(const gr_snap_header *h, const uint8_t *expect_params, const char *what)
{
    if (expect_params && sodium_memcmp(expect_params, h->params, 32) != 0)
        return gr_fail(GPURENT_E_SNAPSHOT_PARAMS, "%s: taken with other parameters (params digest differs)", what);
    return GPURENT_OK;
}

static void reader_at_body(const uint8_t *data, const gr_snap_header *h, gr_snap_reader *r)
{
    r->p = data + GR_SNAP_HEADER;
    r->end = r->p + h->body_len;
    r->bad = 0;
}

int gr_snap_open(const uint8_t *data, size_t len, uint32_t kind, uint32_t version_max, const uint8_t *expect_params,
                 const char *what, gr_snap_header *h, gr_snap_reader *r)
{
    int rc = open_frame(data, len, kind, version_max, what, h);
    if (rc) return rc;
    uint8_t sum[GR_SNAP_SUM];
    checksum_any(data, len - GR_SNAP_SUM, sum);
    if (sodium_memcmp(sum, data + len - GR_SNAP_SUM, GR_SNAP_SUM) != 0) return bad_sum(what);
    if ((rc = check_params(h, expect_params, what))) return rc;
    reader_at_body(data, h, r);
    return GPURENT_OK;
}

int gr_snap_open_async(const uint8_t *data, size_t len, uint32_t kind, uint32_t version_max,
                       const uint8_t *expect_params, const char *what, gr_snap_header *h, gr_snap_reader *r,
                       gr_snap_verify *v)
{
    v->tree = NULL;
    int rc = open_frame(data, len, kind, version_max, what, h);
    if (rc) return rc;
    if (!gr_snap_is_tree(h->kind, h->version) || chunk_count(h->body_len) < TREE_MIN_PARALLEL ||
        check_params(h, expect_params, what) != GPURENT_OK || !(v->tree = gr_malloc(sizeof *v->tree)))
        return gr_snap_open(data, len, kind, version_max, expect_params, what, h, r); /* all checked now */
    tree_begin(v->tree, data, data + GR_SNAP_HEADER, h->body_len);
    v->sum = data + len - GR_SNAP_SUM;
    v->what = what;
    reader_at_body(data, h, r);
    return GPURENT_OK;
}

int gr_snap_verify_end(gr_snap_verify *v, int rc)
{
    if (!v->tree) return rc;
    uint8_t sum[GR_SNAP_SUM];
    tree_end(v->tree, sum);
    gr_free(v->tree);
    v->tree = NULL;
    if (sodium_memcmp(sum, v->sum, GR_SNAP_SUM) != 0) return bad_sum(v->what);
    return rc;
}

int gr_snap_done(const gr_snap_reader *r, const char *what)
{
    if (r->bad) return gr_fail(GPURENT_E_SNAPSHOT_CORRUPT, "%s: body ends inside a field", what);
    if (r->p != r->end)
        return gr_fail(GPURENT_E_SNAPSHOT_CORRUPT, "%s: %zu bytes after the last field", what, (size_t)(r->end - r->p));
    return GPURENT_OK;
}
