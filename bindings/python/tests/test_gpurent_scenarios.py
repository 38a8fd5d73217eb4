"""Cross-language proof: the scripted scenarios of
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


# ---- what the incubation scenario covers ----

INCUBATION_SCRIPT = SCENARIO_DIR / "tier_incubation_slash_beta.scn"


def _engine_after(era, tmp_path):
    """The incubation scenario's engine once `era` is evaluated (the script
    cut after that `evaluate` line)."""
    lines = INCUBATION_SCRIPT.read_text().splitlines()
    cut = tmp_path / f"upto_{era}.scn"
    cut.write_text("\n".join(lines[:lines.index(f"evaluate {era}") + 1]) + "\n")
    keep = []
    run(cut, keep)
    return keep[0]


def test_incubation_scenario_covers_reset_slash_and_beta(tmp_path):
    """The certificates of tier_incubation_slash_beta come from an engine
    with the Beta bound that went through an incubation reset (a failed
    integrity audit), a graduation and a security slash after it."""
    reset_p, slash_p, steady_p = (bytes((i * 37 + b * 11 + 1) & 0xFF for b in range(32)) for i in (21, 22, 23))
    rule = gpurent.Rule
    with _engine_after(21004, tmp_path) as e:
        x = e.explain(reset_p)
        assert x.rule == rule.INCUBATION_RESET and x.previous_tier == 6 and x.tier == 7
        assert e.explain(steady_p).tier == 6
    with _engine_after(21007, tmp_path) as e:
        x = e.explain(slash_p)
        assert x.rule == rule.PROMOTED and x.tier == 5 and not x.incubating
    with _engine_after(21009, tmp_path) as e:
        x = e.explain(slash_p)
        assert x.rule == rule.SECURITY_DEMOTION and x.tier == 7 and x.incubating
        assert e.slashes() == [gpurent.Slash(provider_key=slash_p, era=21009, reasons=gpurent.capi.TIER_SLASH_SECURITY,
                                             tier_before=5, tier_after=7, uptime_ppm=x.era_uptime_ppm)]
        beta = gpurent.TierOptions(first_era=21000, bound=gpurent.capi.TIER_BOUND_BETA, z_milli=1645)
        with gpurent.TierEngine(beta) as b, gpurent.TierEngine(gpurent.TierOptions(first_era=21000)) as w:
            assert e.params_digest() == b.params_digest() != w.params_digest()
    certs = [gpurent.TierCert.decode(bytes.fromhex(h)) for h in INCUBATION_SCRIPT.with_suffix(".hex").read_text().split()]
    tiers = {(c.provider_key, c.era): (c.tier, c.incubating) for c in certs}
    assert tiers[(reset_p, 21005)] == (7, 1) and tiers[(slash_p, 21008)] == (5, 0)
    assert tiers[(slash_p, 21010)] == (7, 1) and tiers[(steady_p, 21011)] == (5, 0)


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
