#!/usr/bin/env python3
"""A provider and an auditor in Python (the C version is
examples/attest_provider_auditor.c).

The provider keeps its key in a passphrase-sealed key file and signs its
offer; the auditor verifies it against a trust store, decodes the verified
offer (a replay of it is refused) and signs an audit statement: an audit
report record about that provider (its checks passed), signed as an
AUDIT_REPORT statement whose subject is the offer statement's digest. The
provider's side verifies and decodes that in turn; a flipped bit is caught.

Run from the source tree after `make python`:
    PYTHONPATH=bindings/python python3 examples/attest_provider_auditor.py
Exits 0 when every step gives the expected answer.
"""
import tempfile
from pathlib import Path

import gpurent

SKEW = 60


def provider_offer(key: gpurent.Key) -> bytes:
    """The provider's signed offer: one node of eight H100s in eu-west."""
    offer = gpurent.Offer(provider_key=key.public_key, seq=1, region="eu-west", nodes=[
        gpurent.Node(node_id="node-1", gpu=gpurent.GPU(model="H100 SXM5 80GB", cc_major=9, memory_mib=81559),
                     gpu_count=8, gpu_free=8, price_micro_per_gpu_hour=2_490_000)])
    issued_at = 1700000000
    # No nonce given: the library picks a random one.
    return key.sign(offer.encode(), issued_at, issued_at + 3600, subject=b"node-1")


def main() -> int:
    gpurent.init()
    with gpurent.Key.generate() as provider, gpurent.Key.generate() as auditor, gpurent.TrustStore() as trust:
        provider_pk, auditor_pk = provider.public_key, auditor.public_key

        # The provider keeps its key in a passphrase-sealed file.
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "provider.key"
            provider.save(path, "provider passphrase", memlimit=8 << 20)  # a small memlimit keeps the example quick
            reloaded = gpurent.Key.load(path, "provider passphrase", provider_pk)
        with reloaded:
            offer_env = provider_offer(reloaded)
        print(f"provider: signed offer envelope, {len(offer_env)} bytes")

        # The auditor trusts the provider as a provider and itself as auditor.
        trust.add(provider_pk, gpurent.Role.PROVIDER)
        trust.add(auditor_pk, gpurent.Role.AUDITOR)
        with trust.verify(offer_env, 1700000100, SKEW, statement=gpurent.RecordType.OFFER) as v:
            offer = gpurent.Offer.decode(v.payload)
            digest = v.digest
        node = offer.nodes[0]
        print(f"auditor: offer verified: region {offer.region}, {len(offer.nodes)} node(s), "
              f"{node.gpu.model} x{node.gpu_count}")

        # Replaying the same envelope is refused.
        try:
            trust.verify(offer_env, 1700000100, SKEW, statement=gpurent.RecordType.OFFER).close()
            again = "GPURENT_OK"
        except gpurent.ReplayedError as e:
            again = e.name
        print(f"auditor: second delivery of the same offer: {again}")
        if again != "GPURENT_E_REPLAYED":
            return 1

        # The audit statement: the auditor's report about this provider (the
        # GPU report, integrity and security checks passed), its subject the
        # digest of the offer statement it audited.
        report = gpurent.AuditReport(provider_key=provider_pk, auditor_key=auditor_pk, time_s=1700000200,
                                     gpu_report=gpurent.CheckResult.PASSED, integrity=gpurent.CheckResult.PASSED,
                                     security=gpurent.CheckResult.PASSED)
        audit_env = auditor.sign(report.encode(), 1700000200, 1700000200 + 86400,
                                 statement=gpurent.RecordType.AUDIT_REPORT, subject=digest)

        # The provider's side: an audit report by a trusted auditor, about
        # this provider and this very offer.
        with trust.verify(audit_env, 1700000300, SKEW, statement=gpurent.RecordType.AUDIT_REPORT) as v:
            got = v.header
            got_report = gpurent.AuditReport.decode(v.payload)
        print(f"provider: audit statement verified, about offer digest {got.subject[:4].hex()}...")
        if got.subject != digest or got_report != report:
            return 1

        # A flipped bit anywhere is caught.
        tampered = bytearray(audit_env)
        tampered[len(tampered) // 2] ^= 0x04
        try:
            trust.verify(bytes(tampered), 1700000300, SKEW, statement=gpurent.RecordType.AUDIT_REPORT).close()
            bad = "GPURENT_OK"
        except (gpurent.AttestError, gpurent.WireError) as e:
            bad = e.name
        print(f"tampered audit statement: {bad}")
        return 1 if bad == "GPURENT_OK" else 0


if __name__ == "__main__":
    raise SystemExit(main())
