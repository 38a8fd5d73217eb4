/* keygen, sign, cosign, verify: signed statements from a shell. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const valued[] = {"-o", "--key", "--seed", "--pass-env", "--pass-file", "--now", "--expires-in",
                                     "--subject", "--trust", "--skew", "--quorum", "--role", "--payload-out", NULL};

static int is_input_error(int rc) { return rc <= GPURENT_E_MALFORMED && rc >= GPURENT_E_WRONG_RECORD; }

int cmd_keygen(int argc, char **argv)
{
    if (cli_flag(argc, argv, "--help")) {
        printf("usage: gpurent keygen -o KEYFILE [--seed HEX64] [--fast] [--pass-env VAR | --pass-file FILE]\n"
               "Create an Ed25519 key, sealed in KEYFILE with the passphrase ($GPURENT_PASSPHRASE by default);\n"
               "print the public key (hex) and write it to KEYFILE.pub. --seed derives the key from 32 bytes\n"
               "(reproducible keys for tests); --fast uses light passphrase hashing (tests only).\n");
        return 0;
    }
    const char *out = cli_opt(argc, argv, "-o");
    if (!out) return cli_fail("keygen", EXIT_USAGE, "-o KEYFILE is required");
    char pass[4097];
    int p = cli_passphrase(argc, argv, pass, sizeof pass);
    if (p == -1) return cli_fail("keygen", EXIT_IO, "cannot read the passphrase file: %s", strerror(errno));
    if (p == -2) return cli_fail("keygen", EXIT_USAGE, "no passphrase: set GPURENT_PASSPHRASE, --pass-env VAR or --pass-file FILE");
    gpurent_key *key = NULL;
    const char *seedhex = cli_opt(argc, argv, "--seed");
    int rc;
    if (seedhex) {
        uint8_t seed[32];
        if (cli_unhex(seedhex, seed, 32)) return cli_fail("keygen", EXIT_USAGE, "--seed needs 64 hex digits");
        rc = gpurent_key_from_seed(&key, seed);
        memset(seed, 0, sizeof seed);
    } else {
        rc = gpurent_key_generate(&key);
    }
    if (rc) return cli_fail_status("keygen", rc, EXIT_FAILED);
    gpurent_keyfile_options o = GPURENT_KEYFILE_OPTIONS_INIT;
    if (cli_flag(argc, argv, "--fast")) { o.opslimit = 1; o.memlimit = 8u << 20; }
    rc = gpurent_key_save(key, out, pass, &o);
    memset(pass, 0, sizeof pass);
    uint8_t pk[32];
    if (!rc) rc = gpurent_key_public(key, pk);
    gpurent_key_free(key);
    if (rc) return cli_fail_status("keygen", rc, rc == GPURENT_E_IO ? EXIT_IO : EXIT_FAILED);
    char *hex = cli_hex(pk, 32);
    char pubpath[4096];
    snprintf(pubpath, sizeof pubpath, "%s.pub", out);
    FILE *f = fopen(pubpath, "w");
    if (f) { fprintf(f, "%s\n", hex); fclose(f); }
    printf("%s\n", hex);
    free(hex);
    return f ? 0 : cli_fail("keygen", EXIT_IO, "%s: %s", pubpath, strerror(errno));
}

int cmd_sign(int argc, char **argv)
{
    if (cli_flag(argc, argv, "--help")) {
        printf("usage: gpurent sign --key KEYFILE PAYLOAD [-o OUT] [--expires-in SECONDS] [--subject TEXT] [--now T]\n"
               "Sign a canonical record (PAYLOAD, e.g. from `gpurent encode`) into an envelope. The statement\n"
               "type is the record's type; the window is [now, now + expires-in] (default one day).\n");
        return 0;
    }
    const char *in = cli_positional(argc, argv, 0, valued);
    if (!in) return cli_fail("sign", EXIT_USAGE, "PAYLOAD file is required");
    uint8_t *data;
    size_t len;
    if (cli_read_file(in, &data, &len)) return cli_fail("sign", EXIT_IO, "%s: %s", in, strerror(errno));
    gpurent_envelope hdr;
    gpurent_envelope_init(&hdr);
    int rc = gpurent_wire_record_type(data, len, &hdr.statement);
    if (rc) { free(data); return cli_fail_status("sign", rc, EXIT_INPUT); }
    uint64_t life = 86400;
    const char *e = cli_opt(argc, argv, "--expires-in");
    if (e && (cli_u64(e, &life) || life == 0)) { free(data); return cli_fail("sign", EXIT_USAGE, "--expires-in needs a positive number of seconds"); }
    hdr.issued_at = cli_now(argc, argv);
    hdr.expires_at = hdr.issued_at + life;
    const char *subj = cli_opt(argc, argv, "--subject");
    if (subj && (rc = gpurent_envelope_set_subject(&hdr, (const uint8_t *)subj, strlen(subj)))) {
        free(data);
        return cli_fail_status("sign", rc, EXIT_USAGE);
    }
    gpurent_key *key = NULL;
    if ((rc = cli_load_key("sign", argc, argv, &key))) { free(data); return rc; }
    gpurent_buf env = {0};
    rc = gpurent_envelope_sign(key, &hdr, data, len, &env);
    gpurent_key_free(key);
    free(data);
    if (rc) return cli_fail_status("sign", rc, is_input_error(rc) ? EXIT_INPUT : EXIT_FAILED);
    const char *out = cli_opt(argc, argv, "-o");
    rc = cli_write_file(out ? out : "-", env.data, env.len);
    gpurent_buf_free(&env);
    return rc ? cli_fail("sign", EXIT_IO, "%s: %s", out, strerror(errno)) : 0;
}

int cmd_cosign(int argc, char **argv)
{
    if (cli_flag(argc, argv, "--help")) {
        printf("usage: gpurent cosign --key KEYFILE ENVELOPE [-o OUT]\n"
               "Add the key's signature to an envelope (k-of-n quorum statements). The existing\n"
               "signatures are not checked: verify first.\n");
        return 0;
    }
    const char *in = cli_positional(argc, argv, 0, valued);
    if (!in) return cli_fail("cosign", EXIT_USAGE, "ENVELOPE file is required");
    uint8_t *data;
    size_t len;
    if (cli_read_file(in, &data, &len)) return cli_fail("cosign", EXIT_IO, "%s: %s", in, strerror(errno));
    gpurent_key *key = NULL;
    int rc = cli_load_key("cosign", argc, argv, &key);
    if (rc) { free(data); return rc; }
    gpurent_buf env = {0};
    rc = gpurent_envelope_cosign(key, data, len, &env);
    gpurent_key_free(key);
    free(data);
    if (rc) return cli_fail_status("cosign", rc, is_input_error(rc) ? EXIT_INPUT : EXIT_FAILED);
    const char *out = cli_opt(argc, argv, "-o");
    rc = cli_write_file(out ? out : "-", env.data, env.len);
    gpurent_buf_free(&env);
    return rc ? cli_fail("cosign", EXIT_IO, "%s: %s", out, strerror(errno)) : 0;
}

static uint32_t role_bit(const char *name)
{
    static const char *const names[] = {"provider", "auditor", "matcher", "revoker", "requester"};
    for (uint32_t i = 0; i < 5; i++)
        if (!strcmp(name, names[i])) return 1u << i;
    return 0;
}

/* Trust file (JSON): {"keys": [{"key": HEX, "roles": ["auditor"], "not_before": 0,
 * "not_after": 0}], "revoked": [HEX]} */
