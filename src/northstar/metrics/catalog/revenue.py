"""Revenue metrics (perspective: financial), following ChartMogul's semantics.

The billing model (MRR per subscription row, customer MRR movements) is in
``billing.py``; this module declares the metrics on top of it.
"""

from __future__ import annotations

from functools import partial

import ibis
import ibis.expr.types as ir

from northstar.metrics.catalog import billing
from northstar.metrics.catalog._build import builtin, ratio
from northstar.metrics.context import Context
from northstar.metrics.spec import (
    Category,
    DerivedDefinition,
    Direction,
    MetricSpec,
    Perspective,
    Rollup,
    Unit,
)
from northstar.settings import Settings

_metric = partial(builtin, category=Category.revenue, perspective=Perspective.financial)
_ratio = partial(ratio, category=Category.revenue, perspective=Perspective.financial)
_BILLING = ("subscriptions", "customers", "fx_rates")
_MRR_RULE = (
    "MRR counts non-trial paid subscription rows, normalised to a month (annual ÷ 12, "
    "quarterly ÷ 3, weekly × 52/12), after discounts, in the workspace currency."
)


def _derived(
    id: str,
    title: str,
    description: str,
    expression: str,
    *,
    unit: Unit,
    direction: Direction,
    sources: tuple[str, ...],
    make: object = None,
    rollup: Rollup = Rollup.flow,
) -> MetricSpec:
    return MetricSpec(
        id=id, title=title, description=description, formula=expression, unit=unit,
        direction=direction, category=Category.revenue, perspective=Perspective.financial,
        definition=DerivedDefinition(expression, make),  # type: ignore[arg-type]
        sources=sources, rollup=rollup, empty=None,
    )  # fmt: skip


# -- stocks ---------------------------------------------------------------------------
def mrr(ctx: Context) -> ir.Table:
    changes = billing.mrr_changes(ctx)
    return billing.daily_stock(ctx, changes.select(*ctx.keys, "day", "delta"))


def paying_customers(ctx: Context) -> ir.Table:
    return billing.daily_stock(ctx, billing.customer_count_deltas(ctx))


def mrr_at_start(ctx: Context) -> ir.Table:
    changes = billing.mrr_changes(ctx)
    return billing.stock_before_periods(ctx, changes.select(*ctx.keys, "day", "delta"))


def customers_at_start(ctx: Context) -> ir.Table:
    return billing.stock_before_periods(ctx, billing.customer_count_deltas(ctx))


# -- movements ------------------------------------------------------------------------
def new_mrr(ctx: Context) -> ir.Table:
    return billing.movement(ctx, ("new",))


def expansion_mrr(ctx: Context) -> ir.Table:
    return billing.movement(ctx, ("expansion",))


def reactivation_mrr(ctx: Context) -> ir.Table:
    return billing.movement(ctx, ("reactivation",))


def contraction_mrr(ctx: Context) -> ir.Table:
    return billing.movement(ctx, ("contraction",), sign=-1)


def churned_mrr(ctx: Context) -> ir.Table:
    return billing.movement(ctx, ("churn",), sign=-1)


def net_new_mrr(ctx: Context) -> ir.Table:
    kinds = ("new", "expansion", "reactivation", "contraction", "churn")
    return billing.movement(ctx, kinds)


def churned_customers(ctx: Context) -> ir.Table:
    """Customers whose MRR went to zero in the period; by default not those who also
    started (new or reactivated) in the same period."""
    states = ctx.in_window(billing.customer_states(ctx), "day")
    states = states.mutate(period=ctx.period(states.day))
    per = states.group_by(["period", *ctx.keys, "customer_id"]).aggregate(
        churned=(states.kind == "churn").any(),
        started=states.kind.isin(["new", "reactivation"]).any(),
    )
    counted = per.churned
    if not ctx.settings.revenue.count_same_period_churn:
        counted = counted & ~per.started
    per = per.filter(counted)
    return per.group_by(["period", *ctx.keys]).aggregate(value=per.customer_id.nunique())


def new_paying_customers(ctx: Context) -> ir.Table:
    states = ctx.in_window(billing.customer_states(ctx), "day")
    states = states.filter(states.kind == "new")
    return ctx.by_period(states, states.customer_id.nunique())


