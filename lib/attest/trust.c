/* The trust store: trusted keys (sorted by public key), revocations (hash
 * sets: standing ones, and pending ones of keys not in the store, charged to
 * their revokers) and the replay cache. */
#include <sodium.h>
#include <stddef.h>
#include <string.h>

#include "attest_internal.h"

GPURENT_API uint32_t gpurent_statement_default_role(uint32_t statement)
{
    switch (statement) {
    case GPURENT_RECORD_GPU:
    case GPURENT_RECORD_OFFER:
    case GPURENT_RECORD_GPU_REPORT: return GPURENT_ROLE_PROVIDER;
    case GPURENT_RECORD_REQUEST: return GPURENT_ROLE_REQUESTER;
    case GPURENT_RECORD_AUDIT_REPORT:
    case GPURENT_RECORD_TIER_CERT: return GPURENT_ROLE_AUDITOR;
    case GPURENT_RECORD_MATCH_RECEIPT: return GPURENT_ROLE_MATCHER;
    case GPURENT_RECORD_REVOCATION: return GPURENT_ROLE_REVOKER;
    default: return 0;
    }
}

GPURENT_API gpurent_status gpurent_trust_options_init(gpurent_trust_options *opts, unsigned int version)
{
    GR_CHECK_ARG(opts, "opts is NULL");
    int rc = gr_check_version(version, GPURENT_TRUST_OPTIONS_VERSION, "trust_options");
    if (rc) return rc;
    gpurent_trust_options d = GPURENT_TRUST_OPTIONS_INIT;
    *opts = d;
    opts->version = version;
    return GPURENT_OK;
}

/* ---- revocation sets ---- */

static uint32_t home_of(const gpurent_trust *t, const gr_index *x, const uint8_t *p, size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, p, len, t->hkey);
    uint32_t v;
    memcpy(&v, h, 4);
    return v & x->mask;
}

/* Where entry e of a set lives in one of its indexes. */
typedef uint32_t (*home_fn)(const gpurent_trust *t, const gr_index *x, uint32_t e);

static uint32_t standing_home(const gpurent_trust *t, const gr_index *x, uint32_t e)
{
    return home_of(t, x, t->revoked.ent[e].pk, 32);
}

_Static_assert(sizeof(gr_rev) == 64, "a revocation is pk || by, 64 bytes");

static uint32_t pair_home(const gpurent_trust *t, const gr_index *x, uint32_t e)
{
    return home_of(t, x, (const uint8_t *)&t->pending.ent[e].r, sizeof(gr_rev)); /* pk || by */
}

static uint32_t head_home(const gpurent_trust *t, const gr_index *x, uint32_t e)
{
    return home_of(t, x, t->pending.ent[e].r.pk, 32);
}

static void index_free(gr_index *x)
{
    gr_free(x->slot);
    x->slot = NULL;
    x->mask = 0;
}

static void index_put(gr_index *x, uint32_t home, uint32_t e, uint64_t *work)
{
    uint32_t i = home;
    for (; x->slot[i]; i = (i + 1) & x->mask) ++*work;
    x->slot[i] = e + 1;
}

/* The slot that holds entry e, whose home is `home`. */
static uint32_t index_slot(const gr_index *x, uint32_t home, uint32_t e, uint64_t *work)
{
    uint32_t i = home;
    for (; x->slot[i] != e + 1; i = (i + 1) & x->mask) ++*work;
    return i;
}

/* Empty slot i: backward-shift deletion, so no probe run ever holds a hole. */
static void index_clear(gpurent_trust *t, gr_index *x, uint32_t i, home_fn home)
{
    for (uint32_t j = i;;) {
        j = (j + 1) & x->mask;
        if (!x->slot[j]) break;
        t->work++;
        uint32_t k = home(t, x, x->slot[j] - 1);
        /* The entry at j may fill the hole at i unless its home lies
         * cyclically in (i, j]. */
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays) continue;
        x->slot[i] = x->slot[j];
        i = j;
    }
    x->slot[i] = 0;
}

