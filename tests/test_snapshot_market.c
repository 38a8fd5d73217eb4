/* Market snapshots: two markets side by side over a long
 * scenario (offers put, replaced and removed, trust and verification set,
 * requests added and withdrawn, batches matched and applied, leases ended),
 * one of them saved and restored at every step, giving byte-identical
 * receipts, explanations, digests and snapshots; and the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "gpurent.h"
#include "core/snap_internal.h"
#include "match/match_internal.h"
#include "support/snap.h"

static int under_valgrind(void)
{
    const char *v = getenv("GPURENT_TEST_VALGRIND");
    return v && *v == '1';
}

#define RNG_START 0x2545F4914F6CDD1Dull
static uint64_t rng_state = RNG_START;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}
static uint32_t below(uint32_t n) { return (uint32_t)(rnd() % n); }

typedef struct gspec {
    const char *model;
    uint32_t cc, vram_mib, gflops, iface, cuda;
} gspec;

static const gspec GPUS[] = {
    {"H100 SXM5 80GB", 90, 81559, 66900, GPURENT_IFACE_SXM, 12040},
    {"A100 SXM4 80GB", 80, 81920, 19500, GPURENT_IFACE_SXM, 12020},
    {"RTX 4090", 89, 24564, 82600, GPURENT_IFACE_PCIE, 12040},
    {"T4", 75, 15360, 8100, GPURENT_IFACE_PCIE, 11080},
    {"L40S", 89, 46068, 91600, GPURENT_IFACE_PCIE, 12020},
};
static const char *const REGIONS[] = {"eu-west", "eu-central", "us-east", "us-west", "ap-south"};

static void key_of(uint32_t id, uint8_t key[32])
{
    memset(key, 0, 32);
    key[0] = 0x77;
    key[1] = (uint8_t)(id >> 16);
    key[2] = (uint8_t)(id >> 8);
    key[3] = (uint8_t)id;
    key[31] = 0x5a;
}

/* A random offer of provider `id` (node ids n0.. so replacements keep some). */
static void random_offer(gpurent_offer *o, uint32_t id, uint64_t seq)
{
    gpurent_offer_init(o);
    key_of(id, o->provider_key);
    o->seq = seq;
    strcpy(o->region, REGIONS[below(5)]);
    o->stake_micro = below(4) * 500000000000ull;
    o->min_duration_s = below(3) ? 0 : 600;
    o->max_duration_s = below(4) ? 0 : 86400;
    uint32_t nodes = 1 + below(4);
    for (uint32_t i = 0; i < nodes; i++) {
        gpurent_node n;
        memset(&n, 0, sizeof n);
        const gspec *g = &GPUS[below(5)];
        snprintf(n.node_id, sizeof n.node_id, "n%u", i);
        snprintf(n.gpu.model, sizeof n.gpu.model, "%s", g->model);
        n.gpu.cc_major = g->cc / 10;
        n.gpu.cc_minor = g->cc % 10;
        n.gpu.memory_mib = g->vram_mib;
        n.gpu.fp32_gflops = g->gflops;
        n.gpu.measured_fp32_gflops = below(3) ? 0 : g->gflops - 100; /* only the derived value is kept */
        n.gpu.sm_count = 132;
        n.gpu.interface = g->iface;
        n.gpu.cuda_version = g->cuda;
        n.gpu_count = 1u << below(4);
        n.gpu_free = below(n.gpu_count + 1);
        n.shared = below(6) == 0;
        n.cpu_millicores = 32000;
        n.ram_mib = 256 * 1024;
        n.disk_gib = 2000;
        n.price_micro_per_gpu_hour = 500000 * (1 + below(3));
        if (below(2))
            for (int b = 0; b < 32; b++) n.report_digest[b] = (uint8_t)rnd();
        assert_int_equal(gpurent_offer_add_node(o, &n), GPURENT_OK);
    }
}

static void random_request(gpurent_request *q, uint32_t i, uint32_t providers)
{
    gpurent_request_init(q);
    snprintf(q->request_id, sizeof q->request_id, "req-%06u", i);
    q->gpu_count = 1u << below(3);
    q->duration_s = 3600;
    if (below(8) == 0) {
        q->gpu_count = 1;
        q->vram_share_pct = 10 * (1 + below(10));
    } else if (q->gpu_count > 1 && below(4) == 0) {
        q->gang_nodes = 2;
        q->gang_scope = below(2) ? GPURENT_GANG_PROVIDER : GPURENT_GANG_REGION;
    }
    if (below(3) == 0) q->min_vram_mib = 40000;
    if (below(4) == 0) q->max_price_micro_per_gpu_hour = 1000000;
    if (below(5) == 0) gpurent_request_allow_region(q, REGIONS[below(5)]);
    if (below(9) == 0) gpurent_request_exclude_region(q, below(2) ? "mars-north" : REGIONS[below(5)]);
    if (below(7) == 0) gpurent_request_add_model(q, below(3) ? GPUS[below(5)].model : "Imaginary 9000");
    if (below(10) == 0) {
        uint8_t k[32];
        key_of(below(providers), k);
        (below(2) ? gpurent_request_exclude_provider : gpurent_request_allow_provider)(q, k);
    }
    if (below(6) == 0) q->min_cuda_version = 12020;
    if (below(8) == 0) q->verified_only = 1;
    if (below(8) == 0) q->allowed_tiers = 0x0e;
    q->submitted_at = 1700000000 + below(7200);
}

static void same_bytes(const gpurent_buf *a, const gpurent_buf *b, const char *what)
{
    if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0)
        fail_msg("%s differ (%zu and %zu bytes)", what, a->len, b->len);
}

/* Where restart also saves to a file (empty: it does not). */
static char side_path[128];

/* `m` saved to side_path, streamed while it is encoded through a buffer
 * that `seq` picks (the default, under the header and a name, a few KiB,
 * around a chunk), with the worker or without: the file holds `want`. */
static void save_file_same(const gpurent_market *m, uint64_t seq, const gpurent_buf *want)
{
    SNAP_SAVE_FILE_SAME(gpurent_market_save_file, m, seq, side_path, want);
}

