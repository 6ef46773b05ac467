"""Experiments read from the events: exposures, per-user metric values, per-arm sums.

Exposures follow the conventions tracking SDKs already send:

* Segment ``Experiment Viewed`` with ``experiment_id`` (or ``experiment_name``) and
  ``variation_id`` (or ``variation_name``);
* PostHog ``$feature_flag_called`` with ``$feature_flag`` and ``$feature_flag_response``.

A person (after identity merging) counts from their first exposure; a person exposed to
two variations is excluded and counted; a metric counts the person's events from the
instant of their first exposure (inclusive) to the end of the analysis. Everything up to
the per-arm sums (n, sum, sum of squares, covariate sums and cross-products) runs in the
engine; only a few numbers per arm reach Python (:mod:`northstar.experiments.stats`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from northstar.analyses.common import Range, make_context
from northstar.analyses.events import EventSpec, apply_spec, event_value, unknown_event
from northstar.errors import ExperimentError, ExperimentNotFound, MetricError
from northstar.experiments import stats
from northstar.metrics.context import Context
from northstar.metrics.functions import json_text
from northstar.metrics.kinds import _filtered
from northstar.metrics.periods import Grain
from northstar.metrics.registry import Registry
from northstar.metrics.spec import Aggregation, Direction, SimpleDefinition
from northstar.settings import Settings
from northstar.store.freshness import AsOf

SEGMENT_EVENT = "Experiment Viewed"
POSTHOG_EVENT = "$feature_flag_called"
CUPED_DAYS = 14  # the covariate: the same metric in the 14 days before exposure (GrowthBook)
SRM_THRESHOLD = 0.001  # GrowthBook's default: below it the split is called broken


# -- metrics per exposed user ---------------------------------------------------------
@dataclass(frozen=True)
class UserMetric:
    """A value per exposed user: did they do an event, how often, or a property's sum."""

    label: str
    kind: Literal["converted", "count", "sum", "active_days"]
    event: EventSpec | None = None
    prop: str | None = None
    simple: SimpleDefinition | None = None  # a custom events metric from metrics/*.yaml
    inverse: bool = False  # lower is better

    @property
    def metric_type(self) -> str:
        return "binomial" if self.kind == "converted" else "mean"

    @property
    def source(self) -> tuple[object, ...]:
        """Metrics with the same source read the same events (one join for all of them)."""
        return (self.kind == "active_days", self.event, self.simple)

    def rows(self, ctx: Context, t: ir.Table) -> ir.Table:
        """The events (of ``t``) this metric looks at."""
        if self.kind == "active_days":
            return t.filter(ctx.is_active(t.event))
        if self.simple is not None:
            return _filtered(ctx, self.simple, t)
        assert self.event is not None
        return apply_spec(ctx, t, self.event)

    def measure(self, ctx: Context, t: ir.Table) -> tuple[ir.Table, ir.Value | None]:
        """What is summed per row (None: the rows are counted)."""
        if self.kind == "active_days":  # distinct local days count
            return t, ctx.local_date(t.timestamp)
        if self.kind != "sum":
            return t, None
        if self.simple is not None:
            assert self.simple.column is not None
            col = self.simple.column
            value = t[col] if col in t.columns else json_text(t.properties, col)
            return t, value.try_cast("float64")
        assert self.prop is not None
        t, value = event_value(ctx, t, self.prop)
        return t, value.try_cast("float64")


# Active-user counts become, per exposed user, the number of days they were active after
# exposure (summed over users that is the exposed users' DAU summed over the days).
ACTIVE_USER_METRICS = ("dau", "wau", "mau")

_PREFIXED = re.compile(r"^(converted|count|sum):(.+)$", re.DOTALL)


@dataclass(frozen=True)
class RatioMetric:
    """``ratio:NUM/DEN``: the sum of one per-user metric over the sum of another (e.g.
    revenue per order), analysed with the delta method."""

    label: str
    numerator: UserMetric
    denominator: UserMetric

    metric_type = "ratio"

    @property
    def inverse(self) -> bool:
        return self.numerator.inverse