# -- retention over a window ----------------------------------------------------------
def _retention(ctx: Context, *, gross: bool) -> ir.Table:
    """Σ over customers paying at (period end − N months) of their MRR at the period end
    (capped at their start MRR for GRR) / Σ of their start MRR."""
    from dateutil.relativedelta import relativedelta

    from northstar.metrics.periods import period_last_day

    months = ctx.settings.revenue.nrr_window_months
    keys = ctx.keys
    ends = [min(period_last_day(p, ctx.grain), ctx.window.end) for p in ctx.window.periods()]
    grid = ibis.memtable(
        {
            "period": ctx.window.periods(),
            "end_day": ends,
            "start_day": [e - relativedelta(months=months) for e in ends],
        },
        schema={"period": "date", "end_day": "date", "start_day": "date"},
    )
    states = billing.customer_states(ctx).select(*keys, "customer_id", "day", "after")
    customers = states.select(*keys, "customer_id").distinct()
    pairs = grid.cross_join(customers)

    def state_at(left: ir.Table, day: str, prefix: str) -> ir.Table:
        right = states.rename({f"{prefix}{c}": c for c in states.columns})
        preds = [left[c] == right[f"{prefix}{c}"] for c in (*keys, "customer_id")]
        joined = left.asof_join(right, on=left[day] >= right[f"{prefix}day"], predicates=preds)
        return joined.mutate(**{f"{prefix}mrr": joined[f"{prefix}after"]}).select(
            *left.columns, f"{prefix}mrr"
        )

    at_start = state_at(pairs, "start_day", "s_")
    at_start = at_start.filter(at_start.s_mrr > 0)
    both = state_at(at_start, "end_day", "e_").rename(start_mrr="s_mrr", e_after="e_mrr")
    end_mrr = both.e_after
    if gross:
        end_mrr = ibis.least(end_mrr, both.start_mrr)
    out = both.group_by([both.period, *[both[k] for k in keys]]).aggregate(
        kept=end_mrr.sum(), start=both.start_mrr.sum()
    )
    return out.select("period", *keys, value=out.kept.cast("float64") / out.start.cast("float64"))


def nrr(ctx: Context) -> ir.Table:
    return _retention(ctx, gross=False)


def grr(ctx: Context) -> ir.Table:
    return _retention(ctx, gross=True)


# -- revenue, orders and costs --------------------------------------------------------
def _invoices(ctx: Context) -> ir.Table:
    """Subscription payments: one invoice per non-trial row, at its start."""
    subs = ctx.table("subscriptions")
    subs = subs.filter(subs.status != "trialing")
    subs = ctx.in_window(subs, "started_at")
    subs = subs.mutate(day=ctx.local_date(subs.started_at))
    subs = billing.fx_rate(ctx, subs, "currency", "day")
    subs = subs.mutate(
        amount_home=(subs.amount * subs.quantity - subs.discount).cast("float64") * subs.rate
    )
    subs = subs.filter(subs.amount_home > 0)
    return ctx.segment(subs, "subscriptions")


def _orders(ctx: Context) -> ir.Table:
    orders = ctx.in_window(ctx.table("orders"), "ordered_at")
    orders = orders.mutate(day=ctx.local_date(orders.ordered_at))
    orders = billing.fx_rate(ctx, orders, "currency", "day")
    orders = orders.mutate(amount_home=orders.amount.cast("float64") * orders.rate)
    return ctx.segment(orders, "orders")


def revenue_items(ctx: Context) -> ir.Table:
    """Every revenue item of the window (subscription invoices and orders): the keys,
    ``customer_id``, ``day`` (local date) and ``amount_home`` (workspace currency). The
    ``revenue`` metric sums them; the LTV cohort table (``metrics/cohorts.py``) too."""
    cols = [*ctx.keys, "customer_id", "day", "amount_home"]
    parts = [t.select(*cols) for t in (_invoices(ctx), _orders(ctx))]
    return parts[0].union(parts[1])


def revenue(ctx: Context) -> ir.Table:
    both = revenue_items(ctx)
    return ctx.by_period(both, both.amount_home.sum())


def orders_count(ctx: Context) -> ir.Table:
    orders = _orders(ctx)
    return ctx.by_period(orders, ibis._.count())


def order_revenue(ctx: Context) -> ir.Table:
    orders = _orders(ctx)
    return ctx.by_period(orders, orders.amount_home.sum())


def buyers(ctx: Context) -> ir.Table:
    orders = _orders(ctx)
    return ctx.by_period(orders, orders.customer_id.nunique())


