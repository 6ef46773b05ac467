"""Observed lifetime value by acquisition cohort (``northstar ltv-cohorts``).

Customers join the cohort of the period in which they first paid: their first paid
subscription period or first order, whichever is earlier (the ``new_customers``
definition, so a cohort's size is that period's ``new_customers``). For each cohort and
k = 0, 1, ... the table gives the cumulative revenue per customer up to the end of the
k-th period after the cohort's (k = 0: the acquisition period itself): the cohort's
revenue in those periods / the cohort's size. Revenue is the ``revenue`` metric's:
subscription invoices and orders, tax excluded, in the workspace currency at the rate of
the item's day. Revenue is observed up to ``today``; a cohort has one value per period
that has started by then, the last one possibly incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import pandas as pd
from ibis.backends.duckdb import Backend as IbisDuckDB

from northstar.errors import QueryArgumentError
from northstar.metrics.catalog import acquisition, revenue
from northstar.metrics.context import Context
from northstar.metrics.periods import (
    Grain,
    Window,
    parse_date,
    parse_grain,
    period_last_day,
    period_start,
    resolve_window,
    shift_periods,
)
from northstar.settings import Settings
from northstar.store.freshness import AsOf, freshness_fields

COHORT_GRAINS = (Grain.week, Grain.month, Grain.quarter, Grain.year)
MAX_PERIODS = 400  # columns k = 0 .. 399 at most


@dataclass(frozen=True)
class RevenueCohort:
    start: date  # first day of the acquisition period
    customers: int
    revenue_per_customer: list[float | None]  # cumulative, k = 0, 1, ...
    complete_periods: int  # the first this many values cover periods that have ended

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "customers": self.customers,
            "revenue_per_customer": self.revenue_per_customer,
            "complete_periods": self.complete_periods,
        }


@dataclass
class RevenueCohorts:
    grain: Grain
    currency: str
    first: date  # first day of the first cohort
    last: date  # last day of acquisition included
    today: date  # revenue is observed up to this day (inclusive)
    cohorts: list[RevenueCohort] = field(default_factory=list)
    as_of: AsOf | None = None  # the workspace's as-of and freshness

    def to_dict(self) -> dict[str, Any]:
        return {
            **freshness_fields(self.as_of),
            "grain": self.grain.value,
            "currency": self.currency,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "observed_to": self.today.isoformat(),
            "cohorts": [c.to_dict() for c in self.cohorts],
        }

    def frame(self) -> pd.DataFrame:
        """One row per cohort and k (for CSV)."""
        rows = [
            {
                "start": c.start,
                "customers": c.customers,
                "k": k,
                "revenue_per_customer": value,
                "complete": k < c.complete_periods,
            }
            for c in self.cohorts
            for k, value in enumerate(c.revenue_per_customer)
        ]
        columns = ["start", "customers", "k", "revenue_per_customer", "complete"]
        return pd.DataFrame(rows, columns=columns)


def revenue_cohorts(
    backend: IbisDuckDB,
    settings: Settings,
    *,
    grain: str | Grain = "month",
    start: str | date | None = None,
    end: str | date | None = None,
    today: date,
) -> RevenueCohorts:
    """Cumulative revenue per customer by acquisition cohort, for the customers who first
    paid from ``start`` to ``end`` (defaults: the last 12 months, weeks, ... to today)."""
    g = parse_grain(grain)
    if g not in COHORT_GRAINS:
        raise QueryArgumentError(
            f"grain {g.value!r} is not supported for cohorts; use week, month, quarter or year"
        )
    week_start = settings.week_start.value
    window = resolve_window(
        g, parse_date(start, "start date"), parse_date(end, "end date"),
        week_start=week_start, today=today,
    )  # fmt: skip
    last = min(window.end, today)
    result = RevenueCohorts(g, settings.currency, window.start, window.end, today)
    cohort_starts = [p for p in window.periods() if p <= last]
    if not cohort_starts:
        return result
    earliest = _earliest_revenue_day(backend)
    if earliest is None or earliest > last:
        sizes: dict[date, int] = {}
        amounts = pd.DataFrame({"cohort": [], "period": [], "amount": []})
    else:
        history = Window(g, period_start(earliest, g, week_start), today, week_start, today)
        sizes, amounts = _aggregates(Context(backend, settings, history), window.start, last)
    for cohort in cohort_starts:
        result.cohorts.append(_cohort(cohort, g, sizes.get(cohort, 0), amounts, today))
    return result


def _earliest_revenue_day(backend: IbisDuckDB) -> date | None:
    """A day on or before every subscription row and order (in any time zone)."""
    subs, orders = backend.table("subscriptions"), backend.table("orders")
    found = [subs.started_at.min().execute(), orders.ordered_at.min().execute()]
    days = [pd.Timestamp(v).date() for v in found if v is not None and not pd.isna(v)]
    return min(days) - timedelta(days=1) if days else None


def _aggregates(ctx: Context, first: date, last: date) -> tuple[dict[date, int], pd.DataFrame]:
    """Cohort sizes, and revenue per (cohort, period) of the cohorts' customers."""
    firsts = acquisition.first_paid(ctx)
    firsts = firsts.mutate(day=ctx.local_date(firsts.first_paid_at))
    firsts = firsts.filter(firsts.day >= first, firsts.day <= last)
    firsts = firsts.select("customer_id", cohort=ctx.period(firsts.day))
    sizes = firsts.group_by("cohort").aggregate(customers=ibis._.count()).to_pandas()
    items = revenue.revenue_items(ctx)
    joined = items.join(firsts, "customer_id")
    joined = joined.mutate(period=ctx.period(joined.day))
    amounts = (
        joined.group_by(["cohort", "period"]).aggregate(amount=joined.amount_home.sum()).to_pandas()
    )
    by_cohort = {_as_date(r["cohort"]): int(r["customers"]) for r in sizes.to_dict("records")}
    return by_cohort, amounts


def _cohort(
    cohort: date, grain: Grain, size: int, amounts: pd.DataFrame, today: date
) -> RevenueCohort:
    starts: list[date] = []
    while len(starts) < MAX_PERIODS:
        p = shift_periods(cohort, grain, len(starts))
        if p > today:
            break
        starts.append(p)
    complete = sum(1 for p in starts if period_last_day(p, grain) < today)
    if size == 0:
        return RevenueCohort(cohort, 0, [None] * len(starts), complete)
    mine = amounts[amounts["cohort"].map(_as_date) == cohort]
    by_period: dict[date, float] = {}
    for row in mine.to_dict("records"):
        p = _as_date(row["period"])
        # Revenue before the first paid moment (a past-due period when past-due rows do
        # not count as paid) joins period 0: the value is revenue *up to* period k.
        key = max(p, cohort)
        by_period[key] = by_period.get(key, 0.0) + float(row["amount"])
    values: list[float | None] = []
    total = 0.0
    for p in starts:
        total += by_period.get(p, 0.0)
        values.append(round(total / size, 4))
    return RevenueCohort(cohort, size, values, complete)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime | pd.Timestamp):
        return value.date()
    return value