_RATIO_SPLIT = re.compile(r"/(?=\s*(?:converted|count|sum):|\s*[a-z][a-z0-9_]*\s*$)")


def parse_any(text: str, registry: Registry) -> UserMetric | RatioMetric:
    """A per-user metric, or ``ratio:NUM/DEN`` of two of them."""
    text = text.strip()
    if not text.startswith("ratio:"):
        return parse_metric(text, registry)
    parts = _RATIO_SPLIT.split(text[len("ratio:") :], maxsplit=1)
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise ExperimentError(
            f"{text!r}: write ratio:NUMERATOR/DENOMINATOR with per-user metrics, e.g. "
            "ratio:sum:purchase:amount/count:purchase (revenue per purchase)"
        )
    return RatioMetric(text, parse_metric(parts[0], registry), parse_metric(parts[1], registry))


def parse_metric(text: str, registry: Registry) -> UserMetric:
    """``converted:EVENT``, ``count:EVENT``, ``sum:EVENT:PROPERTY`` or a metric id whose
    definition is a per-user quantity (a ``simple`` metric on events)."""
    text = text.strip()
    m = _PREFIXED.match(text)
    if m:
        kind, rest = m.group(1), m.group(2).strip()
        if kind == "sum":
            event, sep, prop = rest.rpartition(":")
            if not sep or not event.strip() or not prop.strip():
                raise ExperimentError(
                    f"{text!r}: write sum:EVENT:PROPERTY, e.g. sum:order_completed:amount"
                )
            return UserMetric(text, "sum", EventSpec.parse(event), prop.strip())
        return UserMetric(text, kind, EventSpec.parse(rest))  # type: ignore[arg-type]
    try:
        spec = registry.get(text)
    except MetricError as exc:
        raise ExperimentError(
            f"{exc}; or use converted:EVENT, count:EVENT or sum:EVENT:PROPERTY"
        ) from None
    if text in ACTIVE_USER_METRICS:
        return UserMetric(text, "active_days")
    d = spec.definition
    inverse = spec.direction is Direction.lower
    if isinstance(d, SimpleDefinition) and d.table == "events":
        if d.agg is Aggregation.count:
            return UserMetric(text, "count", simple=d, inverse=inverse)
        if d.agg is Aggregation.count_distinct and d.column in ("person_id", "distinct_id"):
            return UserMetric(text, "converted", simple=d, inverse=inverse)
        if d.agg is Aggregation.sum and d.column:
            return UserMetric(text, "sum", simple=d, inverse=inverse)
    raise ExperimentError(
        f"metric {text!r} is not a per-user quantity (it is computed per period, not per "
        "person); use converted:EVENT, count:EVENT or sum:EVENT:PROPERTY, or a custom "
        "simple metric on events (count, count_distinct of person_id, or sum)"
    )


def guardrails(metric_ids: Sequence[str], registry: Registry) -> tuple[list[str], list[str]]:
    """Split KPIs (a workspace's goal metrics) into those an experiment can measure per
    exposed user and those it cannot (MRR, NPS: they exist per period, not per person)."""
    usable, other = [], []
    for metric in dict.fromkeys(metric_ids):
        try:
            parse_metric(metric, registry)
        except ExperimentError:
            other.append(metric)
        else:
            usable.append(metric)
    return usable, other


# -- exposures --------------------------------------------------------------------------
def _exposure_rows(ctx: Context, until: datetime) -> ir.Table:
    """Every exposure: ``experiment``, ``variation``, ``person_id``, ``timestamp``."""
    ev = ctx.table("events")
    ev = ev.filter(ev.event.isin([SEGMENT_EVENT, POSTHOG_EVENT]), ev.timestamp < until)
    p = ev.properties
    segment = ev.event == SEGMENT_EVENT
    experiment = ibis.cases(
        (segment, ibis.coalesce(json_text(p, "experiment_id"), json_text(p, "experiment_name"))),
        else_=json_text(p, "$feature_flag"),
    )
    variation = ibis.cases(
        (segment, ibis.coalesce(json_text(p, "variation_id"), json_text(p, "variation_name"))),
        else_=json_text(p, "$feature_flag_response"),
    )
    out = ev.select(
        experiment=experiment,
        variation=variation,
        person_id=ev.person_id,
        timestamp=ev.timestamp,
        source=ibis.cases((segment, "segment"), else_="posthog"),
    )
    return out.filter(out.experiment.notnull(), out.variation.notnull())


