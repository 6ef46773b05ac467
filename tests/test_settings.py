"""northstar.yaml: defaults written on init, mistakes reported on one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from northstar.errors import SettingsError, WorkspaceError
from northstar.settings import load_settings
from northstar.store import Store
from northstar.store.migrations import LATEST_VERSION
from northstar.workspace import Workspace


def test_init_writes_defaults_that_load_back(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w", name="Acme", currency="EUR")
    loaded = load_settings(ws.path / "northstar.yaml")
    assert (loaded.name, loaded.currency, loaded.timezone, loaded.week_start) == (
        "Acme", "EUR", "UTC", "monday",
    )  # fmt: skip
    assert loaded.sessions.timeout_minutes == 30


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("timezone: Mars/Base\n", "setting 'timezone': unknown time zone 'Mars/Base'"),
        ("currency: euro\n", "setting 'currency': currency 'euro' is not a 3-letter"),
        ("revenue:\n  churn_recognition: sometimes\n", "setting 'revenue.churn_recognition'"),
        ("sesions: {}\n", "setting 'sesions': not a known setting"),
        ("name: [unclosed\n", "is not valid YAML at line"),
    ],
)
def test_bad_setting_is_one_clear_line(tmp_path: Path, yaml_text: str, message: str) -> None:
    ws = Workspace.init(tmp_path / "w")
    (ws.path / "northstar.yaml").write_text(yaml_text)
    with pytest.raises(SettingsError, match=message.replace("[", r"\[")) as err:
        Workspace(ws.path)
    assert "\n" not in str(err.value)


def test_workspace_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Workspace.init(tmp_path / "w")
    monkeypatch.setenv("NORTHSTAR_WORKSPACE", str(tmp_path / "w"))
    assert Workspace().path == (tmp_path / "w").resolve()


def test_migrations_are_recorded_and_reapplied_only_once(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w")
    with ws.store() as store:
        assert store.schema_version() == LATEST_VERSION
    with ws.store() as store:  # opening again applies nothing new
        count = store.execute("SELECT count(*) FROM _schema_migrations").fetchone()
        assert count == (LATEST_VERSION,)


def test_newer_workspace_is_refused(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w")
    with ws.store() as store:
        store.execute("INSERT INTO _schema_migrations VALUES (999, 'future', now())")
    with pytest.raises(WorkspaceError, match="newer Northstar"):
        Store(ws.db_path)
