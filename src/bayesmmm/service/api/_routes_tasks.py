"""Task endpoints: start a fit, follow it, cancel it, list them, and read its answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from bayesmmm.errors import BayesMMMError, DataValidationError
from bayesmmm.service._errors import RequestError
from bayesmmm.service._settings import Settings
from bayesmmm.service.api._deps import (
    get_artifacts,
    get_dispatcher,
    get_fetcher,
    get_fits,
    get_settings,
    get_store,
)
from bayesmmm.service.api._fetch import Fetcher
from bayesmmm.service.api._ingest import build_spec, read_submission
from bayesmmm.service.api._sampler import sampler_options
from bayesmmm.service.api._schemas import (
    ErrorBody,
    PredictRequest,
    RunMMMRequest,
    SummaryResponse,
    SummaryRow,
    TableResponse,
    TaskAccepted,
    TaskError,
    TaskList,
    TaskStatus,
)
from bayesmmm.service.api._security import get_owner
from bayesmmm.service.api._service import FitCache
from bayesmmm.service.api._tables import (
    check_table,
    frame_rows,
    read_table,
    validation_error,
)
from bayesmmm.service.jobs import ArtifactStore, Dispatcher
from bayesmmm.service.store import JobRecord, JobStore, new_task_id, utcnow

__all__ = ["router", "task_status", "ERRORS"]

router = APIRouter(prefix="/v1", tags=["tasks"])

Owner = Annotated[str, Depends(get_owner)]
TaskId = Annotated[str, Path(description="The task_id runMMMAsync returned.",
                             max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
HdiProb = Annotated[float, Query(gt=0, lt=1, description="Width of the HDI (0.94).")]
Level = Annotated[Literal["total", "panel"], Query(
    description="Geo models: 'panel' gives one block per panel cell.")]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or unknown API key."},
    404: {"model": ErrorBody, "description": "No such task (for this API key)."},
    409: {"model": ErrorBody, "description": "The task has no results yet (or failed)."},
    422: {"model": ErrorBody,
          "description": "Invalid request or data; detail and validation say what to fix."},
}


def _links(task_id: str) -> dict[str, str]:
    base = f"/v1/tasks/{task_id}"
    return {"status": base, "summary": f"{base}/summary",
            "contributions": f"{base}/contributions", "roi": f"{base}/roi",
            "media_share": f"{base}/media-share", "predictions": f"{base}/predictions",
            "fit": f"{base}/fit", "cancel": f"{base}/cancel"}


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else max((end - start).total_seconds(), 0.0)


def _utc(value: datetime) -> datetime:
    from datetime import UTC

    return value.replace(tzinfo=UTC)


def _maybe_utc(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


def task_status(job: JobRecord) -> TaskStatus:
    """The public view of a job (no lease internals)."""
    result = job.result or {}
    now = utcnow()
    running_end = job.finished_at or (now if job.status == "running" else None)
    error = None
    if job.status == "failed":
        error = TaskError(code=job.error_code or "failed",
                          message=job.error_message or "the fit failed",
                          details=job.error_details)
    return TaskStatus(
        task_id=job.id, status=job.status, progress=job.progress,  # type: ignore[arg-type]
        phase=job.phase, attempts=job.attempts, created_at=_utc(job.created_at),
        started_at=_maybe_utc(job.started_at), finished_at=_maybe_utc(job.finished_at),
        seconds_queued=_seconds(job.created_at, job.started_at or job.finished_at or now),
        seconds_running=_seconds(job.started_at, running_end), input_name=job.input_name,
        spec=job.spec, sampler=job.sampler, data_warnings=job.data_warnings or [],
        warnings=result.get("warnings", []), fit_metrics=result.get("fit_metrics"),
        fit_seconds=result.get("seconds"),
        divergences=result.get("divergences"), error=error, links=_links(job.id))


def _find(store: JobStore, task_id: str, owner: str) -> JobRecord:
    job = store.get(task_id, owner)
    if job is None:
        raise RequestError(404, "not_found", f"no task '{task_id}'. Fix: use a task_id that "
                           "runMMMAsync returned (with the same API key)")
    return job


async def fitted_model(store: JobStore, fits: FitCache, task_id: str, owner: str) -> Any:
    job = await run_in_threadpool(_find, store, task_id, owner)
    if job.status == "failed":
        raise RequestError(409, "task_failed", f"task '{task_id}' failed, so it has no results: "
                           f"{job.error_message}", error_code=job.error_code)
    if job.status != "completed" or job.fit_key is None:
        raise RequestError(409, "not_ready", f"task '{task_id}' is {job.status} "
                           f"({job.progress:.0%} done) and has no results yet. Fix: poll "
                           "getTaskStatus until its status is 'completed'")
    return await run_in_threadpool(fits.get, job.fit_key)


@router.post("/tasks", operation_id="runMMMAsync", status_code=202,
             response_model=TaskAccepted, responses={**ERRORS, 413: {
                 "model": ErrorBody, "description": "The data file is over the size limit."}},
             summary="Start an MMM fit (asynchronous)")
async def run_mmm(request: Request, owner: Owner,
                  settings: Annotated[Settings, Depends(get_settings)],
                  store: Annotated[JobStore, Depends(get_store)],
                  artifacts: Annotated[ArtifactStore, Depends(get_artifacts)],
                  fetcher: Annotated[Fetcher, Depends(get_fetcher)],
                  dispatcher: Annotated[Dispatcher, Depends(get_dispatcher)]) -> TaskAccepted:
    """Validate the data at once (422 with every problem and its fix), store it, and queue
    the fit. Returns the task_id to poll with getTaskStatus."""
    body, content, name = await read_submission(request, RunMMMRequest, fetcher,
                                                settings.max_upload_bytes)
    spec = build_spec(body)
    sampler = sampler_options(body)

    def check() -> list[dict[str, Any]]:
        report = check_table(read_table(content, name, body.sep), spec.data_kwargs())
        return list(report.to_dict()["warnings"])

    warnings = await run_in_threadpool(check)
    task_id = new_task_id()
    key = await run_in_threadpool(artifacts.put, f"{task_id}/input", content)
    job = await run_in_threadpool(lambda: store.create(
        owner=owner, spec=spec.to_dict(), sampler=sampler, input_name=name, input_key=key,
        sep=body.sep, data_warnings=warnings, task_id=task_id))
    dispatcher.notify()
    return TaskAccepted(task_id=job.id, status="pending", data_warnings=warnings,
                        links=_links(job.id))


@router.get("/tasks/{task_id}", operation_id="getTaskStatus", response_model=TaskStatus,
            responses=ERRORS, summary="Status, progress and outcome of a task")
async def get_task_status(task_id: TaskId, owner: Owner,
                          store: Annotated[JobStore, Depends(get_store)]) -> TaskStatus:
    """pending, running (with progress), completed (with warnings and fit metrics),
    failed (with a message saying what to change) or cancelled."""
    return task_status(await run_in_threadpool(_find, store, task_id, owner))


@router.get("/tasks", operation_id="listTasks", response_model=TaskList, responses=ERRORS,
            summary="The caller's tasks, newest first")
async def list_tasks(owner: Owner, store: Annotated[JobStore, Depends(get_store)],
                     status: Annotated[Literal["pending", "running", "completed", "failed",
                                               "cancelled"] | None, Query()] = None,
                     limit: Annotated[int, Query(ge=1, le=200)] = 50,
                     offset: Annotated[int, Query(ge=0)] = 0) -> TaskList:
    jobs, total = await run_in_threadpool(store.list_jobs, owner, status, limit, offset)
    return TaskList(tasks=[task_status(j) for j in jobs], total=total, limit=limit,
                    offset=offset)


@router.post("/tasks/{task_id}/cancel", operation_id="cancelTask", response_model=TaskStatus,
             responses=ERRORS, summary="Cancel a pending or running task")
async def cancel_task(task_id: TaskId, owner: Owner,
                      store: Annotated[JobStore, Depends(get_store)],
                      dispatcher: Annotated[Dispatcher, Depends(get_dispatcher)]) -> TaskStatus:
    job = await run_in_threadpool(_find, store, task_id, owner)
    if not await run_in_threadpool(store.cancel, task_id, owner):
        raise RequestError(409, "already_finished", f"task '{task_id}' is already "
                           f"{job.status}; only pending or running tasks can be cancelled")
    dispatcher.cancel(task_id)
    return task_status(await run_in_threadpool(_find, store, task_id, owner))


@router.get("/tasks/{task_id}/summary", operation_id="getSummaryStatistics",
            response_model=SummaryResponse, response_model_by_alias=True, responses=ERRORS,
            summary="Posterior summary of every parameter")
async def get_summary(task_id: TaskId, owner: Owner,
                      store: Annotated[JobStore, Depends(get_store)],
                      fits: Annotated[FitCache, Depends(get_fits)]) -> SummaryResponse:
    """mean, sd, hdi_3%, hdi_97%, ess_bulk, ess_tail and r_hat per parameter
    (PyMC-Marketing's parameter names; scaled units)."""
    fitted = await fitted_model(store, fits, task_id, owner)
    table = await run_in_threadpool(fitted.summary)
    rows = [SummaryRow.model_validate(r) for r in frame_rows(table, "parameter")]
    return SummaryResponse(task_id=task_id, summary=rows)


def _table(task_id: str, frame: Any, index: str | None) -> TableResponse:
    rows = frame_rows(frame, index)
    columns = ([index] if index else []) + [str(c) for c in frame.columns]
    return TableResponse(task_id=task_id, columns=columns, rows=rows)


@router.get("/tasks/{task_id}/contributions", operation_id="getContributions",
            response_model=TableResponse, responses=ERRORS,
            summary="Contribution of every component per period")
async def get_contributions(task_id: TaskId, owner: Owner,
                            store: Annotated[JobStore, Depends(get_store)],
                            fits: Annotated[FitCache, Depends(get_fits)],
                            hdi_prob: HdiProb = 0.94, level: Level = "total") -> TableResponse:
    """Rows: date, component, kind (baseline, trend, control, seasonality, channel), mean,
    sd and HDI bounds, in original units."""
    fitted = await fitted_model(store, fits, task_id, owner)
    frame = await run_in_threadpool(fitted.contributions, hdi_prob, level)
    return _table(task_id, frame, None)


@router.get("/tasks/{task_id}/roi", operation_id="getROI", response_model=TableResponse,
            responses=ERRORS, summary="Return on investment per channel")
async def get_roi(task_id: TaskId, owner: Owner, store: Annotated[JobStore, Depends(get_store)],
                  fits: Annotated[FitCache, Depends(get_fits)], hdi_prob: HdiProb = 0.94,
                  level: Level = "total") -> TableResponse:
    """Rows per channel: spend, contribution, roi (mean), sd and HDI bounds."""
    fitted = await fitted_model(store, fits, task_id, owner)
    frame = await run_in_threadpool(fitted.roi, hdi_prob, level)
    return _table(task_id, frame, "channel")


@router.get("/tasks/{task_id}/media-share", operation_id="getMediaShare",
            response_model=TableResponse, responses=ERRORS,
            summary="Share of the media effect vs share of spend")
async def get_media_share(task_id: TaskId, owner: Owner,
                          store: Annotated[JobStore, Depends(get_store)],
                          fits: Annotated[FitCache, Depends(get_fits)],
                          hdi_prob: HdiProb = 0.94, level: Level = "total") -> TableResponse:
    fitted = await fitted_model(store, fits, task_id, owner)
    frame = await run_in_threadpool(fitted.media_share, hdi_prob, level)
    return _table(task_id, frame, "channel")


@router.post("/tasks/{task_id}/predictions", operation_id="predictWithModel",
             response_model=TableResponse, responses={**ERRORS, 413: {
                 "description": "The data file is over the size limit."}},
             summary="Predict new periods with a fitted model")
async def predict_with_model(task_id: TaskId, request: Request, owner: Owner,
                             settings: Annotated[Settings, Depends(get_settings)],
                             store: Annotated[JobStore, Depends(get_store)],
                             fits: Annotated[FitCache, Depends(get_fits)],
                             fetcher: Annotated[Fetcher, Depends(get_fetcher)]
                             ) -> TableResponse:
    """Send a table with the fitted model's columns (the target may be absent or blank for
    future periods); rows: date, mean, sd, HDI bounds and the observed y."""
    fitted = await fitted_model(store, fits, task_id, owner)
    body, content, name = await read_submission(request, PredictRequest, fetcher,
                                                settings.max_upload_bytes)

    def run() -> Any:
        from bayesmmm.analysis import predict

        table = read_table(content, name, body.sep)
        try:
            return predict(fitted, table)
        except DataValidationError as exc:
            raise validation_error(exc) from None
        except BayesMMMError as exc:
            raise RequestError(422, "invalid_data", str(exc)) from None

    return _table(task_id, await run_in_threadpool(run), None)


@router.get("/tasks/{task_id}/fit", operation_id="downloadFit", responses={
    **ERRORS, 200: {"content": {"application/x-netcdf": {}},
                    "description": "The fit file; read it with bayesmmm.load_fit."}},
            response_class=Response, summary="The whole fitted model as one NetCDF file")
async def download_fit(task_id: TaskId, owner: Owner,
                       store: Annotated[JobStore, Depends(get_store)],
                       artifacts: Annotated[ArtifactStore, Depends(get_artifacts)]) -> Response:
    job = await run_in_threadpool(_find, store, task_id, owner)
    if job.status != "completed" or job.fit_key is None:
        raise RequestError(409, "not_ready", f"task '{task_id}' is {job.status}; the fit file "
                           "exists once it is completed")
    data = await run_in_threadpool(artifacts.get, job.fit_key)
    return Response(data, media_type="application/x-netcdf", headers={
        "Content-Disposition": f'attachment; filename="{task_id}.nc"'})

