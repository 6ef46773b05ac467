"""Catalog metrics on sessions: count, duration, sessions per user, pages, bounces, time in app.

Each is computed from :func:`northstar.analyses.sessions.sessions`; a session belongs to
the period in which it starts.
"""

from __future__ import annotations

from functools import partial

import ibis
import ibis.expr.types as ir
from ibis import _

from northstar.analyses.sessions import sessions
from northstar.metrics.catalog._build import builtin
from northstar.metrics.context import Context
from northstar.metrics.spec import Category, Direction, MetricSpec, Perspective, Rollup, Unit

_metric = partial(
    builtin, category=Category.engagement, perspective=Perspective.customer, sources=("events",)
)
_SESSION = (
    "A session is the SDK's session id ($session_id) where events carry one; otherwise a "
    "person's events with gaps of at most sessions.timeout_minutes (30), cut at "
    "sessions.max_hours (24). It belongs to the period in which it starts (see "
    "analyses.md)."
)


def session_count(ctx: Context) -> ir.Table:
    s = sessions(ctx)
    return ctx.by_period(s, _.count())


def session_duration(ctx: Context) -> ir.Table:
    s = sessions(ctx)
    return ctx.by_period(s, _.duration.mean())


def session_duration_median(ctx: Context) -> ir.Table:
    s = sessions(ctx)
    return ctx.by_period(s, _.duration.median())


def sessions_per_user(ctx: Context) -> ir.Table:
    s = sessions(ctx)
    return ctx.by_period(s, _.count() / _.person_id.nunique())


def pages_per_session(ctx: Context) -> ir.Table:
    s = sessions(ctx)
    return ctx.by_period(s, _.pageviews.sum() / _.count())


def bounce_rate(ctx: Context) -> ir.Table:
    s = sessions(ctx)
    with_page = (_.pageviews > 0).cast("int64").sum()
    return ctx.by_period(s, _.bounced.cast("int64").sum() / with_page.nullif(0))


def time_in_app(ctx: Context) -> ir.Table:
    """Seconds in sessions started on the day per active user of the day (the engine asks
    for days and averages them over longer periods)."""
    s = sessions(ctx)
    spent = ctx.by_period(s, _.duration.sum()).rename(seconds="value")
    active = ctx.active_events()
    users = ctx.by_period(active, _.person_id.nunique()).rename(users="value")
    keys = ["period", *ctx.keys]
    joined = users.left_join(spent, keys)
    value = ibis.coalesce(joined.seconds, 0) / joined.users
    return joined.select(*[users[k] for k in keys], value=value)


METRICS: tuple[MetricSpec, ...] = (
    _metric(
        "sessions", "Sessions", "Number of sessions started in the period. " + _SESSION,
        "count of sessions whose first event falls in the period",
        unit=Unit.count, direction=Direction.higher, fn=session_count,
    ),
    _metric(
        "session_duration", "Session duration",
        "Mean length of the sessions started in the period, from first to last event "
        "(a session of one event lasts 0 s). " + _SESSION,
        "mean over sessions started in the period of (last event − first event), seconds",
        unit=Unit.seconds, direction=Direction.higher, fn=session_duration, empty=None,
    ),
    _metric(
        "session_duration_median", "Median session duration",
        "Median length of the sessions started in the period (interpolated between the two "
        "middle sessions when their number is even). " + _SESSION,
        "median over sessions started in the period of (last event − first event), seconds",
        unit=Unit.seconds, direction=Direction.higher, fn=session_duration_median,
        empty=None,
    ),
    _metric(
        "sessions_per_user", "Sessions per user",
        "How many sessions a user with at least one session starts in the period. "
        + _SESSION,
        "sessions / distinct users with a session, in the period",
        unit=Unit.number, direction=Direction.higher, fn=sessions_per_user, empty=None,
    ),
    _metric(
        "pages_per_session", "Pages per session",
        "Page views ($pageview, or $screen in mobile apps) per session. " + _SESSION,
        "$pageview and $screen events in sessions started in the period / those sessions",
        unit=Unit.number, direction=Direction.higher, fn=pages_per_session, empty=None,
    ),
    _metric(
        "bounce_rate", "Bounce rate",
        "Share of sessions with a page view that bounced: exactly one page view, no other "
        "interaction (an active event such as a click), and shorter than 10 s (PostHog's "
        "rule; a session of exactly 10 s is not a bounce). " + _SESSION,
        "bounced sessions / sessions with at least one page view, in the period",
        unit=Unit.rate, direction=Direction.lower, fn=bounce_rate, empty=None,
    ),
    _metric(
        "time_in_app", "Time in app",
        "Seconds an active user spends in the product per day: the length of the day's "
        "sessions over the day's active users. " + _SESSION,
        "sum of the durations of sessions started on the day / active users of the day; "
        "over a week or month, the mean of the daily values",
        unit=Unit.seconds, direction=Direction.higher, fn=time_in_app, rollup=Rollup.mean,
        empty=None,
    ),
)  # fmt: skip
