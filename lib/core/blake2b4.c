/* BLAKE2b-256 of up to four inputs of one length at once (RFC 7693), for
 * the chunk digests of a snapshot's tree checksum (lib/core/snapshot.c).
 *
 * One BLAKE2b stream is a chain of dependent 64-bit operations: libsodium's
 * AVX2 form runs at about 3.4 cycles a byte here. Four independent streams
 * side by side, one 64-bit lane of a 256-bit register each, do the same
 * work for four inputs in fewer than twice the instructions of one. The
 * digests are those of crypto_generichash(out, 32, in, len, NULL, 0) (no
 * key, no salt or personal string), checked against it byte for byte in
 * tests/test_snapshot.c (test_blake2b_lanes). Without AVX2 (another
 * architecture, another compiler, an older CPU, or gr_blake2b_test_scalar
 * set), each input goes through libsodium. */
#include "core_internal.h"

#include <sodium.h>
#include <string.h>

int gr_blake2b_test_scalar;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define GR_HAVE_LANES 1

static const uint64_t IV[8] = {
    0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
    0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
};

/* The message schedule of rounds 0..9; rounds 10 and 11 repeat 0 and 1. */
static const uint8_t SIGMA[10][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

#define LANES_FN __attribute__((target("avx2"))) static

/* Rotations right of each 64-bit lane: by 32 swaps its halves, by 24 and 16
 * move whole bytes, by 63 is a rotation left by 1. */
#define ROR32(x) _mm256_shuffle_epi32((x), _MM_SHUFFLE(2, 3, 0, 1))
#define ROR24(x) _mm256_shuffle_epi8((x), r24)
#define ROR16(x) _mm256_shuffle_epi8((x), r16)
#define ROR63(x) _mm256_xor_si256(_mm256_srli_epi64((x), 63), _mm256_add_epi64((x), (x)))

#define G(a, b, c, d, x, y)                                                                                  \
    do {                                                                                                     \
        v[a] = _mm256_add_epi64(_mm256_add_epi64(v[a], v[b]), (x));                                          \
        v[d] = ROR32(_mm256_xor_si256(v[d], v[a]));                                                          \
        v[c] = _mm256_add_epi64(v[c], v[d]);                                                                 \
        v[b] = ROR24(_mm256_xor_si256(v[b], v[c]));                                                          \
        v[a] = _mm256_add_epi64(_mm256_add_epi64(v[a], v[b]), (y));                                          \
        v[d] = ROR16(_mm256_xor_si256(v[d], v[a]));                                                          \
        v[c] = _mm256_add_epi64(v[c], v[d]);                                                                 \
        v[b] = ROR63(_mm256_xor_si256(v[b], v[c]));                                                          \
    } while (0)

/* Word w of the block at each of p[0..3], lane i from p[i]: four rows of
 * four words each, transposed four words at a time. */
LANES_FN void load_block(__m256i m[16], const uint8_t *const p[4])
{
    for (int q = 0; q < 4; q++) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(p[0] + 32 * q));
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p[1] + 32 * q));
        __m256i c = _mm256_loadu_si256((const __m256i *)(const void *)(p[2] + 32 * q));
        __m256i d = _mm256_loadu_si256((const __m256i *)(const void *)(p[3] + 32 * q));
        __m256i t0 = _mm256_unpacklo_epi64(a, b), t1 = _mm256_unpackhi_epi64(a, b);
        __m256i t2 = _mm256_unpacklo_epi64(c, d), t3 = _mm256_unpackhi_epi64(c, d);
        m[4 * q + 0] = _mm256_permute2x128_si256(t0, t2, 0x20);
        m[4 * q + 1] = _mm256_permute2x128_si256(t1, t3, 0x20);
        m[4 * q + 2] = _mm256_permute2x128_si256(t0, t2, 0x31);
        m[4 * q + 3] = _mm256_permute2x128_si256(t1, t3, 0x31);
    }
}

/* One compression of the four states h by the blocks at p, `t` bytes
 * counted so far (this block's included), `last` on the final block. */
