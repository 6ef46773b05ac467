"""An example third-party Northstar plugin (see docs/architecture.md#extension-points).

- an alert channel ``file`` that appends each alert as one JSON line to the file named by
  its ``path`` setting (``alerts.yaml``: ``channels: [{kind: file, path: alerts.jsonl}]``);
- a metric kind ``active_days_per_user`` for ``metrics/*.yaml``: in each period, the
  average number of days on which the people who did ``event`` did it::

      - id: search_days_per_user
        description: Days with a search, per searching user
        kind: active_days_per_user
        event: searched
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from northstar.analyses.events import EventSpec, person_days
from northstar.errors import MetricDefinitionError
from northstar.hooks import AlertChannel, hookimpl
from northstar.metrics.context import Context
from northstar.metrics.extensions import MetricKind


def deliver_to_file(settings: Mapping[str, Any], message: Mapping[str, Any]) -> None:
    path = settings.get("path")
    if not isinstance(path, str) or not path:
        raise ValueError("the file channel needs a 'path'")
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(json.dumps(dict(message), default=str, sort_keys=True) + "\n")


def active_days_per_user(ctx: Context, event: EventSpec) -> ir.Table:
    if ctx.keys:
        raise MetricDefinitionError("active_days_per_user has no breakdowns")
    days = person_days(ctx, event, ctx.window.start, ctx.window.end)
    rows = days.select("person_id", period=ctx.period(days.day))
    per = rows.group_by("period").aggregate(days=ibis._.count(), users=rows.person_id.nunique())
    return per.select("period", value=per.days / per.users)


def _build(fields: Mapping[str, Any]) -> Any:
    event = EventSpec.parse(str(fields["event"]))
    return lambda ctx: active_days_per_user(ctx, event)


@hookimpl
def northstar_alert_channels() -> list[AlertChannel]:
    return [AlertChannel("file", deliver_to_file, "append each alert as a JSON line to a file")]


@hookimpl
def northstar_metric_kinds() -> list[MetricKind]:
    return [
        MetricKind(
            "active_days_per_user",
            _build,
            required=("event",),
            rate=False,
            formula=lambda f: f"days with {f.get('event')} / people with {f.get('event')}, in P",
        )
    ]