/* An index of at least twice `n` slots (a power of two) for n entries:
 * *rebuilt is 1 when it was replaced by an empty one, which the caller
 * refills, 0 when it had the room already. */
static int index_fit(gr_index *x, uint32_t n, int *rebuilt)
{
    *rebuilt = 0;
    if (x->mask && (uint64_t)n * 2 <= (uint64_t)x->mask + 1) return GPURENT_OK;
    uint32_t size = x->mask ? (x->mask + 1) * 2 : 32;
    while ((uint64_t)n * 2 > size) size *= 2;
    uint32_t *slot = gr_calloc(size, sizeof *slot);
    if (!slot) return gr_fail(GPURENT_E_NOMEM, "trust store: revocation index");
    gr_free(x->slot);
    x->slot = slot;
    x->mask = size - 1;
    *rebuilt = 1;
    return GPURENT_OK;
}

/* Room for one more element of an array (doubling). At most 2^30 entries,
 * so the index sizes (twice that) fit in 32 bits; the per-revoker and key
 * limits stop far below in any store that fits in memory. */
static int array_room(void **arr, uint32_t *cap, uint32_t n, size_t size)
{
    if (n < *cap) return GPURENT_OK;
    if (*cap >= 1u << 30) return gr_fail(GPURENT_E_LIMIT, "trust store: %u revocations, the most one set holds", *cap);
    uint32_t c = *cap ? *cap * 2 : 16;
    void *p = gr_realloc(*arr, (size_t)c * size);
    if (!p) return gr_fail(GPURENT_E_NOMEM, "trust store: revocations");
    *arr = p;
    *cap = c;
    return GPURENT_OK;
}

/* -- the standing set: unique keys -- */

static void revset_free(gr_revset *s)
{
    gr_free(s->ent);
    index_free(&s->idx);
    memset(s, 0, sizeof *s);
}

static uint32_t standing_find(const gpurent_trust *t, const uint8_t pk[32])
{
    const gr_revset *s = &t->revoked;
    if (!s->n) return UINT32_MAX;
    for (uint32_t i = home_of(t, &s->idx, pk, 32); s->idx.slot[i]; i = (i + 1) & s->idx.mask)
        if (memcmp(s->ent[s->idx.slot[i] - 1].pk, pk, 32) == 0) return s->idx.slot[i] - 1;
    return UINT32_MAX;
}

static int standing_add(gpurent_trust *t, const uint8_t pk[32])
{
    gr_revset *s = &t->revoked;
    int rebuilt, rc = array_room((void **)&s->ent, &s->cap, s->n, sizeof *s->ent);
    if (!rc) rc = index_fit(&s->idx, s->n + 1, &rebuilt);
    if (rc) return rc;
    if (rebuilt)
        for (uint32_t e = 0; e < s->n; e++) index_put(&s->idx, standing_home(t, &s->idx, e), e, &t->work);
    memcpy(s->ent[s->n].pk, pk, 32);
    memset(s->ent[s->n].by, 0, 32);
    index_put(&s->idx, standing_home(t, &s->idx, s->n), s->n, &t->work);
    s->n++;
    return GPURENT_OK;
}

/* -- the pending set -- */

static void pendset_free(gr_pendset *s)
{
    gr_free(s->ent);
    index_free(&s->pair);
    index_free(&s->head);
    memset(s, 0, sizeof *s);
}

static uint32_t pending_find(const gpurent_trust *t, const uint8_t pk[32], const uint8_t by[32])
{
    const gr_pendset *s = &t->pending;
    if (!s->n) return UINT32_MAX;
    uint8_t pair[64];
    memcpy(pair, pk, 32);
    memcpy(pair + 32, by, 32);
    for (uint32_t i = home_of(t, &s->pair, pair, 64); s->pair.slot[i]; i = (i + 1) & s->pair.mask) {
        const gr_rev *r = &s->ent[s->pair.slot[i] - 1].r;
        if (memcmp(r->pk, pk, 32) == 0 && memcmp(r->by, by, 32) == 0) return s->pair.slot[i] - 1;
    }
    return UINT32_MAX;
}

