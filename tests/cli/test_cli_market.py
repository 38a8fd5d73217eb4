"""gpurent match and gpurent tier: the matchmaker's and the auditor's jobs from files."""
import json
import os
import subprocess

import msgpack

CLI = os.environ.get("GPURENT_CLI", "build/gpurent")
PROVIDER = "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737"  # seed 11..11


def run(*args, stdin=None):
    env = dict(os.environ, GPURENT_PASSPHRASE="pw")
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, env=env)


def write(path, obj):
    path.write_text(json.dumps(obj))
    return str(path)


def offer(seq=1, price=2100000):
    gpu = {"model": "H100 SXM5 80GB", "cc_major": 9, "memory_mib": 81559, "fp32_gflops": 66908,
           "interface": 2, "cuda_version": 12040}
    return {"provider_key": PROVIDER, "region": "eu-west", "seq": seq,
            "nodes": [{"node_id": "n1", "gpu_count": 8, "gpu_free": 8, "price_micro_per_gpu_hour": price,
                       "cpu_millicores": 64000, "ram_mib": 500000, "disk_gib": 2000, "gpu": gpu}]}


def test_match_explain_and_receipt(tmp_path):
    o = write(tmp_path / "o.json", offer())
    r1 = write(tmp_path / "r1.json", {"request_id": "train-1", "gpu_count": 4, "max_price_micro_per_gpu_hour": 3000000})
    r2 = write(tmp_path / "r2.json", {"request_id": "cheap-1", "max_price_micro_per_gpu_hour": 1000000})
    rec = tmp_path / "rec.bin"
    r = run("match", "--offer", o, "--request", r1, "--request", r2, "--now", "100000", "-o", str(rec),
            "--explain", "cheap-1")
    assert r.returncode == 0, r.stderr
    assert b"raising the price cap by 110%" in r.stdout
    assert b"1 of 2 requests matched" in r.stdout
    m = msgpack.unpackb(rec.read_bytes(), strict_map_key=False)
    assert m[0] == 7 and m[8][0][1] == "train-1" and m[8][0][3][0][3] == 4
    # The same inputs in another order give the very same receipt bytes.
    rec2 = tmp_path / "rec2.bin"
    r = run("match", "--request", r2, "--request", r1, "--offer", o, "--now", "100000", "-o", str(rec2))
    assert r.returncode == 0 and rec2.read_bytes() == rec.read_bytes()
    r = run("inspect", str(rec))
    assert json.loads(r.stdout)["assignments"][0]["placements"][0]["gpus"] == 4


def test_match_bad_inputs(tmp_path):
    o = write(tmp_path / "o.json", offer())
    r2 = write(tmp_path / "r2.json", {"request_id": "cheap-1", "max_price_micro_per_gpu_hour": 1000000})
    r = run("match", "--offer", o, "--request", r2, "--now", "100000")
    assert r.returncode == 1 and b"0 of 1 requests matched" in r.stdout
    r = run("match", "--offer", o)
    assert r.returncode == 2
    r = run("match", "--offer", str(tmp_path / "missing.json"), "--request", r2)
    assert r.returncode == 3
    (tmp_path / "bad.json").write_text('{"request_id": ')
    r = run("match", "--offer", o, "--request", str(tmp_path / "bad.json"))
    assert r.returncode == 4 and b"malformed JSON" in r.stderr
    bad = write(tmp_path / "b.json", {"request_id": "x", "gpu_count": 0})
    r = run("match", "--offer", o, "--request", bad)
    assert r.returncode == 4 and b"GPURENT_E_INVALID_FIELD" in r.stderr
    r = run("match", "--offer", o, "--request", r2, "--now", "100000", "--tier", "zz")
    assert r.returncode == 2 and b"--tier needs PROVIDER_HEX:TIER:SCORE_PPM" in r.stderr
    r = run("match", "--offer", o, "--request", r2, "--now", "100000", "--explain", "nope")
    assert r.returncode == 2 and b"no request 'nope'" in r.stderr


def test_tier_from_signed_audit_reports(tmp_path):
    auditors = []
    for i, seed in enumerate(("a1", "a2", "a3")):
        r = run("keygen", "-o", str(tmp_path / f"a{i}.key"), "--seed", seed * 32, "--fast")
        auditors.append(r.stdout.decode().strip())
    trust = write(tmp_path / "trust.json", {"keys": [{"key": k, "roles": ["auditor"]} for k in auditors]})
    envs = []
    era_s = 86400
    for era in range(4):
        for i, a in enumerate(auditors):
            t0 = era * era_s
            rep = {"provider_key": PROVIDER, "auditor_key": a, "time_s": t0 + 80000,
                   "gpu_report": 1, "integrity": 1, "security": 1,
                   "challenges": [{"time_s": t0 + 1000 * (9 - c), "kind": 1 if c < 8 else 2, "passed": 1}
                                  for c in range(10)]}  # listed out of order: the encoder sorts
            r = run("encode", "audit_report", write(tmp_path / "rep.json", rep), "-o", str(tmp_path / "rep.bin"))
            assert r.returncode == 0, r.stderr
            env = tmp_path / f"rep-{era}-{i}.env"
            r = run("sign", "--key", str(tmp_path / f"a{i}.key"), str(tmp_path / "rep.bin"), "-o", str(env),
                    "--now", str(t0 + 80000))
            assert r.returncode == 0, r.stderr
            envs.append(str(env))
    r = run("tier", "--trust", trust, *envs, "--explain", PROVIDER)
    assert r.returncode == 0, r.stderr
    line = [l for l in r.stdout.decode().splitlines() if l.startswith(PROVIDER[:16])][0]
    assert line.split()[1] in ("6", "7") and "yes" in line  # still incubating after 4 eras
    assert b"to reach tier" in r.stdout
    # A report signed by a key that is not an auditor is refused and changes nothing.
    r = run("keygen", "-o", str(tmp_path / "x.key"), "--seed", "bb" * 32, "--fast")
    bad = tmp_path / "bad.env"
    run("sign", "--key", str(tmp_path / "x.key"), str(tmp_path / "rep.bin"), "-o", str(bad), "--now", "339200")
    r = run("tier", "--trust", trust, *envs, str(bad))
    assert r.returncode == 1 and b"GPURENT_E_UNKNOWN_ISSUER" in r.stderr
    assert line.encode() in r.stdout  # the same result as without it
    r = run("tier", "--trust", trust)
    assert r.returncode == 2
