"""A metric's own history of change over windows as long as a goal: the yardstick for
"achievable" and for suggested targets.

Counts, money, durations and ratios change in relative terms (+12 % over six months);
rates and scores change in absolute terms (+1.5 points, −0.8 pp), which is also used
when the history holds zeros or negative values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from northstar.metrics.spec import Unit

MIN_WINDOWS = 3  # fewer windows than this say nothing about what is typical
_ABSOLUTE_UNITS = frozenset({Unit.rate, Unit.score})


def use_relative(history: pd.Series, baseline: float, unit: Unit) -> bool:
    """Whether changes are compared in % of the starting value (else in the unit)."""
    values = history.dropna().to_numpy(dtype="float64")
    return unit not in _ABSOLUTE_UNITS and baseline > 0 and bool(np.all(values > 0))


def window_changes(history: pd.Series, periods: int, *, relative: bool) -> np.ndarray:
    """The change over every window of ``periods`` periods in ``history`` (value at the
    end minus value at the start; divided by the start when ``relative``)."""
    values = history.to_numpy(dtype="float64")
    if periods < 1 or len(values) <= periods:
        return np.array([], dtype="float64")
    start, end = values[:-periods], values[periods:]
    keep = ~(np.isnan(start) | np.isnan(end))
    if relative:
        keep &= start != 0
        return (end[keep] - start[keep]) / np.abs(start[keep])
    out: np.ndarray = end[keep] - start[keep]
    return out


def apply_change(baseline: float, change: float, *, relative: bool) -> float:
    """The value ``change`` away from ``baseline`` (relative or absolute)."""
    return baseline + abs(baseline) * change if relative else baseline + change


def change_between(baseline: float, value: float, *, relative: bool) -> float:
    return (value - baseline) / abs(baseline) if relative else value - baseline
