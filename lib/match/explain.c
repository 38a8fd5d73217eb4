/* Explanations: why a request matches what it matches, or why nothing.
 * A full scan (explanations are rare and must count every node): every
 * constraint is checked on every node, nodes failing a single constraint
 * drive the relaxations, nodes failing the fewest are the nearest misses. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "match_internal.h"
#include "models_internal.h"

static const char *const cnames[GPURENT_MC_COUNT] = {
    "kind", "model", "vram", "cc", "fp32", "interface", "cuda", "price", "tier", "verified",
    "region", "provider", "duration", "cpu", "ram", "disk", "gpus", "busy", "gang"};

/* How the text names the nodes a constraint eliminated. */
static const char *const cphrase[GPURENT_MC_COUNT] = {
    "of the wrong kind (shared vs dedicated)",
    "not an allowed model",
    "below the VRAM minimum",
    "below the compute capability minimum",
    "below the FP32 throughput minimum",
    "with the wrong interface",
    "below the CUDA version minimum",
    "above the price cap",
    "in a tier not allowed",
    "without a verified GPU report",
    "outside the allowed regions",
    "from providers not allowed",
    "whose duration limits exclude it",
    "short of CPU",
    "short of RAM",
    "short of disk",
    "with too few GPUs per node",
    "busy (not enough free now)",
    "that cannot form the gang"};

GPURENT_API const char *gpurent_match_constraint_name(int c)
{
    return c >= 0 && c < GPURENT_MC_COUNT ? cnames[c] : "unknown";
}

/* ---- per-constraint relaxation search ---- */

typedef struct relax_acc {
    uint64_t best;      /* the relaxed value that admits the first node */
    uint32_t have;
} relax_acc;

static int popcount32(uint32_t v)
{
    int c = 0;
    while (v) {
        v &= v - 1;
        c++;
    }
    return c;
}

/* The value a node would need the request's constraint `c` to take. */
static uint64_t node_value(const gpurent_market *m, const mreq *q, const mnode *n, uint32_t c)
{
    const mprov *p = &m->provs[n->provider];
    switch (c) {
    case GPURENT_MC_PRICE: return n->price;
    case GPURENT_MC_VRAM: return n->vram_mib;
    case GPURENT_MC_CC: return n->cc;
    case GPURENT_MC_FP32: return n->gflops;
    case GPURENT_MC_CUDA: return n->cuda;
    case GPURENT_MC_CPU: return n->cpu;
    case GPURENT_MC_RAM: return n->ram_mib;
    case GPURENT_MC_DISK: return n->disk_gib;
    case GPURENT_MC_GPUS: return n->gpu_count;
    case GPURENT_MC_DURATION: return q->duration < p->min_dur ? p->min_dur : p->max_dur;
    default: return 0;
    }
}

static uint64_t req_value(const mreq *q, uint32_t c)
{
    switch (c) {
    case GPURENT_MC_PRICE: return q->max_price;
    case GPURENT_MC_VRAM: return q->min_vram;
    case GPURENT_MC_CC: return q->cc;
    case GPURENT_MC_FP32: return q->min_gflops;
    case GPURENT_MC_CUDA: return q->cuda;
    case GPURENT_MC_CPU: return q->cpu;
    case GPURENT_MC_RAM: return q->ram;
    case GPURENT_MC_DISK: return q->disk;
    case GPURENT_MC_GPUS: return q->share ? 0 : q->gpu_count / q->gang_nodes;
    case GPURENT_MC_DURATION: return q->duration;
    default: return 0;
    }
}

/* Numeric constraints: raising (price) or lowering (the rest) the request's
 * value to `to`; the smallest change that admits a node. */
static int numeric(uint32_t c)
{
    return c == GPURENT_MC_PRICE || c == GPURENT_MC_VRAM || c == GPURENT_MC_CC || c == GPURENT_MC_FP32 ||
           c == GPURENT_MC_CUDA || c == GPURENT_MC_CPU || c == GPURENT_MC_RAM || c == GPURENT_MC_DISK ||
           c == GPURENT_MC_GPUS || c == GPURENT_MC_DURATION;
}

