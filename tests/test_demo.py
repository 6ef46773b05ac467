"""The demo product generator: deterministic, schema-exact, realistic, incidents visible.

Every number asserted here is recomputed with pandas from the generated tables.
"""

from __future__ import annotations

import json
from datetime import UTC, date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from northstar.demo import DemoProduct, Incident, generate
from northstar.store.schema import TABLES, Kind

USERS, DAYS, SEED = 5000, 365, 7
ARROW = {
    Kind.text: pa.string(),
    Kind.timestamp: pa.timestamp("us", tz="UTC"),
    Kind.date: pa.date32(),
    Kind.money: pa.float64(),
    Kind.number: pa.float64(),
    Kind.integer: pa.int64(),
    Kind.json: pa.string(),
}
TIERS = {"starter": 0, "pro": 1, "team": 2}


@pytest.fixture(scope="module")
def demo() -> DemoProduct:
    return generate(users=USERS, days=DAYS, seed=SEED)


@pytest.fixture(scope="module")
def frames(demo: DemoProduct) -> dict[str, pd.DataFrame]:
    return {name: table.to_pandas() for name, table in demo.tables.items()}


@pytest.fixture(scope="module")
def activity(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Active user-days of signed-up users (known ids, any event but $pageleave), with $os."""
    ev = frames["events"]
    known = ev[ev.distinct_id.isin(frames["users"].user_id) & (ev.event != "$pageleave")]
    known = known.assign(
        day=known.timestamp.dt.floor("D"),
        os=known.properties.str.extract(r'"\$os": "([^"]+)"', expand=False),
    )
    return known[["distinct_id", "day", "os"]].drop_duplicates(["distinct_id", "day"])


def incident(demo: DemoProduct, incident_id: str) -> Incident:
    return next(i for i in demo.incidents if i.incident_id == incident_id)


def paid_rows(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    subs = frames["subscriptions"]
    return subs[subs.status != "trialing"]


def churn_moments(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """(customer_id, at): moments a customer's paid periods end with none running after."""
    paid = paid_rows(frames)
    ends = paid.dropna(subset=["ended_at"])[["customer_id", "ended_at"]]
    pairs = ends.merge(paid[["customer_id", "started_at", "ended_at"]], on="customer_id")
    covered = (pairs.started_at <= pairs.ended_at_x) & (
        pairs.ended_at_y.isna() | (pairs.ended_at_y > pairs.ended_at_x)
    )
    still_paying = pairs[covered].groupby(["customer_id", "ended_at_x"]).size()
    ends = ends.set_index(["customer_id", "ended_at"])
    gone = ends[~ends.index.isin(still_paying.index)].reset_index()
    return gone.drop_duplicates().rename(columns={"ended_at": "churned_at"})


# --- determinism -------------------------------------------------------------------------


def test_same_seed_gives_identical_tables() -> None:
    first = generate(users=300, days=180, seed=3)
    second = generate(users=300, days=180, seed=3)
    assert first.incidents == second.incidents
    for name in TABLES:
        assert first.tables[name].equals(second.tables[name]), name


def test_another_seed_gives_other_tables() -> None:
    first = generate(users=300, days=180, seed=3)
    other = generate(users=300, days=180, seed=4)
    assert not first.tables["events"].equals(other.tables["events"])
    assert not first.tables["subscriptions"].equals(other.tables["subscriptions"])


# --- schema ------------------------------------------------------------------------------


def test_every_table_follows_the_data_model(demo: DemoProduct) -> None:
    assert set(demo.tables) == set(TABLES)
    for name, spec in TABLES.items():
        table = demo.tables[name]
        assert table.num_rows > 0, name
        assert table.column_names == list(spec.column_names), name
        for col in spec.columns:
            column = table.column(col.name)
            assert column.type == ARROW[col.kind], (name, col.name)
            if col.required:
                assert column.null_count == 0, (name, col.name)
            if col.choices:
                assert set(pc.unique(column).drop_null().to_pylist()) <= set(col.choices)
            if col.kind is Kind.json:
                texts = column.slice(0, 3000).drop_null().to_pylist()
                assert all(isinstance(json.loads(v), dict) for v in texts), name
            if col.kind is Kind.money:
                cents = column.drop_null().to_numpy() * 100
                assert np.allclose(cents, np.round(cents)), (name, col.name)
        keys = table.select(list(spec.key)).to_pandas()
        assert not keys.duplicated().any(), name


def test_the_range_ends_on_the_requested_day(demo: DemoProduct) -> None:
    assert demo.end == date(2026, 10, 31)
    assert demo.start == demo.end - timedelta(days=DAYS - 1)
    ts = demo.tables["events"].column("timestamp").to_pandas()
    assert ts.min().date() >= demo.start
    assert ts.max().date() <= demo.end


# --- planted incidents --------------------------------------------------------------------


def test_incidents_sit_in_the_last_third_with_normal_weeks_after(demo: DemoProduct) -> None:
    ids = {i.incident_id for i in demo.incidents}
    assert {"android-release-dau-drop", "paid-social-cac-creep"} <= ids
    assert len(demo.incidents) >= 3
    last_third = demo.start + timedelta(days=DAYS * 2 // 3)
    for item in demo.incidents:
        assert item.started_at.tzinfo == UTC and item.started_at.date() >= last_third
        assert item.ended_at is None or item.ended_at > item.started_at
        assert item.description.endswith(".")
    drop = incident(demo, "android-release-dau-drop")
    assert drop.ended_at is not None
    assert (drop.ended_at - drop.started_at).days == 7
    assert (demo.end - drop.ended_at.date()).days >= 27


def test_android_dau_drops_for_a_week_while_other_platforms_hold(
    demo: DemoProduct, activity: pd.DataFrame
) -> None:
    drop = incident(demo, "android-release-dau-drop")
    assert drop.metric == "dau" and drop.segment == {"$os": "Android"}
    start = pd.Timestamp(drop.started_at)
    android = activity.os == "Android"

    def week(offset_weeks: int, rows: pd.Series) -> int:
        lo = start + pd.Timedelta(weeks=offset_weeks)
        in_week = (activity.day >= lo) & (activity.day < lo + pd.Timedelta(days=7))
        return int((in_week & rows).sum())

    for rows, lower, upper in ((android, None, 0.7), (~android, 0.85, 1.15)):
        before = np.mean([week(-k, rows) for k in (1, 2, 3)])
        change = week(0, rows) / before
        assert lower is None or change > lower
        assert change < upper
    # Four weeks later Android is back to normal.
    after = np.mean([week(k, android) for k in (2, 3, 4)])
    assert after / np.mean([week(-k, android) for k in (1, 2, 3)]) > 0.85


def test_paid_social_cac_creeps_up(demo: DemoProduct, frames: dict[str, pd.DataFrame]) -> None:
    creep = incident(demo, "paid-social-cac-creep")
    assert creep.metric == "cac" and creep.segment == {"channel": "paid_social"}
    start = pd.Timestamp(creep.started_at).tz_convert(None)
    end = pd.Timestamp(demo.end) + pd.Timedelta(days=1)
    spend = frames["marketing_spend"]
    spend = spend[spend.channel == "paid_social"]
    spend_day = pd.to_datetime(spend.date)
    channel = (
        frames["customers"]
        .set_index("customer_id")
        .properties.map(lambda p: json.loads(p)["channel"])
    )
    first_paid = paid_rows(frames).groupby("customer_id").started_at.min().dt.tz_convert(None)
    first_paid = first_paid[channel.reindex(first_paid.index) == "paid_social"]

    def cac(lo: pd.Timestamp, hi: pd.Timestamp) -> float:
        cost = spend.spend[(spend_day >= lo) & (spend_day < hi)].sum()
        return float(cost / ((first_paid >= lo) & (first_paid < hi)).sum())

    four_weeks = pd.Timedelta(weeks=4)
    assert cac(end - four_weeks, end) >= 1.4 * cac(start - four_weeks, start)
    weekly = spend.groupby(spend_day.dt.to_period("W")).spend.sum()
    assert weekly.iloc[-2] >= 1.5 * weekly[spend_day[spend_day < start].max().to_period("W")]


def test_churn_spikes_in_the_price_rise_month(
    demo: DemoProduct, frames: dict[str, pd.DataFrame]
) -> None:
    spike = incident(demo, "pro-price-rise-churn-spike")
    assert spike.metric == "customer_churn_rate"
    churn = churn_moments(frames)
    per_month = churn.groupby(churn.churned_at.dt.tz_convert(None).dt.to_period("M")).size()
    month = pd.Period(spike.started_at.strftime("%Y-%m"), "M")
    before = [per_month.get(month - k, 0) for k in (1, 2, 3)]
    assert per_month[month] >= 1.8 * np.mean(before)


# --- realism -----------------------------------------------------------------------------


def test_weekends_are_quieter_than_weekdays(activity: pd.DataFrame) -> None:
    dau = activity.groupby("day").size()
    weekend = dau.index.day_of_week >= 5
    assert dau[weekend].mean() < 0.75 * dau[~weekend].mean()


def test_retention_decays_by_cohort(
    demo: DemoProduct, frames: dict[str, pd.DataFrame], activity: pd.DataFrame
) -> None:
    users = frames["users"].set_index("user_id").created_at.dt.floor("D")
    start = pd.Timestamp(demo.start, tz="UTC")
    early = users[(users >= start) & (users < start + pd.Timedelta(weeks=8))]
    act = activity[activity.distinct_id.isin(early.index)]
    age = (act.day - act.distinct_id.map(early)).dt.days

    def retained(week: int) -> float:
        return act.distinct_id[(age >= 7 * week) & (age < 7 * week + 7)].nunique() / len(early)

    week1, week4, week12 = retained(1), retained(4), retained(12)
    assert 0.2 < week1 < 0.8
    assert week4 < 0.8 * week1
    assert 0 < week12 < week4


def test_the_product_grows_over_the_year(activity: pd.DataFrame) -> None:
    monthly = activity.groupby(activity.day.dt.tz_convert(None).dt.to_period("M")).size()
    assert monthly.iloc[-2] > 2 * monthly.iloc[1]


def test_identify_links_each_anonymous_visitor_to_a_user(frames: dict[str, pd.DataFrame]) -> None:
    ev, users = frames["events"], frames["users"]
    # Users who signed up before the data begins were identified before it, too.
    users = users[users.created_at >= ev.timestamp.min()]
    identify = ev[ev.event == "$identify"]
    anon = identify.properties.map(lambda p: json.loads(p)["$anon_distinct_id"])
    assert sorted(identify.distinct_id) == sorted(users.user_id)
    assert not anon.isin(users.user_id).any()
    views = ev[ev.event == "$pageview"].groupby("distinct_id").timestamp.min()
    assert (views.reindex(anon).to_numpy() < identify.timestamp.to_numpy()).all()
    # Some visitors never sign up: page views under ids nobody identifies.
    identified = set(anon) | set(users.user_id)
    assert (~views.index.isin(identified)).sum() > len(users)
    aliases = ev[ev.event == "$create_alias"].properties.map(lambda p: json.loads(p)["alias"])
    assert len(aliases) > 0 and set(aliases) <= set(ev.distinct_id.unique())
    signup = ev[ev.event == "signed_up"].set_index("distinct_id").timestamp
    assert (signup.reindex(users.user_id).to_numpy() == users.created_at.to_numpy()).all()


def test_every_event_has_a_consistent_os_and_half_carry_session_ids(
    frames: dict[str, pd.DataFrame],
) -> None:
    ev = frames["events"]
    os = ev.properties.str.extract(r'"\$os": "([^"]+)"', expand=False)
    assert set(os.unique()) == {"Windows", "macOS", "iOS", "Android", "Linux"}
    assert os.groupby(ev.distinct_id).nunique().max() == 1
    assert 0.35 < ev.session_id.notna().mean() < 0.65
    pages = ev[ev.event == "$pageview"].properties.head(20_000).map(json.loads)
    assert pages.map(lambda p: {"$current_url", "$browser"} <= set(p)).all()
    assert (ev.event == "$pageleave").any()


def test_sessions_are_several_events_minutes_apart(frames: dict[str, pd.DataFrame]) -> None:
    ev = frames["events"].dropna(subset=["session_id"])
    span = ev.groupby("session_id").timestamp.agg(["min", "max", "size"])
    minutes = (span["max"] - span["min"]).dt.total_seconds() / 60
    assert 4 < span["size"].median() < 30
    assert 3 < minutes.median() < 30
    assert minutes.max() < 24 * 60
    assert (span["size"] == 1).mean() > 0.02  # bounced sessions


def test_features_have_different_adoption_curves(
    demo: DemoProduct, frames: dict[str, pd.DataFrame]
) -> None:
    ev = frames["events"]
    ev = ev[ev.distinct_id.isin(frames["users"].user_id)]
    users = ev.distinct_id.nunique()
    adopters = ev.groupby("event").distinct_id.nunique() / users
    per_adopter = ev.groupby("event").size() / ev.groupby("event").distinct_id.nunique()
    features = adopters.drop(["$pageview", "$pageleave", "$identify", "signed_up"], errors="ignore")
    assert len(features) >= 14
    # Promote: few adopters, heavy use. Rethink: hardly anyone.
    assert adopters["sql_query_run"] < 0.1
    assert per_adopter["sql_query_run"] > 2 * per_adopter.drop("sql_query_run").median()
    assert adopters["calendar_synced"] < 0.03
    first_seen = ev.groupby("event").timestamp.min()
    middle = pd.Timestamp(demo.start, tz="UTC") + pd.Timedelta(days=DAYS * 0.4)
    assert first_seen["ai_summary_generated"] > middle
    for event in ("project_created", "community_joined", "$feature_flag_called"):
        assert event in adopters.index


def test_trials_convert_to_monthly_and_annual_plans(frames: dict[str, pd.DataFrame]) -> None:
    subs = frames["subscriptions"].sort_values(["subscription_id", "started_at"])
    by_sub = subs.groupby("subscription_id")
    trial, second = by_sub.nth(0), by_sub.nth(1)
    trialed = trial.subscription_id[trial.status == "trialing"]
    converted = second[second.subscription_id.isin(trialed)]
    assert set(converted.interval) == {"month", "year"}
    assert (converted.status != "trialing").all()
    assert len(set(subs.plan)) >= 4 and subs.currency.nunique() == 3
    assert subs.discount.gt(0).any() and subs.quantity.gt(1).any()
    assert subs.status.eq("past_due").any()


def test_subscription_periods_abut(frames: dict[str, pd.DataFrame]) -> None:
    subs = frames["subscriptions"].sort_values(["subscription_id", "started_at"])
    following = subs.groupby("subscription_id").started_at.shift(-1)
    has_next = following.notna()
    assert (subs.ended_at[has_next] == following[has_next]).all()
    assert (subs.ended_at.isna() | (subs.ended_at > subs.started_at)).all()
    canceled = subs.dropna(subset=["canceled_at"])
    assert (canceled.canceled_at <= canceled.ended_at).all()


def test_upgrades_downgrades_churn_and_reactivation_all_happen(
    frames: dict[str, pd.DataFrame],
) -> None:
    paid = paid_rows(frames).sort_values(["subscription_id", "started_at"])
    paid = paid[paid.plan.isin(TIERS)]
    tier = paid.plan.map(TIERS)
    step = tier - tier.groupby(paid.subscription_id).shift(1)
    seats = paid.quantity - paid.quantity.groupby(paid.subscription_id).shift(1)
    assert (step > 0).any() and (step < 0).any()
    assert ((step == 0) & (seats > 0)).any() and ((step == 0) & (seats < 0)).any()
    churned = churn_moments(frames)
    assert len(churned) > 0
    restarted = paid_rows(frames).merge(churned, on="customer_id")
    assert (restarted.started_at > restarted.churned_at).any()


def test_foreign_currencies_have_daily_fx_rates(
    demo: DemoProduct, frames: dict[str, pd.DataFrame]
) -> None:
    fx = frames["fx_rates"]
    assert set(fx.currency) == {"EUR", "GBP"}
    days = pd.date_range(demo.start, demo.end).date
    for currency in ("EUR", "GBP"):
        assert set(days) <= set(fx.date[fx.currency == currency])
    paid_in = set(frames["subscriptions"].currency) | set(frames["orders"].currency)
    assert paid_in == {"USD", "EUR", "GBP"}
    assert fx.rate.between(0.8, 1.8).all()
    assert len(frames["orders"]) > 0


def test_nps_tracks_engagement(frames: dict[str, pd.DataFrame], activity: pd.DataFrame) -> None:
    responses = frames["survey_responses"]
    assert set(responses.survey) == {"nps", "csat", "ces", "uss", "team"}
    nps = responses[responses.survey == "nps"].reset_index(drop=True)
    assert nps.score.between(0, 10).all() and (nps.scale_max == 10).all()
    days = activity.groupby("distinct_id").day.apply(np.sort)
    answered = nps.responded_at.dt.floor("D")
    active = [
        int(np.sum((d > at - pd.Timedelta(days=28)) & (d <= at)))
        for d, at in zip(days.reindex(nps.respondent_id), answered, strict=True)
    ]
    quartile = pd.qcut(pd.Series(active).rank(method="first"), 4, labels=False)

    def score(group: pd.Series) -> float:
        return 100 * ((group >= 9).mean() - (group <= 6).mean())

    assert score(nps.score[quartile == 3]) > score(nps.score[quartile == 0]) + 30
    assert nps.comment.notna().mean() > 0.2


def test_team_data_is_consistent(frames: dict[str, pd.DataFrame]) -> None:
    sprints, items = frames["sprints"], frames["work_items"]
    assert 2 <= sprints.team.nunique() <= 3
    assert ((sprints.ended_at - sprints.started_at).dt.days.between(11, 14)).all()
    assert (sprints.completed_points <= sprints.committed_points).all()
    stories = items[items.kind == "story"]
    sprint_of = stories.properties.map(lambda p: json.loads(p)["sprint_id"])
    committed = stories.points.groupby(sprint_of).sum()
    assert (committed.reindex(sprints.sprint_id).to_numpy() == sprints.committed_points).all()
    bugs = items[items.kind == "bug"]
    assert bugs.resolved_at.isna().any() and bugs.severity.notna().all()
    assert set(items.kind) == {"bug", "story", "task"}


def test_support_costs_and_spend_fit_together(frames: dict[str, pd.DataFrame]) -> None:
    tickets = frames["support_tickets"]
    assert tickets.customer_id.dropna().isin(frames["customers"].customer_id).all()
    assert tickets.resolved_at.isna().any() and tickets.satisfaction.between(1, 5).any()
    costs = frames["costs"]
    assert set(costs.category) == {"cogs", "sales_marketing", "other"}
    # ad spend is in marketing_spend only (metrics add the two tables)
    assert "paid_acquisition" not in set(costs.description)
    spend_rows = frames["marketing_spend"]
    assert (spend_rows.clicks <= spend_rows.impressions).all()
    assert set(spend_rows.channel) == {"google_ads", "paid_social"}


# --- interface ---------------------------------------------------------------------------


def test_the_public_surface_is_generate_and_its_two_dataclasses() -> None:
    import northstar.demo as demo_package

    assert sorted(demo_package.__all__) == ["DemoProduct", "Incident", "generate"]


def test_too_short_a_range_is_refused() -> None:
    with pytest.raises(ValueError, match="days"):
        generate(users=300, days=90)
