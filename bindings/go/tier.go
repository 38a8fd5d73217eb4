package gpurent

import (
	"runtime"

	"gpurent.dev/gpurent/capi"
)

// Provider trust tiers: auditors' evidence (AuditReport, TierEvent) goes
// into a TierEngine, which evaluates eras, records slash events, explains
// each provider's tier and issues TierCert certificates. Engines fed the
// same evidence give byte-identical certificates in C, Python and Go.
// Signed evidence and signed certificates wait for the attest bindings.

// Limits of the tier records (gpurent/wire.h).
const (
	AuditMaxChallenges  = 4096
	AuditMaxJobs        = 1024
	TierCertMaxAuditors = 16
	TierMaxTiers        = 16
	TierComponents      = 5
)

// CheckResult is the outcome of one audit check.
type CheckResult uint32

// Check results.
const (
	CheckNotRun CheckResult = 0
	CheckPassed CheckResult = 1
	CheckFailed CheckResult = 2
)

// String is the result's name ("not_run", "passed", "failed"), "unknown" for others.
func (r CheckResult) String() string { return enumName(r, []string{"not_run", "passed", "failed"}) }

// ChallengeKind is a kind of liveness challenge.
type ChallengeKind uint32

// Challenge kinds.
const (
	ChallengeGPU ChallengeKind = 1
	ChallengeCPU ChallengeKind = 2
)

// String is the kind's name ("gpu", "cpu"), "unknown" for others.
func (k ChallengeKind) String() string { return enumName(k, []string{"", "gpu", "cpu"}) }

// JobOutcome is how a job ended (only JobFailedProvider counts against the provider).
type JobOutcome uint32

// Job outcomes.
const (
	JobCompleted      JobOutcome = 1
	JobFailedProvider JobOutcome = 2
	JobFailedUser     JobOutcome = 3
)

// String is the outcome's name ("completed", "failed_provider",
// "failed_user"), "unknown" for others.
func (o JobOutcome) String() string {
	return enumName(o, []string{"", "completed", "failed_provider", "failed_user"})
}

// EventKind is the kind of a single evidence event.
type EventKind uint32

// Event kinds.
const (
	EventGPUChallenge EventKind = 1 // Value: 1 passed, 0 failed
	EventCPUChallenge EventKind = 2 // Value: 1 passed, 0 failed
	EventJob          EventKind = 3 // Value: a JobOutcome
	EventStake        EventKind = 4 // Value: stake in micro-units
)

// String is the kind's name ("gpu_challenge", "cpu_challenge", "job",
// "stake"), "unknown" for others.
func (k EventKind) String() string {
	return enumName(k, []string{"", "gpu_challenge", "cpu_challenge", "job", "stake"})
}

// TierBound is the lower confidence bound a score uses (gpurent_tier_bound).
type TierBound uint32

// Confidence bounds.
const (
	BoundWilson TierBound = 0 // Wilson score interval, lower end (the default)
	BoundBeta   TierBound = 1 // Beta posterior mean minus z standard deviations
)

// String is the bound's name ("wilson", "beta"), "unknown" for others.
func (b TierBound) String() string {
	switch b {
	case BoundWilson:
		return "wilson"
	case BoundBeta:
		return "beta"
	}
	return "unknown"
}

// TierRule is the rule that decided a provider's tier in the last era.
type TierRule uint32

// String is the rule's name ("promoted"), "unknown" for others.
func (r TierRule) String() string { return capi.Tier_rule_name(uint(r)) }

// Challenge is one liveness challenge and its result.
type Challenge struct {
	TimeS  uint64        `wire:"time_s,1"`
	Kind   ChallengeKind `wire:"kind,2"`
	Passed bool          `wire:"passed,3"` // answered correctly in time
}

// Job is one job's outcome as the auditor observed it.
type Job struct {
	JobID   string     `wire:"job_id,1"`
	EndS    uint64     `wire:"end_s,2"`
	Outcome JobOutcome `wire:"outcome,3"`
}

// AuditReport is an auditor's report about one provider
// (gpurent_audit_report). The lists are sets: encoding sorts them.
type AuditReport struct {
	ProviderKey     Key         `wire:"provider_key,1"`
	AuditorKey      Key         `wire:"auditor_key,2"`
	TimeS           uint64      `wire:"time_s,3"`
	GPUReport       CheckResult `wire:"gpu_report,4"`
	Integrity       CheckResult `wire:"integrity,5"`
	Security        CheckResult `wire:"security,6"`
	GPUReportDigest Digest      `wire:"gpu_report_digest,7"`
	StakeObserved   bool        `wire:"stake_observed,8"` // StakeMicro holds the stake seen
	StakeMicro      uint64      `wire:"stake_micro,9"`
	Challenges      []Challenge `wire:"challenges,10"`
	Jobs            []Job       `wire:"jobs,11"`
}

