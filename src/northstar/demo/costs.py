"""Costs per day and month: hosting that follows usage, payment fees that follow revenue,
ad spend that matches the marketing table, and fixed monthly costs that grow with the team.
"""

from __future__ import annotations

import json

import numpy as np

from northstar.demo.arrays import FloatArray
from northstar.demo.tables import ColumnData
from northstar.demo.timeline import Timeline

# Monthly fixed costs for a product of 5,000 sign-ups a year; they scale with its size.
_MONTHLY = (
    ("other", "payroll", 30_000.0),
    ("other", "office_and_software", 3_500.0),
    ("cogs", "customer_support_tooling", 450.0),
    ("sales_marketing", "content_and_events", 1_800.0),
)


def costs(
    timeline: Timeline,
    events_per_day: FloatArray,
    payments_per_day: FloatArray,
    ad_spend_per_day: FloatArray,
    size: float,
    rng: np.random.Generator,
) -> dict[str, ColumnData]:
    """The ``costs`` columns; ``size`` is the number of users relative to 5,000."""
    dates: list[np.ndarray] = []
    categories: list[str] = []
    descriptions: list[str] = []
    amounts: list[np.ndarray] = []

    def add(day_index: np.ndarray, category: str, description: str, amount: np.ndarray) -> None:
        """Append one cost line for each of the given days."""
        dates.append(timeline.epoch_days[day_index])
        categories.extend([category] * len(day_index))
        descriptions.extend([description] * len(day_index))
        amounts.append(np.round(amount, 2))

    every_day = np.arange(timeline.days)
    hosting = (30.0 * size + 0.02 * events_per_day) * rng.lognormal(0, 0.05, timeline.days)
    add(every_day, "cogs", "cloud_hosting", hosting)
    add(every_day, "cogs", "payment_processing", 0.029 * payments_per_day)
    # Ad spend lives in marketing_spend only: CAC and total costs add marketing_spend to
    # the costs table, so a copy here would count it twice.
    del ad_spend_per_day

    firsts = np.array(timeline.month_starts(), dtype=np.int64)
    growth = timeline.growth()[firsts] ** 0.5  # the team grows slower than sign-ups
    for category, description, monthly in _MONTHLY:
        add(firsts, category, description, monthly * size * growth)

    date = np.concatenate(dates)
    order = np.lexsort((np.array(descriptions), np.array(categories), date))
    return {
        "date": date[order],
        "category": [categories[k] for k in order.tolist()],
        "amount": np.concatenate(amounts)[order],
        "currency": ["USD"] * len(order),
        "description": [descriptions[k] for k in order.tolist()],
        "properties": [json.dumps({"source": "ledger"})] * len(order),
    }
