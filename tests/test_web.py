"""The web UI in a real headless Chromium against ``northstar serve`` on loopback, with a
small demo workspace; screenshots of each page go to docs/screenshots/."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page

from northstar.demo.load import load_demo
from northstar.experiments.analysis import AnalyzeRequest
from northstar.explain.service import ExplainRequest
from northstar.workspace import Workspace
from tests.conftest import AFTER_THE_DATA
from tests.server_helpers import RunningServer, running_server
from tests.web_helpers import SCREENSHOTS, browser


@pytest.fixture(scope="module", autouse=True)
def on_a_set_day() -> Iterator[None]:
    """The whole module (the demo it builds, the server it starts) runs on a set day after
    the demo data, whatever the machine's date; each test's own fixture sets the same."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NORTHSTAR_TODAY", AFTER_THE_DATA)
        mp.setenv("NORTHSTAR_SHARE_KEY", "web-test-share-key-0123456789")
        yield


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.init(tmp_path_factory.mktemp("web") / "demo", name="Acme (test)")
    load_demo(ws, users=300, days=180, seed=3)
    return Workspace(ws.path)


@pytest.fixture(scope="module")
def read_token(demo_ws: Workspace) -> str:
    return demo_ws.create_key("read")[1]


@pytest.fixture(scope="module")
def server(demo_ws: Workspace, read_token: str) -> Iterator[RunningServer]:
    with running_server(demo_ws, today=AFTER_THE_DATA) as srv:
        yield srv


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with browser() as b:
        yield b


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    yield p
    context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_scorecard_shows_the_demo_goals(
    server: RunningServer, demo_ws: Workspace, page: Page, read_token: str
) -> None:
    book = demo_ws.goal_book()
    assert book.goals, "the demo writes goals"
    page.goto(server.url + "/")
    for objective in book.objectives:
        assert (
            page.locator(f'[data-objective="{objective.id}"] h3')
            .first.inner_text()
            .startswith(objective.name)
        )
    api = httpx.get(
        server.url + "/api/v1/scorecard",
        headers={"Authorization": f"Bearer {read_token}"},
        timeout=60,
    ).json()
    rows = {k["goal"]: k for p in api["perspectives"] for o in p["objectives"] for k in o["kpis"]}
    for goal in book.goals:
        card = page.locator(f'[data-goal="{goal.id}"]').first
        assert card.locator(".value").inner_text() == rows[goal.id]["current_text"]
    shot(page, "scorecard")


def test_read_api_needs_a_read_key(server: RunningServer, demo_ws: Workspace) -> None:
    assert httpx.get(server.url + "/api/v1/scorecard", timeout=10).status_code == 401
    write = demo_ws.create_key("write", source="web")[1]
    answer = httpx.get(
        server.url + "/api/v1/scorecard", headers={"Authorization": f"Bearer {write}"}, timeout=10
    )
    assert answer.status_code == 403 and "cannot read" in answer.json()["message"]


def test_openapi_lists_the_read_api(server: RunningServer) -> None:
    paths = httpx.get(server.url + "/openapi.json", timeout=10).json()["paths"]
    assert "/api/v1/scorecard" in paths


def test_creating_a_goal_in_the_form_puts_it_on_the_scorecard(
    server: RunningServer, demo_ws: Workspace, page: Page
) -> None:
    objective = demo_ws.goal_book().objectives[0]
    page.goto(server.url + "/goals")
    page.select_option("#goal-metric", "dau")
    page.select_option("#goal-objective", objective.id)
    page.fill("#goal-deadline", "2027-03-31")
    page.fill("#goal-target", ">= 40")
    # The SMART check appears while typing (HTMX), with the achievable verdict.
    page.wait_for_selector("#smart .smart", timeout=15000)
    assert "Achievable" in page.locator("#smart").inner_text()
    shot(page, "goals")
    page.click("#goal-save")
    page.wait_for_url("**/?created=*", timeout=30000)
    goal_id = "dau-2027-03-31"
    card = page.locator(f'[data-objective="{objective.id}"] [data-goal="{goal_id}"]')
    assert card.count() == 1 and "≥ 40" in card.inner_text()
    assert any(g.id == goal_id for g in demo_ws.goal_book().goals)


def test_a_bad_goal_shows_an_error_not_a_stack_trace(server: RunningServer, page: Page) -> None:
    page.goto(server.url + "/goals")
    page.select_option("#goal-metric", "signups")
    page.fill("#goal-target", "banana")
    page.wait_for_selector("#smart .error", timeout=15000)
    assert "cannot read the target 'banana'" in page.locator("#smart").inner_text()
    page.click("#goal-save")
    alert = page.locator("#new-goal [role=alert]")
    alert.wait_for(timeout=15000)
    assert "cannot read the target 'banana'" in alert.inner_text()
    assert alert.get_attribute("data-field") == "target"  # beside the field it is about
    assert page.locator("#goal-target").get_attribute("aria-invalid") == "true"
    assert page.locator("#goal-target").input_value() == "banana"  # the form kept as typed
    assert "Traceback" not in page.content()
    page.goto(server.url + "/explore?metric=mau&where=plan%20%3D%3D%3D")
    assert "cannot parse the filter" in page.locator("[role=alert]").inner_text()
    page.goto(server.url + "/explore?metric=no_such_metric")
    assert "unknown metric 'no_such_metric'" in page.locator("[role=alert]").inner_text()


