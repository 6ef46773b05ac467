"""Forecast a metric to a goal's deadline: simulated paths, quantiles, P(hit).

Pure functions on pandas Series of complete periods (no workspace needed). The method is
documented in docs/goals.md#forecast; the two must say the same.

**Which model.** On a series of evenly spaced periods:

- with at least two seasonal cycles of history (``MIN_CYCLES`` × 7 days, 52 weeks, 12
  months, 4 quarters, plus two points, and at least ``MIN_SEASONAL_POINTS``) a **seasonal
  exponential-smoothing model** (statsmodels ETS, additive error and season) is fitted
  twice — without a trend (A,N,A) and with a trend (A,A,A) — beside a **stable seasonal
  level** (a mean per position in the season plus independent noise, by least squares),
  the same **with a straight-line trend**, and a **random walk with drift** on the values
  and on their logarithm (compounding growth; positive series only). The six are
  averaged: each simulates a share of the paths equal to its BIC weight (exp(-BIC/2),
  normalised), the regressions with the uncertainty of their fitted levels and slope.
  Noise alone does not become a trend (a trend the data barely supports gets a small
  share), a stable series keeps the narrow spread of a stable series, and a steady
  trend's spread grows with the slope's uncertainty;
- otherwise (at least ``MIN_POINTS`` periods) three simple models compete on their
  one-step-ahead errors over the history (each fitted on the points before the one it
  predicts): a **level** (the mean, with its uncertainty), a **linear trend** (ordinary
  least squares, with the uncertainty of its slope and intercept) and a **random walk
  with drift**. The one with the smallest mean squared error is simulated.

**Which grain.** A goal judged on weeks, months or quarters is forecast from the metric's
*daily* values when the metric's value for a longer period is known from its days (its
roll-up: the mean of the days, the last day's value, or the sum of the days for counts
and sums): the daily model is simulated to the deadline period's last day and every
simulated path is rolled up to the goal's periods, days already observed in the running
period included (:func:`rollup_forecast`). A monthly DAU then gets the uncertainty of a
mean of 30 days, not of a random walk of monthly values. Other metrics (distinct counts
over the period, ratios) are modelled at the goal's grain.

Everything is seeded: the same series, horizon and seed give the same numbers. The
probability of hitting a target is the share of simulated deadline values that meet it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from northstar.goals.targets import Bounds
from northstar.metrics.periods import Grain

SEASON = {Grain.day: 7, Grain.week: 52, Grain.month: 12, Grain.quarter: 4, Grain.year: 1}
MIN_POINTS = 3  # the simple models need two changes / two residual degrees of freedom
MIN_CV_ORIGIN = 3  # the simple models' one-step errors are scored from the 4th point on
MIN_CYCLES = 2  # seasonal model: at least this many whole cycles ...
MIN_SEASONAL_POINTS = 10  # ... and at least this many points
# How the ETS states start: "estimated" (maximum likelihood, with the smoothing
# parameters) or "heuristic" (from a decomposition of the first cycles; much faster).
INITIALIZATION = "heuristic"


SimpleModel = Callable[[np.ndarray, int, int, np.random.Generator], np.ndarray]


class NotEnoughHistory(ValueError):
    """Fewer complete periods than any model needs; the message says how many."""


@dataclass(frozen=True)
class Forecast:
    """Simulated values of the ``horizon`` periods after the last observed one."""

    model: str  # e.g. "seasonal ETS (A,N,A; m=7)", "linear trend", "level", "drift"
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
    ``auto`` (seasonal when the history allows, else the best simple model), ``seasonal``,
    ``simple`` (the best of level, linear trend and drift), ``drift``, ``trend`` or
    ``level``. ``floor`` clips simulated values from below (0 for metrics that cannot go
    negative).
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
    name = ""
    if use_seasonal:
        fitted = best_ets_paths(values, horizon, season, simulations, rng,
                                initialization=initialization)  # fmt: skip
        if fitted is not None:
            name, paths = fitted
    if paths is None:
        kind = model if model in SIMPLE_MODELS else best_simple_model(values)
        simulate: SimpleModel = SIMPLE_MODELS[kind]
        paths = simulate(values, horizon, simulations, rng)
        name = SIMPLE_NAMES[kind]
    if floor is not None:
        paths = np.maximum(paths, floor)
    return Forecast(name, paths)


def rollup_forecast(
    daily: pd.Series,
    periods: list[tuple[date, date]],
    how: str,
    *,
    simulations: int = 2000,
    seed: int = 0,
    floor: float | None = None,
    initialization: str = INITIALIZATION,
) -> Forecast:
    """Forecast longer periods from daily values: the daily model simulated to the last
    period's last day, each path rolled up to every period of ``periods`` (``(first day,
    last day)`` of each, in order) by ``how``: ``mean`` of the days, ``sum`` of the days,
    or ``end`` (the last day's value). Days of a period that ``daily`` already holds are
    taken as observed. ``daily`` is indexed by consecutive days (gaps already filled)."""
    if how not in ROLLUPS:
        raise ValueError(f"unknown roll-up {how!r}; use one of {', '.join(ROLLUPS)}")
    if not periods:
        raise ValueError("no period to forecast")
    last_day = daily.index[-1]
    horizon = (periods[-1][1] - last_day).days
    if horizon < 1:
        raise ValueError("the periods end before the daily history does")
    fc = forecast(daily, horizon, season=SEASON[Grain.day], simulations=simulations, seed=seed,
                  floor=floor, initialization=initialization)  # fmt: skip
    observed = daily.to_numpy(dtype="float64")
    first_day = daily.index[0]
    rows = []
    for first, last in periods:
        days = []
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            if day <= last_day:
                seen = observed[(day - first_day).days] if day >= first_day else math.nan
                days.append(np.full(fc.paths.shape[1], seen))
            else:
                days.append(fc.paths[(day - last_day).days - 1])
        block = np.vstack(days)
        if how == "end":
            rows.append(block[-1])
        elif how == "sum":
            rows.append(np.nansum(block, axis=0))
        else:
            rows.append(np.nanmean(block, axis=0))
    return Forecast(f"{fc.model} on days, {ROLLUPS[how]}", np.vstack(rows))


ROLLUPS = {"mean": "mean of the days", "sum": "sum of the days", "end": "value on the last day"}


def best_ets_paths(
    values: np.ndarray,
    horizon: int,
    season: int,
    simulations: int,
    rng: np.random.Generator,
    *,
    initialization: str = INITIALIZATION,
) -> tuple[str, np.ndarray] | None:
    """Paths averaged over the candidates — ETS(A,N,A), ETS(A,A,A), a stable seasonal
    level, that level with a straight-line trend, and a random walk with drift on the
    values and on their logs — each contributing a share
    of the simulations equal to its BIC weight (exp(-BIC/2), normalised: an approximate
    posterior probability of the model). A trend the data barely supports gets a small
    share instead of all of it, so noise does not become a trend. Named after the model
    with the largest weight; None when no candidate can be fitted."""
    fits: list[tuple[float, str, np.ndarray]] = []
    for trend, label in ((False, "A,N,A"), (True, "A,A,A")):
        fitted = ets_paths(values, horizon, season, simulations, rng, trend=trend,
                           initialization=initialization)  # fmt: skip
        if fitted is not None:
            fits.append((fitted[0], f"seasonal ETS ({label}; m={season})", fitted[1]))
    for trend, label in ((False, "seasonal level"), (True, "seasonal level and trend")):
        stable = seasonal_level_paths(values, horizon, season, simulations, rng, trend=trend)
        if stable is not None:
            fits.append((stable[0], f"{label} (m={season})", stable[1]))
    for log in (False, True):
        walk = drift_candidate(values, horizon, simulations, rng, log=log)
        if walk is not None:
            fits.append((walk[0], "drift in logs (steady growth rate)" if log else "drift",
                         walk[1]))  # fmt: skip
    if not fits:
        return None
    bic = np.array([f[0] for f in fits])
    weights = np.exp(-(bic - bic.min()) / 2)
    weights /= weights.sum()
    order = np.argsort(-weights)
    counts = np.floor(weights * simulations).astype(int)
    counts[order[0]] += simulations - counts.sum()
    paths = np.hstack([fits[i][2][:, : counts[i]] for i in order if counts[i] > 0])
    top = int(order[0])
    name = fits[top][1]
    if weights[top] < 0.995:  # "seasonal level (m=7; weight 92% of 6 models)"
        share = f"weight {weights[top]:.0%} of {len(fits)} models"
        name = f"{name[:-1]}; {share})" if name.endswith(")") else f"{name} ({share})"
    return name, paths


def best_simple_model(values: np.ndarray) -> str:
    """The simple model with the smallest mean squared one-step-ahead error over the
    history (each prediction made from the points before it); drift when too short."""
    if len(values) <= MIN_CV_ORIGIN:
        return "drift"
    errors: dict[str, list[float]] = {"level": [], "trend": [], "drift": []}
    for t in range(MIN_CV_ORIGIN, len(values)):
        past, truth = values[:t], values[t]
        errors["level"].append(truth - float(np.mean(past)))
        slope, intercept = np.polyfit(np.arange(t, dtype="float64"), past, 1)
        errors["trend"].append(truth - (intercept + slope * t))
        errors["drift"].append(truth - (past[-1] + float(np.mean(np.diff(past)))))
    return min(errors, key=lambda k: float(np.mean(np.square(errors[k]))))


def regression_paths(
    values: np.ndarray,
    horizon: int,
    simulations: int,
    rng: np.random.Generator,
    *,
    trend: bool = True,
) -> np.ndarray:
    """Future values of a level (``trend`` false) or a straight line plus independent
    noise, fitted by least squares (see :func:`_regression`)."""
    n = len(values)
    x = np.arange(n + horizon, dtype="float64")
    design = np.column_stack([np.ones(n + horizon), x]) if trend else np.ones((n + horizon, 1))
    if n - design.shape[1] < 1:
        return drift_paths(values, horizon, simulations, rng)
    return _regression(values, design, simulations, rng)[1]


def seasonal_level_paths(
    values: np.ndarray, horizon: int, season: int, simulations: int, rng: np.random.Generator,
    *, trend: bool = False,
) -> tuple[float, np.ndarray] | None:  # fmt: skip
    """A stable level per position in the season (e.g. per weekday), with a straight-line
    trend when ``trend``, plus independent noise: its BIC and simulated paths, which carry
    the uncertainty of the fitted levels and slope (None when the history is too short)."""
    n = len(values)
    design = np.eye(season)[np.arange(n + horizon) % season]
    if trend:
        design = np.column_stack([design, np.arange(n + horizon, dtype="float64")])
    if n - design.shape[1] < 2:
        return None
    return _regression(values, design, simulations, rng)


def _regression(
    values: np.ndarray, design: np.ndarray, simulations: int, rng: np.random.Generator
) -> tuple[float, np.ndarray]:
    """Least squares of ``values`` on the first rows of ``design``, simulated on the rest:
    each path draws the noise variance (scaled inverse chi-squared) and the coefficients
    (normal, given that variance), so the spread includes the uncertainty of the fit
    (the Bayesian predictive distribution under a flat prior). Also returns the BIC
    (Gaussian likelihood), comparable with an ETS model's on the same values."""
    n = len(values)
    past, ahead = design[:n], design[n:]
    k = past.shape[1]
    beta, *_ = np.linalg.lstsq(past, values, rcond=None)
    resid = values - past @ beta
    dof = n - k
    sse = max(float(resid @ resid), 1e-12)
    variances = (sse / dof) * dof / rng.chisquare(dof, simulations)
    chol = np.linalg.cholesky(np.linalg.pinv(past.T @ past) + 1e-12 * np.eye(k))
    betas = beta + (rng.standard_normal((simulations, k)) @ chol.T) * np.sqrt(variances)[:, None]
    noise = rng.standard_normal((len(ahead), simulations)) * np.sqrt(variances)
    paths: np.ndarray = ahead @ betas.T + noise
    bic = n * (math.log(2 * math.pi * sse / n) + 1) + math.log(n) * (k + 1)
    return bic, paths


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


def drift_candidate(
    values: np.ndarray, horizon: int, simulations: int, rng: np.random.Generator,
    *, log: bool = False,
) -> tuple[float, np.ndarray] | None:  # fmt: skip
    """The random walk with drift (:func:`drift_paths`) as a candidate beside the seasonal
    models: its BIC and paths. With ``log``, the walk is on the logarithm of the values (a
    steady growth *rate*: growth that compounds), for positive series only; its
    likelihood is carried back to the values (minus the sum of their logs) so the BIC
    compares with the others'. The likelihood of the n-1 changes is scaled to n points."""
    if log:
        if np.any(values <= 0):
            return None
        series = np.log(values)
    else:
        series = values
    changes = np.diff(series)
    m = len(changes)
    if m < 3:
        return None
    var = float(np.var(changes))
    if var <= 0:
        return None
    loglik = -0.5 * m * (math.log(2 * math.pi * var) + 1)
    if log:
        loglik -= float(np.sum(series[1:]))
    loglik *= (m + 1) / m
    bic = -2 * loglik + math.log(m + 1) * 3  # drift, sd, the starting value
    paths = drift_paths(series, horizon, simulations, rng)
    if log:
        with np.errstate(over="ignore"):
            paths = np.exp(paths)
        if not np.all(np.isfinite(paths)):
            return None
    return bic, paths


def ets_paths(
    values: np.ndarray,
    horizon: int,
    season: int,
    simulations: int,
    rng: np.random.Generator,
    *,
    trend: bool = True,
    damped: bool = False,
    initialization: str = INITIALIZATION,
) -> tuple[float, np.ndarray] | None:
    """The BIC and simulated paths of an ETS model with additive error and season (and
    an additive, possibly damped, trend), or None when it cannot be fitted."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel  # slow import

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fitted = ETSModel(
                values,
                error="add",
                trend="add" if trend else None,
                damped_trend=damped and trend,
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
    # Every estimated quantity counts, the initial states included (fixed from the data
    # by the heuristic, they are fitted all the same), so that the BIC compares fairly
    # with the regressions': smoothing weights, initial level, trend and season, sigma.
    k = (2 + trend) + (1 + trend + season - 1) + 1
    bic = -2 * float(fitted.llf) + math.log(len(values)) * k
    if not np.all(np.isfinite(paths)) or not math.isfinite(bic):
        return None
    return bic, paths


def _level(values: np.ndarray, horizon: int, sims: int, rng: np.random.Generator) -> np.ndarray:
    return regression_paths(values, horizon, sims, rng, trend=False)


SIMPLE_MODELS: dict[str, SimpleModel] = {
    "level": _level,
    "trend": regression_paths,
    "drift": drift_paths,
}
SIMPLE_NAMES = {"level": "level", "trend": "linear trend", "drift": "drift"}


def seasonal_naive(values: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The benchmark: each future period repeats the value one season earlier (the
    last value when the season is 1)."""
    season = max(1, min(season, len(values)))
    last_cycle = values[-season:]
    return np.array([last_cycle[h % season] for h in range(horizon)], dtype="float64")
