"""Terminal, JSON and CSV output of the behavioural analyses."""

from __future__ import annotations

import json
import sys
from typing import Any, Protocol

import pandas as pd
from rich.table import Table
from rich.text import Text

from northstar.analyses.features import FeatureReport
from northstar.analyses.funnel import FunnelResult, Step
from northstar.analyses.lifecycle import Lifecycle
from northstar.analyses.retention import RetentionTable
from northstar.analyses.stickiness import Stickiness
from northstar.cli.render import console, freshness
from northstar.errors import QueryArgumentError

FORMATS = ("table", "json", "csv")


class Analysis(Protocol):
    def to_dict(self) -> dict[str, Any]: ...
    def frame(self) -> pd.DataFrame: ...


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise QueryArgumentError(f"unknown format {fmt!r}; use table, json or csv")


def emit(result: Analysis, fmt: str) -> bool:
    """Print JSON or CSV and return True; False means: draw a table."""
    if fmt == "json":
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
        return True
    if fmt == "csv":
        sys.stdout.write(result.frame().to_csv(index=False))
        return True
    return False


def footer(result: object, fmt: str) -> None:
    """The as-of line after a table (on stderr after CSV; JSON carries it inside)."""
    if fmt != "json":
        freshness(getattr(result, "as_of", None), err=fmt == "csv")


def _count(n: int | None) -> str:
    """A count, or '–' where there is no data."""
    return "–" if n is None else f"{n:,}"


def _heat(pct: float) -> str:
    """A background shade for a retention percentage."""
    shades = ["grey11", "grey23", "dark_green", "green4", "green3", "green1"]
    return shades[min(len(shades) - 1, int(pct / 100 * (len(shades) - 1) + 0.5))]


def retention(result: RetentionTable, fmt: str) -> None:
    if emit(result, fmt):
        return
    r = result.request
    title = (
        f"Retention: {r.start_event.label} → {r.return_event.label} "
        f"({r.type.value}, {r.window.value}{', on or after' if r.cumulative else ''})"
    )
    table = Table(title=title, title_justify="left")
    if r.by:
        table.add_column(r.by)
    table.add_column("cohort")
    table.add_column("users", justify="right")
    for k in range(r.periods):
        table.add_column(f"{r.period.value} {k}", justify="right")
    for c in result.cohorts:
        cells: list[str | Text] = [c.breakdown or ""] if r.by else []
        cells += [c.start.isoformat(), "–" if c.size is None else f"{c.size:,}"]
        for k, pct in enumerate(c.percentages):
            star = "*" if c.partial and k == len(c.percentages) - 1 else ""
            cells.append(
                "–" if pct is None else Text(f"{pct:.1f}%{star}", style=f"on {_heat(pct)}")
            )
        cells += [""] * (r.periods - len(c.percentages))
        table.add_row(*cells)
    console.print(table)
    if any(c.partial for c in result.cohorts):
        console.print("* period not complete yet", style="dim")
    reasons = sorted({c.reason for c in result.cohorts if c.reason})
    for reason in reasons:
        console.print(f"– {reason}", style="dim")


def _steps_table(title: str, steps: list[Step]) -> Table:
    table = Table(title=title, title_justify="left")
    for name, justify in [("step", "left"), ("users", "right"), ("from start", "right"),
                          ("from previous", "right"), ("avg time", "right"),
                          ("median time", "right")]:  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for i, s in enumerate(steps):
        table.add_row(
            f"{i + 1}. {s.name}",
            _count(s.count),
            _pct(s.conversion_from_start),
            _pct(s.conversion_from_previous),
            _duration(s.avg_seconds_to_convert),
            _duration(s.median_seconds_to_convert),
        )
    return table


def funnel(result: FunnelResult, fmt: str) -> None:
    if emit(result, fmt):
        return
    r = result.request
    window = _duration(r.window.total_seconds())
    console.print(_steps_table(f"Funnel ({r.mode.value}, within {window})", result.steps))
    for key, steps in result.breakdowns.items():
        console.print(_steps_table(f"{r.by} = {key}", steps))
    if result.reason:
        console.print(f"– {result.reason}", style="dim")
    if result.partial:
        console.print("conversion windows still open: later steps may yet come", style="dim")


def lifecycle(result: Lifecycle, fmt: str) -> None:
    if emit(result, fmt):
        return
    table = Table(title=f"Lifecycle: {result.event.label}", title_justify="left")
    table.add_column(result.grain.value)
    for name, colour in [("new", "green"), ("returning", "blue"), ("resurrecting", "yellow"),
                         ("dormant", "red")]:  # fmt: skip
        table.add_column(name, justify="right", style=colour)
    for row in result.rows:
        period = row["period"] + ("*" if row.get("partial") else "")
        table.add_row(period, *(_count(row[k]) for k in
                      ("new", "returning", "resurrecting", "dormant")))  # fmt: skip
    console.print(table)
    if result.reason:
        console.print(f"– {result.reason}", style="dim")
    if any(row.get("partial") for row in result.rows):
        console.print("* period still in progress: counts may still grow", style="dim")


def stickiness(result: Stickiness, fmt: str) -> None:
    if emit(result, fmt):
        return
    more = " or more" if result.cumulative else ""
    table = Table(title=f"Stickiness: {result.event.label}", title_justify="left")
    table.add_column(f"active {result.grain.value}s{more}", justify="right")
    table.add_column("users", justify="right")
    table.add_column("")
    top = max((h["users"] or 0 for h in result.histogram), default=0) or 1
    for h in result.histogram:
        bar = "█" * round(30 * (h["users"] or 0) / top)
        table.add_row(str(h["active_periods"]), _count(h["users"]), Text(bar, style="cyan"))
    console.print(table)
    if result.reason:
        console.print(f"– {result.reason}", style="dim")


def features(result: FeatureReport, fmt: str) -> None:
    if emit(result, fmt):
        return
    table = Table(title=f"Feature adoption, {result.first} to {result.last}", title_justify="left")
    for name in ("feature", "adopters", "adoption", "uses", "days/wk", "wk-4 ret.",
                 "others", "flag"):  # fmt: skip
        table.add_column(name, justify="left" if name in ("feature", "flag") else "right")
    for f in result.features:
        flag = {"promote": "[green]promote[/]", "rethink": "[red]rethink[/]"}.get(f.flag or "", "")
        table.add_row(
            f.name + ("*" if f.start != result.first else ""),
            f"{f.adopters:,}",
            _pct(f.adoption_rate),
            "–" if f.uses_per_adopter is None else f"{f.uses_per_adopter:.1f}",
            "–" if f.days_per_week is None else f"{f.days_per_week:.2f}",
            _pct(f.week4_retention_adopters),
            _pct(f.week4_retention_others),
            flag,
        )
    console.print(table)
    console.print(
        "[dim]uses and days/wk: per adopter; wk-4 ret.: active 28–34 days after first use "
        "(others: after their first active day); * counted from its release. promote: few "
        "use it, but those who do use it often; rethink: barely used.[/]"
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    s = float(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s / size:.1f}{unit}".replace(".0", "")
    return f"{s:.0f}s"
