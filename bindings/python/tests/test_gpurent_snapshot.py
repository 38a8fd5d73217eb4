"""Snapshots from Python: a tier engine and a trust store saved and loaded
(bytes and files) give the same outputs as the originals; refusals raise
the specific snapshot errors and load nothing."""
import hashlib
import os
import stat

import pytest

import gpurent

DAY = 86400
PROV = [bytes([0x50, i]) + bytes(30) for i in range(12)]
AUD = [bytes([0xA0 + i]) * 32 for i in range(3)]


def report(provider, auditor, era, j):
    base = era * DAY
    r = gpurent.AuditReport(provider_key=provider, auditor_key=auditor, time_s=base + 86000 + j,
                            gpu_report=gpurent.CheckResult.PASSED, integrity=gpurent.CheckResult.PASSED,
                            security=gpurent.CheckResult.PASSED, stake_observed=1, stake_micro=500_000_000)
    ok = 1 if provider[1] % 4 else (era % 2)
    r.challenges = [gpurent.Challenge(base + h * 3600 + j, gpurent.ChallengeKind.GPU, ok) for h in range(24)]
    return r


def feed(engines, era):
    for p in PROV:
        for j, a in enumerate(AUD):
            for e in engines:
                e.record_report(report(p, a, era, j))


def options():
    return gpurent.TierOptions(unverified_evidence=1, first_era=20000, min_incubation_eras=2)


def outputs(e):
    out = []
    for p in PROV:
        out.append(e.explain(p))
        try:
            out.append(e.certificate(p).encode())
        except gpurent.Error as err:
            out.append(type(err).__name__)
    return out


def test_tier_restart_every_era_is_identical(tmp_path):
    a = gpurent.TierEngine(options())
    b = gpurent.TierEngine(options())
    path = tmp_path / "tier.snap"
    for n, era in enumerate(range(20000, 20012)):
        feed([a, b], era)
        if n % 2:
            b.save_file(path, input_seq=n)
            b.close()
            b, seq = gpurent.TierEngine.load_file(path, options())
        else:
            data = b.save(input_seq=n)
            b.close()
            b, seq = gpurent.TierEngine.load(data, options())
        assert seq == n
        a.evaluate(era)
        b.evaluate(era)
        assert outputs(a) == outputs(b)
        assert a.save(7) == b.save(7)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["tier.snap"]
    a.close()
    b.close()


def test_tier_refusals():
    with gpurent.TierEngine(options()) as e:
        feed([e], 20000)
        data = bytearray(e.save(3))
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 1
    with pytest.raises(gpurent.SnapshotCorruptError):
        gpurent.TierEngine.load(bytes(bad))
    with pytest.raises(gpurent.SnapshotTruncatedError):
        gpurent.TierEngine.load(bytes(data[:-1]))
    with pytest.raises(gpurent.SnapshotParamsError, match="other parameters"):
        gpurent.TierEngine.load(bytes(data), gpurent.TierOptions(window_eras=10))
    with gpurent.TrustStore() as t:
        with pytest.raises(gpurent.SnapshotKindError):
            gpurent.TierEngine.load(t.save())
    bad = bytearray(data)
    bad[12] = 9
    with pytest.raises(gpurent.SnapshotVersionError):
        gpurent.TierEngine.load(bytes(bad))
    assert issubclass(gpurent.SnapshotCorruptError, gpurent.SnapshotError)


def test_trust_store_round_trip(tmp_path):
    keys = [gpurent.Key.from_seed(bytes([i + 1]) * 32) for i in range(3)]
    with gpurent.TrustStore(replay_capacity=4) as t:
        for k in keys:
            t.add(k.public_key, gpurent.Role.AUDITOR)
        t.revoke(keys[2].public_key)
        data = t.save(input_seq=41)
        t.save_file(tmp_path / "trust.snap", 42)
    u, seq = gpurent.TrustStore.load(data, replay_capacity=4)
    assert seq == 41
    assert u.is_revoked(keys[2].public_key) and not u.is_revoked(keys[0].public_key)
    assert u.roles(keys[1].public_key) == gpurent.Role.AUDITOR
    assert u.save(41) == data
    u.close()
    v, seq = gpurent.TrustStore.load_file(tmp_path / "trust.snap")
    assert seq == 42
    v.close()
    with pytest.raises(gpurent.SnapshotParamsError):
        gpurent.TrustStore.load(data, replay_capacity=5)
    with pytest.raises(gpurent.IOFailedError):
        gpurent.TrustStore.load_file(tmp_path / "missing")


