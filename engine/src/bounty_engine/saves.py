"""Copy-on-write saves of the accepted groups' best predictions, on one split.

A repair gives a group back its best version's predictions (docs/acceptance.md, "Repairs").
Rather than copying a group's predictions at each new best, the first write to one of its rows
since that best saves the row's old prediction for the group. A save is tagged with the best
version it belongs to, so a later best makes it stale without touching it.

A write in a repair cascade changes a few rows that belong to a dozen groups. Handing each
group its saves would cost a Python step per group and write; instead small saves wait in flat
buffers and are handed out ``hand_out_at`` at a time, and reading a group takes its waiting
saves out of the buffer with a vectorized filter.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.generic]
IntArray = npt.NDArray[np.intp]
Positions = npt.NDArray[np.int64]

_TAKEN = -1  # the tag of a buffered save already handed to its group by a read
HAND_OUT_AT = 4096  # measured: flat between 2,048 and 8,192 on bench/engine's repair cascades


class BestSaves:
    """The saved best-version predictions of every accepted group on one split."""

    def __init__(self, hand_out_at: int | None = None) -> None:
        self.hand_out_at = hand_out_at or HAND_OUT_AT
        self._kept: list[tuple[int, list[tuple[IntArray, Array]]]] = []  # per group: tag, saves
        capacity = 2 * self.hand_out_at  # a buffer below hand_out_at plus a save below it
        self._positions = np.empty(capacity, dtype=np.int64)
        self._rows = np.empty(capacity, dtype=np.intp)
        self._tags = np.empty(capacity, dtype=np.intp)
        self._preds: Array | None = None  # allocated with the split's prediction dtype
        self._size = 0

    def add_group(self, best_version: int) -> None:
        """Start the saves of a newly accepted group (its best version is the head)."""
        self._kept.append((best_version, []))

    def save(
        self, positions: Positions, rows: IntArray, preds: Array, best_version: IntArray
    ) -> None:
        """Keep ``preds`` on ``rows`` for the groups at the aligned ``positions`` (ordered by
        position): the head's predictions before a first write since each group's best
        version (``best_version``, by position)."""
        if len(positions) >= self.hand_out_at:  # a large write: hand it out at once,
            self.flush(best_version)  # after the saves made before it (they come first)
            self._hand_out(positions, rows, preds, best_version)
            return
        start, end = self._size, self._size + len(positions)
        if self._preds is None:
            self._preds = np.empty(len(self._rows), dtype=preds.dtype)
        self._positions[start:end] = positions
        self._rows[start:end] = rows
        self._preds[start:end] = preds
        self._tags[start:end] = best_version[positions]
        self._size = end
        if end >= self.hand_out_at:
            self.flush(best_version)

    def read(self, position: int, best_version: int, no_rows: IntArray) -> tuple[IntArray, Array]:
        """The rows where the head may differ from the group's best version ``best_version``,
        and that version's predictions on them (``no_rows``: an empty row array)."""
        tag, kept = self._kept[position]
        if tag != best_version:
            kept = []
            self._kept[position] = (best_version, kept)
        if self._size and self._preds is not None:
            size = self._size
            waiting = (self._positions[:size] == position) & (self._tags[:size] == best_version)
            if waiting.any():
                kept.append((self._rows[:size][waiting], self._preds[:size][waiting]))
                self._tags[:size][waiting] = _TAKEN
        if not kept:
            return no_rows, np.empty(0, dtype=np.float64)
        if len(kept) > 1:
            rows = np.concatenate([r for r, _ in kept])
            kept[:] = [(rows, np.concatenate([p for _, p in kept]))]
        return kept[0]

    def flush(self, best_version: IntArray) -> None:
        """Hand every buffered save that is not stale to its group."""
        size, self._size = self._size, 0
        if not size or self._preds is None:
            return
        positions = self._positions[:size]
        live = np.flatnonzero(self._tags[:size] == best_version[positions])
        keys = positions[live]
        # Ordered by group with a linear-time radix sort (16-bit keys), stable.
        radix = keys.astype(np.uint16) if len(self._kept) <= 1 << 16 else keys
        order = live[np.argsort(radix, kind="stable")]
        self._hand_out(positions[order], self._rows[order], self._preds[order], best_version)

    def _hand_out(
        self, positions: Positions, rows: IntArray, preds: Array, best_version: IntArray
    ) -> None:
        """Append live saves, ordered by position, to their groups' lists; a group whose list
        holds stale saves gets a fresh one."""
        if not len(positions):
            return
        starts = np.flatnonzero(positions[1:] != positions[:-1]) + 1
        bounds = [0, *starts.tolist(), len(positions)]
        groups = positions[bounds[:-1]]
        kept_by_group = self._kept
        for pos, best, start, end in zip(
            groups.tolist(), best_version[groups].tolist(), bounds, bounds[1:], strict=False
        ):
            tag, kept = kept_by_group[pos]
            if tag != best:
                kept = []
                kept_by_group[pos] = (best, kept)
            kept.append((rows[start:end], preds[start:end]))
