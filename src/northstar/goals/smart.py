"""The SMART check of a goal, shown with the numbers behind it (not just enforced).

- **Specific**: one metric on one segment, with a target that goes the metric's good way;
- **Measurable**: the metric has a value for the baseline period;
- **Achievable**: the change the goal needs compared with the metric's own changes over
  windows as long as the goal: at most the median → *comfortable*, at most the best →
  *stretch*, beyond the best → *unrealistic* (unknown with fewer than three windows);
- **Relevant**: the goal serves at least one objective;
- **Time-bound**: the deadline is after the start, at least one period away; a goal set
  with a start before the current period is flagged (a warning): its baseline is the
  period before that start, so progress counts change that happened before the goal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np
import pandas as pd

from northstar.goals.model import Goal, GoalBook
from northstar.goals.targets import Bounds, TargetKind
from northstar.goals.windows import MIN_WINDOWS, change_between, use_relative, window_changes
from northstar.metrics.format import format_value
from northstar.metrics.spec import Direction, MetricSpec, Unit


class CheckState(StrEnum):
    passed = "pass"
    warning = "warn"
    failed = "fail"


class Verdict(StrEnum):
    comfortable = "comfortable"
    stretch = "stretch"
    unrealistic = "unrealistic"
    unknown = "unknown"


@dataclass(frozen=True)
class Check:
    letter: str  # S, M, A, R, T
    name: str
    state: CheckState
    detail: str


@dataclass(frozen=True)
class Achievability:
    """The change a goal needs against the metric's changes over comparable windows.

    ``required`` and the statistics are *improvements* in the direction of the target
    (positive = towards it), relative (fractions) or absolute (the metric's unit).
    """

    verdict: Verdict
    periods: int
    relative: bool
    required: float | None
    windows: int
    median: float | None
    p75: float | None
    p90: float | None
    best: float | None
    detail: str


@dataclass(frozen=True)
class SmartCheck:
    checks: tuple[Check, ...]
    achievability: Achievability

    @property
    def ok(self) -> bool:
        """No check failed (warnings allowed)."""
        return all(c.state is not CheckState.failed for c in self.checks)


def assess_achievability(
    history: pd.Series, baseline: float, bounds: Bounds, periods: int, unit: Unit,
    currency: str = "USD", grain: str = "period",
) -> Achievability:  # fmt: skip
    """Compare the needed change with the history's changes over ``periods``-long windows."""
    relative = use_relative(history, baseline, unit)
    aim = bounds.aim(baseline)
    sense = 0 if aim == baseline else (1 if aim > baseline else -1)
    fmt = _formatter(relative, unit, currency)
    span = f"{periods} {grain}s" if periods != 1 else f"1 {grain}"
    if sense == 0:
        return Achievability(
            Verdict.comfortable, periods, relative, 0.0, 0, None, None, None, None,
            "the baseline already meets the target; the goal is to hold it",
        )  # fmt: skip
    required = sense * change_between(baseline, aim, relative=relative)
    changes = sense * window_changes(history, periods, relative=relative)
    needs = f"needs {fmt(sense * required)} in {span}"
    if len(changes) < MIN_WINDOWS:
        return Achievability(
            Verdict.unknown, periods, relative, required, len(changes), None, None, None, None,
            f"{needs}; the history holds {len(changes)} window(s) of {span}, and at least "
            f"{MIN_WINDOWS} are needed to judge",
        )  # fmt: skip
    median, p75, p90 = (float(v) for v in np.quantile(changes, [0.5, 0.75, 0.9]))
    best = float(np.max(changes))
    if required <= median:
        verdict = Verdict.comfortable
    elif required <= best:
        verdict = Verdict.stretch
    else:
        verdict = Verdict.unrealistic
    detail = (
        f"{needs}; over {len(changes)} past windows of {span} it changed by "
        f"{fmt(sense * median)} (median), {fmt(sense * p75)} (75th percentile towards the "
        f"target), {fmt(sense * best)} (best)"
    )
    return Achievability(
        verdict, periods, relative, required, len(changes), median, p75, p90, best, detail
    )


def _formatter(relative: bool, unit: Unit, currency: str) -> Callable[[float], str]:
    """Signed changes: % of the start value, percentage points for rates, else the unit."""
    if relative:
        return lambda v: f"{v * 100:+.1f} %"
    if unit is Unit.rate:
        return lambda v: f"{v * 100:+.1f} pp"
    return lambda v: ("+" if v >= 0 else "") + format_value(v, unit, currency)


def check_goal(
    goal: Goal,
    book: GoalBook,
    spec: MetricSpec,
    history: pd.Series,
    *,
    baseline: float | None,
    baseline_label: str,
    periods: int,
    currency: str = "USD",
    current_period: date | None = None,
) -> SmartCheck:
    """Every SMART criterion of ``goal`` with its evidence.

    ``history`` is the metric's complete periods (on the goal's segment), ``baseline`` its
    value for the baseline period (or the override), ``periods`` the number of periods
    from the baseline period to the deadline's. ``current_period`` (when the goal is being
    set) is the first day of the period it is set in, to flag a start in the past.
    """
    checks: list[Check] = []
    segment = f"segment {goal.where}" if goal.where else "all users"
    bounds = goal.target.resolve(baseline) if baseline is not None else None
    specific = CheckState.passed
    spec_detail = f"one metric, {spec.title} ({spec.id}), on {segment}"
    contradiction = _direction_conflict(goal, spec)
    if contradiction:
        specific, spec_detail = CheckState.warning, f"{spec_detail}; {contradiction}"
    checks.append(Check("S", "Specific", specific, spec_detail))

    if baseline is None:
        # The label says what is missing ("no value of nps yet", "… for the baseline
        # period …; set a baseline …"): say it once, with the fix.
        missing = baseline_label if "set a" in baseline_label else (
            f"{baseline_label}; check the data or set a baseline")  # fmt: skip
        checks.append(Check("M", "Measurable", CheckState.failed, missing))
    else:
        value = format_value(baseline, spec.unit, currency)
        checks.append(Check("M", "Measurable", CheckState.passed,
                            f"baseline {value} ({baseline_label})"))  # fmt: skip

    if bounds is None or baseline is None:
        achievability = Achievability(
            Verdict.unknown, periods, False, None, 0, None, None, None, None,
            "no baseline, so the needed change is unknown",
        )  # fmt: skip
    else:
        achievability = assess_achievability(
            history, baseline, bounds, periods, spec.unit, currency, goal.grain.value
        )
    a_state = {
        Verdict.comfortable: CheckState.passed,
        Verdict.stretch: CheckState.passed,
        Verdict.unrealistic: CheckState.warning,
        Verdict.unknown: CheckState.warning,
    }[achievability.verdict]
    checks.append(Check("A", "Achievable", a_state,
                        f"{achievability.verdict.value}: {achievability.detail}"))  # fmt: skip

    names = [book.objective(o).name for o in goal.objectives if book.objective(o)]  # type: ignore[union-attr]
    if names:
        checks.append(Check("R", "Relevant", CheckState.passed, "serves " + "; ".join(names)))
    else:
        checks.append(Check("R", "Relevant", CheckState.failed,
                            "linked to no objective; align it to one"))  # fmt: skip

    if periods < 1:
        checks.append(Check("T", "Time-bound", CheckState.failed,
                            f"deadline {goal.deadline} falls in the baseline period; move it "
                            f"at least one {goal.grain.value} later"))  # fmt: skip
    elif current_period is not None and goal.start < current_period:
        checks.append(Check("T", "Time-bound", CheckState.warning,
                            f"starts {goal.start}, already in the past (the current "
                            f"{goal.grain.value} began {current_period}): progress is measured "
                            f"from the {goal.grain.value} before that start, so change that "
                            f"already happened counts; deadline {goal.deadline}, {periods} "
                            f"{goal.grain.value}(s) after the baseline period"))  # fmt: skip
    else:
        checks.append(Check("T", "Time-bound", CheckState.passed,
                            f"deadline {goal.deadline}, {periods} {goal.grain.value}(s) after "
                            f"the baseline period"))  # fmt: skip
    return SmartCheck(tuple(checks), achievability)


def _direction_conflict(goal: Goal, spec: MetricSpec) -> str:
    """A target that asks the metric to move its bad way is allowed but worth a word."""
    kind = goal.target.kind
    up = kind is TargetKind.at_least or (
        kind is TargetKind.change and (goal.target.change_pct or 0) > 0
    )
    down = kind is TargetKind.at_most or (
        kind is TargetKind.change and (goal.target.change_pct or 0) < 0
    )
    if spec.direction is Direction.lower and up:
        return f"the target asks {spec.id} to rise, but lower is better for it"
    if spec.direction is Direction.higher and down:
        return f"the target asks {spec.id} to fall, but higher is better for it"
    return ""
