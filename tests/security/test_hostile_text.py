"""Hostile text in every free-text field (the corpus is ``tests/hostile/text.toml``): stored
and returned verbatim (or normalized, for team names), never run as SQL, never a 500. Hostile
file names are ``test_hostile_file_names.py``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import User
from app.teams.names import normalize_team_name
from app.worker.runner import Worker
from tests.submissions.conftest import Arena, drain
from tests.support.api import account

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py

CORPUS = tomllib.loads((Path(__file__).parents[1] / "hostile" / "text.toml").read_text())
TEXTS: list[str] = CORPUS["sql"] + CORPUS["markup"]
TABLES = ("users", "rounds", "teams", "submissions", "audit_events", "api_keys")


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _tables(db: Session) -> dict[str, int]:
    return {t: db.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}  # noqa: S608


def test_round_titles_and_descriptions_come_back_verbatim(game: Arena) -> None:
    org = game.organizer.headers
    for i, hostile in enumerate(TEXTS):
        created = _ok(
            game.client.post(
                "/api/v1/rounds",
                json={"title": hostile, "description": hostile, "slug": f"hostile-{i}"},
                headers=org,
            ),
            201,
        )
        assert (created["title"], created["description"]) == (hostile, hostile)
        changed = _ok(
            game.client.patch(
                f"/api/v1/rounds/hostile-{i}", json={"description": hostile * 2}, headers=org
            )
        )
        assert changed["description"] == hostile * 2
    listed = _ok(game.client.get("/api/v1/rounds", headers=org, params={"limit": 100}))
    assert {r["title"] for r in listed} >= set(TEXTS)


def test_team_names_display_names_and_key_names_come_back_as_sent(
    game: Arena, session_factory: sessionmaker[Session], db: Session
) -> None:
    for i, hostile in enumerate(TEXTS):
        body = {"email": f"h{i}@example.org", "display_name": hostile, "password": "x" * 12}
        assert _ok(game.client.post("/api/v1/auth/signup", json=body), 201)["display_name"] == (
            hostile
        )
        who = account(game.client, session_factory, f"t{i}@example.org")
        team = _ok(
            game.client.post(
                f"/api/v1/rounds/{game.slug}/teams", json={"name": hostile}, headers=who.headers
            ),
            201,
        )
        assert team["name"] == normalize_team_name(hostile)
        key = _ok(
            game.client.post("/api/v1/me/api-keys", json={"name": hostile}, headers=who.headers),
            201,
        )
        assert key["name"] == hostile
    names = {t["name"] for t in _ok(game.client.get(f"/api/v1/rounds/{game.slug}/teams"))}
    assert names >= {normalize_team_name(t) for t in TEXTS}
    assert db.scalar(select(func.count()).select_from(User)) >= 2 * len(TEXTS)


def test_notes_expressions_and_reasons_are_data_not_code(
    game: Arena, worker: Worker, db: Session
) -> None:
    model = game.patch_model("x0 > 0")
    ids = []
    for hostile in TEXTS:
        accepted = _ok(
            game.client.post(
                f"/api/v1/rounds/{game.slug}/submissions",
                data={"group_expression": "x0 > 0", "note": hostile},
                files={"model": ("h.skops", model)},
                headers=game.member.headers,
            ),
            202,
        )
        ids.append(accepted["submission"]["id"])
        refused = game.client.post(
            f"/api/v1/rounds/{game.slug}/expressions/check",
            json={"expression": hostile},
            headers=game.member.headers,
        )
        assert refused.status_code == 200, refused.text
        assert refused.json()["valid"] is False
        assert refused.json()["error"]["message"]
    drain(worker)
    for sub_id, hostile in zip(ids, TEXTS, strict=True):
        shown = _ok(game.client.get(f"/api/v1/submissions/{sub_id}", headers=game.member.headers))
        assert shown["note"] == hostile
    reason = TEXTS[0] + TEXTS[-1]
    out = _ok(
        game.client.post(
            f"/api/v1/submissions/{ids[0]}/disqualify",
            json={"reason": reason},
            headers=game.organizer.headers,
        )
    )
    assert reason in out["submission"]["verdict"]["message"]
    counts = _tables(db)  # every table is still there, with exactly the rows the test made
    assert counts.pop("audit_events") > len(TEXTS)
    assert counts == {
        "users": 2,
        "rounds": 1,
        "teams": 1,
        "submissions": len(TEXTS),
        "api_keys": 0,
    }
