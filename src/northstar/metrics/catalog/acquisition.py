"""Acquisition metrics (perspective: customer / financial): traffic, sign-ups, new customers,
acquisition cost and the built-in conversion rates.

Shared rules:

* A sign-up is ``users.created_at``; when ``events.signup_event`` is set, a person's first
  event of that name instead.
* A *paid* subscription row has a paying status (active, canceled, and past_due unless
  ``revenue.past_due_counts_as_mrr`` is false: the MRR rule of ``billing.py``) and
  ``amount × quantity − discount > 0``. A customer is new in the period of their first
  paid row or first order (amount > 0), whichever is earlier.
* Customer-level rows are broken down and filtered by the customer's properties, falling
  back to the properties of the customer's user (``channel``, ``campaign``, ...).
* Money is converted into the workspace currency with ``billing.fx_rate`` (the latest
  rate on or before the day; a day before the first known rate takes the first).
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import ibis
import ibis.expr.types as ir

from northstar.errors import MetricError
from northstar.metrics.catalog import billing
from northstar.metrics.catalog._build import builtin, days_back, ratio
from northstar.metrics.context import Context
from northstar.metrics.functions import json_merge, json_text
from northstar.metrics.periods import Grain
from northstar.metrics.spec import Category, Direction, MetricSpec, Perspective, Rollup, Unit

_customer = partial(builtin, category=Category.acquisition, perspective=Perspective.customer)
_financial = partial(builtin, category=Category.acquisition, perspective=Perspective.financial)

PAGE_EVENTS = ("$pageview", "$screen")
DEFAULT_SIGNUP_EVENT = "signed_up"
VISIT_TO_SIGNUP_DAYS = 14
ACTIVATION_DAYS = 7
TRIAL_TO_PAID_DAYS = 30
_SPEND = ("marketing_spend", "costs", "fx_rates")
_CUSTOMERS = ("subscriptions", "orders", "customers", "users")


# -- sign-ups and traffic -------------------------------------------------------------
def _first_signup_events(ctx: Context, name: str) -> ir.Table:
    """Each person's first ``name`` event (all its columns)."""
    ev = ctx.table("events")
    ev = ev.filter(ev.event == name)
    first = ibis.window(group_by=ev.person_id, order_by=[ev.timestamp, ev.uuid])
    ev = ev.mutate(__rank=ibis.row_number().over(first))
    return ev.filter(ev.__rank == 0).drop("__rank")


def signup_rows(ctx: Context) -> ir.Table:
    """Sign-ups in the window, segmented: ``person``, ``signed_up_at``, ``day``."""
    name = ctx.settings.events.signup_event
    if name:
        t = ctx.in_window(_first_signup_events(ctx, name), "timestamp")
        t = ctx.segment(t, "events")
        t = t.mutate(person=t.person_id, signed_up_at=t.timestamp)
    else:
        t = ctx.in_window(ctx.table("users"), "created_at")
        t = ctx.segment(t, "users")
        t = t.mutate(person=t.user_id, signed_up_at=t.created_at)
    return t.mutate(day=ctx.local_date(t.signed_up_at))


def signup_times(ctx: Context) -> ir.Table:
    """Every person's sign-up time, whenever it was: ``person``, ``signed_up_at``."""
    name = ctx.settings.events.signup_event
    if name:
        ev = _first_signup_events(ctx, name)
        return ev.select(person=ev.person_id, signed_up_at=ev.timestamp)
    users = ctx.table("users")
    users = users.filter(users.created_at.notnull())
    return users.select(person=users.user_id, signed_up_at=users.created_at)


def signups(ctx: Context) -> ir.Table:
    rows = signup_rows(ctx)
    return ctx.by_period(rows, rows.person.nunique())


def page_views(ctx: Context) -> ir.Table:
    """``$pageview``/``$screen`` events in the window, segmented, with ``day``."""
    ev = ctx.in_window(ctx.table("events"), "timestamp")
    ev = ev.filter(ev.event.isin(PAGE_EVENTS))
    ev = ctx.segment(ev, "events")
    return ev.mutate(day=ctx.local_date(ev.timestamp))


def visitors(ctx: Context) -> ir.Table:
    rows = page_views(ctx)
    return ctx.by_period(rows, rows.person_id.nunique())


# -- customers ------------------------------------------------------------------------
def paid_subscriptions(ctx: Context) -> ir.Table:
    """Subscription rows a customer pays for (see the module docstring)."""
    subs = ctx.table("subscriptions")
    statuses = ["active", "canceled"]
    if ctx.settings.revenue.past_due_counts_as_mrr:
        statuses.append("past_due")
    net = subs.amount * ibis.coalesce(subs.quantity, 1) - ibis.coalesce(subs.discount, 0)
    return subs.filter(subs.status.isin(statuses), net > 0)


