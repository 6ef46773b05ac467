"""Goal calibration per grain: is a goal's P10-P90 right 80 % of the time, and its P(hit)
honest, at day, week, month and quarter grain?

Run:  make bench-calibration    (or: .venv/bin/python benchmarks/goal_calibration.py)

This drives the same forecast path a goal takes (``northstar.goals.tracking``): at day
grain the daily model (``forecast``); at week, month and quarter grain, for a metric that
rolls up from its days, the daily model simulated to the judged period's last day and
every path rolled up to that period (``rollup_forecast``), days of the running period
already observed included.

Series (daily values; every one starts on 2025-01-01):

- **synthetic, with known answers** (730 days, noise N(0, 30), ``--seeds`` draws each):
  ``stationary`` (mean 300), ``trend`` (300 + 0.25 per day), ``weekly`` (300 with a
  weekday pattern of ±60: quiet weekends). The true distribution of a period's mean is
  normal with the known mean and sd 30 / sqrt(days still unobserved) × that share, so
  each target's **true probability** is known exactly;
- **the demo product** (5,000 users, 365 days, seed 7): at day grain daily DAU, MAU, MRR,
  paying customers, sign-ups and support tickets; at longer grains the four whose period
  value follows from the days (DAU: mean of the days; MAU, MRR, paying customers: value
  on the last day). Its truths are what happened; targets are set relative to the value
  of the same span just before the origin, as a PM would.

Origins every 7 days from day 120 on (the history a goal sees is the days before the
origin). Judged periods: at day grain the days 7 and 28 after the origin; at week grain
the running week and the week 4 weeks on; at month grain the running month and the next
one; at quarter grain the running quarter and the next one (when the data covers them).

Per grain and series it reports:

- **coverage**: the share of judged periods whose true value fell inside P10-P90
  (meant: 80 %; the issue's bar: 70-90 %);
- **|P(hit) - outcome|**: the mean absolute gap between P(hit) and what happened (1 hit,
  0 missed) over targets at the true (synthetic) or last observed (demo) period value ×
  0.9, 0.95, 1.0, 1.05, 1.1; and the Brier score (the mean squared gap);
- **|P(hit) - true P|** (synthetic only): the mean absolute gap between P(hit) and the
  exact probability of the same target, the measure the issue used (day grain before
  the change: 0.07; month grain: 0.32-0.34).

Results go to ``benchmarks/.data/goal_calibration.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from northstar.goals.forecast import SEASON, forecast, rollup_forecast
from northstar.goals.tracking import daily_rollup
from northstar.metrics.periods import Grain, period_start, shift_periods

DATA = Path(__file__).parent / ".data"
START = date(2025, 1, 1)
DAYS, NOISE = 730, 30.0
FACTORS = (0.9, 0.95, 1.0, 1.05, 1.1)
MIN_HISTORY, STEP = 120, 7
GRAINS = (Grain.day, Grain.week, Grain.month, Grain.quarter)
# Judged periods relative to the origin: days ahead at day grain, else periods after the
# running one (0 = the running period, partly observed).
AHEAD = {Grain.day: (7, 28), Grain.week: (0, 4), Grain.month: (0, 1), Grain.quarter: (0, 1)}
WEEKDAY = np.array([20.0, 30.0, 30.0, 25.0, 15.0, -60.0, -60.0])  # Mon..Sun, sums to 0


def expected(kind: str, n: int) -> np.ndarray:
    """The true mean of every day of a synthetic series."""
    t = np.arange(n, dtype=float)
    base = np.full(n, 300.0)
    if kind == "trend":
        return base + 0.25 * t
    if kind == "weekly":
        weekday = np.array([(START + timedelta(days=int(i))).weekday() for i in range(n)])
        return base + WEEKDAY[weekday]
    return base


@dataclass
class Tally:
    inside: list[bool] = field(default_factory=list)
    gap_outcome: list[float] = field(default_factory=list)
    squared: list[float] = field(default_factory=list)
    gap_true: list[float] = field(default_factory=list)
    fits: int = 0
    seconds: float = 0.0

    def add(self, other: Tally) -> None:
        for name in ("inside", "gap_outcome", "squared", "gap_true"):
            getattr(self, name).extend(getattr(other, name))
        self.fits += other.fits
        self.seconds += other.seconds

    def summary(self) -> dict[str, Any]:
        return {
            "periods": len(self.inside),
            "coverage_80": float(np.mean(self.inside)) if self.inside else None,
            "mean_abs_phit_minus_outcome": _mean(self.gap_outcome),
            "brier": _mean(self.squared),
            "mean_abs_phit_minus_true": _mean(self.gap_true),
            "seconds_per_fit": self.seconds / max(self.fits, 1),
        }


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def judged_spans(origin: date, grain: Grain, last_day: date) -> list[tuple[date, date]]:
    """The (first, last) days of the periods judged from ``origin`` (the first unobserved
    day) that end within the data."""
    spans = []
    for ahead in AHEAD[grain]:
        if grain is Grain.day:
            day = origin + timedelta(days=ahead - 1)
            spans.append((day, day))
            continue
        first = shift_periods(period_start(origin, grain), grain, ahead)
        spans.append((first, shift_periods(first, grain, 1) - timedelta(days=1)))
    return [s for s in spans if s[1] <= last_day]


def roll(values: np.ndarray, how: str) -> float:
    if how == "sum":
        return float(np.sum(values))
    if how == "end":
        return float(values[-1])
    return float(np.mean(values))


Centre = Callable[[int, int], float]  # (first, last index) -> the targets' centre
TrueProbability = Callable[[int, int, float], float]  # (first, last index, target) -> P


def score_origin(
    daily: pd.Series, cut: int, grain: Grain, how: str, *, simulations: int,
    centre: Centre, true_p: TrueProbability | None = None,
) -> Tally:  # fmt: skip
    """Forecast from the first ``cut`` days as a goal would, and score P10-P90 and P(hit)
    of every period judged from there against what came true."""
    values = daily.to_numpy(dtype=float)
    days = list(daily.index)
    tally = Tally()
    spans = judged_spans(days[cut], grain, days[-1])
    if not spans:
        return tally
    history = daily.iloc[:cut]
    floor = 0.0 if values[:cut].min() >= 0 else None
    started = time.perf_counter()
    if grain is Grain.day:
        horizon = (spans[-1][1] - days[cut - 1]).days
        fc = forecast(history, horizon, season=SEASON[Grain.day], simulations=simulations,
                      seed=cut, floor=floor)  # fmt: skip
        rows = [fc.paths[(last - days[cut - 1]).days - 1] for _, last in spans]
    else:
        rows = list(rollup_forecast(history, spans, how, simulations=simulations, seed=cut,
                                    floor=floor).paths)  # fmt: skip
    tally.seconds += time.perf_counter() - started
    tally.fits += 1
    for (first, last), row in zip(spans, rows, strict=True):
        i, j = (first - days[0]).days, (last - days[0]).days
        truth = roll(values[i : j + 1], how)
        p10, p90 = np.quantile(row, [0.1, 0.9])
        tally.inside.append(bool(p10 <= truth <= p90))
        for factor in FACTORS:
            target = centre(i, j) * factor
            p_hit = float(np.mean(row >= target))
            hit = float(truth >= target)
            tally.gap_outcome.append(abs(p_hit - hit))
            tally.squared.append((p_hit - hit) ** 2)
            if true_p is not None:
                tally.gap_true.append(abs(p_hit - true_p(i, j, target)))
    return tally


def last_value(values: np.ndarray, cut: int, span: int, how: str) -> float:
    """The value of the ``span`` days before the origin, rolled up: the demo's targets are
    set relative to it, as a PM would."""
    return roll(values[max(0, cut - span) : cut], how) or 1.0


def synthetic(kind: str, seed: int) -> tuple[pd.Series, np.ndarray]:
    rng = np.random.default_rng(seed)
    mu = expected(kind, DAYS)
    values = mu + rng.normal(0, NOISE, DAYS)
    index = [START + timedelta(days=i) for i in range(DAYS)]
    return pd.Series(values, index=index), mu


def true_probability(
    values: np.ndarray, mu: np.ndarray, cut: int, i: int, j: int, target: float
) -> float:
    """P(the mean of days i..j >= target) when days before ``cut`` are observed and the
    others are independent N(mu, NOISE): exact, from the normal distribution."""
    n = j - i + 1
    known = values[i : min(j + 1, cut)]
    unknown = mu[max(i, cut) : j + 1]
    mean = (known.sum() + unknown.sum()) / n
    sd = NOISE * math.sqrt(len(unknown)) / n
    if sd == 0:
        return float(mean >= target)
    return float(stats.norm.sf(target, loc=mean, scale=sd))


def synthetic_tallies(grain: Grain, seeds: int, simulations: int) -> dict[str, Tally]:
    out = {}
    for k, kind in enumerate(("stationary", "trend", "weekly")):
        total = Tally()
        for seed in range(seeds):
            daily, mu = synthetic(kind, 1000 + 100 * k + seed)
            values = daily.to_numpy()
            for cut in range(MIN_HISTORY, DAYS, STEP):
                total.add(score_origin(
                    daily, cut, grain, "mean", simulations=simulations,
                    centre=lambda i, j, mu=mu: float(mu[i : j + 1].mean()),
                    true_p=partial(true_probability, values, mu, cut),
                ))  # fmt: skip
        out[kind] = total
    return out


def demo_tally(series: pd.Series, grain: Grain, how: str, simulations: int) -> Tally:
    values = series.to_numpy(dtype=float)
    total = Tally()
    for cut in range(MIN_HISTORY, len(values), STEP):
        total.add(score_origin(
            series, cut, grain, how, simulations=simulations,
            centre=lambda i, j, cut=cut: last_value(values, cut, j - i + 1, how),
        ))  # fmt: skip
    return total


# Day grain: any daily metric. Longer grains: the metrics whose period value follows from
# their days (the others are forecast at the goal's grain, not through this path).
DEMO_METRICS = ("dau", "mau", "mrr", "paying_customers", "signups", "support_tickets")


def demo_series() -> dict[str, tuple[pd.Series, str | None]]:
    """The demo product's daily values of DEMO_METRICS and each one's roll-up (None: the
    period's value does not follow from the days)."""
    from forecast_backtest import AS_OF, END, demo_workspace  # the same cached workspace

    ws = demo_workspace()
    registry = ws.registry()
    frame = ws.query(list(DEMO_METRICS), grain="day", start=END - timedelta(days=364),
                     end=END, today=AS_OF)  # fmt: skip
    out = {}
    for metric in DEMO_METRICS:
        rows = frame[frame["metric"] == metric].sort_values("period")
        index = [pd.Timestamp(p).date() for p in rows["period"]]
        series = pd.Series(rows["value"].to_numpy(dtype=float), index=index).fillna(0.0)
        out[metric] = (series, daily_rollup(registry.get(metric)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=2, help="draws of each synthetic series")
    parser.add_argument("--simulations", type=int, default=1000)
    parser.add_argument("--no-demo", action="store_true", help="synthetic series only")
    parser.add_argument("--out", type=Path, default=DATA / "goal_calibration.json")
    args = parser.parse_args()
    demo = {} if args.no_demo else demo_series()
    results: dict[str, Any] = {"seeds": args.seeds, "simulations": args.simulations,
                               "grains": {}}  # fmt: skip
    for grain in GRAINS:
        rows: dict[str, Any] = {}
        for kind, tally in synthetic_tallies(grain, args.seeds, args.simulations).items():
            rows[kind] = tally.summary()
        for metric, (series, how) in demo.items():
            if how is None and grain is not Grain.day:
                continue
            tally = demo_tally(series, grain, how or "mean", args.simulations)
            rows[f"demo {metric}" + (f" ({how})" if how else "")] = tally.summary()
        results["grains"][grain.value] = rows
        report(grain.value, rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"\nfull results: {args.out}")


def report(grain: str, rows: dict[str, Any]) -> None:
    print(f"\n== {grain} grain ==")
    print(f"{'series':<28} {'periods':>7} {'P10-P90':>8} {'|P-out|':>8} {'Brier':>6} "
          f"{'|P-true|':>8} {'s/fit':>6}")  # fmt: skip
    for name, s in rows.items():
        true = "–" if s["mean_abs_phit_minus_true"] is None else (
            f"{s['mean_abs_phit_minus_true']:.3f}")  # fmt: skip
        print(f"{name:<28} {s['periods']:>7} {s['coverage_80']:>8.0%} "
              f"{s['mean_abs_phit_minus_outcome']:>8.3f} {s['brier']:>6.3f} {true:>8} "
              f"{s['seconds_per_fit']:>6.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
