"""Goal operations behind ``Workspace``: read and write ``goals.yaml``, check, track,
suggest, propose templates and build the scorecard.

Everything goes through a :class:`GoalContext` (the file, the metric registry, the
settings, a metric-query function and the day to judge on), so this module never opens
the store itself.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from northstar import clock
from northstar.errors import GoalError, GoalNotFound, NorthstarError
from northstar.goals.fields import GOAL_FIELD_HELP as HELP
from northstar.goals.history import Fetch, complete_series, history_start, period_offset
from northstar.goals.model import (
    BaselineChange,
    DateChange,
    Goal,
    GoalBook,
    Objective,
    PlanKind,
    Revision,
    SegmentChange,
    TargetChange,
    TimeFrame,
    slugify,
)
from northstar.goals.scorecard import ObjectiveCard, Scorecard, build_scorecard, focus_warning
from northstar.goals.smart import SmartCheck, check_goal
from northstar.goals.store import editing, load_book, save_book
from northstar.goals.suggest import Suggestion, suggest_targets
from northstar.goals.targets import Target, TargetKind, parse_target
from northstar.goals.templates import TEMPLATES, Stage, parse_stage, pick_metric
from northstar.goals.tracking import (
    GoalProgress,
    Status,
    daily_rollup,
    goal_periods,
    resolve_baseline,
    track,
)
from northstar.metrics.periods import (
    Grain,
    parse_date,
    parse_grain,
    period_start,
    shift_periods,
)
from northstar.metrics.registry import Registry
from northstar.metrics.spec import (
    Aggregation,
    Category,
    Direction,
    MetricSpec,
    Perspective,
    SimpleDefinition,
    Unit,
)
from northstar.settings import Settings
from northstar.store.freshness import AsOf

USER_ENV = "NORTHSTAR_USER"


@dataclass(frozen=True)
class GoalContext:
    path: Path  # goals.yaml
    registry: Registry
    settings: Settings
    fetch: Fetch
    as_of: date  # the day goals are judged on
    freshness: AsOf | None = None  # the workspace's as-of and how fresh its data is

    @property
    def week_start(self) -> str:
        return self.settings.week_start.value

    def load(self) -> GoalBook:
        return load_book(self.path)

    def save(self, book: GoalBook) -> None:
        save_book(self.path, book)

    def edit(self) -> AbstractContextManager[GoalBook]:
        """The book, locked against other writers, saved when the block succeeds."""
        return editing(self.path)


def current_user() -> str:
    """Who is making a change: ``$NORTHSTAR_USER``, else the login name."""
    try:
        return os.environ.get(USER_ENV) or getpass.getuser()
    except OSError:  # no login name (some containers)
        return "unknown"


# -- objectives -----------------------------------------------------------------------
def add_objective(
    ctx: GoalContext,
    name: str,
    *,
    perspective: Perspective | str,
    objective_id: str | None = None,
    description: str = "",
    owner: str = "",
    time_frame: TimeFrame | None = None,
) -> Objective:
    with ctx.edit() as book:
        taken = {o.id for o in book.objectives}
        oid = objective_id or slugify(name, taken)
        if oid in taken:
            raise GoalError(f"an objective with id '{oid}' exists; choose another id")
        try:
            objective = Objective(
                id=oid, name=name, description=description, owner=owner,
                perspective=parse_perspective(perspective), time_frame=time_frame,
            )  # fmt: skip
        except ValueError as exc:
            raise GoalError(f"objective {name!r}: {first_problem(exc)}") from None
        book.objectives.append(objective)
    return objective


def parse_perspective(value: Perspective | str) -> Perspective:
    """``customer``, ``Internal process``, ``learning & growth`` ... as a perspective."""
    if isinstance(value, Perspective):
        return value
    key = re.sub(r"[\s&/-]+", "_", value.strip().lower()).replace("_and_", "_").strip("_")
    try:
        return Perspective(key)
    except ValueError:
        raise GoalError(
            f"unknown perspective {value!r}; use financial, customer, internal_process or "
            "learning_growth"
        ) from None


def get_objective(book: GoalBook, objective_id: str) -> Objective:
    found = book.objective(objective_id)
    if found is None:
        known = ", ".join(o.id for o in book.objectives) or "none yet"
        raise GoalNotFound(f"no objective '{objective_id}' (objectives: {known})")
    return found


def get_goal(book: GoalBook, goal_id: str) -> Goal:
    found = book.goal(goal_id)
    if found is None:
        known = ", ".join(g.id for g in book.goals) or "none yet"
        raise GoalNotFound(f"no goal '{goal_id}' (goals: {known})")
    return found


# -- goals ----------------------------------------------------------------------------
@dataclass(frozen=True)
class NewGoal:
    goal: Goal
    check: SmartCheck
    warnings: tuple[str, ...] = field(default_factory=tuple)
    saved: bool = True


class GoalSpec(BaseModel):
    """A new goal's parameters, declared once: the CLI (``goals add``), the web form and the
    Python API (``Workspace.add_goal``) all build one. Dates are ``YYYY-MM-DD`` (or dates);
    ``target`` is text such as ``>= 3000``, ``<= 2.5%``, ``3.7..4.2`` or ``+10%``."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    metric: str = Field(description=HELP["metric"])
    target: Target | str = Field(description=HELP["target"])
    objectives: list[str] = Field(default_factory=list, description=HELP["objectives"])
    start: date | None = Field(default=None, description=HELP["start"])
    deadline: date | None = Field(default=None, description=HELP["deadline"])
    grain: Grain = Field(default=Grain.month, description=HELP["grain"])
    where: str | None = Field(default=None, description=HELP["where"])
    baseline: float | None = Field(default=None, description=HELP["baseline"])
    plan: PlanKind = Field(default=PlanKind.linear, description=HELP["plan"])
    owner: str = Field(default="", description=HELP["owner"])
    note: str = Field(default="", description=HELP["note"])
    goal_id: str | None = Field(default=None, description=HELP["goal_id"])

    @field_validator("start", "deadline", mode="before")
    @classmethod
    def _day(cls, value: Any, info: ValidationInfo) -> date | None:
        return parse_date(value or None, str(info.field_name))

    @field_validator("grain", mode="before")
    @classmethod
    def _grain(cls, value: Any) -> Grain:
        return parse_grain(value)

    @classmethod
    def make(cls, **fields: Any) -> GoalSpec:
        """A spec from keyword fields; a mistake is one clear ``GoalError`` line."""
        try:
            return cls(**fields)
        except ValidationError as exc:
            raise GoalError(f"goal: {first_problem(exc)}") from None


