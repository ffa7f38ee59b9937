"""Workers for real: concurrent workers on one database, and a worker killed mid-evaluation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.core.settings import Settings
from app.core.storage import LocalStore
from app.rounds.models import ModelVersion, Round
from app.submissions.models import Submission
from app.worker.runner import Worker
from tests.submissions.conftest import Arena

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py


def _worker(factory: sessionmaker[Session], settings: Settings, name: str, tmp: Path) -> Worker:
    return Worker(
        factory,
        LocalStore(settings.storage_dir),
        settings,
        name=name,
        cache_dir=tmp / f"cache-{name}",
    )


@pytest.mark.parametrize("shared_cache", [False, True], ids=["own-caches", "shared-cache"])
def test_two_workers_decide_each_submission_once_in_arrival_order(
    live: tuple[Arena, sessionmaker[Session], Settings], tmp_path: Path, shared_cache: bool
) -> None:
    # Separate caches: workers on different machines. One shared cache: the demo's in-process
    # workers, which must take turns on the cached round state under the round's lock.
    arena, factory, settings = live
    ids = []
    for i, expression in enumerate([*arena.planted, "x0 > 0", arena.planted[0]]):
        response = arena.submit(
            expression, arena.patch_model(expression), headers={"Idempotency-Key": f"k{i}"}
        )
        assert response.status_code == 202, response.text
        ids.append(response.json()["submission"]["id"])
    workers = [_worker(factory, settings, f"w{i}", tmp_path) for i in range(2)]
    if shared_cache:
        workers[1].cache = workers[0].cache
    processed = [0, 0]

    def drain(i: int) -> None:
        while workers[i].run_once():
            processed[i] += 1

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # One worker may finish the queue before the other claims anything; together they did all.
    assert sum(processed) == len(ids)
    for w in workers:  # a worker may have stopped while the other still had evaluated jobs
        w.decide_ready(1)
    with factory() as session:
        subs = session.scalars(select(Submission).order_by(Submission.id)).all()
        assert [s.status for s in subs] == ["decided"] * len(ids)
        assert all(s.attempts == 1 for s in subs)
        decided_order = [s.id for s in sorted(subs, key=lambda s: (s.decided_at, s.id))]
        assert decided_order == ids
        verdicts = session.scalars(select(AuditEvent).where(AuditEvent.action == "verdict")).all()
        assert sorted(e.detail["submission_id"] for e in verdicts) == ids
        round_ = session.scalars(select(Round)).one()
        n_versions = session.scalar(select(func.count(ModelVersion.id)))
        assert n_versions == round_.head_version + 1
        assert [s.outcome for s in subs][-1] == "rejected"  # the repeated planted group
        accepted = [s.id for s in subs if s.outcome == "accepted"]
        assert round_.head_version >= len(accepted) == len(arena.planted)


def test_a_worker_killed_mid_evaluation_is_replaced_and_the_job_decided_once(
    live: tuple[Arena, sessionmaker[Session], Settings], tmp_path: Path
) -> None:
    arena, factory, settings = live
    expression = arena.planted[0]
    sub_id = arena.submit(expression, arena.patch_model(expression)).json()["submission"]["id"]
    env = {
        **os.environ,
        "BOUNTY_DATABASE_URL": settings.database_url,
        "BOUNTY_STORAGE_DIR": str(settings.storage_dir),
        "BOUNTY_ENVIRONMENT": "test",
    }
    victim = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert victim.stderr is not None
    for line in victim.stderr:  # wait until it holds the job, then kill it mid-evaluation
        if f"claimed submission {sub_id}" in line:
            break
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    with factory() as session:
        held = session.get(Submission, sub_id)
        assert held is not None
        assert (held.status, held.attempts) == ("running", 1)
        assert held.lease_owner is not None
    # Time passes: the dead worker's lease runs out.
    with factory() as session, session.begin():
        session.execute(
            update(Submission)
            .where(Submission.id == sub_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    rescuer = _worker(factory, settings, "rescuer", tmp_path)
    assert rescuer.run_once()
    assert not rescuer.run_once()
    with factory() as session:
        sub = session.get(Submission, sub_id)
        assert sub is not None
        assert (sub.status, sub.outcome, sub.attempts) == ("decided", "accepted", 2)
        verdicts = session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "verdict")
        )
        assert verdicts == 1
        assert session.scalar(select(func.count(ModelVersion.id))) == 2
