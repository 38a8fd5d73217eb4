/* gpurent node provider and gpurent node auditor: signed GPU reports and
 * offers, uptime challenges over core-NATS request/reply, audit reports,
 * tier engines fed from the stream, era cuts and tier certificates. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "node.h"

static int subject_is(const char *subject, const char *prefix) { return !strncmp(subject, prefix, strlen(prefix)); }

static int sign_publish(node_net *n, const gpurent_key *key, uint32_t statement, const char *kind, uint64_t at,
                        uint64_t expires, const uint8_t nonce[16], const uint8_t *subj, size_t subj_len,
                        const uint8_t *payload, size_t len, gpurent_buf *keep)
{
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = statement;
    h.issued_at = at;
    h.expires_at = expires;
    if (nonce) memcpy(h.nonce, nonce, 16);
    if (subj_len) gpurent_envelope_set_subject(&h, subj, subj_len);
    gpurent_buf env = {0};
    int rc = gpurent_envelope_sign(key, &h, payload, len, &env);
    if (rc) return rc;
    uint8_t pk[32];
    char hex[65], s[128];
    gpurent_key_public(key, pk);
    node_hex32(pk, hex);
    snprintf(s, sizeof s, "gpurent.%s.%s", kind, hex);
    rc = node_publish(n, s, env.data, env.len, NULL, NULL, NULL) == NATS_OK ? 0 : GPURENT_E_IO;
    if (keep) *keep = env;
    else gpurent_buf_free(&env);
    return rc;
}

/* ====================================================================== */
/* provider                                                               */
/* ====================================================================== */

static const cli_cmd prov_cmd = {
    "node provider",
    "usage: gpurent node provider --server URLS --key KEYFILE [--fake-driver PATH] [--machine NAME]\n"
    "                             [--region R] [--price MICRO] [--nodes N] [--uptime-pct P]\n"
    "                             [--state DIR] [--duration S] [--stream NAME]\n",
    "Probe this machine's GPUs (or the fake machine NAME of tests/fakecuda through --fake-driver:\n"
    "h100, a100x8, rtx4090), publish the signed GPU report and an offer of N nodes at PRICE\n"
    "(N > 1 plays N machines with one probe: node k > 0 offers a UUID derived from the probed one)\n"
    "micro-units per GPU-hour, then answer uptime challenges on gpurent-rpc.challenge.<key>: each\n"
    "challenge's 32-byte nonce seeds the probe's FMA check, and the answer is the signed report\n"
    "bound to that nonce. --uptime-pct P answers only about P%% of challenges (a flaky machine).\n"
    "With --trust (the matchmakers' keys), quorum receipts (--quorum K identical, default 2) that\n"
    "place GPUs on its nodes lower their free count: the offer is published again (higher seq).\n"
    "A restart reads the receipts in the stream before it offers.\n",
    (const cli_optdef[]){NODE_NET_OPTS, {"--fake-driver", OPT_STR, 0, 0, 0}, {"--machine", OPT_STR, 0, 0, 0},
                         {"--region", OPT_STR, 0, 0, 0}, {"--price", OPT_U64, 0, 1, 1ull << 40},
                         {"--nodes", OPT_U64, 0, 1, 64}, {"--uptime-pct", OPT_U64, 0, 0, 100},
                         {"--state", OPT_STR, 0, 0, 0}, {"--duration", OPT_U64, 0, 1, 86400},
                         {"--quorum", OPT_U64, 0, 1, 16}, {NULL, OPT_FLAG, 0, 0, 0}},
    0, 0, NULL};

static void probe_opts(const cli_args *a, gpurent_probe_options *o)
{
    gpurent_probe_options d = GPURENT_PROBE_OPTIONS_INIT;
    *o = d;
    o->driver_path = cli_opt(a, "--fake-driver");
    o->timeout_ms = 20000;
    o->checks = GPURENT_CHECK_FMA;
    o->check_ms = 5;
    o->fma_iterations = 256;
    o->check_max_bytes = 16u << 20;
}

#define PROV_MAX_NODES 64

static int make_offer(const cli_args *a, const uint8_t pk[32], const gpurent_gpu_report *r,
                      const uint8_t digest[32], const uint32_t *leased, uint64_t seq, gpurent_buf *out)
{
    gpurent_offer o;
    gpurent_offer_init(&o);
    memcpy(o.provider_key, pk, 32);
    o.seq = seq;
    snprintf(o.region, sizeof o.region, "%s", cli_opt(a, "--region") ? cli_opt(a, "--region") : "eu-west");
    gpurent_node nd;
    memset(&nd, 0, sizeof nd);
    int rc = gpurent_gpu_report_to_gpu(r, 0, &nd.gpu);
    uint32_t nodes = (uint32_t)cli_opt_u64(a, "--nodes", 1);
    uint8_t probed_uuid[sizeof nd.gpu.uuid];
    memcpy(probed_uuid, nd.gpu.uuid, sizeof probed_uuid);
    for (uint32_t k = 0; !rc && k < nodes; k++) {
        snprintf(nd.node_id, sizeof nd.node_id, "node-%u", k);
        /* --nodes N plays N machines with one probe: node k > 0 carries a
         * UUID derived from the probed one, since a market refuses one GPU
         * offered on two nodes (docs/match.md, one GPU, one place). */
        if (k > 0) {
            uint8_t salt[4] = {(uint8_t)k, (uint8_t)(k >> 8), (uint8_t)(k >> 16), (uint8_t)(k >> 24)};
            crypto_generichash(nd.gpu.uuid, sizeof nd.gpu.uuid, salt, sizeof salt, probed_uuid, sizeof probed_uuid);
        }
        nd.gpu_count = r->device_count > GPURENT_NODE_MAX_GPUS ? GPURENT_NODE_MAX_GPUS : r->device_count;
        nd.gpu_free = leased[k] >= nd.gpu_count ? 0 : nd.gpu_count - leased[k]; /* leases never end here */
        nd.cpu_millicores = 16000 * nd.gpu_count;
        nd.ram_mib = 65536ull * nd.gpu_count;
        nd.disk_gib = 500ull * nd.gpu_count;
        nd.price_micro_per_gpu_hour = cli_opt_u64(a, "--price", 1500000);
        memcpy(nd.report_digest, digest, 32);
        rc = gpurent_offer_add_node(&o, &nd);
    }
    if (!rc) rc = gpurent_offer_encode(&o, out);
    gpurent_offer_clear(&o);
    return rc;
}

