"""The README's demo command for real: `bounty demo` serves the API with a worker on loopback,
and a researcher's pair submitted over HTTP gets its verdict."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from app.engine.baseline import train_patch_model
from app.engine.data import infer_schema, prepare_features
from app.engine.groups import RuleGroup
from app.engine.models import dump_sklearn_model
from app.seed import DEMO_RESEARCHER, DEMO_SLUG


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "BOUNTY_DATABASE_URL": f"sqlite:///{tmp_path / 'bounty.db'}",
        "BOUNTY_STORAGE_DIR": str(tmp_path / "artifacts"),
        "BOUNTY_WORKER_POLL_SECONDS": "0.1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "demo", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    printed = []
    for line in process.stdout:  # wait for uvicorn to say it listens
        printed.append(line)
        if "Uvicorn running on" in line:
            break
    else:
        pytest.fail("the demo exited before serving:\n" + "".join(printed))
    assert any(DEMO_RESEARCHER[1] in line for line in printed)  # credentials are printed
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)


def test_demo_serves_and_decides_a_pair(demo_server: str) -> None:
    api = f"{demo_server}/api/v1"
    with httpx.Client(timeout=60) as http:
        token = http.post(
            f"{api}/auth/token",
            data={"username": DEMO_RESEARCHER[0], "password": DEMO_RESEARCHER[1]},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        train = pd.read_parquet(
            io.BytesIO(http.get(f"{api}/rounds/{DEMO_SLUG}/data/train.parquet").content)
        )
        schema = infer_schema(train, "income")
        expression = "capital_gain > 0"
        mask = RuleGroup.parse(expression, schema).mask(prepare_features(train, schema))
        model = dump_sklearn_model(train_patch_model(train, schema, mask))
        submitted = http.post(
            f"{api}/rounds/{DEMO_SLUG}/submissions",
            data={"group_expression": expression},
            files={"model": ("h.skops", model)},
            headers=auth,
        )
        assert submitted.status_code == 202, submitted.text
        events_url = demo_server + submitted.json()["submission"]["url"] + "/events"
        last = None
        with http.stream("GET", events_url, headers=auth) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    last = json.loads(line.removeprefix("data: "))
        assert last is not None
        assert last["status"] == "decided"
        assert last["verdict"]["outcome"] == "accepted"
        versions = http.get(f"{api}/rounds/{DEMO_SLUG}/versions").json()
        assert [v["kind"] for v in versions] == ["base", "patch"]
