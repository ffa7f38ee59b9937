"""The main pages pass axe-core's accessibility rules (WCAG 2 A/AA: labels, contrast, roles)
and fit a phone's screen; a teammate joins a team with its invite code."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from app.seed import COST_DEMO_SLUG, DEMO_ORGANIZER, DEMO_SLUG
from tests.e2e.conftest import screenshot, sign_in
from tests.support.servers import DemoServer

EVALUATES = False  # the server warms no fork server up (tests/e2e/conftest.py)
AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
PAGES = ["/", f"/rounds/{DEMO_SLUG}", "/signin", "/signup"]
SIGNED_IN_PAGES = [
    f"/rounds/{DEMO_SLUG}/admin",
    f"/rounds/{DEMO_SLUG}/report",
    f"/rounds/{DEMO_SLUG}/populations",
    f"/rounds/{COST_DEMO_SLUG}",  # a cost round: the costs in words, the groups table
    "/keys",
    "/organize/new",
]


def _violations(page: Page) -> list[dict[str, Any]]:
    # Evaluated through the DevTools protocol: the pages' CSP refuses injected script tags.
    page.evaluate(AXE.read_text())
    result: dict[str, Any] = page.evaluate(
        "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
    ]


@pytest.mark.parametrize("path", PAGES)
def test_public_pages_have_no_accessibility_violations(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.locator("main")).not_to_be_empty()
    page.wait_for_load_state("networkidle")
    assert _violations(page) == []


def test_organizer_pages_have_no_accessibility_violations(page: Page) -> None:
    sign_in(page, *DEMO_ORGANIZER)
    expect(page.get_by_role("button", name="Sign out", exact=False)).to_be_visible()
    for path in SIGNED_IN_PAGES:
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert _violations(page) == [], path


def test_the_content_security_policy_refuses_injected_scripts(page: Page) -> None:
    page.goto(f"/rounds/{DEMO_SLUG}")
    expect(page.locator("main h1")).to_be_visible()
    with pytest.raises(PlaywrightError, match="Content Security Policy"):
        page.add_script_tag(content="window.injected = true")
    assert page.evaluate("() => window.injected") is None


def test_pages_fit_a_phone(browser: Browser, server: DemoServer) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844})
    phone = context.new_page()
    for path, name in ((f"/rounds/{DEMO_SLUG}", "phone-round"), ("/", "phone-rounds")):
        phone.goto(path)
        expect(phone.locator("main h1")).to_be_visible()
        phone.wait_for_load_state("networkidle")
        overflow = phone.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the phone"
        screenshot(phone, name)
    context.close()


def test_a_teammate_joins_with_the_invite_code(browser: Browser, server: DemoServer) -> None:
    codes = []
    for who in ("lead", "mate"):
        context = browser.new_context(base_url=server.url)
        page = context.new_page()
        page.goto(f"/signup?next=/rounds/{DEMO_SLUG}")
        page.get_by_label("Your name").fill(who.title())
        page.get_by_label("Email").fill(f"{who}-{uuid.uuid4().hex[:8]}@example.org")
        page.get_by_label("Password (at least 10 characters)").fill("a long enough password")
        page.get_by_role("button", name="Create account").click()
        if not codes:
            page.get_by_label("New team's name").fill(f"Pair {uuid.uuid4().hex[:4]}")
            page.get_by_role("button", name="Create team").click()
            codes.append(page.get_by_test_id("invite-code").inner_text())
        else:
            page.get_by_label("Invite code").fill("not-a-code")
            page.get_by_role("button", name="Join team").click()
            expect(page.get_by_role("alert")).to_contain_text("no team has this invite code")
            page.get_by_label("Invite code").fill(codes[0])
            page.get_by_role("button", name="Join team").click()
            expect(page.get_by_test_id("invite-code")).to_have_text(codes[0])
            expect(page.locator(".team")).to_contain_text("Lead, Mate")
        context.close()
