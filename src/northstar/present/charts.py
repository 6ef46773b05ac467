"""One chart module for the web and the reports (docs/reports.md#charts).

A chart is a spec in Chart.js' shape — ``{"type", "data": {"labels", "datasets"}}`` with
each dataset's ``label``, ``data`` (None: no data, drawn as a gap), ``color`` and optional
``borderDash`` / ``fill`` — built once by the functions here. The web hands the spec to
Chart.js in the browser; reports and e-mails render the same spec server-side with
matplotlib (:func:`render_png`, :func:`render_svg`), so a chart in an e-mail looks like
the one on the page: same series, same colours, same dashes, same gaps.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Sequence
from typing import Any

ACCENT = "#3b5bdb"  # the metric itself
PREVIOUS = "#adb5bd"  # the comparison period, dashed
PLAN = "#2b8a3e"
TARGET = "#c92a2a"
FORECAST = "#748ffc"
INK = "#1d2330"
MUTED = "#555d6d"
GRID = "#e3e6ee"
_lock = threading.Lock()  # matplotlib's pyplot state is not thread-safe


def dataset(label: str, data: list[Any], color: str, **extra: Any) -> dict[str, Any]:
    """A line of a chart spec (no point markers unless ``pointRadius`` is given)."""
    return {"type": "line", "label": label, "data": data, "color": color, "pointRadius": 0,
            **extra}  # fmt: skip


def kpi_chart(
    title: str, labels: Sequence[str], values: Sequence[float | None],
    previous: Sequence[float | None] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A KPI over its periods, with the comparison period dashed (the explorer's chart of
    a metric with ``compare=previous``)."""
    datasets = [dataset(title, list(values), ACCENT, pointRadius=2, tension=0.2)]
    if previous is not None:
        datasets.append(dataset("previous period", list(previous), PREVIOUS, borderDash=[4, 4]))
    return {"type": "line", "data": {"labels": list(labels), "datasets": datasets},
            "options": {"plugins": {"legend": {"position": "bottom"}}}}  # fmt: skip


def _values(data: Sequence[Any]) -> list[float]:
    out = []
    for v in data:
        try:
            number = float(v)
        except (TypeError, ValueError):
            number = math.nan
        out.append(number if math.isfinite(number) else math.nan)
    return out


def _figure(spec: dict[str, Any], width: float, height: float, unit_format: Any = None) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.add_subplot()
    labels = [str(x) for x in spec["data"]["labels"]]
    xs = list(range(len(labels)))
    for ds in spec["data"]["datasets"]:
        ys = _values(ds.get("data", []))
        color = ds.get("color") or ACCENT
        dash = ds.get("borderDash")
        style: Any = (0, tuple(dash)) if dash else "-"
        if spec.get("type") == "bar" and ds.get("type") != "line":
            ax.bar(xs, ys, color=color, label=ds.get("label"))
            continue
        marker = "o" if ds.get("pointRadius") else None
        width = float(ds.get("borderWidth") or 2) or 0.01
        ax.plot(xs[: len(ys)], ys, color=color, linestyle=style, marker=marker, markersize=3,
                linewidth=width, label=ds.get("label"))  # fmt: skip
    step = max(1, math.ceil(len(labels) / 7))
    ax.set_xticks(xs[::step], [x[:10] for x in labels[::step]], fontsize=8, color=MUTED)
    ax.tick_params(axis="y", labelsize=8, colors=MUTED)
    if unit_format is not None:
        from matplotlib.ticker import FuncFormatter

        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: unit_format(v)))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(GRID)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    if len(spec["data"]["datasets"]) > 1:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=4, fontsize=8,
                  frameon=False)  # fmt: skip
    fig.tight_layout()
    return fig


def warm_up() -> None:
    """Load the chart renderer and its fonts (about half a second, once per process), so
    that the first report sent or previewed after a server starts does not wait for it."""
    render_png({"type": "line", "data": {"labels": ["a", "b"],
                                         "datasets": [dataset("w", [1, 2], ACCENT)]}})  # fmt: skip


def render_png(
    spec: dict[str, Any], *, width: float = 6.0, height: float = 2.4, dpi: int = 160,
    unit_format: Any = None,
) -> bytes:  # fmt: skip
    """The chart as a PNG (``dpi`` 160: crisp on high-density screens and in print)."""
    with _lock:
        fig = _figure(spec, width, height, unit_format)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=dpi)
    return out.getvalue()


def render_svg(
    spec: dict[str, Any], *, width: float = 6.0, height: float = 2.4, unit_format: Any = None
) -> str:
    """The chart as SVG text (vectors, for the PDF)."""
    with _lock:
        fig = _figure(spec, width, height, unit_format)
        out = io.StringIO()
        fig.savefig(out, format="svg")
    return out.getvalue()
