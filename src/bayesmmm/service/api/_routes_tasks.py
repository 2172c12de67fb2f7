"""Task endpoints: start a fit, follow it, cancel it, list them, and read its answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from bayesmmm.errors import BayesMMMError, DataValidationError
from bayesmmm.service._advice import for_api
from bayesmmm.service._errors import RequestError, StoreUnavailable
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
    CarryoverRow,
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
from bayesmmm.service.jobs import ArtifactDamaged, ArtifactStore, Dispatcher, checksum
from bayesmmm.service.store import JobRecord, JobStore, new_task_id, utcnow

__all__ = ["router", "task_status", "ERRORS", "fit_bytes", "fitted_model"]

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
    409: {"model": ErrorBody, "description": "The task has no results yet (or failed, or "
          "its stored fit is damaged: rerunTask runs it again)."},
    422: {"model": ErrorBody,
          "description": "Invalid request or data; detail and validation say what to fix."},
    503: {"model": ErrorBody,
          "description": "The job store or artifact store cannot take writes now (locked, "
                         "read-only, full); detail gives the reason. Nothing was kept."},
}


def _links(task_id: str) -> dict[str, str]:
    base = f"/v1/tasks/{task_id}"
    return {"status": base, "summary": f"{base}/summary",
            "contributions": f"{base}/contributions", "roi": f"{base}/roi",
            "media_share": f"{base}/media-share", "predictions": f"{base}/predictions",
            "fit": f"{base}/fit", "cancel": f"{base}/cancel", "rerun": f"{base}/rerun"}


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
                          message=for_api(job.error_message or "the fit failed"),
                          details=for_api(job.error_details))
    return TaskStatus(
        task_id=job.id, status=job.status, progress=job.progress,  # type: ignore[arg-type]
        phase=job.phase, attempts=job.attempts, created_at=_utc(job.created_at),
        started_at=_maybe_utc(job.started_at), finished_at=_maybe_utc(job.finished_at),
        seconds_queued=_seconds(job.created_at, job.started_at or job.finished_at or now),
        seconds_running=_seconds(job.started_at, running_end), input_name=job.input_name,
        spec=job.spec, sampler=job.sampler, data_warnings=for_api(job.data_warnings or []),
        warnings=for_api(result.get("warnings", [])), fit_metrics=result.get("fit_metrics"),
        verdict=result.get("verdict"),
        fit_seconds=result.get("seconds"),
        divergences=result.get("divergences"), error=error, links=_links(job.id))


def _find(store: JobStore, task_id: str, owner: str) -> JobRecord:
    job = store.get(task_id, owner)
    if job is None:
        raise RequestError(404, "not_found", f"no task '{task_id}'. Fix: use a task_id that "
                           "runMMMAsync returned (with the same API key)")
    return job


def _completed(job: JobRecord) -> str:
    """The fit key of a completed job; 409 (with what to do) for any other state."""
    task_id = job.id
    if job.status == "failed":
        fix = "" if "Fix:" in (job.error_message or "") else (
            " Fix: change what the message says and submit again, or run it again as it "
            f"is with POST /v1/tasks/{task_id}/rerun")
        raise RequestError(409, "task_failed", f"task '{task_id}' failed, so it has no results: "
                           f"{job.error_message}{fix}", error_code=job.error_code)
    if job.status != "completed" or job.fit_key is None:
        raise RequestError(409, "not_ready", f"task '{task_id}' is {job.status} "
                           f"({job.progress:.0%} done) and has no results yet. Fix: poll "
                           "getTaskStatus until its status is 'completed'")
    return job.fit_key


def damaged_message(task_id: str, kind: str) -> str:
    return (f"the fitted model of task '{task_id}' is {kind} in the service's artifact store "
            "(its checksum does not match, or it cannot be read), so its results cannot be "
            "served; the task is now marked failed. Fix: run it again from the stored data "
            f"with POST /v1/tasks/{task_id}/rerun (rerunTask), or submit the data again")


def _damaged(store: JobStore, job: JobRecord, exc: ArtifactDamaged) -> RequestError:
    """Record a damaged or missing fit on the task and say so (no server path)."""
    code = f"fit_{exc.kind}"
    message = damaged_message(job.id, exc.kind)
    store.mark_damaged(job.id, code, message)
    return RequestError(409, code, message, error_code=code)


async def fitted_model(store: JobStore, fits: FitCache, task_id: str, owner: str) -> Any:
    """The fit of a completed task, checked against its checksum."""
    job = await run_in_threadpool(_find, store, task_id, owner)
    key = _completed(job)
    try:
        return await run_in_threadpool(fits.get, key, job.fit_sha256)
    except ArtifactDamaged as exc:
        raise await run_in_threadpool(_damaged, store, job, exc) from None


async def fit_bytes(store: JobStore, artifacts: ArtifactStore, task_id: str,
                    owner: str) -> tuple[bytes, str]:
    """The fit file of a completed task and its checksum, checked."""
    job = await run_in_threadpool(_find, store, task_id, owner)
    key = _completed(job)
    try:
        data = await run_in_threadpool(artifacts.get_checked, key, job.fit_sha256)
    except ArtifactDamaged as exc:
        raise await run_in_threadpool(_damaged, store, job, exc) from None
    if job.fit_sha256 is None and not data.startswith((b"\x89HDF\r\n\x1a\n", b"CDF")):
        raise await run_in_threadpool(_damaged, store, job, ArtifactDamaged(key, "damaged"))
    return data, job.fit_sha256 or checksum(data)


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
    checked: dict[str, Any] = {}

    def options(fields: RunMMMRequest) -> None:  # before any data is read or downloaded
        checked.update(spec=build_spec(fields), sampler=sampler_options(fields))

    body, content, name = await read_submission(request, RunMMMRequest, fetcher,
                                                settings.max_upload_bytes, options)
    spec, sampler = checked["spec"], checked["sampler"]

    def check() -> list[dict[str, Any]]:
        report = check_table(read_table(content, name, body.sep), spec.data_kwargs())
        return list(report.to_dict()["warnings"])

    warnings = await run_in_threadpool(check)
    task_id = new_task_id()
    key = await run_in_threadpool(artifacts.put, f"{task_id}/input", content)

    def create() -> JobRecord:
        try:
            return store.create(owner=owner, spec=spec.to_dict(), sampler=sampler,
                                input_name=name, input_key=key, sep=body.sep,
                                data_warnings=warnings, task_id=task_id,
                                input_sha256=checksum(content))
        except StoreUnavailable:
            artifacts.delete(task_id)  # not accepted: keep nothing of it
            raise

    job = await run_in_threadpool(create)
    dispatcher.notify()
    return TaskAccepted(task_id=job.id, status="pending", data_warnings=for_api(warnings),
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
                     offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> TaskList:
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


@router.post("/tasks/{task_id}/rerun", operation_id="rerunTask", response_model=TaskStatus,
             responses=ERRORS, summary="Run a failed or cancelled task again")
async def rerun_task(task_id: TaskId, owner: Owner,
                     store: Annotated[JobStore, Depends(get_store)],
                     artifacts: Annotated[ArtifactStore, Depends(get_artifacts)],
                     dispatcher: Annotated[Dispatcher, Depends(get_dispatcher)]) -> TaskStatus:
    """Queue a failed or cancelled task again from the data it was submitted with (e.g.
    after its stored fit was found damaged); it keeps its task_id."""
    job = await run_in_threadpool(_find, store, task_id, owner)
    if job.status not in ("failed", "cancelled"):
        raise RequestError(409, "not_rerunnable", f"task '{task_id}' is {job.status}; only a "
                           "failed or cancelled task can be run again. Fix: wait for it to "
                           "end, or cancel it first")
    try:
        await run_in_threadpool(artifacts.get_checked, job.input_key, job.input_sha256)
    except ArtifactDamaged as exc:
        raise RequestError(409, f"input_{exc.kind}", f"the data task '{task_id}' was "
                           f"submitted with is {exc.kind} in the artifact store, so it cannot "
                           "run again. Fix: submit the data again with runMMMAsync") from None
    if job.fit_key:
        await run_in_threadpool(artifacts.delete, job.fit_key)
    if not await run_in_threadpool(store.rerun, task_id, owner):
        raise RequestError(409, "not_rerunnable", f"task '{task_id}' changed meanwhile. Fix: "
                           "read its status and try again")
    dispatcher.notify()
    return task_status(await run_in_threadpool(_find, store, task_id, owner))


@router.get("/tasks/{task_id}/summary", operation_id="getSummaryStatistics",
            response_model=SummaryResponse, response_model_by_alias=True, responses=ERRORS,
            summary="Posterior summary of every parameter")
async def get_summary(task_id: TaskId, owner: Owner,
                      store: Annotated[JobStore, Depends(get_store)],
                      fits: Annotated[FitCache, Depends(get_fits)]) -> SummaryResponse:
    """mean, sd, hdi_3%, hdi_97%, ess_bulk, ess_tail and r_hat per parameter
    (PyMC-Marketing's parameter names; scaled units); each channel's adstock half-life and
    peak lag in periods (carryover)."""
    from bayesmmm.analysis import half_life

    fitted = await fitted_model(store, fits, task_id, owner)
    table = await run_in_threadpool(fitted.summary)
    timing = await run_in_threadpool(half_life, fitted)
    rows = [SummaryRow.model_validate(r) for r in frame_rows(table, "parameter")]
    carryover = [CarryoverRow.model_validate(r) for r in frame_rows(timing, "channel")]
    return SummaryResponse(task_id=task_id, summary=rows, carryover=carryover)


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
    data, sha = await fit_bytes(store, artifacts, task_id, owner)
    return Response(data, media_type="application/x-netcdf", headers={
        "Content-Disposition": f'attachment; filename="{task_id}.nc"',
        "X-Checksum-SHA256": sha})

