/* The trust store: trusted keys (sorted by public key), revocations (hash
 * sets: standing ones, and pending ones of keys not in the store, charged to
 * their revokers) and the replay cache. */
#include <sodium.h>
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

static const uint8_t ZERO32[32];

static uint32_t rev_home(const gpurent_trust *t, const gr_revset *s, const uint8_t pk[32])
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, pk, 32, t->hkey);
    uint32_t v;
    memcpy(&v, h, 4);
    return v & s->mask;
}

static void revset_free(gr_revset *s)
{
    gr_free(s->ent);
    gr_free(s->idx);
    memset(s, 0, sizeof *s);
}

/* The entry for (pk, by), or with `by` NULL the first for pk; UINT32_MAX if none. */
static uint32_t revset_find(const gpurent_trust *t, const gr_revset *s, const uint8_t pk[32], const uint8_t *by)
{
    if (!s->n) return UINT32_MAX;
    for (uint32_t i = rev_home(t, s, pk); s->idx[i]; i = (i + 1) & s->mask) {
        const gr_rev *e = &s->ent[s->idx[i] - 1];
        if (memcmp(e->pk, pk, 32) == 0 && (!by || memcmp(e->by, by, 32) == 0)) return s->idx[i] - 1;
    }
    return UINT32_MAX;
}

static void revset_index(const gpurent_trust *t, gr_revset *s, uint32_t e)
{
    uint32_t i = rev_home(t, s, s->ent[e].pk);
    while (s->idx[i]) i = (i + 1) & s->mask;
    s->idx[i] = e + 1;
}

/* Room for one more entry: the array doubles, the index stays at most half full. */
static int revset_reserve(const gpurent_trust *t, gr_revset *s)
{
    if (s->n == s->cap) {
        uint32_t c = s->cap ? s->cap * 2 : 16;
        gr_rev *p = gr_realloc(s->ent, (size_t)c * sizeof *p);
        if (!p) return gr_fail(GPURENT_E_NOMEM, "trust store: revocations");
        s->ent = p;
        s->cap = c;
    }
    if ((uint64_t)(s->n + 1) * 2 <= (uint64_t)s->mask + 1 && s->mask) return GPURENT_OK;
    uint32_t size = s->mask ? (s->mask + 1) * 2 : 32;
    uint32_t *idx = gr_calloc(size, sizeof *idx);
    if (!idx) return gr_fail(GPURENT_E_NOMEM, "trust store: revocation index");
    gr_free(s->idx);
    s->idx = idx;
    s->mask = size - 1;
    for (uint32_t e = 0; e < s->n; e++) revset_index(t, s, e);
    return GPURENT_OK;
}

static int revset_add(const gpurent_trust *t, gr_revset *s, const uint8_t pk[32], const uint8_t by[32])
{
    int rc = revset_reserve(t, s);
    if (rc) return rc;
    memcpy(s->ent[s->n].pk, pk, 32);
    memcpy(s->ent[s->n].by, by, 32);
    revset_index(t, s, s->n++);
    return GPURENT_OK;
}

static uint32_t revset_slot(const gpurent_trust *t, const gr_revset *s, uint32_t e)
{
    uint32_t i = rev_home(t, s, s->ent[e].pk);
    while (s->idx[i] != e + 1) i = (i + 1) & s->mask;
    return i;
}

/* Delete entry e: backward-shift deletion in the index (no tombstones), then
 * the last entry moves into e's place. */
static void revset_del(const gpurent_trust *t, gr_revset *s, uint32_t e)
{
    uint32_t i = revset_slot(t, s, e), j = i;
    for (;;) {
        j = (j + 1) & s->mask;
        if (!s->idx[j]) break;
        uint32_t k = rev_home(t, s, s->ent[s->idx[j] - 1].pk);
        /* The entry at j may fill the hole at i unless its home lies
         * cyclically in (i, j]. */
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays) continue;
        s->idx[i] = s->idx[j];
        i = j;
    }
    s->idx[i] = 0;
    uint32_t last = s->n - 1;
    if (e != last) {
        s->idx[revset_slot(t, s, last)] = e + 1;
        s->ent[e] = s->ent[last];
    }
    s->n--;
}

/* For snapshot.c: add a revocation entry as it was saved (checks are the caller's). */
int gr_trust_revset_add(gpurent_trust *t, int pending, const uint8_t pk[32], const uint8_t by[32])
{
    return revset_add(t, pending ? &t->pending : &t->revoked, pk, by);
}

