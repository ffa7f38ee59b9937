"""Rounds end to end in memory: real models, groups, decisions, replay and the exported bundle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import make_column_transformer
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.tree import DecisionTreeClassifier

from bounty_engine.baseline import train_default_model, train_patch_model
from bounty_engine.bundle import BundleError, export_bundle, load_bundle
from bounty_engine.data import infer_schema, prepare_features, split_frame
from bounty_engine.datasets.synthetic import make_synthetic
from bounty_engine.decision import Outcome, Reason
from bounty_engine.groups import ModelGroup, RuleGroup
from bounty_engine.models import dump_sklearn_model, load_model
from bounty_engine.round import BountyRound, RoundRules, Submission
from bounty_engine.schema import FeatureSchema

SPLITS = ("holdout", "train", "test")


class Synthetic:
    """A small synthetic round with planted groups, shared by the tests of this module."""

    def __init__(self, n_rows: int = 3000, seed: int = 0) -> None:
        data = make_synthetic(n_rows, seed=seed)
        self.data = data
        self.schema: FeatureSchema = infer_schema(data.frame, data.label)
        self.split = split_frame(data.frame, (0.5, 0.3, 0.2), seed=seed)
        self.base = load_model(
            dump_sklearn_model(train_default_model(self.split.train, self.schema))
        )
        self.train_x = prepare_features(self.split.train, self.schema)

    def new_round(self, rules: RoundRules | None = None) -> BountyRound:
        frames = {"holdout": self.split.holdout, "train": self.split.train, "test": self.split.test}
        return BountyRound(self.schema, rules or RoundRules(), self.base, frames)

    def pair(self, key: str, expression: str, depth: int | None = None) -> Submission:
        group = RuleGroup.parse(expression, self.schema)
        mask = group.mask(self.train_x)
        if depth is None:
            h = train_patch_model(self.split.train, self.schema, mask)
        else:
            h = _tree_on(self.numeric, depth).fit(
                self.train_x.loc[mask], self.split.train[self.data.label][mask]
            )
        return Submission(key, group, load_model(dump_sklearn_model(h)))

    @property
    def numeric(self) -> list[str]:
        return [f.name for f in self.schema.features if f.kind == "numeric"]


def _tree_on(columns: list[str], depth: int) -> Pipeline:
    """A decision tree reading only ``columns`` of the prepared features."""
    return make_pipeline(
        make_column_transformer(("passthrough", columns)),
        DecisionTreeClassifier(max_depth=depth, random_state=0),
    )


@pytest.fixture(scope="module")
def synthetic() -> Synthetic:
    return Synthetic()


def test_planted_groups_are_found_and_accepted(synthetic: Synthetic) -> None:
    bounty = synthetic.new_round(RoundRules(alpha=0.001, min_group_rows=20))
    before = bounty.evaluator.head_loss()
    decisions = bounty.submit_all(
        synthetic.pair(f"p{i}", g.expression) for i, g in enumerate(synthetic.data.planted)
    )
    assert [d.outcome for d in decisions] == [Outcome.ACCEPTED] * len(decisions)
    assert bounty.evaluator.head_loss() < before - 0.01
    assert bounty.model.head_version == bounty.evaluator.head_version


def test_invalid_model_output_gives_an_invalid_verdict(synthetic: Synthetic) -> None:
    bounty = synthetic.new_round()
    wrong_labels = DummyClassifier(strategy="constant", constant=7).fit(
        synthetic.train_x, np.full(len(synthetic.train_x), 7)
    )
    group = RuleGroup.parse("x0 > 0", synthetic.schema)
    decision = bounty.submit(Submission("bad", group, load_model(dump_sklearn_model(wrong_labels))))
    assert decision.outcome is Outcome.INVALID
    assert "label" in decision.message
    assert bounty.evaluator.head_version == 0


def test_group_model_submission(synthetic: Synthetic) -> None:
    planted = synthetic.data.planted_masks()[0]
    train_rows = synthetic.split.train.index
    in_group = planted[np.asarray(train_rows)]
    # A classifier of membership, trained like any model (the synthetic labels are 0/1 too).
    membership = synthetic.split.train.assign(**{synthetic.data.label: in_group.astype(int)})
    g = train_patch_model(membership, synthetic.schema, np.ones(len(membership), dtype=bool))
    group = ModelGroup(load_model(dump_sklearn_model(g)))
    h = train_patch_model(synthetic.split.train, synthetic.schema, group.mask(synthetic.train_x))
    bounty = synthetic.new_round()
    decision = bounty.submit(Submission("gm", group, load_model(dump_sklearn_model(h))))
    assert decision.accepted
    assert decision.stats["holdout"].n_group > 0


def _assert_bundle_matches(bounty: BountyRound, synthetic: Synthetic, tmp_path: object) -> None:
    path = export_bundle(bounty.model, bounty.schema, f"{tmp_path}/model.zip", {"round": "t"})
    bundle = load_bundle(path)
    assert bundle.metadata == {"round": "t"}
    assert bundle.model.head_version == bounty.evaluator.head_version
    for split, frame in zip(
        SPLITS, (synthetic.split.holdout, synthetic.split.train, synthetic.split.test), strict=True
    ):
        np.testing.assert_array_equal(
            bundle.model.predict_codes(prepare_features(frame, bundle.schema)),
            bounty.evaluator.head_predictions(split),
        )
    fresh = make_synthetic(500, seed=99).frame
    np.testing.assert_array_equal(
        bundle.predict(fresh), bounty.model.predict(prepare_features(fresh, bounty.schema))
    )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    picks=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "x0 > 0",
                    "x1 <= 0.5",
                    'c0 == "b"',
                    'c1 in ("a", "c")',
                    "-1 < x2 < 1",
                    'x0 > 0 and c0 != "a"',
                    "x3 > 0.5 or x2 < -0.5",
                    "True",
                ]
            ),
            st.integers(1, 4),
        ),
        min_size=1,
        max_size=6,
    ),
    repair_alpha=st.sampled_from([0.0, 0.002]),
)
def test_bundle_predicts_exactly_the_cached_predictions(
    synthetic: Synthetic,
    tmp_path_factory: pytest.TempPathFactory,
    picks: list[tuple[str, int]],
    repair_alpha: float,
) -> None:
    bounty = synthetic.new_round(RoundRules(repair_alpha=repair_alpha))
    for i, (expression, depth) in enumerate(picks):
        bounty.submit(synthetic.pair(f"s{i}", expression, depth))
    _assert_bundle_matches(bounty, synthetic, tmp_path_factory.mktemp("bundle"))


def test_replay_reproduces_and_disqualification_replays_without(synthetic: Synthetic) -> None:
    bounty = synthetic.new_round(RoundRules(repair_alpha=0.0))
    exprs = [g.expression for g in synthetic.data.planted] + ["x0 > 0", "True"]
    bounty.submit_all(synthetic.pair(f"s{i}", e, 3) for i, e in enumerate(exprs))
    again = bounty.replay()
    assert again.decisions == bounty.decisions
    assert again.evaluator.versions_ == bounty.evaluator.versions_
    for split in SPLITS:
        np.testing.assert_array_equal(
            again.evaluator.head_predictions(split), bounty.evaluator.head_predictions(split)
        )
    first_accepted = next(d.key for d in bounty.decisions if d.accepted)
    without = bounty.replay(exclude=[first_accepted])
    assert first_accepted not in without.accepted
    assert [d.key for d in without.decisions] == [
        d.key for d in bounty.decisions if d.key != first_accepted
    ]


def test_tampered_bundle_is_refused(synthetic: Synthetic, tmp_path: object) -> None:
    import zipfile

    bounty = synthetic.new_round()
    bounty.submit(synthetic.pair("a", "x0 > 0", 2))
    path = export_bundle(bounty.model, bounty.schema, f"{tmp_path}/m.zip")
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    model_name = next(n for n in entries if n.startswith("models/"))
    entries[model_name] = entries[model_name][:-10] + b"0123456789"
    bad = f"{tmp_path}/bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    with pytest.raises(BundleError, match="checksum"):
        load_bundle(bad)
    with pytest.raises(BundleError, match="not a readable model bundle"):
        load_bundle(f"{tmp_path}/missing.zip")


def test_loss_must_fit_the_task(synthetic: Synthetic) -> None:
    from bounty_engine.errors import EngineError
    from bounty_engine.losses import Loss, LossKind

    with pytest.raises(EngineError, match="does not fit"):
        synthetic.new_round(RoundRules(Loss(LossKind.SQUARED)))


def test_rejections_do_not_change_the_model(synthetic: Synthetic) -> None:
    bounty = synthetic.new_round(RoundRules(alpha=0.5))
    decision = bounty.submit(synthetic.pair("a", synthetic.data.planted[0].expression))
    assert decision.reason is Reason.BELOW_THRESHOLD
    assert bounty.model.head_version == 0
    assert isinstance(bounty.decisions[0].stats["train"].score, float)
    assert decision.version is None


def test_repair_pointer_nodes_survive_export(synthetic: Synthetic, tmp_path: object) -> None:
    """A later patch that is worse on an earlier group triggers a pointer node end to end."""
    bounty = synthetic.new_round(RoundRules(repair_alpha=0.0))
    holdout = synthetic.split.holdout
    x = prepare_features(holdout, synthetic.schema)
    y = holdout[synthetic.data.label].to_numpy()
    small = RuleGroup.parse('c0 == "a" and x0 > 1', synthetic.schema)
    in_small = small.mask(x)
    # Models fitted on the holdout itself, to make the scenario exact: h_small is right on the
    # small group; h_all is right everywhere except on the small group, where it is always wrong.
    h_small = _tree_on(synthetic.numeric, 30).fit(x[in_small], y[in_small])
    h_all = _tree_on(synthetic.numeric, 30).fit(x, np.where(in_small, 1 - y, y))
    first = bounty.submit(Submission("small", small, load_model(dump_sklearn_model(h_small))))
    assert first.accepted
    everyone = RuleGroup.parse("True", synthetic.schema)
    second = bounty.submit(Submission("all", everyone, load_model(dump_sklearn_model(h_all))))
    assert second.accepted
    assert [(r.group_key, r.target_version, r.version) for r in second.repairs] == [("small", 1, 3)]
    assert second.repairs[0].group_loss_after == 0.0
    assert [type(n).__name__ for n in bounty.model.nodes] == [
        "PatchNode",
        "PatchNode",
        "PointerNode",
    ]
    np.testing.assert_array_equal(bounty.evaluator.head_predictions()[in_small], y[in_small])
    _assert_bundle_matches(bounty, synthetic, tmp_path)