func (a *AuditReport) withC(f func(capi.Audit_report) error) error {
	c := capi.NewAudit_report() // frees its arrays with the struct
	defer capi.DeleteAudit_report(c)
	capi.Audit_report_init(c)
	pk, ak, dg := a.ProviderKey, a.AuditorKey, a.GPUReportDigest
	c.SetProvider_key(pk[:])
	c.SetAuditor_key(ak[:])
	c.SetTime_s(a.TimeS)
	c.SetGpu_report(uint(a.GPUReport))
	c.SetIntegrity(uint(a.Integrity))
	c.SetSecurity(uint(a.Security))
	c.SetGpu_report_digest(dg[:])
	c.SetStake_observed(flag(a.StakeObserved))
	c.SetStake_micro(a.StakeMicro)
	for _, ch := range a.Challenges {
		if err := capi.Audit_report_add_challenge(c, ch.TimeS, uint(ch.Kind), flag(ch.Passed)); err != nil {
			return err
		}
	}
	for _, j := range a.Jobs {
		if err := capi.Audit_report_add_job(c, j.JobID, j.EndS, uint(j.Outcome)); err != nil {
			return err
		}
	}
	return f(c)
}

func auditReportFromC(c capi.Audit_report) AuditReport {
	a := AuditReport{TimeS: c.GetTime_s(), GPUReport: CheckResult(c.GetGpu_report()),
		Integrity: CheckResult(c.GetIntegrity()), Security: CheckResult(c.GetSecurity()),
		StakeObserved: c.GetStake_observed() != 0, StakeMicro: c.GetStake_micro()}
	copy(a.ProviderKey[:], c.GetProvider_key())
	copy(a.AuditorKey[:], c.GetAuditor_key())
	copy(a.GPUReportDigest[:], c.GetGpu_report_digest())
	for i := uint(0); i < c.GetChallenge_count(); i++ {
		x := capi.Audit_report_challenge(c, i)
		a.Challenges = append(a.Challenges, Challenge{x.GetTime_s(), ChallengeKind(x.GetKind()), x.GetPassed() != 0})
	}
	for i := uint(0); i < c.GetJob_count(); i++ {
		x := capi.Audit_report_job(c, i)
		a.Jobs = append(a.Jobs, Job{x.GetJob_id(), x.GetEnd_s(), JobOutcome(x.GetOutcome())})
	}
	return a
}

// Validate checks every field and cross-field rule (ErrInvalidField names it).
func (a AuditReport) Validate() error {
	return a.withC(capi.Audit_report_validate)
}

// Encode validates and returns the canonical bytes (lists sorted).
func (a AuditReport) Encode() ([]byte, error) {
	return encodeRecord(a.withC, capi.Audit_report_encode)
}

// DecodeAuditReport decodes and validates untrusted bytes.
func DecodeAuditReport(data []byte) (AuditReport, error) {
	return decodeRecord(data, newAuditReportC, capi.DeleteAudit_report, capi.Audit_report_decode, auditReportFromC)
}

// newAuditReportC is an initialised C audit report (DeleteAudit_report
// clears its lists).
func newAuditReportC() capi.Audit_report {
	c := capi.NewAudit_report()
	capi.Audit_report_init(c)
	return c
}

// TierCert is a tier certificate (gpurent_tier_cert): one provider's tier
// and score at the end of one era. Auditors are ascending and unique.
type TierCert struct {
	ProviderKey    Key    `wire:"provider_key,1"`
	Era            uint64 `wire:"era,2"`
	Tier           uint32 `wire:"tier,3"`
	Incubating     bool   `wire:"incubating,4"` // not yet out of incubation
	ScorePPM       uint32 `wire:"score_ppm,5"`
	MeanPPM        uint32 `wire:"mean_ppm,6"`
	ConfidencePPM  uint32 `wire:"confidence_ppm,7"`
	UptimePPM      uint32 `wire:"uptime_ppm,8"`
	ErasInTier     uint32 `wire:"eras_in_tier,9"`
	PointsPPM      uint32 `wire:"points_ppm,10"`
	EvidenceDigest Digest `wire:"evidence_digest,11"`
	ParamsDigest   Digest `wire:"params_digest,12"`
	Auditors       []Key  `wire:"auditors,13"`
}