def _costs(ctx: Context, categories: list[str] | None) -> ir.Table:
    costs = ctx.in_window(ctx.table("costs"), "date")
    if categories is not None:
        costs = costs.filter(costs.category.isin(categories))
    costs = costs.mutate(day=costs.date)
    costs = billing.fx_rate(ctx, costs, "currency", "day")
    costs = costs.mutate(amount_home=costs.amount.cast("float64") * costs.rate)
    return ctx.segment(costs, "costs")


def cogs(ctx: Context) -> ir.Table:
    costs = _costs(ctx, ["cogs"])
    return ctx.by_period(costs, costs.amount_home.sum())


def total_costs(ctx: Context) -> ir.Table:
    keys = ctx.keys
    costs = _costs(ctx, None).select(*keys, "day", "amount_home")
    spend = ctx.in_window(ctx.table("marketing_spend"), "date")
    spend = spend.mutate(day=spend.date)
    spend = billing.fx_rate(ctx, spend, "currency", "day")
    spend = ctx.segment(spend, "marketing_spend")
    spend = spend.select(*keys, "day", amount_home=spend.spend.cast("float64") * spend.rate)
    both = costs.union(spend)
    return ctx.by_period(both, both.amount_home.sum())


def margin_for_ltv(ctx: Context) -> ir.Table:
    """Gross margin of the period, or 1 (100 %) when no cost of goods is recorded."""
    rev = revenue(ctx)
    cost = cogs(ctx).rename(cost="value")
    keys = ["period", *ctx.keys]
    joined = rev.left_join(cost, keys)
    value = ibis.cases(
        (joined.cost.isnull(), 1.0), else_=(joined.value - joined.cost) / joined.value
    )
    return joined.select(*[joined[k] for k in keys], value=value)


def _ltv_expression(settings: Settings) -> str:
    n = settings.revenue.ltv_churn_months
    churn = " + ".join(
        ["customer_churn_rate"] + [f"customer_churn_rate[-{i}]" for i in range(1, n)]
    )
    return f"arpu * margin_for_ltv / (({churn}) / {n})"


