"""``northstar explain``: which segments moved a KPI (docs/explain.md); no logic here."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from northstar.cli.options import AsOfOpt, WorkspaceOpt, open_workspace
from northstar.errors import ExplainError

if TYPE_CHECKING:
    from northstar.explain.service import Explanation


def explain(
    metric: Annotated[str, typer.Argument(help="The KPI whose change to explain, e.g. dau.")],
    start: Annotated[str, typer.Option("--from", help="First day of the window, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day of the window, YYYY-MM-DD.")],
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    compare: Annotated[
        str, typer.Option(help="previous (the window before) or FROM:TO.")
    ] = "previous",
    by: Annotated[
        str | None, typer.Option(help="Dimensions to search, comma-separated (default: all).")
    ] = None,
    depth: Annotated[int, typer.Option(help="Dimensions combined at most: 1, 2 or 3.")] = 2,
    top: Annotated[int, typer.Option(help="Segments shown at most.")] = 5,
    fmt: Annotated[str, typer.Option("--format", help="table|json")] = "table",
) -> None:
    """Why did a KPI change? The segments that explain it, and whether by mix or by rate."""
    from northstar.explain.service import ExplainRequest

    if fmt not in ("table", "json"):
        raise ExplainError(f"unknown format {fmt!r}; use table or json")
    dims = tuple(d.strip() for d in (by or "").split(",") if d.strip())
    request = ExplainRequest(metric, start, end, compare=compare, by=dims, depth=depth, top=top)
    result = open_workspace(workspace, as_of).explain(request)
    if fmt == "json":
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
        return
    _table(result)


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:,.4g}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:+.0%}"


def _table(r: Explanation) -> None:
    from northstar.cli.render import console, freshness

    cur, base = r.current, r.baseline
    console.print(
        f"[bold]{r.metric}[/]: {_num(cur['value'])} ({cur['from']} … {cur['to']}) vs "
        f"{_num(base['value'])} ({base['from']} … {base['to']}), change {_num(r.change)}"
        + (f" ({r.change_pct:+.1%})" if r.change_pct is not None else ""),
        highlight=False,
    )
    console.print(r.summary, highlight=False)
    if r.segments:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        ratio = r.kind == "ratio"
        cols = ["segment", "baseline", "current", "change", "share of change"]
        cols += ["mix", "rate"] if ratio else []
        for c in cols:
            table.add_column(c, justify="left" if c == "segment" else "right",
                             overflow="fold")  # fmt: skip
        for s in r.segments:
            row = [" and ".join(f"{d} = {v}" for d, v in s.key), _num(s.baseline),
                   _num(s.current), _num(s.change), _pct(s.contribution)]  # fmt: skip
            if ratio:
                row += [_pct(s.mix_effect), _pct(s.rate_effect)]
            table.add_row(*row)
        console.print(table)
    for group in r.feedback:
        who = " and ".join(f"{d} = {v}" for d, v in group["dimensions"].items())
        console.print(f"[bold]What {who} said[/] (NPS comments in the window):", highlight=False)
        for c in group["comments"][:3]:
            console.print(f"  {c['score']:>4}  {c['comment']}", highlight=False)
    if r.skipped:
        console.print(f"[dim]Not a dimension of {r.metric}: {', '.join(r.skipped)}[/]",
                      highlight=False)  # fmt: skip
    freshness(r.as_of)
