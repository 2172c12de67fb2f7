"""The FastAPI application: routers, error bodies, the body limit and the OpenAPI document."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

import bayesmmm
from bayesmmm.errors import BayesMMMError
from bayesmmm.service import web
from bayesmmm.service._errors import RequestError
from bayesmmm.service._settings import Settings
from bayesmmm.service.api import _routes_plan, _routes_plots, _routes_tasks, _routes_tools
from bayesmmm.service.api._ingest import describe_errors
from bayesmmm.service.api._schemas import (
    JSON_FIELDS,
    LIST_FIELDS,
    ExploreRequest,
    InspectRequest,
    PredictRequest,
    RunMMMRequest,
    ValidateRequest,
)
from bayesmmm.service.api._security import BodyLimit
from bayesmmm.service.api._service import Service

__all__ = ["create_app"]

log = logging.getLogger("bayesmmm.service")

_DESCRIPTION = """Bayesian marketing mix models over HTTP, asynchronously.

Start a fit with **runMMMAsync** (the data as a multipart upload, or by
`openaiFileIdRefs` links), poll **getTaskStatus** until it is `completed`, then read
**getSummaryStatistics**, contributions, ROI and media share, or predict new periods.
Invalid data is refused at once (422) with every problem and a fix for each."""

# Operations whose body is a table: JSON (file links) or multipart (an upload).
_TABLE_BODIES: dict[str, type[BaseModel]] = {
    "runMMMAsync": RunMMMRequest, "validateData": ValidateRequest,
    "predictWithModel": PredictRequest, "inspectData": InspectRequest,
    "exploreData": ExploreRequest}


def create_app(settings: Settings | None = None, *, service: Service | None = None,
               manage: bool = True) -> FastAPI:
    """The BayesMMM API.

    Parameters
    ----------
    settings : Settings, optional
        Default :meth:`Settings.from_env`; ignored when ``service`` is given.
    service : Service, optional
        Prebuilt parts (tests pass an inline executor, a memory store ...); default
        :meth:`Service.build` from ``settings`` at start-up.
    manage : bool
        Start the service (migrations, executor, dispatcher thread) when the app starts
        and stop it when it stops. Tests that drive jobs step by step pass False and
        call ``service.start(background=False)`` and ``service.drain()`` themselves.
    """
    settings = service.settings if service is not None else settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not hasattr(app.state, "service"):
            app.state.service = Service.build(settings)
        running: Service = app.state.service
        if manage:  # the Dask client must not start inside this event loop's thread
            await asyncio.to_thread(running.start)
        try:
            yield
        finally:
            if manage:
                await asyncio.to_thread(running.stop)

    app = FastAPI(title="BayesMMM API", version=bayesmmm.__version__, description=_DESCRIPTION,
                  lifespan=lifespan, servers=[{"url": settings.public_url}]
                  if settings.public_url else None)
    if service is not None:
        app.state.service = service
    app.include_router(_routes_tasks.router)
    app.include_router(_routes_plots.router)
    app.include_router(_routes_plan.router)
    app.include_router(_routes_tools.router)
    web.mount(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    _add_error_handlers(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _error(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": detail, "code": code, **extra}, status_code=status,
                        headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    async def request_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestError)
        return _error(exc.status, exc.code, str(exc), **exc.extra)

    async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        message, items = describe_errors(list(exc.errors()))
        return _error(422, "invalid_request", message, errors=items)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return _error(exc.status_code, f"http_{exc.status_code}", str(exc.detail))

    async def library_error(_: Request, exc: Exception) -> JSONResponse:
        return _error(422, type(exc).__name__, str(exc))

    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        reference = uuid.uuid4().hex[:12]
        log.error("internal error on %s %s (reference %s)", request.method, request.url.path,
                  reference, exc_info=exc)
        return _error(500, "internal_error", f"internal error; reference {reference}. Please "
                      "report it with the reference")

    app.add_exception_handler(RequestError, request_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(BayesMMMError, library_error)
    app.add_exception_handler(Exception, internal_error)


def _form_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The multipart form version of a JSON body: the table as ``file``; lists repeat
    (or are comma-separated); JSON-valued fields are JSON strings."""
    props: dict[str, Any] = {"file": {"type": "string", "format": "binary",
                                      "description": "The table: CSV (UTF-8) or Parquet."}}
    for name, prop in schema.get("properties", {}).items():
        if name == "openaiFileIdRefs":
            continue
        if name in LIST_FIELDS:
            props[name] = {"type": "array", "items": {"type": "string"},
                           "description": prop.get("description", "")}
        elif name in JSON_FIELDS:
            props[name] = {"type": "string", "description": prop.get("description", "")
                           + " (a JSON object as text)."}
        else:
            props[name] = prop
    return {"type": "object", "required": ["file", *schema.get("required", [])],
            "properties": props}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes, servers=app.servers)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            model = _TABLE_BODIES.get(operation.get("operationId", ""))
            if model is None:
                continue
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(schema.pop("$defs", {}))
            components[model.__name__] = schema
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/"
                                                        f"{model.__name__}"}},
                "multipart/form-data": {"schema": _form_schema(schema)},
            }}
    app.openapi_schema = doc
    return doc
