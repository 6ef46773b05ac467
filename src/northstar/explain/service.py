"""Explain a change of a KPI: which segments moved it, and whether by mix or by rate.

The module never opens the store: the Workspace hands it ``fetch``, which runs metric
queries (the same engine as ``northstar query``), so every number here is the metric's own
value for a segment, computed as the catalog defines it.

Decomposition over a partition of the population into segments s (docs/explain.md):

* additive metrics (counts, sums: signups, DAU, MRR): the total is the sum of the
  segments, so a segment's ``contribution`` is its change over the sum of the changes;
* ratio metrics R = N / D (conversion, ARPU, churn rate): with a segment's weight
  w = D_s / D and rate r = N_s / D_s, the change of R is exactly

      ΔR = Σ_s [ (w'_s − w_s) (r̄_s − R̄)  +  w̄_s (r'_s − r_s) ]
                 └─ mix effect ─┘             └ rate effect ┘

  (bars: the mean of baseline and current), a symmetric shift-share decomposition that
  adds up per segment and over the partition; ``mix_effect`` and ``rate_effect`` are
  these terms over ΔR (shares of the change), and ``contribution`` is their sum.

Search (as HotSpot / Squeeze prune): every default dimension at depth 1; a combination of
dimensions is queried only when each of its dimensions has a segment that explains at least
``EXPAND_SHARE`` of the change. A segment whose own child explains most of it
(``SPECIFIC_SHARE``) gives way to the child (the drop confined to BR ∧ android is that one
segment, not "BR" and "android"), and a segment inside one already reported is not
reported again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from northstar.errors import ExplainError, FilterError, MetricError
from northstar.metrics.context import NONE
from northstar.metrics.periods import Grain, parse_date, period_start, shift_periods
from northstar.metrics.registry import Registry
from northstar.metrics.spec import MetricSpec, RatioDefinition, Rollup, Unit
from northstar.settings import Settings

# fetch(metric ids, grain, first day, last day, breakdown dimensions) → the query frame
Fetch = Callable[[Sequence[str], Grain, date, date, Sequence[str]], pd.DataFrame]

EXPAND_SHARE = 0.2  # a dimension joins combinations when one of its segments explains this
SPECIFIC_SHARE = 0.8  # a child explaining this much of its parent replaces the parent
SMALLER = 0.6  # ... and holds at most this share of the parent's base
BROAD_SHARE = 0.25  # below this for the best segment, the change is called broad
DEPTH_PENALTY = 0.05  # succinctness: each extra dimension costs this much of the score
NOISE_PERIODS = 8  # past period-over-period changes the normal variation is judged on
DEFAULT_DIMENSIONS = ("country", "device", "$device_type", "os", "$os", "browser",
                      "$browser", "plan", "channel")  # fmt: skip


@dataclass(frozen=True)
class Span:
    """Inclusive days, and the grain of which they are exactly one period (None: not)."""

    first: date
    last: date
    grain: Grain | None

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def whole_period(first: date, last: date, week_start: str) -> Grain | None:
    for grain in (Grain.day, Grain.week, Grain.month, Grain.quarter, Grain.year):
        if period_start(first, grain, week_start) != first:
            continue
        nxt = shift_periods(first, grain, 1)
        if nxt - timedelta(days=1) == last:
            return grain
    return None


def spans(start: str | date, end: str | date, compare: str, week_start: str) -> tuple[Span, Span]:
    first, last = parse_date(start, "--from date"), parse_date(end, "--to date")
    if first is None or last is None:
        raise ExplainError("give the window to explain: --from YYYY-MM-DD --to YYYY-MM-DD")
    if first > last:
        raise ExplainError(f"--from {first} is after --to {last}; swap them")
    grain = whole_period(first, last, week_start)
    current = Span(first, last, grain)
    if compare == "previous":
        if grain is not None:
            b_first = shift_periods(first, grain, -1)
            baseline = Span(b_first, first - timedelta(days=1), grain)
        else:
            days = (last - first).days + 1
            baseline = Span(first - timedelta(days=days), first - timedelta(days=1), None)
        return current, baseline
    a, sep, b = compare.partition(":")
    if not sep:
        raise ExplainError(
            f"--compare {compare!r}: use previous or FROM:TO, e.g. 2026-09-01:2026-09-30"
        )
    lo, hi = parse_date(a, "--compare start"), parse_date(b, "--compare end")
    if lo is None or hi is None or lo > hi:
        raise ExplainError(f"--compare {compare!r}: give FROM:TO with FROM on or before TO")
    return current, Span(lo, hi, whole_period(lo, hi, week_start))


# -- what a metric is over a window, per segment ------------------------------------------
@dataclass(frozen=True)
class Shape:
    """How a metric splits over segments."""

    kind: str  # additive | ratio | other
    numerator: str | None = None
    denominator: str | None = None


# Catalog metrics built as one function that are a ratio of two others (exact when the
# spend lag is 0), and costs per unit that are not the sum of their segments.
PARTS = {"cac": ("acquisition_spend", "new_customers")}
PER_UNIT = frozenset({"cac", "cpa"})


def shape(spec: MetricSpec, settings: Settings) -> Shape:
    d = spec.definition
    if isinstance(d, RatioDefinition):
        return Shape("ratio", d.numerator, d.denominator)
    if spec.id in PARTS and settings.revenue.cac_spend_lag_periods == 0:
        return Shape("ratio", *PARTS[spec.id])
    if spec.id in PER_UNIT:
        return Shape("other")
    if spec.unit in (Unit.count, Unit.currency) and spec.kind != "derived":
        return Shape("additive")
    return Shape("other")


def _grain_for(spec: MetricSpec, span: Span) -> tuple[Grain, date, date, str]:
    """The query that gives the metric's value over ``span``: its grain and days, and how
    daily values combine (one | mean | last)."""
    if span.grain is not None:
        return span.grain, span.first, span.last, "one"
    if spec.rollup is Rollup.mean:
        return Grain.day, span.first, span.last, "mean"
    if spec.rollup is Rollup.end:
        return Grain.day, span.last, span.last, "one"
    raise ExplainError(
        f"{spec.id} is computed over a whole period; give --from/--to that are one whole "
        "day, week, month, quarter or year (e.g. --from 2026-10-01 --to 2026-10-31)"
    )


Key = tuple[tuple[str, str], ...]  # ((dimension, value), ...), sorted by dimension


def _combine(
    frame: pd.DataFrame, metric: str, plan: tuple[Grain, date, date, str], by: Sequence[str]
) -> dict[Key, float]:
    """One metric's value per segment over one span, from a query frame covering it."""
    _, first, last, how = plan
    if "metric" in frame:
        frame = frame[frame["metric"] == metric]
    frame = frame[(frame["period"] >= first) & (frame["period"] <= last)]
    out: dict[Key, float] = {}
    if frame.empty:
        return out
    keys = list(by)
    days = (last - first).days + 1
    if not keys:
        v = frame["value"].sum() / days if how == "mean" else frame["value"].sum(min_count=1)
        if v is not None and not math.isnan(v):
            out[()] = float(v)
        return out
    grouped = frame.groupby(keys, dropna=False)["value"]
    series = grouped.sum() / days if how == "mean" else grouped.sum(min_count=1)
    for k, v in series.items():
        values = k if isinstance(k, tuple) else (k,)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        out[tuple(sorted(zip(keys, (str(x) for x in values), strict=True)))] = float(v)
    return out