def add_goal(ctx: GoalContext, spec: GoalSpec, *, by: str | None = None,
             save: bool = True) -> NewGoal:  # fmt: skip
    """Create a goal, check it against SMART and (unless ``save`` is false) store it.

    ``start`` defaults to the first day of the current period (as of ``ctx.as_of``),
    moved into the (first) objective's time frame when it has one; the baseline is then
    the period before the goal's own start, never the objective's. ``deadline`` defaults
    to the end of that time frame. Warnings (not errors): a deadline outside an
    objective's time frame, another goal on the same metric and segment over an
    overlapping time (a duplicate, or a conflict when the targets differ).
    """
    metric, objectives, grain, given_start = spec.metric, spec.objectives, spec.grain, spec.start
    deadline, goal_id = spec.deadline, spec.goal_id
    with ctx.edit() if save else nullcontext(ctx.load()) as book:
        mspec = ctx.registry.get(metric)
        target = as_target(spec.target, mspec)
        chosen = [get_objective(book, o) for o in objectives]
        frame = next((o.time_frame for o in chosen if o.time_frame is not None), None)
        start = given_start or default_start(ctx, grain, frame)
        deadline = deadline or (frame.end if frame else None)
        if deadline is None:
            raise GoalError("give a deadline (or an objective that has a time frame)")
        if given_start is None and deadline <= start:
            raise GoalError(
                f"deadline {deadline} is not after the current {grain.value}, which starts on "
                f"{start} (as of {ctx.as_of}); give a later deadline, or a --start if the goal "
                "began earlier"
            )
        taken = {g.id for g in book.goals}
        gid = goal_id or slugify(f"{metric}-{deadline.isoformat()}", taken)
        if gid in taken:
            raise GoalError(f"a goal with id '{gid}' exists; choose another id")
        try:
            goal = Goal(
                id=gid, metric=mspec.id, where=spec.where, objectives=list(objectives),
                target=target, baseline=spec.baseline, start=start, deadline=deadline,
                grain=grain, plan=spec.plan, owner=spec.owner, note=spec.note,
                created_at=_now(), created_by=by or current_user(),
            )  # fmt: skip
        except ValueError as exc:
            raise GoalError(f"goal on {metric}: {first_problem(exc)}") from None
        check = smart_check(ctx, goal, book, creating=True)
        warnings = [*frame_warnings(goal, chosen), *overlap_warnings(goal, book.goals, mspec)]
        book.goals.append(goal)
        limit = ctx.settings.goals.max_kpis_per_objective
        for oid in goal.objectives:
            n = len(book.goals_of(oid))
            if n > limit:
                warnings.append(focus_warning(oid, n, limit))
    return NewGoal(goal, check, tuple(warnings), saved=save)


