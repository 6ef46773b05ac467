"""Explaining a change, on data with planted causes whose answers are worked out by hand.

DAU tests: 140 users in six (country, device) groups, all active every day except where
a scenario plants a drop. Ratio tests: a conversion metric (purchases / visits) declared
in YAML, events carrying a device property. Expected shares are computed in the comments.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta

import pytest

from northstar.demo import generate
from northstar.errors import ExplainError
from northstar.explain.service import ExplainRequest, Explanation
from northstar.workspace import Workspace
from tests.metric_fixtures import events, load

GROUPS = {("BR", "android"): 20, ("BR", "ios"): 20, ("US", "android"): 40, ("US", "ios"): 40,
          ("FR", "android"): 10, ("FR", "ios"): 10}  # fmt: skip
D0 = date(2026, 3, 2)  # a Monday
# day → {(country, device): users active that day} where it differs from "everyone"
PLAN = {
    1: {("BR", "android"): 10, ("BR", "ios"): 10},  # A: BR drops 20 (all devices)
    3: {("BR", "android"): 5},  # B: only BR ∧ android drops 15
    # days 4 and 5: everyone (C: no change)
}
DAYS = 6
TODAY = D0 + timedelta(days=DAYS)


def users() -> list[tuple[str, str, str]]:
    out = []
    for (country, device), n in GROUPS.items():
        out += [(f"{country}-{device}-{i}", country, device) for i in range(n)]
    return out


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.init(tmp_path_factory.mktemp("explain") / "ws", timezone="UTC")
    people = users()
    load(ws, "users", ["user_id", "created_at", "properties"],
         [(u, "2026-01-01T00:00:00Z", json.dumps({"country": c, "device": d}))
          for u, c, d in people])  # fmt: skip
    log = []
    for day in range(DAYS):
        when = (D0 + timedelta(days=day)).isoformat() + "T12:00:00Z"
        active = PLAN.get(day, {})
        seen: dict[tuple[str, str], int] = {}
        for u, c, d in people:
            seen[(c, d)] = seen.get((c, d), 0) + 1
            if seen[(c, d)] <= active.get((c, d), GROUPS[(c, d)]):
                log.append(("visit", u, when))
    events(ws, log)
    # conversion = purchases / visits, by an event property (device), on later days:
    # day 10 → 11 a pure mix shift, day 12 → 13 a pure rate change (see the tests)
    conv = []
    for day, mix in ((10, {"android": (100, 10), "ios": (100, 30)}),
                     (11, {"android": (150, 15), "ios": (50, 15)}),
                     (12, {"android": (100, 10), "ios": (100, 30)}),
                     (13, {"android": (100, 20), "ios": (100, 30)})):  # fmt: skip
        when = (D0 + timedelta(days=day)).isoformat() + "T15:00:00Z"
        for device, (visits, purchases) in mix.items():
            prop = json.dumps({"device_type": device})
            conv += [("page_visit", f"v-{device}-{i}", when, prop) for i in range(visits)]
            conv += [("purchase", f"v-{device}-{i}", when, prop) for i in range(purchases)]
    events(ws, [r[:3] for r in conv], [r[3] for r in conv])
    (ws.path / "metrics" / "shop.yaml").write_text(
        """
metrics:
  - id: page_visits
    description: Page visits.
    kind: simple
    table: events
    aggregation: count
    filters: ["event = 'page_visit'"]
  - id: purchases
    description: Purchases.
    kind: simple
    table: events
    aggregation: count
    filters: ["event = 'purchase'"]
  - id: conversion
    description: Purchases per visit.
    kind: ratio
    unit: rate
    numerator: purchases
    denominator: page_visits
