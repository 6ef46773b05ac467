"""From results to what a template shows: formatted numbers, sparkline points, colours.

Presentation only: every number comes from a Workspace method; this module formats it
(``metrics/format.py``) and lays it out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from northstar import clock
from northstar.errors import QueryArgumentError
from northstar.goals.scorecard import (
    Scorecard,
    compact_target,
    focus_warning,
    kpi_row,
    p_hit_text,
    to_dict,
)
from northstar.goals.tracking import GoalProgress
from northstar.metrics.format import format_change, format_value
from northstar.metrics.periods import Grain, period_last_day
from northstar.metrics.spec import Unit
from northstar.present.charts import PREVIOUS, dataset


def status_class(status: str) -> str:
    """``"on track"`` → ``"on_track"`` (a CSS class)."""
    return status.replace(" ", "_")


def finite(value: float | None) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


def spark_points(values: Sequence[float | None], width: int = 120, height: int = 28) -> str:
    """SVG polyline points for a sparkline scaled between the series' min and max."""
    known = [(i, float(v)) for i, v in enumerate(values) if v is not None and finite(v)]
    if len(known) < 2:
        return ""
    low = min(v for _, v in known)
    high = max(v for _, v in known)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    pad = 2
    return " ".join(
        f"{i * step:.1f},{pad + (height - 2 * pad) * (1 - (v - low) / span):.1f}" for i, v in known
    )


def kpi_card(p: GoalProgress, currency: str) -> dict[str, Any]:
    """One KPI card: the scorecard's JSON row plus what the page shows."""
    row = kpi_row(p, currency)
    unit = p.spec.unit
    values = [h["value"] for h in row["history"]]
    known = [v for v in values if finite(v)]
    change = None
    if len(known) >= 2:
        last, prev = known[-1], known[-2]
        pct = (last - prev) / abs(prev) if prev else None
        better = (last - prev) * (1 if p.spec.direction.value == "higher" else -1)
        change = {
            "text": format_change(last - prev, pct, unit),
            "good": better > 0,
            "bad": better < 0,
        }
    progress = row["progress"]
    row.update(
        change=change,
        target_short=compact_target(p, currency),
        spark=spark_points(values),
        progress_pct=None if progress is None else max(0.0, min(progress, 1.0)) * 100,
        progress_text="–" if progress is None else f"{progress * 100:.0f} %",
        p_hit_text=p_hit_text(p.p_hit),
        status_label=row["status"].capitalize(),
        status_class=status_class(row["status"]),
        why=why_link(row["metric"], row["grain"], row["current_period"]),
    )
    return row


def goal_view(doc: dict[str, Any], currency: str) -> dict[str, Any]:
    """A goal's page (``Workspace.goal_detail``): its figures as text, and one chart of the
    history, the plan, the target and the forecast fan (P10–P90 shaded, P50 dashed)."""
    unit = Unit(doc["unit"])
    text = lambda v: format_value(v, unit, currency)  # noqa: E731
    history = {h["period"]: h["value"] for h in doc["history"]}
    plan = {p["period"]: p["value"] for p in doc.get("plan_line") or []}
    fan = {f["period"]: f for f in doc.get("fan") or []}
    labels = sorted({*history, *plan, *fan})
    datasets: list[dict[str, Any]] = [
        _line("actual", [history.get(x) for x in labels], "#3b5bdb", pointRadius=2),
    ]
    if fan:
        low = [fan[x]["p10"] if x in fan else None for x in labels]
        high = [fan[x]["p90"] if x in fan else None for x in labels]
        mid = [fan[x]["p50"] if x in fan else None for x in labels]
        datasets += [
            _line("forecast P10", low, "#748ffc", borderWidth=0),
            _line(
                "forecast P90",
                high,
                "#748ffc",
                borderWidth=0,
                fill="-1",
                backgroundColor="rgba(116, 143, 252, 0.25)",
            ),
            _line("forecast P50", mid, "#748ffc", borderDash=[4, 4]),
        ]
    if plan:
        datasets.append(_line("plan", [plan.get(x) for x in labels], "#2b8a3e",
                              borderDash=[6, 3], spanGaps=True))  # fmt: skip
    aim = doc.get("aim")
    if isinstance(aim, int | float):
        datasets.append(_line("target", [aim for _ in labels], "#c92a2a", borderWidth=1.5))
    chart = {"type": "line", "data": {"labels": labels, "datasets": datasets},
             "options": {"plugins": {"legend": {"position": "bottom"}}}}  # fmt: skip
    fc = doc.get("forecast") or {}
    rate = lambda v: "–" if v is None else ("+" if v >= 0 else "") + text(v)  # noqa: E731
    facts = [
        ("Now", f"{doc['current_text']} ({doc['current_period'] or '–'})"),
        ("Target", f"{doc['target_text']} by {doc['deadline']}"),
        ("Baseline", doc["baseline_text"]),
        ("Progress", "–" if doc["progress"] is None else f"{doc['progress'] * 100:.0f} %"),
        ("Expected now (plan)", doc.get("expected_text") or "–"),
        ("P(hit)", p_hit_text(doc["p_hit"])),
        ("Forecast at the deadline",
         "–" if not fc else f"{text(fc.get('p50'))} (P10 {text(fc.get('p10'))}, "
                            f"P90 {text(fc.get('p90'))})"),
        ("Run-rate needed / recent", f"{rate(doc['required_rate'])} / "
                                     f"{rate(doc['current_rate'])} per {doc['grain']}"),
    ]  # fmt: skip
    return {**doc, "chart": chart, "facts": facts, "status_class": status_class(doc["status"]),
            "status_label": str(doc["status"]).capitalize()}  # fmt: skip


