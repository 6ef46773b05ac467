"""Satisfaction metrics (perspective: customer): NPS, CSAT, CES, USS and support tickets.

Survey scores come from ``survey_responses`` (one row per answer, with the survey's scale
stored on the row); support metrics from ``support_tickets``. ``feedback`` (the comments
behind a score) is qualitative and has no series: it is a list, ``metrics/feedback.py``.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from statistics import NormalDist

import ibis
import ibis.expr.types as ir

from northstar.errors import FilterError
from northstar.metrics import filters
from northstar.metrics.catalog._build import builtin
from northstar.metrics.context import Context
from northstar.metrics.periods import period_last_day
from northstar.metrics.spec import Category, Direction, Perspective, Unit
from northstar.settings import ChurnRecognition

_metric = partial(builtin, category=Category.satisfaction, perspective=Perspective.customer)

Z95 = NormalDist().inv_cdf(0.975)  # 1.959964...: two-sided 95 %
PROMOTER_MIN = 9  # NPS: 9-10 promote, 0-6 detract, 7-8 are passive
DETRACTOR_MAX = 6


def responses(ctx: Context, survey: str) -> ir.Table:
    """Answers to ``survey`` in the window, segmented, with ``day`` (local date)."""
    rows = ctx.rows("survey_responses", "responded_at")
    return rows.filter(rows.survey == survey)


# -- NPS -------------------------------------------------------------------------------
def promoter_counts(ctx: Context, r: ir.Table) -> ir.Table:
    """Per period and keys of answers ``r`` (0-10 scores, with ``day``): ``n`` answers,
    ``promoters`` (9-10) and ``detractors`` (0-6). NPS and the team's eNPS share it."""
    r = r.mutate(period=ctx.period(r.day))
    return r.group_by(["period", *ctx.keys]).aggregate(
        n=r.count(),
        promoters=r.score.count(where=r.score >= PROMOTER_MIN),
        detractors=r.score.count(where=r.score <= DETRACTOR_MAX),
    )


def nps_counts(ctx: Context) -> ir.Table:
    """Per period and keys: ``n`` responses, ``promoters`` and ``detractors``."""
    return promoter_counts(ctx, responses(ctx, "nps"))


def nps(ctx: Context) -> ir.Table:
    c = nps_counts(ctx)
    return c.select("period", *ctx.keys, value=100.0 * (c.promoters - c.detractors) / c.n)


def nps_responses(ctx: Context) -> ir.Table:
    c = nps_counts(ctx)
    return c.select("period", *ctx.keys, value=c.n)


def _nps_bound(ctx: Context, sign: int) -> ir.Table:
    # Adjusted Wald (Rocks 2016, as in Sauro & Lewis): add 3 to n and 3/4 to promoters
    # and to detractors, then a normal interval for the difference of two shares of one
    # multinomial sample; clipped to the score's range.
    c = nps_counts(ctx)
    n = c.n + 3.0
    p = (c.promoters + 0.75) / n
    d = (c.detractors + 0.75) / n
    score = p - d
    se = ((p + d - score * score) / n).sqrt()
    bound = score + sign * Z95 * se
    clipped = ibis.greatest(ibis.least(bound, 1.0), -1.0)
    return c.select("period", *ctx.keys, value=100.0 * clipped)


def nps_low(ctx: Context) -> ir.Table:
    return _nps_bound(ctx, -1)


def nps_high(ctx: Context) -> ir.Table:
    return _nps_bound(ctx, 1)


# -- CSAT, CES, USS --------------------------------------------------------------------
def satisfied(r: ir.Table) -> ir.BooleanValue:
    """A CSAT answer is satisfied in the top two points of its own scale: 4-5 on 1-5."""
    return r.score >= r.scale_max - 1


def csat_counts(ctx: Context) -> ir.Table:
    """Per period and keys: ``n`` CSAT answers and ``satisfied`` among them."""
    r = responses(ctx, "csat")
    r = r.mutate(period=ctx.period(r.day))
    return r.group_by(["period", *ctx.keys]).aggregate(
        n=r.count(), satisfied=r.score.count(where=satisfied(r))
    )


def csat(ctx: Context) -> ir.Table:
    c = csat_counts(ctx)
    return c.select("period", *ctx.keys, value=c.satisfied / c.n.cast("float64"))