/* Save `*m`, free it, load it back in its place. */
static void restart(gpurent_market **m, uint64_t seq)
{
    gpurent_buf b = {0};
    assert_int_equal(gpurent_market_save(*m, seq, &b), GPURENT_OK);
    if (side_path[0]) save_file_same(*m, seq, &b);
    gpurent_market_free(*m);
    *m = NULL;
    uint64_t got = 0;
    int rc = gpurent_market_load(m, b.data, b.len, NULL, &got);
    if (rc) fail_msg("load: %s (%s)", gpurent_status_name(rc), gpurent_last_error_message());
    assert_int_equal(got, seq);
    /* the loader does not run the whole self-check: every load here does */
    if (ml_market_check(*m)) fail_msg("a loaded market breaks an invariant: %s", gpurent_last_error_message());
    /* the loaded market saves to the same bytes */
    gpurent_buf c = {0};
    assert_int_equal(gpurent_market_save(*m, seq, &c), GPURENT_OK);
    same_bytes(&b, &c, "snapshots of the saved and the loaded market");
    gpurent_buf_free(&b);
    gpurent_buf_free(&c);
}

static void same_digests(const gpurent_market *a, const gpurent_market *b)
{
    uint8_t oa[32], ra[32], pa[32], ob[32], rb[32], pb[32];
    assert_int_equal(gpurent_market_digests(a, oa, ra, pa), GPURENT_OK);
    assert_int_equal(gpurent_market_digests(b, ob, rb, pb), GPURENT_OK);
    assert_memory_equal(oa, ob, 32);
    assert_memory_equal(ra, rb, 32);
    assert_memory_equal(pa, pb, 32);
}

static void same_explain(const gpurent_market *a, const gpurent_market *b, const gpurent_request *q)
{
    gpurent_match_explain *ea = calloc(1, sizeof *ea), *eb = calloc(1, sizeof *eb);
    int ra = gpurent_market_explain(a, q, ea), rb = gpurent_market_explain(b, q, eb);
    assert_int_equal(ra, rb);
    if (!ra) {
        gpurent_buf ta = {0}, tb = {0};
        assert_int_equal(gpurent_match_explain_text(ea, &ta), GPURENT_OK);
        assert_int_equal(gpurent_match_explain_text(eb, &tb), GPURENT_OK);
        same_bytes(&ta, &tb, "explanations");
        gpurent_buf_free(&ta);
        gpurent_buf_free(&tb);
    }
    gpurent_match_candidate ca[4], cb[4];
    memset(ca, 0, sizeof ca);
    memset(cb, 0, sizeof cb);
    uint32_t na = 0, nb = 0;
    ra = gpurent_market_best(a, q, 4, ca, &na);
    rb = gpurent_market_best(b, q, 4, cb, &nb);
    assert_int_equal(ra, rb);
    assert_int_equal(na, nb);
    for (uint32_t i = 0; i < na; i++) { /* field by field: bytes past a string's NUL are not part of it */
        assert_memory_equal(ca[i].provider_key, cb[i].provider_key, 32);
        assert_string_equal(ca[i].node_id, cb[i].node_id);
        assert_string_equal(ca[i].region, cb[i].region);
        assert_string_equal(ca[i].model, cb[i].model);
        assert_int_equal(ca[i].node_count, cb[i].node_count);
        assert_int_equal(ca[i].provider_count, cb[i].provider_count);
        assert_int_equal(ca[i].price_micro_per_gpu_hour, cb[i].price_micro_per_gpu_hour);
        assert_memory_equal(&ca[i].breakdown, &cb[i].breakdown, sizeof ca[i].breakdown);
    }
    free(ea);
    free(eb);
}

static void test_market_side_by_side(void **state)
{
    (void)state;
    const uint32_t steps = under_valgrind() ? 5 : 30;
    const uint32_t per_step = under_valgrind() ? 20 : 120; /* offers and requests per step */
    uint8_t seed[32] = {9, 8, 7};
    gpurent_market *a = NULL, *b = NULL;
    assert_int_equal(gpurent_market_new(&a, NULL, seed), GPURENT_OK);
    assert_int_equal(gpurent_market_new(&b, NULL, seed), GPURENT_OK);
    gpurent_market *both[2];
    uint32_t providers = 0, next_req = 0, applied = 0, ended = 0;
    uint64_t *seqs = calloc(steps * per_step + 1, sizeof *seqs);
    char (*leased)[64] = calloc((size_t)steps * per_step * 2 + 1, 64);
    uint32_t nleased = 0;
    gpurent_request *q = malloc(sizeof *q);
    char dir[] = "/tmp/gpurent-mside-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(side_path, sizeof side_path, "%s/m.snap", dir);
    for (uint32_t step = 0; step < steps; step++) {
        both[0] = a;
        both[1] = b;
        /* offers: new providers, replacements (some nodes kept), removals */
        for (uint32_t i = 0; i < per_step; i++) {
            uint32_t id = providers && below(3) == 0 ? below(providers) : providers++;
            gpurent_offer o;
            uint64_t st = rng_state, seq = ++seqs[id];
            for (int k = 0; k < 2; k++) {
                rng_state = st;
                random_offer(&o, id, seq);
                assert_int_equal(gpurent_market_put_offer(both[k], &o), GPURENT_OK);
                gpurent_offer_clear(&o);
            }
            uint8_t pk[32];
            key_of(id, pk);
            if (below(4) == 0)
                for (int k = 0; k < 2; k++)
                    assert_int_equal(gpurent_market_set_trust(both[k], pk, id % 8, (id * 7919) % 1000001), GPURENT_OK);
            if (below(5) == 0)
                for (int k = 0; k < 2; k++)
                    assert_int_equal(gpurent_market_set_verified(both[k], pk, "n0", 1), GPURENT_OK);
        }
        for (uint32_t i = 0; i < per_step / 20; i++) {
            uint8_t k32[32];
            key_of(below(providers), k32);
            int r0 = gpurent_market_remove_offer(a, k32), r1 = gpurent_market_remove_offer(b, k32);
            assert_int_equal(r0, r1);
        }
        /* requests, a few withdrawn */
        for (uint32_t i = 0; i < per_step; i++) {
            random_request(q, next_req++, providers);
            int r0 = gpurent_market_add_request(a, q), r1 = gpurent_market_add_request(b, q);
            assert_int_equal(r0, r1);
            if (below(10) == 0) same_explain(a, b, q);
        }
        for (uint32_t i = 0; i < per_step / 10; i++) {
            char id[32];
            snprintf(id, sizeof id, "req-%06u", below(next_req));
            assert_int_equal(gpurent_market_remove_request(a, id), gpurent_market_remove_request(b, id));
        }
        restart(&b, step * 3 + 1);
        same_digests(a, b);
        /* a batch, applied on both */
        gpurent_match_receipt ra, rb;
        gpurent_match_receipt_init(&ra);
        gpurent_match_receipt_init(&rb);
        uint64_t now = 1700000000 + 3600 * (uint64_t)step;
        assert_int_equal(gpurent_market_match(a, now, NULL, &ra), GPURENT_OK);
        assert_int_equal(gpurent_market_match(b, now, NULL, &rb), GPURENT_OK);
        gpurent_buf ea = {0}, eb = {0};
        assert_int_equal(gpurent_match_receipt_encode(&ra, &ea), GPURENT_OK);
        assert_int_equal(gpurent_match_receipt_encode(&rb, &eb), GPURENT_OK);
        same_bytes(&ea, &eb, "receipts");
        gpurent_buf_free(&ea);
        gpurent_buf_free(&eb);
        assert_int_equal(gpurent_market_apply(a, &ra), GPURENT_OK);
        assert_int_equal(gpurent_market_apply(b, &rb), GPURENT_OK);
        for (uint32_t i = 0; i < ra.assignment_count; i++)
            snprintf(leased[nleased++], 64, "%s", ra.assignments[i].request_id);
        applied += ra.assignment_count;
        gpurent_match_receipt_clear(&ra);
        gpurent_match_receipt_clear(&rb);
        restart(&b, step * 3 + 2);
        same_digests(a, b);
        /* some leases end */
        for (uint32_t i = 0; i < nleased; i++) {
            if (leased[i][0] == 0 || below(3)) continue;
            assert_int_equal(gpurent_market_end_lease(a, leased[i]), GPURENT_OK);
            assert_int_equal(gpurent_market_end_lease(b, leased[i]), GPURENT_OK);
            leased[i][0] = 0;
            ended++;
        }
        restart(&b, step * 3 + 3);
        same_digests(a, b);
        for (uint32_t i = 0; i < 8; i++) {
            random_request(q, 900000 + i, providers);
            same_explain(a, b, q);
        }
    }
    assert_true(applied > steps);
    assert_true(ended > 0);
    gpurent_market_stats sa, sb;
    assert_int_equal(gpurent_market_stats_get(a, &sa), GPURENT_OK);
    assert_int_equal(gpurent_market_stats_get(b, &sb), GPURENT_OK);
    assert_int_equal(sa.providers, sb.providers);
    assert_int_equal(sa.nodes, sb.nodes);
    assert_int_equal(sa.requests, sb.requests);
    assert_int_equal(sa.leases, sb.leases);
    assert_int_equal(sa.gpus_free, sb.gpus_free);
    assert_true(sa.leases > 0 && sa.requests > 0);
    free(q);
    free(seqs);
    free(leased);
    gpurent_market_free(a);
    gpurent_market_free(b);
    assert_int_equal(unlink(side_path), 0);
    assert_int_equal(rmdir(dir), 0); /* (nothing else left there) */
    side_path[0] = 0;
}

