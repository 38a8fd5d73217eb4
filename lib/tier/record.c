/* Recording verified evidence: all-or-nothing, order-independent.
 *
 * Every call checks everything first and reserves room for new providers,
 * then applies changes that cannot fail. Counts are saturating sums and the
 * stake keeps the observation with the latest time (ties: the larger value),
 * so any order of the same evidence leaves the same state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tier_internal.h"

static inline void sat_add(uint16_t *c)
{
    if (*c != UINT16_MAX) (*c)++;
}

static void note_era(gr_prov *p, uint64_t era)
{
    if (era < p->first_era) p->first_era = era;
}

/* Stake seen in an open era waits beside that era's counts: evaluating an
 * era must not see stake observed after it. */
static void apply_stake(const gpurent_tier_engine *e, gr_prov *p, uint64_t time_s, uint64_t stake)
{
    uint64_t era = (time_s - e->o.genesis_s) / e->o.era_s;
    gr_stake obs = {time_s, stake, 1};
    gr_stake_merge(&p->open_stake[era % GR_TIER_OPEN_ERAS], &obs);
}

static void apply_challenge(gr_slot *s, uint32_t kind, int passed)
{
    if (kind == GPURENT_CHALLENGE_GPU) sat_add(passed ? &s->gpu_pass : &s->gpu_fail);
    else sat_add(passed ? &s->cpu_pass : &s->cpu_fail);
}

static void apply_job(gr_slot *s, uint32_t outcome)
{
    if (outcome == GPURENT_JOB_COMPLETED) sat_add(&s->job_ok);
    else if (outcome == GPURENT_JOB_FAILED_PROVIDER) sat_add(&s->job_fail);
    else sat_add(&s->job_user);
}

/* The open eras as a time range [lo, hi) split at mid, so that an event's
 * era needs two comparisons instead of a division. 0 when the range does
 * not fit in 64 bits (then every event takes gr_era_ok's division). */
typedef struct open_window {
    uint64_t lo, mid, hi;
    int ok;
} open_window;

static open_window window_of(const gpurent_tier_engine *e)
{
    open_window w = {0, 0, 0, 0};
    uint64_t g = e->o.genesis_s, s = e->o.era_s, x = e->next_era;
    if (GR_TIER_OPEN_ERAS != 2 || s == 0) return w;
    uint64_t eras = (UINT64_MAX - g) / s; /* whole eras after genesis that fit */
    if (eras < 2 || x > eras - 2) return w;
    w.lo = g + x * s;
    w.mid = w.lo + s;
    w.hi = w.mid + s;
    w.ok = 1;
    return w;
}

/* Checks one event and gives its era as an offset from the next era to
 * evaluate; the failure message (and its formatting cost) only on failure. */
static int check_event(const gpurent_tier_engine *e, const open_window *w, const gpurent_tier_event *ev, size_t i,
                       uint8_t *eoff)
{
    int ok;
    switch (ev->kind) {
    case GPURENT_TIER_EVENT_GPU_CHALLENGE:
    case GPURENT_TIER_EVENT_CPU_CHALLENGE: ok = ev->value <= 1; break;
    case GPURENT_TIER_EVENT_JOB: ok = ev->value >= GPURENT_JOB_COMPLETED && ev->value <= GPURENT_JOB_FAILED_USER; break;
    case GPURENT_TIER_EVENT_STAKE: ok = ev->value <= (1ull << 62); break;
    default: return gr_fail(GPURENT_E_INVALID_ARG, "tier events[%zu].kind: %u unknown", i, ev->kind);
    }
    if (!ok)
        return gr_fail(GPURENT_E_INVALID_ARG, "tier events[%zu].value: %llu out of range for kind %u", i,
                       (unsigned long long)ev->value, ev->kind);
    if (ev->reserved) return gr_fail(GPURENT_E_INVALID_ARG, "tier events[%zu].reserved: must be 0", i);
    if (w->ok && ev->time_s >= w->lo && ev->time_s < w->hi) {
        *eoff = ev->time_s >= w->mid;
        return GPURENT_OK;
    }
    uint64_t era;
    if (gr_era_ok(e, ev->time_s, &era)) {
        *eoff = (uint8_t)(era - e->next_era);
        return GPURENT_OK;
    }
    char what[48];
    snprintf(what, sizeof what, "tier events[%zu]", i);
    return gr_era_open(e, ev->time_s, &era, what);
}

