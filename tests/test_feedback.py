"""Survey comments (``feedback``): which answers, in which group, in which order.

The workspace cuts days in Europe/Paris (UTC+2 from 29 March 2026). Groups by hand:
NPS and 0-10 team answers: 9-10 promoter, 7-8 passive, 0-6 detractor; other scales: top
two points promoter, bottom two detractor, the rest passive.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from northstar.cli.app import app
from northstar.errors import FilterError, QueryArgumentError
from northstar.workspace import Workspace
from tests.test_cli import run

TODAY = date(2026, 12, 1)

ANSWERS = [
    # (id, survey, respondent, responded_at UTC, score, min, max, comment, channel)
    ("r1", "nps", "u1", "2026-04-02T10:00:00", 10, 0, 10, "Love it", "app"),
    ("r2", "nps", "u2", "2026-04-03T10:00:00", 9, 0, 10, "Great", "email"),
    ("r3", "nps", "u3", "2026-04-04T10:00:00", 8, 0, 10, "ok", "app"),
    ("r4", "nps", "u4", "2026-04-05T10:00:00", 7, 0, 10, "meh", "email"),
    ("r5", "nps", "u5", "2026-04-06T10:00:00", 6, 0, 10, "slow", "app"),
    ("r6", "nps", "u6", "2026-04-07T10:00:00", 0, 0, 10, "broken [red]x[/red]", "email"),
    ("r7", "nps", "u7", "2026-04-08T10:00:00", 3, 0, 10, None, "app"),  # no comment
    ("r8", "nps", "u8", "2026-04-09T10:00:00", 5, 0, 10, "   ", "app"),  # a blank one
    ("r9", "nps", "u9", "2026-03-31T22:30:00", 9, 0, 10, "late", "app"),  # 00:30 1/4 Paris
    ("r10", "nps", "u10", "2026-03-31T21:30:00", 2, 0, 10, "march", "app"),  # 23:30 31/3
    ("r11", "csat", "u1", "2026-04-02T11:00:00", 5, 1, 5, "happy", "app"),
    ("r12", "csat", "u2", "2026-04-02T12:00:00", 3, 1, 5, "fine", "app"),
    ("r13", "csat", "u3", "2026-04-02T13:00:00", 2, 1, 5, "bad", "app"),
    ("r14", "csat", "u4", "2026-04-02T14:00:00", 3, 1, 7, "so-so", "app"),  # 1-7: 3 passive
    ("r15", "team", "m1", "2026-04-02T09:00:00", 6, 0, 10, "tired", "app"),  # eNPS detractor
    ("r16", "team", "m2", "2026-04-02T09:30:00", 4, 1, 5, "good team", "app"),  # top two of 1-5
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.init(tmp_path_factory.mktemp("fb") / "w", timezone="Europe/Paris")
    cols = list(zip(*ANSWERS, strict=True))
    ws.import_arrow(
        "survey_responses",
        pa.table(
            {
                "response_id": list(cols[0]),
                "survey": list(cols[1]),
                "respondent_id": list(cols[2]),
                "responded_at": pa.array(
                    [datetime.fromisoformat(t).replace(tzinfo=UTC) for t in cols[3]],
                    pa.timestamp("us", "UTC"),
                ),
                "score": [float(v) for v in cols[4]],
                "scale_min": [float(v) for v in cols[5]],
                "scale_max": [float(v) for v in cols[6]],
                "comment": list(cols[7]),
                "properties": [json.dumps({"channel": c}) for c in cols[8]],
            }
        ),
    )
    return ws


def ids(result: object) -> list[str]:
    return [c.response_id for c in result.comments]  # type: ignore[attr-defined]


def test_nps_comments_newest_first_with_groups(ws: Workspace) -> None:
    got = ws.feedback("nps", start="2026-04-01", end="2026-04-30", today=TODAY)
    # April in Paris: r1-r6 and r9 (00:30 on 1 April); r7 has no comment, r8 a blank one,
    # r10 is 31 March in Paris.
    assert ids(got) == ["r6", "r5", "r4", "r3", "r2", "r1", "r9"]
    assert [c.group.value for c in got.comments] == [
        "detractor", "detractor", "passive", "passive", "promoter", "promoter", "promoter",
    ]  # fmt: skip
    assert got.groups == {"promoter": 3, "passive": 2, "detractor": 2}
    assert got.total == 7
    late = got.comments[-1]
    assert late.responded_at.isoformat() == "2026-04-01T00:30:00+02:00"
    assert (late.respondent_id, late.score, late.comment) == ("u9", 9.0, "late")


def test_group_limit_and_where(ws: Workspace) -> None:
    detractors = ws.feedback("nps", group="detractor", today=TODAY)
    # Every NPS comment to date: detractors r6 (0), r5 (6), r10 (2, 31 March).
    assert ids(detractors) == ["r6", "r5", "r10"] and detractors.total == 3
    first = ws.feedback("nps", group="detractor", limit=1, today=TODAY)
    assert ids(first) == ["r6"] and first.total == 3
    email = ws.feedback("nps", where="channel = 'email'", today=TODAY)
    assert ids(email) == ["r6", "r4", "r2"]
    assert email.groups == {"promoter": 1, "passive": 1, "detractor": 1}


def test_other_surveys_group_by_the_top_and_bottom_two_points(ws: Workspace) -> None:
    csat = ws.feedback("csat", today=TODAY)
    assert {c.response_id: c.group.value for c in csat.comments} == {
        "r11": "promoter",  # 5 of 1-5
        "r12": "passive",  # 3 of 1-5
        "r13": "detractor",  # 2 of 1-5
        "r14": "passive",  # 3 of 1-7: neither 6-7 nor 1-2
    }
    team = ws.feedback("team", today=TODAY)
    assert {c.response_id: c.group.value for c in team.comments} == {
        "r15": "detractor",  # 6 of 0-10: an eNPS detractor
        "r16": "promoter",  # 4 of 1-5: the top two points
    }


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        ({"kind": "stars"}, QueryArgumentError, "survey kind 'stars' is not one of"),
        ({"group": "fan"}, QueryArgumentError, "group 'fan' is not one of"),
        ({"limit": 0}, QueryArgumentError, "limit 0"),
        ({"start": "2026-05-01", "end": "2026-04-01"}, QueryArgumentError, "is after the end date"),
        ({"where": "nosuch = 1"}, FilterError, "unknown dimension 'nosuch'"),
    ],
)
def test_mistakes(ws: Workspace, kw: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        ws.feedback(today=TODAY, **kw)  # type: ignore[arg-type]


runner = CliRunner()


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "120"})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_feedback_command(ws: Workspace) -> None:
    w = ("-w", str(ws.path))
    got = json.loads(cli("feedback", "--group", "detractor", "--from", "2026-04-01",
                         "--format", "json", *w))  # fmt: skip
    assert (got["kind"], got["group"], got["from"], got["total"]) == (
        "nps", "detractor", "2026-04-01", 2,
    )  # fmt: skip
    assert got["comments"][0] == {
        "responded_at": "2026-04-07T12:00:00+02:00", "respondent_id": "u6", "score": 0.0,
        "scale_min": 0.0, "scale_max": 10.0, "group": "detractor",
        "comment": "broken [red]x[/red]", "response_id": "r6",
    }  # fmt: skip
    lines = cli("feedback", "--kind", "csat", "--format", "csv", *w).splitlines()
    assert lines[0] == (
        "responded_at,respondent_id,score,scale_min,scale_max,group,comment,response_id"
    )
    assert len(lines) == 5
    out = cli("feedback", "--from", "2026-04-01", *w)
    # The comment is printed as text, never read as Rich markup.
    assert "broken [red]x[/red]" in out, out
    assert "7 of 7 comments shown" in out


def test_a_mistake_is_one_line_on_stderr(ws: Workspace) -> None:
    out = run("feedback", "--group", "fans", "-w", "w", cwd=ws.path.parent)
    assert out.returncode != 0 and "group 'fans' is not one of" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
