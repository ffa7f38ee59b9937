"""Load participant models safely and run them.

Participants upload model files that are hostile until proven otherwise. Two formats are
accepted, recognised by content rather than by file name:

- **skops** (scikit-learn models saved with ``skops.io``): a zip archive with ``schema.json``.
  Every type the file names must pass an allowlist (classes or numpy ufuncs from
  scikit-learn, numpy or scipy, outside modules that do I/O, load code or read raw memory);
  the archive is size-capped; attribute names are checked; decision-tree structures are
  bounds-checked because scikit-learn's compiled code trusts their indices.
- **ONNX**, run by onnxruntime on the CPU with one thread; external data files are refused.

Pickle, joblib and dill files are recognised and refused: loading one can run arbitrary code.
"""

from __future__ import annotations

import bz2
import codecs
import hashlib
import importlib
import io
import json
import lzma
import os
import pickletools
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pandas as pd
import scipy.sparse
import skops.io as sio
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import BaseEnsemble
from sklearn.ensemble._gb import BaseGradientBoosting
from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
from sklearn.ensemble._hist_gradient_boosting.gradient_boosting import (
    BaseHistGradientBoosting,
)
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
from sklearn.tree._classes import BaseDecisionTree
from sklearn.tree._tree import Tree

from app.engine.errors import EngineError, ModelLoadError, PredictionError

__all__ = [
    "MAX_ARCHIVE_BYTES",
    "MAX_ARCHIVE_MEMBERS",
    "LoadedModel",
    "ModelFormat",
    "dump_sklearn_model",
    "load_model",
    "sniff_format",
]

MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
"""Largest total uncompressed size of a skops archive (a cheap zip-bomb guard)."""

MAX_ARCHIVE_MEMBERS = 10_000
"""Most files a skops archive may contain."""

_HOW_TO_SAVE = (
    "save a scikit-learn model with skops.io.dump(model, 'model.skops') or export it to ONNX"
)


class ModelFormat(StrEnum):
    """The model file formats the platform runs."""

    SKOPS = "skops"
    ONNX = "onnx"


class LoadedModel:
    """A model file that passed the safety checks, ready to predict.

    ``data`` is the file as uploaded (kept for export) and ``sha256`` its hex digest.
    """

    def __init__(
        self, format: ModelFormat, data: bytes, runner: Callable[[pd.DataFrame], object]
    ) -> None:
        self.format = format
        self.data = data
        self.sha256 = hashlib.sha256(data).hexdigest()
        self._runner = runner

    def __repr__(self) -> str:
        return f"LoadedModel(format={self.format.value!r}, sha256={self.sha256[:12]!r}...)"

    def predict(self, X: pd.DataFrame) -> npt.NDArray[Any]:  # noqa: N803 (scikit-learn's name)
        """The model's raw predictions for the rows of ``X``; ``(n, 1)`` is squeezed to ``(n,)``.

        Whatever goes wrong inside the model becomes a ``PredictionError`` naming the
        exception type and the first line of its message (never a traceback).
        """
        try:
            result = np.asarray(self._runner(X))
        except EngineError:
            raise
        except Exception as exc:
            raise PredictionError(
                f"the model failed while predicting: {_describe_exception(exc)}"
            ) from exc
        if result.ndim == 2 and result.shape[1] == 1:
            result = result[:, 0]
        return result


def load_model(
    source: bytes | str | os.PathLike[str], *, feature_names: Sequence[str] | None = None
) -> LoadedModel:
    """Load a participant's model file (bytes or a path) after checking that it is safe.

    With ``feature_names`` (the round's feature columns), also check at load time that the
    model reads only those columns. Raises ``ModelLoadError`` on anything wrong.
    """
    data = _read_source(source)
    model_format = sniff_format(data)
    if model_format is ModelFormat.SKOPS:
        runner = _load_skops(data, feature_names)
    else:
        runner = _load_onnx(data, feature_names)
    return LoadedModel(model_format, data, runner)


def dump_sklearn_model(model: object) -> bytes:
    """Serialize a scikit-learn model in the skops format (for our own code, tests and SDK)."""
    data: bytes = sio.dumps(model)
    return data


def _read_source(source: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"cannot read the model file: {exc.strerror or exc}") from exc


