package gpurent_test

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gpurent.dev/gpurent"
	"gpurent.dev/gpurent/capi"
)

const (
	at0  = 1700000000
	aday = 86400
)

func seedOf(b byte) (s [gpurent.SeedBytes]byte) {
	for i := range s {
		s[i] = b
	}
	return
}

func mustKey(t *testing.T, b byte) *gpurent.SigningKey {
	t.Helper()
	k, err := gpurent.KeyFromSeed(seedOf(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func pub(t *testing.T, k *gpurent.SigningKey) gpurent.Key {
	t.Helper()
	pk, err := k.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

func offerPayload(t *testing.T) []byte {
	t.Helper()
	o := gpurent.Offer{ProviderKey: keyOf(1), Seq: 1, Region: "eu-west",
		Nodes: []gpurent.Node{{NodeID: "n1", GPU: gpurent.GPU{Model: "H100", CCMajor: 9}, GPUCount: 8}}}
	b, err := o.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sign(t *testing.T, k *gpurent.SigningKey, payload []byte) []byte {
	t.Helper()
	rt, err := gpurent.RecordTypeOf(payload)
	if err != nil {
		t.Fatal(err)
	}
	env, err := k.Sign(gpurent.Envelope{Statement: rt, IssuedAt: at0, ExpiresAt: at0 + aday}, payload)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func mustIs(t *testing.T, err error, want *gpurent.Error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("want %s, got %v", want.Name, err)
	}
	var ge *gpurent.Error
	if !errors.As(err, &ge) || ge.Detail == "" && want != gpurent.ErrReplayed {
		t.Fatalf("%v: no detail", err)
	}
}

func storeWith(t *testing.T, k *gpurent.SigningKey, roles gpurent.Role) *gpurent.TrustStore {
	t.Helper()
	ts, err := gpurent.NewTrustStore(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.Close() })
	if err := ts.Add(pub(t, k), roles, 0, 0); err != nil {
		t.Fatal(err)
	}
	return ts
}

// ---- the message signed, from docs/wire-format.md, for crypto/ed25519 ----

func mpUint(b []byte, i int) (uint64, int) {
	switch c := b[i]; {
	case c <= 0x7f:
		return uint64(c), i + 1
	case c == 0xcc:
		return uint64(b[i+1]), i + 2
	case c == 0xcd:
		return uint64(binary.BigEndian.Uint16(b[i+1:])), i + 3
	case c == 0xce:
		return uint64(binary.BigEndian.Uint32(b[i+1:])), i + 5
	default:
		return binary.BigEndian.Uint64(b[i+1:]), i + 9
	}
}

func mpBin(b []byte, i int) ([]byte, int) {
	var n, h int
	switch b[i] {
	case 0xc4:
		n, h = int(b[i+1]), 2
	case 0xc5:
		n, h = int(binary.BigEndian.Uint16(b[i+1:])), 3
	default:
		n, h = int(binary.BigEndian.Uint32(b[i+1:])), 5
	}
	return b[i+h : i+h+n], i + h + n
}

// stdlibVerify checks every signature of an envelope with crypto/ed25519.
func stdlibVerify(env []byte) error {
	if len(env) < 2 || env[0] != 0x89 {
		return fmt.Errorf("not an envelope")
	}
	i, statement := 1, uint64(0)
	for key := 0; key < 8; key++ {
		if int(env[i]) != key {
			return fmt.Errorf("key %d expected", key)
		}
		i++
		switch key {
		case 2, 5, 6, 7:
			_, i = mpBin(env, i)
		default:
			var v uint64
			v, i = mpUint(env, i)
			if key == 1 {
				statement = v
			}
		}
	}
	body := append([]byte{0x88}, env[1:i]...)
	le := func(n uint64) []byte { b := make([]byte, 8); binary.LittleEndian.PutUint64(b, n); return b }
	ctx := []byte("libgpurent envelope v1")
	var m []byte
	m = append(m, le(3)...)
	m = append(append(m, le(uint64(len(ctx)))...), ctx...)
	m = append(append(m, le(8)...), le(statement)...)
	m = append(append(m, le(uint64(len(body)))...), body...)
	if env[i] != 8 || env[i+1]&0xf0 != 0x90 {
		return fmt.Errorf("no signatures")
	}
	count := int(env[i+1] & 0x0f)
	i += 2
	for s := 0; s < count; s++ {
		var pk, sig []byte
		pk, i = mpBin(env, i+2)
		sig, i = mpBin(env, i+1)
		if !ed25519.Verify(ed25519.PublicKey(pk), m, sig) {
			return fmt.Errorf("signature %d refused by crypto/ed25519", s)
		}
	}
	if count == 0 || i != len(env) {
		return fmt.Errorf("bad signature list")
	}
	return nil
}

// ---- keys ----

func TestKeysFromSeedGenerateSealLoad(t *testing.T) {
	k := mustKey(t, 1)
	pk := pub(t, k)
	if hex.EncodeToString(pk[:]) != "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c" {
		t.Fatalf("public key %x", pk)
	}
	g, err := gpurent.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if gp := pub(t, g); gp == pk {
		t.Fatal("generated the seed's key")
	}
	g.Close()
	g.Close()
	if _, err := g.PublicKey(); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("closed key: %v", err)
	}

	opts := &gpurent.KeyfileOptions{OpsLimit: 1, MemLimit: 1 << 20}
	sealed, err := k.Seal("correct horse", opts)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := gpurent.UnsealKey(sealed, "correct horse", &pk)
	if err != nil || pub(t, k2) != pk {
		t.Fatalf("unseal: %v", err)
	}
	k2.Close()
	_, err = gpurent.UnsealKey(sealed, "wrong horse", nil)
	mustIs(t, err, gpurent.ErrWrongPassphrase)
	damaged := append([]byte{}, sealed...)
	damaged[len(damaged)/2] ^= 1
	_, err = gpurent.UnsealKey(damaged, "correct horse", nil)
	mustIs(t, err, gpurent.ErrKeyfileDamaged)
	other := keyOf(9)
	_, err = gpurent.UnsealKey(sealed, "correct horse", &other)
	mustIs(t, err, gpurent.ErrKeyMismatch)
	_, err = k.Seal("", opts)
	mustIs(t, err, gpurent.ErrInvalidArg)

	path := filepath.Join(t.TempDir(), "provider.key")
	if err := k.Save(path, "pw", opts); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st, err)
	}
	k3, err := gpurent.LoadKey(path, "pw", nil)
	if err != nil || pub(t, k3) != pk {
		t.Fatalf("load: %v", err)
	}
	k3.Close()
	_, err = gpurent.LoadKey(path, "nope", &pk)
	mustIs(t, err, gpurent.ErrWrongPassphrase)
	_, err = gpurent.LoadKey(path+".missing", "pw", nil)
	mustIs(t, err, gpurent.ErrIO)
	mustIs(t, k.Save(filepath.Join(path, "x", "y"), "pw", opts), gpurent.ErrIO)
	// SaveNew never replaces an existing file, whatever the options say.
	mustIs(t, k.SaveNew(path, "pw2", opts), gpurent.ErrExists)
	fresh := filepath.Join(filepath.Dir(path), "fresh.key")
	if err := k.SaveNew(fresh, "pw", opts); err != nil {
		t.Fatal(err)
	}
	if k4, err := gpurent.LoadKey(fresh, "pw", &pk); err != nil {
		t.Fatalf("load: %v", err)
	} else {
		k4.Close()
	}
}

func TestOptionsInitVersions(t *testing.T) {
	ko := capi.NewKeyfile_options()
	defer capi.DeleteKeyfile_options(ko)
	mustIs(t, capi.Keyfile_options_init(ko, 99), gpurent.ErrVersion)
	to := capi.NewTrust_options()
	defer capi.DeleteTrust_options(to)
	mustIs(t, capi.Trust_options_init(to, 99), gpurent.ErrVersion)
	vo := capi.NewVerify_options()
	defer capi.DeleteVerify_options(vo)
	mustIs(t, capi.Verify_options_init(vo, 99), gpurent.ErrVersion)
}

// ---- records ----

func TestEnvelopeHeaderDigestRevocation(t *testing.T) {
	k := mustKey(t, 1)
	payload := offerPayload(t)
	hdr := gpurent.Envelope{Statement: gpurent.RecordOffer, IssuedAt: at0, ExpiresAt: at0 + aday, Subject: []byte("node-1")}
	for i := range hdr.Nonce {
		hdr.Nonce[i] = byte(i + 1)
	}
	env, err := k.Sign(hdr, payload)
	if err != nil {
		t.Fatal(err)
	}
	got, err := gpurent.DecodeEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	hdr.Issuer, hdr.PayloadLen, hdr.SignatureCount = pub(t, k), uint32(len(payload)), 1
	if fmt.Sprint(got) != fmt.Sprint(hdr) {
		t.Fatalf("header %+v, want %+v", got, hdr)
	}
	_, err = gpurent.DecodeEnvelope(env[:len(env)-1])
	mustIs(t, err, gpurent.ErrTruncated)
	d, err := gpurent.EnvelopeDigest(env)
	if err != nil || d == (gpurent.Digest{}) {
		t.Fatalf("digest %x %v", d, err)
	}
	_, err = k.Sign(gpurent.Envelope{Statement: gpurent.RecordOffer, Subject: make([]byte, gpurent.SubjectMax+1)}, payload)
	mustIs(t, err, gpurent.ErrLimit)
	c := capi.NewEnvelope()
	defer capi.DeleteEnvelope(c)
	c.SetStatement(5)
	capi.Envelope_init(c)
	if c.GetStatement() != 0 {
		t.Fatal("Envelope_init did not zero")
	}

	r := gpurent.Revocation{Key: pub(t, k), RevokedAt: at0, Reason: gpurent.RevokeCompromised}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	rb, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if back, err := gpurent.DecodeRevocation(rb); err != nil || back != r {
		t.Fatalf("revocation round trip %+v %v", back, err)
	}
	mustIs(t, gpurent.Revocation{RevokedAt: at0}.Validate(), gpurent.ErrInvalidField)
	_, err = gpurent.DecodeRevocation(rb[:len(rb)-1])
	mustIs(t, err, gpurent.ErrTruncated)
	if gpurent.StatementDefaultRole(gpurent.RecordOffer) != gpurent.RoleProvider ||
		gpurent.StatementDefaultRole(gpurent.RecordRevocation) != gpurent.RoleRevoker {
		t.Fatal("default roles")
	}
}

// ---- trust and verification ----

func TestTrustStoreKeys(t *testing.T) {
	k := mustKey(t, 1)
	ts := storeWith(t, k, gpurent.RoleProvider|gpurent.RoleAuditor)
	pk := pub(t, k)
	if r, err := ts.Roles(pk); err != nil || r != gpurent.RoleProvider|gpurent.RoleAuditor {
		t.Fatalf("roles %v %v", r, err)
	}
	mustIs(t, ts.Add(pk, gpurent.RoleProvider, 0, 0), gpurent.ErrExists)
	mustIs(t, ts.Add(gpurent.Key{}, gpurent.RoleProvider, 0, 0), gpurent.ErrInvalidArg)
	_, err := ts.Roles(keyOf(9))
	mustIs(t, err, gpurent.ErrNotFound)
	if ts.KeyCount() != 1 || ts.IsRevoked(pk) {
		t.Fatal("count / revoked")
	}
	if err := ts.Revoke(pk); err != nil || !ts.IsRevoked(pk) {
		t.Fatal("revoke")
	}
	if err := ts.Remove(pk); err != nil || ts.KeyCount() != 0 {
		t.Fatal("remove")
	}
	mustIs(t, ts.Remove(pk), gpurent.ErrNotFound)
	_, err = gpurent.NewTrustStore(1 << 30)
	mustIs(t, err, gpurent.ErrInvalidArg)
}

func TestVerifyAndEveryFailure(t *testing.T) {
	k := mustKey(t, 1)
	ts := storeWith(t, k, gpurent.RoleProvider)
	payload := offerPayload(t)
	env := sign(t, k, payload)

	v, err := ts.Verify(env, at0+10, 0, &gpurent.VerifyOptions{Statement: gpurent.RecordOffer})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Payload()
	if err != nil || !bytes.Equal(p, payload) || !bytes.Equal(v.PayloadView(), payload) {
		t.Fatalf("payload %v", err)
	}
	h, err := v.Header()
	if err != nil || h.Issuer != pub(t, k) {
		t.Fatalf("header %v", err)
	}
	d, _ := v.Digest()
	if want, _ := gpurent.EnvelopeDigest(env); d != want {
		t.Fatal("digest")
	}
	if s, err := v.Signers(); err != nil || len(s) != 1 || s[0] != pub(t, k) {
		t.Fatalf("signers %v %v", s, err)
	}
	v.Close()
	_, err = ts.Verify(env, at0+10, 0, nil)
	mustIs(t, err, gpurent.ErrReplayed)
	ts.ClearReplay()
	noReplay := &gpurent.VerifyOptions{NoReplay: true}
	if v, err := ts.Verify(env, at0+10, 0, noReplay); err != nil {
		t.Fatal(err)
	} else {
		v.Close()
	}

	bad := append([]byte{}, env...)
	bad[len(bad)-1] ^= 1
	_, err = ts.Verify(bad, at0, 0, noReplay)
	mustIs(t, err, gpurent.ErrBadSignature)
	_, err = ts.Verify(env, at0+2*aday, 0, noReplay)
	mustIs(t, err, gpurent.ErrExpired)
	_, err = ts.Verify(env, at0-1000, 10, noReplay)
	mustIs(t, err, gpurent.ErrNotYetValid)
	_, err = ts.Verify(env, at0, 0, &gpurent.VerifyOptions{Statement: gpurent.RecordRequest, NoReplay: true})
	mustIs(t, err, gpurent.ErrWrongRecord)
	_, err = ts.Verify(env, at0, 0, &gpurent.VerifyOptions{RequiredRole: gpurent.RoleAuditor, NoReplay: true})
	mustIs(t, err, gpurent.ErrRoleNotAllowed)
	_, err = ts.Verify(env, at0, 0, &gpurent.VerifyOptions{Quorum: 2, NoReplay: true})
	mustIs(t, err, gpurent.ErrQuorumNotMet)
	_, err = ts.Verify(sign(t, mustKey(t, 7), payload), at0, 0, noReplay)
	mustIs(t, err, gpurent.ErrUnknownIssuer)
	_, err = ts.Verify(env[:len(env)-3], at0, 0, noReplay)
	mustIs(t, err, gpurent.ErrTruncated)
	_, err = ts.Verify([]byte{0xc1}, at0, 0, noReplay)
	mustIs(t, err, gpurent.ErrMalformed)
	noncanon := append([]byte{env[0], 0x00, 0xd3, 0, 0, 0, 0, 0, 0, 0, 0x09}, env[3:]...)
	_, err = ts.Verify(noncanon, at0, 0, noReplay)
	mustIs(t, err, gpurent.ErrNonCanonical)
	_, err = k.Sign(gpurent.Envelope{Statement: gpurent.RecordOffer, IssuedAt: at0, ExpiresAt: at0 + 1, Issuer: keyOf(3)}, payload)
	mustIs(t, err, gpurent.ErrKeyMismatch)
	if err := ts.Revoke(pub(t, k)); err != nil {
		t.Fatal(err)
	}
	_, err = ts.Verify(env, at0, 0, noReplay)
	mustIs(t, err, gpurent.ErrRevoked)
}

func TestCosignQuorumAndRevocation(t *testing.T) {
	keys := []*gpurent.SigningKey{mustKey(t, 3), mustKey(t, 4), mustKey(t, 5)}
	receipt, _ := hex.DecodeString("83000701ac726563656970742d326f663302cd1234")
	env, err := keys[0].Sign(gpurent.Envelope{Statement: gpurent.RecordMatchReceipt, IssuedAt: at0, ExpiresAt: at0 + aday}, receipt)
	if err != nil {
		t.Fatal(err)
	}
	if env, err = keys[1].Cosign(env); err != nil {
		t.Fatal(err)
	}
	_, err = keys[1].Cosign(env)
	mustIs(t, err, gpurent.ErrExists)
	ts := storeWith(t, keys[0], gpurent.RoleMatcher)
	for _, k := range keys[1:] {
		if err := ts.Add(pub(t, k), gpurent.RoleMatcher, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	v, err := ts.Verify(env, at0, 0, &gpurent.VerifyOptions{Quorum: 2, NoReplay: true})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := v.Signers(); len(s) != 2 {
		t.Fatalf("signers %d", len(s))
	}
	v.Close()
	_, err = ts.Verify(env, at0, 0, &gpurent.VerifyOptions{Quorum: 3, NoReplay: true})
	mustIs(t, err, gpurent.ErrQuorumNotMet)

	// Revocations: a revoker's statement revokes; a provider's does not.
	revoker := mustKey(t, 6)
	if err := ts.Add(pub(t, revoker), gpurent.RoleRevoker, 0, 0); err != nil {
		t.Fatal(err)
	}
	rb, _ := gpurent.Revocation{Key: pub(t, keys[2]), RevokedAt: at0}.Encode()
	mustIs(t, ts.ApplyRevocation(sign(t, keys[0], rb), at0, 0, nil), gpurent.ErrRoleNotAllowed)
	stmt := sign(t, revoker, rb)
	if err := ts.ApplyRevocation(stmt, at0, 0, nil); err != nil || !ts.IsRevoked(pub(t, keys[2])) {
		t.Fatalf("apply revocation: %v", err)
	}
	mustIs(t, ts.ApplyRevocation(stmt, at0, 0, nil), gpurent.ErrReplayed)
}

func TestVerifyManyAndBatch(t *testing.T) {
	k := mustKey(t, 1)
	ts := storeWith(t, k, gpurent.RoleProvider)
	payload := offerPayload(t)
	var envs [][]byte
	for i := 0; i < 30; i++ {
		envs = append(envs, sign(t, k, payload))
	}
	bad := append([]byte{}, envs[5]...)
	bad[len(bad)-1] ^= 1
	envs[5], envs[9] = bad, envs[8]
	st, err := ts.VerifyMany(envs, at0, 0, nil, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range st {
		want := 0
		switch i {
		case 5:
			want = int(capi.E_BAD_SIGNATURE)
		case 9:
			want = int(capi.E_REPLAYED)
		}
		if int(s) != want {
			t.Fatalf("status %d: %d, want %d", i, s, want)
		}
	}
	if !errors.Is(gpurent.StatusError(int(st[5])), gpurent.ErrBadSignature) || gpurent.StatusError(0) != nil {
		t.Fatal("StatusError")
	}
	if st, err := ts.VerifyMany(nil, at0, 0, nil, 0, nil); err != nil || len(st) != 0 {
		t.Fatal("empty VerifyMany")
	}
	cancel, _ := gpurent.NewCancel()
	defer cancel.Close()
	cancel.Request()
	_, err = ts.VerifyMany(envs, at0, 0, nil, 0, cancel)
	mustIs(t, err, gpurent.ErrCancelled)

	ts.ClearReplay()
	b, err := gpurent.NewVerifyBatch()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, e := range envs[:10] {
		if err := b.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	if b.Len() != 10 || b.Status(0) != int(capi.E_CANCELLED) {
		t.Fatal("before run")
	}
	if err := b.Run(ts, at0, 0, nil, 2, nil); err != nil {
		t.Fatal(err)
	}
	if b.Status(0) != 0 || b.Status(5) != int(capi.E_BAD_SIGNATURE) || b.Status(99) != int(capi.E_NOT_FOUND) {
		t.Fatalf("statuses %d %d", b.Status(0), b.Status(5))
	}
	if p, err := b.Payload(0); err != nil || !bytes.Equal(p, payload) {
		t.Fatal("payload 0")
	}
	_, err = b.Payload(5)
	mustIs(t, err, gpurent.ErrBadSignature)
	mustIs(t, b.Run(ts, at0, 0, nil, 0, cancel), gpurent.ErrCancelled)
}

// ---- the C vectors, byte for byte ----

func TestCVectorsReproducedAndJudged(t *testing.T) {
	f, err := os.Open("../../tests/vectors/envelopes_c.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		v := map[string]string{}
		for _, tok := range strings.Fields(line) {
			kv := strings.SplitN(tok, "=", 2)
			v[kv[0]] = kv[1]
		}
		num := func(k string) uint64 { x, _ := strconv.ParseUint(v[k], 10, 64); return x }
		unhex := func(s string) []byte {
			if s == "-" {
				return nil
			}
			b, _ := hex.DecodeString(s)
			return b
		}
		keyFor := func(seedHex string) *gpurent.SigningKey {
			var s [32]byte
			copy(s[:], unhex(seedHex))
			k, err := gpurent.KeyFromSeed(s)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		want := unhex(v["envelope"])
		if v["mutation"] == "none" {
			signers := strings.Split(v["signers"], ",")
			hdr := gpurent.Envelope{Statement: gpurent.RecordType(num("statement")), IssuedAt: num("issued"),
				ExpiresAt: num("expires"), Subject: unhex(v["subject"])}
			copy(hdr.Nonce[:], unhex(v["nonce"]))
			k := keyFor(signers[0])
			env, err := k.Sign(hdr, unhex(v["payload"]))
			k.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range signers[1:] {
				k := keyFor(s)
				env, err = k.Cosign(env)
				k.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(env, want) {
				t.Fatalf("%s: the Go binding signs other bytes than C", v["name"])
			}
			if err := stdlibVerify(env); err != nil {
				t.Fatalf("%s: %v", v["name"], err)
			}
		}
		ts, err := gpurent.NewTrustStore(0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range strings.Split(v["trust"], ",") {
			parts := strings.Split(e, ":")
			k := keyFor(parts[0])
			pk := pub(t, k)
			k.Close()
			roles, _ := strconv.ParseUint(parts[1], 10, 32)
			var nb, na uint64
			if len(parts) > 2 {
				nb, _ = strconv.ParseUint(parts[2], 10, 64)
			}
			if len(parts) > 3 {
				na, _ = strconv.ParseUint(parts[3], 10, 64)
			}
			if err := ts.Add(pk, gpurent.Role(roles), nb, na); err != nil {
				t.Fatal(err)
			}
		}
		if v["revoked"] != "-" {
			for _, s := range strings.Split(v["revoked"], ",") {
				k := keyFor(s)
				_ = ts.Revoke(pub(t, k))
				k.Close()
			}
		}
		res, err := ts.Verify(want, num("now"), uint32(num("skew")),
			&gpurent.VerifyOptions{Quorum: uint32(num("quorum")), RequiredRole: gpurent.Role(num("role"))})
		got := "GPURENT_OK"
		var ge *gpurent.Error
		if errors.As(err, &ge) {
			got = ge.Name
		} else if err == nil {
			res.Close()
		}
		if got != v["expect"] {
			t.Fatalf("%s: %s, want %s", v["name"], got, v["expect"])
		}
		ts.Close()
		n++
	}
	if n < 8 {
		t.Fatalf("only %d vectors", n)
	}
}

// ---- cross-language ----

// crypto/ed25519 verifies what this binding signs; the envelope is left for
// Python's cryptography (make check-bindings runs xsign.py on it).
func TestStdlibVerifiesWhatTheBindingSigns(t *testing.T) {
	k, err := gpurent.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	env, err := k.Sign(gpurent.Envelope{Statement: gpurent.RecordOffer, IssuedAt: at0, ExpiresAt: at0 + aday,
		Subject: []byte("xlang")}, offerPayload(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := stdlibVerify(env); err != nil {
		t.Fatal(err)
	}
	tampered := append([]byte{}, env...)
	tampered[len(tampered)-70] ^= 1 // in the payload, before the signature list
	if stdlibVerify(tampered) == nil {
		t.Fatal("crypto/ed25519 accepted a tampered envelope")
	}
	if dir := os.Getenv("GPURENT_TEST_BUILD"); dir != "" {
		out := filepath.Join(dir, "bindings", "xlang", "go-signed.txt")
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, []byte(hex.EncodeToString(env)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// crypto/ed25519 verifies envelopes signed through the Python binding
// (make check-bindings sets GPURENT_XSIGN_PYTHON to the file the Python suite
// wrote).
func TestStdlibVerifiesWhatPythonSigned(t *testing.T) {
	path := os.Getenv("GPURENT_XSIGN_PYTHON")
	if path == "" {
		t.Skip("GPURENT_XSIGN_PYTHON not set (make check-bindings sets it)")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Fields(string(data)) {
		env, err := hex.DecodeString(line)
		if err != nil {
			t.Fatal(err)
		}
		if err := stdlibVerify(env); err != nil {
			t.Fatalf("envelope signed through Python: %v", err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no envelope from Python")
	}
	t.Logf("crypto/ed25519 verified %d envelope(s) signed through the Python binding", n)
}

// AdoptReplay carries the replay window of a loaded snapshot into a store
// built from other keys: what the snapshot remembers is refused, and the
// store's own earlier window is replaced.
func TestAdoptReplay(t *testing.T) {
	k := mustKey(t, 1)
	src := storeWith(t, k, gpurent.RoleProvider)
	env, other := sign(t, k, offerPayload(t)), sign(t, k, offerPayload(t))
	verifyOK := func(ts *gpurent.TrustStore, e []byte) {
		t.Helper()
		v, err := ts.Verify(e, at0+10, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		v.Close()
	}
	verifyOK(src, env)
	path := filepath.Join(t.TempDir(), "trust.snap")
	if err := src.SaveFile(path, 1); err != nil {
		t.Fatal(err)
	}
	loaded, _, err := gpurent.LoadTrustStoreFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	dst := storeWith(t, k, gpurent.RoleProvider)
	verifyOK(dst, other)
	if err := dst.AdoptReplay(loaded); err != nil {
		t.Fatal(err)
	}
	loaded.Close()
	_, err = dst.Verify(env, at0+10, 0, nil)
	mustIs(t, err, gpurent.ErrReplayed)
	verifyOK(dst, other)
	mustIs(t, dst.AdoptReplay(nil), gpurent.ErrInvalidArg)
	if err := dst.AdoptReplay(dst); err != nil {
		t.Fatal(err)
	}
	_, err = dst.Verify(other, at0+10, 0, nil)
	mustIs(t, err, gpurent.ErrReplayed)
	if err := dst.AdoptReplay(loaded); err == nil {
		t.Fatal("adopting from a closed store")
	}
}
