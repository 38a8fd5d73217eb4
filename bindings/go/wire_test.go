package gpurent_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"gpurent.dev/gpurent"
	"gpurent.dev/gpurent/capi"
)

func h100() gpurent.GPU {
	return gpurent.GPU{Model: "H100 SXM5 80GB", CCMajor: 9, SMCount: 132, MemoryMiB: 81559,
		Interface: gpurent.IfaceSXM, FP32GFLOPS: 66908, CUDAVersion: 12040}
}

func keyOf(b byte) (k gpurent.Key) {
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

func offer() gpurent.Offer {
	return gpurent.Offer{ProviderKey: keyOf(0), Seq: 7, Region: "eu-west", MinDurationS: 60,
		Nodes: []gpurent.Node{
			{NodeID: "n1", GPU: h100(), GPUCount: 8, GPUFree: 4},
			{NodeID: "n2", GPU: h100(), GPUCount: 4, GPUFree: 4, ReportDigest: gpurent.Digest(keyOf(1))},
		}}
}

func wantErr(t *testing.T, err error, sentinel error, detail string) {
	t.Helper()
	var ge *gpurent.Error
	if !errors.Is(err, sentinel) || !errors.As(err, &ge) || !strings.Contains(ge.Detail, detail) {
		t.Fatalf("got %v, want %v with detail containing %q", err, sentinel, detail)
	}
}

func TestGPURoundTrip(t *testing.T) {
	g := h100()
	b, err := g.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0xde {
		t.Fatalf("first byte %#x", b[0])
	}
	back, err := gpurent.DecodeGPU(b)
	if err != nil || back != g {
		t.Fatalf("decode: %v\n%+v\n%+v", err, back, g)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestGPUValidationNamesTheField(t *testing.T) {
	g := h100()
	g.PCIBus = 256
	_, err := g.Encode()
	wantErr(t, err, gpurent.ErrInvalidField, "gpu.pci_bus: 256 above the limit 255")
	wantErr(t, (&gpurent.GPU{}).Validate(), gpurent.ErrInvalidField, "gpu.model: must not be empty")
	wantErr(t, (&gpurent.GPU{Model: strings.Repeat("x", 64)}).Validate(), gpurent.ErrInvalidField, "gpu.model: not NUL-terminated")
	wantErr(t, (&gpurent.GPU{Model: "a\x00b"}).Validate(), gpurent.ErrInvalidField, "gpu.model")
}

func TestOfferRoundTrip(t *testing.T) {
	o := offer()
	b, err := o.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := gpurent.DecodeOffer(b)
	if err != nil || !reflect.DeepEqual(back, o) {
		t.Fatalf("decode: %v\n%+v", err, back)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestOfferErrors(t *testing.T) {
	o := offer()
	o.Nodes[1].NodeID = "n1"
	_, err := o.Encode()
	wantErr(t, err, gpurent.ErrInvalidField, "offer.nodes[1].node_id: 'n1' repeats")
	_, err = (&gpurent.Offer{Region: "x"}).Encode()
	wantErr(t, err, gpurent.ErrInvalidField, "offer.nodes: 0 nodes")
	g, _ := h100().Encode()
	_, err = gpurent.DecodeOffer(g)
	wantErr(t, err, gpurent.ErrWrongRecord, "record type 1, expected 2")
	big := gpurent.Offer{ProviderKey: keyOf(0), Region: "x"}
	for i := 0; i <= gpurent.OfferMaxNodes; i++ {
		big.Nodes = append(big.Nodes, gpurent.Node{NodeID: "n", GPU: h100(), GPUCount: 1})
	}
	wantErr(t, big.Validate(), gpurent.ErrLimit, "offer.nodes: already 1024 nodes")
}

func TestOfferLowLevel(t *testing.T) {
	c := capi.NewOffer()
	defer capi.DeleteOffer(c)
	capi.Offer_init(c)
	n := capi.NewNode()
	defer capi.DeleteNode(n)
	n.SetNode_id("x")
	n.GetGpu().SetModel("T4")
	n.SetGpu_count(1)
	if err := capi.Offer_add_node(c, n); err != nil {
		t.Fatal(err)
	}
	if c.GetNode_count() != 1 || capi.Offer_node(c, 0).GetNode_id() != "x" {
		t.Fatal("node not added")
	}
	if capi.Offer_node(c, 1).Swigcptr() != 0 {
		t.Fatal("out of range node is not NULL")
	}
	capi.Offer_clear(c)
	if c.GetNode_count() != 0 {
		t.Fatal("clear")
	}
}

func TestRequestRoundTripSortsSets(t *testing.T) {
	q := gpurent.NewRequest()
	if q.GPUCount != 1 || q.GangNodes != 1 || q.DurationS != 3600 {
		t.Fatalf("defaults %+v", q)
	}
	q.RequestID, q.GPUCount, q.GangNodes, q.GangScope = "r1", 8, 2, gpurent.GangRegion
	q.Models = []string{"b-model", "a-model"}
	q.Regions = []string{"us-east", "eu-west"}
	q.ExcludedRegions = []string{"ap-south"}
	q.Providers = []gpurent.Key{keyOf(9), keyOf(1)}
	q.ExcludedProviders = []gpurent.Key{keyOf(5)}
	b, err := q.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := gpurent.DecodeRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	want := q
	want.Models = []string{"a-model", "b-model"}
	want.Regions = []string{"eu-west", "us-east"}
	want.Providers = []gpurent.Key{keyOf(1), keyOf(9)}
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("decode\n%+v\nwant\n%+v", back, want)
	}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestRequestListHelpersAndLimits(t *testing.T) {
	c := capi.NewRequest()
	defer capi.DeleteRequest(c)
	capi.Request_init(c)
	for i := 0; i < gpurent.RequestMaxList; i++ {
		k := keyOf(byte(i))
		if err := capi.Request_add_model(c, "m"+string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
		if err := capi.Request_allow_region(c, "r"+string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
		if err := capi.Request_exclude_provider(c, k[:]); err != nil {
			t.Fatal(err)
		}
	}
	key := make([]byte, 32)
	c.Excluded_provider_at(3, key)
	if c.Model_at(3) != "m3" || c.Region_at(3) != "r3" || !bytes.Equal(key, func() []byte { k := keyOf(3); return k[:] }()) {
		t.Fatal("list accessors")
	}
	wantErr(t, capi.Request_add_model(c, "one-too-many"), gpurent.ErrLimit, "request.models: already 8 items")
	wantErr(t, capi.Request_allow_region(c, "one-too-many"), gpurent.ErrLimit, "request.regions")
	wantErr(t, capi.Request_exclude_region(capi.NewRequest(), strings.Repeat("r", 40)), gpurent.ErrInvalidArg, "longer than 31 bytes")
	q := gpurent.NewRequest()
	q.RequestID = "r"
	for i := 0; i < 9; i++ {
		q.Models = append(q.Models, "m"+string(rune('a'+i)))
	}
	_, err := q.Encode()
	wantErr(t, err, gpurent.ErrLimit, "request.models")
	defer func() {
		if recover() == nil {
			t.Fatal("a 31-byte key must panic in capi")
		}
	}()
	_ = capi.Request_allow_provider(c, make([]byte, 31))
}

func TestRequestCrossFieldRules(t *testing.T) {
	q := gpurent.NewRequest()
	q.RequestID, q.GPUCount, q.GangNodes, q.GangScope = "r", 8, 3, gpurent.GangProvider
	wantErr(t, q.Validate(), gpurent.ErrInvalidField, "gang_nodes: 3 does not divide gpu_count 8")
	q = gpurent.NewRequest()
	q.RequestID, q.Models = "r", []string{"a", "a"}
	_, err := q.Encode()
	wantErr(t, err, gpurent.ErrInvalidField, "repeats")
	ob, _ := (func() gpurent.Offer { return offer() })().Encode()
	_, err = gpurent.DecodeRequest(ob)
	wantErr(t, err, gpurent.ErrWrongRecord, "expected 3")
}

func TestCheckCanonicalRefuses(t *testing.T) {
	cases := []struct {
		data     []byte
		sentinel error
	}{
		{[]byte{}, gpurent.ErrTruncated},
		{[]byte{0xc1}, gpurent.ErrMalformed},
		{[]byte{0x81, 0x00, 0x01, 0x00}, gpurent.ErrNonCanonical},
		{[]byte{0xcc, 0x05}, gpurent.ErrNonCanonical},
		{[]byte{0x82, 0x01, 0x00, 0x00, 0x00}, gpurent.ErrNonCanonical},
		{[]byte{0xca, 0, 0, 0, 0}, gpurent.ErrNonCanonical},
		{[]byte{0xdd, 0xff, 0xff, 0xff, 0xff}, gpurent.ErrTruncated},
		{append(bytes.Repeat([]byte{0x91}, 40), 0), gpurent.ErrOversize},
	}
	for _, c := range cases {
		err := gpurent.CheckCanonical(c.data)
		var ge *gpurent.Error
		if !errors.Is(err, c.sentinel) || !errors.As(err, &ge) || ge.Detail == "" {
			t.Errorf("% x: got %v, want %v", c.data, err, c.sentinel)
		}
	}
}

func TestCheckCanonicalAndRecordType(t *testing.T) {
	o := offer()
	b, _ := o.Encode()
	if err := gpurent.CheckCanonical(b); err != nil {
		t.Fatal(err)
	}
	rt, err := gpurent.RecordTypeOf(b)
	if err != nil || rt != gpurent.RecordOffer || rt.String() != "offer" {
		t.Fatalf("RecordTypeOf %v %v", rt, err)
	}
	if gpurent.RecordMatchReceipt.String() != "match_receipt" || gpurent.RecordType(999).String() != "unknown" {
		t.Fatal("record type names")
	}
	_, err = gpurent.RecordTypeOf([]byte{0x80})
	wantErr(t, err, gpurent.ErrInvalidField, "empty map")
	if _, err := gpurent.RecordTypeOf(nil); !errors.Is(err, gpurent.ErrTruncated) {
		t.Fatalf("nil input: %v", err)
	}
}

func TestDecodeRefusesTruncations(t *testing.T) {
	o := offer()
	b, _ := o.Encode()
	for i := 0; i < len(b); i++ {
		if _, err := gpurent.DecodeOffer(b[:i]); err == nil {
			t.Fatalf("prefix of %d bytes accepted", i)
		}
	}
}

// Flags are Go bools: true crosses to C as 1 (the bytes C encodes for a
// GPU with ecc_enabled = 1) and comes back as true; false as 0.
func TestFlagFieldsAreBools(t *testing.T) {
	g := h100()
	g.ECCEnabled = true
	b, err := g.Encode()
	if err != nil {
		t.Fatal(err)
	}
	c := capi.NewGpu()
	defer capi.DeleteGpu(c)
	c.SetModel(g.Model)
	c.SetCc_major(9)
	c.SetSm_count(132)
	c.SetMemory_mib(81559)
	c.SetIface(uint(gpurent.IfaceSXM))
	c.SetFp32_gflops(66908)
	c.SetCuda_version(12040)
	c.SetEcc_enabled(1)
	var want []byte
	if err := capi.Gpu_encode(c, &want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("Go %x\nC  %x", b, want)
	}
	back, err := gpurent.DecodeGPU(b)
	if err != nil || !back.ECCEnabled {
		t.Fatalf("decode: %v ECCEnabled %v", err, back.ECCEnabled)
	}
	g.ECCEnabled = false
	if b0, _ := g.Encode(); bytes.Equal(b0, b) {
		t.Fatal("ECCEnabled false encodes as true")
	}

	o := offer()
	o.Nodes[0].Shared = true
	ob, err := o.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if o2, err := gpurent.DecodeOffer(ob); err != nil || !o2.Nodes[0].Shared || o2.Nodes[1].Shared {
		t.Fatalf("decode offer: %v", err)
	}

	q := gpurent.NewRequest()
	q.RequestID = "r1"
	q.VerifiedOnly = true
	qb, err := q.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if q2, err := gpurent.DecodeRequest(qb); err != nil || !q2.VerifiedOnly {
		t.Fatalf("decode request: %v", err)
	}
}
