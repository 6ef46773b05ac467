"""Evaluating the rules once, episodes, delivery and history (docs/alerts.md).

An episode notifies when it fires and when it resolves, never while it goes on. The state
(which rules are firing, deliveries still owed) and the history live in the workspace's
``alerts/`` folder; a delivery that fails after its retries is recorded and tried again on
the next run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from northstar.alerts.config import AlertsFile, Rule
from northstar.alerts.delivery import DeliveryError, Message, deliver
from northstar.settings import SmtpSettings

STATE_DIR = "alerts"
ONGOING_SCORE = 0.9  # an anomaly episode goes on while the score stays this high


class Source(Protocol):
    """What the rules read (the Workspace provides it)."""

    def anomalies(self, metric: str, *, grain: str, direction: str | None,
                  today: date | None, by: str | None = None) -> Any: ...  # fmt: skip
    def query(self, metrics: str, *, grain: str, start: date, end: date,
              today: date | None) -> pd.DataFrame: ...  # fmt: skip
    def track_goal(self, goal_id: str, *, today: date | None) -> Any: ...


@dataclass
class Finding:
    """A rule's condition on the latest complete period."""

    active: bool
    fresh: bool = False  # the condition starts here (an anomaly flagged this period)
    metric: str | None = None
    period: str | None = None
    value: float | None = None
    expected: float | None = None
    what: str = ""


@dataclass
class Outcome:
    rule: str
    metric: str | None
    period: str | None
    value: float | None
    expected: float | None
    state: str  # fired | ongoing | resolved
    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "metric": self.metric, "period": self.period,
            "value": self.value, "expected": self.expected, "state": self.state,
            "delivered": self.delivered, "failed": self.failed, "message": self.message,
        }  # fmt: skip


def _last_complete(frame: pd.DataFrame) -> pd.DataFrame:
    done = frame[frame["complete"].astype(bool)] if "complete" in frame else frame
    return done.sort_values("period")


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if v != v else v


def evaluate(rule: Rule, source: Source, today: date, now: datetime,
             last_event: datetime | None) -> Finding:  # fmt: skip
    """Whether ``rule`` holds on the latest complete period (or now, for staleness)."""
    if rule.when == "stale":
        assert rule.hours is not None
        if last_event is None:
            return Finding(True, what="no event has arrived yet")
        age = (now - last_event).total_seconds() / 3600
        return Finding(age > rule.hours, period=now.isoformat(timespec="minutes"),
                       value=round(age, 1), expected=rule.hours,
                       what=f"no event for {age:.1f} hours (limit {rule.hours:g})")  # fmt: skip
    if rule.when == "status":
        assert rule.goal is not None
        progress = source.track_goal(rule.goal, today=today)
        status = progress.status.value
        what = f"goal {rule.goal} is {status.replace('_', ' ')}: {progress.reason}"
        return Finding(status in rule.status, metric=progress.spec.id, what=what,
                       period=str(progress.current_period or ""),
                       value=_num(progress.current))  # fmt: skip
    assert rule.metric is not None
    if rule.when == "anomaly":
        found = source.anomalies(rule.metric, grain=rule.grain, direction=rule.direction,
                                 today=today, by=rule.by)  # fmt: skip
        rows = [r for r in found.rows if r["score"] is not None]
        if not rows:
            return Finding(False, metric=rule.metric)
        latest = max(r["period"] for r in rows)
        candidates = [r for r in rows if r["period"] == latest]
        # the segment that alerts (the most surprising one), else the highest score
        last = max(candidates, key=lambda r: (r["anomaly"], r["score"]))
        active = bool(last["anomaly"]) or last["score"] >= ONGOING_SCORE
        band = ("" if last["lower"] is None else
                f" (expected {last['expected']:,.4g}, normal range {last['lower']:,.4g}–"
                f"{last['upper']:,.4g})")  # fmt: skip
        who = f" for {rule.by} = {last['segment']}" if rule.by else ""
        what = f"{rule.metric}{who} was {last['value']:,.4g} on {last['period']}{band}"
        return Finding(active, fresh=bool(last["anomaly"]), metric=rule.metric, what=what,
                       period=last["period"], value=last["value"],
                       expected=last["expected"])  # fmt: skip
    span = {"day": 60, "week": 7 * 20, "month": 31 * 14}[rule.grain]
    frame = _last_complete(source.query(rule.metric, grain=rule.grain,
                                        start=today - timedelta(days=span), end=today,
                                        today=today))  # fmt: skip
    values: list[tuple[str, float]] = []
    for p, v in zip(frame["period"], frame["value"], strict=True):
        number = _num(v)
        if number is not None:
            values.append((str(p)[:10], number))
    if not values:
        return Finding(False, metric=rule.metric)
    period, value = values[-1]
    if rule.when in ("above", "below"):
        assert rule.value is not None
        hit = value > rule.value if rule.when == "above" else value < rule.value
        return Finding(hit, metric=rule.metric, period=period, value=value, expected=rule.value,
                       what=f"{rule.metric} was {value:,.4g} in the period of {period}, "
                            f"{rule.when} {rule.value:,.4g}")  # fmt: skip
    back = 7 if rule.compare == "previous_week" and rule.grain == "day" else 1
    if len(values) <= back:
        return Finding(False, metric=rule.metric)
    before = values[-1 - back][1]
    assert rule.pct is not None
    if before == 0:
        return Finding(False, metric=rule.metric)
    pct = (value - before) / abs(before) * 100
    hit = pct <= rule.pct if rule.pct < 0 else pct >= rule.pct
    return Finding(hit, metric=rule.metric, period=period, value=value, expected=before,
                   what=f"{rule.metric} moved {pct:+.1f} % ({before:,.4g} → {value:,.4g}) "
                        f"against {rule.compare.replace('_', ' ')}")  # fmt: skip