def test_retention_heatmap_shows_the_retention_numbers(
    server: RunningServer, demo_ws: Workspace, page: Page
) -> None:
    expected = demo_ws.retention(period="week", periods=8)
    assert expected.cohorts
    page.goto(server.url + "/analyses?tab=retention&period=week&periods=8")
    rows = page.locator("#retention-heatmap tbody tr")
    assert rows.count() == len(expected.cohorts)
    for i, cohort in enumerate(expected.cohorts):
        row = rows.nth(i)
        assert row.get_attribute("data-cohort") == cohort.start.isoformat()
        size_text = "" if cohort.size is None else str(cohort.size)
        assert row.locator("[data-size]").get_attribute("data-size") == size_text
        cells = row.locator("td.cell")
        counts = [int(cells.nth(k).get_attribute("data-count") or -1) for k in range(cells.count())]
        assert counts == cohort.counts
        texts = [cells.nth(k).inner_text().rstrip("*") for k in range(cells.count())]
        # The share of the cohort, computed here from the counts; no members: no share.
        size = cohort.size
        assert texts == [f"{100 * n / size:.1f} %" if size else "–" for n in cohort.counts]
        partial = [
            k
            for k in range(cells.count())
            if "partial" in (cells.nth(k).get_attribute("class") or "")
        ]
        assert partial == ([len(cohort.counts) - 1] if cohort.partial else [])
    shot(page, "analyses-retention")


def test_funnel_shows_the_funnel_numbers(
    server: RunningServer, demo_ws: Workspace, page: Page
) -> None:
    steps = ["signed_up", "project_created", "report_created"]
    expected = demo_ws.funnel(steps, window="14d")
    page.goto(server.url + "/analyses?tab=funnel&steps=" + ",".join(steps) + "&window=14d")
    page.wait_for_selector("#funnel-chart[data-drawn]", timeout=10000)
    rows = page.locator("#funnel-table tbody tr")
    assert rows.count() == 3
    for i, step in enumerate(expected.steps):
        cells = rows.nth(i).locator("td")
        assert int(cells.nth(1).get_attribute("data-count") or -1) == step.count
        conv = step.conversion_from_start
        assert cells.nth(2).inner_text() == ("–" if conv is None else f"{conv * 100:.1f} %")
    assert expected.steps[0].count > expected.steps[-1].count > 0
    shot(page, "analyses-funnel")


def test_explorer_draws_the_metric_with_table_csv_and_json(
    server: RunningServer, demo_ws: Workspace, page: Page
) -> None:
    goal = demo_ws.goal_book().goals[0]
    url = f"{server.url}/explore?metric={goal.metric}&grain={goal.grain.value}"
    page.goto(url)
    page.wait_for_selector("#explore-chart[data-drawn]", timeout=10000)
    expected = demo_ws.query(goal.metric, grain=goal.grain.value)
    assert page.locator("#explore-table tbody tr").count() == len(expected)
    assert f"goal {goal.id}" in page.locator(".panel").nth(1).inner_text()  # target, plan lines
    shot(page, "explorer")
    # The CSV and JSON links are the read API, which answers the page without a key ...
    with page.expect_download() as caught:
        page.click("#download-csv")
    lines = Path(caught.value.path()).read_text().strip().splitlines()
    assert lines[0].startswith("metric,period") and len(lines) == len(expected) + 1
    href = page.locator("#download-json").get_attribute("href") or ""
    answer = page.evaluate("async url => (await fetch(url)).json()", href)
    assert [r["value"] for r in answer[0]["rows"]] == pytest.approx(list(expected["value"]))
    # ... but not a request from elsewhere (no browser page, no key).
    assert httpx.get(server.url + href, timeout=30).status_code == 401
    page.goto(url + "&chart=bar")
    page.wait_for_selector("#explore-chart[data-drawn]", timeout=10000)
    spec = json.loads(page.locator('script[data-chart="explore-chart"]').inner_text())
    assert spec["type"] == "bar"
    kinds = {d["label"]: d.get("type", "bar") for d in spec["data"]["datasets"]}
    assert kinds["plan"] == "line" and kinds.get("target", "line") == "line"
    # Issue 20: the detector's expected range is drawn (the same numbers as the CLI's)
    found = demo_ws.anomalies(goal.metric, grain=goal.grain.value)
    band = next(d for d in spec["data"]["datasets"] if d["label"] == "expected range")
    labels = spec["data"]["labels"]
    upper = {r["period"][:10]: r["upper"] for r in found.rows}
    assert band["data"] == [upper.get(p) for p in labels]


def test_date_presets_fill_the_range_from_the_workspace_as_of(
    server: RunningServer, demo_ws: Workspace
) -> None:
    # Issue 19: last 7/30/90 days and this quarter, ending on the workspace's last day
    last = demo_ws.as_of().end
    page = httpx.get(server.url + "/explore?metric=signups&grain=day&range=30d", timeout=60)
    assert page.status_code == 200
    first = (last - timedelta(days=29)).isoformat()
    assert (
        f'name="start" value="{first}"' in page.text and f'name="end" value="{last}"' in page.text
    )
    # the page's query (its JSON link, the read API's parameters) is that range
    assert f"start={first}&amp;end={last}" in page.text
    quarter = httpx.get(server.url + "/explore?metric=signups&grain=week&range=quarter", timeout=60)
    start = date(last.year, 3 * ((last.month - 1) // 3) + 1, 1).isoformat()
    assert f'name="start" value="{start}"' in quarter.text
    bad = httpx.get(server.url + "/explore?metric=signups&range=fortnight", timeout=60)
    assert bad.status_code == 400 and "unknown date range 'fortnight'" in html.unescape(bad.text)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("metric=no_such_metric", "metric", "unknown metric 'no_such_metric'"),
        ("metric=signups&where=plan%20%3D%3D%3D", "where", ""),
        ("metric=signups&by=nope", "by", "unknown dimension 'nope'"),
        ("metric=signups&start=2026-13-40", "start", "is not a date"),
    ],
)
def test_an_explorer_mistake_keeps_the_form_and_names_the_field(
    server: RunningServer, page: Page, query: str, field: str, message: str
) -> None:
    # Issue 19: the form stays, filled as sent, and the message sits beside the field
    answer = page.goto(server.url + "/explore?" + query)
    assert answer is not None and answer.status == 400
    error = page.locator("#explore-error")
    assert error.get_attribute("data-field") == field
    assert message in error.inner_text()
    assert page.locator("form.controls select[name=metric]").count() == 1
    assert page.locator("#explore-chart").count() == 0