func (t *TierCert) withC(f func(capi.Tier_cert) error) error {
	c := capi.NewTier_cert()
	defer capi.DeleteTier_cert(c)
	pk, ed, pd := t.ProviderKey, t.EvidenceDigest, t.ParamsDigest
	c.SetProvider_key(pk[:])
	c.SetEra(t.Era)
	c.SetTier(uint(t.Tier))
	c.SetIncubating(flag(t.Incubating))
	c.SetScore_ppm(uint(t.ScorePPM))
	c.SetMean_ppm(uint(t.MeanPPM))
	c.SetConfidence_ppm(uint(t.ConfidencePPM))
	c.SetUptime_ppm(uint(t.UptimePPM))
	c.SetEras_in_tier(uint(t.ErasInTier))
	c.SetPoints_ppm(uint(t.PointsPPM))
	c.SetEvidence_digest(ed[:])
	c.SetParams_digest(pd[:])
	c.SetAuditor_count(uint(len(t.Auditors))) // more than 16: validation refuses the count
	for i := 0; i < len(t.Auditors) && i < TierCertMaxAuditors; i++ {
		k := t.Auditors[i]
		c.Set_auditor(uint(i), k[:])
	}
	return f(c)
}

func tierCertFromC(c capi.Tier_cert) TierCert {
	t := TierCert{Era: c.GetEra(), Tier: uint32(c.GetTier()), Incubating: c.GetIncubating() != 0,
		ScorePPM: uint32(c.GetScore_ppm()), MeanPPM: uint32(c.GetMean_ppm()),
		ConfidencePPM: uint32(c.GetConfidence_ppm()), UptimePPM: uint32(c.GetUptime_ppm()),
		ErasInTier: uint32(c.GetEras_in_tier()), PointsPPM: uint32(c.GetPoints_ppm())}
	copy(t.ProviderKey[:], c.GetProvider_key())
	copy(t.EvidenceDigest[:], c.GetEvidence_digest())
	copy(t.ParamsDigest[:], c.GetParams_digest())
	buf := make([]byte, KeyBytes)
	for i := uint(0); i < c.GetAuditor_count() && i < TierCertMaxAuditors; i++ {
		c.Auditor_at(i, buf)
		var k Key
		copy(k[:], buf)
		t.Auditors = append(t.Auditors, k)
	}
	return t
}

// Validate checks ranges and the auditor list.
func (t TierCert) Validate() error {
	return t.withC(capi.Tier_cert_validate)
}

// Encode validates and returns the canonical bytes.
func (t TierCert) Encode() ([]byte, error) {
	return encodeRecord(t.withC, capi.Tier_cert_encode)
}

// DecodeTierCert decodes and validates untrusted bytes.
func DecodeTierCert(data []byte) (TierCert, error) {
	return decodeRecord(data, capi.NewTier_cert, capi.DeleteTier_cert, capi.Tier_cert_decode, tierCertFromC)
}

// TierLevel is one row of the tier table (tier 1 is row 0).
type TierLevel struct {
	UptimeMinPPM, SlashBelowPPM, PointsPPM, ErasUp, ErasDown uint32
}

// TierOptions are the engine parameters (gpurent_tier_options). Start from
// DefaultTierOptions(): zero fields are not defaults.
type TierOptions struct {
	TierCount           uint32
	Tiers               []TierLevel // TierCount rows, tier 1 first
	IncubationTiers     uint32
	MinIncubationEras   uint32
	QuorumAuditors      uint32
	EraS                uint64
	GenesisS            uint64
	FirstEra            uint64
	WindowEras          uint32
	HalfLifeEras        uint32
	GPUWeightPPM        uint32
	CPUWeightPPM        uint32
	Bound               TierBound
	ZMilli              uint32
	PriorPassMilli      uint32
	PriorFailMilli      uint32
	WeightUptimePPM     uint32
	WeightAuditPPM      uint32
	WeightJobsPPM       uint32
	WeightStakePPM      uint32
	WeightTenurePPM     uint32
	StakeFullMicro      uint64
	TenureFullEras      uint32
	SecurityDemoteTiers uint32
	MaxProviders        uint32
	// UnverifiedEvidence true lets Record and RecordReport take evidence the
	// caller verified itself; false (the default) makes them fail with
	// ErrEvidenceRejected: evidence enters only through RecordSigned and
	// RecordSignedMany.
	UnverifiedEvidence bool
}

