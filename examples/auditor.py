#!/usr/bin/env python3
"""Three auditor nodes in Python, end to end (the C version is
examples/auditor.c).

Each era every auditor signs its audit report about a provider; every node
verifies the three signed reports against its own trust store (auditor role,
validity window, replay) and records them, then evaluates the era. After ten
eras the nodes hold identical evidence, so they compute byte-identical tier
certificates: auditor A signs its certificate, B and C check that it is
exactly theirs and co-sign it, and a matchmaker verifies that a quorum of
k = 3 auditors signed it (and that two signatures are not enough).

Keys come from fixed seeds so the run needs no files; a real node keeps its
key in a sealed key file (gpurent.Key.load).

Run from the source tree after `make python`:
    PYTHONPATH=bindings/python python3 examples/auditor.py
Exits 0 when every step gives the expected answer.
"""
import hashlib

import gpurent

DAY = 86400
FIRST_ERA, ERAS = 20000, 10
SKEW = 300
PROVIDER = bytes([0x42]) * 32


class AuditorNode:
    """One auditor: its key, its own tier engine and its own trust store."""

    def __init__(self, key: gpurent.Key, auditor_keys):
        self.key = key
        self.engine = gpurent.TierEngine(gpurent.TierOptions(first_era=FIRST_ERA))
        self.trust = trust_auditors(auditor_keys)

    def close(self) -> None:
        for h in (self.key, self.engine, self.trust):
            h.close()


def trust_auditors(public_keys) -> gpurent.TrustStore:
    t = gpurent.TrustStore()
    for pk in public_keys:
        t.add(pk, gpurent.Role.AUDITOR)
    return t


def signed_report(key: gpurent.Key, j: int, era: int) -> bytes:
    """Auditor j's signed report on the provider for one era."""
    base = era * DAY
    r = gpurent.AuditReport(provider_key=PROVIDER, auditor_key=key.public_key, time_s=base + 86000 + j,
                            gpu_report=gpurent.CheckResult.PASSED, integrity=gpurent.CheckResult.PASSED,
                            security=gpurent.CheckResult.PASSED, stake_observed=1, stake_micro=500_000_000)
    # Hourly GPU challenges (one miss), a CPU challenge every six hours.
    r.challenges = [gpurent.Challenge(base + h * 3600 + j, gpurent.ChallengeKind.GPU, int(not (h == 13 and j == 1)))
                    for h in range(24)]
    r.challenges += [gpurent.Challenge(base + h * 3600 + 1800 + j, gpurent.ChallengeKind.CPU, 1)
                     for h in range(0, 24, 6)]
    if j == 0:  # job outcomes are counted, not deduplicated: the auditor watching the lease reports them
        r.jobs = [gpurent.Job("job-1", base + 70000, gpurent.JobOutcome.COMPLETED)]
    return key.sign(r.encode(), r.time_s, r.time_s + 7 * DAY, subject=PROVIDER)


def run_era(nodes, era: int) -> None:
    envelopes = [signed_report(n.key, j, era) for j, n in enumerate(nodes)]
    now = era * DAY + 86300  # the reports arrive at the end of the era
    for n in nodes:
        statuses = n.engine.record_signed_many(n.trust, envelopes, now, SKEW, threads=1)
        if any(statuses):
            raise SystemExit(f"signed reports refused: {[gpurent.status_name(s) for s in statuses]}")
        try:  # a copy of a report sent again is refused and changes nothing
            n.engine.record_signed(n.trust, envelopes[0], now, SKEW)
            raise SystemExit("a replayed report was not refused")
        except gpurent.ReplayedError:
            pass
        n.engine.evaluate(era)


def main() -> int:
    gpurent.init()
    keys = [gpurent.Key.from_seed(bytes([0xA0 + j]) * 32) for j in range(3)]  # fixed seeds: for the example only
    public_keys = [k.public_key for k in keys]
    nodes = [AuditorNode(k, public_keys) for k in keys]
    try:
        for era in range(FIRST_ERA, FIRST_ERA + ERAS):
            run_era(nodes, era)
        print(nodes[0].engine.explain(PROVIDER).text, end="")
        certs = [n.engine.certificate(PROVIDER).encode() for n in nodes]
        same = all(c == certs[0] for c in certs)
        print(f"certificates of the {len(nodes)} nodes: {'byte-identical' if same else 'DIFFERENT'} "
              f"({len(certs[0])} bytes, sha256 {hashlib.sha256(certs[0]).hexdigest()[:16]}...)")

        # A signs; B and C co-sign only what their own engines computed.
        now = (FIRST_ERA + ERAS) * DAY + 600
        one = nodes[0].engine.sign_certificate(nodes[0].key, PROVIDER, now, now + 7 * DAY)
        two = nodes[1].engine.cosign_certificate(nodes[1].key, nodes[1].trust, one, now, SKEW)
        three = nodes[2].engine.cosign_certificate(nodes[2].key, nodes[2].trust, two, now, SKEW)

        # The matchmaker's side: k = 3 signatures needed, 2 are not enough.
        with trust_auditors(public_keys) as t:
            cert = gpurent.verify_tier_certificate(t, three, now + 60, SKEW, quorum=3)
            try:
                gpurent.verify_tier_certificate(t, two, now + 60, SKEW, quorum=3)
                short = "accepted"
            except gpurent.QuorumNotMetError:
                short = "GPURENT_E_QUORUM_NOT_MET"
        print(f"with 2 of 3 signatures: {short}")
        print(f"signed certificate: {len(three)} bytes, provider tier {cert.tier}"
              f"{' (incubating)' if cert.incubating else ''}, score {cert.score_ppm} ppm, "
              f"{len(cert.auditors)} auditors, era {cert.era}, verified with 3 of 3 signatures")
        ok = same and cert.encode() == certs[0] and short != "accepted" and cert.auditors == sorted(public_keys)
        return 0 if ok else 1
    finally:
        for n in nodes:
            n.close()


if __name__ == "__main__":
    raise SystemExit(main())