def test_lifecycle_and_stickiness_show_their_numbers(
    server: RunningServer, demo_ws: Workspace, page: Page
) -> None:
    lifecycle = demo_ws.lifecycle(grain="week")
    page.goto(f"{server.url}/analyses?tab=lifecycle")
    page.wait_for_selector("#lifecycle-chart[data-drawn]", timeout=10000)
    rows = page.locator("#lifecycle-table tbody tr")
    assert rows.count() == len(lifecycle.rows) > 0
    for i, expected in enumerate(lifecycle.rows):
        row = rows.nth(i)
        assert row.get_attribute("data-period") == str(expected["period"])
        for status in ("new", "returning", "resurrecting", "dormant"):
            cell = row.locator(f'[data-status="{status}"]').inner_text()
            assert int(cell.replace(",", "")) == expected[status]
    shot(page, "analyses-lifecycle")

    sticky = demo_ws.stickiness(grain="day")
    page.goto(f"{server.url}/analyses?tab=stickiness")
    page.wait_for_selector("#stickiness-chart[data-drawn]", timeout=10000)
    rows = page.locator("#stickiness-table tbody tr")
    total = sum(r["users"] for r in sticky.histogram)
    assert rows.count() == len(sticky.histogram) and total > 0
    for i, expected in enumerate(sticky.histogram):
        cells = rows.nth(i).locator("td")
        assert int(cells.nth(0).inner_text()) == expected["active_periods"]
        assert int(cells.nth(1).get_attribute("data-users") or -1) == expected["users"]
        assert cells.nth(2).inner_text() == f"{100 * expected['users'] / total:.1f} %"
    shot(page, "analyses-stickiness")


def test_feature_adoption_table_shows_the_flags(
    server: RunningServer, demo_ws: Workspace, page: Page
) -> None:
    report = demo_ws.feature_report()
    page.goto(f"{server.url}/analyses?tab=features")
    rows = page.locator("#features-table tbody tr")
    assert rows.count() == len(report.features) > 0
    for i, feature in enumerate(report.features):
        cells = rows.nth(i).locator("td")
        assert cells.nth(0).inner_text() == feature.name
        assert cells.nth(3).inner_text() == f"{feature.adopters:,}"
        assert cells.nth(4).inner_text() == f"{100 * feature.adoption_rate:.1f} %"
        assert cells.nth(9).inner_text() == (feature.flag or "")
    shot(page, "analyses-features")


def test_data_page_creates_and_revokes_a_write_key(
    server: RunningServer, demo_ws: Workspace, page: Page
) -> None:
    page.goto(server.url + "/data")
    assert page.locator("#tables tbody tr").count() > 0
    page.select_option("select[name=kind]", "write")
    page.fill("input[name=source]", "android")
    page.click("text=Create key")
    token = page.locator("#new-token").inner_text()
    assert token.startswith("ns_write_")
    shot(page, "data")
    event = {"type": "track", "event": "opened", "userId": "u-key", "messageId": "m-key-1"}
    sent = httpx.post(server.url + "/v1/track", json=event, auth=(token, ""), timeout=30)
    assert sent.status_code == 200
    key = next(k for k in demo_ws.api_keys() if k.source == "android" and k.active)
    page.once("dialog", lambda dialog: dialog.accept())  # "Revoke key …?"
    page.locator(f'tr[data-key="{key.key_id}"] button:has-text("Revoke")').click()
    page.wait_for_url("**/data#keys", timeout=30000)
    assert page.locator(f'tr[data-key="{key.key_id}"] button').count() == 0
    assert next(k for k in demo_ws.api_keys() if k.key_id == key.key_id).revoked_at is not None
    event["messageId"] = "m-key-2"
    deadline = time.monotonic() + 10  # the server reloads its keys on its next round
    refused = httpx.post(server.url + "/v1/track", json=event, auth=(token, ""), timeout=30)
    while refused.status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        refused = httpx.post(server.url + "/v1/track", json=event, auth=(token, ""), timeout=30)
    assert refused.status_code == 401


def test_query_api_answers_with_a_read_key(
    server: RunningServer, demo_ws: Workspace, read_token: str
) -> None:
    answer = httpx.get(
        server.url + "/api/v1/query",
        params={"metrics": "signups", "grain": "month"},
        headers={"Authorization": f"Bearer {read_token}"},
        timeout=30,
    )
    assert answer.status_code == 200
    expected = demo_ws.query("signups", grain="month")
    (body,) = answer.json()  # the contract of `northstar query --format json`
    assert (body["metric"], body["grain"], body["unit"]) == ("signups", "month", "count")
    assert [r["value"] for r in body["rows"]] == list(expected["value"])
    assert [r["period"] for r in body["rows"]] == [p.isoformat() for p in expected["period"]]
    bad = httpx.get(
        server.url + "/api/v1/query",
        params={"metrics": "nope"},
        headers={"Authorization": f"Bearer {read_token}"},
        timeout=30,
    )
    assert bad.status_code == 400 and "unknown metric" in bad.json()["message"]


