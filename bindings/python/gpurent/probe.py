"""GPU probing through the CUDA driver, loaded at run time, and the GPU
report record it produces.

:func:`probe` returns a :class:`GpuReport` whatever the machine: without a
driver or a GPU the report is empty and ``status``/``reason`` say why (it is
not an exception). Each probed figure is a :class:`PV` that says whether it
holds a value, is unsupported, or failed. The report encodes to canonical
``bytes`` for signing (:meth:`gpurent.Key.sign`) and turns its devices into
:class:`gpurent.GPU` records for offers (:meth:`GpuReport.to_gpu`).
"""
from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from typing import Any, List, Optional, Union

from . import capi
from ._fields import document, set_fields
from ._handle import guarded
from .wire import GPU, _f, _Record

CHECK_D2D = capi.CHECK_D2D
CHECK_H2D = capi.CHECK_H2D
CHECK_FMA = capi.CHECK_FMA
CHECK_ALL = capi.CHECK_ALL
MAX_DEVICES = capi.GPU_REPORT_MAX_DEVICES


class PVState(enum.IntEnum):
    """What a probed field holds."""
    OK = capi.PV_OK
    UNSUPPORTED = capi.PV_UNSUPPORTED
    ERROR = capi.PV_ERROR
    SKIPPED = capi.PV_SKIPPED


class Verdict(enum.IntEnum):
    """How an active measurement compares with its derived peak."""
    NONE = capi.VERDICT_NONE
    PLAUSIBLE = capi.VERDICT_PLAUSIBLE
    LOW = capi.VERDICT_LOW
    IMPLAUSIBLE = capi.VERDICT_IMPLAUSIBLE
    WRONG_OUTPUT = capi.VERDICT_WRONG_OUTPUT


def pv_state_name(state: int) -> str:
    """"ok", "unsupported", "error", "skipped"; "unknown" otherwise."""
    return capi.pv_state_name(state)


def verdict_name(verdict: int) -> str:
    """"none", "plausible", "low", "implausible", "wrong output"; "unknown" otherwise."""
    return capi.verdict_name(verdict)


def probe_verdict(ratio_ppm: int) -> Verdict:
    """The verdict for a correct measurement at ``ratio_ppm`` of its peak."""
    return Verdict(capi.probe_verdict(ratio_ppm))


@dataclass(frozen=True)
class PV:
    """A probed integer: ``value`` is meaningful when ``state`` is OK;
    ``error`` is the driver's CUresult for ERROR."""
    state: int = PVState.OK
    error: int = 0
    value: int = 0

    @property
    def ok(self) -> bool:
        return self.state == PVState.OK


@dataclass(frozen=True)
class PVText:
    """A probed string (the device name)."""
    state: int = PVState.OK
    error: int = 0
    value: str = ""


@dataclass(frozen=True)
class PVUUID:
    """A probed 16-byte UUID."""
    state: int = PVState.OK
    error: int = 0
    value: bytes = bytes(16)


@dataclass(frozen=True)
class ProbeCheck:
    """One active check: MB/s for copies, GFLOPS for the FMA kernel;
    ``ratio_ppm`` of the derived peak and the verdict."""
    state: int = PVState.SKIPPED
    error: int = 0
    value: int = 0
    ratio_ppm: int = 0
    verdict: int = Verdict.NONE


_PV_FIELDS = ["pci_domain", "pci_bus", "pci_device", "cc_major", "cc_minor", "sm_count", "memory_bytes",
              "clock_khz", "mem_clock_khz", "bus_width_bits", "l2_bytes", "ecc_enabled", "max_threads_per_sm",
              "fp32_gflops", "fp16_tensor_gflops", "bf16_tensor_gflops", "mem_bw_mbps", "h2d_peak_mbps"]
_CHECK_FIELDS = ["d2d", "h2d", "fma"]
_ID_FIELDS = ["pci_vendor_id", "pci_device_id", "pci_subsystem_vendor_id", "pci_subsystem_device_id"]


def _pv(default_state: int = PVState.OK) -> Any:
    return field(default_factory=lambda: PV(state=default_state))


