"""The billing model behind the revenue metrics (ChartMogul semantics).

* Each non-trial subscription row contributes MRR = (amount × quantity − discount)
  normalised to a month (year ÷ 12, quarter ÷ 3, week × 52 ÷ 12), converted to the
  workspace currency at the rate in force on the row's start day, rounded to 4 decimals
  (so every later sum is exact). Free rows (MRR 0) and trials contribute nothing;
  past-due rows count unless ``revenue.past_due_counts_as_mrr`` is false.
* A row counts at the end of day d when local date(started_at) <= d and it has not ended
  by then (local date of its end > d). The end is ``ended_at``, or the cancellation time
  when ``revenue.churn_recognition`` is ``cancellation``.
* A customer's MRR changes on the days rows start or end. Each day with a net change is
  one movement: new (first MRR ever), reactivation (from zero again), expansion,
  contraction (down, above zero) or churn (to zero). The movements of a period sum to
  its MRR change, so end MRR = start MRR + net new MRR exactly.
"""

from __future__ import annotations

from datetime import timedelta

import ibis
import ibis.expr.types as ir

from northstar.errors import MetricError
from northstar.metrics.context import Context
from northstar.settings import ChurnRecognition

MONEY = "decimal(18, 4)"
_PER_MONTH = {"month": 1.0, "year": 1 / 12, "quarter": 1 / 3, "week": 52 / 12}


def fx_rate(ctx: Context, t: ir.Table, currency: str, day: str) -> ir.Table:
    """``t`` with ``rate``: units of workspace currency per unit of ``t[currency]`` on
    ``t[day]`` (the latest rate on or before that day; before the first rate, the first)."""
    home = ctx.settings.currency
    fx = ctx.table("fx_rates")
    missing = ctx.missing_rates(t[currency])
    if missing:
        raise MetricError(
            f"no exchange rate into {home} for {', '.join(missing)}; import rates into "
            "the fx_rates table (date, currency, rate)"
        )
    rates = fx.select(__fx_cur=fx.currency, __fx_day=fx.date, __fx_rate=fx.rate)
    first = rates.group_by("__fx_cur").aggregate(__fx_first=rates.__fx_rate.argmin(rates.__fx_day))
    # Rows share few (currency, day) pairs: each pair's rate is looked up once (an as-of
    # join sorts both of its sides) and handed to the rows by a hash join.
    foreign = t.filter(t[currency] != home)
    pairs = foreign.select(__fx_key_cur=foreign[currency], __fx_key_day=foreign[day]).distinct()
    found = pairs.asof_join(
        rates,
        on=pairs.__fx_key_day >= rates.__fx_day,
        predicates=pairs.__fx_key_cur == rates.__fx_cur,
    )
    found = found.left_join(first, found.__fx_key_cur == first.__fx_cur)
    found = found.select(
        "__fx_key_cur", "__fx_key_day", __fx_pair=ibis.coalesce(found.__fx_rate, found.__fx_first)
    )
    joined = t.left_join(
        found,
        [t[currency] == found.__fx_key_cur, t[day].identical_to(found.__fx_key_day)],
    )
    rate = ibis.cases((joined[currency] == home, 1.0), else_=joined.__fx_pair)
    drop = [c for c in joined.columns if c.startswith("__fx_")]
    return joined.mutate(rate=rate).drop(*drop)


def subscription_rows(ctx: Context) -> ir.Table:
    """Subscription rows that can carry MRR (not trials; past-due per the settings),
    segmented, with ``mrr`` (0 unless positive), ``start_day`` and ``stop_day`` (null
    while open)."""
    subs = ctx.table("subscriptions")
    # Imports admit the statuses trialing, active, past_due and canceled.
    ignored = ["trialing"]
    if not ctx.settings.revenue.past_due_counts_as_mrr:
        ignored.append("past_due")
    subs = subs.filter(~subs.status.isin(ignored))
    subs = ctx.before_end(subs, "started_at")
    subs = subs.mutate(start_day=ctx.local_date(subs.started_at))
    subs = fx_rate(ctx, subs, "currency", "start_day")
    factor = ibis.cases(*[(subs.interval == i, f) for i, f in _PER_MONTH.items()])
    per_interval = subs.amount * subs.quantity - subs.discount
    mrr = (per_interval.cast("float64") * factor * subs.rate).round(4).cast(MONEY)
    end = subs.ended_at
    if ctx.settings.revenue.churn_recognition is ChurnRecognition.cancellation:
        end = ibis.coalesce(ibis.least(subs.ended_at, subs.canceled_at), subs.canceled_at, end)
    # A row without positive MRR (free, over-discounted, no known interval) counts as 0
    # rather than being filtered out: every use of the rows is a sum, and a filter on
    # the computed MRR is pushed below its projection by the engine, which then works
    # the whole expression out twice per row.
    subs = subs.mutate(
        mrr=ibis.greatest(mrr, ibis.literal(0).cast(MONEY)), stop_day=ctx.local_date(end)
    )
    return ctx.segment(subs, "subscriptions")


