/* The fixed world the signed-statement harnesses verify against, shared with
 * gen_seeds.c so the seeds are signed by the keys the harnesses trust.
 *
 * Keys come from fixed seeds (byte 0x40 + index repeated), so every run,
 * every machine and every seed file agree. Roles in the trust store:
 *   0 provider        1, 2, 3 auditors (the quorum harness asks 2 of 3)
 *   4 matcher         5 revoker
 *   6 auditor, revoked (still in the store)
 *   7 not in the store at all
 * Every key is trusted from FUZZ_KEY_FROM to FUZZ_KEY_UNTIL; statements are
 * verified at FUZZ_NOW with FUZZ_SKEW seconds of skew. Key files are sealed
 * with FUZZ_PASSPHRASE and the cheapest KDF limits libsodium allows. */
#ifndef GPURENT_FUZZ_FIXTURE_H
#define GPURENT_FUZZ_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpurent.h"

#define FUZZ_KEYS 8
#define FUZZ_KEY_PROVIDER 0
#define FUZZ_KEY_AUDITOR1 1
#define FUZZ_KEY_AUDITOR2 2
#define FUZZ_KEY_AUDITOR3 3
#define FUZZ_KEY_MATCHER 4
#define FUZZ_KEY_REVOKER 5
#define FUZZ_KEY_REVOKED 6
#define FUZZ_KEY_STRANGER 7

#define FUZZ_NOW 1700000000ull
#define FUZZ_SKEW 300u
#define FUZZ_KEY_FROM 1600000000ull
#define FUZZ_KEY_UNTIL 1800000000ull
#define FUZZ_PASSPHRASE "fuzz passphrase"
#define FUZZ_KDF_OPS 1u
#define FUZZ_KDF_MEM 8192u

static inline void fuzz_die(const char *what)
{
    fprintf(stderr, "fuzz fixture: %s: %s\n", what, gpurent_last_error_message());
    abort();
}

static inline void fuzz_key_seed(unsigned i, uint8_t seed[GPURENT_SEED_BYTES])
{
    memset(seed, 0x40 + (int)i, GPURENT_SEED_BYTES);
}

/* The fixture's keys, made once per process (never freed: they live as
 * long as the fuzzer). */
static inline gpurent_key *fuzz_key(unsigned i)
{
    static gpurent_key *keys[FUZZ_KEYS];
    if (i >= FUZZ_KEYS) fuzz_die("key index");
    if (!keys[i]) {
        uint8_t seed[GPURENT_SEED_BYTES];
        fuzz_key_seed(i, seed);
        if (gpurent_key_from_seed(&keys[i], seed) != GPURENT_OK) fuzz_die("gpurent_key_from_seed");
    }
    return keys[i];
}

static inline void fuzz_pk(unsigned i, uint8_t pk[GPURENT_KEY_BYTES])
{
    if (gpurent_key_public(fuzz_key(i), pk) != GPURENT_OK) fuzz_die("gpurent_key_public");
}

/* The fixture index of a public key, or -1. */
static inline int fuzz_key_index(const uint8_t pk[GPURENT_KEY_BYTES])
{
    uint8_t k[GPURENT_KEY_BYTES];
    for (unsigned i = 0; i < FUZZ_KEYS; i++) {
        fuzz_pk(i, k);
        if (memcmp(k, pk, sizeof k) == 0) return (int)i;
    }
    return -1;
}

static inline uint32_t fuzz_key_roles(unsigned i)
{
    switch (i) {
    case FUZZ_KEY_PROVIDER: return GPURENT_ROLE_PROVIDER;
    case FUZZ_KEY_AUDITOR1:
    case FUZZ_KEY_AUDITOR2:
    case FUZZ_KEY_AUDITOR3:
    case FUZZ_KEY_REVOKED: return GPURENT_ROLE_AUDITOR;
    case FUZZ_KEY_MATCHER: return GPURENT_ROLE_MATCHER;
    case FUZZ_KEY_REVOKER: return GPURENT_ROLE_REVOKER;
    default: return 0;
    }
}

/* A new trust store holding the fixture's keys (the caller frees it). */
static inline gpurent_trust *fuzz_trust_new(void)
{
    gpurent_trust *t = NULL;
    gpurent_trust_options o = GPURENT_TRUST_OPTIONS_INIT;
    o.replay_capacity = 64;
    if (gpurent_trust_new(&t, &o) != GPURENT_OK) fuzz_die("gpurent_trust_new");
    for (unsigned i = 0; i < FUZZ_KEYS; i++) {
        uint32_t roles = fuzz_key_roles(i);
        if (!roles) continue;
        uint8_t pk[GPURENT_KEY_BYTES];
        fuzz_pk(i, pk);
        if (gpurent_trust_add(t, pk, roles, FUZZ_KEY_FROM, FUZZ_KEY_UNTIL) != GPURENT_OK)
            fuzz_die("gpurent_trust_add");
        if (i == FUZZ_KEY_REVOKED && gpurent_trust_revoke(t, pk) != GPURENT_OK) fuzz_die("gpurent_trust_revoke");
    }
    return t;
}

/* Sign `payload` as a statement of `statement` with key `signer`, then
 * co-sign with each key in cosigners[0..n). Fixed nonce (so the bytes are
 * reproducible), the fixture's window unless the caller changes it. */
static inline void fuzz_fixture_header(gpurent_envelope *h, uint32_t statement)
{
    gpurent_envelope_init(h);
    h->statement = statement;
    h->issued_at = FUZZ_NOW - 3600;
    h->expires_at = FUZZ_NOW + 86400;
    memset(h->nonce, 0x5a, sizeof h->nonce);
}

static inline int fuzz_sign(const gpurent_envelope *h, unsigned signer, const unsigned *cosigners, unsigned n,
                            const uint8_t *payload, size_t len, gpurent_buf *out)
{
    int rc = gpurent_envelope_sign(fuzz_key(signer), h, payload, len, out);
    for (unsigned i = 0; rc == GPURENT_OK && i < n; i++) {
        gpurent_buf next = {0};
        rc = gpurent_envelope_cosign(fuzz_key(cosigners[i]), out->data, out->len, &next);
        gpurent_buf_free(out);
        *out = next;
    }
    if (rc != GPURENT_OK) gpurent_buf_free(out);
    return rc;
}

#endif
