package gpurent_test

// Cross-language proof: the scripted scenarios of
// tests/fixtures/scenario (format in its README) give, through the Go
// binding, byte for byte the tier certificates and match receipts the C
// library gave (the .hex files, which check-bindings re-derives from C).

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gpurent.dev/gpurent"
)

var scenarioDir = filepath.Join("..", "..", "tests", "fixtures", "scenario")

func scnKey(s string) (gpurent.Key, error) {
	var k gpurent.Key
	if !strings.HasPrefix(s, "hex:") || len(s) != 68 {
		return k, fmt.Errorf("bad key %q", s)
	}
	b, err := hex.DecodeString(s[4:])
	copy(k[:], b)
	return k, err
}

// runScenario runs a script and returns the hex lines of the records it produces.
func runScenario(path string) ([]string, error) {
	out, _, err := runScenarioKeep(path, false)
	return out, err
}

// runScenarioKeep runs a script; with keep, its tier engine is returned open
// (the caller closes it) instead of closed.
func runScenarioKeep(path string, keep bool) (out []string, kept *gpurent.TierEngine, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	topts := gpurent.DefaultTierOptions()
	topts.UnverifiedEvidence = true // the script's reports are evidence taken as verified
	var (
		engine *gpurent.TierEngine
		market *gpurent.Market
		report gpurent.AuditReport
		offer  gpurent.Offer
		last   *gpurent.Receipt
		events []gpurent.TierEvent
	)
	defer func() {
		if keep && err == nil {
			kept, engine = engine, nil
		}
		if engine != nil {
			engine.Close()
		}
		if market != nil {
			market.Close()
		}
	}()
	for lineNo, line := range strings.Split(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		v := strings.Split(line, " ")
		d, a := v[0], v[1:]
		n := func(i int) uint64 {
			x, e := strconv.ParseUint(a[i], 10, 64)
			if e != nil && err == nil {
				err = e
			}
			return x
		}
		k := func(i int) gpurent.Key {
			x, e := scnKey(a[i])
			if e != nil && err == nil {
				err = e
			}
			return x
		}
		switch d {
		case "tier_option":
			switch a[0] {
			case "first_era":
				topts.FirstEra = n(1)
			case "quorum_auditors":
				topts.QuorumAuditors = uint32(n(1))
			case "min_incubation_eras":
				topts.MinIncubationEras = uint32(n(1))
			case "window_eras":
				topts.WindowEras = uint32(n(1))
			case "bound":
				topts.Bound = gpurent.TierBound(n(1))
			case "z_milli":
				topts.ZMilli = uint32(n(1))
			default:
				err = fmt.Errorf("unknown option %s", a[0])
			}
		case "engine":
			engine, err = gpurent.NewTierEngine(&topts)
		case "report":
			report = gpurent.AuditReport{ProviderKey: k(0), AuditorKey: k(1), TimeS: n(2),
				GPUReport: gpurent.CheckResult(n(3)), Integrity: gpurent.CheckResult(n(4)),
				Security: gpurent.CheckResult(n(5)), StakeObserved: n(6) != 0, StakeMicro: n(7)}
		case "challenge":
			report.Challenges = append(report.Challenges, gpurent.Challenge{TimeS: n(0),
				Kind: gpurent.ChallengeKind(n(1)), Passed: n(2) != 0})
		case "job":
			report.Jobs = append(report.Jobs, gpurent.Job{JobID: a[0], EndS: n(1), Outcome: gpurent.JobOutcome(n(2))})
		case "record_report":
			err = engine.RecordReport(report)
		case "event":
			events = append(events, gpurent.TierEvent{ProviderKey: k(0), TimeS: n(1), Kind: gpurent.EventKind(n(2)),
				Value: n(3)})
		case "record_events":
			err = engine.Record(events)
			events = nil
		case "evaluate":
			_, err = engine.Evaluate(n(0), nil)
		case "certificate":
			var c gpurent.TierCert
			var b []byte
			if c, err = engine.Certificate(k(0)); err == nil {
				if b, err = c.Encode(); err == nil {
					out = append(out, hex.EncodeToString(b))
				}
			}
		case "market":
			var o gpurent.MatchOptions
			if o, err = gpurent.MatchOptionsPreset(gpurent.Preset(n(0))); err == nil {
				seed := gpurent.Digest(k(1))
				market, err = gpurent.NewMarket(&o, &seed)
			}
		case "offer":
			offer = gpurent.Offer{ProviderKey: k(0), Seq: n(1), Region: a[2], StakeMicro: n(3)}
		case "node":
			offer.Nodes = append(offer.Nodes, gpurent.Node{NodeID: a[0],
				GPU: gpurent.GPU{Model: a[1], CCMajor: uint32(n(2)), CCMinor: uint32(n(3)), MemoryMiB: n(4),
					FP32GFLOPS: n(5), Interface: gpurent.Interface(n(6)), CUDAVersion: uint32(n(7))},
				GPUCount: uint32(n(8)), GPUFree: uint32(n(9)), Shared: n(10) != 0, CPUMillicores: uint32(n(11)),
				RAMMiB: n(12), DiskGiB: n(13), PriceMicroPerGPUHour: n(14)})
		case "put_offer":
			err = market.PutOffer(offer)
		case "trust":
			err = market.SetTrust(k(0), uint32(n(1)), uint32(n(2)))
		case "verified":
			err = market.SetVerified(k(0), a[1], a[2] == "1")
		case "request":
			q := gpurent.NewRequest()
			q.RequestID, q.GPUCount, q.GangNodes = a[0], uint32(n(1)), uint32(n(2))
			q.GangScope, q.VRAMSharePct, q.MinVRAMMiB = gpurent.GangScope(n(3)), uint32(n(4)), n(5)
			q.MaxPriceMicroPerGPUHour, q.AllowedTiers, q.VerifiedOnly, q.SubmittedAt = n(6), uint32(n(7)), n(8) != 0, n(9)
			q.Models = a[10:]
			if err == nil {
				err = market.AddRequest(q)
			}
		case "match":
			if last != nil {
				last.Close()
			}
			var b []byte
			if last, err = market.Match(n(0), nil); err == nil {
				if b, err = last.Encode(); err == nil {
					out = append(out, hex.EncodeToString(b))
				}
			}
		case "apply":
			err = market.Apply(last)
		case "end_lease":
			err = market.EndLease(a[0])
		default:
			err = fmt.Errorf("unknown directive %s", d)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", path, lineNo+1, err)
		}
	}
	if last != nil {
		last.Close()
	}
	return out, nil, nil
}

