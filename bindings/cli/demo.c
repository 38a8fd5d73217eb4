/* gpurent demo: a whole simulated market in one process, on built-in defaults.
 *
 * Providers generate keys, probe their GPUs (the real driver when this
 * machine has one, else the fake machines of tests/fakecuda), sign GPU
 * reports and offers. Auditors verify them, audit every provider each era
 * and sign audit reports; three auditors' tier engines turn the verified
 * reports into byte-identical tier certificates that they sign as a quorum.
 * Three matchmakers each build a market from what they verified (in a
 * different order), match a stream of requests, find byte-identical
 * receipts and sign them as a quorum; requesters verify their receipt.
 * Everything random is drawn from one seed, so two runs print the same
 * market. */
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "gpurent/match.h"
#include "gpurent/probe.h"
#include "gpurent/tier.h"

#define AUDITORS 5
#define TIER_AUDITORS 3 /* auditors that run a tier engine and co-sign certificates */
#define MATCHERS 3
#define MATCHER_QUORUM 2
#define GENESIS 1767225600ull /* 2026-01-01: era 0 */
#define ERA_S 86400ull

typedef struct demo_cfg {
    uint32_t providers, requests, eras;
    uint64_t seed;
    const char *fake_driver; /* --fake-driver: always used */
    const char *fake_auto;   /* found by itself: used when this machine has no GPU */
} demo_cfg;

typedef struct provider {
    gpurent_key *key;
    uint8_t pk[32];
    uint32_t machine;     /* index into the probed machines */
    uint32_t quality_ppm; /* chance a challenge passes */
    uint32_t bad_era;     /* era of a failed security audit, or UINT32_MAX */
    gpurent_buf report;   /* signed GPU report */
    uint8_t report_digest[32];
    gpurent_buf offer;    /* signed offer */
} provider;

typedef struct machine {
    const char *label;
    gpurent_gpu gpu;
    uint32_t gpus;        /* GPUs the probed machine has */
    uint64_t price_micro; /* typical market price per GPU-hour */
    gpurent_buf report;   /* canonical GPU report */
} machine;

/* ---------------- small utilities ---------------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }


typedef struct step {
    const char *name;
    double seconds;
} step;
static step steps[16];
static int nsteps;
static double step_t0;

static void step_begin(const char *what)
{
    printf("• %s\n", what);
    fflush(stdout);
    step_t0 = cli_mono_s();
}

/* Each step ends with its own line and time, flushed: a log shows where a
 * long run is even when nobody watches a terminal. */
static void step_end(const char *name)
{
    steps[nsteps].name = name;
    steps[nsteps].seconds = cli_mono_s() - step_t0;
    printf("  done: %s in %.2fs\n", name, steps[nsteps++].seconds);
    fflush(stdout);
}

/* Progress inside a long step: a rewritten line on a terminal; in a log
 * or a pipe, a line every `every` items and at the end, with the time. */
static void progress(const char *what, uint32_t done, uint32_t total, uint32_t every)
{
    if (isatty(STDOUT_FILENO)) {
        printf("\r  %s %u/%u", what, done, total);
        if (done == total) printf("\r%*s\r", 40, "");
    } else if (done == total || done % every == 0) {
        printf("  %s %u/%u after %.2fs\n", what, done, total, cli_mono_s() - step_t0);
    }
    fflush(stdout);
}

#define CHECK(expr)                                                                                  \
    do {                                                                                             \
        int rc_ = (expr);                                                                            \
        if (rc_ != GPURENT_OK) {                                                                     \
            fprintf(stderr, "gpurent demo: %s failed: %s: %s\n", #expr, gpurent_status_name(rc_),   \
                    gpurent_last_error_message());                                                   \
            exit(EXIT_FAILED);                                                                       \
        }                                                                                            \
    } while (0)

static void derive_seed(const char *role, uint32_t i, uint64_t world, uint8_t seed[32])
{
    char msg[96];
    snprintf(msg, sizeof msg, "gpurent-demo/%llu/%s/%u", (unsigned long long)world, role, i);
    crypto_generichash(seed, 32, (const uint8_t *)msg, strlen(msg), NULL, 0);
}

/* Statements live 100 eras: long enough for the whole simulated history. */
static void sign_into(const gpurent_key *key, uint32_t statement, uint64_t at, const uint8_t *payload, size_t len,
                      gpurent_buf *out)
{
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = statement;
    h.issued_at = at;
    h.expires_at = at + 100 * ERA_S;
    randombytes_buf(h.nonce, sizeof h.nonce);
    CHECK(gpurent_envelope_sign(key, &h, payload, len, out));
}

/* ---------------- 1. probe ---------------- */

static const struct {
    const char *fake;
    const char *label;
    uint64_t price_micro;
} fake_machines[] = {
    {"h100", "H100 SXM", 2490000},
    {"a100x8", "8x A100 SXM", 1290000},
    {"rtx4090", "RTX 4090", 390000},
};

