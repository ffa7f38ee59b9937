"""Service benchmark (run by hand): leaderboard reads on a busy round, one API process.

``uv run python -m bench.service [--teams 100 --submissions 10000 --requests 3000]``

Seeds a SQLite round with the given teams and decided submissions (directly through the ORM),
serves the real app with uvicorn on a loopback port in a child process, then reads the
leaderboard with a bounded number of concurrent requests and reports requests per second,
p50 and p99 latency, and errors; ``/api/v1/health`` measured the same way is the baseline (the
framework's ceiling on this machine), reported as a ratio.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from app.auth.models import Role
from app.auth.service import create_user
from app.core.db import make_engine, make_session_factory, transaction, utcnow
from app.core.migrate import upgrade
from app.rounds.models import Round, RoundStatus
from app.submissions.models import Submission, SubmissionStatus
from app.teams.models import Team
from bench.server import free_port, serve, uvicorn_command


def seed(url: str, n_teams: int, n_submissions: int) -> str:
    """A round with teams and decided submissions; returns its slug."""
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    rng = random.Random(0)
    with transaction(factory) as session:
        organizer = create_user(session, "org@bench.local", "Org", "benchmark-pass", Role.ORGANIZER)
        round_ = Round(
            slug="bench",
            title="Bench",
            organizer_id=organizer.id,
            status=RoundStatus.OPEN,
            n_holdout=100_000,
        )
        session.add(round_)
        session.flush()
        teams = [
            Team(round_id=round_.id, name=f"team-{i}", invite_code=f"code{i:06d}")
            for i in range(n_teams)
        ]
        session.add_all(teams)
        session.flush()
        now = utcnow()
        session.add_all(
            Submission(
                round_id=round_.id,
                team_id=rng.choice(teams).id,
                user_id=organizer.id,
                group_kind="rule",
                group_expression="x0 > 0",
                group_columns=["x0"],
                model_sha="0" * 64,
                model_format="skops",
                status=SubmissionStatus.DECIDED,
                outcome=((accepted := rng.random() < 0.05) and "accepted") or "rejected",
                reason="accepted" if accepted else "no_improvement",
                score=rng.random() / 1000 if accepted else -rng.random() / 1000,
                decided_at=now,
            )
            for _ in range(n_submissions)
        )
    return "bench"


def hammer(url: str, n_requests: int, concurrency: int) -> tuple[float, list[float], int]:
    """Requests per second, latencies (s) and error count for ``n_requests`` GETs, measured by
    the light load generator in a process of its own (so it does not share the server's GIL)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            url,
            "--requests",
            str(n_requests),
            "--concurrency",
            str(concurrency),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(out)
    return float(result["rate"]), list(result["latencies"]), int(result["errors"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bounty-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        slug = seed(url, args.teams, args.submissions)
        port = free_port()
        env = {"BOUNTY_DATABASE_URL": url, "BOUNTY_STORAGE_DIR": f"{tmp}/art"}
        with serve(uvicorn_command(port), port, env, Path(tmp) / "server.log") as server:
            base = server.api
            print(f"{'endpoint':<28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
            rates = {}
            for name, path in (
                ("health (baseline)", "/health"),
                ("leaderboard", f"/rounds/{slug}/leaderboard"),
            ):
                hammer(base + path, 100, args.concurrency)  # warm up
                rate, lat, errors = hammer(base + path, args.requests, args.concurrency)
                q = statistics.quantiles(lat, n=100)
                rates[name] = rate
                print(
                    f"{name:<28} {rate:>8.0f} {q[49] * 1000:>8.1f} {q[98] * 1000:>8.1f} {errors:>7}"
                )
            ratio = rates["leaderboard"] / rates["health (baseline)"]
            print(f"leaderboard throughput = {ratio:.2f} x the health endpoint's")


if __name__ == "__main__":
    main()
