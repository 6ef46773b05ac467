"""Sessions and the session metrics on hand-made event logs; every expected number is
worked out in the comments. The last test sessionizes a small demo independently with
pandas and compares the daily session counts."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from northstar.analyses.sessions import sessions
from northstar.demo.load import load_demo
from northstar.metrics.context import Context
from northstar.metrics.periods import Grain, Window
from northstar.workspace import Workspace
from tests.metric_fixtures import events, load

TODAY = date(2026, 6, 1)
EVENT_COLUMNS = ("event", "distinct_id", "timestamp", "session_id", "properties")


def utc(tmp_path: Path, **settings: Any) -> Workspace:
    return Workspace.init(tmp_path / "ws", timezone="UTC", **settings)


def values(
    ws: Workspace, metric: str, grain: str, start: str, end: str, **kw: Any
) -> list[float | None]:
    df = ws.query(metric, grain=grain, start=start, end=end, use_cache=False, today=TODAY, **kw)
    return [None if v != v else round(float(v), 4) for v in df["value"]]


def session_rows(ws: Workspace, start: str, end: str) -> pd.DataFrame:
    """The per-session table of the days ``start``..``end``, sorted by start."""
    window = Window(Grain.day, date.fromisoformat(start), date.fromisoformat(end), "monday", TODAY)
    with ws.store(read_only=True) as store:
        df = sessions(Context(store.ibis, ws.settings, window)).to_pandas()
    return df.sort_values(["start", "session"], ignore_index=True)


def every(minutes: int, first: str, count: int) -> list[str]:
    start = pd.Timestamp(first)
    return [(start + pd.Timedelta(minutes=minutes * i)).isoformat() for i in range(count)]


# -- how sessions are cut ---------------------------------------------------------------


def test_a_gap_of_more_than_30_minutes_starts_a_new_session(tmp_path: Path) -> None:
    ws = utc(tmp_path)
    events(ws, [
        ("open", "u1", "2026-03-02T10:00:00Z"),
        ("open", "u1", "2026-03-02T10:29:59Z"),  # 29 min 59 s later: same session
        ("open", "u1", "2026-03-02T11:00:00Z"),  # 30 min 01 s later: a new session
        ("open", "u1", "2026-03-02T11:30:00Z"),  # exactly 30 min later: same session
        ("open", "u1", "2026-03-02T12:00:00.000001Z"),  # 30 min and 1 µs: a new session
    ])  # fmt: skip
    rows = session_rows(ws, "2026-03-02", "2026-03-02")
    assert rows["duration"].tolist() == [1799.0, 1800.0, 0.0]
    assert rows["events"].tolist() == [2, 2, 1]
    assert set(rows["person_id"]) == {"u1"}
    # a derived session's key is the person and its start in ms since 1970 (Amplitude's id)
    start_ms = int(pd.Timestamp("2026-03-02T10:00:00Z").timestamp() * 1000)
    assert rows["session"][0] == f"u1#{start_ms}"
    assert values(ws, "sessions", "day", "2026-03-02", "2026-03-02") == [3]


def test_timeout_setting(tmp_path: Path) -> None:
    ws = utc(tmp_path, sessions={"timeout_minutes": 31})
    events(ws, [("open", "u1", t) for t in
                ("2026-03-02T10:00:00Z", "2026-03-02T10:29:59Z", "2026-03-02T11:00:00Z",
                 "2026-03-02T11:30:00Z", "2026-03-02T12:01:00Z")])  # fmt: skip
    # every gap is at most 31 minutes: one session from 10:00 to 12:01
    assert session_rows(ws, "2026-03-02", "2026-03-02")["duration"].tolist() == [7260.0]


def test_a_run_longer_than_max_hours_is_cut(tmp_path: Path) -> None:
    # An event every 20 minutes for 25 hours (76 events) from Mar 3 00:00: one run of
    # activity. A session lasts at most 24 h: session 1 runs from Mar 3 00:00 to Mar 4
    # 00:00 (exactly 24 h: 86 400 s, 73 events); session 2 from Mar 4 00:20 to 01:00
    # (2 400 s, 3 events).
    times = every(20, "2026-03-03T00:00:00+00:00", 76)
    ws = utc(tmp_path)
    events(ws, [("open", "bot", t) for t in times])
    rows = session_rows(ws, "2026-03-03", "2026-03-04")
    assert rows["duration"].tolist() == [86400.0, 2400.0]
    assert rows["events"].tolist() == [73, 3]
    assert values(ws, "sessions", "day", "2026-03-03", "2026-03-04") == [1, 1]
    # seen from Mar 4 alone, the session of Mar 3 still reaches back (it is not counted)
    assert values(ws, "sessions", "day", "2026-03-04", "2026-03-04") == [1]


def test_max_hours_and_timeout_settings_cut_the_same_run_differently(tmp_path: Path) -> None:
    times = every(20, "2026-03-03T00:00:00+00:00", 76)
    short = Workspace.init(tmp_path / "a", timezone="UTC", sessions={"max_hours": 2})
    events(short, [("open", "bot", t) for t in times])
    # at most 2 h each: 00:00-02:00, 02:20-04:00, ..., 22:20-24:00 start on Mar 3 (12),
    # 24:20-25:00 on Mar 4
    assert values(short, "sessions", "day", "2026-03-03", "2026-03-04") == [12, 1]
    eager = Workspace.init(tmp_path / "b", timezone="UTC", sessions={"timeout_minutes": 19})
    events(eager, [("open", "bot", t) for t in times])
    # every gap is 20 min, more than 19: each event is its own session (72 + 4)
    assert values(eager, "sessions", "day", "2026-03-03", "2026-03-04") == [72, 4]


def test_session_ids_from_the_sdk_take_precedence(tmp_path: Path) -> None:
    ws = utc(tmp_path)
    load(ws, "events", EVENT_COLUMNS, [
        # the $session_id property holds a session across a 2-hour gap
        ("$pageview", "u1", "2026-03-02T10:00:00Z", None, '{"$session_id": "p1"}'),
        ("click", "u1", "2026-03-02T12:00:00Z", None, '{"$session_id": "p1"}'),
        # the session_id column wins over the property
        ("$pageview", "u2", "2026-03-02T10:00:00Z", "c1", '{"$session_id": "p2"}'),
        ("click", "u2", "2026-03-02T10:05:00Z", None, '{"$session_id": "p2"}'),
        # events without any id are cut by inactivity, apart from the SDK sessions
        ("click", "u2", "2026-03-02T10:01:00Z", None, "{}"),
        ("click", "u2", "2026-03-02T10:02:00Z", None, "{}"),
    ])  # fmt: skip
    rows = session_rows(ws, "2026-03-02", "2026-03-02")
    got = dict(zip(rows["session"], rows["duration"], strict=True))
    start_ms = int(pd.Timestamp("2026-03-02T10:01:00Z").timestamp() * 1000)
    assert got == {"p1": 7200.0, "c1": 0.0, "p2": 0.0, f"u2#{start_ms}": 60.0}


def test_anonymous_then_identified_in_one_session(tmp_path: Path) -> None:
    log = [
        ("$pageview", "anon", "2026-03-02T09:00:00Z"),
        ("$identify", "u4", "2026-03-02T09:05:00Z"),
        ("click", "u4", "2026-03-02T09:10:00Z"),
    ]
    props = ["{}", '{"$anon_distinct_id": "anon"}', "{}"]
    ws = utc(tmp_path)
    events(ws, log, props)
    rows = session_rows(ws, "2026-03-02", "2026-03-02")
    # anon is u4: one session of 10 minutes, one page view and one interaction (the
    # $identify is passive: it neither counts as an interaction nor starts a visit)
    assert rows[["person_id", "duration", "pageviews", "interactions"]].values.tolist() == [
        ["u4", 600.0, 1, 1]
    ]
    assert values(ws, "sessions_per_user", "day", "2026-03-02", "2026-03-02") == [1]
    # counting raw ids, the anonymous page view and u4's events are two sessions
    raw = Workspace.init(tmp_path / "raw", timezone="UTC", events={"merge_identities": False})
    events(raw, log, props)
    assert values(raw, "sessions", "day", "2026-03-02", "2026-03-02") == [2]
    assert values(raw, "bounce_rate", "day", "2026-03-02", "2026-03-02") == [1.0]


def test_a_run_of_passive_events_alone_is_not_a_session(tmp_path: Path) -> None:
    ws = utc(tmp_path)
    events(ws, [("$feature_flag_called", "u1", "2026-03-02T10:00:00Z"),
                ("$set", "u1", "2026-03-02T10:01:00Z")])  # fmt: skip
    assert values(ws, "sessions", "day", "2026-03-02", "2026-03-02") == [0]


# -- bounces ----------------------------------------------------------------------------


def test_bounce_rule_edges(tmp_path: Path) -> None:
    ws = utc(tmp_path)
    rows = []

    def visit(sid: str, *steps: tuple[str, int]) -> None:
        for name, second in steps:
            ts = f"2026-03-02T10:00:{second:02d}Z"
            rows.append((name, f"user_{sid}", ts, sid, "{}"))

    visit("s9", ("$pageview", 0), ("$pageleave", 9))  # one page, 9 s: a bounce
    visit("s11", ("$pageview", 0), ("$pageleave", 11))  # one page, 11 s: not a bounce
    visit("s10", ("$pageview", 0), ("$pageleave", 10))  # exactly 10 s: not a bounce
    visit("click", ("$pageview", 0), ("$autocapture", 2))  # a click: not a bounce
    visit("custom", ("$pageview", 0), ("report_exported", 3))  # any interaction: not a bounce
    visit("two", ("$pageview", 0), ("$pageview", 3), ("$pageleave", 5))  # two pages
    visit("screen", ("$screen", 0))  # one mobile screen, 0 s: a bounce
    visit("nopage", ("report_exported", 0))  # no page view: not in the denominator
    load(ws, "events", EVENT_COLUMNS, rows)
    per = session_rows(ws, "2026-03-02", "2026-03-02").set_index("session")
    assert sorted(per.index[per["bounced"]]) == ["s9", "screen"]
    # 2 bounced of the 7 sessions with a page view
    assert values(ws, "bounce_rate", "day", "2026-03-02", "2026-03-02") == [round(2 / 7, 4)]
    # page views: 1+1+1+1+1+2+1+0 = 8 over 8 sessions
    assert values(ws, "pages_per_session", "day", "2026-03-02", "2026-03-02") == [1.0]


def test_no_page_views_gives_no_bounce_rate(tmp_path: Path) -> None:
    ws = utc(tmp_path)
    events(ws, [("open", "u1", "2026-03-02T10:00:00Z")])
    assert values(ws, "bounce_rate", "day", "2026-03-02", "2026-03-03") == [None, None]


# -- the metrics on one small product -----------------------------------------------------

PRODUCT = [
    # Mon Mar 2
    ("$pageview", "u1", "2026-03-02T09:00:00Z", '{"$browser": "Chrome"}'),  # A: 2 pages, 300 s
    ("click", "u1", "2026-03-02T09:00:30Z", "{}"),
    ("$pageview", "u1", "2026-03-02T09:05:00Z", "{}"),
    ("$pageview", "u1", "2026-03-02T14:00:00Z", '{"$browser": "Firefox"}'),  # B: bounce, 5 s
    ("$pageleave", "u1", "2026-03-02T14:00:05Z", "{}"),
    ("$pageview", "u2", "2026-03-02T10:00:00Z", '{"$browser": "Chrome"}'),  # C: 3 pages, 240 s
    ("$pageview", "u2", "2026-03-02T10:01:00Z", "{}"),
    ("$pageview", "u2", "2026-03-02T10:02:00Z", "{}"),
    ("$pageleave", "u2", "2026-03-02T10:04:00Z", "{}"),
    ("open", "u3", "2026-03-02T12:00:00Z", "{}"),  # D: no page, 0 s
    ("$feature_flag_called", "u3", "2026-03-02T18:00:00Z", "{}"),  # passive only: no session
    # Tue Mar 3: E starts at 23:50 and ends after midnight (1 200 s); it belongs to Mar 3
    ("$pageview", "u2", "2026-03-03T23:50:00Z", '{"$browser": "Chrome"}'),
    ("click", "u2", "2026-03-04T00:10:00Z", "{}"),
]


@pytest.fixture
def product(tmp_path: Path) -> Workspace:
    ws = utc(tmp_path)
    events(ws, [r[:3] for r in PRODUCT], [r[3] for r in PRODUCT])
    load(ws, "users", ("user_id", "created_at", "properties"),
         [("u1", "2026-03-01T00:00:00Z", '{"plan": "pro"}'),
          ("u2", "2026-03-01T00:00:00Z", '{"plan": "free"}')])  # fmt: skip
    return ws


def test_session_metrics_by_day(product: Workspace) -> None:
    days = ("day", "2026-03-02", "2026-03-04")
    assert values(product, "sessions", *days) == [4, 1, 0]  # A B C D | E | -
    # Mar 2: (300 + 5 + 240 + 0) / 4; median of 0, 5, 240, 300 = (5 + 240) / 2
    assert values(product, "session_duration", *days) == [136.25, 1200.0, None]
    assert values(product, "session_duration_median", *days) == [122.5, 1200.0, None]
    # Mar 2: 4 sessions of u1, u2, u3
    assert values(product, "sessions_per_user", *days) == [round(4 / 3, 4), 1.0, None]
    # Mar 2: (2 + 1 + 3 + 0) pages / 4 sessions; Mar 3: 1 / 1
    assert values(product, "pages_per_session", *days) == [1.5, 1.0, None]
    # Mar 2: B bounced among A, B, C; Mar 3: E has a click
    assert values(product, "bounce_rate", *days) == [round(1 / 3, 4), 0.0, None]
    # Mar 2: 545 s / 3 active users; Mar 3: 1 200 s / u2; Mar 4: u2 is active (the click
    # after midnight) but the session started on Mar 3: 0 s / 1
    assert values(product, "time_in_app", *days) == [round(545 / 3, 4), 1200.0, 0.0]


def test_session_metrics_by_week(product: Workspace) -> None:
    week = ("week", "2026-03-02", "2026-03-08")
    assert values(product, "sessions", *week) == [5]
    assert values(product, "session_duration", *week) == [round(1745 / 5, 4)]
    assert values(product, "sessions_per_user", *week) == [round(5 / 3, 4)]  # u1 2, u2 2, u3 1
    assert values(product, "pages_per_session", *week) == [1.4]  # 7 pages / 5 sessions
    assert values(product, "bounce_rate", *week) == [0.25]  # B among A, B, C, E
    # the mean of the days that had active users (Mar 2, 3, 4)
    assert values(product, "time_in_app", *week) == [round((545 / 3 + 1200 + 0) / 3, 4)]
    month = ("month", "2026-03-01", "2026-03-31")
    assert values(product, "sessions", *month) == [5]
    assert values(product, "sessions", "quarter", "2026-01-01", "2026-03-31") == [5]
    assert values(product, "sessions", "year", "2026-01-01", "2026-12-31") == [5]


def test_breakdowns_and_filters(product: Workspace) -> None:
    def by(metric: str, dim: str, **kw: Any) -> dict[tuple[str, str], float]:
        df = product.query(metric, grain="day", start="2026-03-02", end="2026-03-03",
                           by=dim, use_cache=False, today=TODAY, **kw)  # fmt: skip
        return {(str(r[1]), str(r[2])): round(float(r[3]), 4) for r in df.itertuples(index=False)}

    # user property: u1 pro (A, B), u2 free (C; E on Mar 3), u3 has no user row (D)
    assert by("sessions", "plan") == {
        ("2026-03-02", "(none)"): 1, ("2026-03-02", "free"): 1, ("2026-03-02", "pro"): 2,
        ("2026-03-03", "(none)"): 0, ("2026-03-03", "free"): 1, ("2026-03-03", "pro"): 0,
    }  # fmt: skip
    # event property: the value at the session's first event (A, C, E Chrome; B Firefox)
    assert by("sessions", "$browser") == {
        ("2026-03-02", "(none)"): 1, ("2026-03-02", "Chrome"): 2, ("2026-03-02", "Firefox"): 1,
        ("2026-03-03", "(none)"): 0, ("2026-03-03", "Chrome"): 1, ("2026-03-03", "Firefox"): 0,
    }  # fmt: skip
    # pro: A (not bounced) and B (bounced)
    assert by("bounce_rate", "plan")[("2026-03-02", "pro")] == 0.5
    days = ("day", "2026-03-02", "2026-03-03")
    assert values(product, "sessions", *days, where="plan = 'pro'") == [2, 0]
    # a filter keeps the sessions holding a matching event; E's click is after midnight
    assert values(product, "sessions", *days, where="event = 'click'") == [1, 1]
    assert values(product, "session_duration", *days, where="$browser = 'Firefox'") == [5, None]


def test_sessions_start_in_the_workspace_time_zone(ws: Workspace) -> None:
    # Paris: 22:50Z on Mar 2 is 23:50 local; the session runs past local midnight
    events(ws, [("open", "u1", "2026-03-02T22:50:00Z"), ("open", "u1", "2026-03-02T23:10:00Z"),
                ("open", "u2", "2026-03-02T23:05:00Z")])  # fmt: skip
    assert values(ws, "sessions", "day", "2026-03-02", "2026-03-03") == [1, 1]


# -- an independent check on a demo -------------------------------------------------------


def pandas_sessions(ev: pd.DataFrame, timeout: timedelta, cap: timedelta) -> pd.DataFrame:
    """Sessions by the rules of docs/analyses.md, in plain pandas over the whole log."""
    prop = ev["properties"].map(lambda p: json.loads(p).get("$session_id") if p else None)
    ev = ev.assign(sdk=ev["session_id"].where(ev["session_id"].notna(), prop))
    sdk = ev[ev["sdk"].notna()].assign(key=lambda d: "sdk:" + d["sdk"])
    loose = ev[ev["sdk"].isna()].sort_values(["person_id", "timestamp", "uuid"])
    gap = loose.groupby("person_id")["timestamp"].diff()
    run = (gap.isna() | (gap > timeout)).groupby(loose["person_id"]).cumsum()
    first = loose.groupby([loose["person_id"], run])["timestamp"].transform("min")
    # at most `cap` long: piece k holds what is in (k cap, (k + 1) cap] after the run start
    since_us = ((loose["timestamp"] - first).dt.total_seconds() * 1e6).round()
    piece = ((since_us - 1).clip(lower=0) // (cap.total_seconds() * 1e6)).astype(int)
    loose = loose.assign(key=loose["person_id"] + "/" + run.astype(str) + "/" + piece.astype(str))
    both = pd.concat([sdk, loose])
    passive = {"$pageleave", "$identify", "$create_alias", "$set", "$groupidentify",
               "$feature_flag_called"}  # fmt: skip
    both["visit"] = ~both["event"].isin(passive)  # a page view or an active event
    per = both.groupby("key").agg(start=("timestamp", "min"), visit=("visit", "any"))
    return per[per["visit"]]


def test_daily_sessions_agree_with_an_independent_pandas_sessionization(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "demo", timezone="Europe/Paris")
    load_demo(ws, users=100, days=180, seed=5)
    ev = ws.sql(
        "SELECT uuid, event, person_id, timestamp, session_id, "
        "CAST(properties AS VARCHAR) AS properties FROM person_events"
    ).to_pandas()
    assert ev["session_id"].notna().any() and ev["session_id"].isna().any()
    per = pandas_sessions(ev, timedelta(minutes=30), timedelta(hours=24))
    local = pd.to_datetime(per["start"], utc=True).dt.tz_convert("Europe/Paris").dt.date
    first, last = date(2026, 9, 1), date(2026, 10, 31)
    expected = local[(local >= first) & (local <= last)].value_counts()
    got = ws.query("sessions", grain="day", start=first, end=last, use_cache=False,
                   today=date(2026, 11, 1))  # fmt: skip
    want = [float(expected.get(d, 0)) for d in got["period"]]
    assert sum(want) > 300
    assert got["value"].tolist() == want
