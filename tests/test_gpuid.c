/* One GPU, one place (lib/match/gpuid.c): the market refuses an offer whose
 * GPU UUID another node holds, lets a provider move its own GPUs, binds a
 * node's GPUs to its verified report, keeps all of it across snapshots, and
 * reaches the same receipts whatever the order offers came in. Each attack
 * plays the liar: a provider offering another's GPU, a GPU listed twice, a
 * replayed old offer after a move. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "gpurent.h"
#include "core/snap_internal.h"
#include "support/snap.h"
#include "match/match_internal.h"

/* A node of `count` H100s whose GPU UUID is 16 bytes of `uuid_byte` (0 = none). */
static gpurent_node node_of(const char *id, uint8_t uuid_byte)
{
    gpurent_node n;
    memset(&n, 0, sizeof n);
    snprintf(n.node_id, sizeof n.node_id, "%s", id);
    snprintf(n.gpu.model, sizeof n.gpu.model, "H100 SXM5 80GB");
    memset(n.gpu.uuid, uuid_byte, sizeof n.gpu.uuid);
    n.gpu.cc_major = 9;
    n.gpu.memory_mib = 81920;
    n.gpu.fp32_gflops = 66900;
    n.gpu.cuda_version = 12040;
    n.gpu_count = 8;
    n.gpu_free = 8;
    n.cpu_millicores = 64000;
    n.ram_mib = 1 << 20;
    n.disk_gib = 4096;
    n.price_micro_per_gpu_hour = 2000000 + uuid_byte;
    return n;
}

/* An offer of provider `p` (key 32 bytes of p) with nodes (id, uuid byte). */
static void offer_of(gpurent_offer *o, uint8_t p, uint64_t seq, uint32_t count, const char *const *ids,
                     const uint8_t *uuids)
{
    gpurent_offer_init(o);
    memset(o->provider_key, p, sizeof o->provider_key);
    o->seq = seq;
    snprintf(o->region, sizeof o->region, "eu-west");
    o->stake_micro = 1000000;
    for (uint32_t i = 0; i < count; i++) {
        gpurent_node n = node_of(ids[i], uuids[i]);
        assert_int_equal(gpurent_offer_add_node(o, &n), GPURENT_OK);
    }
}

static int put1(gpurent_market *m, uint8_t p, uint64_t seq, const char *id, uint8_t uuid)
{
    gpurent_offer o;
    offer_of(&o, p, seq, 1, &id, &uuid);
    int rc = gpurent_market_put_offer(m, &o);
    gpurent_offer_clear(&o);
    assert_int_equal(ml_market_check(m), GPURENT_OK);
    return rc;
}

static void expect_owner(const gpurent_market *m, uint8_t uuid_byte, uint8_t p, const char *node, uint32_t how)
{
    uint8_t u[16], key[32];
    memset(u, uuid_byte, 16);
    memset(key, p, 32);
    gpurent_gpu_owner ow;
    assert_int_equal(gpurent_market_gpu_owner(m, u, &ow), GPURENT_OK);
    assert_memory_equal(ow.provider_key, key, 32);
    assert_string_equal(ow.node_id, node);
    assert_int_equal(ow.how, how);
}

static void expect_no_owner(const gpurent_market *m, uint8_t uuid_byte)
{
    uint8_t u[16];
    memset(u, uuid_byte, 16);
    gpurent_gpu_owner ow;
    assert_int_equal(gpurent_market_gpu_owner(m, u, &ow), GPURENT_E_NOT_FOUND);
}

static gpurent_market *market(void)
{
    gpurent_market *m = NULL;
    assert_int_equal(gpurent_market_new(&m, NULL, NULL), GPURENT_OK);
    return m;
}

/* Provider B offers A's GPU: refused, naming A, and A is untouched; the same
 * UUID on another provider is refused whatever B's seq. */
