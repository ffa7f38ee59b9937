"""Opening a skops file's zip archive within size caps (a cheap zip-bomb guard)."""

from __future__ import annotations

import io
import zipfile

from bounty_engine.errors import ModelLoadError
from bounty_engine.models.messages import HOW_TO_SAVE

MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
"""Largest total uncompressed size of a skops archive."""

MAX_ARCHIVE_MEMBERS = 10_000
"""Most files a skops archive may contain."""


def open_skops_archive(data: bytes) -> zipfile.ZipFile:
    """The archive, after checking its directory: a skops file, within the size caps."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ModelLoadError(
            "the file starts like a zip archive (as skops files do) but is corrupted or truncated"
        ) from exc
    if "schema.json" not in {m.filename for m in members}:
        raise ModelLoadError(
            "this is a zip archive without schema.json, so not a skops file (PyTorch "
            f"checkpoints and other zipped pickles are not supported); {HOW_TO_SAVE}"
        )
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise ModelLoadError(
            f"the skops archive has {len(members)} files; at most {MAX_ARCHIVE_MEMBERS} are allowed"
        )
    odd = [m.filename for m in members if not _plain_name(m.filename)]
    if odd:
        raise ModelLoadError(
            "the skops archive has files with path-like names, which skops never writes: "
            + ", ".join(repr(name) for name in odd[:5])
        )
    total = sum(m.file_size for m in members)
    if total > MAX_ARCHIVE_BYTES:
        raise ModelLoadError(
            f"the skops archive unpacks to {total / 2**20:.0f} MiB; at most "
            f"{MAX_ARCHIVE_BYTES / 2**20:.0f} MiB is allowed"
        )
    return archive


def _plain_name(name: str) -> bool:
    """A member name skops could have written: no directories, no traversal, printable."""
    return (
        bool(name)
        and "/" not in name
        and "\\" not in name
        and name not in (".", "..")
        and (name.isprintable())
    )
