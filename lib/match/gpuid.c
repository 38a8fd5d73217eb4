/* One GPU, one place: every GPU UUID the market knows belongs to one node.
 *
 * A node holds a UUID because its offer lists it (gpurent_gpu.uuid of the
 * node) or because its verified GPU report does (gpurent_market_verify_
 * report). The claims live in a table keyed by UUID (claim_tab), each one
 * chained from its node (claim_head), so an offer is checked in time
 * proportional to its nodes and a node leaves with its claims. Claims are
 * state of their own, saved in the market snapshot (docs/wire-format.md),
 * and never enter a score or a digest: what they decide is which offers and
 * verifications the market takes, and offers that entered are digested
 * whole (their records include the UUIDs). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/snap_internal.h"
#include "match_internal.h"

static const uint8_t zero_uuid[GPURENT_UUID_BYTES];

static int uuid_zero(const uint8_t u[GPURENT_UUID_BYTES]) { return memcmp(u, zero_uuid, GPURENT_UUID_BYTES) == 0; }

static uint32_t uuid_hash(const gpurent_market *m, const uint8_t u[GPURENT_UUID_BYTES])
{
    return ml_hash(m, u, GPURENT_UUID_BYTES, NULL, 0);
}

static int claim_eq(const void *ctx, uint32_t slot, const void *key)
{
    return memcmp(((const gpurent_market *)ctx)->claims[slot].uuid, key, GPURENT_UUID_BYTES) == 0;
}

static uint32_t claim_find(const gpurent_market *m, const uint8_t u[GPURENT_UUID_BYTES])
{
    return mtab_find(&m->claim_tab, uuid_hash(m, u), m, claim_eq, u);
}

/* "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", as nvidia-smi prints UUIDs. */
static void uuid_text(const uint8_t u[GPURENT_UUID_BYTES], char out[41])
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    memcpy(p, "GPU-", 4);
    p += 4;
    for (int i = 0; i < GPURENT_UUID_BYTES; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
        *p++ = hex[u[i] >> 4];
        *p++ = hex[u[i] & 15];
    }
    *p = 0;
}

static void key_text(const uint8_t k[GPURENT_KEY_BYTES], char out[2 * GPURENT_KEY_BYTES + 1])
{
    sodium_bin2hex(out, 2 * GPURENT_KEY_BYTES + 1, k, GPURENT_KEY_BYTES);
}

/* The refusal, naming the holder. */
static int conflict(const gpurent_market *m, const uint8_t u[GPURENT_UUID_BYTES], uint32_t c, const char *what,
                    const char *node_id)
{
    char ut[41], kt[2 * GPURENT_KEY_BYTES + 1];
    const mclaim *x = &m->claims[c];
    const mnode *holder = &m->nodes[x->node];
    uuid_text(u, ut);
    key_text(m->provs[holder->provider].key, kt);
    return gr_fail(GPURENT_E_GPU_CONFLICT, "%s: node '%s' GPU %s is held by provider %s node '%s' (%s)", what, node_id,
                   ut, kt, holder->id, (x->how & GPURENT_GPU_HELD_OFFER) ? "offered" : "in its verified GPU report");
}

/* ---- claim slots ---- */

static int reserve(gpurent_market *m, uint32_t extra, uint32_t nodes)
{
    int rc = ml_grow((void **)&m->claims, &m->claim_cap, m->claim_used + extra, sizeof *m->claims, "GPU claims");
    if (rc) return rc;
    if ((rc = mtab_reserve(&m->claim_tab, extra))) return rc;
    if (nodes > m->claim_head_cap) {
        uint32_t old = m->claim_head_cap;
        if ((rc = ml_grow_to((void **)&m->claim_head, &m->claim_head_cap, nodes, sizeof *m->claim_head,
                             "GPU claim heads")))
            return rc;
        for (uint32_t i = old; i < m->claim_head_cap; i++) m->claim_head[i] = NIL;
    }
    return GPURENT_OK;
}

