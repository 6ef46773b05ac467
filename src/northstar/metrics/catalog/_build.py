"""Shorthand for declaring catalog metrics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import ibis
import ibis.expr.types as ir

from northstar.metrics.context import Context
from northstar.metrics.periods import Grain, shift_periods
from northstar.metrics.spec import (
    BuiltinDefinition,
    Category,
    Direction,
    MetricSpec,
    Perspective,
    RatioDefinition,
    Rollup,
    Unit,
)


def builtin(
    id: str,
    title: str,
    description: str,
    formula: str,
    *,
    unit: Unit,
    direction: Direction,
    category: Category,
    perspective: Perspective,
    fn: Callable[[Context], ir.Table],
    sources: tuple[str, ...],
    rollup: Rollup = Rollup.flow,
    empty: float | None = 0.0,
    notes: str = "",
    settle_periods: int = 0,
    settle_days: int = 0,
) -> MetricSpec:
    return MetricSpec(
        id=id, title=title, description=description, formula=formula, unit=unit,
        direction=direction, category=category, perspective=perspective,
        definition=BuiltinDefinition(fn), sources=sources, rollup=rollup, empty=empty,
        notes=notes, settle_periods=settle_periods, settle_days=settle_days,
    )  # fmt: skip


def ratio(
    id: str,
    title: str,
    description: str,
    formula: str,
    *,
    numerator: str,
    denominator: str,
    unit: Unit,
    direction: Direction,
    category: Category,
    perspective: Perspective,
    sources: tuple[str, ...],
    notes: str = "",
) -> MetricSpec:
    return MetricSpec(
        id=id, title=title, description=description, formula=formula, unit=unit,
        direction=direction, category=category, perspective=perspective,
        definition=RatioDefinition(numerator, denominator), sources=sources, empty=None,
        notes=notes,
    )  # fmt: skip


def grain_interval(grain: Grain) -> ir.IntervalScalar:
    """One period of ``grain`` as an Ibis interval."""
    return {
        Grain.day: ibis.interval(days=1),
        Grain.week: ibis.interval(days=7),
        Grain.month: ibis.interval(months=1),
        Grain.quarter: ibis.interval(months=3),
        Grain.year: ibis.interval(years=1),
    }[grain]


def days_back(ctx: Context, n_periods: int) -> int:
    """Days from ``n_periods`` periods before the window start to the window start."""
    earlier: date = shift_periods(ctx.window.start, ctx.grain, -n_periods)
    return (ctx.window.start - earlier).days
