// A provider node from Go: probe the GPUs (the fake CUDA driver when this
// machine has none), sign the GPU report and an offer built from it, and let
// a verifier check both against its trust store.
//
// Run from examples/go after `make go tests`, with pkg-config finding
// libgpurent (installed, or PKG_CONFIG_PATH=../../build/bindings/pkgconfig):
//
//	go run ./provider_node
//
// $GPURENT_FAKE_CUDA names the fake driver (default ../../build/tests/libfakecuda.so).
package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"gpurent.dev/gpurent"
)

const nodeID = "node-1"

// probeThisMachine probes in a helper process: a driver that crashes or
// hangs costs the child, and the report says so (docs/probe.md).
func probeThisMachine(challenge [32]byte) gpurent.GPUReport {
	r, err := gpurent.ProbeIsolated(challenge, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	if r.Status == 0 && len(r.Devices) > 0 {
		return r
	}
	fake := os.Getenv("GPURENT_FAKE_CUDA")
	if fake == "" {
		fake, _ = filepath.Abs("../../build/tests/libfakecuda.so")
	}
	fmt.Printf("no usable GPU here (%s: %s); probing the fake driver %s\n", gpurent.StatusName(int(r.Status)), r.Reason, fake)
	r, err = gpurent.ProbeIsolated(challenge, &gpurent.ProbeOptions{DriverPath: fake, Checks: gpurent.CheckAll, CheckMaxBytes: 4 << 20}, nil)
	if err != nil {
		log.Fatal(err)
	}
	return r
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func main() {
	must(gpurent.Init())
	now := uint64(time.Now().Unix())

	// The provider's key lives in a passphrase-sealed file; Go never sees the secret.
	dir, err := os.MkdirTemp("", "provider-node")
	must(err)
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "provider.key")
	k, err := gpurent.GenerateKey()
	must(err)
	must(k.Save(path, "provider passphrase", &gpurent.KeyfileOptions{OpsLimit: 1, MemLimit: 8 << 20}))
	k.Close()
	provider, err := gpurent.LoadKey(path, "provider passphrase", nil)
	must(err)
	defer provider.Close()
	pk, err := provider.PublicKey()
	must(err)
	fmt.Println("provider key", hex.EncodeToString(pk[:]))

	// A verifier's challenge binds the report to this moment.
	var challenge [32]byte
	_, err = rand.Read(challenge[:])
	must(err)
	report := probeThisMachine(challenge)
	for _, d := range report.Devices {
		fmt.Printf("  GPU %d: %s, cc %d.%d, %d SMs, %d MiB, FP32 %d GFLOPS, FMA check %d GFLOPS (%s)\n", d.Ordinal,
			d.Name.Value, d.CCMajor.Value, d.CCMinor.Value, d.SMCount.Value, d.MemoryBytes.Value>>20,
			d.FP32GFLOPS.Value, d.FMA.Value, d.FMA.Verdict)
	}
	reportBytes, err := report.Encode()
	must(err)
	hdr := gpurent.Envelope{Statement: gpurent.RecordGPUReport, IssuedAt: now, ExpiresAt: now + 3600, Subject: []byte(nodeID)}
	signedReport, err := provider.Sign(hdr, reportBytes)
	must(err)
	reportDigest, err := gpurent.EnvelopeDigest(signedReport)
	must(err)

	gpu, err := report.ToGPU(0)
	must(err)
	n := uint32(len(report.Devices))
	offer := gpurent.Offer{ProviderKey: pk, Seq: 1, Region: "eu-west", Nodes: []gpurent.Node{{NodeID: nodeID, GPU: gpu,
		GPUCount: n, GPUFree: n, PriceMicroPerGPUHour: 2490000, ReportDigest: reportDigest}}}
	offerBytes, err := offer.Encode()
	must(err)
	hdr.Statement = gpurent.RecordOffer
	signedOffer, err := provider.Sign(hdr, offerBytes)
	must(err)
	fmt.Printf("signed GPU report (%d bytes) and offer (%d bytes)\n", len(signedReport), len(signedOffer))

	// The verifier trusts the provider's key for the provider role.
	trust, err := gpurent.NewTrustStore(0)
	must(err)
	defer trust.Close()
	must(trust.Add(pk, gpurent.RoleProvider, 0, 0))
	statuses, err := trust.VerifyMany([][]byte{signedReport, signedOffer}, now, 60, &gpurent.VerifyOptions{NoReplay: true}, 0, nil)
	must(err)
	for _, st := range statuses {
		must(gpurent.StatusError(int(st)))
	}
	v, err := trust.Verify(signedReport, now, 60, &gpurent.VerifyOptions{Statement: gpurent.RecordGPUReport})
	must(err)
	payload, err := v.Payload()
	must(err)
	got, err := gpurent.DecodeGPUReport(payload)
	must(err)
	if got.Nonce != challenge {
		log.Fatal("the report answers another challenge")
	}
	v.Close()
	v, err = trust.Verify(signedOffer, now, 60, &gpurent.VerifyOptions{Statement: gpurent.RecordOffer})
	must(err)
	payload, err = v.Payload()
	must(err)
	v.Close()
	gotOffer, err := gpurent.DecodeOffer(payload)
	must(err)
	if gotOffer.Nodes[0].ReportDigest != reportDigest {
		log.Fatal("the offer names another report")
	}
	fmt.Printf("verifier: report and offer verified; %d x %s in %s, backed by report %s...\n", gotOffer.Nodes[0].GPUCount,
		gotOffer.Nodes[0].GPU.Model, gotOffer.Region, hex.EncodeToString(reportDigest[:8]))
	if _, err := trust.Verify(signedOffer, now, 60, nil); errors.Is(err, gpurent.ErrReplayed) {
		fmt.Println("verifier: the same offer again is refused:", err.(*gpurent.Error).Name)
	} else {
		log.Fatalf("a replayed offer: %v", err)
	}
}