// DefaultTierOptions returns the library's defaults (the published table).
func DefaultTierOptions() TierOptions {
	c := capi.NewTier_options()
	defer capi.DeleteTier_options(c)
	_ = capi.Tier_options_init(c, uint(capi.TIER_OPTIONS_VERSION)) // cannot fail for this version
	o := TierOptions{
		TierCount: uint32(c.GetTier_count()), IncubationTiers: uint32(c.GetIncubation_tiers()),
		MinIncubationEras: uint32(c.GetMin_incubation_eras()), QuorumAuditors: uint32(c.GetQuorum_auditors()),
		EraS: c.GetEra_s(), GenesisS: c.GetGenesis_s(), FirstEra: c.GetFirst_era(),
		WindowEras: uint32(c.GetWindow_eras()), HalfLifeEras: uint32(c.GetHalf_life_eras()),
		GPUWeightPPM: uint32(c.GetGpu_weight_ppm()), CPUWeightPPM: uint32(c.GetCpu_weight_ppm()),
		Bound: TierBound(c.GetBound()), ZMilli: uint32(c.GetZ_milli()), PriorPassMilli: uint32(c.GetPrior_pass_milli()),
		PriorFailMilli: uint32(c.GetPrior_fail_milli()), WeightUptimePPM: uint32(c.GetWeight_uptime_ppm()),
		WeightAuditPPM: uint32(c.GetWeight_audit_ppm()), WeightJobsPPM: uint32(c.GetWeight_jobs_ppm()),
		WeightStakePPM: uint32(c.GetWeight_stake_ppm()), WeightTenurePPM: uint32(c.GetWeight_tenure_ppm()),
		StakeFullMicro: c.GetStake_full_micro(), TenureFullEras: uint32(c.GetTenure_full_eras()),
		SecurityDemoteTiers: uint32(c.GetSecurity_demote_tiers()), MaxProviders: uint32(c.GetMax_providers()),
		UnverifiedEvidence: c.GetUnverified_evidence() != 0,
	}
	for i := uint(0); i < c.GetTier_count(); i++ {
		l := c.Tier_at(i)
		o.Tiers = append(o.Tiers, TierLevel{uint32(l.GetUptime_min_ppm()), uint32(l.GetSlash_below_ppm()),
			uint32(l.GetPoints_ppm()), uint32(l.GetEras_up()), uint32(l.GetEras_down())})
	}
	return o
}

func (o *TierOptions) withC(f func(capi.Tier_options) error) error {
	c := capi.NewTier_options()
	defer capi.DeleteTier_options(c)
	if err := capi.Tier_options_init(c, uint(capi.TIER_OPTIONS_VERSION)); err != nil {
		return err
	}
	c.SetTier_count(uint(o.TierCount))
	for i := 0; i < TierMaxTiers; i++ {
		var t TierLevel
		if i < len(o.Tiers) {
			t = o.Tiers[i]
		}
		l := c.Tier_at(uint(i))
		l.SetUptime_min_ppm(uint(t.UptimeMinPPM))
		l.SetSlash_below_ppm(uint(t.SlashBelowPPM))
		l.SetPoints_ppm(uint(t.PointsPPM))
		l.SetEras_up(uint(t.ErasUp))
		l.SetEras_down(uint(t.ErasDown))
	}
	c.SetIncubation_tiers(uint(o.IncubationTiers))
	c.SetMin_incubation_eras(uint(o.MinIncubationEras))
	c.SetQuorum_auditors(uint(o.QuorumAuditors))
	c.SetEra_s(o.EraS)
	c.SetGenesis_s(o.GenesisS)
	c.SetFirst_era(o.FirstEra)
	c.SetWindow_eras(uint(o.WindowEras))
	c.SetHalf_life_eras(uint(o.HalfLifeEras))
	c.SetGpu_weight_ppm(uint(o.GPUWeightPPM))
	c.SetCpu_weight_ppm(uint(o.CPUWeightPPM))
	c.SetBound(uint(o.Bound))
	c.SetZ_milli(uint(o.ZMilli))
	c.SetPrior_pass_milli(uint(o.PriorPassMilli))
	c.SetPrior_fail_milli(uint(o.PriorFailMilli))
	c.SetWeight_uptime_ppm(uint(o.WeightUptimePPM))
	c.SetWeight_audit_ppm(uint(o.WeightAuditPPM))
	c.SetWeight_jobs_ppm(uint(o.WeightJobsPPM))
	c.SetWeight_stake_ppm(uint(o.WeightStakePPM))
	c.SetWeight_tenure_ppm(uint(o.WeightTenurePPM))
	c.SetStake_full_micro(o.StakeFullMicro)
	c.SetTenure_full_eras(uint(o.TenureFullEras))
	c.SetSecurity_demote_tiers(uint(o.SecurityDemoteTiers))
	c.SetMax_providers(uint(o.MaxProviders))
	c.SetUnverified_evidence(flag(o.UnverifiedEvidence))
	return f(c)
}

