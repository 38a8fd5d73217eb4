package gpurent_test

import (
	"errors"
	"testing"

	"gpurent.dev/gpurent"
	"gpurent.dev/gpurent/capi"
)

// Signed evidence and signed certificates: the same cases as the Python
// suite (bindings/python/tests/test_gpurent_tier.py).

const tReport = 20000*day + 86000 // when the era-20000 reports were made

type signedWorld struct {
	keys  []*gpurent.SigningKey // 0..2 auditors, 3 a provider
	pubs  []gpurent.Key
	trust *gpurent.TrustStore
}

func newSignedWorld(t *testing.T) *signedWorld {
	t.Helper()
	w := &signedWorld{}
	var err error
	if w.trust, err = gpurent.NewTrustStore(0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		var seed [gpurent.SeedBytes]byte
		for j := range seed {
			seed[j] = byte(0x30 + i)
		}
		k, err := gpurent.KeyFromSeed(seed)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := k.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		role := gpurent.RoleAuditor
		if i == 3 {
			role = gpurent.RoleProvider
		}
		if err := w.trust.Add(pk, role, 0, 0); err != nil {
			t.Fatal(err)
		}
		w.keys, w.pubs = append(w.keys, k), append(w.pubs, pk)
	}
	t.Cleanup(func() {
		for _, k := range w.keys {
			k.Close()
		}
		w.trust.Close()
	})
	return w
}

