"""`bounty check` and `bounty submit` against a real server: the local check agrees with the
platform's verdict, on the same data and rules, for an accepted and two rejected pairs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from app.seed import DEMO_SLUG
from bounty_client import BountyClient
from bounty_client.cli import ExitCode
from bounty_engine.baseline import train_patch_model
from bounty_engine.data import prepare_features
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model
from tests.support.servers import DemoServer

Run = Callable[..., Result]
OWN_SERVER = True  # its capital_gain pair must be accepted: see tests/sdk/conftest.py
RATES = tuple(
    f"false_{kind}_rate_{when}" for kind in ("positive", "negative") for when in ("before", "after")
)
STATS = ("n_group", "group_loss_before", "group_loss_after", "score", *RATES)


def _patch(server: DemoServer, api_key: str, rule: str, path: Path) -> Path:
    with BountyClient(server.url, api_key=api_key) as client:
        schema, train = client.schema(DEMO_SLUG), client.train_data(DEMO_SLUG)
    mask = RuleGroup.parse(rule, schema).mask(prepare_features(train, schema))
    path.write_bytes(dump_sklearn_model(train_patch_model(train, schema, mask)))
    return path


def _check_then_submit(run: Run, rule: str, model: Path) -> tuple[Result, Result]:
    args = (DEMO_SLUG, "--rule", rule, "--model", model, "--json")
    return run("check", *args), run("submit", *args)


@pytest.fixture
def logged_in(run: Run, server: DemoServer, api_key: str) -> Run:
    assert run("login", "--server", server.url, "--api-key", api_key).exit_code == 0
    return run


def test_check_agrees_with_the_verdict_for_accepted_and_rejected_pairs(
    logged_in: Run, server: DemoServer, api_key: str, tmp_path: Path
) -> None:
    rule = "capital_gain > 0"
    model = _patch(server, api_key, rule, tmp_path / "h.skops")

    checked, submitted = _check_then_submit(logged_in, rule, model)
    assert (checked.exit_code, submitted.exit_code) == (ExitCode.OK, ExitCode.OK)
    local, verdict = json.loads(checked.stdout), json.loads(submitted.stdout)["verdict"]
    assert local["outcome"] == verdict["outcome"] == "accepted"
    # Same engine, same train rows, same current model: the very same train statistics.
    assert {k: local["train"][k] for k in STATS} == {k: verdict["train"][k] for k in STATS}
    assert abs(local["expected_holdout_rows"] - verdict["holdout"]["n_group"]) < 100

    # Now the model has that patch: both say the same pair no longer improves it.
    checked, submitted = _check_then_submit(logged_in, rule, model)
    assert (checked.exit_code, submitted.exit_code) == (ExitCode.REJECTED, ExitCode.REJECTED)
    local, verdict = json.loads(checked.stdout), json.loads(submitted.stdout)["verdict"]
    # The local check tells why on the train split; the demo round's holdout does not.
    assert (local["reason"], verdict["reason"]) == ("no_improvement", "not_accepted")
    assert local["train"]["score"] == verdict["train"]["score"] == 0

    # A group that is too small for the round's min_group_rows on the holdout.
    tiny = "age >= 88"
    checked, submitted = _check_then_submit(logged_in, tiny, _patch(server, api_key, tiny, model))
    local, verdict = json.loads(checked.stdout), json.loads(submitted.stdout)["verdict"]
    assert local["outcome"] == verdict["outcome"] == "rejected"
    assert (local["reason"], verdict["reason"]) == ("group_too_small", "not_accepted")
    assert local["expected_holdout_rows"] < local["min_group_rows"]


def test_submit_reports_progress_and_the_verdict_for_people(
    logged_in: Run, server: DemoServer, api_key: str, tmp_path: Path
) -> None:
    rule = "education_num >= 13"
    model = _patch(server, api_key, rule, tmp_path / "h.skops")
    shown = logged_in("submit", DEMO_SLUG, "--rule", rule, "--model", model)
    assert shown.exit_code in (ExitCode.OK, ExitCode.REJECTED), shown.output
    assert "queued;" in shown.stdout
    assert "left today" in shown.stdout
    assert "train:" in shown.stdout  # the verdict's train statistics

    queued = logged_in("submit", DEMO_SLUG, "--rule", rule, "--model", model, "--no-wait")
    assert queued.exit_code == ExitCode.OK
    assert "queued;" in queued.stdout


def test_check_and_submit_refuse_bad_pairs_with_one_line(logged_in: Run, tmp_path: Path) -> None:
    pickle_file = tmp_path / "h.pkl"
    pickle_file.write_bytes(b"\x80\x04\x95\x00\x00\x00\x00")
    for command in ("check", "submit"):
        both = logged_in(command, DEMO_SLUG, "--model", pickle_file)
        assert both.exit_code == ExitCode.ERROR
        assert "--rule or as --group-model" in both.output
        typo = logged_in(command, DEMO_SLUG, "--rule", "capital_gainz > 0", "--model", pickle_file)
        assert typo.exit_code in (ExitCode.REJECTED, ExitCode.REFUSED)
        assert "capital_gainz" in typo.output
        assert "Traceback" not in typo.output
