"""Anomalies of a series: a CSV of ``timestamp,value`` or a workspace metric's periods."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from northstar.anomalies.detector import Config, Direction, detect
from northstar.errors import AnomalyError

DIRECTIONS = ("both", "up", "down")
# A KPI series is short (a year of days, a few years of months): fewer points teach the
# detector, and an episode lasts a few periods, not 150 points of a 5-minute series.
# A KPI's bad day should alert that day: runs of 1 and 7 periods (0 false alarms on 20
# simulated years of Poisson noise, tests/test_anomalies.py).
KPI_CONFIG = {
    "day": Config(warmup=28, quiet=7, runs=(1, 7)),
    "week": Config(warmup=8, quiet=2, runs=(1, 4)),
    "month": Config(warmup=6, quiet=1, runs=(1, 3)),
}


STEPS = {"day": 86_400.0, "week": 7 * 86_400.0}  # months have no whole step
# How far before the asked range a metric is read, so the detector has learned by then.
LOOKBACK = {"day": 182, "week": 7 * 78, "month": 31 * 36}


def check_direction(direction: str) -> Direction:
    if direction not in DIRECTIONS:
        raise AnomalyError(f"--direction {direction!r}: use both, up or down")
    return direction  # type: ignore[return-value]


def read_series(text: str, name: str = "the series") -> pd.DataFrame:
    """A ``timestamp,value`` CSV, checked: ISO timestamps, numbers (an empty value is a
    missing point). The text of each timestamp and value is kept as written."""
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AnomalyError(f"{name}: not a CSV file ({str(exc).strip()})") from None
    cols = [c.strip() for c in frame.columns]
    if cols[:2] != ["timestamp", "value"]:
        raise AnomalyError(
            f"{name}: the header must be timestamp,value (it is {','.join(cols) or 'empty'})"
        )
    frame.columns = cols
    if frame.empty:
        raise AnomalyError(f"{name}: no rows after the header")
    when = pd.to_datetime(frame["timestamp"].str.strip(), errors="coerce", utc=True,
                          format="ISO8601")  # fmt: skip
    bad = np.flatnonzero(when.isna().to_numpy())
    if len(bad):
        row = int(bad[0])
        raise AnomalyError(
            f"{name}, row {row + 2}: timestamp {frame['timestamp'][row]!r} is not an ISO "
            "date-time (e.g. 2026-03-01 10:05:00)"
        )
    raw = frame["value"].str.strip()
    values = pd.Series(pd.to_numeric(raw.where(raw != ""), errors="coerce"), dtype=float)
    bad = np.flatnonzero((values.isna() & (raw != "")).to_numpy())
    if len(bad):
        row = int(bad[0])
        raise AnomalyError(f"{name}, row {row + 2}: value {frame['value'][row]!r} is not a number")
    return pd.DataFrame({"timestamp": frame["timestamp"], "text": frame["value"],
                         "value": values.astype(float), "at": when})  # fmt: skip


def step_of(when: pd.Series) -> float | None:
    """The series' step in seconds (the median gap), None for fewer than 2 points."""
    gaps = when.diff().dt.total_seconds().dropna()
    return float(gaps.median()) if len(gaps) else None


def detect_rows(series: pd.DataFrame, direction: Direction) -> list[dict[str, Any]]:
    """``northstar anomalies detect``: one row per input row, in input order."""
    d = detect(series["value"].to_numpy(), direction=direction,
               step_seconds=step_of(series["at"]))  # fmt: skip
    return [
        {
            "timestamp": ts,
            "value": None if math.isnan(v) else v,
            "score": round(float(s), 6),
            "anomaly": int(a),
        }
        for ts, v, s, a in zip(
            series["timestamp"], series["value"], d.score, d.anomaly, strict=True
        )
    ]


def rows_csv(rows: list[dict[str, Any]], texts: list[str]) -> str:
    """The rows as CSV; values as they were written (an empty cell stays empty)."""
    out = io.StringIO()
    out.write("timestamp,value,score,anomaly\n")
    for r, text in zip(rows, texts, strict=True):
        stamp = r["timestamp"]
        if "," in stamp or '"' in stamp:
            stamp = '"' + stamp.replace('"', '""') + '"'
        out.write(f"{stamp},{text},{r['score']:.6f},{r['anomaly']}\n")
    return out.getvalue()


@dataclass
class MetricAnomalies:
    """``northstar anomalies METRIC``: a workspace metric's periods, scored."""

    metric: str
    grain: str
    direction: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    as_of: Any = None
    by: str | None = None  # rows carry "segment": the dimension's value

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "grain": self.grain,
            "direction": self.direction,
            **({"by": self.by} if self.by else {}),
            "rows": self.rows,
            "as_of": self.as_of.to_dict() if self.as_of is not None else None,
        }

    def frame(self) -> pd.DataFrame:
        cols = ["period", "value", "expected", "lower", "upper", "score", "anomaly"]
        if self.by:
            cols = ["segment", *cols]
        return pd.DataFrame(self.rows, columns=cols)


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def metric_anomalies(
    frame: pd.DataFrame, metric: str, grain: str, direction: Direction, first: Any = None
) -> MetricAnomalies:
    """Score a metric's query frame (``period``, ``value``, ``complete``). A period
    without a value, or not complete yet, is not scored (null score, no alert)."""
    frame = frame.sort_values("period").reset_index(drop=True)
    values = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    complete = (
        frame["complete"].astype(bool) if "complete" in frame else pd.Series([True] * len(frame))
    )
    scored = values.where(complete)
    d = detect(scored.to_numpy(), direction=direction,
               config=KPI_CONFIG.get(grain, Config()), step_seconds=STEPS.get(grain))  # fmt: skip
    rows = []
    for i, period in enumerate(frame["period"]):
        if first is not None and period < first:
            continue  # history the detector learned from, before the asked range
        known = not math.isnan(scored.iloc[i])
        rows.append({
            "period": period.isoformat() if hasattr(period, "isoformat") else str(period),
            "value": _num(values.iloc[i]),
            "expected": _num(d.expected[i]),
            "lower": _num(d.lower[i]),
            "upper": _num(d.upper[i]),
            "score": round(float(d.score[i]), 6) if known else None,
            "anomaly": int(d.anomaly[i]) if known else 0,
        })  # fmt: skip
    return MetricAnomalies(metric, grain, direction, rows)
