"""Helpers for API tests that need rounds: small synthetic data and rounds made via the API."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

from bounty_engine.datasets.synthetic import make_synthetic
from bounty_engine.schema import Task
from tests.support.api import Account

N_ROWS = 2000
FRACTIONS = (0.6, 0.2, 0.2)
LABEL = "y"


def synthetic_frame(
    n_rows: int = N_ROWS, *, task: Task = Task.CLASSIFICATION, seed: int = 0
) -> pd.DataFrame:
    """Synthetic rows: numeric ``x0..x3``, categorical ``c0, c1`` and the label ``y``."""
    return make_synthetic(n_rows, task=task, seed=seed).frame


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV without its index."""
    return frame.to_csv(index=False).encode()


def create_round(client: TestClient, organizer: Account, **settings: Any) -> dict[str, Any]:
    """A draft round created by ``organizer``; ``settings`` override the request body.

    The tests' rounds have small holdouts (400 rows by default), on which a pair built from the
    train split is rarely significant: they decide by the threshold rule unless a test asks
    for the significance rule (the product's default) by passing ``acceptance_test``."""
    body = {
        "title": "Synthetic round",
        "alpha": 0.001,
        "min_group_rows": 10,
        "acceptance_test": "threshold",
        **settings,
    }
    response = client.post("/api/v1/rounds", json=body, headers=organizer.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def upload_dataset(
    client: TestClient,
    organizer: Account,
    slug: str,
    frame: pd.DataFrame | None = None,
    *,
    fractions: tuple[float, float, float] = FRACTIONS,
    seed: int = 0,
    label: str = LABEL,
) -> dict[str, Any]:
    """Upload ``frame`` (default: ``synthetic_frame()``) as one CSV to be split."""
    data = csv_bytes(synthetic_frame() if frame is None else frame)
    form = {
        "label": label,
        "train_fraction": str(fractions[0]),
        "holdout_fraction": str(fractions[1]),
        "test_fraction": str(fractions[2]),
        "seed": str(seed),
    }
    response = client.post(
        f"/api/v1/rounds/{slug}/dataset",
        data=form,
        files={"file": ("data.csv", data, "text/csv")},
        headers=organizer.headers,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def open_round(
    client: TestClient,
    organizer: Account,
    frame: pd.DataFrame | None = None,
    *,
    label: str = LABEL,
    **settings: Any,
) -> dict[str, Any]:
    """An open round on ``frame`` (default: 2000 synthetic rows, label ``y``) with the default
    base model.

    ``settings`` override the creation body (title, alpha, disclosure, ...). Returns the
    round as ``GET /rounds/{slug}`` shows it.
    """
    slug = create_round(client, organizer, **settings)["slug"]
    upload_dataset(client, organizer, slug, frame, label=label)
    trained = client.post(f"/api/v1/rounds/{slug}/base-model/default", headers=organizer.headers)
    assert trained.status_code == 200, trained.text
    opened = client.post(f"/api/v1/rounds/{slug}/open", headers=organizer.headers)
    assert opened.status_code == 200, opened.text
    result: dict[str, Any] = opened.json()
    return result
