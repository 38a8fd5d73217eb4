/* Signed statements: Ed25519 keys, signed envelopes, a trust store (key ->
 * roles, validity, revocation, replay cache), quorums and bulk verification.
 *
 * docs/attest.md explains the model; docs/wire-format.md ("Signed
 * envelopes") gives the exact bytes that are signed. The envelope header
 * struct (gpurent_envelope) and the revocation record are in wire.h.
 *
 * Threads: keys may sign from several threads at once. A trust store may be
 * used for verification from several threads at once (it locks inside);
 * changes (add, revoke) may run beside verifications. */
#ifndef GPURENT_ATTEST_H
#define GPURENT_ATTEST_H

#include "gpurent/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GPURENT_SEED_BYTES 32

/* ====================================================================== */
/* Keys                                                                    */
/* ====================================================================== */

/**
 * An Ed25519 signing key. Only the 32-byte seed is secret state; it lives in
 * libsodium guarded memory (sodium_malloc: guard pages, canary, read-only
 * after creation, locked against swapping where the system allows) together
 * with the 64-byte secret libsodium derives from it, and is wiped on free.
 * No call ever hands secret bytes back to the caller.
 */
typedef struct gpurent_key gpurent_key;

/** Generate a fresh random key. Free with gpurent_key_free(). */
GPURENT_API gpurent_status gpurent_key_generate(gpurent_key **out);

/** Derive a key from a 32-byte seed (deterministic: the same seed gives the
 *  same key pair). The caller should wipe its copy of the seed. */
GPURENT_API gpurent_status gpurent_key_from_seed(gpurent_key **out, const uint8_t seed[GPURENT_SEED_BYTES]);

/** Copy the key's 32-byte Ed25519 public key into `pk`. */
GPURENT_API gpurent_status gpurent_key_public(const gpurent_key *key, uint8_t pk[GPURENT_KEY_BYTES]);

/** Wipe and free a key. Accepts NULL. */
GPURENT_API void gpurent_key_free(gpurent_key *key);

/** Passphrase sealing of key files (Argon2id via crypto_pwhash, then
 *  XSalsa20-Poly1305 via crypto_secretbox). The limits are stored in the
 *  file, so a file is loaded with the limits it was saved with. */
#define GPURENT_KEYFILE_OPTIONS_VERSION 1
/* Zero means the default in every field. */
typedef struct gpurent_keyfile_options {
    unsigned int version;
    uint64_t opslimit; /* Argon2id passes, 1..16; 0 = the default, 2 (libsodium's "interactive") */
    uint64_t memlimit; /* bytes, 8 KiB..1 GiB; 0 = the default, 64 MiB ("interactive") */
} gpurent_keyfile_options;
#define GPURENT_KEYFILE_OPTIONS_INIT {GPURENT_KEYFILE_OPTIONS_VERSION, 2u, 64u << 20}

/** Fill `opts` with the defaults of options version `version`. */
GPURENT_API gpurent_status gpurent_keyfile_options_init(gpurent_keyfile_options *opts, unsigned int version);

/**
 * Seal the key's seed with a passphrase (non-empty, at most 4096 bytes) into
 * the key-file bytes described in docs/attest.md. `opts` may be NULL
 * (defaults). Free `out` with gpurent_buf_free().
 */
GPURENT_API gpurent_status gpurent_key_seal(const gpurent_key *key, const char *passphrase,
                                            const gpurent_keyfile_options *opts, gpurent_buf *out);

/**
 * Open sealed key-file bytes. Fails with GPURENT_E_KEYFILE_DAMAGED when the
 * bytes are not an intact key file (checksum, magic, sizes, limits),
 * GPURENT_E_WRONG_PASSPHRASE when the file is intact but the passphrase does
 * not open it, and GPURENT_E_KEY_MISMATCH when the public key recorded in the
 * file (or `expected_pk`, unless NULL) is not the one the seed derives.
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_key_unseal(gpurent_key **out, const uint8_t *data, size_t len,
                                                                const char *passphrase,
                                                                const uint8_t expected_pk[GPURENT_KEY_BYTES]);

/** gpurent_key_seal() written to `path`, replacing what is there: the bytes
 *  go to a new temporary file in the same folder (a random name, created
 *  with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600, so a file or symlink
 *  planted there is never written through), which is fsynced, renamed over
 *  `path` (a symlink at `path` is replaced, never followed), and the folder
 *  fsynced. GPURENT_E_IO on file errors. */
