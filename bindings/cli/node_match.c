/* gpurent node matchmaker and gpurent request submit: batches cut at a
 * stream sequence every matchmaker agrees on, receipts signed by each
 * matchmaker, quorum receipts collected by requesters (docs/net.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "node.h"

#define MAX_VOTES 4096
#define MAX_VOTERS 16

/* k identical certificate statements from distinct auditors set a
 * provider's tier in the market. */
typedef struct cert_vote {
    uint8_t digest[32]; /* of the certificate payload */
    uint8_t provider[32];
    uint32_t tier, score_ppm;
    uint32_t n;
    uint8_t voters[MAX_VOTERS][32];
} cert_vote;

typedef struct mm {
    node_net *net;
    gpurent_trust *trust;
    gpurent_market *market;
    const gpurent_key *key; /* NULL: a passive replica (requester explanations, tests) */
    char market_name[32];
    char scope[NODE_SCOPE_MAX];
    uint8_t base_seed[32];
    uint32_t cert_quorum;
    uint64_t genesis, epoch_s; /* the cut n closes at genesis + n x epoch_s */
    uint64_t last_epoch; /* last batch cut applied (0 = none yet; epochs start at 1) */
    uint64_t last_seq;
    uint64_t batches, matched, offers, requests;
    cert_vote *votes;
    uint32_t nvotes;
    const char *state;
    uint64_t stop_at_seq; /* passive replay: stop after this cut */
    struct mm_report { uint8_t pk[32], digest[32]; } *reports; /* each provider's last verified GPU report */
    uint32_t nreports, capreports;
    gpurent_match_receipt last;  /* the last batch's receipt */
    uint8_t last_digest[32];
} mm;

static void mm_free(mm *m)
{
    gpurent_market_free(m->market);
    gpurent_trust_free(m->trust);
    gpurent_match_receipt_clear(&m->last);
    free(m->votes);
    free(m->reports);
}

static struct mm_report *mm_report_of(mm *m, const uint8_t pk[32], int add)
{
    for (uint32_t i = 0; i < m->nreports; i++)
        if (!memcmp(m->reports[i].pk, pk, 32)) return &m->reports[i];
    if (!add) return NULL;
    if (m->nreports == m->capreports) {
        uint32_t cap = m->capreports ? 2 * m->capreports : 64;
        struct mm_report *p = realloc(m->reports, cap * sizeof *p);
        if (!p) return NULL;
        m->reports = p;
        m->capreports = cap;
    }
    struct mm_report *r = &m->reports[m->nreports++];
    memcpy(r->pk, pk, 32);
    memset(r->digest, 0, 32);
    return r;
}

static void mm_scope(mm *m, const char *market)
{
    snprintf(m->market_name, sizeof m->market_name, "%s", market);
    snprintf(m->scope, sizeof m->scope, "batch:%s", market);
}

/* ---- state: market + trust snapshots and meta.json, all at one sequence ---- */

static int mm_save(mm *m)
{
    if (!m->state) return 0;
    char p[4096];
    int rc = 0;
    if (node_path(p, sizeof p, m->state, "market.snap") ||
        (rc = gpurent_market_save_file(m->market, m->last_seq, p)))
        return rc ? rc : GPURENT_E_IO;
    if (node_path(p, sizeof p, m->state, "trust.snap") || (rc = gpurent_trust_save_file(m->trust, m->last_seq, p)))
        return rc ? rc : GPURENT_E_IO;
    json_t *j = json_object(), *vs = json_array();
    json_object_set_new(j, "seq", json_integer((json_int_t)m->last_seq));
    json_object_set_new(j, "epoch", json_integer((json_int_t)m->last_epoch));
    json_object_set_new(j, "batches", json_integer((json_int_t)m->batches));
    for (uint32_t i = 0; i < m->nvotes; i++) {
        const cert_vote *v = &m->votes[i];
        json_t *o = json_object(), *who = json_array();
        char *h = cli_hex(v->digest, 32), *pk = cli_hex(v->provider, 32);
        json_object_set_new(o, "digest", json_string(h));
        json_object_set_new(o, "provider", json_string(pk));
        free(h);
        free(pk);
        json_object_set_new(o, "tier", json_integer(v->tier));
        json_object_set_new(o, "score", json_integer(v->score_ppm));
        for (uint32_t k = 0; k < v->n; k++) {
            char *x = cli_hex(v->voters[k], 32);
            json_array_append_new(who, json_string(x));
            free(x);
        }
        json_object_set_new(o, "voters", who);
        json_array_append_new(vs, o);
    }
    json_object_set_new(j, "votes", vs);
    json_t *rs = json_object();
    for (uint32_t i = 0; i < m->nreports; i++) {
        char *k = cli_hex(m->reports[i].pk, 32), *d = cli_hex(m->reports[i].digest, 32);
        if (k && d) json_object_set_new(rs, k, json_string(d));
        free(k);
        free(d);
    }
    json_object_set_new(j, "reports", rs);
    char *s = json_dumps(j, JSON_SORT_KEYS);
    json_decref(j);
    rc = node_path(p, sizeof p, m->state, "meta.json") || !s || cli_write_file(p, (const uint8_t *)s, strlen(s));
    free(s);
    return rc ? GPURENT_E_IO : 0;
}

