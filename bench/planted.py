"""Rounds with planted truth for ``bench.validity``: data, base models, pairs and attackers.

Two kinds of world, each with the splits "holdout" (decides), "test" (the sealed split, same size
as the holdout) and "fresh" (an independent sample used only to measure the truth):

* synthetic (``synthetic_world``): binary labels, six uniform features, and a base model whose
  per-row error probability is known: 0.2 outside 20 planted groups (disjoint feature boxes of
  2-20% of the rows) and 0.2 + effect inside, the effect 0.02 to 0.15. A planted h fixes its
  group down to 0.2. The evaluator also tracks a fourth shadow split, "truth" (the three splits'
  rows end to end), whose encoded "predictions" are the head's true per-row error probability,
  so the probability follows acceptances and repairs exactly like the predictions do; noise
  pairs use it to build an h exactly as good as the head, row by row.
* Adult (``adult_world``): the real census rows, a logistic regression trained on a train part,
  whose predictions are flipped on a share of the rows of 8 feature-defined groups (the damage a
  planted h undoes by predicting the clean model there). Truth is only measured on fresh rows.

Noise pairs (``mix_stream``) are built to be no better than the head on their group; the two
attackers (``hill_climb``, ``boosting``) submit head predictions with a few flipped rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from bounty_engine.datasets.adult import ADULT_CLASSES, ADULT_LABEL, load_adult
from bounty_engine.decision import BountyEvaluator, Decision, PairOutput, Reason
from bounty_engine.significance import AcceptanceTest, Spending

Codes = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Index = npt.NDArray[np.intp]
Column = npt.NDArray[Any]
Outputs = dict[str, PairOutput]
Kind = Literal["true", "noise", "trained"]

SPLITS = ("holdout", "test", "fresh")
TRUTH = "truth"
P_SCALE = 1_000_000
"""Error probabilities are carried on the truth split as integer codes, p * P_SCALE."""

BACKGROUND_ERROR = 0.2
SYNTHETIC_SIZES = (  # planted group sizes (share of rows), one list per half of x1
    (0.02, 0.02, 0.03, 0.03, 0.04, 0.04, 0.05, 0.06, 0.08, 0.10),
    (0.02, 0.02, 0.02, 0.03, 0.03, 0.03, 0.04, 0.05, 0.05, 0.20),
)
SYNTHETIC_EFFECTS = (0.02, 0.04, 0.06, 0.10, 0.15)
CHURN = 0.03  # a planted h also gets this share of the base's right rows wrong
ADULT_TRAIN_ROWS = 8000


@dataclass(frozen=True)
class Rule:
    """A group: the rows meeting every condition ``(column, op, value)``."""

    name: str
    conditions: tuple[tuple[str, str, Any], ...]

    def mask(self, columns: Mapping[str, Column]) -> Mask:
        """The group's rows among ``columns``."""
        out = np.ones(len(next(iter(columns.values()))), dtype=np.bool_)
        for column, op, value in self.conditions:
            values = columns[column]
            if op == "==":
                out &= values == value
            elif op == "!=":
                out &= values != value
            elif op == ">=":
                out &= values >= value
            elif op == "<":
                out &= values < value
            else:
                raise ValueError(f"unknown operator {op!r}")
        return out


@dataclass(frozen=True)
class Pair:
    """A submission: its key, what it is by construction, and how it is built from the head.

    "true": a planted fix; "noise": no better than the head by construction; "trained": fitted
    on train rows of its group, whose truth only the fresh split tells.
    """

    key: str
    kind: Kind
    build: Callable[[BountyEvaluator], Outputs]


