"""Hostile markup rendered by the web app (the corpus of ``tests/hostile/text.toml``): a
round description made of every markup attack, and a team and display name that are markup
too, shown to a signed-in member. Nothing runs, no element or handler is injected, and no link
keeps a javascript: address."""

from __future__ import annotations

import tomllib
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from app.seed import DEMO_ORGANIZER, DEMO_RESEARCHER
from tests.e2e.conftest import screenshot, sign_in
from tests.support.rounds import LABEL, csv_bytes, synthetic_frame
from tests.support.servers import DemoServer

MARKUP: list[str] = tomllib.loads(
    (Path(__file__).parents[1] / "hostile" / "text.toml").read_text()
)["markup"]
EVALUATES = False  # the server warms no fork server up (tests/e2e/conftest.py)
TEAM = '<img src=x onerror="window.__pwned = 1">'


def _token(http: httpx.Client, who: tuple[str, str]) -> dict[str, str]:
    answer = http.post("/api/v1/auth/token", data={"username": who[0], "password": who[1]})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _hostile_round(server: DemoServer) -> str:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        org = _token(http, DEMO_ORGANIZER)
        description = "# About\n\n" + "\n\n".join(MARKUP)
        created = http.post(
            "/api/v1/rounds",
            json={"title": "Hostile markup", "description": description},
            headers=org,
        )
        assert created.status_code == 201, created.text
        slug = str(created.json()["slug"])
        for path, files in (
            ("dataset", {"file": ("d.csv", csv_bytes(synthetic_frame(600)), "text/csv")}),
            ("base-model/default", None),
            ("open", None),
        ):
            data = {"label": LABEL} if files else None
            done = http.post(f"/api/v1/rounds/{slug}/{path}", data=data, files=files, headers=org)
            assert done.status_code == 200, done.text
        team = http.post(
            f"/api/v1/rounds/{slug}/teams",
            json={"name": TEAM},
            headers=_token(http, DEMO_RESEARCHER),
        )
        assert team.status_code == 201, team.text
        return slug


def test_hostile_markup_is_shown_as_text_and_never_runs(page: Page, server: DemoServer) -> None:
    slug = _hostile_round(server)
    sign_in(page, *DEMO_RESEARCHER, next_path=f"/rounds/{slug}")
    expect(page.get_by_role("heading", name=f"Your team: {TEAM}")).to_be_visible()
    markdown = page.locator(".markdown")
    expect(markdown.get_by_role("heading", name="About")).to_be_visible()
    for tag in ("script", "svg", "iframe", "b"):
        expect(markdown.locator(tag)).to_have_count(0)
    # A Markdown image is allowed, with nothing but its address, text and title.
    attributes = markdown.locator("img").evaluate_all(
        "images => images.flatMap(i => i.getAttributeNames())"
    )
    assert set(attributes) <= {"src", "alt", "title"}, attributes
    handlers = page.evaluate(
        "document.querySelectorAll('[onerror],[onload],[onmouseover],[onclick]').length"
    )
    assert handlers == 0
    hrefs = markdown.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert all(not href.lower().startswith("javascript:") for href in hrefs), hrefs
    page.get_by_role("heading", name=f"Your team: {TEAM}").hover()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    screenshot(page, "hostile-markup")
