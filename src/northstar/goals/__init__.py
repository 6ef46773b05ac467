"""Goals: objectives, SMART targets on metrics, progress, forecasts and the balanced
scorecard (see docs/goals.md).

``model``/``store`` hold what is written in ``goals.yaml``; ``targets`` what a goal aims
at; ``smart`` the SMART check; ``plan``, ``forecast`` and ``tracking`` where a goal stands;
``suggest`` and ``templates`` help set goals; ``scorecard`` groups them for people;
``service`` is what ``Workspace`` calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from northstar.goals.forecast import Forecast, forecast
    from northstar.goals.model import Goal, GoalBook, Objective, PlanKind, Revision, TimeFrame
    from northstar.goals.scorecard import Scorecard
    from northstar.goals.smart import SmartCheck, Verdict
    from northstar.goals.targets import Target, TargetKind, parse_target
    from northstar.goals.tracking import GoalProgress, Status

# Where each name lives: loaded on first use (PEP 562), so that a light module of the
# package (``fields``, read by the CLI's help) does not pull in the forecasting models.
_WHERE = {
    "Forecast": "forecast", "forecast": "forecast",
    "Goal": "model", "GoalBook": "model", "Objective": "model", "PlanKind": "model",
    "Revision": "model", "TimeFrame": "model",
    "Scorecard": "scorecard", "SmartCheck": "smart", "Verdict": "smart",
    "Target": "targets", "TargetKind": "targets", "parse_target": "targets",
    "GoalProgress": "tracking", "Status": "tracking",
}  # fmt: skip

__all__ = [
    "Forecast",
    "Goal",
    "GoalBook",
    "GoalProgress",
    "Objective",
    "PlanKind",
    "Revision",
    "Scorecard",
    "SmartCheck",
    "Status",
    "Target",
    "TargetKind",
    "TimeFrame",
    "Verdict",
    "forecast",
    "parse_target",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        value = getattr(importlib.import_module(f"northstar.goals.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'northstar.goals' has no attribute {name!r}")
