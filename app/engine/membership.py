"""An inverted index from rows to the accepted groups that contain them."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.intp]


class Membership:
    """Rows -> positions of the accepted groups containing them, for ``n`` rows.

    A compressed (CSR) row index plus a short list of recently added groups that is merged in
    every ``merge_every`` additions, so adding a group costs amortized O(n + its rows) and a
    lookup costs O(rows asked + memberships found), whatever the number of other groups.
    """

    def __init__(self, n: int, merge_every: int = 16) -> None:
        self.n = n
        self.merge_every = merge_every
        self._indptr = np.zeros(n + 1, dtype=np.int64)
        self._members = np.empty(0, dtype=np.int32)
        self._pending: list[tuple[int, IntArray]] = []

    def add(self, position: int, rows: IntArray) -> None:
        """Record that the group at ``position`` contains ``rows`` (sorted, unique)."""
        self._pending.append((position, rows))
        if len(self._pending) >= self.merge_every:
            self._merge()

    def groups_touching(self, rows: IntArray) -> npt.NDArray[np.int64]:
        """Sorted positions of the groups that contain any of ``rows``."""
        if len(rows) == 0:
            return np.empty(0, dtype=np.int64)
        starts = self._indptr[rows]
        counts = self._indptr[rows + 1] - starts
        total = int(counts.sum())
        found = []
        if total:
            # Flat positions of every membership of the asked rows, without a Python loop.
            run_starts = np.repeat(starts - (np.cumsum(counts) - counts), counts)
            found.append(self._members[run_starts + np.arange(total)].astype(np.int64))
        if self._pending:
            hit = np.zeros(self.n, dtype=np.bool_)
            hit[rows] = True
            touched = [pos for pos, idx in self._pending if hit[idx].any()]
            found.append(np.asarray(touched, dtype=np.int64))
        if not found:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(found))

    def _merge(self) -> None:
        new_rows = np.concatenate([idx for _, idx in self._pending])
        new_members = np.concatenate(
            [np.full(len(idx), pos, dtype=np.int32) for pos, idx in self._pending]
        )
        self._pending = []
        old_counts = np.diff(self._indptr)
        counts = old_counts + np.bincount(new_rows, minlength=self.n)
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        members = np.empty(int(indptr[-1]), dtype=np.int32)
        # Old memberships keep their order within each row, at the start of the row's run.
        old_rows = np.repeat(np.arange(self.n), old_counts)
        old_rank = np.arange(len(self._members)) - self._indptr[old_rows]
        members[indptr[old_rows] + old_rank] = self._members
        # New memberships follow, ranked within their row.
        order = np.argsort(new_rows, kind="stable")
        sorted_rows = new_rows[order]
        new_rank = np.arange(len(sorted_rows)) - np.searchsorted(sorted_rows, sorted_rows)
        members[indptr[sorted_rows] + old_counts[sorted_rows] + new_rank] = new_members[order]
        self._indptr, self._members = indptr, members
