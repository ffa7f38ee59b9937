"""An adaptive participant that tries to learn holdout labels through the real service.

Used by ``tests/security/test_holdout_probing.py`` (CI) and ``bench/holdout_probing.py`` (the
full table). The service is the real app (a ``TestClient`` on a committed SQLite database) and a
real worker that evaluates every pair in its sandboxed child and decides it.

Threat model, stronger than reality: the attacker knows the holdout's *features* (never its
labels) and the base model (the documented default model, which it refits on the public train
split exactly as the platform does). It can therefore write a rule that picks exactly the
holdout rows it wants (``key in [v1, v2, ...]`` on a column whose holdout values are distinct)
and an h that predicts, on every one of them, whatever it likes: the head model's prediction on
padding rows (which changes no loss) and the flipped prediction on the rows it probes.

Each submission flips ``k`` target rows inside a group padded to ``min_group_rows``. The net
number of holdout rows fixed is ``2R - k``, ``R`` the number of right flips; the attacker keeps
the values of ``R`` that every channel allows: the outcome (accepted iff the net reaches
``alpha * n_holdout`` rows and is positive), the reason (``no_improvement``: net <= 0,
``below_threshold``: 0 < net < threshold), the verdict's holdout numbers (within the documented
rounding), its leaderboard improvement and the head version's holdout loss (``/versions``).
When ``R`` is settled (or a majority is sure) it guesses the targets' labels; otherwise it keeps
the baseline guess. The baseline is what the public train split already gives: the base
model's prediction.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from fastapi.testclient import TestClient
from scipy.stats import binomtest
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.core.db import make_engine, make_session_factory
from app.core.migrate import upgrade
from app.core.settings import Settings
from app.core.storage import LocalStore
from app.rounds.disclosure import step_at_least
from app.rounds.engine_view import load_split
from app.rounds.models import Round
from app.worker.runner import Worker
from bounty_engine.baseline import train_default_model
from bounty_engine.data import label_values, prepare_features
from bounty_engine.models import dump_sklearn_model, load_model
from bounty_engine.schema import FeatureKind, FeatureSchema
from tests.support.api import Account, account
from tests.support.apps import lent_app
from tests.support.rounds import upload_dataset

Labels = npt.NDArray[Any]

# Fields of a submission that differ between any two submissions whatever the holdout holds.
_BOOKKEEPING = ("id", "created_at", "decided_at", "url", "group_expression", "note")


@dataclass(frozen=True)
class Service:
    """The app on a fresh committed database, its organizer and a worker."""

    client: TestClient
    factory: sessionmaker[Session]
    store: LocalStore
    worker: Worker
    organizer: Account

    def drain(self) -> int:
        """Evaluate and decide everything queued; returns how many jobs ran."""
        done = 0
        while self.worker.run_once():
            done += 1
        return done


@contextmanager
def probing_service(folder: Path) -> Iterator[Service]:
    """The real app and a real worker on a SQLite database in ``folder``."""
    url = f"sqlite:///{folder / 'bounty.db'}"
    upgrade(url)
    settings = Settings(
        environment="test",
        database_url=url,
        storage_dir=folder / "artifacts",
        frontend_dir=folder / "no-web-app",
        worker_poll_seconds=3600,
    )
    factory = make_session_factory(make_engine(url))
    store = LocalStore(settings.storage_dir)
    with lent_app(settings, session_factory=factory, store=store) as app, TestClient(app) as client:
        organizer = account(client, factory, "organizer@probe.example", Role.ORGANIZER)
        worker = Worker(factory, store, settings, name="probe", cache_dir=folder / "cache")
        yield Service(client, factory, store, worker, organizer)


@dataclass(frozen=True)
class ProbeRound:
    """An open round and the attacker's account, a member of a team on it."""

    slug: str
    member: Account