int gr_trust_revset_has(const gpurent_trust *t, int pending, const uint8_t pk[32], const uint8_t *by)
{
    return revset_find(t, pending ? &t->pending : &t->revoked, pk, by) != UINT32_MAX;
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
    revset_free(&t->pending);
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
    return revset_find(t, &t->revoked, pk, NULL) != UINT32_MAX ||
           revset_find(t, &t->pending, pk, NULL) != UINT32_MAX;
}

static gr_trust_entry *find_mut(gpurent_trust *t, const uint8_t pk[32])
{
    return (gr_trust_entry *)gr_trust_find(t, pk);
}

/* A key joins the store: the revocations that waited for it stand now
 * (a key already in the store cannot be pending, so this runs only here). */
static int settle_pending(gpurent_trust *t, const uint8_t pk[32])
{
    uint32_t e = revset_find(t, &t->pending, pk, NULL);
    if (e == UINT32_MAX) return GPURENT_OK;
    if (revset_find(t, &t->revoked, pk, NULL) == UINT32_MAX) {
        int rc = revset_add(t, &t->revoked, pk, ZERO32);
        if (rc) return rc;
    }
    for (; e != UINT32_MAX; e = revset_find(t, &t->pending, pk, NULL)) {
        gr_trust_entry *by = find_mut(t, t->pending.ent[e].by);
        if (by && by->pending) by->pending--;
        revset_del(t, &t->pending, e);
    }
    return GPURENT_OK;
}

/* A revoker leaves the store: the revocations it made of keys not in the
 * store go with it (a linear scan, on this rare operator call only). */
static void drop_pending_of(gpurent_trust *t, const uint8_t by[32])
{
    for (uint32_t e = 0; e < t->pending.n;) {
        if (memcmp(t->pending.ent[e].by, by, 32) == 0) revset_del(t, &t->pending, e); /* e now holds the last */
        else e++;
    }
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
    e.not_before = not_before;
    e.not_after = not_after;
    pthread_rwlock_wrlock(&t->lock);
    int rc = add_locked(t, &e);
    if (!rc && (rc = settle_pending(t, pk))) { /* no memory: the key stays out */
        uint32_t i = lower_bound(t->keys, t->nkeys, sizeof *t->keys, pk);
        memmove(&t->keys[i], &t->keys[i + 1], (t->nkeys - i - 1) * sizeof *t->keys);
        t->nkeys--;
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
    if (i < t->nkeys && memcmp(t->keys[i].pk, pk, 32) == 0) {
        if (t->keys[i].pending) drop_pending_of(t, pk);
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
    if (revset_find(t, &t->revoked, pk, NULL) == UINT32_MAX) {
        /* The operator's own revocations of keys not in the store are
         * bounded by the key limit; one of a key in the store always fits. */
        if (t->revoked.n >= GPURENT_TRUST_MAX_KEYS && !gr_trust_find(t, pk))
            rc = gr_fail(GPURENT_E_LIMIT, "trust store: %u revocations, the limit", GPURENT_TRUST_MAX_KEYS);
        else
            rc = revset_add(t, &t->revoked, pk, ZERO32);
    }
    pthread_rwlock_unlock(&t->lock);
    return rc;
}

int gr_trust_revoke_by(gpurent_trust *t, const uint8_t pk[32], const uint8_t by[32])
{
    int rc = GPURENT_OK;
    pthread_rwlock_wrlock(&t->lock);
    gr_trust_entry *issuer = find_mut(t, by);
    if (revset_find(t, &t->revoked, pk, NULL) != UINT32_MAX || revset_find(t, &t->pending, pk, by) != UINT32_MAX) {
        /* already revoked, or already pending from this revoker */
    } else if (gr_trust_find(t, pk)) {
        rc = revset_add(t, &t->revoked, pk, ZERO32); /* bounded by the keys the operator added */
    } else if (!issuer) {
        rc = gr_fail(GPURENT_E_UNKNOWN_ISSUER, "revocation: the issuer left the store");
    } else if (issuer->pending >= GPURENT_TRUST_MAX_PENDING_REVOCATIONS) {
        rc = gr_fail(GPURENT_E_LIMIT,
                     "revocation: this revoker already has %u revocations of keys not in the store, the limit",
                     GPURENT_TRUST_MAX_PENDING_REVOCATIONS);
    } else if (!(rc = revset_add(t, &t->pending, pk, by))) {
        issuer->pending++;
    }
    pthread_rwlock_unlock(&t->lock);
    return rc;
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
