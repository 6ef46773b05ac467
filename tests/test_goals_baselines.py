"""Issue 15's baseline, time frame, duplicate and wording bullets, on monthly sign-ups whose
values are known by construction (tests/test_goals_workspace.py::signups_per_month)."""

from __future__ import annotations

from pathlib import Path

import pytest

from northstar.errors import GoalError
from northstar.goals.smart import CheckState
from northstar.goals.tracking import Status
from northstar.workspace import Workspace
from tests.test_goals_workspace import TODAY, signups_per_month, signups_workspace

# TODAY is 2026-07-15: June 2026 (month 17) is the last complete month.
JUNE, DECEMBER_2025 = signups_per_month(17), signups_per_month(11)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = signups_workspace(tmp_path)
    ws.add_objective("Grow sign-ups", perspective="customer", time_frame="2026")
    return ws


def test_a_goal_under_an_objective_is_measured_from_its_own_start(ws: Workspace) -> None:
    # The objective runs through 2026; the goal is set in July. Its baseline is June
    # (55 sign-ups), not December 2025 (43), so a goal of +10 % is not "achieved" the day
    # it is created (June is already +28 % on December).
    new = ws.add_goal("signups", "+10%", objectives=["grow-sign-ups"], today=TODAY)
    assert str(new.goal.start) == "2026-07-01" and str(new.goal.deadline) == "2026-12-31"
    assert (JUNE, DECEMBER_2025) == (55, 43)
    p = ws.track_goal(new.goal.id, today=TODAY)
    assert p.baseline == JUNE and "2026-06-01" in p.baseline_source
    assert p.aim == pytest.approx(JUNE * 1.1)
    assert p.status is not Status.achieved
    time_bound = {c.letter: c for c in new.check.checks}["T"]
    assert time_bound.state is CheckState.passed


def test_a_start_in_the_past_is_shown_in_the_smart_check(ws: Workspace) -> None:
    new = ws.add_goal("signups", "+10%", objectives=["grow-sign-ups"], start="2026-01-01",
                      today=TODAY)  # fmt: skip
    time_bound = {c.letter: c for c in new.check.checks}["T"]
    assert time_bound.state is CheckState.warning
    assert "starts 2026-01-01, already in the past" in time_bound.detail
    assert "the current month began 2026-07-01" in time_bound.detail
    # its baseline is December 2025, as the user asked by giving that start
    assert ws.track_goal(new.goal.id, today=TODAY).baseline == DECEMBER_2025


def test_a_deadline_outside_the_objective_is_a_warning(ws: Workspace) -> None:
    new = ws.add_goal("signups", ">= 80", objectives=["grow-sign-ups"], deadline="2027-03-31",
                      today=TODAY)  # fmt: skip
    assert new.warnings == (
        "deadline 2027-03-31 is outside the time frame of objective 'grow-sign-ups' "
        "(2026-01-01 to 2026-12-31); move the deadline or the objective's time frame",
    )


def test_a_past_deadline_names_the_current_period_not_a_start_never_given(
    ws: Workspace,
) -> None:
    with pytest.raises(GoalError) as err:
        ws.add_goal("signups", ">= 80", deadline="2026-05-31", today=TODAY)
    message = str(err.value)
    assert message.startswith("deadline 2026-05-31 is not after the current month, which "
                              "starts on 2026-07-01 (as of 2026-07-15)")  # fmt: skip
    assert "--start" in message and "\n" not in message
    # with a start given, the model's own rule speaks about that start
    with pytest.raises(GoalError, match="is not after start 2026-06-01"):
        ws.add_goal("signups", ">= 80", start="2026-06-01", deadline="2026-05-31", today=TODAY)


def test_duplicate_and_conflicting_goals_are_warned(ws: Workspace) -> None:
    first = ws.add_goal("signups", ">= 80", objectives=["grow-sign-ups"], goal_id="a",
                        today=TODAY)  # fmt: skip
    assert first.warnings == ()
    same = ws.add_goal("signups", ">= 80", objectives=["grow-sign-ups"], goal_id="b",
                       today=TODAY)  # fmt: skip
    assert len(same.warnings) == 1 and same.warnings[0].startswith("duplicate of goal 'a'")
    other = ws.add_goal("signups", ">= 95", objectives=["grow-sign-ups"], goal_id="c",
                        today=TODAY)  # fmt: skip
    assert [w.split(" (")[0] for w in other.warnings] == [
        "conflicts with goal 'a' on the same metric and segment",
        "conflicts with goal 'b' on the same metric and segment",
    ]
    # another segment, or a time that does not overlap, is a different goal
    fr = ws.add_goal("signups", ">= 30", objectives=["grow-sign-ups"], goal_id="fr",
                     where="country = 'FR'", today=TODAY)  # fmt: skip
    assert fr.warnings == ()
    later = ws.add_goal("signups", ">= 120", start="2027-01-01", deadline="2027-06-30",
                        goal_id="later", today=TODAY)  # fmt: skip
    assert later.warnings == ()


def test_a_template_skips_a_metric_already_targeted(ws: Workspace) -> None:
    ws.add_goal("signups", ">= 70", start="2026-07-01", deadline="2026-12-31",
                goal_id="mine", today=TODAY)  # fmt: skip
    t = ws.goal_template("early", start="2026-07-01", deadline="2026-12-31", apply=True,
                         today=TODAY)  # fmt: skip
    kpis = {k.metric: k for o in t.objectives for k in o.kpis}
    assert kpis["signups"].existing == "mine" and kpis["signups"].target is None
    assert "already targeted by goal mine" in kpis["signups"].note
    assert "northstar goals revise mine" in kpis["signups"].note
    on_signups = [g.id for g in ws.goal_book().goals if g.metric == "signups"]
    assert on_signups == ["mine"]


def test_a_goal_is_one_request_object_for_the_api_the_cli_and_the_web(ws: Workspace) -> None:
    # Issue 17: the parameters are declared once (GoalSpec); every adapter builds one.
    from northstar.goals.service import GoalSpec

    spec = GoalSpec.make(metric="signups", target=">= 80", objectives=["grow-sign-ups"],
                         deadline="2026-12-31", grain="month", goal_id="spec")  # fmt: skip
    assert str(spec.deadline) == "2026-12-31" and spec.grain.value == "month"
    assert ws.add_goal(spec, today=TODAY).goal.id == "spec"
    with pytest.raises(GoalError, match="^goal: deadlin: Extra inputs are not permitted$"):
        ws.add_goal("signups", ">= 80", deadlin="2026-12-31", today=TODAY)
    with pytest.raises(GoalError, match="^goal: plan: Input should be 'linear' or 'seasonal'$"):
        GoalSpec.make(metric="signups", target=">= 80", plan="wavy")
    # the CLI's help for an option is the spec's own description
    assert GoalSpec.model_fields["where"].description == "segment, e.g. plan = 'pro'"
