"""`gpurent demo` on a small market: every stage reports success and the summary is printed."""
import os
import re
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
    assert "using the built-in fake machines" in out or "this machine has a GPU" in out
    assert "60/60 reports and 60/60 offers verified; a forged offer: GPURENT_E_UNKNOWN_ISSUER" in out
    assert ", 0 rejected;" in out
    m = re.search(r"(\d+) certificates byte-identical across 3 engines", out)
    assert m and int(m.group(1)) > 0
    assert "3 of 3 matchmakers computed byte-identical receipts" in out
    assert "one signature: GPURENT_E_QUORUM_NOT_MET; two signatures: GPURENT_OK" in out
    m = re.search(r"matched (\d+) of 120 requests", out)
    assert m and 0 < int(m.group(1)) <= 120


def test_same_seed_same_market():
    a, b = demo("--seed", "7"), demo("--seed", "7")
    strip = lambda s: re.sub(r"timings:.*|total .* s|\d+\.\d+s", "", s)  # wall times differ
    assert strip(a) == strip(b)
    assert strip(demo("--seed", "8")) != strip(a)


def test_no_gpu_and_no_fake_driver_is_a_clear_error():
    r = subprocess.run([CLI, "demo", "--providers", "10", "--requests", "5", "--eras", "1"],
                       capture_output=True, text=True,
                       env=dict(os.environ, GPURENT_CUDA_LIBRARY="/nonexistent/libcuda.so.1"))
    assert r.returncode == 1 and "no GPU and no fake driver" in r.stderr
