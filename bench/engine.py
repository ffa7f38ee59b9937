"""Benchmark of the decision step against a naive baseline that recomputes the list from its nodes.

Run by hand: ``uv run python -m bench.engine`` (add ``--quick`` for a smoke run).

Setup per (rows n, accepted groups K): labels, a base model wrong on 30% of rows, and K accepted
patch nodes on small groups (n/1000 rows each) in the first half of the rows. Then pairs of n/100
rows that fix the base model's errors are decided: "disjoint" pairs lie in the second half, which
no accepted group touches; "overlapping" pairs also cover 10 accepted groups whole and get one row
of each wrong, so each of those groups is repaired with a pointer node (10 repairs per decision).
Timed: ``BountyEvaluator.decide`` alone (g and h already run). Naive: rebuild the head from f0 and
every node's stored mask and predictions, score the pair, and after an acceptance recompute every
accepted group's loss, prepending a pointer to its best and starting over while any group is
worse than its best.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bounty_engine.decision import BountyEvaluator, Decision, PairOutput
from bounty_engine.losses import Loss

Mask = npt.NDArray[np.bool_]
Codes = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


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
    size = max(2, n // 1000)
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
    """A pair that fixes base errors on fresh rows, and damages 10 accepted groups if asked."""
    n = len(setup.y)
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(np.arange(n // 2, n), size=max(1, n // 100), replace=False)] = True
    q_full = setup.y.copy()
    if overlapping:
        for j in rng.choice(len(setup.nodes), size=min(10, len(setup.nodes)), replace=False):
            rows = np.flatnonzero(setup.nodes[j][0])
            mask[rows] = True
            q_full[rows[0]] = 1 - q_full[rows[0]]
    return mask, q_full[mask]


def naive_decide(setup: Setup, mask: Mask, q: Codes, loss: Loss) -> int:
    """Decide a pair by rebuilding the model from its nodes at every step; returns repairs."""
    nodes = list(setup.nodes)

    def head_loss() -> npt.NDArray[np.float64]:
        head = setup.base.copy()
        for node_mask, node_q in nodes:
            head[node_mask] = node_q
        return loss(head, setup.y)

    row_loss = head_loss()
    if row_loss[mask].sum() - loss(q, setup.y[mask]).sum() <= 0:
        return 0
    nodes.append((mask, q))
    repairs = 0
    while True:
        row_loss = head_loss()
        for j, (group_mask, best_q) in enumerate(setup.nodes):
            if row_loss[group_mask].sum() > setup.best[j]:
                nodes.append((group_mask, best_q))  # the groups' best is their own patch
                repairs += 1
                break
        else:
            return repairs


def large_pair(setup: Setup, rng: np.random.Generator) -> tuple[Mask, Codes]:
    """A random 10% of the rows, patched by an h whose errors fall independently of the head's
    (like an overfit tree): right on each row with the head's accuracy on the group plus 1%."""
    n = len(setup.y)
    mask = rng.random(n) < 0.1
    truth = setup.y[mask]
    right = float(np.mean(setup.evaluator.head_predictions()[mask] == truth)) + 0.01
    return mask, np.where(rng.random(len(truth)) < right, truth, 1 - truth)


