"""Planning endpoints on a fitted model: response curves, budget optimisation, what-if,
scenarios.

Each question runs on a worker (:func:`bayesmmm.service.jobs.run_plan` through
:meth:`Executor.call`), never in the API process: the API checks the request (schema
limits, one goal), reads the fit file checked against its checksum, and waits for the
answer at most ``BAYESMMM_PLAN_TIMEOUT`` seconds. An installation without
:mod:`bayesmmm.optimize` answers 501.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bayesmmm.errors import BayesMMMError
from bayesmmm.service._advice import for_api
from bayesmmm.service._errors import RequestError
from bayesmmm.service.api._deps import get_artifacts, get_service, get_store
from bayesmmm.service.api._paging import LIMIT, Limit, Offset, page
from bayesmmm.service.api._routes_tasks import (
    ERRORS,
    READ_ONLY,
    HdiProb,
    Level,
    Owner,
    TaskId,
    find_job,
    fit_bytes,
)
from bayesmmm.service.api._schemas import OptimizeRequest, ScenariosRequest, WhatIfRequest
from bayesmmm.service.api._service import Service
from bayesmmm.service.api._units import interval, spend_units, units_of
from bayesmmm.service.jobs import ArtifactStore, CallFailed, PlanPayload, run_plan
from bayesmmm.service.store import JobStore

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["planning"])
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS, 501: {"description": "This installation has no budget optimiser."},
    503: {"description": "No worker could answer (it died, or none is running)."},
    504: {"description": "The question took longer than BAYESMMM_PLAN_TIMEOUT seconds."}}

Store = Annotated[JobStore, Depends(get_store)]
Artifacts = Annotated[ArtifactStore, Depends(get_artifacts)]
Running = Annotated[Service, Depends(get_service)]


def _optimize() -> Any:
    try:
        import bayesmmm.optimize as optimize
    except ImportError:
        raise RequestError(501, "not_available", "budget optimisation is not available in "
                           "this installation (bayesmmm.optimize is missing). Fix: install "
                           "bayesmmm with its optimize layer") from None
    return optimize


#: How an answer is labelled (and sized): the answer and the task's spec -> the answer.
Shape = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


def _units(spec: dict[str, Any], over: str) -> dict[str, str]:
    """Units of a planning answer's quantities (columns are named after them: sales,
    sales_hdi_3%, incremental_sales, spend:x1, ...); ``over``: the period they cover."""
    y = spec.get("y_column") or "the target"
    return {"spend": f"{spend_units(spec)}, over {over}",
            "sales": f"incremental '{y}' brought by the channels' spend, over {over}",
            **units_of(spec, "roi", "marginal_roi"),
            "pct": "percent (change_pct, spend_change_pct, sales_change_pct)",
            "prob": "probability, 0 to 1"}


def _labels(hdi_prob: float, what: str, over: str = "the n_periods of the plan") -> Shape:
    """Add the ``units`` and the ``interval`` to a planning answer."""
    def shape(body: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
        return {**body, "units": _units(spec, over), "interval": interval(hdi_prob, what)}
    return shape


async def _ask(service: Service, store: JobStore, artifacts: ArtifactStore, kind: str,
               task_id: str, owner: str, fields: dict[str, Any],
               shape: Shape | None = None) -> JSONResponse:
    """Send one question about a completed task's fit to a worker and relay the answer
    (labelled and sized by ``shape``)."""
    data, sha = await fit_bytes(store, artifacts, task_id, owner)
    payload = PlanPayload(kind, task_id, data, sha, fields)
    timeout = service.settings.plan_timeout
    try:
        outcome = await run_in_threadpool(service.executor.call, run_plan, payload, timeout)
    except CallFailed as exc:
        if exc.kind == "timeout":
            raise RequestError(504, "plan_timeout", f"the question took longer than "
                               f"{timeout:g} s on the worker (the workers may be busy). Fix: "
                               "ask again later, or plan fewer periods") from None
        raise RequestError(503, "plan_unavailable", f"no worker could answer ({exc.reason}). "
                           "Fix: ask again in a minute; if it persists, the operator should "
                           "look at /v1/health") from None
    if not outcome.get("ok"):
        raise RequestError(int(outcome.get("status", 422)), str(outcome.get("code")),
                           str(outcome.get("message")))
    body = outcome["body"]
    if shape is not None:
        job = await run_in_threadpool(find_job, store, task_id, owner)
        body = shape(body, job.spec)
    return JSONResponse(for_api(body))  # advice as request fields, not flags


@router.get("/tasks/{task_id}/response-curves", operation_id="getResponseCurves",
            responses=_RESPONSES, summary="Incremental sales of each channel vs its spend")
async def get_response_curves(task_id: TaskId, owner: Owner, store: Store,
                              artifacts: Artifacts, service: Running,
                              hdi_prob: HdiProb = 0.94, level: Level = "total",
                              limit: Limit = LIMIT, offset: Offset = 0) -> JSONResponse:
    """curves (paged): per channel and multiple of historical spend, sales, ROI and
    marginal ROI with HDIs; points: the current spend and the saturation point per
    channel."""
    _optimize()
    labels = _labels(hdi_prob, "of sales, ROI and marginal ROI at each spend level",
                     over="the fitted period, at that multiple of the historical spend")

    def shape(body: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
        rest = labels({k: v for k, v in body.items() if k != "curves"}, spec)
        rest["units"].update(units_of(spec, "multiplier"))
        shown = page(body.get("curves", []), limit, offset, rest=rest)
        return {"curves": shown.rows, **rest, **shown.fields()}

    return await _ask(service, store, artifacts, "response_curves", task_id, owner,
                      {"level": level, "hdi_prob": hdi_prob}, shape)


@router.post("/tasks/{task_id}/optimize", operation_id="optimizeBudget",
             responses=_RESPONSES, summary="The best split of a budget over channels",
             openapi_extra=READ_ONLY)
async def optimize_budget(task_id: TaskId, body: OptimizeRequest, owner: Owner, store: Store,
                          artifacts: Artifacts, service: Running) -> JSONResponse:
    """Give a budget, or a target ROI or marginal ROI that sets it (none of them: the
    historical spend over ``n_periods``, as ``bayesmmm optimize`` does); bounds and fixed
    channels as needed. Returns the plan per channel, totals and a one-paragraph summary.
    A calculation: it changes nothing."""
    optimize = _optimize()
    try:
        optimize.check_goal(body.budget, body.target_roi, body.target_marginal_roi)
        optimize.parse_objective(body.objective)
    except BayesMMMError as exc:
        raise RequestError(422, "invalid_options", str(exc)) from None
    return await _ask(service, store, artifacts, "optimize", task_id, owner,
                      body.model_dump(), _labels(body.hdi_prob, "of each channel's sales"))


@router.post("/tasks/{task_id}/what-if", operation_id="whatIf", responses=_RESPONSES,
             summary="What a change of one channel's spend would bring",
             openapi_extra=READ_ONLY)
async def what_if(task_id: TaskId, body: WhatIfRequest, owner: Owner, store: Store,
                  artifacts: Artifacts, service: Running) -> JSONResponse:
    """The extra sales, ROI of the change and probability that it pays for itself
    (break_even) when one channel's spend changes by spend_increase over n_periods, with a
    recommendation in plain words. A calculation: it changes nothing."""
    _optimize()
    return await _ask(service, store, artifacts, "what_if", task_id, owner, body.model_dump(),
                      _labels(body.hdi_prob, "of the incremental sales and the ROI of "
                              "the change"))


@router.post("/tasks/{task_id}/scenarios", operation_id="compareScenarios",
             responses=_RESPONSES, summary="Named spend scenarios side by side",
             openapi_extra=READ_ONLY)
async def compare_scenarios(task_id: TaskId, body: ScenariosRequest, owner: Owner,
                            store: Store, artifacts: Artifacts,
                            service: Running) -> JSONResponse:
    """Each scenario changes the current spend by a percent per channel (default: the
    rest). One row per scenario, the current plan first: spend, sales and its change with
    HDIs, ROI, incremental ROI, P(better than current), spend per channel. Changes
    nothing."""
    _optimize()
    return await _ask(service, store, artifacts, "scenarios", task_id, owner,
                      body.model_dump(), _labels(body.hdi_prob, "of sales and of the "
                                                 "change in sales"))
