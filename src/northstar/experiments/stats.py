"""Experiment statistics over per-arm sufficient statistics, with gbstats' semantics.

GrowthBook's stats engine (gbstats, MIT) works on a few sums per arm: the number of
units ``n``, the ``sum`` of their metric values and the ``sum_squares`` (plus the
covariate's sums and the cross-product for CUPED, the denominator's for ratio metrics).
gbstats itself pins numpy < 2 and pandas < 2, which this project cannot take, so the
same formulas are written here from its source (gbstats 0.8.0: ``models/statistics.py``,
``frequentist/tests.py``, ``bayesian/tests.py``, ``utils.py``) and checked against its
own published test cases (tests/test_experiment_stats.py).

* Frequentist: Welch's t-test (Welch–Satterthwaite degrees of freedom) on the absolute
  effect ``mean_b - mean_a`` and, with the delta method, on the relative effect
  ``(mean_b - mean_a) / mean_a``.
* Sequential (always-valid) intervals and p-values for peeking: the asymptotic
  confidence sequences of Waudby-Smith et al. (2023), eq. 9 and 155, with gbstats'
  tuning parameter (the total sample size it is tuned for, 5,000 by default).
* Bayesian: the relative effect's Gaussian posterior under an improper flat prior —
  chance to win, the 95 % credible interval, and the risk (expected loss) of choosing
  each arm.
* CUPED: regression adjustment with a pre-exposure covariate, theta from both arms
  pooled; no covariate variance reverts to the plain test.
* Sample-ratio mismatch: Pearson's chi-square of the observed units against the
  configured weights.
* Corrections across metrics and variations: Holm–Bonferroni and Benjamini–Hochberg
  (statsmodels' ``multipletests``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from scipy.stats import chi2, norm, t, truncnorm
from statsmodels.stats.multitest import multipletests

from northstar.errors import ExperimentError
from northstar.experiments.defaults import DEFAULT_SEQUENTIAL_TUNING

MetricType = Literal["binomial", "mean", "ratio"]
METRIC_TYPES: tuple[str, ...] = ("binomial", "mean", "ratio")
CORRECTIONS: tuple[str, ...] = ("none", "holm", "bh")


# -- statistics of one arm (gbstats models/statistics.py) -----------------------------
@dataclass(frozen=True)
class Moments:
    """``n`` units, the sum and sum of squares of a per-unit value (binomial: the sum of
    0/1 values, whose squares are the values themselves)."""

    n: int
    sum: float
    sum_squares: float
    binomial: bool = False

    @property
    def mean(self) -> float:
        return 0.0 if self.n == 0 else self.sum / self.n

    @property
    def variance(self) -> float:
        if self.binomial:
            return self.mean * (1 - self.mean)
        if self.n <= 1:
            return 0.0
        return (self.sum_squares - self.sum**2 / self.n) / (self.n - 1)


def _covariance(n: int, sum_x: float, sum_y: float, sum_xy: float) -> float:
    return 0.0 if n <= 1 else (sum_xy - sum_x * sum_y / n) / (n - 1)


@dataclass
class ArmStatistic:
    """What a test needs of one arm: its (adjusted) mean, unadjusted mean, variance, n."""

    n: int
    main: Moments
    covariate: Moments | None = None  # CUPED: the same metric before exposure
    main_covariate_products: float = 0.0
    denominator: Moments | None = None  # ratio metrics: the denominator per unit
    main_denominator_products: float = 0.0
    theta: float = 0.0

    @property
    def ratio(self) -> bool:
        return self.denominator is not None

    @property
    def unadjusted_mean(self) -> float:
        if self.denominator is not None:
            return 0.0 if self.denominator.sum == 0 else self.main.sum / self.denominator.sum
        return self.main.mean

    @property
    def mean(self) -> float:
        if self.covariate is not None:
            return self.main.mean - self.theta * self.covariate.mean
        return self.unadjusted_mean

    @property
    def variance(self) -> float:
        if self.denominator is not None:
            d, m = self.denominator, self.main
            if d.mean == 0 or self.n <= 1:
                return 0.0
            cov = _covariance(self.n, m.sum, d.sum, self.main_denominator_products)
            return (
                m.variance / d.mean**2
                - 2 * cov * m.mean / d.mean**3
                + m.mean**2 * d.variance / d.mean**4
            )
        if self.covariate is not None:
            if self.n <= 1:
                return 0.0
            cov = _covariance(
                self.n, self.main.sum, self.covariate.sum, self.main_covariate_products
            )
            return (
                self.main.variance + self.theta**2 * self.covariate.variance - 2 * self.theta * cov
            )
        return self.main.variance


def cuped_theta(a: ArmStatistic, b: ArmStatistic) -> float:
    """gbstats' ``compute_theta``: the pooled covariance of metric and covariate over the
    covariate's pooled variance (0 when either pooled variance is 0)."""
    assert a.covariate is not None and b.covariate is not None
    n = a.n + b.n
    binomial = a.main.binomial
    post = Moments(n, a.main.sum + b.main.sum, a.main.sum_squares + b.main.sum_squares, binomial)
    pre = Moments(
        n,
        a.covariate.sum + b.covariate.sum,
        a.covariate.sum_squares + b.covariate.sum_squares,
        a.covariate.binomial,
    )
    if pre.variance == 0 or post.variance == 0:
        return 0.0
    products = a.main_covariate_products + b.main_covariate_products
    return _covariance(n, post.sum, pre.sum, products) / pre.variance