static int admits(const mreq *q, uint32_t c, uint64_t to, uint64_t v, const mprov *p)
{
    if (c == GPURENT_MC_PRICE) return v <= to;
    if (c == GPURENT_MC_DURATION) return to >= p->min_dur && (!p->max_dur || to <= p->max_dur);
    return v >= to;
}

/* The item (name) a list relaxation adds, as an id. */
static uint32_t item_of(const gpurent_market *m, const mnode *n, uint32_t c)
{
    const mprov *p = &m->provs[n->provider];
    switch (c) {
    case GPURENT_MC_MODEL: return n->model;
    case GPURENT_MC_REGION: return p->region;
    case GPURENT_MC_TIER: return p->tier;
    default: return 0;
    }
}

typedef struct ex_ctx {
    const gpurent_market *m;
    const mreq *q;
    uint32_t *only;       /* nodes failing exactly one constraint */
    uint32_t only_len;
    uint32_t *mark;       /* per provider: last pass that counted it */
    uint32_t pass;
} ex_ctx;

static void count_admitted(ex_ctx *x, uint32_t c, uint64_t to, uint32_t item, int by_item, uint32_t *nodes,
                           uint32_t *provs)
{
    x->pass++;
    *nodes = *provs = 0;
    for (uint32_t i = 0; i < x->only_len; i++) {
        const mnode *n = &x->m->nodes[x->only[i] >> 5];
        if ((x->only[i] & 31u) != c) continue;
        int ok = by_item ? item_of(x->m, n, c) == item
                         : (!numeric(c) || admits(x->q, c, to, node_value(x->m, x->q, n, c), &x->m->provs[n->provider]));
        if (!ok) continue;
        (*nodes)++;
        if (x->mark[n->provider] != x->pass) {
            x->mark[n->provider] = x->pass;
            (*provs)++;
        }
    }
}

static void relax_one(ex_ctx *x, uint32_t c, gpurent_match_explain *out)
{
    const gpurent_market *m = x->m;
    gpurent_match_relaxation r;
    memset(&r, 0, sizeof r);
    r.constraint = c;
    r.from = req_value(x->q, c);
    int found = 0, by_item = 0;
    uint64_t best = 0;
    uint32_t item = 0, best_nodes = 0;
    for (uint32_t i = 0; i < x->only_len; i++) {
        if ((x->only[i] & 31u) != c) continue;
        const mnode *n = &m->nodes[x->only[i] >> 5];
        if (numeric(c)) {
            uint64_t v = node_value(m, x->q, n, c);
            /* closest to the request's value */
            uint64_t d = v > r.from ? v - r.from : r.from - v, bd = best > r.from ? best - r.from : r.from - best;
            if (!found || d < bd || (d == bd && v < best)) best = v;
            found = 1;
        } else {
            found = 1;
        }
    }
    if (found && (c == GPURENT_MC_MODEL || c == GPURENT_MC_REGION || c == GPURENT_MC_TIER)) {
        /* The item admitting the most nodes; ties go to the smallest name. */
        uint32_t ni = c == GPURENT_MC_MODEL ? m->models.count : c == GPURENT_MC_REGION ? m->regions.count : 8;
        uint32_t *cnt = gr_calloc((size_t)ni + 1, sizeof *cnt);
        if (!cnt) return; /* an explanation without this line, not a failure */
        for (uint32_t i = 0; i < x->only_len; i++)
            if ((x->only[i] & 31u) == c) cnt[item_of(m, &m->nodes[x->only[i] >> 5], c)]++;
        for (uint32_t it = 0; it < ni; it++) {
            if (!cnt[it]) continue;
            int better = cnt[it] > best_nodes;
            if (cnt[it] == best_nodes && c != GPURENT_MC_TIER)
                better = strcmp(c == GPURENT_MC_MODEL ? m->models.name[it] : m->regions.name[it],
                                c == GPURENT_MC_MODEL ? m->models.name[item] : m->regions.name[item]) < 0;
            if (better) {
                item = it;
                best_nodes = cnt[it];
            }
        }
        gr_free(cnt);
        by_item = 1;
    }
    if (!found) return;
    r.to = numeric(c) ? best : 0;
    count_admitted(x, c, r.to, item, by_item, &r.nodes_added, &r.providers_added);
    if (numeric(c) && r.from) {
        uint64_t diff = r.to > r.from ? r.to - r.from : r.from - r.to;
        uint64_t pct = (diff * 100 + r.from - 1) / r.from;
        r.change_pct = (uint32_t)(pct > UINT32_MAX ? UINT32_MAX : pct);
    }
    if (by_item) {
        if (c == GPURENT_MC_MODEL) snprintf(r.item, sizeof r.item, "%s", m->models.name[item]);
        else if (c == GPURENT_MC_REGION) snprintf(r.item, sizeof r.item, "%s", m->regions.name[item]);
        else snprintf(r.item, sizeof r.item, "tier %u", item);
    }
    /* Keep the relaxations that add the most providers. */
    uint32_t i = out->relax_count < GPURENT_MATCH_MAX_RELAX ? out->relax_count++ : GPURENT_MATCH_MAX_RELAX;
    while (i > 0) {
        const gpurent_match_relaxation *p = &out->relax[i - 1];
        int better = r.providers_added != p->providers_added ? r.providers_added > p->providers_added
                     : r.nodes_added != p->nodes_added       ? r.nodes_added > p->nodes_added
                                                             : r.constraint < p->constraint;
        if (!better) break;
        if (i < GPURENT_MATCH_MAX_RELAX) out->relax[i] = out->relax[i - 1];
        i--;
    }
    if (i < GPURENT_MATCH_MAX_RELAX) out->relax[i] = r;
}

