/* ThreadSanitizer: the snapshot container's tree checksum (lib/core/snapshot.c),
 * whose chunks are hashed by a worker thread while the calling thread writes
 * the file or decodes the body.
 *
 * Four threads at once, each many times: seal a container of 4.5 MiB (five
 * chunks: a worker starts), open it as the loaders do (the checksum on the
 * worker while the body is read) and check it passes, flip a byte in a chunk
 * and check it is refused, write it to a file, and stream it to a file as it
 * is produced (gr_snap_begin_file, a buffer of a little over a chunk: a
 * worker writes and hashes each hand-over while the thread goes on putting;
 * on odd threads a room larger than the buffer grows it while a job is on),
 * and stream one that is given up half way (the worker stopped mid-job).
 * Before them, main alone streams it with buffers of half a chunk and of
 * three chunks (the header handed on alone; claims across jobs).
 * Every checksum must equal the one main computed before the threads
 * started. Built and run by `make check-tsan` (tests/tsan.mk). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/snap_internal.h"
#include "gpurent.h"

#define CHECK(cond, ...)                                                           \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "tsan_snapshot: %s:%d: ", __FILE__, __LINE__);         \
            fprintf(stderr, __VA_ARGS__);                                          \
            fprintf(stderr, "\n");                                                 \
            exit(1);                                                               \
        }                                                                          \
    } while (0)

#define THREADS 4
#define BODY ((size_t)9 << 19) /* 4.5 MiB */

static uint8_t expected[32];
static pthread_barrier_t start_line;

static int iterations(void)
{
    const char *v = getenv("GPURENT_TEST_VALGRIND");
    return v && *v == '1' ? 1 : 3;
}

static void seal(gr_bytes *w)
{
    uint8_t params[32];
    memset(params, 3, sizeof params);
    gr_snap_begin(w, GR_SNAP_TIER, GR_SNAP_TREE_TIER, params, 7, BODY);
    uint8_t *p = gr_put_room(w, BODY);
    CHECK(p != NULL, "no memory");
    for (size_t i = 0; i < BODY; i++) p[i] = (uint8_t)((i * 2654435761u) >> 11);
}

/* The same container streamed to `path` in puts of 64 KiB; with `room`,
 * 1.5 MiB of it filled in place through one gr_put_room (larger than the
 * buffer: it grows while the worker still writes and hashes the other);
 * with `abandon`, given up half way (gr_bytes_free stops the worker while a
 * job may be on; the temporary file goes). */
static int stream(const char *path, int room, int abandon)
{
    uint8_t params[32];
    memset(params, 3, sizeof params);
    gr_bytes w;
    int rc = gr_snap_begin_file(&w, path, "tsan", GR_SNAP_TIER, GR_SNAP_TREE_TIER, params, 7, BODY);
    if (rc) return rc;
    uint8_t piece[1 << 16];
    const size_t big = (size_t)3 << 19;
    for (size_t at = 0; at < BODY;) {
        if (abandon && at >= BODY / 2) {
            gr_bytes_free(&w);
            return GPURENT_OK;
        }
        if (room && at == (size_t)2 << 20) {
            uint8_t *p = gr_put_room(&w, big);
            if (!p) break;
            for (size_t i = 0; i < big; i++) p[i] = (uint8_t)(((at + i) * 2654435761u) >> 11);
            at += big;
            continue;
        }
        for (size_t i = 0; i < sizeof piece; i++) piece[i] = (uint8_t)(((at + i) * 2654435761u) >> 11);
        gr_put_raw(&w, piece, sizeof piece);
        at += sizeof piece;
    }
    return gr_snap_finish_file(&w, path, "tsan");
}

static int open_all(const gpurent_buf *b)
{
    gr_snap_header h;
    gr_snap_reader r;
    gr_snap_verify v;
    int rc = gr_snap_open_async(b->data, b->len, GR_SNAP_TIER, GR_SNAP_TREE_TIER, NULL, "tsan", &h, &r, &v);
    if (rc) return rc;
    uint64_t x = 0;
    while (gr_get_left(&r) >= 8) x += gr_get_u64(&r); /* read the body while the worker hashes it */
    gr_get_raw(&r, gr_get_left(&r));
    rc = gr_snap_verify_end(&v, gr_snap_done(&r, "tsan"));
    return x ? rc : rc; /* (x only keeps the reads) */
}

