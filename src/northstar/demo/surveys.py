"""Survey answers: NPS, CSAT, CES and USS from users, and a monthly team survey.

Scores follow the respondent's recent activity (active days in the four weeks before
answering), so engaged users score higher; around the Pro price rise detractors say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from northstar.demo.activity import Activity
from northstar.demo.arrays import FloatArray, IntArray
from northstar.demo.ids import hex_ids
from northstar.demo.incidents import ANNOUNCE_DAYS, IncidentPlan
from northstar.demo.tables import ColumnData
from northstar.demo.team import MEMBERS
from northstar.demo.timeline import US_PER_DAY, US_PER_HOUR, Timeline


@dataclass(frozen=True)
class Survey:
    """How one survey is asked and scored."""

    name: str
    scale: tuple[int, int]
    chance: float  # chance of answering on an active day
    low: float  # mean score of a user with no recent activity
    high: float  # mean score of a user active on ENGAGED_DAYS of the last 28 days or more
    noise: float
    trigger: str
    max_age: int = 100_000  # asked only within this many days of sign-up
    min_age: int = 0


SURVEYS = (
    Survey("nps", (0, 10), 0.012, 6.0, 10.6, 1.4, "in_app_quarterly", min_age=14),
    Survey("csat", (1, 5), 0.008, 3.0, 5.3, 0.8, "after_report_export"),
    Survey("ces", (1, 7), 0.05, 4.2, 7.0, 1.0, "after_onboarding", max_age=14),
    Survey("uss", (1, 7), 0.005, 4.2, 7.0, 1.0, "in_app"),
)
ENGAGED_DAYS = 12
LOW = (
    "Dashboards are too slow to load.",
    "I could not find how to export a report.",
    "Setting up the data import took a whole afternoon.",
    "My stakeholders find the charts confusing.",
    "We need an integration with our CRM.",
)
MIDDLE = (
    "Does the job, but alerts could be smarter.",
    "Good overall; the goals page needs work.",
    "Useful, though I still copy numbers into spreadsheets.",
    "Fine for me, hard to get my team to use it.",
)
HIGH = (
    "The weekly report saves me hours.",
    "Finally one place for all our KPIs.",
    "An alert caught a drop before our CEO did.",
    "Sharing dashboards with the team is effortless.",
)
PRICE = (
    "The new Pro price is too high for what we use.",
    "The price went up 20 % with nothing new in return.",
    "Looking at cheaper tools after the price change.",
)
_TEAM_MEAN = {"platform": 4.0, "growth": 3.8, "mobile": 3.7}


def recent_active_days(act: Activity, user: IntArray, day: IntArray, days: int) -> IntArray:
    """Active days of each (user, day) in the 28 days up to and including the day."""
    keys = act.user * days + act.day  # sorted: activity is ordered by user, then day
    upto = np.searchsorted(keys, user * days + day, side="right")
    since = np.searchsorted(keys, user * days + np.maximum(day - 27, 0), side="left")
    out: IntArray = upto - since
    return out


def _comments(
    score: FloatArray, survey: Survey, price_talk: np.ndarray, rng: np.random.Generator
) -> list[str | None]:
    lo, hi = survey.scale
    position = (score - lo) / (hi - lo)
    band = np.where(position >= 0.85, 2, np.where(position >= 0.65, 1, 0))
    pools = (LOW, MIDDLE, HIGH)
    has = rng.random(len(score)) < 0.45
    pick = rng.integers(0, 1000, len(score))
    out: list[str | None] = []
    for b, h, p, talk in zip(
        band.tolist(), has.tolist(), pick.tolist(), price_talk.tolist(), strict=True
    ):
        if not h:
            out.append(None)
        elif b == 0 and talk:
            out.append(PRICE[p % len(PRICE)])
        else:
            out.append(pools[b][p % len(pools[b])])
    return out


def survey_responses(
    act: Activity,
    signup_day: IntArray,
    user_ids: list[str],
    timeline: Timeline,
    plan: IncidentPlan,
    rng: np.random.Generator,
) -> dict[str, ColumnData]:
    """The ``survey_responses`` columns for all surveys, sorted by answer time."""
    cols: dict[str, list[object]] = {
        k: []
        for k in (
            "survey",
            "respondent_id",
            "responded_at",
            "score",
            "scale_min",
            "scale_max",
            "comment",
            "properties",
        )
    }
    price_from = plan.churn_month_start - ANNOUNCE_DAYS
    for survey in SURVEYS:
        age = act.day - signup_day[act.user]
        eligible = (age >= survey.min_age) & (age <= survey.max_age)
        eligible &= act.day >= timeline.first_day  # nobody answered before the data begins
        asked = np.flatnonzero(eligible & (rng.random(len(act.day)) < survey.chance))
        user, day = act.user[asked], act.day[asked]
        active_days = recent_active_days(act, user, day, timeline.days)
        recent = np.minimum(active_days, ENGAGED_DAYS) / ENGAGED_DAYS
        mean = survey.low + (survey.high - survey.low) * recent
        price_talk = (day >= price_from) & (day < plan.churn_month_end)
        mean = mean - 1.2 * price_talk * (survey.name == "nps")
        lo, hi = survey.scale
        score = np.clip(np.round(mean + rng.normal(0, survey.noise, len(asked))), lo, hi)
        at = timeline.day_us(day) + (rng.uniform(8, 20, len(asked)) * US_PER_HOUR).astype(np.int64)
        cols["survey"] += [survey.name] * len(asked)
        cols["respondent_id"] += [user_ids[u] for u in user.tolist()]
        cols["responded_at"] += at.tolist()
        cols["score"] += score.tolist()
        cols["scale_min"] += [float(lo)] * len(asked)
        cols["scale_max"] += [float(hi)] * len(asked)
        cols["comment"] += _comments(score, survey, price_talk, rng)
        cols["properties"] += [json.dumps({"trigger": survey.trigger})] * len(asked)
    _team_survey(cols, timeline, plan, rng)

    order = np.argsort(np.array(cols["responded_at"], dtype=np.int64), kind="stable").tolist()
    columns: dict[str, ColumnData] = {"response_id": hex_ids(rng, len(order), "resp_", 12)}
    for key, values in cols.items():
        columns[key] = [values[k] for k in order]
    return columns


def _team_survey(
    cols: dict[str, list[object]], timeline: Timeline, plan: IncidentPlan, rng: np.random.Generator
) -> None:
    """Each month's first weekday, team members rate how they feel about their work (1-5)."""
    for first in (m for m in timeline.month_starts() if m >= timeline.first_day):
        day = first + int(
            max(0, 7 - timeline.weekday[first]) if timeline.weekday[first] >= 5 else 0
        )
        if day >= timeline.days:
            continue
        # The month after the Android fire drill, the mobile team is worn out.
        after_drop = 0 <= day - plan.dau_drop_end < 31
        for team, members in MEMBERS.items():
            for member in members:
                if rng.random() < 0.15:
                    continue  # not everyone answers
                mean = _TEAM_MEAN[team] - (0.9 if team == "mobile" and after_drop else 0.0)
                score = float(np.clip(np.round(mean + rng.normal(0, 0.7)), 1, 5))
                at = timeline.start_us + day * US_PER_DAY + int(rng.uniform(9, 17) * US_PER_HOUR)
                cols["survey"].append("team")
                cols["respondent_id"].append(f"{member}@northstar-demo.io")
                cols["responded_at"].append(at)
                cols["score"].append(score)
                cols["scale_min"].append(1.0)
                cols["scale_max"].append(5.0)
                cols["comment"].append(None)
                cols["properties"].append(json.dumps({"team": team}))
