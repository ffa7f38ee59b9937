"""A round scored by a cost matrix, end to end through the API: its versions' losses are the
weighted per-row costs (checked against the matrix here), and a pair is judged by them."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.rounds.models import ModelVersion
from app.worker.runner import Worker
from bounty_client.check import round_rules
from bounty_client.models import RulesOut
from tests.submissions.conftest import build_arena, drain
from tests.support.rounds import LABEL

COSTS = [[0, 3], [1, 0]]  # truth 0 predicted 1 (a false positive) costs 3; the reverse 1


def weighted(truth: pd.Series, predicted: pd.Series, classes: list[object]) -> float:
    """The mean cost of ``predicted`` against ``truth``, computed here from the matrix."""
    code = {value: i for i, value in enumerate(classes)}
    table = np.array(COSTS)
    return float(table[truth.map(code).to_numpy(), predicted.map(code).to_numpy()].mean())


def test_a_cost_round_scores_every_version_by_the_matrix(
    client: TestClient, session_factory: sessionmaker[Session], worker: Worker, db: Session
) -> None:
    arena = build_arena(client, session_factory, loss="cost", loss_costs=COSTS)
    url = f"/api/v1/rounds/{arena.slug}"
    shown = client.get(url).json()
    assert shown["rules"]["loss"] == "cost"
    assert shown["rules"]["loss_costs"] == COSTS
    assert "total cost of the errors" in shown["alpha_meaning"]["summary"]
    classes = client.get(f"{url}/schema").json()["label"]["classes"]
    negative, positive = classes
    assert shown["costs_explained"] == (
        f"Predicting {positive} when the truth is {negative} costs 3; predicting {negative} "
        f"when the truth is {positive} costs 1; right predictions cost nothing."
    )
    # A participant's local check scores with the same matrix.
    local = round_rules(RulesOut.model_validate(shown["rules"]))
    assert local.loss.costs == ((0, 3), (1, 0))

    def train_loss_of_the_head() -> float:
        predictions = pd.read_parquet(
            io.BytesIO(client.get(f"{url}/data/train-predictions.parquet").content)
        )["prediction"]
        return weighted(arena.train[LABEL], predictions, classes)

    base = db.scalars(select(ModelVersion).where(ModelVersion.version == 0)).one()
    assert base.train_loss == train_loss_of_the_head()

    expression = arena.planted[0]
    answer = arena.submit(expression, arena.patch_model(expression))
    assert answer.status_code == 202, answer.text
    assert drain(worker) == 1
    verdict = client.get(
        answer.json()["submission"]["url"], headers=arena.organizer.headers
    ).json()["verdict"]
    assert verdict["outcome"] == "accepted", verdict
    db.expire_all()
    head = db.scalars(select(ModelVersion).where(ModelVersion.version == 1)).one()
    assert head.train_loss == train_loss_of_the_head()
    assert head.holdout_loss < base.holdout_loss
    # The holdout score is the fall of the round's mean cost, as the organizer sees it exactly.
    assert verdict["holdout"]["score"] == base.holdout_loss - head.holdout_loss
