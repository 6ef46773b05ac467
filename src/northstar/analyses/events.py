"""Which events an analysis looks at: an event name with optional property filters, or
"any active event", resolved into persons (after identity merging) and local days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from northstar.errors import FilterError
from northstar.metrics import filters
from northstar.metrics.context import NONE, Context
from northstar.metrics.functions import json_text

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
        return _with_user_props(ctx, t), json_text(t["__uprops"], rest)
    if name in t.columns and name not in ("properties", "__uprops"):
        return t, t[name]
    if ctx.event_property_exists(name):
        return t, json_text(t.properties, name)
    if name in ctx.property_keys("users"):
        return _with_user_props(ctx, t), json_text(t["__uprops"], name)
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
    if ev.active_events:
        return t.filter(t.event.isin(ev.active_events))
    if ev.passive_events:
        return t.filter(~t.event.isin(ev.passive_events))
    return t


def events_between(ctx: Context, first: date | None, last: date) -> ir.Table:
    """Events (with ``person_id``) from ``first`` (None: all history) to ``last``, local days."""
    t = ctx.table("events")
    if first is not None:
        t = t.filter(t.timestamp >= ctx.instant(first))
    return t.filter(t.timestamp < ctx.instant(last + timedelta(days=1)))


def person_days(ctx: Context, spec: EventSpec, first: date | None, last: date) -> ir.Table:
    """Distinct (``person_id``, ``day``) pairs on which a person did ``spec``.

    Without user-property filters the distinct (id, day) pairs are built first and merged
    into persons afterwards, so the identity join touches one row per id and day.
    """
    raw = ctx.backend.table("events")
    if first is not None:
        raw = raw.filter(raw.timestamp >= ctx.instant(first))
    raw = raw.filter(raw.timestamp < ctx.instant(last + timedelta(days=1)))
    needs_person = bool(spec.where) and _mentions_user(ctx, spec.where or "")
    if needs_person:
        t = apply_spec(ctx, events_between(ctx, first, last), spec)
        return t.select("person_id", day=ctx.local_date(t.timestamp)).distinct()
    raw = apply_spec(ctx, raw.mutate(person_id=raw.distinct_id), spec)
    ids = raw.select(distinct_id=raw.distinct_id, day=ctx.local_date(raw.timestamp)).distinct()
    if not ctx.settings.events.merge_identities:
        return ids.select(person_id=ids.distinct_id, day=ids.day)
    merged = ctx.backend.table("_person_map")
    joined = ids.left_join(merged, ids.distinct_id == merged.distinct_id)
    person = ibis.coalesce(joined.person_id, joined.distinct_id)
    return joined.select(person_id=person, day=joined.day).distinct()


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
