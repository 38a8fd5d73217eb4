package gpurent

import (
	"errors"
	"runtime"

	"gpurent.dev/gpurent/capi"
)

// Sizes and limits from gpurent/attest.h and the envelope section of wire.h.
const (
	SeedBytes       = 32
	NonceBytes      = 16
	SignatureBytes  = 64
	SubjectMax      = 128
	EnvelopeMaxSigs = 32
)

// Role is a bitmask of roles a trusted key may hold.
type Role uint32

// Roles (gpurent_role).
const (
	RoleProvider  Role = 1 << 0 // GPU reports, offers
	RoleAuditor   Role = 1 << 1 // audit reports, tier certificates
	RoleMatcher   Role = 1 << 2 // match receipts
	RoleRevoker   Role = 1 << 3 // revocations of other keys
	RoleRequester Role = 1 << 4 // requests
	RoleAll       Role = 0x1f
)

// RevocationReason says why a key was revoked (informational).
type RevocationReason uint32

// Revocation reasons.
const (
	RevokeUnspecified RevocationReason = 0
	RevokeCompromised RevocationReason = 1
	RevokeSuperseded  RevocationReason = 2
	RevokeRetired     RevocationReason = 3
)

// String is the reason's name ("unspecified", "compromised", "superseded",
// "retired"), "unknown" for others.
func (r RevocationReason) String() string {
	return enumName(r, []string{"unspecified", "compromised", "superseded", "retired"})
}

// StatementDefaultRole is the role an issuer needs by default for a
// statement type (0 for types without a default).
func StatementDefaultRole(statement RecordType) Role {
	return Role(capi.Statement_default_role(uint(statement)))
}

// Envelope is an envelope's header (gpurent_envelope): every field but the
// payload and the signatures. PayloadLen and SignatureCount are filled by
// DecodeEnvelope and ignored when signing.
type Envelope struct {
	Statement      RecordType       `wire:"statement,1"`
	Issuer         Key              `wire:"issuer,2"`
	IssuedAt       uint64           `wire:"issued_at,3"`
	ExpiresAt      uint64           `wire:"expires_at,4"`
	Nonce          [NonceBytes]byte `wire:"nonce,5"`   // zero: the signer picks a random one
	Subject        []byte           `wire:"subject,6"` // at most SubjectMax bytes
	PayloadLen     uint32           `wire:"payload_len,7"`
	SignatureCount uint32           `wire:"signature_count,8"`
}

func (e *Envelope) withC(f func(capi.Envelope) error) error {
	c := capi.NewEnvelope()
	defer capi.DeleteEnvelope(c)
	capi.Envelope_init(c)
	c.SetStatement(uint(e.Statement))
	issuer, nonce := e.Issuer, e.Nonce
	c.SetIssuer(issuer[:])
	c.SetIssued_at(e.IssuedAt)
	c.SetExpires_at(e.ExpiresAt)
	c.SetNonce(nonce[:])
	// A copy: the caller's slice may point into a struct that holds Go
	// pointers (Subject: report.ProviderKey[:]), which cgo refuses to pass.
	subject := append([]byte(nil), e.Subject...)
	if err := capi.Envelope_set_subject(c, subject); err != nil {
		return err
	}
	return f(c)
}

func envelopeFromC(c capi.Envelope) Envelope {
	e := Envelope{
		Statement:      RecordType(c.GetStatement()),
		IssuedAt:       c.GetIssued_at(),
		ExpiresAt:      c.GetExpires_at(),
		PayloadLen:     uint32(c.GetPayload_len()),
		SignatureCount: uint32(c.GetSignature_count()),
	}
	copy(e.Issuer[:], c.GetIssuer())
	copy(e.Nonce[:], c.GetNonce())
	n := c.GetSubject_len()
	e.Subject = append([]byte{}, c.GetSubject()[:n]...)
	return e
}

// DecodeEnvelope reads an envelope's header WITHOUT checking any signature,
// time or trust: for routing and display only.
func DecodeEnvelope(data []byte) (Envelope, error) {
	return decodeRecord(data, capi.NewEnvelope, capi.DeleteEnvelope, capi.Envelope_decode, envelopeFromC)
}

