"""``northstar ltv-cohorts``: observed LTV by acquisition cohort (docs/metrics.md)."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from northstar.cli.options import AsOfOpt, WorkspaceOpt, open_workspace

if TYPE_CHECKING:
    import pandas as pd

    from northstar.metrics.cohorts import RevenueCohorts
    from northstar.metrics.periods import Grain

Start = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (inclusive).")]
End = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default today).")]
Format = Annotated[str, typer.Option("--format", help="table|json|csv")]


def ltv_cohorts(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    grain: Annotated[str, typer.Option(help="week|month|quarter|year")] = "month",
    start: Start = None,
    end: End = None,
    fmt: Format = "table",
) -> None:
    """Cumulative revenue per customer by acquisition cohort (observed LTV)."""
    from northstar.cli.analysis_render import check_format

    check_format(fmt)
    result = open_workspace(workspace, as_of).ltv_cohorts(grain=grain, start=start, end=end)
    if fmt == "json":
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    elif fmt == "csv":
        write_csv(result.frame())
    else:
        _table(result)


def write_csv(frame: pd.DataFrame) -> None:
    """CSV with booleans as true/false, as every Northstar CSV."""
    for col in frame.columns:
        if frame[col].dtype == bool:
            frame[col] = frame[col].map({True: "true", False: "false"})
    sys.stdout.write(frame.to_csv(index=False))


def _table(result: RevenueCohorts) -> None:
    from northstar.cli.render import console

    width = max((len(c.revenue_per_customer) for c in result.cohorts), default=0)
    # Columns that fit the terminal (about 7 characters each); the rest are in JSON/CSV.
    shown = min(width, max(1, (console.width - 20) // 7))
    table = Table(
        title=f"Cumulative revenue per customer, by {result.grain.value} of acquisition "
        f"({result.currency}, observed to {result.today.isoformat()})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
    )
    table.add_column("cohort", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    for k in range(shown):
        table.add_column(f"+{k}", justify="right", no_wrap=True)
    incomplete = False
    for c in result.cohorts:
        cells = []
        for k, value in enumerate(c.revenue_per_customer[:shown]):
            done = k < c.complete_periods
            incomplete = incomplete or not done
            cells.append(_money(value, result.currency) + ("" if done else "*"))
        table.add_row(_label(c.start, result.grain), f"{c.customers:,}", *cells)
    console.print(table)
    if incomplete:
        console.print("* period not complete yet", style="dim")
    if shown < width:
        console.print(
            f"+{shown} to +{width - 1} not shown: widen the terminal or use --format csv",
            style="dim",
        )


def _label(start: date, grain: Grain) -> str:
    from northstar.metrics.periods import Grain

    if grain is Grain.month:
        return start.strftime("%Y-%m")
    if grain is Grain.quarter:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if grain is Grain.year:
        return str(start.year)
    return start.isoformat()


def _money(value: float | None, currency: str) -> str:
    """Whole currency units: a cohort table is read for its shape (JSON/CSV keep cents)."""
    from northstar.metrics.format import format_value
    from northstar.metrics.spec import Unit

    if value is None:
        return "–"
    return format_value(float(round(value)), Unit.currency, currency).replace(".00", "")


def register(app: typer.Typer) -> None:
    app.command("ltv-cohorts")(ltv_cohorts)
