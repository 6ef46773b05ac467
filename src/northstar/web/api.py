"""The JSON read API under ``/api/v1`` (read or admin key): what the pages show, as data.

Every route calls one Workspace method and returns its result's plain-data form (the
same JSON as the CLI's ``--format json``). Errors: 400 with ``{"error", "message"}``
for a bad parameter, 401/403 without a read or admin key.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from northstar.errors import QueryArgumentError
from northstar.experiments.analysis import AnalyzeRequest
from northstar.explain.service import ExplainRequest
from northstar.goals.scorecard import kpi_row, to_dict
from northstar.metrics import output
from northstar.store.freshness import freshness_headers
from northstar.web.runtime import call, read_grant, workspace

router = APIRouter(prefix="/api/v1", tags=["read API"], dependencies=[Depends(read_grant)])


def _metric(spec: Any) -> dict[str, Any]:
    return {
        "id": spec.id, "title": spec.title, "description": spec.description,
        "formula": spec.formula, "unit": spec.unit.value, "direction": spec.direction.value,
        "category": spec.category.value, "perspective": spec.perspective.value,
        "origin": spec.origin,
    }  # fmt: skip


@router.get("/metrics", summary="The metric catalog")
def metrics(request: Request) -> list[dict[str, Any]]:
    """Built-in metrics and this workspace's custom metrics."""
    return [_metric(s) for s in workspace(request).registry().metrics.values()]


@router.get("/metrics/{metric_id}", summary="One metric's definition")
def metric(request: Request, metric_id: str) -> dict[str, Any]:
    return _metric(workspace(request).registry().get(metric_id))


@router.get("/query", summary="Metric values by period", response_model=None)
def query(
    request: Request,
    metrics: str = Query(description="comma-separated metric ids, e.g. dau,mau"),
    grain: str = "day",
    start: str | None = None,
    end: str | None = None,
    by: str | None = None,
    where: str | None = None,
    compare: str | None = Query(None, description="previous or year"),
    format: str = Query("json", description="json or csv"),
) -> list[dict[str, Any]] | Response:
    """One object per metric — ``metric``, ``grain``, ``unit``, ``from``, ``to``, ``by``
    and ``rows`` of ``period``, breakdown keys, ``value``, ``complete`` (and ``previous``,
    ``change``, ``change_pct`` with ``compare``): the contract of ``northstar query
    --format json`` (docs/metrics.md#output). ``format=csv``: the rows as CSV."""
    ws = workspace(request)
    if format not in ("json", "csv"):
        raise QueryArgumentError(f"format {format!r} is not one of json|csv")
    ids = [m.strip() for m in metrics.split(",") if m.strip()]
    by_list = [b.strip() for b in by.split(",") if b.strip()] if by else None
    result = call(
        request, ws.run_query, ids, grain=grain, start=start, end=end, by=by_list, where=where,
        compare=compare,
    )  # fmt: skip
    if format == "csv":
        name = f"{'-'.join(ids)}-{grain}.csv"
        return Response(
            output.to_csv(result), media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"',
                     **freshness_headers(result.as_of)},
        )  # fmt: skip
    return output.to_objects(result, ws.registry())


@router.get("/scorecard", summary="The balanced scorecard")
def scorecard(request: Request) -> dict[str, Any]:
    """Objectives by perspective, each KPI's current value, target, progress, status and
    P(hit) (the JSON of ``northstar scorecard --format json``)."""
    ws = workspace(request)
    return to_dict(call(request, ws.scorecard))


@router.get("/goals", summary="Objectives and goals as stored")
def goals(request: Request) -> dict[str, Any]:
    """``goals.yaml``: objectives and goals with their revision history."""
    return workspace(request).goal_book().model_dump(mode="json")


@router.get("/goals/{goal_id}", summary="Where one goal stands")
def goal(request: Request, goal_id: str) -> dict[str, Any]:
    """Current value, progress, plan, P(hit) and status of a goal."""
    ws = workspace(request)
    return kpi_row(call(request, ws.track_goal, goal_id), ws.settings.currency)


