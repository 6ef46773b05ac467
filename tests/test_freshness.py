"""One clock, one as-of per workspace, and no data that is not zero (docs/freshness.md).

Every test sets the clock it needs (NORTHSTAR_TODAY); none reads the calendar.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from northstar import clock
from northstar.errors import SettingsError
from northstar.workspace import Workspace
from tests.metric_fixtures import events
from tests.test_cli import run as run_in

# The data runs from Mon Mar 2 to Tue Mar 10, 2026 (UTC).
LOG = [
    ("signup", "u1", "2026-03-02T10:00:00Z"),
    ("open", "u1", "2026-03-02T10:05:00Z"),
    ("signup", "u2", "2026-03-03T11:00:00Z"),
    ("open", "u2", "2026-03-03T11:05:00Z"),
    ("open", "u1", "2026-03-10T10:00:00Z"),
]
AFTER = "2026-12-05"  # the day main's CI went red: long after the data


@pytest.fixture
def log(tmp_path: Path) -> Workspace:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    events(ws, LOG)
    return ws


class Out:
    def __init__(self, rc: int, output: str) -> None:
        self.exit_code, self.output = rc, output


def run(*args: str) -> Out:
    """The CLI in a new process (which inherits the clock the test set)."""
    done = run_in(*args, cwd=Path.cwd())
    return Out(done.returncode, done.stdout + done.stderr)


def set_clock(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setenv(clock.ENV_VAR, day)


# -- 3. a clock you can set -------------------------------------------------------------
def test_the_clock_moves_to_the_day_it_is_set_to(monkeypatch: pytest.MonkeyPatch) -> None:
    set_clock(monkeypatch, "2027-06-01")
    assert clock.today() == date(2027, 6, 1)
    assert clock.today("Pacific/Auckland") in (date(2027, 6, 1), date(2027, 6, 2))
    set_clock(monkeypatch, "2025-01-01T09:30:00+00:00")
    moment = clock.now()
    assert (moment.date(), moment.hour, moment.minute) == (date(2025, 1, 1), 9, 30)
    set_clock(monkeypatch, "first of June")
    with pytest.raises(SettingsError, match="NORTHSTAR_TODAY='first of June' is not a date"):
        clock.today()


def test_a_bad_clock_is_one_line_on_the_command_line(
    log: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_clock(monkeypatch, "yesterday")
    out = run("query", "dau", "-w", str(log.path))
    assert out.exit_code == 1
    assert "NORTHSTAR_TODAY='yesterday' is not a date" in out.output
    assert "Traceback" not in out.output


# -- 1. one "now" per workspace -----------------------------------------------------------
def test_a_stale_workspace_is_judged_as_of_the_day_after_its_data(
    log: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_clock(monkeypatch, AFTER)
    now = log.as_of()
    assert (now.today, now.end, now.data_through) == (
        date(2026, 3, 11), date(2026, 3, 10), date(2026, 3, 10)
    )  # fmt: skip
    assert now.stale and now.pinned_by is None
    assert now.describe().startswith("as of 2026-03-11 · data through 2026-03-10 · last event ")
    assert now.describe().endswith("stale")
    events_mark = now.mark("events")
    assert events_mark is not None and events_mark.rows == len(LOG)


def test_a_live_workspace_is_as_of_today_and_today_is_partial(
    log: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a moment after the day's last event (10:00): a bare day keeps the machine's time of
    # day, and before 10:00 UTC that event would still be in the future
    set_clock(monkeypatch, "2026-03-10T12:00:00+00:00")
    now = log.as_of()
    assert (now.today, now.end) == (date(2026, 3, 10), date(2026, 3, 10))
    assert not now.stale
    df = log.query("dau", use_cache=False)
    assert df["period"].iloc[-1] == date(2026, 3, 10)
    assert not df["complete"].iloc[-1]  # today is not over


def test_a_clock_before_the_data_shows_no_data(
    log: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_clock(monkeypatch, "2025-01-01")
    now = log.as_of()
    assert (now.today, now.data_through) == (date(2025, 1, 1), None)
    df = log.query("dau", use_cache=False)
    assert df["value"].isna().all()  # nothing is known yet: null, never 0


def test_every_output_agrees_on_the_as_of(log: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    set_clock(monkeypatch, AFTER)
    query = log.run_query("dau", use_cache=False)
    assert query.window.end == date(2026, 3, 10)  # the default range ends at the data
    outputs = [
        query.as_of,
        log.funnel(["signup", "open"]).as_of,
        log.lifecycle().as_of,
        log.stickiness().as_of,
        log.retention().as_of,
        log.scorecard().freshness,
    ]
    assert {o.today for o in outputs if o is not None} == {date(2026, 3, 11)}
    assert all(o is not None for o in outputs)
    # the default ranges hold the data: numbers, not zeros
    assert log.funnel(["signup", "open"]).steps[0].count == 2
    assert sum(h["users"] or 0 for h in log.stickiness().histogram) == 2
    assert log.lifecycle(grain="day").rows[-1]["returning"] is not None


def test_as_of_overrides_everywhere(log: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    set_clock(monkeypatch, AFTER)
    pinned = Workspace(log.path, as_of=date(2026, 3, 4))
    assert pinned.as_of().pinned_by == "--as-of"
    df = pinned.query("dau", use_cache=False)
    assert df["period"].iloc[-1] == date(2026, 3, 4)
    assert pinned.lifecycle(grain="day").rows[-1]["period"] == "2026-03-04"
    out = run("query", "dau", "--as-of", "2026-03-04", "--format", "json", "-w", str(log.path))
    doc = json.loads(out.output)
    assert (doc["as_of"], doc["to"], doc["pinned_by"]) == ("2026-03-04", "2026-03-04", "--as-of")
    bad = run("query", "dau", "--as-of", "soon", "-w", str(log.path))
    assert bad.exit_code == 1 and "as-of date" in bad.output


def test_tables_show_their_watermarks(log: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    set_clock(monkeypatch, AFTER)
    out = run("status", "-w", str(log.path))
    assert out.exit_code == 0, out.output
    assert "data through 2026-03-10" in out.output and "stale" in out.output


# -- 2. no data is not zero --------------------------------------------------------------
def test_beyond_the_watermark_is_null_and_a_quiet_day_is_zero(
    log: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_clock(monkeypatch, AFTER)
    out = run("query", "dau", "--from", "2026-03-08", "--to", "2026-03-12", "--format", "json",
              "-w", str(log.path))  # fmt: skip
    rows = {r["period"]: r["value"] for r in json.loads(out.output)["rows"]}
    # Mar 8-9: data present, nobody active (real zeros); Mar 10: u1; after it: no data
    assert rows == {"2026-03-08": 0.0, "2026-03-09": 0.0, "2026-03-10": 1.0,
                    "2026-03-11": None, "2026-03-12": None}  # fmt: skip
    csv = run("query", "dau", "--from", "2026-03-10", "--to", "2026-03-11", "--format", "csv",
              "-w", str(log.path)).output  # fmt: skip
    assert "dau,2026-03-11,,false" in csv  # an empty cell, not 0


def test_the_chart_leaves_a_gap_where_there_is_no_data(
    log: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from northstar.web.present import explorer_view

    set_clock(monkeypatch, AFTER)
    frame = log.query(["dau"], grain="day", start="2026-03-09", end="2026-03-11")
    view = explorer_view(frame, log.registry().get("dau"), "USD", None)
    # Chart.js draws null as a gap (spanGaps is off for metric lines): a quiet day is a
    # point at 0, a day after the data is no point at all, and the table shows "–".
    assert view["chart"]["data"]["datasets"][0]["data"] == [0.0, 1.0, None]
    assert "spanGaps" not in view["chart"]["data"]["datasets"][0]
    assert [r["value"] for r in view["rows"]] == ["0", "1", "–"]


def test_a_comparison_with_a_period_without_data_has_no_change(
    log: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_clock(monkeypatch, AFTER)
    df = log.query("active_users", grain="year", compare="previous", use_cache=False)
    row = df.iloc[-1]
    # 2026 has 2 active users; 2025 has no data at all: no previous, no change (not +inf %)
    assert row.value == 2
    assert row.previous != row.previous and row.change_pct != row.change_pct  # NaN: null


def test_analyses_beyond_the_data_are_null(log: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    set_clock(monkeypatch, AFTER)
    rows = log.lifecycle(grain="week", start="2026-03-02", end="2026-03-29").rows
    # weeks of Mar 2 and Mar 9 hold data; Mar 16 and 23 start after it: null, not -2 dormant
    assert [r["dormant"] for r in rows] == [0, -1, None, None]
    sticky = log.stickiness(start="2026-04-01", end="2026-04-10").histogram
    assert {h["users"] for h in sticky} == {None}
    table = log.retention("signup", "open", period="day", periods=10, start="2026-03-02",
                          end="2026-03-02")  # fmt: skip
    assert len(table.cohorts[0].counts) == 9  # Mar 2..10 are known; Mar 11 is not
    funnel = log.funnel(["signup", "open"], start="2026-04-01", end="2026-04-10")
    assert [s.count for s in funnel.steps] == [None, None]
    assert funnel.reason == "after the data (data through 2026-03-10)"


def test_a_workspace_without_data_shows_no_numbers_not_zeros(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_clock(monkeypatch, "2026-03-11")
    empty = Workspace.init(tmp_path / "empty", timezone="UTC")
    lifecycle = empty.lifecycle(grain="week", start="2026-03-02", end="2026-03-15")
    assert {r[k] for r in lifecycle.rows for k in ("new", "returning", "dormant")} == {None}
    assert lifecycle.reason == "no data yet"
    funnel = empty.funnel(["signup", "open"], start="2026-03-01", end="2026-03-10")
    assert [s.count for s in funnel.steps] == [None, None] and funnel.reason == "no data yet"
    sticky = empty.stickiness(start="2026-03-01", end="2026-03-10")
    assert {h["users"] for h in sticky.histogram} == {None} and sticky.reason == "no data yet"
    table = empty.retention("signup", "open", period="day", periods=3, start="2026-03-02",
                            end="2026-03-03")  # fmt: skip
    assert [(c.size, c.reason) for c in table.cohorts] == [(None, "no data yet")] * 2
    # one event anywhere and the same ranges have true zeros again
    events(empty, [("open", "u9", "2026-03-09T10:00:00Z")])
    assert empty.lifecycle(grain="week", start="2026-03-02", end="2026-03-08").rows[0]["new"] == 0


def test_an_empty_cohort_has_no_share_and_a_cohort_after_the_data_has_no_size(
    log: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_clock(monkeypatch, AFTER)
    table = log.retention("signup", "open", period="day", periods=3, start="2026-03-03",
                          end="2026-03-12")  # fmt: skip
    by_day = {c.start.isoformat(): c for c in table.cohorts}
    # Mar 3: u2 signed up (1 member), opened the same day, not on Mar 4 or 5.
    assert (by_day["2026-03-03"].size, by_day["2026-03-03"].counts) == (1, [1, 0, 0])
    assert by_day["2026-03-03"].percentages == [100.0, 0.0, 0.0]  # real zeros
    # Mar 4: nobody signed up: a size of 0 (true) but no share (nothing to divide by).
    quiet = by_day["2026-03-04"]
    assert (quiet.size, quiet.percentages, quiet.reason) == (
        0,
        [None, None, None],
        "no users did the start event in this period",
    )
    # Mar 9's day 2 (Mar 11) is after the data: not observed; Mar 10 is the last day seen.
    assert len(by_day["2026-03-09"].counts) == 2
    # Mar 11 and 12 start after the data: no size, no cells.
    for day in ("2026-03-11", "2026-03-12"):
        assert by_day[day].size is None and by_day[day].counts == []
        assert by_day[day].reason == "after the data (data through 2026-03-10)"
    out = run("retention", "--start-event", "signup", "--return-event", "open", "--period",
              "day", "--periods", "3", "--from", "2026-03-03", "--to", "2026-03-12",
              "--format", "csv", "-w", str(log.path))  # fmt: skip
    lines = out.output.splitlines()
    assert "2026-03-04,0,0,0," in lines  # size 0, k 0, count 0, no percentage
    assert "2026-03-12,,,," in lines  # after the data: every cell empty
    doc = json.loads(run("retention", "--start-event", "signup", "--return-event", "open",
                         "--period", "day", "--periods", "3", "--from", "2026-03-12",
                         "--to", "2026-03-12", "--format", "json",
                         "-w", str(log.path)).output)  # fmt: skip
    assert doc["cohorts"][0]["size"] is None and doc["cohorts"][0]["percentages"] == []


def test_a_cohort_whose_last_period_runs_past_the_data_is_partial(
    log: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_clock(monkeypatch, AFTER)
    # Weeks start on Monday: Mar 9's week runs to Mar 15, after the data (Mar 10).
    table = log.retention("signup", "open", period="week", periods=2, start="2026-03-02",
                          end="2026-03-15")  # fmt: skip
    first, second = table.cohorts
    assert (first.start, first.counts, first.partial) == (date(2026, 3, 2), [2, 1], True)
    # Nobody signed up in the week of Mar 9: a real 0, and a partial week.
    assert (second.start, second.size, second.partial) == (date(2026, 3, 9), 0, True)
    closed = log.retention("signup", "open", period="day", periods=2, start="2026-03-02",
                           end="2026-03-02")  # fmt: skip
    assert closed.cohorts[0].partial is False  # Mar 2 and 3 are whole days of data


def test_a_funnel_nobody_entered_says_so_and_open_windows_are_partial(
    log: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_clock(monkeypatch, AFTER)
    quiet = log.funnel(["signup", "open"], start="2026-03-05", end="2026-03-08", window="1d")
    # Mar 5-8 lies inside the data, and nobody signed up: real zeros, with the reason.
    assert [s.count for s in quiet.steps] == [0, 0]
    assert quiet.reason == "no users entered the first step in this range"
    assert quiet.partial is False  # the 1-day windows closed by Mar 9, within the data
    open_ = log.funnel(["signup", "open"], start="2026-03-02", end="2026-03-03", window="14d")
    assert [s.count for s in open_.steps] == [2, 2] and open_.reason is None
    assert open_.partial is True  # Mar 3 + 14 days is after the data (Mar 10)
    doc = json.loads(
        run(
            "funnel",
            "signup",
            "open",
            "--from",
            "2026-03-05",
            "--to",
            "2026-03-08",
            "--format",
            "json",
            "-w",
            str(log.path),
        ).output
    )
    assert doc["reason"] == "no users entered the first step in this range"


def test_stickiness_past_the_data_is_null_beyond_the_days_observed(
    log: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_clock(monkeypatch, AFTER)
    sticky = log.stickiness("open", start="2026-03-02", end="2026-03-13")
    users = [h["users"] for h in sticky.histogram]
    # 9 days observed (Mar 2-10): u1 opened on 2 days, u2 on 1; nobody on 3..9 (real
    # zeros); 10..12 active days cannot be known yet.
    assert users == [1, 1, 0, 0, 0, 0, 0, 0, 0, None, None, None]
    assert (sticky.partial, sticky.observed) == (True, 9)
    assert sticky.to_dict()["observed_periods"] == 9


def test_the_demo_pages_agree_on_an_as_of_after_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from northstar.demo.load import load_demo

    set_clock(monkeypatch, "2028-01-01")
    ws = Workspace.init(tmp_path / "demo", name="demo")
    load_demo(ws, users=120, days=180, seed=5)
    ws = Workspace(ws.path)
    assert ws.as_of().today == date(2026, 11, 1)
    assert ws.scorecard().as_of == date(2026, 11, 1)
    steps = ws.funnel(["signed_up", "project_created"]).steps
    assert steps[0].count > 0
    mau = ws.query("mau", grain="month", use_cache=False)
    assert mau["period"].iloc[-1] == date(2026, 10, 1) and mau["value"].notna().all()


def test_no_code_or_test_reads_the_calendar_but_the_clock() -> None:
    import re

    import northstar

    pattern = re.compile(r"datetime\.now\(|datetime\.utcnow\(|date\.today\(|time\.time\(\)")
    roots = [Path(northstar.__file__).parent, Path(__file__).parent]
    offenders = [
        f"{path.name}:{n}"
        for root in roots
        for path in root.rglob("*.py")
        if path.name != "clock.py" and path.name != Path(__file__).name
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == [], "read the calendar through northstar.clock"


def test_a_breakdown_drawn_as_bars_is_stacked(
    log: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 19: breakdowns over time are stacked bars (the convention), not grouped.
    from northstar.web.present import explorer_view

    set_clock(monkeypatch, AFTER)
    frame = log.query(["dau"], grain="day", start="2026-03-02", end="2026-03-03", by=["event"])
    bars = explorer_view(frame, log.registry().get("dau"), "USD", None, kind="bar")
    assert bars["chart"]["options"]["scales"] == {"x": {"stacked": True}, "y": {"stacked": True}}
    plain = explorer_view(log.query(["dau"], grain="day", start="2026-03-02", end="2026-03-03"),
                          log.registry().get("dau"), "USD", None, kind="bar")  # fmt: skip
    assert "scales" not in plain["chart"]["options"]
