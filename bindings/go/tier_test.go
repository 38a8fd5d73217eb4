package gpurent_test

import (
	"bytes"
	"errors"
	"sort"
	"strings"
	"testing"

	"gpurent.dev/gpurent"
	"gpurent.dev/gpurent/capi"
)

const day = 86400

var tierP = gpurent.Key{0x42, 0x42, 0x42}

func auditors() []gpurent.Key {
	return []gpurent.Key{{0xA0}, {0xA1}, {0xA2}}
}

func tierReport(aud gpurent.Key, era uint64, j int) gpurent.AuditReport {
	base := era * day
	r := gpurent.AuditReport{ProviderKey: tierP, AuditorKey: aud, TimeS: base + 86000 + uint64(j),
		GPUReport: gpurent.CheckPassed, Integrity: gpurent.CheckPassed, Security: gpurent.CheckPassed,
		StakeObserved: true, StakeMicro: 500000000}
	for h := uint64(0); h < 24; h++ {
		r.Challenges = append(r.Challenges, gpurent.Challenge{TimeS: base + h*3600 + uint64(j), Kind: gpurent.ChallengeGPU, Passed: true})
	}
	r.Challenges = append(r.Challenges, gpurent.Challenge{TimeS: base + 1800 + uint64(j), Kind: gpurent.ChallengeCPU, Passed: true})
	if j == 0 {
		r.Jobs = []gpurent.Job{{JobID: "job", EndS: base + 70000, Outcome: gpurent.JobCompleted}}
	}
	return r
}

