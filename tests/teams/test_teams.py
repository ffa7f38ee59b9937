"""Teams: create, join, leave, visibility of invite codes, and every refusal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role, User
from app.core.audit import AuditEvent
from app.core.errors import Problem
from app.rounds.models import Round, RoundStatus
from app.submissions.models import Submission
from app.teams.models import Team
from app.teams.service import require_team, team_of
from tests.support.api import Account, account

pytestmark = pytest.mark.both_backends  # the database matters here: see tests/conftest.py

Factory = sessionmaker[Session]


def make_round(
    factory: Factory,
    organizer: Account,
    slug: str = "adult",
    status: RoundStatus = RoundStatus.OPEN,
    max_team_size: int = 5,
) -> int:
    """A round stored directly as a row (the rounds API is not used here)."""
    with factory() as session, session.begin():
        round_ = Round(
            slug=slug,
            title=slug.title(),
            organizer_id=organizer.id,
            status=status,
            max_team_size=max_team_size,
        )
        session.add(round_)
        session.flush()
        return round_.id


def set_status(factory: Factory, round_id: int, status: RoundStatus) -> None:
    with factory() as session, session.begin():
        round_ = session.get(Round, round_id)
        assert round_ is not None
        round_.status = status


@dataclass
class World:
    """An organizer, an open round "adult" and two participants."""

    client: TestClient
    factory: Factory
    org: Account
    round_id: int
    ada: Account
    bob: Account

    def create(self, who: Account, name: str, slug: str = "adult") -> dict[str, Any]:
        response = self.client.post(
            f"/api/v1/rounds/{slug}/teams", json={"name": name}, headers=who.headers
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def join(self, who: Account, code: str) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/teams/join", json={"invite_code": code}, headers=who.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def problem(self, method: str, url: str, who: Account | None, status: int, **kw: Any) -> str:
        """Make a request that must fail with ``status``; the problem's type slug."""
        headers = who.headers if who is not None else {}
        response = self.client.request(method, url, headers=headers, **kw)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        return str(response.json()["type"]).removeprefix("/problems/")


@pytest.fixture
def world(client: TestClient, session_factory: Factory) -> World:
    org = account(client, session_factory, "org@example.org", Role.ORGANIZER)
    round_id = make_round(session_factory, org, max_team_size=2)
    ada = account(client, session_factory, "ada@example.org")
    bob = account(client, session_factory, "bob@example.org")
    return World(client, session_factory, org, round_id, ada, bob)


def audit_actions(db: Session, round_id: int) -> list[str]:
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.round_id == round_id).order_by(AuditEvent.id)
    )
    return [e.action for e in events]


def test_create_makes_the_creator_a_member_and_shows_the_code(world: World, db: Session) -> None:
    team = world.create(world.ada, "  Fair Trees ")
    assert team["name"] == "Fair Trees"
    assert [m["display_name"] for m in team["members"]] == ["ada"]
    assert team["max_team_size"] == 2
    code = team["invite_code"]
    assert 10 <= len(code) <= 16
    assert all(c.isascii() and (c.isalnum() or c in "-_") for c in code)
    mine = world.client.get("/api/v1/rounds/adult/my-team", headers=world.ada.headers).json()
    assert mine["id"] == team["id"]
    assert mine["invite_code"] == code
    assert audit_actions(db, world.round_id) == ["team.created"]


def test_invite_codes_are_unique_and_shown_to_members_only(world: World) -> None:
    carol = account(world.client, world.factory, "carol@example.org")
    first = world.create(world.ada, "A")
    second = world.create(carol, "B")
    assert first["invite_code"] != second["invite_code"]
    listed = world.client.get("/api/v1/rounds/adult/teams")
    assert listed.status_code == 200
    for secret in (first["invite_code"], second["invite_code"], "ada@example.org"):
        assert secret not in listed.text
    assert {t["name"]: t["member_count"] for t in listed.json()} == {"A": 1, "B": 1}
    assert set(listed.json()[0]) == {"id", "name", "member_count", "created_at"}
    world.problem("GET", "/api/v1/rounds/adult/my-team", world.bob, 404)
    members = world.client.get(
        f"/api/v1/rounds/adult/teams/{first['id']}/members", headers=world.org.headers
    )
    assert first["invite_code"] not in members.text
    joined = world.join(world.bob, first["invite_code"])
    assert joined["invite_code"] == first["invite_code"]


