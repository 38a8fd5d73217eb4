/* Snapshots: the container's refusals, the tier engine restored
 * at every era of a long scenario giving byte-identical outputs to one that
 * never stopped, crash-safe files (a writer killed with SIGKILL at random
 * moments always leaves the old or the new snapshot). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <cmocka.h>
#include <sodium.h>

#include "gpurent.h"
#include "core/snap_internal.h"
#include "support/snap.h"

#define ERA0 20000u
#define DAY 86400u

static int under_valgrind(void)
{
    const char *v = getenv("GPURENT_TEST_VALGRIND");
    return v && *v == '1';
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void pkey(uint8_t k[32], uint32_t i)
{
    memset(k, 0, 32);
    k[0] = 0x50;
    k[1] = (uint8_t)(i >> 16);
    k[2] = (uint8_t)(i >> 8);
    k[3] = (uint8_t)i;
    k[31] = 0x01;
}

static void akey(uint8_t k[32], uint32_t j)
{
    memset(k, 0, 32);
    k[0] = 0xA0;
    k[1] = (uint8_t)j;
    k[31] = 0x02;
}

static gpurent_tier_options tier_opts(void)
{
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = ERA0;
    o.unverified_evidence = 1;
    o.min_incubation_eras = 3;
    return o;
}

static gpurent_tier_engine *tier_new(void)
{
    gpurent_tier_options o = tier_opts();
    gpurent_tier_engine *e = NULL;
    assert_int_equal(gpurent_tier_engine_new(&e, &o), GPURENT_OK);
    return e;
}

/* ---------- a long tier scenario ---------- */

#define NAUD 6u

/* Provider i's quality: most are good, some flaky, a few bad. */
static uint32_t gpu_ok_of(uint32_t i, uint64_t era)
{
    uint32_t q = i % 10;
    if (q < 6) return 24;
    if (q < 8) return 20 + (uint32_t)(rnd() % 5);
    if (q == 8) return (era % 7 == 3) ? 10 : 23;
    return (uint32_t)(rnd() % 25);
}

/* Part `half` (0 or 1) of era `era`'s evidence for np providers, the same
 * into every engine given. Challenges, jobs, stakes, audits (some failed). */
static void feed(gpurent_tier_engine **es, int ne, uint32_t np, uint64_t era, int half, uint64_t seed)
{
    enum { NEV = 40 };
    gpurent_tier_event ev[NEV];
    for (uint32_t i = half; i < np; i += 2) {
        rng_state = seed ^ (era * 1000003u + i) ^ 0x5555;
        if (rng_state == 0) rng_state = 1;
        if (i % 23 == 5 && era % 3 == 0) continue; /* an era without evidence */
        uint32_t g = gpu_ok_of(i, era), n = 0;
        for (uint32_t c = 0; c < 24; c++, n++) {
            memset(&ev[n], 0, sizeof ev[n]);
            pkey(ev[n].provider_key, i);
            ev[n].time_s = era * DAY + c * 3600 + 17;
            ev[n].kind = GPURENT_TIER_EVENT_GPU_CHALLENGE;
            ev[n].value = c < g;
        }
        for (uint32_t c = 0; c < 6; c++, n++) {
            memset(&ev[n], 0, sizeof ev[n]);
            pkey(ev[n].provider_key, i);
            ev[n].time_s = era * DAY + c * 14400 + 99;
            ev[n].kind = GPURENT_TIER_EVENT_CPU_CHALLENGE;
            ev[n].value = c != 5 || g > 12;
        }
        for (uint32_t c = 0; c < 3; c++, n++) {
            memset(&ev[n], 0, sizeof ev[n]);
            pkey(ev[n].provider_key, i);
            ev[n].time_s = era * DAY + 50000 + c;
            ev[n].kind = GPURENT_TIER_EVENT_JOB;
            ev[n].value = rnd() % 9 == 0 ? GPURENT_JOB_FAILED_PROVIDER : (rnd() % 7 == 0 ? GPURENT_JOB_FAILED_USER
                                                                                         : GPURENT_JOB_COMPLETED);
        }
        memset(&ev[n], 0, sizeof ev[n]);
        pkey(ev[n].provider_key, i);
        ev[n].time_s = era * DAY + 60000;
        ev[n].kind = GPURENT_TIER_EVENT_STAKE;
        ev[n].value = 1000000ull * (i % 1500) + era;
        n++;
        for (int k = 0; k < ne; k++) assert_int_equal(gpurent_tier_record(es[k], ev, n), GPURENT_OK);
        uint32_t na = 2 + (uint32_t)(rnd() % (NAUD - 1));
        for (uint32_t j = 0; j < na; j++) {
            uint32_t aj = (uint32_t)((i + j + era) % NAUD);
            gpurent_audit_report r;
            gpurent_audit_report_init(&r);
            pkey(r.provider_key, i);
            akey(r.auditor_key, aj);
            r.time_s = era * DAY + 40000 + aj;
            r.gpu_report = GPURENT_CHECK_PASSED;
            r.integrity = (i % 31 == 7 && era % 11 == 4) ? GPURENT_CHECK_FAILED : GPURENT_CHECK_PASSED;
            r.security = (i % 97 == 13 && era == ERA0 + 20) ? GPURENT_CHECK_FAILED : GPURENT_CHECK_PASSED;
            if (aj == 5 && i % 5 == 0) r.security = GPURENT_CHECK_FAILED; /* a lying auditor */
            for (int k = 0; k < ne; k++) assert_int_equal(gpurent_tier_record_report(es[k], &r), GPURENT_OK);
            gpurent_audit_report_clear(&r);
        }
    }
}

/* Save `e`, load it back and swap it in (the engine that "restarts"). */
/* Where restart also saves to a file (empty: it does not). */
static char side_path[128];

/* `e` saved to side_path, streamed while it is encoded through a buffer
 * that `seq` picks (the default, under the header and a record, a few KiB,
 * around a chunk), with the worker or without: the file holds `want`. */
static void save_file_same(const gpurent_tier_engine *e, uint64_t seq, const gpurent_buf *want)
{
    SNAP_SAVE_FILE_SAME(gpurent_tier_save_file, e, seq, side_path, want);
}

static void restart(gpurent_tier_engine **e, uint64_t seq)
{
    gpurent_buf b = {0};
    assert_int_equal(gpurent_tier_save(*e, seq, &b), GPURENT_OK);
    if (side_path[0]) save_file_same(*e, seq, &b);
    gpurent_tier_engine *n = NULL;
    uint64_t got = 0;
    gpurent_tier_options o = tier_opts();
    int rc = gpurent_tier_load(&n, b.data, b.len, &o, &got);
    if (rc) fail_msg("load: %s (%s)", gpurent_status_name(rc), gpurent_last_error_message());
    assert_non_null(n);
    assert_int_equal(got, seq);
    /* canonical: the loaded engine saves to the very same bytes */
    gpurent_buf b2 = {0};
    assert_int_equal(gpurent_tier_save(n, seq, &b2), GPURENT_OK);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    gpurent_buf_free(&b);
    gpurent_buf_free(&b2);
    gpurent_tier_engine_free(*e);
    *e = n;
}

static void same_buf_rc(int ra, const gpurent_buf *a, int rb, const gpurent_buf *b)
{
    assert_int_equal(ra, rb);
    if (ra) return;
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
}

/* Every output of the two engines, compared byte for byte. */
static void assert_same_outputs(gpurent_tier_engine *a, gpurent_tier_engine *b, uint32_t np, uint32_t *certs)
{
    assert_int_equal(gpurent_tier_provider_count(a), gpurent_tier_provider_count(b));
    assert_int_equal(gpurent_tier_next_era(a), gpurent_tier_next_era(b));
    for (uint32_t i = 0; i < np; i++) {
        uint8_t key[32];
        pkey(key, i);
        gpurent_tier_explanation xa, xb;
        int ra = gpurent_tier_explain(a, key, &xa), rb = gpurent_tier_explain(b, key, &xb);
        assert_int_equal(ra, rb);
        if (!ra) {
            gpurent_buf ta = {0}, tb = {0};
            same_buf_rc(gpurent_tier_explain_text(&xa, &ta), &ta, gpurent_tier_explain_text(&xb, &tb), &tb);
            gpurent_buf_free(&ta);
            gpurent_buf_free(&tb);
            gpurent_tier_disputes da, db;
            memset(&da, 0, sizeof da);
            memset(&db, 0, sizeof db);
            assert_int_equal(gpurent_tier_explain_disputes(a, key, &da), gpurent_tier_explain_disputes(b, key, &db));
            assert_memory_equal(&da, &db, sizeof da);
        }
        gpurent_tier_cert ca, cb;
        ra = gpurent_tier_certificate(a, key, &ca);
        rb = gpurent_tier_certificate(b, key, &cb);
        assert_int_equal(ra, rb);
        if (!ra) {
            gpurent_buf ea = {0}, eb = {0};
            same_buf_rc(gpurent_tier_cert_encode(&ca, &ea), &ea, gpurent_tier_cert_encode(&cb, &eb), &eb);
            gpurent_buf_free(&ea);
            gpurent_buf_free(&eb);
            (*certs)++;
        }
    }
    assert_int_equal(gpurent_tier_slash_count(a), gpurent_tier_slash_count(b));
    for (uint32_t k = 0; k < gpurent_tier_slash_count(a); k++) {
        gpurent_tier_slash sa, sb;
        assert_int_equal(gpurent_tier_slash_get(a, k, &sa), GPURENT_OK);
        assert_int_equal(gpurent_tier_slash_get(b, k, &sb), GPURENT_OK);
        assert_memory_equal(sa.provider_key, sb.provider_key, 32);
        assert_true(sa.era == sb.era && sa.reasons == sb.reasons && sa.tier_before == sb.tier_before &&
                    sa.tier_after == sb.tier_after && sa.uptime_ppm == sb.uptime_ppm);
    }
    for (uint32_t j = 0; j < NAUD; j++) {
        uint8_t key[32];
        uint32_t ca = 0, cb = 0;
        akey(key, j);
        assert_int_equal(gpurent_tier_auditor_contradicted(a, key, &ca), gpurent_tier_auditor_contradicted(b, key, &cb));
        assert_int_equal(ca, cb);
    }
    /* and the whole state: both save to the same bytes */
    gpurent_buf sa = {0}, sb = {0};
    same_buf_rc(gpurent_tier_save(a, 7, &sa), &sa, gpurent_tier_save(b, 7, &sb), &sb);
    gpurent_buf_free(&sa);
    gpurent_buf_free(&sb);
}

