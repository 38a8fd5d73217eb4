/* keygen, sign, cosign, verify: signed statements from a shell. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

static int is_input_error(int rc) { return rc <= GPURENT_E_MALFORMED && rc >= GPURENT_E_WRONG_RECORD; }

#define PASS_OPTS {"--pass-env", OPT_STR, 0, 0, 0}, {"--pass-file", OPT_STR, 0, 0, 0}
#define NOW_OPT {"--now", OPT_U64, 0, 0, 1ull << 40}
#define END_OPT {NULL, OPT_FLAG, 0, 0, 0}

static const cli_cmd keygen_cmd = {
    "keygen", "usage: gpurent keygen -o KEYFILE [--seed HEX64] [--force] [--fast] [--pass-env VAR | --pass-file FILE]\n",
    "Create an Ed25519 key, sealed in KEYFILE with the passphrase ($GPURENT_PASSPHRASE by default);\n"
    "print the public key (hex) and write it to KEYFILE.pub. An existing KEYFILE or KEYFILE.pub is\n"
    "never replaced unless --force is given. --seed derives the key from 32 bytes given as exactly\n"
    "64 hex digits (reproducible keys for tests and examples: anyone who knows the seed has the key);\n"
    "--fast uses light passphrase hashing (tests only).\n",
    (const cli_optdef[]){{"-o", OPT_STR, 0, 0, 0}, {"--seed", OPT_HEX32, 0, 0, 0}, {"--fast", OPT_FLAG, 0, 0, 0},
                         {"--force", OPT_FLAG, 0, 0, 0}, PASS_OPTS, END_OPT},
    0, 0, NULL};

int cmd_keygen(int argc, char **argv)
{
    cli_args a;
    int prc = cli_parse(&keygen_cmd, argc, argv, &a);
    if (prc) return prc < 0 ? 0 : prc;
    const char *out = cli_opt(&a, "-o");
    if (!out) return cli_usage_error(&a, "-o KEYFILE is required");
    if (!strcmp(out, "-")) return cli_usage_error(&a, "-o needs a file name (KEYFILE and KEYFILE.pub are written)");
    int force = cli_flag(&a, "--force");
    char pubpath[4096];
    if (snprintf(pubpath, sizeof pubpath, "%s.pub", out) >= (int)sizeof pubpath)
        return cli_usage_error(&a, "-o: path too long");
    /* A key is an identity: losing it to a slip of the shell is not undoable. */
    struct stat st;
    const char *exists = !force && !lstat(out, &st) ? out : !force && !lstat(pubpath, &st) ? pubpath : NULL;
    if (exists) return cli_fail("keygen", EXIT_IO, "%s exists: keygen never replaces a key (--force replaces it)", exists);
    char pass[4097];
    int p = cli_passphrase(&a, pass, sizeof pass);
    if (p == -1) return cli_fail("keygen", EXIT_IO, "cannot read the passphrase file: %s", strerror(errno));
    if (p == -2) return cli_fail("keygen", EXIT_USAGE, "no passphrase: set GPURENT_PASSPHRASE, --pass-env VAR or --pass-file FILE");
    gpurent_key *key = NULL;
    uint8_t seed[32];
    int rc = cli_opt_hex32(&a, "--seed", seed) ? gpurent_key_from_seed(&key, seed) : gpurent_key_generate(&key);
    sodium_memzero(seed, sizeof seed);
    if (rc) { sodium_memzero(pass, sizeof pass); return cli_fail_status("keygen", rc, EXIT_FAILED); }
    gpurent_keyfile_options o = GPURENT_KEYFILE_OPTIONS_INIT;
    if (cli_flag(&a, "--fast")) { o.opslimit = 1; o.memlimit = 8u << 20; }
    gpurent_buf sealed = {0};
    rc = gpurent_key_seal(key, pass, &o, &sealed);
    sodium_memzero(pass, sizeof pass);
    uint8_t pk[32];
    if (!rc) rc = gpurent_key_public(key, pk);
    gpurent_key_free(key);
    if (rc) { gpurent_buf_free(&sealed); return cli_fail_status("keygen", rc, EXIT_FAILED); }
    /* Both files through a fresh temporary file: 0600 for the sealed key,
     * never written through a link, never a half-written file. */
    rc = cli_write_file_mode(out, sealed.data, sealed.len, 0600, !force);
    gpurent_buf_free(&sealed);
    if (rc) return cli_fail("keygen", EXIT_IO, "%s: %s", out, errno == EEXIST ? "exists (--force replaces it)" : strerror(errno));
    char *hex = cli_hex(pk, 32);
    if (!hex) return cli_fail("keygen", EXIT_FAILED, "out of memory");
    char line[80];
    snprintf(line, sizeof line, "%s\n", hex);
    mode_t um = umask(0);
    umask(um);
    rc = cli_write_file_mode(pubpath, (const uint8_t *)line, strlen(line), 0644 & ~(unsigned)um, !force);
    int err = errno;
    free(hex);
    if (rc) {
        unlink(out); /* a key whose .pub could not be written is not kept half-made */
        return cli_fail("keygen", EXIT_IO, "%s: %s", pubpath, err == EEXIST ? "exists (--force replaces it)" : strerror(err));
    }
    fputs(line, stdout);
    return 0;
}

