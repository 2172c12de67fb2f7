"""Endpoints that need no task: data validation, synthetic data, health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

import bayesmmm
from bayesmmm.errors import BayesMMMError
from bayesmmm.service._deps import get_fetcher, get_service, get_settings
from bayesmmm.service._errors import RequestError
from bayesmmm.service._fetch import Fetcher
from bayesmmm.service._ingest import build_spec, read_submission
from bayesmmm.service._routes_tasks import ERRORS
from bayesmmm.service._schemas import (
    Health,
    ModelChoice,
    SyntheticRequest,
    ValidateRequest,
    ValidationResponse,
)
from bayesmmm.service._security import get_owner
from bayesmmm.service._service import Service
from bayesmmm.service._settings import Settings
from bayesmmm.service._tables import frame_rows, read_table

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["tools"])


@router.post("/validate", operation_id="validateData", response_model=ValidationResponse,
             responses={**ERRORS, 413: {"description": "The file is over the size limit."}},
             summary="Check a table without fitting")
async def validate_data(request: Request, _owner: Annotated[str, Depends(get_owner)],
                        settings: Annotated[Settings, Depends(get_settings)],
                        fetcher: Annotated[Fetcher, Depends(get_fetcher)]
                        ) -> ValidationResponse:
    """Every problem at once, each with the column, the rule and a pandas fix, as
    ``bayesmmm validate`` prints them. ok is false when any error would refuse a fit."""
    body, content, name = await read_submission(request, ValidateRequest, fetcher,
                                                settings.max_upload_bytes)
    columns = body.model_dump(exclude={"openaiFileIdRefs", "sep"}, exclude_none=True)
    spec = build_spec(ModelChoice(**columns))

    def run() -> dict[str, Any]:
        from bayesmmm.data import validate

        table = read_table(content, name, body.sep)
        try:
            return validate(table, **spec.data_kwargs()).to_dict()
        except BayesMMMError as exc:
            raise RequestError(422, "invalid_options", str(exc)) from None

    return ValidationResponse(**await run_in_threadpool(run))


@router.post("/synthetic-data", operation_id="generateSyntheticData",
             responses={**ERRORS, 200: {"content": {"text/csv": {}, "application/json": {}},
                                        "description": "JSON (data rows, truth, spec) or CSV."}},
             summary="Simulate a data set with known ground truth")
async def generate_synthetic_data(body: SyntheticRequest,
                                  _owner: Annotated[str, Depends(get_owner)]) -> Response:
    """A preset's simulated table, its true parameters, ROI and contributions summary, and
    the matching model spec (ready for runMMMAsync)."""
    def run() -> Any:
        from bayesmmm.synth import simulate_preset

        try:
            return simulate_preset(body.preset, body.seed)
        except BayesMMMError as exc:
            raise RequestError(422, "invalid_options", str(exc)) from None

    sim = await run_in_threadpool(run)
    if body.format == "csv":
        return Response(sim.data.to_csv(index=False), media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{body.preset}_{body.seed}.csv"'})
    spec = {k: list(v) if isinstance(v, tuple) else v for k, v in sim.spec_kwargs.items()}
    truth = {k: v for k, v in sim.truth.items() if k not in ("contributions", "noise")}
    return JSONResponse({"preset": body.preset, "seed": body.seed, "spec": spec,
                         "truth": truth, "columns": [str(c) for c in sim.data.columns],
                         "rows": frame_rows(sim.data)})


@router.get("/health", operation_id="health", response_model=Health,
            responses={503: {"description": "The job store is unreachable."}},
            summary="Is the service up")
async def health(service: Annotated[Service, Depends(get_service)]) -> JSONResponse:
    database = "ok"
    try:
        await run_in_threadpool(service.store.ping)
    except Exception:
        database = "unreachable"
    try:
        executor = await run_in_threadpool(service.executor.info)
    except Exception:
        executor = {"executor": "unreachable"}
    ok = database == "ok"
    body = Health(status="ok" if ok else "degraded", version=bayesmmm.__version__,
                  database=database, executor=executor)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
