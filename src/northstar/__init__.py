"""Northstar: an open-source KPI platform for product managers.

The package's names load on first use (PEP 562): ``import northstar`` and the
``northstar`` command's help stay quick, since a workspace pulls in DuckDB, Ibis, pandas
and the statistics libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from northstar._version import __version__

if TYPE_CHECKING:
    from northstar.errors import NorthstarError
    from northstar.ingest import ImportSummary
    from northstar.sdk import Client
    from northstar.workspace import Workspace

__all__ = ["Client", "ImportSummary", "NorthstarError", "Workspace", "__version__"]

_WHERE = {
    "Client": "northstar.sdk",
    "ImportSummary": "northstar.ingest",
    "NorthstarError": "northstar.errors",
    "Workspace": "northstar.workspace",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'northstar' has no attribute {name!r}")
