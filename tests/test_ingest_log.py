"""The ingestion log: group commit, torn tails, damaged lines, idempotent loading, and the
store's lock wait that lets the flusher and commands take turns."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from northstar.errors import ServerError, StoreBusyError
from northstar.ingest.live_log import list_segments, load_segments, pending, repair_tail
from northstar.ingest.tracking import Batch, segment_messages
from northstar.server.log import IngestLog
from northstar.store.connection import Store
from northstar.workspace import Workspace
from tests.conftest import rows


def _lines(n: int, start: int = 0, user: str = "u") -> bytes:
    batch = Batch(received=datetime(2026, 2, 1, 12, tzinfo=UTC), source="t", label="test")
    msgs = [{"type": "track", "event": "e", "userId": user, "messageId": f"m{start + i}"}
            for i in range(n)]  # fmt: skip
    return b"".join(segment_messages(msgs, batch).lines)


def test_concurrent_appends_share_fsyncs_and_survive_reopening(tmp_path: Path) -> None:
    log = IngestLog(tmp_path / "log")
    log.open()
    syncs = 0
    import northstar.server.log as module

    real = module._sync

    def counting(fd: int) -> None:
        nonlocal syncs
        syncs += 1
        real(fd)

    module._sync = counting
    try:

        async def burst() -> None:
            await asyncio.gather(*(log.append(_lines(1, i), 1) for i in range(500)))

        asyncio.run(burst())
    finally:
        module._sync = real
    assert syncs < 500  # group commit: many requests per fsync
    assert log.waiting_events() == 500
    log.close()
    with pytest.raises(ServerError, match="another 'northstar serve'"):
        first, second = IngestLog(tmp_path / "log"), IngestLog(tmp_path / "log")
        first.open()
        try:
            second.open()
        finally:
            first.close()
    assert pending(tmp_path / "log").events == 500


def test_a_torn_last_line_is_cut_and_the_rest_loads(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    folder = tmp_path / "ws" / "ingest-log"
    folder.mkdir()
    seg = folder / "0000000000000001.ndjson"
    whole = _lines(3)
    seg.write_bytes(whole + whole[: len(whole) // 5])  # died inside write(): half a line
    assert repair_tail(seg) == len(whole) // 5
    assert seg.read_bytes() == whole
    with ws.store() as store:
        result = load_segments(store, [seg])
    assert (result.events, result.rejected) == (3, 0)
    assert not seg.exists()


def test_loading_a_segment_twice_changes_nothing(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    folder = tmp_path / "ws" / "ingest-log"
    folder.mkdir()
    batch = Batch(received=datetime(2026, 2, 1, 12, tzinfo=UTC), source="t", label="POST test")
    msgs = [
        {"type": "identify", "userId": "k", "anonymousId": "a", "traits": {"plan": "pro"},
         "messageId": "i1"},
        {"type": "identify", "userId": "k", "traits": {"seats": 3}, "messageId": "i2"},
        {"type": "track", "event": "x", "messageId": "bad"},
    ]  # fmt: skip
    data = b"".join(segment_messages(msgs, batch).lines)
    for _ in range(2):  # a crash after the store's commit, before the segment was deleted
        seg = folder / "0000000000000001.ndjson"
        seg.write_bytes(data)
        with ws.store() as store:
            load_segments(store, [seg])
    assert rows(ws, "SELECT count(*) FROM events") == [(2,)]
    assert rows(ws, "SELECT user_id, properties FROM users") == [("k", '{"plan":"pro","seats":3}')]
    assert rows(ws, "SELECT count(*) FROM _rejected_rows") == [(1,)]
    assert rows(ws, "SELECT person_id FROM person_events") == [("k",), ("k",)]


def test_damaged_lines_go_to_the_quarantine_not_the_bin(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    folder = tmp_path / "ws" / "ingest-log"
    folder.mkdir()
    seg = folder / "0000000000000001.ndjson"
    seg.write_bytes(_lines(2) + b"\x00\x00\x00garbage\n" + _lines(1, 5))
    with ws.store() as store:
        result = load_segments(store, [seg])
    assert (result.events, result.rejected) == (3, 1)
    assert rows(ws, "SELECT line, reason FROM _rejected_rows") == [
        (3, "unreadable line in the ingestion log (damaged on disk before it was acknowledged)")
    ]


def test_users_traits_merge_across_loads(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    folder = tmp_path / "ws" / "ingest-log"
    folder.mkdir()
    batch = Batch(received=datetime(2026, 2, 1, 12, tzinfo=UTC), source="t", label="x")
    first = [{"type": "identify", "userId": "k", "traits": {"plan": "free", "country": "FR",
              "createdAt": "2026-01-03T00:00:00Z"}}]  # fmt: skip
    second = [{"type": "identify", "userId": "k", "traits": {"plan": "pro", "country": None,
               "createdAt": "2026-01-20T00:00:00Z"}}]  # fmt: skip
    for n, msgs in enumerate((first, second), start=1):
        seg = folder / f"{n:016d}.ndjson"
        seg.write_bytes(b"".join(segment_messages(msgs, batch).lines))
        with ws.store() as store:
            load_segments(store, [seg])
    (user,) = rows(ws, "SELECT created_at, properties FROM users")
    assert user[0] == datetime(2026, 1, 3, tzinfo=UTC)  # the first sign-up time stays
    assert orjson.loads(str(user[1])) == {"plan": "pro", "createdAt": "2026-01-20T00:00:00Z"}
    assert list_segments(folder) == []


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def _hold(db: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def test_opening_the_store_waits_for_another_process_then_gives_up(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    holder = _hold(ws.db_path, 1.0)
    started = time.monotonic()
    with Store(ws.db_path, read_only=True, lock_wait=20) as store:  # waits its turn
        assert store.execute("SELECT count(*) FROM events").fetchone() == (0,)
    assert time.monotonic() - started >= 0.3
    holder.wait(10)
    holder = _hold(ws.db_path, 5.0)
    try:
        with pytest.raises(StoreBusyError, match="stayed in use by another process for 0.3 s"):
            Store(ws.db_path, lock_wait=0.3)
    finally:
        holder.kill()
        holder.wait(10)
