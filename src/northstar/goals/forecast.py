"""Forecast a metric to a goal's deadline: simulated paths, quantiles, P(hit).

Pure functions on a pandas Series of complete periods (no workspace needed):

- with at least two seasonal cycles of history (7 days, 52 weeks, 12 months, 4
  quarters) a **seasonal exponential-smoothing model** (ETS with additive error, trend
  and season; statsmodels) is fitted and its state-space form simulated forward;
- otherwise a **random walk with drift**: each path draws its drift from the sampling
  distribution of the mean period-to-period change and adds normal steps with the
  changes' standard deviation, so the spread grows with the horizon and with the
  uncertainty of the drift itself.

Both are seeded: the same series, horizon and seed give the same numbers. The
probability of hitting a target is the share of simulated deadline values that meet it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from northstar.goals.targets import Bounds
from northstar.metrics.periods import Grain

SEASON = {Grain.day: 7, Grain.week: 52, Grain.month: 12, Grain.quarter: 4, Grain.year: 1}
MIN_POINTS = 3  # the drift model needs two changes
MIN_CYCLES = 2  # seasonal model: at least this many whole cycles ...
MIN_SEASONAL_POINTS = 10  # ... and at least this many points
# How the ETS states start: "estimated" (maximum likelihood, with the smoothing
# parameters) or "heuristic" (from a decomposition of the first cycles; much faster).
INITIALIZATION = "heuristic"


class NotEnoughHistory(ValueError):
    """Fewer complete periods than any model needs; the message says how many."""


@dataclass(frozen=True)
class Forecast:
    """Simulated values of the ``horizon`` periods after the last observed one."""

    model: str  # "seasonal ETS (m=7)" or "drift"
    paths: np.ndarray  # shape (horizon, simulations)

    @property
    def horizon(self) -> int:
        return int(self.paths.shape[0])

    @property
    def final(self) -> np.ndarray:
        """The simulated values at the horizon (the deadline period)."""
        return self.paths[-1]

    def quantile(self, q: float, step: int | None = None) -> float:
        row = self.final if step is None else self.paths[step - 1]
        return float(np.quantile(row, q))

    @property
    def p10(self) -> float:
        return self.quantile(0.1)

    @property
    def p50(self) -> float:
        return self.quantile(0.5)

    @property
    def p90(self) -> float:
        return self.quantile(0.9)

    def probability(self, bounds: Bounds) -> float:
        """P(the deadline value meets the target)."""
        return bounds.met_share(self.final)

    def band(self) -> pd.DataFrame:
        """P10, P50 and P90 for every future step (1 = the period after the last one)."""
        q = np.quantile(self.paths, [0.1, 0.5, 0.9], axis=1)
        return pd.DataFrame(
            {"step": np.arange(1, self.horizon + 1), "p10": q[0], "p50": q[1], "p90": q[2]}
        )


def season_length(grain: Grain) -> int:
    return SEASON[grain]


def has_seasonal_history(n: int, season: int) -> bool:
    return season > 1 and n >= max(MIN_CYCLES * season + 2, MIN_SEASONAL_POINTS)


def forecast(
    history: pd.Series,
    horizon: int,
    *,
    season: int,
    simulations: int = 2000,
    seed: int = 0,
    floor: float | None = None,
    model: str = "auto",
    initialization: str = INITIALIZATION,
) -> Forecast:
    """Simulate ``history`` forward ``horizon`` periods.

    ``history`` holds evenly spaced complete periods (gaps already filled). ``model`` is
    ``auto`` (seasonal when the history allows, else drift), ``seasonal`` or ``drift``.
    ``floor`` clips simulated values from below (0 for metrics that cannot go negative).
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    values = history.to_numpy(dtype="float64")
    values = values[~np.isnan(values)]
    if len(values) < MIN_POINTS:
        raise NotEnoughHistory(
            f"{len(values)} complete period(s) of history; a forecast needs {MIN_POINTS}"
        )
    rng = np.random.default_rng(seed)
    use_seasonal = model == "seasonal" or (
        model == "auto" and has_seasonal_history(len(values), season)
    )
    paths: np.ndarray | None = None
    name = "drift"
    if use_seasonal:
        paths = ets_paths(values, horizon, season, simulations, rng, initialization=initialization)
        name = f"seasonal ETS (m={season})"
    if paths is None:
        paths = drift_paths(values, horizon, simulations, rng)
        name = "drift"
    if floor is not None:
        paths = np.maximum(paths, floor)
    return Forecast(name, paths)


def drift_paths(
    values: np.ndarray, horizon: int, simulations: int, rng: np.random.Generator
) -> np.ndarray:
    """Random walk with drift from the last value: the drift of each path is drawn from
    N(mean change, sd / sqrt(number of changes)), its steps from N(0, sd)."""
    changes = np.diff(values)
    drift = float(np.mean(changes))
    sd = float(np.std(changes, ddof=1)) if len(changes) > 1 else abs(drift)
    drifts = rng.normal(drift, sd / math.sqrt(len(changes)), size=simulations)
    steps = rng.normal(0.0, sd, size=(horizon, simulations)) + drifts
    out: np.ndarray = values[-1] + np.cumsum(steps, axis=0)
    return out


def ets_paths(
    values: np.ndarray,
    horizon: int,
    season: int,
    simulations: int,
    rng: np.random.Generator,
    *,
    damped: bool = False,
    initialization: str = INITIALIZATION,
) -> np.ndarray | None:
    """Simulated paths of an ETS(A, A, A) model (additive error, trend and season), or
    None when the model cannot be fitted (the caller falls back to drift)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel  # slow import

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fitted = ETSModel(
                values,
                error="add",
                trend="add",
                damped_trend=damped,
                seasonal="add",
                seasonal_periods=season,
                initialization_method=initialization,
            ).fit(disp=False)
            resid = np.asarray(fitted.resid, dtype="float64")
            sd = float(np.sqrt(np.nanmean(resid**2)))
            errors = rng.normal(0.0, sd, size=(horizon, simulations))
            sim = fitted.simulate(
                nsimulations=horizon, repetitions=simulations, anchor="end", random_errors=errors
            )
    except (ValueError, np.linalg.LinAlgError, IndexError):
        return None
    paths = np.asarray(sim, dtype="float64").reshape(horizon, simulations)
    if not np.all(np.isfinite(paths)):
        return None
    return paths


def seasonal_naive(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The benchmark: each future period repeats the value one season earlier (the
    last value when the season is 1)."""
    season = max(1, min(season, len(values)))
    last_cycle = values[-season:]
    return np.array([last_cycle[h % season] for h in range(horizon)], dtype="float64")
