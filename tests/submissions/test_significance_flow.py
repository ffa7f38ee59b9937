"""The significance rule through the service: the round states its guarantee, each pair is tested
at its place among the round's tested pairs (counted from the stored verdicts, whichever worker
decides), participants see no test figures, and the engine alone reproduces every verdict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.core.settings import Settings
from app.rounds.engine_view import load_split, round_rules, round_schema
from app.rounds.models import ModelVersion, Round
from app.submissions.models import Submission
from app.worker.runner import Worker
from bounty_engine.data import infer_schema, prepare_features
from bounty_engine.datasets.synthetic import make_synthetic
from bounty_engine.groups import RuleGroup
from bounty_engine.models import load_model
from bounty_engine.round import BountyRound
from bounty_engine.round import Submission as EngineSubmission
from bounty_engine.significance import Spending
from tests.submissions.conftest import Arena, build_arena
from tests.support.api import account
from tests.support.rounds import LABEL, N_ROWS, create_round, csv_bytes

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py

PLANNED = 20
SPLITS = ("train", "holdout", "test")


@pytest.fixture
def game(client: TestClient, session_factory: sessionmaker[Session]) -> Arena:
    # The product's default rule, with few planned submissions so that the planted groups'
    # 12-20 holdout rows can be significant.
    return build_arena(
        client, session_factory, acceptance_test="significance", planned_submissions=PLANNED
    )


@pytest.fixture
def workers(
    client: TestClient, settings: Settings, session_factory: sessionmaker[Session], tmp_path: Path
) -> list[Worker]:
    """Two workers on the app's database and store, with caches of their own."""
    store = client.app.state.store  # type: ignore[attr-defined]
    return [
        Worker(session_factory, store, settings, name=name, cache_dir=tmp_path / name)
        for name in ("w1", "w2")
    ]


def test_pairs_are_tested_at_their_place_in_the_round_whichever_worker_decides(
    game: Arena, client: TestClient, db: Session, workers: list[Worker]
) -> None:
    shown = client.get(f"/api/v1/rounds/{game.slug}").json()["acceptance"]
    assert shown["test"] == "significance"
    assert shown["guarantee"] == (
        "An accepted pair improves the model on its group with at least 95% confidence."
    )
    assert shown["first_level"] == pytest.approx(Spending(0.95, PLANNED).level(1))
    assert "at most 5%" in shown["details"]

    # The two workers take turns: neither has seen the other's verdicts.
    p0, p1, p2 = game.planted
    pairs = [("x0 > 0", game.patch_model("x0 > 0")), (p0, game.patch_model(p0))]
    pairs += [(p2, game.patch_model(p2)), ("x1 < 0", game.patch_model("x1 < 0"))]
    pairs += [(p1, game.patch_model(p1))]
    for turn, (expression, model) in enumerate(pairs):
        assert game.submit(expression, model).status_code == 202
        assert workers[turn % 2].run_once()

    subs = db.scalars(select(Submission).order_by(Submission.id)).all()
    tested = [s for s in subs if s.outcome in ("accepted", "rejected")]
    assert len(tested) == len(pairs)
    assert any(s.outcome == "accepted" for s in subs)
    for place, sub in enumerate(tested, start=1):
        test = (sub.verdict or {}).get("test")
        if sub.reason in ("group_too_small", "no_improvement", "below_threshold"):
            assert test is None  # rejected before the test: its place is still spent
            continue
        assert test is not None
        assert test["index"] == place
        assert test["level"] == Spending(0.95, PLANNED).level(place)
        assert (sub.outcome == "accepted") == (test["p_value"] <= test["level"])
        assert sub.reason in ("accepted", "not_significant")

        organizer = client.get(f"/api/v1/submissions/{sub.id}", headers=game.organizer.headers)
        assert organizer.json()["verdict"]["significance"]["index"] == place
        member = client.get(f"/api/v1/submissions/{sub.id}", headers=game.member.headers).json()
        assert member["verdict"]["significance"] is None  # rounded disclosure: no test figures
        assert member["verdict"]["reason"] in ("accepted", "not_accepted")

    # The engine alone, fed the stored splits and files in arrival order, decides the same.
    round_ = db.scalars(select(Round).where(Round.slug == game.slug)).one()
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.local_copy(round_.base_model_sha) as path:
        base = load_model(path)
    splits = {name: load_split(store, round_, name) for name in ("holdout", "train", "test")}
    engine = BountyRound(round_schema(round_), round_rules(round_), base, splits)
    for sub in subs:
        with store.local_copy(sub.model_sha) as path:
            h = load_model(path)
        group = RuleGroup.parse(sub.group_expression or "", engine.schema)
        decision = engine.submit(EngineSubmission(str(sub.id), group, h))
        assert (decision.outcome.value, decision.reason.value) == (sub.outcome, sub.reason)
        if decision.test is not None:
            assert decision.test.p_value == (sub.verdict or {})["test"]["p_value"]
    head = db.scalars(
        select(ModelVersion).where(
            ModelVersion.round_id == round_.id, ModelVersion.version == round_.head_version
        )
    ).one()
    assert engine.evaluator.head_version == round_.head_version
    assert engine.evaluator.head_loss() == head.holdout_loss


