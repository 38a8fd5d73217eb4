"""Wire records through the binding: round trips, validation, list helpers,
bad input with the right exception classes, bytes in and out."""
import dataclasses

import pytest

import gpurent
from gpurent import capi

KEY_A, KEY_B = bytes(range(32)), bytes(range(1, 33))


def h100():
    return gpurent.GPU(model="H100 SXM5 80GB", cc_major=9, sm_count=132, memory_mib=81559,
                       interface=gpurent.Interface.SXM, fp32_gflops=66908, cuda_version=12040)


def offer():
    return gpurent.Offer(provider_key=KEY_A, seq=7, region="eu-west", min_duration_s=60,
                         nodes=[gpurent.Node(node_id="n1", gpu=h100(), gpu_count=8, gpu_free=4),
                                gpurent.Node(node_id="n2", gpu=h100(), gpu_count=4, gpu_free=4,
                                             report_digest=KEY_B)])


def test_gpu_round_trip():
    g = h100()
    b = g.encode()
    assert isinstance(b, bytes)
    assert b[0] == 0xDE  # map16: 22 keys
    assert gpurent.GPU.decode(b) == g
    assert gpurent.GPU.decode(bytearray(b)) == g  # any bytes-like object
    assert gpurent.GPU.decode(memoryview(b)) == g
    g.validate()


def test_gpu_low_level():
    c = capi.gpu()
    c.model = "A100"
    c.cc_major = 8
    c.uuid = bytes(range(16))
    capi.gpu_validate(c)
    b = capi.gpu_encode(c)
    back = capi.gpu()
    capi.gpu_decode(b, back)
    assert back.model == "A100" and back.uuid == bytes(range(16)) and back.cc_major == 8
    with pytest.raises(ValueError):
        c.uuid = b"short"


def test_gpu_validation_names_the_field():
    with pytest.raises(gpurent.InvalidFieldError, match=r"gpu\.pci_bus: 256 above the limit 255"):
        dataclasses.replace(h100(), pci_bus=256).encode()
    with pytest.raises(gpurent.InvalidFieldError, match=r"gpu\.model: must not be empty"):
        gpurent.GPU().validate()
    with pytest.raises(gpurent.InvalidFieldError, match=r"gpu\.model: not NUL-terminated"):
        gpurent.GPU(model="x" * 64).validate()
    with pytest.raises(gpurent.InvalidFieldError, match=r"gpu\.model"):
        gpurent.GPU(model="a\0b").validate()  # an embedded NUL is refused, not truncated
    with pytest.raises(TypeError):
        gpurent.GPU(model=b"bytes").encode()


def test_offer_round_trip_and_helpers():
    o = offer()
    b = o.encode()
    assert gpurent.Offer.decode(b) == o
    o.validate()
    c = capi.offer()
    capi.offer_init(c)
    n = capi.node()
    n.node_id = "x"
    n.gpu.model = "T4"
    n.gpu_count = 1
    capi.offer_add_node(c, n)
    assert c.node_count == 1
    assert capi.offer_node(c, 0).node_id == "x"
    assert capi.offer_node(c, 1) is None
    capi.offer_clear(c)
    assert c.node_count == 0


def test_offer_errors():
    o = offer()
    o.nodes[1].node_id = "n1"
    with pytest.raises(gpurent.InvalidFieldError, match=r"offer\.nodes\[1\]\.node_id: 'n1' repeats"):
        o.encode()
    with pytest.raises(gpurent.InvalidFieldError, match="offer.nodes: 0 nodes"):
        gpurent.Offer(provider_key=KEY_A, region="x").encode()
    with pytest.raises(ValueError, match="expected 32 bytes"):
        gpurent.Offer(provider_key=b"\x01" * 31, region="x", nodes=offer().nodes).encode()
    with pytest.raises(gpurent.WrongRecordError):
        gpurent.Offer.decode(h100().encode())


def test_request_round_trip_sorts_sets():
    q = gpurent.Request(request_id="r1", gpu_count=8, gang_nodes=2, gang_scope=gpurent.GangScope.REGION,
                        models=["b-model", "a-model"], regions=["us-east", "eu-west"],
                        excluded_regions=["ap-south"], providers=[KEY_B, KEY_A], excluded_providers=[KEY_A])
    back = gpurent.Request.decode(q.encode())
    assert back.models == ["a-model", "b-model"]
    assert back.regions == ["eu-west", "us-east"]
    assert back.providers == [KEY_A, KEY_B]
    assert back.excluded_regions == ["ap-south"] and back.excluded_providers == [KEY_A]
    assert dataclasses.replace(back, models=q.models, regions=q.regions, providers=q.providers) == q
    q.validate()


def test_request_defaults_come_from_the_library():
    c = capi.request()
    capi.request_init(c)
    q = gpurent.Request()
    assert (q.gpu_count, q.gang_nodes, q.duration_s) == (c.gpu_count, c.gang_nodes, c.duration_s)


