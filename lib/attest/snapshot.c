/* Snapshots of a trust store: its keys (roles, validity), the standing and
 * pending revocations, and the replay cache (its id key and the remembered
 * statement ids, oldest first), in the container of lib/core/snapshot.c
 * (docs/wire-format.md, "Snapshots"). A store restored from a snapshot
 * refuses exactly the statements the saved one would: the same keys, the
 * same revocations, the same replay window with the same eviction order.
 *
 * The replay cache's id key is saved too (ids are keyed with it), so a
 * trust snapshot is written with mode 0600 like every snapshot file. */
#include <sodium.h>
#include <string.h>

#include "../core/snap_internal.h"
#include "attest_internal.h"

/* 2: the tree checksum (lib/core/snapshot.c); version 1 (the whole-file
 * checksum, the same body) still loads. */
#define SNAP_VERSION 2u
_Static_assert(SNAP_VERSION >= GR_SNAP_TREE_TRUST, "the current version has the tree checksum");
#define WHAT "trust snapshot"
#define BAD(...) gr_fail(GPURENT_E_SNAPSHOT_CORRUPT, WHAT ": " __VA_ARGS__)
#define KEY_BYTES 56u /* pk, roles, pending, not_before, not_after */

/* The parameters digest: BLAKE2b-256 of "gpurent trust v1" || LE32(replay_capacity). */
static void params_digest(uint32_t replay_capacity, uint8_t out[32])
{
    uint8_t m[20];
    memcpy(m, "gpurent trust v1", 16);
    gr_le_store(m + 16, replay_capacity, 4);
    crypto_generichash(out, 32, m, sizeof m, NULL, 0);
}

static void put_rev(gr_bytes *b, const gr_rev *r)
{
    gr_put_raw(b, r->pk, 32);
    gr_put_raw(b, r->by, 32);
}

GPURENT_API gpurent_status gpurent_trust_save(const gpurent_trust *t, uint64_t input_seq, gpurent_buf *out)
{
    GR_CHECK_ARG(t && out, "trust or out is NULL");
    gpurent_trust *mt = (gpurent_trust *)t; /* the locks are not part of the value */
    uint8_t digest[32];
    params_digest(t->replay.cap, digest);
    pthread_rwlock_rdlock(&mt->lock);
    pthread_mutex_lock(&mt->replay.mu);
    const gr_replay *r = &t->replay;
    size_t hint = 128 + (size_t)t->nkeys * KEY_BYTES + ((size_t)t->revoked.n + t->pending.n) * 64 + (size_t)r->count * 32;
    gr_bytes b;
    gr_snap_begin(&b, GR_SNAP_TRUST, SNAP_VERSION, digest, input_seq, hint);
    gr_put_u32(&b, r->cap);
    gr_put_u32(&b, t->nkeys);
    for (uint32_t i = 0; i < t->nkeys; i++) {
        const gr_trust_entry *e = &t->keys[i];
        gr_put_raw(&b, e->pk, 32);
        gr_put_u32(&b, e->roles);
        gr_put_u32(&b, e->pending);
        gr_put_u64(&b, e->not_before);
        gr_put_u64(&b, e->not_after);
    }
    gr_put_u32(&b, t->revoked.n);
    for (uint32_t i = 0; i < t->revoked.n; i++) put_rev(&b, &t->revoked.ent[i]);
    gr_put_u32(&b, t->pending.n);
    for (uint32_t i = 0; i < t->pending.n; i++) put_rev(&b, &t->pending.ent[i].r);
    gr_put_raw(&b, r->key, 32);
    gr_put_u32(&b, r->count);
    /* oldest first: the ring starts at head once it is full */
    uint32_t first = r->count == r->cap ? r->head : 0;
    for (uint32_t k = 0; k < r->count; k++) gr_put_raw(&b, r->ring[(first + k) % r->cap], 32);
    pthread_mutex_unlock(&mt->replay.mu);
    pthread_rwlock_unlock(&mt->lock);
    return gr_snap_finish(&b, out);
}

