"""Datasets for demos, tests and benchmarks: the UCI Adult data and a synthetic generator.

Submodules are imported lazily, so that ``python -m bounty_engine.datasets.adult`` runs cleanly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bounty_engine.datasets.adult import ADULT_LABEL, load_adult
    from bounty_engine.datasets.synthetic import (
        PlantedGroup,
        SyntheticData,
        base_predictions,
        make_synthetic,
    )

__all__ = [
    "ADULT_LABEL",
    "PlantedGroup",
    "SyntheticData",
    "base_predictions",
    "load_adult",
    "make_synthetic",
]

_HOMES = {
    "ADULT_LABEL": "adult",
    "load_adult": "adult",
    "PlantedGroup": "synthetic",
    "SyntheticData": "synthetic",
    "base_predictions": "synthetic",
    "make_synthetic": "synthetic",
}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
