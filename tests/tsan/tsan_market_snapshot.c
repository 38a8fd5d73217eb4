/* ThreadSanitizer: market snapshots, whose load checks the requests'
 * digests on a second thread (lib/match/snapshot.c, digest_check) while the
 * body's checksum is hashed on a third, and whose save to a file streams
 * the body out through a worker (lib/core/snapshot.c).
 *
 * Three threads at once, each a few rounds: load ONE saved market (the
 * same bytes for all), save what loaded and compare the bytes with the
 * original; load a copy whose last request carries another digest and
 * check it is refused; save the market to its own file (a small stream
 * buffer, so the worker takes many hand-overs) and load that file back.
 * Built and run by `make check-tsan` (tests/tsan.mk). */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/snap_internal.h"
#include "gpurent.h"
#include "match/match_internal.h"
#include "support/gen.c" /* deterministic offers and requests */

#define CHECK(cond, ...)                                                           \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "tsan_market_snapshot: %s:%d: ", __FILE__, __LINE__);  \
            fprintf(stderr, __VA_ARGS__);                                          \
            fprintf(stderr, "\n");                                                 \
            exit(1);                                                               \
        }                                                                          \
    } while (0)

#define THREADS 3
#define OFFERS 300
#define REQUESTS 9000

static gpurent_market *market;
static gpurent_buf saved, flipped;
static pthread_barrier_t start_line;

static int rounds(void)
{
    const char *v = getenv("GPURENT_TEST_VALGRIND");
    return v && *v == '1' ? 1 : 2;
}

static void *run(void *arg)
{
    unsigned tid = (unsigned)(size_t)arg;
    char path[128];
    snprintf(path, sizeof path, "/tmp/gpurent-tsan-market.%d.%u", (int)getpid(), tid);
    pthread_barrier_wait(&start_line);
    for (int i = 0; i < rounds(); i++) {
        gpurent_market *l = NULL;
        gpurent_buf again = {0};
        CHECK(gpurent_market_load(&l, saved.data, saved.len, NULL, NULL) == GPURENT_OK, "thread %u: load: %s", tid,
              gpurent_last_error_message());
        CHECK(gpurent_market_save(l, 1, &again) == GPURENT_OK, "save");
        CHECK(again.len == saved.len && memcmp(again.data, saved.data, saved.len) == 0, "thread %u: other bytes",
              tid);
        gpurent_buf_free(&again);
        gpurent_market_free(l);
        l = NULL;
        CHECK(gpurent_market_load(&l, flipped.data, flipped.len, NULL, NULL) == GPURENT_E_SNAPSHOT_CORRUPT && !l,
              "thread %u: a wrong digest loads", tid);
        CHECK(strstr(gpurent_last_error_message(), "digest is not its record's") != NULL, "thread %u: %s", tid,
              gpurent_last_error_message());
        CHECK(gpurent_market_save_file(market, 1, path) == GPURENT_OK, "thread %u: save_file: %s", tid,
              gpurent_last_error_message());
        CHECK(gpurent_market_load_file(&l, path, NULL, NULL) == GPURENT_OK, "thread %u: load_file: %s", tid,
              gpurent_last_error_message());
        gpurent_market_free(l);
    }
    unlink(path);
    return NULL;
}

int main(void)
{
    CHECK(gpurent_init() == GPURENT_OK, "init");
    CHECK(gpurent_market_new(&market, NULL, NULL) == GPURENT_OK, "new");
    gen_rng r = {7};
    for (unsigned i = 0; i < OFFERS; i++) {
        gpurent_offer o;
        gpurent_offer_init(&o);
        gen_offer(&r, &o);
        o.provider_key[0] = (uint8_t)i;
        o.provider_key[1] = (uint8_t)(i >> 8);
        CHECK(gpurent_market_put_offer(market, &o) == GPURENT_OK, "offer %u: %s", i, gpurent_last_error_message());
        gpurent_offer_clear(&o);
    }
    uint8_t last[32] = {0};
    char last_id[GPURENT_NAME_MAX] = "";
    for (unsigned q = 0; q < REQUESTS; q++) {
        gpurent_request req;
        gen_request(&r, &req);
        uint8_t d[32];
        CHECK(gpurent_market_add_request(market, &req) == GPURENT_OK, "request %u: %s", q,
              gpurent_last_error_message());
        gpurent_buf rec = {0}; /* the market's digest: BLAKE2b-256 of the canonical record */
        CHECK(gpurent_request_encode(&req, &rec) == GPURENT_OK, "encode");
        crypto_generichash(d, 32, rec.data, rec.len, NULL, 0);
        gpurent_buf_free(&rec);
        if (strcmp(req.request_id, last_id) > 0) {
            memcpy(last, d, 32);
            snprintf(last_id, sizeof last_id, "%s", req.request_id);
        }
    }
    CHECK(gpurent_market_save(market, 1, &saved) == GPURENT_OK, "save");
    CHECK(gpurent_market_save(market, 1, &flipped) == GPURENT_OK, "save");
    uint8_t *at = NULL;
    for (size_t k = 64; k + 32 <= flipped.len - 32; k++)
        if (memcmp(flipped.data + k, last, 32) == 0) at = flipped.data + k;
    CHECK(at != NULL, "the last request's digest is not in the snapshot");
    at[0] ^= 1;
    gr_snap_seal(flipped.data, flipped.len);
    gr_snap_test_stream_buf = ((size_t)1 << 20) + 4096; /* many hand-overs */
    ml_index_link_parallel_min = 64; /* each load links its index on two threads */
    pthread_t t[THREADS];
    pthread_barrier_init(&start_line, NULL, THREADS);
    for (unsigned i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, run, (void *)(size_t)i) == 0, "start");
    for (unsigned i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start_line);
    printf("tsan_market_snapshot: %d threads x %d rounds, %zu-byte snapshot, loads identical\n", THREADS, rounds(),
           saved.len);
    gpurent_buf_free(&saved);
    gpurent_buf_free(&flipped);
    gpurent_market_free(market);
    return 0;
}
