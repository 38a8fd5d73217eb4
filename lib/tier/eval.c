/* Era evaluation: scores with lower bounds, the tier state machine,
 * slash events. Results go to a scratch copy first and are committed only
 * when every provider is done, so a cancelled evaluation changes nothing. */
#include <stdlib.h>
#include <string.h>

#include "tier_internal.h"

/* Best tier (1..n) whose threshold the uptime meets; n + 1 when none. */
static uint32_t qualifying_tier(const gpurent_tier_options *o, uint32_t uptime_ppm)
{
    for (uint32_t t = 0; t < o->tier_count; t++)
        if (uptime_ppm >= o->tiers[t].uptime_min_ppm) return t + 1;
    return o->tier_count + 1;
}

static void reset_incubation(gr_tstate *st, uint32_t bottom, uint64_t era)
{
    st->tier = bottom;
    st->up_streak = st->down_streak = st->eras_in_tier = st->incub_eras = 0;
    st->graduated = 0;
    st->incub_start = era + 1;
}

/* Moving up from tier t when the streak is long enough, unless leaving
 * incubation is still barred (too few eras served, too few auditors). */
static void try_promote(const gpurent_tier_options *o, gr_tstate *st, const gr_era_input *in, gr_era_output *out)
{
    uint32_t t = st->tier, top_incubation = o->tier_count - o->incubation_tiers + 1;
    if (t == top_incubation) {
        if (!st->graduated && st->incub_eras < o->min_incubation_eras) { out->rule = GPURENT_TIER_RULE_WAIT_INCUBATION; return; }
        if (in->auditors < o->quorum_auditors) { out->rule = GPURENT_TIER_RULE_WAIT_QUORUM; return; }
        if (!st->graduated) out->graduated = 1;
        st->graduated = 1;
    }
    st->tier = t - 1;
    st->up_streak = 0;
    st->eras_in_tier = 0;
    out->promoted = 1;
    out->rule = GPURENT_TIER_RULE_PROMOTED;
}

static void step_down(const gpurent_tier_options *o, gr_tstate *st, int audit_bad, gr_era_output *out)
{
    uint32_t t = st->tier;
    st->up_streak = 0;
    if (t == o->tier_count) {
        st->down_streak = 0;
        out->rule = audit_bad ? GPURENT_TIER_RULE_AUDIT_FAILED : GPURENT_TIER_RULE_BOTTOM;
        return;
    }
    if (st->down_streak < UINT32_MAX) st->down_streak++;
    if (st->down_streak < o->tiers[t - 1].eras_down) {
        out->rule = audit_bad ? GPURENT_TIER_RULE_AUDIT_FAILED : GPURENT_TIER_RULE_DOWN_STREAK;
        return;
    }
    st->tier = t + 1;
    st->down_streak = 0;
    st->eras_in_tier = 0;
    out->demoted = 1;
    out->rule = GPURENT_TIER_RULE_DEMOTED;
}

