"""The evaluation worker: claim a queued submission with a lease, evaluate it in the sandbox,
then decide every evaluated submission of its round in arrival order, one transaction each.

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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.core import audit
from app.core.db import transaction, utcnow
from app.core.notify import Notifier, about_submission
from app.core.settings import Settings
from app.core.storage import ArtifactStore, StorageError
from app.rounds.models import Round
from app.rounds.service import touch
from app.submissions.models import Submission, SubmissionStatus
from app.worker.outputs import dump_outputs, load_outputs
from app.worker.replay import mark_disqualified
from app.worker.round_state import RoundCache
from app.worker.sandbox import (
    Limits,
    PairFiles,
    SandboxError,
    SandboxUnavailable,
    run_sandboxed,
)
from app.worker.verdicts import record_verdict, record_versions, tested_before
from bounty_engine.decision import Decision

log = logging.getLogger("bounty.worker")

MAX_ATTEMPTS = 3
ABANDONED = "the evaluation was interrupted repeatedly and was abandoned"
PLATFORM_ABANDONED = (
    "the platform failed to run the evaluation repeatedly (not the pair's fault), so it was "
    "abandoned; it does not count against the team's daily quota: submit the pair again"
)
PLATFORM_BACKOFF_SECONDS = (15.0, 60.0)
"""How long a job waits after its first, second, ... failure of the platform before it is
claimed again."""
MAX_BACKOFF_SECONDS = 5.0
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
        self.limits = Limits.from_settings(settings)
        folder = cache_dir or Path(settings.storage_dir).parent / "worker-cache"
        # Workers in one process share one cache: each decision takes the round's lock before
        # it reads or steps the cached state, so they take turns on it instead of each
        # rebuilding the round after every decision the other made.
        self.cache = cache or RoundCache(store, folder, self.limits)
        self.platform_backoff: tuple[float, ...] = PLATFORM_BACKOFF_SECONDS

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set. With the queue empty, wait ``worker_poll_seconds`` or
        until the notifier reports a change (set ``stop``, then notify, to stop at once)."""
        log.info("worker %s started", self.name)
        failures = 0
        while not stop.is_set():
            mark = self.notifier.mark()
            try:
                busy = self.run_once() or self.decide_leftovers()
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

    # --- evaluation ------------------------------------------------------------------------

    def evaluate(self, submission_id: int) -> None:
        """Run the pair in the sandbox and store its outputs (or why it could not run)."""
        with transaction(self.factory, write=False) as session:
            sub = session.get(Submission, submission_id)
            round_ = session.get(Round, sub.round_id) if sub else None
            if sub is None or round_ is None or sub.status != SubmissionStatus.RUNNING:
                return
            inputs = self.cache.inputs(round_)
        outputs_sha, error = None, None
        try:
            with self._pair_files(sub) as pair:
                outputs = run_sandboxed(
                    pair, inputs.schema, inputs.feature_files, inputs.n_rows, self.limits
                )
            outputs_sha = self.store.put_bytes(dump_outputs(outputs))
        except SandboxError as exc:
            error = str(exc)
        with transaction(self.factory) as session:
            session.execute(
                update(Submission)
                .where(
                    Submission.id == submission_id,
                    Submission.lease_owner == self.name,
                    Submission.status == SubmissionStatus.RUNNING,
                )
                .values(
                    status=SubmissionStatus.EVALUATED,
                    outputs_sha=outputs_sha,
                    eval_error=error,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )

    @contextmanager
    def _pair_files(self, sub: Submission) -> Iterator[PairFiles]:
        with self.store.local_copy(sub.model_sha) as model:
            if sub.group_model_sha is None:
                yield PairFiles(model=model, group_expression=sub.group_expression)
            else:
                with self.store.local_copy(sub.group_model_sha) as group_model:
                    yield PairFiles(model=model, group_model=group_model)

    # --- decisions -------------------------------------------------------------------------

    def decide_leftovers(self) -> bool:
        """Decide what evaluated submissions are left undecided, e.g. by a worker that died
        between storing an evaluation and deciding it; returns whether any was decided."""
        oldest = (
            select(Submission.round_id, func.min(Submission.id).label("first"))
            .where(Submission.status != SubmissionStatus.DECIDED)
            .group_by(Submission.round_id)
            .subquery()
        )
        with transaction(self.factory, write=False) as session:
            rounds = session.scalars(  # those whose oldest undecided submission can be decided
                select(Submission.round_id)
                .join(oldest, Submission.id == oldest.c.first)
                .where(Submission.status == SubmissionStatus.EVALUATED)
            ).all()
        return sum(self.decide_ready(round_id) for round_id in rounds) > 0

    def decide_ready(self, round_id: int) -> int:
        """Decide the round's evaluated submissions in arrival order; returns how many."""
        decided = 0
        while (submission_id := self._decide_next(round_id)) is not None:
            decided += 1
            self.notifier.notify(about_submission(submission_id))
        return decided

    def _decide_next(self, round_id: int) -> int | None:
        """Decide the round's oldest undecided submission if it is evaluated; its id, or None."""
        try:
            with transaction(self.factory) as session:
                # Taking the round's row lock first serializes decisions per round (on SQLite
                # this write takes the database's write lock).
                session.execute(
                    update(Round)
                    .where(Round.id == round_id)
                    .values(head_version=Round.head_version)
                )
                round_ = session.get(Round, round_id)
                sub = session.scalars(
                    select(Submission)
                    .where(
                        Submission.round_id == round_id,
                        Submission.status != SubmissionStatus.DECIDED,
                    )
                    .order_by(Submission.id)
                    .limit(1)
                ).first()
                if round_ is None or sub is None or sub.status != SubmissionStatus.EVALUATED:
                    return None
                self._decide(session, round_, sub)
                decided: int = sub.id
            return decided
        except Exception:
            self.cache.invalidate(round_id)  # the cached evaluator may hold an uncommitted step
            raise

    def _decide(self, session: Session, round_: Round, sub: Submission) -> None:
        key = str(sub.id)
        if sub.disqualified_at is not None:
            mark_disqualified(sub)
            sub.status = SubmissionStatus.DECIDED
            return
        if sub.eval_error is not None or sub.outputs_sha is None:
            decision = Decision.invalid(key, sub.eval_error or "the evaluation produced no output")
        else:
            state = self.cache.state(session, round_)
            decision = state.evaluator.decide(
                key,
                load_outputs(self.store, sub.outputs_sha),
                tested_before=tested_before(session, sub),
                release=sub.released_at is not None,
            )
            if decision.accepted:
                record_versions(session, self.store, round_.id, decision, state.evaluator)
                round_.head_version = state.evaluator.head_version
                self.cache.keep(session, round_, state)
        record_verdict(sub, decision)
        touch(session, round_.id)
        audit.record(
            session,
            "verdict",
            round_id=round_.id,
            actor_id=None,
            submission_id=sub.id,
            outcome=decision.outcome.value,
            reason=decision.reason.value,
        )
        log.info("submission %s: %s (%s)", sub.id, decision.outcome.value, decision.reason.value)
