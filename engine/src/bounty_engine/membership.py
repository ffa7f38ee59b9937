"""An inverted index from rows to the accepted groups that contain them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.intp]
DENSE_FROM = 32  # groups of n / DENSE_FROM rows or more are bit columns


@dataclass(frozen=True)
class _Level:
    """A compressed (CSR) index of some groups: ``members[indptr[r]:indptr[r + 1]]`` hold row r."""

    indptr: npt.NDArray[np.int64]
    members: npt.NDArray[np.int32]


class Membership:
    """Rows -> positions of the accepted groups containing them, for ``n`` rows.

    Large groups (at least ``n / dense_from`` rows) are columns of a row-major bit matrix: one
    bit per row costs no more memory than their row lists would, is never merged, and answers
    a lookup in a handful of vectorized calls whatever their number (what a repair loop over
    large overlapping groups needs, for writes of a few rows each).

    Smaller groups wait in a short list until there are ``merge_every`` of them or they hold
    n/16 memberships; then they become a CSR level, and levels of similar size merge like a
    binary counter (a log-structured merge), so each membership is copied O(log groups) times
    in all and a lookup costs O(rows asked x levels + memberships found + n/16), whatever the
    number of groups that do not touch those rows.
    """

    def __init__(self, n: int, merge_every: int = 16, dense_from: int | None = None) -> None:
        self.n = n
        self.merge_every = merge_every
        self.dense_from = dense_from or DENSE_FROM
        self._levels: list[_Level] = []
        self._pending: list[tuple[int, IntArray]] = []
        self._pending_size = 0
        self._where = np.full(n, -1, dtype=np.int64)  # reused: row -> its place among the asked
        self._bits = np.zeros((n, 0), dtype=np.uint8)  # row -> bit c of the dense column c
        self._dense_positions = np.empty(0, dtype=np.int64)  # dense column -> group position

    def add(self, position: int, rows: IntArray) -> None:
        """Record that the group at ``position`` contains ``rows`` (unique)."""
        if len(rows) * self.dense_from >= self.n:
            self._add_dense(position, rows)
            return
        self._pending.append((position, rows))
        self._pending_size += len(rows)
        if len(self._pending) >= self.merge_every or self._pending_size * 16 >= self.n:
            self._flush()

    def groups_touching(self, rows: IntArray) -> npt.NDArray[np.int64]:
        """Sorted positions of the groups that contain any of ``rows``."""
        return np.unique(self.memberships(rows)[1])

    def memberships(self, rows: IntArray) -> tuple[IntArray, npt.NDArray[np.int64]]:
        """Every (asked row, group containing it) pair, as two aligned arrays: the row's place
        in ``rows`` (unique rows) and the group's position, ordered by group position."""
        found = []
        if len(self._dense_positions) and len(rows):
            found.append(self._dense_memberships(rows))
        found += [self._lookup(level, rows) for level in self._levels]
        if self._pending and len(rows):
            where = self._where
            where[rows] = np.arange(len(rows))  # a reused n-row buffer: no O(n) work per lookup
            for pos, idx in self._pending:
                place = where[idx]
                place = place[place >= 0]
                found.append((place, np.full(len(place), pos, dtype=np.int64)))
            where[rows] = -1
        if not found:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.int64)
        if len(found) == 1 and not self._levels:  # the bit columns or one pending group
            return found[0][0].astype(np.intp, copy=False), found[0][1]
        places = np.concatenate([place for place, _ in found])
        positions = np.concatenate([groups for _, groups in found])
        # A linear-time radix sort when positions fit in 16 bits.
        keys = (
            positions.astype(np.uint16)
            if len(positions) and positions.max() < 1 << 16
            else positions
        )
        order = np.argsort(keys, kind="stable")
        return places[order].astype(np.intp, copy=False), positions[order]

    def _dense_memberships(self, rows: IntArray) -> tuple[IntArray, npt.NDArray[np.int64]]:
        """The bit columns' (place, position) pairs for ``rows``, ordered by column."""
        count = len(self._dense_positions)
        block = np.take(self._bits, rows, axis=0)  # 10x faster than fancy indexing on 2-D
        if len(rows) <= 8:  # a few rows: fewer calls (2-D nonzero is slow on many)
            columns, places = np.nonzero(
                np.unpackbits(block, axis=1, count=count, bitorder="little").T
            )
        else:  # one line per column, so the pairs come out ordered by column
            bits = np.unpackbits(block.T, axis=0, count=count, bitorder="little")
            flat = np.flatnonzero(bits.view(np.bool_))
            columns = flat // len(rows)
            places = flat - columns * len(rows)
        return places, self._dense_positions[columns]

    def _add_dense(self, position: int, rows: IntArray) -> None:
        column = len(self._dense_positions)
        if column == 8 * self._bits.shape[1]:  # full: double the width (amortized O(n) a column)
            wider = np.zeros((self.n, max(1, 2 * self._bits.shape[1])), dtype=np.uint8)
            wider[:, : self._bits.shape[1]] = self._bits
            self._bits = wider
        byte = self._bits[:, column >> 3]  # a view
        byte[rows] |= np.uint8(1 << (column & 7))
        self._dense_positions = np.append(self._dense_positions, position)

    @staticmethod
    def _lookup(level: _Level, rows: IntArray) -> tuple[IntArray, npt.NDArray[np.int64]]:
        starts = level.indptr[rows]
        counts = level.indptr[rows + 1] - starts
        total = int(counts.sum())
        if not total:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.int64)
        # Flat positions of every membership of the asked rows, without a Python loop.
        run_starts = np.repeat(starts - (np.cumsum(counts) - counts), counts)
        places = np.repeat(np.arange(len(rows)), counts)
        return places, level.members[run_starts + np.arange(total)].astype(np.int64)

    def _flush(self) -> None:
        rows = np.concatenate([idx for _, idx in self._pending])
        members = np.concatenate(
            [np.full(len(idx), pos, dtype=np.int32) for pos, idx in self._pending]
        )
        self._pending = []
        self._pending_size = 0
        level = self._build(rows, members)
        while self._levels and len(self._levels[-1].members) <= 2 * len(level.members):
            level = self._merge(self._levels.pop(), level)
        self._levels.append(level)

    def _build(self, rows: npt.NDArray[np.int64], members: npt.NDArray[np.int32]) -> _Level:
        order = np.argsort(rows, kind="stable")
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.n), out=indptr[1:])
        return _Level(indptr, members[order])

    def _merge(self, a: _Level, b: _Level) -> _Level:
        """One level holding the memberships of ``a`` then ``b`` in each row, in O(n + size)."""
        counts_a, counts_b = np.diff(a.indptr), np.diff(b.indptr)
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(counts_a + counts_b, out=indptr[1:])
        members = np.empty(int(indptr[-1]), dtype=np.int32)
        # Each row's run in the merged level starts with a's memberships, then b's.
        for level, counts, start in (
            (a, counts_a, indptr[:-1]),
            (b, counts_b, indptr[:-1] + counts_a),
        ):
            row_of = np.repeat(np.arange(self.n), counts)
            rank = np.arange(len(level.members)) - level.indptr[row_of]
            members[start[row_of] + rank] = level.members
        return _Level(indptr, members)
