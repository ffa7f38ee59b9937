"""A brute-force reference of the decision step: every quantity recomputed from the nodes.

Deliberately naive and independent of app.engine.decision (it shares only the loss function):
it is the specification the fast engine is checked against on small random rounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.losses import Loss


@dataclass
class RefNode:
    kind: str  # "patch" | "pointer"
    key: str
    masks: dict[str, np.ndarray]
    preds: dict[str, np.ndarray] | None  # patch: h's predictions on the mask rows
    target: int | None  # pointer: the version it points to


@dataclass
class RefDecision:
    outcome: str
    reason: str
    score: float
    version: int | None
    repairs: list[tuple[str, int]]
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
    ) -> None:
        self.loss, self.y, self.base = loss, y, base
        self.alpha, self.min_group_rows, self.repair_alpha = alpha, min_group_rows, repair_alpha
        self.split = decision_split
        self.nodes: list[RefNode] = []
        self.accepted: list[tuple[str, dict[str, np.ndarray], int]] = []  # key, masks, version

    def predict(self, version: int, split: str) -> np.ndarray:
        """Version ``version`` on a split: f0 with the first ``version`` nodes, newest first."""
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

    def group_loss_sum(self, version: int, mask: np.ndarray) -> float:
        y = self.y[self.split]
        return float(self.loss(self.predict(version, self.split), y)[mask].sum())

    def best(self, mask: np.ndarray, since: int) -> tuple[float, int]:
        sums = [self.group_loss_sum(v, mask) for v in range(since, len(self.nodes) + 1)]
        i = int(np.argmin(sums))  # the earliest version attaining the minimum
        return sums[i], since + i

    def decide(
        self, key: str, masks: dict[str, np.ndarray], preds: dict[str, np.ndarray]
    ) -> RefDecision:
        y = self.y[self.split]
        n = len(y)
        head = self.predict(len(self.nodes), self.split)
        row_loss = self.loss(head, y)
        mask, q = masks[self.split], preds[self.split]
        before = float(row_loss[mask].sum())
        score = (before - float(self.loss(q, y[mask]).sum())) / n
        n_g = int(mask.sum())
        if n_g < self.min_group_rows:
            return RefDecision("rejected", "group_too_small", score, None, [], row_loss.mean())
        if score <= 0:
            return RefDecision("rejected", "no_improvement", score, None, [], row_loss.mean())
        if score < self.alpha:
            return RefDecision("rejected", "below_threshold", score, None, [], row_loss.mean())
        self.nodes.append(RefNode("patch", key, masks, preds, None))
        version = len(self.nodes)
        self.accepted.append((key, masks, version))
        repairs = []
        while True:
            for gkey, gmasks, since in self.accepted:
                best, best_version = self.best(gmasks[self.split], since)
                current = self.group_loss_sum(len(self.nodes), gmasks[self.split])
                if (current - best) / n > self.repair_alpha:
                    self.nodes.append(RefNode("pointer", gkey, gmasks, None, best_version))
                    repairs.append((gkey, best_version))
                    break
            else:
                break
        final = self.loss(self.predict(len(self.nodes), self.split), y).mean()
        return RefDecision("accepted", "accepted", score, version, repairs, float(final))
