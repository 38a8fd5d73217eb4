/* Bulk verification on several threads with one-by-one answers: the
 * stateless checks run in parallel (items handed out by an atomic counter,
 * answers stored by index), then the replay check runs sequentially in
 * input order, exactly as a loop of gpurent_envelope_verify() would. */
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "attest_internal.h"

#define MAX_THREADS 64
#define CHUNK 8

typedef struct item_out {
    size_t payload_off;
    size_t payload_len;
    uint8_t issuer[32];
    uint8_t nonce[16];
} item_out;

typedef struct job {
    gpurent_trust *trust;
    const uint8_t *const *env;
    const size_t *lens;
    size_t n;
    uint64_t now;
    uint32_t skew;
    gr_vopts o;
    const gpurent_cancel *cancel;
    int32_t *status;
    item_out *items; /* may be NULL */
    atomic_size_t next;
} job;

static void verify_item(job *j, size_t i)
{
    gr_env_view v;
    uint32_t counted;
    int rc = gr_verify_stateless(j->trust, j->env[i], j->lens[i], j->now, j->skew, &j->o, &v, &counted);
    j->status[i] = rc;
    if (rc || !j->items) return;
    item_out *it = &j->items[i];
    it->payload_off = (size_t)(v.payload - j->env[i]);
    it->payload_len = v.payload_len;
    memcpy(it->issuer, v.hdr.issuer, 32);
    memcpy(it->nonce, v.hdr.nonce, 16);
}

static void *worker(void *arg)
{
    job *j = arg;
    for (;;) {
        size_t start = atomic_fetch_add(&j->next, CHUNK);
        if (start >= j->n) break;
        size_t end = start + CHUNK < j->n ? start + CHUNK : j->n;
        for (size_t i = start; i < end; i++) {
            if (gpurent_cancel_requested(j->cancel)) return NULL;
            verify_item(j, i);
        }
    }
    return NULL;
}

static unsigned pick_threads(unsigned threads, size_t n)
{
    if (threads == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        threads = c > 0 ? (unsigned)c : 1;
    }
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    size_t chunks = (n + CHUNK - 1) / CHUNK;
    if (threads > chunks) threads = chunks ? (unsigned)chunks : 1;
    return threads;
}

/* Run the workers: this thread is one of them. */
static void run_parallel(job *j, unsigned threads)
{
    pthread_t tid[MAX_THREADS];
    unsigned started = 0;
    for (unsigned i = 1; i < threads; i++)
        if (gr_thread_start(&tid[started], NULL, worker, j) == 0) started++;
    worker(j); /* if threads could not start, this one does all the work */
    for (unsigned i = 0; i < started; i++) pthread_join(tid[i], NULL);
}

/* The replay pass, in input order. */
static void replay_pass(job *j, const uint8_t *const *env)
{
    uint8_t id[32];
    for (size_t i = 0; i < j->n; i++) {
        if (j->status[i] != GPURENT_OK) continue;
        gr_env_view v;
        const uint8_t *issuer, *nonce;
        if (j->items) {
            issuer = j->items[i].issuer;
            nonce = j->items[i].nonce;
        } else {
            gr_env_parse(env[i], j->lens[i], &v); /* passed once: cannot fail now */
            issuer = v.hdr.issuer;
            nonce = v.hdr.nonce;
        }
        gr_replay_id(&j->trust->replay, issuer, nonce, id);
        j->status[i] = gr_replay_check_insert(&j->trust->replay, id);
    }
}

/* Shared by gpurent_envelope_verify_many() and batches; `items` may be NULL. */
static int gr_verify_many(gpurent_trust *trust, const uint8_t *const *env, const size_t *lens, size_t n,
                          uint64_t now, uint32_t skew, const gpurent_verify_options *opts, unsigned threads, const gpurent_cancel *cancel,
                   int32_t *status, item_out *items)
{
    job j = {.trust = trust, .env = env, .lens = lens, .n = n, .now = now, .skew = skew, .cancel = cancel,
             .status = status, .items = items};
    int rc = gr_ensure_init();
    if (!rc) rc = gr_vopts_resolve(opts, &j.o);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) status[i] = GPURENT_E_CANCELLED;
    atomic_init(&j.next, 0);
    run_parallel(&j, pick_threads(threads, n));
    if (gpurent_cancel_requested(cancel)) {
        for (size_t i = 0; i < n; i++) status[i] = GPURENT_E_CANCELLED;
        return gr_fail(GPURENT_E_CANCELLED, "verify_many: cancelled");
    }
    if (j.o.check_replay) replay_pass(&j, env);
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_envelope_verify_many(gpurent_trust *trust, const uint8_t *const *envelopes,
                                                        const size_t *lens, size_t n, uint64_t now, uint32_t skew_s,
                                                        const gpurent_verify_options *opts, unsigned int threads,
                                                        const gpurent_cancel *cancel, int32_t *statuses)
{
    GR_CHECK_ARG(trust, "trust is NULL");
    GR_CHECK_ARG(n == 0 || (envelopes && lens && statuses), "envelopes, lens or statuses is NULL");
    for (size_t i = 0; i < n; i++) GR_CHECK_ARG(envelopes[i] || lens[i] == 0, "an envelope is NULL");
    return gr_verify_many(trust, envelopes, lens, n, now, skew_s, opts, threads, cancel, statuses, NULL);
}

