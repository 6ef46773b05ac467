"""Load the simulated demo product into a workspace, through the normal import path."""

from __future__ import annotations

import json
from datetime import timedelta
from importlib import resources
from typing import Any

from northstar.alerts.config import ALERTS_FILE
from northstar.analyses.features import FEATURES_FILE
from northstar.demo import DemoProduct, generate
from northstar.demo.features import CORE_FEATURE, FEATURES
from northstar.demo.goals import install_demo_goals
from northstar.ingest import ImportSummary, import_table
from northstar.reports.config import REPORTS_FILE
from northstar.store import Store
from northstar.workspace import Workspace


def record_incidents(store: Store, product: DemoProduct) -> None:
    """Write the planted incidents to the workspace's ``incidents`` table."""
    with store.transaction():
        for inc in product.incidents:
            store.execute(
                "INSERT INTO incidents VALUES (?, ?, ?, ?, ?, ?, ?)",
                [inc.incident_id, inc.kind, inc.metric, json.dumps(inc.segment),
                 inc.started_at, inc.ended_at, inc.description],
            )  # fmt: skip


def install_example_metrics(ws: Workspace) -> None:
    """Put the shipped example custom metrics (community, analyses) in metrics/."""
    source = resources.files("northstar.metrics") / "examples" / "community.yaml"
    target = ws.path / "metrics" / "community.yaml"
    target.parent.mkdir(exist_ok=True)
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    source = resources.files("northstar.analyses") / "examples" / "behaviour.yaml"
    target = ws.path / "metrics" / "behaviour.yaml"
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")


def install_features(ws: Workspace, product: DemoProduct) -> None:
    """Declare the demo's features (``features.yaml``) for the feature adoption report."""
    days = (product.end - product.start).days + 1
    lines = ["# The demo product's features (northstar features; docs/analyses.md).", "features:"]
    for feature in FEATURES:
        if feature.community or feature.event == FEATURES[CORE_FEATURE].event:
            continue
        lines.append(f"  - id: {feature.event}")
        lines.append(f"    name: {feature.event.replace('_', ' ').capitalize()}")
        lines.append(f"    event: {feature.event}")
        if feature.release is not None:
            released = product.start + timedelta(days=round(feature.release * days))
            lines.append(f"    released: {released.isoformat()}")
    (ws.path / FEATURES_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


# The settings the demo product's catalog needs beyond the defaults: the size of its
# addressable market (potential customers), for market_penetration.
DEMO_SETTINGS: dict[str, Any] = {"revenue": {"addressable_market": 40000}}


# The demo's alert rules (docs/alerts.md): they write to a file in the workspace, so the
# demo never sends mail or calls a webhook.
DEMO_ALERTS = """\
# Alert rules of the demo workspace (docs/alerts.md). Alerts land in alerts/inbox.jsonl.
channels:
  inbox: {type: file, path: alerts/inbox.jsonl}
rules:
  - name: dau-drop-by-os
    metric: dau
    when: anomaly
    direction: down
    by: "$os"
    channels: [inbox]
  - {name: signups-drop, metric: signups, when: anomaly, direction: down, channels: [inbox]}
  - name: churn-high
    metric: customer_churn_rate
    grain: month
    when: above
    value: 0.05
    channels: [inbox]
  - {name: cac-rise, metric: cac, grain: month, when: change, pct: 20, channels: [inbox]}
  - {name: stale, when: stale, hours: 48, channels: [inbox]}
"""


# The demo's reports (docs/reports.md): archived as Markdown in the workspace (reports/),
# never mailed; add recipients, `email` and `pdf` once smtp is set in northstar.yaml.
DEMO_REPORTS = """\
# Reports of the demo workspace (docs/reports.md). Sent ones land in reports/archive/.
reports:
  - name: weekly-exec
    title: Weekly KPI report
    schedule: "0 8 * * MON"
    timezone: Europe/Paris
    formats: [markdown]
    sections: [scorecard, goals, kpis, movers, alerts, feedback, notes]
    kpis: [mau, mrr, signups, nps]
    notes: "Sign-ups are ahead of plan; churn is the risk to watch."
  - name: monthly-board
    title: Monthly board report
    schedule: "0 9 1 * *"
    timezone: Europe/Paris
    formats: [markdown]
    sections: [scorecard, goals, kpis, movers, feedback]
    kpis: [mrr, paying_customers, customer_churn_rate, cac]
"""


def install_demo_alerts(ws: Workspace) -> None:
    """The demo's ``alerts.yaml`` and ``reports.yaml`` (kept if the workspace has them)."""
    target = ws.path / ALERTS_FILE
    if not target.exists():
        target.write_text(DEMO_ALERTS, encoding="utf-8")
    target = ws.path / REPORTS_FILE
    if not target.exists():
        target.write_text(DEMO_REPORTS, encoding="utf-8")


def load_demo(ws: Workspace, *, users: int, days: int, seed: int) -> list[ImportSummary]:
    """Generate the demo product and import every table; returns one summary per table.

    The demo has community events, so the example community metrics are installed too;
    its objectives and goals are written to ``goals.yaml`` (see ``demo/goals.py``)."""
    install_example_metrics(ws)
    product = generate(users=users, days=days, seed=seed)
    summaries = []
    with ws.store() as store:
        for name, table in product.tables.items():
            summaries.append(
                import_table(store, name, table, source=f"demo(seed={seed})", timezone="UTC")
            )
        record_incidents(store, product)
    install_features(ws, product)
    install_demo_goals(ws, product.end)
    install_demo_alerts(ws)
    return summaries
