package gpurent

import (
	"errors"
	"runtime"

	"gpurent.dev/gpurent/capi"
)

// Matchmaking: a Market of offers and requests, the best placements for one
// request, batch matching into a Receipt, explanations. Operators holding
// the same inputs and seed compute byte-identical receipts (docs/match.md).

// Preset names a set of ranking weights.
type Preset int

// Presets (gpurent_match_preset).
const (
	PresetBalanced    Preset = 0
	PresetCheapest    Preset = 1
	PresetPerformance Preset = 2
	PresetTrusted     Preset = 3
)

// String is the preset's name ("balanced", "cheapest", "performance",
// "trusted"), "unknown" for others.
func (p Preset) String() string {
	return enumName(p, []string{"balanced", "cheapest", "performance", "trusted"})
}

// Constraint is one constraint a node can fail, in the order they are checked.
type Constraint int

// Constraints (gpurent_match_constraint).
const (
	MCKind Constraint = iota
	MCModel
	MCVRAM
	MCCC
	MCFP32
	MCInterface
	MCCUDA
	MCPrice
	MCTier
	MCVerified
	MCRegion
	MCProvider
	MCDuration
	MCCPU
	MCRAM
	MCDisk
	MCGPUs
	MCBusy
	MCGang
	MCCount // number of constraints
)

// MatchMaxK is the largest k of Market.Best.
const MatchMaxK = 64

// String is the constraint's name ("vram"), "unknown" for others.
func (c Constraint) String() string { return capi.Match_constraint_name(int(c)) }

// MatchOptions is the matching policy (gpurent_match_options). Weights are
// 0..1000; a zero cap or threshold means the documented default.
type MatchOptions struct {
	WPrice, WPerfPrice, WTier, WScore, WStake, WLocality, WFit uint32
	PriceRefMicro                                              uint64
	PerfPriceCap                                               uint64
	StakeCapMicro                                              uint64
	AgingPerHour                                               uint64
	StrandMinGPUs                                              uint32
	Threads                                                    uint32
}

func matchOptionsFromC(c capi.Match_options) MatchOptions {
	return MatchOptions{
		WPrice: uint32(c.GetW_price()), WPerfPrice: uint32(c.GetW_perf_price()), WTier: uint32(c.GetW_tier()),
		WScore: uint32(c.GetW_score()), WStake: uint32(c.GetW_stake()), WLocality: uint32(c.GetW_locality()),
		WFit: uint32(c.GetW_fit()), PriceRefMicro: c.GetPrice_ref_micro(), PerfPriceCap: c.GetPerf_price_cap(),
		StakeCapMicro: c.GetStake_cap_micro(), AgingPerHour: c.GetAging_per_hour(),
		StrandMinGPUs: uint32(c.GetStrand_min_gpus()), Threads: uint32(c.GetThreads()),
	}
}

func (o MatchOptions) withC(f func(capi.Match_options) error) error {
	c := capi.NewMatch_options()
	defer capi.DeleteMatch_options(c)
	if err := capi.Match_options_init(c, uint(capi.MATCH_OPTIONS_VERSION)); err != nil {
		return err
	}
	c.SetW_price(uint(o.WPrice))
	c.SetW_perf_price(uint(o.WPerfPrice))
	c.SetW_tier(uint(o.WTier))
	c.SetW_score(uint(o.WScore))
	c.SetW_stake(uint(o.WStake))
	c.SetW_locality(uint(o.WLocality))
	c.SetW_fit(uint(o.WFit))
	c.SetPrice_ref_micro(o.PriceRefMicro)
	c.SetPerf_price_cap(o.PerfPriceCap)
	c.SetStake_cap_micro(o.StakeCapMicro)
	c.SetAging_per_hour(o.AgingPerHour)
	c.SetStrand_min_gpus(uint(o.StrandMinGPUs))
	c.SetThreads(uint(o.Threads))
	return f(c)
}