""",
        encoding="utf-8",
    )
    return ws


def explain(ws: Workspace, metric: str, day: int, **kw: object) -> Explanation:
    d = (D0 + timedelta(days=day)).isoformat()
    return ws.explain(ExplainRequest(metric, d, d, **kw), today=TODAY + timedelta(days=10))  # type: ignore[arg-type]


def dims(result: Explanation) -> list[dict[str, str]]:
    return [dict(s.key) for s in result.segments]


def test_a_single_segment_drop_is_that_segment(ws: Workspace) -> None:
    r = explain(ws, "dau", 1)
    # DAU 140 → 120; BR lost all 20: its share of the change is 20 / 20 = 1
    assert (r.baseline["value"], r.current["value"], r.change) == (140, 120, -20)
    assert dims(r)[0] == {"country": "BR"}
    top = r.segments[0]
    assert top.contribution == pytest.approx(1.0)
    assert (top.baseline, top.current) == (40, 20)
    assert top.mix_effect is None and top.rate_effect is None  # additive metric
    # BR ∧ android carries half of it only: BR is not replaced by a child
    assert {"country": "BR", "device": "android"} not in dims(r)
    assert "BR explains 100%" in r.summary.replace("country = ", "")


def test_a_two_dimension_interaction_is_one_segment(ws: Workspace) -> None:
    r = explain(ws, "dau", 3)
    # only BR ∧ android dropped (20 → 5): one segment, not "BR" and "android" apart
    assert dims(r)[0] == {"country": "BR", "device": "android"}
    assert r.segments[0].contribution == pytest.approx(1.0)
    assert {"country": "BR"} not in dims(r) and {"device": "android"} not in dims(r)


def test_depth_one_cannot_combine_and_says_the_best_single_dimension(ws: Workspace) -> None:
    r = explain(ws, "dau", 3, depth=1)
    # BR carries the whole drop (15 of 15), so does android: both get share 1
    shares = {
        tuple(sorted(d.items())): s.contribution for d, s in zip(dims(r), r.segments, strict=True)
    }
    assert shares[(("country", "BR"),)] == pytest.approx(1.0)
    assert shares[(("device", "android"),)] == pytest.approx(1.0)


def test_no_change_explains_nothing(ws: Workspace) -> None:
    r = explain(ws, "dau", 5)
    assert r.change == 0 and r.segments == [] and "did not change" in r.summary


def test_a_pure_mix_shift_has_no_rate_effect(ws: Workspace) -> None:
    r = explain(ws, "conversion", 11, by=("device_type",))
    # android 10/100 → 15/150 (10 % both days), ios 30/100 → 15/50 (30 % both days);
    # conversion 40/200 = 0.2 → 30/200 = 0.15; weights .5/.5 → .75/.25; mean rate .175
    # mix: android (.75 − .5)(.10 − .175) = −.01875, ios (.25 − .5)(.30 − .175) = −.03125
    # as shares of −.05: android .375, ios .625; rate effects 0
    assert r.kind == "ratio"
    assert (r.baseline["value"], r.current["value"]) == (pytest.approx(0.2), pytest.approx(0.15))
    by = {dict(s.key)["device_type"]: s for s in r.searched}
    assert by["android"].mix_effect == pytest.approx(0.375)
    assert by["ios"].mix_effect == pytest.approx(0.625)
    assert by["android"].rate_effect == pytest.approx(0.0)
    assert by["ios"].rate_effect == pytest.approx(0.0)
    assert by["ios"].contribution == pytest.approx(0.625)


def test_a_pure_rate_change_has_no_mix_effect(ws: Workspace) -> None:
    r = explain(ws, "conversion", 13, by=("device_type",))
    # android 10 % → 20 % on the same 100 visits, ios unchanged: 0.2 → 0.25;
    # rate effect of android: mean weight .5 × .10 = .05 = the whole change
    top = r.segments[0]
    assert dict(top.key) == {"device_type": "android"}
    assert (top.contribution, top.rate_effect, top.mix_effect) == (
        pytest.approx(1.0),
        pytest.approx(1.0),
        pytest.approx(0.0),
    )
    assert "rate" in r.summary


def test_default_dimensions_come_from_the_data(ws: Workspace) -> None:
    r = explain(ws, "dau", 1)
    assert {"country", "device"} <= set(r.dimensions)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"depth": 4}, "--depth must be 1, 2 or 3"),
        ({"by": ("nope",)}, "--by nope: unknown dimension"),
        ({"compare": "last year"}, "use previous or FROM:TO"),
    ],
)
def test_mistakes_are_one_clear_error(ws: Workspace, kw: dict[str, object], message: str) -> None:
    with pytest.raises(ExplainError, match=message):
        explain(ws, "dau", 1, **kw)


def test_the_cli_prints_the_json_contract(ws: Workspace) -> None:
    day = (D0 + timedelta(days=1)).isoformat()
    out = subprocess.run(
        [sys.executable, "-c", "from northstar.cli.app import main; main()", "explain", "dau",
         "--from", day, "--to", day, "-w", str(ws.path), "--format", "json",
         "--as-of", (TODAY + timedelta(days=10)).isoformat()],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= {"metric", "current", "baseline", "change", "segments"}
    assert set(data["current"]) == {"from", "to", "value"}
    assert set(data["segments"][0]) >= {
        "dimensions", "current", "baseline", "change", "contribution", "mix_effect",
        "rate_effect", "score",
    }  # fmt: skip
    assert data["segments"][0]["dimensions"] == {"country": "BR"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    from northstar.demo.load import load_demo

    ws = Workspace.init(tmp_path_factory.mktemp("demo") / "ws", timezone="UTC")
    load_demo(ws, users=5000, days=365, seed=7)
    return ws


@pytest.mark.parametrize("incident_id", ["android-release-dau-drop", "paid-social-cac-creep",
                                         "pro-price-rise-churn-spike"])  # fmt: skip
def test_the_demo_incidents_come_out_first(demo: Workspace, incident_id: str) -> None:
    product = generate(users=5000, days=365, seed=7)
    incident = next(i for i in product.incidents if i.incident_id == incident_id)
    start = incident.started_at.date()
    if incident.metric == "customer_churn_rate":  # a monthly rate: the month it spiked
        first, last = (
            start.replace(day=1),
            (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1),
        )
    elif incident.ended_at is None:  # a creep: the last whole month of data
        first, last = date(2026, 10, 1), date(2026, 10, 31)
    else:  # a drop: its days against as many days before
        first, last = start, incident.ended_at.date() - timedelta(days=1)
    r = demo.explain(ExplainRequest(incident.metric, first, last))
    assert r.segments and dict(r.segments[0].key) == incident.segment, r.summary