void gr_tier_step(const gpurent_tier_options *o, gr_tstate *st, const gr_era_input *in, gr_era_output *out)
{
    uint32_t n = o->tier_count, t = st->tier;
    memset(out, 0, sizeof *out);
    /* k sources vouch for q_up or better; k report q_down or worse. */
    uint32_t q_down = in->observed ? qualifying_tier(o, in->uptime_ppm) : n + 1;
    uint32_t q_up = in->observed ? qualifying_tier(o, in->uptime_up_ppm) : n + 1;
    out->qualifying = q_down;
    out->uptime_ppm = in->uptime_ppm;
    if (in->observed && o->tiers[t - 1].slash_below_ppm && in->uptime_ppm < o->tiers[t - 1].slash_below_ppm)
        out->slash |= GPURENT_TIER_SLASH_UPTIME;
    if (!st->graduated && (in->integrity_fail || in->security_fail)) {
        /* Incubation is the strictest phase: a failed integrity or
         * security audit (confirmed by k auditors) sends the provider back
         * to the start. */
        reset_incubation(st, n, in->era);
        out->reset = 1;
        out->rule = GPURENT_TIER_RULE_INCUBATION_RESET;
        return;
    }
    if (in->security_fail) {
        if (o->security_demote_tiers == 0) {
            reset_incubation(st, n, in->era);
        } else {
            st->tier = t + o->security_demote_tiers > n ? n : t + o->security_demote_tiers;
            st->up_streak = st->down_streak = st->eras_in_tier = 0;
        }
        out->demoted = st->tier != t;
        out->slash |= GPURENT_TIER_SLASH_SECURITY;
        out->rule = GPURENT_TIER_RULE_SECURITY_DEMOTION;
        return;
    }
    if (!in->observed) {
        /* No challenge results: nothing proves the era good, nothing bad. */
        st->up_streak = 0;
        st->eras_in_tier++;
        out->rule = GPURENT_TIER_RULE_NO_EVIDENCE;
        return;
    }
    if (!st->graduated) st->incub_eras++;
    int audit_bad = in->integrity_fail || in->gpu_fail;
    /* Good: k sources qualify it above its tier. Bad: k sources put it
     * below, or a failed audit. Both at once (the sources disagree) or
     * neither: the era holds. */
    int good = !audit_bad && q_up < t, bad = audit_bad || q_down > t;
    if (good && !bad) {
        out->qualifying = q_up;
        out->uptime_ppm = in->uptime_up_ppm;
        st->down_streak = 0;
        if (st->up_streak < o->tiers[t - 1].eras_up) st->up_streak++;
        if (st->up_streak >= o->tiers[t - 1].eras_up) try_promote(o, st, in, out);
        else out->rule = GPURENT_TIER_RULE_UP_STREAK;
    } else if (bad && !good) {
        step_down(o, st, audit_bad, out);
    } else {
        st->up_streak = st->down_streak = 0;
        out->rule = GPURENT_TIER_RULE_HELD;
    }
    if (!out->promoted && !out->demoted) st->eras_in_tier++;
}

void gr_stake_merge(gr_stake *into, const gr_stake *obs)
{
    if (!obs->set) return;
    if (!into->set || obs->time_s > into->time_s || (obs->time_s == into->time_s && obs->micro > into->micro))
        *into = *obs;
}

static int audit_passed(const gr_audit *a)
{
    return a->gpu == GPURENT_CHECK_PASSED && a->integrity == GPURENT_CHECK_PASSED &&
           a->security == GPURENT_CHECK_PASSED;
}

static int by_key_engine_cmp(const gpurent_tier_engine *e, uint32_t a, uint32_t b)
{
    return memcmp(e->akeys[a], e->akeys[b], 32);
}

uint32_t gr_quorum(const gpurent_tier_engine *e, const gr_prov *p, uint64_t era, uint64_t since, uint32_t *list,
                   uint32_t max)
{
    uint32_t seen[GR_TIER_MAX_AUDITS], count = 0;
    for (uint32_t i = 0; i < p->naudits; i++) {
        const gr_audit *a = &p->audits[i];
        if (a->era > era || a->era + e->o.window_eras <= era || a->era < since || !audit_passed(a)) continue;
        uint32_t j = 0;
        while (j < count && seen[j] != a->auditor) j++;
        if (j == count) seen[count++] = a->auditor;
    }
    if (list) {
        /* Insertion sort by key: the list is short (auditors of one provider). */
        for (uint32_t i = 1; i < count; i++) {
            uint32_t v = seen[i], j = i;
            for (; j > 0 && by_key_engine_cmp(e, seen[j - 1], v) > 0; j--) seen[j] = seen[j - 1];
            seen[j] = v;
        }
        for (uint32_t i = 0; i < count && i < max; i++) list[i] = seen[i];
    }
    return count;
}

typedef struct sums {
    uint64_t gp, gf, cp, cf, jo, jf, ap, af;
} sums;