// EnvelopeDigest is the statement digest (BLAKE2b-256 of the signed
// message): it names the statement whatever signatures are attached.
func EnvelopeDigest(envelope []byte) (Digest, error) {
	var d Digest
	buf := make([]byte, DigestBytes)
	if err := capi.Envelope_digest(envelope, buf); err != nil {
		return d, err
	}
	copy(d[:], buf)
	return d, nil
}

// Revocation is the payload of a signed revocation statement.
type Revocation struct {
	Key       Key              `wire:"key,1"`
	RevokedAt uint64           `wire:"revoked_at,2"`
	Reason    RevocationReason `wire:"reason,3"`
}

func (r Revocation) withC(f func(capi.Revocation) error) error {
	c := capi.NewRevocation()
	defer capi.DeleteRevocation(c)
	k := r.Key
	c.SetKey(k[:])
	c.SetRevoked_at(r.RevokedAt)
	c.SetReason(uint(r.Reason))
	return f(c)
}

// Validate checks the record's fields.
func (r Revocation) Validate() error {
	return r.withC(capi.Revocation_validate)
}

// Encode validates and returns the canonical bytes.
func (r Revocation) Encode() ([]byte, error) {
	return encodeRecord(r.withC, capi.Revocation_encode)
}

// DecodeRevocation decodes and validates untrusted bytes.
func DecodeRevocation(data []byte) (Revocation, error) {
	return decodeRecord(data, capi.NewRevocation, capi.DeleteRevocation, capi.Revocation_decode, revocationFromC)
}

func revocationFromC(c capi.Revocation) Revocation {
	r := Revocation{RevokedAt: c.GetRevoked_at(), Reason: RevocationReason(c.GetReason())}
	copy(r.Key[:], c.GetKey())
	return r
}

// ---- handles: see handle.go ----

// ---- keys ----

// SigningKey is an Ed25519 signing key held by the library (guarded memory,
// wiped on Close). No method returns secret bytes.
type SigningKey struct{ h handle }

func newSigningKey(p uintptr) *SigningKey {
	k := &SigningKey{h: handle{p: p}}
	runtime.SetFinalizer(k, (*SigningKey).Close)
	return k
}

// GenerateKey makes a fresh random key.
func GenerateKey() (*SigningKey, error) {
	var p uintptr
	if err := capi.Key_generate(&p); err != nil {
		return nil, err
	}
	return newSigningKey(p), nil
}

// KeyFromSeed derives the key of a 32-byte seed (the same seed, the same key).
func KeyFromSeed(seed [SeedBytes]byte) (*SigningKey, error) {
	var p uintptr
	err := capi.Key_from_seed(&p, seed[:])
	for i := range seed { // the copy passed by value
		seed[i] = 0
	}
	if err != nil {
		return nil, err
	}
	return newSigningKey(p), nil
}

func expectedSlice(expected *Key) []byte {
	if expected == nil {
		return nil
	}
	k := *expected
	return k[:]
}

// UnsealKey opens sealed key-file bytes (ErrKeyfileDamaged, ErrWrongPassphrase,
// ErrKeyMismatch). expected may be nil.
func UnsealKey(data []byte, passphrase string, expected *Key) (*SigningKey, error) {
	var p uintptr
	if err := capi.Key_unseal(&p, data, passphrase, expectedSlice(expected)); err != nil {
		return nil, err
	}
	return newSigningKey(p), nil
}

// LoadKey unseals the key file at path (ErrIO on file errors).
func LoadKey(path, passphrase string, expected *Key) (*SigningKey, error) {
	var p uintptr
	if err := capi.Key_load(&p, path, passphrase, expectedSlice(expected)); err != nil {
		return nil, err
	}
	return newSigningKey(p), nil
}

func (k *SigningKey) ptr(p uintptr) capi.Key { return capi.SwigcptrKey(p) }

// PublicKey is the key's Ed25519 public key.
func (k *SigningKey) PublicKey() (Key, error) {
	var pk Key
	buf := make([]byte, KeyBytes)
	err := k.h.use(func(p uintptr) error { return capi.Key_public(k.ptr(p), buf) })
	copy(pk[:], buf)
	return pk, err
}

