"""The README's demo command for real: `bounty demo` serves the API with a worker on loopback,
and a researcher's pair submitted over HTTP gets its verdict, in the plain demo round and in the
one scored by a cost matrix. Its evaluation fork server starts with it, before any upload."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from app.evaluation.sandbox import WARM
from app.seed import COST_DEMO_COSTS, COST_DEMO_SLUG, DEMO_RESEARCHER, DEMO_SLUG
from bounty_engine.baseline import train_patch_model
from bounty_engine.data import infer_schema, prepare_features
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model
from tests.support.servers import DemoServer, demo_server, fork_servers_of


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DemoServer]:
    # As on a new machine: the demo seeds its round itself (not from another server's copy),
    # and the sandbox's fork server warms up as it starts (the default).
    with demo_server(tmp_path, seeded=False) as running:
        yield running


def _submitted(http: httpx.Client, demo: str, slug: str, auth: dict[str, str]) -> tuple[str, Any]:
    """Submit the capital_gain patch to ``slug``; its events URL and its last event."""
    api = f"{demo}/api/v1"
    train = pd.read_parquet(io.BytesIO(http.get(f"{api}/rounds/{slug}/data/train.parquet").content))
    schema = infer_schema(train, "income")
    expression = "capital_gain > 0"
    mask = RuleGroup.parse(expression, schema).mask(prepare_features(train, schema))
    model = dump_sklearn_model(train_patch_model(train, schema, mask))
    submitted = http.post(
        f"{api}/rounds/{slug}/submissions",
        data={"group_expression": expression},
        files={"model": ("h.skops", model)},
        headers=auth,
    )
    assert submitted.status_code == 202, submitted.text
    events_url = demo + submitted.json()["submission"]["url"] + "/events"
    last = None
    with http.stream("GET", events_url, headers=auth) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                last = json.loads(line.removeprefix("data: "))
    assert last is not None
    assert last["status"] == "decided"
    return events_url, last


def test_demo_serves_and_decides_a_pair(server: DemoServer) -> None:
    # Warm before any upload asks for it.
    assert server.output.wait_for(WARM, 120), "the sandbox never said it was warm"
    assert len(fork_servers_of(server.pid)) == 1
    demo = server.url
    api = f"{demo}/api/v1"
    with httpx.Client(timeout=60) as http:
        token = http.post(
            f"{api}/auth/token",
            data={"username": DEMO_RESEARCHER[0], "password": DEMO_RESEARCHER[1]},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        events_url, last = _submitted(http, demo, DEMO_SLUG, auth)
        assert last["verdict"]["outcome"] == "accepted"
        # Opened on a decided submission, the stream sends the verdict once and ends.
        with http.stream("GET", events_url, headers=auth) as stream:
            again = [line for line in stream.iter_lines() if line.startswith("data: ")]
        assert [json.loads(line.removeprefix("data: ")) for line in again] == [last]
        versions = http.get(f"{api}/rounds/{DEMO_SLUG}/versions").json()
        assert [v["kind"] for v in versions] == ["base", "patch"]

        # The second demo round prices errors: same data and base model, a cost matrix.
        priced = http.get(f"{api}/rounds/{COST_DEMO_SLUG}").json()
        assert (priced["status"], priced["rules"]["loss"]) == ("open", "cost")
        assert priced["rules"]["loss_costs"] == COST_DEMO_COSTS
        assert "Predicting >50K when the truth is <=50K costs 3" in priced["costs_explained"]
        plain = http.get(f"{api}/rounds/{DEMO_SLUG}").json()
        assert priced["base_model"]["sha256"] == plain["base_model"]["sha256"]
        _, last = _submitted(http, demo, COST_DEMO_SLUG, auth)
        verdict = last["verdict"]
        assert verdict["outcome"] == "accepted", verdict
        # The patch fixes the group's wrongly denied benefits (its false positives).
        train = verdict["train"]
        assert train["false_positive_rate_after"] < train["false_positive_rate_before"]
