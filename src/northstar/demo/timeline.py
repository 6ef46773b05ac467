"""The calendar of a demo product: its days, weekdays, seasonality and growth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from northstar.demo.arrays import FloatArray, IntArray

US_PER_SECOND = 1_000_000
US_PER_HOUR = 3600 * US_PER_SECOND
US_PER_DAY = 24 * US_PER_HOUR
EPOCH = date(1970, 1, 1)

# B2B usage: busy Monday to Thursday, a lighter Friday, quiet weekends (Monday first).
ACTIVITY_BY_WEEKDAY = np.array([1.0, 1.04, 1.03, 0.99, 0.9, 0.52, 0.47])
SIGNUPS_BY_WEEKDAY = np.array([1.0, 1.05, 1.03, 1.0, 0.92, 0.62, 0.58])
# Sign-ups per day grow by this factor a year.
SIGNUP_GROWTH = 2.2


@dataclass(frozen=True)
class Timeline:
    """The days a demo product is simulated on; day 0 is ``start``.

    The first ``first_day`` days only warm the product up (users, customers and MRR
    exist when the data begins); the event-like tables show the days after them.
    """

    start: date
    days: int
    first_day: int = 0

    def visible(self) -> Timeline:
        """The days the tables show, as a timeline of its own."""
        return Timeline(self.date_of(self.first_day), self.days - self.first_day)

    @property
    def visible_start_us(self) -> int:
        """Midnight UTC of the first day the tables show, in microseconds."""
        return self.start_us + self.first_day * US_PER_DAY

    @property
    def end(self) -> date:
        """The last day (inclusive)."""
        return self.start + timedelta(days=self.days - 1)

    @property
    def start_us(self) -> int:
        """Midnight UTC of the first day, in microseconds since the epoch."""
        return (self.start - EPOCH).days * US_PER_DAY

    @property
    def end_us(self) -> int:
        """Midnight UTC after the last day (exclusive end), in microseconds."""
        return self.start_us + self.days * US_PER_DAY

    @property
    def epoch_days(self) -> IntArray:
        """Each day of the range as days since 1970-01-01 (arrow's date32)."""
        first = (self.start - EPOCH).days
        return np.arange(first, first + self.days, dtype=np.int64)

    @property
    def weekday(self) -> IntArray:
        """Weekday of each day, Monday = 0 (1970-01-01 was a Thursday)."""
        out: IntArray = (self.epoch_days + 3) % 7
        return out

    def day_us(self, day: IntArray) -> IntArray:
        """Midnight UTC of day indexes, in microseconds."""
        out: IntArray = self.start_us + day.astype(np.int64) * US_PER_DAY
        return out

    def date_of(self, day: int) -> date:
        """The calendar date of a day index."""
        return self.start + timedelta(days=day)

    def datetime_of(self, day: int) -> datetime:
        """Midnight UTC of a day index as an aware datetime."""
        d = self.date_of(day)
        return datetime(d.year, d.month, d.day, tzinfo=UTC)

    def month_starts(self) -> list[int]:
        """Day indexes of the first day of every calendar month inside the range."""
        return [i for i in range(self.days) if self.date_of(i).day == 1]

    def growth(self) -> FloatArray:
        """Relative size of the product each day: 1 on day 0, ``SIGNUP_GROWTH`` a year later."""
        out: FloatArray = np.exp(np.log(SIGNUP_GROWTH) * np.arange(self.days) / 365.0)
        return out

    def holidays(self) -> FloatArray:
        """Activity factor for the year-end holidays, when B2B products go quiet."""
        factor = np.ones(self.days)
        for i in range(self.days):
            d = self.date_of(i)
            if d.month == 12 and 24 <= d.day <= 26:
                factor[i] = 0.55
            elif (d.month, d.day) in ((12, 31), (1, 1)):
                factor[i] = 0.6
        return factor


def to_us(moment: datetime) -> int:
    """An aware datetime as microseconds since the epoch."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * US_PER_DAY) + delta.seconds * US_PER_SECOND + delta.microseconds