def _describe_exception(exc: BaseException) -> str:
    """``ValueError: first line of the message``, shortened."""
    lines = str(exc).strip().splitlines()
    first = _ORT_ERROR_PREFIX.sub("", lines[0] if lines else "")
    first = first if len(first) <= 300 else first[:297] + "..."
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


_ORT_ERROR_PREFIX = re.compile(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*")


# --------------------------------------------------------------------------------------------
# Recognising the format
# --------------------------------------------------------------------------------------------

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
    f"code; {_HOW_TO_SAVE}"
)


def sniff_format(data: bytes) -> ModelFormat:
    """Recognise a model file by its content; ``ModelLoadError`` explains what it is if unusable.

    A skops file is a zip archive containing ``schema.json``; an ONNX file is a protobuf
    ``ModelProto`` with a graph. Pickles (including joblib and dill, compressed or not), other
    zip archives, compressed files, text and HTML are refused with a message saying so.
    """
    if not data:
        raise ModelLoadError("the model file is empty")
    if data[:4] in _ZIP_MAGICS:
        _open_skops_archive(data)
        return ModelFormat.SKOPS
    if data[0] == 0x80 and len(data) > 1 and data[1] in _PICKLE_PROTOCOL_BYTES:
        raise ModelLoadError(f"this is a pickle file: {_PICKLE_REFUSAL}")
    _refuse_compressed(data)
    if _is_old_pickle(data):
        raise ModelLoadError(f"this is a pickle file (old text protocol): {_PICKLE_REFUSAL}")
    _refuse_text(data)
    if _looks_like_onnx(data):
        return ModelFormat.ONNX
    raise ModelLoadError(f"this is neither a skops file nor an ONNX model; {_HOW_TO_SAVE}")


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
    raise ModelLoadError(f"this is a text file, not a model file; {_HOW_TO_SAVE}")


# --------------------------------------------------------------------------------------------
# A minimal protobuf reader, enough to recognise ONNX files and find external data references
# without importing the ``onnx`` package.
# --------------------------------------------------------------------------------------------


class _ProtobufError(ValueError):
    pass


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while pos < end and shift < 64:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
    raise _ProtobufError("bad varint")


