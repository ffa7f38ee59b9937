"""The pointer decision list: f0 under a list of patch and pointer nodes (docs/acceptance.md).

Version v is f0 under the first v nodes, the newest node checked first. A patch node (g -> h)
predicts h(x) for x in g; a pointer node (g -> b) predicts what version b predicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from bounty_engine.groups import Group
from bounty_engine.models import LoadedModel
from bounty_engine.predictions import decode_predictions, encode_predictions
from bounty_engine.schema import LabelInfo

Array = npt.NDArray[np.generic]


@dataclass(frozen=True)
class PatchNode:
    """For rows in ``group``, predict with ``model``."""

    key: str
    group: Group
    model: LoadedModel


@dataclass(frozen=True)
class PointerNode:
    """For rows in ``group``, predict what version ``target_version`` predicts."""

    key: str
    group: Group
    target_version: int


Node = PatchNode | PointerNode


class PointerDecisionList:
    """A deployed model: the base model f0 and the nodes prepended to it, oldest first."""

    def __init__(self, base: LoadedModel, label: LabelInfo, nodes: Iterable[Node] = ()) -> None:
        self.base = base
        self.label = label
        self.nodes: list[Node] = []
        self._patched: dict[str, Group] = {}
        for node in nodes:
            self.append(node)

    @property
    def head_version(self) -> int:
        """The newest version (0 is f0)."""
        return len(self.nodes)

    def append(self, node: Node) -> int:
        """Prepend ``node`` to the list (it is checked first); returns the new version.

        Keys name groups: a patch node brings a new key, and a pointer node repairs the group
        of an earlier patch node, so it must carry the same key and group.
        """
        if isinstance(node, PatchNode):
            if node.key in self._patched:
                raise ValueError(f"a patch node with key {node.key!r} is already in the list")
            self._patched[node.key] = node.group
        else:
            if not 0 <= node.target_version <= self.head_version:
                raise ValueError(f"pointer to version {node.target_version}, which does not exist")
            patched = self._patched.get(node.key)
            if patched is None or patched.spec() != node.group.spec():
                raise ValueError(f"pointer node {node.key!r} does not repeat its patch's group")
        self.nodes.append(node)
        return self.head_version

    def predict_codes(self, features: pd.DataFrame, version: int | None = None) -> Array:
        """Encoded predictions of a version (default: the head) on prepared features."""
        version = self.head_version if version is None else version
        if not 0 <= version <= self.head_version:
            raise ValueError(f"version {version} does not exist")
        nodes = self.nodes[:version]
        targets = {n.target_version for n in nodes if isinstance(n, PointerNode)}
        n_rows = len(features)
        pred = encode_predictions(self.base.predict(features), n_rows, self.label)
        snapshots = {0: pred.copy()} if 0 in targets else {}
        masks: dict[str, npt.NDArray[np.bool_]] = {}  # a key's group is evaluated once
        for v, node in enumerate(nodes, start=1):
            if node.key not in masks:
                masks[node.key] = node.group.mask(features)
            mask = masks[node.key]
            if isinstance(node, PatchNode):
                if mask.any():
                    raw = node.model.predict(features.loc[mask])
                    pred[mask] = encode_predictions(raw, int(mask.sum()), self.label)
            else:
                pred[mask] = snapshots[node.target_version][mask]
            if v in targets:
                snapshots[v] = pred.copy()
        return pred

    def predict(self, features: pd.DataFrame, version: int | None = None) -> Array:
        """Predictions of a version (default: the head), as label values."""
        return decode_predictions(self.predict_codes(features, version), self.label)
