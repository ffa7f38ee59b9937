"""Exact sums agree with rational arithmetic, whatever the order or magnitude of the values."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bounty_engine.exact import SCALE_BITS, exact_sum, exact_sums_by, to_float, to_units

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(arrays(np.float64, st.integers(0, 200), elements=finite))
def test_exact_sum_is_the_rational_sum(values: np.ndarray) -> None:
    want = sum((Fraction(float(v)) for v in values), Fraction(0))
    assert Fraction(exact_sum(values), 1 << SCALE_BITS) == want
    assert exact_sum(values[::-1]) == exact_sum(values)


@given(arrays(np.float64, st.integers(1, 100), elements=st.floats(0, 1e6)), st.integers(1, 10**6))
def test_to_float_rounds_correctly(values: np.ndarray, divisor: int) -> None:
    want = sum((Fraction(float(v)) for v in values), Fraction(0)) / divisor
    assert to_float(exact_sum(values), divisor) == float(want)


def test_order_independence_where_float_sums_differ() -> None:
    a, b = np.array([0.1, 0.2, 0.3]), np.array([0.3, 0.2, 0.1])
    assert a.sum() != b.sum()
    assert exact_sum(a) == exact_sum(b)


def test_overflowing_sums_become_infinite_floats() -> None:
    assert to_float(exact_sum(np.array([1.7e308, 1.7e308]))) == float("inf")


def test_to_units_is_exact() -> None:
    assert to_units(0.5) == Fraction(1 << (SCALE_BITS - 1))


@given(
    arrays(np.float64, st.integers(0, 120), elements=finite),
    st.integers(1, 6),
    st.integers(0, 2**32 - 1),
)
def test_exact_sums_by_label_are_each_labels_exact_sum(
    values: np.ndarray, n_labels: int, seed: int
) -> None:
    labels = np.random.default_rng(seed).integers(0, n_labels, len(values))
    got = exact_sums_by(values, labels, n_labels)
    assert got == [exact_sum(values[labels == label]) for label in range(n_labels)]
