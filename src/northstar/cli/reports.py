"""``northstar reports list|preview|send|log``: thin adapters (docs/reports.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from northstar.cli.options import AsOfOpt, WorkspaceOpt, open_workspace
from northstar.errors import ReportError

app = typer.Typer(help="Stakeholder reports (reports.yaml): preview, send now, the log.",
                  no_args_is_help=True)  # fmt: skip
Format = Annotated[str, typer.Option("--format", help="table|json")]
Name = Annotated[str, typer.Argument(help="The report's name in reports.yaml.")]


def _check(fmt: str) -> None:
    if fmt not in ("table", "json"):
        raise ReportError(f"unknown format {fmt!r}; use table or json")


@app.command("list")
def list_(workspace: WorkspaceOpt = None, fmt: Format = "table") -> None:
    """The reports with their schedule, next run and last send."""
    from northstar.cli.render import console

    _check(fmt)
    rows = open_workspace(workspace).reports().listing()
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if not rows:
        console.print("No report yet: add one to reports.yaml (see docs/reports.md).")
        return
    table = Table(title="Reports", title_justify="left")
    for col in ("name", "title", "to", "schedule", "period", "formats", "next run", "last sent"):
        table.add_column(col)
    for r in rows:
        schedule = f"{r['schedule']} ({r['timezone']})" if r["schedule"] else "by hand"
        table.add_row(r["name"], r["title"], ", ".join(r["to"]) or "–", schedule, r["period"],
                      ", ".join(r["formats"]), (r["next_run"] or "–")[:16],
                      (r["last_sent"] or "–")[:16])  # fmt: skip
    console.print(table)


@app.command()
def preview(
    name: Name,
    fmt: Annotated[str, typer.Option("--format", help="html|pdf|md|json")] = "html",
    output: Annotated[Path | None, typer.Option("--output", help="File to write.")] = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Render a report without sending it (to --output, or Markdown/JSON on stdout)."""
    from northstar.cli.render import console

    if output is None and fmt in ("html", "pdf"):
        raise ReportError(f"--format {fmt} needs --output FILE (e.g. --output report.{fmt})")
    data = open_workspace(workspace, as_of).reports().preview(name, fmt)
    if output is None:
        sys.stdout.write(data.decode())
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise ReportError(f"cannot write {output}: {exc.strerror or exc}") from None
    console.print(f"Wrote {output} ({len(data):,} bytes)")


@app.command()
def send(
    name: Name,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    fmt: Format = "table",
) -> None:
    """Build and deliver a report now."""
    from northstar.cli.render import console

    _check(fmt)
    result = open_workspace(workspace, as_of).reports().send(name)
    if fmt == "json":
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    elif result.result == "skipped":
        console.print(f"{name}: not sent — {result.reason}")
    else:
        console.print(f"{name}: {result.result} (period {result.period}, as of {result.as_of})")
        for channel in result.delivered:
            console.print(f"  delivered: {channel} " + (
                f"to {', '.join(result.recipients)}" if channel == "email" else ""))  # fmt: skip
        for channel, why in result.failed.items():
            console.print(f"  [red]failed: {channel} after {result.tries[channel]} tries: {why}[/]")
    if result.result == "failed":
        raise typer.Exit(1)


@app.command("log")
def log_(
    workspace: WorkspaceOpt = None,
    limit: Annotated[int, typer.Option(help="Most recent entries.")] = 50,
    fmt: Format = "table",
) -> None:
    """Every report sent (or skipped, or failed): when, to whom, the result and tries."""
    from northstar.cli.render import console

    _check(fmt)
    rows = open_workspace(workspace).reports().log(limit)
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(title="Report deliveries", title_justify="left")
    for col in ("at", "report", "trigger", "result", "period", "to", "delivered", "failed"):
        table.add_column(col)
    for r in rows:
        failed = "; ".join(f"{k}: {v}" for k, v in (r.get("failed") or {}).items())
        to = ", ".join(r.get("recipients") or [])
        table.add_row(str(r.get("at", ""))[:16], r.get("report", ""), r.get("trigger", ""),
                      r.get("result", ""), r.get("period", ""), to,
                      ", ".join(r.get("delivered") or []) or "–", failed or "–")  # fmt: skip
    console.print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="reports")