def _guarded_game(client: TestClient, session_factory: sessionmaker[Session]) -> Arena:
    """A round with the test-split guard whose sealed test split disagrees with the holdout on
    the first planted group (its labels flipped there): a pair that fixes the group on the
    holdout makes the model worse on test."""
    data = make_synthetic(N_ROWS)
    frame = data.frame
    schema = infer_schema(frame, LABEL)
    planted = RuleGroup.parse(data.planted[0].expression, schema).mask(
        prepare_features(frame, schema)
    )
    parts = np.split(np.random.default_rng(0).permutation(N_ROWS), [1200, 1600])
    splits = {name: frame.iloc[rows].copy() for name, rows in zip(SPLITS, parts, strict=True)}
    flip = planted[parts[2]]
    splits["test"].loc[flip, LABEL] = 1 - splits["test"].loc[flip, LABEL]
    organizer = account(client, session_factory, "org@example.org", Role.ORGANIZER)
    member = account(client, session_factory, "ann@example.org")
    slug = create_round(client, organizer, test_guard=True)["slug"]
    files = {name: (f"{name}.csv", csv_bytes(part), "text/csv") for name, part in splits.items()}
    uploaded = client.post(
        f"/api/v1/rounds/{slug}/dataset",
        data={"label": LABEL},
        files=files,
        headers=organizer.headers,
    )
    assert uploaded.status_code == 200, uploaded.text
    for step in ("base-model/default", "open"):
        done = client.post(f"/api/v1/rounds/{slug}/{step}", headers=organizer.headers)
        assert done.status_code == 200, done.text
    team = client.post(
        f"/api/v1/rounds/{slug}/teams", json={"name": "Sleuths"}, headers=member.headers
    )
    assert team.status_code == 201, team.text
    expressions = [g.expression for g in data.planted]
    return Arena(client, organizer, member, slug, team.json(), splits["train"], expressions)


def test_a_pair_the_test_guard_holds_is_spliced_in_only_when_the_organizer_releases_it(
    client: TestClient, session_factory: sessionmaker[Session], workers: list[Worker]
) -> None:
    game = _guarded_game(client, session_factory)
    shown = client.get(f"/api/v1/rounds/{game.slug}").json()
    assert shown["rules"]["test_guard"] is True
    assert "held for the organizer's review" in shown["acceptance"]["details"]
    p0 = game.planted[0]
    sent = game.submit(p0, game.patch_model(p0))
    assert sent.status_code == 202, sent.text
    url = sent.json()["submission"]["url"]
    assert workers[0].run_once()

    held = client.get(url, headers=game.organizer.headers).json()
    assert (held["verdict"]["outcome"], held["verdict"]["reason"]) == (
        "rejected",
        "held_for_review",
    )
    assert "test split" in held["verdict"]["message"]
    member = client.get(url, headers=game.member.headers).json()["verdict"]
    assert member["reason"] == "not_accepted"  # nothing about the sealed split leaks
    assert client.get(f"/api/v1/rounds/{game.slug}").json()["head_version"] == 0

    release = f"/api/v1/submissions/{held['id']}/release"
    assert client.post(release, headers=game.member.headers).status_code == 403
    released = client.post(release, headers=game.organizer.headers)
    assert released.status_code == 200, released.text
    body = released.json()
    assert body["replay"]["changed_submissions"] == [held["id"]]
    assert body["replay"]["head_version_after"] == 1
    assert (body["submission"]["verdict"]["outcome"], body["submission"]["released"]) == (
        "accepted",
        True,
    )
    again = client.post(release, headers=game.organizer.headers)
    assert (again.status_code, again.json()["type"].rsplit("/", 1)[-1]) == (409, "not-held")
    audit = client.get(f"/api/v1/rounds/{game.slug}/audit", headers=game.organizer.headers)
    assert "submission.released" in [e["action"] for e in audit.json()["events"]]

    # Another worker, whose cache never saw the release, rebuilds the state with it.
    p1 = game.planted[1]
    assert game.submit(p1, game.patch_model(p1)).status_code == 202
    assert workers[1].run_once()
    assert client.get(f"/api/v1/rounds/{game.slug}").json()["head_version"] >= 2
