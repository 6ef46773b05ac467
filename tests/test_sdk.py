"""The Python SDK's delivery rules against small real HTTP servers on 127.0.0.1:
retries with backoff on 5xx and network errors, no retry on 4xx, a bounded queue."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from northstar import Client
from northstar.sdk import DeliveryError


class Recorder(ThreadingHTTPServer):
    """Answers each POST with the next status of ``script`` (then 200), recording bodies."""

    def __init__(self, port: int, script: list[int]) -> None:
        self.script = list(script)
        self.bodies: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.auth: list[str] = []
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:  # http.server calls do_<METHOD>
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = self.server.script.pop(0) if self.server.script else 200
        self.server.bodies.append(body)
        self.server.statuses.append(status)
        self.server.auth.append(self.headers.get("Authorization", ""))
        if status == 400:
            reply = {"message": "1 of 1 message(s) rejected", "accepted": 0,
                     "rejected": [{"index": 0, "reason": "missing event"}]}  # fmt: skip
        else:
            reply = {"success": status == 200}
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(port: int, script: list[int]) -> Iterator[Recorder]:
    server = Recorder(port, script)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def sent_ids(server: Recorder) -> list[str]:
    return [m["messageId"] for b in server.bodies for m in b["batch"]]


def test_5xx_is_retried_until_delivered_with_the_same_message_ids() -> None:
    port = free_port()
    with serving(port, [503, 500]) as server:
        client = Client("wk", f"http://127.0.0.1:{port}", batch_size=10)
        ids = [client.track("e", user_id="u", properties={"i": i}) for i in range(5)]
        assert client.flush(timeout=20)
        client.shutdown()
    assert server.statuses == [503, 500, 200]
    # every attempt carried the same messages: the server stores them once
    assert sent_ids(server) == ids * 3
    assert (client.sent, client.failed) == (5, 0)
    assert server.auth[0].startswith("Basic ")  # the write key as user name, like Segment


def test_network_errors_are_retried_with_backoff() -> None:
    port = free_port()  # nothing listens yet: connection refused
    client = Client("wk", f"http://127.0.0.1:{port}", max_retries=8)
    mid = client.track("e", anonymous_id="a")
    time.sleep(0.4)
    with serving(port, []) as server:
        assert client.flush(timeout=30)
        client.shutdown()
    assert sent_ids(server) == [mid]
    assert client.sent == 1


def test_4xx_is_not_retried_and_is_reported() -> None:
    port = free_port()
    errors: list[DeliveryError] = []
    with serving(port, [400]) as server:
        client = Client("wk", f"http://127.0.0.1:{port}", on_error=errors.append)
        client.track("", user_id="u")
        assert client.flush(timeout=20)
        client.shutdown()
    assert server.statuses == [400]
    assert client.failed == 1 and errors[0].status == 400
    assert errors[0].rejected == [{"index": 0, "reason": "missing event"}]


def test_giving_up_after_max_retries_is_reported() -> None:
    port = free_port()
    errors: list[DeliveryError] = []
    with serving(port, [503] * 10) as server:
        client = Client("wk", f"http://127.0.0.1:{port}", max_retries=2, on_error=errors.append)
        client.track("e", user_id="u")
        assert client.flush(timeout=20)
        client.shutdown()
    assert server.statuses == [503, 503, 503]  # one try and two retries
    assert client.failed == 1 and errors[0].status == 503


def test_the_queue_is_bounded_and_drops_are_counted() -> None:
    port = free_port()  # unreachable while we fill the queue
    client = Client("wk", f"http://127.0.0.1:{port}", batch_size=1, max_queue_size=3,
                    max_retries=50)  # fmt: skip
    results = [client.track("e", user_id="u", properties={"i": i}) for i in range(20)]
    assert client.queued <= 3
    assert client.dropped >= 20 - 3 - 1  # at most one batch in flight, three queued
    assert results.count(None) == client.dropped
    with serving(port, []) as server:
        assert client.flush(timeout=30)
        client.shutdown()
    assert len(set(sent_ids(server))) == 20 - client.dropped


def test_oversized_messages_are_refused_at_the_call() -> None:
    client = Client("wk", f"http://127.0.0.1:{free_port()}")
    assert client.track("e", user_id="u", properties={"x": "a" * 40_000}) is None
    assert client.dropped == 1
    client.shutdown(timeout=0)
    with pytest.raises(ValueError, match="write_key is required"):
        Client("")