/* ---- misses ---- */

static int miss_better(const gpurent_market *m, const mreq *q, const gpurent_match_miss *a, const gpurent_match_miss *b)
{
    if (a->failed_count != b->failed_count) return a->failed_count < b->failed_count;
    if (a->total != b->total) return a->total > b->total;
    int c = memcmp(a->provider_key, b->provider_key, GPURENT_KEY_BYTES);
    return c ? c < 0 : strcmp(a->node_id, b->node_id) < 0;
}

static void add_miss(const msearch *s, const mnode *n, uint32_t mask, gpurent_match_explain *out)
{
    gpurent_match_miss x;
    memset(&x, 0, sizeof x);
    memcpy(x.provider_key, s->m->provs[n->provider].key, GPURENT_KEY_BYTES);
    memcpy(x.node_id, n->id, sizeof x.node_id);
    x.failed_mask = mask;
    x.failed_count = (uint32_t)popcount32(mask);
    x.total = n->stat + (uint64_t)s->m->opts.w_locality * ML_PPM;
    uint32_t i = out->miss_count < GPURENT_MATCH_MAX_MISSES ? out->miss_count++ : GPURENT_MATCH_MAX_MISSES;
    while (i > 0 && miss_better(s->m, s->q, &x, &out->misses[i - 1])) {
        if (i < GPURENT_MATCH_MAX_MISSES) out->misses[i] = out->misses[i - 1];
        i--;
    }
    if (i < GPURENT_MATCH_MAX_MISSES) out->misses[i] = x;
}

/* ---- names: the model and framework tables ---- */

/* The request's unknown model names and its framework build. */
static void explain_names(const gpurent_market *m, const gpurent_request *req, gpurent_match_explain *out)
{
    (void)m;
    out->model_table_version = GPURENT_MODEL_TABLE_VERSION;
    for (uint32_t i = 0; i < req->model_count && i < GPURENT_REQUEST_MAX_LIST; i++)
        if (gpurent_model_lookup(req->models[i], NULL) == GPURENT_NAME_UNKNOWN)
            snprintf(out->unknown_models[out->unknown_model_count++], GPURENT_NAME_MAX, "%s", req->models[i]);
    const gpurent_framework *fw = req->framework[0] ? gpurent_framework_find(req->framework) : NULL;
    if (!fw) return;
    snprintf(out->framework, sizeof out->framework, "%s", fw->id);
    out->framework_cuda = fw->cuda_version;
}