def csat_responses(ctx: Context) -> ir.Table:
    c = csat_counts(ctx)
    return c.select("period", *ctx.keys, value=c.n)


def _csat_interval(ctx: Context) -> ir.Table:
    # Adjusted Wald for one share (Agresti & Coull 1998, recommended by Sauro & Lewis):
    # add z²/2 satisfied answers and z² answers, then a normal interval around the
    # adjusted share. ``margin`` is its half-width; the bounds are clipped to 0..1.
    c = csat_counts(ctx)
    z2 = Z95 * Z95
    n = c.n + z2
    p = (c.satisfied + z2 / 2) / n
    margin = Z95 * (p * (1 - p) / n).sqrt()
    return c.mutate(centre=p, margin=margin)


def csat_margin(ctx: Context) -> ir.Table:
    c = _csat_interval(ctx)
    return c.select("period", *ctx.keys, value=c.margin)


def csat_low(ctx: Context) -> ir.Table:
    c = _csat_interval(ctx)
    return c.select("period", *ctx.keys, value=ibis.greatest(c.centre - c.margin, 0.0))


def csat_high(ctx: Context) -> ir.Table:
    c = _csat_interval(ctx)
    return c.select("period", *ctx.keys, value=ibis.least(c.centre + c.margin, 1.0))


def csat_mean(ctx: Context) -> ir.Table:
    r = responses(ctx, "csat")
    return ctx.by_period(r, r.score.mean())


def ces(ctx: Context) -> ir.Table:
    r = responses(ctx, "ces")
    return ctx.by_period(r, r.score.mean())


def uss(ctx: Context) -> ir.Table:
    r = responses(ctx, "uss")
    span = (r.scale_max - r.scale_min).nullif(0)
    return ctx.by_period(r, (100.0 * (r.score - r.scale_min) / span).mean())


# -- Support ---------------------------------------------------------------------------
def support_tickets(ctx: Context) -> ir.Table:
    t = ctx.rows("support_tickets", "created_at")
    return ctx.by_period(t, t.ticket_id.count())


def ticket_resolution_time(ctx: Context) -> ir.Table:
    t = ctx.rows("support_tickets", "resolved_at")
    seconds = t.resolved_at.delta(t.created_at, unit="microsecond") / 1e6
    return ctx.by_period(t, seconds.median())


def _period_ends(ctx: Context) -> ir.Table:
    """Each period of the window with ``at``: the instant its last day ends (the window's
    end for a period cut short), in the workspace time zone."""
    starts = ctx.window.periods()
    ends = [
        ctx.instant(min(period_last_day(p, ctx.grain), ctx.window.end) + timedelta(days=1))
        for p in starts
    ]
    return ibis.memtable(
        {"period": starts, "at": ends}, schema={"period": "date", "at": "timestamp('UTC')"}
    )


def _check_customer_dimensions(ctx: Context) -> None:
    """Breakdowns and filters must mean the same thing for tickets and for customers."""
    names = list(ctx.by)
    if ctx.where:
        names += filters.names(ctx.where)
    for name in dict.fromkeys(names):
        dim = ctx.dimension(name, "support_tickets")
        if dim.scope in ("customer", "user") or dim.key == "customer_id":
            continue
        raise FilterError(
            f"support_tickets_per_100_customers cannot use {name!r}: it describes the "
            "tickets, not the customers; break down support_tickets instead, or use "
            "customer.KEY / user.KEY"
        )


def active_customers(ctx: Context) -> ir.Table:
    """Distinct customers with a paying (non-trial, non-zero) subscription covering the
    last instant of each period: ``period``, keys, ``customers``."""
    subs = ctx.table("subscriptions")
    subs = subs.filter(subs.status != "trialing", subs.amount > 0)
    revenue = ctx.settings.revenue
    if not revenue.past_due_counts_as_mrr:
        subs = subs.filter(subs.status != "past_due")
    subs = ctx.segment(subs, "subscriptions")
    ends = _period_ends(ctx)
    covering = [subs.started_at < ends.at, subs.ended_at.isnull() | (subs.ended_at >= ends.at)]
    if revenue.churn_recognition is ChurnRecognition.cancellation:
        covering.append(subs.canceled_at.isnull() | (subs.canceled_at >= ends.at))
    live = ends.join(subs, covering)
    return live.group_by(["period", *ctx.keys]).aggregate(customers=live.customer_id.nunique())