def _persons(ctx: Context, experiment: str, until: datetime) -> ir.Table:
    """One row per exposed person: first exposure, variation, number of variations seen."""
    e = _exposure_rows(ctx, until)
    e = e.filter(e.experiment == experiment)
    return e.group_by("person_id").aggregate(
        first_at=e.timestamp.min(),
        variation=e.variation.argmin(e.timestamp),
        variations=e.variation.nunique(),
    )


@dataclass
class ExperimentSummary:
    key: str
    sources: list[str]
    variations: dict[str, int]  # exposed users per variation (excluded users left out)
    excluded_users: int
    first_exposure: str | None
    last_exposure: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.key,
            "sources": self.sources,
            "variations": self.variations,
            "exposed_users": sum(self.variations.values()),
            "excluded_users": self.excluded_users,
            "first_exposure": self.first_exposure,
            "last_exposure": self.last_exposure,
        }


@dataclass
class ExperimentList:
    experiments: list[ExperimentSummary]
    as_of: AsOf | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiments": [e.to_dict() for e in self.experiments],
            "as_of": self.as_of.to_dict() if self.as_of else None,
        }


def _end_instant(ctx: Context, last: date) -> datetime:
    return ctx.instant(last + timedelta(days=1))


def list_experiments(backend: Any, settings: Settings, *, last: date) -> list[ExperimentSummary]:
    """Every experiment with exposures up to the end of ``last``."""
    ctx = make_context(backend, settings, Range(last, last, Grain.day, last))
    e = _exposure_rows(ctx, _end_instant(ctx, last))
    per = e.group_by(["experiment", "person_id"]).aggregate(
        variation=e.variation.argmin(e.timestamp),
        variations=e.variation.nunique(),
        first_at=e.timestamp.min(),
        last_at=e.timestamp.max(),
        source=e.source.min(),
    )
    clean = per.filter(per.variations == 1)
    by_arm = clean.group_by(["experiment", "variation"]).aggregate(users=clean.count()).to_pandas()
    head = per.group_by("experiment").aggregate(
        excluded=(per.variations > 1).sum(),
        first=per.first_at.min(),
        last=per.last_at.max(),
        sources=per.source.collect(distinct=True),
    ).to_pandas()  # fmt: skip
    out = []
    for row in head.sort_values("experiment").itertuples():
        arms = by_arm[by_arm.experiment == row.experiment].sort_values("variation")
        out.append(
            ExperimentSummary(
                key=str(row.experiment),
                sources=sorted(str(s) for s in row.sources),
                variations={
                    str(v): int(u) for v, u in zip(arms.variation, arms.users, strict=True)
                },
                excluded_users=int(row.excluded or 0),
                first_exposure=_iso(row.first),
                last_exposure=_iso(row.last),
            )
        )
    return out


def _iso(value: Any) -> str | None:
    if value is None or value != value:  # NaT
        return None
    return str(value.isoformat()) if hasattr(value, "isoformat") else str(value)