/* The slot of pk's newest pending revocation in the key index, UINT32_MAX if none. */
static uint32_t pending_head_slot(const gpurent_trust *t, const uint8_t pk[32])
{
    const gr_pendset *s = &t->pending;
    if (!s->n) return UINT32_MAX;
    for (uint32_t i = home_of(t, &s->head, pk, 32); s->head.slot[i]; i = (i + 1) & s->head.mask)
        if (memcmp(s->ent[s->head.slot[i] - 1].r.pk, pk, 32) == 0) return i;
    return UINT32_MAX;
}

static gr_trust_entry *find_mut(gpurent_trust *t, const uint8_t pk[32]);

/* Add (pk, by), by being `issuer`, a key in the store; its count is the caller's. */
static int pending_add(gpurent_trust *t, const uint8_t pk[32], gr_trust_entry *issuer)
{
    gr_pendset *s = &t->pending;
    int rebuilt, rc = array_room((void **)&s->ent, &s->cap, s->n, sizeof *s->ent);
    if (!rc && !(rc = index_fit(&s->pair, s->n + 1, &rebuilt)) && rebuilt)
        for (uint32_t e = 0; e < s->n; e++) index_put(&s->pair, pair_home(t, &s->pair, e), e, &t->work);
    if (!rc && !(rc = index_fit(&s->head, s->n + 1, &rebuilt)) && rebuilt)
        for (uint32_t e = 0; e < s->n; e++)
            if (!s->ent[e].pk_prev) index_put(&s->head, head_home(t, &s->head, e), e, &t->work);
    if (rc) return rc;
    uint32_t e = s->n, hs = pending_head_slot(t, pk);
    gr_pend *p = &s->ent[e];
    memset(p, 0, sizeof *p);
    memcpy(p->r.pk, pk, 32);
    memcpy(p->r.by, issuer->pk, 32);
    s->n++;
    index_put(&s->pair, pair_home(t, &s->pair, e), e, &t->work);
    if (hs == UINT32_MAX) {
        index_put(&s->head, head_home(t, &s->head, e), e, &t->work);
    } else { /* the newest heads the key's list */
        p->pk_next = s->head.slot[hs];
        s->ent[p->pk_next - 1].pk_prev = e + 1;
        s->head.slot[hs] = e + 1;
    }
    p->by_next = issuer->pend_head;
    if (p->by_next) s->ent[p->by_next - 1].by_prev = e + 1;
    issuer->pend_head = e + 1;
    return GPURENT_OK;
}

/* Point whatever refers to entry `from` (its two index slots, its list
 * neighbours, its revoker's list head) at `to`: `from` moves there. */
static void pending_relink(gpurent_trust *t, uint32_t from, uint32_t to)
{
    gr_pendset *s = &t->pending;
    const gr_pend *p = &s->ent[from];
    s->pair.slot[index_slot(&s->pair, pair_home(t, &s->pair, from), from, &t->work)] = to + 1;
    if (p->pk_prev) s->ent[p->pk_prev - 1].pk_next = to + 1;
    else s->head.slot[index_slot(&s->head, head_home(t, &s->head, from), from, &t->work)] = to + 1;
    if (p->pk_next) s->ent[p->pk_next - 1].pk_prev = to + 1;
    if (p->by_prev) {
        s->ent[p->by_prev - 1].by_next = to + 1;
    } else {
        gr_trust_entry *r = find_mut(t, p->r.by); /* a revoker with pending entries is in the store */
        if (r) r->pend_head = to + 1;
    }
    if (p->by_next) s->ent[p->by_next - 1].by_prev = to + 1;
}

/* Delete entry e: out of both indexes and both lists, then the last entry
 * moves into its place (the array stays dense). O(1) expected. */
