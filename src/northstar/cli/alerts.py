"""``northstar alerts run|history``: thin adapters (docs/alerts.md)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from northstar.cli.options import AsOfOpt, WorkspaceOpt, open_workspace
from northstar.errors import AlertConfigError

app = typer.Typer(help="Alert rules (alerts.yaml): evaluate and deliver, or read the history.",
                  no_args_is_help=True)  # fmt: skip
Format = Annotated[str, typer.Option("--format", help="table|json")]


def _check(fmt: str) -> None:
    if fmt not in ("table", "json"):
        raise AlertConfigError(f"unknown format {fmt!r}; use table or json")


@app.command("run")
def run_(workspace: WorkspaceOpt = None, as_of: AsOfOpt = None, fmt: Format = "table") -> None:
    """Evaluate every rule once and deliver what fired or resolved (for cron)."""
    from northstar.cli.render import console, freshness

    _check(fmt)
    outcomes, now = open_workspace(workspace, as_of).run_alerts()
    if fmt == "json":
        sys.stdout.write(json.dumps([o.to_dict() for o in outcomes], indent=2, default=str) + "\n")
        return
    if not outcomes:
        console.print("No rule fired, goes on or resolved.")
    else:
        table = Table(title="Alerts", title_justify="left")
        for col in ("rule", "state", "metric", "period", "value", "expected", "delivered"):
            table.add_column(col)
        for o in outcomes:
            sent = ", ".join(o.delivered) + "".join(f" [red]{c}: failed[/]" for c in o.failed)
            value = "–" if o.value is None else f"{o.value:,.4g}"
            expected = "–" if o.expected is None else f"{o.expected:,.4g}"
            table.add_row(o.rule, o.state, o.metric or "–", o.period or "–", value, expected,
                          sent or "–")  # fmt: skip
        console.print(table)
    freshness(now)


@app.command("history")
def history_(
    workspace: WorkspaceOpt = None,
    limit: Annotated[int, typer.Option(help="Most recent entries.")] = 50,
    fmt: Format = "table",
) -> None:
    """What the alert runs found and delivered."""
    from northstar.cli.render import console

    _check(fmt)
    rows = open_workspace(workspace).alert_history(limit)
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
        return
    table = Table(title="Alert history", title_justify="left")
    for col in ("at", "rule", "state", "period", "delivered", "failed"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r.get("at", ""))[:16], r.get("rule", ""), r.get("state", ""),
                      str(r.get("period") or "–"), ", ".join(r.get("delivered") or []) or "–",
                      ", ".join(r.get("failed") or {}) or "–")  # fmt: skip
    console.print(table)


@app.command()
def snooze(
    rule: Annotated[str, typer.Argument(help="The rule's name in alerts.yaml.")],
    until: Annotated[str | None, typer.Option(help="Silent through this day, YYYY-MM-DD.")] = None,
    wake: Annotated[bool, typer.Option("--wake", help="End the snooze now.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Silence a rule until a day (or --wake it)."""
    from northstar.cli.render import console

    if not wake and until is None:
        raise AlertConfigError("give --until YYYY-MM-DD, or --wake to end a snooze")
    open_workspace(workspace).snooze_alert(rule, None if wake else until)
    console.print(f"{rule}: " + ("awake" if wake else f"snoozed through {until}"))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="alerts")
