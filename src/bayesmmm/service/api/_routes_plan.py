"""Planning endpoints on a fitted model: response curves, budget optimisation, what-if,
scenarios.

They call :mod:`bayesmmm.optimize`; an installation without it answers 501.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bayesmmm.errors import BayesMMMError
from bayesmmm.service._errors import RequestError
from bayesmmm.service.api._deps import get_fits, get_store
from bayesmmm.service.api._routes_tasks import ERRORS, HdiProb, Level, Owner, TaskId, fitted_model
from bayesmmm.service.api._schemas import OptimizeRequest, ScenariosRequest, WhatIfRequest
from bayesmmm.service.api._service import FitCache
from bayesmmm.service.api._tables import frame_rows
from bayesmmm.service.store import JobStore

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["planning"])
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS, 501: {"description": "This installation has no budget optimiser."}}

Store = Annotated[JobStore, Depends(get_store)]
Fits = Annotated[FitCache, Depends(get_fits)]


def _optimize() -> Any:
    try:
        import bayesmmm.optimize as optimize
    except ImportError:
        raise RequestError(501, "not_available", "budget optimisation is not available in "
                           "this installation (bayesmmm.optimize is missing)") from None
    return optimize


def _rows(frame: Any) -> list[dict[str, Any]]:
    """JSON rows keeping a named index (channel, panel) as columns."""
    named = any(name is not None for name in frame.index.names)
    return frame_rows(frame.reset_index() if named else frame)


async def _answer(work: Any) -> Any:
    def run() -> Any:
        try:
            return work()
        except BayesMMMError as exc:
            raise RequestError(422, "invalid_options", str(exc)) from None

    return await run_in_threadpool(run)


@router.get("/tasks/{task_id}/response-curves", operation_id="getResponseCurves",
            responses=_RESPONSES, summary="Incremental sales of each channel vs its spend")
async def get_response_curves(task_id: TaskId, owner: Owner, store: Store, fits: Fits,
                              hdi_prob: HdiProb = 0.94, level: Level = "total") -> JSONResponse:
    """``curves``: per channel and multiple of historical spend, sales, ROI and marginal
    ROI with HDIs; ``points``: the current spend and the saturation point per channel."""
    optimize = _optimize()
    fitted = await fitted_model(store, fits, task_id, owner)
    curves = await _answer(lambda: optimize.response_curves(fitted, level=level,
                                                             hdi_prob=hdi_prob))
    return JSONResponse({"task_id": task_id, "curves": _rows(curves.table),
                         "points": _rows(curves.points),
                         "saturation_fraction": float(curves.saturation_fraction)})


@router.post("/tasks/{task_id}/optimize", operation_id="optimizeBudget",
             responses=_RESPONSES, summary="The best split of a budget over channels")
async def optimize_budget(task_id: TaskId, body: OptimizeRequest, owner: Owner, store: Store,
                          fits: Fits) -> JSONResponse:
    """Give a budget, or a target ROI or marginal ROI that sets it (none of them: the
    historical spend over ``n_periods``, as ``bayesmmm optimize`` does); bounds and fixed
    channels as needed. Returns the plan per channel, totals and a one-paragraph summary."""
    optimize = _optimize()
    goals = {"budget": body.budget, "target_roi": body.target_roi,
             "target_marginal_roi": body.target_marginal_roi}
    try:
        optimize.check_goal(**goals)
    except BayesMMMError as exc:
        raise RequestError(422, "invalid_options", str(exc)) from None
    fitted = await fitted_model(store, fits, task_id, owner)
    goal = optimize.goal_from(fitted, body.n_periods, **goals)
    plan = await _answer(lambda: optimize.optimize_budget(
        fitted, goal, n_periods=body.n_periods, bounds=body.bounds or None,
        fixed=body.fixed, objective=optimize.parse_objective(body.objective), gap=body.gap,
        pattern=body.pattern, seed=body.seed, hdi_prob=body.hdi_prob))
    return JSONResponse({"task_id": task_id, "summary": plan.summary(),
                         "channels": _rows(plan.to_frame()),
                         "totals": {k: float(v) for k, v in plan.totals.items()},
                         "notes": list(plan.notes), "success": bool(plan.success)})


@router.post("/tasks/{task_id}/what-if", operation_id="whatIf", responses=_RESPONSES,
             summary="What a change of one channel's spend would bring")
async def what_if(task_id: TaskId, body: WhatIfRequest, owner: Owner, store: Store,
                  fits: Fits) -> JSONResponse:
    optimize = _optimize()
    fitted = await fitted_model(store, fits, task_id, owner)
    answer = await _answer(lambda: optimize.analyze_channel(
        fitted, body.channel, body.spend_increase, n_periods=body.n_periods, gap=body.gap,
        pattern=body.pattern, break_even=body.break_even, hdi_prob=body.hdi_prob))
    table = answer.to_frame()["value"]
    return JSONResponse({"task_id": task_id, "recommendation": answer.recommendation,
                         "answer": {str(k): (v.item() if hasattr(v, "item") else v)
                                    for k, v in table.items()}})


@router.post("/tasks/{task_id}/scenarios", operation_id="compareScenarios",
             responses=_RESPONSES, summary="Named spend scenarios side by side")
async def compare_scenarios(task_id: TaskId, body: ScenariosRequest, owner: Owner,
                            store: Store, fits: Fits) -> JSONResponse:
    """Each scenario changes the current spend by a percentage per channel (``default``
    for channels not named). One row per scenario, the current plan first: spend, sales
    with HDI, change in sales with HDI, ROI, incremental ROI, P(better than current) and
    the spend per channel (``spend:<channel>``)."""
    optimize = _optimize()
    fitted = await fitted_model(store, fits, task_id, owner)
    table = await _answer(lambda: optimize.compare_scenarios(
        fitted, body.scenarios, n_periods=body.n_periods, gap=body.gap,
        pattern=body.pattern, hdi_prob=body.hdi_prob))
    rows = _rows(table)
    return JSONResponse({"task_id": task_id, "columns": list(rows[0]) if rows else [],
                         "scenarios": rows})
