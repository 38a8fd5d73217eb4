"""The attest module through the binding: keys (secret material stays in C),
signing and co-signing, the trust store, verification one by one, in bulk
and in batches, revocations, key files; every failure status has its
exception class. The C-signed vectors (tests/vectors/envelopes_c.txt) are
reproduced byte for byte from their seeds, and Python's `cryptography`
verifies envelopes this binding signs (and, in make check-bindings, those
the Go binding signed: see xsign.py)."""
import os
import time
from pathlib import Path

import pytest

import gpurent
from gpurent import capi

import xsign
from gil_spinner import spinner

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "tests" / "vectors" / "envelopes_c.txt"
T0 = 1_700_000_000
DAY = 86_400
SEED = bytes([1]) * 32
PK_SEED1 = bytes.fromhex("8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c")


def read_vectors():
    out = []
    for line in VECTORS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            out.append(dict(tok.split("=", 1) for tok in line.split()))
    return out


def offer_payload(seq=1):
    return gpurent.Offer(provider_key=PK_SEED1, seq=seq, region="eu-west",
                         nodes=[gpurent.Node(node_id="n1", gpu=gpurent.GPU(model="H100", cc_major=9),
                                             gpu_count=8)]).encode()


@pytest.fixture
def key():
    with gpurent.Key.from_seed(SEED) as k:
        yield k


@pytest.fixture
def trust(key):
    with gpurent.TrustStore() as t:
        t.add(key.public_key, gpurent.Role.PROVIDER)
        yield t


# ---- keys ----

def test_key_from_seed_is_deterministic_and_public_only(key):
    assert key.public_key == PK_SEED1  # RFC 8032-style derivation, same as C
    with gpurent.Key.from_seed(bytearray(SEED)) as again:
        assert again.public_key == key.public_key
    with gpurent.Key.generate() as k2:
        assert len(k2.public_key) == 32 and k2.public_key != key.public_key
    # Nothing on a key hands out secret bytes.
    public = [n for n in dir(key) if not n.startswith("_")]
    assert sorted(public) == ["close", "closed", "cosign", "from_seed", "generate", "load", "ptr", "public_key",
                              "save", "seal", "sign", "unseal"]
    with pytest.raises(ValueError):
        gpurent.Key.from_seed(b"short")


def test_key_close_and_context_manager():
    k = gpurent.Key.generate()
    k.close()
    k.close()
    assert k.closed
    with pytest.raises(ValueError, match="closed"):
        k.public_key


