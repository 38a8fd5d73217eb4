package gpurent

import "gpurent.dev/gpurent/capi"

// Limits and sizes from gpurent/wire.h.
const (
	NameMax        = 64 // bytes of a model name, node or request id, with the NUL
	RegionMax      = 32 // bytes of a region code, with the NUL
	KeyBytes       = 32
	DigestBytes    = 32
	NodeMaxGPUs    = 64
	OfferMaxNodes  = 1024
	RequestMaxGPUs = 1024
	RequestMaxList = 8
	MaxDurationS   = 31536000
	RecordMaxBytes = 16 << 20
)

// RecordType is the value under key 0 of every record.
type RecordType uint32

// Record types (append-only, as in wire.h).
const (
	RecordGPU          RecordType = 1
	RecordOffer        RecordType = 2
	RecordRequest      RecordType = 3
	RecordGPUReport    RecordType = 4
	RecordAuditReport  RecordType = 5
	RecordTierCert     RecordType = 6
	RecordMatchReceipt RecordType = 7
	RecordRevocation   RecordType = 8
	RecordEnvelope     RecordType = 9
)

// String is the record type's name ("offer"), "unknown" for others.
func (t RecordType) String() string { return capi.Record_type_name(uint(t)) }

// Interface is a GPU's interconnect form factor.
type Interface uint32

// Interfaces.
const (
	IfaceAny  Interface = 0 // in a request: either; in a GPU: unknown
	IfacePCIe Interface = 1
	IfaceSXM  Interface = 2
)

// String is the interface's name ("any", "pcie", "sxm"), "unknown" for others.
func (i Interface) String() string { return enumName(i, []string{"any", "pcie", "sxm"}) }

// GangScope says how a request's GPUs must be placed.
type GangScope uint32

// Gang scopes.
const (
	GangNode     GangScope = 0 // all GPUs on one node
	GangProvider GangScope = 1 // GangNodes nodes of one provider
	GangRegion   GangScope = 2 // GangNodes nodes in one region
)

// String is the scope's name ("node", "provider", "region"), "unknown" for others.
func (s GangScope) String() string { return enumName(s, []string{"node", "provider", "region"}) }

// Key is an Ed25519 public key; Digest a BLAKE2b-256 digest.
type (
	Key    [KeyBytes]byte
	Digest [DigestBytes]byte
)

// GPU is a GPU model as offered or probed (gpurent_gpu). Each field's tag
// `wire:"name,key"` gives the C member name and the map key on the wire.
// Zero in a throughput field means "not known".
type GPU struct {
	Model              string    `wire:"model,1"` // non-empty, < NameMax bytes
	UUID               [16]byte  `wire:"uuid,2"`
	PCIDomain          uint32    `wire:"pci_domain,3"`
	PCIBus             uint32    `wire:"pci_bus,4"`    // 0..255
	PCIDevice          uint32    `wire:"pci_device,5"` // 0..31
	CCMajor            uint32    `wire:"cc_major,6"`   // 1..99
	CCMinor            uint32    `wire:"cc_minor,7"`   // 0..9
	SMCount            uint32    `wire:"sm_count,8"`
	MemoryMiB          uint64    `wire:"memory_mib,9"`
	ClockMHz           uint32    `wire:"clock_mhz,10"`
	MemClockMHz        uint32    `wire:"mem_clock_mhz,11"`
	BusWidthBits       uint32    `wire:"bus_width_bits,12"`
	L2KiB              uint32    `wire:"l2_kib,13"`
	ECCEnabled         bool      `wire:"ecc_enabled,14"`
	Interface          Interface `wire:"interface,15"`
	FP32GFLOPS         uint64    `wire:"fp32_gflops,16"`
	FP16TensorGFLOPS   uint64    `wire:"fp16_tensor_gflops,17"`
	MemBwMBps          uint64    `wire:"mem_bw_mbps,18"`
	MeasuredFP32GFLOPS uint64    `wire:"measured_fp32_gflops,19"`
	MeasuredMemBwMBps  uint64    `wire:"measured_mem_bw_mbps,20"`
	CUDAVersion        uint32    `wire:"cuda_version,21"` // 12040 = 12.4
	// The product's PCI ids (0 = not known; a 0 is left out of the bytes).
	PCIVendorID          uint32 `wire:"pci_vendor_id,22"` // 0x10de NVIDIA
	PCIDeviceID          uint32 `wire:"pci_device_id,23"`
	PCISubsystemVendorID uint32 `wire:"pci_subsystem_vendor_id,24"`
	PCISubsystemDeviceID uint32 `wire:"pci_subsystem_device_id,25"`
}