static const cli_cmd sign_cmd = {
    "sign", "usage: gpurent sign --key KEYFILE PAYLOAD [-o OUT] [--expires-in SECONDS] [--subject TEXT] [--now T]\n",
    "Sign a canonical record (PAYLOAD, e.g. from `gpurent encode`) into an envelope. The statement\n"
    "type is the record's type; the window is [now, now + expires-in] (default one day).\n",
    (const cli_optdef[]){{"--key", OPT_STR, 0, 0, 0}, {"-o", OPT_STR, 0, 0, 0},
                         {"--expires-in", OPT_U64, 0, 1, 1ull << 40}, {"--subject", OPT_STR, 0, 0, 0}, NOW_OPT,
                         PASS_OPTS, END_OPT},
    1, 1, "PAYLOAD file"};

int cmd_sign(int argc, char **argv)
{
    cli_args a;
    int prc = cli_parse(&sign_cmd, argc, argv, &a);
    if (prc) return prc < 0 ? 0 : prc;
    if (!cli_opt(&a, "--key")) return cli_usage_error(&a, "--key KEYFILE is required");
    const char *in = a.pos[0];
    uint8_t *data;
    size_t len;
    if (cli_read_file(in, &data, &len)) return cli_fail("sign", EXIT_IO, "%s: %s", in, strerror(errno));
    gpurent_envelope hdr;
    gpurent_envelope_init(&hdr);
    int rc = gpurent_wire_record_type(data, len, &hdr.statement);
    if (rc) { free(data); return cli_fail_status("sign", rc, EXIT_INPUT); }
    hdr.issued_at = cli_now(&a);
    hdr.expires_at = hdr.issued_at + cli_opt_u64(&a, "--expires-in", 86400);
    const char *subj = cli_opt(&a, "--subject");
    if (subj && (rc = gpurent_envelope_set_subject(&hdr, (const uint8_t *)subj, strlen(subj)))) {
        free(data);
        return cli_fail_status("sign", rc, EXIT_USAGE);
    }
    gpurent_key *key = NULL;
    if ((rc = cli_load_key(&a, &key))) { free(data); return rc; }
    gpurent_buf env = {0};
    rc = gpurent_envelope_sign(key, &hdr, data, len, &env);
    gpurent_key_free(key);
    free(data);
    if (rc) return cli_fail_status("sign", rc, is_input_error(rc) ? EXIT_INPUT : EXIT_FAILED);
    const char *out = cli_opt(&a, "-o");
    if (!out) out = "-";
    rc = cli_write_file(out, env.data, env.len);
    gpurent_buf_free(&env);
    return rc ? cli_fail("sign", EXIT_IO, "%s: %s", out, strerror(errno)) : 0;
}

