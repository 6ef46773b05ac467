"""The HTML pages: thin adapters that call a Workspace method and render a template."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from northstar.errors import (
    AlertConfigError,
    ExperimentError,
    ExperimentNotFound,
    ExplainError,
    FilterError,
    GoalError,
    NorthstarError,
    QueryArgumentError,
    ReportConfigError,
    ReportError,
    ShareError,
    UnknownMetricError,
)
from northstar.experiments.analysis import POSTHOG_EVENT, SEGMENT_EVENT, AnalyzeRequest
from northstar.explain.service import ExplainRequest
from northstar.goals.service import GoalSpec
from northstar.settings import PageAccess
from northstar.web import present
from northstar.web.app import templates
from northstar.web.runtime import (
    PAGE_COOKIE,
    PAGE_SESSION_SECONDS,
    author,
    call,
    check_page_access,
    new_page_session,
    valid_page_session,
    workspace,
)

EXPOSURE_EVENTS = (SEGMENT_EVENT, POSTHOG_EVENT)
router = APIRouter(dependencies=[Depends(check_page_access)], include_in_schema=False)


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    ws = workspace(request)
    base = {
        "product": ws.settings.name, "nav": name.split(".")[0],
        "signed_in": ws.settings.server.pages is PageAccess.key,
        "freshness": call(request, ws.as_of),
    }  # fmt: skip
    answer = templates.TemplateResponse(request, name, {**base, **context}, status_code=status)
    if ws.settings.server.pages is PageAccess.loopback and not valid_page_session(request):
        answer.set_cookie(
            PAGE_COOKIE, new_page_session(request), max_age=PAGE_SESSION_SECONDS,
            httponly=True, samesite="strict", path="/",
        )  # fmt: skip
    return answer


def scorecard_context(request: Request) -> dict[str, Any]:
    ws = workspace(request)
    card = call(request, ws.scorecard)
    context: dict[str, Any] = {"card": present.scorecard_view(card)}
    if card.empty:
        kpis = call(request, ws.headline_kpis)
        context["kpis"] = present.headline_cards(kpis, ws.settings.currency)
    return context


@router.get("/")
def scorecard_page(request: Request) -> Response:
    return page(request, "scorecard.html", scorecard_context(request) | {"share_page": "scorecard"})


@dataclass
class ExploreForm:
    """The explorer's query, as the page's form sends it."""

    metric: str = ""
    grain: str = "month"
    start: str = ""
    end: str = ""
    by: str = ""
    where: str = ""
    compare: str = ""
    chart: str = ""  # line or bar; how the page draws it, not part of the query
    range: str = ""  # a preset (7d, 30d, 90d, quarter) that fills start and end

    def api_query(self) -> str:
        """The same query as parameters of the read API's ``/api/v1/query``."""
        fields = asdict(self)
        fields.pop("chart")
        fields.pop("range")
        return urlencode({("metrics" if k == "metric" else k): v for k, v in fields.items() if v})

    def query(self, request: Request) -> pd.DataFrame:
        ws = workspace(request)
        return call(
            request, ws.query, self.metric, grain=self.grain, start=self.start or None,
            end=self.end or None, by=self.by or None, where=self.where or None,
            compare=self.compare or None,
        )  # fmt: skip


def _field_of(
    exc: NorthstarError,
    form: dict[str, str],
    words: dict[str, tuple[str, ...]],
    default: str,
    labels: dict[str, str] | None = None,
) -> dict[str, str]:
    """The form field an error is about, so the page keeps the form and shows the message
    beside that field: the field (of ``labels``) whose value the message quotes, else the
    first field whose words the message uses, else ``default``."""
    text = str(exc)
    quoted = [q for q in re.findall(r"'([^']+)'", text) if q]
    for name in labels or {}:
        value = form.get(name) or ""
        if value and any(q in value for q in quoted):
            return {"field": name, "message": web_words(text, labels)}
    for name, said in words.items():
        if any(w in text for w in said):
            return {"field": name, "message": web_words(text, labels)}
    return {"field": default, "message": web_words(text, labels)}