/* Reserved: cannot fail. */
static uint32_t claim_add(gpurent_market *m, const uint8_t u[GPURENT_UUID_BYTES], uint32_t n, uint8_t how)
{
    uint32_t c;
    if (m->claim_free_head != NIL) {
        c = m->claim_free_head;
        m->claim_free_head = m->claims[c].next;
    } else {
        c = m->claim_used++;
    }
    mclaim *x = &m->claims[c];
    memcpy(x->uuid, u, GPURENT_UUID_BYTES);
    x->node = n;
    x->how = how;
    x->next = m->claim_head[n];
    m->claim_head[n] = c;
    mtab_put(&m->claim_tab, uuid_hash(m, u), c); /* reserved */
    m->claim_live++;
    return c;
}

/* Take the bits `drop` from every claim of node n; claims left with none go. */
static void node_strip(gpurent_market *m, uint32_t n, uint8_t drop)
{
    if (n >= m->claim_head_cap) return;
    uint32_t *link = &m->claim_head[n];
    while (*link != NIL) {
        uint32_t c = *link;
        mclaim *x = &m->claims[c];
        x->how &= (uint8_t)~drop;
        if (x->how) {
            link = &x->next;
            continue;
        }
        *link = x->next;
        mtab_del(&m->claim_tab, uuid_hash(m, x->uuid), c);
        memset(x, 0, sizeof *x);
        x->next = m->claim_free_head;
        m->claim_free_head = c;
        m->claim_live--;
    }
}

void ml_gpuid_node_drop(gpurent_market *m, uint32_t n)
{
    node_strip(m, n, GPURENT_GPU_HELD_OFFER | GPURENT_GPU_HELD_REPORT);
}

void ml_gpuid_unbind(gpurent_market *m, uint32_t n) { node_strip(m, n, GPURENT_GPU_HELD_REPORT); }

/* Does node n's verified report list u? */
static int node_reports(const gpurent_market *m, uint32_t n, const uint8_t u[GPURENT_UUID_BYTES])
{
    uint32_t c = claim_find(m, u);
    return c != NIL && m->claims[c].node == n && (m->claims[c].how & GPURENT_GPU_HELD_REPORT);
}

/* How many GPUs node n's verified report identifies (0: no report bound). */
static uint32_t node_reported(const gpurent_market *m, uint32_t n)
{
    uint32_t k = 0;
    if (n >= m->claim_head_cap) return 0;
    for (uint32_t c = m->claim_head[n]; c != NIL; c = m->claims[c].next) k += (m->claims[c].how & GPURENT_GPU_HELD_REPORT) != 0;
    return k;
}

static int node_has_report(const gpurent_market *m, uint32_t n) { return node_reported(m, n) != 0; }

void ml_gpuid_free(gpurent_market *m)
{
    gr_free(m->claims);
    gr_free(m->claim_head);
    mtab_free(&m->claim_tab);
}

uint64_t ml_gpuid_bytes(const gpurent_market *m)
{
    return (uint64_t)m->claim_cap * sizeof(mclaim) + (uint64_t)m->claim_head_cap * 4u + mtab_bytes(&m->claim_tab);
}

/* ---- offers ---- */

static int by_uuid(const void *a, const void *b)
{
    const gpurent_node *x = *(const gpurent_node *const *)a, *y = *(const gpurent_node *const *)b;
    return memcmp(x->gpu.uuid, y->gpu.uuid, GPURENT_UUID_BYTES);
}

static uint64_t prefix8(const uint8_t d[GPURENT_DIGEST_BYTES])
{
    uint64_t v;
    memcpy(&v, d, 8);
    return v;
}

