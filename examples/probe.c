/* Probe this machine's GPUs and print what the driver says; optionally
 * write the report signed, or verify a signed report someone else wrote.
 *
 *   probe [--checks] [--check-mib N] [--out FILE] [--nonce HEX64]
 *         [--sign SEEDHEX | --key FILE] [--valid SECONDS]
 *   probe --verify FILE --trust PUBKEYHEX [--at UNIX_SECONDS]
 *
 * --checks runs the active checks (copy bandwidth, FP32 FMA kernel);
 * --check-mib bounds the memory each check uses (default 256);
 * --out writes the canonical GPU report record to FILE, or with --sign or
 *   --key the signed envelope (a GPU-report statement, subject = the nonce);
 * --nonce binds the report to a verifier's challenge (default: random);
 * --sign signs with the Ed25519 key derived from a 32-byte seed (hex; for
 *   tests: a seed on a command line is visible to other users);
 * --key signs with a sealed key file (gpurent_key_save), its passphrase
 *   read from the environment variable GPURENT_KEY_PASSPHRASE;
 * --valid sets how long the signed report stays valid (default 86400 s);
 * --verify checks a signed report against a trust store holding the
 *   provider key PUBKEYHEX (provider role) at the current time (or --at),
 *   then prints the report it carries.
 * Set GPURENT_CUDA_LIBRARY to probe another driver library (a fake one in
 * tests). A machine without a GPU is not an error: the program says so and
 * exits 0. Uses the public API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#define SKEW_S 300u

static int read_file(const char *path, gpurent_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    int ok = 1;
    for (;;) {
        if (len == cap) {
            uint8_t *t = cap < (64u << 20) ? realloc(data, cap ? cap * 2 : 4096) : NULL;
            if (!t) { ok = 0; break; }
            data = t;
            cap = cap ? cap * 2 : 4096;
        }
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0) { ok = !ferror(f); break; }
    }
    fclose(f);
    if (!ok) { free(data); return -1; }
    b->data = data;
    b->len = len;
    return 0;
}

/* The signing key: from a hex seed or a sealed key file. */
static int load_key(const char *seed_hex, const char *key_path, gpurent_key **key)
{
    if (seed_hex) {
        uint8_t seed[GPURENT_SEED_BYTES];
        if (parse_hex(seed_hex, seed, sizeof seed)) {
            fprintf(stderr, "--sign: the seed must be %d hex digits\n", 2 * GPURENT_SEED_BYTES);
            return GPURENT_E_INVALID_ARG;
        }
        int rc = gpurent_key_from_seed(key, seed);
        memset(seed, 0, sizeof seed);
        return rc;
    }
    const char *pass = getenv("GPURENT_KEY_PASSPHRASE");
    if (!pass) {
        fprintf(stderr, "--key: set GPURENT_KEY_PASSPHRASE to the key file's passphrase\n");
        return GPURENT_E_INVALID_ARG;
    }
    return gpurent_key_load(key, key_path, pass, NULL);
}

/* Sign the encoded report as a GPU-report statement. */
static int sign_report(const gpurent_key *key, const gpurent_gpu_report *r, const gpurent_buf *record,
                       uint64_t valid_s, gpurent_buf *out)
{
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_GPU_REPORT;
    h.issued_at = (uint64_t)time(NULL);
    h.expires_at = h.issued_at + valid_s;
    h.subject_len = sizeof r->nonce;
    memcpy(h.subject, r->nonce, sizeof r->nonce);
    int rc = gpurent_envelope_sign(key, &h, record->data, record->len, out);
    uint8_t pk[GPURENT_KEY_BYTES];
    char pkh[2 * GPURENT_KEY_BYTES + 1];
    if (!rc && !(rc = gpurent_key_public(key, pk))) {
        hex(pk, sizeof pk, pkh);
        printf("signed by provider key %s, valid %llu s\n", pkh, (unsigned long long)valid_s);
    }
    return rc;
}

static int write_report(const gpurent_gpu_report *r, const char *path, const char *seed_hex, const char *key_path,
                        uint64_t valid_s)
{
    gpurent_buf rec = {NULL, 0}, env = {NULL, 0};
    gpurent_key *key = NULL;
    int sign = seed_hex || key_path;
    int rc = gpurent_gpu_report_encode(r, &rec);
    if (rc == GPURENT_OK && sign) rc = load_key(seed_hex, key_path, &key);
    if (rc == GPURENT_OK && sign) rc = sign_report(key, r, &rec, valid_s, &env);
    const gpurent_buf *b = sign ? &env : &rec;
    if (rc == GPURENT_OK && write_file(path, b)) rc = GPURENT_E_IO;
    if (rc == GPURENT_OK) printf("%s: %zu bytes written to %s\n", sign ? "signed report" : "report", b->len, path);
    else fprintf(stderr, "cannot write the report: %s %s\n", gpurent_status_name(rc), gpurent_last_error_message());
    gpurent_key_free(key);
    gpurent_buf_free(&rec);
    gpurent_buf_free(&env);
    return rc;
}

