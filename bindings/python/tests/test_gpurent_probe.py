"""The probe module through the binding, against the fake CUDA driver
(build/tests/libfakecuda.so, playing an H100 SXM by default): reports as
dataclasses with devices as small objects, the GPU report codec, derived
peaks and verdicts, bad input with the right exception classes, and the GIL
released while probing."""
import dataclasses
import os
from pathlib import Path

import pytest

import gpurent
from gpurent import capi
from gil_spinner import spinner

ROOT = Path(__file__).resolve().parents[3]
BUILD = Path(os.environ.get("GPURENT_TEST_BUILD", ROOT / "build"))
FAKE = BUILD / "tests" / "libfakecuda.so"
NONCE = bytes(range(32))
T0 = 1_700_000_000

needs_fake = pytest.mark.skipif(not FAKE.exists() and "GPURENT_TEST_BUILD" not in os.environ,
                                reason="build/tests/libfakecuda.so not built (make tests)")


@pytest.fixture(scope="module")
def report():
    assert FAKE.exists(), f"{FAKE} missing: make check-python builds it"
    return gpurent.probe(NONCE, driver_path=FAKE, checks=gpurent.CHECK_ALL, check_max_bytes=4 << 20, now=T0)


@needs_fake
def test_probe_the_fake_h100(report):
    assert report.status == 0 and report.reason == ""
    assert report.nonce == NONCE and report.probed_at == T0
    assert report.driver_path == str(FAKE) and report.driver_digest != bytes(32)
    assert report.driver_version.ok and report.driver_version.value >= 12000
    assert report.checks == gpurent.CHECK_ALL and report.driver_device_count == len(report.devices) == 1
    d = report.devices[0]
    assert isinstance(d, gpurent.ProbeDevice)
    assert d.name == gpurent.PVText(gpurent.PVState.OK, 0, "NVIDIA H100 80GB HBM3")
    assert (d.cc_major.value, d.cc_minor.value, d.sm_count.value) == (9, 0, 132)
    assert d.fp32_gflops == gpurent.PV(gpurent.PVState.OK, 0, 66908)
    for check in (d.d2d, d.h2d, d.fma):
        assert check.state == gpurent.PVState.OK and check.verdict == gpurent.Verdict.PLAUSIBLE
        assert gpurent.probe_verdict(check.ratio_ppm) == gpurent.Verdict.PLAUSIBLE


@needs_fake
def test_report_codec_round_trip_and_to_gpu(report):
    data = report.encode()
    assert gpurent.record_type(data) == gpurent.RecordType.GPU_REPORT
    back = gpurent.GpuReport.decode(data)
    assert back == report
    back.validate()
    g = report.to_gpu(0)
    assert isinstance(g, gpurent.GPU)
    assert g.model == "NVIDIA H100 80GB HBM3" and g.memory_mib == 81559 and g.fp32_gflops == 66908
    assert g.measured_fp32_gflops == report.devices[0].fma.value
    with pytest.raises(gpurent.NotFoundError):
        report.to_gpu(1)
    with pytest.raises(gpurent.TruncatedError):
        gpurent.GpuReport.decode(data[:-1])
    with pytest.raises(gpurent.WrongRecordError):
        gpurent.GpuReport.decode(gpurent.GPU(model="x", cc_major=9).encode())


@needs_fake
def test_invalid_report_names_the_field(report):
    bad = dataclasses.replace(report, devices=[dataclasses.replace(report.devices[0],
                                                                   pci_bus=gpurent.PV(value=999))])
    with pytest.raises(gpurent.InvalidFieldError, match="pci_bus"):
        bad.encode()
    with pytest.raises(gpurent.InvalidFieldError):
        dataclasses.replace(report, status=capi.E_NO_DRIVER).validate()  # no reason given
    with pytest.raises(ValueError):
        dataclasses.replace(report, devices=[report.devices[0]] * 65).encode()


def test_low_level_report_init_and_device_accessor():
    c = capi.gpu_report()
    c.probed_at = 5
    capi.gpu_report_init(c)
    assert c.probed_at == 0 and c.device_count == 0 and c.status == 0
    assert capi.gpu_report_device(c, 0) is None
    assert c.set_device(64, capi.probe_device()) == -1


def test_no_driver_is_a_report_not_an_error(tmp_path):
    r = gpurent.probe(NONCE, driver_path=tmp_path / "libcuda.so.1", now=T0)
    assert r.status == capi.E_NO_DRIVER and r.devices == [] and "cannot load" in r.reason
    assert gpurent.class_for_status(r.status) is gpurent.NoDriverError
    assert gpurent.GpuReport.decode(r.encode()) == r


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        gpurent.probe(b"short nonce")
    with pytest.raises(gpurent.InvalidArgError, match="timeout"):
        gpurent.probe(NONCE, driver_path="/nonexistent", timeout_ms=10_000_000)
    o = capi.probe_options()
    with pytest.raises(gpurent.VersionError):
        capi.probe_options_init(o, 99)
    o.set_driver_path("/x/libcuda.so")
    assert o.get_driver_path() == "/x/libcuda.so"
    with gpurent.Cancel() as c:
        c.request()
        with pytest.raises(gpurent.CancelledError):
            gpurent.probe(NONCE, driver_path="/nonexistent", cancel=c)
    assert gpurent.probe_defaults()["timeout_ms"] == 0  # zero = the library's default