def default_start(ctx: GoalContext, grain: Grain, frame: TimeFrame | None) -> date:
    """The first day of the current period, moved into ``frame``: its start when the frame
    begins later, or (a frame wholly in the past) its start too, for a goal set after the
    fact."""
    current = period_start(ctx.as_of, grain, ctx.week_start)
    if frame is None:
        return current
    if current < frame.start or current > frame.end:
        return frame.start
    return current


def frame_warnings(goal: Goal, objectives: Sequence[Objective]) -> list[str]:
    """A deadline (or start) outside the time frame of an objective the goal serves."""
    out = []
    for o in objectives:
        tf = o.time_frame
        if tf is None:
            continue
        if not tf.start <= goal.deadline <= tf.end:
            out.append(
                f"deadline {goal.deadline} is outside the time frame of objective '{o.id}' "
                f"({tf.start} to {tf.end}); move the deadline or the objective's time frame"
            )
        elif goal.start < tf.start:
            out.append(
                f"start {goal.start} is before the time frame of objective '{o.id}' "
                f"({tf.start} to {tf.end})"
            )
    return out


def overlap_warnings(goal: Goal, others: Sequence[Goal], spec: MetricSpec) -> list[str]:
    """Other goals on the same metric and segment whose time overlaps ``goal``'s: the same
    target is a duplicate, a different one a conflict (which one does the team chase?)."""
    out = []
    for other in others:
        if other.id == goal.id or other.metric != goal.metric:
            continue
        if _segment_key(other.where) != _segment_key(goal.where):
            continue
        if other.deadline < goal.start or goal.deadline < other.start:
            continue
        theirs = other.target.describe(spec.unit)
        if other.target == goal.target and other.deadline == goal.deadline:
            out.append(
                f"duplicate of goal '{other.id}' ({spec.id} {theirs} by {other.deadline}); "
                f"remove one (northstar goals remove {other.id})"
            )
        else:
            out.append(
                f"conflicts with goal '{other.id}' on the same metric and segment "
                f"({spec.id} {theirs} by {other.deadline}); revise or remove one so the "
                "team chases one target"
            )
    return out


def _segment_key(where: str | None) -> str:
    return " ".join((where or "").lower().split())


def goals_on(book: GoalBook, metric: str, start: date, deadline: date) -> list[Goal]:
    """Goals on ``metric`` for all users whose time overlaps ``start``..``deadline``."""
    return [
        g for g in book.goals
        if g.metric == metric and not g.where and not (g.deadline < start or deadline < g.start)
    ]  # fmt: skip


def smart_check(
    ctx: GoalContext, goal: Goal, book: GoalBook | None = None, *, creating: bool = False
) -> SmartCheck:
    """The SMART check of ``goal`` against the workspace's data as of ``ctx.as_of``
    (``creating``: the goal is being set now, so a start before the current period is
    worth saying)."""
    book = book or ctx.load()
    spec = ctx.registry.get(goal.metric)
    gp = goal_periods(goal, ctx.week_start)
    history = metric_history(ctx, goal.metric, goal.grain, goal.where, earliest=gp.baseline)
    baseline, label = resolve_baseline(goal, history, gp)
    return check_goal(
        goal, book, spec, history.dropna(), baseline=baseline, baseline_label=label,
        periods=gp.total, currency=ctx.settings.currency,
        current_period=period_start(ctx.as_of, goal.grain, ctx.week_start) if creating else None,
    )  # fmt: skip


