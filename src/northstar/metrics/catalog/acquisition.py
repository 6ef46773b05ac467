"""acquisition metrics (being built)."""

from __future__ import annotations

from northstar.metrics.spec import MetricSpec

METRICS: list[MetricSpec] = []
