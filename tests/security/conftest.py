"""The security tests use the submission tests' worker."""

from tests.submissions.conftest import worker  # noqa: F401
