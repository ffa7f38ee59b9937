"""The population tests play submissions with the submission tests' arena and worker."""

from tests.submissions.conftest import arena, worker  # noqa: F401
