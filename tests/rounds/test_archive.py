"""A round exported as one archive and imported on another instance (its own database and
artifact store), where the replay reproduces it exactly; tampered or malformed archives are
refused with nothing imported."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.core.db import make_engine, make_session_factory
from app.core.migrate import upgrade
from app.core.settings import Settings
from app.core.storage import LocalStore
from app.worker.runner import Worker
from bounty_engine.bundle import load_bundle
from tests.submissions.conftest import Arena, build_arena, drain
from tests.support.api import Account, account
from tests.support.apps import lent_app


@dataclass
class Instance:
    """Another installation: its own database, store, organizer and worker."""

    client: TestClient
    organizer: Account
    worker: Worker
    store: LocalStore

    def import_(self, archive: bytes, **form: str) -> Any:
        return self.client.post(
            "/api/v1/rounds/import",
            files={"file": ("round.zip", archive, "application/zip")},
            data=form,
            headers=self.organizer.headers,
        )

    def rounds(self) -> list[str]:
        listed = self.client.get("/api/v1/rounds", headers=self.organizer.headers).json()
        return [r["slug"] for r in listed]


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[Instance]:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    upgrade(url)
    settings = Settings(environment="test", database_url=url, storage_dir=tmp_path / "store-b")
    factory: sessionmaker[Session] = make_session_factory(make_engine(url))
    store = LocalStore(settings.storage_dir)
    with lent_app(settings, session_factory=factory, store=store) as app, TestClient(app) as client:
        organizer = account(client, factory, "importer@example.org", Role.ORGANIZER)
        worker = Worker(factory, store, settings, name="b", cache_dir=tmp_path / "cache-b")
        yield Instance(client, organizer, worker, store)


COSTS = [[0, 3], [1, 0]]


def _archive(arena: Arena) -> bytes:
    response = arena.client.get(
        f"/api/v1/rounds/{arena.slug}/archive", headers=arena.organizer.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return response.content


def _verdicts(client: TestClient, who: Account, slug: str) -> list[tuple[Any, ...]]:
    subs = client.get(f"/api/v1/rounds/{slug}/submissions", headers=who.headers).json()
    keys = ("outcome", "reason", "version", "score", "holdout")  # holdout: error rates too
    return [
        (s["status"], *(s["verdict"].get(k) for k in keys)) if s["verdict"] else (s["status"],)
        for s in sorted(subs, key=lambda s: s["id"])
    ]


def _versions(client: TestClient, who: Account, slug: str) -> list[tuple[Any, ...]]:
    listed = client.get(f"/api/v1/rounds/{slug}/versions", headers=who.headers).json()
    return [(v["version"], v["kind"], v["holdout_loss"], v["test_loss"]) for v in listed]


def _predictions(client: TestClient, who: Account, slug: str, rows: pd.DataFrame) -> Any:
    bundle = client.get(f"/api/v1/rounds/{slug}/export", headers=who.headers)
    assert bundle.status_code == 200, bundle.text
    path = Path(client.app.state.settings.storage_dir).parent / f"{slug}.zip"  # type: ignore[attr-defined]
    path.write_bytes(bundle.content)
    return load_bundle(path).predict(rows)


@pytest.fixture
def arena(
    request: pytest.FixtureRequest, client: TestClient, session_factory: sessionmaker[Session]
) -> Arena:
    """The played round decides by the threshold rule, or by ``request.param``'s rule (planning
    a single submission, so that the small planted groups' imperfect patches can pass); "cost"
    is the threshold rule on a cost-weighted loss."""
    rule = getattr(request, "param", "threshold")
    loss = {"loss": "cost", "loss_costs": COSTS} if rule == "cost" else {}
    test = "threshold" if rule == "cost" else rule
    return build_arena(client, session_factory, acceptance_test=test, planned_submissions=1, **loss)


@pytest.fixture
def played(arena: Arena, worker: Worker) -> Arena:
    """A round with accepted, rejected, invalid and disqualified submissions decided, and one
    still queued."""
    return _play(arena, worker)


@pytest.fixture(scope="module")
def played_archive(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The archive of a played round (see ``played``), played once for the tests that only
    tamper with it or import it: in a database and store of its own."""
    folder = tmp_path_factory.mktemp("played")
    url = f"sqlite:///{folder / 'played.db'}"
    upgrade(url)
    settings = Settings(environment="test", database_url=url, storage_dir=folder / "store")
    factory: sessionmaker[Session] = make_session_factory(make_engine(url))
    store = LocalStore(settings.storage_dir)
    with lent_app(settings, session_factory=factory, store=store) as app, TestClient(app) as client:
        arena = build_arena(client, factory, planned_submissions=1)
        worker = Worker(factory, store, settings, name="a", cache_dir=folder / "cache")
        return _archive(_play(arena, worker))


