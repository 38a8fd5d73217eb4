"""Wire records: dataclasses that encode to canonical MessagePack ``bytes``.

Field names are those of the C structs in gpurent/wire.h; each field's
``metadata["key"]`` is its map key on the wire. Quantities are integers with
their unit in the name. ``encode()`` validates first; ``decode()`` checks
canonicity, bounds and every field, and raises a :class:`gpurent.WireError`
subclass naming the field that failed.
"""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, Type, TypeVar

from . import capi
from ._fields import call_with, document, set_fields, wrong_type

T = TypeVar("T", bound="_Record")


class RecordType(enum.IntEnum):
    """The value under key 0 of every record."""
    GPU = capi.RECORD_GPU
    OFFER = capi.RECORD_OFFER
    REQUEST = capi.RECORD_REQUEST
    GPU_REPORT = capi.RECORD_GPU_REPORT
    AUDIT_REPORT = capi.RECORD_AUDIT_REPORT
    TIER_CERT = capi.RECORD_TIER_CERT
    MATCH_RECEIPT = capi.RECORD_MATCH_RECEIPT
    REVOCATION = capi.RECORD_REVOCATION
    ENVELOPE = capi.RECORD_ENVELOPE


class Interface(enum.IntEnum):
    """GPU interconnect form factor."""
    ANY = capi.IFACE_ANY
    PCIE = capi.IFACE_PCIE
    SXM = capi.IFACE_SXM


class GangScope(enum.IntEnum):
    """How a request's GPUs must be placed."""
    NODE = capi.GANG_NODE
    PROVIDER = capi.GANG_PROVIDER
    REGION = capi.GANG_REGION


def _f(key: int, default: Any = 0, **kw: Any) -> Any:
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"key": key}, **kw)
    return field(default=default, metadata={"key": key}, **kw)


