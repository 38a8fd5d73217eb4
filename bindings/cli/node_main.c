/* gpurent node ROLE: dispatch, plus two tools around the stream: watch (read
 * and verify everything, summarise what each signer said) and publish (put
 * raw bytes on a subject: how tests play a forger or a replayer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node.h"

static const cli_cmd watch_cmd = {
    "node watch",
    "usage: gpurent node watch --server URLS --trust TRUST.json [--idle-ms MS] [--stream NAME]\n",
    "Read the whole stream from sequence 1 until nothing new arrives for MS milliseconds (default\n"
    "1500), verify every message as its consumer would (role by subject, the subject's key is the\n"
    "issuer, replays refused), and print JSON: counts by kind, drops by reason, cuts with their\n"
    "stream sequence, and for each batch and each (era, provider) the digest each signer signed.\n",
    (const cli_optdef[]){NODE_NET_OPTS, {"--idle-ms", OPT_U64, 0, 10, 600000}, {NULL, OPT_FLAG, 0, 0, 0}},
    0, 0, NULL};

typedef struct kind {
    const char *prefix;
    const char *name;
    uint32_t statement, role;
    int keyed;
} kind;

static const kind kinds[] = {
    {"gpurent.report.", "report", GPURENT_RECORD_GPU_REPORT, GPURENT_ROLE_PROVIDER, 1},
    {"gpurent.offer.", "offer", GPURENT_RECORD_OFFER, GPURENT_ROLE_PROVIDER, 1},
    {"gpurent.request.", "request", GPURENT_RECORD_REQUEST, GPURENT_ROLE_REQUESTER, 1},
    {"gpurent.audit.", "audit", GPURENT_RECORD_AUDIT_REPORT, GPURENT_ROLE_AUDITOR, 1},
    {"gpurent.cert.", "cert", GPURENT_RECORD_TIER_CERT, GPURENT_ROLE_AUDITOR, 1},
    {"gpurent.receipt.", "receipt", GPURENT_RECORD_MATCH_RECEIPT, GPURENT_ROLE_MATCHER, 1},
    {"gpurent.cut.", "cut", NODE_STATEMENT_CUT, GPURENT_ROLE_MATCHER, 0},
    {"gpurent.era", "era", NODE_STATEMENT_CUT, GPURENT_ROLE_AUDITOR, 0},
};

static json_t *obj_at(json_t *parent, const char *key)
{
    json_t *o = json_object_get(parent, key);
    if (!o) { o = json_object(); json_object_set_new(parent, key, o); }
    return o;
}

static void watch_one(node_net *n, gpurent_trust *t, const node_msg *m, json_t *out)
{
    const kind *k = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && !k; i++)
        if (!strncmp(m->subject, kinds[i].prefix, strlen(kinds[i].prefix))) k = &kinds[i];
    if (!k) { n->drops[DROP_UNDECODABLE]++; return; }
    gpurent_verified *v = NULL;
    if (node_verify(n, t, m, k->statement, k->role, 1, k->keyed, &v)) return;
    json_t *counts = obj_at(out, "counts");
    json_t *cnt = json_object_get(counts, k->name);
    json_object_set_new(counts, k->name, json_integer(cnt ? json_integer_value(cnt) + 1 : 1));
    gpurent_envelope h;
    gpurent_verified_header(v, &h);
    size_t len;
    const uint8_t *p = gpurent_verified_payload_data(v, &len);
    char ih[65], dh[65], key[256];
    uint8_t dg[32];
    node_hex32(h.issuer, ih);
    crypto_generichash(dg, 32, p, len, NULL, 0);
    node_hex32(dg, dh);
    if (k->statement == GPURENT_RECORD_MATCH_RECEIPT) {
        snprintf(key, sizeof key, "%.*s", (int)h.subject_len, (const char *)h.subject);
        json_t *r = obj_at(obj_at(out, "receipts"), key);
        json_object_set_new(r, ih, json_string(dh));
        gpurent_match_receipt rc;
        gpurent_match_receipt_init(&rc);
        if (gpurent_match_receipt_decode(p, len, &rc) == GPURENT_OK) {
            json_t *as = obj_at(obj_at(out, "assignments"), key);
            json_object_set_new(as, "count", json_integer(rc.assignment_count));
            json_object_set_new(as, "requests", json_integer(rc.request_count));
        }
        gpurent_match_receipt_clear(&rc);
    } else if (k->statement == GPURENT_RECORD_TIER_CERT) {
        gpurent_tier_cert c;
        if (gpurent_tier_cert_decode(p, len, &c) == GPURENT_OK) {
            char ph[65];
            node_hex32(c.provider_key, ph);
            snprintf(key, sizeof key, "%llu/%s", (unsigned long long)c.era, ph);
            json_object_set_new(obj_at(obj_at(out, "certs"), key), ih, json_string(dh));
            json_t *u = obj_at(obj_at(out, "cert_values"), key);
            json_object_set_new(u, "tier", json_integer(c.tier));
            json_object_set_new(u, "uptime_ppm", json_integer(c.uptime_ppm));
            json_object_set_new(u, "score_ppm", json_integer(c.score_ppm));
        }
    } else if (k->statement == NODE_STATEMENT_CUT) {
        node_cut c;
        if (!node_cut_decode(p, len, &c)) {
            snprintf(key, sizeof key, "%s/%llu", c.scope, (unsigned long long)c.number);
            json_t *cuts = obj_at(out, "cuts");
            if (!json_object_get(cuts, key)) json_object_set_new(cuts, key, json_integer((json_int_t)m->seq));
        }
    } else if (k->statement == GPURENT_RECORD_AUDIT_REPORT) {
        gpurent_audit_report r;
        gpurent_audit_report_init(&r);
        if (gpurent_audit_report_decode(p, len, &r) == GPURENT_OK) {
            /* audits: auditor -> report time -> reports (one per provider per era) */
            json_t *a = obj_at(obj_at(out, "audits"), ih);
            snprintf(key, sizeof key, "%llu", (unsigned long long)r.time_s);
            json_t *x = json_object_get(a, key);
            json_object_set_new(a, key, json_integer(x ? json_integer_value(x) + 1 : 1));
        }
        gpurent_audit_report_clear(&r);
    }
    gpurent_verified_free(v);
}

