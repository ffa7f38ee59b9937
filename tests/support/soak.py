"""The crash/restart soak: researchers submit through the real HTTP API while a controller
SIGKILLs and restarts workers, restarts API processes and (PostgreSQL) the database server at
seeded-random moments; then every guarantee is checked against the database and the store.

``run_soak`` returns a ``SoakReport``: the figures, and every broken guarantee as a problem
(an empty list is a pass). The CI test (``tests/soak``) and ``python -m bench.soak`` share it.
"""

from __future__ import annotations

import functools
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import InterfaceError, OperationalError

from app.core.db import make_engine
from app.submissions.models import Submission, SubmissionStatus
from bounty_client import BountyClient
from bounty_client.client import BountyError
from tests.support.deployment import Deployment, deployment
from tests.support.soak_checks import Sent, check_everything
from tests.support.soak_pairs import Pair, build_pairs, plan_submissions, write_splits

POLL_SECONDS = 0.2  # how often conditions are polled (each wait has a deadline)
RESEARCHER_PASSWORD = "soak-researcher-password"
DB_DOWN = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class SoakPlan:
    """What to run: the deployment, the workload and the faults."""

    database: Literal["sqlite", "postgresql"]
    submissions: int = 50
    workers: int = 2
    api_processes: int = 1
    researchers: int = 4
    worker_kills: int = 2
    api_restarts: int = 1
    database_restarts: int = 0
    resends: int = 3  # accepted uploads sent again with their key, as after a lost answer
    rows: int = 3000
    seed: int = 0
    deadline_seconds: float = 900.0


@dataclass
class SoakReport:
    """The figures of a run and the guarantees it found broken."""

    plan: SoakPlan
    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class _Progress:
    """Uploads answered so far (in the test process) and verdicts so far (in the database)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = threading.Lock()
        self.sent: list[Sent] = []
        self._decided = 0

    def add(self, sent: Sent) -> None:
        with self.lock:
            self.sent.append(sent)

    def uploads(self) -> int:
        with self.lock:
            return len(self.sent)

    def decided(self) -> int:
        """Decided submissions (the last count seen while the database is unreachable)."""
        try:
            with self.engine.connect() as conn:
                self._decided = int(
                    conn.scalar(
                        select(func.count(Submission.id)).where(
                            Submission.status == SubmissionStatus.DECIDED
                        )
                    )
                    or 0
                )
        except DB_DOWN:
            pass
        return self._decided


def _wait(condition: Callable[[], bool], deadline: float) -> bool:
    """Poll ``condition`` until it holds (True) or ``deadline`` (monotonic) passes (False)."""
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


# --- set-up through the API ----------------------------------------------------------------


def _token(url: str, email: str, password: str) -> str:
    answer = httpx.post(f"{url}/api/v1/auth/token", data={"username": email, "password": password})
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _client(url: str, token: str, sleeps: Counter[str] | None = None) -> BountyClient:
    """A client that outlasts an API restart: many retries, back-off capped at 2 s."""

    def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps["client retries"] += 1
        time.sleep(seconds)

    return BountyClient(url, api_key=token, retries=40, backoff=0.2, max_backoff=2.0, sleep=sleep)


def _open_round(d: Deployment, plan: SoakPlan) -> tuple[str, list[str]]:
    """An open round on the soak's splits, made by the organizer; (slug, planted rules)."""
    paths, planted = write_splits(d.folder, plan.rows, plan.seed)
    with _client(d.api_urls[0], _token(d.api_urls[0], *d.organizer)) as organizer:
        slug = organizer.create_round(
            {
                "title": f"Soak {plan.database} {plan.seed}",
                "alpha": 0.002,
                "min_group_rows": 10,
                "repair_alpha": 0.001,
                "daily_quota": 10_000,
            }
        ).slug
        organizer.upload_dataset(slug, label="y", splits=paths)
        organizer.set_base_model(slug)
        organizer.set_status(slug, "open")
    return slug, planted


def _researchers(d: Deployment, slug: str, n: int) -> list[tuple[str, str]]:
    """``n`` researchers signed up through the API, each with a team; (email, token)."""
    out = []
    with httpx.Client(base_url=d.api_urls[0] + "/api/v1") as http:
        for i in range(n):
            email = f"researcher{i}@soak.example.org"
            body = {"email": email, "display_name": f"R{i}", "password": RESEARCHER_PASSWORD}
            http.post("/auth/signup", json=body).raise_for_status()
            token = _token(d.api_urls[0], email, RESEARCHER_PASSWORD)
            headers = {"Authorization": f"Bearer {token}"}
            team = http.post(f"/rounds/{slug}/teams", json={"name": f"Team {i}"}, headers=headers)
            team.raise_for_status()
            out.append((email, token))
    return out