static uint32_t probe_machines(const demo_cfg *cfg, machine *ms)
{
    uint8_t nonce[32];
    gpurent_gpu_report *r = malloc(sizeof *r);
    gpurent_probe_options o = GPURENT_PROBE_OPTIONS_INIT;
    randombytes_buf(nonce, sizeof nonce);
    o.timeout_ms = 60000;
    CHECK(gpurent_probe_run(&o, nonce, NULL, r));
    uint32_t n = 0;
    if (r->status == GPURENT_OK && r->device_count > 0 && gpurent_gpu_report_to_gpu(r, 0, &ms[0].gpu) == GPURENT_OK) {
        printf("  this machine has a GPU: %s x%u (probed through %s)\n", ms[0].gpu.model, r->device_count,
               r->driver_path);
        ms[0].label = "this machine";
        ms[0].gpus = r->device_count > 8 ? 8 : r->device_count;
        ms[0].price_micro = 1500000;
        CHECK(gpurent_gpu_report_encode(r, &ms[0].report));
        n = 1;
    } else if (cfg->fake_driver || cfg->fake_auto) {
        printf("  no GPU here (%s): using the fake machines of tests/fakecuda (%s)\n",
               r->reason[0] ? r->reason : gpurent_status_name(r->status),
               cfg->fake_driver ? cfg->fake_driver : cfg->fake_auto);
    } else {
        printf("  no GPU here (%s)\n", r->reason[0] ? r->reason : gpurent_status_name(r->status));
    }
    const char *fake = cfg->fake_driver ? cfg->fake_driver : n == 0 ? cfg->fake_auto : NULL;
    o.driver_path = fake;
    o.checks = GPURENT_CHECK_ALL;
    o.check_ms = 10;          /* short checks: the demo shows them, it does not certify */
    o.fma_iterations = 256;
    o.check_max_bytes = 16u << 20;
    for (size_t i = 0; fake && i < sizeof fake_machines / sizeof fake_machines[0]; i++) {
        setenv("FAKECUDA_MACHINE", fake_machines[i].fake, 1);
        CHECK(gpurent_probe_run(&o, nonce, NULL, r));
        if (r->device_count == 0 || gpurent_gpu_report_to_gpu(r, 0, &ms[n].gpu) != GPURENT_OK) {
            printf("  fake machine %s: %s\n", fake_machines[i].fake, r->reason);
            continue;
        }
        ms[n].label = fake_machines[i].label;
        ms[n].gpus = r->device_count;
        ms[n].price_micro = fake_machines[i].price_micro;
        CHECK(gpurent_gpu_report_encode(r, &ms[n].report));
        printf("  %-12s %u x %-24s %6llu GFLOPS FP32 peak, %7llu MB/s, FMA check %s\n", ms[n].label, ms[n].gpus,
               ms[n].gpu.model, (unsigned long long)ms[n].gpu.fp32_gflops, (unsigned long long)ms[n].gpu.mem_bw_mbps,
               gpurent_verdict_name(r->devices[0].fma.verdict));
        n++;
    }
    unsetenv("FAKECUDA_MACHINE");
    free(r);
    return n;
}

/* ---------------- 2. providers: keys, reports, offers ---------------- */

static const char *const regions[] = {"us-east", "us-west", "eu-west", "eu-central", "ap-south", "ap-east"};
#define NREGIONS (sizeof regions / sizeof regions[0])

static void make_providers(const demo_cfg *cfg, provider *ps, machine *ms, uint32_t nm)
{
    for (uint32_t i = 0; i < cfg->providers; i++) {
        provider *p = &ps[i];
        uint8_t seed[32];
        derive_seed("provider", i, cfg->seed, seed);
        CHECK(gpurent_key_from_seed(&p->key, seed));
        CHECK(gpurent_key_public(p->key, p->pk));
        p->machine = (uint32_t)below(nm);
        /* Most providers are reliable, some flaky, a few poor. */
        uint64_t roll = below(100);
        p->quality_ppm = roll < 70 ? 990000 + (uint32_t)below(10001) : roll < 92 ? 950000 + (uint32_t)below(40000)
                                                                                 : 700000 + (uint32_t)below(200000);
        p->bad_era = below(100) < 2 ? (uint32_t)below(cfg->eras) : UINT32_MAX;
        const machine *m = &ms[p->machine];
        uint64_t t = GENESIS;
        sign_into(p->key, GPURENT_RECORD_GPU_REPORT, t, m->report.data, m->report.len, &p->report);
        CHECK(gpurent_envelope_digest(p->report.data, p->report.len, p->report_digest));
        gpurent_offer o;
        gpurent_offer_init(&o);
        memcpy(o.provider_key, p->pk, 32);
        o.seq = 1;
        snprintf(o.region, sizeof o.region, "%s", regions[below(NREGIONS)]);
        o.stake_micro = below(4) ? below(2000) * 1000000ull : 0;
        o.max_duration_s = below(3) ? 0 : 7 * 86400;
        uint32_t nodes = 1 + (uint32_t)below(3);
        for (uint32_t k = 0; k < nodes; k++) {
            gpurent_node n;
            memset(&n, 0, sizeof n);
            snprintf(n.node_id, sizeof n.node_id, "node-%u", k);
            n.gpu = m->gpu;
            /* Simulated providers share a few probed machines: each of their
             * nodes gets a GPU UUID of its own (one GPU, one place). */
            uint8_t salt[8] = {(uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16), (uint8_t)(i >> 24), (uint8_t)k};
            crypto_generichash(n.gpu.uuid, sizeof n.gpu.uuid, salt, sizeof salt, m->gpu.uuid, sizeof m->gpu.uuid);
            n.gpu_count = m->gpus;
            n.gpu_free = m->gpus;
            n.cpu_millicores = 16000 * m->gpus;
            n.ram_mib = 65536ull * m->gpus;
            n.disk_gib = 500ull * m->gpus;
            /* Prices spread around the model's market price (-20% .. +30%). */
            n.price_micro_per_gpu_hour = m->price_micro * (80 + below(51)) / 100;
            memcpy(n.report_digest, p->report_digest, 32);
            CHECK(gpurent_offer_add_node(&o, &n));
        }
        gpurent_buf b = {0};
        CHECK(gpurent_offer_encode(&o, &b));
        sign_into(p->key, GPURENT_RECORD_OFFER, t, b.data, b.len, &p->offer);
        gpurent_buf_free(&b);
        gpurent_offer_clear(&o);
    }
}

/* ---------------- 3. auditors: verify, audit, tiers ---------------- */

static gpurent_trust *new_trust(provider *ps, uint32_t np, const uint8_t (*aud)[32], const uint8_t (*mat)[32],
                                uint32_t replay)
{
    gpurent_trust *t;
    gpurent_trust_options o = GPURENT_TRUST_OPTIONS_INIT;
    o.replay_capacity = replay;
    CHECK(gpurent_trust_new(&t, &o));
    for (uint32_t i = 0; i < np; i++) CHECK(gpurent_trust_add(t, ps[i].pk, GPURENT_ROLE_PROVIDER, 0, 0));
    for (uint32_t i = 0; i < AUDITORS; i++) CHECK(gpurent_trust_add(t, aud[i], GPURENT_ROLE_AUDITOR, 0, 0));
    for (uint32_t i = 0; i < MATCHERS; i++) CHECK(gpurent_trust_add(t, mat[i], GPURENT_ROLE_MATCHER, 0, 0));
    return t;
}