static void test_other_provider_refused(void **state)
{
    (void)state;
    gpurent_market *m = market();
    assert_int_equal(put1(m, 0xaa, 1, "a1", 0x11), GPURENT_OK);
    uint8_t before[32], after[32];
    assert_int_equal(gpurent_market_digests(m, before, NULL, NULL), GPURENT_OK);
    assert_int_equal(put1(m, 0xbb, 1, "b1", 0x11), GPURENT_E_GPU_CONFLICT);
    const char *why = gpurent_last_error_message();
    assert_non_null(strstr(why, "GPU-11111111-1111-1111-1111-111111111111"));
    assert_non_null(strstr(why, "node 'b1'"));
    assert_non_null(strstr(why, "provider aaaaaaaa")); /* the holder's key, in hex */
    assert_non_null(strstr(why, "node 'a1'"));
    assert_int_equal(put1(m, 0xbb, 99, "b1", 0x11), GPURENT_E_GPU_CONFLICT);
    assert_int_equal(gpurent_market_digests(m, after, NULL, NULL), GPURENT_OK);
    assert_memory_equal(before, after, 32);
    gpurent_market_stats st;
    assert_int_equal(gpurent_market_stats_get(m, &st), GPURENT_OK);
    assert_int_equal(st.providers, 1);
    expect_owner(m, 0x11, 0xaa, "a1", GPURENT_GPU_HELD_OFFER);
    /* B with its own GPU is welcome; a replacement offer of B taking A's GPU is refused and B keeps its own */
    assert_int_equal(put1(m, 0xbb, 2, "b1", 0x22), GPURENT_OK);
    assert_int_equal(put1(m, 0xbb, 3, "b1", 0x11), GPURENT_E_GPU_CONFLICT);
    expect_owner(m, 0x22, 0xbb, "b1", GPURENT_GPU_HELD_OFFER);
    /* zero UUIDs (unknown) never conflict */
    assert_int_equal(put1(m, 0xcc, 1, "c1", 0), GPURENT_OK);
    assert_int_equal(put1(m, 0xdd, 1, "d1", 0), GPURENT_OK);
    uint8_t z[16] = {0};
    gpurent_gpu_owner ow;
    assert_int_equal(gpurent_market_gpu_owner(m, z, &ow), GPURENT_E_INVALID_ARG);
    expect_no_owner(m, 0x33);
    /* once A withdraws, the GPU is free for B */
    uint8_t ka[32];
    memset(ka, 0xaa, 32);
    assert_int_equal(gpurent_market_remove_offer(m, ka), GPURENT_OK);
    expect_no_owner(m, 0x11);
    assert_int_equal(put1(m, 0xbb, 4, "b1", 0x11), GPURENT_OK);
    expect_owner(m, 0x11, 0xbb, "b1", GPURENT_GPU_HELD_OFFER);
    expect_no_owner(m, 0x22);
    assert_int_equal(ml_market_check(m), GPURENT_OK);
    gpurent_market_free(m);
}

/* One UUID on two nodes of one offer. */
static void test_same_uuid_twice(void **state)
{
    (void)state;
    gpurent_market *m = market();
    gpurent_offer o;
    const char *ids[3] = {"n2", "n1", "n3"};
    const uint8_t uuids[3] = {0x44, 0x55, 0x44};
    offer_of(&o, 0xaa, 1, 3, ids, uuids);
    assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_E_GPU_CONFLICT);
    assert_non_null(strstr(gpurent_last_error_message(), "listed on two nodes, 'n2' and 'n3'"));
    gpurent_market_stats st;
    assert_int_equal(gpurent_market_stats_get(m, &st), GPURENT_OK);
    assert_int_equal(st.providers, 0);
    expect_no_owner(m, 0x55);
    o.nodes[2].gpu.uuid[15] = 0x45;
    assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
    gpurent_offer_clear(&o);
    expect_owner(m, 0x55, 0xaa, "n1", GPURENT_GPU_HELD_OFFER);
    assert_int_equal(ml_market_check(m), GPURENT_OK);
    gpurent_market_free(m);
}

/* A provider moves a GPU between its nodes with a newer offer; the old offer
 * replayed is refused (seq), and nobody else can take the GPU meanwhile. */