// Validate checks the options (ErrInvalidArg names the field).
func (o TierOptions) Validate() error {
	return o.withC(capi.Tier_options_validate)
}

// TierEvent is one piece of already-verified evidence about one provider.
type TierEvent struct {
	ProviderKey Key
	TimeS       uint64
	Kind        EventKind
	Value       uint64
}

// EraSummary summarises one era's evaluation; TierCounts[i] = providers in
// tier i+1 after the era.
type EraSummary struct {
	Era                                                      uint64
	Evaluated, Promoted, Demoted, Resets, Slashes, Graduated uint32
	TierCounts                                               [TierMaxTiers]uint32
}

// Slash is a slash event of the last evaluated era (Reasons: 1 uptime, 2 security).
type Slash struct {
	ProviderKey                               Key
	Era                                       uint64
	Reasons, TierBefore, TierAfter, UptimePPM uint32
}

// TierComponent is one component's part in a score.
type TierComponent struct {
	ValuePPM, MeanPPM, WeightPPM, ContributionPPM uint32
	EvidenceQ16                                   uint64
}

// TierExplanation says why a provider has its tier and what it needs to
// move up. Components: uptime, audit, jobs, stake, tenure. Text is the
// library's rendering.
type TierExplanation struct {
	ProviderKey                                           Key
	Era                                                   uint64
	Tier, PreviousTier                                    uint32
	Incubating                                            bool
	Rule                                                  TierRule
	ScorePPM, MeanPPM, ConfidencePPM                      uint32
	EraUptimePPM, QualifyingTier, SlashReasons            uint32
	EraObserved                                           bool // the era had challenge results
	PointsPPM                                             uint32
	Components                                            [TierComponents]TierComponent
	UpStreak, DownStreak, ErasInTier, IncubationEras      uint32
	Auditors                                              uint32
	StakeMicro                                            uint64
	FirstEra                                              uint64
	NextTier, NeedUptimePPM, NeedEras, NeedIncubationEras uint32
	NeedAuditors                                          uint32
	Text                                                  string
}

// TierDisputes is how the last evaluated era's evidence was weighed
// against auditors that may lie (gpurent_tier_disputes): the era's k-th
// lowest and k-th highest source uptimes, its sources, and the distinct
// auditors whose failure report of each check is not (yet) confirmed by k.
type TierDisputes struct {
	Era                                        uint64
	Quorum, Sources                            uint32
	UptimeLowPPM, UptimeHighPPM                uint32
	LoneGPUReport, LoneIntegrity, LoneSecurity uint32
}

// TierEngine holds providers' evidence and tier state. Calls on one engine
// are serialized by the binding. Close it when done; a finalizer frees a
// forgotten one.
type TierEngine struct{ h handle }

// NewTierEngine creates an engine (opts nil = defaults).
func NewTierEngine(opts *TierOptions) (*TierEngine, error) {
	var p uintptr
	var err error
	if opts == nil {
		err = capi.Tier_engine_new(&p, capi.SwigcptrTier_options(0))
	} else {
		err = opts.withC(func(c capi.Tier_options) error { return capi.Tier_engine_new(&p, c) })
	}
	if err != nil {
		return nil, err
	}
	e := &TierEngine{h: handle{p: p, what: "tier engine"}}
	runtime.SetFinalizer(e, (*TierEngine).Close)
	return e, nil
}

// Close frees the engine. Closing twice is harmless.
func (e *TierEngine) Close() error {
	e.h.close(func(p uintptr) { capi.Tier_engine_free(capi.SwigcptrTier_engine(p)) })
	runtime.SetFinalizer(e, nil)
	return nil
}

func (e *TierEngine) with(f func(capi.Tier_engine) error) error {
	return e.h.useSerial(func(p uintptr) error { return f(capi.SwigcptrTier_engine(p)) })
}

// EraOf is the era a Unix second falls in (0 on a closed engine).
func (e *TierEngine) EraOf(timeS uint64) uint64 {
	var v uint64
	_ = e.with(func(c capi.Tier_engine) error { v = capi.Tier_era_of(c, timeS); return nil })
	return v
}

// NextEra is the next era Evaluate accepts (0 on a closed engine).
func (e *TierEngine) NextEra() uint64 {
	var v uint64
	_ = e.with(func(c capi.Tier_engine) error { v = capi.Tier_next_era(c); return nil })
	return v
}

