"""Funnels: how many users go through ordered steps within a conversion window
(semantics: ``docs/analyses.md#funnels``).

Every first-step event in the range starts an attempt. In ordered mode each later step is
the earliest matching event after the previous step (an as-of join per step: the earliest
match is what lets an attempt get furthest); strict mode reads the user's next events in
order; unordered mode takes the earliest event of each step from the attempt's start. A
user counts at the furthest step of their best attempt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends.duckdb import Backend as IbisDuckDB

from northstar.analyses.common import Range, make_context
from northstar.analyses.events import EventSpec, event_value, is_active, unknown_event
from northstar.errors import FilterError, QueryArgumentError
from northstar.metrics import filters
from northstar.metrics.context import NONE, Context
from northstar.metrics.functions import epoch_us
from northstar.metrics.periods import Grain
from northstar.settings import Settings
from northstar.store.freshness import AsOf, after_the_data, freshness_fields

MIN_STEPS, MAX_STEPS = 2, 20
DEFAULT_WINDOW = timedelta(days=14)
# The position of a step that was not reached: after every event, so that no later step
# is found after it. (Not NULL: DuckDB 1.5's sort-based ASOF join, its plan unless it
# estimates the left side under 64 rows, matches a NULL bound as the smallest value.)
_NOWHERE = 2**63 - 1
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|min|h|d|w)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class FunnelMode(StrEnum):
    ordered = "ordered"  # steps in order, other events allowed in between
    strict = "strict"  # steps in order, any other event in between resets the attempt
    unordered = "unordered"  # steps in any order


def parse_duration(text: str | timedelta) -> timedelta:
    """``14d``, ``5m``, ``2h``, ``90s``, ``1w`` (a bare number is days)."""
    if isinstance(text, timedelta):
        return text
    match = _DURATION.match(text)
    if not match:
        raise QueryArgumentError(
            f"conversion window {text!r} is not a duration; write e.g. 14d, 2h, 30m or 90s"
        )
    value, unit = int(match.group(1)), (match.group(2) or "d").lower()
    if value <= 0:
        raise QueryArgumentError(f"conversion window {text!r} must be longer than zero")
    return timedelta(seconds=value * _UNIT_SECONDS[unit])


@dataclass(frozen=True)
class Exclusion:
    """An event that, done between two steps of an attempt, disqualifies the attempt."""

    event: EventSpec
    after_step: int = 0  # 0-based step indices
    before_step: int | None = None  # None: the last step

    @classmethod
    def parse(cls, text: str, steps: int) -> Exclusion:
        """``"E"`` (between the first and last step) or ``"E:1-3"`` (steps 1 to 3, 1-based)."""
        event, _, span = text.rpartition(":") if re.search(r":\d+-\d+$", text) else (text, "", "")
        if not span:
            return cls(EventSpec.parse(text), 0, steps - 1)
        first, last = (int(x) for x in span.split("-"))
        if not 1 <= first < last <= steps:
            raise QueryArgumentError(
                f"exclusion {text!r}: the steps must be 1 ≤ first < last ≤ {steps}"
            )
        return cls(EventSpec.parse(event), first - 1, last - 1)


@dataclass(frozen=True)
class FunnelRequest:
    steps: tuple[EventSpec, ...]
    window: timedelta = DEFAULT_WINDOW
    mode: FunnelMode = FunnelMode.ordered
    exclusions: tuple[Exclusion, ...] = ()
    by: str | None = None

    @classmethod
    def make(
        cls,
        steps: list[str] | tuple[str, ...],
        *,
        window: str | timedelta = DEFAULT_WINDOW,
        mode: str = "ordered",
        exclude: list[str] | tuple[str, ...] = (),
        by: str | None = None,
    ) -> FunnelRequest:
        if not MIN_STEPS <= len(steps) <= MAX_STEPS:
            raise QueryArgumentError(
                f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps; {len(steps)} given"
            )
        try:
            funnel_mode = FunnelMode(mode)
        except ValueError:
            raise QueryArgumentError(
                f"funnel mode {mode!r} is not one of ordered|strict|unordered"
            ) from None
        specs = tuple(EventSpec.parse(s) for s in steps)
        exclusions = tuple(Exclusion.parse(x, len(specs)) for x in exclude)
        return cls(specs, parse_duration(window), funnel_mode, exclusions, by or None)


@dataclass
class Step:
    name: str
    count: int | None  # None: the range is after the data (nothing observed)
    conversion_from_start: float | None
    conversion_from_previous: float | None
    avg_seconds_to_convert: float | None
    median_seconds_to_convert: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class FunnelResult:
    request: FunnelRequest
    first: date
    last: date
    steps: list[Step]
    breakdowns: dict[str, list[Step]] = field(default_factory=dict)
    as_of: AsOf | None = None  # the workspace's as-of and freshness
    # Some entrants' conversion windows end after the last day of data: their later steps
    # may still come, so the conversions are not final.
    partial: bool = False
    reason: str | None = None  # why there are no conversions, when there are none

    def to_dict(self) -> dict[str, Any]:
        r = self.request
        out: dict[str, Any] = {
            **freshness_fields(self.as_of),
            "mode": r.mode.value,
            "window_seconds": int(r.window.total_seconds()),
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "partial": self.partial,
            "reason": self.reason,
            "steps": [s.to_dict() for s in self.steps],
        }
        if r.by:
            out["by"] = r.by
            out["breakdowns"] = [
                {"value": k, "steps": [s.to_dict() for s in v]} for k, v in self.breakdowns.items()
            ]
        return out

    def frame(self) -> pd.DataFrame:
        rows = [{"breakdown": None, "step": i + 1, **s.to_dict()} for i, s in enumerate(self.steps)]
        for key, steps in self.breakdowns.items():
            rows += [{"breakdown": key, "step": i + 1, **s.to_dict()} for i, s in enumerate(steps)]
        frame = pd.DataFrame(rows)
        return frame if self.request.by else frame.drop(columns="breakdown")


# -- building the attempts ------------------------------------------------------------
def _predicate(ctx: Context, t: ir.Table, spec: EventSpec) -> tuple[ir.Table, ir.BooleanValue]:
    """``t`` (possibly joined with user properties) and whether a row matches ``spec``."""
    match = is_active(ctx, t.event) if spec.event is None else t.event == spec.event
    if spec.where:
        values: dict[str, ir.Value] = {}
        for name in filters.names(spec.where):
            t, values[name] = event_value(ctx, t, name)
        cond = filters.compile_filter(spec.where, lambda n: values[n])
        match = match & cond.fill_null(False)
    return t, match


def _stream(
    ctx: Context, request: FunnelRequest, rng: Range, reach: date, *, every_event: bool
) -> ir.Table:
    """The persons' events of the period with one match flag per step (``m0``...) and per
    exclusion (``x0``...), ``ts`` and ``pos``, the event's place among the person's."""
    # An entry is before the range's end, a later step at most the window after it.
    end = ctx.instant(rng.last + timedelta(days=1)) + request.window
    end = min(end, ctx.instant(reach + timedelta(days=1)))
    t = ctx.table("events")
    t = t.filter(t.timestamp >= ctx.instant(rng.first), t.timestamp < end)
    if ctx.where:  # a funnel metric's filter: every step's events must match it
        t = replace(ctx, by=()).segment(t, "events")
    specs = [*request.steps, *(x.event for x in request.exclusions)]
    names = {spec.event for spec in specs}
    if not every_event and None not in names:
        # Only the named events can match; one IN list the scan can use.
        t = t.filter(t.event.isin(sorted(n for n in names if n is not None)))
    flags: dict[str, ir.BooleanValue] = {}
    for i, spec in enumerate(request.steps):
        t, flags[f"m{i}"] = _predicate(ctx, t, spec)
    for i, ex in enumerate(request.exclusions):
        t, flags[f"x{i}"] = _predicate(ctx, t, ex.event)
    key = _breakdown(ctx, t, request.by)
    t, value = key
    t = t.select("person_id", "uuid", ts=t.timestamp, key=value, **flags)
    if not every_event and (None in names or any(spec.where for spec in specs)):
        t = t.filter(ibis.or_(*[t[c] for c in flags]))
    # Attempts start at entries in the range and end within the window: only the events of
    # persons who enter, from their first entry to the window's end after their last one,
    # can be part of one.
    entries = t.filter(_entry(ctx, request, rng, t))
    spans = entries.group_by(__who=entries.person_id).aggregate(
        __lo=entries.ts.min(), __hi=entries.ts.max() + request.window
    )
    t = t.join(spans, t.person_id == spans["__who"])
    t = t.filter(t.ts >= t["__lo"], t.ts <= t["__hi"]).drop("__who", "__lo", "__hi")
    first_step = ibis.cases(
        *[(t[f"m{i}"], i) for i in range(len(request.steps))], else_=len(request.steps)
    )
    # Events of one person in time order; on the same instant in step order, then by uuid.
    pos = ibis.row_number().over(group_by=t.person_id, order_by=[t.ts, first_step, t.uuid])
    return t.mutate(pos=pos)


def _entry(ctx: Context, request: FunnelRequest, rng: Range, s: ir.Table) -> ir.BooleanValue:
    """Whether an event of stream ``s`` starts an attempt: a first step (any step when
    unordered) on a day of the range."""
    if request.mode is FunnelMode.unordered:
        step = ibis.or_(*[s[f"m{j}"] for j in range(len(request.steps))])
    else:
        step = s.m0
    day = ctx.local_date(s.ts)
    return step & (day >= rng.first) & (day <= rng.last)


def _breakdown(ctx: Context, t: ir.Table, by: str | None) -> tuple[ir.Table, ir.Value]:
    if by is None:
        return t, ibis.literal("all")
    t, value = event_value(ctx, t, by)
    return t, value.cast("string").fill_null(NONE)


def _ordered(ctx: Context, request: FunnelRequest, s: ir.Table, entry: ir.Table) -> ir.Table:
    """Attempts with ``t0..t{n-1}`` (null past the furthest step reached) and ``p*``
    (``_NOWHERE`` past it, so that no later search finds anything)."""
    limit = request.window
    a = entry
    for j in range(1, len(request.steps)):
        nxt = s.filter(s[f"m{j}"]).select(
            **{f"__pid{j}": s.person_id, f"p{j}": s.pos, f"t{j}": s.ts}
        )
        a = a.asof_join(
            nxt, on=a[f"p{j - 1}"] < nxt[f"p{j}"], predicates=[a.person_id == nxt[f"__pid{j}"]]
        )
        ok = a[f"t{j}"].notnull() & (a[f"t{j}"] <= a.t0 + limit)
        a = a.mutate(
            **{
                f"t{j}": ibis.ifelse(ok, a[f"t{j}"], None),
                f"p{j}": ibis.ifelse(ok, a[f"p{j}"], _NOWHERE),
            }
        )
    return a


def _unordered(ctx: Context, request: FunnelRequest, s: ir.Table, entry: ir.Table) -> ir.Table:
    """Attempts from every event of any step: the earliest event of each step from there,
    within the window; steps are then ranked by time (``t0`` is the start)."""
    limit = request.window
    a = entry.select("person_id", "key", start=entry.t0, start_pos=entry.p0)
    for j in range(len(request.steps)):
        nxt = s.filter(s[f"m{j}"]).select(
            **{f"__pid{j}": s.person_id, f"u{j}": s.ts, f"q{j}": s.pos}
        )
        a = a.asof_join(
            nxt, on=a.start_pos <= nxt[f"q{j}"], predicates=[a.person_id == nxt[f"__pid{j}"]]
        )
        ok = a[f"u{j}"] <= a.start + limit
        a = a.mutate(**{f"u{j}": ibis.ifelse(ok, a[f"u{j}"], None)}).drop(f"__pid{j}", f"q{j}")
    times = ibis.array([a[f"u{j}"] for j in range(len(request.steps))])
    ranked = times.filter(lambda x: x.notnull()).sort()
    a = a.mutate(__ranked=ranked)
    return a.select(
        "person_id", "key", t0=a.start, p0=a.start_pos,
        **{f"t{j}": ibis.ifelse(a["__ranked"].length() > j, a["__ranked"][j], None)
           for j in range(1, len(request.steps))},
    )  # fmt: skip


def _strict(request: FunnelRequest, s: ir.Table, entry_filter: ir.BooleanValue) -> ir.Table:
    """Attempts whose later steps are the user's very next events, in order."""
    limit = request.window
    w = ibis.window(group_by=s.person_id, order_by=s.pos)
    cols: dict[str, ir.Value] = {}
    alive: ir.BooleanValue = ibis.literal(True)
    for j in range(1, len(request.steps)):
        ts_j = s.ts.lead(j).over(w)
        alive = alive & s[f"m{j}"].lead(j).over(w).fill_null(False) & (ts_j <= s.ts + limit)
        cols[f"t{j}"] = ibis.ifelse(alive, ts_j, None)
    a = s.mutate(**cols)
    a = a.filter(a.m0, entry_filter)
    return a.select("person_id", "key", t0=a.ts, p0=a.pos, **{c: a[c] for c in cols})


