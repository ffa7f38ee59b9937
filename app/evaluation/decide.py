"""Where a verdict is decided: a claimed pair is run in the sandbox and its outputs stored, then
the round's evaluated submissions are decided one at a time, in arrival order, each in its own
transaction under the round's lock (docs/acceptance.md has the rule itself).

Deciding only the round's oldest undecided submission, under a lock on the round's row, is what
makes each submission decided exactly once and in arrival order, however many workers run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.core import audit
from app.core.db import transaction
from app.core.storage import ArtifactStore
from app.evaluation.cache import RoundCache
from app.evaluation.outputs import dump_outputs, load_outputs
from app.evaluation.replay import mark_disqualified
from app.evaluation.sandbox import Limits, PairFiles, SandboxError, run_sandboxed
from app.evaluation.verdicts import record_verdict, record_versions, tested_before
from app.rounds.access import touch
from app.rounds.models import Round
from app.submissions.models import Submission, SubmissionStatus
from bounty_engine.decision import Decision

log = logging.getLogger("bounty.evaluation")


@contextmanager
def pair_files(store: ArtifactStore, sub: Submission) -> Iterator[PairFiles]:
    """The submission's model files, copied out of the store for the sandbox while in use."""
    with store.local_copy(sub.model_sha) as model:
        if sub.group_model_sha is None:
            yield PairFiles(model=model, group_expression=sub.group_expression)
        else:
            with store.local_copy(sub.group_model_sha) as group_model:
                yield PairFiles(model=model, group_model=group_model)


class Evaluation:
    """Runs submissions' pairs and decides them, for the workers of one process."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        store: ArtifactStore,
        cache: RoundCache,
        limits: Limits,
    ) -> None:
        self.factory = factory
        self.store = store
        self.cache = cache
        self.limits = limits

    # --- running the pair ----------------------------------------------------------------

    def evaluate(self, submission_id: int, *, owner: str) -> None:
        """Run the pair of a submission leased by ``owner`` in the sandbox on every split's
        features, and store its outputs (or the reason it could not run). Raises
        ``SandboxUnavailable`` when the platform, not the pair, failed."""
        with transaction(self.factory, write=False) as session:
            sub = session.get(Submission, submission_id)
            round_ = session.get(Round, sub.round_id) if sub else None
            if sub is None or round_ is None or sub.status != SubmissionStatus.RUNNING:
                return
            inputs = self.cache.inputs(round_)
        outputs_sha, error = None, None
        try:
            with pair_files(self.store, sub) as pair:
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
                    Submission.lease_owner == owner,
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

    # --- deciding ------------------------------------------------------------------------

    def decidable_rounds(self) -> list[int]:
        """The rounds whose oldest undecided submission is evaluated, so can be decided now."""
        oldest = (
            select(Submission.round_id, func.min(Submission.id).label("first"))
            .where(Submission.status != SubmissionStatus.DECIDED)
            .group_by(Submission.round_id)
            .subquery()
        )
        with transaction(self.factory, write=False) as session:
            return list(
                session.scalars(
                    select(Submission.round_id)
                    .join(oldest, Submission.id == oldest.c.first)
                    .where(Submission.status == SubmissionStatus.EVALUATED)
                )
            )

    def decide_next(self, round_id: int) -> int | None:
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
                self.decide(session, round_, sub)
                decided: int = sub.id
            return decided
        except Exception:
            self.cache.invalidate(round_id)  # the cached evaluator may hold an uncommitted step
            raise

    def decide(self, session: Session, round_: Round, sub: Submission) -> None:
        """Decide ``sub`` against the round's current model and record the verdict (and the
        versions an acceptance makes); the caller holds the round's lock."""
        if sub.disqualified_at is not None:
            mark_disqualified(sub)
            sub.status = SubmissionStatus.DECIDED
            return
        key = str(sub.id)
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
