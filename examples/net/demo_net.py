#!/usr/bin/env python3
"""make demo-net: the market across processes (docs/net.md).

A 3-server NATS JetStream cluster on loopback (tests/net/cluster.py), then as
separate processes 20 providers on fake machines (two of them answer only 60%
and 85% of the uptime challenges), 5 auditors, 3 matchmakers
and requesters, for a few compressed eras. One matchmaker and one auditor are
killed with SIGKILL mid-era and restarted. Everything started is stopped at
the end, whatever happens. The last line reads:

  net: receipts Q/N by quorum, evidence lost L, restarted nodes identical yes|no, p50 X ms, p99 Y ms, R requests/s
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests" / "net"))
from cluster import Cluster  # noqa: E402
from netmarket import NetMarket, REGIONS  # noqa: E402


def until(t: float) -> None:
    d = t - time.time()
    if d > 0:
        time.sleep(d)


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def make_requests(n: int, rng: random.Random) -> list[dict]:
    out = []
    for i in range(n):
        r = {"request_id": f"req-{i:03d}", "gpu_count": rng.choice([1, 1, 1, 2, 4]), "duration_s": 3600}
        if rng.random() < 0.3:
            r["regions"] = [rng.choice(REGIONS)]
        if rng.random() < 0.2:
            r["max_price_micro_per_gpu_hour"] = 1200000
        out.append(r)
    out.append({"request_id": "req-mars", "gpu_count": 1, "duration_s": 3600, "regions": ["mars"]})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--fake-driver", required=True)
    ap.add_argument("--providers", type=int, default=20)
    ap.add_argument("--auditors", type=int, default=5)
    ap.add_argument("--matchmakers", type=int, default=3)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--eras", type=int, default=4)
    ap.add_argument("--era-s", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    t_all = time.time()
    with tempfile.TemporaryDirectory(prefix="gpurent-demo-net-") as tmp, Cluster(servers=3) as c, \
            NetMarket(a.cli, a.fake_driver, c.url, Path(tmp), providers=a.providers, auditors=a.auditors,
                      matchmakers=a.matchmakers, era_s=a.era_s, epoch_s=2, tier_quorum=3, cert_quorum=3,
                      flaky={3: 60, 11: 85}) as m:
        print(f"cluster: 3 nats-server processes with JetStream on {c.url}")
        m.start_all()
        g = m.genesis
        print(f"started {a.providers} providers (fake machines), {a.auditors} auditors, {a.matchmakers} "
              f"matchmakers; eras of {a.era_s} s from {g}, batches every 2 s")
        # Requesters: one process per request, spread over the middle eras.
        reqs = make_requests(a.requests, rng)
        span = (a.eras - 1.5) * a.era_s
        t0 = g + 0.5 * a.era_s
        procs = []
        killed_at = restarted = None
        for i, r in enumerate(reqs):
            until(t0 + span * i / len(reqs))
            if killed_at is None and time.time() >= g + 1.5 * a.era_s:
                m.kill("matchmaker0")
                m.kill("auditor0")
                killed_at = time.time()
                print(f"SIGKILL matchmaker0 and auditor0 at era {(killed_at - g) / a.era_s:.2f}")
            if killed_at and not restarted and time.time() >= killed_at + 2:
                m.restart("matchmaker0")
                m.restart("auditor0")
                restarted = True
                print("restarted matchmaker0 and auditor0 from their state folders")
            procs.append((r, time.time(), m.submit(r, quorum=2, timeout=int(3 * a.era_s))))
        if killed_at and not restarted:
            m.restart("matchmaker0")
            m.restart("auditor0")
        results = []
        for r, t_sub, p in procs:
            try:
                out, _ = p.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
            try:
                results.append(json.loads(out))
                results[-1]["t_sub"] = t_sub
            except ValueError:
                results.append({"request_id": r["request_id"], "error": "no answer"})
        until(g + (a.eras + 0.6) * a.era_s)
        m.stop()
        w = m.watch()
        stats = {n: m.stats(n) for n in m.procs}
        pub = m.pub

    # ---- summary ----
    quorum = [x for x in results if "receipt_digest" in x]
    placed = [x for x in quorum if x.get("placed")]
    lat = [x["latency_ms"] for x in quorum]
    honest = [pub[f"matchmaker{i}"] for i in range(a.matchmakers)]
    auds = [pub[f"auditor{i}"] for i in range(a.auditors)]
    # Every batch and certificate signed with one digest by every matchmaker / auditor, the
    # restarted ones included; the last batch and era may be cut as the nodes stop, so there
    # only the digests must agree.
    batches = w.get("receipts", {})
    last_b = max((int(b.split("/")[1]) for b in batches), default=0)
    same_batches = all(len(set(by[k] for k in honest if k in by)) == 1
                       and (int(b.split("/")[1]) == last_b or all(k in by for k in honest))
                       for b, by in batches.items())
    certs = w.get("certs", {})
    last_e = max((int(k.split("/")[0]) for k in certs), default=0)
    same_certs = all(len(set(by.values())) == 1 and (int(k.split("/")[0]) == last_e or set(by) == set(auds))
                     for k, by in certs.items())
    eras_cut = sorted(int(k.split("/")[1]) for k in w.get("cuts", {}) if k.startswith("era/"))
    missing = 0
    for e in eras_cut:
        t = str(g + (e + 1) * a.era_s - 1)
        for k in auds:
            missing += max(0, a.providers - w.get("audits", {}).get(k, {}).get(t, 0))
    late = sum(s.get("role", {}).get("late_reports", 0) for n, s in stats.items() if n.startswith("auditor"))
    lost = missing + late
    identical = same_batches and same_certs and bool(batches) and bool(certs)
    d = w.get("dropped", {})
    print("\nsummary")
    print(f"  stream: {w.get('messages', 0)} messages, {sum(w.get('counts', {}).values())} verified, "
          f"dropped {sum(d.values())} ({', '.join(f'{k} {v}' for k, v in d.items() if v) or 'none'})")
    print(f"  batches: {len(batches)} cut at agreed stream sequences, every one signed identically by all "
          f"{a.matchmakers} matchmakers: {'yes' if same_batches else 'no'}")
    print(f"  eras: {len(eras_cut)} cut; {len(certs)} tier certificates, identical from all {a.auditors} auditors: "
          f"{'yes' if same_certs else 'no'}")
    ch = sum(s.get("role", {}).get("challenges", 0) for n, s in stats.items() if n.startswith("auditor"))
    ok = sum(s.get("role", {}).get("passed", 0) for n, s in stats.items() if n.startswith("auditor"))
    print(f"  uptime challenges: {ch} sent over request/reply, {ok} answered with a valid signed report")
    vals = w.get("cert_values", {})
    if vals:
        last_era = max(int(k.split("/")[0]) for k in vals)
        up = {k.split("/")[1]: v["uptime_ppm"] for k, v in vals.items() if int(k.split("/")[0]) == last_era}
        flaky = {pub["provider3"]: "60%", pub["provider11"]: "85%"}
        shown = ", ".join(f"{flaky[k]}-answering provider {up[k] / 1e4:.1f}%" for k in flaky if k in up)
        print(f"  era {last_era} uptime in the certificates: median {pct(list(up.values()), 50) / 1e4:.1f}%"
              + (f"; {shown}" if shown else ""))
    print(f"  requests: {len(placed)} placed, {len(quorum) - len(placed)} not placed (explained), "
          f"{len(results) - len(quorum)} without a quorum receipt")
    mars = next((x for x in results if x.get("request_id") == "req-mars"), {})
    if mars.get("explanation"):
        print("  an unplaced request, explained by replaying the stream to its cut:")
        for line in mars["explanation"].splitlines():
            print("    " + line)
    wall = time.time() - t_all
    # Throughput: receipts by quorum over the time from the first request's
    # publication to the last quorum receipt.
    t_first = min((x["t_sub"] for x in quorum), default=0.0)
    t_last = max((x["t_sub"] + x["latency_ms"] / 1000 for x in quorum), default=0.0)
    rate = len(quorum) / (t_last - t_first) if t_last > t_first else 0.0
    print(f"  total {wall:.1f} s")
    print(f"net: receipts {len(quorum)}/{len(results)} by quorum, evidence lost {lost}, restarted nodes identical "
          f"{'yes' if identical else 'no'}, p50 {pct(lat, 50):.0f} ms, p99 {pct(lat, 99):.0f} ms, "
          f"{rate:.1f} requests/s")
    return 0 if lost == 0 and identical and len(quorum) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