# --- the workload --------------------------------------------------------------------------


@dataclass
class _Run:
    """What the researchers' threads share."""

    d: Deployment
    plan: SoakPlan
    slug: str
    tokens: dict[str, str]  # by researcher email
    pairs: dict[str, Pair]  # by idempotency key
    progress: _Progress
    deadline: float
    counts: Counter[str] = field(default_factory=Counter)


def submit(run: _Run, client: BountyClient, key: str) -> tuple[int, int | None]:
    """Submit the pair of ``key`` until the server answers other than with a 5xx (the SDK
    already retries connection errors, 429 and 503); (HTTP status, submission id)."""
    pair = run.pairs[key]
    while True:
        try:
            answer = client.submit(
                run.slug,
                pair.model,
                group=pair.expression,
                group_model=pair.group_model,
                idempotency_key=key,
            )
        except BountyError as exc:
            if exc.status < 500 or time.monotonic() >= run.deadline:
                return exc.status, None
            run.counts[f"answers {exc.status}, resent"] += 1
        except httpx.TransportError:
            if time.monotonic() >= run.deadline:
                raise
            run.counts["client gave up, resent"] += 1
        else:
            return 202, answer.submission.id
        time.sleep(0.5)  # back-off before sending the same key again


def _submitter(run: _Run, url: str, email: str, keys: list[str]) -> None:
    with _client(url, run.tokens[email], run.counts) as client:
        for key in keys:
            status, sub_id = submit(run, client, key)
            run.progress.add(Sent(key, email, run.pairs[key].kind, status, sub_id))


def _resend(run: _Run) -> list[str]:
    """Send some accepted uploads again with their key: each must answer the same id."""
    problems = []
    accepted = [s for s in run.progress.sent if s.status == 202]
    rng = random.Random(run.plan.seed + 2)  # noqa: S311 (seeded for reproducibility)
    for sent in rng.sample(accepted, min(run.plan.resends, len(accepted))):
        with _client(run.d.api_urls[-1], run.tokens[sent.email], run.counts) as client:
            status, again = submit(run, client, sent.key)
        if (status, again) != (202, sent.submission_id):
            problems.append(
                f"resending key {sent.key} answered {status} {again}, "
                f"not submission {sent.submission_id}"
            )
    return problems


# --- the faults ----------------------------------------------------------------------------


class Chaos(threading.Thread):
    """Kills and restarts at seeded-random points of the run's progress (uploads answered plus
    verdicts given, out of twice the submissions), so they land while work is in flight."""

    def __init__(
        self, d: Deployment, plan: SoakPlan, progress: _Progress, engine: Engine, deadline: float
    ) -> None:
        super().__init__(name="chaos", daemon=True)
        self.d, self.progress, self.engine, self.deadline = d, progress, engine, deadline
        self.rng = random.Random(plan.seed + 3)  # noqa: S311 (seeded for reproducibility)
        n = plan.submissions
        # API restarts while uploads are in flight; the other faults at any time.
        self.events = sorted(
            [(self.rng.uniform(0.05, 1.5) * n, "worker") for _ in range(plan.worker_kills)]
            + [(self.rng.uniform(0.1, 0.8) * n, "api") for _ in range(plan.api_restarts)]
            + [
                (self.rng.uniform(0.05, 1.5) * n, "database")
                for _ in range(plan.database_restarts if plan.database == "postgresql" else 0)
            ]
        )
        self.done: Counter[str] = Counter()
        self.errors: list[str] = []

    def _at(self, point: float) -> bool:
        return self.progress.uploads() + self.progress.decided() >= point

    def run(self) -> None:
        try:
            for point, kind in self.events:
                if not _wait(functools.partial(self._at, point), self.deadline):
                    self.errors.append(f"the run never reached the point of a {kind} fault")
                    return
                getattr(self, f"_{kind}")()
        except Exception as exc:  # reported by the run, which fails on it
            self.errors.append(f"the controller failed: {exc!r}")

    def _worker(self) -> None:
        """SIGKILL a worker, preferring one that holds a lease (mid-evaluation), and start a
        replacement."""
        live = self.d.live_workers()
        holding = self._lease_holders() & set(live)
        victim = self.rng.choice(sorted(holding) if holding else live)
        self.d.kill_worker(victim)
        self.done["worker kills"] += 1
        self.done["worker kills mid-job"] += victim in holding
        self.d.start_worker()

    def _lease_holders(self) -> set[int]:
        pids = {self.d.worker_pid(i): i for i in self.d.live_workers()}
        try:
            with self.engine.connect() as conn:
                owners = conn.scalars(
                    select(Submission.lease_owner).where(
                        Submission.status == SubmissionStatus.RUNNING
                    )
                ).all()
        except DB_DOWN:
            return set()
        # Lease owners are named "<host>-<pid>-<random>".
        return {pids[p] for o in owners if o and (p := int(o.split("-")[-2])) in pids}

    def _api(self) -> None:
        index = self.rng.randrange(len(self.d.api_urls))
        hard = not self.done["API restarts"] or self.rng.random() < 0.5  # the first by SIGKILL
        self.d.restart_api(index, hard=hard)
        self.done["API restarts"] += 1
        self.done["API restarts by SIGKILL"] += hard

    def _database(self) -> None:
        crash = not self.done["database restarts"] or self.rng.random() < 0.5  # the first one
        self.d.restart_database(mode="immediate" if crash else "fast")
        self.done["database restarts"] += 1
        self.done["database restarts by crash"] += crash


