"""The built-in KPI catalog (``docs/kpi-catalog.md``), one module per category."""

from __future__ import annotations

from northstar.metrics.catalog import acquisition, engagement, revenue, satisfaction, team
from northstar.metrics.spec import MetricSpec

CATALOG: tuple[MetricSpec, ...] = (
    *engagement.METRICS,
    *acquisition.METRICS,
    *revenue.METRICS,
    *satisfaction.METRICS,
    *team.METRICS,
)
