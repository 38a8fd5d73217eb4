package gpurent

import (
	"fmt"

	"gpurent.dev/gpurent/capi"
)

// Active check bits (GPUReport.Checks, ProbeOptions.Checks).
const (
	CheckD2D uint32 = 1
	CheckH2D uint32 = 2
	CheckFMA uint32 = 4
	CheckAll uint32 = 7

	GPUReportMaxDevices = 64
)

// PVState says what a probed field holds.
type PVState uint32

// Probed field states.
const (
	PVOK          PVState = 0
	PVUnsupported PVState = 1
	PVError       PVState = 2
	PVSkipped     PVState = 3
)

// String is the state's name ("ok").
func (s PVState) String() string { return capi.Pv_state_name(uint(s)) }

// Verdict compares an active measurement with its derived peak.
type Verdict uint32

// Verdicts.
const (
	VerdictNone        Verdict = 0
	VerdictPlausible   Verdict = 1
	VerdictLow         Verdict = 2
	VerdictImplausible Verdict = 3
	VerdictWrongOutput Verdict = 4
)

// String is the verdict's name ("plausible").
func (v Verdict) String() string { return capi.Verdict_name(uint(v)) }

// ProbeVerdict is the verdict for a correct measurement at ratioPPM of its peak.
func ProbeVerdict(ratioPPM uint32) Verdict { return Verdict(capi.Probe_verdict(uint(ratioPPM))) }

// PV is a probed integer: Value is meaningful when State is PVOK; Error is
// the driver's CUresult for PVError.
type PV struct {
	State PVState
	Error uint32
	Value uint64
}

// PVText is a probed string (the device name).
type PVText struct {
	State PVState
	Error uint32
	Value string
}

// PVUUID is a probed UUID.
type PVUUID struct {
	State PVState
	Error uint32
	Value [16]byte
}

// ProbeCheck is one active check: MB/s for copies, GFLOPS for the FMA kernel.
type ProbeCheck struct {
	State    PVState
	Error    uint32
	Value    uint64
	RatioPPM uint32
	Verdict  Verdict
}

// ProbeDevice is one device as the driver described it.
type ProbeDevice struct {
	Ordinal          uint32     `wire:"ordinal,1"`
	Name             PVText     `wire:"name,2"`
	UUID             PVUUID     `wire:"uuid,3"`
	PCIDomain        PV         `wire:"pci_domain,4"`
	PCIBus           PV         `wire:"pci_bus,5"`
	PCIDevice        PV         `wire:"pci_device,6"`
	CCMajor          PV         `wire:"cc_major,7"`
	CCMinor          PV         `wire:"cc_minor,8"`
	SMCount          PV         `wire:"sm_count,9"`
	MemoryBytes      PV         `wire:"memory_bytes,10"`
	ClockKHz         PV         `wire:"clock_khz,11"`
	MemClockKHz      PV         `wire:"mem_clock_khz,12"`
	BusWidthBits     PV         `wire:"bus_width_bits,13"`
	L2Bytes          PV         `wire:"l2_bytes,14"`
	ECCEnabled       PV         `wire:"ecc_enabled,15"`
	MaxThreadsPerSM  PV         `wire:"max_threads_per_sm,16"`
	FP32GFLOPS       PV         `wire:"fp32_gflops,17"`
	FP16TensorGFLOPS PV         `wire:"fp16_tensor_gflops,18"`
	BF16TensorGFLOPS PV         `wire:"bf16_tensor_gflops,19"`
	MemBwMBps        PV         `wire:"mem_bw_mbps,20"`
	H2DPeakMBps      PV         `wire:"h2d_peak_mbps,21"`
	D2D              ProbeCheck `wire:"d2d,22"`
	H2D              ProbeCheck `wire:"h2d,23"`
	FMA              ProbeCheck `wire:"fma,24"`
	// The product's PCI ids, read from sysfs (0 = not known).
	PCIVendorID          uint32 `wire:"pci_vendor_id,25"`
	PCIDeviceID          uint32 `wire:"pci_device_id,26"`
	PCISubsystemVendorID uint32 `wire:"pci_subsystem_vendor_id,27"`
	PCISubsystemDeviceID uint32 `wire:"pci_subsystem_device_id,28"`
}

