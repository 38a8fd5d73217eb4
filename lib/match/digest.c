/* The digests a receipt binds: the live offers (by provider key) and the
 * pending requests (by id), each a BLAKE2b over a canonical order, so a
 * receipt names the exact market state it was computed on. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "match_internal.h"

static void put_u64(crypto_generichash_state *st, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (56 - 8 * i));
    crypto_generichash_update(st, b, 8);
}

/* Providers and requests are sorted as pointers to the records, which carry
 * their own keys (qsort passes no context). */
static int prov_key_cmp(const void *a, const void *b)
{
    return memcmp((*(const mprov *const *)a)->key, (*(const mprov *const *)b)->key, GPURENT_KEY_BYTES);
}

static int req_id_cmp(const void *a, const void *b)
{
    return strcmp((*(const mreq *const *)a)->id, (*(const mreq *const *)b)->id);
}

int ml_digests(const gpurent_market *m, uint8_t offers[GPURENT_DIGEST_BYTES], uint8_t reqs[GPURENT_DIGEST_BYTES])
{
    uint32_t np = 0, nr = 0;
    const mprov **ps = gr_malloc(((size_t)m->prov_live + 1) * sizeof *ps);
    const mreq **rs = gr_malloc(((size_t)m->req_live + 1) * sizeof *rs);
    if (!ps || !rs) {
        gr_free(ps);
        gr_free(rs);
        return gr_fail(GPURENT_E_NOMEM, "match: digests");
    }
    for (uint32_t i = 0; i < m->prov_used; i++)
        if (m->provs[i].alive) ps[np++] = &m->provs[i];
    for (uint32_t i = 0; i < m->req_used; i++)
        if (m->reqs[i].alive) rs[nr++] = &m->reqs[i];
    qsort(ps, np, sizeof *ps, prov_key_cmp);
    qsort(rs, nr, sizeof *rs, req_id_cmp);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, GPURENT_DIGEST_BYTES);
    put_u64(&st, np);
    for (uint32_t i = 0; i < np; i++) {
        const mprov *p = ps[i];
        uint8_t trust[2] = {p->tier, 0};
        crypto_generichash_update(&st, p->key, GPURENT_KEY_BYTES);
        crypto_generichash_update(&st, p->digest, GPURENT_DIGEST_BYTES);
        crypto_generichash_update(&st, trust, 1);
        put_u64(&st, p->score_ppm);
        put_u64(&st, p->node_count);
        for (uint32_t j = 0; j < p->node_count; j++) {
            const mnode *n = &m->nodes[p->nodes[j]];
            uint8_t b[2] = {n->verified, n->gpu_free};
            crypto_generichash_update(&st, b, 2);
            if (n->share) crypto_generichash_update(&st, n->share, n->gpu_count);
        }
    }
    crypto_generichash_final(&st, offers, GPURENT_DIGEST_BYTES);
    crypto_generichash_init(&st, NULL, 0, GPURENT_DIGEST_BYTES);
    put_u64(&st, nr);
    for (uint32_t i = 0; i < nr; i++) crypto_generichash_update(&st, rs[i]->digest, GPURENT_DIGEST_BYTES);
    crypto_generichash_final(&st, reqs, GPURENT_DIGEST_BYTES);
    gr_free(ps);
    gr_free(rs);
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_market_digests(const gpurent_market *m, uint8_t offers[GPURENT_DIGEST_BYTES],
                                                  uint8_t requests[GPURENT_DIGEST_BYTES],
                                                  uint8_t policy[GPURENT_DIGEST_BYTES])
{
    GR_CHECK_ARG(m, "market is NULL");
    uint8_t o[32], r[32];
    int rc = ml_digests(m, o, r);
    if (!rc && policy) rc = ml_policy_digest(&m->opts, policy);
    if (rc) return rc;
    if (offers) memcpy(offers, o, 32);
    if (requests) memcpy(requests, r, 32);
    return GPURENT_OK;
}
