"""The comments behind a score (``northstar feedback``): survey answers with a comment,
newest first, each with its promoter / passive / detractor group.

Groups:
* NPS answers, and team answers on a 0-10 scale (the eNPS): promoters 9-10, passives 7-8,
  detractors 0-6 — the cut-offs of ``nps`` and ``team_enps``;
* every other answer (CSAT, CES, USS, team surveys on other scales): promoters are the
  top two points of the answer's own scale (CSAT's "satisfied": 4-5 on 1-5), detractors
  the bottom two (1-2 on 1-5), passives the points between. On a scale of fewer than
  five points the top and bottom overlap; the top wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends.duckdb import Backend as IbisDuckDB

from northstar.errors import QueryArgumentError
from northstar.metrics.catalog.satisfaction import DETRACTOR_MAX, PROMOTER_MIN
from northstar.metrics.context import Context
from northstar.metrics.periods import Grain, Window, parse_date
from northstar.settings import Settings
from northstar.store.freshness import AsOf, freshness_fields

KINDS = ("nps", "csat", "ces", "uss", "team")
MAX_LIMIT = 10_000


class Group(StrEnum):
    promoter = "promoter"
    passive = "passive"
    detractor = "detractor"


@dataclass(frozen=True)
class Comment:
    responded_at: datetime  # in the workspace time zone
    respondent_id: str
    score: float
    scale_min: float
    scale_max: float
    group: Group
    comment: str
    response_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "responded_at": self.responded_at.isoformat(),
            "respondent_id": self.respondent_id,
            "score": self.score,
            "scale_min": self.scale_min,
            "scale_max": self.scale_max,
            "group": self.group.value,
            "comment": self.comment,
            "response_id": self.response_id,
        }


@dataclass
class Feedback:
    kind: str
    group: Group | None
    first: date | None  # None: from the first answer
    last: date
    where: str | None
    total: int  # matching comments before the limit
    groups: dict[str, int]  # comments per group in the range (before the group filter)
    comments: list[Comment] = field(default_factory=list)
    as_of: AsOf | None = None  # the workspace's as-of and freshness

    def to_dict(self) -> dict[str, Any]:
        return {
            **freshness_fields(self.as_of),
            "kind": self.kind,
            "group": self.group.value if self.group else None,
            "from": self.first.isoformat() if self.first else None,
            "to": self.last.isoformat(),
            **({"where": self.where} if self.where else {}),
            "total": self.total,
            "groups": self.groups,
            "comments": [c.to_dict() for c in self.comments],
        }

    def frame(self) -> pd.DataFrame:
        """One row per comment (for CSV)."""
        columns = list(Comment.__dataclass_fields__)
        return pd.DataFrame([c.to_dict() for c in self.comments], columns=columns)


def group_of(r: ir.Table, kind: str) -> ir.StringValue:
    """The promoter / passive / detractor group of each answer of ``r`` (module docstring)."""
    nps_like = ibis.literal(kind == "nps") | ((r.scale_min == 0) & (r.scale_max == 10))
    return ibis.cases(
        (nps_like & (r.score >= PROMOTER_MIN), Group.promoter.value),
        (nps_like & (r.score <= DETRACTOR_MAX), Group.detractor.value),
        (nps_like, Group.passive.value),
        (r.score >= r.scale_max - 1, Group.promoter.value),
        (r.score <= r.scale_min + 1, Group.detractor.value),
        else_=Group.passive.value,
    )


def feedback(
    backend: IbisDuckDB,
    settings: Settings,
    *,
    kind: str = "nps",
    group: str | Group | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
    where: str | None = None,
    limit: int = 50,
    today: date,
) -> Feedback:
    """Comments of ``kind`` survey answers given from ``start`` (default: the first) to
    ``end`` (default: today), local days, newest first, at most ``limit``."""
    if kind not in KINDS:
        raise QueryArgumentError(f"survey kind {kind!r} is not one of {'|'.join(KINDS)}")
    chosen = _group(group)
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryArgumentError(f"limit {limit}: give a number from 1 to {MAX_LIMIT}")
    last = parse_date(end, "end date") or today
    first = parse_date(start, "start date")
    if first is not None and first > last:
        raise QueryArgumentError(
            f"the start date {first} is after the end date {last}; swap them or widen the range"
        )
    window = Window(Grain.day, first or last, last, settings.week_start.value, today)
    ctx = Context(backend, settings, window, where=where or None)
    t = ctx.table("survey_responses")
    t = t.filter(t.survey == kind, t.comment.notnull(), t.comment.strip() != "")
    t = t.filter(t.responded_at < ctx.instant(last + timedelta(days=1)))
    if first is not None:
        t = t.filter(t.responded_at >= ctx.instant(first))
    t = ctx.segment(t, "survey_responses")
    t = t.mutate(group=group_of(t, kind))
    counts = t.group_by("group").aggregate(n=ibis._.count()).to_pandas()
    groups = {g.value: 0 for g in Group}
    groups.update({str(r["group"]): int(r["n"]) for r in counts.to_dict("records")})
    if chosen is not None:
        t = t.filter(t.group == chosen.value)
    picked = t.order_by([ibis.desc(t.responded_at), t.response_id]).limit(limit)
    rows = picked.select(
        "responded_at", "respondent_id", "score", "scale_min", "scale_max", "group",
        "comment", "response_id",
    ).to_pandas()  # fmt: skip
    total = groups[chosen.value] if chosen is not None else sum(groups.values())
    result = Feedback(kind, chosen, first, last, where or None, total, groups)
    for r in rows.to_dict("records"):
        at = pd.Timestamp(r["responded_at"]).tz_convert(settings.timezone).to_pydatetime()
        comment = Comment(
            responded_at=at,
            respondent_id=str(r["respondent_id"]),
            score=float(r["score"]),
            scale_min=float(r["scale_min"]),
            scale_max=float(r["scale_max"]),
            group=Group(r["group"]),
            comment=str(r["comment"]),
            response_id=str(r["response_id"]),
        )
        result.comments.append(comment)
    return result


def _group(value: str | Group | None) -> Group | None:
    if value is None or value == "":
        return None
    try:
        return Group(value)
    except ValueError:
        allowed = "|".join(g.value for g in Group)
        raise QueryArgumentError(f"group {value!r} is not one of {allowed}") from None
