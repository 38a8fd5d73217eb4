/* The native side of the JavaScript benchmark (bindings/js/bench/bench.mjs):
 * reads the workload the JavaScript side generated (a trust store, one
 * envelope, a market of offers, one request; hex lines) and times the same
 * two operations in C, best of three rounds (the JavaScript side runs it three times, taking turns):
 *   verify_per_s N   gpurent_envelope_verify of the envelope (no replay check), its
 *                    result read as the JavaScript side reads it
 *   best_per_s N     gpurent_market_best(k = 5) over the market
 *   best_top ID      the winner's node id (the JavaScript side must agree)
 * Time is this process's CPU time, read every 50 calls, as the JavaScript
 * side reads its own: on a shared machine a process that waits for a core
 * is not charged for the wait, so both sides measure their work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gpurent.h"
#include "bench_util.h"

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = strlen(h) / 2;
    if (n > cap) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1) return 0;
        out[i] = (uint8_t)v;
    }
    return n;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define DIE(...) do { fprintf(stderr, "bench_native: " __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)

int main(int argc, char **argv)
{
    if (argc != 2) DIE("usage: bench_native WORKLOAD");
    FILE *f = fopen(argv[1], "r");
    if (!f) DIE("cannot open %s", argv[1]);
    if (gpurent_init()) DIE("init");
    gpurent_trust *trust;
    gpurent_market *market;
    if (gpurent_trust_new(&trust, NULL) || gpurent_market_new(&market, NULL, NULL)) DIE("new");
    static char line[1 << 20];
    static uint8_t bytes[1 << 19], env[1 << 16];
    size_t env_len = 0;
    uint64_t now = 0;
    gpurent_request req;
    gpurent_request_init(&req);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *sp = strchr(line, ' ');
        if (!sp) continue;
        *sp++ = 0;
        if (!strcmp(line, "now")) now = strtoull(sp, NULL, 10);
        else if (!strcmp(line, "envelope")) env_len = unhex(sp, env, sizeof env);
        else if (!strcmp(line, "trust")) {
            char *roles = strchr(sp, ' ');
            if (!roles) DIE("trust line");
            *roles++ = 0;
            uint8_t pk[32];
            if (unhex(sp, pk, 32) != 32 || gpurent_trust_add(trust, pk, (uint32_t)atoi(roles), 0, 0)) DIE("trust");
        } else if (!strcmp(line, "offer") || !strcmp(line, "request")) {
            size_t n = unhex(sp, bytes, sizeof bytes);
            if (line[0] == 'r') { if (gpurent_request_decode(bytes, n, &req)) DIE("request"); continue; }
            gpurent_offer o;
            if (gpurent_offer_decode(bytes, n, &o) || gpurent_market_put_offer(market, &o)) DIE("offer");
            gpurent_offer_clear(&o);
        } else if (!strcmp(line, "trustlevel")) {
            uint8_t pk[32];
            unsigned tier, score;
            char hex[65];
            if (sscanf(sp, "%64s %u %u", hex, &tier, &score) != 3 || unhex(hex, pk, 32) != 32 ||
                gpurent_market_set_trust(market, pk, tier, score)) DIE("trustlevel");
        }
    }
    fclose(f);
    gpurent_verify_options vo = GPURENT_VERIFY_OPTIONS_INIT;
    vo.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    double best_v = 0, best_b = 0;
    gpurent_match_candidate cand[5];
    uint32_t count = 0;
    for (int round = 0; round < 3; round++) {
        int n = 0;
        double t0 = cpu_now(), t;
        do {
            for (int i = 0; i < 50; i++, n++) {
                /* the same work as the JavaScript verifyEnvelope(): the result's
                 * payload, header, digest and signers are read too */
                gpurent_verified *v;
                gpurent_buf payload = {0};
                gpurent_envelope hdr;
                uint8_t digest[32], pk[32];
                if (gpurent_envelope_verify(trust, env, env_len, now, 300, &vo, &v)) DIE("verify: %s", gpurent_last_error_message());
                if (gpurent_verified_payload(v, &payload) || gpurent_verified_header(v, &hdr) ||
                    gpurent_verified_digest(v, digest)) DIE("verified result");
                for (uint32_t k = 0; k < gpurent_verified_signer_count(v); k++)
                    if (gpurent_verified_signer(v, k, pk)) DIE("signer");
                gpurent_buf_free(&payload);
                gpurent_verified_free(v);
            }
        } while ((t = cpu_now() - t0) < 0.2);
        if (n / t > best_v) best_v = n / t;
        n = 0;
        t0 = cpu_now();
        do {
            for (int i = 0; i < 50; i++, n++)
                if (gpurent_market_best(market, &req, 5, cand, &count)) DIE("best: %s", gpurent_last_error_message());
        } while ((t = cpu_now() - t0) < 0.2);
        if (n / t > best_b) best_b = n / t;
    }
    printf("verify_per_s %.1f\nbest_per_s %.1f\nbest_top %s\n", best_v, best_b, count ? cand[0].node_id : "-");
    gpurent_market_free(market);
    gpurent_trust_free(trust);
    return 0;
}
