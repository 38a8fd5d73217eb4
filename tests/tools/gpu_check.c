/* gpu-check: the real-GPU acceptance run (docs/probe.md, "gpu-check").
 *
 *   gpu_check [--fake-driver PATH] [--check-mib N] [--check-ms N] [--timeout-ms N]
 *
 * Probes the machine's GPUs through the CUDA driver (in a child process)
 * with every active check, resolves each GPU's name through the model table
 * and prints every figure beside the table's: attributes must be within 5 %
 * (compute capability exactly), the device-to-device copy bandwidth and the
 * FP32 FMA rate at least 0.75 of the table's peaks, and the report must be
 * bound to the challenge nonce with the nonce-seeded kernel's output right.
 *
 * Exit status: 0 every check of every GPU passed; 1 some check failed (or a
 * GPU is not in the model table); 2 no driver or no GPU (nothing was
 * checked); 3 bad arguments or the library failed. Needs nothing but the
 * driver; uses only the public API. --fake-driver loads another driver
 * library (the fake one in tests). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpurent.h"

enum { EXIT_PASS = 0, EXIT_FAIL = 1, EXIT_NO_GPU = 2, EXIT_ERROR = 3 };

static int fails;

static void verdict_line(const char *what, const char *got, const char *want, const char *ratio, int ok,
                         const char *note)
{
    printf("  %-18s %14s %14s %8s  %-4s %s\n", what, got, want, ratio, ok ? "pass" : "FAIL", note);
    if (!ok) fails++;
}

/* A probed integer against the table's figure, within 5 %. A figure the
 * table does not know (0) or the driver did not give is shown, not judged. */
static void attribute(const char *what, const gpurent_pv *pv, uint64_t scale, uint64_t want)
{
    char g[32], w[32], r[48];
    if (pv->state != GPURENT_PV_OK) {
        snprintf(g, sizeof g, "%s", gpurent_pv_state_name(pv->state));
        snprintf(w, sizeof w, "%llu", (unsigned long long)want);
        printf("  %-18s %14s %14s %8s  %-4s %s\n", what, g, w, "", "n/a", "the driver did not give it");
        return;
    }
    uint64_t v = pv->value / scale;
    snprintf(g, sizeof g, "%llu", (unsigned long long)v);
    if (!want) {
        printf("  %-18s %14s %14s %8s  %-4s %s\n", what, g, "-", "", "n/a", "not in the table");
        return;
    }
    snprintf(w, sizeof w, "%llu", (unsigned long long)want);
    uint64_t permille = v * 1000 / want;
    snprintf(r, sizeof r, "%llu.%llu%%", (unsigned long long)(permille / 10), (unsigned long long)(permille % 10));
    int ok = v * 100 >= want * 95 && v * 100 <= want * 105;
    verdict_line(what, g, w, r, ok, "within 5 %");
}

/* An active check against the table's peak: at least 0.75 of it. */
static void measured(const char *what, const gpurent_probe_check *k, uint64_t peak, const char *how)
{
    char g[32], w[32], r[48], note[96];
    snprintf(w, sizeof w, "%llu", (unsigned long long)peak);
    if (k->state != GPURENT_PV_OK) {
        snprintf(g, sizeof g, "%s", gpurent_pv_state_name(k->state));
        snprintf(note, sizeof note, "%s did not run (driver answer %u)", how, k->error);
        verdict_line(what, g, w, "", 0, note);
        return;
    }
    snprintf(g, sizeof g, "%llu", (unsigned long long)k->value);
    uint64_t permille = peak ? k->value * 1000 / peak : 0;
    snprintf(r, sizeof r, "%llu.%llu%%", (unsigned long long)(permille / 10), (unsigned long long)(permille % 10));
    int ok = peak && k->value * 4 >= peak * 3 && k->verdict != GPURENT_VERDICT_WRONG_OUTPUT;
    snprintf(note, sizeof note, "%s, at least 75 %% of the table's peak%s", how,
             k->verdict == GPURENT_VERDICT_WRONG_OUTPUT ? "; WRONG OUTPUT" : "");
    verdict_line(what, g, w, r, ok, note);
}

