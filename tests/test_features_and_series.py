"""The feature adoption report and the analyses' series metrics on hand-made logs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from northstar.errors import FilterError, MetricDefinitionError
from northstar.workspace import Workspace
from tests import test_funnel, test_retention
from tests.metric_fixtures import events, load

TODAY = date(2026, 5, 1)
LOG = [
    # A uses sql on Mar 2 (twice) and Mar 3, and is active again on Mar 31.
    ("open", "A", "2026-03-02T09:00:00Z"), ("sql_run", "A", "2026-03-02T10:00:00Z"),
    ("sql_run", "A", "2026-03-02T11:00:00Z"), ("sql_run", "A", "2026-03-03T10:00:00Z"),
    ("open", "A", "2026-03-31T10:00:00Z"),
    # B syncs a calendar on Mar 20 (released Mar 15) and is back on Apr 18.
    ("open", "B", "2026-03-01T10:00:00Z"), ("cal_sync", "B", "2026-03-20T10:00:00Z"),
    ("open", "B", "2026-04-18T10:00:00Z"),
    # C: Mar 1 and Mar 29. D: Mar 16 only.
    ("open", "C", "2026-03-01T10:00:00Z"), ("open", "C", "2026-03-29T10:00:00Z"),
    ("open", "D", "2026-03-16T10:00:00Z"),
    ("$pageleave", "zz", "2026-05-31T12:00:00Z"),  # the data runs to May 31 (passive)
]  # fmt: skip
FEATURES = """features:
  - {id: sql, name: SQL, event: sql_run}
  - {id: cal, name: Calendar, event: cal_sync, released: 2026-03-15}
"""


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.init(
        tmp_path_factory.mktemp("features") / "ws",
        timezone="UTC",
        features={"promote_max_adoption": 0.3, "promote_min_frequency_ratio": 1.1,
                  "rethink_max_adoption": 0.3},
    )  # fmt: skip
    events(ws, LOG)
    (ws.path / "features.yaml").write_text(FEATURES, encoding="utf-8")
    (ws.path / "metrics" / "behaviour.yaml").write_text(
        """metrics:
  - id: sql_adoption
    kind: feature_adoption
    description: Share of active users who ran SQL.
    event: sql_run
