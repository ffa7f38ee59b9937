"""The whole flow on the UCI Adult data, over HTTP, checked against the engine run alone.

An organizer creates and opens a round on Adult; two teams submit pairs; the worker decides
them in arrival order. Every verdict, model version and leaderboard number must equal what the
engine computes on its own from the round's stored splits and models (``BountyRound``), both
before and after the organizer disqualifies a submission, which replays the round.
"""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.core.storage import ArtifactStore
from app.rounds.engine_view import load_split, round_rules, round_schema
from app.rounds.models import Round
from app.submissions.models import Submission as SubmissionRow
from app.worker.runner import Worker
from bounty_engine.baseline import train_patch_model
from bounty_engine.data import prepare_features
from bounty_engine.datasets.adult import ADULT_LABEL, load_adult
from bounty_engine.decision import Decision
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model, load_model
from bounty_engine.round import BountyRound, Submission
from bounty_engine.schema import FeatureSchema
from tests.submissions.conftest import drain
from tests.support.api import Account, account
from tests.support.rounds import open_round

# (team, group rule) in arrival order: the demo's groups, a repeat, and a tiny group.
PAIRS = [
    ("sleuths", "capital_gain > 0"),
    ("lab", 'marital_status == "Married-civ-spouse"'),
    ("lab", 'marital_status == "Married-civ-spouse" and 9 <= education_num <= 12'),
    ("sleuths", 'occupation in ("Exec-managerial", "Prof-specialty") and age >= 30'),
    ("sleuths", "capital_gain > 0"),
    ("lab", "age >= 89"),
]


