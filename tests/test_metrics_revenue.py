"""Revenue metrics against hand-computed ChartMogul examples and a pandas recomputation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from northstar.errors import MetricError
from northstar.workspace import Workspace
from tests.metric_fixtures import events, load, load_subs, sub

TODAY = date(2026, 6, 1)


def monthly(
    ws: Workspace, metric: str, start: str = "2026-01-01", end: str = "2026-04-30"
) -> list[float | None]:
    df = ws.query(metric, grain="month", start=start, end=end, use_cache=False, today=TODAY)
    return [None if np.isnan(v) else round(float(v), 6) for v in df["value"]]


@pytest.fixture
def chartmogul(tmp_path: Path) -> Workspace:
    """Jan: A 40, B 30, C 10, D 20 (MRR 100). Feb 1: A expands to 50, B contracts to 20,
    C churns. Nothing changes in March; every subscription ends on April 1."""
    ws = Workspace.init(tmp_path / "cm", timezone="UTC")
    months = ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    prices = {"A": [40, 50, 50], "B": [30, 20, 20], "C": [10], "D": [20, 20, 20]}
    rows = []
    for customer, amounts in prices.items():
        for i, amount in enumerate(amounts):
            rows.append(sub(f"s{customer}", customer, months[i], months[i + 1], amount))
    load_subs(ws, rows)
    return ws


def test_chartmogul_worked_example(chartmogul: Workspace) -> None:
    ws = chartmogul
    assert monthly(ws, "mrr") == [100, 90, 90, 0]
    assert monthly(ws, "mrr_start") == [0, 100, 90, 90]
    assert monthly(ws, "new_mrr") == [100, 0, 0, 0]
    assert monthly(ws, "expansion_mrr") == [0, 10, 0, 0]
    assert monthly(ws, "contraction_mrr") == [0, 10, 0, 0]
    assert monthly(ws, "churned_mrr") == [0, 10, 0, 90]
    assert monthly(ws, "net_new_mrr") == [100, -10, 0, -90]
    # start MRR 100, churn 10, contraction 10, expansion 10 -> gross 20 %, net 10 %
    assert monthly(ws, "gross_mrr_churn") == [None, 0.2, 0.0, 1.0]
    assert monthly(ws, "net_mrr_churn") == [None, 0.1, 0.0, 1.0]
    # 1 of 4 customers paying on Jan 31 churned in February; all 3 in April
    assert monthly(ws, "customer_churn_rate") == [None, 0.25, 0.0, 1.0]
    assert monthly(ws, "paying_customers") == [4, 3, 3, 0]
    assert monthly(ws, "arpu") == [25, 30, 30, None]  # 100/4, 90/3
    assert monthly(ws, "quick_ratio") == [None, 0.5, None, 0.0]  # (0+10)/(10+10)
    assert monthly(ws, "arr") == [1200, 1080, 1080, 0]


def test_mrr_identity_holds_every_day_and_month(chartmogul: Workspace) -> None:
    for grain in ("day", "month"):
        df = chartmogul.query(
            ["mrr_start", "net_new_mrr", "mrr"], grain=grain, start="2026-01-01",
            end="2026-04-30", use_cache=False, today=TODAY,
        )  # fmt: skip
        wide = df.pivot(index="period", columns="metric", values="value")
        assert (wide["mrr_start"] + wide["net_new_mrr"] - wide["mrr"]).abs().max() == 0


def test_nrr_and_grr_over_a_one_month_window(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w", timezone="UTC", revenue={"nrr_window_months": 1})
    months = ["2026-01-01", "2026-02-01", "2026-03-01"]
    prices = {"A": [40, 50], "B": [30, 20], "C": [10], "D": [20, 20]}
    load_subs(ws, [sub(f"s{c}", c, months[i], months[i + 1], a)
                   for c, amounts in prices.items() for i, a in enumerate(amounts)])  # fmt: skip
    # Feb 28 vs Jan 28: A 50/40, B 20/30, C 0/10, D 20/20 -> NRR 90/100, GRR (40+20+0+20)/100
    df = ws.query(["nrr", "grr"], grain="month", start="2026-02-01", end="2026-02-28", today=TODAY)
    assert df.set_index("metric")["value"].round(6).to_dict() == {"nrr": 0.9, "grr": 0.8}


def test_annual_quarterly_weekly_plans_discounts_trials_free_plans_and_fx(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w", timezone="UTC")
    load(ws, "fx_rates", ("date", "currency", "rate"),
         [("2026-01-01", "EUR", 1.10), ("2026-01-20", "EUR", 1.20)])  # fmt: skip
    load_subs(ws, [
        sub("e", "E", "2026-01-15", "2027-01-15", 1200, interval="year"),  # 1200/12 = 100
        sub("f", "F", "2026-01-02", "2026-02-02", 50, quantity=2, discount=10),  # 50*2-10 = 90
        sub("g", "G", "2026-01-01", "2026-01-15", 30, status="trialing"),  # trial: 0
        sub("g", "G", "2026-01-15", "2026-02-15", 30),  # 30
        sub("h", "H", "2026-01-10", "2026-02-10", 100, currency="EUR"),  # 100 * 1.10 = 110
        sub("i", "I", "2026-01-05", "2026-02-05", 12, interval="week"),  # 12*52/12 = 52
        sub("j", "J", "2026-01-03", "2026-04-03", 300, interval="quarter"),  # 300/3 = 100
        sub("k", "K", "2026-01-03", "2026-02-03", 0, plan="free"),  # free: 0
    ])  # fmt: skip
    assert monthly(ws, "mrr", end="2026-01-31") == [482]  # 100+90+30+110+52+100
    assert monthly(ws, "paying_customers", end="2026-01-31") == [6]
    # revenue = invoices starting in January: 1200 + 90 + 30 + 110 + 12 + 300 (trial/free: 0)
    assert monthly(ws, "revenue", end="2026-01-31") == [1742]


def test_same_period_start_and_churn_policy(tmp_path: Path) -> None:
    rows = [
        sub("a", "A", "2025-12-01", "2026-03-01", 10),  # pays through February
        sub("b", "B", "2025-12-01", "2026-01-10", 10),  # churns in January
        sub("k", "K", "2026-01-05", "2026-01-20", 10),  # starts and churns in January
    ]
    default = Workspace.init(tmp_path / "d", timezone="UTC")
    load_subs(default, rows)
    # paying on Dec 31: A, B -> churned in Jan: B only (K is left out) -> 1/2
    assert monthly(default, "customer_churn_rate", end="2026-01-31") == [0.5]
    assert monthly(default, "new_mrr", end="2026-01-31") == [10]
    assert monthly(default, "churned_mrr", end="2026-01-31") == [20]
    counted = Workspace.init(
        tmp_path / "c", timezone="UTC", revenue={"count_same_period_churn": True}
    )
    load_subs(counted, rows)
    assert monthly(counted, "customer_churn_rate", end="2026-01-31") == [1.0]  # (B + K) / 2


def test_churn_recognised_at_cancellation(tmp_path: Path) -> None:
    rows = [sub("l", "L", "2026-01-01", "2027-01-01", 1200, interval="year", canceled="2026-02-10")]
    at_end = Workspace.init(tmp_path / "e", timezone="UTC")
    load_subs(at_end, rows)
    # the data ends with the cancellation on Feb 10: March and April have none (null) ...
    assert monthly(at_end, "churned_mrr") == [0, 0, None, None]
    events(at_end, [("$pageleave", "zz", "2026-04-30T12:00:00Z")])  # ... until Apr 30
    assert monthly(at_end, "churned_mrr") == [0, 0, 0, 0]
    at_cancel = Workspace.init(
        tmp_path / "c", timezone="UTC", revenue={"churn_recognition": "cancellation"}
    )
    load_subs(at_cancel, rows)
    events(at_cancel, [("$pageleave", "zz", "2026-04-30T12:00:00Z")])  # the data runs to Apr 30
    assert monthly(at_cancel, "churned_mrr") == [0, 100, 0, 0]
    assert monthly(at_cancel, "mrr") == [100, 0, 0, 0]


def test_past_due_policy(tmp_path: Path) -> None:
    rows = [sub("p", "P", "2026-01-01", "2026-02-01", 40, status="past_due")]
    counted = Workspace.init(tmp_path / "a", timezone="UTC")
    load_subs(counted, rows)
    assert monthly(counted, "mrr", end="2026-01-31") == [40]
    excluded = Workspace.init(
        tmp_path / "b", timezone="UTC", revenue={"past_due_counts_as_mrr": False}
    )
    load_subs(excluded, rows)
    assert monthly(excluded, "mrr", end="2026-01-31") == [0]


def test_periods_are_cut_in_the_workspace_time_zone(ws: Workspace) -> None:
    # 2026-01-31T23:30Z is 00:30 on February 1st in Paris: not in January's MRR
    load_subs(ws, [sub("z", "Z", "2026-01-31T23:30:00Z", None, 25)])
    # ... so the data starts in February: January has none (null)
    assert monthly(ws, "mrr", end="2026-02-28") == [None, 25]
    assert monthly(ws, "new_mrr", end="2026-02-28") == [None, 25]


def test_empty_period_and_missing_fx_rate(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w", timezone="UTC")
    assert monthly(ws, "mrr", start="2025-12-01", end="2025-12-31") == [None]  # no data: null
    assert monthly(ws, "customer_churn_rate", start="2025-12-01", end="2025-12-31") == [None]
    load_subs(ws, [sub("x", "X", "2026-01-01", None, 10, currency="CHF")])
    with pytest.raises(MetricError, match="CHF"):
        ws.query("mrr", grain="month", start="2026-01-01", end="2026-01-31", use_cache=False)


def test_breakdown_by_plan_keeps_the_identity(chartmogul: Workspace) -> None:
    df = chartmogul.query(["mrr", "net_new_mrr", "mrr_start"], grain="month", start="2026-01-01",
                          end="2026-04-30", by="customer_id", use_cache=False, today=TODAY)  # fmt: skip
    wide = df.pivot_table(index=["period", "customer_id"], columns="metric", values="value")
    assert (wide["mrr_start"] + wide["net_new_mrr"] - wide["mrr"]).abs().max() == 0
    feb = wide.loc[date(2026, 2, 1)]["mrr"].to_dict()
    assert feb == {"A": 50, "B": 20, "C": 0, "D": 20}


# -- the demo product, recomputed with pandas ---------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    from northstar.demo.load import load_demo

    ws = Workspace.init(tmp_path_factory.mktemp("demo") / "ws", timezone="UTC")
    load_demo(ws, users=600, days=180, seed=11)
    return ws


def pandas_mrr_at(subs: pd.DataFrame, fx: pd.DataFrame, day: date) -> float:
    """MRR at the end of ``day``, written from the catalog's definition without the engine."""
    per_month = {"month": 1.0, "year": 1 / 12, "quarter": 1 / 3, "week": 52 / 12}
    total = 0.0
    for r in subs.itertuples():
        start = r.started_at.date()
        stop = None if pd.isna(r.ended_at) else r.ended_at.date()
        if r.status == "trialing" or start > day or (stop is not None and stop <= day):
            continue
        rate = 1.0
        if r.currency != "USD":
            rates = fx[(fx.currency == r.currency) & (fx.date <= start)]
            rate = float(rates.sort_values("date").rate.iloc[-1])
        value = float(r.amount * r.quantity - r.discount) * per_month[r.interval] * rate
        total += max(round(value, 4), 0.0)
    return total