int cli_load_trust(const char *cmd, const char *path, gpurent_trust **out)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        if (je.line < 0 || strstr(je.text, "unable to open")) return cli_fail(cmd, EXIT_IO, "%s: %s", path, je.text);
        return cli_fail(cmd, EXIT_INPUT, "%s:%d:%d: malformed JSON: %s", path, je.line, je.column, je.text);
    }
    gpurent_trust *t = NULL;
    int rc = gpurent_trust_new(&t, NULL), code = 0;
    json_t *keys = json_object_get(j, "keys"), *k;
    size_t i;
    if (rc) code = cli_fail_status(cmd, rc, EXIT_FAILED);
    else if (!json_is_array(keys)) code = cli_fail(cmd, EXIT_INPUT, "%s: \"keys\" must be an array", path);
    json_array_foreach(keys, i, k) {
        if (code) break;
        uint8_t pk[32];
        uint32_t roles = 0;
        const char *hex = json_string_value(json_object_get(k, "key"));
        json_t *r, *rl = json_object_get(k, "roles");
        size_t x;
        json_array_foreach(rl, x, r) {
            uint32_t b = json_string_value(r) ? role_bit(json_string_value(r)) : 0;
            if (!b) { code = cli_fail(cmd, EXIT_INPUT, "%s: keys[%zu]: unknown role", path, i); break; }
            roles |= b;
        }
        if (code) break;
        if (!hex || cli_unhex(hex, pk, 32)) code = cli_fail(cmd, EXIT_INPUT, "%s: keys[%zu].key: expected 64 hex digits", path, i);
        else if ((rc = gpurent_trust_add(t, pk, roles, (uint64_t)json_integer_value(json_object_get(k, "not_before")),
                                         (uint64_t)json_integer_value(json_object_get(k, "not_after")))))
            code = cli_fail_status(cmd, rc, EXIT_INPUT);
    }
    json_array_foreach(json_object_get(j, "revoked"), i, k) {
        uint8_t pk[32];
        if (code) break;
        if (!json_string_value(k) || cli_unhex(json_string_value(k), pk, 32))
            code = cli_fail(cmd, EXIT_INPUT, "%s: revoked[%zu]: expected 64 hex digits", path, i);
        else gpurent_trust_revoke(t, pk);
    }
    json_decref(j);
    if (code) { gpurent_trust_free(t); return code; }
    *out = t;
    return 0;
}

