/* attest: keys, key files, envelopes, trust store, quorum, revocation,
 * replay, bulk verification, the Ed25519 rule and the cross-check vectors. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "gpurent.h"
#include "attest/attest_internal.h"
#include "core/snap_internal.h"
#include "vectors/vecparse.h"

#define T0 1700000000ull
#define DAY 86400ull

static int valgrind(void)
{
    const char *v = getenv("GPURENT_TEST_VALGRIND");
    return v && v[0] == '1';
}

static gpurent_key *key_of(uint8_t b)
{
    uint8_t seed[32];
    gpurent_key *k = NULL;
    memset(seed, b, sizeof seed);
    assert_int_equal(gpurent_key_from_seed(&k, seed), GPURENT_OK);
    return k;
}

static void pk_of(uint8_t b, uint8_t pk[32])
{
    gpurent_key *k = key_of(b);
    gpurent_key_public(k, pk);
    gpurent_key_free(k);
}

/* A canonical record {0: type, 1: bin(n bytes)}. */
static size_t payload_rec(uint32_t type, uint8_t *p, size_t n)
{
    size_t o = 0;
    p[o++] = 0x82;
    p[o++] = 0x00;
    p[o++] = (uint8_t)type;
    p[o++] = 0x01;
    if (n < 256) {
        p[o++] = 0xc4;
        p[o++] = (uint8_t)n;
    } else {
        p[o++] = 0xc5;
        p[o++] = (uint8_t)(n >> 8);
        p[o++] = (uint8_t)n;
    }
    for (size_t i = 0; i < n; i++) p[o++] = (uint8_t)(i * 7 + type);
    return o;
}

static gpurent_buf sign_env(gpurent_key *k, uint32_t st, uint64_t issued, uint64_t expires, uint8_t nonce,
                            size_t payload_bytes)
{
    uint8_t payload[2048];
    gpurent_envelope h;
    gpurent_buf out = {0};
    gpurent_envelope_init(&h);
    h.statement = st;
    h.issued_at = issued;
    h.expires_at = expires;
    memset(h.nonce, nonce, sizeof h.nonce);
    memcpy(h.subject, "node-7", 6);
    h.subject_len = 6;
    size_t n = payload_rec(st, payload, payload_bytes);
    assert_int_equal(gpurent_envelope_sign(k, &h, payload, n, &out), GPURENT_OK);
    return out;
}

/* Keys 1: provider, 2: auditor, 3-5: matchers, 6: revoker, all valid from T0 - DAY. */
static gpurent_trust *store(uint32_t replay_capacity)
{
    gpurent_trust_options o = GPURENT_TRUST_OPTIONS_INIT;
    gpurent_trust *t = NULL;
    static const uint32_t roles[7] = {0, GPURENT_ROLE_PROVIDER, GPURENT_ROLE_AUDITOR, GPURENT_ROLE_MATCHER,
                                      GPURENT_ROLE_MATCHER, GPURENT_ROLE_MATCHER, GPURENT_ROLE_REVOKER};
    o.replay_capacity = replay_capacity;
    assert_int_equal(gpurent_trust_new(&t, &o), GPURENT_OK);
    for (uint8_t i = 1; i <= 6; i++) {
        uint8_t pk[32];
        pk_of(i, pk);
        assert_int_equal(gpurent_trust_add(t, pk, roles[i], T0 - DAY, 0), GPURENT_OK);
    }
    return t;
}

static int verify_at(gpurent_trust *t, const gpurent_buf *e, uint64_t now, uint32_t quorum, int replay)
{
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.quorum = quorum;
    o.check_replay = replay ? GPURENT_VERIFY_REPLAY_CHECK : GPURENT_VERIFY_REPLAY_OFF;
    return gpurent_envelope_verify(t, e->data, e->len, now, 60, &o, NULL);
}

/* ---------------- keys ---------------- */

static void test_keys(void **state)
{
    (void)state;
    uint8_t seed[32], pk[32], pk2[32], want[32];
    gpurent_key *k = NULL, *k2 = NULL;
    /* RFC 8032 section 7.1, test 1: seed -> public key. */
    vec_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed, 32);
    vec_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", want, 32);
    assert_int_equal(gpurent_key_from_seed(&k, seed), GPURENT_OK);
    assert_int_equal(gpurent_key_public(k, pk), GPURENT_OK);
    assert_memory_equal(pk, want, 32);
    gpurent_key_free(k);
    assert_int_equal(gpurent_key_generate(&k), GPURENT_OK);
    assert_int_equal(gpurent_key_generate(&k2), GPURENT_OK);
    gpurent_key_public(k, pk);
    gpurent_key_public(k2, pk2);
    assert_memory_not_equal(pk, pk2, 32);
    gpurent_key_free(k);
    gpurent_key_free(k2);
    gpurent_key_free(NULL);
    assert_int_equal(gpurent_key_from_seed(&k, NULL), GPURENT_E_INVALID_ARG);
    assert_null(k);
    assert_int_equal(gpurent_key_generate(NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_key_public(NULL, pk), GPURENT_E_INVALID_ARG);
}

static gpurent_keyfile_options fast_kdf(void)
{
    gpurent_keyfile_options o;
    assert_int_equal(gpurent_keyfile_options_init(&o, GPURENT_KEYFILE_OPTIONS_VERSION), GPURENT_OK);
    assert_int_equal(o.opslimit, 2);
    o.opslimit = 1;
    o.memlimit = 64 * 1024;
    return o;
}

static void test_keyfile(void **state)
{
    (void)state;
    gpurent_keyfile_options o = fast_kdf();
    gpurent_key *k = key_of(9), *back = NULL;
    uint8_t pk[32], pk2[32], other[32];
    gpurent_buf f = {0};
    gpurent_key_public(k, pk);
    pk_of(8, other);
    assert_int_equal(gpurent_key_seal(k, "correct horse", &o, &f), GPURENT_OK);
    assert_int_equal(f.len, 176);
    /* The limits are recorded in the file (big-endian at 12 and 16). */
    assert_int_equal(f.data[15], 1);
    assert_int_equal(f.data[21], 0x01); /* 64 KiB = 0x10000 */
    assert_int_equal(gpurent_key_unseal(&back, f.data, f.len, "correct horse", pk), GPURENT_OK);
    gpurent_key_public(back, pk2);
    assert_memory_equal(pk, pk2, 32);
    gpurent_key_free(back);
    assert_int_equal(gpurent_key_unseal(&back, f.data, f.len, "wrong horse", NULL), GPURENT_E_WRONG_PASSPHRASE);
    assert_null(back);
    assert_int_equal(gpurent_key_unseal(&back, f.data, f.len, "correct horse", other), GPURENT_E_KEY_MISMATCH);
    assert_null(back);
    /* Any single flipped bit is a damaged file, found before any KDF work. */
    for (size_t bit = 0; bit < f.len * 8; bit += valgrind() ? 13 : 1) {
        f.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(gpurent_key_unseal(&back, f.data, f.len, "correct horse", NULL), GPURENT_E_KEYFILE_DAMAGED);
        f.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(gpurent_key_unseal(&back, f.data, f.len - 1, "correct horse", NULL), GPURENT_E_KEYFILE_DAMAGED);
    /* An intact file whose recorded public key is not the seed's. */
    f.data[64] ^= 0x40;
    crypto_generichash(f.data + 144, 32, f.data, 144, NULL, 0);
    assert_int_equal(gpurent_key_unseal(&back, f.data, f.len, "correct horse", NULL), GPURENT_E_KEY_MISMATCH);
    /* Limits beyond the allowed range in an intact file: damaged, no KDF run. */
    f.data[64] ^= 0x40;
    f.data[16] = 0x7f;
    crypto_generichash(f.data + 144, 32, f.data, 144, NULL, 0);
    assert_int_equal(gpurent_key_unseal(&back, f.data, f.len, "correct horse", NULL), GPURENT_E_KEYFILE_DAMAGED);
    assert_non_null(strstr(gpurent_last_error_message(), "memlimit"));
    gpurent_buf_free(&f);
    /* Bad arguments. */
    assert_int_equal(gpurent_key_seal(k, "", &o, &f), GPURENT_E_INVALID_ARG);
    o.memlimit = 1ull << 40;
    assert_int_equal(gpurent_key_seal(k, "x", &o, &f), GPURENT_E_INVALID_ARG);
    o.version = 99;
    assert_int_equal(gpurent_key_seal(k, "x", &o, &f), GPURENT_E_VERSION);
    assert_int_equal(gpurent_keyfile_options_init(&o, 0), GPURENT_E_VERSION);
    /* Files: written 0600, loaded back. */
    char dir[] = "/tmp/gpurent-attest-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/provider.key", dir);
    o = fast_kdf();
    assert_int_equal(gpurent_key_save(k, path, "pw", &o), GPURENT_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(gpurent_key_load(&back, path, "pw", pk), GPURENT_OK);
    gpurent_key_free(back);
    assert_int_equal(gpurent_key_load(&back, path, "pw2", NULL), GPURENT_E_WRONG_PASSPHRASE);
    unlink(path);
    assert_int_equal(gpurent_key_load(&back, path, "pw", NULL), GPURENT_E_IO);
    rmdir(dir);
    gpurent_key_free(k);
}

static size_t read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static uint32_t dir_entries(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    unsigned n = 0;
    assert_int_equal(fscanf(p, "%u", &n), 1);
    pclose(p);
    return n;
}

/* A symlink planted at the old fixed temporary name
 * ("<path>.tmp") or at the target never receives the sealed key (0.2.0
 * opened "<path>.tmp" with O_TRUNC and wrote through the link); the key
 * lands in a fresh 0600 file and nothing else is left behind, and
 * gpurent_key_save_new never replaces anything. */
static void test_keyfile_symlinks(void **state)
{
    (void)state;
    gpurent_key *k = key_of(9), *back = NULL;
    uint8_t pk[32];
    gpurent_key_public(k, pk);
    gpurent_keyfile_options o = fast_kdf();
    char dir[] = "/tmp/gpurent-keysym-XXXXXX", path[128], tmp[160], victim[128], buf[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/provider.key", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    FILE *f = fopen(victim, "wb");
    assert_non_null(f);
    fputs("untouched", f);
    fclose(f);
    /* A link at the old temporary name. */
    assert_int_equal(symlink(victim, tmp), 0);
    assert_int_equal(gpurent_key_save(k, path, "pw", &o), GPURENT_OK);
    assert_int_equal(read_small(victim, buf, sizeof buf), 9);
    assert_memory_equal(buf, "untouched", 9);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(gpurent_key_load(&back, path, "pw", pk), GPURENT_OK);
    gpurent_key_free(back);
    assert_int_equal(dir_entries(dir), 3); /* victim, the planted link, the key: no temporary left */
    unlink(tmp);
    /* A link at the target: replaced, never followed. */
    unlink(path);
    assert_int_equal(symlink(victim, path), 0);
    assert_int_equal(gpurent_key_save(k, path, "pw", &o), GPURENT_OK);
    assert_int_equal(read_small(victim, buf, sizeof buf), 9);
    assert_memory_equal(buf, "untouched", 9);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(gpurent_key_load(&back, path, "pw", pk), GPURENT_OK);
    gpurent_key_free(back);
    /* save_new: refuses a file, a link (dangling too), creates when free. */
    assert_int_equal(gpurent_key_save_new(k, path, "pw2", &o), GPURENT_E_EXISTS);
    assert_int_equal(gpurent_key_load(&back, path, "pw", pk), GPURENT_OK); /* the old one stays */
    gpurent_key_free(back);
    unlink(path);
    char dangling[160];
    snprintf(dangling, sizeof dangling, "%s/nowhere", dir);
    assert_int_equal(symlink(dangling, path), 0);
    assert_int_equal(gpurent_key_save_new(k, path, "pw", &o), GPURENT_E_EXISTS);
    assert_int_equal(access(dangling, F_OK), -1);
    unlink(path);
    assert_int_equal(gpurent_key_save_new(k, path, "pw", &o), GPURENT_OK);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(gpurent_key_load(&back, path, "pw", pk), GPURENT_OK);
    gpurent_key_free(back);
    assert_int_equal(dir_entries(dir), 2); /* victim, the key */
    /* A path in a missing folder, a path naming a folder. */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such.key", dir);
    assert_int_equal(gpurent_key_save(k, missing, "pw", &o), GPURENT_E_IO);
    snprintf(missing, sizeof missing, "%s/", dir);
    assert_int_equal(gpurent_key_save(k, missing, "pw", &o), GPURENT_E_IO);
    unlink(path);
    unlink(victim);
    assert_int_equal(rmdir(dir), 0);
    gpurent_key_free(k);
}

/* ---------------- envelopes ---------------- */

/* The signed message rebuilt from docs/wire-format.md, independently of lib/attest. */
static size_t doc_message(const uint8_t *env, size_t body_rest_len, uint32_t statement, uint8_t *m)
{
    static const char ctx[] = "libgpurent envelope v1";
    uint64_t fields[5] = {3, sizeof ctx - 1, 8, statement, body_rest_len + 1};
    size_t o = 0;
    for (int f = 0; f < 5; f++) {
        for (int i = 0; i < 8; i++) m[o++] = (uint8_t)(fields[f] >> (8 * i));
        if (f == 1) {
            memcpy(m + o, ctx, sizeof ctx - 1);
            o += sizeof ctx - 1;
        }
    }
    m[o++] = 0x88;
    memcpy(m + o, env + 1, body_rest_len);
    return o + body_rest_len;
}

static void test_sign_verify(void **state)
{
    (void)state;
    gpurent_trust *t = store(64);
    gpurent_key *k = key_of(1);
    uint8_t pk[32], d1[32], d2[32], m[4096], payload[600];
    gpurent_key_public(k, pk);
    gpurent_buf e = sign_env(k, GPURENT_RECORD_OFFER, T0, T0 + DAY, 0x42, 500);
    gpurent_verified *v = NULL;
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, T0 + 10, 60, NULL, &v), GPURENT_OK);
    gpurent_envelope h;
    assert_int_equal(gpurent_verified_header(v, &h), GPURENT_OK);
    assert_int_equal(h.statement, GPURENT_RECORD_OFFER);
    assert_memory_equal(h.issuer, pk, 32);
    assert_int_equal(h.issued_at, T0);
    assert_int_equal(h.expires_at, T0 + DAY);
    assert_int_equal(h.subject_len, 6);
    assert_int_equal(h.signature_count, 1);
    size_t plen = payload_rec(GPURENT_RECORD_OFFER, payload, 500), got_len = 0;
    gpurent_buf p = {0};
    assert_int_equal(gpurent_verified_payload(v, &p), GPURENT_OK);
    assert_int_equal(p.len, plen);
    assert_memory_equal(p.data, payload, plen);
    assert_ptr_not_equal(gpurent_verified_payload_data(v, &got_len), NULL);
    assert_int_equal(got_len, plen);
    gpurent_buf_free(&p);
    assert_int_equal(gpurent_verified_signer_count(v), 1);
    uint8_t s0[32];
    assert_int_equal(gpurent_verified_signer(v, 0, s0), GPURENT_OK);
    assert_memory_equal(s0, pk, 32);
    assert_int_equal(gpurent_verified_signer(v, 1, s0), GPURENT_E_NOT_FOUND);
    /* The signature is over the documented message: rebuild it here. The body
     * ends where key 8 starts, 1 + 3 + 103 bytes before the end. */
    size_t rest = e.len - 1 - 1 - 1 - 103;
    assert_int_equal(e.data[1 + rest], 0x08);
    size_t ml = doc_message(e.data, rest, GPURENT_RECORD_OFFER, m);
    assert_int_equal(crypto_sign_verify_detached(e.data + e.len - 64, m, ml, pk), 0);
    /* Digest: BLAKE2b-256 of that message, from the envelope or the result. */
    assert_int_equal(gpurent_envelope_digest(e.data, e.len, d1), GPURENT_OK);
    assert_int_equal(gpurent_verified_digest(v, d2), GPURENT_OK);
    assert_memory_equal(d1, d2, 32);
    crypto_generichash(d2, 32, m, ml, NULL, 0);
    assert_memory_equal(d1, d2, 32);
    gpurent_verified_free(v);
    gpurent_verified_free(NULL);
    /* Decode (untrusted peek) gives the same header. */
    gpurent_envelope peek;
    assert_int_equal(gpurent_envelope_decode(e.data, e.len, &peek), GPURENT_OK);
    assert_memory_equal(&peek, &h, sizeof h);
    gpurent_buf_free(&e);
    gpurent_key_free(k);
    gpurent_trust_free(t);
}

