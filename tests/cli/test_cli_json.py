"""Strict, fail-closed JSON inputs: duplicate keys refused, sizes and counts bounded before the
work, numbers in strings only in canonical decimal form; the trust file read by type; names, not
numbers, where people read them."""
import json
import os
import resource
import subprocess
import time

import pytest

CLI = os.environ.get("GPURENT_CLI", "build/gpurent")
SEED = "11" * 32
PK = "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737"  # of SEED


def run(*args, stdin=None, preexec=None):
    env = dict(os.environ, GPURENT_PASSPHRASE="pw")
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, env=env, preexec_fn=preexec,
                          timeout=120)


def test_duplicate_keys_are_refused(tmp_path):
    text = '{"request_id":"x", "gpu_count":1, "gpu_count":8, "request_id":"y"}'
    r = run("encode", "request", "-", stdin=text.encode())
    assert r.returncode == 4 and b"duplicate object key" in r.stderr, r.stderr
    (tmp_path / "r.json").write_text(text)
    r = run("match", "--offer", str(tmp_path / "r.json"), "--request", str(tmp_path / "r.json"), "--now", "1")
    assert r.returncode == 4 and b"duplicate object key" in r.stderr, r.stderr
    nested = '{"request_id":"x", "regions":["a"], "regions":["b"]}'
    assert run("encode", "request", "-", stdin=nested.encode()).returncode == 4
    (tmp_path / "t.json").write_text('{"keys": [{"key": "%s", "roles": ["provider"], "not_after": 1, '
                                     '"not_after": 0}]}' % PK)
    r = run("verify", "--trust", str(tmp_path / "t.json"), str(tmp_path / "r.json"))
    assert r.returncode == 4 and b"duplicate object key" in r.stderr, r.stderr


def _asan(path):
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def _limit_memory():
    # AddressSanitizer reserves terabytes of address space for its shadow: no limit then.
    if not _asan(CLI):
        resource.setrlimit(resource.RLIMIT_AS, (384 << 20, 384 << 20))


def test_huge_offer_is_refused_before_parsing(tmp_path):
    node = ('{"node_id": "n%07d", "gpu_count": 8, "gpu_free": 8, "price_micro_per_gpu_hour": 2100000, '
            '"gpu": {"model": "H100 SXM5 80GB", "memory_mib": 81559}}')
    path = tmp_path / "huge.json"
    with open(path, "w") as f:  # 400 000 nodes, about 55 MB
        f.write('{"provider_key": "%s", "region": "eu-west", "nodes": [' % PK)
        f.write(",".join(node % i for i in range(400000)))
        f.write("]}")
    t0 = time.monotonic()
    r = run("encode", "offer", str(path), "-o", str(tmp_path / "o.bin"), preexec=_limit_memory)
    took = time.monotonic() - t0
    assert r.returncode == 4 and b"GPURENT_E_OVERSIZE" in r.stderr and b"8388608 bytes" in r.stderr, r.stderr
    assert took < 10, took
    r = run("match", "--offer", str(path), "--request", str(path), "--now", "1", preexec=_limit_memory)
    assert r.returncode == 4 and b"GPURENT_E_OVERSIZE" in r.stderr, r.stderr
    # Under the size bound, the count is checked against the record's limit before the nodes are read.
    with open(path, "w") as f:
        f.write('{"provider_key": "%s", "region": "eu-west", "nodes": [' % PK)
        f.write(",".join(node % i for i in range(2000)))
        f.write("]}")
    r = run("encode", "offer", str(path))
    assert r.returncode == 4 and b"offer.nodes: 2000 items, at most 1024" in r.stderr, r.stderr


@pytest.mark.parametrize("text", [" -5", "\t-1", "-1", "+7", "007", "0x10", "1e3", "", " 7", "7 ",
                                  "18446744073709551616"])
def test_numbers_in_strings_only_canonical(text):
    r = run("encode", "request", "-", stdin=json.dumps({"request_id": "x", "min_vram_mib": text}).encode())
    assert r.returncode == 4 and b"request.min_vram_mib: expected a non-negative integer" in r.stderr, (text, r.stderr)