func (w *signedWorld) signedReport(t *testing.T, signer int, named gpurent.Key, era uint64, j int) []byte {
	t.Helper()
	rep := tierReport(named, era, j)
	data, err := rep.Encode()
	if err != nil {
		t.Fatal(err)
	}
	at := tReport + (era-20000)*day
	// The subject is sliced from the report, a struct that holds Go
	// pointers (its Challenges): cgo refuses such memory unless the
	// binding copies it first.
	env, err := w.keys[signer].Sign(gpurent.Envelope{Statement: gpurent.RecordAuditReport, IssuedAt: at,
		ExpiresAt: at + day, Subject: rep.ProviderKey[:]}, data)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func emptyTierEngine(t *testing.T) *gpurent.TierEngine {
	t.Helper()
	return tierEngineWith(t, false)
}

// tierEngineWith makes an engine starting at era 20000; unverified true lets
// it take reports directly (RecordReport), as the certificate tests do.
func tierEngineWith(t *testing.T, unverified bool) *gpurent.TierEngine {
	t.Helper()
	o := gpurent.DefaultTierOptions()
	o.FirstEra = 20000
	o.UnverifiedEvidence = unverified
	e, err := gpurent.NewTierEngine(&o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestRecordSignedAndRefusals(t *testing.T) {
	w := newSignedWorld(t)
	e := emptyTierEngine(t)
	env := w.signedReport(t, 0, w.pubs[0], 20000, 0)
	if err := e.RecordSigned(w.trust, env, tReport+10, 60); err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), w.signedReport(t, 1, w.pubs[1], 20000, 1)...)
	bad[len(bad)-1] ^= 1
	for _, c := range []struct {
		name string
		env  []byte
		now  uint64
		want error
	}{
		{"replay", env, tReport + 10, gpurent.ErrReplayed},
		{"provider key", w.signedReport(t, 3, w.pubs[3], 20000, 3), tReport + 10, gpurent.ErrRoleNotAllowed},
		{"speaks for another", w.signedReport(t, 1, w.pubs[2], 20000, 0), tReport + 10, gpurent.ErrEvidenceRejected},
		{"bad signature", bad, tReport + 10, gpurent.ErrBadSignature},
		{"not yet valid", w.signedReport(t, 1, w.pubs[1], 20000, 1), tReport - 3600, gpurent.ErrNotYetValid},
		{"truncated", env[:len(env)-5], tReport + 10, gpurent.ErrTruncated},
	} {
		if err := e.RecordSigned(w.trust, c.env, c.now, 60); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := e.Evaluate(20000, nil); err != nil {
		t.Fatal(err)
	}
	x, err := e.Explain(tierP)
	if err != nil || x.Auditors != 1 {
		t.Fatalf("auditors %d (%v): a refused report was recorded", x.Auditors, err)
	}
}

func TestRecordSignedManyMatchesOneByOne(t *testing.T) {
	w := newSignedWorld(t)
	var envs [][]byte
	for j := 0; j < 3; j++ {
		envs = append(envs, w.signedReport(t, j, w.pubs[j], 20000, j))
	}
	batch := append(append([][]byte{}, envs...), envs[1], w.signedReport(t, 3, w.pubs[3], 20000, 3), []byte{1})
	st, err := emptyTierEngine(t).RecordSignedMany(w.trust, batch, tReport+10, 60, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []int32{0, 0, 0, int32(capi.E_REPLAYED), int32(capi.E_ROLE_NOT_ALLOWED), int32(capi.E_INVALID_FIELD)}
	for i := range want {
		if st[i] != want[i] {
			t.Fatalf("statuses %v, want %v", st, want)
		}
	}
	if !errors.Is(gpurent.StatusError(int(st[4])), gpurent.ErrRoleNotAllowed) {
		t.Fatal("StatusError does not map the status")
	}
	w.trust.ClearReplay()
	one := emptyTierEngine(t)
	for i, b := range batch {
		err := one.RecordSigned(w.trust, b, tReport+10, 60)
		if got := gpurent.StatusError(int(st[i])); (err == nil) != (got == nil) || (err != nil && !errors.Is(err, got)) {
			t.Fatalf("envelope %d: one by one %v, in the batch %v", i, err, got)
		}
	}
	w.trust.ClearReplay()
	c, err := gpurent.NewCancel()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Request()
	if _, err := emptyTierEngine(t).RecordSignedMany(w.trust, envs, tReport+10, 60, 0, c); !errors.Is(err, gpurent.ErrCancelled) {
		t.Fatalf("cancelled batch: %v", err)
	}
}

func TestSignedCertificateQuorum(t *testing.T) {
	w := newSignedWorld(t)
	engines := []*gpurent.TierEngine{newTierEngineFor(t, w.pubs[:3], -1), newTierEngineFor(t, w.pubs[:3], -1),
		newTierEngineFor(t, w.pubs[:3], -1)}
	now := uint64(20004 * day)
	env, err := engines[0].SignCertificate(w.keys[0], tierP, now, now+7*day)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gpurent.VerifyTierCertificate(w.trust, env, now, 60, 2); !errors.Is(err, gpurent.ErrQuorumNotMet) {
		t.Fatalf("one signature, quorum 2: %v", err)
	}
	env2, err := engines[1].CosignCertificate(w.keys[1], w.trust, env, now, 60)
	if err != nil {
		t.Fatal(err)
	}
	env3, err := engines[2].CosignCertificate(w.keys[2], w.trust, env2, now, 60)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := gpurent.VerifyTierCertificate(w.trust, env3, now, 60, 3)
	if err != nil {
		t.Fatal(err)
	}
	own, err := engines[2].Certificate(tierP)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := cert.Encode()
	b, _ := own.Encode()
	if string(a) != string(b) || cert.Era != 20003 {
		t.Fatalf("verified certificate differs from the engine's (era %d)", cert.Era)
	}
	if _, err := gpurent.VerifyTierCertificate(w.trust, env3, now+10, 60, 3); err != nil {
		t.Fatalf("a certificate verifies again (no replay check): %v", err)
	}
	if _, err := engines[1].CosignCertificate(w.keys[1], w.trust, env2, now, 60); !errors.Is(err, gpurent.ErrExists) {
		t.Fatalf("second co-signature by one key: %v", err)
	}
	if _, err := gpurent.VerifyTierCertificate(w.trust, env3, now+8*day, 60, 1); !errors.Is(err, gpurent.ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	odd := newTierEngineFor(t, w.pubs[:3], 20001) // auditor 2 failed a security audit in era 20001
	if _, err := odd.CosignCertificate(w.keys[2], w.trust, env, now, 60); !errors.Is(err, gpurent.ErrCertMismatch) {
		t.Fatalf("engine with other evidence co-signed: %v", err)
	}
	envP, err := engines[1].CosignCertificate(w.keys[3], w.trust, env, now, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gpurent.VerifyTierCertificate(w.trust, envP, now, 60, 2); !errors.Is(err, gpurent.ErrQuorumNotMet) {
		t.Fatalf("a provider's signature counted: %v", err)
	}
	if _, err := gpurent.VerifyTierCertificate(w.trust, w.signedReport(t, 0, w.pubs[0], 20000, 0), tReport, 60, 1); !errors.Is(err, gpurent.ErrWrongRecord) {
		t.Fatalf("an audit report as a certificate: %v", err)
	}
}

// newTierEngineFor feeds four eras of reports from the given auditors;
// failEra >= 0 makes the last auditor fail its security audit in that era.
func newTierEngineFor(t *testing.T, auds []gpurent.Key, failEra int64) *gpurent.TierEngine {
	t.Helper()
	e := tierEngineWith(t, true)
	for era := uint64(20000); era < 20004; era++ {
		for j, a := range auds {
			r := tierReport(a, era, j)
			if int64(era) == failEra && j == len(auds)-1 {
				r.Security = gpurent.CheckFailed
			}
			if err := e.RecordReport(r); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.Evaluate(era, nil); err != nil {
			t.Fatal(err)
		}
	}
	return e
}
