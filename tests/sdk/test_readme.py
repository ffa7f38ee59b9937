"""The README's examples for each kind of user, run as written against a real server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.seed import DEMO_ORGANIZER
from tests.sdk.conftest import new_api_key
from tests.support.servers import DemoServer, demo_server

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
README_URL = "http://127.0.0.1:8000"


def readme_block(name: str) -> str:
    """The fenced block after ``<!-- readme-test: name -->`` in the README."""
    found = re.search(rf"<!-- readme-test: {re.escape(name)} -->\n```\w*\n(.*?)```", README, re.S)
    assert found, f"no README block {name!r}"
    return found.group(1)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[DemoServer]:
    """A server of its own: the examples submit the same pairs."""
    folder = tmp_path / "server"
    folder.mkdir()
    with demo_server(folder, worker_poll_seconds="0.1") as running:
        yield running


def run_lines(block: str, server: DemoServer, api_key: str, folder: Path) -> list[str]:
    """Run each command of a README block in ``folder`` as a user would; their outputs."""
    shutil.copytree(ROOT / "examples", folder / "examples")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "BOUNTY_API_KEY": api_key,
        "BOUNTY_CONFIG_DIR": str(folder / "config"),
    }
    env.pop("BOUNTY_SERVER", None)
    outputs = []
    for line in block.strip().splitlines():
        command = line.replace(README_URL, server.url)
        done = subprocess.run(
            ["bash", "-c", command],
            check=False,
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    return outputs


def test_the_participant_commands(fresh: DemoServer, api_key_of, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    outputs = run_lines(readme_block("participant"), fresh, api_key_of(fresh), tmp_path)
    assert "Logged in" in outputs[0]
    assert "adult-income-demo" in outputs[1]
    assert "local verdict on the train split: accepted" in outputs[5]
    assert "accepted (accepted)" in outputs[6]
    assert "holdout loss by version" in outputs[-1]
    assert (tmp_path / "train.parquet").stat().st_size > 0


def test_the_sdk_example(fresh: DemoServer, api_key_of) -> None:  # type: ignore[no-untyped-def]
    assert (
        readme_block("examples/sdk_participant.py")
        == (ROOT / "examples" / "sdk_participant.py").read_text()
    )
    env = {**os.environ, "BOUNTY_SERVER": fresh.url, "BOUNTY_API_KEY": api_key_of(fresh)}
    done = subprocess.run(
        [sys.executable, ROOT / "examples" / "sdk_participant.py"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "local check: accepted" in done.stdout
    assert "verdict: accepted" in done.stdout


def test_the_organizer_commands(fresh: DemoServer, tmp_path: Path) -> None:
    key = new_api_key(fresh, *DEMO_ORGANIZER)
    outputs = run_lines(readme_block("organizer"), fresh, key, tmp_path)
    assert "round planted-example (open)" in outputs[2]
    assert "now closed" in outputs[4]
    assert (tmp_path / "planted-model.zip").stat().st_size > 0
    assert "overfitting gap" in outputs[6]
