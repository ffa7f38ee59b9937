"""A population's version predictions (``bounty_engine.populations``) are the model's: replaying
a round's nodes over the stored outputs gives, after every decision, the evaluator's own head
predictions on a tracked split (repairs included), and each version's loss is its mean."""

from __future__ import annotations

import numpy as np
import pytest

from bounty_engine.decision import BountyEvaluator, PairOutput
from bounty_engine.errors import EngineError
from bounty_engine.losses import Loss
from bounty_engine.measures import measure
from bounty_engine.populations import VersionNode, version_predictions


def nodes_of(evaluator: BountyEvaluator) -> list[VersionNode]:
    return [
        VersionNode("patch", v.group_key or "")
        if v.kind == "patch"
        else VersionNode("pointer", v.group_key or "", v.target_version)
        for v in evaluator.versions_[1:]
    ]


@pytest.mark.parametrize("seed", [0, 2, 3, 4, 5])
def test_replayed_nodes_predict_what_the_evaluator_holds_after_every_decision(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = 300, 3
    y = {s: rng.integers(0, k, n) for s in ("holdout", "elsewhere")}
    base = {s: rng.integers(0, k, n) for s in ("holdout", "elsewhere")}
    evaluator = BountyEvaluator(Loss()).fit(y, base)
    outputs: dict[str, PairOutput] = {}
    pointers = 0
    for i in range(25):
        pair = {}
        for split in ("holdout", "elsewhere"):
            lo = rng.integers(0, n - 60)
            mask = np.zeros(n, dtype=bool)
            mask[lo : lo + rng.integers(20, 60)] = True
            # Mostly right on the group, so that many are accepted and later ones overlap.
            right = rng.random(int(mask.sum())) < 0.8
            values = np.where(right, y[split][mask], rng.integers(0, k, int(mask.sum())))
            pair[split] = PairOutput(mask, values)
        decision = evaluator.decide(str(i), pair)
        if decision.accepted:
            outputs[str(i)] = pair["elsewhere"]
            pointers += len(decision.repairs)
        versions = version_predictions(base["elsewhere"], nodes_of(evaluator), outputs)
        assert len(versions) == evaluator.head_version + 1
        np.testing.assert_array_equal(versions[-1], evaluator.head_predictions("elsewhere"))
        for v, info in enumerate(evaluator.versions_):
            mean = measure(Loss(), y["elsewhere"], versions[v]).loss
            assert mean == pytest.approx(info.loss["elsewhere"], abs=1e-12)
    assert evaluator.head_version > 3
    assert pointers > 0  # these seeds' rounds repair earlier groups


def test_a_missing_output_or_a_pointer_forward_is_refused() -> None:
    base = np.zeros(4, dtype=np.int64)
    with pytest.raises(EngineError, match="no output"):
        version_predictions(base, [VersionNode("patch", "1")], {})
    out = PairOutput(np.ones(4, dtype=bool), np.ones(4, dtype=np.int64))
    with pytest.raises(EngineError, match="a pointer to version 1"):
        version_predictions(base, [VersionNode("pointer", "1", 1)], {"1": out})


def test_measure_on_no_rows_has_no_loss() -> None:
    empty = np.zeros(3, dtype=bool)
    got = measure(Loss(), np.arange(3), np.arange(3), empty, pos_label=1)
    assert (got.rows, got.loss) == (0, None)
    assert got.rates is not None
    assert got.rates.false_positive_rate is None