# -- analysis ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AnalyzeRequest:
    """What ``northstar experiments analyze`` asks (docs/experiments.md)."""

    experiment: str
    metrics: tuple[str, ...]
    control: str | None = None
    cuped: bool = False
    correction: str = "none"
    sequential: bool = False
    sequential_tuning: float = stats.DEFAULT_SEQUENTIAL_TUNING
    alpha: float = 0.05
    weights: tuple[float, ...] | None = None  # the planned split, in variation order

    def __post_init__(self) -> None:
        if not self.metrics:
            raise ExperimentError("give at least one --metric, e.g. --metric converted:signed_up")
        if self.correction not in stats.CORRECTIONS:
            raise ExperimentError(f"unknown correction {self.correction!r}; use none, holm or bh")
        if not 0 < self.alpha < 1:
            raise ExperimentError(f"--alpha must be between 0 and 1, got {self.alpha}")
        if self.sequential_tuning <= 0:
            raise ExperimentError("the sequential tuning parameter must be a positive count")
        if self.weights is not None and (
            any(w < 0 for w in self.weights) or sum(self.weights) <= 0
        ):
            raise ExperimentError("--weights must be non-negative numbers with a positive sum")


@dataclass
class Srm:
    p_value: float
    observed: dict[str, int]
    expected: dict[str, float]

    @property
    def mismatch(self) -> bool:
        return self.p_value < SRM_THRESHOLD

    def to_dict(self) -> dict[str, Any]:
        return {
            "p_value": self.p_value,
            "observed": self.observed,
            "expected": self.expected,
            "mismatch": self.mismatch,
            "threshold": SRM_THRESHOLD,
        }


@dataclass
class ExperimentResult:
    experiment: str | None
    control: str
    variations: list[str]
    srm: Srm
    excluded_users: int
    results: list[stats.Comparison]
    alpha: float
    correction: str
    sequential: bool
    guidance: dict[str, Any] = field(default_factory=dict)
    as_of: AsOf | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "control": self.control,
            "variations": self.variations,
            "srm": self.srm.to_dict(),
            "excluded_users": self.excluded_users,
            "alpha": self.alpha,
            "correction": self.correction,
            "sequential": self.sequential,
            "results": [r.to_dict() for r in self.results],
            "guidance": self.guidance,
            "as_of": self.as_of.to_dict() if self.as_of else None,
        }


def pick_control(variations: Sequence[str], given: str | None) -> str:
    """``given``, else "control", else "0" (Segment's first variation id), else the
    first variation in sort order."""
    if given is not None:
        if given not in variations:
            raise ExperimentError(
                f"no variation called {given!r}; the variations are {', '.join(variations)}"
            )
        return given
    for name in ("control", "0"):
        if name in variations:
            return name
    return sorted(variations)[0]


def _per_user_values(
    ctx: Context, persons: ir.Table, metrics: Sequence[UserMetric], until: datetime, cuped: bool
) -> list[ir.Table]:
    """Per source of events, a table of ``__pid`` and for each of its metrics ``v{i}``
    (from first exposure on) and, with ``cuped``, ``c{i}`` (the same metric in the 14 days
    before exposure: the covariate). Metrics on the same events share one join."""
    ev = ctx.table("events").filter(lambda t: t.timestamp < until)
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, metric in enumerate(metrics):
        groups.setdefault(metric.source, []).append(i)
    p = persons.select(__pid=persons.person_id, __first=persons.first_at)
    reach = p.__first - ibis.interval(days=CUPED_DAYS) if cuped else p.__first
    out = []
    for members in groups.values():
        rows = metrics[members[0]].rows(ctx, ev)
        measured: dict[str, ir.Value] = {}
        for i in members:
            rows, value = metrics[i].measure(ctx, rows)
            if value is not None:
                measured[f"__x{i}"] = value
        rows = rows.select("person_id", "timestamp", **measured)
        joined = p.join(rows, [p.__pid == rows.person_id, rows.timestamp >= reach])
        after = joined.timestamp >= joined.__first
        values: dict[str, ir.Value] = {}
        for i in members:
            kind = metrics[i].kind
            for name, where in (("v", after), ("c", ~after)) if cuped else (("v", None),):
                if kind == "active_days":
                    v = joined[f"__x{i}"].nunique(where=where).cast("float64")
                elif kind == "sum":
                    v = joined[f"__x{i}"].sum(where=where)
                elif kind == "count":
                    v = joined.count(where=where).cast("float64")
                else:  # converted
                    v = ibis.cases((joined.count(where=where) > 0, 1.0), else_=0.0)
                values[f"{name}{i}"] = v
        out.append(joined.group_by("__pid").aggregate(**values))
    return out


