"""The problems of accounts and API keys (RFC 9457; see ``app.core.errors.Problem``)."""

from __future__ import annotations

from app.core.errors import Problem


class InvalidCredentials(Problem):
    status, slug, title = 401, "invalid-credentials", "Wrong email or password"


class InvalidToken(Problem):
    status, slug, title = 401, "invalid-token", "Invalid or expired token"


class OrganizersOnly(Problem):
    status, slug, title = 403, "organizers-only", "Organizers only"


class ApiKeyNotFound(Problem):
    status, slug, title = 404, "api-key-not-found", "API key not found"


class EmailTaken(Problem):
    status, slug, title = 409, "email-taken", "Email address taken"


class AccountLocked(Problem):
    status, slug, title = 429, "account-locked", "Account locked for a while"
