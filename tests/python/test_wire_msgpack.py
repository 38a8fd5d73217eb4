"""Cross-check libgpurent's wire form against Python's msgpack (not our code).

Our bytes must decode with msgpack into maps with keys 0..N in order; msgpack's
own encoding of the same values must be accepted by our decoder and give back
the very same bytes; records Python builds from scratch must be accepted; and
values msgpack can write but our canonical subset forbids must be refused.
"""
import os
import subprocess

import msgpack
import pytest

BUILD = os.environ.get("GPURENT_TEST_BUILD", "build")
TOOL = os.path.join(BUILD, "tests", "wire_tool")
KINDS = {"gpu": (1, 22), "offer": (2, 8), "request": (3, 24)}
OPTIONAL = {"gpu": 4}  # the GPU's PCI ids, keys 22-25


def tool(*args):
    out = subprocess.run([TOOL, *args], check=True, capture_output=True, text=True).stdout
    return out.strip()


def decode(kind, data):
    status, _, rest = tool("decode", kind, data.hex()).partition(" ")
    return status, rest


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_our_bytes_decode_in_msgpack_and_back(kind):
    rtype, nkeys = KINDS[kind]
    for seed in range(40):
        ours = bytes.fromhex(tool("gen", kind, str(seed)))
        obj = msgpack.unpackb(ours, raw=False, strict_map_key=False)
        assert isinstance(obj, dict)
        keys = list(obj.keys())
        assert keys[:nkeys] == list(range(nkeys))
        # then the optional keys in use (docs/wire-format.md 2.0): ascending, never 0
        assert keys[nkeys:] == sorted(keys[nkeys:]) and all(obj[k] != 0 for k in keys[nkeys:])
        assert all(k < nkeys + OPTIONAL.get(kind, 0) for k in keys)
        assert obj[0] == rtype
        assert not any(isinstance(v, float) for v in obj.values())
        theirs = msgpack.packb(obj, use_bin_type=True)
        assert theirs == ours, f"{kind} seed {seed}: msgpack re-encodes differently"
        status, again = decode(kind, theirs)
        assert status == "GPURENT_OK", again
        assert bytes.fromhex(again) == ours


def h100_gpu_map(with_type=True):
    m = {
        1: "H100 SXM5 80GB", 2: bytes(range(0xA0, 0xB0)), 3: 0, 4: 0x18, 5: 0,
        6: 9, 7: 0, 8: 132, 9: 81559, 10: 1980, 11: 2619, 12: 5120, 13: 51200,
        14: 1, 15: 2, 16: 66908, 17: 989400, 18: 3352320, 19: 0, 20: 0, 21: 12040,
    }
    return {0: 1, **m} if with_type else m


def test_python_built_records_are_accepted():
    gpu = msgpack.packb(h100_gpu_map(), use_bin_type=True)
    status, again = decode("gpu", gpu)
    assert status == "GPURENT_OK", again
    assert bytes.fromhex(again) == gpu

    node = {1: "node-a", 2: h100_gpu_map(False), 3: 8, 4: 6, 5: 0, 6: 96000,
            7: 1 << 20, 8: 2000, 9: 2_490_000, 10: bytes(32)}
    offer = {0: 2, 1: bytes(range(32)), 2: 7, 3: "eu-west", 4: 10**9, 5: 600,
             6: 0, 7: [node]}
    data = msgpack.packb(offer, use_bin_type=True)
    status, again = decode("offer", data)
    assert status == "GPURENT_OK", again
    assert bytes.fromhex(again) == data

    req = {0: 3, 1: "train-1", 2: 8, 3: 1, 4: 0, 5: 0, 6: 80000, 7: 90, 8: 0, 9: 2,
           10: 12040, 11: 3_000_000, 12: 0b1110, 13: 86400, 14: 1, 15: 8000,
           16: 65536, 17: 100, 18: 1_764_000_000, 19: ["H100 SXM5 80GB", "H200"],
           20: ["eu-west", "us-east"], 21: [], 22: [], 23: [bytes([7] * 32)]}
    data = msgpack.packb(req, use_bin_type=True)
    status, again = decode("request", data)
    assert status == "GPURENT_OK", again
    assert bytes.fromhex(again) == data


def test_values_outside_the_canonical_subset_are_refused():
    base = h100_gpu_map()
    cases = {
        "float": ({**base, 16: 66908.0}, "GPURENT_E_NONCANONICAL"),
        "bool for a flag": ({**base, 14: True}, "GPURENT_E_INVALID_FIELD"),
        "missing field": ({k: v for k, v in base.items() if k != 21}, "GPURENT_E_INVALID_FIELD"),
        "extra field": ({**base, 26: 1}, "GPURENT_E_INVALID_FIELD"),
        "optional field written as 0": ({**base, 22: 0}, "GPURENT_E_NONCANONICAL"),
        "ids without a vendor": ({**base, 23: 0x2330}, "GPURENT_E_INVALID_FIELD"),
        "str for bin": ({**base, 2: "x" * 16}, "GPURENT_E_INVALID_FIELD"),
        "negative": ({**base, 8: -1}, "GPURENT_E_INVALID_FIELD"),
        "out of range": ({**base, 4: 256}, "GPURENT_E_INVALID_FIELD"),
    }
    for name, (obj, want) in cases.items():
        status, detail = decode("gpu", msgpack.packb(obj, use_bin_type=True))
        assert status == want, f"{name}: {status} {detail}"
    # The optional PCI ids (keys 22-25), as msgpack writes them, are our bytes.
    with_ids = {**base, 22: 0x10DE, 23: 0x2330, 24: 0x10DE, 25: 0x16C1}
    status, again = decode("gpu", msgpack.packb(with_ids, use_bin_type=True))
    assert status == "GPURENT_OK" and bytes.fromhex(again) == msgpack.packb(with_ids, use_bin_type=True)
    # Keys out of order: msgpack keeps dict order, so build an unsorted map.
    unsorted = dict(reversed(list(base.items())))
    status, _ = decode("gpu", msgpack.packb(unsorted, use_bin_type=True))
    assert status == "GPURENT_E_NONCANONICAL"
    # A padded integer (uint16 holding 9) is valid msgpack but not canonical.
    good = msgpack.packb(base, use_bin_type=True)
    padded = good.replace(b"\x06\x09", b"\x06\xcd\x00\x09", 1)
    assert msgpack.unpackb(padded, strict_map_key=False) == base
    status, _ = decode("gpu", padded)
    assert status == "GPURENT_E_NONCANONICAL"
    # Python's msgpack keeps the last of duplicate keys; we refuse them.
    dup = good[:3] + b"\x00\x01" + good[3:]
    dup = b"\xde\x00\x17" + dup[3:]
    status, _ = decode("gpu", dup)
    assert status in ("GPURENT_E_NONCANONICAL", "GPURENT_E_INVALID_FIELD")