# -- tests (gbstats frequentist/tests.py, bayesian/tests.py) ---------------------------
@dataclass(frozen=True)
class Estimate:
    """An effect with its interval and p-value; all None when it cannot be computed."""

    effect: float | None
    ci: tuple[float | None, float | None]
    p_value: float | None
    stddev: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"effect": self.effect, "ci": list(self.ci), "p_value": self.p_value}


@dataclass(frozen=True)
class Posterior:
    """The relative effect's posterior: chance that the variation beats the control,
    the risk (expected relative loss) of choosing the variation and of keeping the
    control, and the credible interval."""

    chance_to_win: float | None
    risk: float | None
    risk_control: float | None
    ci: tuple[float | None, float | None]
    expected: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "chance_to_win": self.chance_to_win,
            "risk": self.risk,
            "risk_control": self.risk_control,
            "ci": list(self.ci),
            "expected": self.expected,
        }


NO_ESTIMATE = Estimate(None, (None, None), None)
NO_POSTERIOR = Posterior(None, None, None, (None, None), None)


def _difference(a: ArmStatistic, b: ArmStatistic, relative: bool) -> float:
    diff = b.mean - a.mean
    return diff / a.unadjusted_mean if relative else diff


def _variance(a: ArmStatistic, b: ArmStatistic, relative: bool) -> float:
    if relative:
        return b.variance / (a.unadjusted_mean**2 * b.n) + a.variance * b.unadjusted_mean**2 / (
            a.unadjusted_mean**4 * a.n
        )
    return b.variance / b.n + a.variance / a.n


def _welch_dof(a: ArmStatistic, b: ArmStatistic) -> float:
    va, vb = a.variance, b.variance
    return (vb / b.n + va / a.n) ** 2 / (
        vb**2 / (b.n**2 * (b.n - 1)) + va**2 / (a.n**2 * (a.n - 1))
    )


def why_not(a: ArmStatistic, b: ArmStatistic) -> str | None:
    """Why no effect can be estimated for this pair of arms, or None."""
    if a.n < 2 or b.n < 2:
        return "fewer than 2 units in an arm"
    if a.mean == 0 or a.unadjusted_mean == 0:
        return "the control's mean is 0, so a relative effect is undefined"
    if a.variance <= 0 or b.variance <= 0:
        return "no variation in an arm's values"
    return None


def frequentist(
    a: ArmStatistic,
    b: ArmStatistic,
    *,
    relative: bool,
    alpha: float = 0.05,
    sequential_tuning: float | None = None,
) -> Estimate:
    """Two-sided Welch t-test of ``b`` against ``a`` (fixed-horizon), or the always-valid
    sequential interval and p-value when ``sequential_tuning`` is given."""
    if why_not(a, b):
        return NO_ESTIMATE
    effect = _difference(a, b, relative)
    var = _variance(a, b, relative)
    sd = math.sqrt(var)
    if sequential_tuning is None:
        dof = _welch_dof(a, b)
        stat = effect / sd
        p = float(2 * (1 - t.cdf(abs(stat), dof)))
        width = float(t.ppf(1 - alpha / 2, dof)) * sd
        return Estimate(effect, (effect - width, effect + width), p, sd)
    n = a.n + b.n
    rho = math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / sequential_tuning)
    s2 = var * n
    width = math.sqrt(s2) * math.sqrt(
        2 * (n * rho**2 + 1) * math.log(math.sqrt(n * rho**2 + 1) / alpha) / (n * rho) ** 2
    )
    st2 = effect**2 * n / var
    tr2p1 = n * rho**2 + 1
    log_e = rho**2 * st2 / (2 * tr2p1) - 0.5 * math.log(tr2p1)
    p = min(math.exp(-log_e), 1.0) if log_e > -700 else 1.0
    return Estimate(effect, (effect - width, effect + width), p, sd)


