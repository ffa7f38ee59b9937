"""A model version's predictions on the public train split, stored as an artifact.

Participants download them to check a pair locally against the current model (``bounty
check``): the train split is public, so the head's predictions on it disclose nothing about
the holdout. Stored as label codes in an ``.npz`` (never unpickled) and served decoded.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from app.core.storage import ArtifactStore
from bounty_engine.predictions import decode_predictions
from bounty_engine.schema import LabelInfo


def store_train_predictions(store: ArtifactStore, codes: npt.ArrayLike) -> str:
    """Store encoded train predictions; returns their sha256."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, pred=np.asarray(codes))
    return store.put_bytes(buffer.getvalue())


def load_train_predictions(store: ArtifactStore, sha256: str) -> npt.NDArray[Any]:
    """The encoded predictions stored under ``sha256``."""
    with np.load(io.BytesIO(store.read_bytes(sha256)), allow_pickle=False) as arrays:
        return np.asarray(arrays["pred"])


def train_predictions_parquet(store: ArtifactStore, sha256: str, label: LabelInfo) -> bytes:
    """The predictions decoded to label values: a Parquet table with one ``prediction``
    column, a row for each row of the train split, in its order."""
    decoded = decode_predictions(load_train_predictions(store, sha256), label)
    buffer = io.BytesIO()
    pd.DataFrame({"prediction": decoded}).to_parquet(buffer, index=False)
    return buffer.getvalue()