static void test_sign_rejects(void **state)
{
    (void)state;
    gpurent_key *k = key_of(1);
    uint8_t payload[64];
    gpurent_envelope h;
    gpurent_buf e = {0}, e2 = {0};
    size_t n = payload_rec(GPURENT_RECORD_OFFER, payload, 10);
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_OFFER;
    h.issued_at = T0;
    h.expires_at = T0 + 1;
    /* A zero nonce is replaced by a random one: two signings differ. */
    assert_int_equal(gpurent_envelope_sign(k, &h, payload, n, &e), GPURENT_OK);
    assert_int_equal(gpurent_envelope_sign(k, &h, payload, n, &e2), GPURENT_OK);
    assert_int_equal(e.len, e2.len);
    assert_memory_not_equal(e.data, e2.data, e.len);
    gpurent_buf_free(&e);
    gpurent_buf_free(&e2);
    h.statement = GPURENT_RECORD_REQUEST; /* payload is an offer */
    assert_int_equal(gpurent_envelope_sign(k, &h, payload, n, &e), GPURENT_E_INVALID_FIELD);
    h.statement = GPURENT_RECORD_ENVELOPE;
    assert_int_equal(gpurent_envelope_sign(k, &h, payload, n, &e), GPURENT_E_INVALID_FIELD);
    h.statement = GPURENT_RECORD_OFFER;
    h.expires_at = T0;
    assert_int_equal(gpurent_envelope_sign(k, &h, payload, n, &e), GPURENT_E_INVALID_FIELD);
    assert_non_null(strstr(gpurent_last_error_message(), "expires_at"));
    h.expires_at = T0 + 1;
    h.subject_len = GPURENT_SUBJECT_MAX + 1;
    assert_int_equal(gpurent_envelope_sign(k, &h, payload, n, &e), GPURENT_E_INVALID_FIELD);
    h.subject_len = 0;
    uint8_t bad[8] = {0x82, 0x00, 0x02, 0x01, 0xcc, 0x05, 0, 0}; /* 5 as uint8: not shortest */
    assert_int_equal(gpurent_envelope_sign(k, &h, bad, 6, &e), GPURENT_E_NONCANONICAL);
    pk_of(2, h.issuer);
    assert_int_equal(gpurent_envelope_sign(k, &h, payload, n, &e), GPURENT_E_KEY_MISMATCH);
    assert_int_equal(gpurent_envelope_set_subject(&h, payload, 200), GPURENT_E_LIMIT);
    assert_int_equal(gpurent_envelope_set_subject(&h, payload, 3), GPURENT_OK);
    assert_int_equal(h.subject_len, 3);
    assert_null(e.data);
    gpurent_key_free(k);
}

static void test_verify_statuses(void **state)
{
    (void)state;
    gpurent_trust *t = store(64);
    gpurent_key *prov = key_of(1), *aud = key_of(2), *out = key_of(7);
    uint8_t pk[32];
    gpurent_buf e = sign_env(prov, GPURENT_RECORD_OFFER, T0, T0 + DAY, 1, 40);
    uint64_t now = T0 + 100;
    assert_int_equal(verify_at(t, &e, now, 1, 1), GPURENT_OK);
    assert_int_equal(verify_at(t, &e, now, 1, 1), GPURENT_E_REPLAYED);
    assert_int_equal(verify_at(t, &e, now, 1, 0), GPURENT_OK); /* no replay check: fine */
    assert_int_equal(verify_at(t, &e, T0 + DAY + 61, 1, 0), GPURENT_E_EXPIRED);
    assert_int_equal(verify_at(t, &e, T0 + DAY + 60, 1, 0), GPURENT_OK);
    assert_int_equal(verify_at(t, &e, T0 - 61, 1, 0), GPURENT_E_NOT_YET_VALID);
    assert_int_equal(verify_at(t, &e, T0 - 60, 1, 0), GPURENT_OK);
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.statement = GPURENT_RECORD_AUDIT_REPORT;
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, now, 0, &o, NULL), GPURENT_E_WRONG_RECORD);
    o.statement = 0;
    o.required_role = GPURENT_ROLE_AUDITOR;
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, now, 0, &o, NULL), GPURENT_E_ROLE_NOT_ALLOWED);
    o.version = 7;
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, now, 0, &o, NULL), GPURENT_E_VERSION);
    gpurent_verify_options_init(&o, GPURENT_VERIFY_OPTIONS_VERSION);
    o.quorum = GPURENT_ENVELOPE_MAX_SIGS + 1;
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, now, 0, &o, NULL), GPURENT_E_INVALID_ARG);
    o.quorum = 1;
    o.check_replay = GPURENT_VERIFY_REPLAY_OFF + 1;
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, now, 0, &o, NULL), GPURENT_E_INVALID_ARG);
    /* Role by default from the statement type: an auditor cannot sign offers. */
    gpurent_buf ea = sign_env(aud, GPURENT_RECORD_OFFER, T0, T0 + DAY, 2, 40);
    assert_int_equal(verify_at(t, &ea, now, 1, 0), GPURENT_E_ROLE_NOT_ALLOWED);
    assert_non_null(strstr(gpurent_last_error_message(), "issuer"));
    gpurent_buf eo = sign_env(out, GPURENT_RECORD_OFFER, T0, T0 + DAY, 3, 40);
    assert_int_equal(verify_at(t, &eo, now, 1, 0), GPURENT_E_UNKNOWN_ISSUER);
    /* Key validity window in the store. */
    pk_of(7, pk);
    assert_int_equal(gpurent_trust_add(t, pk, GPURENT_ROLE_PROVIDER, T0 + 1000, T0 + 2000), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(t, pk, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_E_EXISTS);
    assert_int_equal(verify_at(t, &eo, T0 + 100, 1, 0), GPURENT_E_NOT_YET_VALID);
    assert_int_equal(verify_at(t, &eo, T0 + 1500, 1, 0), GPURENT_OK);
    assert_int_equal(verify_at(t, &eo, T0 + 2100, 1, 0), GPURENT_E_EXPIRED);
    /* Revoked beats everything about the issuer. */
    assert_int_equal(gpurent_trust_revoke(t, pk), GPURENT_OK);
    assert_int_equal(gpurent_trust_revoke(t, pk), GPURENT_OK);
    assert_int_equal(gpurent_trust_is_revoked(t, pk), 1);
    assert_int_equal(verify_at(t, &eo, T0 + 1500, 1, 0), GPURENT_E_REVOKED);
    /* Bad signature: a valid envelope of key 1 re-labelled as key 2's. */
    gpurent_buf eb = sign_env(prov, GPURENT_RECORD_AUDIT_REPORT, T0, T0 + DAY, 4, 40);
    uint8_t pk1[32], pk2[32];
    pk_of(1, pk1);
    pk_of(2, pk2);
    for (size_t i = 0; i + 32 <= eb.len; i++)
        if (memcmp(eb.data + i, pk1, 32) == 0) memcpy(eb.data + i, pk2, 32);
    assert_int_equal(verify_at(t, &eb, now, 1, 0), GPURENT_E_BAD_SIGNATURE);
    /* Wire-level failures. */
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len - 1, now, 0, NULL, NULL), GPURENT_E_TRUNCATED);
    uint8_t c1 = 0xc1;
    assert_int_equal(gpurent_envelope_verify(t, &c1, 1, now, 0, NULL, NULL), GPURENT_E_MALFORMED);
    uint8_t *longer = malloc(e.len + 1);
    memcpy(longer, e.data, e.len);
    longer[e.len] = 0;
    assert_int_equal(gpurent_envelope_verify(t, longer, e.len + 1, now, 0, NULL, NULL), GPURENT_E_NONCANONICAL);
    free(longer);
    assert_int_equal(gpurent_envelope_verify(NULL, e.data, e.len, now, 0, NULL, NULL), GPURENT_E_INVALID_ARG);
    gpurent_buf_free(&e);
    gpurent_buf_free(&ea);
    gpurent_buf_free(&eo);
    gpurent_buf_free(&eb);
    gpurent_key_free(prov);
    gpurent_key_free(aud);
    gpurent_key_free(out);
    gpurent_trust_free(t);
}

