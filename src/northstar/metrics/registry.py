"""The one registry of metrics: the built-in catalog plus the workspace's YAML metrics."""

from __future__ import annotations

import difflib
import functools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from northstar import hooks
from northstar.errors import MetricDefinitionError, UnknownMetricError
from northstar.metrics.spec import MetricSpec


def builtin_metrics() -> list[MetricSpec]:
    """Every catalog metric, in catalog order."""
    return list(_builtins().values())


@functools.cache
def _builtins() -> dict[str, MetricSpec]:
    """The catalog by id, gathered once per process (specs are frozen; every query
    builds a registry)."""
    from northstar.metrics.catalog import CATALOG

    # the catalog, then what plugins add (the analyses' behaviour and session metrics)
    specs = [*CATALOG, *hooks.gathered("northstar_metrics")]
    index = Registry()
    index.add_all(specs)
    return index.metrics


# The custom metrics of a folder, kept while none of its files changes (every query builds
# a registry; parsing the YAML each time cost ~20 ms a query).
_CUSTOM: dict[tuple[object, ...], tuple[list[MetricSpec], list[str]]] = {}
_CUSTOM_LOCK = threading.Lock()


def _custom(folder: Path) -> tuple[list[MetricSpec], list[str]]:
    from northstar.metrics.yaml_specs import load_folder

    files = sorted(folder.iterdir())
    key = (str(folder), *((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files))
    with _CUSTOM_LOCK:
        known = _CUSTOM.get(key)
    if known is not None:
        return list(known[0]), list(known[1])
    specs, problems = load_folder(folder, set(_builtins()))
    with _CUSTOM_LOCK:
        if len(_CUSTOM) > 64:
            _CUSTOM.clear()
        _CUSTOM[key] = (list(specs), list(problems))
    return list(specs), list(problems)


@dataclass
class Registry:
    metrics: dict[str, MetricSpec] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # broken custom metrics, one line each

    @classmethod
    def build(cls, custom_folder: Path | None = None) -> Registry:
        """Built-ins, then the custom metrics of ``custom_folder`` (``metrics/*.yaml``).

        A broken custom metric is recorded in ``problems`` and left out; the others load.
        """
        registry = cls(dict(_builtins()))
        if custom_folder is not None and custom_folder.is_dir():
            specs, problems = _custom(custom_folder)
            registry.problems.extend(problems)
            registry.add_all(specs)
        return registry

    def add_all(self, specs: Iterable[MetricSpec]) -> None:
        for spec in specs:
            if spec.id in self.metrics:
                raise MetricDefinitionError(f"metric {spec.id!r} is defined twice")
            self.metrics[spec.id] = spec

    def get(self, metric_id: str) -> MetricSpec:
        try:
            return self.metrics[metric_id]
        except KeyError:
            pass
        close = difflib.get_close_matches(metric_id, list(self.metrics), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        broken = [p for p in self.problems if f"metric {metric_id!r}" in p]
        if broken:
            raise UnknownMetricError(broken[0])
        raise UnknownMetricError(
            f"unknown metric {metric_id!r}{hint} ('northstar metrics list' shows them all)"
        )

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.metrics.values())

    def __len__(self) -> int:
        return len(self.metrics)