static int json_u64(json_t *o, const char *k, uint64_t *v)
{
    json_t *x = json_object_get(o, k);
    if (!json_is_integer(x) || json_integer_value(x) < 0) return -1;
    *v = (uint64_t)json_integer_value(x);
    return 0;
}

static int load_votes(mm *m, json_t *vs)
{
    size_t i;
    json_t *o;
    json_array_foreach(vs, i, o) {
        if (m->nvotes >= MAX_VOTES) return -1;
        cert_vote *v = &m->votes[m->nvotes];
        memset(v, 0, sizeof *v);
        uint64_t t, s;
        json_t *who = json_object_get(o, "voters"), *w;
        size_t k;
        if (!json_string_value(json_object_get(o, "digest")) || !json_string_value(json_object_get(o, "provider")) ||
            cli_unhex(json_string_value(json_object_get(o, "digest")), v->digest, 32) ||
            cli_unhex(json_string_value(json_object_get(o, "provider")), v->provider, 32) ||
            json_u64(o, "tier", &t) || json_u64(o, "score", &s) || !json_is_array(who) ||
            json_array_size(who) > MAX_VOTERS)
            return -1;
        v->tier = (uint32_t)t;
        v->score_ppm = (uint32_t)s;
        json_array_foreach(who, k, w) {
            if (!json_string_value(w) || cli_unhex(json_string_value(w), v->voters[v->n++], 32)) return -1;
        }
        m->nvotes++;
    }
    return 0;
}

/* Load the three files; they must name the same sequence, else start over
 * from the beginning of the stream (always correct, only slower). */
static void mm_load(mm *m, const char *trust_path)
{
    if (!m->state) return;
    char p[4096];
    uint64_t s1 = 0, s2 = 0, s3 = 0, ep = 0, nb = 0;
    gpurent_market *mk = NULL;
    gpurent_trust *tr = NULL;
    json_t *j = NULL;
    node_path(p, sizeof p, m->state, "meta.json");
    struct stat st;
    if (stat(p, &st)) { /* first run */
        fprintf(stderr, "matchmaker: no state in %s yet, reading the stream from the start\n", m->state);
        return;
    }
    int code = 0;
    j = cli_load_json("node", p, &code);
    int ok = j && !json_u64(j, "seq", &s3) && !json_u64(j, "epoch", &ep) && !json_u64(j, "batches", &nb);
    node_path(p, sizeof p, m->state, "market.snap");
    ok = ok && gpurent_market_load_file(&mk, p, NULL, &s1) == GPURENT_OK;
    node_path(p, sizeof p, m->state, "trust.snap");
    ok = ok && gpurent_trust_load_file(&tr, p, NULL, &s2) == GPURENT_OK;
    ok = ok && s1 == s2 && s2 == s3 && gpurent_trust_adopt_replay(m->trust, tr) == GPURENT_OK;
    m->nvotes = 0;
    ok = ok && load_votes(m, json_object_get(j, "votes")) == 0;
    json_t *rs = ok ? json_object_get(j, "reports") : NULL, *rv;
    const char *rk;
    if (ok && !json_is_object(rs)) ok = 0;
    m->nreports = 0;
    if (ok)
        json_object_foreach(rs, rk, rv) {
            uint8_t pk[32];
            struct mm_report *r;
            if (!json_string_value(rv) || cli_unhex(rk, pk, 32) || !(r = mm_report_of(m, pk, 1)) ||
                cli_unhex(json_string_value(rv), r->digest, 32)) { ok = 0; break; }
        }
    if (ok) {
        gpurent_market_free(m->market);
        m->market = mk;
        mk = NULL;
        m->last_seq = s1;
        m->last_epoch = ep;
        m->batches = nb;
        fprintf(stderr, "matchmaker: resumed from %s at stream sequence %llu (epoch %llu)\n", m->state,
                (unsigned long long)s1, (unsigned long long)ep);
    } else {
        fprintf(stderr, "matchmaker: state in %s unusable, replaying the stream from the start\n", m->state);
        m->nvotes = 0;
        m->nreports = 0;
        gpurent_trust *fresh = NULL;
        if (!cli_load_trust("node", trust_path, &fresh)) { gpurent_trust_free(m->trust); m->trust = fresh; }
    }
    gpurent_market_free(mk);
    gpurent_trust_free(tr);
    json_decref(j);
}

/* ---- the inputs ---- */

static int subject_is(const char *subject, const char *prefix)
{
    return !strncmp(subject, prefix, strlen(prefix));
}

