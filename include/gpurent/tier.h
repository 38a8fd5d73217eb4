/* Provider trust tiers from auditors' evidence: per-era evaluation, scores
 * with a lower confidence bound, tiers with hysteresis and incubation,
 * slash events, explanations and tier certificates. docs/tiers.md states
 * the model, the defaults and the reasons for each.
 *
 * Everything that decides a tier or a score is integer arithmetic
 * (parts per million, Q16 fixed point, integer square roots), so the same
 * evidence gives the same bytes on every platform and in every language.
 *
 * Threads: one engine must not be used from two threads at once; separate
 * engines are independent. Read-only calls (getters, explain, certificate)
 * may run concurrently with each other on one engine. */
#ifndef GPURENT_TIER_H
#define GPURENT_TIER_H

#include "gpurent/attest.h"
#include "gpurent/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One row of the tier table. Tier 1 is row 0 (most trusted). */
typedef struct gpurent_tier_level {
    uint32_t uptime_min_ppm;  /* an era qualifies for this tier when its uptime >= this */
    uint32_t slash_below_ppm; /* an era below this while in this tier is a slash event; 0 = never */
    uint32_t points_ppm;      /* reward multiplier x 1e6 (2.0 = 2000000) */
    uint32_t eras_up;         /* consecutive eras qualifying for the tier above needed to move up; 0 in tier 1 */
    uint32_t eras_down;       /* consecutive eras below this tier needed to move down; 0 in the last tier */
} gpurent_tier_level;

/** The lower confidence bound a score uses. */
typedef enum gpurent_tier_bound {
    GPURENT_TIER_BOUND_WILSON = 0, /* Wilson score interval, lower end */
    GPURENT_TIER_BOUND_BETA = 1    /* Beta posterior mean minus z standard deviations */
} gpurent_tier_bound;

/* 2 added unverified_evidence; version 1 structs keep working (and keep
 * taking unverified evidence, as they did). */
#define GPURENT_TIER_OPTIONS_VERSION 2

/** Engine parameters. The exception to zero-means-default: zero-initialised
 *  fields are NOT defaults (the engine's parameters are signed into every
 *  certificate as params_digest, so each is stated, never implied). Start
 *  from GPURENT_TIER_OPTIONS_INIT or gpurent_tier_options_init(), which fill
 *  in the published Spheron table and the defaults below. A zero that would
 *  be unsafe is refused with GPURENT_E_INVALID_ARG naming the field
 *  (tier_count, incubation_tiers, quorum_auditors, era_s, window_eras,
 *  z_milli, stake_full_micro, tenure_full_eras, max_providers, a tier row's
 *  uptime_min_ppm, weights that do not sum to 10^6); the zeros that are
 *  accepted mean what their field's comment says ("0 = ..."). */