def _exclude(request: FunnelRequest, s: ir.Table, a: ir.Table) -> ir.Table:
    """Drop attempts with an exclusion event after step ``after`` and before step
    ``before`` (or before the window's end when that step was not reached)."""
    n = len(request.steps)
    for i, ex in enumerate(request.exclusions):
        before = n - 1 if ex.before_step is None else ex.before_step
        bad = s.filter(s[f"x{i}"]).select(__xpid=s.person_id, __xpos=s.pos, __xts=s.ts)
        after_pos = a[f"p{ex.after_step}"]  # _NOWHERE when that step was not reached
        a = a.asof_join(
            bad, on=after_pos < bad["__xpos"], predicates=[a.person_id == bad["__xpid"]]
        )
        reached_before = a[f"t{before}"].notnull()
        hit = a["__xpos"].notnull() & ibis.ifelse(
            reached_before, a["__xpos"] < a[f"p{before}"], a["__xts"] <= a.t0 + request.window
        )
        a = a.filter(~hit.fill_null(False)).drop("__xpid", "__xpos", "__xts")
    return a


def attempts(ctx: Context, request: FunnelRequest, rng: Range, reach: date) -> ir.Table:
    """Every attempt: ``person_id``, ``key``, ``t0``..``t{n-1}`` (null when not reached)."""
    n = len(request.steps)
    strict = request.mode is FunnelMode.strict
    s = _stream(ctx, request, rng, reach, every_event=strict)
    if strict:
        a = _strict(request, s, _entry(ctx, request, rng, s))
    else:
        starts = s.filter(_entry(ctx, request, rng, s))
        entry = starts.select("person_id", "key", t0=starts.ts, p0=starts.pos)
        a = (
            _ordered(ctx, request, s, entry)
            if request.mode is FunnelMode.ordered
            else _unordered(ctx, request, s, entry)
        )
    if request.exclusions:
        if "p1" not in a.columns:
            raise QueryArgumentError("exclusion steps work with ordered funnels only")
        a = _exclude(request, s, a)
    reached = sum((a[f"t{j}"].notnull().cast("int64") for j in range(1, n)), ibis.literal(1))
    return a.mutate(reached=reached)