/* Verify a batch on 2 threads; returns how many verified. */
static uint32_t verify_all(gpurent_trust *t, gpurent_buf *envs, uint32_t n, uint64_t now, uint32_t statement,
                           uint32_t quorum, int32_t *st)
{
    const uint8_t **ptr = calloc(n ? n : 1, sizeof *ptr);
    size_t *len = calloc(n ? n : 1, sizeof *len);
    for (uint32_t i = 0; i < n; i++) { ptr[i] = envs[i].data; len[i] = envs[i].len; }
    gpurent_verify_options vo = GPURENT_VERIFY_OPTIONS_INIT;
    vo.statement = statement;
    vo.quorum = quorum;
    CHECK(gpurent_envelope_verify_many(t, ptr, len, n, now, 60, &vo, 2, NULL, st));
    uint32_t ok = 0;
    for (uint32_t i = 0; i < n; i++) ok += st[i] == GPURENT_OK;
    free(ptr);
    free(len);
    return ok;
}

static void audit_report(const demo_cfg *cfg, provider *p, uint32_t era, const uint8_t auditor_pk[32],
                         const gpurent_key *auditor, uint32_t job_base, gpurent_buf *out)
{
    gpurent_audit_report a;
    gpurent_audit_report_init(&a);
    memcpy(a.provider_key, p->pk, 32);
    memcpy(a.auditor_key, auditor_pk, 32);
    uint64_t t0 = GENESIS + era * ERA_S;
    a.time_s = t0 + ERA_S - 600;
    a.gpu_report = GPURENT_CHECK_PASSED;
    a.integrity = GPURENT_CHECK_PASSED;
    a.security = era == p->bad_era ? GPURENT_CHECK_FAILED : GPURENT_CHECK_PASSED;
    memcpy(a.gpu_report_digest, p->report_digest, 32);
    /* Liveness challenges at random times: 16 GPU, 4 CPU (the 80/20 weighting). */
    for (uint32_t c = 0; c < 20; c++) {
        uint64_t when = t0 + c * (ERA_S / 20) + below(ERA_S / 20 - 600);
        uint32_t pass = below(1000000) < p->quality_ppm;
        CHECK(gpurent_audit_report_add_challenge(&a, when, c < 16 ? GPURENT_CHALLENGE_GPU : GPURENT_CHALLENGE_CPU,
                                                 pass));
    }
    for (uint32_t j = 0, nj = (uint32_t)below(3); j < nj; j++) {
        char id[32];
        snprintf(id, sizeof id, "job-%u-%u", job_base, j);
        uint32_t outcome = below(1000000) < p->quality_ppm ? GPURENT_JOB_COMPLETED
                           : below(2) ? GPURENT_JOB_FAILED_PROVIDER : GPURENT_JOB_FAILED_USER;
        CHECK(gpurent_audit_report_add_job(&a, id, t0 + ERA_S / 2, outcome));
    }
    gpurent_buf b = {0};
    CHECK(gpurent_audit_report_encode(&a, &b));
    sign_into(auditor, GPURENT_RECORD_AUDIT_REPORT, a.time_s, b.data, b.len, out);
    gpurent_buf_free(&b);
    gpurent_audit_report_clear(&a);
    (void)cfg;
}

/* ---------------- the demo ---------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Print text lines with an indent. */
static void print_indented(const gpurent_buf *txt, const char *indent)
{
    const char *p = (const char *)txt->data, *end = p + txt->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n) printf("%s%.*s\n", indent, (int)n, p);
        p += n + 1;
    }
}

static void shuffle(uint32_t *idx, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) idx[i] = i;
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)below(i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

static void make_request(uint32_t i, const machine *ms, uint32_t nm, uint64_t now, gpurent_request *q)
{
    gpurent_request_init(q);
    snprintf(q->request_id, sizeof q->request_id, "req-%05u", i);
    uint64_t kind = below(100);
    const machine *m = &ms[below(nm)];
    if (kind < 45) {
        q->gpu_count = 1;
    } else if (kind < 70) {
        q->gpu_count = 2;
    } else if (kind < 88) {
        q->gpu_count = 4;
    } else if (kind < 96) {
        q->gpu_count = 8;
        q->min_vram_mib = 40960;
    } else {
        q->gpu_count = 16; /* a gang: 2 nodes x 8 GPUs of one provider */
        q->gang_nodes = 2;
        q->gang_scope = GPURENT_GANG_PROVIDER;
    }
    if (below(3) == 0) gpurent_request_add_model(q, m->gpu.model);
    if (below(4) == 0) gpurent_request_allow_region(q, regions[below(NREGIONS)]);
    if (below(5) == 0) q->verified_only = 1;
    if (below(6) == 0) q->allowed_tiers = 0xfe & ~(1u << 7); /* not the bottom tier */
    /* Most pay the market price or more; some bid far below it. */
    q->max_price_micro_per_gpu_hour = below(10) < 8 ? m->price_micro * (100 + below(60)) / 100
                                                    : m->price_micro * (30 + below(30)) / 100;
    q->duration_s = (uint32_t)(3600 * (1 + below(72)));
    q->submitted_at = now - below(7200);
}

/* ---------------- --export DIR: the market for examples/web ---------------- */

/* An array of signed envelopes (or records) as hex strings; NULL entries
 * (a provider without a certificate) are left out. */
static json_t *hex_array(const gpurent_buf *bufs, size_t stride, uint32_t n)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < n; i++) {
        const gpurent_buf *b = (const gpurent_buf *)((const char *)bufs + (size_t)i * stride);
        if (!b->data) continue;
        char *h = cli_hex(b->data, b->len);
        if (!h || json_array_append_new(a, json_string(h))) { free(h); json_decref(a); return NULL; }
        free(h);
    }
    return a;
}

static int add_party(json_t *trust, const char *name, uint32_t roles, const uint8_t pk[32])
{
    char *h = cli_hex(pk, 32);
    json_t *o = h ? json_pack("{s:s, s:i, s:s}", "name", name, "roles", (json_int_t)roles, "publicKey", h) : NULL;
    free(h);
    return !o || json_array_append_new(trust, o);
}

