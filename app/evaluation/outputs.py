"""Pair outputs (group masks and encoded predictions per split) as stored artifacts."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np

from app.core.storage import ArtifactStore
from bounty_engine.decision import PairOutput


def dump_outputs(outputs: Mapping[str, PairOutput]) -> bytes:
    """An ``.npz`` of ``mask-<split>`` and ``pred-<split>`` arrays."""
    arrays: dict[str, Any] = {}
    for split, out in outputs.items():
        arrays[f"mask-{split}"] = out.mask
        arrays[f"pred-{split}"] = out.predictions
    buffer = io.BytesIO()
    save: Any = np.savez_compressed  # numpy's stub does not type array keyword arguments
    save(buffer, **arrays)
    return buffer.getvalue()


def load_outputs(store: ArtifactStore, sha256: str) -> dict[str, PairOutput]:
    """The outputs stored under ``sha256`` (never unpickled)."""
    with np.load(io.BytesIO(store.read_bytes(sha256)), allow_pickle=False) as arrays:
        splits = {name.removeprefix("mask-") for name in arrays.files if name.startswith("mask-")}
        return {s: PairOutput(arrays[f"mask-{s}"], arrays[f"pred-{s}"]) for s in splits}
