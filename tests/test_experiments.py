"""Experiments read from events: exposure rules, per-user metrics, per-arm sums, the demo.

Per-arm values are worked out by hand in the comments; the effects are then checked with
scipy's Welch test on those per-user values (an independent computation).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from northstar.demo import generate
from northstar.errors import ExperimentError, ExperimentNotFound
from northstar.experiments.analysis import AnalyzeRequest, ExperimentResult
from northstar.experiments.stats import ArmInput, Options, compare
from northstar.workspace import Workspace
from tests.metric_fixtures import events

AS_OF = date(2026, 3, 15)
D = "2026-03-01T"


def seg(exp: str, var: str) -> str:
    return json.dumps({"experiment_id": exp, "variation_id": var})


def flag(key: str, response: str) -> str:
    return json.dumps({"$feature_flag": key, "$feature_flag_response": response})


def buy(amount: float) -> str:
    return json.dumps({"amount": amount})


LOG = [
    # checkout-v2 (Segment), control "0":
    # a1: a purchase of 8 before exposure (ignored; the CUPED covariate), then 10 and 5.
    ("purchase", "a1", D + "09:00:00Z", buy(8)),
    ("Experiment Viewed", "a1", D + "10:00:00Z", seg("checkout-v2", "0")),
    ("purchase", "a1", D + "11:00:00Z", buy(10)),
    ("purchase", "a1", "2026-03-02T08:00:00Z", buy(5)),
    # a2: exposed, buys nothing until after the as-of day (not counted).
    ("Experiment Viewed", "a2", D + "10:00:00Z", seg("checkout-v2", "0")),
    ("purchase", "a2", "2026-04-01T08:00:00Z", buy(99)),
    # a3: one purchase of 20 at the exposure's very instant (counts: from exposure on).
    ("Experiment Viewed", "a3", D + "12:00:00Z", seg("checkout-v2", "0")),
    ("purchase", "a3", D + "12:00:00Z", buy(20)),
    # anon-c: exposed anonymously, then identified as c1, who buys 4 under the known id.
    ("Experiment Viewed", "anon-c", D + "10:00:00Z", seg("checkout-v2", "0")),
    ("$identify", "c1", D + "10:30:00Z", json.dumps({"$anon_distinct_id": "anon-c"})),
    ("purchase", "c1", D + "13:00:00Z", buy(4)),
    # variation "1":
    # b1: exposed twice (the first counts), buys 30 and 10.
    ("Experiment Viewed", "b1", D + "10:00:00Z", seg("checkout-v2", "1")),
    ("Experiment Viewed", "b1", D + "10:05:00Z", seg("checkout-v2", "1")),
    ("purchase", "b1", D + "10:30:00Z", buy(30)),
    ("purchase", "b1", D + "11:00:00Z", buy(10)),
    # b2: buys 7.
    ("Experiment Viewed", "b2", D + "10:00:00Z", seg("checkout-v2", "1")),
    ("purchase", "b2", D + "10:01:00Z", buy(7)),
    # b3: saw "1" then "0": excluded and counted.
    ("Experiment Viewed", "b3", D + "10:00:00Z", seg("checkout-v2", "1")),
    ("Experiment Viewed", "b3", D + "10:10:00Z", seg("checkout-v2", "0")),
    ("purchase", "b3", D + "11:00:00Z", buy(50)),
    # b4: the name fields instead of the ids; buys nothing.
    ("Experiment Viewed", "b4", D + "10:00:00Z",
     json.dumps({"experiment_name": "checkout-v2", "variation_name": "1"})),
    # new-nav (PostHog feature flag): p1 control, p2 and p3 test; p2 signs up later.
    ("$feature_flag_called", "p1", D + "10:00:00Z", flag("new-nav", "control")),
    ("$feature_flag_called", "p2", D + "10:00:00Z", flag("new-nav", "test")),
    ("$feature_flag_called", "p3", "2026-03-03T10:00:00Z", flag("new-nav", "test")),
    ("signed_up", "p2", D + "10:20:00Z", "{}"),
]  # fmt: skip

# Per exposed person of checkout-v2 (converted, purchases, amount; covariate amount):
CONTROL = {"a1": (1, 2, 15, 8), "a2": (0, 0, 0, 0), "a3": (1, 1, 20, 0), "c1": (1, 1, 4, 0)}
TEST = {"b1": (1, 2, 40, 0), "b2": (1, 1, 7, 0), "b4": (0, 0, 0, 0)}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.init(tmp_path_factory.mktemp("exp") / "ws", timezone="UTC")
    events(ws, [(e, d, t) for e, d, t, _ in LOG], [p for *_, p in LOG])
    return ws


def analyze(ws: Workspace, *metrics: str, **kw: object) -> ExperimentResult:
    request = AnalyzeRequest(kw.pop("experiment", "checkout-v2"), metrics, **kw)  # type: ignore[arg-type]
    return ws.analyze_experiment(request, today=AS_OF)


def column(arm: dict[str, tuple[int, ...]], i: int) -> np.ndarray:
    return np.array([v[i] for v in arm.values()], dtype=float)


def test_list_finds_both_conventions_with_users_per_arm(ws: Workspace) -> None:
    found = {e.key: e for e in ws.experiments(today=AS_OF).experiments}
    assert set(found) == {"checkout-v2", "new-nav"}
    assert found["checkout-v2"].variations == {"0": 4, "1": 3}
    assert found["checkout-v2"].excluded_users == 1 and found["checkout-v2"].sources == ["segment"]
    assert found["new-nav"].variations == {"control": 1, "test": 2}
    assert found["new-nav"].sources == ["posthog"]


def test_per_arm_values_follow_the_exposure_rules(ws: Workspace) -> None:
    result = analyze(ws, "converted:purchase", "count:purchase", "sum:purchase:amount")
    assert (result.control, result.variations, result.excluded_users) == ("0", ["0", "1"], 1)
    assert result.srm.observed == {"0": 4, "1": 3}
    conv, count, amount = result.results
    assert (conv.control_n, conv.n) == (4, 3)
    assert (conv.control_mean, conv.mean) == (pytest.approx(3 / 4), pytest.approx(2 / 3))
    assert (count.control_mean, count.mean) == (pytest.approx(4 / 4), pytest.approx(3 / 3))
    assert (amount.control_mean, amount.mean) == (pytest.approx(39 / 4), pytest.approx(47 / 3))
    # the effects are Welch's test on the per-user values (scipy, independently)
    for r, i in ((count, 1), (amount, 2)):
        welch = sps.ttest_ind(column(TEST, i), column(CONTROL, i), equal_var=False)
        assert r.absolute.p_value == pytest.approx(welch.pvalue, rel=1e-9)
        assert r.absolute.ci == pytest.approx(tuple(welch.confidence_interval(0.95)), rel=1e-9)
    assert conv.metric_type == "binomial" and amount.metric_type == "mean"


def test_cuped_uses_the_14_days_before_exposure(ws: Workspace) -> None:
    (r,) = analyze(ws, "sum:purchase:amount", cuped=True).results
    # the same sums by hand: covariate 8 for a1 only, product 15 x 8 = 120
    arms = [
        ArmInput("0", 4, 39, 15**2 + 20**2 + 4**2, pre_sum=8, pre_sum_squares=64,
                 sum_of_products=120),
        ArmInput("1", 3, 47, 40**2 + 7**2, pre_sum=0, pre_sum_squares=0, sum_of_products=0),
    ]  # fmt: skip
    (expected,) = compare("m", "mean", arms, "0", Options(cuped=True))
    assert r.cuped and expected.cuped
    assert r.relative.effect == pytest.approx(expected.relative.effect)
    assert r.relative.p_value == pytest.approx(expected.relative.p_value)
    plain = analyze(ws, "sum:purchase:amount").results[0]
    assert r.relative.effect != pytest.approx(plain.relative.effect)


def test_posthog_flags_and_only_events_after_exposure(ws: Workspace) -> None:
    result = analyze(ws, "converted:signed_up", experiment="new-nav")
    (r,) = result.results
    assert (result.control, r.variation, r.control_n, r.n) == ("control", "test", 1, 2)
    assert r.mean == pytest.approx(1 / 2) and r.control_mean == 0


def test_control_and_weights_and_srm(ws: Workspace) -> None:
    result = analyze(ws, "count:purchase", control="1", weights=(3, 4))
    assert result.control == "1" and result.results[0].variation == "0"
    # observed 3 ("1") and 4 ("0") against a 3:4 plan: exactly as expected
    assert result.srm.expected == {"1": pytest.approx(3.0), "0": pytest.approx(4.0)}
    assert result.srm.p_value == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"experiment": "checkout"}, "no exposures for experiment 'checkout'; experiments: checkout-v2, new-nav"),
        ({"metrics": ("converted:purchse",)}, "did you mean 'purchase'"),
        ({"metrics": ("mrr",)}, "not a per-user quantity"),
        ({"metrics": ("sum:purchase",)}, "sum:EVENT:PROPERTY"),
        ({"control": "2"}, "no variation called '2'"),
        ({"weights": (1, 1, 1)}, "--weights has 3 numbers"),
        ({"correction": "bonferroni"}, "unknown correction"),
        ({"metrics": ()}, "at least one --metric"),
    ],
)  # fmt: skip
def test_mistakes_are_one_clear_error(ws: Workspace, kw: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"experiment": "checkout-v2", "metrics": ("count:purchase",)}
    args.update(kw)
    with pytest.raises(ExperimentError, match=message) as err:
        request = AnalyzeRequest(args.pop("experiment"), args.pop("metrics"), **args)  # type: ignore[arg-type]
        ws.analyze_experiment(request, today=AS_OF)
    if kw.get("experiment"):
        assert isinstance(err.value, ExperimentNotFound)


def test_the_cli_prints_results_and_json(ws: Workspace) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from northstar.cli.app import main; main()", *args,
             "-w", str(ws.path), "--as-of", AS_OF.isoformat()],
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    out = run(
        "experiments", "analyze", "checkout-v2", "--metric", "count:purchase", "--format", "json"
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= {"experiment", "srm", "excluded_users", "results"}
    assert set(data["srm"]) >= {"p_value", "observed", "expected"}
    assert set(data["results"][0]) >= {
        "metric", "variation", "control", "n", "mean", "absolute", "relative", "bayesian",
        "p_value_adjusted",
    }  # fmt: skip
    assert set(data["results"][0]["bayesian"]) >= {"chance_to_win", "risk", "ci"}
    table = run("experiments", "list")
    assert table.returncode == 0 and "checkout-v2" in table.stdout and "new-nav" in table.stdout
    bad = run("experiments", "analyze", "nope", "--metric", "count:purchase")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "no exposures" in bad.stderr


def test_the_demo_experiment_recovers_its_planted_effect(tmp_path: Path) -> None:
    product = generate(users=5000, days=365, seed=7)
    planted = product.experiment
    assert planted is not None
    ws = Workspace.init(tmp_path / "demo", timezone="UTC")
    ws.import_arrow("events", product.tables["events"])
    result = ws.analyze_experiment(AnalyzeRequest(planted.key, (planted.metric,)))
    (r,) = result.results
    # The truth is each arm's mean chance to activate, from the generator's own users;
    # a few activations planned after a user's last visit never show as events, which
    # shrinks the observed lift a little (by about 7 % of it on this seed).
    lo, hi = r.absolute.ci
    assert lo is not None and hi is not None
    assert lo <= planted.lift <= hi
    assert lo > 0 and result.guidance["decision"] == "ship"
    assert not result.srm.mismatch


def test_active_user_kpis_count_active_days_after_exposure(ws: Workspace) -> None:
    (r,) = analyze(ws, "mau").results
    # control: a1 active on Mar 1 and 2; a2, a3 and c1 on Mar 1 only (a2's April purchase is
    # after the as-of day) → 5 days / 4 users; test: b1, b2, b4 on Mar 1 → 1 day each
    assert (r.control_mean, r.mean) == (pytest.approx(5 / 4), pytest.approx(1.0))
    assert r.note == "no variation in an arm's values"


def test_a_ratio_metric_is_the_delta_method_over_per_user_sums(ws: Workspace) -> None:
    (r,) = analyze(ws, "ratio:sum:purchase:amount/count:purchase").results
    # revenue per purchase: control 39 / 4 purchases, test 47 / 3
    assert (r.metric_type, r.control_mean, r.mean) == (
        "ratio",
        pytest.approx(39 / 4),
        pytest.approx(47 / 3),
    )
    arms = []
    for name, arm in (("0", CONTROL), ("1", TEST)):
        amount, count = column(arm, 2), column(arm, 1)
        arms.append(ArmInput(name, len(arm), amount.sum(), (amount**2).sum(),
                             denominator_sum=count.sum(), denominator_sum_squares=(count**2).sum(),
                             numerator_denominator_products=(amount * count).sum()))  # fmt: skip
    (expected,) = compare("m", "ratio", arms, "0")
    assert r.relative.effect == pytest.approx(expected.relative.effect)
    assert r.relative.p_value == pytest.approx(expected.relative.p_value)
    with pytest.raises(ExperimentError, match="ratio:NUMERATOR/DENOMINATOR"):
        analyze(ws, "ratio:count:purchase")


def test_custom_simple_metrics_on_events_are_per_user_metrics(ws: Workspace) -> None:
    (ws.path / "metrics" / "shop.yaml").write_text(
        """
metrics:
  - id: purchases
    description: Purchases.
    kind: simple
    table: events
    aggregation: count
    filters: ["event = 'purchase'"]
  - id: revenue_events
    description: Revenue from purchase events.
    kind: simple
    table: events
    aggregation: sum
    column: amount
    filters: ["event = 'purchase'"]
  - id: shoppers
    description: People who purchased.
    kind: simple
    table: events
    aggregation: count_distinct
    column: person_id
    filters: ["event = 'purchase'"]
""",
        encoding="utf-8",
    )
    try:
        count, amount, buyers = analyze(ws, "purchases", "revenue_events", "shoppers").results
        assert (count.control_mean, count.mean) == (pytest.approx(4 / 4), pytest.approx(3 / 3))
        assert (amount.control_mean, amount.mean) == (pytest.approx(39 / 4), pytest.approx(47 / 3))
        assert buyers.metric_type == "binomial"
        assert (buyers.control_mean, buyers.mean) == (pytest.approx(3 / 4), pytest.approx(2 / 3))
    finally:
        (ws.path / "metrics" / "shop.yaml").unlink()