GPURENT_API gpurent_status gpurent_key_save(const gpurent_key *key, const char *path, const char *passphrase,
                                            const gpurent_keyfile_options *opts);

/** gpurent_key_save() that never replaces anything: GPURENT_E_EXISTS when
 *  `path` exists (a file, a folder or a symlink, even a dangling one), decided
 *  atomically (the temporary file is hard-linked into place). */
GPURENT_API gpurent_status gpurent_key_save_new(const gpurent_key *key, const char *path, const char *passphrase,
                                                const gpurent_keyfile_options *opts);

/** gpurent_key_unseal() of the file at `path` (at most 4 KiB). */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_key_load(gpurent_key **out, const char *path, const char *passphrase,
                                                              const uint8_t expected_pk[GPURENT_KEY_BYTES]);

/* ====================================================================== */
/* Signing                                                                 */
/* ====================================================================== */

/**
 * Sign `payload` (a canonical record whose type is hdr->statement) into a
 * new envelope with one signature, the key's. From `hdr` are used:
 * statement, issued_at, expires_at, nonce and subject. The issuer is the
 * key's public key (a non-zero hdr->issuer that differs fails with
 * GPURENT_E_KEY_MISMATCH). An all-zero nonce is replaced by 16 random bytes.
 * Free `out` with gpurent_buf_free().
 */
GPURENT_API gpurent_status gpurent_envelope_sign(const gpurent_key *key, const gpurent_envelope *hdr,
                                                 const uint8_t *payload, size_t payload_len, gpurent_buf *out);

/**
 * Add the key's signature to an existing envelope (a quorum statement: k of
 * n parties sign the same bytes). The envelope must be canonical; its
 * existing signatures are NOT checked (verify it first if you should only
 * co-sign what is valid). The signatures stay sorted by public key.
 * GPURENT_E_EXISTS if the key already signed; GPURENT_E_LIMIT when
 * GPURENT_ENVELOPE_MAX_SIGS signatures are there.
 */
GPURENT_API gpurent_status gpurent_envelope_cosign(const gpurent_key *key, const uint8_t *envelope, size_t len,
                                                   gpurent_buf *out);

/**
 * The envelope's statement digest: BLAKE2b-256 of the exact signed message
 * (docs/wire-format.md), so it names the statement independently of which
 * or how many signatures are attached. Other records refer to signed
 * statements by it (gpurent_node.report_digest). The envelope must be
 * canonical; nothing is verified.
 */
GPURENT_API gpurent_status gpurent_envelope_digest(const uint8_t *envelope, size_t len,
                                                   uint8_t digest[GPURENT_DIGEST_BYTES]);

/* ====================================================================== */
/* Trust store                                                             */
/* ====================================================================== */

/** Roles a trusted key may hold (a bitmask). */
typedef enum gpurent_role {
    GPURENT_ROLE_PROVIDER = 1u << 0,  /* GPU reports, offers */
    GPURENT_ROLE_AUDITOR = 1u << 1,   /* audit reports, tier certificates */
    GPURENT_ROLE_MATCHER = 1u << 2,   /* match receipts */
    GPURENT_ROLE_REVOKER = 1u << 3,   /* revocation statements about other keys */
    GPURENT_ROLE_REQUESTER = 1u << 4  /* requests */
} gpurent_role;
#define GPURENT_ROLE_ALL 0x1fu

/** The role an issuer needs by default for a statement type (GPU and GPU
 *  report, offer: provider; audit report, tier certificate: auditor; match
 *  receipt: matcher; request: requester; revocation: revoker); 0 for types
 *  without a default. */
GPURENT_API uint32_t gpurent_statement_default_role(uint32_t statement);

