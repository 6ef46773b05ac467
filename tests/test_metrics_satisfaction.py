"""Satisfaction metrics: NPS (with its adjusted Wald interval), CSAT, CES, USS and support.

Every expected number is computed by hand in a comment, or with pandas from the raw rows.
The ``ws`` workspace cuts days in Europe/Paris (UTC+1 in winter, UTC+2 from 29 March 2026).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from northstar.demo.load import load_demo
from northstar.errors import FilterError
from northstar.workspace import Workspace

TODAY = date(2026, 12, 1)
MARCH, APRIL, MAY, JUNE = date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_responses(ws: Workspace, rows: list[tuple[str, str, float, float, float]]) -> None:
    """Rows of (survey, responded_at UTC, score, scale_min, scale_max)."""
    ws.import_arrow(
        "survey_responses",
        pa.table(
            {
                "response_id": [f"r{i}" for i in range(len(rows))],
                "survey": [r[0] for r in rows],
                "respondent_id": [f"u{i}" for i in range(len(rows))],
                "responded_at": pa.array([at(r[1]) for r in rows], pa.timestamp("us", "UTC")),
                "score": [float(r[2]) for r in rows],
                "scale_min": [float(r[3]) for r in rows],
                "scale_max": [float(r[4]) for r in rows],
            }
        ),
    )


def monthly(
    ws: Workspace, metric: str, start: date = MARCH, end: str = "2026-06-30", **kw: object
) -> dict[date, float | None]:
    df = ws.query(metric, grain="month", start=start, end=end, use_cache=False, today=TODAY, **kw)
    return {
        p: (None if math.isnan(v) else v) for p, v in zip(df["period"], df["value"], strict=True)
    }


# -- NPS ---------------------------------------------------------------------------------
def nps_fixture(ws: Workspace) -> None:
    add_responses(
        ws,
        [
            # 23:30 on 31 March in Paris (UTC+2): a March detractor.
            ("nps", "2026-03-31T21:30:00", 3, 0, 10),
            # 01:30 on 1 April in Paris: April, although it is still March in UTC.
            ("nps", "2026-03-31T23:30:00", 10, 0, 10),
            *[
                ("nps", f"2026-04-{d:02d}T10:00:00", s, 0, 10)
                for d, s in zip(range(2, 11), [9, 9, 8, 7, 6, 3, 0, 10, 10], strict=True)
            ],
            ("csat", "2026-04-15T10:00:00", 1, 1, 5),  # another survey: not part of NPS
            # June: ten promoters.
            *[
                ("nps", f"2026-06-{d:02d}T10:00:00", 10 if d % 2 else 9, 0, 10)
                for d in range(1, 11)
            ],
        ],
    )


def test_nps_is_promoters_minus_detractors_in_the_paris_month(ws: Workspace) -> None:
    nps_fixture(ws)
    # April: 10, 9, 9, 8, 7, 6, 3, 0, 10, 10 → n = 10, promoters (9-10) = 5, detractors
    # (0-6) = 3 → 100 × (5 − 3) / 10 = 20. March: one detractor → −100. May: no answers.
    # June: 10 promoters → 100.
    assert monthly(ws, "nps") == {MARCH: -100.0, APRIL: 20.0, MAY: None, JUNE: 100.0}
    assert monthly(ws, "nps_responses") == {MARCH: 1.0, APRIL: 10.0, MAY: 0.0, JUNE: 10.0}


def test_nps_interval_is_the_adjusted_wald_interval(ws: Workspace) -> None:
    nps_fixture(ws)
    # z = 1.959964. April: n' = 10 + 3 = 13, p = (5 + .75)/13 = .442308,
    # d = (3 + .75)/13 = .288462, p − d = .153846; p + d − (p − d)² = .730769 − .023669 =
    # .707101; se = √(.707101 / 13) = .233222; z·se = .457106
    # → low = 100 × (.153846 − .457106) = −30.33, high = 100 × (.153846 + .457106) = 61.10.
    # March (n = 1, D = 1): n' = 4, p = .1875, d = .4375, p − d = −.25, .625 − .0625 = .5625,
    # se = √(.5625/4) = .375, z·se = .734987 → low −98.50, high 48.50.
    # June (n = 10, P = 10): n' = 13, p = .826923, d = .057692, p − d = .769231,
    # .884615 − .591716 = .292899, se = √(.292899/13) = .150102, z·se = .294195
    # → low 47.50, high 106.34 clipped to 100.
    low, high = monthly(ws, "nps_low"), monthly(ws, "nps_high")
    assert low[MARCH] == pytest.approx(-98.50, abs=0.01)
    assert high[MARCH] == pytest.approx(48.50, abs=0.01)
    assert low[APRIL] == pytest.approx(-30.33, abs=0.01)
    assert high[APRIL] == pytest.approx(61.10, abs=0.01)
    assert low[JUNE] == pytest.approx(47.50, abs=0.01)
    assert high[JUNE] == 100.0
    assert low[MAY] is None and high[MAY] is None


def test_nps_breaks_down_and_filters_on_response_properties(ws: Workspace) -> None:
    rows = [("nps", "2026-04-02T10:00:00", s, 0, 10) for s in (10, 2, 9, 9, 7)]
    channels = ["email", "email", "app", "app", "app"]
    table = pa.table(
        {
            "response_id": [f"r{i}" for i in range(5)],
            "survey": [r[0] for r in rows],
            "respondent_id": [f"u{i}" for i in range(5)],
            "responded_at": pa.array([at(r[1]) for r in rows], pa.timestamp("us", "UTC")),
            "score": [float(r[2]) for r in rows],
            "scale_min": [0.0] * 5,
            "scale_max": [10.0] * 5,
            "properties": [json.dumps({"channel": c}) for c in channels],
        }
    )
    ws.import_arrow("survey_responses", table)
    # email: 10, 2 → (1 − 1)/2 = 0; app: 9, 9, 7 → (2 − 0)/3 = 66.67.
    df = ws.query(
        "nps",
        grain="month",
        start=APRIL,
        end="2026-04-30",
        by="channel",
        use_cache=False,
        today=TODAY,
    )
    assert dict(zip(df["channel"], df["value"], strict=True)) == pytest.approx(
        {"email": 0.0, "app": 200 / 3}
    )
    assert monthly(
        ws, "nps", start=APRIL, end="2026-04-30", where="channel = 'app'"
    ) == pytest.approx({APRIL: 200 / 3})


# -- CSAT, CES, USS ------------------------------------------------------------------------
def test_csat_counts_the_top_two_points_of_each_scale(ws: Workspace) -> None:
    add_responses(
        ws,
        [
            # April, 1-5: 5, 4, 3, 2, 5 → satisfied (4-5) 3 of 5 = .6; mean 19/5 = 3.8.
            *[
                ("csat", f"2026-04-{d:02d}T10:00:00", s, 1, 5)
                for d, s in zip(range(1, 6), [5, 4, 3, 2, 5], strict=True)
            ],
            # May on a 1-7 scale: 7, 6, 5 → satisfied (6-7) 2 of 3; mean 6. The 7 is given at
            # 00:30 on 1 May in Paris (22:30 UTC on 30 April).
            ("csat", "2026-04-30T22:30:00", 7, 1, 7),
            ("csat", "2026-05-10T10:00:00", 6, 1, 7),
            ("csat", "2026-05-11T10:00:00", 5, 1, 7),
            ("nps", "2026-04-20T10:00:00", 0, 0, 10),  # another survey
        ],
    )
    assert monthly(ws, "csat") == pytest.approx({MARCH: None, APRIL: 0.6, MAY: 2 / 3, JUNE: None})
    assert monthly(ws, "csat_mean") == pytest.approx(
        {MARCH: None, APRIL: 3.8, MAY: 6.0, JUNE: None}
    )


def test_ces_is_the_mean_on_the_answers_scale(ws: Workspace) -> None:
    add_responses(
        ws,
        [
            ("ces", "2026-03-31T21:00:00", 1, 1, 7),  # 23:00 on 31 March in Paris: March
            ("ces", "2026-03-31T23:30:00", 7, 1, 7),  # 01:30 on 1 April in Paris: April
            ("ces", "2026-04-10T10:00:00", 5, 1, 7),
            ("ces", "2026-04-11T10:00:00", 6, 1, 7),
            ("ces", "2026-04-12T10:00:00", 2, 1, 7),
            ("uss", "2026-04-12T10:00:00", 1, 1, 7),  # another survey
        ],
    )
    # March: 1. April: (7 + 5 + 6 + 2) / 4 = 5.0, not rescaled. May: none.
    assert monthly(ws, "ces") == {MARCH: 1.0, APRIL: 5.0, MAY: None, JUNE: None}


def test_uss_normalises_each_answer_to_0_100(ws: Workspace) -> None:
    add_responses(
        ws,
        [
            ("uss", "2026-03-31T23:30:00", 7, 1, 7),  # 01:30 on 1 April in Paris → April
            ("uss", "2026-04-10T10:00:00", 4, 1, 7),
            ("uss", "2026-04-11T10:00:00", 3, 0, 10),
            ("uss", "2026-04-12T10:00:00", 2, 1, 5),
            ("csat", "2026-04-12T10:00:00", 1, 1, 5),  # another survey
        ],
    )
    # 100·(7−1)/6 = 100, 100·(4−1)/6 = 50, 100·(3−0)/10 = 30, 100·(2−1)/4 = 25
    # → (100 + 50 + 30 + 25) / 4 = 51.25. March and May: none.
    assert monthly(ws, "uss") == {MARCH: None, APRIL: 51.25, MAY: None, JUNE: None}


# -- Support -------------------------------------------------------------------------------
def add_tickets(ws: Workspace, rows: list[tuple[str, str | None, str, str | None]]) -> None:
    """Rows of (ticket_id, customer_id, created_at UTC, resolved_at UTC or None)."""
    ws.import_arrow(
        "support_tickets",
        pa.table(
            {
                "ticket_id": [r[0] for r in rows],
                "customer_id": [r[1] for r in rows],
                "created_at": pa.array([at(r[2]) for r in rows], pa.timestamp("us", "UTC")),
                "resolved_at": pa.array(
                    [at(r[3]) if r[3] else None for r in rows], pa.timestamp("us", "UTC")
                ),
                "properties": [json.dumps({"category": "how_to"})] * len(rows),
            }
        ),
    )


TICKETS: list[tuple[str, str | None, str, str | None]] = [
    ("t1", "c1", "2026-03-31T21:59:00", "2026-04-01T00:29:00"),  # 23:59 31/3 Paris; 2.5 h
    ("t2", "c1", "2026-03-31T22:30:00", "2026-03-31T23:30:00"),  # 00:30 1/4 Paris; 1 h
    ("t3", "c4", "2026-04-10T08:00:00", "2026-04-11T08:00:00"),  # 1 day
    ("t4", None, "2026-04-20T08:00:00", "2026-04-20T08:30:00"),  # a prospect; 30 min
    ("t5", "c7", "2026-04-29T08:00:00", None),  # still open
]


def test_support_tickets_counts_tickets_opened_in_the_paris_period(ws: Workspace) -> None:
    add_tickets(ws, TICKETS)
    # March: t1. April: t2, t3, t4, t5. The data ends with t5 on Apr 29: May and June have
    # no data (null) ...
    assert monthly(ws, "support_tickets") == {MARCH: 1.0, APRIL: 4.0, MAY: None, JUNE: None}
    # ... until a later ticket shows May quiet (a real 0).
    add_tickets(ws, [("t6", None, "2026-06-02T08:00:00", None)])
    assert monthly(ws, "support_tickets") == {MARCH: 1.0, APRIL: 4.0, MAY: 0.0, JUNE: 1.0}


def test_ticket_resolution_time_is_the_median_over_tickets_resolved_in_the_period(
    ws: Workspace,
) -> None:
    add_tickets(ws, TICKETS)
    # Resolved in April (Paris): t1 (02:29 on 1 April: 2.5 h = 9000 s), t2 (3600 s),
    # t3 (86400 s), t4 (1800 s) → median of 1800, 3600, 9000, 86400 = (3600 + 9000)/2 = 6300.
    # t5 is open. March: t1 was resolved in April → no value.
    assert monthly(ws, "ticket_resolution_time") == {
        MARCH: None,
        APRIL: 6300.0,
        MAY: None,
        JUNE: None,
    }


def add_subscriptions(
    ws: Workspace, rows: list[tuple[str, str, float, str, str | None, str | None]]
) -> None:
    """Rows of (customer_id, status, amount, started_at, ended_at, canceled_at)."""
    ws.import_arrow(
        "subscriptions",
        pa.table(
            {
                "subscription_id": [f"s{i}" for i in range(len(rows))],
                "customer_id": [r[0] for r in rows],
                "plan": ["pro"] * len(rows),
                "amount": [r[2] for r in rows],
                "currency": ["EUR"] * len(rows),
                "interval": ["month"] * len(rows),
                "status": [r[1] for r in rows],
                "started_at": pa.array([at(r[3]) for r in rows], pa.timestamp("us", "UTC")),
                "ended_at": pa.array(
                    [at(r[4]) if r[4] else None for r in rows], pa.timestamp("us", "UTC")
                ),
                "canceled_at": pa.array(
                    [at(r[5]) if r[5] else None for r in rows], pa.timestamp("us", "UTC")
                ),
            }
        ),
    )


SUBSCRIPTIONS: list[tuple[str, str, float, str, str | None, str | None]] = [
    ("c1", "active", 10, "2026-01-01T00:00:00", None, None),
    ("c2", "trialing", 10, "2026-04-10T00:00:00", None, None),  # a trial: never counted
    ("c3", "active", 10, "2026-02-01T00:00:00", "2026-04-15T00:00:00", None),  # gone mid-April
    ("c4", "past_due", 10, "2026-04-01T00:00:00", None, None),  # past due still counts
    ("c5", "active", 0, "2026-01-01T00:00:00", None, None),  # a free plan: never counted
    ("c6", "active", 10, "2026-04-30T22:30:00", None, None),  # 00:30 on 1 May in Paris
    ("c7", "canceled", 10, "2026-04-01T00:00:00", "2026-05-10T00:00:00", "2026-04-20T00:00:00"),
]


def test_tickets_per_100_customers_divides_by_paying_customers_at_the_period_end(
    tmp_path: Path, ws: Workspace
) -> None:
    add_tickets(ws, [*TICKETS, ("t6", None, "2026-06-02T08:00:00", None)])  # data into June
    add_subscriptions(ws, SUBSCRIPTIONS)
    # End of March in Paris = 2026-03-31T22:00Z: c1, c3 → 2 customers; 1 ticket → 50.
    # End of April = 2026-04-30T22:00Z: c1, c4, c7 (cancelled, paid until 10 May) → 3;
    # 4 tickets (the prospect's included) → 133.33. End of May: c1, c4, c6 → 3; no ticket → 0.
    assert monthly(ws, "support_tickets_per_100_customers", end="2026-05-31") == pytest.approx(
        {MARCH: 50.0, APRIL: 400 / 3, MAY: 0.0}
    )

    # Churn recognised at cancellation: c7 (cancelled 20 April) no longer counts at the end
    # of April → 4 tickets / 2 customers → 200.
    other = Workspace.init(
        tmp_path / "cancel", timezone="Europe/Paris", revenue={"churn_recognition": "cancellation"}
    )
    add_tickets(other, TICKETS)
    add_subscriptions(other, SUBSCRIPTIONS)
    assert monthly(other, "support_tickets_per_100_customers", start=APRIL, end="2026-04-30") == {
        APRIL: 200.0
    }


def test_tickets_per_100_customers_breaks_down_by_a_customer_property(ws: Workspace) -> None:
    add_tickets(ws, TICKETS)
    add_subscriptions(ws, SUBSCRIPTIONS)
    regions = {"c1": "EU", "c3": "US", "c4": "EU", "c6": "US", "c7": "US"}
    ws.import_arrow(
        "customers",
        pa.table(
            {
                "customer_id": list(regions),
                "created_at": pa.array(
                    [at("2026-01-01T00:00:00")] * len(regions), pa.timestamp("us", "UTC")
                ),
                "properties": [json.dumps({"region": r}) for r in regions.values()],
            }
        ),
    )
    # End of March: EU c1 (1 customer, ticket t1) → 100; US c3 (1 customer, no ticket) → 0.
    # End of April: EU c1, c4 (tickets t2, t3) → 100 × 2/2 = 100; US c7 (ticket t5) → 100.
    # The prospect's ticket t4 has no region and no customers to divide by: no value.
    df = ws.query(
        "support_tickets_per_100_customers",
        grain="month",
        start=MARCH,
        end="2026-04-30",
        by="region",
        use_cache=False,
        today=TODAY,
    )
    got = {(p, r): v for p, r, v in zip(df["period"], df["region"], df["value"], strict=True)}
    assert got == {
        (MARCH, "EU"): 100.0,
        (MARCH, "US"): 0.0,
        (APRIL, "EU"): 100.0,
        (APRIL, "US"): 100.0,
    }


def test_tickets_per_100_customers_refuses_a_ticket_only_dimension(ws: Workspace) -> None:
    add_tickets(ws, TICKETS)
    add_subscriptions(ws, SUBSCRIPTIONS)
    with pytest.raises(FilterError, match="describes the tickets"):
        monthly(ws, "support_tickets_per_100_customers", by="category")


# -- Cross-check on the demo product -------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.init(tmp_path_factory.mktemp("sat") / "demo", timezone="Europe/Paris")
    load_demo(ws, users=300, days=180, seed=3)
    return ws


def _paris_month(ts: pd.Series) -> pd.Series:
    local = pd.to_datetime(ts, utc=True).dt.tz_convert("Europe/Paris")
    return local.dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.date


def _demo_series(ws: Workspace, metric: str) -> pd.Series:
    df = ws.query(
        metric, grain="month", start="2026-01-01", end="2026-12-31", use_cache=False, today=TODAY
    )
    return df.set_index("period")["value"]


def test_demo_nps_csat_and_uss_match_pandas(demo: Workspace) -> None:
    r = demo.sql(
        "SELECT survey, responded_at, score, scale_min, scale_max FROM survey_responses"
    ).to_pandas()
    r["month"] = _paris_month(r["responded_at"])
    nps = (
        r[r.survey == "nps"]
        .groupby("month")["score"]
        .apply(lambda s: 100 * ((s >= 9).mean() - (s <= 6).mean()))
    )
    csat = r[r.survey == "csat"].groupby("month")["score"].apply(lambda s: (s >= 4).mean())
    u = r[r.survey == "uss"]
    uss = (100 * (u.score - u.scale_min) / (u.scale_max - u.scale_min)).groupby(u.month).mean()
    for metric, expected in (("nps", nps), ("csat", csat), ("uss", uss)):
        got = _demo_series(demo, metric).dropna()
        assert len(expected) >= 4, metric
        pd.testing.assert_series_equal(
            got, expected, check_names=False, check_index_type=False, obj=metric
        )


def test_demo_ticket_resolution_time_and_count_match_pandas(demo: Workspace) -> None:
    t = demo.sql("SELECT created_at, resolved_at FROM support_tickets").to_pandas()
    opened = t.groupby(_paris_month(t["created_at"])).size().astype("float64")
    done = t.dropna(subset=["resolved_at"])
    hours = (done.resolved_at - done.created_at).dt.total_seconds()
    median = hours.groupby(_paris_month(done["resolved_at"])).median()
    got = _demo_series(demo, "support_tickets")
    pd.testing.assert_series_equal(got[got > 0], opened, check_names=False, check_index_type=False)
    pd.testing.assert_series_equal(
        _demo_series(demo, "ticket_resolution_time").dropna(),
        median,
        check_names=False,
        check_index_type=False,
    )


def test_csat_margin_of_error_is_the_adjusted_wald_half_width(ws: Workspace) -> None:
    from statsmodels.stats.proportion import proportion_confint

    add_responses(
        ws,
        [
            # April, 1-5: 5, 4, 3, 2, 5 → n = 5, satisfied (4-5) = 3.
            *[
                ("csat", f"2026-04-{d:02d}T10:00:00", s, 1, 5)
                for d, s in zip(range(1, 6), [5, 4, 3, 2, 5], strict=True)
            ],
            # June: five satisfied answers out of five.
            *[("csat", f"2026-06-{d:02d}T10:00:00", 4 + d % 2, 1, 5) for d in range(1, 6)],
            ("nps", "2026-04-20T10:00:00", 0, 0, 10),  # another survey
        ],
    )
    # z = 1.959964, z² = 3.841459. April: n′ = 5 + 3.841459 = 8.841459,
    # p′ = (3 + 1.920729) / 8.841459 = .556552; p′(1 − p′) = .246802; / n′ = .027914;
    # √ = .167076; × z = .327462 → low .556552 − .327462 = .229090, high .884014.
    # June: p′ = (5 + 1.920729) / 8.841459 = .782759; p′(1 − p′) = .170047; / n′ = .019233;
    # √ = .138684; × z = .271814 → low .510945, high 1.054573 clipped to 1.
    margin, low, high = (monthly(ws, m) for m in ("csat_margin", "csat_low", "csat_high"))
    assert margin[APRIL] == pytest.approx(0.327462, abs=1e-5)
    assert low[APRIL] == pytest.approx(0.229090, abs=1e-5)
    assert high[APRIL] == pytest.approx(0.884014, abs=1e-5)
    assert margin[JUNE] == pytest.approx(0.271814, abs=1e-5)
    assert low[JUNE] == pytest.approx(0.510945, abs=1e-5)
    assert high[JUNE] == 1.0
    assert margin[MAY] is None and low[MAY] is None and high[MAY] is None
    # the answers start in April: March has no data (null); May is a real 0
    assert monthly(ws, "csat_responses") == {MARCH: None, APRIL: 5.0, MAY: 0.0, JUNE: 5.0}
    assert monthly(ws, "csat") == pytest.approx({MARCH: None, APRIL: 0.6, MAY: None, JUNE: 1.0})
    # The same interval from statsmodels (Agresti-Coull), computed independently.
    for month, (satisfied, n) in ((APRIL, (3, 5)), (JUNE, (5, 5))):
        lo, hi = proportion_confint(satisfied, n, alpha=0.05, method="agresti_coull")
        assert low[month] == pytest.approx(lo, abs=1e-9)
        assert high[month] == pytest.approx(min(hi, 1.0), abs=1e-9)
