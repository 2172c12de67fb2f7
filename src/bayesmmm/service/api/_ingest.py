"""Reading a request that carries a table: multipart upload, JSON with file links, or
either with a named source."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from bayesmmm.errors import SpecError
from bayesmmm.service._errors import RequestError
from bayesmmm.service._names import display_name
from bayesmmm.service.api._fetch import Fetcher
from bayesmmm.service.api._limits import JSON_DEPTH, SIZES, check_spec
from bayesmmm.service.api._sampler import SamplerChoice
from bayesmmm.service.api._schemas import JSON_FIELDS, LIST_FIELDS, PRESET_FIELDS, ModelChoice
from bayesmmm.service.api._sources import SourceReader

__all__ = ["read_submission", "describe_errors", "build_spec", "parse_json", "too_deep",
           "search_forms"]

M = TypeVar("M", bound=BaseModel)

_HOW = ("send multipart/form-data with the table as the 'file' part, or application/json "
        "with openaiFileIdRefs: [{name, id, mime_type, download_link}]")


_FIXES: dict[str, str] = {
    "missing": "add the field",
    "extra_forbidden": "remove it",
    "int_type": "send a whole number such as 4 (not text, a decimal or true/false)",
    "int_parsing": "send a whole number such as 4",
    "int_from_float": "send a whole number such as 4",
    "float_type": "send a number (not text or true/false)",
    "float_parsing": "send a number",
    "finite_number": "send a finite number",
    "bool_type": "send true or false",
    "bool_parsing": "send true or false",
    "string_type": "send text",
    "list_type": "send a list",
    "dict_type": "send a JSON object",
    "model_type": "send a JSON object with the fields of the API documentation",
    "json_invalid": "send valid JSON",
    "union_tag_invalid": "use one of the documented forms",
}


def _fix(err: dict[str, Any]) -> str:
    """What to do about one pydantic error, from its type and limits."""
    kind, ctx = str(err.get("type", "")), err.get("ctx") or {}
    bounds = {"less_than_equal": "<= {le}", "less_than": "< {lt}",
              "greater_than_equal": ">= {ge}", "greater_than": "> {gt}"}
    if kind in bounds:
        return "use a value " + bounds[kind].format(**{k: f"{v:g}" if isinstance(v, float)
                                                      else v for k, v in ctx.items()})
    if kind in ("too_long", "string_too_long"):
        unit = "characters" if kind == "string_too_long" else "entries"
        return f"send at most {ctx.get('max_length')} {unit}"
    if kind in ("too_short", "string_too_short"):
        unit = "characters" if kind == "string_too_short" else "entries"
        return f"send at least {ctx.get('min_length')} {unit}"
    if kind == "literal_error":
        return f"use one of {ctx.get('expected')}"
    if kind == "value_error":
        return "change the value as the message says"
    return _FIXES.get(kind, "see the field in the API documentation (/openapi.json)")


def describe_errors(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    """Pydantic errors -> one readable sentence naming each field with a fix, and a
    compact list (no echoed input)."""
    items = []
    for err in errors[:20]:
        parts = list(err.get("loc", ()))
        if parts and parts[0] in ("body", "query", "path"):  # where FastAPI found it
            parts = parts[1:]  # (only first: a source's own 'query' field stays named)
        loc = ".".join(str(p) for p in parts)
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "extra_forbidden":
            msg += " (other ModelSpec fields go inside 'model_options')"
        items.append({"field": loc or "body", "message": msg, "fix": _fix(err)})
    text = "; ".join(f"{i['field']}: {i['message']}" for i in items)
    fixes = "; ".join(f"{i['field']}: {i['fix']}" for i in items)
    return f"invalid request: {text}. Fix: {fixes}", items


def too_deep(where: str) -> RequestError:
    return RequestError(422, "invalid_request", f"invalid request: {where or 'the body'} is "
                        f"nested deeper than {JSON_DEPTH} levels. Fix: send flat JSON objects "
                        "and lists as the API documentation describes them",
                        errors=[{"field": where or "body", "message": "nested too deeply",
                                 "fix": "send flat JSON"}])


def _depth_path(value: Any) -> str | None:
    """The path of the first value nested deeper than :data:`JSON_DEPTH`, or None."""
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    while stack:
        item, depth, path = stack.pop()
        if not isinstance(item, dict | list):
            continue
        if depth >= JSON_DEPTH:
            return path
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in pairs:
            stack.append((child, depth + 1, f"{path}.{key}" if path else str(key)))
    return None


def parse_json(text: str | bytes, where: str = "") -> Any:
    """JSON text -> value; 422 when it is not JSON or nests deeper than allowed."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise too_deep(where) from None
    path = _depth_path(value)
    if path is not None:
        raise too_deep(".".join(p for p in (where, path.split(".")[0]) if p))
    return value