static void on_offer(mm *m, const node_msg *msg)
{
    gpurent_verified *v;
    if (node_verify(m->net, m->trust, msg, GPURENT_RECORD_OFFER, GPURENT_ROLE_PROVIDER, 1, 1, &v)) return;
    size_t len;
    const uint8_t *p = gpurent_verified_payload_data(v, &len);
    gpurent_offer o;
    gpurent_offer_init(&o);
    gpurent_envelope h;
    gpurent_verified_header(v, &h);
    if (gpurent_offer_decode(p, len, &o) || memcmp(o.provider_key, h.issuer, 32) ||
        gpurent_market_put_offer(m->market, &o))
        m->net->drops[DROP_REFUSED]++; /* an older seq, or an offer for another provider */
    else {
        m->offers++;
        /* Nodes that point at the provider's verified GPU report are verified. */
        const struct mm_report *r = mm_report_of(m, o.provider_key, 0);
        for (uint32_t i = 0; r && i < o.node_count; i++)
            if (!memcmp(o.nodes[i].report_digest, r->digest, 32))
                (void)gpurent_market_set_verified(m->market, o.provider_key, o.nodes[i].node_id, 1);
    }
    gpurent_offer_clear(&o);
    gpurent_verified_free(v);
}

static void on_request(mm *m, const node_msg *msg)
{
    gpurent_verified *v;
    if (node_verify(m->net, m->trust, msg, GPURENT_RECORD_REQUEST, GPURENT_ROLE_REQUESTER, 1, 1, &v)) return;
    size_t len;
    const uint8_t *p = gpurent_verified_payload_data(v, &len);
    gpurent_request r;
    if (gpurent_request_decode(p, len, &r) || gpurent_market_add_request(m->market, &r))
        m->net->drops[DROP_REFUSED]++; /* a request id already pending or leased */
    else
        m->requests++;
    gpurent_verified_free(v);
}

static void on_cert(mm *m, const node_msg *msg)
{
    gpurent_verified *v;
    if (node_verify(m->net, m->trust, msg, GPURENT_RECORD_TIER_CERT, GPURENT_ROLE_AUDITOR, 1, 1, &v)) return;
    size_t len;
    const uint8_t *p = gpurent_verified_payload_data(v, &len);
    gpurent_tier_cert c;
    gpurent_envelope h;
    gpurent_verified_header(v, &h);
    uint8_t d[32];
    if (gpurent_tier_cert_decode(p, len, &c)) { m->net->drops[DROP_REFUSED]++; gpurent_verified_free(v); return; }
    crypto_generichash(d, 32, p, len, NULL, 0);
    gpurent_verified_free(v);
    cert_vote *cv = NULL;
    for (uint32_t i = 0; i < m->nvotes && !cv; i++)
        if (!memcmp(m->votes[i].digest, d, 32)) cv = &m->votes[i];
    if (!cv) {
        if (m->nvotes == MAX_VOTES) memmove(m->votes, m->votes + 1, --m->nvotes * sizeof *m->votes); /* oldest out */
        cv = &m->votes[m->nvotes++];
        memset(cv, 0, sizeof *cv);
        memcpy(cv->digest, d, 32);
        memcpy(cv->provider, c.provider_key, 32);
        cv->tier = c.tier;
        cv->score_ppm = c.score_ppm;
    }
    for (uint32_t k = 0; k < cv->n; k++)
        if (!memcmp(cv->voters[k], h.issuer, 32)) return; /* counted already */
    if (cv->n < MAX_VOTERS) memcpy(cv->voters[cv->n++], h.issuer, 32);
    if (cv->n == m->cert_quorum) {
        /* k auditors computed the same bytes: the tier stands. A provider
         * without an offer yet is unknown to the market; its next
         * certificate applies then. */
        (void)gpurent_market_set_trust(m->market, cv->provider, cv->tier, cv->score_ppm);
    }
}

/* The receipt's envelope subject names the cut: "batch:<market>/<epoch>/<seq>". */
static void cut_subject(const mm *m, uint64_t epoch, uint64_t seq, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%llu/%llu", m->scope, (unsigned long long)epoch, (unsigned long long)seq);
}

