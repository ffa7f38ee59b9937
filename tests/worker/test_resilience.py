"""A worker survives what a long-running deployment goes through: the database server going
away and coming back, a worker dying between evaluating and deciding, and several workers on
one machine preparing a round's cached features at once."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.core.audit import AuditEvent
from app.core.db import make_engine, make_session_factory
from app.core.migrate import upgrade
from app.core.settings import Settings
from app.core.storage import LocalStore
from app.evaluation.cache import RoundCache
from app.evaluation.sandbox import Limits
from app.rounds.engine_view import load_split, round_schema
from app.rounds.models import Round
from app.submissions.models import Submission
from app.worker.runner import Worker
from bounty_engine.data import prepare_features
from tests.submissions.conftest import Arena, build_arena
from tests.support.apps import lent_app
from tests.support.deployment import durable, pg_ctl
from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py

DEADLINE_SECONDS = 120.0
Live = tuple[Arena, sessionmaker[Session], Settings]


def _until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds; fail after ``DEADLINE_SECONDS``."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> Callable[[], bool]:
    return lambda: any(text in record.getMessage() for record in caplog.records)


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL server of this module's own: its tests stop and start it."""
    cluster = durable(PostgresCluster().start())
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def outage_live(own_cluster: PostgresCluster, tmp_path: Path) -> Iterator[Live]:
    """Like ``live``, on a new database of the module's own server, with a short lease and
    poll interval."""
    name = f"outage_{uuid.uuid4().hex[:12]}"
    admin = create_engine(own_cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(own_cluster.url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    settings = Settings(
        environment="test",
        database_url=url,
        storage_dir=tmp_path / "artifacts",
        worker_lease_seconds=1.5,
        worker_poll_seconds=0.1,
    )
    factory = make_session_factory(make_engine(url))
    store = LocalStore(settings.storage_dir)
    with lent_app(settings, session_factory=factory, store=store) as app, TestClient(app) as client:
        yield build_arena(client, factory, daily_quota=50), factory, settings


def _worker(factory: sessionmaker[Session], settings: Settings, name: str, tmp: Path) -> Worker:
    return Worker(
        factory, LocalStore(settings.storage_dir), settings, name=name, cache_dir=tmp / "cache"
    )


def _submission(factory: sessionmaker[Session], sub_id: int) -> Submission:
    with factory() as session:
        sub = session.get(Submission, sub_id)
        assert sub is not None
        return sub


def test_a_worker_waits_out_a_database_outage_and_goes_on(
    outage_live: Live,
    own_cluster: PostgresCluster,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    arena, factory, settings = outage_live
    worker = _worker(factory, settings, "patient", tmp_path)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    caplog.set_level(logging.WARNING, logger="bounty.worker")
    thread.start()
    try:
        pg_ctl(own_cluster, "-m", "fast", "stop")
        try:
            _until(_logged(caplog, "database unavailable"), "the worker met the outage")
        finally:
            pg_ctl(own_cluster, "start")
        expression = arena.planted[0]
        response = arena.submit(expression, arena.patch_model(expression))
        assert response.status_code == 202, response.text
        sub_id = response.json()["submission"]["id"]
        _until(lambda: _submission(factory, sub_id).status == "decided", "it was decided")
        assert thread.is_alive()
        assert _submission(factory, sub_id).outcome == "accepted"
    finally:
        stop.set()
        worker.notifier.notify()
        thread.join(DEADLINE_SECONDS)


def test_the_heartbeat_outlives_a_database_outage(
    outage_live: Live,
    own_cluster: PostgresCluster,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    arena, factory, settings = outage_live
    expression = arena.planted[0]
    response = arena.submit(expression, arena.patch_model(expression))
    assert response.status_code == 202, response.text
    worker = _worker(factory, settings, "beating", tmp_path)
    claimed = worker.claim()
    assert claimed is not None
    sub_id = claimed[0]

    def lease() -> datetime:
        expires = _submission(factory, sub_id).lease_expires_at
        assert expires is not None
        return expires

    caplog.set_level(logging.WARNING, logger="bounty.worker")
    with worker._heartbeat(sub_id):
        pg_ctl(own_cluster, "-m", "immediate", "stop")
        try:
            _until(_logged(caplog, f"could not renew the lease of {sub_id}"), "a beat failed")
        finally:
            pg_ctl(own_cluster, "start")
        after_outage = lease()
        _until(lambda: lease() > after_outage, "the lease was renewed after the outage")


def test_an_evaluation_left_undecided_by_a_dead_worker_is_decided_by_another(
    live: Live, tmp_path: Path
) -> None:
    arena, factory, settings = live
    expression = arena.planted[0]
    response = arena.submit(expression, arena.patch_model(expression))
    assert response.status_code == 202, response.text
    dying = _worker(factory, settings, "dying", tmp_path)
    claimed = dying.claim()
    assert claimed is not None
    dying.evaluate(claimed[0])  # ... and dies before deciding: nothing is queued any more
    assert _submission(factory, claimed[0]).status == "evaluated"
    other = _worker(factory, settings, "other", tmp_path)
    assert other.claim() is None
    stop = threading.Event()
    thread = threading.Thread(target=other.run, args=(stop,))
    thread.start()
    try:
        _until(lambda: _submission(factory, claimed[0]).status == "decided", "it was decided")
    finally:
        stop.set()
        other.notifier.notify()
        thread.join(DEADLINE_SECONDS)
    with factory() as session:
        verdicts = session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "verdict")
        )
    assert verdicts == 1
    assert _submission(factory, claimed[0]).outcome == "accepted"


def test_workers_sharing_a_cache_folder_prepare_a_round_at_once(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arena, factory, settings = live
    store = LocalStore(settings.storage_dir)
    with factory() as session:
        round_ = session.scalars(select(Round).where(Round.slug == arena.slug)).one()
    folder = tmp_path / "shared-cache"
    first, second = (RoundCache(store, folder, Limits()) for _ in range(2))
    write = pd.DataFrame.to_parquet
    interleaved: list[Any] = []

    def to_parquet(frame: pd.DataFrame, path: Any, *args: Any, **kwargs: Any) -> Any:
        result = write(frame, path, *args, **kwargs)
        if not interleaved:  # the first writer is between writing and publishing its file:
            interleaved.append(path)  # the other worker prepares the round in full right then
            second.inputs(round_)
        return result

    monkeypatch.setattr(pd.DataFrame, "to_parquet", to_parquet)
    state = first.inputs(round_)
    assert interleaved
    schema = round_schema(round_)
    for split, path in state.feature_files.items():
        expected = prepare_features(load_split(store, round_, split), schema)
        pd.testing.assert_frame_equal(pd.read_parquet(path), expected)
    assert sorted(p.name for p in (folder / f"round-{round_.id}").iterdir()) == sorted(
        p.name for p in state.feature_files.values()
    )  # no temporary file left behind