/**
 * The trust store: which public keys are trusted for which roles and when,
 * which keys are revoked, and the replay cache of statements already
 * accepted. Revocation is permanent for the life of the store.
 *
 * Cost, with K keys in the store and whatever revokers send: keys are a
 * sorted array (lookups O(log K), add and remove move the array: O(K)
 * bytes, operator calls only); revocations are hash sets with keyed SipHash
 * homes, so every revocation call is O(log K) expected whatever keys and
 * revokers an attacker chooses, R revokers of one key included (each
 * (key, revoker) pair has its own home). Memory is bounded: at most
 * K + GPURENT_TRUST_MAX_KEYS standing revocations and
 * GPURENT_TRUST_MAX_PENDING_REVOCATIONS pending ones per revoker.
 */
typedef struct gpurent_trust gpurent_trust;

#define GPURENT_TRUST_OPTIONS_VERSION 1
/* Zero means the default in every field. */
typedef struct gpurent_trust_options {
    unsigned int version;
    uint32_t replay_capacity; /* statements remembered, 1..2^24; 0 = the default, 16384 */
} gpurent_trust_options;
#define GPURENT_TRUST_REPLAY_CAPACITY_DEFAULT 16384u
#define GPURENT_TRUST_OPTIONS_INIT {GPURENT_TRUST_OPTIONS_VERSION, GPURENT_TRUST_REPLAY_CAPACITY_DEFAULT}
#define GPURENT_TRUST_MAX_KEYS (1u << 20)
/* Revocation statements one revoker may have standing against keys that are
 * not in the store (see gpurent_trust_apply_revocation). */
#define GPURENT_TRUST_MAX_PENDING_REVOCATIONS 4096u
#define GPURENT_REPLAY_MAX (1u << 24)

GPURENT_API gpurent_status gpurent_trust_options_init(gpurent_trust_options *opts, unsigned int version);

/** Create an empty trust store. `opts` may be NULL (defaults). */
GPURENT_API gpurent_status gpurent_trust_new(gpurent_trust **out, const gpurent_trust_options *opts);

/** Free a trust store. Accepts NULL. No call may still be using it. */
GPURENT_API void gpurent_trust_free(gpurent_trust *trust);

/**
 * Trust `pk` for `roles` (gpurent_role bits, non-zero) from `not_before`
 * to `not_after` (Unix seconds, inclusive; not_after 0 = no end).
 * The key must be a canonical Ed25519 point of prime order (no small-order
 * or mixed-order key, which no honest key generation produces): else
 * GPURENT_E_INVALID_ARG. GPURENT_E_EXISTS if the key is already there (remove
 * it first to change it); GPURENT_E_LIMIT at GPURENT_TRUST_MAX_KEYS keys. A
 * revoked key may be added but stays revoked; the revocations of it that
 * were pending stand from now on (their revokers get their share back).
 * Cost: O(K) to move the sorted array, plus O(log m) expected for each of
 * the m pending revocations of `pk` (they go in a fixed order, so a store
 * and its reloaded snapshot stay the same under the same calls).
 */
GPURENT_API gpurent_status gpurent_trust_add(gpurent_trust *trust, const uint8_t pk[GPURENT_KEY_BYTES],
                                             uint32_t roles, uint64_t not_before, uint64_t not_after);

/** Stop trusting `pk` (GPURENT_E_NOT_FOUND if it was not there). Unlike
 *  revocation this is not permanent: the key may be added again, and if it
 *  was revoked it comes back revoked. The revocations `pk` signed of keys
 *  not in the store are dropped with it (O(log m) expected each of
 *  its m: the store keeps each revoker's own list). A revoked key's revocation outlives it,
 *  and at most GPURENT_TRUST_MAX_KEYS such revocations of keys not in the
 *  store are kept: past that the removal of a revoked key fails with
 *  GPURENT_E_LIMIT and the key stays in the store, revoked (which refuses
 *  every statement it signs, as its absence would). Cost: O(K). */
GPURENT_API gpurent_status gpurent_trust_remove(gpurent_trust *trust, const uint8_t pk[GPURENT_KEY_BYTES]);

/** The roles `pk` holds (0 and GPURENT_E_NOT_FOUND if it is not trusted).
 *  Revocation does not change the answer; see gpurent_trust_is_revoked(). */
GPURENT_API gpurent_status gpurent_trust_roles(const gpurent_trust *trust, const uint8_t pk[GPURENT_KEY_BYTES],
                                               uint32_t *roles);

