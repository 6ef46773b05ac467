"""``northstar feedback``: the comments behind a survey score (docs/metrics.md)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from northstar.cli.cohorts import End, Format, Start
from northstar.cli.options import AsOfOpt, WorkspaceOpt, open_workspace

if TYPE_CHECKING:
    from northstar.metrics.feedback import Feedback

_GROUP_STYLE = {"promoter": "green", "passive": "yellow", "detractor": "red"}


def feedback(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    kind: Annotated[str, typer.Option(help="nps|csat|ces|uss|team")] = "nps",
    group: Annotated[str | None, typer.Option(help="promoter|passive|detractor")] = None,
    start: Start = None,
    end: End = None,
    where: Annotated[
        str | None, typer.Option(help="Filter, e.g. \"plan = 'pro'\" (answer or user property).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Most recent comments shown.")] = 50,
    fmt: Format = "table",
) -> None:
    """Survey comments, newest first, with score and promoter/passive/detractor group."""
    from northstar.cli.analysis_render import check_format
    from northstar.cli.cohorts import write_csv

    check_format(fmt)
    result = open_workspace(workspace, as_of).feedback(
        kind, group=group, start=start, end=end, where=where, limit=limit
    )
    if fmt == "json":
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        write_csv(result.frame())
    else:
        _table(result)


def _table(result: Feedback) -> None:
    from northstar.cli.render import console

    span = f"{result.first} to {result.last}" if result.first else f"up to {result.last}"
    who = f"{result.group.value}s" if result.group else "all answers"
    table = Table(
        title=f"{result.kind.upper()} comments, {who}, {span}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
    )
    for col in ("when", "score", "group", "respondent"):
        table.add_column(col, no_wrap=True)
    table.add_column("comment", overflow="fold")
    for c in result.comments:
        table.add_row(
            c.responded_at.strftime("%Y-%m-%d %H:%M"),
            f"{c.score:g}/{c.scale_max:g}",
            Text(c.group.value, style=_GROUP_STYLE[c.group.value]),
            Text(c.respondent_id),  # user text: never read as Rich markup
            Text(c.comment),
        )
    console.print(table)
    split = ", ".join(f"{n} {g}{'' if n == 1 else 's'}" for g, n in result.groups.items())
    console.print(
        f"{len(result.comments)} of {result.total} comments shown ({split} in the range)",
        style="dim", highlight=False,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command()(feedback)