LANES_FN void compress(__m256i h[8], const uint8_t *const p[4], uint64_t t, int last)
{
    const __m256i r24 = _mm256_setr_epi8(3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3, 4, 5, 6, 7, 0, 1,
                                         2, 11, 12, 13, 14, 15, 8, 9, 10);
    const __m256i r16 = _mm256_setr_epi8(2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2, 3, 4, 5, 6, 7, 0,
                                         1, 10, 11, 12, 13, 14, 15, 8, 9);
    __m256i m[16], v[16];
    load_block(m, p);
    for (int i = 0; i < 8; i++) v[i] = h[i];
    for (int i = 0; i < 4; i++) v[8 + i] = _mm256_set1_epi64x((long long)IV[i]);
    v[12] = _mm256_set1_epi64x((long long)(IV[4] ^ t)); /* the high word of the count stays 0 */
    v[13] = _mm256_set1_epi64x((long long)IV[5]);
    v[14] = _mm256_set1_epi64x((long long)(last ? ~IV[6] : IV[6]));
    v[15] = _mm256_set1_epi64x((long long)IV[7]);
    /* the rounds written out, so that every message index is a constant
     * (a loop over them spent a third of its instructions on the indices) */
#define ROUND(r)                                                                                             \
    do {                                                                                                     \
        G(0, 4, 8, 12, m[SIGMA[r][0]], m[SIGMA[r][1]]);                                                      \
        G(1, 5, 9, 13, m[SIGMA[r][2]], m[SIGMA[r][3]]);                                                      \
        G(2, 6, 10, 14, m[SIGMA[r][4]], m[SIGMA[r][5]]);                                                     \
        G(3, 7, 11, 15, m[SIGMA[r][6]], m[SIGMA[r][7]]);                                                     \
        G(0, 5, 10, 15, m[SIGMA[r][8]], m[SIGMA[r][9]]);                                                     \
        G(1, 6, 11, 12, m[SIGMA[r][10]], m[SIGMA[r][11]]);                                                   \
        G(2, 7, 8, 13, m[SIGMA[r][12]], m[SIGMA[r][13]]);                                                    \
        G(3, 4, 9, 14, m[SIGMA[r][14]], m[SIGMA[r][15]]);                                                    \
    } while (0)
    ROUND(0);
    ROUND(1);
    ROUND(2);
    ROUND(3);
    ROUND(4);
    ROUND(5);
    ROUND(6);
    ROUND(7);
    ROUND(8);
    ROUND(9);
    ROUND(0);
    ROUND(1);
#undef ROUND
    for (int i = 0; i < 8; i++) h[i] = _mm256_xor_si256(h[i], _mm256_xor_si256(v[i], v[8 + i]));
}

LANES_FN void lanes4(const uint8_t *const in[4], size_t len, uint8_t *out, unsigned n)
{
    __m256i h[8];
    for (int i = 0; i < 8; i++) h[i] = _mm256_set1_epi64x((long long)IV[i]);
    /* the parameter block: a 32-byte digest, no key, fanout 1, depth 1 */
    h[0] = _mm256_xor_si256(h[0], _mm256_set1_epi64x(0x01010020));
    size_t blocks = len ? (len + 127) / 128 : 1;
    for (size_t k = 0; k + 1 < blocks; k++) {
        const uint8_t *p[4] = {in[0] + 128 * k, in[1] + 128 * k, in[2] + 128 * k, in[3] + 128 * k};
        compress(h, p, 128 * (uint64_t)(k + 1), 0);
    }
    /* the final block, zero-padded */
    uint8_t tail[4][128];
    size_t at = 128 * (blocks - 1), rest = len - at;
    const uint8_t *p[4];
    for (int i = 0; i < 4; i++) {
        memset(tail[i], 0, sizeof tail[i]);
        if (rest) memcpy(tail[i], in[i] + at, rest);
        p[i] = tail[i];
    }
    compress(h, p, (uint64_t)len, 1);
    uint64_t w[4][4]; /* w[word][lane] */
    for (int i = 0; i < 4; i++) _mm256_storeu_si256((__m256i *)(void *)w[i], h[i]);
    for (unsigned l = 0; l < n; l++)
        for (int i = 0; i < 4; i++)
            for (int b = 0; b < 8; b++) out[32 * l + 8 * i + b] = (uint8_t)(w[i][l] >> (8 * b));
}

static int have_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}
#endif

void gr_blake2b256_lanes(const uint8_t *const *in, size_t n, size_t len, uint8_t *out)
{
#ifdef GR_HAVE_LANES
    if (n >= 2 && !gr_blake2b_test_scalar && have_avx2()) {
        while (n >= 2) { /* (in and out step by what was hashed: never past their ends) */
            unsigned k = n < 4 ? (unsigned)n : 4;
            const uint8_t *p[4];
            for (unsigned i = 0; i < 4; i++) p[i] = in[i < k ? i : 0]; /* spare lanes hash the first again */
            lanes4(p, len, out, k);
            in += k;
            out += 32 * k;
            n -= k;
        }
    }
#endif
    for (size_t i = 0; i < n; i++) crypto_generichash(out + 32 * i, 32, in[i], len, NULL, 0);
}