static void refuse(const uint8_t *d, size_t n, const gpurent_tier_options *expect, int want, const char *detail);

static void test_tier_side_by_side(void **state)
{
    (void)state;
    const uint32_t np = under_valgrind() ? 60 : 400, eras = 30;
    gpurent_tier_engine *a = tier_new(), *b = tier_new();
    uint64_t seq = 0;
    uint32_t certs = 0, slashes = 0, promoted = 0;
    char dir[] = "/tmp/gpurent-tside-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(side_path, sizeof side_path, "%s/t.snap", dir);
    for (uint64_t era = ERA0; era < ERA0 + eras; era++) {
        gpurent_tier_engine *both[2] = {a, b};
        feed(both, 2, np, era, 0, 42);
        restart(&b, ++seq); /* mid-era: open evidence must survive */
        both[1] = b;
        feed(both, 2, np, era, 1, 42);
        gpurent_tier_era_summary sa, sb;
        memset(&sa, 0, sizeof sa);
        memset(&sb, 0, sizeof sb);
        assert_int_equal(gpurent_tier_evaluate(a, era, NULL, &sa), GPURENT_OK);
        assert_int_equal(gpurent_tier_evaluate(b, era, NULL, &sb), GPURENT_OK);
        assert_true(sa.era == sb.era && sa.evaluated == sb.evaluated && sa.promoted == sb.promoted &&
                    sa.demoted == sb.demoted && sa.resets == sb.resets && sa.slashes == sb.slashes &&
                    sa.graduated == sb.graduated);
        assert_memory_equal(sa.tier_counts, sb.tier_counts, sizeof sa.tier_counts);
        if (sa.slashes && !slashes) {
            /* a slash event of an earlier era (the events kept are the last
             * evaluation's, era next_era - 1) is refused: the list ends the body */
            gpurent_buf s = {0};
            assert_int_equal(gpurent_tier_save(a, 0, &s), GPURENT_OK);
            uint32_t ns = gpurent_tier_slash_count(a);
            assert_true(ns > 0 && s.len > 32 + 4 + (size_t)ns * 56);
            uint8_t *e8 = s.data + s.len - 32 - (size_t)ns * 56 + 32;
            assert_int_equal(e8[0] | e8[1] << 8, (int)(era & 0xffff));
            e8[0] = (uint8_t)(e8[0] - 1); /* era - 1 (ERA0 + 30 stays within its low byte) */
            snap_reseal(&s);
            refuse(s.data, s.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "slash event 0");
            gpurent_buf_free(&s);
        }
        slashes += sa.slashes;
        promoted += sa.promoted;
        restart(&b, ++seq); /* after the evaluation */
        assert_same_outputs(a, b, np, &certs);
    }
    /* the scenario exercised what it claims to */
    assert_true(certs > np);
    assert_true(slashes > 0);
    assert_true(promoted > 0);
    gpurent_tier_engine_free(a);
    gpurent_tier_engine_free(b);
    assert_int_equal(unlink(side_path), 0);
    assert_int_equal(rmdir(dir), 0); /* (nothing else left there) */
    side_path[0] = 0;
}

/* ---------- refusals ---------- */

static gpurent_tier_engine *small_engine(uint32_t np, uint32_t eras)
{
    gpurent_tier_engine *e = tier_new();
    for (uint64_t era = ERA0; era < ERA0 + eras; era++) {
        feed(&e, 1, np, era, 0, 9);
        feed(&e, 1, np, era, 1, 9);
        assert_int_equal(gpurent_tier_evaluate(e, era, NULL, NULL), GPURENT_OK);
    }
    feed(&e, 1, np, ERA0 + eras, 0, 9);
    return e;
}

static void refuse(const uint8_t *d, size_t n, const gpurent_tier_options *expect, int want, const char *detail)
{
    gpurent_tier_engine *e = (gpurent_tier_engine *)&e; /* must be reset to NULL */
    uint64_t seq = 99;
    int rc = gpurent_tier_load(&e, d, n, expect, &seq);
    snap_refused(rc, want, e, seq, detail);
}

/* ---------- the container's tree checksum (lib/core/snapshot.c) ---------- */

/* A container of kind tier at `version` whose body is `blen` pattern bytes. */
static gpurent_buf container(uint32_t version, size_t blen)
{
    uint8_t params[32];
    memset(params, 7, sizeof params);
    gr_bytes w;
    gr_snap_begin(&w, GR_SNAP_TIER, version, params, 42, blen);
    uint8_t *p = blen ? gr_put_room(&w, blen) : NULL;
    assert_true(p || !blen);
    for (size_t i = 0; i < blen; i++) p[i] = (uint8_t)((i * 2654435761u) >> 13);
    gpurent_buf b = {0};
    assert_int_equal(gr_snap_finish(&w, &b), GPURENT_OK);
    return b;
}

/* Open `b` as the loaders do (the checksum maybe on a second thread while
 * the body is read) and read the body through: the status. */
static int open_async(const gpurent_buf *b)
{
    gr_snap_header h;
    gr_snap_reader r;
    gr_snap_verify v;
    int rc = gr_snap_open_async(b->data, b->len, GR_SNAP_TIER, 2, NULL, "test", &h, &r, &v);
    if (rc) return rc;
    gr_get_raw(&r, gr_get_left(&r));
    return gr_snap_verify_end(&v, gr_snap_done(&r, "test"));
}

static void test_tree_checksum(void **state)
{
    (void)state;
    const size_t C = (size_t)1 << 20;
    /* (6 C + 1: the second claim of four hashes two whole chunks side by
     * side, then the short one alone) */
    const size_t sizes[] = {0, 1, C - 1, C, C + 1, 3 * C + C / 2, 5 * C, 6 * C + 1};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        if (under_valgrind() && sizes[k] > 5 * C) continue; /* (time) */
        gpurent_buf b = container(GR_SNAP_TREE_TIER, sizes[k]), n = {0};
        uint8_t want[32];
        snap_tree_sum(b.data, b.len, want); /* independently (tests/support/snap.h) */
        assert_memory_equal(b.data + b.len - 32, want, 32);
        /* the same bytes with no worker thread (as when pthread_create fails) */
        gr_snap_test_no_worker = 1;
        n = container(GR_SNAP_TREE_TIER, sizes[k]);
        assert_int_equal(open_async(&n), GPURENT_OK);
        gr_snap_test_no_worker = 0;
        assert_int_equal(n.len, b.len);
        assert_memory_equal(n.data, b.data, b.len);
        gpurent_buf_free(&n);
        assert_int_equal(open_async(&b), GPURENT_OK);
        /* a flipped byte in the header, in the first, a middle and the last
         * chunk, or in the checksum: refused, with and without the worker */
        size_t body = sizes[k], at[] = {50, 64, 64 + body / 2, 64 + body - 1, b.len - 1};
        for (size_t j = 0; j < sizeof at / sizeof *at; j++) {
            if (j >= 1 && j <= 3 && body == 0) continue; /* no chunk */
            for (int nw = 0; nw < 2; nw++) {
                gr_snap_test_no_worker = nw;
                b.data[at[j]] ^= 0x20;
                assert_int_equal(open_async(&b), GPURENT_E_SNAPSHOT_CORRUPT);
                assert_non_null(strstr(gpurent_last_error_message(), "checksum does not match"));
                gr_snap_header h;
                gr_snap_reader r;
                assert_int_equal(gr_snap_open(b.data, b.len, GR_SNAP_TIER, 2, NULL, "test", &h, &r),
                                 GPURENT_E_SNAPSHOT_CORRUPT);
                b.data[at[j]] ^= 0x20;
            }
            gr_snap_test_no_worker = 0;
        }
        /* other parameters: PARAMS when the checksum holds, CORRUPT when not */
        uint8_t other[32] = {0};
        gr_snap_header h;
        gr_snap_reader r;
        gr_snap_verify v;
        assert_int_equal(gr_snap_open_async(b.data, b.len, GR_SNAP_TIER, 2, other, "test", &h, &r, &v),
                         GPURENT_E_SNAPSHOT_PARAMS);
        b.data[b.len - 1] ^= 1;
        assert_int_equal(gr_snap_open_async(b.data, b.len, GR_SNAP_TIER, 2, other, "test", &h, &r, &v),
                         GPURENT_E_SNAPSHOT_CORRUPT);
        b.data[b.len - 1] ^= 1;
        /* the same container at version 1: the whole-file checksum */
        gpurent_buf old = container(1, sizes[k]);
        crypto_generichash(want, 32, old.data, old.len - 32, NULL, 0);
        assert_memory_equal(old.data + old.len - 32, want, 32);
        assert_int_equal(open_async(&old), GPURENT_OK);
        gpurent_buf_free(&old);
        gpurent_buf_free(&b);
    }
    /* to a file: the checksum computed while the body is written is the same;
     * a write that fails (no such folder) stops and joins the worker */
    char dir[] = "/tmp/gpurent-tree-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/c.snap", dir);
    for (int nw = 0; nw < 2; nw++) {
        gr_snap_test_no_worker = nw;
        gpurent_buf b = container(GR_SNAP_TREE_TIER, 3 * C + 5), f = {0};
        uint8_t params[32];
        memset(params, 7, sizeof params);
        gr_bytes w;
        gr_snap_begin(&w, GR_SNAP_TIER, GR_SNAP_TREE_TIER, params, 42, 0);
        gr_put_raw(&w, b.data + 64, b.len - 96);
        assert_int_equal(gr_snap_finish_file(&w, path, "test"), GPURENT_OK);
        assert_int_equal(gr_file_read(path, 1u << 30, &f, "test"), GPURENT_OK);
        assert_int_equal(f.len, b.len);
        assert_memory_equal(f.data, b.data, b.len);
        gr_snap_begin(&w, GR_SNAP_TIER, GR_SNAP_TREE_TIER, params, 42, 0);
        gr_put_raw(&w, b.data + 64, b.len - 96);
        assert_int_equal(gr_snap_finish_file(&w, "/nonexistent-gpurent/x.snap", "test"), GPURENT_E_IO);
        gpurent_buf_free(&f);
        gpurent_buf_free(&b);
    }
    gr_snap_test_no_worker = 0;
    unlink(path);
    rmdir(dir);
}

