"""Where a goal stands: current value, progress, plan, run-rates, forecast and status.

Periods: the **baseline period** is the one before the goal's start; the **deadline
period** is the one containing the deadline; the goal spans ``total`` periods between
them. Only complete periods count (the running period is excluded).

Status, in order:
1. the deadline period is complete → **achieved** if its value meets the target, else
   **missed**;
2. a goal that needed progress and whose latest ``SETTLE`` complete periods all meet the
   target (7 days, 2 weeks, 1 month, quarter or year) → **achieved**; one lucky day is
   not enough, and the reason says when a met value is not settled yet (goals that
   start on target, and bands, are judged at the deadline);
3. with a forecast → **on track** when P(hit) ≥ ``goals.on_track_probability``, **at
   risk** when ≥ ``goals.at_risk_probability``, else **off track**;
4. without one (too little history) → from the gap to the plan (``goals.plan_tolerance``,
   ``goals.plan_at_risk``).
The plan-only verdict is reported as well, so a straight line's opinion can be compared
with the forecast's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

import numpy as np
import pandas as pd

from northstar.goals.forecast import (
    Forecast,
    NotEnoughHistory,
    forecast,
    rollup_forecast,
    season_length,
)
from northstar.goals.history import period_offset, regular
from northstar.goals.model import Goal, PlanKind
from northstar.goals.plan import Plan, linear_plan, seasonal_plan, seasonal_profile
from northstar.goals.targets import Bounds, TargetKind
from northstar.metrics.periods import Grain, period_start, shift_periods
from northstar.metrics.spec import Aggregation, MetricSpec, Rollup, SimpleDefinition
from northstar.settings import GoalSettings

# Before its deadline, a goal is achieved once this many complete periods in a row meet
# the target: one lucky day is noise, a week of days is not (months and longer: one).
SETTLE = {Grain.day: 7, Grain.week: 2, Grain.month: 1, Grain.quarter: 1, Grain.year: 1}

# Daily history a goal on longer periods needs before its forecast is simulated on days.
MIN_DAYS = 28


class Status(StrEnum):
    achieved = "achieved"
    on_track = "on track"
    at_risk = "at risk"
    off_track = "off track"
    missed = "missed"
    no_data = "no data"


@dataclass(frozen=True)
class GoalPeriods:
    baseline: date  # start of the period before the goal starts
    deadline: date  # start of the period containing the deadline
    total: int  # periods from the baseline period to the deadline period


def goal_periods(goal: Goal, week_start: str = "monday") -> GoalPeriods:
    grain = goal.grain
    first = period_start(goal.start, grain, week_start)
    base = shift_periods(first, grain, -1)
    last = period_start(goal.deadline, grain, week_start)
    return GoalPeriods(base, last, period_offset(base, last, grain))


@dataclass(frozen=True)
class GoalProgress:
    """A goal evaluated on a day (``as_of``); every number is in the metric's unit."""

    goal: Goal
    spec: MetricSpec
    as_of: date
    periods: GoalPeriods
    history: pd.Series  # complete periods, for trends and sparklines
    status: Status
    reason: str
    baseline: float | None = None
    baseline_source: str = ""
    bounds: Bounds | None = None
    aim: float | None = None  # the value progress is measured towards
    current: float | None = None
    current_period: date | None = None
    elapsed: int = 0  # periods from the baseline period to the current one
    progress: float | None = None  # fraction of the way from baseline to aim
    expected: float | None = None  # the plan's value for the current period
    plan: Plan | None = None
    plan_status: Status | None = None
    required_rate: float | None = None  # change per period still needed
    current_rate: float | None = None  # recent change per period (least-squares slope)
    forecast: Forecast | None = None
    forecast_note: str = ""
    p_hit: float | None = None

    @property
    def remaining(self) -> int:
        return max(self.periods.total - self.elapsed, 0)


