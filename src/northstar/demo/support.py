"""Support tickets from customers: steady questions, plus the two planted incidents.

The broken Android release sends Android customers to support with login problems; the
Pro price rise brings billing questions from the announcement to the end of the month.
"""

from __future__ import annotations

import json

import numpy as np

from northstar.demo.acquisition import OS_NAMES, Population
from northstar.demo.arrays import expand
from northstar.demo.billing import Billing
from northstar.demo.ids import hex_ids
from northstar.demo.incidents import ANNOUNCE_DAYS, DAU_DROP_OS, IncidentPlan
from northstar.demo.tables import NULL_TIME, ColumnData
from northstar.demo.timeline import US_PER_DAY, US_PER_HOUR, Timeline

CATEGORIES = ("how_to", "bug", "billing", "account", "login")
_CATEGORY_SHARE = np.array([0.45, 0.25, 0.15, 0.15, 0.0])
_MEDIAN_HOURS = np.array([5.0, 30.0, 12.0, 8.0, 20.0])
TICKETS_PER_CUSTOMER_DAY = 1 / 75


def support_tickets(
    pop: Population,
    billing: Billing,
    timeline: Timeline,
    plan: IncidentPlan,
    rng: np.random.Generator,
) -> dict[str, ColumnData]:
    """The ``support_tickets`` columns, sorted by creation time."""
    begin, until = billing.customer_start, billing.customer_end
    days = (np.minimum(until, timeline.end_us) - begin) / US_PER_DAY
    customer, _ = expand(rng.poisson(np.maximum(days, 0) * TICKETS_PER_CUSTOMER_DAY))
    created = begin[customer] + (rng.random(len(customer)) * days[customer] * US_PER_DAY).astype(
        np.int64
    )
    category = rng.choice(len(CATEGORIES), size=len(customer), p=_CATEGORY_SHARE)

    # Android customers who were active in the broken week could not sign in.
    drop_at = timeline.start_us + plan.dau_drop_start * US_PER_DAY
    on_android = pop.os[billing.customer_user] == OS_NAMES.index(DAU_DROP_OS)
    live = (begin < drop_at) & (until > drop_at)
    hit = np.flatnonzero(on_android & live & (rng.random(len(begin)) < 0.35))
    hit_at = drop_at + (rng.random(len(hit)) * 7 * US_PER_DAY).astype(np.int64)

    # Billing questions about the price rise, from its announcement to the month's end.
    price_at = timeline.start_us + plan.churn_month_start * US_PER_DAY
    asked_from = price_at - ANNOUNCE_DAYS * US_PER_DAY
    window = (plan.churn_month_end - plan.churn_month_start + ANNOUNCE_DAYS) * US_PER_DAY
    live = (begin < asked_from) & (until > asked_from)
    asked = np.flatnonzero(live & (rng.random(len(begin)) < 0.15))
    asked_at = asked_from + (rng.random(len(asked)) * window).astype(np.int64)

    customer = np.concatenate([customer, hit, asked])
    created = np.concatenate([created, hit_at, asked_at])
    category = np.concatenate(
        [
            category,
            np.full(len(hit), CATEGORIES.index("login")),
            np.full(len(asked), CATEGORIES.index("billing")),
        ]
    )
    shown = np.flatnonzero(created >= timeline.visible_start_us)
    order = shown[np.argsort(created[shown], kind="stable")]
    customer, created, category = customer[order], created[order], category[order]
    n = len(customer)

    hours = rng.lognormal(np.log(_MEDIAN_HOURS[category]), 0.9)
    resolved = created + (hours * US_PER_HOUR).astype(np.int64)
    resolved = np.where(resolved < timeline.end_us, resolved, NULL_TIME)
    # Quick answers please; a few days of waiting does not. About 40 % leave no rating.
    rating = np.clip(np.round(5.2 - 0.45 * np.log1p(hours) + rng.normal(0, 0.7, n)), 1, 5)
    rated = (resolved != NULL_TIME) & (rng.random(n) < 0.6)
    # Prospects without an account write in too; their tickets have no customer.
    anonymous = rng.random(n) < 0.08
    customer_ids = [
        None if anon else billing.customer_ids[c]
        for c, anon in zip(customer.tolist(), anonymous.tolist(), strict=True)
    ]
    channel = rng.choice(np.array(["email", "chat", "in_app"]), size=n, p=[0.5, 0.3, 0.2])
    return {
        "ticket_id": hex_ids(rng, n, "tkt_", 10),
        "customer_id": customer_ids,
        "created_at": created,
        "resolved_at": resolved,
        "satisfaction": np.where(rated, rating, np.nan),
        "properties": [
            json.dumps({"category": CATEGORIES[c], "channel": ch})
            for c, ch in zip(category.tolist(), channel.tolist(), strict=True)
        ],
    }