# -- state and history ------------------------------------------------------------------
def _state_path(folder: Path) -> Path:
    return folder / STATE_DIR / "state.json"


def load_state(folder: Path) -> dict[str, Any]:
    path = _state_path(folder)
    if not path.exists():
        return {"firing": {}, "owed": []}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _save_state(folder: Path, state: dict[str, Any]) -> None:
    path = _state_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _record(folder: Path, entry: Mapping[str, Any]) -> None:
    path = folder / STATE_DIR / "history.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())


def history(folder: Path, limit: int = 200) -> list[dict[str, Any]]:
    path = folder / STATE_DIR / "history.jsonl"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[-limit:]
    return [json.loads(line) for line in lines if line.strip()]


def snooze(folder: Path, rule: str, until: date | None) -> None:
    """Silence ``rule`` through ``until`` (None: wake it up), kept in the state."""
    state = load_state(folder)
    snoozed: dict[str, str] = state.setdefault("snoozed", {})
    if until is None:
        snoozed.pop(rule, None)
    else:
        snoozed[rule] = until.isoformat()
    _save_state(folder, state)


def overview(alerts: AlertsFile, folder: Path, today: date) -> list[dict[str, Any]]:
    """Every rule with its state: firing (since which period), quiet, muted or snoozed."""
    state = load_state(folder)
    firing, snoozed = state.get("firing", {}), state.get("snoozed", {})
    out = []
    for rule in alerts.rules:
        until = snoozed.get(rule.name) or (
            rule.snooze_until.isoformat() if rule.snooze_until else None
        )
        if until is not None and until < today.isoformat():
            until = None
        status = ("muted" if rule.muted else "snoozed" if until
                  else "firing" if rule.name in firing else "quiet")  # fmt: skip
        out.append({
            "name": rule.name, "when": rule.when, "metric": rule.metric, "goal": rule.goal,
            "grain": rule.grain, "channels": rule.channels, "state": status,
            "since": firing.get(rule.name), "snoozed_until": until,
        })  # fmt: skip
    return out


