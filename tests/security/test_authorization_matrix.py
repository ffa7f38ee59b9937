"""Every endpoint x every kind of caller -> the status it must get.

Callers: anonymous, a participant of team A, a participant of team B (same round), the round's
organizer, and the organizer of another round. The world: an open round with data, a base
model, teams A and B, and a queued submission of team A. Endpoints that change the world
(freeze, disqualify, revoking a key) come last, in an order that keeps the other rows valid.
A test also checks that every route of the app appears in the matrix, so a new endpoint
cannot ship without its row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.main import create_app
from tests.submissions.conftest import Arena, build_arena
from tests.support.api import Account, account
from tests.support.rounds import csv_bytes

CALLERS = ("anonymous", "team A", "team B", "organizer", "other organizer")


@dataclass
class World:
    arena: Arena
    callers: dict[str, Account | None]
    team_a: int
    team_b: int
    invite_a: str
    submission: int
    key_of_a: int
    h: bytes
    population: int
    watched: int
    bob: int

    def headers(self, caller: str) -> dict[str, str]:
        who = self.callers[caller]
        return who.headers if who is not None else {}


Request = Callable[[World], dict[str, Any]]  # keyword arguments of TestClient.request


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the app's path template, as in the OpenAPI document
    path: Callable[[World], str]
    expected: tuple[int, int, int, int, int]  # in CALLERS order
    request: Request = lambda _: {}


def _slug(w: World) -> str:
    return w.arena.slug


def _submit(w: World) -> dict[str, Any]:
    return {"data": {"group_expression": "x0 > 1"}, "files": {"model": ("h.skops", w.h)}}


def _population(w: World) -> dict[str, Any]:
    table = csv_bytes(w.arena.train.head(40))
    return {"data": {"name": uuid.uuid4().hex[:8]}, "files": {"file": ("p.csv", table)}}


def _dataset(_: World) -> dict[str, Any]:
    return {"data": {"label": "y"}, "files": {"file": ("d.csv", b"x0,y\n1,0\n2,1\n")}}


MATRIX: list[Row] = [
    Row("GET", "/api/v1/health", lambda w: "/api/v1/health", (200, 200, 200, 200, 200)),
    Row(
        "POST",
        "/api/v1/auth/signup",
        lambda w: "/api/v1/auth/signup",
        (201, 201, 201, 201, 201),
        lambda w: {
            "json": {
                "email": f"{uuid.uuid4().hex[:10]}@example.org",
                "display_name": "New",
                "password": "long enough password",
            }
        },
    ),
    Row("GET", "/api/v1/me", lambda w: "/api/v1/me", (401, 200, 200, 200, 200)),
    Row("GET", "/api/v1/me/api-keys", lambda w: "/api/v1/me/api-keys", (401, 200, 200, 200, 200)),
    Row(
        "POST",
        "/api/v1/me/api-keys",
        lambda w: "/api/v1/me/api-keys",
        (401, 201, 201, 201, 201),
        lambda w: {"json": {"name": "matrix"}},
    ),
    Row("GET", "/api/v1/rounds", lambda w: "/api/v1/rounds", (200, 200, 200, 200, 200)),
    Row(
        "POST",
        "/api/v1/rounds",
        lambda w: "/api/v1/rounds",
        (401, 403, 403, 201, 201),
        lambda w: {"json": {"title": f"Round {uuid.uuid4().hex[:6]}"}},
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}",
        lambda w: f"/api/v1/rounds/{_slug(w)}",
        (200, 200, 200, 200, 200),
    ),
    Row(
        "PATCH",
        "/api/v1/rounds/{slug}",
        lambda w: f"/api/v1/rounds/{_slug(w)}",
        (401, 403, 403, 200, 403),
        lambda w: {"json": {"description": "Updated."}},
    ),
    Row(
        "POST",
        "/api/v1/rounds/{slug}/dataset",
        lambda w: f"/api/v1/rounds/{_slug(w)}/dataset",
        (401, 403, 403, 409, 403),
        _dataset,
    ),
    Row(
        "POST",
        "/api/v1/rounds/{slug}/base-model",
        lambda w: f"/api/v1/rounds/{_slug(w)}/base-model",
        (401, 403, 403, 409, 403),
        lambda w: {"files": {"file": ("base.skops", w.h)}},
    ),
    Row(
        "POST",
        "/api/v1/rounds/{slug}/base-model/default",
        lambda w: f"/api/v1/rounds/{_slug(w)}/base-model/default",
        (401, 403, 403, 409, 403),
    ),
    Row(
        "POST",
        "/api/v1/rounds/{slug}/open",
        lambda w: f"/api/v1/rounds/{_slug(w)}/open",
        (401, 403, 403, 409, 403),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/schema",
        lambda w: f"/api/v1/rounds/{_slug(w)}/schema",
        (200, 200, 200, 200, 200),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/data/train.csv",
        lambda w: f"/api/v1/rounds/{_slug(w)}/data/train.csv",
        (200, 200, 200, 200, 200),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/data/train.parquet",
        lambda w: f"/api/v1/rounds/{_slug(w)}/data/train.parquet",
        (200, 200, 200, 200, 200),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/data/train-predictions.parquet",
        lambda w: f"/api/v1/rounds/{_slug(w)}/data/train-predictions.parquet",
        (200, 200, 200, 200, 200),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/versions",
        lambda w: f"/api/v1/rounds/{_slug(w)}/versions",
        (200, 200, 200, 200, 200),
    ),
    Row(
        "POST",
        "/api/v1/rounds/{slug}/submissions",
        lambda w: f"/api/v1/rounds/{_slug(w)}/submissions",
        (401, 202, 202, 403, 403),
        _submit,
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/quota",
        lambda w: f"/api/v1/rounds/{_slug(w)}/quota",
        (401, 200, 200, 403, 403),
    ),
    Row(
        "POST",
        "/api/v1/rounds/{slug}/expressions/check",
        lambda w: f"/api/v1/rounds/{_slug(w)}/expressions/check",
        (200, 200, 200, 200, 200),
        lambda w: {"json": {"expression": "x0 > 0"}},
    ),
    Row(
        "GET",
        "/api/v1/submissions/{submission_id}",
        lambda w: f"/api/v1/submissions/{w.submission}",
        (401, 200, 404, 200, 404),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/submissions",
        lambda w: f"/api/v1/rounds/{_slug(w)}/submissions",
        (401, 200, 200, 200, 200),  # one's own team's (none yet: empty); all for the organizer
    ),
    Row(
        "POST",
        "/api/v1/rounds/{slug}/teams",
        lambda w: f"/api/v1/rounds/{_slug(w)}/teams",
        (401, 409, 409, 403, 201),
        lambda w: {"json": {"name": f"Team {uuid.uuid4().hex[:6]}"}},
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/teams",
        lambda w: f"/api/v1/rounds/{_slug(w)}/teams",
        (200, 200, 200, 200, 200),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/my-team",
        lambda w: f"/api/v1/rounds/{_slug(w)}/my-team",
        (401, 200, 200, 404, 200),  # the other organizer made a team two rows up
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/teams/{team_id}/members",
        lambda w: f"/api/v1/rounds/{_slug(w)}/teams/{w.team_a}/members",
        (401, 403, 403, 200, 403),
    ),
    Row(
        "POST",
        "/api/v1/teams/join",
        lambda w: "/api/v1/teams/join",
        (401, 409, 409, 403, 409),
        lambda w: {"json": {"invite_code": w.invite_a}},
    ),
    Row(
        "POST",
        "/api/v1/teams/{team_id}/leave",
        lambda w: f"/api/v1/teams/{w.team_a}/leave",
        (401, 409, 404, 404, 404),  # not once the team has submitted
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/leaderboard",
        lambda w: f"/api/v1/rounds/{_slug(w)}/leaderboard",
        (200, 200, 200, 200, 200),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/history",
        lambda w: f"/api/v1/rounds/{_slug(w)}/history",
        (200, 200, 200, 200, 200),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/feature-usage",
        lambda w: f"/api/v1/rounds/{_slug(w)}/feature-usage",
        (200, 200, 200, 200, 200),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/groups",
        lambda w: f"/api/v1/rounds/{_slug(w)}/groups",
        (200, 200, 200, 200, 200),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/export",
        lambda w: f"/api/v1/rounds/{_slug(w)}/export",
        (401, 403, 403, 200, 403),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/report",
        lambda w: f"/api/v1/rounds/{_slug(w)}/report",
        (401, 403, 403, 200, 403),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/archive",
        lambda w: f"/api/v1/rounds/{_slug(w)}/archive",
        (401, 403, 403, 200, 403),
    ),
    Row(
        "POST",
        "/api/v1/rounds/import",
        lambda _: "/api/v1/rounds/import",
        (401, 403, 403, 422, 422),  # any organizer may import; this file is no archive
        lambda _: {"files": {"file": ("round.zip", b"not a zip")}},
    ),
    Row(
        "POST",
        "/api/v1/rounds/{slug}/populations",
        lambda w: f"/api/v1/rounds/{_slug(w)}/populations",
        (401, 403, 403, 201, 403),
        _population,
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/populations",
        lambda w: f"/api/v1/rounds/{_slug(w)}/populations",
        (401, 403, 403, 200, 403),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/populations/{population_id}",
        lambda w: f"/api/v1/rounds/{_slug(w)}/populations/{w.population}",
        (401, 403, 403, 200, 403),
    ),
    Row(
        "POST",
        "/api/v1/rounds/{slug}/populations/{population_id}/follow-up",
        lambda w: f"/api/v1/rounds/{_slug(w)}/populations/{w.population}/follow-up",
        (401, 403, 403, 201, 403),
        lambda w: {"json": {"title": f"Follow-up {uuid.uuid4().hex[:6]}"}},
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/watched-groups",
        lambda w: f"/api/v1/rounds/{_slug(w)}/watched-groups",
        (401, 403, 403, 200, 403),
    ),
    Row(
        "POST",
        "/api/v1/rounds/{slug}/watched-groups",
        lambda w: f"/api/v1/rounds/{_slug(w)}/watched-groups",
        (401, 403, 403, 201, 403),
        lambda w: {"json": {"expression": "x0 > 2"}},
    ),
    Row(
        "DELETE",
        "/api/v1/rounds/{slug}/watched-groups/{group_id}",
        lambda w: f"/api/v1/rounds/{_slug(w)}/watched-groups/{w.watched}",
        (401, 403, 403, 204, 403),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/deployers",
        lambda w: f"/api/v1/rounds/{_slug(w)}/deployers",
        (401, 403, 403, 200, 403),
    ),
    # Bob (team B) is made a deployer, then not: no row after these depends on it.
    Row(
        "POST",
        "/api/v1/rounds/{slug}/deployers",
        lambda w: f"/api/v1/rounds/{_slug(w)}/deployers",
        (401, 403, 403, 201, 403),
        lambda w: {"json": {"email": "bob@example.org"}},
    ),
    Row(
        "DELETE",
        "/api/v1/rounds/{slug}/deployers/{user_id}",
        lambda w: f"/api/v1/rounds/{_slug(w)}/deployers/{w.bob}",
        (401, 403, 403, 204, 403),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/audit",
        lambda w: f"/api/v1/rounds/{_slug(w)}/audit",
        (401, 403, 403, 200, 403),
    ),
    Row(
        "GET",
        "/api/v1/rounds/{slug}/audit.jsonl",
        lambda w: f"/api/v1/rounds/{_slug(w)}/audit.jsonl",
        (401, 403, 403, 200, 403),
    ),
    Row(
        "GET",
        "/api/v1/submissions/{submission_id}/events",
        lambda w: f"/api/v1/submissions/{w.submission}/events",
        (401, 0, 404, 0, 404),  # 0: a live stream, not read here
    ),
    Row(
        "POST",
        "/api/v1/submissions/{submission_id}/release",
        lambda w: f"/api/v1/submissions/{w.submission}/release",
        (401, 403, 404, 409, 404),  # queued, not held: the organizer is told it cannot be
    ),
    Row(
        "POST",
        "/api/v1/submissions/{submission_id}/disqualify",
        lambda w: f"/api/v1/submissions/{w.submission}/disqualify",
        (401, 403, 404, 200, 404),  # to other teams, another team's submission does not exist
        lambda w: {"json": {"reason": "matrix test"}},
    ),
    Row(
        "POST",
        "/api/v1/rounds/{slug}/freeze",
        lambda w: f"/api/v1/rounds/{_slug(w)}/freeze",
        (401, 403, 403, 200, 403),
    ),
    Row(
        "POST",
        "/api/v1/rounds/{slug}/close",
        lambda w: f"/api/v1/rounds/{_slug(w)}/close",
        (401, 403, 403, 200, 403),
    ),
    Row(
        "DELETE",
        "/api/v1/me/api-keys/{key_id}",
        lambda w: f"/api/v1/me/api-keys/{w.key_of_a}",
        (401, 204, 404, 404, 404),
    ),
    Row(
        "POST",
        "/api/v1/auth/logout",
        lambda w: "/api/v1/auth/logout",
        (401, 204, 204, 204, 204),
    ),
]
# Routes every caller may use without being anyone in particular, checked elsewhere:
# signing in needs credentials (tests/auth), the web app's pages are static files.
UNLISTED = {("POST", "/api/v1/auth/token")}
# Where a caller goes last, so that its earlier rows hold: A before the others on "leave".
_A_LAST = ("anonymous", "team B", "organizer", "other organizer", "team A")
ORDER = {"/api/v1/me/api-keys/{key_id}": _A_LAST}


def _world(client: TestClient, session_factory: sessionmaker[Session]) -> World:
    arena = build_arena(client, session_factory, daily_quota=20)
    b = account(client, session_factory, "bob@example.org")
    team_b = client.post(
        f"/api/v1/rounds/{arena.slug}/teams", json={"name": "Rivals"}, headers=b.headers
    )
    assert team_b.status_code == 201, team_b.text
    other = account(client, session_factory, "other-org@example.org", Role.ORGANIZER)
    h = arena.patch_model("x0 > 1")
    sent = arena.submit("x0 > 1", h)
    assert sent.status_code == 202, sent.text
    key = client.post("/api/v1/me/api-keys", json={"name": "a"}, headers=arena.member.headers)
    mine = client.get(f"/api/v1/rounds/{arena.slug}/my-team", headers=arena.member.headers)
    population = client.post(
        f"/api/v1/rounds/{arena.slug}/populations",
        data={"name": "world"},
        files={"file": ("p.csv", csv_bytes(arena.train.head(40)))},
        headers=arena.organizer.headers,
    )
    assert population.status_code == 201, population.text
    watched = client.post(
        f"/api/v1/rounds/{arena.slug}/watched-groups",
        json={"expression": "x1 > 0"},
        headers=arena.organizer.headers,
    )
    return World(
        arena,
        dict(zip(CALLERS, (None, arena.member, b, arena.organizer, other), strict=True)),
        arena.team["id"],
        team_b.json()["id"],
        mine.json()["invite_code"],
        sent.json()["submission"]["id"],
        key.json()["id"],
        h,
        population.json()["id"],
        watched.json()["id"],
        b.id,
    )


def test_every_endpoint_answers_every_caller_as_it_must(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    world = _world(client, session_factory)
    wrong = []
    checked = 0
    for row in MATRIX:
        for caller in ORDER.get(row.route, CALLERS):
            expected = row.expected[CALLERS.index(caller)]
            if expected == 0:
                continue
            kwargs = row.request(world)
            answer = client.request(
                row.method, row.path(world), headers=world.headers(caller), **kwargs
            )
            checked += 1
            if answer.status_code != expected:
                wrong.append(
                    f"{row.method} {row.route} as {caller}: {answer.status_code} "
                    f"(expected {expected}) {answer.text[:160]}"
                )
    assert not wrong, "\n".join(wrong)
    assert checked >= 190


def test_team_b_never_sees_team_a_submissions(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    world = _world(client, session_factory)
    listed = client.get(
        f"/api/v1/rounds/{world.arena.slug}/submissions", headers=world.headers("team B")
    )
    assert listed.status_code == 200
    assert world.submission not in [s["id"] for s in listed.json()]
    everything = client.get(
        f"/api/v1/rounds/{world.arena.slug}/submissions", headers=world.headers("organizer")
    )
    assert world.submission in [s["id"] for s in everything.json()]


def test_every_route_of_the_app_is_in_the_matrix() -> None:
    paths = create_app().openapi()["paths"]
    routes = {(method.upper(), path) for path, item in paths.items() for method in item}
    listed = {(row.method, row.route) for row in MATRIX} | UNLISTED
    assert routes - listed == set(), "routes without a row in the authorization matrix"
    assert listed - routes == set(), "rows for routes the app does not have"
