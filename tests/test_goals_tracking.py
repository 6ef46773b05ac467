"""Where a goal stands, on hand-made monthly series (pure functions, no workspace)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from northstar.goals.model import Goal, PlanKind
from northstar.goals.targets import Target, TargetKind
from northstar.goals.tracking import Status, goal_periods, track
from northstar.metrics.periods import Grain
from northstar.metrics.registry import builtin_metrics
from northstar.settings import GoalSettings

SPECS = {s.id: s for s in builtin_metrics()}
SETTINGS = GoalSettings()


def monthly(values: list[float] | np.ndarray, first: date) -> pd.Series:
    index = pd.date_range(first, periods=len(values), freq="MS").date
    return pd.Series(np.asarray(values, dtype="float64"), index=list(index))


def goal(metric: str, target: Target, start: date, deadline: date, **extra: object) -> Goal:
    return Goal(id="g", metric=metric, target=target, start=start, deadline=deadline,
                objectives=["o"], **extra)  # type: ignore[arg-type]  # fmt: skip


AT_LEAST = lambda v: Target(kind=TargetKind.at_least, value=v)  # noqa: E731
AT_MOST = lambda v: Target(kind=TargetKind.at_most, value=v)  # noqa: E731


def test_goal_periods_baseline_is_the_period_before_start() -> None:
    g = goal("mau", AT_LEAST(10), date(2026, 7, 1), date(2026, 12, 31))
    gp = goal_periods(g)
    assert (gp.baseline, gp.deadline, gp.total) == (date(2026, 6, 1), date(2026, 12, 1), 6)
    weekly = g.model_copy(update={"grain": Grain.week, "start": date(2026, 7, 1)})
    assert goal_periods(weekly).baseline == date(2026, 6, 22)  # Monday before the week of Jul 1


def test_progress_plan_and_run_rates_by_hand() -> None:
    # MAU: June (baseline) 1000, then +30/month; target 1300 in December (6 months).
    series = monthly([900, 950, 1000, 1030, 1060, 1090, 1120], date(2026, 4, 1))  # to Oct
    g = goal("mau", AT_LEAST(1300), date(2026, 7, 1), date(2026, 12, 31))
    p = track(g, SPECS["mau"], series, as_of=date(2026, 11, 5), settings=SETTINGS)
    assert p.baseline == 1000 and p.current == 1120 and p.current_period == date(2026, 10, 1)
    assert p.elapsed == 4 and p.remaining == 2
    assert p.progress == pytest.approx(120 / 300)
    assert p.expected == pytest.approx(1000 + 300 * 4 / 6)  # 1200 on the straight line
    assert p.required_rate == pytest.approx((1300 - 1120) / 2)  # 90 a month still needed
    assert p.current_rate == pytest.approx(30.0)  # the least-squares slope since June
    assert p.plan_status is Status.off_track  # 80 behind = 27 % of the planned change
    assert p.status is Status.off_track  # the forecast agrees: +30/month reaches ~1180
    assert p.p_hit is not None and p.p_hit < 0.05


def test_lower_is_better_goal_runs_the_right_way() -> None:
    # CAC from $200 (June) towards at most $150 in December; $160 in October.
    series = monthly([230, 215, 200, 190, 180, 170, 160], date(2026, 4, 1))
    g = goal("cac", AT_MOST(150), date(2026, 7, 1), date(2026, 12, 31))
    p = track(g, SPECS["cac"], series, as_of=date(2026, 11, 1), settings=SETTINGS)
    assert p.progress == pytest.approx((160 - 200) / (150 - 200))  # 80 %, positive
    assert p.expected == pytest.approx(200 - 50 * 4 / 6)  # 166.7 on the plan
    assert p.required_rate == pytest.approx(-5.0)  # must still fall $5 a month
    assert p.current_rate == pytest.approx(-10.0)
    assert p.plan_status is Status.on_track  # below (better than) the plan
    # Falling ~$11.7 a month on average, December lands near $137: well under $150.
    assert p.status is Status.on_track and p.p_hit is not None and p.p_hit > 0.9
    rising = monthly([190, 195, 200, 205, 210, 215, 220], date(2026, 4, 1))
    worse = track(g, SPECS["cac"], rising, as_of=date(2026, 11, 1), settings=SETTINGS)
    assert worse.progress == pytest.approx((220 - 200) / (150 - 200))  # negative
    assert worse.status is Status.off_track and worse.p_hit == pytest.approx(0.0, abs=0.01)


def test_seasonal_forecast_sees_what_a_straight_line_cannot() -> None:
    # Four and a half years of a December-peaking metric: trend +10/month, seasonal
    # swing ±200 (peak in December, trough in June). The goal runs January→December
    # 2026, from December 2025's peak to a target 50 below the expected December peak.
    # In August the value sits in the trough: far below the straight-line plan, yet
    # the seasonal forecast sees the December peak clear the target.
    first = date(2022, 1, 1)
    months = pd.date_range(first, date(2026, 8, 1), freq="MS")
    t = np.arange(len(months))
    season = 200 * np.cos(2 * np.pi * (months.month.to_numpy() - 12) / 12)
    values = 1000 + 10 * t + season + np.random.default_rng(4).normal(0, 10, len(t))
    series = monthly(values, first)
    dec_2026 = 1000 + 10 * (len(t) - 1 + 4) + 200
    g = goal("revenue", AT_LEAST(dec_2026 - 50), date(2026, 1, 1), date(2026, 12, 31))
    straight = track(g, SPECS["revenue"], series, as_of=date(2026, 9, 1), settings=SETTINGS)
    assert straight.plan_status is Status.off_track
    assert straight.forecast is not None and straight.forecast.model.startswith("seasonal")
    assert straight.p_hit is not None and straight.p_hit > 0.9
    assert straight.status is Status.on_track
    seasonal = g.model_copy(update={"plan": PlanKind.seasonal})
    shaped = track(seasonal, SPECS["revenue"], series, as_of=date(2026, 9, 1), settings=SETTINGS)
    assert shaped.plan is not None and shaped.plan.seasonal
    assert shaped.plan_status is Status.on_track  # the seasonal plan expects the dip
    assert shaped.expected is not None and straight.expected is not None
    assert shaped.expected < straight.expected - 200


def test_seasonal_plan_without_enough_history_falls_back_with_a_note() -> None:
    series = monthly([100, 110, 120, 130, 140], date(2026, 5, 1))
    g = goal("mau", AT_LEAST(200), date(2026, 7, 1), date(2026, 12, 31), plan="seasonal")
    p = track(g, SPECS["mau"], series, as_of=date(2026, 10, 1), settings=SETTINGS)
    assert p.plan is not None and not p.plan.seasonal and "straight line" in p.plan.note


def test_deadline_passed_is_achieved_or_missed() -> None:
    series = monthly([100, 104, 108, 112, 116], date(2026, 6, 1))  # June..October
    hit = goal("mau", AT_LEAST(110), date(2026, 7, 1), date(2026, 9, 30))
    miss = goal("mau", AT_LEAST(115), date(2026, 7, 1), date(2026, 9, 30))
    p1 = track(hit, SPECS["mau"], series, as_of=date(2026, 11, 1), settings=SETTINGS)
    p2 = track(miss, SPECS["mau"], series, as_of=date(2026, 11, 1), settings=SETTINGS)
    assert (p1.status, p1.current, p1.forecast) == (Status.achieved, 112.0, None)
    assert (p2.status, p2.current) == (Status.missed, 112.0)  # September's value counts


def test_reaching_the_target_early_is_achieved_but_holding_goals_wait() -> None:
    series = monthly([100, 120, 140, 160], date(2026, 6, 1))
    reach = goal("mau", AT_LEAST(150), date(2026, 7, 1), date(2026, 12, 31))
    assert track(reach, SPECS["mau"], series, as_of=date(2026, 10, 1),
                 settings=SETTINGS).status is Status.achieved  # fmt: skip
    # Started above the bar: judged by the forecast until the deadline.
    hold = goal("mau", AT_LEAST(90), date(2026, 7, 1), date(2026, 12, 31))
    p = track(hold, SPECS["mau"], series, as_of=date(2026, 10, 1), settings=SETTINGS)
    assert p.status is Status.on_track and p.progress == 1.0


def test_change_target_and_baseline_override() -> None:
    series = monthly([100, 100, 110, 120], date(2026, 5, 1))
    g = goal("mau", Target(kind=TargetKind.change, change_pct=50), date(2026, 7, 1),
             date(2026, 12, 31))  # fmt: skip
    p = track(g, SPECS["mau"], series, as_of=date(2026, 9, 1), settings=SETTINGS)
    assert (p.baseline, p.bounds.low if p.bounds else None) == (100.0, 150.0)
    fixed = g.model_copy(update={"baseline": 80.0})
    q = track(fixed, SPECS["mau"], series, as_of=date(2026, 9, 1), settings=SETTINGS)
    assert (q.baseline, q.baseline_source, q.aim) == (80.0, "set by hand", 120.0)


def test_no_data_and_short_history() -> None:
    g = goal("mau", AT_LEAST(150), date(2026, 7, 1), date(2026, 12, 31))
    empty = track(g, SPECS["mau"], pd.Series(dtype="float64"), as_of=date(2026, 9, 1),
                  settings=SETTINGS)  # fmt: skip
    assert empty.status is Status.no_data
    # Two months of data: no forecast, the plan decides.
    short = monthly([100, 125], date(2026, 6, 1))
    p = track(g, SPECS["mau"], short, as_of=date(2026, 8, 1), settings=SETTINGS)
    assert p.forecast is None and "needs 3" in p.forecast_note
    assert p.status is p.plan_status is Status.on_track  # 125 vs the plan's 108.3


def test_status_thresholds_are_settings() -> None:
    series = monthly([900, 950, 1000, 1030, 1060, 1090, 1120], date(2026, 4, 1))
    g = goal("mau", AT_LEAST(1180), date(2026, 7, 1), date(2026, 12, 31))
    p = track(g, SPECS["mau"], series, as_of=date(2026, 11, 1), settings=SETTINGS)
    assert p.p_hit is not None and 0.2 < p.p_hit < 0.8
    strict = GoalSettings(on_track_probability=0.95, at_risk_probability=0.9)
    lenient = GoalSettings(on_track_probability=0.1, at_risk_probability=0.05)
    assert track(g, SPECS["mau"], series, as_of=date(2026, 11, 1),
                 settings=strict).status is Status.off_track  # fmt: skip
    assert track(g, SPECS["mau"], series, as_of=date(2026, 11, 1),
                 settings=lenient).status is Status.on_track  # fmt: skip


def test_one_lucky_day_is_not_achieved_but_a_settled_week_is() -> None:
    # DAU around 300 (sd 10); the goal asks for 340 by the end of December. On Nov 30 one
    # day reads 345: noise, not the goal reached. After 7 days in a row at 345 it is.
    rng = np.random.default_rng(4)
    days = pd.date_range(date(2026, 9, 1), date(2026, 11, 30)).date
    values = rng.normal(300, 10, len(days))
    values[-1] = 345.0
    g = goal("dau", AT_LEAST(340), date(2026, 11, 1), date(2026, 12, 31),
             grain=Grain.day)  # fmt: skip
    lucky = track(g, SPECS["dau"], pd.Series(values, index=list(days)),
                  as_of=date(2026, 12, 1), settings=SETTINGS)  # fmt: skip
    assert lucky.current == 345.0 and lucky.status is not Status.achieved
    assert "not yet settled" in lucky.reason and "7 days in a row" in lucky.reason
    values[-7:] = 345.0
    settled = track(g, SPECS["dau"], pd.Series(values, index=list(days)),
                    as_of=date(2026, 12, 1), settings=SETTINGS)  # fmt: skip
    assert settled.status is Status.achieved
    assert settled.reason == "the last 7 days meet the target"


def test_a_month_goal_on_dau_is_forecast_from_its_days() -> None:
    # Daily DAU N(300, 30) through Nov 30; the goal is judged on December's mean DAU.
    # The month's mean is N(300, 5.48): P(mean >= 305) = 1 - Phi(5 / 5.477) = 0.181.
    from scipy.stats import norm

    days = pd.date_range(date(2026, 6, 1), date(2026, 11, 30)).date
    g = goal("dau", AT_LEAST(305), date(2026, 12, 1), date(2026, 12, 31))
    hits, widths = [], []
    for seed in range(10):
        daily = pd.Series(np.random.default_rng(seed).normal(300, 30, len(days)), index=list(days))
        months = daily.groupby([d.replace(day=1) for d in daily.index]).mean()
        p = track(g, SPECS["dau"], months, as_of=date(2026, 12, 1), settings=SETTINGS,
                  daily=daily)  # fmt: skip
        assert p.forecast is not None and "on days, mean of the days" in p.forecast.model
        assert p.p_hit is not None
        hits.append(p.p_hit)
        widths.append(p.forecast.p90 - p.forecast.p10)
    assert np.mean(hits) == pytest.approx(1 - norm.cdf(5 / (30 / 30**0.5)), abs=0.1)
    assert np.mean(widths) < 25  # the month-grain drift model gave 37-82
    without = track(g, SPECS["dau"], months, as_of=date(2026, 12, 1), settings=SETTINGS)
    assert "on days" not in without.forecast_note
