"""Retention tables: cohorts by the period of a start event, counts of the users who come
back with a return event k periods later (semantics: ``docs/analyses.md#retention``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends.duckdb import Backend as IbisDuckDB

from northstar.analyses.common import Range, make_context, parse_analysis_grain
from northstar.analyses.events import (
    EventSpec,
    apply_spec,
    events_between,
    person_day_rows,
    person_days,
    person_periods,
    unknown_event,
    with_user_key,
)
from northstar.errors import QueryArgumentError
from northstar.metrics.context import Context
from northstar.metrics.functions import epoch_us
from northstar.metrics.periods import Grain, shift_periods
from northstar.settings import Settings
from northstar.store.freshness import AsOf, after_the_data, freshness_fields

MAX_PERIODS = 400
_US_PER_DAY = 86_400 * 1_000_000
# Rolling windows (``--window 24h``): period k is [anchor + k·L, anchor + (k+1)·L).
ROLLING_DAYS = {Grain.day: 1, Grain.week: 7, Grain.month: 30}


class CohortType(StrEnum):
    recurring = "recurring"  # a user joins the cohort of every period with a start event
    first_time = "first-time"  # only the cohort of their first start event ever


class PeriodWindow(StrEnum):
    calendar = "calendar"  # periods are calendar days/weeks/months in the workspace zone
    rolling = "24h"  # periods are 24 h (7·24 h, 30·24 h) windows from the first start event


@dataclass(frozen=True)
class RetentionRequest:
    start_event: EventSpec
    return_event: EventSpec
    period: Grain
    periods: int
    type: CohortType = CohortType.recurring
    window: PeriodWindow = PeriodWindow.calendar
    cumulative: bool = False
    by: str | None = None

    @classmethod
    def make(
        cls,
        start_event: str | EventSpec = "$active",
        return_event: str | EventSpec = "$active",
        *,
        period: str | Grain = "week",
        periods: int = 8,
        type: str = "recurring",
        window: str = "calendar",
        cumulative: bool = False,
        by: str | None = None,
    ) -> RetentionRequest:
        if not 2 <= periods <= MAX_PERIODS:
            raise QueryArgumentError(
                f"{periods} periods: a retention table needs 2 to {MAX_PERIODS} periods"
            )
        return cls(
            _spec(start_event),
            _spec(return_event),
            parse_analysis_grain(period),
            periods,
            _choice(CohortType, type, "cohort type"),
            _choice(PeriodWindow, window, "period window"),
            cumulative,
            by or None,
        )


def _spec(value: str | EventSpec) -> EventSpec:
    return value if isinstance(value, EventSpec) else EventSpec.parse(value)


def _choice(enum: type[Any], value: str, option: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = "|".join(e.value for e in enum)
        raise QueryArgumentError(f"{option} {value!r} is not one of {allowed}") from None


@dataclass
class Cohort:
    """One cohort's row. ``size`` is None for a cohort after the data (nothing observed);
    ``percentages`` are None where the cohort has no members (nothing to divide by);
    ``partial`` says the last observed period is not complete; ``reason`` says why a row
    has no numbers."""

    start: date
    size: int | None
    counts: list[int]
    percentages: list[float | None]
    breakdown: str | None = None
    partial: bool = False
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.breakdown is not None:
            out["breakdown"] = self.breakdown
        out.update(
            start=self.start.isoformat(),
            size=self.size,
            counts=self.counts,
            percentages=self.percentages,
            partial=self.partial,
            reason=self.reason,
        )
        return out


@dataclass
class RetentionTable:
    request: RetentionRequest
    first: date
    last: date
    cohorts: list[Cohort] = field(default_factory=list)
    as_of: AsOf | None = None  # the workspace's as-of and freshness

    def to_dict(self) -> dict[str, Any]:
        r = self.request
        return {
            **freshness_fields(self.as_of),
            "start_event": r.start_event.label,
            "return_event": r.return_event.label,
            "period": r.period.value,
            "periods": r.periods,
            "type": r.type.value,
            "window": r.window.value,
            "cumulative": r.cumulative,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            **({"by": r.by} if r.by else {}),
            "cohorts": [c.to_dict() for c in self.cohorts],
        }

    def frame(self) -> pd.DataFrame:
        """One row per cohort and period k (for CSV and tables); a cohort after the data
        is one row with empty cells."""
        rows = [
            {
                **({"breakdown": c.breakdown} if c.breakdown is not None else {}),
                "start": c.start,
                "size": c.size,
                "k": k if c.counts else None,
                "count": n,
                "percentage": p,
            }
            for c in self.cohorts
            for k, (n, p) in enumerate(
                zip(c.counts or [None], c.percentages or [None], strict=True)  # type: ignore[list-item]
            )
        ]
        columns = ["breakdown"] if self.request.by else []
        columns += ["start", "size", "k", "count", "percentage"]
        frame = pd.DataFrame(rows, columns=columns)
        return frame.astype({"size": "Int64", "k": "Int64", "count": "Int64"})

        return ["breakdown"] if self.request.by else []


def retention(
    backend: IbisDuckDB,
    settings: Settings,
    request: RetentionRequest,
    *,
    start: str | date | None = None,
    end: str | date | None = None,
    today: date,
) -> RetentionTable:
    """The retention table of cohorts whose start event falls in ``start``..``end``."""
    rng = Range.make(request.period, start, end, today=today)
    grain, n = request.period, request.periods
    last_cohort = _period_start(rng.last, grain, settings)
    reach = min(today, shift_periods(last_cohort, grain, n) - timedelta(days=1))
    if request.window is PeriodWindow.rolling:
        reach = min(today, rng.last + timedelta(days=ROLLING_DAYS[grain] * n))
    ctx = make_context(backend, settings, rng, reach=reach)
    # Without a breakdown every cohort is in the one segment "all", added after the query.
    group = ["key", "cohort"] if request.by else ["cohort"]
    if _masks_fit(request, rng, reach, settings):
        cells = _mask_cells(ctx, request, rng, reach, group)
    else:
        cells = _join_cells(ctx, request, rng, reach, group)
    rows = cells.to_pandas()
    if not request.by:
        rows["key"] = "all"
    at_zero = rows["k"] == 0
    quiet = not rows.loc[at_zero, "n"].sum() or not rows.loc[~at_zero, "n"].sum()
    if quiet and (problem := unknown_event(ctx, [request.start_event, request.return_event])):
        raise QueryArgumentError(problem)  # a misspelt event would show an empty table
    return _table(
        request,
        rng,
        settings,
        rows[at_zero].rename(columns={"n": "size"}),
        rows[~at_zero],
    )


def _join_cells(
    ctx: Context, request: RetentionRequest, rng: Range, reach: date, group: list[str]
) -> ir.Table:
    """``group``, ``k`` and ``n``: the cohort sizes (k = 0) and the users who came back k
    periods later (k ≥ 1), by joining each person's cohorts to their returns."""
    n = request.periods
    if request.window is PeriodWindow.calendar:
        cohorts, returns = _calendar(ctx, request, rng, reach)
    else:
        cohorts, returns = _rolling(ctx, request, rng, reach)
    if request.by:
        cohorts = with_user_key(ctx, cohorts, request.by)
    sizes = cohorts.group_by(group).aggregate(n=ibis._.count())
    joined = cohorts.join(returns, "person_id")
    joined = joined.mutate(k=_k(joined, request))
    joined = joined.filter(joined.k >= 1, joined.k < n)
    if request.cumulative:
        best = joined.group_by([*group, "person_id"]).aggregate(k=joined.k.max())
        hits = best.group_by([*group, "k"]).aggregate(n=ibis._.count())
    elif request.window is PeriodWindow.calendar:
        # Cohorts and returns are distinct (person, period) pairs and k is a function of
        # the two periods, so each person appears once per (cohort, k).
        hits = joined.group_by([*group, "k"]).aggregate(n=ibis._.count())
    else:
        hits = joined.group_by([*group, "k"]).aggregate(n=joined.person_id.nunique())
    # One query: the cohort sizes travel as k = 0 (hits start at k = 1).
    sizes = sizes.select(*group, k=ibis.literal(0, "int64"), n=sizes.n)
    return sizes.union(hits.select(*group, "k", "n"), distinct=False)