func TestScenariosGiveTheCBytes(t *testing.T) {
	scripts, _ := filepath.Glob(filepath.Join(scenarioDir, "*.scn"))
	if len(scripts) < 2 {
		t.Fatalf("scenario scripts missing in %s", scenarioDir)
	}
	sawCert, sawReceipt := false, false
	for _, s := range scripts {
		want, err := os.ReadFile(strings.TrimSuffix(s, ".scn") + ".hex")
		if err != nil {
			t.Fatal(err)
		}
		got, err := runScenario(s)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "\n") != strings.TrimSpace(string(want)) {
			t.Errorf("%s: Go gives\n%s\nC gave\n%s", s, strings.Join(got, "\n"), want)
		}
		for _, h := range got {
			b, _ := hex.DecodeString(h)
			rt, err := gpurent.RecordTypeOf(b)
			if err != nil {
				t.Fatal(err)
			}
			var back []byte
			switch rt {
			case gpurent.RecordTierCert:
				sawCert = true
				c, err := gpurent.DecodeTierCert(b)
				if err != nil {
					t.Fatal(err)
				}
				back, _ = c.Encode()
			case gpurent.RecordMatchReceipt:
				sawReceipt = true
				r, err := gpurent.DecodeReceipt(b)
				if err != nil {
					t.Fatal(err)
				}
				back, _ = r.Encode()
				r.Close()
			}
			if hex.EncodeToString(back) != h {
				t.Errorf("%s: a %v does not re-encode to its bytes", s, rt)
			}
		}
	}
	if !sawCert || !sawReceipt {
		t.Errorf("want certificates and receipts among the scenarios (cert %v, receipt %v)", sawCert, sawReceipt)
	}
}

