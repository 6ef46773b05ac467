"""Northstar: an open-source KPI platform for product managers."""

__version__ = "0.1.0"
