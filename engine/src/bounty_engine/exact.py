"""Exact sums of float64 arrays, vectorized.

Group losses are compared with each other across versions; float sums depend on the order of
addition, so two equal losses could differ by an ulp and make the repair loop chase rounding
noise forever. Here every finite float64 is an integer multiple of 2**-SCALE_BITS, so a sum is
kept as an exact Python integer in those units and compared or converted with correct rounding.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import numpy.typing as npt

SCALE_BITS = 1126  # 2**-1126 divides every float64: subnormals are multiples of 2**-1074.
_HALF_BITS = 27  # mantissas split in halves of < 2**27 sum exactly in float64 for < 2**26 rows


def _integer_parts(
    values: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64], int]:
    """Each nonempty finite value as ``(high * 2**_HALF_BITS + low) * 2**(bin + low_shift)``
    units: the halves as floats (for bincount), the bins, and the common ``low_shift``."""
    mantissa, exponent = np.frexp(values)
    ints = np.ldexp(mantissa, 53).astype(np.int64)  # exact: |ints| < 2**53
    shift = exponent.astype(np.int64) - 53 + SCALE_BITS  # value = ints * 2**shift units, >= 0
    low_shift = int(shift.min())
    high = (ints >> _HALF_BITS).astype(np.float64)
    low = (ints & ((1 << _HALF_BITS) - 1)).astype(np.float64)
    return high, low, shift - low_shift, low_shift


def exact_sum(values: npt.NDArray[np.float64]) -> int:
    """The exact sum of finite ``values``, in units of ``2**-SCALE_BITS``."""
    if values.size == 0:
        return 0
    halves_high, halves_low, bins, low_shift = _integer_parts(values)
    # Each bin's sum of 27-bit halves stays below 2**53, where float64 holds integers exactly.
    high = np.bincount(bins, weights=halves_high)
    low = np.bincount(bins, weights=halves_low)
    total = 0
    for b in np.flatnonzero((high != 0) | (low != 0)).tolist():
        total += ((int(high[b]) << _HALF_BITS) + int(low[b])) << b
    return total << low_shift


def to_float(units: int, divisor: int = 1) -> float:
    """``units * 2**-SCALE_BITS / divisor``, correctly rounded (infinite beyond float range)."""
    try:
        return units / (divisor << SCALE_BITS)  # int / int is correctly rounded in Python
    except OverflowError:
        return math.inf if units > 0 else -math.inf


def to_units(value: float) -> Fraction:
    """A float as an exact number of ``2**-SCALE_BITS`` units, for exact comparisons."""
    return Fraction(value) * (1 << SCALE_BITS)


def decimal_units(value: float) -> Fraction:
    """A threshold as the decimal number it was written as, in ``2**-SCALE_BITS`` units: 0.002
    is exactly 1/500, not the binary float just above it (which would ask a 1000-row holdout
    for more than the 2 rows the organizer meant)."""
    return Fraction(repr(float(value))) * (1 << SCALE_BITS)


def exact_sums_by(
    values: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], n_labels: int
) -> list[int]:
    """The exact sum of the finite ``values`` with each label in ``range(n_labels)``, in units of
    ``2**-SCALE_BITS``: ``exact_sum`` for many subsets in one vectorized pass."""
    totals = [0] * n_labels
    if values.size == 0:
        return totals
    halves_high, halves_low, bins, low_shift = _integer_parts(values)
    width = int(bins.max()) + 1
    keys = labels * width + bins
    high = np.bincount(keys, weights=halves_high, minlength=n_labels * width)
    low = np.bincount(keys, weights=halves_low, minlength=n_labels * width)
    for key in np.flatnonzero((high != 0) | (low != 0)).tolist():
        label, b = divmod(key, width)
        totals[label] += ((int(high[key]) << _HALF_BITS) + int(low[key])) << b
    return [total << low_shift for total in totals]
