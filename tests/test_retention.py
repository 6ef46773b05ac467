"""Retention tables on hand-made event logs; every expected count is worked out in the
comments."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from northstar.errors import FilterError, QueryArgumentError
from northstar.workspace import Workspace
from tests.metric_fixtures import events, load

TODAY = date(2026, 6, 1)
# Person P is anonymous (a1) on Mar 1 and identifies as u1 on Mar 2: one person.
# Q (u2) opens on Mar 2 and Mar 4. R (u3) first opened on Feb 20 and again on Mar 3.
LOG = [
    ("open", "a1", "2026-03-01T10:00:00Z"),
    ("$identify", "u1", "2026-03-02T08:00:00Z"),
    ("open", "u1", "2026-03-02T09:00:00Z"),
    ("open", "u1", "2026-03-03T09:00:00Z"),
    ("open", "u2", "2026-03-02T12:00:00Z"),
    ("open", "u2", "2026-03-04T12:00:00Z"),
    ("open", "u3", "2026-02-20T12:00:00Z"),
    ("open", "u3", "2026-03-03T12:00:00Z"),
    # The data runs to May 31 (a passive page-leave): quiet days before it are real zeros,
    # days after it have no data (null).
    ("$pageleave", "zz", "2026-05-31T12:00:00Z"),
]
PROPS = ["{}", '{"$anon_distinct_id": "a1"}', "{}", "{}", "{}", "{}", "{}", "{}", "{}"]


@pytest.fixture
def log(tmp_path: Path) -> Workspace:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    events(ws, LOG, PROPS)
    load(
        ws,
        "users",
        ["user_id", "created_at", "properties"],
        [
            ("u1", "2026-03-01T10:00:00Z", '{"plan": "pro"}'),
            ("u2", "2026-03-02T12:00:00Z", '{"plan": "free"}'),
            ("u3", "2026-02-20T12:00:00Z", '{"plan": "pro"}'),
        ],
    )
    return ws


def table(ws: Workspace, **kw: object) -> list[tuple[str, int, list[int]]]:
    args: dict[str, object] = dict(
        period="day", periods=4, start="2026-03-01", end="2026-03-03", today=TODAY
    )
    args.update(kw)
    result = ws.retention("open", "open", **args)  # type: ignore[arg-type]
    return [(c.start.isoformat(), c.size, c.counts) for c in result.cohorts]


def test_recurring_cohorts_follow_the_merged_person(log: Workspace) -> None:
    # Mar 1: {P}; P is back Mar 2 (k=1) and Mar 3 (k=2).
    # Mar 2: {P, Q}; P back Mar 3 (k=1), Q back Mar 4 (k=2).
    # Mar 3: {P, R}; nobody of them on Mar 4 or later.
    assert table(log) == [
        ("2026-03-01", 1, [1, 1, 1, 0]),
        ("2026-03-02", 2, [2, 1, 1, 0]),
        ("2026-03-03", 2, [2, 0, 0, 0]),
    ]


def test_first_time_cohorts_count_each_person_once(log: Workspace) -> None:
    # P's first open is a1's on Mar 1 (merged), so u1 is not new on Mar 2; R first
    # opened on Feb 20, before the range, so is in no cohort.
    assert table(log, type="first-time") == [
        ("2026-03-01", 1, [1, 1, 1, 0]),
        ("2026-03-02", 1, [1, 0, 1, 0]),
        ("2026-03-03", 0, [0, 0, 0, 0]),
    ]


def test_cumulative_counts_returns_on_or_after(log: Workspace) -> None:
    # Mar 2 cohort: P's last return is k=1, Q's is k=2 → on or after k=1: 2, k=2: 1.
    assert table(log, cumulative=True)[1] == ("2026-03-02", 2, [2, 2, 1, 0])


def test_percentages_and_json_shape(log: Workspace) -> None:
    out = log.retention(
        "open", "open", period="day", periods=4, start="2026-03-02", end="2026-03-02", today=TODAY
    ).to_dict()
    assert out["cohorts"] == [
        {"start": "2026-03-02", "size": 2, "counts": [2, 1, 1, 0],
         "percentages": [100.0, 50.0, 50.0, 0.0], "partial": False, "reason": None},
    ]  # fmt: skip


def test_breakdown_by_user_property(log: Workspace) -> None:
    result = log.retention(
        "open", "open", period="day", periods=3, start="2026-03-02", end="2026-03-02",
        by="plan", today=TODAY,
    )  # fmt: skip
    got = {(c.breakdown, c.start.isoformat()): c.counts for c in result.cohorts}
    # Mar 2 cohort: P (u1, pro) back on Mar 3; Q (u2, free) back on Mar 4.
    assert got == {("free", "2026-03-02"): [1, 0, 1], ("pro", "2026-03-02"): [1, 1, 0]}


def test_weekly_and_monthly_periods(log: Workspace) -> None:
    # Week of Mon Feb 16: R (Feb 20) → back in the week of Mar 2 (k=2).
    # Week of Mon Feb 23 holds Sunday Mar 1: P (as a1) → back in the week of Mar 2 (k=1).
    # Week of Mar 2: P, Q, R; no later activity.
    weekly = table(log, period="week", periods=3, start="2026-02-16", end="2026-03-04")
    assert weekly == [
        ("2026-02-16", 1, [1, 0, 1]),
        ("2026-02-23", 1, [1, 1, 0]),
        ("2026-03-02", 3, [3, 0, 0]),
    ]
    # February: R → back in March (k=1).
    monthly = table(log, period="month", periods=2, start="2026-02-01", end="2026-02-28")
    assert monthly == [("2026-02-01", 1, [1, 1])]


def test_rolling_24h_windows_count_from_the_first_start_event(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    # S starts Mar 1 22:00; back Mar 2 10:00 (12 h: window 0) and Mar 3 23:00 (49 h:
    # window 2). By calendar days those are day 1 and day 2.
    events(
        ws,
        [
            ("open", "s", "2026-03-01T22:00:00Z"),
            ("open", "s", "2026-03-02T10:00:00Z"),
            ("open", "s", "2026-03-03T23:00:00Z"),
            ("$pageleave", "zz", "2026-03-31T12:00:00Z"),  # the data runs to Mar 31
        ],
    )
    assert table(ws, end="2026-03-01", window="24h") == [("2026-03-01", 1, [1, 0, 1, 0])]
    assert table(ws, end="2026-03-01") == [("2026-03-01", 1, [1, 1, 1, 0])]


def test_triangle_stops_at_today(log: Workspace) -> None:
    # On Mar 4 the Mar 3 cohort has seen periods 0 and 1 only.
    rows = table(log, today=date(2026, 3, 4))
    assert [len(counts) for _, _, counts in rows] == [4, 3, 2]


def test_property_filters_and_bad_input(log: Workspace) -> None:
    with pytest.raises(QueryArgumentError, match="1 periods: a retention table"):
        log.retention("open", "open", periods=1, today=TODAY)
    with pytest.raises(QueryArgumentError, match="cohort type"):
        log.retention("open", "open", type="sometimes", today=TODAY)
    with pytest.raises(FilterError, match="unknown property 'colour'"):
        log.retention("open where colour = 'red'", "open", today=TODAY)


def test_a_misspelt_event_is_named_not_shown_as_an_empty_table(log: Workspace) -> None:
    # Issue 19: a misspelt start or return event used to give a table of empty cohorts;
    # now it is refused with the closest event name in the data.
    with pytest.raises(QueryArgumentError, match=r"unknown event 'opn' .*did you mean 'open'\?"):
        log.retention("opn", "open", period="day", periods=4, start="2026-03-01",
                      end="2026-03-03", today=TODAY)  # fmt: skip
    with pytest.raises(QueryArgumentError, match=r"unknown event 'opem'"):
        log.retention("open", "opem", period="day", periods=4, start="2026-03-01",
                      end="2026-03-03", today=TODAY)  # fmt: skip
    # a real event that nobody did in the range is an empty table, not an error
    quiet = log.retention("$pageleave", "open", period="day", periods=2, start="2026-03-01",
                          end="2026-03-03", today=TODAY)  # fmt: skip
    assert [c.size for c in quiet.cohorts] == [0, 0, 0]