typedef struct gpurent_tier_options {
    unsigned int version;
    uint32_t tier_count;          /* 3..GPURENT_TIER_MAX_TIERS; default 7 */
    gpurent_tier_level tiers[GPURENT_TIER_MAX_TIERS]; /* [0] = tier 1; default: Spheron's table */
    uint32_t incubation_tiers;    /* bottom tiers that form incubation, 1..tier_count-1; default 2 */
    uint32_t min_incubation_eras; /* observed eras to serve in incubation before leaving it; 0 = none
                                     (the quorum alone decides); default 8 */
    uint32_t quorum_auditors;     /* k: distinct auditors with a passing full audit to leave incubation
                                     and for a certificate; also the sources an era's uptime needs each
                                     way and the auditors a check failure needs (docs/tiers.md,
                                     "Threat model"); default 3 */
    uint64_t era_s;               /* era length, seconds; default 86400 */
    uint64_t genesis_s;           /* Unix second where era 0 starts; 0 = the Unix epoch, the default */
    uint64_t first_era;           /* the first era the engine evaluates; 0 = era 0, the default */
    uint32_t window_eras;         /* eras of history kept and scored, 1..64; default 30 */
    uint32_t half_life_eras;      /* decay of older eras in the score; 0 = none; default 7 */
    uint32_t gpu_weight_ppm;      /* weight of GPU challenges in uptime; default 800000 */
    uint32_t cpu_weight_ppm;      /* weight of CPU challenges; the two sum to 1000000; default 200000 */
    uint32_t bound;               /* gpurent_tier_bound; 0 = Wilson, the default */
    uint32_t z_milli;             /* z of the bound x 1000, 1..5000; default 1960 (95% two-sided) */
    uint32_t prior_pass_milli;    /* prior successes x 1000 for each proportion; default 3000 */
    uint32_t prior_fail_milli;    /* prior failures x 1000; prior strength >= 1000; default 2000 */
    uint32_t weight_uptime_ppm;   /* score weights, summing to 1000000: default 500000 */
    uint32_t weight_audit_ppm;    /* default 200000 */
    uint32_t weight_jobs_ppm;     /* default 200000 */
    uint32_t weight_stake_ppm;    /* default 50000 */
    uint32_t weight_tenure_ppm;   /* default 50000 */
    uint64_t stake_full_micro;    /* stake that earns the whole stake component; default 1e9 (1000 units) */
    uint32_t tenure_full_eras;    /* eras in the network that earn the whole tenure component; default 90 */
    uint32_t security_demote_tiers; /* tiers lost at once on a failed security audit after incubation;
                                       0 = back to the bottom tier and through incubation again; default 0 */
    uint32_t max_providers;       /* 1..16777216; default 1048576 */
    uint32_t unverified_evidence; /* 1: gpurent_tier_record() and gpurent_tier_record_report() take
                                     evidence the caller verified itself; 0 (default): they refuse
                                     it (EVIDENCE_REJECTED) and evidence enters only as signed
                                     statements (gpurent_tier_record_signed*) */
} gpurent_tier_options;

/* The tier table Spheron publishes for its providers, in ppm: tier 1 "Most Trusted" .. tier 7. */
#define GPURENT_TIER_DEFAULT_TABLE                                                                       \
    {{990000, 850000, 2000000, 0, 32},                                                                  \
     {980000, 800000, 1700000, 30, 25},                                                                 \
     {970000, 750000, 1500000, 23, 20},                                                                 \
     {950000, 700000, 1200000, 17, 14},                                                                 \
     {900000, 650000, 1100000, 11, 7},                                                                  \
     {850000, 600000, 1000000, 5, 5},                                                                   \
     {750000, 0, 0, 3, 0}}

/* Designated initialisers (C99/C11; C++ callers use gpurent_tier_options_init()),
 * so each default sits beside its field's name. */
#define GPURENT_TIER_OPTIONS_INIT                                                 \
    {.version = GPURENT_TIER_OPTIONS_VERSION,                                     \
     .tier_count = 7,                                                             \
     .tiers = GPURENT_TIER_DEFAULT_TABLE,                                         \
     .incubation_tiers = 2,                                                       \
     .min_incubation_eras = 8,                                                    \
     .quorum_auditors = 3,                                                        \
     .era_s = 86400,                                                              \
     .genesis_s = 0,                                                              \
     .first_era = 0,                                                              \
     .window_eras = 30,                                                           \
     .half_life_eras = 7,                                                         \
     .gpu_weight_ppm = 800000,                                                    \
     .cpu_weight_ppm = 200000,                                                    \
     .bound = GPURENT_TIER_BOUND_WILSON,                                          \
     .z_milli = 1960,                                                             \
     .prior_pass_milli = 3000,                                                    \
     .prior_fail_milli = 2000,                                                    \
     .weight_uptime_ppm = 500000,                                                 \
     .weight_audit_ppm = 200000,                                                  \
     .weight_jobs_ppm = 200000,                                                   \
     .weight_stake_ppm = 50000,                                                   \
     .weight_tenure_ppm = 50000,                                                  \
     .stake_full_micro = 1000000000ull,                                           \
     .tenure_full_eras = 90,                                                      \
     .security_demote_tiers = 0,                                                  \
     .max_providers = 1048576,                                                    \
     .unverified_evidence = 0}