Pair = tuple[dict[Key, float], dict[Key, float]]  # (current, baseline)


def _values(
    fetch: Fetch, specs: Sequence[MetricSpec], current: Span, baseline: Span, by: Sequence[str]
) -> dict[str, Pair]:
    """Each metric's value per segment over both spans, in as few queries as possible (one
    when both spans are read at the same grain)."""
    out: dict[str, Pair] = {}
    plans = {s.id: (_grain_for(s, current), _grain_for(s, baseline)) for s in specs}
    groups: dict[Grain, list[str]] = {}
    for metric, (p1, p0) in plans.items():
        if p1[0] == p0[0]:
            groups.setdefault(p1[0], []).append(metric)
        else:
            f1 = fetch([metric], p1[0], p1[1], p1[2], by)
            f0 = fetch([metric], p0[0], p0[1], p0[2], by)
            out[metric] = (_combine(f1, metric, p1, by), _combine(f0, metric, p0, by))
    for grain, metrics in groups.items():
        first = min(min(plans[m][0][1], plans[m][1][1]) for m in metrics)
        last = max(max(plans[m][0][2], plans[m][1][2]) for m in metrics)
        frame = fetch(metrics, grain, first, last, by)
        for m in metrics:
            p1, p0 = plans[m]
            out[m] = (_combine(frame, m, p1, by), _combine(frame, m, p0, by))
    return out


