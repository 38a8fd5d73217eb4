/*
 * make check-js-fe: the WebAssembly build's Ed25519 against libsodium's own.
 *
 * Built twice. For WebAssembly (emcc -msimd128, linked with build/wasm/deps's
 * libsodium, whose fe25519_mul, _add and _sub come from
 * bindings/js/wasm/fe25519_wasm_simd.h, compiled with clang's autovectorisers
 * off like that libsodium: its own generator was miscompiled by them) it
 * first compares fe25519_mul, _add and _sub with libsodium's own (*_ref)
 * limb for limb, also in place (h = f, h = g):
 * random limbs within libsodium's bounds, limbs at those bounds, any int32
 * limbs, encodings at and around p = 2^255-19, chained products, and
 * x * 1/x = 1. Natively (cc, the system's libsodium: 64-bit limbs) it skips
 * that part. Both then sign and verify the same pseudo-random cases (valid
 * signatures, flipped bits in R, S, message and key, S + L, small-order and
 * non-canonical keys, random R, another signer's key) and print one line:
 * the number of cases, of accepted ones, and a BLAKE2b digest of every
 * public key, signature and verdict. The make rule wants the two lines equal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#if defined(__wasm__) && !defined(FE_CHECK_VERIFY_ONLY)
# include "private/ed25519_ref10.h"
# ifndef GPURENT_FE25519_WASM_SIMD
#  error "fe_check: build/wasm/deps's libsodium lacks the SIMD field multiplication"
# endif
#endif

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void
rng_bytes(unsigned char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        b[i] = (unsigned char) rng();
    }
}

#if defined(__wasm__) && !defined(FE_CHECK_VERIFY_ONLY)
static long fe_cases, fe_bad;

static void
fe_report(const char *op, const fe25519 f, const fe25519 g)
{
    int i;

    if (fe_bad++ >= 5) {
        return;
    }
    fprintf(stderr, "fe_check: fe25519_%s differs from fe25519_%s_ref for f =", op, op);
    for (i = 0; i < 10; i++) {
        fprintf(stderr, " %ld", (long) f[i]);
    }
    fprintf(stderr, ", g =");
    for (i = 0; i < 10; i++) {
        fprintf(stderr, " %ld", (long) g[i]);
    }
    fprintf(stderr, "\n");
}

/* mul, add and sub on (f, g), each also with h = f and h = g */
static void
fe_one(const fe25519 f, const fe25519 g)
{
    fe25519 a, b, c;

    fe_cases++;
    fe25519_mul_ref(a, f, g);
    fe25519_mul(b, f, g);
    memcpy(c, f, sizeof c);
    fe25519_mul(c, c, g);
    if (memcmp(a, b, sizeof a) != 0 || memcmp(a, c, sizeof a) != 0) {
        fe_report("mul", f, g);
    }
    memcpy(c, g, sizeof c);
    fe25519_mul(c, f, c);
    if (memcmp(a, c, sizeof a) != 0) {
        fe_report("mul", f, g);
    }
    fe25519_add_ref(a, f, g);
    fe25519_add(b, f, g);
    memcpy(c, f, sizeof c);
    fe25519_add(c, c, g);
    if (memcmp(a, b, sizeof a) != 0 || memcmp(a, c, sizeof a) != 0) {
        fe_report("add", f, g);
    }
    fe25519_sub_ref(a, f, g);
    fe25519_sub(b, f, g);
    memcpy(c, g, sizeof c);
    fe25519_sub(c, f, c);
    if (memcmp(a, b, sizeof a) != 0 || memcmp(a, c, sizeof a) != 0) {
        fe_report("sub", f, g);
    }
}

/* libsodium's input bounds: 1.65 * 2^26 (even limbs), 1.65 * 2^25 (odd). */
static int32_t
bound(int i)
{
    return (int32_t) ((i & 1) ? 1.65 * (1 << 25) : 1.65 * (1 << 26));
}

static void
fe_random(fe25519 f, int kind)
{
    static const int32_t near[] = { 0, 1, -1, 2, -2 };
    int i;

    for (i = 0; i < 10; i++) {
        int32_t  b = bound(i);
        uint64_t r = rng();

        switch (kind) {
        case 0: /* uniform within the bounds */
            f[i] = (int32_t) (r % (2 * (uint64_t) b + 1)) - b;
            break;
        case 1: /* at the bounds, or next to 0 */
            f[i] = (r & 8) ? ((r & 1) ? b : -b) - (int32_t) ((r >> 1) & 3) * ((r & 1) ? 1 : -1)
                           : near[(r >> 4) % 5];
            break;
        case 2: /* reduced limbs: 26 or 25 bits, as fe25519_frombytes gives */
            f[i] = (int32_t) (r & ((i & 1) ? 0x1ffffff : 0x3ffffff));
            break;
        default: /* any int32 (both sides wrap the same way) */
            f[i] = (int32_t) r;
            break;
        }
    }
}