/* ---- refusals ---- */

static gpurent_market *small_market(void)
{
    uint8_t seed[32] = {5};
    gpurent_market *m = NULL;
    assert_int_equal(gpurent_market_new(&m, NULL, seed), GPURENT_OK);
    gpurent_request *q = malloc(sizeof *q);
    for (uint32_t id = 0; id < 30; id++) {
        gpurent_offer o;
        random_offer(&o, id, 1);
        assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
        gpurent_offer_clear(&o);
    }
    for (uint32_t i = 0; i < 40; i++) {
        random_request(q, i, 30);
        assert_int_equal(gpurent_market_add_request(m, q), GPURENT_OK);
    }
    gpurent_match_receipt r;
    gpurent_match_receipt_init(&r);
    assert_int_equal(gpurent_market_match(m, 1700003600, NULL, &r), GPURENT_OK);
    assert_int_equal(gpurent_market_apply(m, &r), GPURENT_OK);
    assert_true(r.assignment_count > 0);
    gpurent_match_receipt_clear(&r);
    for (uint32_t i = 40; i < 50; i++) {
        random_request(q, i, 30);
        assert_int_equal(gpurent_market_add_request(m, q), GPURENT_OK);
    }
    free(q);
    return m;
}

static void refuse(const uint8_t *d, size_t n, const gpurent_match_options *expect, int want, const char *detail)
{
    gpurent_market *m = (gpurent_market *)&m; /* must be reset to NULL */
    uint64_t seq = 99;
    int rc = gpurent_market_load(&m, d, n, expect, &seq);
    snap_refused(rc, want, m, seq, detail);
}

static void test_market_refusals(void **state)
{
    (void)state;
    gpurent_market *m = small_market();
    gpurent_buf b = {0}, c = {0};
    assert_int_equal(gpurent_market_save(m, 77, &b), GPURENT_OK);
    c.data = malloc(b.len);
    c.len = b.len;
#define FRESH() memcpy(c.data, b.data, b.len)
    /* it loads as it is, with and without the expected policy */
    gpurent_match_options o = GPURENT_MATCH_OPTIONS_INIT;
    gpurent_market *x = NULL;
    uint64_t seq = 0;
    assert_int_equal(gpurent_market_load(&x, b.data, b.len, &o, &seq), GPURENT_OK);
    assert_int_equal(seq, 77);
    gpurent_market_free(x);
    /* flipped bytes: the checksum catches every one */
    for (size_t at = 0; at < b.len; at += 1 + at / 7) {
        FRESH();
        c.data[at] ^= 0x04;
        int rc = gpurent_market_load(&x, c.data, c.len, NULL, NULL);
        assert_int_not_equal(rc, GPURENT_OK);
        assert_null(x);
    }
    FRESH();
    c.data[b.len / 2] ^= 0x10;
    refuse(c.data, c.len, &o, GPURENT_E_SNAPSHOT_CORRUPT, "checksum");
    /* truncated: every prefix refused */
    for (size_t n = 0; n < b.len; n += (n < 200 ? 1 : 331))
        refuse(b.data, n, NULL, n ? GPURENT_E_SNAPSHOT_TRUNCATED : GPURENT_E_SNAPSHOT_CORRUPT, NULL);
    /* other policy */
    gpurent_match_options other = o;
    other.w_price = 400;
    refuse(b.data, b.len, &other, GPURENT_E_SNAPSHOT_PARAMS, NULL);
    /* foreign kind both ways */
    gpurent_tier_engine *te = NULL;
    gpurent_tier_options to = GPURENT_TIER_OPTIONS_INIT;
    assert_int_equal(gpurent_tier_engine_new(&te, &to), GPURENT_OK);
    gpurent_buf tb = {0};
    assert_int_equal(gpurent_tier_save(te, 1, &tb), GPURENT_OK);
    refuse(tb.data, tb.len, NULL, GPURENT_E_SNAPSHOT_KIND, NULL);
    gpurent_tier_engine *te2 = NULL;
    assert_int_equal(gpurent_tier_load(&te2, b.data, b.len, NULL, NULL), GPURENT_E_SNAPSHOT_KIND);
    assert_null(te2);
    gpurent_buf_free(&tb);
    gpurent_tier_engine_free(te);
    /* a newer format version */
    FRESH();
    c.data[12] = (uint8_t)(b.data[12] + 1);
    snap_reseal(&c);
    refuse(c.data, c.len, NULL, GPURENT_E_SNAPSHOT_VERSION, NULL);
    /* contents wrong under a good checksum: every resealed byte flip is
     * refused or loads a market that passes every invariant */
    uint32_t refused = 0, loaded = 0;
    for (size_t at = 64; at + 32 < b.len; at += 1 + at / 50) {
        FRESH();
        c.data[at] ^= 0x81;
        snap_reseal(&c);
        int rc = gpurent_market_load(&x, c.data, c.len, NULL, NULL);
        if (rc) {
            assert_null(x);
            refused++;
        } else { /* one encoding per state: it saves to the very bytes it came from */
            loaded++;
            if (ml_market_check(x)) fail_msg("flip at %zu: %s", at, gpurent_last_error_message());
            gpurent_buf again = {0};
            assert_int_equal(gpurent_market_save(x, 77, &again), GPURENT_OK);
            same_bytes(&again, &c, "a loaded snapshot and its save");
            gpurent_buf_free(&again);
            gpurent_market_free(x);
            x = NULL;
        }
    }
    assert_true(refused > 0 && loaded > 0);
    /* a capacity above the node's GPU count (the last byte before the
     * checksum is the last node's capacity) */
    FRESH();
    c.data[b.len - 33] = 200;
    snap_reseal(&c);
    refuse(c.data, c.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, NULL);
    /* trailing bytes inside the body */
    free(c.data);
    gpurent_buf_free(&b);
    gpurent_market_free(m);
}

