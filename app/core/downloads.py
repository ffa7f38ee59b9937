"""A file written for one download, served, and removed once it has been sent."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from fastapi.responses import FileResponse
from starlette.background import BackgroundTask


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def temporary_file_response(
    name: str, write: Callable[[Path], Path], media_type: str = "application/zip"
) -> FileResponse:
    """``write(path)`` into a private temporary folder, then a response that sends the file
    as the attachment ``name`` and removes the folder afterwards (or at once on failure)."""
    folder = Path(tempfile.mkdtemp(prefix="bounty-download-"))
    try:
        path = write(folder / name)
    except BaseException:
        _remove(folder)
        raise
    return FileResponse(
        path, media_type=media_type, filename=name, background=BackgroundTask(_remove, folder)
    )
