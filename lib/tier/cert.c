/* Tier certificates and the digests that make them reproducible.
 *
 * Both digests are BLAKE2b-256 over a fixed byte layout (docs/tiers.md):
 * a domain string, then unsigned integers as 8 bytes little-endian and keys
 * as their 32 bytes, in a fixed order. Stored evidence is kept in
 * canonical order (counts per era, audits sorted), so engines that recorded
 * the same evidence in any order hash the same bytes. */
#include <string.h>

#include <sodium.h>

#include "tier_internal.h"

static void put_u64(crypto_generichash_state *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    crypto_generichash_update(h, b, 8);
}

static void put_str(crypto_generichash_state *h, const char *s)
{
    crypto_generichash_update(h, (const unsigned char *)s, strlen(s) + 1);
}

void gr_tier_params_digest(const gpurent_tier_options *o, uint8_t out[32])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    put_str(&h, "gpurent tier params v3");
    put_u64(&h, o->tier_count);
    for (uint32_t t = 0; t < o->tier_count; t++) {
        put_u64(&h, o->tiers[t].uptime_min_ppm);
        put_u64(&h, o->tiers[t].slash_below_ppm);
        put_u64(&h, o->tiers[t].points_ppm);
        put_u64(&h, o->tiers[t].eras_up);
        put_u64(&h, o->tiers[t].eras_down);
    }
    const uint64_t rest[] = {o->incubation_tiers, o->min_incubation_eras, o->quorum_auditors, o->era_s,
                             o->genesis_s, o->first_era, o->window_eras, o->half_life_eras, o->gpu_weight_ppm,
                             o->cpu_weight_ppm, o->bound, o->z_milli, o->prior_pass_milli, o->prior_fail_milli,
                             o->weight_uptime_ppm, o->weight_audit_ppm, o->weight_jobs_ppm, o->weight_stake_ppm,
                             o->weight_tenure_ppm, o->stake_full_micro, o->tenure_full_eras,
                             o->security_demote_tiers};
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) put_u64(&h, rest[i]);
    crypto_generichash_final(&h, out, 32);
}

static void evidence_digest(const gpurent_tier_engine *e, uint32_t i, uint64_t era, uint8_t out[32])
{
    const gr_prov *p = &e->prov[i];
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    put_str(&h, "gpurent tier evidence v2");
    crypto_generichash_update(&h, e->keys[i], 32);
    put_u64(&h, era);
    put_u64(&h, p->first_era);
    put_u64(&h, p->stake.set);
    put_u64(&h, p->stake.time_s);
    put_u64(&h, p->stake.micro);
    uint64_t from = era - p->first_era < e->o.window_eras ? p->first_era : era - e->o.window_eras + 1;
    for (uint64_t x = from; x <= era; x++) {
        const gr_slot *s = gr_slot_at(e, i, x);
        const uint16_t c[7] = {s->gpu_pass, s->gpu_fail, s->cpu_pass, s->cpu_fail, s->job_ok, s->job_fail, s->job_user};
        put_u64(&h, x);
        for (int k = 0; k < 7; k++) put_u64(&h, c[k]);
    }
    uint64_t n = 0;
    for (uint32_t k = 0; k < p->naudits; k++) n += p->audits[k].era <= era && p->audits[k].era >= from;
    put_u64(&h, n);
    for (uint32_t k = 0; k < p->naudits; k++) {
        const gr_audit *a = &p->audits[k];
        if (a->era > era || a->era < from) continue;
        put_u64(&h, a->era);
        crypto_generichash_update(&h, e->akeys[a->auditor], 32);
        put_u64(&h, a->gpu);
        put_u64(&h, a->integrity);
        put_u64(&h, a->security);
        const uint16_t c[4] = {a->gpu_pass, a->gpu_fail, a->cpu_pass, a->cpu_fail};
        for (int q = 0; q < 4; q++) put_u64(&h, c[q]);
    }
    crypto_generichash_final(&h, out, 32);
}

GPURENT_API gpurent_status gpurent_tier_certificate(const gpurent_tier_engine *e, const uint8_t key[32],
                                                    gpurent_tier_cert *out)
{
    GR_CHECK_ARG(e && key && out, "engine, key or out is NULL");
    const gr_prov *p = NULL;
    int rc = gr_tier_provider(e, key, "certificate", &p);
    if (rc) return rc;
    if (!p->evaluated || p->last_era + 1 != e->next_era)
        return gr_fail(GPURENT_E_NOT_FOUND, "tier certificate: provider not evaluated in the last era");
    uint32_t list[GPURENT_TIER_CERT_MAX_AUDITORS];
    uint64_t since = p->st.graduated ? 0 : p->st.incub_start;
    uint32_t n = gr_quorum(e, p, p->last_era, since, list, GPURENT_TIER_CERT_MAX_AUDITORS);
    if (n < e->o.quorum_auditors)
        return gr_fail(GPURENT_E_QUORUM_NOT_MET, "tier certificate: %u distinct auditors with a passing full audit, "
                       "%u needed", n, e->o.quorum_auditors);
    gpurent_tier_cert c;
    memset(&c, 0, sizeof c);
    memcpy(c.provider_key, key, 32);
    c.era = p->last_era;
    c.tier = p->st.tier;
    c.incubating = !p->st.graduated;
    c.score_ppm = p->score_ppm;
    c.mean_ppm = p->mean_ppm;
    c.confidence_ppm = gr_ratio_ppm(p->score_ppm, p->mean_ppm);
    c.uptime_ppm = p->uptime_ppm;
    c.eras_in_tier = p->st.eras_in_tier;
    c.points_ppm = e->o.tiers[p->st.tier - 1].points_ppm;
    evidence_digest(e, (uint32_t)(p - e->prov), p->last_era, c.evidence_digest);
    memcpy(c.params_digest, e->params_digest, 32);
    c.auditor_count = n < GPURENT_TIER_CERT_MAX_AUDITORS ? n : GPURENT_TIER_CERT_MAX_AUDITORS;
    for (uint32_t k = 0; k < c.auditor_count; k++) memcpy(c.auditors[k], e->akeys[list[k]], 32);
    *out = c;
    return GPURENT_OK;
}