def mrr_changes(ctx: Context) -> ir.Table:
    """Every MRR change of a subscription row: +MRR on its start day, −MRR on its stop day
    (keys, ``customer_id``, ``day``, ``delta``)."""
    rows = subscription_rows(ctx)
    keys = ctx.keys
    starts = rows.select(*keys, customer_id=rows.customer_id, day=rows.start_day, delta=rows.mrr)
    stops = rows.filter(rows.stop_day.notnull())
    stops = stops.select(*keys, customer_id=stops.customer_id, day=stops.stop_day, delta=-stops.mrr)
    return starts.union(stops)


def mrr_deltas(ctx: Context) -> ir.Table:
    """Net MRR change per (keys, customer, day)."""
    both = mrr_changes(ctx)
    return both.group_by([*ctx.keys, "customer_id", "day"]).aggregate(delta=both.delta.sum())


def customer_states(ctx: Context) -> ir.Table:
    """One row per customer and day their MRR changed: ``before``, ``after`` and ``kind``."""
    keys = ctx.keys
    deltas = mrr_deltas(ctx)
    deltas = deltas.filter(deltas.delta != 0)
    running = ibis.window(
        group_by=[*keys, "customer_id"], order_by="day", preceding=None, following=0
    )
    states = deltas.mutate(after=deltas.delta.sum().over(running))
    states = states.mutate(before=states.after - states.delta)
    first = ibis.window(group_by=[*keys, "customer_id"])
    states = states.mutate(first_day=states.day.min().over(first))
    zero = ibis.literal(0).cast(MONEY)
    kind = ibis.cases(
        ((states.before == zero) & (states.day == states.first_day), "new"),
        (states.before == zero, "reactivation"),
        (states.after == zero, "churn"),
        (states.after > states.before, "expansion"),
        else_="contraction",
    )
    return states.mutate(kind=kind)


def movement(ctx: Context, kinds: tuple[str, ...], sign: int = 1) -> ir.Table:
    """Sum of MRR movements of ``kinds`` per period (``sign`` -1 reports losses positive)."""
    states = customer_states(ctx)
    states = ctx.in_window(states, "day")
    states = states.filter(states.kind.isin(list(kinds)))
    amount = (states.after - states.before) * sign
    return ctx.by_period(states.mutate(amount=amount), ibis._.amount.sum())


def daily_stock(ctx: Context, deltas: ir.Table) -> ir.Table:
    """Running total of ``deltas`` (keys, day, delta) at the end of every window day (or
    of every day in ``ctx.sample_days``)."""
    keys = ctx.keys
    per_day = deltas.group_by([*keys, "day"]).aggregate(delta=deltas.delta.sum())
    running = ibis.window(group_by=keys or None, order_by="day", preceding=None, following=0)
    totals = per_day.mutate(total=per_day.delta.sum().over(running)).drop("delta")
    calendar = ctx.stock_days()
    if keys:
        calendar = calendar.cross_join(per_day.select(*keys).distinct())
    preds = [calendar[k] == totals[k] for k in keys]
    joined = calendar.asof_join(totals, on=calendar.day >= totals.day, predicates=preds)
    return joined.select(
        *[joined[k] for k in keys], period=joined.day, value=ibis.coalesce(joined.total, 0)
    )


def stock_before_periods(ctx: Context, deltas: ir.Table) -> ir.Table:
    """Running total of ``deltas`` at the end of the day before each period starts."""
    keys = ctx.keys
    per_day = deltas.group_by([*keys, "day"]).aggregate(delta=deltas.delta.sum())
    running = ibis.window(group_by=keys or None, order_by="day", preceding=None, following=0)
    totals = per_day.mutate(total=per_day.delta.sum().over(running)).drop("delta")
    starts = ctx.window.periods()
    grid = ibis.memtable(
        {"period": starts, "eve": [p - timedelta(days=1) for p in starts]},
        schema={"period": "date", "eve": "date"},
    )
    if keys:
        grid = grid.cross_join(per_day.select(*keys).distinct())
    preds = [grid[k] == totals[k] for k in keys]
    joined = grid.asof_join(totals, on=grid.eve >= totals.day, predicates=preds)
    return joined.select(
        *[joined[k] for k in keys], period=joined.period, value=ibis.coalesce(joined.total, 0)
    )


def customer_count_deltas(ctx: Context) -> ir.Table:
    """+1 when a customer's MRR rises from zero, −1 when it falls to zero."""
    states = customer_states(ctx)
    step = ibis.cases(
        (states.kind.isin(["new", "reactivation"]), 1), (states.kind == "churn", -1), else_=0
    )
    return states.select(*ctx.keys, day=states.day, delta=step)
