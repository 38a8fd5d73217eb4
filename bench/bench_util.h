/* Small helpers shared by the benchmarks: a monotonic clock and the BENCH line. */
#ifndef GPURENT_BENCH_UTIL_H
#define GPURENT_BENCH_UTIL_H

#include <stdio.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* BENCH <name> <value> <unit> baseline=<name>:<value> ratio=<value/baseline> */
static inline void bench_line(const char *name, double value, const char *unit, const char *base_name,
                              double base)
{
    printf("BENCH %s %.6g %s baseline=%s:%.6g ratio=%.4f\n", name, value, unit, base_name, base,
           base > 0 ? value / base : 0.0);
    fflush(stdout);
}

#endif
