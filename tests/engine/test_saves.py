"""Buffered copy-on-write saves read back exactly what a plain per-group log holds, in order."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bounty_engine.saves import BestSaves

N_GROUPS = 4


@st.composite
def operations(draw: st.DrawFn) -> list[tuple]:
    """Saves (group -> rows), new bests and reads, in a random order."""
    ops: list[tuple] = []
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.sampled_from(["save", "save", "best", "read"]))
        if kind == "save":
            groups = draw(st.lists(st.integers(0, N_GROUPS - 1), min_size=1, max_size=N_GROUPS))
            sizes = [draw(st.integers(1, 4)) for _ in groups]
            ops.append(("save", sorted(zip(groups, sizes, strict=True))))
        else:
            ops.append((kind, draw(st.integers(0, N_GROUPS - 1))))
    return ops


@settings(max_examples=200, deadline=None)
@given(ops=operations(), hand_out_at=st.sampled_from([1, 2, 5, 10**6]))
def test_reads_match_a_plain_log(ops: list[tuple], hand_out_at: int) -> None:
    saves = BestSaves(hand_out_at)
    best_version = np.zeros(N_GROUPS, dtype=np.intp)
    log: list[tuple[int, int, int, int]] = []  # (group, its best then, row, prediction)
    for _ in range(N_GROUPS):
        saves.add_group(0)
    counter = 0
    for op in ops:
        if op[0] == "save":
            positions, rows, preds = [], [], []
            for group, size in op[1]:
                for _ in range(size):
                    counter += 1
                    positions.append(group)
                    rows.append(counter)  # a row is saved once per group and best
                    preds.append(10 * counter)
                    log.append((group, int(best_version[group]), counter, 10 * counter))
            saves.save(
                np.array(positions, dtype=np.int64),
                np.array(rows, dtype=np.intp),
                np.array(preds, dtype=np.int64),
                best_version,
            )
        elif op[0] == "best":
            best_version[op[1]] = best_version.max() + 1
        else:
            group = op[1]
            got_rows, got_preds = saves.read(
                group, int(best_version[group]), np.empty(0, dtype=np.intp)
            )
            want = [(r, p) for g, b, r, p in log if g == group and b == best_version[group]]
            assert list(zip(got_rows.tolist(), got_preds.tolist(), strict=True)) == want
