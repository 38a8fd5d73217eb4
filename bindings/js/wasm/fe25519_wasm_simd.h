/*
 * WebAssembly SIMD128 field multiplication, addition and subtraction for
 * libsodium's fe_25_5 arithmetic (GF(2^255-19), ten signed limbs of 26/25
 * bits), used by the JavaScript binding's build only: bindings/js/wasm_deps.sh
 * renames libsodium's own fe25519_mul, fe25519_add and fe25519_sub to *_ref
 * and includes this file at the end of ed25519_ref10_fe_25_5.h. The squarings (fe25519_sq, _sq2) stay
 * libsodium's: a SIMD squaring (30 extmuls, each symmetric product once with
 * weight 2) measured slower in V8 than their 55 scalar multiplications.
 *
 * What changes is only how the 64-bit limb products are summed: every output
 * limb h[n] is the same integer as libsodium's (the same limb products with
 * the same factors 2 and 19, added exactly in 64 bits), and the carry chain
 * is libsodium's, step for step, so every result is bit-identical to
 * fe25519_mul_ref's. wasm32 has no 64x64->128 multiplication, so the scalar
 * code does 100 64-bit multiplications per fe25519_mul; here
 * i64x2.extmul_{low,high}_i32x4_s do two 32x32->64 products each (50).
 * Addition and subtraction are libsodium's limb-wise 32-bit operations, four
 * limbs per i32x4 operation.
 *
 * Every SIMD instruction here is written out: the files are compiled with
 * clang's autovectorisers off (see wasm_deps.sh). bindings/js/wasm/fe_check.c
 * compares each function with its *_ref on random and boundary limbs, and
 * Ed25519 signing and verification with native libsodium's (make check-js).
 *
 * Without SIMD128 (a compiler not given -msimd128) the *_ref functions stay.
 */
#ifndef GPURENT_FE25519_WASM_SIMD_H
#define GPURENT_FE25519_WASM_SIMD_H

#if defined(__wasm_simd128__)
# include <wasm_simd128.h>

/* libsodium's carry chain: limbs 0,4 / 1,5 / 2,6 / 3,7 / 4,8 / 9 (times 19
   into limb 0) / 0, each rounded to 26 (even) or 25 (odd) bits. */
# define FE_WASM_CARRY(T, I, NEXT, MUL, BITS) do {                            \
        int64_t c_ = ((T)[I] + ((int64_t) 1 << ((BITS) - 1))) >> (BITS);     \
        (T)[NEXT] += c_ * (MUL);                                              \
        (T)[I] -= (int64_t) ((uint64_t) c_ << (BITS));                        \
    } while (0)

static inline void
fe25519_wasm_carry(fe25519 h, int64_t t[10])
{
    int i;

    FE_WASM_CARRY(t, 0, 1, 1, 26);
    FE_WASM_CARRY(t, 4, 5, 1, 26);
    FE_WASM_CARRY(t, 1, 2, 1, 25);
    FE_WASM_CARRY(t, 5, 6, 1, 25);
    FE_WASM_CARRY(t, 2, 3, 1, 26);
    FE_WASM_CARRY(t, 6, 7, 1, 26);
    FE_WASM_CARRY(t, 3, 4, 1, 25);
    FE_WASM_CARRY(t, 7, 8, 1, 25);
    FE_WASM_CARRY(t, 4, 5, 1, 26);
    FE_WASM_CARRY(t, 8, 9, 1, 26);
    FE_WASM_CARRY(t, 9, 0, 19, 25);
    FE_WASM_CARRY(t, 0, 1, 1, 26);
    for (i = 0; i < 10; i++) {
        h[i] = (int32_t) t[i];
    }
}

/* x[m + 9] is limb m of g for m = 0..9 and 19 times limb m + 10 for
   m = -9..-1 (2^255 = 19 mod p), so h[n] = sum_i f[i] * x[n - i + 9] (times
   2 when i and n - i are both odd), and one 128-bit load at x[n - i + 9]
   holds the factors of h[n..n+3]. The last three entries only pad loads. */
static inline void
fe25519_wasm_spread(int32_t x[22], const fe25519 g)
{
    const v128_t k19 = wasm_i32x4_splat(19);

    wasm_v128_store(&x[0], wasm_i32x4_mul(wasm_v128_load(&g[1]), k19));
    wasm_v128_store(&x[4], wasm_i32x4_mul(wasm_v128_load(&g[5]), k19));
    x[8] = 19 * g[9];
    wasm_v128_store(&x[9], wasm_v128_load(&g[0]));
    wasm_v128_store(&x[13], wasm_v128_load(&g[4]));
    wasm_v128_store(&x[18], wasm_i32x4_const(0, 0, 0, 0));
    x[17] = g[8];
    x[18] = g[9];
}

