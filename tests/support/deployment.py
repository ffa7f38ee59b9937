"""A real multi-process deployment for soak and load tests: API processes, workers and a
database (SQLite file or a PostgreSQL cluster of its own), each a real ``bounty`` command.

Every process is started with ``python -m app.cli ...`` in a session of its own (so that a kill
takes its sandbox fork server with it), with its output appended to ``folder/logs/<name>.log``
(a file never blocks a child the way an unread pipe does).
"""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from tests.support.postgres import PostgresCluster
from tests.support.servers import free_port

HEALTH_PATH = "/api/v1/health"
START_SECONDS = 180.0  # a process start imports the engine: seconds on a busy machine
STOP_SECONDS = 15.0
ORGANIZER_PASSWORD = "soak-organizer-password"

# Tests act far faster than people: the rate limits have tests of their own. Workers share no
# notifier across processes, so they poll; a short lease lets a killed worker's job move on.
DEFAULTS = {
    "BOUNTY_RATE_SIGN_IN": "100000/60",
    "BOUNTY_RATE_SIGNUP": "100000/60",
    "BOUNTY_RATE_API_KEY": "100000/60",
    "BOUNTY_WORKER_POLL_SECONDS": "0.2",
    "BOUNTY_WORKER_LEASE_SECONDS": "4",
}


class DeploymentError(RuntimeError):
    """A process of the deployment failed to start or stop; the message has its log's tail."""


@dataclass
class _Child:
    """One running ``bounty`` process and the log it writes to."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the process's whole session (it, its fork server, its sandbox children)."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited in ``STOP_SECONDS``."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_SECONDS)
        self.kill()  # also what is left of its session


@dataclass
class Deployment:
    """The running deployment: where the APIs answer, the database, the store, an organizer."""

    api_urls: list[str]
    database_url: str
    storage_dir: Path
    organizer: tuple[str, str]
    folder: Path
    env: dict[str, str]
    cluster: PostgresCluster | None = None
    _apis: list[_Child] = field(default_factory=list)
    _workers: list[_Child | None] = field(default_factory=list)
    _names: int = 0

    # --- processes -------------------------------------------------------------------------

    def _spawn(self, name: str, *args: str) -> _Child:
        logs = self.folder / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", *args],
                env=self.env,
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return _Child(name, process, log)

    def run_cli(self, *args: str) -> str:
        """Run a ``bounty`` command to its end with the deployment's environment; its output."""
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            env=self.env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=START_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            raise DeploymentError(f"bounty {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def _start_api(self, index: int) -> _Child:
        port = self.api_urls[index].rsplit(":", 1)[1]
        child = self._spawn(f"api-{index}", "api", "--port", port)
        self._wait_healthy(index, child)
        return child

    def _wait_healthy(self, index: int, child: _Child) -> None:
        url = self.api_urls[index] + HEALTH_PATH
        deadline = time.monotonic() + START_SECONDS
        with httpx.Client(timeout=2.0) as http:
            while time.monotonic() < deadline:
                if not child.alive:
                    raise DeploymentError(f"{child.name} exited while starting:\n{child.tail()}")
                with suppress(httpx.TransportError):
                    if http.get(url).status_code == 200:
                        return
                time.sleep(0.1)  # polling interval of the health check, not a synchronization
        child.kill()
        raise DeploymentError(f"{child.name} did not answer {url} in time:\n{child.tail()}")

    def start_worker(self) -> int:
        """Start one more ``bounty worker``; its index (indices are never reused)."""
        index = len(self._workers)
        self._workers.append(self._spawn(f"worker-{index}", "worker"))
        return index

    def kill_worker(self, index: int) -> None:
        """SIGKILL worker ``index`` (with its sandbox) and reap it."""
        child = self._workers[index]
        if child is None:
            raise ValueError(f"worker {index} is not running")
        child.kill()
        self._workers[index] = None

    def worker_pid(self, index: int) -> int:
        """The process id of worker ``index`` (its lease owner name contains it)."""
        child = self._workers[index]
        if child is None:
            raise ValueError(f"worker {index} is not running")
        return child.process.pid

    @property
    def workers_started(self) -> int:
        """How many worker processes were started, killed ones included."""
        return len(self._workers)

    def live_workers(self) -> list[int]:
        """The indices of the workers running now."""
        return [i for i, child in enumerate(self._workers) if child is not None and child.alive]

    @property
    def worker_count(self) -> int:
        """How many workers are running."""
        return len(self.live_workers())

    def restart_api(self, index: int, *, hard: bool = True) -> None:
        """Stop API ``index`` (SIGKILL, or SIGTERM with ``hard=False``) and start it again on
        the same port; returns once it answers its health route."""
        child = self._apis[index]
        if hard:
            child.kill()
        else:
            child.stop()
        self._apis[index] = self._start_api(index)

    def restart_database(self, *, mode: Literal["fast", "immediate"] = "fast") -> None:
        """Restart the PostgreSQL server (``immediate`` is a crash: recovery on start)."""
        if self.cluster is None:
            raise ValueError("only a PostgreSQL deployment has a server to restart")
        pg_ctl(self.cluster, "-m", mode, "restart")

    def api_alive(self, index: int) -> bool:
        """Whether API process ``index`` is running."""
        return self._apis[index].alive

    def logs(self) -> dict[str, str]:
        """The tail of every process's log, by process name (for failure messages)."""
        children = [*self._apis, *(c for c in self._workers if c is not None)]
        return {child.name: child.tail() for child in children}

    def stop(self, *, kill: bool = False) -> None:
        """Stop every API and worker process, with SIGTERM (SIGKILL after ``STOP_SECONDS``) or
        at once with SIGKILL (the database is stopped by ``deployment``)."""
        children = [*self._apis, *(c for c in self._workers if c is not None)]
        for child in children:
            if child.alive:
                child.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        for child in children:
            child.stop()
        self._workers = [None] * len(self._workers)


def pg_ctl(cluster: PostgresCluster, *args: str, settings: Mapping[str, str] | None = None) -> None:
    """Run ``pg_ctl`` on the cluster's server (waiting for it to finish): ``"restart"``,
    ``"stop"``, ``"-m", "immediate", "stop"``, ``"start"``, ...

    ``start`` and ``restart`` reuse the options of the server's last start (``postmaster.opts``)
    with ``settings`` (``-c name=value``) changed, and ``-l`` keeps the server's output out of
    our pipes (a server holding them would make this call wait forever).
    """
    prefix = ["runuser", "-u", "postgres", "--"] if cluster.as_root else []
    command = [*prefix, str(cluster.bin / "pg_ctl"), "-D", str(cluster.data), "-w", *args]
    if args[-1] in ("start", "restart"):
        last = shlex.split((cluster.data / "postmaster.opts").read_text())[1:]
        pairs = list(zip(last[::2], last[1::2], strict=True))
        changed = dict(settings or {})
        options = [
            (flag, value)
            for flag, value in pairs
            if flag != "-D" and not (flag == "-c" and value.split("=")[0] in changed)
        ] + [("-c", f"{name}={value}") for name, value in changed.items()]
        command[-1:-1] = ["-l", str(cluster.root / "log"), "-o", shlex.join(sum(options, ()))]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
        text=True,
        cwd=cluster.root,
        timeout=START_SECONDS,
    )