def test_experiment_results_in_the_read_api(
    server: RunningServer, demo_ws: Workspace, read_token: str
) -> None:
    auth = {"Authorization": f"Bearer {read_token}"}
    listed = httpx.get(server.url + "/api/v1/experiments", headers=auth, timeout=30).json()
    assert [e["experiment"] for e in listed["experiments"]] == ["onboarding-checklist"]
    answer = httpx.get(
        server.url + "/api/v1/experiments/onboarding-checklist",
        params=[("metric", "converted:project_created"), ("metric", "mau")],
        headers=auth, timeout=30,
    )  # fmt: skip
    assert answer.status_code == 200
    request = AnalyzeRequest("onboarding-checklist", ("converted:project_created", "mau"))
    expected = demo_ws.analyze_experiment(request).to_dict()
    body = answer.json()  # the contract of `northstar experiments analyze --format json`
    assert body["results"] == json.loads(json.dumps(expected["results"]))
    assert body["srm"] == json.loads(json.dumps(expected["srm"]))
    missing = httpx.get(server.url + "/api/v1/experiments/nope", params={"metric": "mau"},
                        headers=auth, timeout=30)  # fmt: skip
    assert missing.status_code == 404 and "onboarding-checklist" in missing.json()["message"]


def open_goal(page: Page, goal_id: str) -> Locator:
    goal = page.locator(f"details#goal-{goal_id}")
    if goal.get_attribute("open") is None:
        goal.locator("summary").click()
    return goal


def test_revising_editing_and_removing_a_goal(
    server: RunningServer, demo_ws: Workspace, page: Page
) -> None:
    objective = demo_ws.goal_book().objectives[0]
    demo_ws.add_goal("signups", ">= 10", objectives=[objective.id], deadline="2027-06-30",
                     goal_id="web-edit")  # fmt: skip
    page.goto(server.url + "/goals")
    goal = open_goal(page, "web-edit")
    goal.locator("form.revise input[name=target]").fill(">= 12")
    goal.locator("form.revise button").click()  # no reason: refused, nothing changes
    alert = page.locator("details#goal-web-edit [role=alert]")
    alert.wait_for(timeout=15000)
    assert "say why the goal changes" in alert.inner_text()
    assert "Traceback" not in page.content()
    assert demo_ws.goal_book().goal("web-edit").revisions == []  # type: ignore[union-attr]

    goal = open_goal(page, "web-edit")
    goal.locator("form.revise input[name=target]").fill(">= 12")
    goal.locator("form.revise input[name=reason]").fill("the launch moved a month earlier")
    goal.locator("form.revise button").click()
    page.wait_for_url("**/goals#goal-web-edit", timeout=30000)
    stored = demo_ws.goal_book().goal("web-edit")
    assert stored is not None and stored.target.value == 12 and stored.where is None
    assert [(r.by, r.reason) for r in stored.revisions] == [
        ("web", "the launch moved a month earlier")
    ]
    history = open_goal(page, "web-edit").locator("table.revisions tbody tr")
    assert history.count() == 1
    assert "target ≥ 10 → ≥ 12" in history.inner_text()
    assert "the launch moved a month earlier" in history.inner_text()
    shot(page, "goals-revision")

    goal = open_goal(page, "web-edit")
    goal.locator("form.edit-goal input[name=owner]").fill("Rita")
    goal.locator("form.edit-goal input[name=note]").fill("Sign-ups for the spring campaign")
    goal.locator(f'form.edit-goal input[value="{objective.id}"]').uncheck()
    goal.locator("form.edit-goal button").click()
    page.wait_for_url("**/goals#goal-web-edit", timeout=30000)
    stored = demo_ws.goal_book().goal("web-edit")
    assert stored is not None
    assert (stored.owner, stored.note, stored.objectives) == (
        "Rita", "Sign-ups for the spring campaign", [],
    )  # fmt: skip
    assert len(stored.revisions) == 1  # edits are not revisions

    page.once("dialog", lambda dialog: dialog.accept())
    open_goal(page, "web-edit").locator("button:has-text('Remove goal')").click()
    page.wait_for_url("**/goals#objectives", timeout=30000)
    assert demo_ws.goal_book().goal("web-edit") is None
    assert page.locator("details#goal-web-edit").count() == 0


def test_objectives_are_added_edited_removed_and_warn_when_unfocused(
    server: RunningServer, demo_ws: Workspace, page: Page
) -> None:
    page.goto(server.url + "/goals")
    new = page.locator("form[action='/goals/objectives']")
    new.locator("input[name=name]").fill("Delight admins")
    new.locator("select[name=perspective]").select_option("customer")
    new.locator("button").click()
    page.wait_for_url("**/goals#objectives", timeout=30000)
    box = page.locator("#objective-delight-admins")
    assert box.locator("h3").inner_text().startswith("Delight admins")

    box.locator("details.edit summary").click()
    box.locator("input[name=name]").fill("Delight workspace admins")
    box.locator("input[name=owner]").fill("Kim")
    box.locator("input[name=time_frame]").fill("2027-H1")
    box.locator("button:has-text('Save objective')").click()
    page.wait_for_url("**/goals#objective-delight-admins", timeout=30000)
    stored = demo_ws.goal_book().objective("delight-admins")
    assert stored is not None and (stored.name, stored.owner) == ("Delight workspace admins", "Kim")
    assert stored.time_frame is not None and str(stored.time_frame) == "2027-01-01..2027-06-30"

    box = page.locator("#objective-delight-admins")  # a bad time frame: an error in place
    box.locator("details.edit summary").click()
    box.locator("input[name=time_frame]").fill("next spring")
    box.locator("button:has-text('Save objective')").click()
    alert = page.locator("#objective-delight-admins [role=alert]")
    alert.wait_for(timeout=15000)
    assert "next spring" in alert.inner_text() and "Traceback" not in page.content()

    limit = demo_ws.settings.goals.max_kpis_per_objective
    metrics = ["dau", "wau", "mau", "signups", "sessions", "new_mrr", "mrr", "arpa"]
    assert len(metrics) > limit
    for metric in metrics[: limit + 1]:
        demo_ws.add_goal(metric, "+5%", objectives=["delight-admins"], goal_id=f"focus-{metric}")
    warning = f"objective 'delight-admins' has {limit + 1} KPIs; more than {limit} dilutes focus"
    page.goto(server.url + "/goals")
    assert warning in page.locator("#objective-delight-admins .warning").inner_text()
    page.goto(server.url + "/")
    assert warning in page.locator('[data-objective="delight-admins"] .warning').inner_text()
    shot(page, "scorecard-focus")

    page.goto(server.url + "/goals")
    box = page.locator("#objective-delight-admins")
    box.locator("details.edit summary").click()
    page.once("dialog", lambda dialog: dialog.accept())
    box.locator("button:has-text('Remove objective')").click()
    page.wait_for_url("**/goals#objectives", timeout=30000)
    book = demo_ws.goal_book()
    assert book.objective("delight-admins") is None
    focus = [g for g in book.goals if g.id.startswith("focus-")]
    assert len(focus) == limit + 1 and all(g.objectives == [] for g in focus)
    for g in focus:
        demo_ws.remove_goal(g.id)


