"""Deployment populations through the API and a real worker: every version's loss and each
group's figures on the population, checked against the exported model bundle run here; who may
add and read them; and the uploads that are refused."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.worker.runner import Worker
from bounty_engine.bundle import Bundle, load_bundle
from bounty_engine.data import infer_schema, prepare_features
from bounty_engine.groups import RuleGroup
from tests.submissions.conftest import Arena, build_arena, drain
from tests.support.api import Account, account
from tests.support.rounds import LABEL, csv_bytes, synthetic_frame

POPULATION = synthetic_frame(1500, seed=11)  # the same kind of people, met elsewhere


def measure_all(worker: Worker) -> int:
    """Let the worker measure populations until nothing is left; how many passes it made."""
    passes = 0
    while worker.measure_populations():
        passes += 1
    return passes


def add(arena: Arena, who: Account, frame: pd.DataFrame, name: str = "clinic-b") -> Any:
    return arena.client.post(
        f"/api/v1/rounds/{arena.slug}/populations",
        data={"name": name, "description": "rows from where the model runs"},
        files={"file": ("population.csv", csv_bytes(frame), "text/csv")},
        headers=who.headers,
    )


def bundle(arena: Arena, tmp_path: Path) -> Bundle:
    exported = arena.client.get(
        f"/api/v1/rounds/{arena.slug}/export", headers=arena.organizer.headers
    )
    assert exported.status_code == 200, exported.text
    path = tmp_path / "model.zip"
    path.write_bytes(exported.content)
    return load_bundle(path)


@pytest.fixture
def played(client: TestClient, session_factory: sessionmaker[Session], worker: Worker) -> Arena:
    """An open round with the planted groups' patches accepted."""
    arena = build_arena(client, session_factory)
    for expression in arena.planted[:2]:
        answer = arena.submit(expression, arena.patch_model(expression))
        assert answer.status_code == 202, answer.text
    drain(worker)
    return arena


def test_every_version_and_group_is_measured_on_the_population(
    played: Arena, worker: Worker, tmp_path: Path
) -> None:
    arena = played
    url = f"/api/v1/rounds/{arena.slug}"
    watched = arena.client.post(
        f"{url}/watched-groups", json={"expression": "x0 > 0"}, headers=arena.organizer.headers
    )
    assert watched.status_code == 201, watched.text
    added = add(arena, arena.organizer, POPULATION)
    assert added.status_code == 201, added.text
    assert (added.json()["status"], added.json()["n_rows"]) == ("measuring", 1500)
    pid = added.json()["id"]
    assert measure_all(worker) == 1
    assert measure_all(worker) == 0  # nothing left to measure

    figures = arena.client.get(f"{url}/populations/{pid}", headers=arena.organizer.headers).json()
    assert figures["population"]["status"] == "measured"
    versions = figures["versions"]
    head = figures["head_version"]
    assert [v["version"] for v in versions] == list(range(head + 1))
    assert figures["measured_version"] == head >= 2

    # Independently: the exported model, version by version, on the population's rows.
    model = bundle(arena, tmp_path)
    truth = POPULATION[LABEL].to_numpy()
    predicted = {v: model.predict(POPULATION, version=v) for v in range(head + 1)}
    for v in versions:
        wrong = predicted[v["version"]] != truth
        assert v["loss"] == pytest.approx(wrong.mean(), abs=1e-12)
        positive = truth == sorted(set(truth))[1]
        assert v["false_negative_rate"] == pytest.approx(wrong[positive].mean(), abs=1e-12)
        assert v["holdout_loss"] is not None  # the organizer compares with the holdout

    schema = infer_schema(arena.train, LABEL)
    features = prepare_features(POPULATION, schema)
    accepted = [g for g in figures["groups"] if g["kind"] == "accepted"]
    assert [g["group"] for g in accepted] == arena.planted[:2]
    for g in accepted:
        mask = RuleGroup.parse(g["group"], schema).mask(features)
        assert g["rows"] == int(mask.sum())
        for when, version in (("before", g["version"] - 1), ("after", g["version"])):
            wrong = predicted[version][mask] != truth[mask]
            assert g[when]["loss"] == pytest.approx(wrong.mean(), abs=1e-12)
        assert g["team"] == "Sleuths"
    (mine,) = [g for g in figures["groups"] if g["kind"] == "watched"]
    mask = RuleGroup.parse("x0 > 0", schema).mask(features)
    assert mine["rows"] == int(mask.sum())
    assert mine["head"]["loss"] == pytest.approx(
        (predicted[head][mask] != truth[mask]).mean(), abs=1e-12
    )


