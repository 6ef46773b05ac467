"""Northstar: an open-source KPI platform for product managers."""

from northstar._version import __version__
from northstar.errors import NorthstarError
from northstar.ingest import ImportSummary
from northstar.workspace import Workspace

__all__ = ["ImportSummary", "NorthstarError", "Workspace", "__version__"]