// ProviderCount is the number of providers the engine knows.
func (e *TierEngine) ProviderCount() int {
	var v int
	_ = e.with(func(c capi.Tier_engine) error { v = int(capi.Tier_provider_count(c)); return nil })
	return v
}

// ProviderKey is the key of provider index (ErrNotFound out of range).
func (e *TierEngine) ProviderKey(index int) (Key, error) {
	var k Key
	buf := make([]byte, KeyBytes)
	err := e.with(func(c capi.Tier_engine) error { return capi.Tier_provider_key(c, uint(index), buf) })
	copy(k[:], buf)
	return k, err
}

// ParamsDigest is the digest of the parameters (a certificate's ParamsDigest).
func (e *TierEngine) ParamsDigest() (Digest, error) {
	var d Digest
	buf := make([]byte, DigestBytes)
	err := e.with(func(c capi.Tier_engine) error { capi.Tier_params_digest(c, buf); return nil })
	copy(d[:], buf)
	return d, err
}

// Record records already-verified evidence, all or nothing. Only an engine
// created with UnverifiedEvidence true takes it; others fail with
// ErrEvidenceRejected (use RecordSigned / RecordSignedMany).
func (e *TierEngine) Record(events []TierEvent) error {
	n := len(events)
	if n == 0 {
		n = 1
	}
	arr := capi.NewTier_event_array(n)
	defer capi.DeleteTier_event_array(arr)
	for i := range events {
		k := events[i].ProviderKey
		arr.Set(int64(i), k[:], events[i].TimeS, uint(events[i].Kind), events[i].Value)
	}
	return e.with(func(c capi.Tier_engine) error { return capi.Tier_record(c, arr.Cast(), int64(len(events))) })
}

// RecordReport records an audit report that was ALREADY verified as signed
// by an authorized auditor; like Record, only with UnverifiedEvidence true.
func (e *TierEngine) RecordReport(r AuditReport) error {
	return e.with(func(c capi.Tier_engine) error {
		return r.withC(func(cr capi.Audit_report) error { return capi.Tier_record_report(c, cr) })
	})
}

// RecordReportBytes decodes an encoded, already verified audit report and
// records it (one call into C: decoding errors, then RecordReport's).
func (e *TierEngine) RecordReportBytes(data []byte) error {
	return e.with(func(c capi.Tier_engine) error { return capi.Tier_record_report_bytes(c, data) })
}

// Evaluate evaluates era (which must be NextEra()) and closes it. cancel may be nil.
func (e *TierEngine) Evaluate(era uint64, cancel *Cancel) (EraSummary, error) {
	var s EraSummary
	cs := capi.NewTier_era_summary()
	defer capi.DeleteTier_era_summary(cs)
	cp, done, err := cancelPtrLocked(cancel)
	if err != nil {
		return s, err
	}
	defer done()
	err = e.with(func(c capi.Tier_engine) error { return capi.Tier_evaluate(c, era, cp, cs) })
	if err != nil {
		return s, err
	}
	s = EraSummary{Era: cs.GetEra(), Evaluated: uint32(cs.GetEvaluated()), Promoted: uint32(cs.GetPromoted()),
		Demoted: uint32(cs.GetDemoted()), Resets: uint32(cs.GetResets()), Slashes: uint32(cs.GetSlashes()),
		Graduated: uint32(cs.GetGraduated())}
	for i := range s.TierCounts {
		s.TierCounts[i] = uint32(cs.Tier_count_at(uint(i)))
	}
	return s, nil
}

// Slashes returns the slash events of the last evaluated era, by provider key.
func (e *TierEngine) Slashes() ([]Slash, error) {
	var out []Slash
	err := e.with(func(c capi.Tier_engine) error {
		cs := capi.NewTier_slash()
		defer capi.DeleteTier_slash(cs)
		n := capi.Tier_slash_count(c)
		for i := uint(0); i < n; i++ {
			if err := capi.Tier_slash_get(c, i, cs); err != nil {
				return err
			}
			s := Slash{Era: cs.GetEra(), Reasons: uint32(cs.GetReasons()), TierBefore: uint32(cs.GetTier_before()),
				TierAfter: uint32(cs.GetTier_after()), UptimePPM: uint32(cs.GetUptime_ppm())}
			copy(s.ProviderKey[:], cs.GetProvider_key())
			out = append(out, s)
		}
		return nil
	})
	return out, err
}

