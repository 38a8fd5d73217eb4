/* Integer fixed-point arithmetic for scores: square roots, decay, bounds.
 *
 * Every function here is exact integer arithmetic with floor rounding at
 * the points docs/tiers.md names, so another implementation (Python, Go)
 * that follows the same steps gets the same ppm values bit for bit. */
#include "tier_internal.h"

/* Floor of the square root, bit by bit: no division, no floating point. */
uint64_t gr_isqrt64(uint64_t v)
{
    uint64_t res = 0, bit = 1ull << 62;
    while (bit > v) bit >>= 2;
    while (bit) {
        if (v >= res + bit) {
            v -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    return res;
}

uint32_t gr_ratio_ppm(uint64_t num, uint64_t den)
{
    return den ? (uint32_t)(num * GR_PPM / den) : 0;
}

/* x^h in Q30 with a floor after every product. */
static uint64_t pow_q30(uint64_t x, uint32_t h)
{
    uint64_t y = 1ull << 30;
    for (uint32_t i = 0; i < h; i++) y = (y * x) >> 30;
    return y;
}

/* 2^(-r/h) in Q30 for 0 <= r < h: the largest x with x^h <= 2^(30-r) in
 * Q30 (binary search over integers, so no pow() or log()). */
static uint64_t root_q30(uint32_t r, uint32_t h)
{
    uint64_t target = (1ull << 30) >> r, lo = 0, hi = 1ull << 30;
    while (lo < hi) {
        uint64_t mid = (lo + hi + 1) >> 1;
        if (pow_q30(mid, h) <= target) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

void gr_decay_table(uint32_t *out, uint32_t n, uint32_t half_life)
{
    for (uint32_t a = 0; a < n; a++) {
        if (half_life == 0) { out[a] = GR_Q16; continue; }
        uint32_t whole = a / half_life, r = a % half_life;
        uint64_t q16 = (root_q30(r, half_life) + (1u << 13)) >> 14; /* round Q30 -> Q16 */
        out[a] = whole >= 32 ? 0 : (uint32_t)(q16 >> whole);
    }
}

/*
 * Wilson lower bound, rearranged so every term is a ppm integer:
 *   P = p*1e6, A = z^2/(2n)*1e6, B = z^2/n*1e6, T = z/n*1e6,
 *   V = P(1e6-P)/n + T^2/4            (ppm^2)
 *   lower = (P + A - z*isqrt(V)) * 1e6 / (1e6 + B)
 * with n = total_q16 / 65536 and z = z_milli / 1000. total_q16 >= 65536.
 */
uint32_t gr_wilson_lower_ppm(uint64_t pass_q16, uint64_t total_q16, uint32_t z_milli)
{
    if (total_q16 < GR_Q16) return 0; /* under one observation: no bound (T^2 would overflow) */
    uint64_t z2 = (uint64_t)z_milli * z_milli; /* z^2 in ppm */
    uint64_t P = pass_q16 * GR_PPM / total_q16;
    uint64_t A = z2 * GR_Q16 / (2 * total_q16);
    uint64_t B = z2 * GR_Q16 / total_q16;
    uint64_t T = (uint64_t)z_milli * 1000u * GR_Q16 / total_q16;
    uint64_t V = P * (GR_PPM - P) * GR_Q16 / total_q16 + T * T / 4;
    uint64_t zs = (uint64_t)z_milli * gr_isqrt64(V) / 1000u;
    uint64_t num = P + A > zs ? P + A - zs : 0;
    uint64_t lower = num * GR_PPM / (GR_PPM + B);
    return lower > GR_PPM ? GR_PPM : (uint32_t)lower;
}

/* Beta posterior (the counts already include the prior): mean minus z
 * standard deviations, sd^2 = M(1e6-M)/(n+1) in ppm^2. */
uint32_t gr_beta_lower_ppm(uint64_t pass_q16, uint64_t total_q16, uint32_t z_milli)
{
    if (total_q16 == 0) return 0;
    uint64_t M = pass_q16 * GR_PPM / total_q16;
    uint64_t var = M * (GR_PPM - M) * GR_Q16 / (total_q16 + GR_Q16);
    uint64_t zs = (uint64_t)z_milli * gr_isqrt64(var) / 1000u;
    return M > zs ? (uint32_t)(M - zs) : 0;
}

void gr_bound(const gpurent_tier_engine *e, uint64_t pass_q16, uint64_t fail_q16, uint32_t *lower_ppm,
              uint32_t *mean_ppm)
{
    uint64_t pass = pass_q16 + e->prior_pass_q16;
    uint64_t fail = fail_q16 + e->prior_fail_q16;
    /* Keep count x 1e6 inside 64 bits: halve both counts (floor) until the
     * total is at most 2^40 Q16 (16.7 million observations). */
    while (pass + fail > (1ull << 40)) {
        pass >>= 1;
        fail >>= 1;
    }
    uint64_t total = pass + fail;
    *mean_ppm = gr_ratio_ppm(pass, total);
    *lower_ppm = e->o.bound == GPURENT_TIER_BOUND_BETA ? gr_beta_lower_ppm(pass, total, e->o.z_milli)
                                                       : gr_wilson_lower_ppm(pass, total, e->o.z_milli);
    if (*lower_ppm > *mean_ppm) *lower_ppm = *mean_ppm; /* floor rounding can cross by 1 ppm */
}
