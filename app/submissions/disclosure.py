"""What a verdict may tell a participant (DESIGN.md section 3).

Holdout numbers appear only for accepted submissions, rounded (default), exact (classroom mode)
or never; messages never carry holdout numbers; train-split statistics are always shown. The
round's organizer sees everything exactly.
"""

from __future__ import annotations

from typing import Any

from app.rounds.models import Disclosure, Round
from app.submissions.models import Submission
from app.submissions.schemas import RepairOut, SplitStatsOut, VerdictOut

ROUNDED_DIGITS = 4

_MESSAGES = {
    "group_too_small": "the group has fewer holdout rows than the round's minimum of {min_rows}",
    "no_improvement": "the model does not improve on the current model for this group",
    "below_threshold": "the improvement is below the round's threshold of {alpha:g}",
    "accepted": "accepted: the pair was spliced into the model",
    "disqualified": "disqualified by the organizer",
}


def _stats(raw: dict[str, Any] | None, digits: int | None) -> SplitStatsOut | None:
    if raw is None:
        return None

    def shown(value: float | None) -> float | None:
        return value if value is None or digits is None else round(value, digits)

    return SplitStatsOut(
        n_group=raw["n_group"],
        group_loss_before=shown(raw["group_loss_before"]),
        group_loss_after=shown(raw["group_loss_after"]),
        score=shown(raw["score"]) or 0.0,
    )


def verdict_for(sub: Submission, round_: Round, *, organizer: bool) -> VerdictOut | None:
    """The verdict of a decided submission as this viewer may see it."""
    if sub.outcome is None or sub.reason is None:
        return None
    stats = (sub.verdict or {}).get("stats", {})
    holdout: SplitStatsOut | None = None
    if organizer:
        holdout = _stats(stats.get("holdout"), None)
    elif sub.outcome == "accepted" and round_.disclosure != Disclosure.NONE:
        digits = None if round_.disclosure == Disclosure.EXACT else ROUNDED_DIGITS
        holdout = _stats(stats.get("holdout"), digits)
    if organizer or sub.reason in {"invalid", "disqualified"}:
        message = sub.message or ""
    else:
        message = _MESSAGES.get(sub.reason, sub.message or "").format(
            min_rows=round_.min_group_rows, alpha=round_.alpha
        )
    repairs = [
        RepairOut(
            version=r["version"],
            submission_id=r["submission_id"],
            target_version=r["target_version"],
        )
        for r in (sub.verdict or {}).get("repairs", [])
    ]
    return VerdictOut(
        outcome=sub.outcome,
        reason=sub.reason,
        message=message,
        version=sub.version,
        train=_stats(stats.get("train"), None),
        holdout=holdout,
        repairs=repairs,
    )
