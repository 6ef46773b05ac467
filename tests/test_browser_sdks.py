"""Issue 26: the real browser SDKs — posthog-js and analytics.js (analytics-next), pinned in
tests/browser_sdks/package.json and installed from the npm registry by `make test` (never
from a CDN) — loaded by a small web app on another loopback origin, in Debian's
Chromium, sending to `northstar serve` with only the host and the key changed.

Each journey: two pageviews, a custom event with nested properties, identify with
traits, an anonymous visitor in another browser, and closing the tab. Checked from the
workspace: every event stored exactly once with its properties and page context, times
within seconds of the clock, the anonymous events merged to the identified person and
the anonymous visitor kept apart, no failed SDK request and no console error; a page on
an origin its key does not allow is refused and stores nothing."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from northstar import clock
from northstar.workspace import Workspace
from tests.conftest import rows
from tests.server_helpers import RunningServer, running_server, server_workspace
from tests.web_helpers import browser

MODULES = Path(__file__).parent / "browser_sdks" / "node_modules"
BUNDLES = {
    "posthog.js": MODULES / "posthog-js" / "dist" / "array.full.no-external.js",
    "analytics.js": MODULES / "@segment" / "analytics-next" / "dist" / "umd" / "standalone.js",
}
# A desktop Chrome's user agent: headless Chromium's own says "HeadlessChrome", which
# posthog-js drops as a bot (as it should).
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/126.0.0.0 Safari/537.36")  # fmt: skip
NOT_AUTOMATED = "Object.defineProperty(navigator, 'webdriver', {get: () => false})"


def posthog_page(title: str, key: str, host: str) -> str:
    options = {"api_host": host, "person_profiles": "identified_only", "autocapture": False}
    return (f"<!doctype html><html><head><title>{title}</title><script src='/posthog.js'>"
            f"</script><script>posthog.init({json.dumps(key)}, {json.dumps(options)});</script>"
            "</head><body><a id='next' href='second.html'>next</a></body></html>")  # fmt: skip


def segment_page(title: str, key: str, host: str) -> str:
    stub = (  # Segment's snippet, with the CDN pointed at the Northstar server
        "!function(){var a=window.analytics=window.analytics||[];a.methods=['track','page',"
        "'identify','alias','group','screen','ready','reset','on','once','off','debug'];"
        "a.factory=function(m){return function(){var n=Array.prototype.slice.call(arguments);"
        "n.unshift(m);a.push(n);return a}};for(var i=0;i<a.methods.length;i++){var m=a.methods[i];"
        f"a[m]=a.factory(m)}}a._writeKey={json.dumps(key)};a._cdn={json.dumps(host)};"
        "a.SNIPPET_VERSION='5.2.0';a.page();}();"
    )
    return (f"<!doctype html><html><head><title>{title}</title><script>{stub}</script>"
            "<script src='/analytics.js'></script></head><body>"
            "<a id='next' href='second.html'>next</a></body></html>")  # fmt: skip


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def web_app(folder: Path, pages: dict[str, str]) -> Iterator[str]:
    """The product's web app: static pages and the SDK bundle, on its own loopback port."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, bundle in BUNDLES.items():
        (folder / name).write_bytes(bundle.read_bytes())
    (folder / "favicon.ico").write_bytes(b"")
    for name, html in pages.items():
        (folder / name).write_text(html)
    handler = functools.partial(Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class Watch:
    """What the page's console and network say about the SDK's requests."""

    def __init__(self, page: Page, server: str) -> None:
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.answers: list[tuple[str, int]] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        page.on("response", lambda r: self.answers.append((r.url, r.status))
                if r.url.startswith(server) else None)  # fmt: skip


def new_page(b: Browser) -> Page:
    context = b.new_context(user_agent=USER_AGENT)
    context.add_init_script(NOT_AUTOMATED)
    return context.new_page()


@pytest.fixture(scope="module", autouse=True)
def bundles_installed() -> None:
    missing = [str(p) for p in BUNDLES.values() if not p.exists()]
    if missing:
        raise RuntimeError(f"SDK bundles missing ({missing[0]}): run make test (npm ci)")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Workspace, RunningServer]]:
    ws = server_workspace(tmp_path / "ws")
    with running_server(ws) as server:
        yield ws, server


def events(ws: Workspace, server: RunningServer) -> list[dict[str, Any]]:
    server.wait_flushed()
    out = ws.sql("SELECT uuid, event, distinct_id, timestamp, properties FROM events "
                 "ORDER BY timestamp, uuid").to_pylist()  # fmt: skip
    for e in out:
        e["properties"] = json.loads(e["properties"])
    return out


def journey(b: Browser, app: str, watch_server: str, sdk: str) -> tuple[Watch, Watch]:
    """The identified user's journey and an anonymous visitor's, in two browsers."""
    page = new_page(b)
    watch = Watch(page, watch_server)
    page.goto(app + "/index.html")
    page.wait_for_timeout(1200)
    if sdk == "posthog":
        page.evaluate("posthog.capture('clicked', {plan: {tier: 'pro', seats: 3}, n: 1})")
        page.evaluate("posthog.identify('user-42', {email: 'ann@example.com', name: 'Ann'})")
        page.evaluate("posthog.capture('exported', {format: 'csv'})")
    else:
        page.evaluate("analytics.track('Clicked', {plan: {tier: 'pro', seats: 3}, n: 1})")
        page.evaluate("analytics.identify('user-42', {email: 'ann@example.com', name: 'Ann'})")
        page.evaluate("analytics.track('Exported', {format: 'csv'})")
    page.wait_for_timeout(1200)
    page.click("#next")
    page.wait_for_timeout(1500)
    page.close(run_before_unload=True)
    visitor = new_page(b)
    anonymous = Watch(visitor, watch_server)
    visitor.goto(app + "/index.html")
    visitor.wait_for_timeout(1500)
    visitor.close(run_before_unload=True)
    return watch, anonymous


