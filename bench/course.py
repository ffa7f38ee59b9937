"""Course replay (run by hand): a round the size of a 2023 university course's bias bounty,
through the HTTP API of a real deployment.

``.venv/bin/python -m bench.course --mode embedded`` (``scaled``, or ``both`` for one after
the other and their throughput ratio; ``--submissions 300`` for a smoke run)

``embedded`` is ``bounty demo`` (one process: API and a worker thread, SQLite); ``scaled`` is
PostgreSQL with 2 API processes and 2 worker processes (``tests/support/deployment.py``). The
organizer opens a round through the API on synthetic train/holdout/test splits with ten planted
groups (``bench.course_pairs``), setting ``planned_submissions`` to the expected count (rounded
up to a thousand) and the daily quota high; accounts are seeded and signed in as in
``bench.load_setup``: one member per team submits, and one poller per team joins it.

``--teams`` (46) teams share ``--submissions`` (3,777) pairs built before the round opens, one
in 200 a real fix of a planted group (accepted under the significance rule) and the rest what a
course produces: no improvement, groups too small, files that fail on the holdout (verdict
``invalid``) and mistakes the upload check refuses with 422. Each team sends its share back to
back: post (multipart, Idempotency-Key, transport failures retried with the same key), wait for
the verdict on the submission's event stream as the web page does (``--wait poll`` polls
``GET /submissions/{id}`` every ``--poll`` s instead), post the next. Meanwhile each poller
loops as in ``bench.load`` (its team's submissions, the leaderboard, the round, the event
stream of a decided submission) with ``--think`` s (+-50%) between rounds, until the last team
is done.

Prints Markdown: the round's wall time and verdicts/s, submit-to-verdict latency (from the
POST's 202 to the verdict seen by the team) and the server's created-to-decided time, POST
latency, p50/p99, req/s and errors of every endpoint during the round, what became of each kind
of pair (with any unexpected status shown first), the exactly-once audit of
``bench.load_audit``, the machine's load average during the round (a shared machine slows
everything down) and the git state; each figure next to its target. ``--json PATH`` writes the
figures, ``--folder`` keeps the deployments' files and logs, ``--setting NAME=VALUE`` adds a
server setting. Exits 1 on any unexpected answer or a failed audit.

With 46 teams each waiting for its verdict before the next post, the mean submit-to-verdict
time is 46 / (verdicts per second) (Little's law): a saturated round measures throughput.
``--rate R`` sends the round's submissions on a schedule instead, R per second in all
whatever the verdicts (open loop), which measures the verdict latency a round sees at R.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from bench.course_pairs import FRACTIONS, KINDS, Builder, Planned, plan, write_splits
from bench.course_report import CourseReport, Spread, comparison, git_state
from bench.load import (
    POST,
    STATUS,
    Mode,
    Recorder,
    Sample,
    Target,
    Window,
    _poller,
    deploy,
    endpoint_rows,
)
from bench.load_audit import _all_submissions, audit_submissions
from bench.load_http import Connection
from bench.load_setup import Participant, participants, sign_in
from bounty_client import BountyClient
from bounty_engine.data import infer_schema, read_table
from bounty_engine.datasets.synthetic import LABEL

Wait = Literal["stream", "poll"]
WAIT = "GET /submissions/{id}/events (team waiting)"
PROGRESS_SECONDS = 30.0
LOAD_SECONDS = 1.0
STEADY_AFTER = 60.0  # seconds: every team posts at once when the round starts


@dataclass(frozen=True)
class Options:
    """What to run, apart from the deployment."""

    teams: int = 46
    submissions: int = 3777
    pollers: int = 46
    think: float = 2.0
    wait: Wait = "stream"
    poll: float = 0.5
    rows: int = 20_000
    seed: int = 0
    deadline: float = 7200.0
    rate: float | None = None
    """Submissions per second for the whole round, sent on schedule (open loop); None: each
    team sends its next one once it has seen the previous verdict (closed loop)."""

    @property
    def planned(self) -> int:
        """The organizer's planned_submissions: the expected count, up to a thousand."""
        return max(1000, math.ceil(self.submissions / 1000) * 1000)


