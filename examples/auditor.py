#!/usr/bin/env python3
"""Auditor nodes in Python: three auditors send audit reports about a
provider every era (as canonical bytes); each of three nodes records them in
its own tier engine and evaluates the era. After ten eras the nodes hold the
same evidence, so their tier certificates are byte-identical: that is what
lets k auditors co-sign one certificate. (Signing the reports and the
certificate needs the attest bindings, still to come: see examples/auditor.c
for the signed flow in C.)

Run from the source tree after `make python`:
    PYTHONPATH=bindings/python python3 examples/auditor.py
Exits 0 when the three certificates agree.
"""
import hashlib

import gpurent

DAY = 86400
FIRST_ERA, ERAS = 20000, 10
PROVIDER = bytes([0x42]) * 32
AUDITORS = [bytes([0xA0 + j]) * 32 for j in range(3)]


def audit_report(j: int, era: int) -> bytes:
    """Auditor j's report on the provider for one era."""
    base = era * DAY
    r = gpurent.AuditReport(provider_key=PROVIDER, auditor_key=AUDITORS[j], time_s=base + 86000 + j,
                            gpu_report=gpurent.CheckResult.PASSED, integrity=gpurent.CheckResult.PASSED,
                            security=gpurent.CheckResult.PASSED, stake_observed=1, stake_micro=500_000_000)
    # Hourly GPU challenges (one miss), a CPU challenge every six hours.
    r.challenges = [gpurent.Challenge(base + h * 3600 + j, gpurent.ChallengeKind.GPU, int(not (h == 13 and j == 1)))
                    for h in range(24)]
    r.challenges += [gpurent.Challenge(base + h * 3600 + 1800 + j, gpurent.ChallengeKind.CPU, 1)
                     for h in range(0, 24, 6)]
    if j == 0:  # the auditor watching the lease reports its jobs
        r.jobs = [gpurent.Job("job-1", base + 70000, gpurent.JobOutcome.COMPLETED)]
    return r.encode()


def main() -> int:
    gpurent.init()
    nodes = [gpurent.TierEngine(gpurent.TierOptions(first_era=FIRST_ERA)) for _ in AUDITORS]
    try:
        for era in range(FIRST_ERA, FIRST_ERA + ERAS):
            reports = [audit_report(j, era) for j in range(len(AUDITORS))]
            for engine in nodes:
                for data in reports:
                    engine.record_report(data)  # in production: verified signed envelopes
                summary = engine.evaluate(era)
        print(f"era {summary.era}: {summary.evaluated} provider(s), tier counts {summary.tier_counts[:7]}")
        print(nodes[0].explain(PROVIDER).text, end="")
        certs = [engine.certificate(PROVIDER).encode() for engine in nodes]
        same = all(c == certs[0] for c in certs)
        cert = gpurent.TierCert.decode(certs[0])
        print(f"certificates of the {len(nodes)} nodes: {'byte-identical' if same else 'DIFFERENT'} "
              f"({len(certs[0])} bytes, sha256 {hashlib.sha256(certs[0]).hexdigest()[:16]}...)")
        print(f"provider tier {cert.tier}{' (incubating)' if cert.incubating else ''}, score {cert.score_ppm} ppm, "
              f"{len(cert.auditors)} auditors, era {cert.era}")
        return 0 if same and cert.auditors == sorted(AUDITORS) else 1
    finally:
        for engine in nodes:
            engine.close()


if __name__ == "__main__":
    raise SystemExit(main())
