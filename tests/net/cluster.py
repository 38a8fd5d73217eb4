#!/usr/bin/env python3
"""Start and stop a local nats-server (2.9) JetStream cluster for tests and demos.

One or three servers on free loopback ports (client and cluster ports), their
JetStream data in a temporary folder, ready when JetStream answers (a 3-server
cluster has elected its meta leader). Every process started is stopped, and
the folder removed, whatever happens: on leaving the `with` block, at
interpreter exit, on SIGTERM/SIGINT, and, should this process itself be killed,
by the kernel (each server gets PR_SET_PDEATHSIG=SIGKILL).

As a module:

    from cluster import Cluster
    with Cluster(servers=3) as c:
        c.url            # "nats://127.0.0.1:P1,nats://127.0.0.1:P2,..."
        c.urls           # the same as a list
        c.kill(1)        # SIGKILL server 1 (0-based); c.restart(1) starts it again

From the shell (the servers outlive the command; `stop` ends them):

    python3 tests/net/cluster.py start --servers 3 --dir D   # prints the client URLs, comma-separated
    python3 tests/net/cluster.py stop --dir D                # stops them, removes D

Standard library only; `nats-server` is looked up on PATH (override: NATS_SERVER).
"""
from __future__ import annotations

import argparse
import atexit
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "net"))
import natsmini  # noqa: E402

__all__ = ["Cluster", "ClusterError"]

_PR_SET_PDEATHSIG = 1
_STATE = "cluster.json"


class ClusterError(Exception):
    """A server would not start, or JetStream did not become ready in time."""


