"""The feature adoption report: per declared feature, who uses it, how often, and whether
its users stay (semantics: ``docs/analyses.md#feature-adoption``).

Features are declared in the workspace's ``features.yaml``::

    features:
      - id: ai_summary
        name: AI summaries
        event: ai_summary_generated
        where: "length = 'short'"     # optional filter on the event's properties
        released: 2026-05-20          # optional: measure from this day on
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import yaml
from ibis.backends.duckdb import Backend as IbisDuckDB
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from northstar.analyses.common import Range, make_context
from northstar.analyses.events import EventSpec, person_days
from northstar.errors import MetricDefinitionError
from northstar.metrics.context import Context
from northstar.metrics.periods import Grain
from northstar.settings import Settings
from northstar.store.freshness import AsOf, freshness_fields

FEATURES_FILE = "features.yaml"
RETENTION_DAY = 28  # "week 4": days 28–34 after the anchor
RETENTION_SPAN = 7


class Feature(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    name: str | None = None
    event: str = Field(min_length=1)
    where: str | None = None
    released: date | None = None

    @property
    def spec(self) -> EventSpec:
        return EventSpec(self.event, self.where)

    @property
    def title(self) -> str:
        return self.name or self.id.replace("_", " ").capitalize()


def load_features(path: Path) -> list[Feature]:
    """The features declared in ``features.yaml``; a mistake names the file and feature."""
    if not path.exists():
        raise MetricDefinitionError(
            f"no features declared: create {path} with a 'features:' list "
            "(id, event, optional where and released; see docs/analyses.md)"
        )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MetricDefinitionError(f"{path.name}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise MetricDefinitionError(f"{path.name}: expected a top-level 'features:' list")
    features = []
    for n, raw in enumerate(doc["features"], start=1):
        label = raw.get("id") if isinstance(raw, dict) else None
        try:
            feature = Feature.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            name = f"feature {label!r}" if label else f"feature #{n}"
            raise MetricDefinitionError(f"{path.name}: {name}: {where}: {first['msg']}") from None
        EventSpec.parse(
            feature.event if not feature.where else f"{feature.event} where {feature.where}"
        )
        features.append(feature)
    ids = [f.id for f in features]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise MetricDefinitionError(f"{path.name}: feature {dup!r} is declared twice")
    return features


@dataclass
class FeatureRow:
    id: str
    name: str
    event: str
    released: date | None
    start: date
    active_users: int
    adopters: int
    adoption_rate: float | None
    uses_per_adopter: float | None
    days_per_week: float | None
    week4_retention_adopters: float | None
    week4_retention_others: float | None
    flag: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["released"] = self.released.isoformat() if self.released else None
        out["start"] = self.start.isoformat()
        return out


@dataclass
class FeatureReport:
    first: date
    last: date
    features: list[FeatureRow] = field(default_factory=list)
    as_of: AsOf | None = None  # the workspace's as-of and freshness

    def to_dict(self) -> dict[str, Any]:
        return {
            **freshness_fields(self.as_of),
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "features": [f.to_dict() for f in self.features],
        }

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([f.to_dict() for f in self.features])


def _week4(anchors: ir.Table, active: ir.Table, today: date) -> dict[tuple[str, str], float]:
    """Per (feature, group): the share of ``anchors`` (feature, group, person_id, anchor day;
    one row per person in each) active on days 28–34 after their anchor, among those whose
    day 34 has passed. One query for every feature and group."""
    last_anchor = today - timedelta(days=RETENTION_DAY + RETENTION_SPAN)
    eligible = anchors.filter(anchors.anchor <= last_anchor)
    lo = (eligible.anchor + ibis.interval(days=RETENTION_DAY)).cast("date")
    hi = (eligible.anchor + ibis.interval(days=RETENTION_DAY + RETENTION_SPAN - 1)).cast("date")
    eligible = eligible.mutate(lo=lo, hi=hi)
    back = (
        eligible.join(
            active,
            [
                eligible.person_id == active.person_id,
                active.day >= eligible.lo,
                active.day <= eligible.hi,
            ],
        )
        .select(b_feature=eligible.feature, b_group=eligible.group, b_id=eligible.person_id)
        .distinct()
    )
    both = eligible.left_join(
        back,
        [
            eligible.feature == back.b_feature,
            eligible.group == back.b_group,
            eligible.person_id == back.b_id,
        ],
    )
    counts = (
        both.group_by(["feature", "group"])
        .aggregate(n=both.count(), back=both.b_id.count())
        .to_pandas()
    )
    return {
        (str(r.feature), str(r.group)): round(int(r.back) / int(r.n), 4)
        for r in counts.itertuples()
        if int(r.n)
    }


def feature_report(
    backend: IbisDuckDB,
    settings: Settings,
    features: list[Feature],
    *,
    start: str | date | None = None,
    end: str | date | None = None,
    today: date,
) -> FeatureReport:
    """Every declared feature's adoption, frequency and week-4 retention, in three queries
    for all the features together (per feature they cost 39 compiled queries)."""
    rng = Range.make(Grain.day, start, end, today=today, default_days=89)
    ctx = make_context(backend, settings, rng)
    # Activity after the range counts for week-4 retention of users anchored in it.
    reach = min(today, rng.last + timedelta(days=RETENTION_DAY + RETENTION_SPAN))
    active_all = person_days(ctx, EventSpec(None), rng.first, reach)
    report = FeatureReport(rng.first, rng.last)
    if not features:
        return report
    firsts: dict[str, date] = {}
    for feature in features:
        first = max(rng.first, feature.released) if feature.released else rng.first
        firsts[feature.id] = min(first, rng.last)
    # The active users of each feature's window (features released on the same day share one).
    windows = {
        day: active_all.filter(active_all.day >= day, active_all.day <= rng.last)
        for day in sorted(set(firsts.values()))
    }
    active = ibis.union(
        *(
            windows[firsts[f.id]].select("person_id", "day", feature=ibis.literal(f.id))
            for f in features
        ),
        distinct=False,
    )
    used = ibis.union(
        *(
            _feature_days(ctx, f, firsts[f.id], rng.last).mutate(feature=ibis.literal(f.id))
            for f in features
        ),
        distinct=False,
    )
    per_user = used.group_by(["feature", "person_id"]).aggregate(
        anchor=used.day.min(), days=used.day.nunique(), uses=used.n.sum()
    )
    weeks = ibis.greatest(
        ibis.literal(1.0), (ibis.literal(rng.last) - per_user.anchor).cast("int64").add(1) / 7.0
    )
    stats = (
        per_user.mutate(per_week=per_user.days / weeks)
        .group_by("feature")
        .aggregate(adopters=ibis._.count(), uses=ibis._.uses.sum(), per_week=ibis._.per_week.mean())
        .to_pandas()
        .set_index("feature")
    )
    actives = (
        active.group_by("feature").aggregate(actives=active.person_id.nunique()).to_pandas()
    ).set_index("feature")["actives"]
    others = active.anti_join(per_user, ["feature", "person_id"])
    others = others.group_by(["feature", "person_id"]).aggregate(anchor=others.day.min())
    anchors = ibis.union(
        per_user.select("feature", "person_id", "anchor", group=ibis.literal("adopters")),
        others.select("feature", "person_id", "anchor", group=ibis.literal("others")),
        distinct=False,
    )
    week4 = _week4(anchors, active_all, today)
    for feature in features:
        row = stats.loc[feature.id] if feature.id in stats.index else None
        adopters = int(row["adopters"]) if row is not None else 0
        n_active = int(actives.get(feature.id, 0))
        report.features.append(
            FeatureRow(
                id=feature.id,
                name=feature.title,
                event=feature.spec.label,
                released=feature.released,
                start=firsts[feature.id],
                active_users=n_active,
                adopters=adopters,
                adoption_rate=round(adopters / n_active, 4) if n_active else None,
                uses_per_adopter=(
                    round(float(row["uses"]) / adopters, 2)
                    if row is not None and adopters
                    else None
                ),
                days_per_week=(
                    round(float(row["per_week"]), 3) if row is not None and adopters else None
                ),
                week4_retention_adopters=week4.get((feature.id, "adopters")),
                week4_retention_others=week4.get((feature.id, "others")),
            )
        )
    _flag(report.features, settings)
    return report


def _feature_days(ctx: Context, feature: Feature, first: date, last: date) -> ir.Table:
    """(person_id, day, n uses) of the feature."""
    from northstar.analyses.events import apply_spec, events_between

    t = apply_spec(ctx, events_between(ctx, first, last), feature.spec)
    t = t.mutate(day=ctx.local_date(t.timestamp))
    return t.group_by(["person_id", "day"]).aggregate(n=ibis._.count())


def _flag(rows: list[FeatureRow], settings: Settings) -> None:
    """'promote': low adoption, adopters use it often; 'rethink': barely used."""
    rules = settings.features
    freqs = [r.days_per_week for r in rows if r.days_per_week is not None]
    median = statistics.median(freqs) if freqs else None
    for r in rows:
        if r.adoption_rate is None:
            continue
        often = (
            median is not None
            and r.days_per_week is not None
            and r.days_per_week >= rules.promote_min_frequency_ratio * median
        )
        if r.adoption_rate < rules.promote_max_adoption and often:
            r.flag = "promote"
        elif r.adoption_rate < rules.rethink_max_adoption:
            r.flag = "rethink"
