"""Custom YAML metrics, filters, caching, the registry's completeness and the CLI contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from northstar.errors import FilterError, QueryArgumentError, UnknownMetricError
from northstar.metrics.registry import builtin_metrics
from northstar.workspace import Workspace
from tests.metric_fixtures import events

TODAY = date(2026, 6, 1)
# 'open' events: Mar 1 x2 (u1, u2), Mar 2 (u1), Mar 9 (u1), Apr 1 x3 (u1, u1, u3)
LOG = [
    ("open", "u1", "2026-03-01T10:00:00Z"), ("open", "u2", "2026-03-01T11:00:00Z"),
    ("open", "u1", "2026-03-02T10:00:00Z"), ("save", "u2", "2026-03-02T10:00:00Z"),
    ("open", "u1", "2026-03-09T10:00:00Z"), ("open", "u1", "2026-04-01T10:00:00Z"),
    ("open", "u1", "2026-04-01T11:00:00Z"), ("open", "u3", "2026-04-01T12:00:00Z"),
]  # fmt: skip

CUSTOM = """
metrics:
  - id: opens
    description: Times the app was opened.
    kind: simple
    table: events
    aggregation: count
    filters: ["event = 'open'"]
  - id: openers
    description: People who opened the app.
    kind: simple
    table: events
    aggregation: count_distinct
    column: person_id
    filters: ["event = 'open'"]
  - id: opens_per_opener
    description: Opens per person who opened.
    kind: ratio
    numerator: opens
    denominator: openers
    unit: number
  - id: opens_growth
    description: Change in opens from the previous period.
    kind: derived
    expression: opens / opens[-1] - 1
    unit: rate
  - id: weekly_openers
    description: People who opened in the last 7 days.
    kind: rolling
    table: events
    aggregation: count_distinct
    column: person_id
    window_days: 7
    filters: ["event = 'open'"]
  - id: broken
    description: Uses an aggregation that does not exist.
    kind: simple
    table: events
    aggregation: average
