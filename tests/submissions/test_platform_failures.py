"""A busy machine is not an invalid model: when the platform fails to run a pair (the child
cannot be forked, or is killed from outside), the upload-time check tries again and then answers
503 with nothing stored and no quota used, and the worker retries the job and, if the platform
keeps failing, abandons it with a verdict that says so and costs the team nothing.

Kills are real (SIGKILL sent to the evaluation child right after it starts); a fork that fails
with EAGAIN, which a test cannot cause for one process without starving the machine, is
simulated at ``Process.start``.
"""

from __future__ import annotations

import errno
import multiprocessing.context
import os
import signal
from datetime import timedelta

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.core.db import utcnow
from app.evaluation import checks
from app.rounds.models import ModelVersion
from app.submissions.models import Submission
from app.worker.runner import ABANDONED, MAX_ATTEMPTS, PLATFORM_ABANDONED, Worker
from bounty_engine.models import dump_sklearn_model
from tests.submissions.conftest import Arena, drain

ForkServerProcess = multiprocessing.context.ForkServerProcess
REAL_START = ForkServerProcess.start


class Platform:
    """What happens to the next evaluation children: each start is counted; the first
    ``kill_next`` are killed with SIGKILL as soon as they exist, and while ``broken`` is set,
    starting fails as a fork does when the machine is out of processes (EAGAIN)."""

    def __init__(self) -> None:
        self.starts = 0
        self.kill_next = 0
        self.broken = False

    def start(self, process: ForkServerProcess) -> None:
        self.starts += 1
        if self.broken:
            raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        REAL_START(process)
        if self.kill_next > 0:
            self.kill_next -= 1
            assert process.pid is not None
            os.kill(process.pid, signal.SIGKILL)


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Platform:
    found = Platform()

    def start(process: ForkServerProcess) -> None:
        found.start(process)

    monkeypatch.setattr(ForkServerProcess, "start", start)
    return found


def _remaining(arena: Arena) -> int:
    quota = arena.client.get(f"/api/v1/rounds/{arena.slug}/quota", headers=arena.member.headers)
    assert quota.status_code == 200, quota.text
    remaining: int = quota.json()["remaining"]
    return remaining


def _stored(arena: Arena) -> set[str]:
    return set(arena.client.app.state.store.digests())  # type: ignore[attr-defined]


def test_a_pair_whose_model_raises_is_still_422_and_tried_once(
    arena: Arena, platform: Platform, db: Session
) -> None:
    # h was fitted on a column the round does not have: it raises as soon as it predicts.
    stranger = LogisticRegression().fit(pd.DataFrame({"zz": [0.0, 1.0, 2.0, 3.0]}), [0, 1, 0, 1])
    response = arena.submit("x0 > 0", dump_sklearn_model(stranger))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert "the model failed while predicting" in problem["detail"]
    assert problem["errors"][0]["field"] == "model"
    assert platform.starts == 1  # the pair's own failure is not tried again
    assert db.scalars(select(Submission)).all() == []


def test_a_platform_that_keeps_failing_at_upload_is_503_with_nothing_kept(
    arena: Arena, platform: Platform, db: Session
) -> None:
    model = arena.patch_model(arena.planted[0])
    stored, left = _stored(arena), _remaining(arena)
    platform.broken = True
    key = {"Idempotency-Key": "busy-machine-1"}

    refused = arena.submit(arena.planted[0], model, headers=key)

    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0
    problem = refused.json()
    assert problem["type"] == "/problems/evaluation-unavailable"
    assert "nothing was stored" in problem["detail"]
    assert "Resource temporarily unavailable" in problem["detail"]
    assert platform.starts == checks.CHECK_ATTEMPTS  # tried again before giving up
    # Nothing kept: no row, no file, no quota used, and no record of the key.
    assert db.scalars(select(Submission)).all() == []
    assert _stored(arena) == stored
    assert _remaining(arena) == left

    # The client retries with the same key once the machine is well: a new check, accepted
    # once, and the same submission for any further retry.
    platform.broken = False
    accepted = arena.submit(arena.planted[0], model, headers=key)
    assert accepted.status_code == 202, accepted.text
    again = arena.submit(arena.planted[0], model, headers=key)
    assert again.status_code == 202, again.text
    assert again.json()["submission"]["id"] == accepted.json()["submission"]["id"]
    assert len(db.scalars(select(Submission)).all()) == 1
    assert _remaining(arena) == left - 1