/* --verify: a trust store with one provider key, then the report it signed. */
static int verify_report(const char *path, const char *pk_hex, uint64_t now)
{
    uint8_t pk[GPURENT_KEY_BYTES];
    if (!pk_hex || parse_hex(pk_hex, pk, sizeof pk)) {
        fprintf(stderr, "--verify needs --trust with a %d-hex-digit public key\n", 2 * GPURENT_KEY_BYTES);
        return 2;
    }
    gpurent_buf env = {NULL, 0};
    if (read_file(path, &env)) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    gpurent_trust *trust = NULL;
    gpurent_verified *v = NULL;
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.statement = GPURENT_RECORD_GPU_REPORT; /* the provider role is this statement's default */
    gpurent_gpu_report *r = malloc(sizeof *r);
    int rc = r ? gpurent_trust_new(&trust, NULL) : GPURENT_E_NOMEM;
    if (!rc) rc = gpurent_trust_add(trust, pk, GPURENT_ROLE_PROVIDER, 0, 0);
    if (!rc) rc = gpurent_envelope_verify(trust, env.data, env.len, now, SKEW_S, &o, &v);
    size_t plen = 0;
    const uint8_t *payload = gpurent_verified_payload_data(v, &plen);
    if (!rc) rc = gpurent_gpu_report_decode(payload, plen, r);
    if (!rc) {
        printf("signed GPU report verified: issuer %s, %zu-byte envelope\n", pk_hex, env.len);
        print_report(r);
    } else {
        fprintf(stderr, "signed report refused: %s: %s\n", gpurent_status_name(rc), gpurent_last_error_message());
    }
    gpurent_verified_free(v);
    gpurent_trust_free(trust);
    free(env.data); /* read_file's malloc, not the library's */
    free(r);
    return rc ? 1 : 0;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--checks] [--check-mib N] [--out FILE] [--nonce HEX64] [--sign SEEDHEX | --key FILE]"
            " [--valid SECONDS]\n       %s --verify FILE --trust PUBKEYHEX [--at UNIX_SECONDS]\n",
            argv0, argv0);
}

int main(int argc, char **argv)
{
    gpurent_probe_options opts = GPURENT_PROBE_OPTIONS_INIT;
    const char *out_path = NULL, *seed_hex = NULL, *key_path = NULL, *verify_path = NULL, *trust_hex = NULL;
    uint64_t valid_s = 86400, at = 0;
    uint8_t nonce[32];
    int have_nonce = 0;
    for (int i = 1; i < argc; i++) {
        int more = i + 1 < argc;
        if (strcmp(argv[i], "--checks") == 0) opts.checks = GPURENT_CHECK_ALL;
        else if (strcmp(argv[i], "--check-mib") == 0 && more) opts.check_max_bytes = strtoull(argv[++i], NULL, 10) << 20;
        else if (strcmp(argv[i], "--out") == 0 && more) out_path = argv[++i];
        else if (strcmp(argv[i], "--nonce") == 0 && more && parse_hex(argv[++i], nonce, 32) == 0) have_nonce = 1;
        else if (strcmp(argv[i], "--sign") == 0 && more) seed_hex = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && more) key_path = argv[++i];
        else if (strcmp(argv[i], "--valid") == 0 && more && (valid_s = strtoull(argv[++i], NULL, 10)) > 0) continue;
        else if (strcmp(argv[i], "--verify") == 0 && more) verify_path = argv[++i];
        else if (strcmp(argv[i], "--trust") == 0 && more) trust_hex = argv[++i];
        else if (strcmp(argv[i], "--at") == 0 && more) at = strtoull(argv[++i], NULL, 10);
        else {
            usage(argv[0]);
            return 2;
        }
    }
    if (verify_path) return verify_report(verify_path, trust_hex, at ? at : (uint64_t)time(NULL));
    if ((seed_hex || key_path) && (!out_path || (seed_hex && key_path))) {
        fprintf(stderr, "--sign or --key (one of them) needs --out FILE for the signed report\n");
        return 2;
    }
    uint8_t seed_check[GPURENT_SEED_BYTES];
    if (seed_hex && parse_hex(seed_hex, seed_check, sizeof seed_check)) {
        fprintf(stderr, "--sign: the seed must be %d hex digits\n", 2 * GPURENT_SEED_BYTES);
        return 2;
    }
    memset(seed_check, 0, sizeof seed_check);
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
    if (out_path) rc = write_report(r, out_path, seed_hex, key_path, valid_s);
    free(r);
    return rc == GPURENT_OK ? 0 : 1;
}
