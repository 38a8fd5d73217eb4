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
    /* No record, canonical or JSON, is larger than this: refused before any work. */
    size_t max = GPURENT_RECORD_MAX_BYTES > CLI_JSON_MAX_BYTES ? GPURENT_RECORD_MAX_BYTES : CLI_JSON_MAX_BYTES;
    if (cli_read_file_max(path, max, &data, &len)) {
        if (errno == EFBIG) return cli_fail(cmd, EXIT_INPUT, "%s: GPURENT_E_OVERSIZE: above %zu bytes", path, max);
        return cli_fail(cmd, EXIT_IO, "%s: %s", path, strerror(errno));
    }
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r')) i++;
    if (i < len && data[i] == '{') {
        int code = 0;
        if (len > CLI_JSON_MAX_BYTES) {
            free(data);
            return cli_fail(cmd, EXIT_INPUT, "%s: GPURENT_E_OVERSIZE: JSON input above %u bytes", path, CLI_JSON_MAX_BYTES);
        }
        json_t *j = cli_parse_json(cmd, path, data, len, &code);
        free(data);
        if (!j) return code;
        char err[600];
        int rc = cli_record_from_json(kind, j, out, err, sizeof err);
        json_decref(j);
        return rc ? cli_fail(cmd, EXIT_INPUT, "%s: %s", path, err) : 0;
    }
    out->data = data;
    out->len = len;
    return 0;
}