@dataclass
class Sent:
    """One planned pair as its team saw it (``status`` -1: not sent before the deadline)."""

    kind: str
    key: str
    status: int = -1
    post_seconds: float = math.nan
    submission_id: int | None = None
    acknowledged_at: float = math.nan
    visible_at: float = math.nan


def _last_status(stream: bytes) -> str | None:
    """The status in the last event of a Server-Sent Events body."""
    data = [
        line[5:] for line in stream.decode(errors="replace").splitlines() if line[:5] == "data:"
    ]
    return str(json.loads(data[-1])["status"]) if data else None


@dataclass
class Course:
    """What the teams share: the round, the recorder, how they wait, and what they sent."""

    slug: str
    rec: Recorder
    wait: Wait
    poll: float
    deadline: float
    sent: list[Sent] = field(default_factory=list)
    wait_errors: Counter[str] = field(default_factory=Counter)
    loads: list[float] = field(default_factory=list)
    """The machine's 1-minute load average, sampled during the round."""

    async def team(self, who: Participant, items: Sequence[Planned]) -> None:
        """Send ``items`` one after the other, each once the previous one's verdict is seen."""
        connection = Connection(who.base_url)
        for item in items:
            await self.send(connection, who, item)
        connection.close()

    async def on_schedule(
        self, who: Participant, items: Sequence[tuple[float, Planned]], start: float
    ) -> None:
        """Send each of ``items`` at its time (seconds after ``start``), whatever became of the
        ones before, and follow each to its verdict on a connection of its own."""
        sending: list[asyncio.Task[None]] = []
        for at, item in items:
            await asyncio.sleep(max(0.0, start + at - time.perf_counter()))
            sending.append(asyncio.create_task(self._send_alone(who, item)))
        await asyncio.gather(*sending)

    async def _send_alone(self, who: Participant, item: Planned) -> None:
        connection = Connection(who.base_url)
        await self.send(connection, who, item)
        connection.close()

    async def send(self, connection: Connection, who: Participant, item: Planned) -> None:
        """Post ``item`` and wait for its verdict (unless past the deadline)."""
        sent = Sent(item.kind, uuid.uuid4().hex)
        self.sent.append(sent)
        if time.perf_counter() >= self.deadline:
            return
        await self.submit(connection, who, item, sent)
        if sent.submission_id is not None:
            sent.visible_at = await self.verdict(connection, who, sent.submission_id)

    async def submit(
        self, connection: Connection, who: Participant, item: Planned, sent: Sent
    ) -> None:
        """Post ``item`` (a transport failure is retried with the same key)."""
        headers = who.headers | {"Idempotency-Key": sent.key, "Content-Type": item.content_type}
        path = f"/api/v1/rounds/{self.slug}/submissions"
        expect = 422 if item.kind == "refused" else 202
        for _ in range(3):
            began = time.perf_counter()
            status, body = await self.rec.call(
                connection, POST, path, headers, method="POST", body=item.body, expect=expect
            )
            if status != 0:
                break
        sent.status, sent.post_seconds = status, time.perf_counter() - began
        if status == 202:
            sent.acknowledged_at = time.perf_counter()
            sent.submission_id = int(json.loads(body)["submission"]["id"])

    async def verdict(self, connection: Connection, who: Participant, sub_id: int) -> float:
        """When the verdict of ``sub_id`` was seen (NaN if not by the deadline)."""
        while time.perf_counter() < self.deadline:
            if self.wait == "stream" and await self._streamed(connection, who, sub_id):
                return time.perf_counter()
            await asyncio.sleep(self.poll)  # between polls, or after a broken stream
            status, body = await self.rec.call(
                connection, STATUS, f"/api/v1/submissions/{sub_id}", who.headers
            )
            if status == 200 and json.loads(body)["status"] == "decided":
                return time.perf_counter()
        return math.nan

    async def _streamed(self, connection: Connection, who: Participant, sub_id: int) -> bool:
        """Follow the submission's event stream to its end; whether it ended decided."""
        headers = who.headers | {"Accept": "text/event-stream"}
        path = f"/api/v1/submissions/{sub_id}/events"
        remaining = max(1.0, self.deadline - time.perf_counter())
        try:
            status, body = await asyncio.wait_for(
                connection.request("GET", path, headers), remaining
            )
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            connection.close()
            self.wait_errors[f"{WAIT} -> {type(exc).__name__}"] += 1
            return False
        if status != 200:
            self.wait_errors[f"{WAIT} -> {status}"] += 1
            return False
        return _last_status(body) == "decided"

    def progress(self, began: float) -> str:
        """A one-line progress note."""
        seen = sum(1 for s in self.sent if not math.isnan(s.visible_at))
        posted = sum(1 for s in self.sent if s.status >= 0)
        elapsed = time.perf_counter() - began
        return (
            f"{elapsed:.0f} s: posted {posted}, verdicts seen {seen} ({seen / elapsed:.2f}/s), "
            f"load average {os.getloadavg()[0]:.1f}"
        )