def test_a_later_acceptance_is_measured_on_the_existing_population(
    played: Arena, worker: Worker
) -> None:
    arena = played
    pid = add(arena, arena.organizer, POPULATION).json()["id"]
    measure_all(worker)
    url = f"/api/v1/rounds/{arena.slug}/populations/{pid}"
    before = arena.client.get(url, headers=arena.organizer.headers).json()["measured_version"]
    expression = arena.planted[2]
    assert arena.submit(expression, arena.patch_model(expression)).status_code == 202
    drain(worker)
    listed = arena.client.get(
        f"/api/v1/rounds/{arena.slug}/populations", headers=arena.organizer.headers
    ).json()
    assert [p["status"] for p in listed] == ["measuring"]
    assert measure_all(worker) == 1
    after = arena.client.get(url, headers=arena.organizer.headers).json()
    assert after["population"]["status"] == "measured"
    assert after["measured_version"] == after["head_version"] > before


def test_a_deployer_adds_and_reads_only_their_own_and_participants_never_see_any(
    played: Arena, worker: Worker, client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    arena = played
    url = f"/api/v1/rounds/{arena.slug}"
    customer = account(client, session_factory, "analyst@clinic.example", Role.PARTICIPANT)
    assert add(arena, customer, POPULATION).status_code == 403  # not yet a deployer
    granted = client.post(
        f"{url}/deployers", json={"email": customer.email}, headers=arena.organizer.headers
    )
    assert granted.status_code == 201, granted.text
    theirs = add(arena, customer, POPULATION, name="clinic-c")
    assert theirs.status_code == 201, theirs.text
    ours = add(arena, arena.organizer, POPULATION.head(900), name="hq")
    assert ours.status_code == 201
    measure_all(worker)

    seen = client.get(f"{url}/populations", headers=customer.headers).json()
    assert [p["name"] for p in seen] == ["clinic-c"]
    figures = client.get(f"{url}/populations/{theirs.json()['id']}", headers=customer.headers)
    assert figures.status_code == 200
    assert all(v["holdout_loss"] is None for v in figures.json()["versions"])  # not theirs
    other = client.get(f"{url}/populations/{ours.json()['id']}", headers=customer.headers)
    assert other.status_code == 404
    assert client.get(f"{url}/deployers", headers=customer.headers).status_code == 403
    everything = client.get(f"{url}/populations", headers=arena.organizer.headers).json()
    assert [p["name"] for p in everything] == ["clinic-c", "hq"]

    for path in ("populations", f"populations/{ours.json()['id']}", "watched-groups"):
        assert client.get(f"{url}/{path}", headers=arena.member.headers).status_code in {403, 404}
    assert add(arena, arena.member, POPULATION, name="probe").status_code == 403
    assert client.get(f"{url}/populations").status_code == 401

    revoked = client.delete(f"{url}/deployers/{customer.id}", headers=arena.organizer.headers)
    assert revoked.status_code == 204
    assert client.get(f"{url}/populations", headers=customer.headers).status_code == 403


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        (lambda f: f.drop(columns=["x1"]), 422, "x1"),
        (lambda f: f.drop(columns=[LABEL]), 422, "label"),
        (
            lambda f: f.assign(**{LABEL: np.where(f[LABEL] == f[LABEL].iloc[0], 7, 9)}),
            422,
            "outside the classes",
        ),
    ],
    ids=["missing-feature", "no-label", "unknown-classes"],
)
def test_a_table_that_does_not_fit_the_round_is_refused_and_nothing_is_kept(
    arena: Arena, change: Any, status: int, says: str
) -> None:
    refused = add(arena, arena.organizer, change(POPULATION.copy()))
    assert refused.status_code == status, refused.text
    assert says in refused.text
    listed = arena.client.get(
        f"/api/v1/rounds/{arena.slug}/populations", headers=arena.organizer.headers
    )
    assert listed.json() == []


