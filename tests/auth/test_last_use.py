"""Recording an API key's last use never makes a read wait for SQLite's writers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from app.auth.models import ApiKey, User
from app.auth.service import create_api_key, create_user, user_for_secret
from app.core.db import WRITE_OPTION, make_engine, make_session_factory
from app.core.migrate import upgrade

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py

KEY = "test-signing-key"
HOUR_MS = 3_600_000
DEADLINE_SECONDS = 60.0
"""Far below the hour the read would wait for the write lock if it queued behind the writer."""


def test_a_read_with_an_api_key_does_not_queue_behind_a_writer_and_records_later(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'bounty.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        user = create_user(session, "ada@example.org", "Ada", "correct horse battery")
        _, secret = create_api_key(session, user, "ci", KEY, None)

    writer = engine.connect().execution_options(**{WRITE_OPTION: True})
    holding = writer.begin()  # BEGIN IMMEDIATE: another writer holds the write lock
    found: list[User | None] = []
    timeouts: list[int] = []

    def read() -> None:
        with factory() as session, session.begin():
            connection = session.connection()
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {HOUR_MS}")
            found.append(user_for_secret(session, secret, KEY))
            # The connection's own busy timeout is back for everything else it runs.
            timeouts.append(connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one())

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(DEADLINE_SECONDS)
    try:
        assert not reader.is_alive(), "the read waited for the write lock"
        assert [user.email if user else None for user in found] == ["ada@example.org"]
        assert timeouts == [HOUR_MS]
    finally:
        holding.rollback()
        writer.close()
        reader.join()
    with factory() as session:
        assert session.scalar(select(ApiKey.last_used_at)) is None  # given up, not waited for

    with factory.begin() as session:  # the lock is free: the next use is recorded
        assert user_for_secret(session, secret, KEY) is not None
    with factory() as session:
        assert session.scalar(select(ApiKey.last_used_at)) is not None
    engine.dispose()