@dataclass
class Until(Window):
    """The pollers' window: open until the last team is done."""

    done: bool = False

    def open(self) -> bool:
        return not self.done


async def _replay(
    course: Course,
    teams: Sequence[tuple[Participant, Sequence[Planned]]],
    pollers: Sequence[Participant],
    think: float,
    rate: float | None = None,
) -> tuple[float, float]:
    """Run the teams and the pollers; (start, when the last team saw its last verdict)."""
    window = Until(math.inf, math.inf)
    start = time.perf_counter()

    finished: list[float] = []

    async def all_teams() -> None:
        if rate is None:
            await asyncio.gather(*(course.team(who, items) for who, items in teams))
        else:  # item k of team i is the round's submission i + k * teams
            await asyncio.gather(
                *(
                    course.on_schedule(
                        who,
                        [((i + k * len(teams)) / rate, item) for k, item in enumerate(items)],
                        start,
                    )
                    for i, (who, items) in enumerate(teams)
                )
            )
        window.done = True
        finished.append(time.perf_counter())

    async def report_progress() -> None:
        next_note = start + PROGRESS_SECONDS
        while window.open():
            await asyncio.sleep(LOAD_SECONDS)
            course.loads.append(os.getloadavg()[0])
            if time.perf_counter() >= next_note:
                next_note += PROGRESS_SECONDS
                _say(course.progress(start))

    await asyncio.gather(
        all_teams(),
        report_progress(),
        *(
            _poller(p, course.slug, course.rec, window, think=think, seed=seed)
            for seed, p in enumerate(pollers)
        ),
    )
    return start, finished[0]


def open_round(
    base_url: str, organizer: tuple[str, str], splits: Mapping[str, Path], planned: int
) -> tuple[str, str]:
    """An open round on ``splits``, as its organizer sets it up; (slug, organizer token)."""
    with httpx.Client(timeout=300) as http:
        token = sign_in(http, base_url, *organizer)
    settings = {
        "title": f"Course replay {uuid.uuid4().hex[:6]}",
        "description": "A course-sized round replayed by bench.course.",
        "planned_submissions": planned,
        "daily_quota": 10_000,
    }
    with BountyClient(base_url, api_key=token, timeout=300) as org:
        slug = org.create_round(settings).slug
        org.upload_dataset(slug, label=LABEL, splits=splits)
        org.set_base_model(slug)
        org.set_status(slug, "open")
    return slug, token


