package gpurent_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"gpurent.dev/gpurent"
	"gpurent.dev/gpurent/capi"
)

const t0 = 1760000000

var mH100 = gpurent.GPU{Model: "H100", CCMajor: 9, MemoryMiB: 81559, Interface: gpurent.IfaceSXM, FP32GFLOPS: 66900,
	CUDAVersion: 12040}

func mkey(p int) gpurent.Key {
	var k gpurent.Key
	for i := range k {
		k[i] = byte(p + 1)
	}
	return k
}

func mOffer(p, nodes int, seq uint64) gpurent.Offer {
	o := gpurent.Offer{ProviderKey: mkey(p), Seq: seq, Region: "eu-west", StakeMicro: uint64(p+1) * 1000000000}
	for i := 0; i < nodes; i++ {
		o.Nodes = append(o.Nodes, gpurent.Node{NodeID: fmt.Sprintf("n%d", i), GPU: mH100, GPUCount: 8, GPUFree: 8,
			CPUMillicores: 64000, RAMMiB: 512000, DiskGiB: 1000, PriceMicroPerGPUHour: 2000000 + uint64(1000*p+i)})
	}
	return o
}

func mReq(id string, gpus uint32) gpurent.Request {
	q := gpurent.NewRequest()
	q.RequestID, q.GPUCount, q.SubmittedAt = id, gpus, t0
	return q
}

func newTestMarket(t *testing.T) *gpurent.Market {
	o := gpurent.DefaultMatchOptions()
	var seed gpurent.Digest
	for i := range seed {
		seed[i] = byte(i)
	}
	m, err := gpurent.NewMarket(&o, &seed)
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p < 3; p++ {
		if err := m.PutOffer(mOffer(p, 2, 1)); err != nil {
			t.Fatal(err)
		}
		if err := m.SetTrust(mkey(p), uint32(p+1), uint32(900000-100000*p)); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func wantDetail(t *testing.T, err error, sentinel error, detail string) {
	t.Helper()
	var ge *gpurent.Error
	if !errors.Is(err, sentinel) || !errors.As(err, &ge) || !strings.Contains(ge.Detail, detail) {
		t.Fatalf("want %v with %q, got %v", sentinel, detail, err)
	}
}

func TestMatchOptions(t *testing.T) {
	o := gpurent.DefaultMatchOptions()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	cheap, err := gpurent.MatchOptionsPreset(gpurent.PresetCheapest)
	if err != nil || cheap.WPrice <= o.WPrice {
		t.Fatalf("cheapest %+v %v", cheap, err)
	}
	d1, _ := o.Digest()
	d2, _ := cheap.Digest()
	o2 := o
	o2.PriceRefMicro = 1000000 // the default, spelled out
	d3, _ := o2.Digest()
	if d1 == d2 || d1 != d3 {
		t.Fatal("digests")
	}
	bad := o
	bad.WPrice = 1001
	wantDetail(t, bad.Validate(), gpurent.ErrInvalidArg, "w_price")
	if _, err := gpurent.MatchOptionsPreset(99); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("preset 99: %v", err)
	}
	if _, err := (gpurent.MatchOptions{}).Digest(); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("all-zero weights: %v", err)
	}
	if gpurent.MCVRAM.String() != "vram" || gpurent.Constraint(99).String() != "unknown" {
		t.Fatal("constraint names")
	}
}

func TestMarketBestStatsDigests(t *testing.T) {
	m := newTestMarket(t)
	defer m.Close()
	st, err := m.Stats()
	if err != nil || st.Providers != 3 || st.Nodes != 6 || st.GPUsTotal != 48 || st.GPUsFree != 48 || st.NodeBytes == 0 {
		t.Fatalf("stats %+v %v", st, err)
	}
	c, err := m.Best(mReq("q", 8), 3)
	if err != nil || len(c) != 3 {
		t.Fatalf("best %v %v", c, err)
	}
	b := c[0].Breakdown
	if b.Total != b.Price+b.PerfPrice+b.Tier+b.Score+b.Stake+b.Locality+b.Fit || c[0].Breakdown.Total < c[1].Breakdown.Total {
		t.Fatalf("breakdown %+v", b)
	}
	if c, err := m.Best(mReq("big", 9), 1); err != nil || len(c) != 0 {
		t.Fatalf("infeasible: %v %v", c, err)
	}
	if _, err := m.Best(mReq("q", 8), 0); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("k=0: %v", err)
	}
	if _, err := m.Best(mReq("q", 8), 65); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("k=65: %v", err)
	}
	d, err := m.Digests()
	pol, _ := gpurent.DefaultMatchOptions().Digest()
	if err != nil || d.Policy != pol {
		t.Fatalf("digests %v", err)
	}
	if err := m.SetSeed(gpurent.Digest{}); err != nil {
		t.Fatal(err)
	}
	trusted, _ := gpurent.MatchOptionsPreset(gpurent.PresetTrusted)
	if err := m.SetOptions(trusted); err != nil {
		t.Fatal(err)
	}
	if c, _ := m.Best(mReq("q", 8), 1); c[0].ProviderKey != mkey(0) {
		t.Fatal("trusted preset: tier 1 provider should come first")
	}
}