def test_a_stage_template_fills_the_scorecard(
    server: RunningServer, demo_ws: Workspace, page: Page
) -> None:
    before = {o.name for o in demo_ws.goal_book().objectives}
    # The demo's goals already target some template metrics (those rows are skipped and
    # say so); take the first stage that proposes at least one new goal.
    proposals = {s: demo_ws.goal_template(s) for s in ("early", "growth", "mature")}
    stage, proposal = next(
        (s, p) for s, p in proposals.items()
        if any(k.target is not None for o in p.objectives for k in o.kpis)
    )  # fmt: skip
    skipped = [k.existing for p in proposals.values() for o in p.objectives for k in o.kpis
               if k.existing]  # fmt: skip
    assert skipped  # the demo's own goals (e.g. sign-ups, MAU) are not proposed twice
    page.goto(server.url + f"/goals?stage={stage}#templates")
    headings = page.locator("#templates h3")
    assert headings.count() == len(proposal.objectives)
    for i, objective in enumerate(proposal.objectives):
        assert headings.nth(i).inner_text().startswith(objective.name)
    shot(page, "goals-template")
    page.click("text=Add these objectives and goals")
    page.wait_for_url(server.url + "/", timeout=60000)
    book = demo_ws.goal_book()
    added = [o for o in book.objectives if o.name not in before]
    assert {o.name for o in added} == {o.name for o in proposal.objectives} - before
    with_target = sum(1 for o in proposal.objectives for k in o.kpis if k.target is not None)
    from_template = [g for g in book.goals if g.note.startswith(f"from the {stage} template")]
    assert len(from_template) == with_target > 0
    for o in added:
        assert page.locator(f'[data-objective="{o.id}"] h3').first.inner_text().startswith(o.name)


def test_every_page_and_the_api_say_what_they_are_as_of(
    server: RunningServer, demo_ws: Workspace, page: Page, read_token: str
) -> None:
    now = demo_ws.as_of()  # the same as-of the server derives from the same data
    for path in ("/", "/explore", "/analyses?tab=lifecycle", "/goals", "/data"):
        page.goto(server.url + path)
        bar = page.locator("#freshness")
        assert bar.get_attribute("data-as-of") == now.today.isoformat(), path
        assert f"data through {now.data_through}" in bar.inner_text(), path
        assert ("stale" in (bar.get_attribute("class") or "")) == now.stale, path
    auth = {"Authorization": f"Bearer {read_token}"}
    doc = httpx.get(server.url + "/api/v1/query?metrics=dau&as_of=2026-10-15", headers=auth,
                    timeout=60).json()  # fmt: skip
    assert (doc[0]["as_of"], doc[0]["to"], doc[0]["pinned_by"]) == (
        "2026-10-15", "2026-10-15", "--as-of"
    )  # fmt: skip
    csv = httpx.get(server.url + "/api/v1/query?metrics=dau&format=csv&as_of=2026-10-15",
                    headers=auth, timeout=60)  # fmt: skip
    assert csv.headers["X-Northstar-As-Of"] == "2026-10-15"
    assert csv.headers["X-Northstar-Data-Through"] == "2026-10-14"  # the day before the as-of
    assert csv.headers["X-Northstar-Freshness"].startswith("as of 2026-10-15")
    bad = httpx.get(server.url + "/api/v1/query?metrics=dau&as_of=soon", headers=auth, timeout=60)
    assert bad.status_code == 400 and "as-of date" in bad.text
    page.goto(server.url + "/analyses?tab=lifecycle&as_of=2026-09-30")
    assert page.locator("#freshness").get_attribute("data-as-of") == "2026-09-30"


def test_a_goal_page_reads_as_a_pm_reads_a_goal(
    server: RunningServer, demo_ws: Workspace, page: Page
) -> None:
    # Issue 19: the goal, its status and reason, figures, the forecast fan against the
    # plan and the target, the revisions, the SMART check — one click from its card.
    book = demo_ws.goal_book()
    goal = next(g for g in book.goals if g.grain.value == "month" and g.metric == "mrr")
    demo_ws.revise_goal(goal.id, target="+65%", reason="Enterprise deal signed", by="ana")
    detail = demo_ws.goal_detail(goal.id)
    page.goto(server.url + "/")
    page.locator(f'[data-goal="{goal.id}"]').first.click()
    page.wait_for_url(server.url + f"/goals/{goal.id}")
    assert page.locator("#goal-status").text_content() == str(detail["status"]).capitalize()
    assert page.locator("#goal-reason").inner_text() == detail["reason"]
    facts = page.locator("#goal-facts").inner_text()
    assert detail["current_text"] in facts and detail["target_text"] in facts
    chart = json.loads(page.locator('script[data-chart="goal-chart"]').text_content() or "{}")
    labels = [d["label"] for d in chart["data"]["datasets"]]
    assert labels == ["actual", "forecast P10", "forecast P90", "forecast P50", "plan", "target"]
    low, high, mid = (chart["data"]["datasets"][i]["data"] for i in (1, 2, 3))
    assert all(lo <= m <= hi for lo, m, hi in zip(low, mid, high, strict=True) if lo is not None)
    assert len(detail["fan"]) == sum(1 for v in mid if v is not None)
    revisions = page.locator("#goal-revisions").inner_text()
    assert "Enterprise deal signed" in revisions and "+60 %" in revisions and "+65 %" in revisions
    assert page.locator("#goal-smart li").count() == 5
    shot(page, "goal")


