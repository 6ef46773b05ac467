"""Edit and remove objectives and goals in ``goals.yaml``.

What a goal *measures and aims at* (target, deadline, baseline, segment) changes only by
a revision with a reason (:func:`northstar.goals.service.revise_goal`). Everything else
— an objective's name, perspective, owner, time frame and description; a goal's owner,
note, plan and the objectives it serves — is plain editing. A goal's metric, grain and
start never change: measuring something else is a new goal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from northstar.errors import GoalError
from northstar.goals.model import Goal, Objective, PlanKind, TimeFrame
from northstar.goals.service import (
    GoalContext,
    first_problem,
    get_goal,
    get_objective,
    parse_perspective,
)
from northstar.metrics.spec import Perspective

KEEP = object()  # an argument left as it is


def edit_objective(
    ctx: GoalContext,
    objective_id: str,
    *,
    name: str | None = None,
    perspective: Perspective | str | None = None,
    description: str | None = None,
    owner: str | None = None,
    time_frame: TimeFrame | object | None = KEEP,
) -> Objective:
    """Change an objective's fields; ``None`` keeps a field (:data:`KEEP` for the time
    frame, where ``None`` removes it). The id stays, so goals stay aligned."""
    with ctx.edit() as book:
        objective = get_objective(book, objective_id)
        values = objective.model_dump()
        if name is not None:
            values["name"] = name.strip()
        if perspective is not None:
            values["perspective"] = parse_perspective(perspective)
        if description is not None:
            values["description"] = description.strip()
        if owner is not None:
            values["owner"] = owner.strip()
        if time_frame is not KEEP:
            values["time_frame"] = time_frame
        try:
            edited = Objective.model_validate(values)
        except ValueError as exc:
            raise GoalError(f"objective '{objective_id}': {first_problem(exc)}") from None
        book.objectives[book.objectives.index(objective)] = edited
    return edited


@dataclass(frozen=True)
class RemovedObjective:
    objective: Objective
    unaligned: tuple[str, ...]  # goals that served it and now serve no objective


def remove_objective(ctx: GoalContext, objective_id: str) -> RemovedObjective:
    """Remove an objective; its goals stay, no longer aligned to it."""
    with ctx.edit() as book:
        objective = get_objective(book, objective_id)
        unaligned = []
        for i, goal in enumerate(book.goals):
            if objective_id in goal.objectives:
                rest = [o for o in goal.objectives if o != objective_id]
                book.goals[i] = goal.model_copy(update={"objectives": rest})
                if not rest:
                    unaligned.append(goal.id)
        book.objectives.remove(objective)
    return RemovedObjective(objective, tuple(unaligned))


def edit_goal(
    ctx: GoalContext,
    goal_id: str,
    *,
    owner: str | None = None,
    note: str | None = None,
    plan: PlanKind | str | None = None,
    objectives: Sequence[str] | None = None,
) -> Goal:
    """Change a goal's owner, note, plan or the objectives it serves (``None`` keeps)."""
    with ctx.edit() as book:
        goal = get_goal(book, goal_id)
        values = goal.model_dump()
        if owner is not None:
            values["owner"] = owner.strip()
        if note is not None:
            values["note"] = note.strip()
        if plan is not None:
            try:
                values["plan"] = PlanKind(str(plan).strip().lower())
            except ValueError:
                raise GoalError(f"unknown plan {plan!r}; use linear or seasonal") from None
        if objectives is not None:
            values["objectives"] = [get_objective(book, o).id for o in dict.fromkeys(objectives)]
        try:
            edited = Goal.model_validate(values)
        except ValueError as exc:
            raise GoalError(f"goal '{goal_id}': {first_problem(exc)}") from None
        book.goals[book.goals.index(goal)] = edited
    return edited


def remove_goal(ctx: GoalContext, goal_id: str) -> Goal:
    """Remove a goal (and its revision history) from ``goals.yaml``."""
    with ctx.edit() as book:
        goal = get_goal(book, goal_id)
        book.goals.remove(goal)
    return goal
