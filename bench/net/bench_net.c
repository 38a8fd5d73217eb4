/* NATS JetStream benchmark of the network layer: 100 000 signed offers and 100 000
 * signed requests pushed through one local nats-server into a stream (one
 * message per envelope, Nats-Msg-Id = BLAKE2b-256 of subject, 0, envelope as in
 * docs/net.md), read back by a pull consumer that verifies every envelope,
 * feeds a market and runs one batch. Baseline, measured in the same run: the
 * same verification, market building and batch in process, with no server.
 *
 *   bench/net/run.sh [N]        (starts its own server; N envelopes of each kind, default 100000)
 *   build/bench/net/bench_net URLS [N]
 *
 * Prints BENCH net_publish_per_s, net_consume_verify_per_s (both beside the
 * in-process verify rate) and net_end_to_end_s (beside the in-process verify
 * + market + batch time). Wall-clock time: the server's work counts. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>
#include <sodium.h>

#include "bench_util.h"
#include "gpurent.h"

#define REQUESTERS 1000u
#define BATCH 1000
#define T0 1800000000ull

typedef struct item {
    gpurent_buf env;
    char subject[96];
    char id[2 * 32 + 1];
    int is_offer;
} item;

typedef struct run_stats {
    size_t verified, dropped;
    uint32_t assignments;
    uint64_t total_value;
    double verify_s, batch_s;
} run_stats;

static const char *const MODELS[] = {"H100 SXM5 80GB", "A100 SXM4 80GB", "L40S", "RTX 4090", "RTX 3090", "T4"};
static const uint64_t VRAM[] = {81559, 81920, 46068, 24564, 24576, 15360};
static const char *const REGIONS[] = {"us-east", "us-west", "eu-west", "eu-central", "ap-south", "sa-east"};

static void die(const char *what, gpurent_status st)
{
    fprintf(stderr, "bench_net: %s: %s (%s)\n", what, gpurent_strerror(st), gpurent_last_error_message());
    exit(1);
}

static void die_nats(const char *what, natsStatus s)
{
    fprintf(stderr, "bench_net: %s: %s\n", what, natsStatus_GetText(s));
    nats_PrintLastErrorStack(stderr);
    exit(1);
}

static void hexkey(const uint8_t k[32], char out[65])
{
    static const char h[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = h[k[i] >> 4];
        out[2 * i + 1] = h[k[i] & 15];
    }
    out[64] = 0;
}

static gpurent_key *key_for(uint32_t kind, uint32_t i, uint8_t pk[32])
{
    uint8_t seed[GPURENT_SEED_BYTES] = {0};
    gpurent_key *k = NULL;
    seed[0] = (uint8_t)kind;
    memcpy(seed + 1, &i, sizeof i);
    gpurent_status st = gpurent_key_from_seed(&k, seed);
    if (st) die("key_from_seed", st);
    if ((st = gpurent_key_public(k, pk))) die("key_public", st);
    return k;
}

static void sign_into(item *it, gpurent_key *k, uint32_t statement, uint32_t n, const gpurent_buf *payload,
                      const char *kind, const uint8_t pk[32])
{
    gpurent_envelope hdr;
    char hex[65];
    uint8_t id[32];
    memset(&hdr, 0, sizeof hdr);
    hdr.statement = statement;
    hdr.issued_at = T0;
    hdr.expires_at = T0 + 86400;
    memcpy(hdr.nonce, &n, sizeof n);
    hdr.nonce[15] = (uint8_t)(statement | 0x80);
    gpurent_status st = gpurent_envelope_sign(k, &hdr, payload->data, payload->len, &it->env);
    if (st) die("envelope_sign", st);
    hexkey(pk, hex);
    snprintf(it->subject, sizeof it->subject, "gpurent.%s.%s", kind, hex);
    crypto_generichash_state hs; /* the nodes' id: BLAKE2b(subject, 0, envelope) */
    crypto_generichash_init(&hs, NULL, 0, sizeof id);
    crypto_generichash_update(&hs, (const unsigned char *)it->subject, strlen(it->subject) + 1);
    crypto_generichash_update(&hs, it->env.data, it->env.len);
    crypto_generichash_final(&hs, id, sizeof id);
    hexkey(id, it->id);
}

