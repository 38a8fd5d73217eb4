/* Snapshots of the tier engine: the whole state that decides certificates,
 * explanations and slash events, in the container of lib/core/snapshot.c
 * (docs/wire-format.md, "Snapshots", gives the body's layout).
 *
 * Loading trusts nothing: the options are validated as gpurent_tier_engine_new
 * does, tables are rebuilt from the keys (a repeated key is refused), and
 * every value the evaluation relies on is range-checked (tiers, rules, ppm
 * values, audit order and auditor indices, the open-era window), so a
 * snapshot either gives an engine that behaves as the one saved or nothing. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../core/snap_internal.h"
#include "tier_internal.h"

/* 2: the tree checksum (lib/core/snapshot.c); version 1 (the whole-file
 * checksum, the same body) still loads. */
#define SNAP_VERSION 2u
_Static_assert(SNAP_VERSION >= GR_SNAP_TREE_TIER, "the current version has the tree checksum");
#define WHAT "tier snapshot"
#define BAD(...) gr_fail(GPURENT_E_SNAPSHOT_CORRUPT, WHAT ": " __VA_ARGS__)

_Static_assert(sizeof(gr_slot) == 16, "gr_slot is 8 uint16 without padding");

/* ---- options: every field in declaration order ---- */
typedef struct ofield {
    uint16_t off;
    uint8_t width;
} ofield;
#define OF(m) {(uint16_t)offsetof(gpurent_tier_options, m), (uint8_t)sizeof(((gpurent_tier_options *)0)->m)}
static const ofield opt_fields[] = {
    OF(tier_count), OF(incubation_tiers), OF(min_incubation_eras), OF(quorum_auditors), OF(era_s),
    OF(genesis_s), OF(first_era), OF(window_eras), OF(half_life_eras), OF(gpu_weight_ppm), OF(cpu_weight_ppm),
    OF(bound), OF(z_milli), OF(prior_pass_milli), OF(prior_fail_milli), OF(weight_uptime_ppm),
    OF(weight_audit_ppm), OF(weight_jobs_ppm), OF(weight_stake_ppm), OF(weight_tenure_ppm),
    OF(stake_full_micro), OF(tenure_full_eras), OF(security_demote_tiers), OF(max_providers),
    OF(unverified_evidence),
};

