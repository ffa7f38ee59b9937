"""The course replay's figures (``bench.course``): what a run measured, against its targets,
as Markdown and as JSON."""

from __future__ import annotations

import math
import shutil
import statistics
import subprocess
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from bench.load import ENDPOINTS, POST, EndpointRow
from bench.load_audit import SubmissionAudit

READS = tuple(e for e in ENDPOINTS if e != POST)
ROUND_TARGET_SECONDS = 600.0  # embedded, on 2 cores
VERDICT_P99_TARGET = 2.0
READ_P99_TARGET_MS = 100.0
SCALED_RATIO_TARGET = 1.8
OUTCOMES = (
    "accepted",
    "no_improvement",
    "below_threshold",
    "not_significant",
    "group_too_small",
    "invalid",
    "refused (422)",
)


@dataclass(frozen=True)
class Spread:
    """Quantiles of a list of seconds."""

    n: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        """The spread of ``values`` (NaN when empty)."""
        if not values:
            return cls(0, math.nan, math.nan, math.nan)
        if len(values) == 1:
            return cls(1, values[0], values[0], values[0])
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        return cls(len(values), cuts[49], cuts[98], max(values))


def git_state() -> str:
    """HEAD and ``git diff --stat`` of the work tree (others edit it while benchmarks run)."""

    executable = shutil.which("git")
    if executable is None:
        return "(git not found)"

    def git(*args: str) -> str:
        done = subprocess.run(
            [executable, *args], capture_output=True, text=True, check=False, timeout=60
        )
        return done.stdout.rstrip()

    head = git("log", "-1", "--format=%h %s")
    diff = git("diff", "--stat")
    return f"HEAD {head}\n{diff or '(no uncommitted changes)'}"