static void test_trust_store(void **state)
{
    (void)state;
    gpurent_trust *t = store(8);
    uint8_t pk[32], bad[32];
    uint32_t roles = 0;
    assert_int_equal(gpurent_trust_key_count(t), 6);
    pk_of(3, pk);
    assert_int_equal(gpurent_trust_roles(t, pk, &roles), GPURENT_OK);
    assert_int_equal(roles, GPURENT_ROLE_MATCHER);
    assert_int_equal(gpurent_trust_remove(t, pk), GPURENT_OK);
    assert_int_equal(gpurent_trust_remove(t, pk), GPURENT_E_NOT_FOUND);
    assert_int_equal(gpurent_trust_roles(t, pk, &roles), GPURENT_E_NOT_FOUND);
    assert_int_equal(gpurent_trust_add(t, pk, 0, 0, 0), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_trust_add(t, pk, 1u << 9, 0, 0), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_trust_add(t, pk, 1, 10, 5), GPURENT_E_INVALID_ARG);
    /* Small-order, non-canonical and mixed-order keys are refused. */
    memset(bad, 0, 32);
    bad[0] = 1;
    assert_int_equal(gpurent_trust_add(t, bad, 1, 0, 0), GPURENT_E_INVALID_ARG);
    memset(bad, 0xff, 32);
    bad[0] = 0xf0;
    bad[31] = 0x7f;
    assert_int_equal(gpurent_trust_add(t, bad, 1, 0, 0), GPURENT_E_INVALID_ARG);
    vec_hex("0169d3c02f3edd121cafbe1dfd45c4cf4aac216a79e36e6326419f2a654d2d46", bad, 32); /* mixed order */
    assert_int_equal(gpurent_trust_add(t, bad, 1, 0, 0), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_trust_key_count(t), 5);
    gpurent_trust_options o;
    assert_int_equal(gpurent_trust_options_init(&o, 1), GPURENT_OK);
    assert_int_equal(o.replay_capacity, 16384);
    o.replay_capacity = GPURENT_REPLAY_MAX + 1;
    gpurent_trust *t2 = NULL;
    assert_int_equal(gpurent_trust_new(&t2, &o), GPURENT_E_INVALID_ARG);
    assert_null(t2);
    assert_int_equal(gpurent_statement_default_role(GPURENT_RECORD_MATCH_RECEIPT), GPURENT_ROLE_MATCHER);
    assert_int_equal(gpurent_statement_default_role(99), 0);
    gpurent_trust_free(NULL);
    gpurent_trust_free(t);
}

/* ---------------- quorum ---------------- */

static void test_quorum(void **state)
{
    (void)state;
    gpurent_trust *t = store(64);
    gpurent_key *m[4] = {key_of(3), key_of(4), key_of(5), key_of(7)}; /* key 7 is not trusted */
    gpurent_buf e = sign_env(m[0], GPURENT_RECORD_MATCH_RECEIPT, T0, T0 + DAY, 9, 100), next = {0};
    uint64_t now = T0 + 5;
    assert_int_equal(verify_at(t, &e, now, 2, 0), GPURENT_E_QUORUM_NOT_MET);
    for (int i = 1; i < 4; i++) {
        assert_int_equal(gpurent_envelope_cosign(m[i], e.data, e.len, &next), GPURENT_OK);
        gpurent_buf_free(&e);
        e = next;
    }
    assert_int_equal(gpurent_envelope_cosign(m[2], e.data, e.len, &next), GPURENT_E_EXISTS);
    gpurent_verified *v = NULL;
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.quorum = 3;
    o.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, now, 0, &o, &v), GPURENT_OK);
    /* The outsider signed validly but does not count; counted keys ascend. */
    assert_int_equal(gpurent_verified_signer_count(v), 3);
    uint8_t a[32], b[32], want[32];
    for (uint32_t i = 0; i < 3; i++) {
        gpurent_verified_signer(v, i, a);
        if (i) assert_true(memcmp(b, a, 32) < 0);
        memcpy(b, a, 32);
        pk_of(7, want);
        assert_memory_not_equal(a, want, 32);
    }
    gpurent_verified_free(v);
    o.quorum = 4;
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, now, 0, &o, NULL), GPURENT_E_QUORUM_NOT_MET);
    /* A revoked co-signer stops counting; its signature is still checked. */
    pk_of(5, a);
    gpurent_trust_revoke(t, a);
    o.quorum = 3;
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, now, 0, &o, NULL), GPURENT_E_QUORUM_NOT_MET);
    o.quorum = 2;
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, now, 0, &o, NULL), GPURENT_OK);
    /* Any bad co-signature fails the whole envelope. */
    e.data[e.len - 1] ^= 0x01;
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, now, 0, &o, NULL), GPURENT_E_BAD_SIGNATURE);
    e.data[e.len - 1] ^= 0x01;
    /* The same key twice can never count twice: a repeated entry is refused,
     * and so is an unsorted list. Entries are 103 bytes at the end. */
    gr_env_view view;
    assert_int_equal(gr_env_parse(e.data, e.len, &view), GPURENT_OK);
    assert_int_equal(view.sig_count, 4);
    uint8_t *dup = malloc(e.len);
    memcpy(dup, e.data, e.len);
    memcpy(dup + e.len - 103, dup + e.len - 206, 103); /* last entry := the one before */
    assert_int_equal(gpurent_envelope_verify(t, dup, e.len, now, 0, &o, NULL), GPURENT_E_INVALID_FIELD);
    memcpy(dup, e.data, e.len);
    memcpy(dup + e.len - 103, e.data + e.len - 206, 103);
    memcpy(dup + e.len - 206, e.data + e.len - 103, 103); /* swap the last two */
    assert_int_equal(gpurent_envelope_verify(t, dup, e.len, now, 0, &o, NULL), GPURENT_E_NONCANONICAL);
    free(dup);
    gpurent_buf_free(&e);
    /* Up to GPURENT_ENVELOPE_MAX_SIGS signatures, then GPURENT_E_LIMIT. */
    e = sign_env(m[0], GPURENT_RECORD_MATCH_RECEIPT, T0, T0 + DAY, 10, 10);
    for (int i = 0; i < GPURENT_ENVELOPE_MAX_SIGS; i++) {
        gpurent_key *k = key_of((uint8_t)(100 + i));
        int rc = gpurent_envelope_cosign(k, e.data, e.len, &next);
        gpurent_key_free(k);
        if (i < GPURENT_ENVELOPE_MAX_SIGS - 1) {
            assert_int_equal(rc, GPURENT_OK);
            gpurent_buf_free(&e);
            e = next;
        } else {
            assert_int_equal(rc, GPURENT_E_LIMIT);
        }
    }
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, now, 0, &o, NULL), GPURENT_E_QUORUM_NOT_MET);
    o.quorum = 1;
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, now, 0, &o, NULL), GPURENT_OK);
    gpurent_buf_free(&e);
    for (int i = 0; i < 4; i++) gpurent_key_free(m[i]);
    gpurent_trust_free(t);
}

/* ---------------- revocation ---------------- */

static gpurent_buf revocation_env(gpurent_key *signer, uint8_t target, uint8_t nonce)
{
    gpurent_revocation r = {.revoked_at = T0, .reason = GPURENT_REVOKE_COMPROMISED};
    gpurent_buf p = {0}, e = {0};
    gpurent_envelope h;
    pk_of(target, r.key);
    assert_int_equal(gpurent_revocation_encode(&r, &p), GPURENT_OK);
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_REVOCATION;
    h.issued_at = T0;
    h.expires_at = T0 + DAY;
    memset(h.nonce, nonce, 16);
    assert_int_equal(gpurent_envelope_sign(signer, &h, p.data, p.len, &e), GPURENT_OK);
    gpurent_buf_free(&p);
    return e;
}

/* The public key of seed n (n in the first four bytes). */
static void pk_n(uint32_t n, uint8_t pk[32])
{
    uint8_t seed[32];
    memset(seed, 0xee, sizeof seed);
    memcpy(seed, &n, sizeof n);
    gpurent_key *k = NULL;
    assert_int_equal(gpurent_key_from_seed(&k, seed), GPURENT_OK);
    gpurent_key_public(k, pk);
    gpurent_key_free(k);
}

/* A revocation of `target` signed by `signer`, nonce from a counter. */
static int revoke_by(gpurent_trust *t, gpurent_key *signer, const uint8_t target[32], uint32_t nonce)
{
    gpurent_revocation r = {.revoked_at = T0, .reason = GPURENT_REVOKE_COMPROMISED};
    gpurent_buf p = {0}, e = {0};
    gpurent_envelope h;
    memcpy(r.key, target, 32);
    assert_int_equal(gpurent_revocation_encode(&r, &p), GPURENT_OK);
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_REVOCATION;
    h.issued_at = T0;
    h.expires_at = T0 + DAY;
    memcpy(h.nonce, &nonce, sizeof nonce);
    h.nonce[15] = 0x77;
    assert_int_equal(gpurent_envelope_sign(signer, &h, p.data, p.len, &e), GPURENT_OK);
    int rc = gpurent_trust_apply_revocation(t, e.data, e.len, T0 + 1, 0, NULL);
    gpurent_buf_free(&p);
    gpurent_buf_free(&e);
    return rc;
}

/* One revoker flooding revocations of keys that are not in
 * the store fills only its own share (0.2.0 took them all, up to 2^20, and
 * then refused every revocation, the one of the rogue included); another
 * revoker can still revoke, and revoke the rogue; a pending revocation
 * strikes the key when it is added, and goes when its revoker is removed. */