/* The provider's view of its leases: GPUs placed on each of its nodes by
 * quorum receipts (k identical receipts from distinct matchmakers). */
#define PROV_VOTES 256
typedef struct prov_leases {
    uint8_t pk[32];
    uint32_t quorum;
    uint32_t leased[PROV_MAX_NODES];
    int changed;
    struct {
        uint8_t id[32];
        uint32_t n, done;
        uint8_t who[16][32];
    } v[PROV_VOTES];
    uint32_t nv, next;
} prov_leases;

static void lease_receipt(prov_leases *L, node_net *n, gpurent_trust *t, const node_msg *m)
{
    gpurent_verified *v = NULL;
    if (strncmp(m->subject, "gpurent.receipt.", 16) ||
        node_verify(n, t, m, GPURENT_RECORD_MATCH_RECEIPT, GPURENT_ROLE_MATCHER, 1, 1, &v))
        return;
    gpurent_envelope h;
    gpurent_verified_header(v, &h);
    size_t len;
    const uint8_t *p = gpurent_verified_payload_data(v, &len);
    uint8_t id[32];
    node_hash(id, "gpurent-receipt-vote", p, len, h.subject, h.subject_len);
    uint32_t i = 0;
    while (i < L->nv && memcmp(L->v[i].id, id, 32)) i++;
    if (i == L->nv) {
        if (L->nv < PROV_VOTES) L->nv++;
        else i = L->next++ % PROV_VOTES; /* the oldest group makes room */
        memset(&L->v[i], 0, sizeof L->v[i]);
        memcpy(L->v[i].id, id, 32);
    }
    int fresh = L->v[i].n < 16;
    for (uint32_t k = 0; k < L->v[i].n; k++) fresh &= !!memcmp(L->v[i].who[k], h.issuer, 32);
    if (fresh) memcpy(L->v[i].who[L->v[i].n++], h.issuer, 32);
    gpurent_match_receipt r;
    gpurent_match_receipt_init(&r);
    if (!L->v[i].done && L->v[i].n >= L->quorum && gpurent_match_receipt_decode(p, len, &r) == GPURENT_OK) {
        L->v[i].done = 1;
        for (uint32_t k = 0; k < r.placement_count; k++) {
            unsigned node;
            char tail;
            const gpurent_match_placement *pl = &r.placements[k];
            if (memcmp(pl->provider_key, L->pk, 32) || sscanf(pl->node_id, "node-%u%c", &node, &tail) != 1 ||
                node >= PROV_MAX_NODES)
                continue;
            L->leased[node] += pl->gpus;
            L->changed = 1;
        }
    }
    gpurent_match_receipt_clear(&r);
    gpurent_verified_free(v);
}

/* Answer one challenge: the probe bound to the auditor's nonce, signed. */
static void answer(node_net *n, const gpurent_key *key, const gpurent_probe_options *po, natsMsg *msg,
                   uint32_t uptime_pct, uint64_t *answered, uint64_t *ignored)
{
    const char *reply = natsMsg_GetReply(msg);
    if (!reply || natsMsg_GetDataLength(msg) != GPURENT_CHALLENGE_BYTES) { (*ignored)++; return; }
    const uint8_t *nonce = (const uint8_t *)natsMsg_GetData(msg);
    uint8_t roll[32];
    node_hash(roll, "gpurent-flaky", nonce, 32, NULL, 0);
    if ((uint32_t)(roll[0] | roll[1] << 8) % 100 >= uptime_pct) { (*ignored)++; return; }
    gpurent_gpu_report *r = malloc(sizeof *r);
    gpurent_buf b = {0}, env = {0};
    if (!r || gpurent_probe_run(po, nonce, NULL, r) || gpurent_gpu_report_encode(r, &b)) {
        free(r);
        (*ignored)++;
        return;
    }
    free(r);
    uint64_t now = (uint64_t)node_wall();
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_GPU_REPORT;
    h.issued_at = now;
    h.expires_at = now + 300;
    if (!gpurent_envelope_sign(key, &h, b.data, b.len, &env)) {
        natsConnection_Publish(n->nc, reply, env.data, (int)env.len);
        (*answered)++;
    }
    gpurent_buf_free(&b);
    gpurent_buf_free(&env);
}

