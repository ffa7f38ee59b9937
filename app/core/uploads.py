"""Receiving uploaded files: streamed to private scratch files in chunks, with a size cap.

Every upload path goes through here, so the size limit, the empty-file check, the file-name
sanitising and the mapping of a full or unwritable scratch disk to a storage error (507/503,
never a 500 and never a half-stored upload) are the same everywhere.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from fastapi import UploadFile

from app.core.errors import EmptyFile, FileTooLarge
from app.core.storage import StorageError

CHUNK: Final = 1024 * 1024
_UNSAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(filename: str | None, default: str) -> str:
    """A client's file name reduced to its base name in safe characters (path separators,
    ``..``, NULs and control characters cannot survive), or ``default`` if nothing is left."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", base)[-100:].lstrip("._")
    return name or default


def spool(upload: UploadFile, path: Path, *, field: str, limit: int) -> Path:
    """Copy ``upload`` to ``path`` in chunks: 413 past ``limit`` bytes, 422 if empty."""
    size = 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            while chunk := upload.file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise FileTooLarge(
                        f"the {field} file is larger than the limit of {limit} bytes",
                        errors=[{"field": field, "message": "file too large"}],
                    )
                out.write(chunk)
    except OSError as exc:
        raise StorageError.from_os_error("the upload to scratch space", exc) from exc
    if size == 0:
        raise EmptyFile(
            f"the {field} file is empty",
            errors=[{"field": field, "message": "empty file"}],
        )
    return path


@contextmanager
def received(upload: UploadFile, field: str, limit: int) -> Iterator[Path]:
    """The upload as a private temporary file, removed afterwards."""
    try:
        scratch = tempfile.TemporaryDirectory(prefix="bounty-upload-")
    except OSError as exc:
        raise StorageError.from_os_error("the upload to scratch space", exc) from exc
    with scratch as folder:
        yield spool(upload, Path(folder) / "upload", field=field, limit=limit)
