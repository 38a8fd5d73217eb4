/* Policy, constraints and integer scoring. Every score component is a
 * value in parts per million of its best, multiplied by its weight; all
 * arithmetic is on unsigned 64-bit integers with bounded inputs (the
 * bounds are checked in gpurent_match_options_validate), so every platform
 * computes the same numbers. */
#include <sodium.h>
#include <string.h>

#include "../wire/mp_internal.h"
#include "match_internal.h"
#include "models_internal.h"

#define DEF_PRICE_REF 1000000ull        /* 1 unit per GPU-hour */
#define DEF_PERF_PRICE_CAP 250000ull    /* GFLOPS per unit per hour */
#define DEF_STAKE_CAP 1000000000000ull  /* 10^6 units */
#define DEF_AGING 250000ull             /* +25% priority per hour waited */
#define MAX_PRICE_REF (1ull << 40)
#define MAX_PERF_CAP (1ull << 40)
#define MAX_STAKE_CAP (1ull << 43)
#define MAX_AGING 10000000ull
#define SHARE_STRAND_PCT 25u            /* a GPU left with less free memory share is stranded */

GPURENT_API gpurent_status gpurent_match_options_init(gpurent_match_options *opts, unsigned int version)
{
    GR_CHECK_ARG(opts, "opts is NULL");
    int rc = gr_check_version(version, GPURENT_MATCH_OPTIONS_VERSION, "gpurent_match_options");
    if (rc) return rc;
    gpurent_match_options d = GPURENT_MATCH_OPTIONS_INIT;
    *opts = d;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_match_options_preset(gpurent_match_options *o, gpurent_match_preset preset)
{
    GR_CHECK_ARG(o, "opts is NULL");
    /* price, perf/price, tier, score, stake, locality, fit */
    static const uint32_t w[4][7] = {
        {250, 250, 150, 100, 50, 50, 150}, /* balanced */
        {600, 100, 50, 50, 0, 50, 150},    /* cheapest */
        {100, 500, 100, 100, 0, 50, 150},  /* performance */
        {100, 100, 300, 250, 100, 50, 100} /* trusted */
    };
    int v = (int)preset; /* a caller may pass any int: the enum's range is checked here */
    if (v < 0 || v > 3) return gr_fail(GPURENT_E_INVALID_ARG, "preset: %d, allowed 0..3", v);
    const uint32_t *p = w[v];
    o->w_price = p[0];
    o->w_perf_price = p[1];
    o->w_tier = p[2];
    o->w_score = p[3];
    o->w_stake = p[4];
    o->w_locality = p[5];
    o->w_fit = p[6];
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_match_options_validate(const gpurent_match_options *o)
{
    GR_CHECK_ARG(o, "opts is NULL");
    int rc = gr_check_version(o->version, GPURENT_MATCH_OPTIONS_VERSION, "gpurent_match_options");
    if (rc) return rc;
    const uint32_t w[7] = {o->w_price, o->w_perf_price, o->w_tier, o->w_score, o->w_stake, o->w_locality, o->w_fit};
    static const char *const names[7] = {"w_price", "w_perf_price", "w_tier", "w_score",
                                         "w_stake", "w_locality", "w_fit"};
    uint32_t sum = 0;
    for (int i = 0; i < 7; i++) {
        if (w[i] > GPURENT_MATCH_MAX_WEIGHT)
            return gr_fail(GPURENT_E_INVALID_ARG, "options.%s: %u above %u", names[i], w[i], GPURENT_MATCH_MAX_WEIGHT);
        sum += w[i];
    }
    if (!sum) return gr_fail(GPURENT_E_INVALID_ARG, "options: every weight is 0");
    if (o->price_ref_micro > MAX_PRICE_REF)
        return gr_fail(GPURENT_E_INVALID_ARG, "options.price_ref_micro: above 2^40");
    if (o->perf_price_cap > MAX_PERF_CAP) return gr_fail(GPURENT_E_INVALID_ARG, "options.perf_price_cap: above 2^40");
    if (o->stake_cap_micro > MAX_STAKE_CAP) return gr_fail(GPURENT_E_INVALID_ARG, "options.stake_cap_micro: above 2^43");
    if (o->aging_per_hour > MAX_AGING)
        return gr_fail(GPURENT_E_INVALID_ARG, "options.aging_per_hour: %llu above %llu",
                       (unsigned long long)o->aging_per_hour, MAX_AGING);
    if (o->strand_min_gpus > GPURENT_NODE_MAX_GPUS)
        return gr_fail(GPURENT_E_INVALID_ARG, "options.strand_min_gpus: %u above %u", o->strand_min_gpus,
                       GPURENT_NODE_MAX_GPUS);
    if (o->threads > 256) return gr_fail(GPURENT_E_INVALID_ARG, "options.threads: %u above 256", o->threads);
    return GPURENT_OK;
}

void ml_opts_resolve(gpurent_match_options *o)
{
    if (!o->price_ref_micro) o->price_ref_micro = DEF_PRICE_REF;
    if (!o->perf_price_cap) o->perf_price_cap = DEF_PERF_PRICE_CAP;
    if (!o->stake_cap_micro) o->stake_cap_micro = DEF_STAKE_CAP;
    if (!o->aging_per_hour) o->aging_per_hour = DEF_AGING;
}

int ml_policy_digest(const gpurent_match_options *in, uint8_t out[GPURENT_DIGEST_BYTES])
{
    gpurent_match_options o = *in;
    ml_opts_resolve(&o);
    const uint64_t v[14] = {o.version,         o.w_price,        o.w_perf_price,    o.w_tier,         o.w_score,
                            o.w_stake,         o.w_locality,     o.w_fit,           o.price_ref_micro, o.perf_price_cap,
                            o.stake_cap_micro, o.aging_per_hour, o.strand_min_gpus, ML_ALGORITHM};
    gr_writer w;
    gpurent_buf b = {NULL, 0};
    gr_wr_init(&w);
    /* The tables that resolve names in requests and offers decide matches
     * too: matchers with different tables must not share a policy digest. */
    uint8_t models[GPURENT_DIGEST_BYTES], frameworks[GPURENT_DIGEST_BYTES];
    int rc = gpurent_model_table_digest(models);
    if (!rc) rc = gpurent_framework_table_digest(frameworks);
    if (rc) return rc;
    gr_wr_map(&w, 16);
    for (uint32_t i = 0; i < 14; i++) {
        gr_wr_uint(&w, i);
        gr_wr_uint(&w, v[i]);
    }
    gr_wr_uint(&w, 14);
    gr_wr_bin(&w, models, sizeof models);
    gr_wr_uint(&w, 15);
    gr_wr_bin(&w, frameworks, sizeof frameworks);
    rc = gr_wr_finish(&w, &b);
    if (rc) return rc;
    crypto_generichash(out, GPURENT_DIGEST_BYTES, b.data, b.len, NULL, 0);
    gpurent_buf_free(&b);
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_match_options_digest(const gpurent_match_options *opts,
                                                        uint8_t digest[GPURENT_DIGEST_BYTES])
{
    GR_CHECK_ARG(opts && digest, "opts or digest is NULL");
    int rc = gpurent_match_options_validate(opts);
    if (!rc) rc = gr_ensure_init();
    return rc ? rc : ml_policy_digest(opts, digest);
}

void ml_weights_update(gpurent_market *m)
{
    const gpurent_match_options *o = &m->opts;
    m->w_static = (uint64_t)o->w_price + o->w_perf_price + o->w_tier + o->w_score + o->w_stake;
    m->max_static = m->w_static * ML_PPM;
    m->max_dyn = ((uint64_t)o->w_fit + o->w_locality) * ML_PPM;
    ml_level_table(m);
}

/* ---- static score: what a node is worth to anyone ---- */

uint64_t ml_static(const gpurent_market *m, const mnode *n, gpurent_match_breakdown *bd)
{
    const gpurent_match_options *o = &m->opts;
    const mprov *p = &m->provs[n->provider];
    uint64_t c_price = o->price_ref_micro * ML_PPM / (o->price_ref_micro + n->price);
    uint64_t ppp = n->gflops * ML_PPM / (n->price ? n->price : 1);
    uint64_t c_ppp = (ppp < o->perf_price_cap ? ppp : o->perf_price_cap) * ML_PPM / o->perf_price_cap;
    uint64_t c_tier = p->tier ? (uint64_t)(8 - p->tier) * ML_PPM / 7 : 0;
    uint64_t c_score = p->score_ppm;
    uint64_t stake = p->stake < o->stake_cap_micro ? p->stake : o->stake_cap_micro;
    uint64_t c_stake = stake * ML_PPM / o->stake_cap_micro;
    uint64_t parts[5] = {o->w_price * c_price, o->w_perf_price * c_ppp, o->w_tier * c_tier, o->w_score * c_score,
                         o->w_stake * c_stake};
    if (bd) {
        bd->price = parts[0];
        bd->perf_price = parts[1];
        bd->tier = parts[2];
        bd->score = parts[3];
        bd->stake = parts[4];
    }
    return parts[0] + parts[1] + parts[2] + parts[3] + parts[4];
}

/* The median per-node need of the pending requests (by count): a node left
 * with fewer free GPUs than most requests need is stranded. */
uint32_t ml_strand_min(const gpurent_market *m)
{
    if (m->opts.strand_min_gpus) return m->opts.strand_min_gpus;
    uint64_t total = 0, acc = 0;
    for (uint32_t i = 1; i <= GPURENT_NODE_MAX_GPUS; i++) total += m->need_hist[i];
    if (!total) return 2;
    for (uint32_t i = 1; i <= GPURENT_NODE_MAX_GPUS; i++) {
        acc += m->need_hist[i];
        if (acc * 2 >= total) return i;
    }
    return 2;
}

uint64_t ml_fit_whole(uint32_t free, uint32_t need, uint32_t strand)
{
    uint32_t left = free - need;
    if (left == 0) return ML_PPM;
    if (left >= strand) return 500000u + 400000ull * need / free;
    return 100000ull * need / free;
}

uint64_t ml_fit(const mnode *n, uint32_t need, uint32_t share, uint32_t strand, uint32_t *gpu_index)
{
    if (!share) return n->gpu_free >= need ? ml_fit_whole(n->gpu_free, need, strand) : 0;
    /* Best fit: the GPU with the least free share that still holds it. */
    uint32_t best = NIL, bestv = 101;
    for (uint32_t i = 0; i < n->gpu_count; i++)
        if (n->share[i] >= share && n->share[i] < bestv) {
            bestv = n->share[i];
            best = i;
        }
    if (gpu_index) *gpu_index = best;
    return best == NIL ? 0 : ml_fit_whole(bestv, share, SHARE_STRAND_PCT);
}

/* ---- constraints ---- */

static int has16(const uint16_t *a, uint32_t n, uint16_t v)
{
    for (uint32_t i = 0; i < n; i++)
        if (a[i] == v) return 1;
    return 0;
}

static int has_key(const uint8_t (*keys)[GPURENT_KEY_BYTES], uint32_t n, const uint8_t *k)
{
    for (uint32_t i = 0; i < n; i++)
        if (memcmp(keys[i], k, GPURENT_KEY_BYTES) == 0) return 1;
    return 0;
}

#define FAIL(c)                      \
    do {                             \
        mask |= 1u << (c);           \
        if (!all) return mask;       \
    } while (0)

uint32_t ml_check(const gpurent_market *m, const mreq *q, const mnode *n, int all)
{
    uint32_t mask = 0;
    const mlists *l = q->lists;
    if ((q->share != 0) != (n->shared != 0)) FAIL(GPURENT_MC_KIND);
    if (l && l->nm && !has16(ml_l_models(l), l->nm, n->model)) FAIL(GPURENT_MC_MODEL);
    if (n->vram_mib < q->min_vram) FAIL(GPURENT_MC_VRAM);
    if (n->cc < q->cc || (l && l->fw && !ml_framework_supports(gpurent_framework_at(l->fw - 1u), n->cc)))
        FAIL(GPURENT_MC_CC); /* below the minimum, or no kernels of the request's framework build */
    if (n->gflops < q->min_gflops) FAIL(GPURENT_MC_FP32);
    if (q->iface && n->iface != q->iface) FAIL(GPURENT_MC_INTERFACE);
    if (n->cuda < q->cuda) FAIL(GPURENT_MC_CUDA);
    if (q->max_price && n->price > q->max_price) FAIL(GPURENT_MC_PRICE);
    if (q->tiers && !(q->tiers & (1u << n->tier) & 0xfeu)) FAIL(GPURENT_MC_TIER);
    if (q->verified_only && !n->verified) FAIL(GPURENT_MC_VERIFIED);
    if (l && ((l->nr && !has16(ml_l_regions(l), l->nr, n->region)) || has16(ml_l_xregions(l), l->nxr, n->region)))
        FAIL(GPURENT_MC_REGION);
    if (l && (l->np || l->nxp)) {
        const mprov *p = &m->provs[n->provider];
        if ((l->np && !has_key(ml_l_keys(l), l->np, p->key)) || has_key(ml_l_keys(l) + l->np, l->nxp, p->key))
            FAIL(GPURENT_MC_PROVIDER);
    }
    if (q->duration < n->min_dur || (n->max_dur && q->duration > n->max_dur)) FAIL(GPURENT_MC_DURATION);
    if (n->cpu < q->cpu) FAIL(GPURENT_MC_CPU);
    if (n->ram_mib < q->ram) FAIL(GPURENT_MC_RAM);
    if (n->disk_gib < q->disk) FAIL(GPURENT_MC_DISK);
    uint32_t need = q->share ? 0 : q->gpu_count / q->gang_nodes;
    if (need && n->gpu_count < need) FAIL(GPURENT_MC_GPUS);
    else if (need ? n->gpu_free < need : n->maxshare < q->share) FAIL(GPURENT_MC_BUSY);
    return mask;
}
#undef FAIL

uint64_t ml_tie_hash(const gpurent_market *m, const char *req_id, const mnode *n)
{
    crypto_generichash_state st;
    uint8_t out[8];
    crypto_generichash_init(&st, m->seed, sizeof m->seed, sizeof out);
    crypto_generichash_update(&st, (const uint8_t *)req_id, strlen(req_id) + 1);
    crypto_generichash_update(&st, m->provs[n->provider].key, GPURENT_KEY_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)n->id, strlen(n->id));
    crypto_generichash_final(&st, out, sizeof out);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | out[i]; /* big-endian: the same on every platform */
    return v;
}

uint64_t ml_prio(const gpurent_market *m, const mreq *q, uint64_t now)
{
    uint64_t age = now > q->submitted_at ? now - q->submitted_at : 0;
    uint64_t a = m->opts.aging_per_hour;
    return ML_PPM + age / 3600 * a + age % 3600 * a / 3600;
}