def _fate(sent: Sent, stored: Mapping[int, Mapping[str, Any]]) -> str:
    """What became of one planned pair, as its organizer sees it."""
    if sent.status == -1:
        return "not sent"
    if sent.status == 422:
        return "refused (422)"
    if sent.status != 202:
        return f"HTTP {sent.status or 'no answer'}"
    row = stored.get(sent.submission_id or 0)
    if row is None or row["status"] != "decided":
        return "lost"
    verdict = row["verdict"]
    return str(verdict["outcome"] if verdict["outcome"] != "rejected" else verdict["reason"])


def _outcomes(sent: Sequence[Sent], stored: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    table: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    for s in sent:
        table[s.kind][_fate(s, stored)] += 1
    return {kind: dict(row) for kind, row in table.items()}


def _server_seconds(stored: Mapping[int, Mapping[str, Any]]) -> list[float]:
    """created_at to decided_at of each decided submission."""
    return [
        (
            datetime.fromisoformat(row["decided_at"]) - datetime.fromisoformat(row["created_at"])
        ).total_seconds()
        for row in stored.values()
        if row["decided_at"] is not None
    ]


def _stored(api_url: str, token: str, slug: str) -> dict[int, dict[str, Any]]:
    """The round's submissions as its organizer sees them, by id."""
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=api_url, headers=auth, timeout=120) as http:
        return {int(s["id"]): s for s in _all_submissions(http, slug)}


def run_course(
    target: Target,
    mode: str,
    options: Options,
    planned: Sequence[Planned],
    splits: dict[str, Path],
    *,
    samples: Path | None = None,
) -> CourseReport:
    """Set the round and its teams up on ``target``, replay ``planned``, audit and report."""
    git = git_state()
    began = time.perf_counter()
    slug, token = open_round(target.api_urls[0], target.organizer, splits, options.planned)
    teams, pollers = participants(
        target.api_urls, target.database_url, slug, options.teams, options.pollers
    )
    setup = time.perf_counter() - began
    _say(f"set-up done in {setup:.1f} s; replaying {len(planned)} submissions")
    course = Course(slug, Recorder(), options.wait, options.poll, time.perf_counter())
    course.deadline += options.deadline
    shares = [(who, planned[i :: options.teams]) for i, who in enumerate(teams)]
    start, ended = asyncio.run(_replay(course, shares, pollers, options.think, options.rate))
    _say(course.progress(start))
    if samples is not None:
        _write_samples(samples, mode, course.rec.samples, start)
    acknowledged = {s.submission_id: s.key for s in course.sent if s.submission_id is not None}
    audit = audit_submissions(target.api_urls[0], token, target.database_url, slug, acknowledged)
    stored = _stored(target.api_urls[0], token, slug)
    unexpected = Counter(
        f"{s.endpoint} -> {s.status or 'no answer'}" for s in course.rec.samples if not s.ok
    )
    return CourseReport(
        mode=mode,
        teams=options.teams,
        submissions=len(planned),
        pollers=options.pollers,
        think=options.think,
        wait=options.wait,
        rate=options.rate,
        rows=options.rows,
        planned_submissions=options.planned,
        git=git,
        setup_seconds=setup,
        wall_seconds=ended - start,
        decided=audit.decided,
        verdict_latency=Spread.of(
            [s.visible_at - s.acknowledged_at for s in course.sent if s.visible_at > 0]
        ),
        server_latency=Spread.of(_server_seconds(stored)),
        post_accepted=Spread.of([s.post_seconds for s in course.sent if s.status == 202]),
        post_steady=Spread.of(
            [
                s.post_seconds
                for s in course.sent
                if s.status == 202 and s.acknowledged_at - s.post_seconds >= start + STEADY_AFTER
            ]
        ),
        post_refused=Spread.of([s.post_seconds for s in course.sent if s.status == 422]),
        endpoints=endpoint_rows(course.rec.samples, start, ended - start),
        outcomes=_outcomes(course.sent, stored),
        unexpected=dict(unexpected + course.wait_errors),
        failures=course.rec.failures,
        audit=audit,
        load_average=Spread.of(course.loads),
        cores=os.cpu_count() or 0,
    )