def analyze(
    backend: Any,
    settings: Settings,
    registry: Registry,
    request: AnalyzeRequest,
    *,
    last: date,
) -> ExperimentResult:
    """The experiment's results on every requested metric, as of the end of ``last``."""
    asked = [parse_any(m, registry) for m in request.metrics]
    # the per-user values to compute: every metric, a ratio's two parts
    metrics: list[UserMetric] = []
    numerators: set[int] = set()  # columns whose next column is their ratio's denominator
    for a in asked:
        if isinstance(a, RatioMetric):
            numerators.add(len(metrics))
            metrics += [a.numerator, a.denominator]
        else:
            metrics.append(a)
    ctx = make_context(backend, settings, Range(last, last, Grain.day, last))
    until = _end_instant(ctx, last)
    specs = [m.event for m in metrics if m.event is not None]
    problem = unknown_event(ctx, specs)
    if problem:
        raise ExperimentError(problem)

    # One query: every exposed person (those who saw two variations in a group of their
    # own, with a null variation) with their metric values, summed per variation.
    persons = _persons(ctx, request.experiment, until)
    clean = persons.filter(persons.variations == 1)
    arm = ibis.cases((persons.variations == 1, persons.variation), else_=ibis.null("string"))
    table = persons.select("person_id", variation=arm)
    for values in _per_user_values(ctx, clean, metrics, until, request.cuped):
        table = table.left_join(values, table.person_id == values.__pid).drop("__pid")
    sums: dict[str, ir.Value] = {"n": table.count()}
    for i in range(len(metrics)):
        v = table[f"v{i}"].fill_null(0.0)
        sums |= {f"s{i}": v.sum(), f"q{i}": (v * v).sum()}
        if i in numerators:  # a ratio's numerator x its denominator
            sums[f"p{i}"] = (v * table[f"v{i + 1}"].fill_null(0.0)).sum()
        if request.cuped:
            c = table[f"c{i}"].fill_null(0.0)
            sums |= {f"cs{i}": c.sum(), f"cq{i}": (c * c).sum(), f"vc{i}": (v * c).sum()}
    everyone = table.group_by("variation").aggregate(**sums).to_pandas()
    if everyone.empty:
        known = [s.key for s in list_experiments(backend, settings, last=last)]
        listed = ", ".join(known) or "none (no Experiment Viewed or $feature_flag_called events)"
        raise ExperimentNotFound(
            f"no exposures for experiment {request.experiment!r}; experiments: {listed}"
        )
    mixed = everyone["variation"].isna()
    excluded = int(everyone.loc[mixed, "n"].sum())
    arms = everyone[~mixed]
    if len(arms) < 2:
        seen = ", ".join(str(v) for v in arms["variation"]) or "none"
        raise ExperimentError(
            f"experiment {request.experiment!r} has users in fewer than two variations "
            f"(variations with users: {seen}; {excluded} saw more than one); nothing to compare"
        )

    variations = sorted(str(v) for v in arms["variation"])
    control = pick_control(variations, request.control)
    order = [control, *[v for v in variations if v != control]]
    arms = arms.set_index("variation").loc[order]
    observed = {v: int(arms.loc[v, "n"]) for v in order}
    weights = list(request.weights) if request.weights else [1.0] * len(order)
    if len(weights) != len(order):
        raise ExperimentError(
            f"--weights has {len(weights)} numbers but the experiment has {len(order)} "
            f"variations ({', '.join(order)}, control first)"
        )
    total, wsum = sum(observed.values()), sum(weights)
    srm = Srm(
        stats.srm_p_value(list(observed.values()), weights),
        observed,
        {v: w / wsum * total for v, w in zip(order, weights, strict=True)},
    )

    def got(v: str, column: str) -> float:
        return float(arms.loc[v, column] or 0.0)

    results: list[stats.Comparison] = []
    i = 0
    for metric in asked:
        if isinstance(metric, RatioMetric):
            inputs = [
                stats.ArmInput(
                    id=v,
                    n=int(arms.loc[v, "n"]),
                    sum=got(v, f"s{i}"),
                    sum_squares=got(v, f"q{i}"),
                    denominator_sum=got(v, f"s{i + 1}"),
                    denominator_sum_squares=got(v, f"q{i + 1}"),
                    numerator_denominator_products=got(v, f"p{i}"),
                )
                for v in order
            ]
            i += 2
        else:
            cuped = request.cuped
            inputs = [
                stats.ArmInput(
                    id=v,
                    n=int(arms.loc[v, "n"]),
                    sum=got(v, f"s{i}"),
                    sum_squares=got(v, f"q{i}"),
                    pre_sum=got(v, f"cs{i}") if cuped else None,
                    pre_sum_squares=got(v, f"cq{i}") if cuped else None,
                    sum_of_products=got(v, f"vc{i}") if cuped else None,
                )
                for v in order
            ]
            i += 1
        options = stats.Options(
            alpha=request.alpha, sequential=request.sequential,
            sequential_tuning=request.sequential_tuning, cuped=request.cuped,
            inverse=metric.inverse,
        )  # fmt: skip
        results.extend(stats.compare(metric.label, metric.metric_type, inputs, control, options))
    finish(results, request.correction)
    result = ExperimentResult(
        experiment=request.experiment, control=control, variations=order, srm=srm,
        excluded_users=excluded, results=results, alpha=request.alpha,
        correction=request.correction, sequential=request.sequential,
    )  # fmt: skip
    result.guidance = guidance(result)
    return result