def test_demo_mrr_matches_pandas(demo: Workspace) -> None:
    subs = demo.sql("SELECT * FROM subscriptions").to_pandas()
    fx = demo.sql("SELECT date, currency, rate FROM fx_rates").to_pandas()
    df = demo.query("mrr", grain="month", start="2026-05-01", end="2026-10-31", use_cache=False)
    for row in df.itertuples():
        last = (pd.Timestamp(row.period) + pd.offsets.MonthEnd(0)).date()
        # per-row rounding to 4 decimals may differ in the last digit between engines
        assert row.value == pytest.approx(pandas_mrr_at(subs, fx, last), abs=1e-2)


def test_demo_mrr_identity_and_churn_count(demo: Workspace) -> None:
    df = demo.query(["mrr_start", "net_new_mrr", "mrr", "churned_customers", "paying_customers_start",
                     "customer_churn_rate"], grain="month", start="2026-05-01", end="2026-10-31",
                    use_cache=False)  # fmt: skip
    wide = df.pivot(index="period", columns="metric", values="value")
    assert (wide["mrr_start"] + wide["net_new_mrr"] - wide["mrr"]).abs().max() < 1e-6
    assert (wide["mrr_start"].iloc[1:].to_numpy() == wide["mrr"].iloc[:-1].to_numpy()).all()
    ratio = wide["churned_customers"] / wide["paying_customers_start"]
    assert np.allclose(ratio, wide["customer_churn_rate"])