/** Fill `opts` with the defaults for options `version` (GPURENT_E_VERSION
 *  for a version this library does not know). */
GPURENT_API gpurent_status gpurent_tier_options_init(gpurent_tier_options *opts, unsigned int version);

/** Check options without building an engine; GPURENT_E_INVALID_ARG names the field. */
GPURENT_API gpurent_status gpurent_tier_options_validate(const gpurent_tier_options *opts);

/** A tier engine: providers' evidence and tier state. Opaque. */
typedef struct gpurent_tier_engine gpurent_tier_engine;

/** Create an engine (opts NULL = defaults). Free with gpurent_tier_engine_free(). */
GPURENT_API gpurent_status gpurent_tier_engine_new(gpurent_tier_engine **out, const gpurent_tier_options *opts);
/** Free an engine. Accepts NULL. */
GPURENT_API void gpurent_tier_engine_free(gpurent_tier_engine *engine);

/** The era a Unix second falls in: (time_s - genesis_s) / era_s (0 before genesis). */
GPURENT_API uint64_t gpurent_tier_era_of(const gpurent_tier_engine *engine, uint64_t time_s);
/** The next era gpurent_tier_evaluate() accepts. Evidence is accepted for
 *  this era and the one after it (clock skew at the boundary); earlier eras
 *  are closed. */
GPURENT_API uint64_t gpurent_tier_next_era(const gpurent_tier_engine *engine);
/** Number of providers the engine knows. */
GPURENT_API uint32_t gpurent_tier_provider_count(const gpurent_tier_engine *engine);
/** The key of provider `index` (0..count-1, in the order providers first
 *  appeared; use keys, not indices, for identity). */
GPURENT_API gpurent_status gpurent_tier_provider_key(const gpurent_tier_engine *engine, uint32_t index,
                                                     uint8_t key[GPURENT_KEY_BYTES]);
/** Digest of the parameters that decide tiers and scores (the certificate's params_digest). */
GPURENT_API void gpurent_tier_params_digest(const gpurent_tier_engine *engine, uint8_t digest[GPURENT_DIGEST_BYTES]);

/* ---- evidence ---- */

/** Kinds of single evidence events. */
typedef enum gpurent_tier_event_kind {
    GPURENT_TIER_EVENT_GPU_CHALLENGE = 1, /* value: 1 passed, 0 failed */
    GPURENT_TIER_EVENT_CPU_CHALLENGE = 2, /* value: 1 passed, 0 failed */
    GPURENT_TIER_EVENT_JOB = 3,           /* value: gpurent_job_outcome */
    GPURENT_TIER_EVENT_STAKE = 4          /* value: stake in micro-units observed at time_s */
} gpurent_tier_event_kind;

/** One piece of evidence about one provider. */
typedef struct gpurent_tier_event {
    uint8_t provider_key[GPURENT_KEY_BYTES];
    uint64_t time_s; /* decides the era */
    uint32_t kind;   /* gpurent_tier_event_kind */
    uint32_t reserved; /* must be 0 */
    uint64_t value;
} gpurent_tier_event;

/**
 * Record evidence that has ALREADY been verified (decoded from statements of
 * authorized auditors whose signatures were checked). Only for an engine
 * created with tier_options.unverified_evidence = 1 (replaying a log the
 * caller verified, tests, benchmarks); any other engine refuses with
 * GPURENT_E_EVIDENCE_REJECTED and changes nothing. All-or-nothing: every
 * event is checked first (kind, value, era open), and on failure nothing
 * changes and the status names the event (GPURENT_E_EVIDENCE_REJECTED for a
 * closed or too-distant era, GPURENT_E_INVALID_ARG for a bad kind or value,
 * GPURENT_E_LIMIT when max_providers would be exceeded). Counts add up, so
 * the same set of events in any order, in any batches, gives identical
 * state. A provider is created by its first evidence.
 */
