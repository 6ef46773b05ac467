"""Which events an analysis looks at: an event name with optional property filters, or
"any active event", resolved into persons (after identity merging) and local days.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from northstar.errors import FilterError
from northstar.metrics import filters
from northstar.metrics.context import NONE, Context
from northstar.metrics.functions import json_keys, json_pointer, json_text, json_text_at
from northstar.metrics.periods import Grain, period_start

ANY_ACTIVE = "$active"
_ANY_NAMES = {"$active", "any", "$any", "*"}
_WHERE = re.compile(r"\s+where\s+", re.IGNORECASE)


@dataclass(frozen=True)
class EventSpec:
    """An event name and an optional filter on its properties; ``event=None`` is any
    active event (every event except the passive ones in the settings)."""

    event: str | None
    where: str | None = None

    @classmethod
    def parse(cls, text: str) -> EventSpec:
        """``signed_up``, ``"report_exported where format = 'pdf'"`` or ``$active``."""
        text = text.strip()
        if not text:
            raise FilterError("an event is empty; give an event name such as signed_up or $active")
        parts = _WHERE.split(text, maxsplit=1)
        name = parts[0].strip()
        where = parts[1].strip() if len(parts) > 1 else None
        if not name:
            raise FilterError(f"{text!r}: the event name is missing before 'where'")
        if where is not None:
            filters.names(where)  # parse now: a typo is reported before any query runs
        return cls(None if name in _ANY_NAMES else name, where or None)

    @property
    def label(self) -> str:
        name = self.event or "any active event"
        return f"{name} where {self.where}" if self.where else name


def event_value(ctx: Context, t: ir.Table, name: str) -> tuple[ir.Table, ir.Value]:
    """The value of ``name`` for rows of events ``t``: a column, an event property, or
    (``user.`` prefix, or a key only users carry) a property of the person's user."""
    prefix, _, rest = name.partition(".")
    if rest and prefix in ("event", "events"):
        return t, json_text(t.properties, rest)
    if rest and prefix in ("user", "person"):
        t = _with_user_props(ctx, t)
        return t, json_text(t["__uprops"], rest)
    if name in t.columns and name not in ("properties", "__uprops"):
        return t, t[name]
    if ctx.event_property_exists(name):
        return t, json_text(t.properties, name)
    if name in ctx.property_keys("users"):
        t = _with_user_props(ctx, t)
        return t, json_text(t["__uprops"], name)
    raise FilterError(
        f"unknown property {name!r}: no event or user carries it; use an event column "
        "(event, distinct_id, session_id), an event property such as $os, or user.KEY"
    )


def _with_user_props(ctx: Context, t: ir.Table) -> ir.Table:
    if "__uprops" in t.columns:
        return t
    users = ctx.table("users")
    users = users.select(__uid=users.user_id, __uprops=users.properties)
    return t.left_join(users, t.person_id == users["__uid"]).drop("__uid")


def apply_spec(ctx: Context, t: ir.Table, spec: EventSpec) -> ir.Table:
    """Rows of events ``t`` that ``spec`` selects (same columns as ``t``)."""
    columns = t.columns
    t = active_only(ctx, t) if spec.event is None else t.filter(t.event == spec.event)
    if spec.where:
        values: dict[str, ir.Value] = {}
        for name in filters.names(spec.where):
            t, values[name] = event_value(ctx, t, name)
        t = t.filter(filters.compile_filter(spec.where, lambda n: values[n]))
    return t.select(*columns)


def active_only(ctx: Context, t: ir.Table) -> ir.Table:
    ev = ctx.settings.events
    return t.filter(is_active(ctx, t.event)) if ev.active_events or ev.passive_events else t


