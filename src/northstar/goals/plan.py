"""The plan: where a goal should be by each period, from its baseline to its target.

The default is the straight line OKR tools draw. A goal may instead carry a **seasonal
plan**: the straight line plus the metric's own seasonal shape (from a classical
decomposition of its history), bridged so that it still starts at the baseline and ends
at the target. A December-peaking metric is then not "behind plan" every summer.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from northstar.goals.forecast import MIN_CYCLES


@dataclass(frozen=True)
class Plan:
    """Expected values for period offsets 0 (baseline) .. ``total`` (deadline)."""

    values: np.ndarray
    seasonal: bool
    note: str = ""

    @property
    def total(self) -> int:
        return len(self.values) - 1

    def expected(self, k: int) -> float:
        """The planned value ``k`` periods after the baseline period (clipped to the plan)."""
        return float(self.values[min(max(k, 0), self.total)])


def linear_plan(baseline: float, aim: float, total: int) -> Plan:
    steps = np.arange(total + 1, dtype="float64")
    return Plan(baseline + (aim - baseline) * steps / total, seasonal=False)


def seasonal_profile(history: pd.Series, season: int) -> np.ndarray | None:
    """Additive seasonal effects by position in the cycle, the first history period being
    position 0; None without ``MIN_CYCLES`` whole cycles of history."""
    values = history.to_numpy(dtype="float64")
    if season < 2 or len(values) < MIN_CYCLES * season or np.isnan(values).any():
        return None
    from statsmodels.tsa.seasonal import seasonal_decompose  # slow import

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = seasonal_decompose(values, model="additive", period=season)
    seasonal = np.asarray(parts.seasonal, dtype="float64")
    return seasonal[:season]


def seasonal_plan(
    baseline: float, aim: float, total: int, profile: np.ndarray, baseline_position: int
) -> Plan:
    """The linear plan plus seasonal effects: ``s(k) - s(0) - k/total * (s(total) - s(0))``
    keeps the start at the baseline and the end at the aim."""
    line = linear_plan(baseline, aim, total).values
    season = len(profile)
    steps = np.arange(total + 1)
    effect = profile[(baseline_position + steps) % season]
    bridge = effect - effect[0] - steps / total * (effect[-1] - effect[0])
    return Plan(line + bridge, seasonal=True)
