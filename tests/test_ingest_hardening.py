"""Issue 16: the hostile requests a fuzz found, sent again to a real server on 127.0.0.1.
Each answer is a 4xx with its reason (never a 5xx), nothing acknowledged is lost or
merged, and every rejected body that carries a valid key is kept with its reason."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import orjson
import pytest

from northstar.workspace import Workspace
from tests.conftest import rows
from tests.server_helpers import RunningServer, running_server, server_workspace

ANSWER_KEYS = {"success", "code", "message", "detail", "quarantined"}


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Workspace, str, RunningServer]]:
    ws = server_workspace(tmp_path_factory.mktemp("hard") / "ws")
    _, key = ws.create_key("write", source="web")
    with running_server(ws) as server:
        yield ws, key, server


def kept(ws: Workspace, fragment: str) -> list[tuple[object, ...]]:
    return rows(ws, f"SELECT raw, reason FROM _rejected_rows WHERE reason LIKE '%{fragment}%'")


def test_json_nested_a_thousand_levels_is_a_400_and_kept(
    served: tuple[Workspace, str, RunningServer],
) -> None:
    ws, key, server = served
    deep = b'{"type": "track", "event": "e", "userId": "u", "properties": {"x": ' + (
        b"[" * 1000 + b"]" * 1000) + b"}}"  # fmt: skip
    answer = httpx.post(server.url + "/v1/track", content=deep, auth=(key, ""), timeout=30)
    assert answer.status_code == 400
    assert "nested deeper than 64 levels" in answer.json()["message"]
    assert answer.json()["quarantined"] == 1
    posthog = b'{"api_key": "' + key.encode() + b'", "batch": ' + b"[" * 900 + b"]" * 900 + b"}"
    assert httpx.post(server.url + "/batch/", content=posthog, timeout=30).status_code == 400
    server.wait_flushed()
    found = kept(ws, "nested deeper")
    assert len(found) == 2 and str(found[0][0]).startswith('{"type": "track"')


def test_integers_past_64_bits_stay_exact_and_two_ids_never_merge(
    served: tuple[Workspace, str, RunningServer],
) -> None:
    ws, key, server = served
    # Two ids that round to the same float (1.2345678901234568e+29): both events are kept,
    # with their ids and the property as their exact text.
    body = (
        b'{"batch": ['
        b'{"type": "track", "event": "big", "userId": 123456789012345678901234567890, '
        b'"messageId": 123456789012345678901234567890, '
        b'"properties": {"n": 98765432109876543210987654321, "small": 7}},'
        b'{"type": "track", "event": "big", "userId": 123456789012345678901234567891, '
        b'"messageId": 123456789012345678901234567891}'
        b"]}"
    )
    answer = httpx.post(server.url + "/v1/batch", content=body, auth=(key, ""), timeout=30)
    assert answer.status_code == 200 and answer.json()["accepted"] == 2
    server.wait_flushed()
    stored = rows(ws, "SELECT uuid, distinct_id, properties FROM events WHERE event = 'big' "
                      "ORDER BY uuid")  # fmt: skip
    assert [(u, d) for u, d, _ in stored] == [
        ("123456789012345678901234567890", "123456789012345678901234567890"),
        ("123456789012345678901234567891", "123456789012345678901234567891"),
    ]
    props = json.loads(str(stored[0][2]))
    assert props["n"] == "98765432109876543210987654321" and props["small"] == 7


def test_unreadable_bodies_with_their_key_inside_are_kept(
    served: tuple[Workspace, str, RunningServer],
) -> None:
    ws, key, server = served
    cut = b'{"api_key": "' + key.encode() + b'", "batch": [{"event": "x", "distinct_id": '
    answer = httpx.post(server.url + "/batch/", content=cut, timeout=30)
    assert answer.status_code == 400 and answer.json()["quarantined"] == 1
    huge = b'{"api_key": "' + key.encode() + b'", "batch": [' + b'{"event": "e"},' * 50_000
    answer = httpx.post(server.url + "/batch/", content=huge + b"{}]}", timeout=30)
    assert answer.status_code == 413 and answer.json()["quarantined"] == 1
    stranger = b'{"api_key": "ns_write_not_a_key", "batch": ['
    answer = httpx.post(server.url + "/batch/", content=stranger, timeout=30)
    assert answer.status_code == 400 and answer.json()["quarantined"] == 0
    assert "not kept: no valid write key" in answer.json()["message"]
    server.wait_flushed()
    (raw_cut, _), = kept(ws, "not valid JSON: unexpected end")  # fmt: skip
    assert str(raw_cut) == cut.decode()
    (raw_huge, _reason), = kept(ws, "the limit is 500 KB")  # fmt: skip
    assert str(raw_huge).startswith(huge[:1000].decode())
    assert len(str(raw_huge).split("… [cut:")[0].encode()) == 32 * 1024  # its first 32 KB
    assert "ns_write_not_a_key" not in " ".join(str(r[0]) for r in kept(ws, ""))


def test_a_client_gone_mid_body_is_one_info_line_and_counted(
    served: tuple[Workspace, str, RunningServer],
) -> None:
    ws, key, server = served
    url = urlparse(server.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(
            b"POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + key.encode() + b"\r\nContent-Length: 100000\r\n\r\n"
            + b'{"batch": [' + b" " * 100
        )  # fmt: skip
        time.sleep(0.3)
    deadline = time.monotonic() + 10
    health = httpx.get(server.url + "/health", timeout=10).json()
    while health["disconnected_requests"] < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
        health = httpx.get(server.url + "/health", timeout=10).json()
    assert health["disconnected_requests"] == 1
    log = (Path(ws.path) / "server-test.log").read_text()
    assert "Traceback" not in log and "unexpected error" not in log.lower()


SEGMENT = ("track", "identify", "page", "screen", "alias", "group")


@pytest.mark.parametrize(
    "path", [f"/v1/{k}" for k in SEGMENT] + ["/v1/batch", "/batch/", "/capture/", "/e/",
                                              "/i/v0/e/"],
)  # fmt: skip
def test_every_answer_has_the_documented_fields(
    served: tuple[Workspace, str, RunningServer], path: str
) -> None:
    _, key, server = served
    n = time.monotonic_ns()
    if path.startswith("/v1/") and path != "/v1/batch":
        kind = path.rsplit("/", 1)[1]
        body: object = {"type": kind, "event": "e", "name": "p", "userId": "u", "groupId": "g",
                        "previousId": "old", "messageId": f"ok-{kind}-{n}"}  # fmt: skip
    elif path == "/v1/batch":
        body = {"batch": [{"type": "track", "event": "e", "userId": "u", "messageId": f"b{n}"}]}
    else:
        body = {"api_key": key, "event": "e", "distinct_id": "u", "uuid": f"p-{path}-{n}"}
    ok = httpx.post(server.url + path, content=orjson.dumps(body), auth=(key, ""), timeout=30)
    assert ok.status_code == 200, ok.text
    answer = ok.json()
    assert ANSWER_KEYS | {"accepted", "warnings"} <= answer.keys()
    assert (answer["success"], answer["code"], answer["quarantined"], answer["accepted"]) == (
        True, "ok", 0, 1)  # fmt: skip
    assert answer["message"] == answer["detail"] == "1 message(s) stored"
    refused = httpx.post(server.url + path, content=b"{}", auth=("ns_write_nope", ""), timeout=30)
    assert refused.status_code == 401 and refused.json().keys() >= ANSWER_KEYS
    assert refused.json()["success"] is False
