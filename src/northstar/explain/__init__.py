"""Explain a KPI change: the segments that moved it, by mix or by rate (docs/explain.md)."""
