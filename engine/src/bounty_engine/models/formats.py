"""Recognising a model file's format by its content, and refusing everything else.

Pickles (including joblib and dill files, compressed or not) are refused with a message
saying why; so are other zip archives, compressed files, text and HTML.
"""

from __future__ import annotations

import bz2
import codecs
import io
import lzma
import pickletools
import zipfile
import zlib

from bounty_engine.errors import ModelLoadError
from bounty_engine.models.loaded_model import ModelFormat
from bounty_engine.models.messages import HOW_TO_SAVE
from bounty_engine.models.protobuf import looks_like_onnx
from bounty_engine.models.skops_archive import open_skops_archive

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_COMPRESSION_MAGICS = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x5d\x00\x00", "lzma"),
    (b"ZF0x", "joblib-zlib"),  # joblib < 0.10
)
_PICKLE_PROTOCOL_BYTES = frozenset(range(2, 6))
# Opcodes a protocol 0/1 pickle starts with: MARK, GLOBAL, EMPTY_LIST/DICT/TUPLE, NONE, ...
_OLD_PICKLE_FIRST_BYTES = frozenset(b"(c]})NIFLSVdlt")
_OLD_PICKLE_MAX_BYTES = 8 * 1024 * 1024
_PICKLE_TRUNCATION_HINTS = ("exhausted", "not enough data", "no newline")
_PICKLE_REFUSAL = (
    "pickle, joblib and dill files are never loaded, because loading one can run arbitrary "
    f"code; {HOW_TO_SAVE}"
)


def sniff_format(data: bytes) -> ModelFormat:
    """Recognise a model file by its content; ``ModelLoadError`` explains what it is if unusable.

    A skops file is a zip archive containing ``schema.json``; an ONNX file is a protobuf
    ``ModelProto`` with a graph; a model bundle is a zip of ``manifest.json`` and ``models/``.
    """
    if not data:
        raise ModelLoadError("the model file is empty")
    if data[:4] in _ZIP_MAGICS:
        if _is_bundle(data):
            return ModelFormat.BUNDLE
        open_skops_archive(data)
        return ModelFormat.SKOPS
    if data[0] == 0x80 and len(data) > 1 and data[1] in _PICKLE_PROTOCOL_BYTES:
        raise ModelLoadError(f"this is a pickle file: {_PICKLE_REFUSAL}")
    _refuse_compressed(data)
    if _is_old_pickle(data):
        raise ModelLoadError(f"this is a pickle file (old text protocol): {_PICKLE_REFUSAL}")
    _refuse_text(data)
    if looks_like_onnx(data):
        return ModelFormat.ONNX
    raise ModelLoadError(f"this is neither a skops file nor an ONNX model; {HOW_TO_SAVE}")


def _is_bundle(data: bytes) -> bool:
    """Whether a zip file is laid out as a model bundle: ``manifest.json`` and ``models/*``."""
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return False  # open_skops_archive explains what is wrong with it
    return "manifest.json" in names and all(
        name == "manifest.json" or name.startswith("models/") for name in names
    )


def _refuse_compressed(data: bytes) -> None:
    kind = _compression(data)
    if kind is None:
        return
    head = _decompressed_head(data, kind)
    if kind == "joblib-zlib" or head[:1] == b"\x80" or _is_old_pickle(head, partial=True):
        raise ModelLoadError(
            f"this is a compressed pickle (as written by joblib.dump): {_PICKLE_REFUSAL}"
        )
    raise ModelLoadError(
        f"this is a {kind}-compressed file; upload the model file itself, uncompressed "
        "(a .skops or .onnx file)"
    )


def _compression(data: bytes) -> str | None:
    for magic, kind in _COMPRESSION_MAGICS:
        if data.startswith(magic):
            return kind
    # A zlib stream: deflate method, and a header checksum that is a multiple of 31.
    if len(data) >= 2 and data[0] == 0x78 and (data[0] << 8 | data[1]) % 31 == 0:
        return "zlib"
    return None


def _decompressed_head(data: bytes, kind: str, size: int = 64) -> bytes:
    """The first ``size`` decompressed bytes, or ``b""``; never inflates the whole file."""
    chunk = data[:65536]
    try:
        if kind in ("gzip", "zlib"):
            return zlib.decompressobj(wbits=31 if kind == "gzip" else 15).decompress(chunk, size)
        if kind == "bz2":
            return bz2.BZ2Decompressor().decompress(chunk, max_length=size)
        if kind in ("xz", "lzma"):
            return lzma.LZMADecompressor().decompress(chunk, max_length=size)
    except (zlib.error, OSError, lzma.LZMAError, EOFError, ValueError):
        pass
    return b""


def _is_old_pickle(data: bytes, *, partial: bool = False) -> bool:
    """Whether ``data`` parses as a protocol 0/1 pickle (only parsed, never executed).

    With ``partial``, ``data`` is the start of a stream: parsing up to its end is enough.
    """
    if not data or data[0] not in _OLD_PICKLE_FIRST_BYTES or len(data) > _OLD_PICKLE_MAX_BYTES:
        return False
    try:
        for opcode, _arg, position in pickletools.genops(data):
            if opcode.name == "STOP":
                return position == len(data) - 1
    except ValueError as exc:
        return partial and any(hint in str(exc) for hint in _PICKLE_TRUNCATION_HINTS)
    return False


def _refuse_text(data: bytes) -> None:
    text = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        head = text.decode(data[:4096], final=len(data) <= 4096).removeprefix("\ufeff")
    except UnicodeDecodeError:
        return
    if not head or not all(ch.isprintable() or ch in "\t\n\r\f" for ch in head):
        return
    lowered = head.lstrip().lower()
    if lowered.startswith(("<!doctype html", "<html", "<head", "<body", "<?xml", "<!--")):
        raise ModelLoadError(
            "this is an HTML or XML page, not a model file; if you downloaded it from a "
            "website, download the raw file instead"
        )
    if lowered.startswith("version https://git-lfs"):
        raise ModelLoadError(
            "this is a Git LFS pointer, not the model file itself; run `git lfs pull` first"
        )
    raise ModelLoadError(f"this is a text file, not a model file; {HOW_TO_SAVE}")