int node_provider(int argc, char **argv)
{
    cli_args a;
    int prc = cli_parse(&prov_cmd, argc, argv, &a);
    if (prc) return prc < 0 ? 0 : prc;
    if (!cli_opt(&a, "--key")) return cli_usage_error(&a, "--key KEYFILE is required");
    const char *state = cli_opt(&a, "--state");
    if (state && mkdir(state, 0700) && errno != EEXIST) return cli_fail("node", EXIT_IO, "%s: %s", state, strerror(errno));
    if (cli_opt(&a, "--machine")) setenv("FAKECUDA_MACHINE", cli_opt(&a, "--machine"), 1);
    gpurent_key *key = NULL;
    int rc = cli_load_key(&a, &key);
    if (rc) return rc;
    uint8_t pk[32], nonce[32], digest[32];
    char hex[65];
    gpurent_key_public(key, pk);
    node_hex32(pk, hex);
    /* A fake machine is one machine per provider: its GPUs' UUIDs are drawn
     * from the provider's key, or every provider of a test market would
     * offer the same GPUs and the market would refuse all but the first
     * (one GPU, one place: docs/match.md). */
    if (cli_opt(&a, "--fake-driver")) setenv("FAKECUDA_UUID_SALT", hex, 1);
    gpurent_probe_options po;
    probe_opts(&a, &po);
    gpurent_gpu_report *r = malloc(sizeof *r);
    gpurent_buf rep = {0}, renv = {0}, offer = {0};
    node_net n;
    memset(&n, 0, sizeof n);
    randombytes_buf(nonce, sizeof nonce);
    if (!r || (rc = gpurent_probe_run(&po, nonce, NULL, r)) || (rc = gpurent_gpu_report_encode(r, &rep))) {
        rc = cli_fail_status("node provider", rc ? rc : GPURENT_E_NOMEM, EXIT_FAILED);
        goto out;
    }
    if (r->device_count == 0) {
        rc = cli_fail("node provider", EXIT_FAILED, "no GPU to offer: %s", r->reason);
        goto out;
    }
    if ((rc = node_connect(&n, &a, "node provider"))) goto out;
    uint64_t now = (uint64_t)node_wall(), seq = now;
    if ((rc = sign_publish(&n, key, GPURENT_RECORD_GPU_REPORT, "report", now, now + 30 * 86400, NULL, NULL, 0,
                           rep.data, rep.len, &renv)) ||
        (rc = gpurent_envelope_digest(renv.data, renv.len, digest))) {
        rc = cli_fail("node provider", EXIT_FAILED, "publishing the GPU report: %s", gpurent_status_name(rc));
        goto out;
    }
    /* The leases quorum receipts gave us so far, before we offer (a restart
     * must not offer GPUs already leased). */
    prov_leases *L = calloc(1, sizeof *L);
    gpurent_trust *t = NULL;
    if (!L) { rc = cli_fail("node provider", EXIT_FAILED, "out of memory"); goto out; }
    memcpy(L->pk, pk, 32);
    L->quorum = (uint32_t)cli_opt_u64(&a, "--quorum", 2);
    if (cli_opt(&a, "--trust")) {
        if ((rc = cli_load_trust("node provider", cli_opt(&a, "--trust"), &t)) || node_subscribe(&n, 1)) {
            rc = rc ? rc : cli_fail("node provider", EXIT_FAILED, "subscribe failed");
            free(L);
            goto out;
        }
        node_msg m;
        while (node_next(&n, 300, &m) == 1) {
            lease_receipt(L, &n, t, &m);
            node_msg_free(&m);
        }
    }
    if ((rc = make_offer(&a, pk, r, digest, L->leased, seq, &offer)) ||
        (rc = sign_publish(&n, key, GPURENT_RECORD_OFFER, "offer", now, now + 30 * 86400, NULL, NULL, 0, offer.data,
                           offer.len, NULL))) {
        rc = cli_fail("node provider", EXIT_FAILED, "publishing the offer: %s", gpurent_status_name(rc));
        gpurent_trust_free(t);
        free(L);
        goto out;
    }
    L->changed = 0;
    char subj[128];
    snprintf(subj, sizeof subj, "gpurent-rpc.challenge.%s", hex);
    natsSubscription *sub = NULL;
    if (natsConnection_SubscribeSync(&sub, n.nc, subj) != NATS_OK) {
        rc = cli_fail("node provider", EXIT_FAILED, "subscribe %s failed", subj);
        gpurent_trust_free(t);
        free(L);
        goto out;
    }
    natsConnection_Flush(n.nc);
    fprintf(stderr, "provider %s: %u x %s offered, answering %s\n", hex, r->device_count, r->devices[0].name.value, subj);
    node_signals();
    double end = cli_opt(&a, "--duration") ? node_wall() + (double)cli_opt_u64(&a, "--duration", 0) : 0;
    uint32_t pct = (uint32_t)cli_opt_u64(&a, "--uptime-pct", 100);
    uint64_t answered = 0, ignored = 0, offers = 1;
    double last = 0;
    while (!node_stop && (!end || node_wall() < end)) {
        natsMsg *cm = NULL;
        if (natsSubscription_NextMsg(&cm, sub, t ? 50 : 200) == NATS_OK) {
            answer(&n, key, &po, cm, pct, &answered, &ignored);
            natsMsg_Destroy(cm);
        }
        node_msg m;
        while (t && node_next(&n, 20, &m) == 1) {
            lease_receipt(L, &n, t, &m);
            node_msg_free(&m);
        }
        if (L->changed) {
            /* Capacity changed: the offer again, with a higher seq. */
            gpurent_buf b = {0};
            now = (uint64_t)node_wall();
            seq = now > seq ? now : seq + 1;
            if (!make_offer(&a, pk, r, digest, L->leased, seq, &b) &&
                !sign_publish(&n, key, GPURENT_RECORD_OFFER, "offer", now, now + 30 * 86400, NULL, NULL, 0, b.data,
                              b.len, NULL))
                offers++;
            gpurent_buf_free(&b);
            L->changed = 0;
        }
        if (state && node_wall() - last > 1) {
            json_t *x = json_object();
            json_object_set_new(x, "answered", json_integer((json_int_t)answered));
            json_object_set_new(x, "ignored", json_integer((json_int_t)ignored));
            json_object_set_new(x, "offers", json_integer((json_int_t)offers));
            node_write_stats(&n, state, 0, x);
            last = node_wall();
        }
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    gpurent_trust_free(t);
    free(L);
    rc = 0;
out:
    free(r);
    gpurent_buf_free(&rep);
    gpurent_buf_free(&renv);
    gpurent_buf_free(&offer);
    gpurent_key_free(key);
    node_close_then_exit_code(&n, rc);
    return rc;
}

/* ====================================================================== */
/* auditor                                                                */
/* ====================================================================== */

#define MAX_PROVIDERS 1024
#define MAX_CHAL 64

typedef struct aprov {
    uint8_t pk[32];
    int report_ok; /* its signed GPU report verified and listed devices */
    uint8_t report_digest[32];
} aprov;

/* A challenge this auditor ran in the current era (also in challenges.log). */
typedef struct achal {
    uint8_t pk[32];
    uint64_t era, time_s;
    uint32_t slot, passed;
} achal;

#define MAX_PENDING 4096
typedef struct apend { /* a challenge sent, not yet answered */
    uint8_t pk[32], nonce[32];
    uint64_t era, t, deadline_ms;
    uint32_t slot, id;
} apend;

typedef struct aud {
    node_net *net;
    gpurent_trust *trust;
    gpurent_tier_engine *eng;
    const gpurent_key *key;
    uint8_t pk[32];
    uint8_t seed[32];
    const char *state;
    uint64_t genesis, era_s, last_seq;
    uint32_t slots;
    aprov *provs;
    uint32_t nprov;
    achal *chal;
    uint32_t nchal, capchal;
    apend *pend;
    uint32_t npend, next_id;
    char inbox[96];
    natsSubscription *isub;
    uint64_t reported_era; /* audit reports published for eras < this */
    uint64_t certs, late, challenges_sent, challenges_passed;
} aud;

static aprov *find_prov(aud *d, const uint8_t pk[32])
{
    for (uint32_t i = 0; i < d->nprov; i++)
        if (!memcmp(d->provs[i].pk, pk, 32)) return &d->provs[i];
    return NULL;
}

static void chal_add(aud *d, const achal *c)
{
    if (d->nchal == d->capchal) {
        uint32_t cap = d->capchal ? d->capchal * 2 : 256;
        achal *p = realloc(d->chal, cap * sizeof *p);
        if (!p) return;
        d->chal = p;
        d->capchal = cap;
    }
    d->chal[d->nchal++] = *c;
}

static int chal_done(const aud *d, const uint8_t pk[32], uint64_t era, uint32_t slot)
{
    for (uint32_t i = 0; i < d->npend; i++)
        if (d->pend[i].era == era && d->pend[i].slot == slot && !memcmp(d->pend[i].pk, pk, 32)) return 1;
    for (uint32_t i = 0; i < d->nchal; i++)
        if (d->chal[i].era == era && d->chal[i].slot == slot && !memcmp(d->chal[i].pk, pk, 32)) return 1;
    return 0;
}

/* ---- state ---- */

static int aud_save(aud *d)
{
    char p[4096];
    int rc;
    if (node_path(p, sizeof p, d->state, "tier.snap") || (rc = gpurent_tier_save_file(d->eng, d->last_seq, p)))
        return GPURENT_E_IO;
    if (node_path(p, sizeof p, d->state, "trust.snap") || (rc = gpurent_trust_save_file(d->trust, d->last_seq, p)))
        return GPURENT_E_IO;
    json_t *j = json_object(), *ps = json_array();
    json_object_set_new(j, "seq", json_integer((json_int_t)d->last_seq));
    json_object_set_new(j, "certs", json_integer((json_int_t)d->certs));
    for (uint32_t i = 0; i < d->nprov; i++) {
        json_t *o = json_object();
        char *h = cli_hex(d->provs[i].pk, 32), *g = cli_hex(d->provs[i].report_digest, 32);
        json_object_set_new(o, "key", json_string(h));
        json_object_set_new(o, "report", json_string(g));
        json_object_set_new(o, "ok", json_boolean(d->provs[i].report_ok));
        free(h);
        free(g);
        json_array_append_new(ps, o);
    }
    json_object_set_new(j, "providers", ps);
    char *s = json_dumps(j, JSON_SORT_KEYS);
    json_decref(j);
    rc = node_path(p, sizeof p, d->state, "meta.json") || !s || cli_write_file(p, (const uint8_t *)s, strlen(s));
    free(s);
    return rc ? GPURENT_E_IO : 0;
}

static void aud_load_chal(aud *d)
{
    char p[4096];
    node_path(p, sizeof p, d->state, "challenges.log");
    FILE *f = fopen(p, "r");
    if (!f) return;
    char hex[80];
    unsigned long long era, t;
    unsigned slot, passed;
    while (fscanf(f, "%70s %llu %u %llu %u", hex, &era, &slot, &t, &passed) == 5) {
        achal c;
        if (cli_unhex(hex, c.pk, 32)) continue;
        c.era = era;
        c.slot = slot;
        c.time_s = t;
        c.passed = passed ? 1 : 0;
        if (!chal_done(d, c.pk, c.era, c.slot)) chal_add(d, &c);
    }
    fclose(f);
}

static void aud_load(aud *d, const char *trust_path)
{
    char p[4096];
    struct stat st;
    node_path(p, sizeof p, d->state, "meta.json");
    aud_load_chal(d); /* the challenges survive a kill whatever the snapshots say */
    if (stat(p, &st)) { fprintf(stderr, "auditor: no state in %s yet, reading the stream from the start\n", d->state); return; }
    int code = 0;
    json_t *j = cli_load_json("node", p, &code), *ps = j ? json_object_get(j, "providers") : NULL, *o;
    uint64_t s1 = 0, s2 = 0, s3 = 0;
    gpurent_tier_engine *e = NULL;
    gpurent_trust *t = NULL;
    json_t *sj = j ? json_object_get(j, "seq") : NULL;
    int ok = json_is_integer(sj) && json_is_array(ps) && json_array_size(ps) <= MAX_PROVIDERS;
    if (ok) s3 = (uint64_t)json_integer_value(sj);
    node_path(p, sizeof p, d->state, "tier.snap");
    ok = ok && gpurent_tier_load_file(&e, p, NULL, &s1) == GPURENT_OK;
    node_path(p, sizeof p, d->state, "trust.snap");
    ok = ok && gpurent_trust_load_file(&t, p, NULL, &s2) == GPURENT_OK;
    ok = ok && s1 == s2 && s2 == s3 && gpurent_trust_adopt_replay(d->trust, t) == GPURENT_OK;
    size_t i;
    uint32_t np = 0;
    if (ok)
        json_array_foreach(ps, i, o) {
            aprov *a = &d->provs[np++];
            const char *k = json_string_value(json_object_get(o, "key")),
                       *g = json_string_value(json_object_get(o, "report"));
            if (!k || !g || cli_unhex(k, a->pk, 32) || cli_unhex(g, a->report_digest, 32)) { ok = 0; break; }
            a->report_ok = json_is_true(json_object_get(o, "ok"));
        }
    if (ok) {
        gpurent_tier_engine_free(d->eng);
        d->eng = e;
        e = NULL;
        d->nprov = np;
        d->last_seq = s1;
        json_t *c = json_object_get(j, "certs");
        d->certs = json_is_integer(c) ? (uint64_t)json_integer_value(c) : 0;
        fprintf(stderr, "auditor: resumed from %s at stream sequence %llu (next era %llu)\n", d->state,
                (unsigned long long)s1, (unsigned long long)gpurent_tier_next_era(d->eng));
    } else {
        fprintf(stderr, "auditor: state in %s unusable, replaying the stream from the start\n", d->state);
        d->nprov = 0;
        gpurent_trust *fresh = NULL;
        if (!cli_load_trust("node", trust_path, &fresh)) { gpurent_trust_free(d->trust); d->trust = fresh; }
    }
    gpurent_tier_engine_free(e);
    gpurent_trust_free(t);
    json_decref(j);
}

/* ---- the stream ---- */

static void on_report(aud *d, const node_msg *m)
{
    gpurent_verified *v;
    if (node_verify(d->net, d->trust, m, GPURENT_RECORD_GPU_REPORT, GPURENT_ROLE_PROVIDER, 1, 1, &v)) return;
    gpurent_envelope h;
    gpurent_verified_header(v, &h);
    size_t len;
    const uint8_t *p = gpurent_verified_payload_data(v, &len);
    gpurent_gpu_report *r = malloc(sizeof *r);
    aprov *a = find_prov(d, h.issuer);
    if (!a && d->nprov < MAX_PROVIDERS) {
        a = &d->provs[d->nprov++];
        memset(a, 0, sizeof *a);
        memcpy(a->pk, h.issuer, 32);
    }
    if (a && r) {
        a->report_ok = gpurent_gpu_report_decode(p, len, r) == GPURENT_OK && r->device_count > 0;
        gpurent_verified_digest(v, a->report_digest);
    }
    free(r);
    gpurent_verified_free(v);
}

static void on_audit(aud *d, const node_msg *m)
{
    gpurent_envelope h;
    char hex[65];
    const char *dot = strrchr(m->subject, '.');
    if (gpurent_envelope_decode(m->data, m->len, &h)) { d->net->drops[DROP_UNDECODABLE]++; return; }
    node_hex32(h.issuer, hex);
    if (!dot || strcmp(dot + 1, hex)) { d->net->drops[DROP_FORGED]++; return; }
    int rc = gpurent_tier_record_signed(d->eng, d->trust, m->data, m->len, m->time, 60);
    if (rc == GPURENT_E_EVIDENCE_REJECTED) d->late++;
    if (rc) d->net->drops[node_drop_reason(rc)]++;
    else d->net->accepted++;
}

static void publish_certs(aud *d, uint64_t era)
{
    uint64_t at = d->genesis + (era + 1) * d->era_s;
    for (uint32_t i = 0; i < gpurent_tier_provider_count(d->eng); i++) {
        uint8_t pk[32];
        gpurent_tier_cert c;
        gpurent_buf b = {0};
        if (gpurent_tier_provider_key(d->eng, i, pk) || gpurent_tier_certificate(d->eng, pk, &c) ||
            gpurent_tier_cert_encode(&c, &b))
            continue;
        uint8_t nn[32], dg[32];
        node_hash(nn, "gpurent-cert-nonce", b.data, b.len, d->pk, 32);
        crypto_generichash(dg, 32, b.data, b.len, NULL, 0);
        if (!sign_publish(d->net, d->key, GPURENT_RECORD_TIER_CERT, "cert", at, at + 86400, nn, pk, 32, b.data, b.len,
                          NULL))
            d->certs++;
        char line[256], ph[65], dh[65];
        node_hex32(pk, ph);
        node_hex32(dg, dh);
        snprintf(line, sizeof line, "%llu %s %s %u\n", (unsigned long long)era, ph, dh, c.tier);
        node_log_line(d->state, "certs.log", line);
        gpurent_buf_free(&b);
    }
}

static void on_era(aud *d, const node_msg *m, uint64_t wall)
{
    gpurent_verified *v;
    if (node_verify(d->net, d->trust, m, NODE_STATEMENT_CUT, GPURENT_ROLE_AUDITOR, 1, 0, &v)) return;
    size_t len;
    const uint8_t *p = gpurent_verified_payload_data(v, &len);
    node_cut c;
    int bad = node_cut_decode(p, len, &c) || strcmp(c.scope, "era");
    gpurent_verified_free(v);
    uint64_t next = gpurent_tier_next_era(d->eng);
    /* The cut of era e closes at genesis + (e+1) x era_s, not ahead of the stream's clock. */
    if (bad || c.number < next || c.number >= (UINT64_MAX - d->genesis) / d->era_s ||
        c.boundary_s != d->genesis + (c.number + 1) * d->era_s || c.boundary_s > m->time + 60) {
        d->net->drops[DROP_REFUSED]++;
        return;
    }
    for (uint64_t e = next; e <= c.number; e++) {
        int rc = gpurent_tier_evaluate(d->eng, e, NULL, NULL);
        if (rc) { fprintf(stderr, "auditor: evaluate %llu: %s\n", (unsigned long long)e, gpurent_status_name(rc)); break; }
    }
    /* Certificates of an old era are not published again on replay beyond
     * the server's duplicate window: they would only be duplicates. */
    if (m->time + 300 >= wall) publish_certs(d, c.number);
    d->last_seq = m->seq;
    if (aud_save(d)) fprintf(stderr, "auditor: saving state failed\n");
}

static void aud_apply(aud *d, const node_msg *m)
{
    if (subject_is(m->subject, "gpurent.report.")) on_report(d, m);
    else if (subject_is(m->subject, "gpurent.audit.")) on_audit(d, m);
    else if (!strcmp(m->subject, "gpurent.era")) on_era(d, m, (uint64_t)node_wall());
}

/* ---- challenges: when is drawn from the shared seed ---- */

static uint64_t slot_time_ms(const aud *d, const uint8_t pk[32], uint64_t era, uint32_t slot)
{
    uint8_t h[32];
    uint8_t in[32 + 32 + 12];
    memcpy(in, pk, 32);
    memcpy(in + 32, d->pk, 32);
    for (int i = 0; i < 8; i++) in[64 + i] = (uint8_t)(era >> (8 * i));
    for (int i = 0; i < 4; i++) in[72 + i] = (uint8_t)(slot >> (8 * i));
    node_hash(h, "gpurent-challenge-slot", d->seed, 32, in, sizeof in);
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) x = x << 8 | h[i];
    /* Inside the first 80% of the era, so the answer is in before it ends. */
    uint64_t span = d->era_s * 800;
    return (d->genesis + era * d->era_s) * 1000 + x % (span ? span : 1);
}

