"""Objectives and goals as they are written in ``goals.yaml`` (Pydantic, strict).

An **objective** is a business aim in one balanced-scorecard perspective. A **goal** binds
one metric (optionally on a segment) to a :class:`~northstar.goals.targets.Target` with a
start, a deadline and the grain it is judged on; it serves one or more objectives and
keeps the history of its revisions.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from northstar.goals.targets import Target
from northstar.metrics.format import format_value
from northstar.metrics.periods import Grain
from northstar.metrics.spec import Perspective, Unit

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"

PERSPECTIVE_TITLES = {
    Perspective.financial: "Financial",
    Perspective.customer: "Customer",
    Perspective.internal_process: "Internal process",
    Perspective.learning_growth: "Learning & growth",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TimeFrame(_Model):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> TimeFrame:
        if self.end < self.start:
            raise ValueError(f"time frame ends ({self.end}) before it starts ({self.start})")
        return self

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


class Objective(_Model):
    """A business objective: what the KPIs aligned to it should move."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    description: str = ""
    owner: str = ""
    perspective: Perspective
    time_frame: TimeFrame | None = None


class PlanKind(StrEnum):
    """The path from baseline to target that "expected by now" is read from."""

    linear = "linear"
    seasonal = "seasonal"  # the straight line plus the metric's own seasonal shape


class TargetChange(_Model):
    old: Target
    new: Target


class DateChange(_Model):
    old: date
    new: date


class BaselineChange(_Model):
    old: float | None = None  # None: computed from data
    new: float | None = None


class SegmentChange(_Model):
    old: str | None = None  # None: every user
    new: str | None = None


class Revision(_Model):
    """A change of a goal's target, deadline, baseline or segment: who, when, why, old
    and new."""

    at: datetime
    by: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    target: TargetChange | None = None
    deadline: DateChange | None = None
    baseline: BaselineChange | None = None
    where: SegmentChange | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Revision:
        if (self.target, self.deadline, self.baseline, self.where) == (None,) * 4:
            raise ValueError(
                "a revision must change the target, the deadline, the baseline or the segment"
            )
        return self

    def describe(self, unit: Unit, currency: str) -> str:
        """What changed, for people: "target ≥ 40 → ≥ 50; deadline 2026-12-31 → …"."""
        parts = []
        if self.target is not None:
            parts.append(f"target {self.target.old.describe(unit, currency)} → "
                         f"{self.target.new.describe(unit, currency)}")  # fmt: skip
        if self.deadline is not None:
            parts.append(f"deadline {self.deadline.old} → {self.deadline.new}")
        if self.baseline is not None:
            old, new = (
                "from data" if v is None else format_value(v, unit, currency)
                for v in (self.baseline.old, self.baseline.new)
            )
            parts.append(f"baseline {old} → {new}")
        if self.where is not None:
            parts.append(f"segment {self.where.old or 'all'} → {self.where.new or 'all'}")
        return "; ".join(parts)


class Goal(_Model):
    """A SMART target on one metric."""

    id: str = Field(pattern=ID_PATTERN)
    metric: str = Field(min_length=1)
    where: str | None = None  # segment filter, the syntax of ``northstar query --where``
    objectives: list[str] = Field(default_factory=list)
    target: Target
    baseline: float | None = None  # null: the metric's value in the period before start
    start: date
    deadline: date
    grain: Grain = Grain.month
    plan: PlanKind = PlanKind.linear
    owner: str = ""
    note: str = ""
    created_at: datetime | None = None
    created_by: str | None = None
    revisions: list[Revision] = Field(default_factory=list)

    @field_validator("where")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value if value and value.strip() else None

    @model_validator(mode="after")
    def _dates(self) -> Goal:
        if self.deadline <= self.start:
            raise ValueError(f"deadline {self.deadline} is not after start {self.start}")
        return self

    @property
    def segment(self) -> str:
        return self.where or "all"


class GoalBook(_Model):
    """Everything in ``goals.yaml``."""

    version: int = 1
    objectives: list[Objective] = Field(default_factory=list)
    goals: list[Goal] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> GoalBook:
        _unique("objective", [o.id for o in self.objectives])
        _unique("goal", [g.id for g in self.goals])
        known = {o.id for o in self.objectives}
        for goal in self.goals:
            for ref in goal.objectives:
                if ref not in known:
                    raise ValueError(f"goal '{goal.id}' names unknown objective '{ref}'")
        return self

    def objective(self, objective_id: str) -> Objective | None:
        return next((o for o in self.objectives if o.id == objective_id), None)

    def goal(self, goal_id: str) -> Goal | None:
        return next((g for g in self.goals if g.id == goal_id), None)

    def goals_of(self, objective_id: str) -> list[Goal]:
        return [g for g in self.goals if objective_id in g.objectives]


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"two {what}s have the id '{i}'")
        seen.add(i)


def slugify(text: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """An id from a name: lower case, dashes; ``-2``, ``-3`` ... when taken."""
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:56] or "item"
    if not base[0].isalnum():
        base = "x" + base
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate
