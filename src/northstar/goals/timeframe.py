"""Time frames as product managers write them: ``2026``, ``2026-Q3``, ``2026-H2``,
``2026-07`` or ``2026-07-01..2026-12-31``."""

from __future__ import annotations

import re
from datetime import date, timedelta

from northstar.errors import GoalError
from northstar.goals.model import TimeFrame


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def parse_time_frame(text: str) -> TimeFrame:
    """The first and last day of a written time frame."""
    raw = text.strip().upper()
    try:
        if m := re.fullmatch(r"(\d{4})", raw):
            year = int(m.group(1))
            return TimeFrame(start=date(year, 1, 1), end=date(year, 12, 31))
        if m := re.fullmatch(r"(\d{4})-?Q([1-4])", raw):
            year, q = int(m.group(1)), int(m.group(2))
            return TimeFrame(start=date(year, 3 * q - 2, 1), end=_month_end(year, 3 * q))
        if m := re.fullmatch(r"(\d{4})-?H([12])", raw):
            year, h = int(m.group(1)), int(m.group(2))
            return TimeFrame(start=date(year, 6 * h - 5, 1), end=_month_end(year, 6 * h))
        if m := re.fullmatch(r"(\d{4})-(\d{2})", raw):
            year, month = int(m.group(1)), int(m.group(2))
            return TimeFrame(start=date(year, month, 1), end=_month_end(year, month))
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})", raw):
            return TimeFrame(
                start=date.fromisoformat(m.group(1)), end=date.fromisoformat(m.group(2))
            )
    except ValueError as exc:
        msg = str(exc).splitlines()[-1].strip().removeprefix("Value error, ")
        raise GoalError(f"time frame {text!r}: {msg}") from None
    raise GoalError(
        f"cannot read the time frame {text!r}; write 2026, 2026-Q3, 2026-H2, 2026-07 "
        "or 2026-07-01..2026-12-31"
    )
