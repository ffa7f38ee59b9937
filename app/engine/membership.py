"""An inverted index from rows to the accepted groups that contain them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class _Level:
    """A compressed (CSR) index of some groups: ``members[indptr[r]:indptr[r + 1]]`` hold row r."""

    indptr: npt.NDArray[np.int64]
    members: npt.NDArray[np.int32]


class Membership:
    """Rows -> positions of the accepted groups containing them, for ``n`` rows.

    Recently added groups wait in a short list until there are ``merge_every`` of them or they
    hold n/16 memberships; then they become a CSR level, and levels of similar size merge like
    a binary counter (a log-structured merge), so each membership is copied O(log groups) times
    in all and a lookup costs O(rows asked x levels + memberships found + n/16), whatever the
    number of groups that do not touch those rows.
    """

    def __init__(self, n: int, merge_every: int = 16) -> None:
        self.n = n
        self.merge_every = merge_every
        self._levels: list[_Level] = []
        self._pending: list[tuple[int, IntArray]] = []
        self._pending_size = 0
        self._where = np.full(n, -1, dtype=np.int64)  # reused: row -> its place among the asked

    def add(self, position: int, rows: IntArray) -> None:
        """Record that the group at ``position`` contains ``rows`` (unique)."""
        self._pending.append((position, rows))
        self._pending_size += len(rows)
        if len(self._pending) >= self.merge_every or self._pending_size * 16 >= self.n:
            self._flush()

    def groups_touching(self, rows: IntArray) -> npt.NDArray[np.int64]:
        """Sorted positions of the groups that contain any of ``rows``."""
        return np.unique(self.memberships(rows)[1])

    def memberships(self, rows: IntArray) -> tuple[IntArray, npt.NDArray[np.int64]]:
        """Every (asked row, group containing it) pair, as two aligned arrays: the row's place
        in ``rows`` (unique rows) and the group's position, in no particular order."""
        found = [self._lookup(level, rows) for level in self._levels]
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
        return (
            np.concatenate([place for place, _ in found]).astype(np.intp, copy=False),
            np.concatenate([groups for _, groups in found]),
        )

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