def customer_rows(ctx: Context, t: ir.Table) -> ir.Table:
    """``t`` (one row per ``customer_id``) with the customer's columns, segmented like
    customers; ``properties`` are the user's overlaid with the customer's own."""
    cust = ctx.table("customers")
    users = ctx.table("users")
    users = users.select(__uid=users.user_id, __uprops=users.properties)
    cust = cust.left_join(users, cust.user_id == users.__uid)
    cust = cust.select(
        __cid=cust.customer_id,
        user_id=cust.user_id,
        created_at=cust.created_at,
        properties=json_merge(cust.__uprops, cust.properties),
    )
    joined = t.left_join(cust, t.customer_id == cust.__cid).drop("__cid")
    return ctx.segment(joined, "customers")


def first_paid(ctx: Context) -> ir.Table:
    """Each customer's first paid moment: ``customer_id``, ``first_paid_at``."""
    subs = paid_subscriptions(ctx)
    subs = subs.select("customer_id", at=subs.started_at)
    orders = ctx.table("orders")
    orders = orders.filter(orders.amount > 0).select("customer_id", at=orders.ordered_at)
    both = subs.union(orders)
    return both.group_by("customer_id").aggregate(first_paid_at=both.at.min())


def new_customer_rows(ctx: Context) -> ir.Table:
    """Customers whose first paid moment is in the window, segmented, with ``day``."""
    rows = ctx.in_window(first_paid(ctx), "first_paid_at")
    rows = customer_rows(ctx, rows)
    return rows.mutate(day=ctx.local_date(rows.first_paid_at))


def new_customers(ctx: Context) -> ir.Table:
    rows = new_customer_rows(ctx)
    return ctx.by_period(rows, rows.customer_id.nunique())


def market_penetration(ctx: Context) -> ir.Table:
    market = ctx.settings.revenue.addressable_market
    if market is None:
        raise MetricError(
            "market_penetration needs the size of the addressable market: set "
            "revenue.addressable_market (number of potential customers) in northstar.yaml"
        )
    stock = billing.daily_stock(ctx, billing.customer_count_deltas(ctx))
    return stock.mutate(value=stock.value.cast("float64") / market)


# -- spend ----------------------------------------------------------------------------
def spend_rows(ctx: Context, *, with_costs: bool, lookback_days: int = 0) -> ir.Table:
    """Marketing spend (plus ``sales_marketing`` costs when ``with_costs``) in the window,
    shaped like ``marketing_spend`` and segmented as such, with ``amount`` in the
    workspace currency and ``day``. Costs carry no channel or campaign."""
    ms = ctx.table("marketing_spend")
    # An empty campaign is no campaign, as a customer without one is "(none)".
    ms = ms.select(
        "date",
        "channel",
        campaign=ms.campaign.nullif(""),
        spend=ms.spend.cast("float64"),
        currency=ms.currency,
        impressions=ms.impressions,
        clicks=ms.clicks,
        properties=ms.properties,
    )
    if with_costs:
        costs = ctx.table("costs")
        costs = costs.filter(costs.category == "sales_marketing")
        costs = costs.select(
            "date",
            channel=ibis.null("string"),
            campaign=ibis.null("string"),
            spend=costs.amount.cast("float64"),
            currency=costs.currency,
            impressions=ibis.null("int64"),
            clicks=ibis.null("int64"),
            properties=costs.properties,
        )
        # Required columns are NOT NULL in the store; the union needs one nullable schema.
        schema = ibis.schema({n: t.copy(nullable=True) for n, t in ms.schema().items()})
        ms = ms.cast(schema).union(costs.cast(schema))
    ms = ctx.in_window(ms, "date", lookback_days=lookback_days)
    ms = billing.fx_rate(ctx, ms, "currency", "date")
    ms = ms.mutate(amount=ms.spend * ms.rate, day=ms.date)
    return ctx.segment(ms, "marketing_spend")


def _periods_later(grain: Grain, n: int) -> ir.IntervalScalar:
    return {
        Grain.day: ibis.interval(days=n),
        Grain.week: ibis.interval(days=7 * n),
        Grain.month: ibis.interval(months=n),
        Grain.quarter: ibis.interval(months=3 * n),
        Grain.year: ibis.interval(years=n),
    }[grain]


def acquisition_spend(ctx: Context) -> ir.Table:
    rows = spend_rows(ctx, with_costs=True)
    return ctx.by_period(rows, rows.amount.sum())