static void test_move_and_replay(void **state)
{
    (void)state;
    gpurent_market *m = market();
    const char *ids[2] = {"n1", "n2"};
    uint8_t u1[2] = {0x11, 0x22};
    gpurent_offer old, moved;
    offer_of(&old, 0xaa, 1, 2, ids, u1);
    assert_int_equal(gpurent_market_put_offer(m, &old), GPURENT_OK);
    /* GPU 0x11 moves from n1 to n2, n1 gets 0x33 */
    uint8_t u2[2] = {0x33, 0x11};
    offer_of(&moved, 0xaa, 2, 2, ids, u2);
    assert_int_equal(gpurent_market_put_offer(m, &moved), GPURENT_OK);
    expect_owner(m, 0x11, 0xaa, "n2", GPURENT_GPU_HELD_OFFER);
    expect_owner(m, 0x33, 0xaa, "n1", GPURENT_GPU_HELD_OFFER);
    expect_no_owner(m, 0x22);
    /* the old offer again: refused as stale, nothing changes */
    assert_int_equal(gpurent_market_put_offer(m, &old), GPURENT_E_EXISTS);
    expect_owner(m, 0x11, 0xaa, "n2", GPURENT_GPU_HELD_OFFER);
    /* another provider replaying a copy of the old offer under its key */
    memset(old.provider_key, 0xbb, 32);
    old.seq = 1000;
    assert_int_equal(gpurent_market_put_offer(m, &old), GPURENT_E_GPU_CONFLICT);
    /* ...but the GPU 0x22 the provider let go is free */
    assert_int_equal(put1(m, 0xbb, 1001, "b1", 0x22), GPURENT_OK);
    gpurent_offer_clear(&old);
    gpurent_offer_clear(&moved);
    assert_int_equal(ml_market_check(m), GPURENT_OK);
    gpurent_market_free(m);
}

/* A report of n GPUs with UUIDs bytes first..first+n-1, complete and valid. */
static void report_of(gpurent_gpu_report *r, uint8_t first, uint32_t n)
{
    gpurent_gpu_report_init(r);
    memset(r->nonce, 7, sizeof r->nonce);
    r->probed_at = 1700000000;
    r->driver_version.value = 12040;
    snprintf(r->driver_path, sizeof r->driver_path, "/usr/lib/libcuda.so.1");
    r->driver_device_count = n;
    r->device_count = n;
    for (uint32_t i = 0; i < n; i++) {
        gpurent_probe_device *d = &r->devices[i];
        d->ordinal = i;
        snprintf(d->name.value, sizeof d->name.value, "NVIDIA H100 80GB HBM3");
        memset(d->uuid.value, first + i, 16);
        d->pci_bus.value = 0x10 + i;
        d->cc_major.value = 9;
        d->d2d.state = d->h2d.state = d->fma.state = GPURENT_PV_SKIPPED;
    }
    assert_int_equal(gpurent_gpu_report_validate(r), GPURENT_OK);
}

static void report_digest(const gpurent_gpu_report *r, uint8_t d[32])
{
    gpurent_buf b = {NULL, 0};
    assert_int_equal(gpurent_gpu_report_encode(r, &b), GPURENT_OK);
    crypto_generichash(d, 32, b.data, b.len, NULL, 0);
    gpurent_buf_free(&b);
}

/* An offer of provider p, one node `id` offering GPU `uuid` with report digest d. */
static int put_reported(gpurent_market *m, uint8_t p, uint64_t seq, const char *id, uint8_t uuid, const uint8_t d[32])
{
    gpurent_offer o;
    offer_of(&o, p, seq, 1, &id, &uuid);
    o.nodes[0].gpu_count = o.nodes[0].gpu_free = 1; /* within what the tests' reports identify */
    if (d) memcpy(o.nodes[0].report_digest, d, 32);
    int rc = gpurent_market_put_offer(m, &o);
    gpurent_offer_clear(&o);
    assert_int_equal(ml_market_check(m), GPURENT_OK);
    return rc;
}

/* A verified report binds the node's GPUs: its UUIDs are held, another
 * provider cannot offer them, and the node's own offers may list only them
 * while the report stands. */
