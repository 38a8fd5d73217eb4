/* The tier module's records: the auditor's audit report (checks, stake,
 * liveness challenge results, job outcomes) and the tier certificate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_internal.h"

#define N_(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------- audit report ---------------- */

#define AF(key, kind, member, max) GR_FIELD(key, kind, gpurent_audit_report, member, max)
static const gr_field report_fields[] = {
    AF(1, GR_BIN, provider_key, 0),
    AF(2, GR_BIN, auditor_key, 0),
    AF(3, GR_U64, time_s, GPURENT_TIME_MAX_S),
    AF(4, GR_U32, gpu_report, GPURENT_CHECK_FAILED),
    AF(5, GR_U32, integrity, GPURENT_CHECK_FAILED),
    AF(6, GR_U32, security, GPURENT_CHECK_FAILED),
    AF(7, GR_BIN, gpu_report_digest, 0),
    AF(8, GR_U32, stake_observed, 1),
    AF(9, GR_U64, stake_micro, 1ull << 62),
};
#undef AF
#define REPORT_FIELDS 12 /* type + 9 scalars + 2 lists */

#define CF(key, kind, member, max) GR_FIELD(key, kind, gpurent_challenge_result, member, max)
static const gr_field challenge_fields[] = {
    CF(1, GR_U64, time_s, GPURENT_TIME_MAX_S),
    CF(2, GR_U32, kind, GPURENT_CHALLENGE_CPU),
    CF(3, GR_U32, passed, 1),
};
#undef CF

#define JF(key, kind, member, max) GR_FIELD(key, kind, gpurent_job_result, member, max)
static const gr_field job_fields[] = {
    JF(1, GR_STR, job_id, 0),
    JF(2, GR_U64, end_s, GPURENT_TIME_MAX_S),
    JF(3, GR_U32, outcome, GPURENT_JOB_FAILED_USER),
};
#undef JF

/* Canonical orders: challenges by (time_s, kind), jobs by job_id bytes. A
 * pair that compares equal is a repeat, which the record forbids. */
static int challenge_cmp(const void *a, const void *b)
{
    const gpurent_challenge_result *x = a, *y = b;
    if (x->time_s != y->time_s) return x->time_s < y->time_s ? -1 : 1;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    return 0;
}

static int job_cmp(const void *a, const void *b)
{
    const gpurent_job_result *x = a, *y = b;
    return strcmp(x->job_id, y->job_id);
}

GPURENT_API void gpurent_audit_report_init(gpurent_audit_report *report)
{
    if (report) memset(report, 0, sizeof *report);
}

GPURENT_API void gpurent_audit_report_clear(gpurent_audit_report *report)
{
    if (!report) return;
    gr_free(report->challenges);
    gr_free(report->jobs);
    memset(report, 0, sizeof *report);
}

