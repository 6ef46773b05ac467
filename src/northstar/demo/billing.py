"""Customers: who starts a trial, who pays and for what, and what they buy once.

Every trial opens a billing account (a customer); ChartMogul-style metrics count a
customer as paying from its first paid period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from northstar.demo.acquisition import COUNTRIES, CURRENCY_OF_COUNTRY, Population
from northstar.demo.arrays import BoolArray, FloatArray, IntArray, sigmoid, systematic_sample
from northstar.demo.channels import CHANNELS
from northstar.demo.features import FEATURES
from northstar.demo.ids import hex_ids
from northstar.demo.incidents import CREEP_CHANNEL, CREEP_CONVERSION, IncidentPlan
from northstar.demo.money import ADDON, PLANS, list_price
from northstar.demo.subscriptions import NO_COUPON, Account, Coupon, Ledger, Uniforms, bill
from northstar.demo.tables import NULL_TIME, ColumnData
from northstar.demo.timeline import US_PER_DAY, Timeline

TRIAL_DAYS = 14
_ORDERS = (  # one-time purchases: (product, chance per paying customer, price by currency)
    ("onboarding_workshop", 0.1, {"USD": 600.0, "EUR": 550.0, "GBP": 480.0}),
    ("data_migration", 0.04, {"USD": 1500.0, "EUR": 1400.0, "GBP": 1200.0}),
    ("report_credits", 0.2, {"USD": 49.0, "EUR": 45.0, "GBP": 39.0}),
)
_AI_RELEASE = next(f.release for f in FEATURES if f.event == "ai_summary_generated") or 0.0


@dataclass(frozen=True)
class Billing:
    """The billing tables' columns, and per-customer facts other tables build on."""

    customers: dict[str, ColumnData]
    subscriptions: dict[str, ColumnData]
    orders: dict[str, ColumnData]
    customer_ids: list[str]
    customer_user: IntArray  # user index of each customer
    customer_start: IntArray  # microseconds: account creation
    customer_end: IntArray  # microseconds: end of its last period, or the range end if live
    user_plan: list[str]  # per user: plan at the end of the range, "trial" or "free"


def choose_payers(pop: Population, plan: IncidentPlan) -> tuple[BoolArray, BoolArray]:
    """Who starts a trial, and which trials convert to a paid plan.

    Sampled per channel in sign-up order (systematic sampling), so a channel's paying
    customers in any few weeks match their expected number within one.
    """
    z = pop.engagement
    p_trial = sigmoid(-0.9 + 0.8 * z)
    p_convert = sigmoid(-0.1 + 0.9 * z)
    creep = (pop.channel == CHANNELS.index(CREEP_CHANNEL)) & (pop.signup_day >= plan.creep_start)
    p_convert = np.where(creep, p_convert * CREEP_CONVERSION, p_convert)
    trial = np.zeros(pop.size, dtype=bool)
    convert = np.zeros(pop.size, dtype=bool)
    offsets = np.linspace(0.1, 0.9, len(CHANNELS))  # fixed offsets keep channels independent
    for c in range(len(CHANNELS)):
        members = np.flatnonzero(pop.channel == c)
        trial[members] = systematic_sample(p_trial[members], offsets[c])
        trialists = members[trial[members]]
        convert[trialists] = systematic_sample(p_convert[trialists], offsets[-1 - c])
    return trial, convert


def _orders(
    book: Ledger, acct: Account, paid_from: int, order_ids: list[str], cols: dict[str, list[object]]
) -> None:
    for product, chance, prices in _ORDERS:
        if book.uniform() < chance:
            at = paid_from + int(book.uniform() * 60 * US_PER_DAY)
            if at < book.range_end:
                cols["order_id"].append(order_ids[len(cols["order_id"])])
                cols["customer_id"].append(acct.customer_id)
                cols["amount"].append(prices[acct.currency])
                cols["currency"].append(acct.currency)
                cols["ordered_at"].append(at)
                cols["properties"].append(json.dumps({"product": product}))


