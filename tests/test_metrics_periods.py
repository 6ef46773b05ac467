"""Periods: calendar arithmetic, and end-of-period metrics evaluated on the last days only.

A metric whose week/month/quarter value is its value at the end of the period (MRR, paying
customers, WAU/MAU, bug backlog) is asked only for each period's last day. The expected
values here come from another path: the same metric by day, read on those days.
"""

from __future__ import annotations

import itertools
import math
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from dateutil.relativedelta import relativedelta

from northstar.metrics import sql_cache
from northstar.metrics.periods import Grain, period_last_day, periods, shift_periods
from northstar.workspace import Workspace

TODAY = date(2026, 12, 1)
END = "2026-10-20"  # mid-month, mid-week and mid-quarter: the last period is clipped
STEP = {
    Grain.day: relativedelta(days=1),
    Grain.week: relativedelta(weeks=1),
    Grain.month: relativedelta(months=1),
    Grain.quarter: relativedelta(months=3),
    Grain.year: relativedelta(years=1),
}


def test_periods_step_as_dateutil_does() -> None:
    rng = random.Random(3)
    for offset in range(0, 1500, 3):
        day = date(2023, 12, 25) + timedelta(days=offset)  # leap days and month ends included
        for grain in Grain:
            for n in (-13, -1, 0, 1, 5, 12):
                assert shift_periods(day, grain, n) == day + STEP[grain] * n
            assert period_last_day(day, grain) == day + STEP[grain] - timedelta(days=1)
            last = day + timedelta(days=rng.randint(-3, 800))
            starts = periods(day, last, grain, "sunday")
            if starts:
                assert starts[0] <= day < starts[0] + STEP[grain]
                assert starts[-1] <= last < starts[-1] + STEP[grain]
            assert all(b == a + STEP[grain] for a, b in itertools.pairwise(starts))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    from northstar.demo.load import load_demo

    ws = Workspace.init(tmp_path_factory.mktemp("ends") / "ws", timezone="Europe/Paris")
    load_demo(ws, users=300, days=180, seed=5)
    return ws


def last_day(period: date, grain: str, end: str = END) -> date:
    offset = {"week": pd.offsets.Day(6), "month": pd.offsets.MonthEnd(0),
              "quarter": pd.offsets.QuarterEnd(0)}[grain]  # fmt: skip
    return min((pd.Timestamp(period) + offset).date(), date.fromisoformat(end))


def as_dict(df: pd.DataFrame, by: str | None) -> dict[tuple[object, ...], float]:
    keys = zip(df["period"], df[by], strict=True) if by else ((p,) for p in df["period"])
    return {tuple(k): float(v) for k, v in zip(keys, df["value"], strict=True)}


@pytest.mark.parametrize(
    ("metric", "by"),
    [("mrr", None), ("mrr", "plan"), ("paying_customers", "currency"), ("mau", None),
     ("wau", "plan"), ("bug_backlog", "team")],
)  # fmt: skip
@pytest.mark.parametrize("grain", ["week", "month", "quarter"])
def test_end_of_period_value_is_the_daily_value_on_the_last_day(
    demo: Workspace, metric: str, by: str | None, grain: str
) -> None:
    coarse = demo.query(metric, grain=grain, start="2026-07-10", end=END, by=by,
                        use_cache=False, today=TODAY)  # fmt: skip
    first = min(coarse["period"])
    daily = demo.query(metric, grain="day", start=first, end=END, by=by, use_cache=False,
                       today=TODAY)  # fmt: skip
    want = {
        (p, *rest): v
        for (day, *rest), v in as_dict(daily, by).items()
        for p in coarse["period"].unique()
        if day == last_day(p, grain)
    }
    got = as_dict(coarse, by)
    assert got == want
    assert len(got) == coarse["period"].nunique() * (daily[by].nunique() if by else 1)
    assert not any(math.isnan(v) for v in got.values())


def test_end_of_period_values_of_the_compiled_query_cache(tmp_path: Path) -> None:
    """The cached SQL of a month-end query is keyed on its days: asking the same metric by
    week, or by day, over the same days (June 2026 starts on a Monday) gives week ends or
    every day, not the month ends stored before."""
    from northstar.demo.load import load_demo

    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    load_demo(ws, users=120, days=180, seed=2)
    args = {"start": "2026-06-01", "end": "2026-09-30", "use_cache": False, "today": TODAY}
    frames = {g: ws.query("mrr", grain=g, **args) for g in ("month", "week", "day")}  # type: ignore[arg-type]
    sql_cache._memory.clear()
    shutil.rmtree(ws.path / ".cache" / "sql")
    daily = ws.query("mrr", grain="day", **args).set_index("period")["value"]  # type: ignore[arg-type]
    assert (daily > 0).sum() > 100
    for grain, df in frames.items():
        ends = (
            list(df["period"])
            if grain == "day"
            else [last_day(p, grain, "2026-09-30") for p in df["period"]]
        )
        assert df["value"].tolist() == [daily[d] for d in ends]
