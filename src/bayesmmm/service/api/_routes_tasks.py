"""Task endpoints: start a fit, follow it, cancel it, list them, download its fit; and
what every task route shares (the task id, errors, the HDI and level parameters)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from bayesmmm.service._advice import for_api
from bayesmmm.service._errors import RequestError, StoreUnavailable
from bayesmmm.service._settings import Settings
from bayesmmm.service.api._deps import (
    Sources,
    get_artifacts,
    get_dispatcher,
    get_fetcher,
    get_settings,
    get_store,
)
from bayesmmm.service.api._fetch import Fetcher
from bayesmmm.service.api._ingest import build_spec, read_submission, search_forms
from bayesmmm.service.api._paging import page
from bayesmmm.service.api._sampler import sampler_options
from bayesmmm.service.api._schemas import (
    ErrorBody,
    RunMMMRequest,
    SecondsEstimate,
    TaskAccepted,
    TaskError,
    TaskList,
    TaskStatus,
)
from bayesmmm.service.api._security import get_owner
from bayesmmm.service.api._service import FitCache
from bayesmmm.service.api._tables import check_table, read_table
from bayesmmm.service.jobs import ArtifactDamaged, ArtifactStore, Dispatcher, checksum
from bayesmmm.service.jobs._estimate import PENDING_NOTE
from bayesmmm.service.store import JobRecord, JobStore, new_task_id, utcnow

__all__ = ["router", "task_status", "ERRORS", "fit_bytes", "fitted_model", "find_job",
           "READ_ONLY", "CONSEQUENTIAL"]

router = APIRouter(prefix="/v1", tags=["tasks"])

Owner = Annotated[str, Depends(get_owner)]
TaskId = Annotated[str, Path(description="The task_id runMMMAsync returned.",
                             max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
HdiProb = Annotated[float, Query(gt=0, lt=1, description="Probability mass of the HDI "
                                 "(0.94: the 94% highest density interval).")]
Level = Annotated[Literal["total", "panel"], Query(
    description="Geo models: 'panel' gives one block per panel cell.")]

#: OpenAPI extension an assistant's action reads: a POST that changes nothing may run
#: without asking the user first; one that starts or stops work asks.
READ_ONLY: dict[str, Any] = {"x-openai-isConsequential": False}
CONSEQUENTIAL: dict[str, Any] = {"x-openai-isConsequential": True}

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


def _estimate(job: JobRecord) -> tuple[SecondsEstimate | None, str]:
    """The stored time estimate of a job and its note (or why there is none)."""
    stored = job.estimate or {}
    note = stored.get("note")
    if all(isinstance(stored.get(k), int | float) for k in ("low", "expected", "high")):
        try:
            return SecondsEstimate(low=stored["low"], expected=stored["expected"],
                                   high=stored["high"]), str(note or "")
        except ValueError:  # a damaged record: no estimate rather than a 500
            note = None
    if note:
        return None, str(note)
    if job.status in ("pending", "running"):
        return None, PENDING_NOTE
    return None, "not estimated: no worker estimated this task before it ended"


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
    estimated, note = _estimate(job)
    took = (result.get("seconds") or {}).get("seconds_total")
    sampler = dict(job.sampler or {})
    forms = sampler.pop("forms", None) or "spec"  # a search is recorded with the sampler
    return TaskStatus(
        task_id=job.id, status=job.status, progress=job.progress,  # type: ignore[arg-type]
        phase=job.phase, attempts=job.attempts, created_at=_utc(job.created_at),
        started_at=_maybe_utc(job.started_at), finished_at=_maybe_utc(job.finished_at),
        seconds_queued=_seconds(job.created_at, job.started_at or job.finished_at or now),
        seconds_running=_seconds(job.started_at, running_end), input_name=job.input_name,
        spec=job.spec, sampler=sampler, forms=forms,
        structures=result.get("structures"), carried_by=result.get("carried_by"),
        data_warnings=for_api(job.data_warnings or []),
        warnings=for_api(result.get("warnings", [])), fit_metrics=result.get("fit_metrics"),
        verdict=result.get("verdict"),
        fit_seconds=result.get("seconds"), estimated_seconds=estimated, estimate_note=note,
        actual_seconds=float(took) if job.status == "completed" and took is not None
        else None,
        divergences=result.get("divergences"), error=error, links=_links(job.id))


def find_job(store: JobStore, task_id: str, owner: str) -> JobRecord:
    """The caller's job ``task_id``; 404 (with what to do) when there is none."""
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
    job = await run_in_threadpool(find_job, store, task_id, owner)
    key = _completed(job)
    try:
        return await run_in_threadpool(fits.get, key, job.fit_sha256)
    except ArtifactDamaged as exc:
        raise await run_in_threadpool(_damaged, store, job, exc) from None


async def fit_bytes(store: JobStore, artifacts: ArtifactStore, task_id: str,
                    owner: str) -> tuple[bytes, str]:
    """The fit file of a completed task and its checksum, checked."""
    job = await run_in_threadpool(find_job, store, task_id, owner)
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
             summary="Start an MMM fit (asynchronous)", openapi_extra=CONSEQUENTIAL)