typedef struct demo_export {
    const demo_cfg *cfg;
    const provider *ps;
    const gpurent_buf *certs;    /* cfg->providers, empty where no quorum */
    const gpurent_request *reqs; /* cfg->requests */
    const uint8_t (*aud_pk)[32];
    const uint8_t (*mat_pk)[32];
    const gpurent_buf *receipt;  /* the receipt's canonical bytes */
    const gpurent_buf *signed_receipt; /* the same, signed by MATCHER_QUORUM matchmakers */
    uint64_t now;                /* the requesters' clock */
} demo_export;

/* Write DIR/market.json in the format examples/web/app.mjs loads
 * ("gpurent-demo-market/1", docs/cli.md): the trust list with names and
 * roles, every signed offer, GPU report and tier certificate, the requests
 * (canonical bytes), and the quorum-signed receipt with a copy whose
 * receipt has one byte changed (its signatures untouched), which every
 * verifier must reject. 0, or an exit code with the message printed. */
static int export_market(const char *dir, const demo_export *x)
{
    const demo_cfg *cfg = x->cfg;
    json_t *root = json_object(), *trust = json_array(), *reqs = json_array(), *receipts = json_array();
    int bad = !root || !trust || !reqs || !receipts;
    char name[64];
    for (uint32_t i = 0; !bad && i < cfg->providers; i++) {
        snprintf(name, sizeof name, "Provider %u", i);
        bad |= add_party(trust, name, GPURENT_ROLE_PROVIDER, x->ps[i].pk);
    }
    for (uint32_t i = 0; !bad && i < AUDITORS; i++) {
        snprintf(name, sizeof name, "Auditor %c", 'A' + (int)i);
        bad |= add_party(trust, name, GPURENT_ROLE_AUDITOR, x->aud_pk[i]);
    }
    for (uint32_t i = 0; !bad && i < MATCHERS; i++) {
        snprintf(name, sizeof name, "Matchmaker %u", i + 1);
        bad |= add_party(trust, name, GPURENT_ROLE_MATCHER, x->mat_pk[i]);
    }
    for (uint32_t i = 0; !bad && i < cfg->requests; i++) {
        gpurent_buf b = {0};
        CHECK(gpurent_request_encode(&x->reqs[i], &b));
        char *h = cli_hex(b.data, b.len);
        bad |= !h || json_array_append_new(reqs, json_string(h));
        free(h);
        gpurent_buf_free(&b);
    }
    /* The altered copy: the receipt's last byte (inside a placement) flipped
     * where the envelope carries it. */
    const gpurent_buf *env = x->signed_receipt;
    uint8_t *tampered = malloc(env->len);
    const uint8_t *at = NULL;
    for (size_t off = 0; tampered && x->receipt->len && off + x->receipt->len <= env->len && !at; off++)
        if (!memcmp(env->data + off, x->receipt->data, x->receipt->len)) at = env->data + off;
    if (tampered && at) {
        memcpy(tampered, env->data, env->len);
        tampered[(size_t)(at - env->data) + x->receipt->len - 1] ^= 0x01;
        char *h1 = cli_hex(env->data, env->len), *h2 = cli_hex(tampered, env->len);
        bad |= !h1 || !h2 ||
               json_array_append_new(receipts, json_pack("{s:s, s:s}", "label", "Batch receipt", "envelope", h1)) ||
               json_array_append_new(receipts, json_pack("{s:s, s:s}", "label", "Batch receipt (altered in transit)",
                                                         "envelope", h2));
        free(h1);
        free(h2);
    } else {
        bad = 1;
    }
    free(tampered);
    if (!bad) {
        bad |= json_object_set_new(root, "format", json_string("gpurent-demo-market/1")) ||
               json_object_set_new(root, "seed", json_integer((json_int_t)cfg->seed)) ||
               json_object_set_new(root, "now", json_integer((json_int_t)x->now)) ||
               json_object_set_new(root, "skew", json_integer(60)) ||
               json_object_set_new(root, "certQuorum", json_integer(TIER_AUDITORS)) ||
               json_object_set_new(root, "receiptQuorum", json_integer(MATCHER_QUORUM)) ||
               json_object_set(root, "trust", trust) ||
               json_object_set_new(root, "offers", hex_array(&x->ps[0].offer, sizeof *x->ps, cfg->providers)) ||
               json_object_set_new(root, "gpuReports", hex_array(&x->ps[0].report, sizeof *x->ps, cfg->providers)) ||
               json_object_set_new(root, "certificates", hex_array(x->certs, sizeof *x->certs, cfg->providers)) ||
               json_object_set(root, "requests", reqs) || json_object_set(root, "receipts", receipts);
    }
    json_decref(trust);
    json_decref(reqs);
    json_decref(receipts);
    char *text = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text) return cli_fail("demo", EXIT_FAILED, "--export: out of memory building market.json");
    size_t plen = strlen(dir) + sizeof "/market.json";
    char *path = malloc(plen);
    int rc = 0;
    if (!path) rc = cli_fail("demo", EXIT_FAILED, "--export: out of memory");
    else {
        snprintf(path, plen, "%s/market.json", dir);
        if (cli_write_file(path, (const uint8_t *)text, strlen(text)))
            rc = cli_fail("demo", EXIT_IO, "--export %s: %s", path, strerror(errno));
        else
            printf("  exported the market for examples/web to %s (%zu bytes)\n", path, strlen(text));
    }
    free(path);
    free(text);
    return rc;
}

/* The export folder is made (one level, like mkdir) before the long run, so
 * a bad path fails at once. */
static int export_prepare(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0755) && errno != EEXIST) return cli_fail("demo", EXIT_IO, "--export %s: %s", dir, strerror(errno));
    if (stat(dir, &st)) return cli_fail("demo", EXIT_IO, "--export %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return cli_fail("demo", EXIT_IO, "--export %s: not a folder", dir);
    return 0;
}

