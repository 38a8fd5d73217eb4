/* Internals of the tier engine, shared by the files in lib/tier (and tests, bench). */
#ifndef GPURENT_TIER_INTERNAL_H
#define GPURENT_TIER_INTERNAL_H

#include "../core/core_internal.h"
#include "gpurent/tier.h"

#define GR_PPM 1000000u
#define GR_Q16 65536u
/* Each observed era counts as this many challenge observations per kind
 * (GPU, CPU), split by the era's pass ratio (docs/tiers.md, "Score"). */
#define GR_ERA_OBS 24u
/* Eras' challenge counts with a tabled reciprocal (larger ones divide); at
 * most 2^32 / (GR_ERA_OBS * 65536) so that n * all stays below 2^32. */
#define GR_RECIP_TABLE 1024u
/* Evidence is accepted for the next era to evaluate and this many - 1 after it. */
#define GR_TIER_OPEN_ERAS 2u
#define GR_TIER_MAX_WINDOW 64u
#define GR_TIER_MAX_AUDITS 4096u   /* audit entries kept per provider (one per auditor and era) */
#define GR_TIER_MAX_AUDITORS 65536u
#define GR_TIER_MAX_STAKE_FULL (1ull << 44) /* so that stake x 1e6 fits in 64 bits */

/* One provider's counts for one era: 16 bytes, saturating at 65535. */
typedef struct gr_slot {
    uint16_t gpu_pass, gpu_fail, cpu_pass, cpu_fail;
    uint16_t job_ok, job_fail, job_user;
    uint16_t unused;
} gr_slot;

/* One auditor's evidence about one provider for one era, whatever number
 * of reports it came in (a flood counts once). The checks merge
 * with FAILED over PASSED over NOT_RUN; the challenge counts are the
 * auditor's own, timed in the era, saturating at 65535. So each auditor
 * holds at most one entry per era and provider. */
typedef struct gr_audit {
    uint64_t era;
    uint32_t auditor; /* index into the engine's auditor table */
    uint16_t gpu_pass, gpu_fail, cpu_pass, cpu_fail;
    uint8_t gpu, integrity, security, unused;
} gr_audit;

/* The audit checks, for per-check arrays. */
enum { GR_CHECK_GPU = 0, GR_CHECK_INTEGRITY = 1, GR_CHECK_SECURITY = 2, GR_CHECKS = 3 };

/* Everything the state machine carries from era to era for one provider. */
typedef struct gr_tstate {
    uint32_t tier;
    uint32_t up_streak, down_streak, eras_in_tier, incub_eras;
    uint32_t graduated;
    uint64_t incub_start; /* audits before this era do not count towards leaving incubation */
    uint64_t fail_since[GR_CHECKS]; /* failure reports before this era were acted on already */
} gr_tstate;

/* What one era brings to the state machine. The era's uptime is two robust
 * statistics of the sources' pass ratios (k = quorum_auditors): at least k
 * sources report at least uptime_up_ppm (the k-th highest: what moving up
 * may use) and at least k report at most uptime_ppm (the k-th lowest: what
 * a bad era or a slash needs). */
typedef struct gr_era_input {
    uint64_t era;
    uint32_t observed;      /* k sources had challenge results this era */
    uint32_t uptime_ppm;    /* k-th lowest: bad eras and slashes */
    uint32_t integrity_fail, security_fail, gpu_fail; /* confirmed by k distinct auditors */
    uint32_t auditors;      /* distinct auditors with a passing full audit, counted for the new state */
    uint32_t uptime_up_ppm; /* k-th highest: qualifying upwards */
} gr_era_input;

/* What the state machine decided. */
typedef struct gr_era_output {
    uint32_t rule;          /* gpurent_tier_rule */
    uint32_t qualifying;    /* best tier met, tier_count + 1 = none */
    uint32_t slash;         /* gpurent_tier_slash_reason bits */
    uint32_t promoted, demoted, reset, graduated;
    uint32_t uptime_ppm;    /* the statistic the decision used */
} gr_era_output;

