"""The round tests that play submissions use the submission tests' arena and worker."""

from tests.submissions.conftest import arena, worker  # noqa: F401