GPURENT_API gpurent_status gpurent_audit_report_add_challenge(gpurent_audit_report *report, uint64_t time_s,
                                                              gpurent_challenge_kind kind, uint32_t passed)
{
    GR_CHECK_ARG(report, "report is NULL");
    if (report->challenge_count >= GPURENT_AUDIT_MAX_CHALLENGES)
        return gr_fail(GPURENT_E_LIMIT, "audit_report.challenges: already %u, the limit", report->challenge_count);
    gpurent_challenge_result *c = gr_realloc(report->challenges, (report->challenge_count + 1) * sizeof *c);
    if (!c) return gr_fail(GPURENT_E_NOMEM, "audit_report.challenges");
    c[report->challenge_count].time_s = time_s;
    c[report->challenge_count].kind = kind;
    c[report->challenge_count].passed = passed;
    report->challenges = c;
    report->challenge_count++;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_audit_report_add_job(gpurent_audit_report *report, const char *job_id,
                                                        uint64_t end_s, gpurent_job_outcome outcome)
{
    GR_CHECK_ARG(report && job_id, "report or job_id is NULL");
    if (report->job_count >= GPURENT_AUDIT_MAX_JOBS)
        return gr_fail(GPURENT_E_LIMIT, "audit_report.jobs: already %u, the limit", report->job_count);
    if (strlen(job_id) >= GPURENT_NAME_MAX)
        return gr_fail(GPURENT_E_INVALID_ARG, "audit_report.jobs: job_id longer than %d bytes", GPURENT_NAME_MAX - 1);
    gpurent_job_result *j = gr_realloc(report->jobs, (report->job_count + 1) * sizeof *j);
    if (!j) return gr_fail(GPURENT_E_NOMEM, "audit_report.jobs");
    memset(&j[report->job_count], 0, sizeof *j);
    strcpy(j[report->job_count].job_id, job_id);
    j[report->job_count].end_s = end_s;
    j[report->job_count].outcome = outcome;
    report->jobs = j;
    report->job_count++;
    return GPURENT_OK;
}

GPURENT_API const gpurent_challenge_result *gpurent_audit_report_challenge(const gpurent_audit_report *report,
                                                                           uint32_t index)
{
    if (!report || index >= report->challenge_count) return NULL;
    return &report->challenges[index];
}

GPURENT_API const gpurent_job_result *gpurent_audit_report_job(const gpurent_audit_report *report, uint32_t index)
{
    if (!report || index >= report->job_count) return NULL;
    return &report->jobs[index];
}

static int check_challenge(const gpurent_challenge_result *c, uint64_t report_time, uint32_t i)
{
    char what[48];
    gr_path(what, sizeof what, "audit_report.challenges", i, "");
    int rc = gr_fields_validate(c, challenge_fields, N_(challenge_fields), what);
    if (rc) return rc;
    if (c->kind == 0) return gr_fail(GPURENT_E_INVALID_FIELD, "%s.kind: 0 is not a challenge kind", what);
    if (c->time_s > report_time)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.time_s: %llu after the report's time_s %llu", what,
                       (unsigned long long)c->time_s, (unsigned long long)report_time);
    return GPURENT_OK;
}

static int check_job(const gpurent_job_result *j, uint64_t report_time, uint32_t i)
{
    char what[48];
    gr_path(what, sizeof what, "audit_report.jobs", i, "");
    int rc = gr_fields_validate(j, job_fields, N_(job_fields), what);
    if (rc) return rc;
    if (j->outcome == 0) return gr_fail(GPURENT_E_INVALID_FIELD, "%s.outcome: 0 is not a job outcome", what);
    if (j->end_s > report_time)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.end_s: %llu after the report's time_s %llu", what,
                       (unsigned long long)j->end_s, (unsigned long long)report_time);
    return GPURENT_OK;
}

/* Sorted copies of the lists (what the encoder writes), or NOMEM. */
static int sorted_lists(const gpurent_audit_report *r, gpurent_challenge_result **cs, gpurent_job_result **js)
{
    *cs = gr_malloc((size_t)r->challenge_count * sizeof **cs);
    *js = gr_malloc((size_t)r->job_count * sizeof **js);
    if (!*cs || !*js) {
        gr_free(*cs);
        gr_free(*js);
        return gr_fail(GPURENT_E_NOMEM, "audit_report: sorting lists");
    }
    if (r->challenge_count) memcpy(*cs, r->challenges, r->challenge_count * sizeof **cs);
    if (r->job_count) memcpy(*js, r->jobs, r->job_count * sizeof **js);
    qsort(*cs, r->challenge_count, sizeof **cs, challenge_cmp);
    qsort(*js, r->job_count, sizeof **js, job_cmp);
    return GPURENT_OK;
}

/* Everything but repeats, which need the sorted lists. */
static int report_check_fields(const gpurent_audit_report *r)
{
    int rc = gr_fields_validate(r, report_fields, N_(report_fields), "audit_report");
    if (rc) return rc;
    if (memcmp(r->provider_key, r->auditor_key, GPURENT_KEY_BYTES) == 0)
        return gr_fail(GPURENT_E_INVALID_FIELD, "audit_report.auditor_key: equals provider_key (self-audit)");
    if (!r->stake_observed && r->stake_micro)
        return gr_fail(GPURENT_E_INVALID_FIELD, "audit_report.stake_micro: must be 0 when stake_observed is 0");
    if (r->challenge_count > GPURENT_AUDIT_MAX_CHALLENGES)
        return gr_fail(GPURENT_E_INVALID_FIELD, "audit_report.challenges: %u above the limit %u", r->challenge_count,
                       GPURENT_AUDIT_MAX_CHALLENGES);
    if (r->job_count > GPURENT_AUDIT_MAX_JOBS)
        return gr_fail(GPURENT_E_INVALID_FIELD, "audit_report.jobs: %u above the limit %u", r->job_count,
                       GPURENT_AUDIT_MAX_JOBS);
    if ((r->challenge_count && !r->challenges) || (r->job_count && !r->jobs))
        return gr_fail(GPURENT_E_INVALID_ARG, "audit_report: a list pointer is NULL with a non-zero count");
    if (!r->gpu_report && !r->integrity && !r->security && !r->stake_observed && !r->challenge_count &&
        !r->job_count)
        return gr_fail(GPURENT_E_INVALID_FIELD, "audit_report: carries no evidence (no check, stake, challenge or job)");
    for (uint32_t i = 0; i < r->challenge_count; i++)
        if ((rc = check_challenge(&r->challenges[i], r->time_s, i))) return rc;
    for (uint32_t i = 0; i < r->job_count; i++)
        if ((rc = check_job(&r->jobs[i], r->time_s, i))) return rc;
    return GPURENT_OK;
}

