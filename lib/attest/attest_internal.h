/* Internals of the attest module shared between its files. */
#ifndef GPURENT_ATTEST_INTERNAL_H
#define GPURENT_ATTEST_INTERNAL_H

#include <pthread.h>

#include "../wire/envelope_internal.h"
#include "gpurent/attest.h"
#include "trust_replay_internal.h"

/* ---- keys (key.c) ---- */
int gr_key_sign(const gpurent_key *key, const uint8_t *msg, size_t len, uint8_t sig[GPURENT_SIGNATURE_BYTES]);
const uint8_t *gr_key_pk(const gpurent_key *key);
/* The seed in guarded memory, for sealing into a key file only. */
const uint8_t *gr_key_seed(const gpurent_key *key);

/* ---- the signed message (pae.c) ----
 * M = LE64(3) || LE64(|C|) || C || LE64(8) || LE64(statement) || LE64(|B|) || B
 * with C the context string and B the unsigned body (0x88 then `rest`).
 * Small messages are built on the stack. */
#define GR_PAE_CONTEXT "libgpurent envelope v1"
#define GR_MSG_STACK 2048
typedef struct gr_msg {
    uint8_t *p;
    size_t len;
    uint8_t stack[GR_MSG_STACK];
} gr_msg;

int gr_msg_build(gr_msg *m, uint32_t statement, const uint8_t *rest, size_t rest_len);
void gr_msg_free(gr_msg *m);
/* BLAKE2b-256 of the signed message of a parsed envelope. */
int gr_statement_digest(uint32_t statement, const uint8_t *rest, size_t rest_len, uint8_t out[32]);

/* ---- replay cache (replay.c): a FIFO ring of statement ids with a
 * linear-probing index; eviction drops the oldest, deterministically. ---- */
typedef struct gr_replay {
    pthread_mutex_t mu;
    uint32_t cap, count, head, mask;
    uint8_t (*ring)[32];
    uint32_t *table; /* ring slot + 1; 0 = empty */
    uint8_t key[32]; /* keys the index hash only; never changes an answer */
} gr_replay;

int gr_replay_init(gr_replay *r, uint32_t cap);
void gr_replay_free(gr_replay *r);
void gr_replay_clear(gr_replay *r);
/* Replace dst's window (capacity, key, ids, eviction order) with a copy of
 * src's; dst is unchanged on failure (GPURENT_E_NOMEM). dst != src. */
int gr_replay_copy(gr_replay *dst, gr_replay *src);
/* The statement id of (issuer, nonce). */
void gr_replay_id(const gr_replay *r, const uint8_t issuer[32], const uint8_t nonce[16], uint8_t id[32]);
/* GPURENT_E_REPLAYED if `id` is cached, else remember it and return OK. */
int gr_replay_check_insert(gr_replay *r, const uint8_t id[32]);
/* The two halves of gr_replay_check_insert for a caller that holds r->mu
 * and must do something that may fail between them (a revocation is
 * remembered only once it is applied): GPURENT_E_REPLAYED if `id` is cached;
 * remember `id` (not cached). */
int gr_replay_seen_locked(const gr_replay *r, const uint8_t id[32]);
void gr_replay_insert_locked(gr_replay *r, const uint8_t id[32]);

/* ---- trust store (trust.c) ---- */
typedef struct gr_trust_entry {
    uint8_t pk[32];
    uint32_t roles;
    uint32_t pending;   /* revocations it signed of keys not in the store (held in `pending`) */
    uint32_t pend_head; /* the newest of them: its entry in `pending` + 1, 0 if none */
    uint64_t not_before;
    uint64_t not_after; /* 0 = no end */
} gr_trust_entry;

/* An open-addressing (linear probing) index over a dense array of entries:
 * each slot holds an entry + 1, 0 is empty; at most half full; deletion
 * shifts back (no tombstones). Homes come from keyed SipHash (the store's
 * hkey), so chosen keys cannot pile up in one probe run. */
typedef struct gr_index {
    uint32_t *slot;
    uint32_t mask; /* slots - 1 (0 while empty) */
} gr_index;

/* A revocation: the revoked key and its revoker (zero in the standing set). */
typedef struct gr_rev {
    uint8_t pk[32];
    uint8_t by[32];
} gr_rev;

/* The standing revocations: unique keys, indexed on the key. */
typedef struct gr_revset {
    gr_rev *ent;
    uint32_t n, cap;
    gr_index idx;
} gr_revset;