// DefaultMatchOptions is the balanced preset with every default.
func DefaultMatchOptions() MatchOptions {
	o, _ := MatchOptionsPreset(PresetBalanced)
	return o
}

// MatchOptionsPreset is the defaults with the weights of a named preset.
func MatchOptionsPreset(p Preset) (MatchOptions, error) {
	c := capi.NewMatch_options()
	defer capi.DeleteMatch_options(c)
	if err := capi.Match_options_init(c, uint(capi.MATCH_OPTIONS_VERSION)); err != nil {
		return MatchOptions{}, err
	}
	if err := capi.Match_options_preset(c, int(p)); err != nil {
		return MatchOptions{}, err
	}
	return matchOptionsFromC(c), nil
}

// Validate checks every field's range; ErrInvalidArg names the field.
func (o MatchOptions) Validate() error {
	return o.withC(capi.Match_options_validate)
}

// Digest is the policy digest that goes into every receipt.
func (o MatchOptions) Digest() (Digest, error) {
	var d Digest
	buf := make([]byte, DigestBytes)
	err := o.withC(func(c capi.Match_options) error { return capi.Match_options_digest(c, buf) })
	copy(d[:], buf)
	return d, err
}

// Breakdown is a candidate's score, component by component.
type Breakdown struct {
	Price, PerfPrice, Tier, Score, Stake, Locality, Fit, Total, TieHash uint64
}

// Candidate is one candidate placement (for a gang: its first node, the
// gang's breakdown).
type Candidate struct {
	ProviderKey          Key
	NodeID               string
	Region               string
	Model                string
	NodeCount            uint32
	ProviderCount        uint32
	PriceMicroPerGPUHour uint64
	Breakdown            Breakdown
}

func candidateFromC(c capi.Match_candidate) Candidate {
	b := c.GetBreakdown()
	out := Candidate{
		NodeID: c.GetNode_id(), Region: c.GetRegion(), Model: c.GetModel(),
		NodeCount: uint32(c.GetNode_count()), ProviderCount: uint32(c.GetProvider_count()),
		PriceMicroPerGPUHour: c.GetPrice_micro_per_gpu_hour(),
		Breakdown: Breakdown{Price: b.GetPrice(), PerfPrice: b.GetPerf_price(), Tier: b.GetTier(),
			Score: b.GetScore(), Stake: b.GetStake(), Locality: b.GetLocality(), Fit: b.GetFit(),
			Total: b.GetTotal(), TieHash: b.GetTie_hash()},
	}
	copy(out.ProviderKey[:], c.GetProvider_key())
	return out
}

// Miss is a node that failed few constraints (FailedMask bit c = Constraint c).
type Miss struct {
	ProviderKey Key
	NodeID      string
	FailedMask  uint32
	FailedCount uint32
	Total       uint64
}

// Relaxation is a change to one constraint that makes the request feasible.
type Relaxation struct {
	Constraint     Constraint
	From, To       uint64
	ChangePct      uint32
	Item           string // the region/model/tier to add, when a list is relaxed
	NodesAdded     uint32
	ProvidersAdded uint32
}

// Explanation is what the market makes of a request. Eliminated[c] counts
// the nodes failing Constraint c; Text is the library's rendering.
type Explanation struct {
	RequestID         string
	NodesTotal        uint32
	ProvidersTotal    uint32
	NodesFeasible     uint32
	ProvidersFeasible uint32
	Matched           bool
	Eliminated        [MCCount]uint32
	EliminatedOnly    [MCCount]uint32
	Misses            []Miss
	Relaxations       []Relaxation
	Candidates        []Candidate // winner and runner-up when it matches
	Text              string
	// What the model and framework tables made of the request's names.
	ModelTableVersion  uint32
	UnknownModels      []string // matched as exact names
	Framework          string   // canonical id of the request's build; "" = none
	FrameworkCUDA      uint32   // the CUDA version it needs
	FrameworkCUDANodes uint32   // nodes of the requested models whose driver supports less
	FrameworkCUDABest  uint32   // the highest CUDA version among them
	FrameworkCCNodes   uint32   // nodes of the requested models it ships no code for
	FrameworkCCLowest  uint32   // the lowest compute capability x10 among them
	FrameworkAlt       string   // a build of the same release for FrameworkCUDABest; "" = none
}