FLAG_LABELS = {"from": "From", "to": "To", "by": "Breakdown", "where": "Filter",
               "compare": "Compare", "grain": "Grain", "depth": "Depth"}  # fmt: skip


def web_words(text: str, labels: dict[str, str] | None = None) -> str:
    """A message in the words of the page: the CLI's ``--from`` becomes the field "From"."""
    names = FLAG_LABELS | (labels or {})
    return re.sub(r"--([a-z]+)\b", lambda m: names.get(m.group(1), m.group(1)), text)


EXPLORE_WORDS = {
    "start": ("start date", "--from"), "end": ("end date", "--to"),
    "grain": ("grain", "period"), "compare": ("compar",),
}  # fmt: skip


def _explore_field(exc: NorthstarError, form: ExploreForm) -> str:
    """The explorer field an error is about (its message is shown beside it)."""
    text = str(exc)
    if isinstance(exc, UnknownMetricError):
        return "metric"
    if isinstance(exc, FilterError):
        return "where" if form.where and ("filter" in text or form.where in text) else "by"
    return _field_of(exc, {}, EXPLORE_WORDS, "metric")["field"]


@router.get("/explore")
def explore_page(request: Request, form: ExploreForm = Depends()) -> Response:
    context, status = explore_context(request, form)
    context["share_page"] = f"metric/{context['spec'].id}" if "spec" in context else ""
    return page(request, "explore.html", context, status=status)


def explore_context(request: Request, form: ExploreForm) -> tuple[dict[str, Any], int]:
    """The explorer's chart, table and metric card for ``form`` (and the HTTP status: a
    mistake keeps the form and says what is wrong beside its field)."""
    ws = workspace(request)
    registry = ws.registry()
    book = ws.goal_book()
    form.metric = form.metric or (book.goals[0].metric if book.goals else "mau")
    if form.range:
        last = call(request, ws.as_of).end
        form.start, form.end = (d.isoformat() for d in present.preset_range(form.range, last))
        if form.range in ("7d", "30d") and form.grain in ("month", "quarter", "year"):
            form.grain = "day"  # a month of a 7-day range says nothing
    context: dict[str, Any] = {
        "form": asdict(form), "choices": present.metric_choices(registry),
        "presets": present.PRESETS, "api_query": form.api_query(),
        "picks": present.picks_view(call(request, ws.pickers)),
    }  # fmt: skip
    try:
        spec = registry.get(form.metric)
        context["spec"] = spec
        frame = form.query(request)
    except NorthstarError as exc:
        # keep the form, and say what is wrong beside the field it is about
        context["error"] = {"message": web_words(str(exc)), "field": _explore_field(exc, form)}
        return context, exc.http_status
    lines = None
    goal = next(
        (g for g in book.goals if g.metric == form.metric and (g.where or "") == form.where),
        None,
    )
    if goal is not None and not form.by:
        lines = present.goal_lines(call(request, ws.track_goal, goal.id), form.grain)
    if not form.by and not form.where:
        context["why"] = present.why_link(spec.id, form.grain, present.last_complete_period(frame))
    watch = None
    if not form.by and not form.where and form.grain in ("day", "week", "month"):
        try:  # the detector's expected range and flags, and the alerts sent, on the chart
            found = call(request, ws.anomalies, spec.id, grain=form.grain,
                         start=form.start or None, end=form.end or None)  # fmt: skip
            sent = [h for h in ws.alert_history() if h.get("metric") == spec.id
                    and h.get("state") == "fired"]  # fmt: skip
            watch = {"rows": found.rows, "alerts": sent}
        except NorthstarError:
            watch = None
    context["result"] = present.explorer_view(frame, spec, ws.settings.currency, lines,
                                              form.chart, watch)  # fmt: skip
    context["goal"] = goal
    context["api_query"] = form.api_query()
    return context, 200