def revise_goal(
    ctx: GoalContext,
    goal_id: str,
    *,
    reason: str,
    target: Target | str | None = None,
    deadline: date | str | None = None,
    baseline: float | None = None,
    clear_baseline: bool = False,
    where: str | None = None,
    by: str | None = None,
) -> Goal:
    """Change a goal's target, deadline, baseline or segment (``where``; ``""`` for every
    user), recording who, when, old, new and why."""
    if not reason.strip():
        raise GoalError("say why the goal changes: the reason is kept in its history")
    with ctx.edit() as book:
        goal = get_goal(book, goal_id)
        if target is not None:
            target = as_target(target, _spec_or_unknown(ctx, goal.metric))
        deadline = parse_date(deadline, "deadline")
        changes: dict[str, object] = {}
        if target is not None and target != goal.target:
            changes["target"] = TargetChange(old=goal.target, new=target)
        if deadline is not None and deadline != goal.deadline:
            changes["deadline"] = DateChange(old=goal.deadline, new=deadline)
        new_baseline = None if clear_baseline else baseline
        if (clear_baseline or baseline is not None) and new_baseline != goal.baseline:
            changes["baseline"] = BaselineChange(old=goal.baseline, new=new_baseline)
        segment = (where.strip() or None) if where is not None else goal.where
        if segment != goal.where:
            if segment is not None:
                check_filter(ctx, goal.metric, segment)
            changes["where"] = SegmentChange(old=goal.where, new=segment)
        if not changes:
            raise GoalError(
                f"nothing to revise: give a new target, deadline, baseline or segment for "
                f"'{goal_id}'"
            )
        revision = Revision(at=_now(), by=by or current_user(), reason=reason.strip(),
                            **changes)  # type: ignore[arg-type]  # fmt: skip
        values = goal.model_dump()
        if target is not None:
            values["target"] = target
        if deadline is not None:
            values["deadline"] = deadline
        if "baseline" in changes:
            values["baseline"] = new_baseline
        values["where"] = segment
        values["revisions"] = [*goal.revisions, revision]
        try:
            revised = Goal.model_validate(values)
        except ValueError as exc:
            raise GoalError(f"goal '{goal_id}': {first_problem(exc)}") from None
        book.goals[book.goals.index(goal)] = revised
    return revised


def check_filter(ctx: GoalContext, metric: str, where: str) -> None:
    """Raise the query's own error when ``where`` does not apply to ``metric``."""
    day = ctx.as_of
    ctx.fetch([metric], Grain.day, where, day - timedelta(days=1), day, day)


# -- evaluation -----------------------------------------------------------------------
def metric_history(
    ctx: GoalContext, metric: str, grain: Grain, where: str | None, *, earliest: date | None
) -> pd.Series:
    start = history_start(ctx.as_of, grain, ctx.week_start, earliest)
    frame = ctx.fetch([metric], grain, where, start, ctx.as_of, ctx.as_of)
    return complete_series(frame, metric)


def evaluate(ctx: GoalContext, goals: Sequence[Goal]) -> dict[str, GoalProgress]:
    """Every goal's progress, querying each (grain, segment) group of metrics once (and,
    for goals on longer periods, the daily values their forecasts are simulated on)."""
    groups: dict[tuple[Grain, str | None], list[Goal]] = {}
    for goal in goals:
        groups.setdefault((goal.grain, goal.where), []).append(goal)
    out: dict[str, GoalProgress] = {}
    for (grain, where), members in groups.items():
        earliest = min(goal_periods(g, ctx.week_start).baseline for g in members)
        start = history_start(ctx.as_of, grain, ctx.week_start, earliest)
        metrics = sorted({g.metric for g in members if g.metric in ctx.registry.metrics})
        frame = _fetch_or_none(ctx, metrics, grain, where, start)
        rolled = [m for m in metrics if daily_rollup(ctx.registry.metrics[m]) is not None]
        daily = None
        if grain is not Grain.day and rolled:
            first_day = ctx.as_of - timedelta(days=DAILY_LOOKBACK_DAYS)
            daily = _fetch_or_none(ctx, rolled, Grain.day, where, first_day)
        for goal in members:
            out[goal.id] = _evaluate_one(ctx, goal, frame, start, daily)
    return out


# Days of history a goal on longer periods simulates its forecast on.
DAILY_LOOKBACK_DAYS = 364


def _fetch_or_none(
    ctx: GoalContext, metrics: list[str], grain: Grain, where: str | None, start: date
) -> pd.DataFrame | None:
    if not metrics:
        return None
    try:
        return ctx.fetch(metrics, grain, where, start, ctx.as_of, ctx.as_of)
    except NorthstarError:
        return None  # one bad goal in the group; evaluate them one by one


