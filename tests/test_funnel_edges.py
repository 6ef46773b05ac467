"""Funnel cases beyond tests/test_funnel.py: a step that was not reached stops the attempt
(many entrants), and breakdowns and filters on user properties.

The first case pins the rule that ``_NOWHERE`` in funnel.py protects: DuckDB's
sort-based ASOF join matches a NULL bound (a step not reached) as the smallest value.
DuckDB only picks that operator when it estimates large inputs, so a small fixture runs
the nested-loop plan and passes either way; the regression itself is caught by
``benchmarks/analysis_speed.py``, whose check compares the 20M-event funnel with a
formulation that has no ASOF join."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from northstar.workspace import Workspace
from tests.metric_fixtures import events, load

USERS = 100


def test_a_skipped_step_stops_the_attempt(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    log = []
    for i in range(USERS):
        user = f"u{i:03d}"
        log.append(("signup", user, "2026-03-01T10:00:00Z"))
        if i % 2 == 0:  # even users: the whole funnel
            log.append(("create", user, "2026-03-01T10:01:00Z"))
        # every user shares; odd users never created anything first
        log.append(("share", user, "2026-03-01T10:02:00Z"))
    events(ws, log)
    result = ws.funnel(
        ["signup", "create", "share"], start="2026-03-01", end="2026-03-01", today=date(2026, 6, 1)
    )
    # 100 sign up; the 50 even users create and then share; the odd users' share does
    # not count, because they never reached "create".
    assert [s.count for s in result.steps] == [USERS, USERS // 2, USERS // 2]
    # Even users: create 60 s after signing up, share 60 s after creating.
    assert result.steps[1].median_seconds_to_convert == 60.0
    assert result.steps[2].median_seconds_to_convert == 60.0


def test_breakdown_and_filter_by_a_user_property(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    events(
        ws,
        [
            ("signup", "u1", "2026-03-01T10:00:00Z"), ("create", "u1", "2026-03-01T10:05:00Z"),
            ("signup", "u2", "2026-03-01T11:00:00Z"),
            ("signup", "u3", "2026-03-01T12:00:00Z"), ("create", "u3", "2026-03-01T12:01:00Z"),
        ],
    )  # fmt: skip
    load(
        ws,
        "users",
        ["user_id", "created_at", "properties"],
        [
            ("u1", "2026-03-01T10:00:00Z", '{"plan": "pro"}'),
            ("u2", "2026-03-01T11:00:00Z", '{"plan": "free"}'),
            ("u3", "2026-03-01T12:00:00Z", '{"plan": "free"}'),
        ],
    )
    args: dict[str, object] = {
        "start": "2026-03-01",
        "end": "2026-03-01",
        "today": date(2026, 6, 1),
    }
    result = ws.funnel(["signup", "create"], by="plan", **args)  # type: ignore[arg-type]
    # free: u2 and u3 sign up, u3 creates; pro: u1 signs up and creates.
    by_plan = {key: [s.count for s in steps] for key, steps in result.breakdowns.items()}
    assert by_plan == {"free": [2, 1], "pro": [1, 1]}
    # Only creates by pro users count: u1.
    pro = ws.funnel(["signup", "create where user.plan = 'pro'"], **args)  # type: ignore[arg-type]
    assert [s.count for s in pro.steps] == [3, 1]
