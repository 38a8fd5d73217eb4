/* gpurent match and gpurent tier: the matchmaker's and the auditor's jobs
 * on files. Inputs are JSON records (people) or canonical records (programs);
 * tier evidence is only ever signed audit reports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gpurent/match.h"
#include "gpurent/tier.h"

/* Read a record file: JSON ('{' first) through the schema, else canonical bytes. */
static int load_record(const char *cmd, const char *kind, const char *path, gpurent_buf *out)
{
    uint8_t *data;
    size_t len;
    if (cli_read_file(path, &data, &len)) return cli_fail(cmd, EXIT_IO, "%s: %s", path, strerror(errno));
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r')) i++;
    if (i < len && data[i] == '{') {
        json_error_t je;
        json_t *j = json_loadb((const char *)data, len, 0, &je);
        free(data);
        if (!j) return cli_fail(cmd, EXIT_INPUT, "%s:%d:%d: malformed JSON: %s", path, je.line, je.column, je.text);
        char err[600];
        int rc = cli_record_from_json(kind, j, out, err, sizeof err);
        json_decref(j);
        return rc ? cli_fail(cmd, EXIT_INPUT, "%s: %s", path, err) : 0;
    }
    out->data = data;
    out->len = len;
    return 0;
}

static const char *const match_valued[] = {"--offer", "--request", "--seed", "--now", "--explain", "-o",
                                           "--preset", "--tier", NULL};

