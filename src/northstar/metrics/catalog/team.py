"""Team metrics (perspective: internal process; team satisfaction: learning & growth).

Sprints belong to the period in which they end; work items to the period in which they
are created or resolved; the bug backlog is a stock read at the end of each day.
Every metric can be broken down by ``team`` (a column of sprints and work items, a
property of team survey answers).
"""

from __future__ import annotations

from functools import partial

import ibis
import ibis.expr.types as ir

from northstar.metrics.catalog import satisfaction
from northstar.metrics.catalog._build import builtin
from northstar.metrics.context import Context
from northstar.metrics.spec import Category, Direction, Perspective, Rollup, Unit

_metric = partial(builtin, category=Category.team, perspective=Perspective.internal_process)
TRAILING_SPRINTS = 3


# -- Sprints ---------------------------------------------------------------------------
def sprint_velocity(ctx: Context) -> ir.Table:
    s = ctx.rows("sprints", "ended_at")
    return ctx.by_period(s, s.completed_points.mean())


def sprint_velocity_3(ctx: Context) -> ir.Table:
    # The trailing sprints may have ended before the window: read every sprint up to its end.
    s = ctx.segment(ctx.before_end(ctx.table("sprints"), "ended_at"), "sprints")
    per_team = list(dict.fromkeys([*ctx.keys, "team"]))
    order = [s.ended_at, s.sprint_id]
    trailing = ibis.window(
        group_by=per_team, order_by=order, preceding=TRAILING_SPRINTS - 1, following=0
    )
    s = s.mutate(trailing=s.completed_points.mean().over(trailing))
    s = ctx.in_window(s, "ended_at")
    s = s.mutate(period=ctx.period(ctx.local_date(s.ended_at)))
    latest = ibis.window(
        group_by=["period", *per_team], order_by=[ibis.desc(s.ended_at), ibis.desc(s.sprint_id)]
    )
    s = s.mutate(rank=ibis.row_number().over(latest))
    last = s.filter(s.rank == 0)
    return last.group_by(["period", *ctx.keys]).aggregate(value=last.trailing.mean())


def sprint_commitment(ctx: Context) -> ir.Table:
    s = ctx.rows("sprints", "ended_at")
    return ctx.by_period(s, s.completed_points.sum() / s.committed_points.sum().nullif(0))


# -- Work items ------------------------------------------------------------------------
def _bugs(ctx: Context, time_column: str) -> ir.Table:
    rows = ctx.rows("work_items", time_column)
    return rows.filter(rows.kind == "bug")


def bug_inflow(ctx: Context) -> ir.Table:
    b = _bugs(ctx, "created_at")
    return ctx.by_period(b, b.item_id.count())


def bug_outflow(ctx: Context) -> ir.Table:
    b = _bugs(ctx, "resolved_at")
    return ctx.by_period(b, b.item_id.count())


def bug_backlog(ctx: Context) -> ir.Table:
    """Open bugs at the end of each day (the engine keeps each period's last day)."""
    keys = ctx.keys
    items = ctx.table("work_items")
    bugs = ctx.before_end(items.filter(items.kind == "bug"), "created_at")
    bugs = ctx.segment(bugs, "work_items")
    # +1 on the day a bug opens, −1 on the day it is resolved; the running sum is the
    # backlog. Days before the window collapse onto its first day, which then carries
    # the whole history.
    first = ibis.literal(ctx.window.start, type="date")
    opened = bugs.select(
        *keys, day=ibis.greatest(ctx.local_date(bugs.created_at), first), delta=ibis.literal(1)
    )
    done = ctx.before_end(bugs, "resolved_at")
    closed = done.select(
        *keys, day=ibis.greatest(ctx.local_date(done.resolved_at), first), delta=ibis.literal(-1)
    )
    deltas = opened.union(closed).group_by([*keys, "day"]).aggregate(delta=ibis._.delta.sum())
    calendar = ctx.calendar()
    if keys:
        calendar = calendar.cross_join(deltas.select(*keys).distinct())
    grid = calendar.left_join(deltas, [*keys, "day"]).select(
        *keys, day=calendar.day, delta=ibis.coalesce(deltas.delta, 0)
    )
    running = ibis.window(group_by=keys or None, order_by="day", preceding=None, following=0)
    out = ctx.sampled(grid.mutate(value=grid.delta.sum().over(running)), "day")
    return out.select(*keys, period=out.day, value=out.value)


def cycle_time(ctx: Context) -> ir.Table:
    w = ctx.rows("work_items", "resolved_at")
    w = w.filter(w.started_at.notnull())
    seconds = w.resolved_at.delta(w.started_at, unit="microsecond") / 1e6
    return ctx.by_period(w, seconds.median())


# -- Team survey -----------------------------------------------------------------------
def team_satisfaction(ctx: Context) -> ir.Table:
    r = ctx.rows("survey_responses", "responded_at")
    r = r.filter(r.survey == "team")
    return ctx.by_period(r, r.score.mean())


def team_enps_counts(ctx: Context) -> ir.Table:
    """Team survey answers on a 0-10 scale: ``n``, ``promoters``, ``detractors``."""
    r = ctx.rows("survey_responses", "responded_at")
    r = r.filter(r.survey == "team", r.scale_min == 0, r.scale_max == 10)
    return satisfaction.promoter_counts(ctx, r)