@router.get("/analyses/retention", summary="Retention table")
def retention(
    request: Request,
    start_event: str = "$active",
    return_event: str = "$active",
    period: str = "week",
    periods: int = 8,
    type: str = "recurring",
    cumulative: bool = False,
    start: str | None = None,
    end: str | None = None,
) -> dict[str, Any]:
    ws = workspace(request)
    result = call(
        request, ws.retention, start_event, return_event, period=period, periods=periods,
        type=type, cumulative=cumulative, start=start, end=end,
    )  # fmt: skip
    return result.to_dict()


@router.get("/analyses/funnel", summary="Funnel")
def funnel(
    request: Request,
    steps: str = Query(description="comma-separated steps, e.g. signup,project_created"),
    window: str = "14d",
    mode: str = "ordered",
    start: str | None = None,
    end: str | None = None,
) -> dict[str, Any]:
    ws = workspace(request)
    names = [s.strip() for s in steps.split(",") if s.strip()]
    result = call(request, ws.funnel, names, window=window, mode=mode, start=start, end=end)
    return result.to_dict()


@router.get("/analyses/lifecycle", summary="Lifecycle")
def lifecycle(
    request: Request, event: str = "$active", grain: str = "week",
    start: str | None = None, end: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    ws = workspace(request)
    result = call(request, ws.lifecycle, event, grain=grain, start=start, end=end)
    data: dict[str, Any] = json.loads(json.dumps(result.to_dict(), default=str))
    return data


@router.get("/analyses/stickiness", summary="Stickiness")
def stickiness(
    request: Request, event: str = "$active", grain: str = "day", cumulative: bool = False,
    start: str | None = None, end: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    ws = workspace(request)
    result = call(
        request, ws.stickiness, event, grain=grain, cumulative=cumulative, start=start, end=end
    )
    return result.to_dict()


@router.get("/analyses/features", summary="Feature adoption report")
def features(request: Request, start: str | None = None, end: str | None = None) -> dict[str, Any]:
    ws = workspace(request)
    return call(request, ws.feature_report, start=start, end=end).to_dict()


@router.get("/experiments", summary="Experiments found in the exposure events")
def experiments(request: Request) -> dict[str, Any]:
    """The contract of ``northstar experiments list --format json``."""
    return call(request, workspace(request).experiments).to_dict()


@router.get("/experiments/{key}", summary="An experiment's results")
def experiment(
    request: Request,
    key: str,
    metric: list[str] = Query(description="converted:EVENT, count:EVENT, sum:EVENT:PROP, ..."),
    control: str | None = None,
    cuped: bool = False,
    correction: str = "none",
    sequential: bool = False,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """The contract of ``northstar experiments analyze --format json``."""
    analyze = AnalyzeRequest(
        key, tuple(metric), control=control, cuped=cuped, correction=correction,
        sequential=sequential, alpha=alpha,
    )  # fmt: skip
    return call(request, workspace(request).analyze_experiment, analyze).to_dict()


@router.get("/explain", summary="Why a KPI changed: the segments that moved it")
def explain(
    request: Request,
    metric: str,
    start: str = Query(alias="from", description="first day of the window, YYYY-MM-DD"),
    end: str = Query(alias="to", description="last day of the window, YYYY-MM-DD"),
    compare: str = "previous",
    by: str | None = Query(None, description="comma-separated dimensions (default: all)"),
    depth: int = 2,
    top: int = 5,
) -> dict[str, Any]:
    """The contract of ``northstar explain --format json`` (docs/explain.md)."""
    dims = tuple(d.strip() for d in (by or "").split(",") if d.strip())
    ask = ExplainRequest(metric, start, end, compare=compare, by=dims, depth=depth, top=top)
    data: dict[str, Any] = json.loads(
        json.dumps(call(request, workspace(request).explain, ask).to_dict(), default=str)
    )
    return data
