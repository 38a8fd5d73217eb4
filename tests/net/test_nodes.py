"""`gpurent node` processes on a local JetStream server: the short version of
`make demo-net` (docs/net.md).

One run (module fixture) on its own nats-server (free loopback port, data in a
temporary folder, stopped whatever happens): 3 providers on fake machines, 3
auditors, 3 honest matchmakers and one that saw another stream prefix, two
requests, SIGKILL + restart of a matchmaker and an auditor mid-era, then an
attacker who replays, forges and signs with an unknown key. The tests read the
nodes' stats and the whole stream (gpurent node watch).
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import Cluster  # noqa: E402
import natsmini  # noqa: E402  (examples/net, on the path through cluster.py)
from netmarket import NetMarket  # noqa: E402

CLI = os.environ.get("GPURENT_CLI", "build/gpurent")
BUILD = os.environ.get("GPURENT_TEST_BUILD", "build")
FAKE = os.path.abspath(os.path.join(BUILD, "tests", "libfakecuda.so"))

pytestmark = pytest.mark.skipif(not os.environ.get("GPURENT_NET_NODES"),
                                reason="run by make check-net (needs the CLI and the fake driver)")

ERA_S = 5  # an era cut comes half an era after the era: a restarted auditor has 2.5 s to report
PROVIDERS = 3
FLAKY = 2  # provider 2 answers about 40% of the challenges
HONEST = ["matchmaker0", "matchmaker1", "matchmaker2"]
AUDITORS = ["auditor0", "auditor1", "auditor2"]


def signed_report(m, role, i, out):
    env = dict(m.env, FAKECUDA_MACHINE="h100")
    subprocess.run([CLI, "probe", "--driver", FAKE, "--key", m.key(role, i), "-o", str(out)], env=env,
                   check=True, capture_output=True)
    return Path(out).read_bytes()


def sign_cut(m, role, i, scope, number, boundary, root):
    """A cut statement (docs/net.md): canonical map {0: 4096, 1: scope, 2: number, 3: boundary}."""
    import msgpack
    pay = root / "cut.bin"
    pay.write_bytes(msgpack.packb({0: 4096, 1: scope, 2: number, 3: boundary}))
    out = root / "cut.env"
    subprocess.run([CLI, "sign", "--key", m.key(role, i), str(pay), "-o", str(out)], env=m.env, check=True,
                   capture_output=True)
    return out.read_bytes()


def cut_id(scope, number):
    """The shared Nats-Msg-Id of cut (scope, number)."""
    import hashlib
    return hashlib.blake2b(b"gpurent-cut-id\0" + scope.encode() + b"\0" + str(number).encode(),
                           digest_size=32).hexdigest()


def until(t):
    d = t - time.time()
    if d > 0:
        time.sleep(d)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("net")
    res = {}
    with Cluster(servers=1) as c, NetMarket(CLI, FAKE, c.url, root, providers=PROVIDERS, era_s=ERA_S,
                                            liar=True, flaky={FLAKY: 40}, slots=3) as m:
        m.start_all()  # the liar skips every report and offer
        g = m.genesis
        until(g + 1.2 * ERA_S)
        r1 = m.submit({"request_id": "r1", "gpu_count": 1, "duration_s": 3600})
        r2 = m.submit({"request_id": "r2", "gpu_count": 1, "duration_s": 3600, "regions": ["mars"]})
        r3 = m.submit({"request_id": "r3", "gpu_count": 2, "duration_s": 3600, "verified_only": 1})
        until(g + 1.6 * ERA_S)  # after the first era cut (g + 7.5 s): both have snapshots
        m.kill("matchmaker0")
        m.kill("auditor0")
        time.sleep(1.5)
        m.restart("matchmaker0")
        m.restart("auditor0")
        time.sleep(1.5)
        # The attacker.
        p0, p1, rogue = m.pub["provider0"], m.pub["provider1"], m.pub["rogue0"]
        good = signed_report(m, "provider", 0, root / "good.env")
        res["first"] = m.publish(f"gpurent.report.{p0}", good)
        res["dup"] = m.publish(f"gpurent.report.{p0}", good)  # same id: the server drops it
        res["replay"] = m.publish(f"gpurent.report.{p0}", good, msg_id="replayed-1")  # in the stream
        forged = bytearray(good)
        forged[-1] ^= 1  # the last signature byte
        res["forged"] = m.publish(f"gpurent.report.{p0}", bytes(forged))
        other = signed_report(m, "provider", 1, root / "other.env")
        res["misnamed"] = m.publish(f"gpurent.report.{p0}", other)  # provider 1's statement under 0's name
        bad = signed_report(m, "rogue", 0, root / "rogue.env")
        res["rogue"] = m.publish(f"gpurent.report.{rogue}", bad)
        # Receipts, which providers read: one of matchmaker1's, forged and replayed.
        mk1 = m.pub["matchmaker1"]
        with natsmini.Connection(c.url) as nc:
            rec = next(natsmini.JetStream(nc).pull("GPURENT", 1, f"gpurent.receipt.{mk1}")).data
        res["rreplay"] = m.publish(f"gpurent.receipt.{mk1}", rec, msg_id="replayed-receipt")
        forged_rec = bytearray(rec)
        forged_rec[-1] ^= 1
        res["rforged"] = m.publish(f"gpurent.receipt.{mk1}", bytes(forged_rec))
        # Cuts: a trusted matchmaker's cut far ahead of the clock (refused: it would stall every
        # later batch), and an unknown key squatting on the shared message ids of the next batch
        # cut and the next era cut (the proposers fall back to their own ids).
        res["ahead"] = m.publish("gpurent.cut.main", sign_cut(m, "liar", 0, "batch:main", 10**9, g + 2 * 10**9,
                                                              root), msg_id="ahead")
        now_epoch = int(time.time() - g) // m.epoch_s
        res["squat_epoch"] = now_epoch + 2
        res["squat_era"] = int(time.time() - g) // ERA_S
        for subj, scope, num in (("gpurent.cut.main", "batch:main", res["squat_epoch"]),
                                 ("gpurent.era", "era", res["squat_era"])):
            m.publish(subj, sign_cut(m, "rogue", 0, scope, num, g, root), msg_id=cut_id(scope, num))
        # Eras 0..2 over and cut, and time for the squatted cuts' fallbacks (a slow machine
        # may reach this point late).
        until(max(g + 4.6 * ERA_S, g + res["squat_epoch"] * m.epoch_s + 3,
                  g + (res["squat_era"] + 1.5) * ERA_S + 3))
        res["r1"] = json.loads(r1.communicate(timeout=40)[0])
        res["r2"] = json.loads(r2.communicate(timeout=40)[0])
        res["r3"] = json.loads(r3.communicate(timeout=40)[0])
        res["r1_rc"], res["r2_rc"] = r1.returncode, r2.returncode
        m.stop()
        res["stats"] = {n: m.stats(n) for n in m.procs}
        res["watch"] = m.watch()
        res["pub"] = dict(m.pub)
        res["genesis"] = g
        res["logs"] = {n: (root / f"{n}.log").read_text(errors="replace") for n in m.procs}
    return res


def honest_keys(run):
    return {run["pub"][n] for n in HONEST}


def test_every_batch_signed_identically_by_every_honest_matchmaker(run):
    receipts = run["watch"]["receipts"]
    assert len(receipts) >= 6, receipts.keys()
    hk = honest_keys(run)
    last = max(int(b.split("/")[1]) for b in receipts)
    for batch, by in receipts.items():
        honest = {k: d for k, d in by.items() if k in hk}
        # The restarted matchmaker signed the batches it missed, the same bytes (the last batch
        # may have been cut as the nodes stopped).
        if int(batch.split("/")[1]) < last:
            assert set(honest) == hk, batch
        assert len(set(honest.values())) == 1, batch
    assert "resumed from" in run["logs"]["matchmaker0"]


def test_batches_cut_once_each_and_receipts_name_the_cut(run):
    cuts = run["watch"]["cuts"]
    for batch in run["watch"]["receipts"]:
        scope_epoch, seq = batch.rsplit("/", 1)
        assert cuts[scope_epoch] == int(seq)


def test_a_matchmaker_with_another_prefix_cannot_complete_a_quorum(run):
    liar = run["pub"]["liar0"]
    hk = honest_keys(run)
    signed = 0
    for batch, by in run["watch"]["receipts"].items():
        if liar in by:
            signed += 1
            assert by[liar] not in {d for k, d in by.items() if k in hk}, batch
    assert signed >= 3
    # The requester's quorum receipt is the honest one.
    r1 = run["r1"]
    batch = f"batch:main/{r1['epoch']}/{r1['cut_seq']}"
    assert r1["receipt_digest"] == run["watch"]["receipts"][batch][run["pub"]["matchmaker1"]]


def test_requests_placed_or_explained_by_quorum(run):
    r1, r2 = run["r1"], run["r2"]
    assert run["r1_rc"] == 0 and r1["placed"] and r1["signers"] >= 2, r1
    assert r1["placements"][0]["gpus"] == 1
    # The provider that runs r1 offered again, with one GPU fewer free.
    placed_on = [n for n in range(PROVIDERS) if run["pub"][f"provider{n}"] == r1["placements"][0]["provider"]]
    assert len(placed_on) == 1
    assert run["stats"][f"provider{placed_on[0]}"]["role"]["offers"] >= 2
    assert run["watch"]["counts"]["offer"] >= PROVIDERS + 1
    assert run["r2_rc"] == 1 and not r2["placed"], r2
    assert "outside the allowed regions" in r2["explanation"], r2
    assert r2["replayed_receipt_matches"] is True
    # verified_only: matchmakers mark the nodes whose offer points at a verified GPU report.
    assert run["r3"]["placed"] and run["r3"]["placements"][0]["gpus"] == 2, run["r3"]


def test_certificates_identical_across_auditors_restarted_one_included(run):
    certs = run["watch"]["certs"]
    aks = {run["pub"][a] for a in AUDITORS}
    eras = {k.split("/")[0] for k in certs}
    assert {"0", "1", "2"} <= eras, eras
    last = max(int(e) for e in eras)
    for key, by in certs.items():
        if int(key.split("/")[0]) < last:  # the last era's may be cut as the nodes stop
            assert set(by) == aks, key
        assert len(set(by.values())) == 1, key
    assert "resumed from" in run["logs"]["auditor0"]


def test_uptime_measured_from_real_answers(run):
    sent = sum(run["stats"][a]["role"]["challenges"] for a in AUDITORS)
    passed = sum(run["stats"][a]["role"]["passed"] for a in AUDITORS)
    ign = run["stats"][f"provider{FLAKY}"]["role"]["ignored"]
    # (a restarted auditor counts from its restart; a slow answer fails too)
    assert ign > 0 and sent - passed > 0, (sent, passed, ign)
    for n in range(PROVIDERS):
        if n != FLAKY:
            assert run["stats"][f"provider{n}"]["role"]["ignored"] == 0
    vals = run["watch"]["cert_values"]
    flaky = run["pub"][f"provider{FLAKY}"]
    worst = {}
    for key, v in vals.items():
        era, pk = key.split("/")
        worst[pk] = min(worst.get(pk, 10**6), v["uptime_ppm"])
    assert worst[flaky] < min(u for pk, u in worst.items() if pk != flaky), worst


def test_no_evidence_lost_after_the_kills(run):
    w = run["watch"]
    eras_cut = [k for k in w["cuts"] if k.startswith("era/")]
    assert len(eras_cut) >= 3
    for a in AUDITORS:
        st = run["stats"][a]["role"]
        assert st["late_reports"] == 0, (a, st)
        # one report per provider for every era cut, the killed auditor's included
        for cut in eras_cut:
            t = run["genesis"] + (int(cut.split("/")[1]) + 1) * ERA_S - 1
            assert w["audits"][run["pub"][a]].get(str(t)) == PROVIDERS, (a, cut, w["audits"])
        assert st["challenges"] > 0 and st["passed"] > 0


def test_forged_replayed_unknown_dropped_by_every_consumer(run):
    assert run["dup"] == "duplicate"
    for r in ("first", "replay", "forged", "misnamed", "rogue", "rreplay", "rforged"):
        assert run[r].isdigit(), (r, run[r])
    for n in HONEST + AUDITORS:  # reports (and cuts) are theirs to read
        d = run["stats"][n]["dropped"]
        assert d["replayed"] >= 1 and d["forged"] >= 2 and d["unknown_signer"] >= 1, (n, d)
    for n in range(PROVIDERS):  # receipts are theirs
        d = run["stats"][f"provider{n}"]["dropped"]
        assert d["replayed"] >= 1 and d["forged"] >= 1, (n, d)
    d = run["watch"]["dropped"]
    assert d["replayed"] == 2 and d["forged"] == 3 and d["unknown_signer"] == 3, d


def test_cuts_ahead_refused_and_squatted_ids_do_not_stop_the_market(run):
    assert run["ahead"].isdigit()
    for n in HONEST:
        assert run["stats"][n]["dropped"]["refused"] >= 1, n  # the cut far ahead
        assert run["stats"][n]["role"]["epoch"] < 10**9
    cuts = run["watch"]["cuts"]
    # The squatted ids held junk; a valid cut for that epoch and that era still came, under another id.
    assert f"batch:main/{run['squat_epoch']}" in cuts, sorted(cuts)
    assert f"era/{run['squat_era']}" in cuts, sorted(cuts)
    assert any(k.startswith(f"batch:main/{run['squat_epoch']}/") for k in run["watch"]["receipts"])


def test_usage_errors():
    r = subprocess.run([CLI, "node", "matchmaker"], capture_output=True, text=True)
    assert r.returncode == 2 and "--state DIR is required" in r.stderr
    r = subprocess.run([CLI, "node", "nope"], capture_output=True, text=True)
    assert r.returncode == 2 and "roles:" in r.stderr
    r = subprocess.run([CLI, "request"], capture_output=True, text=True)
    assert r.returncode == 2
