/* The snapshot container: header, body length and BLAKE2b checksum
 * (snap_internal.h gives the layout, docs/wire-format.md the rules).
 *
 * The tree checksum (the current version of every kind) is BLAKE2b-256 of
 * the header and of the BLAKE2b-256 digests of the body's 1 MiB chunks, so
 * the chunks can be hashed on two threads: a worker claims chunks in turn
 * while the calling thread decodes the body (load), then helps with what is
 * left; a snapshot saved to a file is hashed as it is streamed out (below,
 * "streamed to a file"). Every chunk's digest lands in its
 * own slot and the root is computed once all are in, so the bytes are the
 * same whatever thread hashed which chunk, and with no worker at all (a
 * failed pthread_create, or no memory for the digests: one thread then
 * folds the chunk digests into the root as it goes). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

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

/* Claim and hash chunks, four at a time (gr_blake2b256_lanes: the whole
 * chunks of a claim side by side, a short last chunk on its own), until
 * none is left. */
static void tree_work(gr_snap_tree *t)
{
    size_t whole = t->body_len / GR_SNAP_CHUNK;
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&t->next, 4, memory_order_relaxed);
        if (i >= t->n) return;
        size_t end = t->n - i < 4 ? t->n : i + 4, w = end < whole ? end : whole;
        if (w > i) {
            const uint8_t *in[4];
            for (size_t k = i; k < w; k++) in[k - i] = t->body + k * GR_SNAP_CHUNK;
            gr_blake2b256_lanes(in, w - i, GR_SNAP_CHUNK, t->dig + 32 * i);
        }
        for (size_t k = w > i ? w : i; k < end; k++) chunk_digest(t, k, t->dig + 32 * k);
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
    if (t->dig && !gr_snap_test_no_worker) t->started = gr_thread_start(&t->th, NULL, tree_worker, t) == 0;
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

static void put_header(gr_bytes *b, uint32_t kind, uint32_t version, const uint8_t params[32], uint64_t input_seq)
{
    gr_put_raw(b, magic, sizeof magic);
    gr_put_u32(b, kind);
    gr_put_u32(b, version);
    gr_put_raw(b, params, 32);
    gr_put_u64(b, input_seq);
    gr_put_u64(b, 0); /* body length, patched when the body is done */
}

