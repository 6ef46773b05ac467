"""SMART checks and target suggestions on hand-made histories."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from northstar.goals.model import Goal, GoalBook, Objective
from northstar.goals.smart import CheckState, Verdict, assess_achievability, check_goal
from northstar.goals.suggest import suggest_targets
from northstar.goals.targets import Bounds, Target, TargetKind
from northstar.metrics.registry import builtin_metrics
from northstar.metrics.spec import Unit

SPECS = {s.id: s for s in builtin_metrics()}
# +10 a month: relative changes over 3-month windows are 30/100, 30/110, ..., 30/150.
GROWING = pd.Series([100.0, 110, 120, 130, 140, 150, 160, 170, 180])
THREE_MONTHS = [30 / 100, 30 / 110, 30 / 120, 30 / 130, 30 / 140, 30 / 150]


@pytest.mark.parametrize(
    ("target", "verdict"),
    [(200, Verdict.comfortable), (230, Verdict.stretch), (250, Verdict.unrealistic)],
)
def test_achievable_against_the_metric_own_history(target: float, verdict: Verdict) -> None:
    # From 180, +20 is +11.1 % (under the median window change, 24.0 %), +50 is +27.8 %
    # (above the median, under the best, 30 %), +70 is +38.9 % (beyond the best).
    result = assess_achievability(GROWING, 180, Bounds(target, math.inf), 3, Unit.count)
    assert result.verdict is verdict
    assert result.relative and result.windows == 6
    assert result.required == pytest.approx((target - 180) / 180)
    assert result.median == pytest.approx((30 / 130 + 30 / 120) / 2)
    assert result.best == pytest.approx(0.3)
    assert "+24.0 % (median)" in result.detail and "+30.0 % (best)" in result.detail


def test_lower_is_better_rate_is_judged_in_points_the_right_way() -> None:
    # Churn (a rate: absolute changes). Over 2-month windows it fell by 0.4, -0.2, 0.2,
    # 0.8, -0.1 and 0.2 points: median 0.2, best 0.8. Falling 0.5 points from 4 % to
    # 3.5 % is a stretch.
    churn = pd.Series([0.05, 0.048, 0.046, 0.05, 0.044, 0.042, 0.045, 0.04])
    result = assess_achievability(churn, 0.04, Bounds(-math.inf, 0.035), 2, Unit.rate)
    assert not result.relative
    assert (result.required, result.median, result.best) == pytest.approx((0.005, 0.002, 0.008))
    assert result.verdict is Verdict.stretch
    assert "-0.5 pp in 2 periods" in result.detail


def test_target_already_met_and_short_history() -> None:
    held = assess_achievability(GROWING, 180, Bounds(150, math.inf), 3, Unit.count)
    assert held.verdict is Verdict.comfortable and "hold" in held.detail
    short = assess_achievability(GROWING.iloc[:5], 140, Bounds(200, math.inf), 3, Unit.count)
    assert short.verdict is Verdict.unknown and short.windows == 2
    assert "at least 3" in short.detail


def _goal(**extra: object) -> Goal:
    values: dict[str, object] = {
        "id": "g", "metric": "mau", "target": Target(kind=TargetKind.at_least, value=230),
        "start": date(2026, 7, 1), "deadline": date(2026, 9, 30), "objectives": ["grow"],
    }  # fmt: skip
    values.update(extra)
    return Goal.model_validate(values)


BOOK = GoalBook(objectives=[Objective(id="grow", name="Grow usage", perspective="customer")])


def test_check_shows_every_criterion_with_its_numbers() -> None:
    check = check_goal(_goal(), BOOK, SPECS["mau"], GROWING, baseline=180,
                       baseline_label="June", periods=3)  # fmt: skip
    states = {c.letter: c.state for c in check.checks}
    assert states == dict.fromkeys("SMART", CheckState.passed)
    details = {c.letter: c.detail for c in check.checks}
    assert "Monthly active users" in details["S"] and "all users" in details["S"]
    assert details["M"] == "baseline 180 (June)"
    assert details["A"].startswith("stretch: needs +27.8 % in 3 months")
    assert details["R"] == "serves Grow usage"
    assert "3 month(s)" in details["T"]
    assert check.ok


def test_check_failures_and_warnings() -> None:
    orphan = _goal(objectives=[], where="plan = 'pro'")
    check = check_goal(orphan, GoalBook(), SPECS["mau"], GROWING, baseline=None,
                       baseline_label="June", periods=3)  # fmt: skip
    states = {c.letter: c.state for c in check.checks}
    assert states["R"] is CheckState.failed and states["M"] is CheckState.failed
    assert states["A"] is CheckState.warning and not check.ok
    assert "segment plan = 'pro'" in check.checks[0].detail
    # Asking a lower-is-better metric to rise is allowed but flagged.
    odd = _goal(metric="cac", target=Target(kind=TargetKind.change, change_pct=10))
    check = check_goal(odd, BOOK, SPECS["cac"], GROWING, baseline=180, baseline_label="June",
                       periods=3)  # fmt: skip
    assert check.checks[0].state is CheckState.warning
    assert "lower is better" in check.checks[0].detail


def test_suggestions_are_percentiles_of_past_improvements() -> None:
    s = suggest_targets(SPECS["mau"], GROWING, 180, 3)
    expected = np.percentile(THREE_MONTHS, [50, 75, 90])
    assert [t.percentile for t in s.targets] == [50, 75, 90]
    assert [t.improvement for t in s.targets] == pytest.approx(list(expected))
    assert [t.value for t in s.targets] == pytest.approx(list(180 * (1 + expected)))
    assert s.relative and s.windows == 6 and s.note == ""


def test_suggestions_for_lower_is_better_go_down() -> None:
    # CAC fell $5 a month: every 2-month window improved by $10 (absolute: it crosses
    # zero nowhere, but a currency changes relatively: -10/200, -10/195, ...).
    cac = pd.Series([200.0, 195, 190, 185, 180, 175])
    s = suggest_targets(SPECS["cac"], cac, 175, 2)
    falls = [10 / 200, 10 / 195, 10 / 190, 10 / 185]
    assert [t.value for t in s.targets] == pytest.approx(
        [175 * (1 - q) for q in np.percentile(falls, [50, 75, 90])]
    )
    assert all(t.value < 175 for t in s.targets)


def test_suggestions_need_three_windows() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        suggest_targets(SPECS["mau"], GROWING.iloc[:5], 140, 3)


def test_a_metric_without_data_says_so_once(tmp_path: Path) -> None:
    from northstar.workspace import Workspace

    ws = Workspace.init(tmp_path / "empty", timezone="UTC")
    new = ws.add_goal("nps", ">= 30", deadline="2026-12-31", save=False,
                      today=date(2026, 6, 1))  # fmt: skip
    (measurable,) = [c for c in new.check.checks if c.letter == "M"]
    assert measurable.detail == "no value of nps yet; check the data or set a baseline"
