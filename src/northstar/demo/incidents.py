"""The incidents planted in the demo product: where they fall and how they are described.

All three sit in the last third of the range, so alerts have months of normal history
to learn from; the DAU drop leaves at least four normal weeks after it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import timedelta

from northstar.demo.model import Incident
from northstar.demo.timeline import Timeline

DAU_DROP_OS = "Android"
DAU_DROP_DAYS = 7
DAU_DROP_KEEP = 0.55  # share of Android activity that survives the broken release
CREEP_CHANNEL = "paid_social"
CREEP_DAYS = 62  # about two months
CREEP_SPEND_RISE = 0.8  # spend ends 80 % above its level when the creep began
CREEP_CONVERSION = 0.5  # the channel's trials convert half as often as before
CHURN_PLAN = "pro"
OLD_PRO_PRICE, NEW_PRO_PRICE = 49, 59
CHURN_EXTRA = 0.3  # extra chance that a monthly Pro customer cancels at the renewal
ANNOUNCE_DAYS = 21  # the price rise is announced this long before it applies


@dataclass(frozen=True)
class IncidentPlan:
    """Day indexes (into the timeline) of each planted incident, and the incidents."""

    dau_drop_start: int
    creep_start: int
    churn_month_start: int  # first day of the month churn spikes in; the new price applies
    churn_month_end: int  # first day of the following month (exclusive)
    incidents: tuple[Incident, ...]

    @property
    def dau_drop_end(self) -> int:
        """First normal day after the DAU drop."""
        return self.dau_drop_start + DAU_DROP_DAYS


def _churn_month(timeline: Timeline, first_allowed: int) -> tuple[int, int]:
    bounds = timeline.month_starts()
    if timeline.date_of(timeline.days).day == 1:  # the range ends on a month's last day
        bounds.append(timeline.days)
    full = list(itertools.pairwise(bounds))
    later = [(a, b) for a, b in full if a >= first_allowed]
    return later[0] if later else full[-1]


def plan_incidents(simulated: Timeline) -> IncidentPlan:
    """Place the three planted incidents in the last third of the visible days.

    Day indexes in the plan count from the simulated timeline's day 0.
    """
    timeline = simulated.visible()
    days = timeline.days
    last_third = math.ceil(2 * days / 3)
    # Releases go out on Tuesdays; seven weeks before the end leaves six normal weeks after.
    drop = days - 49
    drop -= int((timeline.weekday[drop] - 1) % 7)
    if drop < last_third:
        drop += 7
    creep = max(last_third, days - CREEP_DAYS)
    month_start, month_end = _churn_month(timeline, last_third)

    drop_at = timeline.datetime_of(drop)
    fixed_at = drop_at + timedelta(days=DAU_DROP_DAYS)
    month_at = timeline.datetime_of(month_start)
    incidents = (
        Incident(
            incident_id="android-release-dau-drop",
            kind="drop",
            metric="dau",
            segment={"$os": DAU_DROP_OS},
            started_at=drop_at,
            ended_at=fixed_at,
            description=(
                f"The web release of {drop_at:%B %d} broke sign-in on Android browsers, so "
                f"Android daily active users fell by about 40 % until the fix on {fixed_at:%B %d}."
            ),
        ),
        Incident(
            incident_id="paid-social-cac-creep",
            kind="creep",
            metric="cac",
            segment={"channel": CREEP_CHANNEL},
            started_at=timeline.datetime_of(creep),
            ended_at=None,
            description=(
                "Paid social spend rose steadily by about 80 % over two months while the ads "
                "fatigued and the channel's new paying customers fell, so its CAC crept up."
            ),
        ),
        Incident(
            incident_id="pro-price-rise-churn-spike",
            kind="spike",
            metric="customer_churn_rate",
            segment={"plan": CHURN_PLAN},
            started_at=month_at,
            ended_at=timeline.datetime_of(month_end),
            description=(
                f"The Pro price rose from ${OLD_PRO_PRICE} to ${NEW_PRO_PRICE} a month at renewal "
                f"from {month_at:%B %Y}, and many monthly Pro customers cancelled instead of "
                "renewing, so customer churn spiked that month."
            ),
        ),
    )
    shift = simulated.first_day
    return IncidentPlan(
        drop + shift, creep + shift, month_start + shift, month_end + shift, incidents
    )