def best_attempts(a: ir.Table, group: list[str]) -> ir.Table:
    """Per person (and ``group``): the attempt that got furthest, the earliest of those."""
    rank = ibis.row_number().over(
        group_by=["person_id", *group], order_by=[ibis.desc(a.reached), a.t0]
    )
    a = a.mutate(__rank=rank)
    return a.filter(a["__rank"] == 0).drop("__rank")


def _step_stats(best: ir.Table, n: int, group: list[str]) -> ir.Table:
    aggs: dict[str, ir.Value] = {}
    for j in range(n):
        aggs[f"c{j}"] = (best.reached > j).cast("int64").sum()
        if j:
            secs = (epoch_us(best[f"t{j}"]) - epoch_us(best[f"t{j - 1}"])) / 1e6
            took = ibis.ifelse(best.reached > j, secs, None)
            aggs[f"avg{j}"] = took.mean()
            aggs[f"med{j}"] = took.median()
    return best.group_by(group).aggregate(**aggs) if group else best.aggregate(**aggs)


def _steps(request: FunnelRequest, row: dict[str, Any]) -> list[Step]:
    out = []
    n = len(request.steps)
    first = int(row["c0"] or 0)
    for j in range(n):
        count = int(row[f"c{j}"] or 0)
        prev = int(row[f"c{j - 1}"] or 0) if j else count
        out.append(
            Step(
                request.steps[j].label,
                count,
                (count / first if first else None),
                (count / prev if prev else None),
                _num(row.get(f"avg{j}")) if j else None,
                _num(row.get(f"med{j}")) if j else None,
            )
        )
    return out