/* small_engine(30, 8) saved at sequence 77 by the encoder of December
 * 2026 before it copied runs of fields whole: today's save must give these
 * bytes, and the file must load and save to them. */
#define TIER_V2_FIXTURE "tests/fixtures/snapshot/tier_v2.snap"
static void test_tier_fixture(void **state)
{
    (void)state;
    FILE *f = fopen(TIER_V2_FIXTURE, "rb");
    if (!f) fail_msg("%s: cannot open (run from the repository root)", TIER_V2_FIXTURE);
    gpurent_buf want = {malloc(1 << 20), 0};
    assert_non_null(want.data);
    want.len = fread(want.data, 1, 1 << 20, f);
    fclose(f);
    gpurent_tier_engine *e = small_engine(30, 8), *l = NULL;
    gpurent_buf now = {0}, again = {0};
    assert_int_equal(gpurent_tier_save(e, 77, &now), GPURENT_OK);
    assert_int_equal(now.len, want.len);
    assert_memory_equal(now.data, want.data, want.len);
    uint64_t seq = 0;
    assert_int_equal(gpurent_tier_load(&l, want.data, want.len, NULL, &seq), GPURENT_OK);
    assert_int_equal(seq, 77);
    assert_int_equal(gpurent_tier_save(l, 77, &again), GPURENT_OK);
    assert_int_equal(again.len, want.len);
    assert_memory_equal(again.data, want.data, want.len);
    gpurent_buf_free(&again);
    gpurent_buf_free(&now);
    gpurent_buf_free(&want);
    gpurent_tier_engine_free(l);
    gpurent_tier_engine_free(e);
}

/* A tier snapshot of version 1 (the whole-file checksum, the same body)
 * loads, and saves again as the current version, byte for byte. */
static void test_tier_version_1(void **state)
{
    (void)state;
    gpurent_tier_engine *e = small_engine(under_valgrind() ? 12 : 40, 6), *x = NULL;
    gpurent_buf b = {0}, again = {0};
    assert_int_equal(gpurent_tier_save(e, 77, &b), GPURENT_OK);
    assert_int_equal(b.data[12], 2);
    uint8_t *v1 = malloc(b.len);
    memcpy(v1, b.data, b.len);
    snap_as_old_version(v1, b.len, 1);
    uint64_t seq = 0;
    assert_int_equal(gpurent_tier_load(&x, v1, b.len, NULL, &seq), GPURENT_OK);
    assert_int_equal(seq, 77);
    assert_int_equal(gpurent_tier_save(x, 77, &again), GPURENT_OK);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    gpurent_tier_engine_free(x);
    x = NULL;
    /* a version 1 file sealed with the tree, or the current one with the
     * whole-file checksum: refused */
    snap_seal_tree(v1, b.len);
    refuse(v1, b.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "checksum does not match");
    memcpy(v1, b.data, b.len);
    snap_seal_whole(v1, b.len);
    refuse(v1, b.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "checksum does not match");
    free(v1);
    gpurent_buf_free(&again);
    gpurent_buf_free(&b);
    gpurent_tier_engine_free(e);
}

/* A trust snapshot of version 1 (the whole-file checksum) loads and saves
 * again as the current version, byte for byte. */
static void test_trust_version_1(void **state)
{
    (void)state;
    gpurent_trust_options o = GPURENT_TRUST_OPTIONS_INIT;
    o.replay_capacity = 8;
    gpurent_trust *t = NULL, *x = NULL;
    assert_int_equal(gpurent_trust_new(&t, &o), GPURENT_OK);
    gpurent_buf b = {0}, again = {0};
    assert_int_equal(gpurent_trust_save(t, 9, &b), GPURENT_OK);
    assert_int_equal(b.data[12], 2);
    b.data[12] = 1;
    assert_int_equal(gpurent_trust_load(&x, b.data, b.len, NULL, NULL), GPURENT_E_SNAPSHOT_CORRUPT);
    snap_seal_whole(b.data, b.len);
    assert_int_equal(gpurent_trust_load(&x, b.data, b.len, NULL, NULL), GPURENT_OK);
    assert_int_equal(gpurent_trust_save(x, 9, &again), GPURENT_OK);
    b.data[12] = 2;
    snap_reseal(&b);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    gpurent_buf_free(&again);
    gpurent_buf_free(&b);
    gpurent_trust_free(x);
    gpurent_trust_free(t);
}

/* A tier snapshot of several chunks loads with its checksum on a second
 * thread or not, and a flipped byte in any chunk is refused either way. */
static void test_tier_chunks(void **state)
{
    (void)state;
    uint32_t np = under_valgrind() ? 4000 : 6000;
    gpurent_tier_engine *e = small_engine(np, 1), *x = NULL;
    gpurent_buf b = {0}, again = {0};
    assert_int_equal(gpurent_tier_save(e, 3, &b), GPURENT_OK);
    assert_true(b.len > 3 * ((size_t)1 << 20) + 96); /* a worker thread is started for it */
    for (int nw = 0; nw < 2; nw++) {
        gr_snap_test_no_worker = nw;
        assert_int_equal(gpurent_tier_load(&x, b.data, b.len, NULL, NULL), GPURENT_OK);
        assert_int_equal(gpurent_tier_save(x, 3, &again), GPURENT_OK);
        assert_int_equal(again.len, b.len);
        assert_memory_equal(again.data, b.data, b.len);
        gpurent_buf_free(&again);
        gpurent_tier_engine_free(x);
        x = NULL;
        for (size_t at = 64 + 12345; at < b.len - 32; at += ((size_t)1 << 20) - 777) {
            b.data[at] ^= 0x08;
            refuse(b.data, b.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, NULL);
            b.data[at] ^= 0x08;
        }
    }
    gr_snap_test_no_worker = 0;
    gpurent_buf_free(&b);
    gpurent_tier_engine_free(e);
}

/* Offset of provider i's key in a tier snapshot. */
static size_t key_at(const gpurent_buf *b, uint32_t i)
{
    uint8_t k[32];
    pkey(k, i);
    for (size_t at = 64; at + 32 <= b->len; at++)
        if (memcmp(b->data + at, k, 32) == 0) return at;
    fail_msg("provider key %u not found", i);
    return 0;
}