/** Revoke `pk` locally (an operator decision): every later verification of
 *  a statement it signed fails with GPURENT_E_REVOKED, and it no longer
 *  counts towards a quorum. The key need not be in the store. Idempotent.
 *  GPURENT_E_LIMIT when `pk` is not in the store and
 *  GPURENT_TRUST_MAX_KEYS revocations stand already. Revokers' pending
 *  revocations of `pk` can no longer matter and are dropped (their revokers
 *  get their share back). O(1) expected, plus O(log m) for each of the m dropped. */
GPURENT_API gpurent_status gpurent_trust_revoke(gpurent_trust *trust, const uint8_t pk[GPURENT_KEY_BYTES]);

/** 1 if `pk` is revoked (a revocation of it stands, or one of a key not in
 *  the store waits for it), else 0. O(1) expected. */
GPURENT_API int gpurent_trust_is_revoked(const gpurent_trust *trust, const uint8_t pk[GPURENT_KEY_BYTES]);

/** Number of trusted keys. */
GPURENT_API uint32_t gpurent_trust_key_count(const gpurent_trust *trust);

/** Forget every statement in the replay cache. */
GPURENT_API void gpurent_trust_replay_clear(gpurent_trust *trust);

/**
 * Replace the replay cache of `dst` with a copy of the one of `src`: its
 * capacity, the statements it remembers and their eviction order, so `dst`
 * refuses as replays exactly the statements `src` would. Keys, roles and
 * revocations of `dst` are left as they are. Typical use: carry the replay
 * window of a store loaded with gpurent_trust_load_file() into a store built
 * from another source of keys. On failure (GPURENT_E_INVALID_ARG for a NULL
 * argument, GPURENT_E_NOMEM) `dst` is unchanged. `dst` == `src` does nothing.
 * Safe while other threads verify against either store.
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_trust_adopt_replay(gpurent_trust *dst, const gpurent_trust *src);

/* ====================================================================== */
/* Verification                                                            */
/* ====================================================================== */

#define GPURENT_VERIFY_OPTIONS_VERSION 1
/* check_replay values. 0 is the default, which checks: a zeroed field never
 * turns the replay check off (before 0.4 it did; use GPURENT_VERIFY_REPLAY_OFF). */
#define GPURENT_VERIFY_REPLAY_CHECK 1u /* refuse a statement seen before (REPLAYED) and remember this one */
#define GPURENT_VERIFY_REPLAY_OFF 2u   /* neither refuse repeats nor remember this one */
/* Zero means the default in every field (the defaults are the strict choices). */
typedef struct gpurent_verify_options {
    unsigned int version;
    uint32_t statement;     /* the statement type expected; 0 = any, the default (then check the result's) */
    uint32_t required_role; /* roles every counted signer must hold (all bits); 0 = the statement's default role */
    uint32_t quorum;        /* distinct authorized signers required, 1..GPURENT_ENVELOPE_MAX_SIGS; 0 = the default, 1 */
    uint32_t check_replay;  /* 0 = the default, GPURENT_VERIFY_REPLAY_CHECK; or GPURENT_VERIFY_REPLAY_OFF */
} gpurent_verify_options;
#define GPURENT_VERIFY_OPTIONS_INIT {GPURENT_VERIFY_OPTIONS_VERSION, 0u, 0u, 1u, GPURENT_VERIFY_REPLAY_CHECK}

GPURENT_API gpurent_status gpurent_verify_options_init(gpurent_verify_options *opts, unsigned int version);

/** What a successful verification hands back: the verified payload and
 *  header, the statement digest and the signers that counted. */
typedef struct gpurent_verified gpurent_verified;

