"""A one-off download leaves nothing on disk, even before it is sent or if it never is."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.downloads import CHUNK_BYTES, temporary_file_response

PAYLOAD = bytes(range(256)) * (3 * CHUNK_BYTES // 256 + 7)  # several chunks, a ragged end


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder ``tempfile`` writes into, empty to start with."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _write(path: Path) -> Path:
    path.write_bytes(PAYLOAD)
    return path


def test_the_folder_is_gone_before_the_response_is_sent(scratch: Path) -> None:
    response = temporary_file_response("round-v3.zip", _write)
    assert list(scratch.iterdir()) == []
    assert response.headers["content-length"] == str(len(PAYLOAD))
    assert response.headers["content-disposition"] == 'attachment; filename="round-v3.zip"'


def test_the_whole_file_is_sent_from_the_open_handle(scratch: Path) -> None:
    app = FastAPI()
    app.get("/download")(lambda: temporary_file_response("round-v3.zip", _write))
    with TestClient(app) as client:
        got = client.get("/download")
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/zip"
    assert got.content == PAYLOAD
    assert list(scratch.iterdir()) == []


def test_a_failed_write_leaves_nothing_and_raises(scratch: Path) -> None:
    def broken(path: Path) -> Path:
        path.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        temporary_file_response("round-v3.zip", broken)
    assert list(scratch.iterdir()) == []