func explanationFromC(c capi.Match_explain) (Explanation, error) {
	e := Explanation{
		RequestID: c.GetRequest_id(), NodesTotal: uint32(c.GetNodes_total()),
		ProvidersTotal: uint32(c.GetProviders_total()), NodesFeasible: uint32(c.GetNodes_feasible()),
		ProvidersFeasible: uint32(c.GetProviders_feasible()), Matched: c.GetMatched() != 0,
		ModelTableVersion: uint32(c.GetModel_table_version()), Framework: c.GetFramework(),
		FrameworkCUDA: uint32(c.GetFramework_cuda()), FrameworkCUDANodes: uint32(c.GetFramework_cuda_nodes()),
		FrameworkCUDABest: uint32(c.GetFramework_cuda_best()), FrameworkCCNodes: uint32(c.GetFramework_cc_nodes()),
		FrameworkCCLowest: uint32(c.GetFramework_cc_lowest()), FrameworkAlt: c.GetFramework_alt(),
	}
	for i := uint(0); i < c.GetUnknown_model_count(); i++ {
		e.UnknownModels = append(e.UnknownModels, c.Unknown_model_at(i))
	}
	for i := range e.Eliminated {
		e.Eliminated[i] = uint32(c.Eliminated_at(uint(i)))
		e.EliminatedOnly[i] = uint32(c.Eliminated_only_at(uint(i)))
	}
	for i := uint(0); i < c.GetMiss_count(); i++ {
		m := c.Miss_at(i)
		x := Miss{NodeID: m.GetNode_id(), FailedMask: uint32(m.GetFailed_mask()),
			FailedCount: uint32(m.GetFailed_count()), Total: m.GetTotal()}
		copy(x.ProviderKey[:], m.GetProvider_key())
		e.Misses = append(e.Misses, x)
	}
	for i := uint(0); i < c.GetRelax_count(); i++ {
		r := c.Relax_at(i)
		e.Relaxations = append(e.Relaxations, Relaxation{Constraint: Constraint(r.GetConstraint()),
			From: r.GetFrom_value(), To: r.GetTo_value(), ChangePct: uint32(r.GetChange_pct()), Item: r.GetItem(),
			NodesAdded: uint32(r.GetNodes_added()), ProvidersAdded: uint32(r.GetProviders_added())})
	}
	for i := uint(0); i < c.GetCandidate_count(); i++ {
		e.Candidates = append(e.Candidates, candidateFromC(c.Candidate_at(i)))
	}
	var text []byte
	if err := capi.Match_explain_text(c, &text); err != nil {
		return e, err
	}
	e.Text = string(text)
	return e, nil
}

// MarketStats holds the counts and memory of a market.
type MarketStats struct {
	Providers, Nodes, Requests, Leases  uint32
	GPUsTotal, GPUsFree                 uint64
	NodeBytes, RequestBytes, OtherBytes uint64
}

// MarketDigests are the market's input digests as they go into a receipt.
type MarketDigests struct {
	Offers, Requests, Policy Digest
}

// Placement is one node's part of an assignment.
type Placement struct {
	ProviderKey          Key    `wire:"provider_key,1"`
	NodeID               string `wire:"node_id,2"`
	GPUs                 uint32 `wire:"gpus,3"`
	SharePct             uint32 `wire:"share_pct,4"`
	GPUIndex             uint32 `wire:"gpu_index,5"`
	PriceMicroPerGPUHour uint64 `wire:"price_micro_per_gpu_hour,6"`
}