class _Record:
    """Shared conversions: to and from dicts and the C structs."""

    _scalars: ClassVar[List[str]]

    @classmethod
    def wire_keys(cls) -> Dict[str, int]:
        """Field name -> map key on the wire."""
        return {f.name: f.metadata["key"] for f in dataclasses.fields(cls)}  # type: ignore[arg-type]

    def to_dict(self) -> Dict[str, Any]:
        """A dict of plain values (nested records become dicts)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: Type[T], d: Dict[str, Any]) -> T:
        """The record from a dict like to_dict() gives (missing fields get defaults)."""
        return cls(**d)

    def _scalars_to_c(self, c: Any, path: str = "") -> None:
        set_fields(c, self, self._scalars, path or type(self).__name__.lower())

    @classmethod
    def _scalars_from_c(cls, c: Any) -> Dict[str, Any]:
        return {name: getattr(c, name) for name in cls._scalars}


@document
@dataclass
class GPU(_Record):
    """A GPU model as offered or probed (gpurent_gpu)."""
    model: str = _f(1, "")
    uuid: bytes = _f(2, bytes(16))
    pci_domain: int = _f(3)
    pci_bus: int = _f(4)
    pci_device: int = _f(5)
    cc_major: int = _f(6)
    cc_minor: int = _f(7)
    sm_count: int = _f(8)
    memory_mib: int = _f(9)
    clock_mhz: int = _f(10)
    mem_clock_mhz: int = _f(11)
    bus_width_bits: int = _f(12)
    l2_kib: int = _f(13)
    ecc_enabled: int = _f(14)
    interface: int = _f(15)
    fp32_gflops: int = _f(16)
    fp16_tensor_gflops: int = _f(17)
    mem_bw_mbps: int = _f(18)
    measured_fp32_gflops: int = _f(19)
    measured_mem_bw_mbps: int = _f(20)
    cuda_version: int = _f(21)
    pci_vendor_id: int = _f(22)
    pci_device_id: int = _f(23)
    pci_subsystem_vendor_id: int = _f(24)
    pci_subsystem_device_id: int = _f(25)

    def _to_c(self, c: Any = None, path: str = "gpu") -> Any:
        c = capi.gpu() if c is None else c
        self._scalars_to_c(c, path)
        return c

    @classmethod
    def _from_c(cls, c: Any) -> "GPU":
        return cls(**cls._scalars_from_c(c))

    def validate(self) -> None:
        """Check the fields; raises InvalidFieldError naming the first bad one."""
        capi.gpu_validate(self._to_c())

    def encode(self) -> bytes:
        """Validate, then return the canonical bytes."""
        return capi.gpu_encode(self._to_c())

    @classmethod
    def decode(cls, data: bytes) -> "GPU":
        """Decode and validate untrusted bytes."""
        c = capi.gpu()
        capi.gpu_decode(data, c)
        return cls._from_c(c)


GPU._scalars = [f.name for f in dataclasses.fields(GPU)]


@document
@dataclass
class Node(_Record):
    """One provider node of identical GPUs (gpurent_node)."""
    node_id: str = _f(1, "")
    gpu: GPU = _f(2, None)  # type: ignore[assignment]
    gpu_count: int = _f(3)
    gpu_free: int = _f(4)
    shared: int = _f(5)
    cpu_millicores: int = _f(6)
    ram_mib: int = _f(7)
    disk_gib: int = _f(8)
    price_micro_per_gpu_hour: int = _f(9)
    report_digest: bytes = _f(10, bytes(32))

    def __post_init__(self) -> None:
        if self.gpu is None:
            self.gpu = GPU()
        elif isinstance(self.gpu, dict):
            self.gpu = GPU.from_dict(self.gpu)

    def _to_c(self, c: Any = None, path: str = "node") -> Any:
        c = capi.node() if c is None else c
        self._scalars_to_c(c, path)
        if not isinstance(self.gpu, GPU):
            raise wrong_type(path, "gpu", self.gpu, "a GPU")
        self.gpu._to_c(c.gpu, path + ".gpu")
        return c

    @classmethod
    def _from_c(cls, c: Any) -> "Node":
        return cls(gpu=GPU._from_c(c.gpu), **cls._scalars_from_c(c))


Node._scalars = [f.name for f in dataclasses.fields(Node) if f.name != "gpu"]


@document
@dataclass
class Offer(_Record):
    """A provider's offer: terms and nodes (gpurent_offer)."""
    provider_key: bytes = _f(1, bytes(32))
    seq: int = _f(2)
    region: str = _f(3, "")
    stake_micro: int = _f(4)
    min_duration_s: int = _f(5)
    max_duration_s: int = _f(6)
    nodes: List[Node] = _f(7, [])

    def __post_init__(self) -> None:
        self.nodes = [Node.from_dict(n) if isinstance(n, dict) else n for n in self.nodes]

    def _to_c(self) -> Any:
        c = capi.offer()  # frees its nodes when collected
        self._scalars_to_c(c)
        cn = capi.node()
        for i, n in enumerate(self.nodes):
            if not isinstance(n, Node):
                raise wrong_type("offer", f"nodes[{i}]", n, "a Node")
            capi.offer_add_node(c, n._to_c(cn, f"offer.nodes[{i}]"))
        return c

    @classmethod
    def _from_c(cls, c: Any) -> "Offer":
        nodes = [Node._from_c(capi.offer_node(c, i)) for i in range(c.node_count)]
        return cls(nodes=nodes, **cls._scalars_from_c(c))

    def validate(self) -> None:
        """Check fields, node ids (unique) and durations."""
        capi.offer_validate(self._to_c())

    def encode(self) -> bytes:
        """Validate, then return the canonical bytes."""
        return capi.offer_encode(self._to_c())

    @classmethod
    def decode(cls, data: bytes) -> "Offer":
        """Decode and validate untrusted bytes."""
        c = capi.offer()
        capi.offer_init(c)
        capi.offer_decode(data, c)
        try:
            return cls._from_c(c)
        finally:
            capi.offer_clear(c)


Offer._scalars = [f.name for f in dataclasses.fields(Offer) if f.name != "nodes"]


