// A provider and an auditor in Go (the C version is
// examples/attest_provider_auditor.c).
//
// The provider keeps its key in a passphrase-sealed key file and signs its
// offer; the auditor verifies it against a trust store, decodes the verified
// offer (a replay of it is refused) and signs an audit statement: an audit
// report record about that provider (its checks passed), signed as an
// AUDIT_REPORT statement whose subject is the offer statement's digest. The
// provider's side verifies and decodes that in turn; a flipped bit is caught.
//
//	cd examples/go && go run ./attest_provider_auditor     (after make go)
//
// Exits 0 when every step gives the expected answer.
package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"reflect"

	"gpurent.dev/gpurent"
)

const skew = 60

// providerOffer is the provider's signed offer: one node of eight H100s in eu-west.
func providerOffer(key *gpurent.SigningKey) ([]byte, error) {
	pk, err := key.PublicKey()
	if err != nil {
		return nil, err
	}
	offer := gpurent.Offer{ProviderKey: pk, Seq: 1, Region: "eu-west", Nodes: []gpurent.Node{{NodeID: "node-1",
		GPU: gpurent.GPU{Model: "H100 SXM5 80GB", CCMajor: 9, MemoryMiB: 81559}, GPUCount: 8, GPUFree: 8,
		PriceMicroPerGPUHour: 2490000}}}
	payload, err := offer.Encode()
	if err != nil {
		return nil, err
	}
	// A zero nonce: the library picks a random one.
	hdr := gpurent.Envelope{Statement: gpurent.RecordOffer, IssuedAt: 1700000000, ExpiresAt: 1700000000 + 3600,
		Subject: []byte("node-1")}
	return key.Sign(hdr, payload)
}

// statusOf is the status name of a verification's outcome.
func statusOf(v *gpurent.Verified, err error) string {
	var e *gpurent.Error
	switch {
	case err == nil:
		v.Close()
		return gpurent.StatusName(0)
	case errors.As(err, &e):
		return e.Name
	default:
		return err.Error()
	}
}

func run() (bool, error) {
	if err := gpurent.Init(); err != nil {
		return false, err
	}
	provider, err := gpurent.GenerateKey()
	if err != nil {
		return false, err
	}
	defer provider.Close()
	auditor, err := gpurent.GenerateKey()
	if err != nil {
		return false, err
	}
	defer auditor.Close()
	providerPK, err := provider.PublicKey()
	if err != nil {
		return false, err
	}
	auditorPK, err := auditor.PublicKey()
	if err != nil {
		return false, err
	}

	// The provider keeps its key in a passphrase-sealed file.
	dir, err := os.MkdirTemp("", "gpurent-example")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "provider.key")
	// A small memlimit keeps the example quick.
	if err := provider.Save(path, "provider passphrase", &gpurent.KeyfileOptions{MemLimit: 8 << 20}); err != nil {
		return false, err
	}
	reloaded, err := gpurent.LoadKey(path, "provider passphrase", &providerPK)
	if err != nil {
		return false, err
	}
	defer reloaded.Close()
	offerEnv, err := providerOffer(reloaded)
	if err != nil {
		return false, err
	}
	fmt.Printf("provider: signed offer envelope, %d bytes\n", len(offerEnv))

	// The auditor trusts the provider as a provider and itself as auditor.
	trust, err := gpurent.NewTrustStore(0)
	if err != nil {
		return false, err
	}
	defer trust.Close()
	if err := trust.Add(providerPK, gpurent.RoleProvider, 0, 0); err != nil {
		return false, err
	}
	if err := trust.Add(auditorPK, gpurent.RoleAuditor, 0, 0); err != nil {
		return false, err
	}
	vo := &gpurent.VerifyOptions{Statement: gpurent.RecordOffer}
	v, err := trust.Verify(offerEnv, 1700000100, skew, vo)
	if err != nil {
		return false, err
	}
	payload, err := v.Payload()
	if err != nil {
		return false, err
	}
	digest, err := v.Digest()
	if err != nil {
		return false, err
	}
	v.Close()
	offer, err := gpurent.DecodeOffer(payload)
	if err != nil {
		return false, err
	}
	fmt.Printf("auditor: offer verified: region %s, %d node(s), %s x%d\n", offer.Region, len(offer.Nodes),
		offer.Nodes[0].GPU.Model, offer.Nodes[0].GPUCount)

	// Replaying the same envelope is refused.
	v, err = trust.Verify(offerEnv, 1700000100, skew, vo)
	fmt.Println("auditor: second delivery of the same offer:", statusOf(v, err))
	if !errors.Is(err, gpurent.ErrReplayed) {
		return false, nil
	}

	// The audit statement: the auditor's report about this provider (the GPU
	// report, integrity and security checks passed), its subject the digest
	// of the offer statement it audited.
	report := gpurent.AuditReport{ProviderKey: providerPK, AuditorKey: auditorPK, TimeS: 1700000200,
		GPUReport: gpurent.CheckPassed, Integrity: gpurent.CheckPassed, Security: gpurent.CheckPassed}
	reportBytes, err := report.Encode()
	if err != nil {
		return false, err
	}
	auditEnv, err := auditor.Sign(gpurent.Envelope{Statement: gpurent.RecordAuditReport, IssuedAt: 1700000200,
		ExpiresAt: 1700000200 + 86400, Subject: digest[:]}, reportBytes)
	if err != nil {
		return false, err
	}

	// The provider's side: an audit report by a trusted auditor, about this
	// provider and this very offer.
	vo = &gpurent.VerifyOptions{Statement: gpurent.RecordAuditReport}
	v, err = trust.Verify(auditEnv, 1700000300, skew, vo)
	if err != nil {
		return false, err
	}
	got, err := v.Header()
	if err != nil {
		return false, err
	}
	payload, err = v.Payload()
	if err != nil {
		return false, err
	}
	v.Close()
	gotReport, err := gpurent.DecodeAuditReport(payload)
	if err != nil {
		return false, err
	}
	fmt.Printf("provider: audit statement verified, about offer digest %s...\n", hex.EncodeToString(got.Subject[:4]))
	if !bytes.Equal(got.Subject, digest[:]) || !reflect.DeepEqual(gotReport, report) {
		return false, nil
	}

	// A flipped bit anywhere is caught.
	tampered := append([]byte(nil), auditEnv...)
	tampered[len(tampered)/2] ^= 0x04
	v, err = trust.Verify(tampered, 1700000300, skew, vo)
	fmt.Println("tampered audit statement:", statusOf(v, err))
	return err != nil, nil
}

func main() {
	ok, err := run()
	if err != nil {
		log.Fatal(err)
	}
	if !ok {
		os.Exit(1)
	}
}
