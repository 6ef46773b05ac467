"""The web UI in a real headless Chromium against ``northstar serve`` on loopback, with a
small demo workspace; screenshots of each page go to docs/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page

from northstar.demo.load import load_demo
from northstar.workspace import Workspace
from tests.server_helpers import RunningServer, running_server
from tests.web_helpers import SCREENSHOTS, browser


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
    with running_server(demo_ws) as srv:
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
        assert row.locator("[data-size]").get_attribute("data-size") == str(cohort.size)
        cells = row.locator("td.cell")
        counts = [int(cells.nth(k).get_attribute("data-count") or -1) for k in range(cells.count())]
        assert counts == cohort.counts
        texts = [cells.nth(k).inner_text() for k in range(cells.count())]
        # The share of the cohort, computed here from the counts.
        size = cohort.size or 1  # an empty cohort (after the data ends) shows 0.0 %
        assert texts == [f"{100 * n / size:.1f} %" for n in cohort.counts]
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


def test_explorer_draws_the_metric_with_table_and_csv(
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
    csv = httpx.get(
        f"{server.url}/explore.csv?metric={goal.metric}&grain={goal.grain.value}", timeout=30
    )
    assert csv.status_code == 200 and csv.text.splitlines()[0].startswith("metric,period")
    assert len(csv.text.strip().splitlines()) == len(expected) + 1


def test_lifecycle_stickiness_and_data_pages_render(server: RunningServer, page: Page) -> None:
    for tab in ("lifecycle", "stickiness"):
        page.goto(f"{server.url}/analyses?tab={tab}")
        page.wait_for_selector(f"#{tab}-chart[data-drawn]", timeout=10000)
        shot(page, f"analyses-{tab}")
    page.goto(server.url + "/data")
    assert page.locator("#tables tbody tr").count() > 0
    page.select_option("select[name=kind]", "write")
    page.fill("input[name=source]", "android")
    page.click("text=Create key")
    assert page.locator("#new-token").inner_text().startswith("ns_write_")
    shot(page, "data")


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
    assert [r["value"] for r in answer.json()] == list(expected["value"])
    bad = httpx.get(
        server.url + "/api/v1/query",
        params={"metrics": "nope"},
        headers={"Authorization": f"Bearer {read_token}"},
        timeout=30,
    )
    assert bad.status_code == 400 and "unknown metric" in bad.json()["message"]
