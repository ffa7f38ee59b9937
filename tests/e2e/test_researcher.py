"""A researcher in a real browser: sign up, make a team, build a group with the rule builder,
upload h, watch the verdict arrive without reloading, and see the leaderboard and the chart
change; mistakes are shown where they were made."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from app.seed import DEMO_SLUG
from tests.e2e.conftest import MAX_MODEL_BYTES, patch_model_file, screenshot
from tests.support.servers import DemoServer

ROUND_TITLE = "Adult income (demo)"


def _sign_up_with_team(page: Page, team: str) -> None:
    """A new account, signed in, with a new team in the demo round (its page open)."""
    page.goto(f"/signup?next=/rounds/{DEMO_SLUG}")
    page.get_by_label("Your name").fill("Ada Browser")
    page.get_by_label("Email").fill(f"ada-{uuid.uuid4().hex[:8]}@example.org")
    page.get_by_label("Password (at least 10 characters)").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name=ROUND_TITLE)).to_be_visible()
    page.get_by_label("New team's name").fill(team)
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", name=f"Your team: {team}")).to_be_visible()
    expect(page.get_by_test_id("invite-code")).not_to_be_empty()


def _leaderboard_row(page: Page, team: str):  # type: ignore[no-untyped-def]
    return page.locator("table.leaderboard tr", has=page.get_by_role("rowheader", name=team))


def test_a_researcher_submits_with_the_rule_builder_and_sees_the_verdict_live(
    page: Page, server: DemoServer, tmp_path: Path
) -> None:
    h = patch_model_file(server, "capital_gain > 0", tmp_path)
    page.goto("/")
    screenshot(page, "rounds")
    page.get_by_role("link", name=ROUND_TITLE).click()
    expect(page.get_by_role("heading", name="Leaderboard")).to_be_visible()

    _sign_up_with_team(page, "Browser Sleuths")
    expect(_leaderboard_row(page, "Browser Sleuths")).to_contain_text("0 / 0")
    version_rows = page.locator(".chart table tbody tr")
    expect(version_rows.first).to_be_attached()  # the chart's code loads on demand
    versions_before = version_rows.count()
    assert versions_before >= 1

    page.get_by_role("link", name="Submit a pair").click()
    expect(page.get_by_test_id("quota")).to_contain_text("submissions left today")
    page.get_by_label("Feature of condition 1").select_option("capital_gain")
    page.get_by_label("Operator of condition 1").select_option(">")
    page.get_by_label("Value of condition 1").fill("0")
    expect(page.get_by_label("Rule text")).to_have_text("capital_gain > 0")
    page.get_by_label("Model file").set_input_files(h)
    screenshot(page, "submit")
    page.get_by_role("button", name="Submit").click()

    # The submission's page follows its status live: no reload between submit and verdict.
    expect(page).to_have_url(re.compile(r"/submissions/\d+$"), timeout=30_000)  # upload + check
    status = page.get_by_test_id("status")
    expect(status).to_contain_text("accepted", timeout=90_000)
    expect(page.get_by_role("heading", name="Verdict")).to_be_visible()
    expect(page.get_by_role("cell", name="not disclosed")).to_have_count(0)  # accepted: shown
    # Adult is a two-class round: the group's error rates, exact on train, rounded on holdout.
    false_negatives = page.get_by_role("row", name=re.compile("^false-negative rate before"))
    expect(false_negatives).to_contain_text(re.compile(r"\d+\.\d+%.*≈ \d"))
    screenshot(page, "verdict")

    page.get_by_role("link", name=f"← {DEMO_SLUG}").click()
    expect(_leaderboard_row(page, "Browser Sleuths")).to_contain_text("1 / 1")
    expect(_leaderboard_row(page, "Browser Sleuths").locator("td").first).to_have_text("1")
    expect(version_rows).to_have_count(versions_before + 1)
    expect(page.get_by_role("rowheader", name="Browser Sleuths").last).to_be_visible()
    groups = page.get_by_test_id("accepted-groups")
    expect(groups.get_by_role("columnheader", name="false-negative rate")).to_be_visible()
    sleuths = groups.get_by_role("row").filter(has=page.get_by_role("cell", name="Browser Sleuths"))
    expect(sleuths).to_contain_text(re.compile(r"≈ \d+(\.\d+)?% → ≈ \d+(\.\d+)?%"))
    screenshot(page, "round")

    page.get_by_role("link", name="Your team's submissions").click()
    expect(page.get_by_test_id("status").first).to_contain_text("accepted")
    screenshot(page, "my-submissions")


def test_a_malformed_rule_and_an_oversized_file_show_their_errors_in_place(
    page: Page, server: DemoServer, tmp_path: Path
) -> None:
    _sign_up_with_team(page, "Careful Testers")
    page.get_by_role("link", name="Submit a pair").click()
    quota = page.get_by_test_id("quota").inner_text()

    page.get_by_text("Write a rule").click()
    page.get_by_label("Group rule").fill("age >= 50 and capital_gains > 0")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("capital_gains")
    expect(alert.locator("mark")).to_have_text("c")  # the error's first character, marked
    expect(page.get_by_label("Group rule")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    screenshot(page, "rule-error")

    page.get_by_label("Group rule").fill("age >= 50 and capital_gain > 0")
    expect(page.get_by_role("status").filter(has_text="Valid")).to_contain_text(
        "rows of the training split"
    )
    big = tmp_path / "big.skops"
    big.write_bytes(b"\0" * (MAX_MODEL_BYTES + 1))
    page.get_by_label("Model file").set_input_files(big)
    page.get_by_role("button", name="Submit").click()
    model_error = page.locator("#model-error")
    expect(model_error).to_contain_text("larger than the limit")
    expect(page).to_have_url(re.compile(r"/submit$"))  # still here, the form as it was
    expect(page.get_by_label("Group rule")).to_have_value("age >= 50 and capital_gain > 0")
    page.reload()
    expect(page.get_by_test_id("quota")).to_have_text(quota)  # refused uploads cost nothing


def test_an_api_key_is_shown_once_works_and_is_revoked(page: Page, server: DemoServer) -> None:
    _sign_up_with_team(page, "Scripters")
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_text("No keys yet")).to_be_visible()
    page.get_by_label("Name").fill("laptop")
    page.get_by_label("Expires after (days, empty for never)").fill("30")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_test_id("new-key").inner_text()
    assert key.startswith("bbk_")
    me = httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert me.json()["display_name"] == "Ada Browser"
    page.reload()
    expect(page.get_by_test_id("new-key")).to_have_count(0)  # shown once
    expect(page.get_by_role("rowheader", name="laptop")).to_be_visible()
    screenshot(page, "api-keys")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("cell", name="revoked")).to_be_visible()
    gone = httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert gone.status_code == 401
