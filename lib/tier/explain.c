/* Explanations: each component's part, the deciding rule, what is missing. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tier_internal.h"

GPURENT_API const char *gpurent_tier_rule_name(uint32_t rule)
{
    static const char *const names[] = {"not evaluated", "held",          "up streak",         "promoted",
                                        "down streak",   "demoted",       "incubation reset",  "security demotion",
                                        "no evidence",   "wait: incubation eras", "wait: auditor quorum",
                                        "audit failed",  "bottom"};
    return rule < sizeof names / sizeof names[0] ? names[rule] : "unknown";
}

static void fill_needs(const gpurent_tier_engine *e, const gr_prov *p, gpurent_tier_explanation *x)
{
    uint32_t t = p->st.tier, top_incubation = e->o.tier_count - e->o.incubation_tiers + 1;
    if (t == 1) return;
    x->next_tier = t - 1;
    x->need_uptime_ppm = e->o.tiers[t - 2].uptime_min_ppm;
    uint32_t up = e->o.tiers[t - 1].eras_up;
    x->need_eras = p->st.up_streak < up ? up - p->st.up_streak : 0;
    if (t != top_incubation) return;
    if (!p->st.graduated && p->st.incub_eras < e->o.min_incubation_eras)
        x->need_incubation_eras = e->o.min_incubation_eras - p->st.incub_eras;
    if (p->auditors < e->o.quorum_auditors) x->need_auditors = e->o.quorum_auditors - p->auditors;
}

GPURENT_API gpurent_status gpurent_tier_explain(const gpurent_tier_engine *e, const uint8_t key[32],
                                                gpurent_tier_explanation *out)
{
    GR_CHECK_ARG(e && key && out, "engine, key or out is NULL");
    const gr_prov *p = NULL;
    int rc = gr_tier_provider(e, key, "explain", &p);
    if (rc) return rc;
    gpurent_tier_explanation x;
    memset(&x, 0, sizeof x);
    memcpy(x.provider_key, key, 32);
    x.era = p->last_era;
    x.tier = p->st.tier;
    x.previous_tier = p->prev_tier;
    x.incubating = !p->st.graduated;
    x.rule = p->evaluated ? p->rule : GPURENT_TIER_RULE_NOT_EVALUATED;
    x.score_ppm = p->score_ppm;
    x.mean_ppm = p->mean_ppm;
    x.confidence_ppm = gr_ratio_ppm(p->score_ppm, p->mean_ppm);
    x.era_uptime_ppm = p->uptime_ppm;
    x.era_observed = p->observed;
    x.qualifying_tier = p->evaluated ? p->qualifying : e->o.tier_count + 1;
    x.slash_reasons = p->slash;
    x.points_ppm = e->o.tiers[p->st.tier - 1].points_ppm;
    const uint32_t w[GPURENT_TIER_COMPONENTS] = {e->o.weight_uptime_ppm, e->o.weight_audit_ppm, e->o.weight_jobs_ppm,
                                                 e->o.weight_stake_ppm, e->o.weight_tenure_ppm};
    for (int c = 0; c < GPURENT_TIER_COMPONENTS; c++) {
        gpurent_tier_component *k = &x.components[c];
        k->value_ppm = p->comp_value[c];
        k->mean_ppm = p->comp_mean[c];
        k->weight_ppm = w[c];
        k->contribution_ppm = (uint32_t)((uint64_t)p->comp_value[c] * w[c] / GR_PPM);
        k->evidence_q16 = c < 3 ? p->comp_ev[c] : 0;
    }
    x.up_streak = p->st.up_streak;
    x.down_streak = p->st.down_streak;
    x.eras_in_tier = p->st.eras_in_tier;
    x.incubation_eras = p->st.incub_eras;
    x.auditors = p->auditors;
    x.stake_micro = p->stake.micro;
    x.first_era = p->first_era;
    fill_needs(e, p, &x);
    *out = x;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_tier_explain_disputes(const gpurent_tier_engine *e, const uint8_t key[32],
                                                         gpurent_tier_disputes *out)
{
    GR_CHECK_ARG(e && key && out, "engine, key or out is NULL");
    const gr_prov *p = NULL;
    int rc = gr_tier_provider(e, key, "explain_disputes", &p);
    if (rc) return rc;
    gpurent_tier_disputes d;
    memset(&d, 0, sizeof d);
    d.quorum = e->o.quorum_auditors;
    if (p->evaluated) {
        d.era = p->last_era;
        d.sources = p->sources;
        d.uptime_low_ppm = p->uptime_lo_ppm;
        d.uptime_high_ppm = p->uptime_up_ppm;
        d.lone_gpu_report = p->lone[GR_CHECK_GPU];
        d.lone_integrity = p->lone[GR_CHECK_INTEGRITY];
        d.lone_security = p->lone[GR_CHECK_SECURITY];
    }
    *out = d;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_tier_auditor_contradicted(const gpurent_tier_engine *e, const uint8_t key[32],
                                                             uint32_t *contradicted)
{
    GR_CHECK_ARG(e && key && contradicted, "engine, key or contradicted is NULL");
    for (uint32_t a = 0; a < e->na; a++)
        if (memcmp(e->akeys[a], key, 32) == 0) {
            *contradicted = e->acontra[a];
            return GPURENT_OK;
        }
    return gr_fail(GPURENT_E_NOT_FOUND, "tier auditor_contradicted: no evidence from this auditor");
}

static void say(gr_bytes *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void say(gr_bytes *b, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0) gr_bytes_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* ppm as a percentage with four decimals, in integers. */
#define PCT(v) (unsigned)((v) / 10000u), (unsigned)((v) % 10000u)

