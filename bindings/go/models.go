package gpurent

import (
	"gpurent.dev/gpurent/capi"
)

// NameKind says how a model name resolved (gpurent_name_kind).
type NameKind uint32

// Name kinds.
const (
	NameUnknown NameKind = 0 // not in the table: matched as an exact name
	NameID      NameKind = 1 // a canonical id
	NameDriver  NameKind = 2 // a name drivers and vendors print
	NameAlias   NameKind = 3 // a common alias
	NameFamily  NameKind = 4 // a family: every member matches
)

// String is the kind's name ("alias").
func (k NameKind) String() string { return capi.Name_kind_name(uint(k)) }

// PCIID is a PCI product id; zero subsystem ids match any subsystem.
type PCIID struct {
	Vendor, Device, SubsysVendor, SubsysDevice uint16
}

// Model is one entry of the canonical GPU model table (gpurent_model); a
// copy of the library's static data. Zero figures are not known.
type Model struct {
	ID            string
	Family        string
	Vendor        string
	Interface     Interface
	CCMajor       uint32
	CCMinor       uint32
	SMCount       uint32
	BoostClockMHz uint32
	BusWidthBits  uint32
	MemoryMiB     uint64
	MemBwMBps     uint64
	FP32GFLOPS    uint64
	PCI           []PCIID
	Names         []string // what drivers and vendors print
	Aliases       []string
	Source        string
}

func modelFromC(c capi.Model) (Model, bool) {
	if c == nil || c.Swigcptr() == 0 {
		return Model{}, false
	}
	m := Model{
		ID: c.GetId(), Family: c.GetFamily(), Vendor: c.GetVendor(), Interface: Interface(c.GetIface()),
		CCMajor: uint32(c.GetCc_major()), CCMinor: uint32(c.GetCc_minor()), SMCount: uint32(c.GetSm_count()),
		BoostClockMHz: uint32(c.GetBoost_clock_mhz()), BusWidthBits: uint32(c.GetBus_width_bits()),
		MemoryMiB: c.GetMemory_mib(), MemBwMBps: c.GetMem_bw_mbps(), FP32GFLOPS: c.GetFp32_gflops(),
		Source: c.GetSource(),
	}
	for i := uint(0); i < c.GetPci_count(); i++ {
		p := capi.Model_pci_at(c, i)
		m.PCI = append(m.PCI, PCIID{p.GetVendor(), p.GetDevice(), p.GetSubsys_vendor(), p.GetSubsys_device()})
	}
	for i := uint(0); i < c.GetName_count(); i++ {
		m.Names = append(m.Names, capi.Model_name_at(c, i))
	}
	for i := uint(0); i < c.GetAlias_count(); i++ {
		m.Aliases = append(m.Aliases, capi.Model_alias_at(c, i))
	}
	return m, true
}

// ModelTableVersion is the model table's version.
func ModelTableVersion() uint32 { return uint32(capi.Model_table_version()) }

// ModelTableDigest is BLAKE2b-256 of the model table's canonical encoding.
func ModelTableDigest() (Digest, error) {
	var d Digest
	buf := make([]byte, DigestBytes)
	err := capi.Model_table_digest(buf)
	copy(d[:], buf)
	return d, err
}

// Models lists every entry in table order.
func Models() []Model {
	var out []Model
	for i := uint(0); i < capi.Model_count(); i++ {
		m, _ := modelFromC(capi.Model_at(i))
		out = append(out, m)
	}
	return out
}

// ModelFind is the one model name names (a canonical id, driver name, alias
// or one-member family); false when none.
func ModelFind(name string) (Model, bool) { return modelFromC(capi.Model_find(name)) }

// ModelLookup says how name resolves.
func ModelLookup(name string) NameKind { return NameKind(capi.Model_lookup(name)) }

// ModelFamily lists the members of the family name (empty when it names none).
func ModelFamily(name string) []Model {
	var out []Model
	for i := uint(0); i < capi.Model_family_size(name); i++ {
		m, _ := modelFromC(capi.Model_family_member(name, i))
		out = append(out, m)
	}
	return out
}

// ModelFindPCI is the entry with this PCI id; false when none or several match.
func ModelFindPCI(vendor, device, subsysVendor, subsysDevice uint16) (Model, bool) {
	return modelFromC(capi.Model_find_pci(uint(vendor), uint(device), uint(subsysVendor), uint(subsysDevice)))
}

// Framework is one framework build (gpurent_framework): the CUDA version a
// node's driver must support and the GPU code it ships.
type Framework struct {
	ID          string
	Framework   string
	Version     string
	CUDAVersion uint32   // 12040 = CUDA 12.4
	Archs       []uint32 // cubins, compute capability x10
	PTXCC       uint32   // PTX for this capability x10; 0 = none
	Aliases     []string
	Source      string
}

func frameworkFromC(c capi.Framework) (Framework, bool) {
	if c == nil || c.Swigcptr() == 0 {
		return Framework{}, false
	}
	f := Framework{ID: c.GetId(), Framework: c.GetFramework(), Version: c.GetVersion(),
		CUDAVersion: uint32(c.GetCuda_version()), PTXCC: uint32(c.GetPtx_cc()), Source: c.GetSource()}
	for i := uint(0); i < c.GetArch_count(); i++ {
		f.Archs = append(f.Archs, uint32(capi.Framework_arch_at(c, i)))
	}
	for i := uint(0); i < c.GetAlias_count(); i++ {
		f.Aliases = append(f.Aliases, capi.Framework_alias_at(c, i))
	}
	return f, true
}

// SupportsCC says whether the build ships code that runs on this compute capability.
func (f Framework) SupportsCC(ccMajor, ccMinor uint32) bool {
	return capi.Framework_supports_cc(capi.Framework_find(f.ID), uint(ccMajor), uint(ccMinor)) != 0
}

// FrameworkTableVersion is the framework table's version.
func FrameworkTableVersion() uint32 { return uint32(capi.Framework_table_version()) }

// FrameworkTableDigest is BLAKE2b-256 of the framework table's canonical encoding.
func FrameworkTableDigest() (Digest, error) {
	var d Digest
	buf := make([]byte, DigestBytes)
	err := capi.Framework_table_digest(buf)
	copy(d[:], buf)
	return d, err
}

// Frameworks lists every build in table order.
func Frameworks() []Framework {
	var out []Framework
	for i := uint(0); i < capi.Framework_count(); i++ {
		f, _ := frameworkFromC(capi.Framework_at(i))
		out = append(out, f)
	}
	return out
}

// FrameworkFind is the build name names ("torch 2.5+cu124"); false when none.
func FrameworkFind(name string) (Framework, bool) { return frameworkFromC(capi.Framework_find(name)) }