def assert_clean(*watches: Watch) -> None:
    for w in watches:
        assert w.errors == [] and w.failed == []
        assert w.answers and all(status == 200 for _, status in w.answers), w.answers


def assert_traits(ws: Workspace) -> None:
    """identify's traits are the identified user's properties."""
    ((props,),) = rows(ws, "SELECT properties FROM users WHERE user_id = 'user-42'")
    traits = json.loads(str(props))
    assert (traits["email"], traits["name"]) == ("ann@example.com", "Ann")


def test_posthog_js_journey(served: tuple[Workspace, RunningServer], tmp_path: Path) -> None:
    ws, server = served
    _, key = ws.create_key("write", source="web")
    pages = {"index.html": posthog_page("Home", key, server.url),
             "second.html": posthog_page("Second", key, server.url)}  # fmt: skip
    with web_app(tmp_path / "app", pages) as app, browser() as b:
        started = clock.now()
        watch, anonymous = journey(b, app, server.url, "posthog")
    assert_clean(watch, anonymous)
    got = events(ws, server)
    assert len({e["uuid"] for e in got}) == len(got)  # each stored once
    named = [e["event"] for e in got]
    assert named.count("$pageview") == 3 and named.count("$pageleave") >= 1
    assert {"clicked", "$identify", "exported"} <= set(named)
    clicked = next(e for e in got if e["event"] == "clicked")
    assert clicked["properties"]["plan"] == {"tier": "pro", "seats": 3}
    assert clicked["properties"]["$current_url"] == app + "/index.html"
    assert clicked["properties"]["$pathname"] == "/index.html"
    assert clicked["properties"]["$lib"] == "web" and clicked["properties"]["$lib_version"]
    assert all("token" not in e["properties"] for e in got)
    second = [e for e in got if e["properties"].get("$pathname") == "/second.html"]
    assert second and all(e["distinct_id"] == "user-42" for e in second)
    assert all(abs(e["timestamp"] - started) < timedelta(seconds=30) for e in got)
    anon = clicked["distinct_id"]
    assert anon != "user-42"
    assert rows(ws, "SELECT distinct_id, person_id FROM _person_map") == [(anon, "user-42")]
    people = rows(ws, "SELECT DISTINCT person_id FROM person_events ORDER BY 1")
    assert len(people) == 2 and ("user-42",) in people  # Ann, and the anonymous visitor
    assert_traits(ws)
    assert rows(ws, "SELECT count(*) FROM _rejected_rows") == [(0,)]


def test_analytics_js_journey(served: tuple[Workspace, RunningServer], tmp_path: Path) -> None:
    ws, server = served
    _, key = ws.create_key("write", source="web")
    pages = {"index.html": segment_page("Home", key, server.url),
             "second.html": segment_page("Second", key, server.url)}  # fmt: skip
    with web_app(tmp_path / "app", pages) as app, browser() as b:
        started = clock.now()
        watch, anonymous = journey(b, app, server.url, "segment")
    assert_clean(watch, anonymous)
    got = events(ws, server)
    assert len({e["uuid"] for e in got}) == len(got)
    named = [e["event"] for e in got]
    assert named.count("$pageview") == 3 and {"Clicked", "$identify", "Exported"} <= set(named)
    clicked = next(e for e in got if e["event"] == "Clicked")
    assert clicked["properties"]["plan"] == {"tier": "pro", "seats": 3}
    page = clicked["properties"]["$context"]["page"]
    assert (page["url"], page["path"], page["title"]) == (app + "/index.html", "/index.html",
                                                          "Home")  # fmt: skip
    assert clicked["properties"]["$context"]["userAgent"] == USER_AGENT
    assert clicked["properties"]["$context"]["library"]["name"] == "analytics.js"
    views = [e for e in got if e["event"] == "$pageview" and e["distinct_id"] == "user-42"]
    assert [v["properties"]["title"] for v in views] == ["Second"]
    assert views[0]["properties"]["referrer"] == app + "/index.html"
    assert all(abs(e["timestamp"] - started) < timedelta(seconds=30) for e in got)
    anon = clicked["distinct_id"]
    assert rows(ws, "SELECT distinct_id, person_id FROM _person_map") == [(anon, "user-42")]
    people = rows(ws, "SELECT DISTINCT person_id FROM person_events ORDER BY 1")
    assert len(people) == 2 and ("user-42",) in people
    assert_traits(ws)
    assert rows(ws, "SELECT count(*) FROM _rejected_rows") == [(0,)]


@pytest.mark.parametrize("sdk", ["posthog", "segment"])
def test_a_page_on_an_origin_the_key_does_not_allow_stores_nothing(
    served: tuple[Workspace, RunningServer], tmp_path: Path, sdk: str
) -> None:
    ws, server = served
    _, key = ws.create_key("write", source="web", origins=["https://app.example.com"])
    make = posthog_page if sdk == "posthog" else segment_page
    pages = {"index.html": make("Home", key, server.url)}
    with web_app(tmp_path / "app", pages) as app, browser() as b:
        page = new_page(b)
        watch = Watch(page, server.url)
        page.goto(app + "/index.html")
        page.wait_for_timeout(2500)
        page.close()
    assert watch.answers and all(status == 403 for _, status in watch.answers), watch.answers
    assert events(ws, server) == []
    assert rows(ws, "SELECT count(*) FROM _rejected_rows") == [(0,)]
