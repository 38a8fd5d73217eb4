package gpurent_test

// C heap cycles of the tier engine, the market and the probe (the wire and
// attest cycles are in memory_test.go and attest_memory_test.go): every
// handle, record array, returned string, buffer and error detail the binding
// receives is freed, by Close or by a finalizer.
//
// The C heap is read as memory_test.go reads it (cmem.InUse, glibc's
// mallinfo2). Chunks a thread frees into glibc's per-thread cache count as
// in use there: with that cache off (GLIBC_TUNABLES=
// glibc.malloc.tcache_count=0) every cycle below measured 0 bytes of
// growth; with it on, 10-130 KiB over a run. The limits sit above that and
// below one leaked record per cycle (each test names what a leak would
// cost; removing a Close, a Delete or a finalizer in the binding fails it).

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"gpurent.dev/gpurent"
)

// settledHeap is heapAfterGC once the finalizers queued by the collections
// have had time to run (they run on their own goroutine, and one forgotten
// engine holds tens of KiB): the lowest of a few readings.
func settledHeap() uint64 {
	h := heapAfterGC()
	for i := 0; i < 3; i++ {
		time.Sleep(5 * time.Millisecond)
		if x := heapAfterGC(); x < h {
			h = x
		}
	}
	return h
}

// heapSteady runs cycle warm times, then n times, and fails if the C heap
// grew by more than limit bytes.
func heapSteady(t *testing.T, warm, n int, limit int64, cycle func()) {
	t.Helper()
	for i := 0; i < warm; i++ {
		cycle()
	}
	before := settledHeap()
	for i := 0; i < n; i++ {
		cycle()
	}
	if grown := int64(settledHeap()) - int64(before); grown > limit {
		t.Fatalf("C heap grew by %d bytes over %d cycles", grown, n)
	}
}

func cycles(t *testing.T, n int) int {
	if testing.Short() {
		return n / 10
	}
	return n
}

