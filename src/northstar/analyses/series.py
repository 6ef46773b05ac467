"""The catalog metrics that analyses contribute (sessions, retention rate, conversion rate...).

The metric registry loads ``METRICS`` from here at run time, so the catalog holds them while
imports still point one way (analyses → metrics).
"""

from __future__ import annotations

from northstar.analyses import behaviour_metrics, session_metrics
from northstar.metrics.spec import MetricSpec

METRICS: tuple[MetricSpec, ...] = (*session_metrics.METRICS, *behaviour_metrics.METRICS)
