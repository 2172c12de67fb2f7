"""The BayesMMM REST API as the MCP server sees it: one async client, the data a tool is
given (a path, a link, CSV text, or a source the service's operator named) turned into a
request, and the service's error bodies turned into :class:`ServiceError`.

The MCP server computes no model answer of its own: every number comes from the
service's public operations (``docs/service.md``) or from the fit file it serves.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

__all__ = ["DataSource", "ServiceClient", "ServiceError", "data_source", "named_source"]

#: How to give a table, for messages.
DATA_HOW = ("pass a path to a CSV or Parquet file on the machine the MCP server runs on, an "
            "http(s) link to one, or the CSV text itself (header row first)")
#: ... and the other way, for a tool that takes ``source`` too.
SOURCE_HOW = ("or, instead of data, source={name, table} (or {name, query, params}) naming "
              "one of the sources list_sources shows")


#: The service's operation ids as its messages name them, and the tools that call them.
_TOOLS = {"runMMMAsync": "start_fit", "getTaskStatus": "get_status",
          "validateData": "validate_data", "getSummaryStatistics": "get_summary"}


class ServiceError(Exception):
    """An answer of the service that is not a success, or a service that cannot be
    reached; ``detail`` says what is wrong and how to fix it (the service's words)."""

    def __init__(self, status: int, code: str, detail: str,
                 extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.extra = dict(extra or {})

    def payload(self) -> dict[str, Any]:
        detail = self.detail
        for operation, tool in _TOOLS.items():
            detail = detail.replace(operation, tool)
        out: dict[str, Any] = {"error": self.code, "detail": detail}
        if self.status:
            out["http_status"] = self.status
        validation = self.extra.get("validation")
        if validation:  # as `bayesmmm validate` lists them: each with its rule and fix
            out["problems"] = _problems(validation)
        if self.extra.get("errors"):
            out["fields"] = self.extra["errors"]
        return out


def _problems(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every problem of a validation report, errors first, each with its fix code."""
    keep = ("severity", "code", "column", "message", "rule", "fix")
    return [{k: p.get(k) for k in keep} for p in [*report.get("errors", []),
                                                    *report.get("warnings", [])]]


@dataclass(frozen=True)
class DataSource:
    """A table for the service: ``content`` and ``name`` to upload, ``link`` to fetch, or
    ``source`` (``{name, table, query, params}``) for the service to read from a source
    its operator named."""

    name: str
    content: bytes | None = None
    link: str | None = None
    path: str | None = None
    source: Mapping[str, Any] | None = None

    @property
    def kind(self) -> str:
        if self.source is not None:
            return "named source"
        return "link" if self.link else "file" if self.path else "inline CSV"


def named_source(source: Mapping[str, Any]) -> DataSource:
    """A table the service reads from one of its named sources (``list_sources``)."""
    ref = {k: v for k, v in source.items() if v not in (None, {}, "")}
    where = f"/{ref['table']}" if "table" in ref else "/query" if "query" in ref else ""
    return DataSource(name=f"source:{ref.get('name', '')}{where}", source=ref)


def data_source(data: str, *, allow_paths: bool = True, root: Path | None = None
                ) -> DataSource:
    """What ``data`` names: an ``http(s)://`` link, CSV text (it has a line break) or a
    file path (absolute, or relative to the server's working folder).

    ``allow_paths`` False (an MCP server reachable over HTTP without ``--data-dir``)
    refuses paths; ``root`` limits them to one folder.
    """
    from bayesmmm.errors import DataLoadError

    text = data.strip()
    if not text:
        raise DataLoadError(f"no data given. Fix: {DATA_HOW}")
    if text.lower().startswith(("http://", "https://")):
        name = text.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "data.csv"
        return DataSource(name=name, link=text)
    if "\n" in text:
        return DataSource(name="inline.csv", content=(text + "\n").encode("utf-8"))
    if not allow_paths:
        raise DataLoadError(
            f"'{text}' looks like a file path, but this MCP server does not read files (it "
            "is reachable over HTTP and was started without --data-dir). Fix: pass an "
            "http(s) link or the CSV text, or restart it with --data-dir FOLDER")
    path = Path(text).expanduser()
    if root is not None:
        resolved, base = path.resolve(), root.resolve()
        if not resolved.is_relative_to(base):
            raise DataLoadError(f"file '{text}' is outside the data folder '{base}' this MCP "
                                "server may read. Fix: copy the file into that folder")
        path = resolved
    if not path.exists():
        raise DataLoadError(f"file '{text}' does not exist. Fix: check the path (the MCP "
                            "server reads it on its own machine), or pass a link or CSV text")
    if path.is_dir():
        raise DataLoadError(f"'{text}' is a folder, not a file. Fix: {DATA_HOW}")
    return DataSource(name=path.name, content=path.read_bytes(), path=str(path))


def _form(fields: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """Multipart form fields as runMMMAsync reads them: lists repeat, mappings are JSON
    text, booleans are true/false."""
    out: dict[str, str | list[str]] = {}
    for key, value in fields.items():
        if value is None or (isinstance(value, list | tuple) and not value):
            continue
        if isinstance(value, list | tuple):
            out[key] = [str(v) for v in value]
        elif isinstance(value, Mapping):
            out[key] = json.dumps(value)
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


class ServiceClient:
    """Async client of one BayesMMM service (``base_url`` without ``/v1``).

    ``ready`` is awaited before the first request (a local service that is still
    starting); ``api_key`` goes out as ``Authorization: Bearer``.
    """

    def __init__(self, base_url: str, api_key: str | None = None, *,
                 ready: Callable[[httpx.AsyncClient], Awaitable[None]] | None = None,
                 timeout: float = 300.0, transport: httpx.AsyncBaseTransport | None = None
                 ) -> None:
        base = base_url.rstrip("/")
        self.base_url = base[:-3] if base.endswith("/v1") else base
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=headers,
                                       timeout=timeout, transport=transport)
        self._ready = ready
        self._is_ready = ready is None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call to ``/v1{path}``; a non-2xx answer raises :class:`ServiceError`."""
        if not self._is_ready and self._ready is not None:
            await self._ready(self._http)
            self._is_ready = True
        try:
            response = await self._http.request(method, f"/v1{path}", **kwargs)
        except httpx.TimeoutException:
            raise ServiceError(0, "service_timeout", f"the BayesMMM service at "
                               f"{self.base_url} did not answer in time. Fix: try again; "
                               "if it persists, check the service's load") from None
        except httpx.HTTPError as exc:
            raise ServiceError(0, "service_unreachable", f"the BayesMMM service at "
                               f"{self.base_url} cannot be reached ({type(exc).__name__}). "
                               "Fix: check that it runs and the URL is right") from None
        if response.status_code >= 400:
            raise _error_of(response)
        return response

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return (await self.request(method, path, **kwargs)).json()

    async def submit(self, path: str, source: DataSource, fields: Mapping[str, Any]) -> Any:
        """A table and its fields: multipart upload, or JSON with ``openaiFileIdRefs`` or
        a named ``source``."""
        if source.source is not None:
            body = {k: v for k, v in fields.items() if v is not None}
            return await self.json("POST", path, json={**body, "source": dict(source.source)})
        if source.link:
            ref = {"name": source.name, "id": "mcp", "download_link": source.link}
            body = {k: v for k, v in fields.items() if v is not None}
            return await self.json("POST", path, json={**body, "openaiFileIdRefs": [ref]})
        assert source.content is not None
        return await self.json("POST", path, data=_form(fields),
                               files={"file": (source.name, source.content)})


def _error_of(response: httpx.Response) -> ServiceError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = str(body.get("detail") or f"HTTP {response.status_code} from the service")
    code = str(body.get("code") or f"http_{response.status_code}")
    return ServiceError(response.status_code, code, detail,
                        {k: v for k, v in body.items() if k not in ("detail", "code")})