async def run_mmm(request: Request, owner: Owner,
                  settings: Annotated[Settings, Depends(get_settings)],
                  store: Annotated[JobStore, Depends(get_store)],
                  artifacts: Annotated[ArtifactStore, Depends(get_artifacts)],
                  fetcher: Annotated[Fetcher, Depends(get_fetcher)], sources: Sources,
                  dispatcher: Annotated[Dispatcher, Depends(get_dispatcher)]) -> TaskAccepted:
    """Validate the data at once (422 with every problem and its fix), store it, and queue
    the fit (forms='auto': a structure search, several fits averaged). Returns the
    task_id to poll with getTaskStatus."""
    checked: dict[str, Any] = {}

    def options(fields: RunMMMRequest) -> None:  # before any data is read or downloaded
        forms = search_forms(fields)
        checked.update(spec=build_spec(fields), sampler=sampler_options(fields))
        if forms is not None:  # the job record keeps a search beside the sampler options
            checked["sampler"]["forms"] = forms

    body, content, name = await read_submission(request, RunMMMRequest, fetcher,
                                                settings.max_upload_bytes, options,
                                                sources=sources)
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
    # No estimate here: it needs the posterior's geometry (leapfrog steps per iteration
    # vary 10x between models), which only a compiled pilot chain on a worker measures.
    return TaskAccepted(task_id=job.id, status="pending", data_warnings=for_api(warnings),
                        estimated_seconds=None, estimate_note=PENDING_NOTE,
                        links=_links(job.id))


@router.get("/tasks/{task_id}", operation_id="getTaskStatus", response_model=TaskStatus,
            responses=ERRORS, summary="Status, progress and outcome of a task")
async def get_task_status(task_id: TaskId, owner: Owner,
                          store: Annotated[JobStore, Depends(get_store)]) -> TaskStatus:
    """pending, running (with progress), completed (with warnings and fit metrics),
    failed (with a message saying what to change) or cancelled."""
    return task_status(await run_in_threadpool(find_job, store, task_id, owner))


@router.get("/tasks", operation_id="listTasks", response_model=TaskList, responses=ERRORS,
            summary="The caller's tasks, newest first")
async def list_tasks(owner: Owner, store: Annotated[JobStore, Depends(get_store)],
                     status: Annotated[Literal["pending", "running", "completed", "failed",
                                               "cancelled"] | None, Query(
                         description="Only tasks with this status.")] = None,
                     limit: Annotated[int, Query(ge=1, le=200, description=(
                         "Tasks per answer (fewer when more would pass 100,000 "
                         "characters)."))] = 20,
                     offset: Annotated[int, Query(ge=0, le=1_000_000, description=(
                         "Tasks to skip (next_offset of the previous answer)."))] = 0
                     ) -> TaskList:
    """The caller's tasks with their status, newest first, a page at a time: total says how
    many there are, next_offset where the next page starts."""
    jobs, total = await run_in_threadpool(store.list_jobs, owner, status, limit, offset)
    rows = [task_status(j).model_dump(mode="json") for j in jobs]
    shown = page(rows, limit, 0)  # cut by size; the store already applied the offset
    following = offset + len(shown.rows)
    return TaskList.model_validate({"tasks": shown.rows, "total": total, "limit": limit,
                                    "offset": offset, "next_offset": following
                                    if following < total else None})


@router.post("/tasks/{task_id}/cancel", operation_id="cancelTask", response_model=TaskStatus,
             responses=ERRORS, summary="Cancel a pending or running task",
             openapi_extra=CONSEQUENTIAL)
async def cancel_task(task_id: TaskId, owner: Owner,
                      store: Annotated[JobStore, Depends(get_store)],
                      dispatcher: Annotated[Dispatcher, Depends(get_dispatcher)]) -> TaskStatus:
    """Stop a pending or running fit: it is marked cancelled at once and its result, if it
    still arrives, is discarded. A finished task answers 409."""
    job = await run_in_threadpool(find_job, store, task_id, owner)
    if not await run_in_threadpool(store.cancel, task_id, owner):
        raise RequestError(409, "already_finished", f"task '{task_id}' is already "
                           f"{job.status}; only pending or running tasks can be cancelled")
    dispatcher.cancel(task_id)
    return task_status(await run_in_threadpool(find_job, store, task_id, owner))


@router.post("/tasks/{task_id}/rerun", operation_id="rerunTask", response_model=TaskStatus,
             responses=ERRORS, summary="Run a failed or cancelled task again",
             openapi_extra=CONSEQUENTIAL)
async def rerun_task(task_id: TaskId, owner: Owner,
                     store: Annotated[JobStore, Depends(get_store)],
                     artifacts: Annotated[ArtifactStore, Depends(get_artifacts)],
                     dispatcher: Annotated[Dispatcher, Depends(get_dispatcher)]) -> TaskStatus:
    """Queue a failed or cancelled task again from the data it was submitted with (e.g.
    after its stored fit was found damaged); it keeps its task_id."""
    job = await run_in_threadpool(find_job, store, task_id, owner)
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
    return task_status(await run_in_threadpool(find_job, store, task_id, owner))


@router.get("/tasks/{task_id}/fit", operation_id="downloadFit", responses={
    **ERRORS, 200: {"content": {"application/x-netcdf": {}},
                    "description": "The fit file; read it with bayesmmm.load."}},
            response_class=Response, summary="The whole fitted model as one NetCDF file")
async def download_fit(task_id: TaskId, owner: Owner,
                       store: Annotated[JobStore, Depends(get_store)],
                       artifacts: Annotated[ArtifactStore, Depends(get_artifacts)]) -> Response:
    """A file for scripts, not an answer to read: the posterior, data and spec as NetCDF
    (bayesmmm.load reads it: one fit, or an averaged fit of a forms search), with its
    SHA-256 in X-Checksum-SHA256."""
    data, sha = await fit_bytes(store, artifacts, task_id, owner)
    return Response(data, media_type="application/x-netcdf", headers={
        "Content-Disposition": f'attachment; filename="{task_id}.nc"',
        "X-Checksum-SHA256": sha})

