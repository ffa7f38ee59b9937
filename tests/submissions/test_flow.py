"""Submitting pairs over HTTP, evaluating them with a real worker, and reading verdicts."""

from __future__ import annotations

import pickle
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.core.db import utcnow
from app.core.storage import StorageError
from app.evaluation.sandbox import Limits
from app.rounds.models import ModelVersion
from app.submissions.models import Submission
from app.worker.runner import Worker
from tests.submissions.conftest import Arena, drain


def test_planted_group_is_accepted_end_to_end(arena: Arena, worker: Worker, db: Session) -> None:
    expression = arena.planted[0]
    response = arena.submit(expression, arena.patch_model(expression))
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["Location"] == body["submission"]["url"]
    assert body["submission"]["status"] == "queued"
    assert body["quota"]["remaining"] == 4
    assert drain(worker) == 1
    got = arena.client.get(body["submission"]["url"], headers=arena.member.headers).json()
    assert got["status"] == "decided"
    verdict = got["verdict"]
    assert verdict["outcome"] == "accepted"
    assert verdict["version"] == 1
    assert verdict["train"]["score"] > 0
    # Rounded disclosure: 4 decimals at most, and the message carries no holdout number.
    assert verdict["holdout"]["score"] == round(verdict["holdout"]["score"], 4)
    assert verdict["message"] == "accepted: the pair was spliced into the model"
    versions = db.scalars(select(ModelVersion).order_by(ModelVersion.version)).all()
    assert [(v.version, v.kind) for v in versions] == [(0, "base"), (1, "patch")]
    assert versions[1].holdout_loss < versions[0].holdout_loss
    listed = arena.client.get(f"/api/v1/rounds/{arena.slug}/versions").json()
    assert len(listed) == 2


def test_arrival_order_and_rejections(arena: Arena, worker: Worker, db: Session) -> None:
    good = arena.patch_model(arena.planted[1])
    first = arena.submit(arena.planted[1], good).json()["submission"]["id"]
    second = arena.submit(arena.planted[1], good).json()["submission"]["id"]  # nothing left
    drain(worker)
    subs = {s.id: s for s in db.scalars(select(Submission))}
    assert subs[first].outcome == "accepted"
    assert subs[second].outcome == "rejected"
    assert subs[second].reason == "no_improvement"
    assert subs[first].decided_at <= subs[second].decided_at
    view = arena.client.get(f"/api/v1/submissions/{second}", headers=arena.member.headers).json()
    assert view["verdict"]["holdout"] is None  # rejected: no holdout numbers
    # A rounded round gives one reason for every rejection; its organizer sees the engine's.
    assert view["verdict"]["reason"] == "not_accepted"
    assert view["verdict"]["message"].startswith("not accepted: on the holdout, the group has")
    organizer = arena.client.get(f"/api/v1/submissions/{second}", headers=arena.organizer.headers)
    assert organizer.json()["verdict"]["reason"] == "no_improvement"


def test_malformed_expression_is_422_with_position(arena: Arena) -> None:
    response = arena.submit("age >> 3", arena.patch_model("x0 > 0"))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "group_expression"
    assert error["column"] >= 1
    unknown = arena.submit("x9 > 0", arena.patch_model("x0 > 0"))
    assert unknown.status_code == 422
    assert "x9" in unknown.json()["detail"]


def test_hostile_model_is_422_and_costs_no_quota(arena: Arena) -> None:
    response = arena.submit("x0 > 0", pickle.dumps({"not": "a model"}))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "model"
    assert "pickle" in response.json()["detail"]
    ok = arena.submit("x0 > 0", arena.patch_model("x0 > 0"))
    assert ok.json()["quota"]["remaining"] == 4