def _validate(model: type[M], data: Any, strict: bool = False) -> M:
    try:
        return model.model_validate(data, strict=strict)
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
        return parse_json(text, name)
    except ValueError:
        raise RequestError(422, "invalid_request", f"invalid request: field '{name}' is not "
                           "valid JSON. Fix: send it as JSON text, e.g. {\"trend\": "
                           "\"linear\"}", errors=[{"field": name, "message": "not valid JSON",
                                                   "fix": "send valid JSON"}]) from None


def _form_fields(form: FormData) -> tuple[dict[str, Any], list[UploadFile]]:
    grouped: dict[str, list[str]] = {}
    files: list[UploadFile] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key != "file":
                raise RequestError(422, "invalid_request", f"invalid request: the file part "
                                   f"must be named 'file', got '{key[:100]}'. Fix: name the "
                                   "part 'file' (curl: -F file=@sales.csv)")
            files.append(value)
        elif key == "file":
            raise RequestError(
                422, "invalid_request", "invalid request: the 'file' part came without a file "
                "name, so it was read as a text field, not as the table. Fix: send it as a "
                "file with a name: curl -F file=@sales.csv, or in Python requests "
                "files={'file': ('sales.csv', data)}",
                errors=[{"field": "file", "message": "no filename in the part",
                         "fix": "send the part with a filename"}])
        else:
            grouped.setdefault(key, []).append(value)
    return {k: _form_value(k, v) for k, v in grouped.items()}, files


async def _upload(files: list[UploadFile], max_bytes: int) -> tuple[bytes, str]:
    if len(files) != 1:
        raise RequestError(422, "invalid_request", "invalid request: send exactly one file")
    upload = files[0]
    if upload.filename is not None and len(upload.filename) > SIZES["filename"]:
        raise RequestError(
            422, "invalid_request", f"invalid request: the file name is "
            f"{len(upload.filename):,} characters long; the service takes at most "
            f"{SIZES['filename']}. Fix: rename the file to a short name such as sales.csv",
            errors=[{"field": "file", "message": "file name too long",
                     "fix": f"at most {SIZES['filename']} characters"}])
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise RequestError(413, "too_large", f"the uploaded file is larger than the "
                           f"{max_bytes / 1024 / 1024:g} MB limit. Fix: send fewer rows or "
                           "columns, or Parquet instead of CSV")
    return content, display_name(upload.filename)


