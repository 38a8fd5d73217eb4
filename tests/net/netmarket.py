"""A market of `gpurent node` processes on a local NATS JetStream cluster.

Shared by the short test (tests/net/test_nodes.py) and `make demo-net`
(examples/net/demo_net.py). Every process started is a child of this one and is
stopped by `close()` (SIGTERM, then SIGKILL), which the `with` block always
calls; the servers are stopped by tests/net/cluster.py.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

PASS = "net-test-passphrase"
MACHINES = ["h100", "a100x8", "rtx4090"]
REGIONS = ["eu-west", "us-east", "ap-south"]


def seed_hex(role: str, i: int) -> str:
    import hashlib
    return hashlib.blake2b(f"{role}-{i}".encode(), digest_size=32).hexdigest()


class NetMarket:
    def __init__(self, cli: str, fake: str, url: str, root: Path, providers=3, auditors=3, matchmakers=3,
                 era_s=4, epoch_s=2, tier_quorum=2, cert_quorum=2, slots=2, liar=False, flaky=None):
        self.cli, self.fake, self.url, self.root = cli, fake, url, Path(root)
        self.n = {"provider": providers, "auditor": auditors, "matchmaker": matchmakers, "requester": 1,
                  "rogue": 1, "liar": 1 if liar else 0}
        self.era_s, self.epoch_s = era_s, epoch_s
        self.flaky = flaky or {}  # provider index -> share of challenges it answers, in %
        self.tier_quorum, self.cert_quorum, self.slots = tier_quorum, cert_quorum, slots
        self.env = dict(os.environ, GPURENT_PASSPHRASE=PASS)
        self.procs: dict[str, subprocess.Popen] = {}
        self.clients: list[subprocess.Popen] = []  # requesters
        self.pub: dict[str, str] = {}
        self.genesis = 0
        self.root.mkdir(parents=True, exist_ok=True)
        self._keys()

    # ---- keys and trust ----
    def key(self, role: str, i: int) -> str:
        return str(self.root / "keys" / f"{role}{i}.key")

    def _keys(self) -> None:
        (self.root / "keys").mkdir(exist_ok=True)
        roles = {"provider": "provider", "auditor": "auditor", "matchmaker": "matcher", "requester": "requester",
                 "liar": "matcher"}
        entries = []
        for role, count in self.n.items():
            for i in range(count):
                r = subprocess.run([self.cli, "keygen", "-o", self.key(role, i), "--fast", "--force",
                                    "--seed", seed_hex(role, i)], env=self.env, capture_output=True, text=True,
                                   check=True)
                self.pub[f"{role}{i}"] = r.stdout.strip()
                if role in roles:
                    entries.append({"key": r.stdout.strip(), "roles": [roles[role]]})
        self.trust = str(self.root / "trust.json")
        Path(self.trust).write_text(json.dumps({"keys": entries}))

    # ---- processes ----
    def _start(self, name: str, args: list[str]) -> None:
        log = open(self.root / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen([self.cli, *args], env=self.env, stdout=log, stderr=log,
                                            stdin=subprocess.DEVNULL)
        log.close()

    def common(self, role: str, i: int) -> list[str]:
        return ["--server", self.url, "--key", self.key(role, i), "--trust", self.trust]

    def state(self, name: str) -> str:
        return str(self.root / "state" / name)

    def start_provider(self, i: int) -> None:
        (self.root / "state").mkdir(exist_ok=True)
        self._start(f"provider{i}", ["node", "provider", *self.common("provider", i), "--fake-driver", self.fake,
                                     "--machine", MACHINES[i % len(MACHINES)], "--region", REGIONS[i % 3],
                                     "--price", str(900000 + 37000 * i), "--nodes", str(1 + i % 2),
                                     "--uptime-pct", str(self.flaky.get(i, 100)),
                                     "--state", self.state(f"provider{i}")])

    def start_auditor(self, i: int) -> None:
        self._start(f"auditor{i}", ["node", "auditor", *self.common("auditor", i), "--state",
                                    self.state(f"auditor{i}"), "--genesis", str(self.genesis), "--era-s",
                                    str(self.era_s), "--audit-seed", seed_hex("audit-seed", 0), "--slots",
                                    str(self.slots), "--tier-quorum", str(self.tier_quorum),
                                    "--challenge-timeout-ms", "1500"])

    def start_matchmaker(self, i: int, role: str = "matchmaker", extra: tuple = ()) -> None:
        name = f"{role}{i}"
        self._start(name, ["node", "matchmaker", *self.common(role, i), "--state", self.state(name),
                           "--genesis", str(self.genesis), "--epoch-s", str(self.epoch_s), "--cert-quorum",
                           str(self.cert_quorum), *extra])

    def start_all(self) -> None:
        for i in range(self.n["provider"]):
            self.start_provider(i)
        self.wait_seq(2 * self.n["provider"], 20)  # every report and offer is in the stream
        self.genesis = int(time.time()) + 1
        for i in range(self.n["auditor"]):
            self.start_auditor(i)
        for i in range(self.n["matchmaker"]):
            self.start_matchmaker(i)
        if self.n["liar"]:
            # It skips every report and offer (sequences 1..2P): its market is empty.
            skip = []
            for s in range(1, 2 * self.n["provider"] + 1):
                skip += ["--skip-seq", str(s)]
            self.start_matchmaker(0, "liar", tuple(skip))

    def kill(self, name: str) -> None:
        p = self.procs[name]
        p.send_signal(signal.SIGKILL)
        p.wait()

    def restart(self, name: str) -> None:
        role, i = name.rstrip("0123456789"), int(name[len(name.rstrip("0123456789")):])
        {"auditor": self.start_auditor, "provider": self.start_provider,
         "matchmaker": self.start_matchmaker}[role](i)

    def submit(self, req: dict, quorum: int = 2, timeout: int = 30) -> subprocess.Popen:
        path = self.root / f"req-{req['request_id']}.json"
        path.write_text(json.dumps(req))
        p = subprocess.Popen([self.cli, "request", "submit", *self.common("requester", 0), "--quorum",
                              str(quorum), "--timeout", str(timeout), "--cert-quorum", str(self.cert_quorum),
                              "--genesis", str(self.genesis), "--epoch-s", str(self.epoch_s), str(path)], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True)
        self.clients.append(p)
        return p

    def publish(self, subject: str, data: bytes, msg_id: str | None = None) -> str:
        path = self.root / "raw.bin"
        path.write_bytes(data)
        args = [self.cli, "node", "publish", "--server", self.url, "--subject", subject, str(path)]
        if msg_id:
            args += ["--msg-id", msg_id]
        return subprocess.run(args, env=self.env, capture_output=True, text=True, check=True).stdout.strip()

    def watch(self) -> dict:
        r = subprocess.run([self.cli, "node", "watch", "--server", self.url, "--trust", self.trust,
                            "--idle-ms", "1500"], env=self.env, capture_output=True, text=True, check=True,
                           timeout=120)
        return json.loads(r.stdout)

    def wait_seq(self, n: int, timeout: float) -> None:
        end = time.time() + timeout
        while time.time() < end:
            if self.watch_quick() >= n:
                return
            time.sleep(0.3)
        raise TimeoutError(f"the stream did not reach {n} messages")

    def watch_quick(self) -> int:
        r = subprocess.run([self.cli, "node", "watch", "--server", self.url, "--trust", self.trust,
                            "--idle-ms", "200"], env=self.env, capture_output=True, text=True, timeout=60)
        return json.loads(r.stdout)["last_seq"] if r.returncode == 0 else 0

    def stats(self, name: str) -> dict:
        try:
            return json.loads((Path(self.state(name)) / "stats.json").read_text())
        except (OSError, ValueError):
            return {}

    def stop(self, names=None) -> None:
        names = list(self.procs) if names is None else names
        for n in names:
            p = self.procs[n]
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for n in names:
            p = self.procs[n]
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def close(self) -> None:
        for p in self.clients:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.stop()

    def __enter__(self) -> "NetMarket":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