def test_request_list_helpers_and_limits():
    c = capi.request()
    capi.request_init(c)
    c.request_id = "r"
    for i in range(capi.REQUEST_MAX_LIST):
        capi.request_add_model(c, f"m{i}")
        capi.request_allow_region(c, f"r{i}")
        capi.request_exclude_region(c, f"x{i}")
        capi.request_allow_provider(c, bytes([i]) * 32)
        capi.request_exclude_provider(c, bytes([i + 100]) * 32)
    assert c.model_at(3) == "m3" and c.region_at(3) == "r3" and c.excluded_region_at(3) == "x3"
    assert c.provider_at(3) == bytes([3]) * 32 and c.excluded_provider_at(3) == bytes([103]) * 32
    assert c.model_at(99) == "" and c.provider_at(99) == bytes(32)
    with pytest.raises(gpurent.LimitError, match=r"request\.models: already 8 items"):
        capi.request_add_model(c, "one-too-many")
    with pytest.raises(gpurent.LimitError, match=r"request\.regions"):
        capi.request_allow_region(c, "one-too-many")
    with pytest.raises(gpurent.LimitError, match=r"request\.excluded_providers"):
        capi.request_exclude_provider(c, bytes(32))
    with pytest.raises(ValueError, match="expected 32 bytes"):
        capi.request_allow_provider(capi.request(), b"\x00" * 33)
    with pytest.raises(gpurent.InvalidArgError, match="longer than 31 bytes"):
        capi.request_allow_region(capi.request(), "r" * 40)
    with pytest.raises(gpurent.LimitError):
        gpurent.Request(request_id="r", models=[f"m{i}" for i in range(9)]).encode()


def test_request_cross_field_rules():
    with pytest.raises(gpurent.InvalidFieldError, match="gang_nodes: 3 does not divide gpu_count 8"):
        gpurent.Request(request_id="r", gpu_count=8, gang_nodes=3, gang_scope=1).validate()
    with pytest.raises(gpurent.InvalidFieldError, match="repeats"):
        gpurent.Request(request_id="r", models=["a", "a"]).encode()
    with pytest.raises(gpurent.WrongRecordError):
        gpurent.Request.decode(offer().encode())


@pytest.mark.parametrize("data, cls", [
    (b"", gpurent.TruncatedError),
    (b"\xc1", gpurent.MalformedError),                 # never-used byte
    (b"\x81\x00\x01\x00", gpurent.NonCanonicalError),   # trailing byte after a value
    (b"\xcc\x05", gpurent.NonCanonicalError),          # 5 as uint8: not the shortest form
    (b"\x82\x01\x00\x00\x00", gpurent.NonCanonicalError),  # keys out of order
    (b"\xca\x00\x00\x00\x00", gpurent.NonCanonicalError),  # a float
    (b"\xdd\xff\xff\xff\xff", gpurent.TruncatedError),  # huge declared count, 5 bytes
    (b"\x91" * 40 + b"\x00", gpurent.OversizeError),    # nesting deeper than 16
])
def test_check_canonical_refuses(data, cls):
    with pytest.raises(cls) as ei:
        gpurent.check_canonical(data)
    assert isinstance(ei.value, gpurent.WireError)
    assert ei.value.detail


def test_check_canonical_and_record_type():
    b = offer().encode()
    assert gpurent.check_canonical(b) is None
    assert gpurent.record_type(b) == gpurent.RecordType.OFFER
    assert gpurent.record_type(h100().encode()) == capi.RECORD_GPU
    assert gpurent.record_type_name(capi.RECORD_OFFER) == "offer"
    assert gpurent.record_type_name(capi.RECORD_MATCH_RECEIPT) == "match_receipt"
    assert gpurent.record_type_name(999) == "unknown"
    with pytest.raises(gpurent.InvalidFieldError, match="empty map"):
        gpurent.record_type(b"\x80")
    with pytest.raises(TypeError):
        gpurent.check_canonical("not bytes")


def test_decode_refuses_every_truncation_and_bit_flip():
    b = offer().encode()
    for i in range(len(b)):
        with pytest.raises(gpurent.WireError):
            gpurent.Offer.decode(b[:i])
    flipped_ok = 0
    for i in range(len(b)):
        m = bytearray(b)
        m[i] ^= 0x01
        try:
            gpurent.Offer.decode(bytes(m))
            flipped_ok += 1  # a flip inside a string or an integer can stay valid
        except gpurent.WireError:
            pass
    assert flipped_ok < len(b)


def test_dict_conversion():
    o = offer()
    d = o.to_dict()
    assert d["nodes"][0]["gpu"]["model"] == "H100 SXM5 80GB"
    assert gpurent.Offer.from_dict(d) == o
    assert gpurent.GPU.wire_keys()["cuda_version"] == 21
    assert gpurent.Request.wire_keys()["excluded_providers"] == 23