def open_probe_round(
    service: Service, frame: pd.DataFrame, name: str, budget: int, **rules: Any
) -> ProbeRound:
    """An open round on ``frame`` (label ``y``) with the API's defaults except ``rules``, the
    default base model, and the attacker's team. The daily quota is raised to ``budget``."""
    client, organizer = service.client, service.organizer
    body = {"title": f"Probing: {name}", "daily_quota": budget, **rules}
    created = client.post("/api/v1/rounds", json=body, headers=organizer.headers)
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    upload_dataset(client, organizer, slug, frame)
    for step in ("base-model/default", "open"):
        done = client.post(f"/api/v1/rounds/{slug}/{step}", headers=organizer.headers)
        assert done.status_code == 200, done.text
    member = account(client, service.factory, f"attacker-{slug}@probe.example")
    team = client.post(f"/api/v1/rounds/{slug}/teams", json={"name": "A"}, headers=member.headers)
    assert team.status_code == 201, team.text
    return ProbeRound(slug, member)


@dataclass(frozen=True)
class Knowledge:
    """What the attacker is granted: the holdout's features and the base model's view of them."""

    features: pd.DataFrame
    key: str  # a numeric column whose holdout values are all distinct
    head: Labels  # the base model's predicted labels on the holdout
    confidence: npt.NDArray[np.float64]  # |P(class 1) - 0.5| by the base model
    classes: tuple[Any, Any]


def grant_knowledge(service: Service, probe: ProbeRound) -> tuple[Knowledge, Labels]:
    """The attacker's knowledge, and the holdout labels (for scoring only, never given to it).

    The attacker refits the base model on the public train split; this checks that it predicts
    on the holdout exactly what the platform's stored base model predicts.
    """
    client = service.client
    schema = FeatureSchema.model_validate(
        client.get(f"/api/v1/rounds/{probe.slug}/schema", headers=probe.member.headers).json()
    )
    train = pd.read_parquet(
        io.BytesIO(client.get(f"/api/v1/rounds/{probe.slug}/data/train.parquet").content)
    )
    with service.factory() as session:
        round_ = session.scalars(select(Round).where(Round.slug == probe.slug)).one()
        holdout = load_split(service.store, round_, "holdout")
        base_sha = round_.base_model_sha
    assert base_sha is not None
    features = prepare_features(holdout, schema)
    base = train_default_model(train, schema)
    head = np.asarray(base.predict(features))
    stored = load_model(service.store.read_bytes(base_sha), feature_names=schema.feature_names)
    assert np.array_equal(head, np.asarray(stored.predict(features))), "f0 refit differs"
    classes = tuple(base.classes_)
    assert len(classes) == 2, "the probe flips binary labels"
    confidence = np.abs(base.predict_proba(features)[:, 1] - 0.5)
    key = next(
        f.name
        for f in schema.features
        if f.kind is FeatureKind.NUMERIC and features[f.name].is_unique
    )
    labels = label_values(holdout, schema)
    return Knowledge(features, key, head, confidence, (classes[0], classes[1])), labels


@dataclass
class Observation:
    """What one submission showed the attacker, and the flip counts it allows."""

    submission_id: int
    flips: list[int]
    view: dict[str, Any]
    candidates: set[int]

    @property
    def accepted(self) -> bool:
        """Whether the submission was accepted."""
        return bool(self.view["verdict"]["outcome"] == "accepted")


@dataclass
class Attack:
    """The transcript of one run and the attacker's final guesses on the rows it probed."""

    guesses: dict[int, Any] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)
    accepted: int = 0

    @property
    def submissions(self) -> int:
        """Submissions spent."""
        return len(self.observations)

    def distinct_views(self, *, rejected_only: bool = False) -> int:
        """Distinct participant-visible answers (bookkeeping fields aside)."""
        shown = (o for o in self.observations if not (rejected_only and o.accepted))
        return len({json.dumps(o.view, sort_keys=True) for o in shown})


