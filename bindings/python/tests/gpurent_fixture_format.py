"""Reader for the shared wire fixtures (tests/fixtures/wire/README)."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, List, Tuple

import gpurent

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "wire"
LISTS = ("models", "regions", "excluded_regions", "providers", "excluded_providers")


def _value(cls_fields: Dict[str, type], name: str, text: str, where: str):
    if name not in cls_fields:
        raise ValueError(f"{where}: unknown field {name}")
    if text.startswith("hex:"):
        return bytes.fromhex(text[4:])
    if cls_fields[name] == "int":
        return int(text)
    return text


def _types(cls) -> Dict[str, str]:
    return {f.name: f.type for f in dataclasses.fields(cls)}


def load(path: Path):
    """The record described by a .rec file, as a gpurent dataclass."""
    kind, fields, nodes = None, {}, []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        name, _, text = line.partition(" ")
        where = f"{path.name}:{n}"
        if name == "record":
            kind = text
        elif kind == "gpu":
            fields[name] = _value(_types(gpurent.GPU), name, text, where)
        elif kind == "offer" and name == "node":
            nodes.append(({}, {}))
        elif kind == "offer" and nodes and name.startswith("gpu."):
            nodes[-1][1][name[4:]] = _value(_types(gpurent.GPU), name[4:], text, where)
        elif kind == "offer" and nodes:
            nodes[-1][0][name] = _value(_types(gpurent.Node), name, text, where)
        elif kind == "offer":
            fields[name] = _value(_types(gpurent.Offer), name, text, where)
        elif kind == "request" and name in LISTS:
            fields.setdefault(name, []).append(bytes.fromhex(text[4:]) if text.startswith("hex:") else text)
        elif kind == "request":
            fields[name] = _value(_types(gpurent.Request), name, text, where)
        else:
            raise ValueError(f"{where}: field before `record`")
    if kind == "gpu":
        return gpurent.GPU(**fields)
    if kind == "offer":
        return gpurent.Offer(nodes=[gpurent.Node(gpu=gpurent.GPU(**g), **nf) for nf, g in nodes], **fields)
    if kind == "request":
        return gpurent.Request(**fields)
    raise ValueError(f"{path}: no record line")


def all_fixtures() -> List[Tuple[str, object, bytes]]:
    """(name, record, expected bytes) for every fixture."""
    out = []
    for rec in sorted(FIXTURES.glob("*.rec")):
        hexfile = rec.with_suffix(".hex")
        out.append((rec.stem, load(rec), bytes.fromhex(hexfile.read_text().strip())))
    return out


def sorted_sets(record):
    """The record with a request's sets in canonical (byte) order."""
    if isinstance(record, gpurent.Request):
        key = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
        return dataclasses.replace(record, **{k: sorted(getattr(record, k), key=key) for k in LISTS})
    return record
