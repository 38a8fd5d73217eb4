"""One argument parser for every command: unknown options, missing values and
malformed values are usage errors (exit 2, one line naming the reason, then the command's usage);
--opt=value and --opt value are the same."""
import json
import os
import subprocess

import pytest

CLI = os.path.abspath(os.environ.get("GPURENT_CLI", "build/gpurent"))
BUILD = os.environ.get("GPURENT_TEST_BUILD", "build")
SEED = "11" * 32


def run(*args, stdin=None, cwd=None):
    env = dict(os.environ, GPURENT_PASSPHRASE="pw")
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=60)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Relative paths land in a scratch folder, never in the checkout (a tool that ignored an
    error would write k.key there)."""
    monkeypatch.chdir(tmp_path)


def usage_error(r, cmd, reason):
    """Exit 2; the first line is the reason, then the command's usage."""
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert lines[0].startswith(f"gpurent {cmd}: ") and reason in lines[0], r.stderr
    assert lines[1].startswith(f"usage: gpurent {cmd}"), r.stderr


# (command, arguments that are otherwise valid, a malformed value or None, a missing value)
CASES = {
    "inspect": (["x.bin"], None, None),
    "encode": (["request", "x.json"], None, (["-o"], "-o needs a value")),
    "keygen": (["-o", "k.key"], (["--seed", "zz"], "--seed needs 64 hex digits"), (["--seed"], "--seed needs a value")),
    "sign": (["--key", "k.key", "x.bin"], (["--now", "yesterday"], "--now needs a whole number"),
             (["--expires-in"], "--expires-in needs a value")),
    "cosign": (["--key", "k.key", "x.env"], None, (["--key"], "--key needs a value")),
    "verify": (["--trust", "t.json", "x.env"], (["--quorum", "two"], "--quorum needs a whole number in 1..64"),
               (["--role"], "--role needs a value")),
    "probe": ([], (["--timeout-ms", "abc"], "--timeout-ms needs a whole number in 1..600000"),
              (["--driver"], "--driver needs a value")),
    "tier": (["--trust", "t.json", "x.env"], (["--quorum", "0"], "--quorum needs a whole number in 1..16"),
             (["--genesis"], "--genesis needs a value")),
    "match": (["--offer", "o.json", "--request", "r.json"], (["--now", "yesterday"], "--now needs a whole number"),
              (["--explain"], "--explain needs a value")),
    "bench": ([], (["--n", "abc"], "--n needs a whole number in 1..10000000"), (["--n"], "--n needs a value")),
    "demo": ([], (["--providers", "abc"], "--providers needs a whole number in 10..100000"),
             (["--eras"], "--eras needs a value")),
}


@pytest.mark.parametrize("cmd", sorted(CASES))
def test_unknown_option(cmd):
    base, _, _ = CASES[cmd]
    usage_error(run(cmd, *base, "--bogus"), cmd, "unknown option '--bogus'")
    usage_error(run(cmd, "--bogus=1", *base), cmd, "unknown option '--bogus'")


@pytest.mark.parametrize("cmd", sorted(c for c in CASES if CASES[c][1]))
def test_malformed_value(cmd):
    base, (bad, reason), _ = CASES[cmd]
    usage_error(run(cmd, *base, *bad), cmd, reason)
    usage_error(run(cmd, *base, f"{bad[0]}={bad[1]}"), cmd, reason)


@pytest.mark.parametrize("cmd", sorted(c for c in CASES if CASES[c][2]))
def test_missing_value(cmd):
    base, _, (missing, reason) = CASES[cmd]
    usage_error(run(cmd, *base, *missing), cmd, reason)


@pytest.mark.parametrize("cmd", sorted(CASES))
def test_help_is_the_usage(cmd):
    r = run(cmd, "--help")
    assert r.returncode == 0 and r.stdout.startswith(f"usage: gpurent {cmd}"), r.stdout


def test_operands():
    usage_error(run("inspect"), "inspect", "missing FILE")
    usage_error(run("inspect", "a", "b"), "inspect", "unexpected argument 'b'")
    usage_error(run("encode", "request"), "encode", "missing KIND and FILE.json")
    usage_error(run("sign", "--key", "k.key"), "sign", "missing PAYLOAD")
    usage_error(run("probe", "stray"), "probe", "unexpected argument 'stray'")
    usage_error(run("tier", "--trust", "t.json"), "tier", "missing REPORT.env")
    usage_error(run("keygen", "-o", "a.key", "extra"), "keygen", "unexpected argument 'extra'")
    usage_error(run("keygen"), "keygen", "-o KEYFILE is required")
    usage_error(run("keygen", "-o", "-"), "keygen", "-o needs a file name")
    usage_error(run("verify", "x.env"), "verify", "--trust TRUST.json is required")
    usage_error(run("sign", "x.bin"), "sign", "--key KEYFILE is required")


def test_flags_take_no_value_and_options_are_given_once():
    usage_error(run("keygen", "-o", "k.key", "--fast=yes"), "keygen", "--fast takes no value")
    usage_error(run("verify", "--trust", "a", "--trust", "b", "x.env"), "verify", "--trust given twice")
    usage_error(run("sign", "--key", "k", "--now", "-5", "x.bin"), "sign", "--now needs a whole number")
    usage_error(run("sign", "--key", "k", "--now", "007", "x.bin"), "sign", "--now needs a whole number")


@pytest.fixture()
def quorum(tmp_path):
    keys = []
    for i, seed in enumerate(("11" * 32, "22" * 32)):
        r = run("keygen", "--seed", seed, "--fast", "-o", str(tmp_path / f"m{i}.key"))
        assert r.returncode == 0, r.stderr
        keys.append(r.stdout.strip())
    r = run("encode", "request", "-", "-o", str(tmp_path / "r.bin"), stdin='{"request_id": "q"}')
    assert r.returncode == 0, r.stderr
    r = run("sign", "--key", str(tmp_path / "m0.key"), "--now", "5000", str(tmp_path / "r.bin"),
            "-o", str(tmp_path / "one.env"))
    assert r.returncode == 0, r.stderr
    (tmp_path / "t.json").write_text(json.dumps({"keys": [{"key": k, "roles": ["matcher", "requester"]} for k in keys]}))
    return tmp_path


def test_equals_form_is_honoured(quorum):
    """The issue's case: --quorum=2 was dropped and one signature passed."""
    t = quorum
    for form in (["--quorum=2"], ["--quorum", "2"]):
        r = run("verify", "--trust", str(t / "t.json"), "--now=5001", *form, "--role=matcher", str(t / "one.env"))
        assert r.returncode == 1 and "GPURENT_E_QUORUM_NOT_MET" in r.stderr, (form, r.stderr)
    r = run("verify", f"--trust={t / 't.json'}", "--now=5001", "--quorum=1", str(t / "one.env"))
    assert r.returncode == 0, r.stderr
    # --now=T is the clock, not the current time.
    r = run("verify", f"--trust={t / 't.json'}", "--now=1000", str(t / "one.env"))
    assert r.returncode == 1 and "GPURENT_E_NOT_YET_VALID" in r.stderr


def test_double_dash_ends_options(tmp_path):
    (tmp_path / "-odd.bin").write_bytes(b"\x01")
    r = run("inspect", "--", "-odd.bin", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "1", r.stderr