def _cost_per_customer(ctx: Context, spend: ir.Table, customers: ir.Table) -> ir.Table:
    """spend / customers per period and keys; no value without customers."""
    spend = spend.rename(spend="value")
    customers = customers.rename(customers="value")
    keys = ["period", *ctx.keys]
    joined = customers.left_join(spend, keys)
    value = ibis.ifelse(
        joined.customers > 0,
        ibis.coalesce(joined.spend, 0.0) / joined.customers,
        ibis.null("float64"),
    )
    return joined.select(*[joined[k] for k in keys], value=value)


def cac(ctx: Context) -> ir.Table:
    lag = ctx.settings.revenue.cac_spend_lag_periods
    rows = spend_rows(ctx, with_costs=True, lookback_days=days_back(ctx, lag))
    spend = ctx.by_period(rows, rows.amount.sum())
    if lag:
        spend = spend.mutate(period=(spend.period + _periods_later(ctx.grain, lag)).cast("date"))
    return _cost_per_customer(ctx, spend, new_customers(ctx))


def cpa(ctx: Context) -> ir.Table:
    rows = spend_rows(ctx, with_costs=False)
    spend = ctx.by_period(rows, rows.amount.sum())
    won = new_customer_rows(ctx)
    campaign = json_text(won.properties, "campaign")
    won = won.filter(campaign.notnull() & (campaign != ""))
    return _cost_per_customer(ctx, spend, ctx.by_period(won, won.customer_id.nunique()))


def clicks(ctx: Context) -> ir.Table:
    rows = spend_rows(ctx, with_costs=False)
    return ctx.by_period(rows, rows.clicks.sum())


def impressions(ctx: Context) -> ir.Table:
    rows = spend_rows(ctx, with_costs=False)
    return ctx.by_period(rows, rows.impressions.sum())


# -- conversion rates -----------------------------------------------------------------
def _rate(ctx: Context, t: ir.Table, converted: ir.BooleanValue) -> ir.Table:
    """Share of the rows of ``t`` (one per cohort member, with ``day``) that converted."""
    t = t.mutate(converted=converted.fill_null(False).cast("int64"))
    return ctx.by_period(t, ibis._.converted.sum() / ibis._.count())


def visitor_to_signup(ctx: Context) -> ir.Table:
    views = page_views(ctx)
    views = views.mutate(period=ctx.period(views.day))
    entered = views.group_by(["period", *ctx.keys, "person_id"]).aggregate(
        entered_at=views.timestamp.min()
    )
    st = signup_times(ctx)
    joined = entered.left_join(st, entered.person_id == st.person)
    # People who had already signed up are not prospects.
    joined = joined.filter(
        joined.signed_up_at.isnull() | (joined.signed_up_at >= joined.entered_at)
    )
    joined = joined.mutate(day=joined.period)
    horizon = joined.entered_at + ibis.interval(days=VISIT_TO_SIGNUP_DAYS)
    return _rate(ctx, joined, joined.signed_up_at.notnull() & (joined.signed_up_at <= horizon))


def activation_events(ctx: Context) -> ir.Table:
    """Events that show a new user doing something valuable: active events that are not
    SDK bookkeeping (names starting with ``$``, e.g. $pageview) nor the sign-up."""
    ev = ctx.table("events")
    rules = ctx.settings.events
    ev = ev.filter(ctx.is_active(ev.event))
    signup_names = [DEFAULT_SIGNUP_EVENT]
    if rules.signup_event:
        signup_names.append(rules.signup_event)
    return ev.filter(~ev.event.startswith("$"), ~ev.event.isin(signup_names))


def signup_to_activation(ctx: Context) -> ir.Table:
    cohort = signup_rows(ctx)
    acts = activation_events(ctx)
    acts = ctx.in_window(
        acts, "timestamp", until=ctx.window.end + timedelta(days=ACTIVATION_DAYS + 1)
    )
    acts = acts.select(__who=acts.person_id, __at=acts.timestamp)
    people = cohort.select("person", "signed_up_at").distinct()
    horizon = people.signed_up_at + ibis.interval(days=ACTIVATION_DAYS)
    hits = people.join(
        acts,
        [people.person == acts.__who, acts.__at >= people.signed_up_at, acts.__at <= horizon],
    )
    hits = hits.select(__hit_person=hits.person).distinct()
    joined = cohort.left_join(hits, cohort.person == hits.__hit_person)
    return _rate(ctx, joined, joined.__hit_person.notnull())


