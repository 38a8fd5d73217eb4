"""Runs a tests/fixtures/scenario/*.scn script through the Python bindings
and returns the hex lines of the records it produces (the format is in that
folder's README; bindings/fixtures/scenario_fixture.c is the C reader)."""
from pathlib import Path
from typing import List, Optional

import gpurent

SCENARIO_DIR = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "scenario"
# The options the scenario language has (the C and Go readers know these only).
TIER_OPTIONS = ("first_era", "quorum_auditors", "min_incubation_eras", "window_eras", "bound", "z_milli")


def _key(s: str) -> bytes:
    assert s.startswith("hex:") and len(s) == 68, s
    return bytes.fromhex(s[4:])


def run(path: Path, keep: Optional[list] = None) -> List[str]:
    """The records `path` prints. With `keep` (a list), the tier engine is
    appended to it open instead of closed (the caller closes it)."""
    out: List[str] = []
    topts = {}
    engine = market = report = offer = last = None
    events: List[gpurent.TierEvent] = []
    try:
        for line in path.read_text().splitlines():
            if not line or line.startswith("#"):
                continue
            v = line.split(" ")
            d, a = v[0], v[1:]
            if d == "tier_option":
                if a[0] not in TIER_OPTIONS:
                    raise ValueError(f"{path}: unknown tier option {a[0]}")
                topts[a[0]] = int(a[1])
            elif d == "engine":
                # the script's reports are evidence taken as verified
                engine = gpurent.TierEngine(gpurent.TierOptions(unverified_evidence=1, **topts))
            elif d == "report":
                report = gpurent.AuditReport(provider_key=_key(a[0]), auditor_key=_key(a[1]), time_s=int(a[2]),
                                             gpu_report=int(a[3]), integrity=int(a[4]), security=int(a[5]),
                                             stake_observed=int(a[6]), stake_micro=int(a[7]))
            elif d == "challenge":
                report.challenges.append(gpurent.Challenge(int(a[0]), int(a[1]), int(a[2])))
            elif d == "job":
                report.jobs.append(gpurent.Job(a[0], int(a[1]), int(a[2])))
            elif d == "record_report":
                engine.record_report(report)
            elif d == "event":
                events.append(gpurent.TierEvent(_key(a[0]), int(a[1]), int(a[2]), int(a[3])))
            elif d == "record_events":
                engine.record(events)
                events = []
            elif d == "evaluate":
                engine.evaluate(int(a[0]))
            elif d == "certificate":
                out.append(engine.certificate(_key(a[0])).encode().hex())
            elif d == "market":
                market = gpurent.Market(gpurent.MatchOptions.preset(int(a[0])), _key(a[1]))
            elif d == "offer":
                offer = gpurent.Offer(provider_key=_key(a[0]), seq=int(a[1]), region=a[2], stake_micro=int(a[3]))
            elif d == "node":
                n = [a[0], a[1]] + [int(x) for x in a[2:]]
                offer.nodes.append(gpurent.Node(
                    node_id=n[0], gpu=gpurent.GPU(model=n[1], cc_major=n[2], cc_minor=n[3], memory_mib=n[4],
                                                  fp32_gflops=n[5], interface=n[6], cuda_version=n[7]),
                    gpu_count=n[8], gpu_free=n[9], shared=n[10], cpu_millicores=n[11], ram_mib=n[12],
                    disk_gib=n[13], price_micro_per_gpu_hour=n[14]))
            elif d == "put_offer":
                market.put_offer(offer)
            elif d == "trust":
                market.set_trust(_key(a[0]), int(a[1]), int(a[2]))
            elif d == "verified":
                market.set_verified(_key(a[0]), a[1], a[2] == "1")
            elif d == "request":
                n = [int(x) for x in a[1:10]]
                market.add_request(gpurent.Request(
                    request_id=a[0], gpu_count=n[0], gang_nodes=n[1], gang_scope=n[2], vram_share_pct=n[3],
                    min_vram_mib=n[4], max_price_micro_per_gpu_hour=n[5], allowed_tiers=n[6],
                    verified_only=n[7], submitted_at=n[8], models=a[10:]))
            elif d == "match":
                last = market.match(int(a[0]))
                out.append(last.encode().hex())
            elif d == "apply":
                market.apply(last)
            elif d == "end_lease":
                market.end_lease(a[0])
            else:
                raise ValueError(f"{path}: unknown directive {d}")
    finally:
        if keep is not None and engine is not None:
            keep.append(engine)
            engine = None
        for h in (engine, market):
            if h is not None:
                h.close()
    return out
