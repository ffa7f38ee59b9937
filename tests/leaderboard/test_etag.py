"""Conditional reads of the leaderboard and its siblings: a strong ETag per answer, 304 on
If-None-Match without recomputing, a new tag after every change, and no answer (or tag)
shared by callers who see different bodies."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.leaderboard import endpoints
from app.main import create_app
from app.rounds.answers import AnswerCache
from app.worker.runner import Worker
from tests.leaderboard.conftest import rival
from tests.submissions.conftest import Arena, drain
from tests.support.api import Account

VIEWS = ("leaderboard", "history", "groups", "feature-usage")


def _get(
    game: Arena,
    view: str,
    who: Account | None = None,
    etag: str | None = None,
    client: TestClient | None = None,
) -> httpx.Response:
    headers = dict(who.headers) if who else {}
    if etag is not None:
        headers["If-None-Match"] = etag
    return (client or game.client).get(f"/api/v1/rounds/{game.slug}/{view}", headers=headers)


def _snapshot(game: Arena, who: Account | None = None) -> dict[str, tuple[str, bytes]]:
    """Each view's (ETag, body) as ``who`` gets it."""
    out = {}
    for view in VIEWS:
        response = _get(game, view, who)
        assert response.status_code == 200, response.text
        out[view] = (response.headers["etag"], response.content)
    return out


def _changed(game: Arena, before: dict[str, tuple[str, bytes]], who: Account | None) -> set[str]:
    """The views whose answer changed since ``before``; checks that a tag changes exactly when
    the body does, and that the old tag then gets the new body, not a 304."""
    after = _snapshot(game, who)
    changed = set()
    for view in VIEWS:
        (old_tag, old_body), (new_tag, new_body) = before[view], after[view]
        assert (old_tag == new_tag) == (old_body == new_body), view
        revalidated = _get(game, view, who, etag=old_tag)
        if old_body != new_body:
            changed.add(view)
            assert revalidated.status_code == 200, view
            assert revalidated.content == new_body
            assert revalidated.headers["etag"] == new_tag
        else:
            assert revalidated.status_code == 304, view
    before.update(after)
    return changed


def test_reads_carry_a_strong_etag_and_revalidate_to_304(arena: Arena) -> None:
    for view in VIEWS:
        first = _get(arena, view, arena.member)
        assert first.status_code == 200, first.text
        etag = first.headers["etag"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag)  # strong: no W/
        assert first.headers["cache-control"] == "private, no-cache"
        vary = {v.strip().lower() for v in first.headers["vary"].split(",")}
        assert {"authorization", "cookie"} <= vary
        assert first.headers["content-type"] == "application/json"

        again = _get(arena, view, arena.member, etag=etag)
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == "private, no-cache"
        for header in (f"W/{etag}", f'"elsewhere", {etag}', "*"):
            assert _get(arena, view, arena.member, etag=header).status_code == 304, header
        other = _get(arena, view, arena.member, etag='"elsewhere"')
        assert other.status_code == 200
        assert (other.headers["etag"], other.content) == (etag, first.content)


