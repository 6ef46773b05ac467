"""Ibis expressions for the metric kinds users declare in YAML: simple and rolling."""

from __future__ import annotations

from datetime import timedelta

import ibis
import ibis.expr.types as ir

from northstar.errors import MetricDefinitionError
from northstar.metrics import filters
from northstar.metrics.context import Context
from northstar.metrics.functions import json_text
from northstar.metrics.rolling import running_distinct
from northstar.metrics.spec import Aggregation, RollingDefinition, SimpleDefinition
from northstar.store.schema import TABLES


def time_column(table: str, given: str | None) -> str:
    column = given or TABLES[table].time_column
    assert column is not None
    return column


def _filtered(ctx: Context, d: SimpleDefinition | RollingDefinition, t: ir.Table) -> ir.Table:
    base = t
    for text in d.filters:
        t = t.filter(
            filters.compile_filter(text, lambda name: _resolve_plain(ctx, d.table, base, name))
        )
    return t


def _resolve_plain(ctx: Context, table: str, t: ir.Table, name: str) -> ir.Value:
    """Metric filters name the table's columns or its own properties."""
    if name in t.columns and name != "properties":
        return t[name]
    key = name.split(".", 1)[1] if name.startswith(("event.", "properties.")) else name
    if "properties" in t.columns:
        return json_text(t.properties, key)
    raise MetricDefinitionError(f"{table} has no column {name!r}")


def aggregate(
    t: ir.Table, d: SimpleDefinition | RollingDefinition, column: str | None
) -> ir.Scalar:
    agg = d.agg
    if agg is Aggregation.count:
        return t.count() if column is None else t[column].count()
    if column is None:
        raise MetricDefinitionError(f"aggregation {agg.value} needs a column")
    col = t[column]
    if agg is Aggregation.count_distinct:
        return col.nunique()
    num = col if col.type().is_numeric() else col.try_cast("float64")
    if agg is Aggregation.sum:
        return num.sum()
    if agg is Aggregation.mean:
        return num.mean()
    if agg is Aggregation.min:
        return num.min()
    if agg is Aggregation.max:
        return num.max()
    if agg is Aggregation.median:
        return num.median()
    q = getattr(d, "percentile", None)
    return num.quantile((q if q is not None else 50) / 100)


def _column(
    ctx: Context, d: SimpleDefinition | RollingDefinition, t: ir.Table
) -> tuple[ir.Table, str | None]:
    """The aggregated column; a property name becomes a computed column."""
    if d.column is None:
        return t, None
    if d.column in t.columns:
        return t, d.column
    return t.mutate(__measure=_resolve_plain(ctx, d.table, t, d.column)), "__measure"


def simple(ctx: Context, d: SimpleDefinition) -> ir.Table:
    tcol = time_column(d.table, d.time_column)
    t = ctx.in_window(ctx.table(d.table), tcol)
    t = _filtered(ctx, d, t)
    t = ctx.segment(t, d.table)
    t, column = _column(ctx, d, t)
    t = t.mutate(period=ctx.period(ctx.local_date(t[tcol])))
    return t.group_by(["period", *ctx.keys]).aggregate(value=aggregate(t, d, column))


def rolling(ctx: Context, d: RollingDefinition) -> ir.Table:
    """Daily values over the trailing window (the engine rolls them up to the grain)."""
    tcol = time_column(d.table, d.time_column)
    lookback = d.window_days - 1
    t = ctx.in_window(ctx.table(d.table), tcol, lookback_days=lookback)
    t = _filtered(ctx, d, t)
    t = ctx.segment(t, d.table)
    t, column = _column(ctx, d, t)
    t = t.mutate(day=ctx.local_date(t[tcol]))
    if d.agg is Aggregation.count_distinct:
        assert column is not None
        return running_distinct(ctx, t, column, d.window_days)
    if d.agg not in (Aggregation.count, Aggregation.sum):
        raise MetricDefinitionError(
            f"rolling {d.agg.value} is not supported; use count, sum or count_distinct "
            "(a rolling mean is a ratio of two rolling sums)"
        )
    daily = t.group_by(["day", *ctx.keys]).aggregate(v=aggregate(t, d, column))
    calendar = ctx.calendar(ctx.window.start - timedelta(days=lookback))
    if ctx.keys:
        calendar = calendar.cross_join(daily.select(*ctx.keys).distinct())
    grid = calendar.left_join(daily, ["day", *ctx.keys]).select(
        *ctx.keys, day=calendar.day, v=ibis.coalesce(daily.v, 0)
    )
    win = ibis.window(group_by=ctx.keys or None, order_by="day", preceding=lookback, following=0)
    out = grid.mutate(value=grid.v.sum().over(win))
    out = out.filter(out.day >= ctx.window.start)
    return out.select(*ctx.keys, period=out.day, value=out.value)
