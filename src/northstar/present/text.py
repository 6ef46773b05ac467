"""Text shown in terminals and e-mails: sparklines (a light module, no numeric libraries)."""

from __future__ import annotations

import math
from collections.abc import Sequence

_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None]) -> str:
    """Unicode bars scaled between the series' minimum and maximum."""
    known = [v for v in values if v is not None and not math.isnan(v)]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    return "".join(
        " " if v is None or math.isnan(v) else _BARS[int((v - low) / span * (len(_BARS) - 1))]
        for v in values
    )
