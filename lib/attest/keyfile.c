/* Key files: the seed sealed with a passphrase (Argon2id + secretbox).
 *
 * Layout (176 bytes, integers big-endian), see docs/attest.md:
 *   0  8  magic "GPRKEY\0\1"
 *   8  1  KDF: 2 = Argon2id v1.3 (crypto_pwhash_ALG_ARGON2ID13)
 *   9  3  zero
 *  12  4  opslimit
 *  16  8  memlimit (bytes)
 *  24 16  salt
 *  40 24  secretbox nonce
 *  64 32  public key
 *  96 48  secretbox(seed): 16-byte tag then the 32 encrypted seed bytes
 * 144 32  BLAKE2b-256 of bytes 0..143
 * The checksum tells a damaged file from a wrong passphrase: a file whose
 * checksum holds but whose box does not open was sealed with another one. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest_internal.h"

#define KF_MAGIC "GPRKEY\0\1"
#define KF_ALG 2
#define KF_SALT 24
#define KF_NONCE 40
#define KF_PK 64
#define KF_BOX 96
#define KF_SUM 144
#define KF_BYTES 176
#define KF_BOX_BYTES (crypto_secretbox_MACBYTES + GPURENT_SEED_BYTES)
#define PASS_MAX 4096
#define OPS_MAX 16u
#define MEM_MIN 8192u
#define MEM_MAX (1ull << 30)

GPURENT_API gpurent_status gpurent_keyfile_options_init(gpurent_keyfile_options *opts, unsigned int version)
{
    GR_CHECK_ARG(opts, "opts is NULL");
    int rc = gr_check_version(version, GPURENT_KEYFILE_OPTIONS_VERSION, "keyfile_options");
    if (rc) return rc;
    gpurent_keyfile_options d = GPURENT_KEYFILE_OPTIONS_INIT;
    *opts = d;
    opts->version = version;
    return GPURENT_OK;
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

static int check_limits(uint64_t ops, uint64_t mem, int status)
{
    if (ops < 1 || ops > OPS_MAX || mem < MEM_MIN || mem > MEM_MAX)
        return gr_fail(status, "key file: opslimit %llu (allowed 1..%u) or memlimit %llu (allowed %u..%llu)",
                       (unsigned long long)ops, OPS_MAX, (unsigned long long)mem, MEM_MIN,
                       (unsigned long long)MEM_MAX);
    return GPURENT_OK;
}

static int check_pass(const char *pass)
{
    GR_CHECK_ARG(pass, "passphrase is NULL");
    size_t n = strnlen(pass, PASS_MAX + 1);
    if (n == 0 || n > PASS_MAX)
        return gr_fail(GPURENT_E_INVALID_ARG, "passphrase: %zu bytes, allowed 1..%u", n, PASS_MAX);
    return GPURENT_OK;
}

/* Derive the box key into guarded memory. */
static int derive(uint8_t **k, const char *pass, const uint8_t *salt, uint64_t ops, uint64_t mem)
{
    *k = sodium_malloc(crypto_secretbox_KEYBYTES);
    if (!*k) return gr_fail(GPURENT_E_NOMEM, "key file: guarded memory");
    if (crypto_pwhash(*k, crypto_secretbox_KEYBYTES, pass, strlen(pass), salt, ops, (size_t)mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_free(*k);
        *k = NULL;
        return gr_fail(GPURENT_E_NOMEM, "key file: Argon2id could not get %llu bytes", (unsigned long long)mem);
    }
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_key_seal(const gpurent_key *key, const char *passphrase,
                                            const gpurent_keyfile_options *opts, gpurent_buf *out)
{
    GR_CHECK_ARG(key && out, "key or out is NULL");
    gpurent_keyfile_options o = GPURENT_KEYFILE_OPTIONS_INIT;
    int rc = check_pass(passphrase);
    if (!rc && opts && !(rc = gr_check_version(opts->version, GPURENT_KEYFILE_OPTIONS_VERSION, "keyfile_options")))
        o = *opts;
    /* Zero means the default, never a zero-cost derivation. */
    gpurent_keyfile_options d = GPURENT_KEYFILE_OPTIONS_INIT;
    if (!o.opslimit) o.opslimit = d.opslimit;
    if (!o.memlimit) o.memlimit = d.memlimit;
    if (!rc) rc = check_limits(o.opslimit, o.memlimit, GPURENT_E_INVALID_ARG);
    if (rc) return rc;
    uint8_t *f = gr_calloc(1, KF_BYTES), *k = NULL;
    if (!f) return gr_fail(GPURENT_E_NOMEM, "key file");
    memcpy(f, KF_MAGIC, 8);
    f[8] = KF_ALG;
    put_be(f + 12, o.opslimit, 4);
    put_be(f + 16, o.memlimit, 8);
    randombytes_buf(f + KF_SALT, crypto_pwhash_SALTBYTES);
    randombytes_buf(f + KF_NONCE, crypto_secretbox_NONCEBYTES);
    memcpy(f + KF_PK, gr_key_pk(key), GPURENT_KEY_BYTES);
    if ((rc = derive(&k, passphrase, f + KF_SALT, o.opslimit, o.memlimit))) {
        gr_free(f);
        return rc;
    }
    crypto_secretbox_easy(f + KF_BOX, gr_key_seed(key), GPURENT_SEED_BYTES, f + KF_NONCE, k);
    sodium_free(k);
    crypto_generichash(f + KF_SUM, 32, f, KF_SUM, NULL, 0);
    out->data = f;
    out->len = KF_BYTES;
    return GPURENT_OK;
}

/* Everything that does not need the passphrase: size, checksum, magic, limits. */
static int check_file(const uint8_t *d, size_t len)
{
    uint8_t sum[32];
    if (len != KF_BYTES)
        return gr_fail(GPURENT_E_KEYFILE_DAMAGED, "key file: %zu bytes, expected %u", len, KF_BYTES);
    crypto_generichash(sum, sizeof sum, d, KF_SUM, NULL, 0);
    if (sodium_memcmp(sum, d + KF_SUM, 32) != 0)
        return gr_fail(GPURENT_E_KEYFILE_DAMAGED, "key file: checksum does not match (damaged or truncated)");
    if (memcmp(d, KF_MAGIC, 8) != 0 || d[8] != KF_ALG || d[9] || d[10] || d[11])
        return gr_fail(GPURENT_E_KEYFILE_DAMAGED, "key file: unknown magic, version or KDF");
    return check_limits(get_be(d + 12, 4), get_be(d + 16, 8), GPURENT_E_KEYFILE_DAMAGED);
}

static int open_box(const uint8_t *d, const char *pass, uint8_t *seed)
{
    uint8_t *k = NULL;
    int rc = derive(&k, pass, d + KF_SALT, get_be(d + 12, 4), get_be(d + 16, 8));
    if (rc) return rc;
    if (crypto_secretbox_open_easy(seed, d + KF_BOX, KF_BOX_BYTES, d + KF_NONCE, k) != 0)
        rc = gr_fail(GPURENT_E_WRONG_PASSPHRASE, "key file: the passphrase does not open it");
    sodium_free(k);
    return rc;
}

static int check_pk(const gpurent_key *key, const uint8_t *pk, const char *which)
{
    if (sodium_memcmp(gr_key_pk(key), pk, GPURENT_KEY_BYTES) != 0)
        return gr_fail(GPURENT_E_KEY_MISMATCH, "key file: the seed derives another public key than %s", which);
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_key_unseal(gpurent_key **out, const uint8_t *data, size_t len,
                                              const char *passphrase,
                                              const uint8_t expected_pk[GPURENT_KEY_BYTES])
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    int rc = check_pass(passphrase);
    if (!rc) rc = gr_ensure_init();
    if (!rc) rc = check_file(data, len);
    if (rc) return rc;
    uint8_t *seed = sodium_malloc(GPURENT_SEED_BYTES);
    if (!seed) return gr_fail(GPURENT_E_NOMEM, "key file: guarded memory");
    gpurent_key *key = NULL;
    rc = open_box(data, passphrase, seed);
    if (!rc) rc = gpurent_key_from_seed(&key, seed);
    sodium_free(seed);
    if (!rc) rc = check_pk(key, data + KF_PK, "the one recorded in the file");
    if (!rc && expected_pk) rc = check_pk(key, expected_pk, "the expected one");
    if (rc) {
        gpurent_key_free(key);
        return rc;
    }
    *out = key;
    return GPURENT_OK;
}

/* Seal, then write through gr_file_write_atomic (lib/core/file.c): a fresh
 * temporary file, fsync, rename() over the target or link() when the target
 * must not exist, then fsync the folder. */
static int save_file(const gpurent_key *key, const char *path, const char *passphrase,
                     const gpurent_keyfile_options *opts, int replace)
{
    GR_CHECK_ARG(path, "path is NULL");
    struct stat st;
    /* Early answer before the passphrase hashing; link() decides. */
    if (!replace && lstat(path, &st) == 0)
        return gr_fail(GPURENT_E_EXISTS, "key file '%s' already exists (not overwritten)", path);
    if (strlen(path) >= 4096) return gr_fail(GPURENT_E_INVALID_ARG, "key file: path too long");
    gpurent_buf b = {0};
    int rc = gpurent_key_seal(key, passphrase, opts, &b);
    if (rc) return rc;
    rc = gr_file_write_atomic(path, b.data, b.len, replace, "key file");
    gpurent_buf_free(&b);
    return rc;
}

GPURENT_API gpurent_status gpurent_key_save(const gpurent_key *key, const char *path, const char *passphrase,
                                            const gpurent_keyfile_options *opts)
{
    return save_file(key, path, passphrase, opts, 1);
}

GPURENT_API gpurent_status gpurent_key_save_new(const gpurent_key *key, const char *path, const char *passphrase,
                                                const gpurent_keyfile_options *opts)
{
    return save_file(key, path, passphrase, opts, 0);
}

GPURENT_API gpurent_status gpurent_key_load(gpurent_key **out, const char *path, const char *passphrase,
                                            const uint8_t expected_pk[GPURENT_KEY_BYTES])
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    GR_CHECK_ARG(path, "path is NULL");
    uint8_t d[4096];
    ssize_t n = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gr_fail(GPURENT_E_IO, "key file '%s': %s", path, strerror(errno));
    size_t got = 0;
    while (got < sizeof d && (n = read(fd, d + got, sizeof d - got)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        got += (size_t)n;
    }
    int err = errno;
    close(fd);
    if (n < 0) return gr_fail(GPURENT_E_IO, "key file '%s': %s", path, strerror(err));
    int rc = gpurent_key_unseal(out, d, got, passphrase, expected_pk);
    sodium_memzero(d, sizeof d);
    return rc;
}