static void test_tier_refusals(void **state)
{
    (void)state;
    gpurent_tier_engine *e = small_engine(under_valgrind() ? 12 : 40, 6);
    gpurent_buf b = {0}, c = {0};
    assert_int_equal(gpurent_tier_save(e, 1234, &b), GPURENT_OK);
    gpurent_tier_options o = tier_opts();
    c.data = malloc(b.len);
    c.len = b.len;
#define FRESH() memcpy(c.data, b.data, b.len)
    /* a flipped byte anywhere in the body or the checksum */
    FRESH();
    c.data[b.len / 2] ^= 0x10;
    refuse(c.data, c.len, &o, GPURENT_E_SNAPSHOT_CORRUPT, "checksum does not match");
    FRESH();
    c.data[b.len - 1] ^= 1;
    refuse(c.data, c.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "checksum");
    /* not a snapshot at all */
    FRESH();
    c.data[0] = 'X';
    refuse(c.data, c.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "not a libgpurent snapshot");
    /* truncated: every prefix is refused, never loaded */
    for (size_t n = 0; n < b.len; n += (n < 200 ? 1 : 997)) refuse(b.data, n, NULL, n ? GPURENT_E_SNAPSHOT_TRUNCATED : GPURENT_E_SNAPSHOT_CORRUPT, NULL);
    refuse(b.data, b.len - 1, NULL, GPURENT_E_SNAPSHOT_TRUNCATED, "the header says");
    /* trailing bytes */
    uint8_t *longer = malloc(b.len + 1);
    memcpy(longer, b.data, b.len);
    longer[b.len] = 0;
    refuse(longer, b.len + 1, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "after the checksum");
    free(longer);
    /* foreign kind (a market snapshot is kind 2) */
    FRESH();
    c.data[8] = 2;
    refuse(c.data, c.len, NULL, GPURENT_E_SNAPSHOT_KIND, "snapshot of kind 2, expected 1");
    /* newer format */
    FRESH();
    c.data[12] = 3;
    refuse(c.data, c.len, NULL, GPURENT_E_SNAPSHOT_VERSION, "format version 3");
    /* other parameters */
    gpurent_tier_options other = tier_opts();
    other.window_eras = 20;
    refuse(b.data, b.len, &other, GPURENT_E_SNAPSHOT_PARAMS, "other parameters");
    /* a valid checksum over broken contents: the invariants are checked */
    size_t k1 = key_at(&b, 1);
    FRESH();
    c.data[k1 + 32] = 0; /* provider 1's tier: 0 is no tier */
    snap_reseal(&c);
    refuse(c.data, c.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, ": tier 0,");
    FRESH();
    memcpy(c.data + k1, c.data + key_at(&b, 0), 32); /* two providers with one key */
    snap_reseal(&c);
    refuse(c.data, c.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "repeats an earlier key");
    FRESH();
    c.data[k1 + 32 + 4 * 6 + 8 + 24 + 8 + 16 + 4 + 16 + 4 + 16 + 4 + 8 + 4 + 4] = 200; /* provider 1's rule */
    snap_reseal(&c);
    refuse(c.data, c.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, ": rule 200");
    FRESH();
    c.data[64] = 99; /* tier_count 99: invalid options */
    snap_reseal(&c);
    refuse(c.data, c.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "its options are invalid");
    FRESH();
    c.data[20] ^= 1; /* the header's digest no longer matches the options */
    snap_reseal(&c);
    refuse(c.data, c.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "params digest");
    /* an audit entry of an era that left the window (evaluation drops
     * those, so no engine holds one): the first entry of the first
     * provider with any (found by its record's length, key to key) */
    {
        size_t first = 0;
        for (uint32_t i = 0; i + 1 < (under_valgrind() ? 12u : 40u) && !first; i++) {
            size_t ki = key_at(&b, i);
            for (size_t cand = 100; cand < 600 && !first; cand++) {
                const uint8_t *q = b.data + ki + 32 + cand - 4;
                uint32_t na = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
                size_t kn = ki + 32 + cand + (size_t)na * 24;
                uint8_t k[32];
                if (na && na < 4096 && kn + 32 <= b.len && b.data[kn] == 0x50) {
                    pkey(k, (uint32_t)b.data[kn + 1] << 16 | (uint32_t)b.data[kn + 2] << 8 | b.data[kn + 3]);
                    if (memcmp(k, b.data + kn, 32) == 0) first = ki + 32 + cand;
                }
            }
        }
        assert_true(first != 0);
        FRESH();
        memset(c.data + first, 0, 8);
        c.data[first] = 1; /* era 1, long before the window */
        snap_reseal(&c);
        refuse(c.data, c.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "out of range");
    }
    /* a provider count the body holds records for (at under 300 bytes each)
     * but not their era slots: refused before the engine's arrays are sized
     * for it (it was allocated first, several times the file's size) */
    {
        size_t k0 = key_at(&b, 0), left = b.len - 32 - k0;
        FRESH();
        uint32_t big = (uint32_t)(left / 300);
        for (int i = 0; i < 4; i++) c.data[k0 - 4 + i] = (uint8_t)(big >> (8 * i));
        snap_reseal(&c);
        refuse(c.data, c.len, NULL, GPURENT_E_SNAPSHOT_CORRUPT, "too short for their records and era slots");
    }
    /* every resealed single-byte change either loads or is refused as corrupt (never a crash) */
    const size_t step = under_valgrind() ? 211 : 1;
    for (size_t at = 64; at < b.len - 32; at += step + at % 7) {
        FRESH();
        c.data[at] ^= (uint8_t)(1u << (at % 8));
        snap_reseal(&c);
        gpurent_tier_engine *x = NULL;
        int rc = gpurent_tier_load(&x, c.data, c.len, NULL, NULL);
        assert_true(rc == GPURENT_OK || rc == GPURENT_E_SNAPSHOT_CORRUPT);
        assert_true((rc == GPURENT_OK) == (x != NULL));
        gpurent_tier_engine_free(x);
    }
    /* arguments */
    assert_int_equal(gpurent_tier_save(NULL, 0, &c), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_tier_load(NULL, b.data, b.len, NULL, NULL), GPURENT_E_INVALID_ARG);
    free(c.data);
    gpurent_buf_free(&b);
    gpurent_tier_engine_free(e);
}

/* ---------- files ---------- */

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gpurent-snap-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
}

static void rm_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *de;
    char p[512];
    while (d && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, de->d_name);
            unlink(p);
        }
    if (d) closedir(d);
    rmdir(tmpdir);
}

static int count_files(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d))) n += de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."));
    if (d) closedir(d);
    return n;
}

/* A body of n bytes streamed to `path` (gr_snap_begin_file) in puts of
 * varied sizes: small ones, a gr_put_raw of up to 2.5 chunks (copied out in
 * pieces), and a gr_put_room filled in place (a room larger than the buffer
 * grows it). The status of the finish. */
static int stream_body(const char *path, const uint8_t *body, size_t n, uint64_t *rng)
{
    const size_t C = GR_SNAP_CHUNK;
    uint8_t params[32];
    memset(params, 7, sizeof params);
    gr_bytes w;
    int rc = gr_snap_begin_file(&w, path, "test", GR_SNAP_TIER, GR_SNAP_TREE_TIER, params, 42, n / 2);
    if (rc) return rc;
    for (size_t at = 0; at < n;) {
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        unsigned pick = (unsigned)(*rng >> 60);
        size_t k = pick < 12 ? 1 + (size_t)(*rng >> 33) % 5000 : pick < 14 ? (size_t)(*rng >> 20) % (5 * C / 2) + 1
                                                                             : (size_t)(*rng >> 20) % (3 * C / 2) + 1;
        if (k > n - at) k = n - at;
        if (pick >= 14) {
            uint8_t *p = gr_put_room(&w, k);
            assert_true(p || w.failed);
            if (p) memcpy(p, body + at, k);
        } else if (k <= 8) {
            for (size_t i = 0; i < k; i++) gr_put_u8(&w, body[at + i]);
        } else {
            gr_put_raw(&w, body + at, k);
        }
        at += k;
    }
    return gr_snap_finish_file(&w, path, "test");
}

/* A snapshot streamed to its file while it is encoded has the bytes of the
 * same snapshot made in memory: for bodies around the chunk size and
 * larger than the buffer, buffers smaller than a chunk, around it and the
 * default, with the worker and without. A write that fails part way (the
 * file size limit) and an encoder that gives up leave no temporary file
 * and the old snapshot in place; a folder that does not exist fails first. */
static void test_stream_file(void **state)
{
    (void)state;
    const size_t C = GR_SNAP_CHUNK;
    const size_t bodies[] = {0, 1, C - 64, C, C + 1, 3 * C + C / 2, 17 * C + 5};
    const size_t bufs[] = {0, C / 2, C + 100, 3 * C + 7};
    make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/s.snap", tmpdir);
    uint64_t rng = 0x243F6A8885A308D3ull;
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        size_t n = bodies[i];
        if (under_valgrind() && n > 4 * C) continue;
        gpurent_buf want = container(GR_SNAP_TREE_TIER, n);
        for (size_t j = 0; j < sizeof bufs / sizeof *bufs; j++)
            for (int nw = 0; nw < 2; nw++) {
                gr_snap_test_stream_buf = bufs[j];
                gr_snap_test_no_worker = nw;
                assert_int_equal(stream_body(path, want.data + 64, n, &rng), GPURENT_OK);
                gpurent_buf got = {0};
                assert_int_equal(gr_file_read(path, 1u << 30, &got, "test"), GPURENT_OK);
                assert_int_equal(got.len, want.len);
                assert_memory_equal(got.data, want.data, want.len);
                assert_int_equal(count_files(), 1);
                gpurent_buf_free(&got);
            }
        gpurent_buf_free(&want);
    }
    gr_snap_test_no_worker = 0;
    /* what is in place now: the largest body tried */
    gpurent_buf old = {0};
    assert_int_equal(gr_file_read(path, 1u << 30, &old, "test"), GPURENT_OK);
    size_t big = 6 * C + 3;
    uint8_t *body = malloc(big);
    assert_non_null(body);
    for (size_t i = 0; i < big; i++) body[i] = (uint8_t)(i * 7 + (i >> 11));
    /* the file size limit stops the writes part way (EFBIG, SIGXFSZ ignored) */
    struct rlimit lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &lim), 0);
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    for (size_t j = 0; j < sizeof bufs / sizeof *bufs; j++)
        for (int nw = 0; nw < 2; nw++) {
            gr_snap_test_stream_buf = bufs[j];
            gr_snap_test_no_worker = nw;
            struct rlimit small = lim;
            small.rlim_cur = 2 * C + 17;
            assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
            int rc = stream_body(path, body, big, &rng);
            assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
            assert_int_equal(rc, GPURENT_E_IO);
            assert_non_null(strstr(gpurent_last_error_message(), strerror(EFBIG)));
            assert_int_equal(count_files(), 1);
            gpurent_buf now = {0};
            assert_int_equal(gr_file_read(path, 1u << 30, &now, "test"), GPURENT_OK);
            assert_int_equal(now.len, old.len);
            assert_memory_equal(now.data, old.data, old.len);
            gpurent_buf_free(&now);
        }
    signal(SIGXFSZ, was);
    /* an encoder that gives up part way (gr_bytes_free): the worker stops,
     * the temporary file goes */
    for (int nw = 0; nw < 2; nw++) {
        gr_snap_test_stream_buf = C + 100;
        gr_snap_test_no_worker = nw;
        uint8_t params[32] = {0};
        gr_bytes w;
        assert_int_equal(gr_snap_begin_file(&w, path, "test", GR_SNAP_TIER, GR_SNAP_TREE_TIER, params, 1, 0),
                         GPURENT_OK);
        assert_int_equal(count_files(), 2);
        gr_put_raw(&w, body, big);
        gr_bytes_free(&w);
        assert_int_equal(count_files(), 1);
    }
    gr_snap_test_stream_buf = 0;
    gr_snap_test_no_worker = 0;
    /* no such folder: refused at the start, nothing to free */
    gr_bytes w;
    uint8_t params[32] = {0};
    assert_int_equal(gr_snap_begin_file(&w, "/nonexistent-gpurent/x.snap", "test", GR_SNAP_TIER, GR_SNAP_TREE_TIER,
                                        params, 1, 0),
                     GPURENT_E_IO);
    assert_null(w.data);
    assert_null(w.sink);
    gr_bytes_free(&w);
    /* a kind and version without the tree checksum cannot be streamed:
     * refused before anything is opened */
    assert_int_equal(gr_snap_begin_file(&w, path, "test", GR_SNAP_TIER, GR_SNAP_TREE_TIER - 1, params, 1, 0),
                     GPURENT_E_INVALID_ARG);
    assert_non_null(strstr(gpurent_last_error_message(), "no tree checksum"));
    assert_null(w.sink);
    assert_int_equal(count_files(), 1);
    /* a stream buffer below a header and a checksum (tests only): the first
     * buffer is that much, not the hint's 64 MiB */
    gr_snap_test_stream_buf = 40;
    (void)gr_alloc_largest(1);
    assert_int_equal(gr_snap_begin_file(&w, path, "test", GR_SNAP_TIER, GR_SNAP_TREE_TIER, params, 1, (size_t)64 << 20),
                     GPURENT_OK);
    assert_true(gr_alloc_largest(0) < ((size_t)64 << 10)); /* (the stream itself, paths and all, is the largest) */
    gr_put_raw(&w, body, 3 * C + 5);
    gr_bytes_free(&w);
    gr_snap_test_stream_buf = 0;
    assert_int_equal(count_files(), 1);
    free(body);
    gpurent_buf_free(&old);
    rm_tmpdir();
}

