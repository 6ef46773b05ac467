"""Extension points. Northstar's own built-ins register through the same hooks as a
third-party plugin (pluggy, as in datasette): a module with ``@hookimpl`` functions,
listed in :data:`DEFAULT_PLUGINS` for the built-ins or declared by an installed package
under the ``northstar`` entry-point group::

    [project.entry-points.northstar]
    my_plugin = "my_package.northstar_plugin"

Hooks (each returns a list; the results of every plugin are joined):

- ``northstar_metrics()`` — :class:`~northstar.metrics.spec.MetricSpec` objects added to the
  built-in catalog;
- ``northstar_metric_kinds()`` — :class:`~northstar.metrics.extensions.MetricKind` objects: the
  ``kind:`` values a ``metrics/*.yaml`` metric may use beyond the built-in simple,
  rolling, ratio and derived ones;
- ``northstar_alert_channels()`` — :class:`AlertChannel` objects: where alerts can be
  delivered (``kind`` names it in ``alerts.yaml``).

This module depends on nothing else in Northstar, so every layer can ask it; plugins
import the layers they extend, never the other way round.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("northstar")
hookimpl = pluggy.HookimplMarker("northstar")

# The built-ins, registered like any plugin (by name: imports keep pointing one way).
DEFAULT_PLUGINS: tuple[str, ...] = ("northstar.analyses.plugin",)


@dataclass(frozen=True)
class AlertChannel:
    """A way to deliver an alert: ``deliver(settings, message)`` sends it (raising on
    failure); ``settings`` is the channel's block from ``alerts.yaml``."""

    kind: str
    deliver: Callable[[Mapping[str, Any], Mapping[str, Any]], None]
    description: str = ""


class Specs:
    @hookspec
    def northstar_metrics(self) -> list[Any]:  # type: ignore[empty-body]
        """Metric specs to add to the catalog."""

    @hookspec
    def northstar_metric_kinds(self) -> list[Any]:  # type: ignore[empty-body]
        """Metric kinds for ``metrics/*.yaml``."""

    @hookspec
    def northstar_alert_channels(self) -> list[AlertChannel]:  # type: ignore[empty-body]
        """Alert delivery channels."""


@functools.cache
def plugins() -> pluggy.PluginManager:
    """The plugin manager: the built-ins, then every installed ``northstar`` entry point."""
    pm = pluggy.PluginManager("northstar")
    pm.add_hookspecs(Specs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    pm.load_setuptools_entrypoints("northstar")
    return pm


def gathered(hook: str) -> list[Any]:
    """Every plugin's answer to ``hook``, joined (in registration order: built-ins first)."""
    results = getattr(plugins().hook, hook)()
    return [item for answer in reversed(results) for item in answer]