static int
fe_check(void)
{
    /* p - 1, p, p + 1, 2^255 - 1, 2^255 - 20 and 0, 1, 2^254 as encodings */
    unsigned char enc[9][32];
    fe25519       f, g, h, inv;
    unsigned char one[32] = { 1 }, out[32];
    long          n;
    int           i, j, k;

    memset(enc, 0, sizeof enc);
    for (k = 0; k < 5; k++) {
        memset(enc[k], 0xff, 32);
        enc[k][31] = 0x7f;
    }
    enc[0][0] = 0xec; /* p - 1 */
    enc[1][0] = 0xed; /* p */
    enc[2][0] = 0xee; /* p + 1 */
    /* enc[3] = 2^255 - 1 */
    enc[4][0] = 0xeb; /* p - 2 */
    enc[6][0] = 1;
    enc[7][31] = 0x40; /* 2^254 */
    enc[8][0] = 19;
    for (i = 0; i < 9; i++) {
        for (j = 0; j < 9; j++) {
            fe25519_frombytes(f, enc[i]);
            fe25519_frombytes(g, enc[j]);
            fe_one(f, g);
        }
    }
    for (k = 0; k < 4; k++) {
        for (n = 0; n < (k == 0 ? 1000000 : 300000); n++) {
            fe_random(f, k);
            fe_random(g, (k == 3) ? 3 : (int) (rng() % 3));
            fe_one(f, g);
        }
    }
    /* chained: each product feeds the next, as in a scalar multiplication */
    fe_random(f, 0);
    fe_random(g, 0);
    for (n = 0; n < 200000; n++) {
        fe_one(f, g);
        fe25519_mul(h, f, g);
        memcpy(g, f, sizeof f);
        memcpy(f, h, sizeof h);
    }
    /* x * (1/x) = 1 for random encodings, the inverse through fe25519_mul */
    for (n = 0; n < 200; n++) {
        unsigned char x[32];

        rng_bytes(x, sizeof x);
        x[31] &= 0x7f;
        fe25519_frombytes(f, x);
        if (fe25519_iszero(f)) {
            continue;
        }
        fe25519_invert(inv, f);
        fe25519_mul(h, f, inv);
        fe25519_tobytes(out, h);
        if (memcmp(out, one, 32) != 0) {
            fprintf(stderr, "fe_check: x * (1/x) != 1\n");
            return 1;
        }
    }
    if (fe_bad != 0) {
        fprintf(stderr, "fe_check: %ld of %ld (f, g) differ\n", fe_bad, fe_cases);
        return 1;
    }
    printf("fe mul/add/sub: %ld (f, g) identical to libsodium's\n", fe_cases);
    return 0;
}
#endif

/* Encodings of points of small order (libsodium's own blacklist has them
   too) and of y >= p, which verification must refuse. */
static const unsigned char bad_keys[][32] = {
    { 0x01 },                                   /* identity */
    { 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, /* order 2 */
    { 0 },                                      /* order 4 (x = sqrt(-1)) */
    { 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
      0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
      0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 }, /* order 8 */
    { 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, /* y = p + 1 */
    { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, /* 2^255-1, sign */
};

/* L, the order of the base point, little-endian */
static const unsigned char group_l[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
    0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10
};

static void
verify_check(int cases)
{
    crypto_generichash_state st;
    unsigned char            digest[32];
    char                     hex[65];
    int                      i, accepted = 0;

    rng_state = 0x9e3779b97f4a7c15ULL; /* the same cases on both sides */
    crypto_generichash_init(&st, NULL, 0, sizeof digest);
    for (i = 0; i < cases; i++) {
        unsigned char seed[32], pk[32], sk[64], sig[64], m[160], pk2[32], sk2[64];
        size_t        mlen = (size_t) (rng() % sizeof m);
        unsigned char verdict;
        unsigned      c, carry;

        rng_bytes(seed, sizeof seed);
        rng_bytes(m, mlen);
        crypto_sign_seed_keypair(pk, sk, seed);
        crypto_sign_detached(sig, NULL, m, mlen, sk);
        switch (i % 10) {
        case 1: /* a bit of R */
            sig[rng() % 32] ^= (unsigned char) (1u << (rng() % 8));
            break;
        case 2: /* a bit of S */
            sig[32 + rng() % 32] ^= (unsigned char) (1u << (rng() % 8));
            break;
        case 3: /* a bit of the message (or one more byte) */
            if (mlen > 0) {
                m[rng() % mlen] ^= (unsigned char) (1u << (rng() % 8));
            } else {
                m[mlen++] = 0;
            }
            break;
        case 4: /* S + L: the same point, a non-canonical scalar */
            for (c = 0, carry = 0; c < 32; c++) {
                carry += (unsigned) sig[32 + c] + group_l[c];
                sig[32 + c] = (unsigned char) carry;
                carry >>= 8;
            }
            break;
        case 5: /* a key of small order or a non-canonical one */
            memcpy(pk, bad_keys[rng() % (sizeof bad_keys / sizeof bad_keys[0])], 32);
            break;
        case 6: /* a random R */
            rng_bytes(sig, 32);
            break;
        case 7: /* another signer's key */
            rng_bytes(seed, sizeof seed);
            crypto_sign_seed_keypair(pk2, sk2, seed);
            memcpy(pk, pk2, 32);
            break;
        case 8: /* a bit of the key */
            pk[rng() % 32] ^= (unsigned char) (1u << (rng() % 8));
            break;
        default: /* valid */
            break;
        }
        verdict = crypto_sign_verify_detached(sig, m, mlen, pk) == 0;
        accepted += verdict;
        crypto_generichash_update(&st, pk, 32);
        crypto_generichash_update(&st, sig, 64);
        crypto_generichash_update(&st, &verdict, 1);
    }
    crypto_generichash_final(&st, digest, sizeof digest);
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    printf("verify %d cases %d accepted %s\n", cases, accepted, hex);
}

int
main(int argc, char **argv)
{
    int cases = argc > 1 ? atoi(argv[1]) : 3000;

    if (sodium_init() < 0) {
        fprintf(stderr, "fe_check: sodium_init failed\n");
        return 1;
    }
#if defined(__wasm__) && !defined(FE_CHECK_VERIFY_ONLY)
    if (fe_check() != 0) {
        return 1;
    }
#endif
    verify_check(cases);
    return 0;
}
