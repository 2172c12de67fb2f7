"""Answers of a completed task: posterior summary, contributions, ROI, media share and
predictions, each paged to fit an assistant's action and labelled with its units and
interval."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bayesmmm.errors import BayesMMMError, DataValidationError
from bayesmmm.service._errors import RequestError
from bayesmmm.service._settings import Settings
from bayesmmm.service._structures import structure_fields
from bayesmmm.service.api._contributions import FREQS, By, Freq, contribution_table
from bayesmmm.service.api._deps import Sources, get_fetcher, get_fits, get_settings, get_store
from bayesmmm.service.api._fetch import Fetcher
from bayesmmm.service.api._ingest import read_submission
from bayesmmm.service.api._paging import LIMIT, Limit, Offset, page
from bayesmmm.service.api._routes_tasks import (
    ERRORS,
    READ_ONLY,
    HdiProb,
    Level,
    Owner,
    TaskId,
    fitted_model,
)
from bayesmmm.service.api._schemas import (
    ContributionsResponse,
    PredictRequest,
    SummaryResponse,
    TableResponse,
)
from bayesmmm.service.api._service import FitCache
from bayesmmm.service.api._tables import frame_rows, read_table, validation_error
from bayesmmm.service.api._units import SCALED, interval, units_of
from bayesmmm.service.store import JobStore

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["tasks"])


@router.get("/tasks/{task_id}/summary", operation_id="getSummaryStatistics",
            response_model=SummaryResponse, responses=ERRORS,
            summary="Posterior summary of every parameter")
async def get_summary(task_id: TaskId, owner: Owner,
                      store: Annotated[JobStore, Depends(get_store)],
                      fits: Annotated[FitCache, Depends(get_fits)], hdi_prob: HdiProb = 0.94,
                      limit: Limit = LIMIT, offset: Offset = 0) -> JSONResponse:
    """mean, sd, HDI bounds, ess_bulk, ess_tail and r_hat per parameter (PyMC-Marketing's
    names, scaled units), paged; each channel's adstock half-life and peak lag in periods
    (carryover). Averaged fits: a block per structure (model, weight)."""
    from bayesmmm.analysis import half_life

    fitted = await fitted_model(store, fits, task_id, owner)
    table = await run_in_threadpool(fitted.summary, hdi_prob)
    timing = await run_in_threadpool(half_life, fitted, hdi_prob)
    rows = frame_rows(table, "parameter")
    answer: dict[str, Any] = {
        "task_id": task_id, "carryover": frame_rows(timing, "channel"),
        "units": {**units_of(fitted.spec, "ess_bulk", "ess_tail", "r_hat", "carryover"),
                  "mean, sd and HDI bounds": SCALED},
        "interval": interval(hdi_prob, "of each parameter (carryover: of the half-life and "
                             "peak lag)"), **structure_fields(fitted)}
    shown = page(rows, limit, offset, rest=answer)
    return JSONResponse({"task_id": task_id, "summary": shown.rows, **answer,
                         **shown.fields()})


def _table(task_id: str, fitted: Any, frame: Any, index: str | None, limit: int,
           offset: int, **labels: Any) -> dict[str, Any]:
    """A table answer: its columns and one page of its rows, with units, interval and
    which structures carry the weight."""
    rows = frame_rows(frame, index)
    columns = ([index] if index else []) + [str(c) for c in frame.columns]
    answer = {"task_id": task_id, "columns": columns, **labels, **structure_fields(fitted)}
    shown = page(rows, limit, offset, rest=answer)
    return {**answer, "rows": shown.rows, **shown.fields()}


@router.get("/tasks/{task_id}/contributions", operation_id="getContributions",
            response_model=ContributionsResponse, responses=ERRORS,
            summary="What each channel (or component) contributed, per month by default")
async def get_contributions(
        task_id: TaskId, owner: Owner, store: Annotated[JobStore, Depends(get_store)],
        fits: Annotated[FitCache, Depends(get_fits)],
        by: Annotated[By, Query(description="channel: each channel and 'base' (intercept, "
                                "trend, controls and seasonality together); component: every "
                                "component of the model.")] = "channel",
        freq: Annotated[Freq, Query(description="Sum per calendar week (W), month (M), "
                                    "quarter (Q) or year (Y); none: every period of the "
                                    "data.")] = "M",
        hdi_prob: HdiProb = 0.94, level: Level = "total", limit: Limit = LIMIT,
        offset: Offset = 0) -> ContributionsResponse:
    """Contributions in the target's units, period by period, with HDIs. Default: per
    channel (and base) and calendar month; a sum's HDI comes from the summed draws.
    by=component&freq=none gives every component per period; rows are paged."""
    fitted = await fitted_model(store, fits, task_id, owner)
    frame = await run_in_threadpool(contribution_table, fitted, by, freq, level, hdi_prob)
    summed = "per period of the data" if freq == "none" else f"summed over each {FREQS[freq]}"
    units = {"mean, sd and HDI bounds": f"'{fitted.spec.y_column}' units attributed to the "
             f"component, {summed}"}
    if freq != "none":
        units["n_periods"] = ("periods of the data inside the row's period (the first and "
                              "last may be partial)")
    return ContributionsResponse.model_validate(_table(
        task_id, fitted, frame, None, limit, offset, by=by, freq=freq, units=units,
        interval=interval(hdi_prob, "of each row's contribution" + (
            "" if freq == "none" else " (the HDI of the summed posterior draws)"))))


@router.get("/tasks/{task_id}/roi", operation_id="getROI", response_model=TableResponse,
            responses=ERRORS, summary="Return on investment per channel")
async def get_roi(task_id: TaskId, owner: Owner, store: Annotated[JobStore, Depends(get_store)],
                  fits: Annotated[FitCache, Depends(get_fits)], hdi_prob: HdiProb = 0.94,
                  level: Level = "total", limit: Limit = LIMIT, offset: Offset = 0
                  ) -> TableResponse:
    """Rows per channel over the fitted period: spend, contribution (mean), roi (mean
    incremental target per unit of spend), sd and HDI bounds of the ROI."""
    fitted = await fitted_model(store, fits, task_id, owner)
    frame = await run_in_threadpool(fitted.roi, hdi_prob, level)
    units = units_of(fitted.spec, "spend", "roi")
    units["contribution"] = units_of(fitted.spec, "contribution")["contribution"] + (
        ", summed over the fitted period (posterior mean)")
    return TableResponse.model_validate(_table(
        task_id, fitted, frame, "channel", limit, offset, units=units,
        interval=interval(hdi_prob, "of the ROI")))


@router.get("/tasks/{task_id}/media-share", operation_id="getMediaShare",
            response_model=TableResponse, responses=ERRORS,
            summary="Share of the media effect vs share of spend")
async def get_media_share(task_id: TaskId, owner: Owner,
                          store: Annotated[JobStore, Depends(get_store)],
                          fits: Annotated[FitCache, Depends(get_fits)],
                          hdi_prob: HdiProb = 0.94, level: Level = "total",
                          limit: Limit = LIMIT, offset: Offset = 0) -> TableResponse:
    """Rows per channel: its share of spend (spend_share) and its share of the total media
    effect over the fitted period (mean, sd, HDI bounds), both fractions of 1."""
    fitted = await fitted_model(store, fits, task_id, owner)
    frame = await run_in_threadpool(fitted.media_share, hdi_prob, level)
    return TableResponse.model_validate(_table(
        task_id, fitted, frame, "channel", limit, offset,
        units={"spend_share": "fraction of the total spend (0 to 1)",
               "mean, sd and HDI bounds": "fraction of the total media effect (0 to 1)"},
        interval=interval(hdi_prob, "of the share of the media effect")))


@router.post("/tasks/{task_id}/predictions", operation_id="predictWithModel",
             response_model=TableResponse, responses={**ERRORS, 413: {
                 "description": "The data file is over the size limit."}},
             summary="Predict new periods with a fitted model", openapi_extra=READ_ONLY)
async def predict_with_model(task_id: TaskId, request: Request, owner: Owner,
                             settings: Annotated[Settings, Depends(get_settings)],
                             store: Annotated[JobStore, Depends(get_store)],
                             fits: Annotated[FitCache, Depends(get_fits)],
                             fetcher: Annotated[Fetcher, Depends(get_fetcher)],
                             sources: Sources, limit: Limit = LIMIT, offset: Offset = 0
                             ) -> TableResponse:
    """Send a table with the fitted model's columns (the target may be absent or blank for
    future periods); rows: date, mean, sd, HDI bounds and the observed y. Changes
    nothing."""
    fitted = await fitted_model(store, fits, task_id, owner)
    body, content, name = await read_submission(request, PredictRequest, fetcher,
                                                settings.max_upload_bytes, sources=sources)

    def run() -> Any:
        from bayesmmm.analysis import predict

        table = read_table(content, name, body.sep)
        try:
            return predict(fitted, table)
        except DataValidationError as exc:
            raise validation_error(exc) from None
        except BayesMMMError as exc:
            raise RequestError(422, "invalid_data", str(exc)) from None

    y = fitted.spec.y_column
    return TableResponse.model_validate(_table(
        task_id, fitted, await run_in_threadpool(run), None, limit, offset,
        units={"mean, sd, HDI bounds and y (observed)": f"'{y}' units per period"},
        interval=interval(0.94, "of a new observation in that period (noise included)")))
