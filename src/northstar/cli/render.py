"""Rich rendering of service results for the terminal. No logic beyond formatting."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from northstar.ingest import ImportSummary
from northstar.metrics import output
from northstar.metrics.format import format_change, format_value
from northstar.metrics.headline import KpiSummary
from northstar.metrics.query import QueryResult
from northstar.metrics.registry import Registry
from northstar.metrics.spec import Direction, MetricSpec, Rollup
from northstar.present.text import sparkline
from northstar.store.freshness import AsOf
from northstar.workspace import TableInfo

console = Console()
err_console = Console(stderr=True)


def _fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def import_summary(summary: ImportSummary) -> None:
    parts = [f"[bold]{summary.imported:,}[/] imported"]
    if summary.updated:
        parts.append(f"{summary.updated:,} updated")
    parts.append(f"{summary.duplicates:,} duplicates skipped")
    style = "red" if summary.rejected else "green"
    parts.append(f"[{style}]{summary.rejected:,} rejected[/]")
    console.print(
        f"{summary.table}: {', '.join(parts)} "
        f"({summary.rows_read:,} rows from {len(summary.files)} file(s) in {summary.seconds:.1f} s)"
    )
    if summary.top_reasons:
        console.print("  top reasons:")
        for reason, count in summary.top_reasons:
            console.print(f"    {count:>7,}  {reason}")
        console.print("  see them with: northstar import rejected")


def tables(infos: Sequence[TableInfo]) -> None:
    table = Table(title="Workspace tables")
    for col, justify in (("table", "left"), ("rows", "right"), ("from", "left"), ("to", "left"),
                         ("rejected", "right")):  # fmt: skip
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for info in infos:
        table.add_row(
            info.name,
            f"{info.rows:,}",
            _fmt_time(info.first),
            _fmt_time(info.last),
            f"[red]{info.rejected:,}[/]" if info.rejected else "0",
        )
    console.print(table)


def rejected(rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        console.print("No rejected rows.")
        return
    table = Table(title=f"Rejected rows (newest {len(rows)})")
    for col in ("table", "file", "line", "reason", "raw row"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(
            row["table_name"], row["file"], str(row["line"] or "—"), row["reason"], row["raw"]
        )
    console.print(table)


def arrow_table(data: pa.Table, fmt: str, limit: int = 1000) -> None:
    if fmt == "json":
        console.print_json(json.dumps(data.to_pylist(), default=str))
        return
    if fmt == "csv":
        import sys

        import pyarrow.csv as pacsv

        pacsv.write_csv(data, sys.stdout.buffer)
        return
    table = Table()
    for name in data.column_names:
        table.add_column(name)
    for row in data.slice(0, limit).to_pylist():
        table.add_row(*("∅" if v is None else str(v) for v in row.values()))
    console.print(table)
    if data.num_rows > limit:
        console.print(f"… {data.num_rows - limit:,} more rows")


def incidents(rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    table = Table(title="Recorded incidents")
    for col in ("from", "to", "metric", "segment", "what happened"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(
            _fmt_time(row["started_at"]), _fmt_time(row["ended_at"]), row["metric"] or "",
            row["segment"] or "", row["description"],
        )  # fmt: skip
    console.print(table)


# -- metrics ------------------------------------------------------------------------
def query_result(result: QueryResult, registry: Registry, fmt: str, currency: str) -> None:
    if fmt == "json":
        print(output.to_json(result, registry))
        return
    if fmt == "csv":
        sys.stdout.write(output.to_csv(result))
        freshness(result.as_of, err=True)
        return
    req = result.request
    frame = result.frame
    keys = ["period", *req.by]
    table = Table(
        title=f"{', '.join(req.metrics)} by {result.window.grain.value}"
        + (f", by {', '.join(req.by)}" if req.by else "")
        + (f", where {req.where}" if req.where else "")
    )
    for k in keys:
        table.add_column(k)
    for metric in req.metrics:
        table.add_column(metric, justify="right")
        if req.compare:
            table.add_column(f"vs {req.compare}", justify="right")
    wide: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in frame.to_dict(orient="records"):
        wide.setdefault(tuple(row[k] for k in keys), {})[str(row["metric"])] = row
    incomplete = False
    for key, by_metric in wide.items():
        first = next(iter(by_metric.values()))
        label = key[0].isoformat() + ("" if first["complete"] else " *")
        incomplete = incomplete or not first["complete"]
        cells = [label, *[str(k) for k in key[1:]]]
        for metric in req.metrics:
            unit = registry.get(metric).unit
            found = by_metric.get(metric)
            cells.append(format_value(found["value"] if found else None, unit, currency))
            if req.compare:
                cells.append(
                    format_change(found.get("change"), found.get("change_pct"), unit)
                    if found
                    else "–"
                )
        table.add_row(*cells)
    console.print(table)
    if incomplete:
        console.print("* period not complete yet · – no data", style="dim")
    freshness(result.as_of)


def freshness(as_of: AsOf | None, *, err: bool = False) -> None:
    """The as-of line under every table ('as of … · data through … · last event …'),
    in red when the data is stale."""
    if as_of is None:
        return
    style = "yellow" if as_of.stale else "dim"
    (err_console if err else console).print(as_of.describe(), style=style, highlight=False)


def explain(result: QueryResult, registry: Registry) -> None:
    for metric in result.request.metrics:
        spec = registry.get(metric)
        console.print(f"[bold]{spec.id}[/] = {spec.formula}", highlight=False)
    for metric, sql in result.sql:
        console.print(f"\n[bold]-- {metric}[/]", highlight=False)
        console.print(Syntax(sql, "sql", word_wrap=True))


def metric_list(specs: Sequence[MetricSpec], problems: Sequence[str]) -> None:
    table = Table(title="Metrics")
    for col in ("id", "title", "unit", "better", "category", "kind"):
        table.add_column(col)
    for s in specs:
        better = "↑ higher" if s.direction is Direction.higher else "↓ lower"
        table.add_row(s.id, s.title, s.unit.value, better, s.category.value, s.kind)
    console.print(table)
    for line in problems:
        err_console.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)


def metric_detail(spec: MetricSpec) -> None:
    table = Table(show_header=False, title=spec.title, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    rows = [
        ("id", spec.id),
        ("description", spec.description),
        ("formula", spec.formula),
        ("unit", spec.unit.value),
        ("better when", spec.direction.value),
        ("category", spec.category.value),
        ("perspective", spec.perspective.value.replace("_", " ")),
        ("kind", spec.kind),
        ("data from", ", ".join(spec.sources) or "other metrics"),
        ("longer periods", _ROLLUP_TEXT[spec.rollup]),
        ("defined in", spec.origin),
    ]
    if spec.notes:
        rows.append(("notes", spec.notes))
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


_ROLLUP_TEXT = {
    Rollup.flow: "computed over the whole period",
    Rollup.end: "the value at the end of the period",
    Rollup.mean: "the mean of the daily values",
}


def headline(kpis: Sequence[KpiSummary], currency: str) -> None:
    if not kpis:
        return
    month = kpis[0].period.strftime("%B %Y")
    table = Table(title=f"Headline KPIs, {month} (last complete month)")
    for col, justify in (("KPI", "left"), ("value", "right"), ("vs previous month", "right"),
                         ("last 12 months", "left")):  # fmt: skip
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for k in kpis:
        change = format_change(k.change, k.change_pct, k.spec.unit)
        style = {True: "green", False: "red", None: "dim"}[k.improving]
        table.add_row(
            k.spec.title, format_value(k.value, k.spec.unit, currency),
            f"[{style}]{change}[/]", sparkline(k.history),
        )  # fmt: skip
    console.print(table)