static void test_report_binds(void **state)
{
    (void)state;
    gpurent_market *m = market();
    gpurent_gpu_report *r = calloc(1, sizeof *r), *other = calloc(1, sizeof *other);
    assert_non_null(r);
    assert_non_null(other);
    report_of(r, 0x11, 4); /* 0x11..0x14 */
    uint8_t d[32], ka[32];
    memset(ka, 0xaa, 32);
    report_digest(r, d);
    assert_int_equal(put_reported(m, 0xaa, 1, "a1", 0x11, d), GPURENT_OK);
    /* not the named report / an incomplete one */
    report_of(other, 0x11, 3);
    assert_int_equal(gpurent_market_verify_report(m, ka, "a1", other), GPURENT_E_INVALID_ARG);
    r->status = GPURENT_E_DEVICE_FAILED;
    assert_int_equal(gpurent_market_verify_report(m, ka, "a1", r), GPURENT_E_INVALID_ARG);
    r->status = GPURENT_OK;
    assert_int_equal(gpurent_market_verify_report(m, ka, "nope", r), GPURENT_E_NOT_FOUND);
    assert_int_equal(gpurent_market_verify_report(m, ka, "a1", r), GPURENT_OK);
    assert_int_equal(ml_market_check(m), GPURENT_OK);
    expect_owner(m, 0x11, 0xaa, "a1", GPURENT_GPU_HELD_OFFER | GPURENT_GPU_HELD_REPORT);
    expect_owner(m, 0x13, 0xaa, "a1", GPURENT_GPU_HELD_REPORT);
    /* B offering a GPU of A's report */
    assert_int_equal(put1(m, 0xbb, 1, "b1", 0x13), GPURENT_E_GPU_CONFLICT);
    assert_non_null(strstr(gpurent_last_error_message(), "in its verified GPU report"));
    /* A's node listing a GPU its kept report does not */
    assert_int_equal(put_reported(m, 0xaa, 2, "a1", 0x77, d), GPURENT_E_GPU_CONFLICT);
    assert_non_null(strstr(gpurent_last_error_message(), "which its verified GPU report does not"));
    /* ...one it does is fine, and the verification holds */
    assert_int_equal(put_reported(m, 0xaa, 3, "a1", 0x12, d), GPURENT_OK);
    expect_owner(m, 0x12, 0xaa, "a1", GPURENT_GPU_HELD_OFFER | GPURENT_GPU_HELD_REPORT);
    expect_owner(m, 0x11, 0xaa, "a1", GPURENT_GPU_HELD_REPORT);
    /* a new report digest drops the verification and with it the binding */
    uint8_t d2[32];
    memset(d2, 0x5a, 32);
    assert_int_equal(put_reported(m, 0xaa, 4, "a1", 0x77, d2), GPURENT_OK);
    expect_no_owner(m, 0x11);
    expect_owner(m, 0x77, 0xaa, "a1", GPURENT_GPU_HELD_OFFER);
    /* a report that does not list the offered GPU is refused */
    assert_int_equal(put_reported(m, 0xaa, 5, "a1", 0x77, d), GPURENT_OK);
    assert_int_equal(gpurent_market_verify_report(m, ka, "a1", r), GPURENT_E_GPU_CONFLICT);
    assert_non_null(strstr(gpurent_last_error_message(), "which its report does not list"));
    /* another provider holding one of the report's GPUs */
    assert_int_equal(put_reported(m, 0xaa, 6, "a1", 0x11, d), GPURENT_OK);
    assert_int_equal(put1(m, 0xbb, 2, "b1", 0x14), GPURENT_OK);
    assert_int_equal(gpurent_market_verify_report(m, ka, "a1", r), GPURENT_E_GPU_CONFLICT);
    assert_non_null(strstr(gpurent_last_error_message(), "node 'b1'"));
    expect_owner(m, 0x14, 0xbb, "b1", GPURENT_GPU_HELD_OFFER);
    /* set_verified(0) drops a binding */
    uint8_t kb[32];
    memset(kb, 0xbb, 32);
    assert_int_equal(gpurent_market_remove_offer(m, kb), GPURENT_OK);
    assert_int_equal(gpurent_market_verify_report(m, ka, "a1", r), GPURENT_OK);
    expect_owner(m, 0x14, 0xaa, "a1", GPURENT_GPU_HELD_REPORT);
    assert_int_equal(gpurent_market_set_verified(m, ka, "a1", 0), GPURENT_OK);
    expect_no_owner(m, 0x14);
    expect_owner(m, 0x11, 0xaa, "a1", GPURENT_GPU_HELD_OFFER);
    assert_int_equal(ml_market_check(m), GPURENT_OK);
    free(r);
    free(other);
    gpurent_market_free(m);
}