def finish(results: list[stats.Comparison], correction: str) -> None:
    """Fill ``p_value_adjusted`` across every metric x variation (on the relative
    effect's p-value, the headline one)."""
    adjusted = stats.adjust([r.relative.p_value for r in results], correction)
    for r, q in zip(results, adjusted, strict=True):
        r.p_value_adjusted = q


def _verdict(r: stats.Comparison, alpha: float) -> str:
    """better | worse | unclear, on the adjusted p-value and the metric's direction."""
    if r.p_value_adjusted is None or r.relative.effect is None:
        return "unclear"
    if r.p_value_adjusted >= alpha:
        return "unclear"
    up = r.relative.effect > 0
    return "better" if up != r.inverse else "worse"


def guidance(result: ExperimentResult) -> dict[str, Any]:
    """Ship / keep running / stop, in plain words. The first metric decides; the others
    are guardrails (a significantly worse guardrail blocks shipping)."""
    if result.srm.mismatch:
        return {
            "decision": "stop",
            "reason": (
                f"sample ratio mismatch (p = {result.srm.p_value:.2g}): the arms do not have "
                "the planned share of users, so assignment or tracking is broken and no "
                "result can be trusted; fix it and restart"
            ),
        }
    primary = result.results[0].metric if result.results else ""
    verdicts = {(r.metric, r.variation): _verdict(r, result.alpha) for r in result.results}
    fixed = (
        ""
        if result.sequential
        else (
            " (fixed-horizon test: decide at the planned sample size; looking earlier inflates "
            "false positives, use --sequential to peek safely)"
        )
    )
    winners = []
    for v in result.variations[1:]:
        if verdicts.get((primary, v)) != "better":
            continue
        hurt = [m for (m, var), verdict in verdicts.items() if var == v and verdict == "worse"]
        if hurt:
            return {
                "decision": "keep running",
                "reason": f"{v} improves {primary} but makes {', '.join(hurt)} worse; weigh "
                          "the trade-off before shipping",
            }  # fmt: skip
        winners.append(v)
    if winners:
        best = winners[0]
        return {
            "decision": "ship",
            "variation": best,
            "reason": f"{best} improves {primary} significantly "
                      f"(adjusted p < {result.alpha}, correction: {result.correction}) "
                      "and no other metric is significantly worse",
        }  # fmt: skip
    losers = [v for v in result.variations[1:] if verdicts.get((primary, v)) == "worse"]
    if losers and len(losers) == len(result.variations) - 1:
        return {
            "decision": "stop",
            "reason": f"{', '.join(losers)} make{'s' if len(losers) == 1 else ''} {primary} "
                      "significantly worse; keep the control",
        }  # fmt: skip
    return {
        "decision": "keep running",
        "reason": f"no variation moves {primary} significantly yet{fixed}",
    }