def track(
    goal: Goal,
    spec: MetricSpec,
    history: pd.Series,
    *,
    as_of: date,
    settings: GoalSettings,
    week_start: str = "monday",
    daily: pd.Series | None = None,
) -> GoalProgress:
    """Evaluate ``goal`` on ``history`` (the metric's complete periods, NaN for periods
    without a value, leading empty periods trimmed). ``daily``: the metric's complete
    days, for a goal on longer periods whose metric rolls up from its days
    (:func:`daily_rollup`): its forecast is simulated on days and rolled up."""
    gp = goal_periods(goal, week_start)
    out = GoalProgress(
        goal, spec, as_of, gp, history, Status.no_data,
        f"no complete {goal.grain.value} of {spec.id} has a value yet",
    )  # fmt: skip
    known = history.dropna()
    if known.empty:
        return out
    baseline, source = resolve_baseline(goal, history, gp)
    if baseline is None:
        return replace(out, reason=source)
    bounds = goal.target.resolve(baseline)
    aim = bounds.aim(baseline)
    deadline_done = history.index[-1] >= gp.deadline
    current: float | None
    if deadline_done:
        current_period, current = gp.deadline, _value_at(history, gp.deadline)
    else:
        current_period, current = known.index[-1], float(known.iloc[-1])
    elapsed = min(max(period_offset(gp.baseline, current_period, goal.grain), 0), gp.total)
    plan = _plan(goal, history, baseline, aim, gp, week_start)
    expected = plan.expected(elapsed)
    out = replace(
        out, baseline=baseline, baseline_source=source, bounds=bounds, aim=aim,
        current=current, current_period=current_period, elapsed=elapsed,
        progress=_progress(baseline, aim, current, bounds), expected=expected, plan=plan,
        plan_status=_plan_status(bounds, baseline, aim, current, expected, settings),
    )  # fmt: skip
    if current is None:
        return replace(out, reason=f"no value for the deadline period {gp.deadline}")
    if deadline_done:
        met = bounds.met(current)
        return replace(
            out,
            status=Status.achieved if met else Status.missed,
            reason=f"deadline period {gp.deadline} {'met' if met else 'did not meet'} the target",
        )

    fc, fc_note = _forecast(known, goal, gp, settings, week_start, daily, daily_rollup(spec))
    p_hit = fc.probability(bounds) if fc is not None else None
    out = replace(
        out,
        required_rate=(aim - current) / (gp.total - elapsed) if gp.total > elapsed else None,
        current_rate=_recent_slope(known, elapsed),
        forecast=fc, forecast_note=fc_note, p_hit=p_hit,
    )  # fmt: skip
    needed_progress = aim != baseline and goal.target.kind is not TargetKind.band
    settle = SETTLE[goal.grain]
    latest = known.iloc[-settle:]
    if needed_progress and len(latest) == settle and all(bounds.met(float(v)) for v in latest):
        which = (
            f"the last {settle} {goal.grain.value}s meet"
            if settle > 1
            else f"{current_period} meets"
        )
        return replace(out, status=Status.achieved, reason=f"{which} the target")  # fmt: skip
    unsettled = ""
    if needed_progress and bounds.met(current):
        unsettled = (
            f"{current_period} meets the target, not yet settled (achieved once "
            f"{settle} {goal.grain.value}s in a row meet it); "
        )
    if p_hit is not None:
        return replace(
            out, status=_status_from_probability(p_hit, settings),
            reason=f"{unsettled}P(hit) {p_hit:.0%} by {goal.deadline} ({fc_note})",
        )  # fmt: skip
    assert out.plan_status is not None
    return replace(out, status=out.plan_status, reason=f"{unsettled}from the plan only: {fc_note}")


def resolve_baseline(goal: Goal, history: pd.Series, gp: GoalPeriods) -> tuple[float | None, str]:
    """The baseline and where it comes from: the override, the baseline period's value,
    or (before that period is complete) the latest complete value."""
    if goal.baseline is not None:
        return goal.baseline, "set by hand"
    value = _value_at(history, gp.baseline)
    if value is not None:
        return value, f"the {goal.grain.value} of {gp.baseline}"
    known = history.dropna()
    if known.empty:
        return None, f"no value of {goal.metric} yet"
    if known.index[-1] < gp.baseline:
        return float(known.iloc[-1]), (
            f"latest complete {goal.grain.value} ({known.index[-1]}); the baseline period "
            f"{gp.baseline} is not complete yet"
        )
    return None, (
        f"no value of {goal.metric} for the baseline period {gp.baseline}; set a "
        "baseline by revising the goal"
    )


def _value_at(history: pd.Series, period: date) -> float | None:
    if period not in history.index:
        return None
    value = float(history.loc[period])
    return None if math.isnan(value) else value