@dataclass(frozen=True)
class CourseReport:
    """The result of one course replay."""

    mode: str
    teams: int
    submissions: int
    pollers: int
    think: float
    wait: str
    rate: float | None
    """Open loop: submissions sent at this rate; None: each team waits for its verdict."""
    rows: int
    planned_submissions: int
    git: str
    setup_seconds: float
    wall_seconds: float
    """From the first POST to the last verdict seen by its team."""
    decided: int
    verdict_latency: Spread
    """From the POST's 202 to the verdict being visible to the team."""
    server_latency: Spread
    """created_at to decided_at, as the server stored them."""
    post_accepted: Spread
    post_steady: Spread
    """POSTs answered 202 that started after the first minute (all teams post at once first)."""
    post_refused: Spread
    endpoints: list[EndpointRow]
    outcomes: dict[str, dict[str, int]]
    """Intended kind -> what became of it -> count."""
    unexpected: dict[str, int]
    """Endpoint and status -> count, for every answer other than the expected one."""
    failures: list[str]
    audit: SubmissionAudit
    load_average: Spread
    """The machine's 1-minute load average during the round (other processes included)."""
    cores: int

    @property
    def verdicts_per_second(self) -> float:
        """Decided submissions per second of the round."""
        return self.decided / self.wall_seconds if self.wall_seconds else math.nan

    def as_json(self) -> dict[str, Any]:
        """Every figure, for ``--json``."""
        return asdict(self) | {"verdicts_per_second": self.verdicts_per_second}

    def markdown(self) -> str:
        """The report as Markdown."""
        return "\n".join(
            [
                *self._head(),
                *self._timing(),
                *self._reads(),
                *self._outcomes(),
                *self._audit(),
                "",
                "<details><summary>git state at the start of the run</summary>",
                "",
                "```",
                self.git,
                "```",
                "</details>",
            ]
        )

    def _head(self) -> list[str]:
        lines = [
            f"## Course replay, {self.mode}: {self.teams} teams, {self.submissions} submissions",
            "",
            f"{self.pollers} pollers (think {self.think:g} s), "
            + (
                f"teams wait by {self.wait} for each verdict before their next post, "
                if self.rate is None
                else f"submissions sent on schedule at {self.rate:g}/s (open loop), "
            )
            + f"{self.rows} rows (holdout 20%), planned_submissions {self.planned_submissions}; "
            f"set-up {self.setup_seconds:.0f} s.",
            "",
            f"Machine: {self.cores} cores; 1-minute load average during the round p50 "
            f"{self.load_average.p50:.1f}, max {self.load_average.max:.1f} (anything above "
            f"{self.cores} means other processes shared the CPUs).",
            "",
        ]
        if self.unexpected:
            shown = ", ".join(f"`{k}` x{n}" for k, n in sorted(self.unexpected.items()))
            lines += [f"**UNEXPECTED ANSWERS: {shown}**", ""]
            lines += [f"- {f}" for f in self.failures] + [""]
        else:
            lines += ["**Unexpected answers: none** (no 5xx, no timeout, no other status).", ""]
        return lines

    def _timing(self) -> list[str]:
        vl, sl, pa, pr = (
            self.verdict_latency,
            self.server_latency,
            self.post_accepted,
            (self.post_refused),
        )
        target_wall = f"<= {ROUND_TARGET_SECONDS:.0f} s (embedded)"
        return [
            "| figure | value | target |",
            "|---|---:|---|",
            f"| round wall time | {self.wall_seconds:.0f} s | {target_wall} "
            f"{_met(self.wall_seconds <= ROUND_TARGET_SECONDS)} |",
            f"| verdicts/s | {self.verdicts_per_second:.2f} | |",
            f"| submit-to-verdict p50 / p99 / max | {vl.p50:.2f} / {vl.p99:.2f} / {vl.max:.2f} s "
            f"| p99 <= {VERDICT_P99_TARGET:g} s {_met(vl.p99 <= VERDICT_P99_TARGET)} |",
            f"| server created-to-decided p50 / p99 | {sl.p50:.2f} / {sl.p99:.2f} s | |",
            f"| POST -> 202 p50 / p99 (n={pa.n}) | {pa.p50 * 1000:.0f} / {pa.p99 * 1000:.0f} ms "
            "| |",
            f"| POST -> 202 after the first minute p50 / p99 (n={self.post_steady.n}) | "
            f"{self.post_steady.p50 * 1000:.0f} / {self.post_steady.p99 * 1000:.0f} ms | |",
            f"| POST -> 422 p50 / p99 (n={pr.n}) | {pr.p50 * 1000:.0f} / {pr.p99 * 1000:.0f} ms "
            "| |",
            "",
        ]

    def _reads(self) -> list[str]:
        lines = [
            "Reads while verdicts run (requests started during the round):",
            "",
            "| endpoint | requests | req/s | p50 ms | p99 ms | errors | p99 target |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for row in self.endpoints:
            target = (
                f"<= {READ_P99_TARGET_MS:g} ms {_met(row.p99_ms <= READ_P99_TARGET_MS)}"
                if row.endpoint in READS
                else ""
            )
            lines.append(
                f"| `{row.endpoint}` | {row.requests} | {row.rate:.1f} | {row.p50_ms:.1f} | "
                f"{row.p99_ms:.1f} | {row.errors} | {target} |"
            )
        return [*lines, ""]

    def _outcomes(self) -> list[str]:
        seen = {o for row in self.outcomes.values() for o in row}
        columns = [*OUTCOMES, *sorted(seen - set(OUTCOMES))]
        lines = [
            "Outcomes (rows: what the pair was built to be; columns: what became of it):",
            "",
            "| built as | " + " | ".join(columns) + " | total |",
            "|---|" + "---:|" * (len(columns) + 1),
        ]
        totals: Counter[str] = Counter()
        for kind, row in self.outcomes.items():
            totals.update(row)
            cells = " | ".join(str(row.get(c, 0)) for c in columns)
            lines.append(f"| {kind} | {cells} | {sum(row.values())} |")
        cells = " | ".join(f"**{totals.get(c, 0)}**" for c in columns)
        lines.append(f"| **all** | {cells} | **{totals.total()}** |")
        return [*lines, ""]

    def _audit(self) -> list[str]:
        s = self.audit
        return [
            f"Audit ({'ok' if s.ok else '**FAILED**'}): sent (202) {s.sent}, decided {s.decided} "
            f"({s.accepted} accepted), lost {len(s.lost)}; stored without a 202: "
            f"{len(s.unacknowledged)}; verdicts not exactly once: {len(s.verdicts_not_once)}; "
            f"patch versions not exactly once: {len(s.patches_not_once)}.",
        ]


def _met(ok: bool) -> str:
    return "(met)" if ok else "(**missed**)"


def comparison(embedded: CourseReport, scaled: CourseReport) -> str:
    """The scaled deployment's verdict throughput against the embedded one's."""
    ratio = scaled.verdicts_per_second / embedded.verdicts_per_second
    return "\n".join(
        [
            "## Scaled vs embedded",
            "",
            "| mode | wall s | verdicts/s | verdict p99 s |",
            "|---|---:|---:|---:|",
            *(
                f"| {r.mode} | {r.wall_seconds:.0f} | {r.verdicts_per_second:.2f} | "
                f"{r.verdict_latency.p99:.2f} |"
                for r in (embedded, scaled)
            ),
            "",
            f"throughput ratio scaled/embedded: **{ratio:.2f}x** (target >= "
            f"{SCALED_RATIO_TARGET:g}x {_met(ratio >= SCALED_RATIO_TARGET)})",
        ]
    )