def scorecard_view(card: Scorecard) -> dict[str, Any]:
    """The scorecard page: perspectives → objectives → KPI cards."""
    by_goal = {g.goal.id: kpi_card(g, card.currency) for g in card.goals()}
    data = to_dict(card)
    for p in data["perspectives"]:
        for o in p["objectives"]:
            o["cards"] = [by_goal[k["goal"]] for k in o["kpis"]]
    data["unaligned_cards"] = [by_goal[k["goal"]] for k in data["unaligned"]]
    data["empty"] = card.empty
    return data


def fmt(value: float | None, unit: Unit | str, currency: str = "USD") -> str:
    return format_value(value, Unit(unit), currency)


def headline_cards(kpis: Sequence[Any], currency: str) -> list[dict[str, Any]]:
    """Headline KPIs (``Workspace.headline_kpis``) for the empty scorecard."""
    return [
        {
            "title": k.spec.title,
            "value_text": format_value(k.value, k.spec.unit, currency),
            "change_text": format_change(k.change, k.change_pct, k.spec.unit)
            if k.change is not None
            else "",
        }
        for k in kpis
    ]


def metric_choices(registry: Any) -> list[tuple[str, list[dict[str, str]]]]:
    """Metrics grouped by category for the picker."""
    groups: dict[str, list[dict[str, str]]] = {}
    for spec in sorted(registry.metrics.values(), key=lambda s: (s.category.value, s.title)):
        groups.setdefault(spec.category.value, []).append({"id": spec.id, "title": spec.title})
    return sorted(groups.items())


