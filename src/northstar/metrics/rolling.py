"""Trailing-window distinct counts by the running-sum formulation.

Each distinct (keys, user, day) covers the days from that day up to its next active day
or the end of the window, whichever comes first; +1 where a cover starts and −1 where it
ends, summed cumulatively over the days, gives for every day the number of users active
in the trailing window. It reads each user-day once, where a range self-join reads each
one ``window`` times.
"""

from __future__ import annotations

from datetime import timedelta

import ibis
import ibis.expr.types as ir

from northstar.metrics.context import Context


def running_distinct(ctx: Context, rows: ir.Table, who: str, window_days: int) -> ir.Table:
    """Distinct ``who`` over the trailing ``window_days`` days ending on every day of the
    window. ``rows`` has ``day`` (date), ``who`` and the breakdown keys, and must reach
    ``window_days - 1`` days before the window start."""
    keys = ctx.keys
    user_days = rows.select(*keys, who=rows[who], day=rows.day).distinct()
    order = ibis.window(group_by=[*keys, "who"], order_by="day")
    nxt = user_days.day.lead().over(order)
    reach = user_days.day + ibis.interval(days=window_days)
    covers = user_days.mutate(stop=ibis.coalesce(ibis.least(nxt, reach), reach))
    starts = covers.select(*keys, day=covers.day, delta=ibis.literal(1))
    stops = covers.select(*keys, day=covers.stop, delta=ibis.literal(-1))
    deltas = starts.union(stops).group_by([*keys, "day"]).aggregate(delta=ibis._.delta.sum())
    # Every day from the earliest cover to the window end, for every key seen, so that
    # days without a change keep the running value.
    first = ctx.window.start - timedelta(days=window_days)
    calendar = ctx.calendar(first, ctx.window.end)
    if keys:
        calendar = calendar.cross_join(deltas.select(*keys).distinct())
    inside = deltas.filter(deltas.day <= ctx.window.end)
    grid = calendar.left_join(inside, [*keys, "day"]).select(
        *keys, day=calendar.day, delta=ibis.coalesce(inside.delta, 0)
    )
    running = ibis.window(group_by=keys or None, order_by="day", preceding=None, following=0)
    out = grid.mutate(value=grid.delta.sum().over(running))
    out = ctx.sampled(out.filter(out.day >= ctx.window.start), "day")
    return out.select(*keys, period=out.day, value=out.value)
