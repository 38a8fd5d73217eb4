/* Probe this machine's GPUs and print what the driver says.
 *
 *   probe [--checks] [--check-mib N] [--out FILE] [--nonce HEX64]
 *
 * --checks runs the active checks (copy bandwidth, FP32 FMA kernel);
 * --check-mib bounds the memory each check uses (default 256);
 * --out writes the canonical GPU report record to FILE;
 * --nonce binds the report to a verifier's challenge (default: random).
 * Set GPURENT_CUDA_LIBRARY to probe another driver library (a fake one in
 * tests). A machine without a GPU is not an error: the program says so and
 * exits 0. Uses the public API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpurent.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

static int parse_hex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static int random_nonce(uint8_t *nonce, size_t n)
{
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(nonce, 1, n, f) : 0;
    if (f) fclose(f);
    return got == n ? 0 : -1;
}

/* A probed value, its unit scaled by `div`, or why there is none. */
static const char *pv_text(const gpurent_pv *pv, uint64_t div, char *buf, size_t cap)
{
    if (pv->state == GPURENT_PV_OK) snprintf(buf, cap, "%llu", (unsigned long long)(pv->value / div));
    else if (pv->state == GPURENT_PV_ERROR) snprintf(buf, cap, "err %u", pv->error);
    else snprintf(buf, cap, "%s", gpurent_pv_state_name(pv->state));
    return buf;
}

static void print_check(const char *what, const char *unit, const gpurent_probe_check *k)
{
    if (k->state == GPURENT_PV_SKIPPED) return;
    if (k->state != GPURENT_PV_OK) {
        printf("    %-4s %s (driver error %u)\n", what, gpurent_pv_state_name(k->state), k->error);
        return;
    }
    printf("    %-4s %10llu %-6s %3u.%01u%% of peak  %s\n", what, (unsigned long long)k->value, unit,
           k->ratio_ppm / 10000, (k->ratio_ppm / 1000) % 10, gpurent_verdict_name(k->verdict));
}

static void print_device(const gpurent_probe_device *d)
{
    char a[24], b[24], c[24], e[24], f[24], g[24], h[24], i[24], j[24], k[24], l[24];
    printf("%-3u %04llx:%02llx:%02llx  %-26s %s.%s %4s %8s %6s %6s %5s %7s %4s\n", d->ordinal,
           (unsigned long long)d->pci_domain.value, (unsigned long long)d->pci_bus.value,
           (unsigned long long)d->pci_device.value,
           d->name.state == GPURENT_PV_OK ? d->name.value : gpurent_pv_state_name(d->name.state),
           pv_text(&d->cc_major, 1, a, sizeof a), pv_text(&d->cc_minor, 1, b, sizeof b),
           pv_text(&d->sm_count, 1, c, sizeof c), pv_text(&d->memory_bytes, 1u << 20, e, sizeof e),
           pv_text(&d->clock_khz, 1000, f, sizeof f), pv_text(&d->mem_clock_khz, 1000, g, sizeof g),
           pv_text(&d->bus_width_bits, 1, h, sizeof h), pv_text(&d->l2_bytes, 1024, i, sizeof i),
           pv_text(&d->ecc_enabled, 1, j, sizeof j));
    printf("    peaks: FP32 %s GFLOPS, FP16 tensor %s GFLOPS, memory %s MB/s, host link %s MB/s\n",
           pv_text(&d->fp32_gflops, 1, a, sizeof a), pv_text(&d->fp16_tensor_gflops, 1, k, sizeof k),
           pv_text(&d->mem_bw_mbps, 1, b, sizeof b), pv_text(&d->h2d_peak_mbps, 1, l, sizeof l));
    print_check("d2d", "MB/s", &d->d2d);
    print_check("h2d", "MB/s", &d->h2d);
    print_check("fma", "GFLOPS", &d->fma);
}

static void print_report(const gpurent_gpu_report *r)
{
    char digest[65], nonce[65], ver[24];
    hex(r->driver_digest, sizeof r->driver_digest, digest);
    hex(r->nonce, sizeof r->nonce, nonce);
    printf("GPU report for nonce %s\n", nonce);
    if (r->driver_path[0])
        printf("driver: %s\n  BLAKE2b-256 %s, version %s\n", r->driver_path, digest,
               pv_text(&r->driver_version, 1, ver, sizeof ver));
    printf("LD_PRELOAD %s, CUDA_VISIBLE_DEVICES %s\n", r->ld_preload_set ? "set" : "not set",
           r->cuda_visible_devices_set ? "set" : "not set");
    if (r->device_count == 0) {
        printf("No usable GPU on this machine: %s (%s)\n", gpurent_strerror(r->status), r->reason);
        return;
    }
    if (r->status != GPURENT_OK) printf("warning: %s: %s\n", gpurent_status_name(r->status), r->reason);
    else if (r->reason[0]) printf("note: %s\n", r->reason);
    printf("%-3s %-12s  %-26s %-3s %4s %8s %6s %6s %5s %7s %4s\n", "#", "PCI", "name", "CC", "SMs", "mem MiB",
           "MHz", "memMHz", "bus", "L2 KiB", "ECC");
    for (uint32_t i = 0; i < r->device_count; i++) print_device(gpurent_gpu_report_device(r, i));
}

static int write_file(const char *path, const gpurent_buf *b)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(b->data, 1, b->len, f) == b->len;
    if (f && fclose(f)) ok = 0;
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    gpurent_probe_options opts = GPURENT_PROBE_OPTIONS_INIT;
    const char *out_path = NULL;
    uint8_t nonce[32];
    int have_nonce = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--checks") == 0) opts.checks = GPURENT_CHECK_ALL;
        else if (strcmp(argv[i], "--check-mib") == 0 && i + 1 < argc) opts.check_max_bytes = strtoull(argv[++i], NULL, 10) << 20;
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out_path = argv[++i];
        else if (strcmp(argv[i], "--nonce") == 0 && i + 1 < argc && parse_hex(argv[++i], nonce, 32) == 0) have_nonce = 1;
        else {
            fprintf(stderr, "usage: %s [--checks] [--check-mib N] [--out FILE] [--nonce HEX64]\n", argv[0]);
            return 2;
        }
    }
    if (!have_nonce && random_nonce(nonce, sizeof nonce)) {
        fprintf(stderr, "cannot read /dev/urandom\n");
        return 1;
    }
    gpurent_gpu_report *r = malloc(sizeof *r);
    if (!r) return 1;
    int rc = gpurent_probe_run(&opts, nonce, NULL, r);
    if (rc != GPURENT_OK) {
        fprintf(stderr, "probe failed: %s: %s\n", gpurent_status_name(rc), gpurent_last_error_message());
        free(r);
        return 1;
    }
    print_report(r);
    if (out_path) {
        gpurent_buf b = {NULL, 0};
        rc = gpurent_gpu_report_encode(r, &b);
        if (rc == GPURENT_OK && write_file(out_path, &b)) rc = GPURENT_E_IO;
        if (rc == GPURENT_OK) printf("report: %zu bytes written to %s\n", b.len, out_path);
        else fprintf(stderr, "cannot write the report: %s %s\n", gpurent_status_name(rc), gpurent_last_error_message());
        gpurent_buf_free(&b);
    }
    free(r);
    return rc == GPURENT_OK ? 0 : 1;
}