/* n offers (one provider each, one node) then n requests (REQUESTERS requesters). */
static item *make_items(size_t n, gpurent_trust *trust)
{
    item *items = calloc(2 * n, sizeof *items);
    gpurent_key *req_keys[REQUESTERS];
    uint8_t pk[32];
    gpurent_status st;
    if (!items) exit(1);
    for (uint32_t i = 0; i < n; i++) {
        gpurent_key *k = key_for(1, i, pk);
        gpurent_offer o;
        gpurent_node node;
        gpurent_buf payload = {0};
        uint32_t m = i % 6;
        gpurent_offer_init(&o);
        memcpy(o.provider_key, pk, 32);
        o.seq = 1;
        snprintf(o.region, sizeof o.region, "%s", REGIONS[(i / 6) % 6]);
        memset(&node, 0, sizeof node);
        snprintf(node.node_id, sizeof node.node_id, "node-%" PRIu32, i);
        snprintf(node.gpu.model, sizeof node.gpu.model, "%s", MODELS[m]);
        node.gpu.cc_major = 8;
        node.gpu.memory_mib = VRAM[m];
        node.gpu_count = node.gpu_free = 1u << (i % 4);
        node.price_micro_per_gpu_hour = 300000 + 100000ull * (i % 37);
        if ((st = gpurent_offer_add_node(&o, &node))) die("offer_add_node", st);
        if ((st = gpurent_offer_encode(&o, &payload))) die("offer_encode", st);
        sign_into(&items[i], k, GPURENT_RECORD_OFFER, i, &payload, "offer", pk);
        items[i].is_offer = 1;
        if ((st = gpurent_trust_add(trust, pk, GPURENT_ROLE_PROVIDER, 0, 0))) die("trust_add", st);
        gpurent_buf_free(&payload);
        gpurent_offer_clear(&o);
        gpurent_key_free(k);
    }
    for (uint32_t j = 0; j < REQUESTERS; j++) {
        req_keys[j] = key_for(2, j, pk);
        if ((st = gpurent_trust_add(trust, pk, GPURENT_ROLE_REQUESTER, 0, 0))) die("trust_add", st);
    }
    for (uint32_t i = 0; i < n; i++) {
        gpurent_request r;
        gpurent_buf payload = {0};
        gpurent_request_init(&r);
        snprintf(r.request_id, sizeof r.request_id, "req-%07" PRIu32, i);
        /* Like bench_match's mix: a named model, a region for one in four. */
        r.gpu_count = 1u << (i % 3);
        r.gang_nodes = 1;
        r.duration_s = 3600;
        r.max_price_micro_per_gpu_hour = 2000000 + 100000ull * (i % 20);
        if ((st = gpurent_request_add_model(&r, MODELS[(i * 7) % 6]))) die("request_add_model", st);
        if (i % 4 == 0 && (st = gpurent_request_allow_region(&r, REGIONS[(i / 4) % 6])))
            die("request_allow_region", st);
        if ((st = gpurent_request_encode(&r, &payload))) die("request_encode", st);
        (void)gpurent_key_public(req_keys[i % REQUESTERS], pk);
        sign_into(&items[n + i], req_keys[i % REQUESTERS], GPURENT_RECORD_REQUEST, i, &payload, "request", pk);
        gpurent_buf_free(&payload);
    }
    for (uint32_t j = 0; j < REQUESTERS; j++) gpurent_key_free(req_keys[j]);
    return items;
}

/* What every consumer does with a batch of envelopes: verify them all (on
 * every core), then put each verified offer or request into the market. */
static void ingest(gpurent_trust *trust, gpurent_market *m, const uint8_t *const *envs, const size_t *lens, size_t n,
                   run_stats *rs)
{
    gpurent_verify_batch *b = NULL;
    gpurent_verify_options vo = GPURENT_VERIFY_OPTIONS_INIT;
    gpurent_status st;
    double t0 = bench_now();
    if ((st = gpurent_verify_batch_new(&b))) die("verify_batch_new", st);
    for (size_t i = 0; i < n; i++)
        if ((st = gpurent_verify_batch_add(b, envs[i], lens[i]))) die("verify_batch_add", st);
    if ((st = gpurent_verify_batch_run(b, trust, T0 + 60, 300, &vo, 0, NULL))) die("verify_batch_run", st);
    rs->verify_s += bench_now() - t0;
    for (size_t i = 0; i < n; i++) {
        gpurent_buf p = {0};
        gpurent_offer o;
        gpurent_request r;
        uint32_t type = 0;
        if (gpurent_verify_batch_payload(b, i, &p) != GPURENT_OK) {
            rs->dropped++;
            continue;
        }
        if ((st = gpurent_wire_record_type(p.data, p.len, &type))) die("wire_record_type", st);
        if (type == GPURENT_RECORD_OFFER) {
            gpurent_offer_init(&o);
            if ((st = gpurent_offer_decode(p.data, p.len, &o))) die("offer_decode", st);
            if ((st = gpurent_market_put_offer(m, &o))) die("market_put_offer", st);
            gpurent_offer_clear(&o);
        } else {
            gpurent_request_init(&r);
            if ((st = gpurent_request_decode(p.data, p.len, &r))) die("request_decode", st);
            if ((st = gpurent_market_add_request(m, &r))) die("market_add_request", st);
        }
        rs->verified++;
        gpurent_buf_free(&p);
    }
    gpurent_verify_batch_free(b);
}