// GPUReport is what a probe found on one machine, bound to a challenge
// nonce. Status is 0 or the negative status saying why it is empty or
// partial (see StatusError: ErrNoDriver, ErrNoDevice, ...).
type GPUReport struct {
	Nonce                 [32]byte      `wire:"nonce,1"`
	ProbedAt              uint64        `wire:"probed_at,2"`
	Status                int32         `wire:"status,3"`
	DriverError           uint32        `wire:"driver_error,4"`
	Reason                string        `wire:"reason,5"`
	DriverVersion         PV            `wire:"driver_version,6"`
	DriverPath            string        `wire:"driver_path,7"`
	DriverDigest          Digest        `wire:"driver_digest,8"`
	LDPreloadSet          bool          `wire:"ld_preload_set,9"`
	CUDAVisibleDevicesSet bool          `wire:"cuda_visible_devices_set,10"`
	DriverDeviceCount     uint32        `wire:"driver_device_count,11"`
	Checks                uint32        `wire:"checks,12"`
	Devices               []ProbeDevice `wire:"devices,13"`
}

func pvFromC(c capi.Pv) PV {
	return PV{State: PVState(c.GetState()), Error: uint32(c.GetError()), Value: c.GetValue()}
}

func (p PV) toC(c capi.Pv) {
	c.SetState(uint(p.State))
	c.SetError(uint(p.Error))
	c.SetValue(p.Value)
}

func checkFromC(c capi.Probe_check) ProbeCheck {
	return ProbeCheck{State: PVState(c.GetState()), Error: uint32(c.GetError()), Value: c.GetValue(),
		RatioPPM: uint32(c.GetRatio_ppm()), Verdict: Verdict(c.GetVerdict())}
}

func (p ProbeCheck) toC(c capi.Probe_check) {
	c.SetState(uint(p.State))
	c.SetError(uint(p.Error))
	c.SetValue(p.Value)
	c.SetRatio_ppm(uint(p.RatioPPM))
	c.SetVerdict(uint(p.Verdict))
}

// pvFields pairs each PV member of the C device with the Go field.
func pvFields(c capi.Probe_device, d *ProbeDevice) []struct {
	c capi.Pv
	g *PV
} {
	return []struct {
		c capi.Pv
		g *PV
	}{
		{c.GetPci_domain(), &d.PCIDomain}, {c.GetPci_bus(), &d.PCIBus}, {c.GetPci_device(), &d.PCIDevice},
		{c.GetCc_major(), &d.CCMajor}, {c.GetCc_minor(), &d.CCMinor}, {c.GetSm_count(), &d.SMCount},
		{c.GetMemory_bytes(), &d.MemoryBytes}, {c.GetClock_khz(), &d.ClockKHz}, {c.GetMem_clock_khz(), &d.MemClockKHz},
		{c.GetBus_width_bits(), &d.BusWidthBits}, {c.GetL2_bytes(), &d.L2Bytes}, {c.GetEcc_enabled(), &d.ECCEnabled},
		{c.GetMax_threads_per_sm(), &d.MaxThreadsPerSM}, {c.GetFp32_gflops(), &d.FP32GFLOPS},
		{c.GetFp16_tensor_gflops(), &d.FP16TensorGFLOPS}, {c.GetBf16_tensor_gflops(), &d.BF16TensorGFLOPS},
		{c.GetMem_bw_mbps(), &d.MemBwMBps}, {c.GetH2d_peak_mbps(), &d.H2DPeakMBps},
	}
}

func deviceFromC(c capi.Probe_device) ProbeDevice {
	d := ProbeDevice{Ordinal: uint32(c.GetOrdinal())}
	n, u := c.GetName(), c.GetUuid()
	d.Name = PVText{State: PVState(n.GetState()), Error: uint32(n.GetError()), Value: n.GetValue()}
	d.UUID = PVUUID{State: PVState(u.GetState()), Error: uint32(u.GetError())}
	copy(d.UUID.Value[:], u.GetValue())
	for _, f := range pvFields(c, &d) {
		*f.g = pvFromC(f.c)
	}
	d.D2D, d.H2D, d.FMA = checkFromC(c.GetD2d()), checkFromC(c.GetH2d()), checkFromC(c.GetFma())
	d.PCIVendorID, d.PCIDeviceID = uint32(c.GetPci_vendor_id()), uint32(c.GetPci_device_id())
	d.PCISubsystemVendorID, d.PCISubsystemDeviceID = uint32(c.GetPci_subsystem_vendor_id()), uint32(c.GetPci_subsystem_device_id())
	return d
}