// SlashAt returns slash event index (ErrNotFound out of range).
func (e *TierEngine) SlashAt(index int) (Slash, error) {
	var s Slash
	err := e.with(func(c capi.Tier_engine) error {
		cs := capi.NewTier_slash()
		defer capi.DeleteTier_slash(cs)
		if err := capi.Tier_slash_get(c, uint(index), cs); err != nil {
			return err
		}
		s = Slash{Era: cs.GetEra(), Reasons: uint32(cs.GetReasons()), TierBefore: uint32(cs.GetTier_before()),
			TierAfter: uint32(cs.GetTier_after()), UptimePPM: uint32(cs.GetUptime_ppm())}
		copy(s.ProviderKey[:], cs.GetProvider_key())
		return nil
	})
	return s, err
}

// Explain says why a provider has its tier (ErrUnknownProvider if unknown).
func (e *TierEngine) Explain(provider Key) (TierExplanation, error) {
	var x TierExplanation
	err := e.with(func(c capi.Tier_engine) error {
		ce := capi.NewTier_explanation()
		defer capi.DeleteTier_explanation(ce)
		if err := capi.Tier_explain(c, provider[:], ce); err != nil {
			return err
		}
		x = TierExplanation{Era: ce.GetEra(), Tier: uint32(ce.GetTier()), PreviousTier: uint32(ce.GetPrevious_tier()),
			Incubating: ce.GetIncubating() != 0, Rule: TierRule(ce.GetRule()), ScorePPM: uint32(ce.GetScore_ppm()),
			MeanPPM: uint32(ce.GetMean_ppm()), ConfidencePPM: uint32(ce.GetConfidence_ppm()),
			EraUptimePPM: uint32(ce.GetEra_uptime_ppm()), EraObserved: ce.GetEra_observed() != 0,
			QualifyingTier: uint32(ce.GetQualifying_tier()), SlashReasons: uint32(ce.GetSlash_reasons()),
			PointsPPM: uint32(ce.GetPoints_ppm()), UpStreak: uint32(ce.GetUp_streak()),
			DownStreak: uint32(ce.GetDown_streak()), ErasInTier: uint32(ce.GetEras_in_tier()),
			IncubationEras: uint32(ce.GetIncubation_eras()), Auditors: uint32(ce.GetAuditors()),
			StakeMicro: ce.GetStake_micro(), FirstEra: ce.GetFirst_era(), NextTier: uint32(ce.GetNext_tier()),
			NeedUptimePPM: uint32(ce.GetNeed_uptime_ppm()), NeedEras: uint32(ce.GetNeed_eras()),
			NeedIncubationEras: uint32(ce.GetNeed_incubation_eras()), NeedAuditors: uint32(ce.GetNeed_auditors())}
		copy(x.ProviderKey[:], ce.GetProvider_key())
		for i := range x.Components {
			m := ce.Component_at(uint(i))
			x.Components[i] = TierComponent{uint32(m.GetValue_ppm()), uint32(m.GetMean_ppm()),
				uint32(m.GetWeight_ppm()), uint32(m.GetContribution_ppm()), m.GetEvidence_q16()}
		}
		var text []byte
		if err := capi.Tier_explain_text(ce, &text); err != nil {
			return err
		}
		x.Text = string(text)
		return nil
	})
	return x, err
}

// ExplainDisputes gives the robust uptime statistics and the lone failure
// reports of the provider's last evaluated era (ErrUnknownProvider if unknown).
func (e *TierEngine) ExplainDisputes(provider Key) (TierDisputes, error) {
	var d TierDisputes
	err := e.with(func(c capi.Tier_engine) error {
		cd := capi.NewTier_disputes()
		defer capi.DeleteTier_disputes(cd)
		if err := capi.Tier_explain_disputes(c, provider[:], cd); err != nil {
			return err
		}
		d = TierDisputes{Era: cd.GetEra(), Quorum: uint32(cd.GetQuorum()), Sources: uint32(cd.GetSources()),
			UptimeLowPPM: uint32(cd.GetUptime_low_ppm()), UptimeHighPPM: uint32(cd.GetUptime_high_ppm()),
			LoneGPUReport: uint32(cd.GetLone_gpu_report()), LoneIntegrity: uint32(cd.GetLone_integrity()),
			LoneSecurity: uint32(cd.GetLone_security())}
		return nil
	})
	return d, err
}

// AuditorContradicted counts the auditor's failure reports that k other
// auditors contradicted (passed the same check on the same provider in the
// same era); ErrNotFound if the engine has no entry of the auditor.
func (e *TierEngine) AuditorContradicted(auditor Key) (uint32, error) {
	var n uint32
	err := e.with(func(c capi.Tier_engine) error { return capi.Tier_auditor_contradicted(c, auditor[:], &n) })
	return n, err
}

