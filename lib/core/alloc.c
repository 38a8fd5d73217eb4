/* Allocation, library-owned buffers and the growable byte buffer. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

/* The largest single request since the last reset: tests use it to prove
 * that hostile declared counts never turn into large reservations. A plain
 * relaxed max is enough; it is a test aid, not an accounting. */
static _Atomic size_t largest;

static void note(size_t n)
{
    if (n > atomic_load_explicit(&largest, memory_order_relaxed))
        atomic_store_explicit(&largest, n, memory_order_relaxed);
}

size_t gr_alloc_largest(int reset)
{
    size_t v = atomic_load(&largest);
    if (reset) atomic_store(&largest, 0);
    return v;
}

/* Allocation-failure injection, for tests only (tests/test_nomem.c sweeps
 * every allocation of an operation: count them with gr_alloc_fail_nth(0),
 * then fail the 1st, the 2nd, ... in turn). `hook_on` is the only thing the
 * allocators read while it is off: one relaxed load and a branch. While on,
 * every allocation of every thread counts, and the one whose number equals
 * `fail_at` returns NULL as if the system had no memory (realloc leaves the
 * old block alone, as realloc does). Global rather than per thread so that
 * allocations made on worker threads (verify_many, record_signed_many) are
 * counted and can fail too; a test that arms it runs nothing else. */
static _Atomic int hook_on;
static _Atomic uint64_t made;
static _Atomic uint64_t fail_at;

void gr_alloc_fail_nth(uint64_t nth)
{
    atomic_store(&made, 0);
    atomic_store(&fail_at, nth);
    atomic_store(&hook_on, 1);
}

void gr_alloc_hook_off(void) { atomic_store(&hook_on, 0); }

uint64_t gr_alloc_count(void) { return atomic_load(&made); }

static int injected_failure(void)
{
    uint64_t n = atomic_fetch_add(&made, 1) + 1;
    return n == atomic_load(&fail_at);
}

int gr_alloc_should_fail(void)
{
#if defined(__GNUC__)
    if (__builtin_expect(!atomic_load_explicit(&hook_on, memory_order_relaxed), 1)) return 0;
#else
    if (!atomic_load_explicit(&hook_on, memory_order_relaxed)) return 0;
#endif
    return injected_failure();
}

void *gr_malloc(size_t n)
{
    note(n);
    if (gr_alloc_should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *gr_calloc(size_t count, size_t size)
{
    note(size && count > SIZE_MAX / size ? SIZE_MAX : count * size);
    if (gr_alloc_should_fail()) return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *gr_realloc(void *p, size_t n)
{
    note(n);
    if (gr_alloc_should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}
void gr_free(void *p) { free(p); }

char *gr_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = gr_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

GPURENT_API void gpurent_free(void *ptr) { gr_free(ptr); }

GPURENT_API void gpurent_buf_free(gpurent_buf *buf)
{
    if (!buf) return;
    gr_free(buf->data);
    buf->data = NULL;
    buf->len = 0;
}

void gr_bytes_init(gr_bytes *b) { memset(b, 0, sizeof *b); }

int gr_bytes_reserve(gr_bytes *b, size_t extra)
{
    if (b->failed) return GPURENT_E_NOMEM;
    if (extra <= b->cap - b->len) return GPURENT_OK;
    if (b->sink) return gr_snap_stream_reserve(b, extra);
    if (extra > SIZE_MAX / 2 - b->len) { b->failed = 1; return GPURENT_E_NOMEM; }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) cap *= 2;
    uint8_t *p = gr_realloc(b->data, cap);
    if (!p) { b->failed = 1; return GPURENT_E_NOMEM; }
    b->data = p;
    b->cap = cap;
    return GPURENT_OK;
}

void gr_bytes_append(gr_bytes *b, const void *data, size_t n)
{
    if (n == 0 || gr_bytes_reserve(b, n) != GPURENT_OK) return;
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

void gr_bytes_free(gr_bytes *b)
{
    if (b->sink) gr_snap_stream_free(b); /* frees the buffers and the temporary file */
    else gr_free(b->data);
    gr_bytes_init(b);
}

int gr_bytes_finish(gr_bytes *b, gpurent_buf *out)
{
    if (b->failed) {
        gr_bytes_free(b);
        return gr_fail(GPURENT_E_NOMEM, "out of memory while encoding");
    }
    out->data = b->data;
    out->len = b->len;
    gr_bytes_init(b);
    return GPURENT_OK;
}
