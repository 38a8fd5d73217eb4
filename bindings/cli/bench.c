/* gpurent bench: quick figures for this machine (sign, verify, codec), each
 * beside its baseline measured in the same run. bench/ has the full ones. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"


static void line(const char *name, double v, const char *unit, const char *base_name, double base)
{
    printf("BENCH %s %.6g %s baseline=%s:%.6g ratio=%.4f\n", name, v, unit, base_name, base, base > 0 ? v / base : 0);
}

static const cli_cmd bench_cmd = {
    "bench", "usage: gpurent bench [--n N]\n",
    "Measure envelope sign and verify (1 KiB payload) beside raw libsodium Ed25519 on the same\n"
    "bytes, and request encode+decode beside a copy of the bytes. Prints BENCH lines\n"
    "(value, baseline, ratio). Wall-clock figures: run on a quiet machine.\n",
    (const cli_optdef[]){{"--n", OPT_U64, 0, 1, 10000000}, {NULL, OPT_FLAG, 0, 0, 0}}, 0, 0, NULL};

int cmd_bench(int argc, char **argv)
{
    cli_args args;
    int prc = cli_parse(&bench_cmd, argc, argv, &args);
    if (prc) return prc < 0 ? 0 : prc;
    uint64_t n = cli_opt_u64(&args, "--n", 2000);
    uint8_t seed[32] = {1}, pk[32], sk[64], sig[64];
    gpurent_key *key = NULL;
    if (gpurent_key_from_seed(&key, seed)) return cli_fail_status("bench", gpurent_last_error_status(), EXIT_FAILED);
    crypto_sign_seed_keypair(pk, sk, seed);
    /* About 1 KiB of canonical payload: an offer with as many nodes as it takes. */
    gpurent_offer o;
    gpurent_offer_init(&o);
    memcpy(o.provider_key, pk, 32);
    strcpy(o.region, "eu-west");
    gpurent_buf pb = {0};
    for (unsigned i = 0; pb.len < 1024; i++) {
        gpurent_node nd;
        memset(&nd, 0, sizeof nd);
        snprintf(nd.node_id, sizeof nd.node_id, "node-%u", i);
        strcpy(nd.gpu.model, "H100 SXM5 80GB");
        nd.gpu.cc_major = 9;
        nd.gpu_count = nd.gpu_free = 8;
        nd.price_micro_per_gpu_hour = 2490000;
        gpurent_offer_add_node(&o, &nd);
        gpurent_buf_free(&pb);
        gpurent_offer_encode(&o, &pb);
    }
    gpurent_offer_clear(&o);
    const uint8_t *payload = pb.data;
    const size_t payload_len = pb.len;
    gpurent_trust *t = NULL;
    gpurent_trust_new(&t, NULL);
    gpurent_trust_add(t, pk, GPURENT_ROLE_ALL, 0, 0);
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_OFFER;
    h.issued_at = 1;
    h.expires_at = 2;
    memset(h.nonce, 7, sizeof h.nonce);
    gpurent_buf env = {0};
    double t0 = cli_mono_s();
    for (uint64_t i = 0; i < n; i++) crypto_sign_detached(sig, NULL, payload, payload_len, sk);
    double raw_sign = n / (cli_mono_s() - t0);
    t0 = cli_mono_s();
    for (uint64_t i = 0; i < n; i++) {
        gpurent_buf_free(&env);
        if (gpurent_envelope_sign(key, &h, payload, payload_len, &env)) break;
    }
    double env_sign = n / (cli_mono_s() - t0);
    t0 = cli_mono_s();
    int bad = 0;
    for (uint64_t i = 0; i < n; i++) bad |= crypto_sign_verify_detached(sig, payload, payload_len, pk);
    double raw_verify = n / (cli_mono_s() - t0);
    gpurent_verify_options vo = GPURENT_VERIFY_OPTIONS_INIT;
    vo.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    vo.required_role = GPURENT_ROLE_PROVIDER;
    t0 = cli_mono_s();
    for (uint64_t i = 0; i < n; i++) bad |= gpurent_envelope_verify(t, env.data, env.len, 1, 0, &vo, NULL) != GPURENT_OK;
    double env_verify = n / (cli_mono_s() - t0);
    if (bad) fprintf(stderr, "gpurent bench: a verification failed: %s\n", gpurent_last_error_message());
    line("envelope_sign_1KiB_offer", env_sign, "ops/s", "crypto_sign_detached", raw_sign);
    line("envelope_verify_1KiB_offer", env_verify, "ops/s", "crypto_sign_verify_detached", raw_verify);
    gpurent_request q, back;
    gpurent_request_init(&q);
    strcpy(q.request_id, "bench");
    gpurent_request_allow_region(&q, "eu-west");
    gpurent_buf b = {0};
    gpurent_request_encode(&q, &b);
    t0 = cli_mono_s();
    for (uint64_t i = 0; i < n * 20; i++) {
        gpurent_buf c = {0};
        gpurent_request_encode(&q, &c);
        bad |= gpurent_request_decode(c.data, c.len, &back) != GPURENT_OK;
        gpurent_buf_free(&c);
    }
    double codec = n * 20 / (cli_mono_s() - t0);
    t0 = cli_mono_s();
    for (uint64_t i = 0; i < n * 20; i++) {
        uint8_t *c = malloc(b.len);
        memcpy(c, b.data, b.len);
        bad |= c[0] == 0;
        free(c);
    }
    double copy = n * 20 / (cli_mono_s() - t0);
    line("request_encode_decode", codec, "ops/s", "malloc_copy_free", copy);
    gpurent_buf_free(&b);
    gpurent_buf_free(&env);
    gpurent_buf_free(&pb);
    gpurent_trust_free(t);
    gpurent_key_free(key);
    sodium_memzero(sk, sizeof sk);
    return bad ? EXIT_FAILED : 0;
}