static void explain_framework_node(const gpurent_framework *fw, const mnode *n, gpurent_match_explain *out)
{
    if (n->cuda < fw->cuda_version) {
        out->framework_cuda_nodes++;
        if (n->cuda > out->framework_cuda_best) out->framework_cuda_best = n->cuda;
    }
    if (!ml_framework_supports(fw, n->cc)) {
        if (!out->framework_cc_nodes || n->cc < out->framework_cc_lowest) out->framework_cc_lowest = n->cc;
        out->framework_cc_nodes++;
    }
}

/* The newest build of the same framework release whose CUDA the best node
 * below the requirement supports (table order breaks ties: the first). */
static void explain_framework_alt(gpurent_match_explain *out)
{
    const gpurent_framework *fw = gpurent_framework_find(out->framework), *alt = NULL;
    if (!fw || !out->framework_cuda_nodes) return;
    for (uint32_t i = 0; i < gpurent_framework_count(); i++) {
        const gpurent_framework *f = gpurent_framework_at(i);
        if (strcmp(f->framework, fw->framework) || strcmp(f->version, fw->version) ||
            f->cuda_version > out->framework_cuda_best)
            continue;
        if (!alt || f->cuda_version > alt->cuda_version) alt = f;
    }
    if (alt) snprintf(out->framework_alt, sizeof out->framework_alt, "%s", alt->id);
}

/* Largest number of feasible nodes any one provider / region holds. */
static uint32_t best_group(const gpurent_market *m, const mreq *q, const uint8_t *feasible, uint32_t *cnt, size_t ncnt)
{
    memset(cnt, 0, ncnt * sizeof *cnt);
    uint32_t best = 0;
    for (uint32_t i = 0; i < m->node_used; i++) {
        if (!feasible[i]) continue;
        const mnode *n = &m->nodes[i];
        uint32_t g = q->scope == GPURENT_GANG_REGION ? m->provs[n->provider].region : n->provider;
        if (++cnt[g] > best) best = cnt[g];
    }
    return best;
}

GPURENT_API gpurent_status gpurent_market_explain(const gpurent_market *m, const gpurent_request *req,
                                                  gpurent_match_explain *out)
{
    GR_CHECK_ARG(m && req && out, "market, request or out is NULL");
    int rc = gpurent_request_validate(req);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    mreq q;
    if ((rc = ml_req_prepare(m, req, &q, 0))) return rc;
    snprintf(out->request_id, sizeof out->request_id, "%s", q.id);
    explain_names(m, req, out);
    size_t ngroups = (m->prov_used > m->regions.count ? m->prov_used : m->regions.count) + 1;
    ex_ctx x = {m, &q, NULL, 0, NULL, 0};
    uint8_t *feasible = gr_calloc((size_t)m->node_used + 1, 1);
    uint32_t *pmark = gr_calloc(ngroups, sizeof *pmark);
    x.only = gr_malloc(((size_t)m->node_used + 1) * sizeof *x.only);
    x.mark = gr_calloc(ngroups, sizeof *x.mark);
    msearch s;
    memset(&s, 0, sizeof s);
    if (!feasible || !pmark || !x.only || !x.mark) {
        rc = gr_fail(GPURENT_E_NOMEM, "explain: scratch for %u nodes", m->node_used);
        goto done;
    }
    s.m = m;
    s.q = &q;
    const gpurent_framework *fw = q.lists && q.lists->fw ? gpurent_framework_at(q.lists->fw - 1u) : NULL;
    out->providers_total = m->prov_live;
    for (uint32_t i = 0; i < m->node_used; i++) {
        const mnode *n = &m->nodes[i];
        if (!n->alive) continue;
        out->nodes_total++;
        uint32_t mask = ml_check(m, &q, n, 1);
        /* The build's needs, among the nodes of the requested models and kind. */
        if (fw && !(mask & (1u << GPURENT_MC_MODEL | 1u << GPURENT_MC_KIND))) explain_framework_node(fw, n, out);
        if (!mask) {
            feasible[i] = 1;
            out->nodes_feasible++;
            if (!pmark[n->provider]) {
                pmark[n->provider] = 1;
                out->providers_feasible++;
            }
            continue;
        }
        for (uint32_t c = 0; c < GPURENT_MC_COUNT; c++)
            if (mask & (1u << c)) out->eliminated[c]++;
        if (popcount32(mask) == 1) {
            uint32_t c = (uint32_t)__builtin_ctz(mask);
            out->eliminated_only[c]++;
            x.only[x.only_len++] = i << 5 | c;
        }
        add_miss(&s, n, mask, out);
    }
    explain_framework_alt(out);
    if ((rc = ml_search(&s, m, &q, 2, ml_strand_min(m)))) goto done;
    out->matched = s.found > 0;
    out->candidate_count = s.found;
    for (uint32_t i = 0; i < s.found; i++) ml_fill_candidate(&s, &s.top[i], &out->candidates[i]);
    if (!out->matched) {
        uint32_t G = q.share ? 1 : q.gang_nodes;
        if (G > 1 && out->nodes_feasible) {
            /* Feasible nodes exist but no provider/region has enough. */
            uint32_t best = best_group(m, &q, feasible, pmark, ngroups);
            out->eliminated[GPURENT_MC_GANG] = out->nodes_feasible;
            out->eliminated_only[GPURENT_MC_GANG] = out->nodes_feasible;
            gpurent_match_relaxation *r = &out->relax[out->relax_count++];
            memset(r, 0, sizeof *r);
            r->constraint = GPURENT_MC_GANG;
            r->from = G;
            r->to = best;
            r->change_pct = (uint32_t)(((uint64_t)(G - best) * 100 + G - 1) / G);
            r->nodes_added = best;
            r->providers_added = q.scope == GPURENT_GANG_PROVIDER ? 1 : 0;
        }
        /* With a framework build, the CUDA and cc minima are partly the
         * build's: lowering the request's own numbers would not admit those
         * nodes, so the framework lines below speak for them instead. */
        for (uint32_t c = 0; c < GPURENT_MC_COUNT; c++)
            if (out->eliminated_only[c] && c != GPURENT_MC_GANG && c != GPURENT_MC_KIND &&
                !(out->framework[0] && (c == GPURENT_MC_CUDA || c == GPURENT_MC_CC)))
                relax_one(&x, c, out);
    }
done:
    ml_search_free(&s);
    ml_req_release(&q);
    gr_free(feasible);
    gr_free(pmark);
    gr_free(x.only);
    gr_free(x.mark);
    return rc;
}