@dataclass
class ProbeDevice:
    """One device as the driver described it (gpurent_probe_device)."""
    ordinal: int = 0
    name: PVText = field(default_factory=PVText)
    uuid: PVUUID = field(default_factory=PVUUID)
    pci_domain: PV = _pv()
    pci_bus: PV = _pv()
    pci_device: PV = _pv()
    cc_major: PV = _pv()
    cc_minor: PV = _pv()
    sm_count: PV = _pv()
    memory_bytes: PV = _pv()
    clock_khz: PV = _pv()
    mem_clock_khz: PV = _pv()
    bus_width_bits: PV = _pv()
    l2_bytes: PV = _pv()
    ecc_enabled: PV = _pv()
    max_threads_per_sm: PV = _pv()
    fp32_gflops: PV = _pv()
    fp16_tensor_gflops: PV = _pv()
    bf16_tensor_gflops: PV = _pv()
    mem_bw_mbps: PV = _pv()
    h2d_peak_mbps: PV = _pv()
    d2d: ProbeCheck = field(default_factory=ProbeCheck)
    h2d: ProbeCheck = field(default_factory=ProbeCheck)
    fma: ProbeCheck = field(default_factory=ProbeCheck)
    # the product's PCI ids from sysfs (0 = not known)
    pci_vendor_id: int = 0
    pci_device_id: int = 0
    pci_subsystem_vendor_id: int = 0
    pci_subsystem_device_id: int = 0

    @classmethod
    def _from_c(cls, c: Any) -> "ProbeDevice":
        kw: dict = {"ordinal": c.ordinal,
                    **{n: getattr(c, n) for n in _ID_FIELDS},
                    "name": PVText(c.name.state, c.name.error, c.name.value),
                    "uuid": PVUUID(c.uuid.state, c.uuid.error, c.uuid.value)}
        for n in _PV_FIELDS:
            p = getattr(c, n)
            kw[n] = PV(p.state, p.error, p.value)
        for n in _CHECK_FIELDS:
            p = getattr(c, n)
            kw[n] = ProbeCheck(p.state, p.error, p.value, p.ratio_ppm, p.verdict)
        return cls(**kw)

    def _to_c(self, c: Any) -> Any:
        c.ordinal = self.ordinal
        for n, src in (("name", self.name), ("uuid", self.uuid)):
            dst = getattr(c, n)
            dst.state, dst.error, dst.value = src.state, src.error, src.value
        for n in _PV_FIELDS:
            dst, src = getattr(c, n), getattr(self, n)
            dst.state, dst.error, dst.value = src.state, src.error, src.value
        for n in _CHECK_FIELDS:
            dst, src = getattr(c, n), getattr(self, n)
            dst.state, dst.error, dst.value, dst.ratio_ppm, dst.verdict = (
                src.state, src.error, src.value, src.ratio_ppm, src.verdict)
        for n in _ID_FIELDS:
            setattr(c, n, getattr(self, n))
        return c


@document
@dataclass
class GpuReport(_Record):
    """What a probe found on one machine, bound to a challenge nonce
    (gpurent_gpu_report). ``status`` is 0 or the negative status saying why
    the report is empty or partial (NO_DRIVER, NO_DEVICE, ...)."""
    nonce: bytes = _f(1, bytes(32))
    probed_at: int = _f(2)
    status: int = _f(3)
    driver_error: int = _f(4)
    reason: str = _f(5, "")
    driver_version: PV = _f(6, None)  # type: ignore[assignment]
    driver_path: str = _f(7, "")
    driver_digest: bytes = _f(8, bytes(32))
    ld_preload_set: int = _f(9)
    cuda_visible_devices_set: int = _f(10)
    driver_device_count: int = _f(11)
    checks: int = _f(12)
    devices: List[ProbeDevice] = _f(13, [])

    def __post_init__(self) -> None:
        if self.driver_version is None:
            self.driver_version = PV(state=PVState.UNSUPPORTED)

    def _to_c(self) -> Any:
        c = capi.gpu_report()
        set_fields(c, self, self._scalars, "gpu_report")
        c.driver_version.state = self.driver_version.state
        c.driver_version.error = self.driver_version.error
        c.driver_version.value = self.driver_version.value
        if len(self.devices) > MAX_DEVICES:
            raise ValueError(f"a GPU report holds at most {MAX_DEVICES} devices")
        scratch = capi.probe_device()
        for i, d in enumerate(self.devices):
            c.set_device(i, d._to_c(scratch))
        c.device_count = len(self.devices)
        return c

    @classmethod
    def _from_c(cls, c: Any) -> "GpuReport":
        kw = {n: getattr(c, n) for n in cls._scalars}
        dv = c.driver_version
        devices = [ProbeDevice._from_c(capi.gpu_report_device(c, i)) for i in range(c.device_count)]
        return cls(driver_version=PV(dv.state, dv.error, dv.value), devices=devices, **kw)

    def validate(self) -> None:
        """Check every field and the cross-field rules."""
        capi.gpu_report_validate(self._to_c())

    def encode(self) -> bytes:
        """Validate, then return the canonical bytes (sign these)."""
        return capi.gpu_report_encode(self._to_c())

    @classmethod
    def decode(cls, data: Union[bytes, bytearray, memoryview]) -> "GpuReport":
        """Decode and validate untrusted bytes."""
        c = capi.gpu_report()
        capi.gpu_report_decode(data, c)
        return cls._from_c(c)

    def to_gpu(self, index: int) -> GPU:
        """Device ``index`` as a GPU record for an offer (derived peaks and
        plausible/low measurements). NotFoundError out of range."""
        out = capi.gpu()
        capi.gpu_report_to_gpu(self._to_c(), index, out)
        return GPU._from_c(out)


GpuReport._scalars = ["nonce", "probed_at", "status", "driver_error", "reason", "driver_path", "driver_digest",
                      "ld_preload_set", "cuda_visible_devices_set", "driver_device_count", "checks"]