static int node_watch_cmd(int argc, char **argv)
{
    cli_args a;
    int prc = cli_parse(&watch_cmd, argc, argv, &a);
    if (prc) return prc < 0 ? 0 : prc;
    if (!cli_opt(&a, "--trust")) return cli_usage_error(&a, "--trust TRUST.json is required");
    gpurent_trust *t = NULL;
    gpurent_trust_options to = GPURENT_TRUST_OPTIONS_INIT;
    to.replay_capacity = 1u << 22;
    int rc = cli_load_trust("node watch", cli_opt(&a, "--trust"), &t);
    if (rc) return rc;
    /* A big replay window: the whole stream is read at once. */
    gpurent_trust *big = NULL;
    if (gpurent_trust_new(&big, &to) == GPURENT_OK && gpurent_trust_adopt_replay(t, big) == GPURENT_OK) {}
    gpurent_trust_free(big);
    node_net n;
    if ((rc = node_connect(&n, &a, "node watch"))) { gpurent_trust_free(t); return rc; }
    json_t *out = json_object();
    uint64_t last = 0, msgs = 0;
    if (node_subscribe(&n, 1) == NATS_OK) {
        int idle = (int)cli_opt_u64(&a, "--idle-ms", 1500);
        node_msg m;
        while (node_next(&n, idle, &m) == 1) {
            if (m.seq > last) {
                last = m.seq;
                msgs++;
                watch_one(&n, t, &m, out);
            }
            node_msg_free(&m);
        }
    }
    json_t *d = json_object();
    for (int i = 0; i < DROP_COUNT; i++) json_object_set_new(d, node_drop_names[i], json_integer((json_int_t)n.drops[i]));
    json_object_set_new(out, "dropped", d);
    json_object_set_new(out, "accepted", json_integer((json_int_t)n.accepted));
    json_object_set_new(out, "messages", json_integer((json_int_t)msgs));
    json_object_set_new(out, "last_seq", json_integer((json_int_t)last));
    json_dumpf(out, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
    fputc('\n', stdout);
    json_decref(out);
    gpurent_trust_free(t);
    node_close_then_exit_code(&n, 0);
    return 0;
}

static const cli_cmd publish_cmd = {
    "node publish",
    "usage: gpurent node publish --server URLS --subject SUBJECT FILE [--msg-id ID] [--stream NAME]\n",
    "Publish FILE's bytes as they are on SUBJECT (Nats-Msg-Id: ID, default the BLAKE2b-256 of\n"
    "SUBJECT, a 0 byte and the bytes) and print the stream sequence, or \"duplicate\". Nothing is\n"
    "checked: this is how tests play a forger or a replayer. Every consumer verifies what it reads.\n",
    (const cli_optdef[]){NODE_NET_OPTS, {"--subject", OPT_STR, 0, 0, 0}, {"--msg-id", OPT_STR, 0, 0, 0},
                         {NULL, OPT_FLAG, 0, 0, 0}},
    1, 1, "FILE"};

static int node_publish_cmd(int argc, char **argv)
{
    cli_args a;
    int prc = cli_parse(&publish_cmd, argc, argv, &a);
    if (prc) return prc < 0 ? 0 : prc;
    const char *subj = cli_opt(&a, "--subject");
    if (!subj || strncmp(subj, "gpurent.", 8)) return cli_usage_error(&a, "--subject gpurent.... is required");
    uint8_t *data;
    size_t len;
    if (cli_read_file(a.pos[0], &data, &len)) return cli_fail("node publish", EXIT_IO, "%s: cannot read", a.pos[0]);
    node_net n;
    int rc = node_connect(&n, &a, "node publish");
    if (!rc) {
        uint64_t seq = 0;
        int dup = 0;
        if (node_publish(&n, subj, data, len, cli_opt(&a, "--msg-id"), &seq, &dup) != NATS_OK)
            rc = cli_fail("node publish", EXIT_FAILED, "publish failed");
        else if (dup) printf("duplicate\n");
        else printf("%llu\n", (unsigned long long)seq);
    }
    free(data);
    node_close_then_exit_code(&n, rc);
    return rc;
}

int cmd_node(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } roles[] = {{"matchmaker", node_matchmaker}, {"auditor", node_auditor}, {"provider", node_provider},
                 {"watch", node_watch_cmd}, {"publish", node_publish_cmd}};
    if (argc >= 2)
        for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
            if (!strcmp(argv[1], roles[i].name)) {
                int rc = roles[i].run(argc - 1, argv + 1);
                nats_Close();
                return rc;
            }
    fprintf(argc >= 2 && strcmp(argv[1], "--help") ? stderr : stdout,
            "usage: gpurent node ROLE [OPTIONS]   (gpurent node ROLE --help for each)\n\n"
            "roles:\n"
            "  provider    publish a signed GPU report and offer; answer uptime challenges\n"
            "  auditor     challenge providers, sign audit reports, tier certificates at each era\n"
            "  matchmaker  cut batches, match, sign receipts\n"
            "  watch       read and verify the whole stream, summarise it as JSON\n"
            "  publish     put raw bytes on a subject (tests: a forger, a replayer)\n"
            "\nsee docs/net.md\n");
    return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : EXIT_USAGE;
}
