"""The real Segment and PostHog Python SDKs, pointed at a real `northstar serve` on
127.0.0.1, deliver events that DAU then counts per person (anonymous → identified
merges included); meanwhile `northstar query` keeps working (no lock error)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from posthog import Posthog
from segment.analytics import Client as SegmentClient

from northstar import Client
from tests.conftest import rows
from tests.server_helpers import cli, running_server, server_workspace


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def test_segment_and_posthog_sdks_deliver_and_dau_counts_merged_people(tmp_path: Path) -> None:
    ws = server_workspace(tmp_path / "ws")
    _, segment_key = ws.create_key("write", source="backend")
    _, posthog_key = ws.create_key("write", source="web")
    errors: list[object] = []
    with running_server(ws) as server:
        segment = SegmentClient(
            segment_key, host=server.url, on_error=lambda e, batch: errors.append(e)
        )
        # Day 5: anon-A browses, then signs up as alice (identify merges them); bob is known.
        segment.track(anonymous_id="anon-A", event="viewed_pricing", timestamp=at(5, 12))
        segment.identify(
            "alice", {"plan": "pro", "email": "a@x.io"}, anonymous_id="anon-A",
            timestamp=at(5, 12, 5),
        )  # fmt: skip
        segment.track("alice", "created_project", {"n": 1}, timestamp=at(5, 12, 10))
        segment.track("bob", "created_project", timestamp=at(5, 13))
        segment.page(
            "bob", name="Pricing", properties={"url": "https://x.io/p"}, timestamp=at(6, 9)
        )
        # Day 6: alice on her laptop (known) and on the old device (anonymous id only).
        segment.track(anonymous_id="anon-A", event="opened_app", timestamp=at(6, 12))
        segment.track("alice", "opened_app", timestamp=at(6, 12, 30))
        segment.flush()
        segment.shutdown()

        posthog = Posthog(posthog_key, host=server.url, on_error=lambda e, b: errors.append(e))
        # Day 5: ph-anon-C views a page, then becomes carol (alias); dave is known.
        posthog.capture("$pageview", distinct_id="ph-anon-C", timestamp=at(5, 14))
        posthog.alias(previous_id="ph-anon-C", distinct_id="carol", timestamp=at(5, 14, 5))
        posthog.capture("created_project", distinct_id="carol", timestamp=at(5, 14, 10))
        posthog.set(distinct_id="carol", properties={"plan": "team"}, timestamp=at(5, 14, 11))
        posthog.capture("$pageview", distinct_id="dave", timestamp=at(5, 15))
        # Day 6: carol's old anonymous id comes back.
        posthog.capture("$pageview", distinct_id="ph-anon-C", timestamp=at(6, 12))
        posthog.flush()
        posthog.shutdown()

        server.wait_flushed()
        # While the server runs, the CLI reads the same workspace.
        out = cli("query", "dau", "--from", "2026-01-05", "--to", "2026-01-06",
                  "--format", "json", "-w", str(ws.path))  # fmt: skip
        assert out.returncode == 0, out.stderr
        by_day = {r["period"]: r["value"] for r in json.loads(out.stdout)["rows"]}
        # By hand: day 5 = alice (anon-A + alice), bob, carol (ph-anon-C + carol), dave;
        # day 6 = bob ($pageview), alice (both ids), carol (old anonymous id).
        assert by_day == {"2026-01-05": 4, "2026-01-06": 3}
    assert errors == []
    frame = ws.query("dau", start="2026-01-05", end="2026-01-06", use_cache=False)
    assert list(frame["value"]) == [4, 3]
    assert rows(ws, "SELECT count(*) FROM events") == [(13,)]
    person = dict(rows(ws, "SELECT DISTINCT distinct_id, person_id FROM person_events"))
    assert person["anon-A"] == person["alice"] == "alice"  # identify: the known id wins
    assert person["ph-anon-C"] == person["carol"]  # alias joins them (one person)
    assert len({person[i] for i in ("alice", "bob", "carol", "dave")}) == 4
    users = dict(rows(ws, "SELECT user_id, properties->>'plan' FROM users ORDER BY 1"))
    assert users == {"alice": "pro", "carol": "team"}
    sources = dict(
        rows(
            ws,
            """SELECT distinct_id, any_value(properties->>'$."$source"') FROM events GROUP BY 1""",
        )
    )
    assert sources["bob"] == "backend" and sources["dave"] == "web"


def test_northstar_python_sdk_delivers_batches_and_flushes_on_exit(tmp_path: Path) -> None:
    ws = server_workspace(tmp_path / "ws")
    _, key = ws.create_key("write", source="python")
    with running_server(ws) as server:
        client = Client(key, server.url, batch_size=50)
        client.track("signed_up", anonymous_id="a1", timestamp=at(7, 10))
        client.identify("u1", {"plan": "pro"}, anonymous_id="a1", timestamp=at(7, 10, 1))
        client.page("Home", user_id="u1", timestamp=at(7, 10, 2))
        client.alias("a2", "u1", timestamp=at(7, 10, 3))
        for i in range(120):
            client.track("clicked", user_id="u1", properties={"i": i}, timestamp=at(7, 11))
        assert client.flush(timeout=30)
        client.shutdown()
        assert (client.sent, client.failed, client.dropped) == (124, 0, 0)

        # A script that never calls flush: the atexit hook sends its events.
        script = tmp_path / "app.py"
        script.write_text(
            "import northstar\n"
            f"c = northstar.Client({key!r}, {server.url!r}, flush_interval=30)\n"
            "for i in range(10):\n"
            "    c.track('exited', user_id='u9', properties={'i': i})\n"
        )
        import subprocess
        import sys

        done = subprocess.run([sys.executable, str(script)], timeout=60, check=False)
        assert done.returncode == 0
        server.wait_flushed()
    assert rows(ws, "SELECT event, count(*) FROM events GROUP BY 1 ORDER BY 1") == [
        ("$create_alias", 1), ("$identify", 1), ("$pageview", 1), ("clicked", 120),
        ("exited", 10), ("signed_up", 1),
    ]  # fmt: skip
    assert rows(ws, "SELECT person_id FROM person_events WHERE event = 'signed_up'") == [("u1",)]
