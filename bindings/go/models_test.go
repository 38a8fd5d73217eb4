package gpurent_test

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"gpurent.dev/gpurent"
	"gpurent.dev/gpurent/capi"
)

func TestModelsResolve(t *testing.T) {
	if gpurent.ModelTableVersion() != 1 {
		t.Fatalf("model table version %d", gpurent.ModelTableVersion())
	}
	ms := gpurent.Models()
	if len(ms) < 30 {
		t.Fatalf("%d models", len(ms))
	}
	for _, m := range ms {
		names := append(append([]string{m.ID}, m.Names...), m.Aliases...)
		for _, n := range names {
			got, ok := gpurent.ModelFind(strings.ToUpper(n))
			if !ok || got.ID != m.ID {
				t.Fatalf("%q resolves to %q, want %q", n, got.ID, m.ID)
			}
			if k := gpurent.ModelLookup(n); k != gpurent.NameID && k != gpurent.NameDriver && k != gpurent.NameAlias {
				t.Fatalf("%q: kind %v", n, k)
			}
		}
		found := false
		for _, f := range gpurent.ModelFamily(m.Family) {
			found = found || f.ID == m.ID
			if f.Family != m.Family {
				t.Fatalf("family %q holds %q", m.Family, f.ID)
			}
		}
		if !found {
			t.Fatalf("%q not in its family %q", m.ID, m.Family)
		}
	}
	h, ok := gpurent.ModelFind("NVIDIA H100 80GB HBM3")
	if !ok || h.ID != "h100-sxm5-80gb" || h.MemoryMiB != 81920 || h.PCI[0].Device != 0x2330 || h.Interface != gpurent.IfaceSXM {
		t.Fatalf("H100: %+v", h)
	}
	if gpurent.ModelLookup("h100") != gpurent.NameFamily || gpurent.NameFamily.String() != "family" {
		t.Fatal("h100 is a family")
	}
	if _, ok := gpurent.ModelFind("foo"); ok || gpurent.ModelLookup("foo") != gpurent.NameUnknown {
		t.Fatal("foo is unknown")
	}
	if len(gpurent.ModelFamily("a100")) != 4 || len(gpurent.ModelFamily("foo")) != 0 {
		t.Fatal("families")
	}
	if m, ok := gpurent.ModelFindPCI(0x10de, 0x2684, 0, 0); !ok || m.ID != "rtx4090-24gb" {
		t.Fatal("PCI 10de:2684")
	}
	if _, ok := gpurent.ModelFindPCI(0x1002, 0x740c, 0, 0); ok {
		t.Fatal("MI250/MI250X share 1002:740c: ambiguous")
	}
	if capi.Model_name_at(capi.Model_at(0), 99) != "" || capi.Model_alias_at(capi.Model_at(0), 99) != "" {
		t.Fatal("out of range names")
	}
	if p := capi.Model_pci_at(capi.Model_at(0), 99); p != nil && p.Swigcptr() != 0 {
		t.Fatal("out of range PCI id")
	}
	if m := capi.Model_family_member("h100", 3); m != nil && m.Swigcptr() != 0 {
		t.Fatal("out of range family member")
	}
}

func TestTableDigests(t *testing.T) {
	md, err := gpurent.ModelTableDigest()
	if err != nil || md == (gpurent.Digest{}) {
		t.Fatal(err)
	}
	fd, err := gpurent.FrameworkTableDigest()
	if err != nil || fd == (gpurent.Digest{}) || fd == md {
		t.Fatal(err)
	}
	// The same digests as the C suite pins (tests/test_models.c).
	if hexs(md[:]) != "9a7d4dbfc938e70b90e091376c7653bef426fc3ac531e64905732383f3cc8070" ||
		hexs(fd[:]) != "a8bfaa26dcacd346e9019fd82aa5f03d8c1717115503d47735a1102bb4a867b3" {
		t.Fatalf("digests %x %x", md, fd)
	}
}

func hexs(b []byte) string {
	const d = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(d[c>>4])
		s.WriteByte(d[c&15])
	}
	return s.String()
}

