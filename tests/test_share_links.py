"""Share links through the real server: one page read-only without signing in, nothing
else (no other page, no API, no form post, no cookie); expired, revoked or tampered links
answer 404 at once; tokens are stored hashed, never in clear."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from northstar import clock
from northstar.errors import GoalNotFound, ShareError
from northstar.workspace import Workspace
from tests.metric_fixtures import load
from tests.server_helpers import cli, running_server

KEY = "test-share-key-0123456789abcdef"
CREATED = "2026-12-05T10:00:00+00:00"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("NORTHSTAR_SHARE_KEY", KEY)
    monkeypatch.setenv(clock.ENV_VAR, CREATED)
    ws = Workspace.init(tmp_path / "ws", timezone="UTC", server={"pages": "key"})
    rows = [(f"u{i}", f"2026-11-{1 + i % 28:02d}T10:00:00Z", "{}") for i in range(300)]
    load(ws, "users", ["user_id", "created_at", "properties"], rows)
    ws.add_goal("signups", ">= 100", grain="month", start="2026-11-01", deadline="2027-03-31",
                goal_id="signups-q1")  # fmt: skip
    return ws


def test_a_link_opens_its_page_and_nothing_else(ws: Workspace) -> None:
    goal, goal_url = ws.create_share("goal/signups-q1", "7d")
    _, metric_url = ws.create_share("metric/signups", "2w")
    stored = (ws.path / "shares.json").read_text()
    token = goal_url.rsplit("/", 1)[1]
    assert token not in stored and hashlib.sha256(token.encode()).hexdigest() in stored
    with (
        running_server(ws, today="2026-12-06T10:00:00+00:00") as server,
        httpx.Client(base_url=server.url, follow_redirects=False, timeout=60) as web,
    ):
        page = web.get(f"/share/{token}")
        assert page.status_code == 200, page.text
        assert "Read-only view of one page" in page.text and "signups-q1" in page.text
        assert "set-cookie" not in page.headers and page.headers["cache-control"] == "no-store"
        assert "<nav>" not in page.text and 'action="/goals' not in page.text
        metric = web.get("/share/" + metric_url.rsplit("/", 1)[1])
        assert metric.status_code == 200 and "explore-chart" in metric.text
        assert '<form class="controls"' not in metric.text
        assert 'href="/explore' not in page.text and "Why did this change?" not in metric.text
        # nothing else opens, with or without the link's page just seen
        assert web.get("/").status_code == 303  # to the sign-in page
        assert web.get("/goals/signups-q1").status_code == 303
        assert web.get("/api/v1/scorecard").status_code == 401
        assert web.post("/goals/signups-q1/remove").status_code in (303, 401, 403)
        assert web.get(f"/share/{token}/../../").status_code in (303, 404)
        assert ws.goal_book().goal("signups-q1") is not None
    # the access log has every request, and no share token (issue 19)
    text = (ws.path / "ingest-log" / "access.log").read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert token not in text and {"method": "GET", "path": "/share/…", "status": 200} in [
        {k: e[k] for k in ("method", "path", "status")} for e in lines
    ]
    assert {(e["path"], e["status"]) for e in lines} >= {("/", 303), ("/api/v1/scorecard", 401)}
    assert all(e["client"] == "127.0.0.1" and e["ms"] >= 0 and e["at"] for e in lines)
    assert goal["page"] == "goal/signups-q1" and goal["state"] == "active"


def test_tampered_expired_and_revoked_links_answer_404(ws: Workspace) -> None:
    _, url = ws.create_share("scorecard", "1h")  # until 11:00
    _, kept = ws.create_share("scorecard", "7d")
    token, kept_token = url.rsplit("/", 1)[1], kept.rsplit("/", 1)[1]
    share_id, expires, secret, sig = kept_token.split(".")
    forged = [
        f"{share_id}.{expires}.{secret}.{'0' if sig[0] != '0' else '1'}{sig[1:]}",  # signature
        f"{share_id}.{int(expires) + 86400}.{secret}.{sig}",  # a later expiry
        f"{share_id}.{expires}.{secret[:-1]}{'x' if secret[-1] != 'x' else 'y'}.{sig}",  # secret
        "sh_000000000000." + ".".join(kept_token.split(".")[1:]),  # another id
        "not-a-token",
    ]
    with (
        running_server(ws, today="2026-12-05T12:00:00+00:00") as server,  # 1 h after expiry
        httpx.Client(base_url=server.url, timeout=60) as web,
    ):
        assert web.get(f"/share/{token}").status_code == 404  # expired
        assert web.get(f"/share/{kept_token}").status_code == 200
        for bad in forged:
            answer = web.get(f"/share/{bad}")
            assert answer.status_code == 404, bad
            assert "does not exist, has expired or was revoked" in answer.text
        revoked = cli("share", "revoke", share_id, "-w", str(ws.path))
        assert revoked.returncode == 0, revoked.stderr
        assert web.get(f"/share/{kept_token}").status_code == 404  # at once
    listed = json.loads(cli("share", "list", "--format", "json", "-w", str(ws.path)).stdout)
    assert [s["state"] for s in listed] == ["active", "revoked"]  # as of the test's clock
    assert all("token" not in json.dumps(s) for s in listed)


def test_mistakes_are_one_line(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    for page, expires, error in [
        ("explore", "7d", ShareError), ("goal/nope", "7d", GoalNotFound),
        ("scorecard", "7 days", ShareError), ("scorecard", "900d", ShareError),
    ]:  # fmt: skip
        with pytest.raises(error):
            ws.create_share(page, expires)
    done = cli("share", "create", "explore", "-w", str(ws.path))
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: cannot share 'explore': share 'scorecard'")
    monkeypatch.delenv("NORTHSTAR_SHARE_KEY")
    done = cli("share", "create", "scorecard", "-w", str(ws.path))
    assert done.returncode == 1 and "NORTHSTAR_SHARE_KEY" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (ws.path / "shares.json").exists()
