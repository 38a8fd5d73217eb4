"""Model and framework tables: lookups, the digests re-encoded with an
independent MessagePack encoder, and what the market makes of the names."""
import hashlib

import msgpack
import pytest

import gpurent
from gpurent import capi

KEY = bytes([9]) * 32


def test_models_resolve():
    assert gpurent.model_table_version() == 1
    ms = gpurent.models()
    assert len(ms) >= 30 and len({m.id for m in ms}) == len(ms)
    for m in ms:
        for name in (m.id,) + m.names + m.aliases:
            assert gpurent.model_find(name) == m
            assert gpurent.model_find(name.upper().replace(" ", "_")) == m
            assert gpurent.model_lookup(name) in (gpurent.NameKind.ID, gpurent.NameKind.DRIVER,
                                                  gpurent.NameKind.ALIAS)
        assert m in gpurent.model_family(m.family)
    h = gpurent.model_find("NVIDIA H100 80GB HBM3")
    assert h.id == "h100-sxm5-80gb" and h.cc_major == 9 and h.memory_mib == 81920 and h.pci[0][:2] == (0x10DE, 0x2330)
    assert gpurent.model_lookup("H100") == gpurent.NameKind.FAMILY
    assert gpurent.model_find("H100") is None
    assert sorted(m.id for m in gpurent.model_family("h100")) == ["h100-nvl-94gb", "h100-pcie-80gb", "h100-sxm5-80gb"]
    assert gpurent.model_family("foo") == []
    assert gpurent.model_lookup("foo") == gpurent.NameKind.UNKNOWN and gpurent.model_find("foo") is None
    assert gpurent.name_kind_name(gpurent.NameKind.ALIAS) == "alias"
    assert gpurent.model_find_pci(0x10DE, 0x2684).id == "rtx4090-24gb"
    assert gpurent.model_find_pci(0x1002, 0x740C) is None  # MI250 and MI250X share it
    # the C calls under the idiomatic layer, out of range
    assert capi.model_at(capi.model_count()) is None
    assert capi.model_name_at(None, 0) is None and capi.model_alias_at(None, 0) is None
    assert capi.model_pci_at(None, 0) is None
    assert capi.model_family_member("h100", 3) is None


def _model_encoding():
    rows = []
    for m in gpurent.models():
        rows.append([m.id, m.family, m.vendor, m.interface, m.cc_major, m.cc_minor, m.sm_count, m.boost_clock_mhz,
                     m.bus_width_bits, m.memory_mib, m.mem_bw_mbps, m.fp32_gflops, [list(p) for p in m.pci],
                     list(m.names), list(m.aliases)])
    return msgpack.packb([gpurent.model_table_version(), rows], use_bin_type=True)


def test_digests_reencoded():
    """The digests are BLAKE2b-256 of the documented encodings (docs/models.md)."""
    assert gpurent.model_table_digest() == hashlib.blake2b(_model_encoding(), digest_size=32).digest()
    fws = [[f.id, f.framework, f.version, f.cuda_version, list(f.archs), f.ptx_cc, list(f.aliases)]
           for f in gpurent.frameworks()]
    enc = msgpack.packb([gpurent.framework_table_version(), fws], use_bin_type=True)
    assert gpurent.framework_table_digest() == hashlib.blake2b(enc, digest_size=32).digest()


def test_frameworks():
    assert gpurent.framework_table_version() == 1
    t = gpurent.framework_find("torch 2.5+cu124")
    assert t.id == "torch-2.5+cu124" and t.cuda_version == 12040 and 90 in t.archs and t.ptx_cc == 0
    assert gpurent.framework_find("torch==2.5.1+cu124") == t
    assert t.supports_cc(8, 9) and not t.supports_cc(12, 0)
    assert gpurent.framework_find("tf 2.17").supports_cc(12, 0)  # PTX
    assert gpurent.framework_find("torch 0.1") is None
    assert all(gpurent.framework_find(f.id) == f for f in gpurent.frameworks())
    assert capi.framework_at(capi.framework_count()) is None
    assert capi.framework_alias_at(None, 0) is None and capi.framework_arch_at(None, 0) == 0
    assert capi.framework_supports_cc(None, 8, 0) == 0


def _node(nid, model, cc, cuda):
    g = gpurent.GPU(model=model, cc_major=cc // 10, cc_minor=cc % 10, memory_mib=81920, fp32_gflops=50000,
                    cuda_version=cuda)
    return gpurent.Node(node_id=nid, gpu=g, gpu_count=8, gpu_free=8, cpu_millicores=32000, ram_mib=1 << 20,
                        disk_gib=1000, price_micro_per_gpu_hour=1_000_000)


@pytest.fixture
def market():
    with gpurent.Market(gpurent.MatchOptions(), bytes(32)) as m:
        m.put_offer(gpurent.Offer(provider_key=KEY, seq=1, region="eu-west", nodes=[
            _node("a", "NVIDIA H100 80GB HBM3", 90, 12040), _node("b", "H100 PCIe", 90, 12020),
            _node("c", "NVIDIA A100-SXM4-80GB", 80, 12040), _node("d", "foo", 80, 12040)]))
        yield m


def test_market_names(market):
    q = gpurent.Request(request_id="q", gpu_count=8, models=["h100"])
    assert sorted(c.model for c in market.best(q, k=8)) == ["h100-pcie-80gb", "h100-sxm5-80gb"]
    q = gpurent.Request(request_id="q", gpu_count=8, models=["foo"])
    assert [c.model for c in market.best(q, k=8)] == ["foo"]
    q = gpurent.Request(request_id="q", gpu_count=8, models=["bar", "a100"])
    ex = market.explain(q)
    assert ex.unknown_models == ["bar"] and ex.model_table_version == 1
    assert "model 'bar' is not in the model table v1; matched as an exact name" in ex.text


def test_market_framework(market):
    q = gpurent.Request(request_id="q", gpu_count=8, models=["h100 pcie"], framework="torch 2.5+cu124")
    assert gpurent.Request.decode(q.encode()) == q
    assert market.best(q) == []
    ex = market.explain(q)
    assert (ex.framework, ex.framework_cuda, ex.framework_cuda_best, ex.framework_alt) == (
        "torch-2.5+cu124", 12040, 12020, "torch-2.5+cu121")
    assert "torch-2.5+cu124 needs CUDA 12.4; node has 12.2; torch-2.5+cu121 would run there" in ex.text
    q.framework = "torch 2.5+cu121"
    assert [c.model for c in market.best(q)] == ["h100-pcie-80gb"]
    q.framework = "torch 9.9"
    with pytest.raises(gpurent.InvalidArgError) as e:
        market.add_request(q)
    assert "framework 'torch 9.9' is not in the framework table v1" in e.value.detail