ANALYSES = ("retention", "funnel", "lifecycle", "stickiness", "features")
ANALYSIS_WORDS = {
    "periods": ("periods must",), "window": ("conversion window", "window"),
    "start": ("start date",), "end": ("end date",), "steps": ("step",),
    "grain": ("grain",), "period": ("period",),
}  # fmt: skip
ANALYSIS_LABELS = {
    "start_event": "Start event", "return_event": "Return event", "period": "Period",
    "periods": "Periods", "steps": "Steps", "window": "Conversion window", "grain": "Grain",
    "start": "From", "end": "To",
}  # fmt: skip
_ANALYSIS_FIELD = {"retention": "start_event", "funnel": "steps", "lifecycle": "grain",
                   "stickiness": "grain", "features": "start"}  # fmt: skip


@router.get("/analyses")
def analyses_page(
    request: Request,
    tab: str = "retention",
    start_event: str = "$active",
    return_event: str = "$active",
    period: str = "week",
    periods: str = "8",
    steps: str = "",
    window: str = "14d",
    grain: str = "",
    start: str = "",
    end: str = "",
) -> Response:
    ws = workspace(request)
    tab = tab if tab in ANALYSES else "retention"
    form = {"tab": tab, "start_event": start_event, "return_event": return_event,
            "period": period, "periods": periods, "steps": steps, "window": window,
            "grain": grain, "start": start, "end": end}  # fmt: skip
    context: dict[str, Any] = {"form": form, "tabs": ANALYSES, "labels": ANALYSIS_LABELS,
                               "picks": present.picks_view(call(request, ws.pickers))}  # fmt: skip
    try:
        context.update(_analysis(request, form))
    except NorthstarError as exc:
        # keep the form, and say what is wrong beside the field it is about
        context["error"] = _field_of(exc, form, ANALYSIS_WORDS, _ANALYSIS_FIELD[tab],
                                     ANALYSIS_LABELS)  # fmt: skip
        return page(request, "analyses.html", context, exc.http_status)
    return page(request, "analyses.html", context)


def _analysis(request: Request, form: dict[str, str]) -> dict[str, Any]:
    """The result of the analyses tab ``form`` asks for (what its template shows)."""
    ws = workspace(request)
    tab, periods, steps = form["tab"], form["periods"], form["steps"]
    dates = {"start": form["start"] or None, "end": form["end"] or None}
    grain = form["grain"]
    if tab == "retention":
        if not periods.strip().isdigit() or not 1 <= int(periods) <= 52:
            raise QueryArgumentError(
                f"periods must be a whole number from 1 to 52, not {periods.strip()!r}"
            )
        table = call(request, ws.retention, form["start_event"], form["return_event"],
                     period=form["period"], periods=int(periods), **dates)  # fmt: skip
        return {"retention": present.retention_view(table)}
    if tab == "funnel" and steps.strip():
        names = [s.strip() for s in steps.split(",") if s.strip()]
        result = call(request, ws.funnel, names, window=form["window"], **dates)
        return {"funnel": present.funnel_view(result)}
    if tab == "lifecycle":
        result_l = call(request, ws.lifecycle, grain=grain or "week", **dates)
        return {"lifecycle": present.lifecycle_view(result_l)}
    if tab == "stickiness":
        result_s = call(request, ws.stickiness, grain=grain or "day", **dates)
        return {"stickiness": present.stickiness_view(result_s)}
    if tab == "features":
        if not ws.features():
            return {"features": None}
        return {"features": present.features_view(call(request, ws.feature_report, **dates))}
    return {}


# -- goals -------------------------------------------------------------------------
PERSPECTIVES = ("financial", "customer", "internal_process", "learning_growth")
GOAL_FIELDS = ("metric", "target", "objective", "start", "deadline", "grain", "where", "owner")
GOAL_LABELS = {"metric": "Metric", "target": "Target", "objective": "Objective",
               "start": "Start", "deadline": "Deadline", "grain": "Grain",
               "where": "Segment filter", "owner": "Owner"}  # fmt: skip
GOAL_WORDS = {
    "metric": ("pick a metric", "unknown metric"), "deadline": ("deadline",),
    "start": ("start",), "where": ("filter",), "grain": ("grain",), "objective": ("objective",),
}  # fmt: skip


