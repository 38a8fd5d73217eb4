"""Cross-language proof: the shared fixtures (tests/fixtures/wire) encode to
the exact bytes the C encoder produced, decode back to the same record, and
agree with Python's own msgpack (python3-msgpack), an implementation that
shares no code with ours."""
import dataclasses

import msgpack
import pytest

import gpurent
from gpurent_fixture_format import PROBED, all_fixtures, sorted_sets

FIXTURES = all_fixtures()
IDS = [name for name, _, _ in FIXTURES]


def test_there_are_fixtures_of_every_record():
    """Every record with an encoder and a decoder (the envelope is made by
    signing: tests/vectors holds its cross-language cases)."""
    kinds = {type(rec) for _, rec, _ in FIXTURES}
    assert kinds == {gpurent.GPU, gpurent.Offer, gpurent.Request, gpurent.GpuReport, gpurent.AuditReport,
                     gpurent.TierCert, gpurent.Revocation, gpurent.Receipt}
    assert set(RTYPES.values()) == set(gpurent.RecordType) - {gpurent.RecordType.ENVELOPE}


@pytest.mark.parametrize("name, record, expected", FIXTURES, ids=IDS)
def test_encode_matches_c(name, record, expected):
    assert record.encode() == expected


def _receipt_fields(r):
    """A receipt's contents (Receipt's == compares encodings only)."""
    return ({n: getattr(r, n) for n in ("seed", "policy_digest", "offers_digest", "requests_digest", "matched_at",
                                         "total_value", "request_count")}, r.assignments)


@pytest.mark.parametrize("name, record, expected", FIXTURES, ids=IDS)
def test_decode_gives_the_record(name, record, expected):
    back = type(record).decode(expected)
    assert back == sorted_sets(record)
    if isinstance(record, gpurent.Receipt):
        assert _receipt_fields(back) == _receipt_fields(record)
    assert back.encode() == expected


def _probed(v):
    """docs/wire-format.md, GPU report: a pv, text or uuid is [state, error,
    value]; a check [state, error, value, ratio_ppm, verdict]."""
    if isinstance(v, gpurent.ProbeCheck):
        return [v.state, v.error, v.value, v.ratio_ppm, v.verdict]
    return [v.state, v.error, v.value]


def _expected_map(record, rtype=None):
    """The MessagePack map our record must be, built from field metadata
    (and docs/wire-format.md where a class carries no keys)."""
    m = {} if rtype is None else {0: int(rtype)}
    if isinstance(record, gpurent.Receipt):  # keys 1-8; an assignment 1-3, a placement 1-6
        names = ("seed", "policy_digest", "offers_digest", "requests_digest", "matched_at", "total_value",
                 "request_count")
        m.update({i + 1: getattr(record, n) for i, n in enumerate(names)})
        m[8] = [{1: a.request_id, 2: a.value,
                 3: [{i + 1: getattr(p, f.name) for i, f in enumerate(dataclasses.fields(p))} for p in a.placements]}
                for a in record.assignments]
        return m
    for i, f in enumerate(dataclasses.fields(record)):
        v = getattr(record, f.name)
        if isinstance(v, gpurent.GPU):
            v = _expected_map(v)  # a node's GPU: a map without key 0
        elif isinstance(v, tuple(PROBED.values())):
            v = _probed(v)
        elif isinstance(v, list):
            v = [(_expected_map(x) if dataclasses.is_dataclass(x) else x) for x in v]
        # A GPU report's device has no key metadata: keys 1-28 in field order.
        key = f.metadata["key"] if "key" in f.metadata else i + 1
        # docs/wire-format.md 2.0: keys added later are left out when 0 (or "").
        if key >= OPTIONAL_FROM.get(type(record), 1 << 30) and v in (0, ""):
            continue
        m[key] = v
    return m


#: The first optional key of each map that has them (docs/wire-format.md 2.0).
OPTIONAL_FROM = {gpurent.GPU: 22, gpurent.ProbeDevice: 25, gpurent.Request: 24}


RTYPES = {gpurent.GPU: gpurent.RecordType.GPU, gpurent.Offer: gpurent.RecordType.OFFER,
          gpurent.Request: gpurent.RecordType.REQUEST, gpurent.GpuReport: gpurent.RecordType.GPU_REPORT,
          gpurent.AuditReport: gpurent.RecordType.AUDIT_REPORT, gpurent.TierCert: gpurent.RecordType.TIER_CERT,
          gpurent.Receipt: gpurent.RecordType.MATCH_RECEIPT, gpurent.Revocation: gpurent.RecordType.REVOCATION}


@pytest.mark.parametrize("name, record, expected", FIXTURES, ids=IDS)
def test_python_msgpack_agrees(name, record, expected):
    want = _expected_map(sorted_sets(record), RTYPES[type(record)])
    assert msgpack.unpackb(expected, raw=False, strict_map_key=False) == want
    # msgpack-python also writes shortest forms and keeps dict order, so its
    # own encoding of the map must be our bytes exactly.
    assert msgpack.packb(want, use_bin_type=True) == expected


def test_msgpack_encoded_records_decode():
    g = gpurent.GPU(model="L40S", cc_major=8, cc_minor=9, memory_mib=46068, interface=1)
    b = msgpack.packb(_expected_map(g, gpurent.RecordType.GPU), use_bin_type=True)
    assert gpurent.GPU.decode(b) == g
    # ... and a non-canonical variant of the same map is refused.
    m = _expected_map(g, gpurent.RecordType.GPU)
    m[6] = 8.0
    with pytest.raises(gpurent.NonCanonicalError):
        gpurent.GPU.decode(msgpack.packb(m, use_bin_type=True))
