"""The client commands of `bounty` against a real server: login, rounds, leaderboard, status."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pandas as pd
import pytest

from app.seed import COST_DEMO_SLUG, DEMO_SLUG
from bounty_client import BountyClient
from bounty_client.cli import ExitCode
from bounty_engine.baseline import train_patch_model
from bounty_engine.data import prepare_features
from bounty_engine.groups import RuleGroup
from tests.support.servers import DemoServer


def test_login_keeps_the_key_for_its_owner_only(
    run, server: DemoServer, api_key: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    logged = run("login", "--server", server.url, "--api-key", api_key)
    assert logged.exit_code == 0, logged.output
    assert "Demo researcher" in logged.output
    saved = tmp_path / "config" / "client.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text()) == {"server": server.url, "api_key": api_key}

    listed = run("rounds", "--json")
    assert listed.exit_code == 0
    assert DEMO_SLUG in [r["slug"] for r in json.loads(listed.output)]
    table = run("leaderboard", DEMO_SLUG)
    assert table.exit_code == 0
    assert "Demo team" in table.output
    board = json.loads(run("leaderboard", DEMO_SLUG, "--json").output)
    assert board["round"] == DEMO_SLUG
    shown = run("round", "show", DEMO_SLUG)
    assert "minimum group" in shown.output
    priced = run("round", "show", COST_DEMO_SLUG)
    words = " ".join(priced.output.split())  # the table wraps long values
    assert "cost: Predicting >50K when the truth is <=50K costs 3" in words
    assert json.loads(run("round", "show", DEMO_SLUG, "--json").output)["slug"] == DEMO_SLUG
    target = tmp_path / "train.parquet"
    downloaded = run("data", "download", DEMO_SLUG, "--out", str(target))
    assert downloaded.exit_code == 0, downloaded.output
    n_train = json.loads(run("round", "show", DEMO_SLUG, "--json").output)["data"]["n_train"]
    assert len(pd.read_parquet(target)) == n_train


def test_status_of_a_submission_and_exit_codes_scripts_can_rely_on(
    run, server: DemoServer, api_key: str
) -> None:  # type: ignore[no-untyped-def]
    assert run("status", "1").exit_code == ExitCode.NOT_SIGNED_IN  # no login yet
    assert run("login", "--server", server.url, "--api-key", "bbk_nope").exit_code == (
        ExitCode.NOT_SIGNED_IN
    )
    run("login", "--server", server.url, "--api-key", api_key)
    missing = run("status", "999999")
    assert missing.exit_code == ExitCode.NOT_FOUND
    assert missing.output.count("\n") <= 2  # one clear line, no traceback
    assert run("leaderboard", "no-such-round").exit_code == ExitCode.NOT_FOUND
    with BountyClient(server.url, api_key=api_key) as client:
        schema, train = client.schema(DEMO_SLUG), client.train_data(DEMO_SLUG)
        mask = RuleGroup.parse("age >= 70", schema).mask(prepare_features(train, schema))
        h = train_patch_model(train, schema, mask)
        sub_id = client.submit(DEMO_SLUG, h, group="age >= 70").submission.id
        client.wait(sub_id, timeout=120)
    shown = json.loads(run("status", str(sub_id), "--json").output)
    assert (shown["id"], shown["status"]) == (sub_id, "decided")
    listed = json.loads(run("submissions", DEMO_SLUG, "--json").output)
    assert [s["id"] for s in listed] == [sub_id]
    assert "age >= 70" in run("submissions", DEMO_SLUG).output
    assert f"submission {sub_id} in {DEMO_SLUG}: " in run("status", str(sub_id)).output


def test_an_unreachable_server_is_its_own_exit_code(  # type: ignore[no-untyped-def]
    run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOUNTY_SERVER", "http://127.0.0.1:9")
    monkeypatch.setenv("BOUNTY_API_KEY", "bbk_any")
    waits: list[float] = []  # the client's back-off between attempts, recorded, not slept
    defaults = BountyClient.__init__.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "sleep", waits.append)
    result = run("rounds")
    assert result.exit_code == ExitCode.UNREACHABLE
    assert "cannot reach" in result.output
    assert len(waits) == defaults["retries"]  # it tried again first
    assert waits == sorted(waits)  # backing off