static void *run(void *arg)
{
    unsigned tid = (unsigned)(size_t)arg;
    char path[128];
    snprintf(path, sizeof path, "/tmp/gpurent-tsan-snap.%d.%u", (int)getpid(), tid);
    pthread_barrier_wait(&start_line);
    for (int i = 0; i < iterations(); i++) {
        gr_bytes w;
        gpurent_buf b = {0};
        seal(&w);
        CHECK(gr_snap_finish(&w, &b) == GPURENT_OK, "finish");
        CHECK(memcmp(b.data + b.len - 32, expected, 32) == 0, "thread %u: another checksum", tid);
        CHECK(open_all(&b) == GPURENT_OK, "thread %u: open: %s", tid, gpurent_last_error_message());
        b.data[64 + (size_t)(tid + 1) * 1000003u] ^= 1;
        CHECK(open_all(&b) == GPURENT_E_SNAPSHOT_CORRUPT, "thread %u: a flipped byte loads", tid);
        gpurent_buf_free(&b);
        seal(&w);
        CHECK(gr_snap_finish_file(&w, path, "tsan") == GPURENT_OK, "thread %u: file: %s", tid,
              gpurent_last_error_message());
        gpurent_buf f = {0};
        CHECK(gr_file_read(path, 1u << 30, &f, "tsan") == GPURENT_OK, "read back");
        CHECK(f.len == BODY + 96 && memcmp(f.data + f.len - 32, expected, 32) == 0, "thread %u: file checksum", tid);
        gpurent_buf_free(&f);
        CHECK(stream(path, 0, 1) == GPURENT_OK, "thread %u: abandoned stream", tid);
        CHECK(stream(path, (int)(tid & 1), 0) == GPURENT_OK, "thread %u: stream: %s", tid,
              gpurent_last_error_message());
        CHECK(gr_file_read(path, 1u << 30, &f, "tsan") == GPURENT_OK, "read back");
        CHECK(f.len == BODY + 96 && memcmp(f.data + f.len - 32, expected, 32) == 0, "thread %u: stream checksum",
              tid);
        CHECK(open_all(&f) == GPURENT_OK, "thread %u: open the streamed file", tid);
        gpurent_buf_free(&f);
    }
    unlink(path);
    return NULL;
}

int main(void)
{
    CHECK(gpurent_init() == GPURENT_OK, "init");
    gr_bytes w;
    gpurent_buf b = {0};
    gr_snap_test_no_worker = 1; /* the reference: one thread */
    seal(&w);
    CHECK(gr_snap_finish(&w, &b) == GPURENT_OK, "finish");
    gr_snap_test_no_worker = 0;
    memcpy(expected, b.data + b.len - 32, 32);
    gpurent_buf_free(&b);
    /* One thread first, with buffers of half a chunk (the header handed on
     * alone, then jobs of a chunk) and of three chunks and a little (claims
     * of four that span two jobs) */
    const size_t lone[] = {(size_t)1 << 19, ((size_t)3 << 20) + 7};
    char path[128];
    snprintf(path, sizeof path, "/tmp/gpurent-tsan-snap.%d.main", (int)getpid());
    for (size_t i = 0; i < sizeof lone / sizeof *lone; i++) {
        gr_snap_test_stream_buf = lone[i];
        CHECK(stream(path, 0, 0) == GPURENT_OK, "main stream: %s", gpurent_last_error_message());
        gpurent_buf f = {0};
        CHECK(gr_file_read(path, 1u << 30, &f, "tsan") == GPURENT_OK, "read back");
        CHECK(f.len == BODY + 96 && memcmp(f.data + f.len - 32, expected, 32) == 0, "main: stream checksum, buffer %zu",
              lone[i]);
        CHECK(open_all(&f) == GPURENT_OK, "main: open the streamed file");
        gpurent_buf_free(&f);
    }
    unlink(path);
    gr_snap_test_stream_buf = ((size_t)1 << 20) + 1000; /* a hand-over every chunk or so */
    pthread_t t[THREADS];
    pthread_barrier_init(&start_line, NULL, THREADS);
    for (unsigned i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, run, (void *)(size_t)i) == 0, "start");
    for (unsigned i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start_line);
    printf("tsan_snapshot: %d threads x %d rounds, checksums identical\n", THREADS, iterations());
    return 0;
}