""",
        encoding="utf-8",
    )
    return ws


def test_feature_report(ws: Workspace) -> None:
    report = ws.feature_report(start="2026-03-01", end="2026-03-31", today=TODAY)
    sql, cal = report.features
    # SQL: A, B, C, D active in March; A adopted (3 uses on 2 days from Mar 2: 30 days is
    # 30/7 weeks → 2 / (30/7) = 0.4667 days a week). A is active 28–34 days after Mar 2
    # (Mar 31): 1/1. Others anchored on their first day: B (Mar 1, nothing Mar 29–Apr 4),
    # C (Mar 1, back Mar 29), D (Mar 16, nothing Apr 13–19) → 1/3.
    assert (sql.active_users, sql.adopters, sql.adoption_rate) == (4, 1, 0.25)
    assert sql.uses_per_adopter == 3.0
    assert sql.days_per_week == pytest.approx(2 / (30 / 7), abs=1e-3)
    assert (sql.week4_retention_adopters, sql.week4_retention_others) == (1.0, 0.3333)
    # Calendar from its release (Mar 15): active A, B, C, D; B adopted on Mar 20 (1 day
    # over 12/7 weeks = 0.5833), back on Apr 18 (days 28–34: Apr 17–23) → 1/1. Others:
    # only D's anchor (Mar 16) is 35 days before today; D is not back → 0.
    assert (cal.start, cal.active_users, cal.adopters) == (date(2026, 3, 15), 4, 1)
    assert cal.days_per_week == pytest.approx(1 / (12 / 7), abs=1e-3)
    assert (cal.week4_retention_adopters, cal.week4_retention_others) == (1.0, 0.0)
    # Median days/week 0.525: Calendar ≥ 1.1 × median with adoption < 0.3 → promote;
    # SQL is used less often and by < 30 % → rethink.
    assert (cal.flag, sql.flag) == ("promote", "rethink")


def test_feature_file_mistakes(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    with pytest.raises(MetricDefinitionError, match="no features declared"):
        ws.feature_report(today=TODAY)
    (ws.path / "features.yaml").write_text("features:\n  - {id: Bad Id, event: x}\n")
    with pytest.raises(MetricDefinitionError, match="features.yaml: feature 'Bad Id': id"):
        ws.feature_report(today=TODAY)


def test_feature_adoption_metric(ws: Workspace) -> None:
    frame = ws.query("sql_adoption", grain="month", start="2026-03-01", end="2026-03-31",
                     today=TODAY)  # fmt: skip
    assert frame["value"].tolist() == [0.25]  # A of A, B, C, D


def test_retention_rate_metric(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    events(ws, test_retention.LOG, test_retention.PROPS)
    frame = ws.query("retention_rate", grain="day", start="2026-03-01", end="2026-03-02",
                     today=test_retention.TODAY)  # fmt: skip
    # New on Mar 1: P (as a1), back Mar 2 → 1. New on Mar 2: Q, next back on Mar 4 → 0.
    assert frame["value"].tolist() == [1.0, 0.0]
    # On Mar 2 the Mar 2 cohort's next day has not begun: no value yet, rather than 0.
    early = ws.query("retention_rate", grain="day", start="2026-03-01", end="2026-03-02",
                     today=date(2026, 3, 2))  # fmt: skip
    assert early["value"].iloc[0] == 1.0 and early["value"].isna().iloc[1]
    # On Mar 3 the Mar 2 cohort has a value but is not final until Mar 3 has ended.
    mid = ws.query("retention_rate", grain="day", start="2026-03-01", end="2026-03-02",
                   today=date(2026, 3, 3))  # fmt: skip
    assert mid["complete"].tolist() == [True, False]


def test_funnel_conversion_metric(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    events(ws, test_funnel.LOG)
    (ws.path / "metrics" / "f.yaml").write_text(
        "metrics:\n  - id: share_conversion\n    kind: funnel\n    description: d\n"
        "    steps: [signup, create, share]\n    window: 5m\n"
    )
    frame = ws.query("share_conversion", grain="day", start="2026-03-01", end="2026-03-01",
                     today=test_funnel.TODAY)  # fmt: skip
    assert frame["value"].tolist() == [pytest.approx(2 / 5)]  # u1 and u4 within 5 minutes


def test_funnel_conversion_metric_by_and_where_a_user_property(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    events(ws, test_funnel.LOG)
    plans = {"u1": "pro", "u2": "pro", "u3": "free", "u4": "free", "u5": "pro"}
    load(ws, "users", ("user_id", "created_at", "properties"),
         [(u, "2026-02-01T00:00:00Z", f'{{"plan": "{p}"}}') for u, p in plans.items()])  # fmt: skip
    (ws.path / "metrics" / "f.yaml").write_text(
        "metrics:\n  - id: share_conversion\n    kind: funnel\n    description: d\n"
        "    steps: [signup, create, share]\n    window: 5m\n"
    )
    args = {"grain": "day", "start": "2026-03-01", "end": "2026-03-01", "today": test_funnel.TODAY}
    # Within 5 minutes only u1 (pro) and u4 (free) finish. pro: u1 of u1, u2, u5; free:
    # u4 of u3, u4.
    frame = ws.query("share_conversion", by="plan", **args)  # type: ignore[arg-type]
    assert dict(zip(frame["plan"], frame["value"], strict=True)) == {
        "free": pytest.approx(1 / 2), "pro": pytest.approx(1 / 3),
    }  # fmt: skip
    pro = ws.query("share_conversion", where="plan = 'pro'", **args)  # type: ignore[arg-type]
    assert pro["value"].tolist() == [pytest.approx(1 / 3)]
    with pytest.raises(FilterError, match="one dimension at a time"):
        ws.query("share_conversion", by=["plan", "country"], **args)  # type: ignore[arg-type]


def test_analysis_kind_mistakes_name_the_metric(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", timezone="UTC")
    (ws.path / "metrics" / "f.yaml").write_text(
        "metrics:\n  - id: conv\n    kind: funnel\n    description: d\n    steps: [a]\n"
    )
    problems = ws.registry().problems
    assert problems and "f.yaml: metric 'conv'" in problems[0] and "2 to 20 steps" in problems[0]
