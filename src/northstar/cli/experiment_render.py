"""Terminal and JSON output of experiment lists and results."""

from __future__ import annotations

import json
import sys

from rich import box
from rich.table import Table
from rich.text import Text

from northstar.cli.render import console, freshness
from northstar.errors import QueryArgumentError
from northstar.experiments.analysis import ExperimentList, ExperimentResult

FORMATS = ("table", "json")


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise QueryArgumentError(f"unknown format {fmt!r}; use table or json")


def _json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def experiment_list(found: ExperimentList, fmt: str) -> None:
    if fmt == "json":
        _json(found.to_dict())
        return
    if not found.experiments:
        console.print(
            "No experiments yet: exposures are Segment 'Experiment Viewed' or PostHog "
            "'$feature_flag_called' events."
        )
    else:
        table = Table(title="Experiments", title_justify="left", box=box.SIMPLE_HEAD)
        for col in ("experiment", "variations (users)", "excluded", "first exposure", "last"):
            table.add_column(col)
        for e in found.experiments:
            arms = ", ".join(f"{v} ({n:,})" for v, n in e.variations.items())
            table.add_row(
                e.key, arms, f"{e.excluded_users:,}",
                (e.first_exposure or "–")[:10], (e.last_exposure or "–")[:10],
            )  # fmt: skip
        console.print(table)
    freshness(found.as_of)


def _pct(x: float | None, signed: bool = True) -> str:
    if x is None:
        return "–"
    return f"{x:+.1%}" if signed else f"{x:.1%}"


def _num(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:,.3g}"


def _p(x: float | None) -> str:
    if x is None:
        return "–"
    return "<0.0001" if x < 0.0001 else f"{x:.4f}"


def experiment_result(result: ExperimentResult, fmt: str) -> None:
    if fmt == "json":
        _json(result.to_dict())
        return
    title = f"Experiment {result.experiment}" if result.experiment else "Experiment"
    srm = result.srm
    split = ", ".join(f"{v} {n:,}" for v, n in srm.observed.items())
    console.print(f"[bold]{title}[/]  control: {result.control} · users: {split}", highlight=False)
    if srm.mismatch:
        console.print(
            f"[red]Sample ratio mismatch (p = {srm.p_value:.2g}): the split is not the planned "
            "one, so the results cannot be trusted.[/]",
            highlight=False,
        )
    if result.excluded_users:
        console.print(
            f"{result.excluded_users:,} users saw more than one variation and are excluded.",
            highlight=False,
        )
    metrics = list(dict.fromkeys(r.metric for r in result.results))
    for metric in metrics:
        table = Table(title=metric, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("variation", "users", "mean", "control", "change", "95% CI", "p", "win"):
            if col == "variation":
                table.add_column(col, overflow="fold")
            else:
                table.add_column(col, justify="right", no_wrap=True)
        for r in (r for r in result.results if r.metric == metric):
            p = r.p_value_adjusted if result.correction != "none" else r.relative.p_value
            lo, hi = r.relative.ci
            ci = "–" if lo is None or hi is None else f"{lo:+.1%}…{hi:+.1%}"
            significant = p is not None and p < result.alpha
            good = r.relative.effect is not None and (r.relative.effect > 0) != r.inverse
            style = ("green" if good else "red") if significant else ""
            table.add_row(
                r.variation, f"{r.n:,}", _num(r.mean), _num(r.control_mean),
                Text(_pct(r.relative.effect), style=style), ci, _p(p),
                _pct(r.bayesian.chance_to_win, signed=False),
            )  # fmt: skip
        console.print(table)
    notes = sorted({f"{r.metric}: {r.note}" for r in result.results if r.note})
    for note in notes:
        console.print(f"[dim]{note}[/]", highlight=False)
    g = result.guidance
    colour = {"ship": "green", "stop": "red"}.get(str(g.get("decision")), "yellow")
    console.print(f"[bold {colour}]{str(g.get('decision', '')).upper()}[/]: {g.get('reason', '')}",
                  highlight=False)  # fmt: skip
    method = "sequential (always valid)" if result.sequential else "fixed-horizon"
    correction = "" if result.correction == "none" else f", p adjusted ({result.correction})"
    console.print(f"[dim]Welch t-test, {method}, alpha {result.alpha}{correction}[/]",
                  highlight=False)  # fmt: skip
    freshness(result.as_of)
