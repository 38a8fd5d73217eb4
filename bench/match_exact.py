#!/usr/bin/env python3
"""Exact optimum of a batch-matching instance written by bench_match.

The instance is the same problem the library's batch solves greedily:
maximise the total value of assigned requests, each request placed at most
once, a gang all-or-nothing (gang_nodes distinct nodes x need GPUs inside one
group: a provider or a region), node capacities respected. With multi-GPU
and gang requests this is a 0/1 program, not a flow, so it goes to SciPy's
milp (HiGHS). Used by the benchmark only; never linked into the library.

The LP relaxation (the same program with 0 <= x <= 1) is solved first with
SciPy's linprog (HiGHS): its value is an upper bound on the optimum, so a
ratio against it understates the true ratio (a conservative figure). It
takes seconds at 2000 x 2000, where the 0/1 program does not finish within
minutes. With a positive time limit the 0/1 program is then tried too.

Input (whitespace separated):
  nodes N  free_0 .. free_{N-1}
  requests R  then per request:  G need K  then K triples: node group value
Output: a line "lp <upper bound> status <code> seconds <t>", then, when the
time limit is positive, "optimum <value> bound <dual bound> status <code>
seconds <t>" (status 0: proven optimum; 1: time limit, the bound is HiGHS's
dual bound).

Usage: match_exact.py INSTANCE [MILP_TIME_LIMIT_S [OBJECTIVE]]   (0 = LP bound only)

OBJECTIVE is what is maximised: "value" (the default: the policy's value,
as above), "requests" (the number of requests placed: 1 per request, a gang
counting once) or "gpus" (the GPUs placed: need per node taken). The
constraints are the same for all three.
"""
import sys
import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_matrix


def read(path):
    with open(path) as f:
        tok = f.read().split()
    pos = 0

    def nxt():
        nonlocal pos
        pos += 1
        return tok[pos - 1]

    assert nxt() == "nodes"
    n = int(nxt())
    free = [int(nxt()) for _ in range(n)]
    assert nxt() == "requests"
    r = int(nxt())
    reqs = []
    for _ in range(r):
        g, need, k = int(nxt()), int(nxt()), int(nxt())
        cands = [(int(nxt()), int(nxt()), int(nxt())) for _ in range(k)]
        reqs.append((g, need, cands))
    return free, reqs


def build(free, reqs, objective="value"):
    n = len(free)
    obj, rows, cols, vals = [], [], [], []
    lo, hi = [], []
    row = n  # rows 0..n-1: node capacities
    var = 0
    for g, need, cands in reqs:
        if not cands:
            continue
        first = var
        for node, _group, value in cands:
            if objective == "requests":
                value = 1 if g == 1 else 0  # a gang counts once, on its group indicator
            elif objective == "gpus":
                value = need
            obj.append(-float(value))
            rows.append(node)
            cols.append(var)
            vals.append(float(need))
            var += 1
        if g == 1:
            for j in range(len(cands)):  # at most one placement
                rows.append(row)
                cols.append(first + j)
                vals.append(1.0)
            lo.append(-np.inf)
            hi.append(1.0)
            row += 1
            continue
        groups = sorted({grp for _n, grp, _v in cands})
        zvar = {}
        for grp in groups:  # one indicator per group the gang may use
            zvar[grp] = var
            obj.append(-1.0 if objective == "requests" else 0.0)
            var += 1
        for grp in groups:  # sum of x in the group = G * z
            for j, (_n, cg, _v) in enumerate(cands):
                if cg == grp:
                    rows.append(row)
                    cols.append(first + j)
                    vals.append(1.0)
            rows.append(row)
            cols.append(zvar[grp])
            vals.append(-float(g))
            lo.append(0.0)
            hi.append(0.0)
            row += 1
        for grp in groups:  # at most one group
            rows.append(row)
            cols.append(zvar[grp])
            vals.append(1.0)
        lo.append(-np.inf)
        hi.append(1.0)
        row += 1
    lo = [-np.inf] * n + lo
    hi = [float(f) for f in free] + hi
    a = csr_matrix((vals, (rows, cols)), shape=(row, var))
    return np.array(obj), a, np.array(lo), np.array(hi), var


def solve_lp(obj, a, lo, hi):
    """Upper bound: the LP relaxation. Rows with lo == hi are equalities."""
    t0 = time.time()
    eq = np.isfinite(lo) & (lo == hi)
    ub = ~eq
    res = linprog(obj, A_ub=a[ub], b_ub=hi[ub], A_eq=a[eq] if eq.any() else None,
                  b_eq=hi[eq] if eq.any() else None, bounds=(0, 1), method="highs")
    dt = time.time() - t0
    return (-res.fun if res.status == 0 else 0.0), res.status, dt


def solve(free, reqs, time_limit, objective="value"):
    obj, a, lo, hi, var = build(free, reqs, objective)
    t0 = time.time()
    res = milp(
        c=obj,
        constraints=LinearConstraint(a, lo, hi),
        integrality=np.ones(var),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit, "mip_rel_gap": 1e-6},
    )
    dt = time.time() - t0
    best = -res.fun if res.x is not None else 0.0
    bound = -getattr(res, "mip_dual_bound", -best) if getattr(res, "mip_dual_bound", None) is not None else best
    return best, bound, res.status, dt, var


def main():
    path = sys.argv[1]
    limit = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    objective = sys.argv[3] if len(sys.argv) > 3 else "value"
    if objective not in ("value", "requests", "gpus"):
        sys.exit(f"match_exact.py: unknown objective {objective!r} (value, requests or gpus)")
    free, reqs = read(path)
    obj, a, lo, hi, _var = build(free, reqs, objective)
    ub, st, dt = solve_lp(obj, a, lo, hi)
    print(f"lp {ub:.0f} status {st} seconds {dt:.2f}", flush=True)
    if limit <= 0:
        return
    best, bound, status, dt, nvar = solve(free, reqs, limit, objective)
    print(f"optimum {best:.0f} bound {bound:.0f} status {status} seconds {dt:.2f} vars {nvar}", flush=True)


if __name__ == "__main__":
    main()