/* Challenges run asynchronously: each is a core-NATS request to the
 * provider with the reply subject <our inbox>.<id>; answers are read as
 * they come, and a challenge whose deadline passes unanswered fails. So a
 * silent provider never holds the auditor (stream reading, other
 * challenges, its reports). */
static void challenge_send(aud *d, const aprov *a, uint64_t era, uint32_t slot, uint32_t timeout_ms)
{
    if (d->npend == MAX_PENDING) return; /* the slot is tried again on the next pass */
    apend *p = &d->pend[d->npend];
    memset(p, 0, sizeof *p);
    uint8_t in[44];
    memcpy(in, a->pk, 32);
    for (int i = 0; i < 8; i++) in[32 + i] = (uint8_t)(era >> (8 * i));
    for (int i = 0; i < 4; i++) in[40 + i] = (uint8_t)(slot >> (8 * i));
    node_hash(p->nonce, "gpurent-challenge-nonce", d->seed, 32, in, sizeof in);
    /* Each auditor its own nonce: mix in our key. */
    node_hash(p->nonce, "gpurent-challenge-nonce-2", p->nonce, 32, d->pk, 32);
    /* One challenge per provider per second: an audit report lists each
     * (second, kind) once, so a second challenge in the same second is
     * dated the next one. */
    uint64_t t = (uint64_t)node_wall();
    for (uint32_t i = 0; i < d->nchal; i++)
        if (!memcmp(d->chal[i].pk, a->pk, 32) && d->chal[i].time_s >= t) t = d->chal[i].time_s + 1;
    for (uint32_t i = 0; i < d->npend; i++)
        if (!memcmp(d->pend[i].pk, a->pk, 32) && d->pend[i].t >= t) t = d->pend[i].t + 1;
    memcpy(p->pk, a->pk, 32);
    p->era = era;
    p->slot = slot;
    p->t = t;
    p->id = d->next_id++;
    p->deadline_ms = (uint64_t)(node_wall() * 1000) + timeout_ms;
    char hex[65], subj[128], reply[160];
    node_hex32(a->pk, hex);
    snprintf(subj, sizeof subj, "gpurent-rpc.challenge.%s", hex);
    snprintf(reply, sizeof reply, "%s.%u", d->inbox, p->id);
    natsConnection_PublishRequest(d->net->nc, subj, reply, p->nonce, 32);
    d->npend++;
    d->challenges_sent++;
}