/* Requests saved one after another, each as it was added: a framework (and
 * its own CUDA minimum), or model names the table rewrote, must not carry
 * over to the next request saved, with lists or without. */
static void test_market_request_fields_apart(void **state)
{
    (void)state;
    uint8_t seed[32] = {6};
    gpurent_market *m = NULL;
    assert_int_equal(gpurent_market_new(&m, NULL, seed), GPURENT_OK);
    gpurent_request *q = malloc(sizeof *q);
    assert_non_null(q);
    static const char *const fws[] = {"Torch 2.5", NULL, "torch 2.7+cu128", NULL};
    for (uint32_t i = 0; i < 8; i++) {
        gpurent_request_init(q);
        snprintf(q->request_id, sizeof q->request_id, "r%u", i);
        q->gpu_count = 1;
        q->duration_s = 600;
        if (fws[i % 4]) {
            snprintf(q->framework, sizeof q->framework, "%s", fws[i % 4]);
            q->min_cuda_version = 11080;
        }
        if (i >= 4 && i % 2) gpurent_request_allow_region(q, "eu-west"); /* lists, no framework */
        assert_int_equal(gpurent_market_add_request(m, q), GPURENT_OK);
    }
    free(q);
    uint8_t o1[32], r1[32], p1[32], o2[32], r2[32], p2[32];
    assert_int_equal(gpurent_market_digests(m, o1, r1, p1), GPURENT_OK);
    restart(&m, 1);
    assert_int_equal(gpurent_market_digests(m, o2, r2, p2), GPURENT_OK);
    assert_memory_equal(r1, r2, 32);
    gpurent_market_free(m);
}

/* Requests of every shape the market keeps apart from its matching form
 * (families, model ids in other cases, a family with one of its members,
 * unknown names, full lists, frameworks with their own CUDA minimum or
 * none) are saved as they were added: a market holding them saves to a
 * file (streamed, the requests not checked again) that loads back to the
 * same market. */
static void test_market_request_shapes(void **state)
{
    (void)state;
    uint8_t seed[32] = {12};
    gpurent_market *m = NULL;
    assert_int_equal(gpurent_market_new(&m, NULL, seed), GPURENT_OK);
    gpurent_request *q = malloc(sizeof *q);
    assert_non_null(q);
    uint32_t nm = gpurent_model_count(), nf = gpurent_framework_count(), added = 0;
    for (uint32_t i = 0; i < 3 * nm; i++) {
        gpurent_request_init(q);
        snprintf(q->request_id, sizeof q->request_id, "shape-%04u", i);
        q->gpu_count = 1;
        q->duration_s = 600;
        const gpurent_model *md = gpurent_model_at(i % nm), *other = gpurent_model_at((i * 7 + 3) % nm);
        char up[GPURENT_NAME_MAX];
        snprintf(up, sizeof up, "%s", md->id);
        for (char *c = up; *c; c++)
            if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 32);
        switch (i % 3) {
        case 0:
            gpurent_request_add_model(q, md->family);
            gpurent_request_add_model(q, md->id);
            break;
        case 1:
            gpurent_request_add_model(q, up);
            gpurent_request_add_model(q, other->family);
            gpurent_request_add_model(q, "Imaginary 9000");
            break;
        default:
            for (uint32_t k = 0; k < GPURENT_REQUEST_MAX_LIST; k++)
                gpurent_request_add_model(q, gpurent_model_at((i + k) % nm)->id);
        }
        for (uint32_t k = 0; k < (i % 4 == 0 ? GPURENT_REQUEST_MAX_LIST : i % 3); k++) {
            char r[GPURENT_REGION_MAX];
            snprintf(r, sizeof r, "%s-%u", REGIONS[k % 5], k);
            gpurent_request_allow_region(q, r);
        }
        if (i % 5 == 0) gpurent_request_exclude_region(q, "mars-north");
        for (uint32_t k = 0; k < (i % 6 == 0 ? GPURENT_REQUEST_MAX_LIST : 0); k++) {
            uint8_t key[32];
            key_of(1000 + k, key);
            (i % 12 ? gpurent_request_allow_provider : gpurent_request_exclude_provider)(q, key);
        }
        if (i % 2 && nf) {
            snprintf(q->framework, sizeof q->framework, "%s", gpurent_framework_at(i % nf)->id);
            q->min_cuda_version = i % 4 == 1 ? 11000 : 0;
        }
        int ra = gpurent_market_add_request(m, q);
        if (ra) fail_msg("request %u refused: %s", i, gpurent_last_error_message());
        added++;
    }
    assert_int_equal(added, 3 * nm);
    /* every scalar at the largest value the checks let in */
    gpurent_request_init(q);
    snprintf(q->request_id, sizeof q->request_id, "%s", "shape-max-\xc3\xa9");
    q->gpu_count = GPURENT_REQUEST_MAX_GPUS;
    q->gang_nodes = GPURENT_REQUEST_MAX_GPUS;
    q->gang_scope = GPURENT_GANG_REGION;
    q->min_vram_mib = 1ull << 32;
    q->min_cc = 999;
    q->min_fp32_gflops = 1ull << 40;
    q->interface = GPURENT_IFACE_SXM;
    q->min_cuda_version = 999999;
    q->max_price_micro_per_gpu_hour = 1ull << 50;
    q->allowed_tiers = 0xfe;
    q->duration_s = GPURENT_MAX_DURATION_S;
    q->verified_only = 1;
    q->cpu_millicores = 100000000u;
    q->ram_mib = 1ull << 40;
    q->disk_gib = 1ull << 40;
    q->submitted_at = 1ull << 40;
    int rmax = gpurent_market_add_request(m, q);
    if (rmax) fail_msg("the request of maxima refused: %s", gpurent_last_error_message());
    char dir[] = "/tmp/gpurent-mshape-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/m.snap", dir);
    gpurent_buf b = {0};
    assert_int_equal(gpurent_market_save(m, 3, &b), GPURENT_OK);
    gr_snap_test_stream_buf = 4096;
    int rc = gpurent_market_save_file(m, 3, path);
    gr_snap_test_stream_buf = 0;
    assert_int_equal(rc, GPURENT_OK);
    gpurent_market *x = NULL;
    rc = gpurent_market_load_file(&x, path, NULL, NULL);
    if (rc) fail_msg("load_file: %s (%s)", gpurent_status_name(rc), gpurent_last_error_message());
    same_digests(m, x);
    gpurent_buf c = {0};
    assert_int_equal(gpurent_market_save(x, 3, &c), GPURENT_OK);
    same_bytes(&b, &c, "snapshots of the saved and the loaded market");
    gpurent_buf_free(&b);
    gpurent_buf_free(&c);
    gpurent_market_free(x);
    unlink(path);
    rmdir(dir);
    free(q);
    gpurent_market_free(m);
}