/* A report binds a node of at most as many GPUs as it identifies: a node
 * offering 8 GPUs is not verified by a report of 2, and a kept report
 * stops verifying a node re-offered with more GPUs than it lists. */
static void test_report_counts_gpus(void **state)
{
    (void)state;
    gpurent_market *m = market();
    gpurent_gpu_report *r = calloc(1, sizeof *r);
    assert_non_null(r);
    report_of(r, 0x11, 2);
    uint8_t d[32], ka[32];
    memset(ka, 0xaa, 32);
    report_digest(r, d);
    gpurent_offer o;
    const char *id = "a1";
    uint8_t u = 0x11;
    offer_of(&o, 0xaa, 1, 1, &id, &u); /* 8 GPUs */
    memcpy(o.nodes[0].report_digest, d, 32);
    assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
    assert_int_equal(gpurent_market_verify_report(m, ka, "a1", r), GPURENT_E_INVALID_ARG);
    assert_non_null(strstr(gpurent_last_error_message(), "offers 8 GPUs, its report identifies 2"));
    o.seq = 2;
    o.nodes[0].gpu_count = o.nodes[0].gpu_free = 2;
    assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
    assert_int_equal(gpurent_market_verify_report(m, ka, "a1", r), GPURENT_OK);
    expect_owner(m, 0x12, 0xaa, "a1", GPURENT_GPU_HELD_REPORT);
    /* same report, 4 GPUs now: unverified, the binding gone */
    o.seq = 3;
    o.nodes[0].gpu_count = o.nodes[0].gpu_free = 4;
    assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
    assert_int_equal(ml_market_check(m), GPURENT_OK);
    expect_no_owner(m, 0x12);
    expect_owner(m, 0x11, 0xaa, "a1", GPURENT_GPU_HELD_OFFER);
    gpurent_request q;
    gpurent_request_init(&q);
    snprintf(q.request_id, sizeof q.request_id, "r1");
    q.verified_only = 1;
    gpurent_match_candidate c[1];
    uint32_t cnt = 9;
    assert_int_equal(gpurent_market_best(m, &q, 1, c, &cnt), GPURENT_OK);
    assert_int_equal(cnt, 0);
    gpurent_offer_clear(&o);
    free(r);
    gpurent_market_free(m);
}

/* A GPU moving between two nodes of one provider: the node whose report
 * listed it loses its verification, the new node takes the GPU. */
