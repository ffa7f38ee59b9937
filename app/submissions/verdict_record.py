"""The verdict as stored on a submission (``Submission.verdict``, a JSON column): one typed model
that the evaluation writes (``app.evaluation.verdicts``) and everything that shows a verdict
reads (``StoredVerdict.of``). Numbers are stored exactly; what a viewer is shown of them is
decided by ``app.submissions.disclosure`` (docs/disclosure.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from app.submissions.models import Submission


class _Stored(BaseModel):
    # Verdicts written by older versions (and imported archives) lack newer fields; unknown
    # keys are kept out rather than refused, so an old row still reads.
    model_config = ConfigDict(extra="ignore", frozen=True)


class StoredRates(_Stored):
    """A binary classifier's errors on the group's rows, by true class
    (``bounty_engine.error_rates``)."""

    negatives: int
    positives: int
    false_positives: int
    false_negatives: int


class StoredStats(_Stored):
    """A pair measured on one split, against the head version it was decided against."""

    n_rows: int
    n_group: int
    group_loss_before: float | None = None
    group_loss_after: float | None = None
    score: float | None = None
    score_se: float | None = None
    loss_before: float | None = None
    rates_before: StoredRates | None = None
    """The head's errors on the group by true class (two-class rounds only)."""
    rates_after: StoredRates | None = None
    """h's errors on the group by true class."""


class StoredRepair(_Stored):
    """A pointer node the acceptance made: an earlier group given back its best version."""

    version: int
    submission_id: int
    target_version: int
    group_loss_before: float | None = None
    group_loss_after: float | None = None
    group_loss_reduction: float | None = None


class StoredTest(_Stored):
    """The pair's significance test on the holdout (rounds with the significance rule)."""

    method: str
    index: int
    level: float
    p_value: float
    lower_bound: float


class StoredVerdict(_Stored):
    """Everything a decision measured, beyond the outcome columns of the submission row."""

    stats: dict[str, StoredStats] = {}
    repairs: list[StoredRepair] = []
    loss_before: dict[str, float] = {}
    """The model's mean loss on each split before the decision, and after it."""
    loss_after: dict[str, float] = {}
    test: StoredTest | None = None

    @classmethod
    def of(cls, sub: Submission) -> StoredVerdict:
        """The submission's stored verdict (empty if it has none yet)."""
        return cls.read(sub.verdict)

    @classmethod
    def read(cls, raw: dict[str, Any] | None) -> StoredVerdict:
        """A verdict from its stored JSON (empty for None)."""
        return cls.model_validate(raw or {})

    def split(self, name: str) -> StoredStats | None:
        """The statistics on split ``name``, if the pair was measured there."""
        return self.stats.get(name)

    def to_json(self) -> dict[str, Any]:
        """The JSON to store."""
        return self.model_dump(mode="json")
