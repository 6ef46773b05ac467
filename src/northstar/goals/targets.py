"""What a goal aims at: reach at least / at most a value, stay in a band, or change by x %.

A :class:`Target` is stored as written (``change`` keeps its percentage); against a
baseline it resolves to bounds (:class:`Bounds`) that every judgement uses, so "lower is
better" needs no special case: an ``at_most`` target is met below its value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from northstar.errors import GoalError
from northstar.metrics.format import format_value
from northstar.metrics.spec import Direction, Unit


class TargetKind(StrEnum):
    at_least = "at_least"
    at_most = "at_most"
    band = "band"
    change = "change"


class Target(BaseModel):
    """A target as written in ``goals.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: TargetKind
    value: float | None = None  # at_least, at_most
    low: float | None = None  # band
    high: float | None = None  # band
    change_pct: float | None = None  # change: +10 means 10 % above the baseline

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Target:
        needs = {
            TargetKind.at_least: ("value",),
            TargetKind.at_most: ("value",),
            TargetKind.band: ("low", "high"),
            TargetKind.change: ("change_pct",),
        }[self.kind]
        for name in ("value", "low", "high", "change_pct"):
            given = getattr(self, name)
            if name in needs and (given is None or not math.isfinite(given)):
                raise ValueError(f"a {self.kind.value} target needs a number in '{name}'")
            if name not in needs and given is not None:
                raise ValueError(f"'{name}' does not belong to a {self.kind.value} target")
        band = self.kind is TargetKind.band and self.low is not None and self.high is not None
        if band and self.low > self.high:  # type: ignore[operator]
            raise ValueError(f"band low {self.low} is above high {self.high}")
        if self.kind is TargetKind.change and self.change_pct == 0:
            raise ValueError("a change target of 0 % asks for nothing; give e.g. +10 or -15")
        return self

    def resolve(self, baseline: float | None) -> Bounds:
        """The bounds the value must fall in; ``change`` needs the baseline."""
        if self.kind is TargetKind.at_least:
            assert self.value is not None
            return Bounds(self.value, math.inf)
        if self.kind is TargetKind.at_most:
            assert self.value is not None
            return Bounds(-math.inf, self.value)
        if self.kind is TargetKind.band:
            assert self.low is not None and self.high is not None
            return Bounds(self.low, self.high)
        assert self.change_pct is not None
        if baseline is None:
            raise GoalError("a change target needs a baseline, and none is known yet")
        goal = baseline + abs(baseline) * self.change_pct / 100
        return Bounds(goal, math.inf) if self.change_pct > 0 else Bounds(-math.inf, goal)

    def describe(self, unit: Unit, currency: str = "USD", baseline: float | None = None) -> str:
        """``≥ 2,800``, ``≤ $150.00``, ``3.70–4.20``, ``+40 % (≥ 2,480)``."""
        fmt = lambda v: format_value(v, unit, currency)  # noqa: E731
        if self.kind is TargetKind.at_least:
            return f"≥ {fmt(self.value)}"
        if self.kind is TargetKind.at_most:
            return f"≤ {fmt(self.value)}"
        if self.kind is TargetKind.band:
            return f"{fmt(self.low)}–{fmt(self.high)}"
        text = f"{self.change_pct:+g} %"
        if baseline is not None:
            text += f" ({self.resolve(baseline).describe(unit, currency)})"
        return text


@dataclass(frozen=True)
class Bounds:
    """A target resolved against the baseline: met when ``low <= value <= high``."""

    low: float
    high: float

    def met(self, value: float | None) -> bool:
        return value is not None and not math.isnan(value) and self.low <= value <= self.high

    def met_share(self, values: np.ndarray) -> float:
        """The share of ``values`` (e.g. simulated outcomes) that meet the target."""
        if values.size == 0:
            return math.nan
        return float(np.mean((values >= self.low) & (values <= self.high)))

    def aim(self, baseline: float) -> float:
        """The value that progress is measured towards from ``baseline``: the bound to
        reach, or the baseline itself when it already meets the target."""
        if baseline < self.low:
            return self.low
        if baseline > self.high:
            return self.high
        return baseline

    @property
    def sense(self) -> int:
        """+1 when higher values are the way to the target, -1 when lower, 0 for a band."""
        if math.isinf(self.high) and not math.isinf(self.low):
            return 1
        if math.isinf(self.low) and not math.isinf(self.high):
            return -1
        return 0

    def describe(self, unit: Unit, currency: str = "USD") -> str:
        if self.sense > 0:
            return f"≥ {format_value(self.low, unit, currency)}"
        if self.sense < 0:
            return f"≤ {format_value(self.high, unit, currency)}"
        return f"{format_value(self.low, unit, currency)}–{format_value(self.high, unit, currency)}"


