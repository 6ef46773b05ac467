"""The demo's alert rules over the demo year: which planted incident each rule catches, how
many days after it starts, and how many alerts fire on normal days.

Run:  make bench-demo-alerts    (or: .venv/bin/python benchmarks/demo_alerts.py [-w DIR])

Uses the demo workspace (``make demo`` builds ``demo-workspace``; its ``alerts.yaml`` holds
the default rules, ``northstar.demo.load.DEMO_ALERTS``). The anomaly rules are replayed in
one pass over the year: the detector is causal (tests/test_anomalies.py), so the flag of
each day is the one a daily ``alerts run`` would have raised that day. Threshold and change
rules are read per period. An alert counts as catching an incident when it names the
incident's metric (and segment, for a rule by segment) between the incident's start and
its end (or the end of the data); every other alert of an anomaly rule is a false alarm.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from northstar.alerts.config import load_alerts
from northstar.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-w", "--workspace", type=Path, default=ROOT / "demo-workspace")
    args = parser.parse_args()
    ws = Workspace(args.workspace)
    rules = load_alerts(ws.path).rules
    now = ws.as_of()
    end = now.end
    first = end - timedelta(days=365) + timedelta(days=60)  # after the detector has learned
    incidents = pd.DataFrame(ws.incidents())
    print(f"demo workspace {ws.path}, {first} … {end}, {len(rules)} rules\n")
    print("| rule | alerts | catches | days from the start to the first alert | false alarms |")
    print("| --- | ---: | --- | ---: | ---: |")
    for rule in rules:
        fired: list[tuple[date, str | None]] = []
        if rule.when == "anomaly":
            assert rule.metric is not None
            found = ws.anomalies(rule.metric, grain=rule.grain, start=first, end=end,
                                 direction=rule.direction, by=rule.by)  # fmt: skip
            fired = [(date.fromisoformat(r["period"][:10]), r.get("segment"))
                     for r in found.rows if r["anomaly"]]  # fmt: skip
        elif rule.when in ("above", "below", "change"):
            assert rule.metric is not None
            frame = ws.query(rule.metric, grain=rule.grain, start=first, end=end)
            frame = frame[frame["complete"].astype(bool)].sort_values("period")
            values = list(zip(frame["period"], frame["value"], strict=True))
            for i, (period, value) in enumerate(values):
                if value is None or value != value:
                    continue
                if rule.when == "above" and rule.value is not None and value > rule.value:
                    fired.append((period, None))
                if rule.when == "below" and rule.value is not None and value < rule.value:
                    fired.append((period, None))
                if rule.when == "change" and i and rule.pct is not None and values[i - 1][1]:
                    pct = (value - values[i - 1][1]) / abs(values[i - 1][1]) * 100
                    if (pct <= rule.pct) if rule.pct < 0 else (pct >= rule.pct):
                        fired.append((period, None))
        else:
            print(f"| {rule.name} | – | (not replayed: reads the clock) | – | – |")
            continue
        caught, delay, false = [], [], 0
        for day, segment in fired:
            hit = None
            for inc in incidents.itertuples():
                if inc.metric != rule.metric:
                    continue
                seg = json.loads(inc.segment) if isinstance(inc.segment, str) else {}
                if rule.by and seg.get(rule.by) not in (None, segment):
                    continue
                start = pd.Timestamp(inc.started_at).date()
                stop = end if pd.isna(inc.ended_at) else pd.Timestamp(inc.ended_at).date()
                period_end = day if rule.grain == "day" else (
                    (pd.Timestamp(day) + pd.offsets.MonthEnd(0)).date())  # fmt: skip
                if period_end >= start and day <= stop:
                    hit = inc
                    # an alert is raised the day after its period ends (it is complete)
                    delay.append((period_end + timedelta(days=1) - start).days)
                    break
            if hit is None:
                false += 1
            elif hit.incident_id not in caught:
                caught.append(hit.incident_id)
        first_delay = f"{min(delay)} days" if delay else "–"
        print(f"| {rule.name} | {len(fired)} | {', '.join(caught) or 'none'} | {first_delay} "
              f"| {false} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
