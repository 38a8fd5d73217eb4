#!/usr/bin/env python3
"""An auditor that stops and resumes from its snapshot plus the tail of its
log, in Python (the C version is examples/snapshot_resume.c; the pattern is
in docs/snapshots.md, "Resume from a log").

Three auditor nodes read the same ordered log: each era, the three auditors'
signed reports, then an "evaluate" entry. Node C saves its trust store and
tier engine with the sequence number of the last entry applied, keeps going,
then crashes (what it did after the snapshot is lost). It restarts from the
snapshot files, replays the log after the saved sequence, and co-signs the
certificate auditor A signed: its own certificate is byte for byte A's.

Run from the source tree after `make python`:
    PYTHONPATH=bindings/python python3 examples/snapshot_resume.py
Exits 0 when every step gives the expected answer.
"""
import os
import tempfile

import gpurent

DAY = 86400
FIRST_ERA, ERAS = 20000, 10
SKEW = 300
PROVIDER = bytes([0x42]) * 32
PER_ERA = 4  # log entries per era: three reports, then "evaluate"


def signed_report(key: gpurent.Key, j: int, era: int) -> bytes:
    base = era * DAY
    r = gpurent.AuditReport(provider_key=PROVIDER, auditor_key=key.public_key, time_s=base + 86000 + j,
                            gpu_report=gpurent.CheckResult.PASSED, integrity=gpurent.CheckResult.PASSED,
                            security=gpurent.CheckResult.PASSED, stake_observed=1, stake_micro=500_000_000)
    r.challenges = [gpurent.Challenge(base + h * 3600 + j, gpurent.ChallengeKind.GPU, int(not (h == 13 and j == 1)))
                    for h in range(24)]
    return key.sign(r.encode(), r.time_s, r.time_s + 7 * DAY, subject=PROVIDER)


class Node:
    def __init__(self, key, public_keys):
        self.key = key
        self.engine = gpurent.TierEngine(gpurent.TierOptions(first_era=FIRST_ERA))
        self.trust = gpurent.TrustStore()
        for pk in public_keys:
            self.trust.add(pk, gpurent.Role.AUDITOR)

    def apply(self, entry):
        _, era, envelope = entry
        if envelope is None:
            self.engine.evaluate(era)
        else:
            self.engine.record_signed(self.trust, envelope, era * DAY + 86300, SKEW)

    def save(self, folder, seq):  # trust store first, both at the same sequence
        self.trust.save_file(os.path.join(folder, "trust.snap"), seq)
        self.engine.save_file(os.path.join(folder, "tier.snap"), seq)

    def restore(self, folder):
        self.trust, s1 = gpurent.TrustStore.load_file(os.path.join(folder, "trust.snap"))
        self.engine, s2 = gpurent.TierEngine.load_file(os.path.join(folder, "tier.snap"),
                                                       gpurent.TierOptions(first_era=FIRST_ERA))
        assert s1 == s2
        return s2

    def close(self):
        for h in (self.key, self.engine, self.trust):
            h.close()


def main() -> int:
    keys = [gpurent.Key.from_seed(bytes([0xA0 + j]) * 32) for j in range(3)]  # fixed seeds: example only
    public_keys = [k.public_key for k in keys]
    nodes = [Node(k, public_keys) for k in keys]
    log = []
    for era in range(FIRST_ERA, FIRST_ERA + ERAS):
        for j, k in enumerate(keys):
            log.append((len(log) + 1, era, signed_report(k, j, era)))
        log.append((len(log) + 1, era, None))
    snap_at, crash_at = 4 * PER_ERA + 2, 6 * PER_ERA + 1
    try:
        with tempfile.TemporaryDirectory() as folder:
            for entry in log:
                for n in nodes:
                    n.apply(entry)
                seq = entry[0]
                if seq == snap_at:
                    nodes[2].save(folder, seq)
                if seq == crash_at:  # C crashes: everything since the snapshot is lost
                    nodes[2].engine.close()
                    nodes[2].trust.close()
                    resumed = nodes[2].restore(folder)
                    for e in log[resumed:seq]:
                        nodes[2].apply(e)
                    print(f"C restarted from its snapshot at entry {resumed} and replayed entries "
                          f"{resumed + 1}..{seq}")
        now = (FIRST_ERA + ERAS) * DAY + 600
        one = nodes[0].engine.sign_certificate(nodes[0].key, PROVIDER, now, now + DAY)
        two = nodes[1].engine.cosign_certificate(nodes[1].key, nodes[1].trust, one, now, SKEW)
        three = nodes[2].engine.cosign_certificate(nodes[2].key, nodes[2].trust, two, now, SKEW)
        cert = gpurent.verify_tier_certificate(nodes[0].trust, three, now + 60, SKEW, quorum=3)
        print(f"certificate of era {cert.era}, tier {cert.tier}: signed by 3 of 3 auditors, "
              f"the restarted one included")
        return 0
    finally:
        for n in nodes:
            n.close()


if __name__ == "__main__":
    raise SystemExit(main())