static void pending_del(gpurent_trust *t, uint32_t e)
{
    gr_pendset *s = &t->pending;
    gr_pend *p = &s->ent[e];
    index_clear(t, &s->pair, index_slot(&s->pair, pair_home(t, &s->pair, e), e, &t->work), pair_home);
    if (p->pk_prev) {
        s->ent[p->pk_prev - 1].pk_next = p->pk_next;
    } else {
        uint32_t hs = index_slot(&s->head, head_home(t, &s->head, e), e, &t->work);
        if (p->pk_next) s->head.slot[hs] = p->pk_next; /* same key, same home */
        else index_clear(t, &s->head, hs, head_home);
    }
    if (p->pk_next) s->ent[p->pk_next - 1].pk_prev = p->pk_prev;
    if (p->by_prev) {
        s->ent[p->by_prev - 1].by_next = p->by_next;
    } else {
        gr_trust_entry *r = find_mut(t, p->r.by);
        if (r) r->pend_head = p->by_next;
    }
    if (p->by_next) s->ent[p->by_next - 1].by_prev = p->by_prev;
    uint32_t last = s->n - 1;
    if (e != last) {
        pending_relink(t, last, e);
        s->ent[e] = s->ent[last];
    }
    s->n--;
}

/* Lists are ordered by their entries' positions, highest first, before a
 * whole list is deleted: deleting in that order, each entry that moves into
 * a freed place is one that stays, and the array that remains depends on
 * the array and the entries deleted alone, not on the lists' order, which a
 * snapshot does not keep (a store loaded from its snapshot and the store it
 * was saved from then stay the same, byte for byte, under the same calls).
 * A merge sort on the list's next links (`off`: pk_next or by_next), no
 * allocation, O(m log m) for m entries. */
#define LINK(q) (*(uint32_t *)((char *)&ent[(q) - 1] + off))

static uint32_t list_merge(gr_pend *ent, size_t off, uint32_t a, uint32_t b)
{
    uint32_t head = 0, *tail = &head;
    while (a && b) {
        uint32_t *take = a > b ? &a : &b;
        *tail = *take;
        tail = &LINK(*take);
        *take = *tail;
    }
    *tail = a ? a : b;
    return head;
}

static uint32_t list_sort(gr_pend *ent, size_t off, uint32_t h, uint32_t n)
{
    if (n <= 1) return h;
    uint32_t mid = h;
    for (uint32_t i = 1; i < n / 2; i++) mid = LINK(mid);
    uint32_t rest = LINK(mid);
    LINK(mid) = 0;
    return list_merge(ent, off, list_sort(ent, off, h, n / 2), list_sort(ent, off, rest, n - n / 2));
}

/* Sort the list at `head` (pk links if by == 0, else by links) highest
 * position first; returns the new head, prev links set. */
static uint32_t list_sort_desc(gr_pend *ent, uint32_t head, int by)
{
    size_t off = by ? offsetof(gr_pend, by_next) : offsetof(gr_pend, pk_next);
    uint32_t n = 0;
    for (uint32_t q = head; q; q = LINK(q)) n++;
    head = list_sort(ent, off, head, n);
    for (uint32_t prev = 0, q = head; q; prev = q, q = LINK(q)) {
        if (by) ent[q - 1].by_prev = prev;
        else ent[q - 1].pk_prev = prev;
    }
    return head;
}
#undef LINK

/* Every pending revocation of pk goes (it stands now, or can no longer
 * matter): each revoker gets its share back. O(their number) expected,
 * times the log of it for the sort. */
static void pending_drop_key(gpurent_trust *t, const uint8_t pk[32])
{
    uint32_t hs0 = pending_head_slot(t, pk);
    if (hs0 != UINT32_MAX) t->pending.head.slot[hs0] = list_sort_desc(t->pending.ent, t->pending.head.slot[hs0], 0);
    for (uint32_t hs; (hs = pending_head_slot(t, pk)) != UINT32_MAX;) {
        uint32_t e = t->pending.head.slot[hs] - 1;
        gr_trust_entry *by = find_mut(t, t->pending.ent[e].r.by);
        if (by && by->pending) by->pending--;
        pending_del(t, e);
    }
}

