"""Every file the CLI writes goes through a fresh temporary file in the same folder (created with
O_EXCL|O_NOFOLLOW), fsync and rename: a symlink at the target is replaced, never written through;
a failure leaves the old file intact; keys are 0600 and never replaced without --force."""
import json
import os
import resource
import signal
import stat
import subprocess

CLI = os.environ.get("GPURENT_CLI", "build/gpurent")
REQ = '{"request_id": "job-1", "gpu_count": 2}'


def run(*args, stdin=None, preexec=None):
    env = dict(os.environ, GPURENT_PASSPHRASE="pw")
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, env=env, preexec_fn=preexec,
                          timeout=60)


def test_output_symlink_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    link = tmp_path / "link.bin"
    link.symlink_to(victim)
    r = run("encode", "request", "-", "-o", str(link), stdin=REQ.encode())
    assert r.returncode == 0, r.stderr
    assert victim.read_bytes() == b"precious"
    expected = run("encode", "request", "-", stdin=REQ.encode()).stdout
    assert not link.is_symlink() and link.read_bytes() == expected
    # A dangling link does not create its target.
    dangling = tmp_path / "dangling.bin"
    dangling.symlink_to(tmp_path / "created-through-link")
    r = run("encode", "request", "-", "-o", str(dangling), stdin=REQ.encode())
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "created-through-link").exists() and not dangling.is_symlink()
    # Nothing is left behind but the outputs.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.bin", "link.bin", "victim"]


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead of a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))


def test_failure_midway_leaves_the_old_file(tmp_path):
    out = tmp_path / "offer.bin"
    out.write_bytes(b"old offer")
    nodes = [{"node_id": f"n{i}", "gpu_count": 8, "gpu_free": 8, "price_micro_per_gpu_hour": 1000000,
              "gpu": {"model": "H100 SXM5 80GB", "memory_mib": 81559}} for i in range(40)]
    offer = {"provider_key": "11" * 32, "region": "eu-west", "nodes": nodes}
    r = run("encode", "offer", "-", "-o", str(out), stdin=json.dumps(offer).encode(), preexec=_limit_file_size)
    assert r.returncode == 3 and b"File too large" in r.stderr, r.stderr
    assert out.read_bytes() == b"old offer"
    assert [p.name for p in tmp_path.iterdir()] == ["offer.bin"]  # no temporary file left


def test_keygen_files_and_modes(tmp_path):
    key = tmp_path / "p.key"
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    # Links planted where the old code wrote: KEY.tmp and KEY.pub.
    (tmp_path / "p.key.tmp").symlink_to(victim)
    (tmp_path / "p.key.pub").symlink_to(tmp_path / "victim")
    r = run("keygen", "-o", str(key), "--seed", "44" * 32, "--fast", "--force")
    assert r.returncode == 0, r.stderr
    assert victim.read_bytes() == b"precious"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and not key.is_symlink()
    pub = tmp_path / "p.key.pub"
    assert not pub.is_symlink() and pub.read_text().strip() == r.stdout.decode().strip()


def test_keygen_never_overwrites_without_force(tmp_path):
    key = tmp_path / "provider.key"
    r = run("keygen", "-o", str(key), "--seed", "44" * 32, "--fast")
    assert r.returncode == 0, r.stderr
    first = r.stdout.decode().strip()
    before = key.read_bytes()
    r = run("keygen", "-o", str(key), "--fast")
    assert r.returncode == 3 and b"provider.key exists" in r.stderr and b"--force" in r.stderr, r.stderr
    assert key.read_bytes() == before and (tmp_path / "provider.key.pub").read_text().strip() == first
    # A .pub alone is enough to refuse: it names an identity too.
    key.unlink()
    r = run("keygen", "-o", str(key), "--fast")
    assert r.returncode == 3 and b"provider.key.pub exists" in r.stderr
    assert not key.exists()
    # --force replaces both.
    r = run("keygen", "-o", str(key), "--fast", "--force")
    assert r.returncode == 0, r.stderr
    second = r.stdout.decode().strip()
    assert second != first and (tmp_path / "provider.key.pub").read_text().strip() == second


def test_every_output_option_is_atomic(tmp_path):
    """sign -o, cosign -o, verify --payload-out, match -o, probe -o: none writes through a link."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    key = tmp_path / "k.key"
    pk = run("keygen", "-o", str(key), "--seed", "55" * 32, "--fast").stdout.decode().strip()
    run("encode", "request", "-", "-o", str(tmp_path / "r.bin"),
        stdin=b'{"request_id": "a", "submitted_at": 100}')
    (tmp_path / "t.json").write_text(json.dumps({"keys": [{"key": pk, "roles": ["requester", "matcher"]}]}))

    def link(name):
        p = tmp_path / name
        p.symlink_to(victim)
        return str(p)

    steps = [
        ("sign", "--key", str(key), "--now", "5000", str(tmp_path / "r.bin"), "-o", link("s.env")),
        ("cosign", "--key", str(tmp_path / "k2.key"), str(tmp_path / "s.env"), "-o", link("c.env")),
        ("verify", "--trust", str(tmp_path / "t.json"), "--now", "5001", str(tmp_path / "s.env"),
         "--payload-out", link("p.bin")),
        ("probe", "--driver", "/nonexistent/libcuda.so.1", "-o", link("rep.bin")),
    ]
    run("keygen", "-o", str(tmp_path / "k2.key"), "--seed", "66" * 32, "--fast")
    for s in steps:
        r = run(*s)
        assert r.returncode == 0, (s, r.stderr)
    assert victim.read_bytes() == b"precious"
    for name in ("s.env", "c.env", "p.bin", "rep.bin"):
        assert not (tmp_path / name).is_symlink(), name