# -- one run ----------------------------------------------------------------------------
def _message(rule: Rule, finding: Finding, state: str, link: str | None,
             drivers: Sequence[str]) -> Message:  # fmt: skip
    verb = {"fired": "ALERT", "resolved": "RESOLVED"}.get(state, state.upper())
    subject = f"[Northstar] {verb} {rule.name}: {finding.what.split(' (')[0]}"
    lines = [finding.what + "."]
    if state == "resolved":
        lines = [f"Back to normal: {finding.what}."]
    if drivers:
        lines.append("Top drivers: " + "; ".join(drivers) + ".")
    payload = {
        "rule": rule.name, "state": state, "when": rule.when, "metric": finding.metric,
        "period": finding.period, "value": finding.value, "expected": finding.expected,
        "message": " ".join(lines), "link": link, "drivers": list(drivers),
    }  # fmt: skip
    return Message(subject, "\n".join(lines), payload, link)


def run(
    alerts: AlertsFile,
    source: Source,
    folder: Path,
    smtp: SmtpSettings,
    *,
    today: date,
    now: datetime,
    last_event: datetime | None,
    base_url: str,
    drivers: Any = None,  # (metric, grain, period) -> list of "segment (share)" lines
    env: Mapping[str, str] = os.environ,
) -> list[Outcome]:
    """Evaluate every rule once; deliver what fired or resolved (and what was owed)."""
    state = load_state(folder)
    firing: dict[str, Any] = state.setdefault("firing", {})
    owed: list[dict[str, Any]] = state.setdefault("owed", [])
    out: list[Outcome] = []
    # deliveries a previous run could not make come first
    still: list[dict[str, Any]] = []
    for item in owed:
        channel = alerts.channels.get(item["channel"])
        if channel is None:
            continue
        msg = Message(item["subject"], item["text"], item["payload"], item.get("link"))
        try:
            deliver(channel, msg, smtp, env, folder)
            _record(folder, {"at": now.isoformat(), "rule": item["payload"]["rule"],
                             "state": "redelivered", "delivered": [item["channel"]]})  # fmt: skip
        except DeliveryError as exc:
            item["error"] = str(exc)
            still.append(item)
    state["owed"] = still
    snoozed = state.setdefault("snoozed", {})
    for rule in alerts.rules:
        if rule.muted or (rule.snooze_until is not None and today <= rule.snooze_until):
            continue
        if rule.name in snoozed and today.isoformat() <= snoozed[rule.name]:
            continue
        finding = evaluate(rule, source, today, now, last_event)
        was = rule.name in firing
        # an anomaly episode starts only where the detector alerts; a high score after it
        # keeps it going; the other rules start whenever their condition holds
        starts = finding.fresh if rule.when == "anomaly" else finding.active
        if starts and (not was or (finding.fresh and firing[rule.name] != finding.period)):
            status = "fired"
        elif finding.active and was:
            status = "ongoing"
        elif was:
            status = "resolved"
        else:
            continue
        link = (f"{base_url}/explore?metric={finding.metric}&grain={rule.grain}"
                if finding.metric else None)  # fmt: skip
        tops: list[str] = []
        if status == "fired" and drivers is not None and finding.metric and finding.period:
            try:
                tops = list(drivers(finding.metric, rule.grain, finding.period))
            except Exception:
                tops = []
        message = _message(rule, finding, status, link, tops)
        outcome = Outcome(rule.name, finding.metric, finding.period, finding.value,
                          finding.expected, status, message=message.text)  # fmt: skip
        if status in ("fired", "resolved"):
            for name in rule.channels:
                try:
                    deliver(alerts.channels[name], message, smtp, env, folder)
                    outcome.delivered.append(name)
                except DeliveryError as exc:
                    outcome.failed[name] = str(exc)
                    state["owed"].append({"channel": name, "subject": message.subject,
                                          "text": message.text, "payload": message.payload,
                                          "link": message.link, "error": str(exc)})  # fmt: skip
        if status == "fired":
            firing[rule.name] = finding.period
        elif status == "resolved":
            firing.pop(rule.name, None)
        _record(folder, {"at": now.isoformat(), **outcome.to_dict()})
        out.append(outcome)
    _save_state(folder, state)
    return out