int ml_gpuid_prepare(gpurent_market *m, uint32_t pi, const gpurent_offer *o)
{
    const gpurent_node **v = gr_malloc((size_t)o->node_count * sizeof *v);
    if (!v) return gr_fail(GPURENT_E_NOMEM, "market: offer of %u nodes", o->node_count);
    uint32_t k = 0;
    for (uint32_t i = 0; i < o->node_count; i++)
        if (!uuid_zero(o->nodes[i].gpu.uuid)) v[k++] = &o->nodes[i];
    qsort(v, k, sizeof *v, by_uuid);
    int rc = GPURENT_OK;
    for (uint32_t i = 1; i < k && !rc; i++)
        if (!by_uuid(&v[i - 1], &v[i])) {
            char ut[41];
            uuid_text(v[i]->gpu.uuid, ut);
            /* the two node ids in byte order, so the message is one whatever the node order */
            const char *a = v[i - 1]->node_id, *b = v[i]->node_id;
            if (strcmp(a, b) > 0) {
                const char *t = a;
                a = b;
                b = t;
            }
            rc = gr_fail(GPURENT_E_GPU_CONFLICT, "offer: GPU %s listed on two nodes, '%s' and '%s'", ut, a, b);
        }
    gr_free(v);
    if (rc) return rc;
    for (uint32_t i = 0; i < o->node_count; i++) {
        const gpurent_node *src = &o->nodes[i];
        uint32_t n = pi == NIL ? NIL : ml_node_find(m, pi, src->node_id);
        /* A verified report the node keeps binds its GPUs. */
        if (n != NIL && m->nodes[n].verified && prefix8(src->report_digest) == m->nodes[n].report &&
            node_has_report(m, n) && !uuid_zero(src->gpu.uuid) && !node_reports(m, n, src->gpu.uuid)) {
            char ut[41];
            uuid_text(src->gpu.uuid, ut);
            return gr_fail(GPURENT_E_GPU_CONFLICT,
                           "offer: node '%s' lists GPU %s, which its verified GPU report does not (a new report_digest "
                           "drops the verification)",
                           src->node_id, ut);
        }
        if (uuid_zero(src->gpu.uuid)) continue;
        uint32_t c = claim_find(m, src->gpu.uuid);
        if (c != NIL && m->nodes[m->claims[c].node].provider != pi)
            return conflict(m, src->gpu.uuid, c, "offer", src->node_id);
    }
    /* an offer without UUIDs costs nothing here (most markets' nodes, today) */
    return k ? reserve(m, k, m->node_used + o->node_count) : GPURENT_OK;
}

void ml_gpuid_commit(gpurent_market *m, uint32_t pi, const gpurent_offer *o)
{
    const mprov *pv = &m->provs[pi];
    /* The offer is the provider's whole word on what its nodes hold: the
     * old offer's claims go, and so do the reports of nodes whose
     * verification did not survive (a new report_digest). */
    for (uint32_t i = 0; i < pv->node_count; i++) {
        uint32_t n = pv->nodes[i];
        /* A report that identifies fewer GPUs than the node now offers no
         * longer describes it: the verification goes with the binding. */
        uint32_t reported = node_reported(m, n);
        if (reported && m->nodes[n].gpu_count > reported) m->nodes[n].verified = 0;
        node_strip(m, n, m->nodes[n].verified ? GPURENT_GPU_HELD_OFFER : GPURENT_GPU_HELD_OFFER | GPURENT_GPU_HELD_REPORT);
    }
    for (uint32_t i = 0; i < o->node_count; i++) {
        const uint8_t *u = o->nodes[i].gpu.uuid;
        uint32_t n = pv->nodes[i];
        if (uuid_zero(u)) continue;
        uint32_t c = claim_find(m, u);
        if (c != NIL && m->claims[c].node == n) {
            m->claims[c].how |= GPURENT_GPU_HELD_OFFER;
            continue;
        }
        if (c != NIL) {
            /* Held by the report of another node of this provider (prepare
             * refused other providers): the GPU moved, and that report no
             * longer describes its node. */
            uint32_t old = m->claims[c].node;
            ml_gpuid_unbind(m, old);
            m->nodes[old].verified = 0;
        }
        claim_add(m, u, n, GPURENT_GPU_HELD_OFFER);
    }
}