def _play(arena: Arena, worker: Worker) -> Arena:
    for expression in arena.planted:
        assert arena.submit(expression, arena.patch_model(expression)).status_code == 202
    # The planted group again: nothing left to improve there, so it is rejected.
    assert arena.submit(arena.planted[0], arena.patch_model(arena.planted[0])).status_code == 202
    assert arena.submit("x0 > 0", b"not a model at all").status_code in {202, 422}
    drain(worker)
    first = arena.client.get(
        f"/api/v1/rounds/{arena.slug}/submissions", headers=arena.member.headers
    ).json()
    accepted = [s["id"] for s in first if s["verdict"] and s["verdict"]["outcome"] == "accepted"]
    assert len(accepted) >= 2
    assert any(s["verdict"]["outcome"] == "rejected" for s in first if s["verdict"])
    disqualified = arena.client.post(
        f"/api/v1/submissions/{accepted[0]}/disqualify",
        json={"reason": "two accounts"},
        headers=arena.organizer.headers,
    )
    assert disqualified.status_code == 200, disqualified.text
    assert arena.submit("x1 > 0", arena.patch_model("x1 > 0")).status_code == 202  # left queued
    return arena


@pytest.mark.both_backends
@pytest.mark.parametrize("arena", ["threshold", "significance", "cost"], indirect=True)
def test_an_imported_round_replays_to_the_same_model_verdicts_and_leaderboard(
    played: Arena, elsewhere: Instance
) -> None:
    arena = played
    archive = _archive(arena)
    imported = elsewhere.import_(archive)
    assert imported.status_code == 201, imported.text
    body = imported.json()
    slug = body["round"]["slug"]
    assert slug == arena.slug
    assert body["round"]["organizer_id"] == elsewhere.organizer.id
    assert body["submissions"] == len(_verdicts(arena.client, arena.organizer, arena.slug))
    assert body["verdicts_checked"] == body["submissions"] - 1  # the queued one

    here = _verdicts(arena.client, arena.organizer, arena.slug)
    there = _verdicts(elsewhere.client, elsewhere.organizer, slug)
    assert there == here
    rules = elsewhere.client.get(f"/api/v1/rounds/{slug}", headers=elsewhere.organizer.headers)
    source = arena.client.get(f"/api/v1/rounds/{arena.slug}", headers=arena.organizer.headers)
    for setting in ("acceptance_test", "loss", "loss_costs"):
        assert rules.json()["rules"][setting] == source.json()["rules"][setting]
    assert _versions(elsewhere.client, elsewhere.organizer, slug) == _versions(
        arena.client, arena.organizer, arena.slug
    )
    board = "/api/v1/rounds/{}/leaderboard"
    ours = arena.client.get(board.format(arena.slug)).json()["entries"]
    theirs = elsewhere.client.get(board.format(slug)).json()["entries"]
    assert [(e["team"], e["improvement"]) for e in theirs] == [
        (e["team"], e["improvement"]) for e in ours
    ]
    rows = arena.train.drop(columns="y").head(300)
    assert (
        _predictions(elsewhere.client, elsewhere.organizer, slug, rows)
        == _predictions(arena.client, arena.organizer, arena.slug, rows)
    ).all()
    log = elsewhere.client.get(
        f"/api/v1/rounds/{slug}/audit", headers=elsewhere.organizer.headers
    ).json()["events"]
    assert [e["action"] for e in log] == ["round.imported"]

    # The submission that was queued at export is evaluated by this instance's workers.
    assert drain(elsewhere.worker) == 1
    decided = _verdicts(elsewhere.client, elsewhere.organizer, slug)
    assert [v[0] for v in decided] == ["decided"] * len(decided)


