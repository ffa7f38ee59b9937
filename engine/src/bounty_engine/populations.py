"""A round's model versions measured on a population no decision saw (a deployment population).

An organizer's own customers are not the holdout: this answers whether the bounty's fixes carry
over to them. Given the base model's predictions on the population's rows and each accepted
pair's output there (its group and its predictions on the group, run in the sandbox like any
pair), every version's predictions follow from the pointer decision list (``bounty_engine.pdl``:
a patch node gives its group h's predictions, a pointer node gives its group what its target
version predicted). Nothing here decides anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from bounty_engine.decision import PairOutput
from bounty_engine.errors import EngineError

Array = npt.NDArray[np.generic]


@dataclass(frozen=True)
class VersionNode:
    """The node that made a version: a patch of ``key``'s group, or a pointer that gives that
    group back ``target_version``'s predictions."""

    kind: Literal["patch", "pointer"]
    key: str
    target_version: int | None = None


def version_predictions(
    base: Array, nodes: Sequence[VersionNode], outputs: Mapping[str, PairOutput]
) -> list[Array]:
    """The predictions of versions 0 (``base``) to ``len(nodes)`` on the population's rows, from
    each patched group's output there (``outputs`` by key)."""
    versions = [np.asarray(base)]
    for v, node in enumerate(nodes, start=1):
        out = outputs.get(node.key)
        if out is None:
            raise EngineError(f"version {v}: no output of pair {node.key!r} on the population")
        pred = versions[-1].copy()
        mask = np.asarray(out.mask)
        if mask.shape != pred.shape:
            raise EngineError(f"version {v}: the group's mask does not cover the population")
        if node.kind == "patch":
            pred[mask] = out.predictions
        else:
            if node.target_version is None or not 0 <= node.target_version < v:
                raise EngineError(f"version {v}: a pointer to version {node.target_version}")
            pred[mask] = versions[node.target_version][mask]
        versions.append(pred)
    return versions