static int get_keys(gr_snap_reader *r, gpurent_trust *t)
{
    uint32_t n = gr_get_count(r, KEY_BYTES);
    if (n > GPURENT_TRUST_MAX_KEYS) return BAD("%u keys, above %u", n, GPURENT_TRUST_MAX_KEYS);
    if (n && !(t->keys = gr_calloc(n, sizeof *t->keys))) return gr_fail(GPURENT_E_NOMEM, WHAT ": %u keys", n);
    t->kcap = n;
    for (uint32_t i = 0; i < n; i++) {
        gr_trust_entry *e = &t->keys[i];
        const uint8_t *pk = gr_get_raw(r, 32);
        if (!pk) return gr_snap_done(r, WHAT);
        memcpy(e->pk, pk, 32);
        e->roles = gr_get_u32(r);
        e->pending = gr_get_u32(r);
        e->not_before = gr_get_u64(r);
        e->not_after = gr_get_u64(r);
        if (i && memcmp(t->keys[i - 1].pk, e->pk, 32) >= 0) return BAD("keys %u and %u out of order or repeated", i - 1, i);
        if (e->roles == 0 || (e->roles & ~GPURENT_ROLE_ALL) || (e->not_after && e->not_after < e->not_before) ||
            e->pending > GPURENT_TRUST_MAX_PENDING_REVOCATIONS)
            return BAD("key %u: roles 0x%x, validity or pending count out of range", i, e->roles);
        if (!crypto_core_ed25519_is_valid_point(e->pk)) return BAD("key %u: not a valid Ed25519 public key", i);
        t->nkeys = i + 1;
    }
    return GPURENT_OK;
}

static const uint8_t ZERO32[32];

/* Standing revocations: unique keys, no revoker recorded. Pending ones: of
 * keys not in the store and not standing, each pair once, by a key in the
 * store whose pending count matches. */
static int get_revset(gr_snap_reader *r, gpurent_trust *t, int pending)
{
    uint32_t n = gr_get_count(r, 64);
    /* Standing: one per key in the store, and at most 2 x
     * GPURENT_TRUST_MAX_KEYS of keys not in it (the store keeps
     * GPURENT_TRUST_MAX_KEYS; 0.4.0 kept no bound and such files load, and
     * revoking a key in the store always fits, so bounding the whole set by
     * 2 x GPURENT_TRUST_MAX_KEYS refused a store saved from such a file). */
    /* Pending: at most each revoker's share (the counts are checked against
     * the entries below; the file's length bounds the memory). A fixed
     * 4 x GPURENT_TRUST_MAX_KEYS refused the snapshot of a store with more
     * than 1 024 revokers at their full share. */
    uint64_t shares = (uint64_t)t->nkeys * GPURENT_TRUST_MAX_PENDING_REVOCATIONS;
    uint32_t max = pending ? (shares > UINT32_MAX ? UINT32_MAX : (uint32_t)shares)
                           : t->nkeys + 2 * GPURENT_TRUST_MAX_KEYS;
    if (n > max) return BAD("%u revocations, above %u", n, max);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *pk = gr_get_raw(r, 32), *by = gr_get_raw(r, 32);
        if (!by) return gr_snap_done(r, WHAT);
        if (!pending && (memcmp(by, ZERO32, 32) != 0 || gr_trust_revset_has(t, 0, pk, NULL)))
            return BAD("standing revocation %u: repeated or with a revoker", i);
        if (pending && (gr_trust_find(t, pk) || !gr_trust_find(t, by) || gr_trust_revset_has(t, 0, pk, NULL) ||
                        gr_trust_revset_has(t, 1, pk, by)))
            return BAD("pending revocation %u: of a key in the store, revoked already, repeated, or by an unknown key", i);
        int rc = gr_trust_revset_add(t, pending, pk, by);
        if (rc) return rc;
    }
    if (!pending && t->standing_out > 2 * GPURENT_TRUST_MAX_KEYS)
        return BAD("%u standing revocations of keys not in the store, above %u", t->standing_out,
                   2 * GPURENT_TRUST_MAX_KEYS);
    return GPURENT_OK;
}

/* Each revoker's pending count must be the number of pending entries it
 * issued: counted per entry with a binary search (linear-logarithmic, so a
 * hostile snapshot cannot make the check quadratic). */
