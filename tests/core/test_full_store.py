"""A full or read-only artifact store, for real: every write path answers 507 or 503 with a
clear reason, stores nothing half-way, and works again once the store does.

The demo server runs in a private mount namespace whose artifact directory is a small tmpfs,
so the test can fill that file system (through ``/proc/<pid>/root``) and remount it read-only
(with ``nsenter``) while the server runs: real ENOSPC and EROFS, no mocks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.core.storage import INCOMING
from app.seed import DEMO_ORGANIZER, DEMO_RESEARCHER, DEMO_SLUG
from bounty_client import BountyClient
from bounty_client.client import BountyError
from bounty_engine.baseline import train_default_model
from bounty_engine.data import infer_schema
from bounty_engine.models import dump_sklearn_model
from tests.support.rounds import LABEL, csv_bytes, synthetic_frame
from tests.support.servers import demo_server

STORE_BYTES = 64 * 1024 * 1024


def _namespace_flags() -> list[str]:
    """Mount-namespace flags of unshare/nsenter: a user namespace too when not root."""
    return ["--mount"] if os.geteuid() == 0 else ["--user", "--mount"]


@dataclass
class Store:
    """The server's artifact directory as the server sees it."""

    pid: int
    path: Path  # inside the server's mount namespace

    @property
    def seen(self) -> Path:
        """The same directory from outside the namespace."""
        return Path(f"/proc/{self.pid}/root") / self.path.relative_to("/")

    def fill(self) -> None:
        """Write a filler file until not one more byte fits."""
        with (self.seen / "filler").open("wb", buffering=0) as out:
            for size in (1024 * 1024, 4096, 1):
                chunk = b"\0" * size
                try:
                    while True:
                        out.write(chunk)
                except OSError:
                    pass

    def free(self) -> None:
        (self.seen / "filler").unlink()

    def remount(self, mode: str) -> None:
        subprocess.run(
            [
                "nsenter",
                f"--target={self.pid}",
                *_namespace_flags(),
                "--",
                "mount",
                "-o",
                f"remount,{mode}",
                str(self.path),
            ],
            check=True,
        )

    def leftovers(self) -> list[str]:
        """Temporary files of interrupted writes still in the store."""
        return [p.name for p in [*self.seen.glob("??/.*"), *(self.seen / INCOMING).iterdir()]]


@dataclass
class Demo:
    url: str
    store: Store
    organizer: BountyClient
    researcher: BountyClient


def _token(url: str, email: str, password: str) -> str:
    answer = httpx.post(
        f"{url}/api/v1/auth/token", data={"username": email, "password": password}, timeout=30
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


@pytest.fixture
def demo() -> Iterator[Demo]:
    # A folder the server's namespace can mount on (pytest's tmp_path works too, but keep the
    # mount point short-lived and ours alone).
    folder = Path(tempfile.mkdtemp(prefix="bounty-full-store-"))
    store_dir = folder / "artifacts"
    store_dir.mkdir()
    wrap = [
        "unshare", *_namespace_flags(), "--propagation", "private", "--",
        "sh", "-c", 'mount -t tmpfs -o size="$1" tmpfs "$2" && shift 2 && exec "$@"', "sh",
        str(STORE_BYTES), str(store_dir),
    ]  # fmt: skip
    try:
        with demo_server(folder, wrap=wrap, seeded=False, worker_poll_seconds="0.2") as server:
            clients = [
                BountyClient(server.url, api_key=_token(server.url, *who), retries=0)
                for who in (DEMO_ORGANIZER, DEMO_RESEARCHER)
            ]
            yield Demo(server.url, Store(server.pid, store_dir), *clients)
            for client in clients:
                client.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _refused(name: str, call: Callable[[], object]) -> BountyError:
    try:
        call()
    except BountyError as error:
        return error
    pytest.fail(f"{name}: the write succeeded")


def test_every_write_path_refuses_cleanly_when_the_store_is_full_or_read_only(
    demo: Demo, tmp_path: Path
) -> None:
    org, res = demo.organizer, demo.researcher
    frame = synthetic_frame(600)
    data = tmp_path / "data.csv"
    data.write_bytes(csv_bytes(frame))
    other = tmp_path / "other.csv"  # new bytes: a store that already has a blob needs no space
    other.write_bytes(csv_bytes(synthetic_frame(600, seed=1)))
    schema = infer_schema(frame, LABEL)
    base_model = dump_sklearn_model(train_default_model(frame, schema))
    adult = res.train_data(DEMO_SLUG).head(3000)
    patch = dump_sklearn_model(train_default_model(adult, res.schema(DEMO_SLUG)))
    # Prepared while the store still takes files: a round with data (for the base-model paths)
    # and one ready to open (opening writes the model's predictions).
    with_data = org.create_round({"title": "Has data"}).slug
    org.upload_dataset(with_data, label=LABEL, file=data)
    ready = org.create_round({"title": "Ready"}).slug
    org.upload_dataset(ready, label=LABEL, file=data)
    org.set_base_model(ready)
    empty = org.create_round({"title": "Empty"}).slug
    before = len(res.submissions(DEMO_SLUG))
    quota = res.quota(DEMO_SLUG).remaining

    writes: dict[str, Callable[[], object]] = {
        "submission": lambda: res.submit(
            DEMO_SLUG, patch, group="age > 60", idempotency_key="full-store"
        ),
        "dataset": lambda: org.upload_dataset(empty, label=LABEL, file=other),
        "base model upload": lambda: org.set_base_model(with_data, base_model),
        "default base model": lambda: org.set_base_model(with_data),
        "open": lambda: org.set_status(ready, "open"),
    }

    def all_refused(status: int, slug: str) -> None:
        for name, write in writes.items():
            error = _refused(name, write)
            assert (error.status, error.type) == (status, f"/problems/{slug}"), name
            assert "nothing was stored" in error.detail, name
        # Nothing half-way: no submission, quota untouched, rounds unchanged, no partial files.
        assert len(res.submissions(DEMO_SLUG)) == before
        assert res.quota(DEMO_SLUG).remaining == quota
        assert org.round(empty).data is None
        assert org.round(with_data).base_model is None
        assert org.round(ready).status == "draft"
        assert demo.store.leftovers() == []

    demo.store.fill()
    all_refused(507, "storage-full")
    demo.store.free()
    demo.store.remount("ro")
    all_refused(503, "storage-unavailable")
    demo.store.remount("rw")

    # The same requests succeed once the store takes files again: nothing was lost on the way.
    accepted = res.submit(DEMO_SLUG, patch, group="age > 60", idempotency_key="full-store")
    assert res.wait(accepted.submission.id, timeout=120).status == "decided"
    org.upload_dataset(empty, label=LABEL, file=other)
    assert org.set_base_model(with_data, base_model).source == "upload"
    assert org.set_status(ready, "open").status == "open"
    assert len(res.submissions(DEMO_SLUG)) == before + 1
    assert res.quota(DEMO_SLUG).remaining == quota - 1
