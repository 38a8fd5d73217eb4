#!/usr/bin/env python3
"""Seed programs for tests/fuzz/fuzz_market_ops.c: the bytes each operation
reads, in the harness's order. Regenerate with
  python3 tests/fuzz/gen_market_ops_seeds.py tests/fuzz/corpus/market_ops"""
import os, random, sys

PUT, REMOVE, ADD, DROP, MATCH, END, TRUST, VERIFY, QUERY, REPORT, OWNER = 0, 2, 3, 5, 6, 8, 9, 10, 11, 12, 13

# node_fill's bytes: the node names world report `report` (0..3) by its digest
# and offers GPU UUID byte `uuid` (1..12), when given.
def node(nid, model=0, shared=False, gpus=4, free=None, price=5, report=None, uuid=None):
    b = [nid, model, 0x41, 50, 1, 50, 0 if shared else 1, gpus - 1]
    if free is None:
        b += [1]
    else:
        b += [0, free]
    b += [price]
    b += [1] if report is None else [0, 2 * report]
    return b + ([1] if uuid is None else [0, uuid - 1])

def put(p, nodes, region=0, stale=False):
    out = [PUT, p, 0 if stale else 1, region, 10, len(nodes) - 1]
    for n in nodes:
        out += n
    return out

def add(rid, gpus=1, share=0, gang=1, scope=0):
    v = {1: 0, 2: 1, 3: 3}[gang]
    b = [ADD, rid, v, gpus // gang - 1, scope]
    if share:
        b += [0, share // 10 - 1]
    else:
        b += [1]
    return b + [0, 7]          # hard = 0 (no constraint), submitted

def match(apply=True):
    return [MATCH, 3, 1 if apply else 0]

def end(rid):
    return [END, rid]

def remove(p):
    return [REMOVE, p]

def trust(p, tier, score):
    return [TRUST, p, tier, score]

# verify_report: provider p's node nid against world report j; how 3 = as is (5..7: the report the node names),
# 0 = incomplete, 1 = one GPU less, 2 = first UUID missing.
def verify_report(p, nid, j, how=3):
    return [REPORT, p, j, how, nid]

def owner(u):
    return [OWNER, u]

def unverify(p, nid):
    return [VERIFY, p, nid, 0]

SCENARIOS = {
    # A leased shared node comes back with fewer GPUs, then as dedicated.
    "reshape-shared-fewer": put(0, [node(0, shared=True, gpus=8)]) + sum((add(i, share=60) for i in range(8)), []) +
        match() + put(0, [node(0, shared=True, gpus=2)]) + sum((end(i) for i in range(8)), []),
    "reshape-shared-dedicated": put(0, [node(0, shared=True, gpus=4)]) + add(0, share=50) + add(1, share=70) +
        match() + put(0, [node(0, shared=False, gpus=4)]) + end(0) + end(1),
    "reshape-dedicated-shared": put(1, [node(3, gpus=8)]) + add(2, gpus=4) + match() +
        put(1, [node(3, shared=True, gpus=2)]) + end(2) + add(3, share=50) + match() + end(3),
    # Buckets empty and fill again: models change under the same node ids.
    "buckets-churn": sum((put(p, [node(i, model=(p + i) % 6) for i in range(4)]) for p in range(4)), []) +
        sum((put(p, [node(i, model=6, shared=i & 1) + [] for i in range(2)]) for p in range(4)), []) +
        remove(0) + remove(1) + put(2, [node(0, model=5)]) + match(),
    # Gangs and leases around withdrawals.
    "gang-withdraw": put(0, [node(i, gpus=4) for i in range(3)]) + put(1, [node(i, gpus=4) for i in range(3)], region=1) +
        add(4, gpus=8, gang=2, scope=1) + add(5, gpus=6, gang=3, scope=2) + add(6, gpus=2) + match() +
        remove(0) + end(4) + end(5) + put(0, [node(1, gpus=2)]) + add(4, gpus=2) + match() + end(4) + end(6),
    # Trust changes between matches; stale offers; requests removed.
    "trust-and-stale": put(2, [node(0, price=3), node(1, price=9)]) + trust(2, 5, 7) + add(7, gpus=1) + add(8, gpus=2) +
        [DROP, 8] + match(False) + put(2, [node(0)], stale=True) + trust(2, 8, 1) + match() + [QUERY] + [1] * 8 + end(7),
    # Reports bind GPUs: report 0 (UUIDs 1..4) verifies provider 0's node 0, which offers UUID 1; then
    # provider 1 cannot offer UUID 2 nor verify report 1 (UUIDs 3..6); damaged and foreign reports are
    # refused; unverifying frees the GPUs.
    "report-binds": put(0, [node(0, gpus=2, report=0, uuid=1), node(1, gpus=2, report=1)]) +
        put(1, [node(2, gpus=2, report=1)], region=1) + verify_report(0, 0, 0, how=0) +
        verify_report(0, 0, 0, how=1) + verify_report(0, 0, 1) + verify_report(0, 0, 0) + owner(1) + owner(4) +
        owner(0) + put(1, [node(2, gpus=2, report=1, uuid=2)], region=1) + verify_report(1, 2, 1) +
        verify_report(0, 1, 1) + owner(3) + unverify(0, 0) + owner(1) + owner(2) + verify_report(1, 2, 1) +
        owner(5) + verify_report(3, 0, 0) + verify_report(0, 7, 0) + add(1, gpus=2) + match() + end(1),
    # A provider's report moves between its own nodes; a re-offer that keeps the digest keeps the binding,
    # one that lists a UUID the report does not, is refused.
    "report-moves": put(2, [node(4, gpus=2, report=2), node(5, gpus=2, report=2)], region=2) +
        verify_report(2, 4, 2) + owner(7) + verify_report(2, 5, 2) + owner(7) + owner(8) +
        put(2, [node(4, gpus=2, report=2, uuid=7), node(5, gpus=2, report=2)], region=2) + owner(7) +
        put(2, [node(5, gpus=2, report=2, uuid=9)], region=2) + verify_report(2, 5, 2, how=2) +
        remove(2) + owner(7) + owner(8),
}

def main(out):
    os.makedirs(out, exist_ok=True)
    for name, prog in SCENARIOS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(b & 0xff for b in prog))
    for i in range(8):
        rnd = random.Random(1600 + i)
        with open(os.path.join(out, "random-%02d" % i), "wb") as f:
            f.write(bytes(rnd.randrange(256) for _ in range([256, 1024, 2048, 4096][i % 4])))

if __name__ == "__main__":
    main(sys.argv[1])
