"""Forecast quality: a rolling-origin backtest of the goal forecast on the demo product.

Run:  make bench-forecast    (or: .venv/bin/python benchmarks/forecast_backtest.py)

For each metric series of the demo workspace (complete periods only) and each origin
(every ``--step`` periods from ``--min-history`` on), the forecast is fitted on the
history up to the origin and simulated ``--horizon`` periods ahead, exactly as a goal
would be (``northstar.goals.forecast.forecast``). At horizons of 1/4 and all of
``--horizon`` it records:

- the error of the median (P50) against the value that came true, and the error of the
  **seasonal-naive** forecast (the value one season earlier; the last value when the
  history is shorter than a season) for the same point. The error ratio is
  sum |P50 - truth| / sum |naive - truth| over all points (a relative MAE, MASE-like:
  below 1 the model beats the benchmark);
- whether the truth fell inside the P10-P90 interval (80 % should);
- P(hit) for synthetic targets at the last value x (0.9, 0.95, 1.0, 1.05, 1.1) and
  whether each was hit, giving a Brier score and a reliability table (predicted vs
  observed frequency by bins of P(hit)).

Variants (``--variants``): ``auto`` (what goals use: with two seasons of history six
models averaged by BIC weight, else the best simple model by one-step errors),
``estimated`` (ETS initial states estimated by maximum likelihood: slower), ``drift``
(the drift model alone). A year of weekly data is less than two seasons, so at week
grain only ``auto`` is run. The "ALL" error ratio is the
geometric mean of the per-metric ratios (metrics have different scales); coverage and
Brier score pool all points. The demo workspace (5,000 users, 365 days, seed 7) is built
once into benchmarks/.data/forecast-demo.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from northstar.goals.forecast import SEASON, forecast, seasonal_naive
from northstar.goals.history import complete_series, regular
from northstar.metrics.periods import Grain
from northstar.workspace import Workspace

DATA = Path(__file__).parent / ".data"
USERS, DAYS, SEED, END = 5000, 365, 7, date(2026, 10, 31)
AS_OF = END + timedelta(days=1)
METRICS = {
    Grain.day: ("dau", "signups", "new_customers", "mrr", "support_tickets", "visitors"),
    Grain.week: ("active_users", "signups", "mrr", "support_tickets", "revenue"),
}
TARGET_FACTORS = (0.9, 0.95, 1.0, 1.05, 1.1)
BINS = np.linspace(0, 1, 6)


def demo_workspace() -> Workspace:
    from northstar.demo.load import load_demo

    path = DATA / "forecast-demo"
    marker = path / "built.json"
    if marker.exists():
        return Workspace(path)
    if path.exists():
        shutil.rmtree(path)
    print(f"building the demo workspace in {path} ...", flush=True)
    ws = Workspace.init(path, name="forecast backtest")
    load_demo(ws, users=USERS, days=DAYS, seed=SEED)
    marker.write_text(json.dumps({"users": USERS, "days": DAYS, "seed": SEED}))
    return Workspace(path)


@dataclass
class Tally:
    model_err: list[float] = field(default_factory=list)
    naive_err: list[float] = field(default_factory=list)
    inside: list[bool] = field(default_factory=list)
    p_hit: list[float] = field(default_factory=list)
    hit: list[bool] = field(default_factory=list)
    seconds: float = 0.0
    fits: int = 0

    def add(self, other: Tally) -> None:
        for name in ("model_err", "naive_err", "inside", "p_hit", "hit"):
            getattr(self, name).extend(getattr(other, name))
        self.seconds += other.seconds
        self.fits += other.fits

    def summary(self) -> dict[str, Any]:
        p, h = np.array(self.p_hit), np.array(self.hit, dtype=float)
        reliability = []
        for lo, hi in itertools.pairwise(BINS):
            sel = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
            if sel.any():
                reliability.append(
                    {"bin": f"{lo:.1f}-{hi:.1f}", "n": int(sel.sum()),
                     "predicted": float(p[sel].mean()), "observed": float(h[sel].mean())}
                )  # fmt: skip
        return {
            "points": len(self.model_err),
            "error_ratio": float(np.sum(self.model_err) / np.sum(self.naive_err)),
            "coverage_80": float(np.mean(self.inside)),
            "brier": float(np.mean((p - h) ** 2)),
            "reliability": reliability,
            "seconds_per_fit": self.seconds / max(self.fits, 1),
        }


def backtest(
    series: pd.Series, grain: Grain, *, variant: str, horizon: int, step: int,
    min_history: int, simulations: int,
) -> Tally:  # fmt: skip
    values = series.to_numpy(dtype="float64")
    season = SEASON[grain]
    tally = Tally()
    steps = sorted({max(1, horizon // 4), horizon})
    for origin in range(min_history, len(values) - min(steps) + 1, step):
        history = pd.Series(values[:origin])
        model = "drift" if variant == "drift" else "auto"
        init = "estimated" if variant == "estimated" else "heuristic"
        started = time.perf_counter()
        fc = forecast(history, horizon, season=season, simulations=simulations, seed=origin,
                      floor=0.0 if values.min() >= 0 else None, model=model,
                      initialization=init)  # fmt: skip
        tally.seconds += time.perf_counter() - started
        tally.fits += 1
        naive_season = season if origin >= season else 1
        naive = seasonal_naive(values[:origin], horizon, naive_season)
        last = values[origin - 1]
        for h in steps:
            if origin + h - 1 >= len(values):
                continue
            truth = values[origin + h - 1]
            row = fc.paths[h - 1]
            p10, p50, p90 = np.quantile(row, [0.1, 0.5, 0.9])
            tally.model_err.append(abs(p50 - truth))
            tally.naive_err.append(abs(naive[h - 1] - truth))
            tally.inside.append(bool(p10 <= truth <= p90))
            for factor in TARGET_FACTORS:
                target = last * factor
                tally.p_hit.append(float(np.mean(row >= target)))
                tally.hit.append(bool(truth >= target))
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default="auto,estimated,drift")
    parser.add_argument("--simulations", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=DATA / "forecast_backtest.json")
    args = parser.parse_args()
    ws = demo_workspace()
    plans = {  # grain: (horizon, step, min_history)
        Grain.day: (28, 7, 120),
        Grain.week: (8, 2, 20),
    }
    results: dict[str, Any] = {"as_of": AS_OF.isoformat(), "grains": {}}
    for grain, metrics in METRICS.items():
        horizon, step, min_history = plans[grain]
        start = AS_OF - timedelta(days=DAYS + 7)
        frame = ws.query(list(metrics), grain=grain.value, start=start, end=END, today=AS_OF)
        per_variant: dict[str, Any] = {}
        variants = args.variants.split(",") if grain is Grain.day else ["auto"]
        for variant in variants:
            total = Tally()
            per_metric = {}
            for metric in metrics:
                series = regular(complete_series(frame, metric).dropna(), grain)
                tally = backtest(series, grain, variant=variant, horizon=horizon, step=step,
                                 min_history=min_history, simulations=args.simulations)  # fmt: skip
                per_metric[metric] = tally.summary()
                total.add(tally)
            overall = total.summary()
            ratios = [s["error_ratio"] for s in per_metric.values()]
            overall["error_ratio"] = float(np.exp(np.mean(np.log(ratios))))
            per_variant[variant] = {"all": overall, "metrics": per_metric}
        results["grains"][grain.value] = {
            "horizon": horizon, "step": step, "min_history": min_history, "variants": per_variant,
        }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    report(results)
    print(f"\nfull results: {args.out}")


def report(results: dict[str, Any]) -> None:
    for grain, info in results["grains"].items():
        print(f"\n== {grain} grain: horizon {info['horizon']} periods, origins every "
              f"{info['step']}, at least {info['min_history']} periods of history ==")  # fmt: skip
        print(f"{'variant':<10} {'metric':<16} {'points':>6} {'err/naive':>9} "
              f"{'P10-P90 cover':>13} {'Brier':>6} {'s/fit':>6}")  # fmt: skip
        for variant, data in info["variants"].items():
            rows = [*data["metrics"].items(), ("ALL", data["all"])]
            for metric, s in rows:
                print(f"{variant:<10} {metric:<16} {s['points']:>6} {s['error_ratio']:>9.2f} "
                      f"{s['coverage_80']:>12.0%} {s['brier']:>6.3f} "
                      f"{s['seconds_per_fit']:>6.2f}")  # fmt: skip
            print("  reliability of P(hit) (predicted → observed):  " + "  ".join(
                f"{r['bin']}: {r['predicted']:.2f}→{r['observed']:.2f} (n={r['n']})"
                for r in data["all"]["reliability"]
            ))  # fmt: skip


if __name__ == "__main__":
    main()