/* An era's challenges of one kind, `pass` of `n = pass + fail`, weigh as
 * GR_ERA_OBS observations split by the pass ratio, whatever the number sent:
 * confidence grows with the eras of evidence, not with the challenge rate
 * (challenges in one era share its outages, so they are not independent;
 * and a newcomer challenged 200 times a day must not look surer after three
 * days than a provider with months behind it). With all = GR_ERA_OBS · w
 * (w the era's Q16 decay weight), the passes add
 * floor(pass · ceil(2^32 / n) · all / 2^32) for n <= GR_RECIP_TABLE, and
 * floor(pass · all / n) above, and the failures the rest of all. Up to
 * GR_RECIP_TABLE, n · all < 2^32, so the reciprocal's excess stays below
 * one unit: the passes are exactly all when pass = n and never more than
 * all (larger n, up to 2 x 65535, would overshoot, hence the division). */
_Static_assert((uint64_t)GR_RECIP_TABLE * GR_ERA_OBS * 65536u < (1ull << 32), "n * all must stay below 2^32");

static inline void era_obs(const gpurent_tier_engine *e, uint32_t pass, uint32_t fail, uint64_t all, uint64_t *ps,
                           uint64_t *fs)
{
    uint32_t n = pass + fail;
    if (!n) return;
    uint64_t p = n <= GR_RECIP_TABLE ? pass * e->recip[n] * all >> 32 /* < 2^33 * 2^21 */
                                     : (uint64_t)pass * all / n;
    *ps += p;
    *fs += all - p;
}

/* One source of an era's challenge results of one kind: an auditor's
 * entry (mult 1), or the events recorded without an auditor (the caller's
 * own verified aggregate, gpurent_tier_record: it speaks for a quorum,
 * mult k). */
typedef struct gr_src {
    uint32_t pass, n, mult;
} gr_src;

/* A total order: the pass ratio, then the count, so the sort (and the
 * source picked) does not depend on the input order. */
static int src_cmp(const void *pa, const void *pb)
{
    const gr_src *a = pa, *b = pb;
    uint64_t x = (uint64_t)a->pass * b->n, y = (uint64_t)b->pass * a->n;
    if (x != y) return x < y ? -1 : 1;
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    return 0;
}

/* An era's robust figures for one kind: `lo` the k-th lowest source (at
 * least k sources report it or worse), `hi` the k-th highest (at least k
 * report it or better). 0 when fewer than k sources. */
typedef struct kind_fig {
    gr_src lo, hi;
} kind_fig;

static int pick(gr_src *s, uint32_t m, uint32_t k, kind_fig *f)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < m; i++) total += s[i].mult;
    if (total < k) return 0;
    if (m > 1) qsort(s, m, sizeof *s, src_cmp);
    uint32_t c = 0, i = 0;
    while ((c += s[i].mult) < k) i++;
    f->lo = s[i];
    c = 0;
    i = m - 1;
    while ((c += s[i].mult) < k) i--;
    f->hi = s[i];
    return 1;
}

/* The figures of era slot `sl` and entries [a0, a1) (all of that era) for
 * one kind (0 GPU, 1 CPU). */
static int kind_figures(const gpurent_tier_engine *e, const gr_slot *sl, const gr_audit *au, uint32_t a0, uint32_t a1,
                        int cpu, gr_src *buf, kind_fig *f)
{
    uint32_t k = e->o.quorum_auditors, m = 0;
    uint32_t sp = cpu ? sl->cpu_pass : sl->gpu_pass, sf = cpu ? sl->cpu_fail : sl->gpu_fail;
    if (sp + sf) buf[m++] = (gr_src){sp, sp + sf, k};
    for (uint32_t i = a0; i < a1; i++) {
        uint32_t p = cpu ? au[i].cpu_pass : au[i].gpu_pass, q = cpu ? au[i].cpu_fail : au[i].gpu_fail;
        if (p + q) buf[m++] = (gr_src){p, p + q, 1};
    }
    return m ? pick(buf, m, k, f) : 0;
}

/* The source the score uses: the lower of the two, so an era counts no
 * better than k sources vouch for, and no worse than k report. */
static const gr_src *score_src(const kind_fig *f)
{
    return src_cmp(&f->lo, &f->hi) <= 0 ? &f->lo : &f->hi;
}

static uint32_t src_ppm(const gr_src *s)
{
    return gr_ratio_ppm(s->pass, s->n);
}