def _goals_context(request: Request, **extra: Any) -> dict[str, Any]:
    ws = workspace(request)
    book = ws.goal_book()
    return {
        "book": book,
        "goals_by_objective": present.goals_by_objective(
            book, ws.registry(), ws.settings.currency, ws.settings.goals.max_kpis_per_objective
        ),
        "choices": present.metric_choices(ws.registry()),
        "perspectives": PERSPECTIVES,
        "new": dict.fromkeys(GOAL_FIELDS, "") | {"grain": "month"},
        "goal_labels": GOAL_LABELS,
        "objective_form": {},
        "check": None,
        **extra,
    }


@router.get("/goals")
def goals_page(request: Request, stage: str = "") -> Response:
    context = _goals_context(request, stage=stage)
    if stage:
        ws = workspace(request)
        template = call(request, ws.goal_template, stage)
        context["template"] = present.template_view(template, ws.registry(), ws.settings.currency)
    return page(request, "goals.html", context)


def _goal_spec(form: dict[str, str]) -> GoalSpec:
    """The goal form as the one request object the CLI and the API build too."""
    return GoalSpec.make(
        metric=form.get("metric", ""), target=form.get("target", ""),
        objectives=[form["objective"]] if form.get("objective") else [],
        start=form.get("start") or None, deadline=form.get("deadline") or None,
        grain=form.get("grain") or "month", where=form.get("where") or None,
        owner=form.get("owner") or "",
    )  # fmt: skip


async def _form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {k: str(v).strip() for k, v in data.items()}


def goal_context(request: Request, goal_id: str) -> dict[str, Any]:
    ws = workspace(request)
    doc = call(request, ws.goal_detail, goal_id)
    return {"g": present.goal_view(doc, ws.settings.currency)}


@router.get("/goals/{goal_id}")
def goal_page(request: Request, goal_id: str) -> Response:
    """One goal as a PM reads it: figures, status and reason, the forecast fan against the
    plan and the target, revisions and the SMART check."""
    return page(
        request, "goal.html", goal_context(request, goal_id) | {"share_page": f"goal/{goal_id}"}
    )


@router.post("/goals/check")
async def goal_check(request: Request) -> Response:
    """The SMART check of the goal being typed (HTMX partial; nothing is saved)."""
    form = await _form(request)
    if not form.get("metric") or not form.get("target"):
        return templates.TemplateResponse(request, "partials/smart.html", {"check": None})
    ws = workspace(request)
    try:
        spec = _goal_spec(form)
    except NorthstarError as exc:
        return templates.TemplateResponse(request, "partials/smart.html",
                                          {"check": None, "error": str(exc)})  # fmt: skip
    new = call(request, ws.add_goal, spec, save=False)
    return templates.TemplateResponse(
        request, "partials/smart.html", {"check": present.smart_view(new)}
    )


@router.post("/goals/new")
async def goal_create(request: Request) -> Response:
    form = await _form(request)
    ws = workspace(request)
    try:
        if not form.get("metric") or not form.get("target"):
            raise GoalError("pick a metric and type a target, e.g. '>= 3000', '<= 2.5%' or '+10%'")
        new = call(request, ws.add_goal, _goal_spec(form), by=author(request))
    except NorthstarError as exc:
        new_form = dict.fromkeys(GOAL_FIELDS, "") | form
        error = _field_of(exc, new_form, GOAL_WORDS, "target", GOAL_LABELS)
        context = _goals_context(request, goal_error=error, new=new_form)
        return page(request, "goals.html", context, status=400)
    return RedirectResponse(f"/?created={new.goal.id}#goal-{new.goal.id}", status_code=303)


@router.post("/goals/objectives")
async def objective_create(request: Request) -> Response:
    form = await _form(request)
    ws = workspace(request)
    try:
        call(
            request, ws.add_objective, form.get("name", ""),
            perspective=form.get("perspective", ""), description=form.get("description", ""),
            owner=form.get("owner", ""), time_frame=form.get("time_frame") or None,
        )  # fmt: skip
    except NorthstarError as exc:
        context = _goals_context(request, objective_error=str(exc), objective_form=form)
        return page(request, "goals.html", context, status=400)
    return RedirectResponse("/goals#objectives", status_code=303)