static uint64_t field_get(const void *base, uint16_t off, uint8_t width)
{
    const uint8_t *p = (const uint8_t *)base + off;
    if (width == 8) { uint64_t v; memcpy(&v, p, 8); return v; }
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void field_set(void *base, uint16_t off, uint8_t width, uint64_t v)
{
    uint8_t *p = (uint8_t *)base + off;
    if (width == 8) { memcpy(p, &v, 8); return; }
    uint32_t w = (uint32_t)v;
    memcpy(p, &w, 4);
}

static void put_options(gr_bytes *b, const gpurent_tier_options *o)
{
    for (size_t i = 0; i < sizeof opt_fields / sizeof *opt_fields; i++)
        gr_put_uint(b, field_get(o, opt_fields[i].off, opt_fields[i].width), opt_fields[i].width);
    for (uint32_t t = 0; t < GPURENT_TIER_MAX_TIERS; t++) {
        const gpurent_tier_level *l = &o->tiers[t];
        gr_put_u32(b, l->uptime_min_ppm);
        gr_put_u32(b, l->slash_below_ppm);
        gr_put_u32(b, l->points_ppm);
        gr_put_u32(b, l->eras_up);
        gr_put_u32(b, l->eras_down);
    }
}

static void get_options(gr_snap_reader *r, gpurent_tier_options *o)
{
    memset(o, 0, sizeof *o);
    o->version = GPURENT_TIER_OPTIONS_VERSION;
    for (size_t i = 0; i < sizeof opt_fields / sizeof *opt_fields; i++)
        field_set(o, opt_fields[i].off, opt_fields[i].width, gr_get_uint(r, opt_fields[i].width));
    for (uint32_t t = 0; t < GPURENT_TIER_MAX_TIERS; t++) {
        gpurent_tier_level *l = &o->tiers[t];
        l->uptime_min_ppm = gr_get_u32(r);
        l->slash_below_ppm = gr_get_u32(r);
        l->points_ppm = gr_get_u32(r);
        l->eras_up = gr_get_u32(r);
        l->eras_down = gr_get_u32(r);
    }
}

/* ---- one provider's state: scalar members in this order ---- */
typedef struct pfield {
    uint16_t off;
    uint8_t width, count;
} pfield;
#define PF(m, w, n) {(uint16_t)offsetof(gr_prov, m), w, n}
static const pfield prov_fields[] = {
    PF(st.tier, 4, 1), PF(st.up_streak, 4, 1), PF(st.down_streak, 4, 1), PF(st.eras_in_tier, 4, 1),
    PF(st.incub_eras, 4, 1), PF(st.graduated, 4, 1), PF(st.incub_start, 8, 1),
    PF(st.fail_since, 8, GR_CHECKS), PF(first_era, 8, 1), PF(stake.time_s, 8, 1), PF(stake.micro, 8, 1),
    PF(stake.set, 4, 1), PF(open_stake[0].time_s, 8, 1), PF(open_stake[0].micro, 8, 1), PF(open_stake[0].set, 4, 1),
    PF(open_stake[1].time_s, 8, 1), PF(open_stake[1].micro, 8, 1), PF(open_stake[1].set, 4, 1),
    PF(last_era, 8, 1), PF(evaluated, 4, 1), PF(prev_tier, 4, 1), PF(rule, 4, 1), PF(qualifying, 4, 1),
    PF(slash, 4, 1), PF(observed, 4, 1), PF(uptime_ppm, 4, 1), PF(auditors, 4, 1), PF(score_ppm, 4, 1),
    PF(mean_ppm, 4, 1), PF(comp_value, 4, GPURENT_TIER_COMPONENTS), PF(comp_mean, 4, GPURENT_TIER_COMPONENTS),
    PF(comp_ev, 8, 3), PF(uptime_lo_ppm, 4, 1), PF(uptime_up_ppm, 4, 1), PF(sources, 4, 1), PF(lone, 4, GR_CHECKS),
};
#define NPF (sizeof prov_fields / sizeof *prov_fields)
_Static_assert(GR_TIER_OPEN_ERAS == 2, "open_stake fields listed for two open eras");

/* Bytes of one provider's fixed part (callers in loops compute it once). */
static size_t prov_bytes(void)
{
    size_t n = 0;
    for (size_t i = 0; i < NPF; i++) n += (size_t)prov_fields[i].width * prov_fields[i].count;
    return n + 4; /* + audit count */
}

#define AUDIT_BYTES 24u

/* One provider's record, room taken once (a hundred thousand records of
 * some eighty fields each). */
static void put_prov(gr_bytes *b, const gr_prov *p, size_t fixed)
{
    uint8_t *o = gr_put_room(b, fixed + (size_t)p->naudits * AUDIT_BYTES);
    if (!o) return;
    if (gr_host_le()) { /* the fields' bytes as they lie: one copy per run of adjacent fields */
        for (size_t i = 0; i < NPF;) {
            size_t at = prov_fields[i].off, end = at;
            for (; i < NPF && prov_fields[i].off == end; i++) end += (size_t)prov_fields[i].width * prov_fields[i].count;
            memcpy(o, (const uint8_t *)p + at, end - at);
            o += end - at;
        }
    } else {
        for (size_t i = 0; i < NPF; i++)
            for (uint32_t k = 0; k < prov_fields[i].count; k++, o += prov_fields[i].width)
                gr_le_store(o,
                            field_get(p, (uint16_t)(prov_fields[i].off + k * prov_fields[i].width),
                                      prov_fields[i].width),
                            prov_fields[i].width);
    }
    gr_le_store(o, p->naudits, 4);
    o += 4;
    for (uint32_t k = 0; k < p->naudits; k++, o += AUDIT_BYTES) {
        const gr_audit *a = &p->audits[k];
        gr_le_store(o, a->era, 8);
        gr_le_store(o + 8, a->auditor, 4);
        gr_le_store(o + 12, a->gpu_pass, 2);
        gr_le_store(o + 14, a->gpu_fail, 2);
        gr_le_store(o + 16, a->cpu_pass, 2);
        gr_le_store(o + 18, a->cpu_fail, 2);
        o[20] = a->gpu;
        o[21] = a->integrity;
        o[22] = a->security;
        o[23] = a->unused;
    }
}

static void put_slots(gr_bytes *b, const gpurent_tier_engine *e)
{
    size_t n = (size_t)e->n * e->ring;
    if (gr_host_le()) {
        gr_put_raw(b, e->slots, n * sizeof *e->slots);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const gr_slot *s = &e->slots[i];
        const uint16_t v[8] = {s->gpu_pass, s->gpu_fail, s->cpu_pass, s->cpu_fail,
                               s->job_ok,   s->job_fail, s->job_user, s->unused};
        for (int k = 0; k < 8; k++) gr_put_u16(b, v[k]);
    }
}

static size_t body_hint(const gpurent_tier_engine *e)
{
    size_t n = 1024 + (size_t)e->na * 36 + (size_t)e->nslash * 56;
    n += (size_t)e->n * (32 + prov_bytes() + (size_t)e->ring * sizeof(gr_slot));
    for (uint32_t i = 0; i < e->n; i++) n += (size_t)e->prov[i].naudits * AUDIT_BYTES;
    return n;
}

/* Header and body, without the checksum (gr_snap_finish / _finish_file),
 * into a buffer or (`path` not NULL) streamed to that file. */
static int encode(const gpurent_tier_engine *e, uint64_t input_seq, const char *path, gr_bytes *bp)
{
    gr_bytes b;
    if (path) {
        int rc = gr_snap_begin_file(&b, path, WHAT, GR_SNAP_TIER, SNAP_VERSION, e->params_digest, input_seq,
                                    body_hint(e));
        if (rc) return rc;
    } else {
        gr_snap_begin(&b, GR_SNAP_TIER, SNAP_VERSION, e->params_digest, input_seq, body_hint(e));
    }
    put_options(&b, &e->o);
    gr_put_u64(&b, e->next_era);
    gr_put_u32(&b, e->na);
    for (uint32_t j = 0; j < e->na; j++) {
        gr_put_raw(&b, e->akeys[j], 32);
        gr_put_u32(&b, e->acontra[j]);
    }
    gr_put_u32(&b, e->n);
    size_t fixed = prov_bytes();
    for (uint32_t i = 0; i < e->n; i++) {
        gr_put_raw(&b, e->keys[i], 32);
        put_prov(&b, &e->prov[i], fixed);
    }
    put_slots(&b, e);
    gr_put_u32(&b, e->nslash);
    for (uint32_t k = 0; k < e->nslash; k++) {
        const gpurent_tier_slash *s = &e->slashes[k];
        gr_put_raw(&b, s->provider_key, 32);
        gr_put_u64(&b, s->era);
        gr_put_u32(&b, s->reasons);
        gr_put_u32(&b, s->tier_before);
        gr_put_u32(&b, s->tier_after);
        gr_put_u32(&b, s->uptime_ppm);
    }
    *bp = b;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_tier_save(const gpurent_tier_engine *e, uint64_t input_seq, gpurent_buf *out)
{
    GR_CHECK_ARG(e && out, "engine or out is NULL");
    gr_bytes b;
    int rc = encode(e, input_seq, NULL, &b);
    return rc ? rc : gr_snap_finish(&b, out);
}

/* ---- loading ---- */

static int tier_ok(const gpurent_tier_engine *e, uint32_t t) { return t >= 1 && t <= e->o.tier_count; }

static int check_prov(const gpurent_tier_engine *e, uint32_t i)
{
    const gr_prov *p = &e->prov[i];
    if (!tier_ok(e, p->st.tier) || !tier_ok(e, p->prev_tier) || p->qualifying > e->o.tier_count + 1)
        return BAD("provider %u: tier %u, previous %u, qualifying %u out of range", i, p->st.tier, p->prev_tier,
                   p->qualifying);
    if (p->rule > GPURENT_TIER_RULE_BOTTOM || p->evaluated > 1 || p->st.graduated > 1 || p->stake.set > 1 ||
        p->open_stake[0].set > 1 || p->open_stake[1].set > 1)
        return BAD("provider %u: rule %u or a flag out of range", i, p->rule);
    uint32_t ppm = p->uptime_ppm | p->score_ppm | p->mean_ppm | p->uptime_lo_ppm | p->uptime_up_ppm;
    int big = p->uptime_ppm > GR_PPM || p->score_ppm > GR_PPM || p->mean_ppm > GR_PPM || p->uptime_lo_ppm > GR_PPM ||
              p->uptime_up_ppm > GR_PPM;
    for (int k = 0; k < GPURENT_TIER_COMPONENTS; k++)
        big |= p->comp_value[k] > GR_PPM || p->comp_mean[k] > GR_PPM;
    if (big) return BAD("provider %u: a ppm value above 1000000 (%u)", i, ppm);
    if (p->auditors > e->na || p->lone[0] > e->na || p->lone[1] > e->na || p->lone[2] > e->na)
        return BAD("provider %u: counts more auditors than the %u known", i, e->na);
    if (p->evaluated && p->last_era >= e->next_era)
        return BAD("provider %u: evaluated in era %llu, not before the next era %llu", i,
                   (unsigned long long)p->last_era, (unsigned long long)e->next_era);
    if (p->first_era != UINT64_MAX && p->first_era >= e->next_era + GR_TIER_OPEN_ERAS)
        return BAD("provider %u: first era %llu beyond the open eras", i, (unsigned long long)p->first_era);
    for (uint32_t k = 0; k < p->naudits; k++) {
        const gr_audit *a = &p->audits[k];
        if (a->auditor >= e->na || a->era >= e->next_era + GR_TIER_OPEN_ERAS ||
            a->era + e->o.window_eras < e->next_era /* evaluation drops those */ || a->gpu > GPURENT_CHECK_FAILED ||
            a->integrity > GPURENT_CHECK_FAILED || a->security > GPURENT_CHECK_FAILED || a->unused)
            return BAD("provider %u: audit entry %u out of range", i, k);
        if (k) {
            const gr_audit *q = &p->audits[k - 1];
            int c = q->era != a->era ? (q->era < a->era ? -1 : 1) : memcmp(e->akeys[q->auditor], e->akeys[a->auditor], 32);
            if (c >= 0) return BAD("provider %u: audit entries %u and %u out of order or repeated", i, k - 1, k);
        }
    }
    return GPURENT_OK;
}

static int get_prov(gr_snap_reader *r, gpurent_tier_engine *e, uint32_t i, size_t fixed)
{
    gr_prov *p = &e->prov[i];
    const uint8_t *d = gr_get_raw(r, fixed - 4); /* the fixed part at once, less the audit count */
    if (!d) return gr_snap_done(r, WHAT);
    for (size_t f = 0; f < NPF; f++)
        for (uint32_t k = 0; k < prov_fields[f].count; k++, d += prov_fields[f].width)
            field_set(p, (uint16_t)(prov_fields[f].off + k * prov_fields[f].width), prov_fields[f].width,
                      gr_le_load(d, prov_fields[f].width));
    uint32_t n = gr_get_count(r, AUDIT_BYTES);
    if (n > GR_TIER_MAX_AUDITS) return BAD("provider %u: %u audit entries, above %u", i, n, GR_TIER_MAX_AUDITS);
    if (n) {
        p->audits = gr_malloc((size_t)n * sizeof *p->audits);
        if (!p->audits) return gr_fail(GPURENT_E_NOMEM, WHAT ": %u audit entries", n);
        p->audit_cap = n;
    }
    const uint8_t *q = n ? gr_get_raw(r, (size_t)n * AUDIT_BYTES) : NULL; /* counted against the body above */
    for (uint32_t k = 0; q && k < n; k++, q += AUDIT_BYTES) {
        gr_audit *a = &p->audits[k];
        a->era = gr_le_load(q, 8);
        a->auditor = (uint32_t)gr_le_load(q + 8, 4);
        a->gpu_pass = (uint16_t)gr_le_load(q + 12, 2);
        a->gpu_fail = (uint16_t)gr_le_load(q + 14, 2);
        a->cpu_pass = (uint16_t)gr_le_load(q + 16, 2);
        a->cpu_fail = (uint16_t)gr_le_load(q + 18, 2);
        a->gpu = q[20];
        a->integrity = q[21];
        a->security = q[22];
        a->unused = q[23];
    }
    p->naudits = n;
    return r->bad ? gr_snap_done(r, WHAT) : GPURENT_OK;
}

static int get_slots(gr_snap_reader *r, gpurent_tier_engine *e)
{
    size_t n = (size_t)e->n * e->ring;
    const uint8_t *d = gr_get_raw(r, n * sizeof(gr_slot));
    if (!d) return gr_snap_done(r, WHAT);
    if (!n) return GPURENT_OK; /* no provider: no slot array at all */
    if (gr_host_le()) {
        memcpy(e->slots, d, n * sizeof(gr_slot));
    } else {
        for (size_t i = 0; i < n; i++) {
            gr_slot *s = &e->slots[i];
            const uint8_t *q = d + i * sizeof(gr_slot);
            s->gpu_pass = (uint16_t)gr_le_load(q, 2), s->gpu_fail = (uint16_t)gr_le_load(q + 2, 2);
            s->cpu_pass = (uint16_t)gr_le_load(q + 4, 2), s->cpu_fail = (uint16_t)gr_le_load(q + 6, 2);
            s->job_ok = (uint16_t)gr_le_load(q + 8, 2), s->job_fail = (uint16_t)gr_le_load(q + 10, 2);
            s->job_user = (uint16_t)gr_le_load(q + 12, 2), s->unused = (uint16_t)gr_le_load(q + 14, 2);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (e->slots[i].unused) return BAD("era slot %zu: reserved field not zero", i);
    return GPURENT_OK;
}

static int get_slashes(gr_snap_reader *r, gpurent_tier_engine *e)
{
    uint32_t n = gr_get_count(r, 56);
    if (n > e->n) return BAD("%u slash events for %u providers", n, e->n);
    if (n && !(e->slashes = gr_calloc(n, sizeof *e->slashes))) return gr_fail(GPURENT_E_NOMEM, WHAT ": slashes");
    for (uint32_t k = 0; k < n; k++) {
        gpurent_tier_slash *s = &e->slashes[k];
        const uint8_t *key = gr_get_raw(r, 32);
        if (!key) return gr_snap_done(r, WHAT);
        memcpy(s->provider_key, key, 32);
        s->era = gr_get_u64(r);
        s->reasons = gr_get_u32(r);
        s->tier_before = gr_get_u32(r);
        s->tier_after = gr_get_u32(r);
        s->uptime_ppm = gr_get_u32(r);
        if (gr_tier_find(e, s->provider_key) < 0 || !tier_ok(e, s->tier_before) || !tier_ok(e, s->tier_after) ||
            s->uptime_ppm > GR_PPM || s->era + 1 != e->next_era /* the last evaluation's events */)
            return BAD("slash event %u: unknown provider or a value out of range", k);
        if (k && memcmp(e->slashes[k - 1].provider_key, s->provider_key, 32) >= 0)
            return BAD("slash events %u and %u out of order or repeated", k - 1, k);
    }
    e->nslash = n;
    return GPURENT_OK;
}

static int get_auditors(gr_snap_reader *r, gpurent_tier_engine *e)
{
    uint32_t n = gr_get_count(r, 36);
    if (n > GR_TIER_MAX_AUDITORS) return BAD("%u auditors, above %u", n, GR_TIER_MAX_AUDITORS);
    for (uint32_t j = 0; j < n; j++) {
        const uint8_t *key = gr_get_raw(r, 32);
        uint32_t idx, contra = gr_get_u32(r);
        if (!key) return gr_snap_done(r, WHAT);
        int rc = gr_auditor_index(e, key, &idx);
        if (rc) return rc;
        if (idx != j) return BAD("auditor %u repeats auditor %u", j, idx);
        e->acontra[j] = contra;
    }
    return GPURENT_OK;
}

static int get_providers(gr_snap_reader *r, gpurent_tier_engine *e)
{
    uint32_t n = gr_get_count(r, 32 + prov_bytes());
    if (n > e->o.max_providers) return BAD("%u providers, above max_providers %u", n, e->o.max_providers);
    if (r->bad) return gr_snap_done(r, WHAT);
    /* their era slots follow the records: a count the body cannot hold is
     * refused before the arrays are sized for it */
    if (n > gr_get_left(r) / (32 + prov_bytes() + (size_t)e->ring * sizeof(gr_slot)))
        return BAD("%u providers: the body is too short for their records and era slots", n);
    int rc = gr_tier_reserve(e, n);
    if (rc) return rc;
    /* the arrays are about to be filled at once: huge pages save most first-touch faults */
    gr_mem_large(e->slots, (size_t)e->cap * e->ring * sizeof *e->slots);
    gr_mem_large(e->prov, (size_t)e->cap * sizeof *e->prov);
    size_t fixed = prov_bytes();
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *key = gr_get_raw(r, 32);
        if (!key) return gr_snap_done(r, WHAT);
        if (gr_tier_get_or_add(e, key) != i) return BAD("provider %u repeats an earlier key", i);
        if ((rc = get_prov(r, e, i, fixed))) return rc;
    }
    for (uint32_t i = 0; i < n; i++)
        if ((rc = check_prov(e, i))) return rc;
    return GPURENT_OK;
}

static int load_body(gr_snap_reader *r, const gr_snap_header *h, gpurent_tier_engine **out)
{
    gpurent_tier_options o;
    get_options(r, &o);
    if (r->bad) return gr_snap_done(r, WHAT);
    gpurent_tier_engine *e = NULL;
    int rc = gpurent_tier_engine_new(&e, &o);
    char why[256]; /* the detail is rewritten from a copy: gr_fail writes where it reads */
    if (rc == GPURENT_E_INVALID_ARG) {
        snprintf(why, sizeof why, "%s", gpurent_last_error_message());
        rc = BAD("its options are invalid (%s)", why);
    }
    if (rc) return rc;
    if (memcmp(e->params_digest, h->params, 32) != 0) rc = BAD("the header's params digest is not its options'");
    e->next_era = gr_get_u64(r);
    if (!rc && (e->next_era < o.first_era || e->next_era > GPURENT_TIME_MAX_S))
        rc = BAD("next era %llu out of range", (unsigned long long)e->next_era);
    if (!rc) rc = get_auditors(r, e);
    if (!rc) rc = get_providers(r, e);
    if (!rc) rc = get_slots(r, e);
    if (!rc) rc = get_slashes(r, e);
    if (!rc) rc = gr_snap_done(r, WHAT);
    if (rc == GPURENT_E_LIMIT) {
        snprintf(why, sizeof why, "%s", gpurent_last_error_message());
        rc = BAD("%s", why);
    }
    if (rc) {
        gpurent_tier_engine_free(e);
        return rc;
    }
    *out = e;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_tier_load(gpurent_tier_engine **out, const uint8_t *data, size_t len,
                                             const gpurent_tier_options *expect, uint64_t *input_seq)
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    uint8_t want[32];
    int rc;
    if (expect) {
        gpurent_tier_options cur;
        if ((rc = gpurent_tier_options_validate(expect)) || (rc = gr_tier_opts_load(expect, &cur))) return rc;
        gr_tier_params_digest(&cur, want);
    }
    gr_snap_header h;
    gr_snap_reader r;
    gr_snap_verify v;
    rc = gr_snap_open_async(data, len, GR_SNAP_TIER, SNAP_VERSION, expect ? want : NULL, WHAT, &h, &r, &v);
    if (rc) return rc;
    rc = gr_snap_verify_end(&v, load_body(&r, &h, out)); /* the body decodes while its checksum is computed */
    if (rc && *out) {
        gpurent_tier_engine_free(*out);
        *out = NULL;
    }
    if (!rc && input_seq) *input_seq = h.input_seq;
    return rc;
}

GPURENT_API gpurent_status gpurent_tier_save_file(const gpurent_tier_engine *e, uint64_t input_seq, const char *path)
{
    GR_CHECK_ARG(e && path, "engine or path is NULL");
    gr_bytes b;
    int rc = encode(e, input_seq, path, &b);
    return rc ? rc : gr_snap_finish_file(&b, path, WHAT);
}

GPURENT_API gpurent_status gpurent_tier_load_file(gpurent_tier_engine **out, const char *path,
                                                  const gpurent_tier_options *expect, uint64_t *input_seq)
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    GR_CHECK_ARG(path, "path is NULL");
    gpurent_buf b = {0};
    int rc = gr_file_read(path, (size_t)GR_SNAP_FILE_MAX, &b, WHAT);
    if (!rc) rc = gpurent_tier_load(out, b.data, b.len, expect, input_seq);
    gpurent_buf_free(&b);
    return rc;
}
