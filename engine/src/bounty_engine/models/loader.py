"""``load_model``: read a model file, recognise its format and load it with the right loader.

Each format's loader is imported when a file of that format is loaded: importing the engine (a
server process, the client's commands) then costs no skops, scikit-learn or onnxruntime.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from bounty_engine.errors import ModelLoadError
from bounty_engine.models.formats import sniff_format
from bounty_engine.models.loaded_model import LoadedModel, ModelFormat


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
        from bounty_engine.models.skops_loader import load_skops  # noqa: PLC0415 (below)

        runner = load_skops(data, feature_names)
    elif model_format is ModelFormat.BUNDLE:
        # The bundle module loads its models through this function: imported here, not above.
        from bounty_engine.bundle import bundle_runner  # noqa: PLC0415

        runner = bundle_runner(data, feature_names)
    else:
        from bounty_engine.models.onnx_loader import load_onnx  # noqa: PLC0415 (below)

        runner = load_onnx(data, feature_names)
    return LoadedModel(model_format, data, runner)


def _read_source(source: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"cannot read the model file: {exc.strerror or exc}") from exc


def dump_sklearn_model(model: object) -> bytes:
    """A scikit-learn model as skops bytes (what ``load_model`` reads back)."""
    from bounty_engine.models.skops_loader import dump_sklearn_model as dump  # noqa: PLC0415

    return dump(model)