def test_fx_rate_of_each_start_day_shared_by_periods_and_currencies(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w", timezone="UTC")
    load(ws, "fx_rates", ("date", "currency", "rate"),
         [("2026-01-10", "EUR", 1.10), ("2026-01-20", "EUR", 1.20), ("2026-01-15", "GBP", 1.30)])  # fmt: skip
    load_subs(ws, [
        sub("f", "F", "2026-01-01", None, 40),  # USD: 40
        sub("a", "A", "2026-01-05", None, 100, currency="EUR"),  # before any rate: first, 110
        sub("b", "B", "2026-01-20", None, 100, currency="EUR"),  # on a rate's day: 120
        sub("c", "C", "2026-01-20", None, 50, currency="EUR"),  # the same day and currency: 60
        sub("d", "D", "2026-01-25", None, 10, currency="EUR"),  # the rate of the 20th: 12
        sub("e", "E", "2026-01-20", None, 100, currency="GBP"),  # another currency: 130
    ])  # fmt: skip
    df = ws.query("mrr", start="2026-01-19", end="2026-01-25", use_cache=False, today=TODAY)
    by_day = dict(zip(df["period"], df["value"], strict=True))
    assert by_day[date(2026, 1, 19)] == 150  # 40 + 110
    assert by_day[date(2026, 1, 20)] == 460  # + 120 + 60 + 130
    assert by_day[date(2026, 1, 25)] == 472  # + 12
    assert monthly(ws, "mrr", end="2026-01-31") == [472]
    assert monthly(ws, "revenue", end="2026-01-31") == [472]  # one invoice each, same rates


def test_periods_without_positive_mrr_count_nothing(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w", timezone="UTC")
    load_subs(ws, [
        sub("x", "X", "2026-01-01", "2026-02-01", 10, discount=30),  # 10 - 30 < 0
        sub("z", "Z", "2026-01-01", "2026-02-01", 0, plan="free"),
        sub("y", "Y", "2026-01-01", None, 50),
    ])  # fmt: skip
    assert monthly(ws, "mrr", end="2026-02-28") == [50, 50]
    assert monthly(ws, "paying_customers", end="2026-02-28") == [1, 1]
    assert monthly(ws, "new_mrr", end="2026-02-28") == [50, 0]
    assert monthly(ws, "churned_mrr", end="2026-02-28") == [0, 0]
    assert monthly(ws, "churned_customers", end="2026-02-28") == [0, 0]
