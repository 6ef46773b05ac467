"""Human formatting of metric values by unit (tables, the web page, reports)."""

from __future__ import annotations

import math

from northstar.metrics.spec import Unit

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def format_value(value: float | None, unit: Unit, currency: str = "USD") -> str:
    """``0.253`` as ``25.3 %``, ``1234.5`` as ``$1,234.50``, ``95`` seconds as ``1m 35s``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit is Unit.rate:
        return f"{value * 100:.1f} %"
    if unit is Unit.currency:
        symbol = _SYMBOLS.get(currency)
        sign = "-" if value < 0 else ""
        amount = f"{abs(value):,.2f}"
        return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"
    if unit is Unit.seconds:
        return format_duration(value)
    if unit is Unit.ratio:
        return f"{value:.2f}×"
    if unit is Unit.months:
        return f"{value:.1f} mo"
    if unit is Unit.count:
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{value:,.2f}"


def format_duration(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s:.0f}s"
    if s < 3600:
        return f"{sign}{int(s // 60)}m {int(s % 60):02d}s"
    if s < 86400:
        return f"{sign}{int(s // 3600)}h {int(s % 3600 // 60):02d}m"
    return f"{sign}{s / 86400:.1f}d"


def format_change(change: float | None, change_pct: float | None, unit: Unit) -> str:
    """A comparison as people read it: rates in percentage points, others in %."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return "–"
    if unit is Unit.rate:
        return f"{change * 100:+.1f} pp"
    if change_pct is None or (isinstance(change_pct, float) and math.isnan(change_pct)):
        return f"{change:+,.2f}"
    return f"{change_pct * 100:+.1f} %"