def _evaluate_one(
    ctx: GoalContext, goal: Goal, frame: pd.DataFrame | None, start: date,
    daily: pd.DataFrame | None = None,
) -> GoalProgress:  # fmt: skip
    spec = ctx.registry.metrics.get(goal.metric)
    problem = None
    if spec is None:
        problem = f"unknown metric '{goal.metric}' (see 'northstar metrics list')"
    elif frame is None:
        try:
            frame = ctx.fetch([goal.metric], goal.grain, goal.where, start, ctx.as_of, ctx.as_of)
        except NorthstarError as exc:
            problem = str(exc)
    if spec is None or frame is None:
        return GoalProgress(
            goal, spec or _unknown_spec(goal.metric), ctx.as_of,
            goal_periods(goal, ctx.week_start), pd.Series(dtype="float64"), Status.no_data,
            problem or "no data",
        )  # fmt: skip
    history = complete_series(frame, goal.metric)
    days = None
    if daily is not None and goal.metric in set(daily["metric"]):
        days = complete_series(daily, goal.metric)
    return track(
        goal, spec, history, as_of=ctx.as_of, settings=ctx.settings.goals,
        week_start=ctx.week_start, daily=days,
    )  # fmt: skip


def as_target(target: Target | str, spec: MetricSpec) -> Target:
    """A target object, parsing text such as '>= 3000' or '+10%' for ``spec``."""
    return target if isinstance(target, Target) else parse_target(target, spec.direction)


def _required_date(value: date | str, what: str) -> date:
    parsed = parse_date(value, what)
    if parsed is None:
        raise GoalError(f"give a {what} (YYYY-MM-DD)")
    return parsed


def _spec_or_unknown(ctx: GoalContext, metric: str) -> MetricSpec:
    return ctx.registry.metrics.get(metric) or _unknown_spec(metric)


def _unknown_spec(metric: str) -> MetricSpec:
    return MetricSpec(
        id=metric, title=metric, description="not a known metric", formula="", unit=Unit.number,
        direction=Direction.higher, category=Category.custom, perspective=Perspective.customer,
        definition=SimpleDefinition(table="events", agg=Aggregation.count),
    )  # fmt: skip


def objective_status(ctx: GoalContext, objective_id: str) -> ObjectiveCard:
    """One objective with its evaluated KPIs and focus warnings."""
    book = ctx.load()
    objective = get_objective(book, objective_id)
    goals = book.goals_of(objective_id)
    card = build_scorecard(
        GoalBook(objectives=[objective], goals=goals), evaluate(ctx, goals),
        product=ctx.settings.name, as_of=ctx.as_of, currency=ctx.settings.currency,
        max_kpis=ctx.settings.goals.max_kpis_per_objective, freshness=ctx.freshness,
    )  # fmt: skip
    return next(o for p in card.perspectives for o in p.objectives)


def track_goal(ctx: GoalContext, goal_id: str) -> GoalProgress:
    goal = get_goal(ctx.load(), goal_id)
    return evaluate(ctx, [goal])[goal.id]


def scorecard(ctx: GoalContext) -> Scorecard:
    book = ctx.load()
    progress = evaluate(ctx, book.goals)
    return build_scorecard(
        book, progress, product=ctx.settings.name, as_of=ctx.as_of,
        currency=ctx.settings.currency, max_kpis=ctx.settings.goals.max_kpis_per_objective,
        freshness=ctx.freshness,
    )  # fmt: skip


# -- suggestions and templates -------------------------------------------------------
def suggest(
    ctx: GoalContext,
    metric: str,
    *,
    deadline: date | str,
    start: date | str | None = None,
    grain: str | Grain = Grain.month,
    where: str | None = None,
) -> Suggestion:
    """Targets for ``metric`` by ``deadline`` from the history of its improvements.

    The baseline is the period before ``start`` (default: the latest complete period).
    """
    spec = ctx.registry.get(metric)
    grain = parse_grain(grain)
    deadline = _required_date(deadline, "deadline")
    start = parse_date(start, "start")
    history = metric_history(ctx, metric, grain, where, earliest=start).dropna()
    if history.empty:
        raise GoalError(f"{metric} has no complete {grain.value} with a value to learn from")
    if start is None:
        base_period = history.index[-1]
    else:
        base_period = shift_periods(period_start(start, grain, ctx.week_start), grain, -1)
        if base_period not in history.index:
            base_period = history.index[-1]
    last = period_start(deadline, grain, ctx.week_start)
    periods = period_offset(base_period, last, grain)
    if periods < 1:
        raise GoalError(f"deadline {deadline} is not after the baseline period {base_period}")
    try:
        return suggest_targets(spec, history, float(history.loc[base_period]), periods)
    except ValueError as exc:
        raise GoalError(str(exc)) from None


