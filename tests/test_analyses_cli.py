"""The analysis commands as a user runs them: the documented JSON shapes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from northstar.workspace import Workspace
from tests.metric_fixtures import events
from tests.test_cli import run

LOG = [
    ("signup", "u1", "2026-03-02T10:00:00Z"),
    ("create", "u1", "2026-03-02T10:05:00Z"),
    ("signup", "u2", "2026-03-02T11:00:00Z"),
    ("create", "u1", "2026-03-10T10:00:00Z"),
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    ws = Workspace.init(root / "w", timezone="UTC")
    events(ws, LOG)
    return root


def as_json(folder: Path, *args: str) -> dict[str, object]:
    out = run(*args, "-w", "w", "--format", "json", cwd=folder)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_retention_json(folder: Path) -> None:
    got = as_json(folder, "retention", "--start-event", "signup", "--return-event", "$active",
                  "--period", "week", "--periods", "3", "--from", "2026-03-02",
                  "--to", "2026-03-08")  # fmt: skip
    # Week of Mar 2: u1 and u2 signed up; u1 was active again in the week of Mar 9. The data
    # ends on Mar 10, so the week of Mar 16 is unknown: the triangle stops there (not 0).
    assert got["cohorts"] == [
        {"start": "2026-03-02", "size": 2, "counts": [2, 1], "percentages": [100.0, 50.0],
         "partial": True, "reason": None},  # the week of Mar 9 runs past Mar 10: partial
    ]  # fmt: skip
    assert got["as_of"] == "2026-03-11" and got["data_through"] == "2026-03-10"


def test_funnel_json(folder: Path) -> None:
    got = as_json(folder, "funnel", "signup", "create", "--window", "14d",
                  "--from", "2026-03-01", "--to", "2026-03-31")  # fmt: skip
    assert got["steps"] == [
        {"name": "signup", "count": 2, "conversion_from_start": 1.0,
         "conversion_from_previous": 1.0, "avg_seconds_to_convert": None,
         "median_seconds_to_convert": None},
        {"name": "create", "count": 1, "conversion_from_start": 0.5,
         "conversion_from_previous": 0.5, "avg_seconds_to_convert": 300.0,
         "median_seconds_to_convert": 300.0},
    ]  # fmt: skip


def test_lifecycle_and_stickiness_json(folder: Path) -> None:
    got = as_json(folder, "lifecycle", "--event", "signup", "--grain", "week",
                  "--from", "2026-03-02", "--to", "2026-03-15")  # fmt: skip
    assert got["rows"] == [
        {
            "period": "2026-03-02",
            "new": 2,
            "returning": 0,
            "resurrecting": 0,
            "dormant": 0,
            "partial": False,
        },
        # data through Mar 10: the week of Mar 9 is still in progress
        {
            "period": "2026-03-09",
            "new": 0,
            "returning": 0,
            "resurrecting": 0,
            "dormant": -2,
            "partial": True,
        },
    ]
    got = as_json(folder, "stickiness", "--event", "create", "--grain", "week",
                  "--from", "2026-03-02", "--to", "2026-03-15")  # fmt: skip
    assert got["histogram"] == [
        {"active_periods": 1, "users": 0},
        {"active_periods": 2, "users": 1},
    ]


def test_csv_and_table_formats(folder: Path) -> None:
    out = run("funnel", "signup", "create", "--from", "2026-03-01", "--to", "2026-03-31",
              "--format", "csv", "-w", "w", cwd=folder)  # fmt: skip
    assert out.stdout.splitlines()[0].startswith("step,name,count,conversion_from_start")
    out = run("retention", "--periods", "3", "--from", "2026-03-02", "--to", "2026-03-08",
              "-w", "w", cwd=folder)  # fmt: skip
    assert out.returncode == 0 and "100.0%" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("funnel", "signup"), "a funnel has 2 to 20 steps"),
        (("funnel", "a", "b", "--window", "later"), "conversion window 'later' is not a duration"),
        (("retention", "--period", "hour"), "unknown grain"),
        (("retention", "--format", "xml"), "unknown format 'xml'"),
        (("lifecycle", "--event", "open where nosuch = 1"), "unknown property 'nosuch'"),
        (("stickiness", "--from", "2026-03-09", "--to", "2026-03-01"), "is after the end date"),
    ],
)
def test_mistakes_are_one_line(folder: Path, args: tuple[str, ...], message: str) -> None:
    out = run(*args, "-w", "w", cwd=folder)
    assert out.returncode != 0
    assert message in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_misspelt_funnel_step_is_an_error_with_a_suggestion(folder: Path) -> None:
    # Issue 19: a misspelt step used to give a funnel of 0 / 0 without a word.
    out = run("funnel", "signup", "creat", "--from", "2026-03-01", "--to", "2026-03-31",
              "-w", "w", cwd=folder)  # fmt: skip
    assert out.returncode == 1
    assert out.stderr.strip() == (
        "error: unknown event 'creat' (no event of that name in the data); did you mean 'create'?"
    )
    # a real event nobody did in the range is a 0, not an error
    got = as_json(folder, "funnel", "signup", "create", "--from", "2026-03-04",
                  "--to", "2026-03-05")  # fmt: skip
    assert [s["count"] for s in got["steps"]] == [0, 0]
