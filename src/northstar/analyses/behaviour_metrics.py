"""Series forms of the analyses, usable everywhere a metric is: retention rate, funnel
conversion rate, feature adoption.

``retention_rate`` is built in; workspaces declare their own with the YAML kinds
``retention``, ``funnel`` and ``feature_adoption`` (``docs/metrics.md``), which
``metrics.yaml_specs`` builds through :func:`definition`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from functools import partial
from typing import Any

import ibis
import ibis.expr.types as ir

from northstar.analyses.common import Range
from northstar.analyses.events import EventSpec, apply_spec
from northstar.analyses.funnel import FunnelRequest, conversion_series
from northstar.errors import FilterError, MetricDefinitionError, MetricError
from northstar.metrics.catalog._build import builtin
from northstar.metrics.context import Context
from northstar.metrics.periods import Grain, period_start, shift_periods
from northstar.metrics.spec import Category, Direction, MetricSpec, Perspective, Unit

ANY = EventSpec(None)


def _events(ctx: Context, spec: EventSpec, first: date | None, last: date) -> ir.Table:
    """Segmented events of ``spec`` from ``first`` (None: all history) to ``last``:
    ``person_id``, ``day``, the breakdown keys."""
    t = ctx.table("events")
    if first is not None:
        t = t.filter(t.timestamp >= ctx.instant(first))
    t = t.filter(t.timestamp < ctx.instant(last + timedelta(days=1)))
    t = apply_spec(ctx, ctx.segment(t, "events"), spec)
    return t.select("person_id", *ctx.keys, day=ctx.local_date(t.timestamp))


def retention_rate(
    ctx: Context,
    start: EventSpec = ANY,
    back: EventSpec = ANY,
    offset: int = 1,
    first_time: bool = True,
) -> ir.Table:
    """Per cohort period P: the share of the cohort who did ``back`` in period P+offset."""
    grain, keys = ctx.grain, ctx.keys
    window_first = period_start(ctx.window.start, grain, ctx.settings.week_start.value)
    starts = _events(ctx, start, None if first_time else window_first, ctx.window.end)
    if first_time:
        starts = starts.group_by(["person_id", *keys]).aggregate(day=starts.day.min())
        starts = starts.filter(starts.day >= window_first)
    cohorts = starts.select("person_id", *keys, period=ctx.period(starts.day)).distinct()
    last_period = period_start(ctx.window.end, grain, ctx.settings.week_start.value)
    reach = shift_periods(last_period, grain, offset + 1) - timedelta(days=1)
    returns = _events(ctx, back, shift_periods(window_first, grain, offset), reach)
    returns = returns.select("person_id", rperiod=ctx.period(returns.day)).distinct()
    months = {Grain.month: 1, Grain.quarter: 3, Grain.year: 12}.get(grain)
    step = (
        ibis.interval(months=months * offset)
        if months
        else ibis.interval(days=offset * (7 if grain is Grain.week else 1))
    )
    cohorts = cohorts.mutate(due=(cohorts.period + step).cast("date"))
    # A cohort whose return period has not begun has no value yet (not 0 %).
    cohorts = cohorts.filter(cohorts.due <= ctx.window.today)
    joined = cohorts.left_join(
        returns, [cohorts.person_id == returns.person_id, cohorts.due == returns.rperiod]
    )
    out = joined.group_by(["period", *keys]).aggregate(
        size=joined.person_id.count(), back=joined.rperiod.count()
    )
    return out.select("period", *keys, value=out.back / out.size)


def conversion_rate(ctx: Context, request: FunnelRequest) -> ir.Table:
    """Per period in which users entered the funnel: the share who completed it.

    A breakdown is by the first step's property (event or user), as in the funnel
    analysis; a filter applies to the events of every step (PostHog's global filters)."""
    if len(ctx.by) > 1:
        raise FilterError("a funnel conversion metric breaks down by one dimension at a time")
    if ctx.by:
        request = replace(request, by=ctx.by[0])
    rng = Range(ctx.window.start, ctx.window.end, ctx.grain, ctx.window.today)
    series = conversion_series(ctx, request, rng, ctx.grain)
    keys = {ctx.keys[0]: series.key} if ctx.by else {}
    return series.select("period", value=series.value, **keys)


def feature_adoption(ctx: Context, feature: EventSpec, released: date | None = None) -> ir.Table:
    """Per period: users who used the feature / active users (from the release on)."""
    first = ctx.window.start if released is None else max(ctx.window.start, released)
    used = _events(ctx, feature, first, ctx.window.end)
    active = _events(ctx, ANY, first, ctx.window.end)
    keys = ["period", *ctx.keys]
    users = used.select("person_id", *ctx.keys, period=ctx.period(used.day)).distinct()
    adopters = users.group_by(keys).aggregate(adopters=ibis._.count())
    act = active.select("person_id", *ctx.keys, period=ctx.period(active.day)).distinct()
    actives = act.group_by(keys).aggregate(actives=ibis._.count())
    joined = actives.left_join(adopters, keys)
    return joined.select(
        *[actives[k] for k in keys],
        value=joined.adopters.fill_null(0) / joined.actives,
    )


METRICS: tuple[MetricSpec, ...] = (
    builtin(
        "retention_rate", "Retention rate",
        "Share of the users new in a period (their first active event) who are active "
        "again in the next period: week-1 retention by week, month-1 by month.",
        "users first active in P and active in P+1 / users first active in P",
        unit=Unit.rate, direction=Direction.higher, category=Category.engagement,
        perspective=Perspective.customer, fn=retention_rate, sources=("events",), empty=None,
        settle_periods=1,
        notes="The full table, with any start and return event, is 'northstar retention'. "
        "Declare others with the YAML kind 'retention'. The value of a period is final "
        "once the next period has ended.",
    ),
)  # fmt: skip


def definition(kind: str, params: dict[str, Any]) -> Callable[[Context], ir.Table]:
    """The metric function of a YAML metric of an analysis kind (validated parameters)."""
    try:
        if kind == "retention":
            return partial(
                retention_rate,
                start=EventSpec.parse(params.get("start_event") or "$active"),
                back=EventSpec.parse(params.get("return_event") or "$active"),
                offset=int(params.get("offset") or 1),
                first_time=(params.get("cohort") or "first-time") == "first-time",
            )
        if kind == "funnel":
            request = FunnelRequest.make(
                list(params.get("steps") or []),
                window=params.get("window") or "14d",
                mode=params.get("mode") or "ordered",
            )
            return partial(conversion_rate, request=request)
        if kind == "feature_adoption":
            spec = EventSpec(str(params["event"]), params.get("where"))
            released = params.get("released")
            return partial(feature_adoption, feature=spec, released=released)
    except (MetricError, ValueError) as exc:
        raise MetricDefinitionError(str(exc)) from None
    raise MetricDefinitionError(f"unknown metric kind {kind!r}")
