"""The problems of rounds (RFC 9457; see ``app.core.errors.Problem``)."""

from __future__ import annotations

from app.core.errors import Problem


class NotRoundOrganizer(Problem):
    status, slug, title = 403, "not-round-organizer", "Not the round's organizer"


class RoundOrganizerOnly(Problem):
    status, slug, title = 403, "round-organizer-only", "Round organizer only"


class RoundNotFound(Problem):
    status, slug, title = 404, "round-not-found", "Round not found"


class InvalidRoundStatus(Problem):
    status, slug, title = 409, "invalid-round-status", "Not allowed in the round's status"


class NoBaseModel(Problem):
    status, slug, title = 409, "no-base-model", "Round has no base model"


class NoDataset(Problem):
    status, slug, title = 409, "no-dataset", "Round has no dataset"


class NoPredictions(Problem):
    status, slug, title = 409, "no-predictions", "No stored predictions"


class RoundClosed(Problem):
    status, slug, title = 409, "round-closed", "Round closed"


class RoundHasNoData(Problem):
    status, slug, title = 409, "round-has-no-data", "Round has no data yet"


class RoundNotOpen(Problem):
    status, slug, title = 409, "round-not-open", "Round not open"


class RulesLocked(Problem):
    status, slug, title = 409, "rules-locked", "Rules locked"


class SchedulePassed(Problem):
    status, slug, title = 409, "schedule-passed", "Closing time passed"


class SlugTaken(Problem):
    status, slug, title = 409, "slug-taken", "Round slug taken"


class DatasetFiles(Problem):
    status, slug, title = 422, "dataset-files", "Wrong set of dataset files"


class InvalidSettings(Problem):
    status, slug, title = 422, "invalid-settings", "Inconsistent round settings"


class LossTaskMismatch(Problem):
    status, slug, title = 422, "loss-task-mismatch", "Label does not fit the loss"


class SandboxRequired(Problem):
    status, slug, title = 503, "sandbox-required", "Needs the evaluation sandbox"