@router.post("/goals/objectives/{objective_id}/edit")
async def objective_edit(request: Request, objective_id: str) -> Response:
    form = await _form(request)
    ws = workspace(request)
    try:
        call(
            request, ws.edit_objective, objective_id, name=form.get("name"),
            perspective=form.get("perspective"), description=form.get("description"),
            owner=form.get("owner"), time_frame=form.get("time_frame"),
        )  # fmt: skip
    except NorthstarError as exc:
        error = {"objective": objective_id, "message": str(exc)}
        return page(request, "goals.html", _goals_context(request, objective_edit_error=error), 400)
    return RedirectResponse(f"/goals#objective-{objective_id}", status_code=303)


@router.post("/goals/objectives/{objective_id}/remove")
def objective_remove(request: Request, objective_id: str) -> Response:
    ws = workspace(request)
    call(request, ws.remove_objective, objective_id)
    return RedirectResponse("/goals#objectives", status_code=303)


def _goal_error(request: Request, goal_id: str, exc: NorthstarError) -> Response:
    error = {"goal": goal_id, "message": str(exc)}
    return page(request, "goals.html", _goals_context(request, goal_form_error=error), 400)


@router.post("/goals/{goal_id}/revise")
async def goal_revise(request: Request, goal_id: str) -> Response:
    form = await _form(request)
    ws = workspace(request)
    try:
        call(
            request, ws.revise_goal, goal_id, reason=form.get("reason", ""),
            target=form.get("target") or None, deadline=form.get("deadline") or None,
            where=form.get("where"), by=author(request),
        )  # fmt: skip
    except NorthstarError as exc:
        return _goal_error(request, goal_id, exc)
    return RedirectResponse(f"/goals#goal-{goal_id}", status_code=303)


@router.post("/goals/{goal_id}/edit")
async def goal_edit(request: Request, goal_id: str) -> Response:
    data = await request.form()
    ws = workspace(request)
    try:
        call(
            request, ws.edit_goal, goal_id, owner=str(data.get("owner", "")),
            note=str(data.get("note", "")), plan=str(data.get("plan") or "linear"),
            objectives=[str(o) for o in data.getlist("objectives")],
        )  # fmt: skip
    except NorthstarError as exc:
        return _goal_error(request, goal_id, exc)
    return RedirectResponse(f"/goals#goal-{goal_id}", status_code=303)


@router.post("/goals/{goal_id}/remove")
def goal_remove(request: Request, goal_id: str) -> Response:
    ws = workspace(request)
    call(request, ws.remove_goal, goal_id)
    return RedirectResponse("/goals#objectives", status_code=303)


@router.post("/goals/template")
async def template_apply(request: Request) -> Response:
    form = await _form(request)
    ws = workspace(request)
    call(request, ws.goal_template, form.get("stage", ""), apply=True)
    return RedirectResponse("/", status_code=303)


# -- data ----------------------------------------------------------------------------
def _data_context(request: Request, **extra: Any) -> dict[str, Any]:
    ws = workspace(request)
    tables = call(request, ws.tables)
    status = call(request, ws.status)
    context = {
        "tables": present.tables_view(tables, ws.settings.timezone),
        "status": status,
        "imports": present.imports_view(call(request, ws.recent_imports, limit=15)),
        "rejected": call(request, ws.rejected, limit=25),
        "keys": call(request, ws.api_keys),
        "base_url": str(request.base_url).rstrip("/"),
        "new_token": None,
        "key_error": None,
    }
    return context | extra


@router.get("/data")
def data_page(request: Request) -> Response:
    return page(request, "data.html", _data_context(request))


@router.post("/data/keys")
async def key_create(request: Request) -> Response:
    form = await _form(request)
    ws = workspace(request)
    kind = form.get("kind", "write")
    try:
        key, token = call(
            request,
            ws.create_key,
            kind,
            source=(form.get("source") or None) if kind == "write" else None,
        )
    except NorthstarError as exc:
        return page(request, "data.html", _data_context(request, key_error=str(exc)), status=400)
    context = _data_context(request, new_token={"token": token, "key": key})
    return page(request, "data.html", context)