// Assignment is one matched request and its placements.
type Assignment struct {
	RequestID  string      `wire:"request_id,1"`
	Value      uint64      `wire:"value,2"`
	Placements []Placement `wire:"placements,3"`
}

// ReceiptFields are a receipt's contents as plain Go values.
type ReceiptFields struct {
	Seed           Digest       `wire:"seed,1"`
	PolicyDigest   Digest       `wire:"policy_digest,2"`
	OffersDigest   Digest       `wire:"offers_digest,3"`
	RequestsDigest Digest       `wire:"requests_digest,4"`
	MatchedAt      uint64       `wire:"matched_at,5"`
	TotalValue     uint64       `wire:"total_value,6"`
	RequestCount   uint32       `wire:"request_count,7"`
	Assignments    []Assignment `wire:"assignments,8"`
}

// Receipt is the result of a batch match, held as the C record: Encode,
// Digest and Market.Apply cost no conversion; Fields converts. Close it when
// done (a finalizer frees a forgotten one).
type Receipt struct{ h handle }

func newReceipt() *Receipt {
	r := &Receipt{h: handle{p: capi.NewMatch_receipt().Swigcptr(), what: "receipt"}}
	runtime.SetFinalizer(r, (*Receipt).Close)
	return r
}

// fresh is the C record of a receipt no other goroutine can see yet (being
// built by NewReceipt, DecodeReceipt or Market.Match), without the guard.
func (r *Receipt) fresh() capi.Match_receipt { return capi.SwigcptrMatch_receipt(r.h.p) }

// Close frees the receipt once no call is using it. Closing twice is harmless.
func (r *Receipt) Close() error {
	// DeleteMatch_receipt clears the arrays too.
	r.h.close(func(p uintptr) { capi.DeleteMatch_receipt(capi.SwigcptrMatch_receipt(p)) })
	runtime.SetFinalizer(r, nil)
	return nil
}

func (r *Receipt) with(f func(capi.Match_receipt) error) error {
	return r.h.useSerial(func(p uintptr) error { return f(capi.SwigcptrMatch_receipt(p)) })
}

// Len is the number of assignments.
func (r *Receipt) Len() int {
	n := 0
	_ = r.with(func(c capi.Match_receipt) error { n = int(c.GetAssignment_count()); return nil })
	return n
}

// Fields converts the receipt to plain Go values.
func (r *Receipt) Fields() (ReceiptFields, error) {
	var f ReceiptFields
	err := r.with(func(c capi.Match_receipt) error {
		copy(f.Seed[:], c.GetSeed())
		copy(f.PolicyDigest[:], c.GetPolicy_digest())
		copy(f.OffersDigest[:], c.GetOffers_digest())
		copy(f.RequestsDigest[:], c.GetRequests_digest())
		f.MatchedAt, f.TotalValue, f.RequestCount = c.GetMatched_at(), c.GetTotal_value(), uint32(c.GetRequest_count())
		n := c.GetAssignment_count()
		f.Assignments = make([]Assignment, 0, n)
		for i := uint(0); i < n; i++ {
			a := capi.Match_receipt_assignment(c, i)
			x := Assignment{RequestID: a.GetRequest_id(), Value: a.GetValue()}
			first, np := a.GetFirst_placement(), a.GetPlacement_count()
			for j := uint(0); j < np; j++ {
				p := capi.Match_receipt_placement(c, first+j)
				y := Placement{NodeID: p.GetNode_id(), GPUs: uint32(p.GetGpus()), SharePct: uint32(p.GetShare_pct()),
					GPUIndex: uint32(p.GetGpu_index()), PriceMicroPerGPUHour: p.GetPrice_micro_per_gpu_hour()}
				copy(y.ProviderKey[:], p.GetProvider_key())
				x.Placements = append(x.Placements, y)
			}
			f.Assignments = append(f.Assignments, x)
		}
		return nil
	})
	return f, err
}

