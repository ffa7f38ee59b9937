"""The client distribution on its own: installed in a fresh virtual environment with the engine
and nothing of the server (its locked dependencies, exported by uv), it imports, finds none of
the server's packages, loads an exported model bundle, and runs the README's participant
session against a real server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bounty_client import BountyClient
from bounty_engine.datasets.adult import load_adult
from tests.sdk.test_readme import README_URL, ROOT, commands, readme_block
from tests.support.servers import DemoServer

pytestmark = pytest.mark.long
OWN_SERVER = True  # the README session's pair must be accepted: see tests/sdk/conftest.py

SERVER_PACKAGES = ("app", "fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn", "psycopg")


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else ["python3", "-m", "uv"]


@pytest.fixture(scope="module")
def client_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a new virtual environment holding the client, the engine and their
    locked dependencies only."""
    folder = tmp_path_factory.mktemp("client-venv")
    requirements = folder / "requirements.txt"
    exported = subprocess.run(
        [
            *_uv(),
            "export",
            "--frozen",
            "--no-dev",
            "--package",
            "bias-bounty-client",
            "--no-emit-workspace",
            "--no-hashes",
            "--quiet",
            "--output-file",
            str(requirements),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert exported.returncode == 0
    venv = folder / "venv"
    python = venv / "bin" / "python"
    for command in (
        ["venv", "--quiet", "--python", sys.executable, str(venv)],
        ["pip", "install", "--quiet", "--python", str(python), "-r", str(requirements)],
        [
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--python",
            str(python),
            str(ROOT / "engine"),
            str(ROOT / "clients" / "python"),
        ],
    ):
        done = subprocess.run(
            [*_uv(), *command], cwd=folder, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, done.stderr
    # Compiled as installers do, so that each command starts compiled (this machine may not
    # write bytecode as it imports), but without the packages' own test suites: 40% of the
    # files, which uv's --compile-bytecode compiled too.
    compiled = subprocess.run(
        [str(python), "-m", "compileall", "-q", "-j0", "-x", "/tests/", str(venv / "lib")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    return python


def _run(python: Path, code: str, cwd: Path) -> str:
    done = subprocess.run(
        [str(python), "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_client_has_none_of_the_servers_packages(client_python: Path, tmp_path: Path) -> None:
    assert "bias-bounty-client" in (ROOT / "clients" / "python" / "pyproject.toml").read_text()
    found = _run(
        client_python,
        "import importlib.util, bounty_client, bounty_client.entry, bounty_client.hunter\n"
        f"print([m for m in {SERVER_PACKAGES!r} if importlib.util.find_spec(m)])",
        tmp_path,  # not the repository, whose app/ would be importable from the working folder
    )
    assert found.strip() == "[]"
    commands_shown = subprocess.run(
        [str(client_python.parent / "bounty"), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert " submit " in commands_shown
    assert " demo " not in commands_shown  # the server's commands come with the server only


def test_an_exported_bundle_loads_with_the_client_alone(
    client_python: Path, server: DemoServer, organizer_key: str, tmp_path: Path
) -> None:
    bundle = tmp_path / "model.zip"
    with BountyClient(server.url, api_key=organizer_key) as client:
        client.export("adult-income-demo", bundle)
    rows = tmp_path / "rows.csv"
    load_adult().head(20).to_csv(rows, index=False)
    predicted = _run(
        client_python,
        "import json, pandas as pd\nfrom bounty_client import load_bundle\n"
        f"model = load_bundle({str(bundle)!r})\n"
        f"print(json.dumps(model.predict(pd.read_csv({str(rows)!r})).tolist()))",
        tmp_path,
    )
    from bounty_engine.bundle import load_bundle

    # The same predictions as the engine in this (server's) environment gives.
    assert json.loads(predicted) == load_bundle(bundle).predict(pd.read_csv(rows)).tolist()


def test_the_readme_participant_session_runs_with_the_client_alone(
    client_python: Path, server: DemoServer, api_key: str, tmp_path: Path
) -> None:
    # As a participant who installed the client would type it: without `uv run`.
    lines = [line.removeprefix("uv run ") for line in commands(readme_block("participant"))]
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    venv_bin = str(client_python.parent)
    path = [
        p for p in os.environ["PATH"].split(os.pathsep) if p != str(Path(sys.executable).parent)
    ]
    env = {
        **os.environ,
        "PATH": os.pathsep.join([venv_bin, *path]),
        "BOUNTY_API_KEY": api_key,
        "BOUNTY_CONFIG_DIR": str(tmp_path / "config"),
    }
    env.pop("BOUNTY_SERVER", None)
    script = "set -eo pipefail\n" + "\n".join(
        line.replace(README_URL, server.url) for line in lines
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert "Logged in" in done.stdout
    assert "adult-income-demo" in done.stdout
    assert "local verdict on the train split: accepted" in done.stdout
    assert "accepted (accepted)" in done.stdout
    assert "holdout loss by version" in done.stdout
    assert (tmp_path / "train.parquet").stat().st_size > 0