# -- decomposition -------------------------------------------------------------------------
@dataclass
class Segment:
    key: Key
    current: float | None
    baseline: float | None
    change: float | None
    contribution: float | None
    mix_effect: float | None = None
    rate_effect: float | None = None
    score: float = 0.0
    current_weight: float | None = None
    baseline_weight: float | None = None
    size: float | None = None  # its share of the baseline (of the denominator, for a ratio)

    @property
    def depth(self) -> int:
        return len(self.key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimensions": dict(self.key),
            "current": self.current,
            "baseline": self.baseline,
            "change": self.change,
            "contribution": self.contribution,
            "mix_effect": self.mix_effect,
            "rate_effect": self.rate_effect,
            "score": self.score,
        }


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def additive(cur: Mapping[Key, float], base: Mapping[Key, float]) -> list[Segment]:
    keys = sorted(set(cur) | set(base))
    deltas = {k: cur.get(k, 0.0) - base.get(k, 0.0) for k in keys}
    total = sum(deltas.values())
    base_total = sum(base.get(k, 0.0) for k in keys)
    out = []
    for k in keys:
        share = deltas[k] / total if total else None
        seg = Segment(k, cur.get(k, 0.0), base.get(k, 0.0), deltas[k], share)
        seg.size = base.get(k, 0.0) / base_total if base_total else None
        out.append(seg)
    return out


def ratio(
    num: tuple[Mapping[Key, float], Mapping[Key, float]],
    den: tuple[Mapping[Key, float], Mapping[Key, float]],
) -> list[Segment]:
    """The exact shift-share decomposition of a ratio's change over a partition."""
    (n1, n0), (d1, d0) = num, den
    keys = sorted(set(n1) | set(n0) | set(d1) | set(d0))
    big_d1, big_d0 = sum(d1.get(k, 0.0) for k in keys), sum(d0.get(k, 0.0) for k in keys)
    big_n1, big_n0 = sum(n1.get(k, 0.0) for k in keys), sum(n0.get(k, 0.0) for k in keys)
    if not big_d1 or not big_d0:
        return []
    r1_total, r0_total = big_n1 / big_d1, big_n0 / big_d0
    delta = r1_total - r0_total
    mean_total = (r1_total + r0_total) / 2
    out = []
    for k in keys:
        w1, w0 = d1.get(k, 0.0) / big_d1, d0.get(k, 0.0) / big_d0
        r1 = n1.get(k, 0.0) / d1[k] if d1.get(k) else None
        r0 = n0.get(k, 0.0) / d0[k] if d0.get(k) else None
        # a segment absent in one window keeps its other rate there (no rate change)
        r1_, r0_ = (r1 if r1 is not None else r0), (r0 if r0 is not None else r1)
        if r1_ is None or r0_ is None:
            continue
        mix = (w1 - w0) * ((r1_ + r0_) / 2 - mean_total)
        rate = (w1 + w0) / 2 * (r1_ - r0_)
        seg = Segment(k, r1, r0, _diff(r1, r0), None, current_weight=w1, baseline_weight=w0)
        seg.size = w0  # its share of the base (the denominator)
        if delta:
            seg.mix_effect, seg.rate_effect = mix / delta, rate / delta
            seg.contribution = (mix + rate) / delta
        out.append(seg)
    return out


