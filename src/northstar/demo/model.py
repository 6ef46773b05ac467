"""What the demo generator hands back: the tables and the incidents planted in them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pyarrow as pa


@dataclass(frozen=True)
class Incident:
    """A problem planted in the demo data, so alerts and root-cause analysis have a story."""

    incident_id: str  # e.g. "android-release-dau-drop"
    kind: str  # "drop", "creep", "spike"
    metric: str  # catalog metric id it shows in: "dau", "cac", "customer_churn_rate", ...
    segment: dict[str, str]  # e.g. {"$os": "Android"}; {} for the whole product
    started_at: datetime  # tz-aware UTC
    ended_at: datetime | None  # tz-aware UTC, exclusive; None while it goes on
    description: str  # one sentence a product manager understands


@dataclass(frozen=True)
class PlantedExperiment:
    """The A/B test planted in the demo, with the effect it was built to have."""

    key: str  # the PostHog feature flag ("$feature_flag_called" exposures)
    metric: str  # the metric the treatment moves, as `experiments analyze --metric` takes it
    expected: dict[str, float]  # per arm: mean chance to convert of the users assigned to it

    @property
    def lift(self) -> float:
        """The planted absolute effect of "test" over "control"."""
        return self.expected["test"] - self.expected["control"]


@dataclass(frozen=True)
class DemoProduct:
    """A simulated SaaS product: one arrow table per data-model table, plus its incidents."""

    tables: dict[str, pa.Table]  # keys: every table name in schema.TABLES
    incidents: tuple[Incident, ...]
    start: date
    end: date  # inclusive last day
    experiment: PlantedExperiment | None = None
