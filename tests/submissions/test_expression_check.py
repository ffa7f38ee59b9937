"""Checking a group rule before submitting it: validity, position of errors, group size."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bounty_engine.data import infer_schema, prepare_features
from bounty_engine.groups import RuleGroup
from tests.submissions.conftest import Arena, build_arena
from tests.support.rounds import LABEL


def _check(arena: Arena, expression: str, **kwargs: Any) -> Any:
    response = arena.client.post(
        f"/api/v1/rounds/{arena.slug}/expressions/check", json={"expression": expression}, **kwargs
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_valid_rule_reports_its_columns_and_size_on_the_train_split(arena: Arena) -> None:
    rule = arena.planted[0]
    result = _check(arena, rule)  # anonymous callers may check too: nothing secret is used
    schema = infer_schema(arena.train, LABEL)
    expected = int(RuleGroup.parse(rule, schema).mask(prepare_features(arena.train, schema)).sum())
    assert result["valid"] is True
    assert result["error"] is None
    assert result["train_rows"] == expected > 0
    assert result["train_share"] == expected / len(arena.train)
    assert set(result["columns"]) == set(RuleGroup.parse(rule, schema).columns)
    assert (
        RuleGroup.parse(result["canonical"], schema).columns
        == RuleGroup.parse(rule, schema).columns
    )


@pytest.mark.parametrize("costs", [None, [[0, 3], [1, 0]]], ids=["zero-one", "cost"])
def test_the_check_says_how_the_current_model_does_on_the_group(
    client: TestClient, session_factory: sessionmaker[Session], costs: list[list[int]] | None
) -> None:
    """From public data only: the train split and the current model's predictions on it."""
    loss = {"loss": "cost", "loss_costs": costs} if costs else {}
    arena = build_arena(client, session_factory, **loss)
    rule = arena.planted[0]
    result = _check(arena, rule)
    schema = infer_schema(arena.train, LABEL)
    mask = RuleGroup.parse(rule, schema).mask(prepare_features(arena.train, schema))
    raw = client.get(f"/api/v1/rounds/{arena.slug}/data/train-predictions.parquet").content
    predicted = pd.read_parquet(io.BytesIO(raw))["prediction"].to_numpy()[mask]
    truth = arena.train[LABEL].to_numpy()[mask]
    negative, positive = schema.label.classes or []
    table = np.array(costs or [[0, 1], [1, 0]])
    code = {negative: 0, positive: 1}
    cost = table[[code[t] for t in truth], [code[p] for p in predicted]]
    assert result["train_loss"] == pytest.approx(cost.mean(), abs=1e-12)
    fp = ((predicted == positive) & (truth == negative)).sum() / (truth == negative).sum()
    assert result["train_false_positive_rate"] == pytest.approx(fp, abs=1e-12)


def test_an_invalid_rule_says_where_and_uses_no_quota(arena: Arena) -> None:
    bad = _check(arena, "x0 > 0 and x9 < 1", headers=arena.member.headers)
    assert bad["valid"] is False
    assert bad["train_rows"] is None
    assert "x9" in bad["error"]["message"]
    assert bad["error"]["offset"] == len("x0 > 0 and ")
    syntax = _check(arena, "x0 >> 1")
    assert syntax["valid"] is False
    assert syntax["error"]["column"] >= 1
    quota = arena.submit(arena.planted[0], arena.patch_model(arena.planted[0]))
    assert quota.json()["quota"]["remaining"] == quota.json()["quota"]["limit"] - 1


def test_an_empty_or_unknown_round_is_a_problem(arena: Arena) -> None:
    missing = arena.client.post(
        "/api/v1/rounds/no-such-round/expressions/check", json={"expression": "x0 > 0"}
    )
    assert missing.status_code == 404
    empty = arena.client.post(
        f"/api/v1/rounds/{arena.slug}/expressions/check", json={"expression": ""}
    )
    assert empty.status_code == 422
    assert empty.headers["content-type"] == "application/problem+json"


def test_the_team_reads_its_remaining_quota(arena: Arena) -> None:
    url = f"/api/v1/rounds/{arena.slug}/quota"
    before = arena.client.get(url, headers=arena.member.headers).json()
    arena.submit(arena.planted[0], arena.patch_model(arena.planted[0]))
    after = arena.client.get(url, headers=arena.member.headers).json()
    assert (after["used"], after["remaining"]) == (before["used"] + 1, before["remaining"] - 1)
    assert after["limit"] == before["limit"]
    assert arena.client.get(url).status_code == 401
    assert arena.client.get(url, headers=arena.organizer.headers).status_code == 403