def _get(client: TestClient, path: str, who: Account) -> Any:
    response = client.get(f"/api/v1{path}", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _engine_round(store: ArtifactStore, round_: Round) -> BountyRound:
    """The round rebuilt by the engine alone from its stored splits and base model."""
    assert round_.base_model_sha is not None
    with store.local_copy(round_.base_model_sha) as path:
        base = load_model(path)
    splits = {name: load_split(store, round_, name) for name in ("holdout", "train", "test")}
    return BountyRound(round_schema(round_), round_rules(round_), base, splits)


def _compare_verdicts(rows: list[SubmissionRow], decisions: dict[str, Decision]) -> None:
    for row in rows:
        expected = decisions.get(str(row.id))
        if expected is None:  # disqualified: out of the replay
            assert row.outcome == "disqualified"
            continue
        assert (row.outcome, row.reason, row.version) == (
            expected.outcome.value,
            expected.reason.value,
            expected.version,
        ), row.id
        holdout = expected.stats.get("holdout")
        assert row.score == pytest.approx(holdout.score if holdout else None, abs=1e-12)
        assert len(row.verdict["repairs"]) == len(expected.repairs)


def _compare_history(history: dict[str, Any], engine: BountyRound) -> None:
    versions = engine.evaluator.versions_
    assert [(v["version"], v["kind"]) for v in history["versions"]] == [
        (v.version, v.kind) for v in versions
    ]
    for shown, version in zip(history["versions"], versions, strict=True):
        expected_sub = None if version.group_key is None else int(version.group_key)
        assert shown["submission_id"] == expected_sub
        assert shown["target_version"] == version.target_version
        assert shown["holdout_loss"] == pytest.approx(version.loss["holdout"], abs=1e-12)
        assert shown["train_loss"] == pytest.approx(version.loss["train"], abs=1e-12)


def _compare_leaderboard(
    board: dict[str, Any], engine: BountyRound, teams: dict[int, str], names: dict[str, str]
) -> None:
    """Improvement = the team's accepted holdout scores summed; ranked by it, best first."""
    credited: dict[str, float] = defaultdict(float)
    for decision in engine.decisions:
        if decision.accepted:
            credited[teams[int(decision.key)]] += decision.stats["holdout"].score
    by_name = {e["team"]: e for e in board["entries"]}
    for team, name in names.items():
        assert by_name[name]["improvement"] == pytest.approx(credited[team], abs=1e-12)
        accepted = sum(d.accepted for d in engine.decisions if teams[int(d.key)] == team)
        assert by_name[name]["accepted"] == accepted
    ranked = [e for e in board["entries"] if e["rank"] is not None]
    assert [e["improvement"] for e in ranked] == sorted(
        (e["improvement"] for e in ranked), reverse=True
    )


NAMES = {"sleuths": "Census Sleuths", "lab": "Fairness Lab"}


def _open_adult_round(
    client: TestClient, factory: sessionmaker[Session]
) -> tuple[str, Account, dict[str, Account]]:
    """An open round on Adult with a team per member; (slug, organizer, members by team)."""
    organizer = account(client, factory, "org@example.org", Role.ORGANIZER)
    members = {
        "sleuths": account(client, factory, "ada@example.org"),
        "lab": account(client, factory, "bob@example.org"),
    }
    slug = open_round(
        client,
        organizer,
        load_adult(),
        label=ADULT_LABEL,
        title="Adult income",
        alpha=0.001,
        min_group_rows=30,
        repair_alpha=0.0005,
        daily_quota=20,
    )["slug"]
    for team, who in members.items():
        created = client.post(
            f"/api/v1/rounds/{slug}/teams", json={"name": NAMES[team]}, headers=who.headers
        )
        assert created.status_code == 201, created.text
    return slug, organizer, members


def _submit_pairs(
    client: TestClient, slug: str, members: dict[str, Account]
) -> tuple[FeatureSchema, dict[int, str]]:
    """Build each pair from what a participant may see (schema, train split) and submit it;
    then a typo, refused at once. Returns the schema and the team of each submission id."""
    researcher = members["sleuths"]
    schema = FeatureSchema.model_validate(_get(client, f"/rounds/{slug}/schema", researcher))
    raw = client.get(f"/api/v1/rounds/{slug}/data/train.parquet", headers=researcher.headers)
    train = pd.read_parquet(io.BytesIO(raw.content))
    features = prepare_features(train, schema)
    models: dict[str, bytes] = {}
    teams: dict[int, str] = {}
    for team, rule in PAIRS:
        if rule not in models:
            mask = RuleGroup.parse(rule, schema).mask(features)
            models[rule] = dump_sklearn_model(train_patch_model(train, schema, mask))
        response = client.post(
            f"/api/v1/rounds/{slug}/submissions",
            data={"group_expression": rule},
            files={"model": ("h.skops", models[rule], "application/octet-stream")},
            headers=members[team].headers,
        )
        assert response.status_code == 202, response.text
        teams[response.json()["submission"]["id"]] = team
    typo = client.post(
        f"/api/v1/rounds/{slug}/submissions",
        data={"group_expression": "capital_gains > 0"},
        files={"model": ("h.skops", models[PAIRS[0][1]], "application/octet-stream")},
        headers=researcher.headers,
    )
    assert typo.status_code == 422
    assert typo.json()["errors"][0]["offset"] == 0
    return schema, teams


def _check_feature_usage(usage: dict[str, Any]) -> None:
    column = {name: i for i, name in enumerate(usage["features"])}
    counts = {row["team"]: row["counts"] for row in usage["teams"]}
    sleuths, lab = counts[NAMES["sleuths"]], counts[NAMES["lab"]]
    assert (sleuths[column["capital_gain"]], sleuths[column["occupation"]]) == (2, 1)
    assert (sleuths[column["age"]], sleuths[column["marital_status"]]) == (1, 0)
    assert (lab[column["marital_status"]], lab[column["education_num"]]) == (2, 1)
    assert (lab[column["age"]], lab[column["capital_gain"]]) == (1, 0)


def _rows(db: Session) -> list[SubmissionRow]:
    db.expire_all()
    return list(db.scalars(select(SubmissionRow).order_by(SubmissionRow.id)))


def test_adult_round_from_creation_to_disqualification(
    client: TestClient, session_factory: sessionmaker[Session], worker: Worker, db: Session
) -> None:
    slug, organizer, members = _open_adult_round(client, session_factory)
    schema, teams = _submit_pairs(client, slug, members)
    ids = list(teams)
    assert drain(worker) == len(PAIRS)
    rows = _rows(db)
    assert [r.id for r in rows] == ids
    decided_order = [r.id for r in sorted(rows, key=lambda r: (r.decided_at, r.id))]
    assert decided_order == ids  # first come, first served

    # The engine alone, from the stored splits, base model and h files, in arrival order.
    store: ArtifactStore = client.app.state.store  # type: ignore[attr-defined]
    round_ = db.scalars(select(Round).where(Round.slug == slug)).one()
    engine = _engine_round(store, round_)
    for row in rows:
        assert row.group_expression is not None
        with store.local_copy(row.model_sha) as path:
            h = load_model(path)
        engine.submit(Submission(str(row.id), RuleGroup.parse(row.group_expression, schema), h))
    decisions = {d.key: d for d in engine.decisions}
    _compare_verdicts(rows, decisions)
    assert {teams[int(d.key)] for d in engine.decisions if d.accepted} == {"sleuths", "lab"}
    assert decisions[str(ids[4])].outcome.value == "rejected"  # the repeated group
    _compare_history(_get(client, f"/rounds/{slug}/history", organizer), engine)
    board = _get(client, f"/rounds/{slug}/leaderboard", organizer)
    _compare_leaderboard(board, engine, teams, NAMES)
    public = _get(client, f"/rounds/{slug}/leaderboard", members["lab"])
    assert public["disclosure"] == "rounded"
    assert all(e["improvement"] == round(e["improvement"], 4) for e in public["entries"])
    _check_feature_usage(_get(client, f"/rounds/{slug}/feature-usage", members["lab"]))

    # Disqualifying the first accepted pair replays the round without it.
    first = next(r for r in rows if r.outcome == "accepted")
    response = client.post(
        f"/api/v1/submissions/{first.id}/disqualify",
        json={"reason": "the group was copied from a paper's appendix"},
        headers=organizer.headers,
    )
    assert response.status_code == 200, response.text
    replayed = engine.replay(exclude={str(first.id)})
    # Without it, a later pair's verdict changes (the repeat of its group now gets in).
    assert any(d.outcome != decisions[d.key].outcome for d in replayed.decisions)
    _compare_verdicts(_rows(db), {d.key: d for d in replayed.decisions})
    _compare_history(_get(client, f"/rounds/{slug}/history", organizer), replayed)
    board = _get(client, f"/rounds/{slug}/leaderboard", organizer)
    _compare_leaderboard(board, replayed, teams, NAMES)
    db.refresh(round_)
    assert round_.head_version == replayed.evaluator.head_version