static int parse_preset(const char *s)
{
    static const char *const names[] = {"balanced", "cheapest", "performance", "trusted"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

/* --tier PROVIDER_HEX:TIER:SCORE_PPM, as a verified tier certificate states. */
static int apply_tiers(gpurent_market *m, int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--tier")) continue;
        char hex[65];
        unsigned tier, score;
        uint8_t pk[32];
        if (sscanf(argv[i + 1], "%64[0-9a-fA-F]:%u:%u", hex, &tier, &score) != 3 || cli_unhex(hex, pk, 32))
            return cli_fail("match", EXIT_USAGE, "--tier needs PROVIDER_HEX:TIER:SCORE_PPM");
        int rc = gpurent_market_set_trust(m, pk, tier, score);
        if (rc) return cli_fail_status("match", rc, EXIT_INPUT);
    }
    return 0;
}

static void print_receipt(const gpurent_match_receipt *r)
{
    printf("%-24s %-18s %-12s %5s %14s\n", "request", "provider", "node", "gpus", "price/GPU-h");
    for (uint32_t a = 0; a < r->assignment_count; a++) {
        const gpurent_match_assignment *as = gpurent_match_receipt_assignment(r, a);
        for (uint32_t p = 0; p < as->placement_count; p++) {
            const gpurent_match_placement *pl = gpurent_match_receipt_placement(r, as->first_placement + p);
            char *h = cli_hex(pl->provider_key, 8);
            char gp[16];
            if (pl->gpus) snprintf(gp, sizeof gp, "%u", pl->gpus);
            else snprintf(gp, sizeof gp, "%u%%", pl->share_pct);
            printf("%-24.24s %-18s %-12.12s %5s %14.6f\n", p ? "" : as->request_id, h, pl->node_id, gp,
                   pl->price_micro_per_gpu_hour / 1e6);
            free(h);
        }
    }
    printf("%u of %u requests matched\n", r->assignment_count, r->request_count);
}

int cmd_match(int argc, char **argv)
{
    if (cli_flag(argc, argv, "--help")) {
        printf("usage: gpurent match --offer FILE... --request FILE... [--seed HEX64] [--now T]\n"
               "                     [--preset balanced|cheapest|performance|trusted]\n"
               "                     [--tier PROVIDER_HEX:TIER:SCORE_PPM]... [--explain REQUEST_ID] [-o RECEIPT]\n"
               "Match the requests to the offers' nodes (files: JSON or canonical records; repeat the options).\n"
               "Prints the assignments; -o writes the canonical match receipt (sign it with `gpurent sign`).\n"
               "--explain prints why a request matched (winner vs runner-up) or what would make it match.\n"
               "Operators with the same inputs and seed get byte-identical receipts. Exit 1 when nothing matched.\n");
        return 0;
    }
    gpurent_match_options o = GPURENT_MATCH_OPTIONS_INIT;
    const char *s;
    if ((s = cli_opt(argc, argv, "--preset"))) {
        int p = parse_preset(s);
        if (p < 0) return cli_fail("match", EXIT_USAGE, "--preset: balanced, cheapest, performance or trusted");
        gpurent_match_options_preset(&o, p);
    }
    uint8_t seed[32] = {0};
    if ((s = cli_opt(argc, argv, "--seed")) && cli_unhex(s, seed, 32))
        return cli_fail("match", EXIT_USAGE, "--seed needs 64 hex digits");
    if (cli_positional(argc, argv, 0, match_valued)) return cli_fail("match", EXIT_USAGE, "unexpected argument; see --help");
    gpurent_market *m = NULL;
    int rc = gpurent_market_new(&m, &o, seed), code = 0, offers = 0;
    if (rc) return cli_fail_status("match", rc, EXIT_FAILED);
    gpurent_request *reqs = calloc((size_t)argc, sizeof *reqs);
    int nreq = 0;
    for (int i = 1; i + 1 < argc && !code; i++) {
        int is_offer = !strcmp(argv[i], "--offer"), is_req = !strcmp(argv[i], "--request");
        if (!is_offer && !is_req) continue;
        gpurent_buf b = {0};
        if ((code = load_record("match", is_offer ? "offer" : "request", argv[++i], &b))) break;
        if (is_offer) {
            gpurent_offer of;
            gpurent_offer_init(&of);
            rc = gpurent_offer_decode(b.data, b.len, &of);
            if (!rc) rc = gpurent_market_put_offer(m, &of);
            gpurent_offer_clear(&of);
            offers++;
        } else {
            rc = gpurent_request_decode(b.data, b.len, &reqs[nreq]);
            if (!rc) rc = gpurent_market_add_request(m, &reqs[nreq++]);
        }
        gpurent_buf_free(&b);
        if (rc) code = cli_fail("match", EXIT_INPUT, "%s: %s: %s", argv[i], gpurent_status_name(rc),
                                gpurent_last_error_message());
    }
    if (!code && (!offers || !nreq)) code = cli_fail("match", EXIT_USAGE, "at least one --offer and one --request");
    if (!code) code = apply_tiers(m, argc, argv);
    const char *explain = cli_opt(argc, argv, "--explain");
    if (!code && explain) {
        int found = 0;
        for (int r = 0; r < nreq; r++) {
            if (strcmp(reqs[r].request_id, explain)) continue;
            gpurent_match_explain ex;
            gpurent_buf txt = {0};
            rc = gpurent_market_explain(m, &reqs[r], &ex);
            if (!rc) rc = gpurent_match_explain_render(&ex, &txt);
            if (rc) code = cli_fail_status("match", rc, EXIT_FAILED);
            else printf("%.*s\n", (int)txt.len, (const char *)txt.data);
            gpurent_buf_free(&txt);
            found = 1;
        }
        if (!found) code = cli_fail("match", EXIT_USAGE, "--explain: no request '%s'", explain);
    }
    if (!code) {
        uint64_t now = cli_now(argc, argv);
        gpurent_match_receipt rec;
        gpurent_match_receipt_init(&rec);
        rc = gpurent_market_match(m, now, NULL, &rec);
        if (rc) code = cli_fail_status("match", rc, EXIT_FAILED);
        else {
            print_receipt(&rec);
            const char *out = cli_opt(argc, argv, "-o");
            gpurent_buf b = {0};
            if (out && ((rc = gpurent_match_receipt_encode(&rec, &b)) || cli_write_file(out, b.data, b.len)))
                code = rc ? cli_fail_status("match", rc, EXIT_FAILED) : cli_fail("match", EXIT_IO, "%s: %s", out, strerror(errno));
            gpurent_buf_free(&b);
            if (!code && rec.assignment_count == 0) code = EXIT_FAILED;
        }
        gpurent_match_receipt_clear(&rec);
    }
    free(reqs);
    gpurent_market_free(m);
    return code;
}

/* ---------------- tier ---------------- */

static const char *const tier_valued[] = {"--trust", "--now", "--skew", "--explain", "--genesis", "--era-s",
                                          "--quorum", NULL};

int cmd_tier(int argc, char **argv)
{
    if (cli_flag(argc, argv, "--help")) {
        printf("usage: gpurent tier --trust TRUST.json [--genesis T] [--era-s S] [--quorum K] [--now T]\n"
               "                    [--explain PROVIDER_HEX] REPORT.env...\n"
               "Verify signed audit reports (auditor role required) and evaluate every era they cover with\n"
               "the default tier table; print each provider's tier and score. A report that fails\n"
               "verification is refused with its status and changes nothing. Era e spans\n"
               "[genesis + e*era_s, genesis + (e+1)*era_s). --explain prints one provider's explanation.\n");
        return 0;
    }
    const char *tpath = cli_opt(argc, argv, "--trust");
    if (!tpath) return cli_fail("tier", EXIT_USAGE, "--trust TRUST.json is required");
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    const char *s;
    uint64_t v;
    if ((s = cli_opt(argc, argv, "--genesis")) && !cli_u64(s, &v)) o.genesis_s = v;
    if ((s = cli_opt(argc, argv, "--era-s"))) {
        if (cli_u64(s, &v) || v == 0) return cli_fail("tier", EXIT_USAGE, "--era-s needs a positive number");
        o.era_s = v;
    }
    if ((s = cli_opt(argc, argv, "--quorum"))) {
        if (cli_u64(s, &v) || v == 0 || v > 16) return cli_fail("tier", EXIT_USAGE, "--quorum needs 1..16");
        o.quorum_auditors = (uint32_t)v;
    }
    gpurent_trust *t = NULL;
    int code = cli_load_trust("tier", tpath, &t);
    if (code) return code;
    /* Every report is read first: the first evaluated era is the earliest one. */
    int n = 0;
    gpurent_buf *envs = calloc((size_t)argc, sizeof *envs);
    uint64_t first = UINT64_MAX, last = 0;
    for (const char *p; !code && (p = cli_positional(argc, argv, n, tier_valued)); n++) {
        if (cli_read_file(p, &envs[n].data, &envs[n].len)) { code = cli_fail("tier", EXIT_IO, "%s: %s", p, strerror(errno)); break; }
        gpurent_envelope h;
        int rc = gpurent_envelope_decode(envs[n].data, envs[n].len, &h);
        if (rc) { code = cli_fail("tier", EXIT_INPUT, "%s: %s: %s", p, gpurent_status_name(rc), gpurent_last_error_message()); break; }
        if (h.issued_at < first) first = h.issued_at;
        if (h.issued_at > last) last = h.issued_at;
    }
    if (!code && n == 0) code = cli_fail("tier", EXIT_USAGE, "no REPORT.env given");
    gpurent_tier_engine *eng = NULL;
    if (!code) {
        o.first_era = first >= o.genesis_s ? (first - o.genesis_s) / o.era_s : 0;
        int rc = gpurent_tier_engine_new(&eng, &o);
        if (rc) code = cli_fail_status("tier", rc, EXIT_USAGE);
    }
    uint32_t refused = 0;
    uint64_t last_era = o.first_era;
    if (!code) last_era = gpurent_tier_era_of(eng, last);
    /* Era by era: record the reports of the open eras, then close the era. */
    for (uint64_t era = o.first_era; !code && era <= last_era; era++) {
        for (int i = 0; i < n; i++) {
            if (!envs[i].data) continue;
            gpurent_envelope h;
            gpurent_envelope_decode(envs[i].data, envs[i].len, &h);
            if (gpurent_tier_era_of(eng, h.issued_at) != era) continue;
            uint64_t now = cli_opt(argc, argv, "--now") ? cli_now(argc, argv) : h.issued_at;
            int rc = gpurent_tier_record_signed(eng, t, envs[i].data, envs[i].len, now, 300);
            if (rc) {
                fprintf(stderr, "gpurent tier: %s refused: %s: %s\n", cli_positional(argc, argv, i, tier_valued),
                        gpurent_status_name(rc), gpurent_last_error_message());
                refused++;
            }
            gpurent_buf_free(&envs[i]);
        }
        int rc = gpurent_tier_evaluate(eng, era, NULL, NULL);
        if (rc) code = cli_fail_status("tier", rc, EXIT_FAILED);
    }
    if (!code) {
        printf("%-18s %4s %11s %-12s %s\n", "provider", "tier", "score", "incubating", "rule");
        for (uint32_t i = 0; i < gpurent_tier_provider_count(eng); i++) {
            uint8_t pk[32];
            gpurent_tier_explanation ex;
            if (gpurent_tier_provider_key(eng, i, pk) || gpurent_tier_explain(eng, pk, &ex)) continue;
            char *h = cli_hex(pk, 8);
            printf("%-18s %4u %10.4f%% %-12s %s\n", h, ex.tier, ex.score_ppm / 1e4, ex.incubating ? "yes" : "no",
                   gpurent_tier_rule_name(ex.rule));
            free(h);
        }
        const char *x = cli_opt(argc, argv, "--explain");
        uint8_t pk[32];
        if (x) {
            gpurent_tier_explanation ex;
            gpurent_buf txt = {0};
            int rc = cli_unhex(x, pk, 32) ? GPURENT_E_INVALID_ARG : gpurent_tier_explain(eng, pk, &ex);
            if (!rc) rc = gpurent_tier_explain_text(&ex, &txt);
            if (rc) code = cli_fail_status("tier", rc, EXIT_FAILED);
            else printf("\n%.*s\n", (int)txt.len, (const char *)txt.data);
            gpurent_buf_free(&txt);
        }
        if (!code && refused) code = EXIT_FAILED;
    }
    for (int i = 0; i < n; i++) gpurent_buf_free(&envs[i]);
    free(envs);
    gpurent_tier_engine_free(eng);
    gpurent_trust_free(t);
    return code;
}