def other(cur: Mapping[Key, float], base: Mapping[Key, float]) -> list[Segment]:
    """Segments of a metric that is neither a sum nor a ratio of known parts: their own
    values and changes; no shares (there is nothing to weigh them by)."""
    return [
        Segment(k, cur.get(k), base.get(k), _diff(cur.get(k), base.get(k)), None)
        for k in sorted(set(cur) | set(base))
    ]


# -- the search ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExplainRequest:
    metric: str
    start: str | date
    end: str | date
    compare: str = "previous"
    by: tuple[str, ...] = ()
    depth: int = 2
    top: int = 5

    def __post_init__(self) -> None:
        if self.depth not in (1, 2, 3):
            raise ExplainError(f"--depth must be 1, 2 or 3, not {self.depth}")
        if not 1 <= self.top <= 100:
            raise ExplainError(f"--top must be between 1 and 100, not {self.top}")


@dataclass
class Explanation:
    metric: str
    kind: str
    current: dict[str, Any]
    baseline: dict[str, Any]
    change: float | None
    change_pct: float | None
    segments: list[Segment]
    dimensions: list[str]
    summary: str
    broad: bool = False
    normal: dict[str, Any] | None = None
    feedback: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    searched: list[Segment] = field(default_factory=list)  # every segment looked at
    as_of: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "kind": self.kind,
            "current": self.current,
            "baseline": self.baseline,
            "change": self.change,
            "change_pct": self.change_pct,
            "summary": self.summary,
            "broad": self.broad,
            "normal_variation": self.normal,
            "segments": [s.to_dict() for s in self.segments],
            "dimensions": self.dimensions,
            "skipped_dimensions": self.skipped,
            "segments_searched": len(self.searched),
            "feedback": self.feedback,
            "as_of": self.as_of.to_dict() if self.as_of is not None else None,
        }


def _score(s: Segment, total_rel: float | None) -> float:
    """How well the segment explains the change: the part of the change it carries beyond
    its size (Adtributor's surprise: a segment holding 40 % of the base that carries 40 %
    of a change is how a broad change looks; one carrying 100 % stands out), less a little
    per extra dimension (succinctness). Segments moving against the change score 0."""
    succinct = 1 - DEPTH_PENALTY * (s.depth - 1)
    if s.contribution is not None:
        surprise = s.contribution - (s.size or 0.0)
        return max(0.0, min(surprise, 1.0)) * succinct
    # a metric without shares: how far the segment's own change departs from the total's
    if s.change is None or s.baseline in (None, 0) or total_rel is None:
        return 0.0
    assert s.baseline is not None
    return min(1.0, abs(s.change / abs(s.baseline) - total_rel)) * succinct


def _inside(a: Key, b: Key) -> bool:
    """Whether segment ``a`` lies inside ``b`` (has every condition of ``b``)."""
    return set(b) <= set(a)


def _replaced_by_child(parent: Segment, child: Segment, kind: str) -> bool:
    """The child says what the parent says, more precisely: it carries most of the
    parent's share and the parent's other rows did not move like it did."""
    pc, cc = parent.contribution, child.contribution
    if pc is None or cc is None or pc == 0 or cc / pc < SPECIFIC_SHARE:
        return False
    if (child.size or 0.0) > SMALLER * (parent.size or 0.0):
        return False  # the child is most of the parent: it says nothing more precise
    if kind != "additive":
        return True
    assert parent.baseline is not None and child.baseline is not None
    assert parent.change is not None and child.change is not None
    rest_base = parent.baseline - child.baseline
    rest_change = parent.change - child.change
    child_rel = child.change / child.baseline if child.baseline else math.inf
    rest_rel = rest_change / rest_base if rest_base else 0.0
    return abs(rest_rel) <= 0.2 * abs(child_rel)


