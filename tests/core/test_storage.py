"""The artifact store: local directory and S3 (against a real local S3 server, moto)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from app.core.settings import Settings
from app.core.storage import (
    INCOMING,
    STALE_INCOMING_SECONDS,
    ArtifactStore,
    LocalStore,
    S3Store,
    StorageError,
    make_store,
)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server._server.server_port}"
    finally:
        server.stop()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return LocalStore(tmp_path / "blobs")
    settings = Settings(
        storage="s3",
        s3_bucket=f"bucket-{os.getpid()}-{tmp_path.name.lower()}"[:60],
        s3_endpoint_url=request.getfixturevalue("s3_endpoint"),
        s3_access_key_id="test",
        s3_secret_access_key="test",
    )
    made = make_store(settings)
    assert isinstance(made, S3Store)
    return made


def test_blobs_are_content_addressed(store: ArtifactStore, tmp_path: Path) -> None:
    data = b"model bytes" * 1000
    digest = store.put_bytes(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.exists(digest)
    assert store.read_bytes(digest) == data
    path = tmp_path / "file.bin"
    path.write_bytes(b"another")
    other = store.put_file(path)
    assert store.put_file(path) == other  # storing twice is a no-op
    with store.local_copy(other) as copy:
        assert copy.read_bytes() == b"another"
    assert sorted(store.digests()) == sorted([digest, other])


def test_missing_and_malformed_digests(store: ArtifactStore) -> None:
    absent = "0" * 64
    assert not store.exists(absent)
    with pytest.raises(KeyError):
        store.read_bytes(absent)
    assert not store.exists("../../etc/passwd")
    with pytest.raises(KeyError):
        store.read_bytes("../../etc/passwd")


def test_unwritable_local_store_raises_storage_error(tmp_path: Path) -> None:
    root = tmp_path / "readonly"
    store = LocalStore(root)
    root.chmod(0o500)
    try:
        if os.access(root, os.W_OK):  # root ignores permissions: use a path that cannot exist
            store = LocalStore(tmp_path)
            store.root = Path("/proc/bounty-cannot-write-here")
        with pytest.raises(StorageError, match="cannot write"):
            store.put_bytes(b"x")
        assert list(store.digests()) == []
    finally:
        root.chmod(0o700)


def test_a_killed_writers_temporary_file_is_never_a_blob_and_is_swept_when_stale(
    tmp_path: Path,
) -> None:
    store = LocalStore(tmp_path / "store")
    sha = store.put_bytes(b"kept")
    assert list((tmp_path / "store" / INCOMING).iterdir()) == []  # renamed into place
    stale = tmp_path / "store" / INCOMING / "blob-killed"
    stale.write_bytes(b"half a blob")
    os.utime(stale, (time.time() - 2 * STALE_INCOMING_SECONDS,) * 2)
    fresh = tmp_path / "store" / INCOMING / "blob-writing"
    fresh.write_bytes(b"still being written")
    assert list(store.digests()) == [sha]
    LocalStore(tmp_path / "store")  # opening the store sweeps what is stale
    assert not stale.exists()
    assert fresh.exists()
    assert list(LocalStore(tmp_path / "store").digests()) == [sha]
