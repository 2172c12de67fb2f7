"""The FastAPI application: routers, error bodies, the body limit and the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

import bayesmmm
from bayesmmm.errors import BayesMMMError
from bayesmmm.service import web
from bayesmmm.service._advice import for_api
from bayesmmm.service._errors import RequestError
from bayesmmm.service._settings import Settings, default_home
from bayesmmm.service.api import (
    _routes_answers,
    _routes_plan,
    _routes_plots,
    _routes_tasks,
    _routes_tools,
)
from bayesmmm.service.api._ingest import describe_errors, parse_json, too_deep
from bayesmmm.service.api._schemas import (
    JSON_FIELDS,
    LIST_FIELDS,
    ExploreRequest,
    InspectRequest,
    PredictRequest,
    RunMMMRequest,
    ValidateRequest,
)
from bayesmmm.service.api._security import BodyLimit, SecurityHeaders
from bayesmmm.service.api._service import Service

__all__ = ["create_app"]

log = logging.getLogger("bayesmmm.service")

_DESCRIPTION = """Bayesian marketing mix models over HTTP, asynchronously.

Start a fit with **runMMMAsync** (the data as a multipart upload, by
`openaiFileIdRefs` links, or as a `source` the operator named: **listSources**), poll
**getTaskStatus** until it is `completed`, then read **getSummaryStatistics**,
contributions, ROI and media share, or predict new periods.
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
                  if settings.public_url else None, docs_url=None, redoc_url=None,
                  openapi_url=None)  # served below, with servers for each request
    if service is not None:
        app.state.service = service
    app.include_router(_routes_tasks.router)
    app.include_router(_routes_answers.router)
    app.include_router(_routes_plots.router)
    app.include_router(_routes_plan.router)
    app.include_router(_routes_tools.router)
    web.mount(app)
    _mount_document(app, settings)
    _mount_docs(app)
    app.add_middleware(JsonGuard)
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: every response gets its headers
    _add_error_handlers(app, _server_paths(settings))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _error(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": "30"}
    body = for_api({"detail": detail, **extra})  # advice as request fields, not CLI flags
    return JSONResponse({"detail": body.pop("detail"), "code": code, **body},
                        status_code=status, headers=headers)


def _server_paths(settings: Settings) -> re.Pattern[str]:
    """Folders of this server that must never appear in a response: the artifacts, the
    database's folder, the home and the temporary folder, with what follows them."""
    roots = {settings.artifacts, str(default_home()), tempfile.gettempdir()}
    if settings.database_url.startswith("sqlite:///"):
        roots.add(settings.database_url[len("sqlite:///"):].rsplit("/", 1)[0])
    roots = {r.rstrip("/") for r in roots if r and r.startswith("/") and len(r) > 1}
    alternatives = "|".join(re.escape(r) for r in sorted(roots, key=len, reverse=True))
    return re.compile(rf"(?:{alternatives})(?:/[^\s'\"]*)?")


class JsonGuard:
    """ASGI middleware: a JSON body nested deeper than the service takes (or deep enough
    to exhaust Python's recursion) answers 422 before any route parses it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if scope["type"] != "http" or ctype != b"application/json":
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        try:
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
            parse_json(body)
        except RequestError as exc:  # too large (the body limit) or nested too deeply
            detail = json.dumps({"detail": str(exc), "code": exc.code, **exc.extra}).encode()
            await send({"type": "http.response.start", "status": exc.status, "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(detail)).encode())]})
            await send({"type": "http.response.body", "body": detail})
            return
        except ValueError:
            pass  # not JSON: the route says so in its own words
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return dict(await receive())

        await self.app(scope, replay, send)


def _mount_document(app: FastAPI, settings: Settings) -> None:
    """``/openapi.json`` with ``servers`` always present (an assistant's action calls the
    first): ``BAYESMMM_PUBLIC_URL`` when set, else the base URL this request came to."""

    async def document(request: Request) -> JSONResponse:
        url = settings.public_url or str(request.base_url)
        return JSONResponse({**app.openapi(), "servers": [{"url": url.rstrip("/")}]})

    app.add_api_route("/openapi.json", document, methods=["GET"], include_in_schema=False)


def _mount_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from a locally installed ``swagger-ui-bundle`` package, never
    from a CDN; without that package a page that says so and links the API document."""
    try:
        import swagger_ui_bundle  # type: ignore[import-not-found]
    except ImportError:
        swagger_ui_bundle = None

    if swagger_ui_bundle is not None:
        from fastapi.openapi.docs import get_swagger_ui_html
        from fastapi.staticfiles import StaticFiles

        app.mount("/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
                  name="swagger-ui")

        async def docs() -> HTMLResponse:
            return get_swagger_ui_html(
                openapi_url="/openapi.json", title="BayesMMM API",
                swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                swagger_css_url="/docs/assets/swagger-ui.css",
                swagger_favicon_url="/docs/assets/favicon-32x32.png")
    else:
        async def docs() -> HTMLResponse:
            return HTMLResponse(_OFFLINE_DOCS, headers={
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)


_OFFLINE_DOCS = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>BayesMMM API</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;
margin:3rem auto;padding:0 1rem;color:#1f2937}code{background:#f3f4f6;padding:0 .2rem}
</style></head><body><h1>BayesMMM API</h1>
<p>The interactive documentation (Swagger UI) is off: this installation does not bundle
its files, and the service loads nothing from the internet.</p>
<p>The API document is <a href="/openapi.json">/openapi.json</a>: import it into any
OpenAPI viewer, or an assistant's action editor. The guide is docs/service.md.</p>
<p>Operators: <code>pip install swagger-ui-bundle</code> and restart, and this page
becomes Swagger UI, served from this server.</p>
<p><a href="/">The dashboard</a></p></body></html>"""


#: A fix for a refusal whose message (often the library's own) states the rule but no
#: "Fix:"; by error code.
_GENERIC_FIX = {
    "invalid_options": "change that option as the message says; getModelOptions lists the "
                       "names the service accepts",
    "invalid_request": "send the fields the API documentation (/openapi.json) describes",
    "invalid_data": "correct the data as 'validation' lists it",
    "unreadable_table": "send a UTF-8 CSV or a Parquet file",
}


def _with_fix(status: int, code: str, detail: str) -> str:
    if not 400 <= status < 500 or "Fix:" in detail:
        return detail
    fix = _GENERIC_FIX.get(code, "change the request as the message says (see /openapi.json)")
    return f"{detail.rstrip()}{'' if detail.rstrip().endswith('.') else '.'} Fix: {fix}"


def _add_error_handlers(app: FastAPI, paths: re.Pattern[str]) -> None:
    def clean(text: str) -> str:
        return paths.sub("<server file>", text)

    async def request_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestError)
        return _error(exc.status, exc.code, _with_fix(exc.status, exc.code, clean(str(exc))),
                      **exc.extra)

    async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        message, items = describe_errors(list(exc.errors()))
        return _error(422, "invalid_request", message, errors=items)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        fix = {404: "Fix: the API's paths start with /v1 (see /openapi.json); the dashboard "
                    "is at /", 405: "Fix: use the method /openapi.json gives for this path"}
        detail = str(exc.detail)
        if exc.status_code in fix and "Fix:" not in detail:
            detail = f"{detail}. {fix[exc.status_code]}"
        return _error(exc.status_code, f"http_{exc.status_code}", clean(detail))

    async def library_error(_: Request, exc: Exception) -> JSONResponse:
        return _error(422, type(exc).__name__,
                      _with_fix(422, "invalid_options", clean(str(exc))))

    async def too_deep_error(_: Request, exc: Exception) -> JSONResponse:
        error = too_deep("")
        return _error(error.status, error.code, str(error), **error.extra)

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
    app.add_exception_handler(RecursionError, too_deep_error)
    app.add_exception_handler(Exception, internal_error)


def _form_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The multipart form version of a JSON body: the table as ``file`` (or a ``source``);
    lists repeat (or are comma-separated); JSON-valued fields are JSON strings."""
    props: dict[str, Any] = {"file": {"type": "string", "format": "binary",
                                      "description": "The table: CSV (UTF-8) or Parquet "
                                      "(or send source instead)."}}
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
    return {"type": "object", "required": list(schema.get("required", [])),
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