# -- calendar periods as bits -----------------------------------------------------------
# With recurring cohorts and calendar periods, a person's periods fit in one BIGINT when
# the first cohort and the last period read are at most 62 periods apart: bit i is the
# i-th period from the first cohort. One mask of start periods and one of return periods
# per person replace the join of cohorts to returns; the cells are counted over the few
# distinct mask pairs.
_MASK_BITS = 63


def _masks_fit(request: RetentionRequest, rng: Range, reach: date, settings: Settings) -> bool:
    """Whether the table can be counted from bitmasks (else the cohorts join the returns)."""
    if request.window is not PeriodWindow.calendar or request.type is not CohortType.recurring:
        return False
    first_cohort = _period_start(rng.first, request.period, settings)
    last = _period_start(max(rng.last, reach), request.period, settings)
    return shift_periods(first_cohort, request.period, _MASK_BITS - 1) >= last


def _mask_cells(
    ctx: Context, request: RetentionRequest, rng: Range, reach: date, group: list[str]
) -> ir.Table:
    """The cells of :func:`_join_cells` from one start mask and one return mask per person
    (calendar periods, recurring cohorts; see ``_masks_fit``)."""
    grain, n = request.period, request.periods
    first_cohort = _period_start(rng.first, grain, ctx.settings)
    starts, returns = (rng.first, rng.last), (first_cohort, reach)

    def masks(spec: EventSpec, first: date, last: date, **spans: tuple[date, date]) -> ir.Table:
        rows = person_day_rows(ctx, spec, first, last)
        bit = ibis.literal(1, "int64") << _index(ctx.period(rows.day, grain), first_cohort, grain)
        bits = {
            name: ibis.ifelse((rows.day >= a) & (rows.day <= b), bit, 0).bit_or()
            for name, (a, b) in spans.items()
        }
        return rows.group_by("person_id").aggregate(**bits)

    if request.start_event == request.return_event:  # one scan for both masks
        m = masks(
            request.start_event, first_cohort, max(rng.last, reach), smask=starts, rmask=returns
        )
    else:
        s = masks(request.start_event, rng.first, rng.last, smask=starts)
        r = masks(request.return_event, first_cohort, reach, rmask=returns)
        m = s.left_join(r, s.person_id == r.person_id)
        m = m.select(m.person_id, m.smask, rmask=m.rmask.fill_null(0))
    m = m.filter(m.smask != 0)
    keys = group[:-1]  # ["key"] with a breakdown
    if request.by:
        m = with_user_key(ctx, m, request.by)
    pairs = m.group_by([*keys, "smask", "rmask"]).aggregate(n=ibis._.count())
    # Every cohort index c and period k whose bit c + k exists, for every pair of masks.
    cohorts = _index_of(rng.last, first_cohort, grain) + 1
    last_bit = _index_of(max(rng.last, reach), first_cohort, grain)
    x = pairs.mutate(c=ibis.literal(list(range(cohorts)), "array<int64>")).unnest("c")
    x = x.mutate(k=ibis.literal(list(range(n)), "array<int64>")).unnest("k")
    x = x.filter(x.c + x.k <= last_bit)
    ret = _bit(x.rmask, x.c + x.k)
    if request.cumulative:
        # Each person counts once, at their last return period in 1..n-1.
        later = (ibis.literal(1, "int64") << (n - 1 - x.k)) - 1
        ret = ret & (((x.rmask >> (x.c + x.k + 1)) & later) == 0)
    x = x.filter(_bit(x.smask, x.c), (x.k == 0) | ret)
    x = x.mutate(cohort=_nth_period(first_cohort, x.c, grain))
    return x.group_by([*keys, "cohort", "k"]).aggregate(n=x.n.sum())