/* The empty asm keeps the compiler from folding the 32-bit lanes back into
   a 64-bit multiply (i64x2.mul), which V8 emulates with three 32-bit ones. */
# define FE_WASM_OPAQUE(V) __asm__("" : "+r"(V))
# define FE_LO(A) A = wasm_i64x2_add(A, wasm_i64x2_extmul_low_i32x4(fv, w))
# define FE_HI(A) A = wasm_i64x2_add(A, wasm_i64x2_extmul_high_i32x4(fv, w))

static inline void
fe25519_wasm_store(int64_t t[10], v128_t a01, v128_t a23, v128_t a45,
                   v128_t a67, v128_t a89)
{
    wasm_v128_store(&t[0], a01);
    wasm_v128_store(&t[2], a23);
    wasm_v128_store(&t[4], a45);
    wasm_v128_store(&t[6], a67);
    wasm_v128_store(&t[8], a89);
}

/* h = f * g: term i multiplies f[i] (lanes for h[n], h[n+1], h[n+2], h[n+3]
   with n even: 2 f[i], f[i], 2 f[i], f[i] when i is odd, as n - i is then
   odd in the even lanes) with x[n - i + 9 ..]. */
static void
fe25519_mul(fe25519 h, const fe25519 f, const fe25519 g)
{
    int32_t x[22];
    int64_t t[10];
    v128_t  a01 = wasm_i64x2_const(0, 0), a23 = a01, a45 = a01, a67 = a01,
            a89 = a01;

    fe25519_wasm_spread(x, g);
# define FE_MUL_TERM(I, FV) do {                                              \
        v128_t fv = (FV), w;                                                  \
        FE_WASM_OPAQUE(fv);                                                   \
        w = wasm_v128_load(&x[9 - (I)]);                                      \
        FE_LO(a01);                                                           \
        FE_HI(a23);                                                           \
        w = wasm_v128_load(&x[13 - (I)]);                                     \
        FE_LO(a45);                                                           \
        FE_HI(a67);                                                           \
        w = wasm_v128_load(&x[17 - (I)]);                                     \
        FE_LO(a89);                                                           \
    } while (0)
# define FE_EVEN(I) wasm_i32x4_splat(f[I])
# define FE_ODD(I) wasm_i32x4_make(2 * f[I], f[I], 2 * f[I], f[I])
    FE_MUL_TERM(0, FE_EVEN(0));
    FE_MUL_TERM(1, FE_ODD(1));
    FE_MUL_TERM(2, FE_EVEN(2));
    FE_MUL_TERM(3, FE_ODD(3));
    FE_MUL_TERM(4, FE_EVEN(4));
    FE_MUL_TERM(5, FE_ODD(5));
    FE_MUL_TERM(6, FE_EVEN(6));
    FE_MUL_TERM(7, FE_ODD(7));
    FE_MUL_TERM(8, FE_EVEN(8));
    FE_MUL_TERM(9, FE_ODD(9));
# undef FE_MUL_TERM
# undef FE_EVEN
# undef FE_ODD
    fe25519_wasm_store(t, a01, a23, a45, a67, a89);

    fe25519_wasm_carry(h, t);
}

/* h = f + g and h = f - g, limb by limb in 32 bits as libsodium's (h may be
   f or g: both are read before h is written). */
# define FE_WASM_LANES(OP, SOP) do {                                          \
        v128_t  f03 = wasm_v128_load(&f[0]), g03 = wasm_v128_load(&g[0]);    \
        v128_t  f47 = wasm_v128_load(&f[4]), g47 = wasm_v128_load(&g[4]);    \
        int32_t h8 = f[8] SOP g[8], h9 = f[9] SOP g[9];                       \
        wasm_v128_store(&h[0], OP(f03, g03));                                 \
        wasm_v128_store(&h[4], OP(f47, g47));                                 \
        h[8] = h8;                                                            \
        h[9] = h9;                                                            \
    } while (0)

static inline void
fe25519_add(fe25519 h, const fe25519 f, const fe25519 g)
{
    FE_WASM_LANES(wasm_i32x4_add, +);
}

static void
fe25519_sub(fe25519 h, const fe25519 f, const fe25519 g)
{
    FE_WASM_LANES(wasm_i32x4_sub, -);
}

# undef FE_WASM_LANES
# undef FE_LO
# undef FE_HI
# undef FE_WASM_OPAQUE
# undef FE_WASM_CARRY
# define GPURENT_FE25519_WASM_SIMD 1
#else
# define fe25519_mul fe25519_mul_ref
# define fe25519_add fe25519_add_ref
# define fe25519_sub fe25519_sub_ref
#endif

#endif