def _fields(buf: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield ``(field number, wire type, value, end)`` for each field of one message.

    For length-delimited fields (wire type 2) ``value`` is the offset where the bytes start.
    """
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise _ProtobufError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            yield number, wire, value, pos
            continue
        if wire == 2:
            length, value = _varint(buf, pos, end)
            pos = value + length
        elif wire in (1, 5):
            value, pos = pos, pos + (8 if wire == 1 else 4)
        else:
            raise _ProtobufError(f"unsupported wire type {wire}")
        if pos > end:
            raise _ProtobufError("truncated field")
        yield number, wire, value, pos


_GRAPH_FIELD = 7  # ModelProto.graph
# Which length-delimited fields of each ONNX message hold other messages that may contain
# tensors (field numbers from onnx.proto3).
_ONNX_CHILDREN: dict[str, dict[int, str]] = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "training": {1: "graph", 2: "graph"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "node": {5: "attribute"},
    "function": {7: "node", 11: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
    "tensor": {},
}
_TENSOR_EXTERNAL_DATA = 13  # TensorProto.external_data
_TENSOR_DATA_LOCATION = 14  # TensorProto.data_location (1 = EXTERNAL)


def _looks_like_onnx(data: bytes) -> bool:
    """Whether ``data`` parses as a protobuf message with a graph, as ONNX files do."""
    try:
        return any(
            number == _GRAPH_FIELD and wire == 2
            for number, wire, _value, _end in _fields(data, 0, len(data))
        )
    except _ProtobufError:
        return False


def _onnx_has_external_data(data: bytes) -> bool:
    """Whether any tensor in the ONNX file (graphs, subgraphs, functions) is stored outside it."""
    stack = [("model", 0, len(data))]
    while stack:
        kind, start, end = stack.pop()
        children = _ONNX_CHILDREN[kind]
        for number, wire, value, field_end in _fields(data, start, end):
            if kind == "tensor" and (
                number == _TENSOR_EXTERNAL_DATA
                or (number == _TENSOR_DATA_LOCATION and wire == 0 and value == 1)
            ):
                return True
            if wire == 2 and number in children:
                stack.append((children[number], value, field_end))
    return False


# --------------------------------------------------------------------------------------------
# skops files
# --------------------------------------------------------------------------------------------

_ALLOWED_PACKAGES = frozenset({"sklearn", "numpy", "scipy"})

_IO = "reads or writes files, or fetches URLs"
_CODE = "builds, compiles or loads code"
_MEMORY = "can read or write raw memory"
_PROCESSES = "starts processes or thread pools"
_TESTS = "is a testing or build helper"
_RAW_INDICES = (
    "stores raw indices that compiled code uses without bounds checks "
    "(for nearest neighbours, use algorithm='brute')"
)
_RAW_BUFFERS = "is a compiled-code internal whose buffers and sizes are trusted unchecked"

# Modules (and everything under them) that no model needs and that do something a model
# must not do. A type is refused if its name as written in the file or its real location
# (``__module__`` + ``__qualname__``) falls under one of these.
_DENIED_MODULES: dict[str, str] = {
    "sklearn.datasets": _IO,
    "sklearn.externals": _TESTS,
    "sklearn.utils._testing": _TESTS,
    "sklearn.utils._mocking": _TESTS,
    "sklearn.utils.estimator_checks": _TESTS,
    "sklearn.utils._show_versions": _TESTS,
    "sklearn.utils.discovery": _CODE,
    "sklearn.utils.parallel": _PROCESSES,
    "sklearn.utils._joblib": _PROCESSES,
    "sklearn._build_utils": _TESTS,
    "sklearn.__check_build": _TESTS,
    "sklearn.neighbors._kd_tree": _RAW_INDICES,
    "sklearn.neighbors._ball_tree": _RAW_INDICES,
    "sklearn.neighbors._binary_tree": _RAW_INDICES,
    "sklearn.neighbors._quad_tree": _RAW_INDICES,
    "sklearn.metrics._dist_metrics": _RAW_BUFFERS,
    "sklearn.utils._seq_dataset": _RAW_BUFFERS,
    "sklearn.utils._weight_vector": _RAW_BUFFERS,
    "numpy.lib.npyio": _IO,
    "numpy.lib._npyio_impl": _IO,
    "numpy.lib._datasource": _IO,
    "numpy.lib.format": _IO,
    "numpy.lib._format_impl": _IO,
    "numpy.lib._iotools": _IO,
    "numpy.lib._utils_impl": _IO,
    "numpy._core.memmap": _IO,
    "numpy.ma.mrecords": _IO,
    "numpy.lib.stride_tricks": _MEMORY,
    "numpy.lib._stride_tricks_impl": _MEMORY,
    "numpy.ctypeslib": _MEMORY,
    "numpy._core._internal": _MEMORY,
    "numpy._core._dtype_ctypes": _MEMORY,
    "numpy.core": _MEMORY,  # deprecated alias of numpy._core, including the above
    "numpy.f2py": _CODE,
    "numpy.distutils": _CODE,
    "numpy.typing": _CODE,
    "numpy._pyinstaller": _CODE,
    "numpy.random._examples": _CODE,
    "numpy.testing": _TESTS,
    "numpy._pytesttester": _TESTS,
    "numpy.conftest": _TESTS,
    "scipy.io": _IO,
    "scipy.datasets": _IO,
    "scipy.misc": _IO,
    "scipy._lib": _MEMORY,  # LowLevelCallable wraps raw C function pointers
    "scipy.conftest": _TESTS,
}
# Exact names (public aliases of the above, and I/O functions named for a clearer message).
_DENIED_NAMES: dict[str, str] = {
    "numpy.memmap": _IO,
    "numpy.DataSource": _IO,
    "numpy.load": _IO,
    "numpy.save": _IO,
    "numpy.savez": _IO,
    "numpy.savez_compressed": _IO,
    "numpy.savetxt": _IO,
    "numpy.loadtxt": _IO,
    "numpy.genfromtxt": _IO,
    "numpy.fromfile": _IO,
    "numpy.fromregex": _IO,
    "scipy.LowLevelCallable": _MEMORY,
    # With input="filename" or "file", these read the files that the data names.
    "sklearn.feature_extraction.text.CountVectorizer": _IO,
    "sklearn.feature_extraction.text.TfidfVectorizer": _IO,
    "sklearn.feature_extraction.text.HashingVectorizer": _IO,
}
_TEST_MODULE_PARTS = frozenset({"tests", "testing", "_testing", "conftest", "_testutils"})
# Reviewed names outside the class rule that fitted scikit-learn models contain (a
# HistGradientBoosting model with categorical features holds partial(check_array, ...)).
# skops rebuilds a plain functools.partial from parts that are each checked.
_EXTRA_ALLOWED = frozenset({"functools.partial", "sklearn.utils.validation.check_array"})


def _open_skops_archive(data: bytes) -> zipfile.ZipFile:
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
            f"checkpoints and other zipped pickles are not supported); {_HOW_TO_SAVE}"
        )
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise ModelLoadError(
            f"the skops archive has {len(members)} files; at most {MAX_ARCHIVE_MEMBERS} are allowed"
        )
    total = sum(m.file_size for m in members)
    if total > MAX_ARCHIVE_BYTES:
        raise ModelLoadError(
            f"the skops archive unpacks to {total / 2**20:.0f} MiB; at most "
            f"{MAX_ARCHIVE_BYTES / 2**20:.0f} MiB is allowed"
        )
    return archive


def _load_skops(
    data: bytes, feature_names: Sequence[str] | None
) -> Callable[[pd.DataFrame], object]:
    schema = _read_schema(_open_skops_archive(data))
    _refuse_dunder_attributes(schema)
    untrusted = set(_skops_call(lambda: sio.get_untrusted_types(data=data)))
    problems = {
        name: reason
        for name in sorted(untrusted | _type_names(schema))
        if (reason := _type_problem(name, trusted_by_skops=name not in untrusted))
    }
    if problems:
        listed = "; ".join(f"{name!r} ({reason})" for name, reason in problems.items())
        raise ModelLoadError(f"the model file uses types that are not allowed: {listed}")
    model = _skops_call(lambda: sio.load(io.BytesIO(data), trusted=sorted(untrusted)))
    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise ModelLoadError(
            f"the model ({type(model).__name__}) has no predict method; upload a fitted "
            "estimator or Pipeline"
        )
    _check_index_structures(model)
    if feature_names is not None:
        _check_sklearn_columns(model, feature_names)
    _run_single_process(model)
    return predict  # type: ignore[no-any-return]


def _skops_call(action: Callable[[], Any]) -> Any:
    """Run a skops operation, turning any failure into ``ModelLoadError``."""
    try:
        return action()
    except EngineError:
        raise
    except Exception as exc:
        raise ModelLoadError(
            f"the skops file cannot be loaded: {_describe_exception(exc)}"
        ) from exc


def _read_schema(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        schema = json.loads(archive.read("schema.json"))
    except (ValueError, zipfile.BadZipFile, OSError, EOFError, RecursionError) as exc:
        raise ModelLoadError(
            f"the skops file's schema.json is unreadable: {_describe_exception(exc)}"
        ) from exc
    if not isinstance(schema, dict):
        raise ModelLoadError("the skops file's schema.json does not describe an object")
    return schema


def _walk_json(root: object) -> Iterator[object]:
    """Every dict, list and scalar in a parsed JSON document (iteratively: files may nest)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _type_names(schema: dict[str, Any]) -> set[str]:
    """Every ``module.name`` the file refers to, including types skops trusts by default."""
    return {
        f"{node['__module__']}.{node['__class__']}"
        for node in _walk_json(schema)
        if isinstance(node, dict)
        and isinstance(node.get("__module__"), str)
        and isinstance(node.get("__class__"), str)
    }


def _refuse_dunder_attributes(schema: dict[str, Any]) -> None:
    """Refuse objects whose saved state sets ``__dunder__`` attributes.

    skops restores an object's ``__dict__`` from the file. An instance attribute such as
    ``__array_interface__`` would make numpy read memory at an address the file chooses.
    """
    found: set[str] = set()
    for node in _walk_json(schema):
        if not isinstance(node, dict):
            continue
        content = node.get("content")
        if node.get("__loader__") == "DictNode" and isinstance(content, dict):
            found.update(key for key in content if _is_dunder(key))
        elif node.get("__loader__") == "JsonNode" and isinstance(content, str):
            found.update(_dunder_keys_in_json(content))
    if found:
        names = ", ".join(repr(key) for key in sorted(found))
        raise ModelLoadError(
            f"the model file sets special attributes, which is not allowed: {names}"
        )


def _dunder_keys_in_json(text: str) -> set[str]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return set()  # skops refuses it later
    return {
        key
        for node in _walk_json(value)
        if isinstance(node, dict)
        for key in node
        if _is_dunder(key)
    }


def _is_dunder(key: object) -> bool:
    return isinstance(key, str) and len(key) > 4 and key.startswith("__") and key.endswith("__")


def _type_problem(name: str, *, trusted_by_skops: bool) -> str | None:
    """Why the type called ``name`` may not be loaded, or None if it may.

    Types that skops trusts by default only go through the denylist; any other type must
    also resolve to a class (or numpy ufunc) in scikit-learn, numpy or scipy.
    """
    denied = _denied_reason(name)
    if denied or trusted_by_skops or name in _EXTRA_ALLOWED:
        return denied
    module_name, _, attribute = name.rpartition(".")
    if module_name.partition(".")[0] not in _ALLOWED_PACKAGES:
        return "only scikit-learn, numpy and scipy types are allowed"
    try:
        # Importing runs only code from the three trusted packages, outside denied modules.
        target = getattr(importlib.import_module(module_name), attribute)
    except Exception:
        return "not a module-level class of the installed scikit-learn, numpy or scipy"
    if not isinstance(target, type | np.ufunc):
        return "not a class; only classes and numpy ufuncs are allowed"
    real_name = f"{target.__module__}.{getattr(target, '__qualname__', target.__name__)}"
    if real_name.partition(".")[0] not in _ALLOWED_PACKAGES:
        return f"it is {real_name}, which is outside scikit-learn, numpy and scipy"
    return _denied_reason(real_name)


def _denied_reason(name: str) -> str | None:
    parts = name.split(".")
    if any(part.startswith("__") for part in parts[1:]):
        return "special (dunder) names are not allowed"
    if name in _DENIED_NAMES:
        return _DENIED_NAMES[name]
    for i in range(len(parts), 0, -1):
        module = ".".join(parts[:i])
        if module in _DENIED_MODULES:
            return f"{module} {_DENIED_MODULES[module]}"
    if parts[0] in _ALLOWED_PACKAGES and _TEST_MODULE_PARTS.intersection(parts):
        return _TESTS
    return None


# Estimators that hand their input to decision trees without re-validating its width: the
# trees' feature indices must fit the narrowest width any of them checks.
_TREE_ENSEMBLES = (BaseDecisionTree, BaseEnsemble, BaseHistGradientBoosting)


def _check_index_structures(model: object) -> None:
    """Bounds-check every decision tree and sparse matrix before compiled code walks it.

    scikit-learn's tree code and scipy's sparse kernels follow stored indices without
    bounds checks, so a crafted file could make them read or write outside their arrays.
    Valid trees store children after their parent, which also rules out cycles.
    """
    stack: list[tuple[object, int | None]] = [(model, None)]
    seen: set[tuple[int, int | None]] = set()
    while stack:
        obj, width = stack.pop()
        if (id(obj), width) in seen:
            continue
        seen.add((id(obj), width))
        if isinstance(obj, Tree):
            _check_tree(obj, width)
            continue
        if isinstance(obj, TreePredictor):
            _check_predictor(obj, width, None)
            continue
        if scipy.sparse.issparse(obj):
            _check_sparse(obj)
            continue
        if isinstance(obj, _TREE_ENSEMBLES):
            width = _narrowest_input(obj, width)
            if isinstance(obj, BaseHistGradientBoosting):
                _check_hist_gradient_boosting(obj, width)
            if isinstance(obj, BaseGradientBoosting):
                _check_gradient_boosting(obj)
        elif isinstance(obj, BaseEstimator):
            width = None  # other estimators validate their own input
        stack.extend((child, width) for child in _children(obj))


def _children(obj: object) -> Iterable[object]:
    if isinstance(obj, list | tuple | set | frozenset):
        return obj
    if isinstance(obj, dict):
        return obj.values()
    if isinstance(obj, np.ndarray):
        return obj.ravel().tolist() if obj.dtype == object else ()
    if isinstance(obj, type):
        return ()
    state = getattr(obj, "__dict__", None)
    return state.values() if isinstance(state, dict) else ()


def _narrowest_input(estimator: object, width: int | None) -> int | None:
    state = vars(estimator)
    widths = [width, state.get("n_features_in_")]
    subsets = state.get("estimators_features_")  # bagging: each member sees some columns
    if isinstance(subsets, list) and subsets:
        widths.append(min(len(subset) for subset in subsets))
    valid = [int(w) for w in widths if isinstance(w, int | np.integer) and w >= 0]
    return min(valid) if valid else None


def _unsafe_tree(what: str) -> ModelLoadError:
    return ModelLoadError(
        f"the model contains a malformed {what} (node indices out of range); "
        "re-save the fitted model with skops.io.dump"
    )


def _check_tree(tree: Any, width: int | None) -> None:
    node_count, capacity = int(tree.node_count), int(tree.capacity)
    if width is None or not 1 <= node_count <= capacity:
        raise _unsafe_tree("decision tree")
    left, right, feature = tree.children_left, tree.children_right, tree.feature
    index = np.arange(node_count)
    leaf = (left == -1) & (right == -1)
    split = (
        (left > index)
        & (left < node_count)
        & (right > index)
        & (right < node_count)
        & (feature >= 0)
        & (feature < width)
    )
    if not np.all(leaf | split):
        raise _unsafe_tree("decision tree")


def _check_predictor(
    predictor: Any, width: int | None, categorical: npt.NDArray[np.bool_] | None
) -> None:
    """Check a HistGradientBoosting tree; ``categorical`` flags its estimator's features."""
    nodes = getattr(predictor, "nodes", None)
    bitsets: list[Any] = [getattr(predictor, name, None) for name in _BITSET_ATTRIBUTES]
    if (
        not width
        or not isinstance(nodes, np.ndarray)
        or nodes.dtype != PREDICTOR_RECORD_DTYPE
        or nodes.ndim != 1
        or len(nodes) == 0
        or not all(_is_bitset_array(b) for b in bitsets)
    ):
        raise _unsafe_tree("gradient-boosting tree")
    index, count = np.arange(len(nodes)), len(nodes)
    leaf = nodes["is_leaf"].astype(bool)
    left, right, feature = nodes["left"], nodes["right"], nodes["feature_idx"]
    split = (
        (left > index)
        & (left < count)
        & (right > index)
        & (right < count)
        & (feature >= 0)
        & (feature < width)
    )
    is_categorical = ~leaf & nodes["is_categorical"].astype(bool)
    n_bitsets = min(len(b) for b in bitsets)
    categorical_ok = nodes["bitset_idx"] < n_bitsets
    if categorical is not None:
        categorical_ok &= categorical[np.clip(feature, 0, len(categorical) - 1)]
    if not np.all(leaf | split) or not np.all(categorical_ok[is_categorical]):
        raise _unsafe_tree("gradient-boosting tree")


_BITSET_ATTRIBUTES = ("binned_left_cat_bitsets", "raw_left_cat_bitsets")


def _is_bitset_array(value: object) -> bool:
    return (
        isinstance(value, np.ndarray)
        and value.dtype == np.uint32
        and value.ndim == 2
        and value.shape[1] == 8
    )


def _check_hist_gradient_boosting(estimator: Any, width: int | None) -> None:
    state = vars(estimator)
    predictors, bin_mapper = state.get("_predictors"), state.get("_bin_mapper")
    if predictors is None:
        return  # not fitted: predict refuses to run
    categorical = np.asarray(getattr(bin_mapper, "is_categorical_", None))
    if width is None or categorical.shape != (width,):
        raise _unsafe_tree("gradient-boosting model")
    for predictor in (p for iteration in predictors for p in iteration):
        _check_predictor(predictor, width, categorical.astype(bool))


def _check_sparse(matrix: Any) -> None:
    """Full index validation (scipy only checks shapes when it builds a matrix)."""
    try:
        if matrix.format in ("csr", "csc", "bsr"):
            matrix.check_format(full_check=True)
        elif matrix.format == "coo":
            for index, size in zip(matrix.coords, matrix.shape, strict=True):
                if index.size and (index.min() < 0 or index.max() >= size):
                    raise ValueError("coordinates out of range")
        elif matrix.format == "dia" and matrix.data.shape[0] != len(matrix.offsets):
            raise ValueError("one row of data per diagonal is required")
    except Exception as exc:
        raise ModelLoadError(
            f"the model contains a malformed sparse matrix: {_describe_exception(exc)}"
        ) from exc


def _check_gradient_boosting(estimator: Any) -> None:
    """GradientBoosting* adds each stage's trees into columns its compiled code trusts."""
    state = vars(estimator)
    stages = state.get("estimators_")
    if stages is None:
        return  # not fitted
    multiclass = bool(getattr(state.get("_loss"), "is_multiclass", False))
    columns = len(state.get("classes_", ())) if multiclass else 1
    if (
        not isinstance(stages, np.ndarray)
        or stages.ndim != 2
        or not stages.shape[1] == columns == state.get("n_trees_per_iteration_")
    ):
        raise _unsafe_tree("gradient-boosting model")
    init = state.get("init_")
    # For multi-class models the initial predictions, whose columns the trees are added to,
    # come from init_.predict_proba: only the default estimator's width can be checked.
    if multiclass and init != "zero":
        prior = getattr(init, "class_prior_", ())
        if not isinstance(init, DummyClassifier) or len(prior) != columns:
            raise ModelLoadError(
                "multi-class GradientBoostingClassifier models with a custom init estimator "
                "are not supported; use the default init, or HistGradientBoostingClassifier"
            )


def _check_sklearn_columns(model: object, feature_names: Sequence[str]) -> None:
    trained_on = getattr(model, "feature_names_in_", None)
    if trained_on is None:
        return
    unknown = [str(name) for name in trained_on if name not in set(feature_names)]
    if unknown:
        raise ModelLoadError(
            f"the model was trained on columns that the round does not have: "
            f"{_names(unknown)}; the round's feature columns are {_names(feature_names)}"
        )


def _run_single_process(model: object) -> None:
    """Set every ``n_jobs`` parameter to None, so that predicting never starts processes."""
    get_params = getattr(model, "get_params", None)
    if not callable(get_params):
        return
    try:
        params = get_params(deep=True)
        updates = {
            key: None
            for key, value in params.items()
            if (key == "n_jobs" or key.endswith("__n_jobs")) and value is not None
        }
        if updates:
            model.set_params(**updates)  # type: ignore[attr-defined]
    except Exception as exc:
        raise ModelLoadError(
            f"the model's parameters cannot be read: {_describe_exception(exc)}"
        ) from exc


def _names(names: Iterable[str], limit: int = 20) -> str:
    listed = list(names)
    shown = ", ".join(repr(n) for n in listed[:limit])
    return shown + (f" and {len(listed) - limit} more" if len(listed) > limit else "")


# --------------------------------------------------------------------------------------------
# ONNX files
# --------------------------------------------------------------------------------------------

_ONNX_TYPES: dict[str, np.dtype[Any]] = {
    "tensor(float)": np.dtype(np.float32),
    "tensor(double)": np.dtype(np.float64),
    "tensor(int64)": np.dtype(np.int64),
    "tensor(int32)": np.dtype(np.int32),
    "tensor(string)": np.dtype(object),
}
_LABEL_OUTPUTS = ("label", "output_label", "variable")


def _load_onnx(data: bytes, feature_names: Sequence[str] | None) -> _OnnxRunner:
    try:
        external = _onnx_has_external_data(data)
    except _ProtobufError as exc:
        raise ModelLoadError(f"the ONNX file is malformed ({exc})") from exc
    if external:
        raise ModelLoadError(
            "the ONNX model stores tensors in external data files, which are not supported; "
            "save it as one file (onnx.save_model(model, path, save_as_external_data=False))"
        )
    try:
        session = ort.InferenceSession(data, _session_options(), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelLoadError(
            f"onnxruntime cannot load the model: {_describe_exception(exc)}"
        ) from exc
    runner = _OnnxRunner(session)
    if feature_names is not None:
        problem = runner.input_problem(list(feature_names))
        if problem:
            raise ModelLoadError(problem)
    return runner


def _session_options() -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 4  # errors reach the caller as exceptions, not stderr
    options.add_session_config_entry("session.load_model_format", "ONNX")
    return options


@dataclass(frozen=True)
class _OnnxInput:
    name: str
    type: str
    dtype: np.dtype[Any]
    shape: tuple[int | str | None, ...]

    @property
    def width(self) -> int | None:
        """The declared size of the second dimension, if fixed."""
        size = self.shape[1] if len(self.shape) == 2 else None
        return size if isinstance(size, int) else None


class _OnnxRunner:
    """Feeds DataFrame columns to an onnxruntime session and returns the label output.

    Each model input named after a feature column gets that column, shaped ``(n, 1)`` (or
    ``(n,)`` for a 1-D input). A single input that is not named after a column gets all
    numeric feature columns, in order, as one ``(n, k)`` float matrix.
    """

    def __init__(self, session: Any) -> None:
        self._session = session
        self._inputs = [_onnx_input(arg) for arg in session.get_inputs()]
        outputs = [arg.name for arg in session.get_outputs()]
        if not self._inputs or not outputs:
            raise ModelLoadError("the ONNX model must have at least one input and one output")
        self._output = next((name for name in _LABEL_OUTPUTS if name in outputs), outputs[0])

    def input_problem(self, columns: list[str]) -> str | None:
        """Why the model's inputs cannot be fed from these columns, or None."""
        if self._is_matrix(columns):
            spec = self._inputs[0]
            if spec.dtype.kind != "f" or len(spec.shape) != 2:
                return (
                    f"the ONNX model's input {spec.name!r} is not a feature column, and it "
                    f"is not a 2-D float matrix ({spec.type}, shape {list(spec.shape)}); "
                    f"name the inputs after feature columns: {_names(columns)}"
                )
            if spec.width is not None and spec.width > len(columns):
                return (
                    f"the ONNX model's input {spec.name!r} expects {spec.width} values per "
                    f"row, but the round has only {len(columns)} feature columns"
                )
            return None
        unknown = [spec.name for spec in self._inputs if spec.name not in columns]
        if unknown:
            return (
                f"the ONNX model has inputs that are not feature columns: {_names(unknown)}; "
                f"the feature columns are {_names(columns)}"
            )
        for spec in self._inputs:
            if len(spec.shape) not in (1, 2) or spec.width not in (None, 1):
                return (
                    f"the ONNX model's input {spec.name!r} has shape {list(spec.shape)}; an "
                    "input fed from one column must have shape [N] or [N, 1]"
                )
        return None

    def __call__(self, X: pd.DataFrame) -> object:  # noqa: N803
        columns = [str(c) for c in X.columns]
        problem = self.input_problem(columns)
        if problem:
            raise PredictionError(problem)
        if self._is_matrix(columns):
            feeds = {self._inputs[0].name: _numeric_matrix(X, self._inputs[0])}
        else:
            feeds = {spec.name: _column_feed(X[spec.name], spec) for spec in self._inputs}
        return self._session.run([self._output], feeds)[0]

    def _is_matrix(self, columns: list[str]) -> bool:
        return len(self._inputs) == 1 and self._inputs[0].name not in columns


def _onnx_input(arg: Any) -> _OnnxInput:
    dtype = _ONNX_TYPES.get(arg.type)
    if dtype is None:
        supported = ", ".join(_ONNX_TYPES)
        raise ModelLoadError(
            f"the ONNX model's input {arg.name!r} has type {arg.type}; supported: {supported}"
        )
    return _OnnxInput(arg.name, arg.type, dtype, tuple(arg.shape))


def _numeric_matrix(X: pd.DataFrame, spec: _OnnxInput) -> npt.NDArray[Any]:  # noqa: N803
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    if not numeric or (spec.width is not None and spec.width != len(numeric)):
        expects = f"expects {spec.width} values per row" if spec.width else "needs numbers"
        raise PredictionError(
            f"the ONNX model's input {spec.name!r} {expects}, but there are {len(numeric)} "
            f"numeric feature columns ({_names(map(str, numeric))}); name the model's inputs "
            "after feature columns, or make it take exactly the numeric columns"
        )
    return X[numeric].to_numpy(dtype=spec.dtype, na_value=np.nan)


def _column_feed(column: pd.Series[Any], spec: _OnnxInput) -> npt.NDArray[Any]:
    try:
        values = _convert_column(column, spec.dtype)
    except (ValueError, TypeError) as exc:
        raise PredictionError(
            f"column {spec.name!r} cannot be fed to the ONNX input of type {spec.type}: "
            f"{_describe_exception(exc)}"
        ) from exc
    return values.reshape(-1, 1) if len(spec.shape) == 2 else values


def _convert_column(column: pd.Series[Any], dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    if dtype.kind == "O":
        # Strings; a missing value becomes the empty string.
        return column.astype("str").to_numpy(dtype=object, na_value="")
    if dtype.kind == "f":
        return column.to_numpy(dtype=dtype, na_value=np.nan)
    if column.isna().any():
        raise ValueError("the column has missing values")
    values = column.to_numpy()
    if values.dtype.kind == "f" and not np.all(np.mod(values, 1) == 0):
        raise ValueError("the column has values that are not whole numbers")
    if values.dtype.kind not in "biuf":
        raise ValueError(f"the column holds {values.dtype} values, not numbers")
    return values.astype(dtype)
