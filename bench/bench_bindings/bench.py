#!/usr/bin/env python3
"""Bindings benchmark, Python side: the work of baseline.c through the
gpurent package (records as dataclasses, bytes in and out), against the C
baseline measured in the same run.

    python3 bench.py PATH/TO/bench_bindings_c     (make bench-bindings)

Prints `BENCH python_<name> <ns/op> ns/op baseline=c_<name>:<ns/op> ratio=<x>`.
Bulk calls of later modules (verify many envelopes, match a batch) belong
here too: add a workload to baseline.c and a function below.
"""
import subprocess
import sys
import time

import gpurent


def h100():
    return gpurent.GPU(model="H100 SXM5 80GB", cc_major=9, sm_count=132, memory_mib=81559,
                       interface=gpurent.Interface.SXM, fp32_gflops=66908, cuda_version=12040)


def timed(fn, n):
    fn()  # warm up
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter_ns() - t0) / n)
    return best


def main():
    c = {}
    for line in subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout.splitlines():
        _, name, ns = line.split()
        c[name] = float(ns)

    g = h100()
    o = gpurent.Offer(provider_key=bytes([7]) * 32, region="eu-west",
                      nodes=[gpurent.Node(node_id=f"node-{i}", gpu=g, gpu_count=8, gpu_free=8) for i in range(16)])
    big = b"\xdd\x00\x10\x00\x00" + bytes(1 << 20)
    # Bulk verification: the same 1000 envelopes as baseline.c, one call.
    key = gpurent.Key.from_seed(bytes([1]) * 32)
    trust = gpurent.TrustStore()
    trust.add(key.public_key, gpurent.Role.PROVIDER)
    gb = g.encode()
    envs = [key.sign(gb, 1700000000, 1700000000 + 86400, nonce=(i + 1).to_bytes(4, "little") + bytes(12))
            for i in range(1000)]

    def verify_many():
        sts = trust.verify_many(envs, 1700000100, threads=1, check_replay=False)
        if any(sts):
            raise RuntimeError(f"verify_many: {sts[:5]}")

    work = {
        "gpu_roundtrip": (lambda: gpurent.GPU.decode(g.encode()), 20000),
        "offer16_roundtrip": (lambda: gpurent.Offer.decode(o.encode()), 1000),
        "check_canonical_1MiB": (lambda: gpurent.check_canonical(big), 200),
        "verify_many_1000": (verify_many, 5),
    }
    for name, (fn, n) in work.items():
        ns = timed(fn, n)
        print(f"BENCH python_{name} {ns:.0f} ns/op baseline=c_{name}:{c[name]:.0f} ratio={ns / c[name]:.2f}")


if __name__ == "__main__":
    main()
