"""An adaptive participant tries to learn holdout labels (docs/disclosure.md, issue 6).

It plays through the real API and a real worker (``tests/support/probing.py``), with a stronger
threat model than reality: it knows the holdout's features and the base model, so each
submission isolates one holdout row, pads the group to ``min_group_rows`` with rows whose loss
it leaves unchanged, and flips the model's prediction on that row. It reads every channel (the
outcome, the reason, the holdout numbers, the leaderboard) and resubmits near-identical pairs.
"Labels recovered beyond chance" compares its guesses with the base model's, which is what the
public train split already gives. The decision is backend-independent, so SQLite suffices.
The full table, with more settings and a larger budget, is ``bench/holdout_probing.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.rounds.schemas import RoundCreate
from tests.support.probing import (
    Attacker,
    Service,
    grant_knowledge,
    open_probe_round,
    probing_service,
    score,
)
from tests.support.rounds import synthetic_frame

BUDGET = 30  # submissions per setting (the daily quota is raised to it)
FRAME = synthetic_frame(5000, seed=1)  # 1,000 holdout rows: alpha 0.002 is a few rows' worth
NOISE = 0.05  # the most a 95% interval may reach above 0 for "no measurable gain"
CLEAR_GAIN = 0.1  # the least the interval must be above 0 for "the attack works"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with probing_service(Path(tmp_path_factory.mktemp("probing"))) as running:
        yield running


def test_with_the_defaults_probing_learns_nothing_beyond_the_train_split(
    service: Service,
) -> None:
    probe = open_probe_round(service, FRAME, "defaults", BUDGET)
    rules = service.client.get(f"/api/v1/rounds/{probe.slug}").json()["rules"]
    for name in ("alpha", "min_group_rows", "repair_alpha", "disclosure"):
        assert rules[name] == RoundCreate.model_fields[name].default, name
    knowledge, labels = grant_knowledge(service, probe)

    attack = Attacker(service, probe, knowledge, repeats=2).run(BUDGET)
    figures = score("defaults", attack, knowledge.head, labels)
    print(figures)

    assert attack.submissions == BUDGET
    assert attack.accepted == 0
    assert attack.distinct_views(rejected_only=True) == 1  # every rejection looks the same
    assert figures.low <= 0 <= figures.high < NOISE
    # The organizer sees the engine's reasons, and they would have told every probed label.
    for seen in attack.observations:
        verdict = service.client.get(
            f"/api/v1/submissions/{seen.submission_id}", headers=service.organizer.headers
        ).json()["verdict"]
        (row,) = seen.flips
        flip_is_right = labels[row] != knowledge.head[row]
        assert verdict["reason"] == ("below_threshold" if flip_is_right else "no_improvement")


def test_in_classroom_mode_the_same_attack_recovers_the_labels(service: Service) -> None:
    probe = open_probe_round(service, FRAME, "classroom", BUDGET, disclosure="exact")
    knowledge, labels = grant_knowledge(service, probe)

    attack = Attacker(service, probe, knowledge, repeats=2).run(BUDGET)
    figures = score("classroom", attack, knowledge.head, labels)
    print(figures)

    assert attack.submissions == BUDGET  # one each: the first answer settles the label
    assert figures.targets == BUDGET
    assert figures.attack_correct == figures.targets
    assert figures.low > CLEAR_GAIN
