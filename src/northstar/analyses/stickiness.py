"""Stickiness: users by the number of periods of the range in which they were active
(semantics: ``docs/analyses.md#stickiness``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import pandas as pd
from ibis.backends.duckdb import Backend as IbisDuckDB

from northstar.analyses.common import Range, make_context
from northstar.analyses.events import EventSpec, person_days
from northstar.metrics.periods import Grain, period_start, periods
from northstar.settings import Settings
from northstar.store.freshness import AsOf, after_the_data, freshness_fields


@dataclass
class Stickiness:
    event: EventSpec
    grain: Grain
    cumulative: bool
    histogram: list[dict[str, int | None]] = field(default_factory=list)
    as_of: AsOf | None = None  # the workspace's as-of and freshness
    # The range runs past the last day of data: only ``observed`` of its periods were
    # seen, and "active in k periods" for a larger k is unknown (None), not 0.
    partial: bool = False
    observed: int = 0
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **freshness_fields(self.as_of),
            "event": self.event.label,
            "grain": self.grain.value,
            "cumulative": self.cumulative,
            "partial": self.partial,
            "observed_periods": self.observed,
            "reason": self.reason,
            "histogram": self.histogram,
        }

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.histogram, columns=["active_periods", "users"])


def stickiness(
    backend: IbisDuckDB,
    settings: Settings,
    event: str | EventSpec,
    *,
    grain: str | Grain = "day",
    cumulative: bool = False,
    start: str | date | None = None,
    end: str | date | None = None,
    today: date,
) -> Stickiness:
    """How many users were active in exactly k periods of the range (``cumulative``:
    in k or more), for k = 1 .. the number of periods the range touches."""
    spec = event if isinstance(event, EventSpec) else EventSpec.parse(event)
    rng = Range.make(grain, start, end, today=today, default_days=29)
    ctx = make_context(backend, settings, rng)
    days = person_days(ctx, spec, rng.first, rng.last)
    active = days.select("person_id", period=ctx.period(days.day, rng.grain)).distinct()
    per_user = active.group_by("person_id").aggregate(k=ibis._.count())
    counts = per_user.group_by("k").aggregate(users=ibis._.count()).to_pandas()
    by_k = {int(r["k"]): int(r["users"]) for r in counts.to_dict("records")}
    week_start = settings.week_start.value
    first = period_start(rng.first, rng.grain, week_start)
    total = len(periods(first, rng.last, rng.grain, week_start))
    seen = len(periods(first, min(rng.last, today), rng.grain, week_start)) if first <= today else 0
    result = Stickiness(spec, rng.grain, cumulative, partial=rng.last > today, observed=seen)
    if seen == 0:
        result.reason = after_the_data(today)
    elif seen < total:
        result.reason = (
            f"the range runs past the data (through {today.isoformat()}): only {seen} of its "
            f"{total} {rng.grain.value}s were observed"
        )
    for k in range(1, total + 1):
        users = sum(v for j, v in by_k.items() if j >= k) if cumulative else by_k.get(k, 0)
        result.histogram.append({"active_periods": k, "users": None if k > seen else users})
    return result
