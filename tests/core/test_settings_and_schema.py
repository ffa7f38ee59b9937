"""Settings refuse unsafe production values; migrations match the ORM models on every backend."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import Engine

from app.core.settings import Settings
from app.models import Base


def test_default_secret_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="BOUNTY_SECRET_KEY"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment="production", secret_key="short")
    ok = Settings(environment="production", secret_key="x" * 40)
    assert ok.secret_key.get_secret_value() == "x" * 40


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOUNTY_DATABASE_URL", "postgresql+psycopg://db/bounty")
    monkeypatch.setenv("BOUNTY_STORAGE", "s3")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://db/bounty"
    assert settings.storage == "s3"


def test_migrations_match_the_models(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