static uint32_t weighted(const gpurent_tier_engine *e, int g, uint32_t gr, int c, uint32_t cr)
{
    return g && c ? (uint32_t)(((uint64_t)gr * e->o.gpu_weight_ppm + (uint64_t)cr * e->o.cpu_weight_ppm) / GR_PPM)
                  : (g ? gr : cr);
}

/* Check failures: those reported by k distinct auditors in the window, at
 * or after the era the last confirmed one of that check was acted on,
 * stand; fewer are kept and shown (lone[]), and change nothing. */
static void confirm_failures(const gpurent_tier_engine *e, const gr_prov *p, uint64_t era, gr_era_input *in,
                             uint32_t lone[GR_CHECKS])
{
    uint32_t seen[GR_CHECKS][GPURENT_TIER_CERT_MAX_AUDITORS], count[GR_CHECKS] = {0};
    for (uint32_t i = 0; i < p->naudits; i++) {
        const gr_audit *a = &p->audits[i];
        if (a->era > era || a->era + e->o.window_eras <= era) continue;
        const uint8_t r[GR_CHECKS] = {a->gpu, a->integrity, a->security};
        for (int c = 0; c < GR_CHECKS; c++) {
            if (r[c] != GPURENT_CHECK_FAILED || a->era < p->st.fail_since[c]) continue;
            uint32_t j = 0;
            while (j < count[c] && j < e->o.quorum_auditors && seen[c][j] != a->auditor) j++;
            if (j == count[c] && count[c] < e->o.quorum_auditors) seen[c][count[c]++] = a->auditor;
        }
    }
    uint32_t *flag[GR_CHECKS] = {&in->gpu_fail, &in->integrity_fail, &in->security_fail};
    for (int c = 0; c < GR_CHECKS; c++) {
        *flag[c] = count[c] >= e->o.quorum_auditors;
        lone[c] = *flag[c] ? 0 : count[c];
    }
}

/* The audit checks' decayed sums. Returns GR_HAS_CHALLENGES when an entry
 * in the window holds challenge results, GR_HAS_FAILURES when one holds a
 * failed check (the common case, neither, skips the work they need). */
enum { GR_HAS_CHALLENGES = 1, GR_HAS_FAILURES = 2 };
static int gather_audits(const gpurent_tier_engine *e, const gr_prov *p, uint64_t era, sums *s)
{
    int chal = 0, failed = 0;
    for (uint32_t k = 0; k < p->naudits; k++) {
        const gr_audit *a = &p->audits[k];
        if (a->era > era || a->era + e->o.window_eras <= era) continue;
        uint64_t w = e->decay_q16[era - a->era];
        const uint8_t checks[3] = {a->gpu, a->integrity, a->security};
        for (int c3 = 0; c3 < 3; c3++) {
            if (checks[c3] == GPURENT_CHECK_PASSED) s->ap += w;
            if (checks[c3] == GPURENT_CHECK_FAILED) s->af += w;
        }
        chal |= (a->gpu_pass | a->gpu_fail | a->cpu_pass | a->cpu_fail) != 0;
        failed |= a->gpu == GPURENT_CHECK_FAILED || a->integrity == GPURENT_CHECK_FAILED ||
                  a->security == GPURENT_CHECK_FAILED;
    }
    return (chal ? GR_HAS_CHALLENGES : 0) | (failed ? GR_HAS_FAILURES : 0);
}

/* Challenges recorded without an auditor only (the events): one source of
 * weight k in every era, so both statistics are its ratio. */
