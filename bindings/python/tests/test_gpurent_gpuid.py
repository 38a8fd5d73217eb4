"""GPU identity through the binding: the product's PCI ids in GPU records and
reports (optional keys, left out when 0, so older records keep their bytes),
read by the probe from a fake sysfs tree, and one GPU in one place in the
market (GpuConflictError naming the holder, Market.gpu_owner,
Market.verify_report)."""
import hashlib
import os
from pathlib import Path

import pytest

import gpurent

ROOT = Path(__file__).resolve().parents[3]
BUILD = Path(os.environ.get("GPURENT_TEST_BUILD", ROOT / "build"))
FAKE = BUILD / "tests" / "libfakecuda.so"
FIXTURES = ROOT / "tests" / "fixtures" / "wire"
T0 = 1_700_000_000


def h100(**kw):
    base = dict(model="NVIDIA H100 80GB HBM3", uuid=bytes.fromhex("5c1f8a0e3b7d4e2f9a6b1c0d2e3f4a5b"),
                pci_bus=27, cc_major=9, sm_count=132, memory_mib=81559, clock_mhz=1980, mem_clock_mhz=2619,
                bus_width_bits=5120, l2_kib=51200, ecc_enabled=1, interface=2, fp32_gflops=66908,
                fp16_tensor_gflops=989430, mem_bw_mbps=3352320, cuda_version=12040)
    base.update(kw)
    return gpurent.GPU(**base)


def test_gpu_pci_ids_round_trip_and_old_bytes():
    g = h100(pci_vendor_id=0x10DE, pci_device_id=0x2330, pci_subsystem_vendor_id=0x10DE,
             pci_subsystem_device_id=0x16C1)
    b = g.encode()
    assert b.hex() == (FIXTURES / "gpu_pci_ids.hex").read_text().strip()  # the C encoder's bytes
    assert gpurent.GPU.decode(b) == g
    old = h100().encode()
    assert old[2] == 0x16 and b[2] == 0x1A  # 22 and 26 entries
    assert b[3:len(old)] == old[3:]  # the old fields, then keys 22-25
    assert gpurent.GPU.decode(old).pci_vendor_id == 0
    assert gpurent.GPU.decode(old).encode() == old
    # an optional key written with 0 has a shorter form
    with pytest.raises(gpurent.NonCanonicalError):
        gpurent.GPU.decode(bytes([0xDE, 0x00, 0x17]) + old[3:] + bytes([0x16, 0x00]))
    with pytest.raises(gpurent.InvalidFieldError):
        h100(pci_device_id=0x2330).encode()  # ids without a vendor
    with pytest.raises(gpurent.InvalidFieldError):
        h100(pci_vendor_id=0xFFFF).encode()


def test_offer_node_keeps_pci_ids():
    n = gpurent.Node(node_id="n1", gpu=h100(pci_vendor_id=0x10DE, pci_device_id=0x2330), gpu_count=8, gpu_free=8)
    o = gpurent.Offer(provider_key=bytes([1]) * 32, seq=1, region="eu", nodes=[n])
    assert gpurent.Offer.decode(o.encode()) == o


def test_report_pci_ids_fixture():
    data = bytes.fromhex((FIXTURES / "gpu_report_pci_ids.hex").read_text().strip())
    r = gpurent.GpuReport.decode(data)
    d = r.devices[0]
    assert (d.pci_vendor_id, d.pci_device_id, d.pci_subsystem_vendor_id, d.pci_subsystem_device_id) == \
        (0x10DE, 0x2684, 0x1043, 0)
    assert r.encode() == data
    g = r.to_gpu(0)
    assert (g.pci_vendor_id, g.pci_device_id, g.pci_subsystem_vendor_id) == (0x10DE, 0x2684, 0x1043)


def make_sysfs(root: Path, bus: int, ids):
    d = root / "bus" / "pci" / "devices" / f"0000:{bus:02x}:00.0"
    d.mkdir(parents=True)
    for name, v in zip(("vendor", "device", "subsystem_vendor", "subsystem_device"), ids):
        (d / name).write_text(f"0x{v:04x}\n")