def test_join_adds_a_member_and_is_audited(world: World, db: Session) -> None:
    code = world.create(world.ada, "Fair Trees")["invite_code"]
    joined = world.join(world.bob, f" {code} ")
    assert [m["display_name"] for m in joined["members"]] == ["ada", "bob"]
    listed = world.client.get("/api/v1/rounds/adult/teams").json()
    assert [t["member_count"] for t in listed] == [2]
    bobs = world.client.get("/api/v1/rounds/adult/my-team", headers=world.bob.headers).json()
    assert bobs["id"] == joined["id"]
    assert audit_actions(db, world.round_id) == ["team.created", "team.joined"]


def test_unknown_invite_code_is_404_without_hints(world: World) -> None:
    world.create(world.ada, "Fair Trees")
    body = {"json": {"invite_code": "no-such-code"}}
    assert world.problem("POST", "/api/v1/teams/join", world.bob, 404, **body) == (
        "invite-code-not-found"
    )
    # A team of a draft round is as unknown as a code that does not exist.
    draft_id = make_round(world.factory, world.org, "hidden", RoundStatus.DRAFT)
    with world.factory() as session, session.begin():
        session.add(Team(round_id=draft_id, name="Ghosts", invite_code="draft-code-1"))
    body = {"json": {"invite_code": "draft-code-1"}}
    assert world.problem("POST", "/api/v1/teams/join", world.bob, 404, **body) == (
        "invite-code-not-found"
    )


def test_team_size_limit(world: World) -> None:
    code = world.create(world.ada, "Fair Trees")["invite_code"]
    world.join(world.bob, code)
    carol = account(world.client, world.factory, "carol@example.org")
    body = {"json": {"invite_code": code}}
    assert world.problem("POST", "/api/v1/teams/join", carol, 409, **body) == "team-full"
    world.problem("GET", "/api/v1/rounds/adult/my-team", carol, 404)


def test_one_team_per_user_per_round(world: World) -> None:
    mine = world.create(world.ada, "A")
    theirs = world.create(world.bob, "B")
    url = "/api/v1/rounds/adult/teams"
    for name in ("C", "a"):  # being in a team is the first refusal, before the name's
        assert world.problem("POST", url, world.ada, 409, json={"name": name}) == (
            "already-in-team"
        )
    for code in (theirs["invite_code"], mine["invite_code"]):
        body = {"json": {"invite_code": code}}
        assert world.problem("POST", "/api/v1/teams/join", world.ada, 409, **body) == (
            "already-in-team"
        )
    listed = world.client.get(url).json()
    assert sorted((t["name"], t["member_count"]) for t in listed) == [("A", 1), ("B", 1)]
    # Another round is another matter.
    make_round(world.factory, world.org, "credit")
    assert world.create(world.ada, "A", slug="credit")["name"] == "A"


@pytest.mark.parametrize(
    "variant",
    ["Team A", "team a", "TEAM A", "  team   a ", "Ｔｅａｍ Ａ", "ｔｅａｍ　ａ"],
)
def test_duplicate_names_ignore_case_and_compatibility_variants(world: World, variant: str) -> None:
    world.create(world.ada, "Team A")
    slug = world.problem(
        "POST", "/api/v1/rounds/adult/teams", world.bob, 409, json={"name": variant}
    )
    assert slug == "team-name-taken"


# Each looks like "Fair Play" (or its "Oops"/"all" cousins) without being equal to it.
CONFUSABLE = [
    ("Fair Play", "Fаir Plаy"),  # Cyrillic а
    ("Fair Play", "Fαir Play"),  # Greek alpha
    ("Fair Play", "Fair PIay"),  # capital I for l
    ("Fair Play", "Fair P1ay"),  # digit one for l
    ("Oops", "0ops"),  # digit zero for O
    ("Oops", "Οops"),  # Greek capital omicron
    ("Fair Play", "𝐅𝐚𝐢𝐫 𝐏𝐥𝐚𝐲"),  # mathematical bold
]


@pytest.mark.parametrize(("taken", "lookalike"), CONFUSABLE)
def test_a_name_that_looks_like_a_taken_one_is_refused(
    world: World, taken: str, lookalike: str
) -> None:
    assert lookalike != taken
    world.create(world.ada, taken)
    slug = world.problem(
        "POST", "/api/v1/rounds/adult/teams", world.bob, 409, json={"name": lookalike}
    )
    assert slug == "team-name-taken"


@pytest.mark.parametrize("other", ["Fair Pray", "Flair Play", "Fair Play 2", "Fajr Play"])
def test_names_that_merely_resemble_each_other_are_both_allowed(world: World, other: str) -> None:
    world.create(world.ada, "Fair Play")
    assert world.create(world.bob, other)["name"] == other