/* The answer to pending challenge `k` (NULL: none in time) decides it. */
static void challenge_done(aud *d, uint32_t k, natsMsg *reply)
{
    apend *pc = &d->pend[k];
    uint32_t passed = 0;
    if (reply) {
        /* A GPU report bound to our nonce, signed by the provider, with devices and a
         * plausible FMA check on its first device. */
        gpurent_verify_options vo = GPURENT_VERIFY_OPTIONS_INIT;
        vo.statement = GPURENT_RECORD_GPU_REPORT;
        vo.required_role = GPURENT_ROLE_PROVIDER;
        vo.check_replay = GPURENT_VERIFY_REPLAY_OFF; /* a fresh nonce per challenge: nothing to replay against */
        gpurent_verified *v = NULL;
        gpurent_envelope h;
        gpurent_gpu_report *r = malloc(sizeof *r);
        size_t len;
        if (r && gpurent_envelope_verify(d->trust, (const uint8_t *)natsMsg_GetData(reply),
                                         (size_t)natsMsg_GetDataLength(reply), pc->t, 60, &vo, &v) == GPURENT_OK &&
            gpurent_verified_header(v, &h) == GPURENT_OK && !memcmp(h.issuer, pc->pk, 32)) {
            const uint8_t *p = gpurent_verified_payload_data(v, &len);
            passed = gpurent_gpu_report_decode(p, len, r) == GPURENT_OK && !memcmp(r->nonce, pc->nonce, 32) &&
                     r->device_count > 0 && r->devices[0].fma.state == GPURENT_PV_OK &&
                     (r->devices[0].fma.verdict == GPURENT_VERDICT_PLAUSIBLE ||
                      r->devices[0].fma.verdict == GPURENT_VERDICT_LOW);
        }
        free(r);
        gpurent_verified_free(v);
    }
    d->challenges_passed += passed;
    achal c;
    memcpy(c.pk, pc->pk, 32);
    c.era = pc->era;
    c.slot = pc->slot;
    c.time_s = pc->t;
    c.passed = passed;
    chal_add(d, &c);
    char line[160], hex[65];
    node_hex32(pc->pk, hex);
    snprintf(line, sizeof line, "%s %llu %u %llu %u\n", hex, (unsigned long long)c.era, c.slot,
             (unsigned long long)c.time_s, passed);
    node_log_line(d->state, "challenges.log", line);
    d->pend[k] = d->pend[--d->npend];
}

