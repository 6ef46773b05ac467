"""Who arrives, when and through which channel: sign-ups and anonymous visitors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from northstar.demo.arrays import FloatArray, IntArray, expand
from northstar.demo.channels import CHANNEL_ENGAGEMENT, CHANNEL_SHARE, CHANNELS, PAID_CHANNELS
from northstar.demo.incidents import CREEP_CHANNEL, DAU_DROP_KEEP, DAU_DROP_OS, IncidentPlan
from northstar.demo.timeline import SIGNUPS_BY_WEEKDAY, Timeline

COUNTRIES = ("US", "GB", "DE", "FR", "NL", "ES", "CA", "IN", "BR", "AU", "JP")
_COUNTRY_SHARE = np.array([0.37, 0.1, 0.09, 0.06, 0.04, 0.04, 0.06, 0.08, 0.06, 0.05, 0.05])
UTC_OFFSET_HOURS = np.array([-6.0, 0.0, 1.0, 1.0, 1.0, 1.0, -5.0, 5.5, -3.0, 10.0, 9.0])
CURRENCY_OF_COUNTRY = ("USD", "GBP", "EUR", "EUR", "EUR", "EUR", "USD", "USD", "USD", "USD", "USD")

OS_NAMES = ("Windows", "macOS", "iOS", "Android", "Linux")
_OS_SHARE = np.array([0.31, 0.24, 0.19, 0.2, 0.06])
BROWSERS = (
    "Chrome",
    "Safari",
    "Firefox",
    "Edge",
    "Mobile Safari",
    "Chrome Mobile",
    "Samsung Internet",
)
_BROWSER_GIVEN_OS = np.array(
    [
        [0.62, 0.0, 0.12, 0.26, 0.0, 0.0, 0.0],  # Windows
        [0.55, 0.35, 0.1, 0.0, 0.0, 0.0, 0.0],  # macOS
        [0.0, 0.0, 0.0, 0.0, 0.78, 0.22, 0.0],  # iOS
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.8, 0.2],  # Android
        [0.6, 0.0, 0.4, 0.0, 0.0, 0.0, 0.0],  # Linux
    ]
)

EXPERIMENT = "onboarding-checklist"
EXPERIMENT_WINDOW = (0.3, 0.6)  # sign-ups in this part of the range are enrolled
VISITORS_PER_USER = 1.6  # anonymous visitors who never sign up, per user who does


@dataclass(frozen=True)
class Population:
    """Signed-up users (in sign-up order) and the anonymous visitors who never sign up."""

    signup_day: IntArray
    channel: IntArray  # index into CHANNELS
    country: IntArray  # index into COUNTRIES
    os: IntArray  # index into OS_NAMES
    browser: IntArray  # index into BROWSERS
    engagement: FloatArray  # latent score ~ N(0, 1): drives activity, payment, churn, NPS
    variant: IntArray  # experiment arm: 0 not enrolled, 1 control, 2 test
    campaign: list[str | None]  # the ad campaign that brought a paid-channel user
    visitor_day: IntArray  # first visit of each never-signing visitor
    visitor_os: IntArray
    visitor_browser: IntArray
    expected_signups: FloatArray  # (channel, day) sign-ups at the week's average rate

    @property
    def size(self) -> int:
        """Number of signed-up users."""
        return len(self.signup_day)


def signup_reach(timeline: Timeline, plan: IncidentPlan) -> FloatArray:
    """Relative sign-up intensity per (channel, day), before weekday effects.

    Every channel grows with the product, except the creeping paid channel: its reach
    stops growing when the creep begins, although its spend keeps rising.
    """
    reach: FloatArray = CHANNEL_SHARE[:, None] * timeline.growth()[None, :]
    c = CHANNELS.index(CREEP_CHANNEL)
    reach[c, plan.creep_start :] = reach[c, plan.creep_start]
    return reach


def _browsers(rng: np.random.Generator, os: IntArray) -> IntArray:
    cumulative = np.cumsum(_BROWSER_GIVEN_OS, axis=1)[os]
    u = rng.random(len(os))[:, None]
    out: IntArray = np.minimum((u > cumulative).sum(axis=1), len(BROWSERS) - 1).astype(np.int64)
    return out


def _campaigns(channel: IntArray, rng: np.random.Generator) -> list[str | None]:
    out: list[str | None] = [None] * len(channel)
    for paid in PAID_CHANNELS:
        members = np.flatnonzero(channel == CHANNELS.index(paid.name))
        shares = paid.campaign_shares
        picks = rng.choice(len(shares), size=len(members), p=shares / shares.sum())
        for user, pick in zip(members.tolist(), picks.tolist(), strict=True):
            out[user] = paid.campaigns[pick][0]
    return out


def sample_population(
    n_users: int, timeline: Timeline, plan: IncidentPlan, rng: np.random.Generator
) -> Population:
    """Draw exactly ``n_users`` sign-ups over the range, plus anonymous visitors."""
    reach = signup_reach(timeline, plan)
    seasonal = timeline.holidays() * SIGNUPS_BY_WEEKDAY[timeline.weekday]
    daily = reach * seasonal[None, :]
    scale = n_users / daily.sum()
    # Day-to-day noise per channel, then systematic rounding: daily counts look natural,
    # while any few weeks of a channel hold their expected number of sign-ups.
    noisy = (daily * rng.lognormal(0.0, 0.15, daily.shape)).T.ravel()
    cumulative = np.floor(np.cumsum(noisy * (n_users / noisy.sum())) + rng.random())
    cumulative = np.minimum(cumulative, n_users)
    cumulative[-1] = n_users  # exactly n_users, whatever the float round-off
    counts = np.diff(cumulative, prepend=0.0).astype(np.int64)
    cell, _ = expand(counts)  # day-major cells, so users come out in sign-up order
    n_channels = len(CHANNELS)
    day, channel = cell // n_channels, cell % n_channels

    country = rng.choice(len(COUNTRIES), size=n_users, p=_COUNTRY_SHARE)
    os = rng.choice(len(OS_NAMES), size=n_users, p=_OS_SHARE)
    # While sign-in is broken on Android, many Android sign-ups wait until after the fix.
    broken = (
        (os == OS_NAMES.index(DAU_DROP_OS))
        & (day >= plan.dau_drop_start)
        & (day < plan.dau_drop_end)
        & (rng.random(n_users) > DAU_DROP_KEEP)
    )
    day[broken] = plan.dau_drop_end + rng.integers(0, 7, int(broken.sum()))
    order = np.argsort(day, kind="stable")  # users stay in sign-up order
    day, channel, country, os = day[order], channel[order], country[order], os[order]
    engagement = rng.standard_normal(n_users) + CHANNEL_ENGAGEMENT[channel]
    shown = timeline.days - timeline.first_day
    lo, hi = (timeline.first_day + round(f * shown) for f in EXPERIMENT_WINDOW)
    enrolled = (day >= lo) & (day < hi)
    variant = np.where(enrolled, 1 + (rng.random(n_users) < 0.5), 0).astype(np.int64)

    n_visitors = round(VISITORS_PER_USER * n_users)
    traffic = daily.sum(axis=0)
    visitor_day = rng.choice(timeline.days, size=n_visitors, p=traffic / traffic.sum())
    visitor_os = rng.choice(len(OS_NAMES), size=n_visitors, p=_OS_SHARE)
    return Population(
        signup_day=day,
        channel=channel,
        country=country,
        os=os,
        browser=_browsers(rng, os),
        engagement=engagement,
        variant=variant,
        campaign=_campaigns(channel, rng),
        visitor_day=np.sort(visitor_day),
        visitor_os=visitor_os,
        visitor_browser=_browsers(rng, visitor_os),
        expected_signups=reach * scale * float(seasonal.mean()),
    )