def select(segments: Sequence[Segment], kind: str, top: int) -> list[Segment]:
    """The fewest, most specific segments that explain the change, best first."""
    by_depth: dict[int, list[Segment]] = {}
    for s in segments:
        by_depth.setdefault(s.depth, []).append(s)
    replaced: set[Key] = set()
    for s in segments:
        for child in by_depth.get(s.depth + 1, []):
            if _inside(child.key, s.key) and _replaced_by_child(s, child, kind):
                replaced.add(s.key)
                break
    ranked = sorted(
        (s for s in segments if s.key not in replaced and s.score > 0.01),
        key=lambda s: (-s.score, s.depth, s.key),
    )
    picked: list[Segment] = []
    for s in ranked:
        if any(_inside(s.key, p.key) or _inside(p.key, s.key) for p in picked):
            continue
        picked.append(s)
        if len(picked) == top:
            break
    return picked


def explain(
    fetch: Fetch,
    registry: Registry,
    request: ExplainRequest,
    *,
    settings: Settings,
    dimensions: Sequence[str],
) -> Explanation:
    """Which segments explain the change of ``request.metric`` between two windows."""
    spec = registry.get(request.metric)
    current, baseline = spans(
        request.start, request.end, request.compare, settings.week_start.value
    )
    form = shape(spec, settings)
    totals = _values(fetch, [spec], current, baseline, ())[spec.id]
    cur_total, base_total = totals[0].get(()), totals[1].get(())
    change = _diff(cur_total, base_total)
    change_pct = change / abs(base_total) if change is not None and base_total else None
    parts = (
        (registry.get(form.numerator), registry.get(form.denominator))
        if form.kind == "ratio" and form.numerator and form.denominator
        else None
    )

    def partition(dims: tuple[str, ...]) -> list[Segment]:
        if parts is not None:
            num, den = parts
            both = _values(fetch, [num, den], current, baseline, dims)
            segs = ratio(both[num.id], both[den.id])
        else:
            cur, base = _values(fetch, [spec], current, baseline, dims)[spec.id]
            segs = additive(cur, base) if form.kind == "additive" else other(cur, base)
        for s in segs:
            s.score = _score(s, total_rel)
        return segs

    total_rel = change / abs(base_total) if change is not None and base_total else None
    found: list[Segment] = []
    skipped: list[str] = []
    useful: list[str] = []
    tried: list[str] = []
    if change:
        for dim in dict.fromkeys(dimensions):
            try:
                segs = partition((dim,))
            except (FilterError, MetricError) as exc:
                if request.by:  # asked for by name: say why it cannot be used
                    raise ExplainError(f"--by {dim}: {exc}") from None
                skipped.append(dim)
                continue
            tried.append(dim)
            found += segs
            if any(s.score >= EXPAND_SHARE for s in segs):
                useful.append(dim)
        layer: list[tuple[str, ...]] = [(d,) for d in useful]
        for depth in range(2, request.depth + 1):
            wanted = sorted({tuple(sorted(set(a) | set(b))) for a in layer for b in layer
                             if len(set(a) | set(b)) == depth})  # fmt: skip
            layer = []
            for dims in wanted:
                segs = partition(dims)
                found += segs
                if any(s.score >= EXPAND_SHARE for s in segs):
                    layer.append(dims)
    chosen = select(found, form.kind, request.top)
    normal = normal_variation(fetch, spec, current, change)
    best = max((s.score for s in chosen), default=0.0)
    broad = bool(change) and form.kind != "other" and best < BROAD_SHARE
    summary = _summary(spec, change, change_pct, chosen, broad, form.kind)
    if normal is not None and normal["within"]:
        summary += (
            f"; a change this size is within the metric's normal variation (±"
            f"{normal['typical_change']:,.4g} from one "
            f"{current.grain or f'{(current.last - current.first).days + 1}-day window'} "
            "to the next)"
        )
    return Explanation(
        metric=spec.id, kind=form.kind,
        current={**current.to_dict(), "value": cur_total},
        baseline={**baseline.to_dict(), "value": base_total},
        change=change, change_pct=change_pct, segments=chosen, dimensions=tried,
        summary=summary, broad=broad, skipped=skipped, normal=normal, searched=found,
    )  # fmt: skip