def _num(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return round(float(value), 3)


def funnel(
    backend: IbisDuckDB,
    settings: Settings,
    request: FunnelRequest,
    *,
    start: str | date | None = None,
    end: str | date | None = None,
    today: date,
) -> FunnelResult:
    """The funnel of users whose first step falls in ``start``..``end``."""
    rng = Range.make(Grain.day, start, end, today=today, default_days=29)
    if rng.first > today:  # wholly after the last day of data: nothing was observed
        nothing = [Step(s.label, None, None, None, None, None) for s in request.steps]
        reason = after_the_data(today)
        return FunnelResult(request, rng.first, rng.last, nothing, reason=reason)
    reach = rng.last + timedelta(days=request.window.days + 1)
    ctx = make_context(backend, settings, rng, reach=reach)
    a = attempts(ctx, request, rng, reach)
    n = len(request.steps)
    overall = _step_stats(best_attempts(a, []), n, []).to_pandas().to_dict("records")[0]
    result = FunnelResult(request, rng.first, rng.last, _steps(request, overall))
    # The last entrant's window closes at the range's last day + the window.
    closes = datetime.combine(rng.last + timedelta(days=1), time()) + request.window
    result.partial = closes > datetime.combine(today + timedelta(days=1), time())
    if any(not s.count for s in result.steps) and (problem := unknown_event(ctx, request.steps)):
        raise QueryArgumentError(problem)  # a misspelt step would show 0, not an error
    if not result.steps[0].count:
        result.reason = "no users entered the first step in this range"
    if request.by:
        per = _step_stats(best_attempts(a, ["key"]), n, ["key"]).to_pandas()
        per = per.sort_values("c0", ascending=False)
        for row in per.to_dict("records"):
            result.breakdowns[str(row["key"])] = _steps(request, row)
    return result


def conversion_series(ctx: Context, request: FunnelRequest, rng: Range, grain: Grain) -> ir.Table:
    """Per period in which users entered (their first step): the share who completed the
    funnel within the window with an attempt started in that period."""
    reach = rng.last + timedelta(days=request.window.days + 1)
    a = attempts(ctx, request, rng, reach)
    a = a.mutate(period=ctx.period(ctx.local_date(a.t0), grain))
    best = best_attempts(a, ["period", "key"])
    n = len(request.steps)
    out = best.group_by(["period", "key"]).aggregate(
        entered=ibis._.count(), done=(best.reached >= n).cast("int64").sum()
    )
    return out.mutate(value=out.done / out.entered)


def _check_by(by: str | None) -> None:
    if by is not None and not by.strip():
        raise FilterError("the breakdown is empty; name an event or user property")