static int pending_in(const aud *d, uint64_t era)
{
    for (uint32_t k = 0; k < d->npend; k++)
        if (d->pend[k].era == era) return 1;
    return 0;
}

static void challenge_poll(aud *d)
{
    for (;;) {
        natsMsg *m = NULL;
        natsStatus st = natsSubscription_NextMsg(&m, d->isub, 1);
        if (st != NATS_OK && st != NATS_NO_RESPONDERS) break;
        if (st == NATS_OK && m) {
            const char *dot = strrchr(natsMsg_GetSubject(m), '.');
            uint64_t id;
            if (dot && !cli_u64(dot + 1, &id))
                for (uint32_t k = 0; k < d->npend; k++)
                    if (d->pend[k].id == id) { challenge_done(d, k, m); break; }
        }
        natsMsg_Destroy(m);
    }
    uint64_t now_ms = (uint64_t)(node_wall() * 1000);
    for (uint32_t k = 0; k < d->npend;)
        if (d->pend[k].deadline_ms <= now_ms) challenge_done(d, k, NULL); /* moves the last into k */
        else k++;
}

static void run_challenges(aud *d, uint32_t timeout_ms)
{
    challenge_poll(d);
    double now = node_wall();
    if (now < (double)d->genesis) return;
    uint64_t era = ((uint64_t)now - d->genesis) / d->era_s;
    uint64_t now_ms = (uint64_t)(now * 1000);
    for (uint32_t i = 0; i < d->nprov && !node_stop; i++)
        for (uint32_t s = 0; s < d->slots; s++)
            if (slot_time_ms(d, d->provs[i].pk, era, s) <= now_ms && !chal_done(d, d->provs[i].pk, era, s))
                challenge_send(d, &d->provs[i], era, s, timeout_ms);
}

