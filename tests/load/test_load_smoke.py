"""The load test's CI variant (``bench/load.py`` is the full run): a few pollers and
submitters for some seconds against each deployment, the embedded default (``bounty demo``)
and PostgreSQL with 2 API processes and 2 workers. No endpoint may answer an error or fail to
answer, and every submission answered with 202 must end decided, exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.load import ENDPOINTS, Mode, deploy, run_load

pytestmark = pytest.mark.long

POLLERS = 20
SUBMITTERS = 4


@pytest.mark.parametrize("mode", ["embedded", "scaled"])
def test_load_has_no_errors_and_loses_no_submission(mode: Mode, tmp_path: Path) -> None:
    with deploy(mode, tmp_path) as target:
        report = run_load(
            target,
            mode,
            pollers=POLLERS,
            submitters=SUBMITTERS,
            duration=4,
            think=0.5,
            poll=0.25,
            drain=90,
            rows=4000,
        )
    print(report.markdown())  # the figures, for whoever reads the log (not asserted)
    assert [row.endpoint for row in report.endpoints] == list(ENDPOINTS)
    for row in report.endpoints:
        assert row.requests > 0, f"{row.endpoint} was never called"
        assert row.errors == 0, f"{row.endpoint}: {row.error_statuses}"
    submissions = report.submissions
    assert submissions.sent >= SUBMITTERS
    assert submissions.decided == submissions.sent
    assert submissions.lost == []
    assert submissions.unacknowledged == []
    assert submissions.verdicts_not_once == {}
    assert submissions.patches_not_once == {}
    assert submissions.accepted >= 1  # the planted groups are found: verdicts are real
