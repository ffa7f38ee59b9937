"""Holdout probing (run by hand): how many holdout labels an adaptive participant recovers.

``uv run python -m bench.holdout_probing [--budget 100 --rows 5000 --json]``

The attacker of ``tests/support/probing.py`` plays through the real API and a real worker, with
a stronger threat model than reality (it knows the holdout's features and the base model), on
seeded synthetic data, once per setting below, with ``--budget`` submissions each (the daily
quota is raised to it). Each submission isolates ``k`` holdout rows in a group padded to
``min_group_rows`` and flips the model's prediction on them; the attacker reads the outcome,
the reason, the shown numbers and the leaderboard, and guesses the probed rows' labels.

"gain" is labels recovered beyond chance: (attack right - baseline right) / rows probed, the
baseline being the base model's prediction (what the public train split gives), with an exact
95% interval; "per sub" is the same excess per submission. "holdout / test" is how much the
head model's mean loss fell on the holdout and on the sealed test split (the organizer's
exact view): accepted probes that memorize holdout labels lower the first and not the second,
the overfitting gap the closing report shows.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.support.probing import (
    Attacker,
    Figures,
    Service,
    grant_knowledge,
    open_probe_round,
    probing_service,
    score,
)
from tests.support.rounds import synthetic_frame


@dataclass(frozen=True)
class Setting:
    """One row of the table: round rules (API defaults otherwise) and the attacker's play."""

    name: str
    rules: dict[str, Any]
    flips: int | None = 1  # None: k = the threshold in rows, so acceptance means all right
    repeats: int = 1
    rows_factor: int = 1  # times --rows


SETTINGS = (
    Setting("defaults", {}),
    Setting("defaults, 3 near-identical resubmissions", {}, repeats=3),
    Setting("defaults, k = threshold flips (accept bit)", {}, flips=None),
    Setting("defaults, k = threshold flips, 4x holdout", {}, flips=None, rows_factor=4),
    Setting("none", {"disclosure": "none"}),
    Setting("classroom (exact)", {"disclosure": "exact"}),
    Setting("previous defaults (alpha 0, min_group_rows 1)", {"alpha": 0.0, "min_group_rows": 1}),
)


@dataclass(frozen=True)
class Row:
    """A setting's figures, the threshold and group size it faced, and the loss it moved."""

    figures: Figures
    n_holdout: int
    threshold_rows: int
    flips: int
    holdout_drop: float
    test_drop: float


def run_setting(service: Service, setting: Setting, rows: int, budget: int) -> Row:
    """One attack on a fresh round with the setting's rules."""
    frame = synthetic_frame(rows * setting.rows_factor, seed=1)
    probe = open_probe_round(service, frame, setting.name, budget, **setting.rules)
    knowledge, labels = grant_knowledge(service, probe)
    attacker = Attacker(service, probe, knowledge, flips=setting.flips, repeats=setting.repeats)
    attack = attacker.run(budget)
    versions = service.client.get(
        f"/api/v1/rounds/{probe.slug}/versions", headers=service.organizer.headers
    ).json()
    first, last = versions[0], versions[-1]
    return Row(
        figures=score(setting.name, attack, knowledge.head, labels),
        n_holdout=attacker.n,
        threshold_rows=attacker.threshold,
        flips=attacker.k,
        holdout_drop=first["holdout_loss"] - last["holdout_loss"],
        test_drop=first["test_loss"] - last["test_loss"],
    )


def table(rows: list[Row]) -> str:
    """The figures as a fixed-width table."""
    head = (
        f"{'setting':48} {'n':>5} {'T':>3} {'k':>2} {'subs':>5} {'acc':>4} {'rows':>5} "
        f"{'gain':>7} {'95% interval':>17} {'per sub':>8} {'views':>5} {'holdout / test':>17}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        f = r.figures
        lines.append(
            f"{f.setting:48} {r.n_holdout:5d} {r.threshold_rows:3d} {r.flips:2d} "
            f"{f.submissions:5d} {f.accepted:4d} {f.targets:5d} {f.gain:+7.3f} "
            f"[{f.low:+.3f}, {f.high:+.3f}] {f.per_submission:+8.3f} {f.distinct_views:5d} "
            f"{r.holdout_drop:+8.4f}/{r.test_drop:+.4f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=100, help="submissions per setting")
    parser.add_argument("--rows", type=int, default=5000, help="synthetic rows (20%% holdout)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, probing_service(Path(folder)) as service:
        rows = [run_setting(service, s, args.rows, args.budget) for s in SETTINGS]
    if args.json:
        out = [{**asdict(r), "per_submission": r.figures.per_submission} for r in rows]
        print(json.dumps(out, indent=2))
    else:
        print(table(rows))


if __name__ == "__main__":
    main()
