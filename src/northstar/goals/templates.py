"""Starter sets of objectives and KPIs for a product's stage, as the seed articles put it:
early products watch adoption, activation and first feedback; growing ones retention,
conversion and acquisition cost; mature ones churn, lifetime value and profitability.

Each KPI names the metrics it would like in order of preference; the first one the
workspace has is used, and a substitution is said out loud.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from northstar.errors import GoalError
from northstar.metrics.spec import Perspective


class Stage(StrEnum):
    early = "early"
    growth = "growth"
    mature = "mature"


@dataclass(frozen=True)
class KpiIdea:
    metrics: tuple[str, ...]  # preferred first
    why: str


@dataclass(frozen=True)
class ObjectiveIdea:
    name: str
    perspective: Perspective
    description: str
    kpis: tuple[KpiIdea, ...]


TEMPLATES: dict[Stage, tuple[ObjectiveIdea, ...]] = {
    Stage.early: (
        ObjectiveIdea(
            "Prove adoption",
            Perspective.customer,
            "People find the product and keep using it.",
            (
                KpiIdea(("signups",), "adoption: how many people start using the product"),
                KpiIdea(("mau",), "adoption that lasts: people active in the last 30 days"),
            ),
        ),
        ObjectiveIdea(
            "Activate new users",
            Perspective.customer,
            "New users reach the moment the product is worth it.",
            (KpiIdea(("signup_to_activation",), "activation: sign-ups who become active"),),
        ),
        ObjectiveIdea(
            "Hear first feedback",
            Perspective.customer,
            "Early users tell us what works and what does not.",
            (
                KpiIdea(("nps",), "first feedback: would users recommend the product"),
                KpiIdea(("nps_responses",), "enough answers to trust the score"),
            ),
        ),
    ),
    Stage.growth: (
        ObjectiveIdea(
            "Keep the users we win",
            Perspective.customer,
            "Growth that sticks: users come back period after period.",
            (
                KpiIdea(
                    ("retention_rate", "user_churn_rate"),
                    "retention: users who come back (user churn is its complement)",
                ),
            ),
        ),
        ObjectiveIdea(
            "Convert more visitors and trials",
            Perspective.customer,
            "More of the people who arrive become users and then customers.",
            (
                KpiIdea(("visitor_to_signup",), "conversion at the top of the funnel"),
                KpiIdea(("trial_to_paid",), "conversion to paying customers"),
            ),
        ),
        ObjectiveIdea(
            "Acquire customers efficiently",
            Perspective.financial,
            "Each new customer costs less to win.",
            (KpiIdea(("cac",), "customer acquisition cost (lower is better)"),),
        ),
    ),
    Stage.mature: (
        ObjectiveIdea(
            "Reduce churn",
            Perspective.customer,
            "Customers stay.",
            (KpiIdea(("customer_churn_rate",), "churn: paying customers lost per period"),),
        ),
        ObjectiveIdea(
            "Grow customer lifetime value",
            Perspective.financial,
            "Each customer is worth more over their lifetime than they cost to win.",
            (
                KpiIdea(("ltv",), "customer lifetime value"),
                KpiIdea(("ltv_cac",), "lifetime value per acquisition cost (healthy ≥ 3)"),
            ),
        ),
        ObjectiveIdea(
            "Run profitably",
            Perspective.financial,
            "Revenue covers the costs with room to invest.",
            (
                KpiIdea(("profit_margin",), "profitability after all costs"),
                KpiIdea(("gross_margin",), "margin after the cost of serving customers"),
            ),
        ),
    ),
}


def parse_stage(value: str) -> Stage:
    try:
        return Stage(value.lower())
    except ValueError:
        raise GoalError(f"unknown stage {value!r}; use early, growth or mature") from None


def pick_metric(idea: KpiIdea, available: set[str] | frozenset[str]) -> tuple[str | None, str]:
    """The first preferred metric the workspace has, and a note when it is a substitute."""
    for i, metric in enumerate(idea.metrics):
        if metric in available:
            if i == 0:
                return metric, ""
            return metric, (
                f"{idea.metrics[0]} is not in this workspace; {metric} is the closest metric"
            )
    return None, f"none of {', '.join(idea.metrics)} is in this workspace"