@router.post("/data/keys/{key_id}/revoke")
def key_revoke(request: Request, key_id: str) -> Response:
    ws = workspace(request)
    call(request, ws.revoke_key, key_id)
    state = getattr(request.app.state, "northstar", None)
    if state is not None:  # reload the keys now rather than on the next flush round
        state.flusher.wake()
    return RedirectResponse("/data#keys", status_code=303)


# -- experiments -------------------------------------------------------------------------
@router.get("/experiments")
def experiments_page(request: Request) -> Response:
    ws = workspace(request)
    found = call(request, ws.experiments)
    return page(
        request, "experiments.html", {"rows": present.experiment_list_view(found.to_dict())}
    )


@router.get("/experiments/{key}")
def experiment_page(
    request: Request,
    key: str,
    metric: list[str] = Query(default=[]),
    control: str = "",
    correction: str = "none",
    cuped: str = "",
    sequential: str = "",
    alpha: str = "0.05",
) -> Response:
    """One experiment: the PM's metrics, the goals' KPIs as guardrails, and the verdict."""
    ws = workspace(request)
    chosen = [m.strip() for m in metric if m.strip()]
    usable, unmeasurable = call(request, ws.experiment_guardrails)
    form = {"metrics": chosen, "control": control, "correction": correction,
            "cuped": bool(cuped), "sequential": bool(sequential), "alpha": alpha}  # fmt: skip
    found = {e.key: e for e in call(request, ws.experiments).experiments}
    if key not in found:
        raise ExperimentNotFound(
            f"no exposures for experiment {key!r}; experiments: {', '.join(found) or 'none'}"
        )
    context: dict[str, Any] = {
        "key": key, "form": form, "summary": found[key].to_dict(),
        "guardrails": usable, "unmeasurable": unmeasurable,
        "events": [e for e in call(request, ws.event_names) if e not in EXPOSURE_EVENTS],
    }  # fmt: skip
    if chosen:
        try:
            level = float(alpha)
        except ValueError:
            level = -1.0
        try:
            request_ = AnalyzeRequest(
                key, tuple(dict.fromkeys([*chosen, *usable])), control=control or None,
                cuped=bool(cuped), correction=correction, sequential=bool(sequential),
                alpha=level if 0 < level < 1 else 0.05,
            )  # fmt: skip
            if not 0 < level < 1:
                raise ExperimentError(f"alpha must be a number between 0 and 1, not {alpha!r}")
            result = call(request, ws.analyze_experiment, request_)
        except ExperimentNotFound:
            raise
        except NorthstarError as exc:
            context["error"] = str(exc)
        else:
            context["result"] = present.experiment_view(result.to_dict())
            context["as_of"] = result.as_of
    return page(request, "experiment.html", context)


# -- why did this change? -------------------------------------------------------------------
EXPLAIN_LABELS = {"metric": "Metric", "from": "From", "to": "To", "compare": "Compared with",
                  "by": "Dimensions", "depth": "Depth"}  # fmt: skip
EXPLAIN_WORDS = {
    "depth": ("depth",), "compare": ("compar", "baseline"), "by": ("dimension",),
    "from": ("start date", "--from"), "to": ("end date", "--to"), "metric": ("metric",),
}  # fmt: skip