def _truncated_mean(mu: float, sigma: float, lo: float, hi: float) -> float:
    a, b = (lo - mu) / sigma, (hi - mu) / sigma
    return float(truncnorm.mean(a, b, loc=mu, scale=sigma))


def bayesian(
    a: ArmStatistic, b: ArmStatistic, *, alpha: float = 0.05, inverse: bool = False
) -> Posterior:
    """gbstats' ``EffectBayesianABTest`` on the relative effect, improper flat prior."""
    if why_not(a, b):
        return NO_POSTERIOR
    mu = _difference(a, b, True)
    sigma = math.sqrt(_variance(a, b, True))
    ctw = float(norm.sf(0, mu, sigma))
    if inverse:
        ctw = 1 - ctw
    lo, hi = (float(x) for x in norm.ppf([alpha / 2, 1 - alpha / 2], mu, sigma))
    p_ctrl_better = float(norm.cdf(0.0, loc=mu, scale=sigma))
    risk_ctrl = (1.0 - p_ctrl_better) * _truncated_mean(mu, sigma, 0.0, math.inf)
    risk_trt = -p_ctrl_better * _truncated_mean(mu, sigma, -math.inf, 0.0)
    if inverse:
        risk_ctrl, risk_trt = risk_trt, risk_ctrl
    return Posterior(ctw, risk_trt, risk_ctrl, (lo, hi), mu)


def srm_p_value(users: Sequence[int], weights: Sequence[float]) -> float:
    """gbstats' ``check_srm``: Pearson's chi-square of the units per arm against the
    expected split, ``len(users) - 1`` degrees of freedom (1.0 without units)."""
    total = sum(users)
    if not total:
        return 1.0
    total_weight = sum(weights)
    x = 0.0
    for observed, w in zip(users, weights, strict=True):
        if w <= 0:
            continue
        expected = w / total_weight * total
        x += (observed - expected) ** 2 / expected
    return float(chi2.sf(x, len(users) - 1))


def adjust(p_values: Sequence[float | None], method: str) -> list[float | None]:
    """p-values corrected for testing several metrics × variations at once."""
    if method not in CORRECTIONS:
        raise ExperimentError(f"unknown correction {method!r}; use none, holm or bh")
    present = [(i, p) for i, p in enumerate(p_values) if p is not None]
    out: list[float | None] = list(p_values)
    if method == "none" or not present:
        return out
    name = {"holm": "holm", "bh": "fdr_bh"}[method]
    corrected = multipletests([p for _, p in present], method=name)[1]
    for (i, _), q in zip(present, corrected, strict=True):
        out[i] = float(q)
    return out


# -- from sufficient statistics to results ---------------------------------------------
@dataclass(frozen=True)
class ArmInput:
    """One arm's sufficient statistics, as ``experiments stats`` reads them."""

    id: str
    n: int
    sum: float
    sum_squares: float | None = None
    # CUPED: the same metric's per-unit value before exposure
    pre_sum: float | None = None
    pre_sum_squares: float | None = None
    sum_of_products: float | None = None  # sum over units of value x pre-exposure value
    # ratio metrics: the denominator per unit
    denominator_sum: float | None = None
    denominator_sum_squares: float | None = None
    numerator_denominator_products: float | None = None

    def statistic(self, metric_type: str) -> ArmStatistic:
        binomial = metric_type == "binomial"
        squares = self.sum if binomial else self.sum_squares
        if squares is None:
            raise ExperimentError(
                f"arm {self.id!r}: a {metric_type} metric needs sum_squares besides n and sum"
            )
        main = Moments(self.n, self.sum, squares, binomial)
        if metric_type == "ratio":
            if self.denominator_sum is None or self.denominator_sum_squares is None:
                raise ExperimentError(
                    f"arm {self.id!r}: a ratio metric needs denominator_sum and "
                    "denominator_sum_squares (and numerator_denominator_products)"
                )
            den = Moments(self.n, self.denominator_sum, self.denominator_sum_squares)
            return ArmStatistic(
                self.n, main, denominator=den,
                main_denominator_products=self.numerator_denominator_products or 0.0,
            )  # fmt: skip
        if self.pre_sum is not None:
            pre_squares = self.pre_sum if binomial else self.pre_sum_squares
            if pre_squares is None:
                raise ExperimentError(
                    f"arm {self.id!r}: CUPED needs pre_sum_squares besides pre_sum"
                )
            pre = Moments(self.n, self.pre_sum, pre_squares, binomial)
            return ArmStatistic(
                self.n, main, covariate=pre, main_covariate_products=self.sum_of_products or 0.0
            )
        return ArmStatistic(self.n, main)


