/* ThreadSanitizer: core and wire from many threads at once.
 *
 * Eight threads each encode, decode and validate GPU, offer and request
 * records, decode shared encodings and read a shared decoded offer, make
 * calls fail on purpose and check that the per-thread error detail they read
 * is their own, create and free handles, and watch cancel tokens (their own,
 * and one shared token the main thread sets while they run). Any data race makes TSan fail the run
 * (halt_on_error); wrong results fail it through CHECK. Built and run by
 * `make check-tsan` (tests/tsan.mk) against a -fsanitize=thread build of the
 * library. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpurent.h"

#define THREADS 8

static atomic_int failures;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "tsan_wire: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            atomic_fetch_add(&failures, 1);                                     \
        }                                                                       \
    } while (0)

/* Shared, read-only while the threads run. */
static gpurent_buf shared_gpu, shared_offer, shared_request;
static gpurent_offer shared_decoded;
static gpurent_cancel *shared_stop;
static atomic_int saw_stop;
/* All threads (and main) start together, so every pair runs at the same time
 * (a thread that ended before another began would race with nothing). */
static pthread_barrier_t start_line;

static int iterations(void)
{
    const char *v = getenv("GPURENT_TEST_VALGRIND");
    return v && *v == '1' ? 20 : 300;
}

static void make_gpu(gpurent_gpu *g, unsigned tid, unsigned i)
{
    memset(g, 0, sizeof *g);
    snprintf(g->model, sizeof g->model, "GPU t%u i%u", tid, i);
    memset(g->uuid, (int)tid, sizeof g->uuid);
    g->cc_major = 8 + (tid % 2);
    g->cc_minor = tid % 10;
    g->sm_count = 100 + tid;
    g->memory_mib = 1000u * (i + 1);
    g->interface = GPURENT_IFACE_PCIE;
    g->cuda_version = 12000 + i;
}

static void make_offer(gpurent_offer *o, unsigned tid, unsigned nodes)
{
    gpurent_node n;
    gpurent_offer_init(o);
    memset(o->provider_key, (int)tid + 1, sizeof o->provider_key);
    snprintf(o->region, sizeof o->region, "region-%u", tid);
    o->seq = tid;
    for (unsigned k = 0; k < nodes; k++) {
        memset(&n, 0, sizeof n);
        snprintf(n.node_id, sizeof n.node_id, "t%u-n%u", tid, k);
        make_gpu(&n.gpu, tid, k);
        n.gpu_count = 1 + k % 8;
        n.gpu_free = n.gpu_count / 2;
        n.price_micro_per_gpu_hour = 1000000u + tid;
        CHECK(gpurent_offer_add_node(o, &n) == GPURENT_OK, "add_node: %s", gpurent_last_error_message());
    }
}

static void round_trip_gpu(unsigned tid, unsigned i)
{
    gpurent_gpu g, back;
    gpurent_buf b = {0};
    make_gpu(&g, tid, i);
    CHECK(gpurent_gpu_validate(&g) == GPURENT_OK, "gpu validate");
    CHECK(gpurent_gpu_encode(&g, &b) == GPURENT_OK, "gpu encode");
    CHECK(gpurent_wire_check_canonical(b.data, b.len) == GPURENT_OK, "gpu canonical");
    uint32_t type = 0;
    CHECK(gpurent_wire_record_type(b.data, b.len, &type) == GPURENT_OK && type == GPURENT_RECORD_GPU, "type");
    CHECK(gpurent_gpu_decode(b.data, b.len, &back) == GPURENT_OK, "gpu decode");
    CHECK(strcmp(back.model, g.model) == 0 && back.memory_mib == g.memory_mib, "gpu fields differ");
    gpurent_buf_free(&b);
}

