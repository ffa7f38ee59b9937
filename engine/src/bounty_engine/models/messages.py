"""Wording shared by the error messages of model loading and prediction."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from bounty_engine.errors import EngineError

HOW_TO_SAVE = (
    "save a scikit-learn model with skops.io.dump(model, 'model.skops') or export it to ONNX"
)

_ORT_ERROR_PREFIX = re.compile(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*")


def describe_exception(exc: BaseException) -> str:
    """``ValueError: first line of the message``, shortened."""
    lines = str(exc).strip().splitlines()
    first = _ORT_ERROR_PREFIX.sub("", lines[0] if lines else "")
    first = first if len(first) <= 300 else first[:297] + "..."
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


@contextmanager
def failures_as(error: type[EngineError], prefix: str) -> Iterator[None]:
    """Re-raise any exception except an ``EngineError`` as ``error("prefix: description")``."""
    try:
        yield
    except EngineError:
        raise
    except Exception as exc:
        raise error(f"{prefix}: {describe_exception(exc)}") from exc


def name_list(names: Iterable[str], limit: int = 20) -> str:
    """``'a', 'b' and 3 more``: the first ``limit`` names, quoted."""
    listed = list(names)
    shown = ", ".join(repr(n) for n in listed[:limit])
    return shown + (f" and {len(listed) - limit} more" if len(listed) > limit else "")