class Attacker:
    """Flips ``flips`` target rows per submission (``None``: as many as the round's threshold
    in rows, so that an acceptance means every flip was right), up to ``repeats`` near-identical
    submissions (fresh padding) per target set while what they show leaves it unsettled."""

    def __init__(
        self,
        service: Service,
        probe: ProbeRound,
        knowledge: Knowledge,
        *,
        flips: int | None = 1,
        repeats: int = 1,
    ) -> None:
        self.service, self.probe, self.know = service, probe, knowledge
        found = service.client.get(f"/api/v1/rounds/{probe.slug}").json()
        rules, meaning = found["rules"], found["alpha_meaning"]
        self.min_rows = int(rules["min_group_rows"])
        self.n = int(meaning["n_holdout"])
        # Accepted iff the net rows fixed reach alpha * n exactly (the engine compares the
        # float alpha exactly, which can be a row more than alpha_meaning says) and exceed 0.
        self.threshold = max(1, math.ceil(Fraction(float(rules["alpha"])) * self.n))
        self.disclosure = str(rules["disclosure"])
        self.k = max(1, self.threshold if flips is None else flips)
        self.repeats = repeats
        self.head = knowledge.head.copy()
        order = np.argsort(knowledge.confidence, kind="stable")
        self.targets = [int(i) for i in order[: len(order) // 2]]  # least sure first
        self.padding = [int(i) for i in order[len(order) // 2 :][::-1]]  # surest first
        self._pad_at = 0

    def run(self, budget: int) -> Attack:
        """Spend ``budget`` submissions; returns the transcript and the guesses."""
        attack = Attack()
        queue = iter(self.targets)
        while attack.submissions < budget:
            flips = [row for _, row in zip(range(self.k), queue, strict=False)]
            if len(flips) < self.k:
                break  # no target rows left
            allowed = set(range(self.k + 1))
            for _ in range(self.repeats):
                if attack.submissions >= budget:
                    break
                seen = self._probe(flips)
                attack.observations.append(seen)
                attack.accepted += seen.accepted
                allowed &= seen.candidates
                if len(allowed) <= 1 or seen.accepted:
                    break
            flipped = self._decide(allowed)
            for row in flips:
                attack.guesses[row] = self._flip(row) if flipped else self.head[row]
            if attack.observations[-1].accepted:
                for row in flips:  # the head now predicts the flipped labels there
                    self.head[row] = self._flip(row)
        return attack

    def _decide(self, allowed: set[int]) -> bool:
        """Guess the flips right only if every allowed count of right flips is a majority."""
        return bool(allowed) and min(allowed) * 2 > self.k

    def _flip(self, row: int) -> Any:
        a, b = self.know.classes
        return b if self.head[row] == a else a

    def _next_padding(self, count: int) -> list[int]:
        rows = [self.padding[(self._pad_at + i) % len(self.padding)] for i in range(count)]
        self._pad_at += count
        return rows

    def _probe(self, flips: list[int]) -> Observation:
        rows = flips + self._next_padding(max(self.min_rows - len(flips), 0))
        wanted = [self._flip(r) if r in flips else self.head[r] for r in rows]
        values = self.know.features[self.know.key].to_numpy()[rows]
        rule = f"{self.know.key} in [{', '.join(repr(float(v)) for v in values)}]"
        before = self._public()
        client, headers = self.service.client, self.probe.member.headers
        sent = client.post(
            f"/api/v1/rounds/{self.probe.slug}/submissions",
            data={"group_expression": rule},
            files={"model": ("h.skops", self._model(values, wanted), "application/octet-stream")},
            headers=headers,
        )
        assert sent.status_code == 202, sent.text
        self.service.drain()
        got = client.get(sent.json()["submission"]["url"], headers=headers).json()
        assert got["status"] == "decided", got
        after = self._public()
        delta = (after[0] - before[0], after[1] - before[1])
        view = {k: v for k, v in got.items() if k not in _BOOKKEEPING}
        view["verdict"] = {k: v for k, v in got["verdict"].items() if k != "version"}
        candidates = self._candidates(got["verdict"], len(rows), delta)
        return Observation(int(got["id"]), flips, view, candidates)

    def _model(self, values: npt.NDArray[Any], wanted: list[Any]) -> bytes:
        """h: a tree on the key column that predicts ``wanted`` on exactly those values."""
        model = Pipeline(
            [
                ("key", ColumnTransformer([("key", "passthrough", [self.know.key])])),
                ("tree", DecisionTreeClassifier(random_state=0)),
            ]
        )
        model.fit(pd.DataFrame({self.know.key: values}), np.asarray(wanted))
        return dump_sklearn_model(model)

    def _public(self) -> tuple[float, float]:
        """The team's leaderboard improvement and the head version's holdout loss, as shown
        to anyone (0 where not disclosed)."""
        client, slug = self.service.client, self.probe.slug
        board = client.get(f"/api/v1/rounds/{slug}/leaderboard").json()
        improvement = board["entries"][0]["improvement"] if board["entries"] else None
        head = client.get(f"/api/v1/rounds/{slug}/versions").json()[-1]["holdout_loss"]
        return float(improvement or 0.0), float(head or 0.0)

    def _candidates(
        self, verdict: dict[str, Any], n_group: int, delta: tuple[float, float]
    ) -> set[int]:
        """The counts of right flips (0..k) consistent with everything the verdict showed."""
        nets = {r: 2 * r - self.k for r in range(self.k + 1)}
        accepted = verdict["outcome"] == "accepted"
        reason = verdict["reason"]
        keep = set()
        for r, net in nets.items():
            if accepted != (net >= self.threshold):
                continue
            if reason == "no_improvement" and net > 0:
                continue
            if reason == "below_threshold" and not 0 < net < self.threshold:
                continue
            if not self._numbers_allow(verdict.get("holdout"), n_group, net, delta):
                continue
            keep.add(r)
        return keep

    def _numbers_allow(
        self, stats: dict[str, Any] | None, n_group: int, net: int, delta: tuple[float, float]
    ) -> bool:
        """Whether the shown holdout numbers, and the change of the public ones, fit ``net``
        rows fixed, within the documented rounding (exact rounds: within float error)."""
        exact = self.disclosure == "exact"
        # Public means are rounded (the leaderboard's to its step, /versions' to 4 decimals):
        # a change between two of them is off by up to one step of the coarser rounding.
        public_step = 0.0 if exact else max(step_at_least(1 / (2 * math.sqrt(self.n))), 1e-4)
        improvement, head_loss = delta
        for change in (improvement, -head_loss):
            if change and abs(change * self.n - net) > self.n * public_step + 1e-6:
                return False
        if stats is None:
            return True
        score_step = 0.0 if exact else step_at_least(math.sqrt(n_group) / (2 * self.n))
        if abs(stats["score"] * self.n - net) > self.n * score_step / 2 + 1e-6:
            return False
        before, after = stats["group_loss_before"], stats["group_loss_after"]
        if before is None or after is None:
            return True
        loss_step = 0.0 if exact else step_at_least(1 / (2 * math.sqrt(n_group)))
        return bool(abs((before - after) * n_group - net) <= n_group * loss_step + 1e-6)


@dataclass(frozen=True)
class Figures:
    """Labels recovered beyond chance on the rows the attacker probed, with a 95% interval."""

    setting: str
    submissions: int
    accepted: int
    targets: int
    attack_correct: int
    baseline_correct: int
    gain: float  # (attack_correct - baseline_correct) / targets
    low: float
    high: float
    distinct_views: int

    @property
    def per_submission(self) -> float:
        """Labels recovered beyond chance per submission spent."""
        return (self.attack_correct - self.baseline_correct) / max(self.submissions, 1)


def score(setting: str, attack: Attack, baseline: Labels, labels: Labels) -> Figures:
    """Compare the attacker's guesses with the baseline's on the same rows.

    The interval is exact (Clopper-Pearson) on the rows where the two guesses differ: on those,
    one of them is right, and the gain is (2p - 1) * discordant / targets.
    """
    rows = sorted(attack.guesses)
    guess = np.asarray([attack.guesses[r] for r in rows])
    truth, base = labels[rows], baseline[rows]
    attack_right, base_right = guess == truth, base == truth
    discordant = int(np.sum(attack_right != base_right))
    wins = int(np.sum(attack_right & ~base_right))
    n = max(len(rows), 1)
    low = high = 0.0
    if discordant:
        ci = binomtest(wins, discordant).proportion_ci(confidence_level=0.95, method="exact")
        low, high = ((2 * p - 1) * discordant / n for p in (ci.low, ci.high))
    return Figures(
        setting=setting,
        submissions=attack.submissions,
        accepted=attack.accepted,
        targets=len(rows),
        attack_correct=int(attack_right.sum()),
        baseline_correct=int(base_right.sum()),
        gain=(int(attack_right.sum()) - int(base_right.sum())) / n,
        low=low,
        high=high,
        distinct_views=attack.distinct_views(),
    )