def test_canonical_number_strings_are_read():
    a = run("encode", "request", "-", stdin=b'{"request_id": "x", "min_vram_mib": "81920"}')
    b = run("encode", "request", "-", stdin=b'{"request_id": "x", "min_vram_mib": 81920}')
    assert a.returncode == 0 and a.stdout == b.stdout
    c = run("encode", "request", "-", stdin=b'{"request_id": "x", "min_vram_mib": "0"}')
    assert c.returncode == 0


def test_record_type_field_must_match():
    r = run("encode", "request", "-", stdin=b'{"type": "offer", "request_id": "x"}')
    assert r.returncode == 4 and b'"type" must be "request"' in r.stderr
    r = run("encode", "request", "-", stdin=b'{"type": 3, "request_id": "x"}')
    assert r.returncode == 4
    assert run("encode", "request", "-", stdin=b'{"type": "request", "request_id": "x"}').returncode == 0


@pytest.fixture()
def signed(tmp_path):
    r = run("keygen", "-o", str(tmp_path / "a.key"), "--seed", SEED, "--fast")
    assert r.stdout.decode().strip() == PK
    run("encode", "request", "-", "-o", str(tmp_path / "r.bin"), stdin=b'{"request_id": "x"}')
    r = run("sign", "--key", str(tmp_path / "a.key"), "--now", "1700000000", str(tmp_path / "r.bin"),
            "-o", str(tmp_path / "r.env"))
    assert r.returncode == 0, r.stderr
    return tmp_path


def verify_with(tmp, trust, now="1700000600"):
    (tmp / "t.json").write_text(trust if isinstance(trust, str) else json.dumps(trust))
    return run("verify", "--trust", str(tmp / "t.json"), "--now", now, str(tmp / "r.env"))


def entry(**kw):
    return {"keys": [dict({"key": PK, "roles": ["requester"]}, **kw)]}


@pytest.mark.parametrize("field", ["not_after", "not_before"])
@pytest.mark.parametrize("value", [1700000500.0, "1700000500", -1, True, None, [1], {"t": 1}])
def test_trust_times_of_the_wrong_type_fail_closed(signed, field, value):
    r = verify_with(signed, entry(**{field: value}))
    assert r.returncode == 4, (field, value, r.stdout, r.stderr)
    assert f"keys[0].{field}: expected a non-negative integer".encode() in r.stderr, r.stderr


def test_trust_times_as_integers_work(signed):
    r = verify_with(signed, entry(not_after=1700000500))
    assert r.returncode == 1 and b"GPURENT_E_EXPIRED" in r.stderr  # the key's validity ended
    r = verify_with(signed, entry(not_before=1700000700))
    assert r.returncode == 1 and b"GPURENT_E_NOT_YET_VALID" in r.stderr
    assert verify_with(signed, entry(not_before=0, not_after=0)).returncode == 0


@pytest.mark.parametrize("trust, msg", [
    ({"keys": [{"key": PK, "roles": ["requester"]}], "revoked": PK}, b'"revoked" must be an array'),
    ({"keys": [{"key": PK, "roles": ["requester"]}], "revoked": {"k": PK}}, b'"revoked" must be an array'),
    ({"keys": [{"key": PK, "roles": ["requester"]}], "revoked": [1]}, b"revoked[0]: expected 64 hex digits"),
    ({"keys": {"key": PK}}, b'"keys" must be an array'),
    ([], b"expected a JSON object"),
    ({"keys": ["nope"]}, b"keys[0]: expected an object"),
    ({"keys": [{"key": PK, "roles": "requester"}]}, b"keys[0].roles: expected a non-empty array"),
    ({"keys": [{"key": PK, "roles": []}]}, b"keys[0].roles: expected a non-empty array"),
    ({"keys": [{"key": PK, "roles": [7]}]}, b"keys[0].roles[0]: unknown role"),
    ({"keys": [{"key": 5, "roles": ["requester"]}]}, b"keys[0].key: expected 64 hex digits"),
    ({"keys": [{"key": PK, "roles": ["requester"], "not_afer": 5}]}, b"keys[0]: unknown field 'not_afer'"),
    ({"keys": [], "revokd": [PK]}, b"unknown field 'revokd'"),
])
def test_trust_file_wrong_types(signed, trust, msg):
    r = verify_with(signed, trust)
    assert r.returncode == 4 and msg in r.stderr, (trust, r.stderr)


