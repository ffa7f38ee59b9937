"""The evaluation worker: the claim and lease loop over the job queue in the database.

It claims a queued submission with a lease, has ``app.evaluation`` run it in the sandbox, then
decide every evaluated submission of its round in arrival order, one transaction each.

Any number of workers may run, on any machines sharing the database and the artifact store.
A worker that dies stops renewing its lease, and another one takes the job over; decisions
are made under a lock on the round's row and only for the round's oldest undecided
submission, so each submission is decided exactly once and in arrival order.

An evaluation the platform failed (``SandboxUnavailable``: the machine, not the pair) is queued
again, to be claimed after a back-off (``lease_expires_at`` of a queued job is the time before
which it is not claimed); the attempt counts, and after ``MAX_ATTEMPTS`` the job is abandoned
with ``PLATFORM_ABANDONED``: an invalid verdict, in its place in arrival order, that says it
was the platform's failure and does not count against the team's daily quota (neither does
``ABANDONED``, the verdict of a job whose workers kept dying under it).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.core.db import transaction, utcnow
from app.core.notify import Notifier, about_submission
from app.core.settings import Settings
from app.core.storage import ArtifactStore, StorageError
from app.evaluation.cache import RoundCache
from app.evaluation.decide import Evaluation
from app.evaluation.sandbox import (
    Limits,
    SandboxUnavailable,
)
from app.populations.measure import PopulationMeasurer
from app.submissions.models import Submission, SubmissionStatus
from app.submissions.service import ABANDONED, PLATFORM_ABANDONED

log = logging.getLogger("bounty.worker")

MAX_ATTEMPTS = 3
PLATFORM_BACKOFF_SECONDS = (15.0, 60.0)
"""How long a job waits after its first, second, ... failure of the platform before it is
claimed again."""
MAX_BACKOFF_SECONDS = 5.0
IDLE_CHECK_SECONDS = 1.0
"""How often a worker with an empty queue looks for leftover decisions and populations to
measure: each look is a query, and the queue itself is polled every ``worker_poll_seconds``."""
# The database is unreachable, restarting, or dropped the connection (also SQLite's "database
# is locked" past its busy timeout): wait and try again, as the connection pool reconnects.
DATABASE_DOWN = (OperationalError, InterfaceError)


class Worker:
    """One worker process's loop over the job queue in the database."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        store: ArtifactStore,
        settings: Settings,
        *,
        name: str | None = None,
        cache_dir: Path | None = None,
        notifier: Notifier | None = None,
        cache: RoundCache | None = None,
    ) -> None:
        self.factory = factory
        self.notifier = notifier or Notifier()
        self.store = store
        self.settings = settings
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        limits = Limits.from_settings(settings)
        folder = cache_dir or Path(settings.storage_dir).parent / "worker-cache"
        # Workers in one process share one cache: each decision takes the round's lock before
        # it reads or steps the cached state, so they take turns on it instead of each
        # rebuilding the round after every decision the other made.
        self.cache = cache or RoundCache(store, folder, limits)
        self.evaluation = Evaluation(factory, store, self.cache, limits)
        self.populations = PopulationMeasurer(factory, store, folder, limits, owner=self.name)
        self.platform_backoff: tuple[float, ...] = PLATFORM_BACKOFF_SECONDS
        self._next_idle_check = 0.0

    @property
    def limits(self) -> Limits:
        """The sandbox limits of this worker's evaluations."""
        return self.evaluation.limits

    @limits.setter
    def limits(self, value: Limits) -> None:
        self.evaluation.limits = value
        self.populations.limits = value

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set. With the queue empty, wait ``worker_poll_seconds`` or
        until the notifier reports a change (set ``stop``, then notify, to stop at once)."""
        log.info("worker %s started", self.name)
        failures = 0
        while not stop.is_set():
            mark = self.notifier.mark()
            try:
                busy = self.run_once() or self._idle_work()
            except DATABASE_DOWN as exc:
                failures += 1
                delay = min(MAX_BACKOFF_SECONDS, self.settings.worker_poll_seconds * 2**failures)
                log.warning(
                    "worker %s: database unavailable, retrying in %.1f s (%s)",
                    self.name,
                    delay,
                    type(exc.orig).__name__ if exc.orig else exc,
                )
                stop.wait(delay)
                continue
            except Exception:
                # Anything else (a full store, an exhausted connection pool, a bug) must not end
                # the worker: the job's lease runs out and it is taken up again.
                failures += 1
                delay = min(MAX_BACKOFF_SECONDS, self.settings.worker_poll_seconds * 2**failures)
                log.exception("worker %s: unexpected error, retrying in %.1f s", self.name, delay)
                stop.wait(delay)
                continue
            failures = 0
            if not busy and not stop.is_set():
                self.notifier.wait(mark, self.settings.worker_poll_seconds)

    def run_once(self) -> bool:
        """Claim and process one job, if any; returns whether there was one."""
        claimed = self.claim()
        if claimed is None:
            return False
        submission_id, round_id = claimed
        log.info("worker %s claimed submission %s", self.name, submission_id)
        topic = about_submission(submission_id)
        self.notifier.notify(topic)  # each notify follows a commit that event streams can show
        failure: SandboxUnavailable | None = None
        with self._heartbeat(submission_id):
            try:
                self.evaluate(submission_id)
            except StorageError:
                self._release(submission_id)  # not the pair's fault: queued again, uncounted
                raise
            except SandboxUnavailable as exc:
                failure = exc
        if failure is not None and not self._platform_failed(submission_id, failure):
            self.notifier.notify(topic)  # queued again, to be tried after a back-off
            return True
        self.notifier.notify(topic)
        self.decide_ready(round_id)
        return True

    # --- the queue -------------------------------------------------------------------------

    def claim(self) -> tuple[int, int] | None:
        """Lease the oldest queued (or abandoned) submission; (id, round id) or None."""
        now = utcnow()
        claimable = or_(
            and_(  # a queued job backing off after a failure of the platform waits its time
                Submission.status == SubmissionStatus.QUEUED,
                or_(Submission.lease_expires_at.is_(None), Submission.lease_expires_at <= now),
            ),
            and_(Submission.status == SubmissionStatus.RUNNING, Submission.lease_expires_at < now),
        )
        with transaction(self.factory) as session:
            candidate = session.execute(
                select(Submission.id, Submission.round_id, Submission.attempts)
                .where(claimable)
                .order_by(Submission.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if candidate is None:
                return None
            sub_id, round_id, attempts = candidate
            if attempts >= MAX_ATTEMPTS:
                session.execute(
                    update(Submission)
                    .where(Submission.id == sub_id, claimable)
                    .values(
                        status=SubmissionStatus.EVALUATED,
                        eval_error=ABANDONED,
                        lease_owner=None,
                    )
                )
                return sub_id, round_id
            # Conditional, so that two workers racing for the same row cannot both win it.
            won: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(Submission)
                .where(Submission.id == sub_id, claimable)
                .values(
                    status=SubmissionStatus.RUNNING,
                    lease_owner=self.name,
                    lease_expires_at=now + self._lease,
                    attempts=Submission.attempts + 1,
                )
            )
        return (sub_id, round_id) if won.rowcount == 1 else None

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.worker_lease_seconds)

    @contextmanager
    def _heartbeat(self, submission_id: int) -> Iterator[None]:
        """Renew the lease every third of its length while the body runs."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.settings.worker_lease_seconds / 3):
                try:
                    with transaction(self.factory) as session:
                        session.execute(
                            update(Submission)
                            .where(
                                Submission.id == submission_id, Submission.lease_owner == self.name
                            )
                            .values(lease_expires_at=utcnow() + self._lease)
                        )
                except DATABASE_DOWN:  # the next beat tries again; the evaluation goes on
                    log.warning(
                        "worker %s: could not renew the lease of %s", self.name, submission_id
                    )

        thread = threading.Thread(target=beat, daemon=True, name=f"heartbeat-{submission_id}")
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _release(self, submission_id: int) -> None:
        """Give a claimed job back to the queue without counting the attempt."""
        with transaction(self.factory) as session:
            session.execute(
                update(Submission)
                .where(Submission.id == submission_id, Submission.lease_owner == self.name)
                .values(
                    status=SubmissionStatus.QUEUED,
                    attempts=Submission.attempts - 1,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )

    def _platform_failed(self, submission_id: int, exc: SandboxUnavailable) -> bool:
        """After a failure of the platform, queue the job again to be claimed after a back-off
        (the attempt counts), or, once it has had ``MAX_ATTEMPTS``, abandon it with
        ``PLATFORM_ABANDONED`` (evaluated, to be decided invalid). Returns whether it was
        abandoned."""
        mine = and_(
            Submission.id == submission_id,
            Submission.lease_owner == self.name,
            Submission.status == SubmissionStatus.RUNNING,
        )
        with transaction(self.factory) as session:
            attempts = session.scalar(select(Submission.attempts).where(mine))
            if attempts is None:  # the lease was lost meanwhile: the new owner decides
                return False
            if attempts >= MAX_ATTEMPTS:
                log.error(
                    "worker %s: submission %s abandoned after %d failures of the platform: %s",
                    self.name,
                    submission_id,
                    attempts,
                    exc,
                )
                session.execute(
                    update(Submission)
                    .where(mine)
                    .values(
                        status=SubmissionStatus.EVALUATED,
                        outputs_sha=None,
                        eval_error=PLATFORM_ABANDONED,
                        lease_owner=None,
                        lease_expires_at=None,
                    )
                )
                return True
            delay = self.platform_backoff[min(attempts, len(self.platform_backoff)) - 1]
            log.warning(
                "worker %s: submission %s: the platform failed (attempt %d of %d), "
                "trying again in %.0f s: %s",
                self.name,
                submission_id,
                attempts,
                MAX_ATTEMPTS,
                delay,
                exc,
            )
            session.execute(
                update(Submission)
                .where(mine)
                .values(
                    status=SubmissionStatus.QUEUED,
                    lease_owner=None,
                    lease_expires_at=utcnow() + timedelta(seconds=delay),
                )
            )
            return False

    # --- evaluation and decisions (app.evaluation) -----------------------------------------

    def evaluate(self, submission_id: int) -> None:
        """Run the claimed pair in the sandbox and store its outputs (or why it could not run)."""
        self.evaluation.evaluate(submission_id, owner=self.name)

    def decide_leftovers(self) -> bool:
        """Decide what evaluated submissions are left undecided, e.g. by a worker that died
        between storing an evaluation and deciding it; returns whether any was decided."""
        return sum(self.decide_ready(r) for r in self.evaluation.decidable_rounds()) > 0

    def _idle_work(self) -> bool:
        """Leftover decisions, then populations to measure, looked for at most once every
        ``IDLE_CHECK_SECONDS`` while there is none; whether there was work."""
        now = time.monotonic()
        if now < self._next_idle_check:
            return False
        busy = self.decide_leftovers() or self.measure_populations()
        self._next_idle_check = now if busy else now + IDLE_CHECK_SECONDS
        return busy

    def measure_populations(self) -> bool:
        """Measure what one deployment population lacks, with no submission waiting for its
        verdict (``app.populations.measure``); returns whether there was work."""
        return self.populations.measure_next()

    def decide_ready(self, round_id: int) -> int:
        """Decide the round's evaluated submissions in arrival order; returns how many."""
        decided = 0
        while (submission_id := self.evaluation.decide_next(round_id)) is not None:
            decided += 1
            self.notifier.notify(about_submission(submission_id))
        return decided