def test_derive_peaks_names_and_verdicts():
    p = gpurent.derive_peaks(9, 0, 132, 1_980_000, 2_619_000, 5120)
    assert p.fp32_gflops == gpurent.PV(gpurent.PVState.OK, 0, 66908)
    assert p.mem_bw_mbps.value == 2 * 2_619_000 * 5120 // 8 // 1000
    unknown = gpurent.derive_peaks(1, 0, 1, 1, 1, 1)
    assert unknown.fp32_gflops.state == gpurent.PVState.UNSUPPORTED
    assert [gpurent.pv_state_name(s) for s in range(5)] == ["ok", "unsupported", "error", "skipped", "unknown"]
    assert gpurent.verdict_name(gpurent.Verdict.WRONG_OUTPUT) == "wrong output"
    assert gpurent.verdict_name(42) == "unknown"
    assert gpurent.probe_verdict(749_999) == gpurent.Verdict.LOW
    assert gpurent.probe_verdict(1_000_000) == gpurent.Verdict.PLAUSIBLE
    assert gpurent.probe_verdict(1_100_001) == gpurent.Verdict.IMPLAUSIBLE


@needs_fake
def test_signed_report_verifies(report):
    with gpurent.Key.from_seed(bytes([1]) * 32) as k, gpurent.TrustStore() as t:
        t.add(k.public_key, gpurent.Role.PROVIDER)
        env = k.sign(report.encode(), T0, T0 + 3600, subject=b"node-1")
        with t.verify(env, T0, statement=gpurent.RecordType.GPU_REPORT) as v:
            assert gpurent.GpuReport.decode(v.payload) == report


@needs_fake
def test_probe_releases_the_gil():
    """Another Python thread keeps running while one thread probes (active
    checks measure for check_ms each in the driver)."""
    with spinner() as s:
        free_rate = s.free_steps(0.1) / 0.1
        r, during, took = s.during(lambda: gpurent.probe(NONCE, driver_path=FAKE, checks=gpurent.CHECK_ALL,
                                                         check_ms=100, check_max_bytes=1 << 20))
    assert r.status == 0 and free_rate > 0
    # Held GIL: the spinner runs only in ~1 ms slices after the call.
    assert during > free_rate * took * 0.08, f"spinner made {during} steps in {took:.3f} s ({free_rate:.0f}/s free)"


# ---- the probe in a child process; one device listed twice ----

ISO = BUILD / "tests" / "libfakecuda_iso.so"  # loaded only in child processes


@needs_fake
def test_probe_isolated(monkeypatch):
    monkeypatch.setenv("FAKECUDA_MACHINE", "h100")
    r = gpurent.probe_isolated(NONCE, driver_path=ISO, now=T0)
    assert r.status == 0 and r.nonce == NONCE and r.probed_at == T0
    assert [d.name.value for d in r.devices] == ["NVIDIA H100 80GB HBM3"]
    assert r.driver_path == str(ISO)
    # A driver that crashes costs the child, not this interpreter.
    monkeypatch.setenv("FAKECUDA_MACHINE", "crash_name")
    r = gpurent.probe_isolated(NONCE, driver_path=ISO, now=T0)
    assert r.status == capi.E_DRIVER_FAILED and "SIGSEGV" in r.reason and r.devices == []
    assert gpurent.GpuReport.decode(r.encode()) == r
    with gpurent.Cancel() as c:
        c.request()
        with pytest.raises(gpurent.CancelledError):
            gpurent.probe_isolated(NONCE, driver_path=ISO, cancel=c)
    with pytest.raises(gpurent.InvalidArgError):
        gpurent.probe_isolated(NONCE, driver_path=ISO, timeout_ms=10_000_000)


@needs_fake
def test_duplicate_device_refused(report):
    twin = dataclasses.replace(report.devices[0], ordinal=1)
    r = dataclasses.replace(report, devices=[report.devices[0], twin], driver_device_count=2)
    with pytest.raises(gpurent.InvalidFieldError, match="repeats"):
        r.encode()
    with pytest.raises(gpurent.InvalidFieldError):
        r.validate()


@needs_fake
def test_probe_isolated_releases_the_gil(monkeypatch):
    """The caller waits for the child with the GIL released."""
    monkeypatch.setenv("FAKECUDA_MACHINE", "h100")
    with spinner() as s:
        free_rate = s.free_steps(0.1) / 0.1
        r, during, took = s.during(lambda: gpurent.probe_isolated(NONCE, driver_path=ISO, checks=gpurent.CHECK_ALL,
                                                                  check_ms=100, check_max_bytes=1 << 20))
    assert r.status == 0 and free_rate > 0
    assert during > free_rate * took * 0.08, f"spinner made {during} steps in {took:.3f} s ({free_rate:.0f}/s free)"