func TestMarketBatchReceipt(t *testing.T) {
	m := newTestMarket(t)
	defer m.Close()
	gang := mReq("gang", 16)
	gang.GangNodes, gang.GangScope = 2, gpurent.GangProvider
	for _, q := range []gpurent.Request{mReq("a", 8), gang, mReq("nope", 64)} {
		if err := m.AddRequest(q); err != nil {
			t.Fatal(err)
		}
	}
	r, err := m.Match(t0+600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := r.Fields()
	if err != nil || r.Len() != 2 || f.RequestCount != 3 || f.Assignments[0].RequestID != "a" ||
		len(f.Assignments[1].Placements) != 2 || f.MatchedAt != t0+600 ||
		f.Assignments[0].Value+f.Assignments[1].Value != f.TotalValue {
		t.Fatalf("receipt %+v %v", f, err)
	}
	data, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := gpurent.DecodeReceipt(data)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	d1, _ := r.Digest()
	d2, _ := back.Digest()
	if d1 != d2 {
		t.Fatal("digests differ after a round trip")
	}
	rebuilt, err := gpurent.NewReceipt(f)
	if err != nil {
		t.Fatal(err)
	}
	defer rebuilt.Close()
	if b, _ := rebuilt.Encode(); !bytes.Equal(b, data) || rebuilt.Validate() != nil {
		t.Fatal("a receipt rebuilt from its fields differs")
	}
	if err := m.Apply(back); err != nil {
		t.Fatal(err)
	}
	st, _ := m.Stats()
	if st.Leases != 2 || st.Requests != 1 || st.GPUsFree != 48-24 {
		t.Fatalf("after apply %+v", st)
	}
	if err := m.Apply(r); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("stale receipt: %v", err)
	}
	if err := m.EndLease("a"); err != nil {
		t.Fatal(err)
	}
	wantDetail(t, m.EndLease("a"), gpurent.ErrNotFound, "no lease")
	if err := m.RemoveRequest("nope"); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveRequest("nope"); !errors.Is(err, gpurent.ErrUnknownRequest) {
		t.Fatalf("remove twice: %v", err)
	}
	r.Clear()
	if r.Len() != 0 {
		t.Fatal("Clear")
	}
}

func TestReceiptBadInput(t *testing.T) {
	pl := []gpurent.Placement{{ProviderKey: mkey(0), NodeID: "n0", GPUs: 1, PriceMicroPerGPUHour: 1}}
	r, _ := gpurent.NewReceipt(gpurent.ReceiptFields{TotalValue: 5, RequestCount: 2, Assignments: []gpurent.Assignment{
		{RequestID: "b", Value: 2, Placements: pl}, {RequestID: "a", Value: 3, Placements: pl}}})
	defer r.Close()
	wantDetail(t, r.Validate(), gpurent.ErrInvalidField, "request_id")
	r2, _ := gpurent.NewReceipt(gpurent.ReceiptFields{TotalValue: 1, RequestCount: 1,
		Assignments: []gpurent.Assignment{{RequestID: "a", Value: 2, Placements: pl}}})
	defer r2.Close()
	_, err := r2.Encode()
	wantDetail(t, err, gpurent.ErrInvalidField, "total_value")
	empty, _ := gpurent.NewReceipt(gpurent.ReceiptFields{})
	data, _ := empty.Encode()
	empty.Close()
	if _, err := gpurent.DecodeReceipt(data[:len(data)-1]); !errors.Is(err, gpurent.ErrTruncated) {
		t.Fatalf("truncated: %v", err)
	}
	g, _ := mH100.Encode()
	if _, err := gpurent.DecodeReceipt(g); !errors.Is(err, gpurent.ErrWrongRecord) {
		t.Fatalf("wrong record: %v", err)
	}
	if _, err := empty.Encode(); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("closed receipt: %v", err)
	}
}