/* Where `what` (n bytes) is in the body: exactly once. */
static uint8_t *find_once(gpurent_buf *b, const uint8_t *what, size_t n)
{
    uint8_t *at = NULL;
    uint32_t hits = 0;
    for (size_t k = 64; k + n <= b->len - 32; k++)
        if (memcmp(b->data + k, what, n) == 0) at = b->data + k, hits++;
    assert_int_equal(hits, 1);
    return at;
}

/* A lease holds what a receipt the market applied can give it, and nothing
 * else loads (a second encoding of the same market, or a state no market
 * reaches): a whole-GPU part's GPU index is 0 (receipts refuse any other),
 * and a lease's id is a request id (valid UTF-8). */
static void test_market_lease_refusals(void **state)
{
    (void)state;
    gpurent_market *m = small_market();
    gpurent_buf b = {0};
    assert_int_equal(gpurent_market_save(m, 77, &b), GPURENT_OK);
    /* a lease whose first part is on a live dedicated node: its id, part
     * count, then provider key, node id, GPUs, share 0, index 0 */
    const mlease *l = NULL;
    for (uint32_t i = 0; i < m->lease_used && !l; i++) {
        const mlease *c = &m->leases[i];
        if (!c->id[0] || !c->count) continue;
        const mlease_part *p = &c->parts[0];
        if (!p->share && m->nodes[p->node].alive && m->nodes[p->node].gen == p->gen) l = c;
    }
    assert_non_null(l);
    const mlease_part *pt = &l->parts[0];
    const mnode *x = &m->nodes[pt->node];
    uint32_t live = 0;
    for (uint32_t j = 0; j < l->count; j++)
        live += m->nodes[l->parts[j].node].alive && m->nodes[l->parts[j].node].gen == l->parts[j].gen;
    uint8_t pat[2 * (1 + GPURENT_NAME_MAX) + 4 + 32 + 3];
    size_t li = strlen(l->id), n = strlen(x->id), h = 0;
    pat[h++] = (uint8_t)li;
    memcpy(pat + h, l->id, li);
    h += li;
    for (int i = 0; i < 4; i++) pat[h++] = (uint8_t)(live >> (8 * i));
    memcpy(pat + h, m->provs[x->provider].key, 32);
    h += 32;
    pat[h++] = (uint8_t)n;
    memcpy(pat + h, x->id, n);
    h += n;
    pat[h++] = pt->gpus;
    pat[h++] = 0;
    pat[h++] = 0;
    uint8_t *at = find_once(&b, pat, h) + h - 1;
    *at = 1; /* GPU index 1 of a whole-GPU part */
    snap_reseal(&b);
    refuse(b.data, b.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "placement");
    *at = 0;
    snap_reseal(&b);
    gpurent_market *y = NULL;
    assert_int_equal(gpurent_market_load(&y, b.data, b.len, NULL, NULL), GPURENT_OK);
    gpurent_market_free(y);
    /* the last lease's id with its last byte not UTF-8 (still the last) */
    const char *last = NULL;
    for (uint32_t i = 0; i < m->lease_used; i++)
        if (m->leases[i].id[0] && (!last || strcmp(m->leases[i].id, last) > 0)) last = m->leases[i].id;
    assert_non_null(last);
    n = strlen(last);
    pat[0] = (uint8_t)n;
    memcpy(pat + 1, last, n);
    at = find_once(&b, pat, 1 + n);
    at[n] = 0xff;
    snap_reseal(&b);
    refuse(b.data, b.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "UTF-8");
    gpurent_buf_free(&b);
    gpurent_market_free(m);
}

/* Snapshots of older versions load, and save again at the current one to
 * the very bytes the market itself saves:
 * - version 3 (requests as canonical records): tests/fixtures/snapshot/
 *   market_v3.snap, saved (input sequence 77) by libgpurent 0.4.0 from
 *   small_market() as the first call of this suite's generator;
 * - version 2 (the whole-file checksum, the body as in 3): the same file
 *   relabelled and its checksum redone. */
#define V3_FIXTURE "tests/fixtures/snapshot/market_v3.snap"
/* small_market() saved by the first encoder of version 4 (December 2026):
 * the encoder since writes records in place, and must write these bytes */
#define V4_FIXTURE "tests/fixtures/snapshot/market_v4.snap"

static gpurent_buf read_fixture(const char *path)
{
    gpurent_buf b = {0};
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s: cannot open (run from the repository root)", path);
    b.data = malloc(1 << 20);
    assert_non_null(b.data);
    b.len = fread(b.data, 1, 1 << 20, f);
    fclose(f);
    assert_true(b.len > 64 + 32);
    return b;
}

