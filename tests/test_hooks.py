"""Extension points (northstar.hooks): the built-ins register through them, and the example
plugin in examples/northstar_file_alerts, installed the way pip installs a package (a
dist-info with a `northstar` entry point on the path), adds a metric kind that computes
and an alert channel that delivers."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from northstar import hooks
from northstar.metrics import extensions
from northstar.metrics.registry import builtin_metrics
from northstar.workspace import Workspace
from tests.metric_fixtures import events

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "northstar_file_alerts"


def fresh_plugins() -> None:
    hooks.plugins.cache_clear()
    extensions.plugin_kinds.cache_clear()


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example plugin as pip would install it: its package and a dist-info declaring
    the entry point, on sys.path."""
    info = tmp_path / "site" / "northstar_file_alerts-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: northstar-file-alerts\n"
                                   "Version: 0.1.0\n")  # fmt: skip
    (info / "entry_points.txt").write_text("[northstar]\nfile_alerts = northstar_file_alerts\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.syspath_prepend(str(EXAMPLE))
    fresh_plugins()
    yield
    sys.modules.pop("northstar_file_alerts", None)
    monkeypatch.undo()
    fresh_plugins()


def test_the_built_ins_register_through_the_hooks() -> None:
    names = [name for name, _ in hooks.plugins().list_name_plugin()]
    assert "northstar.analyses.plugin" in names
    assert {"retention", "funnel", "feature_adoption"} <= set(extensions.plugin_kinds())
    ids = {m.id for m in builtin_metrics()}
    assert {"retention_rate", "sessions", "bounce_rate"} <= ids  # the analyses' metrics


def test_an_unknown_kind_names_the_kinds_there_are(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    (ws.path / "metrics" / "x.yaml").write_text(
        "metrics:\n  - id: odd\n    kind: cohort_magic\n    description: d\n"
    )
    (problem,) = ws.registry().problems
    assert "unknown kind 'cohort_magic'" in problem
    assert "simple, rolling, ratio, derived, retention, funnel, feature_adoption" in problem


def test_the_example_plugin_adds_a_metric_kind_that_computes(
    installed: None, tmp_path: Path
) -> None:
    loaded = [getattr(p, "__name__", "") for p in hooks.plugins().get_plugins()]
    assert "northstar_file_alerts" in loaded  # found through its entry point
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    # March 2026: a searches on 3 days, b on 1 day → (3 + 1) / 2 = 2 days per searching user;
    # April: a on 1 day → 1. Opens do not count.
    events(ws, [
        ("searched", "a", "2026-03-02T10:00:00Z"), ("searched", "a", "2026-03-02T11:00:00Z"),
        ("searched", "a", "2026-03-05T10:00:00Z"), ("searched", "a", "2026-03-20T10:00:00Z"),
        ("searched", "b", "2026-03-07T10:00:00Z"), ("opened", "b", "2026-03-08T10:00:00Z"),
        ("searched", "a", "2026-04-02T10:00:00Z"),
    ])  # fmt: skip
    (ws.path / "metrics" / "search.yaml").write_text(
        "metrics:\n  - id: search_days\n    kind: active_days_per_user\n"
        "    description: Days with a search per searching user\n    event: searched\n"
    )
    registry = ws.registry()
    assert registry.problems == []
    spec = registry.get("search_days")
    assert spec.formula == "days with searched / people with searched, in P"
    frame = ws.query("search_days", grain="month", start="2026-03-01", end="2026-04-30")
    assert frame["value"].tolist() == [2.0, 1.0]


def test_the_example_plugin_adds_an_alert_channel_that_delivers(
    installed: None, tmp_path: Path
) -> None:
    channels = {c.kind: c for c in hooks.gathered("northstar_alert_channels")}
    target = tmp_path / "alerts.jsonl"
    alert = {"metric": "dau", "value": 812, "expected": 1040, "direction": "down"}
    channels["file"].deliver({"path": str(target)}, alert)
    channels["file"].deliver({"path": str(target)}, {**alert, "value": 790})
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [x["value"] for x in lines] == [812, 790] and lines[0]["metric"] == "dau"
    with pytest.raises(ValueError, match="needs a 'path'"):
        channels["file"].deliver({}, alert)