func (d *ProbeDevice) toC(c capi.Probe_device) {
	c.SetOrdinal(uint(d.Ordinal))
	n, u := c.GetName(), c.GetUuid()
	n.SetState(uint(d.Name.State))
	n.SetError(uint(d.Name.Error))
	n.SetValue(d.Name.Value)
	u.SetState(uint(d.UUID.State))
	u.SetError(uint(d.UUID.Error))
	uuid := d.UUID.Value
	u.SetValue(uuid[:])
	for _, f := range pvFields(c, d) {
		f.g.toC(f.c)
	}
	d.D2D.toC(c.GetD2d())
	d.H2D.toC(c.GetH2d())
	d.FMA.toC(c.GetFma())
	c.SetPci_vendor_id(uint(d.PCIVendorID))
	c.SetPci_device_id(uint(d.PCIDeviceID))
	c.SetPci_subsystem_vendor_id(uint(d.PCISubsystemVendorID))
	c.SetPci_subsystem_device_id(uint(d.PCISubsystemDeviceID))
}

func reportFromC(c capi.Gpu_report) GPUReport {
	r := GPUReport{
		ProbedAt:              c.GetProbed_at(),
		Status:                int32(c.GetStatus()),
		DriverError:           uint32(c.GetDriver_error()),
		Reason:                c.GetReason(),
		DriverVersion:         pvFromC(c.GetDriver_version()),
		DriverPath:            c.GetDriver_path(),
		LDPreloadSet:          c.GetLd_preload_set() != 0,
		CUDAVisibleDevicesSet: c.GetCuda_visible_devices_set() != 0,
		DriverDeviceCount:     uint32(c.GetDriver_device_count()),
		Checks:                uint32(c.GetChecks()),
	}
	copy(r.Nonce[:], c.GetNonce())
	copy(r.DriverDigest[:], c.GetDriver_digest())
	n := c.GetDevice_count()
	r.Devices = make([]ProbeDevice, 0, n)
	for i := uint(0); i < n; i++ {
		r.Devices = append(r.Devices, deviceFromC(capi.Gpu_report_device(c, i)))
	}
	return r
}

func (r *GPUReport) withC(f func(capi.Gpu_report) error) error {
	if len(r.Devices) > GPUReportMaxDevices {
		return &Error{Status: int(capi.E_LIMIT), Name: capi.Status_name(int(capi.E_LIMIT)),
			Message: capi.Strerror(int(capi.E_LIMIT)),
			Detail:  fmt.Sprintf("gpu_report.devices: %d above the limit %d", len(r.Devices), GPUReportMaxDevices)}
	}
	c := capi.NewGpu_report()
	defer capi.DeleteGpu_report(c)
	nonce, digest := r.Nonce, r.DriverDigest
	c.SetNonce(nonce[:])
	c.SetProbed_at(r.ProbedAt)
	c.SetStatus(int(r.Status))
	c.SetDriver_error(uint(r.DriverError))
	c.SetReason(r.Reason)
	r.DriverVersion.toC(c.GetDriver_version())
	c.SetDriver_path(r.DriverPath)
	c.SetDriver_digest(digest[:])
	c.SetLd_preload_set(flag(r.LDPreloadSet))
	c.SetCuda_visible_devices_set(flag(r.CUDAVisibleDevicesSet))
	c.SetDriver_device_count(uint(r.DriverDeviceCount))
	c.SetChecks(uint(r.Checks))
	if len(r.Devices) > 0 {
		cd := capi.NewProbe_device()
		defer capi.DeleteProbe_device(cd)
		for i := range r.Devices {
			r.Devices[i].toC(cd)
			c.Set_device(uint(i), cd)
		}
	}
	c.SetDevice_count(uint(len(r.Devices)))
	return f(c)
}

// Validate checks every field and the cross-field rules.
func (r GPUReport) Validate() error {
	return r.withC(capi.Gpu_report_validate)
}

// Encode validates and returns the canonical bytes (sign these).
func (r GPUReport) Encode() ([]byte, error) {
	return encodeRecord(r.withC, capi.Gpu_report_encode)
}

// DecodeGPUReport decodes and validates untrusted bytes.
func DecodeGPUReport(data []byte) (GPUReport, error) {
	return decodeRecord(data, capi.NewGpu_report, capi.DeleteGpu_report, capi.Gpu_report_decode, reportFromC)
}