def _write_samples(path: Path, mode: str, samples: Sequence[Sample], start: float) -> None:
    """Append each request's endpoint, start (seconds into the round), duration and status."""
    with path.open("a", newline="") as out:
        writer = csv.writer(out)
        for s in samples:
            offset = f"{s.started - start:.3f}"
            writer.writerow([mode, s.endpoint, offset, f"{s.seconds:.4f}", s.status])


def build_plan(folder: Path, options: Options) -> tuple[list[Planned], dict[str, Path]]:
    """The round's splits (written to ``folder``) and the pairs the teams will send."""
    began = time.perf_counter()
    splits, planted = write_splits(folder, options.rows, options.seed)
    train = read_table(splits["train"])
    holdout_rows = int(FRACTIONS[1] * options.rows)
    builder = Builder.on(train, infer_schema(train, LABEL), holdout_rows, options.seed)
    planned = plan(builder, planted, options.submissions)
    _say(f"{len(planned)} pairs built in {time.perf_counter() - began:.0f} s")
    return planned, splits


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["embedded", "scaled", "both"], default="embedded")
    parser.add_argument("--compare", action="store_true", help="The same as --mode both.")
    parser.add_argument("--teams", type=int, default=46)
    parser.add_argument("--submissions", type=int, default=3777)
    parser.add_argument("--pollers", type=int, help="Participants polling (default: --teams).")
    parser.add_argument("--think", type=float, default=2.0, help="Pollers' pause (s).")
    parser.add_argument("--wait", choices=["stream", "poll"], default="stream")
    parser.add_argument("--poll", type=float, default=0.5, help="Teams' poll with --wait poll.")
    parser.add_argument("--rows", type=int, default=20_000, help="Rows of the round's data.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--rate",
        type=float,
        help="Open loop: send the round's submissions at this many per second (teams do not "
        "wait for a verdict before their next one).",
    )
    parser.add_argument("--deadline", type=float, default=7200.0, help="Most seconds per run.")
    parser.add_argument("--json", type=Path, help="Write the figures here.")
    parser.add_argument("--folder", type=Path, help="Keep the deployments' files here.")
    parser.add_argument(
        "--samples",
        type=Path,
        help="Write every request here (CSV: mode, endpoint, start s, seconds, status).",
    )
    parser.add_argument(
        "--setting", action="append", default=[], metavar="NAME=VALUE", help="A server setting."
    )
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    options = Options(
        teams=args.teams,
        submissions=args.submissions,
        pollers=args.teams if args.pollers is None else args.pollers,
        think=args.think,
        wait=args.wait,
        poll=args.poll,
        rows=args.rows,
        seed=args.seed,
        deadline=args.deadline,
        rate=args.rate,
    )
    modes: list[Mode] = (
        ["embedded", "scaled"] if args.compare or args.mode == "both" else [args.mode]
    )
    extra = dict(item.split("=", 1) for item in args.setting)
    reports: list[CourseReport] = []
    with nullcontext(str(args.folder)) if args.folder else tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        planned, splits = build_plan(root, options)
        for mode in modes:
            (root / mode).mkdir(exist_ok=True)
            with deploy(mode, root / mode, extra) as target:
                report = run_course(target, mode, options, planned, splits, samples=args.samples)
                reports.append(report)
            print(reports[-1].markdown(), flush=True)
    figures: dict[str, Any] = {r.mode: r.as_json() for r in reports}
    if len(reports) == 2:
        print(comparison(*reports))
        figures["ratio"] = reports[1].verdicts_per_second / reports[0].verdicts_per_second
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    if any(r.unexpected or not r.audit.ok for r in reports):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
