"""Goals: objectives, SMART targets on metrics, progress, forecasts and the balanced
scorecard (see docs/goals.md).

``model``/``store`` hold what is written in ``goals.yaml``; ``targets`` what a goal aims
at; ``smart`` the SMART check; ``plan``, ``forecast`` and ``tracking`` where a goal stands;
``suggest`` and ``templates`` help set goals; ``scorecard`` groups them for people;
``service`` is what ``Workspace`` calls.
"""

from northstar.goals.forecast import Forecast, forecast
from northstar.goals.model import Goal, GoalBook, Objective, PlanKind, Revision, TimeFrame
from northstar.goals.scorecard import Scorecard
from northstar.goals.smart import SmartCheck, Verdict
from northstar.goals.targets import Target, TargetKind, parse_target
from northstar.goals.tracking import GoalProgress, Status

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
