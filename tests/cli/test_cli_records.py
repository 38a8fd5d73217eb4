"""Drive the gpurent CLI as a user would: JSON records in, canonical bytes out, inspect back."""
import json
import os
import subprocess

import msgpack

CLI = os.environ.get("GPURENT_CLI", "build/gpurent")


def run(*args, stdin=None):
    return subprocess.run([CLI, *args], input=stdin, capture_output=True)


def test_help_and_usage():
    r = run("--help")
    assert r.returncode == 0 and b"inspect" in r.stdout and b"exit codes" in r.stdout
    r = run()
    assert r.returncode == 2
    r = run("frobnicate")
    assert r.returncode == 2 and b"unknown command 'frobnicate'" in r.stderr
    for cmd in ("inspect", "encode"):
        r = run(cmd, "--help")
        assert r.returncode == 0 and b"usage: gpurent " + cmd.encode() in r.stdout


def test_request_json_roundtrip(tmp_path):
    src = {"request_id": "train-1", "gpu_count": 8, "min_vram_mib": 81920,
           "regions": ["us-east", "eu-west"], "max_price_micro_per_gpu_hour": 2500000}
    (tmp_path / "req.json").write_text(json.dumps(src))
    out = tmp_path / "req.bin"
    r = run("encode", "request", str(tmp_path / "req.json"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    # An independent decoder sees the record: key 0 = 3 (request), sets sorted.
    m = msgpack.unpackb(data, strict_map_key=False)
    assert m[0] == 3 and m[1] == "train-1" and m[2] == 8 and m[20] == ["eu-west", "us-east"]
    r = run("inspect", str(out))
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)
    assert shown["type"] == "request" and shown["regions"] == ["eu-west", "us-east"]
    assert shown["duration_s"] == 3600  # the default
    # inspect's output is itself a valid input giving the same bytes.
    r = run("encode", "request", "-", stdin=r.stdout)
    assert r.returncode == 0 and r.stdout == data


def test_offer_json(tmp_path):
    offer = {"provider_key": "11" * 32, "region": "eu-west", "seq": 3,
             "nodes": [{"node_id": "n1", "gpu_count": 8, "gpu_free": 8,
                        "price_micro_per_gpu_hour": 2100000,
                        "gpu": {"model": "H100 SXM5 80GB", "cc_major": 9, "memory_mib": 81559}}]}
    r = run("encode", "offer", "-", stdin=json.dumps(offer).encode())
    assert r.returncode == 0, r.stderr
    m = msgpack.unpackb(r.stdout, strict_map_key=False)
    assert m[1] == bytes([0x11]) * 32 and m[7][0][2][1] == "H100 SXM5 80GB"
    r2 = run("inspect", "-", stdin=r.stdout)
    assert json.loads(r2.stdout)["nodes"][0]["gpu"]["model"] == "H100 SXM5 80GB"


def test_bad_inputs(tmp_path):
    cases = [
        ('{"request_id": "x", "gpu_count": 3, "gang_nodes": 2}', 4, b"GPURENT_E_INVALID_FIELD: request.gang_nodes"),
        ('{"request_id": "x", "gpu_cnt": 3}', 4, b"unknown field 'gpu_cnt'"),
        ('{"request_id": ', 4, b"malformed JSON"),
        ('{"request_id": "x", "gpu_count": -1}', 4, b"request.gpu_count: expected a non-negative integer"),
        ('{"request_id": "x", "providers": ["zz"]}', 4, b"expected keys of 64 hex digits"),
        ('[1, 2]', 4, b"expected a JSON object"),
    ]
    for text, code, msg in cases:
        r = run("encode", "request", "-", stdin=text.encode())
        assert r.returncode == code, (text, r.returncode, r.stderr)
        assert msg in r.stderr, (text, r.stderr)
    r = run("encode", "request", str(tmp_path / "missing.json"))
    assert r.returncode == 3 and b"No such file" in r.stderr
    r = run("inspect", str(tmp_path / "missing.bin"))
    assert r.returncode == 3 and b"No such file" in r.stderr
    r = run("encode", "nonsense", "-", stdin=b"{}")
    assert r.returncode == 4 and b"unknown record kind" in r.stderr
    # Non-canonical bytes are refused by inspect with the library's status.
    (tmp_path / "pad.bin").write_bytes(b"\xcd\x00\x05")
    r = run("inspect", str(tmp_path / "pad.bin"))
    assert r.returncode == 4 and b"GPURENT_E_NONCANONICAL" in r.stderr
    # A canonical value that is not a record is still shown.
    (tmp_path / "v.bin").write_bytes(msgpack.packb([1, "a", b"\x00"]))
    r = run("inspect", str(tmp_path / "v.bin"))
    assert r.returncode == 0 and json.loads(r.stdout) == [1, "a", "00"]


def test_bench_prints_ratios():
    r = run("bench", "--n", "20")
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.decode().splitlines() if l.startswith("BENCH ")]
    assert len(lines) == 3
    for l in lines:
        f = l.split()
        assert float(f[2]) > 0 and f[4].startswith("baseline=") and f[5].startswith("ratio=")
    assert run("bench", "--n", "0").returncode == 2