GPURENT_API gpurent_status gpurent_tier_record(gpurent_tier_engine *engine, const gpurent_tier_event *events,
                                               size_t count);

/**
 * Record an audit report that has ALREADY been verified as signed by an
 * authorized auditor: its checks (if any ran), stake, challenge results and
 * job outcomes. Refused like gpurent_tier_record() unless the engine was
 * created with tier_options.unverified_evidence = 1. All-or-nothing like
 * gpurent_tier_record(); the report is
 * validated first (gpurent_audit_report_validate) and every time in it must
 * fall in an open era.
 */
GPURENT_API gpurent_status gpurent_tier_record_report(gpurent_tier_engine *engine,
                                                      const gpurent_audit_report *report);

/* ---- signed evidence ---- */

/**
 * Verify a signed audit report and record it: the way evidence should
 * enter an engine (docs/tiers.md, "Signed evidence"). `envelope` is a
 * signed envelope (attest.h) whose payload is an audit report. In this
 * order, the first check that fails decides the status, and on any failure
 * neither the engine nor the trust store changes:
 *  1. gpurent_envelope_verify() against `trust` at `now` +- `skew_s`, with
 *     statement GPURENT_RECORD_AUDIT_REPORT, GPURENT_ROLE_AUDITOR required,
 *     quorum 1, without the replay check: the envelope's wire statuses
 *     (MALFORMED, TRUNCATED, NONCANONICAL, OVERSIZE, INVALID_FIELD,
 *     WRONG_RECORD for another statement type), then NOT_YET_VALID,
 *     EXPIRED, REVOKED, UNKNOWN_ISSUER, ROLE_NOT_ALLOWED, BAD_SIGNATURE;
 *  2. the report decodes (wire statuses) and its auditor_key is the
 *     envelope's issuer (GPURENT_E_EVIDENCE_REJECTED otherwise: an auditor
 *     speaks only for itself);
 *  3. the engine's checks of gpurent_tier_record_report() (closed or
 *     distant era: EVIDENCE_REJECTED; LIMIT; NOMEM);
 *  4. the replay check (GPURENT_E_REPLAYED when the trust store accepted
 *     this issuer and nonce before); the statement is then remembered.
 * Step 4 does not verify the signature again: it is the replay check of
 * the same trust store alone. A report the engine refuses is not
 * remembered, and can be sent again once its era opens. The failure detail
 * names the step.
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_tier_record_signed(gpurent_tier_engine *engine, gpurent_trust *trust,
                                                                        const uint8_t *envelope, size_t len, uint64_t now,
                                                                        uint32_t skew_s);

/**
 * gpurent_tier_record_signed() for `n` envelopes: the signature checks of
 * step 1 run on `threads` threads (0 = one per online CPU, at most 64; as
 * gpurent_envelope_verify_many()), then steps 2-4 run for each envelope in
 * input order. statuses[i] receives exactly what gpurent_tier_record_signed()
 * would have returned for envelope i, had the envelopes been recorded one
 * by one in input order (a report repeated in the batch is recorded at its
 * first position and REPLAYED after), whatever the thread count; only the
 * last failure's detail is kept. Returns GPURENT_OK when every envelope was
 * examined, or GPURENT_E_CANCELLED when `cancel` (may be NULL) was set:
 * envelopes not examined read GPURENT_E_CANCELLED and were not recorded;
 * those before them were.
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_tier_record_signed_many(gpurent_tier_engine *engine, gpurent_trust *trust,
                                                                             const uint8_t *const *envelopes, const size_t *lens,
                                                                             size_t n, uint64_t now, uint32_t skew_s,
                                                                             unsigned int threads, const gpurent_cancel *cancel,
                                                                             int32_t *statuses);

/* ---- evaluation ---- */

