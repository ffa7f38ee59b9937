"""Dataset uploads: one table split at random, three given splits, Parquet, and refusals."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.core.audit import AuditEvent
from bounty_engine.data import infer_schema, read_table
from bounty_engine.errors import DataError
from bounty_engine.schema import Task
from tests.support.api import Account, account
from tests.support.rounds import create_round, csv_bytes, open_round, synthetic_frame

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py


@pytest.fixture
def organizer(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    return account(client, session_factory, "org@example.org", Role.ORGANIZER)


def post_dataset(
    client: TestClient, organizer: Account, slug: str, files: dict[str, Any], **form: str
) -> Any:
    return client.post(
        f"/api/v1/rounds/{slug}/dataset",
        data={"label": "y", **form},
        files=files,
        headers=organizer.headers,
    )


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def test_three_given_splits_are_kept_as_they_are(
    client: TestClient, organizer: Account, db: Session
) -> None:
    frame = synthetic_frame(900)
    parts = {"train": frame[:500], "holdout": frame[500:800], "test": frame[800:]}
    slug = create_round(client, organizer)["slug"]
    files = {
        name: (f"{name}.csv", csv_bytes(part[[*reversed(part.columns)]]), "text/csv")
        for name, part in parts.items()
    }
    response = post_dataset(client, organizer, slug, files)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["n_train"], data["n_holdout"], data["n_test"]) == (500, 300, 100)
    assert data["split_seed"] is None
    assert data["split_fractions"] == pytest.approx([5 / 9, 3 / 9, 1 / 9])
    downloaded = client.get(f"/api/v1/rounds/{slug}/data/train.csv", headers=organizer.headers)
    assert downloaded.status_code == 200
    pd.testing.assert_frame_equal(
        pd.read_csv(io.BytesIO(downloaded.content)),
        parts["train"][[*reversed(frame.columns)]].reset_index(drop=True),
        check_dtype=False,
    )
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "round.dataset_uploaded"))
    assert event is not None
    assert set(event.detail["raw_sha256"]) == {"train", "holdout", "test"}


def test_parquet_upload_for_a_regression_round(client: TestClient, organizer: Account) -> None:
    frame = synthetic_frame(500, task=Task.REGRESSION)
    slug = create_round(client, organizer, loss="squared", loss_clip=4.0)["slug"]
    response = post_dataset(
        client,
        organizer,
        slug,
        {"file": ("rows.parquet", parquet_bytes(frame), "application/octet-stream")},
        train_fraction="0.5",
        holdout_fraction="0.5",
        test_fraction="0",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["feature_schema"]["label"]["task"] == "regression"
    assert (body["data"]["n_train"], body["data"]["n_holdout"], body["data"]["n_test"]) == (
        250,
        250,
        0,
    )
    assert body["alpha_meaning"]["min_rows_fixed"] is None
    assert body["alpha_meaning"]["min_loss_reduction"] == pytest.approx(0.25)
    assert (
        client.post(
            f"/api/v1/rounds/{slug}/base-model/default", headers=organizer.headers
        ).status_code
        == 200
    )
    opened = client.post(f"/api/v1/rounds/{slug}/open", headers=organizer.headers)
    assert opened.status_code == 200, opened.text
    versions = client.get(f"/api/v1/rounds/{slug}/versions", headers=organizer.headers).json()
    assert versions[0]["test_loss"] is None  # no test split
    assert 0 < versions[0]["holdout_loss"] <= 4.0


UNUSABLE_TABLES = [
    (b"a,y\n1,0\n2,1,7\n", "y", "is not a readable CSV file"),
    (b"\x00\x01\x02binary", "y", "is not a CSV or Parquet table"),
    (b"a,y\n1,0\n2,1\n", "income", "label column 'income' not found"),
    (b"a,y\n1,0\n2,0\n3,0\n", "y", "has a single value"),
    (b"a,y\n1,0\n2,\n3,1\n", "y", "has 1 missing value"),
]


def test_unusable_tables_are_422_with_the_engines_message(
    client: TestClient, organizer: Account, tmp_path: Path
) -> None:
    slug = create_round(client, organizer)["slug"]
    for content, label, message in UNUSABLE_TABLES:
        path = tmp_path / "bad.csv"
        path.write_bytes(content)
        with pytest.raises(DataError) as engine:
            infer_schema(read_table(path), label)
        response = client.post(
            f"/api/v1/rounds/{slug}/dataset",
            data={"label": label},
            files={"file": ("bad.csv", content, "text/csv")},
            headers=organizer.headers,
        )
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["type"] == "/problems/invalid-data"
        assert message in problem["detail"]
        assert problem["detail"] == str(engine.value)
    shown = client.get(f"/api/v1/rounds/{slug}", headers=organizer.headers).json()
    assert shown["data"] is None


def test_an_empty_upload_is_422_before_anything_reads_it(
    client: TestClient, organizer: Account
) -> None:
    slug = create_round(client, organizer)["slug"]
    response = client.post(
        f"/api/v1/rounds/{slug}/dataset",
        data={"label": "y"},
        files={"file": ("empty.csv", b"", "text/csv")},
        headers=organizer.headers,
    )
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/empty-file"
    assert response.json()["errors"] == [{"field": "file", "message": "empty file"}]
    shown = client.get(f"/api/v1/rounds/{slug}", headers=organizer.headers).json()
    assert shown["data"] is None


@pytest.mark.parametrize(
    ("loss", "label", "task"),
    [("squared", "c0", Task.CLASSIFICATION), ("zero_one", "y", Task.REGRESSION)],
)
def test_label_must_fit_the_loss(
    client: TestClient, organizer: Account, loss: str, label: str, task: Task
) -> None:
    slug = create_round(client, organizer, loss=loss)["slug"]
    response = client.post(
        f"/api/v1/rounds/{slug}/dataset",
        data={"label": label},
        files={"file": ("d.csv", csv_bytes(synthetic_frame(300, task=task)), "text/csv")},
        headers=organizer.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "/problems/loss-task-mismatch"
    assert f"label column {label!r}" in response.json()["detail"]


def test_bad_split_fractions_are_422(client: TestClient, organizer: Account) -> None:
    slug = create_round(client, organizer)["slug"]
    files = {"file": ("d.csv", csv_bytes(synthetic_frame(100)), "text/csv")}
    unsummed = post_dataset(
        client, organizer, slug, files, train_fraction="0.5", holdout_fraction="0.2"
    )
    assert unsummed.status_code == 422
    assert "must sum to 1" in unsummed.json()["detail"]
    out_of_range = post_dataset(client, organizer, slug, files, seed="-1")
    assert out_of_range.status_code == 422
    assert out_of_range.json()["errors"][0]["location"] == ["body", "seed"]


def test_one_file_or_three_files_not_a_mix(client: TestClient, organizer: Account) -> None:
    slug = create_round(client, organizer)["slug"]
    table = ("d.csv", csv_bytes(synthetic_frame(100)), "text/csv")
    for files in ({"file": table, "train": table}, {"train": table, "holdout": table}, {}):
        response = post_dataset(client, organizer, slug, files)
        assert response.status_code == 422, files
        assert response.json()["type"] in {"/problems/dataset-files", "/problems/validation-error"}
    mixed = post_dataset(client, organizer, slug, {"file": table, "train": table})
    assert "got file, train" in mixed.json()["detail"]


def test_given_splits_must_share_columns(client: TestClient, organizer: Account) -> None:
    frame = synthetic_frame(300)
    slug = create_round(client, organizer)["slug"]
    files = {
        "train": ("train.csv", csv_bytes(frame[:100]), "text/csv"),
        "holdout": ("holdout.csv", csv_bytes(frame[100:200].drop(columns="c1")), "text/csv"),
        "test": ("test.csv", csv_bytes(frame[200:]), "text/csv"),
    }
    response = post_dataset(client, organizer, slug, files)
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "the holdout file's columns differ from the train file's (missing: 'c1')"
    )
    assert response.json()["errors"][0]["field"] == "holdout"


def test_dataset_is_fixed_once_the_round_is_open(client: TestClient, organizer: Account) -> None:
    slug = open_round(client, organizer)["slug"]
    files = {"file": ("d.csv", csv_bytes(synthetic_frame(100)), "text/csv")}
    response = post_dataset(client, organizer, slug, files)
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/invalid-round-status"


def test_reupload_replaces_data_and_clears_the_base_model(
    client: TestClient, organizer: Account
) -> None:
    slug = create_round(client, organizer)["slug"]
    files = {"file": ("d.csv", csv_bytes(synthetic_frame(300)), "text/csv")}
    assert post_dataset(client, organizer, slug, files).status_code == 200
    client.post(f"/api/v1/rounds/{slug}/base-model/default", headers=organizer.headers)
    smaller = {"file": ("d.csv", csv_bytes(synthetic_frame(100, seed=1)), "text/csv")}
    assert post_dataset(client, organizer, slug, smaller).status_code == 200
    shown = client.get(f"/api/v1/rounds/{slug}", headers=organizer.headers).json()
    assert shown["data"]["n_train"] == 60
    assert shown["base_model"] is None
