#!/usr/bin/env python3
"""A market front end in Python: providers' offers build a market, the best
candidates for one request are listed, a batch of requests is matched, the
receipt's digest is printed (the bytes operators compare and sign), a
request that could not be placed is explained, and a lease ends.

Run from the source tree after `make python`:
    PYTHONPATH=bindings/python python3 examples/market_frontend.py
Exits 0 when every step gives the expected answer.
"""
import gpurent

LISTINGS = [  # region, model, cc, vram MiB, FP32 GFLOPS, interface, nodes, GPUs, free, price/GPU-h, tier
    ("eu-west", "H100 SXM5 80GB", 90, 81559, 66900, gpurent.Interface.SXM, 2, 8, 8, 2_490_000, 2),
    ("eu-west", "A100 SXM4 80GB", 80, 81920, 19500, gpurent.Interface.SXM, 3, 8, 6, 1_390_000, 3),
    ("us-east", "H100 SXM5 80GB", 90, 81559, 66900, gpurent.Interface.SXM, 1, 8, 8, 2_190_000, 5),
    ("us-east", "RTX 4090", 89, 24564, 82600, gpurent.Interface.PCIE, 4, 2, 2, 440_000, 4),
]
NOW = 1_760_000_000


def provider_key(i: int) -> bytes:
    # A real front end takes these from signed offers.
    return bytes((i * 37 + b * 11 + 1) & 0xFF for b in range(32))


def offer(i: int, row) -> gpurent.Offer:
    region, model, cc, vram, gflops, iface, nodes, gpus, free, price, _ = row
    gpu = gpurent.GPU(model=model, cc_major=cc // 10, cc_minor=cc % 10, memory_mib=vram, fp32_gflops=gflops,
                      interface=iface, cuda_version=12040)
    return gpurent.Offer(provider_key=provider_key(i), seq=1, region=region, stake_micro=250_000_000_000 * (i + 1),
                         nodes=[gpurent.Node(node_id=f"node-{n}", gpu=gpu, gpu_count=gpus, gpu_free=free,
                                             cpu_millicores=64000, ram_mib=512 * 1024, disk_gib=4000,
                                             price_micro_per_gpu_hour=price) for n in range(nodes)])


def request(rid: str, gpus: int, model: str = "", max_price: int = 0, **kw) -> gpurent.Request:
    return gpurent.Request(request_id=rid, gpu_count=gpus, models=[model] if model else [],
                           max_price_micro_per_gpu_hour=max_price, submitted_at=NOW, **kw)


def main() -> int:
    gpurent.init()
    seed = b"block 19000000 hash (example)".ljust(32, b"\0")  # operators share this
    with gpurent.Market(gpurent.MatchOptions(), seed) as market:
        for i, row in enumerate(LISTINGS):
            market.put_offer(offer(i, row))
            market.set_trust(provider_key(i), row[-1], 900_000 - 100_000 * row[-1])

        q = request("train-llm", 8, max_price=2_600_000, min_vram_mib=80_000, min_cuda_version=12040)
        print(f"best candidates for {q.request_id}:")
        for n, c in enumerate(market.best(q, k=3), 1):
            print(f"  {n}. {c.model} in {c.region}, node {c.node_id}, "
                  f"{c.price_micro_per_gpu_hour / 1e6:.2f} per GPU-hour, score {c.breakdown.total}")

        for r in (q, request("finetune", 4, "A100 SXM4 80GB", 1_500_000),
                  request("render", 2, "RTX 4090", 500_000),
                  request("pretrain-gang", 16, "A100 SXM4 80GB", 1_500_000, gang_nodes=4,
                          gang_scope=gpurent.GangScope.PROVIDER),
                  request("cheap-h100", 8, "H100 SXM5 80GB", 1_900_000)):
            market.add_request(r)
        receipt = market.match(NOW + 600)
        print(f"batch: {len(receipt)} of {receipt.request_count} requests matched, total value {receipt.total_value}")
        for a in receipt.assignments:
            print(f"  {a.request_id}: " + ", ".join(
                f"{p.gpus} GPUs on {p.node_id} at {p.price_micro_per_gpu_hour / 1e6:.2f}" for p in a.placements))
        data = receipt.encode()
        print(f"receipt: {len(data)} bytes, digest {receipt.digest().hex()}")
        assert gpurent.Receipt.decode(data).digest() == receipt.digest()
        market.apply(receipt)

        ex = market.explain(request("cheap-h100", 8, "H100 SXM5 80GB", 1_900_000))
        print("why not cheap-h100?")
        print(ex.text, end="")
        for r in ex.relaxations:
            print(f"  -> relax {gpurent.constraint_name(r.constraint)}: {r.from_value} -> {r.to_value} "
                  f"(+{r.change_pct}%), {r.nodes_added} node(s)")

        market.end_lease("finetune")
        st = market.stats()
        print(f"after the lease ended: {st.gpus_free} of {st.gpus_total} GPUs free, {st.leases} leases, "
              f"{st.requests} pending")
        return 1 if ex.matched else 0  # the explained request must have been a miss


if __name__ == "__main__":
    raise SystemExit(main())
