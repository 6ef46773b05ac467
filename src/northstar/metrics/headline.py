"""Headline KPIs: the last complete month of a handful of catalog metrics, with the change
from the month before and a year of history. The scorecard shows them until goals and
objectives (which pick the KPIs) exist in a workspace."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from northstar.metrics.spec import Direction, MetricSpec

HEADLINE = (
    "mau", "stickiness", "signups", "mrr", "net_new_mrr", "customer_churn_rate", "nrr",
    "arpu", "cac", "ltv_cac", "nps", "bug_backlog",
)  # fmt: skip


@dataclass(frozen=True)
class KpiSummary:
    spec: MetricSpec
    period: date
    value: float | None
    previous: float | None
    history: tuple[float | None, ...]

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_pct(self) -> float | None:
        change = self.change
        if change is None or not self.previous:
            return None
        return change / abs(self.previous)

    @property
    def improving(self) -> bool | None:
        """Whether the change goes the metric's good way (None when flat or unknown)."""
        change = self.change
        if change is None or change == 0:
            return None
        return (change > 0) == (self.spec.direction is Direction.higher)


def last_complete_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def summaries(frame: pd.DataFrame, specs: dict[str, MetricSpec]) -> list[KpiSummary]:
    out = []
    for metric, rows in frame.groupby("metric", sort=False):
        values = [None if _missing(v) else float(v) for v in rows["value"]]
        periods = list(rows["period"])
        out.append(
            KpiSummary(
                spec=specs[str(metric)],
                period=periods[-1],
                value=values[-1],
                previous=values[-2] if len(values) > 1 else None,
                history=tuple(values),
            )
        )
    return out


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