def _rewritten(archive: bytes, change: Any) -> bytes:
    """The archive with ``change(members)`` applied to its {name: bytes} members."""
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        members = {name: z.read(name) for name in z.namelist()}
    change(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _forge_score(members: dict[str, bytes]) -> None:
    manifest = json.loads(members["manifest.json"])
    sub = next(s for s in manifest["submissions"] if s["outcome"] == "accepted")
    sub["score"] *= 2
    members["manifest.json"] = json.dumps(manifest).encode()


def _forge_outcome(members: dict[str, bytes]) -> None:
    manifest = json.loads(members["manifest.json"])
    sub = next(s for s in manifest["submissions"] if s["outcome"] == "rejected")
    sub["outcome"] = "accepted"
    members["manifest.json"] = json.dumps(manifest).encode()


def _corrupt_blob(members: dict[str, bytes]) -> None:
    name = next(n for n in members if n.startswith("blobs/"))
    members[name] = members[name] + b"x"


def _drop_blob(members: dict[str, bytes]) -> None:
    del members[next(n for n in members if n.startswith("blobs/"))]


def _smuggle_path(members: dict[str, bytes]) -> None:
    members["../../etc/cron.d/evil"] = b"* * * * * root true"


def _wrong_format(members: dict[str, bytes]) -> None:
    members["manifest.json"] = json.dumps({"format": "something-else"}).encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_forge_score, "replays with other statistics"),
        (_forge_outcome, "replays as rejected"),
        (_corrupt_blob, "does not match its digest"),
        (_drop_blob, "lacks 1 file"),
        (_smuggle_path, "unexpected member '../../etc/cron.d/evil'"),
        (_wrong_format, "is not a bias-bounty-round-archive/1 archive"),
    ],
)
def test_a_tampered_archive_is_refused_and_nothing_is_imported(
    played_archive: bytes, elsewhere: Instance, change: Any, message: str
) -> None:
    response = elsewhere.import_(_rewritten(played_archive, change))
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "/problems/bad-archive"
    assert message in response.json()["detail"]
    assert elsewhere.rounds() == []


def test_not_a_zip_a_taken_slug_and_a_participant_are_refused(
    played_archive: bytes, elsewhere: Instance
) -> None:
    assert elsewhere.import_(b"PK not really").status_code == 422
    archive = played_archive
    slug = json.loads(zipfile.ZipFile(io.BytesIO(archive)).read("manifest.json"))["round"]["slug"]
    assert elsewhere.import_(archive).status_code == 201
    taken = elsewhere.import_(archive)
    assert taken.status_code == 409
    assert taken.json()["type"] == "/problems/slug-taken"
    again = elsewhere.import_(archive, slug="second-copy")
    assert again.status_code == 201, again.text
    assert sorted(elsewhere.rounds()) == sorted([slug, "second-copy"])
    researcher = account(elsewhere.client, elsewhere.client.app.state.session_factory, "r@x.org")  # type: ignore[attr-defined]
    refused = elsewhere.client.post(
        "/api/v1/rounds/import",
        files={"file": ("round.zip", archive, "application/zip")},
        headers=researcher.headers,
    )
    assert refused.status_code == 403
