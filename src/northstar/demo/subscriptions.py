"""The billing of one subscription, period by period, as a customer's life unfolds.

One row per billing period (a month or a year), cut short when the plan changes
mid-period; consecutive rows of a subscription abut. A row still running at the end of
the range has no ``ended_at`` unless the customer has already cancelled.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

import numpy as np

from northstar.demo.incidents import ANNOUNCE_DAYS, CHURN_EXTRA, CHURN_PLAN
from northstar.demo.money import ADDON, PLANS, list_price
from northstar.demo.tables import NULL_TIME
from northstar.demo.timeline import EPOCH, US_PER_DAY, US_PER_HOUR

SUBSCRIPTION_COLUMNS = (
    "subscription_id",
    "customer_id",
    "plan",
    "amount",
    "currency",
    "interval",
    "quantity",
    "discount",
    "status",
    "started_at",
    "ended_at",
    "canceled_at",
    "properties",
)
PAST_DUE = 0.02  # share of renewals whose payment fails
INVOLUNTARY = 0.35  # share of failed payments that never recover


@dataclass(frozen=True)
class Coupon:
    """A discount on the first periods of a subscription."""

    code: str
    percent_off: float
    periods: int


NO_COUPON = Coupon("", 0.0, 0)


@dataclass(frozen=True)
class Ending:
    """How a subscription ended: when its last period ran out and when it was cancelled."""

    at: int
    canceled_at: int


class Uniforms:
    """Uniform draws from the generator's RNG, fetched in blocks for the per-customer loop."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._block: list[float] = []
        self._next = 0

    def __call__(self) -> float:
        if self._next == len(self._block):
            self._block = self._rng.random(65536).tolist()
            self._next = 0
        self._next += 1
        return self._block[self._next - 1]


@dataclass(frozen=True)
class Account:
    """Who pays: the billing account id, its currency and its user's engagement score."""

    customer_id: str
    currency: str
    engagement: float


@dataclass
class Ledger:
    """Collects subscription rows; knows the range end and the Pro price rise."""

    range_end: int  # microseconds, exclusive
    price_rise: int  # the new Pro price applies to periods starting from here
    churn_end: int  # end of the month in which the price rise makes customers leave
    uniform: Uniforms
    sub_ids: Iterator[str]
    rows: dict[str, list[Any]] = field(
        default_factory=lambda: {c: [] for c in SUBSCRIPTION_COLUMNS}
    )

    def add(
        self,
        sub: str,
        acct: Account,
        plan: str,
        amount: float,
        interval: str,
        quantity: int,
        discount: float,
        status: str,
        start: int,
        end: int | None,
        canceled: int | None,
        props: str,
    ) -> None:
        """Append one period row."""
        values = (
            sub,
            acct.customer_id,
            plan,
            amount,
            acct.currency,
            interval,
            quantity,
            discount,
            status,
            start,
            NULL_TIME if end is None else end,
            NULL_TIME if canceled is None else canceled,
            props,
        )
        for column, value in zip(SUBSCRIPTION_COLUMNS, values, strict=True):
            self.rows[column].append(value)


def add_interval(us: int, interval: str) -> int:
    """The same time one billing interval later (calendar months, clamped to month end)."""
    day, rest = divmod(us, US_PER_DAY)
    d = EPOCH + timedelta(days=day)
    year, month = divmod(d.month - 1 + (12 if interval == "year" else 1), 12)
    year, month = d.year + year, month + 1
    moved = date(year, month, min(d.day, calendar.monthrange(year, month)[1]))
    return (moved - EPOCH).days * US_PER_DAY + rest


def _cancel_hazard(book: Ledger, acct: Account, plan: str, interval: str, end: int) -> float:
    z = acct.engagement
    if plan == ADDON:
        return 0.05
    if interval == "year":
        hazard = min(max(0.2 * np.exp(-0.5 * z), 0.05), 0.45)
    else:
        hazard = min(max(0.05 * np.exp(-0.5 * z), 0.01), 0.15)
    if plan == CHURN_PLAN and book.price_rise <= end < book.churn_end:
        hazard += CHURN_EXTRA if interval == "month" else CHURN_EXTRA / 2
    return float(hazard)


def _cancel_time(book: Ledger, plan: str, start: int, end: int) -> int:
    u = book.uniform()
    if plan == CHURN_PLAN and book.price_rise <= end < book.churn_end:
        # They cancel after hearing of the price rise and before paying the new price.
        announced = max(start, book.price_rise - ANNOUNCE_DAYS * US_PER_DAY)
        return announced + int(u * (end - US_PER_HOUR - announced))
    earliest = max(start + US_PER_HOUR, end - 20 * US_PER_DAY)
    return earliest + int(u * (end - US_PER_HOUR - earliest))


def _renewal(
    book: Ledger, acct: Account, plan: str, interval: str, quantity: int
) -> tuple[str, str, int]:
    """Plan, interval and seats for the next period: downgrades, seat changes, annual switch."""
    if plan == ADDON:
        return plan, interval, quantity
    r = book.uniform()
    downgrade = 0.012 * float(np.exp(-0.4 * acct.engagement))
    if plan != PLANS[0] and r < downgrade:
        return PLANS[PLANS.index(plan) - 1], interval, 1
    if plan == "team" and r < downgrade + 0.15:
        step = 1 + int(book.uniform() * 3)
        return plan, interval, max(2, quantity + (step if book.uniform() < 0.65 else -step))
    if interval == "month" and r < downgrade + 0.012:
        return plan, "year", quantity
    return plan, interval, quantity


def bill(
    book: Ledger,
    acct: Account,
    sub: str,
    start: int,
    plan: str,
    interval: str,
    quantity: int,
    coupon: Coupon = NO_COUPON,
    stop: Ending | None = None,
) -> Ending | None:
    """Bill a subscription from ``start``; returns how it ended, None if still live.

    ``stop`` ends it early (an add-on ends with the plan it extends).
    """
    u = book.uniform
    t, period = start, 0
    while True:
        end = add_interval(t, interval)
        amount = list_price(plan, interval, acct.currency, t >= book.price_rise)
        discount = 0.0
        if period < coupon.periods:
            discount = round(amount * quantity * coupon.percent_off, 2)
        props = json.dumps({"coupon": coupon.code}) if discount else "{}"

        emit = partial(book.add, sub, acct, plan, amount, interval, quantity, discount)
        if stop is not None and end >= stop.at:
            emit("canceled", t, stop.at, max(t, stop.canceled_at), props)
            return stop
        status = "active"
        if u() < _cancel_hazard(book, acct, plan, interval, end):
            canceled = _cancel_time(book, plan, t, end)
            if canceled < book.range_end:  # otherwise they have not cancelled yet
                emit("canceled", t, end, canceled, props)
                return Ending(end, canceled)
        elif u() < PAST_DUE:
            status = "past_due"
            if end <= book.range_end and u() < INVOLUNTARY:
                emit(status, t, end, end, props)  # the card never worked again
                return Ending(end, end)
        elif plan in PLANS[:-1] and u() < 0.02 * float(np.exp(0.4 * acct.engagement)):
            cut = t + int(u() * (end - t))
            if cut < book.range_end:
                emit(status, t, cut, None, props)  # upgraded: a new period at the new price
                plan = PLANS[PLANS.index(plan) + 1]
                quantity = 3 + int(u() * 8) if plan == "team" else 1
                t, period = cut, period + 1
                continue
        if end > book.range_end:
            emit(status, t, None, None, props)
            return None
        emit(status, t, end, None, props)
        plan, interval, quantity = _renewal(book, acct, plan, interval, quantity)
        t, period = end, period + 1
