"""The objectives, goals and scorecard commands as a user types them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from northstar.cli.app import app
from northstar.workspace import Workspace
from tests.test_goals_workspace import TODAY, ws  # noqa: F401  (the workspace fixture)

runner = CliRunner()


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200", "NORTHSTAR_USER": "ana"})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_objectives_goals_revisions_and_scorecard(ws: Workspace) -> None:  # noqa: F811
    w = ("-w", str(ws.path))
    out = cli("objectives", "add", "Grow sign-ups", "--perspective", "customer",
              "--time-frame", "2026-Q3", "--owner", "Ana", *w)  # fmt: skip
    assert "Added objective grow-sign-ups" in out
    out = cli("goals", "add", "signups", "--target", ">= 60", "--objective", "grow-sign-ups",
              "--start", "2026-04-01", "--as-of", TODAY.isoformat(), *w)  # fmt: skip
    assert "Added goal signups-2026-09-30" in out
    for criterion in ("Specific", "Measurable", "Achievable", "Relevant", "Time-bound"):
        assert criterion in out
    assert "Checked (not saved)" in cli("goals", "add", "signups", "--target", "+5%",
                                        "--deadline", "2026-12-31", "--dry-run", *w)  # fmt: skip
    assert len(ws.goal_book().goals) == 1
    out = cli("goals", "revise", "signups-2026-09-30", "--target", ">= 55",
              "--reason", "hiring freeze", *w)  # fmt: skip
    assert "ana" in out and "hiring freeze" in out and "≥ 60 → ≥ 55" in out
    out = cli("goals", "show", "signups-2026-09-30", "--as-of", TODAY.isoformat(), *w)
    for part in ("baseline", "expected now", "run-rate", "forecast", "P(hit)", "SMART check",
                 "Revisions", "hiring freeze"):  # fmt: skip
        assert part in out
    assert "signups-2026-09-30" in cli("goals", "list", *w)
    assert "Grow sign-ups" in cli("objectives", "list", *w)
    assert "Sign-ups" in cli("objectives", "show", "grow-sign-ups", *w)
    day = ("--as-of", TODAY.isoformat())
    out = cli("goals", "suggest", "signups", "--deadline", "2026-09-30", *day, *w)
    assert "typical" in out and "stretch" in out and "ambitious" in out
    out = cli("goals", "template", "growth", *day, *w)
    assert "Keep the users we win" in out and "Nothing written" in out

    data = json.loads(cli("scorecard", "--format", "json", "--as-of", TODAY.isoformat(), *w))
    customer = next(p for p in data["perspectives"] if p["perspective"] == "customer")
    kpi = customer["objectives"][0]["kpis"][0]
    assert (kpi["goal"], kpi["revisions"], kpi["target"]) == (
        "signups-2026-09-30", 1, {"kind": "at_least", "value": 55.0},
    )  # fmt: skip
    assert 0 <= kpi["p_hit"] <= 1 and len(kpi["sparkline"]) == 12
    md = cli("scorecard", "--format", "markdown", "--as-of", TODAY.isoformat(), *w)
    assert "## Customer" in md and "### Grow sign-ups — Ana" in md
    table = cli("scorecard", "--as-of", TODAY.isoformat(), *w)
    assert "CUSTOMER" in table and "Sign-ups ✎" in table and "P(hit)" in table


def test_scorecard_without_goals_shows_headline_kpis(tmp_path: Path) -> None:
    Workspace.init(tmp_path / "empty")
    out = cli("scorecard", "-w", str(tmp_path / "empty"))
    assert "Workspace tables" in out and "No goals yet" in out


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from northstar.cli.app import main; main()", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("goals", "add", "nosuch", "--target", "1", "--deadline", "2026-01-01"), "unknown metric"),
        (("objectives", "add", "X", "--perspective", "sales"), "unknown perspective 'sales'"),
    ],
)  # more mistakes are checked through the API in test_goals_workspace.py
def test_goal_mistakes_are_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    Workspace.init(tmp_path / "w")
    out = run(*args, "-w", "w", cwd=tmp_path)
    assert out.returncode != 0
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_goals_show_json_has_the_goal_its_revisions_status_and_forecast(
    ws: Workspace,  # noqa: F811
) -> None:
    from tests.test_goals_workspace import pandas_signups

    w = ("-w", str(ws.path))
    cli("objectives", "add", "Grow sign-ups", "--perspective", "customer", *w)
    cli("goals", "add", "signups", "--target", ">= 60", "--objective", "grow-sign-ups",
        "--start", "2026-04-01", "--deadline", "2026-09-30", "--as-of", TODAY.isoformat(),
        *w)  # fmt: skip
    cli("goals", "revise", "signups-2026-09-30", "--target", ">= 55", "--reason", "freeze", *w)
    doc = json.loads(cli("goals", "show", "signups-2026-09-30", "--format", "json",
                         "--as-of", TODAY.isoformat(), *w))  # fmt: skip
    counts = pandas_signups(ws)  # independent of the metric layer
    june = counts[pd.Period("2026-06")]
    assert doc["id"] == doc["goal"]["id"] == "signups-2026-09-30"
    assert doc["as_of"] == TODAY.isoformat() and doc["pinned_by"] == "as_of"
    assert doc["current"] == june and doc["current_period"] == "2026-06-01"
    assert doc["revisions"][0]["reason"] == "freeze" and doc["target"]["value"] == 55
    assert doc["status"] in ("achieved", "on track", "at risk", "off track")
    fc = doc["forecast"]
    assert fc["p10"] <= fc["p50"] <= fc["p90"] and 0 <= doc["p_hit"] <= 1
    # The fan runs from the month after June to the deadline's month, ending on the P10-P90
    # the forecast reports.
    assert [f["period"] for f in doc["fan"]] == ["2026-07-01", "2026-08-01", "2026-09-01"]
    assert (doc["fan"][-1]["p10"], doc["fan"][-1]["p90"]) == (fc["p10"], fc["p90"])
    assert {c["letter"] for c in doc["smart"]["checks"]} == set("SMART")
    bad = runner.invoke(app, ["goals", "show", "signups-2026-09-30", "--format", "xml", *w])
    assert bad.exit_code != 0 and "unknown format 'xml'; use table or json" in str(bad.exception)