// NewReceipt builds a receipt from its fields (not validated here: Encode
// and Validate check it).
func NewReceipt(f ReceiptFields) (*Receipt, error) {
	np := 0
	for _, a := range f.Assignments {
		np += len(a.Placements)
	}
	r := newReceipt()
	c := r.fresh()
	if c.Reserve(uint(len(f.Assignments)), uint(np)) != 0 {
		r.Close()
		return nil, ErrLimit
	}
	seed, pol, off, req := f.Seed, f.PolicyDigest, f.OffersDigest, f.RequestsDigest
	c.SetSeed(seed[:])
	c.SetPolicy_digest(pol[:])
	c.SetOffers_digest(off[:])
	c.SetRequests_digest(req[:])
	c.SetMatched_at(f.MatchedAt)
	c.SetTotal_value(f.TotalValue)
	c.SetRequest_count(uint(f.RequestCount))
	k := uint(0)
	for i, a := range f.Assignments {
		ca := c.Assignment_ref(uint(i))
		ca.SetRequest_id(a.RequestID)
		ca.SetValue(a.Value)
		ca.SetFirst_placement(k)
		ca.SetPlacement_count(uint(len(a.Placements)))
		for _, p := range a.Placements {
			cp := c.Placement_ref(k)
			key := p.ProviderKey
			cp.SetProvider_key(key[:])
			cp.SetNode_id(p.NodeID)
			cp.SetGpus(uint(p.GPUs))
			cp.SetShare_pct(uint(p.SharePct))
			cp.SetGpu_index(uint(p.GPUIndex))
			cp.SetPrice_micro_per_gpu_hour(p.PriceMicroPerGPUHour)
			k++
		}
	}
	return r, nil
}

