package gpurent_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gpurent.dev/gpurent"
)

// GPU identity through the Go binding: PCI ids in GPU records and reports
// (optional keys, left out when 0), read by the probe from a fake sysfs
// tree, and one GPU in one place in the market.

func h100GPU() gpurent.GPU {
	g := gpurent.GPU{Model: "NVIDIA H100 80GB HBM3", PCIBus: 27, CCMajor: 9, SMCount: 132, MemoryMiB: 81559,
		ClockMHz: 1980, MemClockMHz: 2619, BusWidthBits: 5120, L2KiB: 51200, ECCEnabled: true, Interface: 2,
		FP32GFLOPS: 66908, FP16TensorGFLOPS: 989430, MemBwMBps: 3352320, CUDAVersion: 12040}
	u, _ := hex.DecodeString("5c1f8a0e3b7d4e2f9a6b1c0d2e3f4a5b")
	copy(g.UUID[:], u)
	return g
}

func fixtureHex(t *testing.T, name string) []byte {
	t.Helper()
	s, err := os.ReadFile(filepath.Join("..", "..", "tests", "fixtures", "wire", name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(s)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGPUPCIIDsRoundTrip(t *testing.T) {
	g := h100GPU()
	old, err := g.Encode()
	if err != nil {
		t.Fatal(err)
	}
	g.PCIVendorID, g.PCIDeviceID, g.PCISubsystemVendorID, g.PCISubsystemDeviceID = 0x10de, 0x2330, 0x10de, 0x16c1
	b, err := g.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, fixtureHex(t, "gpu_pci_ids")) { // the C encoder's bytes
		t.Fatalf("bytes %x", b)
	}
	if back, err := gpurent.DecodeGPU(b); err != nil || back != g {
		t.Fatalf("decode %+v %v", back, err)
	}
	// the older form: no keys 22-25, decodes with ids 0, re-encodes to itself
	if old[2] != 0x16 || b[2] != 0x1a || !bytes.Equal(b[3:len(old)], old[3:]) {
		t.Fatalf("old %x new %x", old, b)
	}
	back, err := gpurent.DecodeGPU(old)
	if err != nil || back.PCIVendorID != 0 {
		t.Fatalf("old decode %+v %v", back, err)
	}
	if again, _ := back.Encode(); !bytes.Equal(again, old) {
		t.Fatal("old bytes re-encode differently")
	}
	// an optional key written with 0 is not canonical; ids without a vendor are invalid
	zero := append([]byte{0xde, 0x00, 0x17}, old[3:]...)
	zero = append(zero, 0x16, 0x00)
	if _, err := gpurent.DecodeGPU(zero); !errors.Is(err, gpurent.ErrNonCanonical) {
		t.Fatalf("zero key: %v", err)
	}
	g.PCIVendorID = 0
	if _, err := g.Encode(); !errors.Is(err, gpurent.ErrInvalidField) {
		t.Fatalf("no vendor: %v", err)
	}
}

func TestGPUReportPCIIDsFixture(t *testing.T) {
	data := fixtureHex(t, "gpu_report_pci_ids")
	r, err := gpurent.DecodeGPUReport(data)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Devices[0]
	if d.PCIVendorID != 0x10de || d.PCIDeviceID != 0x2684 || d.PCISubsystemVendorID != 0x1043 || d.PCISubsystemDeviceID != 0 {
		t.Fatalf("device %+v", d)
	}
	if again, _ := r.Encode(); !bytes.Equal(again, data) {
		t.Fatal("report re-encodes differently")
	}
	if g, err := r.ToGPU(0); err != nil || g.PCIDeviceID != 0x2684 {
		t.Fatalf("to gpu %+v %v", g, err)
	}
}

func TestProbeReadsPCIIDs(t *testing.T) {
	drv := fakeDriver(t)
	root := t.TempDir()
	dir := filepath.Join(root, "bus", "pci", "devices", "0000:1b:00.0")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]int{"vendor": 0x10de, "device": 0x2330, "subsystem_vendor": 0x10de,
		"subsystem_device": 0x16c1} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("0x%04x\n", v)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("FAKECUDA_MACHINE", "h100")
	r, err := gpurent.Probe(nonce32(), &gpurent.ProbeOptions{DriverPath: drv, Now: at0, SysfsRoot: root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Devices[0]
	if d.PCIVendorID != 0x10de || d.PCIDeviceID != 0x2330 || d.PCISubsystemVendorID != 0x10de || d.PCISubsystemDeviceID != 0x16c1 {
		t.Fatalf("device ids %+v", d)
	}
	r, err = gpurent.Probe(nonce32(), &gpurent.ProbeOptions{DriverPath: drv, Now: at0,
		SysfsRoot: filepath.Join(root, "none")}, nil)
	if err != nil || r.Status != 0 || r.Devices[0].PCIVendorID != 0 {
		t.Fatalf("no tree: %+v %v", r.Devices, err)
	}
}

func gpuidOffer(p byte, seq uint64, nodes ...gpurent.Node) gpurent.Offer {
	var k gpurent.Key
	for i := range k {
		k[i] = p
	}
	return gpurent.Offer{ProviderKey: k, Seq: seq, Region: "eu-west", Nodes: nodes}
}

func gpuidNode(id string, u byte, report gpurent.Digest) gpurent.Node {
	g := h100GPU()
	for i := range g.UUID {
		g.UUID[i] = u
	}
	return gpurent.Node{NodeID: id, GPU: g, GPUCount: 8, GPUFree: 8, PriceMicroPerGPUHour: 2000000, ReportDigest: report}
}

func uuidOf(b byte) (u [16]byte) {
	for i := range u {
		u[i] = b
	}
	return
}

func TestMarketOneGPUOnePlace(t *testing.T) {
	m, err := gpurent.NewMarket(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.PutOffer(gpuidOffer(0xaa, 1, gpuidNode("a1", 0x11, gpurent.Digest{}))); err != nil {
		t.Fatal(err)
	}
	err = m.PutOffer(gpuidOffer(0xbb, 1, gpuidNode("b1", 0x11, gpurent.Digest{})))
	if !errors.Is(err, gpurent.ErrGPUConflict) || !strings.Contains(err.Error(), "node 'a1'") {
		t.Fatalf("conflict: %v", err)
	}
	o, found, err := m.GPUOwner(uuidOf(0x11))
	if err != nil || !found || o.NodeID != "a1" || o.ProviderKey[0] != 0xaa || o.How != gpurent.GPUHeldOffer {
		t.Fatalf("owner %+v %v %v", o, found, err)
	}
	if _, found, err := m.GPUOwner(uuidOf(0x22)); found || err != nil {
		t.Fatalf("nobody: %v %v", found, err)
	}
	if _, _, err := m.GPUOwner([16]byte{}); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("zero uuid: %v", err)
	}
	// a verified report binds every GPU it lists
	r := gpurent.GPUReport{Status: 0, ProbedAt: at0, DriverVersion: gpurent.PV{Value: 12040},
		DriverPath: "/usr/lib/libcuda.so.1", DriverDeviceCount: 2}
	for i := 0; i < 2; i++ {
		d := gpurent.ProbeDevice{Ordinal: uint32(i), Name: gpurent.PVText{Value: "NVIDIA H100 80GB HBM3"},
			UUID: gpurent.PVUUID{Value: uuidOf(byte(0x31 + i))}, PCIBus: gpurent.PV{Value: uint64(0x10 + i)},
			CCMajor: gpurent.PV{Value: 9}}
		d.D2D.State, d.H2D.State, d.FMA.State = gpurent.PVSkipped, gpurent.PVSkipped, gpurent.PVSkipped
		r.Devices = append(r.Devices, d)
	}
	enc, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// BLAKE2b-256 of these bytes, computed by Python's hashlib from the same
	// report built with the Python binding: the two bindings encode it alike.
	var digest gpurent.Digest
	want, _ := hex.DecodeString("b58236a54fd0411a7b5d8c69b31af319b65b9e20f20382bead847aeccb015618")
	copy(digest[:], want)
	if len(enc) == 0 {
		t.Fatal("empty report")
	}
	n := gpuidNode("c1", 0x31, digest)
	n.GPUCount, n.GPUFree = 2, 2 // what the report identifies
	if err := m.PutOffer(gpuidOffer(0xcc, 1, n)); err != nil {
		t.Fatal(err)
	}
	if err := m.VerifyReport(gpuidOffer(0xcc, 0).ProviderKey, "c1", r); err != nil {
		t.Fatal(err)
	}
	if o, found, _ := m.GPUOwner(uuidOf(0x32)); !found || o.NodeID != "c1" || o.How != gpurent.GPUHeldReport {
		t.Fatalf("report owner %+v", o)
	}
	if err := m.PutOffer(gpuidOffer(0xdd, 1, gpuidNode("d1", 0x32, gpurent.Digest{}))); !errors.Is(err, gpurent.ErrGPUConflict) {
		t.Fatalf("report conflict: %v", err)
	}
}