/* One put of the script below: its kind and size. */
typedef struct put_step {
    unsigned kind; /* 0 u8, 1 u16, 2 u32, 3 u64, 4 raw, 5 room */
    size_t n;
} put_step;

/* Apply `steps` to `w`, the bytes drawn from `src` in order. */
static void apply_puts(gr_bytes *w, const put_step *steps, size_t ns, const uint8_t *src)
{
    size_t at = 0;
    for (size_t i = 0; i < ns; i++) {
        const put_step *p = &steps[i];
        switch (p->kind) {
        case 0: gr_put_u8(w, src[at]); break;
        case 1: gr_put_u16(w, (uint16_t)gr_le_load(src + at, 2)); break;
        case 2: gr_put_u32(w, (uint32_t)gr_le_load(src + at, 4)); break;
        case 3: gr_put_u64(w, gr_le_load(src + at, 8)); break;
        case 4: gr_put_raw(w, src + at, p->n); break;
        default: {
            uint8_t *q = gr_put_room(w, p->n);
            if (q) memcpy(q, src + at, p->n);
        }
        }
        at += p->n;
    }
}

/* gr_blake2b256_lanes gives the digests of crypto_generichash(d, 32, in,
 * len, NULL, 0), four side by side or each alone: every count of inputs
 * from 1 to 9 (whole groups of four, a group of two or three, one left
 * over), lengths around the 128-byte block (0, one byte, a block and one,
 * ...) and a chunk, inputs at any alignment and overlapping. */
static void test_blake2b_lanes(void **state)
{
    (void)state;
    const size_t C = GR_SNAP_CHUNK;
    uint8_t *src = malloc(C + 4096);
    assert_non_null(src);
    for (size_t i = 0; i < C + 4096; i++) src[i] = (uint8_t)((i * 2654435761u) >> 11);
    const size_t lens[] = {0, 1, 2, 63, 64, 111, 127, 128, 129, 255, 256, 257, 1000, 4095, 4096, 4097, C - 1, C};
    for (int scalar = 0; scalar < 2; scalar++) {
        gr_blake2b_test_scalar = scalar;
        for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
            size_t len = lens[li];
            for (size_t n = 1; n <= 9; n++) {
                if (len >= C - 1 && n > 5) continue; /* (time) */
                const uint8_t *in[9];
                uint8_t out[9 * 32 + 1], want[32];
                for (size_t i = 0; i < n; i++) in[i] = src + (i * 977 + len) % 4093;
                out[n * 32] = 0xA5; /* nothing is written past the n digests */
                gr_blake2b256_lanes(in, n, len, out);
                assert_int_equal(out[n * 32], 0xA5);
                for (size_t i = 0; i < n; i++) {
                    crypto_generichash(want, 32, in[i], len, NULL, 0);
                    if (memcmp(want, out + 32 * i, 32) != 0)
                        fail_msg("digest %zu of %zu, %zu bytes, scalar %d: not libsodium's", i, n, len, scalar);
                }
            }
        }
    }
    gr_blake2b_test_scalar = 0;
    free(src);
}

/* gr_blake2b256_lanes reads the `len` bytes of each input and nothing
 * beside them: each input in its own mapping between two inaccessible
 * pages, placed to end exactly at the upper one and to start exactly after
 * the lower one (a read past either end faults), for every length from 0
 * to 300 and each multiple of 128 up to 4096 with one byte either side,
 * counts 1 to 5 (the spare lanes of a short group, one left over), on the
 * lanes and on libsodium: every digest equals crypto_generichash's. The
 * array of input pointers and the digests' room end at an inaccessible page
 * too (nothing is read past the n pointers, nor written past n digests). */
static void test_blake2b_lanes_guard(void **state)
{
    (void)state;
    const size_t P = (size_t)sysconf(_SC_PAGESIZE), span = 2 * P; /* room for 4097 bytes and more */
    assert_true(span >= 4097);
    uint8_t *map[5], *lo[5];
    for (size_t i = 0; i < 5; i++) {
        map[i] = mmap(NULL, span + 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert_true(map[i] != MAP_FAILED);
        lo[i] = map[i] + P;
        for (size_t b = 0; b < span; b++) lo[i][b] = (uint8_t)(((b + 7919 * i) * 2654435761u) >> 13);
        assert_int_equal(mprotect(map[i], P, PROT_NONE), 0);
        assert_int_equal(mprotect(lo[i] + span, P, PROT_NONE), 0);
    }
    uint8_t *edge = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(edge != MAP_FAILED);
    assert_int_equal(mprotect(edge + P, P, PROT_NONE), 0);
    size_t lens[301 + 3 * 32], nl = 0;
    for (size_t l = 0; l <= 300; l++) lens[nl++] = l;
    for (size_t m = 384; m <= 4096; m += 128) lens[nl++] = m - 1, lens[nl++] = m, lens[nl++] = m + 1;
    const int vg = under_valgrind();
    for (int scalar = 0; scalar < (vg ? 1 : 2); scalar++) {
        gr_blake2b_test_scalar = scalar;
        for (size_t li = 0; li < nl; li++) {
            size_t len = lens[li];
            for (size_t n = 1; n <= 5; n++) {
                if (vg && n != 3 && n != 5) continue; /* (time) */
                for (int at_end = 0; at_end < 2; at_end++) {
                    /* the pointers at the end of the page, the digests just before them */
                    const uint8_t **in = (const uint8_t **)(void *)(edge + P - n * sizeof *in);
                    uint8_t *out = edge + P - n * sizeof *in - 32 * n, want[32];
                    for (size_t i = 0; i < n; i++) in[i] = lo[i] + (at_end ? span - len : 0);
                    if (!at_end) { /* the digests at the end of the page instead */
                        out = edge + P - 32 * n;
                        in = (const uint8_t **)(void *)(out - 5 * sizeof *in);
                        for (size_t i = 0; i < n; i++) in[i] = lo[i];
                    }
                    gr_blake2b256_lanes(in, n, len, out);
                    for (size_t i = 0; i < n; i++) {
                        crypto_generichash(want, 32, in[i], len, NULL, 0);
                        if (memcmp(want, out + 32 * i, 32) != 0)
                            fail_msg("digest %zu of %zu, %zu bytes %s, scalar %d: not libsodium's", i, n, len,
                                     at_end ? "at the end" : "at the start", scalar);
                    }
                }
            }
        }
    }
    gr_blake2b_test_scalar = 0;
    for (size_t i = 0; i < 5; i++) assert_int_equal(munmap(map[i], span + 2 * P), 0);
    assert_int_equal(munmap(edge, 2 * P), 0);
}

/* Saves of many chunks streamed through the ring (one job of one chunk, of
 * two, of three, and jobs smaller than a chunk), with the worker, hashed
 * four chunks at a time across jobs and one at a time: every file is the
 * snapshot made in memory, and the in-memory checksum is the same both
 * ways. A claim of chunks from several jobs that left the oldest job
 * unclaimed behind once misplaced digests here (the tier bench's loads
 * refused its saves). */
static void test_stream_ring(void **state)
{
    (void)state;
    const size_t C = GR_SNAP_CHUNK;
    /* a short last chunk, and a body of whole chunks (the last job's claims
     * run to the end of what is posted) */
    const size_t bodies[] = {(under_valgrind() ? 9 : 29) * C + 4099, (under_valgrind() ? 5 : 12) * C};
    const size_t bufs[] = {0, C + 64, 3 * C + 7, C / 2};
    make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/r.snap", tmpdir);
    for (size_t b = 0; b < sizeof bodies / sizeof *bodies; b++) {
        const size_t n = bodies[b];
        gpurent_buf want = container(GR_SNAP_TREE_TIER, n);
        gr_blake2b_test_scalar = 1;
        gpurent_buf scalar = container(GR_SNAP_TREE_TIER, n);
        gr_blake2b_test_scalar = 0;
        assert_int_equal(scalar.len, want.len);
        assert_memory_equal(scalar.data, want.data, want.len);
        gpurent_buf_free(&scalar);
        uint64_t rng = 0x452821E638D01377ull;
        int rounds = under_valgrind() || b > 0 ? 1 : 3;
        for (int round = 0; round < rounds; round++)
            for (size_t j = 0; j < sizeof bufs / sizeof *bufs; j++)
                for (int sc = 0; sc < 2; sc++) {
                    gr_snap_test_stream_buf = bufs[j];
                    gr_blake2b_test_scalar = sc;
                    assert_int_equal(stream_body(path, want.data + 64, n, &rng), GPURENT_OK);
                    gpurent_buf got = {0};
                    assert_int_equal(gr_file_read(path, 1u << 30, &got, "test"), GPURENT_OK);
                    assert_int_equal(got.len, want.len);
                    if (memcmp(got.data, want.data, want.len) != 0)
                        fail_msg("body %zu, round %d, buffer %zu, scalar %d: the streamed file differs", n, round,
                                 bufs[j], sc);
                    assert_int_equal(open_async(&got), GPURENT_OK);
                    gpurent_buf_free(&got);
                }
        gpurent_buf_free(&want);
    }
    gr_snap_test_stream_buf = 0;
    gr_blake2b_test_scalar = 0;
    rm_tmpdir(); /* (was left behind, with a 30 MiB file in it, on every run) */
}

/* Every thread of the process but the test's own two, seen in
 * /proc/self/task while the library works: how many were seen with SIGUSR1
 * and SIGTERM blocked, and how many without. */
typedef struct mask_watch {
    pid_t main_tid;
    atomic_int stop;
    unsigned blocked, open;
} mask_watch;

static void *watch_masks(void *arg)
{
    mask_watch *w = arg;
    pid_t self = (pid_t)syscall(SYS_gettid);
    const uint64_t want = (1ull << (SIGUSR1 - 1)) | (1ull << (SIGTERM - 1));
    while (!atomic_load(&w->stop)) {
        DIR *d = opendir("/proc/self/task");
        if (!d) return NULL;
        struct dirent *e;
        while ((e = readdir(d))) {
            pid_t tid = (pid_t)atoi(e->d_name);
            if (tid <= 0 || tid == w->main_tid || tid == self) continue;
            char path[64], line[256];
            snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
            FILE *f = fopen(path, "r");
            if (!f) continue; /* (gone meanwhile) */
            int dead = 0; /* an exited thread shows an empty mask (X, Z): it takes no signal */
            while (fgets(line, sizeof line, f)) {
                if (strncmp(line, "State:", 6) == 0) dead = strchr(line, 'X') || strchr(line, 'Z');
                if (strncmp(line, "SigBlk:", 7) == 0 && !dead) {
                    uint64_t blk = strtoull(line + 7, NULL, 16);
                    if ((blk & want) == want) w->blocked++;
                    else w->open++;
                }
            }
            fclose(f);
        }
        closedir(d);
    }
    return NULL;
}

/* The library's worker threads (here the tree checksum's and the streamed
 * save's) start with the signals meant for the process blocked
 * (gr_thread_start), whatever the caller's mask: a watcher thread reads
 * every other thread's blocked set from /proc while a thread that blocks
 * nothing opens and streams snapshots, until it has seen workers. */
static void test_workers_block_signals(void **state)
{
    (void)state;
    const size_t C = GR_SNAP_CHUNK;
    sigset_t none, old;
    sigemptyset(&none);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, &none, &old), 0);
    make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/w.snap", tmpdir);
    gpurent_buf b = container(GR_SNAP_TREE_TIER, 6 * C + 5);
    mask_watch w = {.main_tid = (pid_t)syscall(SYS_gettid)};
    atomic_init(&w.stop, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, watch_masks, &w), 0);
    uint64_t rng = 0x9216D5D98979FB1Bull;
    int rounds = under_valgrind() ? 4 : 200;
    for (int i = 0; i < rounds && w.blocked < 20; i++) {
        assert_int_equal(open_async(&b), GPURENT_OK);
        assert_int_equal(stream_body(path, b.data + 64, b.len - 96, &rng), GPURENT_OK);
    }
    atomic_store(&w.stop, 1);
    pthread_join(th, NULL);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
    if (w.open) fail_msg("%u sightings of a library thread that takes SIGUSR1 or SIGTERM", w.open);
    if (!under_valgrind()) assert_true(w.blocked > 0); /* (workers were seen) */
    gpurent_buf_free(&b);
    rm_tmpdir();
}