static void run_batch(gpurent_market *m, run_stats *rs)
{
    gpurent_match_receipt rc;
    gpurent_status st;
    double t0 = bench_now();
    gpurent_match_receipt_init(&rc);
    if ((st = gpurent_market_match(m, T0 + 120, NULL, &rc))) die("market_match", st);
    rs->batch_s = bench_now() - t0;
    rs->assignments = rc.assignment_count;
    rs->total_value = rc.total_value;
    gpurent_match_receipt_clear(&rc);
}

static gpurent_trust *trust_copy(const uint8_t *snap, size_t len)
{
    gpurent_trust *t = NULL;
    gpurent_status st = gpurent_trust_load(&t, snap, len, NULL, NULL);
    if (st) die("trust_load", st);
    return t;
}

static gpurent_market *market_new(void)
{
    gpurent_market *m = NULL;
    gpurent_status st = gpurent_market_new(&m, NULL, NULL);
    if (st) die("market_new", st);
    return m;
}

/* ---- in process ---- */

static double in_process(const item *items, size_t total, const gpurent_buf *snap, run_stats *rs)
{
    const uint8_t *envs[BATCH];
    size_t lens[BATCH];
    gpurent_trust *trust = trust_copy(snap->data, snap->len);
    gpurent_market *m = market_new();
    double t0 = bench_now();
    for (size_t i = 0; i < total; i += BATCH) {
        size_t n = total - i < BATCH ? total - i : BATCH;
        for (size_t j = 0; j < n; j++) envs[j] = items[i + j].env.data, lens[j] = items[i + j].env.len;
        ingest(trust, m, envs, lens, n, rs);
    }
    run_batch(m, rs);
    double t = bench_now() - t0;
    gpurent_market_free(m);
    gpurent_trust_free(trust);
    return t;
}

/* ---- over NATS ---- */

static void on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (*(size_t *)closure)++;
    fprintf(stderr, "bench_net: publish failed: %s\n", pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
}

static const char *stream_name(void)
{
    const char *s = getenv("BENCH_NET_STREAM");
    return s && *s ? s : "GPURENTBENCH";
}

static double publish_all(jsCtx *js, const item *items, size_t total, size_t *failed)
{
    jsPubOptions po;
    natsStatus s;
    double t0 = bench_now();
    for (size_t i = 0; i < total; i++) {
        natsMsg *msg = NULL;
        if ((s = natsMsg_Create(&msg, items[i].subject, NULL, (const char *)items[i].env.data,
                                (int)items[i].env.len)) != NATS_OK)
            die_nats("natsMsg_Create", s);
        if ((s = natsMsgHeader_Set(msg, "Nats-Msg-Id", items[i].id)) != NATS_OK) die_nats("natsMsgHeader_Set", s);
        if ((s = js_PublishMsgAsync(js, &msg, NULL)) != NATS_OK) die_nats("js_PublishMsgAsync", s);
    }
    jsPubOptions_Init(&po);
    po.MaxWait = 120000;
    if ((s = js_PublishAsyncComplete(js, &po)) != NATS_OK) die_nats("js_PublishAsyncComplete", s);
    (void)failed;
    return bench_now() - t0;
}

static double consume_all(jsCtx *js, size_t total, const gpurent_buf *snap, run_stats *rs, double *consume_s)
{
    natsSubscription *sub = NULL;
    jsSubOptions so;
    jsErrCode jerr = 0;
    natsStatus s;
    const uint8_t *envs[BATCH];
    size_t lens[BATCH], got = 0;
    gpurent_trust *trust = trust_copy(snap->data, snap->len);
    gpurent_market *m = market_new();
    double t0 = bench_now();
    jsSubOptions_Init(&so);
    so.Stream = stream_name();
    so.Config.AckPolicy = js_AckNone;
    so.Config.DeliverPolicy = js_DeliverAll;
    if ((s = js_PullSubscribe(&sub, js, "gpurent.>", "bench-consumer", NULL, &so, &jerr)) != NATS_OK)
        die_nats("js_PullSubscribe", s);
    while (got < total) {
        natsMsgList list = {0};
        s = natsSubscription_Fetch(&list, sub, BATCH, 10000, &jerr);
        if (s != NATS_OK) die_nats("natsSubscription_Fetch", s);
        for (int i = 0; i < list.Count; i++) {
            envs[i] = (const uint8_t *)natsMsg_GetData(list.Msgs[i]);
            lens[i] = (size_t)natsMsg_GetDataLength(list.Msgs[i]);
        }
        ingest(trust, m, envs, lens, (size_t)list.Count, rs);
        got += (size_t)list.Count;
        natsMsgList_Destroy(&list);
    }
    *consume_s = bench_now() - t0;
    run_batch(m, rs);
    double t = bench_now() - t0;
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    gpurent_market_free(m);
    gpurent_trust_free(trust);
    return t;
}