static int mm_batch(mm *m, const node_cut *c, uint64_t cut_seq)
{
    /* The batch's seed binds the cut: a matchmaker that cut elsewhere signs other bytes. */
    uint8_t seed[32];
    char subj[GPURENT_SUBJECT_MAX + 1];
    cut_subject(m, c->number, cut_seq, subj, sizeof subj);
    node_hash(seed, "gpurent-batch-seed", m->base_seed, 32, subj, strlen(subj));
    int rc = gpurent_market_set_seed(m->market, seed);
    gpurent_match_receipt_clear(&m->last);
    gpurent_match_receipt_init(&m->last);
    if (!rc) rc = gpurent_market_match(m->market, c->boundary_s, NULL, &m->last);
    gpurent_buf b = {0};
    if (!rc) rc = gpurent_match_receipt_encode(&m->last, &b);
    if (rc) return rc;
    crypto_generichash(m->last_digest, 32, b.data, b.len, NULL, 0);
    if (m->key) {
        gpurent_envelope h;
        gpurent_envelope_init(&h);
        h.statement = GPURENT_RECORD_MATCH_RECEIPT;
        h.issued_at = c->boundary_s;
        h.expires_at = c->boundary_s + 86400;
        /* A deterministic nonce: after a restart the same receipt is the same
         * bytes, which the server drops as a duplicate. */
        uint8_t nn[32];
        node_hash(nn, "gpurent-receipt-nonce", m->last_digest, 32, subj, strlen(subj));
        memcpy(h.nonce, nn, sizeof h.nonce);
        gpurent_envelope_set_subject(&h, (const uint8_t *)subj, strlen(subj));
        gpurent_buf env = {0};
        rc = gpurent_envelope_sign(m->key, &h, b.data, b.len, &env);
        uint8_t pk[32];
        char hex[65], nsubj[128];
        gpurent_key_public(m->key, pk);
        node_hex32(pk, hex);
        snprintf(nsubj, sizeof nsubj, "gpurent.receipt.%s", hex);
        if (!rc) rc = node_publish(m->net, nsubj, env.data, env.len, NULL, NULL, NULL) == NATS_OK ? 0 : GPURENT_E_IO;
        gpurent_buf_free(&env);
        char line[256], dh[65];
        node_hex32(m->last_digest, dh);
        snprintf(line, sizeof line, "%s %s %u\n", subj, dh, m->last.assignment_count);
        node_log_line(m->state, "receipts.log", line);
    }
    gpurent_buf_free(&b);
    if (!rc) rc = gpurent_market_apply(m->market, &m->last);
    m->batches++;
    m->matched += m->last.assignment_count;
    return rc;
}

static void on_cut(mm *m, const node_msg *msg)
{
    gpurent_verified *v;
    if (node_verify(m->net, m->trust, msg, NODE_STATEMENT_CUT, GPURENT_ROLE_MATCHER, 1, 0, &v)) return;
    size_t len;
    const uint8_t *p = gpurent_verified_payload_data(v, &len);
    node_cut c;
    int bad = node_cut_decode(p, len, &c) || strcmp(c.scope, m->scope);
    gpurent_verified_free(v);
    /* One cut per epoch, in increasing order: a late or repeated cut changes
     * nothing. A cut must close its own epoch, and not one in the future of
     * the stream's clock: a cut numbered far ahead would otherwise make every
     * later cut look stale and stop the market. */
    if (bad || c.number <= m->last_epoch || c.number > (UINT64_MAX - m->genesis) / m->epoch_s ||
        c.boundary_s != m->genesis + c.number * m->epoch_s || c.boundary_s > msg->time + 60) {
        m->net->drops[DROP_REFUSED]++;
        return;
    }
    int rc = mm_batch(m, &c, msg->seq);
    if (rc) fprintf(stderr, "matchmaker: batch %llu: %s: %s\n", (unsigned long long)c.number, gpurent_status_name(rc),
                    gpurent_last_error_message());
    m->last_epoch = c.number;
    m->last_seq = msg->seq;
    if ((rc = mm_save(m))) fprintf(stderr, "matchmaker: saving state: %s\n", gpurent_status_name(rc));
    if (m->stop_at_seq && msg->seq >= m->stop_at_seq) node_stop = 1;
}

static void mm_apply(mm *m, const node_msg *msg)
{
    char cutsubj[96];
    snprintf(cutsubj, sizeof cutsubj, "gpurent.cut.%s", m->market_name);
    gpurent_verified *v = NULL;
    if (subject_is(msg->subject, "gpurent.offer.")) on_offer(m, msg);
    else if (subject_is(msg->subject, "gpurent.request.")) on_request(m, msg);
    else if (subject_is(msg->subject, "gpurent.cert.")) on_cert(m, msg);
    else if (!strcmp(msg->subject, cutsubj)) on_cut(m, msg);
    else if (subject_is(msg->subject, "gpurent.report.")) {
        if (!node_verify(m->net, m->trust, msg, GPURENT_RECORD_GPU_REPORT, GPURENT_ROLE_PROVIDER, 1, 1, &v)) {
            gpurent_envelope h;
            gpurent_gpu_report *r = malloc(sizeof *r);
            size_t len;
            const uint8_t *p = gpurent_verified_payload_data(v, &len);
            struct mm_report *mr;
            gpurent_verified_header(v, &h);
            /* A report that lists devices is the one offers may point at. */
            if (r && gpurent_gpu_report_decode(p, len, r) == GPURENT_OK && r->device_count > 0 &&
                (mr = mm_report_of(m, h.issuer, 1)))
                gpurent_verified_digest(v, mr->digest);
            free(r);
            gpurent_verified_free(v);
        }
    }
    /* receipts, audits, era cuts, other markets' cuts: not inputs of this market. */
}

/* ---- common setup ---- */

