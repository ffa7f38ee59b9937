"""bench/engine's large-overlapping case runs, and its full-recompute baseline agrees with the
engine decision for decision (it raises otherwise)."""

from __future__ import annotations

from bench.engine import run_large


def test_large_overlapping_case_agrees_with_its_baseline() -> None:
    result = run_large(20_000, 20, repeats=4)
    assert result["groups"] == 20
    assert result["worst_repairs"] > 0  # the case sets off repairs, which the baseline redoes
