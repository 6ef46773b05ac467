"""The CLI as a user runs it: a real process, one-line errors, non-zero exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from northstar.cli.app import main; main()", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_init_import_tables_sql(tmp_path: Path) -> None:
    assert run("init", "w", cwd=tmp_path).returncode == 0
    write(tmp_path / "e.csv", "event,distinct_id,timestamp\nclick,u1,2024-01-01\nclick,null,x\n")
    out = run("import", "events", "e.csv", "-w", "w", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "1 imported" in out.stdout and "1 rejected" in out.stdout
    out = run("sql", "SELECT count(*) AS n FROM events", "--format", "csv", "-w", "w", cwd=tmp_path)
    assert out.stdout.splitlines() == ['"n"', "1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tables", "-w", "nowhere"), "is not a Northstar workspace"),
        (("import", "nosuch", "e.csv", "-w", "w"), "unknown table 'nosuch'"),
        (("import", "events", "missing.csv", "-w", "w"), "missing.csv: no such file"),
        (("sql", "DROP TABLE events", "-w", "w"), "query failed"),
        (("import", "events", "e.csv", "--map", "oops", "-w", "w"), "must look like"),
    ],
)
def test_user_mistakes_are_one_line_without_traceback(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    run("init", "w", cwd=tmp_path)
    write(tmp_path / "e.csv", "event,distinct_id,timestamp\nclick,u1,2024-01-01\n")
    out = run(*args, cwd=tmp_path)
    assert out.returncode != 0
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
