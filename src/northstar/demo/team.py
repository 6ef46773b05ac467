"""The engineering side: two-week sprints, stories, tasks and bugs of three teams.

Sprint points are the sums of their stories' points, so velocity and commitment agree
with the work items. The Android incident floods the mobile team with critical bugs
and derails its sprint.
"""

from __future__ import annotations

import json

import numpy as np

from northstar.demo.arrays import expand
from northstar.demo.incidents import IncidentPlan
from northstar.demo.tables import NULL_TIME, ColumnData
from northstar.demo.timeline import US_PER_DAY, US_PER_HOUR, Timeline

TEAMS = ("platform", "growth", "mobile")
_KEYS = {"platform": "PLAT", "growth": "GROW", "mobile": "MOB"}
_COMPLETION = {"platform": 0.9, "growth": 0.85, "mobile": 0.82}  # share of stories done in time
MEMBERS = {
    "platform": ("ana", "bo", "chen", "dara", "eli"),
    "growth": ("farah", "gus", "hana", "ivan", "jo"),
    "mobile": ("kai", "lena", "milo", "nia", "omar"),
}
SEVERITIES = ("critical", "high", "medium", "low")
_SEVERITY_SHARE = np.array([0.05, 0.2, 0.45, 0.3])
_HOURS_TO_FIX = np.array([6.0, 30.0, 100.0, 260.0])  # median hours from start to resolution
SPRINT_DAYS = 14
_POINTS = np.array([1, 2, 3, 5, 8])


def _rows() -> dict[str, list[object]]:
    keys = ("kind", "team", "created_at", "started_at", "resolved_at", "points", "severity")
    return {k: [] for k in (*keys, "properties")}


def sprints_and_work_items(
    timeline: Timeline, plan: IncidentPlan, rng: np.random.Generator
) -> tuple[dict[str, ColumnData], dict[str, ColumnData]]:
    """The ``sprints`` and ``work_items`` columns."""
    first = timeline.first_day
    first_monday = first + int((7 - timeline.weekday[first]) % 7)
    starts = list(range(first_monday, timeline.days - SPRINT_DAYS + 1, SPRINT_DAYS))
    drop = (plan.dau_drop_start, plan.dau_drop_end)
    sprints: dict[str, list[object]] = {
        k: []
        for k in (
            "sprint_id",
            "team",
            "started_at",
            "ended_at",
            "committed_points",
            "completed_points",
            "properties",
        )
    }
    items = _rows()
    for team in TEAMS:
        for number, day in enumerate(starts, start=1):
            begin = timeline.start_us + day * US_PER_DAY + 9 * US_PER_HOUR
            finish = begin + (SPRINT_DAYS - 3) * US_PER_DAY + 8 * US_PER_HOUR  # Friday 17:00
            sprint_id = f"{team}-{number:02d}"
            firefighting = team == "mobile" and day < drop[1] and day + SPRINT_DAYS > drop[0]
            done_rate = _COMPLETION[team] * (0.55 if firefighting else 1.0)
            n = int(rng.integers(7, 12))
            points = rng.choice(_POINTS, size=n, p=[0.15, 0.25, 0.3, 0.2, 0.1])
            created = begin - (rng.uniform(1, 30, n) * US_PER_DAY).astype(np.int64)
            created = np.maximum(created, timeline.visible_start_us + US_PER_HOUR)
            started = begin + (rng.uniform(0, 8, n) * US_PER_DAY).astype(np.int64)
            on_time = rng.random(n) < done_rate
            took = (rng.lognormal(np.log(2.5), 0.5, n) * US_PER_DAY).astype(np.int64)
            resolved = np.where(
                on_time,
                np.minimum(started + took, finish - US_PER_HOUR),
                finish + (rng.uniform(1, 10, n) * US_PER_DAY).astype(np.int64),
            )
            resolved = np.where(resolved < timeline.end_us, resolved, NULL_TIME)
            items["kind"] += ["story"] * n
            items["team"] += [team] * n
            items["created_at"] += created.tolist()
            items["started_at"] += started.tolist()
            items["resolved_at"] += resolved.tolist()
            items["points"] += points.astype(float).tolist()
            items["severity"] += [None] * n
            items["properties"] += [json.dumps({"sprint_id": sprint_id})] * n
            _tasks(items, team, sprint_id, begin, finish, timeline, rng)
            sprints["sprint_id"].append(sprint_id)
            sprints["team"].append(team)
            sprints["started_at"].append(begin)
            sprints["ended_at"].append(finish)
            sprints["committed_points"].append(float(points.sum()))
            sprints["completed_points"].append(float(points[on_time].sum()))
            sprints["properties"].append(json.dumps({"goal": f"{team} sprint {number}"}))
        _bugs(items, team, timeline, plan, rng)
    return dict(sprints), _finish_items(items)


