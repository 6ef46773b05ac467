"""Rich rendering of objectives, goals, SMART checks, suggestions and the balanced
scorecard. Formatting only; the numbers come from :mod:`northstar.goals`."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from rich import box
from rich.table import Table

from northstar.cli.render import console, err_console, freshness
from northstar.goals import GoalBook, GoalProgress, Objective, Scorecard, SmartCheck, Status
from northstar.goals.model import PERSPECTIVE_TITLES, Goal
from northstar.goals.scorecard import (
    SPARK_PERIODS,
    compact_target,
    compact_value,
    p_hit_text,
    progress_text,
    sparkline,
)
from northstar.goals.service import NewGoal, Template
from northstar.goals.smart import CheckState
from northstar.goals.suggest import Suggestion
from northstar.metrics.format import format_value
from northstar.metrics.spec import MetricSpec, Unit

STATUS_STYLE = {
    Status.achieved: "bold green",
    Status.on_track: "green",
    Status.at_risk: "yellow",
    Status.off_track: "red",
    Status.missed: "bold red",
    Status.no_data: "dim",
}
_CHECK_MARK = {
    CheckState.passed: "[green]✓[/]",
    CheckState.warning: "[yellow]![/]",
    CheckState.failed: "[red]✗[/]",
}


def _status(status: Status | None) -> str:
    if status is None:
        return "–"
    return f"[{STATUS_STYLE[status]}]{status.value}[/]"


def warnings(lines: Sequence[str]) -> None:
    for line in lines:
        err_console.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)


# -- objectives ---------------------------------------------------------------------
def objective_list(book: GoalBook, max_kpis: int) -> None:
    if not book.objectives:
        console.print("No objectives yet: northstar objectives add NAME --perspective customer")
        return
    table = Table(title="Objectives")
    for col in ("id", "name", "perspective", "owner", "time frame", "KPIs"):
        table.add_column(col, justify="right" if col == "KPIs" else "left")
    for o in book.objectives:
        n = len(book.goals_of(o.id))
        kpis = f"[yellow]{n} (> {max_kpis})[/]" if n > max_kpis else str(n)
        table.add_row(o.id, o.name, PERSPECTIVE_TITLES[o.perspective], o.owner or "–",
                      str(o.time_frame or "–"), kpis)  # fmt: skip
    console.print(table)


def objective_detail(objective: Objective, progress: Sequence[GoalProgress], currency: str) -> None:
    table = Table(show_header=False, box=None, title=objective.name)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in (
        ("id", objective.id),
        ("perspective", PERSPECTIVE_TITLES[objective.perspective]),
        ("owner", objective.owner or "–"),
        ("time frame", str(objective.time_frame or "–")),
        ("description", objective.description or "–"),
    ):
        table.add_row(name, value)
    console.print(table)
    if progress:
        console.print(_kpi_table(progress, currency, title="KPIs"))
    else:
        console.print(f"No KPI yet: northstar goals add METRIC --objective {objective.id} ...")


# -- goals --------------------------------------------------------------------------
def goal_list(book: GoalBook, specs: dict[str, MetricSpec], currency: str) -> None:
    if not book.goals:
        console.print("No goals yet: northstar goals add METRIC --target ... --deadline ...")
        return
    table = Table(title="Goals")
    for col in ("id", "metric", "target", "from", "deadline", "grain", "objectives", "rev."):
        table.add_column(col)
    for g in book.goals:
        unit = specs[g.metric].unit if g.metric in specs else Unit.number
        metric = g.metric + (f" [dim]where {g.where}[/]" if g.where else "")
        table.add_row(
            g.id, metric, g.target.describe(unit, currency, g.baseline), str(g.start),
            str(g.deadline), g.grain.value, ", ".join(g.objectives) or "[red]none[/]",
            str(len(g.revisions)) if g.revisions else "",
        )  # fmt: skip
    console.print(table)


def smart_check(check: SmartCheck) -> None:
    table = Table(title="SMART check", show_header=False)
    table.add_column()
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for c in check.checks:
        table.add_row(_CHECK_MARK[c.state], c.name, c.detail)
    console.print(table)


def new_goal(result: NewGoal, spec: MetricSpec, currency: str) -> None:
    g = result.goal
    verb = "Added" if result.saved else "Checked (not saved)"
    console.print(
        f"{verb} goal [bold]{g.id}[/]: {spec.title}{f' where {g.where}' if g.where else ''} "
        f"{g.target.describe(spec.unit, currency)} by {g.deadline} (from {g.start}, per "
        f"{g.grain.value})",
        highlight=False,
    )
    smart_check(result.check)
    warnings(result.warnings)


def goal_detail(p: GoalProgress, check: SmartCheck | None, currency: str) -> None:
    g, spec = p.goal, p.spec
    unit = spec.unit
    fmt = lambda v: format_value(v, unit, currency)  # noqa: E731
    table = Table(show_header=False, box=None, title=f"Goal {g.id}")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    rows = [
        ("metric", f"{spec.title} ({spec.id}), {spec.direction.value} is better"),
        ("segment", g.where or "all"),
        ("target", g.target.describe(unit, currency, p.baseline)),
        ("period", f"{g.start} → {g.deadline}, judged per {g.grain.value}"),
        ("objectives", ", ".join(g.objectives) or "none"),
        ("baseline", f"{fmt(p.baseline)} ({p.baseline_source or '–'})"),
        ("current", f"{fmt(p.current)} ({p.current_period or '–'})"),
        ("progress", progress_text(p.progress) + f" of the way from baseline to {fmt(p.aim)}"),
    ]
    if p.plan is not None:
        kind = "seasonal" if p.plan.seasonal else "linear"
        note = f"; {p.plan.note}" if p.plan.note else ""
        rows.append(("expected now", f"{fmt(p.expected)} on the {kind} plan{note} "
                                     f"→ {_status(p.plan_status)} by the plan alone"))  # fmt: skip
    if p.required_rate is not None or p.current_rate is not None:
        rows.append(("run-rate", f"needs {_rate(p.required_rate, unit, currency)} per "
                                 f"{g.grain.value}; recent {_rate(p.current_rate, unit, currency)}"
                                 f" per {g.grain.value}"))  # fmt: skip
    fc = p.forecast
    if fc is not None:
        rows.append(("forecast", f"{fmt(fc.p50)} at the deadline (P10 {fmt(fc.p10)}, "
                                 f"P90 {fmt(fc.p90)}); {fc.model}"))  # fmt: skip
    elif p.forecast_note:
        rows.append(("forecast", p.forecast_note))
    rows.append(("P(hit)", p_hit_text(p.p_hit)))
    rows.append(("status", f"{_status(p.status)} — {p.reason}"))
    if g.owner:
        rows.append(("owner", g.owner))
    if g.note:
        rows.append(("note", g.note))
    if g.created_at:
        rows.append(("created", f"{g.created_at:%Y-%m-%d %H:%M} by {g.created_by or '?'}"))
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    if check is not None:
        smart_check(check)
    revisions(g, unit, currency)


def _rate(value: float | None, unit: Unit, currency: str) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    text = format_value(value, unit, currency)
    return text if text.startswith("-") else "+" + text


def revisions(goal: Goal, unit: Unit, currency: str) -> None:
    if not goal.revisions:
        console.print("No revisions.", style="dim")
        return
    table = Table(title="Revisions")
    for col in ("when", "who", "changed", "reason"):
        table.add_column(col, overflow="fold")
    for r in goal.revisions:
        table.add_row(f"{r.at:%Y-%m-%d %H:%M}", r.by, r.describe(unit, currency), r.reason)
    console.print(table)


def suggestion(s: Suggestion, spec: MetricSpec, currency: str, grain: str) -> None:
    unit = spec.unit
    how = "% of the baseline" if s.relative else "the metric's unit"
    table = Table(
        title=f"Suggested targets for {spec.title}, {s.periods} {grain}(s) after the baseline "
        f"{format_value(s.baseline, unit, currency)}"
    )
    for col, justify in (("level", "left"), ("percentile", "right"),
                         ("improvement", "right"), ("target", "right")):  # fmt: skip
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for t in s.targets:
        if s.relative:
            change = f"{t.improvement * 100:+.1f} %"
        elif unit is Unit.rate:
            change = f"{t.improvement * 100:+.1f} pp"
        else:
            change = ("+" if t.improvement >= 0 else "") + format_value(
                t.improvement, unit, currency
            )
        table.add_row(t.label, f"{t.percentile}th", change, format_value(t.value, unit, currency))
    console.print(table)
    console.print(
        f"From {s.windows} past windows of {s.periods} {grain}(s); improvements counted the "
        f"metric's good way ({spec.direction.value} is better), in {how}.",
        style="dim",
    )
    if s.note:
        warnings([s.note])


def template(t: Template, specs: dict[str, MetricSpec], currency: str) -> None:
    console.print(
        f"[bold]{t.stage.value.capitalize()}-stage starter set[/], {t.start} → {t.deadline} "
        f"(targets: the 75th percentile of past improvements, per {t.grain.value})"
    )
    table = Table()
    for col in ("objective", "perspective", "KPI", "why", "baseline", "suggested target"):
        table.add_column(col, overflow="fold")
    notes = []
    for obj in t.objectives:
        for i, kpi in enumerate(obj.kpis):
            spec = specs.get(kpi.metric or "")
            baseline = target = "–"
            if kpi.suggestion is not None and spec is not None:
                baseline = format_value(kpi.suggestion.baseline, spec.unit, currency)
            if kpi.target is not None and spec is not None:
                target = kpi.target.describe(spec.unit, currency)
            if kpi.existing:
                target = f"already a goal: {kpi.existing}"
            table.add_row(
                obj.name if i == 0 else "", PERSPECTIVE_TITLES[obj.perspective] if i == 0 else "",
                kpi.metric or "[red]missing[/]", kpi.why, baseline, target,
            )  # fmt: skip
            if kpi.note:
                notes.append(f"{kpi.metric or obj.name}: {kpi.note}")
    console.print(table)
    warnings(notes)
    if t.applied:
        console.print(f"Wrote {len(t.applied)} goal(s) to goals.yaml: {', '.join(t.applied)}")
    else:
        console.print("Nothing written; add --apply to create these objectives and goals.",
                      style="dim")  # fmt: skip


# -- scorecard ----------------------------------------------------------------------
_COLUMNS = (("KPI", "left"), ("now", "right"), ("target", "left"), ("progress", "right"),
            ("status", "left"), ("P(hit)", "right"), ("trend", "left"))  # fmt: skip
_NARROW = 100  # below this many columns the trend sparkline is left out


def _table(title: str | None) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  pad_edge=False)  # fmt: skip
    for name, justify in _COLUMNS[: None if console.width >= _NARROW else -1]:
        table.add_column(name, justify=justify, no_wrap=name != "KPI")  # type: ignore[arg-type]
    return table


def _kpi_table(progress: Sequence[GoalProgress], currency: str, title: str | None = None) -> Table:
    table = _table(title)
    for p in progress:
        table.add_row(*_kpi_cells(p, currency))
    return table


def _kpi_cells(p: GoalProgress, currency: str, common_deadline: object = None) -> list[str]:
    name = p.spec.title + (f" [dim]({p.goal.where})[/]" if p.goal.where else "")
    if p.goal.revisions:
        name += " [dim]✎[/]"
    target = compact_target(p, currency)
    if p.goal.deadline != common_deadline:
        name += f" [dim]· by {p.goal.deadline}[/]"
    cells = [
        name, compact_value(p.current, p.spec.unit, currency), target,
        progress_text(p.progress), _status(p.status), p_hit_text(p.p_hit),
        sparkline(list(p.history.iloc[-SPARK_PERIODS:].to_numpy(dtype="float64"))),
    ]  # fmt: skip
    return cells[: None if console.width >= _NARROW else -1]


def scorecard(card: Scorecard) -> None:
    counts = ", ".join(f"{n} {s}" for s, n in card.status_counts().items())
    console.print(
        f"[bold]{card.product}[/] — balanced scorecard as of {card.as_of}"
        + (f" ({counts})" if counts else "")
    )
    freshness(card.freshness)
    table = _table(None)
    shown = [p for p in card.perspectives if p.objectives]
    for k, p in enumerate(shown):
        table.add_row(f"[bold magenta]{p.title.upper()}[/]")
        for o in p.objectives:
            deadlines = Counter(g.goal.deadline for g in o.goals)
            common = deadlines.most_common(1)[0][0] if deadlines else None
            extra = [o.objective.owner] if o.objective.owner else []
            extra += [f"by {common}"] if common else []
            info = f" [dim]· {' · '.join(extra)}[/]" if extra else ""
            table.add_row(f" [bold]{o.objective.name}[/]{info}")
            for g in o.goals:
                cells = _kpi_cells(g, card.currency, common)
                cells[0] = "   " + cells[0]
                table.add_row(*cells)
        if k < len(shown) - 1:
            table.add_section()
    console.print(table)
    if card.unaligned:
        console.print(_kpi_table(card.unaligned, card.currency, "Not aligned to an objective"))
    warnings(card.warnings)
    console.print(
        "progress: share of the way from baseline to target; P(hit): the forecast's chance of "
        "meeting the target at the deadline; ✎ revised. Details: northstar goals show ID",
        style="dim",
    )