def test_unknown_pages_and_goals_are_404s_that_say_so(
    server: RunningServer, read_token: str
) -> None:
    # Issue 19: an unknown goal is a 404 (not a 400), with the ids there are; a page that
    # does not exist is an HTML page for people; the API keeps answering JSON.
    page = httpx.get(server.url + "/goals/no-such-goal", timeout=30)
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "no goal &#39;no-such-goal&#39;" in page.text or "no goal 'no-such-goal'" in page.text
    api = httpx.get(server.url + "/api/v1/goals/no-such-goal", timeout=30,
                    headers={"Authorization": f"Bearer {read_token}"})  # fmt: skip
    assert api.status_code == 404 and api.json()["error"] == "GoalNotFound"
    missing = httpx.get(server.url + "/no-such-page", timeout=30)
    assert missing.status_code == 404 and "no page at /no-such-page" in missing.text
    assert httpx.get(server.url + "/static/favicon.svg", timeout=30).status_code == 200


def test_a_bad_number_of_periods_is_refused_not_replaced(server: RunningServer) -> None:
    # Issue 19: periods=abc used to become 8 silently.
    answer = httpx.get(server.url + "/analyses?tab=retention&periods=abc", timeout=60)
    assert answer.status_code == 400
    assert "periods must be a whole number from 1 to 52, not &#39;abc&#39;" in answer.text


FORM_MISTAKES = [
    ("/analyses?tab=retention&start_event=signed_upp", "start_event",
     "unknown event 'signed_upp' (no event of that name in the data); did you mean 'signed_up'?"),
    ("/analyses?tab=retention&return_event=project_creatd", "return_event",
     "did you mean 'project_created'?"),
    ("/analyses?tab=funnel&steps=signed_up,project_creatd", "steps",
     "unknown event 'project_creatd'"),
    ("/analyses?tab=funnel&steps=signed_up,project_created&window=14x", "window",
     "conversion window '14x' is not a duration"),
    ("/analyses?tab=lifecycle&start=2026-10-01&end=2026-09-01", "start",
     "is after the end date"),
    ("/analyses?tab=stickiness&end=2026-02-30", "end", "is not a date"),
    ("/explain?metric=signups&from=2026-11-05&to=2026-11-01", "from",
     "From 2026-11-05 is after To 2026-11-01"),
    ("/explain?metric=dau&from=2026-10-01&to=2026-10-31&compare=lastyear", "compare",
     "use previous or FROM:TO"),
    ("/explain?metric=dau&from=2026-10-01&to=2026-10-31&by=nope", "by",
     "unknown dimension 'nope'"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "field", "message"), FORM_MISTAKES)
def test_a_form_mistake_keeps_the_form_and_marks_the_field(
    server: RunningServer, path: str, field: str, message: str
) -> None:
    # Issue 19: an error used to replace the form with an error page; now every form keeps
    # what was typed, says what is wrong under it in the page's words (no CLI flags) and
    # marks the field it is about as invalid, described by the message.
    answer = httpx.get(server.url + path, timeout=120)
    assert answer.status_code == 400
    text = html.unescape(answer.text)
    start = text.index('id="form-error"')
    error = text[start : text.index("</p>", start)]
    assert f'data-field="{field}"' in error and message in error
    assert "--" not in error.split(">", 1)[1]
    assert f'name="{field}" aria-invalid="true" aria-describedby="form-error"' in text
    assert text.count('aria-invalid="true"') == 1
    assert '<form class="controls" method="get"' in text


def test_the_api_docs_work_offline(server: RunningServer, page: Page) -> None:
    # Issue 19: /docs was blank offline (Swagger UI from a CDN); its files now come with
    # the package, and the page asks nothing of any other host.
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
    page.goto(server.url + "/docs")
    page.wait_for_selector(".opblock", timeout=30000)
    assert page.locator(".opblock").count() > 10
    assert hosts == {server.url.split("/")[2]}


def test_the_read_api_has_one_error_format(server: RunningServer, read_token: str) -> None:
    # Issue 19: RFC 9457 problem details for every read-API error (with the error's name
    # and the message kept), a missing parameter named in one line, not pydantic's text.
    auth = {"Authorization": f"Bearer {read_token}"}
    missing = httpx.get(server.url + "/api/v1/query", headers=auth, timeout=30)
    assert missing.status_code == 400
    assert missing.headers["content-type"].startswith("application/problem+json")
    body = missing.json()
    assert (body["status"], body["title"], body["instance"]) == (
        400,
        "Bad Request",
        "/api/v1/query",
    )
    assert body["detail"] == body["message"] == "metrics: Field required"
    unknown = httpx.get(server.url + "/api/v1/query?metrics=nope", headers=auth, timeout=30).json()
    assert unknown["status"] == 400 and unknown["error"] == "UnknownMetricError"
    nowhere = httpx.get(server.url + "/api/v1/nowhere", headers=auth, timeout=30)
    assert nowhere.status_code == 404 and nowhere.json()["title"] == "Not Found"
    refused = httpx.get(server.url + "/api/v1/scorecard", timeout=30).json()
    assert refused["status"] == 401 and "read or admin key" in refused["detail"]