static int mm_init(mm *m, node_net *n, const cli_args *a, const char *cmd)
{
    memset(m, 0, sizeof *m);
    m->net = n;
    gpurent_match_receipt_init(&m->last);
    const char *tp = cli_opt(a, "--trust");
    if (!tp) return cli_usage_error(a, "--trust TRUST.json is required");
    int rc = cli_load_trust(cmd, tp, &m->trust);
    if (rc) return rc;
    mm_scope(m, cli_opt(a, "--market") ? cli_opt(a, "--market") : "main");
    if (strpbrk(m->market_name, ".*> /") || !*m->market_name)
        return cli_usage_error(a, "--market: a name without '.', '*', '>', '/' or spaces");
    cli_opt_hex32(a, "--seed", m->base_seed);
    m->cert_quorum = (uint32_t)cli_opt_u64(a, "--cert-quorum", 3);
    m->genesis = cli_opt_u64(a, "--genesis", 0);
    m->epoch_s = cli_opt_u64(a, "--epoch-s", 2);
    m->votes = calloc(MAX_VOTES, sizeof *m->votes);
    if (!m->votes) return cli_fail(cmd, EXIT_FAILED, "out of memory");
    if ((rc = gpurent_market_new(&m->market, NULL, m->base_seed))) return cli_fail_status(cmd, rc, EXIT_FAILED);
    return 0;
}

static json_t *mm_stats(const mm *m)
{
    json_t *j = json_object();
    json_object_set_new(j, "epoch", json_integer((json_int_t)m->last_epoch));
    json_object_set_new(j, "batches", json_integer((json_int_t)m->batches));
    json_object_set_new(j, "matched", json_integer((json_int_t)m->matched));
    json_object_set_new(j, "offers", json_integer((json_int_t)m->offers));
    json_object_set_new(j, "requests", json_integer((json_int_t)m->requests));
    return j;
}

/* ---- gpurent node matchmaker ---- */

#define MM_OPTS                                                                                                   \
    NODE_NET_OPTS, {"--state", OPT_STR, 0, 0, 0}, {"--seed", OPT_HEX32, 0, 0, 0},                                \
        {"--cert-quorum", OPT_U64, 0, 1, 16}, {"--epoch-s", OPT_U64, 0, 1, 86400},                               \
        {"--genesis", OPT_U64, 0, 0, 1ull << 40}, {"--duration", OPT_U64, 0, 1, 86400},                          \
        {"--skip-seq", OPT_U64, 1, 1, UINT64_MAX}

static const cli_cmd mm_cmd = {
    "node matchmaker",
    "usage: gpurent node matchmaker --server URLS --key KEYFILE --trust TRUST.json --state DIR\n"
    "                               [--market NAME] [--seed HEX64] [--epoch-s S] [--genesis T]\n"
    "                               [--cert-quorum K] [--duration S] [--stream NAME]\n",
    "Consume offers, requests and tier certificates from the stream; when the clock passes\n"
    "genesis + n x epoch-s publish the batch cut n (the server keeps the first one; a cut whose\n"
    "boundary is not that, or lies ahead of the stream's clock, is refused); at each cut read from\n"
    "the stream, match the batch (everything before the cut), sign the\n"
    "receipt and publish it. State (market, trust store, votes) is saved at each cut in DIR, and a\n"
    "restart resumes after the cut it names. --skip-seq N (tests: a matchmaker that saw another\n"
    "stream prefix) ignores stream message N.\n",
    (const cli_optdef[]){MM_OPTS, {NULL, OPT_FLAG, 0, 0, 0}}, 0, 0, NULL};

static int skipped(const cli_args *a, uint64_t seq)
{
    for (int i = 0; i < a->nkv; i++) {
        uint64_t v;
        if (!strcmp(a->kv[i].def->name, "--skip-seq") && !cli_u64(a->kv[i].value, &v) && v == seq) return 1;
    }
    return 0;
}