static const cli_cmd cosign_cmd = {
    "cosign", "usage: gpurent cosign --key KEYFILE ENVELOPE [-o OUT]\n",
    "Add the key's signature to an envelope (k-of-n quorum statements). cosign checks only that the\n"
    "envelope is well formed and that this key has not signed it yet: it does not check the existing\n"
    "signatures nor the payload. Verify first and compare the payload with your own result (for a\n"
    "match receipt: run the same `gpurent match` and `cmp` the receipts; docs/cli.md).\n",
    (const cli_optdef[]){{"--key", OPT_STR, 0, 0, 0}, {"-o", OPT_STR, 0, 0, 0}, PASS_OPTS, END_OPT},
    1, 1, "ENVELOPE file"};

int cmd_cosign(int argc, char **argv)
{
    cli_args a;
    int prc = cli_parse(&cosign_cmd, argc, argv, &a);
    if (prc) return prc < 0 ? 0 : prc;
    if (!cli_opt(&a, "--key")) return cli_usage_error(&a, "--key KEYFILE is required");
    const char *in = a.pos[0];
    uint8_t *data;
    size_t len;
    if (cli_read_file(in, &data, &len)) return cli_fail("cosign", EXIT_IO, "%s: %s", in, strerror(errno));
    gpurent_key *key = NULL;
    int rc = cli_load_key(&a, &key);
    if (rc) { free(data); return rc; }
    gpurent_buf env = {0};
    rc = gpurent_envelope_cosign(key, data, len, &env);
    gpurent_key_free(key);
    free(data);
    if (rc) return cli_fail_status("cosign", rc, is_input_error(rc) ? EXIT_INPUT : EXIT_FAILED);
    const char *out = cli_opt(&a, "-o");
    if (!out) out = "-";
    rc = cli_write_file(out, env.data, env.len);
    gpurent_buf_free(&env);
    return rc ? cli_fail("cosign", EXIT_IO, "%s: %s", out, strerror(errno)) : 0;
}

/* A Unix time in a trust file: a JSON integer, 0 .. 2^63-1 (0 = no bound).
 * A float, a string or a negative number would have been read as 0 (for
 * ever valid): it is an error. */
