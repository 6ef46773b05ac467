"""The analyses package's built-in plugin (see :mod:`northstar.hooks`): its behaviour and
session metrics join the catalog, and ``metrics/*.yaml`` gains the retention, funnel and
feature_adoption kinds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from northstar.analyses import behaviour_metrics, series
from northstar.analyses.funnel import parse_duration
from northstar.hooks import hookimpl
from northstar.metrics.extensions import MetricKind
from northstar.metrics.spec import MetricSpec


def _retention_formula(f: Mapping[str, Any]) -> str:
    k = f.get("offset") or 1
    return (f"users who did {f.get('start_event')} in P and {f.get('return_event') or '$active'} "
            f"in P+{k} / users who did {f.get('start_event')} in P")  # fmt: skip


def _funnel_formula(f: Mapping[str, Any]) -> str:
    steps = " → ".join(f.get("steps") or [])
    return f"users completing {steps} within {f.get('window') or '14d'} / users entering in P"


def _window_days(f: Mapping[str, Any]) -> int:
    """Whole days a funnel's conversion window lasts (its periods settle after that)."""
    seconds = parse_duration(f.get("window") or "14d").total_seconds()
    return int(-(-seconds // 86400))


def _kind(name: str) -> Any:
    return lambda fields: behaviour_metrics.definition(name, dict(fields))


@hookimpl
def northstar_metrics() -> list[MetricSpec]:
    return list(series.METRICS)


@hookimpl
def northstar_metric_kinds() -> list[MetricKind]:
    return [
        MetricKind(
            "retention",
            _kind("retention"),
            required=("start_event",),
            settle_periods=lambda f: int(f.get("offset") or 1),
            formula=_retention_formula,
        ),
        MetricKind(
            "funnel",
            _kind("funnel"),
            required=("steps",),
            settle_days=_window_days,
            formula=_funnel_formula,
        ),
        MetricKind(
            "feature_adoption",
            _kind("feature_adoption"),
            required=("event",),
            formula=lambda f: f"users who did {f.get('event')} in P / active users in P",
        ),
    ]
