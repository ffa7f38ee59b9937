"""Load test (run by hand): participants polling while others submit, on a real deployment.

``uv run python -m bench.load --mode embedded|scaled --pollers 200 --submitters 20 --duration 60``

``embedded`` is ``bounty demo`` (one process: API and a worker, SQLite); ``scaled`` is
PostgreSQL with 2 API processes and 2 worker processes (``tests/support/deployment.py``).
Through the HTTP API it opens a round on seeded synthetic data (daily quota and rate limits
set high) and signs participants in (accounts are seeded, see ``bench.load_setup``), each
submitter in a team of its own and the pollers joining those teams, half of them with an API
key. Each submitter's first pair is decided before the window opens (warm-up). Then for
``--duration`` seconds, on loopback, one keep-alive connection per participant:

* each poller loops, pausing ``--think`` seconds (+-50%) between rounds of requests: its
  team's latest submission (the team's list instead, every 10th time and until it has one),
  the leaderboard, the round, and the event stream of a submission it sees decided;
* each submitter posts a pair (multipart, with an Idempotency-Key; transport failures are
  retried with the same key), then polls it every ``--poll`` seconds until it is decided.

After the window, submitters wait (up to ``--drain`` seconds) for their last submission.
Prints a Markdown table per endpoint (requests started in the window, req/s, p50 and p99
latency; errors, over all requests: any answer other than the expected 200/202, or no answer
within 60 s), the first unexpected answers, then what became of the submissions: sent
(answered 202), decided, lost, and the exactly-once checks of ``bench.load_audit``. Clients
are spread evenly over the API processes. ``--folder`` keeps the deployment's files and logs;
``--setting NAME=VALUE`` adds a server setting (e.g. to try a larger connection pool).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.seed import DEMO_ORGANIZER
from bench.load_audit import SubmissionAudit, audit_submissions
from bench.load_http import Connection
from bench.load_setup import Pair, Participant, Population, populate
from bench.server import free_port, serve
from tests.support.deployment import deployment

Mode = Literal["embedded", "scaled"]
ENDPOINTS = (
    "POST /rounds/{slug}/submissions",
    "GET /submissions/{id}",
    "GET /rounds/{slug}/submissions",
    "GET /rounds/{slug}/leaderboard",
    "GET /rounds/{slug}",
    "GET /submissions/{id}/events",
)
POST, STATUS, LIST, BOARD, ROUND, EVENTS = ENDPOINTS
REQUEST_TIMEOUT = 60.0
MAX_FAILURES_SHOWN = 8
# Sign-up, sign-in and API keys are limited per client address, and every simulated
# participant comes from 127.0.0.1.
SETTINGS = dict.fromkeys(("rate_signup", "rate_sign_in", "rate_api_key"), "1000000/60")


@dataclass(frozen=True)
class Target:
    """A running deployment: its API processes, its database and its organizer account."""

    api_urls: list[str]
    database_url: str
    organizer: tuple[str, str]


@contextmanager
def deploy(mode: Mode, folder: Path, settings: Mapping[str, str] | None = None) -> Iterator[Target]:
    """Start the deployment of ``mode`` with its files (database, artifacts, logs) in
    ``folder`` and ``settings`` (by setting name) on top of ``SETTINGS``; stop it on exit."""
    began = time.perf_counter()
    settings = {**SETTINGS, **(settings or {})}
    if mode == "embedded":
        port = free_port()
        database = f"sqlite:///{folder / 'bounty.db'}"
        env = {"BOUNTY_DATABASE_URL": database, "BOUNTY_STORAGE_DIR": str(folder / "artifacts")}
        env |= {f"BOUNTY_{name.upper()}": value for name, value in settings.items()}
        command = [sys.executable, "-m", "app.cli", "demo", "--port", str(port)]
        with serve(command, port, env, folder / "demo.log"):
            _say(f"embedded deployment up in {time.perf_counter() - began:.1f} s")
            yield Target([f"http://127.0.0.1:{port}"], database, DEMO_ORGANIZER)
    else:
        with deployment(
            folder, database="postgresql", api_processes=2, workers=2, settings=settings
        ) as running:
            _say(f"scaled deployment up in {time.perf_counter() - began:.1f} s")
            yield Target(list(running.api_urls), running.database_url, running.organizer)


@dataclass(frozen=True)
class Sample:
    """One request: which endpoint, when it started, how long it took, its status (0 for a
    connection failure or timeout) and whether that status was the expected one."""

    endpoint: str
    started: float
    seconds: float
    status: int
    ok: bool


@dataclass
class Recorder:
    """Sends requests and keeps a sample of each, and the first few unexpected answers."""

    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    async def call(
        self,
        connection: Connection,
        endpoint: str,
        path: str,
        headers: dict[str, str],
        *,
        method: str = "GET",
        body: bytes = b"",
        expect: int = 200,
    ) -> tuple[int, bytes]:
        start = time.perf_counter()
        try:
            status, data = await asyncio.wait_for(
                connection.request(method, path, headers, body), REQUEST_TIMEOUT
            )
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            connection.close()  # its state is unknown now
            status, data = 0, repr(exc).encode()
        seconds = time.perf_counter() - start
        self.samples.append(Sample(endpoint, start, seconds, status, status == expect))
        if status != expect and len(self.failures) < MAX_FAILURES_SHOWN:
            answer = data[:300].decode(errors="replace")
            self.failures.append(
                f"{endpoint} -> {status or 'no answer'} after {seconds:.1f} s: {answer}"
            )
        return status, data


@dataclass
class Window:
    """When the load phase ends, and when waiting for verdicts stops."""

    end: float
    drain_end: float

    def open(self) -> bool:
        return time.perf_counter() < self.end


async def _poller(
    who: Participant, slug: str, rec: Recorder, window: Window, *, think: float, seed: int
) -> None:
    rng = random.Random(seed)
    connection = Connection(who.base_url)
    auth = who.headers
    newest: dict[str, Any] | None = None
    streamed = None
    await asyncio.sleep(rng.uniform(0, think))  # arrive spread out, not all at once
    turn = 0
    while window.open():
        if newest is None or turn % 10 == 0:
            status, body = await rec.call(
                connection, LIST, f"/api/v1/rounds/{slug}/submissions?limit=10", auth
            )
            if status == 200 and (listed := json.loads(body)):
                newest = listed[0]
        else:
            status, body = await rec.call(
                connection, STATUS, f"/api/v1/submissions/{newest['id']}", auth
            )
            if status == 200:
                newest = json.loads(body)
        await rec.call(connection, BOARD, f"/api/v1/rounds/{slug}/leaderboard", auth)
        await rec.call(connection, ROUND, f"/api/v1/rounds/{slug}", auth)
        if (
            newest is not None
            and newest["status"] == "decided"
            and (newest["id"] != streamed or turn % 10 == 5)
        ):
            # As the web page does for a new verdict; a decided submission's stream sends
            # its last status and ends.
            streamed = newest["id"]
            events = f"/api/v1/submissions/{streamed}/events"
            await rec.call(connection, EVENTS, events, auth | {"Accept": "text/event-stream"})
        turn += 1
        await asyncio.sleep(think * rng.uniform(0.5, 1.5))
    connection.close()


@dataclass
class Submitting:
    """What every submitter shares: the round and its pairs, the recorder, how often to poll,
    and the submissions answered with 202 (id -> idempotency key)."""

    population: Population
    rec: Recorder
    poll: float
    acknowledged: dict[int, str] = field(default_factory=dict)

    async def submit_and_wait(
        self, connection: Connection, who: Participant, pair: Pair, deadline: float
    ) -> None:
        """Post ``pair``, then poll the submission until it is decided or ``deadline``."""
        key = uuid.uuid4().hex
        headers = who.headers | {"Idempotency-Key": key, "Content-Type": pair.content_type}
        path = f"/api/v1/rounds/{self.population.slug}/submissions"
        for _ in range(3):  # a transport failure is retried with the same key
            status, body = await self.rec.call(
                connection, POST, path, headers, method="POST", body=pair.body, expect=202
            )
            if status != 0:
                break
        if status != 202:
            return
        sub_id = int(json.loads(body)["submission"]["id"])
        self.acknowledged[sub_id] = key
        while time.perf_counter() < deadline:
            await asyncio.sleep(self.poll)
            status, body = await self.rec.call(
                connection, STATUS, f"/api/v1/submissions/{sub_id}", who.headers
            )
            if status == 200 and json.loads(body)["status"] == "decided":
                return

    async def warm_up(self, who: Participant, index: int, deadline: float) -> None:
        """One submission, waited for."""
        connection = Connection(who.base_url)
        pairs = self.population.pairs
        await self.submit_and_wait(connection, who, pairs[index % len(pairs)], deadline)
        connection.close()

    async def submitter(self, who: Participant, index: int, window: Window) -> None:
        """Submit and wait, again and again while the window is open."""
        connection = Connection(who.base_url)
        pairs = self.population.pairs
        turn = index
        while window.open():
            turn += 1
            await self.submit_and_wait(connection, who, pairs[turn % len(pairs)], window.drain_end)
        connection.close()


async def _load(
    population: Population,
    *,
    duration: float,
    think: float,
    poll: float,
    drain: float,
) -> tuple[Recorder, dict[int, str], float, float]:
    """Warm up, then run the load phase; the recorder, acknowledged submissions, the
    window's start and the seconds of drain after it."""
    rec = Recorder()
    submitting = Submitting(population, rec, poll)
    # Warm-up: one submission per submitter, decided before the window opens, so that the
    # window sees the steady state (a fresh worker starts its sandbox's fork server on its
    # first job) and every team has a submission its pollers can follow.
    began = time.perf_counter()
    deadline = began + drain
    await asyncio.gather(
        *(submitting.warm_up(p, i, deadline) for i, p in enumerate(population.submitters))
    )
    _say(
        f"warm-up: {len(submitting.acknowledged)} submissions in "
        f"{time.perf_counter() - began:.1f} s; loading for {duration:g} s"
    )
    start = time.perf_counter()
    window = Window(start + duration, start + duration + drain)
    await asyncio.gather(
        *(
            _poller(p, population.slug, rec, window, think=think, seed=seed)
            for seed, p in enumerate(population.pollers)
        ),
        *(submitting.submitter(p, i, window) for i, p in enumerate(population.submitters)),
    )
    return rec, submitting.acknowledged, start, time.perf_counter() - window.end