def _tasks(
    items: dict[str, list[object]],
    team: str,
    sprint_id: str,
    begin: int,
    finish: int,
    timeline: Timeline,
    rng: np.random.Generator,
) -> None:
    """Chores planned into a sprint without story points."""
    n = int(rng.integers(1, 4))
    started = begin + (rng.uniform(0, 6, n) * US_PER_DAY).astype(np.int64)
    resolved = started + (rng.uniform(0.2, 3, n) * US_PER_DAY).astype(np.int64)
    items["kind"] += ["task"] * n
    items["team"] += [team] * n
    items["created_at"] += [begin - US_PER_HOUR] * n
    items["started_at"] += started.tolist()
    items["resolved_at"] += [r if r < timeline.end_us else NULL_TIME for r in resolved.tolist()]
    items["points"] += [None] * n
    items["severity"] += [None] * n
    items["properties"] += [json.dumps({"sprint_id": sprint_id})] * n


def _bugs(
    items: dict[str, list[object]],
    team: str,
    timeline: Timeline,
    plan: IncidentPlan,
    rng: np.random.Generator,
) -> None:
    per_day = rng.poisson(0.45, timeline.days)
    per_day[: timeline.first_day] = 0  # the tracker's history starts with the data
    incident = np.zeros(timeline.days, dtype=bool)
    if team == "mobile":
        incident[plan.dau_drop_start : plan.dau_drop_end] = True
        per_day[incident] += rng.poisson(3.0, int(incident.sum()))
    day, _ = expand(per_day)
    n = len(day)
    created = (
        timeline.start_us
        + day * US_PER_DAY
        + (rng.uniform(7, 19, n) * US_PER_HOUR).astype(np.int64)
    )
    severity = rng.choice(len(SEVERITIES), size=n, p=_SEVERITY_SHARE)
    severity = np.where(incident[day] & (rng.random(n) < 0.6), 0, severity)  # login broken
    wait = rng.lognormal(np.log(_HOURS_TO_FIX[severity] / 4), 0.8) * US_PER_HOUR
    started = created + wait.astype(np.int64)
    fix = rng.lognormal(np.log(_HOURS_TO_FIX[severity]), 0.7) * US_PER_HOUR
    resolved = started + fix.astype(np.int64)
    never = (severity == 3) & (rng.random(n) < 0.25)  # some low bugs are never worked on
    started = np.where(never | (started >= timeline.end_us), NULL_TIME, started)
    resolved = np.where((started == NULL_TIME) | (resolved >= timeline.end_us), NULL_TIME, resolved)
    items["kind"] += ["bug"] * n
    items["team"] += [team] * n
    items["created_at"] += created.tolist()
    items["started_at"] += started.tolist()
    items["resolved_at"] += resolved.tolist()
    items["points"] += [None] * n
    items["severity"] += [SEVERITIES[s] for s in severity.tolist()]
    platform = ["Android" if team == "mobile" and incident[d] else "web" for d in day.tolist()]
    items["properties"] += [json.dumps({"platform": p}) for p in platform]


def _finish_items(items: dict[str, list[object]]) -> dict[str, ColumnData]:
    """Order items by creation and number them per team, as a tracker does (PLAT-1, ...)."""
    created = np.array(items["created_at"], dtype=np.int64)
    order = np.argsort(created, kind="stable")
    teams = [items["team"][k] for k in order.tolist()]
    counters = dict.fromkeys(TEAMS, 0)
    ids = []
    for team in teams:
        counters[str(team)] += 1
        ids.append(f"{_KEYS[str(team)]}-{counters[str(team)]}")
    columns: dict[str, ColumnData] = {"item_id": ids}
    for key, values in items.items():
        columns[key] = [values[k] for k in order.tolist()]
    columns["points"] = np.array([np.nan if v is None else v for v in columns["points"]])
    return columns