static void test_revoker_flood(void **state)
{
    (void)state;
    gpurent_trust *t = store(64);
    gpurent_key *rogue = key_of(6), *honest = key_of(7);
    uint8_t pk[32], rogue_pk[32], honest_pk[32];
    gpurent_key_public(rogue, rogue_pk);
    gpurent_key_public(honest, honest_pk);
    assert_int_equal(gpurent_trust_add(t, honest_pk, GPURENT_ROLE_REVOKER, T0 - DAY, 0), GPURENT_OK);
    for (uint32_t i = 0; i <= GPURENT_TRUST_MAX_PENDING_REVOCATIONS; i++) {
        pk_n(1000 + i, pk);
        assert_int_equal(revoke_by(t, rogue, pk, i), i < GPURENT_TRUST_MAX_PENDING_REVOCATIONS ? GPURENT_OK : GPURENT_E_LIMIT);
    }
    assert_non_null(strstr(gpurent_last_error_message(), "this revoker"));
    pk_n(1000, pk);
    assert_int_equal(gpurent_trust_is_revoked(t, pk), 1);
    /* Another revoker is not affected: a key not in the store, then the rogue. */
    uint8_t other[32];
    pk_n(99999, other);
    assert_int_equal(revoke_by(t, honest, other, 1), GPURENT_OK);
    assert_int_equal(gpurent_trust_is_revoked(t, other), 1);
    assert_int_equal(revoke_by(t, honest, rogue_pk, 2), GPURENT_OK);
    assert_int_equal(gpurent_trust_is_revoked(t, rogue_pk), 1);
    pk_n(50000, pk);
    assert_int_equal(revoke_by(t, rogue, pk, 50000), GPURENT_E_REVOKED);
    /* The rogue's earlier revocation strikes a key added later... */
    pk_n(1000, pk);
    assert_int_equal(gpurent_trust_add(t, pk, GPURENT_ROLE_PROVIDER, T0 - DAY, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_is_revoked(t, pk), 1);
    assert_int_equal(gpurent_trust_remove(t, pk), GPURENT_OK);
    assert_int_equal(gpurent_trust_is_revoked(t, pk), 1); /* revocation of a key once in the store is permanent */
    /* ...until the operator removes the rogue: its pending ones go with it. */
    assert_int_equal(gpurent_trust_remove(t, rogue_pk), GPURENT_OK);
    pk_n(1001, pk);
    assert_int_equal(gpurent_trust_is_revoked(t, pk), 0);
    assert_int_equal(gpurent_trust_add(t, pk, GPURENT_ROLE_PROVIDER, T0 - DAY, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_is_revoked(t, pk), 0);
    assert_int_equal(gpurent_trust_is_revoked(t, other), 1); /* the honest one's stays */
    assert_int_equal(gpurent_trust_is_revoked(t, rogue_pk), 1);
    pk_n(1000 + GPURENT_TRUST_MAX_PENDING_REVOCATIONS - 1, pk);
    assert_int_equal(gpurent_trust_is_revoked(t, pk), 0);
    gpurent_key_free(rogue);
    gpurent_key_free(honest);
    gpurent_trust_free(t);
}

/* Every invariant of the revocation sets: each standing entry found by its
 * key, standing_out right; each pending entry found by its pair, on the list
 * of its key (whose head the key index holds) and of its revoker, whose
 * count matches; no pending entry of a standing key or of a key in the store. */
static void check_revsets(const gpurent_trust *t)
{
    uint32_t out = 0;
    for (uint32_t e = 0; e < t->revoked.n; e++) {
        assert_true(gr_trust_revset_has(t, 0, t->revoked.ent[e].pk, NULL));
        out += !gr_trust_find(t, t->revoked.ent[e].pk);
    }
    assert_int_equal(out, t->standing_out);
    const gr_pendset *s = &t->pending;
    uint32_t on_key_lists = 0, on_revoker_lists = 0;
    for (uint32_t e = 0; e < s->n; e++) {
        const gr_pend *p = &s->ent[e];
        assert_true(gr_trust_revset_has(t, 1, p->r.pk, p->r.by));
        assert_false(gr_trust_revset_has(t, 0, p->r.pk, NULL));
        assert_null(gr_trust_find(t, p->r.pk));
        assert_non_null(gr_trust_find(t, p->r.by));
        if (p->pk_prev) continue;
        for (uint32_t q = e + 1; q; q = s->ent[q - 1].pk_next) { /* the list of a head */
            assert_memory_equal(s->ent[q - 1].r.pk, p->r.pk, 32);
            if (s->ent[q - 1].pk_next) assert_int_equal(s->ent[s->ent[q - 1].pk_next - 1].pk_prev, q);
            on_key_lists++;
        }
    }
    for (uint32_t i = 0; i < t->nkeys; i++) {
        uint32_t mine = 0;
        for (uint32_t q = t->keys[i].pend_head; q; q = s->ent[q - 1].by_next) {
            assert_memory_equal(s->ent[q - 1].r.by, t->keys[i].pk, 32);
            assert_int_equal(q == t->keys[i].pend_head, s->ent[q - 1].by_prev == 0);
            mine++;
        }
        assert_int_equal(mine, t->keys[i].pending);
        on_revoker_lists += mine;
    }
    assert_int_equal(on_key_lists, s->n);
    assert_int_equal(on_revoker_lists, s->n);
}

/* Save and load `t` (freed), then save again: the same bytes. */
static gpurent_trust *reload(gpurent_trust *t)
{
    gpurent_buf a = {0}, b = {0};
    gpurent_trust *u = NULL;
    assert_int_equal(gpurent_trust_save(t, 7, &a), GPURENT_OK);
    assert_int_equal(gpurent_trust_load(&u, a.data, a.len, NULL, NULL), GPURENT_OK);
    assert_int_equal(gpurent_trust_save(u, 7, &b), GPURENT_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    check_revsets(u);
    gpurent_buf_free(&a);
    gpurent_buf_free(&b);
    gpurent_trust_free(t);
    return u;
}

/* The revocation sets against a plain model, through random sequences of
 * revocations by several revokers, keys joining and leaving the store and
 * revokers removed and re-added: every deletion path of the hash index
 * (a settled key, a removed revoker) runs thousands of times. */
static void test_revocation_model(void **state)
{
    (void)state;
    enum { T = 96, R = 6 };
    uint8_t tk[T][32], rk[R][32];
    uint8_t in_store[T] = {0}, standing[T] = {0}, pend[T][R], r_in[R];
    memset(pend, 0, sizeof pend);
    for (uint32_t i = 0; i < T; i++) pk_n(20000 + i, tk[i]);
    for (uint32_t i = 0; i < R; i++) pk_n(30000 + i, rk[i]);
    gpurent_trust *t = NULL;
    assert_int_equal(gpurent_trust_new(&t, NULL), GPURENT_OK);
    for (uint32_t r = 0; r < R; r++) {
        assert_int_equal(gpurent_trust_add(t, rk[r], GPURENT_ROLE_REVOKER, 0, 0), GPURENT_OK);
        r_in[r] = 1;
    }
    uint32_t seed = 12345, steps = valgrind() ? 1500 : 6000;
    for (uint32_t step = 0; step < steps; step++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t v = seed >> 8, k = v % T, r = (v / T) % R, op = (v / (T * R)) % 18;
        if (op < 9) { /* a revocation */
            int rc = gr_trust_revoke_by(t, tk[k], rk[r]);
            if (standing[k] || pend[k][r]) {
                assert_int_equal(rc, GPURENT_OK);
            } else if (in_store[k]) {
                assert_int_equal(rc, GPURENT_OK);
                standing[k] = 1;
            } else if (!r_in[r]) {
                assert_int_equal(rc, GPURENT_E_UNKNOWN_ISSUER);
            } else {
                assert_int_equal(rc, GPURENT_OK);
                pend[k][r] = 1;
            }
        } else if (op < 12) { /* the key joins */
            assert_int_equal(gpurent_trust_add(t, tk[k], GPURENT_ROLE_PROVIDER, 0, 0),
                             in_store[k] ? GPURENT_E_EXISTS : GPURENT_OK);
            if (!in_store[k])
                for (uint32_t j = 0; j < R; j++) {
                    standing[k] |= pend[k][j];
                    pend[k][j] = 0;
                }
            in_store[k] = 1;
        } else if (op < 14) { /* the key leaves */
            assert_int_equal(gpurent_trust_remove(t, tk[k]), in_store[k] ? GPURENT_OK : GPURENT_E_NOT_FOUND);
            in_store[k] = 0;
        } else if (op == 14) { /* the revoker leaves, its pending revocations with it */
            assert_int_equal(gpurent_trust_remove(t, rk[r]), r_in[r] ? GPURENT_OK : GPURENT_E_NOT_FOUND);
            for (uint32_t j = 0; j < T; j++) pend[j][r] = 0;
            r_in[r] = 0;
        } else if (op == 15) { /* the revoker comes back */
            assert_int_equal(gpurent_trust_add(t, rk[r], GPURENT_ROLE_REVOKER, 0, 0),
                             r_in[r] ? GPURENT_E_EXISTS : GPURENT_OK);
            r_in[r] = 1;
        } else { /* the operator revokes: the key stands, what waited for it goes */
            assert_int_equal(gpurent_trust_revoke(t, tk[k]), GPURENT_OK);
            standing[k] = 1;
            memset(pend[k], 0, R);
        }
        uint32_t pending = 0;
        for (uint32_t j = 0; j < T; j++) {
            int any = standing[j];
            for (uint32_t q = 0; q < R; q++) {
                any |= pend[j][q];
                pending += pend[j][q];
            }
            assert_int_equal(gpurent_trust_is_revoked(t, tk[j]), any);
        }
        assert_int_equal(t->pending.n, pending);
        for (uint32_t q = 0; q < R; q++) {
            const gr_trust_entry *e = gr_trust_find(t, rk[q]);
            uint32_t mine = 0;
            for (uint32_t j = 0; j < T; j++) mine += pend[j][q];
            assert_int_equal(e ? e->pending : 0, mine);
        }
        check_revsets(t);
        if (step % 500 == 499) t = reload(t); /* every state saves and loads as it is */
    }
    gpurent_trust_free(t);
}

/* Every index slot names a live entry, and each live entry (each head, for
 * the key index) exactly one slot: no stale slot survives a swap-remove. */
static void check_index(const gr_index *x, uint32_t n, const gr_pend *pend, uint32_t want)
{
    uint32_t used = 0;
    for (uint64_t i = 0; x->slot && i <= x->mask; i++) {
        if (!x->slot[i]) continue;
        assert_true(x->slot[i] <= n);
        if (pend) assert_int_equal(pend[x->slot[i] - 1].pk_prev, 0);
        used++;
    }
    assert_int_equal(used, want);
}

static void check_indexes(const gpurent_trust *t)
{
    const gr_pendset *s = &t->pending;
    uint32_t heads = 0;
    for (uint32_t e = 0; e < s->n; e++) heads += !s->ent[e].pk_prev;
    check_index(&t->revoked.idx, t->revoked.n, NULL, t->revoked.n);
    check_index(&s->pair, s->n, NULL, s->n);
    check_index(&s->head, s->n, s->ent, heads);
}

/* The model test with one key universe: every key may be a revoker, a
 * target, both (a revoker revoked while absent, by itself or others, then
 * coming back), and leave and come back with other roles; the operator
 * revokes keys in and out of the store; the store is saved and reloaded
 * every 29 steps (each reload a fresh hash key, so fresh index layouts
 * under the same lists). Several seeds, 20 000 steps each. */
static void test_revocation_model_unified(void **state)
{
    (void)state;
    enum { N = 40 };
    uint8_t k[N][32];
    for (uint32_t i = 0; i < N; i++) pk_n(90000 + i, k[i]);
    uint32_t seeds = valgrind() ? 1 : 4, steps = valgrind() ? 2000 : 20000;
    for (uint32_t sd = 0; sd < seeds; sd++) {
        uint8_t in[N] = {0}, standing[N] = {0}, pend[N][N]; /* pend[target][revoker] */
        memset(pend, 0, sizeof pend);
        gpurent_trust *t = NULL, *c = NULL; /* c is never reloaded */
        assert_int_equal(gpurent_trust_new(&t, NULL), GPURENT_OK);
        gpurent_buf c0 = {0}; /* c is t's copy (the same replay id key) */
        assert_int_equal(gpurent_trust_save(t, 7, &c0), GPURENT_OK);
        assert_int_equal(gpurent_trust_load(&c, c0.data, c0.len, NULL, NULL), GPURENT_OK);
        gpurent_buf_free(&c0);
        uint32_t seed = 777 + sd * 1000003u;
        for (uint32_t step = 0; step < steps; step++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t v = seed >> 4, a = v % N, b = (v / N) % N, op = (v / (N * N)) % 20;
            if (op < 10) {
                int rc = gr_trust_revoke_by(t, k[a], k[b]);
                assert_int_equal(gr_trust_revoke_by(c, k[a], k[b]), rc);
                if (standing[a] || pend[a][b]) {
                    assert_int_equal(rc, GPURENT_OK);
                } else if (in[a]) {
                    assert_int_equal(rc, GPURENT_OK);
                    standing[a] = 1;
                } else if (!in[b]) {
                    assert_int_equal(rc, GPURENT_E_UNKNOWN_ISSUER);
                } else {
                    assert_int_equal(rc, GPURENT_OK);
                    pend[a][b] = 1;
                }
            } else if (op < 14) {
                uint32_t roles = (b & 1) ? GPURENT_ROLE_REVOKER : GPURENT_ROLE_PROVIDER;
                assert_int_equal(gpurent_trust_add(t, k[a], roles, 0, 0), in[a] ? GPURENT_E_EXISTS : GPURENT_OK);
                assert_int_equal(gpurent_trust_add(c, k[a], roles, 0, 0), in[a] ? GPURENT_E_EXISTS : GPURENT_OK);
                if (!in[a])
                    for (uint32_t j = 0; j < N; j++) {
                        standing[a] |= pend[a][j];
                        pend[a][j] = 0;
                    }
                in[a] = 1;
            } else if (op < 18) {
                assert_int_equal(gpurent_trust_remove(t, k[a]), in[a] ? GPURENT_OK : GPURENT_E_NOT_FOUND);
                assert_int_equal(gpurent_trust_remove(c, k[a]), in[a] ? GPURENT_OK : GPURENT_E_NOT_FOUND);
                if (in[a])
                    for (uint32_t j = 0; j < N; j++) pend[j][a] = 0;
                in[a] = 0;
            } else {
                assert_int_equal(gpurent_trust_revoke(t, k[a]), GPURENT_OK);
                assert_int_equal(gpurent_trust_revoke(c, k[a]), GPURENT_OK);
                standing[a] = 1;
                memset(pend[a], 0, N);
            }
            uint32_t pending = 0, out = 0;
            for (uint32_t j = 0; j < N; j++) {
                int any = standing[j];
                out += standing[j] && !in[j];
                for (uint32_t q = 0; q < N; q++) {
                    any |= pend[j][q];
                    pending += pend[j][q];
                }
                assert_int_equal(gpurent_trust_is_revoked(t, k[j]), any);
                const gr_trust_entry *e = gr_trust_find(t, k[j]);
                assert_int_equal(e != NULL, in[j]);
                uint32_t mine = 0;
                for (uint32_t q = 0; q < N; q++) mine += pend[q][j];
                assert_int_equal(e ? e->pending : 0, mine);
            }
            assert_int_equal(t->pending.n, pending);
            assert_int_equal(t->standing_out, out);
            check_revsets(t);
            check_indexes(t);
            if (step % 29 == 28) {
                t = reload(t);
                check_indexes(t);
            }
            /* The reloaded store and the one never reloaded: the same bytes
             * (the pair index first deleted a whole list in its order, which a
             * snapshot does not keep: the two drifted apart). */
            gpurent_buf x = {0}, y = {0};
            assert_int_equal(gpurent_trust_save(t, 7, &x), GPURENT_OK);
            assert_int_equal(gpurent_trust_save(c, 7, &y), GPURENT_OK);
            assert_int_equal(x.len, y.len);
            assert_memory_equal(x.data, y.data, x.len);
            gpurent_buf_free(&x);
            gpurent_buf_free(&y);
        }
        gpurent_trust_free(t);
        gpurent_trust_free(c);
    }
}

/* A hostile revoker set: R revokers all revoke one key not in the store, then
 * each sends its revocation again (a new envelope, so replay protection does
 * not stop it), then the key is added (every revocation stands) and the
 * revokers leave. The work (index probe steps) stays linear in R: 0.4.0
 * indexed pending revocations on the revoked key alone, so the R entries
 * shared one probe run that each insert and lookup walked, about R^2/2
 * steps (4.5 million for R = 3000, against a bound of 16 R here). */
static void test_revokers_one_absent_key(void **state)
{
    (void)state;
    uint32_t R = valgrind() ? 600 : 3000;
    uint8_t (*rk)[32] = malloc((size_t)R * 32), target[32];
    assert_non_null(rk);
    gpurent_trust *t = NULL;
    assert_int_equal(gpurent_trust_new(&t, NULL), GPURENT_OK);
    for (uint32_t i = 0; i < R; i++) {
        pk_n(60000 + i, rk[i]);
        assert_int_equal(gpurent_trust_add(t, rk[i], GPURENT_ROLE_REVOKER, 0, 0), GPURENT_OK);
    }
    pk_n(59999, target);
    uint64_t w0 = t->work;
    for (uint32_t i = 0; i < R; i++) assert_int_equal(gr_trust_revoke_by(t, target, rk[i]), GPURENT_OK);
    for (uint32_t i = 0; i < R; i++) assert_int_equal(gr_trust_revoke_by(t, target, rk[i]), GPURENT_OK); /* again */
    assert_int_equal(t->pending.n, R);
    assert_int_equal(gpurent_trust_is_revoked(t, target), 1);
    uint64_t w_revoke = t->work - w0;
    check_revsets(t);
    t = reload(t);
    w0 = t->work;
    assert_int_equal(gpurent_trust_add(t, target, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK); /* settles R */
    assert_int_equal(t->pending.n, 0);
    assert_int_equal(t->revoked.n, 1);
    assert_int_equal(gpurent_trust_is_revoked(t, target), 1);
    uint64_t w_settle = t->work - w0;
    print_message("revocations of one absent key by %u revokers: %llu probe steps, settling them %llu\n", R,
                  (unsigned long long)w_revoke, (unsigned long long)w_settle);
    assert_true(w_revoke <= 16ull * R);
    assert_true(w_settle <= 16ull * R);
    check_revsets(t);
    gpurent_trust_free(t);
    free(rk);
}

/* One revoker floods its whole share of revocations of distinct keys not in
 * the store, replays each (new envelopes), and another R - 1 revokers do the
 * same with the same keys; then the operator removes the revokers one by
 * one. Each removal walks only the leaving revoker's own entries (0.4.0
 * scanned the whole pending set per removal: quadratic in the revokers). */
static void test_revoker_flood_work(void **state)
{
    (void)state;
    enum { R = 6 };
    uint32_t K = valgrind() ? 1024 : GPURENT_TRUST_MAX_PENDING_REVOCATIONS;
    uint8_t rk[R][32], pk[32];
    gpurent_trust *t = NULL;
    assert_int_equal(gpurent_trust_new(&t, NULL), GPURENT_OK);
    for (uint32_t i = 0; i < R; i++) {
        pk_n(70000 + i, rk[i]);
        assert_int_equal(gpurent_trust_add(t, rk[i], GPURENT_ROLE_REVOKER, 0, 0), GPURENT_OK);
    }
    uint64_t w0 = t->work;
    for (uint32_t r = 0; r < R; r++)
        for (uint32_t rep = 0; rep < 2; rep++)
            for (uint32_t i = 0; i < K; i++) {
                memset(pk, 0x5a, sizeof pk);
                memcpy(pk, &i, sizeof i);
                assert_int_equal(gr_trust_revoke_by(t, pk, rk[r]), GPURENT_OK);
            }
    assert_int_equal(t->pending.n, R * K);
    uint64_t w_revoke = t->work - w0;
    check_revsets(t);
    w0 = t->work;
    uint64_t removed = 0;
    for (uint32_t r = 0; r < R; r++) {
        uint64_t before = t->work;
        assert_int_equal(gpurent_trust_remove(t, rk[r]), GPURENT_OK);
        assert_int_equal(t->pending.n, (R - 1 - r) * K);
        removed = t->work - before;
        assert_true(removed <= 16ull * K); /* its own entries, not the whole set */
    }
    uint64_t w_remove = t->work - w0;
    print_message("%u revokers x %u pending: %llu probe steps to add (twice), %llu to remove\n", R, K,
                  (unsigned long long)w_revoke, (unsigned long long)w_remove);
    assert_true(w_revoke <= 16ull * 2 * R * K);
    memset(pk, 0x5a, sizeof pk);
    assert_int_equal(gpurent_trust_is_revoked(t, pk), 0);
    gpurent_trust_free(t);
}

/* The standing set under add -> revoke -> remove cycles.
 * (1) One key, many cycles, by the operator and by a revoker: one entry,
 *     every answer as before.
 * (2) A revoker pre-revokes keys the operator then revokes itself: the
 *     pending entries can no longer matter and go (0.4.0 kept them: they
 *     ate the revoker's share, which ran out at 4096, and a snapshot of
 *     such a store did not load).
 * (3) Distinct keys: each revoked key that leaves must stay revoked, so its
 *     entry stays; past GPURENT_TRUST_MAX_KEYS such entries the removal of
 *     a revoked key is refused (0.4.0 let the set grow past the
 *     2 x GPURENT_TRUST_MAX_KEYS a snapshot may hold). */
static void test_standing_bounded(void **state)
{
    (void)state;
    gpurent_trust *t = NULL;
    assert_int_equal(gpurent_trust_new(&t, NULL), GPURENT_OK);
    gpurent_key *rev = key_of(6);
    uint8_t rpk[32], k[32], pk[32];
    gpurent_key_public(rev, rpk);
    assert_int_equal(gpurent_trust_add(t, rpk, GPURENT_ROLE_REVOKER, 0, 0), GPURENT_OK);
    pk_n(80000, k);
    uint32_t cycles = valgrind() ? 200 : 3000;
    for (uint32_t i = 0; i < cycles; i++) {
        assert_int_equal(gpurent_trust_add(t, k, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
        assert_int_equal(gpurent_trust_is_revoked(t, k), i > 0);
        if (i % 2) assert_int_equal(gpurent_trust_revoke(t, k), GPURENT_OK);
        else assert_int_equal(revoke_by(t, rev, k, i), GPURENT_OK);
        assert_int_equal(gpurent_trust_remove(t, k), GPURENT_OK);
        assert_int_equal(revoke_by(t, rev, k, 1000000 + i), GPURENT_OK); /* of the absent key: stands already */
        assert_int_equal(gpurent_trust_is_revoked(t, k), 1);
        assert_int_equal(t->revoked.n, 1);
        assert_int_equal(t->standing_out, 1);
        assert_int_equal(t->pending.n, 0);
    }
    /* (2) */
    uint32_t n = 2 * GPURENT_TRUST_MAX_PENDING_REVOCATIONS + 10;
    for (uint32_t i = 0; i < n; i++) {
        memset(pk, 0x33, sizeof pk);
        memcpy(pk, &i, sizeof i);
        assert_int_equal(gr_trust_revoke_by(t, pk, rpk), GPURENT_OK);
        assert_int_equal(gr_trust_find(t, rpk)->pending, 1);
        assert_int_equal(gpurent_trust_revoke(t, pk), GPURENT_OK);
        assert_int_equal(gr_trust_find(t, rpk)->pending, 0);
        assert_int_equal(t->pending.n, 0);
        assert_int_equal(gpurent_trust_is_revoked(t, pk), 1);
    }
    assert_int_equal(t->revoked.n, 1 + n);
    check_revsets(t);
    t = reload(t);
    for (uint32_t i = 0; i < n; i += 97) {
        memset(pk, 0x33, sizeof pk);
        memcpy(pk, &i, sizeof i);
        assert_int_equal(gpurent_trust_is_revoked(t, pk), 1);
    }
    gpurent_trust_free(t);
    /* (3): fill the share of standing revocations of absent keys to one
     * short of the limit with the operator's own (a million hash inserts:
     * not under valgrind, which runs (1) and (2)). */
    if (valgrind()) {
        gpurent_key_free(rev);
        return;
    }
    assert_int_equal(gpurent_trust_new(&t, NULL), GPURENT_OK);
    for (uint32_t i = 0; i < GPURENT_TRUST_MAX_KEYS - 1; i++) {
        memset(pk, 0x44, sizeof pk);
        memcpy(pk, &i, sizeof i);
        assert_int_equal(gpurent_trust_revoke(t, pk), GPURENT_OK);
    }
    assert_int_equal(t->standing_out, GPURENT_TRUST_MAX_KEYS - 1);
    for (uint32_t i = 0; i < 4; i++) {
        pk_n(81000 + i, k);
        assert_int_equal(gpurent_trust_add(t, k, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
        assert_int_equal(gpurent_trust_revoke(t, k), GPURENT_OK); /* a key in the store: always fits */
        if (i == 0) {
            assert_int_equal(gpurent_trust_remove(t, k), GPURENT_OK);
        } else { /* refused: the key stays, revoked, so every answer about it is as if it had gone */
            assert_int_equal(gpurent_trust_remove(t, k), GPURENT_E_LIMIT);
            assert_non_null(strstr(gpurent_last_error_message(), "the revoked key stays"));
            assert_non_null(gr_trust_find(t, k));
        }
        assert_int_equal(gpurent_trust_is_revoked(t, k), 1);
        assert_true(t->standing_out <= GPURENT_TRUST_MAX_KEYS);
        assert_true(t->revoked.n <= t->nkeys + GPURENT_TRUST_MAX_KEYS);
    }
    pk_n(81000, k); /* the one that left comes back: still revoked, and may leave again */
    assert_int_equal(gpurent_trust_add(t, k, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_is_revoked(t, k), 1);
    assert_int_equal(gpurent_trust_remove(t, k), GPURENT_OK);
    /* An unrevoked key still leaves freely. */
    pk_n(82000, k);
    assert_int_equal(gpurent_trust_add(t, k, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_remove(t, k), GPURENT_OK);
    gpurent_trust_free(t);
    gpurent_key_free(rev);
}

/* A trust snapshot of one key and `absent` standing revocations of keys not
 * in the store, built field by field (as snapshot.c writes version 2). */
static void standing_snapshot(const uint8_t key[32], uint32_t absent, gpurent_buf *out)
{
    uint8_t m[20], digest[32], zero[32] = {0}, pk[32];
    memcpy(m, "gpurent trust v1", 16);
    gr_le_store(m + 16, GPURENT_TRUST_REPLAY_CAPACITY_DEFAULT, 4);
    crypto_generichash(digest, 32, m, sizeof m, NULL, 0);
    gr_bytes b;
    gr_snap_begin(&b, GR_SNAP_TRUST, 2, digest, 7, 256 + (size_t)absent * 64);
    gr_put_u32(&b, GPURENT_TRUST_REPLAY_CAPACITY_DEFAULT);
    gr_put_u32(&b, 1);
    gr_put_raw(&b, key, 32);
    gr_put_u32(&b, GPURENT_ROLE_PROVIDER);
    gr_put_u32(&b, 0);
    gr_put_u64(&b, 0);
    gr_put_u64(&b, 0);
    gr_put_u32(&b, absent);
    for (uint32_t i = 0; i < absent; i++) {
        memset(pk, 0x77, sizeof pk);
        memcpy(pk, &i, sizeof i);
        gr_put_raw(&b, pk, 32);
        gr_put_raw(&b, zero, 32);
    }
    gr_put_u32(&b, 0);
    gr_put_raw(&b, zero, 32);
    gr_put_u32(&b, 0);
    assert_int_equal(gr_snap_finish(&b, out), GPURENT_OK);
}

/* A snapshot may hold 2 x GPURENT_TRUST_MAX_KEYS standing revocations of
 * keys not in the store (0.4.0 kept no bound on them, and such files load).
 * From such a store the operator revokes a key in the store, which always
 * fits: the snapshot of the result must load too. The loader bounded the
 * whole standing set by 2 x GPURENT_TRUST_MAX_KEYS, so it refused it (the
 * store could no longer be restarted); the bound is on those of keys not in
 * the store, plus one per key in it. Past the bound the file is refused. */
static void test_standing_snapshot_bound(void **state)
{
    (void)state;
    if (valgrind()) return; /* two million hash inserts per load */
    uint8_t key[32];
    pk_n(83000, key);
    gpurent_buf a = {0}, b = {0};
    standing_snapshot(key, 2 * GPURENT_TRUST_MAX_KEYS, &a);
    gpurent_trust *t = NULL, *u = NULL;
    assert_int_equal(gpurent_trust_load(&t, a.data, a.len, NULL, NULL), GPURENT_OK);
    gpurent_buf_free(&a);
    assert_int_equal(t->standing_out, 2 * GPURENT_TRUST_MAX_KEYS);
    assert_int_equal(gpurent_trust_revoke(t, key), GPURENT_OK); /* a key in the store: always fits */
    assert_int_equal(gpurent_trust_remove(t, key), GPURENT_E_LIMIT); /* past the bound: the key stays */
    assert_int_equal(gpurent_trust_save(t, 7, &b), GPURENT_OK);
    assert_int_equal(gpurent_trust_load(&u, b.data, b.len, NULL, NULL), GPURENT_OK);
    assert_int_equal(u->revoked.n, 2 * GPURENT_TRUST_MAX_KEYS + 1);
    assert_int_equal(gpurent_trust_is_revoked(u, key), 1);
    gpurent_buf_free(&b);
    gpurent_trust_free(u);
    gpurent_trust_free(t);
    /* One more of an absent key than any store can hold: refused. */
    standing_snapshot(key, 2 * GPURENT_TRUST_MAX_KEYS + 1, &a);
    assert_int_equal(gpurent_trust_load(&u, a.data, a.len, NULL, NULL), GPURENT_E_SNAPSHOT_CORRUPT);
    assert_null(u);
    gpurent_buf_free(&a);
}

static int cmp_key32(const void *a, const void *b) { return memcmp(a, b, 32); }

/* More than 4 x GPURENT_TRUST_MAX_KEYS pending revocations: 1 025 revokers
 * at their full share of 4096 (each of the same 4096 absent keys), which
 * the store accepts. The loader refused more than 4 x
 * GPURENT_TRUST_MAX_KEYS of them, so such a store saved a snapshot it
 * could not load; the bound is the revokers' shares (each count is checked
 * against its entries, and the file's length bounds the memory). */
static void test_pending_snapshot_bound(void **state)
{
    (void)state;
    if (valgrind()) return; /* four million hash inserts */
    enum { R = 1025 };
    const uint32_t share = GPURENT_TRUST_MAX_PENDING_REVOCATIONS;
    uint8_t (*rk)[32] = malloc((size_t)R * 32), m[20], digest[32], zero[32] = {0}, pk[32];
    assert_non_null(rk);
    for (uint32_t i = 0; i < R; i++) pk_n(84000 + i, rk[i]);
    qsort(rk, R, 32, cmp_key32);
    memcpy(m, "gpurent trust v1", 16);
    gr_le_store(m + 16, GPURENT_TRUST_REPLAY_CAPACITY_DEFAULT, 4);
    crypto_generichash(digest, 32, m, sizeof m, NULL, 0);
    gr_bytes b;
    gr_snap_begin(&b, GR_SNAP_TRUST, 2, digest, 7, 256 + (size_t)R * (56 + 64 * share));
    gr_put_u32(&b, GPURENT_TRUST_REPLAY_CAPACITY_DEFAULT);
    gr_put_u32(&b, R);
    for (uint32_t i = 0; i < R; i++) {
        gr_put_raw(&b, rk[i], 32);
        gr_put_u32(&b, GPURENT_ROLE_REVOKER);
        gr_put_u32(&b, share);
        gr_put_u64(&b, 0);
        gr_put_u64(&b, 0);
    }
    gr_put_u32(&b, 0);
    gr_put_u32(&b, R * share);
    for (uint32_t i = 0; i < R; i++)
        for (uint32_t j = 0; j < share; j++) {
            memset(pk, 0x66, sizeof pk);
            memcpy(pk, &j, sizeof j);
            gr_put_raw(&b, pk, 32);
            gr_put_raw(&b, rk[i], 32);
        }
    gr_put_raw(&b, zero, 32);
    gr_put_u32(&b, 0);
    gpurent_buf f = {0};
    assert_int_equal(gr_snap_finish(&b, &f), GPURENT_OK);
    gpurent_trust *t = NULL;
    assert_int_equal(gpurent_trust_load(&t, f.data, f.len, NULL, NULL), GPURENT_OK);
    gpurent_buf_free(&f);
    assert_int_equal(t->pending.n, R * share);
    assert_int_equal(gpurent_trust_is_revoked(t, pk), 1);
    assert_int_equal(gpurent_trust_remove(t, rk[0]), GPURENT_OK);
    assert_int_equal(t->pending.n, (R - 1) * share);
    gpurent_trust_free(t);
    free(rk);
}

/* The operator's own revocations: a hash set, so a million of them take
 * linear time (0.2.0 kept a sorted array and moved up to 32 MiB per
 * insert); many revoked and unrevoked keys answer right. */
static void test_revoke_many(void **state)
{
    (void)state;
    gpurent_trust *t = store(64);
    uint32_t n = valgrind() ? 20000 : 300000;
    uint8_t pk[32];
    for (uint32_t i = 0; i < n; i++) {
        memset(pk, 0, sizeof pk);
        memcpy(pk, &i, sizeof i);
        pk[31] = (uint8_t)(i * 151);
        assert_int_equal(gpurent_trust_revoke(t, pk), GPURENT_OK);
    }
    for (uint32_t i = 0; i < 2 * n; i += 7) {
        memset(pk, 0, sizeof pk);
        memcpy(pk, &i, sizeof i);
        pk[31] = (uint8_t)(i * 151);
        assert_int_equal(gpurent_trust_is_revoked(t, pk), i < n);
    }
    assert_int_equal(gpurent_trust_revoke(t, pk), GPURENT_OK); /* idempotent */
    gpurent_trust_free(t);
}

static void test_revocation(void **state)
{
    (void)state;
    gpurent_trust *t = store(64);
    gpurent_key *prov = key_of(1), *aud = key_of(2), *rev = key_of(6);
    uint8_t pk[32];
    gpurent_buf offer = sign_env(prov, GPURENT_RECORD_OFFER, T0, T0 + DAY, 1, 10);
    assert_int_equal(verify_at(t, &offer, T0 + 1, 1, 0), GPURENT_OK);
    /* A provider may not revoke an auditor... */
    gpurent_buf r1 = revocation_env(prov, 2, 1);
    assert_int_equal(gpurent_trust_apply_revocation(t, r1.data, r1.len, T0 + 1, 0, NULL), GPURENT_E_ROLE_NOT_ALLOWED);
    /* ...a revoker may, and a key may revoke itself. */
    gpurent_buf r2 = revocation_env(rev, 2, 2), r3 = revocation_env(prov, 1, 3);
    assert_int_equal(gpurent_trust_apply_revocation(t, r2.data, r2.len, T0 + 1, 0, NULL), GPURENT_OK);
    pk_of(2, pk);
    assert_int_equal(gpurent_trust_is_revoked(t, pk), 1);
    assert_int_equal(gpurent_trust_apply_revocation(t, r2.data, r2.len, T0 + 1, 0, NULL), GPURENT_E_REPLAYED);
    assert_int_equal(gpurent_trust_apply_revocation(t, r3.data, r3.len, T0 + 1, 0, NULL), GPURENT_OK);
    assert_int_equal(verify_at(t, &offer, T0 + 1, 1, 0), GPURENT_E_REVOKED);
    /* Only revocations are applied. */
    assert_int_equal(gpurent_trust_apply_revocation(t, offer.data, offer.len, T0 + 1, 0, NULL), GPURENT_E_WRONG_RECORD);
    /* The record codec. */
    gpurent_revocation r = {.revoked_at = 5, .reason = 4}, back;
    gpurent_buf b = {0};
    pk_of(1, r.key);
    assert_int_equal(gpurent_revocation_encode(&r, &b), GPURENT_E_INVALID_FIELD);
    r.reason = GPURENT_REVOKE_RETIRED;
    assert_int_equal(gpurent_revocation_encode(&r, &b), GPURENT_OK);
    assert_int_equal(gpurent_revocation_decode(b.data, b.len, &back), GPURENT_OK);
    assert_memory_equal(&r, &back, sizeof r);
    assert_int_equal(gpurent_revocation_decode(b.data, b.len - 1, &back), GPURENT_E_TRUNCATED);
    gpurent_buf_free(&b);
    gpurent_buf_free(&offer);
    gpurent_buf_free(&r1);
    gpurent_buf_free(&r2);
    gpurent_buf_free(&r3);
    gpurent_key_free(prov);
    gpurent_key_free(aud);
    gpurent_key_free(rev);
    gpurent_trust_free(t);
}

/* ---------------- replay cache ---------------- */

static void test_replay_eviction(void **state)
{
    (void)state;
    gpurent_trust *t = store(4);
    gpurent_key *k = key_of(1);
    gpurent_buf e[5];
    for (int i = 0; i < 5; i++) e[i] = sign_env(k, GPURENT_RECORD_OFFER, T0, T0 + DAY, (uint8_t)(i + 1), 10);
    for (int i = 0; i < 5; i++) assert_int_equal(verify_at(t, &e[i], T0, 1, 1), GPURENT_OK);
    /* Capacity 4, FIFO: the first was evicted, the second is still there. */
    assert_int_equal(verify_at(t, &e[1], T0, 1, 1), GPURENT_E_REPLAYED);
    assert_int_equal(verify_at(t, &e[0], T0, 1, 1), GPURENT_OK); /* evicts e[1] */
    assert_int_equal(verify_at(t, &e[1], T0, 1, 1), GPURENT_OK);
    assert_int_equal(verify_at(t, &e[4], T0, 1, 1), GPURENT_E_REPLAYED);
    gpurent_trust_replay_clear(t);
    assert_int_equal(verify_at(t, &e[4], T0, 1, 1), GPURENT_OK);
    for (int i = 0; i < 5; i++) gpurent_buf_free(&e[i]);
    gpurent_key_free(k);
    gpurent_trust_free(t);
}

/* gpurent_trust_adopt_replay: dst takes src's window (ids, capacity,
 * eviction order) and keeps its own keys; src is not changed. */
static void test_replay_adopt(void **state)
{
    (void)state;
    gpurent_trust *src = store(3), *dst = store(100);
    gpurent_key *k = key_of(1);
    gpurent_buf e[5];
    for (int i = 0; i < 5; i++) e[i] = sign_env(k, GPURENT_RECORD_OFFER, T0, T0 + DAY, (uint8_t)(i + 1), 10);
    for (int i = 0; i < 3; i++) assert_int_equal(verify_at(src, &e[i], T0, 1, 1), GPURENT_OK);
    assert_int_equal(verify_at(dst, &e[4], T0, 1, 1), GPURENT_OK); /* forgotten by the adoption */
    assert_int_equal(gpurent_trust_adopt_replay(dst, NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_trust_adopt_replay(NULL, src), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_trust_adopt_replay(dst, dst), GPURENT_OK);
    assert_int_equal(verify_at(dst, &e[4], T0, 1, 1), GPURENT_E_REPLAYED); /* unchanged by itself */
    assert_int_equal(gpurent_trust_adopt_replay(dst, src), GPURENT_OK);
    assert_int_equal(gpurent_trust_key_count(dst), 6);
    for (int i = 0; i < 3; i++) assert_int_equal(verify_at(dst, &e[i], T0, 1, 1), GPURENT_E_REPLAYED);
    /* Capacity 3 came along: e[3] evicts e[0] (the oldest), e[4] is new again. */
    assert_int_equal(verify_at(dst, &e[4], T0, 1, 1), GPURENT_OK);
    assert_int_equal(verify_at(dst, &e[0], T0, 1, 1), GPURENT_OK);
    assert_int_equal(verify_at(dst, &e[2], T0, 1, 1), GPURENT_E_REPLAYED);
    /* src kept its own window. */
    assert_int_equal(verify_at(src, &e[4], T0, 1, 1), GPURENT_OK);
    assert_int_equal(verify_at(src, &e[1], T0, 1, 1), GPURENT_E_REPLAYED);
    /* Through a snapshot, as the CLI does. */
    gpurent_buf snap = {0};
    gpurent_trust *loaded = NULL, *fresh = store(16);
    assert_int_equal(gpurent_trust_save(src, 7, &snap), GPURENT_OK);
    assert_int_equal(gpurent_trust_load(&loaded, snap.data, snap.len, NULL, NULL), GPURENT_OK);
    assert_int_equal(gpurent_trust_adopt_replay(fresh, loaded), GPURENT_OK);
    gpurent_trust_free(loaded);
    assert_int_equal(verify_at(fresh, &e[4], T0, 1, 1), GPURENT_E_REPLAYED);
    assert_int_equal(verify_at(fresh, &e[0], T0, 1, 1), GPURENT_OK); /* evicted in src before the save */
    gpurent_buf_free(&snap);
    for (int i = 0; i < 5; i++) gpurent_buf_free(&e[i]);
    gpurent_key_free(k);
    gpurent_trust_free(fresh);
    gpurent_trust_free(dst);
    gpurent_trust_free(src);
}

/* The cache against a plain FIFO model, with many evictions and probe-chain
 * deletions (ids drawn from a small space so repeats happen often). */
static void test_replay_model(void **state)
{
    (void)state;
    gr_replay r;
    enum { CAP = 37, SPACE = 120, STEPS = 20000 };
    uint32_t fifo[CAP], n = 0, head = 0, x = 12345;
    assert_int_equal(gr_replay_init(&r, CAP), GPURENT_OK);
    for (int s = 0; s < (valgrind() ? 2000 : STEPS); s++) {
        x = x * 1103515245u + 12345u;
        uint32_t v = (x >> 8) % SPACE;
        uint8_t id[32] = {0};
        id[0] = (uint8_t)(v * 37); /* few home slots: long probe chains */
        id[1] = (uint8_t)(v & 1);
        id[5] = (uint8_t)v;
        int in_model = 0;
        for (uint32_t i = 0; i < n; i++) in_model |= fifo[(head + CAP - n + i) % CAP] == v;
        int rc = gr_replay_check_insert(&r, id);
        assert_int_equal(rc, in_model ? GPURENT_E_REPLAYED : GPURENT_OK);
        if (!in_model) {
            fifo[head] = v;
            head = (head + 1) % CAP;
            if (n < CAP) n++;
        }
    }
    gr_replay_free(&r);
}

/* ---------------- tamper ---------------- */

/* Every single-bit flip of each envelope must fail verification. */
static void tamper_all_bits(gpurent_trust *t, const gpurent_buf *e, uint32_t quorum, size_t step)
{
    size_t bits = e->len * 8, n = (bits + step - 1) / step;
    uint8_t **envs = malloc(n * sizeof *envs);
    size_t *lens = malloc(n * sizeof *lens);
    int32_t *st = malloc(n * sizeof *st);
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    o.quorum = quorum;
    o.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    assert_int_equal(gpurent_envelope_verify(t, e->data, e->len, T0 + 1, 0, &o, NULL), GPURENT_OK);
    for (size_t i = 0; i < n; i++) {
        envs[i] = malloc(e->len);
        memcpy(envs[i], e->data, e->len);
        envs[i][i * step / 8] ^= (uint8_t)(1u << (i * step % 8));
        lens[i] = e->len;
    }
    assert_int_equal(gpurent_envelope_verify_many(t, (const uint8_t *const *)envs, lens, n, T0 + 1, 0, &o, 2, NULL, st),
                     GPURENT_OK);
    for (size_t i = 0; i < n; i++) {
        if (st[i] == GPURENT_OK) fail_msg("bit %zu of a %zu-byte envelope flipped and it still verified", i * step, e->len);
        free(envs[i]);
    }
    free(envs);
    free(lens);
    free(st);
}

static void test_tamper_every_bit(void **state)
{
    (void)state;
    gpurent_trust *t = store(16);
    static const struct { uint32_t st; uint8_t key; } types[] = {
        {GPURENT_RECORD_GPU_REPORT, 1}, {GPURENT_RECORD_OFFER, 1}, {GPURENT_RECORD_AUDIT_REPORT, 2},
        {GPURENT_RECORD_TIER_CERT, 2}, {GPURENT_RECORD_MATCH_RECEIPT, 3}, {GPURENT_RECORD_REVOCATION, 6}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        gpurent_key *k = key_of(types[i].key);
        for (int variant = 0; variant < 2; variant++) {
            gpurent_buf e;
            if (types[i].st == GPURENT_RECORD_REVOCATION)
                e = revocation_env(k, (uint8_t)(4 + variant), (uint8_t)(20 + variant));
            else
                e = sign_env(k, types[i].st, T0, T0 + DAY, (uint8_t)(30 + variant), variant ? 48 : 8);
            uint32_t quorum = 1;
            if (variant && types[i].st == GPURENT_RECORD_MATCH_RECEIPT) { /* a 2-of-n receipt */
                gpurent_key *k2 = key_of(4);
                gpurent_buf e2 = {0};
                assert_int_equal(gpurent_envelope_cosign(k2, e.data, e.len, &e2), GPURENT_OK);
                gpurent_key_free(k2);
                gpurent_buf_free(&e);
                e = e2;
                quorum = 2;
            }
            /* Every bit natively and under ASan; every 11th under valgrind. */
            tamper_all_bits(t, &e, quorum, valgrind() ? 11 : 1);
            gpurent_buf_free(&e);
            if (valgrind()) break;
        }
        gpurent_key_free(k);
    }
    gpurent_trust_free(t);
}

/* ---------------- bulk ---------------- */

#define BULK_N 96

static void make_bulk_set(gpurent_buf *e)
{
    gpurent_key *prov = key_of(1), *aud = key_of(2), *out = key_of(7);
    for (int i = 0; i < BULK_N; i++) {
        switch (i % 6) {
        case 0: e[i] = sign_env(prov, GPURENT_RECORD_OFFER, T0, T0 + DAY, (uint8_t)i, 20); break;
        case 1: e[i] = sign_env(aud, GPURENT_RECORD_AUDIT_REPORT, T0, T0 + DAY, (uint8_t)i, 20); break;
        case 2: e[i] = sign_env(out, GPURENT_RECORD_OFFER, T0, T0 + DAY, (uint8_t)i, 20); break;
        case 3: e[i] = sign_env(prov, GPURENT_RECORD_OFFER, T0 - 2 * DAY, T0 - DAY, (uint8_t)i, 20); break;
        case 4: /* a replay of an earlier envelope inside the batch */
            e[i].len = e[i - 4].len;
            e[i].data = malloc(e[i].len);
            memcpy(e[i].data, e[i - 4].data, e[i].len);
            break;
        default:
            e[i] = sign_env(prov, GPURENT_RECORD_GPU_REPORT, T0, T0 + DAY, (uint8_t)i, 20);
            e[i].data[e[i].len - 3] ^= 0x10;
            break;
        }
    }
    gpurent_key_free(prov);
    gpurent_key_free(aud);
    gpurent_key_free(out);
}

static void test_bulk_same_as_serial(void **state)
{
    (void)state;
    gpurent_buf e[BULK_N];
    const uint8_t *ptr[BULK_N];
    size_t lens[BULK_N];
    int32_t serial[BULK_N], bulk[BULK_N];
    make_bulk_set(e);
    for (int i = 0; i < BULK_N; i++) ptr[i] = e[i].data, lens[i] = e[i].len;
    gpurent_trust *t = store(1024);
    for (int i = 0; i < BULK_N; i++) serial[i] = gpurent_envelope_verify(t, e[i].data, e[i].len, T0, 0, NULL, NULL);
    gpurent_trust_free(t);
    int ok = 0, replayed = 0;
    for (int i = 0; i < BULK_N; i++) ok += serial[i] == GPURENT_OK, replayed += serial[i] == GPURENT_E_REPLAYED;
    assert_int_equal(ok, 2 * BULK_N / 6);
    assert_int_equal(replayed, BULK_N / 6);
    static const unsigned threads[] = {1, 2, 3, 8, 0};
    for (size_t k = 0; k < sizeof threads / sizeof threads[0]; k++) {
        t = store(1024);
        assert_int_equal(gpurent_envelope_verify_many(t, ptr, lens, BULK_N, T0, 0, NULL, threads[k], NULL, bulk),
                         GPURENT_OK);
        assert_memory_equal(serial, bulk, sizeof serial);
        /* The replay cache now holds what the serial loop would have left. */
        assert_int_equal(gpurent_envelope_verify(t, e[0].data, e[0].len, T0, 0, NULL, NULL), GPURENT_E_REPLAYED);
        gpurent_trust_free(t);
    }
    /* The batch form, with payloads. */
    gpurent_verify_batch *b = NULL;
    assert_int_equal(gpurent_verify_batch_new(&b), GPURENT_OK);
    for (int i = 0; i < BULK_N; i++) assert_int_equal(gpurent_verify_batch_add(b, e[i].data, e[i].len), GPURENT_OK);
    assert_int_equal(gpurent_verify_batch_count(b), BULK_N);
    assert_int_equal(gpurent_verify_batch_status(b, 0), GPURENT_E_CANCELLED); /* not run */
    t = store(1024);
    assert_int_equal(gpurent_verify_batch_run(b, t, T0, 0, NULL, 2, NULL), GPURENT_OK);
    gpurent_trust_free(t);
    for (int i = 0; i < BULK_N; i++) {
        assert_int_equal(gpurent_verify_batch_status(b, (size_t)i), serial[i]);
        gpurent_buf p = {0};
        int rc = gpurent_verify_batch_payload(b, (size_t)i, &p);
        assert_int_equal(rc, serial[i]);
        if (rc == GPURENT_OK) {
            uint8_t want[64];
            size_t n = payload_rec(i % 6 == 1 ? GPURENT_RECORD_AUDIT_REPORT : GPURENT_RECORD_OFFER, want, 20);
            assert_int_equal(p.len, n);
            assert_memory_equal(p.data, want, n);
        }
        gpurent_buf_free(&p);
    }
    assert_int_equal(gpurent_verify_batch_status(b, BULK_N), GPURENT_E_NOT_FOUND);
    /* Adding voids the earlier answers until the next run. */
    assert_int_equal(gpurent_verify_batch_add(b, e[0].data, e[0].len), GPURENT_OK);
    assert_int_equal(gpurent_verify_batch_status(b, 0), GPURENT_E_CANCELLED);
    gpurent_buf none = {0};
    assert_int_equal(gpurent_verify_batch_payload(b, 0, &none), GPURENT_E_CANCELLED);
    assert_null(none.data);
    gpurent_verify_batch_free(b);
    gpurent_verify_batch_free(NULL);
    /* Cancelled: every answer says so and nothing entered the replay cache. */
    gpurent_cancel *c = NULL;
    gpurent_cancel_new(&c);
    gpurent_cancel_request(c);
    t = store(1024);
    assert_int_equal(gpurent_envelope_verify_many(t, ptr, lens, BULK_N, T0, 0, NULL, 2, c, bulk), GPURENT_E_CANCELLED);
    for (int i = 0; i < BULK_N; i++) assert_int_equal(bulk[i], GPURENT_E_CANCELLED);
    assert_int_equal(gpurent_envelope_verify(t, e[0].data, e[0].len, T0, 0, NULL, NULL), GPURENT_OK);
    gpurent_trust_free(t);
    gpurent_cancel_free(c);
    for (int i = 0; i < BULK_N; i++) gpurent_buf_free(&e[i]);
}

/* Several threads verifying on one store: each statement is accepted once. */
typedef struct race_arg {
    gpurent_trust *t;
    gpurent_buf *e;
    int n, accepted;
} race_arg;

static void *race(void *p)
{
    race_arg *a = p;
    for (int i = 0; i < a->n; i++)
        a->accepted += gpurent_envelope_verify(a->t, a->e[i].data, a->e[i].len, T0, 0, NULL, NULL) == GPURENT_OK;
    return NULL;
}

static void test_shared_store_threads(void **state)
{
    (void)state;
    enum { N = 24, TH = 4 };
    gpurent_buf e[N];
    gpurent_key *k = key_of(1);
    for (int i = 0; i < N; i++) e[i] = sign_env(k, GPURENT_RECORD_OFFER, T0, T0 + DAY, (uint8_t)(i + 1), 16);
    gpurent_trust *t = store(1024);
    pthread_t th[TH];
    race_arg a[TH];
    for (int i = 0; i < TH; i++) {
        a[i] = (race_arg){t, e, N, 0};
        pthread_create(&th[i], NULL, race, &a[i]);
    }
    int total = 0;
    for (int i = 0; i < TH; i++) {
        pthread_join(th[i], NULL);
        total += a[i].accepted;
    }
    assert_int_equal(total, N);
    gpurent_trust_free(t);
    for (int i = 0; i < N; i++) gpurent_buf_free(&e[i]);
    gpurent_key_free(k);
}

/* ---------------- vectors ---------------- */

static FILE *open_vec(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "tests/vectors/%s", name);
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot open %s (run from the repository root)", path);
    return f;
}

static void test_ed25519_edge_vectors(void **state)
{
    (void)state;
    static char line[VEC_LINE_MAX];
    static vec_line v;
    uint8_t pk[32], sig[64], msg[256];
    int count = 0;
    FILE *f = open_vec("ed25519_edge.txt");
    while (fgets(line, sizeof line, f)) {
        if (vec_parse(&v, line) != 1) continue;
        long ml = vec_hex(vec_get(&v, "msg"), msg, sizeof msg);
        assert_int_equal(vec_hex(vec_get(&v, "pk"), pk, 32), 32);
        assert_int_equal(vec_hex(vec_get(&v, "sig"), sig, 64), 64);
        assert_true(ml >= 0);
        int valid = crypto_sign_verify_detached(sig, msg, (size_t)ml, pk) == 0;
        if (valid != (strcmp(vec_get(&v, "strict"), "valid") == 0))
            fail_msg("%s: libsodium says %s", vec_get(&v, "name"), valid ? "valid" : "invalid");
        count++;
    }
    fclose(f);
    assert_true(count >= 15);
}

/* The vectors of all three implementations: libgpurent gives each the
 * expected status, and re-signs unmutated inputs to the very same bytes. */
static void test_xcheck_vectors(void **state)
{
    (void)state;
    static const char *files[] = {"envelopes_c.txt", "envelopes_py.txt", "envelopes_go.txt"};
    static char line[VEC_LINE_MAX];
    static vec_line v;
    static uint8_t env[VEC_LINE_MAX / 2];
    for (size_t fi = 0; fi < 3; fi++) {
        FILE *f = open_vec(files[fi]);
        int count = 0;
        while (fgets(line, sizeof line, f)) {
            if (vec_parse(&v, line) != 1) continue;
            int rc = vec_verify(&v, NULL);
            if (strcmp(gpurent_status_name(rc), vec_get(&v, "expect")) != 0)
                fail_msg("%s/%s: %s (%s)", files[fi], vec_get(&v, "name"), gpurent_status_name(rc),
                         gpurent_last_error_message());
            if (strcmp(vec_get(&v, "mutation"), "none") == 0) {
                gpurent_buf e = {0};
                long n = vec_hex(vec_get(&v, "envelope"), env, sizeof env);
                assert_int_equal(vec_sign(&v, &e), GPURENT_OK);
                assert_int_equal(e.len, (size_t)n);
                assert_memory_equal(e.data, env, e.len);
                gpurent_buf_free(&e);
            }
            count++;
        }
        fclose(f);
        assert_true(count >= 8);
    }
}

/* gpurent_trust_apply_revocation verifies the envelope under the read lock
 * and applies it under the write lock; another thread may revoke or remove
 * the issuer, or take its revoker role, in between. The apply step checks the
 * issuer again, so the revocation acts only as if both were one step. The
 * interleaving is replayed here through the two internal steps: the plain
 * step (what apply called before) would act on a revoked issuer's word. */
static void test_apply_rechecks_issuer(void **state)
{
    (void)state;
    const uint64_t now = 1700000000;
    uint8_t rev[32], target[32], present[32], seed[32], sk[64];
    uint8_t *pks[3] = {rev, target, present};
    for (int i = 0; i < 3; i++) {
        memset(seed, 0x51 + i, 32);
        crypto_sign_seed_keypair(pks[i], sk, seed);
    }
    gpurent_trust *t = NULL, *u = NULL;
    assert_int_equal(gpurent_trust_new(&t, NULL), GPURENT_OK);
    assert_int_equal(gpurent_trust_new(&u, NULL), GPURENT_OK);
    for (gpurent_trust **s = (gpurent_trust *[]){t, u}, **e = s + 2; s < e; s++) {
        assert_int_equal(gpurent_trust_add(*s, rev, GPURENT_ROLE_REVOKER, 0, 0), GPURENT_OK);
        assert_int_equal(gpurent_trust_add(*s, present, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
        /* the envelope verified; then the operator revokes its issuer */
        assert_int_equal(gpurent_trust_revoke(*s, rev), GPURENT_OK);
    }
    /* the plain step acts on the revoked issuer's word (the defect) */
    assert_int_equal(gr_trust_revoke_by(u, present, rev), GPURENT_OK);
    assert_true(gpurent_trust_is_revoked(u, present));
    /* the checked step refuses, for a key in the store and one not in it */
    assert_int_equal(gr_trust_revoke_checked(t, present, rev, now, 300), GPURENT_E_REVOKED);
    assert_non_null(strstr(gpurent_last_error_message(), "revoked"));
    assert_int_equal(gr_trust_revoke_checked(t, target, rev, now, 300), GPURENT_E_REVOKED);
    assert_false(gpurent_trust_is_revoked(t, present));
    assert_false(gr_trust_revset_has(t, 1, target, NULL));
    gpurent_trust_free(u);
    gpurent_trust_free(t);

    /* removed in between, or its role taken away in between */
    assert_int_equal(gpurent_trust_new(&t, NULL), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(t, rev, GPURENT_ROLE_REVOKER, 0, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(t, present, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_remove(t, rev), GPURENT_OK);
    assert_int_equal(gr_trust_revoke_checked(t, present, rev, now, 300), GPURENT_E_UNKNOWN_ISSUER);
    assert_int_equal(gpurent_trust_add(t, rev, GPURENT_ROLE_PROVIDER, 0, 0), GPURENT_OK);
    assert_int_equal(gr_trust_revoke_checked(t, present, rev, now, 300), GPURENT_E_ROLE_NOT_ALLOWED);
    assert_false(gpurent_trust_is_revoked(t, present));
    /* a key may still revoke itself whatever its roles, and a revoker still revokes */
    assert_int_equal(gr_trust_revoke_checked(t, present, present, now, 300), GPURENT_OK);
    assert_true(gpurent_trust_is_revoked(t, present));
    assert_int_equal(gpurent_trust_remove(t, rev), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(t, rev, GPURENT_ROLE_REVOKER, 0, 0), GPURENT_OK);
    assert_int_equal(gr_trust_revoke_checked(t, target, rev, now, 300), GPURENT_OK);
    assert_true(gr_trust_revset_has(t, 1, target, rev));
    gpurent_trust_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_keyfile),
        cmocka_unit_test(test_keyfile_symlinks),
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_sign_rejects),
        cmocka_unit_test(test_verify_statuses),
        cmocka_unit_test(test_trust_store),
        cmocka_unit_test(test_quorum),
        cmocka_unit_test(test_revocation),
        cmocka_unit_test(test_revoker_flood),
        cmocka_unit_test(test_revoke_many),
        cmocka_unit_test(test_revocation_model),
        cmocka_unit_test(test_revocation_model_unified),
        cmocka_unit_test(test_revokers_one_absent_key),
        cmocka_unit_test(test_revoker_flood_work),
        cmocka_unit_test(test_standing_bounded),
        cmocka_unit_test(test_standing_snapshot_bound),
        cmocka_unit_test(test_pending_snapshot_bound),
        cmocka_unit_test(test_replay_eviction),
        cmocka_unit_test(test_replay_model),
        cmocka_unit_test(test_replay_adopt),
        cmocka_unit_test(test_tamper_every_bit),
        cmocka_unit_test(test_bulk_same_as_serial),
        cmocka_unit_test(test_shared_store_threads),
        cmocka_unit_test(test_ed25519_edge_vectors),
        cmocka_unit_test(test_xcheck_vectors),
        cmocka_unit_test(test_apply_rechecks_issuer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
