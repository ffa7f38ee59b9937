"""An automated bounty hunter: find where the current model errs, patch it there, submit.

Each step works on the public train split only:

1. read the current model's predictions on the train split, fit a challenger model on half
   of the split, and on the other half measure, row by row, how much lower the challenger's
   loss is than the current model's: where the current model errs and need not;
2. fit a shallow regression tree to that gain (categorical features one-hot encoded), and
   turn the path to each of its nodes into a group rule (``age > 52.5 and sex == "Female"``);
3. for the regions where the gain is clearest, train h on half of their train rows and
   decide each pair locally on the other half with the round's rules (an honest estimate,
   since h never saw those rows), against the current model;
4. submit the first pair that passes, wait for its verdict, and start again from the model
   that verdict left.

It stops when it has used its submission budget, when no region passes the local check, or
when the round's quota runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.tree import DecisionTreeRegressor

from bounty_client.check import LocalCheck, check_pair, round_rules
from bounty_client.client import BountyClient
from bounty_client.models import SubmissionOut
from bounty_engine.baseline import train_patch_model
from bounty_engine.data import label_values, prepare_features
from bounty_engine.expressions.canonical import render_name, render_value
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model, load_model
from bounty_engine.predictions import encode_labels, encode_predictions
from bounty_engine.round import RoundRules
from bounty_engine.schema import FeatureKind, FeatureSchema


@dataclass(frozen=True)
class Attempt:
    """One submitted pair and what the platform said of it."""

    expression: str
    local: LocalCheck
    submission: SubmissionOut

    @property
    def outcome(self) -> str:
        """accepted, rejected or invalid (or the status if no verdict came)."""
        verdict = self.submission.verdict
        return verdict.outcome if verdict else self.submission.status


@dataclass
class HuntReport:
    """What a hunt submitted, and why it stopped."""

    attempts: list[Attempt] = field(default_factory=list)
    stopped: str = ""

    @property
    def accepted(self) -> list[Attempt]:
        """The attempts the platform accepted."""
        return [a for a in self.attempts if a.outcome == "accepted"]


@dataclass(frozen=True)
class _Context:
    """What a hunt reads once: the round's schema and rules, and the train split."""

    schema: FeatureSchema
    rules: RoundRules
    train: pd.DataFrame
    features: pd.DataFrame
    labels: npt.NDArray[np.generic]
    n_holdout: int
    fit_half: npt.NDArray[np.bool_]  # train rows h is fitted on; the others check it


@dataclass(frozen=True)
class _Encoded:
    """The features as a numeric matrix, and how each column reads back as a condition."""

    matrix: npt.NDArray[np.float64]
    columns: list[tuple[str, str | None]]  # (feature, category or None for numeric)