/** Summary of one era's evaluation. */
typedef struct gpurent_tier_era_summary {
    uint64_t era;
    uint32_t evaluated;   /* providers in the network this era */
    uint32_t promoted;
    uint32_t demoted;     /* including security demotions */
    uint32_t resets;      /* incubation resets */
    uint32_t slashes;     /* slash events (see gpurent_tier_slash_get) */
    uint32_t graduated;   /* left incubation this era */
    uint32_t tier_counts[GPURENT_TIER_MAX_TIERS]; /* providers per tier after the era, [0] = tier 1 */
} gpurent_tier_era_summary;

/**
 * Evaluate era `era`, which must equal gpurent_tier_next_era(): score every
 * provider, apply the tier rules, record slash events, then close the era.
 * `cancel` may be NULL; a cancelled evaluation changes nothing. `summary`
 * may be NULL.
 */
GPURENT_API gpurent_status gpurent_tier_evaluate(gpurent_tier_engine *engine, uint64_t era,
                                                 const gpurent_cancel *cancel, gpurent_tier_era_summary *summary);

/** Why an era was a slash event (bits). */
typedef enum gpurent_tier_slash_reason {
    GPURENT_TIER_SLASH_UPTIME = 1,  /* era uptime below the tier's slash threshold */
    GPURENT_TIER_SLASH_SECURITY = 2 /* failed security audit after incubation */
} gpurent_tier_slash_reason;

/** A slash event of the last evaluated era. */
typedef struct gpurent_tier_slash {
    uint8_t provider_key[GPURENT_KEY_BYTES];
    uint64_t era;
    uint32_t reasons;     /* gpurent_tier_slash_reason bits */
    uint32_t tier_before;
    uint32_t tier_after;
    uint32_t uptime_ppm;
} gpurent_tier_slash;

/** Number of slash events of the last evaluated era, ordered by provider key. */
GPURENT_API uint32_t gpurent_tier_slash_count(const gpurent_tier_engine *engine);
/** Copy slash event `index` (GPURENT_E_NOT_FOUND when out of range). */
GPURENT_API gpurent_status gpurent_tier_slash_get(const gpurent_tier_engine *engine, uint32_t index,
                                                  gpurent_tier_slash *out);

/* ---- per-provider results ---- */

/** The rule that decided a provider's tier in the last evaluated era. */
typedef enum gpurent_tier_rule {
    GPURENT_TIER_RULE_NOT_EVALUATED = 0,   /* no era evaluated since the provider appeared */
    GPURENT_TIER_RULE_HELD = 1,            /* the era qualified for the current tier exactly */
    GPURENT_TIER_RULE_UP_STREAK = 2,       /* qualified higher; streak not yet long enough */
    GPURENT_TIER_RULE_PROMOTED = 3,        /* streak reached eras_up: moved up one tier */
    GPURENT_TIER_RULE_DOWN_STREAK = 4,     /* below the tier; streak not yet long enough */
    GPURENT_TIER_RULE_DEMOTED = 5,         /* streak reached eras_down: moved down one tier */
    GPURENT_TIER_RULE_INCUBATION_RESET = 6,/* failed integrity or security audit in incubation */
    GPURENT_TIER_RULE_SECURITY_DEMOTION = 7,/* failed security audit after incubation: slash */
    GPURENT_TIER_RULE_NO_EVIDENCE = 8,     /* no challenge results this era: up streak cleared */
    GPURENT_TIER_RULE_WAIT_INCUBATION = 9, /* would leave incubation but has served too few eras */
    GPURENT_TIER_RULE_WAIT_QUORUM = 10,    /* would leave incubation but fewer than k auditors */
    GPURENT_TIER_RULE_AUDIT_FAILED = 11,   /* failed GPU-report or integrity audit: counted as a bad era */
    GPURENT_TIER_RULE_BOTTOM = 12          /* below the last tier's threshold, already at the bottom */
} gpurent_tier_rule;

/** Static name of a rule ("promoted"); "unknown" otherwise. */
GPURENT_API const char *gpurent_tier_rule_name(uint32_t rule);

