"""Hostile text in every free-text field, and hostile file names on every upload
(the corpus is ``tests/hostile/text.toml``): stored and returned verbatim (or normalized, for
team names), never run as SQL, never a 500, and no file written outside scratch space."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import User
from app.core.storage import LocalStore
from app.teams.names import normalize_team_name
from app.worker.runner import Worker
from bounty_engine.baseline import train_default_model
from bounty_engine.data import infer_schema
from bounty_engine.models import dump_sklearn_model
from tests.submissions.conftest import Arena, build_arena, drain
from tests.support.api import account
from tests.support.rounds import LABEL, csv_bytes, synthetic_frame

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py

CORPUS = tomllib.loads((Path(__file__).parents[1] / "hostile" / "text.toml").read_text())
TEXTS: list[str] = CORPUS["sql"] + CORPUS["markup"]
FILE_NAMES: list[str] = CORPUS["file_names"]
TABLES = ("users", "rounds", "teams", "submissions", "audit_events", "api_keys")


@pytest.fixture
def game(client: TestClient, session_factory: sessionmaker[Session]) -> Arena:
    return build_arena(client, session_factory, daily_quota=100)


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


@pytest.mark.parametrize("name", FILE_NAMES)
def test_hostile_upload_file_names_write_nothing_outside_scratch(
    game: Arena, name: str, tmp_path: Path
) -> None:
    evil = Path("/tmp/bounty-traversal-evil.csv")  # noqa: S108 (the path the names aim at)
    evil.unlink(missing_ok=True)
    org = game.organizer.headers
    frame = synthetic_frame(400, seed=7)
    slug = _ok(game.client.post("/api/v1/rounds", json={"title": "Files"}, headers=org), 201)[
        "slug"
    ]
    _ok(
        game.client.post(
            f"/api/v1/rounds/{slug}/dataset",
            data={"label": LABEL},
            files={"file": (name, csv_bytes(frame), "text/csv")},
            headers=org,
        )
    )
    base = dump_sklearn_model(train_default_model(frame, infer_schema(frame, LABEL)))
    _ok(
        game.client.post(
            f"/api/v1/rounds/{slug}/base-model", files={"file": (name, base)}, headers=org
        )
    )
    response = game.client.post(
        f"/api/v1/rounds/{game.slug}/submissions",
        data={"group_expression": "x0 > 0"},
        files={"model": (name, game.patch_model("x0 > 0"))},
        headers=game.member.headers,
    )
    assert response.status_code == 202, response.text
    assert not evil.exists()
    store = game.client.app.state.store  # type: ignore[attr-defined]
    assert isinstance(store, LocalStore)
    stored = [p for p in store.root.rglob("*") if p.is_file()]
    assert stored
    assert all(len(p.name) == 64 and p.parent.parent == store.root for p in stored)
