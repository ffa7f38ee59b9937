"""The leaderboard answer cache never serves a stale board."""

from __future__ import annotations

from app.worker.runner import Worker
from tests.submissions.conftest import Arena, drain
from tests.support.api import account


def _board(arena: Arena) -> list[tuple[str, int]]:
    body = arena.client.get(f"/api/v1/rounds/{arena.slug}/leaderboard").json()
    return [(e["team"], e["accepted"]) for e in body["entries"]]


def _submitted(arena: Arena) -> dict[str, int]:
    body = arena.client.get(f"/api/v1/rounds/{arena.slug}/leaderboard").json()
    return {e["team"]: e["submissions"] for e in body["entries"]}


def test_board_follows_verdicts_teams_and_disqualifications(arena: Arena, worker: Worker) -> None:
    assert _board(arena) == [("Sleuths", 0)]
    assert _board(arena) == [("Sleuths", 0)]  # served from the cache
    factory = arena.client.app.state.session_factory  # type: ignore[attr-defined]
    rival = account(arena.client, factory, "rival@example.org")
    arena.client.post(
        f"/api/v1/rounds/{arena.slug}/teams", json={"name": "Rivals"}, headers=rival.headers
    )
    assert sorted(_board(arena)) == [("Rivals", 0), ("Sleuths", 0)]
    ghost = account(arena.client, factory, "ghost@example.org")
    ghosts = arena.client.post(
        f"/api/v1/rounds/{arena.slug}/teams", json={"name": "Ghosts"}, headers=ghost.headers
    ).json()
    assert ("Ghosts", 0) in _board(arena)
    left = arena.client.post(f"/api/v1/teams/{ghosts['id']}/leave", headers=ghost.headers)
    assert left.status_code == 204, left.text
    assert sorted(_board(arena)) == [("Rivals", 0), ("Sleuths", 0)]  # an empty team is gone
    expression = arena.planted[0]
    sub = arena.submit(expression, arena.patch_model(expression)).json()["submission"]
    assert _submitted(arena) == {"Rivals": 0, "Sleuths": 1}  # queued, already counted
    drain(worker)
    assert _board(arena)[0] == ("Sleuths", 1)
    arena.client.post(
        f"/api/v1/submissions/{sub['id']}/disqualify",
        json={"reason": "test"},
        headers=arena.organizer.headers,
    )
    assert ("Sleuths", 0) in _board(arena)