static int trust_time(json_t *k, const char *name, uint64_t *out)
{
    json_t *v = json_object_get(k, name);
    *out = 0;
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int trust_key(const char *cmd, const char *path, size_t i, json_t *k, gpurent_trust *t)
{
    if (!json_is_object(k)) return cli_fail(cmd, EXIT_INPUT, "%s: keys[%zu]: expected an object", path, i);
    const char *name;
    json_t *v;
    json_object_foreach(k, name, v) {
        if (strcmp(name, "key") && strcmp(name, "roles") && strcmp(name, "not_before") && strcmp(name, "not_after"))
            return cli_fail(cmd, EXIT_INPUT, "%s: keys[%zu]: unknown field '%s' (key, roles, not_before, not_after)",
                            path, i, name);
    }
    uint8_t pk[32];
    const char *hex = json_string_value(json_object_get(k, "key"));
    if (!hex || cli_unhex(hex, pk, 32))
        return cli_fail(cmd, EXIT_INPUT, "%s: keys[%zu].key: expected 64 hex digits", path, i);
    json_t *rl = json_object_get(k, "roles"), *r;
    if (!json_is_array(rl) || json_array_size(rl) == 0)
        return cli_fail(cmd, EXIT_INPUT, "%s: keys[%zu].roles: expected a non-empty array of role names", path, i);
    uint32_t roles = 0;
    size_t x;
    json_array_foreach(rl, x, r) {
        uint32_t b = json_string_value(r) ? cli_role_bit(json_string_value(r)) : 0;
        if (!b)
            return cli_fail(cmd, EXIT_INPUT,
                            "%s: keys[%zu].roles[%zu]: unknown role (provider, auditor, matcher, revoker, requester)",
                            path, i, x);
        roles |= b;
    }
    uint64_t nb, na;
    if (trust_time(k, "not_before", &nb))
        return cli_fail(cmd, EXIT_INPUT, "%s: keys[%zu].not_before: expected a non-negative integer (Unix seconds)", path, i);
    if (trust_time(k, "not_after", &na))
        return cli_fail(cmd, EXIT_INPUT, "%s: keys[%zu].not_after: expected a non-negative integer (Unix seconds)", path, i);
    int rc = gpurent_trust_add(t, pk, roles, nb, na);
    return rc ? cli_fail_status(cmd, rc, EXIT_INPUT) : 0;
}

/* Trust file (JSON): {"keys": [{"key": HEX, "roles": ["auditor"], "not_before": 0,
 * "not_after": 0}], "revoked": [HEX]}. Read strictly: a wrong type, an unknown
 * field or a duplicate key is an error, never a default (fail closed). */
int cli_load_trust(const char *cmd, const char *path, gpurent_trust **out)
{
    int code = 0;
    json_t *j = cli_load_json(cmd, path, &code);
    if (!j) return code;
    gpurent_trust *t = NULL;
    int rc = gpurent_trust_new(&t, NULL);
    json_t *keys = json_object_get(j, "keys"), *revoked = json_object_get(j, "revoked"), *k;
    const char *name;
    size_t i;
    if (rc) code = cli_fail_status(cmd, rc, EXIT_FAILED);
    else if (!json_is_object(j)) code = cli_fail(cmd, EXIT_INPUT, "%s: expected a JSON object", path);
    else if (!json_is_array(keys)) code = cli_fail(cmd, EXIT_INPUT, "%s: \"keys\" must be an array", path);
    else if (revoked && !json_is_array(revoked)) code = cli_fail(cmd, EXIT_INPUT, "%s: \"revoked\" must be an array", path);
    if (!code)
        json_object_foreach(j, name, k) {
            if (strcmp(name, "keys") && strcmp(name, "revoked")) {
                code = cli_fail(cmd, EXIT_INPUT, "%s: unknown field '%s' (keys, revoked)", path, name);
                break;
            }
        }
    if (!code)
        json_array_foreach(keys, i, k) {
            if ((code = trust_key(cmd, path, i, k, t))) break;
        }
    if (!code)
        json_array_foreach(revoked, i, k) {
            uint8_t pk[32];
            if (!json_string_value(k) || cli_unhex(json_string_value(k), pk, 32)) {
                code = cli_fail(cmd, EXIT_INPUT, "%s: revoked[%zu]: expected 64 hex digits", path, i);
                break;
            }
            if ((rc = gpurent_trust_revoke(t, pk))) { code = cli_fail_status(cmd, rc, EXIT_INPUT); break; }
        }
    json_decref(j);
    if (code) { gpurent_trust_free(t); return code; }
    *out = t;
    return 0;
}

static const cli_cmd verify_cmd = {
    "verify",
    "usage: gpurent verify --trust TRUST.json ENVELOPE [--now T] [--skew S] [--quorum K]\n"
    "                      [--role ROLE] [--payload-out FILE] [--replay-state FILE]\n",
    "Verify a signed envelope: canonical form, signatures, validity window, issuer roles,\n"
    "revocation and quorum. Prints a JSON summary; exit 0 when valid, 1 when not (the status\n"
    "name says why), 4 when the envelope is malformed. ROLE: provider, auditor, matcher, revoker\n"
    "or requester. TRUST.json (strict: unknown fields and wrong types are errors):\n"
    "  {\"keys\": [{\"key\": HEX, \"roles\": [\"provider\"], \"not_before\": 0, \"not_after\": 0}],\n"
    "   \"revoked\": [HEX]}\n"
    "--replay-state FILE: a trust store snapshot holding the statements accepted before; a\n"
    "statement seen there is refused (GPURENT_E_REPLAYED, exit 1). FILE is read when it exists\n"
    "(exit 4 when it is not a valid trust snapshot, 3 when it cannot be read; it is then left\n"
    "as it is) and, when the envelope is valid, rewritten crash-safely with it remembered.\n",
    (const cli_optdef[]){{"--trust", OPT_STR, 0, 0, 0}, NOW_OPT, {"--skew", OPT_U64, 0, 0, 86400},
                         {"--quorum", OPT_U64, 0, 1, 64}, {"--role", OPT_STR, 0, 0, 0},
                         {"--payload-out", OPT_STR, 0, 0, 0}, {"--replay-state", OPT_STR, 0, 0, 0}, END_OPT},
    1, 1, "ENVELOPE file"};

/* The replay window of --replay-state into t: nothing when the file does
 * not exist yet (first run); a file that exists must load. */
static int load_replay_state(const char *path, gpurent_trust *t, uint64_t *seq)
{
    struct stat st;
    *seq = 0;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) return 0;
        return cli_fail("verify", EXIT_IO, "--replay-state %s: %s", path, strerror(errno));
    }
    gpurent_trust *saved = NULL;
    int rc = gpurent_trust_load_file(&saved, path, NULL, seq);
    if (rc)
        return cli_fail("verify", rc == GPURENT_E_IO ? EXIT_IO : EXIT_INPUT, "--replay-state %s: %s: %s", path,
                        gpurent_status_name(rc), gpurent_last_error_message());
    rc = gpurent_trust_adopt_replay(t, saved);
    gpurent_trust_free(saved);
    return rc ? cli_fail_status("verify", rc, EXIT_FAILED) : 0;
}

