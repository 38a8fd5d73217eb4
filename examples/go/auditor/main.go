// Auditor nodes in Go: three auditors send audit reports about a provider
// every era (as canonical bytes); each of three nodes records them in its own
// tier engine and evaluates the era. After ten eras the nodes hold the same
// evidence, so their tier certificates are byte-identical: that is what lets
// k auditors co-sign one certificate. (Signing needs the attest bindings,
// still to come: see examples/auditor.c for the signed flow in C.)
//
//	cd examples/go && go run ./auditor     (after make go)
//
// Exits 0 when the three certificates agree.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log"
	"os"

	"gpurent"
)

const (
	day      = 86400
	firstEra = 20000
	eras     = 10
)

var provider = gpurent.Key{0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42}

func auditorKey(j int) gpurent.Key {
	var k gpurent.Key
	for i := range k {
		k[i] = byte(0xA0 + j)
	}
	return k
}

// auditReport is auditor j's report on the provider for one era.
func auditReport(j int, era uint64) ([]byte, error) {
	base, uj := era*day, uint64(j)
	r := gpurent.AuditReport{ProviderKey: provider, AuditorKey: auditorKey(j), TimeS: base + 86000 + uj,
		GPUReport: gpurent.CheckPassed, Integrity: gpurent.CheckPassed, Security: gpurent.CheckPassed,
		StakeObserved: 1, StakeMicro: 500000000}
	for h := uint64(0); h < 24; h++ { // hourly GPU challenges, one miss
		passed := uint32(1)
		if h == 13 && j == 1 {
			passed = 0
		}
		r.Challenges = append(r.Challenges, gpurent.Challenge{TimeS: base + h*3600 + uj, Kind: gpurent.ChallengeGPU, Passed: passed})
	}
	for h := uint64(0); h < 24; h += 6 { // a CPU challenge every six hours
		r.Challenges = append(r.Challenges, gpurent.Challenge{TimeS: base + h*3600 + 1800 + uj, Kind: gpurent.ChallengeCPU, Passed: 1})
	}
	if j == 0 { // the auditor watching the lease reports its jobs
		r.Jobs = []gpurent.Job{{JobID: "job-1", EndS: base + 70000, Outcome: gpurent.JobCompleted}}
	}
	return r.Encode()
}

func run() (bool, error) {
	if err := gpurent.Init(); err != nil {
		return false, err
	}
	opts := gpurent.DefaultTierOptions()
	opts.FirstEra = firstEra
	var nodes []*gpurent.TierEngine
	for j := 0; j < 3; j++ {
		e, err := gpurent.NewTierEngine(&opts)
		if err != nil {
			return false, err
		}
		defer e.Close()
		nodes = append(nodes, e)
	}
	var summary gpurent.EraSummary
	for era := uint64(firstEra); era < firstEra+eras; era++ {
		var reports [][]byte
		for j := 0; j < 3; j++ {
			b, err := auditReport(j, era)
			if err != nil {
				return false, err
			}
			reports = append(reports, b)
		}
		for _, e := range nodes {
			for _, b := range reports {
				if err := e.RecordReportBytes(b); err != nil { // in production: verified signed envelopes
					return false, err
				}
			}
			var err error
			if summary, err = e.Evaluate(era, nil); err != nil {
				return false, err
			}
		}
	}
	fmt.Printf("era %d: %d provider(s), tier counts %v\n", summary.Era, summary.Evaluated, summary.TierCounts[:7])
	x, err := nodes[0].Explain(provider)
	if err != nil {
		return false, err
	}
	fmt.Print(x.Text)
	var certs [][]byte
	for _, e := range nodes {
		c, err := e.Certificate(provider)
		if err != nil {
			return false, err
		}
		b, err := c.Encode()
		if err != nil {
			return false, err
		}
		certs = append(certs, b)
	}
	same := true
	for _, b := range certs {
		same = same && bytes.Equal(b, certs[0])
	}
	word := "DIFFERENT"
	if same {
		word = "byte-identical"
	}
	sum := sha256.Sum256(certs[0])
	fmt.Printf("certificates of the %d nodes: %s (%d bytes, sha256 %s...)\n", len(nodes), word, len(certs[0]),
		hex.EncodeToString(sum[:8]))
	cert, err := gpurent.DecodeTierCert(certs[0])
	if err != nil {
		return false, err
	}
	inc := ""
	if cert.Incubating != 0 {
		inc = " (incubating)"
	}
	fmt.Printf("provider tier %d%s, score %d ppm, %d auditors, era %d\n", cert.Tier, inc, cert.ScorePPM,
		len(cert.Auditors), cert.Era)
	return same && len(cert.Auditors) == 3, nil
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