static void check_device(const gpurent_gpu_report *rep, const gpurent_probe_device *d, const uint8_t nonce[32])
{
    const char *name = d->name.state == GPURENT_PV_OK ? d->name.value : "(no name)";
    printf("GPU %u  %04llx:%02llx:%02llx  %s\n", d->ordinal, (unsigned long long)d->pci_domain.value,
           (unsigned long long)d->pci_bus.value, (unsigned long long)d->pci_device.value, name);
    const gpurent_model *m = NULL;
    uint32_t kind = gpurent_model_lookup(name, &m);
    if (!m) {
        printf("  model              not in the model table v%u (%s): nothing to compare with  FAIL\n",
               gpurent_model_table_version(), gpurent_name_kind_name(kind));
        fails++;
        return;
    }
    printf("  model              %s (by %s; table v%u; %s)\n", m->id, gpurent_name_kind_name(kind),
           gpurent_model_table_version(), m->source);
    printf("  %-18s %14s %14s %8s  %s\n", "figure", "measured", "table", "ratio", "verdict");
    char g[48], w[24];
    int cc_ok = d->cc_major.state == GPURENT_PV_OK && d->cc_minor.state == GPURENT_PV_OK &&
                d->cc_major.value == m->cc_major && d->cc_minor.value == m->cc_minor;
    snprintf(g, sizeof g, "%llu.%llu", (unsigned long long)d->cc_major.value, (unsigned long long)d->cc_minor.value);
    snprintf(w, sizeof w, "%u.%u", m->cc_major, m->cc_minor);
    verdict_line("compute capability", g, w, "", cc_ok, "exactly");
    attribute("SMs", &d->sm_count, 1, m->sm_count);
    attribute("memory MiB", &d->memory_bytes, 1u << 20, m->memory_mib);
    attribute("boost clock MHz", &d->clock_khz, 1000, m->boost_clock_mhz);
    attribute("bus width bits", &d->bus_width_bits, 1, m->bus_width_bits);
    measured("D2D copy MB/s", &d->d2d, m->mem_bw_mbps, "device-to-device copy");
    measured("FP32 GFLOPS", &d->fma, m->fp32_gflops, "FMA kernel");
    if (d->h2d.state == GPURENT_PV_OK)
        printf("  %-18s %14llu %14s %8s  %-4s %s (%s against the PCIe link)\n", "H2D copy MB/s",
               (unsigned long long)d->h2d.value, "-", "", "info", "pinned host-to-device copy",
               gpurent_verdict_name(d->h2d.verdict));
    /* The nonce: the report is bound to our challenge, survives its own
     * canonical encoding, and the kernel seeded by the nonce computed right. */
    int bound = memcmp(rep->nonce, nonce, GPURENT_CHALLENGE_BYTES) == 0;
    gpurent_buf b = {NULL, 0};
    gpurent_gpu_report *back = malloc(sizeof *back);
    int round = back && gpurent_gpu_report_encode(rep, &b) == GPURENT_OK &&
                gpurent_gpu_report_decode(b.data, b.len, back) == GPURENT_OK &&
                memcmp(back->nonce, nonce, GPURENT_CHALLENGE_BYTES) == 0;
    gpurent_buf_free(&b);
    free(back);
    int kernel = d->fma.state == GPURENT_PV_OK && d->fma.verdict != GPURENT_VERDICT_WRONG_OUTPUT;
    verdict_line("nonce", bound ? "bound" : "NOT BOUND", "challenge", "", bound && round && kernel,
                 !kernel ? "the nonce-seeded kernel's output is wrong or missing"
                 : !round ? "the report does not survive its encoding"
                          : "report bound to the challenge; kernel output checked");
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v > 1000000) return -1;
    *out = (uint32_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    gpurent_probe_options o = GPURENT_PROBE_OPTIONS_INIT;
    uint32_t mib = 256, ms = 200, timeout = 60000;
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--fake-driver") && v) o.driver_path = v;
        else if (!strcmp(a, "--check-mib") && v && !parse_u32(v, &mib) && mib >= 1) {}
        else if (!strcmp(a, "--check-ms") && v && !parse_u32(v, &ms) && ms >= 1) {}
        else if (!strcmp(a, "--timeout-ms") && v && !parse_u32(v, &timeout) && timeout >= 1) {}
        else {
            fprintf(stderr, "usage: gpu_check [--fake-driver PATH] [--check-mib N] [--check-ms N] [--timeout-ms N]\n");
            return EXIT_ERROR;
        }
    }
    if (gpurent_init() != GPURENT_OK) return EXIT_ERROR;
    o.checks = GPURENT_CHECK_ALL;
    o.check_max_bytes = (uint64_t)mib << 20;
    o.check_ms = ms;
    o.timeout_ms = timeout;
    uint8_t nonce[GPURENT_CHALLENGE_BYTES];
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(nonce, 1, sizeof nonce, f) : 0;
    if (f) fclose(f);
    if (got != sizeof nonce) {
        fprintf(stderr, "gpu_check: no random nonce (/dev/urandom)\n");
        return EXIT_ERROR;
    }
    gpurent_gpu_report *rep = malloc(sizeof *rep);
    if (!rep) return EXIT_ERROR;
    int rc = gpurent_probe_run_isolated(&o, nonce, NULL, rep);
    if (rc != GPURENT_OK) {
        fprintf(stderr, "gpu_check: probe failed: %s (%s)\n", gpurent_strerror(rc), gpurent_last_error_message());
        free(rep);
        return EXIT_ERROR;
    }
    printf("gpu-check: model table v%u, driver %s", gpurent_model_table_version(),
           rep->driver_path[0] ? rep->driver_path : "(none loaded)");
    if (rep->driver_version.state == GPURENT_PV_OK)
        printf(" (CUDA %llu.%llu)", (unsigned long long)rep->driver_version.value / 1000,
               (unsigned long long)rep->driver_version.value % 1000 / 10);
    printf("\n");
    if (rep->device_count == 0) {
        /* Honest about it: nothing was checked, which is neither a pass nor a failed GPU. */
        printf("gpu-check: no GPU checked: %s (%s)\n", rep->reason[0] ? rep->reason : "no device",
               gpurent_status_name(rep->status));
        free(rep);
        return EXIT_NO_GPU;
    }
    if (rep->status != GPURENT_OK) {
        printf("gpu-check: the probe was partial: %s (%s)\n", rep->reason, gpurent_status_name(rep->status));
        fails++;
    }
    int failed_gpus = 0;
    for (uint32_t i = 0; i < rep->device_count; i++) {
        int before = fails;
        check_device(rep, gpurent_gpu_report_device(rep, i), nonce);
        printf("GPU %u: %s\n", rep->devices[i].ordinal, fails == before ? "PASS" : "FAIL");
        failed_gpus += fails != before;
    }
    printf("gpu-check: %u GPU%s, %s\n", rep->device_count, rep->device_count == 1 ? "" : "s",
           fails ? "SOME CHECKS FAILED" : "all checks pass");
    if (failed_gpus) printf("gpu-check: %d of %u GPUs failed\n", failed_gpus, rep->device_count);
    free(rep);
    return fails ? EXIT_FAIL : EXIT_PASS;
}
