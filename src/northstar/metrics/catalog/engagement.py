"""Engagement metrics (perspective: customer): active users, stickiness, new users, churn."""

from __future__ import annotations

from functools import partial

import ibis
import ibis.expr.types as ir

from northstar.metrics.catalog._build import builtin, days_back, grain_interval
from northstar.metrics.context import Context
from northstar.metrics.rolling import running_distinct
from northstar.metrics.spec import Category, Direction, Perspective, Rollup, Unit

_metric = partial(builtin, category=Category.engagement, perspective=Perspective.customer)
_ACTIVE = (
    "An active user did at least one active event (every event except the passive ones "
    "in the settings); users are persons after identity merging."
)


def distinct_active(ctx: Context) -> ir.Table:
    """Distinct active persons per period (DAU at day grain, active users at any grain)."""
    rows = ctx.active_events(distinct=False)  # counted distinct below: one de-duplication
    return ctx.by_period(rows, rows.person_id.nunique())


def wau(ctx: Context) -> ir.Table:
    return running_distinct(ctx, ctx.active_events(lookback_days=6), "person_id", 7)


def mau(ctx: Context) -> ir.Table:
    return running_distinct(ctx, ctx.active_events(lookback_days=29), "person_id", 30)


def stickiness(ctx: Context) -> ir.Table:
    daily = distinct_active(ctx)
    monthly = mau(ctx).rename(mau="value")
    keys = ["period", *ctx.keys]
    joined = daily.join(monthly, keys)
    return joined.select(*keys, value=joined.value / joined.mau)


def usage_frequency(ctx: Context) -> ir.Table:
    rows = ctx.active_events()
    rows = rows.mutate(period=ctx.period(rows.day))
    per_user = rows.group_by(["period", *ctx.keys, "person_id"]).aggregate(days=rows.day.nunique())
    return per_user.group_by(["period", *ctx.keys]).aggregate(value=per_user.days.mean())


def user_churn_rate(ctx: Context) -> ir.Table:
    rows = ctx.active_events(lookback_days=days_back(ctx, 1))
    rows = rows.mutate(period=ctx.period(rows.day))
    present = rows.select("period", *ctx.keys, "person_id").distinct()
    before = present.mutate(period=(present.period + grain_interval(ctx.grain)).cast("date"))
    now = present.select("period", *ctx.keys, "person_id", here=ibis.literal(1))
    joined = before.left_join(now, ["period", *ctx.keys, "person_id"])
    out = joined.group_by([before.period, *[before[k] for k in ctx.keys]]).aggregate(
        previous=before.person_id.count(), stayed=joined.here.count()
    )
    return out.select("period", *ctx.keys, value=(out.previous - out.stayed) / out.previous)


def new_users(ctx: Context) -> ir.Table:
    events = ctx.table("events")
    events = events.filter(ctx.is_active(events.event))
    events = ctx.before_end(events, "timestamp")
    first = events.group_by(user_id=events.person_id).aggregate(first_seen=events.timestamp.min())
    users = ctx.table("users")
    people = first.outer_join(users, first.user_id == users.user_id).select(
        user_id=ibis.coalesce(users.user_id, first.user_id),
        created_at=ibis.coalesce(users.created_at, first.first_seen),
        properties=ibis.coalesce(users.properties, ibis.literal("{}").cast("json")),
    )
    people = ctx.in_window(people, "created_at")
    people = ctx.segment(people, "users")
    people = people.mutate(day=ctx.local_date(people.created_at))
    return ctx.by_period(people, people.user_id.nunique())


METRICS = [
    _metric(
        "dau", "Daily active users", "Distinct active users on the day. " + _ACTIVE,
        "count of distinct active users per day; over a week or month, the mean daily value",
        unit=Unit.count, direction=Direction.higher, fn=distinct_active, sources=("events",),
        rollup=Rollup.mean,
    ),
    _metric(
        "wau", "Weekly active users",
        "Distinct active users in the 7 days ending on the day (rolling). " + _ACTIVE,
        "count of distinct active users in the 7 days ending on the day; for a longer "
        "period, the value on its last day",
        unit=Unit.count, direction=Direction.higher, fn=wau, sources=("events",),
        rollup=Rollup.end,
    ),
    _metric(
        "mau", "Monthly active users",
        "Distinct active users in the 30 days ending on the day (rolling). " + _ACTIVE,
        "count of distinct active users in the 30 days ending on the day; for a longer "
        "period, the value on its last day",
        unit=Unit.count, direction=Direction.higher, fn=mau, sources=("events",),
        rollup=Rollup.end,
    ),
    _metric(
        "active_users", "Active users",
        "Distinct active users in the calendar period (day, week, month, ...). " + _ACTIVE,
        "count of distinct users with an active event in the period",
        unit=Unit.count, direction=Direction.higher, fn=distinct_active, sources=("events",),

    ),
    _metric(
        "stickiness", "Stickiness (DAU/MAU)",
        "How many of the month's active users come back on a given day.",
        "dau / mau on each day; over a longer period, the mean of the daily ratios",
        unit=Unit.rate, direction=Direction.higher, fn=stickiness, sources=("events",),
        rollup=Rollup.mean, empty=None,
    ),
    _metric(
        "new_users", "New users",
        "Users whose sign-up (users.created_at) or, for users without one, first-ever "
        "activity falls in the period.",
        "count of users with created_at (else first active event) in the period",
        unit=Unit.count, direction=Direction.higher, fn=new_users,
        sources=("users", "events"),
    ),
    _metric(
        "usage_frequency", "Usage frequency",
        "How many days in the period an active user is active, on average.",
        "mean over active users of their number of active days in the period",
        unit=Unit.number, direction=Direction.higher, fn=usage_frequency,
        sources=("events",), empty=None,
    ),
    _metric(
        "user_churn_rate", "User churn rate",
        "Share of the previous period's active users who were not active in this period "
        "(1 − user_churn_rate is period-over-period retention).",
        "users active in the previous period and not in this one / users active in the "
        "previous period",
        unit=Unit.rate, direction=Direction.lower, fn=user_churn_rate, sources=("events",),
        empty=None,
    ),
]  # fmt: skip
