package gpurent_test

import (
	"testing"

	"gpurent.dev/gpurent"
)

// Sign / verify / bulk-verify / failure cycles and forgotten handles leave
// the C heap where it was (sodium_malloc'ed keys use mmap, not malloc: the
// trust stores, results, envelopes and error strings are what this sees).
func TestAttestCyclesDoNotGrowTheCHeap(t *testing.T) {
	k := mustKey(t, 1)
	ts := storeWith(t, k, gpurent.RoleProvider)
	payload := offerPayload(t)
	noReplay := &gpurent.VerifyOptions{NoReplay: true}
	cycle := func() {
		env := sign(t, k, payload)
		v, err := ts.Verify(env, at0, 0, noReplay)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Payload(); err != nil {
			t.Fatal(err)
		}
		v.Close()
		if _, err := ts.Verify(env[:len(env)-1], at0, 0, noReplay); err == nil {
			t.Fatal("truncated envelope accepted")
		}
		if _, err := ts.VerifyMany([][]byte{env, env[:10]}, at0, 0, noReplay, 1, nil); err != nil {
			t.Fatal(err)
		}
		// Forgotten handles: the finalizers free them.
		_, _ = ts.Verify(env, at0, 0, noReplay)
		b, _ := gpurent.NewVerifyBatch()
		_ = b.Add(env)
		s, _ := gpurent.NewTrustStore(16)
		_ = s
	}
	n := 2000
	if testing.Short() {
		n = 200
	}
	for i := 0; i < 200; i++ {
		cycle()
	}
	before := heapAfterGC()
	for i := 0; i < n; i++ {
		cycle()
	}
	var grown int64
	for try := 0; try < 10; try++ {
		if grown = int64(heapAfterGC()) - int64(before); grown < 256<<10 {
			return
		}
	}
	// One leaked envelope (~400 bytes) or trust store per cycle would be ~1 MB and more here.
	t.Fatalf("C heap grew by %d bytes over %d cycles", grown, n)
}