@router.get("/explain")
def explain_page(
    request: Request,
    metric: str = "",
    start: str = Query("", alias="from"),
    end: str = Query("", alias="to"),
    compare: str = "previous",
    by: str = "",
    depth: str = "2",
) -> Response:
    """Why a KPI changed between two windows: the segments that moved it (docs/explain.md)."""
    ws = workspace(request)
    registry = ws.registry()
    form = {"metric": metric, "from": start, "to": end, "compare": compare, "by": by,
            "depth": depth}  # fmt: skip
    context: dict[str, Any] = {"form": form, "choices": present.metric_choices(registry),
                               "labels": EXPLAIN_LABELS}  # fmt: skip
    if not (metric and start and end):
        return page(request, "explain.html", context)
    try:
        if depth not in ("1", "2", "3"):
            raise ExplainError(f"depth must be 1, 2 or 3, not {depth!r}")
        dims = tuple(d.strip() for d in by.split(",") if d.strip())
        ask = ExplainRequest(metric, start, end, compare=compare or "previous", by=dims,
                             depth=int(depth))  # fmt: skip
        spec = registry.get(metric)
        result = call(request, ws.explain, ask)
    except NorthstarError as exc:
        # keep the form, and say what is wrong beside the field it is about
        context["error"] = _field_of(exc, form, EXPLAIN_WORDS, "metric", EXPLAIN_LABELS)
        return page(request, "explain.html", context, exc.http_status)
    context["x"] = present.explain_view(result.to_dict(), spec.unit, ws.settings.currency)
    context["spec"] = spec
    return page(request, "explain.html", context)


# -- alerts ---------------------------------------------------------------------------------
@router.get("/alerts")
def alerts_page(request: Request) -> Response:
    """The rules of alerts.yaml with their state, snooze, and what was sent."""
    ws = workspace(request)
    context: dict[str, Any] = {"rules": [], "history": []}
    try:
        context["rules"] = call(request, ws.alert_rules)
    except AlertConfigError as exc:
        context["error"] = str(exc)
    context["history"] = list(reversed(ws.alert_history(100)))
    return page(request, "alerts.html", context)


@router.post("/alerts/{rule}/snooze")
async def alert_snooze(request: Request, rule: str) -> Response:
    ws = workspace(request)
    form = await _form(request)
    until = form.get("until") or None
    call(request, ws.snooze_alert, rule, None if form.get("wake") else until)
    return RedirectResponse("/alerts", status_code=303)


# -- reports and share links ------------------------------------------------------------------
@router.get("/reports")
def reports_page(request: Request, sent: str = "") -> Response:
    """The reports of reports.yaml: recipients, schedule, next run, preview, send now, log."""
    ws = workspace(request)
    context: dict[str, Any] = {"reports": [], "log": [], "sent": sent}
    try:
        context["reports"] = ws.reports().listing()
    except ReportConfigError as exc:
        context["error"] = str(exc)
    context["log"] = list(reversed(ws.reports().log(100)))
    return page(request, "reports.html", context)


@router.get("/reports/{name}/preview")
def report_preview(request: Request, name: str, format: str = "html") -> Response:
    """The report as it would be sent: the e-mail's layout with its charts, or the PDF."""
    ws = workspace(request)
    if format not in ("html", "pdf"):
        raise ReportError(f"format {format!r}: use html or pdf")
    data = call(request, ws.reports().preview, name, format)
    if format == "pdf":
        headers = {"Content-Disposition": f'inline; filename="{name}.pdf"'}
        return Response(data, media_type="application/pdf", headers=headers)
    return Response(data, media_type="text/html; charset=utf-8")


@router.post("/reports/{name}/send")
def report_send(request: Request, name: str) -> Response:
    ws = workspace(request)
    result = call(request, ws.reports().send, name)
    words = {"sent": "sent", "partial": "sent in part", "failed": "not sent",
             "skipped": "not sent (unchanged)"}  # fmt: skip
    note = f"{name}: {words.get(result.result, result.result)}"
    if result.failed:
        note += " — " + "; ".join(f"{k}: {v}" for k, v in result.failed.items())
    return RedirectResponse("/reports?" + urlencode({"sent": note}), status_code=303)


@router.post("/share")
async def share_create(request: Request) -> Response:
    """Create a read-only link to the page the Share button is on."""
    ws = workspace(request)
    form = await _form(request)
    try:
        share, url = ws.create_share(form.get("page", ""), form.get("expires") or "7d",
                                     created_by=author(request),
                                     base_url=str(request.base_url))  # fmt: skip
    except ShareError as exc:
        return page(request, "shared_link.html", {"error": str(exc)}, status=400)
    return page(request, "shared_link.html", {"share": share, "url": url})
