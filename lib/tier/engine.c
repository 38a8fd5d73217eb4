/* The tier engine: options, the provider and auditor tables, era arithmetic. */
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include "tier_internal.h"

/* The bytes of each options version: version 1 ended before
 * unverified_evidence (added in version 2). A caller built against an older
 * header passes a shorter struct, so only its own version's bytes are read
 * or written. */
static size_t opts_size(unsigned int version)
{
    return version >= 2 ? sizeof(gpurent_tier_options) : offsetof(gpurent_tier_options, unverified_evidence);
}

/* A caller's options of any known version as the current struct: fields its
 * version lacks take their defaults, except that version 1 (which had no
 * signed-only mode) keeps taking unverified evidence. */
static int opts_load(const gpurent_tier_options *in, gpurent_tier_options *out)
{
    int rc = gr_check_version(in->version, GPURENT_TIER_OPTIONS_VERSION, "gpurent_tier_options");
    if (rc) return rc;
    const gpurent_tier_options def = GPURENT_TIER_OPTIONS_INIT;
    *out = def;
    memcpy(out, in, opts_size(in->version));
    if (in->version < 2) out->unverified_evidence = 1;
    return GPURENT_OK;
}

int gr_tier_opts_load(const gpurent_tier_options *in, gpurent_tier_options *out) { return opts_load(in, out); }

GPURENT_API gpurent_status gpurent_tier_options_init(gpurent_tier_options *opts, unsigned int version)
{
    GR_CHECK_ARG(opts, "opts is NULL");
    int rc = gr_check_version(version, GPURENT_TIER_OPTIONS_VERSION, "gpurent_tier_options");
    if (rc) return rc;
    const gpurent_tier_options def = GPURENT_TIER_OPTIONS_INIT;
    memcpy(opts, &def, opts_size(version));
    opts->version = version;
    return GPURENT_OK;
}

#define BAD(...) gr_fail(GPURENT_E_INVALID_ARG, __VA_ARGS__)

static int check_table(const gpurent_tier_options *o)
{
    uint32_t n = o->tier_count;
    if (n < 3 || n > GPURENT_TIER_MAX_TIERS)
        return BAD("tier_options.tier_count: %u, allowed 3..%u", n, GPURENT_TIER_MAX_TIERS);
    for (uint32_t t = 0; t < n; t++) {
        const gpurent_tier_level *l = &o->tiers[t];
        if (l->uptime_min_ppm > GR_PPM || l->uptime_min_ppm == 0)
            return BAD("tier_options.tiers[%u].uptime_min_ppm: %u, allowed 1..1000000", t, l->uptime_min_ppm);
        if (t && l->uptime_min_ppm >= o->tiers[t - 1].uptime_min_ppm)
            return BAD("tier_options.tiers[%u].uptime_min_ppm: %u not below tier %u's %u", t, l->uptime_min_ppm, t,
                       o->tiers[t - 1].uptime_min_ppm);
        if (l->slash_below_ppm >= l->uptime_min_ppm)
            return BAD("tier_options.tiers[%u].slash_below_ppm: %u not below uptime_min_ppm %u", t,
                       l->slash_below_ppm, l->uptime_min_ppm);
        if (l->points_ppm > 100000000u)
            return BAD("tier_options.tiers[%u].points_ppm: %u above 100000000", t, l->points_ppm);
        if ((t == 0) != (l->eras_up == 0) || l->eras_up > 100000)
            return BAD("tier_options.tiers[%u].eras_up: %u (0 exactly in tier 1, else 1..100000)", t, l->eras_up);
        if ((t == n - 1) != (l->eras_down == 0) || l->eras_down > 100000)
            return BAD("tier_options.tiers[%u].eras_down: %u (0 exactly in the last tier, else 1..100000)", t,
                       l->eras_down);
    }
    if (o->incubation_tiers < 1 || o->incubation_tiers >= n)
        return BAD("tier_options.incubation_tiers: %u, allowed 1..%u", o->incubation_tiers, n - 1);
    return GPURENT_OK;
}