static void round_trip_offer(unsigned tid, unsigned i)
{
    gpurent_offer o, back;
    gpurent_buf b = {0}, again = {0};
    make_offer(&o, tid, 1 + i % 4);
    CHECK(gpurent_offer_encode(&o, &b) == GPURENT_OK, "offer encode: %s", gpurent_last_error_message());
    gpurent_offer_init(&back);
    CHECK(gpurent_offer_decode(b.data, b.len, &back) == GPURENT_OK, "offer decode");
    CHECK(back.node_count == o.node_count, "node count");
    CHECK(gpurent_offer_encode(&back, &again) == GPURENT_OK, "offer re-encode");
    CHECK(again.len == b.len && memcmp(again.data, b.data, b.len) == 0, "offer bytes differ");
    gpurent_buf_free(&b);
    gpurent_buf_free(&again);
    gpurent_offer_clear(&back);
    gpurent_offer_clear(&o);
}

static void round_trip_request(unsigned tid, unsigned i)
{
    gpurent_request q, back;
    gpurent_buf b = {0};
    char s[32];
    gpurent_request_init(&q);
    snprintf(q.request_id, sizeof q.request_id, "req-%u-%u", tid, i);
    /* Added in descending order: the encoder sorts, the decoder insists. */
    for (int k = 3; k >= 0; k--) {
        snprintf(s, sizeof s, "model-%d-%u", k, tid);
        CHECK(gpurent_request_add_model(&q, s) == GPURENT_OK, "add_model");
    }
    CHECK(gpurent_request_encode(&q, &b) == GPURENT_OK, "request encode");
    CHECK(gpurent_request_decode(b.data, b.len, &back) == GPURENT_OK, "request decode");
    CHECK(back.model_count == 4 && strcmp(back.models[0], back.models[1]) < 0, "request models");
    gpurent_buf_free(&b);
}

/* Read what every thread shares: the encodings and the decoded offer. */
static void read_shared(void)
{
    gpurent_gpu g;
    gpurent_offer o;
    gpurent_request q;
    CHECK(gpurent_gpu_decode(shared_gpu.data, shared_gpu.len, &g) == GPURENT_OK, "shared gpu");
    gpurent_offer_init(&o);
    CHECK(gpurent_offer_decode(shared_offer.data, shared_offer.len, &o) == GPURENT_OK, "shared offer");
    gpurent_offer_clear(&o);
    CHECK(gpurent_request_decode(shared_request.data, shared_request.len, &q) == GPURENT_OK, "shared request");
    for (uint32_t k = 0; k < shared_decoded.node_count; k++) {
        const gpurent_node *n = gpurent_offer_node(&shared_decoded, k);
        CHECK(n && n->gpu_count >= 1, "shared node %u", k);
    }
    CHECK(gpurent_offer_validate(&shared_decoded) == GPURENT_OK, "shared offer validate");
}

/* Fail on purpose with a detail only this thread can produce, then check
 * that the detail this thread reads is its own, even though the others are
 * failing at the same moment. */
static void own_error_detail(unsigned tid, unsigned i)
{
    gpurent_offer o;
    char want[64];
    make_offer(&o, tid, 2 + tid);
    /* Node tid+1 repeats node 0's id: "offer.nodes[<tid+1>].node_id: 't<tid>-n0' repeats nodes[0]". */
    snprintf(o.nodes[tid + 1].node_id, sizeof o.nodes[tid + 1].node_id, "t%u-n0", tid);
    CHECK(gpurent_offer_validate(&o) == GPURENT_E_INVALID_FIELD, "duplicate node id accepted");
    snprintf(want, sizeof want, "offer.nodes[%u].node_id: 't%u-n0' repeats nodes[0]", tid + 1, tid);
    CHECK(strstr(gpurent_last_error_message(), want) != NULL, "thread %u reads detail '%s'", tid,
          gpurent_last_error_message());
    CHECK(gpurent_last_error_status() == GPURENT_E_INVALID_FIELD, "thread %u status", tid);
    gpurent_offer_clear(&o);
    /* A decode failure overwrites it, on this thread only. */
    uint8_t bad[2] = {0xcc, (uint8_t)(i & 0x7f)};
    CHECK(gpurent_wire_check_canonical(bad, 2) == GPURENT_E_NONCANONICAL, "padded int accepted");
    CHECK(strstr(gpurent_last_error_message(), "shortest form") != NULL, "detail '%s'", gpurent_last_error_message());
    gpurent_error_clear();
    CHECK(gpurent_last_error_message()[0] == '\0', "clear did not clear");
}

