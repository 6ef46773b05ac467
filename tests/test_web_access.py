"""Who may open the pages: browsers on loopback (``server.pages: loopback``, the default)
or anyone signed in with a read key (``server.pages: key``; an admin key to change
anything); cross-site form posts refused in both."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import httpx
import pytest
import yaml
from starlette.requests import Request

from northstar import clock
from northstar.errors import AccessError
from northstar.settings import SETTINGS_FILE
from northstar.web.runtime import KEY_COOKIE, PAGE_COOKIE, check_page_access
from northstar.workspace import Workspace
from tests.server_helpers import RunningServer, running_server


@pytest.fixture(scope="module")
def loopback_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace.init(tmp_path_factory.mktemp("access") / "w", name="Loopback")


def request(ws: Workspace, client: str, method: str = "GET", origin: str | None = None) -> Request:
    headers = [(b"host", b"127.0.0.1:8000")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    app = SimpleNamespace(state=SimpleNamespace(northstar_ws=ws))
    scope = {"type": "http", "method": method, "path": "/", "headers": headers, "app": app,
             "client": (client, 50000), "query_string": b""}  # fmt: skip
    return Request(scope)


def check(req: Request) -> None:
    asyncio.run(check_page_access(req))


@pytest.mark.parametrize("client", ["127.0.0.1", "::1", "127.0.0.5"])
def test_loopback_browsers_open_the_pages(loopback_ws: Workspace, client: str) -> None:
    check(request(loopback_ws, client))
    check(request(loopback_ws, client, "POST", origin="http://127.0.0.1:8000"))


def test_other_machines_get_a_clear_refusal(loopback_ws: Workspace) -> None:
    with pytest.raises(AccessError, match="this machine only.*server.pages: key") as caught:
        check(request(loopback_ws, "10.1.2.3"))
    assert caught.value.status == 403


def test_a_form_posted_from_another_site_is_refused(loopback_ws: Workspace) -> None:
    with pytest.raises(AccessError, match="another site"):
        check(request(loopback_ws, "127.0.0.1", "POST", origin="https://evil.example"))


# -- server.pages: key, against a real server ------------------------------------------
@pytest.fixture(scope="module")
def key_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    path: Path = tmp_path_factory.mktemp("access") / "keyed"
    Workspace.init(path, name="Keyed")
    settings = yaml.safe_load((path / SETTINGS_FILE).read_text())
    settings.setdefault("server", {})["pages"] = "key"
    (path / SETTINGS_FILE).write_text(yaml.safe_dump(settings))
    return Workspace(path)


@pytest.fixture(scope="module")
def server(key_ws: Workspace) -> Iterator[RunningServer]:
    with running_server(key_ws) as srv:
        yield srv


def signed_in(server: RunningServer, token: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    answer = client.post("/signin", data={"key": token, "next": "/goals"})
    assert answer.status_code == 303 and answer.headers["location"] == "/goals"
    assert answer.cookies.get(KEY_COOKIE) == token
    assert "httponly" in answer.headers["set-cookie"].lower()
    assert "samesite=strict" in answer.headers["set-cookie"].lower()
    return client


def test_pages_ask_to_sign_in_first(server: RunningServer) -> None:
    answer = httpx.get(server.url + "/explore?metric=mau", timeout=30)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=" + quote("/explore?metric=mau", safe="")
    page = httpx.get(server.url + "/signin", timeout=30)
    assert page.status_code == 200 and 'name="key"' in page.text


def test_only_read_and_admin_keys_sign_in(server: RunningServer, key_ws: Workspace) -> None:
    bad = httpx.post(server.url + "/signin", data={"key": "ns_read_nope"}, timeout=30)
    assert bad.status_code == 401 and "unknown or revoked key" in bad.text
    assert KEY_COOKIE not in bad.cookies
    write = key_ws.create_key("write", source="web")[1]
    refused = httpx.post(server.url + "/signin", data={"key": write}, timeout=30)
    assert refused.status_code == 401 and "a write key cannot open the pages" in refused.text
    empty = httpx.post(server.url + "/signin", data={"key": ""}, timeout=30)
    assert empty.status_code == 401 and "type a key" in empty.text
    away = httpx.post(server.url + "/signin", data={"key": write, "next": "//evil.example/"})
    assert "evil" not in away.headers.get("location", "")


def test_a_read_key_looks_an_admin_key_changes(server: RunningServer, key_ws: Workspace) -> None:
    reader = signed_in(server, key_ws.create_key("read")[1])
    home = reader.get("/")
    assert home.status_code == 200 and "Sign out" in home.text
    form = {"name": "Grow revenue", "perspective": "financial"}
    headers = {"origin": server.url}
    refused = reader.post("/goals/objectives", data=form, headers=headers)
    assert refused.status_code == 403 and "a read key can look but not change" in refused.text
    assert key_ws.goal_book().objectives == []
    admin = signed_in(server, key_ws.create_key("admin")[1])
    done = admin.post("/goals/objectives", data=form, headers=headers)
    assert done.status_code == 303
    assert [o.name for o in key_ws.goal_book().objectives] == ["Grow revenue"]
    admin_id = next(k.key_id for k in key_ws.api_keys() if k.kind == "admin")
    # Half a year after the server's today (this module runs on the machine's clock, which
    # `make test` moves): a deadline in the future on any day.
    deadline = (clock.today() + timedelta(days=180)).isoformat()
    goal = {"metric": "signups", "target": ">= 5", "objective": "grow-revenue",
            "deadline": deadline}  # fmt: skip
    assert admin.post("/goals/new", data=goal, headers=headers).status_code == 303
    (saved,) = key_ws.goal_book().goals
    assert saved.created_by == f"web ({admin_id})"  # who changed it, by key


def test_revoking_a_key_signs_its_browsers_out(server: RunningServer, key_ws: Workspace) -> None:
    key, token = key_ws.create_key("read")
    reader = signed_in(server, token)
    assert reader.get("/data").status_code == 200
    key_ws.revoke_key(key.key_id)
    # The server reloads its keys on its next flush round after another process changed
    # the store (server.flush_seconds, 1 s): the revoked key is refused from then on.
    deadline = time.monotonic() + 10
    answer = reader.get("/data")
    while answer.status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = reader.get("/data")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    out = reader.post("/signout", headers={"origin": server.url})
    assert out.status_code == 303 and KEY_COOKIE not in reader.cookies


# -- server.pages: loopback, the read API from the pages --------------------------------
def test_only_a_page_session_reads_the_api_without_a_key(loopback_ws: Workspace) -> None:
    # Issue 16.6: a Sec-Fetch-Site header is forgeable by any client; it grants nothing.
    # A browser that opened a page holds the signed session cookie that page set.
    forged = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}
    with running_server(loopback_ws) as srv:
        answer = httpx.get(srv.url + "/api/v1/scorecard", headers=forged, timeout=30)
        assert answer.status_code == 401 and "read or admin key" in answer.json()["message"]
        fake = httpx.get(srv.url + "/api/v1/scorecard", headers=forged, timeout=30,
                         cookies={PAGE_COOKIE: f"1800000000.{'0' * 64}"})  # fmt: skip
        assert fake.status_code == 401
        browser = httpx.Client(base_url=srv.url, timeout=30)
        page = browser.get("/data")
        assert page.status_code == 200
        cookie = page.headers["set-cookie"].lower()
        assert PAGE_COOKIE in cookie and "httponly" in cookie and "samesite=strict" in cookie
        assert browser.get("/api/v1/scorecard").status_code == 200
        # the next page keeps the session it has (no new cookie every time)
        assert "set-cookie" not in browser.get("/data").headers
