"""The accepted groups of a round, held as arrays for the repair loop (docs/acceptance.md).

A repair usually rewrites a handful of rows that belong to dozens of groups, so what it costs is
the bookkeeping per group, not the data: every group's current and best loss on the decision
split, its best version and whether it breaks the repair rule are numpy arrays indexed by the
group's position (its place in acceptance order), and a write updates all the groups it touches
in a few vectorized calls.

Losses are kept in *ticks*: whole 0-1 errors for classification (int64), exact
``bounty_engine.exact`` units for regression (Python integers in an object array). Either way the
sums are exact, so comparing a group's loss with its best never depends on float rounding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bounty_engine.exact import SCALE_BITS
from bounty_engine.saves import BestSaves

Array = npt.NDArray[np.generic]
IntArray = npt.NDArray[np.intp]
TickArray = npt.NDArray[Any]  # int64 (classification) or object (regression)


@dataclass(frozen=True)
class AcceptedGroup:
    """A snapshot of one accepted group; losses in exact units (``bounty_engine.exact``)."""

    key: str
    position: int
    accepted_version: int
    n_rows: int
    rows: Mapping[str, IntArray]
    loss_units: int
    best_units: int
    best_version: int


class AcceptedGroups:
    """Every accepted group's rows and repair state, by position.

    ``counts`` says whether per-row losses are whole numbers (0-1 loss), kept as int64 ticks;
    otherwise ticks are exact units. ``repair_ticks``: a group breaks the repair rule when its
    loss exceeds its best by more than this many ticks.

    The best version's predictions are kept copy-on-write, per split (``bounty_engine.saves``).
    """

    def __init__(self, splits: Sequence[str], *, counts: bool, repair_ticks: int) -> None:
        self.counts = counts
        self.repair_ticks = repair_ticks
        self.shift = SCALE_BITS if counts else 0  # units = ticks << shift
        self.keys: list[str] = []
        self.rows: list[dict[str, IntArray]] = []
        self.accepted_version: list[int] = []
        self.n_rows = np.empty(0, dtype=np.int64)
        self.current: TickArray = np.empty(0, dtype=np.int64 if counts else object)
        self.best: TickArray = self.current.copy()
        self.best_version = np.empty(0, dtype=np.intp)
        self.violating = np.empty(0, dtype=np.bool_)
        self.saves = {split: BestSaves() for split in splits}

    def __len__(self) -> int:
        return len(self.keys)

    def add(
        self, key: str, rows: dict[str, IntArray], n_rows: int, ticks: int, version: int
    ) -> int:
        """Append a group accepted at ``version`` with loss ``ticks`` (its best so far)."""
        self.keys.append(key)
        self.rows.append(rows)
        self.accepted_version.append(version)
        self.n_rows = np.append(self.n_rows, n_rows)
        self.current = np.append(self.current, np.array([ticks], dtype=self.current.dtype))
        self.best = np.append(self.best, np.array([ticks], dtype=self.best.dtype))
        self.best_version = np.append(self.best_version, version)
        self.violating = np.append(self.violating, False)
        for saves in self.saves.values():
            saves.add_group(version)
        return len(self.keys) - 1

    def move(self, positions: npt.NDArray[np.int64], deltas: TickArray, version: int) -> None:
        """Add ``deltas`` to the losses of the groups at ``positions`` (unique), as ``version``
        makes them: a group whose loss falls below its best gets ``version`` as its best, and
        which groups break the repair rule is updated."""
        if not len(positions):
            return
        current = self.current[positions] + deltas
        best = self.best[positions]
        self.current[positions] = current
        self.violating[positions] = (current - best) > self.repair_ticks
        better = np.asarray(current < best, dtype=np.bool_)
        if better.any():
            improved = positions[better]
            self.best[improved] = current[better]
            self.best_version[improved] = version  # the head is the best: saves are stale

    def first_violating(self) -> int | None:
        """The earliest accepted group that breaks the repair rule, if any."""
        if not len(self.violating):
            return None
        first = int(self.violating.argmax())  # 0 when none is
        return first if self.violating[first] else None

    def save(
        self, split: str, rows: IntArray, positions: npt.NDArray[np.int64], pred: Array
    ) -> None:
        """Before ``rows`` of ``split`` are first written since the best version of the group
        at the aligned ``positions`` (ordered by position), keep their predictions ``pred``."""
        self.saves[split].save(positions, rows, pred, self.best_version)

    def best_predictions(self, split: str, position: int) -> tuple[IntArray, Array]:
        """The rows of ``split`` where the head may differ from the group's best version, and
        the best version's predictions on them."""
        no_rows = self.rows[position][split][:0]
        return self.saves[split].read(position, int(self.best_version[position]), no_rows)

    def units(self, ticks: Any) -> int:
        """Ticks as exact units (``bounty_engine.exact``)."""
        return int(ticks) << self.shift

    def snapshot(self, position: int) -> AcceptedGroup:
        """The group at ``position`` as it stands."""
        return AcceptedGroup(
            key=self.keys[position],
            position=position,
            accepted_version=self.accepted_version[position],
            n_rows=int(self.n_rows[position]),
            rows=self.rows[position],
            loss_units=self.units(self.current[position]),
            best_units=self.units(self.best[position]),
            best_version=int(self.best_version[position]),
        )