/* The streamed file equals gr_snap_finish of the same puts, for puts of
 * every kind at sizes around the buffer and the chunk (a room or a raw
 * copy that ends on, just before or just after a chunk's end or the
 * buffer's), buffers of odd sizes (smaller than a chunk, one header off a
 * chunk, a chunk and a header and one), size hints of none, too small,
 * exact and far too large, with the worker and without. */
static void test_stream_matches_memory(void **state)
{
    (void)state;
    const size_t C = GR_SNAP_CHUNK;
    const size_t bufs[] = {97, 1000, C - 1, C + 63, C + 64, C + 65, 2 * C + 1};
    const size_t sizes[] = {1, 2, 63, 64, 65, 4095, C - 65, C - 64, C - 63, C - 1, C, C + 1, 2 * C - 64, 2 * C + 3};
    make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/m.snap", tmpdir);
    size_t max = 6 * C;
    uint8_t *src = malloc(max);
    assert_non_null(src);
    for (size_t i = 0; i < max; i++) src[i] = (uint8_t)((i * 2654435761u) >> 9);
    put_step steps[4096];
    uint64_t rng = 0x13198A2E03707344ull;
    int rounds = under_valgrind() ? 3 : 24;
    for (int round = 0; round < rounds; round++) {
        /* a script of at most 4 MiB */
        size_t ns = 0, total = 0;
        while (ns < 4096) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            unsigned kind = (unsigned)(rng >> 61) % 6;
            size_t n = kind < 4 ? (size_t)1 << kind : sizes[(rng >> 20) % (sizeof sizes / sizeof *sizes)];
            if ((rng >> 40) % 3 == 0 && kind >= 4) n = 1 + (size_t)(rng >> 33) % 300;
            if (total + n > 4 * C) break;
            steps[ns++] = (put_step){kind, n};
            total += n;
        }
        const size_t hints[] = {0, total / 3, total, 64 * C};
        uint8_t params[32];
        memset(params, round, sizeof params);
        gr_bytes m;
        gr_snap_begin(&m, GR_SNAP_MARKET, GR_SNAP_TREE_MARKET, params, (uint64_t)round, 0);
        apply_puts(&m, steps, ns, src);
        gpurent_buf want = {0};
        assert_int_equal(gr_snap_finish(&m, &want), GPURENT_OK);
        for (size_t j = 0; j < sizeof bufs / sizeof *bufs; j++) {
            gr_snap_test_stream_buf = bufs[(j + (size_t)round) % (sizeof bufs / sizeof *bufs)];
            gr_snap_test_no_worker = (int)((j + (size_t)round) & 1);
            size_t hint = hints[(j + (size_t)round / 2) % 4];
            gr_bytes w;
            assert_int_equal(gr_snap_begin_file(&w, path, "test", GR_SNAP_MARKET, GR_SNAP_TREE_MARKET, params,
                                                (uint64_t)round, hint),
                             GPURENT_OK);
            apply_puts(&w, steps, ns, src);
            assert_int_equal(gr_snap_finish_file(&w, path, "test"), GPURENT_OK);
            gpurent_buf got = {0};
            assert_int_equal(gr_file_read(path, 1u << 30, &got, "test"), GPURENT_OK);
            assert_int_equal(got.len, want.len);
            assert_memory_equal(got.data, want.data, want.len);
            gpurent_buf_free(&got);
            assert_int_equal(count_files(), 1);
        }
        gpurent_buf_free(&want);
    }
    /* a link planted at the target is replaced, never written through; the
     * file is the streamed one, mode 0600 */
    char victim[512];
    snprintf(victim, sizeof victim, "%s/victim", tmpdir);
    assert_int_equal(gr_file_write_atomic(victim, (const uint8_t *)"untouched", 9, 1, "test"), GPURENT_OK);
    assert_int_equal(chmod(victim, 0644), 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink(victim, path), 0);
    gr_snap_test_stream_buf = 1000;
    uint64_t r2 = 5;
    assert_int_equal(stream_body(path, src, 2 * C + 5, &r2), GPURENT_OK);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal((size_t)st.st_size, 2 * C + 5 + 96);
    gpurent_buf v = {0};
    assert_int_equal(gr_file_read(victim, 100, &v, "test"), GPURENT_OK);
    assert_int_equal(v.len, 9);
    assert_memory_equal(v.data, "untouched", 9);
    gpurent_buf_free(&v);
    assert_int_equal(count_files(), 2);
    gr_snap_test_stream_buf = 0;
    gr_snap_test_no_worker = 0;
    free(src);
    rm_tmpdir();
}

/* Each allocation of a streamed save of several chunks failed in turn (the
 * stream, its buffers, the digests as they grow, with the worker and
 * without): NOMEM with a detail, no temporary file left, the old file as
 * it was, and the same save then succeeds. */
