"""The README's examples for each kind of user, run as written against a real server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from app.seed import DEMO_ORGANIZER
from tests.sdk.conftest import new_api_key
from tests.support.servers import DemoServer

pytestmark = pytest.mark.long
OWN_SERVER = True  # the demo script's pair must be accepted: see tests/sdk/conftest.py

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
README_URL = "http://127.0.0.1:8000"


def readme_block(name: str) -> str:
    """The fenced block after ``<!-- readme-test: name -->`` in the README."""
    found = re.search(rf"<!-- readme-test: {re.escape(name)} -->\n```\w*\n(.*?)```", README, re.S)
    assert found, f"no README block {name!r}"
    return found.group(1)


def fresh_shell_env(**extra: str) -> dict[str, str]:
    """The environment of a new terminal on the machine after ``make demo``: the project's
    virtual environment is not on PATH (commands go through ``uv run``, which finds it from
    the project folder, here given as UV_PROJECT because the commands run elsewhere)."""
    venv_bin = str(Path(sys.executable).parent)
    path = [p for p in os.environ["PATH"].split(os.pathsep) if p != venv_bin]
    env = {**os.environ, "PATH": os.pathsep.join(path), "UV_PROJECT": str(ROOT)}
    for name in ("VIRTUAL_ENV", "BOUNTY_SERVER", "BOUNTY_API_KEY"):
        env.pop(name, None)
    env.update(extra)
    if shutil.which("uv", path=env["PATH"]) is None:  # bootstrap installed it as a module only
        shim = Path(tempfile.mkdtemp(prefix="readme-uv-"))
        (shim / "uv").write_text('#!/bin/sh\nexec python3 -m uv "$@"\n')
        (shim / "uv").chmod(0o755)
        env["PATH"] = f"{shim}{os.pathsep}{env['PATH']}"
    return env


def commands(block: str) -> list[str]:
    """A block's commands: one per line, a trailing backslash joining a line to the next."""
    return [line for line in block.replace("\\\n", " ").strip().splitlines() if line.strip()]


_MARK = "--- readme-test: next command ---"


def run_lines(
    block: str, server: DemoServer, api_key: str, folder: Path, cwd: Path | None = None
) -> list[str]:
    """Run a README block in ``folder`` (with a copy of examples/; or in ``cwd`` as it is) as a
    user would, in one shell (so a variable set by one command is seen by the next), stopping
    at the first failure; each command's output."""
    if cwd is None:
        shutil.copytree(ROOT / "examples", folder / "examples")
    folder.mkdir(exist_ok=True)
    env = fresh_shell_env(BOUNTY_API_KEY=api_key, BOUNTY_CONFIG_DIR=str(folder / "config"))
    lines = [line.replace(README_URL, server.url) for line in commands(block)]
    script = "set -eo pipefail\n" + "".join(f"{line}\necho '{_MARK}'\n" for line in lines)
    done = subprocess.run(
        ["bash", "-c", script],
        check=False,
        cwd=cwd or folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    outputs = done.stdout.split(f"{_MARK}\n")
    failed = lines[len(outputs) - 1] if len(outputs) <= len(lines) else ""
    assert done.returncode == 0, f"{failed}\n{outputs[-1]}\n{done.stderr}"
    return outputs[: len(lines)]


def test_every_block_of_the_readme_is_run_by_a_test() -> None:
    blocks = re.findall(r"(?:<!-- readme-test: ([^>]+) -->\n)?```\w*\n", README)
    # Every opening fence has its marker (closing fences are bare ``` lines, not matched here).
    names = [name for name in blocks if name]
    assert len(names) == README.count("<!-- readme-test:")
    assert set(names) == {
        "setup",
        "demo-script",
        "participant",
        "examples/sdk_participant.py",
        "organizer",
        "examples/load_bundle.py",
    }
    openings = re.findall(r"^```\w+$", README, re.M)
    assert len(openings) == len(names), "a README block without a readme-test marker"


def test_the_setup_block_is_the_makefile_and_ci_entry_points() -> None:
    # make demo and make test run for real in CI and on fresh machines; here, that the block
    # names exactly those two targets and that CI runs the second.
    lines = [line.split("#")[0].strip() for line in commands(readme_block("setup"))]
    assert lines == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M)
    assert re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


# The demo script and the organizer's commands share a server: the organizer's work is on a
# round of its own. The SDK example submits the demo script's pair, so it has a server of its own.


def test_the_demo_script(server: DemoServer, tmp_path: Path) -> None:
    outputs = run_lines(readme_block("demo-script"), server, "", tmp_path)
    assert "accepted" in outputs[1]  # the local check
    sent = json.loads(outputs[2])
    assert sent["submission"]["status"] in {"queued", "running", "decided"}
    assert (tmp_path / "h.skops").stat().st_size > 0


# The participant block runs in tests/sdk/test_client_package.py, as a participant who installed
# the client alone types it (the same commands without `uv run`): once is enough for CI's time.


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


def test_the_organizer_commands(server: DemoServer, tmp_path: Path) -> None:
    key = new_api_key(server, *DEMO_ORGANIZER)
    outputs = run_lines(readme_block("organizer"), server, key, tmp_path)
    assert "round planted-example (open)" in outputs[2]
    assert "now closed" in outputs[4]
    assert (tmp_path / "planted-model.zip").stat().st_size > 0
    assert "overfitting gap" in outputs[6]
    # The README's bundle example, on the model just exported and the data just made.
    assert (
        readme_block("examples/load_bundle.py")
        == (ROOT / "examples" / "load_bundle.py").read_text()
    )
    loaded = run_lines(
        "uv run python examples/load_bundle.py planted-model.zip examples/planted.csv\n",
        server,
        key,
        tmp_path / "bundle",
        cwd=tmp_path,
    )
    assert "predictions: [" in loaded[0]
    assert "from planted-example" in loaded[0]
