"""The artifact store: immutable blobs addressed by their sha256 (uploads, splits, outputs).

``LocalStore`` keeps them in a directory (the embedded default); ``S3Store`` in an S3-compatible
bucket that workers on other machines can reach. Both are written only through ``put_file`` /
``put_bytes``, which store a blob under its own digest, so a half-written blob is never visible.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from pydantic import SecretStr

from app.core.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_CHUNK = 1024 * 1024


class StorageError(RuntimeError):
    """The store cannot be read or written (full disk, unreachable bucket, ...).

    ``full`` tells a store out of space (the client may retry once space is freed: 507) from
    one that cannot be written at all right now (read-only, permissions, unreachable: 503).
    """

    def __init__(self, message: str, *, full: bool = False) -> None:
        super().__init__(message)
        self.full = full

    @classmethod
    def from_os_error(cls, what: str, exc: OSError) -> StorageError:
        """The error for an ``OSError`` met while writing ``what``."""
        full = exc.errno in {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
        return cls(f"cannot write {what}: {exc.strerror or exc}", full=full)


class ArtifactStore(Protocol):
    """Content-addressed blob storage."""

    def put_file(self, path: Path, sha256: str | None = None) -> str:
        """Store the file at ``path`` and return its sha256 (computed if not given)."""
        ...

    def put_bytes(self, data: bytes) -> str:
        """Store ``data`` and return its sha256."""
        ...

    def read_bytes(self, sha256: str) -> bytes:
        """The blob's bytes; ``KeyError`` if absent."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""
        ...

    def local_copy(self, sha256: str) -> AbstractContextManager[Path]:
        """A context manager giving a local file with the blob's bytes."""
        ...

    def digests(self) -> Iterator[str]:
        """Every stored digest."""
        ...


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_digest(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise KeyError(sha256)
    return sha256


INCOMING = ".incoming"
STALE_INCOMING_SECONDS = 3600.0


class LocalStore:
    """Blobs as files ``<root>/<aa>/<sha256>``, written through ``<root>/.incoming/``.

    A writer killed mid-write (SIGKILL, power loss) leaves its temporary file in ``.incoming``,
    never under a digest; opening the store removes such files once they are an hour old (a
    live writer's file is younger).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.incoming = root / INCOMING
        self.incoming.mkdir(parents=True, exist_ok=True)
        self.sweep_incoming(STALE_INCOMING_SECONDS)

    def sweep_incoming(self, older_than: float) -> int:
        """Remove temporary files of interrupted writes older than ``older_than`` seconds;
        returns how many were removed."""
        cutoff = time.time() - older_than
        removed = 0
        for path in [*self.incoming.iterdir(), *self.root.glob("??/.incoming-*")]:
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # another process swept it first
                continue
        return removed

    def _path(self, sha256: str) -> Path:
        sha256 = _check_digest(sha256)
        return self.root / sha256[:2] / sha256

    def put_file(self, path: Path, sha256: str | None = None) -> str:
        sha256 = sha256 or file_sha256(path)

        def copy(out: BinaryIO) -> None:
            with path.open("rb") as src:
                shutil.copyfileobj(src, out, _CHUNK)

        self._write(sha256, copy)
        return sha256

    def put_bytes(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        self._write(sha256, lambda out: out.write(data))
        return sha256

    def _write(self, sha256: str, fill: Callable[[BinaryIO], object]) -> None:
        """Write the blob through a temporary file renamed into place: all or nothing."""
        target = self._path(sha256)
        if target.exists():
            return
        tmp: str | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.incoming, prefix="blob-")
            with os.fdopen(fd, "wb") as out:
                fill(out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            raise StorageError.from_os_error("to the artifact store", exc) from exc

    def read_bytes(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise KeyError(sha256) from exc

    def exists(self, sha256: str) -> bool:
        try:
            return self._path(sha256).exists()
        except KeyError:
            return False

    @contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        path = self._path(sha256)
        if not path.exists():
            raise KeyError(sha256)
        yield path

    def digests(self) -> Iterator[str]:
        for path in self.root.glob("??/*"):
            if not path.name.startswith("."):
                yield path.name


class S3Store:
    """Blobs as objects ``<prefix><sha256>`` in an S3-compatible bucket."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "artifacts/") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        """A store for the bucket the settings name, created if missing."""
        import boto3  # noqa: PLC0415 (only deployments that use S3 pay for importing boto3)

        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=_secret(settings.s3_access_key_id),
            aws_secret_access_key=_secret(settings.s3_secret_access_key),
        )
        store = cls(client, settings.s3_bucket)
        try:
            client.head_bucket(Bucket=settings.s3_bucket)
        except client.exceptions.ClientError:
            client.create_bucket(Bucket=settings.s3_bucket)
        return store

    def _key(self, sha256: str) -> str:
        return self.prefix + _check_digest(sha256)

    def put_file(self, path: Path, sha256: str | None = None) -> str:
        sha256 = sha256 or file_sha256(path)
        if not self.exists(sha256):
            try:
                self.client.upload_file(str(path), self.bucket, self._key(sha256))
            except Exception as exc:
                raise StorageError(f"cannot write to the artifact bucket: {exc}") from exc
        return sha256

    def put_bytes(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.exists(sha256):
            try:
                self.client.put_object(Bucket=self.bucket, Key=self._key(sha256), Body=data)
            except Exception as exc:
                raise StorageError(f"cannot write to the artifact bucket: {exc}") from exc
        return sha256

    def read_bytes(self, sha256: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))
        except self.client.exceptions.NoSuchKey as exc:
            raise KeyError(sha256) from exc
        return response["Body"].read()

    def exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except (self.client.exceptions.ClientError, KeyError):
            return False
        return True

    @contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="bounty-blob-") as tmp:
            path = Path(tmp) / sha256
            try:
                self.client.download_file(self.bucket, self._key(sha256), str(path))
            except self.client.exceptions.ClientError as exc:
                raise KeyError(sha256) from exc
            yield path

    def digests(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"].removeprefix(self.prefix)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def make_store(settings: Settings) -> ArtifactStore:
    """The store the settings choose."""
    if settings.storage == "s3":
        return S3Store.from_settings(settings)
    return LocalStore(settings.storage_dir)
