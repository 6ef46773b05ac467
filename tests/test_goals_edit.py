"""Editing and removing objectives and goals, revising a goal's segment, and concurrent
writers of goals.yaml (the CLI and the web page may write at the same moment)."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from northstar.cli.app import app
from northstar.errors import FilterError, GoalError
from northstar.goals.model import SegmentChange
from northstar.goals.store import GOALS_FILE
from northstar.metrics.spec import Perspective
from northstar.workspace import Workspace
from tests.test_goals_workspace import TODAY, signups_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return signups_workspace(tmp_path)


def _grow(ws: Workspace) -> None:
    ws.add_objective("Grow sign-ups", perspective="customer", owner="Ana", time_frame="2026-H2")
    ws.add_objective("Win France", perspective="customer")
    ws.add_goal("signups", ">= 60", objectives=["grow-sign-ups", "win-france"],
                start="2026-04-01", deadline="2026-09-30", owner="Ana", today=TODAY)  # fmt: skip
    ws.add_goal("signups", ">= 30", objectives=["win-france"], start="2026-04-01",
                deadline="2026-12-31", today=TODAY)  # fmt: skip


def test_edit_an_objective_keeps_its_id_and_goals(ws: Workspace) -> None:
    _grow(ws)
    edited = ws.edit_objective("grow-sign-ups", name="Grow sign-ups fast",
                               perspective="financial", owner="Bo", time_frame="")  # fmt: skip
    assert (edited.id, edited.name, edited.owner) == ("grow-sign-ups", "Grow sign-ups fast", "Bo")
    assert edited.perspective is Perspective.financial and edited.time_frame is None
    raw = yaml.safe_load((ws.path / GOALS_FILE).read_text())["objectives"][0]
    assert raw == {"id": "grow-sign-ups", "name": "Grow sign-ups fast", "owner": "Bo",
                   "perspective": "financial"}  # fmt: skip
    assert [g.id for g in ws.goal_book().goals_of("grow-sign-ups")] == ["signups-2026-09-30"]
    with pytest.raises(GoalError, match="name"):
        ws.edit_objective("grow-sign-ups", name=" ")
    with pytest.raises(GoalError, match="unknown perspective 'money'"):
        ws.edit_objective("grow-sign-ups", perspective="money")
    assert ws.goal_book().objectives[0].name == "Grow sign-ups fast"  # nothing lost


def test_remove_an_objective_unaligns_only_goals_left_without_one(ws: Workspace) -> None:
    _grow(ws)
    removed = ws.remove_objective("win-france")
    assert removed.unaligned == ("signups-2026-12-31",)
    book = ws.goal_book()
    assert [o.id for o in book.objectives] == ["grow-sign-ups"]
    assert {g.id: g.objectives for g in book.goals} == {
        "signups-2026-09-30": ["grow-sign-ups"], "signups-2026-12-31": [],
    }  # fmt: skip


def test_edit_and_remove_a_goal(ws: Workspace) -> None:
    _grow(ws)
    goal = ws.edit_goal("signups-2026-09-30", owner="Cy", note="board ask", plan="seasonal",
                        objectives=["win-france"])  # fmt: skip
    assert (goal.owner, goal.note, goal.plan.value, goal.objectives) == (
        "Cy", "board ask", "seasonal", ["win-france"],
    )  # fmt: skip
    assert goal.revisions == []  # plain edits are not target revisions
    with pytest.raises(GoalError, match="no objective 'nope'"):
        ws.edit_goal("signups-2026-09-30", objectives=["nope"])
    with pytest.raises(GoalError, match="unknown plan 'wavy'"):
        ws.edit_goal("signups-2026-09-30", plan="wavy")
    ws.remove_goal("signups-2026-12-31")
    assert [g.id for g in ws.goal_book().goals] == ["signups-2026-09-30"]
    with pytest.raises(GoalError, match="no goal 'signups-2026-12-31'"):
        ws.remove_goal("signups-2026-12-31")


def test_revising_the_segment_is_recorded_and_changes_what_is_measured(ws: Workspace) -> None:
    _grow(ws)
    # June 2026 has 20 + 2*17 + 17 % 3 - 1 = 55 sign-ups; k = 0, 3, ..., 54 are in FR: 19.
    assert ws.track_goal("signups-2026-09-30", today=TODAY).current == 55
    revised = ws.revise_goal("signups-2026-09-30", where="country = 'FR'",
                             reason="focus on France", by="ana")  # fmt: skip
    assert revised.where == "country = 'FR'"
    assert revised.revisions[-1].where == SegmentChange(old=None, new="country = 'FR'")
    assert "segment all → country = 'FR'" in revised.revisions[-1].describe(
        ws.registry().get("signups").unit, "USD"
    )
    assert ws.track_goal("signups-2026-09-30", today=TODAY).current == 19
    with pytest.raises(FilterError):
        ws.revise_goal("signups-2026-09-30", where="country ===", reason="typo")
    assert ws.goal_book().goal("signups-2026-09-30").where == "country = 'FR'"  # type: ignore[union-attr]
    back = ws.revise_goal("signups-2026-09-30", where="", reason="all of Europe again")
    assert back.where is None and len(back.revisions) == 2


def test_concurrent_writers_lose_nothing(ws: Workspace) -> None:
    """Eight writers at once (as two browser tabs and a CLI would): every change is kept."""
    errors: list[BaseException] = []

    def add(i: int) -> None:
        try:
            Workspace(ws.path).add_objective(f"Objective {i}", perspective="customer")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert sorted(o.name for o in ws.goal_book().objectives) == [f"Objective {i}" for i in range(8)]


def test_cli_edits_objectives_and_goals(ws: Workspace) -> None:
    _grow(ws)
    run = CliRunner().invoke
    w = ["-w", str(ws.path)]
    out = run(app, ["objectives", "edit", "win-france", "--owner", "Dee", *w])
    assert out.exit_code == 0, out.output
    out = run(app, ["goals", "edit", "signups-2026-12-31", "--no-objective", *w])
    assert out.exit_code == 0, out.output
    out = run(app, ["objectives", "remove", "grow-sign-ups", *w])
    assert out.exit_code == 0 and "aligned to no objective" not in out.output  # serves France
    out = run(app, ["goals", "remove", "signups-2026-12-31", *w])
    assert out.exit_code == 0, out.output
    out = run(app, ["goals", "revise", "signups-2026-09-30", "--where", "country = 'DE'",
                    "--reason", "Germany first", *w])  # fmt: skip
    assert out.exit_code == 0 and "segment all → country = 'DE'" in out.output
    book = ws.goal_book()
    assert [(o.id, o.owner) for o in book.objectives] == [("win-france", "Dee")]
    assert [(g.id, g.objectives, g.where) for g in book.goals] == [
        ("signups-2026-09-30", ["win-france"], "country = 'DE'"),
    ]  # fmt: skip
    bad = run(app, ["goals", "remove", "nope", *w])
    assert bad.exit_code != 0 and "Traceback" not in bad.output
    assert date(2026, 9, 30) == book.goals[0].deadline
