"""The query context a metric is computed in: tables, time zone, window, breakdown, filter.

Catalog functions receive a ``Context`` and return an Ibis table with ``period``, one
column per breakdown key and ``value``. The context does the parts every metric shares:
reading a table, keeping the rows of the window, cutting periods in the workspace time
zone, and resolving breakdown dimensions and filters against the table's columns, its
properties, and the properties of the customer and user it belongs to.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
from ibis.backends.duckdb import Backend as IbisDuckDB
from ibis.common.deferred import Deferred

from northstar.errors import FilterError
from northstar.metrics import filters
from northstar.metrics.functions import json_keys, json_text, local_date_in_range
from northstar.metrics.periods import Grain, Window, truncate
from northstar.settings import Settings

NONE = "(none)"
RESERVED = {"period", "value", "metric", "complete", "previous", "change", "change_pct"}

# How each table reaches the customer and the user (person) it belongs to.
_CUSTOMER_COLUMN = {
    "customers": "customer_id",
    "subscriptions": "customer_id",
    "orders": "customer_id",
    "support_tickets": "customer_id",
}
_USER_COLUMN = {
    "events": "person_id",
    "users": "user_id",
    "customers": "user_id",
    "survey_responses": "respondent_id",
}
_PREFIXES = {
    "event": "own",
    "events": "own",
    "user": "user",
    "person": "user",
    "customer": "customer",
}


# Answers of probes (small lookups made while an expression is built), shared by every
# context over the same data: an explanation or a scorecard builds many expressions that
# ask the same lookups. Keyed on (database, data version, the probe's Ibis node).
_PROBE_ANSWERS: OrderedDict[tuple[Any, ...], tuple[str, list[Any]]] = OrderedDict()
_PROBE_LOCK = threading.Lock()
_PROBE_ENTRIES = 512


def key_columns(by: tuple[str, ...] | list[str]) -> list[str]:
    return [f"__k{i}" for i in range(len(by))]


@dataclass(frozen=True)
class Dimension:
    """Where a breakdown or filter name is read from."""

    name: str
    scope: str  # column | own | customer | user
    key: str


@dataclass
class Context:
    backend: IbisDuckDB
    settings: Settings
    window: Window
    by: tuple[str, ...] = ()
    where: str | None = None
    _property_keys: dict[str, set[str]] = field(default_factory=dict)
    # Lookups of the data made while building an expression (their SQL and result): a
    # compiled query stays valid for new data as long as they answer the same.
    probes: list[tuple[str, list[Any]]] = field(default_factory=list)
    # The only days whose end-of-day value the engine keeps, when it reports a metric by
    # its value at the end of each period (the last day of each); None: every day.
    sample_days: tuple[date, ...] | None = None
    # What the data is (database, data version): probes with the same scope share answers.
    probe_scope: tuple[str, int, int, int] | None = None

    # -- basics -----------------------------------------------------------------
    @property
    def grain(self) -> Grain:
        return self.window.grain

    @property
    def timezone(self) -> str:
        return self.settings.timezone

    @property
    def keys(self) -> list[str]:
        """Column names of the breakdown keys inside expressions (``__k0``, ...), so that
        a dimension never collides with a column a metric works with."""
        return key_columns(self.by)

    def with_window(self, window: Window) -> Context:
        return replace(self, window=window, sample_days=None)

    def table(self, name: str) -> ir.Table:
        """A data-model table; ``events`` carries ``person_id`` (after identity merging,
        unless the workspace counts raw distinct ids)."""
        if name == "events":
            t = self.backend.table("events")
            if not self.settings.events.merge_identities:
                return t.mutate(person_id=t.distinct_id)
            # person_id is kept up to date when events are written and ids merge; it is
            # NULL when the person is the event's own id
            return t.mutate(person_id=ibis.coalesce(t.person_id, t.distinct_id))
        return self.backend.table(name)

    def local_date(self, ts: ir.Value) -> ir.DateValue:
        """The calendar day of a timestamp in the workspace time zone (dates pass through)."""
        if ts.type().is_date():
            return ts
        # The offsets are computed for the window and a year before it (lookbacks,
        # comparisons); instants outside take the general, slower path.
        first = self.window.start - timedelta(days=400)
        return local_date_in_range(ts, self.timezone, first, self.window.end)

    def period(self, day: ir.DateValue, grain: Grain | None = None) -> ir.DateValue:
        return truncate(day, grain or self.grain, self.settings.week_start.value)

    def instant(self, day: date) -> datetime:
        """Midnight starting ``day`` in the workspace time zone, as an aware datetime."""
        return datetime.combine(day, time(0), ZoneInfo(self.timezone))

    def in_window(
        self, t: ir.Table, column: str, *, lookback_days: int = 0, until: date | None = None
    ) -> ir.Table:
        """Rows whose ``column`` falls in the window (reaching ``lookback_days`` earlier)."""
        first = self.window.start - timedelta(days=lookback_days)
        last = until or self.window.end
        col = t[column]
        if col.type().is_date():
            return t.filter(col >= first, col <= last)
        return t.filter(col >= self.instant(first), col < self.instant(last + timedelta(days=1)))

    def before_end(self, t: ir.Table, column: str) -> ir.Table:
        """Rows whose ``column`` is before the end of the window's last day."""
        col = t[column]
        if col.type().is_date():
            return t.filter(col <= self.window.end)
        return t.filter(col < self.instant(self.window.end + timedelta(days=1)))

    # -- breakdowns and filters -------------------------------------------------
    def property_keys(self, table: str) -> set[str]:
        """Keys that occur in ``table.properties`` (for resolving unprefixed names)."""
        if table not in self._property_keys:
            t = self.backend.table(table)
            keys = t.select(k=json_keys(t.properties).unnest()).distinct()
            self._property_keys[table] = {str(k) for k in self.probe(keys) if k is not None}
        return self._property_keys[table]

    def missing_rates(self, currency: ir.StringColumn) -> list[str]:
        """Currencies of ``currency`` (other than the workspace's) without any FX rate."""
        home = self.settings.currency
        values = currency.as_table().distinct()
        col = values[values.columns[0]]
        fx = self.backend.table("fx_rates")
        lacking = values.filter(col != home, ~col.isin(fx.currency))
        return sorted(str(v) for v in self.probe(lacking))

    def event_property_exists(self, key: str) -> bool:
        """Whether any event carries the property (a typo should be an error, not a
        breakdown where every row is "(none)")."""
        t = self.backend.table("events")
        hit = t.filter(json_text(t.properties, key).notnull()).select("event").limit(1)
        return len(self.probe(hit)) > 0

    def probe(self, t: ir.Table) -> list[Any]:
        """The first column of a (small) lookup query, recorded in ``probes``; asked once
        per data version when the context has a ``probe_scope``."""
        key = None if self.probe_scope is None else (*self.probe_scope, t.unbind().op())
        if key is not None:
            with _PROBE_LOCK:
                known = _PROBE_ANSWERS.get(key)
                if known is not None:
                    _PROBE_ANSWERS.move_to_end(key)
            if known is not None:
                self.probes.append((known[0], sorted(known[1], key=repr)))
                return list(known[1])
        values = [v for v in t.to_pyarrow().column(0).to_pylist()]
        sql = str(self.backend.compile(t))
        self.probes.append((sql, sorted(values, key=repr)))
        if key is not None:
            with _PROBE_LOCK:
                _PROBE_ANSWERS[key] = (sql, list(values))
                while len(_PROBE_ANSWERS) > _PROBE_ENTRIES:
                    _PROBE_ANSWERS.popitem(last=False)
        return values

    def dimension(self, name: str, source: str) -> Dimension:
        """Resolve a breakdown/filter name for rows of ``source``."""
        if name in RESERVED:
            raise FilterError(f"{name!r} is a reserved output column; it cannot be a breakdown")
        prefix, _, rest = name.partition(".")
        columns = self.backend.table(source).columns
        if rest and prefix in _PREFIXES:
            scope = _PREFIXES[prefix]
            if scope == "customer" and source not in _CUSTOMER_COLUMN:
                raise FilterError(f"{name!r}: rows of {source} do not belong to a customer")
            if scope == "user" and source not in _USER_COLUMN and source not in _CUSTOMER_COLUMN:
                raise FilterError(f"{name!r}: rows of {source} do not belong to a user")
            return Dimension(name, scope, rest)
        if name in columns and name != "properties":
            return Dimension(name, "column", name)
        if source == "events":
            # Product managers break events down by user properties (plan, country,
            # channel) more than by event properties; an event property wins only when
            # no user carries the key.
            if name in self.property_keys("users"):
                return Dimension(name, "user", name)
            if self.event_property_exists(name):
                return Dimension(name, "own", name)
            raise FilterError(
                f"unknown dimension {name!r}: no event or user carries it; use an event "
                "column (event, distinct_id, session_id), an event property such as $os, "
                "or a user property such as plan, country or channel"
            )
        if "properties" in columns and name in self.property_keys(source):
            return Dimension(name, "own", name)
        if source in _CUSTOMER_COLUMN and name in self.property_keys("customers"):
            return Dimension(name, "customer", name)
        if (source in _USER_COLUMN or source in _CUSTOMER_COLUMN) and name in self.property_keys(
            "users"
        ):
            return Dimension(name, "user", name)
        own = [c for c in columns if c != "properties"]
        raise FilterError(
            f"unknown dimension {name!r} for {source}; use a column ({', '.join(own)}), "
            "a property key, or prefix it: user.KEY, customer.KEY, event.KEY"
        )

    def segment(self, t: ir.Table, source: str) -> ir.Table:
        """``t`` (rows of ``source``) with one column per breakdown key, filtered by where."""
        names = list(self.by)
        if self.where:
            names += [n for n in filters.names(self.where) if n not in names]
        if not names:
            return t
        dims = {n: self.dimension(n, source) for n in names}
        scopes = {d.scope for d in dims.values()}
        if "customer" in scopes or ("user" in scopes and source not in _USER_COLUMN):
            cust = self.backend.table("customers")
            cust = cust.select(
                __cid=cust.customer_id, __cprops=cust.properties, __cuser=cust.user_id
            )
            t = t.left_join(cust, t[_CUSTOMER_COLUMN[source]] == cust["__cid"]).drop("__cid")
        if "user" in scopes:
            users = self.backend.table("users")
            users = users.select(__uid=users.user_id, __uprops=users.properties)
            user_col = _USER_COLUMN.get(source, "__cuser")
            t = t.left_join(users, t[user_col] == users["__uid"]).drop("__uid")

        def value(dim: Dimension) -> ir.Value:
            if dim.scope == "column":
                return t[dim.key]
            doc = {"own": "properties", "customer": "__cprops", "user": "__uprops"}[dim.scope]
            return json_text(t[doc], dim.key)

        if self.where:
            predicate = filters.compile_filter(self.where, lambda n: value(dims[n]))
            t = t.filter(predicate)
        # Breakdown keys are text; rows without a value form the "(none)" segment.
        keys = {
            k: value(dims[n]).cast("string").fill_null(NONE)
            for k, n in zip(self.keys, self.by, strict=True)
        }
        return t.mutate(**keys) if keys else t

    def rows(self, source: str, time_column: str, *, lookback_days: int = 0) -> ir.Table:
        """Rows of ``source`` in the window, segmented, with ``day`` (local date)."""
        t = self.in_window(self.table(source), time_column, lookback_days=lookback_days)
        t = self.segment(t, source)
        return t.mutate(day=self.local_date(t[time_column]))

    def is_active(self, event: ir.StringValue) -> ir.BooleanValue:
        """The one "active event" rule: an event name counts as activity when it is one
        of ``events.active_events`` (when set), else when it is not one of
        ``events.passive_events`` (every event when neither is set)."""
        ev = self.settings.events
        if ev.active_events:
            return event.isin(ev.active_events)
        if ev.passive_events:
            return ~event.isin(ev.passive_events)
        return ibis.literal(True)

    def active_events(self, *, lookback_days: int = 0, distinct: bool = True) -> ir.Table:
        """Active events in the window: ``person_id``, ``day`` and the breakdown keys.

        Without a breakdown or filter this is the distinct active (person, day) pairs,
        read from the events' own ``person_id`` (no join to the identity map).
        """
        plain = not self.by and not self.where
        t = self.in_window(self.table("events"), "timestamp", lookback_days=lookback_days)
        t = t.filter(self.is_active(t.event))
        if plain:  # the person is on the event: one de-duplication
            pairs = t.select(person_id=t.person_id, day=self.local_date(t.timestamp))
            # distinct=False: the caller counts distinct persons itself (one pass, not two)
            return pairs.distinct() if distinct else pairs
        t = self.segment(t, "events")
        return t.mutate(day=self.local_date(t.timestamp))

    def by_period(self, t: ir.Table, value: ir.Scalar | Deferred, day: str = "day") -> ir.Table:
        """Group ``t`` by the period of its ``day`` column and the keys into ``value``."""
        grouped = t.mutate(period=self.period(t[day]))
        return grouped.group_by(["period", *self.keys]).aggregate(value=value)

    def stock_days(self) -> ir.Table:
        """The days an end-of-day value (a stock: MRR, paying customers) is wanted on, as a
        one-column (``day``) table: every day of the window, or only ``sample_days``.
        A stock looked up per day (an as-of join) is then computed on those days only."""
        if self.sample_days is None:
            return self.calendar()
        days = ibis.literal(list(self.sample_days), type="array<date>")
        return days.unnest().name("day").as_table()

    def sampled(self, t: ir.Table, day: str = "period") -> ir.Table:
        """``t`` restricted to ``sample_days`` (when set) by its ``day`` column: a daily
        series computed over every day (a running sum) hands over only the days kept."""
        if self.sample_days is None:
            return t
        return t.filter(t[day].isin(list(self.sample_days)))

    def calendar(self, first: date | None = None, last: date | None = None) -> ir.Table:
        """Every day of the window as a one-column (``day``) table."""
        first = first or self.window.start
        last = last or self.window.end
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        return ibis.memtable({"day": days}, schema={"day": "date"})
