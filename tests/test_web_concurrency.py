"""Issue 17: reads run concurrently in the server — a slow page and a fast page requested
at the same time do not wait on each other (before, one store lock served them in turn)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import duckdb
import httpx
import pytest

from northstar.workspace import Workspace
from tests.server_helpers import RunningServer, running_server, server_workspace


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, RunningServer]]:
    """A workspace with 3 million events over a year, so that a year of daily MAU takes
    a while, served by a real server."""
    folder = tmp_path_factory.mktemp("busy")
    parquet = folder / "events.parquet"
    duckdb.sql(
        "SELECT 'e' || (i % 7) AS event, 'u' || (hash(i) % 150000) AS distinct_id, "
        "TIMESTAMP '2026-01-01' + to_seconds(CAST(hash(i * 7) % 31536000 AS BIGINT)) "
        "AS timestamp, 'm' || i AS uuid FROM range(3000000) t(i)"
    ).write_parquet(str(parquet))
    ws = server_workspace(folder / "ws")
    ws.import_files("events", [parquet])
    with running_server(ws) as server:
        yield ws, server


def timed(url: str, out: dict[str, float], name: str, key: str) -> None:
    started = time.monotonic()
    answer = httpx.get(url, timeout=300, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text[:300]
    out[name] = time.monotonic() - started


def test_a_slow_page_does_not_hold_up_a_fast_one(busy: tuple[Workspace, RunningServer]) -> None:
    ws, server = busy
    key = ws.create_key("read")[1]

    def slow_url(first_day: int) -> str:  # another range each time: no cached answer
        return (f"{server.url}/api/v1/query?metrics=mau&grain=day&start=2026-01-{first_day:02d}"
                "&end=2026-12-31")  # fmt: skip

    fast_url = server.url + "/api/v1/scorecard"  # reads the store too (its as-of)
    alone: dict[str, float] = {}
    timed(slow_url(1), alone, "slow", key)  # how long the slow page takes by itself
    assert alone["slow"] > 0.5, "the slow page must be slow for this test to mean anything"
    both: dict[str, float] = {}
    slow = threading.Thread(target=timed, args=(slow_url(2), both, "slow", key))
    slow.start()
    time.sleep(min(0.3, alone["slow"] / 4))
    timed(fast_url, both, "fast", key)
    slow.join()
    # the fast page answers while the slow one is still running, not after it
    assert both["fast"] < alone["slow"] / 3, (both, alone)