def _label(s: Segment) -> str:
    return " and ".join(f"{d} = {v}" for d, v in s.key)


def _summary(
    spec: MetricSpec, change: float | None, pct: float | None, chosen: Sequence[Segment],
    broad: bool, kind: str,
) -> str:  # fmt: skip
    if change is None:
        return f"{spec.id} has no value in one of the two windows: nothing to explain"
    if change == 0:
        return f"{spec.id} did not change"
    moved = f"{spec.id} {'rose' if change > 0 else 'fell'}" + (f" {abs(pct):.1%}" if pct else "")
    if not chosen:
        return f"{moved}; no segment stands out — the change is broad"
    if broad:
        return (f"{moved}; no segment stands out (each moved about in proportion to its "
                "size) — the change is broad")  # fmt: skip
    top = chosen[0]
    if kind == "other":
        return f"{moved}; the segment that moved most unlike the rest: {_label(top)}"
    assert top.contribution is not None
    how = ""
    if top.mix_effect is not None and top.rate_effect is not None:
        mix = abs(top.mix_effect) > abs(top.rate_effect)
        how = " (mostly its share of the base moving)" if mix else " (mostly its own rate moving)"
    if top.contribution > 1:
        share = (f"accounts for more than all of it ({top.contribution:.0%}; other segments "
                 "moved the other way)")  # fmt: skip
    else:
        share = f"explains {top.contribution:.0%} of it"
    return f"{moved}; {_label(top)} {share}{how}"


def normal_variation(
    fetch: Fetch, spec: MetricSpec, current: Span, change: float | None
) -> dict[str, Any] | None:
    """Whether ``change`` is within the window-over-window changes of the metric over the
    ``NOISE_PERIODS`` like windows before: within twice their standard deviation. Like
    windows: the periods before, for a whole period; else windows of as many days, read
    from daily values by the metric's rollup (mean of days, or the last day)."""
    if change is None:
        return None
    grain = current.grain
    if grain is not None:
        first = shift_periods(current.first, grain, -(NOISE_PERIODS + 1))
        frame = fetch([spec.id], grain, first, current.first - timedelta(days=1), ())
        values = [float(v) for v in frame.sort_values("period")["value"] if v == v]
    elif spec.rollup in (Rollup.mean, Rollup.end):
        days = (current.last - current.first).days + 1
        first = current.first - timedelta(days=days * (NOISE_PERIODS + 1))
        frame = fetch([spec.id], Grain.day, first, current.first - timedelta(days=1), ())
        daily = {p: float(v) for p, v in zip(frame["period"], frame["value"], strict=True)}
        values = []
        for k in range(NOISE_PERIODS + 1):
            window = [first + timedelta(days=k * days + i) for i in range(days)]
            if spec.rollup is Rollup.mean:
                values.append(sum(daily.get(d, 0.0) for d in window) / days)
            elif window[-1] in daily:
                values.append(daily[window[-1]])
    else:
        return None
    if len(values) < 4:
        return None
    diffs = pd.Series(values).diff().dropna()
    typical = 2 * float(diffs.std(ddof=1))
    return {
        "periods": len(values),
        "typical_change": typical,
        "within": abs(change) <= typical,
    }


def default_dimensions(found: Mapping[str, int], limit: int = 12) -> list[str]:
    """The dimensions to search when ``--by`` is not given: the usual ones first (country,
    device, os, browser, plan, channel) where the data has them, then the other properties
    with the fewest distinct values, ``limit`` in all."""
    named = [d for d in DEFAULT_DIMENSIONS if d in found]
    rest = sorted((k for k in found if k not in named), key=lambda k: (found[k], k))
    return (named + rest)[:limit]


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def feedback_filter(segment: Segment) -> str | None:
    """A ``where`` filter selecting the segment's users (None when it cannot be written:
    an event property such as $os, the "(none)" segment, a quote in a value)."""
    parts = []
    for dim, value in segment.key:
        if not _NAME.match(dim) or value == NONE or "'" in value:
            return None
        parts.append(f"{dim} = '{value}'")
    return " and ".join(parts) if parts else None
