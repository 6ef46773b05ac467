"""Goals through the Workspace API and goals.yaml: one source of truth, revisions kept,
scorecard numbers checked against an independent pandas count."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

from northstar.errors import GoalError, GoalFileError, UnknownMetricError
from northstar.goals.scorecard import to_dict, to_markdown
from northstar.goals.store import GOALS_FILE
from northstar.goals.templates import TEMPLATES, KpiIdea, Stage, pick_metric
from northstar.goals.tracking import Status
from northstar.workspace import Workspace
from tests.metric_fixtures import load

TODAY = date(2026, 7, 15)  # June 2026 is the last complete month


def signups_per_month(i: int) -> int:
    """Month i (0 = January 2025): a rising count with a wobble."""
    return 20 + 2 * i + (i % 3) - 1


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return signups_workspace(tmp_path)


def signups_workspace(tmp_path: Path) -> Workspace:
    """Monthly sign-ups from January 2025 to June 2026 (see signups_per_month)."""
    ws = Workspace.init(tmp_path / "w", name="Goals test")
    rows = []
    for i in range(18):  # January 2025 .. June 2026
        month = pd.Timestamp(2025, 1, 1) + pd.DateOffset(months=i)
        for k in range(signups_per_month(i)):
            country = '{"country": "FR"}' if k % 3 == 0 else '{"country": "DE"}'
            rows.append((f"u{i}-{k}", f"{month:%Y-%m}-{1 + k % 27:02d}T12:00:00Z", country))
    rows.append(("late", "2026-07-03T12:00:00Z", "{}"))  # the running month: excluded
    load(ws, "users", ("user_id", "created_at", "properties"), rows)
    return ws


def pandas_signups(ws: Workspace) -> pd.Series:
    frame = ws.sql("SELECT created_at FROM users").to_pandas()
    months = frame["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    return months.value_counts().sort_index()


def test_goal_lives_in_goals_yaml_and_reads_back(ws: Workspace) -> None:
    ws.add_objective("Grow sign-ups", perspective="customer", owner="Ana",
                     time_frame="2026-H1")  # fmt: skip
    new = ws.add_goal("signups", ">= 60", objectives=["grow-sign-ups"], deadline="2026-09-30",
                      start="2026-04-01", by="ana", today=TODAY)  # fmt: skip
    assert new.goal.id == "signups-2026-09-30" and new.check.ok
    raw = yaml.safe_load((ws.path / GOALS_FILE).read_text())
    assert raw["objectives"][0] == {
        "id": "grow-sign-ups", "name": "Grow sign-ups", "owner": "Ana",
        "perspective": "customer",
        "time_frame": {"start": date(2026, 1, 1), "end": date(2026, 6, 30)},
    }  # fmt: skip
    goal = raw["goals"][0]
    assert goal["target"] == {"kind": "at_least", "value": 60}
    assert (goal["start"], goal["deadline"], goal["grain"]) == (
        date(2026, 4, 1), date(2026, 9, 30), "month",
    )  # fmt: skip
    assert ws.goal_book().goals[0] == new.goal  # what the API wrote is what it reads


def test_defaults_come_from_the_objective_time_frame(ws: Workspace) -> None:
    ws.add_objective("Grow", perspective="customer", time_frame="2026-Q3")
    new = ws.add_goal("signups", "+10%", objectives=["grow"], today=TODAY)
    assert (new.goal.start, new.goal.deadline) == (date(2026, 7, 1), date(2026, 9, 30))


def test_scorecard_numbers_match_an_independent_count(ws: Workspace) -> None:
    ws.add_objective("Grow sign-ups", perspective="customer")
    ws.add_goal("signups", ">= 60", objectives=["grow-sign-ups"], start="2026-04-01",
                deadline="2026-09-30", today=TODAY)  # fmt: skip
    counts = pandas_signups(ws)
    march, june = counts[pd.Period("2026-03")], counts[pd.Period("2026-06")]
    assert (march, june) == (signups_per_month(14), signups_per_month(17))
    p = ws.track_goal("signups-2026-09-30", today=TODAY)
    assert (p.baseline, p.current, p.current_period) == (march, june, date(2026, 6, 1))
    assert p.progress == pytest.approx((june - march) / (60 - march))
    assert p.expected == pytest.approx(march + (60 - march) * 3 / 6)
    assert p.forecast is not None and p.forecast.model == "linear trend"  # signups grow linearly
    assert len(p.history) == 18  # January 2025 .. June 2026; July is running
    card = ws.scorecard(today=TODAY)
    data = to_dict(card)
    kpi = data["perspectives"][1]["objectives"][0]["kpis"][0]
    assert (kpi["current"], kpi["baseline"], kpi["status"]) == (june, march, p.status.value)
    assert kpi["history"][-1] == {"period": "2026-06-01", "value": june}
    assert f"| Sign-ups | {june} | ≥ 60 | 2026-09-30 |" in to_markdown(card)


def test_segment_goal_counts_only_its_segment(ws: Workspace) -> None:
    ws.add_objective("Grow in France", perspective="customer")
    new = ws.add_goal("signups", "+20%", where="country = 'FR'", objectives=["grow-in-france"],
                      start="2026-04-01", deadline="2026-09-30", today=TODAY)  # fmt: skip
    assert "segment country = 'FR'" in new.check.checks[0].detail
    p = ws.track_goal(new.goal.id, today=TODAY)
    # Users k = 0, 3, 6, ... of each month are French: ceil(n / 3) of n sign-ups.
    fr = [-(-signups_per_month(i) // 3) for i in range(18)]
    assert (p.baseline, p.current) == (fr[14], fr[17])
    assert p.bounds is not None and p.bounds.low == pytest.approx(fr[14] * 1.2)
    assert p.history.tolist() == fr


def test_revisions_keep_the_history(ws: Workspace) -> None:
    ws.add_objective("Grow", perspective="customer")
    ws.add_goal("signups", ">= 60", objectives=["grow"], start="2026-04-01",
                deadline="2026-09-30", goal_id="su", today=TODAY)  # fmt: skip
    ws.revise_goal("su", target=">= 55", reason="hiring freeze", by="ana")
    ws.revise_goal("su", deadline="2026-12-31", reason="launch slipped", by="bo")
    ws.revise_goal("su", baseline=40, reason="March had a bot wave", by="cy")
    goal = ws.goal_book().goal("su")
    assert goal is not None
    assert goal.target.value == 55 and goal.deadline == date(2026, 12, 31) and goal.baseline == 40
    first, second, third = goal.revisions
    assert (first.by, first.reason) == ("ana", "hiring freeze")
    assert (first.target.old.value, first.target.new.value) == (60, 55)  # type: ignore[union-attr]
    assert first.deadline is None and second.target is None
    assert (second.deadline.old, second.deadline.new) == (date(2026, 9, 30), date(2026, 12, 31))  # type: ignore[union-attr]
    assert (third.baseline.old, third.baseline.new) == (None, 40)  # type: ignore[union-attr]
    assert first.at <= second.at <= third.at
    with pytest.raises(GoalError, match="nothing to revise"):
        ws.revise_goal("su", target=">= 55", reason="same again")
    with pytest.raises(GoalError, match="say why"):
        ws.revise_goal("su", target=">= 70", reason=" ")


def test_focus_warning_above_the_setting(ws: Workspace) -> None:
    ws.add_objective("Everything", perspective="customer")
    warned = []
    for i in range(6):
        new = ws.add_goal("signups", f">= {50 + i}", objectives=["everything"],
                          deadline="2026-09-30", goal_id=f"g{i}", today=TODAY)  # fmt: skip
        warned.append(any("dilutes focus" in w for w in new.warnings))
    assert warned == [False] * 5 + [True]
    card = ws.scorecard(today=TODAY)
    assert any("has 6 KPIs; more than 5" in w for w in card.warnings)
    assert any("Financial perspective" in w for w in card.warnings)


def test_mistakes_are_one_clear_line(ws: Workspace) -> None:
    with pytest.raises(UnknownMetricError):
        ws.add_goal("nosuch", ">= 1", deadline="2026-09-30")
    with pytest.raises(GoalError, match="cannot read the target"):
        ws.add_goal("signups", "lots", deadline="2026-09-30")
    with pytest.raises(GoalError, match="no objective 'ghost'"):
        ws.add_goal("signups", ">= 1", objectives=["ghost"], deadline="2026-09-30")
    with pytest.raises(GoalError, match="give a deadline"):
        ws.add_goal("signups", ">= 1")
    with pytest.raises(GoalError, match="not after start"):
        ws.add_goal("signups", ">= 1", start="2026-09-01", deadline="2026-08-01")
    with pytest.raises(GoalError, match="perspective"):
        ws.add_objective("X", perspective="marketing")
    with pytest.raises(GoalError, match="unknown stage"):
        ws.goal_template("teenage")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("goals: [{id: a, metric: mau}]\n", "goal 'a', field 'target': Field required"),
        (
            "objectives: [{id: o, name: O, perspective: sales}]\n",
            "objective 'o', field 'perspective'",
        ),
        (
            "goals:\n- {id: a, metric: mau, objectives: [ghost], target: {kind: at_least, value: 1},"
            " start: 2026-01-01, deadline: 2026-02-01}\n",
            "unknown objective 'ghost'",
        ),
        ("goals: [\n", "is not valid YAML at line"),
        (
            "goals:\n- {id: a, metric: mau, target: {kind: band, low: 5}, start: 2026-01-01,"
            " deadline: 2026-02-01}\n",
            "a band target needs a number in 'high'",
        ),
    ],
)
def test_hand_edited_file_errors_name_the_entry(ws: Workspace, text: str, message: str) -> None:
    (ws.path / GOALS_FILE).write_text(text)
    with pytest.raises(GoalFileError, match=message.replace("[", r"\[")) as err:
        ws.goal_book()
    assert "\n" not in str(err.value)


def test_suggest_and_template(ws: Workspace) -> None:
    s = ws.suggest_targets("signups", deadline="2026-09-30", today=TODAY)
    assert s.baseline == signups_per_month(17) and s.periods == 3
    values = [t.value for t in s.targets]
    assert values == sorted(values) and values[0] > s.baseline  # sign-ups always grew
    t = ws.goal_template("early", today=TODAY, apply=True, by="ana")
    assert t.stage is Stage.early and t.applied  # at least the sign-ups goal
    book = ws.goal_book()
    assert {o.name for o in book.objectives} >= {"Prove adoption", "Activate new users"}
    assert all(g.created_by == "ana" for g in book.goals)


def test_template_substitutes_a_missing_metric_and_says_so() -> None:
    idea = KpiIdea(("retention_rate", "user_churn_rate"), "retention")
    assert pick_metric(idea, {"retention_rate", "user_churn_rate"}) == ("retention_rate", "")
    metric, note = pick_metric(idea, {"user_churn_rate"})
    assert metric == "user_churn_rate" and "retention_rate is not in this workspace" in note
    wanted = {m for ideas in TEMPLATES.values() for o in ideas for k in o.kpis for m in k.metrics}
    from northstar.metrics.registry import builtin_metrics

    builtin = {s.id for s in builtin_metrics()}
    assert wanted - builtin <= {"retention_rate"}  # every other template metric exists


def test_demo_goals_make_a_mixed_scorecard(tmp_path: Path) -> None:
    from northstar.demo.load import load_demo

    ws = Workspace.init(tmp_path / "demo")
    load_demo(ws, users=300, days=180, seed=3)
    card = Workspace(ws.path).scorecard()  # judged as of the day after the data
    assert card.as_of == date(2026, 11, 1)
    progress = {g.goal.id: g for g in card.goals()}
    statuses = {gid: p.status for gid, p in progress.items()}
    assert len(statuses) == 10
    # NRR looks back 12 months and this small demo has 6: no value yet, and it says so.
    assert statuses.pop("nrr-q3") is Status.no_data
    assert "no complete month of nrr" in progress["nrr-q3"].reason
    assert Status.no_data not in statuses.values()
    assert len(set(statuses.values())) >= 3  # a mix, not one colour
