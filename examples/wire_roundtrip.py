#!/usr/bin/env python3
"""A provider describes a node, encodes its offer to canonical bytes, and a
matchmaker decodes it and a request: the wire module from Python.

Run from the source tree after `make python`:
    PYTHONPATH=bindings/python python3 examples/wire_roundtrip.py
"""
import gpurent


def main() -> None:
    gpurent.init()
    print(f"libgpurent {gpurent.version_string()}")

    h100 = gpurent.GPU(model="H100 SXM5 80GB", cc_major=9, sm_count=132, memory_mib=81559,
                       interface=gpurent.Interface.SXM, fp32_gflops=66908, cuda_version=12040)
    offer = gpurent.Offer(provider_key=bytes(range(32)), seq=1, region="eu-west",
                          nodes=[gpurent.Node(node_id="node-1", gpu=h100, gpu_count=8, gpu_free=8,
                                              price_micro_per_gpu_hour=2_100_000)])
    wire = offer.encode()
    print(f"offer: {len(wire)} bytes, type {gpurent.record_type_name(gpurent.record_type(wire))}")

    back = gpurent.Offer.decode(wire)
    assert back == offer
    node = back.nodes[0]
    print(f"decoded: {node.gpu_count} x {node.gpu.model} in {back.region}")

    request = gpurent.Request(request_id="job-42", gpu_count=8, models=["H100 SXM5 80GB"],
                              regions=["eu-west", "eu-north"], duration_s=7200)
    print(f"request: {len(request.encode())} bytes, regions {gpurent.Request.decode(request.encode()).regions}")

    try:
        gpurent.Offer.decode(wire[:-1])
    except gpurent.WireError as e:  # a subclass per status: here TruncatedError
        print(f"truncated offer refused: {type(e).__name__}: {e.detail}")


if __name__ == "__main__":
    main()