// Node is one provider node of identical GPUs (gpurent_node).
type Node struct {
	NodeID               string `wire:"node_id,1"`
	GPU                  GPU    `wire:"gpu,2"`
	GPUCount             uint32 `wire:"gpu_count,3"` // 1..NodeMaxGPUs
	GPUFree              uint32 `wire:"gpu_free,4"`  // <= GPUCount
	Shared               bool   `wire:"shared,5"`    // community node renting GPU memory shares
	CPUMillicores        uint32 `wire:"cpu_millicores,6"`
	RAMMiB               uint64 `wire:"ram_mib,7"`
	DiskGiB              uint64 `wire:"disk_gib,8"`
	PriceMicroPerGPUHour uint64 `wire:"price_micro_per_gpu_hour,9"`
	ReportDigest         Digest `wire:"report_digest,10"` // zero = none
}

// Offer is a provider's offer: its terms and nodes (gpurent_offer).
type Offer struct {
	ProviderKey  Key    `wire:"provider_key,1"`
	Seq          uint64 `wire:"seq,2"`
	Region       string `wire:"region,3"`
	StakeMicro   uint64 `wire:"stake_micro,4"`
	MinDurationS uint32 `wire:"min_duration_s,5"`
	MaxDurationS uint32 `wire:"max_duration_s,6"` // 0 = no maximum
	Nodes        []Node `wire:"nodes,7"`          // 1..OfferMaxNodes
}

// Request is a deployment request (gpurent_request). The lists are sets:
// encoding sorts them, decoding returns them sorted.
type Request struct {
	RequestID               string    `wire:"request_id,1"`
	GPUCount                uint32    `wire:"gpu_count,2"`
	GangNodes               uint32    `wire:"gang_nodes,3"`
	GangScope               GangScope `wire:"gang_scope,4"`
	VRAMSharePct            uint32    `wire:"vram_share_pct,5"`
	MinVRAMMiB              uint64    `wire:"min_vram_mib,6"`
	MinCC                   uint32    `wire:"min_cc,7"` // x10, 86 = 8.6
	MinFP32GFLOPS           uint64    `wire:"min_fp32_gflops,8"`
	Interface               Interface `wire:"interface,9"`
	MinCUDAVersion          uint32    `wire:"min_cuda_version,10"`
	MaxPriceMicroPerGPUHour uint64    `wire:"max_price_micro_per_gpu_hour,11"` // 0 = no cap
	AllowedTiers            uint32    `wire:"allowed_tiers,12"`                // bit t = tier t
	DurationS               uint32    `wire:"duration_s,13"`
	VerifiedOnly            bool      `wire:"verified_only,14"` // nodes with a verified GPU report only
	CPUMillicores           uint32    `wire:"cpu_millicores,15"`
	RAMMiB                  uint64    `wire:"ram_mib,16"`
	DiskGiB                 uint64    `wire:"disk_gib,17"`
	SubmittedAt             uint64    `wire:"submitted_at,18"` // Unix seconds
	Models                  []string  `wire:"models,19"`
	Regions                 []string  `wire:"regions,20"`
	ExcludedRegions         []string  `wire:"excluded_regions,21"`
	Providers               []Key     `wire:"providers,22"`
	ExcludedProviders       []Key     `wire:"excluded_providers,23"`
	// Framework names a framework build ("torch 2.5+cu124", see
	// FrameworkFind); "" = none. Encoded (key 24) only when set.
	Framework string `wire:"framework,24"`
}

// NewRequest returns a request with the library's defaults (one GPU, one
// node, an hour).
func NewRequest() Request {
	c := capi.NewRequest()
	defer capi.DeleteRequest(c)
	capi.Request_init(c)
	return requestFromC(c)
}

// ---- GPU ----

