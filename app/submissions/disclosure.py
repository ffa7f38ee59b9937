"""What a verdict and the leaderboard may tell a participant (docs/disclosure.md).

Every submission is a query to the holdout, so what comes back is kept below what could pin
down a holdout label:

* ``exact`` (classroom mode): the engine's reason, and the exact holdout numbers of accepted
  submissions.
* ``rounded`` (the default) and ``none``: one reason, ``not_accepted``, for every rejection. The
  engine's reasons (group too small, no improvement, below the threshold, not significant,
  held for review) would tell the sign of a probe row's loss change, or whether a rule's
  holdout rows reach the minimum, or something of the sealed test split. Under
  ``rounded``, accepted submissions' holdout numbers are rounded to a 1-2-5 step no finer than
  their largest sampling error (a group loss on ``n_g`` rows to at least ``scale / (2 sqrt(n_g))``,
  its row count to at least ``sqrt(n_g) / 2``), so they are never exact error counts.

Messages never carry holdout numbers; train-split statistics are always exact; the round's
organizer always sees everything exactly. The decision itself (docs/acceptance.md) and what is
stored are exact: only what participants are shown changes.
"""

from __future__ import annotations

import math

from app.rounds.disclosure import (
    disclosure_for,
    loss_scale,
    round_to_step,
    step_at_least,
)
from app.rounds.models import Disclosure, Round
from app.submissions.models import Submission
from app.submissions.schemas import RepairOut, SignificanceOut, SplitStatsOut, VerdictOut
from app.submissions.verdict_record import StoredStats, StoredVerdict

NOT_ACCEPTED = "not_accepted"
"""The one participant-facing reason for a rejection unless the round discloses exactly."""

HIDDEN_REJECTIONS = frozenset(
    {"group_too_small", "no_improvement", "below_threshold", "not_significant", "held_for_review"}
)
"""The engine's rejection reasons that only ``exact`` rounds show to participants."""

_MESSAGES = {
    "group_too_small": "the group has fewer holdout rows than the round's minimum of {min_rows}",
    "no_improvement": "the model does not improve on the current model for this group",
    "below_threshold": "the improvement is below the round's threshold of {alpha:g}",
    "not_significant": (
        "the improvement is not large enough, for the group's size, to be credible at this "
        "pair's significance level"
    ),
    "held_for_review": "held for the organizer's review before it is spliced into the model",
    NOT_ACCEPTED: (
        "not accepted: on the holdout, the group has fewer than {min_rows} rows, or the pair "
        "does not lower the loss by the round's threshold of {alpha:g}, or (on rounds with "
        "the significance test) the improvement is not credible for the group's size; this "
        "round does not say which (check the pair on the public train split)"
    ),
    "accepted": "accepted: the pair was spliced into the model",
    "disqualified": "disqualified by the organizer",
}


def holdout_stats(
    raw: StoredStats | None, round_: Round, disclosure: Disclosure
) -> SplitStatsOut | None:
    """A pair's holdout statistics as ``disclosure`` allows (None for ``none``)."""
    if raw is None or disclosure == Disclosure.NONE:
        return None
    if disclosure == Disclosure.EXACT:
        return _exact(raw)
    n_group = raw.n_group
    before, after = raw.group_loss_before, raw.group_loss_after
    rows = max(n_group, 1)
    scale = loss_scale(round_, before, after)
    loss_step = step_at_least(scale / (2 * math.sqrt(rows)))
    score_step = step_at_least(scale * math.sqrt(rows) / (2 * max(round_.n_holdout, rows)))

    def loss(value: float | None) -> float | None:
        return None if value is None else round_to_step(value, loss_step)

    return SplitStatsOut(
        n_group=int(round_to_step(n_group, step_at_least(math.sqrt(n_group) / 2))),
        group_loss_before=loss(before),
        group_loss_after=loss(after),
        score=round_to_step(raw.score or 0.0, score_step),
        **_error_rates(raw, rounded=True),
    )


def _exact(raw: StoredStats) -> SplitStatsOut:
    return SplitStatsOut(
        n_group=raw.n_group,
        group_loss_before=raw.group_loss_before,
        group_loss_after=raw.group_loss_after,
        score=raw.score or 0.0,
        **_error_rates(raw, rounded=False),
    )


def _error_rates(raw: StoredStats, *, rounded: bool) -> dict[str, float | None]:
    """The group's false-positive and false-negative rates before and after; rounded, each to
    a step no finer than its sampling error (1 / (2 sqrt(rows of its true class)))."""
    out: dict[str, float | None] = {}
    for when, rates in (("before", raw.rates_before), ("after", raw.rates_after)):
        if rates is None:
            continue
        for kind, errors, rows in (
            ("false_positive", rates.false_positives, rates.negatives),
            ("false_negative", rates.false_negatives, rates.positives),
        ):
            rate = errors / rows if rows else None
            if rounded and rate is not None:
                rate = round_to_step(rate, step_at_least(1 / (2 * math.sqrt(rows))))
            out[f"{kind}_rate_{when}"] = rate
    return out


def participant_reason(reason: str, disclosure: Disclosure) -> str:
    """The reason a participant is shown: the engine's, or ``not_accepted`` for a rejection on
    a round that does not disclose exactly."""
    if reason in HIDDEN_REJECTIONS and disclosure != Disclosure.EXACT:
        return NOT_ACCEPTED
    return reason


def verdict_for(sub: Submission, round_: Round, *, organizer: bool) -> VerdictOut | None:
    """The verdict of a decided submission as this viewer may see it."""
    if sub.outcome is None or sub.reason is None:
        return None
    stored = StoredVerdict.of(sub)
    disclosure = disclosure_for(round_, organizer=organizer)
    shown_holdout = organizer or sub.outcome == "accepted"
    holdout = holdout_stats(stored.split("holdout"), round_, disclosure) if shown_holdout else None
    reason = sub.reason if organizer else participant_reason(sub.reason, disclosure)
    if organizer or reason in {"invalid", "disqualified"}:
        message = sub.message or ""
    else:
        message = _MESSAGES.get(reason, sub.message or "").format(
            min_rows=round_.min_group_rows, alpha=round_.alpha
        )
    repairs = repairs_out(stored)
    train = stored.split("train")
    test = stored.test
    return VerdictOut(
        outcome=sub.outcome,
        reason=reason,
        message=message,
        version=sub.version,
        train=None if train is None else _exact(train),
        holdout=holdout,
        repairs=repairs,
        significance=SignificanceOut(**test.model_dump())
        if test is not None and disclosure == Disclosure.EXACT and shown_holdout
        else None,
    )


def repairs_out(stored: StoredVerdict) -> list[RepairOut]:
    """The pointer nodes an acceptance made, as shown to anyone who may see the verdict."""
    return [
        RepairOut(version=r.version, submission_id=r.submission_id, target_version=r.target_version)
        for r in stored.repairs
    ]
