"""The documented output contracts of a query (docs/metrics.md#output).

JSON, one object per metric (a list of them when several metrics are asked)::

    {"as_of": "2026-04-01", "data_through": "2026-03-31", "last_event": "...",
     "last_loaded": "...", "stale": false, "pinned_by": null, "freshness": "as of ...",
     "metric": "mau", "grain": "month", "unit": "count", "from": "2026-01-01",
     "to": "2026-03-31", "by": ["plan"],
     "rows": [{"period": "2026-01-01", "plan": "pro", "value": 1234.0, "complete": true}]}

With a comparison, each row also has ``previous``, ``change`` and ``change_pct``. Rates are
fractions, money is in the workspace currency, durations are in seconds. CSV is the same
rows, one line each, with a ``metric`` column.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from northstar.metrics.query import QueryResult, as_records
from northstar.metrics.registry import Registry
from northstar.store.freshness import freshness_fields

_ROW_TAIL = ("value", "complete", "previous", "change", "change_pct")


def to_objects(result: QueryResult, registry: Registry) -> list[dict[str, Any]]:
    req = result.request
    out = []
    for metric in req.metrics:
        frame = result.frame[result.frame["metric"] == metric].drop(columns="metric")
        rows = as_records(frame)
        order = ["period", *req.by, *[c for c in _ROW_TAIL if c in frame.columns]]
        out.append(
            {
                **freshness_fields(result.as_of),
                "metric": metric,
                "grain": result.window.grain.value,
                "unit": registry.get(metric).unit.value,
                "from": result.window.start.isoformat(),
                "to": result.window.end.isoformat(),
                "by": list(req.by),
                "rows": [{k: row[k] for k in order} for row in rows],
            }
        )
    return out


def to_json(result: QueryResult, registry: Registry) -> str:
    objects = to_objects(result, registry)
    return json.dumps(objects[0] if len(objects) == 1 else objects, indent=2)


def to_csv(result: QueryResult) -> str:
    buf = io.StringIO()
    rows = as_records(result.frame)
    columns = list(result.frame.columns)
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(row[k]) for k in columns})
    return buf.getvalue()


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