/* A stake observation; a later time wins, then a larger value. */
typedef struct gr_stake {
    uint64_t time_s, micro;
    uint32_t set;
} gr_stake;

typedef struct gr_prov {
    gr_tstate st;
    uint64_t first_era;     /* era of the first evidence */
    gr_stake stake;         /* as of the last evaluated era */
    gr_stake open_stake[GR_TIER_OPEN_ERAS]; /* observed in the open eras, by era % 2 */
    uint64_t last_era;      /* last era evaluated */
    uint32_t evaluated;     /* 1 once an era was evaluated for it */
    uint32_t prev_tier, rule, qualifying, slash, observed, uptime_ppm, auditors;
    uint32_t score_ppm, mean_ppm;
    uint32_t comp_value[GPURENT_TIER_COMPONENTS], comp_mean[GPURENT_TIER_COMPONENTS];
    uint64_t comp_ev[3];
    uint32_t uptime_lo_ppm, uptime_up_ppm, sources; /* the era's k-th lowest and highest; sources (events: k) */
    uint32_t lone[GR_CHECKS];  /* distinct auditors with a failure report not (yet) confirmed */
    gr_audit *audits;       /* sorted by (era, auditor key), one per pair */
    uint32_t naudits, audit_cap;
} gr_prov;

struct gpurent_tier_engine {
    gpurent_tier_options o;
    uint32_t ring;          /* slots per provider: window + open eras */
    uint64_t next_era;
    uint32_t decay_q16[GR_TIER_MAX_WINDOW];
    uint32_t prior_pass_q16, prior_fail_q16;
    uint64_t recip[GR_RECIP_TABLE + 1]; /* ceil(2^32 / n) for n >= 1 (2^32 for n = 1) */
    uint8_t params_digest[32];
    uint8_t hash_key[16];
    /* providers */
    uint32_t n, cap;
    uint8_t (*keys)[32];
    gr_prov *prov, *scratch;
    gr_slot *slots;         /* cap x ring */
    uint32_t *table, table_mask; /* open addressing: index + 1, 0 = empty */
    /* auditors */
    uint32_t na, acap;
    uint8_t (*akeys)[32];
    uint32_t *acontra;      /* per auditor: failure reports a quorum contradicted */
    uint32_t *atable, atable_mask;
    /* slash events of the last evaluated era */
    gpurent_tier_slash *slashes;
    uint32_t nslash;
};

/* ---- math.c: integer fixed-point arithmetic (no floating point) ---- */
uint64_t gr_isqrt64(uint64_t v);
/* Q16 table of 2^(-age/half_life) for ages 0..n-1 (half_life 0 = all 65536). */
void gr_decay_table(uint32_t *out, uint32_t n, uint32_t half_life);
/* Lower bound and mean (ppm) of a proportion from Q16 counts plus the prior. */
void gr_bound(const gpurent_tier_engine *e, uint64_t pass_q16, uint64_t fail_q16, uint32_t *lower_ppm,
              uint32_t *mean_ppm);
uint32_t gr_wilson_lower_ppm(uint64_t pass_q16, uint64_t total_q16, uint32_t z_milli);
uint32_t gr_beta_lower_ppm(uint64_t pass_q16, uint64_t total_q16, uint32_t z_milli);
uint32_t gr_ratio_ppm(uint64_t num, uint64_t den); /* num <= den; 0 when den is 0 */

/* ---- engine.c ---- */
/* A caller's options of any known version as the current struct. */
int gr_tier_opts_load(const gpurent_tier_options *in, gpurent_tier_options *out);
int gr_tier_find(const gpurent_tier_engine *e, const uint8_t key[32]); /* index or -1 */
/* The provider `key` into *p, or GPURENT_E_UNKNOWN_PROVIDER with the detail
 * "tier <what>: no evidence for this provider" (the explain and
 * certificate calls). */
int gr_tier_provider(const gpurent_tier_engine *e, const uint8_t key[32], const char *what, const gr_prov **p);
/* The same in two steps, so that a batch can hash its keys and prefetch the
 * table entries before it looks any of them up. */