static void load_saves_as(const gpurent_buf *old, const gpurent_buf *want, const char *what)
{
    gpurent_market *x = NULL;
    uint64_t seq = 0;
    int rc = gpurent_market_load(&x, old->data, old->len, NULL, &seq);
    if (rc) fail_msg("%s: %s (%s)", what, gpurent_status_name(rc), gpurent_last_error_message());
    assert_int_equal(seq, 77);
    if (ml_market_check(x)) fail_msg("%s: %s", what, gpurent_last_error_message());
    gpurent_buf again = {0};
    assert_int_equal(gpurent_market_save(x, 77, &again), GPURENT_OK);
    same_bytes(&again, want, what);
    gpurent_buf_free(&again);
    gpurent_market_free(x);
}

static void test_market_older_versions(void **state)
{
    (void)state;
    rng_state = RNG_START; /* the market the fixture was saved from: small_market() from the start */
    gpurent_market *m = small_market();
    gpurent_buf now = {0}, v3 = read_fixture(V3_FIXTURE);
    assert_int_equal(gpurent_market_save(m, 77, &now), GPURENT_OK);
    assert_int_equal(now.data[12], 4);
    assert_int_equal(v3.data[12], 3);
    gpurent_buf v4 = read_fixture(V4_FIXTURE);
    same_bytes(&now, &v4, "the version 4 fixture");
    load_saves_as(&v4, &now, "the version 4 fixture saved again");
    gpurent_buf_free(&v4);
    load_saves_as(&v3, &now, "a version 3 snapshot saved again");
    /* version 2: the same body under the whole-file checksum */
    v3.data[12] = 2;
    refuse(v3.data, v3.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "checksum does not match");
    snap_seal_whole(v3.data, v3.len);
    load_saves_as(&v3, &now, "a version 2 snapshot saved again");
    /* a request whose digest is not its record's hash is refused, in both
     * forms (the digest found by its bytes, as the market keeps it) */
    v3.data[12] = 3;
    snap_reseal(&v3);
    load_saves_as(&v3, &now, "the version 3 snapshot resealed");
    gpurent_buf *both[2] = {&v3, &now};
    for (int i = 0; i < 2; i++) {
        gpurent_buf *f = both[i];
        uint32_t slot = NIL, hits = 0;
        for (uint32_t s = 0; s < m->req_used; s++)
            if (m->reqs[s].alive && (slot == NIL || strcmp(m->reqs[s].id, m->reqs[slot].id) < 0)) slot = s;
        assert_int_not_equal(slot, NIL);
        uint8_t *at = NULL;
        for (size_t k = 64; k + 32 <= f->len - 32; k++)
            if (memcmp(f->data + k, m->reqs[slot].digest, 32) == 0) at = f->data + k, hits++;
        assert_int_equal(hits, 1);
        at[5] ^= 0x20;
        snap_reseal(f);
        refuse(f->data, f->len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "digest is not its record's");
        at[5] ^= 0x20;
        snap_reseal(f);
    }
    load_saves_as(&now, &now, "the current snapshot");
    gpurent_buf_free(&v3);
    gpurent_buf_free(&now);
    gpurent_market_free(m);
}

static int id_order(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* A version 4 load checks the requests' digests on a second thread while
 * it loads the rest (or, with no worker, as it goes): the first, a middle
 * and the last request with a digest that is not its record's hash are each
 * refused, named by their place, either way; the untouched snapshot loads
 * either way. */
static void test_market_digest_check(void **state)
{
    (void)state;
    gpurent_market *m = small_market();
    gpurent_buf b = {0};
    assert_int_equal(gpurent_market_save(m, 5, &b), GPURENT_OK);
    uint32_t n = 0;
    const char **ids = malloc(m->req_used * sizeof *ids);
    assert_non_null(ids);
    for (uint32_t s = 0; s < m->req_used; s++)
        if (m->reqs[s].alive) ids[n++] = m->reqs[s].id;
    assert_true(n >= 3);
    qsort(ids, n, sizeof *ids, id_order);
    const uint32_t places[] = {0, n / 2, n - 1};
    for (int nw = 0; nw < 2; nw++) {
        gr_snap_test_no_worker = nw;
        gpurent_market *l = NULL;
        assert_int_equal(gpurent_market_load(&l, b.data, b.len, NULL, NULL), GPURENT_OK);
        assert_int_equal(ml_market_check(l), GPURENT_OK);
        gpurent_market_free(l);
        for (size_t p = 0; p < sizeof places / sizeof *places; p++) {
            const uint8_t *digest = NULL;
            for (uint32_t s = 0; s < m->req_used; s++)
                if (m->reqs[s].alive && strcmp(m->reqs[s].id, ids[places[p]]) == 0) digest = m->reqs[s].digest;
            assert_non_null(digest);
            uint8_t *at = NULL;
            for (size_t k = 64; k + 32 <= b.len - 32; k++)
                if (memcmp(b.data + k, digest, 32) == 0) at = b.data + k;
            assert_non_null(at);
            at[31] ^= 1;
            snap_reseal(&b);
            char want[96];
            snprintf(want, sizeof want, "request %u: digest is not its record's", places[p]);
            refuse(b.data, b.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, want);
            at[31] ^= 1;
            snap_reseal(&b);
        }
    }
    gr_snap_test_no_worker = 0;
    free(ids);
    gpurent_buf_free(&b);
    gpurent_market_free(m);
}

/* Two markets of the same nodes whose index was linked apart (two threads,
 * one): every node's list, level and neighbours, and every bucket (its
 * histograms and lists), the same. */
static void same_index(const gpurent_market *two, const gpurent_market *one, const char *what)
{
    assert_int_equal(ml_market_check(two), GPURENT_OK);
    assert_int_equal(ml_market_check(one), GPURENT_OK);
    assert_int_equal(two->node_used, one->node_used);
    assert_int_equal(two->bucket_count, one->bucket_count);
    for (uint32_t n = 0; n < one->node_used; n++) {
        const mnode *x = &two->nodes[n], *y = &one->nodes[n];
        if (x->alive != y->alive || x->list != y->list || x->level != y->level || x->prev != y->prev ||
            x->next != y->next)
            fail_msg("%s: node %u linked apart", what, n);
    }
    for (uint32_t k = 0; k < one->bucket_count; k++) {
        assert_int_equal(two->buckets[k] == NULL, one->buckets[k] == NULL);
        if (one->buckets[k] && memcmp(two->buckets[k], one->buckets[k], sizeof(mbucket)) != 0)
            fail_msg("%s: bucket %u differs", what, k);
    }
}

/* A loaded market's index is linked on two threads, each taking whole
 * buckets (ml_index_link_all, from ml_index_link_parallel_min nodes): the
 * index is the one the same snapshot gets linked on one thread, for the
 * default threshold (a market of 8192 nodes and more) and a threshold of 1
 * (markets of two buckets, of one, of many), and where the second thread
 * cannot start (ml_index_link_test_no_thread, as when pthread_create fails:
 * the calling thread links one half, then the other). */
static void test_market_link_halves(void **state)
{
    (void)state;
    const uint32_t sizes[] = {8400, 40, 3};
    for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
        uint8_t seed[32] = {11};
        gpurent_market *m = NULL;
        assert_int_equal(gpurent_market_new(&m, NULL, seed), GPURENT_OK);
        for (uint32_t id = 0; m->node_live < sizes[z]; id++) {
            gpurent_offer o;
            random_offer(&o, id, 1);
            assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
            gpurent_offer_clear(&o);
        }
        gpurent_buf b = {0};
        assert_int_equal(gpurent_market_save(m, 1, &b), GPURENT_OK);
        const uint32_t mins[] = {8192, 1, 1};
        for (size_t t = 0; t < 3; t++) {
            gpurent_market *two = NULL, *one = NULL;
            ml_index_link_parallel_min = mins[t];
            ml_index_link_test_no_thread = t == 2;
            assert_int_equal(gpurent_market_load(&two, b.data, b.len, NULL, NULL), GPURENT_OK);
            ml_index_link_test_no_thread = 0;
            ml_index_link_parallel_min = UINT32_MAX;
            assert_int_equal(gpurent_market_load(&one, b.data, b.len, NULL, NULL), GPURENT_OK);
            ml_index_link_parallel_min = 8192;
            if (z == 0) assert_true(two->bucket_live >= 2);
            char what[96];
            snprintf(what, sizeof what, "market of %u nodes, threshold %u%s", sizes[z], mins[t],
                     t == 2 ? " (no thread)" : "");
            same_index(two, one, what);
            gpurent_market_free(two);
            gpurent_market_free(one);
        }
        gpurent_buf_free(&b);
        gpurent_market_free(m);
    }
}

