"""Disqualifying a submission replays the round without it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.audit import AuditEvent
from app.rounds.models import ModelVersion
from app.submissions.models import Submission
from app.worker.runner import Worker
from tests.submissions.conftest import Arena, drain

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py


def _versions(db: Session) -> list[tuple[int, str, int | None]]:
    db.expire_all()
    rows = db.scalars(select(ModelVersion).order_by(ModelVersion.version))
    return [(v.version, v.kind, v.submission_id) for v in rows]


def test_disqualifying_an_accepted_pair_replays_the_round(
    arena: Arena, worker: Worker, db: Session
) -> None:
    p0, p1 = arena.planted[0], arena.planted[1]
    ids = [
        arena.submit(expr, arena.patch_model(expr)).json()["submission"]["id"]
        for expr in (p0, p1, p0)
    ]
    drain(worker)
    outcomes = {s.id: s.outcome for s in db.scalars(select(Submission))}
    assert [outcomes[i] for i in ids] == ["accepted", "accepted", "rejected"]
    assert _versions(db) == [(0, "base", None), (1, "patch", ids[0]), (2, "patch", ids[1])]

    denied = arena.client.post(
        f"/api/v1/submissions/{ids[0]}/disqualify",
        json={"reason": "copied"},
        headers=arena.member.headers,
    )
    assert denied.status_code == 403
    response = arena.client.post(
        f"/api/v1/submissions/{ids[0]}/disqualify",
        json={"reason": "copied from another team"},
        headers=arena.organizer.headers,
    )
    assert response.status_code == 200, response.text
    replay = response.json()["replay"]
    assert replay["head_version_before"] == replay["head_version_after"] == 2
    assert sorted(replay["changed_submissions"]) == [ids[0], ids[2]]
    # Without the first pair, the identical third one is now the accepted one.
    assert _versions(db) == [(0, "base", None), (1, "patch", ids[1]), (2, "patch", ids[2])]
    team_view = arena.client.get(
        f"/api/v1/submissions/{ids[0]}", headers=arena.member.headers
    ).json()
    assert team_view["disqualified"] is True
    assert team_view["verdict"]["outcome"] == "disqualified"
    assert "copied from another team" in team_view["verdict"]["message"]
    again = arena.client.post(
        f"/api/v1/submissions/{ids[0]}/disqualify",
        json={"reason": "x"},
        headers=arena.organizer.headers,
    )
    assert again.status_code == 409
    assert (
        db.scalars(select(AuditEvent).where(AuditEvent.action == "submission.disqualified"))
        .one()
        .detail["submission_id"]
        == ids[0]
    )

    # The worker's cached state was for the old version 2: it must notice and rebuild.
    p2 = arena.planted[2]
    later = arena.submit(p2, arena.patch_model(p2)).json()["submission"]["id"]
    drain(worker)
    db.expire_all()
    assert db.get(Submission, later).outcome == "accepted"
    assert _versions(db)[-1] == (3, "patch", later)


def test_disqualifying_a_queued_pair_takes_it_out_before_evaluation(
    arena: Arena, worker: Worker, db: Session
) -> None:
    expr = arena.planted[0]
    sub_id = arena.submit(expr, arena.patch_model(expr)).json()["submission"]["id"]
    response = arena.client.post(
        f"/api/v1/submissions/{sub_id}/disqualify",
        json={"reason": "late"},
        headers=arena.organizer.headers,
    )
    assert response.status_code == 200
    assert response.json()["replay"]["head_version_after"] == 0
    drain(worker)
    db.expire_all()
    sub = db.get(Submission, sub_id)
    assert (sub.status, sub.outcome) == ("decided", "disqualified")
    assert _versions(db) == [(0, "base", None)]
