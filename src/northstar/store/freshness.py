"""Freshness watermarks and the workspace's one "now" (``docs/freshness.md``).

Every table has a watermark: its first and last row time (never later than the clock) and
when data last arrived in it (an import or a server flush). The workspace's as-of is
derived from them: the day after the last day of data, never after the clock's today.
Every default range ends at that last day, every period after it is null, and every
output says what it is as of and how fresh its data is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from northstar import clock
from northstar.store.connection import Store
from northstar.store.schema import TABLES, Kind

# Exchange rates are published whatever happens: their dates say nothing about how far
# the product's data reaches. Every other table's times do (any of a row's times: a bug
# resolved, a subscription cancelled, after the row was created).
FACT_TABLES = tuple(n for n, t in TABLES.items() if t.time_column and n != "fx_rates")
STALE_AFTER_DAYS = 2  # data whose last day is older than this is shown as stale


@dataclass(frozen=True)
class Watermark:
    """How far one table's data reaches."""

    table: str
    rows: int
    first: datetime | date | None  # the earliest row time
    last: datetime | date | None  # the latest row time, never after the clock
    loaded_at: datetime | None  # when data last arrived (an import or a flush)
    rejected: int = 0

    def first_day(self, zone: ZoneInfo) -> date | None:
        return _day(self.first, zone)

    def last_day(self, zone: ZoneInfo) -> date | None:
        return _day(self.last, zone)


def _day(value: datetime | date | None, zone: ZoneInfo) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(zone).date() if value.tzinfo else value.date()
    return value


def watermarks(store: Store, *, now: datetime) -> tuple[Watermark, ...]:
    """Every data-model table's watermark, as of the clock's ``now``."""
    loaded = dict(
        store.execute("SELECT table_name, max(finished_at) FROM _imports GROUP BY 1").fetchall()
    )
    rejected = dict(
        store.execute("SELECT table_name, count(*) FROM _rejected_rows GROUP BY 1").fetchall()
    )
    parts, params = [], []
    for spec in TABLES.values():
        if spec.time_column is None:
            continue
        # table and column names come from the data model, never from users. The data
        # reaches as far as any of its times (a bug resolved after the last one created).
        times = [c.name for c in spec.columns if c.kind in (Kind.timestamp, Kind.date)]
        lasts = ", ".join(f'max("{c}") FILTER (WHERE "{c}" <= ?)' for c in times)
        last = f"greatest({lasts})" if len(times) > 1 else lasts
        parts.append(
            f"SELECT '{spec.name}' AS t, count(*), min(\"{spec.time_column}\"), "
            f'CAST({last} AS TIMESTAMPTZ) FROM "{spec.name}"'
        )
        params += [now] * len(times)
    rows = store.execute(" UNION ALL ".join(parts), params).fetchall()
    return tuple(
        Watermark(name, int(count), first, last, loaded.get(name), int(rejected.get(name, 0)))
        for name, count, first, last in rows
    )


# The "last observed day" of a workspace without any data: before every period.
NO_DATA_YET = date(1970, 1, 1)


def after_the_data(last_observed: date) -> str:
    """Why a period has no numbers: it is after the last observed day (or nothing is)."""
    if last_observed <= NO_DATA_YET:
        return "no data yet"
    return f"after the data (data through {last_observed.isoformat()})"


