package gpurent_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"gpurent.dev/gpurent"
)

// Two engines fed the same reports; one is saved and loaded back before
// every era (bytes and files in turn): every output stays identical.
func TestTierSnapshotRestartEveryEra(t *testing.T) {
	o := gpurent.DefaultTierOptions()
	o.FirstEra = 20000
	o.UnverifiedEvidence = true
	a, err := gpurent.NewTierEngine(&o)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := gpurent.NewTierEngine(&o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tier.snap")
	for n, era := 0, uint64(20000); era < 20010; n, era = n+1, era+1 {
		for j, aud := range auditors() {
			for _, e := range []*gpurent.TierEngine{a, b} {
				if err := e.RecordReport(tierReport(aud, era, j)); err != nil {
					t.Fatal(err)
				}
			}
		}
		var seq uint64
		if n%2 == 0 {
			data, err := b.Save(uint64(n))
			if err != nil {
				t.Fatal(err)
			}
			b.Close()
			if b, seq, err = gpurent.LoadTierEngine(data, &o); err != nil {
				t.Fatal(err)
			}
		} else {
			if err := b.SaveFile(path, uint64(n)); err != nil {
				t.Fatal(err)
			}
			b.Close()
			if b, seq, err = gpurent.LoadTierEngineFile(path, &o); err != nil {
				t.Fatal(err)
			}
		}
		if seq != uint64(n) {
			t.Fatalf("input sequence %d, want %d", seq, n)
		}
		sa, err1 := a.Evaluate(era, nil)
		sb, err2 := b.Evaluate(era, nil)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(sa, sb) {
			t.Fatalf("era %d: %v %v %+v %+v", era, err1, err2, sa, sb)
		}
		xa, _ := a.Explain(tierP)
		xb, _ := b.Explain(tierP)
		if !reflect.DeepEqual(xa, xb) {
			t.Fatalf("explanations differ: %+v %+v", xa, xb)
		}
		ca, err1 := a.Certificate(tierP)
		cb, err2 := b.Certificate(tierP)
		if (err1 == nil) != (err2 == nil) {
			t.Fatal(err1, err2)
		}
		if err1 == nil {
			ea, _ := ca.Encode()
			eb, _ := cb.Encode()
			if !bytes.Equal(ea, eb) {
				t.Fatal("certificates differ")
			}
		}
	}
	defer b.Close()
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot file mode: %v %v", st, err)
	}
	data, _ := a.Save(1)
	bad := append([]byte(nil), data...)
	bad[len(bad)/2] ^= 1
	if _, _, err := gpurent.LoadTierEngine(bad, nil); !errors.Is(err, gpurent.ErrSnapshotCorrupt) {
		t.Fatal(err)
	}
	if _, _, err := gpurent.LoadTierEngine(data[:len(data)-1], nil); !errors.Is(err, gpurent.ErrSnapshotTruncated) {
		t.Fatal(err)
	}
	other := o
	other.WindowEras = 10
	if _, _, err := gpurent.LoadTierEngine(data, &other); !errors.Is(err, gpurent.ErrSnapshotParams) {
		t.Fatal(err)
	}
	bad = append([]byte(nil), data...)
	bad[12] = 7
	if _, _, err := gpurent.LoadTierEngine(bad, nil); !errors.Is(err, gpurent.ErrSnapshotVersion) {
		t.Fatal(err)
	}
}

func TestTrustSnapshot(t *testing.T) {
	ts, err := gpurent.NewTrustStore(4)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	var keys []gpurent.Key
	for i := 1; i <= 3; i++ {
		var seed [gpurent.SeedBytes]byte
		for j := range seed {
			seed[j] = byte(i)
		}
		k, err := gpurent.KeyFromSeed(seed)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := k.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, pk)
		k.Close()
		if err := ts.Add(keys[i-1], gpurent.RoleAuditor, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.Revoke(keys[2]); err != nil {
		t.Fatal(err)
	}
	data, err := ts.Save(41)
	if err != nil {
		t.Fatal(err)
	}
	u, seq, err := gpurent.LoadTrustStore(data, 4)
	if err != nil || seq != 41 {
		t.Fatal(err, seq)
	}
	defer u.Close()
	if !u.IsRevoked(keys[2]) || u.IsRevoked(keys[0]) {
		t.Fatal("revocations not restored")
	}
	again, _ := u.Save(41)
	if !bytes.Equal(again, data) {
		t.Fatal("a loaded store saves other bytes")
	}
	path := filepath.Join(t.TempDir(), "trust.snap")
	if err := u.SaveFile(path, 42); err != nil {
		t.Fatal(err)
	}
	v, seq, err := gpurent.LoadTrustStoreFile(path, 0)
	if err != nil || seq != 42 {
		t.Fatal(err, seq)
	}
	v.Close()
	if _, _, err := gpurent.LoadTrustStore(data, 5); !errors.Is(err, gpurent.ErrSnapshotParams) {
		t.Fatal(err)
	}
	tier, _ := gpurent.NewTierEngine(nil)
	defer tier.Close()
	td, _ := tier.Save(0)
	if _, _, err := gpurent.LoadTrustStore(td, 0); !errors.Is(err, gpurent.ErrSnapshotKind) {
		t.Fatal(err)
	}
	if _, _, err := gpurent.LoadTrustStoreFile(filepath.Join(t.TempDir(), "none"), 0); !errors.Is(err, gpurent.ErrIO) {
		t.Fatal(err)
	}
}
