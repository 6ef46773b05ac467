"""The one clock of the product. Nothing else reads the calendar.

``NORTHSTAR_TODAY`` moves the clock: set to a day (``2027-06-01``) the date is that day and
the time of day keeps running, so durations (flush intervals, key ages) stay real; set to
a moment (``2027-06-01T09:30:00+00:00``) the clock starts there when first read and runs
on. Unset, it is the machine's clock. Tests set it to run the product on any day, before
or after the data (``docs/freshness.md``).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from northstar.errors import SettingsError

ENV_VAR = "NORTHSTAR_TODAY"
_FIRST_READ: dict[str, datetime] = {}  # a moment's text -> when it was first read


def _offset() -> timedelta:
    """How far the product's clock is from the machine's (zero when not moved)."""
    text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        return timedelta(0)
    wall = datetime.now(UTC)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, wall.timetz()) - wall
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SettingsError(
            f"{ENV_VAR}={text!r} is not a date; set it like 2027-06-01 (or unset it)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # a moment runs on from when this process first read it
    first = _FIRST_READ.setdefault(text, wall)
    return moment - first


def now(zone: tzinfo | str = UTC) -> datetime:
    """The current moment, aware, in ``zone`` (a tzinfo or an IANA name)."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    offset = _offset()  # first: a moment's first read is never after the wall clock below
    return (datetime.now(UTC) + offset).astimezone(tz)


def today(zone: tzinfo | str = UTC) -> date:
    """The current day in ``zone``."""
    return now(zone).date()


def is_moved() -> bool:
    """Whether ``NORTHSTAR_TODAY`` moves the clock."""
    return bool(os.environ.get(ENV_VAR, "").strip())