@dataclass(frozen=True)
class AsOf:
    """The workspace's "now": the day everything is judged on and how fresh the data is.

    ``today`` is the as-of day (periods that end before it are complete); ``end`` is the
    last day of every default range; ``through`` is the last day with data. Derived from
    the data, ``today`` is the day after ``through`` (never after the clock's today) and
    ``end`` is ``through``; pinned (``--as-of``, ``as_of=``, ``goals.as_of``), ``today``
    and ``end`` are the pinned day.
    """

    today: date
    end: date
    through: date | None
    now: datetime  # the clock's moment, in the workspace time zone
    timezone: str
    pinned_by: str | None = None  # None: derived from the data
    last_event: datetime | None = None
    last_loaded: datetime | None = None
    marks: tuple[Watermark, ...] = field(default=(), compare=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def data_through(self) -> date | None:
        """The last day of data that counts as of ``today`` (before it)."""
        if self.through is None:
            return None
        return min(self.through, self.today - timedelta(days=1))

    @property
    def horizon(self) -> date:
        """The last day analyses observe: ``today``, or the last day of data when the data
        ends before it (a retention period after the data's last day is unknown, not 0)."""
        if self.through is None:
            return self.today
        return min(self.today, self.through)

    @property
    def observed_until(self) -> date:
        """The last observed day for analyses that split observed from unobserved periods
        (retention, funnels, lifecycle, stickiness): ``horizon``, or :data:`NO_DATA_YET`
        (before any period) when the workspace holds no data at all, so that an empty
        workspace shows no numbers rather than zeros."""
        return NO_DATA_YET if self.through is None else self.horizon

    @property
    def age_days(self) -> int | None:
        """Whole days between the last day of data and the clock's today."""
        if self.through is None:
            return None
        return max(0, (self.now.date() - self.through).days)

    @property
    def stale(self) -> bool:
        """No data, or data that stopped more than ``STALE_AFTER_DAYS`` ago."""
        age = self.age_days
        return age is None or age > STALE_AFTER_DAYS

    def mark(self, table: str) -> Watermark | None:
        return next((m for m in self.marks if m.table == table), None)

    @property
    def first(self) -> date | None:
        """The first day of data in the workspace (any table but exchange rates)."""
        days = [d for m in self.marks if m.table in FACT_TABLES and (d := m.first_day(self.zone))]
        return min(days) if days else None

    def coverage(self) -> tuple[date | None, date | None]:
        """The days the workspace has data for: its first day of data to its last. A period
        outside them has no value (null); ``(None, None)``: no data at all."""
        if self.through is None:
            return None, None
        return self.first, self.through

    def describe(self) -> str:
        """One line for people: 'as of 2026-11-01 · data through 2026-10-31 · last event
        37 days ago' (and 'stale' when it is)."""
        parts = [f"as of {self.today.isoformat()}"]
        if self.pinned_by:
            parts[0] += f" (set by {self.pinned_by})"
        through = self.data_through
        parts.append(f"data through {through.isoformat()}" if through else "no data yet")
        if self.last_event is not None:
            parts.append(f"last event {ago(self.last_event, self.now)}")
        if self.stale and self.through is not None:
            parts.append("stale")
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The freshness block of every JSON output."""
        through = self.data_through
        return {
            "as_of": self.today.isoformat(),
            "data_through": through.isoformat() if through else None,
            "last_event": self.last_event.isoformat() if self.last_event else None,
            "last_loaded": self.last_loaded.isoformat() if self.last_loaded else None,
            "stale": self.stale,
            "pinned_by": self.pinned_by,
            "freshness": self.describe(),
        }


def ago(moment: datetime, now: datetime) -> str:
    """'3 minutes ago', '5 hours ago', '37 days ago' (or 'in the future')."""
    seconds = (now - moment).total_seconds()
    if seconds < 0:
        return "in the future"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"


def resolve_as_of(
    store: Store, timezone: str, *, pinned: date | None = None, pinned_by: str | None = None
) -> AsOf:
    """The workspace's as-of: ``pinned`` when given, else derived from the watermarks."""
    zone = ZoneInfo(timezone)
    now = clock.now(zone)
    marks = watermarks(store, now=now)
    # The product's events are its heartbeat: when there are any, they say how far the data
    # reaches (a subscription's planned end does not); without them, every table does.
    events = next(m for m in marks if m.table == "events")
    sources = [events] if events.rows else [m for m in marks if m.table in FACT_TABLES]
    days = [d for m in sources if (d := m.last_day(zone)) is not None]
    wall_today = now.date()
    through = min(max(days), wall_today) if days else None
    last_event = events.last if isinstance(events.last, datetime) else None
    loaded = [m.loaded_at for m in marks if m.loaded_at is not None]
    last_loaded = max(loaded) if loaded else None
    if pinned is not None:
        today, end = pinned, pinned
    elif through is None or through >= wall_today:
        today, end = wall_today, wall_today  # live data: today, partial, is in range
    else:
        today, end = through + timedelta(days=1), through
    return AsOf(today, end, through, now, timezone, pinned_by if pinned else None,
                last_event, last_loaded, marks)  # fmt: skip


def freshness_fields(as_of: AsOf | None) -> dict[str, Any]:
    """The freshness block a result's JSON starts with (empty when not known)."""
    return as_of.to_dict() if as_of is not None else {}


def freshness_headers(as_of: AsOf | None) -> dict[str, str]:
    """HTTP headers that say what a CSV download is as of (CSV has no place for it)."""
    if as_of is None:
        return {}
    through = as_of.data_through
    return {
        "X-Northstar-As-Of": as_of.today.isoformat(),
        "X-Northstar-Data-Through": through.isoformat() if through else "",
        "X-Northstar-Freshness": as_of.describe(),
    }