def _bit(mask: ir.IntegerValue, i: ir.IntegerValue) -> ir.BooleanValue:
    return ((mask >> i) & 1) == 1


def _index(period: ir.DateValue, first: date, grain: Grain) -> ir.IntegerValue:
    """How many periods ``period`` is after ``first`` (both period starts)."""
    unit = {Grain.day: "day", Grain.week: "week", Grain.month: "month"}[grain]
    return period.delta(ibis.literal(first), unit=unit).cast("int64")


def _index_of(day: date, first: date, grain: Grain) -> int:
    """The index of the period containing ``day`` from the period starting on ``first``."""
    if grain is Grain.month:
        return (day.year - first.year) * 12 + day.month - first.month
    return (day - first).days // (7 if grain is Grain.week else 1)


def _nth_period(first: date, i: ir.IntegerValue, grain: Grain) -> ir.DateValue:
    """The start of the ``i``-th period from the period starting on ``first``."""
    start = ibis.literal(first)
    if grain is Grain.month:
        return (start + i.as_interval("M")).cast("date")
    return start + (i * 7 if grain is Grain.week else i).as_interval("D")


def _k(joined: ir.Table, request: RetentionRequest) -> ir.IntegerValue:
    """The period index of a return relative to its cohort (negative: before it)."""
    grain = request.period
    if request.window is PeriodWindow.rolling:
        length = ROLLING_DAYS[grain] * _US_PER_DAY
        elapsed = epoch_us(joined.rts) - epoch_us(joined.anchor)
        # Floor division; a return before the anchor gets -1 and is dropped.
        return ibis.ifelse(elapsed >= 0, elapsed // length, -1)
    if grain is Grain.month:
        return joined.rperiod.delta(joined.cohort, unit="month")
    if grain is Grain.week:  # both are period starts: whole weeks apart
        return joined.rperiod.delta(joined.cohort, unit="week")
    return joined.rperiod.delta(joined.cohort, unit="day")


def _period_start(day: date, grain: Grain, settings: Settings) -> date:
    from northstar.metrics.periods import period_start

    return period_start(day, grain, settings.week_start.value)


def _calendar(
    ctx: Context, request: RetentionRequest, rng: Range, reach: date
) -> tuple[ir.Table, ir.Table]:
    grain = request.period
    first_cohort = _period_start(rng.first, grain, ctx.settings)
    if request.type is CohortType.first_time:
        starts = person_days(ctx, request.start_event, None, rng.last)
        firsts = starts.group_by("person_id").aggregate(day=starts.day.min())
        firsts = firsts.filter(firsts.day >= rng.first)
        cohorts = firsts.select("person_id", cohort=ctx.period(firsts.day, grain))
    elif request.start_event == request.return_event:
        # One scan of the events gives both the cohorts and the returns.
        pairs = person_periods(
            ctx,
            request.start_event,
            first_cohort,
            max(rng.last, reach),
            grain,
            {"__start": (rng.first, rng.last), "__return": (first_cohort, reach)},
        )
        cohorts = pairs.filter(pairs["__start"]).select("person_id", cohort=pairs.period)
        returns = pairs.filter(pairs["__return"]).select("person_id", rperiod=pairs.period)
        return cohorts, returns
    else:
        starts = person_periods(ctx, request.start_event, rng.first, rng.last, grain)
        cohorts = starts.select("person_id", cohort=starts.period)
    back = person_periods(ctx, request.return_event, first_cohort, reach, grain)
    return cohorts, back.select("person_id", rperiod=back.period)


def _rolling(
    ctx: Context, request: RetentionRequest, rng: Range, reach: date
) -> tuple[ir.Table, ir.Table]:
    grain = request.period
    first_time = request.type is CohortType.first_time
    starts = apply_spec(
        ctx, events_between(ctx, None if first_time else rng.first, rng.last), request.start_event
    )
    starts = starts.select("person_id", "timestamp")
    if first_time:
        anchors = starts.group_by("person_id").aggregate(anchor=starts.timestamp.min())
        anchors = anchors.mutate(day=ctx.local_date(anchors.anchor))
        anchors = anchors.filter(anchors.day >= rng.first)
        cohorts = anchors.select("person_id", "anchor", cohort=ctx.period(anchors.day, grain))
    else:
        starts = starts.mutate(cohort=ctx.period(ctx.local_date(starts.timestamp), grain))
        cohorts = starts.group_by(["person_id", "cohort"]).aggregate(anchor=starts.timestamp.min())
    back = apply_spec(ctx, events_between(ctx, rng.first, reach), request.return_event)
    back = back.select("person_id", rts=back.timestamp).distinct()
    return cohorts, back


def _table(
    request: RetentionRequest,
    rng: Range,
    settings: Settings,
    sizes: pd.DataFrame,
    hits: pd.DataFrame,
) -> RetentionTable:
    grain, n = request.period, request.periods
    found: dict[tuple[str, date], dict[int, int]] = {}
    for row in hits.to_dict("records"):
        found.setdefault((str(row["key"]), _as_date(row["cohort"])), {})[int(row["k"])] = int(
            row["n"]
        )
    size_of = {
        (str(r["key"]), _as_date(r["cohort"])): int(r["size"]) for r in sizes.to_dict("records")
    }
    keys = sorted({k for k, _ in size_of})
    if request.by is None:
        keys = ["all"]
        # Every period of the range is a row, empty ones included.
        day = _period_start(rng.first, grain, settings)
        while day <= rng.last:
            size_of.setdefault(("all", day), 0)
            day = shift_periods(day, grain, 1)
    table = RetentionTable(request, rng.first, rng.last)
    for key in keys:
        for (k_, cohort), size in sorted(size_of.items()):
            if k_ != key:
                continue
            observable = sum(1 for k in range(n) if shift_periods(cohort, grain, k) <= rng.today)
            label = None if request.by is None else key
            if observable == 0:  # the cohort starts after the last day of data
                after = after_the_data(rng.today)
                table.cohorts.append(Cohort(cohort, None, [], [], label, False, after))
                continue
            # The last observed period is partial when it ends after the last day of data.
            partial = shift_periods(cohort, grain, observable) - timedelta(days=1) > rng.today
            by_k = found.get((key, cohort), {})
            counts = [size] + [by_k.get(k, 0) for k in range(1, observable)]
            if request.cumulative:
                # "On or after": users whose last return is in period k or later.
                counts = [size] + [
                    sum(v for j, v in by_k.items() if j >= k) for k in range(1, observable)
                ]
            percentages: list[float | None] = [
                round(100.0 * c / size, 2) if size else None for c in counts
            ]
            reason = None if size else "no users did the start event in this period"
            table.cohorts.append(Cohort(cohort, size, counts, percentages, label, partial, reason))
    return table


def _as_date(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value
