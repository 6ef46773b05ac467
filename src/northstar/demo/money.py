"""Plans, list prices in three currencies, the Pro price rise, and daily FX rates into USD."""

from __future__ import annotations

import numpy as np

from northstar.demo.incidents import NEW_PRO_PRICE, OLD_PRO_PRICE
from northstar.demo.tables import ColumnData
from northstar.demo.timeline import Timeline

PLANS = ("starter", "pro", "team")  # in upgrade order; team is priced per seat
ADDON = "ai_assistant"  # a monthly add-on sold next to a plan
CURRENCIES = ("USD", "EUR", "GBP")
_TO_USD = {"USD": 1.0, "EUR": 1.085, "GBP": 1.265}  # starting FX rates

# Monthly list price per unit; annual plans cost ten months. EUR and GBP prices are rounded
# local prices, as companies set them, not conversions.
_MONTHLY = {
    ("starter", "USD"): 19.0,
    ("starter", "EUR"): 18.0,
    ("starter", "GBP"): 15.0,
    ("pro", "USD"): float(OLD_PRO_PRICE),
    ("pro", "EUR"): 45.0,
    ("pro", "GBP"): 39.0,
    ("team", "USD"): 12.0,
    ("team", "EUR"): 11.0,
    ("team", "GBP"): 10.0,
    (ADDON, "USD"): 15.0,
    (ADDON, "EUR"): 14.0,
    (ADDON, "GBP"): 12.0,
}
_NEW_PRO = {"USD": float(NEW_PRO_PRICE), "EUR": 55.0, "GBP": 47.0}


def list_price(plan: str, interval: str, currency: str, after_price_rise: bool) -> float:
    """Price of one unit of ``plan`` for one billing interval."""
    monthly = _MONTHLY[plan, currency]
    if plan == "pro" and after_price_rise:
        monthly = _NEW_PRO[currency]
    return monthly * 10 if interval == "year" else monthly


def fx_rates(
    timeline: Timeline, rng: np.random.Generator
) -> tuple[dict[str, ColumnData], dict[str, np.ndarray]]:
    """Daily ``fx_rates`` rows for EUR and GBP into USD, and the rates as arrays per currency."""
    dates, currencies, rates = [], [], []
    by_currency: dict[str, np.ndarray] = {"USD": np.ones(timeline.days)}
    for currency in CURRENCIES[1:]:
        walk = np.cumsum(rng.normal(0.0, 0.0035, timeline.days))
        rate = np.round(_TO_USD[currency] * np.exp(walk - walk[0]), 6)
        by_currency[currency] = rate
        dates.append(timeline.epoch_days)
        currencies += [currency] * timeline.days
        rates.append(rate)
    columns: dict[str, ColumnData] = {
        "date": np.concatenate(dates),
        "currency": currencies,
        "rate": np.concatenate(rates),
        "properties": ['{"source": "ecb"}'] * len(currencies),
    }
    return columns, by_currency
