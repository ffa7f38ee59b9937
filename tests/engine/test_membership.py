"""The row -> group index agrees with a brute-force scan, across merges."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.membership import Membership


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 80),
    n_groups=st.integers(0, 40),
    merge_every=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_lookups_match_brute_force(n: int, n_groups: int, merge_every: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    index = Membership(n, merge_every=merge_every)
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
        got = sorted(zip(asked[places].tolist(), positions.tolist(), strict=True))
        pairs = sorted(
            (int(r), g) for g, members in enumerate(groups) for r in asked if r in members
        )
        assert got == pairs