/* The split of the buckets between the two threads skips reclaimed bucket
 * slots (NULL in m->buckets, below bucket_count): two markets put the same
 * offers with their index deferred, the first provider's nodes of a model
 * no other offer names (bucket slot 0), which is then withdrawn, and the
 * markets link on two threads and on one. */
static void test_market_link_reclaimed(void **state)
{
    (void)state;
    uint8_t seed[32] = {12};
    gpurent_market *two = NULL, *one = NULL;
    assert_int_equal(gpurent_market_new(&two, NULL, seed), GPURENT_OK);
    assert_int_equal(gpurent_market_new(&one, NULL, seed), GPURENT_OK);
    two->defer_link = one->defer_link = 1;
    for (uint32_t id = 0; id < 40; id++) {
        gpurent_offer o;
        random_offer(&o, id, 1);
        for (uint32_t i = 0; i < o.node_count && id == 0; i++) {
            snprintf(o.nodes[i].gpu.model, sizeof o.nodes[i].gpu.model, "Withdrawn GPU");
            o.nodes[i].shared = 0;
        }
        assert_int_equal(gpurent_market_put_offer(two, &o), GPURENT_OK);
        assert_int_equal(gpurent_market_put_offer(one, &o), GPURENT_OK);
        gpurent_offer_clear(&o);
    }
    uint8_t key[32];
    key_of(0, key);
    assert_int_equal(gpurent_market_remove_offer(two, key), GPURENT_OK);
    assert_int_equal(gpurent_market_remove_offer(one, key), GPURENT_OK);
    assert_null(two->buckets[0]);
    assert_true(two->bucket_count > 1 && two->bucket_live >= 2);
    ml_index_link_parallel_min = 1;
    assert_int_equal(ml_index_link_all(two), GPURENT_OK);
    ml_index_link_parallel_min = UINT32_MAX;
    assert_int_equal(ml_index_link_all(one), GPURENT_OK);
    ml_index_link_parallel_min = 8192;
    same_index(two, one, "a reclaimed bucket slot");
    gpurent_market_free(two);
    gpurent_market_free(one);
}

/* The save sorts providers and requests on their first 16 bytes, then by
 * the whole key where those tie: keys alike in their first 16 bytes, ids
 * longer than 16 bytes that share them, ids shorter than 16, ids that are
 * prefixes of others, bytes above 0x7f; put in a scrambled order. The load
 * refuses any pair out of order, so a wrong order cannot pass. */
static void test_market_sort_order(void **state)
{
    (void)state;
    uint8_t seed[32] = {9};
    gpurent_market *m = NULL;
    assert_int_equal(gpurent_market_new(&m, NULL, seed), GPURENT_OK);
    for (uint32_t i = 0; i < 64; i++) {
        gpurent_offer o;
        random_offer(&o, i, 1);
        memset(o.provider_key, 0x5a, 16); /* the first 16 bytes alike: the tail decides */
        o.provider_key[16 + (i * 7) % 16] ^= (uint8_t)(1 + i);
        o.provider_key[31] = (uint8_t)(i * 37);
        assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
        gpurent_offer_clear(&o);
    }
    static const char *const stems[] = {"a", "ab", "abcdefghijklmno", "abcdefghijklmnop", "abcdefghijklmnopq",
                                        "abcdefghijklmnopqrstuvwxyz-long-shared-prefix-", "z\xc3\xa9", "\xc3\xa9t\xc3\xa9"};
    gpurent_request *q = malloc(sizeof *q);
    assert_non_null(q);
    uint32_t added = 0;
    for (uint32_t i = 0; i < 200; i++) {
        uint32_t k = (i * 113) % 200; /* scrambled */
        random_request(q, k, 30);
        snprintf(q->request_id, sizeof q->request_id, "%s%u", stems[k % 8], k / 8 % 3 ? k : k % 5);
        int rc = gpurent_market_add_request(m, q);
        if (rc == GPURENT_E_EXISTS) continue; /* the short forms repeat */
        assert_int_equal(rc, GPURENT_OK);
        added++;
    }
    free(q);
    assert_true(added > 100);
    gpurent_buf b = {0};
    assert_int_equal(gpurent_market_save(m, 3, &b), GPURENT_OK);
    gpurent_market *x = NULL;
    int rc = gpurent_market_load(&x, b.data, b.len, NULL, NULL);
    if (rc) fail_msg("%s (%s)", gpurent_status_name(rc), gpurent_last_error_message());
    gpurent_market_stats st;
    gpurent_market_stats_get(x, &st);
    assert_int_equal(st.requests, added);
    assert_int_equal(st.providers, 64);
    same_digests(m, x);
    gpurent_buf_free(&b);
    gpurent_market_free(x);
    gpurent_market_free(m);
}

