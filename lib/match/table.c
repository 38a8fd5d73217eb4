/* Open-addressing hash table (load at most 3/4) from keys to slots. Keys stay in the caller's
 * entry arrays; the table holds slot numbers and 32-bit hashes. It is only
 * ever probed, never iterated to produce a result, so its layout (which
 * depends on a random per-market key) cannot change any outcome. */
#include <string.h>

#include "match_internal.h"

uint32_t mtab_find(const mtab *t, uint32_t h, const void *ctx, mtab_eq eq, const void *key)
{
    if (!t->cap) return NIL;
    uint32_t mask = t->cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t s = t->slot[i];
        if (s == 0) return NIL;
        if (s != NIL && t->hash[i] == h && eq(ctx, s - 1, key)) return s - 1;
    }
}

static int grow(mtab *t, uint32_t extra)
{
    uint32_t ncap = t->cap ? t->cap : 16;
    while ((uint64_t)(t->live + extra) * 4 > (uint64_t)ncap * 3) ncap *= 2;
    if (ncap > (1u << 30)) return gr_fail(GPURENT_E_LIMIT, "market: hash table above 2^30 entries");
    uint32_t *slot = gr_calloc(ncap, sizeof *slot);
    uint32_t *hash = gr_malloc((size_t)ncap * sizeof *hash);
    if (!slot || !hash) {
        gr_free(slot);
        gr_free(hash);
        return gr_fail(GPURENT_E_NOMEM, "market: hash table of %u entries", ncap);
    }
    for (uint32_t i = 0; i < t->cap; i++) {
        if (t->slot[i] == 0 || t->slot[i] == NIL) continue;
        uint32_t j = t->hash[i] & (ncap - 1);
        while (slot[j]) j = (j + 1) & (ncap - 1);
        slot[j] = t->slot[i];
        hash[j] = t->hash[i];
    }
    gr_free(t->slot);
    gr_free(t->hash);
    t->slot = slot;
    t->hash = hash;
    t->cap = ncap;
    t->used = t->live;
    return GPURENT_OK;
}

int mtab_put(mtab *t, uint32_t h, uint32_t slot)
{
    if ((uint64_t)(t->used + 1) * 4 > (uint64_t)t->cap * 3) {
        int rc = grow(t, 1);
        if (rc) return rc;
    }
    uint32_t mask = t->cap - 1, i = h & mask;
    while (t->slot[i] != 0 && t->slot[i] != NIL) i = (i + 1) & mask;
    if (t->slot[i] == 0) t->used++;
    t->slot[i] = slot + 1;
    t->hash[i] = h;
    t->live++;
    return GPURENT_OK;
}

int mtab_reserve(mtab *t, uint32_t extra)
{
    if ((uint64_t)(t->used + extra) * 4 <= (uint64_t)t->cap * 3) return GPURENT_OK;
    return grow(t, extra);
}

void mtab_del(mtab *t, uint32_t h, uint32_t slot)
{
    if (!t->cap) return;
    uint32_t mask = t->cap - 1;
    for (uint32_t i = h & mask; t->slot[i] != 0; i = (i + 1) & mask) {
        if (t->slot[i] == slot + 1) {
            t->slot[i] = NIL;
            t->live--;
            return;
        }
    }
}

void mtab_free(mtab *t)
{
    gr_free(t->slot);
    gr_free(t->hash);
    memset(t, 0, sizeof *t);
}

uint64_t mtab_bytes(const mtab *t) { return (uint64_t)t->cap * 8u; }

int ml_grow_to(void **p, uint32_t *cap, uint32_t want, size_t size, const char *what)
{
    uint64_t ncap = *cap ? *cap : 64;
    while (ncap < want) ncap *= 2;
    if (ncap > UINT32_MAX) ncap = UINT32_MAX;
    void *q = gr_realloc(*p, (size_t)ncap * size);
    if (!q) return gr_fail(GPURENT_E_NOMEM, "%s", what);
    *p = q;
    *cap = (uint32_t)ncap;
    return GPURENT_OK;
}
