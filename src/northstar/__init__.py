"""Northstar: an open-source KPI platform for product managers."""

from northstar.errors import NorthstarError
from northstar.ingest import ImportSummary
from northstar.workspace import Workspace

__version__ = "0.1.0"

__all__ = ["ImportSummary", "NorthstarError", "Workspace", "__version__"]
