/* Internals shared by every module: allocation, failure reporting, checks. */
#ifndef GPURENT_CORE_INTERNAL_H
#define GPURENT_CORE_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "gpurent/common.h"

/* Allocation goes through these so that one place can count, poison or fail
 * allocations in tests (no raw malloc elsewhere in lib/). */
void *gr_malloc(size_t n);
void *gr_calloc(size_t count, size_t size);
void *gr_realloc(void *p, size_t n);
void gr_free(void *p);
char *gr_strdup(const char *s);
/* Largest single allocation request since the last reset (for tests). */
size_t gr_alloc_largest(int reset);
/* Allocation-failure injection (tests only; never exported, see
 * tests/test_nomem.c and docs/errors.md "No memory"). gr_alloc_fail_nth(n)
 * starts counting the allocations made from now on (all threads) and makes
 * the n-th of them (1-based) fail as malloc does when memory runs out; n = 0
 * only counts. gr_alloc_count() is the number made since; gr_alloc_hook_off()
 * stops counting and failing. Costs one relaxed load and a branch per
 * allocation while off. gr_alloc_should_fail() is that check, for library
 * code that allocates outside these wrappers (libsodium's guarded memory):
 * it counts as one allocation. */
void gr_alloc_fail_nth(uint64_t nth);
uint64_t gr_alloc_count(void);
void gr_alloc_hook_off(void);
int gr_alloc_should_fail(void);

/* Record the failure in the calling thread's detail and return `status`,
 * so a failing path reads `return gr_fail(GPURENT_E_X, "what %d", v);`. */
int gr_fail(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The BLAKE2b-256 digests of the n inputs in[0..n), each of `len` bytes,
 * into out[32 * i ..] (those of crypto_generichash(out, 32, in[i], len,
 * NULL, 0)): four at a time on one core where the CPU has AVX2
 * (lib/core/blake2b4.c), each through libsodium where it has not or when
 * gr_blake2b_test_scalar is set (tests only). */
void gr_blake2b256_lanes(const uint8_t *const *in, size_t n, size_t len, uint8_t *out);
extern int gr_blake2b_test_scalar;

/* pthread_create for the library's own worker threads: the same result,
 * and the thread starts with every signal blocked but the faults (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS), so that signals meant for the
 * process reach the embedder's threads (lib/core/thread.c). Every thread
 * the library starts goes through it. */
int gr_thread_start(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

/* gpurent_init() for internal callers; returns a status. */
int gr_ensure_init(void);

/* Check an options struct's version against the one this build knows. */
int gr_check_version(unsigned int got, unsigned int known, const char *what);

/* Growable byte buffer used by encoders. On allocation failure `failed` is
 * set and later appends do nothing, so encoders check once at the end.
 * With a sink (a snapshot streamed to its file, lib/core/snapshot.c), the
 * bytes before data[0] have been handed on: when the room runs out the sink
 * takes what it can and the rest moves to the front, so an encoder never
 * keeps a pointer into the buffer across a put, nor writes back before
 * b->data (none does). */
typedef struct gr_snap_stream gr_snap_stream;
typedef struct gr_bytes {
    uint8_t *data;
    size_t len;
    size_t cap;
    int failed;
    gr_snap_stream *sink;
} gr_bytes;
/* The sink's side of gr_bytes_reserve and gr_bytes_free (snapshot.c). */
int gr_snap_stream_reserve(gr_bytes *b, size_t extra);
void gr_snap_stream_free(gr_bytes *b);

void gr_bytes_init(gr_bytes *b);
int gr_bytes_reserve(gr_bytes *b, size_t extra);
void gr_bytes_append(gr_bytes *b, const void *data, size_t n);
void gr_bytes_free(gr_bytes *b);
/* Move the bytes into a caller buffer; returns GPURENT_E_NOMEM if any append
 * failed (and frees). */
int gr_bytes_finish(gr_bytes *b, gpurent_buf *out);

#define GR_CHECK_ARG(cond, name)                                                          \
    do {                                                                                  \
        if (!(cond)) return gr_fail(GPURENT_E_INVALID_ARG, "%s: %s", __func__, name); \
    } while (0)


/* ---- file.c: files written for the caller ---- */
/* Write `len` bytes to `path` so that a crash leaves the old file or the
 * new one, never a mix: a fresh temporary file beside it (O_CREAT|O_EXCL|
 * O_NOFOLLOW, mode 0600), written, fsynced, renamed over `path` (replace)
 * or linked to it (not replace: GPURENT_E_EXISTS when anything is there),
 * then the folder fsynced. `what` names the file in failure details. */
int gr_file_write_atomic(const char *path, const uint8_t *data, size_t len, int replace, const char *what);
/* The same in steps, for a file written as it is produced (a snapshot
 * streamed while it is encoded): open a fresh temporary file beside `path`
 * (as above; `path` and `what` must outlive `t`), write to t->fd, then
 * commit it (`err`: an errno from the writing, 0 none; it fails the commit,
 * which then removes the temporary file) or discard it. Exactly one of the
 * two follows an open that succeeded. */
#define GR_PATH_CAP 4096
typedef struct gr_file_temp {
    int fd; /* -1: none open */
    const char *path, *what;
    char tmp[GR_PATH_CAP + 32], dir[GR_PATH_CAP];
} gr_file_temp;
int gr_file_temp_open(gr_file_temp *t, const char *path, const char *what);
int gr_file_temp_commit(gr_file_temp *t, int err, int replace);
void gr_file_temp_discard(gr_file_temp *t);
/* write() all `n` bytes (EINTR retried): 0, or -1 with errno. */
int gr_file_write(int fd, const uint8_t *p, size_t n);
/* pwrite() all `n` bytes at file offset `off` (EINTR and short writes
 * retried): 0, or -1 with errno. */
int gr_file_pwrite(int fd, const uint8_t *p, size_t n, uint64_t off);
/* A hint to start writing back the `n` bytes at `off` now (never fails). */
void gr_file_start_writeback(int fd, size_t off, size_t n);
/* Read a whole regular file of at most `max` bytes (GPURENT_E_LIMIT above)
 * into `out` (free with gpurent_buf_free). */
int gr_file_read(const char *path, size_t max, gpurent_buf *out, const char *what);
/* A hint that [p, p + n) is a large buffer about to be filled: at 4 MiB and
 * above, ask for transparent huge pages (first-touch page faults dominate
 * writing a fresh 100 MB snapshot buffer otherwise). Never fails. */
void gr_mem_large(void *p, size_t n);

#endif