@dataclass
class World:
    """One round's data: per split the feature columns, labels and base predictions."""

    name: str
    columns: dict[str, dict[str, Column]]
    y: dict[str, Codes]
    base: dict[str, Codes]
    base_p: dict[str, Floats] | None = None
    """Synthetic only: the base model's true error probability on each row."""
    true_pairs: list[Pair] = field(default_factory=list)
    attack_rule: Rule = Rule("all", ())
    noise_rule: Callable[[np.random.Generator], Rule] = lambda _rng: Rule("all", ())
    trained: Callable[[Rule, Mapping[str, Mask]], dict[str, Codes]] | None = None

    @property
    def n(self) -> int:
        """Holdout rows."""
        return len(self.y["holdout"])

    def fit_inputs(self) -> tuple[dict[str, Codes], dict[str, Codes]]:
        """Labels and base predictions for ``BountyEvaluator.fit``, with the truth split."""
        y, base = dict(self.y), dict(self.base)
        if self.base_p is not None:
            rows = sum(len(self.y[s]) for s in SPLITS)
            y[TRUTH] = np.zeros(rows, dtype=np.int64)
            base[TRUTH] = _codes(np.concatenate([self.base_p[s] for s in SPLITS]))
        return y, base

    def masks(self, rule: Rule) -> dict[str, Mask]:
        """The rule's group on every split."""
        return {s: rule.mask(self.columns[s]) for s in SPLITS}

    def head_p(self, ev: BountyEvaluator, masks: Mapping[str, Mask]) -> dict[str, Floats]:
        """The head's true error probability on each group row (synthetic worlds)."""
        truth = ev.head_predictions(TRUTH)
        out, start = {}, 0
        for s in SPLITS:
            rows = len(self.y[s])
            out[s] = truth[start : start + rows][masks[s]].astype(np.float64) / P_SCALE
            start += rows
        return out

    def outputs(
        self,
        masks: Mapping[str, Mask],
        preds: Mapping[str, Codes],
        probs: Mapping[str, Floats] | None = None,
    ) -> Outputs:
        """The pair outputs on every tracked split (h's error probabilities on the truth split)."""
        out = {s: PairOutput(masks[s], preds[s]) for s in SPLITS}
        if self.base_p is not None:
            if probs is None:
                raise ValueError("a synthetic pair needs h's error probabilities")
            out[TRUTH] = PairOutput(
                np.concatenate([masks[s] for s in SPLITS]),
                _codes(np.concatenate([probs[s] for s in SPLITS])),
            )
        return out

    def flipped(
        self, ev: BountyEvaluator, masks: Mapping[str, Mask], flips: Mapping[str, Index]
    ) -> Outputs:
        """h = the head with its predictions flipped at ``flips`` (positions in the group)."""
        preds, probs = {}, {}
        p = self.head_p(ev, masks) if self.base_p is not None else None
        for s in SPLITS:
            pred = ev.head_predictions(s)[masks[s]].astype(np.int64)
            pred[flips[s]] = 1 - pred[flips[s]]
            preds[s] = pred
            if p is not None:
                probs[s] = p[s].copy()
                probs[s][flips[s]] = 1 - probs[s][flips[s]]
        return self.outputs(masks, preds, probs if p is not None else None)


def _fixed(out: Outputs) -> Callable[[BountyEvaluator], Outputs]:
    """A pair whose h does not depend on the head."""
    return lambda _ev: out


def _codes(p: Floats) -> Codes:
    return np.rint(p * P_SCALE).astype(np.int64)


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def random_flips(
    rng: np.random.Generator, masks: Mapping[str, Mask], share: float
) -> dict[str, Index]:
    """On every split, each group row flipped with probability ``share`` (at least one on the
    holdout): how a perturbation that memorizes nothing behaves on new rows."""
    flips = {}
    for s in SPLITS:
        size = int(masks[s].sum())
        count = int(rng.binomial(size, share))
        if s == "holdout" and size:
            count = max(count, 1)
        flips[s] = rng.choice(size, size=count, replace=False).astype(np.intp)
    return flips


def _carried_flips(
    rng: np.random.Generator, masks: Mapping[str, Mask], holdout: Index
) -> dict[str, Index]:
    """Chosen holdout flips, and the same share of random flips on the other splits."""
    share = len(holdout) / max(int(masks["holdout"].sum()), 1)
    flips = random_flips(rng, masks, share)
    flips["holdout"] = holdout
    return flips


# ----------------------------------------------------------------------------- synthetic


def _uniform_columns(rng: np.random.Generator, rows: int) -> dict[str, Column]:
    return {f"x{j}": rng.random(rows, dtype=np.float32) for j in range(6)}


def _planted_rules(rng: np.random.Generator) -> list[Rule]:
    """20 disjoint boxes (an x0 interval in one half of x1) with a share of rows each."""
    rules = []
    for half, sizes in enumerate(SYNTHETIC_SIZES):
        widths = 2 * rng.permutation(np.asarray(sizes))
        gaps = rng.dirichlet(np.ones(len(widths) + 1)) * max(1.0 - widths.sum(), 0.0)
        start = 0.0
        side = ("x1", "<", 0.5) if half == 0 else ("x1", ">=", 0.5)
        for width, gap in zip(widths, gaps[:-1], strict=True):
            start += gap
            low, high = start, min(start + width, 1.0)
            start = high
            name = f"planted x0 in [{low:.3f}, {high:.3f}), x1 {side[1]} 0.5"
            rules.append(Rule(name, (side, ("x0", ">=", low), ("x0", "<", high))))
    return rules


