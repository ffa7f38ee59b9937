"""Alembic environment: migrate the database the settings name (or the connection given)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from app.core.db import UTCDateTime, make_engine
from app.core.settings import get_settings
from app.models import Base

target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render the app's column types as plain SQLAlchemy ones, so revisions never import app."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        _run_sqlite(connection)
        return
    _configure_and_migrate(connection)


def _run_sqlite(connection: Connection) -> None:
    """Migrate with foreign keys off, then check them.

    SQLite alters a table by copying it and dropping the old one; with foreign keys on, that
    drop would cascade (``ON DELETE CASCADE``) into every row that refers to the table. The
    pragma only takes effect outside a transaction, so it is set before the migration's.
    """
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("the SQLite connection is closed")
    connection.commit()  # end the transaction the connection may have begun
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        _configure_and_migrate(connection)
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows with dangling references: {broken}")
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _configure_and_migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the database at ``config.attributes["url"]``, or the one the settings name."""
    engine = make_engine(context.config.attributes.get("url") or get_settings().database_url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations_online()
