"""gpurent probe: no driver, the fake H100, JSON and a signed report that verifies."""
import json
import os
import subprocess

CLI = os.environ.get("GPURENT_CLI", "build/gpurent")
BUILD = os.environ.get("GPURENT_TEST_BUILD", "build")
FAKE = os.path.join(BUILD, "tests", "libfakecuda.so")


def run(*args, machine=None, env=None):
    e = dict(os.environ, GPURENT_PASSPHRASE="pw")
    e.pop("GPURENT_CUDA_LIBRARY", None)
    if machine:
        e["FAKECUDA_MACHINE"] = machine
    if env:
        e.update(env)
    return subprocess.run([CLI, *args], capture_output=True, env=e)


def test_no_driver_is_not_an_error():
    r = run("probe", "--driver", "/nonexistent/libcuda.so.1")
    assert r.returncode == 0, r.stderr
    assert b"GPURENT_E_NO_DRIVER" in r.stdout and b"no usable GPU" in r.stdout


def test_fake_h100_table_and_json():
    r = run("probe", "--driver", FAKE, machine="h100")
    assert r.returncode == 0, r.stderr
    assert b"H100" in r.stdout and b"66908 GFLOPS" in r.stdout and b"3352320 MB/s" in r.stdout
    r = run("probe", "--driver", FAKE, "--json", "--nonce", "ab" * 32, machine="h100")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["type"] == "gpu_report"
    assert j["nonce"] == "ab" * 32  # the nonce is bound into the report
    assert j["devices"][0]["sm_count"] == ["ok", 0, 132]  # probed values: [state, error, value], states by name
    assert j["status"] == "GPURENT_OK"
    r = run("probe", "--driver", FAKE, "--json", "--active", machine="h100")
    fma = json.loads(r.stdout)["devices"][0]["fma"]
    assert fma[0] == "ok" and fma[4] == "plausible", fma  # [state, error, GFLOPS, ratio_ppm, verdict]


def test_no_device_and_failing_driver():
    r = run("probe", "--driver", FAKE, machine="nodevice")
    assert r.returncode == 0 and b"GPURENT_E_NO_DEVICE" in r.stdout
    r = run("probe", "--driver", FAKE, machine="initfail")
    assert r.returncode == 0 and b"GPURENT_E_DRIVER_FAILED" in r.stdout


def test_signed_report_verifies(tmp_path):
    key = tmp_path / "p.key"
    r = run("keygen", "-o", str(key), "--seed", "44" * 32, "--fast")
    pk = r.stdout.decode().strip()
    r = run("probe", "--driver", FAKE, "--active", "-o", str(tmp_path / "rep.env"), "--key", str(key),
            "--now", "7000", machine="h100")
    assert r.returncode == 0, r.stderr
    (tmp_path / "trust.json").write_text(json.dumps({"keys": [{"key": pk, "roles": ["provider"]}]}))
    r = run("verify", "--trust", str(tmp_path / "trust.json"), str(tmp_path / "rep.env"), "--now", "7001")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["statement"] == "gpu_report"


def test_bad_arguments():
    r = run("probe", "--nonce", "xyz")
    assert r.returncode == 2 and b"--nonce needs 64 hex digits" in r.stderr
    r = run("probe", "--timeout-ms", "0")
    assert r.returncode == 2


def test_crashing_driver_gives_a_report():
    """gpurent probe runs the probe in a helper process: a driver
    that crashes gives a report naming the signal, not a dead CLI."""
    for machine in ("crash_init", "crash_name"):
        r = run("probe", "--driver", FAKE, "--json", machine=machine)
        assert r.returncode == 0, (r.returncode, r.stderr)
        j = json.loads(r.stdout)
        assert j["status"] == "GPURENT_E_DRIVER_FAILED" and "SIGSEGV" in j["reason"] and j["devices"] == []
    r = run("probe", "--driver", FAKE, "--timeout-ms", "200", machine="stop_init")
    assert r.returncode == 0 and b"GPURENT_E_DRIVER_TIMEOUT" in r.stdout and b"killed" in r.stdout


def test_product_ids_from_sysfs(tmp_path):
    d = tmp_path / "bus" / "pci" / "devices" / "0000:1b:00.0"
    d.mkdir(parents=True)
    for name, v in (("vendor", "0x10de"), ("device", "0x2330"), ("subsystem_vendor", "0x10de"),
                    ("subsystem_device", "0x16c1")):
        (d / name).write_text(v + "\n")
    r = run("probe", "--driver", FAKE, machine="h100", env={"GPURENT_SYSFS_ROOT": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    assert b"product: pci 10de:2330, subsystem 10de:16c1" in r.stdout
    r = run("probe", "--driver", FAKE, "--json", machine="h100", env={"GPURENT_SYSFS_ROOT": str(tmp_path)})
    dev = json.loads(r.stdout)["devices"][0]
    assert (dev["pci_vendor_id"], dev["pci_device_id"], dev["pci_subsystem_device_id"]) == (0x10DE, 0x2330, 0x16C1)
    # no tree: the ids are not known, and the probe is fine
    r = run("probe", "--driver", FAKE, machine="h100", env={"GPURENT_SYSFS_ROOT": str(tmp_path / "none")})
    assert r.returncode == 0 and b"pci ids not known" in r.stdout
