package gpurent_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gpurent.dev/gpurent"
	"gpurent.dev/gpurent/capi"
)

// fakeDriver is the fake CUDA driver make builds (tests/fakecuda.mk);
// make check-go passes the build directory in GPURENT_TEST_BUILD.
func fakeDriver(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GPURENT_TEST_BUILD")
	if dir == "" {
		dir = "../../build"
	}
	p, _ := filepath.Abs(filepath.Join(dir, "tests", "libfakecuda.so"))
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("GPURENT_TEST_BUILD") != "" {
			t.Fatalf("%s missing: make check-go builds it", p)
		}
		t.Skipf("%s not built (make tests)", p)
	}
	return p
}

func nonce32() (n [32]byte) {
	for i := range n {
		n[i] = byte(i)
	}
	return
}

func probeH100(t *testing.T) gpurent.GPUReport {
	t.Helper()
	r, err := gpurent.Probe(nonce32(), &gpurent.ProbeOptions{DriverPath: fakeDriver(t), Checks: gpurent.CheckAll,
		CheckMaxBytes: 4 << 20, Now: at0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestProbeTheFakeH100(t *testing.T) {
	r := probeH100(t)
	if r.Status != 0 || r.Reason != "" || r.Nonce != nonce32() || r.ProbedAt != at0 || len(r.Devices) != 1 ||
		r.DriverDeviceCount != 1 || r.Checks != gpurent.CheckAll || r.DriverDigest == (gpurent.Digest{}) {
		t.Fatalf("report %+v", r)
	}
	d := r.Devices[0]
	if d.Name.Value != "NVIDIA H100 80GB HBM3" || d.CCMajor.Value != 9 || d.SMCount.Value != 132 ||
		d.FP32GFLOPS != (gpurent.PV{State: gpurent.PVOK, Value: 66908}) {
		t.Fatalf("device %+v", d)
	}
	for _, c := range []gpurent.ProbeCheck{d.D2D, d.H2D, d.FMA} {
		if c.State != gpurent.PVOK || c.Verdict != gpurent.VerdictPlausible || gpurent.ProbeVerdict(c.RatioPPM) != c.Verdict {
			t.Fatalf("check %+v", c)
		}
	}
}

func TestGPUReportCodecAndToGPU(t *testing.T) {
	r := probeH100(t)
	data, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := gpurent.DecodeGPUReport(data)
	if err != nil || !reflect.DeepEqual(back, r) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, back, r)
	}
	if err := back.Validate(); err != nil {
		t.Fatal(err)
	}
	g, err := r.ToGPU(0)
	if err != nil || g.Model != "NVIDIA H100 80GB HBM3" || g.MemoryMiB != 81559 || g.MeasuredFP32GFLOPS != r.Devices[0].FMA.Value {
		t.Fatalf("ToGPU %+v %v", g, err)
	}
	_, err = r.ToGPU(1)
	mustIs(t, err, gpurent.ErrNotFound)
	_, err = gpurent.DecodeGPUReport(data[:len(data)-1])
	mustIs(t, err, gpurent.ErrTruncated)
	gb, _ := h100().Encode()
	_, err = gpurent.DecodeGPUReport(gb)
	mustIs(t, err, gpurent.ErrWrongRecord)

	bad := r
	bad.Devices = append([]gpurent.ProbeDevice{}, r.Devices...)
	bad.Devices[0].PCIBus = gpurent.PV{Value: 999}
	_, err = bad.Encode()
	mustIs(t, err, gpurent.ErrInvalidField)
	var ge *gpurent.Error
	if errors.As(err, &ge); !strings.Contains(ge.Detail, "pci_bus") {
		t.Fatalf("detail %q", ge.Detail)
	}
	bad.Devices = make([]gpurent.ProbeDevice, 65)
	mustIs(t, bad.Validate(), gpurent.ErrLimit)

	c := capi.NewGpu_report()
	defer capi.DeleteGpu_report(c)
	c.SetProbed_at(5)
	capi.Gpu_report_init(c)
	if c.GetProbed_at() != 0 || c.GetDevice_count() != 0 {
		t.Fatal("Gpu_report_init did not zero")
	}
}

func TestSignedGPUReport(t *testing.T) {
	r := probeH100(t)
	data, _ := r.Encode()
	k := mustKey(t, 1)
	ts := storeWith(t, k, gpurent.RoleProvider)
	env, err := k.Sign(gpurent.Envelope{Statement: gpurent.RecordGPUReport, IssuedAt: at0, ExpiresAt: at0 + 3600}, data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ts.Verify(env, at0, 0, &gpurent.VerifyOptions{Statement: gpurent.RecordGPUReport})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	p, _ := v.Payload()
	if back, err := gpurent.DecodeGPUReport(p); err != nil || !reflect.DeepEqual(back, r) {
		t.Fatal("verified report differs")
	}
}

func TestNoDriverIsAReport(t *testing.T) {
	r, err := gpurent.Probe(nonce32(), &gpurent.ProbeOptions{DriverPath: filepath.Join(t.TempDir(), "libcuda.so.1"), Now: at0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(gpurent.StatusError(int(r.Status)), gpurent.ErrNoDriver) || len(r.Devices) != 0 || !strings.Contains(r.Reason, "cannot load") {
		t.Fatalf("report %+v", r)
	}
	if _, err := r.Encode(); err != nil {
		t.Fatal(err)
	}
}

func TestProbeBadArguments(t *testing.T) {
	_, err := gpurent.Probe(nonce32(), &gpurent.ProbeOptions{DriverPath: "/nonexistent", TimeoutMS: 10_000_000}, nil)
	mustIs(t, err, gpurent.ErrInvalidArg)
	c, _ := gpurent.NewCancel()
	defer c.Close()
	c.Request()
	_, err = gpurent.Probe(nonce32(), &gpurent.ProbeOptions{DriverPath: "/nonexistent"}, c)
	mustIs(t, err, gpurent.ErrCancelled)
	o := capi.NewProbe_options()
	defer capi.DeleteProbe_options(o)
	mustIs(t, capi.Probe_options_init(o, 99), gpurent.ErrVersion)
	o.Set_driver_path("/x/libcuda.so")
	if o.Get_driver_path() != "/x/libcuda.so" {
		t.Fatal("driver path")
	}
}

func TestDerivePeaksNamesVerdicts(t *testing.T) {
	p := gpurent.DerivePeaks(9, 0, 132, 1980000, 2619000, 5120)
	if p.FP32GFLOPS != (gpurent.PV{State: gpurent.PVOK, Value: 66908}) || p.MemBwMBps.Value != 2*2619000*5120/8/1000 {
		t.Fatalf("peaks %+v", p)
	}
	if gpurent.DerivePeaks(1, 0, 1, 1, 1, 1).FP32GFLOPS.State != gpurent.PVUnsupported {
		t.Fatal("unknown architecture")
	}
	if gpurent.PVSkipped.String() != "skipped" || gpurent.PVState(9).String() != "unknown" ||
		gpurent.VerdictWrongOutput.String() != "wrong output" {
		t.Fatal("names")
	}
	if gpurent.ProbeVerdict(749999) != gpurent.VerdictLow || gpurent.ProbeVerdict(1100001) != gpurent.VerdictImplausible {
		t.Fatal("verdicts")
	}
}

// isoDriver is a second copy of the fake driver that the tests load only
// in child processes (a driver this process initialised cannot be probed
// after a fork).
func isoDriver(t *testing.T) string {
	t.Helper()
	return filepath.Join(filepath.Dir(fakeDriver(t)), "libfakecuda_iso.so")
}

func TestProbeIsolated(t *testing.T) {
	iso := isoDriver(t)
	t.Setenv("FAKECUDA_MACHINE", "h100")
	r, err := gpurent.ProbeIsolated(nonce32(), &gpurent.ProbeOptions{DriverPath: iso, Now: at0}, nil)
	if err != nil || r.Status != 0 || len(r.Devices) != 1 || r.Devices[0].Name.Value != "NVIDIA H100 80GB HBM3" ||
		r.Nonce != nonce32() || r.ProbedAt != at0 || !strings.HasSuffix(r.DriverPath, "libfakecuda_iso.so") {
		t.Fatalf("isolated probe: %v %+v", err, r)
	}
	// A driver that crashes costs the child, not this process.
	t.Setenv("FAKECUDA_MACHINE", "crash_init")
	r, err = gpurent.ProbeIsolated(nonce32(), &gpurent.ProbeOptions{DriverPath: iso, Now: at0}, nil)
	if err != nil || !errors.Is(gpurent.StatusError(int(r.Status)), gpurent.ErrDriverFailed) ||
		!strings.Contains(r.Reason, "SIGSEGV") || len(r.Devices) != 0 {
		t.Fatalf("crash: %v %+v", err, r)
	}
	if _, err := r.Encode(); err != nil {
		t.Fatal(err)
	}
	c, _ := gpurent.NewCancel()
	defer c.Close()
	c.Request()
	_, err = gpurent.ProbeIsolated(nonce32(), &gpurent.ProbeOptions{DriverPath: iso}, c)
	mustIs(t, err, gpurent.ErrCancelled)
}

// One device listed twice (the same UUID, or the same PCI address) is
// refused by the GPU report's own rules, so it cannot be offered twice.
func TestGPUReportDuplicateDevice(t *testing.T) {
	r := probeH100(t)
	dup := r.Devices[0]
	dup.Ordinal = 1
	r.Devices = append(r.Devices, dup)
	r.DriverDeviceCount = 2
	if _, err := r.Encode(); !errors.Is(err, gpurent.ErrInvalidField) || !strings.Contains(err.Error(), "repeats") {
		t.Fatalf("duplicate device: %v", err)
	}
	if err := r.Validate(); !errors.Is(err, gpurent.ErrInvalidField) {
		t.Fatalf("validate: %v", err)
	}
}