/** Components of the score. */
enum {
    GPURENT_TIER_COMP_UPTIME = 0, /* weighted GPU/CPU challenge pass rate, lower bound */
    GPURENT_TIER_COMP_AUDIT = 1,  /* audit checks passed, lower bound */
    GPURENT_TIER_COMP_JOBS = 2,   /* jobs completed vs failed by the provider, lower bound */
    GPURENT_TIER_COMP_STAKE = 3,  /* stake / stake_full, capped at 1 */
    GPURENT_TIER_COMP_TENURE = 4, /* eras in the network / tenure_full_eras, capped at 1 */
    GPURENT_TIER_COMPONENTS = 5
};

/** One component's part in the score. */
typedef struct gpurent_tier_component {
    uint32_t value_ppm;        /* lower bound (or exact value for stake, tenure) */
    uint32_t mean_ppm;         /* point estimate with the prior */
    uint32_t weight_ppm;       /* its weight in the score */
    uint32_t contribution_ppm; /* value_ppm x weight_ppm / 1e6: its share of score_ppm */
    uint64_t evidence_q16;     /* decayed observations behind it, Q16 (65536 = one) */
} gpurent_tier_component;

/** Why a provider has its tier, and what it needs to move up. */
typedef struct gpurent_tier_explanation {
    uint8_t provider_key[GPURENT_KEY_BYTES];
    uint64_t era;                /* the last evaluated era */
    uint32_t tier;               /* 1..tier_count */
    uint32_t previous_tier;      /* before the last era */
    uint32_t incubating;         /* 1 = has not left incubation */
    uint32_t rule;               /* gpurent_tier_rule */
    uint32_t score_ppm;          /* sum of the contributions */
    uint32_t mean_ppm;
    uint32_t confidence_ppm;     /* score_ppm / mean_ppm */
    uint32_t era_uptime_ppm;     /* the era's weighted challenge pass rate */
    uint32_t era_observed;       /* 1 = the era had challenge results */
    uint32_t qualifying_tier;    /* best tier the era's uptime met; tier_count+1 = none */
    uint32_t slash_reasons;      /* gpurent_tier_slash_reason bits of the era */
    uint32_t points_ppm;         /* the tier's points multiplier */
    gpurent_tier_component components[GPURENT_TIER_COMPONENTS];
    uint32_t up_streak;          /* consecutive eras qualifying higher */
    uint32_t down_streak;        /* consecutive eras below the tier */
    uint32_t eras_in_tier;
    uint32_t incubation_eras;    /* observed eras served since incubation (re)started */
    uint32_t auditors;           /* distinct auditors with a passing full audit (in the window,
                                    since incubation started while incubating) */
    uint64_t stake_micro;
    uint64_t first_era;          /* era of the provider's first evidence */
    /* What it needs to move up (all 0 in tier 1): */
    uint32_t next_tier;          /* tier - 1, or 0 in tier 1 */
    uint32_t need_uptime_ppm;    /* uptime each era must reach */
    uint32_t need_eras;          /* more consecutive qualifying eras */
    uint32_t need_incubation_eras; /* more observed eras in incubation */
    uint32_t need_auditors;      /* more distinct auditors */
} gpurent_tier_explanation;

/** Explain provider `key` (GPURENT_E_UNKNOWN_PROVIDER if the engine has no evidence for it). */
GPURENT_API gpurent_status gpurent_tier_explain(const gpurent_tier_engine *engine, const uint8_t key[GPURENT_KEY_BYTES],
                                                gpurent_tier_explanation *out);

/** How the last evaluated era's evidence was weighed against auditors that
 *  may lie (docs/tiers.md, "Threat model"): the era's two robust uptime
 *  statistics and the failure reports that did not reach the quorum. Lone
 *  reports are kept (they enter the evidence digest and, with k - 1 more
 *  auditors within the window, a decision) but change no tier alone. */
