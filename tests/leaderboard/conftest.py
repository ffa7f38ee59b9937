"""Fixtures and helpers of the leaderboard tests: the submission tests' arena and worker, more
teams and rounds, and models made for the purpose."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bounty_engine.baseline import train_patch_model
from bounty_engine.data import infer_schema, prepare_features
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model
from tests.submissions.conftest import Arena, arena, worker  # noqa: F401
from tests.support.api import Account, account
from tests.support.rounds import LABEL, open_round, synthetic_frame

ODD_ROWS = 2100
"""Rows of rounds whose holdout (420 rows) gives scores that 4 decimals cannot show exactly."""


def api(game: Arena, view: str, who: Account | None = None, slug: str | None = None) -> Any:
    """``GET /rounds/{slug}/{view}`` as ``who`` (anonymous by default); the JSON body."""
    response = game.client.get(
        f"/api/v1/rounds/{slug or game.slug}/{view}", headers=who.headers if who else {}
    )
    assert response.status_code == 200, response.text
    return response.json()


def factory(client: TestClient) -> sessionmaker[Session]:
    """The app's session factory (the test database)."""
    found: sessionmaker[Session] = client.app.state.session_factory  # type: ignore[attr-defined]
    return found


def rival(game: Arena, email: str, team: str) -> Account:
    """A new participant with a new team of its own in the round."""
    who = account(game.client, factory(game.client), email)
    created = game.client.post(
        f"/api/v1/rounds/{game.slug}/teams", json={"name": team}, headers=who.headers
    )
    assert created.status_code == 201, created.text
    return who


def another_round(game: Arena, n_rows: int = ODD_ROWS, **settings: Any) -> Arena:
    """A new open round by the same organizer, with the same member in a team Sleuths."""
    body = {"alpha": 0.001, "min_group_rows": 10, "daily_quota": 5, **settings}
    slug = open_round(game.client, game.organizer, synthetic_frame(n_rows), **body)["slug"]
    team = game.client.post(
        f"/api/v1/rounds/{slug}/teams", json={"name": "Sleuths"}, headers=game.member.headers
    )
    assert team.status_code == 201, team.text
    train = pd.read_parquet(
        io.BytesIO(game.client.get(f"/api/v1/rounds/{slug}/data/train.parquet").content)
    )
    return Arena(game.client, game.organizer, game.member, slug, team.json(), train, game.planted)


def saboteur(game: Arena, good: str, bad: str) -> bytes:
    """An h trained to be right on ``good`` and wrong on ``bad`` (labels flipped there)."""
    schema = infer_schema(game.train, LABEL)
    features = prepare_features(game.train, schema)
    good_rows = RuleGroup.parse(good, schema).mask(features)
    bad_rows = RuleGroup.parse(bad, schema).mask(features)
    frame = game.train.copy()
    frame.loc[bad_rows, LABEL] = 1 - frame.loc[bad_rows, LABEL]
    return dump_sklearn_model(train_patch_model(frame, schema, good_rows | bad_rows))


def group_model(game: Arena, expression: str) -> bytes:
    """A 0/1 classifier of membership in ``expression``, trained on the train split."""
    schema = infer_schema(game.train, LABEL)
    inside = RuleGroup.parse(expression, schema).mask(prepare_features(game.train, schema))
    frame = game.train.assign(**{LABEL: inside.astype(int)})
    return dump_sklearn_model(train_patch_model(frame, schema, inside | ~inside))
