"""keygen, sign, cosign, verify from a shell, with every bad-input class."""
import json
import os
import subprocess

import pytest

CLI = os.environ.get("GPURENT_CLI", "build/gpurent")
SEED_A = "11" * 32
SEED_B = "22" * 32
SEED_C = "33" * 32


def run(*args, stdin=None, env=None, cwd=None):
    e = dict(os.environ, GPURENT_PASSPHRASE="correct horse")
    if env:
        e.update(env)
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, env=e, cwd=cwd)


@pytest.fixture()
def world(tmp_path):
    keys = {}
    for name, seed in (("a", SEED_A), ("b", SEED_B), ("c", SEED_C)):
        r = run("keygen", "-o", str(tmp_path / f"{name}.key"), "--seed", seed, "--fast")
        assert r.returncode == 0, r.stderr
        keys[name] = r.stdout.decode().strip()
        assert (tmp_path / f"{name}.key.pub").read_text().strip() == keys[name]
    req = {"request_id": "job-1", "gpu_count": 2}
    r = run("encode", "request", "-", stdin=json.dumps(req).encode())
    assert r.returncode == 0
    (tmp_path / "req.bin").write_bytes(r.stdout)
    trust = {"keys": [{"key": keys[n], "roles": ["requester", "matcher"]} for n in "abc"]}
    (tmp_path / "trust.json").write_text(json.dumps(trust))
    return tmp_path, keys


def test_seeded_keys_are_reproducible(world):
    tmp, keys = world
    r = run("keygen", "-o", str(tmp / "again.key"), "--seed", SEED_A, "--fast")
    assert r.stdout.decode().strip() == keys["a"]
    assert len(set(keys.values())) == 3


def test_sign_and_verify(world):
    tmp, keys = world
    r = run("sign", "--key", str(tmp / "a.key"), str(tmp / "req.bin"), "-o", str(tmp / "req.env"), "--now", "5000")
    assert r.returncode == 0, r.stderr
    r = run("verify", "--trust", str(tmp / "trust.json"), str(tmp / "req.env"), "--now", "5001",
            "--payload-out", str(tmp / "payload.bin"))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["statement"] == "request" and out["issuer"] == keys["a"] and out["signers"] == [keys["a"]]
    assert (tmp / "payload.bin").read_bytes() == (tmp / "req.bin").read_bytes()
    # The time window.
    r = run("verify", "--trust", str(tmp / "trust.json"), str(tmp / "req.env"), "--now", "1000")
    assert r.returncode == 1 and b"GPURENT_E_NOT_YET_VALID" in r.stderr
    r = run("verify", "--trust", str(tmp / "trust.json"), str(tmp / "req.env"), "--now", str(5000 + 86400 + 61))
    assert r.returncode == 1 and b"GPURENT_E_EXPIRED" in r.stderr
    # A role the issuer lacks.
    r = run("verify", "--trust", str(tmp / "trust.json"), str(tmp / "req.env"), "--now", "5001", "--role", "auditor")
    assert r.returncode == 1 and b"GPURENT_E_ROLE_NOT_ALLOWED" in r.stderr


def test_tampered_envelope(world):
    tmp, _ = world
    run("sign", "--key", str(tmp / "a.key"), str(tmp / "req.bin"), "-o", str(tmp / "req.env"), "--now", "5000")
    data = bytearray((tmp / "req.env").read_bytes())
    data[-1] ^= 0x01  # inside the signature
    (tmp / "bad.env").write_bytes(bytes(data))
    r = run("verify", "--trust", str(tmp / "trust.json"), str(tmp / "bad.env"), "--now", "5001")
    assert r.returncode == 1 and b"GPURENT_E_BAD_SIGNATURE" in r.stderr
    (tmp / "cut.env").write_bytes(bytes(data[:-10]))
    r = run("verify", "--trust", str(tmp / "trust.json"), str(tmp / "cut.env"), "--now", "5001")
    assert r.returncode == 4 and b"GPURENT_E_TRUNCATED" in r.stderr


