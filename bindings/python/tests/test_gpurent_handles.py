"""Handles have one owner and outlive the calls that use them: a handle
stays valid while an object made from it is alive, and a closed one is refused.

- copy.copy, copy.deepcopy and pickle of every handle class raise TypeError
  (a copy would free the same C pointer twice).
- close() from another thread while a call that released the GIL is inside
  C waits for that call: the call returns the right answer, close() returns
  only after it, and later calls raise InvalidArgError ("... is closed").
  On 0.2.0 close() freed at once: verify_many returned wrong statuses and
  corrupted the heap, match segfaulted.
"""
import copy
import pickle
import threading
import time

import pytest

import gpurent

T0 = 1_700_000_000
DAY = 86_400
H100 = gpurent.GPU(model="H100", cc_major=9, memory_mib=81559, interface=gpurent.Interface.SXM, fp32_gflops=66900,
                   cuda_version=12040)


def _handles():
    """One live instance of every handle class, and what closes them."""
    key = gpurent.Key.from_seed(bytes([1]) * 32)
    trust = gpurent.TrustStore()
    trust.add(key.public_key, gpurent.Role.REVOKER)
    payload = gpurent.Revocation(key=bytes([9]) * 32, revoked_at=T0).encode()
    env = key.sign(payload, T0, T0 + DAY)
    return [key, trust, trust.verify(env, T0), gpurent.VerifyBatch([env]), gpurent.Cancel(), gpurent.Market(),
            gpurent.TierEngine()]


def test_every_handle_class_is_covered():
    classes = {type(h) for h in _handles()}
    assert classes == set(_subclasses(gpurent.Handle))


def _subclasses(cls):
    out = []
    for c in cls.__subclasses__():
        if c.__module__.startswith("gpurent"):
            out.append(c)
        out.extend(_subclasses(c))
    return out


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_handles_refuse_copies_and_pickles(how):
    hs = _handles()
    try:
        for h in hs:
            with pytest.raises(TypeError, match="cannot be copied or pickled"):
                if how == "copy":
                    copy.copy(h)
                elif how == "deepcopy":
                    copy.deepcopy({"h": h})
                else:
                    pickle.dumps(h, protocol=pickle.HIGHEST_PROTOCOL)
            assert not h.closed
        assert len(hs[1]) == 1  # still usable
    finally:
        for h in reversed(hs):
            h.close()


def test_a_closed_handle_raises_a_gpurent_error():
    t = gpurent.TrustStore()
    t.close()
    t.close()  # twice is harmless
    assert t.closed
    with pytest.raises(gpurent.InvalidArgError, match="TrustStore is closed") as e:
        len(t)
    assert isinstance(e.value, ValueError) and e.value.status == gpurent.capi.E_INVALID_ARG
    with gpurent.TierEngine() as e2, gpurent.Market() as m:
        m.close()
        with pytest.raises(gpurent.InvalidArgError):
            m.match(T0)
        # a handle passed to another's call is checked too
        c = gpurent.Cancel()
        c.close()
        with pytest.raises(gpurent.InvalidArgError, match="Cancel is closed"):
            e2.evaluate(cancel=c)


def _close_during(handle, call, min_s=0.0):
    """Run ``call()`` on a thread; once it is inside, close ``handle`` from
    this thread. Returns (result, call_end, close_end, close_start)."""
    started = threading.Event()
    out = {}

    def run():
        started.set()
        try:
            out["result"] = call()
        except BaseException as e:  # reported below
            out["error"] = e
        out["end"] = time.perf_counter()

    t = threading.Thread(target=run)
    t.start()
    started.wait()
    # Inside the call: its guard counts it (on code without the guard this
    # falls back to a short wait), then a part of its expected length.
    deadline = time.perf_counter() + 5
    while getattr(handle, "_calls", 1) == 0 and "end" not in out and time.perf_counter() < deadline:
        time.sleep(0.0005)
    time.sleep(min_s)
    close_start = time.perf_counter()
    handle.close()
    close_end = time.perf_counter()
    t.join(60)
    assert not t.is_alive()
    if "error" in out:
        raise out["error"]
    return out["result"], out["end"], close_end, close_start


