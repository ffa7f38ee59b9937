"""The cost-weighted loss's settings: a cost matrix comes with the cost loss only, fits the
label's classes, and is refused with what is wrong otherwise."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from tests.support.api import Account, account
from tests.support.rounds import create_round, csv_bytes, synthetic_frame, upload_dataset


@pytest.fixture
def organizer(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    return account(client, session_factory, "org@example.org", Role.ORGANIZER)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"loss": "cost"}, "the cost loss needs loss_costs"),
        ({"loss": "zero_one", "loss_costs": [[0, 1], [1, 0]]}, "loss_costs is for the cost"),
        ({"loss": "squared", "loss_costs": [[0, 1], [1, 0]]}, "loss_costs is for the cost"),
        ({"loss": "cost", "loss_costs": [[0, 1], [1, 0]], "loss_clip": 1}, "takes no loss_clip"),
        ({"loss": "cost", "loss_costs": [[0, 1, 1], [1, 0]]}, "square"),
        ({"loss": "cost", "loss_costs": [[0, -1], [1, 0]]}, "whole numbers from 0"),
        ({"loss": "cost", "loss_costs": [[0, 0], [0, 0]]}, "some wrong prediction"),
    ],
)
def test_inconsistent_cost_settings_are_422(
    client: TestClient, organizer: Account, body: dict[str, object], message: str
) -> None:
    response = client.post("/api/v1/rounds", json={"title": "T", **body}, headers=organizer.headers)
    assert response.status_code == 422, response.text
    assert message in response.json()["errors"][0]["message"]


def test_a_fractional_cost_is_refused_where_it_is(client: TestClient, organizer: Account) -> None:
    body = {"title": "T", "loss": "cost", "loss_costs": [[0, 1.5], [1, 0]]}
    response = client.post("/api/v1/rounds", json=body, headers=organizer.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"][:2] == ["body", "loss_costs"]


def test_the_matrix_must_have_a_row_and_a_column_per_class(
    client: TestClient, organizer: Account
) -> None:
    slug = create_round(
        client, organizer, loss="cost", loss_costs=[[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    )["slug"]
    url = f"/api/v1/rounds/{slug}"
    refused = client.post(
        f"{url}/dataset",
        data={
            "label": "y",
            "train_fraction": "0.6",
            "holdout_fraction": "0.2",
            "test_fraction": "0.2",
        },
        files={"file": ("data.csv", csv_bytes(synthetic_frame()), "text/csv")},
        headers=organizer.headers,
    )
    assert refused.status_code == 422
    assert "has 2 classes" in refused.json()["detail"]
    assert "loss_costs is 3 x 3" in refused.json()["detail"]
    shown = client.get(url, headers=organizer.headers).json()
    assert shown["data"] is None  # nothing stored
    # Before there is data, the classes are named by their place.
    assert shown["costs_explained"].startswith(
        "Predicting class 1 when the truth is class 0 costs 1; "
    )

    fitted = client.patch(url, json={"loss_costs": [[0, 5], [1, 0]]}, headers=organizer.headers)
    assert fitted.status_code == 200, fitted.text
    upload_dataset(client, organizer, slug)
    # Once the data is there, a matrix of another size is refused, and the round keeps its own.
    wrong = client.patch(
        url, json={"loss_costs": [[0, 1, 1], [1, 0, 1], [1, 1, 0]]}, headers=organizer.headers
    )
    assert wrong.status_code == 422
    assert client.get(url, headers=organizer.headers).json()["rules"]["loss_costs"] == [
        [0, 5],
        [1, 0],
    ]
    # Back to the 0-1 loss: the matrix goes with it.
    plain = client.patch(
        url, json={"loss": "zero_one", "loss_costs": None}, headers=organizer.headers
    )
    assert plain.status_code == 200, plain.text
    assert plain.json()["rules"]["loss_costs"] is None