def test_quorum_with_cosign(world):
    tmp, keys = world
    run("sign", "--key", str(tmp / "a.key"), str(tmp / "req.bin"), "-o", str(tmp / "q1.env"), "--now", "5000")
    r = run("cosign", "--key", str(tmp / "b.key"), str(tmp / "q1.env"), "-o", str(tmp / "q2.env"))
    assert r.returncode == 0, r.stderr
    r = run("verify", "--trust", str(tmp / "trust.json"), str(tmp / "q2.env"), "--now", "5001", "--quorum", "2")
    assert r.returncode == 0, r.stderr
    assert sorted(json.loads(r.stdout)["signers"]) == sorted([keys["a"], keys["b"]])
    r = run("verify", "--trust", str(tmp / "trust.json"), str(tmp / "q2.env"), "--now", "5001", "--quorum", "3")
    assert r.returncode == 1 and b"GPURENT_E_QUORUM_NOT_MET" in r.stderr
    # The same key twice counts once.
    r = run("cosign", "--key", str(tmp / "b.key"), str(tmp / "q2.env"))
    assert r.returncode == 1 and b"GPURENT_E_EXISTS" in r.stderr


def test_bad_inputs(world):
    tmp, keys = world
    r = run("sign", "--key", str(tmp / "a.key"), str(tmp / "req.bin"), env={"GPURENT_PASSPHRASE": "wrong"})
    assert r.returncode == 4 and b"GPURENT_E_WRONG_PASSPHRASE" in r.stderr
    r = run("sign", "--key", str(tmp / "a.key"), str(tmp / "req.bin"), env={"GPURENT_PASSPHRASE": ""})
    assert r.returncode == 2 and b"no passphrase" in r.stderr
    r = run("sign", "--key", str(tmp / "missing.key"), str(tmp / "req.bin"))
    assert r.returncode == 3 and b"GPURENT_E_IO" in r.stderr
    damaged = bytearray((tmp / "a.key").read_bytes())
    damaged[40] ^= 0xFF
    (tmp / "damaged.key").write_bytes(bytes(damaged))
    r = run("sign", "--key", str(tmp / "damaged.key"), str(tmp / "req.bin"))
    assert r.returncode == 4 and b"GPURENT_E_KEYFILE_DAMAGED" in r.stderr
    r = run("sign", "--key", str(tmp / "a.key"), str(tmp / "missing.bin"))
    assert r.returncode == 3 and b"No such file" in r.stderr
    (tmp / "junk.bin").write_bytes(b"\xc1")
    r = run("sign", "--key", str(tmp / "a.key"), str(tmp / "junk.bin"))
    assert r.returncode == 4 and b"GPURENT_E_MALFORMED" in r.stderr
    r = run("keygen", "-o", str(tmp / "x.key"), "--seed", "zz")
    assert r.returncode == 2 and b"--seed needs 64 hex digits" in r.stderr
    run("sign", "--key", str(tmp / "a.key"), str(tmp / "req.bin"), "-o", str(tmp / "req.env"), "--now", "5000")
    (tmp / "bad-trust.json").write_text('{"keys": [')
    r = run("verify", "--trust", str(tmp / "bad-trust.json"), str(tmp / "req.env"))
    assert r.returncode == 4 and b"malformed JSON" in r.stderr
    (tmp / "role-trust.json").write_text(json.dumps({"keys": [{"key": keys["a"], "roles": ["king"]}]}))
    r = run("verify", "--trust", str(tmp / "role-trust.json"), str(tmp / "req.env"))
    assert r.returncode == 4 and b"unknown role" in r.stderr
    (tmp / "rev.json").write_text(json.dumps({"keys": [{"key": keys["a"], "roles": ["requester"]}],
                                               "revoked": [keys["a"]]}))
    r = run("verify", "--trust", str(tmp / "rev.json"), str(tmp / "req.env"), "--now", "5001")
    assert r.returncode == 1 and b"GPURENT_E_REVOKED" in r.stderr
    (tmp / "empty.json").write_text(json.dumps({"keys": []}))
    r = run("verify", "--trust", str(tmp / "empty.json"), str(tmp / "req.env"), "--now", "5001")
    assert r.returncode == 1 and b"GPURENT_E_UNKNOWN_ISSUER" in r.stderr
    r = run("verify", str(tmp / "req.env"))
    assert r.returncode == 2