METRICS: list[MetricSpec] = [
    _metric(
        "mrr", "MRR", "Monthly recurring revenue at the end of the day. " + _MRR_RULE,
        "sum of the monthly-normalised amount of paid subscriptions active at the end "
        "of the day; for a period, the value at its end",
        unit=Unit.currency, direction=Direction.higher, fn=mrr, sources=_BILLING,
        rollup=Rollup.end,
    ),
    _derived(
        "arr", "ARR", "Annual recurring revenue: MRR × 12.", "mrr * 12",
        unit=Unit.currency, direction=Direction.higher, sources=_BILLING,
    ),
    _metric(
        "mrr_start", "MRR at start", "MRR at the end of the day before the period starts.",
        "MRR at the start of the period",
        unit=Unit.currency, direction=Direction.higher, fn=mrr_at_start, sources=_BILLING,
    ),
    _metric(
        "new_mrr", "New MRR", "MRR from customers' first paid subscription.",
        "sum of MRR increases from zero of customers who never paid before",
        unit=Unit.currency, direction=Direction.higher, fn=new_mrr, sources=_BILLING,
    ),
    _metric(
        "expansion_mrr", "Expansion MRR",
        "MRR added by paying customers (upgrades, more seats, another subscription).",
        "sum of increases of customers' MRR that was already above zero",
        unit=Unit.currency, direction=Direction.higher, fn=expansion_mrr, sources=_BILLING,
    ),
    _metric(
        "contraction_mrr", "Contraction MRR",
        "MRR lost by customers who still pay (downgrades, fewer seats); reported positive.",
        "sum of decreases of customers' MRR that stays above zero",
        unit=Unit.currency, direction=Direction.lower, fn=contraction_mrr, sources=_BILLING,
    ),
    _metric(
        "churned_mrr", "Churned MRR",
        "MRR lost by customers whose MRR fell to zero; reported positive.",
        "sum of the MRR of customers at the moment it falls to zero",
        unit=Unit.currency, direction=Direction.lower, fn=churned_mrr, sources=_BILLING,
    ),
    _metric(
        "reactivation_mrr", "Reactivation MRR",
        "MRR of former paying customers who pay again.",
        "sum of MRR increases from zero of customers who paid before",
        unit=Unit.currency, direction=Direction.higher, fn=reactivation_mrr, sources=_BILLING,
    ),
    _metric(
        "net_new_mrr", "Net new MRR",
        "The period's MRR change: MRR at the end = MRR at the start + net new MRR.",
        "new + expansion + reactivation − contraction − churned MRR",
        unit=Unit.currency, direction=Direction.higher, fn=net_new_mrr, sources=_BILLING,
    ),
    _metric(
        "paying_customers", "Paying customers",
        "Customers with MRR above zero at the end of the day.",
        "count of customers with MRR > 0; for a period, at its end",
        unit=Unit.count, direction=Direction.higher, fn=paying_customers, sources=_BILLING,
        rollup=Rollup.end,
    ),
    _metric(
        "paying_customers_start", "Paying customers at start",
        "Customers with MRR above zero at the end of the day before the period starts.",
        "count of customers with MRR > 0 at the start of the period",
        unit=Unit.count, direction=Direction.higher, fn=customers_at_start, sources=_BILLING,
    ),
    _metric(
        "new_paying_customers", "New paying customers",
        "Customers whose first paid subscription starts in the period.",
        "count of customers with a 'new' MRR movement in the period",
        unit=Unit.count, direction=Direction.higher, fn=new_paying_customers,
        sources=_BILLING,
    ),
    _metric(
        "churned_customers", "Churned customers",
        "Customers whose MRR fell to zero in the period (those who also started in it are "
        "left out unless revenue.count_same_period_churn is true).",
        "count of customers with a churn movement in the period",
        unit=Unit.count, direction=Direction.lower, fn=churned_customers, sources=_BILLING,
    ),
    _ratio(
        "customer_churn_rate", "Customer churn rate",
        "Share of the customers paying at the start of the period whose MRR went to zero "
        "in it. Churn is dated at the end of the paid period (or at cancellation: "
        "revenue.churn_recognition).",
        "churned customers / paying customers at the start of the period",
        numerator="churned_customers", denominator="paying_customers_start",
        unit=Unit.rate, direction=Direction.lower, sources=_BILLING,
    ),
    _derived(
        "gross_mrr_churn", "Gross MRR churn",
        "MRR lost to churn and contraction, as a share of MRR at the start of the period.",
        "(churned_mrr + contraction_mrr) / mrr_start",
        unit=Unit.rate, direction=Direction.lower, sources=_BILLING,
    ),
    _derived(
        "net_mrr_churn", "Net MRR churn",
        "MRR lost to churn and contraction minus MRR won from expansion and reactivation, "
        "as a share of MRR at the start; negative when existing customers grow.",
        "(churned_mrr + contraction_mrr - expansion_mrr - reactivation_mrr) / mrr_start",
        unit=Unit.rate, direction=Direction.lower, sources=_BILLING,
    ),
    _derived(
        "quick_ratio", "SaaS quick ratio",
        "MRR gained per unit of MRR lost (healthy above 4).",
        "(new_mrr + expansion_mrr + reactivation_mrr) / (contraction_mrr + churned_mrr)",
        unit=Unit.ratio, direction=Direction.higher, sources=_BILLING,
    ),
    _ratio(
        "arpu", "ARPU (ARPA)",
        "Average MRR per paying customer (a customer with several subscriptions counts "
        "once), at the end of the period.",
        "mrr / paying customers",
        numerator="mrr", denominator="paying_customers",
        unit=Unit.currency, direction=Direction.higher, sources=_BILLING,
    ),
    _ratio(
        "arpu_new", "ARPU of new customers",
        "Average starting MRR of the customers acquired in the period (e.g. to see a "
        "price change land).",
        "new_mrr / new paying customers",
        numerator="new_mrr", denominator="new_paying_customers",
        unit=Unit.currency, direction=Direction.higher, sources=_BILLING,
    ),
    _metric(
        "nrr", "Net revenue retention",
        "MRR today of the customers who paid N months ago (revenue.nrr_window_months, "
        "default 12), as a share of their MRR then; new customers excluded, expansion "
        "and reactivation included.",
        "Σ MRR at the period end of customers paying N months earlier / Σ their MRR then",
        unit=Unit.rate, direction=Direction.higher, fn=nrr, sources=_BILLING, empty=None,
    ),
    _metric(
        "grr", "Gross revenue retention",
        "As NRR, but each customer's MRR is capped at its starting value, so expansion "
        "does not count; never above 100 %.",
        "Σ min(MRR at the end, MRR N months earlier) / Σ MRR N months earlier",
        unit=Unit.rate, direction=Direction.higher, fn=grr, sources=_BILLING, empty=None,
    ),
    _metric(
        "revenue", "Revenue",
        "Recognised revenue: subscription payments (one invoice per paid period, at its "
        "start) plus orders, tax excluded, in the workspace currency.",
        "sum of paid subscription periods starting in the period + sum of orders",
        unit=Unit.currency, direction=Direction.higher, fn=revenue,
        sources=("subscriptions", "orders", "fx_rates"),
    ),
    _derived(
        "revenue_growth", "Revenue growth",
        "Change in revenue from the previous period.",
        "(revenue - revenue[-1]) / revenue[-1]",
        unit=Unit.rate, direction=Direction.higher, sources=("subscriptions", "orders"),
    ),
    _metric(
        "orders", "Orders", "Number of one-time orders.", "count of orders",
        unit=Unit.count, direction=Direction.higher, fn=orders_count, sources=("orders",),
    ),
    _metric(
        "order_revenue", "Order revenue", "Revenue from one-time orders.",
        "sum of order amounts in the workspace currency",
        unit=Unit.currency, direction=Direction.higher, fn=order_revenue,
        sources=("orders", "fx_rates"),
    ),
    _metric(
        "buyers", "Buyers", "Distinct customers with an order.",
        "count of distinct customers with an order",
        unit=Unit.count, direction=Direction.higher, fn=buyers, sources=("orders",),
    ),
    _ratio(
        "aov", "Average order value", "Revenue from orders per order.",
        "order revenue / orders",
        numerator="order_revenue", denominator="orders",
        unit=Unit.currency, direction=Direction.higher, sources=("orders", "fx_rates"),
    ),
    _metric(
        "cogs", "Cost of goods sold", "Costs in the 'cogs' category.",
        "sum of costs with category cogs, in the workspace currency",
        unit=Unit.currency, direction=Direction.lower, fn=cogs, sources=("costs",),
    ),
    _metric(
        "total_costs", "Total costs",
        "Every recorded cost (costs table, all categories) plus marketing spend.",
        "sum of costs + sum of marketing spend, in the workspace currency",
        unit=Unit.currency, direction=Direction.lower, fn=total_costs,
        sources=("costs", "marketing_spend"),
    ),
    _derived(
        "gross_margin", "Gross margin", "Share of revenue left after the cost of goods sold.",
        "(revenue - cogs) / revenue",
        unit=Unit.rate, direction=Direction.higher, sources=("subscriptions", "orders", "costs"),
    ),
    _derived(
        "profit_margin", "Profit margin", "Share of revenue left after all costs.",
        "(revenue - total_costs) / revenue",
        unit=Unit.rate, direction=Direction.higher,
        sources=("subscriptions", "orders", "costs", "marketing_spend"),
    ),
    _metric(
        "margin_for_ltv", "Gross margin for LTV",
        "Gross margin of the period, or 100 % when no cost of goods sold is recorded "
        "(LTV then assumes no COGS).",
        "(revenue − cogs) / revenue, or 1 without cogs rows",
        unit=Unit.rate, direction=Direction.higher, fn=margin_for_ltv,
        sources=("subscriptions", "orders", "costs"), empty=None,
    ),
    _derived(
        "ltv", "Customer lifetime value",
        "ARPU × gross margin / customer churn rate, the churn rate averaged over the "
        "trailing periods set by revenue.ltv_churn_months (default 6, meant for month "
        "grain). Gross margin is 100 % when no costs are recorded.",
        "arpu * margin_for_ltv / mean(customer_churn_rate over the last N periods)",
        make=_ltv_expression,
        unit=Unit.currency, direction=Direction.higher, sources=(*_BILLING, "costs"),
    ),
    _derived(
        "ltv_cac", "LTV:CAC", "Lifetime value per unit of acquisition cost (healthy ≥ 3).",
        "ltv / cac",
        unit=Unit.ratio, direction=Direction.higher,
        sources=(*_BILLING, "costs", "marketing_spend"),
    ),
    _derived(
        "cac_payback", "CAC payback",
        "Months of a new customer's gross-margin MRR needed to repay its acquisition cost "
        "(healthy under 12).",
        "cac / (arpu_new * margin_for_ltv)",
        unit=Unit.months, direction=Direction.lower,
        sources=(*_BILLING, "costs", "marketing_spend"),
    ),
]  # fmt: skip
