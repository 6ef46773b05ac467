"""Time grains and periods, cut in the workspace's time zone and week start."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

import ibis
import ibis.expr.types as ir
from dateutil.relativedelta import relativedelta

from northstar import clock
from northstar.errors import QueryArgumentError


class Grain(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


# Days to shift a date by so that DATE_TRUNC('week') (Monday-based) cuts on the start day.
_WEEK_SHIFT = {"monday": 0, "sunday": 1, "saturday": 2}
_TRUNC_UNIT = {Grain.month: "M", Grain.quarter: "Q", Grain.year: "Y"}
# Months per period for the calendar grains (dates move by whole months, the day clamped to
# the month's length as dateutil's relativedelta does), days per period for the others.
_MONTHS = {Grain.month: 1, Grain.quarter: 3, Grain.year: 12}
_DAYS = {Grain.day: 1, Grain.week: 7}
# How far back a query reaches when --from is not given.
DEFAULT_SPAN = {
    Grain.day: relativedelta(days=29),
    Grain.week: relativedelta(weeks=11),
    Grain.month: relativedelta(months=11),
    Grain.quarter: relativedelta(months=21),
    Grain.year: relativedelta(years=4),
}


def parse_grain(value: str | Grain) -> Grain:
    try:
        return Grain(str(value).lower())
    except ValueError:
        raise QueryArgumentError(
            f"unknown grain {value!r}; use one of: {', '.join(g.value for g in Grain)}"
        ) from None


def parse_date(value: str | date | datetime | None, what: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise QueryArgumentError(
            f"{what} {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-01-31"
        ) from None


def period_start(day: date, grain: Grain, week_start: str = "monday") -> date:
    """The first day of the period of ``grain`` that contains ``day``."""
    if grain is Grain.day:
        return day
    if grain is Grain.week:
        shift = _WEEK_SHIFT[week_start]
        shifted = day + timedelta(days=shift)
        return shifted - timedelta(days=shifted.weekday()) - timedelta(days=shift)
    if grain is Grain.month:
        return day.replace(day=1)
    if grain is Grain.quarter:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def _add_months(day: date, n: int) -> date:
    """``day`` moved by ``n`` months, the day of month clamped to the target month."""
    index = day.year * 12 + day.month - 1 + n
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def next_period(start: date, grain: Grain) -> date:
    return shift_periods(start, grain, 1)


def period_last_day(start: date, grain: Grain) -> date:
    return next_period(start, grain) - timedelta(days=1)


def shift_periods(start: date, grain: Grain, n: int) -> date:
    """The period start ``n`` periods after ``start`` (negative: before)."""
    if grain in _DAYS:
        return start + timedelta(days=_DAYS[grain] * n)
    return _add_months(start, _MONTHS[grain] * n)


def periods(first: date, last: date, grain: Grain, week_start: str = "monday") -> list[date]:
    """Starts of every period from the one containing ``first`` to the one containing ``last``."""
    current = period_start(first, grain, week_start)
    if current > last:
        return []
    if grain in _DAYS:
        step = _DAYS[grain]
        return [current + timedelta(days=i) for i in range(0, (last - current).days + 1, step)]
    out = []
    n = 0
    while (day := _add_months(current, _MONTHS[grain] * n)) <= last:
        out.append(day)
        n += 1
    return out


def today_in(timezone: str) -> date:
    return clock.today(timezone)


@dataclass(frozen=True)
class Window:
    """The resolved date range of a query: whole periods from ``start``, clipped at ``end``."""

    grain: Grain
    start: date  # first day of the first period
    end: date  # last day included (inclusive)
    week_start: str
    today: date

    def periods(self) -> list[date]:
        return periods(self.start, self.end, self.grain, self.week_start)

    def period_ends(self) -> list[date]:
        """The last day of every period, the last one clipped at ``end``."""
        return [min(period_last_day(p, self.grain), self.end) for p in self.periods()]

    def is_complete(self, start: date) -> bool:
        """A period is complete when its last day is in the range and has ended."""
        last = period_last_day(start, self.grain)
        return last <= self.end and last < self.today

    def at_day_grain(self) -> Window:
        return Window(Grain.day, self.start, self.end, self.week_start, self.today)

    def extended_back(self, n: int) -> Window:
        """The same window reaching ``n`` periods further back (for offsets and compare)."""
        return Window(
            self.grain,
            shift_periods(self.start, self.grain, -n),
            self.end,
            self.week_start,
            self.today,
        )


def resolve_window(
    grain: Grain,
    start: date | None,
    end: date | None,
    *,
    week_start: str,
    today: date,
) -> Window:
    end = end or today
    if start is None:
        start = end - DEFAULT_SPAN[grain]
    if start > end:
        raise QueryArgumentError(
            f"the start date {start} is after the end date {end}; swap them or widen the range"
        )
    return Window(grain, period_start(start, grain, week_start), end, week_start, today)


def truncate(day: ir.DateValue, grain: Grain, week_start: str = "monday") -> ir.DateValue:
    """An Ibis expression for the start of the period containing the date ``day``."""
    if grain is Grain.day:
        return day
    if grain is Grain.week:
        shift = _WEEK_SHIFT[week_start]
        if shift == 0:
            return day.truncate("W")
        offset = ibis.interval(days=shift)
        return (day + offset).truncate("W") - offset
    return day.truncate(_TRUNC_UNIT[grain])
