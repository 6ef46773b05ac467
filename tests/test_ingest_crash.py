"""Durability: events sent at full speed, the server killed with SIGKILL mid-stream and
restarted; every event that got a 2xx is stored exactly once (SDK retries included)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import orjson

from northstar.ingest.live_log import LOG_DIR, pending
from northstar.workspace import Workspace
from tests.conftest import rows
from tests.server_helpers import running_server

BATCH = 50
MAX_BATCHES = 4000  # the load loop is bounded in count...
MAX_SECONDS = 20.0  # ...and in time


def _batch(sender: int, n: int) -> tuple[list[str], bytes]:
    ids = [f"s{sender}-b{n}-m{i}" for i in range(BATCH)]
    body = {
        "batch": [
            {"type": "track", "event": "load", "userId": f"user-{sender}-{i % 7}",
             "messageId": mid, "properties": {"n": n, "i": i}}
            for i, mid in enumerate(ids)
        ]
    }  # fmt: skip
    return ids, orjson.dumps(body)


def test_acknowledged_events_survive_kill_9_exactly_once(tmp_path: Path) -> None:
    # No flush during the run: at the kill, every acknowledged event is only in the log.
    ws = Workspace.init(tmp_path / "ws", server={"flush_seconds": 300})
    _, key = ws.create_key("write", source="load")
    acked: list[list[str]] = []  # batches that got a 2xx
    acked_bodies: list[bytes] = []
    lock = threading.Lock()
    stop = threading.Event()
    started = time.monotonic()

    def sender(number: int, url: str) -> None:
        with httpx.Client(auth=(key, ""), timeout=10) as http:
            n = 0
            while not stop.is_set() and n < MAX_BATCHES // 4:
                if time.monotonic() - started > MAX_SECONDS:
                    return
                ids, body = _batch(number, n)
                n += 1
                try:
                    response = http.post(url + "/v1/batch", content=body)
                except httpx.HTTPError:
                    return  # the server is gone: this batch was never acknowledged
                if response.status_code == 200:
                    with lock:
                        acked.append(ids)
                        acked_bodies.append(body)

    with running_server(ws) as server:
        threads = [threading.Thread(target=sender, args=(i, server.url)) for i in range(4)]
        for t in threads:
            t.start()
        while len(acked) < 300 and time.monotonic() - started < MAX_SECONDS:
            time.sleep(0.01)
        server.kill9()  # mid-stream: requests are in flight, the log holds unflushed events
        stop.set()
        for t in threads:
            t.join(30)
    assert len(acked) >= 300, "the load did not get going"
    in_log = pending(ws.path / LOG_DIR).events
    assert in_log >= len(acked) * BATCH  # (in-flight ones may be there too, unacknowledged)

    # An SDK that did not hear back retries; here some acknowledged batches come again.
    with running_server(ws) as server, httpx.Client(auth=(key, ""), timeout=10) as http:
        for body in acked_bodies[-20:]:
            assert http.post(server.url + "/v1/batch", content=body).status_code == 200
    # The restarted server loaded the log at start and flushed the retries when stopped.
    assert pending(ws.path / LOG_DIR).events == 0

    expected = {mid for ids in acked for mid in ids}
    stored = dict(rows(ws, "SELECT uuid, count(*) FROM events GROUP BY uuid"))
    missing = expected - stored.keys()
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"
    assert max(stored.values()) == 1  # nothing stored twice, acknowledged or not
    assert len(stored) >= len(expected)  # unacknowledged ones may have made it (once)
