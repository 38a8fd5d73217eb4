/* gpurent probe: what this machine's GPUs are and how fast they run. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gpurent/probe.h"


static void pv(char *dst, size_t cap, const gpurent_pv *v, uint64_t div, const char *unit)
{
    if (v->state == GPURENT_PV_OK) snprintf(dst, cap, "%llu%s", (unsigned long long)(v->value / div), unit);
    else if (v->state == GPURENT_PV_UNSUPPORTED) snprintf(dst, cap, "unsupported");
    else snprintf(dst, cap, "error %u", v->error);
}

static void check_cell(char *dst, size_t cap, const gpurent_probe_check *c, const char *unit)
{
    if (c->state == GPURENT_PV_SKIPPED) snprintf(dst, cap, "-");
    else if (c->state != GPURENT_PV_OK) snprintf(dst, cap, "%s (%u)", gpurent_pv_state_name(c->state), c->error);
    else
        snprintf(dst, cap, "%llu %s, %u.%02u of peak, %s", (unsigned long long)c->value, unit, c->ratio_ppm / 1000000,
                 c->ratio_ppm % 1000000 / 10000, gpurent_verdict_name(c->verdict));
}

static void print_table(const gpurent_gpu_report *r)
{
    char a[64], b[64], c[64], d[64], e[64];
    pv(a, sizeof a, &r->driver_version, 1, "");
    printf("driver: %s (version %s)%s%s\n", r->driver_path[0] ? r->driver_path : "none", a,
           r->ld_preload_set ? ", LD_PRELOAD set" : "", r->cuda_visible_devices_set ? ", CUDA_VISIBLE_DEVICES set" : "");
    if (r->status != GPURENT_OK) printf("status: %s: %s\n", gpurent_status_name(r->status), r->reason);
    if (r->device_count == 0) {
        printf("no usable GPU on this machine\n");
        return;
    }
    printf("%-3s %-28s %-10s %-5s %-5s %-11s %-12s %-12s\n", "#", "name", "pci", "cc", "SMs", "memory",
           "fp32 peak", "mem bw peak");
    for (uint32_t i = 0; i < r->device_count; i++) {
        const gpurent_probe_device *g = &r->devices[i];
        pv(a, sizeof a, &g->sm_count, 1, "");
        pv(b, sizeof b, &g->memory_bytes, 1u << 20, " MiB");
        pv(c, sizeof c, &g->fp32_gflops, 1, " GFLOPS");
        pv(d, sizeof d, &g->mem_bw_mbps, 1, " MB/s");
        snprintf(e, sizeof e, "%llx:%02llx:%02llx", (unsigned long long)g->pci_domain.value,
                 (unsigned long long)g->pci_bus.value, (unsigned long long)g->pci_device.value);
        printf("%-3u %-28.28s %-10s %llu.%-3llu %-5s %-11s %-12s %-12s\n", g->ordinal,
               g->name.state == GPURENT_PV_OK ? g->name.value : "?", e, (unsigned long long)g->cc_major.value,
               (unsigned long long)g->cc_minor.value, a, b, c, d);
        if (g->pci_vendor_id)
            printf("    product: pci %04x:%04x, subsystem %04x:%04x\n", g->pci_vendor_id, g->pci_device_id,
                   g->pci_subsystem_vendor_id, g->pci_subsystem_device_id);
        else
            printf("    product: pci ids not known (no sysfs entry at its address)\n");
        if (r->checks) {
            check_cell(a, sizeof a, &g->d2d, "MB/s");
            check_cell(b, sizeof b, &g->h2d, "MB/s");
            check_cell(c, sizeof c, &g->fma, "GFLOPS");
            printf("    d2d copy: %s\n    h2d copy: %s\n    fp32 fma: %s\n", a, b, c);
        }
    }
}

static const cli_cmd probe_cmd = {
    "probe",
    "usage: gpurent probe [--active] [--json] [--nonce HEX64] [--driver PATH] [--timeout-ms N] [--now T]\n"
    "                     [-o REPORT] [--key KEYFILE [--expires-in S]]\n",
    "Probe this machine's GPUs through the CUDA driver (loaded at run time; $" GPURENT_CUDA_LIBRARY_ENV " or --driver\n"
    "names another library). Prints a table, or the report as JSON with --json. --active runs\n"
    "the copy and FMA checks. -o writes the canonical GPU report, or with --key the report\n"
    "signed as a GPU-report statement. A machine without GPU gets an empty report and exit 0.\n",
    (const cli_optdef[]){{"--active", OPT_FLAG, 0, 0, 0}, {"--json", OPT_FLAG, 0, 0, 0},
                         {"--nonce", OPT_HEX32, 0, 0, 0}, {"--driver", OPT_STR, 0, 0, 0},
                         {"--timeout-ms", OPT_U64, 0, 1, 600000}, {"--now", OPT_U64, 0, 0, 1ull << 40},
                         {"-o", OPT_STR, 0, 0, 0}, {"--key", OPT_STR, 0, 0, 0},
                         {"--expires-in", OPT_U64, 0, 1, 1ull << 40}, {"--pass-env", OPT_STR, 0, 0, 0},
                         {"--pass-file", OPT_STR, 0, 0, 0}, {NULL, OPT_FLAG, 0, 0, 0}},
    0, 0, NULL};

int cmd_probe(int argc, char **argv)
{
    cli_args args;
    int prc = cli_parse(&probe_cmd, argc, argv, &args);
    if (prc) return prc < 0 ? 0 : prc;
    const cli_args *A = &args;
    if (cli_opt(A, "--key") && !cli_opt(A, "-o")) return cli_usage_error(A, "--key signs the report written by -o REPORT");
    gpurent_probe_options o = GPURENT_PROBE_OPTIONS_INIT;
    o.driver_path = cli_opt(A, "--driver");
    if (cli_flag(A, "--active")) o.checks = GPURENT_CHECK_ALL;
    o.timeout_ms = (uint32_t)cli_opt_u64(A, "--timeout-ms", o.timeout_ms);
    o.now = cli_now(A);
    uint8_t nonce[32];
    if (!cli_opt_hex32(A, "--nonce", nonce)) {
        /* No verifier challenge given: a fresh one still binds the report to this run. */
        randombytes_buf(nonce, sizeof nonce);
    }
    gpurent_gpu_report *r = malloc(sizeof *r);
    if (!r) return cli_fail("probe", EXIT_FAILED, "out of memory");
    /* In a helper process: a driver that crashes or hangs costs the child, not the CLI. */
    int rc = gpurent_probe_run_isolated(&o, nonce, NULL, r);
    if (rc) { free(r); return cli_fail_status("probe", rc, EXIT_FAILED); }
    gpurent_buf rep = {0};
    if ((rc = gpurent_gpu_report_encode(r, &rep))) { free(r); return cli_fail_status("probe", rc, EXIT_FAILED); }
    if (cli_flag(A, "--json")) {
        char err[300];
        json_t *j = cli_json_from_record(rep.data, rep.len, err, sizeof err);
        if (j) {
            json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            fputc('\n', stdout);
            json_decref(j);
        }
    } else {
        print_table(r);
    }
    free(r);
    const char *out = cli_opt(A, "-o");
    if (out && cli_opt(A, "--key")) {
        gpurent_key *key = NULL;
        if ((rc = cli_load_key(A, &key))) { gpurent_buf_free(&rep); return rc; }
        gpurent_envelope h;
        gpurent_envelope_init(&h);
        h.statement = GPURENT_RECORD_GPU_REPORT;
        h.issued_at = o.now;
        h.expires_at = o.now + cli_opt_u64(A, "--expires-in", 86400);
        gpurent_buf env = {0};
        rc = gpurent_envelope_sign(key, &h, rep.data, rep.len, &env);
        gpurent_key_free(key);
        gpurent_buf_free(&rep);
        if (rc) return cli_fail_status("probe", rc, EXIT_FAILED);
        rep = env;
    }
    rc = out ? cli_write_file(out, rep.data, rep.len) : 0;
    gpurent_buf_free(&rep);
    return rc ? cli_fail("probe", EXIT_IO, "%s: %s", out, strerror(errno)) : 0;
}