def support_tickets_per_100_customers(ctx: Context) -> ir.Table:
    _check_customer_dimensions(ctx)
    customers = active_customers(ctx)
    tickets = support_tickets(ctx)
    keys = ["period", *ctx.keys]
    joined = customers.left_join(tickets, keys)
    per_100 = 100.0 * ibis.coalesce(joined.value, 0) / joined.customers
    return joined.select(*[customers[k] for k in keys], value=per_100)


_NPS_COUNTS = (
    "NPS survey answers (survey = 'nps', 0-10) in the period: promoters score 9-10, "
    "detractors 0-6, passives 7-8."
)
_ADJUSTED_WALD = (
    "95 % interval of the NPS by the adjusted Wald method: n' = n + 3, "
    "p = (promoters + 3/4) / n', d = (detractors + 3/4) / n', "
    "bound = 100 × ((p − d) ± 1.96 × √((p + d − (p − d)²) / n')), clipped to −100..100"
)
_CSAT_ANSWERS = (
    "CSAT survey answers (survey = 'csat') in the period; satisfied: the top two points "
    "of the answer's scale (4-5 on 1-5)."
)
_CSAT_WALD = (
    "interval of csat by the adjusted Wald method (Agresti-Coull): n′ = n + 1.96², "
    "p′ = (satisfied + 1.96²/2) / n′, bounds p′ ± 1.96 × √(p′(1 − p′) / n′)"
)

