"""Locking a round re-reads it: a decision made meanwhile by a worker is not overwritten."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.auth.models import Role
from app.auth.service import create_user
from app.core.db import make_engine, make_session_factory
from app.rounds.access import get_round, touch
from app.rounds.models import Round

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py


def test_locking_a_round_rereads_what_another_transaction_committed(database_url: str) -> None:
    factory = make_session_factory(make_engine(database_url))
    with factory.begin() as setup:
        organizer = create_user(setup, "org@example.org", "Org", "pass-word-1", Role.ORGANIZER)
        setup.add(Round(slug="r", title="R", organizer_id=organizer.id))
    with factory() as mine:
        stale = get_round(mine, "r")  # loaded before the worker's decision
        assert (stale.head_version, stale.revision) == (0, 0)
        mine.commit()  # (the objects keep their loaded values)
        with factory.begin() as worker:  # meanwhile a verdict: a new head and revision
            worker.execute(update(Round).values(head_version=2))
            touch(worker, stale.id)
        locked = get_round(mine, "r", for_update=True)
        assert locked is stale
        assert (locked.head_version, locked.revision) == (2, 1)
        touch(mine, locked.id)
        mine.commit()
    with factory() as check:
        assert check.scalars(select(Round.revision)).one() == 2
