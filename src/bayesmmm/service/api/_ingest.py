"""Reading a request that carries a table: multipart upload or JSON with file links."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile

from bayesmmm.errors import SpecError
from bayesmmm.service._errors import RequestError
from bayesmmm.service._names import display_name
from bayesmmm.service.api._fetch import Fetcher
from bayesmmm.service.api._sampler import SamplerChoice
from bayesmmm.service.api._schemas import JSON_FIELDS, LIST_FIELDS, ModelChoice

__all__ = ["read_submission", "describe_errors", "build_spec"]

M = TypeVar("M", bound=BaseModel)

_HOW = ("send multipart/form-data with the table as the 'file' part, or application/json "
        "with openaiFileIdRefs: [{name, id, mime_type, download_link}]")


def describe_errors(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    """Pydantic errors -> one readable sentence and a compact list (no echoed input)."""
    items = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "extra_forbidden":
            msg += " (other ModelSpec fields go inside 'model_options')"
        items.append({"field": loc, "message": msg})
    text = "; ".join(f"{i['field'] or 'body'}: {i['message']}" for i in items)
    return f"invalid request: {text}", items


def _validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message, items = describe_errors(exc.errors())
        raise RequestError(422, "invalid_request", message, errors=items) from None


def _form_value(name: str, values: list[str]) -> Any:
    if name in LIST_FIELDS:
        if len(values) == 1:
            text = values[0].strip()
            if text.startswith("["):
                return _json_field(name, text)
            return [v.strip() for v in text.split(",") if v.strip()]
        return values
    if len(values) > 1:
        raise RequestError(422, "invalid_request", f"invalid request: field '{name}' was "
                           "sent more than once")
    text = values[0]
    if name in JSON_FIELDS and text.strip().startswith("{"):
        return _json_field(name, text)
    if name == "model_options":
        return _json_field(name, text or "{}")
    return text


def _json_field(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise RequestError(422, "invalid_request", f"invalid request: field '{name}' is not "
                           "valid JSON") from None


def _form_fields(form: FormData) -> tuple[dict[str, Any], list[UploadFile]]:
    grouped: dict[str, list[str]] = {}
    files: list[UploadFile] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key != "file":
                raise RequestError(422, "invalid_request", f"invalid request: the file part "
                                   f"must be named 'file', got '{key}'")
            files.append(value)
        else:
            grouped.setdefault(key, []).append(value)
    return {k: _form_value(k, v) for k, v in grouped.items()}, files


async def _upload(files: list[UploadFile], max_bytes: int) -> tuple[bytes, str]:
    if len(files) != 1:
        raise RequestError(422, "invalid_request", "invalid request: send exactly one file")
    upload = files[0]
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise RequestError(413, "too_large", f"the uploaded file is larger than the "
                           f"{max_bytes / 1024 / 1024:g} MB limit. Fix: send fewer rows or "
                           "columns, or Parquet instead of CSV")
    return content, display_name(upload.filename)


async def read_submission(request: Request, model: type[M], fetcher: Fetcher,
                          max_bytes: int) -> tuple[M, bytes, str]:
    """The request's fields (validated as ``model``), the table's bytes and its name."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    files: list[UploadFile] = []
    if ctype == "multipart/form-data":
        form = await request.form(max_files=2, max_fields=200)
        fields, files = _form_fields(form)
        body = _validate(model, fields)
    elif ctype == "application/json":
        try:
            data = json.loads(await request.body())
        except ValueError:
            raise RequestError(422, "invalid_request", "invalid request: the body is not "
                               f"valid JSON. Fix: {_HOW}") from None
        body = _validate(model, data)
    else:
        raise RequestError(415, "unsupported_media_type",
                           f"unsupported content type '{ctype or 'none'}'. Fix: {_HOW}")
    refs = list(getattr(body, "openaiFileIdRefs", []))
    if files and refs:
        raise RequestError(422, "invalid_request", "invalid request: send the data either as "
                           "a file or by openaiFileIdRefs, not both")
    if files:
        content, name = await _upload(files, max_bytes)
    elif len(refs) == 1:
        ref = refs[0]
        content = await fetcher.fetch(ref.download_link)
        name = display_name(ref.name or ref.download_link.split("?")[0])
    else:
        got = f"{len(refs)} openaiFileIdRefs" if refs else "no data"
        raise RequestError(422, "missing_data", f"invalid request: {got}; exactly one table "
                           f"is needed. Fix: {_HOW}")
    if not content.strip():
        raise RequestError(422, "unreadable_table", f"file '{name}' is empty. Fix: export the "
                           "data again with a header row and one row per period")
    return body, content, name


def build_spec(choice: ModelChoice) -> Any:
    """The ``ModelSpec`` a request asks for (``SpecError`` -> 422 with its message)."""
    from bayesmmm.model import spec_from_options

    named = choice.model_dump(exclude={"preset", "model_options", "sep", "openaiFileIdRefs",
                                       *SamplerChoice.model_fields}, exclude_none=True)
    clash = sorted(set(named) & set(choice.model_options))
    if clash:
        raise RequestError(422, "invalid_options", f"{clash} given both as fields and inside "
                           "model_options. Fix: give each option once")
    try:
        return spec_from_options({**named, **choice.model_options}, choice.preset)
    except SpecError as exc:
        raise RequestError(422, "invalid_options", str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise RequestError(422, "invalid_options", f"invalid model options: {exc}") from None
