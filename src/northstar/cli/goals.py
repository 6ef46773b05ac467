"""``northstar objectives ...`` and ``northstar goals ...``: thin adapters over the goal
methods of :class:`northstar.Workspace`."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from northstar.cli.options import AsOfOpt, WorkspaceOpt, as_of_day
from northstar.errors import GoalError
from northstar.goals.fields import GOAL_FIELD_HELP

objectives_app = typer.Typer(help="Business objectives the KPIs serve (balanced scorecard).")
goals_app = typer.Typer(help="SMART targets on metrics: add, track, revise, suggest.")

PERSPECTIVE_HELP = "financial | customer | internal_process | learning_growth"
DateOpt = Annotated[str | None, typer.Option(help="YYYY-MM-DD.")]
_day = as_of_day


@objectives_app.command("add")
def objectives_add(
    name: Annotated[str, typer.Argument(help="What the business wants, e.g. 'Grow revenue'.")],
    perspective: Annotated[str, typer.Option(help=PERSPECTIVE_HELP)],
    workspace: WorkspaceOpt = None,
    objective_id: Annotated[
        str | None, typer.Option("--id", help="Id (default: from name).")
    ] = None,
    description: Annotated[str, typer.Option(help="One or two sentences.")] = "",
    owner: Annotated[str, typer.Option(help="Who answers for it.")] = "",
    time_frame: Annotated[
        str | None, typer.Option(help="2026, 2026-Q3, 2026-H2, 2026-07 or A..B dates.")
    ] = None,
) -> None:
    """Add a business objective to goals.yaml."""
    from northstar.cli import render_goals as show
    from northstar.workspace import Workspace

    ws = Workspace(workspace)
    objective = ws.add_objective(
        name, perspective=perspective,
        objective_id=objective_id, description=description, owner=owner, time_frame=time_frame,
    )  # fmt: skip
    show.console.print(f"Added objective [bold]{objective.id}[/]: {objective.name}")


@objectives_app.command("list")
def objectives_list(workspace: WorkspaceOpt = None) -> None:
    """Every objective with its perspective, owner, time frame and number of KPIs."""
    from northstar.cli import render_goals as show
    from northstar.workspace import Workspace

    ws = Workspace(workspace)
    show.objective_list(ws.goal_book(), ws.settings.goals.max_kpis_per_objective)


@objectives_app.command("show")
def objectives_show(
    objective_id: Annotated[str, typer.Argument(help="Objective id.")],
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """An objective and the status of its KPIs."""
    from northstar.cli import render_goals as show
    from northstar.workspace import Workspace

    ws = Workspace(workspace)
    card = ws.objective_status(objective_id, today=_day(as_of))
    show.objective_detail(card.objective, card.goals, ws.settings.currency)
    show.warnings(card.warnings)


@objectives_app.command("edit")
def objectives_edit(
    objective_id: Annotated[str, typer.Argument(help="Objective id (it does not change).")],
    workspace: WorkspaceOpt = None,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    perspective: Annotated[str | None, typer.Option(help=PERSPECTIVE_HELP)] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    owner: Annotated[str | None, typer.Option(help="New owner.")] = None,
    time_frame: Annotated[
        str | None, typer.Option(help="New time frame like 2026-H2; '' removes it.")
    ] = None,
) -> None:
    """Change an objective's name, perspective, description, owner or time frame."""
    from northstar.cli import render_goals as show
    from northstar.workspace import Workspace

    ws = Workspace(workspace)
    objective = ws.edit_objective(
        objective_id, name=name, perspective=perspective, description=description,
        owner=owner, time_frame=time_frame,
    )  # fmt: skip
    show.console.print(f"Edited objective [bold]{objective.id}[/]: {objective.name}")