def test_names_are_unique_and_drafts_have_no_populations(
    arena: Arena, client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    assert add(arena, arena.organizer, POPULATION).status_code == 201
    taken = add(arena, arena.organizer, POPULATION)
    assert taken.status_code == 409
    assert "population-name-taken" in taken.text
    draft = client.post(
        "/api/v1/rounds", json={"title": "Not open yet"}, headers=arena.organizer.headers
    ).json()["slug"]
    early = client.post(
        f"/api/v1/rounds/{draft}/populations",
        data={"name": "x"},
        files={"file": ("p.csv", io.BytesIO(csv_bytes(POPULATION)), "text/csv")},
        headers=arena.organizer.headers,
    )
    assert early.status_code in {409, 422}, early.text
    bad_group = client.post(
        f"/api/v1/rounds/{arena.slug}/watched-groups",
        json={"expression": "no_such_column > 1"},
        headers=arena.organizer.headers,
    )
    assert bad_group.status_code == 422


def _comparable(figures: dict[str, Any]) -> tuple[Any, ...]:
    """The figures without what an import renumbers (ids, dates)."""
    versions = [
        (v["version"], v["kind"], v["loss"], v["false_negative_rate"], v["holdout_loss"])
        for v in figures["versions"]
    ]
    groups = [
        (g["kind"], g["group"], g["team"], g["rows"], g["base"], g["before"], g["after"], g["head"])
        for g in figures["groups"]
    ]
    return figures["population"]["name"], figures["population"]["status"], versions, groups


def test_a_round_archive_carries_its_populations_and_their_figures(
    played: Arena, worker: Worker
) -> None:
    arena = played
    url = f"/api/v1/rounds/{arena.slug}"
    arena.client.post(
        f"{url}/watched-groups", json={"expression": 'c0 == "a"'}, headers=arena.organizer.headers
    )
    pid = add(arena, arena.organizer, POPULATION).json()["id"]
    measure_all(worker)
    archive = arena.client.get(f"{url}/archive", headers=arena.organizer.headers)
    assert archive.status_code == 200
    imported = arena.client.post(
        "/api/v1/rounds/import",
        data={"slug": f"{arena.slug}-copy"},
        files={"file": ("round.zip", archive.content, "application/zip")},
        headers=arena.organizer.headers,
    )
    assert imported.status_code == 201, imported.text
    copy = f"/api/v1/rounds/{arena.slug}-copy"
    (listed,) = arena.client.get(f"{copy}/populations", headers=arena.organizer.headers).json()
    assert listed["status"] == "measured"
    assert measure_all(worker) == 0  # its outputs came with it: nothing to run again
    there = arena.client.get(f"{copy}/populations/{listed['id']}", headers=arena.organizer.headers)
    here = arena.client.get(f"{url}/populations/{pid}", headers=arena.organizer.headers)
    assert _comparable(there.json()) == _comparable(here.json())
    assert any(g["kind"] == "watched" for g in there.json()["groups"])


def test_a_follow_up_round_holds_out_the_population_and_starts_from_the_current_model(
    played: Arena, worker: Worker
) -> None:
    arena = played
    url = f"/api/v1/rounds/{arena.slug}"
    pid = add(arena, arena.organizer, POPULATION).json()["id"]
    measure_all(worker)
    figures = arena.client.get(f"{url}/populations/{pid}", headers=arena.organizer.headers)
    on_population = figures.json()["versions"][-1]["loss"]
    refused = arena.client.post(
        f"{url}/populations/{pid}/follow-up", json={"title": "x"}, headers=arena.member.headers
    )
    assert refused.status_code == 403

    made = arena.client.post(
        f"{url}/populations/{pid}/follow-up",
        json={"title": "Where it runs", "slug": "where-it-runs"},
        headers=arena.organizer.headers,
    )
    assert made.status_code == 201, made.text
    draft = made.json()
    source = arena.client.get(url, headers=arena.organizer.headers).json()
    assert draft["status"] == "draft"
    assert draft["rules"] == source["rules"]
    assert draft["data"]["n_holdout"] == len(POPULATION)
    assert draft["data"]["n_train"] == source["data"]["n_train"]
    assert (draft["base_model"]["format"], draft["base_model"]["source"]) == ("bundle", "bundle")

    # Opening scores the source's current model, in the sandbox, on the new holdout: exactly
    # what the population's figures said of it.
    opened = arena.client.post("/api/v1/rounds/where-it-runs/open", headers=arena.organizer.headers)
    assert opened.status_code == 200, opened.text
    (base,) = arena.client.get(
        "/api/v1/rounds/where-it-runs/versions", headers=arena.organizer.headers
    ).json()
    assert base["holdout_loss"] == pytest.approx(on_population, abs=1e-12)

    # And the round runs: a pair on it is evaluated and decided against that model.
    team = arena.client.post(
        "/api/v1/rounds/where-it-runs/teams", json={"name": "Again"}, headers=arena.member.headers
    )
    assert team.status_code == 201, team.text
    expression = arena.planted[2]
    sent = arena.client.post(
        "/api/v1/rounds/where-it-runs/submissions",
        data={"group_expression": expression},
        files={"model": ("h.skops", arena.patch_model(expression), "application/octet-stream")},
        headers=arena.member.headers,
    )
    assert sent.status_code == 202, sent.text
    assert drain(worker) == 1
    verdict = arena.client.get(sent.json()["submission"]["url"], headers=arena.member.headers)
    assert verdict.json()["verdict"]["outcome"] in {"accepted", "rejected"}
