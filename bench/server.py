"""Start the real server for a benchmark: a child process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Server:
    """A running server: its process and the base URL of its API."""

    process: subprocess.Popen[bytes]
    api: str


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def uvicorn_command(port: int) -> list[str]:
    """One API process (``app.main:create_app``) without access logs."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


@contextmanager
def serve(
    command: Sequence[str], port: int, env: dict[str, str], log: Path, *, timeout: float = 600
) -> Iterator[Server]:
    """Run ``command`` with ``env`` added to the environment until it answers on ``port``;
    stop it on exit. Its output goes to ``log``, shown if it dies while starting."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command), env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server exited:\n{log.read_text()[-3000:]}")
            try:
                httpx.get(f"{api}/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the server did not answer in {timeout:g} s") from None
                time.sleep(0.1)
        yield Server(process, api)
    finally:
        process.terminate()
        process.wait(timeout=60)
