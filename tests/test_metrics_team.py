"""Team metrics: sprint velocity and commitment, bug flow and backlog, cycle time, team survey.

Every expected number is computed by hand in a comment, or with pandas from the raw rows.
The ``ws`` workspace cuts days in Europe/Paris (UTC+1 in winter, UTC+2 from 29 March 2026).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pytest

from northstar.demo.load import load_demo
from northstar.workspace import Workspace
from tests.metric_fixtures import events

TODAY = date(2026, 12, 1)
FEB, MARCH, APRIL, MAY, JUNE = (date(2026, m, 1) for m in (2, 3, 4, 5, 6))
TS = pa.timestamp("us", "UTC")


def at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None


def query(
    ws: Workspace,
    metric: str,
    *,
    grain: str = "month",
    start: date = MARCH,
    end: str = "2026-05-31",
    **kw: object,
) -> pd.DataFrame:
    return ws.query(metric, grain=grain, start=start, end=end, use_cache=False, today=TODAY, **kw)


def values(df: pd.DataFrame, *keys: str) -> dict[object, float | None]:
    index = list(zip(*(df[k] for k in keys), strict=True)) if len(keys) > 1 else list(df[keys[0]])
    return {i: (None if math.isnan(v) else v) for i, v in zip(index, df["value"], strict=True)}


def monthly(ws: Workspace, metric: str, **kw: object) -> dict[object, float | None]:
    return values(query(ws, metric, **kw), "period")


def by_team(ws: Workspace, metric: str, **kw: object) -> dict[object, float | None]:
    return values(query(ws, metric, by="team", **kw), "period", "team")


# -- Sprints -------------------------------------------------------------------------------
SPRINTS = [
    # (id, team, ended_at UTC, committed, completed)
    ("A-1", "A", "2026-03-13T16:00:00", 20, 10),
    ("A-2", "A", "2026-03-27T16:00:00", 20, 16),
    ("A-3", "A", "2026-03-31T22:30:00", 30, 28),  # 00:30 on 1 April in Paris → April
    ("A-4", "A", "2026-04-24T16:00:00", 25, 22),
    ("B-1", "B", "2026-03-31T21:30:00", 12, 6),  # 23:30 on 31 March in Paris → March
    ("B-2", "B", "2026-04-10T16:00:00", 10, 10),
]


@pytest.fixture
def sprints(ws: Workspace) -> Workspace:
    ws.import_arrow(
        "sprints",
        pa.table(
            {
                "sprint_id": [s[0] for s in SPRINTS],
                "team": [s[1] for s in SPRINTS],
                "started_at": pa.array([at(s[2]) - timedelta(days=11) for s in SPRINTS], TS),
                "ended_at": pa.array([at(s[2]) for s in SPRINTS], TS),
                "committed_points": [float(s[3]) for s in SPRINTS],
                "completed_points": [float(s[4]) for s in SPRINTS],
            }
        ),
    )
    return ws


def test_sprint_velocity_is_the_mean_over_sprints_ended_in_the_period(sprints: Workspace) -> None:
    # March: A-1 10, A-2 16, B-1 6 → 32/3. April: A-3 28, A-4 22, B-2 10 → 60/3 = 20. May: none.
    assert monthly(sprints, "sprint_velocity") == pytest.approx(
        {MARCH: 32 / 3, APRIL: 20.0, MAY: None}
    )
    # By team: March A (10 + 16)/2 = 13, B 6; April A (28 + 22)/2 = 25, B 10.
    assert by_team(sprints, "sprint_velocity") == {
        (MARCH, "A"): 13.0, (APRIL, "A"): 25.0, (MAY, "A"): None,
        (MARCH, "B"): 6.0, (APRIL, "B"): 10.0, (MAY, "B"): None,
    }  # fmt: skip
    assert monthly(sprints, "sprint_velocity", where="team = 'B'") == {
        MARCH: 6.0,
        APRIL: 10.0,
        MAY: None,
    }


def test_sprint_velocity_3_is_the_trailing_three_sprint_mean_at_the_last_sprint(
    sprints: Workspace,
) -> None:
    # April: A's last sprint is A-4; its trailing three are → (16 + 28 + 22)/3 = 22.
    # B's last is B-2, with only B-1 before it → (6 + 10)/2 = 8. Across teams: (22 + 8)/2 = 15.
    # March: A at A-2 → (10 + 16)/2 = 13; B at B-1 → 6; across teams 9.5.
    assert by_team(sprints, "sprint_velocity_3") == {
        (MARCH, "A"): 13.0, (APRIL, "A"): 22.0, (MAY, "A"): None,
        (MARCH, "B"): 6.0, (APRIL, "B"): 8.0, (MAY, "B"): None,
    }  # fmt: skip
    assert monthly(sprints, "sprint_velocity_3") == {MARCH: 9.5, APRIL: 15.0, MAY: None}
    # A query that starts in April still reaches back to March's sprints for the trailing mean.
    assert monthly(sprints, "sprint_velocity_3", start=APRIL) == {APRIL: 15.0, MAY: None}


def test_sprint_commitment_is_completed_over_committed_points(sprints: Workspace) -> None:
    # March: (10 + 16 + 6) / (20 + 20 + 12) = 32/52. April: (28 + 22 + 10) / (30 + 25 + 10) = 60/65.
    assert monthly(sprints, "sprint_commitment") == pytest.approx(
        {MARCH: 32 / 52, APRIL: 60 / 65, MAY: None}
    )
    # Team A in April: 50/55.
    assert by_team(sprints, "sprint_commitment")[(APRIL, "A")] == pytest.approx(50 / 55)


# -- Work items ----------------------------------------------------------------------------
ITEMS = [
    # (id, kind, team, created_at, started_at, resolved_at) in UTC
    ("b1", "bug", "A", "2026-03-10T10:00:00", "2026-04-01T10:00:00", "2026-04-05T10:00:00"),
    ("b2", "bug", "A", "2026-03-31T22:30:00", None, None),  # 00:30 on 1 April in Paris; open
    # Resolved at 00:30 on 1 May in Paris: May's outflow, still open at the end of April.
    ("b3", "bug", "A", "2026-04-10T08:00:00", "2026-04-10T09:00:00", "2026-04-30T22:30:00"),
    ("b4", "bug", "A", "2026-04-12T08:00:00", "2026-04-12T08:00:00", "2026-04-12T14:00:00"),
    ("b5", "bug", "B", "2026-02-01T10:00:00", None, None),  # before the query window; open
    # 23:30 on 31 March in Paris → March's inflow.
    ("b6", "bug", "B", "2026-03-31T21:30:00", "2026-04-19T10:00:00", "2026-04-20T10:00:00"),
    ("s1", "story", "A", "2026-04-01T08:00:00", "2026-04-02T00:00:00", "2026-04-03T12:00:00"),
    ("t1", "task", "A", "2026-04-01T08:00:00", None, "2026-04-04T12:00:00"),  # never started
]


@pytest.fixture
def items(ws: Workspace) -> Workspace:
    ws.import_arrow(
        "work_items",
        pa.table(
            {
                "item_id": [i[0] for i in ITEMS],
                "kind": [i[1] for i in ITEMS],
                "team": [i[2] for i in ITEMS],
                "created_at": pa.array([at(i[3]) for i in ITEMS], TS),
                "started_at": pa.array([at(i[4]) for i in ITEMS], TS),
                "resolved_at": pa.array([at(i[5]) for i in ITEMS], TS),
                "severity": ["high" if i[0] in ("b1", "b2") else "low" for i in ITEMS],
            }
        ),
    )
    return ws


def test_bug_inflow_and_outflow_count_bugs_created_and_resolved(items: Workspace) -> None:
    # Created (Paris): Feb b5; March b1, b6; April b2, b3, b4; May none. Stories and tasks
    # are not bugs.
    assert monthly(items, "bug_inflow", start=FEB) == {FEB: 1.0, MARCH: 2.0, APRIL: 3.0, MAY: 0.0}
    # Resolved: April b1, b4, b6; May b3 (00:30 on 1 May in Paris).
    assert monthly(items, "bug_outflow", start=FEB) == {FEB: 0.0, MARCH: 0.0, APRIL: 3.0, MAY: 1.0}
    assert by_team(items, "bug_inflow")[(APRIL, "A")] == 3.0


def test_bug_backlog_counts_bugs_open_at_the_end_of_the_period(items: Workspace) -> None:
    # End of March in Paris (2026-03-31T22:00Z): created b5, b1, b6; none resolved → 3
    # (b5 was created before the query window and still counts).
    # End of April (2026-04-30T22:00Z): created all six; resolved b1, b4, b6 → 3 (b2, b3, b5).
    # End of May: b3 resolved too → 2 (b2, b5).
    assert monthly(items, "bug_backlog") == {MARCH: 3.0, APRIL: 3.0, MAY: 2.0}
    # By team at the end of April: A b2, b3 → 2; B b5 → 1.
    assert by_team(items, "bug_backlog")[(APRIL, "A")] == 2.0
    assert by_team(items, "bug_backlog")[(APRIL, "B")] == 1.0
    # Day by day: on 12 April b4 opens and closes the same day → b2, b3, b5, b6 = 4;
    # 20 April: b6 resolved → 3.
    daily = values(
        query(items, "bug_backlog", grain="day", start=date(2026, 4, 11), end="2026-04-20"),
        "period",
    )
    assert daily[date(2026, 4, 11)] == 4.0 and daily[date(2026, 4, 12)] == 4.0
    assert daily[date(2026, 4, 19)] == 4.0 and daily[date(2026, 4, 20)] == 3.0
    # Filtered on severity (b1 and b2 are high): end of March b1 → 1; April and May b2 → 1.
    assert monthly(items, "bug_backlog", where="severity = 'high'") == {
        MARCH: 1.0,
        APRIL: 1.0,
        MAY: 1.0,
    }


def test_bug_backlog_is_zero_before_any_bug(ws: Workspace) -> None:
    # no data at all: the backlog is unknown (null), not 0
    assert monthly(ws, "bug_backlog") == {MARCH: None, APRIL: None, MAY: None}
    assert monthly(ws, "bug_inflow") == {MARCH: None, APRIL: None, MAY: None}
    # data from February to June with no bug in it: a real 0 backlog
    events(ws, [("open", "u", "2026-02-01T10:00:00Z"), ("open", "u", "2026-06-01T10:00:00Z")])
    assert monthly(ws, "bug_backlog") == {MARCH: 0.0, APRIL: 0.0, MAY: 0.0}
    assert monthly(ws, "bug_inflow") == {MARCH: 0.0, APRIL: 0.0, MAY: 0.0}


def test_cycle_time_is_the_median_start_to_resolution_of_items_resolved_in_the_period(
    items: Workspace,
) -> None:
    # Resolved in April with a start: b1 4 days = 345600 s, b4 6 h = 21600 s, b6 1 day =
    # 86400 s, s1 1.5 days = 129600 s (t1 never started) → median (86400 + 129600)/2 = 108000.
    # May: b3 from 10 April 09:00 to 30 April 22:30 UTC = 20 days 13.5 h = 1776600 s.
    assert monthly(items, "cycle_time") == {MARCH: None, APRIL: 108000.0, MAY: 1776600.0}
    # Team B in April: b6 only.
    assert by_team(items, "cycle_time")[(APRIL, "B")] == 86400.0


# -- Team survey ---------------------------------------------------------------------------
def test_team_satisfaction_is_the_mean_team_survey_score(ws: Workspace) -> None:
    rows = [
        # (survey, responded_at UTC, score, team)
        ("team", "2026-03-31T21:00:00", 1, "B"),  # 23:00 on 31 March in Paris → March
        ("team", "2026-03-31T23:30:00", 3, "B"),  # 01:30 on 1 April in Paris → April
        ("team", "2026-04-02T09:00:00", 4, "A"),
        ("team", "2026-04-02T09:10:00", 5, "A"),
        ("team", "2026-04-02T09:20:00", 2, "B"),
        ("nps", "2026-04-02T09:30:00", 0, "A"),  # another survey
    ]
    ws.import_arrow(
        "survey_responses",
        pa.table(
            {
                "response_id": [f"r{i}" for i in range(len(rows))],
                "survey": [r[0] for r in rows],
                "respondent_id": [f"m{i}" for i in range(len(rows))],
                "responded_at": pa.array([at(r[1]) for r in rows], TS),
                "score": [float(r[2]) for r in rows],
                "scale_min": [1.0] * len(rows),
                "scale_max": [5.0] * len(rows),
                "properties": [json.dumps({"team": r[3]}) for r in rows],
            }
        ),
    )
    # March: 1. April: (3 + 4 + 5 + 2)/4 = 3.5. May: none.
    assert monthly(ws, "team_satisfaction") == {MARCH: 1.0, APRIL: 3.5, MAY: None}
    # By team in April: A (4 + 5)/2 = 4.5; B (3 + 2)/2 = 2.5.
    assert by_team(ws, "team_satisfaction")[(APRIL, "A")] == 4.5
    assert by_team(ws, "team_satisfaction")[(APRIL, "B")] == 2.5


# -- Cross-check on the demo product -------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.init(tmp_path_factory.mktemp("team") / "demo", timezone="Europe/Paris")
    load_demo(ws, users=300, days=180, seed=3)
    return ws


def _paris_day(ts: pd.Series) -> pd.Series:
    return (
        pd.to_datetime(ts, utc=True)
        .dt.tz_convert("Europe/Paris")
        .dt.tz_localize(None)
        .dt.normalize()
    )


def _month(day: pd.Series) -> pd.Series:
    return day.dt.to_period("M").dt.start_time.dt.date


def _demo(ws: Workspace, metric: str, by: str | None = None) -> pd.Series:
    df = ws.query(
        metric,
        grain="month",
        start="2026-01-01",
        end="2026-12-31",
        by=by,
        use_cache=False,
        today=TODAY,
    )
    return df.set_index(["period", by] if by else "period")["value"].dropna()


def test_demo_velocity_by_team_and_cycle_time_match_pandas(demo: Workspace) -> None:
    s = demo.sql("SELECT team, ended_at, completed_points FROM sprints").to_pandas()
    s["month"] = _month(_paris_day(s["ended_at"]))
    velocity = s.groupby(["month", "team"])["completed_points"].mean()
    pd.testing.assert_series_equal(
        _demo(demo, "sprint_velocity", "team"), velocity, check_names=False, check_index_type=False
    )

    w = demo.sql(
        "SELECT started_at, resolved_at FROM work_items WHERE started_at IS NOT NULL AND resolved_at IS NOT NULL"
    ).to_pandas()
    seconds = (w.resolved_at - w.started_at).dt.total_seconds()
    cycle = seconds.groupby(_month(_paris_day(w["resolved_at"]))).median()
    assert len(cycle) >= 4
    pd.testing.assert_series_equal(
        _demo(demo, "cycle_time"), cycle, check_names=False, check_index_type=False
    )


def test_demo_bug_backlog_and_flows_match_pandas(demo: Workspace) -> None:
    b = demo.sql("SELECT created_at, resolved_at FROM work_items WHERE kind = 'bug'").to_pandas()
    created, resolved = _paris_day(b["created_at"]), _paris_day(b["resolved_at"])
    inflow = created.groupby(_month(created)).size().astype("float64")
    got = _demo(demo, "bug_inflow")
    pd.testing.assert_series_equal(got[got > 0], inflow, check_names=False, check_index_type=False)
    # The backlog at each month's last day, counted bug by bug.
    months = sorted(set(_month(created)))
    expected = {}
    for m in months:
        last = pd.Timestamp(m) + pd.offsets.MonthEnd(0)
        expected[m] = float(((created <= last) & ~(resolved <= last)).sum())
    backlog = _demo(demo, "bug_backlog")
    assert {m: backlog[m] for m in months} == expected


def test_team_enps_counts_promoters_minus_detractors_on_0_10_answers(ws: Workspace) -> None:
    rows = [
        # (survey, responded_at UTC, score, scale_min, scale_max, team)
        ("team", "2026-03-31T21:00:00", 9, 0, 10, "A"),  # 23:00 on 31 March in Paris → March
        ("team", "2026-03-31T23:30:00", 3, 0, 10, "B"),  # 01:30 on 1 April in Paris → April
        ("team", "2026-04-02T09:00:00", 10, 0, 10, "A"),
        ("team", "2026-04-02T09:10:00", 9, 0, 10, "A"),
        ("team", "2026-04-02T09:20:00", 8, 0, 10, "B"),
        ("team", "2026-04-02T09:30:00", 7, 0, 10, "B"),
        ("team", "2026-04-02T09:40:00", 6, 0, 10, "A"),
        ("team", "2026-04-02T09:50:00", 5, 1, 5, "A"),  # a 1-5 question: not in the eNPS
        ("nps", "2026-04-02T10:00:00", 0, 0, 10, "A"),  # another survey
        ("team", "2026-05-02T09:00:00", 4, 1, 5, "A"),  # May: only a 1-5 answer
    ]
    ws.import_arrow(
        "survey_responses",
        pa.table(
            {
                "response_id": [f"r{i}" for i in range(len(rows))],
                "survey": [r[0] for r in rows],
                "respondent_id": [f"m{i}" for i in range(len(rows))],
                "responded_at": pa.array([at(r[1]) for r in rows], TS),
                "score": [float(r[2]) for r in rows],
                "scale_min": [float(r[3]) for r in rows],
                "scale_max": [float(r[4]) for r in rows],
                "properties": [json.dumps({"team": r[5]}) for r in rows],
            }
        ),
    )
    # March: one promoter of 1 → 100. April (0-10 answers): 3, 10, 9, 8, 7, 6 → n = 6,
    # promoters 2, detractors 2 (3 and 6) → 0. May: no 0-10 answer → no value.
    assert monthly(ws, "team_enps") == {MARCH: 100.0, APRIL: 0.0, MAY: None}
    assert monthly(ws, "team_enps_responses") == {MARCH: 1.0, APRIL: 6.0, MAY: 0.0}
    # By team in April: A 10, 9, 6 → (2 − 1)/3 = 33.33; B 3, 8, 7 → (0 − 1)/3 = −33.33.
    cells = by_team(ws, "team_enps")
    april = {key[1]: v for key, v in cells.items() if isinstance(key, tuple) and key[0] == APRIL}
    assert april == pytest.approx({"A": 100 / 3, "B": -100 / 3})
