"""What a report says: gathered from the workspace as of one day (docs/reports.md#content).

Every number comes from the functions the web and the CLI use for the same as-of (the
scorecard's rows, the metric query, explain, the alert history, the survey comments), so a
report never disagrees with the pages. The content is plain data; ``render`` turns it into
HTML, PDF, Markdown, text or a Slack message.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from northstar.errors import NorthstarError
from northstar.explain.service import ExplainRequest, Explanation
from northstar.goals.scorecard import Scorecard, p_hit_text, progress_text
from northstar.goals.scorecard import to_dict as scorecard_dict
from northstar.metrics.feedback import Feedback
from northstar.metrics.format import format_value
from northstar.metrics.periods import Grain, period_last_day, period_start, shift_periods
from northstar.metrics.query import QueryResult
from northstar.metrics.spec import Unit
from northstar.reports.config import Report
from northstar.settings import Settings
from northstar.store.freshness import AsOf

CHART_PERIODS = {"week": 13, "month": 12, "quarter": 8}  # periods drawn per KPI chart
ALERT_KEYS = ("rule", "metric", "period", "state", "value", "expected", "message")
MOVERS = 3  # the biggest movers shown with their drivers
FEEDBACK = 5  # survey comments quoted


class ReportSource(Protocol):
    """What a report reads (``Workspace`` provides it)."""

    settings: Settings

    def as_of(self, today: date | None = None) -> AsOf: ...

    def scorecard(self, *, today: date | None = None) -> Scorecard: ...

    def registry(self) -> Any: ...

    def run_query(
        self,
        metrics: str | Sequence[str],
        *,
        grain: str = "day",
        start: str | date | None = None,
        end: str | date | None = None,
        by: str | Sequence[str] | None = None,
        where: str | None = None,
        compare: str | None = None,
        use_cache: bool = True,
        today: date | None = None,
        explain: bool = False,
    ) -> QueryResult: ...

    def explain(
        self, request: ExplainRequest, *, today: date | None = None, feedback: bool = True
    ) -> Explanation: ...

    def alert_history(self, limit: int = 200) -> list[dict[str, Any]]: ...

    def feedback(
        self,
        kind: str = "nps",
        *,
        group: str | None = None,
        start: str | date | None = None,
        end: str | date | None = None,
        where: str | None = None,
        limit: int = 50,
        today: date | None = None,
    ) -> Feedback: ...


@dataclass
class ReportContent:
    report: Report
    product: str
    as_of: AsOf
    grain: str
    first: date  # the period reported on
    last: date
    previous_first: date  # the period it is compared with
    previous_last: date
    scorecard: dict[str, Any] | None = None
    goals: list[dict[str, Any]] = field(default_factory=list)
    kpis: list[dict[str, Any]] = field(default_factory=list)
    movers: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    notes: str | None = None
    problems: list[str] = field(default_factory=list)  # a section that could not be built

    @property
    def period_label(self) -> str:
        if self.grain == "week":
            return f"week of {self.first.isoformat()}"
        if self.grain == "month":
            return self.first.strftime("%B %Y")
        return f"Q{(self.first.month - 1) // 3 + 1} {self.first.year}"

    @property
    def subject(self) -> str:
        return f"{self.report.title} — {self.product} — {self.period_label}"

    def fingerprint(self) -> dict[str, Any]:
        """What ``only_if_changed`` compares: the numbers, not when they were read."""
        return {
            "scorecard": [
                (k["goal"], k["current_text"], k["status"])
                for k in (self.scorecard or {}).get("kpis", [])
            ],
            "kpis": [(k["metric"], k["value_text"], k["previous_text"]) for k in self.kpis],
            "alerts": [(a["rule"], a["period"], a["state"]) for a in self.alerts],
            "notes": self.notes,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.as_of.to_dict(),
            "report": self.report.name,
            "title": self.report.title,
            "product": self.product,
            "grain": self.grain,
            "period": {
                "from": self.first.isoformat(),
                "to": self.last.isoformat(),
                "label": self.period_label,
            },
            "compared_with": {
                "from": self.previous_first.isoformat(),
                "to": self.previous_last.isoformat(),
            },
            "scorecard": self.scorecard,
            "goals": self.goals,
            "kpis": self.kpis,
            "movers": self.movers,
            "alerts": self.alerts,
            "feedback": self.feedback,
            "notes": self.notes,
            "problems": self.problems,
        }


def report_window(today: date, grain: str, week_start: str = "monday") -> tuple[date, date]:
    """The last complete period before ``today`` (the as-of day)."""
    g = Grain(grain)
    current = period_start(today, g, week_start)
    first = shift_periods(current, g, -1)
    return first, period_last_day(first, g)


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f} %"


def build_report(
    source: ReportSource, report: Report, *, today: date | None = None
) -> ReportContent:
    """Gather ``report``'s sections as of ``today`` (the workspace's as-of by default)."""
    now = source.as_of(today)
    settings = source.settings
    week_start = settings.week_start.value
    grain = report.grain
    first, last = report_window(now.today, grain, week_start)
    previous_first = shift_periods(first, Grain(grain), -1)
    content = ReportContent(
        report, settings.name, now, grain, first, last, previous_first,
        period_last_day(previous_first, Grain(grain)), notes=report.notes,
    )  # fmt: skip
    sections = set(report.sections)
    card: Scorecard | None = None
    if sections & {"scorecard", "goals"}:
        card = source.scorecard(today=now.today)
        doc = scorecard_dict(card)
        if "scorecard" in sections:
            content.scorecard = _scorecard_section(doc)
        if "goals" in sections:
            content.goals = _goal_rows(doc)
    if sections & {"kpis", "movers"}:
        content.kpis = _kpis(source, report, content, card)
    if "movers" in sections:
        content.movers = _movers(source, content)
    if "alerts" in sections:
        content.alerts = _alerts(source.alert_history(1000), first, last)
    if "feedback" in sections:
        content.feedback = _feedback(source, content)
    if "notes" not in sections:
        content.notes = None
    return content


def _scorecard_section(doc: dict[str, Any]) -> dict[str, Any]:
    perspectives = []
    rows: list[dict[str, Any]] = []
    for p in doc["perspectives"]:
        objectives = []
        for o in p["objectives"]:
            kpis = [_kpi_line(k) for k in o["kpis"]]
            rows += kpis
            objectives.append({"name": o["name"], "owner": o["owner"], "kpis": kpis})
        if objectives:
            perspectives.append({"title": p["title"], "objectives": objectives})
    if doc["unaligned"]:
        kpis = [_kpi_line(k) for k in doc["unaligned"]]
        rows += kpis
        alone = [{"name": "", "owner": None, "kpis": kpis}]
        perspectives.append({"title": "Not aligned to an objective", "objectives": alone})
    return {"statuses": doc["statuses"], "perspectives": perspectives, "kpis": rows,
            "warnings": doc["warnings"]}  # fmt: skip


def _kpi_line(k: dict[str, Any]) -> dict[str, Any]:
    title = k["title"] + (f" ({k['segment']})" if k["segment"] else "")
    return {
        "goal": k["goal"], "metric": k["metric"], "title": title,
        "current_text": k["current_text"], "target_text": k["target_text"],
        "deadline": k["deadline"], "progress": k["progress"],
        "progress_text": progress_text(k["progress"]), "status": k["status"],
        "reason": k["reason"], "p_hit": k["p_hit"], "p_hit_text": p_hit_text(k["p_hit"]),
        "sparkline": k["sparkline"],
    }  # fmt: skip


def _goal_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    every = [k for p in doc["perspectives"] for o in p["objectives"] for k in o["kpis"]]
    for k in every + doc["unaligned"]:
        if k["goal"] in seen:
            continue
        fc = k["forecast"]
        unit = Unit(k["unit"])
        seen[k["goal"]] = {
            **_kpi_line(k),
            "expected_text": k["expected_text"],
            "forecast": None if fc is None else {
                "model": fc["model"],
                "p10": format_value(fc["p10"], unit), "p50": format_value(fc["p50"], unit),
                "p90": format_value(fc["p90"], unit),
            },
            "history": k["history"], "unit": k["unit"],
        }  # fmt: skip
    return list(seen.values())


def _kpis(
    source: ReportSource, report: Report, content: ReportContent, card: Scorecard | None
) -> list[dict[str, Any]]:
    registry = source.registry()
    ids = list(report.kpis)
    if not ids and card is not None:
        ids = list(dict.fromkeys(g.spec.id for g in card.goals()))
    if not ids:
        ids = [m for m in ("mau", "mrr", "nps") if m in registry.metrics]
    g = Grain(content.grain)
    start = shift_periods(content.first, g, -(CHART_PERIODS[content.grain] - 1))
    try:
        result = source.run_query(
            ids, grain=content.grain, start=start, end=content.last, compare="previous",
            today=content.as_of.today,
        )  # fmt: skip
    except NorthstarError as exc:
        content.problems.append(f"KPI charts: {exc}")
        return []
    frame = result.frame
    currency = source.settings.currency
    out = []
    for metric in ids:
        spec = registry.get(metric)
        rows = frame[frame["metric"] == spec.id].sort_values("period")
        series: list[dict[str, Any]] = [
            {
                "period": str(r["period"])[:10],
                "value": _num(r["value"]),
                "previous": _num(r.get("previous")),
            }
            for r in rows.to_dict("records")
        ]
        now = next((s for s in series if s["period"] == content.first.isoformat()), None)
        value = now["value"] if now else None
        previous = now["previous"] if now else None
        change = None if value is None or previous is None else value - previous
        change_pct = None if change is None or not previous else change / abs(previous)
        out.append({
            "metric": spec.id, "title": spec.title, "unit": spec.unit.value,
            "direction": spec.direction.value,
            "value": value, "value_text": format_value(value, spec.unit, currency),
            "previous": previous, "previous_text": format_value(previous, spec.unit, currency),
            "change": change, "change_pct": change_pct, "change_text": _pct(change_pct),
            "good": None if change is None or change == 0 else (
                (change > 0) == (spec.direction.value == "higher")),
            "series": series,
        })  # fmt: skip
    return out


def _movers(source: ReportSource, content: ReportContent) -> list[dict[str, Any]]:
    moved = [k for k in content.kpis if k["change_pct"]]  # a KPI that did not move is no mover
    moved.sort(key=lambda k: abs(k["change_pct"]), reverse=True)
    # the movers' explanations are independent queries: run them side by side
    with ThreadPoolExecutor(max_workers=MOVERS) as pool:
        return list(pool.map(lambda kpi: _mover(source, content, kpi), moved[:MOVERS]))


def _mover(source: ReportSource, content: ReportContent, kpi: dict[str, Any]) -> dict[str, Any]:
    """A mover with the segments that drove it (explain, depth 1)."""
    drivers: list[str] = []
    try:
        found = source.explain(
            ExplainRequest(kpi["metric"], content.first, content.last, depth=1, top=3),
            today=content.as_of.today,
            feedback=False,
        )
        for s in found.segments:
            share = f" ({s.contribution:.0%} of the change)" if s.contribution is not None else ""
            drivers.append(" and ".join(f"{d} = {v}" for d, v in s.key) + share)
        summary = found.summary
    except NorthstarError as exc:
        summary = f"no explanation: {exc}"
    return {"metric": kpi["metric"], "title": kpi["title"],
            "value_text": kpi["value_text"], "previous_text": kpi["previous_text"],
            "change_text": kpi["change_text"], "good": kpi["good"],
            "summary": summary, "drivers": drivers}  # fmt: skip


def _alerts(history: list[dict[str, Any]], first: date, last: date) -> list[dict[str, Any]]:
    out = []
    for entry in history:
        moment = str(entry.get("period") or entry.get("at") or "")[:10]
        try:
            day = date.fromisoformat(moment)
        except ValueError:
            continue
        if first <= day <= last and entry.get("state") in ("fired", "resolved"):
            out.append({k: entry.get(k) for k in ALERT_KEYS})
    return out


def _feedback(source: ReportSource, content: ReportContent) -> list[dict[str, Any]]:
    try:
        found = source.feedback(
            "nps", start=content.first, end=content.last, limit=FEEDBACK,
            today=content.as_of.today,
        )  # fmt: skip
    except NorthstarError:
        return []
    return [
        {
            "comment": c["comment"],
            "score": c["score"],
            "group": c["group"],
            "responded_at": str(c["responded_at"])[:10],
        }
        for c in found.to_dict().get("comments") or []
        if c.get("comment")
    ]
