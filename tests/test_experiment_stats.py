"""Experiment statistics against GrowthBook's gbstats: its own published test cases.

The expected numbers are copied from gbstats 0.8.0's test suite (the sdist on PyPI:
tests/frequentist/test_tests.py, tests/bayesian/test_tests.py, tests/test_gbstats.py),
rounded there to 5 decimals; others are computed independently (scipy, statsmodels, or
by hand in the comments).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats as sps

from northstar.errors import ExperimentError
from northstar.experiments.analysis import from_statistics
from northstar.experiments.stats import ArmInput, Comparison, Options, adjust, compare, srm_p_value

A = {"id": "A", "n": 3407, "sum": 1396.87, "sum_squares": 52377.9767}
B = {"id": "B", "n": 3461, "sum": 2422.7, "sum_squares": 134698.29}
GB = 5e-6  # gbstats rounds its expectations to 5 decimals


def one(metric_type: str, a: dict[str, Any], b: dict[str, Any], **options: Any) -> Comparison:
    arms = [ArmInput(**a), ArmInput(**b)]
    (result,) = compare("m", metric_type, arms, a["id"], Options(**options))
    return result


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from northstar.cli.app import main; main()", *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_welch_absolute_and_relative_match_gbstats_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "arms.json"
    data.write_text(json.dumps({"type": "mean", "variations": [A, B]}), encoding="utf-8")
    out = run("experiments", "stats", "--data", str(data), "--format", "json")
    assert out.returncode == 0, out.stderr
    (r,) = json.loads(out.stdout)["results"]
    # test_two_sided_ttest_absolute: effect 0.29, CI (0.04538, 0.53462), p 0.02016
    assert r["absolute"]["effect"] == pytest.approx(0.29, abs=GB)
    assert r["absolute"]["ci"] == pytest.approx([0.04538, 0.53462], abs=GB)
    assert r["absolute"]["p_value"] == pytest.approx(0.02016, abs=GB)
    # test_two_sided_ttest (relative): 0.70732, CI (-0.03526, 1.44989), p 0.06191
    assert r["relative"]["effect"] == pytest.approx((0.7 - 0.41) / 0.41, abs=GB)
    assert r["relative"]["ci"] == pytest.approx([-0.03526, 1.44989], abs=GB)
    assert r["relative"]["p_value"] == pytest.approx(0.06191, abs=GB)
    assert (r["variation"], r["control"], r["n"]) == ("B", "A", 3461)
    assert r["mean"] == pytest.approx(2422.7 / 3461)


def test_the_absolute_test_is_scipys_welch_test_on_raw_values() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(10, 3, 40), rng.normal(11, 5, 55)
    arm = lambda i, v: {"id": i, "n": len(v), "sum": v.sum(), "sum_squares": (v * v).sum()}  # noqa: E731
    r = one("mean", arm("x", x), arm("y", y))
    welch = sps.ttest_ind(y, x, equal_var=False)
    assert r.absolute.p_value == pytest.approx(welch.pvalue, rel=1e-9)
    lo, hi = welch.confidence_interval(0.95)
    assert r.absolute.ci == pytest.approx((lo, hi), rel=1e-9)


def test_binomial_matches_gbstats() -> None:
    # test_two_sided_ttest_binom: 14/28 vs 16/30 → CI (-0.47767, 0.61101), p 0.80707
    r = one("binomial", {"id": "a", "n": 28, "sum": 14}, {"id": "b", "n": 30, "sum": 16})
    assert r.relative.effect == pytest.approx((16 / 30 - 0.5) / 0.5, abs=GB)
    assert r.relative.ci == pytest.approx((-0.47767, 0.61101), abs=GB)
    assert r.relative.p_value == pytest.approx(0.80707, abs=GB)


def test_too_few_units_give_no_estimate_rather_than_a_number() -> None:
    # test_two_sided_ttest_missing_variance: n = 2 with these sums has a negative variance
    r = one("mean", {**A, "n": 2}, B)
    assert r.relative.effect is None and r.relative.p_value is None and r.note


@pytest.mark.parametrize(
    ("a", "b", "metric_type", "tuning", "expected", "ci", "p"),
    [
        # test_sequential_test_runs
        ({**A, "n": 3000}, B, "mean", 1000, 0.50336, (-0.55844, 1.56516), 1.0),
        # test_sequential_test_runs_prop
        ({"id": "A", "n": 3000, "sum": 1396}, {"id": "B", "n": 3461, "sum": 2422}, "binomial",
         5000, 0.50386, (0.40098, 0.60675), 0.0),
    ],
)  # fmt: skip
def test_sequential_matches_gbstats(
    a: dict[str, Any], b: dict[str, Any], metric_type: str, tuning: float,
    expected: float, ci: tuple[float, float], p: float,
) -> None:  # fmt: skip
    r = one(metric_type, a, b, sequential=True, sequential_tuning=tuning)
    assert r.relative.effect == pytest.approx(expected, abs=GB)
    assert r.relative.ci == pytest.approx(ci, abs=GB)
    assert r.relative.p_value == pytest.approx(p, abs=GB)


def test_sequential_with_cuped_matches_gbstats() -> None:
    # test_sequential_test_runs_ra: 0.50338, CI (-0.50969, 1.51646), p 1
    a = {**A, "n": 3000, "pre_sum": 16.87, "pre_sum_squares": 527.9767, "sum_of_products": 1}
    b = {**B, "pre_sum": 22.7, "pre_sum_squares": 1348.29, "sum_of_products": 1}
    r = one("mean", a, b, sequential=True)
    assert r.cuped
    assert r.relative.effect == pytest.approx(0.50338, abs=GB)
    assert r.relative.ci == pytest.approx((-0.50969, 1.51646), abs=GB)
    assert r.relative.p_value == pytest.approx(1.0, abs=GB)


def test_sequential_intervals_are_wider_than_fixed_horizon_ones() -> None:
    fixed, seq = one("mean", A, B), one("mean", A, B, sequential=True)
    assert seq.relative.ci[0] < fixed.relative.ci[0] and seq.relative.ci[1] > fixed.relative.ci[1]


@pytest.mark.parametrize("binomial", [False, True])
def test_cuped_matches_gbstats(binomial: bool) -> None:
    # test_analyze_metric_df_ra / _proportion: control "zero" (3001 users), variation "one"
    zero = {"id": "zero", "n": 3001, "sum": 300, "sum_squares": 600, "pre_sum": 210,
            "pre_sum_squares": 415, "sum_of_products": -20}  # fmt: skip
    one_ = {"id": "one", "n": 3000, "sum": 222, "sum_squares": 555, "pre_sum": 120,
            "pre_sum_squares": 405, "sum_of_products": -10}  # fmt: skip
    r = one("binomial" if binomial else "mean", zero, one_)
    assert r.cuped
    assert (r.control_mean, r.mean) == (pytest.approx(0.099966678), pytest.approx(0.074))
    if binomial:
        assert r.relative.effect == pytest.approx(-0.316211568, abs=GB)
        assert r.relative.p_value == pytest.approx(0.00000035, abs=GB)
    else:
        assert r.relative.effect == pytest.approx(-0.281707154, abs=GB)
        assert r.relative.p_value == pytest.approx(0.003736297, abs=GB)


def test_cuped_theta_is_the_pooled_regression_slope() -> None:
    # test_shared_models TestComputeTheta: 0.01864 on these raw values
    m1, m3 = np.array([0.3, 0.5, 0.9, 22]), np.array([2, 1, 5, 3])
    arm = {"n": 4, "sum": m3.sum(), "sum_squares": (m3**2).sum(), "pre_sum": m1.sum(),
           "pre_sum_squares": (m1**2).sum(), "sum_of_products": (m1 * m3).sum()}  # fmt: skip
    from northstar.experiments.stats import cuped_theta

    a, b = ArmInput("a", **arm).statistic("mean"), ArmInput("b", **arm).statistic("mean")
    assert round(cuped_theta(a, b), 5) == 0.01864


@pytest.mark.parametrize(
    ("a", "b", "ctw", "risk", "ci"),
    [
        # TestBinom.test_bayesian_binomial_ab_test
        ({"id": "a", "n": 100, "sum": 49}, {"id": "b", "n": 100, "sum": 51},
         0.60918, (0.0814, 0.04058), (-0.24779, 0.32943)),
        # TestNorm.test_bayesian_gaussian_ab_test
        ({"id": "a", "n": 10, "sum": 100, "sum_squares": 1002.25},
         {"id": "b", "n": 10, "sum": 105, "sum_squares": 1111.5},
         0.91923, (0.05131, 0.00131), (-0.02, 0.12)),
    ],
)  # fmt: skip
def test_bayesian_matches_gbstats(
    a: dict[str, Any], b: dict[str, Any], ctw: float, risk: tuple[float, float],
    ci: tuple[float, float],
) -> None:  # fmt: skip
    r = one("binomial" if "sum_squares" not in a else "mean", a, b)
    assert r.bayesian.chance_to_win == pytest.approx(ctw, abs=GB)
    # gbstats' risk is [risk of keeping the control, risk of choosing the variation]
    assert (r.bayesian.risk_control, r.bayesian.risk) == pytest.approx(risk, abs=GB)
    assert r.bayesian.ci == pytest.approx(ci, abs=GB)


def test_ratio_variance_is_the_delta_method_of_numpy_covariances() -> None:
    m, d = np.array([0.3, 0.5, 0.9, 22]), np.array([2, 1, 5, 3])
    arm = ArmInput("a", 4, m.sum(), (m**2).sum(), denominator_sum=d.sum(),
                   denominator_sum_squares=(d**2).sum(),
                   numerator_denominator_products=(m * d).sum())  # fmt: skip
    s = arm.statistic("ratio")
    cov = np.cov(m, d)  # ddof 1
    mm, md = m.mean(), d.mean()
    expected = cov[0, 0] / md**2 - 2 * cov[0, 1] * mm / md**3 + mm**2 * cov[1, 1] / md**4
    assert s.variance == pytest.approx(expected)
    assert s.mean == pytest.approx(m.sum() / d.sum())


def test_srm_is_pearsons_chi_square_against_the_weights() -> None:
    observed, weights = [5210, 4790], [0.5, 0.5]
    assert srm_p_value(observed, weights) == pytest.approx(sps.chisquare(observed).pvalue)
    # a planned 20/80 split judged against its own weights
    expected = sps.chisquare([230, 770], [200, 800]).pvalue
    assert srm_p_value([230, 770], [20, 80]) == pytest.approx(expected)
    assert srm_p_value([0, 0], [1, 1]) == 1.0


def test_holm_and_benjamini_hochberg_by_hand() -> None:
    p = [0.01, 0.04, 0.03]
    # Holm: sorted .01, .03, .04 times 3, 2, 1 → .03, .06, .04, then running max → .06
    assert adjust(p, "holm") == pytest.approx([0.03, 0.06, 0.06])
    # BH: .04·3/3 = .04; .03·3/2 = .045 → min with the next: .04; .01·3/1 = .03
    assert adjust(p, "bh") == pytest.approx([0.03, 0.04, 0.04])
    assert adjust([None, 0.02], "holm") == [None, 0.02]
    assert adjust(p, "none") == p


def test_a_stats_file_with_three_arms_and_a_correction() -> None:
    c = {"id": "c", "n": 1000, "sum": 100}
    v1 = {"id": "v1", "n": 1000, "sum": 150}
    v2 = {"id": "v2", "n": 1000, "sum": 101}
    result = from_statistics(
        {"type": "binomial", "variations": [c, v1, v2], "experiment": "x"}, correction="holm"
    )
    raw = [r.relative.p_value for r in result.results]
    assert raw[0] is not None and raw[1] is not None and raw[0] < raw[1]
    # Holm with two tests: the smaller p doubled, the larger kept (not below the first)
    expected = [min(1.0, 2 * raw[0]), max(min(1.0, 2 * raw[0]), raw[1])]
    assert [r.p_value_adjusted for r in result.results] == pytest.approx(expected)
    assert result.guidance["decision"] == "ship" and result.guidance["variation"] == "v1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "median", "variations": [A, B]}, "type"),
        ({"type": "mean", "variations": [A]}, "at least 2"),
        ({"type": "mean", "variations": [A, {**B, "n": "many"}]}, "variation 2, n"),
        ({"type": "mean", "variations": [A, {**B, "sumsq": 1}]}, "sumsq"),
        ({"type": "mean", "variations": [A, {"id": "B", "n": 3, "sum": 1}]}, "sum_squares"),
        ({"type": "mean", "variations": [A, B], "control": "Z"}, "no arm called 'Z'"),
        ({"type": "mean", "variations": [A, B], "weights": [1]}, "weights"),
        ([1, 2], "JSON object"),
    ],
)
def test_a_bad_stats_file_is_one_clear_error(data: Any, message: str) -> None:
    with pytest.raises(ExperimentError, match=message):
        from_statistics(data)


def test_the_cli_reports_a_bad_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    out = run("experiments", "stats", "--data", str(bad))
    assert out.returncode != 0 and "not JSON" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
