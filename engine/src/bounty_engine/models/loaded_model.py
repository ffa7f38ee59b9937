"""The result of loading: a model file that passed the safety checks, ready to predict."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from bounty_engine.errors import PredictionError
from bounty_engine.models.messages import failures_as


class ModelFormat(StrEnum):
    """The model file formats the platform runs."""

    SKOPS = "skops"
    ONNX = "onnx"
    BUNDLE = "bundle"
    """A model bundle (``bounty_engine.bundle``): a round's whole model, used as the base model
    of a follow-up round; every model inside is loaded by the loaders above."""


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
        with failures_as(PredictionError, "the model failed while predicting"):
            result = np.asarray(self._runner(X))
        if result.ndim == 2 and result.shape[1] == 1:
            result = result[:, 0]
        return result