static void gather_events(const gpurent_tier_engine *e, uint32_t i, uint64_t era, uint32_t ages, sums *s,
                          gr_era_input *in, uint32_t *sources)
{
    const gr_slot *base = &e->slots[(size_t)i * e->ring];
    uint32_t idx = (uint32_t)(era % e->ring);
    for (uint32_t a = 0; a < ages; a++) {
        const gr_slot *sl = &base[idx];
        uint64_t w = e->decay_q16[a];
        era_obs(e, sl->gpu_pass, sl->gpu_fail, GR_ERA_OBS * w, &s->gp, &s->gf);
        era_obs(e, sl->cpu_pass, sl->cpu_fail, GR_ERA_OBS * w, &s->cp, &s->cf);
        idx = idx ? idx - 1 : e->ring - 1;
    }
    const gr_slot *now = &base[era % e->ring];
    uint32_t g = now->gpu_pass + now->gpu_fail, c = now->cpu_pass + now->cpu_fail;
    in->observed = g || c;
    in->uptime_ppm = in->uptime_up_ppm =
        weighted(e, g > 0, gr_ratio_ppm(now->gpu_pass, g), c > 0, gr_ratio_ppm(now->cpu_pass, c));
    *sources = in->observed ? e->o.quorum_auditors : 0;
}

/* Decayed Q16 sums over the window and the era's own figures. `buf` holds
 * one source per audit entry plus one. */
static int gather(const gpurent_tier_engine *e, uint32_t i, uint64_t era, sums *s, gr_era_input *in, gr_src *buf,
                  uint32_t *sources)
{
    const gr_prov *p = &e->prov[i];
    uint64_t span = era - p->first_era;
    uint32_t ages = span < e->o.window_eras ? (uint32_t)span + 1 : e->o.window_eras;
    memset(s, 0, sizeof *s);
    int has = gather_audits(e, p, era, s);
    if (!(has & GR_HAS_CHALLENGES)) {
        gather_events(e, i, era, ages, s, in, sources);
        return has;
    }
    const gr_slot *base = &e->slots[(size_t)i * e->ring];
    uint32_t idx = (uint32_t)(era % e->ring);
    const gr_audit *au = p->audits;
    uint32_t hi = p->naudits;
    while (hi && au[hi - 1].era > era) hi--; /* entries of the next open era */
    *sources = 0;
    for (uint32_t a = 0; a < ages; a++) {
        const gr_slot *sl = &base[idx];
        uint64_t w = e->decay_q16[a];
        uint32_t lo = hi;
        while (lo && au[lo - 1].era == era - a) lo--;
        kind_fig g, c;
        int hg = kind_figures(e, sl, au, lo, hi, 0, buf, &g), hc = kind_figures(e, sl, au, lo, hi, 1, buf, &c);
        if (hg) era_obs(e, score_src(&g)->pass, score_src(&g)->n - score_src(&g)->pass, GR_ERA_OBS * w, &s->gp, &s->gf);
        if (hc) era_obs(e, score_src(&c)->pass, score_src(&c)->n - score_src(&c)->pass, GR_ERA_OBS * w, &s->cp, &s->cf);
        if (a == 0) {
            in->observed = hg || hc;
            in->uptime_ppm = weighted(e, hg, hg ? src_ppm(&g.lo) : 0, hc, hc ? src_ppm(&c.lo) : 0);
            in->uptime_up_ppm = weighted(e, hg, hg ? src_ppm(&g.hi) : 0, hc, hc ? src_ppm(&c.hi) : 0);
            for (uint32_t k = lo; k < hi; k++) *sources += (au[k].gpu_pass | au[k].gpu_fail | au[k].cpu_pass | au[k].cpu_fail) != 0;
            *sources += (sl->gpu_pass | sl->gpu_fail | sl->cpu_pass | sl->cpu_fail) ? e->o.quorum_auditors : 0;
        }
        hi = lo;
        idx = idx ? idx - 1 : e->ring - 1;
    }
    return has;
}

static uint32_t capped_ppm(uint64_t v, uint64_t full)
{
    return v >= full ? GR_PPM : (uint32_t)(v * GR_PPM / full);
}