int cmd_verify(int argc, char **argv)
{
    cli_args a;
    int prc = cli_parse(&verify_cmd, argc, argv, &a);
    if (prc) return prc < 0 ? 0 : prc;
    const char *tpath = cli_opt(&a, "--trust"), *in = a.pos[0];
    if (!tpath) return cli_usage_error(&a, "--trust TRUST.json is required");
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.check_replay = GPURENT_VERIFY_REPLAY_OFF; /* one statement, one run: nothing to replay against */
    o.quorum = (uint32_t)cli_opt_u64(&a, "--quorum", o.quorum);
    const char *s;
    if ((s = cli_opt(&a, "--role")) && !(o.required_role = cli_role_bit(s)))
        return cli_usage_error(&a, "--role: provider, auditor, matcher, revoker or requester, not '%s'", s);
    uint32_t skew = (uint32_t)cli_opt_u64(&a, "--skew", 60);
    uint8_t *data;
    size_t len;
    if (cli_read_file(in, &data, &len)) return cli_fail("verify", EXIT_IO, "%s: %s", in, strerror(errno));
    gpurent_trust *t = NULL;
    int rc = cli_load_trust("verify", tpath, &t);
    const char *state = cli_opt(&a, "--replay-state");
    uint64_t seq = 0;
    if (!rc && state) {
        o.check_replay = GPURENT_VERIFY_REPLAY_CHECK; /* the statements of earlier runs are in the state file */
        rc = load_replay_state(state, t, &seq);
        if (rc) gpurent_trust_free(t);
    }
    if (rc) { free(data); return rc; }
    gpurent_verified *res = NULL;
    rc = gpurent_envelope_verify(t, data, len, cli_now(&a), skew, &o, &res);
    free(data);
    if (rc) {
        gpurent_trust_free(t);
        return cli_fail_status("verify", rc, is_input_error(rc) ? EXIT_INPUT : EXIT_FAILED);
    }
    /* Accepted: remember it before saying so, or a failed save would let it through again. */
    if (state && (rc = gpurent_trust_save_file(t, seq + 1, state))) {
        gpurent_trust_free(t);
        gpurent_verified_free(res);
        return cli_fail("verify", EXIT_IO, "--replay-state %s: %s: %s", state, gpurent_status_name(rc),
                        gpurent_last_error_message());
    }
    gpurent_trust_free(t);
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
    const char *pout = cli_opt(&a, "--payload-out");
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