/* For snapshot.c: add a revocation entry as it was saved (checks are the
 * caller's: a pending one's revoker is in the store, its count is loaded). */
int gr_trust_revset_add(gpurent_trust *t, int pending, const uint8_t pk[32], const uint8_t by[32])
{
    if (pending) return pending_add(t, pk, find_mut(t, by));
    int rc = standing_add(t, pk);
    if (!rc && !gr_trust_find(t, pk)) t->standing_out++;
    return rc;
}

int gr_trust_revset_has(const gpurent_trust *t, int pending, const uint8_t pk[32], const uint8_t *by)
{
    if (!pending) return standing_find(t, pk) != UINT32_MAX;
    return by ? pending_find(t, pk, by) != UINT32_MAX : pending_head_slot(t, pk) != UINT32_MAX;
}

GPURENT_API gpurent_status gpurent_trust_new(gpurent_trust **out, const gpurent_trust_options *opts)
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    gpurent_trust_options o = GPURENT_TRUST_OPTIONS_INIT;
    int rc = gr_ensure_init();
    if (!rc && opts && !(rc = gr_check_version(opts->version, GPURENT_TRUST_OPTIONS_VERSION, "trust_options")))
        o = *opts;
    if (rc) return rc;
    if (o.replay_capacity == 0) o.replay_capacity = GPURENT_TRUST_REPLAY_CAPACITY_DEFAULT;
    if (o.replay_capacity > GPURENT_REPLAY_MAX)
        return gr_fail(GPURENT_E_INVALID_ARG, "trust_options.replay_capacity: %u, allowed 0 (the default) or 1..%u", o.replay_capacity,
                       GPURENT_REPLAY_MAX);
    gpurent_trust *t = gr_calloc(1, sizeof *t);
    if (!t) return gr_fail(GPURENT_E_NOMEM, "trust store");
    if ((rc = gr_replay_init(&t->replay, o.replay_capacity))) {
        gr_free(t);
        return rc;
    }
    randombytes_buf(t->hkey, sizeof t->hkey);
    if (pthread_rwlock_init(&t->lock, NULL) != 0) {
        gr_replay_free(&t->replay);
        gr_free(t);
        return gr_fail(GPURENT_E_NOMEM, "trust store lock");
    }
    *out = t;
    return GPURENT_OK;
}

GPURENT_API void gpurent_trust_free(gpurent_trust *t)
{
    if (!t) return;
    pthread_rwlock_destroy(&t->lock);
    gr_replay_free(&t->replay);
    gr_free(t->keys);
    revset_free(&t->revoked);
    pendset_free(&t->pending);
    gr_free(t);
}

/* Binary search over records of `size` bytes starting with a 32-byte key:
 * the index of `pk`, or of where it would be inserted. */