int node_matchmaker(int argc, char **argv)
{
    cli_args a;
    int prc = cli_parse(&mm_cmd, argc, argv, &a);
    if (prc) return prc < 0 ? 0 : prc;
    const char *state = cli_opt(&a, "--state");
    if (!state) return cli_usage_error(&a, "--state DIR is required");
    if (mkdir(state, 0700) && errno != EEXIST) return cli_fail("node", EXIT_IO, "%s: %s", state, strerror(errno));
    gpurent_key *key = NULL;
    if (!cli_opt(&a, "--key")) return cli_usage_error(&a, "--key KEYFILE is required");
    int rc = cli_load_key(&a, &key);
    if (rc) return rc;
    node_net n;
    mm m;
    memset(&m, 0, sizeof m); /* mm_free is safe on it whatever fails below */
    if ((rc = node_connect(&n, &a, "node matchmaker")) || (rc = mm_init(&m, &n, &a, "node matchmaker"))) {
        mm_free(&m);
        gpurent_key_free(key);
        node_close(&n);
        return rc;
    }
    m.key = key;
    m.state = state;
    mm_load(&m, cli_opt(&a, "--trust"));
    node_signals();
    uint64_t epoch_s = m.epoch_s, genesis = m.genesis;
    double end = cli_opt(&a, "--duration") ? node_wall() + (double)cli_opt_u64(&a, "--duration", 0) : 0;
    if ((rc = node_subscribe(&n, m.last_seq + 1))) {
        rc = cli_fail("node matchmaker", EXIT_FAILED, "subscribe: %s", natsStatus_GetText(rc));
        goto out;
    }
    uint64_t seen = m.last_seq, published_epoch = m.last_epoch, fallback_sent = 0;
    double published_at = 0;
    double last_stats = 0;
    char cutsubj[96];
    snprintf(cutsubj, sizeof cutsubj, "gpurent.cut.%s", m.market_name);
    fprintf(stderr, "matchmaker: market %s, epochs of %llu s, from sequence %llu\n", m.market_name,
            (unsigned long long)epoch_s, (unsigned long long)(m.last_seq + 1));
    while (!node_stop && (!end || node_wall() < end)) {
        /* The clock passed the end of epoch e: propose its cut. */
        double now = node_wall();
        if (now >= (double)genesis + (double)epoch_s) {
            uint64_t e = ((uint64_t)now - genesis) / epoch_s; /* epoch e ended at genesis + e*epoch_s */
            node_cut c = {{0}, e, genesis + e * epoch_s};
            snprintf(c.scope, sizeof c.scope, "%s", m.scope);
            if (e > published_epoch && e > m.last_epoch) {
                if (node_cut_publish(&n, key, cutsubj, &c, 0, NULL) == 0) {
                    published_epoch = e;
                    published_at = now;
                }
            } else if (e == published_epoch && e > m.last_epoch && fallback_sent != e && now > published_at + 1.0) {
                /* A second after our proposal still no valid cut n: the shared
                 * id may have been taken by something we refuse. Publish under
                 * our own id (a second valid cut n, if any, is ignored by all). */
                if (node_cut_publish(&n, key, cutsubj, &c, 1, NULL) == 0) fallback_sent = e;
            }
        }
        node_msg msg;
        int got = node_next(&n, 100, &msg);
        if (got < 0) { nats_Sleep(100); continue; }
        if (got == 1) {
            if (msg.seq > seen) {
                seen = msg.seq;
                if (!skipped(&a, msg.seq)) mm_apply(&m, &msg);
            }
            node_msg_free(&msg);
        }
        if (node_wall() - last_stats > 0.5) {
            node_write_stats(&n, state, seen, mm_stats(&m));
            last_stats = node_wall();
        }
    }
    node_write_stats(&n, state, seen, mm_stats(&m));
    rc = 0;
out:
    mm_free(&m);
    gpurent_key_free(key);
    node_close_then_exit_code(&n, rc);
    return rc;
}

/* ---- gpurent request submit ---- */

static const cli_cmd req_cmd = {
    "request submit",
    "usage: gpurent request submit --server URLS --key KEYFILE --trust TRUST.json REQUEST.json\n"
    "                              [--quorum K] [--timeout S] [--market NAME] [--seed HEX64]\n"
    "                              [--cert-quorum K] [--genesis T] [--epoch-s S] [--stream NAME]\n"
    "                              [--no-explain]\n",
    "Sign the request of REQUEST.json (the JSON of `gpurent encode request`; submitted_at 0 = now)\n"
    "and publish it; wait for K (default 2) matchmakers to sign identical receipts of a batch cut\n"
    "after it (a quorum receipt), and print where it runs as JSON. When the quorum receipt does not\n"
    "place it, replay the stream up to that cut (as a matchmaker would: --seed, --cert-quorum,\n"
    "--genesis and --epoch-s as theirs) and print the explanation of the miss. Exit 0 placed, 1 not\n"
    "placed or timed out.\n",
    (const cli_optdef[]){NODE_NET_OPTS, {"--quorum", OPT_U64, 0, 1, 16}, {"--timeout", OPT_U64, 0, 1, 3600},
                         {"--seed", OPT_HEX32, 0, 0, 0}, {"--cert-quorum", OPT_U64, 0, 1, 16},
                         {"--genesis", OPT_U64, 0, 0, 1ull << 40}, {"--epoch-s", OPT_U64, 0, 1, 86400},
                         {"--no-explain", OPT_FLAG, 0, 0, 0}, {NULL, OPT_FLAG, 0, 0, 0}},
    1, 1, "REQUEST.json"};

typedef struct rvote {
    uint8_t id[32]; /* hash of (payload, subject) */
    uint32_t n;
    uint8_t who[MAX_VOTERS][32];
} rvote;

static int parse_cut_subject(const gpurent_envelope *h, const char *scope, uint64_t *epoch, uint64_t *seq)
{
    char s[GPURENT_SUBJECT_MAX + 1];
    memcpy(s, h->subject, h->subject_len);
    s[h->subject_len] = 0;
    size_t l = strlen(scope);
    if (strncmp(s, scope, l) || s[l] != '/') return -1;
    unsigned long long e, q;
    char tail;
    if (sscanf(s + l + 1, "%llu/%llu%c", &e, &q, &tail) != 2) return -1;
    *epoch = e;
    *seq = q;
    return 0;
}