static void test_stream_nomem(void **state)
{
    (void)state;
    const size_t C = GR_SNAP_CHUNK;
    make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/n.snap", tmpdir);
    size_t n = 3 * C + C / 2;
    gpurent_buf want = container(GR_SNAP_TREE_TIER, n);
    assert_int_equal(gr_file_write_atomic(path, (const uint8_t *)"old", 3, 1, "test"), GPURENT_OK);
    const size_t bufs[] = {C / 2, C + 100};
    for (int nw = 0; nw < 2; nw++)
        for (size_t j = 0; j < 2; j++) {
            gr_snap_test_no_worker = nw;
            gr_snap_test_stream_buf = bufs[j];
            uint64_t rng = 0x452821E638D01377ull;
            gr_alloc_fail_nth(0);
            assert_int_equal(stream_body(path, want.data + 64, n, &rng), GPURENT_OK);
            uint64_t made = gr_alloc_count();
            gr_alloc_hook_off();
            print_message("stream_nomem: buf %zu worker %d: %llu allocations\n", bufs[j], !nw, (unsigned long long)made);
            assert_true(made >= 3);
            assert_int_equal(gr_file_write_atomic(path, (const uint8_t *)"old", 3, 1, "test"), GPURENT_OK);
            for (uint64_t k = 1; k <= made; k++) {
                rng = 0x452821E638D01377ull;
                gpurent_error_clear();
                gr_alloc_fail_nth(k);
                int rc = stream_body(path, want.data + 64, n, &rng);
                gr_alloc_hook_off();
                assert_int_equal(rc, GPURENT_E_NOMEM);
                assert_true(gpurent_last_error_message()[0] != '\0');
                assert_int_equal(count_files(), 1);
                gpurent_buf now = {0};
                assert_int_equal(gr_file_read(path, 1u << 30, &now, "test"), GPURENT_OK);
                assert_int_equal(now.len, 3);
                assert_memory_equal(now.data, "old", 3);
                gpurent_buf_free(&now);
            }
            rng = 0x452821E638D01377ull;
            assert_int_equal(stream_body(path, want.data + 64, n, &rng), GPURENT_OK);
            gpurent_buf got = {0};
            assert_int_equal(gr_file_read(path, 1u << 30, &got, "test"), GPURENT_OK);
            assert_int_equal(got.len, want.len);
            assert_memory_equal(got.data, want.data, want.len);
            gpurent_buf_free(&got);
            assert_int_equal(gr_file_write_atomic(path, (const uint8_t *)"old", 3, 1, "test"), GPURENT_OK);
        }
    gr_snap_test_stream_buf = 0;
    gr_snap_test_no_worker = 0;
    gpurent_buf_free(&want);
    rm_tmpdir();
}

/* The file size limit set at each point of a streamed save (in the header,
 * on a chunk's edge, in the last job, in the checksum, one byte short, and
 * exactly the size): every limit below the size fails with EFBIG, leaving
 * the old file and no temporary one; the size itself succeeds. */
static void test_stream_file_limit(void **state)
{
    (void)state;
    const size_t C = GR_SNAP_CHUNK;
    make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/l.snap", tmpdir);
    size_t n = 2 * C + 1000;
    gpurent_buf want = container(GR_SNAP_TREE_TIER, n);
    size_t total = want.len;
    const size_t limits[] = {1, 63, 64, 65, C + 63, C + 64, C + 65, 2 * C + 64, total - 33, total - 32, total - 31,
                             total - 1, total};
    struct rlimit lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &lim), 0);
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++)
        for (int nw = 0; nw < 2; nw++) {
            assert_int_equal(gr_file_write_atomic(path, (const uint8_t *)"old", 3, 1, "test"), GPURENT_OK);
            gr_snap_test_stream_buf = C + 100;
            gr_snap_test_no_worker = nw;
            struct rlimit small = lim;
            small.rlim_cur = limits[i];
            assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
            uint64_t rng = 99;
            int rc = stream_body(path, want.data + 64, n, &rng);
            assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
            gpurent_buf now = {0};
            assert_int_equal(gr_file_read(path, 1u << 30, &now, "test"), GPURENT_OK);
            if (limits[i] < total) {
                if (rc != GPURENT_E_IO) fail_msg("limit %zu of %zu: %d, not IO", limits[i], total, rc);
                assert_non_null(strstr(gpurent_last_error_message(), strerror(EFBIG)));
                assert_int_equal(now.len, 3);
                assert_memory_equal(now.data, "old", 3);
            } else {
                assert_int_equal(rc, GPURENT_OK);
                assert_int_equal(now.len, want.len);
                assert_memory_equal(now.data, want.data, want.len);
            }
            assert_int_equal(count_files(), 1);
            gpurent_buf_free(&now);
        }
    signal(SIGXFSZ, was);
    gr_snap_test_stream_buf = 0;
    gr_snap_test_no_worker = 0;
    gpurent_buf_free(&want);
    rm_tmpdir();
}

/* gr_file_write_atomic with replace 0 (key files, gpurent_key_save_new, past
 * their early lstat): link() decides, so a file or a dangling link at the
 * target gives EXISTS with nothing written through or left behind; a write
 * that fails (the file size limit) gives IO and no file; a free target gets
 * the bytes, mode 0600. With replace 1, a write that fails leaves the old
 * file. */
static void test_file_write_atomic(void **state)
{
    (void)state;
    make_tmpdir();
    char path[512], dangling[512];
    snprintf(path, sizeof path, "%s/k.key", tmpdir);
    snprintf(dangling, sizeof dangling, "%s/nowhere", tmpdir);
    assert_int_equal(gr_file_write_atomic(path, (const uint8_t *)"first", 5, 0, "test"), GPURENT_OK);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(gr_file_write_atomic(path, (const uint8_t *)"second", 6, 0, "test"), GPURENT_E_EXISTS);
    gpurent_buf f = {0};
    assert_int_equal(gr_file_read(path, 100, &f, "test"), GPURENT_OK);
    assert_int_equal(f.len, 5);
    assert_memory_equal(f.data, "first", 5);
    gpurent_buf_free(&f);
    assert_int_equal(count_files(), 1);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink(dangling, path), 0);
    assert_int_equal(gr_file_write_atomic(path, (const uint8_t *)"second", 6, 0, "test"), GPURENT_E_EXISTS);
    assert_int_equal(access(dangling, F_OK), -1);
    assert_int_equal(count_files(), 1);
    assert_int_equal(unlink(path), 0);
    /* a write that fails part way */
    static uint8_t big[1 << 16];
    struct rlimit lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &lim), 0);
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = lim;
    small.rlim_cur = 1000;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    int r0 = gr_file_write_atomic(path, big, sizeof big, 0, "test");
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    assert_int_equal(r0, GPURENT_E_IO);
    assert_non_null(strstr(gpurent_last_error_message(), strerror(EFBIG)));
    assert_int_equal(count_files(), 0);
    assert_int_equal(gr_file_write_atomic(path, (const uint8_t *)"old", 3, 1, "test"), GPURENT_OK);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    int r1 = gr_file_write_atomic(path, big, sizeof big, 1, "test");
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    signal(SIGXFSZ, was);
    assert_int_equal(r1, GPURENT_E_IO);
    assert_int_equal(gr_file_read(path, 100, &f, "test"), GPURENT_OK);
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.data, "old", 3);
    gpurent_buf_free(&f);
    assert_int_equal(count_files(), 1);
    rm_tmpdir();
}

static void test_tier_files(void **state)
{
    (void)state;
    make_tmpdir();
    char path[512], target[512];
    snprintf(path, sizeof path, "%s/tier.snap", tmpdir);
    gpurent_tier_engine *e = small_engine(30, 4), *l = NULL;
    assert_int_equal(gpurent_tier_save_file(e, 77, path), GPURENT_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(count_files(), 1); /* no temporary file left */
    uint64_t seq = 0;
    assert_int_equal(gpurent_tier_load_file(&l, path, NULL, &seq), GPURENT_OK);
    assert_int_equal(seq, 77);
    uint32_t certs = 0;
    assert_same_outputs(e, l, 30, &certs);
    gpurent_tier_engine_free(l);
    /* a symlink at the path is replaced, its target never written */
    snprintf(target, sizeof target, "%s/victim", tmpdir);
    FILE *f = fopen(target, "w");
    fputs("keep", f);
    fclose(f);
    unlink(path);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(gpurent_tier_save_file(e, 78, path), GPURENT_OK);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_size, 4);
    /* missing file, missing folder */
    snprintf(path, sizeof path, "%s/none", tmpdir);
    assert_int_equal(gpurent_tier_load_file(&l, path, NULL, NULL), GPURENT_E_IO);
    assert_null(l);
    snprintf(path, sizeof path, "%s/no/such/dir/x.snap", tmpdir);
    assert_int_equal(gpurent_tier_save_file(e, 1, path), GPURENT_E_IO);
    gpurent_tier_engine_free(e);
    rm_tmpdir();
}

/* A writer saving two different snapshots in turn is killed with SIGKILL
 * at random moments; each time the file loads as one of the two. */
static void test_sigkill_writer(void **state)
{
    (void)state;
    make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/tier.snap", tmpdir);
    gpurent_tier_engine *e = small_engine(120, 3);
    gpurent_buf s1 = {0}, s2 = {0};
    assert_int_equal(gpurent_tier_save(e, 1, &s1), GPURENT_OK);
    assert_int_equal(gpurent_tier_save(e, 2, &s2), GPURENT_OK);
    assert_int_equal(gpurent_tier_save_file(e, 1, path), GPURENT_OK);
    const int rounds = under_valgrind() ? 10 : 150;
    int seen_new = 0;
    for (int round = 0; round < rounds; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            /* streamed through a small buffer (a worker writing behind the
             * encoder, or none) or the default one */
            gr_snap_test_stream_buf = round % 3 ? 4096 : 0;
            gr_snap_test_no_worker = round % 3 == 2;
            for (uint64_t s = 0;; s++)
                if (gpurent_tier_save_file(e, 1 + (s & 1), path) != GPURENT_OK) _exit(3);
        }
        struct timespec ts = {0, (long)(rnd() % 3000000)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status)); /* no write failed before the kill */
        gpurent_buf f = {0};
        int fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        f.len = (size_t)st.st_size;
        f.data = malloc(f.len);
        assert_int_equal(read(fd, f.data, f.len), (ssize_t)f.len);
        close(fd);
        assert_int_equal(f.len, s1.len);
        assert_true(memcmp(f.data, s1.data, f.len) == 0 || memcmp(f.data, s2.data, f.len) == 0);
        seen_new += memcmp(f.data, s2.data, f.len) == 0;
        gpurent_tier_engine *l = NULL;
        assert_int_equal(gpurent_tier_load_file(&l, path, NULL, NULL), GPURENT_OK);
        gpurent_tier_engine_free(l);
        free(f.data);
    }
    (void)seen_new;
    gpurent_buf_free(&s1);
    gpurent_buf_free(&s2);
    gpurent_tier_engine_free(e);
    rm_tmpdir(); /* also removes temporaries the killed writers left */
}

