"""On SQLite, a submission holds the database's write lock only for its few writes, not while
its files are checked in the sandbox (a slow check must not stall every other writer)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.db import make_engine, make_session_factory
from app.core.migrate import upgrade
from app.core.settings import Settings
from app.core.storage import LocalStore
from app.evaluation import endpoints
from app.main import create_app
from tests.submissions.conftest import build_arena


def test_other_writers_proceed_while_a_submission_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "bounty.db"
    url = f"sqlite:///{database}"
    upgrade(url)
    settings = Settings(environment="test", database_url=url, storage_dir=tmp_path / "store")
    factory = make_session_factory(make_engine(url))
    app = create_app(settings, session_factory=factory, store=LocalStore(settings.storage_dir))
    writable_during_check: list[bool] = []
    check: Callable[..., Any] = endpoints.check_pair

    def observed_check(*args: Any, **kwargs: Any) -> Any:
        other = sqlite3.connect(database, timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another writer, as another request would be
            other.execute("ROLLBACK")
            writable_during_check.append(True)
        except sqlite3.OperationalError:
            writable_during_check.append(False)
        finally:
            other.close()
        return check(*args, **kwargs)

    with TestClient(app) as client:
        arena = build_arena(client, factory, daily_quota=2)
        monkeypatch.setattr(endpoints, "check_pair", observed_check)
        model = arena.patch_model("x0 > 0")
        assert arena.submit("x0 > 0", model).status_code == 202
        assert writable_during_check == [True]
        # The quota is checked again under the lock: the third one is refused, none is lost.
        assert arena.submit("x1 > 0", model).status_code == 202
        refused = arena.submit("x2 > 0", model)
        assert refused.status_code == 429
        listed = client.get(
            f"/api/v1/rounds/{arena.slug}/submissions", headers=arena.member.headers
        ).json()
        assert len(listed) == 2