func (g *GPU) toC(c capi.Gpu) {
	c.SetModel(g.Model)
	// Arrays are copied out of the struct first: cgo refuses a pointer into
	// Go memory that also holds Go pointers (the struct's strings).
	uuid := g.UUID
	c.SetUuid(uuid[:])
	c.SetPci_domain(uint(g.PCIDomain))
	c.SetPci_bus(uint(g.PCIBus))
	c.SetPci_device(uint(g.PCIDevice))
	c.SetCc_major(uint(g.CCMajor))
	c.SetCc_minor(uint(g.CCMinor))
	c.SetSm_count(uint(g.SMCount))
	c.SetMemory_mib(g.MemoryMiB)
	c.SetClock_mhz(uint(g.ClockMHz))
	c.SetMem_clock_mhz(uint(g.MemClockMHz))
	c.SetBus_width_bits(uint(g.BusWidthBits))
	c.SetL2_kib(uint(g.L2KiB))
	c.SetEcc_enabled(flag(g.ECCEnabled))
	c.SetIface(uint(g.Interface))
	c.SetFp32_gflops(g.FP32GFLOPS)
	c.SetFp16_tensor_gflops(g.FP16TensorGFLOPS)
	c.SetMem_bw_mbps(g.MemBwMBps)
	c.SetMeasured_fp32_gflops(g.MeasuredFP32GFLOPS)
	c.SetMeasured_mem_bw_mbps(g.MeasuredMemBwMBps)
	c.SetCuda_version(uint(g.CUDAVersion))
	c.SetPci_vendor_id(uint(g.PCIVendorID))
	c.SetPci_device_id(uint(g.PCIDeviceID))
	c.SetPci_subsystem_vendor_id(uint(g.PCISubsystemVendorID))
	c.SetPci_subsystem_device_id(uint(g.PCISubsystemDeviceID))
}

func gpuFromC(c capi.Gpu) GPU {
	g := GPU{
		Model:                c.GetModel(),
		PCIDomain:            uint32(c.GetPci_domain()),
		PCIBus:               uint32(c.GetPci_bus()),
		PCIDevice:            uint32(c.GetPci_device()),
		CCMajor:              uint32(c.GetCc_major()),
		CCMinor:              uint32(c.GetCc_minor()),
		SMCount:              uint32(c.GetSm_count()),
		MemoryMiB:            c.GetMemory_mib(),
		ClockMHz:             uint32(c.GetClock_mhz()),
		MemClockMHz:          uint32(c.GetMem_clock_mhz()),
		BusWidthBits:         uint32(c.GetBus_width_bits()),
		L2KiB:                uint32(c.GetL2_kib()),
		ECCEnabled:           c.GetEcc_enabled() != 0,
		Interface:            Interface(c.GetIface()),
		FP32GFLOPS:           c.GetFp32_gflops(),
		FP16TensorGFLOPS:     c.GetFp16_tensor_gflops(),
		MemBwMBps:            c.GetMem_bw_mbps(),
		MeasuredFP32GFLOPS:   c.GetMeasured_fp32_gflops(),
		MeasuredMemBwMBps:    c.GetMeasured_mem_bw_mbps(),
		CUDAVersion:          uint32(c.GetCuda_version()),
		PCIVendorID:          uint32(c.GetPci_vendor_id()),
		PCIDeviceID:          uint32(c.GetPci_device_id()),
		PCISubsystemVendorID: uint32(c.GetPci_subsystem_vendor_id()),
		PCISubsystemDeviceID: uint32(c.GetPci_subsystem_device_id()),
	}
	copy(g.UUID[:], c.GetUuid())
	return g
}

// withGPU runs f on a temporary C copy of g.
func (g GPU) withC(f func(capi.Gpu) error) error {
	c := capi.NewGpu()
	defer capi.DeleteGpu(c)
	g.toC(c)
	return f(c)
}

// Validate checks the record's fields; ErrInvalidField names the first bad one.
func (g GPU) Validate() error {
	return g.withC(capi.Gpu_validate)
}

// Encode validates and returns the canonical bytes.
func (g GPU) Encode() ([]byte, error) {
	return encodeRecord(g.withC, capi.Gpu_encode)
}

// DecodeGPU decodes and validates untrusted bytes.
func DecodeGPU(data []byte) (GPU, error) {
	return decodeRecord(data, capi.NewGpu, capi.DeleteGpu, capi.Gpu_decode, gpuFromC)
}

// ---- node and offer ----