/* The five components and the score, written into the provider's copy. */
static void score(const gpurent_tier_engine *e, const sums *s, uint64_t era, gr_prov *p)
{
    uint32_t lg, mg, lc, mc;
    gr_bound(e, s->gp, s->gf, &lg, &mg);
    gr_bound(e, s->cp, s->cf, &lc, &mc);
    uint64_t gw = e->o.gpu_weight_ppm, cw = e->o.cpu_weight_ppm;
    if (s->gp + s->gf == 0 && s->cp + s->cf > 0) { gw = 0; cw = GR_PPM; }
    if (s->cp + s->cf == 0 && s->gp + s->gf > 0) { gw = GR_PPM; cw = 0; }
    p->comp_value[GPURENT_TIER_COMP_UPTIME] = (uint32_t)((lg * gw + lc * cw) / GR_PPM);
    p->comp_mean[GPURENT_TIER_COMP_UPTIME] = (uint32_t)((mg * gw + mc * cw) / GR_PPM);
    gr_bound(e, s->ap, s->af, &p->comp_value[GPURENT_TIER_COMP_AUDIT], &p->comp_mean[GPURENT_TIER_COMP_AUDIT]);
    gr_bound(e, s->jo, s->jf, &p->comp_value[GPURENT_TIER_COMP_JOBS], &p->comp_mean[GPURENT_TIER_COMP_JOBS]);
    uint64_t stake = p->stake.micro < e->o.stake_full_micro ? p->stake.micro : e->o.stake_full_micro;
    p->comp_value[GPURENT_TIER_COMP_STAKE] = p->comp_mean[GPURENT_TIER_COMP_STAKE] = capped_ppm(stake, e->o.stake_full_micro);
    p->comp_value[GPURENT_TIER_COMP_TENURE] = p->comp_mean[GPURENT_TIER_COMP_TENURE] =
        capped_ppm(era - p->first_era + 1, e->o.tenure_full_eras);
    p->comp_ev[0] = s->gp + s->gf + s->cp + s->cf;
    p->comp_ev[1] = s->ap + s->af;
    p->comp_ev[2] = s->jo + s->jf;
    const uint32_t w[GPURENT_TIER_COMPONENTS] = {e->o.weight_uptime_ppm, e->o.weight_audit_ppm, e->o.weight_jobs_ppm,
                                                 e->o.weight_stake_ppm, e->o.weight_tenure_ppm};
    uint32_t sc = 0, mean = 0;
    for (int c = 0; c < GPURENT_TIER_COMPONENTS; c++) {
        sc += (uint32_t)((uint64_t)p->comp_value[c] * w[c] / GR_PPM);
        mean += (uint32_t)((uint64_t)p->comp_mean[c] * w[c] / GR_PPM);
    }
    p->score_ppm = sc;
    p->mean_ppm = mean;
}

typedef struct eval_ctx {
    gpurent_tier_slash *slashes;
    uint32_t nslash, cap;
    gpurent_tier_era_summary sum;
    gr_src *buf; /* scratch: one source per audit entry of a provider, plus one */
    uint32_t *contra, ncontra, contra_cap; /* auditors contradicted this era, applied at commit */
} eval_ctx;

static int add_slash(gpurent_tier_engine *e, eval_ctx *c, uint32_t i, uint64_t era, const gr_prov *np)
{
    if (c->nslash == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 16;
        gpurent_tier_slash *s = gr_realloc(c->slashes, cap * sizeof *s);
        if (!s) return gr_fail(GPURENT_E_NOMEM, "tier evaluation: slash events");
        c->slashes = s;
        c->cap = cap;
    }
    gpurent_tier_slash *s = &c->slashes[c->nslash++];
    memcpy(s->provider_key, e->keys[i], 32);
    s->era = era;
    s->reasons = np->slash;
    s->tier_before = np->prev_tier;
    s->tier_after = np->st.tier;
    s->uptime_ppm = np->uptime_ppm;
    return GPURENT_OK;
}

/* A failure report of this era that k other auditors contradict (they ran
 * the same check on the same provider in the same era and it passed)
 * counts against its auditor, once per check. */