static void test_move_drops_old_report(void **state)
{
    (void)state;
    gpurent_market *m = market();
    gpurent_gpu_report *r = calloc(1, sizeof *r);
    assert_non_null(r);
    report_of(r, 0x11, 2); /* 0x11, 0x12 on n1 */
    uint8_t d[32], ka[32];
    memset(ka, 0xaa, 32);
    report_digest(r, d);
    gpurent_offer o;
    const char *ids[2] = {"n1", "n2"};
    uint8_t u[2] = {0x11, 0x33};
    offer_of(&o, 0xaa, 1, 2, ids, u);
    o.nodes[0].gpu_count = o.nodes[0].gpu_free = 2;
    memcpy(o.nodes[0].report_digest, d, 32);
    assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
    assert_int_equal(gpurent_market_verify_report(m, ka, "n1", r), GPURENT_OK);
    /* 0x12 moves to n2 (n1 keeps its report digest) */
    o.seq = 2;
    o.nodes[1].gpu.uuid[0] = 0x12;
    memset(o.nodes[1].gpu.uuid, 0x12, 16);
    assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
    assert_int_equal(ml_market_check(m), GPURENT_OK);
    expect_owner(m, 0x12, 0xaa, "n2", GPURENT_GPU_HELD_OFFER);
    expect_owner(m, 0x11, 0xaa, "n1", GPURENT_GPU_HELD_OFFER); /* n1's report is gone */
    gpurent_request q;
    gpurent_request_init(&q);
    snprintf(q.request_id, sizeof q.request_id, "r1");
    q.verified_only = 1;
    gpurent_match_candidate c[2];
    uint32_t cnt = 9;
    assert_int_equal(gpurent_market_best(m, &q, 2, c, &cnt), GPURENT_OK);
    assert_int_equal(cnt, 0); /* n1 is not verified any more */
    gpurent_offer_clear(&o);
    free(r);
    gpurent_market_free(m);
}

/* Offers put in any order give the same market: digests, receipts and
 * owners; refused offers change nothing. */
static void build(gpurent_market *m, const int *order)
{
    for (int i = 0; i < 4; i++) {
        int k = order[i];
        char id[8];
        snprintf(id, sizeof id, "n%d", k);
        assert_int_equal(put1(m, (uint8_t)(0x10 + k), 1, id, (uint8_t)(0x40 + k)), GPURENT_OK);
        /* a liar copying the GPU just offered, refused (and changing nothing) wherever it comes */
        assert_int_equal(put1(m, 0xee, (uint64_t)i + 1, "x", (uint8_t)(0x40 + k)), GPURENT_E_GPU_CONFLICT);
    }
    gpurent_request q;
    gpurent_request_init(&q);
    snprintf(q.request_id, sizeof q.request_id, "r1");
    q.gpu_count = 8;
    assert_int_equal(gpurent_market_add_request(m, &q), GPURENT_OK);
}

static void test_order_independent(void **state)
{
    (void)state;
    static const int orders[3][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}};
    uint8_t digest[3][32], offers[3][32];
    for (int t = 0; t < 3; t++) {
        gpurent_market *m = market();
        build(m, orders[t]);
        gpurent_match_receipt r;
        gpurent_match_receipt_init(&r);
        assert_int_equal(gpurent_market_match(m, 1700000000, NULL, &r), GPURENT_OK);
        assert_int_equal(r.assignment_count, 1);
        assert_int_equal(gpurent_match_receipt_digest(&r, digest[t]), GPURENT_OK);
        assert_int_equal(gpurent_market_digests(m, offers[t], NULL, NULL), GPURENT_OK);
        gpurent_match_receipt_clear(&r);
        expect_owner(m, 0x40, 0x10, "n0", GPURENT_GPU_HELD_OFFER);
        gpurent_market_free(m);
    }
    assert_memory_equal(digest[0], digest[1], 32);
    assert_memory_equal(digest[0], digest[2], 32);
    assert_memory_equal(offers[0], offers[2], 32);
}

/* Snapshots keep the claims: offered UUIDs and report bindings; a load
 * refuses a snapshot that breaks "one GPU, one place". */