def _progress(baseline: float, aim: float, current: float | None, bounds: Bounds) -> float | None:
    if current is None:
        return None
    if aim == baseline:
        return 1.0 if bounds.met(current) else 0.0
    return (current - baseline) / (aim - baseline)


def _plan(
    goal: Goal, history: pd.Series, baseline: float, aim: float, gp: GoalPeriods,
    week_start: str,
) -> Plan:  # fmt: skip
    line = linear_plan(baseline, aim, max(gp.total, 1))
    if goal.plan is not PlanKind.seasonal:
        return line
    season = season_length(goal.grain)
    past = regular(history.dropna(), goal.grain, week_start)
    profile = seasonal_profile(past, season)
    if profile is None:
        return Plan(line.values, seasonal=False,
                    note=f"seasonal plan needs {2 * season} complete periods of history; "
                    "using the straight line")  # fmt: skip
    position = period_offset(past.index[0], gp.baseline, goal.grain) % season
    return seasonal_plan(baseline, aim, max(gp.total, 1), profile, position)


def _plan_status(
    bounds: Bounds, baseline: float, aim: float, current: float | None, expected: float,
    settings: GoalSettings,
) -> Status | None:  # fmt: skip
    if current is None:
        return None
    if aim == baseline:
        return Status.on_track if bounds.met(current) else Status.off_track
    sense = 1 if aim > baseline else -1
    gap = sense * (current - expected) / abs(aim - baseline)
    if gap >= -settings.plan_tolerance:
        return Status.on_track
    if gap >= -settings.plan_at_risk:
        return Status.at_risk
    return Status.off_track


def _status_from_probability(p_hit: float, settings: GoalSettings) -> Status:
    if p_hit >= settings.on_track_probability:
        return Status.on_track
    if p_hit >= settings.at_risk_probability:
        return Status.at_risk
    return Status.off_track


def _recent_slope(known: pd.Series, elapsed: int) -> float | None:
    """Least-squares change per period over the goal so far (at least the last 3 periods)."""
    n = max(3, elapsed + 1)
    tail = known.iloc[-n:]
    if len(tail) < 2:
        return None
    x = np.arange(len(tail), dtype="float64")
    slope = np.polyfit(x, tail.to_numpy(dtype="float64"), 1)[0]
    return float(slope)


def daily_rollup(spec: MetricSpec) -> str | None:
    """How the metric's value for a longer period follows from its daily values: ``mean``
    of the days, ``end`` (the last day's), ``sum`` of the days (counts and sums of rows
    over the period), or None (distinct counts and ratios over the period: not known from
    the days)."""
    if spec.rollup is Rollup.mean:
        return "mean"
    if spec.rollup is Rollup.end:
        return "end"
    d = spec.definition
    if isinstance(d, SimpleDefinition) and d.agg in (Aggregation.count, Aggregation.sum):
        return "sum"
    return None


def _forecast(
    known: pd.Series, goal: Goal, gp: GoalPeriods, settings: GoalSettings, week_start: str,
    daily: pd.Series | None = None, rollup: str | None = None,
) -> tuple[Forecast | None, str]:  # fmt: skip
    series = regular(known, goal.grain, week_start)
    horizon = period_offset(series.index[-1], gp.deadline, goal.grain)
    season = season_length(goal.grain)
    floor = 0.0 if float(series.min()) >= 0 else None
    days = None if daily is None else regular(daily.dropna(), Grain.day)
    if goal.grain is not Grain.day and rollup is not None and days is not None:
        first = shift_periods(series.index[-1], goal.grain, 1)
        ahead = [shift_periods(first, goal.grain, i) for i in range(horizon)]
        spans = [(p, shift_periods(p, goal.grain, 1) - timedelta(days=1)) for p in ahead]
        if (
            len(days) >= MIN_DAYS
            and days.index[-1] < spans[-1][1]
            and days.index[-1] >= first - timedelta(days=1)
        ):
            fc = rollup_forecast(
                days, spans, rollup, simulations=settings.simulations, seed=settings.seed,
                floor=floor,
            )  # fmt: skip
            return fc, f"{fc.model}, on {len(days)} days"
    try:
        fc = forecast(
            series, horizon, season=season, simulations=settings.simulations,
            seed=settings.seed, floor=floor,
        )  # fmt: skip
    except NotEnoughHistory as exc:
        return None, f"no forecast: {exc}"
    return fc, f"{fc.model} on {len(series)} {goal.grain.value}s"