/* Resolve each event's provider (-1 = not known yet) and count exactly how
 * many providers the batch would create. Events for one provider usually
 * come together, so a repeated key costs no lookup; unknown keys are
 * copied and sorted to count each once.
 *
 * Events in random order make each lookup a cache miss (the table and the
 * keys of 100 000 providers are megabytes), so keys are looked up in
 * groups: hash the group and prefetch each table entry, then prefetch the
 * keys those entries name, then compare. The misses of a group overlap
 * instead of following one another. */
typedef struct key32 { uint8_t b[32]; } key32;

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif
#define GROUP 128 /* events per lookup group */
#define AHEAD 12  /* events between a state prefetch and its use */

static int key32_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static inline int same_key(const gpurent_tier_event *ev, size_t i)
{
    return i && memcmp(ev[i].provider_key, ev[i - 1].provider_key, 32) == 0;
}

static void lookup_group(const gpurent_tier_engine *e, const gpurent_tier_event *ev, size_t c0, size_t c1,
                         int32_t *idx)
{
    uint32_t h[GROUP];
    const uint32_t *table = e->table;
    for (size_t i = c0; i < c1; i++) {
        if (same_key(ev, i) && i > c0) { h[i - c0] = h[i - c0 - 1]; continue; }
        h[i - c0] = gr_tier_hash(e, ev[i].provider_key);
        if (table) PREFETCH(&table[h[i - c0] & e->table_mask]);
    }
    if (table)
        for (size_t i = c0; i < c1; i++) {
            uint32_t t = table[h[i - c0] & e->table_mask];
            if (t) PREFETCH(e->keys[t - 1]);
        }
    for (size_t i = c0; i < c1; i++)
        idx[i] = same_key(ev, i) ? idx[i - 1] : gr_tier_find_hashed(e, ev[i].provider_key, h[i - c0]);
}

static int resolve(const gpurent_tier_engine *e, const gpurent_tier_event *ev, size_t n, int32_t *idx, uint32_t *out)
{
    size_t runs = 0, cap = 0;
    key32 *keys = NULL;
    *out = 0;
    for (size_t c0 = 0; c0 < n; c0 += GROUP) lookup_group(e, ev, c0, c0 + GROUP < n ? c0 + GROUP : n, idx);
    for (size_t i = 0; i < n; i++) {
        if (idx[i] >= 0 || (same_key(ev, i))) continue;
        if (runs == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            key32 *t = gr_realloc(keys, ncap * sizeof *t);
            if (!t) { gr_free(keys); return gr_fail(GPURENT_E_NOMEM, "tier events: new providers"); }
            keys = t;
            cap = ncap;
        }
        memcpy(keys[runs++].b, ev[i].provider_key, 32);
    }
    if (runs > 1) qsort(keys, runs, sizeof *keys, key32_cmp);
    uint32_t fresh = 0;
    for (size_t i = 0; i < runs; i++) fresh += i == 0 || memcmp(keys[i].b, keys[i - 1].b, 32) != 0;
    gr_free(keys);
    *out = fresh;
    return GPURENT_OK;
}

static void apply_event(gpurent_tier_engine *e, uint32_t p, const gpurent_tier_event *ev, uint64_t era)
{
    gr_prov *pr = &e->prov[p];
    note_era(pr, era);
    gr_slot *s = gr_slot_at(e, p, era);
    switch (ev->kind) {
    case GPURENT_TIER_EVENT_GPU_CHALLENGE: apply_challenge(s, GPURENT_CHALLENGE_GPU, ev->value != 0); break;
    case GPURENT_TIER_EVENT_CPU_CHALLENGE: apply_challenge(s, GPURENT_CHALLENGE_CPU, ev->value != 0); break;
    case GPURENT_TIER_EVENT_JOB: apply_job(s, (uint32_t)ev->value); break;
    default: apply_stake(e, pr, ev->time_s, ev->value); break;
    }
}