/**
 * Verify an envelope against the trust store at time `now` (Unix seconds),
 * allowing `skew_s` seconds of clock difference. Checks, in this order, and
 * fails with the first that does not hold:
 *  1. the envelope and its payload are canonical and well formed
 *     (GPURENT_E_MALFORMED, _TRUNCATED, _NONCANONICAL, _OVERSIZE,
 *     _INVALID_FIELD, _WRONG_RECORD), and of the expected statement type
 *     (GPURENT_E_WRONG_RECORD);
 *  2. the window: issued_at - skew <= now (else GPURENT_E_NOT_YET_VALID) and
 *     now <= expires_at + skew (else GPURENT_E_EXPIRED);
 *  3. the issuer: not revoked (GPURENT_E_REVOKED), in the store
 *     (GPURENT_E_UNKNOWN_ISSUER), its key valid at now +- skew
 *     (GPURENT_E_NOT_YET_VALID / GPURENT_E_EXPIRED), holding the required
 *     role (GPURENT_E_ROLE_NOT_ALLOWED);
 *  4. every signature in the envelope is valid under libsodium's strict
 *     Ed25519 rule (GPURENT_E_BAD_SIGNATURE): S < L, R and A not of small
 *     order, A canonical, cofactorless equation;
 *  5. at least opts->quorum distinct signers are trusted, unrevoked, valid
 *     now and hold the role (GPURENT_E_QUORUM_NOT_MET); the issuer counts;
 *  6. with check_replay, the (issuer, nonce) pair was not accepted before
 *     (GPURENT_E_REPLAYED); it is then remembered.
 * On success, if `out` is not NULL it receives a result handle (free with
 * gpurent_verified_free()); on failure *out is set to NULL. `opts` may be
 * NULL (defaults). Thread-safe on a shared store.
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_envelope_verify(gpurent_trust *trust, const uint8_t *envelope, size_t len,
                                                                     uint64_t now, uint32_t skew_s,
                                                                     const gpurent_verify_options *opts, gpurent_verified **out);

/** Free a verification result. Accepts NULL. */
GPURENT_API void gpurent_verified_free(gpurent_verified *v);
/** Copy the verified payload (the canonical record) into `out`. */
GPURENT_API gpurent_status gpurent_verified_payload(const gpurent_verified *v, gpurent_buf *out);
/** Borrow the verified payload (C convenience): valid until the result is
 *  freed. Returns NULL if v is NULL. */
GPURENT_API const uint8_t *gpurent_verified_payload_data(const gpurent_verified *v, size_t *len);
/** Copy the verified header (statement, issuer, window, nonce, subject). */
GPURENT_API gpurent_status gpurent_verified_header(const gpurent_verified *v, gpurent_envelope *out);
/** The statement digest (as gpurent_envelope_digest()). */
GPURENT_API gpurent_status gpurent_verified_digest(const gpurent_verified *v, uint8_t digest[GPURENT_DIGEST_BYTES]);
/** How many signers counted towards the quorum (0 if v is NULL). */
GPURENT_API uint32_t gpurent_verified_signer_count(const gpurent_verified *v);
/** The public key of counted signer `index` (ascending key order);
 *  GPURENT_E_NOT_FOUND when out of range. */
GPURENT_API gpurent_status gpurent_verified_signer(const gpurent_verified *v, uint32_t index,
                                                  uint8_t pk[GPURENT_KEY_BYTES]);

/**
 * Verify a signed revocation statement and apply it: the payload is a
 * gpurent_revocation; its issuer needs GPURENT_ROLE_REVOKER, or is the
 * revoked key itself (a key may always revoke itself). opts->statement and
 * opts->required_role are ignored; quorum and check_replay apply. On
 * success a key in the store is revoked as by gpurent_trust_revoke(); such a
 * revocation never fails for lack of room, so a rogue revoker can always be
 * revoked. A revocation of a key not in the store is charged to its issuer:
 * it waits, and revokes the key if it is ever added, for as long as the
 * issuer stays in the store; an issuer holds at most
 * GPURENT_TRUST_MAX_PENDING_REVOCATIONS of them (then GPURENT_E_LIMIT, for
 * that issuer only). Applying it costs the verification plus O(log K)
 * expected, however many revokers revoked the same key and however often
 * one revoker repeats itself. With the replay check, the statement is
 * remembered only when it is applied: one refused (LIMIT, NOMEM, its
 * issuer gone meanwhile) changes nothing and may be sent again.
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_trust_apply_revocation(gpurent_trust *trust, const uint8_t *envelope,
                                                                            size_t len, uint64_t now, uint32_t skew_s,
                                                                            const gpurent_verify_options *opts);

/* ---- bulk verification ---- */

