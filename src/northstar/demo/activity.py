"""When people use the product: active days of each user, and the sessions on those days.

A user's chance to be active on a day decays with the days since sign-up along a
power-law-ish curve, some users leave for good early, and every day is scaled by the
weekday, the holidays and (for Android during the planted incident) a broken release.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from northstar.demo.acquisition import OS_NAMES, UTC_OFFSET_HOURS, Population
from northstar.demo.arrays import BoolArray, FloatArray, IntArray, expand, segment_cumsum, sigmoid
from northstar.demo.incidents import DAU_DROP_KEEP, DAU_DROP_OS, IncidentPlan
from northstar.demo.timeline import ACTIVITY_BY_WEEKDAY, US_PER_HOUR, Timeline

# Session kinds.
APP, SIGNUP, PRE_SIGNUP_VISIT, VISIT = 0, 1, 2, 3
SIGNUP_SESSION_EVENTS = 8  # the sign-up session holds the identify, sign-up and more


@dataclass(frozen=True)
class Sessions:
    """One row per session, of users and of anonymous visitors."""

    kind: IntArray  # APP, SIGNUP, PRE_SIGNUP_VISIT or VISIT
    user: IntArray  # user index, -1 for a visitor who never signs up
    visitor: IntArray  # visitor index, -1 for users
    day: IntArray
    start_us: IntArray
    n_events: IntArray
    os: IntArray
    browser: IntArray
    sends_session_id: BoolArray  # the client sends session ids (about half of them do)


@dataclass(frozen=True)
class Activity:
    """Active days of signed-up users (sorted by user, then day) and all sessions."""

    user: IntArray
    day: IntArray
    sessions: Sessions


def daily_activity_factor(timeline: Timeline, rng: np.random.Generator) -> FloatArray:
    """How busy each day is: weekday, holidays and a little day-to-day noise."""
    noise = rng.lognormal(0.0, 0.03, timeline.days)
    out: FloatArray = ACTIVITY_BY_WEEKDAY[timeline.weekday] * timeline.holidays() * noise
    return out


def _utc_hours(rng: np.random.Generator, count: int, offset: FloatArray) -> FloatArray:
    # People work mornings and afternoons in their own time zone; the hour is folded into
    # the same UTC day (compressed to 00:30-23:00) so sessions never spill into the next one.
    local = np.where(
        rng.random(count) < 0.7, rng.normal(10, 1.8, count), rng.normal(15, 2.5, count)
    )
    out: FloatArray = 0.5 + np.mod(local - offset, 24.0) * (22.5 / 24.0)
    return out


def _user_days(
    pop: Population, timeline: Timeline, plan: IncidentPlan, rng: np.random.Generator
) -> tuple[IntArray, IntArray, FloatArray]:
    n, z, signup = pop.size, pop.engagement, pop.signup_day
    start_rate = 0.92 * sigmoid(0.9 * z - 0.1)
    # Tourists try the product for a few days and never come back; the others stay for a
    # heavy-tailed lifetime (engaged users longer), often longer than the range, which
    # gives retention its power-law shape.
    tourist = rng.random(n) < 0.35 * sigmoid(-0.8 * z)
    scale = 20.0 * np.exp(0.6 * z)
    lifetime = np.where(
        tourist, 1 + rng.geometric(0.3, n), scale * (rng.random(n) ** (-1 / 0.6) - 1.0)
    )
    lifetime = np.minimum(lifetime, 10 * timeline.days).astype(np.int64) + 1
    horizon = np.maximum(np.minimum(timeline.days - signup, lifetime), 1)
    user, age = expand(horizon)
    day = signup[user] + age
    p = start_rate[user] * (1.0 + age / 2.0) ** -0.3 * daily_activity_factor(timeline, rng)[day]
    broken = (
        (pop.os[user] == OS_NAMES.index(DAU_DROP_OS))
        & (day >= plan.dau_drop_start)
        & (day < plan.dau_drop_end)
    )
    p[broken] *= DAU_DROP_KEEP
    active = (rng.random(len(p)) < p) | (age == 0)
    return user[active], day[active], start_rate


def _app_sessions(
    pop: Population,
    timeline: Timeline,
    user: IntArray,
    day: IntArray,
    rate: FloatArray,
    rng: np.random.Generator,
) -> Sessions:
    n_pairs = len(user)
    per_day = 1 + rng.poisson(0.4 + 1.5 * rate[user])
    pair, j = expand(per_day)
    base = _utc_hours(rng, n_pairs, UTC_OFFSET_HOURS[pop.country[user]])
    gaps = np.where(j == 0, 0.0, rng.uniform(1.5, 4.5, len(pair))) * (22.5 / 24.0)
    hours = base[pair] + segment_cumsum(gaps, per_day)
    keep = (j == 0) | (hours < 23.2)
    pair, j, hours = pair[keep], j[keep], hours[keep]
    u, d = user[pair], day[pair]
    is_signup = (d == pop.signup_day[u]) & (j == 0)
    bounce = rng.random(len(pair)) < 0.06
    n_events = np.where(bounce, 1, 2 + rng.poisson(4.5 + 17.0 * rate[u]))
    n_events = np.where(is_signup, np.maximum(n_events, SIGNUP_SESSION_EVENTS), n_events)
    return _sessions(
        timeline, np.where(is_signup, SIGNUP, APP), u, -np.ones_like(u), d, hours, n_events, rng
    )


def _visit_sessions(
    timeline: Timeline,
    kind: int,
    owner: IntArray,
    day: IntArray,
    offset: FloatArray,
    rng: np.random.Generator,
) -> Sessions:
    keep = (day >= 0) & (day < timeline.days)
    owner, day, offset = owner[keep], day[keep], offset[keep]
    hours = _utc_hours(rng, len(owner), offset)
    n_events = np.where(rng.random(len(owner)) < 0.4, 1, 2 + rng.poisson(1.5, len(owner)))
    user = owner if kind == PRE_SIGNUP_VISIT else -np.ones_like(owner)
    visitor = owner if kind == VISIT else -np.ones_like(owner)
    return _sessions(timeline, np.full(len(owner), kind), user, visitor, day, hours, n_events, rng)


def _sessions(
    timeline: Timeline,
    kind: IntArray,
    user: IntArray,
    visitor: IntArray,
    day: IntArray,
    hours: FloatArray,
    n_events: IntArray,
    rng: np.random.Generator,
) -> Sessions:
    start = timeline.day_us(day) + (hours * US_PER_HOUR).astype(np.int64)
    start += rng.integers(0, 1_000_000, len(day))  # sub-second jitter
    empty = np.zeros(len(day), dtype=np.int64)
    return Sessions(
        kind.astype(np.int64),
        user,
        visitor,
        day,
        start,
        n_events.astype(np.int64),
        empty,
        empty,
        np.zeros(len(day), dtype=bool),
    )


def _concat(parts: list[Sessions]) -> Sessions:
    fields = Sessions.__dataclass_fields__
    return Sessions(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in fields})


def simulate_activity(
    pop: Population, timeline: Timeline, plan: IncidentPlan, rng: np.random.Generator
) -> Activity:
    """Active days and sessions for every user, their visits before sign-up, and visitors."""
    user, day, rate = _user_days(pop, timeline, plan, rng)
    app = _app_sessions(pop, timeline, user, day, rate, rng)

    # Most people look around the marketing site on a day or two before signing up.
    visits = rng.poisson(0.7, pop.size)
    owner, _ = expand(visits)
    before = pop.signup_day[owner] - 1 - rng.integers(0, 10, len(owner))
    offsets = UTC_OFFSET_HOURS[pop.country]
    pre = _visit_sessions(timeline, PRE_SIGNUP_VISIT, owner, before, offsets[owner], rng)

    n_visitors = len(pop.visitor_day)
    repeat = 1 + rng.poisson(0.35, n_visitors)
    visitor, k = expand(repeat)
    visit_day = pop.visitor_day[visitor] + np.where(k == 0, 0, rng.integers(1, 12, len(k)))
    country_offset = rng.choice(UTC_OFFSET_HOURS, n_visitors)
    visits_only = _visit_sessions(timeline, VISIT, visitor, visit_day, country_offset[visitor], rng)

    sessions = _concat([app, pre, visits_only])
    # A user's (or visitor's) device is the same in every session.
    known = sessions.user >= 0
    owner_os = np.where(known, pop.os[sessions.user], pop.visitor_os[sessions.visitor])
    owner_browser = np.where(
        known, pop.browser[sessions.user], pop.visitor_browser[sessions.visitor]
    )
    sends_ids = rng.random(pop.size + n_visitors) < 0.5
    sends = np.where(known, sends_ids[sessions.user], sends_ids[pop.size + sessions.visitor])
    sessions = Sessions(
        sessions.kind,
        sessions.user,
        sessions.visitor,
        sessions.day,
        sessions.start_us,
        sessions.n_events,
        owner_os,
        owner_browser,
        sends,
    )
    return Activity(user, day, sessions)