@dataclass(frozen=True)
class EndpointRow:
    """Figures for one endpoint: requests started in the window, their rate and latency; and
    the errors among all its requests (the drain's included), by status (0: no answer)."""

    endpoint: str
    requests: int
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    error_statuses: dict[int, int]


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def endpoint_rows(samples: list[Sample], start: float, duration: float) -> list[EndpointRow]:
    """One row per endpoint of ``ENDPOINTS``."""
    rows = []
    for endpoint in ENDPOINTS:
        mine = [s for s in samples if s.endpoint == endpoint]
        timed = [s.seconds * 1000 for s in mine if start <= s.started < start + duration]
        failed = Counter(s.status for s in mine if not s.ok)
        rows.append(
            EndpointRow(
                endpoint,
                len(timed),
                len(timed) / duration,
                _percentile(timed, 50),
                _percentile(timed, 99),
                sum(failed.values()),
                dict(failed),
            )
        )
    return rows


@dataclass(frozen=True)
class LoadReport:
    """The result of a load run."""

    mode: str
    pollers: int
    submitters: int
    duration: float
    think: float
    endpoints: list[EndpointRow]
    submissions: SubmissionAudit
    drain_seconds: float
    failures: list[str]
    """The first few unexpected answers, for diagnosis."""

    @property
    def errors(self) -> int:
        """Errors over all endpoints."""
        return sum(row.errors for row in self.endpoints)

    def markdown(self) -> str:
        """The tables, as Markdown."""
        lines = [
            f"### {self.mode}: {self.pollers} pollers (think {self.think:g} s), "
            f"{self.submitters} submitters, {self.duration:g} s",
            "",
            "| endpoint | requests | req/s | p50 ms | p99 ms | errors |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for row in self.endpoints:
            statuses = ", ".join(
                f"{code or 'no answer'} x{n}" for code, n in row.error_statuses.items()
            )
            lines.append(
                f"| `{row.endpoint}` | {row.requests} | {row.rate:.1f} | {row.p50_ms:.1f} | "
                f"{row.p99_ms:.1f} | {row.errors}{f' ({statuses})' if statuses else ''} |"
            )
        total = sum(row.requests for row in self.endpoints)
        lines.append(f"| all | {total} | {total / self.duration:.1f} | | | {self.errors} |")
        s = self.submissions
        lines += [
            "",
            f"submissions: sent (202) {s.sent}, decided {s.decided} ({s.accepted} accepted), "
            f"lost {len(s.lost)}; stored without a 202: {len(s.unacknowledged)}; "
            f"verdicts not exactly once: {len(s.verdicts_not_once)}; "
            f"patch versions not exactly once: {len(s.patches_not_once)}; "
            f"drain after the window: {self.drain_seconds:.1f} s",
        ]
        if self.failures:
            lines += ["", "first unexpected answers:", *(f"- {f}" for f in self.failures)]
        return "\n".join(lines)


def run_load(
    target: Target,
    mode: str,
    *,
    pollers: int,
    submitters: int,
    duration: float,
    think: float = 2.0,
    poll: float = 0.5,
    drain: float = 180.0,
    rows: int = 20_000,
) -> LoadReport:
    """Set a round and its participants up on ``target``, load it, audit the submissions."""
    began = time.perf_counter()
    population = populate(
        target.api_urls,
        target.database_url,
        target.organizer,
        rows=rows,
        n_submitters=submitters,
        n_pollers=pollers,
    )
    _say(f"set-up done in {time.perf_counter() - began:.1f} s; warming up")
    rec, acknowledged, start, drained = asyncio.run(
        _load(population, duration=duration, think=think, poll=poll, drain=drain)
    )
    audit = audit_submissions(
        target.api_urls[0],
        population.organizer.secret,
        target.database_url,
        population.slug,
        acknowledged,
    )
    return LoadReport(
        mode,
        pollers,
        submitters,
        duration,
        think,
        endpoint_rows(rec.samples, start, duration),
        audit,
        drained,
        rec.failures,
    )


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["embedded", "scaled"], default="embedded")
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--submitters", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds of load.")
    parser.add_argument("--think", type=float, default=2.0, help="Pollers' pause (s).")
    parser.add_argument("--poll", type=float, default=0.5, help="Submitters' poll (s).")
    parser.add_argument("--drain", type=float, default=180.0, help="Most seconds to wait.")
    parser.add_argument("--rows", type=int, default=20_000, help="Rows of the round's data.")
    parser.add_argument(
        "--folder", type=Path, help="Keep the deployment's files here (logs in it or logs/)."
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="An extra server setting, e.g. database_pool_size=300 (repeatable).",
    )
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.setting)
    if args.folder is not None:
        args.folder.mkdir(parents=True, exist_ok=True)
    with (
        nullcontext(str(args.folder))
        if args.folder is not None
        else tempfile.TemporaryDirectory(prefix="bounty-load-") as tmp,
        deploy(args.mode, Path(tmp), extra) as target,
    ):
        report = run_load(
            target,
            args.mode,
            pollers=args.pollers,
            submitters=args.submitters,
            duration=args.duration,
            think=args.think,
            poll=args.poll,
            drain=args.drain,
            rows=args.rows,
        )
    if extra:
        print(f"extra settings: {extra}")
    print(report.markdown())
    if report.errors or not report.submissions.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
