"""A causal anomaly detector for KPI series at any grain (docs/alerts.md#the-detector).

Every quantity at a point uses only the points before it (and the point itself for its
own residual), so what it flags is what it would have flagged live:

1. **Expected value**: the median of the previous ``window`` points (robust to the spikes
   it is looking for) or, where the series has a daily or weekly season and it has
   predicted the last two seasons better, the median of the same point in the last four
   seasons (the same weekday of the last four weeks). Which one is used is decided from the
   past alone.
2. **Residual scale**: 1.4826 × the median absolute residual of the previous
   ``scale_window`` points (a robust standard deviation), floored at 1 % of the typical
   level so a flat series does not divide by zero. The band drawn on charts is
   expected ± 3 scales.
3. **Surprise**: log(1 + |residual| / scale); with ``direction`` up (down) a run of points
   counts only when its residuals lean up (down).
4. **Anomaly likelihood** (Numenta's idea for NAB): the mean surprise of the last few
   points compared with the distribution of such means over the last ``history`` points
   (a Gaussian tail); computed for a short (3) and a longer (30) run of points, so a spike
   and a level shift both stand out; the score is the larger, in [0, 1].
5. **Episodes**: after the score reaches ``alert_level`` the next ``quiet`` points are
   capped below it: one alert per episode, not one per point.

One configuration for every series (``Config``); NAB figures in benchmarks/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import norm

Direction = Literal["both", "up", "down"]


@dataclass(frozen=True)
class Config:
    window: int = 50  # points in the expected value's median
    scale_window: int = 500  # points in the residual scale's median
    history: int = 2000  # points whose surprise distribution a run is compared with
    runs: tuple[int, ...] = (3, 30)  # lengths of the surprise runs compared
    alert_level: float = 0.99995  # score from which a point alerts
    quiet: int = 150  # points after an alert whose score is capped below the level
    warmup: int = 100  # points before any score (the first values only teach the detector)
    seasons: int = 4  # past seasons whose same point the seasonal expected value takes


@dataclass(frozen=True)
class Detection:
    expected: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    score: np.ndarray
    anomaly: np.ndarray


def seasons(step_seconds: float | None, n: int) -> list[int]:
    """The candidate seasonal periods, in points: a day and a week of the series' step,
    when whole and seen at least three times."""
    if not step_seconds or step_seconds <= 0:
        return []
    out = []
    for span in (86_400, 7 * 86_400):
        p = span / step_seconds
        if abs(p - round(p)) < 1e-9 and 2 <= round(p) <= n // 3:
            out.append(round(p))
    return out


def _expected(x: pd.Series, config: Config, periods: list[int]) -> pd.Series:
    """The causal expected value: the median of the previous points, or — where it has
    predicted the recent past better — the median of the same point of the last seasons
    (the same hour yesterday and the days before, the same weekday last weeks)."""
    past = x.shift(1).ffill()
    best = past.rolling(config.window, min_periods=1).median().fillna(x.bfill())
    if not periods:
        return best
    best_err = (x - best).abs()
    for p in periods:
        lags = pd.concat([x.shift(k * p) for k in range(1, config.seasons + 1)], axis=1)
        seasonal = lags.median(axis=1, skipna=True)
        err = (x - seasonal).abs()
        # which predictor erred less over the last two seasons (before this point)
        mine = err.shift(1).rolling(2 * p, min_periods=p).mean()
        theirs = best_err.shift(1).rolling(2 * p, min_periods=p).mean()
        use = (mine < 0.8 * theirs) & seasonal.notna()
        best = best.where(~use, seasonal)
        best_err = best_err.where(~use, err)
    return best


def detect(
    values: np.ndarray | list[float],
    *,
    direction: Direction = "both",
    config: Config = Config(),
    step_seconds: float | None = None,
) -> Detection:
    """Score every point of a regular series (``step_seconds`` apart: daily and weekly
    seasons are tried when given); NaN values score 0 and do not teach."""
    x = pd.Series(np.asarray(values, dtype=float))
    expected = _expected(x, config, seasons(step_seconds, len(x)))
    residual = x - expected
    spread = residual.abs().shift(1).rolling(config.scale_window, min_periods=10).median()
    level = x.abs().shift(1).rolling(config.scale_window, min_periods=1).median().fillna(0)
    scale = pd.Series(np.maximum((spread * 1.4826).fillna(np.inf), level * 0.01 + 1e-9))
    z: pd.Series = pd.Series(residual / scale)
    surprise = np.log1p(z.abs()).fillna(0.0)
    sign = {"up": 1.0, "down": -1.0}.get(direction)
    score = pd.Series(np.zeros(len(x)))
    for run in config.runs:
        recent = surprise.rolling(run, min_periods=1).mean()
        before = recent.shift(run)
        mu = before.rolling(config.history, min_periods=config.warmup).mean()
        sd = np.maximum(before.rolling(config.history, min_periods=config.warmup).std(), 1e-3)
        likely = pd.Series(norm.cdf((recent - mu) / sd)).fillna(0.0)
        if sign is not None:  # only runs whose residuals lean the watched way
            lean = z.fillna(0.0).rolling(run, min_periods=1).mean() * sign
            likely = likely.where(lean > 0, 0.0)
        score = pd.Series(np.maximum(score, likely))
    score[x.isna().to_numpy()] = 0.0
    score.iloc[: config.warmup] = 0.0
    capped, alerts = _episodes(score.to_numpy(), config)
    band = 3 * scale.replace(np.inf, np.nan)
    return Detection(
        expected=expected.to_numpy(),
        lower=(expected - band).to_numpy(),
        upper=(expected + band).to_numpy(),
        score=capped,
        anomaly=alerts,
    )


def _episodes(score: np.ndarray, config: Config) -> tuple[np.ndarray, np.ndarray]:
    """One alert per episode: the ``quiet`` points after an alert are capped below the
    alert level."""
    out = score.astype(float).copy()
    alerts = np.zeros(len(out), dtype=np.int64)
    cap = config.alert_level - 0.01  # visibly high, never an alert
    until = -1
    for i in range(len(out)):
        if i <= until:
            out[i] = min(out[i], cap)
        elif out[i] >= config.alert_level:
            alerts[i] = 1
            until = i + config.quiet
    return np.clip(out, 0.0, 1.0), alerts