static int contradictions(const gpurent_tier_engine *e, eval_ctx *c, const gr_prov *p, uint64_t era)
{
    uint32_t lo = 0, hi;
    while (lo < p->naudits && p->audits[lo].era < era) lo++;
    for (hi = lo; hi < p->naudits && p->audits[hi].era == era; hi++) {}
    for (int k = 0; k < GR_CHECKS; k++) {
        uint32_t passed = 0;
        for (uint32_t j = lo; j < hi; j++) {
            const gr_audit *a = &p->audits[j];
            passed += (k == GR_CHECK_GPU ? a->gpu : k == GR_CHECK_INTEGRITY ? a->integrity : a->security) ==
                      GPURENT_CHECK_PASSED;
        }
        if (passed < e->o.quorum_auditors) continue;
        for (uint32_t j = lo; j < hi; j++) {
            const gr_audit *a = &p->audits[j];
            if ((k == GR_CHECK_GPU ? a->gpu : k == GR_CHECK_INTEGRITY ? a->integrity : a->security) !=
                GPURENT_CHECK_FAILED)
                continue;
            if (c->ncontra == c->contra_cap) {
                uint32_t cap = c->contra_cap ? c->contra_cap * 2 : 16;
                uint32_t *t = gr_realloc(c->contra, cap * sizeof *t);
                if (!t) return gr_fail(GPURENT_E_NOMEM, "tier evaluation: contradicted reports");
                c->contra = t;
                c->contra_cap = cap;
            }
            c->contra[c->ncontra++] = a->auditor;
        }
    }
    return GPURENT_OK;
}

static int eval_one(gpurent_tier_engine *e, eval_ctx *c, uint32_t i, uint64_t era)
{
    gr_prov *np = &e->scratch[i];
    *np = e->prov[i];
    if (np->first_era > era) return GPURENT_OK; /* not in the network yet */
    sums s;
    gr_era_input in;
    gr_era_output out;
    memset(&in, 0, sizeof in);
    in.era = era;
    if (gather(e, i, era, &s, &in, c->buf, &np->sources) & GR_HAS_FAILURES) {
        confirm_failures(e, np, era, &in, np->lone);
        int rc = contradictions(e, c, np, era);
        if (rc) return rc;
    } else {
        memset(np->lone, 0, sizeof np->lone);
    }
    gr_stake_merge(&np->stake, &np->open_stake[era % GR_TIER_OPEN_ERAS]);
    memset(&np->open_stake[era % GR_TIER_OPEN_ERAS], 0, sizeof np->open_stake[0]);
    in.auditors = gr_quorum(e, np, era, np->st.graduated ? 0 : np->st.incub_start, NULL, 0);
    score(e, &s, era, np);
    np->prev_tier = np->st.tier;
    gr_tier_step(&e->o, &np->st, &in, &out);
    np->evaluated = 1;
    np->last_era = era;
    np->rule = out.rule;
    np->qualifying = out.qualifying;
    np->slash = out.slash;
    np->observed = in.observed;
    np->uptime_ppm = out.uptime_ppm;
    np->uptime_lo_ppm = in.uptime_ppm;
    np->uptime_up_ppm = in.uptime_up_ppm;
    /* A confirmed failure was acted on: the next needs k new reports. */
    const uint32_t confirmed[GR_CHECKS] = {in.gpu_fail, in.integrity_fail, in.security_fail};
    for (int k = 0; k < GR_CHECKS; k++)
        if (confirmed[k]) np->st.fail_since[k] = era + 1;
    np->auditors = np->st.graduated || np->st.incub_start == e->prov[i].st.incub_start
                       ? in.auditors
                       : gr_quorum(e, np, era, np->st.incub_start, NULL, 0);
    c->sum.evaluated++;
    c->sum.promoted += out.promoted;
    c->sum.demoted += out.demoted;
    c->sum.resets += out.reset;
    c->sum.graduated += out.graduated;
    c->sum.tier_counts[np->st.tier - 1]++;
    return out.slash ? add_slash(e, c, i, era, np) : GPURENT_OK;
}

static int slash_cmp(const void *a, const void *b)
{
    return memcmp(((const gpurent_tier_slash *)a)->provider_key, ((const gpurent_tier_slash *)b)->provider_key, 32);
}

/* Drop audits that left the window and clear the era slot that becomes
 * the newest open era; swap in the new states. Cannot fail. */
