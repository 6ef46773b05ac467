"""``northstar retention|funnel|lifecycle|stickiness``: thin adapters over the Workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from northstar.cli.options import AsOfOpt, WorkspaceOpt, open_workspace

Start = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (inclusive).")]
End = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default today).")]
Format = Annotated[str, typer.Option("--format", help="table|json|csv")]
EVENT_HELP = "An event name, \"name where prop = 'x'\", or $active (any active event)."


def retention(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    start_event: Annotated[str, typer.Option(help=EVENT_HELP)] = "$active",
    return_event: Annotated[str, typer.Option(help=EVENT_HELP)] = "$active",
    period: Annotated[str, typer.Option(help="day|week|month")] = "week",
    periods: Annotated[int, typer.Option(help="Columns: periods 0 .. N-1.")] = 8,
    type_: Annotated[str, typer.Option("--type", help="recurring|first-time")] = "recurring",
    window: Annotated[str, typer.Option(help="calendar|24h")] = "calendar",
    cumulative: Annotated[bool, typer.Option(help="Count returns on or after period k.")] = False,
    by: Annotated[str | None, typer.Option(help="Break down by a user property.")] = None,
    start: Start = None,
    end: End = None,
    fmt: Format = "table",
) -> None:
    """Retention table: cohorts by the period of their start event, and who came back."""
    from northstar.cli import analysis_render as show

    show.check_format(fmt)
    result = open_workspace(workspace, as_of).retention(
        start_event, return_event, period=period, periods=periods, type=type_, window=window,
        cumulative=cumulative, by=by, start=start, end=end,
    )  # fmt: skip
    show.retention(result, fmt)
    show.footer(result, fmt)


def funnel(
    steps: Annotated[list[str], typer.Argument(help="2 to 20 steps; " + EVENT_HELP)],
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    window: Annotated[str, typer.Option(help="Conversion window, e.g. 14d, 2h, 30m.")] = "14d",
    mode: Annotated[str, typer.Option(help="ordered|strict|unordered")] = "ordered",
    exclude: Annotated[
        list[str] | None,
        typer.Option(help='Exclusion event, optionally with steps: "E" or "E:1-3".'),
    ] = None,
    by: Annotated[str | None, typer.Option(help="Break down by an event or user property.")] = None,
    start: Start = None,
    end: End = None,
    fmt: Format = "table",
) -> None:
    """Funnel: users through ordered steps within a conversion window."""
    from northstar.cli import analysis_render as show

    show.check_format(fmt)
    result = open_workspace(workspace, as_of).funnel(
        steps, window=window, mode=mode, exclude=exclude or [], by=by, start=start, end=end
    )
    show.funnel(result, fmt)
    show.footer(result, fmt)


def lifecycle(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    event: Annotated[str, typer.Option(help=EVENT_HELP)] = "$active",
    grain: Annotated[str, typer.Option(help="day|week|month")] = "week",
    start: Start = None,
    end: End = None,
    fmt: Format = "table",
) -> None:
    """Lifecycle: new, returning, resurrecting and dormant users per period."""
    from northstar.cli import analysis_render as show

    show.check_format(fmt)
    result = open_workspace(workspace, as_of).lifecycle(event, grain=grain, start=start, end=end)
    show.lifecycle(result, fmt)
    show.footer(result, fmt)


def stickiness(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    event: Annotated[str, typer.Option(help=EVENT_HELP)] = "$active",
    grain: Annotated[str, typer.Option(help="day|week|month")] = "day",
    cumulative: Annotated[bool, typer.Option(help="Users active in k or more periods.")] = False,
    start: Start = None,
    end: End = None,
    fmt: Format = "table",
) -> None:
    """Stickiness: users by the number of periods in which they were active."""
    from northstar.cli import analysis_render as show

    show.check_format(fmt)
    result = open_workspace(workspace, as_of).stickiness(
        event, grain=grain, cumulative=cumulative, start=start, end=end
    )
    show.stickiness(result, fmt)
    show.footer(result, fmt)


def features(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    start: Start = None,
    end: End = None,
    fmt: Format = "table",
) -> None:
    """Feature adoption report for the features declared in features.yaml."""
    from northstar.cli import analysis_render as show

    show.check_format(fmt)
    report = open_workspace(workspace, as_of).feature_report(start=start, end=end)
    show.features(report, fmt)
    show.footer(report, fmt)


def register(app: typer.Typer) -> None:
    for command in (retention, funnel, lifecycle, stickiness, features):
        app.command()(command)