static void test_snapshot_keeps_claims(void **state)
{
    (void)state;
    gpurent_market *m = market(), *back = NULL;
    gpurent_gpu_report *r = calloc(1, sizeof *r);
    assert_non_null(r);
    report_of(r, 0x11, 3);
    uint8_t d[32], ka[32];
    memset(ka, 0xaa, 32);
    report_digest(r, d);
    assert_int_equal(put_reported(m, 0xaa, 1, "a1", 0x12, d), GPURENT_OK);
    assert_int_equal(gpurent_market_verify_report(m, ka, "a1", r), GPURENT_OK);
    assert_int_equal(put1(m, 0xbb, 1, "b1", 0x21), GPURENT_OK);
    assert_int_equal(put1(m, 0xcc, 1, "c1", 0), GPURENT_OK);
    gpurent_buf b = {NULL, 0}, again = {NULL, 0};
    assert_int_equal(gpurent_market_save(m, 5, &b), GPURENT_OK);
    assert_int_equal(gpurent_market_load(&back, b.data, b.len, NULL, NULL), GPURENT_OK);
    expect_owner(back, 0x12, 0xaa, "a1", GPURENT_GPU_HELD_OFFER | GPURENT_GPU_HELD_REPORT);
    expect_owner(back, 0x13, 0xaa, "a1", GPURENT_GPU_HELD_REPORT);
    expect_owner(back, 0x21, 0xbb, "b1", GPURENT_GPU_HELD_OFFER);
    assert_int_equal(put1(back, 0xdd, 1, "d1", 0x21), GPURENT_E_GPU_CONFLICT);
    assert_int_equal(gpurent_market_save(back, 5, &again), GPURENT_OK);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    gpurent_buf_free(&again);
    gpurent_market_free(back);
    back = NULL;
    /* b1's UUID rewritten to a1's (checksum redone): corrupt */
    uint8_t u21[16], u12[16];
    memset(u21, 0x21, 16);
    memset(u12, 0x12, 16);
    uint8_t *at = NULL;
    for (size_t i = 64; i + 16 <= b.len - 32; i++)
        if (!memcmp(b.data + i, u21, 16)) at = b.data + i;
    assert_non_null(at);
    memcpy(at, u12, 16);
    snap_reseal(&b);
    assert_int_equal(gpurent_market_load(&back, b.data, b.len, NULL, NULL), GPURENT_E_SNAPSHOT_CORRUPT);
    assert_null(back);
    gpurent_buf_free(&b);
    free(r);
    gpurent_market_free(m);
}

/* A version 1 snapshot (before the claims section, whole-file checksum)
 * still loads, with no claims: the current body of a market without UUIDs
 * and requests (whose form changed in version 4) less its claims section (16 zero bytes and a 0 count per node). */
static void test_snapshot_version_1(void **state)
{
    (void)state;
    gpurent_market *m = market(), *back = NULL;
    assert_int_equal(put1(m, 0xaa, 1, "a1", 0), GPURENT_OK);
    assert_int_equal(put1(m, 0xbb, 1, "b1", 0), GPURENT_OK);
    gpurent_buf b = {NULL, 0};
    assert_int_equal(gpurent_market_save(m, 5, &b), GPURENT_OK);
    assert_int_equal(b.data[12], 4);
    size_t body = b.len - 64 - 32, v1_body = body - 2 * 17;
    uint8_t *v1 = malloc(64 + v1_body + 32);
    assert_non_null(v1);
    memcpy(v1, b.data, 64 + v1_body);
    v1[12] = 1;
    for (int i = 0; i < 8; i++) v1[56 + i] = (uint8_t)((uint64_t)v1_body >> (8 * i));
    snap_seal_whole(v1, 64 + v1_body + 32);
    assert_int_equal(gpurent_market_load(&back, v1, 64 + v1_body + 32, NULL, NULL), GPURENT_OK);
    gpurent_buf again = {NULL, 0};
    assert_int_equal(gpurent_market_save(back, 5, &again), GPURENT_OK);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len); /* saved again as version 3 */
    gpurent_buf_free(&again);
    gpurent_market_free(back);
    back = NULL;
    /* version 1 with the claims section left in: bytes after the body's end */
    snap_as_old_version(b.data, b.len, 1);
    assert_int_equal(gpurent_market_load(&back, b.data, b.len, NULL, NULL), GPURENT_E_SNAPSHOT_CORRUPT);
    free(v1);
    gpurent_buf_free(&b);
    gpurent_market_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_provider_refused), cmocka_unit_test(test_same_uuid_twice),
        cmocka_unit_test(test_move_and_replay),        cmocka_unit_test(test_report_binds),
        cmocka_unit_test(test_move_drops_old_report),  cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_report_counts_gpus),
        cmocka_unit_test(test_snapshot_keeps_claims),  cmocka_unit_test(test_snapshot_version_1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
