"""Funnels on a hand-made event log; every expected number is worked out in comments."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from northstar.errors import QueryArgumentError
from northstar.workspace import Workspace
from tests.metric_fixtures import events

TODAY = date(2026, 6, 1)
STEPS = ["signup", "create", "share"]
D = "2026-03-01T"
LOG = [
    # u1: the whole funnel in 4 minutes (create after 120 s, share 120 s later).
    ("signup", "u1", D + "10:00:00Z"), ("create", "u1", D + "10:02:00Z"),
    ("share", "u1", D + "10:04:00Z"),
    # u2: create after 180 s, a view, share after 420 s more (10 minutes in all).
    ("signup", "u2", D + "10:00:00Z"), ("create", "u2", D + "10:03:00Z"),
    ("view", "u2", D + "10:05:00Z"), ("share", "u2", D + "10:10:00Z"),
    # u3: create 19 days later, outside a 14-day window.
    ("signup", "u3", D + "10:00:00Z"), ("create", "u3", "2026-03-20T10:00:00Z"),
    # u4: signup and create on the same timestamp (taken in step order), share 60 s later.
    ("signup", "u4", D + "10:00:00Z"), ("create", "u4", D + "10:00:00Z"),
    ("share", "u4", D + "10:01:00Z"),
    # u5: create before signup.
    ("create", "u5", D + "09:00:00Z"), ("signup", "u5", D + "10:00:00Z"),
]  # fmt: skip
BROWSER = {"u1": "Chrome", "u2": "Chrome", "u3": "Safari", "u4": "Safari"}


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.init(tmp_path_factory.mktemp("funnel") / "ws", timezone="UTC")
    props = [
        f'{{"$browser": "{BROWSER[d]}"}}' if e == "signup" and d in BROWSER else "{}"
        for e, d, _ in LOG
    ]
    events(ws, LOG, props)
    return ws


def counts(ws: Workspace, **kw: object) -> list[int]:
    args: dict[str, object] = {"start": "2026-03-01", "end": "2026-03-01", "today": TODAY}
    args.update(kw)
    return [s.count for s in ws.funnel(STEPS, **args).steps]  # type: ignore[arg-type]


def test_ordered_funnel_counts_conversions_and_times(log: Workspace) -> None:
    result = log.funnel(STEPS, start="2026-03-01", end="2026-03-01", today=TODAY)
    signup, create, share = result.steps
    # create: u1, u2, u4 (u3 is too late, u5 created before signing up); share: the same.
    assert [s.count for s in result.steps] == [5, 3, 3]
    assert create.conversion_from_start == pytest.approx(0.6)
    assert share.conversion_from_previous == pytest.approx(1.0)
    # Seconds to create: 120, 180, 0 → mean 100, median 120.
    assert (create.avg_seconds_to_convert, create.median_seconds_to_convert) == (100.0, 120.0)
    # Seconds from create to share: 120, 420, 60 → mean 200, median 120.
    assert (share.avg_seconds_to_convert, share.median_seconds_to_convert) == (200.0, 120.0)
    assert signup.avg_seconds_to_convert is None


def test_a_five_minute_window_drops_a_conversion_that_14_days_keep(log: Workspace) -> None:
    assert counts(log, window="14d") == [5, 3, 3]
    assert counts(log, window="5m") == [5, 3, 2]  # u2 shared after 10 minutes


def test_the_window_is_inclusive(log: Workspace) -> None:
    assert counts(log, window="4m") == [5, 3, 2]  # u1 shared at exactly 4 minutes
    assert counts(log, window="3m") == [5, 3, 1]  # u2 created at exactly 3 minutes


def test_strict_mode_resets_on_any_other_event(log: Workspace) -> None:
    # u2's view between create and share ends the attempt at create; u4's same-timestamp
    # signup and create are consecutive in step order.
    assert counts(log, mode="strict") == [5, 3, 2]


def test_unordered_mode_takes_steps_in_any_order(log: Workspace) -> None:
    # u5's create then signup counts as two steps.
    assert counts(log, mode="unordered") == [5, 4, 3]


def test_exclusion_steps_remove_the_attempt(log: Workspace) -> None:
    # u2 viewed between create (step 2) and share (step 3): excluded altogether.
    assert counts(log, exclude=["view:2-3"]) == [4, 2, 2]
    assert counts(log, exclude=["view:1-2"]) == [5, 3, 3]  # the view came after create


def test_breakdown_by_the_first_step_property(log: Workspace) -> None:
    result = log.funnel(
        STEPS, by="$browser", start="2026-03-01", end="2026-03-01", today=TODAY
    ).to_dict()
    got = {b["value"]: [s["count"] for s in b["steps"]] for b in result["breakdowns"]}
    assert got == {"Chrome": [2, 2, 2], "Safari": [2, 1, 1], "(none)": [1, 0, 0]}
    assert [s["count"] for s in result["steps"]] == [5, 3, 3]


def test_the_best_attempt_counts(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    # Two attempts: the first (Mar 1) never gets to create within 2 days; the second does.
    events(
        ws,
        [
            ("signup", "u", "2026-03-01T10:00:00Z"),
            ("signup", "u", "2026-03-05T10:00:00Z"),
            ("create", "u", "2026-03-05T11:00:00Z"),
        ],
    )
    result = ws.funnel(
        ["signup", "create"], window="2d", start="2026-03-01", end="2026-03-31", today=TODAY
    )
    assert [s.count for s in result.steps] == [1, 1]
    assert result.steps[1].avg_seconds_to_convert == 3600.0


def test_bad_input(log: Workspace) -> None:
    with pytest.raises(QueryArgumentError, match="2 to 20 steps"):
        log.funnel(["signup"], today=TODAY)
    with pytest.raises(QueryArgumentError, match="conversion window 'soon'"):
        log.funnel(STEPS, window="soon", today=TODAY)
    with pytest.raises(QueryArgumentError, match="funnel mode"):
        log.funnel(STEPS, mode="random", today=TODAY)