def unknown_event(ctx: Context, specs: Sequence[EventSpec]) -> str | None:
    """Why an analysis over ``specs`` shows nothing when an event name is in no row of the
    data — "unknown event 'signed_upp' (no event of that name in the data); did you mean
    'signed_up'?" — or None when every named event exists (or there is no data at all)."""
    names = sorted({s.event for s in specs if s.event is not None})
    if not names:
        return None
    events = ctx.backend.table("events")
    seen = events.filter(events.event.isin(names)).select("event").distinct().to_pandas()
    missing = [n for n in names if n not in set(seen["event"])]
    if not missing:
        return None
    every = events.select("event").distinct().limit(5000).to_pandas()["event"].tolist()
    if not every:
        return None  # an empty workspace says "no data yet" on its own
    close = difflib.get_close_matches(missing[0], every, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown event {missing[0]!r} (no event of that name in the data){hint}"


def known_events(backend: Any, limit: int = 200) -> list[str]:
    """Event names in the data, most frequent first (for pickers)."""
    events = backend.table("events")
    counts = events.group_by("event").aggregate(n=events.count())
    top = counts.order_by([ibis.desc("n"), "event"]).limit(limit).to_pandas()
    return [str(e) for e in top["event"]]


# Properties that carry ids (identity bookkeeping), never a segment.
ID_KEYS = frozenset({"alias", "$anon_distinct_id", "distinct_id", "$device_id", "$session_id",
                     "$window_id", "$insert_id", "user_id", "anonymous_id"})  # fmt: skip


def property_dimensions(
    backend: Any, first: datetime, end: datetime, max_values: int = 50
) -> dict[str, int]:
    """Property keys worth breaking down by, with their number of distinct values: those of
    users, and those of events from ``first`` up to ``end``, with at most ``max_values``
    distinct values (a key on both counts once, as a user property)."""
    out: dict[str, int] = {}
    events = backend.table("events")
    events = events.filter(events.timestamp >= first, events.timestamp < end)
    for t, coverage in ((backend.table("users"), 0.0), (events, 0.5)):
        rows = t.select(doc=t.properties, key=json_keys(t.properties).unnest())
        rows = rows.mutate(pointer=json_pointer(rows.key))
        rows = rows.mutate(value=json_text_at(rows.doc, rows.pointer))
        counts = rows.group_by("key").aggregate(n=rows.value.nunique(), rows=rows.count())
        # an event property most events lack (an export's format) splits people who did
        # other things into "(none)": not a segment of the population
        least = (t.count() * coverage).as_scalar() if coverage else 0
        frame = counts.filter(counts.n <= max_values, counts.n > 0, counts.rows >= least)
        frame = frame.to_pandas()
        for key, n in zip(frame["key"], frame["n"], strict=True):
            if str(key) not in ID_KEYS:
                out.setdefault(str(key), int(n))
    return out


def property_values(
    backend: Any, first: datetime, end: datetime, max_values: int = 50, top: int = 12
) -> dict[str, list[str]]:
    """The pickers' properties: each user property, and each property of the events from
    ``first`` up to ``end``, that has at most ``max_values`` distinct values, with its
    ``top`` most frequent values (a key on both counts once, as a user property)."""
    out: dict[str, list[str]] = {}
    events = backend.table("events")
    events = events.filter(events.timestamp >= first, events.timestamp < end)
    for t in (backend.table("users"), events):
        rows = t.select(doc=t.properties, key=json_keys(t.properties).unnest())
        rows = rows.mutate(pointer=json_pointer(rows.key))
        rows = rows.mutate(value=json_text_at(rows.doc, rows.pointer))
        rows = rows.filter(rows.value.notnull())
        counts = rows.group_by(["key", "value"]).aggregate(n=rows.count()).to_pandas()
        for key, part in counts.groupby("key", sort=True):
            name = str(key)
            if name in ID_KEYS or name in out or len(part) > max_values:
                continue
            ranked = part.sort_values(["n", "value"], ascending=[False, True])
            out[name] = [str(v) for v in ranked["value"].head(top)]
    return out


def is_active(ctx: Context, event: ir.StringValue) -> ir.BooleanValue:
    """Whether an event name is an active event (the one rule: :meth:`Context.is_active`)."""
    return ctx.is_active(event)


def events_between(ctx: Context, first: date | None, last: date) -> ir.Table:
    """Events (with ``person_id``) from ``first`` (None: all history) to ``last``, local days."""
    t = ctx.table("events")
    if first is not None:
        t = t.filter(t.timestamp >= ctx.instant(first))
    return t.filter(t.timestamp < ctx.instant(last + timedelta(days=1)))


def person_days(ctx: Context, spec: EventSpec, first: date | None, last: date) -> ir.Table:
    """Distinct (``person_id``, ``day``) pairs on which a person did ``spec``.

    Each event carries its person (``person_id``, kept up to date when identities
    merge): one de-duplication, no join to the identity map.
    """
    rows, who = _spec_rows(ctx, spec, first, last)
    pairs = rows.select(rows[who], day=ctx.local_date(rows.timestamp)).distinct()
    return _persons(ctx, pairs, who, {}, distinct=True)


def person_day_rows(ctx: Context, spec: EventSpec, first: date | None, last: date) -> ir.Table:
    """(``person_id``, ``day``) rows on which a person did ``spec``: the distinct pairs of
    :func:`person_days` except that a person with several ids may repeat a day. Enough
    for aggregations per person that ignore repeats (min, max, bit_or), one pass cheaper."""
    rows, who = _spec_rows(ctx, spec, first, last)
    pairs = rows.select(rows[who], day=ctx.local_date(rows.timestamp)).distinct()
    return _persons(ctx, pairs, who, {}, distinct=True, dedupe=False)


def person_periods(
    ctx: Context,
    spec: EventSpec,
    first: date,
    last: date,
    grain: Grain,
    spans: Mapping[str, tuple[date, date]] | None = None,
) -> ir.Table:
    """Distinct (``person_id``, ``period``) pairs: the periods of ``grain`` in which a
    person did ``spec`` on a day from ``first`` to ``last``.

    ``spans`` adds one boolean column per name: whether the person did ``spec`` on a day
    of that (first, last) span in the period. A span whose ends fall on period boundaries
    (or outside ``first``..``last``) is decided by the period alone; only a span that cuts
    through a period is tracked per day. One scan of the events serves every span. The
    distinct days come first: the period is then computed on one row per person and day
    rather than on every event.
    """
    week_start = ctx.settings.week_start.value
    whole: dict[str, tuple[date | None, date | None]] = {}
    cut: dict[str, tuple[date, date]] = {}
    for name, (a, b) in (spans or {}).items():
        after = b + timedelta(days=1)
        if (a <= first or period_start(a, grain, week_start) == a) and (
            b >= last or period_start(after, grain, week_start) == after
        ):
            hi = None if b >= last else period_start(b, grain, week_start)
            whole[name] = (None if a <= first else a, hi)
        else:
            cut[name] = (a, b)
    rows, who = _spec_rows(ctx, spec, first, last)
    days = rows.select(rows[who], day=ctx.local_date(rows.timestamp)).distinct()
    flags = {name: (days.day >= a) & (days.day <= b) for name, (a, b) in cut.items()}
    pairs = days.select(days[who], period=ctx.period(days.day, grain), **flags)
    out = _persons(ctx, pairs, who, cut, distinct=False)
    return out.mutate(**{name: _starts_between(out.period, *ends) for name, ends in whole.items()})


def _starts_between(period: ir.DateValue, lo: date | None, hi: date | None) -> ir.BooleanValue:
    """Whether ``period`` starts from ``lo`` to ``hi`` (None: unbounded)."""
    test: ir.BooleanValue = ibis.literal(True)
    if lo is not None:
        test = period >= lo
    if hi is not None:
        test = test & (period <= hi)
    return test


def _collapse(t: ir.Table, flags: Mapping[str, object]) -> ir.Table:
    """One row per value of the columns other than ``flags``, each flag true if any was."""
    if not flags:
        return t.distinct()
    keys = [c for c in t.columns if c not in flags]
    return t.group_by(keys).aggregate(**{name: t[name].any() for name in flags})


def _spec_rows(
    ctx: Context, spec: EventSpec, first: date | None, last: date
) -> tuple[ir.Table, str]:
    """Events that ``spec`` selects from ``first`` (None: all history) to ``last``, and the
    column naming whose they are: ``person_id``, which each event carries (kept up to date
    when identities merge), so no join to the identity map is needed."""
    return apply_spec(ctx, events_between(ctx, first, last), spec), "person_id"


def _persons(
    ctx: Context,
    t: ir.Table,
    who: str,
    flags: Mapping[str, object],
    *,
    distinct: bool,
    dedupe: bool = True,
) -> ir.Table:
    """``t`` (whose ``who`` column is the events' ``person_id``, resolved when they were
    written) with one row per person and other columns but ``flags`` (``dedupe=False``:
    rows may repeat). ``distinct``: the rows of ``t`` are distinct."""
    if who != "person_id":
        cols = [c for c in t.columns if c != who]
        t = t.select(person_id=t[who], **{c: t[c] for c in cols})
    return t if distinct or not dedupe else _collapse(t, flags)


def _mentions_user(ctx: Context, where: str) -> bool:
    for name in filters.names(where):
        prefix, _, rest = name.partition(".")
        if rest and prefix in ("user", "person"):
            return True
        if rest and prefix in ("event", "events"):
            continue
        if name in ("event", "distinct_id", "session_id", "uuid", "timestamp"):
            continue
        if not ctx.event_property_exists(name):
            return True
    return False


def with_user_key(ctx: Context, t: ir.Table, prop: str | None) -> ir.Table:
    """``t`` (with ``person_id``) plus ``key``: the person's user property ``prop`` as text
    ("(none)" when missing), or one segment "all" without a breakdown."""
    if prop is None:
        return t.mutate(key=ibis.literal("all"))
    name = prop.partition(".")[2] if prop.startswith(("user.", "person.")) else prop
    if name not in ctx.property_keys("users") and name not in ("user_id", "created_at"):
        raise FilterError(
            f"unknown user property {prop!r}; break down by a property users carry, "
            "such as plan, country or channel"
        )
    users = ctx.table("users")
    value = users[name] if name in ("user_id", "created_at") else json_text(users.properties, name)
    users = users.select(__uid=users.user_id, __key=value.cast("string"))
    joined = t.left_join(users, t.person_id == users["__uid"])
    return joined.mutate(key=joined["__key"].fill_null(NONE)).drop("__uid", "__key")
