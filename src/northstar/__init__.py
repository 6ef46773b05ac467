"""Northstar: an open-source KPI platform for product managers."""

from northstar._version import __version__
from northstar.errors import NorthstarError
from northstar.ingest import ImportSummary
from northstar.sdk import Client
from northstar.workspace import Workspace

__all__ = ["Client", "ImportSummary", "NorthstarError", "Workspace", "__version__"]