@dataclass(frozen=True)
class TemplateKpi:
    metric: str | None
    why: str
    note: str
    suggestion: Suggestion | None
    target: Target | None  # the "stretch" suggestion, when the history allows one
    existing: str | None = None  # a goal already on this metric over the same time: skipped


@dataclass(frozen=True)
class TemplateObjective:
    name: str
    perspective: Perspective
    description: str
    kpis: tuple[TemplateKpi, ...]


@dataclass(frozen=True)
class Template:
    stage: Stage
    start: date
    deadline: date
    grain: Grain
    objectives: tuple[TemplateObjective, ...]
    applied: tuple[str, ...] = ()  # ids of goals written when applied


def template(
    ctx: GoalContext,
    stage: Stage | str,
    *,
    start: date | str | None = None,
    deadline: date | str | None = None,
    grain: str | Grain = Grain.month,
    apply: bool = False,
    by: str | None = None,
) -> Template:
    """A starter set for ``stage`` with targets suggested from this workspace's history;
    ``apply`` writes its objectives and the goals that have a suggested target."""
    stage = parse_stage(str(stage))
    grain = parse_grain(grain)
    start, deadline = parse_date(start, "start"), parse_date(deadline, "deadline")
    start = start or period_start(ctx.as_of, grain, ctx.week_start)
    if deadline is None:  # six whole periods
        first = period_start(start, grain, ctx.week_start)
        deadline = shift_periods(first, grain, 6) - timedelta(days=1)
    available = frozenset(ctx.registry.metrics)
    book = ctx.load()
    objectives = []
    for idea in TEMPLATES[stage]:
        kpis = []
        for kpi in idea.kpis:
            metric, note = pick_metric(kpi, available)
            suggestion, target = None, None
            taken = goals_on(book, metric, start, deadline) if metric is not None else []
            if taken:  # never a second goal on a metric already targeted: keep or revise it
                ids = ", ".join(g.id for g in taken)
                note = "; ".join(n for n in (note, (
                    f"already targeted by goal {ids}; skipped (to change its target: "
                    f"northstar goals revise {taken[0].id} --target ...)")) if n)  # fmt: skip
                kpis.append(TemplateKpi(metric, kpi.why, note, None, None, taken[0].id))
                continue
            if metric is not None:
                try:
                    suggestion = suggest(ctx, metric, deadline=deadline, start=start, grain=grain)
                except NorthstarError as exc:
                    note = "; ".join(n for n in (note, f"no suggested target: {exc}") if n)
                else:
                    value = suggestion.targets[1].value
                    kind = (TargetKind.at_least if ctx.registry.get(metric).direction
                            is Direction.higher else TargetKind.at_most)  # fmt: skip
                    target = Target(kind=kind, value=round(value, 6))
            kpis.append(TemplateKpi(metric, kpi.why, note, suggestion, target))
        objectives.append(TemplateObjective(idea.name, idea.perspective, idea.description,
                                            tuple(kpis)))  # fmt: skip
    proposal = Template(stage, start, deadline, grain, tuple(objectives))
    if not apply:
        return proposal
    written = []
    frame = TimeFrame(start=start, end=deadline)
    for obj in objectives:
        book = ctx.load()
        existing = next((o for o in book.objectives if o.name == obj.name), None)
        oid = existing.id if existing else add_objective(
            ctx, obj.name, perspective=obj.perspective, description=obj.description,
            time_frame=frame,
        ).id  # fmt: skip
        for item in obj.kpis:
            if item.metric is None or item.target is None:
                continue
            new = add_goal(ctx, GoalSpec(
                metric=item.metric, target=item.target, objectives=[oid], start=start,
                deadline=deadline, grain=grain, note=f"from the {stage.value} template: {item.why}",
            ), by=by)  # fmt: skip
            written.append(new.goal.id)
    return Template(stage, start, deadline, grain, tuple(objectives), tuple(written))


def plan_line(progress: GoalProgress) -> list[dict[str, Any]]:
    """The goal's plan per period, from the baseline period to the deadline's (the line a
    chart draws the forecast against)."""
    if progress.plan is None:
        return []
    start = progress.periods.baseline
    return [
        {"period": shift_periods(start, progress.goal.grain, k).isoformat(), "value": float(v)}
        for k, v in enumerate(progress.plan.values)
    ]


def _now() -> datetime:
    return clock.now().replace(microsecond=0)


def first_problem(exc: Exception) -> str:
    """The first problem of a validation error, as one line."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = str(first["msg"]).removeprefix("Value error, ")
        return f"{where}: {msg}" if where else msg
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
