from __future__ import annotations

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