static int check_scoring(const gpurent_tier_options *o)
{
    if (o->window_eras < 1 || o->window_eras > GR_TIER_MAX_WINDOW)
        return BAD("tier_options.window_eras: %u, allowed 1..%u", o->window_eras, GR_TIER_MAX_WINDOW);
    if (o->half_life_eras > GR_TIER_MAX_WINDOW)
        return BAD("tier_options.half_life_eras: %u above %u", o->half_life_eras, GR_TIER_MAX_WINDOW);
    if ((uint64_t)o->gpu_weight_ppm + o->cpu_weight_ppm != GR_PPM)
        return BAD("tier_options.gpu_weight_ppm + cpu_weight_ppm: %u + %u, must be 1000000", o->gpu_weight_ppm,
                   o->cpu_weight_ppm);
    if (o->bound > GPURENT_TIER_BOUND_BETA) return BAD("tier_options.bound: %u unknown", o->bound);
    if (o->z_milli < 1 || o->z_milli > 5000) return BAD("tier_options.z_milli: %u, allowed 1..5000", o->z_milli);
    if (o->prior_pass_milli > 1000000 || o->prior_fail_milli > 1000000 ||
        o->prior_pass_milli + o->prior_fail_milli < 1000)
        return BAD("tier_options.prior_*_milli: %u and %u (each <= 1000000, sum >= 1000)", o->prior_pass_milli,
                   o->prior_fail_milli);
    uint64_t w = (uint64_t)o->weight_uptime_ppm + o->weight_audit_ppm + o->weight_jobs_ppm + o->weight_stake_ppm +
                 o->weight_tenure_ppm;
    if (w != GR_PPM) return BAD("tier_options.weight_*_ppm: sum %llu, must be 1000000", (unsigned long long)w);
    if (o->stake_full_micro < 1 || o->stake_full_micro > GR_TIER_MAX_STAKE_FULL)
        return BAD("tier_options.stake_full_micro: %llu, allowed 1..2^44", (unsigned long long)o->stake_full_micro);
    if (o->tenure_full_eras < 1) return BAD("tier_options.tenure_full_eras: must be at least 1");
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_tier_options_validate(const gpurent_tier_options *opts)
{
    GR_CHECK_ARG(opts, "opts is NULL");
    gpurent_tier_options cur;
    int rc = opts_load(opts, &cur);
    if (rc) return rc;
    const gpurent_tier_options *o = &cur;
    rc = check_table(o);
    if (!rc) rc = check_scoring(o);
    if (rc) return rc;
    if (o->era_s < 1 || o->era_s > GPURENT_TIME_MAX_S)
        return BAD("tier_options.era_s: %llu, allowed 1..2^40", (unsigned long long)o->era_s);
    if (o->genesis_s > GPURENT_TIME_MAX_S) return BAD("tier_options.genesis_s: above 2^40");
    if (o->first_era > GPURENT_TIME_MAX_S) return BAD("tier_options.first_era: above 2^40");
    if (o->quorum_auditors < 1 || o->quorum_auditors > GPURENT_TIER_CERT_MAX_AUDITORS)
        return BAD("tier_options.quorum_auditors: %u, allowed 1..%u", o->quorum_auditors,
                   GPURENT_TIER_CERT_MAX_AUDITORS);
    if (o->min_incubation_eras > 100000) return BAD("tier_options.min_incubation_eras: above 100000");
    if (o->security_demote_tiers >= o->tier_count)
        return BAD("tier_options.security_demote_tiers: %u, allowed 0..%u", o->security_demote_tiers,
                   o->tier_count - 1);
    if (o->max_providers < 1 || o->max_providers > (1u << 24))
        return BAD("tier_options.max_providers: %u, allowed 1..16777216", o->max_providers);
    if (o->unverified_evidence > 1)
        return BAD("tier_options.unverified_evidence: %u, allowed 0 or 1", o->unverified_evidence);
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_tier_engine_new(gpurent_tier_engine **out, const gpurent_tier_options *opts)
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    int rc = gr_ensure_init();
    if (rc) return rc;
    gpurent_tier_options cur = GPURENT_TIER_OPTIONS_INIT;
    if (opts && (rc = opts_load(opts, &cur))) return rc;
    opts = &cur;
    if ((rc = gpurent_tier_options_validate(opts))) return rc;
    gpurent_tier_engine *e = gr_calloc(1, sizeof *e);
    if (!e) return gr_fail(GPURENT_E_NOMEM, "tier engine");
    e->o = *opts;
    e->ring = opts->window_eras + GR_TIER_OPEN_ERAS;
    e->next_era = opts->first_era;
    gr_decay_table(e->decay_q16, opts->window_eras, opts->half_life_eras);
    for (uint32_t n = 1; n <= GR_RECIP_TABLE; n++) e->recip[n] = ((1ull << 32) + n - 1) / n;
    e->prior_pass_q16 = (uint32_t)((uint64_t)opts->prior_pass_milli * GR_Q16 / 1000u);
    e->prior_fail_q16 = (uint32_t)((uint64_t)opts->prior_fail_milli * GR_Q16 / 1000u);
    gr_tier_params_digest(opts, e->params_digest);
    /* A secret hash key: provider keys are chosen by providers, who must not
     * be able to pick keys that pile into one bucket. */
    randombytes_buf(e->hash_key, sizeof e->hash_key);
    *out = e;
    return GPURENT_OK;
}

GPURENT_API void gpurent_tier_engine_free(gpurent_tier_engine *e)
{
    if (!e) return;
    for (uint32_t i = 0; i < e->n; i++) gr_free(e->prov[i].audits);
    gr_free(e->keys);
    gr_free(e->prov);
    gr_free(e->scratch);
    gr_free(e->slots);
    gr_free(e->table);
    gr_free(e->akeys);
    gr_free(e->acontra);
    gr_free(e->atable);
    gr_free(e->slashes);
    gr_free(e);
}

static uint32_t key_hash(const gpurent_tier_engine *e, const uint8_t key[32])
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, 32, e->hash_key);
    uint32_t v;
    memcpy(&v, h, 4);
    return v;
}