def test_seal_unseal_save_load(tmp_path, key):
    sealed = key.seal("correct horse", opslimit=1, memlimit=1 << 20)
    with gpurent.Key.unseal(sealed, "correct horse") as k2:
        assert k2.public_key == key.public_key
    with gpurent.Key.unseal(sealed, "correct horse", expected_public_key=key.public_key) as k3:
        assert k3.public_key == key.public_key
    with pytest.raises(gpurent.WrongPassphraseError):
        gpurent.Key.unseal(sealed, "wrong horse")
    damaged = bytearray(sealed)
    damaged[len(damaged) // 2] ^= 1
    with pytest.raises(gpurent.KeyfileDamagedError) as ei:
        gpurent.Key.unseal(bytes(damaged), "correct horse")
    assert isinstance(ei.value, gpurent.AttestError) and ei.value.detail
    with pytest.raises(gpurent.KeyfileDamagedError):
        gpurent.Key.unseal(sealed[:10], "correct horse")
    with pytest.raises(gpurent.KeyMismatchError):
        gpurent.Key.unseal(sealed, "correct horse", expected_public_key=bytes(range(32)))
    with pytest.raises(ValueError):
        gpurent.Key.unseal(sealed, "correct horse", expected_public_key=b"short")

    path = tmp_path / "provider.key"
    key.save(path, "pw", opslimit=1, memlimit=1 << 20)
    assert (path.stat().st_mode & 0o777) == 0o600
    with gpurent.Key.load(path, "pw") as k4:
        assert k4.public_key == key.public_key
    with pytest.raises(gpurent.WrongPassphraseError):
        gpurent.Key.load(str(path), "nope")
    with pytest.raises(gpurent.IOFailedError):
        gpurent.Key.load(tmp_path / "missing.key", "pw")
    with pytest.raises(gpurent.IOFailedError):
        key.save(tmp_path / "no" / "such" / "dir.key", "pw", opslimit=1, memlimit=1 << 20)
    # Never overwritten unless asked; a symlink is never written through.
    with pytest.raises(gpurent.ExistsError):
        key.save(path, "pw2", opslimit=1, memlimit=1 << 20)
    with gpurent.Key.load(path, "pw") as k5:
        assert k5.public_key == key.public_key
    key.save(path, "pw2", opslimit=1, memlimit=1 << 20, force=True)
    with gpurent.Key.load(path, "pw2") as k6:
        assert k6.public_key == key.public_key
    victim = tmp_path / "victim"
    victim.write_bytes(b"untouched")
    link = tmp_path / "link.key"
    link.symlink_to(victim)
    with pytest.raises(gpurent.ExistsError):
        key.save(link, "pw", opslimit=1, memlimit=1 << 20)
    key.save(link, "pw", opslimit=1, memlimit=1 << 20, force=True)
    assert victim.read_bytes() == b"untouched" and not link.is_symlink()
    with pytest.raises(gpurent.InvalidArgError):
        key.seal("", opslimit=1, memlimit=1 << 20)  # empty passphrase
    with pytest.raises(gpurent.InvalidArgError):
        key.seal("pw", opslimit=99)


def test_options_init_rejects_unknown_versions():
    for fn, cls in ((capi.keyfile_options_init, capi.keyfile_options),
                    (capi.trust_options_init, capi.trust_options),
                    (capi.verify_options_init, capi.verify_options)):
        o = cls()
        fn(o, 1)
        with pytest.raises(gpurent.VersionError):
            fn(o, 99)


# ---- records in wire.h ----

def test_envelope_header_and_digest(key):
    env = key.sign(offer_payload(), T0, T0 + DAY, nonce=bytes(range(1, 17)), subject=b"node-1")
    hdr = gpurent.Envelope.decode(env)
    assert hdr == gpurent.Envelope(statement=gpurent.RecordType.OFFER, issuer=key.public_key, issued_at=T0,
                                   expires_at=T0 + DAY, nonce=bytes(range(1, 17)), subject=b"node-1",
                                   payload_len=len(offer_payload()), signature_count=1)
    d = gpurent.envelope_digest(env)
    assert len(d) == 32 and d == xsign.blake2b_of_message(env)
    with pytest.raises(gpurent.TruncatedError):
        gpurent.Envelope.decode(env[:-1])
    with pytest.raises(gpurent.LimitError):
        gpurent.Envelope(subject=bytes(capi.SUBJECT_MAX + 1))._to_c()
    c = capi.envelope()
    capi.envelope_init(c)
    assert c.statement == 0 and c.subject_len == 0


def test_revocation_record():
    r = gpurent.Revocation(key=PK_SEED1, revoked_at=T0, reason=gpurent.RevocationReason.COMPROMISED)
    r.validate()
    assert gpurent.Revocation.decode(r.encode()) == r
    with pytest.raises(gpurent.InvalidFieldError, match="key"):
        gpurent.Revocation(revoked_at=T0).validate()
    with pytest.raises(gpurent.InvalidFieldError, match="reason"):
        gpurent.Revocation(key=PK_SEED1, reason=9).encode()
    with pytest.raises(gpurent.WireError):
        gpurent.Revocation.decode(r.encode()[:-1])


def test_statement_default_role():
    assert gpurent.statement_default_role(gpurent.RecordType.OFFER) == gpurent.Role.PROVIDER
    assert gpurent.statement_default_role(gpurent.RecordType.TIER_CERT) == gpurent.Role.AUDITOR
    assert gpurent.statement_default_role(gpurent.RecordType.REVOCATION) == gpurent.Role.REVOKER
    assert gpurent.statement_default_role(999) == 0


# ---- trust store ----

def test_trust_store_keys(key):
    with gpurent.TrustStore(replay_capacity=16) as t:
        assert len(t) == 0
        t.add(key.public_key, gpurent.Role.PROVIDER | gpurent.Role.AUDITOR, T0, T0 + DAY)
        assert len(t) == 1
        assert t.roles(key.public_key) == gpurent.Role.PROVIDER | gpurent.Role.AUDITOR
        with pytest.raises(gpurent.ExistsError):
            t.add(key.public_key, gpurent.Role.PROVIDER)
        with pytest.raises(gpurent.InvalidArgError):
            t.add(bytes(32), gpurent.Role.PROVIDER)  # small order
        with pytest.raises(gpurent.NotFoundError):
            t.roles(bytes(range(32)))
        assert not t.is_revoked(key.public_key)
        t.revoke(key.public_key)
        t.revoke(key.public_key)
        assert t.is_revoked(key.public_key)
        t.remove(key.public_key)
        assert len(t) == 0
        with pytest.raises(gpurent.NotFoundError):
            t.remove(key.public_key)
    with pytest.raises(gpurent.InvalidArgError):
        gpurent.TrustStore(replay_capacity=2**24 + 1)
    # 0 is the default capacity (16384): a store made so loads where the default is expected.
    data = gpurent.TrustStore(replay_capacity=0).save(0)
    gpurent.TrustStore.load(data, replay_capacity=16384)[0].close()


# ---- verification, every failure status ----

def test_verify_returns_a_verified_handle(key, trust):
    payload = offer_payload()
    env = key.sign(payload, T0, T0 + DAY, subject=b"n1")
    with trust.verify(env, T0 + 10, statement=gpurent.RecordType.OFFER) as v:
        assert v.payload == payload and v.payload_view == payload
        assert v.header.issuer == key.public_key and v.header.subject == b"n1"
        assert v.digest == gpurent.envelope_digest(env)
        assert v.signers == [key.public_key]
    assert v.closed
    with pytest.raises(gpurent.ReplayedError):
        trust.verify(env, T0 + 10)
    trust.clear_replay()
    trust.verify(env, T0 + 10).close()
    trust.verify(env, T0 + 10, check_replay=False).close()


def test_adopt_replay_carries_the_window_through_a_snapshot(key, trust, tmp_path):
    env = key.sign(offer_payload(), T0, T0 + DAY)
    other = key.sign(offer_payload(), T0, T0 + DAY)
    trust.verify(env, T0 + 10).close()
    trust.save_file(tmp_path / "trust.snap", 1)
    loaded, seq = gpurent.TrustStore.load_file(tmp_path / "trust.snap")
    assert seq == 1
    fresh = gpurent.TrustStore()
    fresh.add(key.public_key, gpurent.Role.ALL)
    fresh.verify(other, T0 + 10).close()  # its own window, replaced by the adoption
    fresh.adopt_replay(loaded)
    loaded.close()
    with pytest.raises(gpurent.ReplayedError):
        fresh.verify(env, T0 + 10)
    fresh.verify(other, T0 + 10).close()
    assert len(fresh) == 1
    with pytest.raises(TypeError):
        fresh.adopt_replay(None)  # type: ignore[arg-type]
    fresh.close()


def test_each_failure_has_its_class(key, trust):
    payload = offer_payload()
    env = key.sign(payload, T0, T0 + DAY)
    bad = bytearray(env)
    bad[-1] ^= 1  # last byte of the signature
    with pytest.raises(gpurent.BadSignatureError):
        trust.verify(bytes(bad), T0)
    with pytest.raises(gpurent.ExpiredError):
        trust.verify(env, T0 + 2 * DAY)
    with pytest.raises(gpurent.NotYetValidError):
        trust.verify(env, T0 - 1000, skew_s=10)
    with pytest.raises(gpurent.WrongRecordError):
        trust.verify(env, T0, statement=gpurent.RecordType.REQUEST)
    with pytest.raises(gpurent.RoleNotAllowedError):
        trust.verify(env, T0, required_role=gpurent.Role.AUDITOR)
    with pytest.raises(gpurent.QuorumNotMetError):
        trust.verify(env, T0, quorum=2)
    with gpurent.Key.generate() as stranger:
        with pytest.raises(gpurent.UnknownIssuerError):
            trust.verify(stranger.sign(payload, T0, T0 + DAY), T0)
    with pytest.raises(gpurent.TruncatedError):
        trust.verify(env[:-3], T0)
    with pytest.raises(gpurent.MalformedError):
        trust.verify(b"\xc1", T0)
    noncanon = bytes([env[0]]) + b"\x00\xd3" + bytes(7) + b"\x09" + env[3:]  # key 0 = 9 as int64
    with pytest.raises(gpurent.NonCanonicalError):
        trust.verify(noncanon, T0)
    trust.verify(env, T0).close()
    with pytest.raises(gpurent.ReplayedError):
        trust.verify(env, T0)
    trust.revoke(key.public_key)
    with pytest.raises(gpurent.RevokedError) as ei:
        trust.verify(env, T0, check_replay=False)
    assert ei.value.status == capi.E_REVOKED and ei.value.name == "GPURENT_E_REVOKED"
    with pytest.raises(gpurent.KeyMismatchError):
        capi.envelope_sign(key.ptr, gpurent.Envelope(statement=2, issuer=bytes(range(32)), issued_at=T0,
                                                      expires_at=T0 + 1)._to_c(), payload)
    with pytest.raises(gpurent.NonCanonicalError):
        key.sign(b"\x81\x00\xcc\x02", T0, T0 + DAY, statement=2)  # {0: 2} with a uint8


def test_cosign_and_quorum():
    seeds = [bytes([i]) * 32 for i in (3, 4, 5)]
    keys = [gpurent.Key.from_seed(s) for s in seeds]
    receipt = bytes.fromhex("83000701ac726563656970742d326f663302cd1234")
    env = keys[0].sign(receipt, T0, T0 + DAY, statement=gpurent.RecordType.MATCH_RECEIPT)
    env = keys[1].cosign(env)
    with pytest.raises(gpurent.ExistsError):
        keys[1].cosign(env)
    with gpurent.TrustStore() as t:
        for k in keys:
            t.add(k.public_key, gpurent.Role.MATCHER)
        with t.verify(env, T0, quorum=2, check_replay=False) as v:
            assert v.signers == sorted(k.public_key for k in keys[:2])
        with pytest.raises(gpurent.QuorumNotMetError):
            t.verify(env, T0, quorum=3, check_replay=False)
        with t.verify(keys[2].cosign(env), T0, quorum=3) as v:
            assert len(v.signers) == 3
    assert gpurent.envelope_digest(env) == gpurent.envelope_digest(keys[2].cosign(env))
    for k in keys:
        k.close()


def test_apply_revocation(key, trust):
    with gpurent.Key.from_seed(bytes([6]) * 32) as revoker:
        trust.add(revoker.public_key, gpurent.Role.REVOKER)
        rev = gpurent.Revocation(key=key.public_key, revoked_at=T0, reason=gpurent.RevocationReason.RETIRED)
        stmt = revoker.sign(rev.encode(), T0, T0 + DAY)
        with pytest.raises(gpurent.RoleNotAllowedError):  # a provider key may not revoke others
            with gpurent.Key.from_seed(bytes([7]) * 32) as other:
                trust.add(other.public_key, gpurent.Role.PROVIDER)
                trust.apply_revocation(other.sign(rev.encode(), T0, T0 + DAY), T0)
        assert not trust.is_revoked(key.public_key)
        trust.apply_revocation(stmt, T0 + 5)
        assert trust.is_revoked(key.public_key)
        with pytest.raises(gpurent.ReplayedError):
            trust.apply_revocation(stmt, T0 + 5)


def test_operator_revocation_settles_pending_ones(key, trust):
    """A revoker's revocation of a key not in the store waits; when the
    operator revokes that key too, the waiting one can no longer matter and
    goes (0.4.0 kept it: it used up the revoker's share, and the store's
    snapshot was refused as corrupt). Every answer stays the same, through a
    snapshot and after the revoker leaves."""
    with gpurent.Key.from_seed(bytes([6]) * 32) as revoker, gpurent.Key.from_seed(bytes([9]) * 32) as absent:
        trust.add(revoker.public_key, gpurent.Role.REVOKER)
        rev = gpurent.Revocation(key=absent.public_key, revoked_at=T0, reason=gpurent.RevocationReason.COMPROMISED)
        trust.apply_revocation(revoker.sign(rev.encode(), T0, T0 + DAY), T0)
        assert trust.is_revoked(absent.public_key)
        trust.revoke(absent.public_key)
        assert trust.is_revoked(absent.public_key)
        loaded, _ = gpurent.TrustStore.load(trust.save(1))
        with loaded:
            assert loaded.is_revoked(absent.public_key)
            assert loaded.save(1) == trust.save(1)
            loaded.remove(revoker.public_key)
            assert loaded.is_revoked(absent.public_key)  # the operator's revocation stands
            loaded.add(absent.public_key, gpurent.Role.PROVIDER)
            assert loaded.is_revoked(absent.public_key)


def test_revoked_key_cycles_keep_one_entry(key, trust):
    """add, revoke, remove of one key, many times: it stays revoked and the
    store's snapshot does not grow."""
    with gpurent.Key.from_seed(bytes([11]) * 32) as k:
        sizes = set()
        for _ in range(50):
            trust.add(k.public_key, gpurent.Role.PROVIDER)
            trust.revoke(k.public_key)
            trust.remove(k.public_key)
            assert trust.is_revoked(k.public_key)
            sizes.add(len(trust.save(1)))
        assert len(sizes) == 1


# ---- bulk ----

def make_envelopes(key, n):
    payload = offer_payload()
    return [key.sign(payload, T0, T0 + DAY) for _ in range(n)]


def test_verify_many_matches_one_by_one(key, trust):
    envs = make_envelopes(key, 40)
    bad = bytearray(envs[5])
    bad[-1] ^= 1
    envs[5] = bytes(bad)
    envs[9] = envs[8]  # a repeat: accepted first, REPLAYED after
    envs.append(b"\x90")
    sts = trust.verify_many(envs, T0, threads=3)
    assert len(sts) == 41
    assert sts[5] == capi.E_BAD_SIGNATURE and sts[9] == capi.E_REPLAYED
    assert sts[40] == capi.E_WRONG_RECORD or gpurent.class_for_status(sts[40]).__mro__[1] is gpurent.WireError
    assert all(s == 0 for i, s in enumerate(sts) if i not in (5, 9, 40))
    # Already remembered now: everything valid is a replay.
    again = trust.verify_many([bytearray(e) for e in envs[:3]], T0, threads=1)
    assert again == [capi.E_REPLAYED] * 3
    assert trust.verify_many([], T0) == []
    with pytest.raises(TypeError):
        trust.verify_many([1, 2], T0)
    with gpurent.Cancel() as c:
        c.request()
        with pytest.raises(gpurent.CancelledError):
            trust.verify_many(make_envelopes(key, 3), T0, cancel=c)


def test_verify_batch(key, trust):
    envs = make_envelopes(key, 10)
    envs[3] = envs[3][:-1]
    with gpurent.VerifyBatch(envs[:5]) as b:
        for e in envs[5:]:
            b.add(e)
        assert len(b) == 10
        assert b.status(0) == capi.E_CANCELLED  # before any run
        b.run(trust, T0, threads=2)
        sts = b.statuses()
        assert sts[3] == capi.E_TRUNCATED and sts.count(0) == 9
        assert isinstance(b.error(3), gpurent.TruncatedError) and b.error(0) is None
        assert b.payload(0) == offer_payload()
        with pytest.raises(gpurent.TruncatedError):
            b.payload(3)
        assert b.status(10) == capi.E_NOT_FOUND
        with pytest.raises(gpurent.NotFoundError):
            b.payload(99)
        with gpurent.Cancel() as c:
            c.request()
            with pytest.raises(gpurent.CancelledError):
                b.run(trust, T0, cancel=c)


# ---- the C vectors, byte for byte ----

@pytest.mark.parametrize("v", read_vectors(), ids=lambda v: v["name"])
def test_c_vectors_reproduced_and_judged(v):
    seeds = [bytes.fromhex(s) for s in v["signers"].split(",")]
    keys = [gpurent.Key.from_seed(s) for s in seeds]
    try:
        if v["mutation"] == "none":
            env = keys[0].sign(bytes.fromhex(v["payload"]), int(v["issued"]), int(v["expires"]),
                               statement=int(v["statement"]), nonce=bytes.fromhex(v["nonce"]),
                               subject=bytes.fromhex(v["subject"]) if v["subject"] != "-" else b"")
            for k in keys[1:]:
                env = k.cosign(env)
            assert env.hex() == v["envelope"], "the binding signs other bytes than C"
        with gpurent.TrustStore() as t:
            for e in v["trust"].split(","):
                parts = e.split(":")
                with gpurent.Key.from_seed(bytes.fromhex(parts[0])) as tk:
                    t.add(tk.public_key, int(parts[1]), *(int(p) for p in parts[2:4]))
            if v["revoked"] != "-":
                for s in v["revoked"].split(","):
                    with gpurent.Key.from_seed(bytes.fromhex(s)) as rk:
                        t.revoke(rk.public_key)
            args = dict(skew_s=int(v["skew"]), quorum=int(v["quorum"]), required_role=int(v["role"]))
            if v["expect"] == "GPURENT_OK":
                t.verify(bytes.fromhex(v["envelope"]), int(v["now"]), **args).close()
            else:
                with pytest.raises(gpurent.Error) as ei:
                    t.verify(bytes.fromhex(v["envelope"]), int(v["now"]), **args)
                assert ei.value.name == v["expect"]
                assert type(ei.value) is gpurent.class_for_status(ei.value.status)
    finally:
        for k in keys:
            k.close()


# ---- cross-language: cryptography verifies what this binding signs ----

def test_cryptography_verifies_what_the_binding_signs():
    with gpurent.Key.generate() as k:
        env = k.sign(offer_payload(), T0, T0 + DAY, subject=b"xlang")
        assert xsign.verify_with_cryptography(env)
        tampered = bytearray(env)
        tampered[30] ^= 1  # inside the issuer's key bytes... or the body: either way it must fail
        assert not xsign.verify_with_cryptography(bytes(tampered))
        # Left for the Go suite's counterpart (make check-bindings verifies it with crypto/ed25519).
        build = os.environ.get("GPURENT_TEST_BUILD")
        if build:
            xsign.write_signed(Path(build) / "bindings" / "xlang" / "python-signed.txt", env)


# ---- the GIL is released during bulk verification ----

def test_python_thread_progresses_during_verify_many(key, trust):
    envs = make_envelopes(key, 64)
    # Enough work for ~0.3 s on one thread.
    t0 = time.perf_counter()
    trust.verify_many(envs, T0, threads=1, check_replay=False)
    per = (time.perf_counter() - t0) / len(envs)
    envs = envs * max(1, int(0.3 / max(per, 1e-6) / len(envs)))
    with spinner() as s:
        free_rate = s.free_steps(0.1) / 0.1
        sts, during, took = s.during(lambda: trust.verify_many(envs, T0, threads=1, check_replay=False))
    assert set(sts) == {0}
    assert free_rate > 0
    assert during > free_rate * took * 0.08, f"spinner made {during} steps in {took:.3f} s ({free_rate:.0f}/s free)"
