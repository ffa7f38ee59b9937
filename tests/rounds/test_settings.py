"""Creating, listing, reading and changing rounds, and who may do it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from tests.support.api import Account, account
from tests.support.rounds import create_round, open_round, upload_dataset

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py


@pytest.fixture
def organizer(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    return account(client, session_factory, "org@example.org", Role.ORGANIZER)


@pytest.fixture
def rival(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    return account(client, session_factory, "rival@example.org", Role.ORGANIZER)


@pytest.fixture
def participant(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    return account(client, session_factory, "pat@example.org")


def test_only_organizers_create_rounds(client: TestClient, participant: Account) -> None:
    body = {"title": "Mine"}
    refused = client.post("/api/v1/rounds", json=body, headers=participant.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "/problems/organizers-only"
    anonymous = client.post("/api/v1/rounds", json=body)
    assert anonymous.status_code == 401
    assert anonymous.json()["type"] == "/problems/not-authenticated"


def test_slugs_are_derived_unique_and_validated(client: TestClient, organizer: Account) -> None:
    first = create_round(client, organizer, title="Crédit Scoring 2026")
    second = create_round(client, organizer, title="Crédit scoring 2026")
    symbols = create_round(client, organizer, title="!!!")
    assert (first["slug"], second["slug"]) == ("credit-scoring-2026", "credit-scoring-2026-2")
    assert symbols["slug"] == "round"
    taken = client.post(
        "/api/v1/rounds",
        json={"title": "Other", "slug": "credit-scoring-2026"},
        headers=organizer.headers,
    )
    assert taken.status_code == 409
    assert taken.json()["type"] == "/problems/slug-taken"
    bad = client.post(
        "/api/v1/rounds", json={"title": "X", "slug": "Not A Slug"}, headers=organizer.headers
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["location"] == ["body", "slug"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"alpha": -0.1}, "alpha"),
        ({"repair_alpha": -1}, "repair_alpha"),
        ({"min_group_rows": 0}, "min_group_rows"),
        ({"daily_quota": 0}, "daily_quota"),
        ({"max_team_size": 0}, "max_team_size"),
        ({"loss": "hinge"}, "loss"),
        ({"loss": "squared", "loss_clip": 0}, "loss_clip"),
        ({"disclosure": "partial"}, "disclosure"),
        ({"opens_at": "2026-01-01T00:00:00"}, "opens_at"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_out_of_range_settings_are_422(
    client: TestClient, organizer: Account, body: dict[str, object], field: str
) -> None:
    response = client.post("/api/v1/rounds", json={"title": "T", **body}, headers=organizer.headers)
    assert response.status_code == 422
    assert [e["location"][-1] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"loss": "zero_one", "loss_clip": 1.0}, "takes no loss_clip"),
        (
            {"opens_at": "2026-02-01T00:00:00Z", "closes_at": "2026-01-01T00:00:00Z"},
            "closes_at must be later than opens_at",
        ),
    ],
)
def test_inconsistent_settings_are_422(
    client: TestClient, organizer: Account, body: dict[str, object], message: str
) -> None:
    response = client.post("/api/v1/rounds", json={"title": "T", **body}, headers=organizer.headers)
    assert response.status_code == 422
    assert message in response.json()["errors"][0]["message"]


def test_created_round_shows_its_rules(client: TestClient, organizer: Account) -> None:
    created = create_round(
        client,
        organizer,
        title="Regression",
        loss="absolute",
        loss_clip=3.5,
        alpha=0.01,
        repair_alpha=0.002,
        daily_quota=3,
        disclosure="exact",
        max_team_size=2,
        opens_at="2030-01-01T12:00:00+02:00",
        acceptance_test="significance",
        confidence=0.9,
        planned_submissions=250,
    )
    assert created["rules"] == {
        "loss": "absolute",
        "loss_clip": 3.5,
        "loss_costs": None,
        "alpha": 0.01,
        "min_group_rows": 10,
        "repair_alpha": 0.002,
        "acceptance_test": "significance",
        "confidence": 0.9,
        "planned_submissions": 250,
        "test_guard": False,
        "daily_quota": 3,
        "disclosure": "exact",
        "max_team_size": 2,
    }
    shown = client.get(f"/api/v1/rounds/{created['slug']}", headers=organizer.headers).json()
    assert shown["opens_at"].startswith("2030-01-01T10:00:00")
    acceptance = shown["acceptance"]
    assert acceptance["guarantee"] == (
        "An accepted pair improves the model on its group with at least 90% confidence."
    )
    assert (acceptance["method"], acceptance["confidence"]) == ("t", 0.9)
    assert acceptance["first_level"] == pytest.approx(0.1 / 251)
    assert acceptance["planned_level"] == pytest.approx(0.1 * 250 / (499 * 500))
    # Exact disclosure lets answers be combined into a pair that fits the holdout: said so.
    assert "does not cover them" in acceptance["details"]
    assert shown["organizer_id"] == organizer.id


def test_a_new_round_decides_by_significance_and_a_threshold_round_says_it_claims_less(
    client: TestClient, organizer: Account
) -> None:
    default = client.post("/api/v1/rounds", json={"title": "Defaults"}, headers=organizer.headers)
    assert default.status_code == 201, default.text
    rules = default.json()["rules"]
    assert (rules["acceptance_test"], rules["confidence"], rules["planned_submissions"]) == (
        "significance",
        0.95,
        1000,
    )
    assert default.json()["acceptance"]["method"] == "sign"
    assert "does not cover" not in default.json()["acceptance"]["details"]
    plain = create_round(client, organizer, title="Plain", acceptance_test="threshold")
    assert plain["acceptance"]["confidence"] is None
    assert "no statistical claim" in plain["acceptance"]["guarantee"]


@pytest.mark.parametrize(
    "bad", [{"confidence": 1.0}, {"confidence": 0.3}, {"planned_submissions": 0}]
)
def test_impossible_significance_settings_are_refused(
    client: TestClient, organizer: Account, bad: dict[str, float]
) -> None:
    response = client.post(
        "/api/v1/rounds", json={"title": "Bad", **bad}, headers=organizer.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"][-1] == next(iter(bad))


def test_listing_shows_public_rounds_and_own_drafts(
    client: TestClient, organizer: Account, rival: Account, participant: Account
) -> None:
    public = open_round(client, organizer, title="Public")["slug"]
    mine = create_round(client, organizer, title="My draft")["slug"]
    theirs = create_round(client, rival, title="Their draft")["slug"]

    def listed(who: Account | None) -> set[str]:
        headers = who.headers if who else {}
        response = client.get("/api/v1/rounds", headers=headers)
        assert response.status_code == 200
        return {r["slug"] for r in response.json()}

    assert listed(None) == {public}
    assert listed(participant) == {public}
    assert listed(organizer) == {public, mine}
    assert listed(rival) == {public, theirs}


def test_drafts_are_invisible_to_everyone_else(
    client: TestClient, organizer: Account, rival: Account, participant: Account
) -> None:
    slug = create_round(client, organizer)["slug"]
    upload_dataset(client, organizer, slug)
    paths = ["", "/schema", "/versions", "/data/train.csv", "/data/train.parquet"]
    for path in paths:
        for who in (None, participant, rival):
            response = client.get(
                f"/api/v1/rounds/{slug}{path}", headers=who.headers if who else {}
            )
            assert response.status_code == 404, (path, who)
            assert response.json()["type"] == "/problems/round-not-found"
        own = client.get(f"/api/v1/rounds/{slug}{path}", headers=organizer.headers)
        assert own.status_code == 200, (path, own.text)


def test_only_its_organizer_changes_a_round(
    client: TestClient, organizer: Account, rival: Account, participant: Account
) -> None:
    slug = create_round(client, organizer)["slug"]
    base = f"/api/v1/rounds/{slug}"
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("PATCH", "", {"json": {"title": "Taken over"}}),
        ("POST", "/dataset", {"data": {"label": "y"}, "files": {"file": ("a.csv", b"a,y\n1,0\n")}}),
        ("POST", "/base-model", {"files": {"file": ("m.skops", b"PK")}}),
        ("POST", "/base-model/default", {}),
        ("POST", "/open", {}),
        ("POST", "/freeze", {}),
        ("POST", "/close", {}),
    ]
    for method, path, kwargs in attempts:
        by_rival = client.request(method, base + path, headers=rival.headers, **kwargs)
        assert by_rival.status_code == 403, (path, by_rival.text)
        assert by_rival.json()["type"] == "/problems/not-round-organizer"
        by_participant = client.request(method, base + path, headers=participant.headers, **kwargs)
        assert by_participant.status_code == 403, path
        assert client.request(method, base + path, **kwargs).status_code == 401, path
    assert client.get(base, headers=organizer.headers).json()["title"] == "Synthetic round"


def test_unknown_round_is_404(client: TestClient, organizer: Account) -> None:
    for method, path in [("GET", ""), ("PATCH", ""), ("POST", "/open"), ("GET", "/schema")]:
        response = client.request(
            method, f"/api/v1/rounds/nope{path}", headers=organizer.headers, json={}
        )
        assert response.status_code == 404, path
        assert response.json()["type"] == "/problems/round-not-found"


def test_rules_change_only_in_draft_the_rest_until_closed(
    client: TestClient, organizer: Account
) -> None:
    slug = create_round(client, organizer)["slug"]
    url = f"/api/v1/rounds/{slug}"
    changed = client.patch(
        url,
        json={"alpha": 0.05, "disclosure": "none", "loss_clip": None},
        headers=organizer.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["rules"]["alpha"] == 0.05
    assert changed.json()["rules"]["disclosure"] == "none"
    upload_dataset(client, organizer, slug)
    client.post(f"{url}/base-model/default", headers=organizer.headers)
    assert client.post(f"{url}/open", headers=organizer.headers).status_code == 200

    locked = client.patch(url, json={"min_group_rows": 1}, headers=organizer.headers)
    assert locked.status_code == 409
    assert locked.json()["type"] == "/problems/rules-locked"
    assert "min_group_rows" in locked.json()["detail"]
    edited = client.patch(
        url,
        json={"title": "New title", "description": "**new**", "closes_at": "2099-01-01T00:00:00Z"},
        headers=organizer.headers,
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["title"], edited.json()["description"]) == ("New title", "**new**")
    assert edited.json()["rules"]["min_group_rows"] == 10

    assert client.post(f"{url}/close", headers=organizer.headers).status_code == 200
    closed = client.patch(url, json={"title": "Too late"}, headers=organizer.headers)
    assert closed.status_code == 409
    assert closed.json()["type"] == "/problems/round-closed"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"title": None}, 422),
        ({"alpha": None}, 422),
        ({"loss_clip": 2.0}, 422),  # the round's loss is zero_one
        ({"opens_at": "2030-01-02T00:00:00Z", "closes_at": "2030-01-01T00:00:00Z"}, 422),
        ({"slug": "renamed"}, 422),
    ],
)
def test_invalid_changes_are_refused(
    client: TestClient, organizer: Account, change: dict[str, object], status: int
) -> None:
    slug = create_round(client, organizer)["slug"]
    response = client.patch(f"/api/v1/rounds/{slug}", json=change, headers=organizer.headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (
        client.get(f"/api/v1/rounds/{slug}", headers=organizer.headers).json()["rules"]["loss_clip"]
        is None
    )


def test_changing_the_loss_task_rereads_the_label(client: TestClient, organizer: Account) -> None:
    slug = create_round(client, organizer)["slug"]
    url = f"/api/v1/rounds/{slug}"
    upload_dataset(client, organizer, slug)
    assert client.post(f"{url}/base-model/default", headers=organizer.headers).status_code == 200
    changed = client.patch(url, json={"loss": "squared"}, headers=organizer.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["task"] == "regression"
    assert changed.json()["base_model"] is None  # trained for the other task
    schema = client.get(f"{url}/schema", headers=organizer.headers).json()
    assert schema["label"] == {"name": "y", "task": "regression", "classes": None}
