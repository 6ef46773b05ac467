"""The product's features and who adopts each of them, when.

Adoption curves differ on purpose: two features ship mid-range, one is used by few
users but heavily by them (a feature to promote), one is barely used (to rethink).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from northstar.demo.acquisition import Population
from northstar.demo.arrays import BoolArray, IntArray, logit, sigmoid
from northstar.demo.timeline import Timeline

NEVER = np.iinfo(np.int32).max  # adoption day of a user who never adopts


@dataclass(frozen=True)
class Feature:
    """A feature as it shows in events: its event name and how it spreads."""

    event: str
    adoption: float  # share of users who ever use it
    weight: float  # how often adopters use it, relative to other features
    delay_days: float  # mean days from sign-up (or release) to first use
    release: float | None = None  # fraction of the range at which it ships
    community: bool = False  # used by community members only, from the day they join


FEATURES: tuple[Feature, ...] = (
    Feature("dashboard_viewed", 1.0, 0.2, 0.0),  # the core action everybody does
    Feature("filter_applied", 0.75, 0.14, 3.0),
    Feature("report_created", 0.6, 0.1, 5.0),
    Feature("report_exported", 0.4, 0.06, 10.0),
    Feature("dashboard_shared", 0.3, 0.04, 14.0),
    Feature("comment_added", 0.25, 0.05, 20.0),
    Feature("alert_created", 0.2, 0.03, 15.0),
    Feature("goal_created", 0.22, 0.03, 10.0),
    Feature("csv_imported", 0.3, 0.03, 4.0),
    Feature("integration_connected", 0.35, 0.015, 7.0),
    Feature("teammate_invited", 0.28, 0.02, 6.0),
    Feature("ai_summary_generated", 0.45, 0.07, 12.0, release=0.55),
    Feature("sql_query_run", 0.05, 0.3, 20.0),  # few adopters, heavy use: "promote"
    Feature("calendar_synced", 0.03, 0.004, 30.0, release=0.3),  # nobody uses it: "rethink"
    Feature("community_post_created", 1.0, 0.02, 4.0, community=True),
    Feature("community_comment_added", 1.0, 0.04, 2.0, community=True),
)
CORE_FEATURE = 0
COMMUNITY_SHARE = 0.12
EXPORT_FORMATS = ("pdf", "csv", "png")


@dataclass(frozen=True)
class Adoption:
    """Per-user milestones: feature adoption days, activation and community membership."""

    feature_day: np.ndarray  # (users, features) int32 day index of first use, NEVER if none
    activation_day: IntArray  # day of the activation event (project_created), NEVER if none
    community_day: IntArray  # day the user joins the community, NEVER if never
    activation_probability: np.ndarray  # each user's chance to activate (the planted truth)


def _delayed(rng: np.random.Generator, first: IntArray, mean_days: float) -> IntArray:
    delay = np.floor(rng.exponential(mean_days, len(first))) if mean_days > 0 else 0
    out: IntArray = (first + delay).astype(np.int64)
    return out


def simulate_adoption(pop: Population, timeline: Timeline, rng: np.random.Generator) -> Adoption:
    """When each user first uses each feature, activates and joins the community."""
    n = pop.size
    z = pop.engagement
    signup = pop.signup_day

    member = rng.random(n) < sigmoid(logit(COMMUNITY_SHARE) + 0.7 * z)
    # Joining happens on a later visit than sign-up, so it never competes with the identify.
    community_day = np.where(member, _delayed(rng, signup + 1, 25.0), NEVER)

    feature_day = np.full((n, len(FEATURES)), NEVER, dtype=np.int32)
    for f, feature in enumerate(FEATURES):
        if feature.community:
            start = community_day + 1  # members post from the day after they join
            adopts = member.copy()
        else:
            released = 0
            if feature.release is not None:  # ships part-way through the visible days
                shown = timeline.days - timeline.first_day
                released = timeline.first_day + round(feature.release * shown)
            start = np.maximum(signup, released)
            adopts = np.ones(n, dtype=bool)
            if feature.adoption < 1.0:
                adopts = rng.random(n) < sigmoid(logit(feature.adoption) + 0.8 * z)
        day = _delayed(rng, np.minimum(start, NEVER - 1000), feature.delay_days)
        feature_day[:, f] = np.where(adopts, np.minimum(day, NEVER), NEVER)

    # The onboarding-checklist experiment's test arm activates more often.
    chance = sigmoid(0.2 + 0.9 * z + 0.7 * (pop.variant == 2))
    activates: BoolArray = rng.random(n) < chance
    same_day = rng.random(n) < 0.7
    later = signup + 1 + rng.geometric(0.35, n)
    activation_day = np.where(activates, np.where(same_day, signup, later), NEVER)
    return Adoption(
        feature_day, activation_day.astype(np.int64), community_day.astype(np.int64), chance
    )