def _timed(f):
    t0 = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t0


def test_close_waits_for_verify_many():
    with gpurent.Key.from_seed(bytes([1]) * 32) as key:
        payload = gpurent.Revocation(key=bytes([9]) * 32, revoked_at=T0).encode()
        envs = [key.sign(payload, T0, T0 + DAY) for _ in range(200)]
        bad = bytearray(envs[7])
        bad[-1] ^= 1
        envs[7] = bytes(bad)
        trust = gpurent.TrustStore()
        trust.add(key.public_key, gpurent.Role.REVOKER)
        _, took = _timed(lambda: trust.verify_many(envs, T0, threads=1, check_replay=False))
        envs = envs * max(1, int(0.4 / max(took, 1e-6)))  # ~0.4 s on one thread
        expect = [gpurent.capi.E_BAD_SIGNATURE if i % 200 == 7 else 0 for i in range(len(envs))]
        sts, call_end, close_end, close_start = _close_during(
            trust, lambda: trust.verify_many(envs, T0, threads=1, check_replay=False), min_s=0.05)
        assert sts == expect
        assert close_end >= call_end, "close() returned while verify_many was still running"
        assert trust.closed
        with pytest.raises(gpurent.InvalidArgError, match="closed"):
            trust.verify_many(envs[:1], T0)


def test_close_of_a_cancel_token_waits_for_the_call_watching_it():
    with gpurent.Key.from_seed(bytes([1]) * 32) as key, gpurent.TrustStore() as trust:
        trust.add(key.public_key, gpurent.Role.REVOKER)
        payload = gpurent.Revocation(key=bytes([9]) * 32, revoked_at=T0).encode()
        envs = [key.sign(payload, T0, T0 + DAY) for _ in range(100)]
        _, took = _timed(lambda: trust.verify_many(envs, T0, threads=1, check_replay=False))
        envs = envs * max(1, int(0.3 / max(took, 1e-6)))
        cancel = gpurent.Cancel()
        sts, call_end, close_end, _ = _close_during(
            cancel, lambda: trust.verify_many(envs, T0, threads=1, check_replay=False, cancel=cancel), min_s=0.05)
        assert sts == [0] * len(envs)
        assert close_end >= call_end
        assert len(trust) == 1  # the store itself stays open


def _big_market(providers, nodes):
    m = gpurent.Market()
    for p in range(providers):
        key = (p + 1).to_bytes(2, "big") * 16
        m.put_offer(gpurent.Offer(provider_key=key, seq=1, region=f"r{p % 5}", nodes=[
            gpurent.Node(node_id=f"n{i}", gpu=H100, gpu_count=8, gpu_free=8, cpu_millicores=64000, ram_mib=512000,
                         disk_gib=1000, price_micro_per_gpu_hour=1_000_000 + 997 * ((p * 31 + i) % 101))
            for i in range(nodes)]))
    return m


def test_close_waits_for_match():
    m = _big_market(200, 10)
    n, took = 0, 0.0
    while took < 0.25 and n < 20000:
        for i in range(n, n + 500):
            m.add_request(gpurent.Request(request_id=f"r{i}", gpu_count=1 + i % 8, submitted_at=T0))
        n += 500
        r0, took = _timed(lambda: m.match(T0))
    expect = r0.encode()
    receipt, call_end, close_end, _ = _close_during(m, lambda: m.match(T0), min_s=took / 5)
    assert receipt.encode() == expect  # the same answer as an undisturbed run
    assert len(receipt) > 0
    assert close_end >= call_end, "close() returned while match was still running"
    with pytest.raises(gpurent.InvalidArgError, match="Market is closed"):
        m.stats()


def test_close_waits_for_evaluate():
    n, first = 60000, 30000
    keys = [(i + 1).to_bytes(4, "big") * 8 for i in range(n)]
    gpu, cpu = gpurent.EventKind.GPU_CHALLENGE, gpurent.EventKind.CPU_CHALLENGE
    e = gpurent.TierEngine(gpurent.TierOptions(unverified_evidence=1, first_era=first))
    for era in range(first, first + 3):
        base = era * DAY
        e.record([ev for i, k in enumerate(keys) for ev in (gpurent.TierEvent(k, base + i % 80000, gpu, 1),
                                                            gpurent.TierEvent(k, base + i % 80000 + 1, cpu, 1))])
        if era < first + 2:
            e.evaluate(era)
    summary, call_end, close_end, _ = _close_during(e, lambda: e.evaluate(first + 2))
    assert summary.era == first + 2 and summary.evaluated == n and sum(summary.tier_counts) == n
    assert close_end >= call_end, "close() returned while evaluate was still running"
    with pytest.raises(gpurent.InvalidArgError, match="TierEngine is closed"):
        e.next_era()


