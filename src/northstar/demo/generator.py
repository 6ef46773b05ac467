"""Generate the demo product: every data-model table, with incidents planted in them.

The product is simulated from its launch, ``HISTORY_DAYS`` before the requested range,
so users, customers and MRR already exist when the data begins. Billing tables keep
that history, as billing systems do; events and the other tables cover the range only.
The stages run in a fixed order, each on its own child of ``default_rng(seed)``, so the
same arguments always give the same tables.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from northstar.demo.acquisition import COUNTRIES, EXPERIMENT, Population, sample_population
from northstar.demo.activity import simulate_activity
from northstar.demo.billing import Billing, payments_usd, simulate_billing
from northstar.demo.channels import CHANNELS
from northstar.demo.costs import costs
from northstar.demo.event_table import event_table
from northstar.demo.events import simulate_events
from northstar.demo.features import simulate_adoption
from northstar.demo.ids import hex_ids
from northstar.demo.incidents import plan_incidents
from northstar.demo.marketing import marketing_spend
from northstar.demo.model import DemoProduct, PlantedExperiment
from northstar.demo.money import fx_rates
from northstar.demo.support import support_tickets
from northstar.demo.surveys import survey_responses
from northstar.demo.tables import build_table
from northstar.demo.team import sprints_and_work_items
from northstar.demo.timeline import US_PER_DAY, Timeline
from northstar.store.schema import TABLES

HISTORY_DAYS = 180  # the product launched this long before the range begins
MIN_DAYS = 180  # room for incidents in the last third with months of history before them
MIN_USERS = 100


def _user_properties(pop: Population, billing: Billing) -> list[str]:
    out = []
    for u in range(pop.size):
        props = {
            "plan": billing.user_plan[u],
            "country": COUNTRIES[pop.country[u]],
            "channel": CHANNELS[pop.channel[u]],
        }
        if pop.campaign[u]:
            props["campaign"] = str(pop.campaign[u])
        out.append(json.dumps(props))
    return out


def generate(
    users: int = 5000, days: int = 365, seed: int = 7, end: date = date(2026, 10, 31)
) -> DemoProduct:
    """Simulate a SaaS product's data for the ``days`` ending on ``end``.

    ``users`` people sign up from the product's launch (``HISTORY_DAYS`` before the
    range) to ``end``. Returns one arrow table per data-model table and the incidents
    planted in them. Deterministic: the same arguments give identical tables.
    """
    if days < MIN_DAYS:
        raise ValueError(f"days must be at least {MIN_DAYS}, got {days}")
    if users < MIN_USERS:
        raise ValueError(f"users must be at least {MIN_USERS}, got {users}")
    launch = end - timedelta(days=days + HISTORY_DAYS - 1)
    timeline = Timeline(start=launch, days=days + HISTORY_DAYS, first_day=HISTORY_DAYS)
    shown = timeline.visible()
    plan = plan_incidents(timeline)
    rng = np.random.default_rng(seed).spawn(13)

    pop = sample_population(users, timeline, plan, rng[0])
    user_ids = hex_ids(rng[1], users, "user_", 10)
    spend, ad_spend_per_day = marketing_spend(pop, timeline, plan, rng[2])
    adoption = simulate_adoption(pop, timeline, rng[3])
    activity = simulate_activity(pop, timeline, plan, rng[4])
    log = simulate_events(activity, adoption, pop.variant, timeline, rng[5])
    events = event_table(log, user_ids, rng[6])
    billing = simulate_billing(pop, user_ids, log.signup_us, timeline, plan, rng[7])
    fx, fx_by_currency = fx_rates(timeline, rng[8])
    sprints, work_items = sprints_and_work_items(timeline, plan, rng[9])
    day = (log.ts - shown.start_us) // US_PER_DAY
    events_per_day = np.bincount(day, minlength=shown.days).astype(np.float64)
    payments = payments_usd(billing, timeline, fx_by_currency)[timeline.first_day :]

    tables: dict[str, pa.Table] = {
        "events": events,
        "users": build_table(
            "users",
            {
                "user_id": user_ids,
                "created_at": log.signup_us,
                "properties": _user_properties(pop, billing),
            },
        ),
        "customers": build_table("customers", billing.customers),
        "subscriptions": build_table("subscriptions", billing.subscriptions),
        "orders": build_table("orders", billing.orders),
        "marketing_spend": build_table("marketing_spend", spend),
        "survey_responses": build_table(
            "survey_responses",
            survey_responses(activity, pop.signup_day, user_ids, timeline, plan, rng[10]),
        ),
        "sprints": build_table("sprints", sprints),
        "work_items": build_table("work_items", work_items),
        "support_tickets": build_table(
            "support_tickets", support_tickets(pop, billing, timeline, plan, rng[11])
        ),
        "costs": build_table(
            "costs",
            costs(shown, events_per_day, payments, ad_spend_per_day, users / 5000, rng[12]),
        ),
        "fx_rates": build_table("fx_rates", fx),
    }
    return DemoProduct(
        tables={name: tables[name] for name in TABLES},
        incidents=plan.incidents,
        start=shown.start,
        end=shown.end,
        experiment=PlantedExperiment(
            EXPERIMENT,
            "converted:project_created",
            {
                arm: float(adoption.activation_probability[pop.variant == code].mean())
                for arm, code in (("control", 1), ("test", 2))
            },
        ),
    )