def test_a_revalidation_is_answered_from_the_cache_without_recomputing(
    arena: Arena, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    for name in ("_board", "_history", "_groups", "_feature_usage"):
        original = getattr(endpoints, name)

        def counted(*args: Any, _original: Any = original, _name: str = name) -> Any:
            calls.append(_name)
            return _original(*args)

        monkeypatch.setattr(endpoints, name, counted)
    tags = {view: _get(arena, view, arena.member).headers["etag"] for view in VIEWS}
    assert sorted(calls) == ["_board", "_feature_usage", "_groups", "_history"]
    for view in VIEWS:
        assert _get(arena, view, arena.member, etag=tags[view]).status_code == 304
        assert _get(arena, view, None, etag=tags[view]).status_code == 304  # same class
        assert _get(arena, view, arena.member).status_code == 200
    assert len(calls) == 4


def test_every_change_gives_a_new_tag_and_body(arena: Arena, worker: Worker) -> None:
    seen = _snapshot(arena, arena.member)
    p0, p1, _ = arena.planted
    first = arena.submit(p0, arena.patch_model(p0)).json()["submission"]
    # A queued submission counts on the leaderboard and in the feature usage.
    assert _changed(arena, seen, arena.member) == {"leaderboard", "feature-usage"}
    drain(worker)  # a verdict: accepted, a new model version
    assert _changed(arena, seen, arena.member) == {"leaderboard", "history", "groups"}
    assert arena.submit(p1, arena.patch_model(p1)).status_code == 202
    drain(worker)
    assert {"leaderboard", "history", "groups"} <= _changed(arena, seen, arena.member)
    disqualified = arena.client.post(
        f"/api/v1/submissions/{first['id']}/disqualify",
        json={"reason": "test"},
        headers=arena.organizer.headers,
    )
    assert disqualified.status_code == 200, disqualified.text
    assert {"leaderboard", "history", "groups"} <= _changed(arena, seen, arena.member)
    rival(arena, "bob@example.org", "Rivals")  # a new team
    assert {"leaderboard", "feature-usage"} <= _changed(arena, seen, arena.member)
    frozen = arena.client.post(
        f"/api/v1/rounds/{arena.slug}/freeze", headers=arena.organizer.headers
    )
    assert frozen.status_code == 200, frozen.text
    # Frozen: the views are shown as of the freeze (as_of), the feature usage is unchanged.
    assert _changed(arena, seen, arena.member) == {"leaderboard", "history", "groups"}
    # An edit that changes none of these answers gives the same tags (and 304s).
    edited = arena.client.patch(
        f"/api/v1/rounds/{arena.slug}", json={"title": "Renamed"}, headers=arena.organizer.headers
    )
    assert edited.status_code == 200, edited.text
    assert _changed(arena, seen, arena.member) == set()
    closed = arena.client.post(
        f"/api/v1/rounds/{arena.slug}/close", headers=arena.organizer.headers
    )
    assert closed.status_code == 200, closed.text
    assert {"leaderboard"} <= _changed(arena, seen, arena.member)


def test_organizer_and_participants_never_share_an_answer_or_a_tag(
    arena: Arena, worker: Worker
) -> None:
    p0 = arena.planted[0]
    assert arena.submit(p0, arena.patch_model(p0)).status_code == 202
    drain(worker)
    assert arena.client.get(f"/api/v1/rounds/{arena.slug}").json()["rules"]["disclosure"] == (
        "rounded"
    )
    organizer = _snapshot(arena, arena.organizer)
    member = _snapshot(arena, arena.member)
    assert _snapshot(arena) == member  # anonymous callers see what participants see
    for view in ("leaderboard", "history", "groups"):  # exact numbers vs rounded ones
        assert organizer[view][1] != member[view][1], view
        assert organizer[view][0] != member[view][0], view
    assert organizer["feature-usage"] == member["feature-usage"]  # nothing to round there
    for _ in range(2):  # interleaved, each caller keeps getting its own answer
        assert _snapshot(arena, arena.member) == member
        assert _snapshot(arena, arena.organizer) == organizer
    for view in ("leaderboard", "history", "groups"):
        # The other class's tag is not the caller's answer: 200 with the caller's own body.
        crossed = _get(arena, view, arena.member, etag=organizer[view][0])
        assert (crossed.status_code, crossed.content) == (200, member[view][1])
        crossed = _get(arena, view, arena.organizer, etag=member[view][0])
        assert (crossed.status_code, crossed.content) == (200, organizer[view][1])
    # What the cache served is what a cold computation answers.
    arena.client.app.state.leaderboards = AnswerCache()  # type: ignore[attr-defined]
    assert _snapshot(arena, arena.member) == member
    assert _snapshot(arena, arena.organizer) == organizer


def test_a_team_member_never_gets_another_teams_answer(arena: Arena, worker: Worker) -> None:
    bob = rival(arena, "bob@example.org", "Rivals")
    p0, p1, _ = arena.planted
    mine = arena.submit(p0, arena.patch_model(p0)).json()["submission"]
    theirs = arena.submit(p1, arena.patch_model(p1), who=bob).json()["submission"]
    drain(worker)
    # The standings are public: both teams get the same answer, so the same tag.
    assert _snapshot(arena, arena.member) == _snapshot(arena, bob)
    base = f"/api/v1/rounds/{arena.slug}/submissions"
    for _ in range(2):  # each team's own list, whoever asked just before
        for who, expected in ((arena.member, mine["id"]), (bob, theirs["id"])):
            listed = arena.client.get(base, headers=who.headers)
            assert listed.status_code == 200, listed.text
            assert [s["id"] for s in listed.json()] == [expected]
    peek = arena.client.get(f"/api/v1/submissions/{mine['id']}", headers=bob.headers)
    assert peek.status_code == 404
    own = arena.client.get(f"/api/v1/submissions/{theirs['id']}", headers=bob.headers)
    assert own.json()["id"] == theirs["id"]
    assert arena.client.get(base).status_code == 401  # the list needs a caller


def test_tags_agree_across_processes_and_follow_changes_made_by_another(
    arena: Arena, worker: Worker
) -> None:
    state = arena.client.app.state  # type: ignore[attr-defined]
    other_app = create_app(state.settings, session_factory=state.session_factory, store=state.store)
    with TestClient(other_app) as other:
        for view in VIEWS:
            here = _get(arena, view, arena.member)
            there = _get(arena, view, arena.member, client=other)
            assert (here.headers["etag"], here.content) == (there.headers["etag"], there.content)
            revalidated = _get(arena, view, arena.member, etag=here.headers["etag"], client=other)
            assert revalidated.status_code == 304
        cached = _get(arena, "leaderboard", arena.member, client=other)
        # A change through this process (and a worker): the other process's cache follows.
        p0 = arena.planted[0]
        assert arena.submit(p0, arena.patch_model(p0)).status_code == 202
        drain(worker)
        fresh = _get(arena, "leaderboard", arena.member, etag=cached.headers["etag"], client=other)
        assert fresh.status_code == 200
        assert fresh.json()["entries"][0]["accepted"] == 1
        assert fresh.content == _get(arena, "leaderboard", arena.member).content