// An engine per cycle: options, events, reports (records and bytes), two
// evaluated eras, explanation (a C string), certificate and its codec, an
// audit report decoded (and a truncated one refused), a signed certificate
// verified, refused calls (error details), Close.
func TestTierCyclesDoNotGrowTheCHeap(t *testing.T) {
	w := newSignedWorld(t)
	o := gpurent.DefaultTierOptions()
	o.FirstEra = 20000
	o.UnverifiedEvidence = true
	other := gpurent.Key{0x77}
	reportBytes, err := tierReport(w.pubs[2], 20001, 2).Encode()
	if err != nil {
		t.Fatal(err)
	}
	cycle := func() {
		e, err := gpurent.NewTierEngine(&o)
		if err != nil {
			t.Fatal(err)
		}
		for era := uint64(20000); era < 20002; era++ {
			for j := 0; j < 2; j++ {
				if err := e.RecordReport(tierReport(w.pubs[j], era, j)); err != nil {
					t.Fatal(err)
				}
			}
			if era == 20000 {
				if err := e.RecordReport(tierReport(w.pubs[2], era, 2)); err != nil {
					t.Fatal(err)
				}
			} else if err := e.RecordReportBytes(reportBytes); err != nil {
				t.Fatal(err)
			}
			ev := []gpurent.TierEvent{{ProviderKey: tierP, TimeS: era*day + 5, Kind: gpurent.EventGPUChallenge, Value: 1},
				{ProviderKey: other, TimeS: era*day + 6, Kind: gpurent.EventStake, Value: 9}}
			if err := e.Record(ev); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Evaluate(era, nil); err != nil {
				t.Fatal(err)
			}
		}
		x, err := e.Explain(tierP)
		if err != nil || x.Text == "" {
			t.Fatalf("explain %v", err)
		}
		c, err := e.Certificate(tierP)
		if err != nil {
			t.Fatal(err)
		}
		cb, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gpurent.DecodeTierCert(cb); err != nil {
			t.Fatal(err)
		}
		if back, err := gpurent.DecodeAuditReport(reportBytes); err != nil || len(back.Challenges) == 0 {
			t.Fatalf("audit report decode: %v", err)
		}
		if _, err := gpurent.DecodeAuditReport(reportBytes[:len(reportBytes)-1]); !errors.Is(err, gpurent.ErrTruncated) {
			t.Fatalf("truncated audit report: %v", err)
		}
		now := uint64(20002 * day)
		env, err := e.SignCertificate(w.keys[0], tierP, now, now+day)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gpurent.VerifyTierCertificate(w.trust, env, now, 0, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Slashes(); err != nil {
			t.Fatal(err)
		}
		// Refusals carry a detail string each.
		if _, err := e.Explain(gpurent.Key{0x99}); !errors.Is(err, gpurent.ErrUnknownProvider) {
			t.Fatalf("unknown provider: %v", err)
		}
		if _, err := e.Certificate(other); !errors.Is(err, gpurent.ErrQuorumNotMet) {
			t.Fatalf("no quorum: %v", err)
		}
		if err := e.RecordReportBytes(reportBytes[:len(reportBytes)-1]); !errors.Is(err, gpurent.ErrTruncated) {
			t.Fatalf("truncated report: %v", err)
		}
		if _, err := e.Evaluate(20007, nil); !errors.Is(err, gpurent.ErrInvalidArg) {
			t.Fatalf("wrong era: %v", err)
		}
		e.Close()
	}
	// A leaked engine is tens of KiB, an explanation text ~500 bytes.
	heapSteady(t, 50, cycles(t, 1000), 256<<10, cycle)
}

// A market per cycle: offers, trust, requests, best, explain, a batch
// match, the receipt through its codec and its fields, apply, a stale
// apply (refused), stats, end of a lease, Close; and a market and a
// receipt left to their finalizers.
func TestMarketCyclesDoNotGrowTheCHeap(t *testing.T) {
	gang := mReq("gang", 16)
	gang.GangNodes, gang.GangScope = 2, gpurent.GangProvider
	reqs := []gpurent.Request{mReq("a", 8), gang, mReq("nope", 64)}
	cycle := func() {
		m := newTestMarket(t)
		for _, q := range reqs {
			if err := m.AddRequest(q); err != nil {
				t.Fatal(err)
			}
		}
		if c, err := m.Best(reqs[0], 4); err != nil || len(c) == 0 {
			t.Fatalf("best %v %v", c, err)
		}
		if _, err := m.Explain(reqs[2]); err != nil {
			t.Fatal(err)
		}
		r, err := m.Match(t0+600, nil)
		if err != nil {
			t.Fatal(err)
		}
		data, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := gpurent.DecodeReceipt(data)
		if err != nil {
			t.Fatal(err)
		}
		f, err := back.Fields()
		if err != nil || len(f.Assignments) != 2 {
			t.Fatalf("fields %+v %v", f, err)
		}
		rebuilt, err := gpurent.NewReceipt(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rebuilt.Digest(); err != nil {
			t.Fatal(err)
		}
		if err := m.Apply(back); err != nil {
			t.Fatal(err)
		}
		if err := m.Apply(r); !errors.Is(err, gpurent.ErrInvalidArg) {
			t.Fatalf("stale receipt: %v", err)
		}
		if _, err := gpurent.DecodeReceipt(data[:len(data)-1]); !errors.Is(err, gpurent.ErrTruncated) {
			t.Fatalf("truncated receipt: %v", err)
		}
		if _, err := m.Stats(); err != nil {
			t.Fatal(err)
		}
		if err := m.EndLease("a"); err != nil {
			t.Fatal(err)
		}
		for _, x := range []*gpurent.Receipt{r, back, rebuilt} {
			x.Close()
		}
		m.Close()
	}
	// A leaked market (offers, index, requests) is tens of KiB; a leaked
	// receipt array or encoded receipt a few hundred bytes.
	heapSteady(t, 30, cycles(t, 1000), 256<<10, cycle)
}

// Engines, markets and receipts that are never closed are freed by their
// finalizers. (Apart from the cycles above: the finalizers free on their
// own goroutine, on other threads, where glibc's per-thread caches keep up
// to a few hundred KiB of freed chunks counted as in use.)
func TestForgottenTierAndMarketHandlesAreFinalized(t *testing.T) {
	o := gpurent.DefaultTierOptions()
	o.FirstEra = 20000
	o.UnverifiedEvidence = true
	reportBytes, err := tierReport(auditors()[0], 20000, 0).Encode()
	if err != nil {
		t.Fatal(err)
	}
	var big gpurent.ReceiptFields // 64 assignments: ~20 KiB of C arrays
	for i := 0; i < 64; i++ {
		big.Assignments = append(big.Assignments, gpurent.Assignment{RequestID: fmt.Sprintf("r%02d", i), Value: 1,
			Placements: []gpurent.Placement{{ProviderKey: mkey(i), NodeID: "n0", GPUs: 1, PriceMicroPerGPUHour: 1}}})
	}
	cycle := func() {
		if _, err := gpurent.NewReceipt(big); err != nil {
			t.Fatal(err)
		}
		e, err := gpurent.NewTierEngine(&o)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.RecordReportBytes(reportBytes); err != nil {
			t.Fatal(err)
		}
		m := newTestMarket(t)
		if err := m.AddRequest(mReq("a", 8)); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Match(t0, nil); err != nil {
			t.Fatal(err)
		}
	}
	// An engine, a market and a big receipt leaked per cycle would be over
	// 10 MB here (a leaked receipt alone 4 MB).
	heapSteady(t, 20, cycles(t, 200), 1<<20, cycle)
}

// Probes of the fake driver and of a missing one: options with a driver
// path (copied into C, freed with them), reports and their codec, a GPU
// from a device, derived peaks. The probe has no handle; its options and
// report are the C memory here.
func TestProbeCyclesDoNotGrowTheCHeap(t *testing.T) {
	driver := fakeDriver(t)
	opts := &gpurent.ProbeOptions{DriverPath: driver, Now: at0}
	missing := &gpurent.ProbeOptions{DriverPath: "/nonexistent/libcuda.so.1", Now: at0}
	cycle := func() {
		r, err := gpurent.Probe(nonce32(), opts, nil)
		if err != nil || len(r.Devices) == 0 {
			t.Fatalf("probe %d devices, %v", len(r.Devices), err)
		}
		data, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gpurent.DecodeGPUReport(data); err != nil {
			t.Fatal(err)
		}
		if _, err := gpurent.DecodeGPUReport(data[:len(data)-1]); !errors.Is(err, gpurent.ErrTruncated) {
			t.Fatalf("truncated report: %v", err)
		}
		if _, err := r.ToGPU(0); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ToGPU(len(r.Devices)); !errors.Is(err, gpurent.ErrNotFound) {
			t.Fatalf("device out of range: %v", err)
		}
		none, err := gpurent.Probe(nonce32(), missing, nil)
		if err != nil || none.Status == 0 || none.Reason == "" {
			t.Fatalf("no driver: %+v %v", none.Status, err)
		}
		_ = gpurent.DerivePeaks(9, 0, 132, 1980000, 2619000, 5120)
	}
	heapSteady(t, 20, cycles(t, 1500), 256<<10, cycle)
}