static void *worker(void *arg)
{
    unsigned tid = (unsigned)(uintptr_t)arg;
    gpurent_cancel *mine = NULL;
    CHECK(gpurent_init() == GPURENT_OK, "init");
    CHECK(gpurent_cancel_new(&mine) == GPURENT_OK, "cancel_new");
    pthread_barrier_wait(&start_line);
    int n = iterations();
    for (int i = 0; i < n; i++) {
        round_trip_gpu(tid, (unsigned)i);
        round_trip_offer(tid, (unsigned)i);
        round_trip_request(tid, (unsigned)i);
        read_shared();
        own_error_detail(tid, (unsigned)i);
        /* This thread's own token: set and reset in turn. */
        if (i % 2) gpurent_cancel_request(mine);
        else gpurent_cancel_reset(mine);
        CHECK(gpurent_cancel_requested(mine) == (i % 2), "own token");
        /* Handles created and freed on every thread at once. */
        gpurent_cancel *tmp = NULL;
        CHECK(gpurent_cancel_new(&tmp) == GPURENT_OK, "cancel_new");
        gpurent_cancel_request(tmp);
        CHECK(gpurent_cancel_requested(tmp) == 1, "fresh token");
        gpurent_cancel_free(tmp);
        gpurent_cancel_requested(shared_stop); /* read while main may set it */
    }
    gpurent_cancel_free(mine);
    /* Keep working until the main thread sets the shared token. */
    unsigned spins = 0;
    while (!gpurent_cancel_requested(shared_stop)) {
        round_trip_gpu(tid, spins++ % 1000);
    }
    atomic_fetch_add(&saw_stop, 1);
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    gpurent_gpu g;
    gpurent_request q;
    gpurent_offer o;

    if (gpurent_cancel_new(&shared_stop) != GPURENT_OK) return 1;
    make_gpu(&g, 99, 1);
    make_offer(&o, 99, 16);
    gpurent_request_init(&q);
    strcpy(q.request_id, "shared");
    if (gpurent_gpu_encode(&g, &shared_gpu) || gpurent_offer_encode(&o, &shared_offer) ||
        gpurent_request_encode(&q, &shared_request)) {
        fprintf(stderr, "tsan_wire: setup failed: %s\n", gpurent_last_error_message());
        return 1;
    }
    gpurent_offer_init(&shared_decoded);
    if (gpurent_offer_decode(shared_offer.data, shared_offer.len, &shared_decoded)) return 1;
    gpurent_offer_clear(&o);

    if (pthread_barrier_init(&start_line, NULL, THREADS + 1)) return 1;
    for (unsigned i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i)) return 1;
    /* Set the shared token while every thread is running and reading it. */
    pthread_barrier_wait(&start_line);
    gpurent_cancel_request(shared_stop);
    for (unsigned i = 0; i < THREADS; i++) pthread_join(t[i], NULL);

    pthread_barrier_destroy(&start_line);
    CHECK(atomic_load(&saw_stop) == THREADS, "%d threads saw the shared token", atomic_load(&saw_stop));
    gpurent_offer_clear(&shared_decoded);
    gpurent_buf_free(&shared_gpu);
    gpurent_buf_free(&shared_offer);
    gpurent_buf_free(&shared_request);
    gpurent_cancel_free(shared_stop);
    if (atomic_load(&failures)) {
        fprintf(stderr, "tsan_wire: %d checks failed\n", atomic_load(&failures));
        return 1;
    }
    printf("tsan_wire: %d threads x %d iterations clean\n", THREADS, iterations());
    return 0;
}