def test_many_threads_calling_while_one_closes():
    """Readers on several threads, one closer: every call either answers
    correctly or raises InvalidArgError; nothing crashes."""
    with gpurent.Key.from_seed(bytes([1]) * 32) as key:
        payload = gpurent.Revocation(key=bytes([9]) * 32, revoked_at=T0).encode()
        envs = [key.sign(payload, T0, T0 + DAY) for _ in range(64)]
        for _round in range(5):
            trust = gpurent.TrustStore()
            trust.add(key.public_key, gpurent.Role.REVOKER)
            answers, refused, other = [], [], []

            def reader():
                for _ in range(20):
                    try:
                        answers.append(trust.verify_many(envs, T0, threads=1, check_replay=False))
                    except gpurent.InvalidArgError as ex:
                        refused.append(ex)
                    except BaseException as ex:  # noqa: BLE001 - reported below
                        other.append(ex)

            ts = [threading.Thread(target=reader) for _ in range(3)]
            for t in ts:
                t.start()
            time.sleep(0.01 * _round)
            trust.close()
            for t in ts:
                t.join()
            assert not other, other
            assert all(a == [0] * len(envs) for a in answers)
            assert len(answers) + len(refused) == 60
            assert all("closed" in str(x) for x in refused)


# ---- Key.save never replaces a file unless asked ----

def _save(k, path, **kw):
    k.save(path, "pw", opslimit=1, memlimit=1 << 20, **kw)


def test_key_save_refuses_to_overwrite(tmp_path):
    import os
    path = tmp_path / "provider.key"
    with gpurent.Key.from_seed(bytes([1]) * 32) as k1, gpurent.Key.from_seed(bytes([2]) * 32) as k2:
        _save(k1, path)
        before = path.read_bytes()
        with pytest.raises(gpurent.ExistsError) as e:
            _save(k2, path)
        assert "force=True" in e.value.detail and str(path) in e.value.detail
        assert path.read_bytes() == before  # untouched
        with gpurent.Key.load(path, "pw") as back:
            assert back.public_key == k1.public_key
        _save(k2, path, force=True)  # asked: replaced
        with gpurent.Key.load(path, "pw") as back:
            assert back.public_key == k2.public_key
        assert (path.stat().st_mode & 0o777) == 0o600
        # a symlink (even a dangling one) is an existing name: refused,
        # nothing created at its target
        link = tmp_path / "link.key"
        os.symlink(tmp_path / "target.key", link)
        with pytest.raises(gpurent.ExistsError):
            _save(k1, link)
        assert not (tmp_path / "target.key").exists() and os.path.islink(link)
        # a failed save leaves no empty claim behind
        with pytest.raises(gpurent.InvalidArgError):
            k1.save(tmp_path / "bad.key", "", opslimit=1, memlimit=1 << 20)  # empty passphrase
        assert not (tmp_path / "bad.key").exists()
        with pytest.raises(gpurent.IOFailedError):
            _save(k1, tmp_path / "no" / "such" / "dir.key")


def test_key_save_racing_savers_one_wins(tmp_path):
    path = tmp_path / "race.key"
    keys = [gpurent.Key.from_seed(bytes([i + 1]) * 32) for i in range(4)]
    wins, refused = [], []

    def save(k):
        try:
            _save(k, path)
            wins.append(k.public_key)
        except gpurent.ExistsError:
            refused.append(k)

    ts = [threading.Thread(target=save, args=(k,)) for k in keys]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(wins) == 1 and len(refused) == 3
    with gpurent.Key.load(path, "pw") as back:
        assert back.public_key == wins[0]
    for k in keys:
        k.close()