def synthetic_world(n: int, seed: int, fresh_rows: int) -> World:
    """Synthetic data with ``n`` holdout and test rows and ``fresh_rows`` fresh rows."""
    rng = np.random.default_rng([seed, 0])
    sizes = {"holdout": n, "test": n, "fresh": fresh_rows}
    columns = {s: _uniform_columns(rng, rows) for s, rows in sizes.items()}
    y = {s: rng.integers(0, 2, rows).astype(np.int64) for s, rows in sizes.items()}
    rules = _planted_rules(rng)
    effects = rng.permutation(np.tile(SYNTHETIC_EFFECTS, len(rules) // len(SYNTHETIC_EFFECTS)))
    base_p = {s: np.full(rows, BACKGROUND_ERROR) for s, rows in sizes.items()}
    in_rule = [{s: rule.mask(columns[s]) for s in SPLITS} for rule in rules]
    for masks, effect in zip(in_rule, effects, strict=True):
        for s in SPLITS:
            base_p[s][masks[s]] += effect
    base_wrong = {s: rng.random(sizes[s]) < base_p[s] for s in SPLITS}
    base = {s: (y[s] ^ base_wrong[s]).astype(np.int64) for s in SPLITS}
    world = World("synthetic", columns, y, base, base_p)
    for i, (masks, effect) in enumerate(zip(in_rule, effects, strict=True)):
        e_base, e_h = BACKGROUND_ERROR + effect, BACKGROUND_ERROR
        fix = 1 - (e_h - (1 - e_base) * CHURN) / e_base  # P(h right | base wrong)
        preds, probs = {}, {}
        for s in SPLITS:
            wrong, u = base_wrong[s][masks[s]], rng.random(int(masks[s].sum()))
            h_wrong = np.where(wrong, u >= fix, u < CHURN)
            preds[s] = (y[s][masks[s]] ^ h_wrong).astype(np.int64)
            probs[s] = np.full(len(u), e_h)
        out = world.outputs(masks, preds, probs)
        world.true_pairs.append(Pair(f"true-{i}", "true", _fixed(out)))
    world.attack_rule = Rule("x2 < 0.5", (("x2", "<", 0.5),))
    world.noise_rule = _synthetic_noise_rule
    return world


def _synthetic_noise_rule(rng: np.random.Generator) -> Rule:
    j, width = int(rng.integers(6)), _log_uniform(rng, 0.003, 0.3)
    low = float(rng.uniform(0, 1 - width))
    return Rule(
        f"x{j} in [{low:.3f}, {low + width:.3f})",
        ((f"x{j}", ">=", low), (f"x{j}", "<", low + width)),
    )


def equal_noise(
    world: World, ev: BountyEvaluator, masks: Mapping[str, Mask], seed: list[int]
) -> Outputs:
    """h errs on each group row independently with the head's own error probability there:
    exactly as good as the head, row by row (synthetic worlds)."""
    rng = np.random.default_rng(seed)
    p = world.head_p(ev, masks)
    preds = {
        s: (world.y[s][masks[s]] ^ (rng.random(len(p[s])) < p[s])).astype(np.int64) for s in SPLITS
    }
    return world.outputs(masks, preds, p)


# ----------------------------------------------------------------------------- Adult

ADULT_CATEGORICAL = (
    "workclass",
    "education",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native_country",
)
ADULT_NUMERIC = ("age", "education_num", "hours_per_week", "capital_gain", "capital_loss")
ADULT_DAMAGE = (  # (conditions, share of the group's rows whose base prediction is flipped)
    ((("sex", "==", "Female"), ("age", ">=", 50)), 0.5),
    ((("race", "!=", "White"),), 0.1),
    ((("occupation", "==", "Sales"),), 0.2),
    ((("education_num", ">=", 13), ("age", "<", 35)), 0.3),
    ((("hours_per_week", ">=", 50),), 0.05),
    ((("workclass", "==", "Self-emp-not-inc"),), 0.15),
    ((("native_country", "!=", "United-States"),), 0.1),
    ((("marital_status", "==", "Divorced"),), 0.05),
)


@dataclass(frozen=True)
class AdultData:
    """The Adult rows once: raw columns, the encoded design matrix and the labels."""

    columns: dict[str, Column]
    design: Floats
    labels: Codes
    values: dict[str, list[str]]
    """Per categorical column, the values held by at least 0.3% of the rows."""


@cache
def adult_data() -> AdultData:
    """Load and encode the Adult table (cached)."""
    frame = load_adult()
    columns: dict[str, Column] = {}
    for c in ADULT_CATEGORICAL:
        columns[c] = frame[c].fillna("?").astype(str).to_numpy(dtype=object)
    for c in ADULT_NUMERIC:
        columns[c] = frame[c].to_numpy(dtype=np.int64)
    numeric = frame[list(ADULT_NUMERIC)].astype(np.float64)
    for c in ("capital_gain", "capital_loss"):
        numeric[c] = np.log1p(numeric[c])
    numeric = (numeric - numeric.mean()) / numeric.std()
    dummies = pd.get_dummies(
        pd.DataFrame({c: columns[c] for c in ADULT_CATEGORICAL if c != "native_country"}),
        dtype=np.float64,
    )
    design = np.hstack([numeric.to_numpy(), dummies.to_numpy()]).astype(np.float64)
    labels = (frame[ADULT_LABEL].to_numpy() == ADULT_CLASSES[1]).astype(np.int64)
    values = {}
    for c in ADULT_CATEGORICAL:
        counts = pd.Series(columns[c]).value_counts(normalize=True)
        values[c] = [str(v) for v in counts.index[counts >= 0.003]]
    return AdultData(columns, design, labels, values)


Predictor = Callable[[Floats], Codes]


def _fit(design: Floats, labels: Codes, *, tree: bool = False) -> Predictor:
    """A logistic regression (or a depth-4 tree), or the majority class when the rows are too
    few or all of one class."""
    if len(labels) < 30 or labels.min() == labels.max():
        majority = int(np.round(labels.mean())) if len(labels) else 0
        return lambda x: np.full(len(x), majority, dtype=np.int64)
    model = (
        DecisionTreeClassifier(max_depth=4, min_samples_leaf=20, random_state=0)
        if tree
        else LogisticRegression(max_iter=300)
    ).fit(design, labels)
    return lambda x: (
        np.asarray(model.predict(x), dtype=np.int64) if len(x) else np.zeros(0, dtype=np.int64)
    )


def adult_world(n: int, seed: int) -> World:
    """Adult rows: 8000 train, ``n`` holdout, ``n`` test, the rest fresh; a damaged base model."""
    data = adult_data()
    rng = np.random.default_rng([seed, 1])
    order = rng.permutation(len(data.labels))
    if ADULT_TRAIN_ROWS + 3 * n > len(order):
        raise ValueError(f"Adult has too few rows for a holdout of {n}")
    parts = {
        "train": order[:ADULT_TRAIN_ROWS],
        "holdout": order[ADULT_TRAIN_ROWS : ADULT_TRAIN_ROWS + n],
        "test": order[ADULT_TRAIN_ROWS + n : ADULT_TRAIN_ROWS + 2 * n],
        "fresh": order[ADULT_TRAIN_ROWS + 2 * n :],
    }
    model = _fit(data.design[parts["train"]], data.labels[parts["train"]])
    clean = {s: model(data.design[parts[s]]) for s in SPLITS}
    columns = {s: {c: v[parts[s]] for c, v in data.columns.items()} for s in SPLITS}
    y = {s: data.labels[parts[s]] for s in SPLITS}
    damaged = {s: np.zeros(len(parts[s]), dtype=np.bool_) for s in SPLITS}
    rules = [
        Rule("planted " + " & ".join(f"{c} {op} {v}" for c, op, v in conds), conds)
        for conds, _share in ADULT_DAMAGE
    ]
    for rule, (_conds, share) in zip(rules, ADULT_DAMAGE, strict=True):
        for s in SPLITS:
            damaged[s] |= rule.mask(columns[s]) & (rng.random(len(parts[s])) < share)
    base = {s: (clean[s] ^ damaged[s]).astype(np.int64) for s in SPLITS}
    world = World("adult", columns, y, base)
    for i, rule in enumerate(rules):
        masks = world.masks(rule)
        out = world.outputs(masks, {s: clean[s][masks[s]] for s in SPLITS})
        world.true_pairs.append(Pair(f"true-{i}", "true", _fixed(out)))
    world.attack_rule = Rule("sex == Male", (("sex", "==", "Male"),))
    world.noise_rule = lambda r: _adult_noise_rule(r, data)

    def trained(rule: Rule, masks: Mapping[str, Mask]) -> dict[str, Codes]:
        train = parts["train"][rule.mask({c: v[parts["train"]] for c, v in data.columns.items()})]
        group_model = _fit(data.design[train], data.labels[train], tree=True)
        return {s: group_model(data.design[parts[s][masks[s]]]) for s in SPLITS}

    world.trained = trained
    return world


def _adult_noise_rule(rng: np.random.Generator, data: AdultData) -> Rule:
    column = str(rng.choice(ADULT_CATEGORICAL))
    value = str(rng.choice(data.values[column]))
    conds: list[tuple[str, str, Any]] = [(column, "==", value)]
    if rng.random() < 0.5:
        numeric = str(rng.choice(("age", "hours_per_week", "education_num")))
        cut = int(np.quantile(data.columns[numeric], rng.uniform(0.2, 0.8)))
        conds.append((numeric, str(rng.choice((">=", "<"))), cut))
    return Rule(" & ".join(f"{c} {op} {v}" for c, op, v in conds), tuple(conds))


# ----------------------------------------------------------------------------- streams


def mix_stream(world: World, seed: int, noise: int) -> list[Pair]:
    """The planted fixes and ``noise`` noise pairs, shuffled.

    Synthetic noise: 2/3 "equal" models (``equal_noise``) and 1/3 perturbations of the head (a
    random share of 1-30% of the group's predictions flipped, worse than the head in
    expectation). Adult noise: 2/3 perturbations and 1/3 depth-4 trees trained on the
    group's train rows ("trained": the fresh split decides whether they are noise).
    """
    rng = np.random.default_rng([seed, 2])
    pairs = list(world.true_pairs)
    for i in range(noise):
        rule, pair_seed = world.noise_rule(rng), [seed, 3, i]
        if rng.random() < 2 / 3:
            if world.base_p is not None:
                pairs.append(Pair(f"equal-{i}", "noise", _equal_builder(world, rule, pair_seed)))
                continue
            pairs.append(Pair(f"perturb-{i}", "noise", _perturb_builder(world, rule, pair_seed)))
        elif world.trained is not None:
            pairs.append(Pair(f"trained-{i}", "trained", _trained_builder(world, rule)))
        else:
            pairs.append(Pair(f"perturb-{i}", "noise", _perturb_builder(world, rule, pair_seed)))
    order = rng.permutation(len(pairs))
    return [pairs[i] for i in order]


def _equal_builder(
    world: World, rule: Rule, seed: list[int]
) -> Callable[[BountyEvaluator], Outputs]:
    def build(ev: BountyEvaluator) -> Outputs:
        return equal_noise(world, ev, world.masks(rule), seed)

    return build


def _perturb_builder(
    world: World, rule: Rule, seed: list[int]
) -> Callable[[BountyEvaluator], Outputs]:
    def build(ev: BountyEvaluator) -> Outputs:
        rng = np.random.default_rng(seed)
        masks = world.masks(rule)
        return world.flipped(ev, masks, random_flips(rng, masks, _log_uniform(rng, 0.01, 0.3)))

    return build


def _trained_builder(world: World, rule: Rule) -> Callable[[BountyEvaluator], Outputs]:
    cached: list[Outputs] = []

    def build(_ev: BountyEvaluator) -> Outputs:
        if not cached and world.trained is not None:
            masks = world.masks(rule)
            cached.append(world.outputs(masks, world.trained(rule, masks)))
        return cached[0]

    return build


# ----------------------------------------------------------------------------- attackers

AttackPlay = Generator[tuple[str, Outputs], Decision, None]
"""An attacker: yields (key, outputs) pairs and is sent each pair's decision."""


def acceptance_chance(flips: int, error: float, threshold_rows: int, level: float | None) -> float:
    """The chance that flipping ``flips`` random rows of a model wrong on ``error`` of them is
    accepted: a net gain of at least ``threshold_rows`` rows, and a sign test at ``level``."""
    wins = np.arange(flips + 1)
    ok = 2 * wins - flips >= max(threshold_rows, 1)
    if level is not None:
        ok &= stats.binom.sf(wins - 1, flips, 0.5) <= level
    return float(stats.binom.pmf(wins, flips, error)[ok].sum())


def _rules_view(ev: BountyEvaluator) -> tuple[int, float | None]:
    """What a participant knows of the round's rules: the threshold in holdout rows and, under
    the significance rule, about the level the next pair is tested at."""
    n = len(ev.head_predictions("holdout"))
    threshold_rows = math.ceil(ev.alpha * n - 1e-9)
    level = None
    if ev.acceptance_test is AcceptanceTest.SIGNIFICANCE:
        level = Spending(ev.confidence, ev.planned_submissions).level(ev.tested_ + 1)
    return threshold_rows, level


def _group_error(world: World, ev: BountyEvaluator, masks: Mapping[str, Mask]) -> float:
    """The head's error rate on the group, as a participant estimates it from public data
    (here: from the fresh rows)."""
    head = ev.head_predictions("fresh")[masks["fresh"]]
    return float(np.mean(head != world.y["fresh"][masks["fresh"]]))


def hill_climb(world: World, ev: BountyEvaluator, seed: int, budget: int) -> AttackPlay:
    """The adaptive participant who sees only accept bits (the default disclosure).

    On one big group it submits the head with ``k`` random holdout rows flipped (``k`` the
    flip count most likely to be accepted under the round's rules, given the head's error
    rate); an accepted guess is kept (the head now carries it) and the climb goes on from there,
    never flipping a kept row back. Like the attacker of ``bench.holdout_probing`` it knows the
    holdout's features (a stronger threat than reality), not its labels.
    """
    rng = np.random.default_rng([seed, 4])
    masks = world.masks(world.attack_rule)
    size = int(masks["holdout"].sum())
    threshold_rows, level = _rules_view(ev)
    error = _group_error(world, ev, masks)
    k = max(range(1, 65), key=lambda f: acceptance_chance(f, error, threshold_rows, level))
    kept = np.zeros(size, dtype=np.bool_)
    for i in range(budget):
        free = np.flatnonzero(~kept)
        guess = rng.choice(free, size=min(k, len(free)), replace=False).astype(np.intp)
        decision = yield f"climb-{i}", world.flipped(ev, masks, _carried_flips(rng, masks, guess))
        if decision.accepted:
            kept[guess] = True


def boosting(world: World, ev: BountyEvaluator, seed: int, budget: int, flips: int) -> AttackPlay:
    """The Blum-Hardt style boosting attacker, who also sees the sign of each rejected pair's
    score (exact disclosure: "no_improvement" against any other reason).

    ``budget - 1`` random perturbations of the head on one big group (``flips`` random holdout
    rows flipped each), then one pair flipping the rows that positive-sign perturbations flipped
    more often than chance (a vote: +1/P(positive) per positive, -1/P(negative) per other).
    Rows of perturbations that were accepted outright are already flipped in the head and left.
    """
    rng = np.random.default_rng([seed, 5])
    masks = world.masks(world.attack_rule)
    size = int(masks["holdout"].sum())
    positive, negative = np.zeros(size), np.zeros(size)
    changed = np.zeros(size, dtype=np.bool_)
    for i in range(budget - 1):
        free = np.flatnonzero(~changed)
        guess = rng.choice(free, size=min(flips, len(free)), replace=False).astype(np.intp)
        decision = yield f"boost-{i}", world.flipped(ev, masks, _carried_flips(rng, masks, guess))
        if decision.accepted:
            changed[guess] = True
        elif decision.reason is Reason.NO_IMPROVEMENT:
            negative[guess] += 1
        else:
            positive[guess] += 1
    share = positive.sum() / max(positive.sum() + negative.sum(), 1)
    vote = positive / max(share, 1e-9) - negative / max(1 - share, 1e-9)
    final = np.flatnonzero((vote > 0) & ~changed).astype(np.intp)
    yield "boost-final", world.flipped(ev, masks, _carried_flips(rng, masks, final))


def play_attack(attack: AttackPlay, ev: BountyEvaluator) -> Iterator[Decision]:
    """Run an attacker against ``ev``, sending each decision back to it."""
    try:
        key, outputs = next(attack)
        while True:
            decision = ev.decide(key, outputs)
            yield decision
            key, outputs = attack.send(decision)
    except StopIteration:
        return
