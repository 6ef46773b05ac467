"""Retention tables take one of two query plans: recurring cohorts over calendar periods
that span at most 63 periods are counted from one bitmask of active periods per person;
longer spans join each person's cohorts to their returns. Both must give the same table;
the expected counts are worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from northstar.analyses import retention as retention_module
from northstar.workspace import Workspace
from tests.metric_fixtures import events

TODAY = date(2026, 6, 1)
LOG = [
    ("open", "u1", "2026-01-01T09:00:00Z"),
    ("open", "u1", "2026-01-02T09:00:00Z"),
    ("open", "u2", "2026-01-02T10:00:00Z"),
    ("open", "u2", "2026-01-04T10:00:00Z"),
    ("open", "u3", "2026-01-01T11:00:00Z"),
    ("open", "u3", "2026-01-02T11:00:00Z"),
    ("open", "u3", "2026-01-04T11:00:00Z"),
    ("open", "u1", "2026-03-15T09:00:00Z"),
    # Weeks (Monday to Sunday): u5 on Mon Feb 2 and Mon Feb 9; u6 on Thu Feb 5 and Feb 9.
    ("open", "u5", "2026-02-02T09:00:00Z"),
    ("open", "u5", "2026-02-09T09:00:00Z"),
    ("open", "u6", "2026-02-05T09:00:00Z"),
    ("open", "u6", "2026-02-09T10:00:00Z"),
    # The data runs to May 31 (a passive page-leave): quiet days before it are real zeros,
    # days after it have no data (null).
    ("$pageleave", "zz", "2026-05-31T12:00:00Z"),
]
# Daily cohorts, 4 periods (k = 0..3):
# Jan 1: u1, u3; u1 back on Jan 2 (k1); u3 on Jan 2 (k1) and Jan 4 (k3) -> [2, 2, 0, 1]
# Jan 2: u1, u2, u3; u2 and u3 back on Jan 4 (k2)                       -> [3, 0, 2, 0]
# Jan 3: nobody                                                         -> [0, 0, 0, 0]
# "On or after" (cumulative) counts each user at their last return and every k before:
# Jan 1: u1 last at k1, u3 at k3 -> [2, 2, 1, 1]; Jan 2: u2, u3 at k2 -> [3, 2, 2, 0].
FIRST_COHORTS = {
    False: [
        ("2026-01-01", [2, 2, 0, 1]),
        ("2026-01-02", [3, 0, 2, 0]),
        ("2026-01-03", [0, 0, 0, 0]),
    ],
    True: [
        ("2026-01-01", [2, 2, 1, 1]),
        ("2026-01-02", [3, 2, 2, 0]),
        ("2026-01-03", [0, 0, 0, 0]),
    ],
}


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.init(tmp_path_factory.mktemp("paths") / "ws", timezone="UTC")
    events(ws, LOG)
    return ws


@pytest.mark.parametrize("cumulative", [False, True])
@pytest.mark.parametrize("end", ["2026-01-03", "2026-03-15"])
def test_short_and_long_ranges_agree(log: Workspace, end: str, cumulative: bool) -> None:
    result = log.retention(
        "open", "open", period="day", periods=4, start="2026-01-01", end=end,
        cumulative=cumulative, today=TODAY,
    )  # fmt: skip
    cohorts = [(c.start.isoformat(), c.counts) for c in result.cohorts]
    assert cohorts[:3] == FIRST_COHORTS[cumulative]
    if end == "2026-01-03":
        assert len(cohorts) == 3
    else:
        # 74 daily cohorts; the last one: u1 on Mar 15, nobody after.
        assert len(cohorts) == 74
        assert cohorts[-1] == ("2026-03-15", [1, 0, 0, 0])


def test_which_plan_each_range_takes(log: Workspace) -> None:
    request = retention_module.RetentionRequest.make("open", "open", period="day", periods=4)
    fits = retention_module._masks_fit
    rng = retention_module.Range.make("day", "2026-01-01", "2026-01-03", today=TODAY)
    assert fits(request, rng, date(2026, 1, 6), log.settings)  # 6 days of bits
    rng = retention_module.Range.make("day", "2026-01-01", "2026-03-15", today=TODAY)
    assert not fits(request, rng, date(2026, 3, 18), log.settings)  # 77 days


@pytest.mark.parametrize("periods", [3, 70])  # 70 weeks of bits: the join plan
def test_a_range_starting_mid_week(log: Workspace, periods: int) -> None:
    # The week of Feb 2 is cut at Wed Feb 4: only u6 (Thu Feb 5) starts in the range, not
    # u5 (Mon Feb 2). u6 is back in the week of Feb 9 (k1), nobody later.
    result = log.retention(
        "open", "open", period="week", periods=periods, start="2026-02-04", end="2026-02-08",
        today=date(2027, 6, 1),
    )  # fmt: skip
    (cohort,) = result.cohorts
    assert (cohort.start, cohort.size) == (date(2026, 2, 2), 1)
    # The data ends on Sun May 31: weeks k = 0..16 (Feb 2 .. May 25) are known, later ones not.
    known = min(periods, 17)
    assert cohort.counts == ([1, 1] + [0] * (periods - 2))[:known]
