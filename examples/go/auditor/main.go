// Three auditor nodes in Go, end to end (the C version is examples/auditor.c).
//
// Each era every auditor signs its audit report about a provider; every node
// verifies the three signed reports against its own trust store (auditor
// role, validity window, replay) and records them, then evaluates the era.
// After ten eras the nodes hold identical evidence, so they compute
// byte-identical tier certificates: auditor A signs its certificate, B and C
// check that it is exactly theirs and co-sign it, and a matchmaker verifies
// that a quorum of k = 3 auditors signed it (and that two signatures are not
// enough).
//
// Keys come from fixed seeds so the run needs no files; a real node keeps its
// key in a sealed key file (gpurent.LoadKey).
//
//	cd examples/go && go run ./auditor     (after make go)
//
// Exits 0 when every step gives the expected answer.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"os"

	"gpurent.dev/gpurent"
)

const (
	day      = 86400
	firstEra = 20000
	eras     = 10
	skew     = 300
)

var provider = gpurent.Key{0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42}

// node is one auditor: its key, its own tier engine and its own trust store.
type node struct {
	key    *gpurent.SigningKey
	engine *gpurent.TierEngine
	trust  *gpurent.TrustStore
}

func trustAuditors(pks []gpurent.Key) (*gpurent.TrustStore, error) {
	t, err := gpurent.NewTrustStore(0)
	for _, pk := range pks {
		if err == nil {
			err = t.Add(pk, gpurent.RoleAuditor, 0, 0)
		}
	}
	return t, err
}

// signedReport is auditor j's signed report on the provider for one era.
func signedReport(key *gpurent.SigningKey, j int, era uint64) ([]byte, error) {
	pk, err := key.PublicKey()
	if err != nil {
		return nil, err
	}
	base, uj := era*day, uint64(j)
	r := gpurent.AuditReport{ProviderKey: provider, AuditorKey: pk, TimeS: base + 86000 + uj,
		GPUReport: gpurent.CheckPassed, Integrity: gpurent.CheckPassed, Security: gpurent.CheckPassed,
		StakeObserved: true, StakeMicro: 500000000}
	for h := uint64(0); h < 24; h++ { // hourly GPU challenges, one miss
		passed := true
		if h == 13 && j == 1 {
			passed = false
		}
		r.Challenges = append(r.Challenges, gpurent.Challenge{TimeS: base + h*3600 + uj, Kind: gpurent.ChallengeGPU, Passed: passed})
	}
	for h := uint64(0); h < 24; h += 6 { // a CPU challenge every six hours
		r.Challenges = append(r.Challenges, gpurent.Challenge{TimeS: base + h*3600 + 1800 + uj, Kind: gpurent.ChallengeCPU, Passed: true})
	}
	if j == 0 { // job outcomes are counted, not deduplicated: the auditor watching the lease reports them
		r.Jobs = []gpurent.Job{{JobID: "job-1", EndS: base + 70000, Outcome: gpurent.JobCompleted}}
	}
	payload, err := r.Encode()
	if err != nil {
		return nil, err
	}
	return key.Sign(gpurent.Envelope{Statement: gpurent.RecordAuditReport, IssuedAt: r.TimeS,
		ExpiresAt: r.TimeS + 7*day, Subject: provider[:]}, payload)
}

func runEra(nodes []*node, era uint64) error {
	var envs [][]byte
	for j, n := range nodes {
		env, err := signedReport(n.key, j, era)
		if err != nil {
			return err
		}
		envs = append(envs, env)
	}
	now := era*day + 86300 // the reports arrive at the end of the era
	for _, n := range nodes {
		st, err := n.engine.RecordSignedMany(n.trust, envs, now, skew, 1, nil)
		if err != nil {
			return err
		}
		for _, s := range st {
			if err := gpurent.StatusError(int(s)); err != nil {
				return fmt.Errorf("a signed report was refused: %w", err)
			}
		}
		// A copy of a report sent again is refused and changes nothing.
		if err := n.engine.RecordSigned(n.trust, envs[0], now, skew); !errors.Is(err, gpurent.ErrReplayed) {
			return fmt.Errorf("a replayed report was not refused: %v", err)
		}
		if _, err := n.engine.Evaluate(era, nil); err != nil {
			return err
		}
	}
	return nil
}

func run() (bool, error) {
	if err := gpurent.Init(); err != nil {
		return false, err
	}
	opts := gpurent.DefaultTierOptions()
	opts.FirstEra = firstEra
	var pks []gpurent.Key
	var nodes []*node
	for j := 0; j < 3; j++ {
		var seed [gpurent.SeedBytes]byte
		for i := range seed {
			seed[i] = byte(0xA0 + j) // a fixed seed: for the example only
		}
		k, err := gpurent.KeyFromSeed(seed)
		if err != nil {
			return false, err
		}
		defer k.Close()
		pk, err := k.PublicKey()
		if err != nil {
			return false, err
		}
		e, err := gpurent.NewTierEngine(&opts)
		if err != nil {
			return false, err
		}
		defer e.Close()
		pks, nodes = append(pks, pk), append(nodes, &node{key: k, engine: e})
	}
	for _, n := range nodes {
		var err error
		if n.trust, err = trustAuditors(pks); err != nil {
			return false, err
		}
		defer n.trust.Close()
	}
	for era := uint64(firstEra); era < firstEra+eras; era++ {
		if err := runEra(nodes, era); err != nil {
			return false, err
		}
	}
	x, err := nodes[0].engine.Explain(provider)
	if err != nil {
		return false, err
	}
	fmt.Print(x.Text)
	var certs [][]byte
	for _, n := range nodes {
		c, err := n.engine.Certificate(provider)
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

	// A signs; B and C co-sign only what their own engines computed.
	now := uint64((firstEra+eras)*day + 600)
	one, err := nodes[0].engine.SignCertificate(nodes[0].key, provider, now, now+7*day)
	if err != nil {
		return false, err
	}
	two, err := nodes[1].engine.CosignCertificate(nodes[1].key, nodes[1].trust, one, now, skew)
	if err != nil {
		return false, err
	}
	three, err := nodes[2].engine.CosignCertificate(nodes[2].key, nodes[2].trust, two, now, skew)
	if err != nil {
		return false, err
	}

	// The matchmaker's side: k = 3 signatures needed, 2 are not enough.
	t, err := trustAuditors(pks)
	if err != nil {
		return false, err
	}
	defer t.Close()
	cert, err := gpurent.VerifyTierCertificate(t, three, now+60, skew, 3)
	if err != nil {
		return false, err
	}
	_, shortErr := gpurent.VerifyTierCertificate(t, two, now+60, skew, 3)
	fmt.Printf("with 2 of 3 signatures: %v\n", shortErr)
	inc := ""
	if cert.Incubating {
		inc = " (incubating)"
	}
	fmt.Printf("signed certificate: %d bytes, provider tier %d%s, score %d ppm, %d auditors, era %d, verified with 3 of 3 signatures\n",
		len(three), cert.Tier, inc, cert.ScorePPM, len(cert.Auditors), cert.Era)
	enc, err := cert.Encode()
	if err != nil {
		return false, err
	}
	return same && bytes.Equal(enc, certs[0]) && errors.Is(shortErr, gpurent.ErrQuorumNotMet) && len(cert.Auditors) == 3, nil
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