GPURENT_API gpurent_status gpurent_tier_explain_text(const gpurent_tier_explanation *x, gpurent_buf *out)
{
    GR_CHECK_ARG(x && out, "explanation or out is NULL");
    static const char *const comp[] = {"uptime", "audits", "jobs", "stake", "tenure"};
    gr_bytes b;
    gr_bytes_init(&b);
    say(&b, "provider ");
    for (int i = 0; i < 8; i++) say(&b, "%02x", x->provider_key[i]);
    say(&b, "... era %llu: tier %u (was %u)%s, rule: %s\n", (unsigned long long)x->era, x->tier, x->previous_tier,
        x->incubating ? ", incubating" : "", gpurent_tier_rule_name(x->rule));
    say(&b, "score %u.%04u%% (mean %u.%04u%%, confidence %u.%04u%%), points x%u.%06u\n", PCT(x->score_ppm),
        PCT(x->mean_ppm), PCT(x->confidence_ppm), x->points_ppm / 1000000u, x->points_ppm % 1000000u);
    if (x->era_observed)
        say(&b, "era uptime %u.%04u%%, qualifies for tier %u\n", PCT(x->era_uptime_ppm), x->qualifying_tier);
    else
        say(&b, "era uptime: no challenge results\n");
    for (int c = 0; c < GPURENT_TIER_COMPONENTS; c++) {
        const gpurent_tier_component *k = &x->components[c];
        say(&b, "  %-6s %u.%04u%% (mean %u.%04u%%) x weight %u.%04u%% = %u.%04u%%", comp[c], PCT(k->value_ppm),
            PCT(k->mean_ppm), PCT(k->weight_ppm), PCT(k->contribution_ppm));
        if (c < 3) say(&b, " over %llu observations", (unsigned long long)(k->evidence_q16 >> 16));
        say(&b, "\n");
    }
    if (x->slash_reasons)
        say(&b, "slash event:%s%s\n", x->slash_reasons & GPURENT_TIER_SLASH_UPTIME ? " uptime below threshold" : "",
            x->slash_reasons & GPURENT_TIER_SLASH_SECURITY ? " failed security audit" : "");
    say(&b, "streaks: up %u, down %u; %u eras in tier; %u distinct auditors\n", x->up_streak, x->down_streak,
        x->eras_in_tier, x->auditors);
    if (x->next_tier == 0) {
        say(&b, "top tier: nothing above\n");
    } else {
        say(&b, "to reach tier %u: uptime >= %u.%04u%% for %u more consecutive eras", x->next_tier,
            PCT(x->need_uptime_ppm), x->need_eras);
        if (x->need_incubation_eras) say(&b, ", %u more incubation eras", x->need_incubation_eras);
        if (x->need_auditors) say(&b, ", passing full audits from %u more auditors", x->need_auditors);
        say(&b, "\n");
    }
    return gr_bytes_finish(&b, out);
}
