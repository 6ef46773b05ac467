"""Goal forecasts on synthetic series whose answer is known in advance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from northstar.goals.forecast import (
    NotEnoughHistory,
    drift_paths,
    forecast,
    has_seasonal_history,
    seasonal_naive,
)
from northstar.goals.targets import Bounds

AT_LEAST = lambda v: Bounds(v, math.inf)  # noqa: E731
AT_MOST = lambda v: Bounds(-math.inf, v)  # noqa: E731


def linear(n: int, slope: float, noise: float, seed: int, start: float = 1000.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(start + slope * np.arange(n) + rng.normal(0, noise, n))


def test_trend_that_hits_the_target_exactly_gives_a_coin_flip() -> None:
    # 18 months of linear growth; the trend line reaches the target exactly at the
    # deadline 6 months on. Over many noisy draws P(hit) averages 1/2, and no single
    # draw is sure either way.
    n, h, slope = 18, 6, 50.0
    target = 1000 + slope * (n - 1 + h)
    p = [forecast(linear(n, slope, 20, s), h, season=12, seed=1).probability(AT_LEAST(target))
         for s in range(40)]  # fmt: skip
    assert abs(np.mean(p) - 0.5) < 0.06
    assert min(p) > 0.1 and max(p) < 0.9


def test_seasonal_model_on_a_trend_also_gives_a_coin_flip() -> None:
    # 16 weeks of daily data: enough for the seasonal (weekly) model.
    n, h, slope = 112, 28, 5.0
    target = 1000 + slope * (n - 1 + h)
    p = []
    for s in range(8):
        fc = forecast(linear(n, slope, 20, s), h, season=7, seed=1, simulations=1000)
        assert fc.model.startswith("seasonal ETS")
        p.append(fc.probability(AT_LEAST(target)))
    assert abs(np.mean(p) - 0.5) < 0.12


@pytest.mark.parametrize(("offset", "expected"), [(-600.0, 1.0), (600.0, 0.0)])
def test_target_far_below_or_above_the_trend(offset: float, expected: float) -> None:
    n, h, slope = 18, 6, 50.0
    target = 1000 + slope * (n - 1 + h) + offset
    fc = forecast(linear(n, slope, 20, 3), h, season=12, seed=1)
    assert fc.probability(AT_LEAST(target)) == pytest.approx(expected, abs=0.02)


def test_lower_is_better_target_is_met_below_it() -> None:
    # CAC falling by $2 a month from $200: in 6 months the trend is at $166.
    series = linear(18, -2.0, 1.0, 5, start=200.0)
    fc = forecast(series, 6, season=12, seed=2)
    trend_at_deadline = 200 - 2 * 23
    assert fc.probability(AT_MOST(trend_at_deadline + 15)) > 0.97  # generous ceiling
    assert fc.probability(AT_MOST(trend_at_deadline - 15)) < 0.03  # too ambitious
    assert fc.probability(AT_MOST(trend_at_deadline)) == pytest.approx(0.5, abs=0.3)


def test_forecasts_are_reproducible_and_seeded() -> None:
    series = linear(30, 3.0, 10, 1)
    a = forecast(series, 12, season=12, seed=7)
    b = forecast(series, 12, season=12, seed=7)
    c = forecast(series, 12, season=12, seed=8)
    assert np.array_equal(a.paths, b.paths)
    assert not np.array_equal(a.paths, c.paths)
    assert a.p10 < a.p50 < a.p90


def test_model_choice_follows_the_history_length() -> None:
    assert not has_seasonal_history(25, 12) and has_seasonal_history(26, 12)
    assert forecast(linear(20, 1, 1, 0), 3, season=12).model == "drift"
    assert forecast(linear(30, 1, 1, 0), 3, season=12).model == "seasonal ETS (m=12)"
    assert forecast(linear(30, 1, 1, 0), 3, season=1).model == "drift"  # yearly grain
    with pytest.raises(NotEnoughHistory, match="2 complete period"):
        forecast(pd.Series([1.0, 2.0]), 3, season=12)


def test_drift_interval_is_calibrated_on_a_random_walk() -> None:
    # Series drawn from the drift model itself: its 80 % interval must hold the truth
    # about 80 % of the time.
    rng = np.random.default_rng(11)
    inside = 0
    reps = 300
    for i in range(reps):
        steps = rng.normal(2.0, 5.0, 40)
        walk = 100 + np.cumsum(steps)
        history, truth = walk[:30], walk[30 + 5]
        paths = drift_paths(history, 6, 2000, np.random.default_rng(i))
        low, high = np.quantile(paths[-1], [0.1, 0.9])
        inside += low <= truth <= high
    assert inside / reps == pytest.approx(0.8, abs=0.06)


def test_floor_keeps_counts_non_negative() -> None:
    series = pd.Series([5.0, 3.0, 2.0, 1.0, 0.5])
    fc = forecast(series, 10, season=12, floor=0.0)
    assert fc.paths.min() >= 0.0


def test_seasonal_naive_repeats_the_last_cycle() -> None:
    values = np.array([1.0, 2, 3, 4, 5, 6, 7])
    assert seasonal_naive(values, 5, 3).tolist() == [5, 6, 7, 5, 6]
    assert seasonal_naive(values, 2, 1).tolist() == [7, 7]