/* ---------------- batches ---------------- */

struct gpurent_verify_batch {
    size_t n, cap;
    uint8_t **env;
    size_t *lens;
    int32_t *status;
    item_out *items;
};

GPURENT_API gpurent_status gpurent_verify_batch_new(gpurent_verify_batch **out)
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = gr_calloc(1, sizeof **out);
    return *out ? GPURENT_OK : gr_fail(GPURENT_E_NOMEM, "verify batch");
}

GPURENT_API void gpurent_verify_batch_free(gpurent_verify_batch *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->n; i++) gr_free(b->env[i]);
    gr_free(b->env);
    gr_free(b->lens);
    gr_free(b->status);
    gr_free(b->items);
    gr_free(b);
}

static int batch_grow(gpurent_verify_batch *b)
{
    size_t c = b->cap ? b->cap * 2 : 64;
    void *e = gr_realloc(b->env, c * sizeof *b->env);
    if (e) b->env = e;
    void *l = gr_realloc(b->lens, c * sizeof *b->lens);
    if (l) b->lens = l;
    void *s = gr_realloc(b->status, c * sizeof *b->status);
    if (s) b->status = s;
    if (!e || !l || !s) return gr_fail(GPURENT_E_NOMEM, "verify batch");
    b->cap = c;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_verify_batch_add(gpurent_verify_batch *b, const uint8_t *envelope, size_t len)
{
    GR_CHECK_ARG(b, "batch is NULL");
    GR_CHECK_ARG(envelope || len == 0, "envelope is NULL");
    if (len > GPURENT_RECORD_MAX_BYTES + GR_ENVELOPE_OVERHEAD_MAX)
        return gr_fail(GPURENT_E_OVERSIZE, "verify batch: envelope of %zu bytes", len);
    int rc = b->n == b->cap ? batch_grow(b) : GPURENT_OK;
    if (rc) return rc;
    uint8_t *copy = gr_malloc(len);
    if (!copy) return gr_fail(GPURENT_E_NOMEM, "verify batch");
    if (len) memcpy(copy, envelope, len);
    b->env[b->n] = copy;
    b->lens[b->n] = len;
    b->n++;
    /* Earlier answers are void: a later run sizes the results again. */
    for (size_t i = 0; i < b->n; i++) b->status[i] = GPURENT_E_CANCELLED;
    gr_free(b->items);
    b->items = NULL;
    return GPURENT_OK;
}

GPURENT_API size_t gpurent_verify_batch_count(const gpurent_verify_batch *b)
{
    return b ? b->n : 0;
}

GPURENT_API gpurent_status gpurent_verify_batch_run(gpurent_verify_batch *b, gpurent_trust *trust, uint64_t now,
                                                    uint32_t skew_s, const gpurent_verify_options *opts,
                                                    unsigned int threads, const gpurent_cancel *cancel)
{
    GR_CHECK_ARG(b && trust, "batch or trust is NULL");
    if (!b->items && b->n && !(b->items = gr_calloc(b->n, sizeof *b->items)))
        return gr_fail(GPURENT_E_NOMEM, "verify batch");
    return gr_verify_many(trust, (const uint8_t *const *)b->env, b->lens, b->n, now, skew_s, opts, threads, cancel,
                          b->status, b->items);
}

GPURENT_API gpurent_status gpurent_verify_batch_status(const gpurent_verify_batch *b, size_t index)
{
    if (!b || index >= b->n) return GPURENT_E_NOT_FOUND;
    return (gpurent_status)b->status[index];
}

GPURENT_API gpurent_status gpurent_verify_batch_payload(const gpurent_verify_batch *b, size_t index, gpurent_buf *out)
{
    GR_CHECK_ARG(b && out, "batch or out is NULL");
    if (index >= b->n) return gr_fail(GPURENT_E_NOT_FOUND, "verify batch: item %zu of %zu", index, b->n);
    if (b->status[index] == GPURENT_OK && !b->items)
        return gr_fail(GPURENT_E_INTERNAL, "verify batch: results missing");
    if (b->status[index] != GPURENT_OK)
        return gr_fail(b->status[index], "verify batch: item %zu did not verify (%s)", index,
                       gpurent_status_name(b->status[index]));
    const item_out *it = &b->items[index];
    out->data = gr_malloc(it->payload_len);
    if (!out->data) return gr_fail(GPURENT_E_NOMEM, "payload copy");
    memcpy(out->data, b->env[index] + it->payload_off, it->payload_len);
    out->len = it->payload_len;
    return GPURENT_OK;
}