// ---- signed tier certificates across languages ----
// The counterpart of the Python suite's tests (test_gpurent_scenarios.py):
// Go signs a certificate that Python co-signs, and co-signs the one Python
// signed. A co-signature is only made when the co-signer's own engine
// computed the same certificate, byte for byte (ErrCertMismatch otherwise).

const xlangNow = 20010 * 86400

type xlangWorld struct {
	engine   *gpurent.TierEngine
	provider gpurent.Key
	keys     []*gpurent.SigningKey // Python's seed, Go's seed
	trust    *gpurent.TrustStore
}

func newXlangWorld(t *testing.T) *xlangWorld {
	t.Helper()
	script := filepath.Join(scenarioDir, "tier_three_auditors.scn")
	_, engine, err := runScenarioKeep(script, true)
	if err != nil {
		t.Fatal(err)
	}
	w := &xlangWorld{engine: engine}
	data, _ := os.ReadFile(script)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "certificate ") {
			if w.provider, err = scnKey(strings.Fields(line)[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if w.trust, err = gpurent.NewTrustStore(0); err != nil {
		t.Fatal(err)
	}
	for _, b := range []byte{0x51, 0x52} {
		var seed [gpurent.SeedBytes]byte
		for i := range seed {
			seed[i] = b
		}
		k, err := gpurent.KeyFromSeed(seed)
		if err != nil {
			t.Fatal(err)
		}
		pk, _ := k.PublicKey()
		if err := w.trust.Add(pk, gpurent.RoleAuditor, 0, 0); err != nil {
			t.Fatal(err)
		}
		w.keys = append(w.keys, k)
	}
	t.Cleanup(func() {
		w.engine.Close()
		w.trust.Close()
		for _, k := range w.keys {
			k.Close()
		}
	})
	return w
}

func TestGoSignsATierCertificateForPython(t *testing.T) {
	w := newXlangWorld(t)
	env, err := w.engine.SignCertificate(w.keys[1], w.provider, xlangNow, xlangNow+30*86400)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := gpurent.VerifyTierCertificate(w.trust, env, xlangNow, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := cert.Encode()
	want, _ := os.ReadFile(filepath.Join(scenarioDir, "tier_three_auditors.hex"))
	lines := strings.Fields(string(want))
	if hex.EncodeToString(b) != lines[len(lines)-1] {
		t.Fatal("the signed certificate is not C's")
	}
	if dir := os.Getenv("GPURENT_TEST_BUILD"); dir != "" {
		out := filepath.Join(dir, "bindings", "xlang", "go-tier-cert.txt")
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, []byte(hex.EncodeToString(env)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// make check-bindings sets GPURENT_XSIGN_PYTHON_CERT to the certificate the
// Python suite signed.
func TestGoCosignsWhatPythonSigned(t *testing.T) {
	path := os.Getenv("GPURENT_XSIGN_PYTHON_CERT")
	if path == "" {
		t.Skip("GPURENT_XSIGN_PYTHON_CERT not set (make check-bindings sets it)")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	w := newXlangWorld(t)
	if _, err := gpurent.VerifyTierCertificate(w.trust, env, xlangNow, 0, 2); !errors.Is(err, gpurent.ErrQuorumNotMet) {
		t.Fatalf("Python's single signature, quorum 2: %v", err)
	}
	both, err := w.engine.CosignCertificate(w.keys[1], w.trust, env, xlangNow, 0)
	if err != nil {
		t.Fatalf("Go's engine refuses Python's certificate: %v", err)
	}
	cert, err := gpurent.VerifyTierCertificate(w.trust, both, xlangNow, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if cert.ProviderKey != w.provider {
		t.Fatal("certificate for another provider")
	}
	if err := stdlibVerify(both); err != nil {
		t.Fatalf("crypto/ed25519 on the co-signed certificate: %v", err)
	}
}