/* At the end of era e: one signed audit report per known provider. */
static void publish_reports(aud *d, uint64_t era)
{
    uint64_t end = d->genesis + (era + 1) * d->era_s;
    for (uint32_t i = 0; i < d->nprov; i++) {
        gpurent_audit_report r;
        gpurent_audit_report_init(&r);
        memcpy(r.provider_key, d->provs[i].pk, 32);
        memcpy(r.auditor_key, d->pk, 32);
        r.time_s = end - 1;
        r.gpu_report = d->provs[i].report_ok ? GPURENT_CHECK_PASSED : GPURENT_CHECK_FAILED;
        r.integrity = GPURENT_CHECK_PASSED; /* not modelled by the fake machines (docs/net.md) */
        r.security = GPURENT_CHECK_PASSED;
        memcpy(r.gpu_report_digest, d->provs[i].report_digest, 32);
        for (uint32_t k = 0; k < d->nchal; k++) {
            const achal *c = &d->chal[k];
            if (c->era != era || memcmp(c->pk, d->provs[i].pk, 32)) continue;
            /* A challenge dated past the era's last second counts at that second. */
            uint64_t at = c->time_s <= r.time_s ? c->time_s : r.time_s;
            int dup = 0;
            for (uint32_t x = 0; x < r.challenge_count && !dup; x++)
                if (r.challenges[x].time_s == at) {
                    dup = 1;
                    r.challenges[x].passed &= c->passed; /* two in one second: both must pass */
                }
            if (!dup) gpurent_audit_report_add_challenge(&r, at, GPURENT_CHALLENGE_GPU, c->passed);
        }
        gpurent_buf b = {0};
        int erc = gpurent_audit_report_encode(&r, &b);
        if (erc)
            fprintf(stderr, "auditor: audit report of era %llu: %s: %s\n", (unsigned long long)era,
                    gpurent_status_name(erc), gpurent_last_error_message());
        else {
            uint8_t nn[32], in[40];
            memcpy(in, d->provs[i].pk, 32);
            for (int x = 0; x < 8; x++) in[32 + x] = (uint8_t)(era >> (8 * x));
            node_hash(nn, "gpurent-audit-nonce", d->pk, 32, in, sizeof in);
            if (sign_publish(d->net, d->key, GPURENT_RECORD_AUDIT_REPORT, "audit", end - 1, end + 86400, nn,
                             d->provs[i].pk, 32, b.data, b.len, NULL))
                fprintf(stderr, "auditor: publishing an audit report failed\n");
        }
        gpurent_buf_free(&b);
        gpurent_audit_report_clear(&r);
    }
    /* Challenges of older eras are reported: forget them. */
    uint32_t k = 0;
    for (uint32_t x = 0; x < d->nchal; x++)
        if (d->chal[x].era > era) d->chal[k++] = d->chal[x];
    d->nchal = k;
}

static const cli_cmd aud_cmd = {
    "node auditor",
    "usage: gpurent node auditor --server URLS --key KEYFILE --trust TRUST.json --state DIR --genesis T\n"
    "                            [--era-s S] [--audit-seed HEX64] [--slots N] [--tier-quorum K]\n"
    "                            [--challenge-timeout-ms MS] [--duration S] [--stream NAME]\n",
    "Challenge every provider N times per era (default 2) at moments drawn from the auditors' shared\n"
    "secret seed, over core-NATS request/reply; at each era's end publish one signed audit report per\n"
    "provider; feed the tier engine from the audit reports in the stream; propose the era cut half an\n"
    "era later (the server keeps the first); at each era cut evaluate the era and publish a signed\n"
    "tier certificate per provider (matchmakers count K identical ones). Eras start at genesis T and\n"
    "last S seconds (default 5). State (tier engine, trust store, challenges) lives in DIR.\n",
    (const cli_optdef[]){NODE_NET_OPTS, {"--state", OPT_STR, 0, 0, 0}, {"--genesis", OPT_U64, 0, 0, 1ull << 40},
                         {"--era-s", OPT_U64, 0, 2, 86400}, {"--audit-seed", OPT_HEX32, 0, 0, 0},
                         {"--slots", OPT_U64, 0, 0, MAX_CHAL}, {"--tier-quorum", OPT_U64, 0, 1, 16},
                         {"--challenge-timeout-ms", OPT_U64, 0, 10, 60000}, {"--duration", OPT_U64, 0, 1, 86400},
                         {NULL, OPT_FLAG, 0, 0, 0}},
    0, 0, NULL};

static json_t *aud_stats(const aud *d)
{
    json_t *j = json_object();
    json_object_set_new(j, "next_era", json_integer((json_int_t)gpurent_tier_next_era(d->eng)));
    json_object_set_new(j, "providers", json_integer(d->nprov));
    json_object_set_new(j, "certs", json_integer((json_int_t)d->certs));
    json_object_set_new(j, "late_reports", json_integer((json_int_t)d->late));
    json_object_set_new(j, "challenges", json_integer((json_int_t)d->challenges_sent));
    json_object_set_new(j, "passed", json_integer((json_int_t)d->challenges_passed));
    return j;
}

