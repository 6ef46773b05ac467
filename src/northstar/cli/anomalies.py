"""``northstar anomalies``: score a series or a workspace metric (docs/alerts.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from northstar.cli.options import AsOfOpt, WorkspaceOpt, open_workspace
from northstar.errors import AnomalyError

if TYPE_CHECKING:
    from northstar.anomalies.series import MetricAnomalies


def anomalies(
    target: Annotated[
        str, typer.Argument(metavar="detect|METRIC", help="'detect' (a CSV series) or a metric id.")
    ],
    series: Annotated[
        Path | None, typer.Argument(metavar="[SERIES.csv]", help="For detect: timestamp,value.")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    direction: Annotated[
        str | None,
        typer.Option(help="both|up|down (a metric: default its bad direction; detect: both)"),
    ] = None,
    grain: Annotated[str, typer.Option(help="A metric's grain: day|week|month.")] = "day",
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    by: Annotated[
        str | None, typer.Option(help="A metric's dimension: score each segment's own series.")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="detect: csv|json; a metric: table|json|csv")
    ] = None,
) -> None:
    """Anomalies: 'anomalies detect SERIES.csv' scores a CSV series (no workspace needed);
    'anomalies METRIC' scores a workspace metric's periods, with expected value and band."""
    if target == "detect":
        _detect(series, direction or "both", fmt or "csv")
        return
    if series is not None:
        raise AnomalyError(
            f"unexpected {series}: 'anomalies {target}' takes no file; to score a CSV use "
            f"'anomalies detect {series}'"
        )
    _metric(target, workspace, as_of, direction, grain, start, end, fmt or "table", by)


def _detect(series: Path | None, direction: str, fmt: str) -> None:
    from northstar.anomalies.series import check_direction, detect_rows, read_series, rows_csv

    way = check_direction(direction)
    if series is None:
        raise AnomalyError("give the series: northstar anomalies detect SERIES.csv")
    if fmt not in ("csv", "json"):
        raise AnomalyError(f"unknown format {fmt!r}; use csv or json")
    try:
        text = series.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise AnomalyError(f"{series}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AnomalyError(f"{series}: cannot read it ({exc})") from None
    frame = read_series(text, str(series))
    rows = detect_rows(frame, way)
    if fmt == "json":
        sys.stdout.write(json.dumps(rows) + "\n")
    else:
        sys.stdout.write(rows_csv(rows, list(frame["text"])))


def _metric(
    name: str, workspace: Path | None, as_of: str | None, direction: str | None, grain: str,
    start: str | None, end: str | None, fmt: str, by: str | None = None,
) -> None:  # fmt: skip
    from northstar.anomalies.series import check_direction
    from northstar.cli.render import freshness

    if fmt not in ("table", "json", "csv"):
        raise AnomalyError(f"unknown format {fmt!r}; use table, json or csv")
    way = check_direction(direction) if direction else None
    result = open_workspace(workspace, as_of).anomalies(
        name, grain=grain, start=start, end=end, direction=way, by=by
    )
    if fmt == "json":
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    elif fmt == "csv":
        sys.stdout.write(result.frame().to_csv(index=False))
        freshness(result.as_of, err=True)
    else:
        _table(result)
        freshness(result.as_of)


def _table(result: MetricAnomalies) -> None:
    from rich.table import Table

    from northstar.cli.render import console

    table = Table(title=f"{result.metric} by {result.grain} (alerts on {result.direction})",
                  title_justify="left")  # fmt: skip
    cols = ["period", "value", "expected", "band", "score", "anomaly"]
    for col in ["segment", *cols] if result.by else cols:
        table.add_column(col, justify="left" if col in ("period", "segment") else "right")
    num = lambda v: "–" if v is None else f"{v:,.4g}"  # noqa: E731
    for r in result.rows:
        band = "–" if r["lower"] is None else f"{num(r['lower'])} … {num(r['upper'])}"
        lead = [r["segment"]] if result.by else []
        table.add_row(*lead, r["period"], num(r["value"]), num(r["expected"]), band,
                      "–" if r["score"] is None else f"{r['score']:.4f}",
                      "[bold red]●[/]" if r["anomaly"] else "")  # fmt: skip
    console.print(table)


def register(root: typer.Typer) -> None:
    root.command()(anomalies)
