#!/usr/bin/env python3
"""A provider node from Python: probe the GPUs (the fake CUDA driver when
this machine has none), sign the GPU report and an offer built from it, and
let a verifier check both against its trust store.

Run from the source tree after `make python tests`:
    PYTHONPATH=bindings/python python3 examples/provider_node.py
($GPURENT_FAKE_CUDA names the fake driver; default build/tests/libfakecuda.so.)
"""
import os
import secrets
import tempfile
import time
from pathlib import Path

import gpurent

ROOT = Path(__file__).resolve().parent.parent
NODE_ID = "node-1"


def probe_this_machine(challenge: bytes) -> gpurent.GpuReport:
    # In a helper process: a driver that crashes or hangs costs the child,
    # and the report says so (docs/probe.md).
    report = gpurent.probe_isolated(challenge)
    if report.status == 0 and report.devices:
        return report
    fake = os.environ.get("GPURENT_FAKE_CUDA") or str(ROOT / "build" / "tests" / "libfakecuda.so")
    print(f"no usable GPU here ({gpurent.status_name(report.status)}: {report.reason}); "
          f"probing the fake driver {fake}")
    return gpurent.probe_isolated(challenge, driver_path=fake, checks=gpurent.CHECK_ALL, check_max_bytes=4 << 20)


def main() -> None:
    gpurent.init()
    now = int(time.time())

    # The provider's key lives in a passphrase-sealed file; Python never sees the secret.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "provider.key"
        with gpurent.Key.generate() as k:
            k.save(path, "provider passphrase", opslimit=1, memlimit=8 << 20)
        provider = gpurent.Key.load(path, "provider passphrase")
    print(f"provider key {provider.public_key.hex()}")

    # A verifier's challenge binds the report to this moment.
    challenge = secrets.token_bytes(32)
    report = probe_this_machine(challenge)
    for d in report.devices:
        print(f"  GPU {d.ordinal}: {d.name.value}, cc {d.cc_major.value}.{d.cc_minor.value}, "
              f"{d.sm_count.value} SMs, {d.memory_bytes.value >> 20} MiB, FP32 {d.fp32_gflops.value} GFLOPS, "
              f"FMA check {d.fma.value} GFLOPS ({gpurent.verdict_name(d.fma.verdict)})")
    signed_report = provider.sign(report.encode(), now, now + 3600, subject=NODE_ID.encode())
    report_digest = gpurent.envelope_digest(signed_report)

    offer = gpurent.Offer(provider_key=provider.public_key, seq=1, region="eu-west", nodes=[
        gpurent.Node(node_id=NODE_ID, gpu=report.to_gpu(0), gpu_count=len(report.devices),
                     gpu_free=len(report.devices), price_micro_per_gpu_hour=2_490_000, report_digest=report_digest)])
    signed_offer = provider.sign(offer.encode(), now, now + 3600, subject=NODE_ID.encode())
    print(f"signed GPU report ({len(signed_report)} bytes) and offer ({len(signed_offer)} bytes)")

    # The verifier trusts the provider's key for the provider role.
    with gpurent.TrustStore() as trust:
        trust.add(provider.public_key, gpurent.Role.PROVIDER)
        statuses = trust.verify_many([signed_report, signed_offer], now, skew_s=60, check_replay=False)
        assert statuses == [0, 0], statuses
        with trust.verify(signed_report, now, 60, statement=gpurent.RecordType.GPU_REPORT) as v:
            got = gpurent.GpuReport.decode(v.payload)
            assert got.nonce == challenge, "the report answers another challenge"
            assert v.digest == report_digest
        with trust.verify(signed_offer, now, 60, statement=gpurent.RecordType.OFFER) as v:
            got_offer = gpurent.Offer.decode(v.payload)
        assert got_offer.nodes[0].report_digest == report_digest
        print(f"verifier: report and offer verified; {got_offer.nodes[0].gpu_count} x {got_offer.nodes[0].gpu.model} "
              f"in {got_offer.region}, backed by report {report_digest.hex()[:16]}...")
        try:
            trust.verify(signed_offer, now, 60)
        except gpurent.ReplayedError as e:
            print(f"verifier: the same offer again is refused: {e.name}")
    provider.close()


if __name__ == "__main__":
    main()