static void commit(gpurent_tier_engine *e, eval_ctx *c, uint64_t era)
{
    gr_prov *t = e->prov;
    e->prov = e->scratch;
    e->scratch = t;
    uint32_t clear = (uint32_t)((era + GR_TIER_OPEN_ERAS) % e->ring);
    for (uint32_t i = 0; i < e->n; i++) {
        gr_prov *p = &e->prov[i];
        uint32_t keep = 0;
        for (uint32_t k = 0; k < p->naudits; k++)
            if (p->audits[k].era + e->o.window_eras > era) p->audits[keep++] = p->audits[k];
        p->naudits = keep;
        memset(&e->slots[(size_t)i * e->ring + clear], 0, sizeof(gr_slot));
    }
    for (uint32_t k = 0; k < c->ncontra; k++)
        if (e->acontra[c->contra[k]] != UINT32_MAX) e->acontra[c->contra[k]]++;
    gr_free(c->contra);
    if (c->nslash > 1) qsort(c->slashes, c->nslash, sizeof *c->slashes, slash_cmp);
    gr_free(e->slashes);
    e->slashes = c->slashes;
    e->nslash = c->nslash;
    e->next_era = era + 1;
}

GPURENT_API gpurent_status gpurent_tier_evaluate(gpurent_tier_engine *e, uint64_t era, const gpurent_cancel *cancel,
                                                 gpurent_tier_era_summary *summary)
{
    GR_CHECK_ARG(e, "engine is NULL");
    if (era != e->next_era)
        return gr_fail(GPURENT_E_INVALID_ARG, "tier evaluate: era %llu, the next era to evaluate is %llu",
                       (unsigned long long)era, (unsigned long long)e->next_era);
    eval_ctx c;
    memset(&c, 0, sizeof c);
    c.sum.era = era;
    uint32_t most = 0;
    for (uint32_t i = 0; i < e->n; i++) most = e->prov[i].naudits > most ? e->prov[i].naudits : most;
    if (!(c.buf = gr_malloc(((size_t)most + 1) * sizeof *c.buf)))
        return gr_fail(GPURENT_E_NOMEM, "tier evaluate: %u sources", most + 1);
    const size_t ring_bytes = (size_t)e->ring * sizeof *e->slots;
    for (uint32_t i = 0; i < e->n; i++) {
        if (i + 4 < e->n) { /* the slot rings are the state's bulk: fetch ahead */
            const char *nx = (const char *)&e->slots[(size_t)(i + 4) * e->ring];
            for (size_t off = 0; off < ring_bytes; off += 64) __builtin_prefetch(nx + off);
            if (e->prov[i + 4].audits) __builtin_prefetch(e->prov[i + 4].audits);
        }
        int rc = (i & 1023) == 0 && gpurent_cancel_requested(cancel)
                     ? gr_fail(GPURENT_E_CANCELLED, "tier evaluate: cancelled at provider %u of %u", i, e->n)
                     : eval_one(e, &c, i, era);
        if (rc) {
            gr_free(c.slashes);
            gr_free(c.contra);
            gr_free(c.buf);
            return rc;
        }
    }
    gr_free(c.buf);
    c.sum.slashes = c.nslash;
    commit(e, &c, era);
    if (summary) *summary = c.sum;
    return GPURENT_OK;
}

GPURENT_API uint32_t gpurent_tier_slash_count(const gpurent_tier_engine *e)
{
    return e ? e->nslash : 0;
}

GPURENT_API gpurent_status gpurent_tier_slash_get(const gpurent_tier_engine *e, uint32_t index, gpurent_tier_slash *out)
{
    GR_CHECK_ARG(e && out, "engine or out is NULL");
    if (index >= e->nslash) return gr_fail(GPURENT_E_NOT_FOUND, "tier slash %u of %u", index, e->nslash);
    *out = e->slashes[index];
    return GPURENT_OK;
}

void gr_tier_memory(const gpurent_tier_engine *e, const void **slots, size_t *slot_bytes, const void **prov,
                    size_t *prov_bytes)
{
    *slots = e->slots;
    *slot_bytes = (size_t)e->n * e->ring * sizeof *e->slots;
    *prov = e->prov;
    *prov_bytes = (size_t)e->n * sizeof *e->prov;
}