func (n *Node) toC(c capi.Node) {
	c.SetNode_id(n.NodeID)
	n.GPU.toC(c.GetGpu())
	c.SetGpu_count(uint(n.GPUCount))
	c.SetGpu_free(uint(n.GPUFree))
	c.SetShared(flag(n.Shared))
	c.SetCpu_millicores(uint(n.CPUMillicores))
	c.SetRam_mib(n.RAMMiB)
	c.SetDisk_gib(n.DiskGiB)
	c.SetPrice_micro_per_gpu_hour(n.PriceMicroPerGPUHour)
	digest := n.ReportDigest
	c.SetReport_digest(digest[:])
}

func nodeFromC(c capi.Node) Node {
	n := Node{
		NodeID:               c.GetNode_id(),
		GPU:                  gpuFromC(c.GetGpu()),
		GPUCount:             uint32(c.GetGpu_count()),
		GPUFree:              uint32(c.GetGpu_free()),
		Shared:               c.GetShared() != 0,
		CPUMillicores:        uint32(c.GetCpu_millicores()),
		RAMMiB:               c.GetRam_mib(),
		DiskGiB:              c.GetDisk_gib(),
		PriceMicroPerGPUHour: c.GetPrice_micro_per_gpu_hour(),
	}
	copy(n.ReportDigest[:], c.GetReport_digest())
	return n
}

func (o Offer) withC(f func(capi.Offer) error) error {
	c := capi.NewOffer() // the binding's constructor: DeleteOffer frees the nodes too
	defer capi.DeleteOffer(c)
	capi.Offer_init(c)
	key := o.ProviderKey
	c.SetProvider_key(key[:])
	c.SetSeq(o.Seq)
	c.SetRegion(o.Region)
	c.SetStake_micro(o.StakeMicro)
	c.SetMin_duration_s(uint(o.MinDurationS))
	c.SetMax_duration_s(uint(o.MaxDurationS))
	if len(o.Nodes) > 0 {
		cn := capi.NewNode()
		defer capi.DeleteNode(cn)
		for i := range o.Nodes {
			o.Nodes[i].toC(cn)
			if err := capi.Offer_add_node(c, cn); err != nil {
				return err
			}
		}
	}
	return f(c)
}

func offerFromC(c capi.Offer) Offer {
	o := Offer{
		Seq:          c.GetSeq(),
		Region:       c.GetRegion(),
		StakeMicro:   c.GetStake_micro(),
		MinDurationS: uint32(c.GetMin_duration_s()),
		MaxDurationS: uint32(c.GetMax_duration_s()),
	}
	copy(o.ProviderKey[:], c.GetProvider_key())
	count := c.GetNode_count()
	o.Nodes = make([]Node, 0, count)
	for i := uint(0); i < count; i++ {
		o.Nodes = append(o.Nodes, nodeFromC(capi.Offer_node(c, i)))
	}
	return o
}

// Validate checks the offer (fields, node ids unique, durations).
func (o Offer) Validate() error {
	return o.withC(capi.Offer_validate)
}

// Encode validates and returns the canonical bytes.
func (o Offer) Encode() ([]byte, error) {
	return encodeRecord(o.withC, capi.Offer_encode)
}

// DecodeOffer decodes and validates untrusted bytes.
func DecodeOffer(data []byte) (Offer, error) {
	return decodeRecord(data, capi.NewOffer, capi.DeleteOffer, capi.Offer_decode, offerFromC) // DeleteOffer frees the nodes
}

// ---- request ----