# A period's trial-to-paid rate is final once its trials (up to a month) and the
# conversion allowance after them are over.
TRIAL_SETTLE_DAYS = 30 + TRIAL_TO_PAID_DAYS


def trial_to_paid(ctx: Context) -> ir.Table:
    subs = ctx.table("subscriptions")
    trials = subs.filter(subs.status == "trialing")
    trials = trials.group_by(["customer_id", "subscription_id"]).aggregate(
        trial_start=trials.started_at.min(),
        trial_end=trials.ended_at.max(),
        open_rows=trials.ended_at.isnull().sum(),
    )
    # A trial still running has no end yet.
    trials = trials.mutate(
        trial_end=ibis.ifelse(trials.open_rows > 0, ibis.null("timestamp"), trials.trial_end)
    )
    first = ibis.window(group_by="customer_id", order_by=["trial_start", "subscription_id"])
    trials = trials.mutate(__rank=ibis.row_number().over(first))
    trials = trials.filter(trials.__rank == 0).drop("__rank", "open_rows")
    trials = ctx.in_window(trials, "trial_start")

    paid = paid_subscriptions(ctx)
    paid = paid.select(__sub=paid.subscription_id, __paid_at=paid.started_at)
    horizon = trials.trial_end + ibis.interval(days=TRIAL_TO_PAID_DAYS)
    won = trials.join(
        paid,
        [
            trials.subscription_id == paid.__sub,
            paid.__paid_at >= trials.trial_start,
            trials.trial_end.isnull() | (paid.__paid_at <= horizon),
        ],
    )
    won = won.select(__won=won.customer_id).distinct()
    cohort = customer_rows(ctx, trials)
    cohort = cohort.mutate(day=ctx.local_date(cohort.trial_start))
    joined = cohort.left_join(won, cohort.customer_id == won.__won)
    return _rate(ctx, joined, joined.__won.notnull())


# -- the catalog ----------------------------------------------------------------------
_SIGNUP_RULE = (
    "A sign-up is the user's created_at; with the setting events.signup_event, a person's "
    "first event of that name instead."
)
_NEW_RULE = (
    "A customer is new in the period of their first paid subscription period (not a "
    "trial, amount × quantity − discount > 0, past-due rows as revenue.past_due_counts_as_"
    "mrr) or their first order, whichever is earlier."
)
_SPEND_RULE = (
    "Spend is marketing_spend plus costs in the sales_marketing category, converted into "
    "the workspace currency with fx_rates (latest rate on or before the day). Ledger costs "
    'have no channel: by channel they form the "(none)" row and a channel filter drops them.'
)

