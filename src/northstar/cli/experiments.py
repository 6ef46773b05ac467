"""``northstar experiments list|analyze|stats``: thin adapters (docs/experiments.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from northstar.cli.options import AsOfOpt, WorkspaceOpt, open_workspace
from northstar.errors import ExperimentError
from northstar.experiments.defaults import DEFAULT_SEQUENTIAL_TUNING

app = typer.Typer(
    help="A/B tests read from exposure events, with GrowthBook's statistics.",
    no_args_is_help=True,
)
Format = Annotated[str, typer.Option("--format", help="table|json")]
METRIC_HELP = (
    "converted:EVENT, count:EVENT, sum:EVENT:PROPERTY, or a per-user custom metric; "
    "repeat for several (the first decides, the others are guardrails)."
)


def _weights(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(w) for w in text.split(","))
    except ValueError:
        raise ExperimentError(
            f"--weights {text!r}: give numbers separated by commas, control first, e.g. 50,50"
        ) from None


@app.command("list")
def list_(workspace: WorkspaceOpt = None, as_of: AsOfOpt = None, fmt: Format = "table") -> None:
    """Experiments found in the events, with users per variation."""
    from northstar.cli import experiment_render as show

    show.check_format(fmt)
    found = open_workspace(workspace, as_of).experiments()
    show.experiment_list(found, fmt)


@app.command()
def analyze(
    experiment: Annotated[str, typer.Argument(help="The experiment's id (or feature flag key).")],
    metric: Annotated[list[str], typer.Option("--metric", help=METRIC_HELP)],
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    control: Annotated[
        str | None, typer.Option(help="The control variation (default: control, else 0).")
    ] = None,
    cuped: Annotated[
        bool, typer.Option("--cuped", help="Reduce variance with the 14 days before exposure.")
    ] = False,
    correction: Annotated[
        str, typer.Option(help="none|holm|bh: across metrics and variations.")
    ] = "none",
    sequential: Annotated[
        bool, typer.Option("--sequential", help="Always-valid results: safe to peek.")
    ] = False,
    sequential_tuning: Annotated[
        float, typer.Option(help="The total users the sequential test is tuned for.")
    ] = DEFAULT_SEQUENTIAL_TUNING,
    alpha: Annotated[float, typer.Option(help="Significance level.")] = 0.05,
    weights: Annotated[
        str | None, typer.Option(help="The planned split, control first, e.g. 50,50.")
    ] = None,
    fmt: Format = "table",
) -> None:
    """Results of an experiment on one or more metrics: effects, intervals, chance to win."""
    from northstar.cli import experiment_render as show
    from northstar.experiments.analysis import AnalyzeRequest

    show.check_format(fmt)
    request = AnalyzeRequest(
        experiment, tuple(metric), control=control, cuped=cuped, correction=correction,
        sequential=sequential, sequential_tuning=sequential_tuning, alpha=alpha,
        weights=_weights(weights),
    )  # fmt: skip
    result = open_workspace(workspace, as_of).analyze_experiment(request)
    show.experiment_result(result, fmt)


@app.command("stats")
def stats_(
    data: Annotated[Path, typer.Option("--data", help="Per-arm sufficient statistics (JSON).")],
    correction: Annotated[str, typer.Option(help="none|holm|bh")] = "none",
    sequential: Annotated[bool, typer.Option("--sequential")] = False,
    alpha: Annotated[float, typer.Option(help="Significance level.")] = 0.05,
    fmt: Format = "table",
) -> None:
    """Results from per-arm numbers alone (n, sum, sum_squares), no workspace needed."""
    from northstar.cli import experiment_render as show
    from northstar.experiments.analysis import from_statistics

    show.check_format(fmt)
    try:
        raw: Any = json.loads(data.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExperimentError(f"{data}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExperimentError(f"{data}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ExperimentError(f"{data}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not 0 < alpha < 1:
        raise ExperimentError(f"--alpha must be between 0 and 1, got {alpha}")
    result = from_statistics(raw, correction=correction, alpha=alpha, sequential=sequential)
    show.experiment_result(result, fmt)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="experiments")