int main(int argc, char **argv)
{
    size_t n = 100000, failed = 0;
    gpurent_trust *trust = NULL;
    gpurent_trust_options to = GPURENT_TRUST_OPTIONS_INIT;
    gpurent_buf snap = {0};
    gpurent_status st;
    natsConnection *nc = NULL;
    natsOptions *nopts = NULL;
    jsCtx *js = NULL;
    jsOptions jo;
    jsStreamConfig cfg;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s;
    const char *subjects[] = {"gpurent.>"};
    run_stats in = {0}, net = {0};

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s NATS_URLS [N]\n", argv[0]);
        return 2;
    }
    if (argc == 3) n = strtoull(argv[2], NULL, 10);
    if (n == 0 || n > 1000000) {
        fprintf(stderr, "bench_net: N must be 1..1000000\n");
        return 2;
    }
    if ((st = gpurent_init())) die("init", st);
    to.replay_capacity = (uint32_t)(4 * n < 16384 ? 16384 : 4 * n);
    if ((st = gpurent_trust_new(&trust, &to))) die("trust_new", st);
    double tg = bench_now();
    item *items = make_items(n, trust);
    printf("bench_net: %zu offers + %zu requests signed in %.2f s (%zu providers, %u requesters)\n", n, n,
           bench_now() - tg, n, REQUESTERS);
    /* Both runs start from the same trust store, replay cache empty. */
    if ((st = gpurent_trust_save(trust, 0, &snap))) die("trust_save", st);
    gpurent_trust_free(trust);

    double inproc_s = in_process(items, 2 * n, &snap, &in);
    if (in.verified != 2 * n) {
        fprintf(stderr, "bench_net: in process only %zu of %zu verified\n", in.verified, 2 * n);
        return 1;
    }

    if ((s = natsOptions_Create(&nopts)) != NATS_OK) die_nats("natsOptions_Create", s);
    if ((s = natsOptions_SetURL(nopts, argv[1])) != NATS_OK) die_nats("natsOptions_SetURL", s); /* a comma-separated list */
    if ((s = natsConnection_Connect(&nc, nopts)) != NATS_OK) die_nats("natsConnection_Connect", s);
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = 4096;
    jo.PublishAsync.ErrHandler = on_pub_error;
    jo.PublishAsync.ErrHandlerClosure = &failed;
    jo.Wait = 30000;
    if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK) die_nats("natsConnection_JetStream", s);
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream_name();
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.Duplicates = 600LL * 1000000000LL;
    cfg.Replicas = 1;
    if ((s = js_AddStream(&si, js, &cfg, NULL, &jerr)) != NATS_OK) die_nats("js_AddStream", s);
    jsStreamInfo_Destroy(si);

    double pub_s = publish_all(js, items, 2 * n, &failed);
    double consume_s = 0;
    double cons_total_s = consume_all(js, 2 * n, &snap, &net, &consume_s);
    double e2e_s = pub_s + cons_total_s;

    printf("bench_net: in process: verified %zu, dropped %zu, verify %.2f s, batch %.2f s (%u assignments), "
           "total %.2f s\n", in.verified, in.dropped, in.verify_s, in.batch_s, in.assignments, inproc_s);
    printf("bench_net: over NATS: published %zu in %.2f s (%zu failed); consumed+verified %zu in %.2f s, "
           "dropped %zu; batch %.2f s (%u assignments)\n", 2 * n, pub_s, failed, net.verified, consume_s,
           net.dropped, net.batch_s, net.assignments);
    int same = net.verified == in.verified && net.assignments == in.assignments &&
               net.total_value == in.total_value && failed == 0;
    printf("bench_net: same verified set and batch result over NATS as in process: %s\n", same ? "yes" : "no");

    double in_verify_rate = (double)(2 * n) / in.verify_s;
    bench_line("net_publish_per_s", (double)(2 * n) / pub_s, "msg/s", "inproc_verify_per_s", in_verify_rate);
    bench_line("net_consume_verify_per_s", (double)(2 * n) / consume_s, "msg/s", "inproc_verify_per_s",
               in_verify_rate);
    bench_line("net_end_to_end_s", e2e_s, "s", "inproc_verify_batch_s", inproc_s);

    (void)js_DeleteStream(js, stream_name(), NULL, NULL);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(nopts);
    nats_Close();
    for (size_t i = 0; i < 2 * n; i++) gpurent_buf_free(&items[i].env);
    free(items);
    gpurent_buf_free(&snap);
    return same ? 0 : 1;
}