func newTierEngine(t *testing.T) *gpurent.TierEngine {
	o := gpurent.DefaultTierOptions()
	o.FirstEra = 20000
	o.UnverifiedEvidence = true // these tests feed reports directly
	e, err := gpurent.NewTierEngine(&o)
	if err != nil {
		t.Fatal(err)
	}
	for era := uint64(20000); era < 20004; era++ {
		for j, a := range auditors() {
			if err := e.RecordReport(tierReport(a, era, j)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.Evaluate(era, nil); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestAuditReportRoundTrip(t *testing.T) {
	r := tierReport(auditors()[0], 20000, 0)
	for i, j := 0, len(r.Challenges)-1; i < j; i, j = i+1, j-1 {
		r.Challenges[i], r.Challenges[j] = r.Challenges[j], r.Challenges[i]
	}
	data, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := gpurent.DecodeAuditReport(data)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(r.Challenges, func(a, b int) bool { return r.Challenges[a].TimeS < r.Challenges[b].TimeS })
	if len(back.Challenges) != 25 || back.Challenges[0] != r.Challenges[0] || back.Jobs[0] != r.Jobs[0] ||
		back.ProviderKey != tierP || back.StakeMicro != 500000000 {
		t.Fatalf("decoded %+v", back)
	}
	if err := back.Validate(); err != nil {
		t.Fatal(err)
	}
	if rt, _ := gpurent.RecordTypeOf(data); rt != gpurent.RecordAuditReport {
		t.Fatalf("record type %v", rt)
	}
}

func TestAuditReportBadInput(t *testing.T) {
	r := tierReport(auditors()[0], 20000, 0)
	r.AuditorKey = tierP
	err := r.Validate()
	var ge *gpurent.Error
	if !errors.Is(err, gpurent.ErrInvalidField) || !errors.As(err, &ge) || !strings.Contains(ge.Detail, "auditor_key") {
		t.Fatalf("self audit: %v", err)
	}
	r = tierReport(auditors()[0], 20000, 0)
	r.Challenges = append(r.Challenges, r.Challenges[0])
	if _, err := r.Encode(); !errors.Is(err, gpurent.ErrInvalidField) {
		t.Fatalf("repeat: %v", err)
	}
	data, _ := tierReport(auditors()[0], 20000, 0).Encode()
	if _, err := gpurent.DecodeAuditReport(data[:len(data)-1]); !errors.Is(err, gpurent.ErrTruncated) {
		t.Fatalf("truncated: %v", err)
	}
	r = tierReport(auditors()[0], 20000, 0)
	r.Jobs[0].JobID = strings.Repeat("x", 80)
	if err := r.Validate(); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("long job id: %v", err)
	}
}

// A default engine takes signed evidence only.
func TestTierDefaultEngineRefusesUnverifiedEvidence(t *testing.T) {
	o := gpurent.DefaultTierOptions()
	if o.UnverifiedEvidence {
		t.Fatalf("default UnverifiedEvidence %v", o.UnverifiedEvidence)
	}
	o.FirstEra = 20000
	e, err := gpurent.NewTierEngine(&o)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r := tierReport(auditors()[0], 20000, 0)
	err = e.RecordReport(r)
	if !errors.Is(err, gpurent.ErrEvidenceRejected) || !strings.Contains(err.Error(), "record_signed") {
		t.Fatalf("RecordReport: %v", err)
	}
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.RecordReportBytes(b); !errors.Is(err, gpurent.ErrEvidenceRejected) {
		t.Fatalf("RecordReportBytes: %v", err)
	}
	ev := []gpurent.TierEvent{{ProviderKey: tierP, TimeS: 20000 * day, Kind: gpurent.EventGPUChallenge, Value: 1}}
	if err := e.Record(ev); !errors.Is(err, gpurent.ErrEvidenceRejected) {
		t.Fatalf("Record: %v", err)
	}
	if n := e.ProviderCount(); n != 0 {
		t.Fatalf("%d providers after refusals", n)
	}
	// A flag is a bool on the Go side: no value but 0/1 reaches C. An
	// enum field out of range is still refused there.
	o.Bound = gpurent.TierBound(2)
	if err := o.Validate(); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("Bound 2: %v", err)
	}
	if gpurent.BoundBeta.String() != "beta" || gpurent.TierBound(2).String() != "unknown" {
		t.Fatalf("TierBound names %q %q", gpurent.BoundBeta, gpurent.TierBound(2))
	}
}

func TestTierOptions(t *testing.T) {
	o := gpurent.DefaultTierOptions()
	if o.TierCount != 7 || len(o.Tiers) != 7 || o.Tiers[0].UptimeMinPPM != 990000 || o.QuorumAuditors != 3 {
		t.Fatalf("defaults %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	o.GPUWeightPPM = 1
	if err := o.Validate(); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("weights: %v", err)
	}
	o = gpurent.DefaultTierOptions()
	o.WindowEras = 0
	if _, err := gpurent.NewTierEngine(&o); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("window: %v", err)
	}
	e, err := gpurent.NewTierEngine(nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	e.Close()
	if _, err := e.ProviderKey(0); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("closed engine: %v", err)
	}
}

func TestTierEngineExplainCertificate(t *testing.T) {
	e := newTierEngine(t)
	defer e.Close()
	if e.EraOf(20004*day+5) != 20004 || e.NextEra() != 20004 || e.ProviderCount() != 1 {
		t.Fatal("era/provider getters")
	}
	if k, err := e.ProviderKey(0); err != nil || k != tierP {
		t.Fatalf("ProviderKey %v %v", k, err)
	}
	if _, err := e.ProviderKey(1); !errors.Is(err, gpurent.ErrNotFound) {
		t.Fatalf("ProviderKey(1): %v", err)
	}
	d, _ := e.ParamsDigest()
	x, err := e.Explain(tierP)
	if err != nil {
		t.Fatal(err)
	}
	sum := uint32(0)
	for _, c := range x.Components {
		sum += c.ContributionPPM
	}
	if x.Era != 20003 || !x.Incubating || x.Auditors != 3 || sum != x.ScorePPM ||
		!strings.Contains(x.Text, "era 20003") || !strings.Contains(x.Text, x.Rule.String()) {
		t.Fatalf("explanation %+v", x)
	}
	if gpurent.TierRule(3).String() != "promoted" || gpurent.TierRule(999).String() != "unknown" {
		t.Fatal("rule names")
	}
	if _, err := e.Explain(gpurent.Key{}); !errors.Is(err, gpurent.ErrUnknownProvider) {
		t.Fatalf("unknown provider: %v", err)
	}
	c, err := e.Certificate(tierP)
	if err != nil {
		t.Fatal(err)
	}
	if c.Era != 20003 || len(c.Auditors) != 3 || c.ParamsDigest != d {
		t.Fatalf("certificate %+v", c)
	}
	data, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := gpurent.DecodeTierCert(data)
	if err != nil || back.Validate() != nil {
		t.Fatal(err)
	}
	again, _ := back.Encode()
	if !bytes.Equal(again, data) {
		t.Fatal("certificate does not round-trip")
	}
	c.Auditors[0], c.Auditors[2] = c.Auditors[2], c.Auditors[0]
	var ge *gpurent.Error
	if err := c.Validate(); !errors.Is(err, gpurent.ErrInvalidField) || !errors.As(err, &ge) ||
		!strings.Contains(ge.Detail, "auditors") {
		t.Fatalf("unsorted auditors: %v", err)
	}
	rep, _ := tierReport(auditors()[0], 20000, 0).Encode()
	if _, err := gpurent.DecodeTierCert(rep); !errors.Is(err, gpurent.ErrWrongRecord) {
		t.Fatalf("wrong record: %v", err)
	}
}

func TestTierQuorumSlashesAndRejectedEvidence(t *testing.T) {
	o := gpurent.DefaultTierOptions()
	o.FirstEra = 10
	o.UnverifiedEvidence = true
	o.Tiers[6].SlashBelowPPM = 500000
	e, err := gpurent.NewTierEngine(&o)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	k := gpurent.Key{5}
	var ev []gpurent.TierEvent
	for i := uint64(0); i < 10; i++ {
		p := uint64(0)
		if i < 2 {
			p = 1
		}
		ev = append(ev, gpurent.TierEvent{ProviderKey: k, TimeS: 10*day + i, Kind: gpurent.EventGPUChallenge, Value: p})
	}
	if err := e.Record(ev); err != nil {
		t.Fatal(err)
	}
	rep, _ := gpurent.AuditReport{ProviderKey: k, AuditorKey: gpurent.Key{9}, TimeS: 10*day + 500,
		GPUReport: gpurent.CheckPassed}.Encode()
	if err := e.RecordReportBytes(rep); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Certificate(k); !errors.Is(err, gpurent.ErrNotFound) {
		t.Fatalf("before evaluation: %v", err)
	}
	s, err := e.Evaluate(10, nil)
	if err != nil || s.Slashes != 1 || s.TierCounts[6] != 1 || s.Evaluated != 1 {
		t.Fatalf("summary %+v %v", s, err)
	}
	sl, err := e.Slashes()
	if err != nil || len(sl) != 1 || sl[0].ProviderKey != k || sl[0].UptimePPM != 200000 || sl[0].Reasons != 1 {
		t.Fatalf("slashes %+v %v", sl, err)
	}
	if one, err := e.SlashAt(0); err != nil || one != sl[0] {
		t.Fatalf("SlashAt %v", err)
	}
	if _, err := e.SlashAt(1); !errors.Is(err, gpurent.ErrNotFound) {
		t.Fatalf("SlashAt(1): %v", err)
	}
	if _, err := e.Certificate(k); !errors.Is(err, gpurent.ErrQuorumNotMet) {
		t.Fatalf("quorum: %v", err)
	}
	err = e.Record([]gpurent.TierEvent{{ProviderKey: k, TimeS: 11 * day, Kind: 1, Value: 1}, {ProviderKey: k, TimeS: 10 * day, Kind: 1, Value: 1}})
	var ge *gpurent.Error
	if !errors.Is(err, gpurent.ErrEvidenceRejected) || !errors.As(err, &ge) || !strings.Contains(ge.Detail, "events[1]") {
		t.Fatalf("closed era: %v", err)
	}
	if err := e.Record([]gpurent.TierEvent{{ProviderKey: k, TimeS: 11 * day, Kind: 99}}); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("bad kind: %v", err)
	}
	if _, err := e.Evaluate(12, nil); !errors.Is(err, gpurent.ErrInvalidArg) {
		t.Fatalf("wrong era: %v", err)
	}
	if err := e.RecordReportBytes([]byte{0xc1}); !errors.Is(err, gpurent.ErrMalformed) {
		t.Fatalf("bad bytes: %v", err)
	}
	tok, _ := gpurent.NewCancel()
	defer tok.Close()
	tok.Request()
	if _, err := e.Evaluate(11, tok); !errors.Is(err, gpurent.ErrCancelled) {
		t.Fatalf("cancel: %v", err)
	}
	if e.NextEra() != 11 {
		t.Fatal("a cancelled evaluation changed the engine")
	}
}

func TestTierRawCapiAccessors(t *testing.T) {
	c := capi.NewAudit_report()
	defer capi.DeleteAudit_report(c)
	capi.Audit_report_init(c)
	if err := capi.Audit_report_add_challenge(c, 5, 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := capi.Audit_report_add_job(c, "j", 4, 1); err != nil {
		t.Fatal(err)
	}
	if capi.Audit_report_challenge(c, 0).GetTime_s() != 5 || capi.Audit_report_job(c, 0).GetJob_id() != "j" {
		t.Fatal("accessors")
	}
	capi.Audit_report_clear(c)
	if c.GetChallenge_count() != 0 {
		t.Fatal("clear")
	}
}

// A fourth auditor alone reports a failed security audit: the tier does not
// move (k = 3 distinct auditors must report it) and the report shows in
// ExplainDisputes; two more within the window confirm it.
func TestTierLoneFailureIsKeptAndChangesNoTier(t *testing.T) {
	e := newTierEngine(t)
	defer e.Close()
	liar := gpurent.Key{0xEE}
	for j, a := range auditors() {
		if err := e.RecordReport(tierReport(a, 20004, j)); err != nil {
			t.Fatal(err)
		}
	}
	r := tierReport(liar, 20004, 3)
	r.Security = gpurent.CheckFailed
	if err := e.RecordReport(r); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Evaluate(20004, nil); err != nil {
		t.Fatal(err)
	}
	x, err := e.Explain(tierP)
	if err != nil || x.Rule == gpurent.TierRule(capi.TIER_RULE_INCUBATION_RESET) || x.Tier != 6 {
		t.Fatalf("explain %+v %v", x, err)
	}
	d, err := e.ExplainDisputes(tierP)
	want := gpurent.TierDisputes{Era: 20004, Quorum: 3, Sources: 4, UptimeLowPPM: 1000000, UptimeHighPPM: 1000000,
		LoneSecurity: 1}
	if err != nil || d != want {
		t.Fatalf("disputes %+v %v", d, err)
	}
	for j, a := range auditors()[:2] {
		r := tierReport(a, 20005, j)
		r.Security = gpurent.CheckFailed
		if err := e.RecordReport(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Evaluate(20005, nil); err != nil {
		t.Fatal(err)
	}
	if x, err = e.Explain(tierP); err != nil || x.Rule != gpurent.TierRule(capi.TIER_RULE_INCUBATION_RESET) {
		t.Fatalf("explain after the quorum %+v %v", x, err)
	}
	if _, err := e.ExplainDisputes(liar); !errors.Is(err, gpurent.ErrUnknownProvider) {
		t.Fatalf("unknown provider: %v", err)
	}
	if n, err := e.AuditorContradicted(liar); err != nil || n != 1 {
		t.Fatalf("contradicted liar: %d %v", n, err)
	}
	if n, err := e.AuditorContradicted(auditors()[0]); err != nil || n != 0 {
		t.Fatalf("contradicted honest: %d %v", n, err)
	}
	if _, err := e.AuditorContradicted(gpurent.Key{0xEF}); !errors.Is(err, gpurent.ErrNotFound) {
		t.Fatalf("unknown auditor: %v", err)
	}
}