static const cli_cmd demo_cmd = {
    "demo", "usage: gpurent demo [--providers N] [--requests N] [--eras N] [--seed N] [--fake-driver PATH]\n"
            "                    [--export DIR]\n",
    "Run a whole simulated market (defaults: 2000 providers (10..100000), 3000 requests (1..1000000),\n"
    "30 eras (1..365) of 24 h). Without a GPU on this machine it needs the fake CUDA driver of\n"
    "tests/fakecuda (built by `make tests` as build/tests/libfakecuda.so): --fake-driver PATH, else\n"
    "$GPURENT_FAKE_DRIVER, else tests/libfakecuda.so beside this program (the build tree).\n"
    "Prices are in units per GPU-hour (records hold micro-units). --export DIR also writes the\n"
    "market (signed offers, GPU reports, certificates, requests, the receipt) to DIR/market.json\n"
    "for the marketplace page (examples/web).\n",
    (const cli_optdef[]){{"--providers", OPT_U64, 0, 10, 100000}, {"--requests", OPT_U64, 0, 1, 1000000},
                         {"--eras", OPT_U64, 0, 1, 365}, {"--seed", OPT_U64, 0, 0, UINT64_MAX},
                         {"--fake-driver", OPT_STR, 0, 0, 0}, {"--export", OPT_STR, 0, 0, 0},
                         {NULL, OPT_FLAG, 0, 0, 0}},
    0, 0, NULL};

/* The fake driver when none is named: $GPURENT_FAKE_DRIVER, else the build
 * tree's tests/libfakecuda.so beside this program. */
static const char *find_fake_driver(char *buf, size_t cap)
{
    const char *e = getenv("GPURENT_FAKE_DRIVER");
    if (e && *e) return e;
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0) return NULL;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash || (size_t)(slash - buf) + sizeof "/tests/libfakecuda.so" > cap) return NULL;
    strcpy(slash, "/tests/libfakecuda.so");
    return access(buf, R_OK) == 0 ? buf : NULL;
}

