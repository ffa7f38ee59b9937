"""The problems of round archives (RFC 9457; see ``app.core.errors.Problem``)."""

from __future__ import annotations

from app.core.errors import Problem


class BadArchive(Problem):
    status, slug, title = 422, "bad-archive", "Invalid round archive"
