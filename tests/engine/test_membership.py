"""The row -> group index agrees with a brute-force scan, across merges and with large groups
held as bit columns (some, all, or none of them)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bounty_engine.membership import Membership


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 80),
    n_groups=st.integers(0, 40),
    merge_every=st.integers(1, 6),
    dense_from=st.sampled_from([1, 3, 8, 10**9]),
    seed=st.integers(0, 2**32 - 1),
)
def test_lookups_match_brute_force(
    n: int, n_groups: int, merge_every: int, dense_from: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    index = Membership(n, merge_every=merge_every, dense_from=dense_from)
    groups = []
    for pos in range(n_groups):
        rows = np.flatnonzero(rng.random(n) < rng.uniform(0, 0.5))
        index.add(pos, rows)
        groups.append(set(rows.tolist()))
        asked = rng.permutation(n)[: rng.integers(0, n + 1)]
        want = [g for g, members in enumerate(groups) if members & set(asked.tolist())]
        assert index.groups_touching(asked).tolist() == want
        # Every (asked row, group holding it) pair, by the row's place among the asked.
        places, positions = index.memberships(asked)
        assert (np.diff(positions) >= 0).all()  # ordered by group, as saving them needs
        got = sorted(zip(asked[places].tolist(), positions.tolist(), strict=True))
        pairs = sorted(
            (int(r), g) for g, members in enumerate(groups) for r in asked if r in members
        )
        assert got == pairs


def test_large_groups_are_bit_columns_that_widen_as_groups_come() -> None:
    n = 10
    index = Membership(n, dense_from=2)  # groups of 5 rows or more are bit columns
    for pos in range(20):
        index.add(pos, np.arange(pos % 2, n, 2) if pos % 3 else np.arange(n))
    index.add(20, np.array([3]))  # a small group: a row list, as before
    assert index._bits.shape == (n, 4)  # 20 columns: 1, then 2, then 4 bytes a row
    assert index.groups_touching(np.array([3])).tolist() == [
        pos for pos in range(20) if pos % 3 == 0 or pos % 2 == 1
    ] + [20]
    assert index.groups_touching(np.array([], dtype=np.intp)).tolist() == []