/* ---- public calls ---- */

GPURENT_API gpurent_status gpurent_market_gpu_owner(const gpurent_market *m, const uint8_t uuid[GPURENT_UUID_BYTES],
                                                    gpurent_gpu_owner *out)
{
    GR_CHECK_ARG(m && uuid && out, "market, uuid or out is NULL");
    memset(out, 0, sizeof *out);
    if (uuid_zero(uuid)) return gr_fail(GPURENT_E_INVALID_ARG, "gpu owner: the all-zero UUID means unknown");
    uint32_t c = claim_find(m, uuid);
    char ut[41];
    uuid_text(uuid, ut);
    if (c == NIL) return gr_fail(GPURENT_E_NOT_FOUND, "gpu owner: no node holds GPU %s", ut);
    const mnode *x = &m->nodes[m->claims[c].node];
    memcpy(out->provider_key, m->provs[x->provider].key, GPURENT_KEY_BYTES);
    snprintf(out->node_id, sizeof out->node_id, "%s", x->id);
    out->how = m->claims[c].how;
    return GPURENT_OK;
}

/* The report's UUIDs (state OK), sorted, into u; their count. */
static uint32_t report_uuids(const gpurent_gpu_report *r, uint8_t u[][GPURENT_UUID_BYTES])
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->device_count && i < GPURENT_GPU_REPORT_MAX_DEVICES; i++)
        if (r->devices[i].uuid.state == GPURENT_PV_OK) memcpy(u[k++], r->devices[i].uuid.value, GPURENT_UUID_BYTES);
    return k;
}

