"""How exactly a round's holdout numbers are shown (docs/disclosure.md): the 1-2-5 rounding
steps, means over the whole holdout, and who sees them exactly.

The round's organizer always sees every number exactly; everyone else sees them as the round's
``disclosure`` setting allows. ``disclosure_for`` is the one place that rule is written.
"""

from __future__ import annotations

import math

from app.rounds.engine_view import round_loss
from app.rounds.models import Disclosure, Round


def disclosure_for(round_: Round, *, organizer: bool) -> Disclosure:
    """How exactly a viewer sees the round's holdout numbers: exactly if they organize it,
    else as the round's setting says."""
    return Disclosure.EXACT if organizer else Disclosure(round_.disclosure)


def step_at_least(spread: float) -> float:
    """The smallest step of the series 1, 2, 5, 10, 20, ... x 10^k that is at least ``spread``
    (0 for a spread that is not a positive finite number: nothing to round)."""
    if not (spread > 0 and math.isfinite(spread)):
        return 0.0
    power = 10.0 ** math.floor(math.log10(spread))
    for multiple in (1, 2, 5, 10):
        step = multiple * power
        if step >= spread * (1 - 1e-12):
            return step
    return 10 * power  # unreachable: 10 * power > spread


def round_to_step(value: float, step: float) -> float:
    """``value`` to the nearest multiple of ``step``, as a clean decimal (``step`` 0: as is)."""
    if step <= 0:
        return value
    digits = max(0, -math.floor(math.log10(step)))
    return round(round(value / step) * step, digits)


def loss_scale(round_: Round, *values: float | None) -> float:
    """The size of one row's loss: its bound (1 for zero_one, the largest cost, the clip) if
    it has one, else the values' own size."""
    bound = round_loss(round_).row_bound
    if bound is not None:
        return bound
    return max((abs(v) for v in values if v is not None), default=0.0)


def holdout_mean(value: float | None, round_: Round, disclosure: Disclosure) -> float | None:
    """A mean over the whole holdout (a version's loss, a team's credited improvement) as
    ``disclosure`` allows: to a step of at least ``scale / (2 sqrt(n_holdout))`` if rounded."""
    if value is None or disclosure == Disclosure.NONE:
        return None
    if disclosure == Disclosure.EXACT:
        return value
    return round_to_step(value, _mean_step(round_, loss_scale(round_, value)))


def _mean_step(round_: Round, scale: float) -> float:
    return step_at_least(scale / (2 * math.sqrt(max(round_.n_holdout, 1))))


def holdout_mean_step(round_: Round, disclosure: Disclosure) -> float | None:
    """The step ``holdout_mean`` rounds to under ``disclosure``, where one step fits every
    value (rounded disclosure of a bounded loss); None otherwise."""
    bounded = round_loss(round_).row_bound is not None
    if disclosure != Disclosure.ROUNDED or not bounded:
        return None
    return _mean_step(round_, loss_scale(round_)) or None