void gr_snap_begin(gr_bytes *b, uint32_t kind, uint32_t version, const uint8_t params[32], uint64_t input_seq,
                   size_t body_hint)
{
    gr_bytes_init(b);
    if (body_hint < SIZE_MAX - GR_SNAP_HEADER - GR_SNAP_SUM &&
        gr_bytes_reserve(b, GR_SNAP_HEADER + body_hint + GR_SNAP_SUM) == GPURENT_OK)
        gr_mem_large(b->data, b->cap);
    put_header(b, kind, version, params, input_seq);
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

/* ---- streamed to a file ----
 *
 * The encoder fills one of a ring of STREAM_BUFS buffers of STREAM_BUF
 * bytes (two chunks and a little: larger buffers came fresh from the
 * kernel on every save here, page faults and all, where these are reused
 * from the heap). When the buffer runs out of room its whole chunks become
 * a job and the encoder goes on in the next buffer (the partial chunk at
 * the end moved there first). A worker thread writes the jobs to the
 * temporary file in order, starting each one's writeback; the chunks are
 * hashed, oldest job first, by the worker when it has nothing to write and
 * by the encoder's thread when it waits for a buffer to come free. So
 * encoding, hashing and the disk's work overlap with a few jobs of slack
 * between them, and the memory is the ring, not the whole snapshot.
 * Without a worker (a failed pthread_create, or gr_snap_test_no_worker)
 * the encoder's thread does each job at once in one buffer and moves the
 * rest to its front. The header goes out with the first job, its body
 * length still 0, and is written again once the length is known; the root
 * hashes the final header, so the bytes and the checksum are those that
 * gr_snap_finish gives. */
#define STREAM_BUF (2 * GR_SNAP_CHUNK + ((size_t)64 << 10)) /* two chunks a job, and room past them */
#define STREAM_BUFS 4
size_t gr_snap_test_stream_buf;

typedef struct stream_job {
    const uint8_t *p; /* bytes [p, p + n) at file offset off */
    size_t n;
    uint64_t off;
    size_t dig0, nc;      /* its body chunks: digests [dig0, dig0 + nc) */
    size_t claimed, hashed;
} stream_job;

struct gr_snap_stream {
    gr_file_temp file;
    uint64_t off; /* the file offset of b->data[0] */
    uint8_t hdr[GR_SNAP_HEADER]; /* once off > 0 */
    uint8_t *buf[STREAM_BUFS];
    size_t cap[STREAM_BUFS];
    unsigned cur; /* the buffer being filled */
    uint8_t *dig; /* one digest per body chunk, in order (moved only when no job is on) */
    size_t ndig, capdig; /* digests of the chunks handed on; room */
    /* with a worker, everything below is under mu */
    stream_job job[STREAM_BUFS]; /* job k (in posting order) in slot k % STREAM_BUFS, on that buffer */
    unsigned long posted, written, hash_from; /* jobs posted, written (in order), the oldest maybe unclaimed */
    int err; /* the first errno of a write (0: none) */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int tried, started, quit;
};

static size_t stream_buf(void) { return gr_snap_test_stream_buf ? gr_snap_test_stream_buf : STREAM_BUF; }
static void lock(gr_snap_stream *s)
{
    if (s->started) pthread_mutex_lock(&s->mu);
}
static void unlock(gr_snap_stream *s)
{
    if (s->started) pthread_mutex_unlock(&s->mu);
}

/* Job k is written and hashed (its slot and buffer may be reused). */
static int job_done(const gr_snap_stream *s, unsigned long k)
{
    const stream_job *j = &s->job[k % STREAM_BUFS];
    return k < s->written && j->hashed == j->nc;
}

/* Move hash_from past the jobs whose every chunk is claimed (called
 * locked). */
static void skip_claimed(gr_snap_stream *s)
{
    while (s->hash_from < s->posted && s->job[s->hash_from % STREAM_BUFS].claimed == s->job[s->hash_from % STREAM_BUFS].nc)
        s->hash_from++;
}

/* Claim and hash the oldest chunks left to claim (called and returning
 * locked): up to four whole ones side by side (gr_blake2b256_lanes), from
 * one job or the next ones, or a short last one alone. 1, or 0 when none
 * is left to claim. Claims go in order, so the chunks of one call are
 * consecutive and so are their digests; hash_from is the oldest job with a
 * chunk left to claim (or `posted`) whenever the lock is let go, so the
 * slot it names still holds that job. */
static int hash_one(gr_snap_stream *s)
{
    skip_claimed(s);
    if (s->hash_from == s->posted) return 0;
    const uint8_t *in[4];
    stream_job *of[4];
    size_t n = 0, first = 0, len = 0;
    int more = 1;
    for (unsigned long k = s->hash_from; k < s->posted && more; k++) {
        stream_job *j = &s->job[k % STREAM_BUFS];
        while (more && j->claimed < j->nc) {
            size_t i = j->dig0 + j->claimed;
            uint64_t at = GR_SNAP_HEADER + (uint64_t)i * GR_SNAP_CHUNK, end = j->off + j->n;
            size_t cn = (size_t)(end - at < GR_SNAP_CHUNK ? end - at : GR_SNAP_CHUNK);
            if (n && cn != GR_SNAP_CHUNK) break; /* a short chunk goes alone, next time */
            if (!n) first = i, len = cn;
            in[n] = j->p + (at - j->off);
            of[n++] = j;
            j->claimed++;
            more = n < 4 && cn == GR_SNAP_CHUNK;
        }
        if (j->claimed < j->nc) more = 0;
    }
    /* hash_from moves past what was claimed now, before a job posted later
     * takes the slot of one claimed here */
    skip_claimed(s);
    uint8_t *d = s->dig + 32 * first;
    unlock(s);
    gr_blake2b256_lanes(in, n, len, d);
    lock(s);
    for (size_t x = 0; x < n; x++) of[x]->hashed++;
    if (s->started) pthread_cond_broadcast(&s->cv);
    return 1;
}

/* Write job k's bytes (skipped once a write failed; called locked, the
 * write itself unlocked). */
static void write_job(gr_snap_stream *s, unsigned long k)
{
    const stream_job *j = &s->job[k % STREAM_BUFS];
    const uint8_t *p = j->p;
    size_t n = j->n;
    uint64_t off = j->off;
    int skip = s->err != 0, err = 0;
    unlock(s);
    if (!skip && gr_file_write(s->file.fd, p, n) != 0) err = errno;
    else if (!skip) gr_file_start_writeback(s->file.fd, (size_t)off, n);
    lock(s);
    if (err && !s->err) s->err = err;
    s->written = k + 1;
    if (s->started) pthread_cond_broadcast(&s->cv);
}

/* The worker: write what is posted, in order; hash when nothing is to be
 * written; sleep when neither. */
static void *stream_worker(void *arg)
{
    gr_snap_stream *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->written < s->posted) write_job(s, s->written);
        else if (!hash_one(s)) {
            if (s->quit) break;
            pthread_cond_wait(&s->cv, &s->mu);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Every job posted is done. */
static int all_done(const gr_snap_stream *s)
{
    if (s->written < s->posted) return 0;
    for (unsigned long k = s->posted > STREAM_BUFS ? s->posted - STREAM_BUFS : 0; k < s->posted; k++)
        if (!job_done(s, k)) return 0;
    return 1;
}

/* Wait until job k is done (every job when k is ULONG_MAX), hashing what
 * is left to claim meanwhile. */
static void stream_wait(gr_snap_stream *s, unsigned long k)
{
    if (!s->started) return; /* (no worker: each job is done where it is posted) */
    pthread_mutex_lock(&s->mu);
    while (k == ULONG_MAX ? !all_done(s) : !job_done(s, k))
        if (!hash_one(s)) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

/* Hand on the n bytes at p (file offset s->off; whole chunks unless this is
 * the last job). -1: no memory for the digests (nothing handed on). */
static int stream_post(gr_snap_stream *s, const uint8_t *p, size_t n)
{
    uint64_t a = s->off < GR_SNAP_HEADER ? GR_SNAP_HEADER : s->off, end = s->off + n;
    size_t nc = end > a ? (size_t)((end - a + GR_SNAP_CHUNK - 1) / GR_SNAP_CHUNK) : 0;
    if (s->ndig + nc > s->capdig) { /* the digests move: no hash may be on */
        stream_wait(s, ULONG_MAX);
        /* (with a test buffer size, room for one digest first: the digests
         * move at 1, 2, 4, 8, ... chunks, the drain above before each) */
        size_t cap = s->capdig ? s->capdig : gr_snap_test_stream_buf ? 1 : 64;
        while (cap < s->ndig + nc) cap *= 2;
        uint8_t *d = gr_realloc(s->dig, cap * 32);
        if (!d) return -1;
        s->dig = d;
        s->capdig = cap;
    }
    lock(s);
    unsigned long k = s->posted;
    stream_job *j = &s->job[k % STREAM_BUFS];
    *j = (stream_job){.p = p, .n = n, .off = s->off, .dig0 = s->ndig, .nc = nc};
    s->posted = k + 1;
    /* a job of no chunk (the header alone) is all claimed once posted:
     * hash_from moves past it here, so it never names a slot that a later
     * job may take (before, only the drain ahead of the digests' first move
     * happened to move it in time) */
    skip_claimed(s);
    if (s->started) {
        pthread_cond_broadcast(&s->cv);
    } else { /* no worker: the job is done here and now */
        write_job(s, k);
        while (hash_one(s)) {}
    }
    unlock(s);
    s->ndig += nc;
    s->off += n;
    return 0;
}

static void stream_stop(gr_snap_stream *s)
{
    if (!s->started) return;
    stream_wait(s, ULONG_MAX);
    pthread_mutex_lock(&s->mu);
    s->quit = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    s->started = 0;
}

static void stream_start(gr_snap_stream *s)
{
    s->tried = 1;
    if (gr_snap_test_no_worker || pthread_mutex_init(&s->mu, NULL) != 0) return;
    if (pthread_cond_init(&s->cv, NULL) == 0) {
        s->started = gr_thread_start(&s->th, NULL, stream_worker, s) == 0;
        if (!s->started) pthread_cond_destroy(&s->cv);
    }
    if (!s->started) pthread_mutex_destroy(&s->mu);
}

/* Buffer i at `want` bytes or more: 0, or -1 (no memory). With `keep`,
 * its bytes stay (realloc), else they may go. */
static int stream_room(gr_snap_stream *s, unsigned i, size_t want, int keep)
{
    if (s->cap[i] >= want) return 0;
    uint8_t *p = keep ? gr_realloc(s->buf[i], want) : gr_malloc(want);
    if (!p) return -1;
    if (!keep) gr_free(s->buf[i]);
    gr_mem_large(p, want);
    s->buf[i] = p;
    s->cap[i] = want;
    return 0;
}

int gr_snap_stream_reserve(gr_bytes *b, size_t extra)
{
    gr_snap_stream *s = b->sink;
    uint64_t end = s->off + b->len; /* the file offset after the buffer */
    uint64_t whole = end < GR_SNAP_HEADER ? 0 : end - (end - GR_SNAP_HEADER) % GR_SNAP_CHUNK;
    size_t k = whole > s->off ? (size_t)(whole - s->off) : 0, left = b->len - k;
    size_t want = stream_buf();
    if (extra > SIZE_MAX / 4 - left) goto nomem;
    if (want < left + extra) want = left + extra;
    if (k == 0) { /* no whole chunk to hand on (a put larger than the buffer): grow */
        if (want < 2 * b->cap) want = 2 * b->cap; /* (by half a chunk, or more, at least) */
        if (stream_room(s, s->cur, want, 1)) goto nomem;
    } else {
        if (!s->tried) stream_start(s); /* at the first hand-over: a worker, if one starts */
        if (s->off == 0) memcpy(s->hdr, b->data, GR_SNAP_HEADER); /* whole > 0: the header is in */
        unsigned o = s->cur;
        if (s->started) { /* the next buffer of the ring, once its last job is done */
            o = (s->cur + 1) % STREAM_BUFS;
            if (s->posted + 1 >= STREAM_BUFS) stream_wait(s, s->posted + 1 - STREAM_BUFS);
            if (stream_room(s, o, want, 0)) goto nomem;
            memcpy(s->buf[o], b->data + k, left);
        }
        if (stream_post(s, b->data, k)) goto nomem;
        if (!s->started) memmove(b->data, b->data + k, left); /* (the job is done) */
        s->cur = o;
        b->len = left;
        if (!s->started && stream_room(s, o, want, 1)) goto nomem;
    }
    b->data = s->buf[s->cur];
    b->cap = s->cap[s->cur];
    return GPURENT_OK;
nomem:
    b->failed = 1;
    return GPURENT_E_NOMEM;
}

void gr_put_raw_stream(gr_bytes *b, const void *d, size_t n)
{
    const uint8_t *p = d;
    while (n && !b->failed) {
        if (b->cap == b->len && gr_snap_stream_reserve(b, 1)) return;
        size_t k = b->cap - b->len < n ? b->cap - b->len : n;
        memcpy(b->data + b->len, p, k);
        b->len += k;
        p += k;
        n -= k;
    }
}

void gr_snap_stream_free(gr_bytes *b)
{
    gr_snap_stream *s = b->sink;
    stream_stop(s);
    gr_file_temp_discard(&s->file);
    for (unsigned i = 0; i < STREAM_BUFS; i++) gr_free(s->buf[i]);
    gr_free(s->dig);
    gr_free(s);
    b->sink = NULL;
    b->data = NULL; /* (one of the ring's buffers) */
}

int gr_snap_begin_file(gr_bytes *b, const char *path, const char *what, uint32_t kind, uint32_t version,
                       const uint8_t params[32], uint64_t input_seq, size_t body_hint)
{
    gr_bytes_init(b);
    if (!gr_snap_is_tree(kind, version)) /* the stream hashes chunks: the tree checksum only */
        return gr_fail(GPURENT_E_INVALID_ARG, "%s: kind %u version %u has no tree checksum to stream", what, kind,
                       version);
    gr_snap_stream *s = gr_calloc(1, sizeof *s);
    if (!s) return gr_fail(GPURENT_E_NOMEM, "%s: stream", what);
    b->sink = s;
    /* the first buffer: the hint's worth, at most a stream buffer (and never
     * less than a header and a checksum) */
    size_t cap = GR_SNAP_HEADER + GR_SNAP_SUM, full = stream_buf() > cap ? stream_buf() : cap;
    cap = body_hint < full - cap ? cap + body_hint : full;
    int rc = gr_file_temp_open(&s->file, path, what);
    if (!rc && stream_room(s, 0, cap, 0)) rc = gr_fail(GPURENT_E_NOMEM, "%s: %zu bytes", what, cap);
    if (rc) {
        gr_bytes_free(b);
        return rc;
    }
    b->data = s->buf[0];
    b->cap = s->cap[0];
    put_header(b, kind, version, params, input_seq);
    return GPURENT_OK;
}

static int finish_stream(gr_bytes *b)
{
    gr_snap_stream *s = b->sink;
    const char *what = s->file.what;
    int failed = b->failed;
    if (!failed) {
        uint64_t body = s->off + b->len - GR_SNAP_HEADER;
        if (s->off == 0) {
            gr_le_store(b->data + 56, body, 8);
            memcpy(s->hdr, b->data, GR_SNAP_HEADER);
        } else {
            gr_le_store(s->hdr + 56, body, 8);
        }
        failed = stream_post(s, b->data, b->len) != 0; /* the rest */
        stream_stop(s);
    }
    if (!failed && !s->err) {
        crypto_generichash_state st;
        uint8_t sum[GR_SNAP_SUM];
        crypto_generichash_init(&st, NULL, 0, GR_SNAP_SUM);
        crypto_generichash_update(&st, s->hdr, GR_SNAP_HEADER);
        crypto_generichash_update(&st, s->dig, s->ndig * 32);
        crypto_generichash_final(&st, sum, GR_SNAP_SUM);
        if (s->off > b->len && gr_file_pwrite(s->file.fd, s->hdr, GR_SNAP_HEADER, 0) != 0) s->err = errno;
        if (!s->err && gr_file_write(s->file.fd, sum, GR_SNAP_SUM) != 0) s->err = errno;
    }
    int rc = failed ? gr_fail(GPURENT_E_NOMEM, "%s: out of memory while encoding", what)
                    : gr_file_temp_commit(&s->file, s->err, 1);
    gr_bytes_free(b); /* (after a commit there is no temporary file left to remove) */
    return rc;
}

int gr_snap_finish_file(gr_bytes *b, const char *path, const char *what)
{
    if (b->sink) return finish_stream(b);
    gpurent_buf out = {0};
    int rc = gr_snap_finish(b, &out);
    if (rc) return gr_fail(rc, "%s: out of memory while encoding", what);
    rc = gr_file_write_atomic(path, out.data, out.len, 1, what);
    gpurent_buf_free(&out);
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