@pytest.mark.skipif(not FAKE.exists(), reason="build/tests/libfakecuda.so not built")
def test_probe_reads_pci_ids(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKECUDA_MACHINE", "h100")
    make_sysfs(tmp_path, 0x1B, (0x10DE, 0x2330, 0x10DE, 0x16C1))
    r = gpurent.probe(bytes(32), driver_path=FAKE, now=T0, sysfs_root=tmp_path)
    d = r.devices[0]
    assert (d.pci_vendor_id, d.pci_device_id, d.pci_subsystem_vendor_id, d.pci_subsystem_device_id) == \
        (0x10DE, 0x2330, 0x10DE, 0x16C1)
    assert gpurent.GpuReport.decode(r.encode()) == r
    assert r.to_gpu(0).pci_device_id == 0x2330
    # the environment names the root when the call does not
    monkeypatch.setenv("GPURENT_SYSFS_ROOT", str(tmp_path))
    assert gpurent.probe(bytes(32), driver_path=FAKE, now=T0).devices[0].pci_device_id == 0x2330
    # no tree: ids 0, and the probe is fine
    r = gpurent.probe(bytes(32), driver_path=FAKE, now=T0, sysfs_root=tmp_path / "none")
    assert r.status == 0 and r.devices[0].pci_vendor_id == 0


# ---- one GPU, one place ----

def node(node_id, uuid_byte, report_digest=bytes(32), gpus=8):
    return gpurent.Node(node_id=node_id, gpu=h100(uuid=bytes([uuid_byte]) * 16), gpu_count=gpus, gpu_free=gpus,
                        price_micro_per_gpu_hour=2_000_000, report_digest=report_digest)


def offer(p, seq, *nodes):
    return gpurent.Offer(provider_key=bytes([p]) * 32, seq=seq, region="eu-west", nodes=list(nodes))


def test_other_provider_refused_and_owner():
    m = gpurent.Market()
    m.put_offer(offer(0xAA, 1, node("a1", 0x11)))
    before = m.digests()
    with pytest.raises(gpurent.GpuConflictError) as e:
        m.put_offer(offer(0xBB, 1, node("b1", 0x11)))
    assert "node 'a1'" in str(e.value) and "aa" * 32 in str(e.value)
    assert m.digests() == before and m.stats().providers == 1
    o = m.gpu_owner(bytes([0x11]) * 16)
    assert o == gpurent.GpuOwner(bytes([0xAA]) * 32, "a1", gpurent.GPU_HELD_OFFER)
    assert m.gpu_owner(bytes([0x22]) * 16) is None
    with pytest.raises(gpurent.InvalidArgError):
        m.gpu_owner(bytes(16))
    with pytest.raises(gpurent.GpuConflictError):
        m.put_offer(offer(0xCC, 1, node("c1", 0x33), node("c2", 0x33)))
    # a move within the provider
    m.put_offer(offer(0xAA, 2, node("a1", 0x44), node("a2", 0x11)))
    assert m.gpu_owner(bytes([0x11]) * 16).node_id == "a2"


def report(first, n):
    devs = [gpurent.ProbeDevice(ordinal=i, name=gpurent.PVText(0, 0, "NVIDIA H100 80GB HBM3"),
                                uuid=gpurent.PVUUID(0, 0, bytes([first + i]) * 16),
                                pci_bus=gpurent.PV(0, 0, 0x10 + i), cc_major=gpurent.PV(0, 0, 9))
            for i in range(n)]
    return gpurent.GpuReport(nonce=bytes([7]) * 32, probed_at=T0, status=0,
                             driver_version=gpurent.PV(0, 0, 12040), driver_path="/usr/lib/libcuda.so.1",
                             driver_device_count=n, devices=devs)


def test_verify_report_binds():
    m = gpurent.Market()
    r = report(0x11, 3)
    digest = hashlib.blake2b(r.encode(), digest_size=32).digest()
    m.put_offer(offer(0xAA, 1, node("a1", 0x11, digest)))
    with pytest.raises(gpurent.InvalidArgError, match="offers 8 GPUs, its report identifies 3"):
        m.verify_report(bytes([0xAA]) * 32, "a1", r)
    m.put_offer(offer(0xAA, 2, node("a1", 0x11, digest, gpus=3)))
    with pytest.raises(gpurent.InvalidArgError):
        m.verify_report(bytes([0xAA]) * 32, "a1", report(0x11, 2))  # not the named report
    m.verify_report(bytes([0xAA]) * 32, "a1", r)
    o = m.gpu_owner(bytes([0x13]) * 16)
    assert o.node_id == "a1" and o.how == gpurent.GPU_HELD_REPORT
    with pytest.raises(gpurent.GpuConflictError):
        m.put_offer(offer(0xBB, 1, node("b1", 0x13)))
    m.set_verified(bytes([0xAA]) * 32, "a1", False)
    assert m.gpu_owner(bytes([0x13]) * 16) is None
