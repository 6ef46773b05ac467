"""Engagement metrics on a hand-made event log; every expected number is worked out in
the comments."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from northstar.workspace import Workspace
from tests.metric_fixtures import events, load

TODAY = date(2026, 6, 1)
LOG = [
    ("open", "u3", "2026-02-10T10:00:00Z"),
    ("open", "u1", "2026-03-01T10:00:00Z"),
    ("$pageview", "a1", "2026-03-01T09:00:00Z"),  # anonymous, later identified as u2
    ("$identify", "u2", "2026-03-01T09:30:00Z"),  # passive
    ("open", "u2", "2026-03-01T11:00:00Z"),
    ("open", "u1", "2026-03-02T10:00:00Z"),
    ("$pageleave", "u1", "2026-03-03T10:00:00Z"),  # passive: u1 is not active on Mar 3
    ("open", "u2", "2026-03-05T10:00:00Z"),
    # The data spans Jan 1 to May 31 (passive page-leaves): quiet days inside are real
    # zeros; days outside have no data (null).
    ("$pageleave", "zz", "2026-01-01T12:00:00Z"),
    ("$pageleave", "zz", "2026-05-31T12:00:00Z"),
]
PROPS = ['{"$os": "Android"}', '{"$os": "iOS"}', "{}", '{"$anon_distinct_id": "a1"}',
         '{"$os": "Android"}', '{"$os": "iOS"}', "{}", '{"$os": "iOS"}', "{}", "{}"]  # fmt: skip


def make(tmp_path: Path, **settings: object) -> Workspace:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC", **settings)
    events(ws, LOG, PROPS)
    return ws


@pytest.fixture
def log(tmp_path: Path) -> Workspace:
    return make(tmp_path)


def values(
    ws: Workspace, metric: str, grain: str, start: str, end: str, **kw: object
) -> list[float | None]:
    df = ws.query(metric, grain=grain, start=start, end=end, use_cache=False, today=TODAY, **kw)  # type: ignore[arg-type]
    return [None if v != v else round(float(v), 4) for v in df["value"]]


def test_dau_counts_persons_after_identity_merging_and_skips_passive_events(log: Workspace) -> None:
    # Mar 1: u1, u2 (a1 is u2) = 2; Mar 2: u1; Mar 3: only a $pageleave; Mar 4: nothing; Mar 5: u2
    assert values(log, "dau", "day", "2026-03-01", "2026-03-05") == [2, 1, 0, 0, 1]


def test_raw_distinct_ids_when_merging_is_off(tmp_path: Path) -> None:
    ws = make(tmp_path, events={"merge_identities": False})
    assert values(ws, "dau", "day", "2026-03-01", "2026-03-01") == [3]  # u1, a1, u2


def test_wau_and_mau_are_trailing_windows(log: Workspace) -> None:
    # WAU Mar 7 = {u1 (Mar 1-2), u2} = 2; Mar 8 window Mar 2-8 = {u1, u2}; Mar 9 window 3-9 = {u2}
    assert values(log, "wau", "day", "2026-03-07", "2026-03-09") == [2, 2, 1]
    # MAU Mar 1 (Jan 31 - Mar 1) = {u3, u1, u2}; Mar 11 (Feb 10 - Mar 11) still has u3;
    # Mar 12 (Feb 11 - Mar 12) = {u1, u2}
    assert values(log, "mau", "day", "2026-03-01", "2026-03-01") == [3]
    assert values(log, "mau", "day", "2026-03-11", "2026-03-12") == [3, 2]
    # at month grain: the value on the month's last day; Mar 31 window (Mar 2-31) = {u1, u2}
    assert values(log, "mau", "month", "2026-02-01", "2026-03-31") == [1, 2]


def test_calendar_active_users_new_users_churn_and_frequency(log: Workspace) -> None:
    assert values(log, "active_users", "month", "2026-02-01", "2026-03-31") == [1, 2]
    # first activity: u3 in February; u1 and u2 (via a1's pageview) in March
    assert values(log, "new_users", "month", "2026-02-01", "2026-03-31") == [1, 2]
    # February's only active user (u3) is not active in March -> 1/1
    assert values(log, "user_churn_rate", "month", "2026-03-01", "2026-03-31") == [1.0]
    # u1 active on Mar 1 and 2, u2 on Mar 1 and 5 -> 2 days each
    assert values(log, "usage_frequency", "month", "2026-03-01", "2026-03-31") == [2.0]
    # Mar 1: dau 2 / mau 3
    assert values(log, "stickiness", "day", "2026-03-01", "2026-03-01") == [0.6667]


def test_dau_over_a_week_is_the_mean_daily_value(log: Workspace) -> None:
    # week of Mon Mar 2 - Sun Mar 8: 1 + 0 + 0 + 1 + 0 + 0 + 0 = 2 over 7 days
    assert values(log, "dau", "week", "2026-03-02", "2026-03-08") == [round(2 / 7, 4)]


def test_week_start_setting(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w", timezone="UTC", week_start="sunday")
    events(ws, [("open", "x", "2026-03-07T12:00:00Z"), ("open", "y", "2026-03-08T12:00:00Z")])
    # Sat Mar 7 is in the week of Sun Mar 1; Sun Mar 8 starts the next week
    df = ws.query("active_users", grain="week", start="2026-03-01", end="2026-03-14", today=TODAY)
    assert [str(p) for p in df["period"]] == ["2026-03-01", "2026-03-08"]
    assert df["value"].tolist() == [1, 1]


def test_days_are_cut_in_the_workspace_time_zone(ws: Workspace) -> None:
    # 23:30 UTC on Mar 1 is 00:30 on Mar 2 in Paris
    events(ws, [("open", "x", "2026-03-01T23:30:00Z")])
    # ... so the data starts on Mar 2: Mar 1 has no data (null), not 0
    assert values(ws, "dau", "day", "2026-03-01", "2026-03-02") == [None, 1]
    events(ws, [("$pageleave", "zz", "2026-02-28T12:00:00Z")])  # now it starts on Feb 28
    assert values(ws, "dau", "day", "2026-03-01", "2026-03-02") == [0, 1]


def test_breakdown_and_filter_by_user_and_event_properties(log: Workspace) -> None:
    load(log, "users", ("user_id", "created_at", "properties"),
         [("u1", "2026-03-01T00:00:00Z", '{"plan": "pro"}'),
          ("u2", "2026-03-01T00:00:00Z", '{"plan": "free"}')])  # fmt: skip
    df = log.query(
        "active_users", grain="month", start="2026-02-01", end="2026-03-31", by="plan", today=TODAY
    )
    got = {(str(r.period), r.plan): r.value for r in df.itertuples()}
    # u3 has no user row -> "(none)"; every key appears in every period (0 when absent)
    assert got == {
        ("2026-02-01", "(none)"): 1, ("2026-02-01", "free"): 0, ("2026-02-01", "pro"): 0,
        ("2026-03-01", "(none)"): 0, ("2026-03-01", "free"): 1, ("2026-03-01", "pro"): 1,
    }  # fmt: skip
    assert values(log, "dau", "day", "2026-03-01", "2026-03-01", where="plan = 'pro'") == [1]
    # Android events: u3 Feb 10 and u2 Mar 1
    assert values(
        log, "active_users", "month", "2026-02-01", "2026-03-31", where="$os = 'Android'"
    ) == [1, 1]
    df = log.query("dau", grain="day", start="2026-03-01", end="2026-03-02", by="$os", today=TODAY)
    got = {(str(r.period), r._3): r.value for r in df.itertuples()}
    # Mar 1: u2 on Android, u1 on iOS, and u2's anonymous pageview without $os;
    # Mar 2: u1 on iOS only
    assert got == {("2026-03-01", "Android"): 1, ("2026-03-01", "iOS"): 1,
                   ("2026-03-01", "(none)"): 1, ("2026-03-02", "Android"): 0,
                   ("2026-03-02", "iOS"): 1, ("2026-03-02", "(none)"): 0}  # fmt: skip


def test_compare_with_previous_period_and_completeness(log: Workspace) -> None:
    df = log.query("active_users", grain="month", start="2026-03-01", end="2026-03-31",
                   compare="previous", today=date(2026, 3, 15))  # fmt: skip
    row = df.iloc[0]
    assert (row.value, row.previous, row.change, row.change_pct) == (2, 1, 1, 1.0)
    assert not row.complete  # March has not ended on Mar 15


def test_local_days_around_daylight_saving_switches(ws: Workspace) -> None:
    # Paris: 2026-10-24T22:30Z is 00:30 CEST on Oct 25; 2026-10-25T22:30Z is 23:30 CET on
    # Oct 25 (clocks went back at 01:00Z); 2026-03-28T23:30Z is 00:30 CET on Mar 29.
    events(ws, [("open", "a", "2026-10-24T22:30:00Z"), ("open", "b", "2026-10-25T22:30:00Z"),
                ("open", "c", "2026-03-28T23:30:00Z")])  # fmt: skip
    # The data spans Mar 29 to Oct 25 (Paris): Oct 24 is a real 0, Oct 26 and Mar 28 have none.
    assert values(ws, "dau", "day", "2026-10-24", "2026-10-26") == [0, 2, None]
    assert values(ws, "dau", "day", "2026-03-28", "2026-03-29") == [None, 1]
    # far outside the window's precomputed offsets the general path gives the same days
    assert values(ws, "active_users", "year", "2026-01-01", "2026-12-31") == [3]


def test_one_active_event_rule_everywhere(tmp_path: Path) -> None:
    # Issue 17: the "active event" rule lives in one place (Context.is_active); DAU, the
    # analyses' $active and new users all follow the same setting. With only 'open'
    # active: Mar 1 u1, u2; Mar 2 u1; Mar 5 u2 (the $pageview of a1 no longer counts).
    ws = make(tmp_path, events={"active_events": ["open"]})
    assert values(ws, "dau", "day", "2026-03-01", "2026-03-05") == [2, 1, 0, 0, 1]
    sticky = ws.stickiness("$active", grain="day", start="2026-03-01", end="2026-03-05",
                           today=TODAY)  # fmt: skip
    # active days in Mar 1-5: u1 2 (1, 2), u2 2 (1, 5) → two users active on 2 days
    assert [(h["active_periods"], h["users"]) for h in sticky.histogram][:3] == [
        (1, 0), (2, 2), (3, 0)]  # fmt: skip
    life = ws.lifecycle("$active", grain="day", start="2026-03-01", end="2026-03-02", today=TODAY)
    assert [r["new"] + r["returning"] + r["resurrecting"] for r in life.rows] == [2, 1]