/* The unverified calls are for engines that asked for them. */
static int unverified_ok(const gpurent_tier_engine *e, const char *call)
{
    if (e->o.unverified_evidence) return GPURENT_OK;
    return gr_fail(GPURENT_E_EVIDENCE_REJECTED,
                   "%s: this engine takes signed evidence only (gpurent_tier_record_signed); "
                   "tier_options.unverified_evidence = 1 lets it take evidence verified elsewhere",
                   call);
}

GPURENT_API gpurent_status gpurent_tier_record(gpurent_tier_engine *e, const gpurent_tier_event *ev, size_t n)
{
    GR_CHECK_ARG(e, "engine is NULL");
    GR_CHECK_ARG(ev || n == 0, "events is NULL");
    int urc = unverified_ok(e, "tier record");
    if (urc) return urc;
    /* Per event: its provider index and its era as an offset from the next
     * era to evaluate (0 or 1: only GR_TIER_OPEN_ERAS eras are open). */
    int32_t small[256], *idx = small;
    uint8_t small_era[256], *eoff = small_era;
    if (n > 256) {
        idx = gr_malloc(n * sizeof *idx);
        eoff = gr_malloc(n);
        if (!idx || !eoff) {
            gr_free(idx);
            gr_free(eoff);
            return gr_fail(GPURENT_E_NOMEM, "tier events: %zu provider indices", n);
        }
    }
    int rc = GPURENT_OK;
    open_window w = window_of(e);
    for (size_t i = 0; i < n && !rc; i++) rc = check_event(e, &w, &ev[i], i, &eoff[i]);
    uint32_t fresh = 0;
    if (!rc) rc = resolve(e, ev, n, idx, &fresh);
    if (!rc && fresh) rc = gr_tier_reserve(e, fresh);
    uint32_t p = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        size_t a = i + AHEAD;
        if (a < n && idx[a] >= 0 && (idx[a] != idx[a - 1])) {
            PREFETCH(gr_slot_at(e, (uint32_t)idx[a], e->next_era + eoff[a]));
            PREFETCH(&e->prov[idx[a]].first_era);
        }
        if (idx[i] >= 0) p = (uint32_t)idx[i];
        else if (!same_key(ev, i) || idx[i - 1] >= 0)
            p = gr_tier_get_or_add(e, ev[i].provider_key); /* new: created once, found after */
        apply_event(e, p, &ev[i], e->next_era + eoff[i]);
    }
    if (idx != small) {
        gr_free(idx);
        gr_free(eoff);
    }
    return rc;
}

/* Audit entries sort by era, then auditor key: one entry per pair, so the
 * stored list (and the evidence digest) ignores arrival order. */
static int audit_cmp(const gpurent_tier_engine *e, const gr_audit *a, const gr_audit *b)
{
    if (a->era != b->era) return a->era < b->era ? -1 : 1;
    return a->auditor == b->auditor ? 0 : memcmp(e->akeys[a->auditor], e->akeys[b->auditor], 32);
}

/* Position of the entry for (a->era, a->auditor), or where it would go. */
static uint32_t audit_find(const gpurent_tier_engine *e, const gr_prov *p, const gr_audit *a, int *found)
{
    uint32_t lo = 0, hi = p->naudits;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        int c = audit_cmp(e, &p->audits[mid], a);
        if (c == 0) { *found = 1; return mid; }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = 0;
    return lo;
}

/* Room for `fresh` new entries. The cap is per provider, but an auditor
 * holds one entry per era, so it is reached only by
 * GR_TIER_MAX_AUDITS / (window + 2) distinct auditors (128 with the
 * defaults), and an auditor that already has its entry for the era is never
 * refused: its report merges. */