def test_names_are_stored_normalized(world: World, db: Session) -> None:
    team = world.create(world.ada, "Ｔｅａｍ　Ｂ")
    assert team["name"] == "Team B"
    stored = db.get(Team, team["id"])
    assert stored is not None
    assert stored.name == "Team B"


@pytest.mark.parametrize(
    "name",
    ["", "   ", "x" * 81, "bad\x00name", "new\nline", "rtl\u202eevil", "zero\u200bwidth", "ﷺ" * 5],
)
def test_invalid_names_are_422(world: World, name: str) -> None:
    slug = world.problem("POST", "/api/v1/rounds/adult/teams", world.ada, 422, json={"name": name})
    assert slug == "validation-error"
    assert world.client.get("/api/v1/rounds/adult/teams").json() == []


def test_closed_round_refuses_every_change(world: World) -> None:
    team = world.create(world.ada, "Fair Trees")
    set_status(world.factory, world.round_id, RoundStatus.CLOSED)
    carol = account(world.client, world.factory, "carol@example.org")
    create = {"json": {"name": "Late"}}
    assert world.problem("POST", "/api/v1/rounds/adult/teams", carol, 409, **create) == (
        "round-closed"
    )
    join = {"json": {"invite_code": team["invite_code"]}}
    assert world.problem("POST", "/api/v1/teams/join", world.bob, 409, **join) == "round-closed"
    leave = f"/api/v1/teams/{team['id']}/leave"
    assert world.problem("POST", leave, world.ada, 409) == "round-closed"
    assert [t["name"] for t in world.client.get("/api/v1/rounds/adult/teams").json()] == [
        "Fair Trees"
    ]


def test_frozen_round_still_accepts_teams(world: World) -> None:
    set_status(world.factory, world.round_id, RoundStatus.FROZEN)
    assert world.create(world.ada, "Fair Trees")["name"] == "Fair Trees"


def test_draft_round_is_invisible_to_everyone_but_its_organizer(world: World) -> None:
    make_round(world.factory, world.org, "secret", RoundStatus.DRAFT)
    base = "/api/v1/rounds/secret"
    other_org = account(world.client, world.factory, "eve@example.org", Role.ORGANIZER)
    for who in (world.ada, other_org):
        body = {"json": {"name": "Early"}}
        assert world.problem("POST", f"{base}/teams", who, 404, **body) == "round-not-found"
    assert world.problem("GET", f"{base}/teams", None, 404) == "round-not-found"
    assert world.problem("GET", f"{base}/my-team", world.ada, 404) == "round-not-found"
    own = world.client.get(f"{base}/teams", headers=world.org.headers)
    assert own.status_code == 200
    assert own.json() == []


def test_organizer_cannot_enter_own_round(world: World) -> None:
    url = "/api/v1/rounds/adult/teams"
    slug = world.problem("POST", url, world.org, 403, json={"name": "Inside job"})
    assert slug == "organizer-cannot-enter"
    code = world.create(world.ada, "Fair Trees")["invite_code"]
    body = {"json": {"invite_code": code}}
    assert world.problem("POST", "/api/v1/teams/join", world.org, 403, **body) == (
        "organizer-cannot-enter"
    )
    # An organizer of some other round may take part like anyone else.
    other_org = account(world.client, world.factory, "eve@example.org", Role.ORGANIZER)
    assert world.create(other_org, "Visitors")["name"] == "Visitors"


def test_anonymous_callers_are_401(world: World) -> None:
    team = world.create(world.ada, "Fair Trees")
    calls = [
        ("POST", "/api/v1/rounds/adult/teams", {"json": {"name": "X"}}),
        ("POST", "/api/v1/teams/join", {"json": {"invite_code": team["invite_code"]}}),
        ("POST", f"/api/v1/teams/{team['id']}/leave", {}),
        ("GET", "/api/v1/rounds/adult/my-team", {}),
        ("GET", f"/api/v1/rounds/adult/teams/{team['id']}/members", {}),
    ]
    for method, url, kw in calls:
        assert world.problem(method, url, None, 401, **kw) == "not-authenticated"
    assert world.client.get("/api/v1/rounds/adult/teams").status_code == 200


