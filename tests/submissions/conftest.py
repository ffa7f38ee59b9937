"""Fixtures of the submission tests: an open synthetic round, a team, models, a worker."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.core.settings import Settings
from app.core.storage import LocalStore
from app.worker.runner import Worker
from bounty_engine.baseline import train_patch_model
from bounty_engine.data import infer_schema, prepare_features
from bounty_engine.datasets.synthetic import make_synthetic
from bounty_engine.groups import RuleGroup
from bounty_engine.models import dump_sklearn_model
from tests.support.api import Account, account
from tests.support.rounds import LABEL, N_ROWS, open_round

_PATCHES: dict[tuple[int, str], bytes] = {}


@dataclass
class Arena:
    """An open round with a team, and what a participant needs to build pairs."""

    client: TestClient
    organizer: Account
    member: Account
    slug: str
    team: dict[str, Any]
    train: pd.DataFrame
    planted: list[str]

    def patch_model(self, expression: str) -> bytes:
        """A skops h trained on the group's rows of the public train split (trained once per
        test process for a given split and rule: every arena's split is the same table)."""
        key = (int(pd.util.hash_pandas_object(self.train).sum()), expression)
        if key not in _PATCHES:
            schema = infer_schema(self.train, LABEL)
            mask = RuleGroup.parse(expression, schema).mask(prepare_features(self.train, schema))
            _PATCHES[key] = dump_sklearn_model(train_patch_model(self.train, schema, mask))
        return _PATCHES[key]

    def submit(
        self,
        expression: str | None,
        model: bytes,
        *,
        who: Account | None = None,
        headers: dict[str, str] | None = None,
        group_model: bytes | None = None,
    ) -> Any:
        data = {"group_expression": expression} if expression is not None else {}
        files = {"model": ("h.skops", model, "application/octet-stream")}
        if group_model is not None:
            files["group_model"] = ("g.skops", group_model, "application/octet-stream")
        return self.client.post(
            f"/api/v1/rounds/{self.slug}/submissions",
            data=data,
            files=files,
            headers={**(who or self.member).headers, **(headers or {})},
        )


@pytest.fixture
def arena(client: TestClient, session_factory: sessionmaker[Session]) -> Arena:
    return build_arena(client, session_factory)


def build_arena(
    client: TestClient,
    session_factory: sessionmaker[Session],
    daily_quota: int = 5,
    **settings: Any,
) -> Arena:
    """An open synthetic round with a one-member team, through the API (``settings`` override
    the round's creation body)."""
    organizer = account(client, session_factory, "org@example.org", Role.ORGANIZER)
    member = account(client, session_factory, "ann@example.org")
    body = {"alpha": 0.001, "min_group_rows": 10, "daily_quota": daily_quota, **settings}
    round_ = open_round(client, organizer, **body)
    slug = round_["slug"]
    team = client.post(
        f"/api/v1/rounds/{slug}/teams", json={"name": "Sleuths"}, headers=member.headers
    )
    assert team.status_code == 201, team.text
    train = pd.read_parquet(
        io.BytesIO(client.get(f"/api/v1/rounds/{slug}/data/train.parquet").content)
    )
    planted = [g.expression for g in make_synthetic(N_ROWS).planted]
    return Arena(client, organizer, member, slug, team.json(), train, planted)


@pytest.fixture
def worker(
    client: TestClient, settings: Settings, session_factory: sessionmaker[Session], tmp_path: Path
) -> Worker:
    """A worker on the same database and store as the app (evaluations run in real children)."""
    store = client.app.state.store  # type: ignore[attr-defined]
    assert isinstance(store, LocalStore)
    return Worker(
        session_factory, store, settings, name="test-worker", cache_dir=tmp_path / "worker-cache"
    )


def drain(worker: Worker) -> int:
    """Process the queue to the end; returns the jobs processed."""
    done = 0
    while worker.run_once():
        done += 1
    return done