def build_large(n: int, k: int, seed: int = 0) -> Setup:
    """A round with ``k`` accepted large overlapping groups (see the module docstring)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    base = np.where(rng.random(n) < 0.3, 1 - y, y)
    ev = BountyEvaluator(Loss(), alpha=0.0, min_group_rows=1).fit({"holdout": y}, {"holdout": base})
    setup = Setup(y, base, ev, [], [])
    tried = 0
    while len(ev.accepted_) < k:
        mask, q = large_pair(setup, rng)
        ev.decide(f"g{tried}", {"holdout": PairOutput(mask, q)})
        tried += 1
    return setup


class FullRecompute(BountyEvaluator):
    """The baseline for large overlapping groups: the same rule, but after each change every
    group whose rows moved has its loss summed again over all its rows, O(groups x group size)
    per repair, as the engine did before it kept group losses incrementally."""

    def _group_deltas(
        self,
        positions: npt.NDArray[np.int64],
        places: npt.NDArray[np.intp],
        old_loss: Floats,
        new_loss: Floats,
        step: Floats,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.generic]]:
        groups = self.accepted_
        moved, deltas = [], []
        for pos in np.unique(positions).tolist():
            ticks = self._ticks(self._decision.row_loss[groups.rows[pos][self.decision_split]])
            if ticks != groups.current[pos]:
                moved.append(pos)
                deltas.append(ticks - groups.current[pos])
        return np.array(moved, dtype=np.int64), np.array(deltas, dtype=groups.current.dtype)


def time_large(
    evaluator: BountyEvaluator, pairs: list[tuple[Mask, Codes]]
) -> list[tuple[Decision, float]]:
    """Decide ``pairs`` in turn; each decision with its time in seconds."""
    decisions = []
    for i, (mask, q) in enumerate(pairs):
        start = time.perf_counter()
        decision = evaluator.decide(f"large{i}", {"holdout": PairOutput(mask, q)})
        decisions.append((decision, time.perf_counter() - start))
    return decisions


def run_large(n: int, k: int, repeats: int) -> dict[str, Any]:
    """Decisions of large overlapping pairs against ``k`` accepted large overlapping groups, by
    the engine and by the full-recompute baseline from the same state (same verdicts)."""
    setup = build_large(n, k)
    baseline = copy.deepcopy(setup.evaluator)
    baseline.__class__ = FullRecompute
    rng = np.random.default_rng(2)
    pairs = [large_pair(setup, rng) for _ in range(repeats)]
    fast = time_large(setup.evaluator, pairs)
    slow = time_large(baseline, pairs)
    if [d.repairs for d, _ in fast] != [d.repairs for d, _ in slow]:
        raise AssertionError("the engine and the baseline disagree")
    times = [t * 1000 for _, t in fast]
    slow_times = [t * 1000 for _, t in slow]
    repairs = [len(d.repairs) for d, _ in fast]
    return {
        "rows": n,
        "groups": k,
        "median_ms": statistics.median(times),
        "worst_ms": max(times),
        "median_repairs": statistics.median(repairs),
        "worst_repairs": max(repairs),
        "baseline_median_ms": statistics.median(slow_times),
        "baseline_worst_ms": max(slow_times),
    }


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


def run(n: int, k: int, repeats: int) -> list[dict[str, Any]]:
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
    parser.add_argument(
        "--large-only", action="store_true", help="only the large overlapping groups case"
    )
    args = parser.parse_args()
    sizes = [10**4, 10**5] if args.quick else [10**4, 10**5, 10**6]
    groups = [1, 100] if args.quick else [1, 100, 1000]
    repeats = 3 if args.quick else args.repeats
    if not args.large_only:
        print(
            f"{'rows':>9} {'groups':>6} {'pair':>11} {'fast ms':>9} {'naive ms':>10} {'speedup':>8}"
        )
        for n in sizes:
            for k in groups:
                for row in run(n, k, repeats):
                    print(
                        f"{row['rows']:>9} {row['groups']:>6} {row['pair']:>11} "
                        f"{row['fast_ms']:>9.2f} {row['naive_ms']:>10.2f} "
                        f"{row['speedup']:>7.1f}x"
                    )
    print("\nLarge overlapping groups (10% of the rows each), decisions with their repairs:")
    print(
        f"{'rows':>9} {'groups':>6} {'repairs p50/max':>15} {'p50 ms':>8} {'worst ms':>9} "
        f"{'baseline p50':>12} {'baseline worst':>14} {'speedup':>8}"
    )
    for n in [10**5] if args.quick else [10**5, 10**6]:
        large = run_large(n, 100, repeats)
        print(
            f"{large['rows']:>9} {large['groups']:>6} "
            f"{large['median_repairs']:>7g}/{large['worst_repairs']:<7} "
            f"{large['median_ms']:>8.1f} {large['worst_ms']:>9.1f} "
            f"{large['baseline_median_ms']:>12.1f} {large['baseline_worst_ms']:>14.1f} "
            f"{large['baseline_worst_ms'] / large['worst_ms']:>7.1f}x"
        )


if __name__ == "__main__":
    main()