def _label(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def goal_lines(progress: GoalProgress, grain: str) -> dict[str, Any] | None:
    """The target and the plan of a goal, per period start (for the explorer chart)."""
    from northstar.metrics.periods import shift_periods

    if progress.goal.grain.value != grain or progress.plan is None:
        return None
    start = progress.periods.baseline
    plan = {
        shift_periods(start, progress.goal.grain, k).isoformat(): float(v)
        for k, v in enumerate(progress.plan.values)
    }
    return {"goal": progress.goal.id, "aim": progress.aim, "plan": plan}


_QUERY_COLUMNS = ("metric", "period", "value", "complete", "previous", "change", "change_pct")


_line = dataset  # one chart module for pages and reports (northstar.present.charts)


CHART_KINDS = ("line", "bar")


def explorer_view(
    frame: Any, spec: Any, currency: str, lines: dict[str, Any] | None, kind: str = "",
    watch: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Chart data and table rows of a metric query (``Workspace.query``); ``kind`` is
    line or bar (default: bars for one or two periods, else lines)."""
    unit = spec.unit
    keys = [c for c in frame.columns if c not in _QUERY_COLUMNS]
    labels = sorted({_label(p) for p in frame["period"]})
    series: dict[str, dict[str, float | None]] = {}
    previous: dict[str, float | None] = {}
    rows = []
    for rec in frame.to_dict("records"):
        period = _label(rec["period"])
        name = " · ".join(str(rec[k]) for k in keys) or spec.title
        value = rec["value"] if finite(rec["value"]) else None
        series.setdefault(name, {})[period] = value
        if "previous" in rec and not keys:
            previous[period] = rec["previous"] if finite(rec["previous"]) else None
        rows.append(
            {
                "period": period,
                "dims": [str(rec[k]) for k in keys],
                "value": format_value(value, unit, currency),
                "previous": format_value(rec.get("previous"), unit, currency)
                if "previous" in rec
                else None,
                "change": format_change(rec.get("change"), rec.get("change_pct"), unit)
                if "change" in rec
                else None,
                "complete": bool(rec["complete"]),
            }
        )
    datasets: list[dict[str, Any]] = [
        {"label": name, "data": [values.get(p) for p in labels], "tension": 0.2}
        for name, values in series.items()
    ]
    if previous:
        data = [previous.get(p) for p in labels]
        datasets.append(_line("previous period", data, PREVIOUS, borderDash=[4, 4]))
    if lines is not None:
        data = [lines["plan"].get(p) for p in labels]
        datasets.append(_line("plan", data, "#2b8a3e", borderDash=[6, 3], spanGaps=True))
        if lines["aim"] is not None:
            data = [lines["aim"] for _ in labels]
            datasets.append(_line("target", data, "#c92a2a", borderWidth=1.5))
    if watch is not None and not keys:
        datasets += _watch_datasets(watch, labels)
    if kind not in CHART_KINDS:
        kind = "bar" if len(labels) <= 2 and not keys else "line"
    options: dict[str, Any] = {"plugins": {"legend": {"position": "bottom"}}}
    if kind == "bar" and keys:  # a breakdown over time: segments stacked in each period
        options["scales"] = {"x": {"stacked": True}, "y": {"stacked": True}}
    chart = {"type": kind, "data": {"labels": labels, "datasets": datasets}, "options": options}
    return {"dims": keys, "rows": rows, "chart": chart, "unit": unit.value,
            "has_compare": "previous" in frame.columns}  # fmt: skip


def _watch_datasets(watch: dict[str, Any], labels: list[str]) -> list[dict[str, Any]]:
    """The detector's expected range (shaded), the points it flags and the alerts that
    fired, on the explorer's chart (``Workspace.anomalies`` rows, alert history)."""
    rows = {str(r["period"])[:10]: r for r in watch.get("rows", [])}
    pick = lambda key: [rows[p][key] if p in rows else None for p in labels]  # noqa: E731
    flagged = [rows[p]["value"] if p in rows and rows[p]["anomaly"] else None for p in labels]
    fired = {str(a.get("period") or "")[:10] for a in watch.get("alerts", [])}
    alerts = [rows[p]["value"] if p in rows and p in fired else None for p in labels]
    out = [
        _line("expected low", pick("lower"), "#adb5bd", borderWidth=0),
        _line(
            "expected range",
            pick("upper"),
            "#adb5bd",
            borderWidth=0,
            fill="-1",
            backgroundColor="rgba(134, 142, 150, 0.15)",
        ),
    ]
    if any(v is not None for v in flagged):
        out.append({"type": "line", "label": "anomaly", "data": flagged, "color": "#e03131",
                    "showLine": False, "pointRadius": 5, "pointStyle": "circle"})  # fmt: skip
    if any(v is not None for v in alerts):
        out.append({"type": "line", "label": "alert sent", "data": alerts, "color": "#c92a2a",
                    "showLine": False, "pointRadius": 8, "pointStyle": "triangle"})  # fmt: skip
    return out


def heat(p: float | None) -> str:
    """Background of a retention cell: the accent colour, as strong as the share, kept
    light enough that dark text on it passes WCAG AA contrast (4.5:1) at every share."""
    if p is None or not finite(p):
        return "transparent"
    return f"rgba(59, 91, 219, {0.06 + 0.5 * max(0.0, min(p, 1.0)):.2f})"


def pct(p: float | None, digits: int = 1) -> str:
    return "–" if p is None or not finite(p) else f"{p * 100:.{digits}f} %"


def _retention_cell(k: int, count: int, size: int | None) -> dict[str, Any]:
    # The share from the counts (the table's percentages are already rounded to 2
    # decimals; rounding them again to 1 could differ from the count's share). A cohort
    # with no members has no share: "–", not 0 %.
    share = count / size if size else None
    text = pct(share)
    return {"k": k, "count": count, "text": text, "bg": heat(share), "light": True}


def retention_view(table: Any) -> dict[str, Any]:
    periods = max((len(c.counts) for c in table.cohorts), default=0)
    cohorts = [
        {
            "start": c.start.isoformat(),
            "size": c.size,
            "size_text": "–" if c.size is None else f"{c.size:,}",
            "partial": c.partial,
            "reason": c.reason,
            "cells": [
                {
                    **_retention_cell(k, n, c.size),
                    "partial": c.partial and k == len(c.counts) - 1,
                }
                for k, n in enumerate(c.counts)
            ],
        }
        for c in table.cohorts
    ]
    reasons = sorted({c.reason for c in table.cohorts if c.reason})
    return {"periods": list(range(periods)), "cohorts": cohorts, "reasons": reasons,
            "data": table.to_dict()}  # fmt: skip


def funnel_view(result: Any) -> dict[str, Any]:
    steps = [
        {
            "n": i + 1,
            "name": s.name,
            "count": s.count,
            "count_text": "–" if s.count is None else f"{s.count:,}",
            "from_start": pct(s.conversion_from_start),
            "from_previous": pct(s.conversion_from_previous),
            "median": "–"
            if s.median_seconds_to_convert is None
            else format_value(s.median_seconds_to_convert, Unit.seconds),
            "average": "–"
            if s.avg_seconds_to_convert is None
            else format_value(s.avg_seconds_to_convert, Unit.seconds),
        }
        for i, s in enumerate(result.steps)
    ]
    chart = {
        "type": "bar",
        "data": {
            "labels": [s["name"] for s in steps],
            "datasets": [{"label": "users", "data": [s["count"] for s in steps]}],
        },
        "options": {"plugins": {"legend": {"display": False}}},
    }
    return {"steps": steps, "chart": chart, "first": result.first, "last": result.last,
            "reason": result.reason, "partial": result.partial}  # fmt: skip


LIFECYCLE_COLOURS = {"new": "#3b5bdb", "returning": "#2b8a3e", "resurrecting": "#f08c00",
                     "dormant": "#c92a2a"}  # fmt: skip


def lifecycle_view(result: Any) -> dict[str, Any]:
    labels = [str(r["period"]) for r in result.rows]
    datasets = [
        {"label": s, "data": [r[s] for r in result.rows], "color": c}
        for s, c in LIFECYCLE_COLOURS.items()
    ]
    chart = {
        "type": "bar",
        "data": {"labels": labels, "datasets": datasets},
        "options": {"scales": {"x": {"stacked": True}, "y": {"stacked": True}},
                    "plugins": {"legend": {"position": "bottom"}}},
    }  # fmt: skip
    return {"rows": result.rows, "chart": chart, "statuses": list(LIFECYCLE_COLOURS),
            "reason": result.reason}  # fmt: skip


def stickiness_view(result: Any) -> dict[str, Any]:
    rows = result.histogram
    chart = {
        "type": "bar",
        "data": {
            "labels": [str(r["active_periods"]) for r in rows],
            "datasets": [{"label": "users", "data": [r["users"] for r in rows]}],
        },
        "options": {"plugins": {"legend": {"display": False}}},
    }
    total = sum(r["users"] or 0 for r in rows) or 1
    table = [r | {"share": pct(None if r["users"] is None else r["users"] / total)} for r in rows]
    return {"rows": table, "chart": chart, "grain": result.grain.value}


def features_view(report: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": f.name,
            "event": f.event,
            "active_users": f"{f.active_users:,}",
            "adopters": f"{f.adopters:,}",
            "adoption": pct(f.adoption_rate),
            "uses": "–" if f.uses_per_adopter is None else f"{f.uses_per_adopter:.1f}",
            "days": "–" if f.days_per_week is None else f"{f.days_per_week:.1f}",
            "ret_adopters": pct(f.week4_retention_adopters),
            "ret_others": pct(f.week4_retention_others),
            "flag": f.flag or "",
        }
        for f in report.features
    ]


def goals_by_objective(
    book: Any, registry: Any, currency: str, focus_limit: int
) -> list[dict[str, Any]]:
    """Objectives with their goals (and a last group for goals without an objective);
    ``focus`` says when an objective carries more KPIs than ``focus_limit``."""

    def goal(g: Any) -> dict[str, Any]:
        spec = registry.metrics.get(g.metric)
        unit = spec.unit if spec is not None else Unit.number
        return {
            "id": g.id,
            "metric": g.metric,
            "title": spec.title if spec is not None else g.metric,
            "where": g.where,
            "target": g.target.describe(unit, currency, g.baseline),
            "start": g.start.isoformat(),
            "deadline": g.deadline.isoformat(),
            "grain": g.grain.value,
            "owner": g.owner,
            "note": g.note,
            "plan": g.plan.value,
            "objectives": list(g.objectives),
            "revisions": [
                {
                    "at": r.at.strftime("%Y-%m-%d %H:%M"),
                    "by": r.by,
                    "reason": r.reason,
                    "changes": r.describe(unit, currency),
                }
                for r in g.revisions
            ],
        }

    out = []
    for o in book.objectives:
        goals = [goal(g) for g in book.goals if o.id in g.objectives]
        focus = focus_warning(o.id, len(goals), focus_limit) if len(goals) > focus_limit else ""
        out.append({"objective": o, "goals": goals, "focus": focus})
    loose = [goal(g) for g in book.goals if not g.objectives]
    if loose:
        out.append({"objective": None, "goals": loose, "focus": ""})
    return out


def smart_view(new: Any) -> dict[str, Any]:
    """The SMART check of a goal being typed, with the achievable verdict's numbers."""
    check = new.check
    a = check.achievability
    return {
        "ok": check.ok,
        "goal_id": new.goal.id,
        "checks": [
            {"letter": c.letter, "name": c.name, "state": c.state.value, "detail": c.detail}
            for c in check.checks
        ],
        "verdict": a.verdict.value,
        "detail": a.detail,
        "warnings": list(new.warnings),
    }


def template_view(t: Any, registry: Any, currency: str) -> dict[str, Any]:
    def target(k: Any) -> str:
        spec = registry.metrics.get(k.metric) if k.metric else None
        if k.existing:
            return f"already a goal: {k.existing}"
        if k.target is None or spec is None:
            return "–"
        text: str = k.target.describe(spec.unit, currency)
        return text

    return {
        "stage": t.stage.value,
        "start": t.start.isoformat(),
        "deadline": t.deadline.isoformat(),
        "objectives": [
            {
                "name": o.name,
                "perspective": o.perspective.value,
                "description": o.description,
                "kpis": [
                    {
                        "metric": k.metric or "–",
                        "why": k.why,
                        "note": k.note,
                        "target": target(k),
                    }
                    for k in o.kpis
                ],
            }
            for o in t.objectives
        ],
    }


def _ago(moment: Any, now: Any) -> str:
    seconds = (now - moment).total_seconds()
    if seconds < 120:
        return "just now"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def _moment(value: Any) -> str:
    if value is None:
        return "–"
    return value.strftime("%Y-%m-%d %H:%M" if hasattr(value, "hour") else "%Y-%m-%d")


def _fresh(value: Any, now: Any) -> str:
    if value is None:
        return "–"
    if not hasattr(value, "hour"):  # a date column: whole days
        days = (now.date() - value).days
        return "today" if days <= 0 else f"{days} day{'s' if days > 1 else ''} ago"
    if value.tzinfo is None:
        return "–"
    return _ago(value, now)


def tables_view(tables: Sequence[Any], timezone: str) -> list[dict[str, Any]]:
    """Tables with row counts and how fresh their newest row is."""

    now = clock.now(timezone)
    return [
        {
            "name": t.name,
            "rows": f"{t.rows:,}",
            "first": t.first.strftime("%Y-%m-%d") if t.first else "–",
            "last": _moment(t.last),
            "fresh": _fresh(t.last, now),
            "rejected": t.rejected,
            "empty": t.rows == 0,
        }
        for t in tables
    ]


def imports_view(imports: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "table": i["table_name"],
            "files": ", ".join(i["files"] or []),
            "at": i["started_at"].strftime("%Y-%m-%d %H:%M") if i["started_at"] else "–",
            "imported": f"{i['imported'] or 0:,}",
            "duplicates": f"{i['duplicates'] or 0:,}",
            "rejected": i["rejected"] or 0,
        }
        for i in imports
    ]


