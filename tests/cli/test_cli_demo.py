"""`gpurent demo` on a small market: every stage reports success and the summary is printed."""
import os
import re
import shutil
import subprocess

CLI = os.environ.get("GPURENT_CLI", "build/gpurent")
BUILD = os.environ.get("GPURENT_TEST_BUILD", "build")
FAKE = os.path.join(BUILD, "tests", "libfakecuda.so")


def demo(*extra):
    r = subprocess.run([CLI, "demo", "--providers", "60", "--requests", "120", "--eras", "6",
                        "--fake-driver", FAKE, *extra], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_small_market_runs_end_to_end():
    out = demo()
    assert "using the fake machines of tests/fakecuda" in out or "this machine has a GPU" in out
    assert "60/60 reports and 60/60 offers verified; a forged offer: GPURENT_E_UNKNOWN_ISSUER" in out
    assert ", 0 rejected;" in out
    m = re.search(r"(\d+) certificates byte-identical across 3 engines", out)
    assert m and int(m.group(1)) > 0
    assert "3 of 3 matchmakers computed byte-identical receipts" in out
    assert "one signature: GPURENT_E_QUORUM_NOT_MET; two signatures: GPURENT_OK" in out
    m = re.search(r"matched (\d+) of 120 requests", out)
    assert m and 0 < int(m.group(1)) <= 120
    # beside it, how many could have been: an upper bound, named as one, never below what was matched
    b = re.search(r"placeable: (\d+) requests have a placement on their own; at most (\d+) could be matched at once "
                  r"\(an upper bound", out)
    assert b and int(m.group(1)) <= int(b.group(2)) <= int(b.group(1)) <= 120


def test_same_seed_same_market():
    a, b = demo("--seed", "7"), demo("--seed", "7")
    strip = lambda s: re.sub(r"timings:.*|total .* s|\d+\.\d+s|\(/.*libfakecuda.so\)", "", s)  # wall times differ
    assert strip(a) == strip(b)
    assert strip(demo("--seed", "8")) != strip(a)


def test_no_gpu_and_no_fake_driver_is_a_clear_error(tmp_path):
    # The program alone, away from the build tree (as once installed): it says what it needs.
    alone = tmp_path / "gpurent"
    shutil.copy(CLI, alone)
    env = dict(os.environ, GPURENT_CUDA_LIBRARY="/nonexistent/libcuda.so.1",
               LD_LIBRARY_PATH=os.path.dirname(os.path.abspath(CLI)))
    env.pop("GPURENT_FAKE_DRIVER", None)
    r = subprocess.run([str(alone), "demo", "--providers", "10", "--requests", "5", "--eras", "1"],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no GPU and no fake driver" in r.stderr and "--fake-driver PATH" in r.stderr
    assert "GPURENT_FAKE_DRIVER" in r.stderr and "libfakecuda.so" in r.stderr
    assert "using the" not in r.stdout  # it does not claim fake machines it does not have
    # GPURENT_FAKE_DRIVER is enough.
    env["GPURENT_FAKE_DRIVER"] = os.path.abspath(FAKE)
    r = subprocess.run([str(alone), "demo", "--providers", "10", "--requests", "5", "--eras", "1"],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_runs_directly_from_any_folder(tmp_path):
    # Not through make, from another folder, no --fake-driver: the build tree's fake driver is found.
    env = dict(os.environ, GPURENT_CUDA_LIBRARY="/nonexistent/libcuda.so.1")
    env.pop("GPURENT_FAKE_DRIVER", None)
    r = subprocess.run([os.path.abspath(CLI), "demo", "--providers", "10", "--requests", "5", "--eras", "1"],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "using the fake machines of tests/fakecuda" in r.stdout


def test_bad_numbers_are_usage_errors():
    for args, msg in ((["--providers", "0"], "--providers needs a whole number in 10..100000, not '0'"),
                      (["--providers", "abc"], "--providers needs a whole number in 10..100000, not 'abc'"),
                      (["--eras=-1"], "--eras needs a whole number in 1..365"),
                      (["--seed"], "--seed needs a value"),
                      (["--bogus"], "unknown option '--bogus'")):
        r = subprocess.run([CLI, "demo", *args], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stderr.splitlines()[0] == "gpurent demo: " + msg or msg in r.stderr.splitlines()[0], r.stderr
        assert "usage: gpurent demo" in r.stderr


def test_progress_units_and_tiers_note():
    out = demo()  # captured: not a terminal, as in a log
    # A line per step with its time, and era progress inside the long audit step.
    steps = re.findall(r"^  done: (.+?) in \d+\.\d\ds$", out, re.M)
    assert steps == ["probe", "keys+sign", "verify", "audits+tiers", "certificates", "match", "receipt quorum"], out
    assert re.search(r"^  era 6/6 after \d+\.\d\ds$", out, re.M), out
    # Every price carries its unit.
    m = re.search(r"accepted prices: median [\d.]+ units/GPU-h, p10 [\d.]+ units/GPU-h, p90 [\d.]+ units/GPU-h; "
                  r"[\d.]+ units/h for the whole batch", out)
    assert m, out
    assert "tiers 1-3 are out of reach in 6 eras by design" in out
    assert re.search(r"at [\d.]+ units per GPU-hour|units per GPU-hour\) adds", out), out


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WASM = os.path.join(ROOT, "bindings", "js", "dist", "gpurent_wasm.mjs")


def test_export_verifies_in_javascript(tmp_path):
    # --export DIR writes the market the marketplace page loads; the JavaScript
    # binding (WebAssembly) must verify every offer, GPU report and certificate
    # the demo verified, the receipt with its two matchmakers, and refuse the
    # altered copy.
    import json
    import pytest
    node = shutil.which("node")
    if not node or not os.path.exists(WASM):
        pytest.skip("node or the WebAssembly build (make wasm) is missing")
    out = demo("--export", str(tmp_path / "web"))
    path = tmp_path / "web" / "market.json"
    assert f"exported the market for examples/web to {path}" in out
    market = json.loads(path.read_text())
    assert market["format"] == "gpurent-demo-market/1"
    assert len(market["offers"]) == len(market["gpuReports"]) == 60 and len(market["requests"]) == 120
    assert [p["roles"] for p in market["trust"]].count(1) == 60
    certs = int(re.search(r"(\d+) certificates byte-identical", out).group(1))
    matched = int(re.search(r"matched (\d+) of 120 requests", out).group(1))
    r = subprocess.run([node, os.path.join(ROOT, "examples", "web", "check_market.mjs"), str(tmp_path / "web")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["offers"] == [60, 60] and got["gpuReports"] == [60, 60], got
    assert got["certificates"] == [certs, certs] and certs > 0, got
    assert got["requests"] == 120 and got["requestsWithCandidates"] > 0, got
    good, bad = got["receipts"]
    assert good["status"] == "GPURENT_OK" and good["signers"] == 2 and good["assignments"] == matched, got
    assert bad["status"] == "GPURENT_E_BAD_SIGNATURE", got


def test_export_to_an_unusable_folder_fails_before_the_run(tmp_path):
    (tmp_path / "file").write_text("x")
    for target, why in ((tmp_path / "file", "not a folder"), (tmp_path / "no" / "such", "No such file")):
        r = subprocess.run([CLI, "demo", "--providers", "10", "--requests", "5", "--eras", "1", "--fake-driver", FAKE,
                            "--export", str(target)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 3, (r.stdout, r.stderr)
        assert f"--export {target}" in r.stderr and why in r.stderr, r.stderr
        assert "providers probe" not in r.stdout  # nothing ran