uint32_t gr_tier_hash(const gpurent_tier_engine *e, const uint8_t key[32]) { return key_hash(e, key); }

/* Find `key`, whose key_hash() is h, in an open-addressing table of
 * index+1 entries. */
static int table_find_h(const uint32_t *table, uint32_t mask, uint8_t (*keys)[32], const uint8_t key[32], uint32_t h,
                        uint32_t *slot)
{
    uint32_t i = h & mask;
    for (;; i = (i + 1) & mask) {
        if (table[i] == 0) { *slot = i; return -1; }
        if (memcmp(keys[table[i] - 1], key, 32) == 0) { *slot = i; return (int)(table[i] - 1); }
    }
}

static int table_find(const gpurent_tier_engine *e, const uint32_t *table, uint32_t mask, uint8_t (*keys)[32],
                      const uint8_t key[32], uint32_t *slot)
{
    return table_find_h(table, mask, keys, key, key_hash(e, key), slot);
}

int gr_tier_find_hashed(const gpurent_tier_engine *e, const uint8_t key[32], uint32_t h)
{
    uint32_t s;
    return e->table ? table_find_h(e->table, e->table_mask, e->keys, key, h, &s) : -1;
}

/* Rebuild a table of size 2*cap (power of two, load <= 1/2). */
static int table_rebuild(const gpurent_tier_engine *e, uint32_t **table, uint32_t *mask, uint8_t (*keys)[32],
                         uint32_t n, uint32_t cap)
{
    uint32_t size = 16;
    while (size < 2 * cap) size <<= 1;
    uint32_t *t = gr_calloc(size, sizeof *t);
    if (!t) return gr_fail(GPURENT_E_NOMEM, "tier engine: hash table of %u entries", size);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t s;
        table_find(e, t, size - 1, keys, keys[k], &s);
        t[s] = k + 1;
    }
    gr_free(*table);
    *table = t;
    *mask = size - 1;
    return GPURENT_OK;
}

int gr_tier_find(const gpurent_tier_engine *e, const uint8_t key[32])
{
    uint32_t s;
    return e->table ? table_find(e, e->table, e->table_mask, e->keys, key, &s) : -1;
}

int gr_tier_provider(const gpurent_tier_engine *e, const uint8_t key[32], const char *what, const gr_prov **p)
{
    int i = gr_tier_find(e, key);
    if (i < 0) return gr_fail(GPURENT_E_UNKNOWN_PROVIDER, "tier %s: no evidence for this provider", what);
    *p = &e->prov[i];
    return GPURENT_OK;
}

#define GROW(ptr, count, what)                                                           \
    do {                                                                                 \
        void *np_ = gr_realloc(ptr, (size_t)(count) * sizeof *(ptr));                    \
        if (!np_) return gr_fail(GPURENT_E_NOMEM, "tier engine: %s for %u", what, count); \
        ptr = np_;                                                                       \
    } while (0)

int gr_tier_reserve(gpurent_tier_engine *e, uint32_t extra)
{
    if (extra > e->o.max_providers - e->n)
        return gr_fail(GPURENT_E_LIMIT, "tier engine: %u providers known, %u more would pass max_providers %u", e->n,
                       extra, e->o.max_providers);
    uint32_t need = e->n + extra;
    if (need <= e->cap) return GPURENT_OK;
    uint32_t cap = e->cap ? e->cap : 64;
    while (cap < need) cap = cap > UINT32_MAX / 2 ? need : cap * 2;
    if (cap > e->o.max_providers) cap = e->o.max_providers;
    GROW(e->keys, cap, "keys");
    GROW(e->prov, cap, "provider states");
    GROW(e->scratch, cap, "evaluation scratch");
    size_t slots = (size_t)cap * e->ring;
    void *ns = gr_realloc(e->slots, slots * sizeof *e->slots);
    if (!ns) return gr_fail(GPURENT_E_NOMEM, "tier engine: %zu era slots", slots);
    e->slots = ns;
    int rc = table_rebuild(e, &e->table, &e->table_mask, e->keys, e->n, cap);
    if (rc) return rc;
    e->cap = cap;
    return GPURENT_OK;
}

