"""What every analysis shares: its date range, its grain and the query context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ibis.backends.duckdb import Backend as IbisDuckDB

from northstar.errors import QueryArgumentError
from northstar.metrics.context import Context
from northstar.metrics.periods import Grain, Window, parse_date, parse_grain
from northstar.settings import Settings

ANALYSIS_GRAINS = (Grain.day, Grain.week, Grain.month)
DEFAULT_DAYS = {Grain.day: 13, Grain.week: 7 * 12 - 1, Grain.month: 365}


@dataclass(frozen=True)
class Range:
    """Inclusive local days ``first``..``last`` and the grain an analysis cuts them by."""

    first: date
    last: date
    grain: Grain
    today: date

    @classmethod
    def make(
        cls,
        grain: str | Grain,
        start: str | date | None,
        end: str | date | None,
        *,
        today: date,
        default_days: int | None = None,
    ) -> Range:
        g = parse_analysis_grain(grain)
        last = parse_date(end, "end date") or today
        first = parse_date(start, "start date") or last - timedelta(
            days=default_days if default_days is not None else DEFAULT_DAYS[g]
        )
        if first > last:
            raise QueryArgumentError(
                f"the start date {first} is after the end date {last}; swap them or widen the range"
            )
        return cls(first, last, g, today)


def parse_analysis_grain(grain: str | Grain) -> Grain:
    """A grain analyses support (day, week or month)."""
    g = parse_grain(grain)
    if g not in ANALYSIS_GRAINS:
        raise QueryArgumentError(
            f"period {g.value!r} is not supported here; use day, week or month"
        )
    return g


def make_context(
    backend: IbisDuckDB, settings: Settings, rng: Range, *, reach: date | None = None
) -> Context:
    """A query context whose window spans the analysis range up to ``reach`` (where
    later events are read, e.g. the return periods of a retention table)."""
    end = max(rng.last, reach or rng.last)
    window = Window(rng.grain, rng.first, end, settings.week_start.value, rng.today)
    return Context(backend, settings, window)