uint32_t gr_tier_hash(const gpurent_tier_engine *e, const uint8_t key[32]);
int gr_tier_find_hashed(const gpurent_tier_engine *e, const uint8_t key[32], uint32_t h);
/* Make room for `extra` more providers (and their slots) without failing later. */
int gr_tier_reserve(gpurent_tier_engine *e, uint32_t extra);
/* Index of the provider, created (room reserved beforehand) if new. */
uint32_t gr_tier_get_or_add(gpurent_tier_engine *e, const uint8_t key[32]);
int gr_auditor_index(gpurent_tier_engine *e, const uint8_t key[32], uint32_t *out);
/* gr_auditor_index in two steps, for a caller that may still fail in
 * between: room for a new auditor and its index (*fresh = 1) without
 * adding it (LIMIT, NOMEM; nothing visible changes); then adding it (cannot
 * fail; the engine must not have changed since). */
int gr_auditor_prepare(gpurent_tier_engine *e, const uint8_t key[32], uint32_t *out, int *fresh);
void gr_auditor_commit(gpurent_tier_engine *e, uint32_t index);
int gr_era_open(const gpurent_tier_engine *e, uint64_t time_s, uint64_t *era, const char *what);
/* The fast path of gr_era_open: 1 when the time falls in an open era (no message). */
static inline int gr_era_ok(const gpurent_tier_engine *e, uint64_t time_s, uint64_t *era)
{
    if (time_s < e->o.genesis_s) return 0;
    *era = (time_s - e->o.genesis_s) / e->o.era_s;
    return *era >= e->next_era && *era < e->next_era + GR_TIER_OPEN_ERAS;
}
static inline gr_slot *gr_slot_at(const gpurent_tier_engine *e, uint32_t p, uint64_t era)
{
    return &e->slots[(size_t)p * e->ring + (size_t)(era % e->ring)];
}

/* ---- eval.c ---- */
/* Keep in `into` the later observation (then the larger value). */
void gr_stake_merge(gr_stake *into, const gr_stake *obs);
/* The tier state machine for one era: pure, so tests can drive it directly. */
void gr_tier_step(const gpurent_tier_options *o, gr_tstate *st, const gr_era_input *in, gr_era_output *out);
/* Distinct auditors with a passing full audit in (era - window, era] and at or after `since`;
 * fills up to `max` auditor indices sorted by key when `list` is given. */
uint32_t gr_quorum(const gpurent_tier_engine *e, const gr_prov *p, uint64_t era, uint64_t since, uint32_t *list,
                   uint32_t max);
/* Memory the evaluation reads (for the benchmark's baseline). */
void gr_tier_memory(const gpurent_tier_engine *e, const void **slots, size_t *slot_bytes, const void **prov,
                    size_t *prov_bytes);

/* ---- record.c: a report is recorded in two steps, so that a caller can
 * do something that may fail (the replay check) between the checks and the
 * change ---- */
typedef struct gr_report_plan {
    gr_audit entry[GR_TIER_OPEN_ERAS]; /* the auditor's evidence per open era (next_era + i) */
    uint32_t want;          /* bit i: entry[i] carries something and is merged in */
    gr_audit *first_audits; /* the audit list of a provider the report creates */
    int new_auditor;        /* the auditor is added on apply (gr_auditor_prepare) */
} gr_report_plan;
/* Every check and reservation; nothing that changes a result. On failure
 * nothing is held. */
int gr_report_prepare(gpurent_tier_engine *e, const gpurent_audit_report *r, gr_report_plan *plan);
/* Record the prepared report; the engine must not have changed since. */
void gr_report_apply(gpurent_tier_engine *e, const gpurent_audit_report *r, gr_report_plan *plan);
/* Release a prepared report that will not be applied. */
void gr_report_abort(gr_report_plan *plan);

/* ---- cert.c ---- */
void gr_tier_params_digest(const gpurent_tier_options *o, uint8_t out[32]);

#endif
