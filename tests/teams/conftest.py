"""Fixtures of the teams tests."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts are set-up here, not under test: hash their passwords cheaply."""
    monkeypatch.setattr(
        "app.core.security._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
