"""Benchmark of the decision step against a naive baseline that recomputes the list from its nodes.

Run by hand: ``uv run python -m bench.engine`` (add ``--quick`` for a smoke run).

Setup per (rows n, accepted groups K): labels, a base model wrong on 30% of rows, and K accepted
patch nodes on small groups (n/1000 rows each) in the first half of the rows. Then pairs are
decided on rows of the second half, which no accepted group touches ("disjoint"), and on rows of
the first half ("overlapping"). Timed: ``BountyEvaluator.decide`` alone (g and h already run).
Naive: rebuild the head from f0 and every node's stored mask and predictions, score the pair,
and after an acceptance recompute every accepted group's loss to look for repairs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.engine.decision import BountyEvaluator, PairOutput
from app.engine.losses import Loss

Mask = npt.NDArray[np.bool_]
Codes = npt.NDArray[np.int64]


@dataclass
class Setup:
    y: Codes
    base: Codes
    evaluator: BountyEvaluator
    nodes: list[tuple[Mask, Codes]]  # what the naive baseline replays
    best: list[float]


def build(n: int, k: int, seed: int = 0) -> Setup:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    base = np.where(rng.random(n) < 0.3, 1 - y, y)
    ev = BountyEvaluator(Loss(), alpha=0.0, min_group_rows=1).fit({"holdout": y}, {"holdout": base})
    size = max(1, n // 1000)
    nodes, best = [], []
    half = n // 2
    for i in range(k):
        rows = np.sort(rng.choice(half, size=size, replace=False))
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        q = y[mask].copy()
        ev.decide(f"g{i}", {"holdout": PairOutput(mask, q)})
        nodes.append((mask, q))
        best.append(0.0)
    return Setup(y, base, ev, nodes, best)


def new_pair(setup: Setup, rng: np.random.Generator, overlapping: bool) -> tuple[Mask, Codes]:
    n = len(setup.y)
    half = n // 2
    lo, hi = (0, half) if overlapping else (half, n)
    rows = rng.choice(np.arange(lo, hi), size=max(1, n // 100), replace=False)
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return mask, setup.y[mask].copy()


def naive_decide(setup: Setup, mask: Mask, q: Codes, loss: Loss) -> bool:
    head = setup.base.copy()
    for node_mask, node_q in setup.nodes:
        head[node_mask] = node_q
    row_loss = loss(head, setup.y)
    score = (row_loss[mask].sum() - loss(q, setup.y[mask]).sum()) / len(setup.y)
    if score <= 0:
        return False
    head[mask] = q
    row_loss = loss(head, setup.y)
    violations = [
        j
        for j, (node_mask, _) in enumerate(setup.nodes)
        if row_loss[node_mask].sum() - setup.best[j] > 0
    ]
    return not violations


def time_fast(setup: Setup, pairs: list[tuple[Mask, Codes]], tag: str) -> float:
    """Median time of deciding each pair in turn (each one changes the state, as in a round)."""
    times = []
    for i, (mask, q) in enumerate(pairs):
        outputs = {"holdout": PairOutput(mask, q)}
        start = time.perf_counter()
        setup.evaluator.decide(f"{tag}{i}", outputs)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def time_naive(setup: Setup, pair: tuple[Mask, Codes], repeats: int) -> float:
    """Median time of the naive baseline deciding ``pair`` from the nodes."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        naive_decide(setup, *pair, Loss())
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run(n: int, k: int, repeats: int) -> list[dict[str, object]]:
    """Fast and naive timings for disjoint and overlapping pairs at ``n`` rows, ``k`` groups."""
    setup = build(n, k)
    rng = np.random.default_rng(1)
    rows = []
    for overlapping in (False, True):
        pairs = [new_pair(setup, rng, overlapping) for _ in range(repeats)]
        fast_ms = time_fast(setup, pairs, f"new-{overlapping}-")
        naive_ms = time_naive(setup, pairs[0], 3 if n * k >= 10**8 else repeats)
        rows.append(
            {
                "rows": n,
                "groups": k,
                "pair": "overlapping" if overlapping else "disjoint",
                "fast_ms": fast_ms,
                "naive_ms": naive_ms,
                "speedup": naive_ms / fast_ms,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    sizes = [10**4, 10**5] if args.quick else [10**4, 10**5, 10**6]
    groups = [1, 100] if args.quick else [1, 100, 1000]
    repeats = 3 if args.quick else args.repeats
    print(f"{'rows':>9} {'groups':>6} {'pair':>11} {'fast ms':>9} {'naive ms':>10} {'speedup':>8}")
    for n in sizes:
        for k in groups:
            for row in run(n, k, repeats):
                print(
                    f"{row['rows']:>9} {row['groups']:>6} {row['pair']:>11} "
                    f"{row['fast_ms']:>9.2f} {row['naive_ms']:>10.2f} {row['speedup']:>7.1f}x"
                )


if __name__ == "__main__":
    main()
