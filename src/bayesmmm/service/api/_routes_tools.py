"""Endpoints that need no task: data validation, inspection and exploratory plots, model
options, named data sources, synthetic data, health."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

import bayesmmm
from bayesmmm.errors import BayesMMMError, DataValidationError
from bayesmmm.priors import ALLOWED_DISTRIBUTIONS
from bayesmmm.service._advice import for_api
from bayesmmm.service._errors import RequestError
from bayesmmm.service._settings import Settings
from bayesmmm.service.api._deps import Sources, get_fetcher, get_service, get_settings
from bayesmmm.service.api._fetch import Fetcher
from bayesmmm.service.api._guess import describe_columns, guess_roles
from bayesmmm.service.api._ingest import build_spec, read_submission
from bayesmmm.service.api._limits import FORMS
from bayesmmm.service.api._paging import MAX_CHARS, page
from bayesmmm.service.api._routes_plots import PLOT_NAMES
from bayesmmm.service.api._routes_tasks import ERRORS, READ_ONLY
from bayesmmm.service.api._sampler import SamplerChoice
from bayesmmm.service.api._schemas import (
    SPEC_DEFAULTS,
    DataColumns,
    ExploreRequest,
    ExploreResponse,
    Health,
    InspectRequest,
    InspectResponse,
    ModelChoice,
    ModelOptions,
    PlotInfo,
    SyntheticRequest,
    ValidateRequest,
    ValidationResponse,
)
from bayesmmm.service.api._security import get_owner, has_valid_key
from bayesmmm.service.api._service import Service
from bayesmmm.service.api._sources import SourceList
from bayesmmm.service.api._tables import frame_rows, read_table, validation_error

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["tools"])

_TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"description": "The file (or a named source's table) is over the size limit."}}


def _data_kwargs(body: DataColumns) -> dict[str, Any]:
    """The columns and options ``bayesmmm.validate`` / ``prepare`` take, checked as
    runMMMAsync checks them."""
    columns = body.model_dump(include=set(DataColumns.model_fields) - {"sep"},
                              exclude_none=True)
    kwargs: dict[str, Any] = build_spec(ModelChoice(**columns)).data_kwargs()
    return kwargs


@router.post("/validate", operation_id="validateData", response_model=ValidationResponse,
             responses={**ERRORS, **_TOO_LARGE},
             summary="Check a table without fitting", openapi_extra=READ_ONLY)
async def validate_data(request: Request, _owner: Annotated[str, Depends(get_owner)],
                        settings: Annotated[Settings, Depends(get_settings)],
                        fetcher: Annotated[Fetcher, Depends(get_fetcher)],
                        sources: Sources) -> ValidationResponse:
    """Every problem at once, each with the column, the rule and a pandas fix, as
    ``bayesmmm validate`` prints them. ok is false when any error would refuse a fit."""
    body, content, name = await read_submission(request, ValidateRequest, fetcher,
                                                settings.max_upload_bytes, sources=sources)
    kwargs = _data_kwargs(body)

    def run() -> dict[str, Any]:
        from bayesmmm.data import validate

        table = read_table(content, name, body.sep)
        try:
            return validate(table, **kwargs).to_dict()
        except BayesMMMError as exc:
            raise RequestError(422, "invalid_options", str(exc)) from None

    return ValidationResponse(**for_api(await run_in_threadpool(run)))


@router.post("/inspect", operation_id="inspectData", response_model=InspectResponse,
             responses={**ERRORS, **_TOO_LARGE},
             summary="Columns of a table and a guess of their roles",
             openapi_extra=READ_ONLY)
async def inspect_data(request: Request, _owner: Annotated[str, Depends(get_owner)],
                       settings: Annotated[Settings, Depends(get_settings)],
                       fetcher: Annotated[Fetcher, Depends(get_fetcher)],
                       sources: Sources) -> InspectResponse:
    """Each column's kind (date, number, text), missing values and first values, and a
    guess of the date, target, channel, control and panel columns, to confirm with the
    user before validateData and runMMMAsync."""
    body, content, name = await read_submission(request, InspectRequest, fetcher,
                                                settings.max_upload_bytes, sources=sources)

    def run() -> InspectResponse:
        table = read_table(content, name, body.sep)
        return InspectResponse.model_validate({
            "name": name, "n_rows": len(table), "columns": describe_columns(table),
            "guess": guess_roles(table)})

    return await run_in_threadpool(run)


@router.post("/explore", operation_id="exploreData", response_model=ExploreResponse,
             responses={**ERRORS, **_TOO_LARGE}, summary="Exploratory plots before any fit",
             openapi_extra=READ_ONLY)
async def explore_data(request: Request, _owner: Annotated[str, Depends(get_owner)],
                       settings: Annotated[Settings, Depends(get_settings)],
                       fetcher: Annotated[Fetcher, Depends(get_fetcher)],
                       sources: Sources) -> Response:
    """The exploratory plots of bayesmmm eda as Plotly figure JSON (spend, sales,
    correlations, seasonality, outliers), a page at a time (offset, next_offset), with the
    periods, outlier dates and validation warnings. Invalid data answers 422."""
    body, content, name = await read_submission(request, ExploreRequest, fetcher,
                                                settings.max_upload_bytes, sources=sources)
    kwargs = _data_kwargs(body)

    def run() -> str:
        from bayesmmm.data import prepare
        from bayesmmm.report import eda_figures, plot_data_outliers

        table = read_table(content, name, body.sep)
        try:
            data, report = prepare(table, **kwargs)
            if body.panel is not None and not data.is_panel:
                raise RequestError(422, "invalid_options", f"panel '{body.panel}' asked for, "
                                   "but the data has no panel columns. Fix: leave 'panel' "
                                   "out, or name the panel columns in 'panel_columns'")
            figures = eda_figures(data, panel=body.panel)
            flagged = plot_data_outliers(data, panel=body.panel)
        except DataValidationError as exc:
            raise validation_error(exc) from None
        except BayesMMMError as exc:
            raise RequestError(422, "invalid_options", str(exc)) from None
        head = {"name": name, "n_periods": data.n_times, "frequency": data.frequency,
                "start": f"{data.dates[0]:%Y-%m-%d}", "end": f"{data.dates[-1]:%Y-%m-%d}",
                "panel": body.panel, "panels": list(data.panels),
                "outliers": [f"{d:%Y-%m-%d}" for d in flagged.loc[flagged["outlier"], "date"]],
                "warnings": for_api(report.to_dict()["warnings"])}
        # Each figure goes out exactly as fig.to_json() writes it (as getPlot does), as
        # many from ``offset`` as fit in one answer
        parts = [f'{{"name": {json.dumps(key)}, "figure": {figure.to_json()}}}'
                 for key, figure in figures.items()]
        shown = page(parts, body.limit, body.offset, rest=head, sizes=[len(p) for p in parts],
                     max_chars=None if body.all_figures else MAX_CHARS)
        tail = {"total_figures": shown.total_rows, "offset": body.offset,
                "next_offset": shown.next_offset}
        return (f'{json.dumps(head)[:-1]}, {json.dumps(tail)[1:-1]}, '
                f'"figures": [{", ".join(shown.rows)}]}}')

    return Response(await run_in_threadpool(run), media_type="application/json")


def _prior_defaults() -> dict[str, dict[str, Any]]:
    """The default prior of every parameter name over all forms, trends and the ROI
    media prior (a name shared by forms has one default: the registries' contract)."""
    from bayesmmm.model import TRENDS, ModelSpec
    from bayesmmm.transforms import ADSTOCKS, SATURATIONS

    base = ModelSpec(date_column="date", y_column="y", channel_columns=("x",))
    specs = [base.replace(adstock=a) for a in ADSTOCKS.names()]
    specs += [base.replace(saturation=s) for s in SATURATIONS.names()]
    specs += [base.replace(trend=t) for t in TRENDS] + [base.replace(media_prior="roi")]
    out: dict[str, dict[str, Any]] = {}
    for spec in specs:
        for name, prior in spec.default_priors().items():
            out.setdefault(name, prior.to_dict())
    return dict(sorted(out.items()))


@router.get("/model-options", operation_id="getModelOptions", response_model=ModelOptions,
            summary="The model forms and presets this installation knows")
async def get_model_options(_owner: Annotated[str, Depends(get_owner)]) -> ModelOptions:
    """Names accepted by runMMMAsync's ``preset``, ``adstock``, ``saturation``, ``trend``
    and ``forms`` (structure_search: the default candidates and limits), the plots
    getPlot draws, and runMMMAsync's defaults."""
    from bayesmmm.analysis import AUTO_ADSTOCKS, AUTO_SATURATIONS
    from bayesmmm.data import holiday_countries
    from bayesmmm.model import PRESETS, TRENDS
    from bayesmmm.report import PLOTS
    from bayesmmm.transforms import ADSTOCKS, SATURATIONS

    sampler = {name: field.default for name, field in SamplerChoice.model_fields.items()}
    defaults = {**SPEC_DEFAULTS, **sampler, "preset": "classic",
                "adstock": "geometric", "saturation": "logistic", "trend": "none",
                "forms": "spec"}
    return ModelOptions(presets=list(PRESETS.names()), adstocks=list(ADSTOCKS.names()),
                        holiday_countries=holiday_countries(), priors=_prior_defaults(),
                        distributions={name: list(params) for name, (_, params)
                                       in ALLOWED_DISTRIBUTIONS.items()},
                        saturations=list(SATURATIONS.names()), trends=list(TRENDS),
                        plots=list(PLOT_NAMES), defaults=defaults, structure_search={
                            "adstock": list(AUTO_ADSTOCKS),
                            "saturation": list(AUTO_SATURATIONS), **FORMS},
                        plot_info=[
                            PlotInfo(name=p.name, group=p.group, description=p.description)
                            for p in PLOTS.of("fit")])


@router.get("/sources", operation_id="listSources", response_model=SourceList,
            responses={401: ERRORS[401]}, summary="Data sources the operator named")
async def list_sources(_owner: Annotated[str, Depends(get_owner)],
                       sources: Sources) -> SourceList:
    """Each named source: its kind, description, the tables users may read whole and
    whether they may send a query. Send source: {name, table} (or {name, query, params})
    instead of a file to runMMMAsync, validateData, inspectData, exploreData or
    predictWithModel. Addresses stay on the server."""
    return sources.listing()


@router.post("/synthetic-data", operation_id="generateSyntheticData",
             responses={**ERRORS, 200: {"content": {"text/csv": {}, "application/json": {}},
                                        "description": "JSON (data rows, truth, spec) or CSV."}},
             summary="Simulate a data set with known ground truth", openapi_extra=READ_ONLY)
async def generate_synthetic_data(body: SyntheticRequest,
                                  _owner: Annotated[str, Depends(get_owner)]) -> Response:
    """A preset's simulated table (json: rows paged by limit and offset; csv: the whole
    file), its true parameters, ROI and contributions summary, and the matching model spec
    (ready for runMMMAsync). Stores nothing."""
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
    answer = {"preset": body.preset, "seed": body.seed, "spec": spec, "truth": truth,
              "columns": [str(c) for c in sim.data.columns]}
    shown = page(frame_rows(sim.data), body.limit, body.offset, rest=answer)
    return JSONResponse({**answer, "rows": shown.rows, **shown.fields()})


@router.get("/health", operation_id="health", response_model=Health,
            responses={503: {"description": "The job store is unreachable or refuses writes, "
                                            "or the dispatcher's passes fail."}},
            summary="Is the service up")
async def health(request: Request,
                 service: Annotated[Service, Depends(get_service)]) -> JSONResponse:
    """Whether the job store answers and accepts writes (a probe write now, and the last
    refused write), the dispatcher's state and the workers. No API key needed; the
    scheduler's address only for a caller with a valid key."""
    from bayesmmm.service._errors import StoreUnavailable

    database = "ok"
    try:
        await run_in_threadpool(service.store.ping)
    except Exception:
        database = "unreachable"
    store: dict[str, Any] = {"writable": False}
    if database == "ok":
        try:
            await run_in_threadpool(service.store.probe_write)
            store["writable"] = True
        except StoreUnavailable as exc:
            database = exc.kind
            store["reason"] = exc.reason
        except Exception as exc:  # a store without the probe table (not migrated) ...
            database = "error"
            store["reason"] = f"the probe write failed ({type(exc).__name__})"
    failure = service.store.health.failure
    if failure is not None:
        store["last_failure"] = failure.to_dict()
    try:
        executor = dict(await asyncio.wait_for(run_in_threadpool(service.executor.info), 10))
    except Exception:  # a scheduler that is gone may not even answer
        executor = {"executor": "unreachable", "connected": False, "workers": 0}
    if not has_valid_key(request):  # an internal address is for operators only
        executor.pop("scheduler", None)
    dispatcher = service.dispatcher.state()
    runs_fits = executor.get("connected", True) and executor.get("workers", 1) > 0
    if not runs_fits:
        executor["reason"] = ("no worker is connected: fits wait in the queue until one "
                              "joins (bayesmmm worker ADDRESS)" if executor.get("connected",
                                                                                True)
                              else "the Dask scheduler cannot be reached: fits wait in the "
                                   "queue until it is back")
    ok = database == "ok" and dispatcher["state"] == "ok" and runs_fits
    body = Health(status="ok" if ok else "degraded", version=bayesmmm.__version__,
                  database=database, executor=executor, store=store, dispatcher=dispatcher)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