static int check_pending_counts(const gpurent_trust *t)
{
    uint32_t *count = t->nkeys ? gr_calloc(t->nkeys, sizeof *count) : NULL;
    if (t->nkeys && !count) return gr_fail(GPURENT_E_NOMEM, WHAT ": pending counts");
    for (uint32_t e = 0; e < t->pending.n; e++) {
        const gr_trust_entry *by = gr_trust_find(t, t->pending.ent[e].r.by);
        count[by - t->keys]++; /* get_revset checked the revoker is in the store */
    }
    int rc = GPURENT_OK;
    for (uint32_t i = 0; i < t->nkeys && !rc; i++)
        if (count[i] != t->keys[i].pending)
            rc = BAD("key %u: pending count %u, %u pending revocations", i, t->keys[i].pending, count[i]);
    gr_free(count);
    return rc;
}

static int get_replay(gr_snap_reader *r, gpurent_trust *t)
{
    const uint8_t *key = gr_get_raw(r, 32);
    uint32_t n = gr_get_count(r, 32);
    if (!key) return gr_snap_done(r, WHAT);
    if (n > t->replay.cap) return BAD("%u remembered statements, capacity %u", n, t->replay.cap);
    memcpy(t->replay.key, key, 32);
    for (uint32_t k = 0; k < n; k++) {
        const uint8_t *id = gr_get_raw(r, 32);
        if (!id) return gr_snap_done(r, WHAT);
        if (gr_replay_check_insert(&t->replay, id)) return BAD("replay entry %u repeats an earlier one", k);
    }
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_trust_load(gpurent_trust **out, const uint8_t *data, size_t len,
                                              const gpurent_trust_options *expect, uint64_t *input_seq)
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    uint8_t want[32];
    int rc;
    if (expect) {
        if ((rc = gr_check_version(expect->version, GPURENT_TRUST_OPTIONS_VERSION, "trust_options"))) return rc;
        /* 0 is the default capacity, as in gpurent_trust_new. */
        params_digest(expect->replay_capacity ? expect->replay_capacity : GPURENT_TRUST_REPLAY_CAPACITY_DEFAULT, want);
    }
    gr_snap_header h;
    gr_snap_reader r;
    if ((rc = gr_snap_open(data, len, GR_SNAP_TRUST, SNAP_VERSION, expect ? want : NULL, WHAT, &h, &r))) return rc;
    gpurent_trust_options o = GPURENT_TRUST_OPTIONS_INIT;
    o.replay_capacity = gr_get_u32(&r);
    /* A file holds the resolved capacity: 0 (which the options read as the
     * default) would be a second encoding of the same store. */
    if (o.replay_capacity == 0) return BAD("replay capacity 0");
    uint8_t mine[32];
    params_digest(o.replay_capacity, mine);
    if (memcmp(mine, h.params, 32) != 0) return BAD("the header's params digest is not its options'");
    gpurent_trust *t = NULL;
    if ((rc = gpurent_trust_new(&t, &o))) return rc == GPURENT_E_INVALID_ARG ? BAD("replay capacity out of range") : rc;
    rc = get_keys(&r, t);
    if (!rc) rc = get_revset(&r, t, 0);
    if (!rc) rc = get_revset(&r, t, 1);
    if (!rc) rc = check_pending_counts(t);
    if (!rc) rc = get_replay(&r, t);
    if (!rc) rc = gr_snap_done(&r, WHAT);
    if (rc) {
        gpurent_trust_free(t);
        return rc;
    }
    if (input_seq) *input_seq = h.input_seq;
    *out = t;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_trust_save_file(const gpurent_trust *t, uint64_t input_seq, const char *path)
{
    GR_CHECK_ARG(t && path, "trust or path is NULL");
    gpurent_buf b = {0};
    int rc = gpurent_trust_save(t, input_seq, &b);
    if (!rc) rc = gr_file_write_atomic(path, b.data, b.len, 1, WHAT);
    gpurent_buf_free(&b);
    return rc;
}

GPURENT_API gpurent_status gpurent_trust_load_file(gpurent_trust **out, const char *path,
                                                   const gpurent_trust_options *expect, uint64_t *input_seq)
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    GR_CHECK_ARG(path, "path is NULL");
    gpurent_buf b = {0};
    int rc = gr_file_read(path, (size_t)GR_SNAP_FILE_MAX, &b, WHAT);
    if (!rc) rc = gpurent_trust_load(out, b.data, b.len, expect, input_seq);
    gpurent_buf_free(&b);
    return rc;
}