/* ---- text ---- */

static void hex8(const uint8_t *k, char out[17])
{
    for (int i = 0; i < 8; i++) snprintf(out + 2 * i, 3, "%02x", k[i]);
}

static void money(uint64_t micro, char *buf, size_t n)
{
    snprintf(buf, n, "%" PRIu64 ".%06" PRIu64, micro / 1000000u, micro % 1000000u);
}

static void relax_text(const gpurent_match_relaxation *r, char *buf, size_t n)
{
    char a[32];
    switch (r->constraint) {
    case GPURENT_MC_PRICE:
        money(r->to, a, sizeof a);
        snprintf(buf, n, "raising the price cap by %u%% (to %s units per GPU-hour)", r->change_pct, a);
        break;
    case GPURENT_MC_VRAM:
        snprintf(buf, n, "lowering the VRAM minimum by %u%% (to %" PRIu64 " MiB)", r->change_pct, r->to);
        break;
    case GPURENT_MC_CC:
        snprintf(buf, n, "lowering the compute capability minimum to %" PRIu64 ".%" PRIu64, r->to / 10, r->to % 10);
        break;
    case GPURENT_MC_FP32:
        snprintf(buf, n, "lowering the FP32 minimum by %u%% (to %" PRIu64 " GFLOPS)", r->change_pct, r->to);
        break;
    case GPURENT_MC_CUDA:
        snprintf(buf, n, "lowering the CUDA minimum to %" PRIu64 ".%" PRIu64, r->to / 1000, r->to % 1000 / 10);
        break;
    case GPURENT_MC_DURATION:
        snprintf(buf, n, "changing the duration to %" PRIu64 " s", r->to);
        break;
    case GPURENT_MC_CPU: snprintf(buf, n, "asking for %" PRIu64 " millicores of CPU", r->to); break;
    case GPURENT_MC_RAM: snprintf(buf, n, "asking for %" PRIu64 " MiB of RAM", r->to); break;
    case GPURENT_MC_DISK: snprintf(buf, n, "asking for %" PRIu64 " GiB of disk", r->to); break;
    case GPURENT_MC_GPUS:
        snprintf(buf, n, "asking for %" PRIu64 " GPUs per node (more nodes in a gang)", r->to);
        break;
    case GPURENT_MC_GANG:
        snprintf(buf, n, "spanning %" PRIu64 " nodes instead of %" PRIu64 " (the largest group available)", r->to,
                 r->from);
        break;
    case GPURENT_MC_MODEL: snprintf(buf, n, "allowing model %s", r->item); break;
    case GPURENT_MC_REGION: snprintf(buf, n, "allowing region %s", r->item); break;
    case GPURENT_MC_TIER: snprintf(buf, n, "allowing %s", r->item); break;
    case GPURENT_MC_VERIFIED: snprintf(buf, n, "accepting unverified GPU reports"); break;
    case GPURENT_MC_INTERFACE: snprintf(buf, n, "accepting any interface"); break;
    case GPURENT_MC_PROVIDER: snprintf(buf, n, "widening the provider lists"); break;
    case GPURENT_MC_BUSY: snprintf(buf, n, "waiting for leases to end"); break;
    default: snprintf(buf, n, "relaxing %s", gpurent_match_constraint_name((int)r->constraint)); break;
    }
}