"""


@pytest.fixture
def custom(tmp_path: Path) -> Workspace:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    events(ws, LOG)
    (ws.path / "metrics" / "product.yaml").write_text(CUSTOM, encoding="utf-8")
    return ws


def vals(ws: Workspace, metric: str, grain: str, start: str, end: str) -> list[float | None]:
    df = ws.query(metric, grain=grain, start=start, end=end, use_cache=False, today=TODAY)
    return [None if v != v else round(float(v), 4) for v in df["value"]]


def test_custom_simple_ratio_derived_and_rolling_metrics(custom: Workspace) -> None:
    assert vals(custom, "opens", "month", "2026-03-01", "2026-04-30") == [4, 3]
    assert vals(custom, "openers", "month", "2026-03-01", "2026-04-30") == [2, 2]
    assert vals(custom, "opens_per_opener", "month", "2026-03-01", "2026-04-30") == [2.0, 1.5]
    # Feb has no opens (0): growth into March is undefined; April: 3/4 - 1
    assert vals(custom, "opens_growth", "month", "2026-03-01", "2026-04-30") == [None, -0.25]
    # Mar 7 window (Mar 1-7) = {u1, u2}; Mar 8 (Mar 2-8) = {u1}: u2's Mar 2 event is a
    # save; Mar 9 (Mar 3-9) = {u1}
    assert vals(custom, "weekly_openers", "day", "2026-03-07", "2026-03-09") == [2, 1, 1]


def test_a_broken_custom_metric_is_reported_and_the_others_still_load(custom: Workspace) -> None:
    registry = custom.registry()
    assert "opens" in registry.metrics and "broken" not in registry.metrics
    assert len(registry.problems) == 1
    problem = registry.problems[0]
    assert "product.yaml" in problem and "'broken'" in problem and "aggregation" in problem
    with pytest.raises(UnknownMetricError, match="product.yaml"):
        custom.query("broken", today=TODAY)


def test_yaml_that_does_not_parse_names_the_file_and_line(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    (ws.path / "metrics" / "bad.yaml").write_text(
        "metrics:\n  - id: x\n   kind: [", encoding="utf-8"
    )
    (ws.path / "metrics" / "ref.yaml").write_text(
        "metrics:\n  - {id: r, description: d, kind: ratio, numerator: dau, denominator: nope}\n",
        encoding="utf-8",
    )
    problems = ws.registry().problems
    assert any(p.startswith("bad.yaml: line") for p in problems)
    assert any("'r'" in p and "nope" in p for p in problems)


def test_bad_filters_are_clear_errors_and_never_reach_sql(custom: Workspace) -> None:
    for where in ("event =", "event = 'open'; DROP TABLE events", "event = (SELECT 1)", "a = b"):
        with pytest.raises(FilterError):
            custom.query("dau", where=where, use_cache=False, today=TODAY)
    assert custom.sql("SELECT count(*) AS n FROM events").to_pylist() == [{"n": len(LOG)}]
    with pytest.raises(FilterError, match="unknown dimension"):
        custom.query("dau", by="nosuch", use_cache=False, today=TODAY)


def test_argument_errors(custom: Workspace) -> None:
    with pytest.raises(QueryArgumentError, match="grain"):
        custom.query("dau", grain="fortnight")
    with pytest.raises(QueryArgumentError, match="after"):
        custom.query("dau", start="2026-03-02", end="2026-03-01")
    with pytest.raises(QueryArgumentError, match="YYYY-MM-DD"):
        custom.query("dau", start="March")
    with pytest.raises(UnknownMetricError, match="did you mean dau"):
        custom.query("daus")


def test_results_are_cached_per_data_version(custom: Workspace) -> None:
    first = custom.run_query(
        "opens", grain="month", start="2026-03-01", end="2026-03-31", today=TODAY
    )
    again = custom.run_query(
        "opens", grain="month", start="2026-03-01", end="2026-03-31", today=TODAY
    )
    assert not first.cached and again.cached
    assert again.frame["value"].tolist() == [4]
    events(custom, [("open", "u9", "2026-03-20T10:00:00Z")])  # new data: a new data version
    fresh = custom.run_query(
        "opens", grain="month", start="2026-03-01", end="2026-03-31", today=TODAY
    )
    assert not fresh.cached and fresh.frame["value"].tolist() == [5]
    bypass = custom.run_query("opens", grain="month", start="2026-03-01", end="2026-03-31",
                              today=TODAY, use_cache=False)  # fmt: skip
    assert not bypass.cached


def test_every_catalog_metric_is_documented() -> None:
    specs = builtin_metrics()
    assert len({s.id for s in specs}) == len(specs)
    for s in specs:
        assert s.title and s.description and s.formula, s.id
        assert s.unit and s.direction and s.category and s.perspective, s.id


def test_catalog_covers_the_kpis_in_scope() -> None:
    ids = {s.id for s in builtin_metrics()}
    in_scope = {
        "dau", "wau", "mau", "active_users", "stickiness", "new_users", "usage_frequency",
        "user_churn_rate", "mrr", "arr", "new_mrr", "expansion_mrr", "contraction_mrr",
        "churned_mrr", "reactivation_mrr", "net_new_mrr", "arpu", "arpu_new", "revenue",
        "revenue_growth", "orders", "buyers", "aov", "customer_churn_rate", "gross_mrr_churn",
        "net_mrr_churn", "nrr", "grr", "ltv", "ltv_cac", "cac_payback", "gross_margin",
        "profit_margin", "quick_ratio",
    }  # fmt: skip
    assert in_scope <= ids, sorted(in_scope - ids)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "northstar.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)  # fmt: skip


def test_cli_json_contract_and_errors(custom: Workspace) -> None:
    out = run_cli("query", "opens", "--grain", "month", "--from", "2026-03-01", "--to", "2026-04-30",
                  "--format", "json", "-w", str(custom.path), cwd=custom.path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["metric"] == "opens" and doc["grain"] == "month"
    assert doc["rows"] == [
        {"period": "2026-03-01", "value": 4.0, "complete": True},
        {"period": "2026-04-01", "value": 3.0, "complete": False},  # the data ends in April
    ]
    assert doc["data_through"] < "2026-04-30" and doc["as_of"] > doc["data_through"]
    bad = run_cli("query", "opens", "--where", "event = (", "-w", str(custom.path), cwd=custom.path)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1 and "filter" in bad.stderr
    listed = run_cli("metrics", "list", "-w", str(custom.path), cwd=custom.path)
    assert listed.returncode == 0 and "opens_per_opener" in listed.stdout
    assert "broken" in listed.stderr
