"""Planning endpoints on a fitted model: response curves, budget optimisation, what-if,
scenarios.

Each question runs on a worker (:func:`bayesmmm.service.jobs.run_plan` through
:meth:`Executor.call`), never in the API process: the API checks the request (schema
limits, one goal), reads the fit file checked against its checksum, and waits for the
answer at most ``BAYESMMM_PLAN_TIMEOUT`` seconds. An installation without
:mod:`bayesmmm.optimize` answers 501.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bayesmmm.errors import BayesMMMError
from bayesmmm.service._advice import for_api
from bayesmmm.service._errors import RequestError
from bayesmmm.service.api._deps import get_artifacts, get_service, get_store
from bayesmmm.service.api._routes_tasks import ERRORS, HdiProb, Level, Owner, TaskId, fit_bytes
from bayesmmm.service.api._schemas import OptimizeRequest, ScenariosRequest, WhatIfRequest
from bayesmmm.service.api._service import Service
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


async def _ask(service: Service, store: JobStore, artifacts: ArtifactStore, kind: str,
               task_id: str, owner: str, fields: dict[str, Any]) -> JSONResponse:
    """Send one question about a completed task's fit to a worker and relay the answer."""
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
    return JSONResponse(for_api(outcome["body"]))  # advice as request fields, not flags


@router.get("/tasks/{task_id}/response-curves", operation_id="getResponseCurves",
            responses=_RESPONSES, summary="Incremental sales of each channel vs its spend")
async def get_response_curves(task_id: TaskId, owner: Owner, store: Store,
                              artifacts: Artifacts, service: Running,
                              hdi_prob: HdiProb = 0.94, level: Level = "total") -> JSONResponse:
    """``curves``: per channel and multiple of historical spend, sales, ROI and marginal
    ROI with HDIs; ``points``: the current spend and the saturation point per channel."""
    _optimize()
    return await _ask(service, store, artifacts, "response_curves", task_id, owner,
                      {"level": level, "hdi_prob": hdi_prob})


@router.post("/tasks/{task_id}/optimize", operation_id="optimizeBudget",
             responses=_RESPONSES, summary="The best split of a budget over channels")
async def optimize_budget(task_id: TaskId, body: OptimizeRequest, owner: Owner, store: Store,
                          artifacts: Artifacts, service: Running) -> JSONResponse:
    """Give a budget, or a target ROI or marginal ROI that sets it (none of them: the
    historical spend over ``n_periods``, as ``bayesmmm optimize`` does); bounds and fixed
    channels as needed. Returns the plan per channel, totals and a one-paragraph summary."""
    optimize = _optimize()
    try:
        optimize.check_goal(body.budget, body.target_roi, body.target_marginal_roi)
        optimize.parse_objective(body.objective)
    except BayesMMMError as exc:
        raise RequestError(422, "invalid_options", str(exc)) from None
    return await _ask(service, store, artifacts, "optimize", task_id, owner,
                      body.model_dump())


@router.post("/tasks/{task_id}/what-if", operation_id="whatIf", responses=_RESPONSES,
             summary="What a change of one channel's spend would bring")
async def what_if(task_id: TaskId, body: WhatIfRequest, owner: Owner, store: Store,
                  artifacts: Artifacts, service: Running) -> JSONResponse:
    _optimize()
    return await _ask(service, store, artifacts, "what_if", task_id, owner, body.model_dump())


@router.post("/tasks/{task_id}/scenarios", operation_id="compareScenarios",
             responses=_RESPONSES, summary="Named spend scenarios side by side")
async def compare_scenarios(task_id: TaskId, body: ScenariosRequest, owner: Owner,
                            store: Store, artifacts: Artifacts,
                            service: Running) -> JSONResponse:
    """Each scenario changes the current spend by a percentage per channel (``default``
    for channels not named). One row per scenario, the current plan first: spend, sales
    with HDI, change in sales with HDI, ROI, incremental ROI, P(better than current) and
    the spend per channel (``spend:<channel>``)."""
    _optimize()
    return await _ask(service, store, artifacts, "scenarios", task_id, owner,
                      body.model_dump())
