"""The population tests play submissions with the submission tests' worker."""

from tests.submissions.conftest import worker  # noqa: F401