METRICS = [
    _metric(
        "nps", "Net Promoter Score",
        "% promoters − % detractors among the period's NPS answers, from −100 to 100. "
        + _NPS_COUNTS + " See nps_responses, nps_low and nps_high for its precision.",
        "100 × (promoters − detractors) / responses",
        unit=Unit.score, direction=Direction.higher, fn=nps, sources=("survey_responses",),
        empty=None,
    ),
    _metric(
        "nps_responses", "NPS responses",
        "Number of NPS survey answers in the period (the n behind nps). " + _NPS_COUNTS,
        "count of survey_responses with survey = 'nps' in the period",
        unit=Unit.count, direction=Direction.higher, fn=nps_responses,
        sources=("survey_responses",),
    ),
    _metric(
        "nps_low", "NPS, 95 % interval low (adjusted Wald)",
        "Lower bound of the " + _ADJUSTED_WALD + ". " + _NPS_COUNTS,
        "100 × ((p − d) − 1.96 × √((p + d − (p − d)²) / (n + 3))) with "
        "p = (promoters + 0.75) / (n + 3), d = (detractors + 0.75) / (n + 3)",
        unit=Unit.score, direction=Direction.higher, fn=nps_low,
        sources=("survey_responses",), empty=None,
    ),
    _metric(
        "nps_high", "NPS, 95 % interval high (adjusted Wald)",
        "Upper bound of the " + _ADJUSTED_WALD + ". " + _NPS_COUNTS,
        "100 × ((p − d) + 1.96 × √((p + d − (p − d)²) / (n + 3))) with "
        "p = (promoters + 0.75) / (n + 3), d = (detractors + 0.75) / (n + 3)",
        unit=Unit.score, direction=Direction.higher, fn=nps_high,
        sources=("survey_responses",), empty=None,
    ),
    _metric(
        "csat", "Customer satisfaction (CSAT)",
        "Share of the period's CSAT answers (survey = 'csat') that are satisfied: in the "
        "top two points of the answer's own scale (4-5 on the usual 1-5 scale). See "
        "csat_responses, csat_margin, csat_low and csat_high for its precision.",
        "answers with score ≥ scale_max − 1 / answers",
        unit=Unit.rate, direction=Direction.higher, fn=csat, sources=("survey_responses",),
        empty=None,
        notes="The satisfied threshold is not a setting yet: it is always the top two "
        "points of each answer's scale.",
    ),
    _metric(
        "csat_responses", "CSAT responses",
        "Number of CSAT survey answers in the period (the n behind csat). " + _CSAT_ANSWERS,
        "count of survey_responses with survey = 'csat' in the period",
        unit=Unit.count, direction=Direction.higher, fn=csat_responses,
        sources=("survey_responses",),
    ),
    _metric(
        "csat_margin", "CSAT margin of error (95 %)",
        "Margin of error of csat: half the width of its 95 % " + _CSAT_WALD + ", so csat "
        "is known to about ± this many points (0.08 = ± 8 points). " + _CSAT_ANSWERS,
        "1.96 × √(p′ × (1 − p′) / n′) with n′ = n + 1.96², "
        "p′ = (satisfied + 1.96² / 2) / n′",
        unit=Unit.rate, direction=Direction.lower, fn=csat_margin,
        sources=("survey_responses",), empty=None,
    ),
    _metric(
        "csat_low", "CSAT, 95 % interval low (adjusted Wald)",
        "Lower bound of the 95 % " + _CSAT_WALD + ", clipped at 0. " + _CSAT_ANSWERS,
        "max(0, p′ − 1.96 × √(p′ × (1 − p′) / n′)) with n′ = n + 1.96², "
        "p′ = (satisfied + 1.96² / 2) / n′",
        unit=Unit.rate, direction=Direction.higher, fn=csat_low,
        sources=("survey_responses",), empty=None,
    ),
    _metric(
        "csat_high", "CSAT, 95 % interval high (adjusted Wald)",
        "Upper bound of the 95 % " + _CSAT_WALD + ", clipped at 1. " + _CSAT_ANSWERS,
        "min(1, p′ + 1.96 × √(p′ × (1 − p′) / n′)) with n′ = n + 1.96², "
        "p′ = (satisfied + 1.96² / 2) / n′",
        unit=Unit.rate, direction=Direction.higher, fn=csat_high,
        sources=("survey_responses",), empty=None,
    ),
    _metric(
        "csat_mean", "CSAT mean score",
        "Mean score of the period's CSAT answers, on the survey's scale (usually 1-5).",
        "mean of score over survey = 'csat' answers",
        unit=Unit.score, direction=Direction.higher, fn=csat_mean,
        sources=("survey_responses",), empty=None,
    ),
    _metric(
        "ces", "Customer effort score (CES)",
        "Mean score of the period's CES answers (survey = 'ces') on the scale stored with "
        "each answer (scale_min..scale_max, usually 1-7), not rescaled; higher = easier.",
        "mean of score over survey = 'ces' answers",
        unit=Unit.score, direction=Direction.higher, fn=ces, sources=("survey_responses",),
        empty=None,
        notes="Answers on different scales in one period are averaged as they are; "
        "filter on scale_max to separate them. The data model stores no direction, so "
        "higher = easier (the catalog's default) is assumed.",
    ),
    _metric(
        "uss", "User satisfaction score (USS)",
        "Mean rating of the period's USS answers (survey = 'uss'), each normalised to "
        "0-100 on its own scale.",
        "mean of 100 × (score − scale_min) / (scale_max − scale_min)",
        unit=Unit.score, direction=Direction.higher, fn=uss, sources=("survey_responses",),
        empty=None,
    ),
    _metric(
        "support_tickets", "Support tickets",
        "Support tickets opened (created_at) in the period.",
        "count of support_tickets created in the period",
        unit=Unit.count, direction=Direction.lower, fn=support_tickets,
        sources=("support_tickets",),
    ),
    _metric(
        "support_tickets_per_100_customers", "Support tickets per 100 customers",
        "Tickets opened in the period per 100 active customers. Active customers: distinct "
        "customers with a paying subscription period (not trialing, amount > 0) covering "
        "the last instant of the period (of the query range, for a period cut short); "
        "past_due and cancellations follow the revenue settings.",
        "100 × tickets opened in the period / active customers at its end",
        unit=Unit.number, direction=Direction.lower, fn=support_tickets_per_100_customers,
        sources=("support_tickets", "subscriptions"), empty=None,
        notes="Tickets without a customer (prospects) count in the numerator. Breakdowns "
        "and filters must describe customers or users (customer.KEY, user.KEY).",
    ),
    _metric(
        "ticket_resolution_time", "Ticket resolution time",
        "Median time from opening to resolution of the tickets resolved in the period.",
        "median of resolved_at − created_at, in seconds, over tickets resolved in the period",
        unit=Unit.seconds, direction=Direction.lower, fn=ticket_resolution_time,
        sources=("support_tickets",), empty=None,
    ),
]  # fmt: skip