static void line(gr_bytes *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void line(gr_bytes *b, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    gr_bytes_append(b, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void cand_text(gr_bytes *b, const char *label, const gpurent_match_candidate *c)
{
    char k[17], pr[32];
    const gpurent_match_breakdown *d = &c->breakdown;
    hex8(c->provider_key, k);
    money(c->price_micro_per_gpu_hour, pr, sizeof pr);
    line(b, "  %s: provider %s node %s (%s, %s) at %s units per GPU-hour", label, k, c->node_id, c->model, c->region, pr);
    if (c->node_count > 1) line(b, ", %u nodes on %u providers", c->node_count, c->provider_count);
    line(b, "\n    score %" PRIu64 " = price %" PRIu64 " + perf/price %" PRIu64 " + tier %" PRIu64 " + score %" PRIu64
            " + stake %" PRIu64 " + locality %" PRIu64 " + fit %" PRIu64 "\n",
         d->total, d->price, d->perf_price, d->tier, d->score, d->stake, d->locality, d->fit);
}

static void diff_text(gr_bytes *b, const gpurent_match_candidate *w, const gpurent_match_candidate *r)
{
    const char *names[7] = {"price", "perf/price", "tier", "score", "stake", "locality", "fit"};
    const gpurent_match_breakdown *x = &w->breakdown, *y = &r->breakdown;
    const uint64_t a[7] = {x->price, x->perf_price, x->tier, x->score, x->stake, x->locality, x->fit};
    const uint64_t c[7] = {y->price, y->perf_price, y->tier, y->score, y->stake, y->locality, y->fit};
    line(b, "  winner vs runner-up:");
    for (int i = 0; i < 7; i++)
        if (a[i] != c[i]) line(b, " %s %s%" PRIu64, names[i], a[i] > c[i] ? "+" : "-", a[i] > c[i] ? a[i] - c[i] : c[i] - a[i]);
    if (x->total == y->total) line(b, " (equal totals: the keyed tie hash decided)");
    line(b, "\n");
}

static void cuda_text(uint32_t v, char *buf, size_t n)
{
    snprintf(buf, n, "%u.%u", v / 1000, v % 1000 / 10);
}

/* What the tables made of the request's names: unknown models, and the
 * framework build's needs against the nodes that miss them. */
static void names_text(gr_bytes *b, const gpurent_match_explain *ex)
{
    for (uint32_t i = 0; i < ex->unknown_model_count && i < GPURENT_REQUEST_MAX_LIST; i++)
        line(b, "  model '%s' is not in the model table v%u; matched as an exact name\n", ex->unknown_models[i],
             ex->model_table_version);
    if (!ex->framework[0]) return;
    char need[16], best[16];
    cuda_text(ex->framework_cuda, need, sizeof need);
    cuda_text(ex->framework_cuda_best, best, sizeof best);
    if (ex->framework_cuda_nodes == 1)
        line(b, "  %s needs CUDA %s; node has %s", ex->framework, need, best);
    else if (ex->framework_cuda_nodes > 1)
        line(b, "  %s needs CUDA %s; %u nodes have less (at most %s)", ex->framework, need, ex->framework_cuda_nodes,
             best);
    if (ex->framework_cuda_nodes)
        line(b, ex->framework_alt[0] ? "; %s would run there\n" : "\n", ex->framework_alt);
    if (ex->framework_cc_nodes)
        line(b, "  %s ships no code for compute capability %u.%u (%u node%s%s)\n", ex->framework,
             ex->framework_cc_lowest / 10, ex->framework_cc_lowest % 10, ex->framework_cc_nodes,
             ex->framework_cc_nodes == 1 ? "" : "s", ex->framework_cc_nodes > 1 ? ", the lowest capability named" : "");
}

GPURENT_API gpurent_status gpurent_match_explain_text(const gpurent_match_explain *ex, gpurent_buf *out)
{
    GR_CHECK_ARG(ex && out, "explanation or out is NULL");
    gr_bytes b;
    gr_bytes_init(&b);
    line(&b, "request %s: %u of %u nodes (%u of %u providers) pass every constraint; %s\n", ex->request_id,
         ex->nodes_feasible, ex->nodes_total, ex->providers_feasible, ex->providers_total,
         ex->matched ? "matched" : "no placement now");
    /* Unplaced, yet every constraint holds on some nodes but for their free
     * GPUs: the request lost capacity to others (the batch serves requests
     * by priority), it does not fail a constraint of its own. */
    if (!ex->matched && ex->nodes_feasible == 0 && ex->eliminated_only[GPURENT_MC_BUSY] > 0)
        line(&b, "  feasible on %u node%s; all were given to higher-priority requests (none has enough free GPUs left)\n",
             ex->eliminated_only[GPURENT_MC_BUSY], ex->eliminated_only[GPURENT_MC_BUSY] == 1 ? "" : "s");
    /* Constraints by nodes eliminated, most first (ties in constraint order). */
    uint32_t order[GPURENT_MC_COUNT], n = 0;
    for (uint32_t c = 0; c < GPURENT_MC_COUNT; c++)
        if (ex->eliminated[c]) {
            uint32_t i = n++;
            while (i > 0 && ex->eliminated[order[i - 1]] < ex->eliminated[c]) {
                order[i] = order[i - 1];
                i--;
            }
            order[i] = c;
        }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = order[i];
        line(&b, "  %u %s", ex->eliminated[c], cphrase[c]);
        if (ex->eliminated_only[c]) line(&b, " (%u fail only this)", ex->eliminated_only[c]);
        line(&b, "\n");
    }
    for (uint32_t i = 0; i < ex->miss_count && !ex->matched; i++) {
        const gpurent_match_miss *mm = &ex->misses[i];
        char k[17];
        hex8(mm->provider_key, k);
        line(&b, "  near miss: provider %s node %s fails", k, mm->node_id);
        for (uint32_t c = 0; c < GPURENT_MC_COUNT; c++)
            if (mm->failed_mask & (1u << c)) line(&b, " %s", cnames[c]);
        line(&b, "\n");
    }
    for (uint32_t i = 0; i < ex->relax_count && !ex->matched; i++) {
        char t[160];
        relax_text(&ex->relax[i], t, sizeof t);
        line(&b, "  %s adds %u provider%s (%u node%s)\n", t, ex->relax[i].providers_added,
             ex->relax[i].providers_added == 1 ? "" : "s", ex->relax[i].nodes_added,
             ex->relax[i].nodes_added == 1 ? "" : "s");
    }
    names_text(&b, ex);
    if (ex->candidate_count > 0) cand_text(&b, "chosen", &ex->candidates[0]);
    if (ex->candidate_count > 1) {
        cand_text(&b, "runner-up", &ex->candidates[1]);
        diff_text(&b, &ex->candidates[0], &ex->candidates[1]);
    }
    return gr_bytes_finish(&b, out);
}
