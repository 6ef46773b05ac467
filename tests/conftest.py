from __future__ import annotations

import os
from pathlib import Path

import pytest

from northstar.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "ws", timezone="Europe/Paris")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def rows(ws: Workspace, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r.values()) for r in ws.sql(sql).to_pylist()]


# The day main's CI went red: long after every fixture's data (and the demo's).
AFTER_THE_DATA = "2026-12-05"


# The machine's day, as `make test` moves it (NORTHSTAR_TODAY set before pytest starts):
# the modules below that run on the machine's clock run on that day instead.
MACHINE_DAY = os.environ.get("NORTHSTAR_TODAY")

# Modules about the live ingestion path: they measure real durations and compare what the
# real SDKs send with what is stored, so they run on the machine's clock (not on a date).
REAL_CLOCK = {"test_ingest_server", "test_ingest_crash", "test_ingest_bench", "test_ingest_sdks",
              "test_ingest_fuzz", "test_ingest_log", "test_sdk", "test_web_access",
              "test_browser_sdks", "test_ingest_hardening", "test_ingest_browser"}  # fmt: skip


@pytest.fixture(autouse=True)
def after_the_data(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs on a set day, after every fixture's data (a test that needs another
    day sets it; none reads the calendar), so the suite passes on any day."""
    if request.module.__name__.rsplit(".", 1)[-1] in REAL_CLOCK:
        if MACHINE_DAY:  # the machine's clock, moved by `make test`
            monkeypatch.setenv("NORTHSTAR_TODAY", MACHINE_DAY)
        else:
            monkeypatch.delenv("NORTHSTAR_TODAY", raising=False)
    else:
        monkeypatch.setenv("NORTHSTAR_TODAY", AFTER_THE_DATA)
