"""A brute-force reference of the decision step: every quantity recomputed from the nodes.

Deliberately naive and independent of bounty_engine.decision (it shares only the per-row loss):
versions are rebuilt from f0 and the nodes every time, and sums are exact rational arithmetic
(``fractions.Fraction``). It is the specification the fast engine is checked against. With the
significance rule it also shares the paired test itself (``paired_test``), whose own
correctness is checked against scipy in test_significance.py: what is checked here is which
rows it is given and at which place in the round.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from bounty_engine.losses import Loss
from bounty_engine.significance import AcceptanceTest, Spending, paired_test


def exact(values: np.ndarray) -> Fraction:
    """The exact sum of float values: each is ``numerator / 2**k``, so the largest denominator
    is a multiple of every other, and the sum is one integer sum over it (adding ``Fraction``s
    one by one gives the same value, ten times slower)."""
    ratios = [float(v).as_integer_ratio() for v in values]
    common = max((denominator for _, denominator in ratios), default=1)
    return Fraction(sum(n * (common // d) for n, d in ratios), common)


@dataclass
class RefNode:
    kind: str  # "patch" | "pointer"
    key: str
    masks: dict[str, np.ndarray]
    preds: dict[str, np.ndarray] | None  # patch: h's predictions on the mask rows
    target: int | None  # pointer: the version it points to


@dataclass
class RefRepair:
    version: int
    key: str
    target: int
    group_loss_before: float
    group_loss_after: float
    group_loss_reduction: float


@dataclass
class RefDecision:
    outcome: str
    reason: str
    score: float
    version: int | None
    repairs: list[RefRepair]
    loss_after: float


class ReferenceRound:
    def __init__(
        self,
        loss: Loss,
        y: dict[str, np.ndarray],
        base: dict[str, np.ndarray],
        *,
        alpha: float,
        min_group_rows: int,
        repair_alpha: float,
        decision_split: str = "holdout",
        acceptance_test: AcceptanceTest = AcceptanceTest.THRESHOLD,
        spending: Spending | None = None,
    ) -> None:
        self.loss, self.y, self.base = loss, y, base
        self.alpha, self.min_group_rows, self.repair_alpha = alpha, min_group_rows, repair_alpha
        self.split = decision_split
        self.acceptance_test = acceptance_test
        self.spending = spending or Spending()
        self.tested = 0
        self.nodes: list[RefNode] = []
        self.accepted: list[tuple[str, dict[str, np.ndarray], int]] = []  # key, masks, version
        self._versions: dict[tuple[int, str], np.ndarray] = {}

    def predict(self, version: int, split: str) -> np.ndarray:
        """Version ``version`` on a split: f0 with the first ``version`` nodes, newest first."""
        # Versions never change once made: remembering them keeps pointer chains from
        # recomputing their targets again and again (exponential in a chain's length).
        if (version, split) not in self._versions:
            self._versions[version, split] = self._build(version, split)
        return self._versions[version, split].copy()

    def _build(self, version: int, split: str) -> np.ndarray:
        pred = self.base[split].copy()
        for node in self.nodes[:version]:
            mask = node.masks[split]
            if node.kind == "patch":
                assert node.preds is not None
                pred[mask] = node.preds[split]
            else:
                assert node.target is not None
                pred[mask] = self.predict(node.target, split)[mask]
        return pred

    def group_loss(self, version: int, mask: np.ndarray) -> Fraction:
        """Exact mean loss of a version on a group of the decision split."""
        y = self.y[self.split]
        return exact(self.loss(self.predict(version, self.split), y)[mask]) / int(mask.sum())

    def best(self, mask: np.ndarray, since: int) -> tuple[Fraction, int]:
        """Lowest group loss over versions since ``since``, and the earliest version with it."""
        losses = [self.group_loss(v, mask) for v in range(since, len(self.nodes) + 1)]
        lowest = min(losses)
        return lowest, since + losses.index(lowest)

    def head_loss(self, split: str) -> Fraction:
        y = self.y[split]
        return exact(self.loss(self.predict(len(self.nodes), split), y)) / len(y)

    def decide(
        self, key: str, masks: dict[str, np.ndarray], preds: dict[str, np.ndarray]
    ) -> RefDecision:
        y = self.y[self.split]
        n = len(y)
        head = self.predict(len(self.nodes), self.split)
        mask, q = masks[self.split], preds[self.split]
        self.tested += 1
        gain = exact(self.loss(head, y)[mask]) - exact(self.loss(q, y[mask]))
        score = float(gain / n)
        loss_now = float(self.head_loss(self.split))
        if int(mask.sum()) < self.min_group_rows:
            return RefDecision("rejected", "group_too_small", score, None, [], loss_now)
        if gain <= 0:
            return RefDecision("rejected", "no_improvement", score, None, [], loss_now)
        if gain / n < Fraction(repr(self.alpha)):
            return RefDecision("rejected", "below_threshold", score, None, [], loss_now)
        if self.acceptance_test is AcceptanceTest.SIGNIFICANCE:
            level = self.spending.level(self.tested)
            test = paired_test(
                self.loss.kind,
                self.loss(head, y)[mask],
                self.loss(q, y[mask]),
                index=self.tested,
                level=level,
            )
            if not test.significant:
                return RefDecision("rejected", "not_significant", score, None, [], loss_now)
        self.nodes.append(RefNode("patch", key, masks, preds, None))
        version = len(self.nodes)
        self.accepted.append((key, masks, version))
        repairs = []
        while True:
            for gkey, gmasks, since in self.accepted:
                gmask = gmasks[self.split]
                n_j = int(gmask.sum())
                best, best_version = self.best(gmask, since)
                current = self.group_loss(len(self.nodes), gmask)
                if Fraction(n_j, n) * (current - best) > Fraction(repr(self.repair_alpha)):
                    self.nodes.append(RefNode("pointer", gkey, gmasks, None, best_version))
                    after = self.group_loss(len(self.nodes), gmask)
                    repairs.append(
                        RefRepair(
                            len(self.nodes),
                            gkey,
                            best_version,
                            float(current),
                            float(after),
                            float(current - after),
                        )
                    )
                    break
            else:
                break
        return RefDecision(
            "accepted", "accepted", score, version, repairs, float(self.head_loss(self.split))
        )