# -- experiments ------------------------------------------------------------------------
def _pct(x: float | None, signed: bool = True) -> str:
    if not finite(x):
        return "–"
    assert x is not None
    return f"{x:+.1%}" if signed else f"{x:.1%}"


def _plain(x: float | None) -> str:
    if not finite(x):
        return "–"
    assert x is not None
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def experiment_list_view(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The experiments table: one row per experiment with its arms as text."""
    rows = []
    for e in doc["experiments"]:
        rows.append({
            **e,
            "arms": ", ".join(f"{v} ({n:,})" for v, n in e["variations"].items()),
            "first": (e["first_exposure"] or "–")[:10],
            "last": (e["last_exposure"] or "–")[:10],
        })  # fmt: skip
    return rows


def experiment_view(doc: dict[str, Any]) -> dict[str, Any]:
    """An experiment's results (``ExperimentResult.to_dict()``): per metric and variation
    the figures as text, and the relative effect's interval as a bar on a shared scale."""
    alpha, correction = doc["alpha"], doc["correction"]
    bounds = [0.0]
    for r in doc["results"]:
        bounds += [x for x in r["relative"]["ci"] if finite(x)]
    lo, hi = min(bounds), max(bounds)
    pad = (hi - lo) * 0.08 or 0.1
    lo, hi = lo - pad, hi + pad
    scale = lambda x: 100 * (x - lo) / (hi - lo)  # noqa: E731
    metrics: dict[str, list[dict[str, Any]]] = {}
    for r in doc["results"]:
        rel = r["relative"]
        p = r["p_value_adjusted"] if correction != "none" else rel["p_value"]
        effect = rel["effect"]
        significant = finite(p) and p < alpha
        good = finite(effect) and (effect > 0) != r["lower_is_better"]
        verdict = "better" if significant and good else "worse" if significant else "unclear"
        ci = rel["ci"]
        bar = None
        if finite(ci[0]) and finite(ci[1]) and finite(effect):
            bar = {"x0": scale(ci[0]), "x1": scale(ci[1]), "mid": scale(effect)}
        metrics.setdefault(r["metric"], []).append({
            "variation": r["variation"],
            "n": f"{r['n']:,}",
            "mean": _plain(r["mean"]),
            "control_mean": _plain(r["control_mean"]),
            "change": _pct(effect),
            "ci": "–" if bar is None else f"{_pct(ci[0])} … {_pct(ci[1])}",
            "p": "–" if not finite(p) else ("< 0.0001" if p < 0.0001 else f"{p:.4f}"),
            "win": _pct(r["bayesian"]["chance_to_win"], signed=False),
            "risk": _pct(r["bayesian"]["risk"], signed=False),
            "verdict": verdict,
            "bar": bar,
            "note": r["note"],
        })  # fmt: skip
    srm = doc["srm"]
    srm_text = None
    if srm["mismatch"]:
        split = ", ".join(
            f"{v}: {n:,} users (expected {srm['expected'][v]:,.0f})"
            for v, n in srm["observed"].items()
        )
        srm_text = (
            f"Sample ratio mismatch: the arms do not have the planned share of users ({split}; "
            f"p = {srm['p_value']:.2g}). Assignment or tracking is broken, so these results "
            "cannot be trusted until it is fixed."
        )
    return {
        "metrics": metrics,
        "zero": scale(0.0),
        "scale": (_pct(lo), _pct(hi)),
        "srm": srm_text,
        "split": ", ".join(f"{v} {n:,}" for v, n in srm["observed"].items()),
        "method": (
            "sequential (always valid: safe to look at any time)"
            if doc["sequential"]
            else "fixed-horizon (decide at the planned sample size)"
        ),
        "correction": {"none": "none", "holm": "Holm–Bonferroni", "bh": "Benjamini–Hochberg"}[
            correction
        ],
        "guidance": doc["guidance"],
    }


# -- date presets -------------------------------------------------------------------------
PRESETS = {"7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days",
           "quarter": "This quarter"}  # fmt: skip


def preset_range(name: str, last: date) -> tuple[date, date]:
    """The days of a preset ending on ``last`` (the workspace's last day)."""
    if name in ("7d", "30d", "90d"):
        return last - timedelta(days=int(name[:-1]) - 1), last
    if name == "quarter":
        return date(last.year, 3 * ((last.month - 1) // 3) + 1, 1), last
    raise QueryArgumentError(
        f"unknown date range {name!r}; use one of {', '.join(PRESETS)} or pick the dates"
    )


# -- why did this change? ----------------------------------------------------------------
def why_link(metric: str, grain: str, period: Any) -> str | None:
    """The explain page for ``metric`` in the period starting ``period`` (against the one
    before): the "Why did this change?" action of KPI charts and cards."""
    if period is None or grain not in {g.value for g in Grain}:
        return None
    start = period if isinstance(period, date) else date.fromisoformat(str(period)[:10])
    end = period_last_day(start, Grain(grain))
    return "/explain?" + urlencode({"metric": metric, "from": start.isoformat(),
                                    "to": end.isoformat()})  # fmt: skip


def last_complete_period(frame: Any) -> Any:
    """The start of the last complete period of a query frame (None: none)."""
    if frame is None or frame.empty or "complete" not in frame:
        return None
    done = frame[frame["complete"].astype(bool)]
    return None if done.empty else max(done["period"])


def explain_view(doc: dict[str, Any], unit: Unit, currency: str) -> dict[str, Any]:
    """An explanation (``Explanation.to_dict()``) as the page shows it."""
    text = lambda v: format_value(v, unit, currency)  # noqa: E731
    ratio = doc["kind"] == "ratio"
    rows = []
    for s in doc["segments"]:
        share = s["contribution"]
        rows.append({
            "label": " and ".join(f"{d} = {v}" for d, v in s["dimensions"].items()),
            "dimensions": s["dimensions"],
            "baseline": text(s["baseline"]),
            "current": text(s["current"]),
            "change": "–" if s["change"] is None else format_change(s["change"], None, unit),
            "share": _pct(share, signed=False) if finite(share) else "–",
            "bar": None if not finite(share) else max(0.0, min(abs(share), 1.0)) * 100,
            "against": finite(share) and share < 0,
            "mix": _pct(s["mix_effect"]) if ratio else None,
            "rate": _pct(s["rate_effect"]) if ratio else None,
        })  # fmt: skip
    normal = doc.get("normal_variation")
    return {
        "metric": doc["metric"],
        "ratio": ratio,
        "current": {**doc["current"], "text": text(doc["current"]["value"])},
        "baseline": {**doc["baseline"], "text": text(doc["baseline"]["value"])},
        "change": "–"
        if doc["change"] is None
        else format_change(doc["change"], doc["change_pct"], unit),
        "summary": doc["summary"],
        "broad": doc["broad"],
        "normal": normal,
        "rows": rows,
        "feedback": doc["feedback"],
        "dimensions": doc["dimensions"],
        "skipped": doc["skipped_dimensions"],
    }


def picks_view(found: dict[str, Any]) -> dict[str, Any]:
    """The pickers' lists: event names, breakdown names (properties) and ready filters
    (``plan = 'pro'``) from the data's most frequent values."""
    properties: dict[str, list[str]] = found.get("properties", {})
    filters = [
        f"{key} = '{value}'"
        for key, values in properties.items()
        for value in values[:8]
        if "'" not in value and len(value) <= 60
    ]
    return {"events": found.get("events", []), "keys": sorted(properties), "filters": filters}