_NUMBER = r"[-+]?(?:\d[\d,_]*\.?\d*|\.\d+)(?:e[-+]?\d+)?"
_SCALE = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800, "k": 1000}
_BETWEEN = re.compile(rf"^(?:between\s+)?({_NUMBER}\S*)\s*(?:\.\.|–|\s+and\s+|\s+to\s+)\s*(\S+)$")


def parse_target(text: str, direction: Direction) -> Target:
    """A target typed by a person.

    ``3000`` (at least for higher-is-better metrics, at most for lower-is-better),
    ``>= 3000`` / ``at least 3000``, ``<= 150`` / ``at most 150``, ``3.7..4.2`` /
    ``between 3.7 and 4.2``, ``+10%`` / ``-15%`` (change from the baseline). ``2.5%``
    without a sign is the value 0.025 (rates are fractions); durations take ``s min h d w``
    and ``k`` means thousands.
    """
    raw = " ".join(text.strip().lower().replace("$", "").replace("€", "").replace("£", "").split())
    if not raw:
        raise GoalError("the target is empty; write e.g. '>= 3000', '<= 150', '3.7..4.2' or '+10%'")
    change = re.fullmatch(rf"({_NUMBER})\s*%", raw)
    if change and raw[0] in "+-":
        pct = _number(change.group(1), raw)
        return _make(raw, kind=TargetKind.change, change_pct=pct)
    for prefix, kind in ((">=", TargetKind.at_least), ("≥", TargetKind.at_least),
                         ("at least", TargetKind.at_least), ("<=", TargetKind.at_most),
                         ("≤", TargetKind.at_most), ("at most", TargetKind.at_most)):  # fmt: skip
        if raw.startswith(prefix):
            return _make(raw, kind=kind, value=_amount(raw[len(prefix) :].strip(), raw))
    band = _BETWEEN.fullmatch(raw)
    if band:
        low, high = _amount(band.group(1), raw), _amount(band.group(2), raw)
        return _make(raw, kind=TargetKind.band, low=low, high=high)
    value = _amount(raw, raw)
    kind = TargetKind.at_least if direction is Direction.higher else TargetKind.at_most
    return _make(raw, kind=kind, value=value)


def _make(raw: str, **fields: object) -> Target:
    try:
        return Target.model_validate(fields)
    except ValueError as exc:
        msg = str(exc).splitlines()[-1].strip().removeprefix("Value error, ")
        raise GoalError(f"target {raw!r}: {msg}") from None


def _amount(text: str, whole: str) -> float:
    match = re.fullmatch(rf"({_NUMBER})\s*(%|[a-z]+)?", text)
    if not match:
        raise GoalError(
            f"cannot read the target {whole!r}; write e.g. '>= 3000', '<= 150', "
            "'3.7..4.2', '2.5%' or '+10%'"
        )
    value = _number(match.group(1), whole)
    suffix = match.group(2)
    if suffix is None:
        return value
    if suffix == "%":
        return value / 100
    if suffix in _SCALE:
        return value * _SCALE[suffix]
    raise GoalError(
        f"unknown unit {suffix!r} in the target {whole!r}; use % (rates), "
        "s, min, h, d, w (durations) or k (thousands)"
    )


def _number(text: str, whole: str) -> float:
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise GoalError(f"{text!r} in the target {whole!r} is not a number") from None
    if not math.isfinite(value):
        raise GoalError(f"the target {whole!r} is not a finite number")
    return value