def team_enps(ctx: Context) -> ir.Table:
    c = team_enps_counts(ctx)
    return c.select("period", *ctx.keys, value=100.0 * (c.promoters - c.detractors) / c.n)


def team_enps_responses(ctx: Context) -> ir.Table:
    c = team_enps_counts(ctx)
    return c.select("period", *ctx.keys, value=c.n)


_ENPS_ANSWERS = (
    "Team survey answers (survey = 'team') in the period on a 0-10 scale (scale_min 0, "
    "scale_max 10): promoters score 9-10, detractors 0-6, passives 7-8, as for NPS. "
    "Answers on any other scale (e.g. a 1-5 satisfaction question) are left out: the "
    "9-10 / 0-6 cut-offs only mean something on 0-10, so a period without 0-10 answers "
    "has no eNPS (team_satisfaction averages every scale)."
)
_SPRINTS = "Sprints count in the period in which they end (ended_at)."

METRICS = [
    _metric(
        "sprint_velocity", "Sprint velocity",
        "Completed story points per sprint: the mean over the sprints that ended in the "
        "period (over every team's sprints unless broken down by team). " + _SPRINTS,
        "mean of completed_points over sprints ended in the period",
        unit=Unit.points, direction=Direction.higher, fn=sprint_velocity,
        sources=("sprints",), empty=None,
    ),
    _metric(
        "sprint_velocity_3", "Sprint velocity, trailing 3 sprints",
        "For each team, the mean completed points of its last 3 sprints, taken at its last "
        "sprint that ended in the period (earlier sprints may predate the period); across "
        "teams (no team breakdown), the mean of the teams' values. " + _SPRINTS,
        "per team: mean of completed_points of the 3 sprints ending with the period's last "
        "sprint; then the mean over teams with a sprint ended in the period",
        unit=Unit.points, direction=Direction.higher, fn=sprint_velocity_3,
        sources=("sprints",), empty=None,
    ),
    _metric(
        "sprint_commitment", "Sprint commitment",
        "Share of committed story points that were completed, over the sprints that ended "
        "in the period. " + _SPRINTS,
        "sum of completed_points / sum of committed_points over sprints ended in the period",
        unit=Unit.rate, direction=Direction.higher, fn=sprint_commitment,
        sources=("sprints",), empty=None,
    ),
    _metric(
        "bug_backlog", "Bug backlog",
        "Open bugs (work_items of kind bug) at the end of the period: created on or before "
        "its last day and not resolved by the end of that day.",
        "count of bugs with created_at before the end of the period's last day and "
        "resolved_at empty or after it",
        unit=Unit.count, direction=Direction.lower, fn=bug_backlog, sources=("work_items",),
        rollup=Rollup.end,
    ),
    _metric(
        "bug_inflow", "Bug inflow",
        "Bugs (work_items of kind bug) created in the period.",
        "count of bugs with created_at in the period",
        unit=Unit.count, direction=Direction.lower, fn=bug_inflow, sources=("work_items",),
    ),
    _metric(
        "bug_outflow", "Bug outflow",
        "Bugs (work_items of kind bug) resolved in the period.",
        "count of bugs with resolved_at in the period",
        unit=Unit.count, direction=Direction.higher, fn=bug_outflow, sources=("work_items",),
    ),
    _metric(
        "cycle_time", "Cycle time",
        "Median time from start to resolution of the work items (bugs, stories, tasks) "
        "resolved in the period; items never started (no started_at) are left out.",
        "median of resolved_at − started_at, in seconds, over items resolved in the period",
        unit=Unit.seconds, direction=Direction.lower, fn=cycle_time, sources=("work_items",),
        empty=None,
    ),
    _metric(
        "team_satisfaction", "Team satisfaction",
        "Mean score of the team survey answers (survey = 'team') in the period, on the "
        "survey's scale (1-5 in the demo). Break down by team when answers carry a team "
        "property.",
        "mean of score over survey = 'team' answers in the period",
        unit=Unit.score, direction=Direction.higher, fn=team_satisfaction,
        sources=("survey_responses",), empty=None, perspective=Perspective.learning_growth,
        notes="The catalog's alternative, an eNPS, is team_enps.",
    ),
    _metric(
        "team_enps", "Employee Net Promoter Score (eNPS)",
        "% promoters − % detractors among the period's team survey answers on a 0-10 "
        "scale, from −100 to 100. " + _ENPS_ANSWERS,
        "100 × (promoters − detractors) / team answers on a 0-10 scale",
        unit=Unit.score, direction=Direction.higher, fn=team_enps,
        sources=("survey_responses",), empty=None, perspective=Perspective.learning_growth,
        notes="Few people answer a team survey: read team_enps_responses before trusting "
        "a change.",
    ),
    _metric(
        "team_enps_responses", "eNPS responses",
        "Number of team survey answers on a 0-10 scale in the period (the n behind "
        "team_enps). " + _ENPS_ANSWERS,
        "count of survey = 'team' answers with scale_min 0 and scale_max 10",
        unit=Unit.count, direction=Direction.higher, fn=team_enps_responses,
        sources=("survey_responses",), perspective=Perspective.learning_growth,
    ),
]  # fmt: skip