/**
 * Verify `n` envelopes on `threads` threads (0 = one per online CPU, at most
 * 64). statuses[i] receives exactly what gpurent_envelope_verify() would
 * have returned for envelope i had the envelopes been verified one by one in
 * input order: every check but replay runs in parallel, then the replay
 * check (when opts->check_replay) runs sequentially in input order, so a
 * statement repeated inside the batch is accepted the first time and
 * GPURENT_E_REPLAYED afterwards whatever the thread count. Returns
 * GPURENT_OK when every statement was examined (look at statuses for each
 * answer), or GPURENT_E_CANCELLED when `cancel` was set (statuses of the
 * envelopes not examined read GPURENT_E_CANCELLED and nothing was added to
 * the replay cache).
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_envelope_verify_many(gpurent_trust *trust, const uint8_t *const *envelopes,
                                                                          const size_t *lens, size_t n, uint64_t now, uint32_t skew_s,
                                                                          const gpurent_verify_options *opts, unsigned int threads,
                                                                          const gpurent_cancel *cancel, int32_t *statuses);

/** A batch of envelopes for bulk verification (binding-friendly form of
 *  gpurent_envelope_verify_many(): add envelopes, run, read answers). */
typedef struct gpurent_verify_batch gpurent_verify_batch;

GPURENT_API gpurent_status gpurent_verify_batch_new(gpurent_verify_batch **out);
GPURENT_API void gpurent_verify_batch_free(gpurent_verify_batch *batch);
/** Append a copy of an envelope. */
GPURENT_API gpurent_status gpurent_verify_batch_add(gpurent_verify_batch *batch, const uint8_t *envelope, size_t len);
/** Number of envelopes in the batch. */
GPURENT_API size_t gpurent_verify_batch_count(const gpurent_verify_batch *batch);
/** Verify every envelope added (as gpurent_envelope_verify_many()). */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_verify_batch_run(gpurent_verify_batch *batch, gpurent_trust *trust, uint64_t now,
                                                                      uint32_t skew_s, const gpurent_verify_options *opts,
                                                                      unsigned int threads, const gpurent_cancel *cancel);
/** The answer for envelope `index` after a run (GPURENT_E_NOT_FOUND when out
 *  of range, GPURENT_E_CANCELLED before any run). */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_verify_batch_status(const gpurent_verify_batch *batch, size_t index);
/** Copy the verified payload of envelope `index`; fails with its status if
 *  it did not verify. */
GPURENT_API gpurent_status gpurent_verify_batch_payload(const gpurent_verify_batch *batch, size_t index,
                                                        gpurent_buf *out);

/* ---- trust store snapshots (docs/wire-format.md, "Snapshots") ---- */

/**
 * Save the trust store (keys with roles and validity, standing and pending
 * revocations, the replay cache with its remembered statements, oldest
 * first) as a snapshot into `out` (free with gpurent_buf_free()).
 * `input_seq` is stored as given: the last input of the embedder's ordered
 * log the state reflects. A store loaded from it refuses as replays exactly
 * the statements this one would. Safe to call while other threads verify.
 */
GPURENT_API gpurent_status gpurent_trust_save(const gpurent_trust *trust, uint64_t input_seq, gpurent_buf *out);

/**
 * Rebuild a trust store from gpurent_trust_save() bytes. Nothing is trusted:
 * keys must be valid, sorted and unique, revocations consistent with the
 * keys, the replay ids unique and within the capacity; on failure nothing is
 * loaded (*out = NULL) and the status says why (GPURENT_E_SNAPSHOT_CORRUPT,
 * _TRUNCATED, _KIND, _VERSION, or _PARAMS when `expect` is given and its
 * replay_capacity differs). `input_seq` (may be NULL) receives the stored
 * sequence. Free with gpurent_trust_free().
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_trust_load(gpurent_trust **out, const uint8_t *data, size_t len,
                                              const gpurent_trust_options *expect, uint64_t *input_seq);

/** gpurent_trust_save() into `path`, crash-safely (temporary file created
 *  with O_EXCL|O_NOFOLLOW, mode 0600, fsync, rename, folder fsync). */
GPURENT_API gpurent_status gpurent_trust_save_file(const gpurent_trust *trust, uint64_t input_seq, const char *path);

/** gpurent_trust_load() from the file `path` (GPURENT_E_IO when it cannot be read). */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_trust_load_file(gpurent_trust **out, const char *path,
                                                   const gpurent_trust_options *expect, uint64_t *input_seq);

#ifdef __cplusplus
}
#endif
#endif