int node_auditor(int argc, char **argv)
{
    cli_args a;
    int prc = cli_parse(&aud_cmd, argc, argv, &a);
    if (prc) return prc < 0 ? 0 : prc;
    const char *state = cli_opt(&a, "--state");
    if (!state) return cli_usage_error(&a, "--state DIR is required");
    if (!cli_opt(&a, "--genesis")) return cli_usage_error(&a, "--genesis T is required (the same for every auditor)");
    if (!cli_opt(&a, "--key")) return cli_usage_error(&a, "--key KEYFILE is required");
    if (!cli_opt(&a, "--trust")) return cli_usage_error(&a, "--trust TRUST.json is required");
    if (mkdir(state, 0700) && errno != EEXIST) return cli_fail("node", EXIT_IO, "%s: %s", state, strerror(errno));
    aud d;
    memset(&d, 0, sizeof d);
    d.state = state;
    d.genesis = cli_opt_u64(&a, "--genesis", 0);
    d.era_s = cli_opt_u64(&a, "--era-s", 5);
    d.slots = (uint32_t)cli_opt_u64(&a, "--slots", 2);
    cli_opt_hex32(&a, "--audit-seed", d.seed);
    gpurent_key *key = NULL;
    node_net n;
    memset(&n, 0, sizeof n);
    int rc = cli_load_key(&a, &key);
    if (rc) return rc;
    d.key = key;
    gpurent_key_public(key, d.pk);
    d.provs = calloc(MAX_PROVIDERS, sizeof *d.provs);
    gpurent_tier_options to = GPURENT_TIER_OPTIONS_INIT;
    to.genesis_s = d.genesis;
    to.era_s = d.era_s;
    to.quorum_auditors = (uint32_t)cli_opt_u64(&a, "--tier-quorum", 3);
    if (!d.provs || (rc = gpurent_tier_engine_new(&d.eng, &to))) {
        rc = cli_fail_status("node auditor", rc ? rc : GPURENT_E_NOMEM, EXIT_FAILED);
        goto out;
    }
    if ((rc = cli_load_trust("node auditor", cli_opt(&a, "--trust"), &d.trust))) goto out;
    aud_load(&d, cli_opt(&a, "--trust"));
    if ((rc = node_connect(&n, &a, "node auditor"))) goto out;
    d.net = &n;
    if (node_subscribe(&n, d.last_seq + 1)) { rc = cli_fail("node auditor", EXIT_FAILED, "subscribe failed"); goto out; }
    {
        /* The reply subjects of our challenges: <random inbox>.<id>. */
        uint8_t rnd[16];
        char rh[33], isubj[112];
        randombytes_buf(rnd, sizeof rnd);
        sodium_bin2hex(rh, sizeof rh, rnd, sizeof rnd);
        snprintf(d.inbox, sizeof d.inbox, "_INBOX.gpurent-audit.%s", rh);
        snprintf(isubj, sizeof isubj, "%s.*", d.inbox);
        d.pend = calloc(MAX_PENDING, sizeof *d.pend);
        if (!d.pend || natsConnection_SubscribeSync(&d.isub, n.nc, isubj) != NATS_OK) {
            rc = cli_fail("node auditor", EXIT_FAILED, "subscribe %s failed", isubj);
            goto out;
        }
    }
    node_signals();
    double end = cli_opt(&a, "--duration") ? node_wall() + (double)cli_opt_u64(&a, "--duration", 0) : 0;
    uint32_t tmo = (uint32_t)cli_opt_u64(&a, "--challenge-timeout-ms", 1000);
    uint64_t seen = d.last_seq, cut_proposed = 0, fallback = 0;
    double proposed_at = 0;
    /* Eras already over when we start are reported now (a restart within
     * the era cut's grace loses nothing); older ones are closed. */
    double now = node_wall();
    d.reported_era = now > (double)d.genesis ? ((uint64_t)now - d.genesis) / d.era_s : 0;
    if (d.reported_era > 0) d.reported_era--;
    if (d.reported_era < gpurent_tier_next_era(d.eng)) d.reported_era = gpurent_tier_next_era(d.eng);
    double last_stats = 0, caught_up_at = 0;
    while (!node_stop && (!end || node_wall() < end)) {
        node_msg m;
        int got = node_next(&n, 50, &m);
        if (got == 1) {
            if (m.seq > seen) {
                seen = m.seq;
                aud_apply(&d, &m);
            }
            node_msg_free(&m);
            continue; /* drain what is there before acting on the clock */
        }
        if (!caught_up_at) caught_up_at = node_wall();
        run_challenges(&d, tmo);
        now = node_wall();
        uint64_t cur = now > (double)d.genesis ? ((uint64_t)now - d.genesis) / d.era_s : 0;
        /* An era is reported once its last challenges are decided (answered or timed out). */
        while (d.reported_era < cur && !pending_in(&d, d.reported_era)) publish_reports(&d, d.reported_era++);
        /* Half an era after era e ended, propose its cut. */
        double half = (double)d.era_s / 2;
        if (now >= (double)d.genesis + half) {
            uint64_t e = (uint64_t)((now - half - (double)d.genesis) / (double)d.era_s); /* eras fully reported */
            node_cut c = {"era", e - 1, d.genesis + e * d.era_s};
            if (e >= 1 && e - 1 >= gpurent_tier_next_era(d.eng) && e - 1 >= cut_proposed && e - 1 < d.reported_era) {
                if (node_cut_publish(&n, key, "gpurent.era", &c, 0, NULL) == 0) {
                    cut_proposed = e;
                    proposed_at = now;
                }
            } else if (e >= 1 && e == cut_proposed && e - 1 >= gpurent_tier_next_era(d.eng) && fallback != e &&
                       now > proposed_at + 1.0) {
                /* No valid era cut a second after ours: the shared id may be
                 * taken by something refused. Our own id then. */
                if (node_cut_publish(&n, key, "gpurent.era", &c, 1, NULL) == 0) fallback = e;
            }
        }
        if (node_wall() - last_stats > 0.5) {
            node_write_stats(&n, state, seen, aud_stats(&d));
            last_stats = node_wall();
        }
    }
    node_write_stats(&n, state, seen, aud_stats(&d));
    rc = 0;
out:
    if (d.isub) {
        natsSubscription_Unsubscribe(d.isub);
        natsSubscription_Destroy(d.isub);
    }
    free(d.pend);
    gpurent_tier_engine_free(d.eng);
    gpurent_trust_free(d.trust);
    free(d.provs);
    free(d.chal);
    gpurent_key_free(key);
    node_close_then_exit_code(&n, rc);
    return rc;
}