# --- the run -------------------------------------------------------------------------------


def _all_decided(engine: Engine, expected: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with engine.connect() as conn:
                statuses = Counter(conn.scalars(select(Submission.status)).all())
        except DB_DOWN:
            return False
        return sum(statuses.values()) >= expected and set(statuses) <= {"decided"}

    return check


def run_soak(folder: Path, plan: SoakPlan) -> SoakReport:
    """Run the soak in ``folder`` and check every guarantee; the report of figures and
    problems."""
    report = SoakReport(plan)
    started = time.monotonic()
    deadline = started + plan.deadline_seconds
    with deployment(
        folder, database=plan.database, api_processes=plan.api_processes, workers=plan.workers
    ) as d:
        report.figures["start-up seconds"] = round(time.monotonic() - started, 1)
        engine = make_engine(d.database_url, pool_size=2, max_overflow=2)
        try:
            _soak(d, plan, engine, deadline, report)
        finally:
            engine.dispose()
    report.figures["wall seconds"] = round(time.monotonic() - started, 1)
    return report


def _soak(
    d: Deployment, plan: SoakPlan, engine: Engine, deadline: float, report: SoakReport
) -> None:
    set_up = time.monotonic()
    slug, planted = _open_round(d, plan)
    researchers = _researchers(d, slug, plan.researchers)
    with _client(d.api_urls[0], researchers[0][1]) as client:
        pool = build_pairs(client.train_data(slug), client.schema(slug), planted, plan.seed)
    report.figures["set-up seconds"] = round(time.monotonic() - set_up, 1)
    pairs = {
        f"soak-{uuid.uuid4().hex}": p for p in plan_submissions(pool, plan.submissions, plan.seed)
    }
    run = _Run(d, plan, slug, dict(researchers), pairs, _Progress(engine), deadline)
    chaos = Chaos(d, plan, run.progress, engine, deadline)
    keys = list(pairs)
    threads = [
        threading.Thread(
            target=_submitter,
            args=(run, d.api_urls[i % len(d.api_urls)], email, keys[i :: plan.researchers]),
            name=f"researcher-{i}",
        )
        for i, (email, _) in enumerate(researchers)
    ]
    load_started = time.monotonic()
    chaos.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.figures["upload seconds"] = round(time.monotonic() - load_started, 1)
    chaos.join(max(0.0, deadline - time.monotonic()))
    report.problems += chaos.errors
    report.problems += _resend(run)
    accepted = len({s.submission_id for s in run.progress.sent if s.status == 202})
    if not _wait(_all_decided(engine, accepted), deadline):
        report.problems.append("not every submission was decided before the deadline")
    report.figures["seconds to the last verdict"] = round(time.monotonic() - load_started, 1)
    bundle = d.folder / "final-model.zip"
    with _client(d.api_urls[0], _token(d.api_urls[0], *d.organizer)) as organizer:
        organizer.export(slug, bundle)
    d.stop(kill=True)  # every process, before the checks: nothing may change under them
    checks_started = time.monotonic()
    report.figures.update(chaos.done)
    report.figures.update(run.counts)
    report.figures["worker processes started"] = d.workers_started
    found = check_everything(engine, d.storage_dir, slug, run.progress.sent, bundle)
    report.figures.update(found.figures)
    report.figures["check seconds"] = round(time.monotonic() - checks_started, 1)
    report.problems += found.problems