func TestFrameworks(t *testing.T) {
	if gpurent.FrameworkTableVersion() != 1 {
		t.Fatal("framework table version")
	}
	f, ok := gpurent.FrameworkFind("torch 2.5+cu124")
	if !ok || f.ID != "torch-2.5+cu124" || f.CUDAVersion != 12040 || f.PTXCC != 0 || len(f.Archs) == 0 {
		t.Fatalf("%+v", f)
	}
	if !f.SupportsCC(8, 9) || f.SupportsCC(12, 0) {
		t.Fatal("torch 2.5 cu124 runs on 8.9 (sm_86), not on 12.0")
	}
	if tf, _ := gpurent.FrameworkFind("tf 2.17"); !tf.SupportsCC(12, 0) {
		t.Fatal("TensorFlow 2.17's PTX runs on 12.0")
	}
	for _, g := range gpurent.Frameworks() {
		if h, ok := gpurent.FrameworkFind(g.ID); !ok || h.ID != g.ID {
			t.Fatalf("%q", g.ID)
		}
	}
	if _, ok := gpurent.FrameworkFind("torch 0.1"); ok {
		t.Fatal("torch 0.1")
	}
	if capi.Framework_arch_at(capi.Framework_at(0), 99) != 0 || capi.Framework_alias_at(capi.Framework_at(0), 99) != "" {
		t.Fatal("out of range")
	}
}

func TestMarketModelNames(t *testing.T) {
	m, err := gpurent.NewMarket(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	node := func(id, model string, cc, cuda uint32) gpurent.Node {
		return gpurent.Node{NodeID: id, GPU: gpurent.GPU{Model: model, CCMajor: cc / 10, CCMinor: cc % 10, MemoryMiB: 81920,
			FP32GFLOPS: 50000, CUDAVersion: cuda}, GPUCount: 8, GPUFree: 8, CPUMillicores: 32000, RAMMiB: 1 << 20,
			DiskGiB: 1000, PriceMicroPerGPUHour: 1000000}
	}
	o := gpurent.Offer{ProviderKey: mkey(7), Seq: 1, Region: "eu-west", Nodes: []gpurent.Node{
		node("a", "NVIDIA H100 80GB HBM3", 90, 12040), node("b", "H100 PCIe", 90, 12020),
		node("c", "NVIDIA A100-SXM4-80GB", 80, 12040), node("d", "foo", 80, 12040)}}
	if err := m.PutOffer(o); err != nil {
		t.Fatal(err)
	}
	q := mReq("q", 8)
	q.Models = []string{"h100"}
	cs, err := m.Best(q, 8)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Model)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != "h100-pcie-80gb h100-sxm5-80gb" {
		t.Fatalf("family h100 matched %v", got)
	}
	q.Models = []string{"bar", "foo"}
	ex, err := m.Explain(q)
	if err != nil || len(ex.UnknownModels) != 2 || ex.ModelTableVersion != 1 ||
		!strings.Contains(ex.Text, "model 'bar' is not in the model table v1; matched as an exact name") {
		t.Fatalf("%v %+v", err, ex)
	}
	q.Models = []string{"h100 pcie"}
	q.Framework = "torch 2.5+cu124"
	enc, err := q.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if back, err := gpurent.DecodeRequest(enc); err != nil || back.Framework != q.Framework {
		t.Fatalf("round trip: %v %q", err, back.Framework)
	}
	ex, err = m.Explain(q)
	if err != nil || ex.Framework != "torch-2.5+cu124" || ex.FrameworkCUDABest != 12020 || ex.FrameworkAlt != "torch-2.5+cu121" ||
		!strings.Contains(ex.Text, "torch-2.5+cu124 needs CUDA 12.4; node has 12.2; torch-2.5+cu121 would run there") {
		t.Fatalf("%v %+v", err, ex)
	}
	q.Framework = "torch 9.9"
	if err := m.AddRequest(q); !errors.Is(err, gpurent.ErrInvalidArg) || !strings.Contains(err.Error(), "not in the framework table v1") {
		t.Fatalf("unknown framework: %v", err)
	}
}
