"""The audit log: every organizer action and verdict, readable and exportable by the round's
organizer only, and append-only in the database itself."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.worker.runner import Worker
from tests.submissions.conftest import Arena, drain
from tests.support.api import account

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py


def _log(arena: Arena, **params: object) -> dict[str, object]:
    response = arena.client.get(
        f"/api/v1/rounds/{arena.slug}/audit", params=params, headers=arena.organizer.headers
    )
    assert response.status_code == 200, response.text
    page: dict[str, object] = response.json()
    return page


def test_organizer_actions_and_verdicts_are_logged_in_order(arena: Arena, worker: Worker) -> None:
    accepted = arena.submit(arena.planted[0], arena.patch_model(arena.planted[0])).json()
    rejected = arena.submit("x0 > 100", arena.patch_model("x0 > 0")).json()
    assert drain(worker) == 2
    sub_id = accepted["submission"]["id"]
    response = arena.client.post(
        f"/api/v1/submissions/{sub_id}/disqualify",
        json={"reason": "two accounts"},
        headers=arena.organizer.headers,
    )
    assert response.status_code == 200, response.text
    assert arena.client.post(
        f"/api/v1/rounds/{arena.slug}/freeze", headers=arena.organizer.headers
    ).is_success

    events = _log(arena)["events"]
    assert isinstance(events, list)
    actions = [e["action"] for e in events]
    for expected in (
        "round.created",
        "round.dataset_uploaded",
        "round.base_model_set",
        "round.opened",
        "verdict",
        "submission.disqualified",
        "round.frozen",
    ):
        assert expected in actions, (expected, actions)
    assert actions.index("round.created") < actions.index("round.opened")
    assert actions.index("round.opened") < actions.index("verdict")
    assert actions[-1] == "round.frozen"
    ids = [e["id"] for e in events]
    assert ids == sorted(ids)
    verdicts = [e for e in events if e["action"] == "verdict"]
    assert [v["detail"]["submission_id"] for v in verdicts] == [
        sub_id,
        rejected["submission"]["id"],
    ]
    assert [v["actor"] for v in verdicts] == [None, None]  # the workers decided
    opened = next(e for e in events if e["action"] == "round.opened")
    assert opened["actor"]["id"] == arena.organizer.id


def test_pages_and_the_export_agree(arena: Arena, worker: Worker) -> None:
    arena.submit("x0 > 0", arena.patch_model("x0 > 0"))
    drain(worker)
    whole = _log(arena)["events"]
    assert isinstance(whole, list)
    assert len(whole) >= 5
    paged, after = [], 0
    while True:
        page = _log(arena, after=after, limit=2)
        paged += page["events"]  # type: ignore[operator]
        if page["next_after"] is None:
            break
        after = page["next_after"]  # type: ignore[assignment]
    assert paged == whole
    only = _log(arena, action="verdict")["events"]
    assert only == [e for e in whole if e["action"] == "verdict"]

    response = arena.client.get(
        f"/api/v1/rounds/{arena.slug}/audit.jsonl", headers=arena.organizer.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in response.headers["content-disposition"]
    assert [json.loads(line) for line in response.text.splitlines()] == whole


def test_only_the_rounds_organizer_reads_the_log(
    arena: Arena, session_factory: sessionmaker[Session]
) -> None:
    other = account(arena.client, session_factory, "other-org@example.org", Role.ORGANIZER)
    for path in ("audit", "audit.jsonl"):
        url = f"/api/v1/rounds/{arena.slug}/{path}"
        assert arena.client.get(url).status_code == 401
        assert arena.client.get(url, headers=arena.member.headers).status_code == 403
        assert arena.client.get(url, headers=other.headers).status_code == 403


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'forged'",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_to_change_or_delete_entries(
    arena: Arena, db: Session, statement: str
) -> None:
    before = db.execute(text("SELECT count(*), min(action) FROM audit_events")).one()
    assert before[0] > 0
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text(statement))
    assert db.execute(text("SELECT count(*), min(action) FROM audit_events")).one() == before
