"""The full crash/restart soak, run by hand: real API and worker processes on a database of
their own while workers are SIGKILLed, API processes and the PostgreSQL server restarted at
seeded-random moments; then every guarantee is checked (see ``tests/support/soak_checks.py``).

``python -m bench.soak --submissions 300 --workers 3 --api-processes 2 --database postgresql
--worker-kills 8 --api-restarts 4 --database-restarts 3`` prints the figures as a table and as
one JSON line, and exits 1 if any guarantee was broken (each is listed).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tests.support.soak import SoakPlan, run_soak

HEADLINE = (
    "submission rows",
    "worker kills",
    "worker kills mid-job",
    "API restarts",
    "database restarts",
    "lost",
    "duplicated",
    "orphaned artifacts",
    "missing artifacts",
    "partial or misplaced files",
    "replay equal",
    "wall seconds",
)


def main() -> int:
    """Run the soak with the command line's plan and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--api-processes", type=int, default=2)
    parser.add_argument("--researchers", type=int, default=6)
    parser.add_argument("--worker-kills", type=int, default=8)
    parser.add_argument("--api-restarts", type=int, default=4)
    parser.add_argument("--database-restarts", type=int, default=3)
    parser.add_argument("--resends", type=int, default=10)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--deadline", type=float, default=3600.0, help="seconds")
    parser.add_argument("--folder", type=Path, help="keep the run's files (logs) here")
    args = parser.parse_args()
    plan = SoakPlan(
        database=args.database,
        submissions=args.submissions,
        workers=args.workers,
        api_processes=args.api_processes,
        researchers=args.researchers,
        worker_kills=args.worker_kills,
        api_restarts=args.api_restarts,
        database_restarts=args.database_restarts if args.database == "postgresql" else 0,
        resends=args.resends,
        rows=args.rows,
        seed=args.seed,
        deadline_seconds=args.deadline,
    )
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bounty-soak-"))
    report = run_soak(folder, plan)
    figures = report.figures
    width = max(len(name) for name in figures)
    print(
        f"soak on {plan.database}: {plan.submissions} submissions, {plan.workers} workers, "
        f"{plan.api_processes} API processes, seed {plan.seed} (files in {folder})"
    )
    for name in HEADLINE:
        print(f"  {name:<{width}}  {figures.get(name, 0)}")
    for name, value in figures.items():
        if name not in HEADLINE:
            print(f"  {name:<{width}}  {value}")
    print(json.dumps({"plan": vars(plan), "figures": figures, "problems": report.problems}))
    for problem in report.problems:
        print("PROBLEM:", problem, file=sys.stderr)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
