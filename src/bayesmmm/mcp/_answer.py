"""How a tool answers: JSON (text and structured content) that always says its units and
the interval it reports, and failures as precise messages, never a traceback.

:func:`tool` wraps a tool's coroutine: what it returns becomes the answer; a
:class:`ToolFailure`, a :class:`~bayesmmm.mcp._client.ServiceError` (the service's own
message, with every data problem and its fix) or a library error becomes an error answer
(``isError``); anything unexpected is logged here and answered with a reference only.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic import ValidationError

from bayesmmm.mcp._client import ServiceError

__all__ = ["ToolFailure", "clean", "error_result", "interval", "invalid_arguments", "tool",
           "units_of"]

log = logging.getLogger("bayesmmm.mcp")


class ToolFailure(Exception):
    """A refusal or bad input, answered as ``{"error": code, "detail": message, ...}``."""

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.body = {"error": code, "detail": detail, **extra}


def clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN and infinities to None, tuples to lists."""
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float):
        # 6 significant digits: intervals are far wider than that, and every digit is a token
        return float(f"{value:.6g}") if math.isfinite(value) else None
    return value


def invalid_arguments(name: str, exc: ValidationError) -> dict[str, Any]:
    """A tool's arguments that fail its input schema, field by field."""
    fields = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        got = "" if err.get("type") == "missing" else f" (got {str(err.get('input'))[:60]!r})"
        fields.append({"field": where, "message": f"{err.get('msg', 'invalid')}{got}"})
    text = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return {"error": "invalid_arguments", "detail": f"invalid arguments for {name}: {text}. "
            "Fix: correct these fields (the tool's input schema lists each one)",
            "fields": fields}


def interval(hdi_prob: float, what: str = "") -> str:
    """How an interval is named in every answer."""
    low = (1 - hdi_prob) / 2 * 100
    text = (f"{hdi_prob:.0%} HDI (highest density interval of the posterior draws; columns "
            f"hdi_{low:g}% and hdi_{100 - low:g}%)")
    return f"{text} {what}".strip()


def _text(body: Mapping[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, allow_nan=False)


def error_result(body: Mapping[str, Any]) -> CallToolResult:
    body = clean(body)
    return CallToolResult(content=[TextContent(type="text", text=_text(body))],
                          structured_content=body, is_error=True)


def _result(body: Mapping[str, Any], images: list[bytes]) -> CallToolResult:
    body = clean(body)
    content: list[Any] = [TextContent(type="text", text=_text(body))]
    content += [ImageContent(type="image", data=_b64(png), mime_type="image/png")
                for png in images]
    return CallToolResult(content=content, structured_content=body)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def tool(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[CallToolResult]]:
    """Wrap a tool coroutine returning a dict (or ``(dict, [png bytes])``) so that it
    answers a :class:`CallToolResult`; the signature (hence the input schema) is kept."""
    from bayesmmm.errors import BayesMMMError, DataValidationError

    signature = inspect.signature(fn, eval_str=True)

    @functools.wraps(fn)
    async def wrapper(**kwargs: Any) -> CallToolResult:
        try:
            out = await fn(**kwargs)
        except ToolFailure as exc:
            return error_result(exc.body)
        except ServiceError as exc:
            return error_result(exc.payload())
        except DataValidationError as exc:
            return error_result(ServiceError(0, "invalid_data", str(exc), {
                "validation": exc.report.to_dict()}).payload())
        except BayesMMMError as exc:
            return error_result({"error": type(exc).__name__, "detail": str(exc)})
        except Exception as exc:  # the last line of defence: no traceback at the caller
            reference = uuid.uuid4().hex[:12]
            log.error("tool %s failed (reference %s)", fn.__name__, reference, exc_info=exc)
            return error_result({"error": "internal_error", "detail": (
                f"internal error ({type(exc).__name__}) in {fn.__name__}; reference "
                f"{reference} (the MCP server's log has the details). Please report it")})
        body, images = out if isinstance(out, tuple) else (out, [])
        return _result(body, images)

    del wrapper.__wrapped__  # the schema comes from __signature__, not the inner function
    wrapper.__doc__ = " ".join(inspect.cleandoc(fn.__doc__ or "").split())
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        return_annotation=CallToolResult)
    return wrapper


def units_of(spec: Mapping[str, Any]) -> dict[str, str]:
    """The units of a fit's answers in words, from its spec: the target's column, spend
    as the channel columns hold it (times ``cost_per_unit`` for priced channels)."""
    y = spec.get("y_column", "the target")
    priced = sorted(spec.get("cost_per_unit") or {})
    spend = "units of each channel's column, summed over the periods"
    if priced:
        spend += f" (channels {priced}: their units x cost_per_unit)"
    return {"target": f"original units of '{y}' (the target column)",
            "contribution": f"'{y}' units attributed to the component, summed over the periods",
            "spend": spend, "roi": f"'{y}' units per unit of spend (1.0 = break-even when "
            f"'{y}' is revenue in the spend's currency)"}