class BountyHunter:
    """Hunts a round with a client: ``BountyHunter(client, "slug").run(budget=5)``.

    ``depth`` and ``min_leaf_share`` shape the tree whose nodes are the candidate groups;
    ``candidates`` is how many of them are checked locally per step; ``seed`` fixes the
    train-rows split and the models, so a hunt is reproducible.
    """

    def __init__(
        self,
        client: BountyClient,
        slug: str,
        *,
        depth: int = 3,
        min_leaf_share: float = 0.01,
        candidates: int = 12,
        seed: int = 0,
        timeout: float = 300.0,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.client = client
        self.slug = slug
        self.depth = depth
        self.min_leaf_share = min_leaf_share
        self.candidates = candidates
        self.seed = seed
        self.timeout = timeout
        self.log = log

    def run(self, budget: int = 5) -> HuntReport:
        """Submit at most ``budget`` pairs; returns every attempt and why the hunt stopped."""
        ctx = self._context()
        report, tried = HuntReport(), set[str]()
        while len(report.attempts) < budget:
            if self.client.quota(self.slug).remaining <= 0:
                report.stopped = "the team's daily quota is used up"
                break
            version, current = self.client.current_predictions(self.slug)
            self.log(f"model version {version}: looking for where it errs most")
            pick = self._next_pair(ctx, current.to_numpy(), tried)
            if pick is None:
                report.stopped = "no candidate group passes the local check"
                break
            expression, h, local = pick
            tried.add(expression)
            score = local.train.score if local.train else 0.0
            self.log(f"submitting {expression} (local score {score:.5f})")
            sent = self.client.submit(self.slug, h, group=expression, note="bounty hunt")
            decided = self.client.wait(sent.submission.id, timeout=self.timeout)
            attempt = Attempt(expression, local, decided)
            report.attempts.append(attempt)
            self.log(f"submission {decided.id}: {attempt.outcome}")
        else:
            report.stopped = f"the budget of {budget} submissions is spent"
        return report

    def _context(self) -> _Context:
        found = self.client.round(self.slug)
        schema = self.client.schema(self.slug)
        train = self.client.train_data(self.slug)
        rules = round_rules(found.rules)
        fit_half = np.random.default_rng(self.seed).random(len(train)) < 0.5
        return _Context(
            schema,
            rules,
            train,
            prepare_features(train, schema),
            encode_labels(label_values(train, schema), schema.label),
            found.data.n_holdout if found.data else 0,
            fit_half,
        )

    def _next_pair(
        self, ctx: _Context, current: npt.NDArray[np.generic], tried: set[str]
    ) -> tuple[str, bytes, LocalCheck] | None:
        schema, train = ctx.schema, ctx.train
        codes = encode_predictions(current, len(train), schema.label)
        check_rows = ~ctx.fit_half
        # Where could a model do better than the current one? A challenger fitted on the fit
        # half, compared row by row with the current model on the rows it did not see.
        challenger = train_patch_model(train, schema, ctx.fit_half, seed=self.seed)
        challenger_codes = encode_predictions(
            challenger.predict(ctx.features.loc[check_rows]), int(check_rows.sum()), schema.label
        )
        labels = ctx.labels[check_rows]
        gain = ctx.rules.loss(codes[check_rows], labels) - ctx.rules.loss(challenger_codes, labels)
        held_out = train.loc[check_rows].reset_index(drop=True)
        candidates = self._candidate_rules(schema, ctx.features.loc[check_rows], gain)
        for expression in candidates:
            if expression in tried:
                continue
            group = RuleGroup.parse(expression, schema)
            fit_rows = group.mask(ctx.features) & ctx.fit_half
            if len(np.unique(ctx.labels[fit_rows])) < 2:
                continue  # too few rows, or one class only: nothing for h to learn
            h = dump_sklearn_model(train_patch_model(train, schema, fit_rows, seed=self.seed))
            local = check_pair(
                schema,
                ctx.rules,
                held_out,
                current[check_rows],
                n_holdout=ctx.n_holdout,
                group=group,
                model=load_model(h, feature_names=schema.feature_names),
            )
            self.log(f"  {expression}: {local.decision.outcome.value} locally")
            if local.decision.accepted:
                return expression, h, local
        return None

    def _candidate_rules(
        self, schema: FeatureSchema, features: pd.DataFrame, gain: npt.NDArray[np.float64]
    ) -> Iterator[str]:
        """Rules of the nodes of a tree fitted to the per-row ``gain`` (every region on a
        root-to-leaf path, not only the leaves), the most clearly better first."""
        encoded = _encode(schema, features)
        tree = DecisionTreeRegressor(
            max_depth=self.depth,
            min_samples_leaf=max(2, int(self.min_leaf_share * len(features))),
            random_state=self.seed,
        ).fit(encoded.matrix, gain)
        membership = tree.decision_path(encoded.matrix)  # rows x nodes, sparse
        total = np.asarray(membership.T @ gain).ravel()
        size = np.asarray(membership.sum(axis=0)).ravel()
        # total / sqrt(size) ranks like a z-score of the mean gain: of a group and a superset
        # with the same total gain, the group itself comes first.
        strength = total / np.sqrt(np.maximum(size, 1))
        paths = _node_paths(tree, encoded)
        ranked = [int(node) for node in np.argsort(-strength) if total[node] > 0 and paths[node]]
        for node in ranked[: self.candidates]:
            yield " and ".join(paths[node])


def _encode(schema: FeatureSchema, features: pd.DataFrame) -> _Encoded:
    blocks: list[npt.NDArray[np.float64]] = []
    columns: list[tuple[str, str | None]] = []
    for feature in schema.features:
        values = features[feature.name]
        if feature.kind is FeatureKind.CATEGORICAL:
            for category in feature.categories or []:
                blocks.append(np.asarray(values == category, dtype=np.float64))
                columns.append((feature.name, category))
        else:
            blocks.append(values.to_numpy(dtype=np.float64))
            columns.append((feature.name, None))
    return _Encoded(np.column_stack(blocks), columns)


def _node_paths(tree: DecisionTreeRegressor, encoded: _Encoded) -> dict[int, list[str]]:
    """Each node's conditions, root first, in the group rule language (the root has none)."""
    inner = tree.tree_
    paths: dict[int, list[str]] = {0: []}
    stack = [0]
    while stack:  # a tree of depth <= 8: at most 511 nodes
        node = stack.pop()
        left, right = int(inner.children_left[node]), int(inner.children_right[node])
        if left == right:  # a leaf
            continue
        name, category = encoded.columns[int(inner.feature[node])]
        column = render_name(name)
        if category is None:
            threshold = render_value(float(f"{inner.threshold[node]:.6g}"))
            paths[left] = [*paths[node], f"{column} <= {threshold}"]
            paths[right] = [*paths[node], f"{column} > {threshold}"]
        else:
            paths[left] = [*paths[node], f"{column} != {render_value(category)}"]
            paths[right] = [*paths[node], f"{column} == {render_value(category)}"]
        stack += [left, right]
    return paths
