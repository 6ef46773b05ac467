"""Scheduled KPI reports for stakeholders (docs/reports.md)."""
