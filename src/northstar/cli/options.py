"""Options shared by every command group."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from northstar.env import WORKSPACE_VAR

if TYPE_CHECKING:
    from northstar.workspace import Workspace

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar=WORKSPACE_VAR,
        help="Workspace folder (default: current folder).",
    ),
]

AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Judge as of this day, YYYY-MM-DD (default: the workspace's as-of, the day "
        "after its last day of data).",
    ),
]


def as_of_day(value: str | None) -> date | None:
    from northstar.metrics.periods import parse_date

    return parse_date(value, "as-of date")


def open_workspace(path: Path | None, as_of: str | None = None) -> Workspace:
    """The workspace of a command, judged as of ``--as-of`` when given."""
    from northstar.workspace import Workspace

    return Workspace(path, as_of=as_of_day(as_of))
