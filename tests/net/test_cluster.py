"""tests/net/cluster.py: servers start ready, JetStream works, and nothing
is left behind (processes, folder) however the owner ends."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cluster import Cluster, _alive  # noqa: E402
import natsmini  # noqa: E402  (cluster.py put examples/net on sys.path)


def _gone(pids: list[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def _roundtrip(url: str, stream: str, replicas: int, n: int) -> list[bytes]:
    with natsmini.Connection(url) as nc:
        js = natsmini.JetStream(nc)
        js.add_stream(stream, [f"{stream.lower()}.>"], replicas=replicas)
        for i in range(n):
            ack = js.publish(f"{stream.lower()}.x", b"m%d" % i, msg_id=f"id-{i}")
            assert ack["seq"] == i + 1 and not ack.get("duplicate")
        again = js.publish(f"{stream.lower()}.x", b"m0", msg_id="id-0")
        assert again.get("duplicate") is True
        return [m.data for m in js.pull(stream)]


def test_single_server_usable_then_nothing_left():
    with Cluster(servers=1) as c:
        assert len(c.urls) == 1 and c.urls[0].startswith("nats://127.0.0.1:")
        pids, folder = c.pids, c.dir
        assert folder is not None and folder.is_dir()
        assert all(_alive(p) for p in pids)
        assert _roundtrip(c.url, "ONE", 1, 5) == [b"m%d" % i for i in range(5)]
    assert not any(_alive(p) for p in pids)
    assert not folder.exists()


def test_three_servers_survive_a_sigkill():
    with Cluster(servers=3) as c:
        pids, folder = c.pids, c.dir
        assert len(set(c.urls)) == 3 and len(set(pids)) == 3
        assert _roundtrip(c.urls[0], "R3", 3, 10) == [b"m%d" % i for i in range(10)]
        with natsmini.Connection(c.urls[0]) as nc:
            leader = natsmini.JetStream(nc).stream_info("R3")["cluster"]["leader"]
        victim = int(leader[1:]) - 1  # servers are named n1..n3
        c.kill(victim)
        assert not _alive(pids[victim])
        other = c.urls[(victim + 1) % 3]
        # the two survivors elect a new stream leader; writes need their quorum
        deadline = time.monotonic() + 20
        while True:
            try:
                with natsmini.Connection(other) as nc:
                    js = natsmini.JetStream(nc)
                    ack = js.publish("r3.x", b"after", msg_id="after-kill")
                    break
            except (natsmini.NatsError, TimeoutError):
                assert time.monotonic() < deadline, "stream not writable after one server was killed"
                time.sleep(0.2)
        assert ack["seq"] == 11
        with natsmini.Connection(other) as nc:
            got = [m.data for m in natsmini.JetStream(nc).pull("R3")]
        assert got == [b"m%d" % i for i in range(10)] + [b"after"]
        c.restart(victim)
        assert _alive(c.pids[victim])
        new_pids = c.pids
    assert not any(_alive(p) for p in pids + new_pids)
    assert not folder.exists()


def test_cli_start_stop(tmp_path):
    d = tmp_path / "cl"
    out = subprocess.run([sys.executable, str(HERE / "cluster.py"), "start", "--servers", "3", "--dir", str(d)],
                         capture_output=True, text=True, timeout=60, check=True)
    urls = out.stdout.strip().split(",")
    pids = [s["pid"] for s in json.loads((d / "cluster.json").read_text())["servers"]]
    try:
        assert len(urls) == 3 and all(u.startswith("nats://127.0.0.1:") for u in urls)
        assert all(_alive(p) for p in pids)  # the servers outlive `start`
        assert _roundtrip(",".join(urls), "CLI", 3, 3) == [b"m0", b"m1", b"m2"]
    finally:
        stop = subprocess.run([sys.executable, str(HERE / "cluster.py"), "stop", "--dir", str(d)],
                              capture_output=True, text=True, timeout=60)
    assert stop.returncode == 0, stop.stderr
    assert _gone(pids)
    assert not d.exists()


def test_cli_refuses_a_folder_in_use(tmp_path):
    (tmp_path / "x").write_text("not ours")
    out = subprocess.run([sys.executable, str(HERE / "cluster.py"), "start", "--dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "not empty" in out.stderr
    assert (tmp_path / "x").read_text() == "not ours"


_OWNER = """
import sys, time
sys.path.insert(0, {here!r})
from cluster import Cluster
c = Cluster(servers={n}).start()
print(",".join(map(str, c.pids)), c.dir, flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_owner_killed_takes_its_servers(sig):
    """SIGTERM: the handler stops the servers and removes the folder;
    SIGKILL: the kernel's parent-death signal ends the servers."""
    owner = subprocess.Popen([sys.executable, "-c", _OWNER.format(here=str(HERE), n=3)],
                             stdout=subprocess.PIPE, text=True)
    try:
        line = owner.stdout.readline().split()
        pids, folder = [int(p) for p in line[0].split(",")], Path(line[1])
        assert all(_alive(p) for p in pids)
        owner.send_signal(sig)
        owner.wait(timeout=30)
        assert _gone(pids)
        if sig == signal.SIGTERM:
            assert not folder.exists()
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        owner.stdout.close()
    if sig == signal.SIGKILL:  # nobody could remove it: the test does
        import shutil
        shutil.rmtree(folder, ignore_errors=True)


def test_refuses_other_sizes():
    with pytest.raises(ValueError):
        Cluster(servers=2)
