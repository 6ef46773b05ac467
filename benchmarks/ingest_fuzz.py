"""Ingestion fuzz and soak: hostile requests against `northstar serve` on 127.0.0.1.

Run:  make bench-fuzz    (or: .venv/bin/python benchmarks/ingest_fuzz.py --requests 3000)

Starts `northstar serve` for a fresh workspace (loopback only, a free port) and sends,
bounded by ``--requests`` and ``--max-seconds``, a seeded mix of the hostile requests an
SDK, a proxy or an attacker can produce, over both key styles (an ``Authorization``
header, or the key in the body as PostHog's SDKs send it):

- good batches (the control: every message must be stored once);
- JSON nested 100 to 5,000 levels deep; integers past 64 bits in ids and properties;
- bodies cut short, with invalid UTF-8, random bytes, empty, wrong shapes;
- gzip that is not gzip, gzip bombs, an unknown ``Content-Encoding``;
- bodies over 500 KB; messages over 32 KB; placeholder ids; wrong types everywhere;
- clients that disconnect in the middle of their body;
- unknown keys and read keys (nothing may be written for them).

It then waits for the flusher and compares the store with the answers. Reported: the
requests tried, answers by status, **5xx answers (goal: 0)**, disconnects counted by the
server, messages the answers said were quarantined against rows in the quarantine
(**every rejection kept**: the two must be equal), stored events against acknowledged
ones (equal), and the throughput in requests per second.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from northstar.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from ingest_speed import start_server

SEGMENT_PATHS = ("/v1/batch", "/v1/track", "/v1/identify")
POSTHOG_PATHS = ("/batch/", "/e/", "/capture/", "/i/v0/e/")


class Fuzz:
    def __init__(self, seed: int, key: str, read_key: str) -> None:
        self.rng = random.Random(seed)
        self.key, self.read_key = key, read_key
        self.n = 0

    def message_id(self) -> str:
        self.n += 1
        return f"fz-{self.n}"

    def track(self, **extra: object) -> dict[str, object]:
        return {"type": "track", "event": "fuzzed", "userId": f"u{self.rng.randrange(50)}",
                "messageId": self.message_id(), **extra}  # fmt: skip

    def request(self) -> tuple[str, str, bytes, dict[str, str], tuple[str, str] | None]:
        """(kind, path, body, headers, basic auth) of one request."""
        r = self.rng
        kind = r.choice(KINDS)
        path = r.choice(SEGMENT_PATHS)
        headers: dict[str, str] = {}
        auth: tuple[str, str] | None = (self.key, "")
        body: bytes
        if kind == "good":
            body = json.dumps({"batch": [self.track() for _ in range(r.randint(1, 20))]}).encode()
            path = "/v1/batch"
        elif kind == "deep":
            depth = r.choice((100, 300, 1000, 5000))
            body = b'{"batch": [' + b"[" * depth + b"]" * depth + b"]}"
        elif kind == "bigint":
            big = str(r.randrange(10**25, 10**35))
            body = (f'{{"batch": [{{"type": "track", "event": "fuzzed", "userId": {big}, '
                    f'"messageId": {big}, "properties": {{"n": {big}1}}}}]}}').encode()  # fmt: skip
            path = "/v1/batch"
        elif kind == "cut":
            full = json.dumps({"batch": [self.track() for _ in range(5)]}).encode()
            body = full[: r.randrange(1, len(full) - 1)]
        elif kind == "utf8":
            full = json.dumps({"batch": [self.track()]}).encode()
            at = r.randrange(len(full))
            body = full[:at] + b"\xff\xfe" + full[at:]
        elif kind == "bytes":
            body = r.randbytes(r.randint(0, 200))
        elif kind == "shape":
            body = json.dumps(r.choice([[], [1, 2], "x", 3, None, {"batch": {}},
                                        {"batch": [1, "a", None, []]}])).encode()  # fmt: skip
        elif kind == "types":
            wrong = self.track(userId=r.choice([[], {}, True, "null", 0]),
                               properties=r.choice([[], "p", 1]),
                               timestamp=r.choice([5, "soon", []]))  # fmt: skip
            body = json.dumps({"batch": [wrong]}).encode()
        elif kind == "badgzip":
            body, headers["Content-Encoding"] = b"not gzip at all", "gzip"
        elif kind == "bomb":
            body, headers["Content-Encoding"] = (
                gzip.compress(b'{"batch": []}' + b" " * 2_000_000),
                "gzip",
            )
        elif kind == "encoding":
            body, headers["Content-Encoding"] = b"{}", r.choice(("br", "zstd", "deflate"))
        elif kind == "huge":
            body = b'{"batch": [' + b'{"type":"track"},' * 40_000 + b"{}]}"
        elif kind == "bigmessage":
            body = json.dumps({"batch": [self.track(properties={"x": "a" * 40_000})]}).encode()
        elif kind == "unknown_key":
            body, auth = json.dumps({"batch": [self.track()]}).encode(), ("ns_write_unknown", "")
        elif kind == "read_key":
            body, auth = json.dumps({"batch": [self.track()]}).encode(), (self.read_key, "")
        else:  # "disconnect" is sent by raw socket
            body = b'{"batch": ['
        if kind not in ("unknown_key", "read_key") and r.random() < 0.3 and body[:1] == b"{":
            # the PostHog way: the key in the body (the body may still be broken)
            auth, path = None, r.choice(POSTHOG_PATHS)
            body = b'{"api_key": "' + self.key.encode() + b'", ' + body[1:]
            if kind == "good":
                msgs = json.loads(body)["batch"]
                body = json.dumps({"api_key": self.key, "batch": [
                    {"event": m["event"], "distinct_id": m["userId"], "uuid": m["messageId"]}
                    for m in msgs]}).encode()  # fmt: skip
        return kind, path, body, headers, auth


KINDS = ("good", "good", "good", "deep", "bigint", "cut", "utf8", "bytes", "shape", "types",
         "badgzip", "bomb", "encoding", "huge", "bigmessage", "unknown_key", "read_key",
         "disconnect")  # fmt: skip


def disconnect(url: str, key: str) -> None:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        head = b"POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        conn.sendall(head + key.encode() + b'\r\nContent-Length: 50000\r\n\r\n{"batch": [')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(tmp) / "fuzz", timezone="UTC", server={"flush_seconds": 0.2})
        _, key = ws.create_key("write", source="fuzz")
        _, read_key = ws.create_key("read")
        proc, url = start_server(ws)
        fuzz = Fuzz(args.seed, key, read_key)
        statuses: Counter[int] = Counter()
        by_kind: Counter[str] = Counter()
        quarantined = accepted = disconnects = 0
        started = time.perf_counter()
        try:
            with httpx.Client(base_url=url, timeout=60) as client:
                while sum(by_kind.values()) < args.requests:
                    if time.perf_counter() - started > args.max_seconds:
                        break
                    kind, path, body, headers, auth = fuzz.request()
                    by_kind[kind] += 1
                    if kind == "disconnect":
                        disconnect(url, key)
                        disconnects += 1
                        continue
                    answer = client.post(path, content=body, headers=headers, auth=auth)
                    statuses[answer.status_code] += 1
                    data = answer.json()
                    quarantined += int(data.get("quarantined", 0))
                    accepted += int(data.get("accepted", 0))
            seconds = time.perf_counter() - started
            deadline = time.monotonic() + 60
            while True:
                health = httpx.get(url + "/health", timeout=10).json()
                waiting = health["log"]["waiting_events"] + health["log"]["waiting_segments"]
                if (not waiting and health["disconnected_requests"] >= disconnects) or (
                    time.monotonic() > deadline
                ):
                    break
                time.sleep(0.2)
        finally:
            proc.terminate()
            proc.wait(30)
        (kept,) = ws.sql("SELECT count(*) AS n FROM _rejected_rows").to_pylist()[0].values()
        (stored,) = ws.sql("SELECT count(*) AS n FROM events").to_pylist()[0].values()
    tried = sum(by_kind.values())
    fivexx = sum(n for s, n in statuses.items() if s >= 500)
    print(f"requests tried        {tried:,} in {seconds:.1f} s ({tried / seconds:,.0f} requests/s)")
    print("answers by status     " + ", ".join(f"{s}: {n:,}" for s, n in sorted(statuses.items())))
    print(f"5xx answers           {fivexx}  (goal 0)")
    print(f"disconnects           {disconnects} sent, {health['disconnected_requests']} counted")
    print(f"quarantined (answers) {quarantined:,}; rows in the quarantine {kept:,}"
          f"  ({'every rejection kept' if quarantined == kept else 'MISMATCH'})")  # fmt: skip
    print(f"acknowledged events   {accepted:,}; stored {stored:,}"
          f"  ({'none lost or doubled' if accepted == stored else 'MISMATCH'})")  # fmt: skip
    print("requests by kind      " + ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items())))
    if fivexx or quarantined != kept or accepted != stored:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
