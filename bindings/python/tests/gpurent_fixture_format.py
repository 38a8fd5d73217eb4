"""Reader for the shared wire fixtures (tests/fixtures/wire/README)."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict, List, Tuple

import gpurent

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "wire"
LISTS = ("models", "regions", "excluded_regions", "providers", "excluded_providers")

# record line -> the record's class
KINDS = {"gpu": gpurent.GPU, "offer": gpurent.Offer, "request": gpurent.Request,
         "gpu_report": gpurent.GpuReport, "audit_report": gpurent.AuditReport, "tier_cert": gpurent.TierCert,
         "revocation": gpurent.Revocation, "match_receipt": gpurent.Receipt}
# (record, item line) -> (the list it appends to, the item's class, the item it belongs to or None)
ITEMS = {("offer", "node"): ("nodes", gpurent.Node, None),
         ("gpu_report", "device"): ("devices", gpurent.ProbeDevice, None),
         ("audit_report", "challenge"): ("challenges", gpurent.Challenge, None),
         ("audit_report", "job"): ("jobs", gpurent.Job, None),
         ("match_receipt", "assignment"): ("assignments", gpurent.Assignment, None),
         ("match_receipt", "placement"): ("placements", gpurent.Placement, "assignment")}
# lists filled one value per line
APPENDS = {"request": LISTS, "tier_cert": ("auditors",)}
# The receipt is no dataclass: its fields are Receipt.from_fields' parameters.
RECEIPT_TYPES = {"seed": "bytes", "policy_digest": "bytes", "offers_digest": "bytes", "requests_digest": "bytes",
                 "matched_at": "int", "total_value": "int", "request_count": "int"}
# Probed values: STATE ERROR VALUE (a check: STATE ERROR VALUE RATIO_PPM VERDICT).
PROBED = {"PV": gpurent.PV, "PVText": gpurent.PVText, "PVUUID": gpurent.PVUUID, "ProbeCheck": gpurent.ProbeCheck}
ZERO = {"PV": gpurent.PV(0, 0, 0), "PVText": gpurent.PVText(0, 0, ""), "PVUUID": gpurent.PVUUID(0, 0, bytes(16)),
        "ProbeCheck": gpurent.ProbeCheck(0, 0, 0, 0, 0)}


def _types(cls) -> Dict[str, str]:
    if cls is gpurent.Receipt:
        return RECEIPT_TYPES
    return {f.name: f.type for f in dataclasses.fields(cls)}


def _probed(tname: str, text: str):
    state, error, rest = (text.split(" ", 2) + [""])[:3]
    if tname == "PV":
        return gpurent.PV(int(state), int(error), int(rest))
    if tname == "PVText":
        return gpurent.PVText(int(state), int(error), rest)
    if tname == "PVUUID":
        return gpurent.PVUUID(int(state), int(error), bytes.fromhex(rest[4:]))
    value, ratio, verdict = (int(x) for x in rest.split(" "))
    return gpurent.ProbeCheck(int(state), int(error), value, ratio, verdict)


def _value(cls, name: str, text: str, where: str):
    types = _types(cls)
    if name not in types:
        raise ValueError(f"{where}: unknown field {name} of {cls.__name__}")
    if types[name] in PROBED:
        return _probed(types[name], text)
    if text.startswith("hex:"):
        return bytes.fromhex(text[4:])
    if types[name] == "int":
        return int(text)
    return text


class _Node:
    """A record or an item being read: its fields and its lists of items."""

    def __init__(self, cls):
        self.cls, self.fields, self.lists = cls, {}, {}

    def build(self):
        kw: Dict[str, Any] = {}
        if self.cls in (gpurent.GpuReport, gpurent.ProbeDevice):  # Python's defaults are not all zero
            kw = {n: ZERO[t] for n, t in _types(self.cls).items() if t in ZERO}
        kw.update({k: v.build() if isinstance(v, _Node) else v for k, v in self.fields.items()})
        for name, items in self.lists.items():
            kw[name] = [i.build() for i in items]
        if self.cls is gpurent.Receipt:
            return gpurent.Receipt.from_fields(**kw)
        return self.cls(**kw)


def load(path: Path):
    """The record described by a .rec file, as a gpurent record."""
    kind, record = None, None
    items: Dict[str, _Node] = {}  # the open item of each item line
    current = None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        name, _, text = line.partition(" ")
        where = f"{path.name}:{n}"
        if name == "record":
            kind = text
            if kind not in KINDS:
                raise ValueError(f"{where}: unknown record {kind}")
            record = current = _Node(KINDS[kind])
        elif record is None:
            raise ValueError(f"{where}: field before `record`")
        elif (kind, name) in ITEMS:
            list_name, cls, parent = ITEMS[(kind, name)]
            owner = record if parent is None else items[parent]
            current = items[name] = _Node(cls)
            owner.lists.setdefault(list_name, []).append(current)
        elif name in APPENDS.get(kind, ()):
            record.fields.setdefault(name, []).append(bytes.fromhex(text[4:]) if text.startswith("hex:") else text)
        elif "." in name:  # a node's gpu.<field>
            sub, _, field = name.partition(".")
            current.fields.setdefault(sub, _Node(gpurent.GPU)).fields[field] = _value(gpurent.GPU, field, text, where)
        else:
            current.fields[name] = _value(current.cls, name, text, where)
    if record is None:
        raise ValueError(f"{path}: no record line")
    return record.build()


def all_fixtures() -> List[Tuple[str, object, bytes]]:
    """(name, record, expected bytes) for every fixture."""
    out = []
    for rec in sorted(FIXTURES.glob("*.rec")):
        hexfile = rec.with_suffix(".hex")
        out.append((rec.stem, load(rec), bytes.fromhex(hexfile.read_text().strip())))
    return out


def sorted_sets(record):
    """The record with its sets in canonical order (a request's lists by
    bytes, an audit report's challenges by (time_s, kind) and jobs by id)."""
    if isinstance(record, gpurent.Request):
        key = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
        return dataclasses.replace(record, **{k: sorted(getattr(record, k), key=key) for k in LISTS})
    if isinstance(record, gpurent.AuditReport):
        return dataclasses.replace(record, challenges=sorted(record.challenges, key=lambda c: (c.time_s, c.kind)),
                                   jobs=sorted(record.jobs, key=lambda j: j.job_id.encode()))
    return record
