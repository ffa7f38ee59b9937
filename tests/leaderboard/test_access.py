"""Who may see what: public views of non-draft rounds, the organizer-only export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.core.storage import ArtifactStore
from app.rounds.engine_view import load_split
from app.rounds.models import ModelVersion, Round
from bounty_engine.bundle import load_bundle
from tests.leaderboard.conftest import api, factory
from tests.submissions.conftest import Arena
from tests.support.api import account
from tests.support.rounds import LABEL, create_round

VIEWS = ("leaderboard", "history", "feature-usage", "groups")


def test_export_of_a_fresh_round_is_the_base_model(
    arena: Arena, db: Session, tmp_path: Path
) -> None:
    response = arena.client.get(
        f"/api/v1/rounds/{arena.slug}/export", headers=arena.organizer.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert f'filename="{arena.slug}-v0.zip"' in response.headers["content-disposition"]
    (tmp_path / "model.zip").write_bytes(response.content)
    bundle = load_bundle(tmp_path / "model.zip")
    assert bundle.model.head_version == 0
    assert bundle.metadata["round"] == arena.slug
    round_ = db.scalar(select(Round).where(Round.slug == arena.slug))
    assert round_ is not None
    base = db.scalar(select(ModelVersion).where(ModelVersion.round_id == round_.id))
    assert base is not None
    store: ArtifactStore = arena.client.app.state.store  # type: ignore[attr-defined]
    holdout = load_split(store, round_, "holdout")
    errors = bundle.predict(holdout) != holdout[LABEL].to_numpy()
    assert float(np.mean(errors)) == base.holdout_loss


def test_only_the_rounds_organizer_may_export(arena: Arena) -> None:
    url = f"/api/v1/rounds/{arena.slug}/export"
    other = account(arena.client, factory(arena.client), "other@example.org", Role.ORGANIZER)
    cases = [
        ({}, 401, "/problems/not-authenticated"),
        (arena.member.headers, 403, "/problems/not-round-organizer"),
        (other.headers, 403, "/problems/not-round-organizer"),
    ]
    for headers, status, problem in cases:
        response = arena.client.get(url, headers=headers)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == problem


def test_views_are_public_for_open_rounds(arena: Arena) -> None:
    for view in VIEWS:
        assert api(arena, view)["round"] == arena.slug


def test_drafts_are_hidden_from_everyone_but_their_organizer(arena: Arena) -> None:
    slug = create_round(arena.client, arena.organizer, title="Secret draft")["slug"]
    for view in (*VIEWS, "export"):
        for headers in ({}, arena.member.headers):
            response = arena.client.get(f"/api/v1/rounds/{slug}/{view}", headers=headers)
            expected = 401 if view == "export" and not headers else 404
            assert response.status_code == expected, (view, response.text)
            assert response.headers["content-type"] == "application/problem+json"
    for view in VIEWS:
        assert api(arena, view, arena.organizer, slug=slug)["round"] == slug
    assert api(arena, "feature-usage", arena.organizer, slug=slug)["features"] == []
    no_model = arena.client.get(f"/api/v1/rounds/{slug}/export", headers=arena.organizer.headers)
    assert no_model.status_code == 409
    assert no_model.json()["type"] == "/problems/no-dataset"


def test_unknown_round_is_404(arena: Arena) -> None:
    for view in (*VIEWS, "export"):
        response = arena.client.get(
            f"/api/v1/rounds/no-such-round/{view}", headers=arena.organizer.headers
        )
        assert response.status_code == 404
        assert response.json()["type"] == "/problems/round-not-found"


def test_routes_are_documented_under_the_leaderboard_tag(arena: Arena) -> None:
    paths = arena.client.get("/openapi.json").json()["paths"]
    for view in (*VIEWS, "export"):
        operation = paths[f"/api/v1/rounds/{{slug}}/{view}"]["get"]
        assert operation["tags"] == ["leaderboard"]
        assert "application/problem+json" in operation["responses"]["404"]["content"]
    export = paths["/api/v1/rounds/{slug}/export"]["get"]["responses"]
    assert "application/zip" in export["200"]["content"]
    assert {"401", "403"} <= export.keys()