@objectives_app.command("remove")
def objectives_remove(
    objective_id: Annotated[str, typer.Argument(help="Objective id.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Remove an objective; its goals stay, no longer aligned to it."""
    from northstar.cli import render_goals as show
    from northstar.workspace import Workspace

    removed = Workspace(workspace).remove_objective(objective_id)
    show.console.print(f"Removed objective [bold]{removed.objective.id}[/]")
    if removed.unaligned:
        show.warnings([f"now aligned to no objective: {', '.join(removed.unaligned)}"])


def _about(field: str, more: str = ".") -> str:
    """A goal option's help: the description GoalSpec declares too (one declaration)."""
    return GOAL_FIELD_HELP[field] + more


@goals_app.command("add")
def goals_add(
    metric: Annotated[str, typer.Argument(help="Metric id (northstar metrics list).")],
    target: Annotated[
        str,
        typer.Option(help="'>= 3000', '<= 150', '3.7..4.2', '2.5%', '+10%' (change), or N."),
    ],
    workspace: WorkspaceOpt = None,
    objective: Annotated[
        list[str] | None, typer.Option(help=_about("objectives", " (repeatable)."))
    ] = None,
    start: DateOpt = None,
    deadline: DateOpt = None,
    grain: Annotated[str, typer.Option(help=_about("grain"))] = "month",
    where: Annotated[str | None, typer.Option(help=_about("where"))] = None,
    baseline: Annotated[float | None, typer.Option(help=_about("baseline"))] = None,
    plan: Annotated[str, typer.Option(help=_about("plan"))] = "linear",
    owner: Annotated[str, typer.Option(help=_about("owner"))] = "",
    note: Annotated[str, typer.Option(help=_about("note"))] = "",
    goal_id: Annotated[str | None, typer.Option("--id", help=_about("goal_id"))] = None,
    by: Annotated[str | None, typer.Option(help="Author (default: $NORTHSTAR_USER).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Only show the SMART check.")] = False,
    as_of: AsOfOpt = None,
) -> None:
    """Add a goal and show its SMART check (start/deadline default to the objective's)."""
    from northstar.cli import render_goals as show
    from northstar.goals.service import GoalSpec
    from northstar.workspace import Workspace

    ws = Workspace(workspace)
    spec = GoalSpec.make(
        metric=metric, target=target, objectives=objective or [], start=start,
        deadline=deadline, grain=grain, where=where, baseline=baseline, plan=plan,
        owner=owner, note=note, goal_id=goal_id,
    )  # fmt: skip
    result = ws.add_goal(spec, by=by, save=not dry_run, today=_day(as_of))
    show.new_goal(result, ws.registry().get(result.goal.metric), ws.settings.currency)


@goals_app.command("list")
def goals_list(workspace: WorkspaceOpt = None) -> None:
    """Every goal as written in goals.yaml (statuses: northstar scorecard)."""
    from northstar.cli import render_goals as show
    from northstar.workspace import Workspace

    ws = Workspace(workspace)
    show.goal_list(ws.goal_book(), ws.registry().metrics, ws.settings.currency)


@goals_app.command("show")
def goals_show(
    goal_id: Annotated[str, typer.Argument(help="Goal id.")],
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table|json")] = "table",
) -> None:
    """Progress, plan, run-rates, forecast, status, SMART check and revision history."""
    from northstar.cli import render_goals as show
    from northstar.workspace import Workspace

    if fmt not in ("table", "json"):
        raise GoalError(f"unknown format {fmt!r}; use table or json")
    ws = Workspace(workspace)
    today = _day(as_of)
    if fmt == "json":
        doc = ws.goal_detail(goal_id, today=today)
        sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
        return
    progress = ws.track_goal(goal_id, today=today)
    check = (
        ws.check_goal(goal_id, today=today) if progress.spec.id in ws.registry().metrics else None
    )
    show.goal_detail(progress, check, ws.settings.currency)


@goals_app.command("revise")
def goals_revise(
    goal_id: Annotated[str, typer.Argument(help="Goal id.")],
    reason: Annotated[str, typer.Option(help="Why it changes (kept in the history).")],
    workspace: WorkspaceOpt = None,
    target: Annotated[str | None, typer.Option(help="New target, same syntax as add.")] = None,
    deadline: DateOpt = None,
    baseline: Annotated[float | None, typer.Option(help="New baseline override.")] = None,
    computed_baseline: Annotated[
        bool, typer.Option(help="Drop the override: compute the baseline from data.")
    ] = False,
    where: Annotated[
        str | None, typer.Option(help="New segment, e.g. \"plan = 'pro'\"; '' for all users.")
    ] = None,
    by: Annotated[str | None, typer.Option(help="Author (default: $NORTHSTAR_USER).")] = None,
) -> None:
    """Change a goal's target, deadline, baseline or segment; who, when, old, new and why
    are kept."""
    from northstar.cli import render_goals as show
    from northstar.workspace import Workspace

    ws = Workspace(workspace)
    goal = ws.revise_goal(
        goal_id, reason=reason, target=target, deadline=deadline, baseline=baseline,
        clear_baseline=computed_baseline, where=where, by=by,
    )  # fmt: skip
    spec = ws.registry().get(goal.metric)
    show.console.print(f"Revised goal [bold]{goal.id}[/]")
    show.revisions(goal, spec.unit, ws.settings.currency)


@goals_app.command("edit")
def goals_edit(
    goal_id: Annotated[str, typer.Argument(help="Goal id.")],
    workspace: WorkspaceOpt = None,
    owner: Annotated[str | None, typer.Option(help="New owner.")] = None,
    note: Annotated[str | None, typer.Option(help="New note.")] = None,
    plan: Annotated[str | None, typer.Option(help="linear|seasonal")] = None,
    objective: Annotated[
        list[str] | None,
        typer.Option(help="The objectives it serves, replacing the old ones (repeatable)."),
    ] = None,
    no_objective: Annotated[bool, typer.Option(help="Align it to no objective.")] = False,
) -> None:
    """Change a goal's owner, note, plan or objectives (targets change by 'revise')."""
    from northstar.cli import render_goals as show
    from northstar.workspace import Workspace

    ws = Workspace(workspace)
    objectives = [] if no_objective else objective
    goal = ws.edit_goal(goal_id, owner=owner, note=note, plan=plan, objectives=objectives)
    show.console.print(f"Edited goal [bold]{goal.id}[/]")


@goals_app.command("remove")
def goals_remove(
    goal_id: Annotated[str, typer.Argument(help="Goal id.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Remove a goal and its revision history from goals.yaml."""
    from northstar.cli import render_goals as show
    from northstar.workspace import Workspace

    goal = Workspace(workspace).remove_goal(goal_id)
    show.console.print(f"Removed goal [bold]{goal.id}[/]")


@goals_app.command("suggest")
def goals_suggest(
    metric: Annotated[str, typer.Argument(help="Metric id.")],
    deadline: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    workspace: WorkspaceOpt = None,
    start: DateOpt = None,
    grain: Annotated[str, typer.Option(help="day|week|month|quarter|year")] = "month",
    where: Annotated[str | None, typer.Option(help="Segment filter.")] = None,
    as_of: AsOfOpt = None,
) -> None:
    """Targets from the 50th/75th/90th percentile of the metric's past improvements."""
    from northstar.cli import render_goals as show
    from northstar.workspace import Workspace

    ws = Workspace(workspace)
    result = ws.suggest_targets(
        metric, deadline=deadline, start=start, grain=grain, where=where, today=_day(as_of)
    )
    show.suggestion(result, ws.registry().get(metric), ws.settings.currency, grain)


@goals_app.command("template")
def goals_template(
    stage: Annotated[str, typer.Argument(help="early | growth | mature")],
    workspace: WorkspaceOpt = None,
    start: DateOpt = None,
    deadline: DateOpt = None,
    grain: Annotated[str, typer.Option(help="day|week|month|quarter|year")] = "month",
    apply: Annotated[bool, typer.Option(help="Write the objectives and goals.")] = False,
    by: Annotated[str | None, typer.Option(help="Author (default: $NORTHSTAR_USER).")] = None,
    as_of: AsOfOpt = None,
) -> None:
    """A starter set of objectives and KPIs for the product's stage, targets from history."""
    from northstar.cli import render_goals as show
    from northstar.workspace import Workspace

    ws = Workspace(workspace)
    result = ws.goal_template(
        stage, start=start, deadline=deadline, grain=grain, apply=apply, by=by,
        today=_day(as_of),
    )  # fmt: skip
    show.template(result, ws.registry().metrics, ws.settings.currency)


SCORECARD_FORMATS = ("table", "json", "markdown")


def scorecard(
    workspace: WorkspaceOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table|json|markdown")] = "table",
    as_of: AsOfOpt = None,
) -> None:
    """The balanced scorecard: objectives by perspective, each KPI's target, progress,
    status and P(hit). Without goals: headline KPIs, the data tables and incidents."""
    from northstar.cli import render
    from northstar.cli import render_goals as show
    from northstar.errors import QueryArgumentError
    from northstar.goals.scorecard import to_dict, to_markdown
    from northstar.workspace import Workspace

    if fmt not in SCORECARD_FORMATS:
        raise QueryArgumentError(f"unknown format {fmt!r}; use table, json or markdown")
    ws = Workspace(workspace)
    with render.err_console.status("evaluating goals…"):
        card = ws.scorecard(today=_day(as_of))
    if fmt == "json":
        print(json.dumps(to_dict(card), indent=2, ensure_ascii=False))
        return
    if fmt == "markdown":
        print(to_markdown(card), end="")
        return
    if card.empty:
        with render.err_console.status("computing KPIs…"):
            kpis = ws.headline_kpis()
        render.headline(kpis, ws.settings.currency)
        render.tables(ws.tables())
        render.incidents(ws.incidents())
        show.console.print(
            "No goals yet. Start from a template: northstar goals template early|growth|mature",
            style="dim",
        )
        return
    show.scorecard(card)
    render.incidents(ws.incidents())


def register(app: typer.Typer) -> None:
    """Add ``objectives``, ``goals`` and ``scorecard`` to the root app."""
    app.add_typer(objectives_app, name="objectives")
    app.add_typer(goals_app, name="goals")
    app.command("scorecard")(scorecard)