/* A loaded market's arrays are sized to its counts exactly; one of 1 to 3
 * providers, nodes or requests must still grow by one (1.25x growth of 1,
 * 2 or 3 added nothing: the next put_offer or add_request spun for ever).
 * SIGALRM ends a spinning run as a failure. */
static void test_market_small_grows(void **state)
{
    (void)state;
    alarm(60);
    uint8_t seed[32] = {4};
    gpurent_request *q = malloc(sizeof *q);
    assert_non_null(q);
    for (uint32_t n = 1; n <= 3; n++) {
        gpurent_market *m = NULL;
        assert_int_equal(gpurent_market_new(&m, NULL, seed), GPURENT_OK);
        for (uint32_t i = 0; i < n; i++) {
            gpurent_offer o;
            random_offer(&o, i, 1);
            o.node_count = 1; /* one node each: the node array holds n too */
            assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
            gpurent_offer_clear(&o);
            random_request(q, i, n);
            assert_int_equal(gpurent_market_add_request(m, q), GPURENT_OK);
        }
        restart(&m, n);
        for (uint32_t i = n; i < n + 8; i++) {
            gpurent_offer o;
            random_offer(&o, i, 1);
            assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
            gpurent_offer_clear(&o);
            random_request(q, i, n);
            assert_int_equal(gpurent_market_add_request(m, q), GPURENT_OK);
        }
        gpurent_market_stats st;
        gpurent_market_stats_get(m, &st);
        assert_int_equal(st.providers, n + 8);
        assert_int_equal(st.requests, n + 8);
        restart(&m, n + 1);
        gpurent_market_free(m);
    }
    free(q);
    alarm(0);
}

static void test_market_files(void **state)
{
    (void)state;
    gpurent_market *m = small_market(), *x = NULL;
    char dir[] = "/tmp/gpurent-msnap-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/market.snap", dir);
    assert_int_equal(gpurent_market_save_file(m, 5, path), GPURENT_OK);
    assert_int_equal(gpurent_market_save_file(m, 6, path), GPURENT_OK); /* replaces */
    uint64_t seq = 0;
    assert_int_equal(gpurent_market_load_file(&x, path, NULL, &seq), GPURENT_OK);
    assert_int_equal(seq, 6);
    same_digests(m, x);
    gpurent_market_free(x);
    x = NULL;
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.snap", dir);
    assert_int_equal(gpurent_market_load_file(&x, missing, NULL, NULL), GPURENT_E_IO);
    assert_null(x);
    assert_int_equal(gpurent_market_save(NULL, 0, NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_market_load(NULL, NULL, 0, NULL, NULL), GPURENT_E_INVALID_ARG);
    unlink(path);
    rmdir(dir);
    gpurent_market_free(m);
}

/* Pending requests of the smallest snapshot form (a one-byte id, every
 * list empty, no framework: 32 + 100 bytes each) with little after them (one
 * node, no lease): the section's count is bounded by what the bytes can
 * hold, so that bound must be the smallest request, or a market saved like
 * this one no longer loads ("body ends inside a field"). With the worker
 * checking the digests and without, from memory and from a streamed file. */
static void test_market_smallest_requests(void **state)
{
    (void)state;
    uint8_t seed[32] = {9};
    gpurent_market *m = NULL;
    assert_int_equal(gpurent_market_new(&m, NULL, seed), GPURENT_OK);
    gpurent_offer o;
    gpurent_offer_init(&o);
    memset(o.provider_key, 7, sizeof o.provider_key);
    o.seq = 1;
    snprintf(o.region, sizeof o.region, "eu");
    gpurent_node nd;
    memset(&nd, 0, sizeof nd);
    snprintf(nd.node_id, sizeof nd.node_id, "n");
    snprintf(nd.gpu.model, sizeof nd.gpu.model, "H100 SXM5 80GB");
    nd.gpu.cc_major = 9;
    nd.gpu.memory_mib = 81559;
    nd.gpu.interface = GPURENT_IFACE_SXM;
    nd.gpu.cuda_version = 12040;
    nd.gpu_count = nd.gpu_free = 1;
    nd.price_micro_per_gpu_hour = 1000000;
    assert_int_equal(gpurent_offer_add_node(&o, &nd), GPURENT_OK);
    assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
    gpurent_offer_clear(&o);
    for (int i = 0; i < 26; i++) {
        gpurent_request q;
        gpurent_request_init(&q);
        q.request_id[0] = (char)('a' + i);
        q.gpu_count = 64; /* more than the market holds: they stay pending */
        q.duration_s = 3600;
        q.submitted_at = 1700000000;
        assert_int_equal(gpurent_market_add_request(m, &q), GPURENT_OK);
    }
    gpurent_buf b = {0};
    assert_int_equal(gpurent_market_save(m, 3, &b), GPURENT_OK);
    char dir[] = "/tmp/gpurent-minreq-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.snap", dir);
    assert_int_equal(gpurent_market_save_file(m, 3, path), GPURENT_OK);
    for (int nw = 0; nw < 2; nw++) {
        gr_snap_test_no_worker = nw;
        gpurent_market *l = NULL;
        assert_int_equal(gpurent_market_load(&l, b.data, b.len, NULL, NULL), GPURENT_OK);
        assert_int_equal(l->req_live, 26);
        assert_int_equal(ml_market_check(l), GPURENT_OK);
        gpurent_market_free(l);
        l = NULL;
        assert_int_equal(gpurent_market_load_file(&l, path, NULL, NULL), GPURENT_OK);
        assert_int_equal(l->req_live, 26);
        gpurent_market_free(l);
    }
    gr_snap_test_no_worker = 0;
    unlink(path);
    rmdir(dir);
    gpurent_buf_free(&b);
    gpurent_market_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_market_refusals),
        cmocka_unit_test(test_market_files),
        cmocka_unit_test(test_market_older_versions),
        cmocka_unit_test(test_market_digest_check),
        cmocka_unit_test(test_market_smallest_requests),
        cmocka_unit_test(test_market_sort_order),
        cmocka_unit_test(test_market_link_halves),
        cmocka_unit_test(test_market_link_reclaimed),
        cmocka_unit_test(test_market_small_grows),
        cmocka_unit_test(test_market_lease_refusals),
        cmocka_unit_test(test_market_request_fields_apart),
        cmocka_unit_test(test_market_request_shapes),
        cmocka_unit_test(test_market_side_by_side),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
