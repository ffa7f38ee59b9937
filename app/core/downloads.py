"""A file written for one download and sent from an open handle, with nothing left on disk.

The file is written into a private temporary folder, opened, and the folder removed before
the response starts: the open handle keeps the bytes readable until it is closed. So a
process that is killed mid-download, or right after one, leaves no file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from fastapi.responses import StreamingResponse

CHUNK_BYTES = 1 << 16


def attachment(name: str) -> dict[str, str]:
    """The header that makes a browser save the response as the file ``name`` (a slug-based
    name: ASCII without quotes)."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()


def temporary_file_response(
    name: str, write: Callable[[Path], Path], media_type: str = "application/zip"
) -> StreamingResponse:
    """``write(path)`` into a private temporary folder, then a response that sends the file
    as the attachment ``name``. The folder is gone before this returns."""
    with tempfile.TemporaryDirectory(prefix="bounty-download-") as folder:
        handle = write(Path(folder) / name).open("rb")
    size = os.fstat(handle.fileno()).st_size
    return StreamingResponse(
        _chunks(handle),
        media_type=media_type,
        headers={**attachment(name), "Content-Length": str(size)},
    )
