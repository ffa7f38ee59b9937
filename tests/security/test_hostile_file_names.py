"""Hostile file names on every upload (the corpus is ``tests/hostile/text.toml``): no file
written outside scratch space, and every stored file named by its hash.

On SQLite only: a file name never reaches the database (``app.core.uploads.safe_name``)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from app.core.storage import LocalStore
from bounty_engine.baseline import train_default_model
from bounty_engine.data import infer_schema
from bounty_engine.models import dump_sklearn_model
from tests.submissions.conftest import Arena
from tests.support.rounds import LABEL, csv_bytes, synthetic_frame

CORPUS = tomllib.loads((Path(__file__).parents[1] / "hostile" / "text.toml").read_text())
FILE_NAMES: list[str] = CORPUS["file_names"]


@pytest.mark.parametrize("name", FILE_NAMES)
def test_hostile_upload_file_names_write_nothing_outside_scratch(
    game: Arena, name: str, tmp_path: Path
) -> None:
    evil = Path("/tmp/bounty-traversal-evil.csv")  # noqa: S108 (the path the names aim at)
    evil.unlink(missing_ok=True)
    org = game.organizer.headers
    frame = synthetic_frame(400, seed=7)
    created = game.client.post("/api/v1/rounds", json={"title": "Files"}, headers=org)
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    dataset = game.client.post(
        f"/api/v1/rounds/{slug}/dataset",
        data={"label": LABEL},
        files={"file": (name, csv_bytes(frame), "text/csv")},
        headers=org,
    )
    assert dataset.status_code == 200, dataset.text
    base = dump_sklearn_model(train_default_model(frame, infer_schema(frame, LABEL)))
    uploaded = game.client.post(
        f"/api/v1/rounds/{slug}/base-model", files={"file": (name, base)}, headers=org
    )
    assert uploaded.status_code == 200, uploaded.text
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
