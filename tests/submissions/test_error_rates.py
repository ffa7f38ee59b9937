"""The group's false-positive and false-negative rates in verdicts and on the accepted-groups
board: on the public train split they are fairlearn's rates of the model before and after (the
train predictions are public, so they are checked here with fairlearn itself); on the holdout
the organizer sees them exactly and a participant as the round discloses them."""

from __future__ import annotations

import io
import math
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_negative_rate, false_positive_rate
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.rounds.disclosure import round_to_step, step_at_least
from app.submissions.models import Submission
from app.submissions.verdict_record import StoredVerdict
from app.worker.runner import Worker
from bounty_engine.data import prepare_features
from bounty_engine.groups import RuleGroup
from bounty_engine.schema import FeatureSchema
from tests.submissions.conftest import Arena, build_arena, drain
from tests.support.rounds import LABEL

RATES = ("false_positive_rate", "false_negative_rate")


def fairlearn_rates(
    truth: pd.Series, predicted: pd.Series, mask: np.ndarray, positive: Any
) -> dict[str, float]:
    metrics = {
        "false_positive_rate": partial(false_positive_rate, pos_label=positive),
        "false_negative_rate": partial(false_negative_rate, pos_label=positive),
    }
    frame = MetricFrame(metrics=metrics, y_true=truth, y_pred=predicted, sensitive_features=mask)
    return {name: float(frame.by_group.loc[True, name]) for name in RATES}


def train_predictions(arena: Arena) -> pd.Series:
    raw = arena.client.get(f"/api/v1/rounds/{arena.slug}/data/train-predictions.parquet").content
    return pd.read_parquet(io.BytesIO(raw))["prediction"]


def accepted(arena: Arena, worker: Worker, expression: str) -> tuple[int, dict, dict]:
    """Submit the planted group's patch; its id and its verdict as organizer and member see it."""
    answer = arena.submit(expression, arena.patch_model(expression))
    assert answer.status_code == 202, answer.text
    assert drain(worker) == 1
    url = answer.json()["submission"]["url"]
    as_organizer = arena.client.get(url, headers=arena.organizer.headers).json()["verdict"]
    as_member = arena.client.get(url, headers=arena.member.headers).json()["verdict"]
    assert as_organizer["outcome"] == "accepted", as_organizer
    return answer.json()["submission"]["id"], as_organizer, as_member


@pytest.mark.parametrize("loss", [{}, {"loss": "cost", "loss_costs": [[0, 3], [1, 0]]}])
def test_verdicts_and_the_board_show_the_groups_error_rates_before_and_after(
    client: TestClient,
    session_factory: sessionmaker[Session],
    worker: Worker,
    db: Session,
    loss: dict,
) -> None:
    arena = build_arena(client, session_factory, **loss)
    url = f"/api/v1/rounds/{arena.slug}"
    schema = FeatureSchema.model_validate(client.get(f"{url}/schema").json())
    positive = schema.label.classes[1]
    expression = arena.planted[0]
    mask = RuleGroup.parse(expression, schema).mask(prepare_features(arena.train, schema))
    truth = arena.train[LABEL]
    before = train_predictions(arena)

    sub_id, as_organizer, as_member = accepted(arena, worker, expression)

    # Train: exact for everyone, and fairlearn's own figures.
    after = train_predictions(arena)
    want = {
        "before": fairlearn_rates(truth, before, mask, positive),
        "after": fairlearn_rates(truth, after, mask, positive),
    }
    for verdict in (as_organizer, as_member):
        for when, rates in want.items():
            for name, value in rates.items():
                assert verdict["train"][f"{name}_{when}"] == pytest.approx(value, abs=1e-12)
    assert want["after"] != want["before"]

    # Holdout: the organizer sees the stored counts' rates exactly; the member, rounded to a
    # step no finer than each rate's sampling error.
    stored = StoredVerdict.of(db.get(Submission, sub_id)).split("holdout")
    assert stored is not None
    for when in ("before", "after"):
        counts = getattr(stored, f"rates_{when}")
        for name, errors, rows in (
            ("false_positive_rate", counts.false_positives, counts.negatives),
            ("false_negative_rate", counts.false_negatives, counts.positives),
        ):
            exact = errors / rows
            key = f"{name}_{when}"
            assert as_organizer["holdout"][key] == exact
            step = step_at_least(1 / (2 * math.sqrt(rows)))
            assert as_member["holdout"][key] == round_to_step(exact, step)

    # The accepted-groups board shows the member the same figures as the verdict.
    board = client.get(f"{url}/groups", headers=arena.member.headers).json()["groups"]
    assert [g["submission_id"] for g in board] == [sub_id]
    for when in ("before", "after"):
        for name in RATES:
            assert board[0][f"{name}_{when}"] == as_member["holdout"][f"{name}_{when}"]


def test_a_round_that_discloses_nothing_shows_no_holdout_rates(
    client: TestClient, session_factory: sessionmaker[Session], worker: Worker
) -> None:
    arena = build_arena(client, session_factory, disclosure="none")
    _, as_organizer, as_member = accepted(arena, worker, arena.planted[0])
    assert as_member["holdout"] is None
    assert as_organizer["holdout"]["false_positive_rate_before"] is not None
    board = client.get(f"/api/v1/rounds/{arena.slug}/groups", headers=arena.member.headers)
    assert all(
        board.json()["groups"][0][f"{name}_{when}"] is None
        for name in RATES
        for when in ("before", "after")
    )