def _probe(run: Any, nonce: bytes, driver_path: Optional[Union[str, "os.PathLike[str]"]], timeout_ms: int,
           checks: int, check_ms: int, check_max_bytes: int, fma_iterations: int, fma_samples: int, now: int,
           cancel: Optional[Any], sysfs_root: Optional[Union[str, "os.PathLike[str]"]] = None) -> GpuReport:
    o = capi.probe_options()
    if driver_path is not None:
        o.set_driver_path(os.fspath(driver_path))
    if sysfs_root is not None:
        o.set_sysfs_root(os.fspath(sysfs_root))
    o.timeout_ms, o.checks, o.check_ms = timeout_ms, checks, check_ms
    o.check_max_bytes, o.fma_iterations, o.fma_samples, o.now = check_max_bytes, fma_iterations, fma_samples, now
    out = capi.gpu_report()
    run(o, nonce, None if cancel is None else cancel.ptr, out)
    return GpuReport._from_c(out)


@guarded
def probe(nonce: bytes = bytes(32), driver_path: Optional[Union[str, "os.PathLike[str]"]] = None,
          timeout_ms: int = 0, checks: int = 0, check_ms: int = 0, check_max_bytes: int = 0,
          fma_iterations: int = 0, fma_samples: int = 0, now: int = 0, cancel: Optional[Any] = None,
          sysfs_root: Optional[Union[str, "os.PathLike[str]"]] = None) -> GpuReport:
    """Probe the machine's GPUs in this process, bound to a 32-byte
    challenge ``nonce``.

    ``driver_path`` defaults to $GPURENT_CUDA_LIBRARY, else libcuda.so.1;
    ``sysfs_root`` (where the PCI ids are read) to $GPURENT_SYSFS_ROOT, else /sys;
    ``checks`` is a CHECK_* mask of active checks; zero options take the
    library's defaults. Releases the GIL. Raises only for bad arguments or
    CancelledError; a machine without a driver or GPU gives an empty report.
    A driver that crashes takes this process with it: see probe_isolated."""
    return _probe(capi.probe_run, nonce, driver_path, timeout_ms, checks, check_ms, check_max_bytes,
                  fma_iterations, fma_samples, now, cancel, sysfs_root)


@guarded
def probe_isolated(nonce: bytes = bytes(32), driver_path: Optional[Union[str, "os.PathLike[str]"]] = None,
                   timeout_ms: int = 0, checks: int = 0, check_ms: int = 0, check_max_bytes: int = 0,
                   fma_iterations: int = 0, fma_samples: int = 0, now: int = 0,
                   cancel: Optional[Any] = None,
                   sysfs_root: Optional[Union[str, "os.PathLike[str]"]] = None) -> GpuReport:
    """probe() in a child process (gpurent_probe_run_isolated): a driver that
    crashes, is killed or never answers gives a report whose status says so
    (DRIVER_FAILED naming the signal, or DRIVER_TIMEOUT), and the child is
    always reaped. The child is forked at the C level and never runs Python
    code. Once this process probed a driver in-process, a child cannot probe
    that driver (CUDA does not survive fork): use one or the other."""
    return _probe(capi.probe_run_isolated, nonce, driver_path, timeout_ms, checks, check_ms, check_max_bytes,
                  fma_iterations, fma_samples, now, cancel, sysfs_root)


def probe_defaults() -> dict:
    """The default probe options (the newest version), as a dict."""
    o = capi.probe_options()
    capi.probe_options_init(o, capi.PROBE_OPTIONS_VERSION)
    return {n: getattr(o, n) for n in ("timeout_ms", "checks", "check_ms", "check_max_bytes", "fma_iterations",
                                       "fma_samples", "now")}


@dataclass(frozen=True)
class Peaks:
    """Derived peak figures of a GPU (each a PV: UNSUPPORTED for an
    architecture the tables do not know)."""
    fp32_gflops: PV
    fp16_tensor_gflops: PV
    bf16_tensor_gflops: PV
    mem_bw_mbps: PV
    h2d_peak_mbps: PV


def derive_peaks(cc_major: int, cc_minor: int, sm_count: int, clock_khz: int, mem_clock_khz: int,
                 bus_width_bits: int) -> Peaks:
    """Peak figures from a GPU's attributes by the documented tables."""
    outs = [capi.pv() for _ in range(5)]
    capi.probe_derive_peaks(cc_major, cc_minor, sm_count, clock_khz, mem_clock_khz, bus_width_bits, *outs)
    return Peaks(*(PV(p.state, p.error, p.value) for p in outs))


__all__ = ["PVState", "Verdict", "PV", "PVText", "PVUUID", "ProbeCheck", "ProbeDevice", "GpuReport", "Peaks",
           "probe", "probe_isolated", "probe_defaults", "derive_peaks", "probe_verdict", "pv_state_name", "verdict_name",
           "CHECK_D2D", "CHECK_H2D", "CHECK_FMA", "CHECK_ALL"]
