"""Loading ONNX models into onnxruntime (CPU, one thread) and feeding them DataFrame columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pandas as pd

from bounty_engine.errors import ModelLoadError, PredictionError
from bounty_engine.models.messages import describe_exception, failures_as, name_list
from bounty_engine.models.protobuf import ProtobufError, onnx_has_external_data

_ONNX_TYPES: dict[str, np.dtype[Any]] = {
    "tensor(float)": np.dtype(np.float32),
    "tensor(double)": np.dtype(np.float64),
    "tensor(int64)": np.dtype(np.int64),
    "tensor(int32)": np.dtype(np.int32),
    "tensor(string)": np.dtype(object),
}
_LABEL_OUTPUTS = ("label", "output_label", "variable")


def load_onnx(data: bytes, feature_names: Sequence[str] | None) -> OnnxRunner:
    """A runner for the ONNX model in ``data``; ``ModelLoadError`` if it cannot be used."""
    try:
        external = onnx_has_external_data(data)
    except ProtobufError as exc:
        raise ModelLoadError(f"the ONNX file is malformed ({exc})") from exc
    if external:
        raise ModelLoadError(
            "the ONNX model stores tensors in external data files, which are not supported; "
            "save it as one file (onnx.save_model(model, path, save_as_external_data=False))"
        )
    with failures_as(ModelLoadError, "onnxruntime cannot load the model"):
        session = ort.InferenceSession(data, _session_options(), providers=["CPUExecutionProvider"])
    runner = OnnxRunner(session)
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


class OnnxRunner:
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
                    f"name the inputs after feature columns: {name_list(columns)}"
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
                f"the ONNX model has inputs that are not feature columns: {name_list(unknown)}; "
                f"the feature columns are {name_list(columns)}"
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
            f"numeric feature columns ({name_list(map(str, numeric))}); name the model's inputs "
            "after feature columns, or make it take exactly the numeric columns"
        )
    return X[numeric].to_numpy(dtype=spec.dtype, na_value=np.nan)


def _column_feed(column: pd.Series[Any], spec: _OnnxInput) -> npt.NDArray[Any]:
    try:
        values = _convert_column(column, spec.dtype)
    except (ValueError, TypeError) as exc:
        raise PredictionError(
            f"column {spec.name!r} cannot be fed to the ONNX input of type {spec.type}: "
            f"{describe_exception(exc)}"
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