def test_revoked_as_array_still_revokes(signed):
    r = verify_with(signed, {"keys": [{"key": PK, "roles": ["requester"]}], "revoked": [PK]})
    assert r.returncode == 1 and b"GPURENT_E_REVOKED" in r.stderr


def test_names_not_numbers(signed):
    tmp = signed
    # A role the key lacks, by name.
    r = verify_with(tmp, entry())
    assert r.returncode == 0
    (tmp / "t.json").write_text(json.dumps(entry()))
    r = run("verify", "--trust", str(tmp / "t.json"), "--now", "1700000600", "--role", "auditor", str(tmp / "r.env"))
    assert r.returncode == 1 and b"key lacks role auditor" in r.stderr, r.stderr
    # inspect names the statement as verify does.
    r = run("inspect", str(tmp / "r.env"))
    assert r.returncode == 0 and json.loads(r.stdout)["statement"] == "request", r.stdout
    # A request signed where audit reports are expected: record types by name.
    (tmp / "t.json").write_text(json.dumps({"keys": [{"key": PK, "roles": ["auditor", "requester"]}]}))
    r = run("tier", "--trust", str(tmp / "t.json"), str(tmp / "r.env"))
    assert r.returncode == 1 and b"request (3), expected audit_report (5)" in r.stderr, r.stderr
    # A record given where another is expected.
    run("encode", "request", "-", "-o", str(tmp / "q.bin"), stdin=b'{"request_id": "q"}')
    r = run("match", "--offer", str(tmp / "q.bin"), "--request", str(tmp / "q.bin"), "--now", "1")
    assert r.returncode == 4 and b"(request given, offer expected)" in r.stderr, r.stderr


def test_enumerations_by_name_round_trip():
    audit = {"provider_key": PK, "auditor_key": "22" * 32, "time_s": 100, "gpu_report": "passed", "integrity": 1,
             "security": "failed", "challenges": [{"time_s": 10, "kind": "gpu", "passed": 1},
                                                  {"time_s": 5, "kind": 2, "passed": 0}],
             "jobs": [{"job_id": "j", "end_s": 50, "outcome": "failed_user"}]}
    r = run("encode", "audit_report", "-", stdin=json.dumps(audit).encode())
    assert r.returncode == 0, r.stderr
    shown = json.loads(run("inspect", "-", stdin=r.stdout).stdout)
    assert shown["type"] == "audit_report" and shown["gpu_report"] == "passed" and shown["integrity"] == "passed"
    assert shown["security"] == "failed" and [c["kind"] for c in shown["challenges"]] == ["cpu", "gpu"]
    assert shown["jobs"][0]["outcome"] == "failed_user"
    again = run("encode", "audit_report", "-", stdin=json.dumps(shown).encode())
    assert again.returncode == 0 and again.stdout == r.stdout
    r = run("encode", "request", "-", stdin=b'{"request_id": "x", "interface": "sx"}')
    assert r.returncode == 4 and b"unknown name 'sx' (any, pcie, sxm)" in r.stderr


def test_probe_report_status_by_name():
    r = run("probe", "--json", "--driver", "/nonexistent/libcuda.so.1")
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "GPURENT_E_NO_DRIVER"


def test_encode_help_lists_every_kind():
    r = run("encode", "--help")
    assert r.returncode == 0
    for kind in (b"gpu", b"offer", b"request", b"audit_report"):
        assert kind in r.stdout
    assert b"audit_report" in run("--help").stdout