def test_wrong_content_type_is_415(arena: Arena) -> None:
    response = arena.client.post(
        f"/api/v1/rounds/{arena.slug}/submissions",
        json={"group_expression": "x0 > 0"},
        headers=arena.member.headers,
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


def test_oversized_model_is_413(arena: Arena) -> None:
    limit = arena.client.app.state.settings.max_model_bytes  # type: ignore[attr-defined]
    response = arena.submit("x0 > 0", b"\0" * (limit + 1))
    assert response.status_code == 413


@pytest.mark.both_backends
def test_quota_counts_every_stored_submission(arena: Arena) -> None:
    model = arena.patch_model("x0 > 0")
    for remaining in (4, 3, 2, 1, 0):
        response = arena.submit("x0 > 0", model)
        assert response.json()["quota"]["remaining"] == remaining
    refused = arena.submit("x0 > 0", model)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["quota"]["remaining"] == 0


@pytest.mark.both_backends
def test_idempotency_key_never_double_submits(arena: Arena, db: Session) -> None:
    model = arena.patch_model("x0 > 0")
    key = {"Idempotency-Key": "retry-me-1"}
    first = arena.submit("x0 > 0", model, headers=key)
    again = arena.submit("x0 > 0", model, headers=key)
    assert first.status_code == again.status_code == 202
    assert first.json()["submission"]["id"] == again.json()["submission"]["id"]
    assert len(db.scalars(select(Submission)).all()) == 1


def test_a_team_sees_only_its_own_submissions(arena: Arena) -> None:
    from tests.support.api import account

    sub = arena.submit("x0 > 0", arena.patch_model("x0 > 0")).json()["submission"]
    factory = arena.client.app.state.session_factory  # type: ignore[attr-defined]
    rival = account(arena.client, factory, "rival@example.org")
    arena.client.post(
        f"/api/v1/rounds/{arena.slug}/teams", json={"name": "Rivals"}, headers=rival.headers
    )
    assert arena.client.get(sub["url"], headers=rival.headers).status_code == 404
    listed = arena.client.get(f"/api/v1/rounds/{arena.slug}/submissions", headers=rival.headers)
    assert listed.json() == []
    organizer_view = arena.client.get(sub["url"], headers=arena.organizer.headers)
    assert organizer_view.status_code == 200
    outsider = account(arena.client, factory, "nobody@example.org")
    no_team = arena.submit("x0 > 0", arena.patch_model("x0 > 0"), who=outsider)
    assert no_team.status_code == 403


def test_no_submissions_outside_open(arena: Arena) -> None:
    freeze = arena.client.post(
        f"/api/v1/rounds/{arena.slug}/freeze", headers=arena.organizer.headers
    )
    assert freeze.status_code == 200
    response = arena.submit("x0 > 0", arena.patch_model("x0 > 0"))
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/round-not-open"


def test_evaluation_failure_gives_an_invalid_verdict(
    arena: Arena, worker: Worker, db: Session
) -> None:
    response = arena.submit("x0 > 0", arena.patch_model("x0 > 0"))
    sub_id = response.json()["submission"]["id"]
    worker.limits = Limits(cpu_seconds=5, wall_seconds=0.001, memory_mb=4096)  # cannot finish
    drain(worker)
    view = arena.client.get(f"/api/v1/submissions/{sub_id}", headers=arena.member.headers).json()
    assert view["status"] == "decided"
    assert view["verdict"]["outcome"] == "invalid"
    assert "longer than" in view["verdict"]["message"]
    assert db.scalars(select(ModelVersion)).all()[-1].version == 0


@pytest.mark.both_backends
def test_abandoned_job_is_taken_over_and_decided_once(
    arena: Arena, worker: Worker, db: Session, session_factory: sessionmaker[Session]
) -> None:
    sub_id = arena.submit("x0 > 0", arena.patch_model("x0 > 0")).json()["submission"]["id"]
    dead = Worker(
        session_factory,
        worker.store,
        worker.settings,
        name="dead-worker",
        cache_dir=worker.cache.cache_dir,
    )
    assert dead.claim() == (sub_id, db.get(Submission, sub_id).round_id)
    # The dead worker never finishes; its lease runs out.
    with session_factory() as session, session.begin():
        session.execute(
            update(Submission)
            .where(Submission.id == sub_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    assert drain(worker) == 1
    db.expire_all()
    sub = db.get(Submission, sub_id)
    assert sub.status == "decided"
    assert sub.attempts == 2
    assert sub.lease_owner is None
    # The dead worker waking up cannot write over the verdict.
    dead.evaluate(sub_id)
    db.expire_all()
    assert db.get(Submission, sub_id).decided_at == sub.decided_at
    assert dead.claim() is None


def test_full_artifact_store_is_507_and_stores_nothing(
    arena: Arena, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = arena.patch_model("x0 > 0")
    store = arena.client.app.state.store  # type: ignore[attr-defined]

    def full(*_: object, **__: object) -> str:
        raise StorageError("cannot write to the artifact store: No space left on device", full=True)

    monkeypatch.setattr(store, "put_file", full)
    response = arena.submit("x0 > 0", model)
    assert response.status_code == 507
    assert response.json()["type"] == "/problems/storage-full"
    assert db.scalars(select(Submission)).all() == []
    monkeypatch.undo()
    assert arena.submit("x0 > 0", model).json()["quota"]["remaining"] == 4
