"""The tracking server as clients meet it, on 127.0.0.1: keys, limits, quarantine,
duplicates, health and status, and CLI commands working while it ingests."""

from __future__ import annotations

import gzip
import json
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest

from northstar.errors import ApiKeyError, ServerError
from northstar.workspace import Workspace
from tests.conftest import rows
from tests.server_helpers import RunningServer, cli, running_server, server_workspace


def track(n: int, user: str = "u1", **extra: object) -> dict[str, object]:
    return {"type": "track", "event": "e", "userId": user, "messageId": f"m{n}", **extra}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, str, RunningServer]:
    ws = server_workspace(tmp_path_factory.mktemp("srv") / "ws")
    _, key = ws.create_key("write", source="web")
    with running_server(ws) as server:
        yield ws, key, server


def test_write_keys_are_stored_hashed_and_shown_once(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    key, token = ws.create_key("write", source="ios")
    read, _ = ws.create_key("read")
    assert token.startswith("ns_write_") and len(token) > 40
    listed = {k.key_id: k for k in ws.api_keys()}
    assert listed[key.key_id].source == "ios" and listed[read.key_id].source is None
    assert token.encode() not in (tmp_path / "ws" / "northstar.duckdb").read_bytes()
    import hashlib

    stored = rows(ws, "SELECT token_hash FROM _api_keys ORDER BY kind DESC")
    assert stored[0][0] == hashlib.sha256(token.encode()).hexdigest()
    assert ws.revoke_key(key.key_id).revoked_at is not None
    assert not {k.key_id: k for k in ws.api_keys()}[key.key_id].active


def test_key_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    with pytest.raises(ApiKeyError, match="unknown key kind 'root'; use one of write, read"):
        ws.create_key("root")
    with pytest.raises(ApiKeyError, match="source 'My App' must be"):
        ws.create_key("write", source="My App")
    with pytest.raises(ApiKeyError, match="a source applies to write keys only"):
        ws.create_key("read", source="web")
    out = cli("keys", "revoke", "key_nope", "-w", str(tmp_path / "ws"))
    assert out.returncode == 1 and "no key matches 'key_nope'" in out.stderr
    assert "Traceback" not in out.stderr


def test_unknown_revoked_and_read_keys_write_nothing(tmp_path: Path) -> None:
    ws = server_workspace(tmp_path / "ws")
    key, token = ws.create_key("write", source="web")
    _, read_token = ws.create_key("read")
    body = orjson.dumps({"batch": [track(1)]})
    with running_server(ws) as server:
        url = server.url + "/v1/batch"
        assert httpx.post(url, content=body, auth=("ns_write_guess", "")).status_code == 401
        assert httpx.post(url, content=body).status_code == 401
        no_key = httpx.post(
            server.url + "/batch/", json={"batch": [{"event": "x", "distinct_id": "d"}]}
        )
        assert no_key.status_code == 401 and "no write key" in no_key.json()["message"]
        forbidden = httpx.post(url, content=body, auth=(read_token, ""))
        assert (
            forbidden.status_code == 403 and "read key cannot send" in forbidden.json()["message"]
        )
        assert httpx.post(url, content=body, auth=(token, "")).status_code == 200
        # A key created while the server runs works at once.
        _, fresh = ws.create_key("write", source="late")
        assert (
            httpx.post(
                url, content=orjson.dumps({"batch": [track(2)]}), auth=(fresh, "")
            ).status_code
            == 200
        )
        out = cli("keys", "revoke", key.key_id, "-w", str(ws.path))
        assert out.returncode == 0, out.stderr
        deadline = time.monotonic() + 10
        while (
            httpx.post(
                url, content=orjson.dumps({"batch": [track(99)]}), auth=(token, "")
            ).status_code
            != 401
        ):
            assert time.monotonic() < deadline, "revoked key still accepted after 10 s"
            time.sleep(0.05)
        server.wait_flushed()
        # The refused requests wrote nothing: not events, not quarantine.
    assert rows(ws, "SELECT uuid FROM events ORDER BY uuid") in (
        [("m1",), ("m2",)],
        [("m1",), ("m2",), ("m99",)],
    )
    assert rows(ws, "SELECT count(*) FROM _rejected_rows") == [(0,)]


def test_duplicates_are_stored_once(served: tuple[Workspace, str, RunningServer]) -> None:
    ws, key, server = served
    body = orjson.dumps({"batch": [track(1000 + i, user="dup") for i in range(5)] * 2})
    for _ in range(3):  # the same batch retried
        assert httpx.post(server.url + "/v1/batch", content=body, auth=(key, "")).status_code == 200
    ph = {"api_key": key, "batch": [{"event": "e", "distinct_id": "dup", "uuid": "ph-1"}] * 3}
    assert httpx.post(server.url + "/batch/", json=ph).status_code == 200
    server.wait_flushed()
    assert rows(
        ws, "SELECT count(*), count(DISTINCT uuid) FROM events WHERE distinct_id = 'dup'"
    ) == [(6, 6)]


def test_bad_input_gets_4xx_with_reasons_and_is_quarantined(
    served: tuple[Workspace, str, RunningServer],
) -> None:
    ws, key, server = served
    url = server.url + "/v1/batch"
    mixed = {
        "batch": [
            track(2000, user="mix"),
            {"type": "track", "event": "x"},
            track(2001, user="mix", properties=[1]),
        ]
    }
    r = httpx.post(url, json=mixed, auth=(key, ""))
    assert r.status_code == 400
    body = r.json()
    assert body["accepted"] == 1 and body["quarantined"] == 2
    assert [x["index"] for x in body["rejected"]] == [1, 2]
    assert "missing userId and anonymousId" in body["rejected"][0]["reason"]
    assert "properties must be a JSON object" in body["rejected"][1]["reason"]

    cases = [
        (b'{"batch": [', {}, 400, "not valid JSON"),
        (
            b'{"batch": [{"type": "track", "event": "\xff\xfe", "userId": "u"}]}',
            {},
            400,
            "not valid UTF-8",
        ),
        (b"x" * 600_000, {}, 413, "the limit is 500 KB"),
        (
            gzip.compress(b'{"batch": []}' + b" " * 600_000),
            {"Content-Encoding": "gzip"},
            413,
            "inflates to more than 500 KB",
        ),
        (b"not gzip", {"Content-Encoding": "gzip"}, 400, "not valid gzip"),
        (b"{}", {"Content-Encoding": "br"}, 415, "not supported"),
        (b"[1, 2]", {}, 400, "'batch' array"),
        (b"", {}, 400, "empty body"),
    ]
    for data, headers, status, reason in cases:
        r = httpx.post(url, content=data, headers=headers, auth=(key, ""))
        assert (r.status_code, reason in r.json()["message"]) == (status, True), (data[:30], r.text)
    big = track(2002, user="mix", properties={"blob": "x" * 40_000})
    r = httpx.post(server.url + "/v1/track", json=big, auth=(key, ""))
    assert r.status_code == 400 and "the limit is 32 KB" in r.json()["message"]
    ok = httpx.post(url, content=gzip.compress(orjson.dumps({"batch": [track(2003, user="mix")]})),
                    headers={"Content-Encoding": "gzip"}, auth=(key, ""))  # fmt: skip
    assert ok.status_code == 200
    server.wait_flushed()
    assert rows(ws, "SELECT uuid FROM events WHERE distinct_id = 'mix' ORDER BY 1") == [
        ("m2000",),
        ("m2003",),
    ]
    kept = rows(ws, "SELECT reason FROM _rejected_rows")
    reasons = " | ".join(str(r[0]) for r in kept)
    for fragment in ("missing userId", "properties must be", "not valid JSON", "not valid UTF-8",
                     "the limit is 500 KB", "inflates to", "not valid gzip", "not supported",
                     "'batch' array", "empty body", "the limit is 32 KB"):  # fmt: skip
        assert fragment in reasons
    assert len(kept) == 2 + len(cases) + 1
    out = cli("import", "rejected", "-w", str(ws.path))
    assert out.returncode == 0 and "POST /v1/batch" in out.stdout


def test_health_status_and_cli_while_ingesting(
    served: tuple[Workspace, str, RunningServer],
) -> None:
    ws, key, server = served
    _, read_token = ws.create_key("read")
    stop = threading.Event()
    sent = [0]

    def load() -> None:  # a steady stream while the CLI reads and writes the store
        with httpx.Client(auth=(key, ""), timeout=10) as http:
            n = 0
            while not stop.is_set() and n < 2000:
                batch = [track(10_000 + n * 20 + i, user=f"load{i}") for i in range(20)]
                assert http.post(server.url + "/v1/batch", json={"batch": batch}).status_code == 200
                sent[0] += 20
                n += 1
                time.sleep(0.005)

    thread = threading.Thread(target=load)
    thread.start()
    try:
        out = cli("query", "dau", "--format", "json", "-w", str(ws.path))
        assert out.returncode == 0 and "lock" not in out.stderr.lower(), out.stderr
        csv = ws.path.parent / "more.csv"
        csv.write_text("event,distinct_id,timestamp\nimported,file-user,2026-01-01T00:00:00Z\n")
        assert ws.import_files("events", [csv]).imported == 1  # a writer, like the flusher
        for _ in range(5):  # the Python API takes turns with the flusher just the same
            ws.query("dau", use_cache=False)
            ws.tables()
            ws.sql("SELECT count(*) FROM events")
            ws.status()
    finally:
        stop.set()
        thread.join(30)
    health = server.wait_flushed()
    assert health["status"] == "ok" and "store" not in health  # figures need a read key
    detailed = httpx.get(
        server.url + "/health", headers={"Authorization": f"Bearer {read_token}"}
    ).json()
    time.sleep(0.3)
    status = ws.status()
    assert status.server is not None and status.server["url"] == server.url
    assert status.waiting.events == 0
    total = rows(ws, "SELECT count(*) FROM events WHERE distinct_id LIKE 'load%'")[0][0]
    assert total == sent[0]
    assert status.figures.events_today >= sent[0]
    assert detailed["store"]["quarantined"] == status.figures.quarantined
    out = cli("status", "-w", str(ws.path))
    assert "running at " + server.url in out.stdout and "waiting in the ingestion log" in out.stdout


def test_a_second_server_and_a_taken_port_are_clear_errors(
    served: tuple[Workspace, str, RunningServer],
) -> None:
    from northstar.server.app import serve

    ws, _, server = served
    with pytest.raises(ServerError, match="another 'northstar serve' is running"):
        serve(ws, host="127.0.0.1", port=0)
    other = Workspace.init(ws.path.parent / "other")
    port = int(server.url.rsplit(":", 1)[1])
    with pytest.raises(ServerError, match=f"cannot listen on 127.0.0.1:{port}: "):
        serve(other, host="127.0.0.1", port=port)
    assert json.loads((ws.path / "ingest-log" / "server.json").read_text())["url"] == server.url
    assert httpx.get(server.url + "/health").status_code == 200  # the first one is unharmed
