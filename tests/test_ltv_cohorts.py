"""Observed LTV by acquisition cohort, against numbers worked out by hand.

The fixture (UTC workspace, USD; EUR at 1.10 from 1 January, 1.20 from 15 February;
"today" is 15 March 2026):

| customer | first paid | revenue items (USD) |
| --- | --- | --- |
| A | Jan 5 | Jan 5: 10, Feb 5: 10, Mar 5: 10 |
| B | Jan 24 (a trial from Jan 10 is free) | Jan 24: 20, Feb 24: 20 |
| C | Jan 20 (an order) | Jan 20: €50 × 1.10 = 55, Mar 1: annual plan 120 |
| D | Feb 3 | Feb 3: 30 × 2 seats − 10 = 50, Mar 3: 50, Apr 3: 50 (after today: not seen) |
| E | never (free plan) | — |
| F | Feb 20 | Feb 20: €100 × 1.20 = 120 |
| H | Mar 10 | Mar 10: 40 |
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from northstar.cli.app import app
from northstar.errors import QueryArgumentError
from northstar.workspace import Workspace
from tests.metric_fixtures import load, load_subs, sub
from tests.test_cli import run

TODAY = date(2026, 3, 15)


def shop(path: Path, timezone: str = "UTC") -> Workspace:
    ws = Workspace.init(path, timezone=timezone)
    load(ws, "fx_rates", ("date", "currency", "rate"),
         [("2026-01-01", "EUR", 1.10), ("2026-02-15", "EUR", 1.20)])  # fmt: skip
    load_subs(ws, [
        sub("a", "A", "2026-01-05", "2026-02-05", 10),
        sub("a", "A", "2026-02-05", "2026-03-05", 10),
        sub("a", "A", "2026-03-05", "2026-04-05", 10),
        sub("b", "B", "2026-01-10", "2026-01-24", 20, status="trialing"),
        sub("b", "B", "2026-01-24", "2026-02-24", 20),
        sub("b", "B", "2026-02-24", "2026-03-24", 20, status="canceled", canceled="2026-03-01"),
        sub("c", "C", "2026-03-01", "2027-03-01", 120, interval="year"),
        sub("d", "D", "2026-02-03", "2026-03-03", 30, quantity=2, discount=10),
        sub("d", "D", "2026-03-03", "2026-04-03", 30, quantity=2, discount=10),
        sub("d", "D", "2026-04-03", "2026-05-03", 30, quantity=2, discount=10),
        sub("e", "E", "2026-01-02", None, 0, plan="free"),
        sub("f", "F", "2026-02-20", "2026-03-20", 100, currency="EUR"),
        sub("h", "H", "2026-03-10", "2026-04-10", 40),
    ])  # fmt: skip
    load(ws, "orders", ("order_id", "customer_id", "amount", "currency", "ordered_at"),
         [("o1", "C", 50, "EUR", "2026-01-20T12:00:00Z")])  # fmt: skip
    return ws


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return shop(tmp_path_factory.mktemp("ltv") / "w")


def test_monthly_cohorts_cumulative_revenue_per_customer(ws: Workspace) -> None:
    got = ws.ltv_cohorts(grain="month", start="2026-01-01", today=TODAY).to_dict()
    # January: A, B, C → 3 customers. Revenue in January 10 + 20 + 55 = 85, February
    # 10 + 20 = 30, March (to the 15th) 10 + 120 = 130 → cumulative 85, 115, 245 → / 3.
    # February: D, F → 2. February 50 + 120 = 170, March 50 → 170, 220 → / 2.
    # March: H → 40. Complete periods: those that ended before 15 March.
    assert got["cohorts"] == [
        {"start": "2026-01-01", "customers": 3,
         "revenue_per_customer": [28.3333, 38.3333, 81.6667], "complete_periods": 2},
        {"start": "2026-02-01", "customers": 2,
         "revenue_per_customer": [85.0, 110.0], "complete_periods": 1},
        {"start": "2026-03-01", "customers": 1,
         "revenue_per_customer": [40.0], "complete_periods": 0},
    ]  # fmt: skip
    assert (got["grain"], got["currency"], got["from"], got["to"], got["observed_to"]) == (
        "month", "USD", "2026-01-01", "2026-03-15", "2026-03-15",
    )  # fmt: skip


def test_cohort_sizes_and_revenue_agree_with_the_metrics(ws: Workspace) -> None:
    cohorts = ws.ltv_cohorts(grain="month", start="2026-01-01", today=TODAY).cohorts
    df = ws.query(["new_customers", "revenue"], grain="month", start="2026-01-01",
                  end="2026-03-15", use_cache=False, today=TODAY)  # fmt: skip
    metric = df.pivot(index="period", columns="metric", values="value")
    assert [c.customers for c in cohorts] == list(metric["new_customers"])
    # Every revenue item of the fixture belongs to a cohort customer: the cohorts' last
    # cumulative values × sizes add up to the revenue metric's total (85 + 200 + 220).
    total = sum((c.revenue_per_customer[-1] or 0) * c.customers for c in cohorts)
    assert total == pytest.approx(metric["revenue"].sum(), abs=1e-3) == pytest.approx(505)


def test_range_quarter_grain_and_empty_cohorts(ws: Workspace, tmp_path: Path) -> None:
    # --from in February: the January cohort is left out.
    got = ws.ltv_cohorts(start="2026-02-10", end="2026-03-31", today=TODAY)
    assert [(c.start, c.customers) for c in got.cohorts] == [
        (date(2026, 2, 1), 2),
        (date(2026, 3, 1), 1),
    ]
    # One quarter: all six customers, 505 / 6 = 84.1667, the quarter not ended yet.
    q = ws.ltv_cohorts(grain="quarter", start="2026-01-01", today=TODAY).cohorts
    assert [(c.start, c.customers, c.revenue_per_customer, c.complete_periods) for c in q] == [
        (date(2026, 1, 1), 6, [84.1667], 0)
    ]
    # A workspace without billing data: every cohort is empty, with no value.
    empty = Workspace.init(tmp_path / "empty", timezone="UTC")
    none = empty.ltv_cohorts(start="2026-02-01", today=TODAY).cohorts
    assert [(c.customers, c.revenue_per_customer) for c in none] == [(0, [None, None]), (0, [None])]


def test_cohorts_are_cut_in_the_workspace_time_zone(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "paris", timezone="Europe/Paris")
    # 23:30 UTC on 31 January is 00:30 on 1 February in Paris: a February customer.
    load_subs(ws, [sub("z", "Z", "2026-01-31T23:30:00Z", "2026-02-28T23:30:00Z", 25),
                   sub("z", "Z", "2026-02-28T23:30:00Z", None, 25)])  # fmt: skip
    got = ws.ltv_cohorts(start="2026-01-01", today=TODAY).cohorts
    # February cohort: 25 in February, then 25 more on 1 March (Paris) → 25, 50.
    assert [(c.start, c.customers, c.revenue_per_customer) for c in got] == [
        (date(2026, 1, 1), 0, [None, None, None]),
        (date(2026, 2, 1), 1, [25.0, 50.0]),
        (date(2026, 3, 1), 0, [None]),
    ]


def test_a_day_grain_is_refused(ws: Workspace) -> None:
    with pytest.raises(QueryArgumentError, match="use week, month, quarter or year"):
        ws.ltv_cohorts(grain="day", today=TODAY)


# -- the command ---------------------------------------------------------------------------
runner = CliRunner()


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "120"})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_ltv_cohorts_command_json_csv_and_table(ws: Workspace) -> None:
    w = ("-w", str(ws.path))
    # The command observes revenue up to the real today, so only the first values are
    # fixed by the fixture; later months add nothing (no revenue after April).
    got = json.loads(cli("ltv-cohorts", "--from", "2026-01-01", "--to", "2026-02-28",
                         "--format", "json", *w))  # fmt: skip
    assert [(c["start"], c["customers"]) for c in got["cohorts"]] == [
        ("2026-01-01", 3),
        ("2026-02-01", 2),
    ]
    assert got["cohorts"][0]["revenue_per_customer"][:3] == [28.3333, 38.3333, 81.6667]
    # April adds D's 50 (3 April) → February cohort 220 + 50 = 270 / 2 = 135.
    assert got["cohorts"][1]["revenue_per_customer"][:3] == [85.0, 110.0, 135.0]
    lines = cli("ltv-cohorts", "--from", "2026-01-01", "--to", "2026-01-31", "--format", "csv",
                *w).splitlines()  # fmt: skip
    assert lines[0] == "start,customers,k,revenue_per_customer,complete"
    assert lines[1] == "2026-01-01,3,0,28.3333,true"
    out = cli("ltv-cohorts", "--from", "2026-01-01", "--to", "2026-02-28", *w)
    # Whole dollars: 28.33 → $28, 38.33 → $38, 81.67 → $82; 85, 110, 135 for February.
    rows = {line.split()[0]: line.split()[1:5] for line in out.splitlines()
            if line.strip().startswith("2026-0")}  # fmt: skip
    assert rows == {"2026-01": ["3", "$28", "$38", "$82"], "2026-02": ["2", "$85", "$110", "$135"]}
    for args, message in (
        (("--grain", "day"), "use week, month, quarter or year"),
        (("--format", "xml"), "unknown format 'xml'"),
        (("--from", "2026-13-01"), "is not a date"),
    ):
        result = runner.invoke(app, ["ltv-cohorts", *args, *w])
        assert result.exit_code != 0 and message in str(result.exception)


def test_a_mistake_is_one_line_on_stderr(ws: Workspace) -> None:
    out = run("ltv-cohorts", "--grain", "day", "-w", "w", cwd=ws.path.parent)
    assert out.returncode != 0 and "use week, month, quarter or year" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