def test_inspect_envelope_shows_payload(world):
    tmp, keys = world
    run("sign", "--key", str(tmp / "a.key"), str(tmp / "req.bin"), "-o", str(tmp / "req.env"), "--now", "5000")
    r = run("inspect", str(tmp / "req.env"))
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["type"] == "envelope" and j["issuer"] == keys["a"]
    assert j["payload"]["request_id"] == "job-1" and j["signatures"][0]["key"] == keys["a"]


def test_replay_state_refuses_the_second_verify(world):
    """--replay-state carries the replay window between runs through a trust snapshot."""
    tmp, keys = world
    for n in ("1", "2"):
        r = run("sign", "--key", str(tmp / "a.key"), str(tmp / "req.bin"), "-o", str(tmp / f"req{n}.env"),
                "--now", "5000")
        assert r.returncode == 0, r.stderr
    state = tmp / "replay.snap"
    base = ("verify", "--trust", str(tmp / "trust.json"), "--now", "5001")
    # Without the option nothing is remembered: the same envelope verifies twice.
    for _ in range(2):
        assert run(*base, str(tmp / "req1.env")).returncode == 0
    assert not state.exists()
    r = run(*base, str(tmp / "req1.env"), "--replay-state", str(state))
    assert r.returncode == 0, r.stderr
    assert state.exists() and (state.stat().st_mode & 0o777) == 0o600
    r = run(*base, str(tmp / "req1.env"), "--replay-state", str(state))
    assert r.returncode == 1 and b"GPURENT_E_REPLAYED" in r.stderr and r.stdout == b""
    # Another statement (another nonce) of the same issuer is new; then it is remembered too.
    assert run(*base, str(tmp / "req2.env"), "--replay-state", str(state)).returncode == 0
    r = run(*base, str(tmp / "req2.env"), "--replay-state", str(state))
    assert r.returncode == 1 and b"GPURENT_E_REPLAYED" in r.stderr
    r = run(*base, str(tmp / "req1.env"), "--replay-state", str(state))
    assert r.returncode == 1 and b"GPURENT_E_REPLAYED" in r.stderr
    # A refused verify leaves the state as it was; a failing one does not create it.
    other = tmp / "other.snap"
    r = run("verify", "--trust", str(tmp / "trust.json"), "--now", "1000", str(tmp / "req1.env"),
            "--replay-state", str(other))
    assert r.returncode == 1 and not other.exists()


def test_replay_state_corrupt_is_refused_and_kept(world):
    tmp, _ = world
    r = run("sign", "--key", str(tmp / "a.key"), str(tmp / "req.bin"), "-o", str(tmp / "req.env"), "--now", "5000")
    assert r.returncode == 0
    state = tmp / "replay.snap"
    base = ("verify", "--trust", str(tmp / "trust.json"), "--now", "5001", str(tmp / "req.env"),
            "--replay-state", str(state))
    assert run(*base).returncode == 0
    good = state.read_bytes()
    for bad in (b"not a snapshot", good[:-1], good[:40] + bytes([good[40] ^ 1]) + good[41:]):
        state.write_bytes(bad)
        r = run(*base)
        assert r.returncode == 4, r.stderr
        assert b"--replay-state" in r.stderr and b"GPURENT_E_SNAPSHOT" in r.stderr and r.stdout == b""
        assert state.read_bytes() == bad
    # The good state back: the envelope is a replay again.
    state.write_bytes(good)
    r = run(*base)
    assert r.returncode == 1 and b"GPURENT_E_REPLAYED" in r.stderr
    assert state.read_bytes() == good
    # A state path that cannot be read (a folder) is an I/O error.
    r = run("verify", "--trust", str(tmp / "trust.json"), "--now", "5001", str(tmp / "req.env"),
            "--replay-state", str(tmp))
    assert r.returncode == 3, r.stderr