static int reserve_audit(gr_prov *p, uint32_t fresh)
{
    if (p->naudits + fresh > GR_TIER_MAX_AUDITS)
        return gr_fail(GPURENT_E_LIMIT, "tier engine: %u audit entries (one per auditor and era) kept for one "
                       "provider, the limit", p->naudits);
    if (p->naudits + fresh <= p->audit_cap) return GPURENT_OK;
    uint32_t cap = p->audit_cap ? p->audit_cap * 2 : 4;
    while (cap < p->naudits + fresh) cap *= 2;
    gr_audit *a = gr_realloc(p->audits, cap * sizeof *a);
    if (!a) return gr_fail(GPURENT_E_NOMEM, "tier engine: audit list");
    p->audits = a;
    p->audit_cap = cap;
    return GPURENT_OK;
}

/* FAILED over PASSED over NOT_RUN: commutative, so the order of one
 * auditor's reports does not matter, and a failure is never hidden by a
 * pass from the same auditor. */
static uint8_t merge_check(uint8_t a, uint8_t b)
{
    if (a == GPURENT_CHECK_FAILED || b == GPURENT_CHECK_FAILED) return GPURENT_CHECK_FAILED;
    if (a == GPURENT_CHECK_PASSED || b == GPURENT_CHECK_PASSED) return GPURENT_CHECK_PASSED;
    return a > b ? a : b;
}

static inline uint16_t sat_sum(uint16_t a, uint16_t b)
{
    return (uint32_t)a + b > UINT16_MAX ? UINT16_MAX : (uint16_t)(a + b);
}

static void merge_audit(gr_audit *into, const gr_audit *a)
{
    into->gpu = merge_check(into->gpu, a->gpu);
    into->integrity = merge_check(into->integrity, a->integrity);
    into->security = merge_check(into->security, a->security);
    into->gpu_pass = sat_sum(into->gpu_pass, a->gpu_pass);
    into->gpu_fail = sat_sum(into->gpu_fail, a->gpu_fail);
    into->cpu_pass = sat_sum(into->cpu_pass, a->cpu_pass);
    into->cpu_fail = sat_sum(into->cpu_fail, a->cpu_fail);
}

static void put_audit(const gpurent_tier_engine *e, gr_prov *p, const gr_audit *a)
{
    int found;
    uint32_t at = audit_find(e, p, a, &found);
    if (found) {
        merge_audit(&p->audits[at], a);
        return;
    }
    memmove(&p->audits[at + 1], &p->audits[at], (p->naudits - at) * sizeof *a);
    p->audits[at] = *a;
    p->naudits++;
}

static int check_time(const gpurent_tier_engine *e, uint64_t time_s, const char *list, uint32_t i)
{
    uint64_t x;
    if (gr_era_ok(e, time_s, &x)) return GPURENT_OK;
    char what[48];
    snprintf(what, sizeof what, "audit_report.%s[%u]", list, i);
    return gr_era_open(e, time_s, &x, what);
}

static int check_report_times(const gpurent_tier_engine *e, const gpurent_audit_report *r, uint64_t *era)
{
    int rc = gr_era_open(e, r->time_s, era, "audit_report.time_s");
    for (uint32_t i = 0; !rc && i < r->challenge_count; i++) rc = check_time(e, r->challenges[i].time_s, "challenges", i);
    for (uint32_t i = 0; !rc && i < r->job_count; i++) rc = check_time(e, r->jobs[i].end_s, "jobs", i);
    return rc;
}

/* The report's evidence as one entry per open era: its checks in the
 * report's era, its challenges in theirs. */
static void plan_entries(const gpurent_tier_engine *e, const gpurent_audit_report *r, uint64_t era,
                         gr_report_plan *plan)
{
    for (uint32_t i = 0; i < GR_TIER_OPEN_ERAS; i++) plan->entry[i].era = e->next_era + i;
    gr_audit *own = &plan->entry[era - e->next_era];
    own->gpu = (uint8_t)r->gpu_report;
    own->integrity = (uint8_t)r->integrity;
    own->security = (uint8_t)r->security;
    if (r->gpu_report || r->integrity || r->security) plan->want |= 1u << (era - e->next_era);
    for (uint32_t i = 0; i < r->challenge_count; i++) {
        uint64_t off = (r->challenges[i].time_s - e->o.genesis_s) / e->o.era_s - e->next_era;
        gr_audit *a = &plan->entry[off];
        uint16_t *c = r->challenges[i].kind == GPURENT_CHALLENGE_GPU ? (r->challenges[i].passed ? &a->gpu_pass : &a->gpu_fail)
                                                                     : (r->challenges[i].passed ? &a->cpu_pass : &a->cpu_fail);
        if (*c != UINT16_MAX) (*c)++;
        plan->want |= 1u << off;
    }
}

