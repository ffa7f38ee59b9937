"""Migrations carry existing data forward on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from app.core.migrate import upgrade

INSERT_ROUND = (
    "INSERT INTO rounds (id, slug, title, description, organizer_id, status, loss_kind,"
    " alpha, min_group_rows, repair_alpha, daily_quota, max_team_size, disclosure, n_train,"
    " n_holdout, n_test, head_version, created_at)"
    " VALUES (1, 'r', 'R', '', 1, 'open', 'zero_one', 0.001, 10, 0.0, 10, 5,"
    " 'rounded', 0, 0, 0, 0, CURRENT_TIMESTAMP)"
)


def test_team_name_keys_are_backfilled_and_unique(blank_database_url: str) -> None:
    upgrade(blank_database_url, "20261124_initial")
    engine = create_engine(blank_database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, display_name, password_hash, role, created_at,"
                " failed_logins) VALUES (1, 'o@x.org', 'O', 'h', 'organizer', CURRENT_TIMESTAMP, 0)"
            )
        )
        conn.execute(text(INSERT_ROUND))
        conn.execute(
            text(
                "INSERT INTO teams (id, round_id, name, invite_code, created_at)"
                " VALUES (1, 1, 'Straße Crew', 'code-1', CURRENT_TIMESTAMP)"
            )
        )

    upgrade(blank_database_url)

    with engine.connect() as conn:
        assert conn.execute(text("SELECT name_key FROM teams")).scalar_one() == "strasse crew"
        assert conn.execute(text("SELECT revision FROM rounds")).scalar_one() == 0
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO teams (round_id, name, name_key, invite_code, created_at)"
                " VALUES (1, 'STRASSE CREW', 'strasse crew', 'code-2', CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()
