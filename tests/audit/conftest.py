"""The audit tests use the submission tests' arena and worker."""

from tests.submissions.conftest import arena, worker  # noqa: F401
