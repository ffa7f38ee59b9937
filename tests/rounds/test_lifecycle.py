"""Base models, the open / freeze / close lifecycle, versions, and what is never served."""

from __future__ import annotations

import math
import pickle
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.core.settings import Settings
from app.rounds.disclosure import round_to_step, step_at_least
from app.rounds.models import Round
from bounty_engine.baseline import train_default_model
from bounty_engine.data import infer_schema
from bounty_engine.models import dump_sklearn_model
from tests.support.api import Account, account
from tests.support.rounds import create_round, open_round, synthetic_frame, upload_dataset

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py

MAX_MODEL_BYTES = 200_000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings with a small model size cap."""
    return settings.model_copy(update={"max_model_bytes": MAX_MODEL_BYTES})


@pytest.fixture
def organizer(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    return account(client, session_factory, "org@example.org", Role.ORGANIZER)


@pytest.fixture
def participant(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    return account(client, session_factory, "pat@example.org")


def upload_model(client: TestClient, organizer: Account, slug: str, data: bytes) -> Response:
    response: Response = client.post(
        f"/api/v1/rounds/{slug}/base-model",
        files={"file": ("model.skops", data, "application/octet-stream")},
        headers=organizer.headers,
    )
    return response


def draft_with_data(client: TestClient, organizer: Account, **settings: object) -> str:
    slug: str = create_round(client, organizer, **settings)["slug"]
    upload_dataset(client, organizer, slug)
    return slug


def test_uploaded_skops_model_becomes_the_base(client: TestClient, organizer: Account) -> None:
    slug = draft_with_data(client, organizer)
    frame = synthetic_frame(300, seed=3)
    data = dump_sklearn_model(train_default_model(frame, infer_schema(frame, "y")))
    response = upload_model(client, organizer, slug, data)
    assert response.status_code == 200, response.text
    assert response.json()["source"] == "upload"
    assert response.json()["format"] == "skops"
    opened = client.post(f"/api/v1/rounds/{slug}/open", headers=organizer.headers)
    assert opened.status_code == 200, opened.text
    assert opened.json()["base_model"]["source"] == "upload"


def test_hostile_pickle_is_refused(client: TestClient, organizer: Account) -> None:
    slug = draft_with_data(client, organizer)
    response = upload_model(client, organizer, slug, pickle.dumps({"weights": [1.0, 2.0]}))
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/invalid-model"
    assert "pickle" in problem["detail"]
    shown = client.get(f"/api/v1/rounds/{slug}", headers=organizer.headers).json()
    assert shown["base_model"] is None


def test_model_predicting_other_labels_is_refused(client: TestClient, organizer: Account) -> None:
    slug = draft_with_data(client, organizer)
    frame = synthetic_frame(300, seed=3)
    frame["y"] += 5  # classes 5 and 6: not the round's 0 and 1
    data = dump_sklearn_model(train_default_model(frame, infer_schema(frame, "y")))
    response = upload_model(client, organizer, slug, data)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/invalid-predictions"
    assert "not in the round's label set" in problem["detail"]


def test_oversized_model_is_413(client: TestClient, organizer: Account) -> None:
    slug = draft_with_data(client, organizer)
    response = upload_model(client, organizer, slug, b"PK" + b"\x00" * MAX_MODEL_BYTES)
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/file-too-large"


def test_base_model_needs_data_first(client: TestClient, organizer: Account) -> None:
    slug = create_round(client, organizer)["slug"]
    for path in ("/base-model/default", "/open"):
        response = client.post(f"/api/v1/rounds/{slug}{path}", headers=organizer.headers)
        assert response.status_code == 409, path
        assert response.json()["type"] == "/problems/no-dataset"
    uploaded = upload_model(client, organizer, slug, b"PK")
    assert uploaded.status_code == 409


def test_open_needs_a_base_model(client: TestClient, organizer: Account) -> None:
    slug = draft_with_data(client, organizer)
    response = client.post(f"/api/v1/rounds/{slug}/open", headers=organizer.headers)
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/no-base-model"
    assert client.get(f"/api/v1/rounds/{slug}", headers=organizer.headers).json()["status"] == (
        "draft"
    )


def test_lifecycle_transitions_and_refusals(
    client: TestClient, organizer: Account, db: Session
) -> None:
    slug = draft_with_data(client, organizer)
    url = f"/api/v1/rounds/{slug}"

    def step(action: str) -> tuple[int, str]:
        response = client.post(f"{url}/{action}", headers=organizer.headers)
        body = response.json()
        return response.status_code, body.get("status") if response.is_success else body["type"]

    conflict = (409, "/problems/invalid-round-status")
    assert step("freeze") == conflict
    assert step("close") == conflict
    assert client.post(f"{url}/base-model/default", headers=organizer.headers).is_success
    assert step("open") == (200, "open")
    assert step("open") == conflict
    assert client.post(f"{url}/base-model/default", headers=organizer.headers).status_code == 409
    assert step("freeze") == (200, "frozen")
    assert step("freeze") == conflict
    assert step("open") == conflict
    assert step("close") == (200, "closed")
    for action in ("open", "freeze", "close"):
        assert step(action) == conflict
    detail = client.post(f"{url}/freeze", headers=organizer.headers).json()["detail"]
    assert detail == "cannot freeze the round: the round is closed, and this needs it to be open"
    closed = client.get(url).json()
    assert closed["closes_at"] is not None
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["round.opened", "round.frozen", "round.closed"]
    versions = client.get(f"{url}/versions").json()
    assert [v["version"] for v in versions] == [0]


def test_a_schedule_that_already_ended_is_refused_at_creation_and_at_opening(
    client: TestClient, organizer: Account, db: Session
) -> None:
    past = client.post(
        "/api/v1/rounds",
        json={"title": "Late", "closes_at": "2001-01-01T00:00:00Z"},
        headers=organizer.headers,
    )
    assert past.status_code == 422
    assert "in the past" in str(past.json()["errors"])
    slug = draft_with_data(client, organizer, closes_at="2999-01-01T00:00:00Z")
    client.post(f"/api/v1/rounds/{slug}/base-model/default", headers=organizer.headers)
    # Time passes: the closing date is behind us by the time the organizer opens the round.
    db.execute(update(Round).where(Round.slug == slug).values(closes_at=utcnow() - timedelta(1)))
    db.flush()
    response = client.post(f"/api/v1/rounds/{slug}/open", headers=organizer.headers)
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/schedule-passed"


ROUNDED_STEP = step_at_least(1 / (2 * math.sqrt(420)))  # one row's loss / (2 sqrt(n))


@pytest.mark.parametrize(
    ("disclosure", "shown"),
    [
        ("rounded", lambda x: round_to_step(x, ROUNDED_STEP)),
        ("exact", lambda x: x),
        ("none", lambda x: None),
    ],
)
def test_versions_disclose_holdout_loss_as_configured(
    client: TestClient,
    organizer: Account,
    participant: Account,
    disclosure: str,
    shown: object,
) -> None:
    # 420 holdout rows: the base model's 0-1 loss has more than 4 decimals
    slug = open_round(client, organizer, synthetic_frame(2100), disclosure=disclosure)["slug"]
    exact = client.get(f"/api/v1/rounds/{slug}/versions", headers=organizer.headers).json()[0]
    assert exact["holdout_loss"] != round_to_step(exact["holdout_loss"], ROUNDED_STEP)
    for who in ({}, participant.headers):
        public = client.get(f"/api/v1/rounds/{slug}/versions", headers=who).json()[0]
        assert public["holdout_loss"] == shown(exact["holdout_loss"])  # type: ignore[operator]
        assert public["train_loss"] == exact["train_loss"]
        assert public["test_loss"] is None


HIDDEN_OR_UNKNOWN = [
    "holdout.csv",
    "holdout.parquet",
    "test.csv",
    "test.parquet",
    "train.json",
    "train",
    "holdout",
    "..%2Fholdout.csv",
    "train.csv%00.parquet",
    "TRAIN.CSV",
]


def test_holdout_and_test_data_are_never_served(
    client: TestClient, organizer: Account, participant: Account
) -> None:
    slug = open_round(client, organizer)["slug"]
    for name in HIDDEN_OR_UNKNOWN:
        for who in ({}, participant.headers, organizer.headers):
            response = client.get(f"/api/v1/rounds/{slug}/data/{name}", headers=who)
            assert response.status_code == 404, (name, who)
            assert response.headers["content-type"] == "application/problem+json"
    assert client.get(f"/api/v1/rounds/{slug}/data/train.csv").status_code == 200