static json_t *placements_json(const gpurent_match_receipt *r, uint32_t ai)
{
    json_t *arr = json_array();
    const gpurent_match_assignment *as = &r->assignments[ai];
    for (uint32_t k = 0; k < as->placement_count; k++) {
        const gpurent_match_placement *p = &r->placements[as->first_placement + k];
        json_t *o = json_object();
        char *pk = cli_hex(p->provider_key, 32);
        json_object_set_new(o, "provider", json_string(pk));
        free(pk);
        json_object_set_new(o, "node", json_string(p->node_id));
        json_object_set_new(o, "gpus", json_integer(p->gpus));
        json_object_set_new(o, "share_pct", json_integer(p->share_pct));
        json_object_set_new(o, "price_micro_per_gpu_hour", json_integer((json_int_t)p->price_micro_per_gpu_hour));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* Replay the stream up to the cut as a passive matchmaker and explain the miss. */
static void explain_miss(node_net *n, const cli_args *a, const gpurent_request *req, uint64_t cut_seq,
                         const uint8_t digest[32], json_t *out)
{
    mm m;
    if (mm_init(&m, n, a, "request submit")) { mm_free(&m); return; }
    m.stop_at_seq = cut_seq;
    node_stop = 0;
    uint64_t last = 0;
    double until = node_wall() + 30;
    /* A loaded server can fail the consumer's creation: try again rather
     * than explain the miss against an empty market. */
    int subscribed = 0;
    while (!subscribed && node_wall() < until) {
        subscribed = node_subscribe(n, 1) == NATS_OK;
        if (!subscribed) nats_Sleep(250);
    }
    while (subscribed && !node_stop && node_wall() < until) {
        node_msg msg;
        int got = node_next(n, 500, &msg);
        if (got != 1) continue;
        if (msg.seq <= cut_seq) mm_apply(&m, &msg);
        if (msg.seq > last) last = msg.seq;
        node_msg_free(&msg);
    }
    if (last < cut_seq) { /* say so instead of explaining against part of the market */
        char why[160];
        snprintf(why, sizeof why, "no explanation: the replay of the stream stopped at sequence %llu, before the cut at %llu",
                 (unsigned long long)last, (unsigned long long)cut_seq);
        json_object_set_new(out, "explanation", json_string(why));
        json_object_set_new(out, "replayed_receipt_matches", json_false());
        mm_free(&m);
        return;
    }
    json_object_set_new(out, "replayed_receipt_matches", json_boolean(!memcmp(m.last_digest, digest, 32)));
    gpurent_match_explain ex;
    (void)gpurent_market_remove_request(m.market, req->request_id);
    gpurent_buf txt = {0};
    if (gpurent_market_explain(m.market, req, &ex) == GPURENT_OK &&
        gpurent_match_explain_text(&ex, &txt) == GPURENT_OK) {
        json_object_set_new(out, "explanation", json_stringn((const char *)txt.data, txt.len));
        gpurent_buf_free(&txt);
    }
    mm_free(&m);
}

static int build_request(const cli_args *a, uint64_t now, gpurent_request *req, gpurent_buf *bytes)
{
    int code = 0;
    json_t *j = cli_load_json("request submit", a->pos[0], &code);
    if (!j) return code;
    gpurent_buf b = {0};
    char err[600];
    int rc = cli_record_from_json("request", j, &b, err, sizeof err);
    json_decref(j);
    if (rc) return cli_fail("request submit", EXIT_INPUT, "%s", err);
    rc = gpurent_request_decode(b.data, b.len, req);
    gpurent_buf_free(&b);
    if (rc) return cli_fail_status("request submit", rc, EXIT_INPUT);
    if (!req->submitted_at) req->submitted_at = now;
    if ((rc = gpurent_request_encode(req, bytes))) return cli_fail_status("request submit", rc, EXIT_INPUT);
    return 0;
}

int cmd_request(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "submit")) {
        int help = argc >= 2 && !strcmp(argv[1], "--help");
        fprintf(help ? stdout : stderr, "%s(gpurent request submit --help for the details)\n", req_cmd.usage);
        return help ? 0 : EXIT_USAGE;
    }
    cli_args a;
    int prc = cli_parse(&req_cmd, argc - 1, argv + 1, &a);
    if (prc) return prc < 0 ? 0 : prc;
    if (!cli_opt(&a, "--key")) return cli_usage_error(&a, "--key KEYFILE is required");
    if (!cli_opt(&a, "--trust")) return cli_usage_error(&a, "--trust TRUST.json is required");
    uint32_t quorum = (uint32_t)cli_opt_u64(&a, "--quorum", 2);
    const char *market = cli_opt(&a, "--market") ? cli_opt(&a, "--market") : "main";
    char scope[NODE_SCOPE_MAX];
    snprintf(scope, sizeof scope, "batch:%s", market);
    gpurent_request req;
    gpurent_buf body = {0}, env = {0};
    uint64_t now = (uint64_t)node_wall();
    int rc = build_request(&a, now, &req, &body);
    if (rc) return rc;
    gpurent_trust *trust = NULL;
    gpurent_key *key = NULL;
    node_net n;
    memset(&n, 0, sizeof n);
    if ((rc = cli_load_trust("request submit", cli_opt(&a, "--trust"), &trust)) || (rc = cli_load_key(&a, &key)))
        goto out;
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_REQUEST;
    h.issued_at = now;
    h.expires_at = now + 3600;
    if ((rc = gpurent_envelope_sign(key, &h, body.data, body.len, &env))) {
        rc = cli_fail_status("request submit", rc, EXIT_FAILED);
        goto out;
    }
    if ((rc = node_connect(&n, &a, "request submit"))) goto out;
    uint8_t pk[32];
    char hex[65], subj[128];
    gpurent_key_public(key, pk);
    node_hex32(pk, hex);
    snprintf(subj, sizeof subj, "gpurent.request.%s", hex);
    uint64_t seq = 0;
    double t0 = node_wall();
    if (node_publish(&n, subj, env.data, env.len, NULL, &seq, NULL) != NATS_OK || node_subscribe(&n, seq + 1)) {
        rc = cli_fail("request submit", EXIT_FAILED, "publish or subscribe failed");
        goto out;
    }
    node_signals();
    double deadline = t0 + (double)cli_opt_u64(&a, "--timeout", 60);
    rvote *votes = calloc(256, sizeof *votes);
    uint32_t nv = 0, vnext = 0;
    rc = EXIT_FAILED;
    json_t *res = NULL;
    if (!votes) deadline = 0; /* out of memory: no wait, "no quorum receipt" */
    while (!node_stop && node_wall() < deadline && !res) {
        node_msg msg;
        int got = node_next(&n, 200, &msg);
        if (got != 1) continue;
        gpurent_verified *v = NULL;
        if (!subject_is(msg.subject, "gpurent.receipt.") ||
            node_verify(&n, trust, &msg, GPURENT_RECORD_MATCH_RECEIPT, GPURENT_ROLE_MATCHER, 1, 1, &v)) {
            node_msg_free(&msg);
            continue;
        }
        gpurent_envelope rh;
        gpurent_verified_header(v, &rh);
        uint64_t epoch, cut_seq;
        size_t plen;
        const uint8_t *p = gpurent_verified_payload_data(v, &plen);
        if (!parse_cut_subject(&rh, scope, &epoch, &cut_seq) && cut_seq > seq) {
            uint8_t id[32];
            node_hash(id, "gpurent-receipt-vote", p, plen, rh.subject, rh.subject_len);
            rvote *rv = NULL;
            for (uint32_t i = 0; i < nv && !rv; i++)
                if (!memcmp(votes[i].id, id, 32)) rv = &votes[i];
            if (!rv) { /* a new group; when full, the oldest makes room */
                rv = &votes[nv < 256 ? nv++ : vnext++ % 256];
                memset(rv, 0, sizeof *rv);
                memcpy(rv->id, id, 32);
            }
            int fresh = rv != NULL;
            for (uint32_t k = 0; rv && k < rv->n; k++) fresh &= !!memcmp(rv->who[k], rh.issuer, 32);
            if (fresh && rv->n < MAX_VOTERS) memcpy(rv->who[rv->n++], rh.issuer, 32);
            if (rv && rv->n >= quorum) {
                gpurent_match_receipt r;
                gpurent_match_receipt_init(&r);
                res = json_object();
                json_object_set_new(res, "request_id", json_string(req.request_id));
                json_object_set_new(res, "request_seq", json_integer((json_int_t)seq));
                json_object_set_new(res, "epoch", json_integer((json_int_t)epoch));
                json_object_set_new(res, "cut_seq", json_integer((json_int_t)cut_seq));
                json_object_set_new(res, "signers", json_integer(rv->n));
                json_object_set_new(res, "latency_ms", json_real((node_wall() - t0) * 1000.0));
                uint8_t dg[32];
                crypto_generichash(dg, 32, p, plen, NULL, 0);
                char dh[65];
                node_hex32(dg, dh);
                json_object_set_new(res, "receipt_digest", json_string(dh));
                int placed = 0;
                if (gpurent_match_receipt_decode(p, plen, &r) == GPURENT_OK)
                    for (uint32_t i = 0; i < r.assignment_count && !placed; i++)
                        if (!strcmp(r.assignments[i].request_id, req.request_id)) {
                            placed = 1;
                            json_object_set_new(res, "placements", placements_json(&r, i));
                        }
                json_object_set_new(res, "placed", json_boolean(placed));
                gpurent_match_receipt_clear(&r);
                if (placed) rc = 0;
                else if (!cli_flag(&a, "--no-explain")) {
                    gpurent_verified_free(v);
                    v = NULL;
                    node_msg_free(&msg);
                    explain_miss(&n, &a, &req, cut_seq, dg, res);
                }
            }
        }
        gpurent_verified_free(v);
        node_msg_free(&msg);
    }
    free(votes);
    if (!res) {
        res = json_object();
        json_object_set_new(res, "request_id", json_string(req.request_id));
        json_object_set_new(res, "error", json_string("no quorum receipt before the timeout"));
    }
    json_dumpf(res, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(res);
out:
    gpurent_buf_free(&body);
    gpurent_buf_free(&env);
    gpurent_key_free(key);
    gpurent_trust_free(trust);
    node_close_then_exit_code(&n, rc);
    nats_Close(); /* the client library's own threads and memory */
    return rc;
}
