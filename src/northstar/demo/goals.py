"""The demo product's objectives and goals: a second-half plan written at the start of
July, one quarter goal that has already ended, and one target revised along the way.

Targets that depend on the product's size are changes from the baseline (+60 % MRR), so
they read sensibly for any ``--users``; rates, prices and scores are absolute. Like
any workspace, the demo is judged as of the day after its data ends (its freshness
watermark), so the scorecard of this frozen year does not age.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from northstar.goals.model import (
    Goal,
    GoalBook,
    Objective,
    Revision,
    TargetChange,
    TimeFrame,
)
from northstar.goals.store import GOALS_FILE, save_book
from northstar.goals.targets import Target, TargetKind
from northstar.metrics.spec import Perspective
from northstar.workspace import Workspace

PM = "Ana Ruiz"  # head of product
GROWTH = "Marco Bianchi"  # growth lead
SUCCESS = "Lea Martin"  # customer success
ENG = "Sam Lee"  # engineering manager


def _half_year(end: date) -> TimeFrame:
    """The calendar half-year that contains ``end``."""
    first = 1 if end.month <= 6 else 7
    last = date(end.year, 6, 30) if first == 1 else date(end.year, 12, 31)
    return TimeFrame(start=date(end.year, first, 1), end=last)


def demo_goal_book(data_end: date) -> GoalBook:
    """Objectives and goals for the half-year that contains the demo's last day."""
    half = _half_year(data_end)
    start = half.start
    quarter_end = start + relativedelta(months=3) - timedelta(days=1)
    written = datetime(start.year, start.month, 1, 9, 0, tzinfo=UTC)

    def objective(
        oid: str, name: str, perspective: Perspective, owner: str, text: str
    ) -> Objective:
        return Objective(id=oid, name=name, perspective=perspective, owner=owner,
                         description=text, time_frame=half)  # fmt: skip

    def goal(gid: str, metric: str, target: Target, objective_id: str, owner: str,
             note: str, deadline: date | None = None) -> Goal:  # fmt: skip
        return Goal(
            id=gid, metric=metric, target=target, objectives=[objective_id], start=start,
            deadline=deadline or half.end, owner=owner, note=note, created_at=written,
            created_by=PM,
        )  # fmt: skip

    at_least = lambda v: Target(kind=TargetKind.at_least, value=v)  # noqa: E731
    at_most = lambda v: Target(kind=TargetKind.at_most, value=v)  # noqa: E731
    change = lambda pct: Target(kind=TargetKind.change, change_pct=pct)  # noqa: E731

    objectives = [
        objective("grow-recurring-revenue", "Grow recurring revenue", Perspective.financial, PM,
                  "Recurring revenue grows faster than costs, from new and existing customers."),
        objective("acquire-efficiently", "Acquire customers efficiently", Perspective.financial,
                  GROWTH, "Each new paying customer costs no more to win than before."),
        objective("grow-engaged-usage", "Grow engaged usage", Perspective.customer, PM,
                  "More people sign up and keep using the product every month."),
        objective("keep-customers", "Keep customers happy", Perspective.customer, SUCCESS,
                  "Customers stay and would recommend us."),
        objective("ship-with-quality", "Ship with quality", Perspective.internal_process, ENG,
                  "Bugs are fixed faster than they arrive."),
        objective("healthy-team", "Keep the team healthy", Perspective.learning_growth, ENG,
                  "A team that enjoys the work and delivers at a steady pace."),
    ]  # fmt: skip
    bug_goal = goal("bug-backlog-h2", "bug_backlog", at_most(30), "ship-with-quality", ENG,
                    "Open bugs at month end.")  # fmt: skip
    bug_goal = bug_goal.model_copy(update={"revisions": [
        Revision(
            at=datetime(start.year, start.month + 2, 1, 10, 30, tzinfo=UTC), by=ENG,
            reason="Two engineers moved to the billing migration for the quarter.",
            target=TargetChange(old=at_most(25), new=at_most(30)),
        )
    ]})  # fmt: skip
    goals = [
        goal("mrr-h2", "mrr", change(60), "grow-recurring-revenue", PM,
             "MRR at the end of December, 60 % above June's."),
        goal("nrr-q3", "nrr", at_least(1.0), "grow-recurring-revenue", PM,
             "Existing customers' revenue at least holds (Q3 check-point).", quarter_end),
        goal("cac-h2", "cac", at_most(150), "acquire-efficiently", GROWTH,
             "Blended CAC across channels."),
        goal("mau-h2", "mau", change(40), "grow-engaged-usage", PM,
             "Monthly active users at the end of December."),
        goal("signups-h2", "signups", change(20), "grow-engaged-usage", GROWTH,
             "Sign-ups in December against June."),
        goal("churn-h2", "customer_churn_rate", at_most(0.025), "keep-customers", SUCCESS,
             "Customer churn stays at June's level despite the Pro price rise."),
        goal("nps-h2", "nps", at_least(30), "keep-customers", SUCCESS,
             "Net Promoter Score of the month's survey."),
        bug_goal,
        goal("team-satisfaction-h2", "team_satisfaction",
             Target(kind=TargetKind.band, low=3.7, high=4.2), "healthy-team", ENG,
             "Team survey, 1–5: stay in the healthy band."),
        goal("velocity-h2", "sprint_velocity", at_least(24), "healthy-team", ENG,
             "Completed story points per sprint."),
    ]  # fmt: skip
    return GoalBook(objectives=objectives, goals=goals)


def install_demo_goals(ws: Workspace, data_end: date) -> None:
    """Write the demo's ``goals.yaml``. Nothing pins the as-of: like any workspace, the
    demo is judged as of the day after its data ends (``docs/freshness.md``)."""
    save_book(ws.path / GOALS_FILE, demo_goal_book(data_end))