uint32_t gr_tier_get_or_add(gpurent_tier_engine *e, const uint8_t key[32])
{
    uint32_t s;
    int found = table_find(e, e->table, e->table_mask, e->keys, key, &s);
    if (found >= 0) return (uint32_t)found;
    uint32_t i = e->n++;
    memcpy(e->keys[i], key, 32);
    memset(&e->prov[i], 0, sizeof e->prov[i]);
    e->prov[i].st.tier = e->o.tier_count; /* everyone enters at the bottom */
    e->prov[i].prev_tier = e->o.tier_count;
    e->prov[i].first_era = UINT64_MAX;
    memset(&e->slots[(size_t)i * e->ring], 0, e->ring * sizeof *e->slots);
    e->table[s] = i + 1;
    return i;
}

int gr_auditor_prepare(gpurent_tier_engine *e, const uint8_t key[32], uint32_t *out, int *fresh)
{
    uint32_t s;
    int found = e->atable ? table_find(e, e->atable, e->atable_mask, e->akeys, key, &s) : -1;
    *fresh = 0;
    if (found >= 0) { *out = (uint32_t)found; return GPURENT_OK; }
    if (e->na >= GR_TIER_MAX_AUDITORS)
        return gr_fail(GPURENT_E_LIMIT, "tier engine: %u auditors, the limit", e->na);
    if (e->na == e->acap) {
        uint32_t cap = e->acap ? e->acap * 2 : 16;
        GROW(e->akeys, cap, "auditor keys");
        GROW(e->acontra, cap, "auditor counts");
        int rc = table_rebuild(e, &e->atable, &e->atable_mask, e->akeys, e->na, cap);
        if (rc) return rc;
        e->acap = cap;
    }
    /* Past e->na: no answer, snapshot or later index sees it until the
     * commit, so a report refused after this changed nothing. */
    memcpy(e->akeys[e->na], key, 32);
    *out = e->na;
    *fresh = 1;
    return GPURENT_OK;
}

void gr_auditor_commit(gpurent_tier_engine *e, uint32_t index)
{
    uint32_t s;
    table_find(e, e->atable, e->atable_mask, e->akeys, e->akeys[index], &s);
    e->acontra[index] = 0;
    e->atable[s] = index + 1;
    e->na = index + 1;
}

int gr_auditor_index(gpurent_tier_engine *e, const uint8_t key[32], uint32_t *out)
{
    int fresh;
    int rc = gr_auditor_prepare(e, key, out, &fresh);
    if (!rc && fresh) gr_auditor_commit(e, *out);
    return rc;
}

int gr_era_open(const gpurent_tier_engine *e, uint64_t time_s, uint64_t *era, const char *what)
{
    if (time_s < e->o.genesis_s)
        return gr_fail(GPURENT_E_EVIDENCE_REJECTED, "%s: time %llu before genesis %llu", what,
                       (unsigned long long)time_s, (unsigned long long)e->o.genesis_s);
    uint64_t x = (time_s - e->o.genesis_s) / e->o.era_s;
    if (x < e->next_era)
        return gr_fail(GPURENT_E_EVIDENCE_REJECTED, "%s: era %llu is closed (next era to evaluate is %llu)", what,
                       (unsigned long long)x, (unsigned long long)e->next_era);
    if (x >= e->next_era + GR_TIER_OPEN_ERAS)
        return gr_fail(GPURENT_E_EVIDENCE_REJECTED, "%s: era %llu is not open yet (open: %llu..%llu)", what,
                       (unsigned long long)x, (unsigned long long)e->next_era,
                       (unsigned long long)(e->next_era + GR_TIER_OPEN_ERAS - 1));
    *era = x;
    return GPURENT_OK;
}

GPURENT_API uint64_t gpurent_tier_era_of(const gpurent_tier_engine *e, uint64_t time_s)
{
    if (!e || time_s < e->o.genesis_s) return 0;
    return (time_s - e->o.genesis_s) / e->o.era_s;
}

GPURENT_API uint64_t gpurent_tier_next_era(const gpurent_tier_engine *e)
{
    return e ? e->next_era : 0;
}

GPURENT_API uint32_t gpurent_tier_provider_count(const gpurent_tier_engine *e)
{
    return e ? e->n : 0;
}

GPURENT_API gpurent_status gpurent_tier_provider_key(const gpurent_tier_engine *e, uint32_t index, uint8_t key[32])
{
    GR_CHECK_ARG(e && key, "engine or key is NULL");
    if (index >= e->n) return gr_fail(GPURENT_E_NOT_FOUND, "tier engine: provider %u of %u", index, e->n);
    memcpy(key, e->keys[index], 32);
    return GPURENT_OK;
}

GPURENT_API void gpurent_tier_params_digest(const gpurent_tier_engine *e, uint8_t digest[32])
{
    if (e && digest) memcpy(digest, e->params_digest, 32);
}