def test_leave_and_the_last_member_out_deletes_the_team(world: World, db: Session) -> None:
    team = world.create(world.ada, "Fair Trees")
    world.join(world.bob, team["invite_code"])
    leave = f"/api/v1/teams/{team['id']}/leave"
    assert world.client.post(leave, headers=world.bob.headers).status_code == 204
    world.problem("GET", "/api/v1/rounds/adult/my-team", world.bob, 404)
    assert world.problem("POST", leave, world.bob, 404) == "not-a-team-member"
    listed = world.client.get("/api/v1/rounds/adult/teams").json()
    assert [t["member_count"] for t in listed] == [1]
    assert world.client.post(leave, headers=world.ada.headers).status_code == 204
    assert world.client.get("/api/v1/rounds/adult/teams").json() == []
    assert db.get(Team, team["id"]) is None
    actions = audit_actions(db, world.round_id)
    assert actions == ["team.created", "team.joined", "team.left", "team.left"]
    # The name is free again, and the old code no longer works.
    assert world.create(world.ada, "fair trees")["name"] == "fair trees"
    body = {"json": {"invite_code": team["invite_code"]}}
    world.problem("POST", "/api/v1/teams/join", world.bob, 404, **body)


def test_cannot_leave_a_team_that_has_submitted(world: World) -> None:
    team = world.create(world.ada, "Fair Trees")
    with world.factory() as session, session.begin():
        session.add(
            Submission(
                round_id=world.round_id,
                team_id=team["id"],
                user_id=world.ada.id,
                group_kind="rule",
                group_expression="age >= 50",
                model_sha="0" * 64,
                model_format="skops",
            )
        )
    leave = f"/api/v1/teams/{team['id']}/leave"
    assert world.problem("POST", leave, world.ada, 409) == "team-has-submissions"
    mine = world.client.get("/api/v1/rounds/adult/my-team", headers=world.ada.headers)
    assert mine.status_code == 200


def test_cannot_leave_someone_elses_team(world: World) -> None:
    team = world.create(world.ada, "Fair Trees")
    assert world.problem("POST", f"/api/v1/teams/{team['id']}/leave", world.bob, 404) == (
        "not-a-team-member"
    )
    assert world.problem("POST", "/api/v1/teams/999999/leave", world.bob, 404) == (
        "not-a-team-member"
    )
    assert world.client.get("/api/v1/rounds/adult/teams").json()[0]["member_count"] == 1


def test_organizer_sees_member_emails_others_get_403(world: World) -> None:
    team = world.create(world.ada, "Fair Trees")
    world.join(world.bob, team["invite_code"])
    url = f"/api/v1/rounds/adult/teams/{team['id']}/members"
    members = world.client.get(url, headers=world.org.headers)
    assert members.status_code == 200
    assert [(m["display_name"], m["email"]) for m in members.json()] == [
        ("ada", "ada@example.org"),
        ("bob", "bob@example.org"),
    ]
    other_org = account(world.client, world.factory, "eve@example.org", Role.ORGANIZER)
    for who in (world.ada, world.bob, other_org):
        assert world.problem("GET", url, who, 403) == "round-organizer-only"
    missing = "/api/v1/rounds/adult/teams/999999/members"
    assert world.problem("GET", missing, world.org, 404) == "team-not-found"
    make_round(world.factory, other_org, "credit")
    elsewhere = world.create(world.ada, "Abroad", slug="credit")
    wrong_round = f"/api/v1/rounds/adult/teams/{elsewhere['id']}/members"
    assert world.problem("GET", wrong_round, world.org, 404) == "team-not-found"


def test_team_of_and_require_team(world: World, db: Session) -> None:
    round_ = db.get(Round, world.round_id)
    ada = db.get(User, world.ada.id)
    assert round_ is not None
    assert ada is not None
    assert team_of(db, ada.id, round_.id) is None
    with pytest.raises(Problem) as refused:
        require_team(db, ada, round_)
    assert (refused.value.status, refused.value.slug) == (403, "team-required")
    created = world.create(world.ada, "Fair Trees")
    found = team_of(db, ada.id, round_.id)
    assert found is not None
    assert found.id == created["id"]
    assert require_team(db, ada, round_).id == created["id"]
    assert team_of(db, world.bob.id, round_.id) is None


def test_routes_are_documented_under_the_teams_tag(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    expected = {
        ("post", "/api/v1/rounds/{slug}/teams"),
        ("get", "/api/v1/rounds/{slug}/teams"),
        ("post", "/api/v1/teams/join"),
        ("post", "/api/v1/teams/{team_id}/leave"),
        ("get", "/api/v1/rounds/{slug}/my-team"),
        ("get", "/api/v1/rounds/{slug}/teams/{team_id}/members"),
    }
    for method, path in expected:
        assert paths[path][method]["tags"] == ["teams"]
    assert (
        "application/problem+json"
        in paths["/api/v1/teams/join"]["post"]["responses"]["404"]["content"]
    )
