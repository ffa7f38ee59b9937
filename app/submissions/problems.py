"""The problems of submissions (RFC 9457; see ``app.core.errors.Problem``)."""

from __future__ import annotations

from app.core.errors import Problem


class SubmissionNotFound(Problem):
    status, slug, title = 404, "submission-not-found", "Submission not found"


class AlreadyDisqualified(Problem):
    status, slug, title = 409, "already-disqualified", "Already disqualified"


class NotHeld(Problem):
    status, slug, title = 409, "not-held", "Pair not held for review"


class GroupRequired(Problem):
    status, slug, title = 422, "group-required", "Exactly one group required"


class QuotaExceeded(Problem):
    status, slug, title = 429, "quota-exceeded", "Daily quota used up"