class _Arm(BaseModel):
    """One arm in an ``experiments stats`` file."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str | None = None
    n: int = Field(ge=0)
    sum: float
    sum_squares: float | None = None
    pre_sum: float | None = None
    pre_sum_squares: float | None = None
    sum_of_products: float | None = None
    denominator_sum: float | None = None
    denominator_sum_squares: float | None = None
    numerator_denominator_products: float | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _text_id(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


class _StatsFile(BaseModel):
    """The ``experiments stats --data`` file (docs/experiments.md)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["binomial", "mean", "ratio"]
    variations: list[_Arm] = Field(min_length=2)
    experiment: str | None = None
    metric: str = "metric"
    control: str | None = None
    weights: list[float] | None = None
    alpha: float | None = Field(default=None, gt=0, lt=1)
    sequential_tuning: float = Field(default=stats.DEFAULT_SEQUENTIAL_TUNING, gt=0)
    lower_is_better: bool = False
    excluded_users: int = Field(default=0, ge=0)


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ", ".join(
        f"variation {p + 1}" if isinstance(p, int) else str(p) for p in err["loc"]
    ).replace("variations, ", "")
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def from_statistics(
    data: Any,
    *,
    correction: str = "none",
    alpha: float = 0.05,
    sequential: bool = False,
    cuped: bool = True,
) -> ExperimentResult:
    """``experiments stats``: results from per-arm sufficient statistics alone."""
    if not isinstance(data, dict):
        raise ExperimentError(
            'the statistics file must hold a JSON object: {"type": ..., "variations": [...]}'
        )
    try:
        spec = _StatsFile.model_validate(data)
    except ValidationError as exc:
        raise ExperimentError(f"statistics file: {_first_problem(exc)}") from None
    metric_type = spec.type
    arms = [
        stats.ArmInput(**{**a.model_dump(), "id": a.id if a.id is not None else str(k)})
        for k, a in enumerate(spec.variations)
    ]
    ids = [a.id for a in arms]
    if len(set(ids)) != len(ids):
        raise ExperimentError("two variations share an id; give each a distinct id")
    control = spec.control if spec.control is not None else ids[0]
    weights = spec.weights or [1.0] * len(arms)
    if len(weights) != len(arms) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ExperimentError(
            '"weights" must have one non-negative number per variation, with a positive sum'
        )
    options = stats.Options(
        alpha=spec.alpha if spec.alpha is not None else alpha, sequential=sequential,
        sequential_tuning=spec.sequential_tuning, cuped=cuped, inverse=spec.lower_is_better,
    )  # fmt: skip
    results = stats.compare(spec.metric, metric_type, arms, control, options)
    finish(results, correction)
    order = [control, *[i for i in ids if i != control]]
    observed = {a.id: a.n for a in arms}
    total, wsum = sum(observed.values()), float(sum(weights))
    srm = Srm(
        stats.srm_p_value([observed[i] for i in ids], [float(w) for w in weights]),
        {i: observed[i] for i in order},
        {a.id: float(w) / wsum * total for a, w in zip(arms, weights, strict=True)},
    )
    result = ExperimentResult(
        experiment=spec.experiment, control=control, variations=order, srm=srm,
        excluded_users=spec.excluded_users, results=results,
        alpha=options.alpha, correction=correction, sequential=sequential,
    )  # fmt: skip
    result.guidance = guidance(result)
    return result
