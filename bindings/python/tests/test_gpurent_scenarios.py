"""Cross-language proof (issue 7): the scripted scenarios of
tests/fixtures/scenario give, through the Python bindings, byte for byte the
tier certificates and match receipts the C library gave (the .hex files,
which check-bindings re-derives from C)."""
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