static int check_repeats(const gpurent_challenge_result *cs, uint32_t nc, const gpurent_job_result *js, uint32_t nj)
{
    for (uint32_t i = 1; i < nc; i++)
        if (challenge_cmp(&cs[i - 1], &cs[i]) == 0)
            return gr_fail(GPURENT_E_INVALID_FIELD, "audit_report.challenges: kind %u at time_s %llu appears twice",
                           cs[i].kind, (unsigned long long)cs[i].time_s);
    for (uint32_t i = 1; i < nj; i++)
        if (job_cmp(&js[i - 1], &js[i]) == 0)
            return gr_fail(GPURENT_E_INVALID_FIELD, "audit_report.jobs: job_id '%s' appears twice", js[i].job_id);
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_audit_report_validate(const gpurent_audit_report *report)
{
    GR_CHECK_ARG(report, "report is NULL");
    int rc = report_check_fields(report);
    if (rc) return rc;
    gpurent_challenge_result *cs;
    gpurent_job_result *js;
    if ((rc = sorted_lists(report, &cs, &js))) return rc;
    rc = check_repeats(cs, report->challenge_count, js, report->job_count);
    gr_free(cs);
    gr_free(js);
    return rc;
}

GPURENT_API gpurent_status gpurent_audit_report_encode(const gpurent_audit_report *report, gpurent_buf *out)
{
    GR_CHECK_ARG(report && out, "report or out is NULL");
    int rc = report_check_fields(report);
    if (rc) return rc;
    gpurent_challenge_result *cs;
    gpurent_job_result *js;
    if ((rc = sorted_lists(report, &cs, &js))) return rc;
    if ((rc = check_repeats(cs, report->challenge_count, js, report->job_count))) {
        gr_free(cs);
        gr_free(js);
        return rc;
    }
    gr_writer w;
    gr_wr_init(&w);
    gr_wr_map(&w, REPORT_FIELDS);
    gr_wr_uint(&w, 0);
    gr_wr_uint(&w, GPURENT_RECORD_AUDIT_REPORT);
    gr_wr_fields(&w, report, report_fields, N_(report_fields));
    gr_wr_uint(&w, 10);
    gr_wr_array(&w, report->challenge_count);
    for (uint32_t i = 0; i < report->challenge_count; i++) {
        gr_wr_map(&w, N_(challenge_fields));
        gr_wr_fields(&w, &cs[i], challenge_fields, N_(challenge_fields));
    }
    gr_wr_uint(&w, 11);
    gr_wr_array(&w, report->job_count);
    for (uint32_t i = 0; i < report->job_count; i++) {
        gr_wr_map(&w, N_(job_fields));
        gr_wr_fields(&w, &js[i], job_fields, N_(job_fields));
    }
    gr_free(cs);
    gr_free(js);
    return gr_wr_finish(&w, out);
}

/* Read one list item: a map of exactly `n` fields from the table. */
static int read_item(gr_reader *r, void *item, const gr_field *f, uint32_t n, const char *list, uint32_t i)
{
    char what[48];
    uint32_t count;
    snprintf(what, sizeof what, "audit_report.%s[%u]", list, i);
    const char *saved = r->what;
    r->what = what;
    int rc = gr_rd_map(r, &count);
    if (!rc && count != n)
        rc = gr_fail(GPURENT_E_INVALID_FIELD, "%s: %u fields, expected %u", what, count, n);
    if (!rc) rc = gr_rd_fields(r, item, f, n);
    r->what = saved;
    return rc;
}

/* Read a list header with its bound; allocate the items. */
static int read_list_head(gr_reader *r, uint64_t key, const char *name, uint32_t max, size_t item_size,
                          uint32_t *count, void **items)
{
    int rc = gr_rd_key(r, key, name);
    if (!rc) rc = gr_rd_array(r, count); /* bounded by the bytes left */
    if (rc) return rc;
    if (*count > max)
        return gr_fail(GPURENT_E_OVERSIZE, "audit_report.%s: %u items above the limit %u", name, *count, max);
    *items = gr_calloc(*count, item_size);
    return *items ? GPURENT_OK : gr_fail(GPURENT_E_NOMEM, "audit_report.%s", name);
}

static int read_report_lists(gr_reader *r, gpurent_audit_report *o)
{
    uint32_t n;
    void *items;
    int rc = read_list_head(r, 10, "challenges", GPURENT_AUDIT_MAX_CHALLENGES, sizeof *o->challenges, &n, &items);
    if (rc) return rc;
    o->challenges = items;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = read_item(r, &o->challenges[i], challenge_fields, N_(challenge_fields), "challenges", i))) return rc;
        o->challenge_count = i + 1;
        if (i && challenge_cmp(&o->challenges[i - 1], &o->challenges[i]) >= 0)
            return gr_fail(GPURENT_E_NONCANONICAL, "audit_report.challenges[%u]: not after the previous item", i);
    }
    if ((rc = read_list_head(r, 11, "jobs", GPURENT_AUDIT_MAX_JOBS, sizeof *o->jobs, &n, &items))) return rc;
    o->jobs = items;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = read_item(r, &o->jobs[i], job_fields, N_(job_fields), "jobs", i))) return rc;
        o->job_count = i + 1;
        if (i && job_cmp(&o->jobs[i - 1], &o->jobs[i]) >= 0)
            return gr_fail(GPURENT_E_NONCANONICAL, "audit_report.jobs[%u]: not after the previous item", i);
    }
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_audit_report_decode(const uint8_t *data, size_t len, gpurent_audit_report *out)
{
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    GR_CHECK_ARG(out, "out is NULL");
    gr_reader r;
    gpurent_audit_report o;
    gpurent_audit_report_init(&o);
    gr_rd_init(&r, data, len, "audit_report");
    int rc = gr_rd_record(&r, REPORT_FIELDS, GPURENT_RECORD_AUDIT_REPORT);
    if (!rc) rc = gr_rd_fields(&r, &o, report_fields, N_(report_fields));
    if (!rc) rc = read_report_lists(&r, &o);
    if (!rc) rc = gr_rd_end(&r);
    if (!rc) rc = report_check_fields(&o); /* cross-field rules; order was checked while reading */
    if (rc) {
        gpurent_audit_report_clear(&o);
        return rc;
    }
    *out = o;
    return GPURENT_OK;
}

