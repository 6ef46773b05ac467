"""The ``northstar`` command: a thin Typer adapter over :class:`northstar.Workspace`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from northstar.cli import (
    alerts,
    analyses,
    anomalies,
    cohorts,
    experiments,
    explain,
    feedback,
    goals,
    reports,
    serve,
    share,
)
from northstar.cli.options import AsOfOpt, WorkspaceOpt, open_workspace
from northstar.errors import NorthstarError, QueryArgumentError, WorkspaceError

if TYPE_CHECKING:
    pass

app = typer.Typer(
    help="Northstar: KPIs for product managers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_PROGRESS_BYTES = 20 * 1024 * 1024  # show a bar when the files are at least this big


@app.command()
def init(
    directory: Annotated[Path | None, typer.Argument(help="Folder to create.")] = None,
    workspace: WorkspaceOpt = None,
    name: Annotated[str | None, typer.Option(help="Product name.")] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone for periods.")] = "UTC",
    currency: Annotated[str, typer.Option(help="Workspace currency.")] = "USD",
) -> None:
    """Create a workspace: northstar.yaml and the embedded store."""
    from northstar.cli import render
    from northstar.settings import SETTINGS_FILE
    from northstar.workspace import Workspace

    ws = Workspace.init(directory or workspace, name=name, timezone=timezone, currency=currency)
    render.console.print(f"Created workspace [bold]{ws.settings.name}[/] in {ws.path}")
    render.console.print(f"Settings: {ws.path / SETTINGS_FILE} (documented in docs/settings.md)")


@app.command("import")
def import_(
    table: Annotated[str, typer.Argument(help="Table to import into, or 'rejected'.")],
    files: Annotated[
        list[Path] | None, typer.Argument(help="CSV/NDJSON/JSON/Parquet files.")
    ] = None,
    workspace: WorkspaceOpt = None,
    map_: Annotated[
        list[str] | None, typer.Option("--map", help="Column mapping source=target (repeatable).")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv|ndjson|json|parquet")] = None,
    timezone: Annotated[
        str | None, typer.Option(help="Zone of timestamps without an offset (default: workspace).")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Update stored rows whose key matches.")] = False,
    limit: Annotated[int, typer.Option(help="Rows shown by 'import rejected'.")] = 50,
) -> None:
    """Import files into a table; 'northstar import rejected' lists quarantined rows."""
    from northstar.cli import render
    from northstar.ingest import parse_mapping
    from northstar.workspace import Workspace

    ws = Workspace(workspace)
    if table == "rejected":
        render.rejected(ws.rejected(limit=limit))
        return
    if not files:
        raise NorthstarError(f"give the file(s) to import: northstar import {table} FILE...")
    mapping = parse_mapping(map_ or [])
    total = sum(f.stat().st_size for f in files if f.is_file())
    if total < _PROGRESS_BYTES:
        summary = ws.import_files(table, files, mapping=mapping, fmt=fmt, timezone=timezone,
                                  replace=replace)  # fmt: skip
    else:
        columns = ("{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn())
        with Progress(*columns, console=render.err_console, transient=True) as bar:
            task = bar.add_task(f"reading {len(files)} file(s)", total=total)
            summary = ws.import_files(
                table, files, mapping=mapping, fmt=fmt, timezone=timezone, replace=replace,
                progress=lambda n: bar.advance(task, n),
            )  # fmt: skip
    render.import_summary(summary)


@app.command()
def tables(workspace: WorkspaceOpt = None) -> None:
    """Row counts, time ranges and rejected rows per table."""
    from northstar.cli import render
    from northstar.workspace import Workspace

    render.tables(Workspace(workspace).tables())


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL statement.")],
    workspace: WorkspaceOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table|json|csv")] = "table",
) -> None:
    """Run read-only SQL on the workspace (for power users)."""
    from northstar.cli import render
    from northstar.workspace import Workspace

    render.arrow_table(Workspace(workspace).sql(query), fmt)


@app.command()
def demo(
    workspace: WorkspaceOpt = None,
    users: Annotated[int, typer.Option(min=10, help="Simulated sign-ups.")] = 5000,
    days: Annotated[int, typer.Option(min=180, help="Days of history (at least 180).")] = 365,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    replace: Annotated[bool, typer.Option(help="Delete the workspace first if it exists.")] = False,
) -> None:
    """Fill a new workspace with a simulated SaaS product."""
    from northstar.cli import render
    from northstar.demo.load import DEMO_SETTINGS, load_demo
    from northstar.settings import SETTINGS_FILE
    from northstar.workspace import Workspace

    path = workspace or Path("demo-workspace")
    if replace and (path / SETTINGS_FILE).exists():
        shutil.rmtree(path)
    elif path.exists() and any(path.iterdir()):
        raise WorkspaceError(f"{path} is not empty; use --replace or another -w folder")
    ws = Workspace.init(path, name="Acme Analytics (demo)", **DEMO_SETTINGS)
    with render.console.status("simulating a year of product data…"):
        summaries = load_demo(ws, users=users, days=days, seed=seed)
    for summary in summaries:
        render.import_summary(summary)
    render.console.print(f"Demo workspace ready in {ws.path}")


FORMATS = ("table", "json", "csv")


@app.command()
def query(
    metrics: Annotated[list[str], typer.Argument(help="Metric ids, e.g. dau mrr.")],
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    grain: Annotated[str, typer.Option(help="day|week|month|quarter|year")] = "day",
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (default today).")] = None,
    by: Annotated[
        list[str] | None, typer.Option(help="Breakdown: a column, property or user.KEY.")
    ] = None,
    where: Annotated[str | None, typer.Option(help="Filter, e.g. \"plan = 'pro'\".")] = None,
    compare: Annotated[str | None, typer.Option(help="previous|year")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table|json|csv")] = "table",
    explain: Annotated[bool, typer.Option(help="Show the formula and the SQL run.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Recompute.")] = False,
) -> None:
    """Metric values by period, with breakdowns, filters and comparisons."""
    from northstar.cli import render

    if fmt not in FORMATS:
        raise QueryArgumentError(f"unknown format {fmt!r}; use table, json or csv")
    ws = open_workspace(workspace, as_of)
    result = ws.run_query(
        metrics, grain=grain, start=start, end=end, by=by, where=where, compare=compare,
        use_cache=not no_cache, explain=explain,
    )  # fmt: skip
    registry = ws.registry()
    if explain:
        render.explain(result, registry)
    render.query_result(result, registry, fmt, ws.settings.currency)


metrics_app = typer.Typer(help="The metric catalog and the workspace's custom metrics.")
app.add_typer(metrics_app, name="metrics")


@metrics_app.command("list")
def metrics_list(workspace: WorkspaceOpt = None) -> None:
    """Every metric with its unit and direction (custom metrics included)."""
    from northstar.cli import render
    from northstar.workspace import Workspace

    registry = Workspace(workspace).registry()
    render.metric_list(list(registry), registry.problems)


@metrics_app.command("show")
def metrics_show(
    metric: Annotated[str, typer.Argument(help="Metric id.")], workspace: WorkspaceOpt = None
) -> None:
    """A metric's description, formula, unit, direction and where its data comes from."""
    from northstar.cli import render
    from northstar.workspace import Workspace

    render.metric_detail(Workspace(workspace).registry().get(metric))


analyses.register(app)
goals.register(app)  # objectives, goals, scorecard
cohorts.register(app)  # ltv-cohorts
feedback.register(app)  # survey comments
experiments.register(app)  # experiments list|analyze|stats
app.command()(explain.explain)  # why a KPI changed
anomalies.register(app)  # anomalies detect SERIES.csv | anomalies METRIC
alerts.register(app)  # alerts run | alerts history
reports.register(app)  # reports list|preview|send|log
share.register(app)  # share create|list|revoke
app.command()(serve.serve)  # the tracking server
app.command()(serve.status)
app.add_typer(serve.keys_app, name="keys")


def main() -> None:
    """Entry point: user mistakes are one line on stderr and a non-zero exit."""
    try:
        app()  # Typer reports its own usage errors (exit 2)
    except NorthstarError as exc:
        from northstar.cli import render  # loaded on use: `--help` stays quick

        render.err_console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        from northstar.cli import render

        render.err_console.print("interrupted")
        sys.exit(130)
