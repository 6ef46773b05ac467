"""Lifecycle: per period, the users who are new, returning, resurrecting, or went dormant
(semantics: ``docs/analyses.md#lifecycle``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends.duckdb import Backend as IbisDuckDB

from northstar.analyses.common import Range, make_context
from northstar.analyses.events import EventSpec, person_days
from northstar.metrics.context import Context
from northstar.metrics.periods import Grain, period_start, periods, shift_periods
from northstar.settings import Settings
from northstar.store.freshness import AsOf, after_the_data, freshness_fields

STATUSES = ("new", "returning", "resurrecting", "dormant")


@dataclass
class Lifecycle:
    event: EventSpec
    grain: Grain
    rows: list[dict[str, Any]] = field(default_factory=list)
    as_of: AsOf | None = None  # the workspace's as-of and freshness
    reason: str | None = None  # why there are no counts (the range is after the data)

    def to_dict(self) -> dict[str, Any]:
        return {
            **freshness_fields(self.as_of),
            "event": self.event.label,
            "grain": self.grain.value,
            "rows": self.rows,
            "reason": self.reason,
        }

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["period", *STATUSES, "partial"])


def created_periods(ctx: Context, grain: Grain) -> ir.Table:
    """When each person appeared: the earlier of their user record's ``created_at`` and
    their first event (any event), as a period."""
    events = ctx.table("events")
    first = events.group_by("person_id").aggregate(seen=events.timestamp.min())
    users = ctx.table("users").select("user_id", "created_at")
    both = first.outer_join(users, first.person_id == users.user_id)
    person = ibis.coalesce(both.person_id, both.user_id)
    when = ibis.least(
        ibis.coalesce(both.seen, both.created_at), ibis.coalesce(both.created_at, both.seen)
    )
    out = both.select(person_id=person, created=when)
    return out.select("person_id", created=ctx.period(ctx.local_date(out.created), grain))


def lifecycle(
    backend: IbisDuckDB,
    settings: Settings,
    event: str | EventSpec,
    *,
    grain: str | Grain = "week",
    start: str | date | None = None,
    end: str | date | None = None,
    today: date,
) -> Lifecycle:
    spec = event if isinstance(event, EventSpec) else EventSpec.parse(event)
    rng = Range.make(grain, start, end, today=today)
    g = rng.grain
    week_start = settings.week_start.value
    first_period = period_start(rng.first, g, week_start)
    ctx = make_context(backend, settings, rng)
    days = person_days(ctx, spec, shift_periods(first_period, g, -1), rng.last)
    active = days.select("person_id", period=ctx.period(days.day, g)).distinct()
    step = {Grain.day: ibis.interval(days=1), Grain.week: ibis.interval(days=7)}.get(
        g, ibis.interval(months=1)
    )
    before = active.select("person_id", period=(active.period + step).cast("date"), was=True)
    now = active.left_join(before, ["person_id", "period"]).select(
        "person_id", "period", was=ibis._.was.fill_null(False)
    )
    now = now.left_join(created_periods(ctx, g), "person_id")
    status = ibis.cases(
        (now.created == now.period, "new"),
        (now.was, "returning"),
        else_="resurrecting",
    )
    counted = now.group_by(["period", status.name("status")]).aggregate(n=ibis._.count())
    gone = before.anti_join(active, ["person_id", "period"])
    dormant = (
        gone.group_by("period").aggregate(n=ibis._.count()).mutate(status=ibis.literal("dormant"))
    )
    frame = counted.union(dormant.select("period", "status", "n")).to_pandas()
    found = {(_day(r["period"]), r["status"]): int(r["n"]) for r in frame.to_dict("records")}
    result = Lifecycle(spec, g)
    if first_period > today:
        result.reason = after_the_data(today)
    for p in periods(first_period, rng.last, g, week_start):
        row: dict[str, Any] = {"period": p.isoformat()}
        # a period that started but ends after the last day observed is still filling in
        last_day = shift_periods(p, g, 1) - timedelta(days=1)
        row["partial"] = p <= today < last_day
        for status_name in STATUSES:
            n = found.get((p, status_name), 0)
            # a period that starts after the last day observed has no data: null, not a
            # phantom wave of dormant users
            row[status_name] = None if p > today else -n if status_name == "dormant" else n
        result.rows.append(row)
    return result


def _day(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value