@dataclass(frozen=True)
class Options:
    alpha: float = 0.05
    sequential: bool = False
    sequential_tuning: float = DEFAULT_SEQUENTIAL_TUNING
    cuped: bool = True  # use the covariate when the arms carry one
    inverse: bool = False  # lower is better (a churn rate, a load time)


@dataclass
class Comparison:
    """One variation against the control on one metric."""

    metric: str
    metric_type: str
    variation: str
    control: str
    n: int
    mean: float | None
    control_n: int
    control_mean: float | None
    absolute: Estimate
    relative: Estimate
    bayesian: Posterior
    cuped: bool
    note: str | None = None
    p_value_adjusted: float | None = None
    inverse: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "metric_type": self.metric_type,
            "variation": self.variation,
            "control": self.control,
            "n": self.n,
            "mean": self.mean,
            "control_n": self.control_n,
            "control_mean": self.control_mean,
            "absolute": self.absolute.to_dict(),
            "relative": self.relative.to_dict(),
            "bayesian": self.bayesian.to_dict(),
            "p_value_adjusted": self.p_value_adjusted,
            "cuped": self.cuped,
            "lower_is_better": self.inverse,
            "note": self.note,
            **self.extra,
        }


def compare(
    metric: str,
    metric_type: str,
    arms: Sequence[ArmInput],
    control: str,
    options: Options = Options(),
) -> list[Comparison]:
    """Every variation of ``arms`` against ``control`` on one metric."""
    if metric_type not in METRIC_TYPES:
        raise ExperimentError(f"unknown metric type {metric_type!r}; use binomial, mean or ratio")
    by_id = {a.id: a for a in arms}
    if control not in by_id:
        raise ExperimentError(f"no arm called {control!r}; the arms are {', '.join(sorted(by_id))}")
    if not 0 < options.alpha < 1:
        raise ExperimentError(f"alpha must be between 0 and 1, got {options.alpha}")
    base = by_id[control]
    out = []
    for arm in arms:
        if arm.id == control:
            continue
        a, b = base.statistic(metric_type), arm.statistic(metric_type)
        adjusted = False
        if options.cuped and a.covariate is not None and b.covariate is not None:
            theta = cuped_theta(a, b)
            if theta == 0:  # no covariate variance: the plain test (as gbstats)
                a, b = ArmStatistic(a.n, a.main), ArmStatistic(b.n, b.main)
            else:
                a.theta = b.theta = theta
                adjusted = True
        else:
            a, b = ArmStatistic(a.n, a.main, denominator=a.denominator,
                                main_denominator_products=a.main_denominator_products), \
                ArmStatistic(b.n, b.main, denominator=b.denominator,
                             main_denominator_products=b.main_denominator_products)  # fmt: skip
        tuning = options.sequential_tuning if options.sequential else None
        out.append(
            Comparison(
                metric=metric,
                metric_type=metric_type,
                variation=arm.id,
                control=control,
                n=arm.n,
                mean=b.unadjusted_mean if b.n else None,
                control_n=base.n,
                control_mean=a.unadjusted_mean if a.n else None,
                absolute=frequentist(
                    a, b, relative=False, alpha=options.alpha, sequential_tuning=tuning
                ),
                relative=frequentist(
                    a, b, relative=True, alpha=options.alpha, sequential_tuning=tuning
                ),
                bayesian=bayesian(a, b, alpha=options.alpha, inverse=options.inverse),
                cuped=adjusted,
                note=why_not(a, b),
                inverse=options.inverse,
            )
        )
    return out
