"""Re-importing adds nothing; a failed or killed import leaves the store as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from northstar.workspace import Workspace
from tests.conftest import rows, write

EVENTS = """event,distinct_id,timestamp
click,u1,2024-01-01T10:00:00Z
click,u1,2024-01-01T10:00:00Z
click,u2,2024-01-01T11:00:00Z
"""


def test_reimport_same_file_imports_nothing_twice(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", EVENTS)
    first = ws.import_files("events", [path])
    # Two identical rows on different lines are two events.
    assert first.imported == 3
    second = ws.import_files("events", [path])
    assert (second.imported, second.duplicates) == (0, 3)
    # The same content under another name is the same events.
    third = ws.import_files("events", [write(tmp_path / "copy.csv", EVENTS)])
    assert third.imported == 0
    assert rows(ws, "SELECT count(*) FROM events") == [(3,)]


def test_events_dedupe_on_given_uuid(ws: Workspace, tmp_path: Path) -> None:
    text = "uuid,event,distinct_id,timestamp\nx1,a,u1,2024-01-01\nx1,a,u1,2024-01-01\nx2,a,u1,2024-01-01\n"
    summary = ws.import_files("events", [write(tmp_path / "e.csv", text)])
    assert (summary.imported, summary.duplicates) == (2, 1)


def test_keyed_tables_dedupe_and_replace(ws: Workspace, tmp_path: Path) -> None:
    v1 = write(
        tmp_path / "u1.csv", 'user_id,created_at,properties\nu1,2024-01-01,"{""plan"":""free""}"\n'
    )
    v2 = write(
        tmp_path / "u2.csv",
        'user_id,created_at,properties\nu1,2024-01-01,"{""plan"":""pro""}"\nu2,2024-01-02,{}\n',
    )
    ws.import_files("users", [v1])
    kept = ws.import_files("users", [v2])
    assert (kept.imported, kept.duplicates) == (1, 1)
    assert rows(ws, "SELECT properties->>'plan' FROM users WHERE user_id = 'u1'") == [("free",)]
    replaced = ws.import_files("users", [v2], replace=True)
    assert (replaced.imported, replaced.updated) == (0, 2)
    assert rows(ws, "SELECT properties->>'plan' FROM users WHERE user_id = 'u1'") == [("pro",)]
    assert rows(ws, "SELECT count(*) FROM users") == [(2,)]


def _snapshot(ws: Workspace) -> list[tuple[object, ...]]:
    return rows(
        ws,
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM _rejected_rows), "
        "(SELECT count(*) FROM _imports), (SELECT count(*) FROM _person_map)",
    )


MERGE_FILE = (
    "event,distinct_id,timestamp,properties\n"
    'buy,u3,2024-02-01T00:00:00Z,{}\n$identify,u3,2024-02-01,"{""$anon_distinct_id"":""a9""}"\n'
)


@pytest.mark.parametrize(
    ("step", "more"),
    [
        # The last step of an import, after its rows were appended and quarantined.
        (
            "_log_finish",
            "event,distinct_id,timestamp\nbuy,u3,2024-02-01T00:00:00Z\nbuy,null,2024-02-01\n",
        ),
        # A file with a merge event rebuilds the identity map after appending its rows.
        ("rebuild_person_map", MERGE_FILE),
    ],
)
def test_failure_midway_leaves_store_unchanged(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, more: str
) -> None:
    ws.import_files("events", [write(tmp_path / "base.csv", EVENTS)])
    before = _snapshot(ws)
    import northstar.ingest.importer as importer

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(importer, step, disk_full)
    with pytest.raises(OSError):
        ws.import_files("events", [write(tmp_path / "more.csv", more)])
    assert _snapshot(ws) == before


def test_killed_import_leaves_store_unchanged(ws: Workspace, tmp_path: Path) -> None:
    ws.import_files("events", [write(tmp_path / "base.csv", EVENTS)])
    before = _snapshot(ws)
    big = tmp_path / "big.csv"
    big.write_text(
        "event,distinct_id,timestamp\n"
        + "".join(f"e,u{i},2024-03-01T00:00:{i % 60:02d}Z\n" for i in range(5000))
    )
    # The child process dies by SIGKILL after the rows were inserted, before COMMIT.
    script = textwrap.dedent(
        f"""
        import os, signal
        import northstar.ingest.importer as importer
        from northstar.workspace import Workspace
        def die(store, summary):
            os.kill(os.getpid(), signal.SIGKILL)
        importer._log_finish = die
        Workspace({str(ws.path)!r}).import_files("events", [{str(big)!r}])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert _snapshot(ws) == before
    assert os.path.exists(ws.db_path)
