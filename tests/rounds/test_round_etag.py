"""The round read is conditional: a strong ETag per answer, 304 on If-None-Match, a new tag
after every change of the round (settings, data, base model, lifecycle, verdicts), whichever
process made it, and never the organizer's answer for anyone else."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.main import create_app
from app.worker.runner import Worker
from tests.submissions.conftest import Arena, drain
from tests.support.api import Account, account
from tests.support.rounds import create_round, upload_dataset

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py


@pytest.fixture
def organizer(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    return account(client, session_factory, "org@example.org", Role.ORGANIZER)


@pytest.fixture
def participant(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    return account(client, session_factory, "pat@example.org")


def _read(
    client: TestClient, slug: str, who: Account | None, etag: str | None = None
) -> httpx.Response:
    headers = dict(who.headers) if who else {}
    if etag is not None:
        headers["If-None-Match"] = etag
    return client.get(f"/api/v1/rounds/{slug}", headers=headers)


class Follower:
    """What one caller last got of a round, and checks that each change gives a new answer
    and tag (the old tag then gets the new body), and no change the same ones (304)."""

    def __init__(self, client: TestClient, slug: str, who: Account | None) -> None:
        self.client, self.slug, self.who = client, slug, who
        first = _read(client, slug, who)
        assert first.status_code == 200, first.text
        self.etag, self.body = first.headers["etag"], first.content

    def changed(self) -> dict[str, Any]:
        response = _read(self.client, self.slug, self.who, self.etag)
        assert response.status_code == 200, "no new answer after a change"
        assert response.headers["etag"] != self.etag
        assert response.content != self.body
        self.etag, self.body = response.headers["etag"], response.content
        self.unchanged()
        body: dict[str, Any] = response.json()
        return body

    def unchanged(self) -> None:
        response = _read(self.client, self.slug, self.who, self.etag)
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == self.etag


def test_the_round_read_is_conditional(
    client: TestClient, organizer: Account, participant: Account
) -> None:
    slug = create_round(client, organizer)["slug"]
    first = _read(client, slug, organizer)
    assert first.status_code == 200, first.text
    assert re.fullmatch(r'"[0-9a-f]{32}"', first.headers["etag"])
    assert first.headers["cache-control"] == "private, no-cache"
    vary = {v.strip().lower() for v in first.headers["vary"].split(",")}
    assert {"authorization", "cookie"} <= vary
    assert first.json()["slug"] == slug
    again = _read(client, slug, organizer, first.headers["etag"])
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == first.headers["etag"]
    # A draft stays hidden from others, whatever tag they send.
    for who in (participant, None):
        for tag in (first.headers["etag"], "*"):
            hidden = _read(client, slug, who, tag)
            assert hidden.status_code == 404, hidden.text
            assert "etag" not in hidden.headers


def test_every_change_of_a_round_gives_a_new_tag_and_body(
    client: TestClient, organizer: Account, participant: Account
) -> None:
    slug = create_round(client, organizer)["slug"]
    url = f"/api/v1/rounds/{slug}"
    mine = Follower(client, slug, organizer)
    changed = client.patch(url, json={"alpha": 0.05, "disclosure": "exact"}, **_as(organizer))
    assert changed.status_code == 200, changed.text
    body = mine.changed()
    assert (body["rules"]["alpha"], body["rules"]["disclosure"]) == (0.05, "exact")
    assert client.patch(url, json={"planned_submissions": 500}, **_as(organizer)).is_success
    assert mine.changed()["rules"]["planned_submissions"] == 500
    upload_dataset(client, organizer, slug)
    assert mine.changed()["data"]["n_train"] > 0
    upload_dataset(client, organizer, slug, seed=1)  # the same table split anew
    assert mine.changed()["data"]["split_seed"] == 1
    trained = client.post(f"{url}/base-model/default", **_as(organizer))
    assert trained.status_code == 200, trained.text
    assert mine.changed()["base_model"]["source"] == "default"
    assert client.post(f"{url}/open", **_as(organizer)).status_code == 200
    assert mine.changed()["status"] == "open"

    theirs = Follower(client, slug, participant)
    everyone = Follower(client, slug, None)
    for edit in (
        {"title": "New title"},
        {"description": "**new**"},
        {"closes_at": "2099-01-01T00:00:00Z"},
    ):
        assert client.patch(url, json=edit, **_as(organizer)).status_code == 200
        for follower in (mine, theirs, everyone):
            body = follower.changed()
            assert {k: body[k] for k in edit} == edit
    refused = client.patch(url, json={"alpha": 0.5}, **_as(organizer))
    assert refused.status_code == 409  # rules are locked: nothing changed
    for follower in (mine, theirs, everyone):
        follower.unchanged()
    for action, status in (("freeze", "frozen"), ("close", "closed")):
        assert client.post(f"{url}/{action}", **_as(organizer)).status_code == 200
        for follower in (mine, theirs, everyone):
            assert follower.changed()["status"] == status


def test_a_verdict_gives_the_round_a_new_tag(arena: Arena, worker: Worker) -> None:
    follower = Follower(arena.client, arena.slug, arena.member)
    p0 = arena.planted[0]
    assert arena.submit(p0, arena.patch_model(p0)).status_code == 202
    drain(worker)
    assert follower.changed()["head_version"] == 1


def test_organizer_and_participants_never_share_an_answer_or_a_tag(
    client: TestClient, organizer: Account, participant: Account
) -> None:
    slug = create_round(client, organizer)["slug"]
    upload_dataset(client, organizer, slug, seed=7)
    url = f"/api/v1/rounds/{slug}"
    assert client.post(f"{url}/base-model/default", **_as(organizer)).status_code == 200
    assert client.post(f"{url}/open", **_as(organizer)).status_code == 200
    for _ in range(2):  # interleaved: each caller keeps getting its own answer
        own = _read(client, slug, organizer)
        theirs = _read(client, slug, participant)
        anonymous = _read(client, slug, None)
        assert own.json()["data"]["split_seed"] == 7  # the organizer's alone
        assert theirs.json()["data"]["split_seed"] is None
        assert (anonymous.headers["etag"], anonymous.content) == (
            theirs.headers["etag"],
            theirs.content,
        )
        assert own.headers["etag"] != theirs.headers["etag"]
        crossed = _read(client, slug, participant, own.headers["etag"])
        assert (crossed.status_code, crossed.content) == (200, theirs.content)
        crossed = _read(client, slug, organizer, theirs.headers["etag"])
        assert (crossed.status_code, crossed.content) == (200, own.content)


def test_a_change_made_by_another_process_is_seen_at_once(
    client: TestClient, organizer: Account, participant: Account
) -> None:
    slug = create_round(client, organizer)["slug"]
    upload_dataset(client, organizer, slug)
    url = f"/api/v1/rounds/{slug}"
    assert client.post(f"{url}/base-model/default", **_as(organizer)).status_code == 200
    assert client.post(f"{url}/open", **_as(organizer)).status_code == 200
    state = client.app.state  # type: ignore[attr-defined]
    other_app = create_app(state.settings, session_factory=state.session_factory, store=state.store)
    with TestClient(other_app) as other:
        here = Follower(client, slug, participant)
        there = Follower(other, slug, participant)
        assert (here.etag, here.body) == (there.etag, there.body)  # the same tag everywhere
        there.unchanged()
        edited = other.patch(url, json={"title": "Edited elsewhere"}, **_as(organizer))
        assert edited.status_code == 200, edited.text
        assert here.changed()["title"] == "Edited elsewhere"
        assert there.changed()["title"] == "Edited elsewhere"
        assert here.etag == there.etag


def _as(who: Account) -> dict[str, Any]:
    return {"headers": who.headers}