/* Everything recording a report can fail on, done before any change (room
 * is reserved for the auditor, the provider and its entries; the auditor is
 * added by gr_report_apply(), since a known auditor shows in snapshots and
 * answers); gr_report_apply() then cannot fail. */
int gr_report_prepare(gpurent_tier_engine *e, const gpurent_audit_report *r, gr_report_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    int rc = gpurent_audit_report_validate(r);
    uint64_t era = 0;
    if (!rc) rc = check_report_times(e, r, &era);
    if (rc) return rc;
    plan_entries(e, r, era, plan);
    if (!plan->want) return gr_tier_find(e, r->provider_key) < 0 ? gr_tier_reserve(e, 1) : GPURENT_OK;
    uint32_t auditor;
    if ((rc = gr_auditor_prepare(e, r->auditor_key, &auditor, &plan->new_auditor))) return rc;
    for (uint32_t i = 0; i < GR_TIER_OPEN_ERAS; i++) plan->entry[i].auditor = auditor;
    int found = gr_tier_find(e, r->provider_key);
    if (found < 0) {
        if ((rc = gr_tier_reserve(e, 1))) return rc;
        if (!(plan->first_audits = gr_malloc(4 * sizeof *plan->first_audits)))
            return gr_fail(GPURENT_E_NOMEM, "tier engine: audit list");
        return GPURENT_OK;
    }
    uint32_t fresh = 0;
    for (uint32_t i = 0; i < GR_TIER_OPEN_ERAS; i++) {
        int have;
        if (plan->want >> i & 1) audit_find(e, &e->prov[found], &plan->entry[i], &have), fresh += !have;
    }
    return fresh ? reserve_audit(&e->prov[found], fresh) : GPURENT_OK;
}

void gr_report_abort(gr_report_plan *plan)
{
    gr_free(plan->first_audits);
    plan->first_audits = NULL;
}

/* The engine must not have changed since gr_report_prepare() for this report. */
void gr_report_apply(gpurent_tier_engine *e, const gpurent_audit_report *r, gr_report_plan *plan)
{
    if (plan->new_auditor) gr_auditor_commit(e, plan->entry[0].auditor);
    plan->new_auditor = 0;
    uint32_t p = gr_tier_get_or_add(e, r->provider_key);
    gr_prov *pr = &e->prov[p];
    if (plan->first_audits) {
        pr->audits = plan->first_audits;
        pr->audit_cap = 4;
        plan->first_audits = NULL;
    }
    note_era(pr, (r->time_s - e->o.genesis_s) / e->o.era_s);
    for (uint32_t i = 0; i < GR_TIER_OPEN_ERAS; i++)
        if (plan->want >> i & 1) put_audit(e, pr, &plan->entry[i]);
    if (r->stake_observed) apply_stake(e, pr, r->time_s, r->stake_micro);
    for (uint32_t i = 0; i < r->challenge_count; i++) note_era(pr, (r->challenges[i].time_s - e->o.genesis_s) / e->o.era_s);
    for (uint32_t i = 0; i < r->job_count; i++) {
        uint64_t x = (r->jobs[i].end_s - e->o.genesis_s) / e->o.era_s;
        note_era(pr, x);
        apply_job(gr_slot_at(e, p, x), r->jobs[i].outcome);
    }
}

GPURENT_API gpurent_status gpurent_tier_record_report(gpurent_tier_engine *e, const gpurent_audit_report *r)
{
    GR_CHECK_ARG(e && r, "engine or report is NULL");
    int rc = unverified_ok(e, "tier record_report");
    if (rc) return rc;
    gr_report_plan plan;
    rc = gr_report_prepare(e, r, &plan);
    if (rc) return rc;
    gr_report_apply(e, r, &plan);
    return GPURENT_OK;
}
