"""Cross-language proof (issue 7): the scripted scenarios of
tests/fixtures/scenario give, through the Python bindings, byte for byte the
tier certificates and match receipts the C library gave (the .hex files,
which check-bindings re-derives from C)."""
import os
from pathlib import Path

import pytest

import gpurent
from gpurent_scenario import SCENARIO_DIR, run

SCRIPTS = sorted(SCENARIO_DIR.glob("*.scn"))


def test_there_are_tier_and_market_scenarios():
    text = " ".join(p.read_text() for p in SCRIPTS)
    assert "\ncertificate " in text and "\nmatch " in text


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_python_gives_the_c_bytes(script):
    want = script.with_suffix(".hex").read_text().split()
    got = run(script)
    assert got == want
    # Each line is a record of the expected kind that decodes and re-encodes.
    for h in got:
        b = bytes.fromhex(h)
        t = gpurent.record_type(b)
        rec = gpurent.TierCert.decode(b) if t == gpurent.RecordType.TIER_CERT else gpurent.Receipt.decode(b)
        assert rec.encode() == b


# ---- signed tier certificates across languages ----
# An auditor signs a certificate through this binding and one through the Go
# binding co-signs it, and the reverse. Co-signing recomputes the certificate
# from the co-signer's own engine and refuses any byte of difference
# (CertMismatchError), so a co-signature is proof that both languages' engines
# computed the same certificate. make check-bindings passes the files between
# the suites (bindings/xlang.mk, check-bindings-xsign).

TIER_SCRIPT = SCENARIO_DIR / "tier_three_auditors.scn"
XLANG_NOW = 20010 * 86400
SEED_PY, SEED_GO = bytes([0x51]) * 32, bytes([0x52]) * 32


def _xlang_world():
    """The scenario's engine (after its last era), the certificate's
    provider (the script's last `certificate` line), both signing keys and a
    trust store holding them as auditors."""
    keep = []
    run(TIER_SCRIPT, keep)
    provider = bytes.fromhex([ln for ln in TIER_SCRIPT.read_text().splitlines()
                              if ln.startswith("certificate ")][-1].split(" ")[1][4:])
    keys = [gpurent.Key.from_seed(SEED_PY), gpurent.Key.from_seed(SEED_GO)]
    trust = gpurent.TrustStore()
    for k in keys:
        trust.add(k.public_key, gpurent.Role.AUDITOR)
    return keep[0], provider, keys, trust


def test_python_signs_a_tier_certificate_for_go():
    engine, provider, keys, trust = _xlang_world()
    with engine, trust, keys[0], keys[1]:
        env = engine.sign_certificate(keys[0], provider, XLANG_NOW, XLANG_NOW + 30 * 86400)
        cert = gpurent.verify_tier_certificate(trust, env, XLANG_NOW, 0, quorum=1)
        assert cert.encode().hex() == TIER_SCRIPT.with_suffix(".hex").read_text().split()[-1]  # C's bytes
        build = os.environ.get("GPURENT_TEST_BUILD")
        if build:
            out = Path(build) / "bindings" / "xlang" / "python-tier-cert.txt"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(env.hex() + "\n")


def test_python_cosigns_what_go_signed():
    path = os.environ.get("GPURENT_XSIGN_GO_CERT")
    if not path:
        pytest.skip("GPURENT_XSIGN_GO_CERT not set (make check-bindings sets it)")
    env = bytes.fromhex(Path(path).read_text().strip())
    engine, provider, keys, trust = _xlang_world()
    with engine, trust, keys[0], keys[1]:
        with pytest.raises(gpurent.QuorumNotMetError):
            gpurent.verify_tier_certificate(trust, env, XLANG_NOW, 0, quorum=2)
        both = engine.cosign_certificate(keys[0], trust, env, XLANG_NOW, 0)
        cert = gpurent.verify_tier_certificate(trust, both, XLANG_NOW, 0, quorum=2)
        assert cert.provider_key == provider and cert.encode() == engine.certificate(provider).encode()