static uint32_t lower_bound(const void *base, uint32_t n, size_t size, const uint8_t *pk)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (memcmp((const uint8_t *)base + (size_t)mid * size, pk, 32) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const gr_trust_entry *gr_trust_find(const gpurent_trust *t, const uint8_t pk[32])
{
    uint32_t i = lower_bound(t->keys, t->nkeys, sizeof *t->keys, pk);
    return i < t->nkeys && memcmp(t->keys[i].pk, pk, 32) == 0 ? &t->keys[i] : NULL;
}

int gr_trust_revoked(const gpurent_trust *t, const uint8_t pk[32])
{
    return standing_find(t, pk) != UINT32_MAX || pending_head_slot(t, pk) != UINT32_MAX;
}

static gr_trust_entry *find_mut(gpurent_trust *t, const uint8_t pk[32])
{
    return (gr_trust_entry *)gr_trust_find(t, pk);
}

/* A key joins the store: the revocations that waited for it stand now
 * (a key already in the store cannot be pending, so this runs only here).
 * O(1 + its pending revocations) expected. */
static int settle_pending(gpurent_trust *t, const uint8_t pk[32])
{
    if (pending_head_slot(t, pk) == UINT32_MAX) return GPURENT_OK;
    int rc = standing_find(t, pk) == UINT32_MAX ? standing_add(t, pk) : GPURENT_OK; /* (never standing: see revoke) */
    if (!rc) pending_drop_key(t, pk);
    return rc;
}

/* A revoker leaves the store: the revocations it made of keys not in the
 * store go with it, by its own list (O(its entries) expected). */
static void drop_pending_of(gpurent_trust *t, gr_trust_entry *by)
{
    by->pend_head = list_sort_desc(t->pending.ent, by->pend_head, 1);
    while (by->pend_head) pending_del(t, by->pend_head - 1);
}

/* Make room for one more element of a sorted array (doubling). */
static int grow(void **arr, uint32_t *cap, uint32_t n, size_t size)
{
    if (n < *cap) return GPURENT_OK;
    if (n >= GPURENT_TRUST_MAX_KEYS)
        return gr_fail(GPURENT_E_LIMIT, "trust store: %u entries, the limit", GPURENT_TRUST_MAX_KEYS);
    uint32_t c = *cap ? *cap * 2 : 16;
    void *p = gr_realloc(*arr, (size_t)c * size);
    if (!p) return gr_fail(GPURENT_E_NOMEM, "trust store");
    *arr = p;
    *cap = c;
    return GPURENT_OK;
}

static int add_locked(gpurent_trust *t, const gr_trust_entry *e)
{
    uint32_t i = lower_bound(t->keys, t->nkeys, sizeof *t->keys, e->pk);
    if (i < t->nkeys && memcmp(t->keys[i].pk, e->pk, 32) == 0)
        return gr_fail(GPURENT_E_EXISTS, "trust store: key already present");
    int rc = grow((void **)&t->keys, &t->kcap, t->nkeys, sizeof *t->keys);
    if (rc) return rc;
    memmove(&t->keys[i + 1], &t->keys[i], (t->nkeys - i) * sizeof *t->keys);
    t->keys[i] = *e;
    t->nkeys++;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_trust_add(gpurent_trust *t, const uint8_t pk[GPURENT_KEY_BYTES], uint32_t roles,
                                             uint64_t not_before, uint64_t not_after)
{
    GR_CHECK_ARG(t && pk, "trust or pk is NULL");
    if (roles == 0 || (roles & ~GPURENT_ROLE_ALL))
        return gr_fail(GPURENT_E_INVALID_ARG, "trust_add: roles 0x%x (allowed: non-zero within 0x%x)", roles,
                       GPURENT_ROLE_ALL);
    if (not_after && not_after < not_before)
        return gr_fail(GPURENT_E_INVALID_ARG, "trust_add: not_after before not_before");
    /* Canonical, on the curve, not of small order, in the prime-order
     * subgroup: so distinct accepted key bytes are distinct keys. */
    if (!crypto_core_ed25519_is_valid_point(pk))
        return gr_fail(GPURENT_E_INVALID_ARG, "trust_add: not a valid Ed25519 public key");
    gr_trust_entry e;
    memcpy(e.pk, pk, 32);
    e.roles = roles;
    e.pending = 0;
    e.pend_head = 0;
    e.not_before = not_before;
    e.not_after = not_after;
    pthread_rwlock_wrlock(&t->lock);
    int standing = standing_find(t, pk) != UINT32_MAX;
    int rc = add_locked(t, &e);
    if (!rc && (rc = settle_pending(t, pk))) { /* no memory: the key stays out */
        uint32_t i = lower_bound(t->keys, t->nkeys, sizeof *t->keys, pk);
        memmove(&t->keys[i], &t->keys[i + 1], (t->nkeys - i - 1) * sizeof *t->keys);
        t->nkeys--;
    } else if (!rc && standing) {
        t->standing_out--; /* its revocation is of a key in the store again */
    }
    pthread_rwlock_unlock(&t->lock);
    return rc;
}

GPURENT_API gpurent_status gpurent_trust_remove(gpurent_trust *t, const uint8_t pk[GPURENT_KEY_BYTES])
{
    GR_CHECK_ARG(t && pk, "trust or pk is NULL");
    int rc = GPURENT_OK;
    pthread_rwlock_wrlock(&t->lock);
    uint32_t i = lower_bound(t->keys, t->nkeys, sizeof *t->keys, pk);
    int standing = standing_find(t, pk) != UINT32_MAX;
    if (i < t->nkeys && memcmp(t->keys[i].pk, pk, 32) == 0 && standing && t->standing_out >= GPURENT_TRUST_MAX_KEYS) {
        /* Its revocation must outlive it (the key stays revoked if it comes
         * back), and those of keys not in the store are bounded: the key
         * stays, revoked, which refuses what its absence would. */
        rc = gr_fail(GPURENT_E_LIMIT,
                     "trust store: %u standing revocations of keys not in the store, the limit; the revoked key stays",
                     GPURENT_TRUST_MAX_KEYS);
    } else if (i < t->nkeys && memcmp(t->keys[i].pk, pk, 32) == 0) {
        drop_pending_of(t, &t->keys[i]);
        t->standing_out += (uint32_t)standing;
        memmove(&t->keys[i], &t->keys[i + 1], (t->nkeys - i - 1) * sizeof *t->keys);
        t->nkeys--;
    } else {
        rc = gr_fail(GPURENT_E_NOT_FOUND, "trust store: key not present");
    }
    pthread_rwlock_unlock(&t->lock);
    return rc;
}

GPURENT_API gpurent_status gpurent_trust_roles(const gpurent_trust *t, const uint8_t pk[GPURENT_KEY_BYTES],
                                               uint32_t *roles)
{
    GR_CHECK_ARG(t && pk && roles, "trust, pk or roles is NULL");
    gpurent_trust *mt = (gpurent_trust *)t; /* the lock is not part of the value */
    pthread_rwlock_rdlock(&mt->lock);
    const gr_trust_entry *e = gr_trust_find(t, pk);
    *roles = e ? e->roles : 0;
    pthread_rwlock_unlock(&mt->lock);
    return e ? GPURENT_OK : gr_fail(GPURENT_E_NOT_FOUND, "trust store: key not present");
}

GPURENT_API gpurent_status gpurent_trust_revoke(gpurent_trust *t, const uint8_t pk[GPURENT_KEY_BYTES])
{
    GR_CHECK_ARG(t && pk, "trust or pk is NULL");
    int rc = GPURENT_OK;
    pthread_rwlock_wrlock(&t->lock);
    if (standing_find(t, pk) == UINT32_MAX) {
        /* The operator's own revocations of keys not in the store are
         * bounded by the key limit; one of a key in the store always fits. */
        int in_store = gr_trust_find(t, pk) != NULL;
        if (t->revoked.n >= GPURENT_TRUST_MAX_KEYS && !in_store)
            rc = gr_fail(GPURENT_E_LIMIT, "trust store: %u revocations, the limit", GPURENT_TRUST_MAX_KEYS);
        else if (!(rc = standing_add(t, pk))) {
            t->standing_out += (uint32_t)!in_store;
            /* Revocations of pk waiting for it can no longer matter: it
             * stands now, for good. Their revokers get their share back. */
            pending_drop_key(t, pk);
        }
    }
    pthread_rwlock_unlock(&t->lock);
    return rc;
}

/* The revoker's part, under the write lock. */
static int revoke_by_locked(gpurent_trust *t, const uint8_t pk[32], const uint8_t by[32])
{
    int rc = GPURENT_OK;
    gr_trust_entry *issuer = find_mut(t, by);
    if (standing_find(t, pk) != UINT32_MAX || pending_find(t, pk, by) != UINT32_MAX) {
        /* already revoked, or already pending from this revoker */
    } else if (gr_trust_find(t, pk)) {
        rc = standing_add(t, pk); /* bounded by the keys the operator added */
    } else if (!issuer) {
        rc = gr_fail(GPURENT_E_UNKNOWN_ISSUER, "revocation: the issuer left the store");
    } else if (issuer->pending >= GPURENT_TRUST_MAX_PENDING_REVOCATIONS) {
        rc = gr_fail(GPURENT_E_LIMIT,
                     "revocation: this revoker already has %u revocations of keys not in the store, the limit",
                     GPURENT_TRUST_MAX_PENDING_REVOCATIONS);
    } else if (!(rc = pending_add(t, pk, issuer))) {
        issuer->pending++;
    }
    return rc;
}


int gr_trust_revoke_by(gpurent_trust *t, const uint8_t pk[32], const uint8_t by[32])
{
    pthread_rwlock_wrlock(&t->lock);
    int rc = revoke_by_locked(t, pk, by);
    pthread_rwlock_unlock(&t->lock);
    return rc;
}

int gr_trust_revoke_checked_replay(gpurent_trust *t, const uint8_t pk[32], const uint8_t by[32], uint64_t now,
                                   uint32_t skew, const uint8_t *replay_id)
{
    pthread_rwlock_wrlock(&t->lock);
    /* The issuer was checked when the envelope was verified, under the read
     * lock; another thread may have revoked or removed it, or changed its
     * roles, since. Checked again under the write lock, the revocation acts
     * only if its issuer may still revoke, as if verify and apply were one
     * step. The replay cache's lock is held from its check to its insert
     * (lock order: the store's, then the cache's, as everywhere), so a
     * statement is remembered exactly when it was applied. */
    int st = gr_key_status(t, by, GPURENT_ROLE_REVOKER, pk, now, skew);
    int rc = st ? gr_issuer_fail(st, GPURENT_ROLE_REVOKER) : GPURENT_OK;
    if (replay_id) pthread_mutex_lock(&t->replay.mu);
    if (!rc && replay_id) rc = gr_replay_seen_locked(&t->replay, replay_id);
    if (!rc) rc = revoke_by_locked(t, pk, by);
    if (!rc && replay_id) gr_replay_insert_locked(&t->replay, replay_id);
    if (replay_id) pthread_mutex_unlock(&t->replay.mu);
    pthread_rwlock_unlock(&t->lock);
    return rc;
}

int gr_trust_revoke_checked(gpurent_trust *t, const uint8_t pk[32], const uint8_t by[32], uint64_t now, uint32_t skew)
{
    return gr_trust_revoke_checked_replay(t, pk, by, now, skew, NULL);
}

GPURENT_API int gpurent_trust_is_revoked(const gpurent_trust *t, const uint8_t pk[GPURENT_KEY_BYTES])
{
    if (!t || !pk) return 0;
    gpurent_trust *mt = (gpurent_trust *)t;
    pthread_rwlock_rdlock(&mt->lock);
    int r = gr_trust_revoked(t, pk);
    pthread_rwlock_unlock(&mt->lock);
    return r;
}

GPURENT_API uint32_t gpurent_trust_key_count(const gpurent_trust *t)
{
    if (!t) return 0;
    gpurent_trust *mt = (gpurent_trust *)t;
    pthread_rwlock_rdlock(&mt->lock);
    uint32_t n = t->nkeys;
    pthread_rwlock_unlock(&mt->lock);
    return n;
}

GPURENT_API void gpurent_trust_replay_clear(gpurent_trust *t)
{
    if (t) gr_replay_clear(&t->replay);
}

GPURENT_API gpurent_status gpurent_trust_adopt_replay(gpurent_trust *dst, const gpurent_trust *src)
{
    GR_CHECK_ARG(dst && src, "dst or src is NULL");
    if (dst == src) return GPURENT_OK;
    return gr_replay_copy(&dst->replay, &((gpurent_trust *)src)->replay); /* the lock is not part of the value */
}
