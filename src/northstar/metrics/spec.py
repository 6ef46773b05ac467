"""What a metric *is*: a typed, frozen spec. How it is computed lives in ``definition``.

Four kinds can be declared in YAML (``simple``, ``ratio``, ``derived``, ``rolling``); the
built-in catalog adds ``builtin`` metrics whose definition is a function from a query
context to an Ibis expression.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from northstar.metrics.context import Context
    from northstar.settings import Settings


class Unit(StrEnum):
    """How a value is expressed. In JSON/CSV rates are fractions, money is in the
    workspace currency and durations are seconds; the table format renders them."""

    count = "count"  # type: ignore[assignment]
    rate = "rate"  # a fraction: 0.25 means 25 %
    currency = "currency"
    seconds = "seconds"
    points = "points"
    score = "score"
    ratio = "ratio"  # a multiple, e.g. LTV:CAC 3.1×
    months = "months"
    number = "number"


class Direction(StrEnum):
    higher = "higher"
    lower = "lower"  # type: ignore[assignment]


class Category(StrEnum):
    engagement = "engagement"
    acquisition = "acquisition"
    revenue = "revenue"
    satisfaction = "satisfaction"
    team = "team"
    community = "community"
    custom = "custom"


class Perspective(StrEnum):
    """Balanced-scorecard perspective."""

    financial = "financial"
    customer = "customer"
    internal_process = "internal_process"
    learning_growth = "learning_growth"


class Rollup(StrEnum):
    """How a metric's value for a week, month, ... relates to its daily values."""

    flow = "flow"  # computed over the whole period (counts, distinct counts, sums)
    end = "end"  # the value at the end of the period's last day (MRR, MAU, backlog)
    mean = "mean"  # the mean of the daily values (stickiness, time in app)


class Aggregation(StrEnum):
    count = "count"  # type: ignore[assignment]
    count_distinct = "count_distinct"
    sum = "sum"
    mean = "mean"
    min = "min"
    max = "max"
    median = "median"
    percentile = "percentile"


@dataclass(frozen=True)
class BuiltinDefinition:
    """A catalog metric computed by a function of the query context.

    The function returns an Ibis table with a ``period`` column (date), one column per
    breakdown key (``ctx.keys``) and ``value``.
    """

    fn: Callable[[Context], ir.Table]
    kind: str = "builtin"


@dataclass(frozen=True)
class SimpleDefinition:
    """An aggregation over one table's rows in the period, with filters."""

    table: str
    agg: Aggregation
    column: str | None = None
    filters: tuple[str, ...] = ()
    time_column: str | None = None
    percentile: float | None = None
    kind: str = "simple"


@dataclass(frozen=True)
class RatioDefinition:
    numerator: str
    denominator: str
    kind: str = "ratio"


@dataclass(frozen=True)
class DerivedDefinition:
    """An arithmetic expression of other metrics; ``name[-1]`` is the previous period.

    A built-in may instead give ``make``, which writes the expression from the settings
    (e.g. LTV averages churn over ``revenue.ltv_churn_months`` periods).
    """

    expression: str
    make: Callable[[Settings], str] | None = None
    kind: str = "derived"

    def text(self, settings: Settings) -> str:
        return self.make(settings) if self.make is not None else self.expression


@dataclass(frozen=True)
class RollingDefinition:
    """An aggregation over a trailing window of days ending on each day."""

    table: str
    agg: Aggregation
    window_days: int
    column: str | None = None
    filters: tuple[str, ...] = ()
    time_column: str | None = None
    kind: str = "rolling"


Definition = (
    BuiltinDefinition | SimpleDefinition | RatioDefinition | DerivedDefinition | RollingDefinition
)


@dataclass(frozen=True)
class MetricSpec:
    """A metric: what it means (for people) and how it is computed (for the engine)."""

    id: str
    title: str
    description: str
    formula: str
    unit: Unit
    direction: Direction
    category: Category
    perspective: Perspective
    definition: Definition
    sources: tuple[str, ...] = ()
    rollup: Rollup = Rollup.flow
    empty: float | None = 0.0  # value of a period without data (None: no value)
    notes: str = ""
    origin: str = "built-in"  # or the YAML file that declared it
    # A cohort metric's value of a period is final only later: once ``settle_periods``
    # more periods have ended, plus ``settle_days`` days (until then it is incomplete).
    settle_periods: int = 0
    settle_days: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def kind(self) -> str:
        return self.definition.kind

    def fingerprint(self) -> str:
        """A stable text describing the computation, for cache keys."""
        d = self.definition
        if isinstance(d, BuiltinDefinition):
            fn = d.fn
            if isinstance(fn, functools.partial):  # a YAML analysis kind: its parameters too
                args = sorted(fn.keywords.items())
                body = f"{fn.func.__module__}.{fn.func.__qualname__}{fn.args!r}{args!r}"
            else:
                body = f"{fn.__module__}.{fn.__qualname__}"
        elif isinstance(d, DerivedDefinition) and d.make is not None:
            body = f"{d.make.__module__}.{d.make.__qualname__}"
        else:
            body = repr(d)
        return f"{self.id}|{self.rollup}|{self.empty}|{body}"
