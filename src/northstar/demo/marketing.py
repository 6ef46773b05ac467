"""Daily paid-acquisition spend per channel and campaign, consistent with the sign-ups it buys."""

from __future__ import annotations

import json

import numpy as np

from northstar.demo.acquisition import Population
from northstar.demo.arrays import FloatArray
from northstar.demo.channels import CHANNELS, PAID_CHANNELS
from northstar.demo.incidents import CREEP_CHANNEL, CREEP_SPEND_RISE, IncidentPlan
from northstar.demo.tables import ColumnData
from northstar.demo.timeline import Timeline


def creep_ramp(timeline: Timeline, plan: IncidentPlan) -> FloatArray:
    """Spend multiplier of the creeping channel: 1 before the creep, then rising steadily."""
    days = np.arange(timeline.days)
    span = max(timeline.days - 1 - plan.creep_start, 1)
    progress = np.clip((days - plan.creep_start) / span, 0.0, 1.0)
    out: FloatArray = 1.0 + CREEP_SPEND_RISE * progress
    return out


def marketing_spend(
    pop: Population, timeline: Timeline, plan: IncidentPlan, rng: np.random.Generator
) -> tuple[dict[str, ColumnData], FloatArray]:
    """The ``marketing_spend`` columns of the visible days, and the total spend per day."""
    ramp = creep_ramp(timeline, plan)
    shown = slice(timeline.first_day, timeline.days)
    n_days = timeline.days - timeline.first_day
    spend, impressions, clicks = [], [], []
    channel: list[str] = []
    campaign: list[str] = []
    props: list[str] = []
    for paid in PAID_CHANNELS:
        base = pop.expected_signups[CHANNELS.index(paid.name)] * paid.cost_per_signup
        ctr = np.full(timeline.days, paid.ctr)
        if paid.name == CREEP_CHANNEL:
            base = base * ramp
            # Ad fatigue: the audience has seen the ads, so clicks fall per impression.
            ctr = ctr * (1.0 - 0.4 * (ramp - 1.0) / CREEP_SPEND_RISE)
        for name, share, platform in paid.campaigns:
            cost = np.round(base * share * rng.lognormal(0.0, 0.1, timeline.days), 2)
            shows = np.round(cost / paid.cpm * 1000 * rng.lognormal(0, 0.05, timeline.days))
            spend.append(cost[shown])
            impressions.append(shows[shown].astype(np.int64))
            clicks.append(rng.binomial(shows.astype(np.int64), ctr)[shown])
            channel.append(paid.name)
            campaign.append(name)
            props.append(json.dumps({"platform": platform}))
    # Rows were built campaign by campaign; list them day by day.
    rows = len(spend)
    order = np.arange(rows * n_days).reshape(rows, n_days).T.ravel()
    series = np.repeat(np.arange(rows), n_days)[order]
    columns: dict[str, ColumnData] = {
        "date": np.tile(timeline.epoch_days[shown], rows)[order],
        "channel": [channel[k] for k in series.tolist()],
        "campaign": [campaign[k] for k in series.tolist()],
        "spend": np.concatenate(spend)[order],
        "currency": ["USD"] * len(order),
        "impressions": np.concatenate(impressions)[order],
        "clicks": np.concatenate(clicks)[order],
        "properties": [props[k] for k in series.tolist()],
    }
    return columns, np.sum(spend, axis=0)