/* Check the report against the node and the market; 0 to go on. */
static int verify_check(const gpurent_market *m, uint32_t n, const uint8_t (*u)[GPURENT_UUID_BYTES], uint32_t k)
{
    const mnode *x = &m->nodes[n];
    for (uint32_t c = m->claim_head[n]; c != NIL; c = m->claims[c].next) {
        const mclaim *cl = &m->claims[c];
        if (!(cl->how & GPURENT_GPU_HELD_OFFER)) continue;
        int listed = 0;
        for (uint32_t i = 0; i < k && !listed; i++) listed = !memcmp(u[i], cl->uuid, GPURENT_UUID_BYTES);
        if (!listed) {
            char ut[41];
            uuid_text(cl->uuid, ut);
            return gr_fail(GPURENT_E_GPU_CONFLICT, "verify report: node '%s' offers GPU %s, which its report does not list",
                           x->id, ut);
        }
    }
    for (uint32_t i = 0; i < k; i++) {
        uint32_t c = claim_find(m, u[i]);
        if (c == NIL || m->claims[c].node == n) continue;
        const mnode *h = &m->nodes[m->claims[c].node];
        if (h->provider != x->provider || (m->claims[c].how & GPURENT_GPU_HELD_OFFER))
            return conflict(m, u[i], c, "verify report", x->id);
    }
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_market_verify_report(gpurent_market *m,
                                                        const uint8_t provider_key[GPURENT_KEY_BYTES],
                                                        const char *node_id, const gpurent_gpu_report *report)
{
    GR_CHECK_ARG(m && provider_key && node_id && report, "market, provider_key, node_id or report is NULL");
    uint32_t pi = ml_prov_find(m, provider_key);
    if (pi == NIL) return gr_fail(GPURENT_E_UNKNOWN_OFFER, "market: no offer from this provider");
    uint32_t n = ml_node_find(m, pi, node_id);
    if (n == NIL) return gr_fail(GPURENT_E_NOT_FOUND, "market: provider has no node '%s'", node_id);
    if (report->status != GPURENT_OK)
        return gr_fail(GPURENT_E_INVALID_ARG, "verify report: status %d, a verification needs a complete report (0)",
                       (int)report->status);
    gpurent_buf b = {NULL, 0};
    int rc = gpurent_gpu_report_encode(report, &b);
    if (rc) return rc;
    uint8_t d[GPURENT_DIGEST_BYTES];
    crypto_generichash(d, sizeof d, b.data, b.len, NULL, 0);
    gpurent_buf_free(&b);
    if (prefix8(d) != m->nodes[n].report || !m->nodes[n].report)
        return gr_fail(GPURENT_E_INVALID_ARG, "verify report: not the report node '%s' names (report_digest)", node_id);
    uint8_t(*u)[GPURENT_UUID_BYTES] = gr_malloc(GPURENT_GPU_REPORT_MAX_DEVICES * GPURENT_UUID_BYTES);
    if (!u) return gr_fail(GPURENT_E_NOMEM, "verify report");
    uint32_t k = report_uuids(report, u);
    if (m->nodes[n].gpu_count > k) {
        gr_free(u);
        return gr_fail(GPURENT_E_INVALID_ARG, "verify report: node '%s' offers %u GPUs, its report identifies %u",
                       node_id, m->nodes[n].gpu_count, k);
    }
    if ((rc = reserve(m, k, m->node_used)) || (rc = verify_check(m, n, (const uint8_t(*)[GPURENT_UUID_BYTES])u, k))) {
        gr_free(u);
        return rc;
    }
    ml_gpuid_unbind(m, n);
    for (uint32_t i = 0; i < k; i++) {
        uint32_t c = claim_find(m, u[i]);
        if (c != NIL && m->claims[c].node != n) { /* another node's report, same provider: the GPU moved */
            uint32_t old = m->claims[c].node;
            ml_gpuid_unbind(m, old);
            m->nodes[old].verified = 0;
            c = NIL;
        }
        if (c != NIL) m->claims[c].how |= GPURENT_GPU_HELD_REPORT;
        else claim_add(m, u[i], n, GPURENT_GPU_HELD_REPORT);
    }
    gr_free(u);
    m->nodes[n].verified = 1;
    return GPURENT_OK;
}

/* ---- invariants ---- */

#define BAD(...) return gr_fail(GPURENT_E_INTERNAL, "market check: " __VA_ARGS__)

int ml_gpuid_check(const gpurent_market *m)
{
    uint32_t live = 0;
    for (uint32_t n = 0; n < m->claim_head_cap; n++) {
        if (m->claim_head[n] == NIL) continue;
        if (n >= m->node_used || !m->nodes[n].alive) BAD("GPU claims on dead node %u", n);
        uint32_t steps = 0, reported = 0;
        for (uint32_t c = m->claim_head[n]; c != NIL; c = m->claims[c].next) {
            if (c >= m->claim_used || ++steps > m->claim_used) BAD("node %u: claim chain broken", n);
            const mclaim *x = &m->claims[c];
            if (x->node != n || !x->how || x->how > 3 || uuid_zero(x->uuid)) BAD("claim %u of node %u malformed", c, n);
            if (claim_find(m, x->uuid) != c) BAD("claim %u not found by its UUID", c);
            if ((x->how & GPURENT_GPU_HELD_REPORT) && !m->nodes[n].verified) BAD("claim %u: report of an unverified node", c);
            reported += (x->how & GPURENT_GPU_HELD_REPORT) != 0;
            live++;
        }
        if (reported && reported < m->nodes[n].gpu_count)
            BAD("node %u: its report identifies %u GPUs, it offers %u", n, reported, m->nodes[n].gpu_count);
    }
    if (live != m->claim_live || m->claim_tab.live != live) BAD("%u claims chained, %u counted", live, m->claim_live);
    return GPURENT_OK;
}

/* ---- snapshots (called from snapshot.c; docs/wire-format.md) ---- */

static int uuid_cmp(const void *a, const void *b) { return memcmp(a, b, GPURENT_UUID_BYTES); }

/* Per node, providers in the body's order and nodes in offer order: the
 * offered UUID (16, zero none), the count of its report's UUIDs (u8) and
 * those UUIDs, ascending. */
void ml_gpuid_save(gr_bytes *b, const gpurent_market *m, const uint32_t *provs, uint32_t np)
{
    uint8_t u[GPURENT_GPU_REPORT_MAX_DEVICES][GPURENT_UUID_BYTES];
    for (uint32_t k = 0; k < np; k++) {
        const mprov *p = &m->provs[provs[k]];
        for (uint32_t i = 0; i < p->node_count; i++) {
            uint32_t n = p->nodes[i], cnt = 0;
            const uint8_t *offered = zero_uuid;
            for (uint32_t c = n < m->claim_head_cap ? m->claim_head[n] : NIL; c != NIL; c = m->claims[c].next) {
                if (m->claims[c].how & GPURENT_GPU_HELD_OFFER) offered = m->claims[c].uuid;
                if ((m->claims[c].how & GPURENT_GPU_HELD_REPORT) && cnt < GPURENT_GPU_REPORT_MAX_DEVICES)
                    memcpy(u[cnt++], m->claims[c].uuid, GPURENT_UUID_BYTES);
            }
            qsort(u, cnt, GPURENT_UUID_BYTES, uuid_cmp);
            gr_put_raw(b, offered, GPURENT_UUID_BYTES);
            gr_put_u8(b, (uint8_t)cnt);
            gr_put_raw(b, u, (size_t)cnt * GPURENT_UUID_BYTES);
        }
    }
}

#define SBAD(...) gr_fail(GPURENT_E_SNAPSHOT_CORRUPT, "market snapshot: " __VA_ARGS__)

/* The inverse, over a market whose offers and verifications are loaded:
 * every rule of a live market holds (one UUID, one node; reports only on
 * verified nodes), else SNAPSHOT_CORRUPT. */
int ml_gpuid_load(struct gr_snap_reader *r, gpurent_market *m, const uint32_t *provs, uint32_t np)
{
    for (uint32_t k = 0; k < np; k++) {
        const mprov *p = &m->provs[provs[k]];
        for (uint32_t i = 0; i < p->node_count; i++) {
            uint32_t n = p->nodes[i];
            const uint8_t *offered = gr_get_raw(r, GPURENT_UUID_BYTES);
            uint32_t cnt = gr_get_u8(r);
            const uint8_t *rep = gr_get_raw(r, (size_t)cnt * GPURENT_UUID_BYTES);
            if (r->bad) return gr_snap_done(r, "market snapshot");
            if (cnt > GPURENT_GPU_REPORT_MAX_DEVICES || (cnt && !m->nodes[n].verified) ||
                (cnt && cnt < m->nodes[n].gpu_count))
                return SBAD("provider %u node %u: %u report UUIDs on an unverified node or one of more GPUs", k, i,
                            cnt);
            int rc = reserve(m, cnt + 1, m->node_used);
            if (rc) return rc;
            for (uint32_t j = 0; j < cnt; j++) {
                const uint8_t *u = rep + (size_t)j * GPURENT_UUID_BYTES;
                if (uuid_zero(u) || (j && memcmp(u - GPURENT_UUID_BYTES, u, GPURENT_UUID_BYTES) >= 0))
                    return SBAD("provider %u node %u: report UUIDs zero, out of order or repeated", k, i);
                if (claim_find(m, u) != NIL) return SBAD("provider %u node %u: a GPU held twice", k, i);
                claim_add(m, u, n, GPURENT_GPU_HELD_REPORT);
            }
            if (uuid_zero(offered)) continue;
            uint32_t c = claim_find(m, offered);
            if (c != NIL && m->claims[c].node != n) return SBAD("provider %u node %u: a GPU held twice", k, i);
            if (c == NIL && cnt) return SBAD("provider %u node %u: offers a GPU its report does not list", k, i);
            if (c != NIL) m->claims[c].how |= GPURENT_GPU_HELD_OFFER;
            else claim_add(m, offered, n, GPURENT_GPU_HELD_OFFER);
        }
    }
    return GPURENT_OK;
}