def _request_defaults() -> Dict[str, Any]:
    c = capi.request()
    capi.request_init(c)
    return {name: getattr(c, name) for name in ("gpu_count", "gang_nodes", "duration_s")}


_REQ_DEFAULTS = _request_defaults()


@document
@dataclass
class Request(_Record):
    """A deployment request (gpurent_request). Lists are sets: encoding
    writes them sorted, decoding returns them sorted."""
    request_id: str = _f(1, "")
    gpu_count: int = _f(2, _REQ_DEFAULTS["gpu_count"])
    gang_nodes: int = _f(3, _REQ_DEFAULTS["gang_nodes"])
    gang_scope: int = _f(4)
    vram_share_pct: int = _f(5)
    min_vram_mib: int = _f(6)
    min_cc: int = _f(7)
    min_fp32_gflops: int = _f(8)
    interface: int = _f(9)
    min_cuda_version: int = _f(10)
    max_price_micro_per_gpu_hour: int = _f(11)
    allowed_tiers: int = _f(12)
    duration_s: int = _f(13, _REQ_DEFAULTS["duration_s"])
    verified_only: int = _f(14)
    cpu_millicores: int = _f(15)
    ram_mib: int = _f(16)
    disk_gib: int = _f(17)
    submitted_at: int = _f(18)
    models: List[str] = _f(19, [])
    regions: List[str] = _f(20, [])
    excluded_regions: List[str] = _f(21, [])
    providers: List[bytes] = _f(22, [])
    excluded_providers: List[bytes] = _f(23, [])
    framework: str = _f(24, "")

    def _to_c(self) -> Any:
        c = capi.request()
        capi.request_init(c)
        self._scalars_to_c(c)
        for i, m in enumerate(self.models):
            call_with("request", f"models[{i}]", m, capi.request_add_model, c, m)
        for i, r in enumerate(self.regions):
            call_with("request", f"regions[{i}]", r, capi.request_allow_region, c, r)
        for i, r in enumerate(self.excluded_regions):
            call_with("request", f"excluded_regions[{i}]", r, capi.request_exclude_region, c, r)
        for i, k in enumerate(self.providers):
            call_with("request", f"providers[{i}]", k, capi.request_allow_provider, c, k)
        for i, k in enumerate(self.excluded_providers):
            call_with("request", f"excluded_providers[{i}]", k, capi.request_exclude_provider, c, k)
        return c

    @classmethod
    def _from_c(cls, c: Any) -> "Request":
        return cls(
            models=[c.model_at(i) for i in range(c.model_count)],
            regions=[c.region_at(i) for i in range(c.region_count)],
            excluded_regions=[c.excluded_region_at(i) for i in range(c.excluded_region_count)],
            providers=[c.provider_at(i) for i in range(c.provider_count)],
            excluded_providers=[c.excluded_provider_at(i) for i in range(c.excluded_provider_count)],
            **cls._scalars_from_c(c),
        )

    def validate(self) -> None:
        """Check fields and cross-field rules."""
        capi.request_validate(self._to_c())

    def encode(self) -> bytes:
        """Validate, then return the canonical bytes (lists sorted)."""
        return capi.request_encode(self._to_c())

    @classmethod
    def decode(cls, data: bytes) -> "Request":
        """Decode and validate untrusted bytes."""
        c = capi.request()
        capi.request_decode(data, c)
        return cls._from_c(c)


Request._scalars = [f.name for f in dataclasses.fields(Request) if f.metadata["key"] <= 18 or f.name == "framework"]


def check_canonical(data: bytes) -> None:
    """Check that ``data`` is exactly one canonical MessagePack value
    (releases the GIL: inputs may be up to 16 MiB)."""
    capi.wire_check_canonical(data)


def record_type(data: bytes) -> int:
    """The record type (key 0) of an encoded record, after a canonical check."""
    return capi.wire_record_type(data)


def record_type_name(rtype: int) -> str:
    """The name of a record type ("offer"); "unknown" otherwise."""
    return capi.record_type_name(rtype)
