"""The Python and Go stream readers (examples/net/subscribe.py,
examples/go/net/subscribe) against a real nats-server: real signed
envelopes plus a forged, a replayed, an unknown-signer, a misfiled and an
undecodable one. Both readers must print the same lines, verify exactly the
genuine records and drop each bad one for its reason."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from cluster import Cluster  # noqa: E402
import natsmini  # noqa: E402

import gpurent  # noqa: E402

T0 = 1_800_000_000
NOW = T0 + 60
STREAM = "GPURENTTEST"
BUILD = Path(os.environ.get("GPURENT_TEST_BUILD", ROOT / "build"))
GO_READER = BUILD / "net" / "subscribe-go"


def msg_id(subject: str, envelope: bytes) -> str:
    """docs/net.md: Nats-Msg-Id is the BLAKE2b-256 of the subject, a 0 byte and the whole envelope,
    lowercase hex."""
    return hashlib.blake2b(subject.encode() + b"\0" + envelope, digest_size=32).hexdigest()


def offer(pk: bytes, seq: int) -> bytes:
    return gpurent.Offer(provider_key=pk, seq=seq, region="eu-west", nodes=[
        gpurent.Node(node_id="n1", gpu=gpurent.GPU(model="H100 SXM5 80GB", cc_major=9, memory_mib=81559),
                     gpu_count=8, gpu_free=8, price_micro_per_gpu_hour=2_000_000)]).encode()


class World:
    """Keys, the trust snapshot readers use, and what was published where."""

    def __init__(self, tmp: Path) -> None:
        gpurent.init()
        self.provider = gpurent.Key.from_seed(bytes([1]) * 32)
        self.requester = gpurent.Key.from_seed(bytes([2]) * 32)
        self.auditor = gpurent.Key.from_seed(bytes([3]) * 32)
        self.stranger = gpurent.Key.from_seed(bytes([4]) * 32)
        self.trust_file = tmp / "trust.snap"
        with gpurent.TrustStore() as t:
            t.add(self.provider.public_key, gpurent.Role.PROVIDER)
            t.add(self.requester.public_key, gpurent.Role.REQUESTER)
            t.add(self.auditor.public_key, gpurent.Role.AUDITOR)
            t.save_file(self.trust_file, 0)

    def close(self) -> None:
        for k in (self.provider, self.requester, self.auditor, self.stranger):
            k.close()

    def sign(self, key: gpurent.Key, payload: bytes, nonce_byte: int) -> bytes:
        return key.sign(payload, T0, T0 + 3600, nonce=bytes([nonce_byte]) * 16)


def publish_all(js: natsmini.JetStream, w: World) -> list[str]:
    """Publish the test stream; return the lines every reader must print."""
    p_hex = w.provider.public_key.hex()
    r_hex = w.requester.public_key.hex()
    a_hex = w.auditor.public_key.hex()
    s_hex = w.stranger.public_key.hex()
    offer1 = w.sign(w.provider, offer(w.provider.public_key, 1), 1)
    offer2 = w.sign(w.provider, offer(w.provider.public_key, 2), 2)
    request = w.sign(w.requester, gpurent.Request(request_id="job-1", gpu_count=1).encode(), 3)
    audit = w.sign(w.auditor, gpurent.AuditReport(
        provider_key=w.provider.public_key, auditor_key=w.auditor.public_key, time_s=T0,
        gpu_report=gpurent.CheckResult.PASSED, integrity=gpurent.CheckResult.PASSED,
        security=gpurent.CheckResult.PASSED).encode(), 4)
    forged = bytearray(offer2)
    forged[-1] ^= 0x01  # the last byte of the provider's signature
    stranger_offer = w.sign(w.stranger, offer(w.stranger.public_key, 1), 5)

    def put(subject: str, env: bytes, mid: str = "") -> int:
        ack = js.publish(subject, env, msg_id=mid or msg_id(subject, env))
        assert not ack.get("duplicate"), subject
        return ack["seq"]

    expect = []
    digest = lambda env: gpurent.envelope_digest(env).hex()[:16]  # noqa: E731
    s = put(f"gpurent.offer.{p_hex}", offer1)
    expect.append(f"ok {s} offer {p_hex[:16]} {digest(offer1)}")
    # the same bytes again under the same id: the server drops it, it never reaches the stream
    again = js.publish(f"gpurent.offer.{p_hex}", offer1, msg_id=msg_id(f"gpurent.offer.{p_hex}", offer1))
    assert again.get("duplicate") is True and again["seq"] == s
    s = put(f"gpurent.request.{r_hex}", request)
    expect.append(f"ok {s} request {r_hex[:16]} {digest(request)}")
    s = put(f"gpurent.offer.{p_hex}", bytes(forged))
    expect.append(f"drop {s} offer forged GPURENT_E_BAD_SIGNATURE")
    # a replay that dodges the server's duplicate window with an id of its own
    s = put(f"gpurent.offer.{p_hex}", offer1, mid="not-the-digest")
    expect.append(f"drop {s} offer replayed GPURENT_E_REPLAYED")
    s = put(f"gpurent.offer.{s_hex}", stranger_offer)
    expect.append(f"drop {s} offer unknown-signer GPURENT_E_UNKNOWN_ISSUER")
    # a squatter files the provider's next offer (offer2, before its author
    # publishes it) under another key: dropped, and since the message id covers
    # the subject, the author's own publication below is still stored
    s = put(f"gpurent.offer.{r_hex}", offer2)
    expect.append(f"drop {s} offer wrong-subject {r_hex[:16]}")
    s = put(f"gpurent.offer.{r_hex}", w.sign(w.requester, gpurent.Request(request_id="job-2").encode(), 6))
    expect.append(f"drop {s} offer wrong-type GPURENT_E_WRONG_RECORD")
    s = put(f"gpurent.audit.{a_hex}", b"\xc1 not an envelope")
    expect.append(f"drop {s} audit undecodable GPURENT_E_MALFORMED")
    s = put(f"gpurent.audit.{a_hex}", audit)
    expect.append(f"ok {s} audit {a_hex[:16]} {digest(audit)}")
    s = put(f"gpurent.offer.{p_hex}", offer2)  # the genuine second offer, after the forgery of it
    expect.append(f"ok {s} offer {p_hex[:16]} {digest(offer2)}")
    expect.append("verified 4 dropped 6 forged=1 replayed=1 undecodable=1 unknown-signer=1 "
                  "wrong-subject=1 wrong-type=1")
    return expect


def run_reader(argv: list[str]) -> list[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "bindings" / "python"), env.get("PYTHONPATH")]))
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stderr == "", out.stderr
    return out.stdout.splitlines()


def py_reader(url: str, trust: Path, *extra: str) -> list[str]:
    return run_reader([sys.executable, str(ROOT / "examples" / "net" / "subscribe.py"), "--servers", url,
                       "--stream", STREAM, "--trust", str(trust), "--now", str(NOW), *extra])


def go_reader(url: str, trust: Path, *extra: str) -> list[str]:
    if not GO_READER.exists():
        pytest.fail(f"{GO_READER} not built (make check-net-clients builds it)")
    return run_reader([str(GO_READER), "-servers", url, "-stream", STREAM, "-trust", str(trust),
                       "-now", str(NOW), *[a.replace("--", "-", 1) for a in extra]])


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("net")
    w = World(tmp)
    with Cluster(servers=1) as c:
        with natsmini.Connection(c.url) as nc:
            js = natsmini.JetStream(nc)
            js.add_stream(STREAM, ["gpurent.>"], replicas=1, duplicate_window_s=600)
            expect = publish_all(js, w)
        yield c, w, expect
    w.close()


def test_python_reader_pull(published):
    c, w, expect = published
    assert py_reader(c.url, w.trust_file) == expect


def test_python_reader_push(published):
    c, w, expect = published
    assert py_reader(c.url, w.trust_file, "--consumer", "push") == expect


def test_go_reader_matches_python(published):
    c, w, expect = published
    assert go_reader(c.url, w.trust_file) == expect


@pytest.mark.parametrize("reader", [py_reader, go_reader])
def test_resume_from_a_snapshot(published, reader, tmp_path):
    """A reader resumes after the sequence its trust snapshot names, with the
    replay cache of the records before it: the replay is still caught."""
    c, w, expect = published
    cut = 3  # after the request; the replay of offer 1 comes at seq 4
    trust, _ = gpurent.TrustStore.load_file(w.trust_file)
    with trust:
        with natsmini.Connection(c.url) as nc:
            for m in natsmini.JetStream(nc).pull(STREAM):
                if m.seq > cut:
                    break
                try:
                    trust.verify(m.data, NOW, 300).close()
                except gpurent.Error:
                    pass
        snap = tmp_path / "resume.snap"
        trust.save_file(snap, cut)
    lines = reader(c.url, snap)
    assert lines[:-1] == expect[cut:-1]
    assert lines[-1] == "verified 2 dropped 5 replayed=1 undecodable=1 unknown-signer=1 wrong-subject=1 wrong-type=1"
    # without the earlier replay cache (a fresh store, reading from the same
    # sequence) the replay would pass: the snapshot is what makes it a replay
    fresh = reader(c.url, w.trust_file, "--from-seq", str(cut + 1))
    assert fresh[0].startswith(f"ok {cut + 1} offer ")


def test_reader_fails_cleanly_without_server(tmp_path):
    w = World(tmp_path)
    try:
        out = subprocess.run([sys.executable, str(ROOT / "examples" / "net" / "subscribe.py"), "--servers",
                              "nats://127.0.0.1:1", "--trust", str(w.trust_file)],
                             capture_output=True, text=True, timeout=60,
                             env={**os.environ, "PYTHONPATH": str(ROOT / "bindings" / "python")})
    finally:
        w.close()
    assert out.returncode == 1 and "could not connect" in out.stderr


def test_bench_net_smoke():
    """bench/net/run.sh on a few hundred envelopes: its own server, the same
    verified set and batch over NATS as in process, the three BENCH lines."""
    binary = BUILD / "bench" / "net" / "bench_net"
    if not binary.exists():
        pytest.fail(f"{binary} not built (make check-net-clients builds it)")
    out = subprocess.run(["bash", str(ROOT / "bench" / "net" / "run.sh"), str(binary), "300"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "same verified set and batch result over NATS as in process: yes" in out.stdout
    names = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("BENCH ")]
    assert names == ["net_publish_per_s", "net_consume_verify_per_s", "net_end_to_end_s"]