func TestMarketBadInput(t *testing.T) {
	m := newTestMarket(t)
	defer m.Close()
	if err := m.PutOffer(mOffer(0, 2, 1)); !errors.Is(err, gpurent.ErrExists) {
		t.Fatalf("same seq: %v", err)
	}
	if err := m.PutOffer(mOffer(0, 1, 2)); err != nil {
		t.Fatal(err)
	}
	bad := mOffer(3, 1, 1)
	bad.Region = ""
	if err := m.PutOffer(bad); !errors.Is(err, gpurent.ErrInvalidField) {
		t.Fatalf("no region: %v", err)
	}
	if err := m.RemoveOffer(mkey(3)); !errors.Is(err, gpurent.ErrUnknownOffer) {
		t.Fatalf("unknown offer: %v", err)
	}
	if err := m.RemoveOffer(mkey(2)); err != nil {
		t.Fatal(err)
	}
	if err := m.SetTrust(mkey(0), 8, 0); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("tier 8: %v", err)
	}
	if err := m.SetVerified(mkey(0), "no-such-node", true); !errors.Is(err, gpurent.ErrNotFound) {
		t.Fatalf("unknown node: %v", err)
	}
	if err := m.SetVerified(mkey(0), "n0", true); err != nil {
		t.Fatal(err)
	}
	q := mReq("v", 8)
	q.VerifiedOnly = true
	if c, err := m.Best(q, 5); err != nil || len(c) != 1 || c[0].NodeID != "n0" {
		t.Fatalf("verified only: %v %v", c, err)
	}
	if err := m.AddRequest(mReq("dup", 1)); err != nil {
		t.Fatal(err)
	}
	if err := m.AddRequest(mReq("dup", 1)); !errors.Is(err, gpurent.ErrExists) {
		t.Fatalf("dup: %v", err)
	}
	if err := m.AddRequest(mReq("", 1)); !errors.Is(err, gpurent.ErrInvalidField) {
		t.Fatalf("no id: %v", err)
	}
	o := gpurent.DefaultMatchOptions()
	o.WFit = 5000
	if err := m.SetOptions(o); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("set options: %v", err)
	}
	o = gpurent.DefaultMatchOptions()
	o.Threads = 100000
	if _, err := gpurent.NewMarket(&o, nil); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("threads: %v", err)
	}
	tok, _ := gpurent.NewCancel()
	defer tok.Close()
	tok.Request()
	if _, err := m.Match(t0, tok); !errors.Is(err, gpurent.ErrCancelled) {
		t.Fatalf("cancel: %v", err)
	}
	closed, _ := gpurent.NewMarket(nil, nil)
	closed.Close()
	closed.Close()
	if _, err := closed.Stats(); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("closed market: %v", err)
	}
}

func TestMarketExplain(t *testing.T) {
	m := newTestMarket(t)
	defer m.Close()
	q := mReq("cheap", 8)
	q.MaxPriceMicroPerGPUHour = 1000000
	ex, err := m.Explain(q)
	if err != nil || ex.Matched || ex.NodesTotal != 6 || ex.Eliminated[gpurent.MCPrice] != 6 || len(ex.Misses) == 0 {
		t.Fatalf("miss %+v %v", ex, err)
	}
	rl := ex.Relaxations[0]
	if rl.Constraint != gpurent.MCPrice || rl.From != 1000000 || rl.To < 2000000 || rl.NodesAdded < 1 ||
		ex.Misses[0].FailedMask != 1<<gpurent.MCPrice || !strings.Contains(ex.Text, "cheap") {
		t.Fatalf("relaxation %+v", ex)
	}
	hit, err := m.Explain(mReq("ok", 8))
	if err != nil || !hit.Matched || len(hit.Candidates) != 2 {
		t.Fatalf("hit %+v %v", hit, err)
	}
	if _, err := m.Explain(mReq("bad", 0)); !errors.Is(err, gpurent.ErrInvalidField) {
		t.Fatalf("bad request: %v", err)
	}
}

func TestMatchRawCapiReceipt(t *testing.T) {
	c := capi.NewMatch_receipt()
	defer capi.DeleteMatch_receipt(c)
	capi.Match_receipt_init(c)
	if capi.Match_receipt_assignment(c, 0).Swigcptr() != 0 || capi.Match_receipt_placement(c, 0).Swigcptr() != 0 {
		t.Fatal("out of range items should be NULL")
	}
	capi.Match_receipt_clear(c)
}
