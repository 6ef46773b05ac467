"""Documentation cannot fall behind the code: every setting and column is documented."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from northstar.settings import Settings
from northstar.store.schema import TABLES

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _setting_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, field in model.model_fields.items():
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            paths += _setting_paths(sub, f"{prefix}{name}.")
        else:
            paths.append(prefix + name)
    return paths


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text()
    missing = [p for p in _setting_paths(Settings) if f"`{p}`" not in text]
    assert missing == []


def test_every_setting_has_a_description() -> None:
    def walk(model: type[BaseModel]) -> list[str]:
        out = []
        for name, field in model.model_fields.items():
            if not field.description:
                out.append(name)
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                out += walk(field.annotation)
        return out

    assert walk(Settings) == []


def test_every_table_and_column_is_documented() -> None:
    text = (DOCS / "data-model.md").read_text()
    for spec in TABLES.values():
        assert f"## `{spec.name}`" in text
        for col in spec.columns:
            assert f"| `{col.name}` | {col.kind.value} |" in text, (spec.name, col.name)


def test_kpi_catalog_doc_is_generated_from_the_registry() -> None:
    from northstar.metrics.catalog_doc import catalog_markdown

    path = Path(__file__).parent.parent / "docs" / "kpi-catalog.md"
    assert path.read_text(encoding="utf-8") == catalog_markdown(), (
        "docs/kpi-catalog.md is stale: python -m northstar.metrics.catalog_doc > docs/kpi-catalog.md"
    )
