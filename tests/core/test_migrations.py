"""Migrations carry existing data forward (and back) on both backends, losing nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, func, select, table, text
from sqlalchemy.exc import IntegrityError

from app.core.migrate import alembic_config, upgrade
from app.teams.names import team_name_key

INITIAL = "20261124_initial"
ROWS = (
    "INSERT INTO users (id, email, display_name, password_hash, role, created_at, failed_logins)"
    " VALUES (1, 'o@x.org', 'O', 'h', 'organizer', CURRENT_TIMESTAMP, 0)",
    "INSERT INTO rounds (id, slug, title, description, organizer_id, status, loss_kind, alpha,"
    " min_group_rows, repair_alpha, daily_quota, max_team_size, disclosure, n_train, n_holdout,"
    " n_test, head_version, created_at) VALUES (1, 'r', 'R', '', 1, 'open', 'zero_one', 0.001,"
    " 10, 0.0, 10, 5, 'rounded', 0, 0, 0, 0, CURRENT_TIMESTAMP)",
    "INSERT INTO teams (id, round_id, name, invite_code, created_at)"
    " VALUES (1, 1, 'Straße Crew', 'code-1', CURRENT_TIMESTAMP)",
    "INSERT INTO team_members (team_id, user_id, round_id, joined_at)"
    " VALUES (1, 1, 1, CURRENT_TIMESTAMP)",
    "INSERT INTO submissions (id, round_id, team_id, user_id, created_at, note, group_kind,"
    " group_columns, model_sha, model_format, status, attempts) VALUES (1, 1, 1, 1,"
    " CURRENT_TIMESTAMP, '', 'rule', '[]', 'ab', 'skops', 'queued', 0)",
    "INSERT INTO audit_events (id, round_id, actor_id, action, detail, created_at)"
    " VALUES (1, 1, 1, 'team.created', '{}', CURRENT_TIMESTAMP)",
)
TABLES = ("users", "rounds", "teams", "team_members", "submissions", "audit_events")


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
            for name in TABLES
        }


def test_upgrade_and_downgrade_keep_every_row(blank_database_url: str) -> None:
    upgrade(blank_database_url, INITIAL)
    engine = create_engine(blank_database_url)
    with engine.begin() as conn:
        for statement in ROWS:
            conn.execute(text(statement))
    before = _counts(engine)
    assert set(before.values()) == {1}

    upgrade(blank_database_url)  # rebuilds tables on SQLite: no cascade may fire

    assert _counts(engine) == before
    with engine.connect() as conn:
        key = conn.execute(text("SELECT name_key FROM teams")).scalar_one()
        assert key == team_name_key("Straße Crew") == team_name_key("STRАSSE CREW")  # Cyrillic А
        assert conn.execute(text("SELECT revision FROM rounds")).scalar_one() == 0
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO teams (round_id, name, name_key, invite_code, created_at)"
                " VALUES (1, 'STRASSE CREW', :key, 'code-2', CURRENT_TIMESTAMP)"
            ),
            {"key": key},
        )

    command.downgrade(alembic_config(blank_database_url), INITIAL)
    assert _counts(engine) == before
    engine.dispose()


def test_names_that_clash_once_folded_stop_the_upgrade_with_their_names(
    blank_database_url: str,
) -> None:
    upgrade(blank_database_url, INITIAL)
    engine = create_engine(blank_database_url)
    with engine.begin() as conn:
        for statement in ROWS[:3]:
            conn.execute(text(statement))
        conn.execute(
            text(
                "INSERT INTO teams (id, round_id, name, invite_code, created_at)"
                " VALUES (2, 1, 'STRASSE crew', 'code-2', CURRENT_TIMESTAMP)"
            )
        )
    with pytest.raises(RuntimeError, match="STRASSE crew"):
        upgrade(blank_database_url)
    assert _counts(engine)["teams"] == 2  # nothing half-done
    engine.dispose()


def test_no_revision_imports_live_code() -> None:
    """A revision is a snapshot: code it imported could change after it ran, and the same
    revision would then do something else on the next database (docs/architecture.md)."""
    versions = Path(__file__).parents[2] / "migrations" / "versions"
    live = {"app", "bounty_engine", "bounty_client"}
    found = []
    for path in sorted(versions.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found += [(path.name, n) for n in names if n.split(".")[0] in live]
    assert len(list(versions.glob("*.py"))) >= 6
    assert found == []
