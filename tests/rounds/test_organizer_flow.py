"""The whole organizer flow on a small synthetic CSV, and what participants then see."""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.core.audit import AuditEvent
from app.rounds.disclosure import round_to_step, step_at_least
from app.rounds.models import ModelVersion, Round
from bounty_engine.data import read_table, split_frame
from tests.support.api import Account, account
from tests.support.rounds import FRACTIONS, csv_bytes, synthetic_frame

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py

FEATURES = ["x0", "x1", "x2", "x3", "c0", "c1"]
DESCRIPTION = "# Rules\n\n*Be kind.* <b>raw</b>"


def create_draft(client: TestClient, organizer: Account) -> str:
    body = {
        "title": "Income: Autumn 2026!",
        "description": DESCRIPTION,
        "alpha": 0.002,
        "min_group_rows": 25,
    }
    created = client.post("/api/v1/rounds", json=body, headers=organizer.headers)
    assert created.status_code == 201, created.text
    shown = created.json()
    assert (shown["slug"], shown["status"]) == ("income-autumn-2026", "draft")
    assert shown["description"] == DESCRIPTION
    assert (shown["data"], shown["base_model"], shown["alpha_meaning"]) == (None, None, None)
    slug: str = shown["slug"]
    return slug


def upload(client: TestClient, organizer: Account, slug: str, frame: pd.DataFrame) -> Any:
    uploaded = client.post(
        f"/api/v1/rounds/{slug}/dataset",
        data={"label": "y", "seed": "7"},
        files={"file": ("synthetic.csv", csv_bytes(frame), "text/csv")},
        headers=organizer.headers,
    )
    assert uploaded.status_code == 200, uploaded.text
    dataset = uploaded.json()
    assert [f["name"] for f in dataset["feature_schema"]["features"]] == FEATURES
    assert dataset["feature_schema"]["label"] == {
        "name": "y",
        "task": "classification",
        "classes": [0, 1],
    }
    data = dataset["data"]
    assert (data["n_train"], data["n_holdout"], data["n_test"]) == (1200, 400, 400)
    assert (data["split_fractions"], data["split_seed"]) == (list(FRACTIONS), 7)
    meaning = dataset["alpha_meaning"]
    assert meaning["min_loss_reduction"] == pytest.approx(0.8)
    assert meaning["min_rows_fixed"] == 1
    assert "400 holdout rows" in meaning["summary"]
    return dataset


def check_stored(db: Session, slug: str) -> ModelVersion:
    stored = db.scalar(select(Round).where(Round.slug == slug))
    assert stored is not None
    version0 = db.scalar(select(ModelVersion).where(ModelVersion.round_id == stored.id))
    assert version0 is not None
    assert version0.kind == "base"
    assert 0.0 < version0.holdout_loss < 0.5
    assert version0.test_loss is not None
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.round_id == stored.id).order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "round.created",
        "round.dataset_uploaded",
        "round.base_model_set",
        "round.opened",
    ]
    return version0


def check_downloads(client: TestClient, slug: str, frame: pd.DataFrame, who: Account) -> None:
    """Both downloads are exactly the train split: same rows, no holdout or test row."""
    expected = split_frame(read_table(csv_bytes(frame)), FRACTIONS, seed=7)
    train = expected.train.reset_index(drop=True)
    hidden = np.concatenate([expected.holdout["x0"], expected.test["x0"]])
    as_csv = client.get(f"/api/v1/rounds/{slug}/data/train.csv", headers=who.headers)
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    as_parquet = client.get(f"/api/v1/rounds/{slug}/data/train.parquet")
    assert as_parquet.status_code == 200
    for downloaded in (
        read_table(as_csv.content, format="csv"),
        pd.read_parquet(io.BytesIO(as_parquet.content)),
    ):
        assert list(downloaded.columns) == [*FEATURES, "y"]
        pd.testing.assert_frame_equal(downloaded, train, check_dtype=False, check_exact=True)
        assert not np.isin(downloaded["x0"].to_numpy(), hidden).any()


def test_create_upload_train_open_and_publish(
    client: TestClient, session_factory: sessionmaker[Session], db: Session
) -> None:
    organizer = account(client, session_factory, "org@example.org", Role.ORGANIZER)
    participant = account(client, session_factory, "pat@example.org")
    frame = synthetic_frame()
    slug = create_draft(client, organizer)
    dataset = upload(client, organizer, slug, frame)

    trained = client.post(f"/api/v1/rounds/{slug}/base-model/default", headers=organizer.headers)
    assert trained.status_code == 200, trained.text
    assert (trained.json()["source"], trained.json()["format"]) == ("default", "skops")
    # still a draft: the participant sees nothing
    assert client.get(f"/api/v1/rounds/{slug}", headers=participant.headers).status_code == 404

    opened = client.post(f"/api/v1/rounds/{slug}/open", headers=organizer.headers)
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "open"
    assert opened.json()["opens_at"] is not None
    version0 = check_stored(db, slug)
    # the split seed (which rows went where) stays with the organizer
    seen = client.get(f"/api/v1/rounds/{slug}", headers=participant.headers).json()
    assert seen["data"]["n_holdout"] == 400
    assert seen["data"]["split_seed"] is None
    own_view = client.get(f"/api/v1/rounds/{slug}", headers=organizer.headers).json()
    assert own_view["data"]["split_seed"] == 7

    public = client.get(f"/api/v1/rounds/{slug}/versions").json()
    assert [(v["version"], v["kind"]) for v in public] == [(0, "base")]
    step = step_at_least(1 / (2 * math.sqrt(400)))  # rounded to the holdout's sampling error
    assert public[0]["holdout_loss"] == round_to_step(version0.holdout_loss, step)
    assert abs(public[0]["holdout_loss"] - version0.holdout_loss) <= step / 2
    assert public[0]["train_loss"] == version0.train_loss
    assert public[0]["test_loss"] is None
    own = client.get(f"/api/v1/rounds/{slug}/versions", headers=organizer.headers).json()
    assert (own[0]["holdout_loss"], own[0]["test_loss"]) == (
        version0.holdout_loss,
        version0.test_loss,
    )

    schema = client.get(f"/api/v1/rounds/{slug}/schema")
    assert schema.status_code == 200
    assert schema.json() == dataset["feature_schema"]
    check_downloads(client, slug, frame, participant)
