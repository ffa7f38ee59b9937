"""Sessions in the browser: signing out and in as someone else, a token that the server stops
accepting mid-session, and where sign-in leads back to."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from app.seed import DEMO_ORGANIZER, DEMO_RESEARCHER, DEMO_SLUG
from tests.e2e.conftest import sign_in
from tests.support.servers import DemoServer

EVALUATES = False  # the server warms no fork server up (tests/e2e/conftest.py)


def test_signing_out_and_in_as_someone_else_shows_the_new_user(page: Page) -> None:
    sign_in(page, *DEMO_ORGANIZER)
    expect(page.get_by_role("button", name="Sign out (Demo organizer)")).to_be_visible()
    expect(page.get_by_role("link", name="Organize")).to_be_visible()
    page.get_by_role("button", name="Sign out (Demo organizer)").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_role("link", name="Organize")).to_have_count(0)
    sign_in(page, *DEMO_RESEARCHER)
    researcher = page.get_by_role("button", name=re.compile(r"Sign out \(Demo researcher"))
    expect(researcher).to_be_visible()
    expect(page.get_by_role("link", name="Organize")).to_have_count(0)


def test_a_token_refused_mid_session_ends_it_cleanly(page: Page, server: DemoServer) -> None:
    sign_in(page, *DEMO_RESEARCHER, next_path=f"/rounds/{DEMO_SLUG}")
    expect(page.get_by_role("heading", name=re.compile("Your team"))).to_be_visible()
    token = page.evaluate("() => sessionStorage.getItem('bias-bounty.token')")
    logout = httpx.post(
        f"{server.url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
    )
    assert logout.status_code == 204  # e.g. signed out elsewhere, or the token expired
    page.get_by_role("link", name="Rounds").click()
    expect(page.get_by_text("Your session has ended")).to_be_visible()
    expect(page.get_by_role("link", name="Adult income (demo)")).to_be_visible()  # still usable
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()


def test_sign_in_leads_back_only_to_pages_of_this_site(page: Page) -> None:
    sign_in(page, *DEMO_RESEARCHER, next_path=f"/rounds/{DEMO_SLUG}/submissions")
    expect(page).to_have_url(re.compile(f"/rounds/{DEMO_SLUG}/submissions$"))
    page.get_by_role("button", name=re.compile("Sign out")).click()
    sign_in(page, *DEMO_RESEARCHER, next_path="/%5Cevil.example")
    expect(page.get_by_role("button", name=re.compile("Sign out"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/$"))  # home, not away
