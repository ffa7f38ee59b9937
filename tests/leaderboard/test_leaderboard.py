"""The leaderboard: ranking by credited improvement, disclosure modes, freezing, query count."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session

from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.leaderboard.service import Standing, ranked
from app.rounds.access import touch
from app.rounds.disclosure import round_to_step, step_at_least
from app.rounds.models import ModelVersion, Round
from app.submissions.models import Submission
from app.teams.models import Team
from app.worker.runner import Worker
from tests.leaderboard.conftest import another_round, api, factory, rival
from tests.submissions.conftest import Arena, drain

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py


def _submissions(db: Session, slug: str) -> list[Submission]:
    db.expire_all()
    round_id = db.scalar(select(Round.id).where(Round.slug == slug))
    query = select(Submission).where(Submission.round_id == round_id).order_by(Submission.id)
    return list(db.scalars(query))


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _table(board: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(e["rank"], e["team"], e["accepted"], e["submissions"]) for e in board["entries"]]


def _n_holdout(game: Arena) -> int:
    found: int = game.client.get(f"/api/v1/rounds/{game.slug}").json()["data"]["n_holdout"]
    return found


def _rounded_mean(value: float, n_holdout: int) -> float:
    """A mean over the holdout as the rounded disclosure documents it: to the 1-2-5 step of at
    least 1 / (2 sqrt(n_holdout)), half the largest standard error of a 0-1 mean loss."""
    return round_to_step(value, step_at_least(1 / (2 * math.sqrt(n_holdout))))


def _rounded_group(stats: dict[str, Any], n_holdout: int) -> tuple[float, ...]:
    """A group's holdout (n_group, loss before, loss after, score) as the rounded disclosure
    documents them, for the 0-1 loss."""
    n_group = stats["n_group"]
    loss_step = step_at_least(1 / (2 * math.sqrt(n_group)))
    return (
        round_to_step(n_group, step_at_least(math.sqrt(n_group) / 2)),
        round_to_step(stats["group_loss_before"], loss_step),
        round_to_step(stats["group_loss_after"], loss_step),
        round_to_step(stats["score"], step_at_least(math.sqrt(n_group) / (2 * n_holdout))),
    )


def test_teams_are_ranked_by_credited_improvement(
    arena: Arena, worker: Worker, db: Session
) -> None:
    p0, p1, p2 = arena.planted
    bob = rival(arena, "bob@example.org", "Rivals")
    rival(arena, "cat@example.org", "Idle")
    for expression, who in ((p2, None), (p0, bob), (p2, None), (p1, bob)):
        response = arena.submit(expression, arena.patch_model(expression), who=who)
        assert response.status_code == 202, response.text
    assert drain(worker) == 4
    subs = _submissions(db, arena.slug)
    assert [s.outcome for s in subs] == ["accepted", "accepted", "rejected", "accepted"]
    scores = [s.score or 0.0 for s in subs]

    board = api(arena, "leaderboard")  # public: anonymous callers see it
    assert (board["disclosure"], board["ranked_by"], board["as_of"]) == (
        "rounded",
        "improvement",
        None,
    )
    assert _table(board) == [(1, "Rivals", 2, 2), (2, "Sleuths", 1, 2), (None, "Idle", 0, 0)]
    assert board["resolution"] == step_at_least(1 / (2 * math.sqrt(_n_holdout(arena))))
    rivals, sleuths, idle = board["entries"]
    n_holdout = _n_holdout(arena)
    assert rivals["improvement"] == _rounded_mean(scores[1] + scores[3], n_holdout)
    assert sleuths["improvement"] == _rounded_mean(scores[0], n_holdout)
    assert (idle["improvement"], idle["last_improvement_at"]) == (0.0, None)
    assert _when(rivals["last_improvement_at"]) == subs[3].decided_at
    assert _when(sleuths["last_improvement_at"]) == subs[0].decided_at
    assert api(arena, "leaderboard", arena.member) == board

    organizer = api(arena, "leaderboard", arena.organizer)
    assert organizer["disclosure"] == "exact"
    assert organizer["entries"][0]["improvement"] == pytest.approx(scores[1] + scores[3], rel=1e-12)

    # Disqualified submissions are no longer credited: Rivals drop out of the ranking.
    with factory(arena.client)() as session, session.begin():
        session.execute(
            update(Submission)
            .where(Submission.id.in_([subs[1].id, subs[3].id]))
            .values(disqualified_at=utcnow())
        )
        touch(session, subs[1].round_id)  # as every writer of what the leaderboard shows does
    after = api(arena, "leaderboard")
    assert _table(after) == [(1, "Sleuths", 1, 2), (None, "Idle", 0, 0), (None, "Rivals", 0, 2)]
    assert after["entries"][2]["improvement"] == 0.0


@pytest.mark.parametrize("disclosure", ["rounded", "exact"])
def test_holdout_numbers_follow_the_disclosure(
    arena: Arena, worker: Worker, db: Session, disclosure: str
) -> None:
    game = another_round(arena, disclosure=disclosure)
    p0 = game.planted[0]
    assert game.submit(p0, game.patch_model(p0)).status_code == 202
    drain(worker)
    (sub,) = _submissions(db, game.slug)
    assert sub.outcome == "accepted"
    assert sub.score is not None
    assert sub.score != round(sub.score, 4)  # the holdout size makes rounding visible
    n_holdout = _n_holdout(game)

    def shown(value: float) -> float:
        return _rounded_mean(value, n_holdout) if disclosure == "rounded" else value

    board = api(game, "leaderboard", game.member)
    assert board["disclosure"] == disclosure
    assert board["entries"][0]["improvement"] == shown(sub.score)
    assert api(game, "leaderboard", game.organizer)["entries"][0]["improvement"] == sub.score

    head = db.scalar(
        select(ModelVersion).where(ModelVersion.round_id == sub.round_id, ModelVersion.version == 1)
    )
    assert head is not None
    point = api(game, "history", game.member)["versions"][1]
    assert point["holdout_loss"] == shown(head.holdout_loss)
    assert point["train_loss"] == head.train_loss
    assert api(game, "history", game.organizer)["versions"][1]["holdout_loss"] == head.holdout_loss

    stats = (sub.verdict or {})["stats"]["holdout"]
    fields = ("n_group", "group_loss_before", "group_loss_after", "score")
    exact = tuple(stats[name] for name in fields)
    expected = _rounded_group(stats, n_holdout) if disclosure == "rounded" else exact
    assert (disclosure == "rounded") == (expected != exact)
    (group,) = api(game, "groups", game.member)["groups"]
    assert tuple(group[name] for name in fields) == expected
    verdict = game.client.get(f"/api/v1/submissions/{sub.id}", headers=game.member.headers)
    assert tuple(verdict.json()["verdict"]["holdout"][name] for name in fields) == expected


def test_without_disclosure_teams_rank_by_accepted_and_ties_share_a_rank(
    arena: Arena, worker: Worker, db: Session
) -> None:
    game = another_round(arena, disclosure="none")
    bob = rival(game, "bob@example.org", "Rivals")
    p0, p1, p2 = game.planted
    assert game.submit(p2, game.patch_model(p2)).status_code == 202  # smaller, earlier
    drain(worker)
    assert game.submit(p0, game.patch_model(p0), who=bob).status_code == 202  # larger, later
    drain(worker)
    small, large = _submissions(db, game.slug)
    assert small.score is not None
    assert large.score is not None
    assert small.score < large.score

    board = api(game, "leaderboard", game.member)
    assert (board["disclosure"], board["ranked_by"]) == ("none", "accepted")
    # One accepted pair each: tied, whatever the hidden scores say; the earlier is listed first.
    assert [(e["rank"], e["team"], e["improvement"]) for e in board["entries"]] == [
        (1, "Sleuths", None),
        (1, "Rivals", None),
    ]
    assert board["resolution"] is None
    assert api(game, "leaderboard") == board
    organizer = api(game, "leaderboard", game.organizer)
    assert organizer["ranked_by"] == "improvement"
    assert [(e["team"], e["improvement"]) for e in organizer["entries"]] == [
        ("Rivals", large.score),
        ("Sleuths", small.score),
    ]

    assert game.submit(p1, game.patch_model(p1), who=bob).status_code == 202
    drain(worker)
    assert _table(api(game, "leaderboard", game.member)) == [
        (1, "Rivals", 2, 2),
        (2, "Sleuths", 1, 1),
    ]
    versions = api(game, "history", game.member)["versions"]
    assert [v["holdout_loss"] for v in versions] == [None] * 4
    assert all(v["train_loss"] > 0 for v in versions)
    groups = api(game, "groups", game.member)["groups"]
    assert len(groups) == 3
    assert {(g["n_group"], g["group_loss_before"], g["score"]) for g in groups} == {
        (None, None, None)
    }
    assert all(g["n_group"] > 0 for g in api(game, "groups", game.organizer)["groups"])


def test_a_frozen_round_shows_the_leaderboard_as_of_its_freeze(
    arena: Arena, worker: Worker, db: Session
) -> None:
    p0, p1, p2 = arena.planted
    assert arena.submit(p0, arena.patch_model(p0)).status_code == 202
    drain(worker)
    for late in (p1, p2):  # queued at the freeze
        assert arena.submit(late, arena.patch_model(late)).status_code == 202
    freeze = arena.client.post(
        f"/api/v1/rounds/{arena.slug}/freeze", headers=arena.organizer.headers
    )
    assert freeze.status_code == 200, freeze.text
    assert drain(worker) == 2  # queued submissions are still decided after the freeze
    before, after, last = _submissions(db, arena.slug)
    assert before.outcome == after.outcome == last.outcome == "accepted"
    frozen_at = db.scalar(select(AuditEvent.created_at).where(AuditEvent.action == "round.frozen"))
    assert frozen_at is not None
    assert before.decided_at is not None
    assert after.decided_at is not None
    assert before.decided_at <= frozen_at < after.decided_at

    n_holdout = _n_holdout(arena)

    def frozen_view() -> None:
        first = _submissions(db, arena.slug)[0]
        assert first.score is not None
        for who in (None, arena.member, arena.organizer):
            board = api(arena, "leaderboard", who)
            assert _when(board["as_of"]) == frozen_at
            assert _table(board) == [(1, "Sleuths", 1, 3)]
            shown = first.score if who is arena.organizer else _rounded_mean(first.score, n_holdout)
            assert board["entries"][0]["improvement"] == pytest.approx(shown, rel=1e-12)
            assert _when(board["entries"][0]["last_improvement_at"]) == first.decided_at
            assert [v["version"] for v in api(arena, "history", who)["versions"]] == [0, 1]
            assert [g["submission_id"] for g in api(arena, "groups", who)["groups"]] == [first.id]

    frozen_view()
    # Disqualifying a late pair replays the round, which decides the first one anew (new model
    # versions; its decision time is kept): the frozen view is still what was decided by then.
    disqualified = arena.client.post(
        f"/api/v1/submissions/{after.id}/disqualify",
        json={"reason": "leaked labels"},
        headers=arena.organizer.headers,
    )
    assert disqualified.status_code == 200, disqualified.text
    redecided = _submissions(db, arena.slug)[0]
    assert redecided.outcome == "accepted"
    assert redecided.decided_at == before.decided_at
    frozen_view()

    closed = arena.client.post(
        f"/api/v1/rounds/{arena.slug}/close", headers=arena.organizer.headers
    )
    assert closed.status_code == 200, closed.text
    final = api(arena, "leaderboard")
    assert final["as_of"] is None
    assert _table(final) == [(1, "Sleuths", 2, 3)]
    assert [v["version"] for v in api(arena, "history")["versions"]] == [0, 1, 2]
    assert [g["submission_id"] for g in api(arena, "groups")["groups"]] == [before.id, last.id]


def test_the_leaderboard_takes_the_same_few_queries_for_many_teams(
    arena: Arena, db: Session, migrated_engine: Engine
) -> None:
    round_ = db.scalar(select(Round).where(Round.slug == arena.slug))
    assert round_ is not None

    def statements() -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(args[2])

        event.listen(migrated_engine, "before_cursor_execute", count)
        try:
            api(arena, "leaderboard")
        finally:
            event.remove(migrated_engine, "before_cursor_execute", count)
        return len(seen)

    few = statements()
    decided = utcnow() - timedelta(hours=1)
    for i in range(40):
        team = Team(round_id=round_.id, name=f"Team {i:02d}", invite_code=f"code-{i:02d}")
        db.add(team)
        db.flush()
        for j in range(5):
            accepted = j < i % 3
            db.add(
                Submission(
                    round_id=round_.id,
                    team_id=team.id,
                    user_id=arena.member.id,
                    group_kind="rule",
                    group_expression="x0 > 0",
                    group_columns=["x0"],
                    model_sha="0" * 64,
                    model_format="skops",
                    status="decided",
                    outcome="accepted" if accepted else "rejected",
                    reason="accepted" if accepted else "no_improvement",
                    score=(i + 1) / 1000 if accepted else None,
                    decided_at=decided + timedelta(seconds=i),
                )
            )
    touch(db, round_.id)
    db.commit()
    assert statements() == few
    board = api(arena, "leaderboard")
    ranked = [e for e in board["entries"] if e["rank"] is not None]
    # Teams with i % 3 == 2 have two accepted scores of (i + 1) / 1000 each: the best is i = 38.
    assert ranked[0]["team"] == "Team 38"
    assert ranked[0]["improvement"] == _rounded_mean(0.039 + 0.039, _n_holdout(arena))
    # Competition ranks over what is shown: ties on (rounded improvement, accepted) share one.
    shown = [(e["improvement"], e["accepted"]) for e in ranked]
    assert shown == sorted(shown, reverse=True)
    assert [e["rank"] for e in ranked] == [1 + sum(o > key for o in shown) for key in shown]
    assert len(ranked) == 26
    assert len({e["rank"] for e in ranked}) < 26  # the rounding does make ties here
    assert {e["submissions"] for e in board["entries"]} == {0, 5}  # Sleuths has none


def test_teams_equal_on_the_shown_figures_share_a_rank() -> None:
    """On a small holdout, rounded improvements are often all 0.0: ranks must then not reveal
    the order the rounding hides, only what the counts shown tell."""
    start = datetime(2026, 12, 1, tzinfo=UTC)

    def team(i: int, improvement: float, accepted: int) -> Standing:
        return Standing(i, f"t{i}", improvement, accepted, accepted + 1, start + timedelta(i))

    teams = [team(1, 0.004, 1), team(2, 0.009, 1), team(3, 0.011, 2), team(4, 0.0, 0)]
    step = 0.05
    shown = {t.team_id: round_to_step(t.improvement, step) for t in teams}
    assert set(shown.values()) == {0.0}
    ranks = [
        (rank, s.team_id) for rank, s in ranked(teams, lambda s: (shown[s.team_id], s.accepted))
    ]
    # Team 3 has more accepted pairs (shown); teams 1 and 2 tie, the earlier listed first.
    assert ranks == [(1, 3), (2, 1), (2, 2), (None, 4)]
    exact = [(rank, s.team_id) for rank, s in ranked(teams, lambda s: (s.improvement, s.accepted))]
    assert exact == [(1, 3), (2, 2), (3, 1), (None, 4)]
