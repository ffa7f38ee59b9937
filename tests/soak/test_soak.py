"""The crash/restart soak, CI-sized: real API and worker processes on SQLite (API and workers
killed and restarted) and on PostgreSQL (the database server restarted too), a few dozen
submissions through the HTTP API; then every submission has exactly one verdict, the model is
what a sequential replay of the round makes, and the store holds exactly what the database
names. ``python -m bench.soak`` is the full run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.soak import SoakPlan, run_soak

pytestmark = pytest.mark.long

PLANS = {
    "sqlite": SoakPlan(
        database="sqlite",
        submissions=30,
        workers=2,
        api_processes=1,
        researchers=3,
        worker_kills=2,
        api_restarts=1,
        seed=11,
        deadline_seconds=400,
    ),
    "postgresql": SoakPlan(
        database="postgresql",
        submissions=30,
        workers=2,
        api_processes=2,
        researchers=4,
        worker_kills=2,
        api_restarts=1,
        database_restarts=2,
        seed=12,
        deadline_seconds=400,
    ),
}


@pytest.mark.parametrize("database", list(PLANS))
def test_kills_and_restarts_lose_and_duplicate_nothing(database: str, tmp_path: Path) -> None:
    plan = PLANS[database]
    report = run_soak(tmp_path, plan)
    assert report.problems == [], report.figures
    figures = report.figures
    # The faults did happen, and the workload had every kind of verdict.
    assert figures["worker kills"] == plan.worker_kills
    assert figures["API restarts"] == plan.api_restarts
    assert figures["API restarts by SIGKILL"] >= 1
    assert figures.get("database restarts", 0) == plan.database_restarts
    assert set(figures["outcomes"]) == {"accepted", "rejected", "invalid"}
    assert figures["uploads answered 202"] == figures["submission rows"] > 0
    assert figures["uploads refused 422"] > 0