static int parse_preset(const char *s)
{
    static const char *const names[] = {"balanced", "cheapest", "performance", "trusted"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

/* --tier PROVIDER_HEX:TIER:SCORE_PPM, as a verified tier certificate states. */
static int apply_tiers(gpurent_market *m, const cli_args *a)
{
    for (int i = 0; i < a->nkv; i++) {
        if (strcmp(a->kv[i].def->name, "--tier")) continue;
        const char *v = a->kv[i].value, *c1 = strchr(v, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        char hex[65], ts[24], ss[24];
        uint64_t tier, score;
        uint8_t pk[32];
        int ok = c1 && c2 && c1 - v == 64 && c2 - c1 - 1 < 24 && strlen(c2 + 1) < 24;
        if (ok) {
            snprintf(hex, sizeof hex, "%.*s", 64, v);
            snprintf(ts, sizeof ts, "%.*s", (int)(c2 - c1 - 1), c1 + 1);
            snprintf(ss, sizeof ss, "%s", c2 + 1);
            ok = !cli_unhex(hex, pk, 32) && !cli_u64(ts, &tier) && !cli_u64(ss, &score) && tier <= 255 &&
                 score <= 1000000;
        }
        if (!ok) return cli_usage_error(a, "--tier needs PROVIDER_HEX:TIER:SCORE_PPM, not '%s'", v);
        int rc = gpurent_market_set_trust(m, pk, tier, score);
        if (rc) return cli_fail_status("match", rc, EXIT_INPUT);
    }
    return 0;
}

static void print_receipt(const gpurent_match_receipt *r)
{
    printf("%-24s %-18s %-12s %5s %14s\n", "request", "provider", "node", "gpus", "units/GPU-h");
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

static const cli_cmd match_cmd = {
    "match",
    "usage: gpurent match --offer FILE... --request FILE... [--now T] [--seed HEX64]\n"
    "                     [--preset balanced|cheapest|performance|trusted]\n"
    "                     [--tier PROVIDER_HEX:TIER:SCORE_PPM]... [--explain REQUEST_ID] [-o RECEIPT]\n",
    "Match the requests to the offers' nodes (files: JSON or canonical records; repeat the options).\n"
    "Prints the assignments (prices in units per GPU-hour); -o writes the canonical match receipt\n"
    "(sign it with `gpurent sign`). --explain prints why a request matched (winner vs runner-up)\n"
    "or what would make it match. The batch's clock is --now, else the latest submitted_at of the\n"
    "requests (an error when none has one): the result depends on the inputs alone, so operators\n"
    "with the same inputs and seed get byte-identical receipts. Exit 1 when nothing matched.\n",
    (const cli_optdef[]){{"--offer", OPT_STR, 1, 0, 0}, {"--request", OPT_STR, 1, 0, 0},
                         {"--seed", OPT_HEX32, 0, 0, 0}, {"--now", OPT_U64, 0, 0, 1ull << 40},
                         {"--explain", OPT_STR, 0, 0, 0}, {"-o", OPT_STR, 0, 0, 0}, {"--preset", OPT_STR, 0, 0, 0},
                         {"--tier", OPT_STR, 1, 0, 0}, {NULL, OPT_FLAG, 0, 0, 0}},
    0, 0, NULL};

int cmd_match(int argc, char **argv)
{
    cli_args args;
    int prc = cli_parse(&match_cmd, argc, argv, &args);
    if (prc) return prc < 0 ? 0 : prc;
    const cli_args *A = &args;
    gpurent_match_options o = GPURENT_MATCH_OPTIONS_INIT;
    const char *s;
    if ((s = cli_opt(A, "--preset"))) {
        int p = parse_preset(s);
        if (p < 0) return cli_usage_error(A, "--preset: balanced, cheapest, performance or trusted, not '%s'", s);
        gpurent_match_options_preset(&o, p);
    }
    if (!cli_flag(A, "--offer") || !cli_flag(A, "--request"))
        return cli_usage_error(A, "at least one --offer and one --request");
    uint8_t seed[32] = {0};
    (void)cli_opt_hex32(A, "--seed", seed);
    gpurent_market *m = NULL;
    int rc = gpurent_market_new(&m, &o, seed), code = 0;
    if (rc) return cli_fail_status("match", rc, EXIT_FAILED);
    gpurent_request *reqs = calloc((size_t)A->nkv + 1, sizeof *reqs);
    int nreq = 0;
    uint64_t latest = 0;
    for (int i = 0; i < A->nkv && !code; i++) {
        const char *name = A->kv[i].def->name, *path = A->kv[i].value;
        int is_offer = !strcmp(name, "--offer"), is_req = !strcmp(name, "--request");
        if (!is_offer && !is_req) continue;
        gpurent_buf b = {0};
        if ((code = load_record("match", is_offer ? "offer" : "request", path, &b))) break;
        if (is_offer) {
            gpurent_offer of;
            gpurent_offer_init(&of);
            rc = gpurent_offer_decode(b.data, b.len, &of);
            if (!rc) rc = gpurent_market_put_offer(m, &of);
            gpurent_offer_clear(&of);
        } else {
            rc = gpurent_request_decode(b.data, b.len, &reqs[nreq]);
            if (!rc && reqs[nreq].submitted_at > latest) latest = reqs[nreq].submitted_at;
            if (!rc) rc = gpurent_market_add_request(m, &reqs[nreq++]);
        }
        gpurent_buf_free(&b);
        if (rc) code = cli_fail("match", EXIT_INPUT, "%s: %s: %s", path, gpurent_status_name(rc),
                                gpurent_last_error_message());
    }
    /* The batch's clock (request aging) comes from the inputs, never from
     * the wall clock: two runs, or two operators, must agree. */
    uint64_t now = cli_opt_u64(A, "--now", latest);
    if (!code && !cli_opt(A, "--now") && latest == 0)
        code = cli_usage_error(A, "--now T is required: no request has a submitted_at time");
    if (!code) code = apply_tiers(m, A);
    const char *explain = cli_opt(A, "--explain");
    if (!code && explain) {
        int found = 0;
        for (int r = 0; r < nreq; r++) {
            if (strcmp(reqs[r].request_id, explain)) continue;
            gpurent_match_explain ex;
            gpurent_buf txt = {0};
            rc = gpurent_market_explain(m, &reqs[r], &ex);
            if (!rc) rc = gpurent_match_explain_text(&ex, &txt);
            if (rc) code = cli_fail_status("match", rc, EXIT_FAILED);
            else printf("%.*s\n", (int)txt.len, (const char *)txt.data);
            gpurent_buf_free(&txt);
            found = 1;
        }
        if (!found) code = cli_usage_error(A, "--explain: no request '%s'", explain);
    }
    if (!code) {
        gpurent_match_receipt rec;
        gpurent_match_receipt_init(&rec);
        rc = gpurent_market_match(m, now, NULL, &rec);
        if (rc) code = cli_fail_status("match", rc, EXIT_FAILED);
        else {
            print_receipt(&rec);
            const char *out = cli_opt(A, "-o");
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

static const cli_cmd tier_cmd = {
    "tier",
    "usage: gpurent tier --trust TRUST.json [--genesis T] [--era-s S] [--quorum K] [--now T]\n"
    "                    [--explain PROVIDER_HEX] REPORT.env...\n",
    "Verify signed audit reports (auditor role required) and evaluate every era they cover with\n"
    "the default tier table; print each provider's tier and score. A report that fails\n"
    "verification is refused with its status and changes nothing. Era e spans\n"
    "[genesis + e*era_s, genesis + (e+1)*era_s). --explain prints one provider's explanation.\n"
    "Each report is verified at its own issued_at time unless --now is given.\n",
    (const cli_optdef[]){{"--trust", OPT_STR, 0, 0, 0}, {"--genesis", OPT_U64, 0, 0, 1ull << 40},
                         {"--era-s", OPT_U64, 0, 1, 1ull << 32}, {"--quorum", OPT_U64, 0, 1, 16},
                         {"--now", OPT_U64, 0, 0, 1ull << 40}, {"--explain", OPT_HEX32, 0, 0, 0},
                         {NULL, OPT_FLAG, 0, 0, 0}},
    1, -1, "REPORT.env"};

int cmd_tier(int argc, char **argv)
{
    cli_args args;
    int prc = cli_parse(&tier_cmd, argc, argv, &args);
    if (prc) return prc < 0 ? 0 : prc;
    const cli_args *A = &args;
    const char *tpath = cli_opt(A, "--trust");
    if (!tpath) return cli_usage_error(A, "--trust TRUST.json is required");
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.genesis_s = cli_opt_u64(A, "--genesis", o.genesis_s);
    o.era_s = cli_opt_u64(A, "--era-s", o.era_s);
    o.quorum_auditors = (uint32_t)cli_opt_u64(A, "--quorum", o.quorum_auditors);
    gpurent_trust *t = NULL;
    int code = cli_load_trust("tier", tpath, &t);
    if (code) return code;
    /* Every report is read first: the first evaluated era is the earliest one. */
    int n = 0;
    gpurent_buf *envs = calloc((size_t)A->npos + 1, sizeof *envs);
    uint64_t first = UINT64_MAX, last = 0;
    for (const char *p; !code && n < A->npos && (p = A->pos[n]); n++) {
        if (cli_read_file(p, &envs[n].data, &envs[n].len)) { code = cli_fail("tier", EXIT_IO, "%s: %s", p, strerror(errno)); break; }
        gpurent_envelope h;
        int rc = gpurent_envelope_decode(envs[n].data, envs[n].len, &h);
        if (rc) { code = cli_fail("tier", EXIT_INPUT, "%s: %s: %s", p, gpurent_status_name(rc), gpurent_last_error_message()); break; }
        if (h.issued_at < first) first = h.issued_at;
        if (h.issued_at > last) last = h.issued_at;
    }
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
            /* Decoded once already when read; a failure now would be a library fault. */
            int drc = gpurent_envelope_decode(envs[i].data, envs[i].len, &h);
            if (drc) { code = cli_fail_status("tier", drc, EXIT_FAILED); break; }
            if (gpurent_tier_era_of(eng, h.issued_at) != era) continue;
            uint64_t now = cli_opt_u64(A, "--now", h.issued_at);
            int rc = gpurent_tier_record_signed(eng, t, envs[i].data, envs[i].len, now, 300);
            if (rc) {
                fprintf(stderr, "gpurent tier: %s refused: %s: %s\n", A->pos[i],
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
        uint8_t pk[32];
        if (cli_opt_hex32(A, "--explain", pk)) {
            gpurent_tier_explanation ex;
            gpurent_buf txt = {0};
            int rc = gpurent_tier_explain(eng, pk, &ex);
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
