"""A goal's metric history: complete periods only, as a pandas Series.

The goals package does not open the store. The workspace hands it a :data:`Fetch`
function (a metric query); this module decides which window to ask for and turns the
tidy result into one series per metric.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date

import pandas as pd

from northstar.metrics.periods import Grain, period_start, periods, shift_periods

# How far back forecasts and SMART checks look, in periods of the goal's grain.
LOOKBACK = {Grain.day: 730, Grain.week: 156, Grain.month: 48, Grain.quarter: 20, Grain.year: 10}

# fetch(metrics, grain, where, start, end, today) -> frame with metric, period, value, complete
Fetch = Callable[[Sequence[str], Grain, str | None, date, date, date], pd.DataFrame]


def history_start(as_of: date, grain: Grain, week_start: str, earliest: date | None) -> date:
    """First day to query: the lookback, reaching back further for an older baseline."""
    start = shift_periods(period_start(as_of, grain, week_start), grain, -LOOKBACK[grain])
    if earliest is not None:
        start = min(start, period_start(earliest, grain, week_start))
    return start


def complete_series(frame: pd.DataFrame, metric: str) -> pd.Series:
    """The metric's values in complete periods, indexed by period start (float, NaN when a
    period has no value), with the empty run before its data begins trimmed off."""
    rows = frame[(frame["metric"] == metric) & frame["complete"].astype(bool)]
    series = pd.Series(
        [_float(v) for v in rows["value"]],
        index=[_day(p) for p in rows["period"]],
        dtype="float64",
        name=metric,
    ).sort_index()
    return trim_leading_empty(series)


def trim_leading_empty(series: pd.Series) -> pd.Series:
    """Drop the leading periods with no value or zero: before a metric's data begins, the
    metric layer reports 0 for counts, which is no history to learn from."""
    values = series.to_numpy()
    for i, v in enumerate(values):
        if not math.isnan(v) and v != 0:
            return series.iloc[i:]
    return series.iloc[:0]


def regular(series: pd.Series, grain: Grain, week_start: str = "monday") -> pd.Series:
    """The series on every period from its first to its last, gaps linearly interpolated
    (models need evenly spaced values)."""
    if series.empty:
        return series
    index = periods(series.index[0], series.index[-1], grain, week_start)
    full = series.reindex(index)
    return full.interpolate(limit_direction="both")


def _float(value: object) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _day(value: object) -> date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    assert isinstance(value, date)
    return value


def period_offset(first: date, other: date, grain: Grain) -> int:
    """How many periods ``other`` lies after ``first`` (both period starts; negative when
    before)."""
    if grain is Grain.day:
        return (other - first).days
    if grain is Grain.week:
        return (other - first).days // 7
    months = (other.year - first.year) * 12 + other.month - first.month
    if grain is Grain.month:
        return months
    if grain is Grain.quarter:
        return months // 3
    return other.year - first.year