// DecodeReceipt decodes and validates untrusted bytes.
func DecodeReceipt(data []byte) (*Receipt, error) {
	r := newReceipt()
	capi.Match_receipt_init(r.fresh())
	if err := capi.Match_receipt_decode(data, r.fresh()); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Validate checks ranges, order, placement ranges and the total.
func (r *Receipt) Validate() error {
	return r.with(capi.Match_receipt_validate)
}

// Encode returns the canonical bytes (validated first).
func (r *Receipt) Encode() ([]byte, error) {
	return encodeRecord(r.with, capi.Match_receipt_encode)
}

// Digest is the BLAKE2b-256 of the canonical encoding.
func (r *Receipt) Digest() (Digest, error) {
	var d Digest
	buf := make([]byte, DigestBytes)
	err := r.with(func(c capi.Match_receipt) error { return capi.Match_receipt_digest(c, buf) })
	copy(d[:], buf)
	return d, err
}

// Clear releases the assignments now (the receipt becomes empty).
func (r *Receipt) Clear() {
	_ = r.with(func(c capi.Match_receipt) error { capi.Match_receipt_clear(c); return nil })
}

// Market holds offers, their indexed nodes, pending requests and leases.
// Calls on one Market are serialized by the binding. Close it when done; a
// finalizer frees a forgotten one.
type Market struct{ h handle }

// NewMarket creates an empty market with a policy (nil = defaults) and a
// seed (nil = 32 zero bytes).
func NewMarket(opts *MatchOptions, seed *Digest) (*Market, error) {
	var s Digest
	if seed != nil {
		s = *seed
	}
	var p uintptr
	var err error
	if opts == nil {
		err = capi.Market_new(&p, capi.SwigcptrMatch_options(0), s[:])
	} else {
		err = opts.withC(func(c capi.Match_options) error { return capi.Market_new(&p, c, s[:]) })
	}
	if err != nil {
		return nil, err
	}
	m := &Market{h: handle{p: p, what: "market"}}
	runtime.SetFinalizer(m, (*Market).Close)
	return m, nil
}

// Close frees the market. Closing twice is harmless.
func (m *Market) Close() error {
	m.h.close(func(p uintptr) { capi.Market_free(capi.SwigcptrMarket(p)) })
	runtime.SetFinalizer(m, nil)
	return nil
}

func (m *Market) with(f func(capi.Market) error) error {
	return m.h.useSerial(func(p uintptr) error { return f(capi.SwigcptrMarket(p)) })
}

// SetSeed replaces the tie-breaking seed.
func (m *Market) SetSeed(seed Digest) error {
	return m.with(func(c capi.Market) error { return capi.Market_set_seed(c, seed[:]) })
}

// SetOptions replaces the policy (every node is re-scored).
func (m *Market) SetOptions(o MatchOptions) error {
	return m.with(func(c capi.Market) error {
		return o.withC(func(co capi.Match_options) error { return capi.Market_set_options(c, co) })
	})
}

// PutOffer adds a provider's offer or replaces its previous one (higher Seq).
func (m *Market) PutOffer(o Offer) error {
	return m.with(func(c capi.Market) error {
		return o.withC(func(co capi.Offer) error { return capi.Market_put_offer(c, co) })
	})
}

// RemoveOffer removes a provider and its nodes (ErrUnknownOffer if absent).
func (m *Market) RemoveOffer(provider Key) error {
	return m.with(func(c capi.Market) error { return capi.Market_remove_offer(c, provider[:]) })
}

// SetTrust sets a provider's tier (1 best .. 7, 0 unknown) and score (ppm).
func (m *Market) SetTrust(provider Key, tier, scorePPM uint32) error {
	return m.with(func(c capi.Market) error {
		return capi.Market_set_trust(c, provider[:], uint(tier), uint(scorePPM))
	})
}

// SetVerified marks whether a node's GPU report was verified.
func (m *Market) SetVerified(provider Key, nodeID string, verified bool) error {
	v := 0
	if verified {
		v = 1
	}
	return m.with(func(c capi.Market) error { return capi.Market_set_verified(c, provider[:], nodeID, v) })
}

// GPU holding bits (GPUOwner.How).
const (
	GPUHeldOffer  = 1 // the node's offer lists the GPU's UUID
	GPUHeldReport = 2 // the node's verified GPU report lists it
)

// GPUOwner is the node holding a GPU (one GPU, one place).
type GPUOwner struct {
	ProviderKey Key
	NodeID      string
	How         uint32 // GPUHeld* bits
}

// GPUOwner returns the node holding the GPU uuid; found is false when no
// node does (an all-zero UUID is ErrInvalidArg).
func (m *Market) GPUOwner(uuid [16]byte) (owner GPUOwner, found bool, err error) {
	err = m.with(func(c capi.Market) error {
		co := capi.NewGpu_owner()
		defer capi.DeleteGpu_owner(co)
		if e := capi.Market_gpu_owner(c, uuid[:], co); e != nil {
			if errors.Is(e, ErrNotFound) {
				return nil
			}
			return e
		}
		found = true
		copy(owner.ProviderKey[:], co.GetProvider_key())
		owner.NodeID = co.GetNode_id()
		owner.How = uint32(co.GetHow())
		return nil
	})
	return owner, found, err
}

// VerifyReport marks a node verified by its GPU report (whose signature the
// caller verified) and binds the node's GPUs to the report's UUIDs:
// ErrInvalidArg when it is not the report the node names, ErrGPUConflict
// when a UUID of it is held elsewhere or the node offers one it does not list.
func (m *Market) VerifyReport(provider Key, nodeID string, r GPUReport) error {
	return m.with(func(c capi.Market) error {
		return r.withC(func(cr capi.Gpu_report) error {
			return capi.Market_verify_report(c, provider[:], nodeID, cr)
		})
	})
}

// AddRequest adds a pending request (ErrExists if its id is pending or leased).
func (m *Market) AddRequest(q Request) error {
	return m.with(func(c capi.Market) error {
		return q.withC(func(cq capi.Request) error { return capi.Market_add_request(c, cq) })
	})
}

// RemoveRequest removes a pending request (ErrUnknownRequest if not pending).
func (m *Market) RemoveRequest(id string) error {
	return m.with(func(c capi.Market) error { return capi.Market_remove_request(c, id) })
}

// EndLease ends the lease a receipt created: its GPUs return.
func (m *Market) EndLease(id string) error {
	return m.with(func(c capi.Market) error { return capi.Market_end_lease(c, id) })
}

// Stats returns the counts and memory of the market.
func (m *Market) Stats() (MarketStats, error) {
	var s MarketStats
	err := m.with(func(c capi.Market) error {
		cs := capi.NewMarket_stats()
		defer capi.DeleteMarket_stats(cs)
		if err := capi.Market_stats_get(c, cs); err != nil {
			return err
		}
		s = MarketStats{Providers: uint32(cs.GetProviders()), Nodes: uint32(cs.GetNodes()),
			Requests: uint32(cs.GetRequests()), Leases: uint32(cs.GetLeases()), GPUsTotal: cs.GetGpus_total(),
			GPUsFree: cs.GetGpus_free(), NodeBytes: cs.GetNode_bytes(), RequestBytes: cs.GetRequest_bytes(),
			OtherBytes: cs.GetOther_bytes()}
		return nil
	})
	return s, err
}

// Digests returns the digests of the offers, pending requests and policy.
func (m *Market) Digests() (MarketDigests, error) {
	var d MarketDigests
	o, q, p := make([]byte, DigestBytes), make([]byte, DigestBytes), make([]byte, DigestBytes)
	err := m.with(func(c capi.Market) error { return capi.Market_digests(c, o, q, p) })
	copy(d.Offers[:], o)
	copy(d.Requests[:], q)
	copy(d.Policy[:], p)
	return d, err
}

// Best returns the best k (1..MatchMaxK) placements for q, best first
// (empty when nothing is feasible). q need not be pending.
func (m *Market) Best(q Request, k int) ([]Candidate, error) {
	n := k
	if n < 1 {
		n = 1
	} else if n > MatchMaxK {
		n = MatchMaxK
	}
	if k < 0 {
		k = 0 // refused by the library, as 0 is
	}
	arr := capi.NewMatch_candidate_array(n)
	defer capi.DeleteMatch_candidate_array(arr)
	var count uint32
	err := m.with(func(c capi.Market) error {
		return q.withC(func(cq capi.Request) error { return capi.Market_best(c, cq, uint(k), arr.Cast(), &count) })
	})
	if err != nil {
		return nil, err
	}
	out := make([]Candidate, 0, count)
	for i := uint32(0); i < count; i++ {
		out = append(out, candidateFromC(arr.Ref(int64(i))))
	}
	return out, nil
}

// Match assigns the pending requests to the free capacity at clock now
// (Unix seconds). The market is unchanged: Apply the receipt. cancel may be nil.
func (m *Market) Match(now uint64, cancel *Cancel) (*Receipt, error) {
	cp, done, err := cancelPtrLocked(cancel)
	if err != nil {
		return nil, err
	}
	defer done()
	r := newReceipt()
	err = m.with(func(c capi.Market) error { return capi.Market_match(c, now, cp, r.fresh()) })
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Apply applies a receipt computed on this very state (ErrInvalidArg otherwise).
func (m *Market) Apply(r *Receipt) error {
	return m.with(func(c capi.Market) error {
		return r.with(func(cr capi.Match_receipt) error { return capi.Market_apply(c, cr) })
	})
}

// Explain explains q against the free capacity (a full scan).
func (m *Market) Explain(q Request) (Explanation, error) {
	var e Explanation
	err := m.with(func(c capi.Market) error {
		ce := capi.NewMatch_explain()
		defer capi.DeleteMatch_explain(ce)
		if err := q.withC(func(cq capi.Request) error { return capi.Market_explain(c, cq, ce) }); err != nil {
			return err
		}
		var err error
		e, err = explanationFromC(ce)
		return err
	})
	return e, err
}
