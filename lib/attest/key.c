/* Ed25519 keys held as a seed in libsodium guarded memory. */
#include <sodium.h>
#include <string.h>

#include "attest_internal.h"

/* The secret region: the seed, then the 64-byte secret key libsodium
 * derives from it (seed || public key). It is derived here, from the seed,
 * never accepted from outside: libsodium signs with the public half of a
 * 64-byte secret unchecked, and a wrong half leaks the seed's scalar. */
#define SECRET_SEED 0
#define SECRET_SK 32
#define SECRET_BYTES (32 + crypto_sign_SECRETKEYBYTES)

struct gpurent_key {
    uint8_t pk[GPURENT_KEY_BYTES];
    uint8_t *secret; /* sodium_malloc: guard pages and canary; read-only after setup */
};

/* Allocate a key whose seed is filled by `fill` (random or copied). */
static int key_make(gpurent_key **out, const uint8_t *seed)
{
    int rc = gr_ensure_init();
    if (rc) return rc;
    gpurent_key *k = gr_calloc(1, sizeof *k);
    if (!k) return gr_fail(GPURENT_E_NOMEM, "key");
    /* Guarded memory comes from libsodium, not gr_malloc: ask the test hook
     * so that this failure can be injected too. */
    k->secret = gr_alloc_should_fail() ? NULL : sodium_malloc(SECRET_BYTES);
    if (!k->secret) {
        gr_free(k);
        return gr_fail(GPURENT_E_NOMEM, "key: guarded memory");
    }
    if (seed)
        memcpy(k->secret + SECRET_SEED, seed, GPURENT_SEED_BYTES);
    else
        randombytes_buf(k->secret + SECRET_SEED, GPURENT_SEED_BYTES);
    crypto_sign_seed_keypair(k->pk, k->secret + SECRET_SK, k->secret + SECRET_SEED);
    /* Read-only, not no-access: keys sign from several threads at once, and
     * toggling protection per call would race between them. */
    sodium_mprotect_readonly(k->secret);
    *out = k;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_key_generate(gpurent_key **out)
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    return key_make(out, NULL);
}

GPURENT_API gpurent_status gpurent_key_from_seed(gpurent_key **out, const uint8_t seed[GPURENT_SEED_BYTES])
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    GR_CHECK_ARG(seed, "seed is NULL");
    return key_make(out, seed);
}

GPURENT_API gpurent_status gpurent_key_public(const gpurent_key *key, uint8_t pk[GPURENT_KEY_BYTES])
{
    GR_CHECK_ARG(key && pk, "key or pk is NULL");
    memcpy(pk, key->pk, GPURENT_KEY_BYTES);
    return GPURENT_OK;
}

GPURENT_API void gpurent_key_free(gpurent_key *key)
{
    if (!key) return;
    sodium_free(key->secret); /* wipes before unmapping */
    sodium_memzero(key, sizeof *key);
    gr_free(key);
}

const uint8_t *gr_key_pk(const gpurent_key *key) { return key->pk; }

int gr_key_sign(const gpurent_key *key, const uint8_t *msg, size_t len, uint8_t sig[GPURENT_SIGNATURE_BYTES])
{
    if (crypto_sign_detached(sig, NULL, msg, len, key->secret + SECRET_SK) != 0)
        return gr_fail(GPURENT_E_INTERNAL, "crypto_sign_detached failed");
    return GPURENT_OK;
}

const uint8_t *gr_key_seed(const gpurent_key *key) { return key->secret + SECRET_SEED; }
