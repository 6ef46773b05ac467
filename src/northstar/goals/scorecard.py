"""The balanced scorecard: perspectives → objectives → KPIs with target, progress, status.

Built from evaluated goals (:mod:`northstar.goals.tracking`); rendered here as plain data
(JSON) and Markdown so that reports can reuse them, and as a Rich table by the CLI.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from northstar.goals.model import PERSPECTIVE_TITLES, GoalBook, Objective
from northstar.goals.smart import SmartCheck
from northstar.goals.tracking import GoalProgress, Status
from northstar.metrics.format import format_value
from northstar.metrics.periods import shift_periods
from northstar.metrics.spec import Perspective, Unit
from northstar.present.text import sparkline
from northstar.store.freshness import AsOf, freshness_fields

SPARK_PERIODS = 12
STATUS_ORDER = (Status.achieved, Status.on_track, Status.at_risk, Status.off_track,
                Status.missed, Status.no_data)  # fmt: skip


@dataclass(frozen=True)
class ObjectiveCard:
    objective: Objective
    goals: tuple[GoalProgress, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class PerspectiveCard:
    perspective: Perspective
    objectives: tuple[ObjectiveCard, ...]

    @property
    def title(self) -> str:
        return PERSPECTIVE_TITLES[self.perspective]


@dataclass(frozen=True)
class Scorecard:
    product: str
    as_of: date
    currency: str
    perspectives: tuple[PerspectiveCard, ...]
    unaligned: tuple[GoalProgress, ...]  # goals that serve no objective
    warnings: tuple[str, ...]
    freshness: AsOf | None = None  # how fresh the data behind it is

    def goals(self) -> list[GoalProgress]:
        """Every evaluated goal once."""
        seen: dict[str, GoalProgress] = {}
        for p in self.perspectives:
            for o in p.objectives:
                for g in o.goals:
                    seen.setdefault(g.goal.id, g)
        for g in self.unaligned:
            seen.setdefault(g.goal.id, g)
        return list(seen.values())

    def status_counts(self) -> dict[str, int]:
        counts = Counter(g.status for g in self.goals())
        return {s.value: counts[s] for s in STATUS_ORDER if counts[s]}

    @property
    def empty(self) -> bool:
        return not self.goals() and not any(p.objectives for p in self.perspectives)


def focus_warning(objective_id: str, kpis: int, limit: int) -> str:
    """The warning for an objective that carries more than ``limit`` KPIs."""
    return (
        f"objective '{objective_id}' has {kpis} KPIs; more than {limit} dilutes focus "
        "(goals.max_kpis_per_objective)"
    )


def build_scorecard(
    book: GoalBook,
    progress: dict[str, GoalProgress],
    *,
    product: str,
    as_of: date,
    currency: str,
    max_kpis: int,
    freshness: AsOf | None = None,
) -> Scorecard:
    """Group evaluated goals by perspective and objective, with focus warnings."""
    warnings: list[str] = []
    cards = []
    for perspective in Perspective:
        objectives = []
        for objective in (o for o in book.objectives if o.perspective is perspective):
            goals = tuple(progress[g.id] for g in book.goals_of(objective.id) if g.id in progress)
            notes = []
            if len(goals) > max_kpis:
                notes.append(focus_warning(objective.id, len(goals), max_kpis))
            if not goals:
                notes.append(f"objective '{objective.id}' has no KPI yet")
            warnings += notes
            objectives.append(ObjectiveCard(objective, goals, tuple(notes)))
        if book.objectives and not objectives:
            warnings.append(
                f"no objective in the {PERSPECTIVE_TITLES[perspective]} perspective "
                "(a balanced scorecard covers all four)"
            )
        cards.append(PerspectiveCard(perspective, tuple(objectives)))
    unaligned = tuple(progress[g.id] for g in book.goals if not g.objectives and g.id in progress)
    if unaligned:
        warnings.append(
            f"{len(unaligned)} goal(s) serve no objective: "
            + ", ".join(g.goal.id for g in unaligned)
        )
    return Scorecard(product, as_of, currency, tuple(cards), unaligned, tuple(warnings), freshness)


def compact_value(value: float | None, unit: Unit, currency: str = "USD") -> str:
    """Like ``format_value`` but without cents or decimals on large numbers (tables)."""
    if value is None or not math.isfinite(value):
        return "–"
    if abs(value) >= 1000 and unit in (Unit.currency, Unit.count, Unit.number, Unit.points):
        text = format_value(round(value), unit, currency)
        return text.removesuffix(".00") if unit is Unit.currency else text
    return format_value(value, unit, currency)


def compact_target(p: GoalProgress, currency: str) -> str:
    """The resolved target in a few characters: ``≥ $39,273``, ``≤ 2.5 %``, ``3.70–4.20``."""
    unit = p.spec.unit
    if p.bounds is None:
        return p.goal.target.describe(unit, currency)
    if p.bounds.sense > 0:
        return f"≥ {compact_value(p.bounds.low, unit, currency)}"
    if p.bounds.sense < 0:
        return f"≤ {compact_value(p.bounds.high, unit, currency)}"
    low, high = (compact_value(v, unit, currency) for v in (p.bounds.low, p.bounds.high))
    return f"{low}–{high}"


def _num(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return float(value)


def kpi_row(p: GoalProgress, currency: str) -> dict[str, Any]:
    """One KPI line as plain data (the JSON contract of the scorecard)."""
    unit = p.spec.unit
    fmt = lambda v: format_value(v, unit, currency)  # noqa: E731
    recent = p.history.iloc[-SPARK_PERIODS:]
    fc = p.forecast
    return {
        "goal": p.goal.id,
        "metric": p.spec.id,
        "title": p.spec.title,
        "segment": p.goal.where,
        "unit": unit.value,
        "direction": p.spec.direction.value,
        "grain": p.goal.grain.value,
        "current": _num(p.current),
        "current_text": fmt(p.current),
        "current_period": p.current_period.isoformat() if p.current_period else None,
        "baseline": _num(p.baseline),
        "baseline_text": fmt(p.baseline),
        "target": p.goal.target.model_dump(mode="json", exclude_none=True),
        "target_text": p.goal.target.describe(unit, currency, p.baseline),
        "start": p.goal.start.isoformat(),
        "deadline": p.goal.deadline.isoformat(),
        "progress": _num(p.progress),
        "expected": _num(p.expected),
        "expected_text": fmt(p.expected),
        "plan": "seasonal" if p.plan is not None and p.plan.seasonal else "linear",
        "plan_status": p.plan_status.value if p.plan_status else None,
        "required_rate": _num(p.required_rate),
        "current_rate": _num(p.current_rate),
        "status": p.status.value,
        "reason": p.reason,
        "p_hit": _num(p.p_hit),
        "forecast": None
        if fc is None
        else {"model": fc.model, "p10": fc.p10, "p50": fc.p50, "p90": fc.p90},
        "history": [{"period": str(d), "value": _num(v)} for d, v in recent.items()],
        "sparkline": sparkline(list(recent.to_numpy(dtype="float64"))),
        "revisions": len(p.goal.revisions),
    }


def to_dict(card: Scorecard) -> dict[str, Any]:
    """The whole scorecard as plain data (``northstar scorecard --format json``)."""
    return {
        **freshness_fields(card.freshness),
        "product": card.product,
        "as_of": card.as_of.isoformat(),
        "statuses": card.status_counts(),
        "perspectives": [
            {
                "perspective": p.perspective.value,
                "title": p.title,
                "objectives": [
                    {
                        "id": o.objective.id,
                        "name": o.objective.name,
                        "owner": o.objective.owner,
                        "time_frame": str(o.objective.time_frame or ""),
                        "warnings": list(o.warnings),
                        "kpis": [kpi_row(g, card.currency) for g in o.goals],
                    }
                    for o in p.objectives
                ],
            }
            for p in card.perspectives
        ],
        "unaligned": [kpi_row(g, card.currency) for g in card.unaligned],
        "warnings": list(card.warnings),
    }


def progress_text(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value * 100:.0f} %"


def p_hit_text(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value * 100:.0f} %"


def as_of_line(card: Scorecard) -> str:
    """'As of 2026-11-01 · data through 2026-10-31 · last event 37 days ago'."""
    if card.freshness is None:
        return f"As of {card.as_of}"
    text = card.freshness.describe()
    return text[0].upper() + text[1:]


def to_markdown(card: Scorecard) -> str:
    """The scorecard as Markdown (for reports, wikis, pull requests)."""
    lines = [f"# {card.product} — balanced scorecard", "", f"{as_of_line(card)}."]
    counts = card.status_counts()
    if counts:
        lines += ["", " · ".join(f"{n} {s}" for s, n in counts.items())]
    header = ("| KPI | current | target | deadline | progress | status | P(hit) | trend |\n"
              "| --- | ---: | --- | --- | ---: | --- | ---: | --- |")  # fmt: skip
    for p in card.perspectives:
        if not p.objectives:
            continue
        lines += ["", f"## {p.title}"]
        for o in p.objectives:
            owner = f" — {o.objective.owner}" if o.objective.owner else ""
            lines += ["", f"### {o.objective.name}{owner}"]
            if o.objective.description:
                lines += ["", o.objective.description]
            for w in o.warnings:
                lines += ["", f"> ⚠ {w}"]
            if o.goals:
                lines += ["", header] + [_md_row(g, card.currency) for g in o.goals]
    if card.unaligned:
        lines += ["", "## Not aligned to an objective", "", header]
        lines += [_md_row(g, card.currency) for g in card.unaligned]
    if card.warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in card.warnings]
    return "\n".join(lines) + "\n"


def _md_row(p: GoalProgress, currency: str) -> str:
    row = kpi_row(p, currency)
    title = row["title"] + (f" ({row['segment']})" if row["segment"] else "")
    cells = [
        title.replace("|", "\\|"), row["current_text"], row["target_text"], row["deadline"],
        progress_text(row["progress"]), row["status"], p_hit_text(row["p_hit"]),
        row["sparkline"],
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def goal_detail_dict(
    p: GoalProgress, check: SmartCheck | None, currency: str, freshness: AsOf | None = None
) -> dict[str, Any]:
    """One goal as ``goals show ID --format json`` gives it (docs/goals.md#goals-show-json):
    the freshness block, the goal as stored (with its revisions), the scorecard line
    (status, reason, progress, P(hit), forecast P10/P50/P90), the forecast fan per period
    to the deadline, and the SMART check."""
    fc = p.forecast
    fan = None
    if fc is not None and p.current_period is not None:
        band = fc.band()
        first = p.history.index[-1] if len(p.history) else p.current_period
        fan = [
            {
                "period": shift_periods(first, p.goal.grain, int(r["step"])).isoformat(),
                "p10": float(r["p10"]),
                "p50": float(r["p50"]),
                "p90": float(r["p90"]),
            }
            for r in band.to_dict("records")
        ]
    smart = None
    if check is not None:
        smart = {
            "ok": check.ok,
            "checks": [
                {"letter": c.letter, "name": c.name, "state": c.state.value, "detail": c.detail}
                for c in check.checks
            ],
            "achievability": {
                "verdict": check.achievability.verdict.value,
                "detail": check.achievability.detail,
            },
        }
    return {
        **freshness_fields(freshness),
        "id": p.goal.id,
        "goal": p.goal.model_dump(mode="json"),
        **{k: v for k, v in kpi_row(p, currency).items() if k not in ("goal", "revisions")},
        "revisions": [
            {
                **r.model_dump(mode="json", exclude_none=True),
                "changes": r.describe(p.spec.unit, currency),
            }
            for r in p.goal.revisions
        ],
        "fan": fan,
        "smart": smart,
    }