def test_an_experiment_page_shows_results_guardrails_and_a_verdict(
    server: RunningServer, demo_ws: Workspace, page: Page
) -> None:
    # The demo's planted experiment, with the goals' one per-user KPI (mau) as a guardrail;
    # the page shows what the Workspace computes (the CLI's numbers) and a verdict.
    page.goto(server.url + "/experiments")
    page.click("#experiments a:text('onboarding-checklist')")
    page.wait_for_selector("#experiment-form")
    shot(page, "experiments-pick")
    page.fill("#experiment-form input[name=metric] >> nth=0", "converted:project_created")
    page.select_option("#experiment-form select[name=correction]", "holm")
    page.click("#experiment-form button")
    page.wait_for_selector("#experiment-verdict")
    # the goals' per-user KPIs (mau in the demo, and any a test before added) are guardrails
    guardrails, unmeasurable = demo_ws.experiment_guardrails()
    assert "mau" in guardrails and "mrr" in unmeasurable
    metrics = ("converted:project_created", *guardrails)
    request = AnalyzeRequest("onboarding-checklist", metrics, correction="holm")
    expected = demo_ws.analyze_experiment(request)
    sections = page.locator(".experiment-metric")
    shown = [sections.nth(i).get_attribute("data-metric") for i in range(sections.count())]
    assert shown == list(metrics)
    for r in expected.results:
        row = page.locator(
            f".experiment-metric[data-metric='{r.metric}'] tr[data-variation='test']"
        )
        cells = row.locator("td")
        assert cells.nth(1).inner_text() == f"{r.n:,}"
        assert cells.nth(4).inner_text() == f"{r.relative.effect:+.1%}"
        p_value = r.p_value_adjusted
        assert p_value is not None
        assert cells.nth(7).inner_text() == ("< 0.0001" if p_value < 0.0001 else f"{p_value:.4f}")
    decision = page.locator("#experiment-verdict .pill").inner_text().lower()
    assert decision == expected.guidance["decision"]
    shot(page, "experiment")
    bad = httpx.get(server.url + "/experiments/onboarding-checklist?metric=converted:nope")
    assert bad.status_code == 200 and "unknown event 'nope'" in html.unescape(bad.text)
    missing = httpx.get(server.url + "/experiments/no-such-test")
    assert missing.status_code == 404 and "onboarding-checklist" in missing.text


def test_why_did_this_change_from_a_card_and_from_the_explorer(
    server: RunningServer, demo_ws: Workspace, page: Page, read_token: str
) -> None:
    # Issue 21: every KPI card and the explorer's chart lead to the explanation of the
    # last complete period, which shows what Workspace.explain (the CLI's JSON) finds.
    goal = next(g for g in demo_ws.goal_book().goals if g.metric == "mau")
    page.goto(server.url + "/")
    page.locator(f'[data-goal="{goal.id}"] a.why').click()
    page.wait_for_selector("#explain-verdict")
    assert "/explain?metric=mau" in page.url
    params = dict(p.split("=") for p in page.url.split("?")[1].split("&"))
    expected = demo_ws.explain(ExplainRequest("mau", params["from"], params["to"]))
    rows = page.locator("#explain-segments tbody tr")
    labels = [rows.nth(i).get_attribute("data-segment") for i in range(rows.count())]
    assert labels == [" and ".join(f"{d} = {v}" for d, v in s.key) for s in expected.segments]
    # a month inside the demo data, whose change has segments that stand out
    page.goto(server.url + "/explain?metric=mau&from=2026-10-01&to=2026-10-31")
    page.wait_for_selector("#explain-verdict")
    october = demo_ws.explain(ExplainRequest("mau", "2026-10-01", "2026-10-31"))
    assert october.segments, "the demo's October should have segments to show"
    rows = page.locator("#explain-segments tbody tr")
    labels = [rows.nth(i).get_attribute("data-segment") for i in range(rows.count())]
    assert labels == [" and ".join(f"{d} = {v}" for d, v in s.key) for s in october.segments]
    shot(page, "explain")
    page.goto(server.url + "/explore?metric=signups&grain=month")
    page.click("#why-link")
    page.wait_for_selector("#explain-verdict")
    assert "metric=signups" in page.url
    api = httpx.get(server.url + "/api/v1/explain", params={"metric": "mau", "from": params["from"],
                    "to": params["to"]}, headers={"Authorization": f"Bearer {read_token}"},
                    timeout=60)  # fmt: skip
    assert api.status_code == 200
    assert [s["dimensions"] for s in api.json()["segments"]] == [
        dict(s.key) for s in expected.segments
    ]
    bad = httpx.get(server.url + "/explain?metric=dau&from=2026-09-30&to=2026-09-01")
    assert bad.status_code == 400 and "swap them" in html.unescape(bad.text)


