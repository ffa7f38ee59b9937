"""Browser tests: Debian's headless Chromium, driven by Playwright, against a real
``bounty demo`` (API, worker and the built web app) that each test module starts.

Screenshots of the main pages are saved under ``artifacts/screenshots/`` (kept by CI).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from app.core.settings import Settings
from app.seed import DEMO_SLUG
from bounty_engine.baseline import train_patch_model
from bounty_engine.data import infer_schema, prepare_features
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model
from tests.support.servers import NEVER_EVALUATES, DemoServer, demo_server

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
MAX_MODEL_BYTES = 4_000_000
"""The e2e server's limit on a model file: a gradient-boosting h for Adult is well under it."""


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoServer]:
    """The module's server. A module that sends nothing the sandbox evaluates (no pair, no
    model) sets ``EVALUATES = False``: its server does not warm a fork server up."""
    if not (Settings().frontend_dir / "index.html").is_file():
        pytest.fail("the web app is not built: run `npm ci --prefix frontend && npm run build`")
    folder = tmp_path_factory.mktemp("e2e-server")
    settings = {"max_model_bytes": str(MAX_MODEL_BYTES)}
    if not getattr(request.module, "EVALUATES", True):
        settings["sandbox_warm_up"] = NEVER_EVALUATES
    with demo_server(folder, **settings) as running:
        yield running


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium while a test process runs the browser tests: each test gets a context of
    its own (``page``). Not for the whole session: while Playwright's sync API is open, its
    event loop counts as running in this thread, and ``asyncio.run`` in any later test fails."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: DemoServer) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"the page threw: {errors}"


def sign_in(page: Page, email: str, password: str, next_path: str = "/") -> None:
    """Fill in and send the sign-in form; the app then goes to ``next_path``."""
    page.goto(f"/signin?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def screenshot(page: Page, name: str) -> None:
    """Save the whole page as ``artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def patch_model_file(server: DemoServer, expression: str, folder: Path) -> Path:
    """A skops h for ``expression`` trained on the demo round's public train split."""
    raw = httpx.get(f"{server.url}/api/v1/rounds/{DEMO_SLUG}/data/train.parquet", timeout=60)
    train = pd.read_parquet(io.BytesIO(raw.content))
    schema = infer_schema(train, "income")
    mask = RuleGroup.parse(expression, schema).mask(prepare_features(train, schema))
    path = folder / "h.skops"
    path.write_bytes(dump_sklearn_model(train_patch_model(train, schema, mask)))
    return path