def test_resume_example_rejoins_the_quorum():
    """examples/snapshot_resume.py: an auditor restarted from its snapshot and
    the log's tail co-signs its peers' certificate."""
    import pathlib
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parents[3]
    env = dict(os.environ, PYTHONPATH=str(root / "bindings" / "python"))
    r = subprocess.run([sys.executable, str(root / "examples" / "snapshot_resume.py")], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "signed by 3 of 3 auditors, the restarted one included" in r.stdout


# ---- market ----

MKEYS = [bytes([0x60, i]) + bytes(30) for i in range(8)]
GPU = gpurent.GPU(model="H100", cc_major=9, memory_mib=81559, interface=gpurent.Interface.SXM, fp32_gflops=66900,
                  cuda_version=12040)
T0 = 1760000000


def market_offer(p, seq):
    return gpurent.Offer(provider_key=MKEYS[p], seq=seq, region=f"r{p % 3}", stake_micro=10**9 * (p + 1), nodes=[
        gpurent.Node(node_id=f"n{i}", gpu=GPU, gpu_count=8, gpu_free=8 - (seq + i) % 3, cpu_millicores=64000,
                     ram_mib=512000, disk_gib=1000, price_micro_per_gpu_hour=2_000_000 + 1000 * ((p * 7 + i) % 5))
        for i in range(1 + (p + seq) % 3)])


def test_market_restart_every_step_is_identical(tmp_path):
    seed = bytes(range(32))
    a = gpurent.Market(gpurent.MatchOptions(), seed)
    b = gpurent.Market(gpurent.MatchOptions(), seed)
    path = tmp_path / "market.snap"
    leased = []
    for step in range(8):
        for p in range(len(MKEYS)):
            if (p + step) % 3 == 0:
                for m in (a, b):
                    m.put_offer(market_offer(p, step + 1))
        for j in range(6):
            r = gpurent.Request(request_id=f"s{step}-r{j}", gpu_count=1 << (j % 3), submitted_at=T0 + j)
            for m in (a, b):
                m.add_request(r)
        if step % 2:
            b.save_file(path, input_seq=step)
            b.close()
            b, seq = gpurent.Market.load_file(path)
        else:
            data = b.save(input_seq=step)
            b.close()
            b, seq = gpurent.Market.load(data, gpurent.MatchOptions())
        assert seq == step
        assert a.save(step) == b.save(step)
        assert a.digests() == b.digests()
        probe = gpurent.Request(request_id="probe", gpu_count=4, submitted_at=T0)
        assert a.explain(probe).text == b.explain(probe).text
        ra, rb = a.match(T0 + 3600 * step), b.match(T0 + 3600 * step)
        assert ra.encode() == rb.encode()
        a.apply(ra)
        b.apply(rb)
        leased += [x.request_id for x in ra.assignments]
        if leased and step % 3 == 2:
            rid = leased.pop(0)
            a.end_lease(rid)
            b.end_lease(rid)
    assert leased
    a.close()
    b.close()


def test_market_refusals():
    with gpurent.Market(gpurent.MatchOptions(), bytes(32)) as m:
        m.put_offer(market_offer(1, 1))
        m.add_request(gpurent.Request(request_id="r", gpu_count=2, submitted_at=T0))
        data = bytearray(m.save(5))
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 1
    with pytest.raises(gpurent.SnapshotCorruptError):
        gpurent.Market.load(bytes(bad))
    with pytest.raises(gpurent.SnapshotTruncatedError):
        gpurent.Market.load(bytes(data[:-1]))
    with pytest.raises(gpurent.SnapshotParamsError):
        gpurent.Market.load(bytes(data), gpurent.MatchOptions(w_price=400))
    with gpurent.TrustStore() as t:
        with pytest.raises(gpurent.SnapshotKindError):
            gpurent.Market.load(t.save())
    with pytest.raises(gpurent.SnapshotKindError):
        gpurent.TierEngine.load(bytes(data))
    bad = bytearray(data)
    bad[12] = 9
    with pytest.raises(gpurent.SnapshotVersionError):
        gpurent.Market.load(bytes(bad))


def tree_checksum(data):
    """docs/wire-format.md, "Snapshots": BLAKE2b-256 of the 64 header bytes and
    of the BLAKE2b-256 of each 1 MiB chunk of the body, computed here with
    hashlib, independently of the library."""
    body = data[64:-32]
    root = hashlib.blake2b(digest_size=32)
    root.update(data[:64])
    for off in range(0, len(body), 1 << 20):
        root.update(hashlib.blake2b(body[off:off + (1 << 20)], digest_size=32).digest())
    return root.digest()


def test_snapshots_carry_the_tree_checksum():
    e = gpurent.TierEngine(options())
    feed([e], 20000)
    with gpurent.Market(gpurent.MatchOptions(), bytes(32)) as m, gpurent.TrustStore() as t:
        m.put_offer(market_offer(1, 1))
        snaps = [(e.save(1), 2), (m.save(2), 4), (t.save(3), 2)]  # (bytes, current version)
    e.close()
    for data, version in snaps:
        assert int.from_bytes(data[12:16], "little") == version
        assert data[-32:] == tree_checksum(data)
        # the whole-file checksum of the older versions is not what they carry
        assert data[-32:] != hashlib.blake2b(data[:-32], digest_size=32).digest()
