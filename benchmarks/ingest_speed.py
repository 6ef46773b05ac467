"""Live-ingestion speed: sustained batch ingest through `northstar serve`, durability on.

Run:  make bench-ingest   (or: .venv/bin/python benchmarks/ingest_speed.py --events 1000000)

Starts `northstar serve` on 127.0.0.1 (a free port) for a fresh workspace, builds the
request bodies first (Segment `/v1/batch`, realistic track messages of ~300 bytes with
a unique messageId each), then a load generator sends them over keep-alive connections
as fast as the server acknowledges them. Every 200 means the batch was fsync'd to the
ingestion log (group commit). It reports:

* acknowledged events/s and the p50/p99 latency of a batch request;
* events/s end to end: until the flusher has moved every event into the store;
* the same numbers for a floor: the same uvicorn serving an endpoint that reads the body
  and answers 200 without parsing, validating or writing it (HTTP transport alone).

It then stops the server and checks that the store holds exactly the events sent. The
load is bounded by --events and --max-seconds. Target: >= 50,000 events/s on 2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import orjson

from northstar.workspace import Workspace

EVENTS = ("$pageview", "clicked", "report_exported", "signed_in", "searched", "invited")
FLOOR_APP = """
import sys, uvicorn
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"success":true}'})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False)
"""


@dataclass
class Run:
    events: int = 0
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def bodies(events: int, batch: int) -> list[bytes]:
    """Pre-built /v1/batch bodies (building them is not part of the measurement)."""
    out = []
    sent_at = "2026-03-01T12:00:00.000000+00:00"
    library = {"library": {"name": "analytics-python", "version": "2.4.0"}}
    for start in range(0, events, batch):
        messages = []
        for i in range(start, min(start + batch, events)):
            props = {"plan": ("free", "pro", "team")[i % 3], "path": f"/p/{i % 97}",
                     "value": i % 1000, "country": ("FR", "DE", "US", "JP")[i % 4]}  # fmt: skip
            messages.append(
                {
                    "type": "track",
                    "event": EVENTS[i % len(EVENTS)],
                    "userId": f"user-{i % 50_000}",
                    "anonymousId": f"anon-{i % 70_000}",
                    "messageId": f"bench-{i:012d}",
                    "timestamp": f"2026-03-01T11:{(i // 60) % 60:02d}:{i % 60:02d}.000000+00:00",
                    "properties": props,
                    "context": library,
                }
            )
        out.append(orjson.dumps({"batch": messages, "sentAt": sent_at}))
    return out


def send_all(url: str, key: str, work: list[bytes], per_batch: int, connections: int,
             max_seconds: float) -> Run:  # fmt: skip
    """Send every body once over ``connections`` keep-alive connections."""
    parts = urlsplit(url)
    import base64

    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    headers = {"Content-Type": "application/json", "Authorization": auth}
    run = Run()
    lock = threading.Lock()
    items = iter(enumerate(work))
    started = time.perf_counter()

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        local: list[float] = []
        while time.perf_counter() - started < max_seconds:
            with lock:
                item = next(items, None)
            if item is None:
                break
            _, body = item
            t0 = time.perf_counter()
            conn.request("POST", "/v1/batch", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            local.append(time.perf_counter() - t0)
            with lock:
                run.requests += 1
                if response.status == 200:
                    run.events += body.count(b'"messageId"')
                else:
                    run.errors += 1
        conn.close()
        with lock:
            run.latencies.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.seconds = time.perf_counter() - started
    return run


def start_server(ws: Workspace) -> tuple[subprocess.Popen[bytes], str]:
    info = ws.path / "ingest-log" / "server.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from northstar.cli.app import main; main()", "serve",
         "-w", str(ws.path), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not info.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.05)
    time.sleep(0.2)
    return proc, json.loads(info.read_text())["url"]


def cpu_seconds(pid: int, *, thread: int | None = None) -> float | None:
    """CPU time (user + system) of a process, or of one of its threads (Linux only)."""
    path = Path(f"/proc/{pid}/task/{thread}/stat" if thread else f"/proc/{pid}/stat")
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def health(url: str) -> dict[str, object]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", "/health")
    data = json.loads(conn.getresponse().read())
    conn.close()
    return dict(data)


def wait_flushed(url: str, timeout: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        log = health(url)["log"]
        assert isinstance(log, dict)
        if log["waiting_events"] == 0 and log["waiting_segments"] == 0:
            return time.perf_counter() - started
        time.sleep(0.02)
    raise SystemExit(f"the store did not catch up within {timeout} s")


def floor(work: list[bytes], per_batch: int, connections: int, max_seconds: float) -> Run:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", FLOOR_APP, str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the floor server did not start") from None
                time.sleep(0.05)
        return send_all(f"http://127.0.0.1:{port}", "x", work, per_batch, connections, max_seconds)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=500, help="events per request")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--no-floor", action="store_true", help="skip the transport floor")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    print(f"building {args.events:,} events in batches of {args.batch}…", flush=True)
    work = bodies(args.events, args.batch)
    size = sum(len(b) for b in work)
    print(f"  {size / 1e6:.0f} MB of JSON, {size / args.events:.0f} bytes per event")
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(tmp) / "ws")
        _, key = ws.create_key("write", source="bench")
        proc, url = start_server(ws)
        try:
            cpu0, loop0 = cpu_seconds(proc.pid), cpu_seconds(proc.pid, thread=proc.pid)
            run = send_all(url, key, work, args.batch, args.connections, args.max_seconds)
            catch_up = wait_flushed(url, 300)
            cpu1, loop1 = cpu_seconds(proc.pid), cpu_seconds(proc.pid, thread=proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        con = duckdb.connect(str(ws.db_path), read_only=True)
        stored = con.execute("SELECT count(*), count(DISTINCT uuid) FROM events").fetchone()
        con.close()
    assert stored is not None
    ok = stored[0] == stored[1] == run.events and run.errors == 0
    end_to_end = run.events / (run.seconds + catch_up)
    result = {
        "events": run.events, "requests": run.requests, "errors": run.errors,
        "batch": args.batch, "connections": args.connections, "cores": os.cpu_count(),
        "ack_events_per_s": round(run.rate), "p50_ms": round(run.percentile(0.50), 1),
        "p99_ms": round(run.percentile(0.99), 1), "catch_up_s": round(catch_up, 2),
        "end_to_end_events_per_s": round(end_to_end), "stored": stored[0], "check": ok,
    }  # fmt: skip
    print(f"Northstar  {run.rate:>10,.0f} events/s acknowledged (fsync'd) · "
          f"p50 {run.percentile(0.5):.1f} ms · p99 {run.percentile(0.99):.1f} ms per "
          f"{args.batch}-event request · {run.events:,} events in {run.seconds:.1f} s")  # fmt: skip
    print(f"           {end_to_end:>10,.0f} events/s end to end (store caught up "
          f"{catch_up:.1f} s after the last ack)")  # fmt: skip
    print(
        f"           stored {stored[0]:,} events, {stored[1]:,} distinct: "
        f"{'OK' if ok else 'MISMATCH'}"
    )
    if None not in (cpu0, cpu1, loop0, loop1) and run.events:
        assert cpu0 is not None and cpu1 is not None and loop0 is not None and loop1 is not None
        per_event = (cpu1 - cpu0) / run.events * 1e6
        loop = (loop1 - loop0) / run.events * 1e6
        result["server_cpu_us_per_event"] = round(per_event, 1)
        result["event_loop_cpu_us_per_event"] = round(loop, 1)
        print(f"           server CPU {per_event:.1f} µs per event, of which the event loop "
              f"{loop:.1f} µs (one core's worth: {1e6 / loop:,.0f} events/s)")  # fmt: skip
    if not args.no_floor:
        base = floor(work, args.batch, args.connections, args.max_seconds)
        result["floor_events_per_s"] = round(base.rate)
        result["floor_p50_ms"] = round(base.percentile(0.5), 1)
        result["floor_p99_ms"] = round(base.percentile(0.99), 1)
        print(
            f"floor      {base.rate:>10,.0f} events/s (uvicorn reading the body, no work) · "
            f"p50 {base.percentile(0.5):.1f} ms · p99 {base.percentile(0.99):.1f} ms"
        )
        print(f"ratio      {base.rate / run.rate:.2f}x (floor / Northstar)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if not ok:
        raise SystemExit("stored events do not match the acknowledged ones")


if __name__ == "__main__":
    main()
