"""Replaying a round from its stored outputs: how a disqualification takes a pair out.

Every decided submission is decided again in arrival order from the outputs its evaluation
stored (no model runs again), skipping disqualified ones; verdicts and model versions are
rewritten to what the round would have been without them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.core.db import utcnow
from app.core.storage import ArtifactStore
from app.evaluation.cache import RoundCache
from app.evaluation.outputs import load_outputs
from app.evaluation.verdicts import record_verdict, record_versions
from app.rounds.models import ModelVersion, Round
from app.submissions.models import Submission, SubmissionStatus


@dataclass(frozen=True)
class ReplayResult:
    """What a replay changed."""

    head_version_before: int
    head_version_after: int
    changed: list[int]  # submissions whose outcome changed


def replay_round(
    session: Session, store: ArtifactStore, cache: RoundCache, round_: Round
) -> ReplayResult:
    """Re-decide the round's decided submissions in order; the caller holds the round's lock."""
    state = cache.fresh(round_)
    before = round_.head_version
    session.execute(
        delete(ModelVersion).where(ModelVersion.round_id == round_.id, ModelVersion.version > 0)
    )
    decided = session.scalars(
        select(Submission)
        .where(Submission.round_id == round_.id, Submission.status == SubmissionStatus.DECIDED)
        .order_by(Submission.id)
    ).all()
    changed = []
    for sub in decided:
        old = sub.outcome
        if sub.disqualified_at is not None:
            mark_disqualified(sub)
        elif sub.outputs_sha is not None:
            decision = state.evaluator.decide(
                str(sub.id),
                load_outputs(store, sub.outputs_sha),
                release=sub.released_at is not None,
            )
            decided_at = sub.decided_at
            record_verdict(sub, decision)
            sub.decided_at = decided_at  # when it was first decided, not when it was replayed
            if decision.accepted:
                record_versions(session, store, round_.id, decision, state.evaluator)
        if sub.outcome != old:
            changed.append(sub.id)
    round_.head_version = state.evaluator.head_version
    cache.keep(session, round_, state)
    return ReplayResult(before, round_.head_version, changed)


def mark_disqualified(sub: Submission) -> None:
    """Give a disqualified submission its verdict (it changes nothing in the model)."""
    sub.outcome = "disqualified"
    sub.reason = "disqualified"
    sub.message = f"disqualified by the organizer: {sub.disqualified_reason or 'no reason given'}"
    sub.score = None
    sub.version = None
    sub.decided_at = sub.decided_at or utcnow()