def durable(cluster: PostgresCluster) -> PostgresCluster:
    """Restart the server with synchronous commits: the test cluster's ``synchronous_commit=off``
    loses the last commits when the server crashes (an ``immediate`` stop), which is the
    configuration's choice, not a fault of the application."""
    pg_ctl(cluster, "restart", settings={"synchronous_commit": "on"})
    return cluster


def _environment(
    database_url: str, storage_dir: Path, settings: Mapping[str, str] | None
) -> dict[str, str]:
    extra = {
        (name if name.startswith("BOUNTY_") else f"BOUNTY_{name.upper()}"): value
        for name, value in (settings or {}).items()
    }
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("BOUNTY_")}
    return {
        **inherited,
        **DEFAULTS,
        "BOUNTY_DATABASE_URL": database_url,
        "BOUNTY_STORAGE_DIR": str(storage_dir),
        # Every API process must accept the tokens the others sign.
        "BOUNTY_SECRET_KEY": secrets.token_urlsafe(48),
        "BOUNTY_FRONTEND_DIR": str(storage_dir.parent / "no-web-app"),
        **extra,
    }


@contextmanager
def deployment(
    folder: Path,
    *,
    database: Literal["sqlite", "postgresql"],
    api_processes: int = 1,
    workers: int = 1,
    settings: Mapping[str, str] | None = None,
) -> Iterator[Deployment]:
    """Migrate a new database, create an organizer, start ``api_processes`` APIs (each on a
    free loopback port, healthy before this yields) and ``workers`` workers; stop them all,
    and the database, on exit (failure included).

    ``settings`` are extra ``BOUNTY_*`` variables, by setting name (``worker_lease_seconds``)
    or by variable name. ``create-organizer`` migrates the database first (as ``db upgrade``
    does), which saves a process start.
    """
    folder.mkdir(parents=True, exist_ok=True)
    cluster = durable(PostgresCluster().start()) if database == "postgresql" else None
    try:
        url = cluster.url if cluster is not None else f"sqlite:///{folder / 'bounty.db'}"
        storage = folder / "artifacts"
        found = Deployment(
            api_urls=[f"http://127.0.0.1:{free_port()}" for _ in range(api_processes)],
            database_url=url,
            storage_dir=storage,
            organizer=("organizer@soak.example.org", ORGANIZER_PASSWORD),
            folder=folder,
            env=_environment(url, storage, settings),
            cluster=cluster,
        )
        try:
            # Start the APIs (which touch the database only to answer requests) while the
            # database is migrated, then the workers; wait on none before all are started.
            port_of = [u.rsplit(":", 1)[1] for u in found.api_urls]
            found._apis = [
                found._spawn(f"api-{i}", "api", "--port", p) for i, p in enumerate(port_of)
            ]
            email, password = found.organizer
            found.run_cli("create-organizer", email, "--password", password)
            for _ in range(workers):
                found.start_worker()
            for i, child in enumerate(found._apis):
                found._wait_healthy(i, child)
            yield found
        finally:
            found.stop()
    finally:
        if cluster is not None:
            cluster.stop()
