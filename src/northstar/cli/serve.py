"""``northstar serve``, ``northstar keys`` and ``northstar status``: thin adapters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer
from rich.table import Table

from northstar.cli.options import WorkspaceOpt

keys_app = typer.Typer(help="API keys: write keys send data, read/admin keys are separate.")


def _when(value: datetime | date | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if value else "—"


def serve(
    workspace: WorkspaceOpt = None,
    host: Annotated[str | None, typer.Option(help="Address (default: server.host).")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: server.port; 0 picks a free one).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug|info|warning|error")] = "warning",
) -> None:
    """Run the workspace's server: the tracking API (Segment and PostHog compatible)."""
    from northstar.cli.render import console
    from northstar.server.app import Listening
    from northstar.server.app import serve as run
    from northstar.workspace import Workspace

    ws = Workspace(workspace)

    def ready(listening: Listening) -> None:
        console.print(f"Northstar serving [bold]{ws.settings.name}[/] on {listening.url}")
        console.print(f"  web UI:   {listening.url}/   · read API: {listening.url}/docs")
        console.print(
            f"  tracking: {listening.url}/v1/batch (Segment), {listening.url}/batch/ (PostHog)"
        )
        console.print(f"  health:   {listening.url}/health   · Ctrl-C stops (after a last flush)")

    run(ws, host=host, port=port, log_level=log_level, on_ready=ready)


@keys_app.command("create")
def keys_create(
    kind: Annotated[str, typer.Argument(help="write | read | admin")] = "write",
    source: Annotated[
        str | None, typer.Option(help="Write keys: the source that sends (web, ios...).")
    ] = None,
    origin: Annotated[
        list[str] | None,
        typer.Option(
            help="Write keys: a browser origin that may send with it (repeatable; "
            "default: any), e.g. https://app.example.com."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Create a key and print its token once (only a hash is kept)."""
    from northstar.cli.render import console
    from northstar.workspace import Workspace

    key, token = Workspace(workspace).create_key(kind, source=source, origins=origin or [])
    what = f"{key.kind} key for source '{key.source}'" if key.source else f"{key.kind} key"
    console.print(f"Created {what}: id {key.key_id}")
    if key.origins:
        console.print(f"Browsers may send with it from: {', '.join(key.origins)}")
    console.print("Token (shown only now; store it in your secrets manager):")
    console.print(token, highlight=False, soft_wrap=True)


@keys_app.command("list")
def keys_list(workspace: WorkspaceOpt = None) -> None:
    """Every key: id, kind, source, prefix, created, revoked."""
    from northstar.cli.render import console
    from northstar.workspace import Workspace

    keys = Workspace(workspace).api_keys()
    if not keys:
        console.print("No keys yet: northstar keys create write --source web")
        return
    table = Table(title="API keys")
    for col in ("id", "kind", "source", "origins", "prefix", "created", "revoked"):
        table.add_column(col)
    for key in keys:
        origins = ", ".join(key.origins) or ("any" if key.kind == "write" else "—")
        table.add_row(
            key.key_id, key.kind, key.source or "—", origins, key.prefix + "…",
            _when(key.created_at), _when(key.revoked_at) if key.revoked_at else "[green]active[/]",
        )  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="Key id (or prefix) from 'keys list'.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Revoke a key: a running server refuses it within a flush interval."""
    from northstar.cli.render import console
    from northstar.workspace import Workspace

    key = Workspace(workspace).revoke_key(key_id)
    console.print(f"Revoked {key.kind} key {key.key_id} ({key.prefix}…) at {_when(key.revoked_at)}")


def status(workspace: WorkspaceOpt = None) -> None:
    """Is data flowing in? Events today, last event, quarantine, unflushed log, server."""
    from northstar.cli.render import console
    from northstar.workspace import Workspace

    ws = Workspace(workspace)
    st = ws.status()
    fig = st.figures
    table = Table(title=f"{ws.settings.name}: ingestion status", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row(f"events today ({ws.settings.timezone})", f"{fig.events_today:,}")
    table.add_row("last event time", _when(fig.last_event_at))
    table.add_row("last import or flush", _when(fig.last_received_at))
    style = "red" if fig.quarantined else "green"
    table.add_row("quarantined rows/messages", f"[{style}]{fig.quarantined:,}[/]")
    table.add_row(
        "waiting in the ingestion log",
        f"{st.waiting.events:,} events in {st.waiting.segments} segment(s)",
    )
    server = f"running at {st.server['url']} (pid {st.server['pid']})" if st.server else "stopped"
    table.add_row("server", server)
    now = ws.as_of()
    table.add_row("as of", f"[{'yellow' if now.stale else 'green'}]{now.describe()}[/]")
    console.print(table)
    marks = Table(title="Freshness watermarks (docs/freshness.md)")
    for col in ("table", "rows", "first", "last", "last loaded"):
        marks.add_column(col, justify="right" if col == "rows" else "left")
    for m in now.marks:
        if m.rows:
            marks.add_row(m.table, f"{m.rows:,}", _when(m.first), _when(m.last), _when(m.loaded_at))
    console.print(marks)
    if fig.quarantined:
        console.print("see them with: northstar import rejected")
