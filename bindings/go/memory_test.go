package gpurent_test

import (
	"fmt"
	"runtime"
	"testing"

	"gpurent.dev/gpurent"
	"gpurent.dev/gpurent/internal/cmem"
)

func cycle(t *testing.T, o gpurent.Offer, q gpurent.Request, bad []byte) {
	ob, err := o.Encode()
	if err != nil {
		t.Fatal(err)
	}
	qb, err := q.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gpurent.DecodeOffer(ob); err != nil {
		t.Fatal(err)
	}
	if _, err := gpurent.DecodeRequest(qb); err != nil {
		t.Fatal(err)
	}
	if _, err := gpurent.DecodeOffer(bad); err == nil { // the error path allocates too
		t.Fatal("bad bytes accepted")
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	return cmem.InUse()
}

// Many encode/decode cycles (and failures) leave the C heap where it was:
// every library buffer and every error string is freed.
func TestCyclesDoNotGrowTheCHeap(t *testing.T) {
	g := h100()
	o := gpurent.Offer{ProviderKey: keyOf(3), Region: "eu"}
	for i := 0; i < 16; i++ {
		o.Nodes = append(o.Nodes, gpurent.Node{NodeID: fmt.Sprintf("n%d", i), GPU: g, GPUCount: 8})
	}
	q := gpurent.NewRequest()
	q.RequestID, q.Models, q.Providers = "r", []string{"a", "b"}, []gpurent.Key{keyOf(1)}
	full, _ := o.Encode()
	bad := full[:len(full)-3]
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < 300; i++ {
		cycle(t, o, q, bad)
	}
	before := heapAfterGC()
	for i := 0; i < n; i++ {
		cycle(t, o, q, bad)
	}
	grown := int64(heapAfterGC()) - int64(before)
	// One leaked offer buffer per cycle would be ~2 MB here.
	if grown > 256<<10 {
		t.Fatalf("C heap grew by %d bytes over %d cycles", grown, n)
	}
}

// Cancel tokens that are never closed are freed by their finalizer.
func TestForgottenHandlesAreFinalized(t *testing.T) {
	before := heapAfterGC()
	for i := 0; i < 20000; i++ {
		if _, err := gpurent.NewCancel(); err != nil {
			t.Fatal(err)
		}
	}
	var grown int64
	for try := 0; try < 10; try++ { // finalizers run on their own goroutine
		grown = int64(heapAfterGC()) - int64(before)
		if grown < 64<<10 {
			return
		}
	}
	t.Fatalf("20000 forgotten tokens left %d bytes of C heap", grown)
}