// ToGPU turns device i into a GPU record for an offer (ErrNotFound out of
// range, ErrInvalidField when its name or compute capability is unknown).
func (r GPUReport) ToGPU(i int) (GPU, error) {
	var g GPU
	err := r.withC(func(c capi.Gpu_report) error {
		out := capi.NewGpu()
		defer capi.DeleteGpu(out)
		if err := capi.Gpu_report_to_gpu(c, uint(i), out); err != nil {
			return err
		}
		g = gpuFromC(out)
		return nil
	})
	return g, err
}

// ProbeOptions tune a probe; zero fields take the library's defaults.
type ProbeOptions struct {
	DriverPath    string // "": $GPURENT_CUDA_LIBRARY, else libcuda.so.1
	TimeoutMS     uint32
	Checks        uint32 // Check* bits
	CheckMS       uint32
	CheckMaxBytes uint64
	FMAIterations uint32
	FMASamples    uint32
	Now           uint64 // Unix seconds for ProbedAt; 0 = the clock
	SysfsRoot     string // where the PCI ids are read; "": $GPURENT_SYSFS_ROOT, else /sys
}

// Probe probes the machine's GPUs, bound to a 32-byte challenge nonce. A
// machine without a driver or GPU gives an empty report (see its Status),
// not an error; errors are bad options (ErrInvalidArg) or ErrCancelled.
// cancel may be nil.
func Probe(nonce [32]byte, opts *ProbeOptions, cancel *Cancel) (GPUReport, error) {
	return probe(capi.Probe_run, nonce, opts, cancel)
}

// ProbeIsolated is Probe in a child process (gpurent_probe_run_isolated): a
// driver that crashes, is killed or never answers gives a report whose
// Status says so (capi.E_DRIVER_FAILED with the signal named in Reason, or
// capi.E_DRIVER_TIMEOUT), and the child is always reaped. The child is forked
// in C and runs no Go code. Once this process probed a driver with Probe,
// a child cannot probe that driver (CUDA does not survive fork): use one
// or the other.
func ProbeIsolated(nonce [32]byte, opts *ProbeOptions, cancel *Cancel) (GPUReport, error) {
	return probe(capi.Probe_run_isolated, nonce, opts, cancel)
}

func probe(run func(capi.Probe_options, []byte, capi.Cancel, capi.Gpu_report) error, nonce [32]byte,
	opts *ProbeOptions, cancel *Cancel) (GPUReport, error) {
	o := capi.NewProbe_options() // initialised by the binding's constructor
	defer capi.DeleteProbe_options(o)
	if err := capi.Probe_options_init(o, uint(capi.PROBE_OPTIONS_VERSION)); err != nil {
		return GPUReport{}, err
	}
	if opts != nil {
		o.Set_driver_path(opts.DriverPath)
		o.SetTimeout_ms(uint(opts.TimeoutMS))
		o.SetChecks(uint(opts.Checks))
		o.SetCheck_ms(uint(opts.CheckMS))
		o.SetCheck_max_bytes(opts.CheckMaxBytes)
		o.SetFma_iterations(uint(opts.FMAIterations))
		o.SetFma_samples(uint(opts.FMASamples))
		o.SetNow(opts.Now)
		o.Set_sysfs_root(opts.SysfsRoot)
	}
	out := capi.NewGpu_report()
	defer capi.DeleteGpu_report(out)
	cp, done, err := cancelPtrLocked(cancel)
	if err != nil {
		return GPUReport{}, err
	}
	defer done()
	if err := run(o, nonce[:], cp, out); err != nil {
		return GPUReport{}, err
	}
	return reportFromC(out), nil
}

// Peaks are a GPU's derived peak figures (PVUnsupported for an
// architecture the tables do not know).
type Peaks struct {
	FP32GFLOPS, FP16TensorGFLOPS, BF16TensorGFLOPS, MemBwMBps, H2DPeakMBps PV
}

// DerivePeaks computes peak figures from a GPU's attributes.
func DerivePeaks(ccMajor, ccMinor, smCount, clockKHz, memClockKHz, busWidthBits uint32) Peaks {
	pv := make([]capi.Pv, 5)
	for i := range pv {
		pv[i] = capi.NewPv()
		defer capi.DeletePv(pv[i])
	}
	capi.Probe_derive_peaks(uint(ccMajor), uint(ccMinor), uint(smCount), uint(clockKHz), uint(memClockKHz),
		uint(busWidthBits), pv[0], pv[1], pv[2], pv[3], pv[4])
	return Peaks{pvFromC(pv[0]), pvFromC(pv[1]), pvFromC(pv[2]), pvFromC(pv[3]), pvFromC(pv[4])}
}
