/* The trust store: trusted keys (sorted by public key), revoked keys
 * (sorted) and the replay cache. */
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

GPURENT_API gpurent_status gpurent_trust_new(gpurent_trust **out, const gpurent_trust_options *opts)
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    gpurent_trust_options o = GPURENT_TRUST_OPTIONS_INIT;
    int rc = gr_ensure_init();
    if (!rc && opts && !(rc = gr_check_version(opts->version, GPURENT_TRUST_OPTIONS_VERSION, "trust_options")))
        o = *opts;
    if (rc) return rc;
    if (o.replay_capacity < 1 || o.replay_capacity > GPURENT_REPLAY_MAX)
        return gr_fail(GPURENT_E_INVALID_ARG, "trust_options.replay_capacity: %u, allowed 1..%u", o.replay_capacity,
                       GPURENT_REPLAY_MAX);
    gpurent_trust *t = gr_calloc(1, sizeof *t);
    if (!t) return gr_fail(GPURENT_E_NOMEM, "trust store");
    if ((rc = gr_replay_init(&t->replay, o.replay_capacity))) {
        gr_free(t);
        return rc;
    }
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
    gr_free(t->revoked);
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
    uint32_t i = lower_bound(t->revoked, t->nrevoked, 32, pk);
    return i < t->nrevoked && memcmp(t->revoked[i], pk, 32) == 0;
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
    e.not_before = not_before;
    e.not_after = not_after;
    pthread_rwlock_wrlock(&t->lock);
    int rc = add_locked(t, &e);
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
    uint32_t i = lower_bound(t->revoked, t->nrevoked, 32, pk);
    if (!(i < t->nrevoked && memcmp(t->revoked[i], pk, 32) == 0) &&
        !(rc = grow((void **)&t->revoked, &t->rcap, t->nrevoked, 32))) {
        memmove(&t->revoked[i + 1], &t->revoked[i], (size_t)(t->nrevoked - i) * 32);
        memcpy(t->revoked[i], pk, 32);
        t->nrevoked++;
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
