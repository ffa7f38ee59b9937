"""The real server for tests that need one: ``bounty demo`` (API + worker) on a free port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from app.seed import DEMO_RESEARCHER


class ServerOutput:
    """What a server prints once it serves, kept line by line for tests to wait on."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._ended = False
        self._changed = threading.Condition()

    def read(self, stream: IO[str]) -> None:
        """Keep every line of ``stream`` until it ends (a thread's target: a full pipe would
        block the server at its next line)."""
        for line in stream:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def _has(self, text: str) -> bool:
        return any(text in line for line in self._lines)

    def wait_for(self, text: str, timeout: float) -> bool:
        """Whether the server prints a line containing ``text`` within ``timeout`` seconds
        (False as soon as it has stopped printing without)."""
        with self._changed:
            self._changed.wait_for(lambda: self._ended or self._has(text), timeout)
            return self._has(text)


def free_port() -> int:
    """A loopback TCP port free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fork_servers_of(pid: int) -> list[int]:
    """The evaluation fork servers that process ``pid`` has started and that run now."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # ended while being read
        if parent == pid and b"multiprocessing.forkserver" in command:
            found.append(int(entry.name))
    return found


NEVER_EVALUATES = "false"
"""``sandbox_warm_up`` for a test server that nothing asks to evaluate: no fork server starts
unless something does."""


@dataclass(frozen=True)
class DemoServer:
    """A running ``bounty demo``: where it answers, what it printed while starting, and what
    it prints since."""

    url: str
    printed: str
    pid: int
    output: ServerOutput


_seeded: Path | None = None
"""A copy of a demo server's folder as it was when it started serving (the demo round seeded,
nothing else done): later servers of this test process start from it, instead of importing
UCI Adult and training the base model again. The first server of each process seeds itself."""


def _keep_as_seeded(folder: Path) -> None:
    global _seeded  # noqa: PLW0603 (once per test process)
    if _seeded is not None:
        return
    template = Path(tempfile.mkdtemp(prefix="bounty-seeded-demo-"))
    source = sqlite3.connect(folder / "bounty.db")
    target = sqlite3.connect(template / "bounty.db")
    with target:
        source.backup(target)  # consistent even while the server runs
    source.close()
    target.close()
    shutil.copytree(folder / "artifacts", template / "artifacts", ignore=_incoming)
    _seeded = template


def _incoming(_: str, names: list[str]) -> list[str]:
    return [name for name in names if name.startswith(".incoming")]


@contextmanager
def demo_server(
    folder: Path, *, wrap: Sequence[str] = (), seeded: bool = True, **settings: str
) -> Iterator[DemoServer]:
    """Run ``bounty demo`` with its database and artifacts in ``folder``; ``settings`` are
    extra ``BOUNTY_*`` variables (``max_model_bytes="1000"`` sets BOUNTY_MAX_MODEL_BYTES).
    ``wrap`` is a command line the demo's is appended to (it must ``exec`` it). With
    ``seeded``, the server starts from the demo round another server of this process seeded
    (``seeded=False``: it seeds its own, as ``make demo`` does on a new machine). A server that
    will never evaluate can skip its fork server's warm-up (seconds of CPU):
    ``sandbox_warm_up=NEVER_EVALUATES``."""
    if seeded and _seeded is not None and not (folder / "bounty.db").exists():
        shutil.copy(_seeded / "bounty.db", folder / "bounty.db")
        shutil.copytree(_seeded / "artifacts", folder / "artifacts")
    port = free_port()
    env = {
        **os.environ,
        "BOUNTY_DATABASE_URL": f"sqlite:///{folder / 'bounty.db'}",
        "BOUNTY_STORAGE_DIR": str(folder / "artifacts"),
        # Tests sign in far more often than people do; the limits have tests of their own.
        "BOUNTY_RATE_SIGN_IN": "10000/60",
        "BOUNTY_RATE_SIGNUP": "10000/60",
        "BOUNTY_RATE_API_KEY": "10000/60",
        **{f"BOUNTY_{name.upper()}": value for name, value in settings.items()},
    }
    process = subprocess.Popen(
        [*wrap, sys.executable, "-m", "app.cli", "demo", "--port", str(port)],
        env=env,
        cwd=folder,
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
    output = ServerOutput()
    threading.Thread(target=output.read, args=(process.stdout,), daemon=True).start()
    if not wrap:  # a wrapped server may keep its files where this process cannot see them
        _keep_as_seeded(folder)
    try:
        yield DemoServer(f"http://127.0.0.1:{port}", "".join(printed), process.pid, output)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
