package gpurent_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gpurent.dev/gpurent"
)

// closeDuring runs call on a goroutine and, once it is inside, closes the
// handle from this goroutine. It returns when call returned and when Close
// did (handle.go: Close waits for the calls in flight).
func closeDuring(t *testing.T, after time.Duration, call func() error, closeIt func() error) (callEnd, closeEnd time.Time) {
	t.Helper()
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		close(started)
		err := call()
		callEnd = time.Now()
		done <- err
	}()
	<-started
	time.Sleep(after)
	if err := closeIt(); err != nil {
		t.Fatal(err)
	}
	closeEnd = time.Now()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return callEnd, closeEnd
}

// returnedWhileRunning says whether Close returned well before the call did.
// The call's end is taken after its wrapper returns, so a Close that waited
// correctly may still be stamped a little earlier (the two goroutines race
// to read the clock); a Close that did not wait returns about 4/5 of the
// call's undisturbed duration (took) before it. Half of took separates the
// two without depending on the scheduler's jitter.
func returnedWhileRunning(callEnd, closeEnd time.Time, took time.Duration) bool {
	return closeEnd.Add(took / 2).Before(callEnd)
}

func timed(f func()) time.Duration {
	t0 := time.Now()
	f()
	return time.Since(t0)
}

// TestCloseWaitsForCallsInFlight closes a TrustStore during VerifyMany, a
// Market during Match and a TierEngine during Evaluate: the call gives the
// right answer, Close returns after it, later calls return ErrInvalidArg.
func TestCloseWaitsForCallsInFlight(t *testing.T) {
	t.Run("TrustStore.VerifyMany", func(t *testing.T) {
		k := mustKey(t, 1)
		payload := offerPayload(t)
		envs := make([][]byte, 100)
		for i := range envs {
			envs[i] = sign(t, k, payload)
		}
		ts, err := gpurent.NewTrustStore(0)
		if err != nil {
			t.Fatal(err)
		}
		if err := ts.Add(pub(t, k), gpurent.RoleProvider, 0, 0); err != nil {
			t.Fatal(err)
		}
		opts := &gpurent.VerifyOptions{NoReplay: true}
		took := timed(func() { _, _ = ts.VerifyMany(envs, at0, 0, opts, 1, nil) })
		for took < 300*time.Millisecond && len(envs) < 1<<20 {
			envs = append(envs, envs...)
			took *= 2
		}
		var sts []int32
		callEnd, closeEnd := closeDuring(t, took/5, func() (err error) {
			sts, err = ts.VerifyMany(envs, at0, 0, opts, 1, nil)
			return
		}, ts.Close)
		if returnedWhileRunning(callEnd, closeEnd, took) {
			t.Fatal("Close returned while VerifyMany was running")
		}
		for i, s := range sts {
			if s != 0 {
				t.Fatalf("envelope %d: status %d", i, s)
			}
		}
		if _, err := ts.VerifyMany(envs[:1], at0, 0, opts, 1, nil); !errors.Is(err, gpurent.ErrInvalidArg) {
			t.Fatalf("after Close: %v", err)
		}
	})

	t.Run("Market.Match", func(t *testing.T) {
		m, err := gpurent.NewMarket(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for p := 0; p < 200; p++ {
			o := mOffer(p, 10, 1)
			o.ProviderKey = gpurent.Key{byte(p >> 8), byte(p), 1}
			if err := m.PutOffer(o); err != nil {
				t.Fatal(err)
			}
		}
		var want []byte
		var took time.Duration
		for n := 0; took < 250*time.Millisecond && n < 20000; n += 500 {
			for i := n; i < n+500; i++ {
				if err := m.AddRequest(mReq(fmt.Sprintf("r%d", i), uint32(1+i%8))); err != nil {
					t.Fatal(err)
				}
			}
			took = timed(func() {
				r, err := m.Match(t0, nil)
				if err != nil {
					t.Fatal(err)
				}
				want, _ = r.Encode()
				r.Close()
			})
		}
		var got []byte
		var matchEnd time.Time
		_, closeEnd := closeDuring(t, took/5, func() error {
			r, err := m.Match(t0, nil)
			matchEnd = time.Now()
			if err != nil {
				return err
			}
			defer r.Close()
			got, err = r.Encode()
			return err
		}, m.Close)
		if returnedWhileRunning(matchEnd, closeEnd, took) {
			t.Fatal("Close returned while Match was running")
		}
		if string(got) != string(want) || len(got) == 0 {
			t.Fatal("the receipt differs from an undisturbed run")
		}
		if _, err := m.Stats(); !errors.Is(err, gpurent.ErrInvalidArg) {
			t.Fatalf("after Close: %v", err)
		}
	})

	t.Run("TierEngine.Evaluate", func(t *testing.T) {
		const n, first = 60000, 30000
		var took time.Duration
		o := gpurent.DefaultTierOptions()
		o.FirstEra, o.UnverifiedEvidence = first, true
		e, err := gpurent.NewTierEngine(&o)
		if err != nil {
			t.Fatal(err)
		}
		for era := uint64(first); era < first+3; era++ {
			events := make([]gpurent.TierEvent, 0, 2*n)
			for i := 0; i < n; i++ {
				k := gpurent.Key{byte(i >> 16), byte(i >> 8), byte(i), 7}
				ts := era*day + uint64(i%80000)
				events = append(events, gpurent.TierEvent{ProviderKey: k, TimeS: ts, Kind: gpurent.EventGPUChallenge, Value: 1},
					gpurent.TierEvent{ProviderKey: k, TimeS: ts + 1, Kind: gpurent.EventCPUChallenge, Value: 1})
			}
			if err := e.Record(events); err != nil {
				t.Fatal(err)
			}
			if era < first+2 {
				took = timed(func() {
					if _, err := e.Evaluate(era, nil); err != nil {
						t.Fatal(err)
					}
				})
			}
		}
		var s gpurent.EraSummary
		callEnd, closeEnd := closeDuring(t, took/5, func() (err error) {
			s, err = e.Evaluate(first+2, nil)
			return
		}, e.Close)
		if returnedWhileRunning(callEnd, closeEnd, took) {
			t.Fatal("Close returned while Evaluate was running")
		}
		if s.Era != first+2 || s.Evaluated != n {
			t.Fatalf("summary %+v", s)
		}
		if _, err := e.Evaluate(first+3, nil); !errors.Is(err, gpurent.ErrInvalidArg) {
			t.Fatalf("after Close: %v", err)
		}
	})

	t.Run("Cancel passed to a call", func(t *testing.T) {
		c, err := gpurent.NewCancel()
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		ts := storeWith(t, mustKey(t, 1), gpurent.RoleProvider)
		if _, err := ts.VerifyMany(nil, at0, 0, nil, 1, c); !errors.Is(err, gpurent.ErrInvalidArg) {
			t.Fatalf("a closed token: %v", err)
		}
	})
}

// TestSaveRefusesToOverwrite: SigningKey.Save never replaces an existing
// file (or symlink) unless KeyfileOptions.Force is set, so a key cannot be
// lost to a mistyped path.
func TestSaveRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "provider.key")
	k1, k2 := mustKey(t, 1), mustKey(t, 2)
	opts := &gpurent.KeyfileOptions{OpsLimit: 1, MemLimit: 1 << 20}
	if err := k1.Save(path, "pw", opts); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	err := k2.Save(path, "pw", opts)
	mustIs(t, err, gpurent.ErrExists)
	if !strings.Contains(err.Error(), "Force") {
		t.Fatalf("the error does not say how to replace: %v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("the key file changed")
	}
	force := &gpurent.KeyfileOptions{OpsLimit: 1, MemLimit: 1 << 20, Force: true}
	if err := k2.Save(path, "pw", force); err != nil {
		t.Fatal(err)
	}
	back, err := gpurent.LoadKey(path, "pw", nil)
	if err != nil || pub(t, back) != pub(t, k2) {
		t.Fatalf("after a forced save: %v", err)
	}
	back.Close()
	// a dangling symlink is an existing name: refused, no target created
	link, target := filepath.Join(dir, "link.key"), filepath.Join(dir, "target.key")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	mustIs(t, k1.Save(link, "pw", opts), gpurent.ErrExists)
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Fatal("saving through a symlink created its target")
	}
	// a failed save leaves no empty claim behind
	bad := filepath.Join(dir, "bad.key")
	mustIs(t, k1.Save(bad, "", opts), gpurent.ErrInvalidArg)
	if _, err := os.Lstat(bad); !os.IsNotExist(err) {
		t.Fatal("a failed save left a file")
	}
	// nil options: defaults, and still no overwrite
	mustIs(t, k1.Save(path, "pw", nil), gpurent.ErrExists)
}
