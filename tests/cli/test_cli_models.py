"""Model names and framework builds through the CLI: the request JSON's optional
"framework" (key 24, written only when set), offers resolved to canonical ids, and explain
speaking of unknown models and the framework build by name."""
import json
import os
import subprocess

CLI = os.environ.get("GPURENT_CLI", "build/gpurent")
EX = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "cli")


def run(*args, stdin=None):
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, timeout=120)


def encode_request(tmp_path, name, obj):
    (tmp_path / f"{name}.json").write_text(json.dumps(obj))
    r = run("encode", "request", str(tmp_path / f"{name}.json"), "-o", str(tmp_path / f"{name}.bin"))
    assert r.returncode == 0, r.stderr
    return str(tmp_path / f"{name}.bin")


def test_framework_round_trip(tmp_path):
    b = encode_request(tmp_path, "r", {"request_id": "r", "framework": "torch 2.5+cu124"})
    r = run("inspect", b)
    assert r.returncode == 0 and json.loads(r.stdout)["framework"] == "torch 2.5+cu124"
    # unset, null or "": the record keeps its 24 keys (and its old bytes)
    plain = open(encode_request(tmp_path, "p", {"request_id": "r"}), "rb").read()
    for v in ("", None):
        assert open(encode_request(tmp_path, "e", {"request_id": "r", "framework": v}), "rb").read() == plain
    assert plain[:3] == b"\xde\x00\x18"
    r = run("encode", "request", "-", stdin=b'{"request_id": "r", "framework": 5}')
    assert r.returncode == 4 and b"request.framework: expected a string" in r.stderr


def test_match_explains_names(tmp_path):
    r = run("encode", "offer", os.path.join(EX, "offer.json"), "-o", str(tmp_path / "offer.bin"))
    assert r.returncode == 0, r.stderr
    ok = encode_request(tmp_path, "ok", {"request_id": "ok", "models": ["H100"], "framework": "torch 2.5+cu124",
                                         "submitted_at": 1767312000})
    r = run("match", "--offer", str(tmp_path / "offer.bin"), "--request", ok, "--explain", "ok")
    assert r.returncode == 0 and b"(h100-sxm5-80gb, eu-west)" in r.stdout, r.stdout
    no = encode_request(tmp_path, "no", {"request_id": "no", "models": ["h100", "foo"], "framework": "torch 2.7+cu128",
                                         "submitted_at": 1767312000})
    r = run("match", "--offer", str(tmp_path / "offer.bin"), "--request", no, "--explain", "no")
    assert r.returncode == 1, r.stdout
    assert b"model 'foo' is not in the model table v1; matched as an exact name" in r.stdout, r.stdout
    assert b"torch-2.7+cu128 needs CUDA 12.8; node has 12.4; torch-2.7+cu118 would run there" in r.stdout, r.stdout