def simulate_billing(
    pop: Population,
    user_ids: list[str],
    signup_us: IntArray,
    timeline: Timeline,
    plan: IncidentPlan,
    rng: np.random.Generator,
) -> Billing:
    """Trials, paid subscriptions (with all their changes) and orders for every customer."""
    trial, convert = choose_payers(pop, plan)
    users = np.flatnonzero(trial)
    n = len(users)
    customer_ids = hex_ids(rng, n, "cus_", 14)
    sub_ids = iter(hex_ids(rng, 3 * n + 1, "sub_", 14))  # plan, add-on, comeback
    order_ids = hex_ids(rng, len(_ORDERS) * n + 1, "ord_", 12)  # at most one of each
    book = Ledger(
        range_end=timeline.end_us,
        price_rise=timeline.start_us + plan.churn_month_start * US_PER_DAY,
        churn_end=timeline.start_us + plan.churn_month_end * US_PER_DAY,
        uniform=Uniforms(rng),
        sub_ids=sub_ids,
    )
    u = book.uniform
    shown = timeline.days - timeline.first_day
    ai_release = timeline.visible_start_us + round(_AI_RELEASE * shown) * US_PER_DAY
    order_cols: dict[str, list[object]] = {
        k: [] for k in ("order_id", "customer_id", "amount", "currency", "ordered_at", "properties")
    }
    created = np.empty(n, dtype=np.int64)
    for k, user in enumerate(users.tolist()):
        z = float(pop.engagement[user])
        acct = Account(customer_ids[k], CURRENCY_OF_COUNTRY[pop.country[user]], z)
        # Most start the trial right after signing up; others come back for it later.
        delay = 2 + u() * 18 if u() < 0.7 else (1 + u() * 9) * 24 * 60
        start = int(signup_us[user] + delay * 60_000_000)
        start = created[k] = min(start, book.range_end - 1)
        team_share = 0.12 + 0.12 * float(sigmoid(np.array(z)))
        r = u()
        tier = "team" if r < team_share else "pro" if r < team_share + 0.48 else "starter"
        seats = 3 + int(u() * 10) if tier == "team" else 1
        sub = next(book.sub_ids)
        trial_end = start + TRIAL_DAYS * US_PER_DAY
        live = trial_end > book.range_end
        price = list_price(tier, "month", acct.currency, start >= book.price_rise)
        trial_until = None if live else trial_end
        book.add(
            sub, acct, tier, price, "month", seats, 0.0, "trialing", start, trial_until, None, "{}"
        )
        if live or not convert[user]:
            continue
        interval = "year" if u() < 0.18 + 0.14 * float(sigmoid(np.array(z))) else "month"
        coupon = NO_COUPON
        if u() < 0.12:
            coupon = (
                Coupon("LAUNCH20", 0.2, 3) if interval == "month" else Coupon("ANNUAL10", 0.1, 1)
            )
        ended = bill(book, acct, sub, trial_end, tier, interval, seats, coupon)
        if u() < 0.15:  # the AI add-on, once it exists, for as long as the plan runs
            addon_at = max(trial_end, ai_release) + int(u() * 45 * US_PER_DAY)
            if addon_at < book.range_end and (ended is None or addon_at < ended.at - US_PER_DAY):
                bill(book, acct, next(book.sub_ids), addon_at, ADDON, "month", 1, stop=ended)
        if ended is not None and u() < 0.25:  # some churned customers come back
            back = ended.at + int((25 + u() * 135) * US_PER_DAY)
            if back < book.range_end:
                again = tier if u() < 0.6 else PLANS[max(PLANS.index(tier) - 1, 0)]
                bill(book, acct, next(book.sub_ids), back, again, "month", seats)
        _orders(book, acct, trial_end, order_ids, order_cols)

    return _assemble(pop, user_ids, users, customer_ids, created, book, order_cols, timeline)


def _assemble(
    pop: Population,
    user_ids: list[str],
    users: IntArray,
    customer_ids: list[str],
    created: IntArray,
    book: Ledger,
    order_cols: dict[str, list[object]],
    timeline: Timeline,
) -> Billing:
    rows = book.rows
    customer_index = {c: k for k, c in enumerate(customer_ids)}
    owner = np.array([customer_index[c] for c in rows["customer_id"]], dtype=np.int64)
    started = np.array(rows["started_at"], dtype=np.int64)
    ended = np.array(rows["ended_at"], dtype=np.int64)
    open_end = np.where(ended == NULL_TIME, timeline.end_us, ended)
    customer_end = np.full(len(users), timeline.start_us, dtype=np.int64)
    np.maximum.at(customer_end, owner, open_end)

    # Plan today: of the rows still running at the end of the range (add-ons aside).
    user_plan = ["free"] * pop.size
    last_moment = timeline.end_us - 1
    for k in np.flatnonzero((started <= last_moment) & (open_end > last_moment)).tolist():
        plan = rows["plan"][k]
        if plan != ADDON:
            trialing = rows["status"][k] == "trialing"
            user_plan[int(users[owner[k]])] = "trial" if trialing else plan

    customers: dict[str, ColumnData] = {
        "customer_id": customer_ids,
        "user_id": [user_ids[u] for u in users.tolist()],
        "created_at": created,
        "properties": [
            json.dumps(
                {
                    "channel": CHANNELS[pop.channel[u]],
                    **({"campaign": pop.campaign[u]} if pop.campaign[u] else {}),
                    "country": COUNTRIES[pop.country[u]],
                    "currency": CURRENCY_OF_COUNTRY[pop.country[u]],
                }
            )
            for u in users.tolist()
        ],
    }
    subscriptions: dict[str, ColumnData] = dict(rows)
    subscriptions["amount"] = np.array(rows["amount"], dtype=np.float64)
    subscriptions["discount"] = np.array(rows["discount"], dtype=np.float64)
    orders: dict[str, ColumnData] = dict(order_cols)
    return Billing(
        customers, subscriptions, orders, customer_ids, users, created, customer_end, user_plan
    )


def _usd_by_day(
    value: FloatArray,
    currency: np.ndarray,
    at: IntArray,
    timeline: Timeline,
    fx: dict[str, FloatArray],
) -> FloatArray:
    day = (at - timeline.start_us) // US_PER_DAY
    rate = np.ones(len(value))
    for code, series in fx.items():
        is_code = currency == code
        rate[is_code] = series[day[is_code]]
    totals = np.bincount(day, weights=value * rate, minlength=timeline.days)
    return np.asarray(totals, dtype=np.float64)


def payments_usd(billing: Billing, timeline: Timeline, fx: dict[str, FloatArray]) -> FloatArray:
    """What customers paid each day, in USD: an invoice at each paid period's start, and orders."""
    subs, orders = billing.subscriptions, billing.orders
    paid = np.asarray(subs["status"]) != "trialing"
    invoice = np.asarray(subs["amount"], dtype=np.float64) * np.asarray(subs["quantity"])
    invoice = (invoice - np.asarray(subs["discount"], dtype=np.float64)) * paid
    started = np.asarray(subs["started_at"], dtype=np.int64)
    total = _usd_by_day(invoice, np.asarray(subs["currency"]), started, timeline, fx)
    if len(orders["order_id"]):
        amount = np.asarray(orders["amount"], dtype=np.float64)
        at = np.asarray(orders["ordered_at"], dtype=np.int64)
        total += _usd_by_day(amount, np.asarray(orders["currency"]), at, timeline, fx)
    return total