/* ---------- trust store ---------- */

#define T0 1700000000ull

static gpurent_key *seed_key(uint32_t n)
{
    uint8_t seed[32];
    memset(seed, 0xab, sizeof seed);
    memcpy(seed, &n, sizeof n);
    gpurent_key *k = NULL;
    assert_int_equal(gpurent_key_from_seed(&k, seed), GPURENT_OK);
    return k;
}

static void pk_of(uint32_t n, uint8_t pk[32])
{
    gpurent_key *k = seed_key(n);
    gpurent_key_public(k, pk);
    gpurent_key_free(k);
}

/* A revocation of key `target` signed by `signer`, nonce n. */
static gpurent_buf revocation(gpurent_key *signer, uint32_t target, uint32_t n)
{
    gpurent_revocation r = {.revoked_at = T0, .reason = GPURENT_REVOKE_COMPROMISED};
    gpurent_buf p = {0}, e = {0};
    gpurent_envelope h;
    pk_of(target, r.key);
    assert_int_equal(gpurent_revocation_encode(&r, &p), GPURENT_OK);
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_REVOCATION;
    h.issued_at = T0;
    h.expires_at = T0 + DAY;
    memcpy(h.nonce, &n, sizeof n);
    h.nonce[15] = 0x5a;
    assert_int_equal(gpurent_envelope_sign(signer, &h, p.data, p.len, &e), GPURENT_OK);
    gpurent_buf_free(&p);
    return e;
}

static void trust_restart(gpurent_trust **t, uint64_t seq)
{
    gpurent_buf b = {0}, b2 = {0};
    assert_int_equal(gpurent_trust_save(*t, seq, &b), GPURENT_OK);
    gpurent_trust *n = NULL;
    uint64_t got = 0;
    gpurent_trust_options o = GPURENT_TRUST_OPTIONS_INIT;
    o.replay_capacity = 8;
    int rc = gpurent_trust_load(&n, b.data, b.len, &o, &got);
    if (rc) fail_msg("load: %s (%s)", gpurent_status_name(rc), gpurent_last_error_message());
    assert_int_equal(got, seq);
    assert_int_equal(gpurent_trust_save(n, seq, &b2), GPURENT_OK);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    gpurent_buf_free(&b);
    gpurent_buf_free(&b2);
    gpurent_trust_free(*t);
    *t = n;
}

static void test_trust_side_by_side(void **state)
{
    (void)state;
    gpurent_trust_options o = GPURENT_TRUST_OPTIONS_INIT;
    o.replay_capacity = 8; /* small: eviction order matters */
    gpurent_trust *a = NULL, *b = NULL;
    assert_int_equal(gpurent_trust_new(&a, &o), GPURENT_OK);
    assert_int_equal(gpurent_trust_new(&b, &o), GPURENT_OK);
    gpurent_key *rev1 = seed_key(1), *rev2 = seed_key(2);
    uint8_t pk[32];
    for (uint32_t k = 1; k <= 6; k++) {
        pk_of(k, pk);
        uint32_t roles = k <= 2 ? GPURENT_ROLE_REVOKER : GPURENT_ROLE_AUDITOR;
        assert_int_equal(gpurent_trust_add(a, pk, roles, T0 - DAY, k == 6 ? T0 + 9 * DAY : 0), GPURENT_OK);
        assert_int_equal(gpurent_trust_add(b, pk, roles, T0 - DAY, k == 6 ? T0 + 9 * DAY : 0), GPURENT_OK);
    }
    pk_of(40, pk);
    assert_int_equal(gpurent_trust_revoke(a, pk), GPURENT_OK); /* operator's, of a key not in the store */
    assert_int_equal(gpurent_trust_revoke(b, pk), GPURENT_OK);
    enum { N = 24 };
    gpurent_buf env[N];
    for (uint32_t n = 0; n < N; n++) {
        /* keys 3..6 are in the store (standing), 10.. are not (pending) */
        env[n] = revocation(n % 2 ? rev1 : rev2, n % 6 == 0 ? 3 + n % 4 : 10 + n, n);
        int ra = gpurent_trust_apply_revocation(a, env[n].data, env[n].len, T0 + 1, 0, NULL);
        int rb = gpurent_trust_apply_revocation(b, env[n].data, env[n].len, T0 + 1, 0, NULL);
        assert_int_equal(ra, GPURENT_OK);
        assert_int_equal(rb, ra);
        trust_restart(&b, n + 1);
    }
    /* a pending revocation takes effect when its key is added */
    pk_of(11, pk);
    assert_int_equal(gpurent_trust_add(a, pk, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(b, pk, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
    assert_true(gpurent_trust_is_revoked(b, pk));
    for (uint32_t k = 1; k < 40 + N; k++) {
        pk_of(k, pk);
        assert_int_equal(gpurent_trust_is_revoked(a, pk), gpurent_trust_is_revoked(b, pk));
    }
    /* the replay window: the newest 8 are refused by both, older ones were evicted alike */
    int replayed = 0;
    for (uint32_t n = N; n-- > 0;) { /* newest first: re-accepting old ones evicts */
        int ra = gpurent_trust_apply_revocation(a, env[n].data, env[n].len, T0 + 1, 0, NULL);
        int rb = gpurent_trust_apply_revocation(b, env[n].data, env[n].len, T0 + 1, 0, NULL);
        assert_int_equal(ra, rb);
        replayed += ra == GPURENT_E_REPLAYED;
        gpurent_buf_free(&env[n]);
    }
    assert_int_equal(replayed, 8);
    gpurent_buf sa = {0}, sb = {0};
    assert_int_equal(gpurent_trust_save(a, 5, &sa), GPURENT_OK);
    assert_int_equal(gpurent_trust_save(b, 5, &sb), GPURENT_OK);
    assert_int_equal(sa.len, sb.len);
    /* the same keys and revocations; the replay ids are keyed with each
     * store's own random key (saved with it), so that part differs */
    assert_memory_equal(sa.data, sb.data, sa.len - 32 - (32 + 4 + 8 * 32));
    /* refusals */
    gpurent_trust *x = (gpurent_trust *)&x;
    o.replay_capacity = 9;
    assert_int_equal(gpurent_trust_load(&x, sa.data, sa.len, &o, NULL), GPURENT_E_SNAPSHOT_PARAMS);
    assert_null(x);
    sa.data[sa.len / 2] ^= 4;
    assert_int_equal(gpurent_trust_load(&x, sa.data, sa.len, NULL, NULL), GPURENT_E_SNAPSHOT_CORRUPT);
    assert_int_equal(gpurent_trust_load(&x, sa.data, sa.len - 3, NULL, NULL), GPURENT_E_SNAPSHOT_TRUNCATED);
    /* a resealed store whose two keys are swapped (out of order) */
    memcpy(sa.data, sb.data, sa.len);
    size_t k0 = 64 + 8, k1 = k0 + 56;
    uint8_t tmp[56];
    memcpy(tmp, sa.data + k0, 56);
    memcpy(sa.data + k0, sa.data + k1, 56);
    memcpy(sa.data + k1, tmp, 56);
    snap_reseal(&sa);
    assert_int_equal(gpurent_trust_load(&x, sa.data, sa.len, NULL, NULL), GPURENT_E_SNAPSHOT_CORRUPT);
    assert_non_null(strstr(gpurent_last_error_message(), "out of order"));
    /* a tier snapshot is not a trust store */
    gpurent_tier_engine *e = tier_new();
    gpurent_buf tb = {0};
    assert_int_equal(gpurent_tier_save(e, 0, &tb), GPURENT_OK);
    assert_int_equal(gpurent_trust_load(&x, tb.data, tb.len, NULL, NULL), GPURENT_E_SNAPSHOT_KIND);
    assert_null(x);
    gpurent_buf_free(&tb);
    gpurent_tier_engine_free(e);
    /* every resealed byte change loads or is refused as corrupt */
    for (size_t at = 64; at < sb.len - 32; at += under_valgrind() ? 37 : 3) {
        memcpy(sa.data, sb.data, sa.len);
        sa.data[at] ^= (uint8_t)(1u << (at % 8));
        snap_reseal(&sa);
        gpurent_trust *y = NULL;
        int rc = gpurent_trust_load(&y, sa.data, sa.len, NULL, NULL);
        assert_true(rc == GPURENT_OK || rc == GPURENT_E_SNAPSHOT_CORRUPT);
        gpurent_trust_free(y);
    }
    gpurent_buf_free(&sa);
    gpurent_buf_free(&sb);
    gpurent_key_free(rev1);
    gpurent_key_free(rev2);
    gpurent_trust_free(a);
    gpurent_trust_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_checksum),
        cmocka_unit_test(test_tier_version_1),
        cmocka_unit_test(test_tier_fixture),
        cmocka_unit_test(test_tier_chunks),
        cmocka_unit_test(test_trust_version_1),
        cmocka_unit_test(test_tier_refusals),
        cmocka_unit_test(test_tier_files),
        cmocka_unit_test(test_stream_file),
        cmocka_unit_test(test_stream_matches_memory),
        cmocka_unit_test(test_blake2b_lanes),
        cmocka_unit_test(test_blake2b_lanes_guard),
        cmocka_unit_test(test_stream_ring),
        cmocka_unit_test(test_workers_block_signals),
        cmocka_unit_test(test_stream_nomem),
        cmocka_unit_test(test_stream_file_limit),
        cmocka_unit_test(test_file_write_atomic),
        cmocka_unit_test(test_sigkill_writer),
        cmocka_unit_test(test_tier_side_by_side),
        cmocka_unit_test(test_trust_side_by_side),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
