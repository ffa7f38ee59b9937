"""Problem types: one class each, with its status, type URI and title in one place, and every one
listed in the OpenAPI document."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.errors import Problem
from app.core.settings import Settings
from app.main import create_app
from app.rounds.problems import RoundNotFound, RoundNotOpen

APP = Path(__file__).parents[2] / "app"


@pytest.fixture(scope="module")
def document() -> dict[str, object]:
    app = create_app(Settings(environment="test", database_url="sqlite://"))
    return app.openapi()


def test_every_problem_type_is_listed_in_the_openapi_document(
    document: dict[str, object],
) -> None:
    listed = document["x-problem-types"]
    assert isinstance(listed, list)
    assert {entry["type"] for entry in listed} == {
        kind.type_uri() for kind in Problem.types.values()
    }
    by_type = {entry["type"]: entry for entry in listed}
    assert by_type["/problems/round-not-open"] == {
        "type": "/problems/round-not-open",
        "status": 409,
        "title": RoundNotOpen.title,
    }
    assert len(listed) >= 60


def test_each_type_states_a_client_or_server_error_and_a_title() -> None:
    for slug, kind in Problem.types.items():
        assert kind.slug == slug
        assert 400 <= kind.status < 600, kind
        assert kind.title[:1].isupper(), kind


def test_two_types_cannot_share_a_slug() -> None:
    with pytest.raises(TypeError, match="round-not-found"):

        class _Again(Problem):
            status, slug, title = 404, "round-not-found", "Again"

    assert Problem.types["round-not-found"] is RoundNotFound


def test_raising_a_type_answers_its_status_type_and_title(client: TestClient) -> None:
    answer = client.get("/api/v1/rounds/no-such-round")
    assert answer.status_code == RoundNotFound.status
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert (body["type"], body["title"]) == (RoundNotFound.type_uri(), RoundNotFound.title)
    assert "no-such-round" in body["detail"]


def test_the_code_raises_only_problem_types_never_a_bare_problem() -> None:
    """A bare ``Problem(...)`` would answer a type nobody listed: only subclasses are raised."""
    bare = []
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Problem"
            ):
                bare.append(f"{path.relative_to(APP)}:{node.lineno}")
    assert bare == []