int cmd_demo(int argc, char **argv)
{
    cli_args args;
    int prc = cli_parse(&demo_cmd, argc, argv, &args);
    if (prc) return prc < 0 ? 0 : prc;
    const cli_args *A = &args;
    char fake_buf[4096];
    demo_cfg cfg = {(uint32_t)cli_opt_u64(A, "--providers", 2000), (uint32_t)cli_opt_u64(A, "--requests", 3000),
                    (uint32_t)cli_opt_u64(A, "--eras", 30), cli_opt_u64(A, "--seed", 2026),
                    cli_opt(A, "--fake-driver"), NULL};
    if (cfg.fake_driver && access(cfg.fake_driver, R_OK))
        return cli_fail("demo", EXIT_IO, "--fake-driver %s: %s", cfg.fake_driver, strerror(errno));
    if (!cfg.fake_driver) cfg.fake_auto = find_fake_driver(fake_buf, sizeof fake_buf);
    const char *export_dir = cli_opt(A, "--export");
    if (export_dir && (prc = export_prepare(export_dir)) != 0) return prc;
    rng_state = cfg.seed;
    double t_all = cli_mono_s();
    printf("libgpurent %s market demo: %u providers, %u auditors, %u matchmakers, %u requests, %u eras\n\n",
           gpurent_version_string(), cfg.providers, AUDITORS, MATCHERS, cfg.requests, cfg.eras);

    /* 1. Probe. */
    step_begin("providers probe their GPUs");
    machine ms[4];
    memset(ms, 0, sizeof ms);
    uint32_t nm = probe_machines(&cfg, ms);
    if (nm == 0)
        return cli_fail("demo", EXIT_FAILED,
                        cfg.fake_driver || cfg.fake_auto ? "no GPU, and the fake driver %s gave no machine: nothing to offer"
                                        : "no GPU and no fake driver%s: nothing to offer. Give --fake-driver PATH "
                                          "(tests/fakecuda's library: `make tests` builds build/tests/libfakecuda.so) "
                                          "or set GPURENT_FAKE_DRIVER",
                        cfg.fake_driver ? cfg.fake_driver : cfg.fake_auto ? cfg.fake_auto : "");
    step_end("probe");

    /* 2. Keys, signed reports and offers. */
    step_begin("providers generate keys, sign GPU reports and offers");
    provider *ps = calloc(cfg.providers, sizeof *ps);
    make_providers(&cfg, ps, ms, nm);
    gpurent_key *aud[AUDITORS], *mat[MATCHERS];
    uint8_t aud_pk[AUDITORS][32], mat_pk[MATCHERS][32];
    for (uint32_t i = 0; i < AUDITORS; i++) {
        uint8_t seed[32];
        derive_seed("auditor", i, cfg.seed, seed);
        CHECK(gpurent_key_from_seed(&aud[i], seed));
        CHECK(gpurent_key_public(aud[i], aud_pk[i]));
    }
    for (uint32_t i = 0; i < MATCHERS; i++) {
        uint8_t seed[32];
        derive_seed("matcher", i, cfg.seed, seed);
        CHECK(gpurent_key_from_seed(&mat[i], seed));
        CHECK(gpurent_key_public(mat[i], mat_pk[i]));
    }
    printf("  %u GPU reports and %u offers signed\n", cfg.providers, cfg.providers);
    step_end("keys+sign");

    /* 3. Auditors verify reports and offers. */
    step_begin("auditors verify every signed GPU report and offer");
    int32_t *st = malloc(cfg.providers * sizeof *st);
    gpurent_buf *envs = malloc(cfg.providers * sizeof *envs);
    gpurent_trust *at = new_trust(ps, cfg.providers, (const uint8_t(*)[32])aud_pk, (const uint8_t(*)[32])mat_pk, 1u << 20);
    for (uint32_t i = 0; i < cfg.providers; i++) envs[i] = ps[i].report;
    uint32_t ok_rep = verify_all(at, envs, cfg.providers, GENESIS + 60, GPURENT_RECORD_GPU_REPORT, 1, st);
    for (uint32_t i = 0; i < cfg.providers; i++) envs[i] = ps[i].offer;
    uint32_t ok_off = verify_all(at, envs, cfg.providers, GENESIS + 60, GPURENT_RECORD_OFFER, 1, st);
    /* One forged offer: a provider's offer re-signed by another key is refused. */
    gpurent_buf forged = {0};
    {
        gpurent_verified *vr = NULL;
        gpurent_verify_options vo = GPURENT_VERIFY_OPTIONS_INIT;
        vo.check_replay = GPURENT_VERIFY_REPLAY_OFF;
        CHECK(gpurent_envelope_verify(at, ps[0].offer.data, ps[0].offer.len, GENESIS + 60, 60, &vo, &vr));
        gpurent_buf pay = {0};
        CHECK(gpurent_verified_payload(vr, &pay));
        gpurent_verified_free(vr);
        gpurent_key *rogue;
        uint8_t seed[32];
        derive_seed("rogue", 0, cfg.seed, seed);
        CHECK(gpurent_key_from_seed(&rogue, seed));
        sign_into(rogue, GPURENT_RECORD_OFFER, GENESIS, pay.data, pay.len, &forged);
        int rc = gpurent_envelope_verify(at, forged.data, forged.len, GENESIS + 60, 60, &vo, NULL);
        printf("  %u/%u reports and %u/%u offers verified; a forged offer: %s\n", ok_rep, cfg.providers, ok_off,
               cfg.providers, gpurent_status_name(rc));
        gpurent_key_free(rogue);
        gpurent_buf_free(&pay);
        gpurent_buf_free(&forged);
    }
    gpurent_trust_free(at);
    step_end("verify");

    /* 4. Eras of audits, three tier engines. */
    step_begin("auditors audit every provider each era; three tier engines score them");
    gpurent_tier_engine *eng[TIER_AUDITORS];
    gpurent_trust *etrust[TIER_AUDITORS];
    gpurent_tier_options to = GPURENT_TIER_OPTIONS_INIT;
    to.genesis_s = GENESIS;
    to.era_s = ERA_S;
    for (uint32_t e = 0; e < TIER_AUDITORS; e++) {
        CHECK(gpurent_tier_engine_new(&eng[e], &to));
        etrust[e] = new_trust(ps, cfg.providers, (const uint8_t(*)[32])aud_pk, (const uint8_t(*)[32])mat_pk, 1u << 20);
    }
    const uint8_t **env_ptr = malloc(cfg.providers * sizeof *env_ptr);
    size_t *env_len = malloc(cfg.providers * sizeof *env_len);
    int32_t *env_st = st; /* the statuses of step 3 are no longer needed */
    if (!env_ptr || !env_len) {
        fprintf(stderr, "gpurent demo: out of memory\n");
        exit(EXIT_FAILED);
    }
    gpurent_tier_era_summary sum;
    memset(&sum, 0, sizeof sum);
    uint64_t rejected = 0, accepted = 0, slashes = 0, resets = 0;
    for (uint32_t era = 0; era < cfg.eras; era++) {
        for (uint32_t i = 0; i < cfg.providers; i++) {
            uint32_t a = (era + i) % AUDITORS; /* auditors rotate over providers */
            audit_report(&cfg, &ps[i], era, aud_pk[a], aud[a], era * cfg.providers + i, &envs[i]);
        }
        for (uint32_t e = 0; e < TIER_AUDITORS; e++) {
            uint64_t now = GENESIS + (era + 1) * ERA_S - 300;
            /* Signed ingest: verified on 2 threads, then recorded in input
             * order; a refused envelope changes nothing. */
            for (uint32_t i = 0; i < cfg.providers; i++) {
                env_ptr[i] = envs[i].data;
                env_len[i] = envs[i].len;
            }
            CHECK(gpurent_tier_record_signed_many(eng[e], etrust[e], env_ptr, env_len, cfg.providers, now, 60, 2, NULL,
                                                  env_st));
            for (uint32_t i = 0; i < cfg.providers; i++) {
                if (env_st[i] != GPURENT_OK) rejected++;
                else accepted++;
            }
            CHECK(gpurent_tier_evaluate(eng[e], era, NULL, &sum));
        }
        slashes += sum.slashes;
        resets += sum.resets;
        for (uint32_t i = 0; i < cfg.providers; i++) gpurent_buf_free(&envs[i]);
        progress("era", era + 1, cfg.eras, 10);
    }
    printf("  %llu audit reports verified and recorded (%u engines), %llu rejected; %llu slash events, "
           "%llu incubation resets\n",
           (unsigned long long)accepted, TIER_AUDITORS, (unsigned long long)rejected, (unsigned long long)slashes,
           (unsigned long long)resets);
    step_end("audits+tiers");

    /* 5. Tier certificates: identical bytes from each engine, signed as a quorum. */
    step_begin("tier engines issue certificates; auditors sign them as a 3-of-5 quorum");
    gpurent_buf *certs = calloc(cfg.providers, sizeof *certs);
    uint32_t identical = 0, no_quorum = 0;
    uint64_t cert_time = GENESIS + cfg.eras * ERA_S;
    for (uint32_t i = 0; i < cfg.providers; i++) {
        gpurent_buf b[TIER_AUDITORS];
        memset(b, 0, sizeof b);
        int same = 1, rc = GPURENT_OK;
        for (uint32_t e = 0; e < TIER_AUDITORS && rc == GPURENT_OK; e++) {
            gpurent_tier_cert c;
            rc = gpurent_tier_certificate(eng[e], ps[i].pk, &c);
            if (rc == GPURENT_OK) CHECK(gpurent_tier_cert_encode(&c, &b[e]));
            if (e && rc == GPURENT_OK) same &= b[e].len == b[0].len && !memcmp(b[e].data, b[0].data, b[0].len);
        }
        if (rc == GPURENT_E_QUORUM_NOT_MET) { no_quorum++; }
        else if (rc) CHECK(rc);
        else if (same) {
            identical++;
            gpurent_buf one = {0}, two = {0};
            sign_into(aud[0], GPURENT_RECORD_TIER_CERT, cert_time, b[0].data, b[0].len, &one);
            CHECK(gpurent_envelope_cosign(aud[1], one.data, one.len, &two));
            CHECK(gpurent_envelope_cosign(aud[2], two.data, two.len, &certs[i]));
            gpurent_buf_free(&one);
            gpurent_buf_free(&two);
        }
        for (uint32_t e = 0; e < TIER_AUDITORS; e++) gpurent_buf_free(&b[e]);
    }
    printf("  %u certificates byte-identical across %u engines and signed by 3 auditors; %u providers without "
           "an auditor quorum yet\n",
           identical, TIER_AUDITORS, no_quorum);
    printf("  tiers after era %u:", cfg.eras - 1);
    for (uint32_t t = 0; t < 7; t++) printf(" T%u:%u", t + 1, sum.tier_counts[t]);
    printf("  (T6-T7 = incubation)\n");
    /* docs/tiers.md: with perfect eras the default table gives tier 3 after
     * 36 eras, 2 after 59, 1 after 89. */
    if (cfg.eras < 89)
        printf("  tiers %s are out of reach in %u eras by design: with perfect eras the default table\n"
               "  gives tier 3 after 36 eras, 2 after 59 and 1 after 89 (docs/tiers.md)\n",
               cfg.eras < 36 ? "1-3" : cfg.eras < 59 ? "1-2" : "1", cfg.eras);
    /* One provider's explanation. */
    {
        gpurent_tier_explanation ex;
        uint32_t pick = 0;
        for (uint32_t i = 0; i < cfg.providers; i++)
            if (gpurent_tier_explain(eng[0], ps[i].pk, &ex) == GPURENT_OK && ex.incubating == 0) { pick = i; break; }
        CHECK(gpurent_tier_explain(eng[0], ps[pick].pk, &ex));
        gpurent_buf txt = {0};
        CHECK(gpurent_tier_explain_text(&ex, &txt));
        printf("  why provider %u has tier %u:\n", pick, ex.tier);
        print_indented(&txt, "    ");
        gpurent_buf_free(&txt);
    }
    step_end("certificates");

    /* 6. Matchmakers. */
    step_begin("3 matchmakers verify offers and certificates and match the request stream");
    uint8_t block[32];
    derive_seed("block", cfg.eras, cfg.seed, block);
    uint64_t match_time = cert_time + 3600;
    gpurent_request *reqs = malloc(cfg.requests * sizeof *reqs);
    for (uint32_t i = 0; i < cfg.requests; i++) make_request(i, ms, nm, match_time, &reqs[i]);
    uint32_t *order = malloc((cfg.providers > cfg.requests ? cfg.providers : cfg.requests) * sizeof *order);
    gpurent_buf receipt[MATCHERS];
    gpurent_market *mk[MATCHERS];
    gpurent_match_receipt rec;
    gpurent_match_receipt_init(&rec);
    for (uint32_t k = 0; k < MATCHERS; k++) {
        gpurent_trust *mt = new_trust(ps, cfg.providers, (const uint8_t(*)[32])aud_pk, (const uint8_t(*)[32])mat_pk, 1u << 16);
        CHECK(gpurent_market_new(&mk[k], NULL, block));
        shuffle(order, cfg.providers); /* each operator learns the market in its own order */
        gpurent_verify_options vo = GPURENT_VERIFY_OPTIONS_INIT;
        vo.check_replay = GPURENT_VERIFY_REPLAY_OFF;
        for (uint32_t x = 0; x < cfg.providers; x++) {
            provider *p = &ps[order[x]];
            gpurent_verified *vr = NULL;
            if (gpurent_envelope_verify(mt, p->offer.data, p->offer.len, match_time, 60, &vo, &vr)) continue;
            size_t plen;
            const uint8_t *pay = gpurent_verified_payload_data(vr, &plen);
            gpurent_offer o;
            gpurent_offer_init(&o);
            CHECK(gpurent_offer_decode(pay, plen, &o));
            CHECK(gpurent_market_put_offer(mk[k], &o));
            gpurent_verified_free(vr);
            /* Report digests the provider signed: a verified report marks its nodes. */
            gpurent_verify_options ro = vo;
            ro.statement = GPURENT_RECORD_GPU_REPORT;
            if (gpurent_envelope_verify(mt, p->report.data, p->report.len, GENESIS + 60, 60, &ro, NULL) == GPURENT_OK)
                for (uint32_t n = 0; n < o.node_count; n++)
                    if (!memcmp(o.nodes[n].report_digest, p->report_digest, 32))
                        CHECK(gpurent_market_set_verified(mk[k], p->pk, o.nodes[n].node_id, 1));
            gpurent_offer_clear(&o);
            if (!certs[order[x]].data) continue;
            gpurent_verify_options co = vo;
            co.statement = GPURENT_RECORD_TIER_CERT;
            co.quorum = 3;
            if (gpurent_envelope_verify(mt, certs[order[x]].data, certs[order[x]].len, match_time, 60, &co, &vr)) continue;
            gpurent_tier_cert c;
            pay = gpurent_verified_payload_data(vr, &plen);
            CHECK(gpurent_tier_cert_decode(pay, plen, &c));
            if (!memcmp(c.provider_key, p->pk, 32)) CHECK(gpurent_market_set_trust(mk[k], p->pk, c.tier, c.score_ppm));
            gpurent_verified_free(vr);
        }
        shuffle(order, cfg.requests);
        for (uint32_t x = 0; x < cfg.requests; x++) CHECK(gpurent_market_add_request(mk[k], &reqs[order[x]]));
        gpurent_match_receipt_clear(&rec);
        gpurent_match_receipt_init(&rec);
        CHECK(gpurent_market_match(mk[k], match_time, NULL, &rec));
        memset(&receipt[k], 0, sizeof receipt[k]);
        CHECK(gpurent_match_receipt_encode(&rec, &receipt[k]));
        gpurent_trust_free(mt);
    }
    uint32_t agree = 1;
    for (uint32_t k = 1; k < MATCHERS; k++)
        agree += receipt[k].len == receipt[0].len && !memcmp(receipt[k].data, receipt[0].data, receipt[0].len);
    printf("  %u of %u matchmakers computed byte-identical receipts (%zu bytes)\n", agree, MATCHERS, receipt[0].len);
    step_end("match");

    /* 7. Receipt quorum and the requesters' check. */
    step_begin("matchmakers sign the receipt; requesters verify a 2-of-3 quorum");
    gpurent_buf r1 = {0}, r2 = {0};
    sign_into(mat[0], GPURENT_RECORD_MATCH_RECEIPT, match_time, receipt[0].data, receipt[0].len, &r1);
    CHECK(gpurent_envelope_cosign(mat[1], r1.data, r1.len, &r2));
    gpurent_trust *rt = new_trust(ps, 0, (const uint8_t(*)[32])aud_pk, (const uint8_t(*)[32])mat_pk, 1024);
    gpurent_verify_options qo = GPURENT_VERIFY_OPTIONS_INIT;
    qo.statement = GPURENT_RECORD_MATCH_RECEIPT;
    qo.quorum = MATCHER_QUORUM;
    qo.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    int q1 = gpurent_envelope_verify(rt, r1.data, r1.len, match_time + 10, 60, &qo, NULL);
    gpurent_verified *vr = NULL;
    CHECK(gpurent_envelope_verify(rt, r2.data, r2.len, match_time + 10, 60, &qo, &vr));
    printf("  one signature: %s; two signatures: GPURENT_OK (%u matchmakers counted)\n", gpurent_status_name(q1),
           gpurent_verified_signer_count(vr));
    gpurent_verified_free(vr);
    gpurent_trust_free(rt);
    CHECK(gpurent_market_apply(mk[0], &rec));
    step_end("receipt quorum");

    /* Summary. */
    printf("\nsummary\n");
    uint64_t gpus_req = 0, gpus_got = 0;
    for (uint32_t i = 0; i < cfg.requests; i++) gpus_req += reqs[i].gpu_count;
    uint64_t *prices = malloc((rec.placement_count + 1) * sizeof *prices);
    uint64_t spend = 0;
    for (uint32_t i = 0; i < rec.placement_count; i++) {
        prices[i] = rec.placements[i].price_micro_per_gpu_hour;
        gpus_got += rec.placements[i].gpus;
        spend += rec.placements[i].price_micro_per_gpu_hour * (rec.placements[i].gpus ? rec.placements[i].gpus : 1);
    }
    qsort(prices, rec.placement_count, sizeof *prices, cmp_u64);
    printf("  matched %u of %u requests (%.1f%%), %llu of %llu GPUs requested\n", rec.assignment_count, cfg.requests,
           100.0 * rec.assignment_count / cfg.requests, (unsigned long long)gpus_got, (unsigned long long)gpus_req);
    {
        /* How many could have been matched: an upper bound, not the exact
         * maximum (with multi-GPU requests and gangs that is a 0/1 program).
         * A request counts only when it has a placement on the market alone
         * (mk[1]: the receipt is not applied there), and requests placed
         * together need their GPUs within the market's free GPUs, so no
         * assignment serves more than the smallest placeable requests that
         * fit in that total. */
        gpurent_market_stats ms_st;
        CHECK(gpurent_market_stats_get(mk[1], &ms_st));
        uint64_t *need = malloc((cfg.requests + 1) * sizeof *need);
        uint32_t alone = 0, bound = 0;
        for (uint32_t i = 0; i < cfg.requests; i++) {
            gpurent_match_candidate c;
            uint32_t nc = 0;
            CHECK(gpurent_market_best(mk[1], &reqs[i], 1, &c, &nc));
            if (nc) need[alone++] = reqs[i].gpu_count;
        }
        qsort(need, alone, sizeof *need, cmp_u64);
        for (uint64_t used = 0; bound < alone && used + need[bound] <= ms_st.gpus_free; bound++) used += need[bound];
        free(need);
        printf("  placeable: %u requests have a placement on their own; at most %u could be matched at once "
               "(an upper bound: the smallest of them within the %llu free GPUs); matched %.1f%% of that bound\n",
               alone, bound, (unsigned long long)ms_st.gpus_free, bound ? 100.0 * rec.assignment_count / bound : 0.0);
    }
    if (rec.placement_count)
        printf("  accepted prices: median %.2f units/GPU-h, p10 %.2f units/GPU-h, p90 %.2f units/GPU-h; "
               "%.2f units/h for the whole batch\n",
               prices[rec.placement_count / 2] / 1e6, prices[rec.placement_count / 10] / 1e6,
               prices[rec.placement_count * 9 / 10] / 1e6, spend / 1e6);
    free(prices);
    /* Explain a request that did not match. */
    uint8_t *matched = calloc(cfg.requests, 1);
    for (uint32_t a = 0; a < rec.assignment_count; a++) {
        unsigned idx;
        if (sscanf(rec.assignments[a].request_id, "req-%u", &idx) == 1 && idx < cfg.requests) matched[idx] = 1;
    }
    for (uint32_t i = 0; i < cfg.requests; i++) {
        if (matched[i]) continue;
        gpurent_match_explain ex;
        gpurent_market_remove_request(mk[1], reqs[i].request_id);
        CHECK(gpurent_market_explain(mk[1], &reqs[i], &ex));
        if (ex.matched) continue; /* lost to a better-paying request, not infeasible */
        gpurent_buf txt = {0};
        CHECK(gpurent_match_explain_text(&ex, &txt));
        printf("  an unmatched request, explained:\n");
        print_indented(&txt, "    ");
        gpurent_buf_free(&txt);
        break;
    }
    free(matched);
    printf("  timings:");
    for (int i = 0; i < nsteps; i++) printf(" %s %.2fs%s", steps[i].name, steps[i].seconds, i + 1 < nsteps ? "," : "");
    printf("\n  total %.1f s\n", cli_mono_s() - t_all);
    int export_rc = 0;
    if (export_dir) {
        demo_export x = {&cfg, ps, certs, reqs, (const uint8_t(*)[32])aud_pk, (const uint8_t(*)[32])mat_pk,
                         &receipt[0], &r2, match_time + 10};
        export_rc = export_market(export_dir, &x);
    }

    for (uint32_t k = 0; k < MATCHERS; k++) {
        gpurent_market_free(mk[k]);
        gpurent_buf_free(&receipt[k]);
        gpurent_key_free(mat[k]);
    }
    gpurent_buf_free(&r1);
    gpurent_buf_free(&r2);
    gpurent_match_receipt_clear(&rec);
    for (uint32_t e = 0; e < TIER_AUDITORS; e++) {
        gpurent_tier_engine_free(eng[e]);
        gpurent_trust_free(etrust[e]);
    }
    for (uint32_t i = 0; i < AUDITORS; i++) gpurent_key_free(aud[i]);
    for (uint32_t i = 0; i < cfg.providers; i++) {
        gpurent_key_free(ps[i].key);
        gpurent_buf_free(&ps[i].report);
        gpurent_buf_free(&ps[i].offer);
        gpurent_buf_free(&certs[i]);
    }
    for (uint32_t i = 0; i < nm; i++) gpurent_buf_free(&ms[i].report);
    free(certs);
    free(reqs);
    free(order);
    free(ps);
    free(env_ptr);
    free(env_len);
    free(envs);
    free(st);
    return export_rc;
}