def _free_ports(n: int) -> list[int]:
    """n distinct loopback ports nobody listens on now (all held open while
    choosing, so they differ; a race with another process is caught at start)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited: only its parent's wait is missing
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class _Server:
    def __init__(self, index: int, root: Path, client_port: int, cluster_port: int) -> None:
        self.index = index
        self.name = f"n{index + 1}"
        self.client_port = client_port
        self.cluster_port = cluster_port
        self.conf = root / f"{self.name}.conf"
        self.store = root / self.name
        self.log = root / f"{self.name}.log"
        self.proc: Optional[subprocess.Popen] = None
        self.pid = 0

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    def write_conf(self, cluster_name: str, peers: list["_Server"]) -> None:
        lines = [
            f'server_name: "{self.name}"',
            f'listen: "127.0.0.1:{self.client_port}"',
            f'log_file: "{self.log}"',
            "jetstream {",
            f'  store_dir: "{self.store}"',
            "  max_memory_store: 256MB",
            "  max_file_store: 4GB",
            "}",
        ]
        if len(peers) > 1:
            routes = ", ".join(f'"nats-route://127.0.0.1:{p.cluster_port}"' for p in peers if p is not self)
            lines += [
                "cluster {",
                f'  name: "{cluster_name}"',
                f'  listen: "127.0.0.1:{self.cluster_port}"',
                f"  routes: [{routes}]",
                "}",
            ]
        self.conf.write_text("\n".join(lines) + "\n")


class Cluster:
    """A running nats-server JetStream cluster of 1 or 3 servers (see the module doc)."""

    def __init__(self, servers: int = 1, dir: Optional[str | os.PathLike] = None, name: str = "gpurent-test",
                 ready_timeout: float = 30.0, detach: bool = False) -> None:
        if servers not in (1, 3):
            raise ValueError("servers must be 1 or 3")
        self.n = servers
        self.cluster_name = name
        self.ready_timeout = ready_timeout
        self.detach = detach  # CLI `start`: servers outlive this process, no death signal
        self._given_dir = Path(dir) if dir is not None else None
        self.dir: Optional[Path] = None
        self._made_dir = False
        self.servers: list[_Server] = []
        self._stopped = True
        self._old_handlers: dict[int, object] = {}

    # ---- properties ----

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]

    @property
    def url(self) -> str:
        return ",".join(self.urls)

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self.servers]

    # ---- life cycle ----

    def __enter__(self) -> "Cluster":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> "Cluster":
        if self._given_dir is not None:
            self._given_dir.mkdir(parents=True, exist_ok=True)
            if any(self._given_dir.iterdir()):
                raise ClusterError(f"{self._given_dir} is not empty")
            self.dir = self._given_dir
        else:
            self.dir = Path(tempfile.mkdtemp(prefix="gpurent-nats-"))
        self._made_dir = True
        self._stopped = False
        if not self.detach:
            atexit.register(self.stop)
            self._install_signal_handlers()
        try:
            last: Exception = ClusterError("not started")
            for _attempt in range(3):  # a port taken between choosing it and binding: choose again
                try:
                    self._spawn_all()
                    self._wait_ready()
                    break
                except ClusterError as e:
                    last = e
                    self._kill_all()
                    for child in self.dir.iterdir():
                        shutil.rmtree(child) if child.is_dir() else child.unlink()
            else:
                raise last
            self._write_state()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn_all(self) -> None:
        assert self.dir is not None
        ports = _free_ports(2 * self.n)
        self.servers = [_Server(i, self.dir, ports[2 * i], ports[2 * i + 1]) for i in range(self.n)]
        for s in self.servers:
            s.write_conf(self.cluster_name, self.servers)
        for s in self.servers:
            self._spawn(s)

    def _spawn(self, s: _Server) -> None:
        exe = os.environ.get("NATS_SERVER") or shutil.which("nats-server") or "/usr/sbin/nats-server"
        s.proc = subprocess.Popen([exe, "-c", str(s.conf)], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True,  # own process group: killed as a whole
                                  preexec_fn=None if self.detach else _die_with_parent)
        s.pid = s.proc.pid

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        for s in self.servers:
            self._wait_server(s, deadline)

    def _wait_server(self, s: _Server, deadline: float) -> None:
        """Until this server answers $JS.API.INFO without error (in a cluster
        only once a meta leader is elected)."""
        why = "no answer"
        while time.monotonic() < deadline:
            if s.proc is not None and s.proc.poll() is not None:
                raise ClusterError(f"{s.name} exited with {s.proc.returncode}: {self._log_tail(s)}")
            try:
                with natsmini.Connection(s.url, name="cluster-ready", timeout=1.0) as nc:
                    natsmini.JetStream(nc, timeout=1.0).account_info()
                    return
            except (OSError, natsmini.NatsError, TimeoutError) as e:
                why = str(e)
            time.sleep(0.1)
        raise ClusterError(f"{s.name} not ready in {self.ready_timeout:.0f} s ({why}): {self._log_tail(s)}")

    @staticmethod
    def _log_tail(s: _Server) -> str:
        try:
            return " | ".join(s.log.read_text(errors="replace").splitlines()[-5:])
        except OSError:
            return "(no log)"

    def _write_state(self) -> None:
        assert self.dir is not None
        state = {"urls": self.urls, "servers": [
            {"name": s.name, "pid": s.pid, "conf": str(s.conf), "client_port": s.client_port,
             "cluster_port": s.cluster_port} for s in self.servers]}
        (self.dir / _STATE).write_text(json.dumps(state, indent=1) + "\n")

    # ---- faults ----

    def kill(self, index: int, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to server `index` (SIGKILL by default) and reap it."""
        s = self.servers[index]
        if s.proc is not None and s.proc.poll() is None:
            os.killpg(s.pid, sig)
            if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
                s.proc.wait(timeout=10)

    def restart(self, index: int) -> None:
        """Start server `index` again (same ports, same data) and wait until it is ready."""
        s = self.servers[index]
        if s.proc is not None and s.proc.poll() is None:
            raise ClusterError(f"{s.name} is still running")
        self._spawn(s)
        self._write_state()
        self._wait_server(s, time.monotonic() + self.ready_timeout)

    def wait_ready(self, timeout: Optional[float] = None) -> None:
        """Until every running server answers JetStream requests again."""
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        for s in self.servers:
            if s.proc is not None and s.proc.poll() is None:
                self._wait_server(s, deadline)

    # ---- stopping ----

    def _kill_all(self) -> None:
        for s in self.servers:
            if s.proc is None:
                continue
            if s.proc.poll() is None:
                try:
                    os.killpg(s.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for s in self.servers:
            if s.proc is None:
                continue
            try:
                s.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(s.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                s.proc.wait()
            try:  # anything else left in its process group
                os.killpg(s.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def stop(self) -> None:
        """Stop every server started here, wait for each, remove the folder. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self._kill_all()
        finally:
            if self._made_dir and self.dir is not None:
                shutil.rmtree(self.dir, ignore_errors=True)
            self._restore_signal_handlers()
            try:
                atexit.unregister(self.stop)
            except Exception:  # noqa: BLE001 - interpreter shutting down
                pass

    def _install_signal_handlers(self) -> None:
        import threading
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGHUP):
            old = signal.getsignal(sig)
            if old in (signal.SIG_DFL, None):
                self._old_handlers[sig] = old
                signal.signal(sig, self._on_signal)

    def _restore_signal_handlers(self) -> None:
        for sig, old in self._old_handlers.items():
            try:
                signal.signal(sig, old)  # type: ignore[arg-type]
            except (ValueError, TypeError):
                pass
        self._old_handlers.clear()

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stop()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


# ---- CLI ----

def _stop_dir(d: Path) -> int:
    """Stop the servers a detached `start` left in `d`, then remove `d`."""
    state_file = d / _STATE
    if not state_file.exists():
        print(f"cluster.py: no {_STATE} in {d}", file=sys.stderr)
        return 1
    state = json.loads(state_file.read_text())
    pids = []
    for s in state["servers"]:
        pid = int(s["pid"])
        # only a process still running this very configuration (the pid may have been reused)
        if _alive(pid) and s["conf"] in _cmdline(pid):
            pids.append(pid)
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for p in pids:
        if _alive(p):
            try:
                os.killpg(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [p for p in pids if _alive(p)]
    shutil.rmtree(d, ignore_errors=True)
    if left:
        print(f"cluster.py: still running: {left}", file=sys.stderr)
        return 1
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="local nats-server JetStream cluster")
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start", help="start servers, print the client URLs (comma-separated)")
    st.add_argument("--servers", type=int, choices=(1, 3), default=1)
    st.add_argument("--dir", required=True, help="folder for configs, data and logs (created; must be empty)")
    st.add_argument("--name", default="gpurent-test", help="cluster name")
    st.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for JetStream")
    sp = sub.add_parser("stop", help="stop the servers started with --dir and remove it")
    sp.add_argument("--dir", required=True)
    args = ap.parse_args(argv)
    if args.cmd == "stop":
        return _stop_dir(Path(args.dir))
    c = Cluster(servers=args.servers, dir=args.dir, name=args.name, ready_timeout=args.timeout, detach=True)
    try:
        c.start()
    except ClusterError as e:
        print(f"cluster.py: {e}", file=sys.stderr)
        return 1
    print(c.url, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
