"""Issue 26, at the HTTP level: what posthog-js and analytics.js ask of the server from a
page on another origin — CORS preflights and headers, per-key origins, remote config,
flags, project settings, the short paths, base64 beacons and gzip-js — against a real
server on 127.0.0.1. (The SDK bundles themselves run in tests/test_browser_sdks.py.)"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import orjson
import pytest

from northstar.workspace import Workspace
from tests.conftest import rows
from tests.server_helpers import RunningServer, running_server, server_workspace

APP = "http://127.0.0.1:5173"  # the product's web app: another origin than the server
EVIL = "http://127.0.0.1:6666"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, RunningServer]]:
    ws = server_workspace(tmp_path_factory.mktemp("browser") / "ws")
    with running_server(ws) as server:
        yield ws, server


def key(ws: Workspace, *origins: str) -> str:
    return ws.create_key("write", source="web", origins=origins)[1]


def stored(ws: Workspace, server: RunningServer, where: str) -> list[tuple[object, ...]]:
    server.wait_flushed()
    return rows(ws, f"SELECT uuid, event, properties FROM events WHERE {where} ORDER BY uuid")


@pytest.mark.parametrize(
    "path",
    ["/e/", "/batch/", "/i/v0/e/", "/flags/", "/decide/", "/array/KEY/config.js",
     "/array/KEY/config", "/v1/t", "/v1/p", "/v1/i", "/v1/b", "/v1/m", "/v1/batch",
     "/v1/projects/KEY/settings"],
)  # fmt: skip
def test_preflights_allow_the_methods_and_the_headers_asked(
    served: tuple[Workspace, RunningServer], path: str
) -> None:
    _, server = served
    answer = httpx.options(server.url + path, headers={
        "Origin": APP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization,x-retry-count",
    }, timeout=10)  # fmt: skip
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == APP
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed = answer.headers["access-control-allow-headers"].lower()
    assert {"content-type", "authorization", "x-retry-count"} <= set(allowed.split(","))


def test_every_answer_says_who_may_read_it_errors_included(
    served: tuple[Workspace, RunningServer],
) -> None:
    _, server = served
    refused = httpx.post(server.url + "/v1/t", content=b"{}", auth=("ns_write_nope", ""),
                         headers={"Origin": APP}, timeout=10)  # fmt: skip
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == APP
    bad = httpx.post(server.url + "/e/", content=b"{", headers={"Origin": APP}, timeout=10)
    assert bad.status_code == 400 and bad.headers["access-control-allow-origin"] == APP


def test_a_key_limited_to_origins_refuses_the_others_and_stores_nothing(
    served: tuple[Workspace, RunningServer],
) -> None:
    ws, server = served
    token = key(ws, APP + "/")  # normalised to the origin
    event = {"api_key": token, "event": "o", "distinct_id": "v", "uuid": "origin-evil"}
    evil = httpx.post(server.url + "/e/", json=event, headers={"Origin": EVIL}, timeout=10)
    assert evil.status_code == 403 and evil.json()["code"] == "forbidden_origin"
    assert f"origin {EVIL} may not send" in evil.json()["message"]
    assert evil.headers["access-control-allow-origin"] == EVIL  # the page can read why
    config = httpx.get(f"{server.url}/array/{token}/config", headers={"Origin": EVIL}, timeout=10)
    assert config.status_code == 403
    event["uuid"] = "origin-app"
    assert httpx.post(server.url + "/e/", json=event, headers={"Origin": APP},
                      timeout=10).status_code == 200  # fmt: skip
    event["uuid"] = "origin-none"  # a backend (no Origin header) may use it too
    assert httpx.post(server.url + "/e/", json=event, timeout=10).status_code == 200
    assert [r[0] for r in stored(ws, server, "event = 'o'")] == ["origin-app", "origin-none"]
    assert rows(ws, "SELECT count(*) FROM _rejected_rows WHERE raw LIKE '%origin-evil%'") == [(0,)]


def test_posthog_remote_config_and_flags_say_events_only(
    served: tuple[Workspace, RunningServer],
) -> None:
    ws, server = served
    token = key(ws)
    config = httpx.get(f"{server.url}/array/{token}/config", headers={"Origin": APP}, timeout=10)
    assert config.status_code == 200 and config.headers["access-control-allow-origin"] == APP
    body = config.json()
    assert body["supportedCompression"] == ["gzip-js", "base64"]
    assert (body["hasFeatureFlags"], body["sessionRecording"], body["surveys"]) == (
        False, False, False)  # fmt: skip
    script = httpx.get(f"{server.url}/array/{token}/config.js", timeout=10)
    assert script.headers["content-type"].startswith("application/javascript")
    assert f'window._POSTHOG_REMOTE_CONFIG["{token}"]={{config:' in script.text
    flags = httpx.post(server.url + "/flags/?v=2&config=true", content=b"{}", timeout=10)
    assert flags.status_code == 200 and flags.json()["flags"] == {}
    assert httpx.get(f"{server.url}/array/ns_write_unknown/config", timeout=10).status_code == 401


def test_posthog_beacons_in_base64_and_gzip_js_are_stored_without_the_key(
    served: tuple[Workspace, RunningServer],
) -> None:
    ws, server = served
    token = key(ws)
    events = [{"event": "$pageleave", "properties": {"token": token, "distinct_id": "anon-1",
                                                     "$current_url": "http://app/x"},
               "uuid": "beacon-1"}]  # fmt: skip
    payload = base64.b64encode(orjson.dumps(events)).decode()
    beacon = httpx.post(
        server.url + "/e/?ip=1&_=1765000000000&ver=1.449.2&compression=base64",
        content=f"data={quote(payload)}".encode(), timeout=10,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": APP},
    )  # fmt: skip
    assert beacon.status_code == 200, beacon.text
    gz = [{"event": "clicked", "properties": {"token": token, "distinct_id": "anon-1",
                                              "plan": {"tier": "pro", "seats": 3}},
           "uuid": "gzip-1"}]  # fmt: skip
    sent = httpx.post(server.url + "/e/?compression=gzip-js", content=gzip.compress(
        orjson.dumps(gz)), headers={"Content-Type": "text/plain", "Origin": APP}, timeout=10)  # fmt: skip
    assert sent.status_code == 200, sent.text
    got = {r[0]: json.loads(str(r[2])) for r in stored(ws, server, "distinct_id = 'anon-1'")}
    assert set(got) == {"beacon-1", "gzip-1"}
    assert got["beacon-1"]["$current_url"] == "http://app/x"
    assert got["gzip-1"]["plan"] == {"tier": "pro", "seats": 3}
    assert all("token" not in p for p in got.values())  # the key is not an event property


def test_analytics_js_settings_short_paths_and_metrics(
    served: tuple[Workspace, RunningServer],
) -> None:
    ws, server = served
    token = key(ws)
    settings = httpx.get(f"{server.url}/v1/projects/{token}/settings",
                         headers={"Origin": APP}, timeout=10)  # fmt: skip
    assert settings.status_code == 200
    segment = settings.json()["integrations"]["Segment.io"]
    host = server.url.split("://", 1)[1]
    assert (segment["apiHost"], segment["protocol"]) == (f"{host}/v1", "http")
    assert list(settings.json()["integrations"]) == ["Segment.io"]  # no other destination
    assert settings.json()["metrics"]["sampleRate"] == 0
    message = {"type": "track", "event": "Signed Up", "userId": "ajs-1", "messageId": "ajs-m1",
               "properties": {"plan": "pro"}, "writeKey": token,
               "context": {"page": {"path": "/signup", "url": "http://app/signup"}}}  # fmt: skip
    sent = httpx.post(server.url + "/v1/t", content=orjson.dumps(message), auth=(token, ""),
                      headers={"Content-Type": "text/plain", "Origin": APP}, timeout=10)  # fmt: skip
    assert sent.status_code == 200 and sent.headers["access-control-allow-origin"] == APP
    page = {**message, "type": "page", "name": "Home", "messageId": "ajs-m2"}
    assert httpx.post(server.url + "/v1/b", json={"batch": [page]}, auth=(token, ""),
                      timeout=10).status_code == 200  # fmt: skip
    metrics = httpx.post(server.url + "/v1/m", json={"series": []}, headers={"Origin": APP},
                         timeout=10)  # fmt: skip
    assert metrics.status_code == 200
    assert [r[:2] for r in stored(ws, server, "distinct_id = 'ajs-1'")] == [
        ("ajs-m1", "Signed Up"), ("ajs-m2", "$pageview")]  # fmt: skip


def test_read_keys_are_refused_from_a_page_on_another_site(
    served: tuple[Workspace, RunningServer],
) -> None:
    ws, server = served
    read = ws.create_key("read")[1]
    auth = {"Authorization": f"Bearer {read}"}
    assert httpx.get(server.url + "/api/v1/scorecard", headers=auth, timeout=30).status_code == 200
    cross = httpx.get(server.url + "/api/v1/scorecard", headers={**auth, "Origin": APP},
                      timeout=30)  # fmt: skip
    assert cross.status_code == 403 and "another site" in cross.json()["message"]


def test_page_context_is_one_vocabulary_and_bots_are_marked(
    served: tuple[Workspace, RunningServer],
) -> None:
    ws, server = served
    token = key(ws)
    desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
    context = {"page": {"url": "http://app/pricing", "path": "/pricing", "title": "Pricing",
                        "referrer": "http://search/"}, "userAgent": desktop,
               "library": {"name": "analytics.js", "version": "next-1.84.3"}}  # fmt: skip
    segment = {"type": "track", "event": "ctx", "userId": "ctx-seg", "messageId": "ctx-1",
               "context": context}  # fmt: skip
    assert httpx.post(server.url + "/v1/t", json=segment, auth=(token, ""),
                      timeout=10).status_code == 200  # fmt: skip
    posthog = [
        {"event": "ctx", "uuid": "ctx-2", "properties": {
            "token": token, "distinct_id": "ctx-ph", "$current_url": "http://app/docs",
            "$pathname": "/docs", "$raw_user_agent": desktop}},
        {"event": "ctx", "uuid": "ctx-3", "properties": {
            "token": token, "distinct_id": "crawler", "$pathname": "/docs",
            "$raw_user_agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}},
    ]  # fmt: skip
    assert httpx.post(server.url + "/e/", json=posthog, timeout=10).status_code == 200
    got = {r[0]: json.loads(str(r[2])) for r in stored(ws, server, "event = 'ctx'")}
    seg = got["ctx-1"]
    assert (seg["$current_url"], seg["$pathname"], seg["$title"], seg["$referrer"]) == (
        "http://app/pricing", "/pricing", "Pricing", "http://search/")  # fmt: skip
    assert (seg["$lib"], seg["$lib_version"], seg["$raw_user_agent"]) == (
        "analytics.js", "next-1.84.3", desktop)  # fmt: skip
    assert got["ctx-3"]["$bot"] is True and "$bot" not in got["ctx-1"] | got["ctx-2"]
    # the same names break down and filter whichever SDK sent them
    frame = ws.query(["dau"], grain="day", by=["$pathname"], where="event = 'ctx'")
    counts = frame.groupby("$pathname")["value"].sum().to_dict()
    assert counts == {"/pricing": 1.0, "/docs": 2.0}
    humans = ws.query(
        ["dau"], grain="day", by=["$pathname"], where="event = 'ctx' and $bot is null"
    )
    assert humans.groupby("$pathname")["value"].sum().to_dict() == {"/pricing": 1.0, "/docs": 1.0}