AXE = Path(__file__).parent / "browser_sdks" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.parametrize(("width", "scheme"), [(1440, "light"), (390, "light"), (1440, "dark")])
def test_no_serious_accessibility_findings_and_no_overflow(
    server: RunningServer, demo_ws: Workspace, chromium: Browser, width: int, scheme: str
) -> None:
    # Issue 19: axe-core (pinned in tests/browser_sdks, installed by make test, never a
    # CDN) finds nothing serious or critical on any page, on a desktop and on a phone;
    # and no page is wider than the screen.
    goal = demo_ws.goal_book().goals[0].id
    pages = ["/", f"/goals/{goal}", "/goals", "/explore?metric=mau&grain=week",
             "/analyses?tab=retention", "/analyses?tab=funnel&steps=signed_up,project_created",
             "/analyses?tab=lifecycle", "/analyses?tab=stickiness", "/data", "/experiments",
             "/experiments/onboarding-checklist?metric=converted:project_created",
             "/explain?metric=dau&from=2026-09-01&to=2026-09-30", "/alerts", "/reports"]  # fmt: skip
    # the dark mode follows the system setting; it must keep every contrast too
    context = chromium.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)  # type: ignore[arg-type]
    found = {}
    try:
        p = context.new_page()
        for path in pages:
            p.goto(server.url + path)
            p.add_script_tag(content=AXE.read_text())
            violations = p.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']}))"
                ".violations.filter(v => ['serious', 'critical'].includes(v.impact))"
                ".map(v => v.id + ': ' + v.nodes[0].target.join(' '))"
            )
            if violations:
                found[path] = violations
            wide = p.evaluate("document.documentElement.scrollWidth")
            if wide > width:  # the page itself never scrolls sideways (tables may)
                found[path] = [f"{wide} px wide at {width} px"]
        if scheme == "dark":
            p.goto(server.url + "/")
            background = p.evaluate("getComputedStyle(document.documentElement).backgroundColor")
            assert background == "rgb(15, 19, 32)"  # the dark palette is in use
            shot(p, "scorecard-dark")
        elif width == 390:
            for path, name in (("/", "scorecard-phone"), ("/explore?metric=mau&grain=week",
                                                           "explorer-phone")):  # fmt: skip
                p.goto(server.url + path)
                shot(p, name)
    finally:
        context.close()
    assert found == {}


def test_reports_page_previews_sends_and_logs(
    server: RunningServer, demo_ws: Workspace, chromium: Browser
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server.url + "/reports")
    rows = page.locator("#reports tbody tr")
    assert rows.count() == 2  # the demo's weekly and monthly reports
    assert page.locator('[data-report="weekly-exec"]').inner_text().count("Europe/Paris") == 1
    shot(page, "reports")
    with context.expect_page() as opened:
        page.locator('[data-report="weekly-exec"] a', has_text="Preview").click()
    preview = opened.value
    preview.wait_for_load_state()
    assert preview.locator("h1").inner_text().startswith("Weekly KPI report")
    assert preview.locator('img[src^="data:image/png;base64,"]').count() == 4  # one per KPI
    # the preview's scorecard says what the scorecard's JSON says
    card = json.loads(server_get(server, "/api/v1/scorecard", demo_ws))
    first = card["perspectives"][0]["objectives"][0]["kpis"][0]
    assert first["current_text"] in preview.locator("table").first.inner_text()
    preview.set_viewport_size({"width": 800, "height": 900})
    shot(preview, "report-email")
    page.once("dialog", lambda d: d.accept())
    page.locator('[data-report="weekly-exec"] button', has_text="Send now").click()
    page.wait_for_url("**/reports?sent=*")
    assert "weekly-exec: sent" in page.locator("#reports-sent").inner_text()
    assert page.locator("#report-log tbody tr").first.inner_text().count("markdown") == 1
    archived = list((demo_ws.path / "reports" / "archive" / "weekly-exec").glob("*.md"))
    assert archived and "Weekly KPI report" in archived[0].read_text()
    context.close()


def server_get(server: RunningServer, path: str, ws: Workspace) -> str:
    token = ws.create_key("read")[1]
    answer = httpx.get(server.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    answer.raise_for_status()
    return answer.text


def test_share_button_makes_a_read_only_link(server: RunningServer, chromium: Browser) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server.url + "/")
    page.locator("#share summary").click()
    page.locator("#share button").click()
    url = page.locator("#share-url").input_value()
    assert url.startswith(server.url + "/share/")
    context.close()
    stranger = chromium.new_context(viewport={"width": 1280, "height": 900})  # no cookie
    seen = stranger.new_page()
    answer = seen.goto(url)
    assert answer is not None and answer.status == 200
    assert seen.locator("#shared-note").is_visible()
    assert seen.locator("nav").count() == 0 and seen.locator('a[href^="/goals/"]').count() == 0
    assert seen.locator(".kpi").count() > 0 or seen.locator("[data-objective]").count() > 0
    shot(seen, "shared-scorecard")
    assert stranger.cookies() == []
    tampered = seen.goto(url[:-1] + ("0" if url[-1] != "0" else "1"))
    assert tampered is not None and tampered.status == 404
    stranger.close()


def test_pickers_offer_the_datas_events_properties_and_values(
    server: RunningServer, demo_ws: Workspace, page: Page
) -> None:
    # Issue 19: pickers filled from the data, checked against the data itself
    with demo_ws.store(read_only=True) as store:
        events = store.con.execute(
            "select event, count(*) n from events group by event order by n desc, event"
        ).fetchall()
        plans = {r[0] for r in store.con.execute(
            "select distinct properties->>'plan' from users where properties->>'plan' is not null"
        ).fetchall()}  # fmt: skip
    page.goto(server.url + "/analyses?tab=funnel")
    chips = page.locator("#step-picks button.chip")
    assert [chips.nth(i).inner_text() for i in range(3)] == [e for e, _ in events[:3]]
    page.fill("#funnel-steps", "")
    chips.nth(1).click()
    chips.nth(0).click()
    assert page.input_value("#funnel-steps") == f"{events[1][0]}, {events[0][0]}"
    page.goto(server.url + "/explore?metric=dau&grain=week")
    keys = page.locator("#pick-keys option").evaluate_all("os => os.map(o => o.value)")
    # user properties always; event properties of the last 30 days of data (other tests of
    # this module send live events, which move that window)
    assert {"plan", "country", "channel"} <= set(keys)
    filters = page.locator("#pick-filters option").evaluate_all("os => os.map(o => o.value)")
    assert {f"plan = '{p}'" for p in plans} <= set(filters)
    # a picked filter is a valid query
    page.fill('input[name="where"]', f"plan = '{sorted(plans)[0]}'")
    page.click("form.controls button[type=submit]")
    assert (
        page.locator("#explore-chart").count() == 1 and page.locator("#explore-error").count() == 0
    )