/* ---------------- tier certificate ---------------- */

#define TF(key, kind, member, max) GR_FIELD(key, kind, gpurent_tier_cert, member, max)
static const gr_field cert_fields[] = {
    TF(1, GR_BIN, provider_key, 0),
    TF(2, GR_U64, era, UINT32_MAX),
    TF(3, GR_U32, tier, GPURENT_TIER_MAX_TIERS),
    TF(4, GR_U32, incubating, 1),
    TF(5, GR_U32, score_ppm, 1000000),
    TF(6, GR_U32, mean_ppm, 1000000),
    TF(7, GR_U32, confidence_ppm, 1000000),
    TF(8, GR_U32, uptime_ppm, 1000000),
    TF(9, GR_U32, eras_in_tier, UINT32_MAX),
    TF(10, GR_U32, points_ppm, 100000000),
    TF(11, GR_BIN, evidence_digest, 0),
    TF(12, GR_BIN, params_digest, 0),
};
#undef TF
#define CERT_FIELDS 14 /* type + 12 scalars + auditors */

GPURENT_API gpurent_status gpurent_tier_cert_validate(const gpurent_tier_cert *c)
{
    GR_CHECK_ARG(c, "cert is NULL");
    int rc = gr_fields_validate(c, cert_fields, N_(cert_fields), "tier_cert");
    if (rc) return rc;
    if (c->tier == 0) return gr_fail(GPURENT_E_INVALID_FIELD, "tier_cert.tier: 0, tiers start at 1");
    if (c->score_ppm > c->mean_ppm)
        return gr_fail(GPURENT_E_INVALID_FIELD, "tier_cert.score_ppm: %u above mean_ppm %u", c->score_ppm, c->mean_ppm);
    /* Derived, not chosen: one (score, mean) pair has one certificate. */
    uint32_t confidence = c->mean_ppm ? (uint32_t)((uint64_t)c->score_ppm * 1000000u / c->mean_ppm) : 0;
    if (c->confidence_ppm != confidence)
        return gr_fail(GPURENT_E_INVALID_FIELD,
                       "tier_cert.confidence_ppm: %u, but floor(score_ppm x 10^6 / mean_ppm) gives %u",
                       c->confidence_ppm, confidence);
    if (c->auditor_count == 0 || c->auditor_count > GPURENT_TIER_CERT_MAX_AUDITORS)
        return gr_fail(GPURENT_E_INVALID_FIELD, "tier_cert.auditors: %u auditors, allowed 1..%u", c->auditor_count,
                       GPURENT_TIER_CERT_MAX_AUDITORS);
    for (uint32_t i = 0; i < c->auditor_count; i++) {
        if (i && memcmp(c->auditors[i - 1], c->auditors[i], GPURENT_KEY_BYTES) >= 0)
            return gr_fail(GPURENT_E_INVALID_FIELD, "tier_cert.auditors[%u]: not above the previous key", i);
        if (memcmp(c->auditors[i], c->provider_key, GPURENT_KEY_BYTES) == 0)
            return gr_fail(GPURENT_E_INVALID_FIELD, "tier_cert.auditors[%u]: the provider itself", i);
    }
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_tier_cert_encode(const gpurent_tier_cert *cert, gpurent_buf *out)
{
    GR_CHECK_ARG(cert && out, "cert or out is NULL");
    int rc = gpurent_tier_cert_validate(cert);
    if (rc) return rc;
    gr_writer w;
    gr_wr_init(&w);
    gr_wr_map(&w, CERT_FIELDS);
    gr_wr_uint(&w, 0);
    gr_wr_uint(&w, GPURENT_RECORD_TIER_CERT);
    gr_wr_fields(&w, cert, cert_fields, N_(cert_fields));
    gr_wr_uint(&w, 13);
    gr_wr_array(&w, cert->auditor_count);
    for (uint32_t i = 0; i < cert->auditor_count; i++) gr_wr_bin(&w, cert->auditors[i], GPURENT_KEY_BYTES);
    return gr_wr_finish(&w, out);
}

GPURENT_API gpurent_status gpurent_tier_cert_decode(const uint8_t *data, size_t len, gpurent_tier_cert *out)
{
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    GR_CHECK_ARG(out, "out is NULL");
    gr_reader r;
    gpurent_tier_cert c;
    uint32_t n = 0;
    memset(&c, 0, sizeof c);
    gr_rd_init(&r, data, len, "tier_cert");
    int rc = gr_rd_record(&r, CERT_FIELDS, GPURENT_RECORD_TIER_CERT);
    if (!rc) rc = gr_rd_fields(&r, &c, cert_fields, N_(cert_fields));
    if (!rc) rc = gr_rd_key(&r, 13, "auditors");
    if (!rc) rc = gr_rd_array(&r, &n);
    if (!rc && (n == 0 || n > GPURENT_TIER_CERT_MAX_AUDITORS))
        rc = gr_fail(GPURENT_E_OVERSIZE, "tier_cert.auditors: %u auditors, allowed 1..%u", n,
                     GPURENT_TIER_CERT_MAX_AUDITORS);
    for (uint32_t i = 0; !rc && i < n; i++) {
        const uint8_t *b;
        uint32_t blen;
        rc = gr_rd_bin(&r, &b, &blen, GPURENT_KEY_BYTES);
        if (!rc && blen != GPURENT_KEY_BYTES)
            rc = gr_fail(GPURENT_E_INVALID_FIELD, "tier_cert.auditors[%u]: %u bytes, expected %d", i, blen,
                         GPURENT_KEY_BYTES);
        if (!rc) memcpy(c.auditors[i], b, GPURENT_KEY_BYTES);
    }
    c.auditor_count = n;
    if (!rc) rc = gr_rd_end(&r);
    if (!rc) rc = gpurent_tier_cert_validate(&c);
    if (!rc) *out = c;
    return rc;
}
