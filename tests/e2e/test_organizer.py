"""An organizer in a real browser: create a cost-weighted round on Adult through the wizard (its
cost matrix edited in the browser) and open it;
then, on a round with a submission, disqualify it (seeing the replay), export the model bundle
and read the closing report."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from app.seed import COST_DEMO_SLUG, DEMO_ORGANIZER, DEMO_RESEARCHER, DEMO_SLUG
from bounty_engine.datasets.adult import load_adult
from tests.e2e.conftest import patch_model_file, screenshot, sign_in
from tests.support.servers import DemoServer


def _sign_in(page: Page, email: str, password: str, then: str) -> None:
    sign_in(page, email, password, then)
    expect(page).to_have_url(re.compile(re.escape(then) + "$"))


def test_an_organizer_creates_and_opens_a_cost_weighted_round_on_adult_with_the_wizard(
    page: Page, tmp_path: Path
) -> None:
    data = tmp_path / "adult.csv"
    load_adult().to_csv(data, index=False)
    page.on("dialog", lambda dialog: dialog.accept())
    _sign_in(page, *DEMO_ORGANIZER, then="/organize")
    page.get_by_role("link", name="New round").click()

    page.get_by_label("Title").fill("Income, winter 2026")
    page.get_by_label("Description").fill("Find where the **income** model fails.")
    page.get_by_label("Alpha: the smallest improvement accepted").fill("0.002")
    page.get_by_label("Submissions per team per day").fill("20")
    # Scored by costs: a false positive (a high income predicted wrongly) costs 3.
    page.get_by_label("Loss").select_option("cost")
    page.get_by_label(
        "cost of predicting second class (positive) when the truth is first class (negative)"
    ).fill("3")
    screenshot(page, "wizard-rules")
    page.get_by_role("button", name="Create the draft round").click()

    expect(page).to_have_url(re.compile(r"/rounds/income-winter-2026/setup$"))
    page.get_by_label("Table (CSV or Parquet), split at random").set_input_files(data)
    expect(page.get_by_label("Label column")).to_have_value("income")  # from the CSV header
    page.get_by_label("Holdout (decides)").fill("0.25")
    page.get_by_label("Test (sealed)").fill("0.15")
    page.get_by_role("button", name="Upload and split").click()
    meaning = page.get_by_test_id("alpha-meaning")
    expect(meaning).to_contain_text("Holdout: 12,2")  # a quarter of Adult's 48,842 rows
    expect(meaning).to_contain_text("rows")
    expect(page.get_by_test_id("setup-costs")).to_contain_text(
        "Predicting >50K when the truth is <=50K costs 3; predicting <=50K when the truth is "
        ">50K costs 1"
    )
    screenshot(page, "wizard-data")

    page.get_by_role("button", name="Train the default model on the train split").click()
    expect(page.get_by_role("heading", name="Open")).to_be_visible(timeout=120_000)
    page.get_by_role("button", name="Open the round").click()

    expect(page).to_have_url(re.compile(r"/rounds/income-winter-2026/admin$"))
    expect(page.locator(".badge.open").first).to_be_visible()
    screenshot(page, "admin-new-round")
    page.get_by_role("link", name="← the round's public page").click()
    expect(page.get_by_role("strong").filter(has_text="income")).to_be_visible()  # Markdown
    expect(page.get_by_test_id("costs-explained")).to_contain_text("costs 3")


def _submit_capital_gain_patch(server: DemoServer, slug: str, folder: Path) -> int:
    """The demo researcher submits a patch for ``capital_gain > 0`` over the API; its id."""
    api = f"{server.url}/api/v1"
    login = {"username": DEMO_RESEARCHER[0], "password": DEMO_RESEARCHER[1]}
    token = httpx.post(f"{api}/auth/token", data=login).json()["access_token"]
    h = patch_model_file(server, "capital_gain > 0", folder).read_bytes()
    submitted = httpx.post(
        f"{api}/rounds/{slug}/submissions",
        data={"group_expression": "capital_gain > 0"},
        files={"model": ("h.skops", h)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert submitted.status_code == 202, submitted.text
    sub_id: int = submitted.json()["submission"]["id"]
    return sub_id


def test_an_organizer_disqualifies_exports_and_reads_the_report(
    page: Page, server: DemoServer, tmp_path: Path
) -> None:
    sub_id = _submit_capital_gain_patch(server, DEMO_SLUG, tmp_path)

    page.on("dialog", lambda dialog: dialog.accept())
    _sign_in(page, *DEMO_ORGANIZER, then=f"/rounds/{DEMO_SLUG}/admin")
    row = page.locator("tr", has=page.get_by_role("cell", name=str(sub_id), exact=True))
    expect(row).to_contain_text("accepted", timeout=90_000)  # refreshed as the worker decides
    screenshot(page, "admin-submissions")

    row.get_by_role("button", name=f"Disqualify submission {sub_id}…").click()
    dialog = page.get_by_role("dialog", name=f"Disqualify submission {sub_id}")
    dialog.get_by_label("Reason (shown to the team)").fill("the group was copied")
    dialog.get_by_role("button", name=f"Disqualify submission {sub_id}").click()
    expect(row.get_by_role("status")).to_contain_text("Replayed: model version 1 → 0")
    expect(row).to_contain_text("disqualified")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export the model bundle").click()
    bundle = Path(download.value.path())
    assert zipfile.is_zipfile(io.BytesIO(bundle.read_bytes()))

    audit = page.get_by_role("region", name="Audit log")
    disqualified = audit.locator("tr", has_text="submission.disqualified")
    expect(disqualified).to_contain_text("the group was copied")
    expect(audit.locator("tr", has_text="verdict").first).to_contain_text("worker")
    with page.expect_download() as download:
        audit.get_by_role("button", name="Download the whole log (JSON Lines)").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert any(json.loads(line)["action"] == "submission.disqualified" for line in lines)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the round archive").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        assert "manifest.json" in archive.namelist()
    screenshot(page, "admin-audit")

    page.get_by_role("link", name="Closing report").click()
    expect(page.get_by_role("heading", name="Closing report")).to_be_visible()
    expect(page.get_by_test_id("overfitting-gap")).to_contain_text("0.0000")  # nothing accepted
    screenshot(page, "report")


def test_an_organizer_follows_the_model_on_a_deployment_population(
    page: Page, server: DemoServer, tmp_path: Path
) -> None:
    _submit_capital_gain_patch(server, COST_DEMO_SLUG, tmp_path)
    rows = tmp_path / "clinic.csv"
    load_adult().sample(3000, random_state=5).to_csv(rows, index=False)

    _sign_in(page, *DEMO_ORGANIZER, then=f"/rounds/{COST_DEMO_SLUG}/admin")
    page.get_by_role("link", name="Deployment populations").click()
    expect(page.get_by_text("No populations yet")).to_be_visible()
    page.get_by_label("Rule").fill('sex == "Female"')
    page.get_by_role("button", name="Watch this group").click()
    expect(page.get_by_role("region", name="Groups to watch")).to_contain_text('sex == "Female"')
    page.get_by_label("Name").fill("Branch office, 2026")
    page.get_by_label("Table (CSV or Parquet) with the round's features and label").set_input_files(
        rows
    )
    page.get_by_role("button", name="Add the population").click()

    figures = page.get_by_test_id("population-figures")
    expect(figures.get_by_role("heading")).to_contain_text("Branch office, 2026")
    versions = page.get_by_test_id("population-versions")
    # Measured by the worker once the pair is decided: the base model and the patch.
    expect(versions.get_by_role("row")).to_have_count(3, timeout=90_000)
    expect(versions.get_by_role("columnheader", name="false-negative rate")).to_be_visible()
    groups = page.get_by_test_id("population-groups")
    patched = groups.get_by_role("row").filter(has_text="capital_gain > 0")
    expect(patched).to_contain_text("Demo team")
    expect(groups.get_by_role("row").filter(has_text='sex == "Female"')).to_contain_text("watched")
    screenshot(page, "population")

    # A follow-up round holds this population out, starting from the current model.
    page.get_by_label("Title of the follow-up round").fill("Income at the branch office")
    page.get_by_role("button", name="Start the follow-up round").click()
    expect(page).to_have_url(re.compile(r"/rounds/income-at-the-branch-office/setup$"))
    expect(page.get_by_text("3,000 holdout")).to_be_visible()
    page.get_by_role("button", name="Open the round").click()
    expect(page).to_have_url(re.compile(r"/rounds/income-at-the-branch-office/admin$"))
    expect(page.locator(".badge.open").first).to_be_visible()
    # The closing report shows the same figures.
    page.goto(f"/rounds/{COST_DEMO_SLUG}/report")
    on_populations = page.get_by_role("region", name="On the deployment populations")
    versions_there = on_populations.get_by_test_id("population-versions").get_by_role("row")
    expect(versions_there).to_have_count(3, timeout=60_000)  # once the report is computed
    expect(on_populations).to_contain_text("Branch office, 2026")
    page.goto(f"/rounds/{COST_DEMO_SLUG}/populations")

    page.get_by_label("Their account's email").fill(DEMO_RESEARCHER[0])
    page.get_by_role("button", name="Let them add populations").click()
    expect(page.get_by_role("region", name="Deployers")).to_contain_text(DEMO_RESEARCHER[0])

    # The deployer reaches the page from the round and sees none of the organizer's figures.
    page.get_by_role("button", name=re.compile("^Sign out")).click()
    _sign_in(page, *DEMO_RESEARCHER, then=f"/rounds/{COST_DEMO_SLUG}")
    page.get_by_role("link", name="add and follow your populations").click()
    expect(page.get_by_text("No populations yet")).to_be_visible()
    expect(page.get_by_role("region", name="Deployers")).to_have_count(0)