// Certificate builds the provider's certificate for the last evaluated era
// (ErrQuorumNotMet below QuorumAuditors, ErrNotFound before any evaluation).
func (e *TierEngine) Certificate(provider Key) (TierCert, error) {
	var t TierCert
	err := e.with(func(c capi.Tier_engine) error {
		cc := capi.NewTier_cert()
		defer capi.DeleteTier_cert(cc)
		if err := capi.Tier_certificate(c, provider[:], cc); err != nil {
			return err
		}
		t = tierCertFromC(cc)
		return nil
	})
	return t, err
}

// ---- signed evidence and signed certificates ----

// RecordSigned verifies a signed audit report and records it: the envelope
// must be an audit-report statement signed by an auditor that trust holds,
// valid at now ± skew seconds, whose report names that auditor, and not a
// replay. A refused envelope changes neither the engine nor trust; the
// error (errors.Is against the sentinels) says which step refused it
// (docs/tiers.md).
func (e *TierEngine) RecordSigned(trust *TrustStore, envelope []byte, now uint64, skew uint32) error {
	return e.with(func(c capi.Tier_engine) error {
		return trust.h.use(func(p uintptr) error {
			return capi.Tier_record_signed(c, trust.ptr(p), envelope, now, uint(skew))
		})
	})
}

// RecordSignedMany is RecordSigned for many envelopes, the signature checks
// on threads threads (0 = one per CPU). It returns one status per envelope
// (0 = recorded; see StatusError), exactly as one call per envelope in input
// order would. The error is ErrCancelled when cancel (may be nil) was set.
func (e *TierEngine) RecordSignedMany(trust *TrustStore, envelopes [][]byte, now uint64, skew uint32,
	threads uint, cancel *Cancel) ([]int32, error) {
	statuses := make([]int32, len(envelopes))
	cp, done, err := cancelPtrLocked(cancel)
	if err != nil {
		return nil, err
	}
	defer done()
	err = e.with(func(c capi.Tier_engine) error {
		return trust.h.use(func(p uintptr) error {
			return capi.Tier_record_signed_many(c, trust.ptr(p), envelopes, now, uint(skew), threads, cp, statuses)
		})
	})
	return statuses, err
}

// SignCertificate returns the provider's Certificate signed with key as a
// tier-certificate statement (subject: the provider key; a random nonce),
// valid from issuedAt until expiresAt. Other auditors add their signatures
// with CosignCertificate.
func (e *TierEngine) SignCertificate(key *SigningKey, provider Key, issuedAt, expiresAt uint64) ([]byte, error) {
	var out []byte
	err := e.with(func(c capi.Tier_engine) error {
		return key.h.use(func(p uintptr) error {
			return capi.Tier_certificate_sign(c, key.ptr(p), provider[:], issuedAt, expiresAt, &out)
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CosignCertificate adds key's signature to another auditor's signed
// certificate, after checking that it verifies against trust at now ± skew
// and that its payload is byte for byte the certificate this engine
// computes (ErrCertMismatch otherwise; ErrExists if key already signed).
func (e *TierEngine) CosignCertificate(key *SigningKey, trust *TrustStore, envelope []byte, now uint64,
	skew uint32) ([]byte, error) {
	var out []byte
	err := e.with(func(c capi.Tier_engine) error {
		return key.h.use(func(kp uintptr) error {
			return trust.h.use(func(tp uintptr) error {
				return capi.Tier_certificate_cosign(c, key.ptr(kp), trust.ptr(tp), envelope, now, uint(skew), &out)
			})
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// VerifyTierCertificate verifies a signed tier certificate: signed by at
// least quorum distinct auditors that trust holds (ErrQuorumNotMet below),
// valid at now ± skew; no replay check (a certificate is a standing claim).
// It returns the certificate; check its Era and ParamsDigest against what
// you accept.
func VerifyTierCertificate(trust *TrustStore, envelope []byte, now uint64, skew, quorum uint32) (TierCert, error) {
	var t TierCert
	cc := capi.NewTier_cert()
	defer capi.DeleteTier_cert(cc)
	err := trust.h.use(func(p uintptr) error {
		return capi.Tier_certificate_verify(trust.ptr(p), envelope, now, uint(skew), uint(quorum), cc)
	})
	if err != nil {
		return t, err
	}
	return tierCertFromC(cc), nil
}