METRICS: list[MetricSpec] = [
    _customer(
        "signups", "Sign-ups",
        "Users who signed up in the period. " + _SIGNUP_RULE + " Break down by acquisition "
        "channel with --by channel (the users' channel property).",
        "count of distinct users whose sign-up falls in the period",
        unit=Unit.count, direction=Direction.higher, fn=signups, sources=("users", "events"),
    ),
    _customer(
        "visitors", "Visitors",
        "Distinct people with a $pageview or $screen event in the period (traffic). People "
        "are persons after identity merging; anonymous ids never merged count as themselves.",
        "count of distinct persons with a $pageview or $screen event in the period",
        unit=Unit.count, direction=Direction.higher, fn=visitors, sources=("events",),
    ),
    _financial(
        "new_customers", "New customers",
        "Customers who started paying in the period. " + _NEW_RULE + " Unlike "
        "new_paying_customers, a first one-time order counts too.",
        "count of customers whose first paid subscription period or first order starts in "
        "the period",
        unit=Unit.count, direction=Direction.higher, fn=new_customers, sources=_CUSTOMERS,
    ),
    ratio(
        "customer_acquisition_rate", "Customer acquisition rate",
        "New customers as a share of the customers paying at the start of the period (at "
        "the end of the day before it, as paying_customers_start). " + _NEW_RULE,
        "new customers / paying customers at the start of the period",
        numerator="new_customers", denominator="paying_customers_start",
        unit=Unit.rate, direction=Direction.higher, category=Category.acquisition,
        perspective=Perspective.financial, sources=(*_CUSTOMERS, "fx_rates"),
    ),
    _financial(
        "acquisition_spend", "Acquisition spend",
        "Sales and marketing spend in the period. " + _SPEND_RULE,
        "sum of marketing spend + sales_marketing costs, in the workspace currency",
        unit=Unit.currency, direction=Direction.lower, fn=acquisition_spend, sources=_SPEND,
    ),
    _financial(
        "cac", "Customer acquisition cost",
        "Sales and marketing spend per new customer. " + _SPEND_RULE + " With "
        "revenue.cac_spend_lag_periods = N, the spend of N periods earlier is used. "
        "By channel: the spend's channel column against the customers' channel property. "
        "No value for a period without new customers. " + _NEW_RULE,
        "acquisition spend (of N periods earlier) / new customers in the period",
        unit=Unit.currency, direction=Direction.lower, fn=cac,
        sources=(*_SPEND, *_CUSTOMERS), empty=None,
    ),
    _financial(
        "cpa", "Cost per acquisition",
        "Cost per acquisition at campaign level: ad spend (marketing_spend only, no ledger "
        "costs, no lag) per conversion, a conversion being a new customer whose campaign "
        "property (the customer's, else their user's) is set. Use --by campaign to get "
        "each campaign's CPA; spend without a campaign has no conversions, hence no value. "
        + _NEW_RULE,
        "marketing spend / new customers attributed to a campaign",
        unit=Unit.currency, direction=Direction.lower, fn=cpa,
        sources=("marketing_spend", "fx_rates", *_CUSTOMERS), empty=None,
    ),
    _customer(
        "clicks", "Ad clicks", "Clicks on ads in the period (marketing_spend.clicks).",
        "sum of clicks",
        unit=Unit.count, direction=Direction.higher, fn=clicks, sources=("marketing_spend",),
    ),
    _customer(
        "impressions", "Ad impressions",
        "Ad impressions in the period (marketing_spend.impressions).",
        "sum of impressions",
        unit=Unit.count, direction=Direction.higher, fn=impressions,
        sources=("marketing_spend",),
    ),
    ratio(
        "ctr", "Click-through rate", "Share of ad impressions that got a click.",
        "sum of clicks / sum of impressions (marketing_spend)",
        numerator="clicks", denominator="impressions",
        unit=Unit.rate, direction=Direction.higher, category=Category.acquisition,
        perspective=Perspective.customer, sources=("marketing_spend",),
    ),
    _financial(
        "market_penetration", "Market penetration",
        "Paying customers at the end of the period (as paying_customers) as a share of the "
        "addressable market, the setting revenue.addressable_market (required).",
        "paying customers at the end of the period / revenue.addressable_market",
        unit=Unit.rate, direction=Direction.higher, fn=market_penetration,
        sources=("subscriptions", "customers", "fx_rates"), rollup=Rollup.end,
    ),
    _customer(
        "visitor_to_signup", "Visitor → sign-up conversion",
        f"Of the prospects who visited in the period (a $pageview or $screen, by persons "
        f"after identity merging, not yet signed up at their first visit of the period), "
        f"the share who signed up within {VISIT_TO_SIGNUP_DAYS} days of that first visit. "
        f"By entry period: the last {VISIT_TO_SIGNUP_DAYS} days are still maturing. "
        + _SIGNUP_RULE,
        f"visitors of the period signing up within {VISIT_TO_SIGNUP_DAYS} days of their "
        "first visit in it / visitors of the period not signed up before it",
        unit=Unit.rate, direction=Direction.higher, fn=visitor_to_signup,
        sources=("events", "users"), empty=None,
    ),
    _customer(
        "signup_to_activation", "Sign-up → activation conversion",
        f"Of the users who signed up in the period, the share who activated: did at least "
        f"one active event that is not SDK bookkeeping (names starting with $, e.g. "
        f"$pageview) nor the sign-up event ({DEFAULT_SIGNUP_EVENT} or events.signup_event) "
        f"within {ACTIVATION_DAYS} days (7 × 24 h) after signing up. By sign-up period. "
        + _SIGNUP_RULE,
        f"sign-ups of the period with an activation event within {ACTIVATION_DAYS} days / "
        "sign-ups of the period",
        unit=Unit.rate, direction=Direction.higher, fn=signup_to_activation,
        sources=("users", "events"), empty=None,
        settle_days=ACTIVATION_DAYS,
    ),
    _financial(
        "trial_to_paid", "Trial → paid conversion",
        f"Of the customers whose first trial (a trialing subscription period) started in "
        f"the period, the share with a paid period of the same subscription starting "
        f"within {TRIAL_TO_PAID_DAYS} days of the trial's end (or during it). A trial "
        f"still running counts as not converted yet. By trial-start period.",
        f"customers converting within {TRIAL_TO_PAID_DAYS} days of their first trial's "
        "end / customers whose first trial started in the period",
        unit=Unit.rate, direction=Direction.higher, fn=trial_to_paid,
        sources=("subscriptions", "customers"), empty=None,
        settle_days=TRIAL_SETTLE_DAYS,
    ),
]  # fmt: skip
