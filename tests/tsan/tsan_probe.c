/* ThreadSanitizer: the probe from several threads at once.
 *
 * Six threads start together and probe the fake driver's H100
 * (tests/fakecuda), four with every active check and two without, three
 * rounds each; the first probes load the driver together (the loader's
 * table, its lock and the wait for a load in progress are exercised).
 * Every report must be OK and valid, every check plausible,
 * and the fake must hold nothing afterwards. Any data race fails the run
 * (halt_on_error). The fake is built with the same TSan flags (its shared
 * state is behind one lock). Built and run by `make check-tsan`
 * (tests/tsan.mk); the fake is found in $GPURENT_TEST_BUILD/tests, else
 * build/tsan/tests. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpurent.h"

#define THREADS 6
#define ROUNDS 3

static atomic_int failures;
static char fake_path[512];
static pthread_barrier_t start_line;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "tsan_probe: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            atomic_fetch_add(&failures, 1);                                      \
        }                                                                        \
    } while (0)

static void *prober(void *arg)
{
    int with_checks = (int)(intptr_t)arg;
    static const uint8_t nonce[32] = {7};
    gpurent_gpu_report *r = calloc(1, sizeof *r);
    CHECK(r != NULL, "out of memory");
    gpurent_probe_options o = GPURENT_PROBE_OPTIONS_INIT;
    o.driver_path = fake_path;
    o.checks = with_checks ? GPURENT_CHECK_ALL : 0;
    o.check_max_bytes = 1u << 20;
    o.check_ms = 2;
    o.fma_iterations = 16;
    o.fma_samples = 8;
    o.timeout_ms = 60000;
    o.now = 1700000000;
    pthread_barrier_wait(&start_line);
    for (int i = 0; r && i < ROUNDS; i++) {
        int rc = gpurent_probe_run(&o, nonce, NULL, r);
        CHECK(rc == GPURENT_OK, "probe: %s", gpurent_status_name(rc));
        CHECK(r->status == GPURENT_OK, "report status %s: %s", gpurent_status_name(r->status), r->reason);
        CHECK(gpurent_gpu_report_validate(r) == GPURENT_OK, "invalid report: %s", gpurent_last_error_message());
        for (uint32_t d = 0; with_checks && d < r->device_count; d++) {
            const gpurent_probe_device *dev = &r->devices[d];
            CHECK(dev->d2d.verdict == GPURENT_VERDICT_PLAUSIBLE && dev->h2d.verdict == GPURENT_VERDICT_PLAUSIBLE &&
                      dev->fma.verdict == GPURENT_VERDICT_PLAUSIBLE,
                  "device %u: verdicts %u %u %u", d, dev->d2d.verdict, dev->h2d.verdict, dev->fma.verdict);
        }
    }
    free(r);
    return NULL;
}

int main(void)
{
    const char *b = getenv("GPURENT_TEST_BUILD");
    snprintf(fake_path, sizeof fake_path, "%s/tests/libfakecuda.so", b && *b ? b : "build/tsan");
    /* One machine for every thread: the fake reads it at each cuInit. */
    setenv("FAKECUDA_MACHINE", "h100", 1);
    if (gpurent_init() != GPURENT_OK) return 1;
    pthread_barrier_init(&start_line, NULL, THREADS + 1);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, prober, (void *)(intptr_t)(i < 4));
    pthread_barrier_wait(&start_line);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start_line);

    void *h = dlopen(fake_path, RTLD_NOW | RTLD_NOLOAD);
    CHECK(h != NULL, "the fake driver is not loaded");
    if (h) {
        int (*outstanding)(void);
        void *p = dlsym(h, "fakecuda_outstanding");
        memcpy(&outstanding, &p, sizeof outstanding);
        CHECK(p && outstanding() == 0, "the fake driver still holds resources");
        dlclose(h);
    }
    int n = atomic_load(&failures);
    printf("tsan_probe: %d threads x %d probes, %d failure(s)\n", THREADS, ROUNDS, n);
    return n ? 1 : 0;
}
