package gpurent_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"gpurent.dev/gpurent"
)

// Two markets given the same offers, requests, batches and lease ends; one
// is saved and loaded back at every step (bytes and files in turn): the
// receipts, explanations, digests and snapshots stay identical.
func TestMarketSnapshotRestartEveryStep(t *testing.T) {
	a, b := newTestMarket(t), newTestMarket(t)
	defer a.Close()
	path := filepath.Join(t.TempDir(), "market.snap")
	o := gpurent.DefaultMatchOptions()
	var leased []string
	for step := 0; step < 8; step++ {
		for p := 3; p < 8; p++ {
			if (p+step)%3 == 0 {
				for _, m := range []*gpurent.Market{a, b} {
					if err := m.PutOffer(mOffer(p, 1+(p+step)%3, uint64(step+1))); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		for j := 0; j < 5; j++ {
			q := mReq(fmt.Sprintf("s%d-r%d", step, j), 1<<(j%3))
			for _, m := range []*gpurent.Market{a, b} {
				if err := m.AddRequest(q); err != nil {
					t.Fatal(err)
				}
			}
		}
		var seq uint64
		var err error
		old := b
		if step%2 == 1 {
			if err = b.SaveFile(path, uint64(step)); err != nil {
				t.Fatal(err)
			}
			b, seq, err = gpurent.LoadMarketFile(path, nil)
		} else {
			data, err2 := b.Save(uint64(step))
			if err2 != nil {
				t.Fatal(err2)
			}
			b, seq, err = gpurent.LoadMarket(data, &o)
		}
		old.Close()
		if err != nil || seq != uint64(step) {
			t.Fatalf("load: %v, seq %d", err, seq)
		}
		sa, _ := a.Save(1)
		sb, _ := b.Save(1)
		if !bytes.Equal(sa, sb) {
			t.Fatal("snapshots differ")
		}
		da, _ := a.Digests()
		db, _ := b.Digests()
		if da != db {
			t.Fatal("digests differ")
		}
		probe := mReq("probe", 4)
		ea, _ := a.Explain(probe)
		eb, _ := b.Explain(probe)
		if ea.Text != eb.Text {
			t.Fatal("explanations differ")
		}
		ra, err := a.Match(t0+3600*uint64(step), nil)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.Match(t0+3600*uint64(step), nil)
		if err != nil {
			t.Fatal(err)
		}
		xa, _ := ra.Encode()
		xb, _ := rb.Encode()
		if !bytes.Equal(xa, xb) {
			t.Fatal("receipts differ")
		}
		if err := a.Apply(ra); err != nil {
			t.Fatal(err)
		}
		if err := b.Apply(rb); err != nil {
			t.Fatal(err)
		}
		f, _ := ra.Fields()
		for _, as := range f.Assignments {
			leased = append(leased, as.RequestID)
		}
		if len(leased) > 0 && step%3 == 2 {
			for _, m := range []*gpurent.Market{a, b} {
				if err := m.EndLease(leased[0]); err != nil {
					t.Fatal(err)
				}
			}
			leased = leased[1:]
		}
	}
	b.Close()
	if len(leased) == 0 {
		t.Fatal("no lease was made")
	}
}

func TestMarketSnapshotRefusals(t *testing.T) {
	m := newTestMarket(t)
	defer m.Close()
	if err := m.AddRequest(mReq("r", 2)); err != nil {
		t.Fatal(err)
	}
	data, err := m.Save(5)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), data...)
	bad[len(bad)/2] ^= 1
	if _, _, err := gpurent.LoadMarket(bad, nil); !errors.Is(err, gpurent.ErrSnapshotCorrupt) {
		t.Fatalf("flipped byte: %v", err)
	}
	if _, _, err := gpurent.LoadMarket(data[:len(data)-1], nil); !errors.Is(err, gpurent.ErrSnapshotTruncated) {
		t.Fatalf("truncated: %v", err)
	}
	other := gpurent.DefaultMatchOptions()
	other.WPrice = 400
	if _, _, err := gpurent.LoadMarket(data, &other); !errors.Is(err, gpurent.ErrSnapshotParams) {
		t.Fatalf("other policy: %v", err)
	}
	if _, _, err := gpurent.LoadTierEngine(data, nil); !errors.Is(err, gpurent.ErrSnapshotKind) {
		t.Fatalf("foreign kind: %v", err)
	}
	bad = append([]byte(nil), data...)
	bad[12] = 9
	if _, _, err := gpurent.LoadMarket(bad, nil); !errors.Is(err, gpurent.ErrSnapshotVersion) {
		t.Fatalf("newer version: %v", err)
	}
	if _, _, err := gpurent.LoadMarketFile(filepath.Join(t.TempDir(), "none"), nil); !errors.Is(err, gpurent.ErrIO) {
		t.Fatalf("missing file: %v", err)
	}
}
