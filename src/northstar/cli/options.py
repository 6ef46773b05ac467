"""Options shared by every command group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from northstar.workspace import ENV_VAR

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", envvar=ENV_VAR, help="Workspace folder (default: current folder)."
    ),
]
