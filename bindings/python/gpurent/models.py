"""The canonical GPU model table and the framework build table
(gpurent/models.h, docs/models.md).

Names resolve after normalisation (ASCII letters folded to lower case,
everything but letters and digits dropped): "H100 SXM5 80GB",
"h100-sxm5-80gb" and "NVIDIA H100 80GB HBM3" all name ``h100-sxm5-80gb``;
"h100" names the family. Entries are copies of the library's static data.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple

from . import capi


class NameKind(enum.IntEnum):
    """How a name resolved (gpurent_name_kind)."""
    UNKNOWN = capi.NAME_UNKNOWN
    ID = capi.NAME_ID
    DRIVER = capi.NAME_DRIVER
    ALIAS = capi.NAME_ALIAS
    FAMILY = capi.NAME_FAMILY


def name_kind_name(kind: int) -> str:
    """"id", "driver name", "alias", "family" or "unknown"."""
    return capi.name_kind_name(int(kind))


@dataclass(frozen=True)
class Model:
    """One GPU model of the table (gpurent_model). Zero figures are unknown."""
    id: str
    family: str
    vendor: str
    interface: int
    cc_major: int
    cc_minor: int
    sm_count: int
    boost_clock_mhz: int
    bus_width_bits: int
    memory_mib: int
    mem_bw_mbps: int
    fp32_gflops: int
    pci: Tuple[Tuple[int, int, int, int], ...] = field(default=())
    names: Tuple[str, ...] = field(default=())
    aliases: Tuple[str, ...] = field(default=())
    source: str = ""

    @classmethod
    def _from_c(cls, c: Any) -> "Model":
        pci = []
        for i in range(c.pci_count):
            p = capi.model_pci_at(c, i)
            pci.append((p.vendor, p.device, p.subsys_vendor, p.subsys_device))
        return cls(
            id=c.id, family=c.family, vendor=c.vendor, interface=c.interface, cc_major=c.cc_major,
            cc_minor=c.cc_minor, sm_count=c.sm_count, boost_clock_mhz=c.boost_clock_mhz,
            bus_width_bits=c.bus_width_bits, memory_mib=c.memory_mib, mem_bw_mbps=c.mem_bw_mbps,
            fp32_gflops=c.fp32_gflops, pci=tuple(pci),
            names=tuple(capi.model_name_at(c, i) for i in range(c.name_count)),
            aliases=tuple(capi.model_alias_at(c, i) for i in range(c.alias_count)),
            source=c.source,
        )


def model_table_version() -> int:
    """The model table's version."""
    return capi.model_table_version()


def model_table_digest() -> bytes:
    """BLAKE2b-256 of the model table's canonical encoding (32 bytes)."""
    out = bytearray(32)
    capi.model_table_digest(out)
    return bytes(out)


def models() -> List[Model]:
    """Every entry, in table order."""
    return [Model._from_c(capi.model_at(i)) for i in range(capi.model_count())]


def model_find(name: str) -> Optional[Model]:
    """The one model `name` names (id, driver name, alias or a one-member
    family), or None."""
    c = capi.model_find(name)
    return Model._from_c(c) if c is not None else None


def model_lookup(name: str) -> NameKind:
    """How `name` resolves: a model's id, driver name or alias, a family, or unknown."""
    return NameKind(capi.model_lookup(name))


def model_family(name: str) -> List[Model]:
    """The members of the family `name` ([] when it names no family)."""
    return [Model._from_c(capi.model_family_member(name, i)) for i in range(capi.model_family_size(name))]


def model_find_pci(vendor: int, device: int, subsys_vendor: int = 0, subsys_device: int = 0) -> Optional[Model]:
    """The entry with this PCI id, or None (unknown, or shared by several entries)."""
    c = capi.model_find_pci(vendor, device, subsys_vendor, subsys_device)
    return Model._from_c(c) if c is not None else None


@dataclass(frozen=True)
class Framework:
    """One framework build (gpurent_framework): the CUDA version the node's
    driver must support and the GPU code it ships."""
    id: str
    framework: str
    version: str
    cuda_version: int
    archs: Tuple[int, ...] = field(default=())
    ptx_cc: int = 0
    aliases: Tuple[str, ...] = field(default=())
    source: str = ""

    @classmethod
    def _from_c(cls, c: Any) -> "Framework":
        return cls(
            id=c.id, framework=c.framework, version=c.version, cuda_version=c.cuda_version,
            archs=tuple(capi.framework_arch_at(c, i) for i in range(c.arch_count)), ptx_cc=c.ptx_cc,
            aliases=tuple(capi.framework_alias_at(c, i) for i in range(c.alias_count)), source=c.source,
        )

    def supports_cc(self, cc_major: int, cc_minor: int) -> bool:
        """Whether the build ships code that runs on this compute capability."""
        return bool(capi.framework_supports_cc(capi.framework_find(self.id), cc_major, cc_minor))


def framework_table_version() -> int:
    """The framework table's version."""
    return capi.framework_table_version()


def framework_table_digest() -> bytes:
    """BLAKE2b-256 of the framework table's canonical encoding (32 bytes)."""
    out = bytearray(32)
    capi.framework_table_digest(out)
    return bytes(out)


def frameworks() -> List[Framework]:
    """Every framework build, in table order."""
    return [Framework._from_c(capi.framework_at(i)) for i in range(capi.framework_count())]


def framework_find(name: str) -> Optional[Framework]:
    """The build `name` names ("torch 2.5+cu124", "tf 2.17"), or None."""
    c = capi.framework_find(name)
    return Framework._from_c(c) if c is not None else None