int cmd_verify(int argc, char **argv)
{
    if (cli_flag(argc, argv, "--help")) {
        printf("usage: gpurent verify --trust TRUST.json ENVELOPE [--now T] [--skew S] [--quorum K]\n"
               "                      [--role ROLE] [--payload-out FILE]\n"
               "Verify a signed envelope: canonical form, signatures, validity window, issuer roles,\n"
               "revocation and quorum. Prints a JSON summary; exit 0 when valid, 1 when not (the status\n"
               "name says why), 4 when the envelope is malformed. TRUST.json:\n"
               "  {\"keys\": [{\"key\": HEX, \"roles\": [\"provider\"], \"not_before\": 0, \"not_after\": 0}],\n"
               "   \"revoked\": [HEX]}\n");
        return 0;
    }
    const char *tpath = cli_opt(argc, argv, "--trust"), *in = cli_positional(argc, argv, 0, valued);
    if (!tpath || !in) return cli_fail("verify", EXIT_USAGE, "usage: gpurent verify --trust TRUST.json ENVELOPE");
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    uint64_t v;
    o.check_replay = 0; /* one statement, one run: nothing to replay against */
    const char *s;
    if ((s = cli_opt(argc, argv, "--quorum"))) {
        if (cli_u64(s, &v) || v == 0 || v > 64) return cli_fail("verify", EXIT_USAGE, "--quorum needs 1..64");
        o.quorum = (uint32_t)v;
    }
    if ((s = cli_opt(argc, argv, "--role")) && !(o.required_role = role_bit(s)))
        return cli_fail("verify", EXIT_USAGE, "--role: provider, auditor, matcher, revoker or requester");
    uint32_t skew = 60;
    if ((s = cli_opt(argc, argv, "--skew"))) {
        if (cli_u64(s, &v) || v > 86400) return cli_fail("verify", EXIT_USAGE, "--skew needs 0..86400 seconds");
        skew = (uint32_t)v;
    }
    uint8_t *data;
    size_t len;
    if (cli_read_file(in, &data, &len)) return cli_fail("verify", EXIT_IO, "%s: %s", in, strerror(errno));
    gpurent_trust *t = NULL;
    int rc = cli_load_trust("verify", tpath, &t);
    if (rc) { free(data); return rc; }
    gpurent_verified *res = NULL;
    rc = gpurent_envelope_verify(t, data, len, cli_now(argc, argv), skew, &o, &res);
    free(data);
    gpurent_trust_free(t);
    if (rc) return cli_fail_status("verify", rc, is_input_error(rc) ? EXIT_INPUT : EXIT_FAILED);
    gpurent_envelope h;
    uint8_t dg[32];
    gpurent_verified_header(res, &h);
    gpurent_verified_digest(res, dg);
    json_t *j = json_object(), *signers = json_array();
    char *hex = cli_hex(h.issuer, 32), *dhex = cli_hex(dg, 32);
    json_object_set_new(j, "status", json_string("GPURENT_OK"));
    json_object_set_new(j, "statement", json_string(gpurent_record_type_name(h.statement)));
    json_object_set_new(j, "issuer", json_string(hex));
    json_object_set_new(j, "issued_at", json_integer((json_int_t)h.issued_at));
    json_object_set_new(j, "expires_at", json_integer((json_int_t)h.expires_at));
    json_object_set_new(j, "digest", json_string(dhex));
    free(hex);
    free(dhex);
    for (uint32_t i = 0; i < gpurent_verified_signer_count(res); i++) {
        uint8_t pk[32];
        gpurent_verified_signer(res, i, pk);
        char *ph = cli_hex(pk, 32);
        json_array_append_new(signers, json_string(ph));
        free(ph);
    }
    json_object_set_new(j, "signers", signers);
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(j);
    const char *pout = cli_opt(argc, argv, "--payload-out");
    rc = 0;
    if (pout) {
        gpurent_buf p = {0};
        gpurent_verified_payload(res, &p);
        if (cli_write_file(pout, p.data, p.len)) rc = cli_fail("verify", EXIT_IO, "%s: %s", pout, strerror(errno));
        gpurent_buf_free(&p);
    }
    gpurent_verified_free(res);
    return rc;
}