def test_a_child_killed_at_upload_is_tried_again_and_accepted(
    arena: Arena, platform: Platform, worker: Worker
) -> None:
    left = _remaining(arena)
    platform.kill_next = 1
    response = arena.submit(arena.planted[0], arena.patch_model(arena.planted[0]))
    assert response.status_code == 202, response.text
    assert platform.starts == 2
    assert response.json()["quota"]["remaining"] == left - 1
    assert drain(worker) == 1
    decided = arena.client.get(response.json()["submission"]["url"], headers=arena.member.headers)
    assert decided.json()["verdict"]["outcome"] == "accepted"


def _submission(db: Session, sub_id: int) -> Submission:
    db.expire_all()
    sub = db.get(Submission, sub_id)
    assert sub is not None
    return sub


def _lease_runs_out(factory: sessionmaker[Session], sub_id: int) -> None:
    """The job's lease (or back-off) is over, as it would be some seconds later."""
    with factory() as session, session.begin():
        session.execute(
            update(Submission)
            .where(Submission.id == sub_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )


def test_a_job_the_platform_failed_is_retried_then_decided(
    arena: Arena,
    platform: Platform,
    worker: Worker,
    db: Session,
    session_factory: sessionmaker[Session],
) -> None:
    response = arena.submit(arena.planted[0], arena.patch_model(arena.planted[0]))
    sub_id = response.json()["submission"]["id"]
    platform.kill_next = 1

    assert worker.run_once()

    # Not a verdict: queued again, the attempt counted, not claimable before its back-off.
    sub = _submission(db, sub_id)
    assert (sub.status, sub.outcome, sub.eval_error, sub.attempts) == ("queued", None, None, 1)
    assert sub.lease_owner is None
    assert sub.lease_expires_at is not None
    assert sub.lease_expires_at > utcnow() + timedelta(seconds=worker.platform_backoff[0] - 5)
    assert worker.claim() is None
    assert not worker.run_once()

    # Once the back-off is over, it is evaluated again and decided as the pair deserves.
    _lease_runs_out(session_factory, sub_id)
    assert drain(worker) == 1
    sub = _submission(db, sub_id)
    assert (sub.status, sub.outcome, sub.attempts) == ("decided", "accepted", 2)


def test_a_job_the_platform_keeps_failing_is_abandoned_at_no_cost_to_the_team(
    arena: Arena, platform: Platform, worker: Worker, db: Session
) -> None:
    left = _remaining(arena)
    response = arena.submit(arena.planted[0], arena.patch_model(arena.planted[0]))
    sub_id = response.json()["submission"]["id"]
    assert _remaining(arena) == left - 1
    platform.broken = True
    worker.platform_backoff = (0.0,)  # no waiting between the attempts of this test

    assert drain(worker) == MAX_ATTEMPTS

    sub = _submission(db, sub_id)
    assert (sub.status, sub.outcome, sub.attempts) == ("decided", "invalid", MAX_ATTEMPTS)
    assert sub.eval_error == PLATFORM_ABANDONED
    view = arena.client.get(f"/api/v1/submissions/{sub_id}", headers=arena.member.headers)
    verdict = view.json()["verdict"]
    assert verdict["outcome"] == "invalid"
    assert "the platform failed" in verdict["message"]
    assert "not the pair's fault" in verdict["message"]
    assert _remaining(arena) == left  # the team has its submission back
    assert [v.version for v in db.scalars(select(ModelVersion))] == [0]

    # The round goes on: the next pair is evaluated and decided once the platform is well.
    platform.broken = False
    later = arena.submit(arena.planted[0], arena.patch_model(arena.planted[0]))
    assert later.status_code == 202, later.text
    assert drain(worker) == 1
    decided = _submission(db, later.json()["submission"]["id"])
    assert decided.outcome == "accepted"


def test_a_job_whose_workers_kept_dying_costs_the_team_nothing(
    arena: Arena, worker: Worker, db: Session, session_factory: sessionmaker[Session]
) -> None:
    left = _remaining(arena)
    sub_id = arena.submit("x0 > 0", arena.patch_model("x0 > 0")).json()["submission"]["id"]
    for _ in range(MAX_ATTEMPTS):  # claimed, then its worker dies and the lease runs out
        assert worker.claim() is not None
        _lease_runs_out(session_factory, sub_id)
    assert drain(worker) == 1
    sub = _submission(db, sub_id)
    assert (sub.status, sub.outcome, sub.eval_error) == ("decided", "invalid", ABANDONED)
    assert _remaining(arena) == left
