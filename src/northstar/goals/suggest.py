"""Targets suggested from a metric's own history: how much it typically improved over
windows as long as the goal (the 50th, 75th and 90th percentile of those changes,
counted in the metric's good direction)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from northstar.goals.windows import MIN_WINDOWS, apply_change, use_relative, window_changes
from northstar.metrics.spec import Direction, MetricSpec

LEVELS = ((50, "typical"), (75, "stretch"), (90, "ambitious"))


@dataclass(frozen=True)
class SuggestedTarget:
    percentile: int
    label: str
    improvement: float  # in the good direction; relative (fraction) or absolute
    value: float


@dataclass(frozen=True)
class Suggestion:
    metric: str
    baseline: float
    periods: int
    relative: bool
    windows: int
    targets: tuple[SuggestedTarget, ...]
    note: str = ""


def suggest_targets(
    spec: MetricSpec, history: pd.Series, baseline: float, periods: int
) -> Suggestion:
    """Targets ``periods`` periods after the baseline from the history's improvements.

    Raises ``ValueError`` when the history has fewer than three comparable windows.
    """
    relative = use_relative(history, baseline, spec.unit)
    sense = 1 if spec.direction is Direction.higher else -1
    improvements = sense * window_changes(history, periods, relative=relative)
    if len(improvements) < MIN_WINDOWS:
        raise ValueError(
            f"{spec.id} has {len(improvements)} window(s) of {periods} periods in its history; "
            f"suggestions need at least {MIN_WINDOWS} (a nearer deadline or a finer grain helps)"
        )
    targets = []
    for pct, label in LEVELS:
        improvement = float(np.percentile(improvements, pct))
        value = apply_change(baseline, sense * improvement, relative=relative)
        targets.append(SuggestedTarget(pct, label, improvement, value))
    note = ""
    if targets[0].improvement <= 0:
        note = (
            f"over a typical window of {periods} periods {spec.id} got worse, so the typical "
            "target is worse than the baseline; the higher levels ask for real improvement"
        )
    return Suggestion(spec.id, baseline, periods, relative, len(improvements), tuple(targets), note)