typedef struct gpurent_tier_disputes {
    uint64_t era;               /* the last evaluated era */
    uint32_t quorum;            /* k = quorum_auditors */
    uint32_t sources;           /* auditors with challenge results in the era; evidence recorded without
                                   an auditor (gpurent_tier_record) counts as k */
    uint32_t uptime_low_ppm;    /* k-th lowest source: at least k report this or worse (bad eras, slashes) */
    uint32_t uptime_high_ppm;   /* k-th highest source: at least k vouch for this or better (moving up) */
    uint32_t lone_gpu_report;   /* distinct auditors whose failed GPU-report check, within the window,
                                   is not (yet) confirmed by k */
    uint32_t lone_integrity;    /* the same for the integrity check */
    uint32_t lone_security;     /* the same for the security check */
} gpurent_tier_disputes;

/** The disputes view of provider `key` (GPURENT_E_UNKNOWN_PROVIDER if the
 *  engine has no evidence for it; all zero but `quorum` before the provider's
 *  first evaluated era). Read-only. */
GPURENT_API gpurent_status gpurent_tier_explain_disputes(const gpurent_tier_engine *engine, const uint8_t key[GPURENT_KEY_BYTES],
                                                         gpurent_tier_disputes *out);

/** Failure reports of auditor `key` that a quorum contradicted, since the
 *  engine was created: once per evaluated era, provider and check where the
 *  auditor reported the check FAILED while at least k (quorum_auditors)
 *  other auditors reported the same check PASSED on the same provider in the
 *  same era (saturating at UINT32_MAX). Not part of any certificate: a
 *  record for the network's operators (docs/tiers.md, "Threat model").
 *  GPURENT_E_NOT_FOUND when the engine never recorded an entry of this
 *  auditor. Read-only. */
GPURENT_API gpurent_status gpurent_tier_auditor_contradicted(const gpurent_tier_engine *engine, const uint8_t key[GPURENT_KEY_BYTES],
                                                             uint32_t *contradicted);

/** Render an explanation as readable text (several lines, UTF-8) into `out`
 *  (free with gpurent_buf_free; the text is not NUL-terminated). */
GPURENT_API gpurent_status gpurent_tier_explain_text(const gpurent_tier_explanation *expl, gpurent_buf *out);

/**
 * Build the tier certificate of provider `key` for the last evaluated era.
 * Fails with GPURENT_E_QUORUM_NOT_MET when fewer than quorum_auditors
 * distinct auditors sent a passing full audit (all three checks run and
 * passed) within the window, GPURENT_E_UNKNOWN_PROVIDER when the engine has
 * no evidence for `key`, GPURENT_E_NOT_FOUND when the provider was not
 * evaluated in the last evaluated era. Engines fed the same evidence with the same parameters give
 * byte-identical encodings (gpurent_tier_cert_encode).
 */
GPURENT_API gpurent_status gpurent_tier_certificate(const gpurent_tier_engine *engine, const uint8_t key[GPURENT_KEY_BYTES],
                                                    gpurent_tier_cert *out);

/* ---- signed tier certificates ---- */

/**
 * Build provider `provider_key`'s certificate (gpurent_tier_certificate())
 * and sign it with `key` as a tier-certificate statement: issued at
 * `issued_at`, valid until `expires_at` (Unix seconds, issued_at <
 * expires_at), subject = the provider key, a random nonce. The result is an
 * envelope with one signature, which the other auditors co-sign
 * (gpurent_tier_certificate_cosign()) to reach a quorum. Free `out` with
 * gpurent_buf_free().
 */
GPURENT_API gpurent_status gpurent_tier_certificate_sign(const gpurent_tier_engine *engine, const gpurent_key *key,
                                                         const uint8_t provider_key[GPURENT_KEY_BYTES], uint64_t issued_at,
                                                         uint64_t expires_at, gpurent_buf *out);

/**
 * Co-sign another auditor's signed certificate, after checking it:
 * the envelope must verify against `trust` at `now` +- `skew_s` as a tier
 * certificate from an auditor (statuses of gpurent_envelope_verify(); no
 * replay check), and its payload must be byte for byte the certificate this
 * engine computes for the same provider (GPURENT_E_CERT_MISMATCH otherwise,
 * the detail naming the first field that differs; an engine that has not
 * evaluated the provider in the certificate's era fails the same way).
 * `out` receives the envelope with `key`'s signature added
 * (gpurent_envelope_cosign(): GPURENT_E_EXISTS if `key` already signed).
 */
