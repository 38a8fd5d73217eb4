"""Cross-language proof: the shared fixtures (tests/fixtures/wire) encode to
the exact bytes the C encoder produced, decode back to the same record, and
agree with Python's own msgpack (python3-msgpack), an implementation that
shares no code with ours."""
import dataclasses

import msgpack
import pytest

import gpurent
from gpurent_fixture_format import all_fixtures, sorted_sets

FIXTURES = all_fixtures()
IDS = [name for name, _, _ in FIXTURES]


def test_there_are_fixtures_of_every_record():
    kinds = {type(rec) for _, rec, _ in FIXTURES}
    assert kinds == {gpurent.GPU, gpurent.Offer, gpurent.Request}


@pytest.mark.parametrize("name, record, expected", FIXTURES, ids=IDS)
def test_encode_matches_c(name, record, expected):
    assert record.encode() == expected


@pytest.mark.parametrize("name, record, expected", FIXTURES, ids=IDS)
def test_decode_gives_the_record(name, record, expected):
    back = type(record).decode(expected)
    assert back == sorted_sets(record)
    assert back.encode() == expected


def _expected_map(record, rtype=None):
    """The MessagePack map our record must be, built from field metadata."""
    m = {} if rtype is None else {0: int(rtype)}
    for f in dataclasses.fields(record):
        v = getattr(record, f.name)
        if isinstance(v, gpurent.GPU):
            v = _expected_map(v)  # a node's GPU: a map without key 0
        elif isinstance(v, list):
            v = [(_expected_map(x) if dataclasses.is_dataclass(x) else x) for x in v]
        m[f.metadata["key"]] = v
    return m


RTYPES = {gpurent.GPU: gpurent.RecordType.GPU, gpurent.Offer: gpurent.RecordType.OFFER,
          gpurent.Request: gpurent.RecordType.REQUEST}


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
