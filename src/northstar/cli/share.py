"""``northstar share create|list|revoke``: read-only links to one page (docs/reports.md)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from northstar.cli.options import WorkspaceOpt, open_workspace
from northstar.errors import ShareError

app = typer.Typer(help="Read-only share links to one page (scorecard, goal/ID, metric/METRIC).",
                  no_args_is_help=True)  # fmt: skip
Format = Annotated[str, typer.Option("--format", help="table|json")]


def _check(fmt: str) -> None:
    if fmt not in ("table", "json"):
        raise ShareError(f"unknown format {fmt!r}; use table or json")


@app.command()
def create(
    page: Annotated[str, typer.Argument(help="scorecard, goal/GOAL_ID or metric/METRIC.")],
    expires: Annotated[str, typer.Option(help="How long it opens: 12h, 7d, 2w.")] = "7d",
    workspace: WorkspaceOpt = None,
    fmt: Format = "table",
) -> None:
    """Create a link that opens PAGE read-only, without signing in, until it expires."""
    from northstar.cli.render import console

    _check(fmt)
    share, url = open_workspace(workspace).create_share(page, expires)
    if fmt == "json":
        sys.stdout.write(json.dumps({**share, "url": url}, indent=2) + "\n")
        return
    console.print(f"{share['id']}: {share['page']}, read-only until {share['expires_at']}")
    sys.stdout.write(url + "\n")


@app.command("list")
def list_(workspace: WorkspaceOpt = None, fmt: Format = "table") -> None:
    """Every share link: its page, expiry and state (the URLs are not kept)."""
    from northstar.cli.render import console

    _check(fmt)
    rows = open_workspace(workspace).shares()
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if not rows:
        console.print("No share link yet: northstar share create scorecard --expires 7d")
        return
    table = Table(title="Share links", title_justify="left")
    for col in ("id", "page", "state", "created", "expires", "revoked"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["page"], r["state"], r["created_at"][:16], r["expires_at"][:16],
                      (r["revoked_at"] or "–")[:16])  # fmt: skip
    console.print(table)


@app.command()
def revoke(
    share_id: Annotated[str, typer.Argument(help="The link's id (northstar share list).")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Revoke a link: it answers 404 from now on."""
    from northstar.cli.render import console

    share = open_workspace(workspace).revoke_share(share_id)
    console.print(f"{share['id']} ({share['page']}): revoked")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="share")