GPURENT_API gpurent_status gpurent_tier_certificate_cosign(const gpurent_tier_engine *engine, const gpurent_key *key,
                                                           gpurent_trust *trust, const uint8_t *envelope,
                                                           size_t len, uint64_t now, uint32_t skew_s,
                                                           gpurent_buf *out);

/**
 * Verify a signed tier certificate: a tier-certificate statement signed by
 * at least `quorum` (1..GPURENT_ENVELOPE_MAX_SIGS) distinct auditors that
 * `trust` holds with GPURENT_ROLE_AUDITOR, valid at `now` +- `skew_s`
 * (gpurent_envelope_verify() statuses; GPURENT_E_QUORUM_NOT_MET below
 * `quorum`). A certificate is a standing claim that many parties check many
 * times, so no replay check is made. The subject, when not empty, must be
 * the certificate's provider key (GPURENT_E_INVALID_FIELD). On success the
 * certificate is decoded into `out` (may be NULL). Check its era and its
 * params_digest (gpurent_tier_params_digest()) against what you accept.
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_tier_certificate_verify(gpurent_trust *trust, const uint8_t *envelope,
                                                                             size_t len, uint64_t now, uint32_t skew_s,
                                                                             uint32_t quorum, gpurent_tier_cert *out);

/* ---- snapshots (docs/wire-format.md, "Snapshots"; docs/snapshots.md) ---- */

/**
 * Save the engine's whole state (options, providers and their evidence,
 * auditors, the last era's slash events) as a snapshot into `out` (free with
 * gpurent_buf_free()). `input_seq` is stored as given: the sequence number
 * of the last input the state reflects in the embedder's own ordered log,
 * so that a restart replays only what came after it. An engine loaded from
 * the snapshot gives byte-identical certificates, explanations and slash
 * events to this one for the same later evidence. Read-only on the engine.
 */
GPURENT_API gpurent_status gpurent_tier_save(const gpurent_tier_engine *engine, uint64_t input_seq, gpurent_buf *out);

/**
 * Rebuild an engine from a snapshot of gpurent_tier_save(). Nothing in the
 * bytes is trusted: the checksum, the options and every value the engine
 * relies on are checked, and on any failure nothing is loaded (*out = NULL):
 * GPURENT_E_SNAPSHOT_CORRUPT (checksum, inconsistent contents, trailing
 * bytes), GPURENT_E_SNAPSHOT_TRUNCATED, GPURENT_E_SNAPSHOT_KIND (a market
 * or trust store snapshot), GPURENT_E_SNAPSHOT_VERSION (a newer format),
 * GPURENT_E_SNAPSHOT_PARAMS (when `expect` is not NULL and the snapshot's
 * parameters digest differs from the digest of `expect`). The engine takes
 * the options stored in the snapshot. `input_seq` (may be NULL) receives the
 * sequence stored at save time. Free the engine with gpurent_tier_engine_free().
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_tier_load(gpurent_tier_engine **out, const uint8_t *data, size_t len,
                                             const gpurent_tier_options *expect, uint64_t *input_seq);

/** gpurent_tier_save() into the file `path`, written crash-safely: a fresh
 *  temporary file in the same folder (O_EXCL, O_NOFOLLOW, mode 0600),
 *  fsynced, renamed over `path`, then the folder fsynced; a crash leaves the
 *  old snapshot or the new one (GPURENT_E_IO on failure, `path` unchanged). */
GPURENT_API gpurent_status gpurent_tier_save_file(const gpurent_tier_engine *engine, uint64_t input_seq,
                                                  const char *path);

/** gpurent_tier_load() from the file `path` (GPURENT_E_IO when it cannot be read). */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_tier_load_file(gpurent_tier_engine **out, const char *path,
                                                  const gpurent_tier_options *expect, uint64_t *input_seq);

#ifdef __cplusplus
}
#endif
#endif