func (q Request) withC(f func(capi.Request) error) error {
	c := capi.NewRequest()
	defer capi.DeleteRequest(c)
	capi.Request_init(c)
	c.SetRequest_id(q.RequestID)
	c.SetGpu_count(uint(q.GPUCount))
	c.SetGang_nodes(uint(q.GangNodes))
	c.SetGang_scope(uint(q.GangScope))
	c.SetVram_share_pct(uint(q.VRAMSharePct))
	c.SetMin_vram_mib(q.MinVRAMMiB)
	c.SetMin_cc(uint(q.MinCC))
	c.SetMin_fp32_gflops(q.MinFP32GFLOPS)
	c.SetIface(uint(q.Interface))
	c.SetMin_cuda_version(uint(q.MinCUDAVersion))
	c.SetMax_price_micro_per_gpu_hour(q.MaxPriceMicroPerGPUHour)
	c.SetAllowed_tiers(uint(q.AllowedTiers))
	c.SetDuration_s(uint(q.DurationS))
	c.SetVerified_only(flag(q.VerifiedOnly))
	c.SetCpu_millicores(uint(q.CPUMillicores))
	c.SetRam_mib(q.RAMMiB)
	c.SetDisk_gib(q.DiskGiB)
	c.SetSubmitted_at(q.SubmittedAt)
	c.SetFramework(q.Framework)
	for _, m := range q.Models {
		if err := capi.Request_add_model(c, m); err != nil {
			return err
		}
	}
	for _, r := range q.Regions {
		if err := capi.Request_allow_region(c, r); err != nil {
			return err
		}
	}
	for _, r := range q.ExcludedRegions {
		if err := capi.Request_exclude_region(c, r); err != nil {
			return err
		}
	}
	for i := range q.Providers {
		if err := capi.Request_allow_provider(c, q.Providers[i][:]); err != nil {
			return err
		}
	}
	for i := range q.ExcludedProviders {
		if err := capi.Request_exclude_provider(c, q.ExcludedProviders[i][:]); err != nil {
			return err
		}
	}
	return f(c)
}

func requestFromC(c capi.Request) Request {
	q := Request{
		RequestID:               c.GetRequest_id(),
		GPUCount:                uint32(c.GetGpu_count()),
		GangNodes:               uint32(c.GetGang_nodes()),
		GangScope:               GangScope(c.GetGang_scope()),
		VRAMSharePct:            uint32(c.GetVram_share_pct()),
		MinVRAMMiB:              c.GetMin_vram_mib(),
		MinCC:                   uint32(c.GetMin_cc()),
		MinFP32GFLOPS:           c.GetMin_fp32_gflops(),
		Interface:               Interface(c.GetIface()),
		MinCUDAVersion:          uint32(c.GetMin_cuda_version()),
		MaxPriceMicroPerGPUHour: c.GetMax_price_micro_per_gpu_hour(),
		AllowedTiers:            uint32(c.GetAllowed_tiers()),
		DurationS:               uint32(c.GetDuration_s()),
		VerifiedOnly:            c.GetVerified_only() != 0,
		CPUMillicores:           uint32(c.GetCpu_millicores()),
		RAMMiB:                  c.GetRam_mib(),
		DiskGiB:                 c.GetDisk_gib(),
		SubmittedAt:             c.GetSubmitted_at(),
		Framework:               c.GetFramework(),
	}
	for i := uint(0); i < c.GetModel_count(); i++ {
		q.Models = append(q.Models, c.Model_at(i))
	}
	for i := uint(0); i < c.GetRegion_count(); i++ {
		q.Regions = append(q.Regions, c.Region_at(i))
	}
	for i := uint(0); i < c.GetExcluded_region_count(); i++ {
		q.ExcludedRegions = append(q.ExcludedRegions, c.Excluded_region_at(i))
	}
	key := make([]byte, KeyBytes)
	for i := uint(0); i < c.GetProvider_count(); i++ {
		c.Provider_at(i, key)
		var k Key
		copy(k[:], key)
		q.Providers = append(q.Providers, k)
	}
	for i := uint(0); i < c.GetExcluded_provider_count(); i++ {
		c.Excluded_provider_at(i, key)
		var k Key
		copy(k[:], key)
		q.ExcludedProviders = append(q.ExcludedProviders, k)
	}
	return q
}

// Validate checks the request's fields and cross-field rules.
func (q Request) Validate() error {
	return q.withC(capi.Request_validate)
}

// Encode validates and returns the canonical bytes (lists sorted).
func (q Request) Encode() ([]byte, error) {
	return encodeRecord(q.withC, capi.Request_encode)
}

// DecodeRequest decodes and validates untrusted bytes.
func DecodeRequest(data []byte) (Request, error) {
	return decodeRecord(data, capi.NewRequest, capi.DeleteRequest, capi.Request_decode, requestFromC)
}

// ---- any record ----

// CheckCanonical checks that data is exactly one value in the canonical
// MessagePack subset.
func CheckCanonical(data []byte) error { return capi.Wire_check_canonical(data) }

// RecordTypeOf reads the record type (key 0) of an encoded record.
func RecordTypeOf(data []byte) (RecordType, error) {
	var t uint32
	if err := capi.Wire_record_type(data, &t); err != nil {
		return 0, err
	}
	return RecordType(t), nil
}