// KeyfileOptions are the Argon2id limits of a sealed key file; zero fields
// take the library's defaults. Force is for Save only: replace a file that
// exists at the path (without it Save returns ErrExists).
type KeyfileOptions struct {
	OpsLimit uint64
	MemLimit uint64
	Force    bool
}

func (o *KeyfileOptions) withC(f func(capi.Keyfile_options) error) error {
	c := capi.NewKeyfile_options()
	defer capi.DeleteKeyfile_options(c)
	if err := capi.Keyfile_options_init(c, uint(capi.KEYFILE_OPTIONS_VERSION)); err != nil {
		return err
	}
	if o != nil && o.OpsLimit != 0 {
		c.SetOpslimit(o.OpsLimit)
	}
	if o != nil && o.MemLimit != 0 {
		c.SetMemlimit(o.MemLimit)
	}
	return f(c)
}

// Seal returns the key-file bytes: the seed sealed with passphrase.
func (k *SigningKey) Seal(passphrase string, opts *KeyfileOptions) ([]byte, error) {
	var out []byte
	err := k.h.use(func(p uintptr) error {
		return opts.withC(func(o capi.Keyfile_options) error { return capi.Key_seal(k.ptr(p), passphrase, o, &out) })
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Save writes Seal's bytes to path (mode 0600, atomically, through a fresh
// temporary file created with O_EXCL|O_NOFOLLOW; a symlink is never written
// through). An existing path (a file, a folder or a symlink, even a dangling
// one) is never replaced unless opts.Force is set: ErrExists.
func (k *SigningKey) Save(path, passphrase string, opts *KeyfileOptions) error {
	if opts != nil && opts.Force {
		return k.h.use(func(p uintptr) error {
			return opts.withC(func(o capi.Keyfile_options) error { return capi.Key_save(k.ptr(p), path, passphrase, o) })
		})
	}
	err := k.SaveNew(path, passphrase, opts)
	if errors.Is(err, ErrExists) {
		st := int(capi.E_EXISTS)
		return &Error{Status: st, Name: capi.Status_name(st), Message: capi.Strerror(st),
			Detail: path + ": already exists; set KeyfileOptions.Force to replace it"}
	}
	return err
}

// SaveNew is Save that never replaces anything: ErrExists when path exists
// (a file, a folder or a symlink, even a dangling one).
func (k *SigningKey) SaveNew(path, passphrase string, opts *KeyfileOptions) error {
	return k.h.use(func(p uintptr) error {
		return opts.withC(func(o capi.Keyfile_options) error { return capi.Key_save_new(k.ptr(p), path, passphrase, o) })
	})
}

// Sign signs a canonical record into a new envelope. From hdr are used the
// statement, window, nonce (zero: random) and subject; the issuer is this
// key (a non-zero hdr.Issuer that differs fails with ErrKeyMismatch).
func (k *SigningKey) Sign(hdr Envelope, payload []byte) ([]byte, error) {
	var out []byte
	err := k.h.use(func(p uintptr) error {
		return hdr.withC(func(c capi.Envelope) error { return capi.Envelope_sign(k.ptr(p), c, payload, &out) })
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Cosign adds this key's signature to an envelope (ErrExists if it signed).
func (k *SigningKey) Cosign(envelope []byte) ([]byte, error) {
	var out []byte
	if err := k.h.use(func(p uintptr) error { return capi.Envelope_cosign(k.ptr(p), envelope, &out) }); err != nil {
		return nil, err
	}
	return out, nil
}

// Close wipes and frees the key. Closing twice is harmless.
func (k *SigningKey) Close() error {
	k.h.close(func(p uintptr) { capi.Key_free(capi.SwigcptrKey(p)) })
	runtime.SetFinalizer(k, nil)
	return nil
}

// ---- verification options and results ----

// VerifyOptions select what a verification requires. The zero value means:
// any statement, the statement's default role, a quorum of one, replay
// checked.
type VerifyOptions struct {
	Statement    RecordType // 0 = any
	RequiredRole Role       // 0 = the statement's default
	Quorum       uint32     // 0 = 1
	NoReplay     bool       // true: neither refuse repeats nor remember this one
}

func (o *VerifyOptions) withC(f func(capi.Verify_options) error) error {
	c := capi.NewVerify_options()
	defer capi.DeleteVerify_options(c)
	if err := capi.Verify_options_init(c, uint(capi.VERIFY_OPTIONS_VERSION)); err != nil {
		return err
	}
	if o != nil {
		c.SetStatement(uint(o.Statement))
		c.SetRequired_role(uint(o.RequiredRole))
		if o.Quorum != 0 {
			c.SetQuorum(uint(o.Quorum))
		}
		if o.NoReplay {
			c.SetCheck_replay(uint(capi.VERIFY_REPLAY_OFF))
		}
	}
	return f(c)
}

// Verified is a successful verification: payload, header, digest, signers.
// Close it when done (a finalizer frees a forgotten one).
type Verified struct{ h handle }

func (v *Verified) ptr(p uintptr) capi.Verified { return capi.SwigcptrVerified(p) }

// Payload is a copy of the verified payload.
func (v *Verified) Payload() ([]byte, error) {
	var out []byte
	if err := v.h.use(func(p uintptr) error { return capi.Verified_payload(v.ptr(p), &out) }); err != nil {
		return nil, err
	}
	return out, nil
}

// PayloadView is the payload through the borrowing accessor (a copy too).
func (v *Verified) PayloadView() []byte {
	var out []byte
	_ = v.h.use(func(p uintptr) error { out = capi.Verified_payload_data(v.ptr(p)); return nil })
	return out
}

// Header is the verified header.
func (v *Verified) Header() (Envelope, error) {
	c := capi.NewEnvelope()
	defer capi.DeleteEnvelope(c)
	if err := v.h.use(func(p uintptr) error { return capi.Verified_header(v.ptr(p), c) }); err != nil {
		return Envelope{}, err
	}
	return envelopeFromC(c), nil
}

// Digest is the statement digest.
func (v *Verified) Digest() (Digest, error) {
	var d Digest
	buf := make([]byte, DigestBytes)
	err := v.h.use(func(p uintptr) error { return capi.Verified_digest(v.ptr(p), buf) })
	copy(d[:], buf)
	return d, err
}

// Signers are the public keys that counted towards the quorum, ascending.
func (v *Verified) Signers() ([]Key, error) {
	var keys []Key
	err := v.h.use(func(p uintptr) error {
		n := capi.Verified_signer_count(v.ptr(p))
		buf := make([]byte, KeyBytes)
		for i := uint(0); i < n; i++ {
			if err := capi.Verified_signer(v.ptr(p), i, buf); err != nil {
				return err
			}
			var k Key
			copy(k[:], buf)
			keys = append(keys, k)
		}
		return nil
	})
	return keys, err
}

// Close frees the result.
func (v *Verified) Close() error {
	v.h.close(func(p uintptr) { capi.Verified_free(capi.SwigcptrVerified(p)) })
	runtime.SetFinalizer(v, nil)
	return nil
}

// ---- trust store ----

// TrustStore says which keys are trusted for which roles and when, which
// are revoked, and which statements were already accepted. Safe for
// concurrent use.
type TrustStore struct{ h handle }

// NewTrustStore makes an empty store; replayCapacity 0 takes the default.
func NewTrustStore(replayCapacity uint32) (*TrustStore, error) {
	o := capi.NewTrust_options()
	defer capi.DeleteTrust_options(o)
	if err := capi.Trust_options_init(o, uint(capi.TRUST_OPTIONS_VERSION)); err != nil {
		return nil, err
	}
	if replayCapacity != 0 {
		o.SetReplay_capacity(uint(replayCapacity))
	}
	var p uintptr
	if err := capi.Trust_new(&p, o); err != nil {
		return nil, err
	}
	t := &TrustStore{h: handle{p: p}}
	runtime.SetFinalizer(t, (*TrustStore).Close)
	return t, nil
}

func (t *TrustStore) ptr(p uintptr) capi.Trust { return capi.SwigcptrTrust(p) }

// Add trusts pk for roles from notBefore to notAfter (Unix seconds,
// inclusive; notAfter 0 = no end).
func (t *TrustStore) Add(pk Key, roles Role, notBefore, notAfter uint64) error {
	return t.h.use(func(p uintptr) error { return capi.Trust_add(t.ptr(p), pk[:], uint(roles), notBefore, notAfter) })
}

// Remove stops trusting pk (ErrNotFound if it was not there).
func (t *TrustStore) Remove(pk Key) error {
	return t.h.use(func(p uintptr) error { return capi.Trust_remove(t.ptr(p), pk[:]) })
}

// Roles are the roles pk holds (ErrNotFound if it is not trusted).
func (t *TrustStore) Roles(pk Key) (Role, error) {
	var r uint32
	err := t.h.use(func(p uintptr) error { return capi.Trust_roles(t.ptr(p), pk[:], &r) })
	return Role(r), err
}

// Revoke revokes pk for the life of the store (idempotent).
func (t *TrustStore) Revoke(pk Key) error {
	return t.h.use(func(p uintptr) error { return capi.Trust_revoke(t.ptr(p), pk[:]) })
}

// IsRevoked reports whether pk is revoked.
func (t *TrustStore) IsRevoked(pk Key) bool {
	r := false
	_ = t.h.use(func(p uintptr) error { r = capi.Trust_is_revoked(t.ptr(p), pk[:]) != 0; return nil })
	return r
}

// KeyCount is the number of trusted keys.
func (t *TrustStore) KeyCount() int {
	n := 0
	_ = t.h.use(func(p uintptr) error { n = int(capi.Trust_key_count(t.ptr(p))); return nil })
	return n
}

// ClearReplay forgets every statement in the replay cache.
func (t *TrustStore) ClearReplay() {
	_ = t.h.use(func(p uintptr) error { capi.Trust_replay_clear(t.ptr(p)); return nil })
}

// AdoptReplay replaces t's replay cache with a copy of src's (its
// capacity, remembered statements and eviction order); t's keys and
// revocations stay. E.g. the replay window of a store from
// LoadTrustStoreFile carried into one built from another key list.
func (t *TrustStore) AdoptReplay(src *TrustStore) error {
	if src == nil { // the C call says why
		return t.h.use(func(p uintptr) error { return capi.Trust_adopt_replay(t.ptr(p), capi.SwigcptrTrust(0)) })
	}
	if src == t {
		return t.h.use(func(uintptr) error { return nil })
	}
	return t.h.use(func(p uintptr) error {
		return src.h.use(func(q uintptr) error { return capi.Trust_adopt_replay(t.ptr(p), src.ptr(q)) })
	})
}

// Verify checks an envelope at Unix time now, allowing skew seconds of
// clock difference. The error matches ErrBadSignature, ErrExpired, ... with
// errors.Is. Close the result.
func (t *TrustStore) Verify(envelope []byte, now uint64, skew uint32, opts *VerifyOptions) (*Verified, error) {
	var out uintptr
	err := t.h.use(func(p uintptr) error {
		return opts.withC(func(o capi.Verify_options) error {
			return capi.Envelope_verify(t.ptr(p), envelope, now, uint(skew), o, &out)
		})
	})
	if err != nil {
		return nil, err
	}
	v := &Verified{h: handle{p: out}}
	runtime.SetFinalizer(v, (*Verified).Close)
	return v, nil
}

// ApplyRevocation verifies a signed revocation statement and revokes its key.
func (t *TrustStore) ApplyRevocation(envelope []byte, now uint64, skew uint32, opts *VerifyOptions) error {
	return t.h.use(func(p uintptr) error {
		return opts.withC(func(o capi.Verify_options) error {
			return capi.Trust_apply_revocation(t.ptr(p), envelope, now, uint(skew), o)
		})
	})
}

// cancelPtrLocked is the token's pointer (NULL for a nil token), the token
// held until done() so its Close waits; ErrInvalidArg for a closed token.
func cancelPtrLocked(c *Cancel) (capi.Cancel, func(), error) {
	if c == nil {
		return capi.SwigcptrCancel(0), func() {}, nil
	}
	p, done, err := c.h.acquire()
	if err != nil {
		return nil, nil, err
	}
	return capi.SwigcptrCancel(p), done, nil
}

// StatusError turns a per-envelope status from VerifyMany or a batch into an
// error (nil for 0) that errors.Is matches against the sentinels.
func StatusError(status int) error {
	if status >= 0 {
		return nil
	}
	return &Error{Status: status, Name: capi.Status_name(status), Message: capi.Strerror(status)}
}

// VerifyMany verifies envelopes on threads threads (0 = one per CPU) and
// returns one status per envelope (0 = valid; see StatusError), exactly as
// one-by-one verification in input order would. The error is ErrCancelled
// when cancel (may be nil) was set.
func (t *TrustStore) VerifyMany(envelopes [][]byte, now uint64, skew uint32, opts *VerifyOptions,
	threads uint, cancel *Cancel) ([]int32, error) {
	statuses := make([]int32, len(envelopes))
	cp, done, err := cancelPtrLocked(cancel)
	if err != nil {
		return nil, err
	}
	defer done()
	err = t.h.use(func(p uintptr) error {
		return opts.withC(func(o capi.Verify_options) error {
			return capi.Envelope_verify_many(t.ptr(p), envelopes, now, uint(skew), o, threads, cp, statuses)
		})
	})
	return statuses, err
}

// Close frees the store; no call may still be using it.
func (t *TrustStore) Close() error {
	t.h.close(func(p uintptr) { capi.Trust_free(capi.SwigcptrTrust(p)) })
	runtime.SetFinalizer(t, nil)
	return nil
}

// ---- batches ----

// VerifyBatch collects envelopes for bulk verification: Add, Run, read.
type VerifyBatch struct{ h handle }

// NewVerifyBatch makes an empty batch.
func NewVerifyBatch() (*VerifyBatch, error) {
	var p uintptr
	if err := capi.Verify_batch_new(&p); err != nil {
		return nil, err
	}
	b := &VerifyBatch{h: handle{p: p}}
	runtime.SetFinalizer(b, (*VerifyBatch).Close)
	return b, nil
}

func (b *VerifyBatch) ptr(p uintptr) capi.Verify_batch { return capi.SwigcptrVerify_batch(p) }

// Add appends a copy of an envelope.
func (b *VerifyBatch) Add(envelope []byte) error {
	return b.h.use(func(p uintptr) error { return capi.Verify_batch_add(b.ptr(p), envelope) })
}

// Len is the number of envelopes added.
func (b *VerifyBatch) Len() int {
	n := 0
	_ = b.h.use(func(p uintptr) error { n = int(capi.Verify_batch_count(b.ptr(p))); return nil })
	return n
}

// Run verifies every envelope added.
func (b *VerifyBatch) Run(t *TrustStore, now uint64, skew uint32, opts *VerifyOptions, threads uint,
	cancel *Cancel) error {
	cp, done, err := cancelPtrLocked(cancel)
	if err != nil {
		return err
	}
	defer done()
	return b.h.use(func(p uintptr) error {
		return t.h.use(func(tp uintptr) error {
			return opts.withC(func(o capi.Verify_options) error {
				return capi.Verify_batch_run(b.ptr(p), t.ptr(tp), now, uint(skew), o, threads, cp)
			})
		})
	})
}

// Status is the answer for envelope i (0 = valid; ErrCancelled's status
// before any run, ErrNotFound's out of range).
func (b *VerifyBatch) Status(i int) int {
	st := int(capi.E_INVALID_ARG)
	_ = b.h.use(func(p uintptr) error { st = capi.Verify_batch_status(b.ptr(p), int64(i)); return nil })
	return st
}

// Payload is the verified payload of envelope i, or its error.
func (b *VerifyBatch) Payload(i int) ([]byte, error) {
	var out []byte
	if err := b.h.use(func(p uintptr) error { return capi.Verify_batch_payload(b.ptr(p), int64(i), &out) }); err != nil {
		return nil, err
	}
	return out, nil
}

// Close frees the batch.
func (b *VerifyBatch) Close() error {
	b.h.close(func(p uintptr) { capi.Verify_batch_free(capi.SwigcptrVerify_batch(p)) })
	runtime.SetFinalizer(b, nil)
	return nil
}
