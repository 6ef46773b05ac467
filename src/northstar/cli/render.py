"""Rich rendering of service results for the terminal. No logic beyond formatting."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
from rich.console import Console
from rich.table import Table

from northstar.ingest import ImportSummary
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