async def read_submission(request: Request, model: type[M], fetcher: Fetcher,
                          max_bytes: int, precheck: Callable[[M], Any] | None = None, *,
                          sources: SourceReader | None = None) -> tuple[M, bytes, str]:
    """The request's fields (validated as ``model``), the table's bytes and its name;
    ``precheck(fields)`` runs before any data is read or downloaded. The table comes in
    exactly one way: an uploaded file, one ``openaiFileIdRefs`` link, or a ``source``
    the operator named (read by ``sources``, as CSV)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    how = _HOW + (sources.how() if sources is not None else "")
    files: list[UploadFile] = []
    if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await _read_form(request)  # url-encoded: fields only (a source, a link)
        fields, files = _form_fields(form)
        body = _validate(model, fields)
    elif ctype == "application/json":
        try:
            data = parse_json(await request.body())
        except ValueError:
            raise RequestError(422, "invalid_request", "invalid request: the body is not "
                               f"valid JSON. Fix: {how}") from None
        body = _validate(model, data, strict=True)
    else:
        raise RequestError(415, "unsupported_media_type",
                           f"unsupported content type '{ctype or 'none'}'. Fix: {how}")
    if precheck is not None:
        precheck(body)
    refs = list(getattr(body, "openaiFileIdRefs", []))
    source = getattr(body, "source", None)
    ways = [w for w, given in (("file", bool(files)), ("openaiFileIdRefs", bool(refs)),
                               ("source", source is not None)) if given]
    if len(ways) > 1:
        raise RequestError(
            422, "invalid_request", f"invalid request: the data came {len(ways)} ways "
            f"({' and '.join(ways)}); a request carries one table. Fix: send only one of "
            "them", errors=[{"field": w, "message": "one way of sending the data only",
                             "fix": "send the data one way"} for w in ways])
    if files:
        content, name = await _upload(files, max_bytes)
    elif source is not None:
        reader = sources or SourceReader((), max_bytes, 1.0)  # says there are none
        content, name = await reader.read(source, getattr(body, "sep", None))
    elif len(refs) == 1:
        ref = refs[0]
        content = await fetcher.fetch(ref.download_link)
        name = display_name(ref.name or ref.download_link.split("?")[0])
    else:
        got = f"{len(refs)} openaiFileIdRefs" if refs else "no data"
        raise RequestError(422, "missing_data", f"invalid request: {got}; exactly one table "
                           f"is needed. Fix: {how}")
    if not content.strip():
        raise RequestError(422, "unreadable_table", f"file '{name}' is empty. Fix: export the "
                           "data again with a header row and one row per period")
    return body, content, name


async def _read_form(request: Request) -> FormData:
    """The multipart form; a body the parser refuses answers 400 with the cause and a fix
    (Starlette says only "Invalid multipart data")."""
    try:
        return await request.form(max_files=2, max_fields=200)
    except HTTPException as exc:
        cause: BaseException | None = exc.__context__
        while cause is not None and cause.__cause__ is not None:
            cause = cause.__cause__
        text = str(cause or exc.detail)
        if "header size" in text:
            why = ("a part's header is over 4 KB, most often because the file name is very "
                   "long. Fix: rename the file to a short name such as sales.csv (at most "
                   f"{SIZES['filename']} characters) and upload it again")
        elif "Too many" in text:
            why = f"{text} Fix: send each field once (lists comma-separated)"
        elif "exceeded maximum size" in text:
            why = (f"{text} Fix: send the table as the 'file' part, not as a text field")
        else:
            why = (f"{exc.detail} Fix: send the request as multipart/form-data with the table "
                   "as the 'file' part (curl -F file=@sales.csv -F date_column=date ...)")
        raise RequestError(400, "bad_multipart", f"the multipart form could not be read: "
                           f"{why}") from None


def _check_holidays(codes: tuple[str, ...]) -> None:
    """Refuse unknown holiday countries at submission, not when the fit runs."""
    from bayesmmm.data import holiday_countries

    known = set(holiday_countries())
    for code in codes:
        if code not in known:
            shown = code if len(code) <= 20 else code[:20] + "..."
            raise RequestError(
                422, "invalid_options", f"holidays: {shown!r} is not a country code the "
                "holiday calendar knows. Fix: use ISO 3166-1 alpha-2 codes such as US, GB, DE "
                "or FR (getModelOptions lists them under holiday_countries)",
                errors=[{"field": "holidays", "message": f"unknown country {shown!r}",
                         "fix": "use an ISO 3166-1 alpha-2 code"}])


def build_spec(choice: ModelChoice) -> Any:
    """The ``ModelSpec`` a request asks for (``SpecError`` -> 422 with its message),
    within the service's limits and with known holiday countries."""
    from bayesmmm.model import spec_from_options

    unsent = set(PRESET_FIELDS) - choice.model_fields_set  # the preset's, or the default
    named = choice.model_dump(exclude={"preset", "model_options", "sep", "openaiFileIdRefs",
                                       "source", "forms", *SamplerChoice.model_fields,
                                       *unsent},
                              exclude_none=True)
    clash = sorted(set(named) & set(choice.model_options))
    if clash:
        raise RequestError(422, "invalid_options", f"{clash} given both as fields and inside "
                           "model_options. Fix: give each option once")
    try:
        spec = spec_from_options({**named, **choice.model_options}, choice.preset)
    except SpecError as exc:
        raise RequestError(422, "invalid_options", str(exc)) from None
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
        raise RequestError(422, "invalid_options", f"invalid model options: {exc}. Fix: give "
                           "each option in the form the API documentation shows") from None
    check_spec(spec)
    _check_holidays(tuple(spec.holidays))
    return spec


def _refuse_forms(why: str, fix: str) -> RequestError:
    return RequestError(422, "invalid_options", f"forms: {why}. Fix: {fix}",
                        errors=[{"field": "forms", "message": why, "fix": fix}])


def search_forms(choice: Any) -> str | dict[str, list[str]] | None:
    """The structure search a request asks for: ``"auto"``, ``{"adstock": [...],
    "saturation": [...]}``, or None (the spec's own forms). A search replaces the forms
    on every channel (a preset gives everything else), needs NUTS with 2 chains or more
    (convergence is judged across chains), and takes no adstock or saturation field."""
    forms = getattr(choice, "forms", "spec")
    if forms == "spec":
        return None
    value: str | dict[str, list[str]] = forms if isinstance(forms, str) else \
        {"adstock": list(forms.adstock), "saturation": list(forms.saturation)}
    fixed = [k for k in ("adstock", "saturation") if getattr(choice, k, None) is not None
             or k in choice.model_options]
    if fixed:
        raise _refuse_forms(f"{value!r} searches the adstock and saturation, but the request "
                            f"also fixes {' and '.join(fixed)}",
                            f"leave {' and '.join(fixed)} out, or send forms='spec'")
    if getattr(choice, "method", "nuts") != "nuts":
        raise _refuse_forms(f"a structure search samples with NUTS, got method="
                            f"{choice.method!r}", "send method='nuts' (the default)")
    if int(getattr(choice, "chains", 4)) < 2:
        raise _refuse_forms(f"a structure search judges each candidate's convergence across "
                            f"chains, got chains={choice.chains}", "send chains=2 or more")
    return value