/* A pending revocation, linked (entry + 1, 0 ends) to the other pending
 * revocations of the same key and to the other ones of the same revoker, so
 * settling a key or dropping a revoker touches only its own entries. */
typedef struct gr_pend {
    gr_rev r;
    uint32_t pk_next, pk_prev;
    uint32_t by_next, by_prev;
} gr_pend;

/* The pending revocations: a dense array (the saved order), an index on the
 * (key, revoker) pair, so R revokers of one key are R distinct homes and
 * not one probe run of length R, and an index on the key holding the
 * newest entry of each key (the head of its list). */
typedef struct gr_pendset {
    gr_pend *ent;
    uint32_t n, cap;
    gr_index pair;
    gr_index head;
} gr_pendset;

struct gpurent_trust {
    pthread_rwlock_t lock; /* keys, revoked, pending, standing_out and work */
    gr_trust_entry *keys;  /* sorted by pk */
    uint32_t nkeys, kcap;
    /* Standing revocations: the operator's, and those of keys that were in
     * the store when revoked (or were added later while pending). */
    gr_revset revoked;
    /* How many of them are of keys not in the store: at most
     * GPURENT_TRUST_MAX_KEYS (gpurent_trust_remove of a revoked key past it
     * is refused), so the standing set stays within 2 x GPURENT_TRUST_MAX_KEYS. */
    uint32_t standing_out;
    /* Revocations of keys not in the store and not standing, each charged
     * to its revoker (at most GPURENT_TRUST_MAX_PENDING_REVOCATIONS each). */
    gr_pendset pending;
    /* Index probe steps taken by the calls that change the revocation sets
     * (under the write lock): tests count work with it, never time. */
    uint64_t work;
    uint8_t hkey[16];
    gr_replay replay;
};

/* The revoker's part of gpurent_trust_apply_revocation (verified already). */
int gr_trust_revoke_by(gpurent_trust *t, const uint8_t pk[32], const uint8_t by[32]);
/* The same with the issuer checked again under the write lock (as
 * gr_key_status, role revoker, a key revoking itself whatever its roles):
 * what gpurent_trust_apply_revocation calls after verifying the envelope
 * (without its replay step). With `replay_id` not NULL it is the replay
 * step too, under the same locks: GPURENT_E_REPLAYED when the id is cached,
 * and the id is remembered only when the revocation was applied, so a
 * revocation refused for lack of memory or room can be sent again. */
int gr_trust_revoke_checked_replay(gpurent_trust *t, const uint8_t pk[32], const uint8_t by[32], uint64_t now,
                                   uint32_t skew, const uint8_t *replay_id);
/* gr_trust_revoke_checked_replay without the replay step. */
int gr_trust_revoke_checked(gpurent_trust *t, const uint8_t pk[32], const uint8_t by[32], uint64_t now, uint32_t skew);
/* verify.c: the status of a signer's key at `now` (lock held by the
 * caller), and the error an issuer's status gives. */
int gr_key_status(const gpurent_trust *t, const uint8_t *pk, uint32_t role, const uint8_t *self, uint64_t now,
                  uint32_t skew);
int gr_issuer_fail(int st, uint32_t role);

/* For snapshots: add a saved revocation entry to the standing (pending 0)
 * or pending set as it is; whether (pk, by) is there (by NULL: any). */
int gr_trust_revset_add(gpurent_trust *t, int pending, const uint8_t pk[32], const uint8_t by[32]);
int gr_trust_revset_has(const gpurent_trust *t, int pending, const uint8_t pk[32], const uint8_t *by);

/* Lookups; the caller holds the read lock. */
const gr_trust_entry *gr_trust_find(const gpurent_trust *t, const uint8_t pk[32]);
int gr_trust_revoked(const gpurent_trust *t, const uint8_t pk[32]);

/* ---- verification (verify.c) ---- */
typedef struct gr_vopts {
    uint32_t statement;
    uint32_t role;
    uint32_t quorum;
    uint32_t check_replay;
    const uint8_t *self_key; /* a signer with this key needs no role (self-revocation) */
} gr_vopts;

int gr_vopts_resolve(const gpurent_verify_options *opts, gr_vopts *o);
/* Every check but replay. On success `counted` has bit i set for each
 * signature v->sigs[i] that counted towards the quorum. */
int gr_verify_stateless(gpurent_trust *t, const uint8_t *data, size_t len, uint64_t now, uint32_t skew,
                        const gr_vopts *o, gr_env_view *v, uint32_t *counted);

#endif
