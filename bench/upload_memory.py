"""Service benchmark (run by hand): API resident memory while it receives a large upload.

``uv run python -m bench.upload_memory [--megabytes 100]``

Serves the real app with uvicorn (one process) and uploads a CSV of about ``--megabytes`` MB
(UCI Adult rows resampled) as a round's dataset, streamed from disk by the client. A sampler
reads the server's resident set size (``VmRSS``) every few milliseconds and reports its growth
over the idle server: while the body is being received, and over the whole request (which then
parses, splits and stores the table). The same upload to a route that reads no body (a 404)
is the baseline: what receiving costs when the app ignores the body.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx

from app.auth.models import Role
from app.auth.service import create_user
from app.core.db import make_engine, make_session_factory, transaction
from app.core.migrate import upgrade
from bench.server import free_port, serve, uvicorn_command
from bounty_engine.datasets.adult import ADULT_LABEL, load_adult

MB = 1024 * 1024


def rss_bytes(pid: int) -> int:
    """The resident set size of process ``pid``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS line")


class Sampler:
    """Peak RSS of a process, sampled in a thread; ``mark()`` closes a phase."""

    def __init__(self, pid: int, every: float = 0.002) -> None:
        self.pid, self.every = pid, every
        self.peaks: list[int] = [0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peaks[-1] = max(self.peaks[-1], rss_bytes(self.pid))
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def mark(self) -> None:
        """Start a new phase (its peak starts at the current RSS)."""
        self.peaks.append(rss_bytes(self.pid))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def write_csv(path: Path, megabytes: int) -> int:
    """A CSV of Adult rows resampled to about ``megabytes`` MB; its size in bytes."""
    adult = load_adult()
    per_row = len(adult.to_csv(index=False).encode()) / len(adult)
    rows = int(megabytes * MB / per_row)
    adult.sample(rows, replace=True, random_state=0).to_csv(path, index=False)
    return path.stat().st_size


def chunks(path: Path, sent: threading.Event, size: int = 256 * 1024) -> Iterator[bytes]:
    """The multipart body streamed from ``path``; sets ``sent`` after the last byte."""
    boundary = b"bench-boundary"
    yield b"--" + boundary + b'\r\nContent-Disposition: form-data; name="label"\r\n\r\n'
    yield ADULT_LABEL.encode() + b"\r\n--" + boundary + b"\r\n"
    yield b'Content-Disposition: form-data; name="file"; filename="adult.csv"\r\n'
    yield b"Content-Type: text/csv\r\n\r\n"
    with path.open("rb") as f:
        while chunk := f.read(size):
            yield chunk
    yield b"\r\n--" + boundary + b"--\r\n"
    sent.set()


def upload(url: str, path: Path, headers: dict[str, str], pid: int) -> tuple[int, int, int]:
    """POST ``path`` to ``url``; (status, peak RSS growth while sending, over the request)."""
    sent = threading.Event()
    content_type = "multipart/form-data; boundary=bench-boundary"
    idle = rss_bytes(pid)
    with Sampler(pid) as sampler:
        result: list[httpx.Response] = []
        thread = threading.Thread(
            target=lambda: result.append(
                httpx.post(
                    url,
                    content=chunks(path, sent),
                    headers={**headers, "Content-Type": content_type},
                    timeout=600,
                )
            )
        )
        thread.start()
        sent.wait()
        sampler.mark()
        thread.join()
    receiving, whole = sampler.peaks[0], max(sampler.peaks)
    return result[0].status_code, receiving - idle, whole - idle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bounty-upload-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        email, password = "org@bench.biasbounty.org", "bench-password"
        with transaction(make_session_factory(make_engine(url))) as session:
            create_user(session, email, "Org", password, Role.ORGANIZER)
        csv = Path(tmp) / "adult.csv"
        size = write_csv(csv, args.megabytes)
        port = free_port()
        env = {
            "BOUNTY_DATABASE_URL": url,
            "BOUNTY_STORAGE_DIR": f"{tmp}/artifacts",
            "BOUNTY_MAX_UPLOAD_BYTES": str(4 * size),
        }
        with serve(uvicorn_command(port), port, env, Path(tmp) / "server.log") as server:
            pid = server.process.pid
            login = {"username": email, "password": password}
            token = httpx.post(f"{server.api}/auth/token", data=login).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            slug = httpx.post(
                f"{server.api}/rounds", json={"title": "Upload"}, headers=headers
            ).json()["slug"]
            rows = []
            for name, target in (
                ("baseline: body ignored (404)", f"{server.api}/no-such-route"),
                ("dataset upload", f"{server.api}/rounds/{slug}/dataset"),
            ):
                rows.append((name, *upload(target, csv, headers, pid)))
        print(f"upload: {size / MB:.1f} MB CSV, streamed")
        print(f"{'request':<32} {'status':>6} {'RSS growth receiving':>21} {'whole request':>14}")
        for name, status, receiving, whole in rows:
            print(f"{name:<32} {status:>6} {receiving / MB:>18.1f} MB {whole / MB:>11.1f} MB")


if __name__ == "__main__":
    main()
